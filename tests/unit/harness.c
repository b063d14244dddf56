// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "../../lib/attach.h"
#include "../../maps/maps.h"
#include "nacct_xdp.skel.h"
#include "nacct_tc.skel.h"
#include "harness.h"

int ut_failures;
int ut_verbose;
int ut_default_layout = -1;
int ut_default_frags;
const char *ut_prefix = "";
void (*ut_frame_hook)(const void *pkt, __u32 len);

static void print_detail(const char *fmt, va_list ap)
{
	char buf[4096], *line, *save = NULL;

	vsnprintf(buf, sizeof(buf), fmt, ap);
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		printf("# %s\n", line);
}

int ut_check(int cond, const char *name, const char *fmt, ...)
{
	va_list ap;

	if (cond) {
		printf("ok %s%s\n", ut_prefix, name);
		if (ut_verbose && fmt && *fmt) {
			va_start(ap, fmt);
			print_detail(fmt, ap);
			va_end(ap);
		}
	} else {
		ut_failures++;
		printf("not ok %s%s\n", ut_prefix, name);
		if (fmt && *fmt) {
			va_start(ap, fmt);
			print_detail(fmt, ap);
			va_end(ap);
		}
	}
	fflush(stdout);
	return cond;
}

void ut_skip(const char *name, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	printf("skip %s%s %s\n", ut_prefix, name, buf);
	fflush(stdout);
}

void ut_diag(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	print_detail(fmt, ap);
	va_end(ap);
	fflush(stdout);
}

static int libbpf_quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG || (level == LIBBPF_INFO && !ut_verbose))
		return 0;
	return vfprintf(stderr, fmt, ap);
}

