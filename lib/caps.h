/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * What an interface's driver can do with XDP (nacct caps), and what
 * `--mode auto` makes of it.
 */
#ifndef NACCT_CAPS_H
#define NACCT_CAPS_H

#include <stddef.h>
#include <linux/types.h>

/*
 * The kernel's xdp-features bits (uapi linux/netdev.h, kernel >= 6.3).
 * Debian 12's linux-libc-dev (6.1) has no linux/netdev.h: the values are
 * uapi, so they are spelled out here under our own names.
 */
enum {
	NACCT_XDP_ACT_BASIC = 1 << 0,        /* XDP_PASS/DROP/TX/ABORTED */
	NACCT_XDP_ACT_REDIRECT = 1 << 1,     /* XDP_REDIRECT */
	NACCT_XDP_ACT_NDO_XMIT = 1 << 2,     /* redirect target (ndo_xdp_xmit) */
	NACCT_XDP_ACT_XSK_ZEROCOPY = 1 << 3, /* AF_XDP zero-copy */
	NACCT_XDP_ACT_HW_OFFLOAD = 1 << 4,   /* programs run on the NIC */
	NACCT_XDP_ACT_RX_SG = 1 << 5,        /* multi-buffer frames on RX */
	NACCT_XDP_ACT_NDO_XMIT_SG = 1 << 6,  /* multi-buffer frames via ndo_xdp_xmit */
};

enum nacct_caps_src {
	NACCT_CAPS_UNKNOWN = 0, /* kernel < 6.3: no xdp-features */
	NACCT_CAPS_LIBBPF,      /* bpf_xdp_query() feature_flags (libbpf >= 1.2) */
	NACCT_CAPS_GENL,        /* the "netdev" generic netlink family */
};

struct nacct_caps {
	char driver[32];
	enum nacct_caps_src src;
	__u64 xdp_features;   /* valid when src != NACCT_CAPS_UNKNOWN */
	int features_err;     /* why src is UNKNOWN: -ENOENT = no netdev family (< 6.3) */
	__u32 zc_max_segs;    /* AF_XDP zero-copy max segments (6.6+; 0: unknown) */
	int offload;          /* device-bound program load: 1 accepted, 0 refused, -1 unknown */
	char offload_why[96]; /* what the probe saw */
	__u32 attached_mode;  /* XDP_ATTACHED_* now on the interface */
	__u32 attached_id;
};

/*
 * fill *c for ifindex (with probe_offload: also try a device-bound load);
 * 0, or a negative errno (the interface is gone)
 */
int nacct_caps_query(int ifindex, const char *ifname, struct nacct_caps *c, int probe_offload);
/* the mode --mode auto would choose (NACCT_MODE_NATIVE or _GENERIC) and why */
__u32 nacct_caps_auto(const struct nacct_caps *c, char *why, size_t len);
/* 1: the kernel allows a program bound to this device (hardware offload) */
int nacct_caps_probe_offload(int ifindex, char *why, size_t len);

#endif /* NACCT_CAPS_H */
