/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* One logging module for the whole program, and the libbpf print hook. */
#ifndef NACCT_LOG_H
#define NACCT_LOG_H

enum nacct_log_level {
	NACCT_LOG_WARN = 0,
	NACCT_LOG_INFO = 1,
	NACCT_LOG_DEBUG = 2,
};

extern int nacct_log_level;

void nacct_log(enum nacct_log_level lvl, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* route libbpf's messages through nacct_log (warnings only unless -v) */
void nacct_log_init(int verbosity);

#define pr_warn(...) nacct_log(NACCT_LOG_WARN, __VA_ARGS__)
#define pr_info(...) nacct_log(NACCT_LOG_INFO, __VA_ARGS__)
#define pr_debug(...) nacct_log(NACCT_LOG_DEBUG, __VA_ARGS__)

#endif /* NACCT_LOG_H */
