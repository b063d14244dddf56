/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * make check: unit tests that need neither root nor BPF.  Each check
 * prints "ok NAME" or "not ok NAME" (with "# ..." lines saying why); the
 * runner (main.c) ends with "N passed, N failed".
 */
#ifndef NACCT_CHECK_H
#define NACCT_CHECK_H

#include <stdio.h>
#include <linux/types.h>

void t_ok(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void t_fail(const char *name, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* a "# ..." line under the next result */
void t_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* one check: ok NAME (ACTUAL) or not ok NAME with expected/actual */
int t_eq_u64(const char *name, __u64 expected, __u64 actual);
int t_eq_str(const char *name, const char *expected, const char *actual);
int t_true(const char *name, int cond);

/* a monotonic time near mono whose wall-clock time is half way through a
 * millisecond: the mono -> wall offset is re-read each second with a few
 * microseconds of jitter, which must not move an expected millisecond */
__u64 t_mid_ms(__u64 mono);

/* the tunnel of the formatter tests: VXLAN VNI 4242 between 198.18.9.1
 * (outer_lo) and 198.18.9.2 (outer_hi), handle @handle */
struct nacct_tun;
void t_vxlan_tun(struct nacct_tun *t, __u64 handle);

/* run a shell command with input; its stdout (malloc'ed) or NULL */
char *t_run(const char *cmd, const char *input);

/* the groups */
void check_merge(void);
void check_export(void);
void check_export_kill(void);
void check_ipfix(void);
void check_fmt(void);
void check_cid(void);

#endif /* NACCT_CHECK_H */
