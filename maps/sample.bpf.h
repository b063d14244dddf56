/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Sampling and tap mode, written once for XDP and TC through the ctx_
 * helpers (maps/ctx_xdp.h or maps/ctx_skb.h, included first): the 1-in-N
 * decision, the copy of the frame's first snaplen bytes into the sample
 * ring buffer, and in tap mode (XDP only) the redirect of sampled frames
 * to the AF_XDP socket of their queue.
 */
#ifndef NACCT_SAMPLE_BPF_H
#define NACCT_SAMPLE_BPF_H

#ifndef NACCT_CTX
#error "include maps/ctx_xdp.h or maps/ctx_skb.h before maps/sample.bpf.h"
#endif

#include "maps.bpf.h"

/*
 * Sampling decision: 1 in cfg->sample_n packets, drawn at random so that
 * the sample does not lock onto a periodic traffic pattern (a counter
 * would pick the same packet of every N-packet burst).  sample_n 1 takes
 * every packet; 0 switches sampling off.
 */
static __always_inline int nacct_sample_pick(const struct nacct_cfg *cfg)
{
	__u32 n = cfg->sample_n;

	if (!n)
		return 0;
	return n == 1 || bpf_get_prandom_u32() % n == 0;
}

/* count one sample handed to user space (@ok) or lost on the way */
static __always_inline void nacct_sample_count(int ok, __u32 ifindex)
{
	struct nacct_stats *st = nacct_stats_get(nacct_slot_of(ifindex));

	if (!st)
		return;
	if (ok)
		st->samples++;
	else
		st->sample_drops++;
}

/*
 * Inline sampling: returns the scratch buffer with its header filled and
 * *caplen set, or NULL when this packet is not sampled.  The caller copies
 * caplen bytes with its context's load_bytes helper and calls
 * nacct_sample_emit().
 */
static __always_inline struct nacct_sample_buf *
nacct_sample_begin(struct nacct_cfg *cfg, __u32 len, __u32 dir, __u32 ifindex, __u32 *caplen)
{
	struct nacct_sample_buf *buf;
	__u32 zero = 0, cl;

	if (!nacct_sample_pick(cfg))
		return NULL;
	cl = len < cfg->snaplen ? len : cfg->snaplen;
	if (cl > NACCT_SNAPLEN_MAX)
		cl = NACCT_SNAPLEN_MAX;
	if (!cl)
		return NULL;
	buf = bpf_map_lookup_elem(&nacct_sample_scratch, &zero);
	if (!buf)
		return NULL;
	buf->hdr.ts = bpf_ktime_get_ns();
	buf->hdr.ifindex = ifindex;
	buf->hdr.len = len;
	buf->hdr.caplen = cl;
	buf->hdr.dir = dir;
	buf->hdr.pad[0] = buf->hdr.pad[1] = buf->hdr.pad[2] = 0;
	*caplen = cl;
	return buf;
}

/*
 * The copy into the scratch buffer failed (the load_bytes helper refused):
 * the packet was picked but never reached user space.
 */
static __always_inline void nacct_sample_fail(__u32 ifindex)
{
	nacct_sample_count(0, ifindex);
}

static __always_inline void nacct_sample_emit(struct nacct_sample_buf *buf, __u32 caplen)
{
	long err;

	if (caplen > NACCT_SNAPLEN_MAX) {
		nacct_sample_count(0, buf->hdr.ifindex);
		return;
	}
	err = bpf_ringbuf_output(&nacct_samples, buf, sizeof(buf->hdr) + caplen, 0);
	nacct_sample_count(!err, buf->hdr.ifindex);
}

/* copy the first caplen bytes of a sampled frame to the ring buffer */
static __always_inline void nacct_sample_copy(struct __ctx_buff *ctx, struct nacct_cfg *cfg,
					      __u32 len, __u32 dir)
{
	struct nacct_sample_buf *buf;
	__u32 caplen = 0;
	__u64 c1;

	buf = nacct_sample_begin(cfg, len, dir, ctx_ifindex(ctx), &caplen);
	if (!buf)
		return;
	/* Older verifiers need the bound built this way: 6.12 does not
	 * carry clang's folded "cl - 1 <= MAX - 1" test on a copy back
	 * to cl ("R4 invalid zero-sized read"), 6.1 learns no lower
	 * bound from "cl != 0".  So bound cl - 1 from above (0 wraps to
	 * 2^64 - 1 and fails), then add 1: [1, MAX] on this register. */
	c1 = (__u64)caplen - 1;
	asm volatile("" : "+r"(c1));
	if (c1 < NACCT_SNAPLEN_MAX) {
		__u64 cl = c1 + 1;

		if (!ctx_load_bytes(ctx, 0, buf->data, cl))
			nacct_sample_emit(buf, cl);
		else
			nacct_sample_fail(ctx_ifindex(ctx));
	} else {
		nacct_sample_fail(ctx_ifindex(ctx));
	}
}

/*
 * The run-time knobs.  The key lives in .rodata, not on the stack: a
 * stack key written after the parser may share its slot with a parser
 * temporary, and the verifier then keeps apart every state of the parser
 * that left a different value there (nacct_xdp 142k instead of 123k
 * processed instructions, nacct_tc_* 237k instead of 223k on 6.18).  An
 * array lookup is inlined by the verifier either way.
 */
static __always_inline struct nacct_cfg *nacct_cfg_get(void)
{
	static const __u32 zero = 0;

	return bpf_map_lookup_elem(&nacct_cfg, &zero);
}

/*
 * After accounting: sample the frame and return its verdict.  @len is the
 * frame length the hook counted.  Normally a sampled frame is copied and
 * every frame passes.  In tap mode (a mirror port or capture NIC, XDP
 * only) sampled frames go to the AF_XDP socket of their queue and
 * everything else is dropped after counting; only while a capture socket
 * is bound to the queue, so that a killed capture cannot leave the
 * interface dropping traffic.  A full socket ring is counted by the
 * socket (XDP_STATISTICS, read by nacct capture).
 */
static __always_inline int nacct_sample_verdict(struct __ctx_buff *ctx, __u32 len, __u32 dir)
{
	struct nacct_cfg *cfg = nacct_cfg_get();
	int act;

	if (!cfg)
		return CTX_ACT_OK;
	if (ctx_tap_bound(ctx, cfg)) {
		if (!nacct_sample_pick(cfg))
			return CTX_ACT_DROP;
		act = ctx_tap_redirect(ctx);
		nacct_sample_count(act == CTX_ACT_REDIRECT, ctx_ifindex(ctx));
		return act;
	}
	nacct_sample_copy(ctx, cfg, len, dir);
	return CTX_ACT_OK;
}

#endif /* NACCT_SAMPLE_BPF_H */
