// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * attach / detach.
 *
 * attach builds the whole attachment in a private pin directory
 * (/sys/fs/bpf/nacct/:tmp:IFACE-PID): maps (pinned by name by libbpf),
 * programs, the XDP link, the meta record.  Only when every program is in
 * place is the directory renamed to its final name; any failure before
 * that undoes what was done, so an interface is never left half-attached.
 * The XDP link is owned by its pin: if nacct dies before the rename, the
 * link dies with its last fd.  The TC filters are netlink objects; a
 * stale one left by a killed attach is recognised by its program name and
 * removed by the next attach.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <net/if.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "log.h"
#include "names.h"
#include "attach.h"
#include "caps.h"
#include "dispatcher.h"
#include "hostset.h"
#include "offload.h"
#include "probes.h"
#include "snapshot.h"
#include "txq.h"
#include "../maps/maps.h"
#include "nacct_xdp.skel.h"
#include "nacct_tc.skel.h"

#define NACCT_TC_HANDLE 1
#define NACCT_TC_PRIO_BASE 1
#define NACCT_TC_PRIO_TRIES 32

/*
 * An XDP link pinned in a directory that is going away: detach it now
 * rather than when its last reference happens to be dropped, so that the
 * interface is clean when this returns.
 */
static void detach_pinned_link(const char *dir)
{
	char path[600];
	int fd;

	snprintf(path, sizeof(path), "%s/" NACCT_PIN_LINK_XDP, dir);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return;
	bpf_link_detach(fd);
	close(fd);
}

/*
 * The directories left by an attach or detach that was killed (its pid is
 * gone): all of them (only == NULL), or those of one pin name.  With
 * remove == 0 they are only counted.  Returns how many there were.
 */
static int stale_tmp(const char *only, int remove)
{
	size_t tlen = strlen(NACCT_PIN_TMP);
	struct dirent *de;
	DIR *d = opendir(NACCT_PIN_ROOT);
	char path[512];
	int n = 0;

	if (!d)
		return 0;
	while ((de = readdir(d))) {
		char *dash;
		long pid;

		if (strncmp(de->d_name, NACCT_PIN_TMP, tlen))
			continue;
		dash = strrchr(de->d_name, '-');
		pid = dash ? strtol(dash + 1, NULL, 10) : 0;
		if (pid > 0 && (kill(pid, 0) == 0 || errno != ESRCH))
			continue;
		if (only && (!dash || (size_t)(dash - de->d_name) != tlen + strlen(only) ||
			     strncmp(de->d_name + tlen, only, strlen(only))))
			continue;
		n++;
		if (!remove)
			continue;
		snprintf(path, sizeof(path), "%s/%s", NACCT_PIN_ROOT, de->d_name);
		pr_debug("removing stale %s\n", path);
		detach_pinned_link(path);
		nacct_rm_pin_dir(path);
	}
	closedir(d);
	return n;
}

static void clean_stale_tmp(void)
{
	stale_tmp(NULL, 1);
}

static int prog_name_by_id(__u32 id, char *name, size_t len)
{
	struct bpf_prog_info info;
	__u32 ilen = sizeof(info);
	int fd = bpf_prog_get_fd_by_id(id);

	name[0] = '\0';
	if (fd < 0)
		return -errno;
	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(fd, &info, &ilen) == 0)
		snprintf(name, len, "%s", info.name);
	close(fd);
	return 0;
}

/*
 * The XDP link that holds prog_id on ifindex.  Link info names the ifindex
 * but not the network namespace, so the (global) program id must match
 * too: never touch another namespace's link.
 */
static int find_xdp_link(int ifindex, __u32 prog_id, __u32 *link_id)
{
	__u32 id = 0;

	while (bpf_link_get_next_id(id, &id) == 0) {
		struct bpf_link_info info;
		__u32 ilen = sizeof(info);
		int fd = bpf_link_get_fd_by_id(id);

		if (fd < 0)
			continue;
		memset(&info, 0, sizeof(info));
		if (!bpf_obj_get_info_by_fd(fd, &info, &ilen) && info.type == BPF_LINK_TYPE_XDP &&
		    (int)info.xdp.ifindex == ifindex && info.prog_id == prog_id) {
			*link_id = id;
			close(fd);
			return 0;
		}
		close(fd);
	}
	return -ENOENT;
}

/* the TC program ids of our filters (prio, handle 1) on one direction */
static __u32 tc_prog_at(int ifindex, enum bpf_tc_attach_point where, __u32 prio)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = where);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .handle = NACCT_TC_HANDLE, .priority = prio);

	if (bpf_tc_query(&hook, &opts))
		return 0;
	return opts.prog_id;
}

static int tc_detach_one(int ifindex, enum bpf_tc_attach_point where, __u32 prio)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = where);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .handle = NACCT_TC_HANDLE, .priority = prio);
	int err = bpf_tc_detach(&hook, &opts);

	return err == -ENOENT ? 0 : err;
}

/*
 * Does clsact on ifindex still hold any filter?  libbpf can only query
 * one filter by handle and priority, so ask iproute2.
 */
static int clsact_has_filters(const char *ifname)
{
	const char *dirs[] = { "ingress", "egress" };
	char cmd[128], buf[64];
	size_t i;

	for (i = 0; i < 2; i++) {
		FILE *p;
		size_t n;

		snprintf(cmd, sizeof(cmd), "tc filter show dev %s %s 2>/dev/null", ifname, dirs[i]);
		p = popen(cmd, "r");
		if (!p)
			return 1; /* cannot tell: keep the qdisc */
		n = fread(buf, 1, sizeof(buf), p);
		if (pclose(p) != 0)
			return 1;
		if (n > 0)
			return 1;
	}
	return 0;
}

static void tc_qdisc_destroy(int ifindex)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
			    .attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS);

	bpf_tc_hook_destroy(&hook);
}

/*
 * Filters at our handle whose program is nacct's, left by a killed attach
 * or detach: counted, or (remove) removed.  The clsact qdisc that attach
 * created for them is removed too once no filter at all is left on it
 * (the killed run could not record that it created it).
 */
/*
 * A killed attach's private directories of one interface (@name: its pin
 * name) and, with @remove, the clsact it may have created: a kill between
 * the qdisc's creation and its first filter leaves one that no record
 * names, so an empty clsact (no filter at all: nothing needs it) goes
 * with the directories.  Returns how many directories there were.
 */
static int stale_iface(const char *name, int ifindex, const char *ifname, int remove)
{
	int n = stale_tmp(name, remove);

	if (n && remove && ifindex && !clsact_has_filters(ifname))
		tc_qdisc_destroy(ifindex);
	return n;
}

static int stale_tc(int ifindex, const char *ifname, int remove)
{
	enum bpf_tc_attach_point where[] = { BPF_TC_EGRESS, BPF_TC_INGRESS };
	char name[BPF_OBJ_NAME_LEN];
	__u32 prio;
	size_t i;
	int n = 0;

	for (i = 0; i < 2; i++)
		for (prio = NACCT_TC_PRIO_BASE; prio < NACCT_TC_PRIO_BASE + NACCT_TC_PRIO_TRIES;
		     prio++) {
			__u32 id = tc_prog_at(ifindex, where[i], prio);

			if (!id || prog_name_by_id(id, name, sizeof(name)))
				continue;
			if (strncmp(name, "nacct_tc_", 9))
				continue;
			n++;
			if (!remove)
				continue;
			pr_info("removing a stale nacct TC filter (prio %u, prog id %u)\n", prio, id);
			tc_detach_one(ifindex, where[i], prio);
		}
	if (n && remove && ifname && !clsact_has_filters(ifname))
		tc_qdisc_destroy(ifindex);
	return n;
}

static void clean_stale_tc(int ifindex, const char *ifname)
{
	stale_tc(ifindex, ifname, 1);
}

static int tc_attach(int ifindex, enum bpf_tc_attach_point where, int prog_fd, __u32 *prio,
		     int *qdisc_created)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = where);
	int err;
	__u32 p;

	err = bpf_tc_hook_create(&hook);
	if (!err)
		*qdisc_created = 1;
	else if (err != -EEXIST)
		return err;

	/* the first free priority from ours up: never touch others' filters */
	for (p = *prio ? *prio : NACCT_TC_PRIO_BASE;
	     p < NACCT_TC_PRIO_BASE + NACCT_TC_PRIO_TRIES; p++) {
		DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .prog_fd = prog_fd,
				    .handle = NACCT_TC_HANDLE, .priority = p);

		err = bpf_tc_attach(&hook, &opts);
		if (!err) {
			*prio = p;
			return 0;
		}
		if (err != -EEXIST)
			return err;
		if (*prio)
			break; /* egress and ingress share one priority */
	}
	return -EEXIST;
}

