/*
 * libFuzzer target: arbitrary Ethernet frames into net_input() of a stack
 * with a TCP connection open (SYN sent, or established), or with DHCP
 * running, interleaved with polls, sends and reads at advancing times.
 *
 * Input: one mode byte, then records of
 *   u8 ops, u8 dt (ms to advance), u8 len_hi, u8 len_lo, len bytes of frame.
 * ops bits ask the harness to make a frame plausible before it is fed in
 * (checksums, sequence numbers relative to the connection, the DHCP
 * transaction id), so the fuzzer gets past the cheap checks. Besides the
 * sanitizers, the stack's own invariants are checked after every step.
 * With MODE_VLAN every record first goes through the storage VLAN's
 * demultiplexer (hv/vlan.h, VID 100) and only what it gives the stack
 * reaches net_input(); every frame the stack sends is tagged and sorted
 * back, which must give the same frame.
 * The connection lives in slot 1 and the buffers of slot 0, which follow
 * the frame being built (s->tx) in the struct, are poisoned: a write past
 * the end of s->tx stays inside the struct, where ASan alone cannot see it.
 */
#include <stdint.h>
#include <stddef.h>
#include <string.h>

#include <sanitizer/asan_interface.h>

#include <hv/errno.h>
#include <hv/net.h>
#include <hv/vlan.h>

#define MODE_ESTABLISH BIT(0) /* answer our SYN before the records */
#define MODE_DHCP      BIT(1) /* no static address: DHCP is selecting */
#define MODE_VLAN      BIT(2) /* frames through the storage VLAN's tags, both ways */
#define FUZZ_VID       100

#define OP_FIX_IP_CSUM BIT(0)
#define OP_FIX_L4_CSUM BIT(1)
#define OP_REL_SEQ     BIT(2) /* TCP seq/ack fields are offsets from rcv_nxt/snd_una */
#define OP_POLL	       BIT(3)
#define OP_SEND	       BIT(4)
#define OP_RECV	       BIT(5)
#define OP_DHCP_XID    BIT(6) /* UDP to port 68: set the xid and MAC of the transaction */
#define OP_BUSY	       BIT(7) /* the driver refuses the next transmit */

#define CHECK(cond)                       \
	do {                              \
		if (!(cond))              \
			__builtin_trap(); \
	} while (0)

static const u8 our_mac[ETH_ALEN] = { 0x02, 0, 0, 0, 0, 0x01 };
static const u8 peer_mac[ETH_ALEN] = { 0x02, 0, 0, 0, 0, 0x05 };
#define OUR_IP	  IPV4(10, 0, 0, 2)
#define PEER_IP	  IPV4(10, 0, 0, 5)
#define PEER_PORT 10809

static struct net_stack stack;
static u8 frame[2048];
static u8 scratch[TCP_RCV_BUF];
static u32 busy;
static struct vlan_port vlan; /* vid 0: MODE_VLAN is off */

/* Tag what the stack sends and sort it back in: the same frame must come out. */
static void check_vlan_round_trip(const u8 *f, size_t len)
{
	static u8 tagged[VLAN_FRAME_MAX];
	size_t n;
	long t;
	u8 *out;

	t = vlan_tag(&vlan, f, len, tagged);
	CHECK(t == (long)(len + VLAN_HLEN));
	n = (size_t)t;
	CHECK(vlan_demux(&vlan, tagged, &n, &out) == VLAN_RX_STACK);
	CHECK(n == len && !memcmp(out, f, len));
}

/* MODE_VLAN: the record's frame sorted by its tag; what the stack gets, or NULL. */
static u8 *vlan_input(u8 *f, size_t *len)
{
	size_t orig = *len;
	u16 type = orig >= ETH_HLEN ? (u16)(f[12] << 8 | f[13]) : 0;
	u8 *out;

	switch (vlan_demux(&vlan, f, len, &out)) {
	case VLAN_RX_STACK:
		CHECK(type == ETH_P_8021Q && out == f + VLAN_HLEN && *len == orig - VLAN_HLEN);
		return out;
	case VLAN_RX_SWITCH:
		CHECK(orig >= ETH_HLEN && !vlan_tag_type(type) && out == f && *len == orig);
		return NULL;
	default:
		CHECK(out == f && *len == orig);
		return NULL;
	}
}

static u16 csum_at(const u8 *p, size_t len, u32 sum)
{
	return inet_fold(inet_sum(sum, p, len));
}

