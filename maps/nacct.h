/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * nacct — the shared contract between the BPF programs and user space.
 *
 * Every key, value and event struct lives here, with fixed-width types
 * and explicit padding only, so that BPF and user space agree byte for
 * byte.  Keys are always zeroed before they are filled: one stray padding
 * byte would make two keys for one flow.
 *
 * Flow key choice (documented in README "Flow key"):
 *   The key is canonical and direction-free.  Of the two endpoints
 *   (address, port) the one that compares lower (address bytes first,
 *   then port, both in network byte order) is stored as "lo", the other
 *   as "hi".  A packet a->b and its reply b->a therefore land in the same
 *   record, and a socket seen by a side program (local/remote address and
 *   port) maps to the very same key without knowing which side sent
 *   first.  IPv4 addresses are stored as IPv4-mapped IPv6 addresses
 *   (::ffff:a.b.c.d) so one key type serves both families.
 *   The record remembers which endpoint sent the first packet
 *   (first_dir) so that output can show src -> dst as initiator ->
 *   responder.
 */
#ifndef NACCT_H
#define NACCT_H

#ifdef __BPF__
/* BPF side: uapi types come from linux/types.h via the program */
#else
#include <linux/types.h>
#endif

/* ---- limits (each overridable at build time) ---------------------------- */
#ifndef NACCT_MAX_FLOWS_DEFAULT
#define NACCT_MAX_FLOWS_DEFAULT 262144
#endif
#ifndef NACCT_MAX_SUBNETS
#define NACCT_MAX_SUBNETS 131072 /* LPM entries; id 0 is "unmatched" */
#endif
#ifndef NACCT_MAX_ETHERTYPES
#define NACCT_MAX_ETHERTYPES 256
#endif
#ifndef NACCT_MAX_VLAN_DEPTH
#define NACCT_MAX_VLAN_DEPTH 2 /* 802.1Q / 802.1ad (QinQ) */
#endif
#ifndef NACCT_MAX_IPV6_EXT
#define NACCT_MAX_IPV6_EXT 8 /* bounded IPv6 extension-header walk */
#endif
#ifndef NACCT_FRAG_TRACK
#define NACCT_FRAG_TRACK 16384 /* IPv4/IPv6 fragment -> ports table */
#endif
#ifndef NACCT_MAX_TUNNELS
#define NACCT_MAX_TUNNELS 65536 /* tunnels (type, id, outer endpoints) */
#endif
#ifndef NACCT_MAX_MPLS
#define NACCT_MAX_MPLS 4 /* MPLS label stack walked to its bottom label */
#endif
#ifndef NACCT_TUN_PORTS
#define NACCT_TUN_PORTS 4 /* UDP ports per UDP tunnel type (--tunnel-ports) */
#endif

/* hook direction: index into every [2] counter array */
enum nacct_dir {
	NACCT_DIR_RX = 0, /* ingress: XDP, or TC ingress */
	NACCT_DIR_TX = 1, /* egress: TC egress */
	NACCT_DIR_MAX = 2,
};

/* key.family */
enum nacct_family {
	NACCT_AF_INET = 4,
	NACCT_AF_INET6 = 6,
};

/* key.flags */
enum nacct_key_flags {
	/* non-first fragment whose ports could not be recovered */
	NACCT_KEY_F_FRAG_NOPORTS = 1 << 0,
};

/*
 * Flow key, 48 bytes, no implicit padding.  lo/hi: see the top of file.
 * ICMP and ICMPv6 have no ports: both port fields hold the echo
 * identifier for echo request/reply (so a ping and its replies share a
 * flow), else the sender's port is (type << 8 | code) and the other 0
 * (so no other message reads as an echo: (id, id) never equals (t, 0)
 * but for an ICMPv6 type 0 code 0, which is reserved).
 *
 * tunnel: a decapsulated packet's flow is its inner 5-tuple, and its
 * tunnel (type, network id, outer endpoints: struct nacct_tun_key) is
 * part of the key through this handle, the value of the tunnel's entry in
 * nacct_tunnels: one tunnel, one handle, for as long as the entry lives
 * (the data path gives each new tunnel the next handle of its CPU:
 * never reused, never shared).  8 bytes of key instead of the tunnel's
 * 40 keep the hash and compare of every packet, tunnelled or not, in one
 * more word.  0: not tunnelled.  Handles are 32-bit (a CPU's sequence
 * number times the possible CPUs plus the CPU; past 2^32 a new tunnel
 * goes to the overflow bucket, counted as tunnel_overflow).
 *
 * ifindex: the interface the packet was counted on, in a shared domain's
 * flow table only (attach --domain / --all: one set of maps for many
 * interfaces, README "Many interfaces"); 0 in an attachment's own table,
 * whose interface is its meta's.  The side programs' keys have 0: readers
 * clear it (and vlan, tunnel) before they join (lib/side.c).
 */
