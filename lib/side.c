// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Reading the side programs' records: see lib/side.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "side.h"
#include "names.h"
#include "../maps/maps.h"

#define PROBES_DIR NACCT_PIN_ROOT "/" NACCT_PROBES_PIN

void nacct_probes_close(struct nacct_probe_maps *m)
{
	int *fds[] = { &m->tcp,	  &m->drops, &m->reasons, &m->stats,
		       &m->readers, &m->rings, &m->sites };
	size_t i;

	for (i = 0; i < sizeof(fds) / sizeof(fds[0]); i++) {
		if (*fds[i] >= 0)
			close(*fds[i]);
		*fds[i] = -1;
	}
}

int nacct_probes_open(struct nacct_probe_maps *m)
{
	int err;

	m->tcp = m->drops = m->reasons = m->stats = m->readers = m->rings = m->sites = -1;
#define OPEN(field, name, type, ks, vs)                                      \
	do {                                                                 \
		m->field = nacct_map_open(PROBES_DIR, name, type, ks, vs);   \
		if (m->field < 0) {                                          \
			err = m->field;                                      \
			m->field = -1;                                       \
			goto fail;                                           \
		}                                                            \
	} while (0)
	OPEN(tcp, NACCT_MAP_TCP, BPF_MAP_TYPE_LRU_HASH, sizeof(struct nacct_side_key),
	     sizeof(struct nacct_tcp_val));
	OPEN(drops, NACCT_MAP_TCP_DROPS, BPF_MAP_TYPE_LRU_HASH, sizeof(struct nacct_side_drop_key),
	     sizeof(struct nacct_side_drop_val));
	OPEN(reasons, NACCT_MAP_DROP_REASONS, BPF_MAP_TYPE_PERCPU_ARRAY, 4, sizeof(__u64));
	OPEN(stats, NACCT_MAP_PROBE_STATS, BPF_MAP_TYPE_PERCPU_ARRAY, 4,
	     sizeof(struct nacct_probe_stats));
	OPEN(readers, NACCT_MAP_EV_READERS, BPF_MAP_TYPE_ARRAY, 4, sizeof(struct nacct_ev_reader));
	OPEN(rings, NACCT_MAP_EV_RINGS, BPF_MAP_TYPE_ARRAY_OF_MAPS, 4, 4);
	OPEN(sites, NACCT_MAP_DROP_SITES, BPF_MAP_TYPE_LRU_HASH, sizeof(struct nacct_site_key),
	     sizeof(__u64));
#undef OPEN
	return 0;
fail:
	nacct_probes_close(m);
	return err;
}

int nacct_probes_read_stats(int fd, struct nacct_probe_stats *out)
{
	return nacct_read_percpu_u64(fd, 0, out, sizeof(*out));
}

/* a whole hash map, batched where the kernel allows, else key by key */
static int dump_map(int fd, size_t ks, size_t vs, void **keys, void **vals, size_t *n)
{
	struct bpf_map_info info;
	__u32 ilen = sizeof(info), cnt;
	char *k = NULL, *v = NULL, *prev = NULL;
	size_t have = 0, cap;
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	__u64 batch = 0;
	int err;

	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(fd, &info, &ilen))
		return -errno;
	cap = info.max_entries;
	k = calloc(cap, ks);
	v = calloc(cap, vs);
	if (!k || !v) {
		err = -ENOMEM;
		goto fail;
	}
	cnt = cap;
	err = bpf_map_lookup_batch(fd, NULL, &batch, k, v, &cnt, &opts);
	if (!err || errno == ENOENT) {
		have = cnt;
		goto done;
	}
	/* no batch ops: walk the keys */
	prev = NULL;
	while (have < cap && bpf_map_get_next_key(fd, prev, k + have * ks) == 0) {
		prev = k + have * ks;
		if (bpf_map_lookup_elem(fd, prev, v + have * vs) == 0)
			have++;
	}
done:
	*keys = k;
	*vals = v;
	*n = have;
	return 0;
fail:
	free(k);
	free(v);
	return err;
}

static int cmp_rec(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct nacct_flow_key));
}

/* the inode of the caller's network namespace (the kernel's ns.inum) */
static __u32 self_netns(void)
{
	struct stat st;

	return stat("/proc/self/ns/net", &st) == 0 ? (__u32)st.st_ino : 0;
}

