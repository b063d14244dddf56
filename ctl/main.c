// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * nacct: the command table and typed option parser.  Every option of
 * every command is declared here once, bound to a field of struct
 * nacct_config, and parsed and validated in one place: a bad value is one
 * clear line on stderr and exit status 2.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nacct.h"
#include "log.h"

#ifndef NACCT_VERSION
#define NACCT_VERSION "0.1.0"
#endif

const char *const nacct_mode_names[] = { "auto", "native", "generic", "offload", NULL };
const char *const nacct_hook_names[] = { "xdp", "tc", NULL };
const char *const nacct_sort_names[] = { "bytes", "packets", "first", "last", NULL };

enum opt_type {
	OPT_FLAG,  /* int = 1 */
	OPT_U64,   /* __u64 with min/max */
	OPT_ENUM,  /* int = index into vals */
	OPT_CIDRS, /* struct nacct_cidr * list + count */
};

struct nacct_opt {
	const char *name; /* long name, without "--" */
	char shrt;        /* short name or 0 */
	enum opt_type type;
	size_t off;       /* offset in struct nacct_config */
	const char *arg;  /* metavar for help */
	const char *help;
	const char *const *vals; /* OPT_ENUM */
	__u64 min, max;          /* OPT_U64 */
};

#define CFG(f) offsetof(struct nacct_config, f)

struct nacct_cmd {
	const char *name;
	int (*fn)(struct nacct_config *cfg);
	const struct nacct_opt *opts;
	const char *args;    /* positional synopsis */
	int min_args, max_args;
	const char *summary;
	const char *example;
};

static const struct nacct_opt opts_attach[] = {
	{ "mode", 0, OPT_ENUM, CFG(mode), "MODE",
	  "XDP mode: auto (native, else generic; says why), native, generic", nacct_mode_names },
	{ "hook", 0, OPT_ENUM, CFG(hook), "HOOK",
	  "ingress hook: xdp (default) or tc; egress is always TC", nacct_hook_names },
	{ "subnets", 0, OPT_CIDRS, CFG(subnets), "CIDR[,CIDR...]|@FILE",
	  "subnets to count traffic by (IPv4 and IPv6)" },
	{ "max-flows", 0, OPT_U64, CFG(max_flows), "N",
	  "flow table capacity (default 262144); beyond it packets go to the overflow bucket",
	  NULL, 16, 1ULL << 26 },
	{ "force", 0, OPT_FLAG, CFG(force), NULL,
	  "replace an XDP program that is not nacct's" },
	{ 0 },
};

static const struct nacct_opt opts_json[] = {
	{ "json", 'j', OPT_FLAG, CFG(json), NULL, "one JSON object per line" },
	{ 0 },
};

static const struct nacct_opt opts_flows[] = {
	{ "json", 'j', OPT_FLAG, CFG(json), NULL, "one JSON object per line" },
	{ "csv", 0, OPT_FLAG, CFG(csv), NULL, "comma-separated values with a header line" },
	{ "sort", 's', OPT_ENUM, CFG(sort), "KEY", "sort by bytes (default), packets, first, last",
	  nacct_sort_names },
	{ "top", 'n', OPT_U64, CFG(top), "N", "show only the first N flows", NULL, 1,
	  UINT32_MAX },
	{ 0 },
};

static const struct nacct_opt opts_none[] = { { 0 } };

static const struct nacct_cmd commands[] = {
	{ "attach", cmd_attach, opts_attach, "IFACE", 1, 1,
	  "attach XDP ingress + TC egress accounting to IFACE; stays attached after exit",
	  "nacct attach eth0 --subnets 10.0.0.0/8,2001:db8::/32" },
	{ "detach", cmd_detach, opts_none, "IFACE", 1, 1,
	  "remove nacct's programs, filters, qdisc and pins from IFACE", "nacct detach eth0" },
	{ "status", cmd_status, opts_json, "[IFACE]", 0, 1,
	  "hooks, mode and why, program ids, map fill, totals", "nacct status eth0 --json" },
	{ "flows", cmd_flows, opts_flows, "[IFACE]", 0, 1,
	  "per-flow counters (both directions, first/last seen, TCP flags)",
	  "nacct flows eth0 --sort packets --top 10" },
	{ "subnets", cmd_subnets, opts_json, "[IFACE] [INTERVAL [COUNT]]", 0, 3,
	  "per-subnet counters, rx = from the subnet, tx = to it; with INTERVAL, per-interval deltas",
	  "nacct subnets eth0 1 5" },
	{ 0 },
};

