// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The exporter core on the kernel (lib/exporter.h): the store on the
 * pinned flow map, the core's memory as mmap'ed pinned arrays next to the
 * attachment's maps, and the readers' side of the expired counter.
 *
 * The pins (maps/pins.h), each a BPF_F_MMAPABLE array:
 *   nacct_export          the journal and the exported-state entries, one
 *                         blob (u64 words): a header, struct nacct_xjournal
 *                         with its items (1024; a ClickHouse batch's when
 *                         larger: the blob grows), then max_flows + slots +
 *                         64 struct nacct_xentry.
 *                         One object, so that it is published by one pin.
 *   nacct_export_pend     the pending slots (NACCT_XP_SLOTS), per-CPU sized
 *   nacct_export_expired  the expired counter, one struct nacct_export_expired
 * The previous build kept the exported state in a hash map under the same
 * name and the journal in nacct_export_jrnl: they are converted on start
 * (the message in flight included) into a new blob pinned aside, which
 * replaces the hash with one rename(); the old journal goes after.  A kill
 * before the rename leaves the old state whole, after it the new.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "exporter.h"
#include "exporter_bpf.h"
#include "../maps/maps.h"

/* ---- the store: the pinned flow map ----------------------------------------- */

static struct nacct_bpf_store *bpf_store(struct nacct_xstore *s)
{
	return (struct nacct_bpf_store *)s;
}

static int grow(struct nacct_bpf_store *s, __u32 chunk)
{
	void *k = calloc(chunk, sizeof(struct nacct_flow_key));
	void *v = calloc((size_t)chunk * s->base.ncpu, sizeof(struct nacct_flow_val));
	void *o = calloc(chunk, sizeof(struct nacct_flow));

	if (!k || !v || !o) {
		free(k);
		free(v);
		free(o);
		return -ENOMEM;
	}
	free(s->keys);
	free(s->vals);
	free(s->out);
	s->keys = k;
	s->vals = v;
	s->out = o;
	s->chunk = chunk;
	return 0;
}

/* one batch of the pass (the kernel's cursor is a bucket: a flow that
 * stays in the map is returned once per pass) */
static int bpf_scan(struct nacct_xstore *xs, int restart, const struct nacct_flow **out,
		    size_t *n)
{
	struct nacct_bpf_store *s = bpf_store(xs);
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	__u32 count, i, k;
	int err;

	if (restart || s->at_end) {
		s->first = 1;
		s->at_end = 0;
	}
	for (;;) {
		count = s->chunk;
		err = bpf_map_lookup_batch(s->flows_fd, s->first ? NULL : &s->cursor, &s->cursor,
					   s->keys, s->vals, &count, &opts);
		err = err ? -errno : 0;
		if (err == -ENOSPC && count == 0) {
			/* one bucket holds more than a chunk */
			err = grow(s, s->chunk * 2);
			if (err)
				return err;
			continue;
		}
		if (err && err != -ENOENT)
			return err;
		break;
	}
	s->first = 0;
	for (i = 0, k = 0; i < count; i++) {
		/* a domain member's: its own flows only */
		if (s->if_filter && s->keys[i].ifindex != s->if_filter)
			continue;
		s->out[k].key = s->keys[i];
		nacct_flow_merge(&s->out[k].val, &s->vals[(size_t)i * s->base.ncpu],
				 s->base.ncpu);
		k++;
	}
	*out = s->out;
	*n = k;
	if (err == -ENOENT) {
		s->at_end = 1;
		return 1;
	}
	return 0;
}

static int bpf_take(struct nacct_xstore *xs, const struct nacct_flow_key *k,
		    struct nacct_flow_val *vals)
{
	return bpf_map_lookup_and_delete_elem(bpf_store(xs)->flows_fd, k, vals) ? -errno : 0;
}

static int bpf_totals(struct nacct_xstore *xs, struct nacct_stats *st)
{
	return nacct_read_totals(bpf_store(xs)->stats_fd, bpf_store(xs)->queues_fd,
				 bpf_store(xs)->slot, st);
}

/* a new tunnel since the last read: read the (small) table again */
static const struct nacct_tun *bpf_tunnel(struct nacct_xstore *xs, __u64 handle)
{
	struct nacct_bpf_store *s = bpf_store(xs);
	const struct nacct_tun *t = nacct_tuns_find(&s->tuns, handle);

	if (t || s->tunnels_fd < 0)
		return t;
	nacct_tuns_free(&s->tuns);
	if (nacct_tuns_read(s->tunnels_fd, &s->tuns))
		return NULL;
	return nacct_tuns_find(&s->tuns, handle);
}

