// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Side programs: load, attach and pin them once per host, choose the
 * kprobe twin of a program only where the running kernel has no such
 * tracepoint, remove them with the last attachment, and read their maps
 * for `nacct flows` and `nacct events`.
 *
 * Like an attachment, the set is built in a private directory
 * (NACCT_PIN_ROOT/:tmp::probes-PID) and published by renaming it to
 * NACCT_PIN_ROOT/:probes once every link is pinned: a reader sees all of
 * it or nothing, and two concurrent `attach`es leave exactly one set.
 * A set pinned by another build (nacct_probe_meta differs or is missing)
 * is replaced when no `nacct events` reader is using it.  Set changes
 * and reader-slot claims hold an flock on NACCT_PIN_ROOT.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "nacct.h"
#include "log.h"
#include "attach.h"
#include "probes.h"
#include "../maps/maps.h"
#include "nacct_probes.skel.h"

#define PROBES_DIR NACCT_PIN_ROOT "/" NACCT_PROBES_PIN

static struct btf *g_btf;
static int g_btf_tried;

static struct btf *vmlinux_btf(void)
{
	if (!g_btf_tried) {
		g_btf_tried = 1;
		g_btf = btf__load_vmlinux_btf();
		if (!g_btf) {
			pr_debug("no kernel BTF: %s\n", strerror(errno));
			g_btf = NULL;
		}
	}
	return g_btf;
}

/* does the running kernel have this tracepoint (as a BTF-typed raw tracepoint)? */
static int have_tracepoint(const char *name)
{
	struct btf *btf = vmlinux_btf();
	char tn[128];

	if (!btf)
		return 0;
	snprintf(tn, sizeof(tn), "btf_trace_%s", name);
	return btf__find_by_name_kind(btf, tn, BTF_KIND_TYPEDEF) > 0;
}

/* the programs: tracepoint first, kprobe twin where the tracepoint is missing */
struct probe_choice {
	const char *tp;
	struct bpf_program *tp_prog, *kp_prog;
};

static int has_links(const char *dir)
{
	struct dirent *de;
	DIR *d = opendir(dir);
	int n = 0;

	if (!d)
		return 0;
	while ((de = readdir(d)))
		if (!strncmp(de->d_name, "link_", 5))
			n++;
	closedir(d);
	return n;
}

/* ---- kernel symbols ------------------------------------------------------ */

struct ksym {
	__u64 addr;
	char *name;
};
static struct ksym *g_ksyms;
static size_t g_nksyms;
static int g_ksyms_tried;

static int ksym_cmp(const void *a, const void *b)
{
	const struct ksym *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

/* the text symbols of /proc/kallsyms, sorted; -ENOENT when hidden (kptr_restrict) */
static int ksyms_load(void)
{
	unsigned long long addr;
	char line[512], name[256], type;
	size_t cap = 0;
	FILE *f;

	if (g_ksyms_tried)
		return g_nksyms ? 0 : -ENOENT;
	g_ksyms_tried = 1;
	f = fopen("/proc/kallsyms", "r");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%llx %c %255s", &addr, &type, name) != 3 || !addr)
			continue;
		if (type != 't' && type != 'T' && type != 'w' && type != 'W')
			continue;
		if (g_nksyms == cap) {
			struct ksym *n = realloc(g_ksyms, (cap = cap ? cap * 2 : 65536) * sizeof(*n));

			if (!n)
				break;
			g_ksyms = n;
		}
		g_ksyms[g_nksyms].addr = addr;
		g_ksyms[g_nksyms].name = strdup(name);
		if (g_ksyms[g_nksyms].name)
			g_nksyms++;
	}
	fclose(f);
	qsort(g_ksyms, g_nksyms, sizeof(*g_ksyms), ksym_cmp);
	return g_nksyms ? 0 : -ENOENT;
}

const char *nacct_ksym_name(__u64 addr)
{
	size_t lo = 0, hi;

	if (!addr || ksyms_load() || addr < g_ksyms[0].addr)
		return "";
	/* the last symbol at or below addr */
	hi = g_nksyms;
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (g_ksyms[mid].addr <= addr)
			lo = mid;
		else
			hi = mid;
	}
	return g_ksyms[lo].name;
}