int ut_load(struct ut *u, const struct ut_opts *o)
{
	LIBBPF_OPTS(bpf_object_open_opts, oopts);
	static const struct ut_opts none;
	static int dir_seq;
	__u32 other = 0xffff;
	size_t i;
	int err;

	if (!o)
		o = &none;
	memset(u, 0, sizeof(*u));
	libbpf_set_print(libbpf_quiet);
	u->ncpu = libbpf_num_possible_cpus();
	mkdir("/sys/fs/bpf", 0755);
	snprintf(u->dir, sizeof(u->dir), "/sys/fs/bpf/nacct-unit-%d-%d", getpid(), dir_seq++);
	nacct_rm_pin_dir(u->dir);
	if (mkdir(u->dir, 0700)) {
		err = -errno;
		fprintf(stderr, "mkdir %s: %s\n", u->dir, strerror(errno));
		return err;
	}
	oopts.pin_root_path = u->dir;
	u->xdp = nacct_xdp__open_opts(&oopts);
	u->tc = nacct_tc__open_opts(&oopts);
	if (!u->xdp || !u->tc) {
		err = -errno;
		goto fail;
	}
	/* as `nacct attach` sets both objects up (lib/attach.h) */
	u->flow_layout = o->flow_layout ? o->flow_layout :
			 ut_default_layout >= 0 ? (__u32)ut_default_layout : NACCT_FLOW_PERCPU;
	u->copies = u->flow_layout == NACCT_FLOW_SHARED ? 1 : u->ncpu;
	NACCT_DATAPATH_SETUP(u->xdp, o->max_flows, o->n_subnets, u->flow_layout);
	NACCT_DATAPATH_SETUP(u->tc, o->max_flows, o->n_subnets, u->flow_layout);
	NACCT_TUNNEL_SETUP(u->xdp, o->decap, o->tun_ports);
	NACCT_TUNNEL_SETUP(u->tc, o->decap, o->tun_ports);
	/* as attach does where the kernel and driver take multi-buffer
	 * frames (lib/attach.c want_frags()) */
	u->xdp_frags = o->xdp_frags || ut_default_frags;
	if (u->xdp_frags)
		NACCT_XDP_FRAGS_SETUP(u->xdp);
	err = nacct_xdp__load(u->xdp);
	if (err)
		goto fail;
	/* the TC object reuses the maps the XDP object pinned */
	err = nacct_tc__load(u->tc);
	if (err)
		goto fail;
	u->prog_xdp = bpf_program__fd(u->xdp->progs.nacct_xdp);
	u->prog_egress = bpf_program__fd(u->tc->progs.nacct_tc_egress);
	u->prog_ingress = bpf_program__fd(u->tc->progs.nacct_tc_ingress);
	u->flows = bpf_map__fd(u->xdp->maps.nacct_flows);
	u->stats = bpf_map__fd(u->xdp->maps.nacct_stats);
	u->subnets = bpf_map__fd(u->xdp->maps.nacct_subnets);
	u->subnet_stats = bpf_map__fd(u->xdp->maps.nacct_subnet_stats);
	u->ethertypes = bpf_map__fd(u->xdp->maps.nacct_ethertypes);
	u->frags = bpf_map__fd(u->xdp->maps.nacct_frags);
	u->cfg = bpf_map__fd(u->xdp->maps.nacct_cfg);
	u->samples = bpf_map__fd(u->xdp->maps.nacct_samples);
	u->tunnels = bpf_map__fd(u->xdp->maps.nacct_tunnels);
	u->queues = bpf_map__fd(u->xdp->maps.nacct_queues);
	u->tun_cache[0] = bpf_map__fd(u->xdp->maps.nacct_tun_cache);
	u->tun_cache[1] = bpf_map__fd(u->tc->maps.nacct_tun_cache);
	u->n_subnet_ids = o->n_subnets + 1;

	for (i = 0; i < o->n_subnets; i++) {
		struct nacct_subnet_key k;
		struct nacct_subnet_val v = { .id = o->subnets[i].id };

		memset(&k, 0, sizeof(k));
		k.prefixlen = 8 + o->subnets[i].plen;
		k.family = o->subnets[i].family;
		memcpy(k.addr, o->subnets[i].addr, 16);
		if (bpf_map_update_elem(u->subnets, &k, &v, BPF_NOEXIST)) {
			err = -errno;
			goto fail;
		}
	}
	/* as `nacct attach` does: the "table full" ethertype bucket */
	{
		struct nacct_ethertype_val *z = calloc(u->ncpu, sizeof(*z));

		if (!z) {
			err = -ENOMEM;
			goto fail;
		}
		err = bpf_map_update_elem(u->ethertypes, &other, z, BPF_ANY) ? -errno : 0;
		free(z);
		if (err)
			goto fail;
	}
	return 0;
fail:
	fprintf(stderr, "ut_load: %s\n", strerror(-err));
	ut_unload(u);
	return err;
}

void ut_unload(struct ut *u)
{
	nacct_tc__destroy(u->tc);
	nacct_xdp__destroy(u->xdp);
	u->tc = NULL;
	u->xdp = NULL;
	if (u->dir[0])
		nacct_rm_pin_dir(u->dir);
	u->dir[0] = '\0';
}

static int clear_hash(int fd, size_t key_size)
{
	char key[64];

	if (key_size > sizeof(key))
		return -EINVAL;
	while (bpf_map_get_next_key(fd, NULL, key) == 0)
		if (bpf_map_delete_elem(fd, key))
			return -errno;
	return 0;
}