static const struct nacct_xstore_ops bpf_store_ops = {
	.scan = bpf_scan,
	.take = bpf_take,
	.totals = bpf_totals,
	.tunnel = bpf_tunnel,
};

void nacct_bpf_store_member(struct nacct_bpf_store *s, __u32 slot, __u32 if_filter)
{
	s->slot = slot;
	s->if_filter = if_filter;
}

void nacct_bpf_store_tunnels(struct nacct_bpf_store *s, int tunnels_fd)
{
	s->tunnels_fd = tunnels_fd;
}

int nacct_bpf_store_init(struct nacct_bpf_store *s, int flows_fd, int stats_fd, int queues_fd)
{
	memset(s, 0, sizeof(*s));
	s->base.ops = &bpf_store_ops;
	/* values per flow: one per CPU, or one (the shared layout) */
	s->base.ncpu = nacct_flow_copies_fd(flows_fd);
	if (s->base.ncpu < 0)
		return s->base.ncpu;
	s->flows_fd = flows_fd;
	s->stats_fd = stats_fd;
	s->queues_fd = queues_fd;
	s->tunnels_fd = -1;
	s->first = 1;
	return grow(s, 4096);
}

void nacct_bpf_store_free(struct nacct_bpf_store *s)
{
	nacct_tuns_free(&s->tuns);
	free(s->keys);
	free(s->vals);
	free(s->out);
	memset(s, 0, sizeof(*s));
}

/* ---- the core's memory: pinned, mmap'ed arrays --------------------------------- */

#define BLOB_MAGIC 0x3273786eU /* "nxs2" */
#define BLOB_VERSION 1
#define BLOB_J_OFF 64

struct blob_hdr {
	__u32 magic;
	__u32 version;
	__u32 n_ent;
	__u32 ent_size;
	__u64 j_off, j_size;
	__u64 ent_off;
	__u32 n_slots;
	__u32 slot_size;
};

/* the previous build's journal (nacct_export_jrnl) and exported state */
#define V1_MAGIC 0x6e78706aU
#define V1_ITEMS 1024
struct v1_journal {
	__u32 magic;
	__u32 version;
	__u32 state;
	__u32 n_items;
	__u64 seq;
	__u64 messages;
	__u32 msg_len;
	__u32 n_records;
	__u8 mmsg[64];
	struct nacct_xitem items[V1_ITEMS];
};
struct v1_state {
	__u64 packets[NACCT_DIR_MAX];
	__u64 bytes[NACCT_DIR_MAX];
	__u64 rec_start[NACCT_DIR_MAX];
	__u64 first_seen;
	__u64 pad;
};

static size_t page_round(size_t n)
{
	long pg = sysconf(_SC_PAGESIZE);

	return (n + pg - 1) / pg * pg;
}

static void *map_mmap(int fd, size_t len, int prot)
{
	void *p = mmap(NULL, page_round(len), prot, MAP_SHARED, fd, 0);

	return p == MAP_FAILED ? NULL : p;
}

static size_t blob_ent_off(__u32 cap)
{
	return (BLOB_J_OFF + nacct_xjournal_size(cap) + 63) & ~(size_t)63;
}

static size_t blob_size(__u32 n_ent, __u32 cap)
{
	return blob_ent_off(cap) + (size_t)n_ent * sizeof(struct nacct_xentry);
}

