// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Tap mode: one AF_XDP socket per RX queue, on libxdp's xsk API.  nacct's
 * own XDP program does the redirect (XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD);
 * each socket is inserted into the pinned XSKMAP at its queue id.  Every
 * queue has its own UMEM; all of its frames sit in the fill ring, and a
 * frame read from the RX ring goes straight back to the fill ring once
 * the consumer has seen it.  The kernel publishes what it took from the
 * fill ring lazily, so a returned frame may find no free slot at once:
 * it waits in a stash (never in the RX ring, which would then overflow),
 * and the fill ring has twice as many slots as there are frames.
 *
 * Multi-buffer: where the kernel has it (6.6+) each socket is bound with
 * XDP_USE_SG, so a frame larger than one UMEM frame (a jumbo MTU with the
 * multi-buffer XDP program) arrives as a chain of descriptors, all but the
 * last flagged XDP_PKT_CONTD; the chain is joined into one frame of up to
 * NACCT_TAP_FRAME_MAX bytes for the consumer.  A socket without it never
 * sees such frames: the kernel drops them (counted in XDP_STATISTICS).
 */
#include <errno.h>
#include <dirent.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <linux/ethtool.h>
#include <linux/if_xdp.h>
#include <linux/sockios.h>
#include <bpf/bpf.h>
#include <xdp/xsk.h>

#include "frames.h"
#include "../maps/nacct.h"
#include "../lib/log.h"

#ifndef SOL_XDP
#define SOL_XDP 283
#endif

#define NACCT_XSK_FRAME_SIZE XSK_UMEM__DEFAULT_FRAME_SIZE
#define NACCT_XSK_COMP_SIZE 64 /* required by bind, never used: we do not transmit */
#define NACCT_XSK_BATCH 256

#ifndef XDP_USE_SG
#define XDP_USE_SG (1 << 4) /* linux/if_xdp.h of 6.6+ */
#endif
#ifndef XDP_PKT_CONTD
#define XDP_PKT_CONTD (1 << 0)
#endif

struct nacct_xsk_rings {
	struct xsk_ring_prod fill;
	struct xsk_ring_cons comp;
	struct xsk_ring_cons rx;
	__u64 *stash; /* frames read, not yet back in the fill ring */
	__u32 nstash;
	/* multi-buffer: the frame being joined from its descriptors */
	__u8 *join;
	__u32 join_len;   /* bytes in join (at most NACCT_TAP_FRAME_MAX) */
	__u32 join_total; /* the frame's length so far */
};

/* an interface ioctl (@ifr's name set here): 0 or a negative errno */
static int iface_ioctl(const char *ifname, unsigned long req, struct ifreq *ifr)
{
	int fd, err = 0;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	snprintf(ifr->ifr_name, sizeof(ifr->ifr_name), "%s", ifname);
	if (ioctl(fd, req, ifr))
		err = -errno;
	close(fd);
	return err;
}

static int queues_ethtool(const char *ifname)
{
	struct ethtool_channels ch = { .cmd = ETHTOOL_GCHANNELS };
	struct ifreq ifr;
	int n;

	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_data = (void *)&ch;
	n = iface_ioctl(ifname, SIOCETHTOOL, &ifr);
	if (n)
		return n;
	n = ch.rx_count > ch.combined_count ? ch.rx_count : ch.combined_count;
	return n > 0 ? n : -ENODATA;
}

/* the interface's MTU, or a negative errno */
static int iface_mtu(const char *ifname)
{
	struct ifreq ifr;
	int err;

	memset(&ifr, 0, sizeof(ifr));
	err = iface_ioctl(ifname, SIOCGIFMTU, &ifr);
	return err ? err : ifr.ifr_mtu;
}

/* /sys/class/net shows the namespace sysfs was mounted in: only a fallback */
static int queues_sysfs(const char *ifname)
{
	char path[128];
	struct dirent *de;
	DIR *d;
	int n = 0;

	snprintf(path, sizeof(path), "/sys/class/net/%s/queues", ifname);
	d = opendir(path);
	if (!d)
		return -errno;
	while ((de = readdir(d)))
		if (!strncmp(de->d_name, "rx-", 3))
			n++;
	closedir(d);
	return n > 0 ? n : -ENODATA;
}

