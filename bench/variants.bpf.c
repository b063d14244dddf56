// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * nacct's own data-path code, cut into pieces for bench_micro, to see
 * where the time of nacct_xdp goes.  Built from the very same headers
 * (maps/parse.h, maps/account.bpf.h) and loaded with the same private
 * pin_root_path as nacct's objects, so they update nacct's maps:
 *   bench_v_parse    nacct_parse() only
 *   bench_v_account  nacct_parse() + nacct_account(): everything of
 *                    nacct_xdp except the nacct_cfg lookup and the
 *                    sampling decision
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "../maps/account.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

SEC("xdp")
int bench_v_parse(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct nacct_pkt pkt;
	int res;

	__builtin_memset(&pkt, 0, sizeof(pkt));
	res = nacct_parse(data, data_end, data_end - data, -1, &pkt);
	/* use the result, or the compiler drops the parse */
	return res == NACCT_P_IP && pkt.sport != 0xffff ? XDP_PASS : XDP_DROP;
}

SEC("xdp")
int bench_v_account(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct nacct_pkt pkt;
	__u32 len = data_end - data;
	int res;

	__builtin_memset(&pkt, 0, sizeof(pkt));
	res = nacct_parse(data, data_end, len, -1, &pkt);
	nacct_account(&pkt, res, NACCT_DIR_RX, 1, len);
	return XDP_PASS;
}
