// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <bpf/btf.h>

#include "names.h"
#include "../maps/nacct.h"

const char *nacct_proto_name(__u8 proto, char *buf, size_t len)
{
	switch (proto) {
	case 1: return "icmp";
	case 2: return "igmp";
	case 6: return "tcp";
	case 17: return "udp";
	case 47: return "gre";
	case 50: return "esp";
	case 51: return "ah";
	case 58: return "icmp6";
	case 132: return "sctp";
	case 136: return "udplite";
	default:
		snprintf(buf, len, "%u", proto);
		return buf;
	}
}

const char *nacct_rfc3339(__u64 wall_ns, char *buf, size_t len)
{
	/* flows of one dump share a few seconds: format each second once
	 * (per thread: flows formats a million records on several) */
	static __thread time_t last_sec = -1;
	static __thread char base[32];
	time_t sec = wall_ns / 1000000000ULL;
	unsigned int ms = (wall_ns % 1000000000ULL) / 1000000;

	if (!wall_ns) {
		buf[0] = '\0';
		return buf;
	}
	if (sec != last_sec) {
		struct tm tm;

		gmtime_r(&sec, &tm);
		strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
		last_sec = sec;
	}
	/* by hand: a million flows format two times each */
	if (len < 25) {
		buf[0] = '\0';
		return buf;
	}
	memcpy(buf, base, 19);
	buf[19] = '.';
	buf[20] = '0' + ms / 100;
	buf[21] = '0' + ms / 10 % 10;
	buf[22] = '0' + ms % 10;
	buf[23] = 'Z';
	buf[24] = '\0';
	return buf;
}

const char *nacct_tcp_flags_str(__u8 flags, char *buf, size_t len)
{
	static const char names[] = "FSRPAUEC";
	size_t n = 0;
	int i;

	for (i = 0; i < 8 && n + 1 < len; i++)
		if (flags & (1 << i))
			buf[n++] = names[i];
	if (len)
		buf[n] = '\0';
	return buf;
}

const char *nacct_tcp_state_name(int state)
{
	/* include/net/tcp_states.h: the numbers are ABI (/proc/net/tcp) */
	static const char *const names[] = {
		"", "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT1", "FIN_WAIT2",
		"TIME_WAIT", "CLOSE", "CLOSE_WAIT", "LAST_ACK", "LISTEN", "CLOSING",
		"NEW_SYN_RECV", "BOUND_INACTIVE",
	};

	if (state >= 0 && (size_t)state < sizeof(names) / sizeof(names[0]))
		return names[state];
	return "?";
}

const char *nacct_ethertype_name(__u32 et, char *buf, size_t len)
{
	switch (et) {
	case 0x0806: return "arp";
	case 0x8035: return "rarp";
	case 0x88cc: return "lldp";
	case 0x8847: return "mpls";
	case 0x8848: return "mpls-mc";
	case 0x8863: return "pppoe-disc";
	case 0x8864: return "pppoe";
	case 0x88e5: return "macsec";
	case 0x88f7: return "ptp";
	case 0x8902: return "cfm";
	case 0x0000: return "llc";
	case 0xffff: return "other";
	default:
		snprintf(buf, len, "0x%04x", et);
		return buf;
	}
}

const char *nacct_mode_str(__u32 mode)
{
	switch (mode) {
	case NACCT_MODE_NATIVE: return "native";
	case NACCT_MODE_GENERIC: return "generic";
	case NACCT_MODE_OFFLOAD: return "offload";
	default: return "none";
	}
}

static struct btf *g_btf;

static void btf_load(void)
{
	g_btf = btf__load_vmlinux_btf();
	if (!g_btf)
		g_btf = NULL;
}

struct btf *nacct_vmlinux_btf(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, btf_load);
	return g_btf;
}

