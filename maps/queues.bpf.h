/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The per-queue counters (struct nacct_queue_val in nacct.h): the map
 * and the one add, shared by the data path (maps/maps.bpf.h: RX rows)
 * and the TX queue program (tc/nacct_txq.bpf.c, built beside vmlinux.h:
 * so nothing here but bpf_helpers.h and nacct.h).  Pinned by name like
 * the data path's maps: both objects of an attachment share it.
 */
#ifndef NACCT_QUEUES_BPF_H
#define NACCT_QUEUES_BPF_H

#include <bpf/bpf_helpers.h>
#include "nacct.h"

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, NACCT_QUEUE_KEYS);
	__type(key, __u32);
	__type(value, struct nacct_queue_val);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} nacct_queues SEC(".maps");

/*
 * @pkts wire packets of @bytes in all into queue @queue (any number:
 * NACCT_QUEUE_OTHER from NACCT_QUEUES on) of direction @dir, a constant.
 * The size bucket is each packet's (a GSO skb's average).
 */
static __always_inline void nacct_queue_add(__u32 dir, __u32 queue, __u64 pkts, __u64 bytes)
{
	struct nacct_queue_val *q;
	__u64 size = bytes;
	__u32 key, b;

	if (queue > NACCT_QUEUE_OTHER)
		queue = NACCT_QUEUE_OTHER;
	key = dir * NACCT_QUEUE_ROWS + queue;
	q = bpf_map_lookup_elem(&nacct_queues, &key);
	if (!q)
		return;
	if (pkts > 1)
		size = bytes / pkts;
	b = size <= 64 ? 0 : size <= 512 ? 1 : size <= 2048 ? 2 : size <= 16384 ? 3 : 4;
	q->packets += pkts;
	q->bytes += bytes;
	q->sizes[b] += pkts;
}

#endif /* NACCT_QUEUES_BPF_H */
