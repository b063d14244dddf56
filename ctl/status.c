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
#include "../lib/log.h"
#include "../lib/probes.h"
#include "../lib/dispatcher.h"
#include "../maps/maps.h"
#include "../lib/obuf.h"
#include "../lib/snapshot.h"

/* status --json "totals": the status fields of the totals table */
static void json_totals(struct nacct_obuf *o, const struct nacct_totals *t)
{
	size_t i;
	int n = 0, d;

	nacct_obuf_str(o, ",\"totals\":{");
	for (i = 0; i < nacct_total_nfields; i++) {
		const struct nacct_total_field *f = &nacct_total_fields[i];

		if (!(f->out & NACCT_TOUT_STATUS))
			continue;
		nacct_obuf_printf(o, "%s\"%s\":", n++ ? "," : "", f->name);
		nacct_obuf_u64(o, nacct_total_get(f, t, NACCT_FD_BOTH));
		for (d = 0; f->json_split && d < NACCT_DIR_MAX; d++) {
			nacct_obuf_printf(o, ",\"%s_%s\":", d ? "tx" : "rx", f->name);
			nacct_obuf_u64(o, nacct_total_get(f, t, d));
		}
	}
	nacct_obuf_chr(o, '}');
}

/* the status table: one row per bucket, packets and bytes per direction */
static void text_totals(struct nacct_obuf *o, const struct nacct_totals *t)
{
	const struct nacct_total_field *pk, *by;
	size_t i, j;
	int row, d, n = 0;

	nacct_obuf_printf(o, "  %-10s %14s %16s %14s %16s\n", "", "rx packets", "rx bytes",
			  "tx packets", "tx bytes");
	for (row = NACCT_TROW_TOTAL; row <= NACCT_TROW_EXPIRED; row++) {
		pk = by = NULL;
		for (i = 0; i < nacct_total_nfields; i++) {
			const struct nacct_total_field *f = &nacct_total_fields[i];

			if ((int)f->row != row || !(f->out & NACCT_TOUT_STATUS))
				continue;
			if (!strcmp(f->unit, "packets"))
				pk = f;
			else if (!strcmp(f->unit, "bytes"))
				by = f;
		}
		if (!pk || !by)
			continue;
		nacct_obuf_printf(o, "  %-10s", nacct_trow_labels[row]);
		for (d = 0; d < NACCT_DIR_MAX; d++)
			nacct_obuf_printf(o, " %14llu %16llu",
					  (unsigned long long)nacct_total_get(pk, t, d),
					  (unsigned long long)nacct_total_get(by, t, d));
		nacct_obuf_chr(o, '\n');
	}
	/* the other counters, as "name n" pairs on one line */
	for (j = 0; j < nacct_total_nfields; j++) {
		const struct nacct_total_field *f = &nacct_total_fields[j];

		if (f->row != NACCT_TROW_NONE || !(f->out & NACCT_TOUT_STATUS))
			continue;
		nacct_obuf_printf(o, "%s %s %llu", n++ ? " " : "  counters:", f->name,
				  (unsigned long long)nacct_total_get(f, t, NACCT_FD_BOTH));
	}
	if (n)
		nacct_obuf_chr(o, '\n');
}

static void offload_line(struct nacct_obuf *o, const struct nacct_snapshot *s, int json)
{
	const struct nacct_hw_counter *hw = s->hw;

	if (json) {
		nacct_obuf_printf(o, ",\"offload\":{\"rx_packets\":%llu,\"rx_bytes\":%llu,"
				     "\"rx_nonip_packets\":%llu,\"rx_nonip_bytes\":%llu}",
				  (unsigned long long)hw[NACCT_HW_ALL].packets,
				  (unsigned long long)hw[NACCT_HW_ALL].bytes,
				  (unsigned long long)hw[NACCT_HW_NONIP].packets,
				  (unsigned long long)hw[NACCT_HW_NONIP].bytes);
		return;
	}
	nacct_obuf_printf(o, "  offload:   the NIC counted %llu rx packets (%llu bytes), %llu of "
			     "them without an IP header; totals only, no flows on the device\n",
			  (unsigned long long)hw[NACCT_HW_ALL].packets,
			  (unsigned long long)hw[NACCT_HW_ALL].bytes,
			  (unsigned long long)hw[NACCT_HW_NONIP].packets);
}

