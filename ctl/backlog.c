// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * nacct backlog (bcc tcpsynbl, plus listen drops): per listener of the
 * network namespace nacct runs in (as ss and nstat see it), per interval:
 * a log2 histogram of the accept queue each new connection found, its
 * limit, the queue now, the process that called listen(), the listener's
 * drops (its sk_drops, which tcp_listendrop() feeds: every listen overflow
 * and listen drop) and the kernel's drop reasons of the packets freed at
 * it.  Loads probes/nacct_backlog.bpf.c for the duration of the run
 * (nothing pinned); the comment there says which hook gives what.
 */
#include <dirent.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "nacct.h"
#include "tools.h"
#include "../lib/log.h"
#include "nacct_backlog.skel.h"

struct bl_reason {
	__u32 reason;
	__u64 count;
};

/* one listener name (family, address, port): its sockets (SO_REUSEPORT
 * may give several) summed */
struct bl_row {
	__u8 addr[16];
	__be16 port;
	__u8 family;
	__u32 sockets; /* listening now */
	__u32 queue;   /* children waiting for accept() now, summed */
	__u32 limit;
	__u64 drops; /* sk_drops growth over the interval */
	__u32 pid;   /* 0: unknown */
	char comm[17];
	int owner_fd; /* pid/comm from a /proc fd scan, not from listen() */
	__u64 ino;    /* a socket of this name, for the /proc fd scan */
	struct nacct_backlog_val h;
	struct bl_reason *reasons;
	size_t nreasons;
};

/* a socket's sk_drops at the last read */
struct bl_prev {
	__u64 ino;
	__u64 drops;
};

struct bl_ctx {
	const struct backlog_opts *o;
	struct nacct_backlog *skel;
	int ncpu;
	struct bl_prev *prev;
	size_t nprev;
	struct bl_row *rows;
	size_t nrows, caprows;
};

static struct bl_row *row_of(struct bl_ctx *c, const __u8 *addr, __be16 port, __u8 family)
{
	struct bl_row *r;
	size_t i;

	for (i = 0; i < c->nrows; i++) {
		r = &c->rows[i];
		if (r->port == port && r->family == family && !memcmp(r->addr, addr, 16))
			return r;
	}
	if (c->nrows == c->caprows) {
		void *t = realloc(c->rows, (c->caprows = c->caprows ? c->caprows * 2 : 16) *
						   sizeof(*c->rows));

		if (!t)
			return NULL;
		c->rows = t;
	}
	r = &c->rows[c->nrows++];
	memset(r, 0, sizeof(*r));
	memcpy(r->addr, addr, 16);
	r->port = port;
	r->family = family;
	return r;
}

static void rows_free(struct bl_ctx *c)
{
	size_t i;

	for (i = 0; i < c->nrows; i++)
		free(c->rows[i].reasons);
	c->nrows = 0;
}

/* the listeners of this namespace now (iter/tcp) */
static int read_socks(struct bl_ctx *c, struct nacct_backlog_sock **out, size_t *n)
{
	size_t cap = 64 * sizeof(**out), len = 0;
	char *buf = malloc(cap);
	int fd, err = 0;
	ssize_t r;

	*out = NULL;
	*n = 0;
	if (!buf)
		return -ENOMEM;
	fd = bpf_iter_create(bpf_link__fd(c->skel->links.nacct_backlog_iter));
	if (fd < 0) {
		free(buf);
		return -errno;
	}
	for (;;) {
		if (len == cap) {
			char *t = realloc(buf, cap *= 2);

			if (!t) {
				err = -ENOMEM;
				break;
			}
			buf = t;
		}
		r = read(fd, buf + len, cap - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			err = -errno;
			break;
		}
		if (!r)
			break;
		len += r;
	}
	close(fd);
	if (!err && len % sizeof(**out))
		err = -EPROTO;
	if (err) {
		free(buf);
		return err;
	}
	*out = (struct nacct_backlog_sock *)buf;
	*n = len / sizeof(**out);
	return 0;
}

static const struct bl_prev *prev_of(const struct bl_ctx *c, __u64 ino)
{
	size_t i;

	for (i = 0; i < c->nprev; i++)
		if (c->prev[i].ino == ino)
			return &c->prev[i];
	return NULL;
}