int nacct_rx_queues(const char *ifname)
{
	int n = queues_ethtool(ifname);

	if (n > 0)
		return n;
	n = queues_sysfs(ifname);
	return n > 0 ? n : 1;
}

static void queue_close(struct nacct_xsk_queue *q)
{
	if (q->xsk)
		xsk_socket__delete(q->xsk);
	q->xsk = NULL;
	if (q->umem)
		xsk_umem__delete(q->umem);
	q->umem = NULL;
	if (q->area)
		munmap(q->area, q->area_len);
	q->area = NULL;
	if (q->rings) {
		free(((struct nacct_xsk_rings *)q->rings)->stash);
		free(((struct nacct_xsk_rings *)q->rings)->join);
	}
	free(q->rings);
	q->rings = NULL;
}

/* one bind attempt: a fresh UMEM each time (a failed bind may take the UMEM's fd with it) */
static int queue_bind(struct nacct_xsk_queue *q, const char *ifname, __u32 frames, __u32 ring,
		      __u16 bind_flags)
{
	struct nacct_xsk_rings *r = q->rings;
	struct xsk_umem_config ucfg = {
		.fill_size = frames * 2,
		.comp_size = NACCT_XSK_COMP_SIZE,
		.frame_size = NACCT_XSK_FRAME_SIZE,
		.frame_headroom = 0,
		.flags = 0,
	};
	struct xsk_socket_config scfg = {
		.rx_size = ring,
		.tx_size = 0,
		.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD,
		.xdp_flags = 0,
		.bind_flags = bind_flags,
	};
	int err;

	memset(&r->fill, 0, sizeof(r->fill));
	memset(&r->comp, 0, sizeof(r->comp));
	memset(&r->rx, 0, sizeof(r->rx));
	err = xsk_umem__create(&q->umem, q->area, q->area_len, &r->fill, &r->comp, &ucfg);
	if (err) {
		q->umem = NULL;
		return err;
	}
	err = xsk_socket__create(&q->xsk, ifname, q->queue_id, q->umem, &r->rx, NULL, &scfg);
	if (err) {
		q->xsk = NULL;
		xsk_umem__delete(q->umem);
		q->umem = NULL;
	}
	return err;
}