/* [start, end) of a kernel function: up to the next symbol */
static int ksym_range(const char *name, struct nacct_site_range *r)
{
	size_t i;

	if (ksyms_load())
		return -ENOENT;
	for (i = 0; i < g_nksyms; i++) {
		if (strcmp(g_ksyms[i].name, name))
			continue;
		r->start = g_ksyms[i].addr;
		while (i + 1 < g_nksyms && g_ksyms[i + 1].addr == r->start)
			i++;
		r->end = i + 1 < g_nksyms ? g_ksyms[i + 1].addr : r->start + 1;
		return 0;
	}
	return -ENOENT;
}

/*
 * Functions whose NOT_SPECIFIED frees are processed packets, not drops
 * (the measurement and the rule: count_drop() in probes/nacct_probes.bpf.c).
 */
static const char *const consumed_funcs[] = { "tcp_rcv_state_process" };

static void fill_consumed(int fd)
{
	struct nacct_site_range r;
	__u32 i, slot = 0;

	for (i = 0; i < sizeof(consumed_funcs) / sizeof(consumed_funcs[0]); i++) {
		if (slot >= NACCT_CONSUMED_SITES)
			break;
		if (ksym_range(consumed_funcs[i], &r)) {
			pr_info("probes: %s not in /proc/kallsyms: its NOT_SPECIFIED frees count as "
				"drops\n", consumed_funcs[i]);
			continue;
		}
		if (bpf_map_update_elem(fd, &slot, &r, BPF_ANY))
			pr_warn("probes: cannot set the consumed-free sites: %s\n", strerror(errno));
		slot++;
	}
}

/* ---- the pinned set: freshness, readers, lock --------------------------- */

