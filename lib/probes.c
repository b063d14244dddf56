// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Side programs: load, attach and pin them once per host, choose the
 * kprobe twin of a program only where the running kernel has no such
 * tracepoint, remove them with the last attachment, and read their maps
 * for `nacct flows` and `nacct events`.
 *
 * Like an attachment, the set is built in a private directory
 * (NACCT_PIN_ROOT/:tmp::probes-PID) and published by renaming it to
 * NACCT_PIN_ROOT/:probes once every link is pinned: a reader sees all of
 * it or nothing, and two concurrent `attach`es leave exactly one set.
 * A set pinned by another build (nacct_probe_meta differs or is missing)
 * is replaced when no `nacct events` reader is using it.  Set changes
 * and reader-slot claims hold an flock on NACCT_PIN_ROOT.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "hostset.h"
#include "log.h"
#include "names.h"
#include "probes.h"
#include "side.h"
#include "../maps/maps.h"
#include "nacct_probes.skel.h"

#define PROBES_DIR NACCT_PIN_ROOT "/" NACCT_PROBES_PIN

/* does the running kernel have this tracepoint (as a BTF-typed raw tracepoint)? */
static int have_tracepoint(const char *name)
{
	struct btf *btf = nacct_vmlinux_btf();
	char tn[128];

	if (!btf)
		return 0;
	snprintf(tn, sizeof(tn), "btf_trace_%s", name);
	return btf__find_by_name_kind(btf, tn, BTF_KIND_TYPEDEF) > 0;
}

/*
 * Does the running kernel have this syscall tracepoint, where libbpf
 * looks for it (tracefs under debugfs if mounted, else tracefs itself)?
 * Syscall tracepoints need CONFIG_FTRACE_SYSCALLS and have no BTF type.
 */
static int have_syscall_tp(const char *name)
{
	static const char *const roots[] = { "/sys/kernel/debug/tracing", "/sys/kernel/tracing" };
	char p[256];
	size_t i;

	for (i = 0; i < sizeof(roots) / sizeof(roots[0]); i++) {
		if (access(roots[i], F_OK))
			continue;
		snprintf(p, sizeof(p), "%s/events/syscalls/%s/id", roots[i], name);
		return access(p, R_OK) == 0;
	}
	return 0;
}

/* can kprobes be attached (the perf kprobe PMU libbpf uses, CONFIG_KPROBE_EVENTS)? */
static int have_kprobes(void)
{
	return access("/sys/bus/event_source/devices/kprobe/type", R_OK) == 0;
}

/*
 * Can a perf-event attachment (a kprobe, a classic tracepoint) be pinned?
 * Only as a BPF link of type BPF_LINK_TYPE_PERF_EVENT (5.15+).  Before it
 * libbpf attaches them with a perf ioctl, and the "link" it returns is the
 * perf event's fd, which the kernel refuses to pin (EINVAL): the side
 * programs live on pinned links, so there they can only be tp_btf ones.
 */
int nacct_kernel_has_perf_links(void)
{
	static int have = -1;
	struct btf *btf = nacct_vmlinux_btf();
	const struct btf_enum *e;
	const struct btf_type *t;
	int id, i;

	if (have >= 0)
		return have;
	have = 0;
	id = btf ? btf__find_by_name_kind(btf, "bpf_link_type", BTF_KIND_ENUM) : -1;
	if (id <= 0)
		return have;
	t = btf__type_by_id(btf, id);
	e = btf_enum(t);
	for (i = 0; i < btf_vlen(t); i++, e++)
		if (!strcmp(btf__name_by_offset(btf, e->name_off), "BPF_LINK_TYPE_PERF_EVENT"))
			have = 1;
	return have;
}

const char *const nacct_probes_mode_names[] = { "auto", "tracepoint", "kprobe", NULL };
const char *const nacct_probe_kind_names[] = { "off", "tracepoint", "kprobe", "handshake", NULL };

