/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * nacct attach --mode offload: the XDP program runs on the NIC
 * (xdp/nacct_offload.bpf.c); TC egress stays on the host as in every mode.
 */
#ifndef NACCT_OFFLOAD_H
#define NACCT_OFFLOAD_H

#include <stdio.h>
#include "../maps/nacct.h"

#include <stddef.h>

/*
 * Can ifname run nacct's XDP program on the NIC?  0, or -EOPNOTSUPP /
 * -EINVAL / -ENODEV with what it lacks in why.
 */
int nacct_offload_check(const char *ifname, int xdp_hook, char *why, size_t len);
/*
 * Load the offload variant bound to ifindex, pin its program (prog_xdp)
 * and map (nacct_hw_stats) into dir, attach it with XDP_FLAGS_HW_MODE
 * through a bpf_link (*link_fd) and fill meta's mode and reason.
 */
int nacct_offload_attach(int ifindex, const char *dir, struct nacct_meta *meta, int *link_fd);
#endif /* NACCT_OFFLOAD_H */