/* sk_drops growth since the last read; a socket not seen then is newer
 * than that read and started at 0 */
static __u64 drops_since(const struct bl_ctx *c, const struct nacct_backlog_sock *s)
{
	const struct bl_prev *p = s->ino ? prev_of(c, s->ino) : NULL;

	return p && s->drops >= p->drops ? s->drops - p->drops : s->drops;
}

static void add_sock(struct bl_ctx *c, const struct nacct_backlog_sock *s, int listening)
{
	int fd = bpf_map__fd(c->skel->maps.nacct_backlog_owner);
	struct nacct_backlog_owner ow;
	struct bl_row *r = row_of(c, s->addr, s->port, s->family);

	if (!r)
		return;
	r->drops += drops_since(c, s);
	if (listening) {
		r->sockets++;
		r->queue += s->queue;
	}
	if (s->limit > r->limit)
		r->limit = s->limit;
	if (listening && !r->ino)
		r->ino = s->ino;
	if (!r->pid && s->ino && !bpf_map_lookup_elem(fd, &s->ino, &ow)) {
		r->pid = ow.pid;
		memcpy(r->comm, ow.comm, sizeof(ow.comm));
		r->comm[16] = '\0';
	}
}

/* listeners closed since the last read (their last sk_drops), taken out */
static int take_closed(struct bl_ctx *c, struct nacct_backlog_sock **out, size_t *n)
{
	int fd = bpf_map__fd(c->skel->maps.nacct_backlog_closed);
	__u64 *keys = NULL, k, next;
	size_t nk = 0, cap = 0, i;
	int first = 1;

	*out = NULL;
	*n = 0;
	while (!bpf_map_get_next_key(fd, first ? NULL : &k, &next)) {
		first = 0;
		k = next;
		if (nk == cap) {
			void *t = realloc(keys, (cap = cap ? cap * 2 : 16) * sizeof(*keys));

			if (!t) {
				free(keys);
				return -ENOMEM;
			}
			keys = t;
		}
		keys[nk++] = k;
	}
	*out = calloc(nk ? nk : 1, sizeof(**out));
	if (!*out) {
		free(keys);
		return -ENOMEM;
	}
	for (i = 0; i < nk; i++) {
		if (bpf_map_lookup_elem(fd, &keys[i], &(*out)[*n]))
			continue;
		bpf_map_delete_elem(fd, &keys[i]);
		(*n)++;
	}
	free(keys);
	return 0;
}

static void merge_hist(void *dst, const void *src)
{
	struct nacct_backlog_val *d = dst;
	const struct nacct_backlog_val *s = src;
	int i;

	d->count += s->count;
	if (s->max > d->max)
		d->max = s->max;
	for (i = 0; i < NACCT_LOG2_SLOTS; i++)
		d->hist[i] += s->hist[i];
}

