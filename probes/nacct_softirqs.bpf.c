// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * nacct softirqs (bcc softirqs): count and time of every softirq run, per
 * vector and CPU, from irq:softirq_entry / irq:softirq_exit (tp_btf).
 * Loaded by the command for the duration of the run, never pinned.
 *
 * The count is taken at softirq_entry, which handle_softirqs() fires right
 * after kstat_incr_softirqs_this_cpu(): the same event /proc/softirqs
 * counts.  Counters are cumulative; user space takes deltas, so reading
 * never races an update.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "nacct.h"
#include "hist.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* the name table of maps/nacct.h against the kernel's own enum */
#define NACCT_X_SIRQ_CHECK(n, s) \
	_Static_assert(NACCT_SIRQ_##n == n##_SOFTIRQ, "softirq vector " s " moved");
NACCT_SOFTIRQ_VECTORS(NACCT_X_SIRQ_CHECK)
_Static_assert(NACCT_SIRQ_MAX == NR_SOFTIRQS, "the kernel has another number of softirqs");

/* per vector, per CPU: count, time, log2 histogram of time (us) */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, NACCT_SIRQ_MAX);
	__type(key, __u32);
	__type(value, struct nacct_sirq_val);
} nacct_sirq SEC(".maps");

/* the running softirq of this CPU: softirqs never nest on one CPU, so one
 * slot per CPU is enough */
struct sirq_start {
	__u64 ts;
	__u32 vec;
	__u32 pad;
};
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sirq_start);
} nacct_sirq_start SEC(".maps");

SEC("tp_btf/softirq_entry")
int BPF_PROG(nacct_sirq_entry, unsigned int vec)
{
	__u32 zero = 0, v = vec;
	struct nacct_sirq_val *val;
	struct sirq_start *st;

	if (v >= NACCT_SIRQ_MAX)
		return 0;
	val = bpf_map_lookup_elem(&nacct_sirq, &v);
	if (val)
		val->count++; /* per-CPU value: no atomics needed */
	st = bpf_map_lookup_elem(&nacct_sirq_start, &zero);
	if (st) {
		st->ts = bpf_ktime_get_ns();
		st->vec = v;
	}
	return 0;
}

SEC("tp_btf/softirq_exit")
int BPF_PROG(nacct_sirq_exit, unsigned int vec)
{
	__u32 zero = 0, v = vec;
	struct nacct_sirq_val *val;
	struct sirq_start *st;
	__u64 d;

	st = bpf_map_lookup_elem(&nacct_sirq_start, &zero);
	/* no entry seen (loaded while this run was going on): no time */
	if (!st || !st->ts || st->vec != v || v >= NACCT_SIRQ_MAX)
		return 0;
	d = bpf_ktime_get_ns() - st->ts;
	st->ts = 0;
	val = bpf_map_lookup_elem(&nacct_sirq, &v);
	if (!val)
		return 0;
	val->time_ns += d;
	val->hist[nacct_log2_slot(d / 1000)]++;
	return 0;
}