static int pin_path(char *buf, size_t len, const char *dir, const char *name)
{
	int n = snprintf(buf, len, "%s/%s", dir, name);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* the pin of a blob, and where a new one is pinned aside before it replaces it */
static void blob_paths(const char *dir, const char *name, char *path, char *aside, size_t len)
{
	char n[128];

	snprintf(n, sizeof(n), "%s:new", name);
	pin_path(path, len, dir, name);
	pin_path(aside, len, dir, n);
}

/* publish fd as name: pinned aside, then one rename over what is there */
static int publish_blob(const char *dir, const char *name, int fd)
{
	char path[512], aside[512];
	int err;

	blob_paths(dir, name, path, aside, sizeof(path));
	unlink(aside);
	if (bpf_obj_pin(fd, aside) || rename(aside, path)) {
		err = -errno;
		unlink(aside);
		return err;
	}
	return 0;
}

static int map_info(int fd, struct bpf_map_info *info)
{
	__u32 ilen = sizeof(*info);

	memset(info, 0, sizeof(*info));
	return bpf_obj_get_info_by_fd(fd, info, &ilen) ? -errno : 0;
}

/* open a pinned mmapable array of ours or create and pin it (zeroed) */
static int own_array(const char *dir, const char *name, __u32 vs, __u32 max,
		     struct nacct_xpins *p)
{
	LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = BPF_F_MMAPABLE);
	struct bpf_map_info info;
	char path[512];
	int fd, err;

	err = pin_path(path, sizeof(path), dir, name);
	if (err)
		return err;
	fd = bpf_obj_get(path);
	if (fd >= 0) {
		if (map_info(fd, &info) || info.type != BPF_MAP_TYPE_ARRAY || info.key_size != 4 ||
		    info.value_size != vs || info.max_entries != max ||
		    !(info.map_flags & BPF_F_MMAPABLE)) {
			close(fd);
			p->bad = name;
			return -EPROTO;
		}
		return fd;
	}
	if (errno != ENOENT)
		return -errno;
	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, name, 4, vs, max, &opts);
	if (fd < 0)
		return -errno;
	if (bpf_obj_pin(fd, path)) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

/* the journal's capacity of a blob header (0: not a journal of ours) */
static __u32 blob_cap(const struct blob_hdr *h)
{
	size_t hs = sizeof(struct nacct_xjournal), is = sizeof(struct nacct_xitem);

	if (h->j_size < hs + is || (h->j_size - hs) % is || (h->j_size - hs) / is > NACCT_XJ_ITEMS_MAX)
		return 0;
	return (h->j_size - hs) / is;
}

static void blob_layout(struct nacct_xpins *p, int k, __u8 *blob)
{
	struct nacct_xlane *L = &p->mem.lane[k];
	const struct blob_hdr *h = (const void *)blob;

	L->j = (struct nacct_xjournal *)(blob + h->j_off);
	L->j_cap = blob_cap(h);
	L->ent = (struct nacct_xentry *)(blob + h->ent_off);
	L->n_ent = h->n_ent;
}

static int blob_create(const char *name, __u32 n_ent, __u32 cap, int *fdp, __u8 **blobp)
{
	LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = BPF_F_MMAPABLE);
	size_t len = blob_size(n_ent, cap);
	struct blob_hdr *h;
	__u8 *blob;
	int fd;

	if (len / 8 > UINT32_MAX)
		return -E2BIG;
	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, name, 4, 8, len / 8, &opts); /* cut to 15 */
	if (fd < 0)
		return -errno;
	blob = map_mmap(fd, len, PROT_READ | PROT_WRITE);
	if (!blob) {
		int err = -errno;

		close(fd);
		return err;
	}
	h = (struct blob_hdr *)blob;
	h->version = BLOB_VERSION;
	h->n_ent = n_ent;
	h->ent_size = sizeof(struct nacct_xentry);
	h->j_off = BLOB_J_OFF;
	h->j_size = nacct_xjournal_size(cap);
	h->ent_off = blob_ent_off(cap);
	__atomic_store_n(&h->magic, BLOB_MAGIC, __ATOMIC_RELEASE);
	*fdp = fd;
	*blobp = blob;
	return 0;
}

static int blob_check(int fd, __u32 n_ent, __u8 **blobp, size_t *lenp)
{
	struct bpf_map_info info;
	const struct blob_hdr *h;
	size_t len;
	__u8 *blob;
	__u32 cap;

	if (map_info(fd, &info) || info.type != BPF_MAP_TYPE_ARRAY || info.key_size != 4 ||
	    info.value_size != 8 || !(info.map_flags & BPF_F_MMAPABLE) ||
	    (size_t)info.max_entries * 8 < BLOB_J_OFF)
		return -EPROTO;
	len = (size_t)info.max_entries * 8;
	blob = map_mmap(fd, len, PROT_READ | PROT_WRITE);
	if (!blob)
		return -errno;
	h = (const void *)blob;
	cap = blob_cap(h);
	if (h->magic != BLOB_MAGIC || h->version != BLOB_VERSION || h->n_ent != n_ent ||
	    h->ent_size != sizeof(struct nacct_xentry) || h->j_off != BLOB_J_OFF || !cap ||
	    h->ent_off != blob_ent_off(cap) || len != blob_size(n_ent, cap)) {
		munmap(blob, page_round(len));
		return -EPROTO;
	}
	*blobp = blob;
	*lenp = len;
	return 0;
}

