/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Every pin nacct makes, named once.  Maps are pinned by libbpf under
 * their C names (LIBBPF_PIN_BY_NAME in maps/maps.bpf.h and
 * probes/nacct_probes.bpf.c): the map names below are those names, as
 * user space opens them.  Programs and links are pinned by nacct.
 *
 *   NACCT_PIN_ROOT/IFACE[:nsINODE]/   one attachment (maps/maps.c names it)
 *   NACCT_PIN_ROOT/:tmp:NAME-PID/     an attachment or set being built
 *   NACCT_PIN_ROOT/:probes/           the side programs, one set per host
 *   NACCT_PIN_ROOT/:txq/              the TX queue program, one per host
 *   NACCT_PIN_ROOT/:domain:NAME[:nsINODE]/  a shared domain's maps and
 *                                     programs (lib/attach.c); each member's
 *                                     IFACE/ pins the same maps again, with
 *                                     a nacct_meta of its own
 */
#ifndef NACCT_PINS_H
#define NACCT_PINS_H

#define NACCT_PIN_ROOT "/sys/fs/bpf/nacct"
#define NACCT_PIN_TMP ":tmp:"        /* prefix of a directory being built */
#define NACCT_PROBES_PIN ":probes"   /* the side programs' directory */
#define NACCT_TXQ_PIN ":txq"         /* the TX queue program's directory (lib/txq.c) */
#define NACCT_DOMAIN_PIN ":domain:"  /* prefix of a shared domain's directory */
#define NACCT_TXQ_LINK "link_nacct_txq"
#define NACCT_MAP_TXQ_IFS "nacct_txq_ifs"

/* an attachment's maps (the data path's, maps/maps.bpf.h) */
#define NACCT_MAP_FLOWS "nacct_flows"
#define NACCT_MAP_STATS "nacct_stats"
#define NACCT_MAP_SUBNETS "nacct_subnets"
#define NACCT_MAP_SUBNET_STATS "nacct_subnet_stats"
#define NACCT_MAP_ETHERTYPES "nacct_ethertypes"
#define NACCT_MAP_FRAGS "nacct_frags"
#define NACCT_MAP_TUNNELS "nacct_tunnels"
#define NACCT_MAP_TUN_SEQ "nacct_tun_seq"
#define NACCT_MAP_IF_SLOTS "nacct_if_slots"  /* a shared domain's members */
#define NACCT_MAP_HOST_FLOWS "nacct_host_flows" /* its host view (--dedup) */
#define NACCT_MAP_HOST_IFS "nacct_host_ifs"
#define NACCT_MAP_QUEUES "nacct_queues"      /* maps/queues.bpf.h */
#define NACCT_MAP_CFG "nacct_cfg"
#define NACCT_MAP_META "nacct_meta"
#define NACCT_MAP_SAMPLES "nacct_samples"
#define NACCT_MAP_XSKS "nacct_xsks"          /* xdp/nacct_xdp.bpf.c: tap mode */
#define NACCT_MAP_HW_STATS "nacct_hw_stats"  /* xdp/nacct_offload.bpf.c */
/* ... and the exporter's state (ctl/export.c) */
#define NACCT_MAP_EXPORT "nacct_export"            /* IPFIX's (or JSON's alone) */
#define NACCT_MAP_EXPORT_JSON "nacct_export_json"  /* JSON's beside IPFIX */
#define NACCT_MAP_EXPORT_CH "nacct_export_ch"      /* ClickHouse's */
#define NACCT_MAP_EXPORT_JRNL "nacct_export_jrnl"
#define NACCT_MAP_EXPORT_PEND "nacct_export_pend"
/* (now kept by lib/exporter_bpf.c; nacct_export_jrnl is the previous
 * build's journal, converted on start.)  What the exporter has taken out
 * of the flow map, struct nacct_export_expired (lib/exporter.h): status
 * and serve add it back, nacct_expired_read() */
#define NACCT_MAP_EXPORT_EXPIRED "nacct_export_expired"

/* an attachment's programs and link */
#define NACCT_PIN_PROG_XDP "prog_xdp"
#define NACCT_PIN_PROG_TC_EGRESS "prog_tc_egress"
#define NACCT_PIN_PROG_TC_INGRESS "prog_tc_ingress"
#define NACCT_PIN_LINK_XDP "link_xdp"

/* the side programs' maps (probes/nacct_probes.bpf.c) */
#define NACCT_MAP_TCP "nacct_tcp"
#define NACCT_MAP_TCP_DROPS "nacct_tcp_drops"
#define NACCT_MAP_DROP_REASONS "nacct_drop_reasons"
#define NACCT_MAP_PROBE_STATS "nacct_probe_stats"
#define NACCT_MAP_PROBE_META "nacct_probe_meta"
#define NACCT_MAP_EV_READERS "nacct_ev_readers"
#define NACCT_MAP_EV_RINGS "nacct_ev_rings"
#define NACCT_MAP_DROP_SITES "nacct_drop_sites"
#define NACCT_MAP_DROP_CONSUMED "nacct_drop_consumed"
/* each side program's link: NACCT_PIN_LINK_PREFIX + the program's name
 * (its tracepoint program, or the kprobe twin chosen in its place) */
#define NACCT_PIN_LINK_PREFIX "link_"

#endif /* NACCT_PINS_H */
