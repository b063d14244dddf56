// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * nacct attach / detach: validate, call the library (lib/attach.c), and
 * say what happened in one line, or what stood in the way with the exit
 * status it deserves.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <net/if.h>
#include <fnmatch.h>
#include <string.h>
#include <linux/rtnetlink.h>
#include <linux/netlink.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <signal.h>
#include <poll.h>

#include "nacct.h"
#include "../lib/log.h"
#include "../lib/probes.h"
#include "../maps/maps.h"

int nacct_attach_error(const char *ifname, int err, const struct nacct_attach_info *info)
{
	const char *what = info->what && *info->what ? info->what : "attach";

	switch (err) {
	case -ENODEV:
		return nacct_usage_error("no such interface: %s", ifname);
	case -ENAMETOOLONG:
		return nacct_usage_error("interface name too long");
	case -EALREADY:
		return nacct_usage_error("%s is already attached (see 'nacct status %s'; "
					 "'nacct detach %s' first)", ifname, ifname, ifname);
	case -EPROTO:
		return nacct_usage_error("%s: %s holds maps made by an incompatible nacct build; "
					 "'nacct detach %s' removes them", ifname, info->detail, ifname);
	case -EOPNOTSUPP:
	case -EINVAL:
	case -ENOSPC: /* a shared domain that is full */
		if (info->detail[0])
			return nacct_usage_error("%s: %s", ifname, info->detail);
		break;
	case -EBUSY:
		if (info->detail[0])
			return nacct_usage_error("%s already has an %s; nacct does not replace it "
						 "without --force", ifname, info->detail);
		/* fall through */
	case -EEXIST:
		return nacct_usage_error("%s: cannot %s: %s (another program holds the hook)",
					 ifname, what, strerror(-err));
	case -EPERM:
		return nacct_usage_error("%s: cannot %s: %s (needs root, or CAP_BPF + CAP_NET_ADMIN "
					 "+ CAP_PERFMON)", ifname, what, strerror(-err));
	}
	if ((err == -EACCES || err == -EINVAL) && !strncmp(what, "load", 4))
		pr_warn("%s: cannot %s: the kernel's verifier rejected it (%s; 'nacct -vv attach' "
			"shows the log)\n", ifname, what, strerror(-err));
	else
		pr_warn("%s: cannot %s: %s\n", ifname, what, strerror(-err));
	return NACCT_EXIT_FAIL;
}

/* does name match one of the comma-separated globs */
static int glob_any(const char *globs, const char *name)
{
	char buf[512], *g, *save = NULL;

	snprintf(buf, sizeof(buf), "%s", globs);
	for (g = strtok_r(buf, ",", &save); g; g = strtok_r(NULL, ",", &save))
		if (!fnmatch(g, name, 0))
			return 1;
	return 0;
}

/* does one of @name's alternative names (ip link property add dev NAME
 * altname ALT; rtnetlink IFLA_PROP_LIST) match one of the globs */
static int altname_any(const char *globs, const char *name)
{
	char buf[16384];
	struct rtattr *rta, *alt;
	int rlen, alen, hit = 0, ifindex = (int)if_nametoindex(name);

	rta = ifindex ? nacct_link_attrs(ifindex, buf, sizeof(buf), &rlen) : NULL;
	for (; rta && !hit && RTA_OK(rta, rlen); rta = RTA_NEXT(rta, rlen)) {
		if ((rta->rta_type & ~NLA_F_NESTED) != IFLA_PROP_LIST)
			continue;
		alt = RTA_DATA(rta);
		alen = RTA_PAYLOAD(rta);
		for (; !hit && RTA_OK(alt, alen); alt = RTA_NEXT(alt, alen))
			if (alt->rta_type == IFLA_ALT_IFNAME && RTA_PAYLOAD(alt) > 1)
				hit = glob_any(globs, RTA_DATA(alt));
	}
	return hit;
}

/* a name or one of its altnames matches */
static int names_match(const char *globs, const char *name)
{
	return glob_any(globs, name) || altname_any(globs, name);
}

/* its pin directory is there (what detach looks for): no need to open its maps */
static int is_attached(const char *ifname)
{
	char dir[256];
	struct stat st;

	return !nacct_pin_dir(ifname, dir, sizeof(dir)) && !stat(dir, &st);
}

