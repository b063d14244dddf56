// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * nacct backlog (bcc tcpsynbl, plus listen drops): per listener of the
 * network namespace nacct runs in, the accept-queue length every new
 * connection found, its limit, the process that called listen(), the
 * listener's drop counter and the drop reasons of the packets it lost.
 * Loaded by the command for the duration of the run, never pinned.
 *
 *   sock:inet_sock_set_state (tp_btf), LISTEN -> SYN_RECV on the CHILD:
 *     fired in inet_csk_clone_lock() right after sk_clone_lock() copied
 *     the listener, before tcp_v4/v6_syn_recv_sock() give the child its
 *     own addresses and before inet_csk_reqsk_queue_add() queues it.  The
 *     child's sk_ack_backlog and sk_max_ack_backlog are then still the
 *     listener's: the accept queue this connection found, and its limit
 *     (tcpsynbl reads the same at a kprobe on tcp_v4_syn_recv_sock, with
 *     no kprobe here).  Its bound address and port are still the
 *     listener's too, which names the listener (a wildcard stays 0).
 *   sock:inet_sock_set_state, * -> LISTEN: runs in listen(), so current
 *     is the owner; recorded by the socket's inode, which the iterator
 *     reports per listener.
 *   skb:kfree_skb (tp_btf, with rx_sk: 6.12+; user space loads it only
 *     where the kernel's tracepoint has that argument): per listener and
 *     reason, the packets freed as drops while a listener was the
 *     receiving socket - TCP_LISTEN_OVERFLOW is the final ACK of a
 *     handshake that found the accept queue full (tcp_check_req()).
 *   iter/tcp: every listener of the namespace with sk_drops, the queue
 *     now, its limit and its inode, read by user space at each interval;
 *     the same record at LISTEN -> CLOSE (nacct_backlog_closed) for a
 *     listener that closes during the run.
 *     A SYN that finds the accept queue full is counted by
 *     tcp_listendrop() (sk_drops + 1, ListenOverflows and ListenDrops)
 *     and then consumed, not freed as a drop: no tracepoint sees it, so
 *     the per-listener count of listen drops is sk_drops read here.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include "nacct.h"
#include "hist.bpf.h"
#include "hdr.h" /* NACCT_IPPROTO_TCP */
#include "sock.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";


/* run-time knobs, set before load */
const volatile __u32 f_netns = 0;  /* the caller's netns inode; 0: any */
const volatile __u16 f_lport = 0;  /* -L, host order; 0: any */

/* flipped by user space at the end of each interval */
volatile __u8 gen;
/* samples and reason counts lost because a map was full */
__u64 lost;

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 8192);
	__type(key, struct nacct_backlog_key);
	__type(value, struct nacct_backlog_val);
} nacct_backlog_hist SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8192);
	__type(key, struct nacct_backlog_rkey);
	__type(value, __u64);
} nacct_backlog_reasons SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, struct nacct_backlog_owner);
} nacct_backlog_owner SEC(".maps");

/* listeners closed during the run (LISTEN -> CLOSE), by socket inode:
 * their last drop count, which the iterator can no longer see */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64);
	__type(value, struct nacct_backlog_sock);
} nacct_backlog_closed SEC(".maps");

/* the listener's (or a fresh child's, which copied it) name; 0: not ours */
static __always_inline int listener_name(const struct sock *sk, __u8 *addr, __be16 *port,
					 __u8 *family)
{
	int fam = BPF_CORE_READ(sk, __sk_common.skc_family);
	__u16 num;

	if (BPF_CORE_READ(sk, sk_protocol) != NACCT_IPPROTO_TCP)
		return 0;
	if (fam != AF_INET && fam != AF_INET6)
		return 0;
	if (f_netns && BPF_CORE_READ(sk, __sk_common.skc_net.net, ns.inum) != f_netns)
		return 0;
	num = BPF_CORE_READ(sk, __sk_common.skc_num);
	if (f_lport && num != f_lport)
		return 0;
	*port = bpf_htons(num);
	if (fam == AF_INET) {
		__be32 a = BPF_CORE_READ(sk, __sk_common.skc_rcv_saddr);

		/* the wildcard stays all zero, as an IPv6 wildcard does */
		if (a) {
			addr[10] = 0xff;
			addr[11] = 0xff;
			__builtin_memcpy(&addr[12], &a, 4);
		}
		*family = NACCT_AF_INET;
	} else {
		/* addr is a pointer here: the size must be explicit */
		bpf_core_read(addr, 16, &sk->__sk_common.skc_v6_rcv_saddr);
		*family = NACCT_AF_INET6;
	}
	return 1;
}

/* a listener as user space reads it; 0: not ours */
static __always_inline int sock_record(const struct sock *sk, struct nacct_backlog_sock *r)
{
	__builtin_memset(r, 0, sizeof(*r));
	if (!listener_name(sk, r->addr, &r->port, &r->family))
		return 0;
	r->queue = BPF_CORE_READ(sk, sk_ack_backlog);
	r->limit = BPF_CORE_READ(sk, sk_max_ack_backlog);
	r->drops = (__u32)BPF_CORE_READ(sk, sk_drops.counter);
	/* 6.18: sockets that opted in count drops per NUMA node instead */
	if (bpf_core_field_exists(sk->sk_drop_counters)) {
		struct numa_drop_counters *ndc = BPF_CORE_READ(sk, sk_drop_counters);

		if (ndc)
			r->drops += (__u32)BPF_CORE_READ(ndc, drops0.counter) +
				    (__u32)BPF_CORE_READ(ndc, drops1.counter);
	}
	r->ino = BPF_CORE_READ(sk, sk_socket, file, f_inode, i_ino);
	return 1;
}