/* both objects must ask for identical maps, or libbpf refuses to share them */
/*
 * The XDP object, opened and set up as attach loads it
 * (nacct_datapath_setup(), the same as the TC object's); with @frags the
 * multi-buffer variant.  NULL with errno set.
 */
static struct nacct_xdp *xdp_open(const struct bpf_object_open_opts *oo,
				  const struct nacct_attach_req *cfg, __u32 layout, int frags)
{
	struct nacct_xdp *x = nacct_xdp__open_opts(oo);

	if (!x)
		return NULL;
	if (!nacct_kernel_has_atomic_or()) {
		bpf_program__set_autoload(x->progs.nacct_xdp, false);
		bpf_program__set_autoload(x->progs.nacct_xdp_compat, true);
	}
	NACCT_DATAPATH_SETUP(x, cfg->max_flows, cfg->subnets.n, layout);
	NACCT_TUNNEL_SETUP(x, cfg->decap, &cfg->tun_ports);
	x->rodata->nacct_xdp_load_bytes = nacct_kernel_has_xdp_load_bytes();
	if (frags)
		NACCT_XDP_FRAGS_SETUP(x);
	return x;
}

/* the TC object, opened and set up as attach loads it; NULL with errno set */
static struct nacct_tc *tc_open(const struct bpf_object_open_opts *oo,
				const struct nacct_attach_req *cfg, __u32 layout)
{
	struct nacct_tc *t = nacct_tc__open_opts(oo);

	if (!t)
		return NULL;
	if (!nacct_kernel_has_atomic_or()) {
		bpf_program__set_autoload(t->progs.nacct_tc_egress, false);
		bpf_program__set_autoload(t->progs.nacct_tc_ingress, false);
		bpf_program__set_autoload(t->progs.nacct_tc_egress_compat, true);
		bpf_program__set_autoload(t->progs.nacct_tc_ingress_compat, true);
	}
	NACCT_DATAPATH_SETUP(t, cfg->max_flows, cfg->subnets.n, layout);
	NACCT_TUNNEL_SETUP(t, cfg->decap, &cfg->tun_ports);
	return t;
}

/* the programs of the objects as loaded: each or its per-CPU twin */
static struct bpf_program *xdp_prog(const struct nacct_xdp *x)
{
	return bpf_program__autoload(x->progs.nacct_xdp) ? x->progs.nacct_xdp :
							   x->progs.nacct_xdp_compat;
}

static struct bpf_program *tc_prog(const struct nacct_tc *t, int ingress)
{
	if (bpf_program__autoload(t->progs.nacct_tc_egress))
		return ingress ? t->progs.nacct_tc_ingress : t->progs.nacct_tc_egress;
	return ingress ? t->progs.nacct_tc_ingress_compat : t->progs.nacct_tc_egress_compat;
}

static int fill_subnets(int fd, const struct nacct_cidr *c, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		struct nacct_subnet_key k;
		struct nacct_subnet_val v = { .id = i + 1 };

		memset(&k, 0, sizeof(k));
		k.prefixlen = 8 + c[i].plen;
		k.family = c[i].family;
		memcpy(k.addr, c[i].addr, 16);
		if (bpf_map_update_elem(fd, &k, &v, BPF_NOEXIST))
			return -errno;
	}
	return 0;
}

/*
 * The tables a loaded data path starts with (through the TC object, whose
 * maps the XDP one shares): the subnets, the ethertypes' "other" bucket
 * (the data path counts there when that table is full), the run-time
 * knobs (snaplen, --sample).
 */
static int fill_tables(struct nacct_tc *t, const struct nacct_attach_req *cfg)
{
	struct nacct_cfg ncfg = { .snaplen = 128, .sample_n = (__u32)cfg->sample_n };
	struct nacct_ethertype_val *et0;
	__u32 zero = 0, et_other = 0xffff;
	int err;

	err = fill_subnets(bpf_map__fd(t->maps.nacct_subnets), cfg->subnets.v, cfg->subnets.n);
	if (err)
		return err;
	/* per-CPU map: user space writes one value per possible CPU */
	et0 = calloc(nacct_ncpus(), sizeof(*et0));
	if (!et0)
		return -ENOMEM;
	err = bpf_map_update_elem(bpf_map__fd(t->maps.nacct_ethertypes), &et_other, et0, BPF_ANY);
	free(et0);
	if (!err)
		err = bpf_map_update_elem(bpf_map__fd(t->maps.nacct_cfg), &zero, &ncfg, BPF_ANY);
	return err ? -errno : 0;
}

struct attach_ctx {
	int ifindex;
	char ifname[IF_NAMESIZE];
	char tmpdir[256];
	char dir[256];
	struct nacct_xdp *xdp;
	struct nacct_tc *tc;
	int txq_on; /* registered with the host's TX queue program (lib/txq.c) */
	int link_fd;
	__u32 tc_prio;
	int egress_on, ingress_on, qdisc_created;
	int frags; /* the XDP program is the multi-buffer variant */
	char single_why[96]; /* why not, when the kernel or driver said */
	int multi;           /* enum nacct_multi: in libxdp's dispatcher */
	__u32 multi_id;      /* our program, once it is in the dispatcher */
	struct nacct_dispatcher disp; /* what was on the hook before */
	/* a shared domain's member (no objects: the domain's programs) */
	int xdp_fd, egress_fd, ingress_fd, meta_fd; /* owned */
	char ddir[256];
	int lock;      /* the host-set lock, held from join to publish */
	int slots_fd;  /* the domain's nacct_if_slots */
	__u32 slot;
	int slot_set;  /* this interface's entry is in nacct_if_slots */
	int dom_created; /* this attach loaded the domain */
};

/* the programs to attach: the objects' or, in a domain, its pinned ones */
static int prog_fd_xdp(const struct attach_ctx *a);
static int prog_fd_tc(const struct attach_ctx *a, int ingress);

static void undo(struct attach_ctx *a)
{
	if (a->egress_on)
		tc_detach_one(a->ifindex, BPF_TC_EGRESS, a->tc_prio);
	if (a->ingress_on)
		tc_detach_one(a->ifindex, BPF_TC_INGRESS, a->tc_prio);
	if (a->qdisc_created && !clsact_has_filters(a->ifname))
		tc_qdisc_destroy(a->ifindex);
	if (a->link_fd >= 0) {
		bpf_link_detach(a->link_fd);
		close(a->link_fd);
		a->link_fd = -1;
	}
	if (a->multi_id)
		nacct_dispatcher_leave(a->ifindex, a->multi_id);
	if (a->tmpdir[0])
		nacct_rm_pin_dir(a->tmpdir);
	if (a->slot_set)
		bpf_map_delete_elem(a->slots_fd, &a->ifindex);
	if (a->dom_created)
		nacct_rm_pin_dir(a->ddir); /* no member ever joined it */
}

/* multi-buffer XDP (5.18+: bpf_xdp_get_buff_len), and what --multi-buffer on
 * gets where there is none */
static int kernel_has_frags(void)
{
	return libbpf_probe_bpf_helper(BPF_PROG_TYPE_XDP, BPF_FUNC_xdp_get_buff_len, NULL) == 1;
}
#define MB_ON_REFUSED "--multi-buffer on: the kernel has no multi-buffer XDP (5.18+)"

/*
 * The XDP program's variant, chosen before the load: multi-buffer
 * ("xdp.frags") where the kernel has it (5.18+: bpf_xdp_get_buff_len) and
 * the driver takes frames in several buffers (rx_sg in xdp-features; a
 * kernel < 6.3 does not say, so the multi-buffer program is tried: it
 * runs on any driver).  Without it a driver refuses a native program
 * when the MTU exceeds one buffer (veth: ERANGE) and auto falls back to
 * generic.  Offload has its own program.  --multi-buffer on / off force
 * one (on: -EOPNOTSUPP where the kernel has none).  @why: the reason, when
 * single.
 */
