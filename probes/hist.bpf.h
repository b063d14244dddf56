/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The log2 histogram slot of the transient tools' programs (softirqs, rtt,
 * backlog): slot 0 holds 0, slot i >= 1 holds [2^(i-1), 2^i), the last slot
 * everything above.  User space labels the slots with nacct_log2_lo/hi
 * (ctl/hist.c), from the same NACCT_LOG2_SLOTS.
 */
#ifndef NACCT_HIST_BPF_H
#define NACCT_HIST_BPF_H

#include "nacct.h"

static __always_inline __u32 nacct_log2_slot(__u64 v)
{
	__u64 r = 0, shift;

	if (!v)
		return 0;
	/* floor(log2(v)) without a loop: BPF has no count-leading-zeros */
	shift = (v > 0xffffffffULL) << 5;
	v >>= shift;
	r = shift;
	shift = (v > 0xffff) << 4;
	v >>= shift;
	r |= shift;
	shift = (v > 0xff) << 3;
	v >>= shift;
	r |= shift;
	shift = (v > 0xf) << 2;
	v >>= shift;
	r |= shift;
	shift = (v > 0x3) << 1;
	v >>= shift;
	r |= shift;
	r |= (v >> 1);
	r += 1;
	if (r > NACCT_LOG2_SLOTS - 1)
		r = NACCT_LOG2_SLOTS - 1;
	/* the verifier must see the bound on the register used as the index:
	 * without the barrier clang may index with an unclamped copy */
	asm volatile("" : "+r"(r));
	return r & (NACCT_LOG2_SLOTS - 1);
}

#endif /* NACCT_HIST_BPF_H */
