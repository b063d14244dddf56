/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The TC (skb) context behind the ctx_ helpers: see maps/ctx_xdp.h.
 */
#ifndef NACCT_CTX_SKB_H
#define NACCT_CTX_SKB_H

#ifdef NACCT_CTX
#error "include one of maps/ctx_xdp.h and maps/ctx_skb.h"
#endif
#define NACCT_CTX NACCT_CTX_KIND_SKB
#define NACCT_CTX_KIND_SKB 2

#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

#include "nacct.h"

#define __ctx_buff __sk_buff

/* UNSPEC, not OK: filters after ours still run */
#define CTX_ACT_OK TC_ACT_UNSPEC
#define CTX_ACT_DROP TC_ACT_SHOT
#define CTX_ACT_REDIRECT TC_ACT_REDIRECT

static __always_inline void *ctx_data(const struct __sk_buff *ctx)
{
	return (void *)(long)ctx->data;
}

static __always_inline void *ctx_data_end(const struct __sk_buff *ctx)
{
	return (void *)(long)ctx->data_end;
}

/* the whole skb, of which [data, data_end) is the linear part */
static __always_inline __u32 ctx_full_len(const struct __sk_buff *ctx)
{
	return ctx->len;
}

static __always_inline long ctx_load_bytes(struct __sk_buff *ctx, __u32 off, void *to, __u32 len)
{
	return bpf_skb_load_bytes(ctx, off, to, len);
}

static __always_inline __u32 ctx_ifindex(const struct __sk_buff *ctx)
{
	return ctx->ifindex;
}

/* no tap mode at TC: the verifier never sees the tap path */
static __always_inline int ctx_tap_bound(const struct __sk_buff *ctx, const struct nacct_cfg *cfg)
{
	return 0;
}

static __always_inline int ctx_tap_redirect(const struct __sk_buff *ctx)
{
	return CTX_ACT_OK;
}

#endif /* NACCT_CTX_SKB_H */