static int want_frags(const struct attach_ctx *a, const struct nacct_attach_req *cfg, char *why,
		      size_t len)
{
	struct nacct_caps caps;

	why[0] = '\0';
	if (cfg->hook != NACCT_H_XDP || cfg->mode == NACCT_M_OFFLOAD)
		return 0;
	if (cfg->multi_buffer == NACCT_MB_OFF) {
		snprintf(why, len, "single-buffer: --multi-buffer off");
		return 0;
	}
	if (!kernel_has_frags()) {
		snprintf(why, len, "single-buffer: the kernel has no multi-buffer XDP (< 5.18)");
		return cfg->multi_buffer == NACCT_MB_ON ? -EOPNOTSUPP : 0;
	}
	if (cfg->multi_buffer == NACCT_MB_ON)
		return 1;
	if (nacct_caps_query(a->ifindex, a->ifname, &caps, 0) || caps.src == NACCT_CAPS_UNKNOWN)
		return 1;
	if (caps.xdp_features & NACCT_XDP_ACT_RX_SG)
		return 1;
	snprintf(why, len, "single-buffer: %s has no multi-buffer rx (rx_sg)", caps.driver);
	return 0;
}

/*
 * Into libxdp's dispatcher: the one on the hook, in its mode, or a new one
 * (auto: in the mode the kernel takes a program without flags, native
 * where the driver has it).  Loads the XDP object (as an freplace
 * program) and says in the reason which way it came there.
 */
static int join_dispatcher(struct attach_ctx *a, const struct nacct_attach_req *cfg,
			   struct nacct_meta *meta)
{
	int mode = a->disp.id ? a->disp.mode :
		   cfg->mode == NACCT_M_NATIVE ? NACCT_MODE_NATIVE :
		   cfg->mode == NACCT_M_GENERIC ? NACCT_MODE_GENERIC : NACCT_MODE_NONE;
	struct nacct_dispatcher d;
	int err;

	err = nacct_dispatcher_join(a->xdp->obj, xdp_prog(a->xdp), a->ifindex, mode, &a->multi_id);
	if (err)
		return err;
	err = nacct_dispatcher_query(a->ifindex, a->multi_id, &d);
	if (err)
		return err;
	meta->xdp_mode = d.mode;
	snprintf(meta->reason, sizeof(meta->reason),
		 "%s libxdp dispatcher (other programs: %.38s): %s%s",
		 a->multi == NACCT_MULTI_AUTO ? "auto: joined" : "--multi requested:",
		 d.others, nacct_mode_str(d.mode), d.frags ? " (multi-buffer)" : "");
	return 0;
}

/* native, then (auto) generic: says which mode it got and why */
static int attach_xdp(struct attach_ctx *a, const struct nacct_attach_req *cfg,
		      struct nacct_meta *meta)
{
	int prog_fd = prog_fd_xdp(a);
	LIBBPF_OPTS(bpf_link_create_opts, lopts);
	char native_err[64] = "", feat[96] = "";
	int fd;

	if (cfg->mode == NACCT_M_OFFLOAD)
		return nacct_offload_attach(a->ifindex, a->tmpdir, meta, &a->link_fd);
	if (a->multi)
		return join_dispatcher(a, cfg, meta);
	if (cfg->mode == NACCT_M_AUTO) {
		struct nacct_caps caps;

		/* no native support advertised: straight to generic; unknown
		 * (kernel < 6.3): the trial below decides */
		if (!nacct_caps_query(a->ifindex, a->ifname, &caps, 0)) {
			if (nacct_caps_auto(&caps, feat, sizeof(feat)) == NACCT_MODE_GENERIC)
				goto generic;
			if (caps.src == NACCT_CAPS_UNKNOWN)
				snprintf(feat, sizeof(feat), "no xdp-features (kernel < 6.3), trial");
		}
	}
	if (cfg->mode == NACCT_M_AUTO || cfg->mode == NACCT_M_NATIVE) {
		lopts.flags = XDP_FLAGS_DRV_MODE;
		fd = bpf_link_create(prog_fd, a->ifindex, BPF_XDP, &lopts);
		if (fd >= 0) {
			const char *mb = a->frags ? " (multi-buffer)" : "";

			a->link_fd = fd;
			meta->xdp_mode = NACCT_MODE_NATIVE;
			if (cfg->mode == NACCT_M_NATIVE)
				snprintf(meta->reason, sizeof(meta->reason), "native%s requested", mb);
			else if (feat[0])
				snprintf(meta->reason, sizeof(meta->reason), "auto: %s: native%s", feat,
					 mb);
			else
				snprintf(meta->reason, sizeof(meta->reason),
					 "auto: the driver accepted a native XDP program: native%s", mb);
			return 0;
		}
		fd = -errno;
		snprintf(native_err, sizeof(native_err), "%s", strerror(-fd));
		if (cfg->mode == NACCT_M_NATIVE || fd == -EBUSY || fd == -EEXIST)
			return fd;
	}
generic:
	lopts.flags = XDP_FLAGS_SKB_MODE;
	fd = bpf_link_create(prog_fd, a->ifindex, BPF_XDP, &lopts);
	if (fd < 0)
		return -errno;
	a->link_fd = fd;
	meta->xdp_mode = NACCT_MODE_GENERIC;
	if (cfg->mode == NACCT_M_GENERIC)
		snprintf(meta->reason, sizeof(meta->reason), "generic requested");
	else if (!native_err[0])
		snprintf(meta->reason, sizeof(meta->reason), "auto: %s: generic", feat);
	else if (a->single_why[0])
		/* the likely cause: an MTU beyond one buffer (ERANGE) */
		snprintf(meta->reason, sizeof(meta->reason),
			 "auto: native attach failed (%s; %s): generic", native_err, a->single_why);
	else if (feat[0])
		snprintf(meta->reason, sizeof(meta->reason),
			 "auto: %s; native attach failed (%s): generic", feat, native_err);
	else
		snprintf(meta->reason, sizeof(meta->reason),
			 "auto: native XDP attach failed (%s), fell back to generic", native_err);
	return 0;
}

struct rtattr *nacct_link_attrs(int ifindex, void *buf, size_t size, int *len)
{
	struct {
		struct nlmsghdr nh;
		struct ifinfomsg ifi;
	} req = { .nh = { .nlmsg_len = sizeof(req), .nlmsg_type = RTM_GETLINK,
			  .nlmsg_flags = NLM_F_REQUEST },
		  .ifi = { .ifi_family = AF_UNSPEC, .ifi_index = ifindex } };
	struct nlmsghdr *nh = buf;
	int fd, n;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return NULL;
	n = send(fd, &req, sizeof(req), 0) < 0 ? -1 : (int)recv(fd, buf, size, 0);
	close(fd);
	if (n <= 0 || !NLMSG_OK(nh, (unsigned int)n) || nh->nlmsg_type != RTM_NEWLINK)
		return NULL;
	*len = IFLA_PAYLOAD(nh);
	return IFLA_RTA(NLMSG_DATA(nh));
}

/* the ifindex of @ifindex's master (bridge, bond, team...), 0: none */
static int master_of(int ifindex)
{
	char buf[16384];
	struct rtattr *rta;
	int rlen, master = 0;

	rta = nacct_link_attrs(ifindex, buf, sizeof(buf), &rlen);
	for (; rta && RTA_OK(rta, rlen); rta = RTA_NEXT(rta, rlen))
		if (rta->rta_type == IFLA_MASTER && RTA_PAYLOAD(rta) >= 4)
			master = *(int *)RTA_DATA(rta);
	return master;
}

/* the XDP program id on the hook (first of the four slots that has one), 0: none */
static __u32 xdp_prog_on(int ifindex)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);

	if (bpf_xdp_query(ifindex, 0, &q))
		return 0;
	return q.prog_id ? q.prog_id : q.drv_prog_id ? q.drv_prog_id :
	       q.skb_prog_id ? q.skb_prog_id : q.hw_prog_id;
}

/* remove the XDP program on the hook: netlink-attached or link-owned */
static void remove_xdp(struct attach_ctx *a, __u32 id, const char *name, const char *whose)
{
	__u32 link_id;

	pr_info("%s: removing %s XDP program id %u ('%s')\n", a->ifname, whose, id, name);
	/* a netlink-attached program goes with a netlink detach; a link-owned
	 * one refuses that (EBUSY) and is detached through its link */
	bpf_xdp_detach(a->ifindex, XDP_FLAGS_SKB_MODE, NULL);
	bpf_xdp_detach(a->ifindex, XDP_FLAGS_DRV_MODE, NULL);
	if (bpf_xdp_query_id(a->ifindex, 0, &id) == 0 && id &&
	    find_xdp_link(a->ifindex, id, &link_id) == 0) {
		int fd = bpf_link_get_fd_by_id(link_id);

		if (fd >= 0) {
			bpf_link_detach(fd);
			close(fd);
		}
	}
}