static int queue_open(struct nacct_xsk_queue *q, const char *ifname, __u32 frames, __u32 ring,
		      int copy_only)
{
	struct nacct_xsk_rings *r;
	__u32 idx, i;
	int err = 0;

	q->rings = r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->stash = calloc(frames, sizeof(*r->stash));
	if (!r->stash)
		return -ENOMEM;
	q->area_len = (size_t)frames * NACCT_XSK_FRAME_SIZE;
	q->area = mmap(NULL, q->area_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		       -1, 0);
	if (q->area == MAP_FAILED) {
		q->area = NULL;
		return -errno;
	}
	/*
	 * Zero-copy and multi-buffer together first.  Then, where the MTU
	 * needs more than one UMEM frame, multi-buffer before zero-copy (whole
	 * jumbo frames over speed); else zero-copy before multi-buffer.  A
	 * kernel < 6.6 refuses the multi-buffer flag (EINVAL), a driver
	 * without zero-copy (multi-buffer) the zero-copy one.
	 */
	{
		static const __u16 jumbo_order[] = {
			XDP_ZEROCOPY | XDP_USE_NEED_WAKEUP | XDP_USE_SG,
			XDP_COPY | XDP_USE_NEED_WAKEUP | XDP_USE_SG,
			XDP_ZEROCOPY | XDP_USE_NEED_WAKEUP,
			XDP_COPY | XDP_USE_NEED_WAKEUP,
		};
		static const __u16 std_order[] = {
			XDP_ZEROCOPY | XDP_USE_NEED_WAKEUP | XDP_USE_SG,
			XDP_ZEROCOPY | XDP_USE_NEED_WAKEUP,
			XDP_COPY | XDP_USE_NEED_WAKEUP | XDP_USE_SG,
			XDP_COPY | XDP_USE_NEED_WAKEUP,
		};
		int mtu = iface_mtu(ifname);
		/* an Ethernet frame of the MTU with a VLAN tag */
		const __u16 *tries = mtu > 0 && (__u32)mtu + 18 > NACCT_XSK_FRAME_SIZE ?
					     jumbo_order : std_order;
		int sg_err = 0;

		for (i = 0; i < 4; i++) {
			if (copy_only && (tries[i] & XDP_ZEROCOPY)) {
				snprintf(q->why, sizeof(q->why), "copy mode requested (--copy)");
				continue;
			}
			err = queue_bind(q, ifname, frames, ring, tries[i]);
			if (!err)
				break;
			/* the zero-copy try without XDP_USE_SG says why: a
			 * kernel < 6.6 refuses any bind with that flag (EINVAL) */
			if ((tries[i] & XDP_ZEROCOPY) && (!q->why[0] || !(tries[i] & XDP_USE_SG)))
				snprintf(q->why, sizeof(q->why), "zero-copy bind refused: %s",
					 strerror(-err));
			if (tries[i] & XDP_USE_SG)
				sg_err = err;
		}
		if (err)
			return err;
		q->zerocopy = !!(tries[i] & XDP_ZEROCOPY);
		q->sg = !!(tries[i] & XDP_USE_SG);
		if (q->zerocopy)
			q->why[0] = '\0';
		/* zero-copy bound but not with XDP_USE_SG: EOPNOTSUPP is the
		 * driver's (xdp_zc_max_segs 1, e.g. virtio_net), EINVAL the kernel's */
		if (!q->sg)
			snprintf(q->sg_why, sizeof(q->sg_why),
				 "multi-buffer bind refused (%s; %s): frames larger than "
				 "%u bytes are dropped by the kernel, not captured",
				 strerror(-sg_err),
				 q->zerocopy && sg_err == -EOPNOTSUPP
					 ? "the driver's zero-copy takes one buffer a frame"
					 : "kernel < 6.6?",
				 NACCT_XSK_FRAME_SIZE);
		else if (!(r->join = malloc(NACCT_TAP_FRAME_MAX)))
			return -ENOMEM;
	}
	/* every frame starts in the fill ring (fill_size == 2 * frames) */
	if (xsk_ring_prod__reserve(&r->fill, frames, &idx) != frames)
		return -ENOSPC;
	for (i = 0; i < frames; i++)
		*xsk_ring_prod__fill_addr(&r->fill, idx + i) = (__u64)i * NACCT_XSK_FRAME_SIZE;
	xsk_ring_prod__submit(&r->fill, frames);
	return 0;
}

int nacct_tap_open(struct nacct_tap *t, const char *ifname, int xsks_fd, __u32 frames,
		   __u32 ring, int copy_only, nacct_frame_fn fn, void *ctx)
{
	struct bpf_map_info info;
	__u32 ilen = sizeof(info);
	unsigned int i;
	int n, err;

	memset(t, 0, sizeof(*t));
	t->frames = frames;
	t->ring = ring;
	t->fn = fn;
	t->ctx = ctx;
	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(xsks_fd, &info, &ilen))
		return -errno;
	n = nacct_rx_queues(ifname);
	if ((__u32)n > info.max_entries) {
		pr_warn("%s: %d RX queues, the XSKMAP holds %u: capturing on the first %u only\n",
			ifname, n, info.max_entries, info.max_entries);
		n = info.max_entries;
	}
	t->q = calloc(n, sizeof(*t->q));
	if (!t->q)
		return -ENOMEM;
	t->n = n;
	for (i = 0; i < t->n; i++) {
		struct nacct_xsk_queue *q = &t->q[i];

		q->queue_id = i;
		err = queue_open(q, ifname, frames, ring, copy_only);
		if (err) {
			pr_warn("%s: cannot open an AF_XDP socket on queue %u: %s\n", ifname, i,
				strerror(-err));
			goto fail;
		}
		err = xsk_socket__update_xskmap(q->xsk, xsks_fd);
		if (err) {
			pr_warn("%s: cannot insert the AF_XDP socket of queue %u into nacct_xsks: "
				"%s\n", ifname, i, strerror(-err));
			goto fail;
		}
	}
	return 0;
fail:
	nacct_tap_close(t);
	return err;
}

int nacct_tap_fd(const struct nacct_tap *t, unsigned int qi)
{
	return xsk_socket__fd(t->q[qi].xsk);
}

