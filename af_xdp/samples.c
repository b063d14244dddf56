// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Reader of the nacct_samples ring buffer: struct nacct_sample_hdr, then
 * caplen bytes of the frame.  The data path stamps CLOCK_MONOTONIC
 * (bpf_ktime_get_ns); the offset to the wall clock is taken once per
 * batch, so a clock step moves later records, never earlier ones.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "frames.h"
#include "../maps/maps.h"

static int on_record(void *ctx, void *data, size_t size)
{
	struct nacct_sample_reader *r = ctx;
	const struct nacct_sample_hdr *h = data;

	if (size < sizeof(*h) || size < sizeof(*h) + h->caplen) {
		r->short_records++;
		return 0;
	}
	if (h->ts < r->min_ts) {
		r->stale++;
		return 0;
	}
	return r->fn(r->ctx, h->ts + r->mono_to_wall, h->dir, h->len, h->caplen, h + 1);
}

int nacct_samples_open(struct nacct_sample_reader *r, const char *pin_dir, nacct_frame_fn fn,
		       void *ctx)
{
	int err;

	memset(r, 0, sizeof(*r));
	r->fn = fn;
	r->ctx = ctx;
	r->map_fd = nacct_map_open(pin_dir, "nacct_samples", BPF_MAP_TYPE_RINGBUF, 0, 0);
	if (r->map_fd < 0)
		return r->map_fd;
	r->rb = ring_buffer__new(r->map_fd, on_record, r, NULL);
	if (!r->rb) {
		err = -errno;
		close(r->map_fd);
		r->map_fd = -1;
		return err;
	}
	return 0;
}

void nacct_samples_skip_older(struct nacct_sample_reader *r)
{
	struct timespec mono;

	clock_gettime(CLOCK_MONOTONIC, &mono);
	r->min_ts = (__u64)mono.tv_sec * 1000000000ULL + mono.tv_nsec;
	/* drop what is there now rather than filter it later */
	ring_buffer__consume(r->rb);
}

int nacct_samples_fd(const struct nacct_sample_reader *r)
{
	return ring_buffer__epoll_fd(r->rb);
}

int nacct_samples_consume(struct nacct_sample_reader *r)
{
	struct timespec mono, real;

	clock_gettime(CLOCK_MONOTONIC, &mono);
	clock_gettime(CLOCK_REALTIME, &real);
	r->mono_to_wall = ((__s64)real.tv_sec - mono.tv_sec) * 1000000000LL +
			  (real.tv_nsec - mono.tv_nsec);
	return ring_buffer__consume(r->rb);
}

void nacct_samples_close(struct nacct_sample_reader *r)
{
	ring_buffer__free(r->rb);
	r->rb = NULL;
	if (r->map_fd >= 0)
		close(r->map_fd);
	r->map_fd = -1;
}
