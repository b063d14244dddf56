// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "obuf.h"

int nacct_obuf_reserve_slow(struct nacct_obuf *o, size_t more)
{
	size_t ncap;
	char *p;

	if (o->err)
		return o->err;
	if (o->len + more + 1 <= o->cap)
		return 0;
	ncap = o->cap ? o->cap * 2 : 65536;
	while (ncap < o->len + more + 1)
		ncap *= 2;
	p = realloc(o->p, ncap);
	if (!p)
		return o->err = -ENOMEM;
	o->p = p;
	o->cap = ncap;
	return 0;
}

void nacct_obuf_free(struct nacct_obuf *o)
{
	free(o->p);
	memset(o, 0, sizeof(*o));
}

int nacct_obuf_flush(struct nacct_obuf *o, FILE *f)
{
	int err = o->err;

	if (o->len && fwrite(o->p, 1, o->len, f) != o->len && !err)
		err = -EIO;
	o->len = 0;
	return err;
}

void nacct_obuf_u64(struct nacct_obuf *o, __u64 v)
{
	char tmp[24];
	int i = sizeof(tmp);

	do {
		tmp[--i] = '0' + v % 10;
		v /= 10;
	} while (v);
	nacct_obuf_mem(o, tmp + i, sizeof(tmp) - i);
}

void nacct_obuf_ip4(struct nacct_obuf *o, const __u8 *a)
{
	char tmp[16], *p = tmp;
	int i;

	for (i = 0; i < 4; i++) {
		unsigned int b = a[i];

		if (b >= 100)
			*p++ = '0' + b / 100;
		if (b >= 10)
			*p++ = '0' + b / 10 % 10;
		*p++ = '0' + b % 10;
		*p++ = '.';
	}
	nacct_obuf_mem(o, tmp, p - tmp - 1);
}

void nacct_obuf_milli(struct nacct_obuf *o, __u64 n)
{
	char f[4] = { '.', '0' + n / 100 % 10, '0' + n / 10 % 10, '0' + n % 10 };

	nacct_obuf_u64(o, n / 1000);
	nacct_obuf_mem(o, f, 4);
}

void nacct_obuf_printf(struct nacct_obuf *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (nacct_obuf_reserve(o, 256))
		return;
	va_start(ap, fmt);
	n = vsnprintf(o->p + o->len, o->cap - o->len, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= o->cap - o->len) {
		if (nacct_obuf_reserve(o, n))
			return;
		va_start(ap, fmt);
		vsnprintf(o->p + o->len, o->cap - o->len, fmt, ap);
		va_end(ap);
	}
	o->len += n;
}

void nacct_obuf_json_str(struct nacct_obuf *o, const char *s)
{
	const char *run = s;

	nacct_obuf_chr(o, '"');
	for (; *s; s++) {
		unsigned char c = *s;

		if (c != '"' && c != '\\' && c >= 0x20)
			continue;
		nacct_obuf_mem(o, run, s - run);
		if (c == '"' || c == '\\') {
			nacct_obuf_chr(o, '\\');
			nacct_obuf_chr(o, c);
		} else {
			nacct_obuf_printf(o, "\\u%04x", c);
		}
		run = s + 1;
	}
	nacct_obuf_mem(o, run, s - run);
	nacct_obuf_chr(o, '"');
}

void nacct_obuf_csv_str(struct nacct_obuf *o, const char *s)
{
	const char *q;

	if (!strpbrk(s, ",\"\r\n")) {
		nacct_obuf_str(o, s);
		return;
	}
	nacct_obuf_chr(o, '"');
	for (; (q = strchr(s, '"')); s = q + 1) {
		nacct_obuf_mem(o, s, q - s + 1);
		nacct_obuf_chr(o, '"');
	}
	nacct_obuf_str(o, s);
	nacct_obuf_chr(o, '"');
}

void nacct_obuf_tsv_str(struct nacct_obuf *o, const char *s)
{
	const char *q;

	for (; (q = strpbrk(s, "\\\t\n\r")); s = q + 1) {
		nacct_obuf_mem(o, s, q - s);
		nacct_obuf_chr(o, '\\');
		nacct_obuf_chr(o, *q == '\t' ? 't' : *q == '\n' ? 'n' : *q == '\r' ? 'r' : '\\');
	}
	nacct_obuf_str(o, s);
}

void nacct_obuf_pad(struct nacct_obuf *o, const char *s, int width)
{
	size_t n = strlen(s), w = width < 0 ? -(size_t)width : (size_t)width;

	if (width > 0)
		for (; n < w; w--)
			nacct_obuf_chr(o, ' ');
	nacct_obuf_mem(o, s, strlen(s));
	if (width < 0)
		for (; n < w; n++)
			nacct_obuf_chr(o, ' ');
}
