// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * nacct events: stream the side programs' events (drops with reason,
 * retransmits, state changes, lifespans, connect/accept latency, listen,
 * resets), one line each.  Works with or without `nacct attach`: the side
 * programs are attached for the duration when they are not already
 * (--probes chooses how; a set already loaded is shared).
 * Each run takes a reader slot with its own ring buffer and event mask,
 * so concurrent runs neither steal nor switch off each other's events.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "nacct.h"
#include "../lib/log.h"
#include "../lib/probes.h"
#include "../maps/maps.h"

static volatile sig_atomic_t g_stop;

static void on_signal(int sig)
{
	(void)sig;
	g_stop = 1;
}

struct ev_ctx {
	const struct events_opts *cfg;
	int ifindex;   /* IFACE filter, 0: any */
	__u32 netns;   /* our netns inode (for the IFACE filter and names) */
	unsigned kinds; /* bit per enum nacct_ev_type */
	__u64 printed;
};

static const char *ev_name(__u16 type)
{
	static const char *const names[NACCT_EV_MAX] = {
		[NACCT_EV_DROP] = "drop",       [NACCT_EV_RETRANS] = "retrans",
		[NACCT_EV_STATE] = "state",     [NACCT_EV_LIFE] = "life",
		[NACCT_EV_CONNECT] = "connect", [NACCT_EV_ACCEPT] = "accept",
		[NACCT_EV_LISTEN] = "listen",   [NACCT_EV_RST_RX] = "rst_rx",
		[NACCT_EV_RST_TX] = "rst_tx",
	};

	return type < NACCT_EV_MAX && names[type] ? names[type] : "?";
}

static const char *ep_str(const __u8 *addr, __u8 family, __be16 port, char *buf, size_t len)
{
	char a[64];

	nacct_addr_str(addr, family, a, sizeof(a));
	snprintf(buf, len, family == NACCT_AF_INET6 ? "[%s]:%u" : "%s:%u", a, ntohs(port));
	return buf;
}

static int pass(struct ev_ctx *c, const struct nacct_probe_event *e)
{
	__u16 lport = ntohs(e->sport), rport = ntohs(e->dport);

	if (e->type >= NACCT_EV_MAX || !(c->kinds & (1u << e->type)))
		return 0;
	if (e->type == NACCT_EV_DROP) {
		/* a dropped packet was mostly on its way in: its destination is local */
		lport = ntohs(e->dport);
		rport = ntohs(e->sport);
	}
	if (c->cfg->pid && e->pid != c->cfg->pid)
		return 0;
	if (c->cfg->lport && lport != c->cfg->lport)
		return 0;
	if (c->cfg->rport && rport != c->cfg->rport)
		return 0;
	if (c->ifindex) {
		if (e->netns != c->netns)
			return 0;
		if (e->ifindex && (int)e->ifindex != c->ifindex)
			return 0;
	}
	return 1;
}

