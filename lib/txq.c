// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The host's one TX queue program (lib/txq.h, tc/nacct_txq.bpf.c).  Built
 * like the side programs' set: loaded and pinned in a private directory,
 * published by a rename to NACCT_PIN_ROOT/:txq, all under the host-set
 * lock.  A set whose map is not this build's shape is replaced (its
 * registrations with it: the attachments of that build count no TX rows
 * until they attach again).  A registration left by a killed attach
 * points at a queue map no attachment reads; it is overwritten by the
 * device's next attach and goes with the set.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "hostset.h"
#include "log.h"
#include "txq.h"
#include "../maps/maps.h"
#include "nacct_txq.skel.h"

#define TXQ_DIR NACCT_PIN_ROOT "/" NACCT_TXQ_PIN

static int txq_key(int ifindex, struct nacct_txq_if *k)
{
	struct stat ns;

	if (stat("/proc/self/ns/net", &ns))
		return -errno;
	memset(k, 0, sizeof(*k));
	k->netns = (__u32)ns.st_ino;
	k->ifindex = (__u32)ifindex;
	return 0;
}

/* the published set's device map, or -errno (-ENOENT: no set, -EPROTO: not ours) */
static int txq_open(void)
{
	if (!nacct_hostset_links(TXQ_DIR))
		return -ENOENT;
	return nacct_map_open(TXQ_DIR, NACCT_MAP_TXQ_IFS, BPF_MAP_TYPE_HASH_OF_MAPS,
			      sizeof(struct nacct_txq_if), sizeof(__u32));
}

/* load, attach and publish the set (lock held): its device map, or -errno */
static int txq_load(void)
{
	struct nacct_txq *skel;
	struct bpf_link *l;
	char tmp[256], path[512];
	int err;

	err = nacct_rm_pin_dir(TXQ_DIR);
	if (err)
		return err;
	nacct_pin_tmp_dir(NACCT_TXQ_PIN, tmp, sizeof(tmp));
	nacct_rm_pin_dir(tmp);
	if (mkdir(tmp, 0700))
		return -errno;
	skel = nacct_txq__open_and_load();
	if (!skel) {
		err = -errno;
		goto out;
	}
	l = bpf_program__attach(skel->progs.nacct_txq);
	if (!l) {
		err = -errno;
		goto out;
	}
	snprintf(path, sizeof(path), "%s/" NACCT_TXQ_LINK, tmp);
	err = bpf_link__pin(l, path);
	bpf_link__destroy(l); /* the pin holds it */
	if (!err) {
		snprintf(path, sizeof(path), "%s/" NACCT_MAP_TXQ_IFS, tmp);
		err = bpf_map__pin(skel->maps.nacct_txq_ifs, path);
	}
	if (!err && rename(tmp, TXQ_DIR))
		err = -errno;
	if (!err)
		pr_debug("txq: the TX queue program is loaded (%s)\n", TXQ_DIR);
out:
	nacct_txq__destroy(skel);
	if (err) {
		nacct_rm_pin_dir(tmp);
		return err;
	}
	return txq_open();
}

int nacct_txq_register(int ifindex, int queues_fd)
{
	struct nacct_txq_if k;
	int lk, fd, err;

	err = txq_key(ifindex, &k);
	if (err)
		return err;
	lk = nacct_hostset_lock();
	if (lk < 0)
		return lk;
	fd = txq_open();
	if (fd < 0)
		fd = txq_load();
	if (fd < 0) {
		err = fd;
		goto out;
	}
	err = bpf_map_update_elem(fd, &k, &queues_fd, BPF_ANY) ? -errno : 0;
	close(fd);
out:
	nacct_hostset_unlock(lk);
	return err;
}

void nacct_txq_unregister(int ifindex)
{
	struct nacct_txq_if k;
	int lk, fd;

	if (txq_key(ifindex, &k))
		return;
	lk = nacct_hostset_lock();
	if (lk < 0)
		return;
	fd = txq_open();
	if (fd >= 0) {
		bpf_map_delete_elem(fd, &k);
		close(fd);
	}
	/* unpinning the link detaches the program */
	if (!nacct_hostset_attachments() && nacct_rm_pin_dir(TXQ_DIR) == 0)
		pr_debug("txq: the TX queue program is removed\n");
	nacct_hostset_unlock(lk);
}
