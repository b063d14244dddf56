// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * bench_micro: per-packet cost of nacct's real XDP and TC programs under
 * BPF_PROG_TEST_RUN, next to baselines measured in the same run (a bare
 * XDP_PASS and a bare PERCPU_HASH update, bench/micro.bpf.c).
 *
 * One flow: test_run of one packet, repeat N (>= 10M); the kernel reports
 * the mean ns per iteration.  Many flows: the "rewriter" program
 * (bench_xdp_rw / bench_tc_rw) writes flow number (i mod F) into the source
 * address/port of the very packet being run and tail-calls the program
 * under test, so one test_run of repeat N is a stream of F distinct flows.
 * The rewriter + tail call has its own baseline (rw -> XDP_PASS).  The
 * first F iterations insert (the "insert" phase, repeat = F), the next N
 * update existing flows ("update" phase).  Maps are fresh for every run;
 * the process is pinned to one CPU so the per-CPU counter and per-CPU flow
 * values stay on one CPU.
 *
 * nacct's objects are loaded with pin_root_path set to a private
 * directory under /sys/fs/bpf (removed after every load); so are the
 * cumulative stages of nacct's own code in bench/variants.bpf.c (parse,
 * key, lookup, update, clock, subnet, account), which share nacct's maps
 * through those pins.  The stage table (stdout) shows each stage's ns and
 * its increment over the previous one, ending with the real nacct_xdp.
 *
 * Usage: bench_micro [--quick] [--repeat N] [--runs N] [--flows F] [--tsv FILE]
 *                    [--stages FILE]
 *                    [--only stages|targets|layout|frags|tunnels[,...]] [--hot]
 *        bench_micro --verifier
 *        bench_micro --memory [--flows F]
 * --only: the stage table's items (XDP, IPv4, no subnets, no sampling),
 * the targets' items (the bare hash and nacct, XDP IPv4/IPv6 and TC), the
 * flow table layouts' items (per-CPU and shared: bare hashes and nacct,
 * one CPU and two CPUs on one flow; phase "hot2cpu"), the multi-buffer
 * XDP program's items (prog "nacct_mb", "nacct@1500", "nacct_mb@1500",
 * "nacct_mb@9000": 1 hot flow, IPv4), or several; --hot:
 * one flow only (no many-flow phases).  TSV prog "nacct" is nacct with the
 * layout attach gives by default, "nacct_percpu" / "nacct_shared" the
 * other one.
 * --memory: bytes per flow of each layout at 2, 64 and 256 possible CPUs
 * (from the kernel's memlock of a flow map of F entries), then exit.
 * --verifier: load nacct's XDP and TC objects with the verifier's
 * statistics on, for each flow table layout with and without the subnet
 * lookup (and once with decapsulation off), and print each program's
 * processed instructions and states, then the most of the XDP program and
 * of the TC programs with decapsulation on ("most with decap on: nacct_xdp
 * N nacct_tc N")
 * (what decides whether a change to the data path still loads on older
 * verifiers), then exit.
 * --quick: subnets 0 and 10k, IPv6 only against the bare hash, 100k flows
 * unless --flows is given
 * Every measurement on stderr, the stage table on stdout; one TSV row per
 * measurement in --tsv FILE:
 *   hook family prog flows phase subnets sample_n min median max runs
 * and the stage table in --stages FILE (a header line, then one row per
 * stage and flow count):
 *   flows phase stage adds median min increment
 */
#ifndef BENCH_MICRO_C
#define BENCH_MICRO_C

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "nacct.h"
#include "../lib/attach.h" /* NACCT_FLOW_LAYOUT_DEFAULT */
#include "nacct_xdp.skel.h"
#include "nacct_tc.skel.h"
#include "bench/micro.skel.h"
#include "bench/variants.skel.h"

#define MAX_RUNS 15

static struct {
	__u32 repeat;
	int runs;
	__u32 flows;
	int quick;
	FILE *tsv;
	FILE *stages;
	char pin[128];
	unsigned int only; /* ONLY_*: a subset of the items; 0: all */
	int hot;           /* 1 flow only */
} opt = { .repeat = 10000000, .runs = 3, .flows = 1000000 };

/* ---- packets ------------------------------------------------------------ */

static const __u8 mac_a[6] = { 0x02, 0, 0, 0, 0, 0x01 };
static const __u8 mac_b[6] = { 0x02, 0, 0, 0, 0, 0x02 };

/* the largest frame an item sends (a jumbo frame) */
#define PKT_LEN_MAX 9000

/*
 * An Ethernet/IPv4/UDP or Ethernet/IPv6/UDP frame of @size bytes (0: the
 * smallest, 64 and 78 bytes)
 */
static size_t build_pkt_len(__u8 *p, int family, size_t size)
{
	size_t len = size ? size : family == 4 ? 64 : 78, l3 = family == 4 ? 20 : 40;
	__u8 *l4 = p + 14 + l3;

	memset(p, 0, len);
	memcpy(p, mac_b, 6);
	memcpy(p + 6, mac_a, 6);
	if (family == 4) {
		p[12] = 0x08;
		p[14] = 0x45;
		p[16] = (len - 14) >> 8;
		p[17] = (len - 14) & 0xff;
		p[22] = 64;
		p[23] = IPPROTO_UDP;
		inet_pton(AF_INET, "198.18.0.1", p + 26);
		inet_pton(AF_INET, "198.19.255.254", p + 30);
	} else {
		p[12] = 0x86;
		p[13] = 0xdd;
		p[14] = 0x60;
		p[18] = (len - 54) >> 8;
		p[19] = (len - 54) & 0xff;
		p[20] = IPPROTO_UDP;
		p[21] = 64;
		inet_pton(AF_INET6, "fd00:18::1", p + 22);
		inet_pton(AF_INET6, "fd00:19::1", p + 38);
	}
	l4[0] = 0x30; /* sport 12345 */
	l4[1] = 0x39;
	l4[2] = 0x13; /* dport 5001 */
	l4[3] = 0x89;
	l4[4] = (len - 14 - l3) >> 8;
	l4[5] = (len - 14 - l3) & 0xff;
	return len;
}

/* the tunnel frames of the tunnel items: the IPv4 UDP frame inside */
enum bench_tun { BENCH_TUN_NONE = 0, BENCH_TUN_VXLAN, BENCH_TUN_GRE, BENCH_TUN_IPIP,
		 BENCH_TUN_MPLS, BENCH_TUN_MAX };
static const char *const bench_tun_name[BENCH_TUN_MAX] = { "", "vxlan", "gre", "ipip", "mpls" };

static size_t build_tun_pkt(__u8 *p, int tun)
{
	__u8 in[PKT_LEN_MAX];
	size_t in_len = build_pkt_len(in, 4, 0), off = 14, hl = 0, body;
	int eth_in = tun == BENCH_TUN_VXLAN;

	memset(p, 0, PKT_LEN_MAX);
	memcpy(p, mac_b, 6);
	memcpy(p + 6, mac_a, 6);
	if (tun == BENCH_TUN_MPLS) {
		p[12] = 0x88;
		p[13] = 0x47;
		p[14] = 0x00; /* label 16, bottom of stack, TTL 64 */
		p[15] = 0x01;
		p[16] = 0x01;
		p[17] = 64;
		memcpy(p + 18, in + 14, in_len - 14);
		return 18 + in_len - 14;
	}
	p[12] = 0x08;
	p[14] = 0x45;
	p[22] = 64;
	p[23] = tun == BENCH_TUN_VXLAN ? IPPROTO_UDP : tun == BENCH_TUN_GRE ? 47 : IPPROTO_IPIP;
	inet_pton(AF_INET, "198.18.9.1", p + 26);
	inet_pton(AF_INET, "198.18.9.2", p + 30);
	off = 34;
	if (tun == BENCH_TUN_VXLAN) {
		p[off] = 0xc0; /* sport 49152 */
		p[off + 2] = 0x12; /* dport 4789 */
		p[off + 3] = 0xb5;
		off += 8;
		p[off] = 0x08; /* I */
		p[off + 6] = 100; /* VNI 100 */
		hl = 8;
	} else if (tun == BENCH_TUN_GRE) {
		p[off + 2] = 0x08; /* IPv4 inside */
		hl = 4;
	}
	body = eth_in ? in_len : in_len - 14;
	memcpy(p + off + hl, eth_in ? in : in + 14, body);
	p[16] = (off + hl + body - 14) >> 8;
	p[17] = (off + hl + body - 14) & 0xff;
	if (tun == BENCH_TUN_VXLAN) {
		p[38] = (off + hl + body - 34) >> 8;
		p[39] = (off + hl + body - 34) & 0xff;
	}
	return off + hl + body;
}

/* ---- test_run ----------------------------------------------------------- */

/* mean ns per iteration of one test_run, or -1 */
static double run_once(int prog_fd, const __u8 *pkt, size_t len, __u32 repeat)
{
	static __thread __u8 out[PKT_LEN_MAX];
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = pkt, .data_size_in = len,
		    .data_out = out, .data_size_out = sizeof(out), .repeat = repeat);

	if (bpf_prog_test_run_opts(prog_fd, &o)) {
		fprintf(stderr, "bench_micro: test_run: %s\n", strerror(errno));
		return -1;
	}
	return o.duration;
}

static int cmp_dbl(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

struct result {
	double min, med, max;
	int n;
};

static struct result summarize(double *v, int n)
{
	struct result r = { -1, -1, -1, n };

	if (n <= 0)
		return r;
	qsort(v, n, sizeof(*v), cmp_dbl);
	r.min = v[0];
	r.med = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
	r.max = v[n - 1];
	return r;
}

static void record(const char *hook, int family, const char *prog, __u32 flows, const char *phase,
		   __u32 subnets, __u32 sample_n, struct result r)
{
	if (opt.tsv)
		fprintf(opt.tsv, "%s\t%d\t%s\t%u\t%s\t%u\t%u\t%.1f\t%.1f\t%.1f\t%d\n", hook, family,
			prog, flows, phase, subnets, sample_n, r.min, r.med, r.max, r.n);
	fprintf(stderr, "  %-3s v%d %-10s flows=%-7u %-6s subnets=%-6u sample_n=%-4u "
		"%.1f / %.1f / %.1f ns\n", hook, family, prog, flows, phase, subnets, sample_n,
		r.min, r.med, r.max);
}

/* ---- nacct's real objects ------------------------------------------------- */

struct nacct_objs {
	struct nacct_xdp *xdp;
	struct nacct_tc *tc;
	struct bench_variants *var; /* nacct's code in stages, on nacct's maps */
};

static void rm_pins(void)
{
	DIR *d = opendir(opt.pin);
	struct dirent *e;
	char path[512];

	if (!d)
		return;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", opt.pin, e->d_name);
		unlink(path);
	}
	closedir(d);
	rmdir(opt.pin);
}

static void nacct_unload(struct nacct_objs *n)
{
	nacct_xdp__destroy(n->xdp);
	nacct_tc__destroy(n->tc);
	bench_variants__destroy(n->var);
	n->xdp = NULL;
	n->tc = NULL;
	n->var = NULL;
	rm_pins();
}

static unsigned int ceil_log2(__u32 n)
{
	unsigned int b = 0;

	while ((1u << b) < n)
		b++;
	return b;
}

/*
 * n prefixes of one family, all distinct, covering the start of
 * 198.18.0.0/15 (v4: /(15 + log2 n)) or fd00:18::/64 (v6: /(64 + log2 n)),
 * so the benchmark's source addresses always hit one.
 */
static int fill_subnets(int fd, __u32 n, int family)
{
	unsigned int bits = ceil_log2(n ? n : 1);
	__u32 i;

	for (i = 0; i < n; i++) {
		struct nacct_subnet_key k;
		struct nacct_subnet_val v = { .id = i + 1 };

		memset(&k, 0, sizeof(k));
		if (family == 4) {
			unsigned int plen = 15 + bits;
			__u32 a = 0xc6120000u + (plen < 32 ? (i << (32 - plen)) : i);

			a = htonl(a);
			k.family = NACCT_AF_INET;
			k.prefixlen = 8 + plen;
			memcpy(k.addr, &a, 4);
		} else {
			unsigned int plen = 64 + bits;
			__u64 lo = (__u64)i << (64 - bits);
			int j;

			if (!bits)
				lo = 0;
			k.family = NACCT_AF_INET6;
			k.prefixlen = 8 + plen;
			inet_pton(AF_INET6, "fd00:18::", k.addr);
			for (j = 0; j < 8; j++)
				k.addr[8 + j] = lo >> (56 - 8 * j);
		}
		if (bpf_map_update_elem(fd, &k, &v, BPF_NOEXIST))
			return -errno;
	}
	return 0;
}

/*
 * nacct's XDP object always (it owns the maps the loader fills), the TC
 * object only for TC items and the stages only for stage items: the
 * verifier's time for objects a run does not use is wasted.
 */
static int nacct_load(struct nacct_objs *n, __u32 max_flows, __u32 subnets, int family,
		      __u32 sample_n, int with_tc, int with_var, __u32 layout, int frags,
		      int nodecap)
{
	LIBBPF_OPTS(bpf_object_open_opts, oo);
	struct nacct_cfg cfg = { .sample_n = sample_n, .snaplen = 128 };
	__u32 zero = 0;
	int err;

	memset(n, 0, sizeof(*n));
	rm_pins();
	if (mkdir(opt.pin, 0700) && errno != EEXIST)
		return -errno;
	oo.pin_root_path = opt.pin;
	n->xdp = nacct_xdp__open_opts(&oo);
	if (with_tc)
		n->tc = nacct_tc__open_opts(&oo);
	if (with_var)
		n->var = bench_variants__open_opts(&oo);
	if (!n->xdp || (with_tc && !n->tc) || (with_var && !n->var)) {
		err = -errno;
		goto out;
	}
	/* set up as nacct attach does (lib/attach.h): the same sizes in every
	 * object, or pins clash */
	NACCT_DATAPATH_SETUP(n->xdp, max_flows, subnets, layout);
	if (n->tc)
		NACCT_DATAPATH_SETUP(n->tc, max_flows, subnets, layout);
	if (n->var)
		NACCT_DATAPATH_SETUP(n->var, max_flows, subnets, layout);
	/* tunnels: the object's ports; --decap off prunes the stage */
	NACCT_TUNNEL_SETUP(n->xdp, nodecap ? NACCT_DECAP_OFF : NACCT_DECAP_ON, NULL);
	if (n->tc)
		NACCT_TUNNEL_SETUP(n->tc, nodecap ? NACCT_DECAP_OFF : NACCT_DECAP_ON, NULL);
	/* the multi-buffer XDP program, as attach loads it for a driver with rx_sg */
	if (frags)
		NACCT_XDP_FRAGS_SETUP(n->xdp);
	err = nacct_xdp__load(n->xdp);
	if (!err && n->tc)
		err = nacct_tc__load(n->tc);
	if (!err && n->var)
		err = bench_variants__load(n->var);
	if (!err)
		err = fill_subnets(bpf_map__fd(n->xdp->maps.nacct_subnets), subnets, family);
	if (!err && bpf_map_update_elem(bpf_map__fd(n->xdp->maps.nacct_cfg), &zero, &cfg, BPF_ANY))
		err = -errno;
out:
	if (err) {
		fprintf(stderr, "bench_micro: loading nacct: %s\n", strerror(-err));
		nacct_unload(n);
	}
	return err;
}

/* ---- baselines --------------------------------------------------------- */

static struct bench_micro *bench_load(__u32 max_flows, __u32 nflows)
{
	struct bench_micro *b = bench_micro__open();

	if (!b)
		return NULL;
	bpf_map__set_max_entries(b->maps.bench_flows, max_flows);
	bpf_map__set_max_entries(b->maps.bench_flows64, max_flows);
	bpf_map__set_max_entries(b->maps.bench_flows_shared, max_flows);
	bpf_map__set_max_entries(b->maps.bench_flows40, max_flows);
	if (bench_micro__load(b)) {
		bench_micro__destroy(b);
		return NULL;
	}
	b->bss->nflows = nflows;
	return b;
}

static int set_jmp(struct bench_micro *b, int tc, int target_fd)
{
	__u32 zero = 0;
	int map = bpf_map__fd(tc ? b->maps.bench_tc_jmp : b->maps.bench_jmp);

	return bpf_map_update_elem(map, &zero, &target_fd, BPF_ANY) ? -errno : 0;
}

/* T_NACCT and everything after it run on nacct's maps (nacct_load) */
enum target {
	T_PASS, T_HASH, T_HASH64, T_HASH_SHARED, T_HASH40, T_NACCT,
	/* the cumulative stages of bench/variants.bpf.c, in order */
	T_ST_FLOOR, T_ST_PARSE, T_ST_KEY, T_ST_LOOKUP, T_ST_UPDATE, T_ST_CLOCK, T_ST_SUBNET,
	T_ST_ACCOUNT, T_MAX,
};

static const char *target_name[T_MAX] = {
	"pass", "hash", "hash64", "hash_shared", "hash40", "nacct", "st_floor", "st_parse", "st_key",
	"st_lookup",
	"st_update", "st_clock", "st_subnet", "st_account",
};

/* what each stage adds to the one before; the last row is nacct_xdp itself */
static const struct {
	enum target t;
	const char *adds;
} stages[] = {
	{ T_ST_FLOOR, "XDP_PASS (test_run floor)" },
	{ T_ST_PARSE, "parse (nacct_parse)" },
	{ T_ST_KEY, "canonical flow key" },
	{ T_ST_LOOKUP, "flow lookup / insert" },
	{ T_ST_UPDATE, "value update" },
	{ T_ST_CLOCK, "clock reads" },
	{ T_ST_SUBNET, "subnet lookup + counters" },
	{ T_ST_ACCOUNT, "real nacct_account_dir (totals)" },
	{ T_NACCT, "cfg lookup + sampling = nacct_xdp" },
};

static int stage_fd(struct bench_variants *v, enum target t)
{
	switch (t) {
	case T_ST_FLOOR: return bpf_program__fd(v->progs.bench_st_floor);
	case T_ST_PARSE: return bpf_program__fd(v->progs.bench_st_parse);
	case T_ST_KEY: return bpf_program__fd(v->progs.bench_st_key);
	case T_ST_LOOKUP: return bpf_program__fd(v->progs.bench_st_lookup);
	case T_ST_UPDATE: return bpf_program__fd(v->progs.bench_st_update);
	case T_ST_CLOCK: return bpf_program__fd(v->progs.bench_st_clock);
	case T_ST_SUBNET: return bpf_program__fd(v->progs.bench_st_subnet);
	case T_ST_ACCOUNT: return bpf_program__fd(v->progs.bench_st_account);
	default: return -1;
	}
}

/* one configuration to measure; runs are interleaved across all of them */
struct item {
	int tc, family;
	enum target t;
	__u32 flows, subnets, sample_n;
	__u32 layout; /* nacct's flow table: enum nacct_flow_layout */
	int cpus;     /* 2: two CPUs run the same flow at once (1 flow only) */
	int frags;    /* nacct's multi-buffer XDP program ("xdp.frags") */
	__u32 size;   /* frame bytes (0: the smallest, 64 / 78) */
	int nodecap;  /* nacct loaded with --decap off */
	int tun;      /* the IPv4 UDP frame inside a tunnel: enum bench_tun */
	double ins[MAX_RUNS], upd[MAX_RUNS];
	int n_ins, n_upd;
};

/* one thread of a two-CPU run: test_run pinned to its CPU, the mean ns */
struct cpu_run {
	int cpu, fd;
	const __u8 *pkt;
	size_t len;
	pthread_barrier_t *start;
	double ns;
};

static void *cpu_run_thread(void *arg)
{
	struct cpu_run *r = arg;
	cpu_set_t cs;

	CPU_ZERO(&cs);
	CPU_SET(r->cpu, &cs);
	r->ns = -1;
	if (pthread_setaffinity_np(pthread_self(), sizeof(cs), &cs))
		return NULL;
	pthread_barrier_wait(r->start);
	r->ns = run_once(r->fd, r->pkt, r->len, opt.repeat);
	return NULL;
}

/*
 * CPUs 0 and 1 run the same program on the same packet at the same time
 * (one flow): the mean of the two CPUs' ns/packet, or -1.  Per-CPU values
 * never meet; a shared value's cache line travels between the CPUs.
 */
static double run_two_cpus(int fd, const __u8 *pkt, size_t len)
{
	pthread_barrier_t start;
	struct cpu_run r[2];
	pthread_t th[2];
	int i;

	pthread_barrier_init(&start, NULL, 2);
	for (i = 0; i < 2; i++) {
		r[i] = (struct cpu_run){ .cpu = i, .fd = fd, .pkt = pkt, .len = len,
					 .start = &start };
		pthread_create(&th[i], NULL, cpu_run_thread, &r[i]);
	}
	for (i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	pthread_barrier_destroy(&start);
	return r[0].ns < 0 || r[1].ns < 0 ? -1 : (r[0].ns + r[1].ns) / 2;
}

/*
 * One run of item @it, on fresh maps.  With flows > 1 through the
 * rewriter: phase insert (repeat = flows), then update (repeat =
 * opt.repeat).
 */
static void measure_once(struct item *it)
{
	static __u8 pkt[PKT_LEN_MAX];
	size_t len = it->tun ? build_tun_pkt(pkt, it->tun) : build_pkt_len(pkt, it->family, it->size);
	__u32 flows = it->flows, max_flows = flows > 1 ? flows + flows / 16 : 1024;
	struct nacct_objs n = { 0 };
	struct bench_micro *b = bench_load(max_flows, flows > 1 ? flows : 0);
	enum target t = it->t;
	int fd = -1, tc = it->tc;
	double d;

	if (!b) {
		fprintf(stderr, "bench_micro: cannot load bench/micro.bpf.c\n");
		return;
	}
	if (t >= T_NACCT) {
		if (nacct_load(&n, max_flows, it->subnets, it->family, it->sample_n, tc,
			       t > T_NACCT, it->layout, it->frags, it->nodecap)) {
			bench_micro__destroy(b);
			return;
		}
		fd = tc ? bpf_program__fd(n.tc->progs.nacct_tc_egress) :
			  bpf_program__fd(n.xdp->progs.nacct_xdp);
		if (t > T_NACCT)
			fd = stage_fd(n.var, t);
	} else if (tc) {
		fd = bpf_program__fd(t == T_PASS ? b->progs.bench_tc_pass : b->progs.bench_tc_hash);
	} else {
		fd = bpf_program__fd(t == T_PASS	  ? b->progs.bench_xdp_pass :
				     t == T_HASH	  ? b->progs.bench_xdp_hash :
				     t == T_HASH_SHARED ? b->progs.bench_xdp_hash_shared :
				     t == T_HASH40	  ? b->progs.bench_xdp_hash40 :
							  b->progs.bench_xdp_hash64);
	}
	if (flows > 1) {
		if (set_jmp(b, tc, fd)) {
			fprintf(stderr, "bench_micro: tail call setup: %s\n", strerror(errno));
			goto out;
		}
		fd = bpf_program__fd(tc ? b->progs.bench_tc_rw : b->progs.bench_xdp_rw);
		d = run_once(fd, pkt, len, flows);
		if (d >= 0)
			it->ins[it->n_ins++] = d;
	}
	d = it->cpus == 2 ? run_two_cpus(fd, pkt, len) : run_once(fd, pkt, len, opt.repeat);
	if (d >= 0)
		it->upd[it->n_upd++] = d;
out:
	if (t >= T_NACCT)
		nacct_unload(&n);
	bench_micro__destroy(b);
}

/*
 * The TSV's prog: "nacct" is nacct with the flow table layout attach
 * gives by default; the other layout is "nacct_percpu" / "nacct_shared".
 */
static const char *item_prog(const struct item *it)
{
	static char name[64];
	const char *base = target_name[it->t];

	if (it->t == T_NACCT && it->layout != NACCT_FLOW_LAYOUT_DEFAULT)
		base = it->layout == NACCT_FLOW_SHARED ? "nacct_shared" : "nacct_percpu";
	if (!it->frags && !it->size && !it->nodecap && !it->tun)
		return base;
	/* the multi-buffer program "_mb", --decap off "_nodecap", a frame size
	 * other than the smallest "@N", a tunnel frame "@TYPE" */
	snprintf(name, sizeof(name), "%s%s%s", base, it->frags ? "_mb" : "",
		 it->nodecap ? "_nodecap" : "");
	if (it->size)
		snprintf(name + strlen(name), sizeof(name) - strlen(name), "@%u", it->size);
	if (it->tun)
		snprintf(name + strlen(name), sizeof(name) - strlen(name), "@%s",
			 bench_tun_name[it->tun]);
	return name;
}

static void report(struct item *it)
{
	const char *hook = it->tc ? "tc" : "xdp";
	const char *phase = it->flows > 1 ? "update" : it->cpus == 2 ? "hot2cpu" : "hot";

	if (it->n_ins)
		record(hook, it->family, item_prog(it), it->flows, "insert", it->subnets,
		       it->sample_n, summarize(it->ins, it->n_ins));
	record(hook, it->family, item_prog(it), it->flows, phase, it->subnets, it->sample_n,
	       summarize(it->upd, it->n_upd));
}

#define MAX_ITEMS 128
static struct item items[MAX_ITEMS];
static int n_items;

static struct item *find(int tc, int family, enum target t, __u32 flows, __u32 subnets,
			 __u32 sample_n)
{
	int i;

	for (i = 0; i < n_items; i++) {
		struct item *it = &items[i];

		if (it->tc == tc && it->family == family && it->t == t && it->flows == flows &&
		    it->subnets == subnets && it->sample_n == sample_n &&
		    it->layout == NACCT_FLOW_LAYOUT_DEFAULT && it->cpus == 1 && !it->frags &&
		    !it->size && !it->nodecap && !it->tun)
			return it;
	}
	return NULL;
}

/* median of an item's update/hot runs (sorts them: after report() only) */
static double item_med(struct item *it, double *min)
{
	struct result r = summarize(it->upd, it->n_upd);

	*min = r.min;
	return r.med;
}

/*
 * The stage table: each stage's ns/packet (median and min of the runs) and
 * its increment over the stage before (medians), for one flow and for
 * the many-flow update phase.  IPv4, no subnets, sampling off.
 */
static void print_stages(__u32 flows)
{
	double prev[2] = { -1, -1 };
	unsigned int s;
	int i;

	if (opt.stages)
		fprintf(opt.stages, "flows\tphase\tstage\tadds\tmedian\tmin\tincrement\n");
	printf("\n### nacct_xdp stage by stage (IPv4, BPF_PROG_TEST_RUN, ns/packet)\n\n");
	printf("| stage | adds | 1 flow (hot): median (min) | + | %u flows (update): median (min) | + |\n",
	       flows);
	printf("|---|---|---|---|---|---|\n");
	for (s = 0; s < sizeof(stages) / sizeof(stages[0]); s++) {
		printf("| %s | %s", target_name[stages[s].t], stages[s].adds);
		for (i = 0; i < 2; i++) {
			struct item *it = find(0, 4, stages[s].t, i ? flows : 1, 0, 0);
			double med, min;

			if (!it || !it->n_upd) {
				printf(" | - | -");
				prev[i] = -1;
				continue;
			}
			med = item_med(it, &min);
			printf(" | %.1f (%.1f)", med, min);
			/* the stage's name without the TSV's "st_" */
			if (opt.stages) {
				char inc[32] = "-";

				if (prev[i] >= 0)
					snprintf(inc, sizeof(inc), "%.1f", med - prev[i]);
				fprintf(opt.stages, "%u\t%s\t%s\t%s\t%.1f\t%.1f\t%s\n",
					i ? flows : 1, i ? "update" : "hot",
					target_name[stages[s].t] + (stages[s].t > T_NACCT ? 3 : 0),
					stages[s].adds, med, min, inc);
			}
			if (prev[i] >= 0)
				printf(" | %+.1f", med - prev[i]);
			else
				printf(" | -");
			prev[i] = med;
		}
		printf(" |\n");
	}
	printf("\nEach stage does all of the one above plus what it adds; + is the increment of\n"
	       "the medians (noise of a few ns is normal: runs are interleaved, the machine is\n"
	       "shared).  The last row is the real nacct_xdp (sampling off).\n");
}

/* --only: the items of the stage table, of the targets */
#define ONLY_STAGES (1u << 0)
#define ONLY_TARGETS (1u << 1)
#define ONLY_LAYOUT (1u << 2)
#define ONLY_FRAGS (1u << 3)
#define ONLY_TUNNELS (1u << 4)

static int wanted(int tc, int family, enum target t, __u32 flows, __u32 subnets, __u32 sample_n)
{
	int plain = !subnets && !sample_n;

	if (!opt.only)
		return 1;
	if ((opt.only & ONLY_STAGES) && !tc && family == 4 && plain)
		return 1;
	if ((opt.only & ONLY_TARGETS) && plain && (t == T_HASH || t == T_NACCT || (tc && t == T_PASS)))
		return 1;
	/* the single-buffer program beside the multi-buffer one (add_frags) */
	if ((opt.only & ONLY_FRAGS) && plain && !tc && family == 4 && t == T_NACCT && flows == 1)
		return 1;
	/* the plain program and the bare hash beside the tunnel items (add_tunnels) */
	if ((opt.only & ONLY_TUNNELS) && plain && !tc && family == 4 && flows == 1 &&
	    (t == T_NACCT || t == T_HASH))
		return 1;
	return 0;
}

/* an item, unless the same one is there already */
static void add_item(int tc, int family, enum target t, __u32 flows, __u32 subnets,
		     __u32 sample_n, __u32 layout, int cpus)
{
	int i;

	if (opt.hot && flows > 1)
		return;
	for (i = 0; i < n_items; i++) {
		struct item *it = &items[i];

		if (it->tc == tc && it->family == family && it->t == t && it->flows == flows &&
		    it->subnets == subnets && it->sample_n == sample_n && it->layout == layout &&
		    it->cpus == cpus && !it->frags && !it->size && !it->nodecap && !it->tun)
			return;
	}
	if (n_items < MAX_ITEMS)
		items[n_items++] = (struct item){ .tc = tc, .family = family, .t = t, .flows = flows,
						  .subnets = subnets, .sample_n = sample_n,
						  .layout = layout, .cpus = cpus };
}

/*
 * The multi-buffer XDP program beside the single-buffer one (IPv4, 1 hot
 * flow): 64-byte and 1500-byte frames (the same frames, one buffer each),
 * and a 9000-byte jumbo frame, which only the multi-buffer program takes
 * (BPF_PROG_TEST_RUN hands it over as a first buffer and fragments).
 */
static void add_frags(void)
{
	static const __u32 sizes[] = { 0, 1500, 9000 };
	unsigned int i;
	int frags;

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		for (frags = 0; frags <= 1; frags++) {
			if (sizes[i] == 9000 && !frags)
				continue;
			if (!sizes[i] && !frags)
				continue; /* the plain item, there already */
			if (n_items < MAX_ITEMS)
				items[n_items++] = (struct item){
					.family = 4, .t = T_NACCT, .flows = 1,
					.layout = NACCT_FLOW_LAYOUT_DEFAULT, .cpus = 1,
					.frags = frags, .size = sizes[i] };
		}
}

/*
 * Tunnels (IPv4, 1 hot flow): what a non-tunnel packet pays for them (the
 * plain frame with --decap off beside the default; the bare hash with the
 * key's first 40 bytes beside the whole key: the tunnel word), and what a
 * tunnel packet costs (each tunnel frame decapsulated, and with --decap
 * off counted on its outer flow).
 */
static void add_tunnels(void)
{
	int tun, nodecap;

	if (n_items < MAX_ITEMS)
		items[n_items++] = (struct item){ .family = 4, .t = T_HASH40, .flows = 1,
						  .layout = NACCT_FLOW_LAYOUT_DEFAULT, .cpus = 1 };
	for (tun = 0; tun < BENCH_TUN_MAX; tun++)
		for (nodecap = 0; nodecap <= 1; nodecap++) {
			if (!tun && !nodecap)
				continue; /* the plain item, there already */
			if (n_items < MAX_ITEMS)
				items[n_items++] = (struct item){
					.family = 4, .t = T_NACCT, .flows = 1,
					.layout = NACCT_FLOW_LAYOUT_DEFAULT, .cpus = 1,
					.nodecap = nodecap, .tun = tun };
		}
}

static void add(int tc, int family, enum target t, __u32 flows, __u32 subnets, __u32 sample_n)
{
	if (wanted(tc, family, t, flows, subnets, sample_n))
		add_item(tc, family, t, flows, subnets, sample_n, NACCT_FLOW_LAYOUT_DEFAULT, 1);
}

/*
 * The flow table layouts side by side (XDP, IPv4): the bare per-CPU and
 * shared hash updates and nacct with either layout, on one CPU (1 flow
 * and @many) and on two CPUs hitting one flow; TC egress, one flow, with
 * the shared layout.
 */
static void add_layouts(__u32 many)
{
	int cpus;

	for (cpus = 1; cpus <= 2; cpus++) {
		add_item(0, 4, T_HASH, 1, 0, 0, NACCT_FLOW_PERCPU, cpus);
		add_item(0, 4, T_HASH_SHARED, 1, 0, 0, NACCT_FLOW_PERCPU, cpus);
		add_item(0, 4, T_NACCT, 1, 0, 0, NACCT_FLOW_PERCPU, cpus);
		add_item(0, 4, T_NACCT, 1, 0, 0, NACCT_FLOW_SHARED, cpus);
	}
	add_item(0, 4, T_HASH, many, 0, 0, NACCT_FLOW_PERCPU, 1);
	add_item(0, 4, T_HASH_SHARED, many, 0, 0, NACCT_FLOW_PERCPU, 1);
	add_item(0, 4, T_NACCT, many, 0, 0, NACCT_FLOW_PERCPU, 1);
	add_item(0, 4, T_NACCT, many, 0, 0, NACCT_FLOW_SHARED, 1);
	add_item(1, 4, T_NACCT, 1, 0, 0, NACCT_FLOW_PERCPU, 1);
	add_item(1, 4, T_NACCT, 1, 0, 0, NACCT_FLOW_SHARED, 1);
}

static void usage(void)
{
	fprintf(stderr, "usage: bench_micro [--quick] [--repeat N] [--runs N] [--flows F] "
			"[--tsv FILE] [--stages FILE]\n"
			"                   [--only stages|targets|layout|frags|tunnels[,...]] [--hot]\n"
			"       bench_micro --verifier\n"
			"       bench_micro --memory [--flows F]\n");
	exit(2);
}

/* ---- memory per flow ------------------------------------------------------ */

/* the kernel's own figure of a map's memory (fdinfo "memlock"), or -1 */
static long long map_memlock(int fd)
{
	char path[64], line[256];
	long long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "memlock: %lld", &v) == 1)
			break;
	fclose(f);
	return v;
}

