// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * nacct export: flow expiry and export to an IPFIX collector (or JSON
 * lines on stdout), exactly once across restarts.
 *
 * The kernel's flow map holds running totals per flow (per CPU), never
 * reset by the data path.  The exporter sends deltas.  What it has sent
 * lives in three pinned maps next to the attachment's own, so that a
 * restarted exporter (kill -9 included) neither loses nor repeats counts:
 *
 *   nacct_export       HASH  flow key -> totals already exported per
 *                      direction, the flow's incarnation (its merged
 *                      first_seen) and the start of its next record.
 *                      Delta = kernel totals - this.  A flow that was
 *                      removed and came back (first_seen differs) starts
 *                      from zero.
 *   nacct_export_pend  ARRAY, mmap'ed, the "pending" slots of expired
 *                      flows.  An idle flow is removed with
 *                      BPF_MAP_LOOKUP_AND_DELETE_ELEM, which reads the
 *                      final per-CPU counters atomically with the delete,
 *                      and the value buffer handed to that syscall IS the
 *                      slot in the mmap'ed pinned map: the kernel writes
 *                      the final counters straight into memory that
 *                      outlives the process, inside the syscall.  There is
 *                      no instant where they exist only in our memory.
 *                      (A slot is marked DELETING with zeroed values
 *                      before the call; after a crash, non-zero values
 *                      mean the delete happened.)  The final delta is
 *                      exported like any other; the slot is freed and
 *                      the nacct_export entry removed once it is committed.
 *   nacct_export_jrnl  ARRAY, mmap'ed, one element: the journal of the
 *                      message in flight: the new exported totals of
 *                      every record in it, the IPFIX sequence number,
 *                      and a struct mmsghdr.  The message is sent with
 *                      sendmmsg() on that mmsghdr, and the kernel writes
 *                      the number of bytes it queued to the socket
 *                      (msg_len) into the journal *inside the send
 *                      syscall*.  So "sent" and "recorded as sent" are one
 *                      atomic step as far as a kill -9 is concerned (a
 *                      signal is acted on only when the syscall returns).
 *
 * One message:  stage records + journal items (state IDLE) -> state
 * INTENT, msg_len = 0 -> sendmmsg -> apply the items to nacct_export
 * (absolute values: idempotent) -> sequence += records, state IDLE.
 * On start: INTENT with msg_len == length: the message went out, apply
 * its items again; INTENT with msg_len < length: it did not (or a TCP
 * write was cut short: that connection is gone, and a collector discards
 * a truncated last message on it), its deltas are computed and sent again.
 *
 * What remains (README "Export: exactly once, and its limits"):
 *  - the transport: UDP can drop datagrams (the sequence numbers let the
 *    collector count them); with TCP a message queued to the socket is
 *    delivered unless the connection or the collector dies after we
 *    queued it.  Nothing here can see past the socket.
 *  - --json writes to a pipe or file with write(): "sent" is recorded
 *    right after write() returns, so a kill in that window repeats one
 *    batch of lines (each line carries its message sequence number).
 *  - the data path updates a flow through a pointer from its lookup; a
 *    packet that races the delete of an idle flow (idle for the whole
 *    --idle-timeout, then a packet within the same microsecond) can land
 *    in the freed element.  Only a data-path change could close that.
 *
 * Records: each direction of a flow (the RX and the TX counters of the
 * hook) is its own uni-directional record, src -> dst as the packets
 * went: the endpoint that is a local address of this network namespace
 * sends TX and receives RX; when neither or both are local, the
 * initiator (first packet) is the source of RX records.  Active
 * timeout: a record is sent when its start is --active-timeout old;
 * idle timeout: a flow without packets for --idle-timeout is removed
 * and its last delta sent.  flowStart of a follow-up record is the time
 * of the previous export (all of its packets came after it), flowEnd the
 * flow's last packet; both wall clock, start <= end.
 * Overflow, malformed and non-IP: options records (template 258) with
 * running totals, see ctl/ipfix.h.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "nacct.h"
#include "../lib/log.h"
#include "ipfix.h"
#include "../maps/maps.h"
#include "../lib/fmt.h"
#include "../lib/side.h"
#include "../lib/snapshot.h"

const char *const nacct_transport_names[] = { "udp", "tcp", NULL };

#define XJ_MAGIC 0x6e78706aU /* "nxpj" */
#define XJ_VERSION 1
#define XJ_MAX_ITEMS 1024
#define XP_SLOTS 256
#define TICK_MS 1000
#define TEMPLATE_REFRESH_S 30 /* UDP: templates again every 30 s */

/* exported state of one flow (nacct_export value) */
struct xstate {
	__u64 packets[NACCT_DIR_MAX];
	__u64 bytes[NACCT_DIR_MAX];
	__u64 rec_start[NACCT_DIR_MAX]; /* mono ns: start of the next record; 0: first_seen */
	__u64 first_seen;               /* incarnation */
	__u64 pad;
};

