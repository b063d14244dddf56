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
