// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * bench_gen: a line-rate packet generator built on XDP live-frame test
 * runs.  Threads pinned to every CPU (default 2 per CPU; 16 with a rate
 * limit, see claim()) call BPF_PROG_TEST_RUN with
 * BPF_F_TEST_XDP_LIVE_FRAMES on bench/gen.bpf.c, whose XDP_TX sends each
 * frame out of IFACE (on a veth: into the peer's receive queue, no skb, no
 * socket).  The program varies the ports per frame to make FLOWS distinct
 * flows and counts every frame it sends: the count printed is exact, so
 * the generator is also a witness for exact-count checks.
 *
 * Usage: bench_gen -i IFACE --dst-mac MAC [-6] [--tcp] [-f FLOWS] [-s SIZE]
 *                  [-d SECONDS | -n COUNT] [-r PPS] [-t THREADS]
 *                  [--src ADDR] [--dst ADDR] [--batch N]
 * --batch: frames per live-frame batch inside the kernel (0: its default, 64)
 * Run it inside the sender's netns (nsenter --net=...).  Last line:
 *   gen_sent=N gen_secs=S gen_mpps=R
 * Only addresses of 198.18.0.0/15 and fd00::/8 make sense here.
 */
#ifndef BENCH_GEN_C
#define BENCH_GEN_C

#include <errno.h>
#include <getopt.h>
#include <net/if.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <linux/if_ether.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bench/gen.skel.h"

#define MAX_THREADS 64
#define MAX_FRAME 1500

static struct {
	const char *ifname;
	__u8 dst_mac[6], src_mac[6];
	int v6, tcp, threads;
	__u32 flows, size, batch;
	double secs, pps;
	__u64 count;
	const char *src, *dst;
} opt = { .flows = 1, .size = 64, .secs = 5 };

static __u8 frame[MAX_FRAME];
static size_t frame_len;
static int prog_fd, ifindex;
static volatile sig_atomic_t stop;

struct thr {
	pthread_t tid;
	int cpu;
	int err;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static __u16 csum_fold(__u32 s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return ~s;
}

static __u32 csum_add(__u32 s, const void *p, size_t len)
{
	const __u8 *b = p;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		s += (b[i] << 8) | b[i + 1];
	if (len & 1)
		s += b[len - 1] << 8;
	return s;
}

/* Ethernet + IPv4/IPv6 + UDP/TCP template with valid checksums */
static int build_frame(void)
{
	size_t l3 = opt.v6 ? 40 : 20, l4 = opt.tcp ? 20 : 8, min = 14 + l3 + 20;
	__u8 *ip = frame + 14, *th = ip + l3, sa[16], da[16];
	__u32 s;
	__u16 c, plen;
	int af = opt.v6 ? AF_INET6 : AF_INET;
	const char *src = opt.src ? opt.src : (opt.v6 ? "fd00:18::1" : "198.18.0.1");
	const char *dst = opt.dst ? opt.dst : (opt.v6 ? "fd00:18::2" : "198.18.0.2");

	if (opt.size < min)
		opt.size = min;
	if (opt.size > MAX_FRAME)
		return -EINVAL;
	if (inet_pton(af, src, sa) != 1 || inet_pton(af, dst, da) != 1)
		return -EINVAL;
	frame_len = opt.size;
	memset(frame, 0, sizeof(frame));
	memcpy(frame, opt.dst_mac, 6);
	memcpy(frame + 6, opt.src_mac, 6);
	plen = frame_len - 14 - l3; /* L4 header + payload */
	if (!opt.v6) {
		frame[12] = 0x08;
		ip[0] = 0x45;
		ip[2] = (plen + 20) >> 8;
		ip[3] = (plen + 20) & 0xff;
		ip[6] = 0x40; /* DF */
		ip[8] = 64;
		ip[9] = opt.tcp ? IPPROTO_TCP : IPPROTO_UDP;
		memcpy(ip + 12, sa, 4);
		memcpy(ip + 16, da, 4);
		c = csum_fold(csum_add(0, ip, 20));
		ip[10] = c >> 8;
		ip[11] = c & 0xff;
	} else {
		frame[12] = 0x86;
		frame[13] = 0xdd;
		ip[0] = 0x60;
		ip[4] = plen >> 8;
		ip[5] = plen & 0xff;
		ip[6] = opt.tcp ? IPPROTO_TCP : IPPROTO_UDP;
		ip[7] = 64;
		memcpy(ip + 8, sa, 16);
		memcpy(ip + 24, da, 16);
	}
	/* ports 1024/1024: the program rewrites them per flow */
	th[0] = 0x04;
	th[2] = 0x04;
	if (opt.tcp) {
		th[4] = 0x01;         /* seq */
		th[12] = 5 << 4;      /* doff */
		th[13] = 0x10;        /* ACK */
		th[14] = 0xff;        /* window */
	} else {
		th[4] = plen >> 8;
		th[5] = plen & 0xff;
	}
	/* pseudo header + L4 */
	s = csum_add(0, opt.v6 ? ip + 8 : ip + 12, opt.v6 ? 32 : 8);
	s += (opt.tcp ? IPPROTO_TCP : IPPROTO_UDP) + plen;
	s = csum_add(s, th, plen);
	c = csum_fold(s);
	if (!opt.tcp && !c)
		c = 0xffff;
	th[opt.tcp ? 16 : 6] = c >> 8;
	th[opt.tcp ? 17 : 7] = c & 0xff;
	(void)l4;
	return 0;
}

static int run_chunk(__u32 n)
{
	struct xdp_md ctx = { .data_end = frame_len, .ingress_ifindex = ifindex };
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame, .data_size_in = frame_len,
		    .ctx_in = &ctx, .ctx_size_in = sizeof(ctx), .repeat = n,
		    .flags = BPF_F_TEST_XDP_LIVE_FRAMES, .batch_size = opt.batch);