/* one record of the message in flight */
struct xitem {
	struct nacct_flow_key key;
	__u64 packets; /* new exported totals of direction dir */
	__u64 bytes;
	__u64 first_seen;
	__u64 rec_start;
	__u32 slot; /* pending slot + 1 of an expired flow, 0: live flow */
	__u8 dir;
	__u8 pad[3];
};

enum { XJ_IDLE = 0, XJ_INTENT = 1 };

struct xjournal {
	__u32 magic;
	__u32 version;
	__u32 state;
	__u32 n_items;
	__u64 seq;      /* IPFIX sequence number: data records sent so far */
	__u64 messages; /* messages sent so far */
	__u32 msg_len;  /* length of the message in flight */
	__u32 n_records;
	__u8 mmsg[64];  /* struct mmsghdr; msg_len written by the kernel */
	struct xitem items[XJ_MAX_ITEMS];
};

enum { XP_FREE = 0, XP_DELETING = 1, XP_DELETED = 2 };

/* pending slot: header + per-CPU values (value size depends on ncpus) */
struct xslot {
	__u32 state;
	__u32 pad;
	struct nacct_flow_key key;
	struct nacct_flow_val vals[]; /* one per possible CPU */
};

_Static_assert(sizeof(struct mmsghdr) <= 64, "mmsghdr does not fit the journal");
_Static_assert(sizeof(struct nacct_flow_val) % 8 == 0, "per-CPU value stride");

struct exporter {
	const struct export_opts *cfg;
	const char *ifname;
	struct nacct_iface_maps m;
	int xmap, jmap, pmap;
	struct xjournal *j;
	size_t j_len;
	__u8 *pend;
	size_t pend_len, slot_size;
	int lock_fd;
	/* output */
	int json;
	struct nacct_ipfix *ix;
	int sock;
	struct sockaddr_storage peer;
	socklen_t peer_len;
	int tcp;
	time_t templates_at;
	struct nacct_obuf jbuf; /* JSON lines of the message being built */
	/* the side programs' records of this round (JSON records carry them) */
	struct nacct_probe_view pv;
	struct nacct_side side;
	int have_pv;
	unsigned int jrecords;
	/* timeouts, ns */
	__u64 idle_ns, active_ns;
	/* local addresses (v4-mapped for v4) */
	__u8 (*local)[16];
	size_t n_local;
	/* pressure */
	struct nacct_stats last_st;
	int have_last_st;
	int fill_warned;
	/* figures */
	__u64 records_sent, messages_sent, flows_expired;
};

static volatile sig_atomic_t g_stop;

static void on_signal(int sig)
{
	g_stop = 1;
}

static __u64 mono_coarse_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static __u64 wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (__u64)ts.tv_sec * 1000ULL + ts.tv_nsec / 1000000;
}

static int cmp_key(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct nacct_flow_key));
}

/* ---- pinned state ---------------------------------------------------- */

/* open a pinned map of ours, or create and pin it */
static int own_map(const char *dir, const char *name, enum bpf_map_type type, __u32 ks, __u32 vs,
		   __u32 max, __u32 flags)
{
	LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = flags);
	struct bpf_map_info info;
	__u32 ilen = sizeof(info);
	char path[512];
	int fd, err;

	fd = nacct_map_open(dir, name, type, ks, vs);
	if (fd >= 0) {
		memset(&info, 0, sizeof(info));
		if (bpf_obj_get_info_by_fd(fd, &info, &ilen) == 0 && info.map_flags == flags &&
		    (type != BPF_MAP_TYPE_ARRAY || info.max_entries == max))
			return fd;
		close(fd);
		fd = -EPROTO;
	}
	if (fd == -EPROTO) {
		pr_warn("%s/%s was made by an incompatible nacct build\n", dir, name);
		return -EPROTO;
	}
	if (fd != -ENOENT)
		return fd;
	fd = bpf_map_create(type, name, ks, vs, max, &opts);
	if (fd < 0)
		return -errno;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (bpf_obj_pin(fd, path)) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

static void *map_mmap(int fd, size_t len)
{
	long pg = sysconf(_SC_PAGESIZE);
	void *p;

	len = (len + pg - 1) / pg * pg;
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	return p == MAP_FAILED ? NULL : p;
}

static struct xslot *slot_at(struct exporter *x, __u32 i)
{
	return (struct xslot *)(x->pend + (size_t)i * x->slot_size);
}

static int slot_has_values(struct exporter *x, struct xslot *s)
{
	int i;

	for (i = 0; i < nacct_ncpus(); i++)
		if (s->vals[i].first_seen)
			return 1;
	return 0;
}

