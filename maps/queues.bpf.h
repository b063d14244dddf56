/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The per-queue counters (struct nacct_queue_val in nacct.h): the one add
 * into a row, shared by the data path (RX rows; these are the RX totals,
 * see nacct_account_dir) and the TX queue program (tc/nacct_txq.bpf.c,
 * built beside vmlinux.h: so nothing here but bpf_helpers.h and nacct.h).
 * The data path's objects define the attachment's map, nacct_queues
 * (pinned by name like the other maps); the TX queue program, one per
 * host, reaches each attachment's through a map of maps and defines
 * NACCT_QUEUES_NO_MAP.
 */
#ifndef NACCT_QUEUES_BPF_H
#define NACCT_QUEUES_BPF_H

#include <bpf/bpf_helpers.h>
#include "nacct.h"

/* the map's shape, also the TX queue program's inner map template (which
 * gives key and value by size: a type met only there reaches the object's
 * BTF as a forward declaration) */
#define NACCT_QUEUES_MAP_SHAPE                                \
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);              \
	__uint(max_entries, NACCT_QUEUE_KEYS)

/*
 * @pkts wire packets of @bytes in all into queue @queue (any number:
 * NACCT_QUEUE_OTHER from NACCT_QUEUES on) of direction @dir, a constant,
 * of the queue map @map.  The size bucket is each packet's (a GSO skb's
 * average): netqtop's buckets, without a branch.
 */
/* add to row @key of the queue map @map */
static __always_inline void nacct_queue_row_add(void *map, __u32 key, __u64 pkts, __u64 bytes)
{
	struct nacct_queue_val *q;
	__u64 size = bytes;
	__u32 b;

	q = bpf_map_lookup_elem(map, &key);
	if (!q)
		return;
	if (pkts > 1)
		size = bytes / pkts;
	b = size <= 64 ? 0 : size <= 512 ? 1 : size <= 2048 ? 2 : size <= 16384 ? 3 : 4;
	q->packets += pkts;
	q->bytes += bytes;
	q->sizes[b] += pkts;
}

static __always_inline void nacct_queue_add_to(void *map, __u32 dir, __u32 queue, __u64 pkts,
					       __u64 bytes)
{
	if (queue > NACCT_QUEUE_OTHER)
		queue = NACCT_QUEUE_OTHER;
	nacct_queue_row_add(map, dir * NACCT_QUEUE_ROWS + queue, pkts, bytes);
}

#ifndef NACCT_QUEUES_NO_MAP
/*
 * Key and value by size here too, as in the TX queue program's template:
 * a map created with a BTF value type is not the template's equal to 6.1
 * (bpf_map_meta_equal() compares timer_off: -ENOENT with BTF, -EINVAL
 * without), which then refuses it as an inner map (EINVAL: no TX rows).
 */
struct {
	NACCT_QUEUES_MAP_SHAPE;
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(struct nacct_queue_val));
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} nacct_queues SEC(".maps");

/* @slot: a shared domain's member (maps/nacct.h), its rows; 0 otherwise */
static __always_inline void nacct_queue_add(__u32 dir, __u32 queue, __u64 pkts, __u64 bytes,
					    __u32 slot)
{
	if (nacct_domain) {
		if (queue > NACCT_DOMAIN_QUEUES)
			queue = NACCT_DOMAIN_QUEUES;
		nacct_queue_row_add(&nacct_queues,
				    slot * NACCT_DOMAIN_QKEYS + dir * NACCT_DOMAIN_QROWS + queue,
				    pkts, bytes);
		return;
	}
	nacct_queue_add_to(&nacct_queues, dir, queue, pkts, bytes);
}
#endif

#endif /* NACCT_QUEUES_BPF_H */
