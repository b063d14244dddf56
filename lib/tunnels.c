// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>

#include <stdio.h>

#include "tunnels.h"
#include "names.h"

const char *const nacct_tun_type_names[NACCT_TUN_MAX] = {
	[NACCT_TUN_NONE] = "",        [NACCT_TUN_VXLAN] = "vxlan",   [NACCT_TUN_GENEVE] = "geneve",
	[NACCT_TUN_GRE] = "gre",      [NACCT_TUN_GRETAP] = "gretap", [NACCT_TUN_IPIP] = "ipip",
	[NACCT_TUN_SIT] = "sit",      [NACCT_TUN_IP6IP6] = "ip6ip6", [NACCT_TUN_IP4IN6] = "ip4in6",
	[NACCT_TUN_MPLS] = "mpls",
};

const char *nacct_tun_type_name(__u8 type)
{
	return type < NACCT_TUN_MAX && nacct_tun_type_names[type] ? nacct_tun_type_names[type]
								  : "unknown";
}

static int by_handle(const void *a, const void *b)
{
	const struct nacct_tun *x = a, *y = b;

	return x->handle < y->handle ? -1 : x->handle > y->handle;
}

int nacct_tuns_read(int fd, struct nacct_tuns *t)
{
	struct nacct_tun_key k, *prev = NULL;
	struct nacct_tun_val v;
	size_t cap = 0;

	memset(t, 0, sizeof(*t));
	if (fd < 0)
		return 0;
	/* a small map (tunnels, not flows): one lookup per entry */
	while (!bpf_map_get_next_key(fd, prev, &k)) {
		struct nacct_tun_key cur = k;

		prev = &k;
		if (bpf_map_lookup_elem(fd, &cur, &v))
			continue; /* deleted meanwhile */
		if (t->n == cap) {
			struct nacct_tun *nv;

			cap = cap ? cap * 2 : 64;
			nv = realloc(t->v, cap * sizeof(*nv));
			if (!nv) {
				nacct_tuns_free(t);
				return -ENOMEM;
			}
			t->v = nv;
		}
		t->v[t->n].handle = v.handle;
		t->v[t->n].first_seen = v.first_seen;
		t->v[t->n].key = cur;
		t->n++;
	}
	if (t->n)
		qsort(t->v, t->n, sizeof(*t->v), by_handle);
	return 0;
}

const struct nacct_tun *nacct_tuns_find(const struct nacct_tuns *t, __u64 handle)
{
	struct nacct_tun want = { .handle = handle };

	if (!handle || !t || !t->n)
		return NULL;
	return bsearch(&want, t->v, t->n, sizeof(*t->v), by_handle);
}

void nacct_tuns_free(struct nacct_tuns *t)
{
	free(t->v);
	memset(t, 0, sizeof(*t));
}

const char *nacct_tun_label(const struct nacct_tun_key *k, char *buf, size_t len)
{
	if (k->id || k->type == NACCT_TUN_VXLAN || k->type == NACCT_TUN_GENEVE ||
	    k->type == NACCT_TUN_MPLS)
		snprintf(buf, len, "%s:%u", nacct_tun_type_name(k->type), k->id);
	else
		snprintf(buf, len, "%s", nacct_tun_type_name(k->type));
	return buf;
}

const char *nacct_tun_label_long(const struct nacct_tun_key *k, char *buf, size_t len)
{
	char l[32], a[64], b[64];

	nacct_tun_label(k, l, sizeof(l));
	if (!k->family)
		snprintf(buf, len, "%s", l);
	else
		snprintf(buf, len, "%s %s-%s", l, nacct_addr_str(k->outer_lo, k->family, a, sizeof(a)),
			 nacct_addr_str(k->outer_hi, k->family, b, sizeof(b)));
	return buf;
}
