// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * What an interface's driver can do with XDP (nacct caps, --mode auto).
 *
 * The capabilities come from the kernel's xdp-features (kernel >= 6.3):
 * bpf_xdp_query()'s feature_flags where libbpf has them (>= 1.2, see
 * HAVE_XDP_FEATURES in .output/config.h), else straight from the "netdev"
 * generic netlink family (NETDEV_CMD_DEV_GET), which is where libbpf reads
 * them too.  Older kernels have no such family: the features are
 * "unknown", and --mode auto decides by trying a native attach.
 *
 * Hardware offload is also probed, because the xdp-features bit only
 * exists since 6.3 and only says what the driver claims: the probe loads
 * a two-instruction XDP program bound to the device (prog_ifindex).  The
 * kernel accepts that only when the device registered an offload device
 * (bpf_offload_dev: nfp, netdevsim) and refuses it with EINVAL otherwise;
 * nothing is attached, and the program is closed at once.
 */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <linux/ethtool.h>
#include <linux/if_link.h>
#include <linux/sockios.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <netlink/netlink.h>
#include <netlink/genl/genl.h>
#include <netlink/genl/ctrl.h>

#include "config.h"
#include "log.h"
#include "caps.h"
#include "../maps/nacct.h"

/*
 * The "netdev" generic netlink family (uapi linux/netdev.h, kernel >= 6.3;
 * not in Debian 12's linux-libc-dev): the command and attributes we use.
 */
#define NACCT_NETDEV_FAMILY "netdev"
#define NACCT_NETDEV_CMD_DEV_GET 1
#define NACCT_NETDEV_A_DEV_IFINDEX 1
#define NACCT_NETDEV_A_DEV_XDP_FEATURES 3
#define NACCT_NETDEV_A_DEV_XDP_ZC_MAX_SEGS 4 /* 6.6+ */
#define NACCT_NETDEV_A_DEV_MAX 6

struct genl_reply {
	int done;
	int err;
	int have;
	__u64 features;
	__u32 zc_max_segs;
};

static int genl_valid(struct nl_msg *msg, void *arg)
{
	struct nlattr *tb[NACCT_NETDEV_A_DEV_MAX + 1];
	struct genl_reply *r = arg;

	if (genlmsg_parse(nlmsg_hdr(msg), 0, tb, NACCT_NETDEV_A_DEV_MAX, NULL))
		return NL_SKIP;
	if (tb[NACCT_NETDEV_A_DEV_XDP_FEATURES]) {
		r->features = nla_get_u64(tb[NACCT_NETDEV_A_DEV_XDP_FEATURES]);
		r->have = 1;
	}
	if (tb[NACCT_NETDEV_A_DEV_XDP_ZC_MAX_SEGS])
		r->zc_max_segs = nla_get_u32(tb[NACCT_NETDEV_A_DEV_XDP_ZC_MAX_SEGS]);
	return NL_OK;
}

static int genl_ack(struct nl_msg *msg, void *arg)
{
	((struct genl_reply *)arg)->done = 1;
	return NL_STOP;
}

static int genl_error(struct sockaddr_nl *nla, struct nlmsgerr *e, void *arg)
{
	struct genl_reply *r = arg;

	r->err = e->error;
	r->done = 1;
	return NL_STOP;
}

/* 0 and the features; -ENOENT: no netdev family (kernel < 6.3) */
static int genl_xdp_features(int ifindex, __u64 *features, __u32 *zc_max_segs)
{
	struct genl_reply r = { 0 };
	struct nl_sock *sk = nl_socket_alloc();
	struct nl_msg *msg = NULL;
	int family, err;

	if (!sk)
		return -ENOMEM;
	err = genl_connect(sk);
	if (err) {
		pr_debug("genl_connect: %s\n", nl_geterror(err));
		err = -EIO;
		goto out;
	}
	family = genl_ctrl_resolve(sk, NACCT_NETDEV_FAMILY);
	if (family < 0) {
		err = -ENOENT;
		goto out;
	}
	msg = nlmsg_alloc();
	if (!msg) {
		err = -ENOMEM;
		goto out;
	}
	if (!genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, family, 0, 0, NACCT_NETDEV_CMD_DEV_GET,
			 1) ||
	    nla_put_u32(msg, NACCT_NETDEV_A_DEV_IFINDEX, ifindex)) {
		err = -EMSGSIZE;
		goto out;
	}
	nl_socket_modify_cb(sk, NL_CB_VALID, NL_CB_CUSTOM, genl_valid, &r);
	nl_socket_modify_cb(sk, NL_CB_ACK, NL_CB_CUSTOM, genl_ack, &r);
	nl_socket_modify_err_cb(sk, NL_CB_CUSTOM, genl_error, &r);
	err = nl_send_auto(sk, msg);
	if (err < 0) {
		pr_debug("netdev genl send: %s\n", nl_geterror(err));
		err = -EIO;
		goto out;
	}
	err = 0;
	while (!r.done && err >= 0)
		err = nl_recvmsgs_default(sk);
	if (err < 0) {
		pr_debug("netdev genl receive: %s\n", nl_geterror(err));
		err = -EIO;
	} else if (r.err) {
		err = r.err;
	} else if (!r.have) {
		err = -ENODATA;
	} else {
		*features = r.features;
		*zc_max_segs = r.zc_max_segs;
	}
