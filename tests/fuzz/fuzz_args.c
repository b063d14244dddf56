// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * libFuzzer target: nacct's command line, through the real main() of
 * ctl/main.c (compiled with -Dmain=nacct_main): the command table, the
 * typed option parser and every option type (U64 ranges, ENUM, CIDRS,
 * RATIO "1/N", STR, FLAG, "--opt=value", "--").  The commands themselves
 * are stubs (tests/fuzz/gen_stubs.sh makes one per cmd_* of ctl/nacct.h)
 * that check what the parser bound: every value within its option's
 * range, positionals within the command's count.
 *
 * Input: arguments separated by NUL bytes.  An argument that would name a
 * file for --subnets @FILE gets a scratch file holding its own bytes.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../ctl/nacct.h"

int nacct_main(int argc, char **argv);

#define MAX_ARGS 32

static char file_path[64];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	snprintf(file_path, sizeof(file_path), "/tmp/nacct-fuzz-args-%d", getpid());
	return 0;
}

/*
 * Called by every stub command with the option struct the parser filled:
 * every option's value must be within what its table line allows (or
 * still the command's default), positionals within the command's count.
 */
int fuzz_cmd(const char *name, void *opts)
{
	const struct nacct_args *a = opts;
	const struct nacct_cmd *c;
	const struct nacct_opt *o;
	int i;

	for (c = nacct_commands; c->name && strcmp(c->name, name); c++)
		;
	if (!c->name)
		abort();
	if (a->argc < c->min_args || a->argc > c->max_args || a->argv[a->argc])
		abort();
	for (i = 0; i < a->argc; i++)
		if (!a->argv[i])
			abort();
	for (o = c->opts; o && o->name; o++) {
		const char *p = (const char *)opts + o->off;
		const char *d = c->defaults ? (const char *)c->defaults + o->off : NULL;
		int n;

		switch (o->type) {
		case OPT_U64:
		case OPT_RATIO:
			if (d && !memcmp(p, d, sizeof(__u64)))
				break;
			if (*(const __u64 *)p && (*(const __u64 *)p < o->min || *(const __u64 *)p > o->max))
				abort();
			break;
		case OPT_ENUM:
			for (n = 0; o->vals[n]; n++)
				;
			if (*(const int *)p < 0 || *(const int *)p >= n)
				abort();
			break;
		case OPT_STR:
			if (*(const char *const *)p && !**(const char *const *)p)
				abort();
			break;
		case OPT_CIDRS: {
			const struct nacct_cidrs *cl = (const void *)p;

			if (cl->n > NACCT_MAX_SUBNETS || (cl->n && !cl->v))
				abort();
			break;
		}
		case OPT_FLAG:
			if (*(const int *)p < 0)
				abort();
			break;
		case OPT_TUNPORTS: {
			/* what attach will load: ports 1..65535 packed first, no port
			 * on both types */
			const struct nacct_tun_ports *tp = (const void *)p;
			int k, j;

			for (k = 0; k < NACCT_TUN_PORTS; k++) {
				if ((k && !tp->vxlan[k - 1] && tp->vxlan[k]) ||
				    (k && !tp->geneve[k - 1] && tp->geneve[k]))
					abort();
				for (j = 0; tp->vxlan_set && tp->geneve_set && j < NACCT_TUN_PORTS;
				     j++)
					if (tp->vxlan[k] && tp->vxlan[k] == tp->geneve[j])
						abort();
			}
			if ((tp->vxlan_set && !tp->vxlan[0]) || (tp->geneve_set && !tp->geneve[0]))
				abort();
			break;
		}
		}
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 1), *argv[MAX_ARGS + 2], *p, *end, *fix[MAX_ARGS];
	int argc = 1, nfix = 0, i;

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	argv[0] = "nacct";
	for (p = buf, end = buf + size; p <= end && argc <= MAX_ARGS; p += strlen(p) + 1) {
		char *at = p[0] == '@' ? p : strstr(p, "=@");

		if (at) {
			/* never a real file (or a device that never ends): a scratch file
			 * with what follows the '@' */
			FILE *f = fopen(file_path, "w");
			char *a;

			if (at[0] == '=')
				at++;
			if (f) {
				fputs(at + 1, f);
				fclose(f);
			}
			if (asprintf(&a, "%.*s@%s", (int)(at - p), p, file_path) < 0)
				break;
			fix[nfix++] = a;
			argv[argc++] = a;
		} else {
			argv[argc++] = p;
		}
	}
	argv[argc] = NULL;
	nacct_main(argc, argv);
	for (i = 0; i < nfix; i++)
		free(fix[i]);
	free(buf);
	return 0;
}
