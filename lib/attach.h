/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Attach and detach (lib/attach.c): the library the commands call.  It
 * prints nothing: results come back in struct nacct_attach_info, failures
 * as a negative errno with the step that failed and what stood in the way.
 */
#ifndef NACCT_ATTACH_H
#define NACCT_ATTACH_H

#include <stddef.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/types.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "../maps/nacct.h"
#include "../maps/maps.h"

/* --mode, --hook */
enum nacct_mode_req { NACCT_M_AUTO = 0, NACCT_M_NATIVE, NACCT_M_GENERIC, NACCT_M_OFFLOAD };
enum nacct_hook_req { NACCT_H_XDP = 0, NACCT_H_TC };
/* --flow-layout: the default (0, so a zeroed request gets it), or one of the two */
enum nacct_layout_req { NACCT_L_DEFAULT = 0, NACCT_L_PERCPU, NACCT_L_SHARED };

/* --multi-buffer: the XDP program's variant (lib/attach.c want_frags()) */
enum nacct_mb_req { NACCT_MB_AUTO = 0, NACCT_MB_ON, NACCT_MB_OFF };

/* --side-programs: whether this attach loads the side programs (on: 0, the default) */
enum nacct_side_req { NACCT_SIDE_ON = 0, NACCT_SIDE_OFF };

/*
 * --multi: nacct's XDP program in libxdp's multi-program dispatcher
 * (lib/dispatcher.h) instead of a link of its own: what an attachment got
 * (nacct_attach_info.multi).  Without --multi nacct joins a dispatcher it
 * finds on the interface (auto).  An attachment in a dispatcher pins its
 * program but no XDP link of its own (libxdp holds the link).
 */
enum nacct_multi { NACCT_MULTI_NONE = 0, NACCT_MULTI_REQUESTED, NACCT_MULTI_AUTO };

/* --decap: open tunnels (maps/decap.h; on: 0, the default) or count outer headers only */
enum nacct_decap_req { NACCT_DECAP_ON = 0, NACCT_DECAP_OFF };

/*
 * --tunnel-ports vxlan=P[,P...],geneve=P[,P...]: the UDP ports of each
 * UDP tunnel type, host order, 0: a free slot.  A type not given keeps the
 * data-path object's own defaults (its .rodata: the one place they are
 * written, maps/decap.h).
 */
struct nacct_tun_ports {
	__u16 vxlan[NACCT_TUN_PORTS];
	__u16 geneve[NACCT_TUN_PORTS];
	int vxlan_set, geneve_set;
};

/* the flow table layout NACCT_L_DEFAULT stands for (README "Flow table layout") */
#define NACCT_FLOW_LAYOUT_DEFAULT NACCT_FLOW_SHARED
#define NACCT_FLOW_LAYOUT_DEFAULT_NAME "shared"

struct nacct_cidr {
	__u8 family; /* NACCT_AF_INET / NACCT_AF_INET6 */
	__u8 plen;
	__u8 addr[16];
};

/* a list of CIDRs (--subnets) */
struct nacct_cidrs {
	struct nacct_cidr *v;
	size_t n;
};

struct nacct_attach_req {
	const char *ifname;
	int mode;             /* enum nacct_mode_req */
	int hook;             /* enum nacct_hook_req */
	struct nacct_cidrs subnets;
	__u64 max_flows;      /* flow table capacity */
	int force;            /* replace an XDP program that is not nacct's */
	int multi;            /* --multi: through libxdp's dispatcher */
	__u64 sample_n;       /* 1 in N packets to the sample ring from the start (0: off) */
	int flow_layout;      /* enum nacct_layout_req */
	int multi_buffer;     /* enum nacct_mb_req */
	int side_programs;    /* enum nacct_side_req */
	int probes;           /* --probes: enum nacct_probes_mode (lib/probes.h) */
	int decap;            /* enum nacct_decap_req */
	struct nacct_tun_ports tun_ports;
	/* --domain: the shared domain to join (created on first use), NULL:
	 * maps of its own; --max-ifaces: a new domain's slots (0: default) */
	const char *domain;
	__u64 max_ifaces;
	int dedup; /* --dedup: the new domain keeps a host view (each packet once) */
};