/*
 * An XDP program loaded without a dispatcher holds the hook: a stale one of
 * nacct's, or any with --force, is removed; another is refused, named in
 * info->detail (with @hint after it).
 */
static int take_lone_xdp(struct attach_ctx *a, const struct nacct_attach_req *cfg,
			 struct nacct_attach_info *info, __u32 id, const char *name,
			 const char *hint)
{
	if (!cfg->force && !nacct_xdp_prog_ours(name)) {
		snprintf(info->detail, sizeof(info->detail), "XDP program id %u, name '%s'%s", id,
			 name, hint);
		return -EBUSY;
	}
	remove_xdp(a, id, name, cfg->force ? "the existing" : "a stale nacct");
	return 0;
}

/* nacct programs a killed attach left in the dispatcher (not attached: none is ours) */
static int leave_stale(int ifindex, const struct nacct_dispatcher *d, const char *ifname,
		       int remove)
{
	int i;

	for (i = 0; remove && i < d->n_stale; i++) {
		pr_info("%s: removing a stale nacct program id %u from libxdp's dispatcher\n",
			ifname, d->stale[i]);
		nacct_dispatcher_leave(ifindex, d->stale[i]);
	}
	return d->n_stale;
}

/*
 * Through libxdp's dispatcher (--multi, or a dispatcher found on the
 * hook): the kernel must take freplace programs, the dispatcher's mode
 * must be the one asked for, and a program loaded without a dispatcher
 * cannot be joined (only replaced, with --force).
 */
static int check_dispatcher(struct attach_ctx *a, const struct nacct_attach_req *cfg,
			    struct nacct_attach_info *info, __u32 id, const char *name)
{
	const struct nacct_dispatcher *d = &a->disp;
	char why[96];
	int err;

	a->multi = cfg->multi ? NACCT_MULTI_REQUESTED : NACCT_MULTI_AUTO;
	if (cfg->hook != NACCT_H_XDP || cfg->mode == NACCT_M_OFFLOAD) {
		snprintf(info->detail, sizeof(info->detail),
			 "--multi: libxdp's dispatcher runs in the XDP driver or generic hook, not "
			 "with --%s", cfg->hook != NACCT_H_XDP ? "hook tc" : "mode offload");
		return -EINVAL;
	}
	err = nacct_freplace_probe(why, sizeof(why));
	if (err) {
		if (id)
			snprintf(info->detail, sizeof(info->detail),
				 "%s XDP program id %u ('%s') holds the hook and the kernel refuses "
				 "freplace programs (%s: %s), which libxdp's dispatcher needs: nacct "
				 "cannot run beside it here",
				 d->id ? "libxdp's dispatcher" : "the", id, name, why, strerror(-err));
		else
			snprintf(info->detail, sizeof(info->detail),
				 "--multi: the kernel refuses freplace programs (%s: %s), which "
				 "libxdp's dispatcher needs", why, strerror(-err));
		return -EOPNOTSUPP;
	}
	if (d->legacy_id) {
		err = take_lone_xdp(a, cfg, info, id, name,
				    ", loaded without libxdp's dispatcher (--multi joins a dispatcher "
				    "only: load the other program with xdp-loader)");
		if (!err)
			memset(&a->disp, 0, sizeof(a->disp));
		return err;
	}
	if (d->id && ((cfg->mode == NACCT_M_NATIVE && d->mode != NACCT_MODE_NATIVE) ||
		      (cfg->mode == NACCT_M_GENERIC && d->mode != NACCT_MODE_GENERIC))) {
		snprintf(info->detail, sizeof(info->detail),
			 "libxdp's dispatcher (id %u, with %s) runs in %s mode: --mode %s cannot "
			 "join it", d->id, d->others, nacct_mode_str(d->mode),
			 cfg->mode == NACCT_M_NATIVE ? "native" : "generic");
		return -EINVAL;
	}
	leave_stale(a->ifindex, d, a->ifname, 1);
	return 0;
}

/*
 * Another XDP program on the interface: a libxdp dispatcher is joined
 * (check_dispatcher), any other is refused, or with --force removed.
 */
static int check_existing_xdp(struct attach_ctx *a, const struct nacct_attach_req *cfg,
			      struct nacct_attach_info *info)
{
	char name[BPF_OBJ_NAME_LEN] = "";
	__u32 id = xdp_prog_on(a->ifindex);
	int err;

	if (id)
		prog_name_by_id(id, name, sizeof(name));
	if (cfg->multi || (id && cfg->mode != NACCT_M_OFFLOAD)) {
		err = nacct_dispatcher_query(a->ifindex, 0, &a->disp);
		if (err && cfg->multi) {
			snprintf(info->detail, sizeof(info->detail),
				 "--multi: libxdp cannot read the XDP hook (%s)", strerror(-err));
			return err;
		}
		if (!err && (cfg->multi || a->disp.id))
			return check_dispatcher(a, cfg, info, id, name);
	}
	return id ? take_lone_xdp(a, cfg, info, id, name, "") : 0;
}

static int pin_fd(int fd, const char *dir, const char *name)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return bpf_obj_pin(fd, path) ? -errno : 0;
}

static int prog_fd_xdp(const struct attach_ctx *a)
{
	return a->xdp ? bpf_program__fd(xdp_prog(a->xdp)) : a->xdp_fd;
}

static int prog_fd_tc(const struct attach_ctx *a, int ingress)
{
	if (a->tc)
		return bpf_program__fd(tc_prog(a->tc, ingress));
	return ingress ? a->ingress_fd : a->egress_fd;
}

/* ---- shared domains (maps/nacct.h "A shared domain") -------------------------- */

int nacct_domain_name_ok(const char *name)
{
	size_t i, n = strlen(name);

	if (!n || n > NACCT_DOMAIN_NAME_LEN - 9)
		return 0;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)name[i]) && name[i] != '_' && name[i] != '-')
			return 0;
	return 1;
}

int nacct_domain_dir(const char *name, char *buf, size_t len)
{
	char n[64];

	snprintf(n, sizeof(n), NACCT_DOMAIN_PIN "%s", name);
	return nacct_pin_dir(n, buf, len);
}

/*
 * A new domain (lock held): both objects loaded once with the domain's
 * switches and pinned with their programs in the domain's directory,
 * published by a rename like an attachment.  Its nacct_meta holds what
 * it was loaded with (the members' meta starts from it).
 */
static int domain_load(const struct nacct_attach_req *cfg, const char *ddir, __u32 layout,
		       struct nacct_attach_info *info)
{
	LIBBPF_OPTS(bpf_object_open_opts, oopts);
	__u32 zero = 0;
	__u32 slots = (__u32)(cfg->max_ifaces ? cfg->max_ifaces : NACCT_DOMAIN_MAX_IFACES_DEFAULT) + 1;
	struct nacct_xdp *x = NULL;
	struct nacct_tc *t = NULL;
	struct nacct_meta meta;
	struct timespec now;
	char tmp[256], name[64];
	int err, i, frags;