/* --all's choice of interfaces: not lo; --match and --exclude (either NULL) */
static int wanted_by(const char *match, const char *exclude, const char *name)
{
	return strcmp(name, "lo") && (!match || names_match(match, name)) &&
	       (!exclude || !names_match(exclude, name));
}

static int wanted(const struct attach_opts *o, const char *name)
{
	return wanted_by(o->match, o->exclude, name);
}

/* --all: the namespace's interfaces (but lo and those attached) that pass the globs */
static int all_ifaces(const struct attach_opts *o, char ***out, size_t *n, int say)
{
	struct if_nameindex *ifs = if_nameindex(), *p;
	char **v;
	size_t k = 0, cap = 0;

	*out = NULL;
	*n = 0;
	if (!ifs)
		return -errno;
	for (p = ifs; p->if_index; p++)
		cap++;
	v = calloc(cap + 1, sizeof(*v));
	for (p = ifs; v && p->if_index; p++) {
		if (!wanted(o, p->if_name))
			continue;
		if (is_attached(p->if_name)) {
			if (say)
				printf("%s: attached already: left as it is\n", p->if_name);
			continue;
		}
		v[k++] = strdup(p->if_name);
	}
	if_freenameindex(ifs);
	if (!v)
		return -ENOMEM;
	*out = v;
	*n = k;
	return 0;
}

static int attach_one(struct attach_opts *o, const char *ifname)
{
	struct nacct_attach_info info;
	int err;

	o->req.ifname = ifname;
	err = nacct_attach(&o->req, &info);
	if (err)
		return nacct_attach_error(ifname, err, &info);
	if (info.meta.hook == NACCT_HOOK_XDP)
		printf("%s: attached: XDP ingress (%s mode%s) + TC egress\n  mode: %s\n", ifname,
		       nacct_mode_str(info.meta.xdp_mode),
		       info.multi ? ", in libxdp's dispatcher" : "", info.meta.reason);
	else
		printf("%s: attached: TC ingress + TC egress\n", ifname);
	printf("  flows: up to %u, subnets: %zu, pins: %s\n", info.meta.max_flows,
	       o->req.subnets.n, info.dir);
	return 0;
}

/* the interfaces this command attached, for --detach-on-exit */
struct owned {
	char **v;
	size_t n, cap;
};

static void owned_add(struct owned *w, const char *name)
{
	char **v;

	if (w->n == w->cap) {
		v = realloc(w->v, (w->cap ? 2 * w->cap : 16) * sizeof(*v));
		if (!v)
			return;
		w->v = v;
		w->cap = w->cap ? 2 * w->cap : 16;
	}
	if ((w->v[w->n] = strdup(name)))
		w->n++;
}

static void owned_drop(struct owned *w, const char *name)
{
	size_t i;

	for (i = 0; i < w->n; i++)
		if (!strcmp(w->v[i], name)) {
			free(w->v[i]);
			w->v[i] = w->v[--w->n];
			return;
		}
}

/* @detach: detach what this command attached (and is still attached); frees the list */
static int owned_end(struct owned *w, int detach)
{
	char left[128];
	int failed = 0;
	size_t i;

	for (i = 0; i < w->n; i++) {
		if (detach && is_attached(w->v[i])) {
			if (nacct_detach(w->v[i], left, sizeof(left)) < 0)
				failed++;
			else
				printf("%s: detached (--detach-on-exit)\n", w->v[i]);
		}
		free(w->v[i]);
	}
	free(w->v);
	memset(w, 0, sizeof(*w));
	return failed;
}

static volatile sig_atomic_t g_stop;

static void on_stop(int sig)
{
	g_stop = 1;
}

/*
 * --follow: the namespace's link events (rtnetlink, RTMGRP_LINK): a new
 * interface that matches is attached, one that goes is detached (its
 * pins; the kernel removed its programs with it).  Until SIGTERM/SIGINT.
 */
