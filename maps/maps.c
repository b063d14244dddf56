// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "maps.h"

const char *nacct_netns_suffix(void)
{
	static char suffix[32];
	static int done;
	struct stat self;

	if (done)
		return suffix;
	done = 1;
	suffix[0] = '\0';
	/* the initial namespace's inode is a constant of the kernel
	 * (PROC_NET_INIT_INO); /proc/1 may not be ours to look at */
	if (stat("/proc/self/ns/net", &self) == 0 && self.st_ino != 0xEFFFFFF9U)
		snprintf(suffix, sizeof(suffix), ":ns%lu", (unsigned long)self.st_ino);
	return suffix;
}

/*
 * bpffs refuses names with a '.', interface names may have one
 * ("eth0.100"), and ':' is the one printable character an interface name
 * can never hold: so '.' is stored as ':', and an attachment made in
 * another network namespace carries ":ns<inode of that netns>".
 */
int nacct_pin_name(const char *ifname, char *buf, size_t len)
{
	size_t i, n = strlen(ifname);
	int k;

	if (n + 1 > len)
		return -ENAMETOOLONG;
	for (i = 0; i <= n; i++)
		buf[i] = ifname[i] == '.' ? ':' : ifname[i];
	k = snprintf(buf + n, len - n, "%s", nacct_netns_suffix());
	return k < 0 || (size_t)k >= len - n ? -ENAMETOOLONG : 0;
}

int nacct_pin_dir(const char *ifname, char *buf, size_t len)
{
	char name[64];
	int n, err = nacct_pin_name(ifname, name, sizeof(name));

	if (err)
		return err;
	n = snprintf(buf, len, "%s/%s", NACCT_PIN_ROOT, name);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int nacct_pin_tmp_dir(const char *name, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s/%s%s-%d", NACCT_PIN_ROOT, NACCT_PIN_TMP, name, getpid());

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int nacct_ncpus(void)
{
	static int n;

	if (!n) {
		n = libbpf_num_possible_cpus();
		if (n <= 0)
			n = 1;
	}
	return n;
}

int nacct_flow_copies(const struct nacct_meta *meta)
{
	return meta->flow_layout == NACCT_FLOW_SHARED ? 1 : nacct_ncpus();
}

int nacct_flow_copies_fd(int flows_fd)
{
	struct bpf_map_info info;
	__u32 ilen = sizeof(info);

	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(flows_fd, &info, &ilen))
		return -errno;
	return info.type == BPF_MAP_TYPE_HASH ? 1 : nacct_ncpus();
}

int nacct_map_open(const char *dir, const char *name, __u32 type, __u32 key_size,
		   __u32 value_size)
{
	struct bpf_map_info info;
	__u32 ilen = sizeof(info);
	char path[512];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return -errno;
	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(fd, &info, &ilen)) {
		int err = -errno;

		close(fd);
		return err;
	}
	if (info.type != type || info.key_size != key_size ||
	    (value_size && info.value_size != value_size)) {
		close(fd);
		return -EPROTO;
	}
	return fd;
}

void nacct_u64s_add(void *d, const void *a, size_t size)
{
	const __u64 *x = a;
	__u64 *y = d;
	size_t k;

	for (k = 0; k < size / sizeof(__u64); k++)
		y[k] += x[k];
}

void nacct_u64s_sub(void *d, const void *a, const void *b, size_t size)
{
	const __u64 *x = a, *z = b;
	__u64 *y = d;
	size_t k;

	for (k = 0; k < size / sizeof(__u64); k++)
		y[k] = x[k] - (z ? z[k] : 0);
}

int nacct_read_percpu_u64(int fd, __u32 key, void *out, size_t size)
{
	int ncpu = nacct_ncpus(), i;
	__u64 *v;

	v = calloc(ncpu, size);
	if (!v)
		return -ENOMEM;
	if (bpf_map_lookup_elem(fd, &key, v)) {
		int err = -errno;

		free(v);
		return err;
	}
	memset(out, 0, size);
	/* every field is a __u64 counter: sum them word by word */
	for (i = 0; i < ncpu; i++)
		nacct_u64s_add(out, (const char *)v + (size_t)i * size, size);
	free(v);
	return 0;
}