struct nacct_flow_key {
	__u8 lo_addr[16];
	__u8 hi_addr[16];
	__be16 lo_port;
	__be16 hi_port;
	__u8 proto;  /* IPPROTO_* (L4 protocol after the extension headers) */
	__u8 family; /* NACCT_AF_INET / NACCT_AF_INET6 */
	__u16 vlan;  /* outermost VLAN id (0: untagged); host byte order */
	__u32 tunnel;  /* handle of the tunnel in nacct_tunnels; 0: none */
	__u32 ifindex; /* shared domain: the interface; else 0 */
} __attribute__((aligned(8)));

/* tunnel types (struct nacct_tun_key.type; README "Tunnels") */
enum nacct_tun_type {
	NACCT_TUN_NONE = 0,
	NACCT_TUN_VXLAN = 1,  /* UDP (4789, 8472), Ethernet inside; id: VNI */
	NACCT_TUN_GENEVE = 2, /* UDP 6081; Ethernet or IP inside; id: VNI */
	NACCT_TUN_GRE = 3,    /* IP protocol 47, IP inside; id: GRE key */
	NACCT_TUN_GRETAP = 4, /* GRE carrying Ethernet (0x6558); id: GRE key */
	NACCT_TUN_IPIP = 5,   /* IPv4 in IPv4 (protocol 4) */
	NACCT_TUN_SIT = 6,    /* IPv6 in IPv4 (protocol 41) */
	NACCT_TUN_IP6IP6 = 7, /* IPv6 in IPv6 (next header 41) */
	NACCT_TUN_IP4IN6 = 8, /* IPv4 in IPv6 (next header 4) */
	NACCT_TUN_MPLS = 9,   /* MPLS unicast (0x8847); id: top label; no outer IP */
	NACCT_TUN_MAX,
};

/*
 * A tunnel: key of nacct_tunnels.  The outer endpoints are canonical like
 * a flow key's (the lower address first; IPv4 mapped), so both directions
 * of a tunnel are one entry; MPLS has none (zeros).
 */
struct nacct_tun_key {
	__u8 outer_lo[16];
	__u8 outer_hi[16];
	__u32 id;     /* VNI, GRE key, top MPLS label; 0 when the tunnel has none */
	__u8 type;    /* enum nacct_tun_type */
	__u8 family;  /* of the outer header; 0 for MPLS */
	__u16 pad;
};

/* value of nacct_tunnels (shared hash) */
struct nacct_tun_val {
	__u64 handle;     /* the flow keys' tunnel field */
	__u64 first_seen; /* CLOCK_MONOTONIC ns */
};

/*
 * Flow value: one per possible CPU (NACCT_FLOW_PERCPU) or one shared by
 * every CPU (NACCT_FLOW_SHARED, atomic adds); see enum nacct_flow_layout.
 * A lookup of a key returns nacct_flow_copies() values (maps/maps.h).
 * User space merges them (nacct_flow_merge(), any number): sums
 * packets/bytes, takes the minimum non-zero first_seen and the maximum
 * last_seen, ORs the TCP flags.  A CPU slot whose first_seen is 0 has not
 * seen the flow yet.
 */
struct nacct_flow_val {
	__u64 packets[NACCT_DIR_MAX]; /* by hook direction */
	__u64 bytes[NACCT_DIR_MAX];   /* frame length incl. Ethernet header */
	__u64 first_seen;             /* CLOCK_MONOTONIC ns, precise */
	/* last_seen: CLOCK_MONOTONIC ns, coarse (jiffy: read once per jiffy,
	 * not per packet); may lag first_seen by up to a jiffy in one slot */
	__u64 last_seen;
	__u8 tcp_flags[NACCT_DIR_MAX]; /* OR of TCP flags seen */
	__u8 first_dir;  /* 0: first packet went lo->hi, 1: hi->lo */
	__u8 seen_dirs;  /* bit 0: lo->hi seen, bit 1: hi->lo seen */
	__u32 subnet_lo; /* subnet id of lo_addr (cached per CPU slot) */
	__u32 subnet_hi; /* subnet id of hi_addr */
	__u8 syn_dir;    /* a TCP SYN (no ACK) seen: 1 lo->hi, 2 hi->lo; 0 none */
	/* tunnelled flows: 1 + the tunnel's outer endpoint (outer_lo 0,
	 * outer_hi 1) that lo_addr's packets go through (hi_addr's: the
	 * other), so that outer_src goes with src; 0 none */
	__u8 outer_dir;
	/* an undecoded payload inside a tunnel (counted on the outer flow):
	 * its ethertype (ARP in VXLAN: 0x0806); 0 none */
	__u16 inner_type;
};

/*
 * Subnet LPM key.  One trie serves both families: the first data byte is
 * the family, so prefixlen = 8 + the CIDR's prefix length.  IPv4 networks
 * use the first 4 address bytes.
 */
