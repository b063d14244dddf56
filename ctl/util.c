// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Input validation shared by all commands: interfaces, CIDRs, privileges. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <linux/capability.h>
#include <linux/magic.h>
#include <unistd.h>

#include "nacct.h"
#include "../lib/log.h"

const char *nacct_err_where;

int nacct_usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("nacct: ", stderr);
	if (nacct_err_where)
		fprintf(stderr, "%s: ", nacct_err_where);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return NACCT_EXIT_USAGE;
}

int nacct_ifindex(const char *ifname)
{
	unsigned int idx;

	if (!ifname || !*ifname || strlen(ifname) >= IFNAMSIZ || strchr(ifname, '/') ||
	    strchr(ifname, ':') || !strcmp(ifname, ".") || !strcmp(ifname, "..")) {
		nacct_usage_error("invalid interface name '%s'", ifname ? ifname : "");
		return 0;
	}
	idx = if_nametoindex(ifname);
	if (!idx)
		nacct_usage_error("no such interface: %s", ifname);
	return idx;
}

int nacct_parse_cidr(const char *s, struct nacct_cidr *out)
{
	char buf[INET6_ADDRSTRLEN + 8], *slash, *end;
	unsigned long plen;
	int maxlen, i;

	memset(out, 0, sizeof(*out));
	if (strlen(s) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, s);
	slash = strchr(buf, '/');
	if (slash)
		*slash++ = '\0';
	if (inet_pton(AF_INET, buf, out->addr) == 1) {
		out->family = NACCT_AF_INET;
		maxlen = 32;
	} else if (inet_pton(AF_INET6, buf, out->addr) == 1) {
		out->family = NACCT_AF_INET6;
		maxlen = 128;
	} else {
		return -EINVAL;
	}
	if (slash) {
		errno = 0;
		if (!*slash || *slash == '-' || *slash == '+')
			return -EINVAL;
		plen = strtoul(slash, &end, 10);
		if (errno || *end || plen > (unsigned long)maxlen)
			return -EINVAL;
	} else {
		plen = maxlen;
	}
	out->plen = plen;
	/* host bits set (10.1.2.3/8) are cleared, as ip route does not: be kind */
	for (i = 0; i < 16; i++) {
		int bits = (int)plen - i * 8;

		if (bits >= 8)
			continue;
		out->addr[i] &= bits <= 0 ? 0 : (__u8)(0xff << (8 - bits));
	}
	return 0;
}

static int add_cidr_list(const char *list, const char *origin, struct nacct_cidrs *cl)
{
	struct nacct_cidr **out = &cl->v;
	size_t *n = &cl->n;
	char *copy = strdup(list), *tok, *save = NULL;
	int err = 0;

	if (!copy)
		return -ENOMEM;
	for (tok = strtok_r(copy, ", \t\r\n", &save); tok; tok = strtok_r(NULL, ", \t\r\n", &save)) {
		struct nacct_cidr c, *tmp;
		size_t i;

		if (nacct_parse_cidr(tok, &c)) {
			nacct_usage_error("--subnets: invalid CIDR '%s'%s%s", tok, origin ? " in " : "",
					  origin ? origin : "");
			err = -EINVAL;
			break;
		}
		for (i = 0; i < *n; i++)
			if ((*out)[i].family == c.family && (*out)[i].plen == c.plen &&
			    !memcmp((*out)[i].addr, c.addr, 16))
				break;
		if (i < *n)
			continue; /* duplicate */
		if (*n >= NACCT_MAX_SUBNETS) {
			nacct_usage_error("--subnets: more than %d subnets", NACCT_MAX_SUBNETS);
			err = -EINVAL;
			break;
		}
		tmp = realloc(*out, (*n + 1) * sizeof(**out));
		if (!tmp) {
			err = -ENOMEM;
			break;
		}
		*out = tmp;
		(*out)[(*n)++] = c;
	}
	free(copy);
	return err;
}

int nacct_parse_cidrs(const char *arg, struct nacct_cidrs *out)
{
	if (!arg || !*arg) {
		nacct_usage_error("--subnets: empty list");
		return -EINVAL;
	}
	if (arg[0] == '@') {
		FILE *f = fopen(arg + 1, "r");
		char line[512];
		int err = 0;

		if (!f) {
			nacct_usage_error("--subnets: cannot read %s: %s", arg + 1, strerror(errno));
			return -EINVAL;
		}
		while (!err && fgets(line, sizeof(line), f)) {
			char *hash = strchr(line, '#');

			if (hash)
				*hash = '\0';
			err = add_cidr_list(line, arg + 1, out);
		}
		fclose(f);
		if (!err && !out->n) {
			nacct_usage_error("--subnets: no CIDR in %s", arg + 1);
			err = -EINVAL;
		}
		return err;
	}
	return add_cidr_list(arg, NULL, out);
}