/*
 * Bytes per flow of each flow table layout: a flow map as nacct attach
 * makes it (key and value of this build, opt.flows entries, preallocated)
 * is created and its memlock read; per flow = memlock / max_entries.  For
 * other CPU counts: the per-CPU layout's values are round_up(value, 8)
 * per possible CPU and flow, the rest of its element (key, header, bucket)
 * is what the measured figure leaves; the shared layout's element does not
 * depend on the CPU count.
 */
static int memory_figures(void)
{
	static const int cpus[] = { 2, 64, 256 };
	static const __u32 layouts[] = { NACCT_FLOW_PERCPU, NACCT_FLOW_SHARED };
	int ncpu = libbpf_num_possible_cpus(), i, j;
	double vsz = (sizeof(struct nacct_flow_val) + 7) / 8 * 8;

	printf("\n### Flow table memory per flow (%u entries, %d possible CPUs here)\n\n",
	       opt.flows, ncpu);
	printf("| layout | map type | bytes/flow here | 2 CPUs | 64 CPUs | 256 CPUs |\n");
	printf("|---|---|---|---|---|---|\n");
	for (i = 0; i < 2; i++) {
		int shared = layouts[i] == NACCT_FLOW_SHARED;
		__u32 type = nacct_flow_map_type(layouts[i]);
		int fd = bpf_map_create(type, "bench_memflows", sizeof(struct nacct_flow_key),
					sizeof(struct nacct_flow_val), opt.flows, NULL);
		long long mem = fd >= 0 ? map_memlock(fd) : -1;
		double per, rest;

		if (fd >= 0)
			close(fd);
		if (mem < 0) {
			fprintf(stderr, "bench_micro: flow map memory: %s\n", strerror(errno));
			return -1;
		}
		per = (double)mem / opt.flows;
		rest = shared ? per : per - vsz * ncpu;
		printf("| %s | %s | %.1f", shared ? "shared" : "percpu",
		       shared ? "HASH" : "PERCPU_HASH", per);
		for (j = 0; j < 3; j++)
			printf(" | %.0f", shared ? per : rest + vsz * cpus[j]);
		printf(" |\n");
	}
	return 0;
}

