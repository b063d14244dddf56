/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The side programs (probes/): global, one set per host, pinned with
 * their links and maps under NACCT_PIN_ROOT/:probes.
 */
#ifndef NACCT_PROBES_H
#define NACCT_PROBES_H

#include <stddef.h>
#include <stdio.h>
#include <linux/types.h>
#include "../maps/nacct.h"
#include "../probes/choice.h"

/* "auto", "tracepoint", "kprobe": index = enum nacct_probes_mode, NULL-terminated */
extern const char *const nacct_probes_mode_names[];
/* "off", "tracepoint", "kprobe", "handshake": index = enum nacct_probe_kind */
extern const char *const nacct_probe_kind_names[];

/*
 * Make sure the side programs are attached, chosen by @mode (enum
 * nacct_probes_mode): 1 added now, 0 already there, -errno.  A forced mode
 * the kernel or the loaded set cannot meet is refused with -EOPNOTSUPP (a
 * tracepoint, or kprobes, missing) or -EBUSY (the set already loaded made
 * another choice; it serves every attachment and reader and is not
 * replaced under them), @why (may be NULL) saying what; nothing is left
 * attached by a refusal.  With NACCT_PROBES_AUTO any loaded set is reused.
 */
int nacct_probes_ensure(int mode, char *why, size_t len);
/* 1: kprobe and classic tracepoint links can be pinned (BPF perf-event links, 5.15+) */
int nacct_kernel_has_perf_links(void);
/* remove them when no interface (in any netns) is attached and no
 * `nacct events` reads them: 1 removed, 0 kept, -errno */
int nacct_probes_release_if_unused(void);
/* the choice the pinned set was loaded with: 0, -ENOENT no set (or one of
 * a build that did not record it) */
int nacct_probes_choice_read(struct nacct_probe_choice *c);
/* one program's line: "tcp_retransmit_skb: kprobe/tcp_retransmit_skb (--probes kprobe)" */
const char *nacct_probe_prog_str(const struct nacct_probe_prog *p, char *buf, size_t len);

#include "side.h"

/*
 * A reader slot for `nacct events`: its own ring buffer, event mask (bit
 * 1 << enum nacct_ev_type) and filters (@want; pid is filled in here), so
 * concurrent readers do not interfere.
 * Returns the slot and the ring's fd in *ring_fd; -EBUSY when all
 * NACCT_EV_READERS slots are taken by live readers.
 */
int nacct_ev_reader_open(const struct nacct_probe_maps *m, const struct nacct_ev_reader *want,
			 int *ring_fd);
/* events lost for this reader (its ring was full) */
__u64 nacct_ev_reader_lost(const struct nacct_probe_maps *m, int slot);
void nacct_ev_reader_close(const struct nacct_probe_maps *m, int slot, int ring_fd);

/* the kernel text symbol containing @addr ("" unknown); never the address */
const char *nacct_ksym_name(__u64 addr);

#endif /* NACCT_PROBES_H */
