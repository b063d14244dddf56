/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The one builder of the canonical flow key (maps/nacct.h, README "Flow
 * key"), used by the data path for packets and by the side programs for
 * sockets and dropped skbs, so that all three agree on the key by
 * construction.  Compiles beside the uapi headers and beside vmlinux.h
 * (fixed-width types only, no uapi include).
 */
#ifndef NACCT_KEY_H
#define NACCT_KEY_H

#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "nacct.h"

/* ::ffff:a.b.c.d, as keys store IPv4 addresses */
static __always_inline void nacct_v4_mapped(__u8 *dst, __be32 a)
{
	__builtin_memset(dst, 0, 10);
	dst[10] = 0xff;
	dst[11] = 0xff;
	__builtin_memcpy(dst + 12, &a, 4);
}

static __always_inline int nacct_is_v4_mapped(const __u8 *a)
{
	int i;

#pragma unroll
	for (i = 0; i < 10; i++)
		if (a[i])
			return 0;
	return a[10] == 0xff && a[11] == 0xff;
}

/*
 * The flow key in 8-byte words, as nacct_key_canon() reads it: the
 * addresses lo (words 0, 1) and hi (2, 3), then ports, proto, family and
 * vlan (word 4), the tunnel (word 5).  The key's own alignment is 8 now
 * (the tunnel word); the wrapper stays as the name of that promise, and
 * the verifier refuses a misaligned stack access, so a key that is not
 * aligned fails at load, not silently.
 */
struct nacct_key_words {
	struct nacct_flow_key k;
} __attribute__((aligned(8)));

/*
 * Make the key canonical in place: @k holds the packet's source as "lo"
 * and its destination as "hi" (addresses 16 bytes, IPv4 mapped; ports in
 * network byte order); the lower endpoint (address bytes, then port as a
 * number) must come first, so when the source is the higher one the two
 * endpoints swap.  Equal endpoints keep their order.  Returns the
 * endpoint the source landed on: 0 lo, 1 hi.
 *
 * The addresses compare as two 64-bit big-endian numbers each (memcmp()
 * order in four loads and two byte swaps, not sixteen byte compares), and
 * nothing moves when the key is already canonical: the parser wrote it
 * where the map lookup reads it.  @k must be 8-byte aligned (struct
 * nacct_key_words, or the start of struct nacct_pkt).
 */
static __always_inline int nacct_key_canon(struct nacct_flow_key *k)
{
	__u64 *w = __builtin_assume_aligned(k, 8);
	__u32 *ports = (__u32 *)&k->lo_port;
	__u64 a = w[0], b = w[2], t;
	int swap;

	if (a == b) {
		a = w[1];
		b = w[3];
	}
	if (a != b)
		swap = bpf_be64_to_cpu(a) > bpf_be64_to_cpu(b);
	else
		swap = bpf_ntohs(k->lo_port) > bpf_ntohs(k->hi_port);
	if (swap) {
		t = w[0];
		w[0] = w[2];
		w[2] = t;
		t = w[1];
		w[1] = w[3];
		w[3] = t;
		/* the two ports are one 32-bit word: swap its halves */
		*ports = *ports >> 16 | *ports << 16;
	}
	return swap;
}

/*
 * Fill @k from the endpoints (@a, @aport) and (@b, @bport), addresses
 * already 16 bytes (IPv4 mapped), ports in network byte order: the side
 * programs' way in (a socket's local and remote end, a dropped packet's
 * source and destination; they pass vlan 0).  The data path parses
 * straight into its key and calls nacct_key_canon() itself; both orders
 * come from that one function.  The addresses are 2-byte aligned, as in
 * every struct of ours that holds one.  Returns the endpoint @a landed
 * on: 0 lo, 1 hi.
 */
static __always_inline int nacct_key_make(struct nacct_flow_key *k, const __u8 *a, __be16 aport,
					  const __u8 *b, __be16 bport, __u8 proto, __u8 family,
					  __u16 vlan)
{
	struct nacct_key_words kw;
	int side;

	a = __builtin_assume_aligned(a, 2);
	b = __builtin_assume_aligned(b, 2);
	__builtin_memcpy(kw.k.lo_addr, a, 16);
	__builtin_memcpy(kw.k.hi_addr, b, 16);
	kw.k.lo_port = aport;
	kw.k.hi_port = bport;
	kw.k.proto = proto;
	kw.k.family = family;
	kw.k.vlan = vlan;
	kw.k.tunnel = 0; /* sockets and dropped skbs: the inner 5-tuple, no tunnel, */
	kw.k.ifindex = 0; /* no interface */
	side = nacct_key_canon(&kw.k);
	__builtin_memcpy(k, &kw.k, sizeof(*k));
	return side;
}

#endif /* NACCT_KEY_H */
