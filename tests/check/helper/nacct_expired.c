// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * nacct_expired IFACE [--snapshot]: the exporter's expired counts of an
 * attachment, through the library functions status and serve use
 * (lib/exporter.h), as one JSON line for the integration tests.
 *   default     nacct_expired_read(): {"present","gen","packets":[rx,tx],
 *               "bytes":[rx,tx],"flows"}
 *   --snapshot  nacct_snapshot() with the flow dump: the totals, the flow map's sums,
 *               the expired counts and the other buckets of one consistent
 *               reading (per direction), "consistent": 0 or 1
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "../../../lib/exporter.h"
#include "../../../lib/snapshot.h"

static void pair(const char *name, const __u64 v[2])
{
	printf(",\"%s\":[%llu,%llu]", name, (unsigned long long)v[0], (unsigned long long)v[1]);
}

int main(int argc, char **argv)
{
	struct nacct_iface_maps m;
	struct nacct_snapshot s;
	struct nacct_expired e;
	int err, consistent;

	if (argc < 2) {
		fprintf(stderr, "usage: nacct_expired IFACE [--snapshot]\n");
		return 2;
	}
	err = nacct_iface_open(argv[1], &m);
	if (err) {
		fprintf(stderr, "nacct_expired: %s: %s\n", argv[1], strerror(-err));
		return 1;
	}
	if (argc > 2 && !strcmp(argv[2], "--snapshot")) {
		err = nacct_snapshot(&m, NACCT_SNAP_FLOWS, &s);
		if (err) {
			fprintf(stderr, "nacct_expired: %s\n", strerror(-err));
			return 1;
		}
		consistent = s.consistent;
		memcpy(e.packets, s.t.expired_packets, sizeof(e.packets));
		memcpy(e.bytes, s.t.expired_bytes, sizeof(e.bytes));
		e.flows = s.t.expired_flows;
		printf("{\"consistent\":%d", consistent);
		pair("totals", s.t.st.packets);
		pair("flows", s.t.flow_packets);
		pair("expired", e.packets);
		pair("overflow", s.t.st.overflow_packets);
		pair("malformed", s.t.st.malformed_packets);
		pair("nonip", s.t.st.nonip_packets);
		pair("totals_bytes", s.t.st.bytes);
		pair("flows_bytes", s.t.flow_bytes);
		pair("expired_bytes", e.bytes);
		pair("overflow_bytes", s.t.st.overflow_bytes);
		pair("malformed_bytes", s.t.st.malformed_bytes);
		pair("nonip_bytes", s.t.st.nonip_bytes);
		printf(",\"n_flows\":%zu,\"expired_flows\":%llu}\n", s.n_fl,
		       (unsigned long long)e.flows);
		nacct_snapshot_free(&s);
	} else {
		err = nacct_expired_read(m.dir, &e);
		if (err) {
			fprintf(stderr, "nacct_expired: %s\n", strerror(-err));
			return 1;
		}
		printf("{\"present\":%d,\"gen\":%llu", e.present, (unsigned long long)e.gen);
		pair("packets", e.packets);
		pair("bytes", e.bytes);
		printf(",\"flows\":%llu}\n", (unsigned long long)e.flows);
	}
	nacct_iface_close(&m);
	return 0;
}