/* ---- the verifier's statistics -------------------------------------------- */

#define VLOG_SIZE (1 << 20)

struct vstat {
	const char *name;
	struct bpf_program *prog;
	char *log;
};

/*
 * "processed N insns (limit ...) ... total_states N peak_states N ...";
 * returns N (-1: no statistics line)
 */
static long vstat_print(const struct vstat *v)
{
	const char *p = v->log ? strstr(v->log, "processed ") : NULL;
	long insns = -1, total = -1, peak = -1;
	const char *t;

	if (p)
		insns = strtol(p + 10, NULL, 10);
	if (p && (t = strstr(p, "total_states ")))
		total = strtol(t + 13, NULL, 10);
	if (p && (t = strstr(p, "peak_states ")))
		peak = strtol(t + 12, NULL, 10);
	printf("%-18s processed %8ld insns   total_states %6ld   peak_states %6ld\n", v->name,
	       insns, total, peak);
	return insns;
}

/* the most processed instructions with decapsulation on (the default):
 * [0] the XDP program, [1] the TC programs */
static long vstat_most[2];

/* one load of both objects with flow table @layout and @subnets switch */
static int verifier_load(__u32 layout, __u32 subnets, __u32 decap)
{
	LIBBPF_OPTS(bpf_object_open_opts, oo);
	struct nacct_xdp *x = NULL;
	struct nacct_tc *t = NULL;
	struct vstat v[3];
	int err = -ENOMEM, i;

	memset(v, 0, sizeof(v));
	rm_pins();
	if (mkdir(opt.pin, 0700) && errno != EEXIST)
		return -errno;
	oo.pin_root_path = opt.pin;
	x = nacct_xdp__open_opts(&oo);
	t = nacct_tc__open_opts(&oo);
	if (!x || !t)
		goto out;
	/* as attach sets them up; @subnets on: one prefix */
	NACCT_DATAPATH_SETUP(x, 0, subnets ? 1 : 0, layout);
	NACCT_DATAPATH_SETUP(t, 0, subnets ? 1 : 0, layout);
	x->rodata->nacct_decap_on = decap;
	t->rodata->nacct_decap_on = decap;
	printf("flow layout %s, subnet lookup %s, decap %s:\n",
	       layout == NACCT_FLOW_SHARED ? "shared" : "percpu", subnets ? "on" : "off",
	       decap ? "on" : "off");
	v[0] = (struct vstat){ "nacct_xdp", x->progs.nacct_xdp, NULL };
	v[1] = (struct vstat){ "nacct_tc_egress", t->progs.nacct_tc_egress, NULL };
	v[2] = (struct vstat){ "nacct_tc_ingress", t->progs.nacct_tc_ingress, NULL };
	for (i = 0; i < 3; i++) {
		v[i].log = calloc(1, VLOG_SIZE);
		if (!v[i].log)
			goto out;
		/* BPF_LOG_STATS: the summary lines only */
		bpf_program__set_log_level(v[i].prog, 4);
		bpf_program__set_log_buf(v[i].prog, v[i].log, VLOG_SIZE);
	}
	err = nacct_xdp__load(x);
	if (!err)
		err = nacct_tc__load(t);
	for (i = 0; i < 3; i++) {
		long n = vstat_print(&v[i]);

		if (decap && n > vstat_most[i > 0])
			vstat_most[i > 0] = n;
	}
	if (err)
		fprintf(stderr, "bench_micro: load: %s\n", strerror(-err));
out:
	nacct_xdp__destroy(x);
	nacct_tc__destroy(t);
	for (i = 0; i < 3; i++)
		free(v[i].log);
	rm_pins();
	return err;
}

