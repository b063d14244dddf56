/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The tunnel unit tests (tests/unit/tun.c) */
#ifndef NACCT_UT_TUN_H
#define NACCT_UT_TUN_H

struct ut;

/* every tunnel case on a loaded harness (run_suite: each layout and variant) */
void tun_suite(struct ut *u);
/* --decap off and --tunnel-ports, each on a load of its own */
void tun_switches(void);

#endif /* NACCT_UT_TUN_H */
