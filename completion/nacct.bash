# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# bash completion for nacct(8).
#
# The words come from nacct itself (`nacct --complete-words`), which reads
# its command table: a command or option added to nacct completes without
# touching this file.  Interface names come from /sys/class/net.

_nacct_ifaces()
{
	local d
	for d in /sys/class/net/*; do
		[ -e "$d" ] && printf '%s\n' "${d##*/}"
	done
}

_nacct()
{
	local cur prev bin cmd="" i words w
	COMPREPLY=()
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=${COMP_WORDS[COMP_CWORD - 1]}
	bin=${COMP_WORDS[0]}
	command -v "$bin" >/dev/null 2>&1 || bin=nacct

	# the command: the first word after the global options
	for ((i = 1; i < COMP_CWORD; i++)); do
		case ${COMP_WORDS[i]} in
		-*) ;;
		*) cmd=${COMP_WORDS[i]}; break ;;
		esac
	done

	if [ -z "$cmd" ]; then
		words=$("$bin" --complete-words 2>/dev/null)
		mapfile -t COMPREPLY < <(compgen -W "$words" -- "$cur")
		return 0
	fi
	if [ "$cmd" = help ]; then
		words=$("$bin" --complete-words 2>/dev/null | grep -v '^-')
		mapfile -t COMPREPLY < <(compgen -W "$words" -- "$cur")
		return 0
	fi

	# the value of the option before the cursor
	if [[ $prev == -* ]] && [ "$prev" != "$cmd" ]; then
		words=$("$bin" --complete-words "$cmd" "$prev" 2>/dev/null)
		case $words in
		"") ;; # a flag: complete the next word normally
		@file)
			mapfile -t COMPREPLY < <(compgen -f -- "${cur#@}")
			return 0 ;;
		@value) return 0 ;;
		*)
			mapfile -t COMPREPLY < <(compgen -W "$words" -- "$cur")
			return 0 ;;
		esac
	fi

	words=$("$bin" --complete-words "$cmd" 2>/dev/null)
	if [[ $cur == -* ]]; then
		mapfile -t COMPREPLY < <(compgen -W "$(grep -v '^@' <<<"$words")" -- "$cur")
		return 0
	fi
	if grep -qx '@iface' <<<"$words"; then
		mapfile -t COMPREPLY < <(compgen -W "$(_nacct_ifaces)" -- "$cur")
	fi
	return 0
}
complete -F _nacct nacct