int ut_reset(struct ut *u)
{
	size_t vsz = sizeof(struct nacct_stats);
	size_t csz = (bpf_map__value_size(u->xdp->maps.nacct_tun_cache) + 7) & ~(size_t)7;
	__u32 zero = 0, id, other = 0xffff;
	struct nacct_cfg cfg = {};
	void *z;
	int err = 0;

	z = calloc(u->ncpu, vsz > csz ? vsz : csz);
	if (!z)
		return -ENOMEM;
	/*
	 * The tunnel table is emptied below: each CPU's cache of its last
	 * tunnel goes first (maps/maps.bpf.h: whatever deletes tunnel entries
	 * must), or a CPU that cached a tunnel in an earlier test hands out its
	 * old handle without an entry (seen: "2 flows, 1 tunnels" when the
	 * test ran on the CPU the previous one had used)
	 */
	for (id = 0; id < 2; id++)
		if (bpf_map_update_elem(u->tun_cache[id], &zero, z, BPF_ANY))
			err = -errno;
	if (clear_hash(u->flows, sizeof(struct nacct_flow_key)) ||
	    clear_hash(u->frags, 48) || clear_hash(u->ethertypes, 4) ||
	    clear_hash(u->tunnels, sizeof(struct nacct_tun_key)))
		err = -errno;
	if (bpf_map_update_elem(u->stats, &zero, z, BPF_ANY))
		err = -errno;
	for (id = 0; id < NACCT_QUEUE_KEYS; id++)
		if (bpf_map_update_elem(u->queues, &id, z, BPF_ANY))
			err = -errno;
	for (id = 0; id < u->n_subnet_ids; id++)
		if (bpf_map_update_elem(u->subnet_stats, &id, z, BPF_ANY))
			err = -errno;
	if (bpf_map_update_elem(u->ethertypes, &other, z, BPF_ANY))
		err = -errno;
	if (bpf_map_update_elem(u->cfg, &zero, &cfg, BPF_ANY))
		err = -errno;
	free(z);
	return err;
}

const char *ut_hook_name(enum ut_hook h)
{
	return h == UT_XDP ? "xdp" : h == UT_TC_EGRESS ? "tc_egress" : "tc_ingress";
}

int ut_refused(enum ut_hook h, const __u8 *pkt, size_t len)
{
	__u16 et;

	if (len < 14)
		return 1;
	if (h == UT_XDP)
		return 0;
	et = (__u16)(pkt[12] << 8 | pkt[13]);
	return (et == 0x0800 && len < 14 + 20) || (et == 0x86dd && len < 14 + 40);
}

int ut_pass_verdict(enum ut_hook h)
{
	return h == UT_XDP ? 2 /* XDP_PASS */ : TC_ACT_UNSPEC;
}

int ut_run(struct ut *u, enum ut_hook h, const void *pkt, __u32 len,
	   const struct __sk_buff *skb_ctx, int *verdict)
{
	LIBBPF_OPTS(bpf_test_run_opts, t);
	int fd = h == UT_XDP ? u->prog_xdp : h == UT_TC_EGRESS ? u->prog_egress : u->prog_ingress;

	if (ut_frame_hook)
		ut_frame_hook(pkt, len);
	t.data_in = pkt;
	t.data_size_in = len;
	if (skb_ctx && h != UT_XDP) {
		t.ctx_in = skb_ctx;
		t.ctx_size_in = sizeof(*skb_ctx);
	}
	if (bpf_prog_test_run_opts(fd, &t))
		return -errno;
	*verdict = (int)t.retval;
	return 0;
}

int ut_run_xdp_split(struct ut *u, const void *pkt, __u32 len, __u32 linear, int *verdict)
{
	LIBBPF_OPTS(bpf_test_run_opts, t);
	struct xdp_md ctx = { .data = 0, .data_end = linear }, out = { 0 };

	t.data_in = pkt;
	t.data_size_in = len;
	t.ctx_in = &ctx;
	t.ctx_size_in = sizeof(ctx);
	t.ctx_out = &out;
	t.ctx_size_out = sizeof(out);
	if (bpf_prog_test_run_opts(u->prog_xdp, &t))
		return -errno;
	/* the program saw a first buffer of @linear bytes, or the kernel
	 * made its own split */
	if (out.data_end - out.data != linear)
		return -EPROTO;
	*verdict = (int)t.retval;
	return 0;
}

int ut_send(struct ut *u, enum ut_hook h, const void *pkt, __u32 len, const char *name)
{
	int verdict = 0, err;

	err = ut_run(u, h, pkt, len, NULL, &verdict);
	if (err) {
		ut_check(0, name, "%s: BPF_PROG_TEST_RUN on %u bytes: %s", ut_hook_name(h), len,
			 strerror(-err));
		return err;
	}
	if (verdict != ut_pass_verdict(h)) {
		ut_check(0, name, "%s: verdict %d, expected %d", ut_hook_name(h), verdict,
			 ut_pass_verdict(h));
		return -EINVAL;
	}
	return 0;
}