struct nacct_subnet_key {
	__u32 prefixlen;
	__u8 family;
	__u8 addr[16];
	__u8 pad[3];
};

/* value of the LPM trie: index into nacct_subnet_stats */
struct nacct_subnet_val {
	__u32 id; /* 1 .. NACCT_MAX_SUBNETS */
	__u32 pad;
};

/*
 * Per-subnet counters, per CPU, indexed by subnet id (0 = no subnet
 * matched).  A received packet is counted against the subnet of its
 * source address, a sent packet against the subnet of its destination:
 * "rx" is traffic from the subnet, "tx" traffic to it.  Every IP packet
 * that is accounted to a flow or to overflow lands in exactly one id.
 */
struct nacct_subnet_stats {
	__u64 packets[NACCT_DIR_MAX];
	__u64 bytes[NACCT_DIR_MAX];
};

/* reasons a packet is counted as malformed */
enum nacct_malformed {
	NACCT_MAL_ETH = 0,    /* shorter than an Ethernet header */
	NACCT_MAL_VLAN,       /* truncated VLAN tag, or deeper than supported */
	NACCT_MAL_IP4_HDR,    /* truncated IPv4 header, IHL < 5, bad version */
	NACCT_MAL_IP4_LEN,    /* total length < IHL*4 or beyond the frame */
	NACCT_MAL_IP6_HDR,    /* truncated IPv6 header or bad version */
	NACCT_MAL_IP6_EXT,    /* truncated extension header, or chain too long */
	NACCT_MAL_L4,         /* truncated TCP/UDP/ICMP/SCTP header, bad doff */
	NACCT_MAL_TUN_HDR,    /* truncated or inconsistent tunnel header */
	NACCT_MAL_INNER,      /* the inner header fails the checks of an outer one */
	NACCT_MAL_MAX,
};

/*
 * Interface totals and the buckets that are not flows, per CPU, one
 * element (key 0).  packets[RX] and bytes[RX] are not counted here but in
 * the RX rows of nacct_queues, one add per packet (nacct_read_totals sums
 * them in).  Conservation:
 *   packets[d] = sum(flows.packets[d]) + overflow_packets[d]
 *                + malformed_packets[d] + nonip_packets[d]
 * and the same for bytes.
 */
struct nacct_stats {
	__u64 packets[NACCT_DIR_MAX];
	__u64 bytes[NACCT_DIR_MAX];
	__u64 overflow_packets[NACCT_DIR_MAX]; /* flow map full */
	__u64 overflow_bytes[NACCT_DIR_MAX];
	__u64 malformed_packets[NACCT_DIR_MAX];
	__u64 malformed_bytes[NACCT_DIR_MAX];
	__u64 nonip_packets[NACCT_DIR_MAX]; /* by ethertype in nacct_ethertypes */
	__u64 nonip_bytes[NACCT_DIR_MAX];
	__u64 frag_packets[NACCT_DIR_MAX];  /* IP fragments (also in flows) */
	__u64 frag_noports[NACCT_DIR_MAX];  /* non-first fragments, ports unknown */
	__u64 gso_skbs[NACCT_DIR_MAX];      /* TC: GSO skbs split into wire packets */
	__u64 flow_insert_err; /* insert failed for another reason than full */
	__u64 sample_drops;    /* ring buffer full when sampling */
	__u64 samples;         /* packets copied to the sample ring buffer */
	__u64 malformed[NACCT_MAL_MAX];
	/* successful flow inserts; the exporter counts the flows it deletes,
	 * so status shows created - expired without scanning the flow map */
	__u64 flows_created;
	__u64 tunnel_packets[NACCT_DIR_MAX];   /* decapsulated: inner flow (also in flows) */
	__u64 tunnel_undecoded[NACCT_DIR_MAX]; /* tunnel with a payload not decoded: outer flow */
	__u64 tunnels_created;  /* new entries in nacct_tunnels */
	__u64 tunnel_overflow;  /* tunnel table full: packets to the overflow bucket */
	/* a shared domain's host view (--dedup): packets this interface saw
	 * that another member had counted already (same fingerprint within
	 * the window), so not counted again in the host view */
	__u64 dedup_merged;
};

/*
 * Per-queue counters (nacct_queues, `nacct queues`: netqtop's job), per
 * CPU, key dir * NACCT_QUEUE_ROWS + row: the row is the queue's number
 * below NACCT_QUEUES, and NACCT_QUEUE_OTHER holds every higher queue and
 * (TC ingress) the skbs whose driver recorded no RX queue.  RX rows come
 * from the data path (XDP's rx_queue_index, the skb at TC ingress), every
 * packet the interface totals count; TX rows from the queue the stack
 * picked (tc/nacct_txq.bpf.c: TC egress runs before the pick).  Sizes by
 * netqtop's buckets, of each wire packet (a GSO skb's average).
 */