/* one interval: generation g of the histograms and reasons, the sockets */
static int collect(struct bl_ctx *c, __u8 g)
{
	struct nacct_backlog_sock *socks = NULL, *closed = NULL;
	struct nacct_backlog_key *hk = NULL;
	struct nacct_backlog_val *hv = NULL;
	struct nacct_backlog_rkey *rk = NULL;
	__u64 *rv = NULL;
	size_t ns = 0, nc = 0, nh = 0, nr = 0, i, j;
	struct bl_prev *np = NULL;
	int err;

	rows_free(c);
	err = nacct_tool_take_gen(bpf_map__fd(c->skel->maps.nacct_backlog_hist), sizeof(*hk),
				  sizeof(*hv), offsetof(struct nacct_backlog_key, gen), g, c->ncpu,
				  merge_hist, (void **)&hk, (void **)&hv, &nh);
	if (!err)
		err = nacct_tool_take_gen(bpf_map__fd(c->skel->maps.nacct_backlog_reasons),
					  sizeof(*rk), sizeof(*rv),
					  offsetof(struct nacct_backlog_rkey, gen), g, 0, NULL,
					  (void **)&rk, (void **)&rv, &nr);
	/* closed first: a listener that closes between the two reads is
	 * then still in the iterator's output and in the next closed set,
	 * which finds this read's count as its base */
	if (!err)
		err = take_closed(c, &closed, &nc);
	if (!err)
		err = read_socks(c, &socks, &ns);
	if (err)
		goto out;
	for (i = 0; i < nc; i++)
		add_sock(c, &closed[i], 0);
	np = calloc(ns ? ns : 1, sizeof(*np));
	if (!np) {
		err = -ENOMEM;
		goto out;
	}
	for (i = 0; i < ns; i++) {
		/* the close tracepoint fires just before the state changes */
		for (j = 0; j < nc; j++)
			if (socks[i].ino && closed[j].ino == socks[i].ino)
				break;
		if (j < nc)
			continue;
		add_sock(c, &socks[i], 1);
	}
	for (i = 0; i < ns; i++) {
		np[i].ino = socks[i].ino;
		np[i].drops = socks[i].drops;
	}
	free(c->prev);
	c->prev = np;
	c->nprev = ns;
	for (i = 0; i < nh; i++) {
		struct bl_row *r = row_of(c, hk[i].addr, hk[i].port, hk[i].family);

		if (!r)
			continue;
		merge_hist(&r->h, &hv[i]);
		if (!r->sockets && hk[i].limit > r->limit)
			r->limit = hk[i].limit;
	}
	for (i = 0; i < nr; i++) {
		struct bl_row *r = row_of(c, rk[i].addr, rk[i].port, rk[i].family);
		void *t;

		if (!r)
			continue;
		t = realloc(r->reasons, (r->nreasons + 1) * sizeof(*r->reasons));
		if (!t)
			continue;
		r->reasons = t;
		r->reasons[r->nreasons].reason = rk[i].reason;
		r->reasons[r->nreasons++].count = rv[i];
	}
out:
	free(socks);
	free(closed);
	free(hk);
	free(hv);
	free(rk);
	free(rv);
	return err;
}

/*
 * A listener that listened before nacct started has no recorded listen()
 * caller: name the process holding its socket instead (/proc/PID/fd), as
 * ss -p does.  Only for shown rows still listening without an owner.
 */
