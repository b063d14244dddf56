// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* nacct status: what is attached where, why, and the totals. */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "nacct.h"
#include "log.h"
#include "attach.h"
#include "offload.h"
#include "../maps/maps.h"

static const char *const mal_names[NACCT_MAL_MAX] = {
	[NACCT_MAL_ETH] = "ethernet",   [NACCT_MAL_VLAN] = "vlan",
	[NACCT_MAL_IP4_HDR] = "ipv4_header", [NACCT_MAL_IP4_LEN] = "ipv4_length",
	[NACCT_MAL_IP6_HDR] = "ipv6_header", [NACCT_MAL_IP6_EXT] = "ipv6_ext_header",
	[NACCT_MAL_L4] = "l4_header",
};

/* id of a pinned program or link: both info structs start with type, id */
static __u32 pinned_id(const char *dir, const char *name)
{
	struct {
		__u32 type;
		__u32 id;
	} info = { 0 };
	__u32 ilen = sizeof(info);
	char path[512];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return 0;
	if (bpf_obj_get_info_by_fd(fd, &info, &ilen))
		info.id = 0;
	close(fd);
	return info.id;
}

static const char *ethertype_name(__u32 et, char *buf, size_t len)
{
	switch (et) {
	case 0x0806: return "arp";
	case 0x8035: return "rarp";
	case 0x88cc: return "lldp";
	case 0x8847: return "mpls";
	case 0x8848: return "mpls-mc";
	case 0x8863: return "pppoe-disc";
	case 0x8864: return "pppoe";
	case 0x88e5: return "macsec";
	case 0x88f7: return "ptp";
	case 0x8902: return "cfm";
	case 0x0000: return "llc";
	case 0xffff: return "other";
	default:
		snprintf(buf, len, "0x%04x", et);
		return buf;
	}
}

struct status_sums {
	__u64 flows;
	__u64 flow_packets[NACCT_DIR_MAX];
	__u64 flow_bytes[NACCT_DIR_MAX];
};

static int sum_flows(int fd, struct status_sums *s)
{
	struct nacct_flow *fl = NULL;
	size_t n = 0, i;
	int err = nacct_dump_flows(fd, &fl, &n), d;

	memset(s, 0, sizeof(*s));
	if (err)
		return err;
	s->flows = n;
	for (i = 0; i < n; i++)
		for (d = 0; d < NACCT_DIR_MAX; d++) {
			s->flow_packets[d] += fl[i].val.packets[d];
			s->flow_bytes[d] += fl[i].val.bytes[d];
		}
	free(fl);
	return 0;
}