int nacct_read_queues(int fd, __u32 first, __u32 n, struct nacct_queue_val *out)
{
	__u32 i;
	int err;

	for (i = 0; i < n; i++) {
		err = nacct_read_percpu_u64(fd, first + i, &out[i], sizeof(out[i]));
		if (err)
			return err;
	}
	return 0;
}

int nacct_read_queue_rows(int fd, __u32 slot, struct nacct_queue_val out[NACCT_QUEUE_KEYS])
{
	struct nacct_queue_val d[NACCT_DOMAIN_QKEYS];
	__u32 dir, q;
	int err;

	if (!slot)
		return nacct_read_queues(fd, 0, NACCT_QUEUE_KEYS, out);
	err = nacct_read_queues(fd, slot * NACCT_DOMAIN_QKEYS, NACCT_DOMAIN_QKEYS, d);
	if (err)
		return err;
	memset(out, 0, sizeof(*out) * NACCT_QUEUE_KEYS);
	for (dir = 0; dir < NACCT_DIR_MAX; dir++)
		for (q = 0; q < NACCT_DOMAIN_QROWS; q++)
			out[dir * NACCT_QUEUE_ROWS +
			    (q < NACCT_DOMAIN_QUEUES ? q : NACCT_QUEUE_OTHER)] =
				d[dir * NACCT_DOMAIN_QROWS + q];
	return 0;
}

int nacct_read_totals(int stats_fd, int queues_fd, __u32 slot, struct nacct_stats *out)
{
	struct nacct_queue_val rows[NACCT_QUEUE_KEYS];
	const struct nacct_queue_val *rx = &rows[NACCT_DIR_RX * NACCT_QUEUE_ROWS];
	__u32 r;
	int err;

	err = nacct_read_percpu_u64(stats_fd, slot, out, sizeof(*out));
	if (err)
		return err;
	err = nacct_read_queue_rows(queues_fd, slot, rows);
	if (err)
		return err;
	for (r = 0; r < NACCT_QUEUE_ROWS; r++) {
		out->packets[NACCT_DIR_RX] += rx[r].packets;
		out->bytes[NACCT_DIR_RX] += rx[r].bytes;
	}
	return 0;
}

int nacct_read_meta(int fd, struct nacct_meta *out)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(fd, &zero, out) ? -errno : 0;
}

int nacct_read_subnet_stats(int fd, struct nacct_subnet_stats **out, size_t *n)
{
	struct bpf_map_info info;
	__u32 ilen = sizeof(info), id;
	int ncpu = nacct_ncpus(), i, d;
	struct nacct_subnet_stats *res, *pc;

	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(fd, &info, &ilen))
		return -errno;
	res = calloc(info.max_entries, sizeof(*res));
	pc = calloc(ncpu, sizeof(*pc));
	if (!res || !pc) {
		free(res);
		free(pc);
		return -ENOMEM;
	}
	for (id = 0; id < info.max_entries; id++) {
		if (bpf_map_lookup_elem(fd, &id, pc))
			continue;
		for (i = 0; i < ncpu; i++)
			for (d = 0; d < NACCT_DIR_MAX; d++) {
				res[id].packets[d] += pc[i].packets[d];
				res[id].bytes[d] += pc[i].bytes[d];
			}
	}
	free(pc);
	*out = res;
	*n = info.max_entries;
	return 0;
}

