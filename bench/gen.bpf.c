// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * bench_gen's XDP program, run by BPF_PROG_TEST_RUN in live-frame mode
 * (BPF_F_TEST_XDP_LIVE_FRAMES): every run takes the template frame that
 * user space handed in, stamps flow number (i mod nflows) into its ports
 * (fixing the L4 checksum incrementally), counts it and returns XDP_TX,
 * which the test runner turns into a redirect out of the interface named
 * in the context (ingress_ifindex): on a veth, straight into the peer's
 * receive queue.  gen_sent (per CPU) is the exact number of frames handed
 * to the transmit path.
 */
#include <linux/bpf.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* set before load by bench/gen.c */
const volatile __u32 nflows = 1;   /* distinct flows (ports varied) */
const volatile __u32 l4_off = 34;  /* offset of the TCP/UDP header in the frame */
const volatile __u32 proto = IPPROTO_UDP;

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} gen_sent SEC(".maps");

/* RFC 1624: HC' = ~(~HC + ~m + m'), on network-order 16-bit words */
static __always_inline __u16 csum_replace(__u16 csum, __u16 old, __u16 new)
{
	__u32 s = (__u16)~csum + (__u16)~old + (__u32)new;

	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return ~s;
}

SEC("xdp")
int bench_gen_xdp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u32 zero = 0, f, off = l4_off & 0xff;
	__u16 sport, dport, *l4, *csum;
	__u64 *sent;

	sent = bpf_map_lookup_elem(&gen_sent, &zero);
	if (!sent)
		return XDP_ABORTED;
	if (nflows > 1) {
		f = *sent % nflows;
		l4 = data + off;
		if ((void *)l4 + 20 > data_end)
			return XDP_ABORTED;
		sport = bpf_htons(1024 + f % 60000);
		dport = bpf_htons(1024 + f / 60000);
		csum = proto == IPPROTO_TCP ? &l4[8] : &l4[3];
		if (proto == IPPROTO_TCP || *csum) {
			__u16 c = csum_replace(*csum, l4[0], sport);

			c = csum_replace(c, l4[1], dport);
			if (proto != IPPROTO_TCP && !c)
				c = 0xffff; /* UDP: 0 means "no checksum" */
			*csum = c;
		}
		l4[0] = sport;
		l4[1] = dport;
	}
	*sent += 1;
	return XDP_TX;
}
