// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <stdarg.h>
#include <stdio.h>
#include <bpf/libbpf.h>

#include "log.h"

int nacct_log_level = NACCT_LOG_INFO;

void nacct_log(enum nacct_log_level lvl, const char *fmt, ...)
{
	va_list ap;

	if ((int)lvl > nacct_log_level)
		return;
	va_start(ap, fmt);
	if (lvl == NACCT_LOG_WARN)
		fputs("nacct: ", stderr);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	/* libbpf's own warnings are noise unless asked for: nacct reports
	 * every failure itself, with the reason, in one line */
	if (nacct_log_level < NACCT_LOG_DEBUG)
		return 0;
	if (level == LIBBPF_DEBUG && nacct_log_level < NACCT_LOG_DEBUG + 1)
		return 0;
	fputs("libbpf: ", stderr);
	return vfprintf(stderr, fmt, ap);
}

void nacct_log_init(int verbosity)
{
	nacct_log_level = NACCT_LOG_INFO + verbosity;
	libbpf_set_print(libbpf_print);
}
