/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * A growable output buffer with the few appenders the record formatters
 * need, faster than stdio's printf for a million records: integers are
 * converted by hand, text is copied.  Out of memory sticks (o->err) and
 * later appends do nothing.
 */
#ifndef NACCT_OBUF_H
#define NACCT_OBUF_H

#include <stddef.h>
#include <stdio.h>
#include <linux/types.h>

struct nacct_obuf {
	char *p;
	size_t len, cap;
	int err; /* -ENOMEM once an append failed */
};

int nacct_obuf_reserve_slow(struct nacct_obuf *o, size_t more);

/* room for @more bytes: 0, or -ENOMEM (sticky) */
static inline int nacct_obuf_reserve(struct nacct_obuf *o, size_t more)
{
	if (o->len + more + 1 <= o->cap && !o->err)
		return 0;
	return nacct_obuf_reserve_slow(o, more);
}
void nacct_obuf_free(struct nacct_obuf *o);
/* write out and empty; -errno of the write */
int nacct_obuf_flush(struct nacct_obuf *o, FILE *f);

/* the appends keep the buffer NUL-terminated (o->p is a C string) */
static inline void nacct_obuf_mem(struct nacct_obuf *o, const void *s, size_t n)
{
	if (nacct_obuf_reserve(o, n))
		return;
	__builtin_memcpy(o->p + o->len, s, n);
	o->len += n;
	o->p[o->len] = '\0';
}

static inline void nacct_obuf_str(struct nacct_obuf *o, const char *s)
{
	nacct_obuf_mem(o, s, __builtin_strlen(s));
}

static inline void nacct_obuf_chr(struct nacct_obuf *o, char c)
{
	if (nacct_obuf_reserve(o, 1))
		return;
	o->p[o->len++] = c;
	o->p[o->len] = '\0';
}
void nacct_obuf_u64(struct nacct_obuf *o, __u64 v);
void nacct_obuf_printf(struct nacct_obuf *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* "text" with JSON escapes */
void nacct_obuf_json_str(struct nacct_obuf *o, const char *s);
/* a CSV cell: quoted (RFC 4180) when it holds a comma, quote or line break */
void nacct_obuf_csv_str(struct nacct_obuf *o, const char *s);
/* text as a TabSeparated value (ClickHouse): backslash, tab, CR and LF escaped */
void nacct_obuf_tsv_str(struct nacct_obuf *o, const char *s);
/* an IPv4 address (network order bytes) in dotted quad */
void nacct_obuf_ip4(struct nacct_obuf *o, const __u8 *a);
/* n / 1000 with three decimals ("12.345"), without floating point */
void nacct_obuf_milli(struct nacct_obuf *o, __u64 n);
/* text padded to |width| columns (width < 0: left aligned), never cut */
void nacct_obuf_pad(struct nacct_obuf *o, const char *s, int width);

#endif /* NACCT_OBUF_H */