static int cmp_subnet_id(const void *a, const void *b)
{
	const struct nacct_subnet *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

int nacct_read_subnets(int fd, struct nacct_subnet **out, size_t *n)
{
	struct nacct_subnet_key key, next, *prev = NULL;
	struct nacct_subnet_val val;
	struct nacct_subnet *res = NULL, *tmp;
	size_t have = 0, cap = 0;
	char abuf[INET6_ADDRSTRLEN];

	/* LPM tries have no batch ops; a few thousand prefixes at most */
	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, &val))
			continue;
		if (have == cap) {
			cap = cap ? cap * 2 : 64;
			tmp = realloc(res, cap * sizeof(*res));
			if (!tmp) {
				free(res);
				return -ENOMEM;
			}
			res = tmp;
		}
		memset(&res[have], 0, sizeof(res[have]));
		res[have].id = val.id;
		res[have].family = key.family;
		res[have].plen = key.prefixlen - 8;
		memcpy(res[have].addr, key.addr, 16);
		inet_ntop(key.family == NACCT_AF_INET ? AF_INET : AF_INET6, key.addr, abuf,
			  sizeof(abuf));
		snprintf(res[have].cidr, sizeof(res[have].cidr), "%s/%u", abuf, res[have].plen);
		have++;
	}
	if (have)
		qsort(res, have, sizeof(*res), cmp_subnet_id);
	*out = res;
	*n = have;
	return 0;
}

int nacct_read_ethertypes(int fd, struct nacct_ethertype **out, size_t *n)
{
	int ncpu = nacct_ncpus(), i, d;
	__u32 key, next, *prev = NULL;
	struct nacct_ethertype_val *pc;
	struct nacct_ethertype *res = NULL, *tmp;
	size_t have = 0, cap = 0;

	pc = calloc(ncpu, sizeof(*pc));
	if (!pc)
		return -ENOMEM;
	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, pc))
			continue;
		if (have == cap) {
			cap = cap ? cap * 2 : 16;
			tmp = realloc(res, cap * sizeof(*res));
			if (!tmp) {
				free(res);
				free(pc);
				return -ENOMEM;
			}
			res = tmp;
		}
		memset(&res[have], 0, sizeof(res[have]));
		res[have].ethertype = key;
		for (i = 0; i < ncpu; i++)
			for (d = 0; d < NACCT_DIR_MAX; d++) {
				res[have].val.packets[d] += pc[i].packets[d];
				res[have].val.bytes[d] += pc[i].bytes[d];
			}
		have++;
	}
	free(pc);
	*out = res;
	*n = have;
	return 0;
}

void nacct_iface_close(struct nacct_iface_maps *m)
{
	int *fds[] = { &m->flows, &m->stats, &m->subnets, &m->subnet_stats,
		       &m->ethertypes, &m->cfg, &m->meta, &m->tunnels, &m->queues };
	size_t i;

	for (i = 0; i < sizeof(fds) / sizeof(fds[0]); i++) {
		if (*fds[i] >= 0)
			close(*fds[i]);
		*fds[i] = -1;
	}
}