static const struct nacct_opt opts_global[] = {
	{ "verbose", 'v', OPT_FLAG, CFG(verbose), NULL, "more output (twice: libbpf debug)" },
	{ "help", 'h', OPT_FLAG, CFG(help), NULL, "this help" },
	{ 0 },
};

int nacct_usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("nacct: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return NACCT_EXIT_USAGE;
}

static void print_opts(FILE *f, const struct nacct_opt *o)
{
	char lhs[64];

	for (; o && o->name; o++) {
		snprintf(lhs, sizeof(lhs), "%s%c%s--%s%s%s", o->shrt ? "-" : "", o->shrt ? o->shrt : ' ',
			 o->shrt ? ", " : "  ", o->name, o->arg ? " " : "", o->arg ? o->arg : "");
		fprintf(f, "  %-34s %s\n", o->shrt ? lhs : lhs + 2, o->help);
	}
}

static void usage(FILE *f, const struct nacct_cmd *only)
{
	const struct nacct_cmd *c;

	if (only) {
		fprintf(f, "usage: nacct %s [options] %s\n  %s\n\noptions:\n", only->name, only->args,
			only->summary);
		print_opts(f, only->opts);
		print_opts(f, opts_global);
		fprintf(f, "\nexample:\n  %s\n", only->example);
		return;
	}
	fprintf(f, "usage: nacct [-v] COMMAND [options] [args]\n\n"
		   "Exact per-flow and per-subnet packet accounting with XDP and TC.\n\n"
		   "commands:\n");
	for (c = commands; c->name; c++)
		fprintf(f, "  %-8s %s\n", c->name, c->summary);
	fprintf(f, "  %-8s %s\n", "help", "help CMD: options and an example for CMD");
	fprintf(f, "\nglobal options:\n");
	print_opts(f, opts_global);
	fprintf(f, "  %-34s %s\n", "    --version", "print the version");
	fprintf(f, "\nexamples:\n");
	for (c = commands; c->name; c++)
		fprintf(f, "  %s\n", c->example);
	fprintf(f, "\nexit status: 0 ok, 1 run-time failure, 2 bad input\n");
}

static const struct nacct_opt *find_opt(const struct nacct_opt *o, const char *lng, char shrt)
{
	for (; o && o->name; o++)
		if ((lng && !strcmp(o->name, lng)) || (!lng && shrt && o->shrt == shrt))
			return o;
	return NULL;
}

static int set_opt(struct nacct_config *cfg, const struct nacct_opt *o, const char *val)
{
	char *base = (char *)cfg + o->off, *end;
	unsigned long long u;
	int i;

	switch (o->type) {
	case OPT_FLAG:
		(*(int *)base)++;
		return 0;
	case OPT_U64:
		errno = 0;
		if (!val || !*val || *val == '-')
			goto bad;
		u = strtoull(val, &end, 0);
		if (errno || *end)
			goto bad;
		if (u < o->min || u > o->max)
			return nacct_usage_error("--%s %s: must be between %llu and %llu", o->name,
						 val, (unsigned long long)o->min,
						 (unsigned long long)o->max);
		*(__u64 *)base = u;
		return 0;
	case OPT_ENUM:
		for (i = 0; o->vals[i]; i++)
			if (val && !strcmp(val, o->vals[i])) {
				*(int *)base = i;
				return 0;
			}
		goto bad;
	case OPT_CIDRS:
		if (nacct_parse_cidrs(val, (struct nacct_cidr **)base,
				      (size_t *)(base + sizeof(struct nacct_cidr *))))
			return NACCT_EXIT_USAGE;
		return 0;
	}
bad:
	if (o->type == OPT_ENUM) {
		char list[128] = "";

		for (i = 0; o->vals[i]; i++) {
			strncat(list, i ? ", " : "", sizeof(list) - strlen(list) - 1);
			strncat(list, o->vals[i], sizeof(list) - strlen(list) - 1);
		}
		return nacct_usage_error("--%s: invalid value '%s' (expected one of: %s)", o->name,
					 val ? val : "", list);
	}
	return nacct_usage_error("--%s: invalid value '%s'", o->name, val ? val : "");
}

/*
 * Parse argv[first..] against the command's options and the global ones;
 * positionals are collected in order.  GNU-style: options may follow
 * positionals, "--" ends options.
 */
