// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "snapshot.h"
#include "exporter.h"

const char *const nacct_prog_pins[NACCT_PROG_MAX] = {
	[NACCT_PROG_XDP] = NACCT_PIN_PROG_XDP,
	[NACCT_PROG_TC_INGRESS] = NACCT_PIN_PROG_TC_INGRESS,
	[NACCT_PROG_TC_EGRESS] = NACCT_PIN_PROG_TC_EGRESS,
};
const char *const nacct_prog_names[NACCT_PROG_MAX] = {
	[NACCT_PROG_XDP] = "xdp",
	[NACCT_PROG_TC_INGRESS] = "tc_ingress",
	[NACCT_PROG_TC_EGRESS] = "tc_egress",
};

int nacct_dump_flows(int fd, __u32 ifindex, struct nacct_flow **out, size_t *n)
{
	/* values per key: one per CPU, or one (the shared layout) */
	int ncpu = nacct_flow_copies_fd(fd), err = 0;
	/* 4096 keys a call: larger batches measured no faster (the kernel's walk
	 * of the buckets dominates), and at 256 CPUs a per-CPU batch is 67 MB */
	__u32 chunk = 4096, count, i;
	struct nacct_flow_key *keys = NULL;
	struct nacct_flow_val *vals = NULL;
	struct nacct_flow *res = NULL;
	size_t have = 0, cap = 0;
	__u64 batch = 0;
	int first = 1;
	LIBBPF_OPTS(bpf_map_batch_opts, opts);

	if (ncpu < 0)
		return ncpu;
	for (;;) {
		if (!keys) {
			keys = calloc(chunk, sizeof(*keys));
			vals = calloc((size_t)chunk * ncpu, sizeof(*vals));
			if (!keys || !vals) {
				err = -ENOMEM;
				goto out;
			}
		}
		count = chunk;
		err = bpf_map_lookup_batch(fd, first ? NULL : &batch, &batch, keys, vals, &count,
					   &opts);
		if (err)
			err = -errno;
		if (err && err != -ENOENT) {
			if (err == -ENOSPC && count == 0) {
				/* one bucket holds more than a chunk: grow and retry */
				chunk *= 2;
				free(keys);
				free(vals);
				keys = NULL;
				vals = NULL;
				continue;
			}
			goto out;
		}
		if (have + count > cap) {
			size_t ncap = cap ? cap * 2 : 4096;
			struct nacct_flow *tmp;

			while (ncap < have + count)
				ncap *= 2;
			tmp = realloc(res, ncap * sizeof(*res));
			if (!tmp) {
				err = -ENOMEM;
				goto out;
			}
			res = tmp;
			cap = ncap;
		}
		for (i = 0; i < count; i++) {
			if (ifindex && keys[i].ifindex != ifindex)
				continue;
			res[have].key = keys[i];
			nacct_flow_merge(&res[have].val, &vals[(size_t)i * ncpu], ncpu);
			have++;
		}
		first = 0;
		if (err == -ENOENT) {
			err = 0;
			break;
		}
	}
out:
	free(keys);
	free(vals);
	if (err) {
		free(res);
		return err;
	}
	*out = res;
	*n = have;
	return 0;
}

void nacct_prog_stat_fd(int fd, struct nacct_prog_stat *p)
{
	struct bpf_prog_info info;
	__u32 ilen = sizeof(info);

	memset(p, 0, sizeof(*p));
	memset(&info, 0, sizeof(info));
	if (fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &ilen))
		return;
	p->present = 1;
	p->id = info.id;
	p->run_cnt = info.run_cnt;
	p->run_time_ns = info.run_time_ns;
}

/* the id of a pinned link (both info structs start with type, id) */
static __u32 pinned_link_id(const char *dir, const char *name)
{
	struct bpf_link_info info;
	__u32 ilen = sizeof(info);
	char path[512];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return 0;
	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(fd, &info, &ilen))
		info.id = 0;
	close(fd);
	return info.id;
}

int nacct_offload_read(const char *dir, struct nacct_hw_counter hw[NACCT_HW_SLOTS])
{
	__u32 k;
	int fd;

	memset(hw, 0, sizeof(*hw) * NACCT_HW_SLOTS);
	fd = nacct_map_open(dir, NACCT_MAP_HW_STATS, BPF_MAP_TYPE_ARRAY, sizeof(__u32),
			    sizeof(struct nacct_hw_counter));
	if (fd < 0)
		return fd;
	/* an offloaded map: every lookup is answered by the driver */
	for (k = 0; k < NACCT_HW_SLOTS; k++)
		if (bpf_map_lookup_elem(fd, &k, &hw[k])) {
			int err = -errno;

			close(fd);
			return err;
		}
	close(fd);
	return 0;
}