static int follow(struct attach_opts *o, struct owned *own)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK, .nl_groups = RTMGRP_LINK };
	struct sigaction act = { .sa_handler = on_stop };
	char buf[16384] __attribute__((aligned(4))), left[128];
	int fd, failed = 0;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		pr_warn("attach --follow: rtnetlink: %s\n", strerror(errno));
		if (fd >= 0)
			close(fd);
		return NACCT_EXIT_FAIL;
	}
	sigaction(SIGTERM, &act, NULL);
	sigaction(SIGINT, &act, NULL);
	printf("attach --follow: watching this namespace's interfaces\n");
	fflush(stdout);
	while (!g_stop) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		struct nlmsghdr *h;
		ssize_t n;

		if (poll(&p, 1, 500) <= 0)
			continue;
		n = recv(fd, buf, sizeof(buf), 0);
		if (n < 0 && errno == ENOBUFS) {
			/* events lost: look at every interface again */
			char **v;
			size_t k, nv;

			pr_warn("attach --follow: link events lost; looking at every interface\n");
			if (all_ifaces(o, &v, &nv, 0) == 0) {
				for (k = 0; k < nv; k++) {
					if (attach_one(o, v[k]))
						failed++;
					else
						owned_add(own, v[k]);
					free(v[k]);
				}
				free(v);
			}
			continue;
		}
		if (n <= 0)
			continue;
		for (h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n)) {
			struct ifinfomsg *ifi = NLMSG_DATA(h);
			int len = IFLA_PAYLOAD(h);
			const char *name = NULL;
			struct rtattr *a;

			if (h->nlmsg_type != RTM_NEWLINK && h->nlmsg_type != RTM_DELLINK)
				continue;
			for (a = IFLA_RTA(ifi); RTA_OK(a, len); a = RTA_NEXT(a, len))
				if (a->rta_type == IFLA_IFNAME)
					name = RTA_DATA(a);
			if (!name || !wanted(o, name))
				continue;
			if (h->nlmsg_type == RTM_DELLINK) {
				if (nacct_detach(name, left, sizeof(left)) >= 0)
					printf("%s: gone: detached\n", name);
				owned_drop(own, name);
			} else if (!is_attached(name) && if_nametoindex(name)) {
				if (attach_one(o, name))
					failed++;
				else
					owned_add(own, name);
			}
			fflush(stdout);
		}
	}
	close(fd);
	return failed ? NACCT_EXIT_FAIL : 0;
}

/*
 * nacct attach IFACE... | --all: each interface its own attachment, in
 * turn.  Named interfaces are all checked first, and are attached all or
 * none: a failure detaches those this command attached.  --all goes on
 * past an interface that fails (reported; exit status 1).
 */
int cmd_attach(struct attach_opts *o)
{
	char **names = o->a.argv, left[128];
	size_t n = o->a.argc, i, done = 0;
	int err, ret = 0, failed = 0;
	struct owned own = { 0 };

	if (o->req.side_programs == NACCT_SIDE_OFF && o->req.probes != NACCT_PROBES_AUTO)
		return nacct_usage_error("--probes %s: the side programs are off (--side-programs off)",
					 nacct_probes_mode_names[o->req.probes]);
	if (o->all && n)
		return nacct_usage_error("attach: give interfaces or --all, not both");
	if (!o->all && !n)
		return nacct_usage_error("attach: expected IFACE... or --all");
	if (!o->all && (o->match || o->exclude || o->follow))
		return nacct_usage_error("attach: --match, --exclude and --follow go with --all");
	if (o->detach_on_exit && !o->follow)
		return nacct_usage_error("attach: --detach-on-exit goes with --all --follow");
	/* --all shares one domain per namespace unless told otherwise */
	if (o->all && !o->req.domain)
		o->req.domain = NACCT_DOMAIN_DEFAULT;
	if (o->req.domain && !strcmp(o->req.domain, "none"))
		o->req.domain = NULL;
	if (o->req.domain && !nacct_domain_name_ok(o->req.domain))
		return nacct_usage_error("--domain %s: a name of 1 to %d letters, digits, '_' or '-' "
					 "(or none)", o->req.domain, NACCT_DOMAIN_NAME_LEN - 9);
	if ((o->req.max_ifaces || o->req.dedup) && !o->req.domain)
		return nacct_usage_error("attach: --max-ifaces and --dedup go with --domain or --all");
	for (i = 0; i < n; i++)
		if (!nacct_ifindex(names[i]))
			return NACCT_EXIT_USAGE;
	err = nacct_need_bpf();
	if (err)
		return err;
	if (o->all) {
		err = all_ifaces(o, &names, &n, 1);
		if (err) {
			pr_warn("attach --all: cannot list the interfaces: %s\n", strerror(-err));
			return NACCT_EXIT_FAIL;
		}
		if (!n)
			printf("attach --all: no interface to attach\n");
	}
	for (i = 0; i < n; i++) {
		ret = attach_one(o, names[i]);
		if (!ret) {
			done++;
			if (o->follow)
				owned_add(&own, names[i]);
			continue;
		}
		failed++;
		if (o->all)
			continue;
		/* all or none: undo this command's attachments */
		while (done--) {
			nacct_detach(names[done], left, sizeof(left));
			printf("%s: detached again (%s failed)\n", names[done], names[i]);
		}
		break;
	}
	if (o->all) {
		if (n > 1)
			printf("attach --all: %zu attached, %d failed\n", done, failed);
		for (i = 0; i < n; i++)
			free(names[i]);
		free(names);
		if (o->follow) {
			fflush(stdout);
			failed += follow(o, &own) != 0;
		}
		failed += owned_end(&own, o->detach_on_exit);
		return failed ? NACCT_EXIT_FAIL : 0;
	}
	return ret;
}