out:
	nlmsg_free(msg);
	nl_socket_free(sk);
	return err;
}

static void copy_name(char *dst, size_t len, const char *src, size_t max)
{
	size_t n = strnlen(src, max < len - 1 ? max : len - 1);

	memcpy(dst, src, n);
	dst[n] = '\0';
}

static void driver_name(const char *ifname, char *buf, size_t len)
{
	struct ethtool_drvinfo info = { .cmd = ETHTOOL_GDRVINFO };
	struct ifreq ifr;
	char path[128], link[256];
	ssize_t n;
	int fd;

	buf[0] = '\0';
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ifr.ifr_data = (void *)&info;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd >= 0) {
		if (!ioctl(fd, SIOCETHTOOL, &ifr) && info.driver[0])
			copy_name(buf, len, info.driver, sizeof(info.driver));
		close(fd);
	}
	if (buf[0])
		return;
	/* drivers without ethtool ops: the bound driver of the parent device */
	snprintf(path, sizeof(path), "/sys/class/net/%s/device/driver", ifname);
	n = readlink(path, link, sizeof(link) - 1);
	if (n > 0) {
		link[n] = '\0';
		copy_name(buf, len, strrchr(link, '/') ? strrchr(link, '/') + 1 : link, len);
	} else {
		snprintf(buf, len, "unknown");
	}
}

int nacct_caps_probe_offload(int ifindex, char *why, size_t len)
{
	/* r0 = XDP_PASS; exit */
	struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = XDP_PASS },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	LIBBPF_OPTS(bpf_prog_load_opts, o, .prog_ifindex = ifindex);
	int fd, err;

	fd = bpf_prog_load(BPF_PROG_TYPE_XDP, "nacct_hwprobe", "GPL", insns, 2, &o);
	if (fd >= 0) {
		close(fd);
		snprintf(why, len, "the kernel accepted a program bound to the device");
		return 1;
	}
	err = errno;
	if (err == EPERM || err == EACCES) {
		snprintf(why, len, "probe not allowed (%s): run as root", strerror(err));
		return -1;
	}
	if (err == EINVAL || err == EOPNOTSUPP)
		snprintf(why, len, "the kernel refused a device-bound program (%s): no offload device",
			 strerror(err));
	else
		snprintf(why, len, "a device-bound program load failed: %s", strerror(err));
	return 0;
}

int nacct_caps_query(int ifindex, const char *ifname, struct nacct_caps *c, int probe_offload)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	int err;

	memset(c, 0, sizeof(*c));
	driver_name(ifname, c->driver, sizeof(c->driver));
	err = bpf_xdp_query(ifindex, 0, &q);
	if (err == -ENODEV)
		return err;
	if (!err) {
		c->attached_mode = q.attach_mode;
		c->attached_id = q.prog_id ? q.prog_id :
				 q.drv_prog_id ? q.drv_prog_id :
				 q.skb_prog_id ? q.skb_prog_id : q.hw_prog_id;
	}
#ifdef HAVE_XDP_FEATURES
	/* libbpf reports 0 both for "no features" and "kernel without the
	 * family": only a non-zero answer is conclusive */
	if (!err && q.feature_flags) {
		c->src = NACCT_CAPS_LIBBPF;
		c->xdp_features = q.feature_flags;
	}
#endif
	if (c->src == NACCT_CAPS_UNKNOWN) {
		err = genl_xdp_features(ifindex, &c->xdp_features, &c->zc_max_segs);
		if (!err)
			c->src = NACCT_CAPS_GENL;
		c->features_err = err;
	}
	c->offload = -1;
	if (probe_offload)
		c->offload = nacct_caps_probe_offload(ifindex, c->offload_why,
						      sizeof(c->offload_why));
	return 0;
}

__u32 nacct_caps_auto(const struct nacct_caps *c, char *why, size_t len)
{
	if (c->src == NACCT_CAPS_UNKNOWN) {
		snprintf(why, len, "no xdp-features (kernel < 6.3): native if %s accepts it, "
			 "else generic", c->driver);
		return NACCT_MODE_NATIVE;
	}
	if (c->xdp_features & NACCT_XDP_ACT_BASIC) {
		snprintf(why, len, "xdp-features: %s runs XDP in its driver (basic)", c->driver);
		return NACCT_MODE_NATIVE;
	}
	snprintf(why, len, "xdp-features: %s has no native XDP (0x%llx)", c->driver,
		 (unsigned long long)c->xdp_features);
	return NACCT_MODE_GENERIC;
}