int ut_stats(struct ut *u, struct nacct_stats *st)
{
	return nacct_read_totals(u->stats, u->queues, 0, st);
}

static void sum_flow(const struct nacct_flow_val *pc, int ncpu, struct nacct_flow_val *out)
{
	int i, d;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < ncpu; i++) {
		for (d = 0; d < NACCT_DIR_MAX; d++) {
			out->packets[d] += pc[i].packets[d];
			out->bytes[d] += pc[i].bytes[d];
			out->tcp_flags[d] |= pc[i].tcp_flags[d];
		}
		if (!pc[i].first_seen)
			continue;
		if (!out->first_seen || pc[i].first_seen < out->first_seen) {
			out->first_seen = pc[i].first_seen;
			out->first_dir = pc[i].first_dir;
		}
		if (pc[i].last_seen > out->last_seen)
			out->last_seen = pc[i].last_seen;
		out->seen_dirs |= pc[i].seen_dirs;
		out->subnet_lo = pc[i].subnet_lo;
		out->subnet_hi = pc[i].subnet_hi;
		/* the same in every slot that saw the flow */
		out->outer_dir = pc[i].outer_dir;
		if (pc[i].inner_type)
			out->inner_type = pc[i].inner_type;
	}
}

int ut_flow(struct ut *u, const struct nacct_flow_key *k, struct nacct_flow_val *v)
{
	struct nacct_flow_val *pc = calloc(u->ncpu, sizeof(*pc));
	int err = 0;

	if (!pc)
		return -ENOMEM;
	if (bpf_map_lookup_elem(u->flows, k, pc))
		err = -errno;
	else
		sum_flow(pc, u->copies, v);
	free(pc);
	return err;
}

int ut_flows(struct ut *u, struct ut_flows *f)
{
	struct nacct_flow_key key, next, *prev = NULL;
	struct nacct_flow_val *pc = calloc(u->ncpu, sizeof(*pc));
	size_t cap = 0;
	int d;

	memset(f, 0, sizeof(*f));
	if (!pc)
		return -ENOMEM;
	while (bpf_map_get_next_key(u->flows, prev, &next) == 0) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(u->flows, &key, pc))
			continue;
		if (f->n == cap) {
			cap = cap ? cap * 2 : 64;
			f->keys = realloc(f->keys, cap * sizeof(*f->keys));
			f->vals = realloc(f->vals, cap * sizeof(*f->vals));
			if (!f->keys || !f->vals) {
				free(pc);
				return -ENOMEM;
			}
		}
		f->keys[f->n] = key;
		sum_flow(pc, u->copies, &f->vals[f->n]);
		for (d = 0; d < NACCT_DIR_MAX; d++) {
			f->packets[d] += f->vals[f->n].packets[d];
			f->bytes[d] += f->vals[f->n].bytes[d];
		}
		f->n++;
	}
	free(pc);
	return 0;
}

void ut_flows_free(struct ut_flows *f)
{
	free(f->keys);
	free(f->vals);
	memset(f, 0, sizeof(*f));
}

static void mapped(__u8 *dst, int fam, const __u8 *a)
{
	if (fam == 4) {
		memset(dst, 0, 10);
		dst[10] = dst[11] = 0xff;
		memcpy(dst + 12, a, 4);
	} else {
		memcpy(dst, a, 16);
	}
}