	snprintf(name, sizeof(name), NACCT_DOMAIN_PIN "%s", cfg->domain);
	if (nacct_pin_tmp_dir(name, tmp, sizeof(tmp)))
		return -ENAMETOOLONG;
	nacct_rm_pin_dir(tmp);
	if (mkdir(tmp, 0700))
		return -errno;
	oopts.pin_root_path = tmp;
	/* the multi-buffer program where the kernel has it: it runs on any
	 * driver, so every member can take jumbo frames */
	frags = cfg->multi_buffer != NACCT_MB_OFF &&
		kernel_has_frags();
	if (cfg->multi_buffer == NACCT_MB_ON && !frags) {
		snprintf(info->detail, sizeof(info->detail),
			 MB_ON_REFUSED);
		err = -EOPNOTSUPP;
		goto out;
	}
	if (cfg->dedup && !nacct_kernel_has_atomic_or()) {
		snprintf(info->detail, sizeof(info->detail),
			 "--dedup: the kernel has no BPF atomic OR (< 5.12), which the host view's "
			 "member bits need");
		err = -EOPNOTSUPP;
		goto out;
	}
	info->what = "load the shared domain's programs";
	for (;;) {
		x = xdp_open(&oopts, cfg, layout, frags);
		t = tc_open(&oopts, cfg, layout);
		if (!x || !t) {
			err = -errno;
			goto out;
		}
		NACCT_DOMAIN_SETUP(x, slots);
		NACCT_DOMAIN_SETUP(t, slots);
		if (cfg->dedup) {
			NACCT_DEDUP_SETUP(x, cfg->max_flows, layout);
			NACCT_DEDUP_SETUP(t, cfg->max_flows, layout);
		}
		err = nacct_xdp__load(x);
		if (!err || !frags || cfg->multi_buffer != NACCT_MB_AUTO)
			break;
		/* as nacct_attach(): a kernel that refuses the variant */
		nacct_xdp__destroy(x);
		nacct_tc__destroy(t);
		x = NULL;
		t = NULL;
		frags = 0;
	}
	if (!err)
		err = nacct_tc__load(t);
	if (!err)
		err = fill_tables(t, cfg);
	if (err)
		goto out;
	memset(&meta, 0, sizeof(meta));
	meta.version = NACCT_META_VERSION;
	meta.max_flows = cfg->max_flows;
	meta.flow_layout = layout;
	meta.max_ifaces = slots;
	meta.dedup = !!cfg->dedup;
	snprintf(meta.domain, sizeof(meta.domain), "%s", cfg->domain);
	meta.decap = x->rodata->nacct_decap_on;
	for (i = 0; i < NACCT_TUN_PORTS; i++) {
		meta.vxlan_ports[i] = ntohs(x->rodata->nacct_vxlan_ports[i]);
		meta.geneve_ports[i] = ntohs(x->rodata->nacct_geneve_ports[i]);
	}
	snprintf(meta.reason, sizeof(meta.reason), "%s", frags ? "multi-buffer" : "single-buffer");
	clock_gettime(CLOCK_REALTIME, &now);
	meta.attached_at = (__u64)now.tv_sec * 1000000000ULL + now.tv_nsec;
	info->what = "pin the shared domain's programs";
	err = bpf_map_update_elem(bpf_map__fd(x->maps.nacct_meta), &zero, &meta, BPF_ANY) ? -errno
											: 0;
	if (!err)
		err = pin_fd(bpf_program__fd(xdp_prog(x)), tmp, NACCT_PIN_PROG_XDP);
	if (!err)
		err = pin_fd(bpf_program__fd(tc_prog(t, 0)), tmp, NACCT_PIN_PROG_TC_EGRESS);
	if (!err)
		err = pin_fd(bpf_program__fd(tc_prog(t, 1)), tmp, NACCT_PIN_PROG_TC_INGRESS);
	if (!err && rename(tmp, ddir))
		err = -errno;
	if (!err)
		pr_debug("domain %s: loaded (%u interfaces at most, %s)\n", cfg->domain, slots - 1,
			 meta.reason);
out:
	nacct_xdp__destroy(x);
	nacct_tc__destroy(t);
	if (err)
		nacct_rm_pin_dir(tmp);
	return err;
}

/* the request against what the domain was loaded with: 0, or -EINVAL saying which */
static int domain_compat(const struct nacct_attach_req *cfg, const struct nacct_meta *d,
			 __u32 layout, const char *ddir, char *detail, size_t len)
{
	struct bpf_map_info mi;
	__u32 ml = sizeof(mi);
	char what[64] = "";
	int fd;

	memset(&mi, 0, sizeof(mi));
	fd = nacct_map_open(ddir, NACCT_MAP_SUBNET_STATS, BPF_MAP_TYPE_PERCPU_ARRAY, 4,
			    sizeof(struct nacct_subnet_stats));
	if (fd >= 0) {
		bpf_obj_get_info_by_fd(fd, &mi, &ml);
		close(fd);
	}
	if (cfg->max_flows != d->max_flows)
		snprintf(what, sizeof(what), "--max-flows %u", d->max_flows);
	else if (layout != d->flow_layout)
		snprintf(what, sizeof(what), "--flow-layout %s",
			 d->flow_layout == NACCT_FLOW_SHARED ? "shared" : "percpu");
	else if ((cfg->decap == NACCT_DECAP_ON) != !!d->decap)
		snprintf(what, sizeof(what), "--decap %s", d->decap ? "on" : "off");
	else if (mi.max_entries && mi.max_entries != cfg->subnets.n + 1)
		snprintf(what, sizeof(what), "%u --subnets", mi.max_entries - 1);
	else if (!!cfg->dedup != !!d->dedup)
		snprintf(what, sizeof(what), "%s", d->dedup ? "--dedup" : "no --dedup");
	else if (cfg->mode == NACCT_M_OFFLOAD || cfg->multi)
		snprintf(what, sizeof(what), "no %s",
			 cfg->multi ? "--multi (libxdp's dispatcher)" : "--mode offload");
	if (!what[0])
		return 0;
	snprintf(detail, len,
		 "shared domain %s was loaded with %s; its members share its tables and programs: "
		 "the same options, or --domain another (or none)",
		 d->domain, what);
	return -EINVAL;
}

/* a free slot of the domain: 1 .. slots - 1 */
static int domain_slot(int slots_fd, __u32 slots, __u32 *slot)
{
	__u32 k, nk, v, i, *pk = NULL;
	__u8 *used = calloc(slots, 1);

	if (!used)
		return -ENOMEM;
	while (!bpf_map_get_next_key(slots_fd, pk, &nk)) {
		if (!bpf_map_lookup_elem(slots_fd, &nk, &v) && v < slots)
			used[v] = 1;
		k = nk;
		pk = &k;
	}
	for (i = 1; i < slots && used[i]; i++)
		;
	free(used);
	if (i >= slots)
		return -ENOSPC;
	*slot = i;
	return 0;
}

/* zero the per-interface rows of @slot (a member that left may have used it) */
static int domain_zero_rows(const char *ddir, __u32 slot)
{
	int ncpu = nacct_ncpus(), fd, err = 0;
	size_t sz = sizeof(struct nacct_stats) > sizeof(struct nacct_queue_val) ?
			    sizeof(struct nacct_stats) : sizeof(struct nacct_queue_val);
	void *z = calloc(ncpu, sz);
	__u32 k;

	if (!z)
		return -ENOMEM;
	fd = nacct_map_open(ddir, NACCT_MAP_STATS, BPF_MAP_TYPE_PERCPU_ARRAY, 4,
			    sizeof(struct nacct_stats));
	if (fd < 0 || bpf_map_update_elem(fd, &slot, z, BPF_ANY))
		err = fd < 0 ? fd : -errno;
	if (fd >= 0)
		close(fd);
	fd = err ? -1 : nacct_map_open(ddir, NACCT_MAP_QUEUES, BPF_MAP_TYPE_PERCPU_ARRAY, 4,
				       sizeof(struct nacct_queue_val));
	if (!err && fd < 0)
		err = fd;
	for (k = slot * NACCT_DOMAIN_QKEYS; !err && k < (slot + 1) * NACCT_DOMAIN_QKEYS; k++)
		if (bpf_map_update_elem(fd, &k, z, BPF_ANY))
			err = -errno;
	if (fd >= 0)
		close(fd);
	free(z);
	return err;
}

/*
 * Join (creating it on first use) the domain of the request: its programs
 * become the ones to attach, its maps are pinned again in the member's
 * directory beside a nacct_meta of the member's own, and the member gets
 * a slot.  Takes the host-set lock (released at publish or failure).
 */
static int domain_join(struct attach_ctx *a, const struct nacct_attach_req *cfg, __u32 layout,
		       struct nacct_meta *meta, struct nacct_attach_info *info)
{
	struct nacct_meta d;
	char path[512];
	struct dirent *de;
	struct stat st;
	DIR *dir;
	int fd, err;

