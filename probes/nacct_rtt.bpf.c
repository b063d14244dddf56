// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * nacct rtt (bcc tcprtt): log2 histograms and count/sum/min/max of TCP's
 * smoothed RTT, sampled at every segment an established socket receives
 * (tp_btf tcp:tcp_probe, fired at the start of tcp_rcv_established: the
 * point bcc's tcprtt kprobes), keyed by nothing, an address or a port.
 * Loaded by the command for the duration of the run, never pinned.
 *
 * The histograms live in a per-CPU hash keyed with a generation bit:
 * user space flips `gen` at the end of an interval and then reads and
 * deletes the entries of the old generation, so min and max are per
 * interval and no update is lost to a reset.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include "nacct.h"
#include "hist.bpf.h"
#include "sock.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";


/* run-time knobs, set before load */
const volatile __u32 by = NACCT_RTT_BY_NONE; /* enum nacct_rtt_by */
const volatile __u32 in_ms = 0;              /* -m: milliseconds */
const volatile __u16 f_lport = 0;            /* -L, host order; 0: any */
const volatile __u16 f_rport = 0;            /* -D, host order; 0: any */
const volatile __u32 f_netns = 0;            /* IFACE: its netns inode; 0: any */
const volatile __u32 f_ifindex = 0;          /* IFACE: its ifindex; 0: any */
const volatile __u32 f_inodes = 0;           /* -p: only sockets in nacct_rtt_inodes */

/* flipped by user space at the end of each interval */
volatile __u8 gen;
/* samples lost because the histogram map was full */
__u64 lost;

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct nacct_rtt_key);
	__type(value, struct nacct_rtt_val);
} nacct_rtt_hist SEC(".maps");

/* -p PID: the socket inodes of the process (refreshed by user space) */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64);
	__type(value, __u8);
} nacct_rtt_inodes SEC(".maps");

static __always_inline void set_addr(struct nacct_rtt_key *k, const struct sock *sk, int family,
				     int remote)
{
	if (family == AF_INET) {
		__be32 a = remote ? BPF_CORE_READ(sk, __sk_common.skc_daddr)
				  : BPF_CORE_READ(sk, __sk_common.skc_rcv_saddr);

		k->addr[10] = 0xff;
		k->addr[11] = 0xff;
		__builtin_memcpy(&k->addr[12], &a, 4);
		k->family = NACCT_AF_INET;
		return;
	}
	if (remote)
		BPF_CORE_READ_INTO(&k->addr, sk, __sk_common.skc_v6_daddr.in6_u.u6_addr8);
	else
		BPF_CORE_READ_INTO(&k->addr, sk, __sk_common.skc_v6_rcv_saddr.in6_u.u6_addr8);
	/* a dual-stack socket talking IPv4 */
	k->family = (!k->addr[0] && !k->addr[1] && !k->addr[2] && !k->addr[3] && !k->addr[4] &&
		     !k->addr[5] && !k->addr[6] && !k->addr[7] && !k->addr[8] && !k->addr[9] &&
		     k->addr[10] == 0xff && k->addr[11] == 0xff)
			    ? NACCT_AF_INET
			    : NACCT_AF_INET6;
}

static __always_inline __u32 sk_ifindex(const struct sock *sk)
{
	__u32 ifi = BPF_CORE_READ(sk, __sk_common.skc_bound_dev_if);

	if (ifi)
		return ifi;
	if (bpf_core_field_exists(sk->sk_rx_dst_ifindex))
		return BPF_CORE_READ(sk, sk_rx_dst_ifindex);
	return 0;
}

SEC("tp_btf/tcp_probe")
int BPF_PROG(nacct_rtt, struct sock *sk, struct sk_buff *skb)
{
	const struct tcp_sock *tp = (const struct tcp_sock *)sk;
	struct nacct_rtt_key k;
	struct nacct_rtt_val *v, init;
	__u16 lport, rport;
	__u64 rtt;
	int family;

	family = BPF_CORE_READ(sk, __sk_common.skc_family);
	if (family != AF_INET && family != AF_INET6)
		return 0;
	lport = BPF_CORE_READ(sk, __sk_common.skc_num);
	rport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
	if (f_lport && lport != f_lport)
		return 0;
	if (f_rport && rport != f_rport)
		return 0;
	if (f_netns && BPF_CORE_READ(sk, __sk_common.skc_net.net, ns.inum) != f_netns)
		return 0;
	if (f_ifindex) {
		/* the interface this segment came in on; the socket's (bound
		 * or last receive) for an skb without one */
		__u32 ifi = skb ? BPF_CORE_READ(skb, skb_iif) : 0;

		if (!ifi)
			ifi = sk_ifindex(sk);

		if (ifi && ifi != f_ifindex)
			return 0;
	}
	if (f_inodes) {
		__u64 ino = BPF_CORE_READ(sk, sk_socket, file, f_inode, i_ino);

		if (!ino || !bpf_map_lookup_elem(&nacct_rtt_inodes, &ino))
			return 0;
	}
	/* srtt_us holds 8 times the smoothed RTT (tcp_rtt_estimator);
	 * 0: no RTT sample yet */
	rtt = BPF_CORE_READ(tp, srtt_us) >> 3;
	if (!rtt)
		return 0;
	if (in_ms)
		rtt /= 1000;

	__builtin_memset(&k, 0, sizeof(k));
	k.gen = gen & 1;
	switch (by) {
	case NACCT_RTT_BY_RADDR:
		set_addr(&k, sk, family, 1);
		break;
	case NACCT_RTT_BY_LADDR:
		set_addr(&k, sk, family, 0);
		break;
	case NACCT_RTT_BY_RPORT:
		k.port = bpf_htons(rport);
		break;
	case NACCT_RTT_BY_LPORT:
		k.port = bpf_htons(lport);
		break;
	}
	v = bpf_map_lookup_elem(&nacct_rtt_hist, &k);
	if (!v) {
		__builtin_memset(&init, 0, sizeof(init));
		init.min = ~0ULL;
		/* per-CPU hash: BPF_NOEXIST fails only if another CPU's insert
		 * came first, and then the lookup finds ours */
		if (bpf_map_update_elem(&nacct_rtt_hist, &k, &init, BPF_NOEXIST) &&
		    !bpf_map_lookup_elem(&nacct_rtt_hist, &k)) {
			__sync_fetch_and_add(&lost, 1);
			return 0;
		}
		v = bpf_map_lookup_elem(&nacct_rtt_hist, &k);
		if (!v) {
			__sync_fetch_and_add(&lost, 1);
			return 0;
		}
	}
	/* per-CPU value: plain updates */
	if (!v->count || rtt < v->min)
		v->min = rtt;
	if (rtt > v->max)
		v->max = rtt;
	v->count++;
	v->sum += rtt;
	v->hist[nacct_log2_slot(rtt)]++;
	return 0;
}
