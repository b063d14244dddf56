// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * nacct beside other XDP programs: joining and leaving libxdp's dispatcher
 * (lib/dispatcher.h).
 *
 * libxdp owns the dispatcher and the links of its component programs (its
 * pins under /sys/fs/bpf/xdp/dispatch-IFINDEX-ID/, taken under its lock);
 * nacct keeps its own program pinned in its attachment's directory and
 * finds itself in the dispatcher by that program's id.  Where the kernel
 * refuses freplace, libxdp would quietly load a lone program instead
 * ("falling back to loading single prog without dispatcher"): nacct asks
 * the kernel first (nacct_freplace_probe) and checks the result, so that
 * an attach asked to share the hook never takes it alone.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

#include "log.h"
#include "dispatcher.h"
#include "../maps/nacct.h"

/* libxdp's messages: nacct reports every failure itself; theirs at -vv */
static int libxdp_print(enum libxdp_print_level level, const char *fmt, va_list ap)
{
	if (nacct_log_level < NACCT_LOG_DEBUG + 1)
		return 0;
	fputs("libxdp: ", stderr);
	return vfprintf(stderr, fmt, ap);
}

static void libxdp_quiet(void)
{
	static int done;

	if (!done)
		libxdp_set_print(libxdp_print);
	done = 1;
}

int nacct_dispatcher_query(int ifindex, __u32 self, struct nacct_dispatcher *d)
{
	struct xdp_program *p = NULL, *main_prog;
	struct xdp_multiprog *mp;
	size_t off = 0;
	long err;

	memset(d, 0, sizeof(*d));
	libxdp_quiet();
	mp = xdp_multiprog__get_from_ifindex(ifindex);
	err = libxdp_get_error(mp);
	if (err == -ENOENT || (!err && !mp))
		return 0;
	if (err)
		return (int)err;
	d->mode = xdp_multiprog__attach_mode(mp) == XDP_MODE_SKB ? NACCT_MODE_GENERIC :
								   NACCT_MODE_NATIVE;
	main_prog = xdp_multiprog__main_prog(mp);
	if (xdp_multiprog__is_legacy(mp)) {
		d->legacy_id = xdp_program__id(main_prog);
		snprintf(d->legacy_name, sizeof(d->legacy_name), "%s",
			 xdp_program__name(main_prog) ? xdp_program__name(main_prog) : "");
		goto out;
	}
	d->id = xdp_program__id(main_prog);
	d->frags = xdp_multiprog__xdp_frags_support(mp);
	while ((p = xdp_multiprog__next_prog(p, mp))) {
		d->n_progs++;
		if (xdp_program__id(p) == self)
			continue;
		if (nacct_xdp_prog_ours(xdp_program__name(p))) {
			if (d->n_stale < (int)(sizeof(d->stale) / sizeof(d->stale[0])))
				d->stale[d->n_stale++] = xdp_program__id(p);
			continue;
		}
		if (off < sizeof(d->others))
			off += snprintf(d->others + off, sizeof(d->others) - off, "%s%s id %u",
					d->n_others ? ", " : "", xdp_program__name(p) ? xdp_program__name(p) : "?",
					xdp_program__id(p));
		d->n_others++;
	}
	if (!d->n_others)
		snprintf(d->others, sizeof(d->others), "none");
out:
	xdp_multiprog__close(mp);
	return 0;
}

/*
 * `int f(struct xdp_md *ctx)` as BTF, for the probe's two programs (the
 * signature of every dispatcher slot); the BTF's fd, @func its FUNC's id
 */
static struct btf *probe_btf(int *func)
{
	struct btf *btf = btf__new_empty();
	int i32, ctx, ptr, proto;

	if (!btf)
		return NULL;
	i32 = btf__add_int(btf, "int", 4, BTF_INT_SIGNED);
	ctx = btf__add_struct(btf, "xdp_md", 24);
	ptr = btf__add_ptr(btf, ctx);
	proto = btf__add_func_proto(btf, i32);
	if (i32 < 0 || ctx < 0 || ptr < 0 || proto < 0 || btf__add_func_param(btf, "ctx", ptr) ||
	    (*func = btf__add_func(btf, "nacct_slot", BTF_FUNC_GLOBAL, proto)) < 0 ||
	    btf__load_into_kernel(btf)) {
		btf__free(btf);
		return NULL;
	}
	return btf;
}

