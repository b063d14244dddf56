// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* nacct caps IFACE: the driver and what it can do with XDP (lib/caps.c). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <linux/if_link.h>

#include "nacct.h"
#include "../lib/log.h"
#include "../lib/caps.h"

static const struct {
	__u64 bit;
	const char *key;  /* JSON */
	const char *name; /* table */
} caps_bits[] = {
	{ NACCT_XDP_ACT_BASIC, "basic", "basic actions (pass/drop/tx/aborted)" },
	{ NACCT_XDP_ACT_REDIRECT, "redirect", "redirect (XDP_REDIRECT)" },
	{ NACCT_XDP_ACT_NDO_XMIT, "redirect_target", "redirect target (ndo_xdp_xmit)" },
	{ NACCT_XDP_ACT_HW_OFFLOAD, "hw_offload", "hardware offload" },
	{ NACCT_XDP_ACT_XSK_ZEROCOPY, "xsk_zerocopy", "AF_XDP zero-copy" },
	{ NACCT_XDP_ACT_RX_SG, "rx_sg", "multi-buffer rx (rx sg)" },
	{ NACCT_XDP_ACT_NDO_XMIT_SG, "ndo_xmit_sg", "multi-buffer ndo_xmit (xmit sg)" },
};

static const char *attach_mode_str(__u32 m)
{
	switch (m) {
	case XDP_ATTACHED_DRV: return "native";
	case XDP_ATTACHED_SKB: return "generic";
	case XDP_ATTACHED_HW: return "offload";
	case XDP_ATTACHED_MULTI: return "multi";
	default: return "none";
	}
}

static const char *src_str(enum nacct_caps_src s)
{
	switch (s) {
	case NACCT_CAPS_LIBBPF: return "bpf_xdp_query";
	case NACCT_CAPS_GENL: return "netdev-genl";
	default: return "unknown";
	}
}

int cmd_caps(struct json_opts *cfg)
{
	const char *ifname = cfg->a.argv[0];
	struct nacct_caps c;
	struct utsname u;
	char why[128];
	__u32 mode;
	size_t i;
	int ifindex, err;

	ifindex = nacct_ifindex(ifname);
	if (!ifindex)
		return NACCT_EXIT_USAGE;
	err = nacct_caps_query(ifindex, ifname, &c, 1);
	if (err) {
		pr_warn("%s: %s\n", ifname, strerror(-err));
		return NACCT_EXIT_FAIL;
	}
	mode = nacct_caps_auto(&c, why, sizeof(why));
	uname(&u);

	if (cfg->json) {
		printf("{\"ifname\":");
		json_str(stdout, ifname);
		printf(",\"ifindex\":%d,\"driver\":", ifindex);
		json_str(stdout, c.driver);
		printf(",\"kernel\":");
		json_str(stdout, u.release);
		printf(",\"xdp_features_source\":\"%s\"", src_str(c.src));
		if (c.src == NACCT_CAPS_UNKNOWN)
			printf(",\"xdp_features\":null");
		else
			printf(",\"xdp_features\":%llu", (unsigned long long)c.xdp_features);
		for (i = 0; i < sizeof(caps_bits) / sizeof(caps_bits[0]); i++)
			printf(",\"%s\":%s", caps_bits[i].key,
			       c.src == NACCT_CAPS_UNKNOWN	       ? "null" :
			       c.xdp_features & caps_bits[i].bit ? "true" :
								   "false");
		printf(",\"xsk_zc_max_segs\":%u", c.zc_max_segs);
		printf(",\"offload_probe\":%s,\"offload_probe_detail\":",
		       c.offload < 0 ? "null" : c.offload ? "true" : "false");
		json_str(stdout, c.offload_why);
		printf(",\"auto_mode\":\"%s\",\"auto_reason\":", nacct_mode_str(mode));
		json_str(stdout, why);
		printf(",\"attached\":{\"mode\":\"%s\",\"prog_id\":%u}}\n",
		       attach_mode_str(c.attached_mode), c.attached_id);
		return 0;
	}
	printf("%s (ifindex %d): driver %s, kernel %s\n", ifname, ifindex, c.driver, u.release);
	if (c.src == NACCT_CAPS_UNKNOWN && c.features_err == -ENOENT)
		printf("  xdp-features: unknown (the kernel has no \"netdev\" netlink family: < 6.3)\n");
	else if (c.src == NACCT_CAPS_UNKNOWN)
		printf("  xdp-features: unknown (netdev netlink family: %s)\n",
		       strerror(-c.features_err));
	else
		printf("  xdp-features: 0x%llx (from %s)\n", (unsigned long long)c.xdp_features,
		       src_str(c.src));
	for (i = 0; i < sizeof(caps_bits) / sizeof(caps_bits[0]); i++)
		printf("  %-40s %s\n", caps_bits[i].name,
		       c.src == NACCT_CAPS_UNKNOWN	       ? "unknown" :
		       c.xdp_features & caps_bits[i].bit ? "yes" :
							   "no");
	if (c.zc_max_segs)
		printf("  %-40s %u\n", "AF_XDP zero-copy max segments", c.zc_max_segs);
	printf("  %-40s %s (%s)\n", "offload probe (device-bound load)",
	       c.offload < 0 ? "unknown" : c.offload ? "yes" : "no", c.offload_why);
	printf("  --mode auto would choose: %s (%s)\n", nacct_mode_str(mode), why);
	printf("  now attached: %s", attach_mode_str(c.attached_mode));
	if (c.attached_id)
		printf(" (prog id %u)", c.attached_id);
	printf("\n");
	return 0;
}