int nacct_probe_view_load(struct nacct_probe_view *pv)
{
	struct nacct_probe_maps m;
	void *k = NULL, *v = NULL;
	__u32 netns = self_netns();
	size_t n, i, have;
	int err;

	memset(pv, 0, sizeof(*pv));
	err = nacct_probes_open(&m);
	if (err)
		return err;
	err = dump_map(m.tcp, sizeof(struct nacct_side_key), sizeof(struct nacct_tcp_val), &k, &v,
		       &n);
	if (err)
		goto out;
	pv->recs = calloc(n ? n : 1, sizeof(*pv->recs));
	if (!pv->recs) {
		err = -ENOMEM;
		goto out;
	}
	/* only this namespace's records: another's may have the same key */
	for (i = have = 0; i < n; i++) {
		const struct nacct_side_key *sk = (const struct nacct_side_key *)k + i;

		if (sk->netns != netns)
			continue;
		pv->recs[have].key = sk->flow;
		memcpy(&pv->recs[have].val, (char *)v + i * sizeof(struct nacct_tcp_val),
		       sizeof(struct nacct_tcp_val));
		have++;
	}
	pv->n_recs = have;
	qsort(pv->recs, have, sizeof(*pv->recs), cmp_rec);
	free(k);
	free(v);
	k = v = NULL;
	err = dump_map(m.drops, sizeof(struct nacct_side_drop_key),
		       sizeof(struct nacct_side_drop_val), &k, &v, &n);
	if (err)
		goto out;
	pv->drops = calloc(n ? n : 1, sizeof(*pv->drops));
	if (!pv->drops) {
		err = -ENOMEM;
		goto out;
	}
	for (i = have = 0; i < n; i++) {
		const struct nacct_side_drop_key *dk = (const struct nacct_side_drop_key *)k + i;
		const struct nacct_side_drop_val *dv = (const struct nacct_side_drop_val *)v + i;

		if (dk->netns != netns)
			continue;
		memset(&pv->drops[have].key, 0, sizeof(pv->drops[have].key));
		pv->drops[have].key.flow = dk->flow;
		pv->drops[have].key.reason = dk->reason;
		pv->drops[have].count = dv->count;
		pv->drops[have].first_ns = dv->first_ns;
		have++;
	}
	pv->n_drops = have;
	n = have;
	qsort(pv->drops, n, sizeof(*pv->drops), cmp_rec);
out:
	free(k);
	free(v);
	nacct_probes_close(&m);
	if (err)
		nacct_probe_view_free(pv);
	return err;
}

void nacct_probe_view_free(struct nacct_probe_view *pv)
{
	free(pv->recs);
	free(pv->drops);
	memset(pv, 0, sizeof(*pv));
}

void nacct_probe_view_since(struct nacct_probe_view *pv, __u64 attached_at)
{
	__u64 off = nacct_mono_to_wall(1) - 1; /* wall - monotonic, now */

	pv->since_ns = attached_at > off ? attached_at - off : 0;
}

/*
 * A flow key as the side records have it: sockets and dropped skbs know
 * neither the VLAN nor the tunnel a packet came through (where the kernel
 * decapsulates, they see the inner packet), so a flow joins its side
 * records by its 5-tuple (and the reader's netns): the inner 5-tuple of
 * a tunnelled flow, with VLAN, tunnel and interface set aside.
 */
static void side_join_key(struct nacct_flow_key *k)
{
	k->vlan = 0;
	k->tunnel = 0;
	k->ifindex = 0; /* a shared domain's interface: nor that */
}

const struct nacct_tcp_val *nacct_probe_view_find(const struct nacct_probe_view *pv,
						   const struct nacct_flow_key *k)
{
	struct nacct_probe_rec key, *r;

	if (!pv || !pv->recs)
		return NULL;
	memcpy(&key.key, k, sizeof(*k));
	side_join_key(&key.key);
	r = bsearch(&key, pv->recs, pv->n_recs, sizeof(*r), cmp_rec);
	/* a record from before the attachment: its counts predate it */
	if (r && r->val.first_ns < pv->since_ns)
		return NULL;
	return r ? &r->val : NULL;
}

/*
 * The first drop record of flow @fk (vlan 0): the records are sorted by
 * flow key (the key's first member), so a binary search finds a flow's
 * reasons next to each other - O(log n) per flow, not a scan.
 */
static size_t drops_first(const struct nacct_probe_view *pv, const struct nacct_flow_key *fk)
{
	size_t lo = 0, hi = pv ? pv->n_drops : 0;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (memcmp(&pv->drops[mid].key.flow, fk, sizeof(*fk)) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int drops_of(const struct nacct_probe_view *pv, size_t i, const struct nacct_flow_key *fk)
{
	return pv && i < pv->n_drops && !memcmp(&pv->drops[i].key.flow, fk, sizeof(*fk));
}

/* a drop record created before the attachment is not joined */
static int drop_new(const struct nacct_probe_view *pv, size_t i)
{
	return pv->drops[i].first_ns >= pv->since_ns;
}

void nacct_side_drops(const struct nacct_side *s, struct nacct_probe_drop_iter *it)
{
	memset(it, 0, sizeof(*it));
	it->pv = s->pv;
	it->key = s->drops_key;
	it->i = s->drops_at;
}

int nacct_probe_drops_next(struct nacct_probe_drop_iter *it)
{
	for (; drops_of(it->pv, it->i, &it->key); it->i++) {
		const struct nacct_probe_drop *d = &it->pv->drops[it->i];

		if (!drop_new(it->pv, it->i))
			continue;
		it->reason = d->key.reason;
		it->count = d->count;
		it->i++;
		return 1;
	}
	return 0;
}

void nacct_probe_view_side(const struct nacct_probe_view *pv, const struct nacct_flow_key *k,
			   struct nacct_side *out)
{
	size_t i;

	out->pv = pv;
	out->tcp = nacct_probe_view_find(pv, k);
	/* the flow's drops: found once, summed over its reasons */
	out->drops_key = *k;
	side_join_key(&out->drops_key);
	out->drops_at = drops_first(pv, &out->drops_key);
	out->drops = 0;
	for (i = out->drops_at; drops_of(pv, i, &out->drops_key); i++)
		if (drop_new(pv, i))
			out->drops += pv->drops[i].count;
}