static int open_state(struct exporter *x)
{
	__u32 max = x->m.meta_val.max_flows ? x->m.meta_val.max_flows : NACCT_MAX_FLOWS_DEFAULT;
	size_t ncpu = nacct_ncpus();

	x->slot_size = sizeof(struct xslot) + ncpu * sizeof(struct nacct_flow_val);
	x->slot_size = (x->slot_size + 7) & ~(size_t)7;
	x->xmap = own_map(x->m.dir, "nacct_export", BPF_MAP_TYPE_HASH,
			  sizeof(struct nacct_flow_key), sizeof(struct xstate), max + XP_SLOTS + 64,
			  BPF_F_NO_PREALLOC);
	if (x->xmap < 0)
		return x->xmap;
	x->jmap = own_map(x->m.dir, "nacct_export_jrnl", BPF_MAP_TYPE_ARRAY, 4,
			  sizeof(struct xjournal), 1, BPF_F_MMAPABLE);
	if (x->jmap < 0)
		return x->jmap;
	x->pmap = own_map(x->m.dir, "nacct_export_pend", BPF_MAP_TYPE_ARRAY, 4, x->slot_size,
			  XP_SLOTS, BPF_F_MMAPABLE);
	if (x->pmap < 0)
		return x->pmap;
	x->j_len = sizeof(struct xjournal);
	x->j = map_mmap(x->jmap, x->j_len);
	x->pend_len = x->slot_size * XP_SLOTS;
	x->pend = map_mmap(x->pmap, x->pend_len);
	if (!x->j || !x->pend)
		return -errno;
	if (x->j->magic != XJ_MAGIC) {
		memset(x->j, 0, sizeof(*x->j));
		x->j->version = XJ_VERSION;
		__atomic_store_n(&x->j->magic, XJ_MAGIC, __ATOMIC_RELEASE);
	}
	return 0;
}

/* ---- committing ---------------------------------------------------- */

static int apply_item(struct exporter *x, const struct xitem *it)
{
	struct xstate st;

	if (bpf_map_lookup_elem(x->xmap, &it->key, &st) || st.first_seen != it->first_seen) {
		memset(&st, 0, sizeof(st));
		st.first_seen = it->first_seen;
	}
	st.packets[it->dir] = it->packets;
	st.bytes[it->dir] = it->bytes;
	st.rec_start[it->dir] = it->rec_start;
	if (bpf_map_update_elem(x->xmap, &it->key, &st, BPF_ANY)) {
		int err = -errno;

		pr_warn("export: cannot record an exported flow: %s\n", strerror(-err));
		return err;
	}
	return 0;
}

/* the message in flight went out: make its records "exported" */
static void commit(struct exporter *x)
{
	__u32 i;

	for (i = 0; i < x->j->n_items; i++)
		apply_item(x, &x->j->items[i]);
	x->j->seq += x->j->n_records;
	x->j->messages++;
	x->j->n_items = 0;
	x->j->n_records = 0;
	__atomic_store_n(&x->j->state, XJ_IDLE, __ATOMIC_RELEASE);
}

static void recover(struct exporter *x)
{
	struct mmsghdr *mm = (struct mmsghdr *)x->j->mmsg;
	__u32 i, n_del = 0, n_free = 0;

	if (x->j->state == XJ_INTENT) {
		if (mm->msg_len == x->j->msg_len && x->j->msg_len) {
			pr_info("export: message %llu (%u records) was sent before the restart: "
				"committing it\n",
				(unsigned long long)x->j->messages, x->j->n_records);
			commit(x);
		} else {
			pr_info("export: message %llu was not sent before the restart (%u of %u "
				"bytes): its records are sent again\n",
				(unsigned long long)x->j->messages, mm->msg_len, x->j->msg_len);
			x->j->n_items = 0;
			x->j->n_records = 0;
			x->j->state = XJ_IDLE;
		}
	} else {
		x->j->n_items = 0;
		x->j->n_records = 0;
	}
	for (i = 0; i < XP_SLOTS; i++) {
		struct xslot *s = slot_at(x, i);

		if (s->state != XP_DELETING)
			continue;
		/* the kernel wrote the final values into the slot, or never did */
		if (slot_has_values(x, s)) {
			s->state = XP_DELETED;
			n_del++;
		} else {
			s->state = XP_FREE;
			n_free++;
		}
	}
	if (n_del || n_free)
		pr_info("export: %u expired flows recovered from the pending map, %u deletes had "
			"not happened\n", n_del, n_free);
}

/* ---- transport ------------------------------------------------------- */

