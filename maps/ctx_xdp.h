/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The XDP context behind the ctx_ helpers (cilium's bpf/ctx/xdp.h idea):
 * code written against struct __ctx_buff, ctx_data(), ctx_load_bytes(),
 * CTX_ACT_OK ... compiles for XDP here and for TC in ctx_skb.h, so the
 * sampling and tap path (maps/sample.bpf.h) exists once.  A program
 * includes exactly one of the two, before maps/sample.bpf.h.
 */
#ifndef NACCT_CTX_XDP_H
#define NACCT_CTX_XDP_H

#ifdef NACCT_CTX
#error "include one of maps/ctx_xdp.h and maps/ctx_skb.h"
#endif
#define NACCT_CTX NACCT_CTX_KIND_XDP
#define NACCT_CTX_KIND_XDP 1

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "nacct.h"

#define __ctx_buff xdp_md

#define CTX_ACT_OK XDP_PASS
#define CTX_ACT_DROP XDP_DROP
#define CTX_ACT_REDIRECT XDP_REDIRECT

#ifndef NACCT_MAX_QUEUES
#define NACCT_MAX_QUEUES 64
#endif

/*
 * Tap mode: one AF_XDP socket per RX queue.  XDP only (TC cannot redirect
 * to AF_XDP), so the map lives with the XDP context.
 */
struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__uint(max_entries, NACCT_MAX_QUEUES);
	__type(key, __u32);
	__type(value, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} nacct_xsks SEC(".maps");

static __always_inline void *ctx_data(const struct xdp_md *ctx)
{
	return (void *)(long)ctx->data;
}

static __always_inline void *ctx_data_end(const struct xdp_md *ctx)
{
	return (void *)(long)ctx->data_end;
}

/*
 * Load-time switch (.rodata, set by attach before the load): the program
 * is loaded as a multi-buffer one (BPF_F_XDP_HAS_FRAGS, "xdp.frags"), so a
 * driver may hand it frames larger than one buffer (jumbo MTUs).  Off, the
 * verifier drops every branch it guards: the single-buffer program is the
 * same code as before the switch existed.
 */
const volatile __u32 nacct_xdp_frags = 0;

/*
 * The whole frame: [data, data_end) is its first buffer; a multi-buffer
 * frame has more in fragments (bpf_xdp_get_buff_len, 5.18+).
 */
static __always_inline __u32 ctx_full_len(const struct xdp_md *ctx)
{
	if (nacct_xdp_frags)
		return bpf_xdp_get_buff_len((struct xdp_md *)ctx);
	return ctx_data_end(ctx) - ctx_data(ctx);
}

/*
 * Load-time switch: 0 where the kernel has no bpf_xdp_load_bytes() (before
 * 5.18, which has no multi-buffer frames either): the bytes are read from
 * the one buffer with bpf_probe_read_kernel(); the callers keep @off + @len
 * within the frame's length, which is the buffer's there.
 */
const volatile __u32 nacct_xdp_load_bytes = 1;

static __always_inline long ctx_load_bytes(struct xdp_md *ctx, __u32 off, void *to, __u32 len)
{
	if (!nacct_xdp_load_bytes)
		return bpf_probe_read_kernel(to, len, ctx_data(ctx) + off);
	return bpf_xdp_load_bytes(ctx, off, to, len);
}

static __always_inline __u32 ctx_ifindex(const struct xdp_md *ctx)
{
	return ctx->ingress_ifindex;
}

/*
 * Tap mode is on and a capture socket is bound to this frame's queue.
 * Sockets leave the XSKMAP when they close, so a capture killed with
 * SIGKILL cannot leave the interface dropping traffic.
 */
static __always_inline int ctx_tap_bound(const struct xdp_md *ctx, const struct nacct_cfg *cfg)
{
	__u32 qid = ctx->rx_queue_index;

	return cfg->tap && bpf_map_lookup_elem(&nacct_xsks, &qid);
}

/* the frame itself to the AF_XDP socket of its queue; XDP_DROP if that fails */
static __always_inline int ctx_tap_redirect(const struct xdp_md *ctx)
{
	return bpf_redirect_map(&nacct_xsks, ctx->rx_queue_index, XDP_DROP);
}

#endif /* NACCT_CTX_XDP_H */