int nacct_freplace_probe(char *why, size_t len)
{
	static int res = 1; /* 1: not asked yet */
	static char res_why[96];
	const struct bpf_insn pass[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = XDP_PASS },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	LIBBPF_OPTS(bpf_prog_load_opts, o);
	struct bpf_func_info fi = { .insn_off = 0 };
	int tgt = -1, ext = -1, lnk = -1, func = 0;
	struct btf *btf;

	if (res <= 0)
		goto out;
	btf = probe_btf(&func);
	if (!btf) {
		res = errno ? -errno : -EINVAL;
		snprintf(res_why, sizeof(res_why), "loading BTF");
		goto out;
	}
	fi.type_id = func;
	o.prog_btf_fd = btf__fd(btf);
	o.func_info = &fi;
	o.func_info_cnt = 1;
	o.func_info_rec_size = sizeof(fi);
	tgt = bpf_prog_load(BPF_PROG_TYPE_XDP, "nacct_fr_tgt", "GPL", pass, 2, &o);
	if (tgt < 0) {
		res = -errno;
		snprintf(res_why, sizeof(res_why), "loading an XDP program with BTF");
		goto done;
	}
	o.attach_prog_fd = tgt;
	o.attach_btf_id = func;
	ext = bpf_prog_load(BPF_PROG_TYPE_EXT, "nacct_fr_ext", "GPL", pass, 2, &o);
	if (ext < 0) {
		res = -errno;
		snprintf(res_why, sizeof(res_why), "loading an freplace program");
		goto done;
	}
	lnk = bpf_raw_tracepoint_open(NULL, ext);
	if (lnk < 0) {
		res = -errno;
		snprintf(res_why, sizeof(res_why), "linking an freplace program to an XDP program");
		goto done;
	}
	res = 0;
done:
	if (lnk >= 0)
		close(lnk);
	if (ext >= 0)
		close(ext);
	if (tgt >= 0)
		close(tgt);
	btf__free(btf);
out:
	if (why && len)
		snprintf(why, len, "%s", res ? res_why : "");
	return res;
}

int nacct_dispatcher_join(struct bpf_object *obj, struct bpf_program *prog, int ifindex, int mode,
			  __u32 *prog_id)
{
	DECLARE_LIBXDP_OPTS(xdp_program_opts, o, .obj = obj, .prog_name = bpf_program__name(prog));
	enum xdp_attach_mode xm = mode == NACCT_MODE_NATIVE  ? XDP_MODE_NATIVE :
				  mode == NACCT_MODE_GENERIC ? XDP_MODE_SKB :
							       XDP_MODE_UNSPEC;
	struct nacct_dispatcher d;
	struct xdp_program *xp;
	long err;

	libxdp_quiet();
	xp = xdp_program__create(&o);
	err = libxdp_get_error(xp);
	if (err)
		return (int)err;
	xdp_program__set_run_prio(xp, NACCT_DISPATCHER_RUN_PRIO);
	xdp_program__set_chain_call_enabled(xp, XDP_PASS, true);
	err = xdp_program__attach(xp, ifindex, xm, 0);
	if (err)
		goto out;
	*prog_id = xdp_program__id(xp);
	/* libxdp falls back to a lone program when the kernel refuses the
	 * dispatcher after all: that is not what was asked, take it back */
	if (nacct_dispatcher_query(ifindex, *prog_id, &d) || !d.id) {
		xdp_program__detach(xp, ifindex, XDP_MODE_UNSPEC, 0);
		err = -EOPNOTSUPP;
	}
out:
	xdp_program__close(xp);
	return (int)err;
}

int nacct_dispatcher_leave(int ifindex, __u32 prog_id)
{
	struct nacct_dispatcher d;
	struct xdp_program *xp;
	long err;

	/* the dispatcher's own mode: without one the kernel would take the
	 * replacement as native where the driver has it, and refuse it
	 * beside a generic one */
	err = nacct_dispatcher_query(ifindex, 0, &d);
	if (err)
		return (int)err;
	if (!d.id)
		return -ENOENT;
	xp = xdp_program__from_id(prog_id);
	err = libxdp_get_error(xp);
	if (err)
		return (int)err;
	err = xdp_program__detach(xp, ifindex,
				  d.mode == NACCT_MODE_GENERIC ? XDP_MODE_SKB : XDP_MODE_NATIVE, 0);
	xdp_program__close(xp);
	return (int)err;
}