/* the layouts, with subnets (the most paths) and without (what most attach) */
static int verifier_stats(void)
{
	int err = 0, l, sn;

	for (l = 0; l < 2; l++)
		for (sn = 1; sn >= 0; sn--)
			err |= verifier_load(l ? NACCT_FLOW_SHARED : NACCT_FLOW_PERCPU, sn, 1);
	/* what tunnel decapsulation costs the verifier (--decap off) */
	err |= verifier_load(NACCT_FLOW_PERCPU, 0, 0);
	/* the line bench/summary.sh and tests/vm/suite.sh read */
	printf("most with decap on: nacct_xdp %ld nacct_tc %ld\n", vstat_most[0], vstat_most[1]);
	return err;
}

static int quiet_print(enum libbpf_print_level l, const char *fmt, va_list ap)
{
	return l == LIBBPF_WARN ? vfprintf(stderr, fmt, ap) : 0;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "quick", no_argument, NULL, 'q' },  { "repeat", required_argument, NULL, 'r' },
		{ "runs", required_argument, NULL, 'n' }, { "flows", required_argument, NULL, 'f' },
		{ "tsv", required_argument, NULL, 't' }, { "stages", required_argument, NULL, 's' },
		{ "verifier", no_argument, NULL, 'V' }, { "only", required_argument, NULL, 'o' },
		{ "hot", no_argument, NULL, 'H' }, { "memory", no_argument, NULL, 'M' },
		{ NULL, 0, NULL, 0 },
	};
	static const __u32 subnet_set[] = { 0, 10, 10000, 100000 };
	__u32 fl[2];
	cpu_set_t cs;
	int c, fam, i, j, t, r, flows_given = 0, verifier = 0, memory = 0;

	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'q': opt.quick = 1; break;
		case 'V': verifier = 1; break;
		case 'H': opt.hot = 1; break;
		case 'M': memory = 1; break;
		case 'o':
			if (strstr(optarg, "stages"))
				opt.only |= ONLY_STAGES;
			if (strstr(optarg, "targets"))
				opt.only |= ONLY_TARGETS;
			if (strstr(optarg, "layout"))
				opt.only |= ONLY_LAYOUT;
			if (strstr(optarg, "frags"))
				opt.only |= ONLY_FRAGS;
			if (strstr(optarg, "tunnels"))
				opt.only |= ONLY_TUNNELS;
			if (!opt.only)
				usage();
			break;
		case 'r': opt.repeat = strtoul(optarg, NULL, 0); break;
		case 'n': opt.runs = atoi(optarg); break;
		case 'f':
			opt.flows = strtoul(optarg, NULL, 0);
			flows_given = 1;
			break;
		case 't':
			opt.tsv = fopen(optarg, "w");
			if (!opt.tsv) {
				fprintf(stderr, "bench_micro: %s: %s\n", optarg, strerror(errno));
				return 1;
			}
			break;
		case 's':
			opt.stages = fopen(optarg, "w");
			if (!opt.stages) {
				fprintf(stderr, "bench_micro: %s: %s\n", optarg, strerror(errno));
				return 1;
			}
			break;
		default: usage();
		}
	}
	/* quick: 100k flows (the full run's 1M flows take 5 s per update phase) */
	if (opt.quick && !flows_given)
		opt.flows = 100000;
	if (opt.runs < 1 || opt.runs > MAX_RUNS || opt.repeat < 1 || opt.flows < 2)
		usage();
	libbpf_set_print(quiet_print);
	snprintf(opt.pin, sizeof(opt.pin), "/sys/fs/bpf/nacct-bench-%d", getpid());
	if (verifier)
		return verifier_stats() ? 1 : 0;
	if (memory)
		return memory_figures() ? 1 : 0;

	/* one CPU: per-CPU counters and per-CPU flow slots stay on it */
	CPU_ZERO(&cs);
	CPU_SET(sysconf(_SC_NPROCESSORS_ONLN) > 1 ? 1 : 0, &cs);
	sched_setaffinity(0, sizeof(cs), &cs);

	fl[0] = 1;
	fl[1] = opt.flows;
	fprintf(stderr, "bench_micro: repeat %u, %d runs, %u flows\n", opt.repeat, opt.runs,
		opt.flows);
	for (fam = 4; fam <= 6; fam += 2) {
		for (i = 0; i < 2; i++) {
			if (opt.quick && fam == 6) {
				/* quick: only what the IPv6 targets need */
				add(0, fam, T_HASH, fl[i], 0, 0);
				add(0, fam, T_NACCT, fl[i], 0, 0);
				continue;
			}
			for (t = T_PASS; t < T_HASH_SHARED; t++)
				add(0, fam, t, fl[i], 0, 0);
			/* nacct stage by stage (IPv4): where its time goes */
			for (t = T_ST_FLOOR; fam == 4 && t < T_MAX; t++)
				add(0, fam, t, fl[i], 0, 0);
			for (j = 0; j < 4; j++) {
				if (opt.quick && (j == 1 || j == 3))
					continue;
				add(0, fam, T_NACCT, fl[i], subnet_set[j], 0);
			}
			add(0, fam, T_NACCT, fl[i], 0, 1000);
		}
	}
	/* TC egress: IPv4 baselines and nacct, 1 flow and many */
	for (i = 0; i < 2; i++) {
		add(1, 4, T_PASS, fl[i], 0, 0);
		add(1, 4, T_HASH, fl[i], 0, 0);
		add(1, 4, T_NACCT, fl[i], 0, 0);
	}
	/* the flow table layouts (also in every full or quick run) */
	if (!opt.only || (opt.only & ONLY_LAYOUT))
		add_layouts(opt.flows);
	/* the multi-buffer program */
	if (!opt.only || (opt.only & ONLY_FRAGS)) {
		add(0, 4, T_NACCT, 1, 0, 0);
		add_frags();
	}
	/* tunnels */
	if (!opt.only || (opt.only & ONLY_TUNNELS)) {
		add(0, 4, T_NACCT, 1, 0, 0);
		add(0, 4, T_HASH, 1, 0, 0);
		add_tunnels();
	}
	/* runs outermost: a drift of the machine's load hits every item alike */
	for (r = 0; r < opt.runs; r++) {
		fprintf(stderr, "bench_micro: run %d of %d (%d items)\n", r + 1, opt.runs, n_items);
		for (i = 0; i < n_items; i++)
			measure_once(&items[i]);
	}
	for (i = 0; i < n_items; i++)
		report(&items[i]);
	print_stages(opt.flows);
	rm_pins();
	if (opt.tsv)
		fclose(opt.tsv);
	if (opt.stages)
		fclose(opt.stages);
	return 0;
}

#endif /* BENCH_MICRO_C */
