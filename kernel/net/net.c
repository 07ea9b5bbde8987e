/*
 * The stack's frame: set-up, configuration, Ethernet II in and out, the
 * polling entry point, the checksum and the random numbers the protocols
 * need. See docs/net.md for the design and its limits.
 */
#include <hv/errno.h>
#include <hv/string.h>

#include "net_internal.h"

static const u8 eth_broadcast[ETH_ALEN] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

/* The splitmix64 finaliser: a fast bijective mix of 64 bits. */
static u64 mix64(u64 z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* A keyed hash of two words (ISNs per RFC 6528, port choice per RFC 6056). */
u64 net_hash(u64 key, u64 a, u64 b)
{
	return mix64(mix64(key ^ a) + b + 0x9e3779b97f4a7c15ull);
}

/* The next 32 bits of the stack's xorshift64* generator. */
u32 net_random(struct net_stack *s)
{
	u64 x = s->rng;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	s->rng = x;
	return (u32)((x * 0x2545f4914f6cdd1dull) >> 32);
}

void net_init(struct net_stack *s, const struct net_driver *drv)
{
	/* The TCP buffers are never read before written: skip clearing megabytes. */
	memset(s, 0, offsetof(struct net_stack, bufs));
	s->drv = *drv;
	for (u32 i = 0; i < ARRAY_SIZE(s->tcp); i++) {
		s->tcp[i].stack = s;
		s->tcp[i].rbuf = s->bufs[i].rcv;
		s->tcp[i].sbuf = s->bufs[i].snd;
	}
	net_seed(s, (u64)drv->mac[0] << 40 | (u64)drv->mac[1] << 32 | (u64)drv->mac[2] << 24 |
			(u64)drv->mac[3] << 16 | (u64)drv->mac[4] << 8 | drv->mac[5]);
}

void net_seed(struct net_stack *s, u64 seed)
{
	s->rng = mix64(s->rng ^ seed ^ 0x6a09e667f3bcc909ull) | 1;
	s->secret = mix64(s->secret + seed + 0xbb67ae8584caa73bull);
	s->ip_id = (u16)net_random(s);
	/* RFC 6335 6: ephemeral ports are 49152-65535; start at a random one. */
	s->next_port = 49152 + net_random(s) % 16384;
}

/* The number of leading one bits of a netmask, for messages. */
static u32 prefix_len(u32 mask)
{
	u32 n = 0;

	while (n < 32 && (mask & (0x80000000u >> n)))
		n++;
	return n;
}

void net_config_static(struct net_stack *s, u32 ip, u32 netmask, u32 gateway)
{
	s->dhcp.state = DHCP_OFF;
	/* Connections on the old address cannot go on. */
	if (s->configured && s->ip != ip) {
		tcp_abort_all(s, TCP_CLOSED_ABORTED);
		arp_flush(s);
	}
	s->ip = ip;
	s->netmask = netmask;
	s->gateway = gateway;
	s->configured = true;
	pr_info("net: static address " IP_FMT "/%u gateway " IP_FMT "\n", IP_ARGS(ip),
		prefix_len(netmask), IP_ARGS(gateway));
}

void net_config_dhcp(struct net_stack *s, u64 now_ms)
{
	s->now = now_ms;
	dhcp_start(s);
}

u32 net_address(const struct net_stack *s)
{
	return s->configured ? s->ip : 0;
}

bool net_configured(const struct net_stack *s)
{
	return s->configured;
}

const struct net_stats *net_stats(const struct net_stack *s)
{
	return &s->stats;
}

/* Pad frame to the Ethernet minimum and hand it to the driver; 0 or -errno. */
int net_transmit(struct net_stack *s, u8 *frame, size_t len)
{
	int rc;

	if (len < ETH_ZLEN) {
		memset(frame + len, 0, ETH_ZLEN - len);
		len = ETH_ZLEN;
	}
	rc = s->drv.transmit(s->drv.ctx, frame, len);
	if (rc == 0)
		s->stats.tx_frames++;
	else if (rc == -EBUSY)
		s->stats.tx_busy++;
	else
		s->stats.tx_error++;
	return rc;
}

void net_input(struct net_stack *s, const void *frame, size_t len, u64 now_ms)
{
	const struct eth_hdr *eh = frame;
	const u8 *p = frame;

	s->now = now_ms;
	s->stats.rx_frames++;
	if (len < ETH_HLEN) {
		NET_DROP(s, eth_short);
		return;
	}
	if (memcmp(eh->dst, s->drv.mac, ETH_ALEN) && memcmp(eh->dst, eth_broadcast, ETH_ALEN)) {
		NET_DROP(s, eth_not_for_us);
		return;
	}
	switch (be16_to_cpu(eh->type)) {
	case ETH_P_ARP:
		arp_input(s, p + ETH_HLEN, len - ETH_HLEN);
		break;
	case ETH_P_IP:
		ip_input(s, p + ETH_HLEN, len - ETH_HLEN);
		break;
	default:
		NET_DROP(s, eth_unknown_type);
		break;
	}
}

void net_poll(struct net_stack *s, u64 now_ms)
{
	s->now = now_ms;
	arp_poll(s);
	dhcp_poll(s);
	tcp_poll(s);
}
