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

int nacct_obuf_reserve(struct nacct_obuf *o, size_t more);
void nacct_obuf_free(struct nacct_obuf *o);
/* write out and empty; -errno of the write */
int nacct_obuf_flush(struct nacct_obuf *o, FILE *f);

void nacct_obuf_mem(struct nacct_obuf *o, const void *s, size_t n);
void nacct_obuf_str(struct nacct_obuf *o, const char *s);
void nacct_obuf_chr(struct nacct_obuf *o, char c);
void nacct_obuf_u64(struct nacct_obuf *o, __u64 v);
void nacct_obuf_printf(struct nacct_obuf *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* "text" with JSON escapes */
void nacct_obuf_json_str(struct nacct_obuf *o, const char *s);
/* a CSV cell: quoted (RFC 4180) when it holds a comma, quote or line break */
void nacct_obuf_csv_str(struct nacct_obuf *o, const char *s);
/* text padded to |width| columns (width < 0: left aligned), never cut */
void nacct_obuf_pad(struct nacct_obuf *o, const char *s, int width);

#endif /* NACCT_OBUF_H */
