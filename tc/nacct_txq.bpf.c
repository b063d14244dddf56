// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The TX rows of the per-queue counters (maps/queues.bpf.h, `nacct
 * queues`).  The TC egress hook runs before the stack picks the TX queue
 * (__dev_queue_xmit: sch_handle_egress, then netdev_core_pick_tx), so the
 * skb there does not know its queue yet; net:net_dev_start_xmit fires as
 * the driver is handed the skb, queue_mapping set (netqtop's source too).
 * Loaded with each attachment, its link pinned beside the data path's
 * (NACCT_PIN_LINK_TXQ); the tracepoint fires for every device of the
 * host, so the first test is the attachment's device: ifindex and
 * network namespace, .rodata set by lib/attach.c.
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
#include "queues.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

const volatile __u32 nacct_ifindex = 0;
const volatile __u32 nacct_netns = 0; /* inode of the attachment's network namespace */

/* kernels before 6.1 kept a tag's presence in a bit of its own */
struct sk_buff___vlanbit {
	__u8 vlan_present : 1;
} __attribute__((preserve_access_index));

SEC("tp_btf/net_dev_start_xmit")
int BPF_PROG(nacct_txq, const struct sk_buff *skb, const struct net_device *dev)
{
	const struct skb_shared_info *sh;
	__u32 pkt_len = 0;
	__u64 pkts = 1, bytes;
	__u16 gso_size, gso_segs;
	int vlan;

	if (BPF_CORE_READ(dev, ifindex) != nacct_ifindex ||
	    BPF_CORE_READ(dev, nd_net.net, ns.inum) != nacct_netns)
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
	nacct_queue_add(NACCT_DIR_TX, BPF_CORE_READ(skb, queue_mapping), pkts, bytes);
	return 0;
}