/*
 * The previous build's state (a hash of struct v1_state by flow key, and
 * its journal) into a new blob: entries, and the journal with the message
 * in flight as it was (the core's recovery then commits or drops it).
 */
static int migrate(const char *dir, int old_fd, __u32 n_ent, __u32 cap, struct nacct_xpins *p)
{
	struct nacct_xlane *L = &p->mem.lane[0];
	struct nacct_xpins_blob *B = &p->b[0];
	char jpath[512];
	struct nacct_flow_key key, next, *prev = NULL;
	struct nacct_xjournal *j;
	struct v1_state st;
	__u8 *blob = NULL;
	__u32 n = 0;
	int fd = -1, jfd, err;

	if (cap < V1_ITEMS)
		cap = V1_ITEMS;
	err = blob_create(NACCT_MAP_EXPORT, n_ent, cap, &fd, &blob);
	if (err)
		return err;
	blob_layout(p, 0, blob);
	while (bpf_map_get_next_key(old_fd, prev, &next) == 0) {
		struct nacct_xentry *e;

		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(old_fd, &key, &st))
			continue;
		if (n == n_ent) {
			err = -ENOSPC;
			goto fail;
		}
		e = &L->ent[n++];
		e->key = key;
		memcpy(e->packets, st.packets, sizeof(e->packets));
		memcpy(e->bytes, st.bytes, sizeof(e->bytes));
		memcpy(e->rec_start, st.rec_start, sizeof(e->rec_start));
		e->first_seen = st.first_seen;
		e->used = 1;
	}
	j = L->j;
	pin_path(jpath, sizeof(jpath), dir, NACCT_MAP_EXPORT_JRNL);
	jfd = bpf_obj_get(jpath);
	if (jfd >= 0) {
		struct v1_journal *o = map_mmap(jfd, sizeof(*o), PROT_READ);

		if (o && o->magic == V1_MAGIC && o->version == 1) {
			j->state = o->state;
			j->n_items = o->n_items <= V1_ITEMS ? o->n_items : 0;
			j->seq = o->seq;
			j->messages = o->messages;
			j->seq_after = o->seq + o->n_records;
			j->messages_after = o->messages + 1;
			j->msg_len = o->msg_len;
			j->n_records = o->n_records;
			memcpy(j->mmsg, o->mmsg, sizeof(j->mmsg));
			memcpy(j->items, o->items, sizeof(j->items[0]) * j->n_items);
			j->version = NACCT_XJ_VERSION;
			j->magic = NACCT_XJ_MAGIC;
		}
		if (o)
			munmap(o, page_round(sizeof(*o)));
		close(jfd);
	}
	/* publish: pinned aside, then one rename over the old state */
	err = publish_blob(dir, NACCT_MAP_EXPORT, fd);
	if (err)
		goto fail;
	unlink(jpath);
	p->migrated = 1;
	p->migrated_entries = n;
	B->fd = fd;
	B->p = blob;
	B->len = blob_size(n_ent, cap);
	return 0;
fail:
	munmap(blob, page_round(blob_size(n_ent, cap)));
	close(fd);
	memset(L, 0, sizeof(*L));
	return err;
}

/*
 * A blob whose journal holds fewer than cap records (made for IPFIX, now
 * wanted by ClickHouse's batches) and has no message in flight: the same
 * state in a new blob with the larger journal, pinned aside, then one
 * rename over the old.  A kill before the rename leaves the old blob,
 * after it the new; both hold the same state.
 */
static int grow_blob(const char *dir, const char *name, __u32 n_ent, __u32 cap,
		     struct nacct_xpins *p, int k)
{
	struct nacct_xlane *L = &p->mem.lane[k];
	struct nacct_xpins_blob *B = &p->b[k];
	struct nacct_xjournal *oj = L->j;
	struct nacct_xentry *oent = L->ent;
	__u8 *blob = NULL;
	int fd = -1, err;