/* the domain of attach --all without --domain (one per network namespace) */
#define NACCT_DOMAIN_DEFAULT "default"
/* @ifindex's link attributes (rtnetlink RTM_GETLINK) read into @buf: the
 * first attribute, *len the bytes of them all; NULL: no such link */
struct rtattr;
struct rtattr *nacct_link_attrs(int ifindex, void *buf, size_t size, int *len);

/* a domain name nacct takes: 1 .. NACCT_DOMAIN_NAME_LEN - 9 of [A-Za-z0-9_-] */
int nacct_domain_name_ok(const char *name);
/* the directory of this network namespace's domain @name */
int nacct_domain_dir(const char *name, char *buf, size_t len);

struct nacct_attach_info {
	struct nacct_meta meta; /* hook, mode and why, max_flows, ... */
	char dir[256];          /* the published pin directory */
	const char *what;       /* on failure: the step that failed */
	char detail[320];       /* on failure: what stood in the way, when known */
	int multi;              /* enum nacct_multi */
	int probes;             /* the side programs: 1 attached now, 0 already there or
				 * --side-programs off, < 0 failed (--probes auto only:
				 * a forced mode's failure fails the attach) */
};

/*
 * Attach the programs to req->ifname and publish the attachment; on any
 * failure nothing is left behind.  Errors: -ENODEV no such interface,
 * -EALREADY already attached, -EPROTO pins of an incompatible build in the
 * way (detail: the directory), -EBUSY an XDP program that is not nacct's
 * and no force (detail names it; with --multi: one loaded without libxdp's
 * dispatcher), -EOPNOTSUPP no hardware offload, or a dispatcher to share
 * and a kernel that refuses freplace (detail: why), -EINVAL a request that cannot be met (detail: why;
 * also a forced --probes mode the kernel or the loaded side programs
 * cannot meet, what "load the side programs");
 * else the kernel's -errno at step info->what.
 */
int nacct_attach(const struct nacct_attach_req *req, struct nacct_attach_info *info);
/*
 * What the running kernel lacks that nacct would use, each with what
 * nacct does instead (the README's "Older kernels"): up to @max lines into
 * @lines (static strings); returns how many.  attach says them at -v,
 * status on every attachment.
 */
int nacct_kernel_limits(const char **lines, int max);

/*
 * An attachment in libxdp's dispatcher (it pins its XDP program, no link):
 * its program's id in *prog_id, 0 when it is not in a dispatcher.
 */
int nacct_dispatcher_member(const char *dir, __u32 *prog_id);

/* remove an attachment given its pin directory (programs, filters, pins) */
int nacct_detach_dir(const char *ifname, const char *dir);
/*
 * Detach ifname.  0: detached; 1: it was not attached, but what a killed
 * nacct left there was removed (described in @left); -ENOENT: not
 * attached and nothing left; -EINVAL: not an interface name.
 */
int nacct_detach(const char *ifname, char *left, size_t len);
/*
 * What a killed attach/detach left on ifname while it is not attached
 * (unpublished pin directories, nacct TC filters): how many, described in
 * buf; 0 when nothing.  nacct_detach (and the next attach) removes it.
 */
int nacct_half_attached(const char *ifname, char *buf, size_t len);

/*
 * What the data path would use that a kernel may lack, asked once per
 * process of the running kernel (every loader: attach, the unit tests,
 * the benchmarks; status and attach -v state what is missing through
 * nacct_kernel_limits()).
 *
 * bpf_ktime_get_coarse_ns(): 5.11 (without it the flows' last_seen comes
 * from bpf_ktime_get_ns(), once a jiffy as before: maps/account.bpf.h).
 */
