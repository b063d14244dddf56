/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Which program watches each side event, and why: written by the loader
 * (lib/probes.c) into nacct_probe_choice, pinned with the set under
 * NACCT_PIN_ROOT/:probes, read by `nacct status` and by the next loader
 * (a forced --probes mode reuses a set only if it made the same choice).
 * Shared by probes/nacct_probes.bpf.c (which only declares the map) and
 * user space.
 */
#ifndef NACCT_PROBES_CHOICE_H
#define NACCT_PROBES_CHOICE_H

/* the map's pin (LIBBPF_PIN_BY_NAME: its C name) */
#define NACCT_MAP_PROBE_CHOICE "nacct_probe_choice"

/* --probes: index = enum value, names in nacct_probes_mode_names[] */
enum nacct_probes_mode {
	NACCT_PROBES_AUTO = 0,   /* tracepoints, a kprobe twin where one is missing */
	NACCT_PROBES_TRACEPOINT, /* tracepoints only: a missing one is an error */
	NACCT_PROBES_KPROBE,     /* every kprobe twin, even where the tracepoint exists */
	NACCT_PROBES_MODES,
};

/* what a side event is watched by */
enum nacct_probe_kind {
	NACCT_PK_OFF = 0,     /* nothing: the event is not reported */
	NACCT_PK_TRACEPOINT,  /* its tracepoint (tp_btf, or a syscall tracepoint) */
	NACCT_PK_KPROBE,      /* its kprobe (or kretprobe) twin */
	NACCT_PK_HANDSHAKE,   /* accept only: sent at the handshake, without the process */
	NACCT_PK_KINDS,
};

#define NACCT_PROBE_PROGS 8
struct nacct_probe_prog {
	char event[24];   /* the tracepoint it stands for: "tcp_retransmit_skb" */
	char section[48]; /* what is attached: "kprobe/tcp_retransmit_skb"; "" none */
	char why[72];     /* why this one: "--probes kprobe", "no tracepoint in this kernel" */
	__u32 kind;       /* enum nacct_probe_kind */
	__u32 has_twin;   /* a kprobe twin exists in the object */
};
struct nacct_probe_choice {
	__u32 mode; /* enum nacct_probes_mode the set was loaded with */
	__u32 n;    /* entries used in p[] */
	struct nacct_probe_prog p[NACCT_PROBE_PROGS];
};

#endif /* NACCT_PROBES_CHOICE_H */