#define NACCT_QUEUES 64
#define NACCT_QUEUE_OTHER NACCT_QUEUES
#define NACCT_QUEUE_ROWS (NACCT_QUEUES + 1)
#define NACCT_QUEUE_KEYS (NACCT_DIR_MAX * NACCT_QUEUE_ROWS)
#define NACCT_QSIZES 5 /* bytes: 0-64, 65-512, 513-2K, 2K+1-16K, more */

/* the host's TX queue program (tc/nacct_txq.bpf.c): an attached device,
 * key of nacct_txq_ifs, whose value is the attachment's nacct_queues */
struct nacct_txq_if {
	__u32 netns;   /* inode of the device's network namespace */
	__u32 ifindex;
};
#define NACCT_TXQ_IFS 4096 /* attached devices per host */

struct nacct_queue_val {
	__u64 packets;
	__u64 bytes;
	__u64 sizes[NACCT_QSIZES]; /* packets by size bucket */
};

/* non-IP traffic by ethertype (host byte order), per CPU */
struct nacct_ethertype_val {
	__u64 packets[NACCT_DIR_MAX];
	__u64 bytes[NACCT_DIR_MAX];
};

/*
 * Run-time configuration, one element (key 0), written by user space at
 * attach and by `nacct capture`; read by the data path on every packet.
 */
struct nacct_cfg {
	__u32 sample_n;   /* 0: sampling off; N: 1 in N packets; 1: every packet */
	__u32 snaplen;    /* bytes copied per sample (<= NACCT_SNAPLEN_MAX) */
	__u32 tap;        /* tap mode: redirect samples to XSKMAP, drop the rest */
	__u32 pad;
};

#ifndef NACCT_SNAPLEN_MAX
#define NACCT_SNAPLEN_MAX 1536
#endif

/* sample record in the nacct_samples ring buffer: header + caplen bytes */
struct nacct_sample_hdr {
	__u64 ts;       /* bpf_ktime_get_ns(): CLOCK_MONOTONIC ns */
	__u32 ifindex;
	__u32 len;      /* original frame length */
	__u32 caplen;   /* bytes that follow */
	__u8 dir;       /* NACCT_DIR_RX / NACCT_DIR_TX */
	__u8 pad[3];
};

/* state of an attachment, kept in the pinned nacct_meta map (key 0) */
enum nacct_hook {
	NACCT_HOOK_XDP = 1, /* XDP ingress + TC egress (default) */
	NACCT_HOOK_TC = 2,  /* TC ingress + TC egress */
};

enum nacct_xdp_mode {
	NACCT_MODE_NONE = 0,
	NACCT_MODE_NATIVE = 1,
	NACCT_MODE_GENERIC = 2,
	NACCT_MODE_OFFLOAD = 3,
};

/*
 * The flow table's layout (nacct_meta.flow_layout; README "Flow table
 * layout"), chosen at attach (--flow-layout):
 *   NACCT_FLOW_PERCPU  BPF_MAP_TYPE_PERCPU_HASH: a struct nacct_flow_val
 *                      per possible CPU, plain adds; memory per flow grows
 *                      with the number of possible CPUs
 *   NACCT_FLOW_SHARED  BPF_MAP_TYPE_HASH: one value for every CPU; counters
 *                      by atomic adds, TCP flags and directions by a 64-bit
 *                      atomic OR (BPF atomics beyond add: kernel 5.12+; an
 *                      older verifier refuses the program at attach)
 * 0 is per-CPU: what attachments made before the field existed have.
 */
enum nacct_flow_layout {
	NACCT_FLOW_PERCPU = 0,
	NACCT_FLOW_SHARED = 1,
};

#define NACCT_META_REASON_LEN 120
#define NACCT_DOMAIN_NAME_LEN 32

/*
 * A shared domain (README "Many interfaces"): one set of programs and
 * maps for many interfaces of one network namespace.  The per-interface
 * rows live in the shared maps, a slot each: nacct_stats element SLOT,
 * nacct_queues rows SLOT * NACCT_DOMAIN_QKEYS + dir * NACCT_DOMAIN_QROWS
 * + queue (queues below NACCT_DOMAIN_QUEUES; the last row every higher
 * one).  nacct_if_slots maps an ifindex to its slot; slot 0 takes what
 * arrives on an interface that is not (or no longer) a member.
 */
#define NACCT_DOMAIN_QUEUES 8
#define NACCT_DOMAIN_QROWS (NACCT_DOMAIN_QUEUES + 1)
#define NACCT_DOMAIN_QKEYS (NACCT_DIR_MAX * NACCT_DOMAIN_QROWS)
#define NACCT_DOMAIN_MAX_IFACES_DEFAULT 512