void ut_key(struct nacct_flow_key *k, int fam, const __u8 *a, __u16 ap, const __u8 *b,
	    __u16 bp, __u8 proto, __u16 vlan, int *a_is_lo)
{
	__u8 ma[16], mb[16];
	int c;

	mapped(ma, fam, a);
	mapped(mb, fam, b);
	c = memcmp(ma, mb, 16);
	if (!c)
		c = ap < bp ? -1 : ap > bp;
	memset(k, 0, sizeof(*k));
	if (c <= 0) {
		memcpy(k->lo_addr, ma, 16);
		memcpy(k->hi_addr, mb, 16);
		k->lo_port = htons(ap);
		k->hi_port = htons(bp);
	} else {
		memcpy(k->lo_addr, mb, 16);
		memcpy(k->hi_addr, ma, 16);
		k->lo_port = htons(bp);
		k->hi_port = htons(ap);
	}
	k->proto = proto;
	k->family = fam == 4 ? NACCT_AF_INET : NACCT_AF_INET6;
	k->vlan = vlan;
	if (a_is_lo)
		*a_is_lo = c <= 0;
}

int ut_ethertype(struct ut *u, __u32 et, struct nacct_ethertype_val *v)
{
	struct nacct_ethertype_val *pc = calloc(u->ncpu, sizeof(*pc));
	int i, d, err = 0;

	memset(v, 0, sizeof(*v));
	if (!pc)
		return -ENOMEM;
	if (bpf_map_lookup_elem(u->ethertypes, &et, pc)) {
		err = -errno;
	} else {
		for (i = 0; i < u->ncpu; i++)
			for (d = 0; d < NACCT_DIR_MAX; d++) {
				v->packets[d] += pc[i].packets[d];
				v->bytes[d] += pc[i].bytes[d];
			}
	}
	free(pc);
	return err;
}

int ut_subnet_stats(struct ut *u, __u32 id, struct nacct_subnet_stats *s)
{
	struct nacct_subnet_stats *pc = calloc(u->ncpu, sizeof(*pc));
	int i, d, err = 0;

	memset(s, 0, sizeof(*s));
	if (!pc)
		return -ENOMEM;
	if (bpf_map_lookup_elem(u->subnet_stats, &id, pc)) {
		err = -errno;
	} else {
		for (i = 0; i < u->ncpu; i++)
			for (d = 0; d < NACCT_DIR_MAX; d++) {
				s->packets[d] += pc[i].packets[d];
				s->bytes[d] += pc[i].bytes[d];
			}
	}
	free(pc);
	return err;
}

int ut_set_cfg(struct ut *u, __u32 sample_n, __u32 snaplen)
{
	struct nacct_cfg c = { .sample_n = sample_n, .snaplen = snaplen };
	__u32 zero = 0;

	return bpf_map_update_elem(u->cfg, &zero, &c, BPF_ANY) ? -errno : 0;
}

