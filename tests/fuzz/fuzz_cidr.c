// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * libFuzzer target: the CIDR parsers of ctl/util.c (one CIDR, a list, and
 * an @FILE with comments), as `--subnets` hands them user input.
 * Checks beyond "no crash, no leak, no overflow" (ASan): a parsed CIDR has
 * a known family, a prefix length in range and no host bits; a parsed list
 * has no duplicates and at most NACCT_MAX_SUBNETS entries.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../ctl/nacct.h"

static char file_path[64];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	snprintf(file_path, sizeof(file_path), "/tmp/nacct-fuzz-cidr-%d", getpid());
	return 0;
}

static void check_cidr(const struct nacct_cidr *c)
{
	int max = c->family == NACCT_AF_INET ? 32 : 128, i;

	if (c->family != NACCT_AF_INET && c->family != NACCT_AF_INET6)
		abort();
	if (c->plen > max)
		abort();
	for (i = 0; i < 16; i++) {
		int bits = (int)c->plen - i * 8;
		__u8 mask = bits >= 8 ? 0xff : bits <= 0 ? 0 : (__u8)(0xff << (8 - bits));

		/* v4 lives in the first 4 bytes here (the map key maps it later) */
		if (c->family == NACCT_AF_INET && i >= 4 && c->addr[i])
			abort();
		if (c->addr[i] & ~mask)
			abort();
	}
}

static void check_list(const struct nacct_cidr *l, size_t n)
{
	size_t i, j;

	if (n > NACCT_MAX_SUBNETS)
		abort();
	for (i = 0; i < n; i++) {
		check_cidr(&l[i]);
		for (j = 0; j < i; j++)
			if (l[i].family == l[j].family && l[i].plen == l[j].plen &&
			    !memcmp(l[i].addr, l[j].addr, 16))
				abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 2), *arg;
	struct nacct_cidrs list = { 0 };
	struct nacct_cidr c;
	FILE *f;

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';

	if (!nacct_parse_cidr(s, &c))
		check_cidr(&c);
	/* a list given inline ('@' would name a file: that is the next case) */
	if (s[0] != '@' && !nacct_parse_cidrs(s, &list))
		check_list(list.v, list.n);
	free(list.v);
	memset(&list, 0, sizeof(list));

	/* the same bytes (NULs and all) as an @FILE */
	f = fopen(file_path, "w");
	if (f) {
		fwrite(data, 1, size, f);
		fclose(f);
		if (asprintf(&arg, "@%s", file_path) > 0) {
			if (!nacct_parse_cidrs(arg, &list))
				check_list(list.v, list.n);
			free(list.v);
			free(arg);
		}
	}
	free(s);
	return 0;
}
