/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * User-side access to the pinned maps of an attachment: where the pins
 * live, opening them with a check that they match this build, per-CPU
 * sums, and whole-map batched dumps.
 */
#ifndef NACCT_MAPS_H
#define NACCT_MAPS_H

#include <stddef.h>
#include <stdint.h>
#include <linux/bpf.h>
#include "nacct.h"
#include "pins.h"

/* an interface's pin directory: /sys/fs/bpf/nacct/<ifname>[:ns<inode>] */
int nacct_pin_dir(const char *ifname, char *buf, size_t len);
/* where this process builds (or takes apart) the directory @name of
 * NACCT_PIN_ROOT: NACCT_PIN_ROOT/NACCT_PIN_TMP<name>-<pid> (lib/attach.c's
 * stale_tmp reads the pid back) */
int nacct_pin_tmp_dir(const char *name, char *buf, size_t len);
/* its last component ('.' in the interface name stored as ':') */
int nacct_pin_name(const char *ifname, char *buf, size_t len);
/* the suffix for the current network namespace ("" in the initial one) */
const char *nacct_netns_suffix(void);

int nacct_ncpus(void);

/*
 * The flow table's layout (enum nacct_flow_layout, nacct_meta.flow_layout):
 * the map type that holds it, and how many struct nacct_flow_val a lookup
 * of one key returns (the number to give nacct_flow_merge()): ncpus for
 * the per-CPU layout, 1 for the shared one.  _fd: the same, from the flow
 * map's own type, for a reader that holds only its fd (< 0: -errno).
 */
static inline __u32 nacct_flow_map_type(__u32 flow_layout)
{
	return flow_layout == NACCT_FLOW_SHARED ? BPF_MAP_TYPE_HASH : BPF_MAP_TYPE_PERCPU_HASH;
}
int nacct_flow_copies(const struct nacct_meta *meta);
int nacct_flow_copies_fd(int flows_fd);

/* remove every file in a pin directory, then the directory (0 if it is gone) */
int nacct_rm_pin_dir(const char *dir);

/*
 * Open a pinned map and check type, key and value size against this
 * build.  Returns an fd, or a negative errno (-ENOENT: not pinned,
 * -EPROTO: pinned by an incompatible build).
 */
int nacct_map_open(const char *dir, const char *name, __u32 type, __u32 key_size,
		   __u32 value_size);

/* values that are @size bytes of __u64 counters: @d += @a, and @d = @a - @b
 * (@b NULL: @a), word by word */
void nacct_u64s_add(void *d, const void *a, size_t size);
void nacct_u64s_sub(void *d, const void *a, const void *b, size_t size);

/* element @key of a per-CPU map whose value is @size bytes of __u64
 * counters, summed over all CPUs into @out */
int nacct_read_percpu_u64(int fd, __u32 key, void *out, size_t size);

/* the queue rows @first .. @first + @n - 1 of nacct_queues, each summed
 * over the CPUs into @out[0 .. @n - 1] */
int nacct_read_queues(int fd, __u32 first, __u32 n, struct nacct_queue_val *out);
/*
 * The interface totals: the stats element (@slot: 0, or a domain
 * member's) summed over the CPUs, with
 * packets[RX] and bytes[RX] the sum of the RX queue rows in @queues_fd
 * (the data path counts a received packet in its queue's row only; see
 * nacct_account_dir in maps/account.bpf.h).
 */
int nacct_read_totals(int stats_fd, int queues_fd, __u32 slot, struct nacct_stats *out);
/*
 * The queue rows of an attachment as `nacct queues` shows them
 * (NACCT_QUEUE_KEYS, key dir * NACCT_QUEUE_ROWS + queue), summed over the
 * CPUs: @slot 0 the map's own, else a domain member's slot's, whose
 * queues from NACCT_DOMAIN_QUEUES on are in the NACCT_QUEUE_OTHER row.
 */
int nacct_read_queue_rows(int fd, __u32 slot, struct nacct_queue_val out[NACCT_QUEUE_KEYS]);
int nacct_read_meta(int fd, struct nacct_meta *out);

/* per-subnet counters, index = subnet id; caller frees */
int nacct_read_subnet_stats(int fd, struct nacct_subnet_stats **out, size_t *n);

/* one configured subnet */
struct nacct_subnet {
	__u32 id;
	__u8 family; /* NACCT_AF_INET / NACCT_AF_INET6 */
	__u8 plen;
	__u8 addr[16];
	char cidr[64];
};
int nacct_read_subnets(int fd, struct nacct_subnet **out, size_t *n);

/* non-IP frames by ethertype */
struct nacct_ethertype {
	__u32 ethertype;
	struct nacct_ethertype_val val;
};
int nacct_read_ethertypes(int fd, struct nacct_ethertype **out, size_t *n);

/* the maps of one attachment, opened read-only-ish for listing commands */
struct nacct_iface_maps {
	char ifname[32];
	char dir[256];
	int flows, stats, subnets, subnet_stats, ethertypes, cfg, meta, tunnels, queues;
	struct nacct_meta meta_val;
	/* a shared domain's member (meta slot != 0): its rows' slot, and the
	 * ifindex its flows have in the shared table; 0, 0: maps of its own */
	__u32 slot, if_filter;
};
int nacct_iface_open(const char *ifname, struct nacct_iface_maps *m);
void nacct_iface_close(struct nacct_iface_maps *m);
/* ifnames of all attachments in this network namespace; caller frees */
int nacct_list_attached(char ***names, size_t *n);

#endif /* NACCT_MAPS_H */
