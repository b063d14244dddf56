// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * nacct XDP ingress program: count every received frame into the flow,
 * subnet and total counters, optionally copy a 1-in-N sample to the ring
 * buffer, and pass the frame on untouched.  In tap mode (a mirror port or
 * capture NIC) sampled frames go to the AF_XDP socket of their RX queue
 * and everything else is dropped after counting.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "../maps/account.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#ifndef NACCT_MAX_QUEUES
#define NACCT_MAX_QUEUES 64
#endif

/* tap mode: one AF_XDP socket per RX queue */
struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__uint(max_entries, NACCT_MAX_QUEUES);
	__type(key, __u32);
	__type(value, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} nacct_xsks SEC(".maps");

SEC("xdp")
int nacct_xdp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct nacct_sample_buf *buf = NULL;
	struct nacct_cfg *cfg;
	struct nacct_pkt pkt;
	__u32 zero = 0, len, caplen = 0, qid;
	int res;

	__builtin_memset(&pkt, 0, sizeof(pkt));
	len = data_end - data;
	res = nacct_parse(data, data_end, len, -1, &pkt);
	nacct_account(&pkt, res, NACCT_DIR_RX, 1, len);

	cfg = bpf_map_lookup_elem(&nacct_cfg, &zero);
	if (!cfg)
		return XDP_PASS;
	qid = ctx->rx_queue_index;
	/* tap mode drops only while a capture socket is bound to this queue:
	 * sockets leave the XSKMAP when they close, so a capture killed with
	 * SIGKILL cannot leave the interface dropping traffic */
	if (cfg->tap && bpf_map_lookup_elem(&nacct_xsks, &qid)) {
		/* the frame itself goes to the AF_XDP socket of its queue; a full
		 * socket ring is counted by the socket (XDP_STATISTICS, read by
		 * nacct capture) */
		if (!nacct_sample_pick(cfg))
			return XDP_DROP;
		res = bpf_redirect_map(&nacct_xsks, qid, XDP_DROP);
		nacct_sample_count(res == XDP_REDIRECT);
		return res;
	}
	buf = nacct_sample_begin(cfg, len, NACCT_DIR_RX, ctx->ingress_ifindex, &caplen);
	if (buf) {
		/* Older verifiers need the bound built this way: 6.12 does not
		 * carry clang's folded "cl - 1 <= MAX - 1" test on a copy back
		 * to cl ("R4 invalid zero-sized read"), 6.1 learns no lower
		 * bound from "cl != 0".  So bound cl - 1 from above (0 wraps to
		 * 2^64 - 1 and fails), then add 1: [1, MAX] on this register. */
		__u64 c1 = (__u64)caplen - 1;

		asm volatile("" : "+r"(c1));
		if (c1 < NACCT_SNAPLEN_MAX) {
			__u64 cl = c1 + 1;

			if (!bpf_xdp_load_bytes(ctx, 0, buf->data, cl))
				nacct_sample_emit(buf, cl);
			else
				nacct_sample_fail();
		} else {
			nacct_sample_fail();
		}
	}
	return XDP_PASS;
}