/* the tunnel settings the data path was loaded with (--decap, --tunnel-ports) */
static void tunnel_ports(struct nacct_obuf *o, const struct nacct_meta *mv, int json)
{
	const __u16 *ports[2] = { mv->vxlan_ports, mv->geneve_ports };
	static const char *const names[2] = { "vxlan", "geneve" };
	int t, i, n;

	if (json)
		nacct_obuf_printf(o, ",\"decap\":%s,\"tunnel_ports\":{", mv->decap ? "true" : "false");
	else
		nacct_obuf_printf(o, "  tunnels:   decap %s;", mv->decap ? "on" : "off");
	for (t = 0; t < 2; t++) {
		nacct_obuf_printf(o, json ? "%s\"%s\":[" : " %s%s ", json && t ? "," : "", names[t]);
		for (i = n = 0; i < NACCT_TUN_PORTS; i++)
			if (ports[t][i])
				nacct_obuf_printf(o, "%s%u", n++ ? "," : "", ports[t][i]);
		nacct_obuf_str(o, json ? "]" : "");
	}
	nacct_obuf_str(o, json ? "}" : "\n");
}

/*
 * The side programs (one set per host, lib/probes.c): the --probes mode
 * they were loaded with and what watches each event, and why.  JSON: a
 * member of every attachment's object; text: once, after the attachments.
 */
static void side_programs(struct nacct_obuf *o, const struct nacct_probe_choice *c, int loaded,
			  int json)
{
	__u32 i;

	if (json) {
		if (!c) {
			nacct_obuf_printf(o, ",\"side_programs\":%s",
					  loaded ? "{\"mode\":null,\"programs\":null}" : "null");
			return;
		}
		nacct_obuf_printf(o, ",\"side_programs\":{\"mode\":\"%s\",\"programs\":[",
				  nacct_probes_mode_names[c->mode]);
		for (i = 0; i < c->n; i++) {
			const struct nacct_probe_prog *p = &c->p[i];

			nacct_obuf_str(o, i ? ",{\"event\":" : "{\"event\":");
			nacct_obuf_json_str(o, p->event);
			nacct_obuf_printf(o, ",\"kind\":\"%s\",\"has_twin\":%s,\"section\":",
					  p->kind < NACCT_PK_KINDS ? nacct_probe_kind_names[p->kind] : "?",
					  p->has_twin ? "true" : "false");
			nacct_obuf_json_str(o, p->section);
			nacct_obuf_str(o, ",\"why\":");
			nacct_obuf_json_str(o, p->why);
			nacct_obuf_chr(o, '}');
		}
		nacct_obuf_str(o, "]}");
		return;
	}
	if (!c) {
		nacct_obuf_str(o, loaded ? "side programs: loaded by another nacct build (no record of "
					   "their choice; the next attach replaces them)\n"
					 : "side programs: not loaded\n");
		return;
	}
	nacct_obuf_printf(o, "side programs (every attachment and `nacct events`), --probes %s:\n",
			  nacct_probes_mode_names[c->mode]);
	for (i = 0; i < c->n; i++)
		nacct_obuf_printf(o, "  %-20s %-38s %s\n", c->p[i].event,
				  c->p[i].section[0] ? c->p[i].section : "-", c->p[i].why);
}

/* what the running kernel lacks and what nacct does instead (lib/attach.c) */
static void kernel_limits(struct nacct_obuf *o, int json)
{
	const char *lim[8];
	int i, n = nacct_kernel_limits(lim, 8);

	if (json)
		nacct_obuf_str(o, ",\"kernel_limits\":[");
	for (i = 0; i < n; i++) {
		if (json) {
			if (i)
				nacct_obuf_chr(o, ',');
			nacct_obuf_json_str(o, lim[i]);
		} else {
			nacct_obuf_printf(o, "  kernel:    %s\n", lim[i]);
		}
	}
	if (json)
		nacct_obuf_chr(o, ']');
}