static int lock_root(void)
{
	int fd = open(NACCT_PIN_ROOT, O_RDONLY | O_DIRECTORY | O_CLOEXEC), err;

	if (fd < 0)
		return -errno;
	if (flock(fd, LOCK_EX)) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

static void unlock_root(int fd)
{
	if (fd >= 0)
		close(fd); /* drops the flock */
}

static struct nacct_probe_meta this_meta(void)
{
	struct nacct_probe_meta m = {
		.abi = NACCT_PROBES_ABI,
		.event_size = sizeof(struct nacct_probe_event),
		.tcp_val_size = sizeof(struct nacct_tcp_val),
		.stats_size = sizeof(struct nacct_probe_stats),
	};

	return m;
}

/* 1: the pinned set was loaded by this build; 0: by another (or a broken one) */
static int probes_fresh(void)
{
	struct nacct_probe_meta want = this_meta(), have;
	__u32 zero = 0;
	int fd, ok;

	fd = nacct_map_open(PROBES_DIR, "nacct_probe_meta", BPF_MAP_TYPE_ARRAY, 4, sizeof(have));
	if (fd < 0)
		return 0;
	ok = !bpf_map_lookup_elem(fd, &zero, &have) && !memcmp(&have, &want, sizeof(have));
	close(fd);
	return ok;
}

static int pid_alive(__u32 pid)
{
	return pid && (kill((pid_t)pid, 0) == 0 || errno == EPERM);
}

/* a reader slot whose process is gone: free it (mask first, then its ring) */
static void reap_slots(int readers, int rings)
{
	struct nacct_ev_reader r, none = { 0 };
	__u32 i;

	for (i = 0; i < NACCT_EV_READERS; i++) {
		if (bpf_map_lookup_elem(readers, &i, &r) || !r.mask || pid_alive(r.pid))
			continue;
		bpf_map_update_elem(readers, &i, &none, BPF_ANY);
		bpf_map_delete_elem(rings, &i);
		pr_debug("probes: freed the slot of reader %u (gone)\n", r.pid);
	}
}

/* pid of a live `nacct events` on the pinned set of any build; 0 none */
static __u32 live_reader(void)
{
	struct nacct_ev_reader r;
	__u32 i, found = 0, buf[64];
	int fd;

	fd = nacct_map_open(PROBES_DIR, "nacct_ev_readers", BPF_MAP_TYPE_ARRAY, 4, sizeof(r));
	if (fd >= 0) {
		for (i = 0; i < NACCT_EV_READERS && !found; i++)
			if (!bpf_map_lookup_elem(fd, &i, &r) && r.mask && pid_alive(r.pid))
				found = r.pid;
		close(fd);
		return found;
	}
	/* the first layout: one global switch, on while its one reader ran */
	fd = nacct_map_open(PROBES_DIR, "nacct_probe_cfg", BPF_MAP_TYPE_ARRAY, 4,
			    sizeof(struct nacct_probe_cfg));
	if (fd >= 0) {
		i = 0;
		if (!bpf_map_lookup_elem(fd, &i, buf) && buf[0])
			found = (__u32)-1;
		close(fd);
	}
	return found;
}

int nacct_probes_ensure(void)
{
	LIBBPF_OPTS(bpf_object_open_opts, oopts);
	struct nacct_probes *skel = NULL;
	struct bpf_link *links[16] = { 0 };
	struct nacct_probe_meta meta = this_meta();
	struct probe_choice pc[6];
	struct bpf_program *prog;
	char tmp[256] = "", path[512];
	size_t i, nl = 0;
	__u32 zero = 0, rd;
	int err, lk;

	if (mkdir(NACCT_PIN_ROOT, 0700) && errno != EEXIST)
		return -errno;
	lk = lock_root();
	if (lk < 0)
		return lk;
	if (has_links(PROBES_DIR)) {
		if (probes_fresh()) {
			struct nacct_probe_maps m;

			if (nacct_probes_open(&m) == 0) {
				reap_slots(m.readers, m.rings);
				nacct_probes_close(&m);
			}
			err = 0;
			goto out;
		}
		rd = live_reader();
		if (rd) {
			pr_warn("probes: the attached side programs are from another nacct build, "
				"in use by `nacct events` (pid %d): kept; they are replaced by the "
				"next attach after it ends\n",
				rd == (__u32)-1 ? -1 : (int)rd);
			err = 0;
			goto out;
		}
		pr_info("probes: replacing side programs pinned by another nacct build\n");
	}
	/* a stale set, or a directory without links (a killed run left it behind) */
	err = nacct_rm_pin_dir(PROBES_DIR);
	if (err)
		goto out;
	snprintf(tmp, sizeof(tmp), "%s/%s%s-%d", NACCT_PIN_ROOT, NACCT_PIN_TMP, NACCT_PROBES_PIN,
		 getpid());
	if (mkdir(tmp, 0700)) {
		err = -errno;
		tmp[0] = '\0';
		goto out;
	}
	oopts.pin_root_path = tmp;
	skel = nacct_probes__open_opts(&oopts);
	if (!skel) {
		err = -errno;
		goto out;
	}
	pc[0] = (struct probe_choice){ "kfree_skb", skel->progs.nacct_drop, NULL };
	pc[1] = (struct probe_choice){ "tcp_retransmit_skb", skel->progs.nacct_retrans,
				       skel->progs.nacct_retrans_kp };
	pc[2] = (struct probe_choice){ "inet_sock_set_state", skel->progs.nacct_state,
				       skel->progs.nacct_state_kp };
	pc[3] = (struct probe_choice){ "tcp_probe", skel->progs.nacct_rtt, skel->progs.nacct_rtt_kp };
	pc[4] = (struct probe_choice){ "tcp_receive_reset", skel->progs.nacct_rst_rx,
				       skel->progs.nacct_rst_rx_kp };
	pc[5] = (struct probe_choice){ "tcp_send_reset", skel->progs.nacct_rst_tx,
				       skel->progs.nacct_rst_tx_kp };
	for (i = 0; i < 6; i++) {
		if (have_tracepoint(pc[i].tp))
			continue;
		bpf_program__set_autoload(pc[i].tp_prog, false);
		if (pc[i].kp_prog) {
			bpf_program__set_autoload(pc[i].kp_prog, true);
			pr_info("probes: no tracepoint %s in this kernel: using %s\n", pc[i].tp,
				bpf_program__section_name(pc[i].kp_prog));
		} else {
			pr_warn("probes: no tracepoint %s in this kernel: that event is off\n",
				pc[i].tp);
		}
	}
	err = nacct_probes__load(skel);
	if (err)
		goto out;
	fill_consumed(bpf_map__fd(skel->maps.nacct_drop_consumed));
	if (bpf_map_update_elem(bpf_map__fd(skel->maps.nacct_probe_meta), &zero, &meta, BPF_ANY)) {
		err = -errno;
		goto out;
	}
	bpf_object__for_each_program(prog, skel->obj)
	{
		struct bpf_link *l;

		if (!bpf_program__autoload(prog))
			continue;
		l = bpf_program__attach(prog);
		if (!l) {
			err = -errno;
			pr_warn("probes: cannot attach %s: %s\n", bpf_program__name(prog),
				strerror(-err));
			goto out;
		}
		links[nl++] = l;
		snprintf(path, sizeof(path), "%s/link_%s", tmp, bpf_program__name(prog));
		err = bpf_link__pin(l, path);
		if (err)
			goto out;
		if (nl == sizeof(links) / sizeof(links[0]))
			break;
	}
	/* publish; a concurrent run that published first wins */
	if (rename(tmp, PROBES_DIR)) {
		err = -errno;
		if (err == -EEXIST || err == -ENOTEMPTY)
			err = has_links(PROBES_DIR) ? 0 : err;
		goto out;
	}
	tmp[0] = '\0';
	err = 1;
out:
	for (i = 0; i < nl; i++)
		bpf_link__destroy(links[i]); /* the pins keep them attached */
	nacct_probes__destroy(skel);
	if (tmp[0])
		nacct_rm_pin_dir(tmp);
	unlock_root(lk);
	if (err < 0)
		pr_warn("probes: cannot attach the side programs: %s\n", strerror(-err));
	return err;
}

/* any attachment, in any network namespace, still in place? */
static int any_attachment(void)
{
	struct dirent *de;
	DIR *d = opendir(NACCT_PIN_ROOT);
	int n = 0;

	if (!d)
		return 0;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.' && de->d_name[0] != ':')
			n++;
	closedir(d);
	return n;
}

int nacct_probes_release_if_unused(void)
{
	struct stat st;
	int err;

	int lk;

	if (stat(PROBES_DIR, &st) || any_attachment())
		return 0;
	lk = lock_root();
	/* unpinning the links detaches the programs */
	err = nacct_rm_pin_dir(PROBES_DIR);
	unlock_root(lk);
	if (err) {
		pr_warn("probes: cannot remove %s: %s\n", PROBES_DIR, strerror(-err));
		return err;
	}
	pr_debug("probes: side programs removed\n");
	return 1;
}

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
	OPEN(tcp, "nacct_tcp", BPF_MAP_TYPE_LRU_HASH, sizeof(struct nacct_side_key),
	     sizeof(struct nacct_tcp_val));
	OPEN(drops, "nacct_tcp_drops", BPF_MAP_TYPE_LRU_HASH, sizeof(struct nacct_side_drop_key),
	     sizeof(struct nacct_side_drop_val));
	OPEN(reasons, "nacct_drop_reasons", BPF_MAP_TYPE_PERCPU_ARRAY, 4, sizeof(__u64));
	OPEN(stats, "nacct_probe_stats", BPF_MAP_TYPE_PERCPU_ARRAY, 4,
	     sizeof(struct nacct_probe_stats));
	OPEN(readers, "nacct_ev_readers", BPF_MAP_TYPE_ARRAY, 4, sizeof(struct nacct_ev_reader));
	OPEN(rings, "nacct_ev_rings", BPF_MAP_TYPE_ARRAY_OF_MAPS, 4, 4);
	OPEN(sites, "nacct_drop_sites", BPF_MAP_TYPE_LRU_HASH, sizeof(struct nacct_site_key),
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

int nacct_ev_reader_open(const struct nacct_probe_maps *m, const struct nacct_ev_reader *want,
			 int *ring_fd)
{
	struct nacct_ev_reader r;
	int lk, slot = -EBUSY, rfd = -1, err;
	__u32 i;

	lk = lock_root();
	if (lk < 0)
		return lk;
	reap_slots(m->readers, m->rings);
	for (i = 0; i < NACCT_EV_READERS; i++) {
		if (!bpf_map_lookup_elem(m->readers, &i, &r) && !r.mask) {
			slot = i;
			break;
		}
	}
	if (slot < 0)
		goto out;
	rfd = bpf_map_create(BPF_MAP_TYPE_RINGBUF, "nacct_ev_ring", 0, 0, NACCT_EV_RING_SIZE, NULL);
	if (rfd < 0) {
		slot = -errno;
		goto out;
	}
	i = slot;
	/* the ring first: the programs look at the mask, then at the ring */
	if (bpf_map_update_elem(m->rings, &i, &rfd, BPF_ANY))
		goto fail;
	r = *want;
	r.pid = getpid();
	r.lost = 0;
	if (bpf_map_update_elem(m->readers, &i, &r, BPF_ANY)) {
		err = -errno;
		bpf_map_delete_elem(m->rings, &i);
		errno = -err;
		goto fail;
	}
	*ring_fd = rfd;
	goto out;
fail:
	slot = -errno;
	close(rfd);
out:
	unlock_root(lk);
	return slot;
}

__u64 nacct_ev_reader_lost(const struct nacct_probe_maps *m, int slot)
{
	struct nacct_ev_reader r;
	__u32 i = slot;

	if (slot < 0 || bpf_map_lookup_elem(m->readers, &i, &r))
		return 0;
	return r.lost;
}

void nacct_ev_reader_close(const struct nacct_probe_maps *m, int slot, int ring_fd)
{
	struct nacct_ev_reader none = { 0 };
	__u32 i = slot;
	int lk;

	if (slot < 0)
		return;
	lk = lock_root();
	bpf_map_update_elem(m->readers, &i, &none, BPF_ANY);
	bpf_map_delete_elem(m->rings, &i);
	unlock_root(lk);
	if (ring_fd >= 0)
		close(ring_fd);
}

/* ---- names ---------------------------------------------------------------- */

/* the name of value @val of enum @enum_name in the kernel's BTF, minus @prefix */
static const char *btf_enum_name(const char *enum_name, const char *prefix, __u32 val,
				 char *buf, size_t len)
{
	struct btf *btf = vmlinux_btf();
	const struct btf_type *t;
	const struct btf_enum *e;
	const char *name;
	int id, i;

	/* the type ids, looked up once: a lookup is a walk of all kernel types */
	static struct {
		const char *name;
		int id;
	} cache[4];
	size_t c;

	buf[0] = '\0';
	if (!btf)
		goto num;
	for (c = 0; c < sizeof(cache) / sizeof(cache[0]); c++)
		if (!cache[c].name || !strcmp(cache[c].name, enum_name))
			break;
	if (c < sizeof(cache) / sizeof(cache[0]) && cache[c].name) {
		id = cache[c].id;
	} else {
		id = btf__find_by_name_kind(btf, enum_name, BTF_KIND_ENUM);
		if (c < sizeof(cache) / sizeof(cache[0])) {
			cache[c].name = enum_name;
			cache[c].id = id;
		}
	}
	if (id <= 0)
		goto num;
	t = btf__type_by_id(btf, id);
	e = btf_enum(t);
	for (i = 0; i < btf_vlen(t); i++, e++) {
		if ((__u32)e->val != val)
			continue;
		name = btf__name_by_offset(btf, e->name_off);
		if (!name)
			break;
		if (!strncmp(name, prefix, strlen(prefix)))
			name += strlen(prefix);
		else if (!strncmp(name, "SKB_", 4))
			name += 4; /* SKB_CONSUMED, SKB_NOT_DROPPED_YET */
		snprintf(buf, len, "%s", name);
		return buf;
	}
num:
	snprintf(buf, len, "%u", val);
	return buf;
}

const char *nacct_drop_reason_name(__u32 reason, char *buf, size_t len)
{
	return btf_enum_name("skb_drop_reason", "SKB_DROP_REASON_", reason, buf, len);
}

const char *nacct_rst_reason_name(__u32 reason, char *buf, size_t len)
{
	return btf_enum_name("sk_rst_reason", "SK_RST_REASON_", reason, buf, len);
}

const char *nacct_tcp_state_name(int state)
{
	/* include/net/tcp_states.h: the numbers are ABI (/proc/net/tcp) */
	static const char *const names[] = {
		"", "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT1", "FIN_WAIT2",
		"TIME_WAIT", "CLOSE", "CLOSE_WAIT", "LAST_ACK", "LISTEN", "CLOSING",
		"NEW_SYN_RECV", "BOUND_INACTIVE",
	};

	if (state >= 0 && (size_t)state < sizeof(names) / sizeof(names[0]))
		return names[state];
	return "?";
}

/* ---- the flows join --------------------------------------------------------- */

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

const struct nacct_tcp_val *nacct_probe_view_find(const struct nacct_probe_view *pv,
						   const struct nacct_flow_key *k)
{
	struct nacct_probe_rec key, *r;

	if (!pv || !pv->recs)
		return NULL;
	memcpy(&key.key, k, sizeof(*k));
	key.key.vlan = 0;
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

/* drops of a flow: the sum over its reasons */
static __u64 flow_drops(const struct nacct_probe_view *pv, const struct nacct_flow_key *k)
{
	struct nacct_flow_key fk = *k;
	__u64 n = 0;
	size_t i;

	fk.vlan = 0;
	for (i = drops_first(pv, &fk); drops_of(pv, i, &fk); i++)
		if (drop_new(pv, i))
			n += pv->drops[i].count;
	return n;
}

/* the side to report in single-valued fields: src's socket if it is local */
static int main_side(const struct nacct_tcp_val *t, int src_side)
{
	return t->state[src_side & 1] || t->pid[src_side & 1] ? src_side & 1 : !(src_side & 1);
}

void nacct_probe_flow_json(FILE *f, const struct nacct_probe_view *pv,
			   const struct nacct_flow_key *k, int src_side)
{
	const struct nacct_tcp_val *t = nacct_probe_view_find(pv, k);
	static const struct nacct_tcp_val none;
	__u64 drops = flow_drops(pv, k);
	struct nacct_flow_key fk;
	char rb[64];
	size_t i, first = 1;
	int s, j;

	if (!t && !drops)
		return;
	if (!t)
		t = &none; /* a flow with drops but no local socket */
	s = main_side(t, src_side);
	fprintf(f, ",\"retransmits\":%llu,\"drops\":%llu,\"drop_reasons\":{",
		(unsigned long long)(t->retrans[0] + t->retrans[1]), (unsigned long long)drops);
	fk = *k;
	fk.vlan = 0;
	for (i = drops_first(pv, &fk); drops_of(pv, i, &fk); i++) {
		if (!drop_new(pv, i))
			continue;
		fprintf(f, "%s", first ? "" : ",");
		json_str(f, nacct_drop_reason_name(pv->drops[i].key.reason, rb, sizeof(rb)));
		fprintf(f, ":%llu", (unsigned long long)pv->drops[i].count);
		first = 0;
	}
	fprintf(f, "},\"state\":\"%s\",\"srtt_us\":%u,\"connect_latency_us\":%.3f,\"pid\":%u,"
		   "\"comm\":",
		nacct_tcp_state_name(t->state[s]), t->srtt_us[s],
		(t->connect_ns[0] + t->connect_ns[1]) / 1000.0, t->pid[s]);
	json_str(f, t->comm[s]);
	fprintf(f, ",\"session_start\":\"%s\"",
		nacct_rfc3339(nacct_mono_to_wall(t->first_ns), rb, sizeof(rb)));
	fprintf(f, ",\"session_end\":\"%s\",\"sockets\":[",
		nacct_rfc3339(nacct_mono_to_wall(t->end_ns), rb, sizeof(rb)));
	/* every local socket of the flow: src's first */
	for (first = 1, j = 0; j < 2; j++) {
		int side = j ? !(src_side & 1) : src_side & 1;

		if (!t->state[side] && !t->pid[side] && !t->retrans[side])
			continue;
		fprintf(f, "%s{\"end\":\"%s\",\"state\":\"%s\",\"retransmits\":%llu,\"srtt_us\":%u,"
			   "\"connect_latency_us\":%.3f,\"pid\":%u,\"comm\":",
			first ? "" : ",", j ? "dst" : "src", nacct_tcp_state_name(t->state[side]),
			(unsigned long long)t->retrans[side], t->srtt_us[side],
			t->connect_ns[side] / 1000.0, t->pid[side]);
		json_str(f, t->comm[side]);
		fputc('}', f);
		first = 0;
	}
	fputc(']', f);
}

void nacct_probe_flow_cols_hdr(FILE *f)
{
	fprintf(f, " %7s %7s %-11s %8s %s", "RETRANS", "DROPS", "STATE", "SRTT_US", "PID/COMM");
}

void nacct_probe_flow_cols(FILE *f, const struct nacct_probe_view *pv,
			   const struct nacct_flow_key *k, int src_side)
{
	const struct nacct_tcp_val *t = nacct_probe_view_find(pv, k);
	__u64 drops = flow_drops(pv, k);
	int s;

	if (!t) {
		fprintf(f, " %7s %7llu %-11s %8s %s", "-", (unsigned long long)drops, "-", "-", "-");
		return;
	}
	s = main_side(t, src_side);
	fprintf(f, " %7llu %7llu %-11s %8u ", (unsigned long long)(t->retrans[0] + t->retrans[1]),
		(unsigned long long)drops, t->state[s] ? nacct_tcp_state_name(t->state[s]) : "-",
		t->srtt_us[s]);
	if (t->pid[s])
		fprintf(f, "%u/%.16s", t->pid[s], t->comm[s]);
	else
		fputc('-', f);
}