	info->what = "join the shared domain";
	if (nacct_domain_dir(cfg->domain, a->ddir, sizeof(a->ddir)))
		return -ENAMETOOLONG;
	a->lock = nacct_hostset_lock();
	if (a->lock < 0)
		return a->lock;
	if (stat(a->ddir, &st)) {
		err = domain_load(cfg, a->ddir, layout, info);
		if (err)
			return err;
		a->dom_created = 1;
	}
	fd = nacct_map_open(a->ddir, NACCT_MAP_META, BPF_MAP_TYPE_ARRAY, 4, sizeof(d));
	if (fd < 0)
		return fd;
	err = nacct_read_meta(fd, &d);
	close(fd);
	if (err)
		return err;
	if (d.version != NACCT_META_VERSION || d.max_ifaces < 2) {
		snprintf(info->detail, sizeof(info->detail), "%s", a->ddir);
		return -EPROTO;
	}
	err = domain_compat(cfg, &d, layout, a->ddir, info->detail, sizeof(info->detail));
	if (err)
		return err;
	snprintf(path, sizeof(path), "%s/" NACCT_PIN_PROG_XDP, a->ddir);
	a->xdp_fd = bpf_obj_get(path);
	snprintf(path, sizeof(path), "%s/" NACCT_PIN_PROG_TC_EGRESS, a->ddir);
	a->egress_fd = bpf_obj_get(path);
	snprintf(path, sizeof(path), "%s/" NACCT_PIN_PROG_TC_INGRESS, a->ddir);
	a->ingress_fd = bpf_obj_get(path);
	if (a->xdp_fd < 0 || a->egress_fd < 0 || a->ingress_fd < 0)
		return -ENOENT;
	a->slots_fd = nacct_map_open(a->ddir, NACCT_MAP_IF_SLOTS, BPF_MAP_TYPE_HASH, 4, 4);
	if (a->slots_fd < 0)
		return a->slots_fd;
	err = domain_slot(a->slots_fd, d.max_ifaces, &a->slot);
	if (err == -ENOSPC)
		snprintf(info->detail, sizeof(info->detail),
			 "shared domain %s is full: %u interfaces (--max-ifaces when it is loaded)",
			 d.domain, d.max_ifaces - 1);
	if (!err)
		err = domain_zero_rows(a->ddir, a->slot);
	if (err)
		return err;
	/* the domain's maps again in the member's directory, but its meta */
	dir = opendir(a->ddir);
	if (!dir)
		return -errno;
	while (!err && (de = readdir(dir))) {
		if (strncmp(de->d_name, "nacct_", 6) || !strcmp(de->d_name, NACCT_MAP_META))
			continue;
		snprintf(path, sizeof(path), "%s/%s", a->ddir, de->d_name);
		fd = bpf_obj_get(path);
		if (fd < 0) {
			err = -errno;
			break;
		}
		err = pin_fd(fd, a->tmpdir, de->d_name);
		close(fd);
	}
	closedir(dir);
	if (err)
		return err;
	a->meta_fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, NACCT_MAP_META, 4, sizeof(*meta), 1, NULL);
	if (a->meta_fd < 0)
		return -errno;
	err = pin_fd(a->meta_fd, a->tmpdir, NACCT_MAP_META);
	if (err)
		return err;
	*meta = d;
	meta->slot = a->slot;
	meta->reason[0] = '\0';
	a->frags = !strcmp(d.reason, "multi-buffer");
	return 0;
}

/* a member's last step: its entry in the domain's members, so that its
 * packets count in its slot from the first one its hooks see */
static int domain_enter(struct attach_ctx *a)
{
	if (bpf_map_update_elem(a->slots_fd, &a->ifindex, &a->slot, BPF_NOEXIST))
		return -errno;
	a->slot_set = 1;
	return 0;
}

/* the flows of @ifindex out of a domain's shared table (a member leaves):
 * found by the readers' batched dump with its ifindex filter */
static void domain_drop_flows(const char *path, __u32 ifindex)
{
	struct nacct_flow *fl = NULL;
	size_t n = 0, i;
	int fd = bpf_obj_get(path);

	if (fd < 0)
		return;
	if (!nacct_dump_flows(fd, ifindex, &fl, &n))
		for (i = 0; i < n; i++)
			bpf_map_delete_elem(fd, &fl[i].key);
	free(fl);
	close(fd);
}

/*
 * A member leaves its domain (detach, @dir: its pin directory): out of the
 * members, its flows out of the shared table; the last one takes the
 * domain's directory (its maps and programs go with their last pin).
 */
static void domain_leave(const char *dir, const struct nacct_meta *meta)
{
	char path[512], ddir[256];
	__u32 k;
	int fd, lk = nacct_hostset_lock();

	snprintf(path, sizeof(path), "%s/" NACCT_MAP_IF_SLOTS, dir);
	fd = bpf_obj_get(path);
	if (fd >= 0) {
		bpf_map_delete_elem(fd, &meta->ifindex);
		snprintf(path, sizeof(path), "%s/" NACCT_MAP_FLOWS, dir);
		domain_drop_flows(path, meta->ifindex);
		if (bpf_map_get_next_key(fd, NULL, &k) && errno == ENOENT &&
		    !nacct_domain_dir(meta->domain, ddir, sizeof(ddir)) &&
		    !nacct_rm_pin_dir(ddir))
			pr_debug("domain %s: its last member left, removed\n", meta->domain);
		close(fd);
	}
	nacct_hostset_unlock(lk);
}

int nacct_kernel_limits(const char **lines, int max)
{
	/*
	 * bpf_xdp_load_bytes() came last (5.18): a kernel that has it has all
	 * the others (5.11-5.17), and the checks that read the kernel's BTF
	 * (tens of ms: status runs this every time) are not needed
	 */
	int n = 0, recent = nacct_kernel_has_xdp_load_bytes();

#define LIMIT(cond, text)            \
	do {                         \
		if ((cond) && n < max) \
			lines[n++] = text; \
	} while (0)
	if (recent)
		return 0;
	LIMIT(!nacct_kernel_has_atomic_or(),
	      "no BPF atomic OR nor pointer arguments of global functions (< 5.12): the compat "
	      "programs, flow table per-CPU");
	LIMIT(!nacct_kernel_has_coarse_clock(),
	      "no bpf_ktime_get_coarse_ns (< 5.11): last_seen by bpf_ktime_get_ns, once a jiffy");
	LIMIT(!nacct_kernel_has_xdp_load_bytes(),
	      "no multi-buffer XDP nor bpf_xdp_load_bytes (< 5.18): jumbo frames only in generic "
	      "mode, samples copied by bpf_probe_read_kernel");
	LIMIT(!nacct_kernel_has_drop_reasons(),
	      "skb:kfree_skb without a reason (< 5.17): drops have reason none");
	LIMIT(!nacct_kernel_has_perf_links(),
	      "no BPF perf-event links (< 5.15): kprobes and syscall tracepoints cannot be "
	      "pinned: accept events at the handshake, --probes kprobe refused");
#undef LIMIT
	return n;
}

/* the fds a context owns, and the lock */
static void ctx_close(struct attach_ctx *a)
{
	int *fds[] = { &a->xdp_fd, &a->egress_fd, &a->ingress_fd, &a->meta_fd, &a->slots_fd };
	size_t i;

	for (i = 0; i < sizeof(fds) / sizeof(fds[0]); i++) {
		if (*fds[i] >= 0)
			close(*fds[i]);
		*fds[i] = -1;
	}
	nacct_hostset_unlock(a->lock);
	a->lock = -1;
}