	if (bpf_prog_test_run_opts(prog_fd, &o))
		return -errno;
	return 0;
}

/*
 * Frames are handed out in chunks from one shared counter: a chunk's
 * first frame number is also its start time at the rate limit (frame /
 * pps after the start).  Each test_run call also waits tens of ms in the
 * kernel after its frames went out (the live-frame page pool's teardown
 * waits for a grace period), so several threads per CPU keep the wire
 * busy while others wait.
 */
static __u64 claimed;
static double t_start;

static __u32 claim(__u32 want, __u64 *first)
{
	__u64 slot = __atomic_fetch_add(&claimed, want, __ATOMIC_RELAXED);

	if (opt.count) {
		if (slot >= opt.count)
			return 0;
		if (opt.count - slot < want)
			want = opt.count - slot;
	}
	*first = slot;
	return want;
}

static void *thread_main(void *arg)
{
	struct thr *t = arg;
	__u32 chunk = 1 << 16;
	cpu_set_t cs;

	CPU_ZERO(&cs);
	CPU_SET(t->cpu, &cs);
	pthread_setaffinity_np(pthread_self(), sizeof(cs), &cs);
	if (opt.pps > 0) {
		/* bursts of 5 ms at the target rate */
		chunk = opt.pps / 200;
		if (chunk < 64)
			chunk = 64;
	}
	while (!stop) {
		__u64 first;
		__u32 n = claim(chunk, &first);

		if (!n)
			break;
		if (opt.pps > 0) {
			double d = t_start + first / opt.pps - now_s();
			struct timespec ts;

			if (d > 0) {
				ts.tv_sec = (time_t)d;
				ts.tv_nsec = (long)((d - ts.tv_sec) * 1e9);
				nanosleep(&ts, NULL);
			}
		}
		if (!opt.count && now_s() - t_start >= opt.secs)
			break;
		t->err = run_chunk(n);
		if (t->err)
			break;
	}
	return NULL;
}

static int parse_mac(const char *s, __u8 *m)
{
	return sscanf(s, "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &m[0], &m[1], &m[2], &m[3], &m[4],
		      &m[5]) == 6 ? 0 : -1;
}