/* a program's section without libbpf's "?" (not loaded by default) */
static const char *sec_of(const struct bpf_program *prog)
{
	const char *s = prog ? bpf_program__section_name(prog) : "";

	return s[0] == '?' ? s + 1 : s;
}

/* record one event's choice (and say it at -v) */
static void choice_add(struct nacct_probe_choice *c, const char *event, const char *section,
		       int kind, int has_twin, const char *why)
{
	struct nacct_probe_prog *p;
	char buf[192];

	if (c->n >= NACCT_PROBE_PROGS)
		return;
	p = &c->p[c->n++];
	snprintf(p->event, sizeof(p->event), "%s", event);
	snprintf(p->section, sizeof(p->section), "%s", section);
	snprintf(p->why, sizeof(p->why), "%s", why);
	p->kind = kind;
	p->has_twin = has_twin;
	/* a degraded event is said without -v */
	if (kind == NACCT_PK_OFF || kind == NACCT_PK_HANDSHAKE)
		pr_warn("probes: %s\n", nacct_probe_prog_str(p, buf, sizeof(buf)));
	else
		pr_info("probes: %s\n", nacct_probe_prog_str(p, buf, sizeof(buf)));
}

const char *nacct_probe_prog_str(const struct nacct_probe_prog *p, char *buf, size_t len)
{
	snprintf(buf, len, "%s: %s (%s)", p->event, p->section[0] ? p->section : "off", p->why);
	return buf;
}

static void append(char *dst, size_t len, const char *what)
{
	size_t n = strlen(dst);

	snprintf(dst + n, len - n, "%s%s", n ? ", " : "", what);
}

/*
 * Who accepted a connection: the accept()/accept4() syscall exits, else
 * the return of inet_csk_accept() (a kretprobe, which also sees io_uring's
 * accepts), else nobody: the accept line is then sent at the handshake
 * without its owner, as before these programs existed.  --probes kprobe
 * takes the kretprobe; --probes tracepoint needs the syscall tracepoints
 * (added to @missing when absent).
 */
static void choose_accept(struct nacct_probes *skel, int mode, struct nacct_probe_choice *c,
			  char *missing, size_t mlen)
{
	static const char *const ev = "sys_exit_accept[4]";
	int tp = have_syscall_tp("sys_exit_accept4") && have_syscall_tp("sys_exit_accept");
	int kp = have_kprobes(), pl = nacct_kernel_has_perf_links();

	if (mode == NACCT_PROBES_TRACEPOINT && !tp)
		append(missing, mlen, "syscalls:sys_exit_accept4/sys_exit_accept (CONFIG_FTRACE_SYSCALLS, "
				      "tracefs mounted?)");
	else if (mode == NACCT_PROBES_TRACEPOINT && !pl)
		append(missing, mlen, "syscalls:sys_exit_accept4/sys_exit_accept whose link can be "
				      "pinned (BPF perf-event links, 5.15)");
	/* both kinds are perf-event attachments: unpinnable before 5.15 */
	tp = tp && pl;
	kp = kp && pl;
	if (tp && mode != NACCT_PROBES_KPROBE) {
		/* the kretprobe ("?kretprobe/") is not loaded by default */
		choice_add(c, ev, "tracepoint/syscalls/sys_exit_accept[4]", NACCT_PK_TRACEPOINT, 1,
			   mode == NACCT_PROBES_AUTO ? "tracepoint" : "--probes tracepoint");
		return;
	}
	bpf_program__set_autoload(skel->progs.nacct_accept4, false);
	bpf_program__set_autoload(skel->progs.nacct_accept, false);
	if (kp && mode != NACCT_PROBES_TRACEPOINT) {
		bpf_program__set_autoload(skel->progs.nacct_accept_kp, true);
		choice_add(c, ev, sec_of(skel->progs.nacct_accept_kp), NACCT_PK_KPROBE, 1,
			   mode == NACCT_PROBES_KPROBE ? "--probes kprobe"
						       : "no syscall tracepoints in this kernel");
		return;
	}
	skel->rodata->accept_at_handshake = 1;
	choice_add(c, ev, "", NACCT_PK_HANDSHAKE, 1,
		   !pl ? "no pinnable perf-event links (< 5.15): at handshake, no pid"
		       : "no syscall tracepoints (tracefs mounted?) and no kprobes: accept events "
			 "come at the handshake, without the accepting process");
}