static int parse_hostport(const char *s, struct sockaddr_storage *ss, socklen_t *len, int tcp)
{
	struct addrinfo hints = { 0 }, *res = NULL;
	char host[256];
	const char *colon = strrchr(s, ':'), *h = s;
	size_t hl;
	int rc;

	if (!colon || !colon[1])
		return -EINVAL;
	hl = colon - s;
	if (*h == '[' && hl >= 2 && h[hl - 1] == ']') {
		h++;
		hl -= 2;
	}
	if (hl == 0 || hl >= sizeof(host))
		return -EINVAL;
	memcpy(host, h, hl);
	host[hl] = '\0';
	hints.ai_socktype = tcp ? SOCK_STREAM : SOCK_DGRAM;
	hints.ai_flags = AI_NUMERICSERV;
	rc = getaddrinfo(host, colon + 1, &hints, &res);
	if (rc || !res)
		return -EINVAL;
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*len = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

static void sock_close(struct exporter *x)
{
	if (x->sock >= 0)
		close(x->sock);
	x->sock = -1;
}

static int send_raw(struct exporter *x, const __u8 *buf, size_t len);

static int send_templates(struct exporter *x)
{
	const __u8 *buf;
	size_t len;
	int err;

	err = nacct_ipfix_add_templates(x->ix);
	if (!err)
		err = nacct_ipfix_emit(x->ix, (__u32)x->j->seq, &buf, &len);
	if (!err)
		err = send_raw(x, buf, len);
	if (!err)
		x->templates_at = time(NULL);
	return err;
}

/* connect (TCP) or bind a destination (UDP), then send the templates */
static int sock_open(struct exporter *x)
{
	int err;

	if (x->sock >= 0)
		return 0;
	x->sock = socket(x->peer.ss_family, (x->tcp ? SOCK_STREAM : SOCK_DGRAM) | SOCK_CLOEXEC, 0);
	if (x->sock < 0)
		return -errno;
	if (connect(x->sock, (struct sockaddr *)&x->peer, x->peer_len)) {
		err = -errno;
		sock_close(x);
		return err;
	}
	/* the templates lead every connection (and every UDP restart) */
	err = send_templates(x);
	if (err)
		sock_close(x);
	return err;
}

/* a message that needs no journal (templates): all or nothing */
static int send_raw(struct exporter *x, const __u8 *buf, size_t len)
{
	ssize_t n = send(x->sock, buf, len, MSG_NOSIGNAL);

	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EIO;
}

/*
 * Send the message in flight through the journal's mmsghdr: the kernel
 * stores the byte count in the pinned journal inside the syscall.
 * Returns 0 when the whole message went out.
 */
static int send_journaled(struct exporter *x, const __u8 *buf, size_t len)
{
	struct mmsghdr *mm = (struct mmsghdr *)x->j->mmsg;
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
	int n;

	memset(mm, 0, sizeof(*mm));
	mm->msg_hdr.msg_iov = &iov;
	mm->msg_hdr.msg_iovlen = 1;
	x->j->msg_len = len;
	__atomic_store_n(&x->j->state, XJ_INTENT, __ATOMIC_SEQ_CST);
	if (x->json) {
		size_t off = 0;

		while (off < len) {
			ssize_t w = write(STDOUT_FILENO, buf + off, len - off);

			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0)
				return -errno;
			off += w;
		}
		mm->msg_len = len;
		return 0;
	}
	n = sendmmsg(x->sock, mm, 1, MSG_NOSIGNAL);
	if (n == 1 && mm->msg_len == len)
		return 0;
	return n < 0 ? -errno : -EIO;
}

/* ---- building messages ----------------------------------------------- */

/* close the message being built, send it through the journal, commit */
static int flush_msg(struct exporter *x)
{
	const __u8 *buf;
	size_t len;
	unsigned int recs;
	int err;

	if (x->json) {
		if (x->jbuf.err)
			return x->jbuf.err;
		buf = (const __u8 *)x->jbuf.p;
		len = x->jbuf.len;
		recs = x->jrecords;
		x->jbuf.len = 0;
		x->jrecords = 0;
	} else {
		recs = nacct_ipfix_records(x->ix);
		err = nacct_ipfix_emit(x->ix, (__u32)x->j->seq, &buf, &len);
		if (err)
			goto drop;
	}
	if (!len) {
		x->j->n_items = 0;
		return 0;
	}
	x->j->n_records = recs;
	for (int attempt = 0; attempt < 2; attempt++) {
		if (!x->json) {
			err = sock_open(x);
			if (err) {
				pr_warn("export: cannot reach %s: %s\n", x->cfg->ipfix, strerror(-err));
				goto drop;
			}
		}
		err = send_journaled(x, buf, len);
		if (!err)
			break;
		/* a broken TCP connection, a partial write: a new connection
		 * (the collector drops what was cut), then the whole message */
		pr_warn("export: send failed: %s\n", strerror(-err));
		sock_close(x);
		if (x->json)
			break;
	}
	if (err)
		goto drop;
	x->records_sent += recs;
	x->messages_sent++;
	commit(x);
	return 0;
drop:
	/* nothing went out: forget the staged records, the deltas stay in the
	 * maps and are computed again next round */
	x->j->n_items = 0;
	x->j->n_records = 0;
	__atomic_store_n(&x->j->state, XJ_IDLE, __ATOMIC_RELEASE);
	return err ? err : -EIO;
}

static int is_local(struct exporter *x, const __u8 *addr)
{
	size_t i;

	for (i = 0; i < x->n_local; i++)
		if (!memcmp(x->local[i], addr, 16))
			return 1;
	return 0;
}