/*
 * The host view of a domain with --dedup (maps/account.bpf.h
 * nacct_host_add()): every packet once, whichever members saw it.
 *   nacct_dedup_seen  LRU: fingerprint hash -> struct nacct_dedup_val, the
 *                     packets of the last NACCT_DEDUP_WINDOW_NS
 *   nacct_host_flows  flow key (ifindex 0) -> struct nacct_flow_val, the
 *                     flow table's shape, counted at a packet's first
 *                     sighting (its hook's direction: rx entered the host
 *                     there, tx left from it)
 *   nacct_host_ifs    flow key (ifindex 0) -> struct nacct_host_if_val
 * A sighting is the same packet as one before when the fingerprint (the
 * flow key but VLAN and interface, the packet's direction in it, pkt->fp)
 * was seen less than the window ago on other members only.  Members are
 * bits slot % 64.
 */
#define NACCT_DEDUP_WINDOW_NS 2000000ULL
#define NACCT_DEDUP_ENTRIES 65536
struct nacct_dedup_val {
	__u64 ts;   /* the first sighting, bpf_ktime_get_ns() */
	__u64 seen; /* bit slot % 64 of each member that saw it */
};
struct nacct_host_if_val {
	__u64 seen;          /* members whose hooks saw the flow's packets */
	__u32 first_ifindex; /* where its first packet was seen */
	__u32 pad;
};

struct nacct_meta {
	__u32 version;     /* NACCT_META_VERSION */
	__u32 ifindex;
	__u32 hook;        /* enum nacct_hook */
	__u32 xdp_mode;    /* enum nacct_xdp_mode */
	__u32 max_flows;
	__u32 tc_prio;     /* our cls_bpf filters: this priority, handle 1 */
	__u32 tc_qdisc_created; /* we created clsact and remove it at detach */
	__u32 flow_layout;      /* enum nacct_flow_layout (was padding: 0, per-CPU) */
	__u64 attached_at; /* wall clock, ns since the epoch */
	char ifname[16];
	char reason[NACCT_META_REASON_LEN]; /* why this mode was chosen */
	/* tunnels (--decap, --tunnel-ports): as the data path was loaded */
	__u32 decap;                            /* 0: outer headers only */
	__u16 vxlan_ports[NACCT_TUN_PORTS];     /* host order; 0: unused */
	__u16 geneve_ports[NACCT_TUN_PORTS];
	__u32 txq_on; /* the TX queue counter is attached (was padding: 0, none) */
	/* a shared domain's member (attach --domain / --all): its slot in
	 * the domain's per-interface rows (nacct_stats, nacct_queues), 1 ..
	 * max_ifaces - 1; 0: the attachment has maps of its own */
	__u32 slot;
	__u32 max_ifaces; /* the domain's slots (member or not: 0 when own maps) */
	char domain[NACCT_DOMAIN_NAME_LEN]; /* the domain's name ("" own maps) */
	__u32 dedup; /* the domain keeps a host view (--dedup) */
	__u32 pad2;
};

/* 2: 48-byte flow keys (tunnel handle), tunnels, decap settings
 * 3: the RX totals are the RX rows of nacct_queues (nacct_stats' RX
 *    packets and bytes stay 0 in the map) */
#define NACCT_META_VERSION 4 /* 4: 32-bit tunnel handle + ifindex in the key; domains */

/* ==== hardware offload (xdp/nacct_offload.bpf.c, ctl/offload.c) ==========
 *
 * An offloaded program runs on the NIC and may use only maps the device
 * holds: no per-CPU maps, no ring buffer, no LPM, ARRAY/HASH only, and as
 * few entries as the device allows (netdevsim: 2; nfp: thousands).  So the
 * offload variant keeps interface totals only, in one ARRAY of
 * NACCT_HW_SLOTS counters pinned as nacct_hw_stats: [NACCT_HW_ALL] every
 * received frame, [NACCT_HW_NONIP] the frames among them that carry no
 * IPv4/IPv6 header (or too short a one).  Counters are shared by all RX
 * queues: the program adds atomically.
 */
enum nacct_hw_slot {
	NACCT_HW_ALL = 0,
	NACCT_HW_NONIP = 1,
	NACCT_HW_SLOTS = 2,
};

struct nacct_hw_counter {
	__u64 packets;
	__u64 bytes; /* frame length incl. Ethernet header */
};

/* ==== TCP side events (probes/nacct_probes.bpf.c, ctl/probes.c) ==========
 *
 * Side programs on the kernel's own tracepoints (kfree_skb,
 * tcp_retransmit_skb, inet_sock_set_state, tcp_probe, tcp_*_reset) keep
 * their records in global maps pinned under NACCT_PIN_ROOT/:probes
 * (one set for the whole host: tracepoints see every netns).  Records are
 * keyed by struct nacct_flow_key built exactly like the data path's (the
 * same parser, maps/parse.h, and key builder, maps/key.h), with vlan = 0,
 * so `nacct flows` joins them onto its flows ignoring the VLAN, plus the
 * netns inode (struct nacct_side_key, below).
 * Per-endpoint arrays [2] are indexed by the key's endpoint the socket is
 * on: 0 = lo, 1 = hi (both sockets of a local connection fill one record).
 */
