// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * nacct capture: sampled packets to pcap.
 *
 * Inline mode (default): the XDP (RX) and TC (TX) programs copy 1 in N
 * packets into the nacct_samples ring buffer; the packets go on untouched.
 * Tap mode (--tap, for a mirror port or capture NIC): the XDP program
 * redirects the sampled RX frames to one AF_XDP socket per queue and drops
 * every other frame after counting it; TX samples still come through the
 * ring buffer.
 *
 * The interface may or may not be attached.  If it is not, capture
 * attaches it for its own duration and detaches on exit; if it is, only
 * nacct_cfg changes for the capture and the previous value is restored on
 * exit.  An flock on the pin directory keeps two captures of one interface
 * from fighting over the ring buffer and nacct_cfg.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "nacct.h"
#include "../lib/log.h"
#include "../maps/maps.h"
#include "../af_xdp/frames.h"
#include "../af_xdp/pcap_writer.h"

#define NS_PER_SEC 1000000000ULL
#define CAPTURE_POLL_MS 100
/* a whole frame: one UMEM frame, or a multi-buffer frame joined (af_xdp/tap.c) */
#define CAPTURE_TAP_SNAPLEN NACCT_TAP_FRAME_MAX

struct capture {
	const char *ifname;
	char dir[256];
	int temp_attached;
	int lock_fd;
	struct nacct_iface_maps m;
	int maps_open;
	int xsks_fd;
	struct nacct_cfg old_cfg, new_cfg;
	int cfg_set;
	struct nacct_pcap w;
	int w_open;
	struct nacct_sample_reader rd;
	int rd_open;
	struct nacct_tap tap;
	int tap_open;

	__u64 count_max;
	__u64 written, filtered, by_dir[NACCT_DIR_MAX];
	int done;       /* -c reached */
	int out_err;    /* output failed: negative errno */
	struct nacct_stats st0;
};

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	stop_requested = 1;
}

static __u64 wall_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (__u64)ts.tv_sec * NS_PER_SEC + ts.tv_nsec;
}

static __u64 mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * NS_PER_SEC + ts.tv_nsec;
}

static int on_frame(void *ctx, __u64 wall_ns, __u32 dir, __u32 len, __u32 caplen,
		    const void *data)
{
	struct capture *c = ctx;
	int r;

	if (c->done || c->out_err)
		return -ECANCELED;
	r = nacct_pcap_write(&c->w, wall_ns, len, caplen, data);
	if (r < 0) {
		c->out_err = r;
		return r;
	}
	if (!r) {
		c->filtered++;
		return 0;
	}
	c->written++;
	c->by_dir[dir & 1]++;
	if (c->count_max && c->written >= c->count_max) {
		c->done = 1;
		return -ECANCELED;
	}
	return 0;
}

/* "1 in N" as given to --sample; parsed by the option table (OPT_RATIO) */
static __u32 sample_n_of(const struct capture_opts *cfg)
{
	return cfg->sample_n ? (__u32)cfg->sample_n : 1;
}

/* attached for the capture's duration, through the library: stdout may
 * be the pcap stream (-w -), so only stderr hears about it */
static int attach_temporarily(struct capture *c)
{
	struct nacct_attach_req req = {
		.ifname = c->ifname,
		.mode = NACCT_M_AUTO,
		.hook = NACCT_H_XDP,
		.max_flows = NACCT_MAX_FLOWS_DEFAULT,
	};
	struct nacct_attach_info info;
	int err;

	pr_info("%s: not attached: attaching for the capture's duration\n", c->ifname);
	err = nacct_attach(&req, &info);
	if (err)
		return nacct_attach_error(c->ifname, err, &info);
	pr_info("%s: attached: %s\n", c->ifname, info.meta.reason);
	c->temp_attached = 1;
	return 0;
}

