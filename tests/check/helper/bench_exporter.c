// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * bench_exporter [FLOWS [ACTIVE_S [IDLE_S [SCAN_RATE]]]]: the CPU the
 * exporter core spends on one active-timeout cycle with FLOWS running
 * flows (default 1M, 60 s, 15 s), on the in-memory store
 * (tests/check/memstore.c) with 2 CPUs' values, records encoded by the
 * IPFIX sink and sent over UDP to a socket nobody reads.  Every flow gets
 * a packet every 10 s, so none goes idle and each has a delta every
 * cycle.  Simulated time: one round a second.  The flow map's batch reads
 * (kernel time in production, ~0.5 us a flow) are not in these figures.
 * A benchmark, not a test: it prints figures and never fails on them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include "../memstore.h"
#include "../../../ctl/sink.h"

static double cpu_s(void)
{
	struct rusage r;

	getrusage(RUSAGE_SELF, &r);
	return r.ru_utime.tv_sec + r.ru_utime.tv_usec / 1e6 + r.ru_stime.tv_sec +
	       r.ru_stime.tv_usec / 1e6;
}

int main(int argc, char **argv)
{
	size_t n = argc > 1 ? strtoul(argv[1], NULL, 0) : 1000000, i;
	unsigned long active = argc > 2 ? strtoul(argv[2], NULL, 0) : 60;
	unsigned long idle = argc > 3 ? strtoul(argv[3], NULL, 0) : 15;
	__u32 rate = argc > 4 ? strtoul(argv[4], NULL, 0) : 0;
	struct sockaddr_storage peer;
	struct sockaddr_in *sin = (struct sockaddr_in *)&peer;
	socklen_t plen = sizeof(*sin);
	struct memstore ms;
	struct nacct_xmem mem;
	struct nacct_xcfg c = { .ifname = "bench0", .ifindex = 1, .max_flows = n,
				.idle_ns = idle * 1000000000ULL, .active_ns = active * 1000000000ULL,
				.scan_rate = rate };
	struct nacct_xrecovery rec;
	struct nacct_xreport rep;
	struct nacct_xfigures f0, f1;
	struct nacct_exporter *x;
	struct nacct_sink *sink;
	double t0 = 0, worst = 0;
	unsigned long r;
	int rx;

	/* a UDP socket that never reads: the collector */
	rx = socket(AF_INET, SOCK_DGRAM, 0);
	memset(&peer, 0, sizeof(peer));
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(rx, (struct sockaddr *)sin, plen) || getsockname(rx, (struct sockaddr *)sin, &plen))
		return 1;
	if (ms_init(&ms, 2, n, 4096, NULL))
		return 1;
	for (i = 0; i < n; i++) {
		struct mflow *f = &ms.f[i];

		ms_key4(&f->key, 17, 0xc6120001 + (i >> 16), 1024 + (i & 0xffff), 0xc6130002, 9000);
		f->live = 1;
		f->pc[i & 1].first_seen = 1 + i % 1000;
		f->pc[i & 1].packets[0] = 1;
		f->pc[i & 1].bytes[0] = 100;
		f->pc[i & 1].last_seen = 0;
		ms.st.packets[0]++;
		ms.st.bytes[0] += 100;
	}
	ms.n = ms.live = n;
	memset(&mem, 0, sizeof(mem));
	mem.j = calloc(1, sizeof(*mem.j));
	mem.exp = calloc(1, sizeof(*mem.exp));
	mem.slot_size = nacct_xslot_size(2);
	mem.n_slots = NACCT_XP_SLOTS;
	mem.slots = calloc(NACCT_XP_SLOTS, mem.slot_size);
	mem.n_ent = n + NACCT_XP_SLOTS + 64;
	mem.ent = calloc(mem.n_ent, sizeof(*mem.ent));
	if (nacct_sink_ipfix_new(&sink, "bench", &peer, plen, 0, 1) ||
	    nacct_exporter_new(&x, &c, &ms.base, &mem, sink, &rec) || nacct_exporter_open(x))
		return 1;
	for (r = 1; r <= 3 * active; r++) {
		__u64 now = r * 1000000000ULL;
		double a;

		/* traffic: a tenth of the flows each second */
		ms.now = now - 500000000ULL;
		for (i = r % 10; i < n; i += 10) {
			struct nacct_flow_val *v = &ms.f[i].pc[i & 1];

			v->packets[0]++;
			v->bytes[0] += 100;
			v->last_seen = ms.now;
			ms.st.packets[0]++;
			ms.st.bytes[0] += 100;
		}
		if (r == active + 1) {
			t0 = cpu_s();
			nacct_exporter_figures(x, &f0);
		}
		a = cpu_s();
		nacct_exporter_round(x, now, 0, &rep);
		if (r > active && cpu_s() - a > worst)
			worst = cpu_s() - a;
		if (r == 2 * active) {
			nacct_exporter_figures(x, &f1);
			printf("flows %zu active %lus idle %lus scan_rate %u: one cycle (rounds %lu..%lu): "
			       "%.3f s CPU, %llu records in %llu messages, worst round %.3f s, "
			       "%llu flows expired\n",
			       n, active, idle, rate ? rate : NACCT_X_SCAN_RATE, active + 1, 2 * active,
			       cpu_s() - t0, (unsigned long long)(f1.records - f0.records),
			       (unsigned long long)(f1.messages - f0.messages), worst,
			       (unsigned long long)f1.flows_expired);
			break;
		}
	}
	nacct_exporter_free(x);
	sink->ops->close(sink);
	return 0;
}
