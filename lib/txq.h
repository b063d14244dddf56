/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The TX rows of the per-queue counters: one tracing program for the host
 * (tc/nacct_txq.bpf.c), pinned under NACCT_PIN_ROOT/:txq with its map of
 * attached devices; each attachment registers its nacct_queues there.
 */
#ifndef NACCT_TXQ_H
#define NACCT_TXQ_H

/*
 * Count TX queues of @ifindex (this network namespace) into the queue map
 * @queues_fd, loading the host's program first if it is not there.
 * 0, or -errno (a kernel without tp_btf or maps of maps).
 */
int nacct_txq_register(int ifindex, int queues_fd);
/* stop counting @ifindex's TX queues; the host's program goes with the
 * last attachment of the host */
void nacct_txq_unregister(int ifindex);

#endif /* NACCT_TXQ_H */
