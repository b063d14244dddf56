/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Packet builder of the unit tests and the fuzzer: Ethernet, VLAN tags,
 * IPv4 (with options, fragments) or IPv6 (with an extension-header chain,
 * fragment header), and a TCP/UDP/UDP-Lite/SCTP/ICMP/ICMPv6 header, with
 * every length field filled in.  Tests then cut or corrupt the bytes.
 */
#ifndef NACCT_UT_PKT_H
#define NACCT_UT_PKT_H

#include <stddef.h>
#include <linux/types.h>

#define PKT_MAX 16384

#define PKT_P_ICMP 1
#define PKT_P_TCP 6
#define PKT_P_UDP 17
#define PKT_P_ICMPV6 58
#define PKT_P_SCTP 132
#define PKT_P_UDPLITE 136

struct pkt_spec {
	int nvlan;
	__u16 vlan_tpid[4]; /* 0x8100 / 0x88a8 */
	__u16 vlan_vid[4];
	int family;         /* 4, 6, or 0 for a non-IP frame of @ethertype */
	__u16 ethertype;
	__u8 src[16];       /* IPv4: the first 4 bytes */
	__u8 dst[16];
	__u8 proto;
	__u16 sport, dport; /* host order; ICMP echo: sport is the identifier */
	__u8 icmp_type, icmp_code;
	__u8 tcp_flags;
	int tcp_opt;        /* TCP option bytes (multiple of 4, <= 40) */
	int ip4_opt;        /* IPv4 option bytes (multiple of 4, <= 40) */
	int n_ext;          /* IPv6 extension headers, in order (0, 43, 60, 51, 44, ...) */
	__u8 ext[32];
	/* IPv4 fragment fields, or those of the IPv6 fragment header (44) */
	int frag;           /* IPv4: set MF/offset as below */
	__u16 frag_off;     /* in 8-byte units */
	int frag_mf;
	__u32 frag_id;
	int payload;        /* payload bytes after the L4 header */
};

struct pkt_layout {
	size_t len; /* frame length */
	size_t l3;  /* offset of the IP header */
	size_t l4;  /* offset of the L4 header (or the fragment's data) */
	size_t pay; /* offset of the payload */
	int has_l4; /* an L4 header was written (not a later fragment) */
};

/* returns the frame length, 0 if it does not fit in @cap */
size_t pkt_build(const struct pkt_spec *s, __u8 *buf, size_t cap, struct pkt_layout *lay);

/*
 * A tunnel around an inner frame (as pkt_build made it): VXLAN and
 * Geneve in UDP, GRE (key, checksum, sequence flags), IP in IP, an MPLS
 * label stack, over IPv4 or IPv6 (family; MPLS: none).  Ethernet-carrying
 * tunnels take the inner frame whole, the others from its L3 header.
 */
enum {
	PKT_TUN_VXLAN = 1, PKT_TUN_GENEVE, PKT_TUN_GRE, PKT_TUN_GRETAP, PKT_TUN_IPIP,
	PKT_TUN_MPLS, /* the values of enum nacct_tun_type where both exist; IPIP
		       * stands for the four IP-in-IP types (by the families) */
};
struct pkt_tun {
	int type;
	int family;            /* outer: 4 or 6 */
	__u8 src[16], dst[16]; /* outer addresses (IPv4: the first 4 bytes) */
	__u32 id;              /* VNI, GRE key (with gre_key), top MPLS label */
	__u16 udp_dport;       /* 0: 4789 (VXLAN), 6081 (Geneve) */
	__u16 udp_sport;
	int gre_csum, gre_key, gre_seq, gre_routing, gre_ver;
	__u16 gre_proto;       /* 0: by the inner (0x6558 GRETAP) */
	__u16 geneve_proto;    /* 0: 0x6558 (Ethernet) */
	int geneve_opt;        /* option bytes (multiple of 4, <= 252) */
	int geneve_ver;
	__u8 vxlan_flags;      /* 0: 0x08 (I) */
	int mpls_labels;       /* stack depth (>= 1) */
	int outer_frag;        /* the outer IPv4 header says "more fragments" */
};
struct pkt_tun_layout {
	size_t len;   /* frame length */
	size_t l3;    /* outer IP header (MPLS: the label stack) */
	size_t l4;    /* outer L4 (UDP, GRE) or the tunnel payload */
	size_t tun;   /* the tunnel header (VXLAN, Geneve, GRE, MPLS stack) */
	size_t inner; /* the inner bytes (Ethernet or IP) */
};
size_t pkt_build_tun(const struct pkt_tun *t, const __u8 *inner, size_t inner_len,
		     size_t inner_l3, __u8 *buf, size_t cap, struct pkt_tun_layout *tl);
/* the outer length fields (IP, UDP) of a tunnel frame cut to @n bytes */
void pkt_tun_fix_len(const struct pkt_tun *t, const struct pkt_tun_layout *tl, __u8 *buf, size_t n);

/* a spec with the test addresses filled in: 198.18.x / fd00:: */
void pkt_spec_init(struct pkt_spec *s, int family, __u8 proto, __u16 sport, __u16 dport);
void pkt_addr4(__u8 *a, __u8 b0, __u8 b1, __u8 b2, __u8 b3);
/* fd00:<hi>::<lo> */
void pkt_addr6(__u8 *a, __u16 hi, __u16 lo);
/* swap source and destination (addresses and ports) */
void pkt_spec_reverse(struct pkt_spec *s);

/* a frame from a corpus file: hex bytes, '#' comment lines; 0 or -errno */
int pkt_load_hex(const char *path, __u8 *b, size_t cap, size_t *n);

static inline void pkt_put16(__u8 *p, __u16 v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

static inline __u16 pkt_get16(const __u8 *p)
{
	return (__u16)(p[0] << 8 | p[1]);
}

#endif /* NACCT_UT_PKT_H */