#ifndef NACCT_TCP_MAX
#define NACCT_TCP_MAX 65536 /* flow side records (LRU: the oldest go first) */
#endif
#ifndef NACCT_SOCK_MAX
#define NACCT_SOCK_MAX 65536 /* live sockets tracked for lifespans */
#endif
#ifndef NACCT_DROP_REASONS
#define NACCT_DROP_REASONS 512 /* reason values >= this land in the last slot */
#endif

/* value of nacct_tcp (shared LRU hash, atomic adds) */
struct nacct_tcp_val {
	__u64 first_ns;      /* session start: record created / new session (CLOCK_MONOTONIC) */
	__u64 end_ns;        /* session end: last CLOSE seen, 0 while open */
	__u64 drops;         /* packets of this flow freed with a drop reason */
	__u64 retrans[2];    /* segments retransmitted by the socket on endpoint lo / hi */
	__u64 connect_ns[2]; /* SYN_SENT -> ESTABLISHED of the socket on that endpoint */
	__u32 srtt_us[2];    /* last smoothed RTT of that socket, microseconds */
	__u32 pid[2];        /* owner (tgid) where the context had it, 0 unknown */
	__u32 last_reason;   /* enum skb_drop_reason of the last drop */
	__u8 state[2];       /* last TCP state (TCP_ESTABLISHED = 1 ...), 0 = no socket */
	__u8 pad[2];
	char comm[2][16];
};

/* per-flow drops by reason: nacct_tcp_drops (LRU hash) -> __u64 count */
struct nacct_drop_key {
	struct nacct_flow_key flow; /* vlan = 0 */
	__u32 reason;               /* enum skb_drop_reason of the running kernel */
	__u32 pad;
};

enum nacct_ev_type {
	NACCT_EV_DROP = 1,    /* skb:kfree_skb with a reason */
	NACCT_EV_RETRANS = 2, /* tcp:tcp_retransmit_skb */
	NACCT_EV_STATE = 3,   /* sock:inet_sock_set_state */
	NACCT_EV_LIFE = 4,    /* a socket reached CLOSE: its lifespan (tcplife) */
	NACCT_EV_CONNECT = 5, /* SYN_SENT -> ESTABLISHED (tcpconnlat) */
	NACCT_EV_ACCEPT = 6,  /* accept() returned a TCP socket (tcpaccept) */
	NACCT_EV_LISTEN = 7,  /* -> LISTEN (solisten), with the backlog */
	NACCT_EV_RST_RX = 8,  /* tcp:tcp_receive_reset */
	NACCT_EV_RST_TX = 9,  /* tcp:tcp_send_reset */
	NACCT_EV_MAX,
};

/*
 * One side event in the nacct_events ring buffer.  Addresses are
 * v4-mapped for IPv4; saddr/sport is the socket's local end (drops: the
 * packet's source).  No kernel addresses are ever copied out.
 */
struct nacct_probe_event {
	__u64 ts;       /* bpf_ktime_get_ns() */
	__u64 dur_ns;   /* STATE: time in oldstate; LIFE: lifespan; CONNECT/ACCEPT: handshake
			 * latency (ACCEPT: 0 when not seen: before the programs, or TFO) */
	__u64 rx_bytes; /* LIFE: bytes received (payload); RETRANS: segments */
	__u64 tx_bytes; /* LIFE: bytes acked (payload) */
	__u8 saddr[16];
	__u8 daddr[16];
	__be16 sport;
	__be16 dport;
	__u32 pid;      /* 0: not known in this context */
	__u32 ifindex;  /* device of the skb / socket, 0 unknown */
	__u32 netns;    /* network namespace inode */
	__u32 reason;   /* DROP: skb_drop_reason; RST_TX: sk_rst_reason */
	__u32 srtt_us;
	__u32 rx_segs;  /* LIFE: segments in */
	__u32 tx_segs;  /* LIFE: segments out */
	__u16 type;     /* enum nacct_ev_type */
	__u8 family;    /* NACCT_AF_INET / NACCT_AF_INET6 */
	__u8 proto;
	__u8 oldstate;
	__u8 newstate;
	__u8 pad[6];
	char comm[16];
	__u32 backlog;  /* LISTEN: sk_max_ack_backlog, listen()'s argument capped at somaxconn */
	__u64 location; /* DROP: the freeing call site; user space prints its symbol only */
};

/* counters of the side programs: nacct_probe_stats, per CPU, key 0 */
struct nacct_probe_stats {
	__u64 events;       /* records written to nacct_events */
	__u64 events_lost;  /* ring buffer full */
	__u64 drops;        /* kfree_skb calls with a drop reason */
	__u64 drops_noflow; /* ... whose packet gave no flow key (non-IP, truncated) */
	__u64 retrans;      /* retransmitted segments */
	__u64 state_changes;
	__u64 rtt_updates;
	__u64 resets_rx;
	__u64 resets_tx;
	__u64 map_errors;   /* a record could not be inserted */
	__u64 frees_consumed; /* kfree_skb of a packet the kernel had processed: not a drop */
};

