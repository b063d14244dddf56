/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * nacct beside other XDP programs (lib/dispatcher.c): libxdp's multi-program
 * dispatcher.  The dispatcher is the XDP program on the interface; each
 * component program is an freplace (BPF_PROG_TYPE_EXT) program linked into
 * one of its slots, its link pinned by libxdp under /sys/fs/bpf/xdp/.  Like
 * the rest of lib/, this prints nothing (libxdp's own messages go through
 * lib/log.c at -v).
 */
#ifndef NACCT_DISPATCHER_H
#define NACCT_DISPATCHER_H

#include <stddef.h>
#include <string.h>
#include <linux/types.h>
#include <bpf/libbpf.h>

/*
 * nacct's place in the dispatcher's run order (libxdp: lower runs first;
 * xdp-filter's is 10, libxdp's default 50): first, so that it counts
 * every packet before another program may drop or redirect it.  Its
 * XDP_PASS goes on to the next program (libxdp's default chain-call
 * action).
 */
#define NACCT_DISPATCHER_RUN_PRIO 1

/*
 * Is an XDP program of this name nacct's?  nacct_xdp, or its compat twin
 * nacct_xdp_compat (kernels before 5.12), which the kernel names by its
 * first 15 characters; libxdp may give the whole name (from the BTF).
 */
static inline int nacct_xdp_prog_ours(const char *name)
{
	return name && (!strcmp(name, "nacct_xdp") || !strcmp(name, "nacct_xdp_compat") ||
			!strcmp(name, "nacct_xdp_compa"));
}

/* what is on an interface's XDP hook, as libxdp sees it */
struct nacct_dispatcher {
	__u32 id;         /* the dispatcher's program id; 0: no dispatcher */
	__u32 legacy_id;  /* a program loaded without a dispatcher (0: none) */
	char legacy_name[16];
	int mode;         /* enum nacct_xdp_mode: native or generic */
	int frags;        /* the dispatcher takes multi-buffer frames */
	int n_progs;      /* component programs, nacct's included */
	int n_others;     /* those that are not @self nor nacct's */
	char others[160]; /* "NAME id N, NAME id N": the others, "none" */
	/* nacct programs in it other than @self: what a killed attach left */
	__u32 stale[4];
	int n_stale;
};

/*
 * Look at ifindex's XDP hook: 0 and @d filled (d->id 0 and d->legacy_id 0:
 * nothing there); a negative errno when libxdp cannot read it.  @self: the
 * program id left out of d->others (0: none).
 */
int nacct_dispatcher_query(int ifindex, __u32 self, struct nacct_dispatcher *d);

/*
 * Does the kernel let an freplace program replace a function of an XDP
 * program (what every dispatcher slot needs)?  Asked once per process by
 * loading two two-instruction programs; 0 yes, else the kernel's -errno
 * with the step that failed in @why.
 */
int nacct_freplace_probe(char *why, size_t len);

/*
 * Load @prog of the opened (not loaded) object @obj as an freplace program
 * and link it into the dispatcher on ifindex (libxdp makes one with
 * nacct alone, or a new one with nacct beside the programs already there,
 * replacing the old one atomically).  @mode: NACCT_MODE_NATIVE or _GENERIC.
 * On success *prog_id is the loaded program's id (the object's maps and
 * program fds are usable as after a load).
 */
int nacct_dispatcher_join(struct bpf_object *obj, struct bpf_program *prog, int ifindex, int mode,
			  __u32 *prog_id);

/*
 * Take program prog_id out of the dispatcher on ifindex, leaving the others
 * running (the last one out removes the dispatcher).  -ENOENT: it is not
 * there (the dispatcher or the program already gone).
 */
int nacct_dispatcher_leave(int ifindex, __u32 prog_id);

#endif /* NACCT_DISPATCHER_H */