/* the programs: tracepoint first, kprobe twin where the tracepoint is missing */
struct probe_choice {
	const char *tp;
	struct bpf_program *tp_prog, *kp_prog;
};

/* ---- kernel symbols ------------------------------------------------------ */

struct ksym {
	__u64 addr;
	char *name;
};
static struct ksym *g_ksyms;
static size_t g_nksyms;
static int g_ksyms_tried;

static int ksym_cmp(const void *a, const void *b)
{
	const struct ksym *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

/* the text symbols of /proc/kallsyms, sorted; -ENOENT when hidden (kptr_restrict) */
static int ksyms_load(void)
{
	unsigned long long addr;
	char line[512], name[256], type;
	size_t cap = 0;
	FILE *f;

	if (g_ksyms_tried)
		return g_nksyms ? 0 : -ENOENT;
	g_ksyms_tried = 1;
	f = fopen("/proc/kallsyms", "r");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%llx %c %255s", &addr, &type, name) != 3 || !addr)
			continue;
		if (type != 't' && type != 'T' && type != 'w' && type != 'W')
			continue;
		if (g_nksyms == cap) {
			struct ksym *n = realloc(g_ksyms, (cap = cap ? cap * 2 : 65536) * sizeof(*n));

			if (!n)
				break;
			g_ksyms = n;
		}
		g_ksyms[g_nksyms].addr = addr;
		g_ksyms[g_nksyms].name = strdup(name);
		if (g_ksyms[g_nksyms].name)
			g_nksyms++;
	}
	fclose(f);
	qsort(g_ksyms, g_nksyms, sizeof(*g_ksyms), ksym_cmp);
	return g_nksyms ? 0 : -ENOENT;
}

const char *nacct_ksym_name(__u64 addr)
{
	size_t lo = 0, hi;

	if (!addr || ksyms_load() || addr < g_ksyms[0].addr)
		return "";
	/* the last symbol at or below addr */
	hi = g_nksyms;
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (g_ksyms[mid].addr <= addr)
			lo = mid;
		else
			hi = mid;
	}
	return g_ksyms[lo].name;
}

/* [start, end) of a kernel function: up to the next symbol */
static int ksym_range(const char *name, struct nacct_site_range *r)
{
	size_t i;

	if (ksyms_load())
		return -ENOENT;
	for (i = 0; i < g_nksyms; i++) {
		if (strcmp(g_ksyms[i].name, name))
			continue;
		r->start = g_ksyms[i].addr;
		while (i + 1 < g_nksyms && g_ksyms[i + 1].addr == r->start)
			i++;
		r->end = i + 1 < g_nksyms ? g_ksyms[i + 1].addr : r->start + 1;
		return 0;
	}
	return -ENOENT;
}

/*
 * Functions whose frees are no drops: tcp_rcv_state_process's
 * NOT_SPECIFIED ones are packets it processed, skb_release_data's are the
 * frag_list members of a packet being freed (the measurements and the
 * rule: count_drop() in probes/nacct_probes.bpf.c).
 */
static const struct {
	const char *name;
	enum nacct_site_kind kind;
} consumed_funcs[] = {
	{ "tcp_rcv_state_process", NACCT_SITE_PROCESSED },
	{ "skb_release_data", NACCT_SITE_MEMBERS },
};

