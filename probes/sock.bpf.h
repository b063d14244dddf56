/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The socket constants every program beside vmlinux.h needs and
 * vmlinux.h does not carry (they are macros in the kernel): address
 * families and TCP states (include/net/tcp_states.h, stable numbers).
 * One copy for the side programs and the tools (the probes folder).
 */
#ifndef NACCT_SOCK_BPF_H
#define NACCT_SOCK_BPF_H

#ifndef AF_INET
#define AF_INET 2
#endif
#ifndef AF_INET6
#define AF_INET6 10
#endif

#define NACCT_TCP_ESTABLISHED 1
#define NACCT_TCP_SYN_SENT 2
#define NACCT_TCP_SYN_RECV 3
#define NACCT_TCP_FIN_WAIT1 4
#define NACCT_TCP_CLOSE 7
#define NACCT_TCP_LAST_ACK 9
#define NACCT_TCP_LISTEN 10

#endif /* NACCT_SOCK_BPF_H */