int nacct_attach(const struct nacct_attach_req *cfg, struct nacct_attach_info *info)
{
	struct attach_ctx a = { .link_fd = -1, .xdp_fd = -1, .egress_fd = -1, .ingress_fd = -1,
				.meta_fd = -1, .lock = -1, .slots_fd = -1 };
	LIBBPF_OPTS(bpf_object_open_opts, oopts);
	struct nacct_meta meta;
	struct timespec now;
	__u32 zero = 0;
	__u32 layout = cfg->flow_layout == NACCT_L_SHARED ? NACCT_FLOW_SHARED :
		       cfg->flow_layout == NACCT_L_PERCPU ? NACCT_FLOW_PERCPU :
							    NACCT_FLOW_LAYOUT_DEFAULT;
	struct stat st;
	int err, i, tc_in;

	memset(info, 0, sizeof(*info));
	info->what = "";
	{
		const char *lim[8];
		int n = nacct_kernel_limits(lim, 8);

		for (i = 0; i < n; i++)
			pr_debug("kernel: %s\n", lim[i]);
	}
	/* before 5.12: the compat twins, whose flow table is per-CPU (maps/account.bpf.h) */
	if (!nacct_kernel_has_atomic_or()) {
		if (cfg->flow_layout == NACCT_L_SHARED) {
			info->what = "load the shared flow layout";
			snprintf(info->detail, sizeof(info->detail),
				 "--flow-layout shared: the kernel has no BPF atomic OR (< 5.12), "
				 "which the shared layout's flag update needs; per-CPU works");
			return -EOPNOTSUPP;
		}
		layout = NACCT_FLOW_PERCPU;
	}
	/* --mode offload: refuse early, naming what the driver lacks */
	if (cfg->mode == NACCT_M_OFFLOAD) {
		info->what = "check for hardware offload";
		err = nacct_offload_check(cfg->ifname, cfg->hook == NACCT_H_XDP, info->detail,
					  sizeof(info->detail));
		if (err)
			return err;
	}
	a.ifindex = if_nametoindex(cfg->ifname);
	if (!a.ifindex)
		return -ENODEV;
	snprintf(a.ifname, sizeof(a.ifname), "%s", cfg->ifname);
	{
		char name[64];

		if (!nacct_pin_name(a.ifname, name, sizeof(name)))
			stale_iface(name, a.ifindex, a.ifname, 1);
	}
	clean_stale_tmp();
	if (nacct_pin_dir(a.ifname, a.dir, sizeof(a.dir)))
		return -ENAMETOOLONG;
	if (stat(a.dir, &st) == 0) {
		struct nacct_iface_maps im;

		/* never reuse pins of another build: say so */
		err = nacct_iface_open(a.ifname, &im);
		if (!err)
			nacct_iface_close(&im);
		snprintf(info->detail, sizeof(info->detail), "%s", a.dir);
		return err == -EPROTO ? -EPROTO : -EALREADY;
	}
	/*
	 * A forced --probes mode is part of the request: the side programs
	 * first, so that a kernel (or a loaded set) that cannot meet it leaves
	 * nothing attached.  auto keeps them best-effort, after the data path.
	 */
	if (cfg->side_programs != NACCT_SIDE_OFF && cfg->probes != NACCT_PROBES_AUTO) {
		info->what = "load the side programs";
		err = nacct_probes_ensure(cfg->probes, info->detail, sizeof(info->detail));
		if (err == -EOPNOTSUPP || err == -EBUSY)
			return -EINVAL;
		if (err < 0)
			return err;
		info->probes = err;
		info->detail[0] = '\0';
	}
	{
		char name[64];

		nacct_pin_name(a.ifname, name, sizeof(name));
		nacct_pin_tmp_dir(name, a.tmpdir, sizeof(a.tmpdir));
	}
	info->what = "create the pin directory";
	if (mkdir(a.tmpdir, 0700)) {
		err = -errno;
		a.tmpdir[0] = '\0';
		goto fail;
	}
	if (cfg->hook == NACCT_H_XDP) {
		info->what = "check for another XDP program";
		err = check_existing_xdp(&a, cfg, info);
		if (!err && a.multi && cfg->domain) {
			snprintf(info->detail, sizeof(info->detail),
				 "%s runs libxdp's dispatcher; a shared domain's program cannot join "
				 "one: attach it with maps of its own (--domain none)", a.ifname);
			err = -EINVAL;
		}
		if (err)
			goto fail;
	}
	clean_stale_tc(a.ifindex, a.ifname);

	if (cfg->domain) {
		err = domain_join(&a, cfg, layout, &meta, info);
		if (err)
			goto fail;
		meta.ifindex = a.ifindex;
		meta.hook = cfg->hook == NACCT_H_XDP ? NACCT_HOOK_XDP : NACCT_HOOK_TC;
		snprintf(meta.ifname, sizeof(meta.ifname), "%s", a.ifname);
		info->what = "enter the shared domain";
		err = domain_enter(&a);
		if (err)
			goto fail;
		goto hooks;
	}
	oopts.pin_root_path = a.tmpdir;
	a.frags = want_frags(&a, cfg, a.single_why, sizeof(a.single_why));
	if (a.frags < 0) {
		err = a.frags;
		info->what = "load the multi-buffer XDP program";
		snprintf(info->detail, sizeof(info->detail),
			 MB_ON_REFUSED);
		goto fail;
	}
	if (!a.frags && a.single_why[0])
		pr_info("%s: %s\n", a.ifname, a.single_why);
	info->what = "open BPF objects";
	a.xdp = xdp_open(&oopts, cfg, layout, a.frags);
	a.tc = tc_open(&oopts, cfg, layout);
	if (!a.xdp || !a.tc) {
		err = -errno;
		goto fail;
	}
	/* in libxdp's dispatcher the XDP program is loaded as it joins
	 * (join_dispatcher): it reuses the maps the TC object pinned and this
	 * filled, so it counts from its first packet as the link-owned one does */
	info->what = "load the XDP program";
	err = a.multi ? 0 : nacct_xdp__load(a.xdp);
	if (err && a.frags && cfg->multi_buffer == NACCT_MB_AUTO) {
		/* a kernel that has the helper and still refuses the variant
		 * (e.g. bpf_probe_read_kernel under lockdown=confidentiality):
		 * auto takes the single-buffer program (libbpf unpinned what
		 * the failed load had pinned) */
		snprintf(a.single_why, sizeof(a.single_why),
			 "single-buffer: the kernel refused the multi-buffer program (%s)",
			 strerror(-err));
		pr_info("%s: %s\n", a.ifname, a.single_why);
		nacct_xdp__destroy(a.xdp);
		a.frags = 0;
		a.xdp = xdp_open(&oopts, cfg, layout, 0);
		err = a.xdp ? nacct_xdp__load(a.xdp) : -errno;
	}
	if (err)
		goto fail;
	info->what = "load the TC programs";
	err = nacct_tc__load(a.tc);
	if (err)
		goto fail;

	info->what = "fill the subnet table";
	err = fill_tables(a.tc, cfg);
	if (err)
		goto fail;

	memset(&meta, 0, sizeof(meta));
	meta.version = NACCT_META_VERSION;
	meta.ifindex = a.ifindex;
	meta.hook = cfg->hook == NACCT_H_XDP ? NACCT_HOOK_XDP : NACCT_HOOK_TC;
	meta.max_flows = cfg->max_flows;
	meta.flow_layout = layout;
	snprintf(meta.ifname, sizeof(meta.ifname), "%s", a.ifname);
	/* the tunnel settings as loaded (the TC object's equal the XDP one's) */
	meta.decap = a.xdp->rodata->nacct_decap_on;
	for (i = 0; i < NACCT_TUN_PORTS; i++) {
		meta.vxlan_ports[i] = ntohs(a.xdp->rodata->nacct_vxlan_ports[i]);
		meta.geneve_ports[i] = ntohs(a.xdp->rodata->nacct_geneve_ports[i]);
	}
	/* the TC object's: loaded by now (in libxdp's dispatcher the XDP object
	 * is loaded only as it joins); both share the pinned map */
	a.meta_fd = dup(bpf_map__fd(a.tc->maps.nacct_meta));

hooks:
	/* egress first: a failure there leaves nothing to undo on ingress */
	info->what = "attach the TC egress filter";
	err = tc_attach(a.ifindex, BPF_TC_EGRESS, prog_fd_tc(&a, 0), &a.tc_prio, &a.qdisc_created);
	if (err)
		goto fail;
	a.egress_on = 1;
	tc_in = cfg->hook != NACCT_H_XDP;
	if (tc_in) {
		snprintf(meta.reason, sizeof(meta.reason), "--hook tc: TC ingress + TC egress");
	} else {
		info->what = a.multi ? "load the XDP program into libxdp's dispatcher" :
				       "attach the XDP program";
		err = attach_xdp(&a, cfg, &meta);
		/* the kernel takes no XDP program below a device that has one
		 * (a bridge's port, a bond's slave: "Cannot attach when an
		 * upper device already has a program"): TC ingress there */
		if (err == -EEXIST && !a.multi && cfg->mode != NACCT_M_OFFLOAD) {
			int up = master_of(a.ifindex);
			char upn[IF_NAMESIZE] = "";

			if (up && xdp_prog_on(up) && if_indextoname(up, upn)) {
				tc_in = 1;
				err = 0;
				snprintf(meta.reason, sizeof(meta.reason),
					 "TC ingress + TC egress: %s, its master, runs XDP and the "
					 "kernel takes no XDP program below it",
					 upn);
			}
		}
		if (err)
			goto fail;
	}
	if (tc_in) {
		info->what = "attach the TC ingress filter";
		err = tc_attach(a.ifindex, BPF_TC_INGRESS, prog_fd_tc(&a, 1), &a.tc_prio,
				&a.qdisc_created);
		if (err)
			goto fail;
		a.ingress_on = 1;
		meta.hook = NACCT_HOOK_TC;
	}
	meta.tc_prio = a.tc_prio;
	meta.tc_qdisc_created = a.qdisc_created;
	clock_gettime(CLOCK_REALTIME, &now);
	meta.attached_at = (__u64)now.tv_sec * 1000000000ULL + now.tv_nsec;

	/* the TX queue rows: a kernel that refuses them leaves the
	 * attachment without them, said here and by `nacct queues`; a
	 * domain's member has none (the host's TX queue program adds to an
	 * attachment's whole map) */
	if (cfg->domain) {
		err = -EOPNOTSUPP;
		/* the reason says which domain */
		{
			char r[NACCT_META_REASON_LEN];

			snprintf(r, sizeof(r), "shared domain %s, slot %u: %s", meta.domain,
				 meta.slot, meta.reason);
			snprintf(meta.reason, sizeof(meta.reason), "%s", r);
		}
	} else {
		err = nacct_txq_register(a.ifindex, bpf_map__fd(a.xdp->maps.nacct_queues));
		if (err)
			pr_info("%s: no TX queue counters: %s\n", a.ifname, strerror(-err));
	}
	meta.txq_on = a.txq_on = !err;

	info->what = "pin programs and link";
	err = bpf_map_update_elem(a.meta_fd, &zero, &meta, BPF_ANY) ? -errno : 0;
	if (!err)
		err = pin_fd(prog_fd_tc(&a, 0), a.tmpdir, NACCT_PIN_PROG_TC_EGRESS);
	if (!err && a.ingress_on)
		err = pin_fd(prog_fd_tc(&a, 1), a.tmpdir, NACCT_PIN_PROG_TC_INGRESS);
	/* offload: lib/offload.c pinned the device's program already */
	if (!err && meta.hook == NACCT_HOOK_XDP && meta.xdp_mode != NACCT_MODE_OFFLOAD)
		err = pin_fd(prog_fd_xdp(&a), a.tmpdir, NACCT_PIN_PROG_XDP);
	/* in libxdp's dispatcher libxdp pins the link (lib/dispatcher.c) */
	if (!err && a.link_fd >= 0) {
		char path[512];

		snprintf(path, sizeof(path), "%s/" NACCT_PIN_LINK_XDP, a.tmpdir);
		if (bpf_obj_pin(a.link_fd, path))
			err = -errno;
	}
	if (err)
		goto fail;
	/* the commit point: the attachment exists once its directory has its name */
	info->what = "publish the pin directory";
	if (rename(a.tmpdir, a.dir)) {
		err = -errno;
		goto fail;
	}
	a.tmpdir[0] = '\0';
	a.slot_set = 0;
	a.dom_created = 0;
	close(a.link_fd);
	a.link_fd = -1;
	ctx_close(&a);
	/* the side programs (auto); a failure is reported, the attachment stands */
	if (cfg->side_programs != NACCT_SIDE_OFF && cfg->probes == NACCT_PROBES_AUTO)
		info->probes = nacct_probes_ensure(NACCT_PROBES_AUTO, NULL, 0);
	info->meta = meta;
	info->multi = a.multi;
	snprintf(info->dir, sizeof(info->dir), "%s", a.dir);
	info->what = NULL;
	nacct_xdp__destroy(a.xdp);
	nacct_tc__destroy(a.tc);
	return 0;

fail:
	undo(&a);
	ctx_close(&a);
	if (a.txq_on)
		nacct_txq_unregister(a.ifindex);
	nacct_xdp__destroy(a.xdp);
	nacct_tc__destroy(a.tc);
	if (info->probes == 1) /* loaded for this attach (forced --probes) */
		nacct_probes_release_if_unused();
	return err < 0 ? err : -EIO;
}