/* the name of value @val of enum @enum_name in the kernel's BTF, minus @prefix */
static const char *btf_enum_name(const char *enum_name, const char *prefix, __u32 val,
				 char *buf, size_t len)
{
	struct btf *btf = nacct_vmlinux_btf();
	const struct btf_type *t;
	const struct btf_enum *e;
	const char *name;
	int id, i;

	/* the type ids, looked up once: a lookup is a walk of all kernel types */
	static struct {
		const char *name;
		int id;
	} cache[4];
	static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	size_t c;

	buf[0] = '\0';
	if (!btf)
		goto num;
	pthread_mutex_lock(&lock);
	for (c = 0; c < sizeof(cache) / sizeof(cache[0]); c++)
		if (!cache[c].name || !strcmp(cache[c].name, enum_name))
			break;
	if (c < sizeof(cache) / sizeof(cache[0]) && cache[c].name) {
		id = cache[c].id;
	} else {
		id = btf__find_by_name_kind(btf, enum_name, BTF_KIND_ENUM);
		if (c < sizeof(cache) / sizeof(cache[0])) {
			cache[c].name = enum_name;
			cache[c].id = id;
		}
	}
	pthread_mutex_unlock(&lock);
	if (id <= 0)
		goto num;
	t = btf__type_by_id(btf, id);
	e = btf_enum(t);
	for (i = 0; i < btf_vlen(t); i++, e++) {
		if ((__u32)e->val != val)
			continue;
		name = btf__name_by_offset(btf, e->name_off);
		if (!name)
			break;
		if (!strncmp(name, prefix, strlen(prefix)))
			name += strlen(prefix);
		else if (!strncmp(name, "SKB_", 4))
			name += 4; /* SKB_CONSUMED, SKB_NOT_DROPPED_YET */
		snprintf(buf, len, "%s", name);
		return buf;
	}
num:
	snprintf(buf, len, "%u", val);
	return buf;
}

int nacct_kernel_has_drop_reasons(void)
{
	static int have = -1;
	struct btf *btf;

	if (have < 0) {
		btf = nacct_vmlinux_btf();
		have = btf && btf__find_by_name_kind(btf, "skb_drop_reason", BTF_KIND_ENUM) > 0;
	}
	return have;
}

const char *nacct_drop_reason_name(__u32 reason, char *buf, size_t len)
{
	/* before 5.17 skb:kfree_skb has no reason: the side program's 0 */
	if (!nacct_kernel_has_drop_reasons()) {
		snprintf(buf, len, "none");
		return buf;
	}
	return btf_enum_name("skb_drop_reason", "SKB_DROP_REASON_", reason, buf, len);
}

const char *nacct_rst_reason_name(__u32 reason, char *buf, size_t len)
{
	return btf_enum_name("sk_rst_reason", "SK_RST_REASON_", reason, buf, len);
}
__u64 nacct_mono_to_wall(__u64 mono_ns)
{
	static __thread __s64 off;
	static __thread time_t taken;
	struct timespec mono, real;

	if (!mono_ns)
		return 0;
	/* the offset moves only with clock steps: read it once a second, not
	 * twice per flow of a million-flow dump */
	clock_gettime(CLOCK_MONOTONIC_COARSE, &mono);
	if (!taken || mono.tv_sec != taken) {
		__s64 gap, best = INT64_MAX;
		int i;

		/*
		 * REALTIME read between two MONOTONIC reads, against their
		 * midpoint, from the narrowest of three tries: a read that was
		 * descheduled in between (seen under qemu TCG) would move the
		 * offset by its gap, and two readers of one event would print
		 * times a millisecond apart
		 */
		for (i = 0; i < 3; i++) {
			struct timespec m0, m1;
			__s64 a, b;

			clock_gettime(CLOCK_MONOTONIC, &m0);
			clock_gettime(CLOCK_REALTIME, &real);
			clock_gettime(CLOCK_MONOTONIC, &m1);
			a = (__s64)m0.tv_sec * 1000000000LL + m0.tv_nsec;
			b = (__s64)m1.tv_sec * 1000000000LL + m1.tv_nsec;
			gap = b - a;
			if (gap < best) {
				best = gap;
				off = (__s64)real.tv_sec * 1000000000LL + real.tv_nsec - (a + gap / 2);
			}
		}
		taken = mono.tv_sec;
	}
	return mono_ns + off;
}

const char *nacct_addr_str(const __u8 *addr, __u8 family, char *buf, size_t len)
{
	if (family == NACCT_AF_INET)
		inet_ntop(AF_INET, addr + 12, buf, len);
	else
		inet_ntop(AF_INET6, addr, buf, len);
	return buf;
}