static void fill_consumed(int fd)
{
	struct nacct_site_range r;
	__u32 i, slot = 0;

	for (i = 0; i < sizeof(consumed_funcs) / sizeof(consumed_funcs[0]); i++) {
		if (slot >= NACCT_CONSUMED_SITES)
			break;
		memset(&r, 0, sizeof(r));
		if (ksym_range(consumed_funcs[i].name, &r)) {
			pr_info("probes: %s not in /proc/kallsyms: its frees count as drops\n",
				consumed_funcs[i].name);
			continue;
		}
		r.kind = consumed_funcs[i].kind;
		if (bpf_map_update_elem(fd, &slot, &r, BPF_ANY))
			pr_warn("probes: cannot set the consumed-free sites: %s\n", strerror(errno));
		slot++;
	}
}

/* ---- the pinned set: freshness, readers, lock --------------------------- */

static struct nacct_probe_meta this_meta(void)
{
	struct nacct_probe_meta m = {
		.abi = NACCT_PROBES_ABI,
		.event_size = sizeof(struct nacct_probe_event),
		.tcp_val_size = sizeof(struct nacct_tcp_val),
		.stats_size = sizeof(struct nacct_probe_stats),
	};

	return m;
}

/* 1: the pinned set was loaded by this build; 0: by another (or a broken one) */
static int probes_fresh(void)
{
	struct nacct_probe_meta want = this_meta(), have;
	__u32 zero = 0;
	int fd, ok;

	fd = nacct_map_open(PROBES_DIR, NACCT_MAP_PROBE_META, BPF_MAP_TYPE_ARRAY, 4, sizeof(have));
	if (fd < 0)
		return 0;
	ok = !bpf_map_lookup_elem(fd, &zero, &have) && !memcmp(&have, &want, sizeof(have));
	close(fd);
	/* a set without the choice record is of a build before --probes */
	if (ok) {
		struct nacct_probe_choice c;

		ok = nacct_probes_choice_read(&c) == 0;
	}
	return ok;
}

int nacct_probes_choice_read(struct nacct_probe_choice *c)
{
	__u32 zero = 0;
	int fd, err = 0;

	memset(c, 0, sizeof(*c));
	fd = nacct_map_open(PROBES_DIR, NACCT_MAP_PROBE_CHOICE, BPF_MAP_TYPE_ARRAY, 4, sizeof(*c));
	if (fd < 0)
		return -ENOENT;
	if (bpf_map_lookup_elem(fd, &zero, c))
		err = -errno;
	close(fd);
	if (!err && (c->mode >= NACCT_PROBES_MODES || c->n > NACCT_PROBE_PROGS || !c->n))
		err = -ENOENT; /* not written (yet) */
	return err;
}

/*
 * Does the loaded set's choice meet a forced @mode?  1 yes; 0 no, and @why
 * says which event is watched otherwise.  auto takes any set.
 */
static int choice_meets(const struct nacct_probe_choice *have, int mode, char *why, size_t len)
{
	__u32 i;

	if (mode == NACCT_PROBES_AUTO)
		return 1;
	for (i = 0; i < have->n; i++) {
		const struct nacct_probe_prog *p = &have->p[i];

		if (mode == NACCT_PROBES_TRACEPOINT ? p->kind == NACCT_PK_TRACEPOINT
						    : !p->has_twin || p->kind == NACCT_PK_KPROBE)
			continue;
		snprintf(why, len,
			 "--probes %s: the side programs already loaded on this host (--probes %s) "
			 "watch %s with %s; they serve every attachment and `nacct events` and are "
			 "not replaced under them: detach every interface and end every `nacct "
			 "events`, then load them with --probes %s",
			 nacct_probes_mode_names[mode], nacct_probes_mode_names[have->mode],
			 p->event, p->section[0] ? p->section : "nothing",
			 nacct_probes_mode_names[mode]);
		return 0;
	}
	return 1;
}

static int pid_alive(__u32 pid)
{
	return pid && (kill((pid_t)pid, 0) == 0 || errno == EPERM);
}

