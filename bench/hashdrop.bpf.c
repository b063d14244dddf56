// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Live baseline for bench/linerate.sh: a bare PERCPU_HASH flow update
 * (bench.bpf.h's key, 16-byte value, room for 2M flows), then XDP_DROP.
 * nacct's tap mode does the same job plus nacct's bookkeeping, so
 * tap / hashdrop is nacct's own overhead at line rate.
 */
#include "bench.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 2 << 20);
	__type(key, struct nacct_flow_key);
	__type(value, struct bench_val);
} bench_live_flows SEC(".maps");

SEC("xdp")
int bench_xdp_hashdrop(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
	struct nacct_flow_key k;
	struct bench_val *v, nv;

	if (bench_key(data, data_end, &k))
		return XDP_DROP;
	v = bpf_map_lookup_elem(&bench_live_flows, &k);
	if (v) {
		v->packets++;
		v->bytes += data_end - data;
		return XDP_DROP;
	}
	nv.packets = 1;
	nv.bytes = data_end - data;
	bpf_map_update_elem(&bench_live_flows, &k, &nv, BPF_NOEXIST);
	return XDP_DROP;
}
