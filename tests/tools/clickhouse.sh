#!/bin/bash
# A private clickhouse-server (Debian's) for the tests and the bench: its
# own config, users and data under DIR, listening on 127.0.0.1 only (in
# the caller's network namespace: run it under nsenter).
#   clickhouse.sh start DIR HTTP_PORT   starts it, waits until it answers,
#                                       prints its pid (exit 1 + log if not)
#   clickhouse.sh query HTTP_PORT SQL   one statement, the answer on stdout
# The server is stopped by killing the pid; starting it again on the same
# DIR keeps the data (a restart).
set -u
cmd=${1:-}
case "$cmd" in
start)
	dir=$2 port=$3
	mkdir -p "$dir/data" "$dir/tmp" "$dir/user_files" "$dir/format_schemas"
	cat >"$dir/config.xml" <<-EOF
	<?xml version="1.0"?>
	<yandex>
	  <logger><level>warning</level><log>$dir/server.log</log><errorlog>$dir/error.log</errorlog><console>0</console></logger>
	  <listen_host>127.0.0.1</listen_host>
	  <http_port>$port</http_port>
	  <tcp_port>$((port + 1))</tcp_port>
	  <path>$dir/data/</path>
	  <tmp_path>$dir/tmp/</tmp_path>
	  <user_files_path>$dir/user_files/</user_files_path>
	  <format_schema_path>$dir/format_schemas/</format_schema_path>
	  <users_config>$dir/users.xml</users_config>
	  <default_profile>default</default_profile>
	  <default_database>default</default_database>
	  <mark_cache_size>104857600</mark_cache_size>
	  <timezone>UTC</timezone>
	</yandex>
	EOF
	cat >"$dir/users.xml" <<-EOF
	<?xml version="1.0"?>
	<yandex>
	  <profiles><default></default></profiles>
	  <users>
	    <default><password></password><networks><ip>127.0.0.1</ip></networks><profile>default</profile><quota>default</quota></default>
	  </users>
	  <quotas><default></default></quotas>
	</yandex>
	EOF
	/usr/sbin/clickhouse-server --config-file="$dir/config.xml" >>"$dir/stdout.log" 2>&1 &
	pid=$!
	for _ in $(seq 1 150); do
		if curl -sf "http://127.0.0.1:$port/?query=SELECT%201" >/dev/null 2>&1; then
			echo "$pid"
			exit 0
		fi
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	tail -n 5 "$dir/error.log" "$dir/stdout.log" >&2 2>/dev/null
	kill -9 "$pid" 2>/dev/null
	exit 1
	;;
query)
	# the answer on stdout; a server error on stderr, exit 1
	out=$(curl -sS --fail-with-body "http://127.0.0.1:$2/" --data-binary "$3") ||
		{ echo "$out" >&2; exit 1; }
	[ -z "$out" ] || echo "$out"
	;;
*)
	echo "usage: $0 start DIR HTTP_PORT | query HTTP_PORT SQL" >&2
	exit 2
	;;
esac
