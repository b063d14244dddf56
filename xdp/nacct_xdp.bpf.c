// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * nacct XDP ingress program: count every received frame into the flow,
 * subnet and total counters, optionally copy a 1-in-N sample to the ring
 * buffer, and pass the frame on untouched.  In tap mode (a mirror port or
 * capture NIC) sampled frames go to the AF_XDP socket of their RX queue
 * and everything else is dropped after counting (maps/sample.bpf.h).
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "../maps/ctx_xdp.h"
#include "../maps/account.bpf.h"
#include "../maps/sample.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

SEC("xdp")
int nacct_xdp(struct xdp_md *ctx)
{
	void *data = ctx_data(ctx);
	void *data_end = ctx_data_end(ctx);
	struct nacct_pkt pkt;
	__u32 len;
	int res;

	__builtin_memset(&pkt, 0, sizeof(pkt));
	len = data_end - data;
	res = nacct_parse(data, data_end, len, -1, 0, &pkt);
	nacct_account_dir(&pkt, res, NACCT_DIR_RX, 1, len);
	return nacct_sample_verdict(ctx, len, NACCT_DIR_RX);
}
