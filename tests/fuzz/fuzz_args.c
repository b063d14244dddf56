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

/* called by every stub command: the parser's output must be sane */
int fuzz_cmd(struct nacct_config *cfg)
{
	int i;

	if (cfg->argc < 0 || cfg->argc > MAX_ARGS || cfg->argv[cfg->argc])
		abort();
	for (i = 0; i < cfg->argc; i++)
		if (!cfg->argv[i])
			abort();
	if (cfg->mode < 0 || cfg->mode > NACCT_M_OFFLOAD || cfg->hook < 0 || cfg->hook > NACCT_H_TC ||
	    cfg->sort < 0 || cfg->sort > NACCT_S_LAST)
		abort();
	if (cfg->max_flows < 16 || cfg->max_flows > (1ULL << 26))
		abort();
	if (cfg->sample_n > UINT32_MAX || (cfg->top && cfg->top > UINT32_MAX))
		abort();
	if (cfg->interval > 3600 || cfg->snaplen > 262144 || cfg->ev_lport > 65535 ||
	    cfg->ev_rport > 65535)
		abort();
	if (cfg->n_subnets > NACCT_MAX_SUBNETS || (cfg->n_subnets && !cfg->subnets))
		abort();
	if ((cfg->write && !*cfg->write) || (cfg->ipfix && !*cfg->ipfix) ||
	    (cfg->metrics && !*cfg->metrics))
		abort();
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