static int snapshot_once(const struct nacct_iface_maps *m, unsigned int what,
			 struct nacct_snapshot *s)
{
	char path[512];
	size_t i;
	int err, d, fd;

	memset(s, 0, sizeof(*s));
	s->meta = m->meta_val;
	s->present = if_nametoindex(m->ifname) == m->meta_val.ifindex;
	err = nacct_read_totals(m->stats, m->queues, m->slot, &s->t.st);
	if (err)
		return err;
	if (m->meta_val.xdp_mode == NACCT_MODE_OFFLOAD) {
		/* received frames were counted on the NIC (xdp/nacct_offload.bpf.c) */
		err = nacct_offload_read(m->dir, s->hw);
		if (err)
			return err;
		s->offload = 1;
		s->t.hw_packets[NACCT_DIR_RX] = s->hw[NACCT_HW_ALL].packets;
		s->t.hw_bytes[NACCT_DIR_RX] = s->hw[NACCT_HW_ALL].bytes;
		s->t.st.packets[NACCT_DIR_RX] += s->hw[NACCT_HW_ALL].packets;
		s->t.st.bytes[NACCT_DIR_RX] += s->hw[NACCT_HW_ALL].bytes;
	}
	if (what & NACCT_SNAP_FLOWS) {
		err = nacct_dump_flows(m->flows, m->if_filter, &s->fl, &s->n_fl);
		/* after the flows: every handle they carry is in the table */
		if (!err)
			err = nacct_tuns_read(m->tunnels, &s->tuns);
		if (err)
			return err;
		s->t.flows = s->n_fl;
		s->t.have_flows = 1;
		for (i = 0; i < s->n_fl; i++)
			for (d = 0; d < NACCT_DIR_MAX; d++) {
				s->t.flow_packets[d] += s->fl[i].val.packets[d];
				s->t.flow_bytes[d] += s->fl[i].val.bytes[d];
			}
	}
	if (what & NACCT_SNAP_SUBNETS) {
		err = nacct_read_subnets(m->subnets, &s->subs, &s->n_subs);
		if (!err)
			err = nacct_read_subnet_stats(m->subnet_stats, &s->sstats, &s->n_sstats);
		if (err)
			return err;
	}
	if (what & NACCT_SNAP_ETHER) {
		err = nacct_read_ethertypes(m->ethertypes, &s->et, &s->n_et);
		if (err)
			return err;
	}
	if (what & NACCT_SNAP_PROGS) {
		for (i = 0; i < NACCT_PROG_MAX; i++) {
			snprintf(path, sizeof(path), "%s/%s", m->dir, nacct_prog_pins[i]);
			fd = bpf_obj_get(path);
			nacct_prog_stat_fd(fd, &s->progs[i]);
			if (fd >= 0)
				close(fd);
		}
		s->link_id = pinned_link_id(m->dir, NACCT_PIN_LINK_XDP);
	}
	return 0;
}

/*
 * With the flow dump, the exporter's expired counts are read before and
 * after it: the sums are exact when no flow left the map in between
 * (tried up to 5 times; s->consistent says whether it was).  Without the
 * dump, one read: the flows' share is derived (nacct_totals_derive).
 */
int nacct_snapshot(const struct nacct_iface_maps *m, unsigned int what, struct nacct_snapshot *s)
{
	struct nacct_expired before, e;
	int err, d, tries;

	for (tries = 0;; tries++) {
		memset(&before, 0, sizeof(before));
		err = (what & NACCT_SNAP_FLOWS) ? nacct_expired_read(m->dir, &before) : 0;
		if (!err)
			err = snapshot_once(m, what, s);
		if (!err)
			err = nacct_expired_read(m->dir, &e);
		if (err)
			return err;
		s->consistent = !(what & NACCT_SNAP_FLOWS) ||
				(before.gen == e.gen && before.present == e.present);
		if (s->consistent || tries == 4)
			break;
		nacct_snapshot_free(s);
	}
	for (d = 0; d < NACCT_DIR_MAX; d++) {
		s->t.expired_packets[d] = e.packets[d];
		s->t.expired_bytes[d] = e.bytes[d];
	}
	s->t.expired_flows = e.flows;
	nacct_totals_derive(&s->t);
	return 0;
}

void nacct_snapshot_free(struct nacct_snapshot *s)
{
	free(s->fl);
	nacct_tuns_free(&s->tuns);
	free(s->subs);
	free(s->sstats);
	free(s->et);
	memset(s, 0, sizeof(*s));
}
