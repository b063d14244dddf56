/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Names and text forms of the values nacct's records hold. */
#ifndef NACCT_NAMES_H
#define NACCT_NAMES_H

#include <stddef.h>
#include <linux/types.h>

struct btf;

/* "tcp", "udp", ... or the number */
const char *nacct_proto_name(__u8 proto, char *buf, size_t len);
/* RFC 3339 UTC with milliseconds; "" for 0 */
const char *nacct_rfc3339(__u64 wall_ns, char *buf, size_t len);
/* "FSRPAUEC" letters of the flags that are set */
const char *nacct_tcp_flags_str(__u8 flags, char *buf, size_t len);
/* ESTABLISHED, SYN_SENT, ... ("" for 0) */
const char *nacct_tcp_state_name(int state);
/* names from the running kernel's BTF ("NO_SOCKET"); the number when unknown */
/* 1: skb:kfree_skb carries a reason (5.17+: enum skb_drop_reason in the kernel BTF) */
int nacct_kernel_has_drop_reasons(void);
/* a drop reason's name ("none" on a kernel without reasons) */
const char *nacct_drop_reason_name(__u32 reason, char *buf, size_t len);
const char *nacct_rst_reason_name(__u32 reason, char *buf, size_t len);
/* "arp", "lldp", ... or 0xNNNN */
const char *nacct_ethertype_name(__u32 et, char *buf, size_t len);
/* XDP mode of struct nacct_meta: native, generic, offload, none */
const char *nacct_mode_str(__u32 mode);
/* CLOCK_MONOTONIC ns (what the data path stamps) -> wall clock ns; 0 stays 0 */
__u64 nacct_mono_to_wall(__u64 mono_ns);
/* an address of a key's family (IPv4 v4-mapped in 16 bytes) */
const char *nacct_addr_str(const __u8 *addr, __u8 family, char *buf, size_t len);
/* the running kernel's BTF, loaded once (NULL: none) */
struct btf *nacct_vmlinux_btf(void);

#endif /* NACCT_NAMES_H */
