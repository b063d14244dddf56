// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Hardware offload.  An offloaded XDP program is translated by the driver
 * and runs on the NIC; it may only use maps the device holds (bound with
 * bpf_map__set_ifindex), of the types and sizes the device allows, and the
 * helpers its JIT knows.  nacct's offload variant therefore keeps
 * interface totals only (maps/nacct.h, "hardware offload"); the host part
 * of the attachment (TC egress, the host maps, meta) is the same as in the
 * other modes, so status, flows and detach work unchanged, and status adds
 * the device's counters to the receive totals.
 *
 * Drivers with offload: nfp (Netronome Agilio), and netdevsim, the
 * kernel's test device, which verifies, "translates" and attaches but
 * never runs the program on packets: on netdevsim the counters stay 0.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <net/if.h>
#include "log.h"
#include "caps.h"
#include "offload.h"
#include "../maps/maps.h"
#include "nacct_offload.skel.h"

int nacct_offload_check(const char *ifname, int xdp_hook, char *why, size_t len)
{
	struct nacct_caps c;
	int ifindex;

	if (!xdp_hook) {
		snprintf(why, len, "--mode offload is an XDP mode: it needs --hook xdp");
		return -EINVAL;
	}
	ifindex = if_nametoindex(ifname);
	if (!ifindex)
		return -ENODEV;
	if (nacct_caps_query(ifindex, ifname, &c, 1)) {
		snprintf(why, len, "cannot read the interface's capabilities");
		return -EOPNOTSUPP;
	}
	if (c.offload == 1)
		return 0;
	if (c.offload < 0)
		snprintf(why, len, "cannot tell whether driver %s offloads XDP: %s", c.driver,
			 c.offload_why);
	else
		snprintf(why, len,
			 "driver %s has no XDP hardware offload (xdp-features hw-offload: %s; %s); "
			 "use --mode native or --mode generic (see 'nacct caps %s')",
			 c.driver,
			 c.src == NACCT_CAPS_UNKNOWN ? "unknown, kernel < 6.3" :
			 (c.xdp_features & NACCT_XDP_ACT_HW_OFFLOAD) ? "yes" : "no",
			 c.offload_why, ifname);
	return -EOPNOTSUPP;
}

int nacct_offload_attach(int ifindex, const char *dir, struct nacct_meta *meta, int *link_fd)
{
	LIBBPF_OPTS(bpf_link_create_opts, lopts, .flags = XDP_FLAGS_HW_MODE);
	struct nacct_offload *skel;
	char path[512];
	int err, fd;

	skel = nacct_offload__open();
	if (!skel)
		return -errno;
	/* program and map live on the device: both must name it before load */
	bpf_program__set_ifindex(skel->progs.nacct_offload, ifindex);
	bpf_map__set_ifindex(skel->maps.nacct_hw_stats, ifindex);
	err = nacct_offload__load(skel);
	if (err) {
		pr_warn("the device refused nacct's offload program or its map: %s\n",
			strerror(-err));
		goto out;
	}
	snprintf(path, sizeof(path), "%s/" NACCT_MAP_HW_STATS, dir);
	err = bpf_map__pin(skel->maps.nacct_hw_stats, path);
	if (!err) {
		snprintf(path, sizeof(path), "%s/" NACCT_PIN_PROG_XDP, dir);
		err = bpf_program__pin(skel->progs.nacct_offload, path);
	}
	if (err)
		goto out;
	fd = bpf_link_create(bpf_program__fd(skel->progs.nacct_offload), ifindex, BPF_XDP, &lopts);
	if (fd < 0) {
		err = -errno;
		goto out;
	}
	*link_fd = fd;
	meta->xdp_mode = NACCT_MODE_OFFLOAD;
	snprintf(meta->reason, sizeof(meta->reason),
		 "offload requested: XDP runs on the NIC, device totals only (no flows)");
out:
	/* the link holds the program, the pins hold program and map */
	nacct_offload__destroy(skel);
	return err;
}
