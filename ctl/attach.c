// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * nacct attach / detach: validate, call the library (lib/attach.c), and
 * say what happened in one line, or what stood in the way with the exit
 * status it deserves.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "nacct.h"
#include "../lib/log.h"
#include "../lib/probes.h"
#include "../maps/maps.h"

int nacct_attach_error(const char *ifname, int err, const struct nacct_attach_info *info)
{
	const char *what = info->what && *info->what ? info->what : "attach";

	switch (err) {
	case -ENODEV:
		return nacct_usage_error("no such interface: %s", ifname);
	case -ENAMETOOLONG:
		return nacct_usage_error("interface name too long");
	case -EALREADY:
		return nacct_usage_error("%s is already attached (see 'nacct status %s'; "
					 "'nacct detach %s' first)", ifname, ifname, ifname);
	case -EPROTO:
		return nacct_usage_error("%s: %s holds maps made by an incompatible nacct build; "
					 "'nacct detach %s' removes them", ifname, info->detail, ifname);
	case -EOPNOTSUPP:
	case -EINVAL:
		if (info->detail[0])
			return nacct_usage_error("%s: %s", ifname, info->detail);
		break;
	case -EBUSY:
		if (info->detail[0])
			return nacct_usage_error("%s already has an %s; nacct does not replace it "
						 "without --force", ifname, info->detail);
		/* fall through */
	case -EEXIST:
		return nacct_usage_error("%s: cannot %s: %s (another program holds the hook)",
					 ifname, what, strerror(-err));
	case -EPERM:
		return nacct_usage_error("%s: cannot %s: %s (needs root, or CAP_BPF + CAP_NET_ADMIN "
					 "+ CAP_PERFMON)", ifname, what, strerror(-err));
	}
	if ((err == -EACCES || err == -EINVAL) && !strncmp(what, "load", 4))
		pr_warn("%s: cannot %s: the kernel's verifier rejected it (%s; 'nacct -vv attach' "
			"shows the log)\n", ifname, what, strerror(-err));
	else
		pr_warn("%s: cannot %s: %s\n", ifname, what, strerror(-err));
	return NACCT_EXIT_FAIL;
}

int cmd_attach(struct attach_opts *o)
{
	struct nacct_attach_info info;
	int err;

	o->req.ifname = o->a.argv[0];
	if (o->req.side_programs == NACCT_SIDE_OFF && o->req.probes != NACCT_PROBES_AUTO)
		return nacct_usage_error("--probes %s: the side programs are off (--side-programs off)",
					 nacct_probes_mode_names[o->req.probes]);
	if (!nacct_ifindex(o->req.ifname))
		return NACCT_EXIT_USAGE;
	err = nacct_need_bpf();
	if (err)
		return err;
	err = nacct_attach(&o->req, &info);
	if (err)
		return nacct_attach_error(o->req.ifname, err, &info);
	if (info.meta.hook == NACCT_HOOK_XDP)
		printf("%s: attached: XDP ingress (%s mode) + TC egress\n  mode: %s\n", o->req.ifname,
		       nacct_mode_str(info.meta.xdp_mode), info.meta.reason);
	else
		printf("%s: attached: TC ingress + TC egress\n", o->req.ifname);
	printf("  flows: up to %u, subnets: %zu, pins: %s\n", info.meta.max_flows,
	       o->req.subnets.n, info.dir);
	return 0;
}

int cmd_detach(struct detach_opts *o)
{
	const char *ifname = o->a.argv[0];
	char left[128];
	int err;

	err = nacct_need_bpf();
	if (err)
		return err;
	err = nacct_detach(ifname, left, sizeof(left));
	switch (err) {
	case 0:
		printf("%s: detached\n", ifname);
		return 0;
	case 1:
		printf("%s: removed what a killed nacct left: %s\n", ifname, left);
		return 0;
	case -EINVAL:
		return nacct_usage_error("invalid interface name '%s'", ifname);
	case -ENOENT:
		return nacct_usage_error("%s is not attached", ifname);
	default:
		pr_warn("%s: detach failed: %s\n", ifname, strerror(-err));
		return NACCT_EXIT_FAIL;
	}
}

int nacct_open_attached(const char *ifname, struct nacct_iface_maps *m)
{
	char left[256];
	int err = nacct_iface_open(ifname, m);

	if (err == -ENOENT && nacct_half_attached(ifname, left, sizeof(left)))
		return nacct_usage_error("%s is not attached, but a killed nacct left %s behind "
					 "('nacct detach %s' removes it)", ifname, left, ifname);
	if (err == -ENOENT)
		return nacct_usage_error("%s is not attached", ifname);
	if (err == -EPROTO)
		return nacct_usage_error("%s: pinned maps were made by an incompatible nacct build; "
					 "detach and attach again", ifname);
	if (err) {
		pr_warn("%s: cannot open pinned maps: %s\n", ifname, strerror(-err));
		return NACCT_EXIT_FAIL;
	}
	return 0;
}
