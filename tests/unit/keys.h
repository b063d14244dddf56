/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The key check of the unit tests (tests/unit/keys.c): the data path's
 * and the side programs' parser and key builder on the same frames.
 */
#ifndef NACCT_UT_KEYS_H
#define NACCT_UT_KEYS_H

#include <linux/types.h>

/* load tests/unit/keycheck.bpf.c; 0 or -errno */
int keys_init(void);
void keys_fini(void);
/* ut_frame_hook: check one frame of another test, summed up by keys_report() */
void keys_frame(const void *pkt, __u32 len);
void keys_report(const char *name);
/* the named cases, and each corpus file of @dir */
void keys_cases(void);
void keys_corpus(const char *dir);

#endif /* NACCT_UT_KEYS_H */
