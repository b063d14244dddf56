/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The tunnels of an attachment (nacct_tunnels, maps/decap.h): read once
 * per listing, found by the handle a flow key carries.
 */
#ifndef NACCT_TUNNELS_H
#define NACCT_TUNNELS_H

#include <stddef.h>
#include <linux/types.h>
#include "../maps/nacct.h"

/* "vxlan", "geneve", ... by enum nacct_tun_type ("" for NACCT_TUN_NONE) */
extern const char *const nacct_tun_type_names[NACCT_TUN_MAX];
/* the type's name, or "unknown" */
const char *nacct_tun_type_name(__u8 type);

struct nacct_tun {
	__u64 handle;
	__u64 first_seen;
	struct nacct_tun_key key;
};

/* an attachment's tunnels, sorted by handle */
struct nacct_tuns {
	struct nacct_tun *v;
	size_t n;
};

/* read the tunnel map (fd < 0: none, an empty table); 0 or -errno */
int nacct_tuns_read(int fd, struct nacct_tuns *t);
/* the tunnel of a handle (NULL: 0, or an entry no longer there) */
const struct nacct_tun *nacct_tuns_find(const struct nacct_tuns *t, __u64 handle);
void nacct_tuns_free(struct nacct_tuns *t);

/* "vxlan:100" (TYPE, with :ID where the type has one or it is not 0) */
const char *nacct_tun_label(const struct nacct_tun_key *k, char *buf, size_t len);
/* "vxlan:100 198.18.0.1-198.18.0.2": the label and the outer endpoints */
const char *nacct_tun_label_long(const struct nacct_tun_key *k, char *buf, size_t len);

#endif /* NACCT_TUNNELS_H */
