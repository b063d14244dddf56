/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The host-wide pinned sets beside the attachments (NACCT_PIN_ROOT/:probes,
 * the side programs; NACCT_PIN_ROOT/:txq, the TX queue program): what
 * loading, publishing and removing them share.  Changes to a set hold an
 * flock on NACCT_PIN_ROOT.
 */
#ifndef NACCT_HOSTSET_H
#define NACCT_HOSTSET_H

/* take the lock (creating NACCT_PIN_ROOT if needed): an fd, or -errno */
int nacct_hostset_lock(void);
void nacct_hostset_unlock(int fd);
/* pinned links (NACCT_PIN_LINK_PREFIX...) in @dir */
int nacct_hostset_links(const char *dir);
/* attachments on the host, every network namespace's */
int nacct_hostset_attachments(void);

#endif /* NACCT_HOSTSET_H */