static int on_event(void *ctx, void *data, size_t size)
{
	struct ev_ctx *c = ctx;
	const struct nacct_probe_event *e = data;
	char t[48], l[80], r[80], pb[8], rb[64], ifn[IF_NAMESIZE] = "";
	const char *proto, *tm, *site = "";
	int json = c->cfg->json;

	if (size < sizeof(*e) || !pass(c, e))
		return 0;
	nacct_rfc3339(nacct_mono_to_wall(e->ts), t, sizeof(t));
	tm = strlen(t) > 11 ? t + 11 : t; /* HH:MM:SS.mmmZ */
	proto = nacct_proto_name(e->proto, pb, sizeof(pb));
	ep_str(e->saddr, e->family, e->sport, l, sizeof(l));
	ep_str(e->daddr, e->family, e->dport, r, sizeof(r));
	if (e->ifindex && e->netns == c->netns && !if_indextoname(e->ifindex, ifn))
		ifn[0] = '\0';
	rb[0] = '\0';
	if (e->type == NACCT_EV_DROP) {
		nacct_drop_reason_name(e->reason, rb, sizeof(rb));
		site = nacct_ksym_name(e->location);
	}
	else if (e->type == NACCT_EV_RST_TX && e->reason)
		nacct_rst_reason_name(e->reason, rb, sizeof(rb));

	if (json) {
		char a1[64], a2[64];

		printf("{\"time\":\"%s\",\"event\":\"%s\",\"pid\":%u,\"comm\":", t, ev_name(e->type),
		       e->pid);
		json_str(stdout, e->comm);
		printf(",\"family\":%u,\"proto\":\"%s\",\"saddr\":\"%s\",\"sport\":%u,"
		       "\"daddr\":\"%s\",\"dport\":%u,\"ifindex\":%u,\"ifname\":",
		       e->family, proto, nacct_addr_str(e->saddr, e->family, a1, sizeof(a1)),
		       ntohs(e->sport), nacct_addr_str(e->daddr, e->family, a2, sizeof(a2)),
		       ntohs(e->dport), e->ifindex);
		json_str(stdout, ifn);
		printf(",\"netns\":%u", e->netns);
		switch (e->type) {
		case NACCT_EV_DROP:
			printf(",\"reason\":\"%s\",\"reason_num\":%u,\"location\":", rb, e->reason);
			json_str(stdout, site);
			break;
		case NACCT_EV_RETRANS:
			printf(",\"state\":\"%s\",\"segs\":%llu,\"srtt_us\":%u",
			       nacct_tcp_state_name(e->newstate), (unsigned long long)e->rx_bytes,
			       e->srtt_us);
			break;
		case NACCT_EV_STATE:
			printf(",\"oldstate\":\"%s\",\"newstate\":\"%s\",\"ms\":%.3f",
			       nacct_tcp_state_name(e->oldstate), nacct_tcp_state_name(e->newstate),
			       e->dur_ns / 1e6);
			break;
		case NACCT_EV_LIFE:
			printf(",\"tx_bytes\":%llu,\"rx_bytes\":%llu,\"tx_segs\":%u,\"rx_segs\":%u,"
			       "\"srtt_us\":%u,\"ms\":%.3f",
			       (unsigned long long)e->tx_bytes, (unsigned long long)e->rx_bytes,
			       e->tx_segs, e->rx_segs, e->srtt_us, e->dur_ns / 1e6);
			break;
		case NACCT_EV_CONNECT:
		case NACCT_EV_ACCEPT:
			printf(",\"latency_us\":%.3f", e->dur_ns / 1e3);
			break;
		case NACCT_EV_LISTEN:
			printf(",\"backlog\":%u", e->backlog);
			break;
		case NACCT_EV_RST_RX:
		case NACCT_EV_RST_TX:
			printf(",\"state\":\"%s\",\"reason\":\"%s\"", nacct_tcp_state_name(e->newstate),
			       rb);
			break;
		default:
			break;
		}
		printf("}\n");
	} else {
		printf("%-13.13s %-8s %-7u %-15.15s %-4s %s -> %s ", tm, ev_name(e->type), e->pid,
		       e->comm[0] ? e->comm : "-", proto, l, r);
		switch (e->type) {
		case NACCT_EV_DROP:
			printf("reason=%s at=%s dev=%s", rb, site[0] ? site : "?",
			       ifn[0] ? ifn : e->ifindex ? "other-netns" : "-");
			break;
		case NACCT_EV_RETRANS:
			printf("state=%s segs=%llu srtt_us=%u", nacct_tcp_state_name(e->newstate),
			       (unsigned long long)e->rx_bytes, e->srtt_us);
			break;
		case NACCT_EV_STATE:
			printf("%s -> %s ms=%.3f", nacct_tcp_state_name(e->oldstate),
			       nacct_tcp_state_name(e->newstate), e->dur_ns / 1e6);
			break;
		case NACCT_EV_LIFE:
			printf("tx_bytes=%llu rx_bytes=%llu tx_segs=%u rx_segs=%u srtt_us=%u ms=%.3f",
			       (unsigned long long)e->tx_bytes, (unsigned long long)e->rx_bytes,
			       e->tx_segs, e->rx_segs, e->srtt_us, e->dur_ns / 1e6);
			break;
		case NACCT_EV_CONNECT:
		case NACCT_EV_ACCEPT:
			printf("lat_ms=%.3f", e->dur_ns / 1e6);
			break;
		case NACCT_EV_LISTEN:
			printf("LISTEN backlog=%u", e->backlog);
			break;
		case NACCT_EV_RST_RX:
		case NACCT_EV_RST_TX:
			printf("state=%s%s%s", nacct_tcp_state_name(e->newstate), rb[0] ? " reason=" : "",
			       rb);
			break;
		default:
			break;
		}
		putchar('\n');
	}
	c->printed++;
	return 0;
}