static int if_mac(const char *ifname, __u8 *m)
{
	struct ifreq ifr;
	int fd = socket(AF_INET, SOCK_DGRAM, 0), err = 0;

	if (fd < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (ioctl(fd, SIOCGIFHWADDR, &ifr))
		err = -errno;
	else
		memcpy(m, ifr.ifr_hwaddr.sa_data, 6);
	close(fd);
	return err;
}

static void usage(void)
{
	fprintf(stderr, "usage: bench_gen -i IFACE --dst-mac MAC [-6] [--tcp] [-f FLOWS] [-s SIZE]\n"
			"                 [-d SECONDS | -n COUNT] [-r PPS] [-t THREADS] "
			"[--src ADDR] [--dst ADDR] [--batch N]\n");
	exit(2);
}

static void on_sig(int s)
{
	stop = 1;
}

static int quiet_print(enum libbpf_print_level l, const char *fmt, va_list ap)
{
	return l == LIBBPF_WARN ? vfprintf(stderr, fmt, ap) : 0;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "iface", required_argument, NULL, 'i' }, { "dst-mac", required_argument, NULL, 'm' },
		{ "ipv6", no_argument, NULL, '6' },        { "tcp", no_argument, NULL, 'T' },
		{ "flows", required_argument, NULL, 'f' }, { "size", required_argument, NULL, 's' },
		{ "duration", required_argument, NULL, 'd' },
		{ "count", required_argument, NULL, 'n' }, { "rate", required_argument, NULL, 'r' },
		{ "threads", required_argument, NULL, 't' }, { "src", required_argument, NULL, 'S' },
		{ "dst", required_argument, NULL, 'D' },   { "batch", required_argument, NULL, 'b' },
		{ NULL, 0, NULL, 0 },
	};
	struct thr thr[MAX_THREADS];
	struct bench_gen *skel = NULL;
	int c, i, ncpu, have_mac = 0, err, ret = 1;
	__u64 sent = 0, *vals = NULL;
	__u32 zero = 0;
	double t0, el;

	while ((c = getopt_long(argc, argv, "i:m:6Tf:s:d:n:r:t:", lo, NULL)) != -1) {
		switch (c) {
		case 'i': opt.ifname = optarg; break;
		case 'm':
			if (parse_mac(optarg, opt.dst_mac))
				usage();
			have_mac = 1;
			break;
		case '6': opt.v6 = 1; break;
		case 'T': opt.tcp = 1; break;
		case 'f': opt.flows = strtoul(optarg, NULL, 0); break;
		case 's': opt.size = strtoul(optarg, NULL, 0); break;
		case 'd': opt.secs = atof(optarg); break;
		case 'n': opt.count = strtoull(optarg, NULL, 0); break;
		case 'r': opt.pps = atof(optarg); break;
		case 't': opt.threads = atoi(optarg); break;
		case 'S': opt.src = optarg; break;
		case 'D': opt.dst = optarg; break;
		case 'b': opt.batch = strtoul(optarg, NULL, 0); break;
		default: usage();
		}
	}
	ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	if (!opt.threads)
		opt.threads = opt.pps > 0 ? 16 : 2 * ncpu;
	if (!opt.ifname || !have_mac || opt.flows < 1 || opt.threads < 1 ||
	    opt.threads > MAX_THREADS || opt.secs <= 0 || opt.pps < 0)
		usage();
	ifindex = if_nametoindex(opt.ifname);
	if (!ifindex) {
		fprintf(stderr, "bench_gen: %s: no such interface\n", opt.ifname);
		return 2;
	}
	if (if_mac(opt.ifname, opt.src_mac) || build_frame()) {
		fprintf(stderr, "bench_gen: bad interface, address or size\n");
		return 2;
	}
	libbpf_set_print(quiet_print);
	skel = bench_gen__open();
	if (!skel)
		goto out;
	skel->rodata->nflows = opt.flows;
	skel->rodata->l4_off = 14 + (opt.v6 ? 40 : 20);
	skel->rodata->proto = opt.tcp ? IPPROTO_TCP : IPPROTO_UDP;
	if (bench_gen__load(skel)) {
		fprintf(stderr, "bench_gen: cannot load bench/gen.bpf.c\n");
		goto out;
	}
	prog_fd = bpf_program__fd(skel->progs.bench_gen_xdp);
	signal(SIGINT, on_sig);
	signal(SIGTERM, on_sig);

	memset(thr, 0, sizeof(thr));
	for (i = 0; i < opt.threads; i++)
		thr[i].cpu = i % ncpu;
	t0 = t_start = now_s();
	for (i = 0; i < opt.threads; i++)
		pthread_create(&thr[i].tid, NULL, thread_main, &thr[i]);
	err = 0;
	for (i = 0; i < opt.threads; i++) {
		pthread_join(thr[i].tid, NULL);
		if (thr[i].err && !err)
			err = thr[i].err;
	}
	el = now_s() - t0;
	if (err)
		fprintf(stderr, "bench_gen: test_run: %s\n", strerror(-err));

	/* the exact count: frames the program handed to XDP_TX, all CPUs */
	vals = calloc(libbpf_num_possible_cpus(), sizeof(*vals));
	if (!vals || bpf_map_lookup_elem(bpf_map__fd(skel->maps.gen_sent), &zero, vals))
		goto out;
	for (i = 0; i < libbpf_num_possible_cpus(); i++)
		sent += vals[i];
	printf("%s: sent %llu frames of %zu bytes (%s %s, %u flows) in %.3f s: %.3f Mpps\n",
	       opt.ifname, (unsigned long long)sent, frame_len, opt.v6 ? "IPv6" : "IPv4",
	       opt.tcp ? "TCP" : "UDP", opt.flows, el, sent / el / 1e6);
	printf("gen_sent=%llu gen_secs=%.6f gen_mpps=%.4f\n", (unsigned long long)sent, el,
	       sent / el / 1e6);
	ret = err ? 1 : 0;
out:
	free(vals);
	bench_gen__destroy(skel);
	return ret;
}

#endif /* BENCH_GEN_C */