static void owner_scan(struct bl_ctx *c)
{
	char path[600];
	struct dirent *p, *f;
	DIR *proc, *fds;
	size_t i, want = 0;

	for (i = 0; i < c->nrows; i++)
		if (!c->rows[i].pid && c->rows[i].ino)
			want++;
	if (!want || !(proc = opendir("/proc")))
		return;
	while (want && (p = readdir(proc))) {
		if (p->d_name[0] < '1' || p->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/fd", p->d_name);
		fds = opendir(path);
		if (!fds)
			continue;
		while (want && (f = readdir(fds))) {
			unsigned long long ino;

			if (f->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "/proc/%s/fd/%s", p->d_name, f->d_name);
			if (!nacct_fd_socket_ino(path, &ino))
				continue;
			for (i = 0; i < c->nrows; i++) {
				struct bl_row *r = &c->rows[i];
				FILE *cf;

				if (r->pid || r->ino != ino)
					continue;
				r->pid = strtoul(p->d_name, NULL, 10);
				r->owner_fd = 1;
				snprintf(path, sizeof(path), "/proc/%s/comm", p->d_name);
				cf = fopen(path, "r");
				if (cf) {
					if (fgets(r->comm, sizeof(r->comm), cf))
						r->comm[strcspn(r->comm, "\n")] = '\0';
					fclose(cf);
				}
				want--;
			}
		}
		closedir(fds);
	}
	closedir(proc);
}

static int cmp_row(const void *a, const void *b)
{
	const struct bl_row *x = a, *y = b;

	if (x->family != y->family)
		return x->family - y->family;
	if (x->port != y->port)
		return ntohs(x->port) - ntohs(y->port);
	return memcmp(x->addr, y->addr, 16);
}

static int cmp_reason(const void *a, const void *b)
{
	const struct bl_reason *x = a, *y = b;

	return x->reason < y->reason ? -1 : x->reason > y->reason;
}

static const char *listener_str(const struct bl_row *r, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	nacct_addr_str(r->addr, r->family, a, sizeof(a));
	snprintf(buf, len, r->family == NACCT_AF_INET6 ? "[%s]:%u" : "%s:%u", a, ntohs(r->port));
	return buf;
}

static void print_row_json(const struct bl_row *r, const char *rfc, __u64 seq, double secs)
{
	char a[INET6_ADDRSTRLEN], rb[64];
	size_t i;

	printf("{\"time\":\"%s\",\"seq\":%llu,\"interval_s\":%.3f,\"family\":\"%s\",\"addr\":\"%s\","
	       "\"port\":%u,",
	       rfc, (unsigned long long)seq, secs, r->family == NACCT_AF_INET ? "ipv4" : "ipv6",
	       nacct_addr_str(r->addr, r->family, a, sizeof(a)), ntohs(r->port));
	if (r->pid) {
		printf("\"pid\":%u,\"comm\":", r->pid);
		json_str(stdout, r->comm);
		printf(",\"owner\":\"%s\"", r->owner_fd ? "fd" : "listen");
	} else {
		printf("\"pid\":null,\"comm\":null,\"owner\":null");
	}
	printf(",\"sockets\":%u,\"limit\":%u,\"queue\":%u,\"count\":%llu,\"max\":%llu,"
	       "\"drops\":%llu,\"reasons\":{",
	       r->sockets, r->limit, r->queue, (unsigned long long)r->h.count,
	       (unsigned long long)r->h.max, (unsigned long long)r->drops);
	for (i = 0; i < r->nreasons; i++) {
		printf("%s", i ? "," : "");
		json_str(stdout, nacct_drop_reason_name(r->reasons[i].reason, rb, sizeof(rb)));
		printf(":%llu", (unsigned long long)r->reasons[i].count);
	}
	putchar('}');
	nacct_hist_json(stdout, "hist", r->h.hist);
	puts("}");
}

static void print_row_text(const struct bl_row *r)
{
	char l[80], rb[64];
	size_t i;

	printf("\nlistener %s", listener_str(r, l, sizeof(l)));
	if (r->pid)
		printf(" pid %u (%s)%s", r->pid, r->comm, r->owner_fd ? " [fd holder]" : "");
	if (r->sockets)
		printf(": limit %u, queue %u%s", r->limit, r->queue,
		       r->sockets > 1 ? " (reuseport sockets summed)" : "");
	else
		printf(": limit %u, closed", r->limit);
	printf("\nnew connections %llu, backlog max %llu, drops %llu\n",
	       (unsigned long long)r->h.count, (unsigned long long)r->h.max,
	       (unsigned long long)r->drops);
	if (r->nreasons) {
		printf("drop reasons:");
		for (i = 0; i < r->nreasons; i++)
			printf(" %s %llu", nacct_drop_reason_name(r->reasons[i].reason, rb, sizeof(rb)),
			       (unsigned long long)r->reasons[i].count);
		putchar('\n');
	}
	nacct_hist_print(stdout, r->h.hist, "backlog");
}

static void print_rows(struct bl_ctx *c, double secs, __u64 seq)
{
	const struct backlog_opts *o = c->o;
	char hms[16], rfc[48];
	size_t i, shown = 0;

	qsort(c->rows, c->nrows, sizeof(*c->rows), cmp_row);
	for (i = 0; i < c->nrows; i++)
		if (!o->all && !c->rows[i].h.count && !c->rows[i].drops && !c->rows[i].nreasons)
			c->rows[i].ino = 0; /* not shown: no owner needed */
	owner_scan(c);
	nacct_tool_now(hms, sizeof(hms), rfc, sizeof(rfc));
	if (!o->json)
		printf("\n%s\n", hms);
	for (i = 0; i < c->nrows; i++) {
		struct bl_row *r = &c->rows[i];

		if (!o->all && !r->h.count && !r->drops && !r->nreasons)
			continue;
		qsort(r->reasons, r->nreasons, sizeof(*r->reasons), cmp_reason);
		shown++;
		if (o->json)
			print_row_json(r, rfc, seq, secs);
		else
			print_row_text(r);
	}
	if (!o->json && !shown)
		printf("no new connections or drops at listeners\n");
	fflush(stdout);
}

/* kfree_skb names the receiving socket (rx_sk) since 6.12: the BTF of
 * its tracepoint has five parameters (the context, skb, location,
 * reason, rx_sk) */
static int kfree_skb_has_rx_sk(void)
{
	const struct btf *btf = nacct_vmlinux_btf();
	const struct btf_type *t;
	int id;

	if (!btf)
		return 0;
	id = btf__find_by_name_kind(btf, "btf_trace_kfree_skb", BTF_KIND_TYPEDEF);
	if (id <= 0)
		return 0;
	t = btf__type_by_id(btf, id);
	t = t ? btf__type_by_id(btf, t->type) : NULL; /* the pointer */
	t = t && btf_is_ptr(t) ? btf__type_by_id(btf, t->type) : NULL;
	return t && btf_is_func_proto(t) && btf_vlen(t) == 5;
}

/* one interval's end: flip the generation, read the old one and the
 * listeners, print */
static int bl_interval(void *ctx, double secs, __u64 seq)
{
	struct bl_ctx *c = ctx;
	int err = collect(c, nacct_tool_flip_gen(&c->skel->bss->gen));

	if (err) {
		pr_warn("backlog: cannot read the listeners: %s\n", strerror(-err));
		return NACCT_EXIT_FAIL;
	}
	print_rows(c, secs, seq);
	return 0;
}

int cmd_backlog(struct backlog_opts *o)
{
	struct bl_ctx c = { .o = o };
	struct nacct_backlog_sock *socks = NULL;
	double interval;
	__u64 count;
	int err, ret = NACCT_EXIT_FAIL, rx_sk;
	struct stat st;
	size_t n, i;

	err = nacct_tool_interval("backlog", &o->a, 0, &interval, &count);
	if (err)
		return err;
	err = nacct_need_bpf();
	if (err)
		return err;
	c.ncpu = libbpf_num_possible_cpus();
	if (c.ncpu <= 0)
		return NACCT_EXIT_FAIL;
	if (stat("/proc/self/ns/net", &st)) {
		pr_warn("backlog: cannot read this network namespace: %s\n", strerror(errno));
		return NACCT_EXIT_FAIL;
	}
	c.skel = nacct_backlog__open();
	if (!c.skel) {
		pr_warn("backlog: cannot open the backlog program: %s\n", strerror(errno));
		return NACCT_EXIT_FAIL;
	}
	c.skel->rodata->f_netns = st.st_ino;
	c.skel->rodata->f_lport = o->lport;
	rx_sk = kfree_skb_has_rx_sk();
	bpf_program__set_autoload(c.skel->progs.nacct_backlog_drop, rx_sk);
	err = nacct_backlog__load(c.skel);
	if (err) {
		pr_warn("backlog: cannot load the backlog program (sock:inet_sock_set_state, "
			"iter/tcp): %s\n",
			strerror(-err));
		goto out;
	}
	err = nacct_backlog__attach(c.skel);
	if (err) {
		pr_warn("backlog: cannot attach (sock:inet_sock_set_state, iter/tcp): %s\n",
			strerror(-err));
		goto out;
	}
	if (!rx_sk)
		pr_info("backlog: this kernel's skb:kfree_skb names no receiving socket (6.12+): "
			"no drop reasons\n");
	/* the base of the drop counts: every listener now */
	err = read_socks(&c, &socks, &n);
	if (err) {
		pr_warn("backlog: cannot read the listeners (iter/tcp): %s\n", strerror(-err));
		goto out;
	}
	c.prev = calloc(n ? n : 1, sizeof(*c.prev));
	if (!c.prev)
		goto out;
	for (i = 0; i < n; i++) {
		c.prev[i].ino = socks[i].ino;
		c.prev[i].drops = socks[i].drops;
	}
	c.nprev = n;
	ret = nacct_tool_loop("Tracing listen backlogs", interval, count, NULL, bl_interval, &c);
	if (!ret && c.skel->bss->lost)
		pr_warn("backlog: %llu samples lost (map full)\n",
			(unsigned long long)c.skel->bss->lost);
out:
	rows_free(&c);
	free(c.rows);
	free(c.prev);
	free(socks);
	nacct_backlog__destroy(c.skel);
	return ret;
}
