// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The TX rows of the per-queue counters (maps/queues.bpf.h, `nacct
 * queues`).  The TC egress hook runs before the stack picks the TX queue
 * (__dev_queue_xmit: sch_handle_egress, then netdev_core_pick_tx), so the
 * skb there does not know its queue yet; net:net_dev_start_xmit fires as
 * the driver is handed the skb, queue_mapping set (netqtop's source too).
 * One program for the host, however many attachments (the tracepoint
 * fires for every device of the host; a program per attachment would run
 * them all on every packet sent): lib/txq.c loads it once, pins its link
 * and nacct_txq_ifs under NACCT_PIN_ROOT/:txq, and each attachment puts
 * its own nacct_queues into nacct_txq_ifs under its device's (network
 * namespace, ifindex).  A device without an entry costs one hash lookup.
 *
 * Counted as TC egress counts (tc/nacct_tc.bpf.c): a GSO skb as its
 * segments, bytes on the wire (the stack's own sum, qdisc_skb_cb's
 * pkt_len, written before the egress hook), a VLAN tag in metadata 4
 * bytes a packet.  What reaches the driver without the egress hook
 * (AF_PACKET's qdisc bypass, AF_XDP's generic TX) is in these rows and
 * not in the interface totals; what the egress hook sees and a qdisc then
 * drops, the other way round.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "nacct.h"
#define NACCT_QUEUES_NO_MAP
#include "queues.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* (network namespace inode, ifindex) of an attached device -> its queue map */
struct {
	__uint(type, BPF_MAP_TYPE_HASH_OF_MAPS);
	__uint(max_entries, NACCT_TXQ_IFS);
	__type(key, struct nacct_txq_if);
	__array(values, struct {
		NACCT_QUEUES_MAP_SHAPE;
		__uint(key_size, sizeof(__u32));
		__uint(value_size, sizeof(struct nacct_queue_val));
	});
} nacct_txq_ifs SEC(".maps");

/* kernels before 6.1 kept a tag's presence in a bit of its own */
struct sk_buff___vlanbit {
	__u8 vlan_present : 1;
} __attribute__((preserve_access_index));

SEC("tp_btf/net_dev_start_xmit")
int BPF_PROG(nacct_txq, const struct sk_buff *skb, const struct net_device *dev)
{
	const struct skb_shared_info *sh;
	struct nacct_txq_if k;
	__u32 pkt_len = 0;
	__u64 pkts = 1, bytes;
	__u16 gso_size, gso_segs;
	void *queues;
	int vlan;

	k.netns = BPF_CORE_READ(dev, nd_net.net, ns.inum);
	k.ifindex = BPF_CORE_READ(dev, ifindex);
	queues = bpf_map_lookup_elem(&nacct_txq_ifs, &k);
	if (!queues)
		return 0;
	/* qdisc_skb_cb(skb)->pkt_len: the first word of the control block */
	bpf_core_read(&pkt_len, sizeof(pkt_len), &skb->cb);
	bytes = pkt_len;
	sh = (const void *)(BPF_CORE_READ(skb, head) + BPF_CORE_READ(skb, end));
	gso_size = BPF_CORE_READ(sh, gso_size);
	gso_segs = BPF_CORE_READ(sh, gso_segs);
	if (gso_size && gso_segs > 1)
		pkts = gso_segs;
	if (bpf_core_field_exists(((struct sk_buff___vlanbit *)skb)->vlan_present))
		vlan = BPF_CORE_READ_BITFIELD_PROBED((struct sk_buff___vlanbit *)skb, vlan_present);
	else
		vlan = BPF_CORE_READ(skb, vlan_all) != 0;
	if (vlan)
		bytes += 4 * pkts;
	nacct_queue_add_to(queues, NACCT_DIR_TX, BPF_CORE_READ(skb, queue_mapping), pkts, bytes);
	return 0;
}