/* hand stashed frames back to the kernel, as many as the fill ring takes */
static void refill(struct nacct_xsk_rings *r)
{
	__u32 n = xsk_prod_nb_free(&r->fill, r->nstash), idx = 0, i;

	if (n > r->nstash)
		n = r->nstash;
	if (!n || xsk_ring_prod__reserve(&r->fill, n, &idx) != n)
		return;
	for (i = 0; i < n; i++)
		*xsk_ring_prod__fill_addr(&r->fill, idx + i) = r->stash[--r->nstash];
	xsk_ring_prod__submit(&r->fill, n);
}

int nacct_tap_rx(struct nacct_tap *t, unsigned int qi)
{
	struct nacct_xsk_queue *q = &t->q[qi];
	struct nacct_xsk_rings *r = q->rings;
	__u32 idx_rx = 0, n, i, got = 0;
	struct timespec now;
	__u64 wall;
	int delivered = 0;

	refill(r);
	for (;;) {
		n = xsk_ring_cons__peek(&r->rx, NACCT_XSK_BATCH, &idx_rx);
		if (!n)
			break;
		/* AF_XDP carries no timestamp: the time we read the batch */
		clock_gettime(CLOCK_REALTIME, &now);
		wall = (__u64)now.tv_sec * 1000000000ULL + now.tv_nsec;
		for (i = 0; i < n; i++) {
			const struct xdp_desc *d = xsk_ring_cons__rx_desc(&r->rx, idx_rx + i);
			const void *data = xsk_umem__get_data(q->area, d->addr);
			__u32 len = d->len, caplen = d->len;

			if ((d->options & XDP_PKT_CONTD) || r->join_total) {
				/* a buffer of a multi-buffer frame: join it */
				__u32 room = NACCT_TAP_FRAME_MAX - r->join_len;
				__u32 c = d->len < room ? d->len : room;

				if (r->join)
					memcpy(r->join + r->join_len, data, c);
				r->join_len += c;
				r->join_total += d->len;
				data = r->join;
				len = r->join_total;
				caplen = r->join_len;
			}
			/* nstash < frames: every frame is in exactly one place */
			r->stash[r->nstash++] = xsk_umem__extract_addr(d->addr);
			if (d->options & XDP_PKT_CONTD)
				continue; /* more of the frame to come */
			r->join_len = r->join_total = 0;
			q->frames++;
			if (!t->stopped && t->fn(t->ctx, wall, NACCT_DIR_RX, len, caplen, data) < 0)
				t->stopped = 1;
			else if (!t->stopped)
				delivered++;
		}
		xsk_ring_cons__release(&r->rx, n);
		refill(r);
		got += n;
		if (got >= t->ring)
			break; /* let the other queues have their turn */
	}
	if (xsk_ring_prod__needs_wakeup(&r->fill))
		recvfrom(xsk_socket__fd(q->xsk), NULL, 0, MSG_DONTWAIT, NULL, NULL);
	return t->stopped ? -ECANCELED : delivered;
}

__u64 nacct_tap_dropped(const struct nacct_tap *t)
{
	__u64 sum = 0;
	unsigned int i;

	for (i = 0; i < t->n; i++) {
		struct xdp_statistics st;
		socklen_t len = sizeof(st);

		if (!t->q[i].xsk)
			continue;
		memset(&st, 0, sizeof(st));
		if (getsockopt(xsk_socket__fd(t->q[i].xsk), SOL_XDP, XDP_STATISTICS, &st, &len))
			continue;
		/* rx_dropped includes frames lost to an empty fill ring */
		sum += st.rx_dropped + st.rx_ring_full;
		pr_debug("AF_XDP queue %u: rx_dropped %llu rx_ring_full %llu fill_ring_empty %llu "
			 "rx_invalid %llu\n", t->q[i].queue_id, (unsigned long long)st.rx_dropped,
			 (unsigned long long)st.rx_ring_full,
			 (unsigned long long)st.rx_fill_ring_empty_descs,
			 (unsigned long long)st.rx_invalid_descs);
	}
	return sum;
}

void nacct_tap_close(struct nacct_tap *t)
{
	unsigned int i;

	for (i = 0; i < t->n; i++)
		queue_close(&t->q[i]);
	free(t->q);
	t->q = NULL;
	t->n = 0;
}