int nacct_iface_open(const char *ifname, struct nacct_iface_maps *m)
{
	int err;

	memset(m, 0, sizeof(*m));
	m->flows = m->stats = m->subnets = m->subnet_stats = m->ethertypes = m->cfg = m->meta = -1;
	m->tunnels = m->queues = -1;
	snprintf(m->ifname, sizeof(m->ifname), "%s", ifname);
	err = nacct_pin_dir(ifname, m->dir, sizeof(m->dir));
	if (err)
		return err;

#define OPEN(field, name, type, ks, vs)                                   \
	do {                                                              \
		m->field = nacct_map_open(m->dir, name, type, ks, vs);    \
		if (m->field < 0) {                                       \
			err = m->field;                                   \
			m->field = -1;                                    \
			goto fail;                                        \
		}                                                         \
	} while (0)

	OPEN(meta, NACCT_MAP_META, BPF_MAP_TYPE_ARRAY, 4, sizeof(struct nacct_meta));
	err = nacct_read_meta(m->meta, &m->meta_val);
	if (err)
		goto fail;
	if (m->meta_val.version != NACCT_META_VERSION ||
	    m->meta_val.flow_layout > NACCT_FLOW_SHARED ||
	    (m->meta_val.slot && m->meta_val.slot >= m->meta_val.max_ifaces)) {
		err = -EPROTO;
		goto fail;
	}
	/* a shared domain's member: its rows, its flows (maps/nacct.h) */
	m->slot = m->meta_val.slot;
	m->if_filter = m->slot ? m->meta_val.ifindex : 0;
	/* the type the attachment's layout gave the flow table */
	OPEN(flows, NACCT_MAP_FLOWS, nacct_flow_map_type(m->meta_val.flow_layout),
	     sizeof(struct nacct_flow_key), sizeof(struct nacct_flow_val));
	OPEN(stats, NACCT_MAP_STATS, BPF_MAP_TYPE_PERCPU_ARRAY, 4, sizeof(struct nacct_stats));
	OPEN(subnets, NACCT_MAP_SUBNETS, BPF_MAP_TYPE_LPM_TRIE, sizeof(struct nacct_subnet_key),
	     sizeof(struct nacct_subnet_val));
	OPEN(subnet_stats, NACCT_MAP_SUBNET_STATS, BPF_MAP_TYPE_PERCPU_ARRAY, 4,
	     sizeof(struct nacct_subnet_stats));
	OPEN(ethertypes, NACCT_MAP_ETHERTYPES, BPF_MAP_TYPE_PERCPU_HASH, 4,
	     sizeof(struct nacct_ethertype_val));
	OPEN(cfg, NACCT_MAP_CFG, BPF_MAP_TYPE_ARRAY, 4, sizeof(struct nacct_cfg));
	OPEN(tunnels, NACCT_MAP_TUNNELS, BPF_MAP_TYPE_HASH, sizeof(struct nacct_tun_key),
	     sizeof(struct nacct_tun_val));
	OPEN(queues, NACCT_MAP_QUEUES, BPF_MAP_TYPE_PERCPU_ARRAY, 4, sizeof(struct nacct_queue_val));
#undef OPEN
	return 0;
fail:
	nacct_iface_close(m);
	return err;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int nacct_list_attached(char ***names, size_t *n)
{
	const char *suffix = nacct_netns_suffix();
	size_t slen = strlen(suffix), have = 0, cap = 0;
	char **res = NULL, **tmp;
	struct dirent *de;
	DIR *d;

	*names = NULL;
	*n = 0;
	d = opendir(NACCT_PIN_ROOT);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(d))) {
		size_t len = strlen(de->d_name), i;
		const char *ns;

		/* ':' never starts an attachment: ":tmp:..." is one being built,
		 * other ":name" entries are nacct's global objects (side programs) */
		if (de->d_name[0] == '.' || de->d_name[0] == ':')
			continue;
		ns = strstr(de->d_name, ":ns");
		/* only this namespace's attachments */
		if (slen ? (len <= slen || strcmp(de->d_name + len - slen, suffix)) : ns != NULL)
			continue;
		if (have == cap) {
			cap = cap ? cap * 2 : 8;
			tmp = realloc(res, cap * sizeof(*res));
			if (!tmp)
				break;
			res = tmp;
		}
		res[have] = strndup(de->d_name, slen ? len - slen : len);
		if (!res[have])
			continue;
		for (i = 0; res[have][i]; i++)
			if (res[have][i] == ':')
				res[have][i] = '.';
		have++;
	}
	closedir(d);
	if (have)
		qsort(res, have, sizeof(*res), cmp_str);
	*names = res;
	*n = have;
	return 0;
}

/* remove every file in a pin directory, then the directory */
int nacct_rm_pin_dir(const char *dir)
{
	char path[512];
	struct dirent *de;
	DIR *d = opendir(dir);
	int err = 0;

	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (unlink(path) && errno != ENOENT)
			err = -errno;
	}
	closedir(d);
	if (rmdir(dir) && errno != ENOENT)
		err = -errno;
	return err;
}