static int fuzz_transmit(void *ctx, const void *f, size_t len)
{
	(void)ctx;
	const u8 *p = f;

	CHECK(len >= ETH_ZLEN && len <= ETH_FRAME_MAX);
	if (vlan.vid)
		check_vlan_round_trip(p, len);
	/* What we send is well-formed: the IPv4 header and the TCP checksum are right. */
	if (p[12] == 0x08 && p[13] == 0x00) {
		const struct ip_hdr *ih = (const struct ip_hdr *)(p + ETH_HLEN);
		size_t tot = be16_to_cpu(ih->tot_len);

		CHECK(ih->ver_ihl == 0x45 && tot >= IP_HLEN && ETH_HLEN + tot <= len);
		CHECK(csum_at((const u8 *)ih, IP_HLEN, 0) == 0);
		if (ih->proto == IP_PROTO_TCP)
			CHECK(csum_at((const u8 *)(ih + 1), tot - IP_HLEN,
				      inet_pseudo_sum(be32_to_cpu(ih->src), be32_to_cpu(ih->dst),
						      IP_PROTO_TCP, (u16)(tot - IP_HLEN))) == 0);
	}
	if (busy) {
		busy--;
		return -EBUSY;
	}
	return 0;
}

/* Make the IPv4 header checksum and/or the L4 checksum of frame right. */
static void fix_checksums(u8 *f, size_t len, u8 ops)
{
	struct ip_hdr *ih = (struct ip_hdr *)(f + ETH_HLEN);
	size_t hlen, l4_len;
	u8 *l4;
	u16 csum;

	if (len < ETH_HLEN + IP_HLEN || f[12] != 0x08 || f[13] != 0x00)
		return;
	hlen = (size_t)(ih->ver_ihl & 0xf) * 4;
	if (hlen < IP_HLEN || ETH_HLEN + hlen > len)
		return;
	if (ops & OP_FIX_IP_CSUM) {
		ih->csum = 0;
		ih->csum = cpu_to_be16(csum_at((u8 *)ih, hlen, 0));
	}
	if (!(ops & OP_FIX_L4_CSUM) || be16_to_cpu(ih->tot_len) < hlen)
		return;
	l4 = f + ETH_HLEN + hlen;
	l4_len = MIN((size_t)be16_to_cpu(ih->tot_len) - hlen, len - ETH_HLEN - hlen);
	u32 pseudo =
	    inet_pseudo_sum(be32_to_cpu(ih->src), be32_to_cpu(ih->dst), ih->proto, (u16)l4_len);
	if (ih->proto == IP_PROTO_TCP && l4_len >= TCP_HLEN) {
		((struct tcp_hdr *)l4)->csum = 0;
		csum = csum_at(l4, l4_len, pseudo);
		((struct tcp_hdr *)l4)->csum = cpu_to_be16(csum);
	} else if (ih->proto == IP_PROTO_UDP && l4_len >= UDP_HLEN) {
		((struct udp_hdr *)l4)->csum = 0;
		csum = csum_at(l4, l4_len, pseudo);
		((struct udp_hdr *)l4)->csum = cpu_to_be16(csum ? csum : 0xffff);
	} else if (ih->proto == IP_PROTO_ICMP && l4_len >= ICMP_HLEN) {
		((struct icmp_hdr *)l4)->csum = 0;
		((struct icmp_hdr *)l4)->csum = cpu_to_be16(csum_at(l4, l4_len, 0));
	}
}

/* The IPv4 payload of f if it is protocol proto and at least min bytes, else NULL. */
static u8 *l4_of(u8 *f, size_t len, u8 proto, size_t min)
{
	struct ip_hdr *ih = (struct ip_hdr *)(f + ETH_HLEN);
	size_t hlen;

	if (len < ETH_HLEN + IP_HLEN || f[12] != 0x08 || f[13] != 0x00 || ih->proto != proto)
		return NULL;
	hlen = (size_t)(ih->ver_ihl & 0xf) * 4;
	if (hlen < IP_HLEN || ETH_HLEN + hlen + min > len)
		return NULL;
	return f + ETH_HLEN + hlen;
}