static int lock_iface(struct capture *c)
{
	c->lock_fd = open(c->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (c->lock_fd < 0)
		return -errno;
	if (flock(c->lock_fd, LOCK_EX | LOCK_NB)) {
		if (errno == EWOULDBLOCK)
			return nacct_usage_error("%s: another nacct capture is running on it",
						 c->ifname);
		return -errno;
	}
	return 0;
}

static void progress(const struct capture *c, int final)
{
	struct nacct_stats st;
	__u64 drops;

	if (nacct_read_totals(c->m.stats, c->m.queues, c->m.slot, &st))
		return;
	drops = st.sample_drops - c->st0.sample_drops;
	if (c->tap_open)
		drops += nacct_tap_dropped(&c->tap);
	fprintf(stderr, "\r%llu packets written, %llu sampled, %llu dropped%s",
		(unsigned long long)c->written,
		(unsigned long long)(st.samples - c->st0.samples), (unsigned long long)drops,
		final ? "\n" : "   ");
}

static void summary(const struct capture *c, const char *filter)
{
	struct nacct_stats st;
	__u64 drops = 0, sampled = 0, seen = 0;
	unsigned int i;

	if (!nacct_read_totals(c->m.stats, c->m.queues, c->m.slot, &st)) {
		drops = st.sample_drops - c->st0.sample_drops;
		sampled = st.samples - c->st0.samples;
		seen = st.packets[0] + st.packets[1] - c->st0.packets[0] - c->st0.packets[1];
	}
	if (c->tap_open)
		drops += nacct_tap_dropped(&c->tap);
	fprintf(stderr, "%llu packets captured (%llu received, %llu sent)\n",
		(unsigned long long)c->written, (unsigned long long)c->by_dir[NACCT_DIR_RX],
		(unsigned long long)c->by_dir[NACCT_DIR_TX]);
	fprintf(stderr, "%llu packets sampled of %llu counted on %s\n",
		(unsigned long long)sampled, (unsigned long long)seen, c->ifname);
	if (filter && *filter)
		fprintf(stderr, "%llu packets rejected by the filter\n",
			(unsigned long long)c->filtered);
	fprintf(stderr, "%llu packets dropped by ring buffer%s\n", (unsigned long long)drops,
		c->tap_open ? " or AF_XDP socket" : "");
	for (i = 0; c->tap_open && i < c->tap.n; i++)
		fprintf(stderr, "  AF_XDP queue %u (%s mode, %s): %llu frames\n",
			c->tap.q[i].queue_id, c->tap.q[i].zerocopy ? "zero-copy" : "copy",
			c->tap.q[i].sg ? "multi-buffer" : "single-buffer",
			(unsigned long long)c->tap.q[i].frames);
}

/* FILTER... as one string, like tcpdump */
static char *join_filter(const struct nacct_args *cfg)
{
	size_t len = 1;
	char *s;
	int i;

	for (i = 1; i < cfg->argc; i++)
		len += strlen(cfg->argv[i]) + 1;
	s = calloc(1, len);
	if (!s)
		return NULL;
	for (i = 1; i < cfg->argc; i++) {
		if (i > 1)
			strcat(s, " ");
		strcat(s, cfg->argv[i]);
	}
	return s;
}

static int is_pow2(__u64 v)
{
	return v && !(v & (v - 1));
}

/* stop sampling first, then read what is still on its way */
static void drain(struct capture *c)
{
	unsigned int i;

	if (c->rd_open && !c->done && !c->out_err)
		nacct_samples_consume(&c->rd);
	for (i = 0; c->tap_open && i < c->tap.n && !c->done && !c->out_err; i++)
		nacct_tap_rx(&c->tap, i);
}

static int run(struct capture *c)
{
	struct pollfd fds[1 + 64];
	unsigned int nfds = 0, i;
	__u64 next_progress = mono_now() + NS_PER_SEC;
	int tty = isatty(STDERR_FILENO), err = 0;

	fds[nfds].fd = nacct_samples_fd(&c->rd);
	fds[nfds++].events = POLLIN;
	for (i = 0; c->tap_open && i < c->tap.n && nfds < 1 + 64; i++) {
		fds[nfds].fd = nacct_tap_fd(&c->tap, i);
		fds[nfds++].events = POLLIN;
	}
	while (!stop_requested && !c->done && !c->out_err) {
		int n = poll(fds, nfds, CAPTURE_POLL_MS);

		if (n < 0 && errno != EINTR) {
			err = -errno;
			break;
		}
		/* consume regardless of poll's answer: cheap, and never misses a wakeup */
		err = nacct_samples_consume(&c->rd);
		if (err < 0 && err != -ECANCELED && !c->out_err) {
			pr_warn("%s: reading the sample ring buffer: %s\n", c->ifname,
				strerror(-err));
			break;
		}
		err = 0;
		for (i = 0; c->tap_open && i < c->tap.n && !c->done; i++)
			nacct_tap_rx(&c->tap, i);
		if (!c->out_err)
			c->out_err = nacct_pcap_flush(&c->w);
		if (!c->out_err)
			c->out_err = nacct_pcap_maybe_rotate(&c->w, wall_now());
		if (tty && mono_now() >= next_progress) {
			progress(c, 0);
			next_progress += NS_PER_SEC;
		}
	}
	if (tty)
		progress(c, 1);
	return err;
}

int cmd_capture(struct capture_opts *cfg)
{
	struct capture c;
	struct sigaction sa;
	struct stat st;
	__u32 zero = 0, snaplen;
	char *filter = NULL;
	int err, ret = NACCT_EXIT_FAIL;
	unsigned int i;

	memset(&c, 0, sizeof(c));
	c.lock_fd = -1;
	c.xsks_fd = -1;
	c.ifname = cfg->a.argv[0];

	/* ---- check the input before touching anything */
	if (!nacct_ifindex(c.ifname))
		return NACCT_EXIT_USAGE;
	if (!cfg->write)
		return nacct_usage_error("capture: -w FILE|- is required");
	if (!*cfg->write)
		return nacct_usage_error("capture: -w needs a file name, or - for stdout");
	if (cfg->rotate && !strcmp(cfg->write, "-"))
		return nacct_usage_error("capture: -G rotates files: it cannot go with -w -");
	if (cfg->xsk_frames && !is_pow2(cfg->xsk_frames))
		return nacct_usage_error("capture: --frames %llu: must be a power of two",
					 (unsigned long long)cfg->xsk_frames);
	if (cfg->xsk_ring && !is_pow2(cfg->xsk_ring))
		return nacct_usage_error("capture: --ring %llu: must be a power of two",
					 (unsigned long long)cfg->xsk_ring);
	if (!cfg->tap && (cfg->xsk_frames || cfg->xsk_ring || cfg->xsk_copy))
		return nacct_usage_error("capture: --frames, --ring and --copy are about the AF_XDP "
					 "sockets of --tap mode");
	if (!cfg->xsk_frames)
		cfg->xsk_frames = NACCT_XSK_FRAMES_DEFAULT;
	if (!cfg->xsk_ring)
		cfg->xsk_ring = NACCT_XSK_RING_DEFAULT;
	if (cfg->xsk_frames < cfg->xsk_ring)
		return nacct_usage_error("capture: --frames (%llu) must be at least --ring (%llu)",
					 (unsigned long long)cfg->xsk_frames,
					 (unsigned long long)cfg->xsk_ring);
	/* the data path copies at most NACCT_SNAPLEN_MAX bytes of a packet */
	snaplen = cfg->tap ? CAPTURE_TAP_SNAPLEN : NACCT_SNAPLEN_MAX;
	if (cfg->snaplen && cfg->snaplen < snaplen)
		snaplen = cfg->snaplen;
	else if (cfg->snaplen > snaplen)
		pr_info("%s: snaplen %llu: the %s copies at most %u bytes per packet\n", c.ifname,
			(unsigned long long)cfg->snaplen, cfg->tap ? "AF_XDP frame" : "data path",
			snaplen);
	c.count_max = cfg->count;
	filter = join_filter(&cfg->a);
	if (!filter)
		return NACCT_EXIT_FAIL;
	err = nacct_need_bpf();
	if (err) {
		ret = err; /* no privileges or no bpffs: bad input, exit 2 */
		goto out_free;
	}

	/* the output first: a bad filter or an unwritable file changes nothing */
	err = nacct_pcap_open(&c.w, cfg->write, snaplen, cfg->rotate, filter);
	if (err) {
		ret = err == -EINVAL ? NACCT_EXIT_USAGE : NACCT_EXIT_FAIL;
		goto out_free;
	}
	c.w_open = 1;

	/* ---- the attachment: existing, or ours for the duration */
	if (nacct_pin_dir(c.ifname, c.dir, sizeof(c.dir))) {
		ret = nacct_usage_error("interface name too long");
		goto out;
	}
	if (stat(c.dir, &st)) {
		err = attach_temporarily(&c);
		if (err) {
			ret = err > 0 ? err : NACCT_EXIT_FAIL;
			goto out;
		}
	}
	err = lock_iface(&c);
	if (err) {
		if (err > 0)
			ret = err;
		else
			pr_warn("%s: cannot lock %s: %s\n", c.ifname, c.dir, strerror(-err));
		goto out;
	}
	err = nacct_iface_open(c.ifname, &c.m);
	if (err) {
		pr_warn("%s: cannot open the pinned maps: %s\n", c.ifname, strerror(-err));
		goto out;
	}
	c.maps_open = 1;
	if (c.m.slot) {
		/* the sample switch and ring are the whole domain's */
		pr_warn("%s: capture: the interface is a member of shared domain %s, whose "
			"sampling is one switch for all its interfaces; capture needs an "
			"attachment of its own (nacct detach %s; nacct attach %s)\n",
			c.ifname, c.m.meta_val.domain, c.ifname, c.ifname);
		ret = NACCT_EXIT_USAGE;
		goto out;
	}
	if (bpf_map_lookup_elem(c.m.cfg, &zero, &c.old_cfg)) {
		pr_warn("%s: cannot read nacct_cfg: %s\n", c.ifname, strerror(errno));
		goto out;
	}
	if (c.old_cfg.tap) {
		/* we hold the lock, so no capture runs: one was killed in tap mode */
		pr_warn("%s: tap mode was left on by a capture that did not exit cleanly; it "
			"will be off after this one\n", c.ifname);
		c.old_cfg.tap = 0;
	}
	if (cfg->tap && c.m.meta_val.hook != NACCT_HOOK_XDP) {
		ret = nacct_usage_error("%s: --tap needs the XDP ingress hook; it is attached "
					"with --hook tc", c.ifname);
		goto out;
	}

	/* ---- readers before the data path starts sampling */
	err = nacct_samples_open(&c.rd, c.dir, on_frame, &c);
	if (err) {
		pr_warn("%s: cannot open the sample ring buffer: %s\n", c.ifname, strerror(-err));
		goto out;
	}
	c.rd_open = 1;
	if (cfg->tap) {
		c.xsks_fd = nacct_map_open(c.dir, "nacct_xsks", BPF_MAP_TYPE_XSKMAP, 4, 4);
		if (c.xsks_fd < 0) {
			pr_warn("%s: cannot open the XSKMAP nacct_xsks: %s\n", c.ifname,
				strerror(-c.xsks_fd));
			goto out;
		}
		err = nacct_tap_open(&c.tap, c.ifname, c.xsks_fd, cfg->xsk_frames, cfg->xsk_ring,
				     cfg->xsk_copy, on_frame, &c);
		if (err)
			goto out;
		c.tap_open = 1;
		for (i = 0; i < c.tap.n; i++) {
			pr_info("%s: tap queue %u: AF_XDP %s mode%s%s%s, %s\n", c.ifname,
				c.tap.q[i].queue_id, c.tap.q[i].zerocopy ? "zero-copy" : "copy",
				c.tap.q[i].zerocopy ? "" : " (", c.tap.q[i].why,
				c.tap.q[i].zerocopy ? "" : ")",
				c.tap.q[i].sg ? "multi-buffer" : "single-buffer");
			if (!c.tap.q[i].sg)
				pr_info("%s: tap queue %u: %s\n", c.ifname, c.tap.q[i].queue_id,
					c.tap.q[i].sg_why);
		}
	}

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal; /* no SA_RESTART: poll() returns at once */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN); /* a reader of -w - that goes away: EPIPE */

	nacct_read_totals(c.m.stats, c.m.queues, c.m.slot, &c.st0);
	nacct_samples_skip_older(&c.rd);
	c.new_cfg.sample_n = sample_n_of(cfg);
	c.new_cfg.snaplen = snaplen < NACCT_SNAPLEN_MAX ? snaplen : NACCT_SNAPLEN_MAX;
	c.new_cfg.tap = cfg->tap ? 1 : 0;
	if (bpf_map_update_elem(c.m.cfg, &zero, &c.new_cfg, BPF_ANY)) {
		pr_warn("%s: cannot write nacct_cfg: %s\n", c.ifname, strerror(errno));
		goto out;
	}
	c.cfg_set = 1;
	pr_info("%s: capturing %s, 1 in %u packets, snaplen %u%s%s%s\n", c.ifname,
		cfg->tap ? "in tap mode (RX: AF_XDP, every other RX frame dropped; TX: ring buffer)" :
			   "inline (RX: XDP, TX: TC, ring buffer)",
		c.new_cfg.sample_n, snaplen, *filter ? ", filter '" : "", filter,
		*filter ? "'" : "");

	err = run(&c);
	ret = err ? NACCT_EXIT_FAIL : NACCT_EXIT_OK;
	if (c.out_err && c.out_err != -EPIPE) {
		pr_warn("%s: writing %s: %s\n", c.ifname, c.w.to_stdout ? "stdout" : c.w.path,
			strerror(-c.out_err));
		ret = NACCT_EXIT_FAIL;
	}
out:
	if (c.cfg_set) {
		if (bpf_map_update_elem(c.m.cfg, &zero, &c.old_cfg, BPF_ANY))
			pr_warn("%s: cannot restore nacct_cfg: %s\n", c.ifname, strerror(errno));
		drain(&c);
		if (c.w_open && !c.out_err)
			nacct_pcap_flush(&c.w);
		summary(&c, filter);
	}
	if (c.tap_open)
		nacct_tap_close(&c.tap);
	if (c.xsks_fd >= 0)
		close(c.xsks_fd);
	if (c.rd_open)
		nacct_samples_close(&c.rd);
	if (c.maps_open)
		nacct_iface_close(&c.m);
	if (c.temp_attached) {
		err = nacct_detach_dir(c.ifname, c.dir);
		if (err)
			pr_warn("%s: detach after the capture failed: %s\n", c.ifname,
				strerror(-err));
		else
			pr_info("%s: detached (was attached for the capture only)\n", c.ifname);
	}
	if (c.lock_fd >= 0)
		close(c.lock_fd);
	if (c.w_open)
		nacct_pcap_close(&c.w);
out_free:
	free(filter);
	return ret;
}
