/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
#ifndef NACCT_ATTACH_H
#define NACCT_ATTACH_H

#include <linux/types.h>

/* remove an attachment given its pin directory (programs, filters, pins) */
int nacct_detach_dir(const char *ifname, const char *dir, int quiet);
int nacct_rm_pin_dir(const char *dir);
/*
 * What a killed attach/detach left on ifname while it is not attached
 * (unpublished pin directories, nacct TC filters): how many, described in
 * buf; 0 when nothing.  'nacct detach' (and the next attach) removes it.
 */
int nacct_half_attached(const char *ifname, char *buf, size_t len);

#endif /* NACCT_ATTACH_H */
