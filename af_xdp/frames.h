/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The two ways sampled frames reach user space, behind one callback:
 *   - the pinned nacct_samples ring buffer (inline mode: copies made by
 *     the XDP and TC programs; the packets themselves go on untouched),
 *   - AF_XDP sockets, one per RX queue, fed by the XSKMAP nacct_xsks
 *     (tap mode: the XDP program redirects sampled frames there).
 */
#ifndef NACCT_FRAMES_H
#define NACCT_FRAMES_H

#include <linux/types.h>

/* one frame for the consumer; return < 0 to stop delivery */
typedef int (*nacct_frame_fn)(void *ctx, __u64 wall_ns, __u32 dir, __u32 len, __u32 caplen,
			      const void *data);

/* ---- ring buffer reader (af_xdp/samples.c) ---------------------------- */

struct ring_buffer;

struct nacct_sample_reader {
	struct ring_buffer *rb;
	int map_fd;
	nacct_frame_fn fn;
	void *ctx;
	__s64 mono_to_wall; /* CLOCK_REALTIME - CLOCK_MONOTONIC, ns */
	__u64 short_records; /* records shorter than their header says */
	__u64 min_ts;        /* records stamped earlier are stale: skipped */
	__u64 stale;         /* records skipped for that */
};

/* open the nacct_samples ring buffer pinned in @pin_dir */
int nacct_samples_open(struct nacct_sample_reader *r, const char *pin_dir, nacct_frame_fn fn,
		       void *ctx);
/*
 * Records already in the ring (left by an earlier reader, or made under an
 * earlier nacct_cfg) are skipped: only those the data path stamped from
 * now on are delivered.  Call right before changing nacct_cfg.
 */
void nacct_samples_skip_older(struct nacct_sample_reader *r);
/* an fd that polls readable when records are waiting */
int nacct_samples_fd(const struct nacct_sample_reader *r);
/* deliver every waiting record; records delivered, or < 0 when fn stopped */
int nacct_samples_consume(struct nacct_sample_reader *r);
void nacct_samples_close(struct nacct_sample_reader *r);

/* ---- AF_XDP sockets (af_xdp/tap.c) ------------------------------------ */

#define NACCT_XSK_FRAMES_DEFAULT 8192 /* UMEM frames per queue (4 KiB each: 32 MiB) */
#define NACCT_XSK_RING_DEFAULT 4096   /* RX ring descriptors per queue */
/* the largest frame a multi-buffer socket hands on whole (bigger: cut) */
#define NACCT_TAP_FRAME_MAX 65536

struct xsk_umem;
struct xsk_socket;

struct nacct_xsk_queue {
	__u32 queue_id;
	int zerocopy;        /* bound with XDP_ZEROCOPY, else XDP_COPY */
	char why[96];        /* why zero-copy was not used */
	int sg;              /* bound with XDP_USE_SG: multi-buffer frames arrive whole */
	char sg_why[160];    /* why not */
	void *area;          /* UMEM */
	size_t area_len;
	struct xsk_umem *umem;
	struct xsk_socket *xsk;
	void *rings;         /* struct nacct_xsk_rings, private to tap.c */
	__u64 frames;        /* frames received (a multi-buffer one counts once) */
};

struct nacct_tap {
	unsigned int n;
	struct nacct_xsk_queue *q;
	__u32 frames, ring;
	nacct_frame_fn fn;
	void *ctx;
	int stopped;
};

/* RX queues of an interface (ethtool channels, else sysfs, else 1) */
int nacct_rx_queues(const char *ifname);

/*
 * One AF_XDP socket per RX queue of @ifname, each with its own UMEM of
 * @frames frames and an RX ring of @ring descriptors (powers of two),
 * inserted into the XSKMAP @xsks_fd at its queue id.  Zero-copy is tried
 * first on every queue (@copy_only: not at all).  Returns 0 or a negative
 * errno.
 */
int nacct_tap_open(struct nacct_tap *t, const char *ifname, int xsks_fd, __u32 frames,
		   __u32 ring, int copy_only, nacct_frame_fn fn, void *ctx);
int nacct_tap_fd(const struct nacct_tap *t, unsigned int qi);
/* deliver what queue @qi holds; frames delivered, or < 0 when fn stopped */
int nacct_tap_rx(struct nacct_tap *t, unsigned int qi);
/* frames the sockets lost (RX ring full, no fill buffer), summed */
__u64 nacct_tap_dropped(const struct nacct_tap *t);
void nacct_tap_close(struct nacct_tap *t);

#endif /* NACCT_FRAMES_H */