struct side_state {
	struct nacct_probe_choice c;
	int have;   /* c is valid */
	int loaded; /* a set is pinned */
};

static void side_read(struct side_state *ss)
{
	struct nacct_probe_maps m;

	ss->have = nacct_probes_choice_read(&ss->c) == 0;
	ss->loaded = ss->have || nacct_probes_open(&m) == 0;
	if (!ss->have && ss->loaded)
		nacct_probes_close(&m);
}

/*
 * An XDP attachment without a link of its own is in libxdp's dispatcher
 * (lib/attach.h enum nacct_multi): what is in it now, beside nacct.  0: not
 * in a dispatcher (or the interface is gone); 1 with @d filled.
 */
static int status_dispatcher(const struct nacct_snapshot *s, struct nacct_dispatcher *d)
{
	__u32 self = s->progs[NACCT_PROG_XDP].id;

	if (s->meta.hook != NACCT_HOOK_XDP || s->link_id || s->offload || !self || !s->present)
		return 0;
	return !nacct_dispatcher_query(s->meta.ifindex, self, d) && d->id;
}

/* one attachment's status, from its snapshot: the text or JSON form */
void nacct_status_format(struct nacct_obuf *o, const char *ifname, const struct nacct_snapshot *s,
			 const struct nacct_probe_choice *side, int side_loaded, int json)
{
	const struct nacct_meta *mv = &s->meta;
	const struct nacct_stats *st = &s->t.st;
	struct nacct_dispatcher d;
	int in_disp = status_dispatcher(s, &d);
	char buf[96], tbuf[40];
	size_t i;
	int n;

	if (json) {
		nacct_obuf_str(o, "{\"ifname\":");
		nacct_obuf_json_str(o, ifname);
		nacct_obuf_printf(o, ",\"ifindex\":%u,\"present\":%s,\"hook\":\"%s\",\"mode\":\"%s\","
				     "\"reason\":",
				  mv->ifindex, s->present ? "true" : "false",
				  mv->hook == NACCT_HOOK_XDP ? "xdp" : "tc",
				  mv->hook == NACCT_HOOK_XDP ? nacct_mode_str(mv->xdp_mode) : "tc");
		nacct_obuf_json_str(o, mv->reason);
		nacct_obuf_printf(o, ",\"attached_at\":\"%s\"",
				  nacct_rfc3339(mv->attached_at, tbuf, sizeof(tbuf)));
		nacct_obuf_printf(o, ",\"programs\":{\"xdp\":%u,\"xdp_link\":%u,\"tc_egress\":%u,"
				     "\"tc_ingress\":%u,\"tc_priority\":%u}",
				  s->progs[NACCT_PROG_XDP].id, s->link_id,
				  s->progs[NACCT_PROG_TC_EGRESS].id, s->progs[NACCT_PROG_TC_INGRESS].id,
				  mv->tc_prio);
		if (in_disp) {
			nacct_obuf_printf(o, ",\"dispatcher\":{\"id\":%u,\"programs\":%d,"
					     "\"others\":", d.id, d.n_progs);
			nacct_obuf_json_str(o, d.others);
			nacct_obuf_chr(o, '}');
		}
		nacct_obuf_printf(o, ",\"maps\":{\"flows\":%llu,\"max_flows\":%u,\"flows_fill\":%.6f,"
				     "\"subnets\":%zu,\"flow_layout\":\"%s\"}",
				  (unsigned long long)s->t.flows, mv->max_flows,
				  mv->max_flows ? (double)s->t.flows / mv->max_flows : 0.0, s->n_subs,
				  mv->flow_layout == NACCT_FLOW_SHARED ? "shared" : "per-cpu");
		kernel_limits(o, 1);
		tunnel_ports(o, mv, 1);
		/* a shared domain's member: the domain, its slot (null: own maps) */
		if (mv->slot) {
			nacct_obuf_str(o, ",\"domain\":{\"name\":");
			nacct_obuf_json_str(o, mv->domain);
			nacct_obuf_printf(o, ",\"slot\":%u,\"max_ifaces\":%u,\"dedup\":%s}",
					  mv->slot, mv->max_ifaces - 1, mv->dedup ? "true" : "false");
		} else {
			nacct_obuf_str(o, ",\"domain\":null");
		}
		nacct_obuf_printf(o, ",\"tx_queues_counted\":%s", mv->txq_on ? "true" : "false");
		side_programs(o, side, side_loaded, 1);
		json_totals(o, &s->t);
		if (s->offload)
			offload_line(o, s, 1);
		nacct_obuf_str(o, ",\"malformed\":{");
		for (i = 0; i < NACCT_MAL_MAX; i++)
			nacct_obuf_printf(o, "%s\"%s\":%llu", i ? "," : "", nacct_malformed_names[i],
					  (unsigned long long)st->malformed[i]);
		nacct_obuf_str(o, "},\"ethertypes\":{");
		for (i = 0, n = 0; i < s->n_et; i++) {
			__u64 p = s->et[i].val.packets[0] + s->et[i].val.packets[1];

			if (p)
				nacct_obuf_printf(o, "%s\"%s\":%llu", n++ ? "," : "",
						  nacct_ethertype_name(s->et[i].ethertype, buf, sizeof(buf)),
						  (unsigned long long)p);
		}
		nacct_obuf_str(o, "}}\n");
	} else {
		nacct_obuf_printf(o, "%s%s (ifindex %u)\n", ifname, s->present ? "" : " [interface gone]",
				  mv->ifindex);
		if (in_disp)
			nacct_obuf_printf(o, "  hooks:     XDP ingress, %s mode in libxdp's dispatcher "
					     "(dispatcher id %u, prog %u); TC egress (prog %u, prio %u)\n"
					     "  beside:    %s (%d programs in the dispatcher, nacct "
					     "first)\n",
					  nacct_mode_str(d.mode), d.id, s->progs[NACCT_PROG_XDP].id,
					  s->progs[NACCT_PROG_TC_EGRESS].id, mv->tc_prio, d.others,
					  d.n_progs);
		else if (mv->hook == NACCT_HOOK_XDP)
			nacct_obuf_printf(o, "  hooks:     XDP ingress, %s mode (prog %u, link %u); TC "
					     "egress (prog %u, prio %u)\n",
					  nacct_mode_str(mv->xdp_mode), s->progs[NACCT_PROG_XDP].id,
					  s->link_id, s->progs[NACCT_PROG_TC_EGRESS].id, mv->tc_prio);
		else
			nacct_obuf_printf(o, "  hooks:     TC ingress (prog %u) + TC egress (prog %u), prio "
					     "%u\n",
					  s->progs[NACCT_PROG_TC_INGRESS].id,
					  s->progs[NACCT_PROG_TC_EGRESS].id, mv->tc_prio);
		nacct_obuf_printf(o, "  why:       %s\n", mv->reason);
		kernel_limits(o, 0);
		nacct_obuf_printf(o, "  attached:  %s\n",
				  nacct_rfc3339(mv->attached_at, tbuf, sizeof(tbuf)));
		nacct_obuf_printf(o, "  flows:     %llu of %u (%.1f%% full, %s layout)   subnets: %zu\n",
				  (unsigned long long)s->t.flows, mv->max_flows,
				  mv->max_flows ? 100.0 * s->t.flows / mv->max_flows : 0.0,
				  mv->flow_layout == NACCT_FLOW_SHARED ? "shared" : "per-CPU", s->n_subs);
		tunnel_ports(o, mv, 0);
		if (mv->slot)
			nacct_obuf_printf(o, "  domain:    %s, slot %u of %u: programs and tables shared "
					     "(flows, subnets, ethertypes: the domain's; totals, "
					     "queues: this interface's)%s\n",
					  mv->domain, mv->slot, mv->max_ifaces - 1,
					  mv->dedup ? "; host view (flows --host)" : "");
		nacct_obuf_printf(o, "  queues:    RX by the data path; TX %s (nacct queues)\n",
				  mv->txq_on ? "by tp_btf net:net_dev_start_xmit" :
				  mv->slot   ? "not counted (a shared domain's member)" :
					       "not counted");
		text_totals(o, &s->t);
		if (s->offload)
			offload_line(o, s, 0);
		if (st->malformed_packets[0] + st->malformed_packets[1]) {
			nacct_obuf_str(o, "  malformed:");
			for (i = 0; i < NACCT_MAL_MAX; i++)
				if (st->malformed[i])
					nacct_obuf_printf(o, " %s %llu", nacct_malformed_names[i],
							  (unsigned long long)st->malformed[i]);
			nacct_obuf_chr(o, '\n');
		}
		if (st->nonip_packets[0] + st->nonip_packets[1]) {
			nacct_obuf_str(o, "  non-IP:   ");
			for (i = 0; i < s->n_et; i++) {
				__u64 p = s->et[i].val.packets[0] + s->et[i].val.packets[1];

				if (p)
					nacct_obuf_printf(o, " %s %llu",
							  nacct_ethertype_name(s->et[i].ethertype, buf,
									       sizeof(buf)),
							  (unsigned long long)p);
			}
			nacct_obuf_chr(o, '\n');
		}
	}
}