static int parse_args(struct nacct_config *cfg, const struct nacct_cmd *cmd, int argc,
		      char **argv)
{
	int i, only_pos = 0;

	cfg->argv = calloc(argc + 1, sizeof(char *));
	if (!cfg->argv)
		return NACCT_EXIT_FAIL;
	for (i = 0; i < argc; i++) {
		char *a = argv[i];
		const struct nacct_opt *o = NULL;
		const char *val = NULL;

		if (only_pos || a[0] != '-' || !a[1]) {
			cfg->argv[cfg->argc++] = a;
			continue;
		}
		if (!strcmp(a, "--")) {
			only_pos = 1;
			continue;
		}
		if (a[1] == '-') {
			char name[64];
			char *eq = strchr(a + 2, '=');
			size_t len = eq ? (size_t)(eq - (a + 2)) : strlen(a + 2);

			if (len >= sizeof(name))
				return nacct_usage_error("unknown option '%s'", a);
			memcpy(name, a + 2, len);
			name[len] = '\0';
			o = find_opt(cmd->opts, name, 0);
			if (!o)
				o = find_opt(opts_global, name, 0);
			if (!o)
				return nacct_usage_error("%s: unknown option '%s' (see 'nacct help %s')",
							 cmd->name, a, cmd->name);
			if (eq)
				val = eq + 1;
		} else {
			if (a[2])
				return nacct_usage_error("%s: unknown option '%s'", cmd->name, a);
			o = find_opt(cmd->opts, NULL, a[1]);
			if (!o)
				o = find_opt(opts_global, NULL, a[1]);
			if (!o)
				return nacct_usage_error("%s: unknown option '%s' (see 'nacct help %s')",
							 cmd->name, a, cmd->name);
		}
		if (o->type != OPT_FLAG && !val) {
			if (i + 1 >= argc)
				return nacct_usage_error("option --%s needs a value (%s)", o->name,
							 o->arg);
			val = argv[++i];
		} else if (o->type == OPT_FLAG && val) {
			return nacct_usage_error("option --%s takes no value", o->name);
		}
		if (set_opt(cfg, o, val))
			return NACCT_EXIT_USAGE;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct nacct_config cfg;
	const struct nacct_cmd *cmd;
	int i = 1, ret;

	memset(&cfg, 0, sizeof(cfg));
	cfg.max_flows = NACCT_MAX_FLOWS_DEFAULT;

	/* global options before the command */
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "-v") || !strcmp(argv[i], "--verbose"))
			cfg.verbose++;
		else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout, NULL);
			return 0;
		} else if (!strcmp(argv[i], "--version") || !strcmp(argv[i], "-V")) {
			printf("nacct %s\n", NACCT_VERSION);
			return 0;
		} else
			return nacct_usage_error("unknown option '%s' (see 'nacct --help')", argv[i]);
	}
	if (i >= argc) {
		usage(stderr, NULL);
		return NACCT_EXIT_USAGE;
	}
	if (!strcmp(argv[i], "help")) {
		if (i + 1 >= argc) {
			usage(stdout, NULL);
			return 0;
		}
		for (cmd = commands; cmd->name; cmd++)
			if (!strcmp(cmd->name, argv[i + 1])) {
				usage(stdout, cmd);
				return 0;
			}
		return nacct_usage_error("help: unknown command '%s'", argv[i + 1]);
	}
	if (!strcmp(argv[i], "version")) {
		printf("nacct %s\n", NACCT_VERSION);
		return 0;
	}
	for (cmd = commands; cmd->name; cmd++)
		if (!strcmp(cmd->name, argv[i]))
			break;
	if (!cmd->name)
		return nacct_usage_error("unknown command '%s' (see 'nacct --help')", argv[i]);

	ret = parse_args(&cfg, cmd, argc - i - 1, argv + i + 1);
	if (ret)
		return ret;
	if (cfg.help) {
		usage(stdout, cmd);
		return 0;
	}
	if (cfg.argc < cmd->min_args || cfg.argc > cmd->max_args) {
		nacct_usage_error("%s: expected %s", cmd->name, cmd->args);
		usage(stderr, cmd);
		return NACCT_EXIT_USAGE;
	}
	nacct_log_init(cfg.verbose);
	ret = cmd->fn(&cfg);
	if (ret < 0)
		ret = NACCT_EXIT_FAIL;
	free(cfg.subnets);
	free(cfg.argv);
	return ret;
}