static inline int nacct_kernel_has_coarse_clock(void)
{
	static int have = -1;

	if (have < 0)
		have = libbpf_probe_bpf_helper(BPF_PROG_TYPE_XDP, BPF_FUNC_ktime_get_coarse_ns,
					       NULL) == 1;
	return have;
}

/* bpf_xdp_load_bytes(): 5.18 (without it ctx_load_bytes() of maps/ctx_xdp.h) */
static inline int nacct_kernel_has_xdp_load_bytes(void)
{
	static int have = -1;

	if (have < 0)
		have = libbpf_probe_bpf_helper(BPF_PROG_TYPE_XDP, BPF_FUNC_xdp_load_bytes, NULL) ==
		       1;
	return have;
}

/*
 * BPF atomic OR: 5.12 (BPF_ATOMIC; before it only BPF_XADD, an atomic
 * add).  The kernel's loader refuses the instruction anywhere in a
 * program, so the shared flow layout's flag update cannot even sit on a
 * pruned branch: without it the loader takes the programs' per-CPU twins
 * (maps/account.bpf.h).  Probed by loading `lock *(u64 *)(r10 - 8) |= r1`.
 */
static inline int nacct_kernel_has_atomic_or(void)
{
	static int have = -1;
	const struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_1, .imm = 0 },
		{ .code = BPF_STX | BPF_MEM | BPF_DW, .dst_reg = BPF_REG_10, .src_reg = BPF_REG_1,
		  .off = -8 },
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_1, .imm = 1 },
		{ .code = BPF_STX | BPF_ATOMIC | BPF_DW, .dst_reg = BPF_REG_10, .src_reg = BPF_REG_1,
		  .off = -8, .imm = BPF_OR },
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	int fd;

	if (have < 0) {
		fd = bpf_prog_load(BPF_PROG_TYPE_SOCKET_FILTER, NULL, "GPL", insns,
				   sizeof(insns) / sizeof(insns[0]), NULL);
		have = fd >= 0;
		if (fd >= 0)
			close(fd);
	}
	return have;
}

/*
 * How every loader sets up an opened data-path object (attach, the unit
 * tests, the benchmarks), so that a load-time switch cannot be set in one
 * and forgotten in another: the maps' sizes (@max_flows 0 keeps the
 * object's), the .rodata switches of maps/account.bpf.h (no subnets, no LPM
 * lookups for new flows; the flow table's layout) and the flow map's type
 * for the layout.  Objects that share pinned maps need the same call.
 */
static inline void nacct_datapath_setup(struct bpf_map *flows, struct bpf_map *subnets,
					struct bpf_map *subnet_stats, __u32 *subnet_lookup,
					__u32 *flow_layout, __u32 *coarse_clock, __u32 *nr_cpus,
					__u32 max_flows, __u32 n_subnets, __u32 layout)
{
	*coarse_clock = nacct_kernel_has_coarse_clock();
	*nr_cpus = libbpf_num_possible_cpus() > 0 ? libbpf_num_possible_cpus() : 1;
	if (max_flows)
		bpf_map__set_max_entries(flows, max_flows);
	bpf_map__set_max_entries(subnets, n_subnets ? n_subnets : 1);
	bpf_map__set_max_entries(subnet_stats, n_subnets + 1);
	*subnet_lookup = n_subnets > 0;
	*flow_layout = layout;
	bpf_map__set_type(flows, nacct_flow_map_type(layout));
}

/* nacct_datapath_setup() of a skeleton (nacct_xdp, nacct_tc, bench_variants) */
#define NACCT_DATAPATH_SETUP(skel, max_flows, n_subnets, layout)                              \
	nacct_datapath_setup((skel)->maps.nacct_flows, (skel)->maps.nacct_subnets,             \
			     (skel)->maps.nacct_subnet_stats, &(skel)->rodata->nacct_subnet_lookup, \
			     &(skel)->rodata->nacct_flow_layout, &(skel)->rodata->nacct_coarse_clock, \
			     &(skel)->rodata->nacct_nr_cpus, max_flows, n_subnets, layout)