	err = blob_create(name, n_ent, cap, &fd, &blob);
	if (err)
		return err;
	blob_layout(p, k, blob);
	memcpy(L->ent, oent, (size_t)n_ent * sizeof(*oent));
	memcpy(L->j, oj, sizeof(*oj)); /* the header: IDLE, seq, messages */
	L->j->n_items = 0;
	err = publish_blob(dir, name, fd);
	if (err) {
		munmap(blob, page_round(blob_size(n_ent, cap)));
		close(fd);
		blob_layout(p, k, B->p); /* the old one stays */
		return err;
	}
	munmap(B->p, page_round(B->len));
	close(B->fd);
	B->fd = fd;
	B->p = blob;
	B->len = blob_size(n_ent, cap);
	return 0;
}

static int open_blob(const char *dir, const char *name, __u32 n_ent, __u32 cap,
		     struct nacct_xpins *p, int k)
{
	struct nacct_xlane *L = &p->mem.lane[k];
	struct nacct_xpins_blob *B = &p->b[k];
	char path[512], tmp[512];
	struct bpf_map_info info;
	__u8 *blob = NULL;
	size_t len = 0;
	int fd, err;

	blob_paths(dir, name, path, tmp, sizeof(path));
	unlink(tmp); /* a conversion or growth killed before its rename */
	fd = bpf_obj_get(path);
	if (fd < 0 && errno != ENOENT)
		return -errno;
	/* the previous build's layout: only the first lane's (IPFIX or JSON) name had it */
	if (fd >= 0 && k == 0 && !strcmp(name, NACCT_MAP_EXPORT) && map_info(fd, &info) == 0 &&
	    info.type == BPF_MAP_TYPE_HASH &&
	    info.key_size == sizeof(struct nacct_flow_key) && info.value_size == sizeof(struct v1_state)) {
		err = migrate(dir, fd, n_ent, cap, p);
		close(fd);
		return err;
	}
	if (fd >= 0) {
		err = blob_check(fd, n_ent, &blob, &len);
		if (err) {
			close(fd);
			p->bad = name;
			return err;
		}
		/* a conversion killed after its rename: the old journal is stale */
		if (!strcmp(name, NACCT_MAP_EXPORT)) {
			pin_path(tmp, sizeof(tmp), dir, NACCT_MAP_EXPORT_JRNL);
			unlink(tmp);
		}
	} else {
		len = blob_size(n_ent, cap);
		err = blob_create(name, n_ent, cap, &fd, &blob);
		if (!err && bpf_obj_pin(fd, path))
			err = -errno;
		if (err) {
			if (blob)
				munmap(blob, page_round(len));
			if (fd >= 0)
				close(fd);
			return err;
		}
	}
	B->fd = fd;
	B->p = blob;
	B->len = len;
	blob_layout(p, k, blob);
	/* a journal too small for the sink's messages: a larger one, unless a
	 * message is in flight (the next start grows it once it is settled) */
	if (L->j_cap < cap && (L->j->magic != NACCT_XJ_MAGIC ||
				   L->j->state != NACCT_XJ_INTENT)) {
		err = grow_blob(dir, name, n_ent, cap, p, k);
		if (err)
			return err;
		B->grown = 1;
	}
	return 0;
}

int nacct_xpins_open(const char *dir, __u32 max_flows, int ncpu,
		     const struct nacct_xpins_lane *lanes, int n, struct nacct_xpins *p)
{
	__u32 n_ent = (max_flows ? max_flows : NACCT_MAX_FLOWS_DEFAULT) + NACCT_XP_SLOTS + 64;
	int err, k;

	memset(p, 0, sizeof(*p));
	p->pend_fd = p->exp_fd = -1;
	for (k = 0; k < NACCT_X_LANES; k++)
		p->b[k].fd = -1;
	if (n < 1 || n > NACCT_X_LANES)
		return -EINVAL;
	for (k = 0; k < n; k++)
		if (!lanes[k].j_cap || lanes[k].j_cap > NACCT_XJ_ITEMS_MAX)
			return -EINVAL;
	p->mem.n_slots = NACCT_XP_SLOTS;
	p->mem.slot_size = nacct_xslot_size(ncpu);
	p->exp_fd = own_array(dir, NACCT_MAP_EXPORT_EXPIRED, sizeof(struct nacct_export_expired),
			      1, p);
	if (p->exp_fd < 0)
		return p->exp_fd;
	p->pend_fd = own_array(dir, NACCT_MAP_EXPORT_PEND, p->mem.slot_size, NACCT_XP_SLOTS, p);
	if (p->pend_fd < 0)
		return p->pend_fd;
	p->mem.exp = map_mmap(p->exp_fd, sizeof(*p->mem.exp), PROT_READ | PROT_WRITE);
	p->mem.slots = map_mmap(p->pend_fd, p->mem.slot_size * NACCT_XP_SLOTS,
				PROT_READ | PROT_WRITE);
	if (!p->mem.exp || !p->mem.slots)
		return -errno;
	for (k = 0; k < n; k++, p->mem.n_lanes++) {
		err = open_blob(dir, lanes[k].name, n_ent, lanes[k].j_cap, p, k);
		if (err)
			return err;
	}
	return 0;
}

