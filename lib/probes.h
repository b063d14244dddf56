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

/* make sure the side programs are attached: 1 added now, 0 already there, -errno */
int nacct_probes_ensure(void);
/* remove them when no interface (in any netns) is attached: 1 removed, 0 kept, -errno */
int nacct_probes_release_if_unused(void);

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