static void load_local(struct exporter *x)
{
	struct ifaddrs *ifa, *p;
	size_t n = 0;

	free(x->local);
	x->local = NULL;
	x->n_local = 0;
	if (getifaddrs(&ifa))
		return;
	for (p = ifa; p; p = p->ifa_next)
		n++;
	x->local = calloc(n ? n : 1, 16);
	for (p = ifa; p && x->local; p = p->ifa_next) {
		__u8 *a;

		if (!p->ifa_addr)
			continue;
		a = x->local[x->n_local];
		if (p->ifa_addr->sa_family == AF_INET) {
			memset(a, 0, 10);
			a[10] = a[11] = 0xff;
			memcpy(a + 12, &((struct sockaddr_in *)p->ifa_addr)->sin_addr, 4);
			x->n_local++;
		} else if (p->ifa_addr->sa_family == AF_INET6) {
			memcpy(a, &((struct sockaddr_in6 *)p->ifa_addr)->sin6_addr, 16);
			x->n_local++;
		}
	}
	freeifaddrs(ifa);
}

/* which endpoint sent the packets of hook direction dir: 0 lo, 1 hi */
static int src_is_hi(struct exporter *x, const struct nacct_flow *f, int dir)
{
	int lo_l = is_local(x, f->key.lo_addr), hi_l = is_local(x, f->key.hi_addr);
	int sender_rx;

	if (lo_l != hi_l)
		sender_rx = lo_l ? 1 : 0; /* RX comes from the remote end */
	else if (f->val.seen_dirs == 1)
		return 0;
	else if (f->val.seen_dirs == 2)
		return 1;
	else
		sender_rx = f->val.first_dir; /* the initiator sends RX */
	return dir == NACCT_DIR_RX ? sender_rx : !sender_rx;
}


/*
 * One uni-directional record of a flow: what direction @dir added since
 * the last export (its own val, the other direction zero), from @start;
 * src -> dst as its packets went.
 */
static void delta_rec(struct exporter *x, const struct nacct_flow *f, const struct xstate *base,
		      int dir, __u64 start, __u32 slot, struct nacct_rec *r)
{
	nacct_rec_flow(r, x->ifname, &f->key, &f->val);
	memset(&r->val, 0, sizeof(r->val));
	r->val.packets[dir] = f->val.packets[dir] - base->packets[dir];
	r->val.bytes[dir] = f->val.bytes[dir] - base->bytes[dir];
	r->val.tcp_flags[dir] = f->val.tcp_flags[dir];
	r->val.first_seen = start < f->val.last_seen ? start : f->val.last_seen;
	r->val.last_seen = f->val.last_seen;
	r->src_hi = src_is_hi(x, f, dir);
	r->ifindex = x->m.meta_val.ifindex;
	r->dir = dir;
	r->seq = x->j->seq;
	r->final = slot != 0;
	if (x->have_pv) {
		nacct_probe_view_side(&x->pv, &f->key, &x->side);
		r->side = &x->side;
	}
}

/* add one record (and its journal item); flushes when the message is full */
static int add_record(struct exporter *x, const struct nacct_flow *f, const struct xstate *base,
		      int dir, __u64 start, __u64 now, __u32 slot)
{
	static const struct nacct_fmt jfmt = { NACCT_FMT_JSON, NACCT_OUT_FLOW | NACCT_OUT_EXPORT };
	struct nacct_rec r;
	struct xitem *it;
	int err;

	if (x->j->n_items >= XJ_MAX_ITEMS) {
		err = flush_msg(x);
		if (err)
			return err;
	}
	delta_rec(x, f, base, dir, start, slot, &r);
	if (x->json) {
		nacct_fmt_rec(&x->jbuf, &jfmt, &r);
		if (x->jbuf.err)
			return x->jbuf.err;
		x->jrecords++;
	} else {
		err = nacct_ipfix_add_flow(x->ix, &r);
		if (err == -ENOSPC) {
			err = flush_msg(x);
			r.seq = x->j->seq;
			if (!err)
				err = nacct_ipfix_add_flow(x->ix, &r);
		}
		if (err)
			return err;
	}
	it = &x->j->items[x->j->n_items++];
	memset(it, 0, sizeof(*it));
	it->key = f->key;
	it->dir = dir;
	it->packets = f->val.packets[dir];
	it->bytes = f->val.bytes[dir];
	it->first_seen = f->val.first_seen;
	it->rec_start = now;
	it->slot = slot;
	return 0;
}

/* the exported state of a flow's incarnation (zero if none) */
static void base_of(struct exporter *x, const struct nacct_flow *f, struct xstate *base)
{
	if (bpf_map_lookup_elem(x->xmap, &f->key, base) || base->first_seen != f->val.first_seen) {
		memset(base, 0, sizeof(*base));
		base->first_seen = f->val.first_seen;
	}
}

