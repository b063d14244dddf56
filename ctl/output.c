// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Output helpers shared by the listing commands. */
#include <stdio.h>
#include <string.h>
#include <time.h>

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
	time_t sec = wall_ns / 1000000000ULL;
	struct tm tm;
	char base[32];

	if (!wall_ns) {
		buf[0] = '\0';
		return buf;
	}
	gmtime_r(&sec, &tm);
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
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