static __always_inline void sample(const struct sock *child)
{
	struct nacct_backlog_val *v, init;
	struct nacct_backlog_key k;
	__u64 q;

	__builtin_memset(&k, 0, sizeof(k));
	if (!listener_name(child, k.addr, &k.port, &k.family))
		return;
	k.gen = gen & 1;
	k.limit = BPF_CORE_READ(child, sk_max_ack_backlog);
	q = BPF_CORE_READ(child, sk_ack_backlog);
	v = bpf_map_lookup_elem(&nacct_backlog_hist, &k);
	if (!v) {
		__builtin_memset(&init, 0, sizeof(init));
		/* per-CPU hash: BPF_NOEXIST fails only if another CPU's insert
		 * came first, and then the lookup finds ours */
		bpf_map_update_elem(&nacct_backlog_hist, &k, &init, BPF_NOEXIST);
		v = bpf_map_lookup_elem(&nacct_backlog_hist, &k);
		if (!v) {
			__sync_fetch_and_add(&lost, 1);
			return;
		}
	}
	/* per-CPU value: plain updates */
	v->count++;
	if (q > v->max)
		v->max = q;
	v->hist[nacct_log2_slot(q)]++;
}

static __always_inline void owner(const struct sock *sk)
{
	struct nacct_backlog_owner o;
	__u8 addr[16] = {};
	__be16 port;
	__u8 family;
	__u64 ino;

	if (!listener_name(sk, addr, &port, &family))
		return;
	ino = BPF_CORE_READ(sk, sk_socket, file, f_inode, i_ino);
	if (!ino)
		return;
	__builtin_memset(&o, 0, sizeof(o));
	o.pid = bpf_get_current_pid_tgid() >> 32;
	bpf_get_current_comm(o.comm, sizeof(o.comm));
	bpf_map_update_elem(&nacct_backlog_owner, &ino, &o, BPF_ANY);
}

/* tcp_close() -> tcp_set_state(CLOSE) runs before the socket is orphaned */
static __always_inline void closed(const struct sock *sk)
{
	struct nacct_backlog_sock r;

	if (sock_record(sk, &r) && r.ino)
		bpf_map_update_elem(&nacct_backlog_closed, &r.ino, &r, BPF_ANY);
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(nacct_backlog_state, const struct sock *sk, const int oldstate, const int newstate)
{
	if (oldstate == NACCT_TCP_LISTEN && newstate == NACCT_TCP_SYN_RECV)
		sample(sk);
	else if (newstate == NACCT_TCP_LISTEN)
		owner(sk);
	else if (oldstate == NACCT_TCP_LISTEN)
		closed(sk);
	return 0;
}

/* not loaded by default: only where kfree_skb has rx_sk (ctl/backlog.c) */
SEC("?tp_btf/kfree_skb")
int BPF_PROG(nacct_backlog_drop, struct sk_buff *skb, void *location, enum skb_drop_reason reason,
	     struct sock *rx_sk)
{
	struct nacct_backlog_rkey k;
	__u64 *c, one = 1;

	if (!rx_sk || BPF_CORE_READ(rx_sk, __sk_common.skc_state) != NACCT_TCP_LISTEN)
		return 0;
	if (bpf_core_enum_value_exists(enum skb_drop_reason, SKB_CONSUMED) &&
	    reason == bpf_core_enum_value(enum skb_drop_reason, SKB_CONSUMED))
		return 0;
	__builtin_memset(&k, 0, sizeof(k));
	if (!listener_name(rx_sk, k.addr, &k.port, &k.family))
		return 0;
	k.gen = gen & 1;
	k.reason = reason;
	c = bpf_map_lookup_elem(&nacct_backlog_reasons, &k);
	if (c) {
		__sync_fetch_and_add(c, 1);
		return 0;
	}
	if (bpf_map_update_elem(&nacct_backlog_reasons, &k, &one, BPF_NOEXIST)) {
		c = bpf_map_lookup_elem(&nacct_backlog_reasons, &k);
		if (c)
			__sync_fetch_and_add(c, 1);
		else
			__sync_fetch_and_add(&lost, 1);
	}
	return 0;
}

SEC("iter/tcp")
int nacct_backlog_iter(struct bpf_iter__tcp *ctx)
{
	struct sock_common *skc = ctx->sk_common;
	struct nacct_backlog_sock r;
	struct tcp_sock *tp;

	if (!skc)
		return 0;
	/* NULL for time-wait and request sockets, which are no listeners */
	tp = bpf_skc_to_tcp_sock(skc);
	if (!tp)
		return 0;
	if (BPF_CORE_READ(skc, skc_state) != NACCT_TCP_LISTEN)
		return 0;
	if (sock_record((const struct sock *)tp, &r))
		bpf_seq_write(ctx->meta->seq, &r, sizeof(r));
	return 0;
}