/* nacct_probe_cfg (array, key 0): written by `nacct events` (up to NACCT_EV_READERS) */
struct nacct_probe_cfg {
	__u32 events_on; /* bit 1 << enum nacct_ev_type per kind sent; 0: aggregate only */
	__u32 pad;
};

/*
 * Concurrent `nacct events` readers: each owns a slot with its own ring
 * buffer (nacct_ev_rings, array of ring buffers) and its own mask
 * (nacct_ev_readers[slot]); an event goes to every slot that wants it.
 */
#ifndef NACCT_EV_READERS
#define NACCT_EV_READERS 8
#endif
#define NACCT_EV_RING_SIZE (1 << 20) /* bytes per reader */
struct nacct_ev_reader {
	__u32 mask;    /* bit 1 << enum nacct_ev_type; 0: slot free */
	__u32 pid;     /* the reader; a dead pid frees the slot */
	/* the reader's filters, applied before its ring (0: any) */
	__u32 netns;   /* IFACE: its netns inode ... */
	__u32 ifindex; /* ... and ifindex (events without a device pass) */
	__u32 fpid;    /* -p */
	__be16 lport;  /* -L: the socket's local port; drops: the packet's dport */
	__be16 rport;  /* -D */
	__u64 lost;    /* events for this reader lost: its ring was full */
};

/*
 * Frees that are no drops (see probes/nacct_probes.bpf.c): call-site
 * ranges [start, end) in nacct_drop_consumed, filled from /proc/kallsyms
 * at attach; kernel addresses never leave the kernel and nacct.  Per-site
 * counts of every drop: nacct_drop_sites.
 */
#define NACCT_CONSUMED_SITES 4
enum nacct_site_kind {
	NACCT_SITE_PROCESSED = 1, /* its NOT_SPECIFIED frees: packets it processed */
	NACCT_SITE_MEMBERS = 2,   /* every free: members of an skb being freed */
};
struct nacct_site_range {
	__u64 start;
	__u64 end;
	__u32 kind; /* enum nacct_site_kind */
	__u32 pad;
};
struct nacct_site_key {
	__u64 location;
	__u32 reason;
	__u32 pad;
};

/*
 * The side records are per network namespace (ABI 4): two namespaces
 * using the same addresses and ports keep separate records.  nacct_tcp is
 * keyed by struct nacct_side_key (the socket's netns), nacct_tcp_drops by
 * struct nacct_side_drop_key (the netns of the skb's device, else of its
 * socket) -> struct nacct_side_drop_val.  Readers join with their own
 * netns inode (stat("/proc/self/ns/net").st_ino == ns.inum) and ignore
 * records created before the attachment they read (nacct_meta.attached_at).
 */
struct nacct_side_key {
	struct nacct_flow_key flow; /* vlan = 0 */
	__u32 netns;                /* network namespace inode */
	__u32 pad;
};
struct nacct_side_drop_key {
	struct nacct_flow_key flow; /* vlan = 0 */
	__u32 netns;
	__u32 reason; /* enum skb_drop_reason of the running kernel */
};
struct nacct_side_drop_val {
	__u64 count;
	__u64 first_ns; /* record created (bpf_ktime_get_ns, CLOCK_MONOTONIC) */
};

/*
 * nacct_probe_meta (array, key 0): the layout of the pinned set, written
 * at load; `nacct attach` replaces a set whose record differs.
 */
/* 5: drops keyed by the data path's parser (all eight IPv6 extension
 * header kinds, UDP-Lite ports): a set of 4 keys some drops differently;
 * 6: 48-byte flow keys (the tunnel word, 0 in side records);
 * 7: accept events at accept() return with the accepting process, listen
 * events with the backlog (same event size, new meaning);
 * 8: a frag_list member's free is no drop (its skb's free is the one),
 * the site ranges carry their kind; the retransmit twin also watches
 * tcp_send_loss_probe */
#define NACCT_PROBES_ABI 8
struct nacct_probe_meta {
	__u32 abi;        /* NACCT_PROBES_ABI */
	__u32 event_size; /* sizeof(struct nacct_probe_event) */
	__u32 tcp_val_size;
	__u32 stats_size;
};

/* ---- transient tools: softirqs, rtt, backlog ------------------------------
 * Structs of the commands that load their own programs for the duration of
 * the run (probes/nacct_softirqs.bpf.c, nacct_rtt.bpf.c, nacct_backlog.bpf.c):
 * never pinned, so no ABI number; the maps are read only by the process that
 * loaded them.
 */