static int have_cap(int cap)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2];

	memset(data, 0, sizeof(data));
	if (syscall(SYS_capget, &hdr, data))
		return 0;
	return !!(data[cap / 32].effective & (1U << (cap % 32)));
}

#ifndef CAP_BPF
#define CAP_BPF 39
#endif
#ifndef CAP_PERFMON
#define CAP_PERFMON 38
#endif

int nacct_need_bpf(void)
{
	struct statfs st;

	if (!have_cap(CAP_SYS_ADMIN) &&
	    !(have_cap(CAP_BPF) && have_cap(CAP_NET_ADMIN) && have_cap(CAP_PERFMON)))
		return nacct_usage_error("permission denied: nacct needs root, or CAP_BPF + "
					 "CAP_NET_ADMIN + CAP_PERFMON");
	if (statfs("/sys/fs/bpf", &st) || st.f_type != BPF_FS_MAGIC) {
		if (mount("bpf", "/sys/fs/bpf", "bpf", 0, "mode=0700"))
			return nacct_usage_error("bpffs is not mounted at /sys/fs/bpf and cannot be "
						 "mounted: %s", strerror(errno));
		pr_debug("mounted bpffs at /sys/fs/bpf\n");
	}
	if (mkdir(NACCT_PIN_ROOT, 0700) && errno != EEXIST)
		return nacct_usage_error("cannot create %s: %s", NACCT_PIN_ROOT, strerror(errno));
	return 0;
}

/* --tunnel-ports (lib/attach.h struct nacct_tun_ports) */
int nacct_tun_ports_parse(const char *s, struct nacct_tun_ports *p, char *err, size_t len)
{
	__u16 *cur = NULL;
	int *set = NULL, n = 0, i;
	const char *t = s;

	memset(p, 0, sizeof(*p));
	while (t && *t) {
		const char *comma = strchr(t, ','), *eq;
		size_t tl = comma ? (size_t)(comma - t) : strlen(t);
		char tok[32], *end;
		unsigned long port;

		if (tl == 0 || tl >= sizeof(tok)) {
			snprintf(err, len, "empty or overlong item in '%s'", s);
			return -EINVAL;
		}
		memcpy(tok, t, tl);
		tok[tl] = '\0';
		eq = strchr(tok, '=');
		if (eq) {
			size_t nl = eq - tok;

			if (nl == 5 && !strncmp(tok, "vxlan", 5)) {
				cur = p->vxlan;
				set = &p->vxlan_set;
			} else if (nl == 6 && !strncmp(tok, "geneve", 6)) {
				cur = p->geneve;
				set = &p->geneve_set;
			} else {
				snprintf(err, len, "unknown tunnel type '%.*s' (expected vxlan or geneve)",
					 (int)nl, tok);
				return -EINVAL;
			}
			if (*set) {
				snprintf(err, len, "%.*s given twice", (int)nl, tok);
				return -EINVAL;
			}
			*set = 1;
			n = 0;
			eq++;
		} else {
			eq = tok;
		}
		if (!cur) {
			snprintf(err, len, "'%s': name the tunnel type first (vxlan=PORT)", tok);
			return -EINVAL;
		}
		errno = 0;
		port = strtoul(eq, &end, 10);
		if (!*eq || *end || errno || port < 1 || port > 65535) {
			snprintf(err, len, "'%s': not a port (1-65535)", eq);
			return -EINVAL;
		}
		if (n == NACCT_TUN_PORTS) {
			snprintf(err, len, "at most %d ports per tunnel type", NACCT_TUN_PORTS);
			return -EINVAL;
		}
		for (i = 0; i < n; i++)
			if (cur[i] == port)
				break;
		if (i == n)
			cur[n++] = port;
		t = comma ? comma + 1 : NULL;
		if (comma && !comma[1]) {
			snprintf(err, len, "trailing ',' in '%s'", s);
			return -EINVAL;
		}
	}
	if (!p->vxlan_set && !p->geneve_set) {
		snprintf(err, len, "no ports given");
		return -EINVAL;
	}
	/* one port on two types would make the type ambiguous */
	for (i = 0; i < NACCT_TUN_PORTS && p->vxlan_set && p->geneve_set; i++) {
		int j;

		for (j = 0; p->vxlan[i] && j < NACCT_TUN_PORTS; j++)
			if (p->vxlan[i] == p->geneve[j]) {
				snprintf(err, len, "port %u given for vxlan and geneve", p->vxlan[i]);
				return -EINVAL;
			}
	}
	return 0;
}