static int status_one(const char *ifname, int json)
{
	struct nacct_iface_maps m;
	struct nacct_stats st;
	struct status_sums sums;
	struct nacct_hw_counter hw[NACCT_HW_SLOTS];
	struct nacct_ethertype *et = NULL;
	struct nacct_subnet *subs = NULL;
	size_t n_et = 0, n_subs = 0, i;
	__u32 xdp_id, egress_id, ingress_id, link_id;
	char buf[96], tbuf[40];
	int err, present, d;
	__u64 tot_p, tot_b;

	err = nacct_open_attached(ifname, &m);
	if (err)
		return err;
	err = nacct_read_stats(m.stats, &st);
	/* offload: received frames were counted on the NIC (ctl/offload.c) */
	if (!err && m.meta_val.xdp_mode == NACCT_MODE_OFFLOAD) {
		err = nacct_offload_read(m.dir, hw);
		if (!err) {
			st.packets[NACCT_DIR_RX] += hw[NACCT_HW_ALL].packets;
			st.bytes[NACCT_DIR_RX] += hw[NACCT_HW_ALL].bytes;
		}
	}
	if (!err)
		err = sum_flows(m.flows, &sums);
	if (err) {
		pr_warn("%s: cannot read maps: %s\n", ifname, strerror(-err));
		nacct_iface_close(&m);
		return NACCT_EXIT_FAIL;
	}
	nacct_read_ethertypes(m.ethertypes, &et, &n_et);
	nacct_read_subnets(m.subnets, &subs, &n_subs);
	xdp_id = pinned_id(m.dir, "prog_xdp");
	egress_id = pinned_id(m.dir, "prog_tc_egress");
	ingress_id = pinned_id(m.dir, "prog_tc_ingress");
	link_id = pinned_id(m.dir, "link_xdp");
	present = if_nametoindex(ifname) == m.meta_val.ifindex;
	tot_p = st.packets[0] + st.packets[1];
	tot_b = st.bytes[0] + st.bytes[1];

	if (json) {
		printf("{\"ifname\":");
		json_str(stdout, ifname);
		printf(",\"ifindex\":%u,\"present\":%s,\"hook\":\"%s\",\"mode\":\"%s\",\"reason\":",
		       m.meta_val.ifindex, present ? "true" : "false",
		       m.meta_val.hook == NACCT_HOOK_XDP ? "xdp" : "tc",
		       m.meta_val.hook == NACCT_HOOK_XDP ? nacct_mode_str(m.meta_val.xdp_mode) :
							   "tc");
		json_str(stdout, m.meta_val.reason);
		printf(",\"attached_at\":\"%s\"",
		       nacct_rfc3339(m.meta_val.attached_at, tbuf, sizeof(tbuf)));
		printf(",\"programs\":{\"xdp\":%u,\"xdp_link\":%u,\"tc_egress\":%u,\"tc_ingress\":%u,"
		       "\"tc_priority\":%u}",
		       xdp_id, link_id, egress_id, ingress_id, m.meta_val.tc_prio);
		printf(",\"maps\":{\"flows\":%llu,\"max_flows\":%u,\"flows_fill\":%.6f,\"subnets\":%zu}",
		       (unsigned long long)sums.flows, m.meta_val.max_flows,
		       m.meta_val.max_flows ? (double)sums.flows / m.meta_val.max_flows : 0.0,
		       n_subs);
		printf(",\"totals\":{\"packets\":%llu,\"bytes\":%llu", (unsigned long long)tot_p,
		       (unsigned long long)tot_b);
		for (d = 0; d < NACCT_DIR_MAX; d++)
			printf(",\"%s_packets\":%llu,\"%s_bytes\":%llu", d ? "tx" : "rx",
			       (unsigned long long)st.packets[d], d ? "tx" : "rx",
			       (unsigned long long)st.bytes[d]);
		printf(",\"flow_packets\":%llu,\"flow_bytes\":%llu",
		       (unsigned long long)(sums.flow_packets[0] + sums.flow_packets[1]),
		       (unsigned long long)(sums.flow_bytes[0] + sums.flow_bytes[1]));
		printf(",\"overflow_packets\":%llu,\"overflow_bytes\":%llu",
		       (unsigned long long)(st.overflow_packets[0] + st.overflow_packets[1]),
		       (unsigned long long)(st.overflow_bytes[0] + st.overflow_bytes[1]));
		printf(",\"malformed_packets\":%llu,\"malformed_bytes\":%llu",
		       (unsigned long long)(st.malformed_packets[0] + st.malformed_packets[1]),
		       (unsigned long long)(st.malformed_bytes[0] + st.malformed_bytes[1]));
		printf(",\"nonip_packets\":%llu,\"nonip_bytes\":%llu",
		       (unsigned long long)(st.nonip_packets[0] + st.nonip_packets[1]),
		       (unsigned long long)(st.nonip_bytes[0] + st.nonip_bytes[1]));
		printf(",\"fragments\":%llu,\"fragments_noports\":%llu,\"gso_skbs\":%llu",
		       (unsigned long long)(st.frag_packets[0] + st.frag_packets[1]),
		       (unsigned long long)(st.frag_noports[0] + st.frag_noports[1]),
		       (unsigned long long)(st.gso_skbs[0] + st.gso_skbs[1]));
		printf(",\"flow_insert_errors\":%llu,\"samples\":%llu,\"sample_drops\":%llu}",
		       (unsigned long long)st.flow_insert_err, (unsigned long long)st.samples,
		       (unsigned long long)st.sample_drops);
		if (m.meta_val.xdp_mode == NACCT_MODE_OFFLOAD)
			nacct_offload_print(stdout, hw, 1);
		printf(",\"malformed\":{");
		for (i = 0; i < NACCT_MAL_MAX; i++)
			printf("%s\"%s\":%llu", i ? "," : "", mal_names[i],
			       (unsigned long long)st.malformed[i]);
		printf("},\"ethertypes\":{");
		for (i = 0, d = 0; i < n_et; i++) {
			__u64 p = et[i].val.packets[0] + et[i].val.packets[1];

			if (!p)
				continue;
			printf("%s\"%s\":%llu", d++ ? "," : "",
			       ethertype_name(et[i].ethertype, buf, sizeof(buf)),
			       (unsigned long long)p);
		}
		printf("}}\n");
	} else {
		printf("%s%s (ifindex %u)\n", ifname, present ? "" : " [interface gone]",
		       m.meta_val.ifindex);
		if (m.meta_val.hook == NACCT_HOOK_XDP)
			printf("  hooks:     XDP ingress, %s mode (prog %u, link %u); TC egress "
			       "(prog %u, prio %u)\n",
			       nacct_mode_str(m.meta_val.xdp_mode), xdp_id, link_id, egress_id,
			       m.meta_val.tc_prio);
		else
			printf("  hooks:     TC ingress (prog %u) + TC egress (prog %u), prio %u\n",
			       ingress_id, egress_id, m.meta_val.tc_prio);
		printf("  why:       %s\n", m.meta_val.reason);
		printf("  attached:  %s\n", nacct_rfc3339(m.meta_val.attached_at, tbuf, sizeof(tbuf)));
		printf("  flows:     %llu of %u (%.1f%% full)   subnets: %zu\n",
		       (unsigned long long)sums.flows, m.meta_val.max_flows,
		       m.meta_val.max_flows ? 100.0 * sums.flows / m.meta_val.max_flows : 0.0, n_subs);
		printf("  %-10s %14s %16s %14s %16s\n", "", "rx packets", "rx bytes", "tx packets",
		       "tx bytes");
#define ROW(label, p, b)                                                                   \
	printf("  %-10s %14llu %16llu %14llu %16llu\n", label, (unsigned long long)(p)[0],  \
	       (unsigned long long)(b)[0], (unsigned long long)(p)[1], (unsigned long long)(b)[1])
		ROW("total", st.packets, st.bytes);
		ROW("in flows", sums.flow_packets, sums.flow_bytes);
		ROW("overflow", st.overflow_packets, st.overflow_bytes);
		ROW("malformed", st.malformed_packets, st.malformed_bytes);
		ROW("non-IP", st.nonip_packets, st.nonip_bytes);
		if (m.meta_val.xdp_mode == NACCT_MODE_OFFLOAD)
			nacct_offload_print(stdout, hw, 0);
#undef ROW
		printf("  fragments: %llu (ports unknown: %llu)   GSO skbs split: %llu   samples: %llu "
		       "(ring full: %llu)\n",
		       (unsigned long long)(st.frag_packets[0] + st.frag_packets[1]),
		       (unsigned long long)(st.frag_noports[0] + st.frag_noports[1]),
		       (unsigned long long)(st.gso_skbs[0] + st.gso_skbs[1]),
		       (unsigned long long)st.samples, (unsigned long long)st.sample_drops);
		if (st.malformed_packets[0] + st.malformed_packets[1]) {
			printf("  malformed:");
			for (i = 0; i < NACCT_MAL_MAX; i++)
				if (st.malformed[i])
					printf(" %s %llu", mal_names[i],
					       (unsigned long long)st.malformed[i]);
			printf("\n");
		}
		if (st.nonip_packets[0] + st.nonip_packets[1]) {
			printf("  non-IP:   ");
			for (i = 0; i < n_et; i++) {
				__u64 p = et[i].val.packets[0] + et[i].val.packets[1];

				if (p)
					printf(" %s %llu",
					       ethertype_name(et[i].ethertype, buf, sizeof(buf)),
					       (unsigned long long)p);
			}
			printf("\n");
		}
		if (st.flow_insert_err)
			printf("  flow insert errors (other than full): %llu\n",
			       (unsigned long long)st.flow_insert_err);
	}
	free(et);
	free(subs);
	nacct_iface_close(&m);
	return 0;
}

int cmd_status(struct nacct_config *cfg)
{
	char **names;
	size_t n, i;
	int err, ret = 0;

	err = nacct_need_bpf();
	if (err)
		return err;
	if (cfg->argc == 1)
		return status_one(cfg->argv[0], cfg->json);
	err = nacct_list_attached(&names, &n);
	if (err) {
		pr_warn("cannot list %s: %s\n", NACCT_PIN_ROOT, strerror(-err));
		return NACCT_EXIT_FAIL;
	}
	if (!n && !cfg->json)
		printf("no interface attached (try 'nacct attach IFACE')\n");
	for (i = 0; i < n; i++) {
		int r = status_one(names[i], cfg->json);

		if (r && !ret)
			ret = r;
		if (!cfg->json && i + 1 < n)
			printf("\n");
		free(names[i]);
	}
	free(names);
	return ret;
}