/* log2 histogram slots: slot 0 holds the value 0, slot i >= 1 the values
 * [2^(i-1), 2^i) (bcc's print_log2_hist buckets) */
#define NACCT_LOG2_SLOTS 32

/*
 * The softirq vectors in the kernel's order (enum in include/linux/interrupt.h,
 * the rows of /proc/softirqs): the one table of their names.  The BPF program
 * checks each index against the running kernel's enum at build time
 * (vmlinux.h: NAME_SOFTIRQ), so a renumbering breaks the build, not the output.
 *   X(NAME, name)
 */
#define NACCT_SOFTIRQ_VECTORS(X)                                                   \
	X(HI, "hi") X(TIMER, "timer") X(NET_TX, "net_tx") X(NET_RX, "net_rx")       \
	X(BLOCK, "block") X(IRQ_POLL, "irq_poll") X(TASKLET, "tasklet")           \
	X(SCHED, "sched") X(HRTIMER, "hrtimer") X(RCU, "rcu")
enum nacct_softirq_vec {
#define NACCT_X_SIRQ_ENUM(n, s) NACCT_SIRQ_##n,
	NACCT_SOFTIRQ_VECTORS(NACCT_X_SIRQ_ENUM)
#undef NACCT_X_SIRQ_ENUM
	NACCT_SIRQ_MAX,
};

/* nacct_sirq (per-CPU array, key = vector): cumulative since load */
struct nacct_sirq_val {
	__u64 count;   /* softirq_entry: as /proc/softirqs counts */
	__u64 time_ns; /* softirq_exit - softirq_entry, summed */
	__u64 hist[NACCT_LOG2_SLOTS]; /* log2 of each run's time in us */
};

/* nacct rtt --by: what the histograms are keyed by */
enum nacct_rtt_by {
	NACCT_RTT_BY_NONE = 0,
	NACCT_RTT_BY_RADDR,
	NACCT_RTT_BY_LADDR,
	NACCT_RTT_BY_RPORT,
	NACCT_RTT_BY_LPORT,
};

/* nacct_rtt_hist (per-CPU hash): one entry per key and generation; user
 * space flips the generation at each interval and reads the old one */
struct nacct_rtt_key {
	__u8 addr[16]; /* --by raddr|laddr (IPv4 mapped ::ffff:a.b.c.d), else 0 */
	__be16 port;   /* --by rport|lport, else 0 */
	__u8 family;   /* NACCT_AF_INET / NACCT_AF_INET6 with an address, else 0 */
	__u8 gen;      /* generation: 0 or 1 */
	__u32 pad;
};
struct nacct_rtt_val {
	__u64 count;
	__u64 sum;  /* in the unit of the run: us, or ms with -m */
	__u64 min;
	__u64 max;
	__u64 hist[NACCT_LOG2_SLOTS];
};

/*
 * nacct backlog (bcc tcpsynbl).  A listener is named by what its children
 * copy from it: family, bound address (IPv4 mapped ::ffff:a.b.c.d; the
 * wildcard stays 0) and port, in the network namespace nacct runs in.
 * nacct_backlog_hist (per-CPU hash): one entry per listener, limit and
 * generation; user space flips the generation at each interval.
 */
struct nacct_backlog_key {
	__u8 addr[16];
	__be16 port;
	__u8 family; /* NACCT_AF_INET / NACCT_AF_INET6: the listener's socket family */
	__u8 gen;    /* generation: 0 or 1 */
	__u32 limit; /* sk_max_ack_backlog: listen()'s backlog capped by somaxconn */
};
struct nacct_backlog_val {
	__u64 count; /* children created (handshakes completed into the queue) */
	__u64 max;   /* the longest accept queue a new child found */
	__u64 hist[NACCT_LOG2_SLOTS]; /* log2 of the accept queue a new child found */
};
/* nacct_backlog_reasons (hash): skbs the kernel freed with a drop reason
 * while a listener was the receiving socket (skb:kfree_skb's rx_sk) */
struct nacct_backlog_rkey {
	__u8 addr[16];
	__be16 port;
	__u8 family;
	__u8 gen;
	__u32 reason; /* enum skb_drop_reason */
};
/* nacct_backlog_owner (LRU hash, key = the listener's socket inode): the
 * process that called listen() (the tracepoint runs in that syscall) */
struct nacct_backlog_owner {
	__u32 pid;
	__u8 comm[16];
	__u32 pad;
};
/* one listener as the iterator (iter/tcp) writes it */
struct nacct_backlog_sock {
	__u8 addr[16];
	__be16 port;
	__u8 family;
	__u8 pad;
	__u32 queue; /* sk_ack_backlog: children waiting for accept() now */
	__u32 limit; /* sk_max_ack_backlog */
	__u32 pad2;
	__u64 drops; /* sk_drops: tcp_listendrop() adds one per listen drop */
	__u64 ino;   /* the socket inode (0: none) */
};

#endif /* NACCT_H */