/* a reader slot whose process is gone: free it (mask first, then its ring) */
static void reap_slots(int readers, int rings)
{
	struct nacct_ev_reader r, none = { 0 };
	__u32 i;

	for (i = 0; i < NACCT_EV_READERS; i++) {
		if (bpf_map_lookup_elem(readers, &i, &r) || !r.mask || pid_alive(r.pid))
			continue;
		bpf_map_update_elem(readers, &i, &none, BPF_ANY);
		bpf_map_delete_elem(rings, &i);
		pr_debug("probes: freed the slot of reader %u (gone)\n", r.pid);
	}
}

/* pid of a live `nacct events` on the pinned set of any build; 0 none */
static __u32 live_reader(void)
{
	struct nacct_ev_reader r;
	__u32 i, found = 0, buf[64];
	int fd;

	fd = nacct_map_open(PROBES_DIR, NACCT_MAP_EV_READERS, BPF_MAP_TYPE_ARRAY, 4, sizeof(r));
	if (fd >= 0) {
		for (i = 0; i < NACCT_EV_READERS && !found; i++)
			if (!bpf_map_lookup_elem(fd, &i, &r) && r.mask && pid_alive(r.pid))
				found = r.pid;
		close(fd);
		return found;
	}
	/* the first layout: one global switch, on while its one reader ran */
	fd = nacct_map_open(PROBES_DIR, "nacct_probe_cfg" /* the first layout's, no longer pinned */, BPF_MAP_TYPE_ARRAY, 4,
			    sizeof(struct nacct_probe_cfg));
	if (fd >= 0) {
		i = 0;
		if (!bpf_map_lookup_elem(fd, &i, buf) && buf[0])
			found = (__u32)-1;
		close(fd);
	}
	return found;
}