int cmd_events(struct events_opts *cfg)
{
	struct ev_ctx c = { .cfg = cfg };
	struct nacct_probe_maps m = { -1, -1, -1, -1, -1, -1, -1 };
	struct ring_buffer *rb = NULL;
	struct stat st;
	int err, ret = NACCT_EXIT_FAIL, slot = -1, ring = -1;
	char why[512];
	struct nacct_ev_reader want = { 0 };
	__u64 lost = 0;

	if (cfg->a.argc > 0) {
		c.ifindex = nacct_ifindex(cfg->a.argv[0]);
		if (!c.ifindex)
			return NACCT_EXIT_USAGE;
	}
	if (stat("/proc/self/ns/net", &st) == 0)
		c.netns = st.st_ino;
	if (cfg->drops)
		c.kinds |= 1u << NACCT_EV_DROP;
	if (cfg->retrans)
		c.kinds |= 1u << NACCT_EV_RETRANS;
	if (cfg->states)
		c.kinds |= 1u << NACCT_EV_STATE | 1u << NACCT_EV_CONNECT | 1u << NACCT_EV_ACCEPT |
			   1u << NACCT_EV_LISTEN | 1u << NACCT_EV_RST_RX | 1u << NACCT_EV_RST_TX;
	if (cfg->life)
		c.kinds |= 1u << NACCT_EV_LIFE;
	if (!c.kinds)
		c.kinds = ~0u;
	err = nacct_need_bpf();
	if (err)
		return err;

	err = nacct_probes_ensure(cfg->probes, why, sizeof(why));
	if (err == -EOPNOTSUPP || err == -EBUSY)
		return nacct_usage_error("%s", why);
	if (err < 0)
		return NACCT_EXIT_FAIL;
	err = nacct_probes_open(&m);
	if (err) {
		pr_warn("events: cannot open the side programs' maps: %s\n", strerror(-err));
		goto out;
	}
	/* our own slot: our own ring, mask and filters, whatever other readers run */
	want.mask = c.kinds & ~1u;
	want.fpid = cfg->pid;
	want.lport = htons(cfg->lport);
	want.rport = htons(cfg->rport);
	if (c.ifindex) {
		want.netns = c.netns;
		want.ifindex = c.ifindex;
	}
	slot = nacct_ev_reader_open(&m, &want, &ring);
	if (slot < 0) {
		pr_warn("events: no reader slot: %s\n", slot == -EBUSY
				? "too many `nacct events` running" : strerror(-slot));
		goto out;
	}
	rb = ring_buffer__new(ring, on_event, &c, NULL);
	if (!rb) {
		pr_warn("events: cannot open the event ring buffer: %s\n", strerror(errno));
		goto out;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGPIPE, on_signal);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!cfg->json)
		printf("%-13s %-8s %-7s %-15s %-4s %s\n", "TIME(UTC)", "EVENT", "PID", "COMM", "PROTO",
		       "LADDR:LPORT -> RADDR:RPORT DETAIL");
	while (!g_stop) {
		err = ring_buffer__poll(rb, 200);
		if (err < 0 && err != -EINTR) {
			pr_warn("events: ring buffer: %s\n", strerror(-err));
			goto out;
		}
	}
	/* what is already in the ring still belongs to the run */
	ring_buffer__consume(rb);
	ret = 0;
out:
	ring_buffer__free(rb);
	rb = NULL;
	lost = nacct_ev_reader_lost(&m, slot);
	nacct_ev_reader_close(&m, slot, ring);
	if (slot >= 0)
		fprintf(stderr, "# %llu events printed, %llu lost (ring buffer full)\n",
			(unsigned long long)c.printed, (unsigned long long)lost);
	ring_buffer__free(rb);
	nacct_probes_close(&m);
	/* the set goes with the last of the attachments and readers using it */
	nacct_probes_release_if_unused();
	return ret;
}
