// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Key check: one frame through both users of the shared parser and key
 * builder, so that a unit test can hold them to one answer.
 *   data path      nacct_parse_eth() on the packet itself (NACCT_MEM_PKT),
 *                  from Ethernet, then nacct_key_make() as nacct_account()
 *                  does it (without the later-fragment port recovery of
 *                  the per-interface frag table, which the side programs
 *                  cannot have)
 *   side program   nacct_parse_skb(), the very function skb:kfree_skb's
 *                  program calls, on a stand-in struct sk_buff whose head
 *                  is this frame: its CO-RE reads, its bounds and the
 *                  parser's kernel-memory flavour (bpf_probe_read_kernel,
 *                  callable from XDP with CAP_PERFMON), entered at L3;
 *                  twice, with skb->data at the network header (as on
 *                  receive) and at the MAC header (as on transmit)
 * Built against vmlinux.h, like the side programs: this object is also
 * the proof that maps/parse.h and maps/key.h compile there.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_core_read.h>
#include "nacct.h"
#include "parse.h"
#include "key.h"
#include "parse_skb.bpf.h"
#include "keycheck.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

_Static_assert(NACCT_P_IP == KC_RES_KEY && NACCT_P_NONIP == KC_RES_NONIP &&
		       NACCT_P_MALFORMED == KC_RES_MALFORMED,
	       "keycheck.h result codes");

struct keycheck_in kc_in;
struct keycheck_out kc_out;

/* the stand-in sk_buff: only the fields nacct_parse_skb() reads are set */
__u8 kc_skb[1024] __attribute__((aligned(8)));
_Static_assert(sizeof(struct sk_buff) <= sizeof(kc_skb), "kc_skb too small for struct sk_buff");

/*
 * The verifier knows @p as a packet or map-value pointer.  Read back
 * through memory it becomes a plain number, which is what skb->head is to
 * a tracing program: the kernel-memory flavour then runs as it does there.
 */
static __always_inline __u64 kc_addr(void *p)
{
	__u64 a = 0;

	bpf_probe_read_kernel(&a, sizeof(a), &p);
	return a;
}

static __always_inline void kc_side(__u64 frame, __u32 len, int at_mac, struct keycheck_res *r)
{
	struct sk_buff *skb = (struct sk_buff *)kc_skb;
	struct nacct_pkt pkt;
	__u32 nh = kc_in.l3_off;

	__builtin_memset(&pkt, 0, sizeof(pkt));
	__builtin_memset(kc_skb, 0, sizeof(kc_skb));
	skb->protocol = bpf_htons(kc_in.l3_proto);
	skb->head = (unsigned char *)frame;
	skb->network_header = nh;
	skb->tail = len;
	if (at_mac) {
		skb->data = (unsigned char *)frame;
		skb->len = len;
	} else {
		skb->data = (unsigned char *)(frame + nh);
		skb->len = len - nh;
	}
	r->res = nacct_parse_skb((const struct sk_buff *)kc_addr(kc_skb), &pkt);
	r->malformed = pkt.malformed;
	if (r->res == NACCT_P_IP)
		nacct_key_make(&r->key, pkt.src, pkt.sport, pkt.dst, pkt.dport, pkt.proto,
			       pkt.family, 0);
}

SEC("xdp")
int keycheck(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u32 len = data_end - data;
	struct nacct_pkt pkt;
	__u64 frame;

	kc_out.runs++;
	__builtin_memset(&kc_out.dp, 0, sizeof(kc_out.dp));
	__builtin_memset(&kc_out.side_nh, 0, sizeof(kc_out.side_nh));
	__builtin_memset(&kc_out.side_mh, 0, sizeof(kc_out.side_mh));

	__builtin_memset(&pkt, 0, sizeof(pkt));
	/* the data path's parse (its tunnel candidates are asked after it,
	 * maps/decap.h: no key changes by them) */
	kc_out.dp.res = nacct_parse_eth(NACCT_MEM_PKT, data, data_end, len, -1, &pkt);
	kc_out.dp.malformed = pkt.malformed;
	if (kc_out.dp.res == NACCT_P_IP)
		nacct_key_make(&kc_out.dp.key, pkt.src, pkt.sport, pkt.dst, pkt.dport, pkt.proto,
			       pkt.family, pkt.vlan);

	kc_out.side_nh.res = kc_out.side_mh.res = KC_RES_NOT_RUN;
	if (kc_in.l3_off > len)
		return XDP_PASS;
	frame = kc_addr(data);
	kc_side(frame, len, 0, &kc_out.side_nh);
	kc_side(frame, len, 1, &kc_out.side_mh);
	return XDP_PASS;
}