static int status_one(const char *ifname, int json, const struct side_state *ss,
		      struct nacct_obuf *o)
{
	struct nacct_iface_maps m;
	struct nacct_snapshot s;
	int err;

	err = nacct_open_attached(ifname, &m);
	if (err)
		return err;
	/* no flow dump: status costs the same at any flow count (the flows'
	 * share and count come from the counters, lib/fields.c) */
	err = nacct_snapshot(&m, NACCT_SNAP_SUBNETS | NACCT_SNAP_ETHER | NACCT_SNAP_PROGS, &s);
	nacct_iface_close(&m);
	if (err) {
		pr_warn("%s: cannot read maps: %s\n", ifname, strerror(-err));
		nacct_snapshot_free(&s);
		return NACCT_EXIT_FAIL;
	}
	nacct_status_format(o, ifname, &s, ss->have ? &ss->c : NULL, ss->loaded, json);
	nacct_snapshot_free(&s);
	return 0;
}

int cmd_status(struct json_opts *cfg)
{
	struct nacct_obuf o = { 0 };
	struct side_state ss;
	char **names;
	size_t n, i;
	int err, ret = 0;

	err = nacct_need_bpf();
	if (err)
		return err;
	side_read(&ss);
	if (cfg->a.argc == 1) {
		ret = status_one(cfg->a.argv[0], cfg->json, &ss, &o);
		goto out;
	}
	err = nacct_list_attached(&names, &n);
	if (err) {
		pr_warn("cannot list %s: %s\n", NACCT_PIN_ROOT, strerror(-err));
		return NACCT_EXIT_FAIL;
	}
	if (!n && !cfg->json)
		printf("no interface attached (try 'nacct attach IFACE')\n");
	for (i = 0; i < n; i++) {
		int r = status_one(names[i], cfg->json, &ss, &o);

		if (r && !ret)
			ret = r;
		if (!cfg->json && i + 1 < n)
			nacct_obuf_chr(&o, '\n');
		free(names[i]);
	}
	free(names);
out:
	if (!cfg->json && !ret) {
		nacct_obuf_chr(&o, '\n');
		side_programs(&o, ss.have ? &ss.c : NULL, ss.loaded, 0);
	}
	if (nacct_obuf_flush(&o, stdout) && !ret)
		ret = NACCT_EXIT_FAIL;
	nacct_obuf_free(&o);
	return ret;
}