/* Sequence and acknowledgement numbers as offsets from where the connection is. */
static void rel_seq(u8 *f, size_t len, const struct tcp_conn *c)
{
	struct tcp_hdr *th = (struct tcp_hdr *)l4_of(f, len, IP_PROTO_TCP, TCP_HLEN);

	if (!th || c->fsm == TCPS_FREE)
		return;
	th->seq = cpu_to_be32(c->rcv_nxt + (u32)(s16)be32_to_cpu(th->seq));
	th->ack = cpu_to_be32(c->snd_una + (u32)(s16)be32_to_cpu(th->ack));
	th->sport = cpu_to_be16(c->remote_port);
	th->dport = cpu_to_be16(c->local_port);
}

static void dhcp_xid(u8 *f, size_t len)
{
	struct dhcp_msg *m =
	    (struct dhcp_msg *)l4_of(f, len, IP_PROTO_UDP, UDP_HLEN + sizeof(struct dhcp_msg));

	if (!m)
		return;
	m = (struct dhcp_msg *)((u8 *)m + UDP_HLEN);
	m->xid = cpu_to_be32(stack.dhcp.xid);
	memcpy(m->chaddr, our_mac, ETH_ALEN);
}

/* What the stack promises whatever it was fed. */
static void check_invariants(const struct tcp_conn *c)
{
	const struct net_stack *s = &stack;

	CHECK(s->nr_arpq <= NET_ARP_QUEUE);
	for (u32 i = 0; i < s->nr_arpq; i++)
		CHECK(s->arpq[i].len >= ETH_HLEN && s->arpq[i].len <= ETH_FRAME_MAX);
	for (u32 i = 0; i < NET_TCP_MAX_CONNS; i++) {
		const struct tcp_conn *t = &s->tcp[i];

		if (t->fsm == TCPS_FREE)
			continue;
		CHECK(t->rcv_len <= TCP_RCV_BUF && t->rcv_head < TCP_RCV_BUF);
		CHECK(t->snd_len <= TCP_SND_BUF && t->snd_head < TCP_SND_BUF);
		CHECK(t->nr_ooo <= TCP_OOO_RANGES);
		CHECK(t->fsm == TCPS_SYN_SENT || (s32)(t->snd_nxt - t->snd_una) >= 0);
		CHECK((s32)(t->snd_max - t->snd_nxt) >= 0);
		CHECK(t->snd_max - t->snd_una <= t->snd_len + 2);
		CHECK(t->rto >= TCP_RTO_MIN_MS && t->rto <= TCP_RTO_MAX_MS);
		CHECK(t->mss >= 64 && t->mss <= TCP_MSS_LOCAL);
		for (u32 j = 0; j < t->nr_ooo; j++) {
			u32 off = t->ooo[j].start - t->rcv_nxt, end = t->ooo[j].end - t->rcv_nxt;

			CHECK(off > 0 && off < end && end <= TCP_RCV_BUF - t->rcv_len);
			CHECK(j == 0 || t->ooo[j - 1].end - t->rcv_nxt < off);
		}
	}
	CHECK(c->fsm != TCPS_FREE);
}

/* A SYN-ACK for c with MSS, window scale and SACK permitted. */
static void establish(struct tcp_conn *c, u64 now)
{
	static const u8 opts[] = { TCPOPT_MSS, 4,	   0x05,
				   0xb4,       TCPOPT_NOP, TCPOPT_WSCALE,
				   3,	       2,	   TCPOPT_SACK_PERMITTED,
				   2,	       TCPOPT_NOP, TCPOPT_NOP };
	struct ip_hdr *ih = (struct ip_hdr *)(frame + ETH_HLEN);
	struct tcp_hdr *th = (struct tcp_hdr *)(ih + 1);
	size_t len = ETH_HLEN + IP_HLEN + TCP_HLEN + sizeof(opts);

	memset(frame, 0, len);
	memcpy(frame, our_mac, ETH_ALEN);
	memcpy(frame + ETH_ALEN, peer_mac, ETH_ALEN);
	frame[12] = 0x08;
	ih->ver_ihl = 0x45;
	ih->tot_len = cpu_to_be16((u16)(len - ETH_HLEN));
	ih->ttl = 64;
	ih->proto = IP_PROTO_TCP;
	ih->src = cpu_to_be32(PEER_IP);
	ih->dst = cpu_to_be32(OUR_IP);
	th->sport = cpu_to_be16(PEER_PORT);
	th->dport = cpu_to_be16(c->local_port);
	th->seq = cpu_to_be32(0x12345678);
	th->ack = cpu_to_be32(c->iss + 1);
	th->doff = (u8)((TCP_HLEN + sizeof(opts)) / 4) << 4;
	th->flags = TCP_SYN | TCP_ACK;
	th->wnd = cpu_to_be16(8192);
	memcpy(th + 1, opts, sizeof(opts));
	fix_checksums(frame, len, OP_FIX_IP_CSUM | OP_FIX_L4_CSUM);
	net_input(&stack, frame, len, now);
}

