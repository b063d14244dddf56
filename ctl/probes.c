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
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

int nacct_probes_ensure(void)
{
	LIBBPF_OPTS(bpf_object_open_opts, oopts);
	struct nacct_probes *skel = NULL;
	struct bpf_link *links[16] = { 0 };
	struct probe_choice pc[6];
	struct bpf_program *prog;
	char tmp[256], path[512];
	size_t i, nl = 0;
	int err;

	if (has_links(PROBES_DIR))
		return 0;
	/* a directory without links is what a killed run left behind */
	nacct_rm_pin_dir(PROBES_DIR);
	if (mkdir(NACCT_PIN_ROOT, 0700) && errno != EEXIST)
		return -errno;
	snprintf(tmp, sizeof(tmp), "%s/%s%s-%d", NACCT_PIN_ROOT, NACCT_PIN_TMP, NACCT_PROBES_PIN,
		 getpid());
	if (mkdir(tmp, 0700))
		return -errno;
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

	if (stat(PROBES_DIR, &st) || any_attachment())
		return 0;
	/* unpinning the links detaches the programs */
	err = nacct_rm_pin_dir(PROBES_DIR);
	if (err) {
		pr_warn("probes: cannot remove %s: %s\n", PROBES_DIR, strerror(-err));
		return err;
	}
	pr_debug("probes: side programs removed\n");
	return 1;
}

void nacct_probes_close(struct nacct_probe_maps *m)
{
	int *fds[] = { &m->tcp, &m->drops, &m->reasons, &m->stats, &m->cfg, &m->events };
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

	m->tcp = m->drops = m->reasons = m->stats = m->cfg = m->events = -1;
#define OPEN(field, name, type, ks, vs)                                      \
	do {                                                                 \
		m->field = nacct_map_open(PROBES_DIR, name, type, ks, vs);   \
		if (m->field < 0) {                                          \
			err = m->field;                                      \
			m->field = -1;                                       \
			goto fail;                                           \
		}                                                            \
	} while (0)
	OPEN(tcp, "nacct_tcp", BPF_MAP_TYPE_LRU_HASH, sizeof(struct nacct_flow_key),
	     sizeof(struct nacct_tcp_val));
	OPEN(drops, "nacct_tcp_drops", BPF_MAP_TYPE_LRU_HASH, sizeof(struct nacct_drop_key),
	     sizeof(__u64));
	OPEN(reasons, "nacct_drop_reasons", BPF_MAP_TYPE_PERCPU_ARRAY, 4, sizeof(__u64));
	OPEN(stats, "nacct_probe_stats", BPF_MAP_TYPE_PERCPU_ARRAY, 4,
	     sizeof(struct nacct_probe_stats));
	OPEN(cfg, "nacct_probe_cfg", BPF_MAP_TYPE_ARRAY, 4, sizeof(struct nacct_probe_cfg));
	OPEN(events, "nacct_events", BPF_MAP_TYPE_RINGBUF, 0, 0);
#undef OPEN
	return 0;
fail:
	nacct_probes_close(m);
	return err;
}

int nacct_probes_read_stats(int fd, struct nacct_probe_stats *out)
{
	int ncpu = nacct_ncpus(), i;
	size_t k, words = sizeof(*out) / sizeof(__u64);
	struct nacct_probe_stats *v;
	__u32 zero = 0;

	v = calloc(ncpu, sizeof(*v));
	if (!v)
		return -ENOMEM;
	if (bpf_map_lookup_elem(fd, &zero, v)) {
		int err = -errno;

		free(v);
		return err;
	}
	memset(out, 0, sizeof(*out));
	for (i = 0; i < ncpu; i++)
		for (k = 0; k < words; k++)
			((__u64 *)out)[k] += ((__u64 *)&v[i])[k];
	free(v);
	return 0;
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

	buf[0] = '\0';
	if (!btf)
		goto num;
	id = btf__find_by_name_kind(btf, enum_name, BTF_KIND_ENUM);
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

int nacct_probe_view_load(struct nacct_probe_view *pv)
{
	struct nacct_probe_maps m;
	void *k = NULL, *v = NULL;
	size_t n, i;
	int err;

	memset(pv, 0, sizeof(*pv));
	err = nacct_probes_open(&m);
	if (err)
		return err;
	err = dump_map(m.tcp, sizeof(struct nacct_flow_key), sizeof(struct nacct_tcp_val), &k, &v,
		       &n);
	if (err)
		goto out;
	pv->recs = calloc(n ? n : 1, sizeof(*pv->recs));
	if (!pv->recs) {
		err = -ENOMEM;
		goto out;
	}
	for (i = 0; i < n; i++) {
		memcpy(&pv->recs[i].key, (char *)k + i * sizeof(struct nacct_flow_key),
		       sizeof(struct nacct_flow_key));
		memcpy(&pv->recs[i].val, (char *)v + i * sizeof(struct nacct_tcp_val),
		       sizeof(struct nacct_tcp_val));
	}
	pv->n_recs = n;
	qsort(pv->recs, n, sizeof(*pv->recs), cmp_rec);
	free(k);
	free(v);
	k = v = NULL;
	err = dump_map(m.drops, sizeof(struct nacct_drop_key), sizeof(__u64), &k, &v, &n);
	if (err)
		goto out;
	pv->drops = calloc(n ? n : 1, sizeof(*pv->drops));
	if (!pv->drops) {
		err = -ENOMEM;
		goto out;
	}
	for (i = 0; i < n; i++) {
		memcpy(&pv->drops[i].key, (char *)k + i * sizeof(struct nacct_drop_key),
		       sizeof(struct nacct_drop_key));
		pv->drops[i].count = ((__u64 *)v)[i];
	}
	pv->n_drops = n;
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

const struct nacct_tcp_val *nacct_probe_view_find(const struct nacct_probe_view *pv,
						   const struct nacct_flow_key *k)
{
	struct nacct_probe_rec key, *r;

	if (!pv || !pv->recs)
		return NULL;
	memcpy(&key.key, k, sizeof(*k));
	key.key.vlan = 0;
	r = bsearch(&key, pv->recs, pv->n_recs, sizeof(*r), cmp_rec);
	return r ? &r->val : NULL;
}

/* drops of a flow: the sum over its reasons */
static __u64 flow_drops(const struct nacct_probe_view *pv, const struct nacct_flow_key *k)
{
	struct nacct_flow_key fk = *k;
	__u64 n = 0;
	size_t i;

	fk.vlan = 0;
	for (i = 0; pv && i < pv->n_drops; i++)
		if (!memcmp(&pv->drops[i].key.flow, &fk, sizeof(fk)))
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
	for (i = 0; i < pv->n_drops; i++) {
		if (memcmp(&pv->drops[i].key.flow, &fk, sizeof(fk)))
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