/* export what has not been exported of one flow (all directions) */
static int export_flow(struct exporter *x, const struct nacct_flow *f, __u64 now, __u32 slot,
		       int force)
{
	struct xstate base;
	int d, err;

	base_of(x, f, &base);
	for (d = 0; d < NACCT_DIR_MAX; d++) {
		__u64 start = base.rec_start[d] ? base.rec_start[d] : f->val.first_seen;

		if (f->val.packets[d] <= base.packets[d])
			continue;
		if (!force && now - start < x->active_ns)
			continue;
		err = add_record(x, f, &base, d, start, now, slot);
		if (err)
			return err;
	}
	return 0;
}

/* an expired flow's final values, merged like every other (lib/fields.c) */
static void slot_flow(struct exporter *x, struct xslot *s, struct nacct_flow *f)
{
	f->key = s->key;
	nacct_flow_merge(&f->val, s->vals, nacct_ncpus());
}

/* expired flows whose last delta is committed: forget them */
static void finalize_slots(struct exporter *x)
{
	struct nacct_flow f;
	struct xstate base;
	__u32 i;
	int d, done;

	for (i = 0; i < XP_SLOTS; i++) {
		struct xslot *s = slot_at(x, i);

		if (s->state != XP_DELETED)
			continue;
		slot_flow(x, s, &f);
		base_of(x, &f, &base);
		for (d = 0, done = 1; d < NACCT_DIR_MAX; d++)
			if (f.val.packets[d] > base.packets[d])
				done = 0;
		if (!done)
			continue;
		/* only this incarnation's entry: a new one keeps its own */
		if (bpf_map_lookup_elem(x->xmap, &f.key, &base) == 0 &&
		    base.first_seen == f.val.first_seen)
			bpf_map_delete_elem(x->xmap, &f.key);
		memset(s, 0, x->slot_size);
		x->flows_expired++;
	}
}

static int export_slots(struct exporter *x, __u64 now)
{
	struct nacct_flow f;
	__u32 i;
	int err;

	for (i = 0; i < XP_SLOTS; i++) {
		struct xslot *s = slot_at(x, i);

		if (s->state != XP_DELETED)
			continue;
		slot_flow(x, s, &f);
		err = export_flow(x, &f, now, i + 1, 1);
		if (err)
			return err;
	}
	return 0;
}

static int find_free_slot(struct exporter *x, __u32 *from)
{
	for (; *from < XP_SLOTS; (*from)++)
		if (slot_at(x, *from)->state == XP_FREE)
			return (int)(*from)++;
	return -1;
}

/* remove an idle flow; its final counters land in the pinned slot */
static int expire(struct exporter *x, struct nacct_flow *f, int idx)
{
	struct xslot *s = slot_at(x, idx);

	memset(s, 0, x->slot_size);
	s->key = f->key;
	__atomic_store_n(&s->state, XP_DELETING, __ATOMIC_SEQ_CST);
	if (bpf_map_lookup_and_delete_elem(x->m.flows, &f->key, s->vals)) {
		int err = -errno;

		memset(s, 0, x->slot_size);
		return err == -ENOENT ? 0 : err;
	}
	__atomic_store_n(&s->state, XP_DELETED, __ATOMIC_SEQ_CST);
	return 1;
}

static int slot_has_key(struct exporter *x, const struct nacct_flow_key *k)
{
	__u32 i;

	for (i = 0; i < XP_SLOTS; i++) {
		struct xslot *s = slot_at(x, i);

		if (s->state != XP_FREE && !memcmp(&s->key, k, sizeof(*k)))
			return 1;
	}
	return 0;
}

