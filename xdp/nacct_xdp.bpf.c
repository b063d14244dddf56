// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * nacct XDP ingress program: count every received frame into the flow,
 * subnet and total counters, optionally copy a 1-in-N sample to the ring
 * buffer, and pass the frame on untouched.  In tap mode (a mirror port or
 * capture NIC) sampled frames go to the AF_XDP socket of their RX queue
 * and everything else is dropped after counting (maps/sample.bpf.h).
 *
 * One program, two ways to load it (lib/attach.c): single-buffer, or
 * multi-buffer ("xdp.frags": BPF_F_XDP_HAS_FRAGS and the nacct_xdp_frags
 * switch) where the kernel and the driver take jumbo frames in several
 * buffers; then the bytes are the whole frame's across its fragments.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "../maps/ctx_xdp.h"
#include "../maps/account.bpf.h"
#include "../maps/sample.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* headers of a multi-buffer frame copied for the parser (at most) */
#define NACCT_MB_HDR 512
_Static_assert(NACCT_MB_HDR <= NACCT_SNAPLEN_MAX, "the copy fits the sample scratch");

/*
 * A multi-buffer frame whose headers run past its first buffer (a driver
 * that splits headers, or a small first buffer): parse a copy of its
 * first bytes instead (bpf_xdp_load_bytes reads across the fragments).
 * The copy goes to the sample scratch buffer, free until the sampling
 * after the accounting; the parser's KERN flavour reads it header by
 * header, with the same checks as on the packet.  A global function: the
 * verifier checks it once, on its own, not once for every way the packet
 * parser can end (the caller reaches it from hundreds of states).
 */
__noinline int nacct_xdp_parse_copy(struct xdp_md *ctx, __u32 len, struct nacct_pkt *pkt)
{
	struct nacct_sample_buf *buf;
	__u64 n1, base = 0;
	__u32 zero = 0;
	void *data;
	int res;

	/* a frame that fits its first buffer is malformed in itself */
	if (len <= (__u32)(ctx->data_end - ctx->data))
		return NACCT_P_MALFORMED;
	buf = bpf_map_lookup_elem(&nacct_sample_scratch, &zero);
	if (!buf || !pkt)
		return NACCT_P_MALFORMED;
	/* n in [1, NACCT_MB_HDR] on one register (see nacct_sample_copy) */
	n1 = (__u64)(len < NACCT_MB_HDR ? len : NACCT_MB_HDR) - 1;
	asm volatile("" : "+r"(n1));
	if (n1 >= NACCT_MB_HDR)
		return NACCT_P_MALFORMED;
	if (bpf_xdp_load_bytes(ctx, 0, buf->data, n1 + 1))
		return NACCT_P_MALFORMED;
	/*
	 * The copy's address as a number, as the side programs have skb->head:
	 * the KERN flavour reads through bpf_probe_read_kernel, and on plain
	 * numbers the verifier checks the parser in about the side programs'
	 * work; on a map-value pointer it would track every header's offset
	 * range apart (over its million-instruction limit).
	 */
	data = buf->data;
	if (bpf_probe_read_kernel(&base, sizeof(base), &data))
		return NACCT_P_MALFORMED;
	nacct_pkt_init(pkt);
	res = nacct_parse_eth(NACCT_MEM_KERN, (void *)base, (void *)(base + n1 + 1),
			      len, -1, pkt);
	/* a tunnel here: its outer flow (see nacct_xdp_tunnel) */
	if (res == NACCT_P_IP && !pkt->is_frag && nacct_tun_candidate(pkt, res))
		pkt->inner_type = NACCT_INNER_UNREACHED;
	return res;
}

/*
 * The tunnel stage (maps/decap.h) of a candidate: open the tunnel, parse
 * the inner packet; the result goes to the one accounting.  A global
 * function: the verifier checks the stage once, on its own, not once for
 * every way the outer parse ended (inlined, the program passes its
 * million-instruction limit).  A multi-buffer frame whose inner headers
 * lie past its first buffer comes back malformed, and the caller parses
 * the copy as for any packet (nacct_xdp_parse_copy: the outer flow,
 * inner_type 0xffff; the stage again in the copy's flavour would take the
 * verifier past its limit).  Not called from here: the chain of calls
 * would be three frames deep, over the 512 bytes of stack 6.1's verifier
 * counts for it.
 */
static __always_inline int nacct_xdp_tunnel_stage(struct xdp_md *ctx, __u32 len, int res,
						  struct nacct_pkt *pkt)
{
	if (!pkt)
		return NACCT_P_MALFORMED;
	res = nacct_decap_parse(NACCT_DECAP_MEM(0), ctx_data(ctx), ctx_data_end(ctx), len, res,
				pkt);
	if (res == NACCT_P_INNER)
		res = nacct_decap_inner(NACCT_DECAP_MEM(0), ctx_data(ctx), ctx_data_end(ctx), pkt);
	return res;
}

__noinline int nacct_xdp_tunnel(struct xdp_md *ctx, __u32 len, int res, struct nacct_pkt *pkt)
{
	return nacct_xdp_tunnel_stage(ctx, len, res, pkt);
}

/* the compat twin's (maps/account.bpf.h): no pointer arguments before 5.12 */
static __noinline int nacct_xdp_tunnel_compat(struct xdp_md *ctx, __u32 len, int res,
					      struct nacct_pkt *pkt)
{
	return nacct_xdp_tunnel_stage(ctx, len, res, pkt);
}

static __always_inline int nacct_xdp_main(struct xdp_md *ctx, const int compat)
{
	void *data = ctx_data(ctx);
	void *data_end = ctx_data_end(ctx);
	struct nacct_pkt pkt;
	__u32 len;
	int res;

	nacct_pkt_init(&pkt);
	len = ctx_full_len(ctx);
	res = nacct_parse(data, data_end, len, -1, 0, &pkt);
	/* tunnels: the second stage */
	if (nacct_tun_candidate(&pkt, res))
		res = compat ? nacct_xdp_tunnel_compat(ctx, len, res, &pkt) :
			       nacct_xdp_tunnel(ctx, len, res, &pkt);
	/* (multi-buffer only) a header past the first buffer (the outer
	 * ones, or a tunnel's inner ones), or truly bad; the callee compares
	 * with the first buffer's length, so that no packet pointer stays live
	 * past the parser (the verifier would keep every way the parser ends
	 * apart: 4.5 times the work) */
	if (!compat && nacct_xdp_frags && res == NACCT_P_MALFORMED)
		res = nacct_xdp_parse_copy(ctx, len, &pkt);
	nacct_account_dir(&pkt, res, NACCT_DIR_RX, ctx->rx_queue_index, 1, len,
			  nacct_domain ? ctx->ingress_ifindex : 0, compat);
	return nacct_sample_verdict(ctx, len, NACCT_DIR_RX);
}

SEC("xdp")
int nacct_xdp(struct xdp_md *ctx)
{
	return nacct_xdp_main(ctx, NACCT_CURRENT);
}

/* the twin for kernels before 5.12 (maps/account.bpf.h) */
SEC("?xdp")
int nacct_xdp_compat(struct xdp_md *ctx)
{
	return nacct_xdp_main(ctx, NACCT_COMPAT);
}