static int detach_one(const char *ifname)
{
	char left[128];
	int err = nacct_detach(ifname, left, sizeof(left));

	switch (err) {
	case 0:
		printf("%s: detached\n", ifname);
		return 0;
	case 1:
		printf("%s: removed what a killed nacct left: %s\n", ifname, left);
		return 0;
	case -EINVAL:
		return nacct_usage_error("invalid interface name '%s'", ifname);
	case -ENOENT:
		return nacct_usage_error("%s is not attached", ifname);
	default:
		pr_warn("%s: detach failed: %s\n", ifname, strerror(-err));
		return NACCT_EXIT_FAIL;
	}
}

/* nacct detach IFACE... | --all: each in turn; the first failure's status */
int cmd_detach(struct detach_opts *o)
{
	char **names = o->a.argv;
	size_t n = o->a.argc, i;
	int err, ret = 0, r;

	if (o->all && n)
		return nacct_usage_error("detach: give interfaces or --all, not both");
	if (!o->all && !n)
		return nacct_usage_error("detach: expected IFACE... or --all");
	if (!o->all && (o->match || o->exclude))
		return nacct_usage_error("detach: --match and --exclude go with --all");
	err = nacct_need_bpf();
	if (err)
		return err;
	if (o->all) {
		err = nacct_list_attached(&names, &n);
		if (err) {
			pr_warn("cannot list %s: %s\n", NACCT_PIN_ROOT, strerror(-err));
			return NACCT_EXIT_FAIL;
		}
		if (!n)
			printf("detach --all: nothing attached\n");
	}
	for (i = 0; i < n; i++) {
		if (o->all && !wanted_by(o->match, o->exclude, names[i]))
			continue;
		r = detach_one(names[i]);
		if (r && !ret)
			ret = r;
	}
	if (o->all) {
		for (i = 0; i < n; i++)
			free(names[i]);
		free(names);
	}
	return ret;
}

int nacct_open_attached(const char *ifname, struct nacct_iface_maps *m)
{
	char left[256];
	int err = nacct_iface_open(ifname, m);

	if (err == -ENOENT && nacct_half_attached(ifname, left, sizeof(left)))
		return nacct_usage_error("%s is not attached, but a killed nacct left %s behind "
					 "('nacct detach %s' removes it)", ifname, left, ifname);
	if (err == -ENOENT)
		return nacct_usage_error("%s is not attached", ifname);
	if (err == -EPROTO)
		return nacct_usage_error("%s: pinned maps were made by an incompatible nacct build; "
					 "detach and attach again", ifname);
	if (err) {
		pr_warn("%s: cannot open pinned maps: %s\n", ifname, strerror(-err));
		return NACCT_EXIT_FAIL;
	}
	return 0;
}