/* the counters that are not flows, as options records / JSON lines */
static int export_stats(struct exporter *x, const struct nacct_stats *st, size_t n_flows,
			int force)
{
	__u32 maxf = x->m.meta_val.max_flows;
	double fill = maxf ? (double)n_flows / maxf : 0;
	struct nacct_totals t = { .st = *st };
	__u64 ovf = st->overflow_packets[0] + st->overflow_packets[1];
	int d, err, changed = !x->have_last_st || force ||
			      memcmp(st, &x->last_st, sizeof(*st)) != 0;

	/* map pressure is never silent */
	if (x->have_last_st) {
		__u64 ovf0 = x->last_st.overflow_packets[0] + x->last_st.overflow_packets[1];

		if (ovf > ovf0)
			pr_warn("export: %s: flow map full, %llu packets went to the overflow "
				"bucket since the last round (%zu of %u flows)\n",
				x->ifname, (unsigned long long)(ovf - ovf0), n_flows, maxf);
	}
	if (fill >= 0.8 && !x->fill_warned) {
		pr_warn("export: %s: flow map %.0f%% full (%zu of %u)\n", x->ifname, fill * 100,
			n_flows, maxf);
		x->fill_warned = 1;
	} else if (fill < 0.7) {
		x->fill_warned = 0;
	}
	if (!changed)
		return 0;
	x->last_st = *st;
	x->have_last_st = 1;
	nacct_totals_derive(&t);
	for (d = 0; d < NACCT_DIR_MAX; d++) {
		__u64 obs = wall_ms();
		size_t k;

		if (x->json) {
			/* the per-direction interface totals of the table */
			nacct_obuf_str(&x->jbuf, "{\"type\":\"stats\",\"ifname\":");
			nacct_obuf_json_str(&x->jbuf, x->ifname);
			nacct_obuf_printf(&x->jbuf, ",\"direction\":\"%s\",\"time_ms\":%llu",
					  d ? "tx" : "rx", (unsigned long long)obs);
			for (k = 0; k < nacct_total_nfields; k++) {
				const struct nacct_total_field *f = &nacct_total_fields[k];

				if (!(f->out & NACCT_TOUT_STATUS) || !f->per_dir || f->need_flows)
					continue;
				nacct_obuf_printf(&x->jbuf, ",\"%s\":", f->name);
				nacct_obuf_u64(&x->jbuf, nacct_total_get(f, &t, d));
			}
			nacct_obuf_printf(&x->jbuf, ",\"flows\":%zu,\"max_flows\":%u,\"fill\":%.6f}\n",
					  n_flows, maxf, fill);
			if (x->jbuf.err)
				return x->jbuf.err;
			x->jrecords++;
			continue;
		}
		err = nacct_ipfix_add_stats(x->ix, &t, x->m.meta_val.ifindex, d, obs);
		if (err == -ENOSPC) {
			err = flush_msg(x);
			if (!err)
				err = nacct_ipfix_add_stats(x->ix, &t, x->m.meta_val.ifindex, d, obs);
		}
		if (err)
			return err;
	}
	return 0;
}

/* drop nacct_export entries of flows that are neither live nor pending */
static void gc_state(struct exporter *x, const struct nacct_flow *fl, size_t n)
{
	struct nacct_flow_key key, next, *prev = NULL;
	struct nacct_flow_key *dead = NULL;
	size_t n_dead = 0, cap = 0, i;

	while (bpf_map_get_next_key(x->xmap, prev, &next) == 0) {
		key = next;
		prev = &key;
		if (bsearch(&key, fl, n, sizeof(*fl), cmp_key) || slot_has_key(x, &key))
			continue;
		if (n_dead == cap) {
			struct nacct_flow_key *t;

			cap = cap ? cap * 2 : 64;
			t = realloc(dead, cap * sizeof(*t));
			if (!t)
				break;
			dead = t;
		}
		dead[n_dead++] = key;
	}
	for (i = 0; i < n_dead; i++)
		bpf_map_delete_elem(x->xmap, &dead[i]);
	free(dead);
}

/* one round: expire, split, export; final: export every delta now */
static int round_once(struct exporter *x, int final)
{
	struct nacct_flow *fl = NULL;
	struct nacct_stats st;
	size_t n = 0, i;
	__u64 now = mono_coarse_ns();
	__u32 next_slot = 0;
	int err;

	load_local(x);
	if (x->json) {
		nacct_probe_view_free(&x->pv);
		x->have_pv = nacct_probe_view_load(&x->pv) == 0;
		if (x->have_pv)
			nacct_probe_view_since(&x->pv, x->m.meta_val.attached_at);
	}
	err = nacct_dump_flows(x->m.flows, &fl, &n);
	if (err)
		return err;
	qsort(fl, n, sizeof(*fl), cmp_key);

	/* expired flows from an earlier round (or before a restart) first */
	err = export_slots(x, now);
	if (!err)
		err = flush_msg(x);
	if (err)
		goto out;
	finalize_slots(x);

	for (i = 0; i < n && !err; i++) {
		struct nacct_flow *f = &fl[i];

		/* a flow whose previous incarnation is still pending waits */
		if (slot_has_key(x, &f->key))
			continue;
		if (!final && now > f->val.last_seen && now - f->val.last_seen >= x->idle_ns) {
			int idx = find_free_slot(x, &next_slot);

			if (idx < 0) {
				/* slots full: send what they hold, then go on */
				err = export_slots(x, now);
				if (!err)
					err = flush_msg(x);
				if (err)
					break;
				finalize_slots(x);
				next_slot = 0;
				idx = find_free_slot(x, &next_slot);
				if (idx < 0)
					continue;
			}
			err = expire(x, f, idx);
			if (err < 0) {
				pr_warn("export: cannot remove an idle flow: %s\n", strerror(-err));
				err = 0;
			} else {
				err = 0;
			}
			continue;
		}
		err = export_flow(x, f, now, 0, final);
	}
	if (!err)
		err = export_slots(x, now);
	if (!err && nacct_read_stats(x->m.stats, &st) == 0)
		err = export_stats(x, &st, n, final);
	if (!err)
		err = flush_msg(x);
	if (!err) {
		finalize_slots(x);
		gc_state(x, fl, n);
	}
out:
	free(fl);
	return err;
}

