// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Output helpers shared by the listing commands. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "nacct.h"

void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = *s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

const char *nacct_proto_name(__u8 proto, char *buf, size_t len)
{
	switch (proto) {
	case 1: return "icmp";
	case 6: return "tcp";
	case 17: return "udp";
	case 58: return "icmp6";
	case 132: return "sctp";
	case 136: return "udplite";
	case 47: return "gre";
	case 50: return "esp";
	case 51: return "ah";
	case 2: return "igmp";
	default:
		snprintf(buf, len, "%u", proto);
		return buf;
	}
}

const char *nacct_rfc3339(__u64 wall_ns, char *buf, size_t len)
{
	/* flows of one dump share a few seconds: format each second once */
	static time_t last_sec = -1;
	static char base[32];
	time_t sec = wall_ns / 1000000000ULL;

	if (!wall_ns) {
		buf[0] = '\0';
		return buf;
	}
	if (sec != last_sec) {
		struct tm tm;

		gmtime_r(&sec, &tm);
		strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
		last_sec = sec;
	}
	snprintf(buf, len, "%s.%03lluZ", base, (unsigned long long)(wall_ns % 1000000000ULL) / 1000000);
	return buf;
}

const char *nacct_tcp_flags_str(__u8 flags, char *buf, size_t len)
{
	static const char names[] = "FSRPAUEC";
	size_t n = 0;
	int i;

	for (i = 0; i < 8 && n + 1 < len; i++)
		if (flags & (1 << i))
			buf[n++] = names[i];
	buf[n] = '\0';
	return buf;
}

/*
 * Human units: 1000-based (k, M, G, T) for rates and counts, three
 * significant digits ("999", "1.23k", "12.3M", "123G").
 */
const char *nacct_human(double v, char *buf, size_t len)
{
	static const char units[] = " kMGTPE";
	int u = 0;

	while (v >= 999.5 && u < 6) {
		v /= 1000;
		u++;
	}
	if (!u)
		snprintf(buf, len, "%.0f", v);
	else
		snprintf(buf, len, "%.*f%c", v < 9.995 ? 2 : v < 99.95 ? 1 : 0, v, units[u]);
	return buf;
}

/* a rate with its unit: "1.23 Mb/s", "12.0 kp/s" */
const char *nacct_human_rate(double v, const char *unit, char *buf, size_t len)
{
	char num[16];

	nacct_human(v, num, sizeof(num));
	if (num[0] && (num[strlen(num) - 1] < '0' || num[strlen(num) - 1] > '9')) {
		char u = num[strlen(num) - 1];

		num[strlen(num) - 1] = '\0';
		snprintf(buf, len, "%s %c%s", num, u, unit);
	} else {
		snprintf(buf, len, "%s %s", num, unit);
	}
	return buf;
}

/* colour only on a terminal, and never when NO_COLOR is set (no-color.org) */
int nacct_use_color(int fd)
{
	const char *nc = getenv("NO_COLOR"), *term = getenv("TERM");

	if (nc && nc[0])
		return 0;
	if (term && !strcmp(term, "dumb"))
		return 0;
	return isatty(fd);
}
