/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
#ifndef NACCT_ATTACH_H
#define NACCT_ATTACH_H

#include <linux/types.h>

const char *nacct_mode_str(__u32 mode);
/* remove an attachment given its pin directory (programs, filters, pins) */
int nacct_detach_dir(const char *ifname, const char *dir, int quiet);
int nacct_rm_pin_dir(const char *dir);

#endif /* NACCT_ATTACH_H */
