/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * nacct attach --mode offload: the XDP program runs on the NIC
 * (xdp/nacct_offload.bpf.c); TC egress stays on the host as in every mode.
 */
#ifndef NACCT_OFFLOAD_H
#define NACCT_OFFLOAD_H

#include <stdio.h>
#include "../maps/nacct.h"

struct nacct_config;

/* 0, or NACCT_EXIT_USAGE after naming what the interface lacks */
int nacct_offload_check(const struct nacct_config *cfg);
/*
 * Load the offload variant bound to ifindex, pin its program (prog_xdp)
 * and map (nacct_hw_stats) into dir, attach it with XDP_FLAGS_HW_MODE
 * through a bpf_link (*link_fd) and fill meta's mode and reason.
 */
int nacct_offload_attach(int ifindex, const char *dir, struct nacct_meta *meta, int *link_fd);
#endif /* NACCT_OFFLOAD_H */