/*
 * A shared domain's objects (maps/nacct.h "A shared domain"): the
 * per-interface rows for @slots interfaces (slot 0 the strays'), the
 * member table, the switch.  After NACCT_DATAPATH_SETUP.
 */
#define NACCT_DOMAIN_SETUP(skel, slots)                                                       \
	do {                                                                                   \
		(skel)->rodata->nacct_domain = 1;                                              \
		bpf_map__set_max_entries((skel)->maps.nacct_stats, (slots));                   \
		bpf_map__set_max_entries((skel)->maps.nacct_queues,                            \
					 (slots) * NACCT_DOMAIN_QKEYS);                        \
		bpf_map__set_max_entries((skel)->maps.nacct_if_slots, (slots));                \
	} while (0)

/* ... and its host view (--dedup; maps/nacct.h): after NACCT_DOMAIN_SETUP */
#define NACCT_DEDUP_SETUP(skel, max_flows, layout)                                            \
	do {                                                                                   \
		(skel)->rodata->nacct_dedup = 1;                                               \
		bpf_map__set_max_entries((skel)->maps.nacct_dedup_seen, NACCT_DEDUP_ENTRIES);  \
		bpf_map__set_max_entries((skel)->maps.nacct_host_flows, (max_flows));          \
		bpf_map__set_type((skel)->maps.nacct_host_flows, nacct_flow_map_type(layout)); \
		bpf_map__set_max_entries((skel)->maps.nacct_host_ifs, (max_flows));            \
	} while (0)

/*
 * The tunnel switches of maps/decap.h, for every loader like the above:
 * @decap (enum nacct_decap_req) and the ports (@p NULL, or a type not
 * set: the object's defaults).  The ports are stored in network order.
 */
static inline void nacct_tunnel_setup(volatile __u32 *decap_on, volatile __u16 *vxlan,
				      volatile __u16 *geneve, int decap,
				      const struct nacct_tun_ports *p)
{
	int i;

	*decap_on = decap == NACCT_DECAP_ON;
	for (i = 0; p && i < NACCT_TUN_PORTS; i++) {
		if (p->vxlan_set)
			vxlan[i] = htons(p->vxlan[i]);
		if (p->geneve_set)
			geneve[i] = htons(p->geneve[i]);
	}
}

/* nacct_tunnel_setup() of a skeleton */
#define NACCT_TUNNEL_SETUP(skel, decap, ports)                                                \
	nacct_tunnel_setup(&(skel)->rodata->nacct_decap_on,                                   \
			   (volatile __u16 *)(skel)->rodata->nacct_vxlan_ports,               \
			   (volatile __u16 *)(skel)->rodata->nacct_geneve_ports, decap, ports)

/*
 * the XDP program as its multi-buffer variant ("xdp.frags", maps/ctx_xdp.h);
 * the flag on both twins, whichever loads
 */
static inline void nacct_xdp_frags_setup(struct bpf_program *prog, struct bpf_program *twin,
					 __u32 *frags_switch)
{
	*frags_switch = 1;
	bpf_program__set_flags(prog, bpf_program__flags(prog) | BPF_F_XDP_HAS_FRAGS);
	bpf_program__set_flags(twin, bpf_program__flags(twin) | BPF_F_XDP_HAS_FRAGS);
}

#define NACCT_XDP_FRAGS_SETUP(skel)                                                   \
	nacct_xdp_frags_setup((skel)->progs.nacct_xdp, (skel)->progs.nacct_xdp_compat, \
			      &(skel)->rodata->nacct_xdp_frags)

#endif /* NACCT_ATTACH_H */