int nacct_probes_ensure(int mode, char *why, size_t len)
{
	LIBBPF_OPTS(bpf_object_open_opts, oopts);
	struct nacct_probes *skel = NULL;
	struct bpf_link *links[16] = { 0 };
	struct nacct_probe_meta meta = this_meta();
	struct nacct_probe_choice choice = { .mode = (__u32)mode }, have;
	struct probe_choice pc[6];
	struct bpf_program *prog;
	char tmp[256] = "", path[512], missing[256] = "", wbuf[512];
	size_t i, nl = 0;
	__u32 zero = 0, rd;
	int err, lk;

	if (!why || !len) {
		why = wbuf;
		len = sizeof(wbuf);
	}
	why[0] = '\0';
	if (mode < 0 || mode >= NACCT_PROBES_MODES)
		return -EINVAL;
	if (mode == NACCT_PROBES_KPROBE && !have_kprobes()) {
		snprintf(why, len,
			 "--probes kprobe: this kernel offers no kprobes (no kprobe PMU in "
			 "/sys/bus/event_source/devices: CONFIG_KPROBE_EVENTS off, or not allowed "
			 "here); --probes auto and tracepoint use its tracepoints");
		return -EOPNOTSUPP;
	}
	if (mode == NACCT_PROBES_KPROBE && !nacct_kernel_has_perf_links()) {
		snprintf(why, len,
			 "--probes kprobe: this kernel cannot pin kprobe links (BPF perf-event "
			 "links arrived in 5.15) and the side programs live on pinned links; "
			 "--probes auto uses its tracepoints");
		return -EOPNOTSUPP;
	}
	lk = nacct_hostset_lock();
	if (lk < 0)
		return lk;
	if (nacct_hostset_links(PROBES_DIR)) {
		if (probes_fresh()) {
			struct nacct_probe_maps m;

			if (nacct_probes_open(&m) == 0) {
				reap_slots(m.readers, m.rings);
				nacct_probes_close(&m);
			}
			err = nacct_probes_choice_read(&have);
			if (!err && !choice_meets(&have, mode, why, len)) {
				err = -EBUSY;
				goto out;
			}
			if (!err)
				pr_info("probes: the side programs are loaded already (--probes %s): "
					"reused\n", nacct_probes_mode_names[have.mode]);
			err = 0;
			goto out;
		}
		rd = live_reader();
		if (rd) {
			if (mode != NACCT_PROBES_AUTO) {
				snprintf(why, len,
					 "--probes %s: the side programs loaded on this host are "
					 "from another nacct build and in use by `nacct events` "
					 "(pid %d); end it first",
					 nacct_probes_mode_names[mode], rd == (__u32)-1 ? -1 : (int)rd);
				err = -EBUSY;
				goto out;
			}
			pr_warn("probes: the attached side programs are from another nacct build, "
				"in use by `nacct events` (pid %d): kept; they are replaced by the "
				"next attach after it ends\n",
				rd == (__u32)-1 ? -1 : (int)rd);
			err = 0;
			goto out;
		}
		pr_info("probes: replacing side programs pinned by another nacct build\n");
	}
	/* a stale set, or a directory without links (a killed run left it behind) */
	err = nacct_rm_pin_dir(PROBES_DIR);
	if (err)
		goto out;
	nacct_pin_tmp_dir(NACCT_PROBES_PIN, tmp, sizeof(tmp));
	if (mkdir(tmp, 0700)) {
		err = -errno;
		tmp[0] = '\0';
		goto out;
	}
	oopts.pin_root_path = tmp;
	skel = nacct_probes__open_opts(&oopts);
	if (!skel) {
		err = -errno;
		goto out;
	}
	pc[0] = (struct probe_choice){ "kfree_skb", skel->progs.nacct_drop, NULL };
	pc[1] = (struct probe_choice){ "tcp_retransmit_skb", skel->progs.nacct_retrans,
				       skel->progs.nacct_retrans_kp };
	pc[2] = (struct probe_choice){ "inet_sock_set_state", skel->progs.nacct_state,
				       skel->progs.nacct_state_kp };
	pc[3] = (struct probe_choice){ "tcp_probe", skel->progs.nacct_rtt, skel->progs.nacct_rtt_kp };
	pc[4] = (struct probe_choice){ "tcp_receive_reset", skel->progs.nacct_rst_rx,
				       skel->progs.nacct_rst_rx_kp };
	pc[5] = (struct probe_choice){ "tcp_send_reset", skel->progs.nacct_rst_tx,
				       skel->progs.nacct_rst_tx_kp };
	/*
	 * auto: the tracepoint, its twin where the kernel lacks it; kprobe:
	 * every twin (tests run the twins this way on kernels that have both);
	 * tracepoint: a missing one is refused below, by name
	 */
	for (i = 0; i < 6; i++) {
		int tp = have_tracepoint(pc[i].tp), twin = pc[i].kp_prog != NULL;
		int kp_ok = nacct_kernel_has_perf_links(); /* a kprobe link can be pinned */

		if (mode == NACCT_PROBES_TRACEPOINT && !tp)
			append(missing, sizeof(missing), pc[i].tp);
		if (tp && !(mode == NACCT_PROBES_KPROBE && twin)) {
			const char *w = mode == NACCT_PROBES_TRACEPOINT ? "--probes tracepoint"
					: mode == NACCT_PROBES_KPROBE	? "--probes kprobe: no kprobe twin"
									: "tracepoint";
			char wb[sizeof(choice.p[0].why)];

			/* the one event whose arguments grew: say what is missing */
			if (pc[i].tp_prog == skel->progs.nacct_drop && !nacct_kernel_has_drop_reasons()) {
				snprintf(wb, sizeof(wb), "%s, no reasons (< 5.17)",
					 w);
				w = wb;
			}
			choice_add(&choice, pc[i].tp, sec_of(pc[i].tp_prog), NACCT_PK_TRACEPOINT, twin, w);
			continue;
		}
		bpf_program__set_autoload(pc[i].tp_prog, false);
		if (twin && kp_ok && mode != NACCT_PROBES_TRACEPOINT) {
			int state = pc[i].kp_prog == skel->progs.nacct_state_kp;
			int rtx = pc[i].kp_prog == skel->progs.nacct_retrans_kp;

			bpf_program__set_autoload(pc[i].kp_prog, true);
			/* the retransmits counted as TcpRetransSegs counts them:
			 * the growth of total_retrans across the call, and
			 * across the tail loss probe's */
			if (rtx) {
				bpf_program__set_autoload(skel->progs.nacct_retrans_ret_kp, true);
				bpf_program__set_autoload(skel->progs.nacct_tlp_kp, true);
				bpf_program__set_autoload(skel->progs.nacct_tlp_ret_kp, true);
			}
			/* the changes tcp_set_state() does not make: SYN_RECV, LISTEN */
			if (state) {
				bpf_program__set_autoload(skel->progs.nacct_synrecv_kp, true);
				bpf_program__set_autoload(skel->progs.nacct_listen_kp, true);
				bpf_program__set_autoload(skel->progs.nacct_listen_ret_kp, true);
			}
			choice_add(&choice, pc[i].tp, sec_of(pc[i].kp_prog), NACCT_PK_KPROBE, 1,
				   mode == NACCT_PROBES_KPROBE
					   ? (state ? "--probes kprobe; and inet_csk_clone_lock, "
						      "inet_csk_listen_start"
					      : rtx ? "--probes kprobe; and tcp_send_loss_probe"
						    : "--probes kprobe")
				   : state ? "no tracepoint; and inet_csk_clone_lock, inet_csk_listen_start"
				   : rtx   ? "no tracepoint; and tcp_send_loss_probe"
					   : "no tracepoint in this kernel");
		} else {
			choice_add(&choice, pc[i].tp, "", NACCT_PK_OFF, twin,
				   twin ? "no tracepoint, and no pinnable kprobe link (< 5.15): "
					  "event off"
					: "no tracepoint in this kernel and no kprobe twin: event off");
		}
	}
	choose_accept(skel, mode, &choice, missing, sizeof(missing));
	if (missing[0]) {
		snprintf(why, len,
			 "--probes tracepoint: this kernel has no tracepoint %s; --probes auto "
			 "takes the kprobe twin where there is one", missing);
		err = -EOPNOTSUPP;
		goto out;
	}
	err = nacct_probes__load(skel);
	if (err)
		goto out;
	fill_consumed(bpf_map__fd(skel->maps.nacct_drop_consumed));
	if (bpf_map_update_elem(bpf_map__fd(skel->maps.nacct_probe_meta), &zero, &meta, BPF_ANY) ||
	    bpf_map_update_elem(bpf_map__fd(skel->maps.nacct_probe_choice), &zero, &choice,
				BPF_ANY)) {
		err = -errno;
		goto out;
	}
	bpf_object__for_each_program(prog, skel->obj)
	{
		struct bpf_link *l;

		if (!bpf_program__autoload(prog))
			continue;
		l = bpf_program__attach(prog);
		if (!l) {
			err = -errno;
			if (mode == NACCT_PROBES_KPROBE && strstr(sec_of(prog), "probe/")) {
				snprintf(why, len, "--probes kprobe: the kernel refused %s: %s (kprobes "
					 "not usable here); --probes auto and tracepoint use its "
					 "tracepoints", sec_of(prog), strerror(-err));
				err = -EOPNOTSUPP;
				goto out;
			}
			pr_warn("probes: cannot attach %s: %s\n", bpf_program__name(prog),
				strerror(-err));
			goto out;
		}
		links[nl++] = l;
		snprintf(path, sizeof(path), "%s/" NACCT_PIN_LINK_PREFIX "%s", tmp,
			 bpf_program__name(prog));
		err = bpf_link__pin(l, path);
		if (err)
			goto out;
		if (nl == sizeof(links) / sizeof(links[0]))
			break;
	}
	/* publish; a concurrent run that published first wins (and its
	 * choice is checked against ours like any loaded set's) */
	if (rename(tmp, PROBES_DIR)) {
		err = -errno;
		if (err == -EEXIST || err == -ENOTEMPTY) {
			err = nacct_hostset_links(PROBES_DIR) ? 0 : err;
			if (!err && !nacct_probes_choice_read(&have) &&
			    !choice_meets(&have, mode, why, len))
				err = -EBUSY;
		}
		goto out;
	}
	tmp[0] = '\0';
	err = 1;
out:
	for (i = 0; i < nl; i++)
		bpf_link__destroy(links[i]); /* the pins keep them attached */
	nacct_probes__destroy(skel);
	if (tmp[0])
		nacct_rm_pin_dir(tmp);
	nacct_hostset_unlock(lk);
	if (err < 0 && !why[0])
		pr_warn("probes: cannot attach the side programs: %s\n", strerror(-err));
	else if (err < 0 && why == wbuf)
		pr_warn("probes: %s\n", why);
	return err;
}