int ut_conserve(struct ut *u, const char *name)
{
	struct nacct_ethertype_val ev;
	struct nacct_subnet_stats ss;
	struct nacct_stats st;
	struct ut_flows f;
	__u64 et_p[2] = {}, et_b[2] = {}, sub_p[2] = {}, sub_b[2] = {}, mal = 0;
	__u32 key, next, *prev = NULL, id;
	char detail[2048];
	size_t off = 0;
	int d, ok = 1, i;

	if (ut_stats(u, &st) || ut_flows(u, &f))
		return ut_check(0, name, "cannot read the maps: %s", strerror(errno));
	while (bpf_map_get_next_key(u->ethertypes, prev, &next) == 0) {
		key = next;
		prev = &key;
		if (ut_ethertype(u, key, &ev))
			continue;
		for (d = 0; d < 2; d++) {
			et_p[d] += ev.packets[d];
			et_b[d] += ev.bytes[d];
		}
	}
	for (id = 0; id < u->n_subnet_ids; id++) {
		if (ut_subnet_stats(u, id, &ss))
			continue;
		for (d = 0; d < 2; d++) {
			sub_p[d] += ss.packets[d];
			sub_b[d] += ss.bytes[d];
		}
	}
	for (i = 0; i < NACCT_MAL_MAX; i++)
		mal += st.malformed[i];
	detail[0] = '\0';
#define CONS(cond, ...)                                                                   \
	do {                                                                              \
		if (!(cond)) {                                                            \
			ok = 0;                                                           \
			off += snprintf(detail + off, sizeof(detail) - off > 0 ? sizeof(detail) - off : 0, \
					__VA_ARGS__);                                     \
			if (off >= sizeof(detail))                                        \
				off = sizeof(detail) - 1;                                 \
		}                                                                         \
	} while (0)
	for (d = 0; d < 2; d++) {
		__u64 p = f.packets[d] + st.overflow_packets[d] + st.malformed_packets[d] +
			  st.nonip_packets[d];
		__u64 b = f.bytes[d] + st.overflow_bytes[d] + st.malformed_bytes[d] +
			  st.nonip_bytes[d];

		CONS(st.packets[d] == p,
		     "dir %d: packets %llu != flows %llu + overflow %llu + malformed %llu + nonip %llu\n",
		     d, (unsigned long long)st.packets[d], (unsigned long long)f.packets[d],
		     (unsigned long long)st.overflow_packets[d],
		     (unsigned long long)st.malformed_packets[d],
		     (unsigned long long)st.nonip_packets[d]);
		CONS(st.bytes[d] == b,
		     "dir %d: bytes %llu != flows %llu + overflow %llu + malformed %llu + nonip %llu\n",
		     d, (unsigned long long)st.bytes[d], (unsigned long long)f.bytes[d],
		     (unsigned long long)st.overflow_bytes[d],
		     (unsigned long long)st.malformed_bytes[d],
		     (unsigned long long)st.nonip_bytes[d]);
		CONS(st.nonip_packets[d] == et_p[d] && st.nonip_bytes[d] == et_b[d],
		     "dir %d: nonip %llu/%llu != ethertypes %llu/%llu\n", d,
		     (unsigned long long)st.nonip_packets[d], (unsigned long long)st.nonip_bytes[d],
		     (unsigned long long)et_p[d], (unsigned long long)et_b[d]);
		CONS(sub_p[d] == f.packets[d] + st.overflow_packets[d] &&
			     sub_b[d] == f.bytes[d] + st.overflow_bytes[d],
		     "dir %d: subnets %llu/%llu != flows+overflow %llu/%llu\n", d,
		     (unsigned long long)sub_p[d], (unsigned long long)sub_b[d],
		     (unsigned long long)(f.packets[d] + st.overflow_packets[d]),
		     (unsigned long long)(f.bytes[d] + st.overflow_bytes[d]));
	}
	/* nothing deletes flows here: every insert is still in the map */
	CONS(st.flows_created == f.n, "flows_created %llu != %zu flows in the map\n",
	     (unsigned long long)st.flows_created, f.n);
	CONS(mal == st.malformed_packets[0] + st.malformed_packets[1],
	     "malformed reasons %llu != malformed packets %llu\n", (unsigned long long)mal,
	     (unsigned long long)(st.malformed_packets[0] + st.malformed_packets[1]));
#undef CONS
	ut_flows_free(&f);
	return ut_check(ok, name, "%s", detail);
}

const char *ut_mal_name(int r)
{
	static const char *const n[] = { "eth",	    "vlan", "ip4_hdr", "ip4_len", "ip6_hdr",
					 "ip6_ext", "l4",   "tun_hdr", "inner" };
	_Static_assert(sizeof(n) / sizeof(n[0]) == NACCT_MAL_MAX, "a name per reason");

	return r >= 0 && r < NACCT_MAL_MAX ? n[r] : "?";
}

int ut_tunnel(struct ut *u, __u64 handle, struct nacct_tun_key *k)
{
	struct nacct_tun_key cur, *prev = NULL;
	struct nacct_tun_val v;

	while (!bpf_map_get_next_key(u->tunnels, prev, &cur)) {
		if (!bpf_map_lookup_elem(u->tunnels, &cur, &v) && v.handle == handle) {
			*k = cur;
			return 0;
		}
		*k = cur;
		prev = k;
	}
	return -ENOENT;
}

int ut_tunnel_count(struct ut *u)
{
	struct nacct_tun_key cur, prev;
	int n = 0;

	while (!bpf_map_get_next_key(u->tunnels, n ? &prev : NULL, &cur)) {
		prev = cur;
		n++;
	}
	return n;
}