void nacct_xpins_close(struct nacct_xpins *p)
{
	int k;

	for (k = 0; k < NACCT_X_LANES; k++) {
		if (p->b[k].p)
			munmap(p->b[k].p, page_round(p->b[k].len));
		if (p->b[k].fd >= 0)
			close(p->b[k].fd);
	}
	if (p->mem.slots)
		munmap(p->mem.slots, page_round(p->mem.slot_size * NACCT_XP_SLOTS));
	if (p->mem.exp)
		munmap(p->mem.exp, page_round(sizeof(*p->mem.exp)));
	if (p->pend_fd >= 0)
		close(p->pend_fd);
	if (p->exp_fd >= 0)
		close(p->exp_fd);
	memset(p, 0, sizeof(*p));
	p->pend_fd = p->exp_fd = -1;
	for (k = 0; k < NACCT_X_LANES; k++)
		p->b[k].fd = -1;
}

/* ---- readers: the expired counts ---------------------------------------------- */

/* a pinned mmapable array, read-only: its memory and value size (NULL: absent) */
static void *ro_array(const char *dir, const char *name, __u32 *vs, __u32 *max, int *errp)
{
	struct bpf_map_info info;
	char path[512];
	void *p;
	int fd;

	*errp = pin_path(path, sizeof(path), dir, name);
	if (*errp)
		return NULL;
	fd = bpf_obj_get(path);
	if (fd < 0) {
		*errp = errno == ENOENT ? 0 : -errno;
		return NULL;
	}
	if (map_info(fd, &info) || info.type != BPF_MAP_TYPE_ARRAY ||
	    !(info.map_flags & BPF_F_MMAPABLE)) {
		close(fd);
		*errp = -EPROTO;
		return NULL;
	}
	*vs = info.value_size;
	*max = info.max_entries;
	p = map_mmap(fd, (size_t)info.value_size * info.max_entries, PROT_READ);
	*errp = p ? 0 : -errno;
	close(fd);
	return p;
}

static __u64 mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int nacct_expired_read(const char *pin_dir, struct nacct_expired *out)
{
	const struct nacct_export_expired *e;
	const __u8 *slots = NULL;
	__u32 evs = 0, emax = 0, svs = 0, smax = 0;
	__u64 t0 = mono_ms();
	int err, r, ncpu;

	memset(out, 0, sizeof(*out));
	e = ro_array(pin_dir, NACCT_MAP_EXPORT_EXPIRED, &evs, &emax, &err);
	if (!e)
		return err; /* 0: no exporter has run here */
	if (evs != sizeof(*e) || emax != 1) {
		err = -EPROTO;
		goto out;
	}
	slots = ro_array(pin_dir, NACCT_MAP_EXPORT_PEND, &svs, &smax, &err);
	if (err)
		goto out;
	/* a slot holds the flow's values: one per CPU, or one (shared layout) */
	ncpu = slots && svs == nacct_xslot_size(1) ? 1 : nacct_ncpus();
	if (slots && (svs != nacct_xslot_size(ncpu) || smax > NACCT_XP_SLOTS)) {
		err = -EPROTO;
		goto out;
	}
	for (;;) {
		r = nacct_expired_sum(e, slots, slots ? smax : 0, svs, ncpu, out);
		/* changed while read, or a take in progress (a take is one
		 * syscall: one that lasts 100 ms is one a killed exporter left,
		 * whose values are final) */
		if (r == 0 || (r > 0 && mono_ms() - t0 > 100))
			break;
		if (r > 0) {
			struct timespec ts = { 0, 200000 };

			nanosleep(&ts, NULL);
		}
		if (mono_ms() - t0 > 1000) {
			err = -EBUSY;
			break;
		}
	}
out:
	if (slots)
		munmap((void *)slots, page_round((size_t)svs * smax));
	munmap((void *)e, page_round(sizeof(*e)));
	return err;
}