int cmd_export(struct export_opts *cfg)
{
	struct exporter x;
	struct sigaction sa;
	char lock[512], name[128];
	int err, ret = NACCT_EXIT_FAIL;

	memset(&x, 0, sizeof(x));
	x.cfg = cfg;
	x.ifname = cfg->a.argv[0];
	x.sock = x.lock_fd = x.xmap = x.jmap = x.pmap = -1;
	x.m.flows = -1;
	x.json = cfg->json;
	x.tcp = cfg->transport == 1;
	if (!x.json && !cfg->ipfix)
		return nacct_usage_error("export: give --ipfix HOST:PORT or --json");
	if (x.json && cfg->ipfix)
		return nacct_usage_error("export: --ipfix and --json exclude each other");
	if (cfg->ipfix && parse_hostport(cfg->ipfix, &x.peer, &x.peer_len, x.tcp))
		return nacct_usage_error("export: --ipfix %s: expected HOST:PORT", cfg->ipfix);
	x.idle_ns = cfg->idle_timeout * 1000000000ULL;
	x.active_ns = cfg->active_timeout * 1000000000ULL;
	err = nacct_need_bpf();
	if (err)
		return err;
	err = nacct_iface_open(x.ifname, &x.m);
	if (err == -ENOENT)
		return nacct_usage_error("%s is not attached", x.ifname);
	if (err == -EPROTO)
		return nacct_usage_error("%s: pinned maps were made by an incompatible nacct build; "
					 "detach and attach again", x.ifname);
	if (err) {
		pr_warn("%s: cannot open pinned maps: %s\n", x.ifname, strerror(-err));
		return NACCT_EXIT_FAIL;
	}
	/* one exporter per attachment: the state maps are its alone */
	mkdir("/run/nacct", 0755);
	nacct_pin_name(x.ifname, name, sizeof(name));
	snprintf(lock, sizeof(lock), "/run/nacct/export.%s.lock", name);
	x.lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (x.lock_fd < 0 || flock(x.lock_fd, LOCK_EX | LOCK_NB)) {
		if (errno == EWOULDBLOCK)
			ret = nacct_usage_error("%s: another nacct export is running on it",
						x.ifname);
		else
			pr_warn("%s: %s\n", lock, strerror(errno));
		goto out;
	}
	err = open_state(&x);
	if (err) {
		pr_warn("%s: cannot open the export state maps: %s\n", x.ifname, strerror(-err));
		goto out;
	}
	recover(&x);
	if (!x.json) {
		err = nacct_ipfix_open(&x.ix, (__u32)cfg->obs_domain, x.tcp ? 32768 : 1400);
		if (err) {
			pr_warn("export: cannot set up IPFIX: %s\n", strerror(-err));
			goto out;
		}
		err = sock_open(&x);
		if (err)
			pr_warn("export: cannot reach %s: %s (retrying every second)\n", cfg->ipfix,
				strerror(-err));
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	pr_info("export: %s -> %s (%s), idle %llus, active %llus, domain %llu\n", x.ifname,
		x.json ? "stdout" : cfg->ipfix, x.json ? "json" : nacct_transport_names[x.tcp],
		(unsigned long long)(x.idle_ns / 1000000000ULL),
		(unsigned long long)(x.active_ns / 1000000000ULL),
		(unsigned long long)cfg->obs_domain);

	while (!g_stop) {
		err = round_once(&x, 0);
		if (err && err != -ENOENT)
			pr_warn("export: round failed: %s\n", strerror(-err));
		if (!x.json && !x.tcp && x.sock >= 0 &&
		    time(NULL) - x.templates_at >= TEMPLATE_REFRESH_S) {
			/* template refresh over UDP (RFC 7011 8.4) */
			if (send_templates(&x))
				sock_close(&x);
		}
		if (x.json)
			fflush(stdout);
		if (!g_stop)
			poll(NULL, 0, TICK_MS);
	}
	/* SIGTERM/SIGINT: every delta out, then a clean exit */
	err = round_once(&x, 1);
	if (err) {
		pr_warn("export: final flush failed: %s\n", strerror(-err));
		goto out;
	}
	pr_info("export: %s: %llu records in %llu messages, %llu flows expired\n", x.ifname,
		(unsigned long long)x.records_sent, (unsigned long long)x.messages_sent,
		(unsigned long long)x.flows_expired);
	ret = 0;
out:
	sock_close(&x);
	nacct_ipfix_close(x.ix);
	if (x.j)
		munmap(x.j, x.j_len);
	if (x.pend)
		munmap(x.pend, x.pend_len);
	if (x.xmap >= 0)
		close(x.xmap);
	if (x.jmap >= 0)
		close(x.jmap);
	if (x.pmap >= 0)
		close(x.pmap);
	if (x.lock_fd >= 0)
		close(x.lock_fd);
	free(x.local);
	nacct_obuf_free(&x.jbuf);
	nacct_probe_view_free(&x.pv);
	nacct_iface_close(&x.m);
	return ret;
}
