/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * On-wire headers and protocol numbers, as the parser (maps/parse.h) reads
 * them.  Our own minimal structs under nacct_ names, fixed-width types
 * only, no uapi include: this header compiles beside the uapi headers (the
 * XDP and TC programs) and beside vmlinux.h (the tracepoint programs),
 * where struct iphdr, ETH_P_IP or IPPROTO_* would be defined twice or not
 * at all.  No bitfields: their order depends on the byte order; version
 * and IHL, TCP's data offset are read from whole bytes.
 *
 * The includer provides __u8 .. __u64, __be16, __be32 (linux/types.h or
 * vmlinux.h) before including this header.
 */
#ifndef NACCT_HDR_H
#define NACCT_HDR_H

/* ethertypes, host byte order */
#define NACCT_ETH_P_IP 0x0800
#define NACCT_ETH_P_IPV6 0x86DD
#define NACCT_ETH_P_8021Q 0x8100
#define NACCT_ETH_P_8021AD 0x88A8
#define NACCT_ETH_P_MPLS 0x8847   /* MPLS unicast */
#define NACCT_ETH_P_TEB 0x6558    /* transparent Ethernet bridging (GRETAP, Geneve) */

/* IP protocol numbers (IANA) */
#define NACCT_IPPROTO_HOPOPTS 0
#define NACCT_IPPROTO_ICMP 1
#define NACCT_IPPROTO_IPIP 4 /* IPv4 inside */
#define NACCT_IPPROTO_TCP 6
#define NACCT_IPPROTO_UDP 17
#define NACCT_IPPROTO_IPV6 41 /* IPv6 inside */
#define NACCT_IPPROTO_ROUTING 43
#define NACCT_IPPROTO_FRAGMENT 44
#define NACCT_IPPROTO_GRE 47
#define NACCT_IPPROTO_AH 51
#define NACCT_IPPROTO_ICMPV6 58
#define NACCT_IPPROTO_NONE 59
#define NACCT_IPPROTO_DSTOPTS 60
#define NACCT_IPPROTO_SCTP 132
#define NACCT_IPPROTO_MH 135 /* mobility */
#define NACCT_IPPROTO_UDPLITE 136
#define NACCT_IPPROTO_HIP 139
#define NACCT_IPPROTO_SHIM6 140

/* IPv4 frag_off (host order) */
#define NACCT_IP_MF 0x2000
#define NACCT_IP_OFFSET 0x1fff

struct nacct_ethhdr {
	__u8 dst[6];
	__u8 src[6];
	__be16 proto;
};

struct nacct_vlanhdr {
	__be16 tci;
	__be16 proto;
};

struct nacct_iphdr {
	__u8 ver_ihl; /* version << 4 | IHL (32-bit words) */
	__u8 tos;
	__be16 tot_len;
	__be16 id;
	__be16 frag_off; /* flags << 13 | offset (8-byte units) */
	__u8 ttl;
	__u8 protocol;
	__be16 check;
	__be32 saddr;
	__be32 daddr;
};

struct nacct_ipv6hdr {
	__u8 ver_tc; /* version << 4 | traffic class (high nibble) */
	__u8 tc_flow;
	__be16 flow_lbl;
	__be16 payload_len;
	__u8 nexthdr;
	__u8 hop_limit;
	__be32 saddr[4]; /* words, not bytes: the copies move 4 bytes at a time */
	__be32 daddr[4];
};

/* the first two bytes of every IPv6 extension header but the fragment header */
struct nacct_ipv6_opthdr {
	__u8 nexthdr;
	__u8 hdrlen; /* AH: 4-octet units - 2; the others: 8-octet units - 1 */
};

struct nacct_ipv6_fraghdr {
	__u8 nexthdr;
	__u8 reserved;
	__be16 frag_off; /* offset << 3 | M */
	__be32 id;
};

struct nacct_tcphdr {
	__be16 source;
	__be16 dest;
	__be32 seq;
	__be32 ack_seq;
	__u8 doff_res; /* data offset (32-bit words) << 4 */
	__u8 flags;    /* CWR ECE URG ACK PSH RST SYN FIN */
	__be16 window;
	__be16 check;
	__be16 urg_ptr;
};

/* UDP and UDP-Lite (whose third field is the checksum coverage) */
struct nacct_udphdr {
	__be16 source;
	__be16 dest;
	__be16 len;
	__be16 check;
};

/* SCTP common header */
struct nacct_sctphdr {
	__be16 source;
	__be16 dest;
	__be32 vtag;
	__be32 check;
};

/* ICMP and ICMPv6: the first 8 bytes (echo: identifier, sequence) */
struct nacct_icmphdr {
	__u8 type;
	__u8 code;
	__be16 check;
	__be16 id;
	__be16 seq;
};

/* VXLAN (RFC 7348): flags (I = 0x08: the VNI is valid), VNI << 8 */
struct nacct_vxlanhdr {
	__u8 flags;
	__u8 reserved[3];
	__be32 vni; /* VNI in the top 24 bits */
};
#define NACCT_VXLAN_I 0x08

/* Geneve (RFC 8926): version and option length (4-byte units), flags,
 * protocol type (an ethertype; 0x6558 Ethernet), VNI << 8 */
struct nacct_genevehdr {
	__u8 ver_optlen; /* version << 6 | option length */
	__u8 flags;
	__be16 proto;
	__be32 vni;
};

/* GRE (RFC 2784, 2890): C, R, K, S flags, version; protocol type; then a
 * checksum word (C), the key (K), the sequence number (S) */
struct nacct_grehdr {
	__be16 flags;
	__be16 proto;
};
#define NACCT_GRE_C 0x8000
#define NACCT_GRE_R 0x4000
#define NACCT_GRE_K 0x2000
#define NACCT_GRE_S 0x1000
#define NACCT_GRE_VER 0x0007

/* one MPLS label stack entry: label << 12 | TC << 9 | S << 8 | TTL */
struct nacct_mplshdr {
	__be32 entry;
};
#define NACCT_MPLS_S 0x100

#endif /* NACCT_HDR_H */
