// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The in-memory store of the exporter tests (tests/check/memstore.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "memstore.h"

static struct memstore *ms(struct nacct_xstore *s)
{
	return (struct memstore *)s;
}

static struct mflow *find(struct memstore *m, const struct nacct_flow_key *k)
{
	size_t i;

	for (i = m->n; i-- > 0;)
		if (m->f[i].live && !memcmp(&m->f[i].key, k, sizeof(*k)))
			return &m->f[i];
	return NULL;
}

static int ms_scan(struct nacct_xstore *s, int restart, const struct nacct_flow **out,
		   size_t *n)
{
	struct memstore *m = ms(s);
	size_t k = 0;

	if (restart || m->at_end) {
		m->cursor = 0;
		m->at_end = 0;
	}
	while (m->cursor < m->n && k < m->chunk) {
		const struct mflow *f = &m->f[m->cursor++];

		if (!f->live)
			continue;
		m->out[k].key = f->key;
		nacct_flow_merge(&m->out[k].val, f->pc, s->ncpu);
		k++;
	}
	*out = m->out;
	*n = k;
	if (m->cursor >= m->n) {
		m->at_end = 1;
		return 1;
	}
	return 0;
}

static int ms_take(struct nacct_xstore *s, const struct nacct_flow_key *k,
		   struct nacct_flow_val *vals)
{
	struct memstore *m = ms(s);
	struct mflow *f;
	int err = -ENOENT;

	if (m->atomic_begin)
		m->atomic_begin();
	f = find(m, k);
	if (f) {
		memcpy(vals, f->pc, sizeof(f->pc[0]) * s->ncpu);
		f->live = 0;
		m->live--;
		m->takes++;
		err = 0;
	}
	if (m->atomic_end)
		m->atomic_end();
	return err;
}

static int ms_totals(struct nacct_xstore *s, struct nacct_stats *st)
{
	*st = ms(s)->st;
	return 0;
}

static const struct nacct_xstore_ops ms_ops = {
	.scan = ms_scan,
	.take = ms_take,
	.totals = ms_totals,
};

size_t ms_mem_size(size_t cap, size_t chunk)
{
	return cap * sizeof(struct mflow) + chunk * sizeof(struct nacct_flow);
}

int ms_init(struct memstore *m, int ncpu, size_t cap, size_t chunk, void *mem)
{
	if (ncpu > MS_MAXCPU)
		return -EINVAL;
	memset(m, 0, sizeof(*m));
	m->base.ops = &ms_ops;
	m->base.ncpu = ncpu;
	if (!mem)
		mem = calloc(1, ms_mem_size(cap, chunk));
	if (!mem)
		return -ENOMEM;
	m->f = mem;
	m->out = (struct nacct_flow *)((char *)mem + cap * sizeof(struct mflow));
	m->cap = m->max_live = cap;
	m->chunk = chunk;
	return 0;
}

void ms_key4(struct nacct_flow_key *k, __u8 proto, __u32 lo, __u16 lo_port, __u32 hi,
	     __u16 hi_port)
{
	__u32 a = htonl(lo), b = htonl(hi);

	memset(k, 0, sizeof(*k));
	k->lo_addr[10] = k->lo_addr[11] = 0xff;
	k->hi_addr[10] = k->hi_addr[11] = 0xff;
	memcpy(k->lo_addr + 12, &a, 4);
	memcpy(k->hi_addr + 12, &b, 4);
	k->lo_port = htons(lo_port);
	k->hi_port = htons(hi_port);
	k->proto = proto;
	k->family = NACCT_AF_INET;
}

void ms_key6(struct nacct_flow_key *k, __u8 proto, const __u8 lo[16], __u16 lo_port,
	     const __u8 hi[16], __u16 hi_port)
{
	memset(k, 0, sizeof(*k));
	memcpy(k->lo_addr, lo, 16);
	memcpy(k->hi_addr, hi, 16);
	k->lo_port = htons(lo_port);
	k->hi_port = htons(hi_port);
	k->proto = proto;
	k->family = NACCT_AF_INET6;
}

/* maps/account.bpf.h, nacct_account_dir(), for one packet */
void ms_packet(struct memstore *m, const struct nacct_flow_key *k, int cpu, int edir, int dir,
	       __u32 bytes, __u8 tcp_flags)
{
	struct nacct_flow_val *v;
	struct mflow *f;

	if (m->atomic_begin)
		m->atomic_begin();
	m->st.packets[dir]++;
	m->st.bytes[dir] += bytes;
	f = find(m, k);
	if (!f) {
		if (m->live >= m->max_live || m->n >= m->cap) {
			m->st.overflow_packets[dir]++;
			m->st.overflow_bytes[dir] += bytes;
			goto out;
		}
		f = &m->f[m->n++];
		memset(f, 0, sizeof(*f));
		f->key = *k;
		f->live = 1;
		m->live++;
	}
	v = &f->pc[cpu];
	if (!v->first_seen) {
		/* the precise clock, per CPU */
		v->first_seen = m->now + 1 + cpu;
		v->first_dir = edir;
		v->subnet_lo = 10 + cpu;
		v->subnet_hi = 20 + cpu;
	}
	v->packets[dir]++;
	v->bytes[dir] += bytes;
	v->last_seen = m->now / MS_JIFFY * MS_JIFFY;
	v->tcp_flags[dir] |= tcp_flags;
	v->seen_dirs |= 1 << edir;
	if (k->proto == 6 && (tcp_flags & 0x12) == 0x02)
		v->syn_dir = edir + 1;
out:
	if (m->atomic_end)
		m->atomic_end();
}

void ms_live(const struct memstore *m, __u64 packets[2], __u64 bytes[2], __u64 *flows)
{
	size_t i;
	int c, d;

	packets[0] = packets[1] = bytes[0] = bytes[1] = 0;
	*flows = 0;
	for (i = 0; i < m->n; i++) {
		if (!m->f[i].live)
			continue;
		(*flows)++;
		for (c = 0; c < m->base.ncpu; c++)
			for (d = 0; d < 2; d++) {
				packets[d] += m->f[i].pc[c].packets[d];
				bytes[d] += m->f[i].pc[c].bytes[d];
			}
	}
}