/* An ARP reply from the peer, so its address is known. */
static void learn_peer(u64 now)
{
	struct arp_pkt *ap = (struct arp_pkt *)(frame + ETH_HLEN);

	memset(frame, 0, ETH_ZLEN);
	memcpy(frame, our_mac, ETH_ALEN);
	memcpy(frame + ETH_ALEN, peer_mac, ETH_ALEN);
	frame[12] = 0x08;
	frame[13] = 0x06;
	ap->hrd = cpu_to_be16(ARP_HRD_ETHER);
	ap->pro = cpu_to_be16(ETH_P_IP);
	ap->hln = 6;
	ap->pln = 4;
	ap->op = cpu_to_be16(ARP_OP_REPLY);
	memcpy(ap->sha, peer_mac, ETH_ALEN);
	ap->spa = cpu_to_be32(PEER_IP);
	memcpy(ap->tha, our_mac, ETH_ALEN);
	ap->tpa = cpu_to_be32(OUR_IP);
	net_input(&stack, frame, ETH_ZLEN, now);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct net_driver drv = { .transmit = fuzz_transmit };
	struct tcp_conn *c = NULL;
	u64 now = 1000;
	u8 mode;

	if (size < 1)
		return 0;
	mode = *data++;
	size--;
	busy = 0;
	vlan_init(&vlan, (mode & MODE_VLAN) ? FUZZ_VID : 0);
	memcpy(drv.mac, our_mac, ETH_ALEN);
	net_init(&stack, &drv);
	if (mode & MODE_DHCP) {
		net_config_dhcp(&stack, now);
	} else {
		struct tcp_conn *first;

		net_config_static(&stack, OUR_IP, IPV4(255, 255, 255, 0), IPV4(10, 0, 0, 1));
		learn_peer(now);
		first = tcp_connect(&stack, PEER_IP, PEER_PORT, now);
		c = tcp_connect(&stack, PEER_IP, PEER_PORT, now);
		CHECK(first == &stack.tcp[0] && c == &stack.tcp[1]);
		tcp_abort(first);
		ASAN_POISON_MEMORY_REGION(&stack.bufs[0], sizeof(stack.bufs[0]));
		if (mode & MODE_ESTABLISH) {
			establish(c, now);
			CHECK(tcp_state(c) == TCP_ESTABLISHED);
		}
	}
	while (size >= 4) {
		u8 ops = data[0];
		size_t len = MIN((size_t)(data[2] << 8 | data[3]), size - 4);
		u8 *in = frame;

		now += data[1];
		len = MIN(len, sizeof(frame));
		memcpy(frame, data + 4, len);
		data += 4 + len;
		size -= 4 + len;
		if (vlan.vid)
			in = vlan_input(frame, &len);
		if (in && c && (ops & OP_REL_SEQ))
			rel_seq(in, len, c);
		if (in && (ops & OP_DHCP_XID))
			dhcp_xid(in, len);
		if (in)
			fix_checksums(in, len, ops);
		if (ops & OP_BUSY)
			busy = 1;
		if (in)
			net_input(&stack, in, len, now);
		if (ops & OP_POLL)
			net_poll(&stack, now);
		if (c && (ops & OP_SEND)) {
			long n = tcp_send(c, data - len, len, now);

			CHECK(n <= (long)len);
		}
		if (c && (ops & OP_RECV)) {
			long n = tcp_recv(c, scratch, sizeof(scratch));

			CHECK(n <= (long)sizeof(scratch));
		}
		if (c)
			check_invariants(c);
	}
	/* Let every timer run out: closes, give-ups and frees must hold too. */
	for (u32 i = 0; i < 40; i++) {
		now += 5000;
		net_poll(&stack, now);
		if (c)
			check_invariants(c);
	}
	if (c)
		tcp_close(c, now);
	for (u32 i = 0; i < 30; i++) {
		now += 5000;
		net_poll(&stack, now);
	}
	ASAN_UNPOISON_MEMORY_REGION(&stack.bufs[0], sizeof(stack.bufs[0]));
	return 0;
}