/* any attachment, in any network namespace, still in place? */
int nacct_probes_release_if_unused(void)
{
	struct stat st;
	int err;

	int lk;

	if (stat(PROBES_DIR, &st) || nacct_hostset_attachments())
		return 0;
	lk = nacct_hostset_lock();
	/* a `nacct events` still reading them keeps them (it removes them when
	 * it ends, by this same call) */
	if (live_reader()) {
		nacct_hostset_unlock(lk);
		return 0;
	}
	/* unpinning the links detaches the programs */
	err = nacct_rm_pin_dir(PROBES_DIR);
	nacct_hostset_unlock(lk);
	if (err) {
		pr_warn("probes: cannot remove %s: %s\n", PROBES_DIR, strerror(-err));
		return err;
	}
	pr_debug("probes: side programs removed\n");
	return 1;
}

int nacct_ev_reader_open(const struct nacct_probe_maps *m, const struct nacct_ev_reader *want,
			 int *ring_fd)
{
	struct nacct_ev_reader r;
	int lk, slot = -EBUSY, rfd = -1, err;
	__u32 i;

	lk = nacct_hostset_lock();
	if (lk < 0)
		return lk;
	reap_slots(m->readers, m->rings);
	for (i = 0; i < NACCT_EV_READERS; i++) {
		if (!bpf_map_lookup_elem(m->readers, &i, &r) && !r.mask) {
			slot = i;
			break;
		}
	}
	if (slot < 0)
		goto out;
	rfd = bpf_map_create(BPF_MAP_TYPE_RINGBUF, "nacct_ev_ring", 0, 0, NACCT_EV_RING_SIZE, NULL);
	if (rfd < 0) {
		slot = -errno;
		goto out;
	}
	i = slot;
	/* the ring first: the programs look at the mask, then at the ring */
	if (bpf_map_update_elem(m->rings, &i, &rfd, BPF_ANY))
		goto fail;
	r = *want;
	r.pid = getpid();
	r.lost = 0;
	if (bpf_map_update_elem(m->readers, &i, &r, BPF_ANY)) {
		err = -errno;
		bpf_map_delete_elem(m->rings, &i);
		errno = -err;
		goto fail;
	}
	*ring_fd = rfd;
	goto out;
fail:
	slot = -errno;
	close(rfd);
out:
	nacct_hostset_unlock(lk);
	return slot;
}

__u64 nacct_ev_reader_lost(const struct nacct_probe_maps *m, int slot)
{
	struct nacct_ev_reader r;
	__u32 i = slot;

	if (slot < 0 || bpf_map_lookup_elem(m->readers, &i, &r))
		return 0;
	return r.lost;
}

void nacct_ev_reader_close(const struct nacct_probe_maps *m, int slot, int ring_fd)
{
	struct nacct_ev_reader none = { 0 };
	__u32 i = slot;
	int lk;

	if (slot < 0)
		return;
	lk = nacct_hostset_lock();
	bpf_map_update_elem(m->readers, &i, &none, BPF_ANY);
	bpf_map_delete_elem(m->rings, &i);
	nacct_hostset_unlock(lk);
	if (ring_fd >= 0)
		close(ring_fd);
}
