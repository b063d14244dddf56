/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The contract between tests/unit/keycheck.bpf.c and tests/unit/keys.c:
 * one frame in (through the test run), both verdicts and keys out, in the
 * object's .bss.
 */
#ifndef NACCT_UT_KEYCHECK_H
#define NACCT_UT_KEYCHECK_H

#include "nacct.h"

/* keycheck_res.res: enum nacct_parse_res of maps/parse.h, or not run */
#define KC_RES_KEY 0
#define KC_RES_NONIP 1
#define KC_RES_MALFORMED 2
#define KC_RES_NOT_RUN (-1)

#define KC_NO_L3 0xffff /* kc_in.l3_off: no IP layer to enter at (L2 malformed) */

struct keycheck_in {
	__u32 l3_off;   /* offset of the IP header in the frame, or KC_NO_L3 */
	__u16 l3_proto; /* its ethertype, host order */
	__u16 pad;
};

/* a parser run: enum nacct_parse_res, the malformed reason, the key */
struct keycheck_res {
	__s32 res;
	__u8 malformed;
	__u8 pad[3];
	struct nacct_flow_key key; /* valid when res == NACCT_P_IP */
};

struct keycheck_out {
	__u64 runs;
	struct keycheck_res dp;      /* data path: packet memory, from Ethernet */
	struct keycheck_res side_nh; /* side program, skb->data at the network header (rx) */
	struct keycheck_res side_mh; /* side program, skb->data at the MAC header (tx) */
};

#endif /* NACCT_UT_KEYCHECK_H */
