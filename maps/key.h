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

/* memcmp() of two addresses: -1, 0, 1 */
static __always_inline int nacct_addr_cmp(const __u8 *a, const __u8 *b)
{
	int i;

#pragma unroll
	for (i = 0; i < 16; i++) {
		if (a[i] != b[i])
			return a[i] < b[i] ? -1 : 1;
	}
	return 0;
}

/*
 * Fill @k from the endpoints (@a, @aport) and (@b, @bport), addresses
 * already 16 bytes (IPv4 mapped), ports in network byte order.  The
 * addresses are 2-byte aligned, as in every struct of ours that holds one
 * (the key's own alignment): the copies then move 2 bytes at a time
 * instead of 1 (the verifier refuses a misaligned stack access, so a
 * caller breaking this fails at load, not silently).  The lower
 * endpoint (address bytes, then port as a number) goes first; equal
 * endpoints keep a first.  Returns the endpoint @a landed on: 0 lo, 1 hi.
 * A packet passes (src, dst), a socket (local, remote); the side programs
 * pass vlan 0.
 */
static __always_inline int nacct_key_make(struct nacct_flow_key *k, const __u8 *a, __be16 aport,
					  const __u8 *b, __be16 bport, __u8 proto, __u8 family,
					  __u16 vlan)
{
	int c, side;

	a = __builtin_assume_aligned(a, 2);
	b = __builtin_assume_aligned(b, 2);
	c = nacct_addr_cmp(a, b);
	__builtin_memset(k, 0, sizeof(*k));
	if (c == 0)
		c = bpf_ntohs(aport) < bpf_ntohs(bport) ? -1 :
		    bpf_ntohs(aport) > bpf_ntohs(bport) ? 1 : 0;
	if (c <= 0) {
		__builtin_memcpy(k->lo_addr, a, 16);
		__builtin_memcpy(k->hi_addr, b, 16);
		k->lo_port = aport;
		k->hi_port = bport;
		side = 0;
	} else {
		__builtin_memcpy(k->lo_addr, b, 16);
		__builtin_memcpy(k->hi_addr, a, 16);
		k->lo_port = bport;
		k->hi_port = aport;
		side = 1;
	}
	k->proto = proto;
	k->family = family;
	k->vlan = vlan;
	return side;
}

#endif /* NACCT_KEY_H */