int nacct_dispatcher_member(const char *dir, __u32 *prog_id)
{
	struct bpf_prog_info info;
	__u32 ilen = sizeof(info);
	char path[512];
	struct stat st;
	int fd, err = 0;

	*prog_id = 0;
	snprintf(path, sizeof(path), "%s/" NACCT_PIN_LINK_XDP, dir);
	if (!stat(path, &st))
		return 0;
	snprintf(path, sizeof(path), "%s/" NACCT_PIN_PROG_XDP, dir);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(fd, &info, &ilen))
		err = -errno;
	else
		*prog_id = info.id;
	close(fd);
	return err;
}

int nacct_detach_dir(const char *ifname, const char *dir)
{
	struct nacct_meta meta;
	char path[512], tmp[256], name[64];
	int fd, err = 0, ifindex;
	__u32 prog_id;

	/* the commit point of a detach: once the directory has left its name,
	 * the interface is not attached; a detach killed after this leaves a
	 * stale directory that the next attach or detach removes */
	nacct_pin_name(ifname, name, sizeof(name));
	nacct_pin_tmp_dir(name, tmp, sizeof(tmp));
	if (rename(dir, tmp) == 0)
		dir = tmp;

	/* checked like every reader: a pin of another build must not be read
	 * into our struct (its value may be larger) */
	fd = nacct_map_open(dir, "nacct_meta", BPF_MAP_TYPE_ARRAY, 4, sizeof(meta));
	memset(&meta, 0, sizeof(meta));
	if (fd >= 0) {
		if (nacct_read_meta(fd, &meta))
			memset(&meta, 0, sizeof(meta));
		close(fd);
	}
	ifindex = if_nametoindex(ifname);
	if (meta.ifindex && ifindex && (int)meta.ifindex != ifindex)
		pr_warn("%s: ifindex changed (%u -> %d); detaching by name\n", ifname, meta.ifindex,
			ifindex);

	snprintf(path, sizeof(path), "%s/" NACCT_PIN_LINK_XDP, dir);
	fd = bpf_obj_get(path);
	if (fd >= 0) {
		if (bpf_link_detach(fd) && errno != ENOLINK && errno != EINVAL)
			err = -errno;
		close(fd);
	}
	/* in libxdp's dispatcher: out of it, the other programs stay (gone
	 * already, with the dispatcher or the interface: nothing to do) */
	if (ifindex && !nacct_dispatcher_member(dir, &prog_id) && prog_id) {
		int e = nacct_dispatcher_leave(ifindex, prog_id);

		if (e && e != -ENOENT)
			err = e;
	}
	if (ifindex && meta.tc_prio) {
		tc_detach_one(ifindex, BPF_TC_EGRESS, meta.tc_prio);
		if (meta.hook == NACCT_HOOK_TC)
			tc_detach_one(ifindex, BPF_TC_INGRESS, meta.tc_prio);
		if (meta.tc_qdisc_created && !clsact_has_filters(ifname))
			tc_qdisc_destroy(ifindex);
	}
	/* no (readable) meta: which priority is ours is unknown; our filters
	 * are known by their programs' names */
	if (ifindex && (!meta.tc_prio || meta.ifindex != (__u32)ifindex))
		clean_stale_tc(ifindex, ifname);
	/* a shared domain's member: out of the domain (the last one takes it) */
	if (!err && meta.slot)
		domain_leave(dir, &meta);
	if (!err)
		err = nacct_rm_pin_dir(dir);
	/* (whatever meta says: the host's last detach takes the program) */
	if (!err)
		nacct_txq_unregister(meta.ifindex ? (int)meta.ifindex : ifindex);
	if (!err)
		nacct_probes_release_if_unused(); /* the last attachment takes the side programs */
	return err;
}

/*
 * What a killed attach or detach left on ifname (no published attachment):
 * its private pin directories (with the XDP link, if it got that far) and
 * TC filters running nacct's programs.  Describes it in buf (when given)
 * and, with remove, removes it.  Returns how many objects there were.
 */
static int half_state(const char *ifname, int remove, char *buf, size_t len)
{
	struct nacct_dispatcher d = { 0 };
	char name[64];
	int ndirs, nfilt = 0, ndisp = 0, ifindex = if_nametoindex(ifname);

	if (nacct_pin_name(ifname, name, sizeof(name)))
		return 0;
	ndirs = stale_iface(name, ifindex, ifname, remove);
	if (ifindex) {
		nfilt = stale_tc(ifindex, ifname, remove);
		if (!nacct_dispatcher_query(ifindex, 0, &d))
			ndisp = leave_stale(ifindex, &d, ifname, remove);
	}
	if (buf && len)
		snprintf(buf, len, "%d unpublished pin director%s, %d nacct TC filter%s%s", ndirs,
			 ndirs == 1 ? "y" : "ies", nfilt, nfilt == 1 ? "" : "s",
			 ndisp ? ", nacct programs in libxdp's dispatcher" : "");
	return ndirs + nfilt + ndisp;
}

int nacct_half_attached(const char *ifname, char *buf, size_t len)
{
	return half_state(ifname, 0, buf, len);
}

int nacct_detach(const char *ifname, char *left, size_t len)
{
	char dir[256];
	struct stat st;

	if (!ifname[0] || strlen(ifname) >= IF_NAMESIZE || strchr(ifname, '/') ||
	    strchr(ifname, ':'))
		return -EINVAL;
	if (nacct_pin_dir(ifname, dir, sizeof(dir)))
		return -ENOENT;
	if (stat(dir, &st)) {
		/* not attached, but maybe half: a killed attach's leftovers */
		if (half_state(ifname, 1, left, len))
			return 1;
		return -ENOENT;
	}
	return nacct_detach_dir(ifname, dir);
}
