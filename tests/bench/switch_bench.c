/*
 * The VSI networks' per-frame work on the host, built from the image's own
 * files (docs/bench.md, "Networks"): the switch's decision (sw_ingress()),
 * the same with the frame taken from a sender's transmit ring and copied
 * into each receiver's receive ring by the virtio-net device model, and NAT's
 * rewrite both ways. Guest RAM is a host buffer; a "guest" keeps its rings
 * full by re-posting the same buffers. Each figure runs for about
 * BENCH_SECONDS (default 1) and prints frames per second and ns per frame.
 * Reported, never asserted: a setup that does not forward as expected stops
 * the program with an error instead.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <hv/errno.h>
#include <hv/nat.h>
#include <hv/switch.h>
#include <hv/virtio_net.h>

#include "switch_frames.h"

#define NOW_MS	 1000000
#define RAM_SIZE (2 * MiB)
#define QSIZE	 VQ_MAX_SIZE
#define BAR_BASE 0x0000000c00000000ULL
#define RING(q)	 (0x4000ULL * (q)) /* desc, avail +0x1000, used +0x2000 */
#define BUF(q)	 (0x10000ULL + 0x80000ULL * (q))
#define BUF_SIZE 0x800ULL /* one 2 KiB buffer per descriptor, as Linux's virtio_net */
#define TCP_MSS	 1460

/* Common configuration registers (VIRTIO 1.2, 4.1.4.3). */
#define CC_GFSELECT 0x08
#define CC_GF	    0x0c
#define CC_STATUS   0x14
#define CC_QSELECT  0x16
#define CC_QSIZE    0x18
#define CC_QENABLE  0x1c
#define CC_QDESC    0x20
#define CC_QDRIVER  0x28
#define CC_QDEVICE  0x30

#define HOST_IP	   IPV4(10, 0, 2, 15)
#define ROUTER_IP  IPV4(10, 0, 2, 2)
#define STORAGE_IP IPV4(10, 9, 0, 2)
#define WEB_IP	   IPV4(10, 9, 0, 1)
#define NAT_IP	   IPV4(10, 0, 3, 10)
#define NAT_GW_IP  IPV4(10, 0, 3, 1)
#define BR_IP	   IPV4(10, 0, 2, 50)
#define INT0_IP	   IPV4(10, 0, 5, 10)
#define INT1_IP	   IPV4(10, 0, 5, 11)
#define INT_GW_IP  IPV4(10, 0, 5, 1)

/* The ports as the hypervisor adds them: uplink, host, gateways, then the VSIs. */
enum {
	P_UPLINK,
	P_HOST,
	P_NAT_GW,
	P_INT_GW,
	P_NAT,
	P_BR0,
	P_BR1,
	P_BR2,
	P_BR3,
	P_INT0,
	P_INT1,
	P_COUNT,
	F_BCAST = P_COUNT, /* the uplink's broadcast, beside each port's own frame */
	F_COUNT
};

#define NR_BRIDGED 4

/* A guest with a virtio-net device: its RAM, its rings, the buffers it still has posted. */
struct guest {
	struct virtio_net dev;
	u8 *ram;
	u16 avail[2];
	u32 left[2];
};

static struct sw_switch sw;
static struct guest *guests[P_COUNT];
static u8 frames[F_COUNT][ETH_FRAME_MAX]; /* what each port sends */
static size_t frame_len[F_COUNT];
static u8 wire[ETH_FRAME_MAX];
static double seconds = 1.0;
static volatile u64 sink;

static const u8 bcast[ETH_ALEN] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static const u8 mac_router[ETH_ALEN] = { 0x52, 0x55, 0x0a, 0x00, 0x02, 0x02 };
static const u8 mac_nat_gw[ETH_ALEN] = { 0x02, 0x00, 0x5e, 0x00, 0x00, 0x01 };
static const u8 mac_int_gw[ETH_ALEN] = { 0x02, 0x00, 0x5e, 0x00, 0x00, 0x03 };
static u8 mac[P_COUNT][ETH_ALEN];

static void die(const char *what)
{
	fprintf(stderr, "switch_bench: %s\n", what);
	exit(1);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Run fn in batches for about `seconds`; print frames per second and ns per frame. */
static void measure(const char *name, void (*fn)(u32 n))
{
	u64 done = 0;
	u32 batch = 4096;
	double t0, t;

	fn(batch); /* warm the caches and the rings */
	t0 = now_s();
	do {
		fn(batch);
		done += batch;
		t = now_s() - t0;
	} while (t < seconds);
	printf("  %-52s %9.2f M frames/s %9.1f ns/frame\n", name, (double)done / t / 1e6,
	       t * 1e9 / (double)done);
	fflush(stdout);
}

/* --- guests: RAM, the driver's probe, rings kept full --------------------------------- */

/* Interrupts stay off (the driver does not enable MSI-X here): never called. */
static void msi(void *ctx, u64 addr, u32 data)
{
	sink++;
}

static void *ram_map(void *ctx, u64 gpa, u64 len)
{
	if (gpa > RAM_SIZE || len > RAM_SIZE - gpa)
		return NULL;
	return (u8 *)ctx + gpa;
}

static void put(struct guest *g, u64 gpa, u64 v, u32 size)
{
	memcpy(g->ram + gpa, &v, size); /* little-endian host, as the guest */
}

static void cc_wr(struct guest *g, u32 off, u32 size, u64 v)
{
	virtio_pci_bar_write(&g->dev.pci, VIRTIO_PCI_COMMON_OFF + off, size, v);
}

/* Queue q of QSIZE descriptors, one 2 KiB buffer each, avail ring[i] = i. */
static void guest_queue(struct guest *g, u16 q)
{
	for (u32 i = 0; i < QSIZE; i++) {
		u64 e = RING(q) + 16ULL * i;

		put(g, e, BUF(q) + BUF_SIZE * i, 8);
		put(g, e + 8, BUF_SIZE, 4);
		put(g, e + 12, q == VIRTIO_NET_RXQ ? VIRTQ_DESC_F_WRITE : 0, 2);
		put(g, RING(q) + 0x1000 + 4 + 2ULL * i, i, 2);
	}
	cc_wr(g, CC_QSELECT, 2, q);
	cc_wr(g, CC_QSIZE, 2, QSIZE);
	cc_wr(g, CC_QDESC, 4, RING(q));
	cc_wr(g, CC_QDRIVER, 4, RING(q) + 0x1000);
	cc_wr(g, CC_QDEVICE, 4, RING(q) + 0x2000); /* the high halves stay 0 */
	cc_wr(g, CC_QENABLE, 2, 1);
}

/* A device with MAC m, probed as Linux does: features, both queues, DRIVER_OK. */
static struct guest *guest_new(const u8 *m)
{
	struct guest *g = calloc(1, sizeof(*g));
	struct virtio_net_params p = { 0 };
	u64 f = BIT(VIRTIO_NET_F_MAC) | BIT(VIRTIO_NET_F_STATUS) | BIT(32);
	u32 s = VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER;

	if (!g || !(g->ram = calloc(1, RAM_SIZE)))
		die("out of memory");
	memcpy(p.mac, m, ETH_ALEN);
	p.mem = (struct vq_mem){ ram_map, g->ram };
	p.msi = msi;
	if (virtio_net_init(&g->dev, &p))
		die("virtio_net_init failed");
	virtio_pci_cfg_write(&g->dev.pci, 0x10, 4, (u32)BAR_BASE);
	virtio_pci_cfg_write(&g->dev.pci, 0x14, 4, (u32)(BAR_BASE >> 32));
	virtio_pci_cfg_write(&g->dev.pci, 0x04, 2, 0x6); /* memory space, bus master */
	cc_wr(g, CC_STATUS, 1, s);
	cc_wr(g, CC_GFSELECT, 4, 0);
	cc_wr(g, CC_GF, 4, (u32)f);
	cc_wr(g, CC_GFSELECT, 4, 1);
	cc_wr(g, CC_GF, 4, (u32)(f >> 32));
	cc_wr(g, CC_STATUS, 1, s |= VIRTIO_STATUS_FEATURES_OK);
	guest_queue(g, VIRTIO_NET_RXQ);
	guest_queue(g, VIRTIO_NET_TXQ);
	cc_wr(g, CC_STATUS, 1, s | VIRTIO_STATUS_DRIVER_OK);
	if (!virtio_pci_queue_live(&g->dev.pci, VIRTIO_NET_TXQ))
		die("the device did not come up");
	return g;
}

/* The guest hands all QSIZE buffers of queue q to the device again (they are all used). */
static void guest_repost(struct guest *g, u16 q)
{
	g->avail[q] = (u16)(g->avail[q] + QSIZE);
	put(g, RING(q) + 0x1000 + 2, g->avail[q], 2);
	g->left[q] = QSIZE;
}

/* Every transmit buffer holds the header and frame; the guest posts them all. */
static void guest_fill_tx(struct guest *g, const u8 *frame, size_t len)
{
	for (u32 i = 0; i < QSIZE; i++) {
		u8 *b = g->ram + BUF(VIRTIO_NET_TXQ) + BUF_SIZE * i;

		memset(b, 0, VIRTIO_NET_HDR_LEN);
		memcpy(b + VIRTIO_NET_HDR_LEN, frame, len);
		put(g, RING(VIRTIO_NET_TXQ) + 16ULL * i + 8, VIRTIO_NET_HDR_LEN + len, 4);
	}
	guest_repost(g, VIRTIO_NET_TXQ);
}

/* The next frame the guest sent, into wire: its length. */
static size_t guest_tx(struct guest *g)
{
	size_t len;

	if (!g->left[VIRTIO_NET_TXQ])
		guest_repost(g, VIRTIO_NET_TXQ);
	len = virtio_net_tx(&g->dev, wire);
	if (!len)
		die("virtio_net_tx found no frame");
	g->left[VIRTIO_NET_TXQ]--;
	return len;
}

static void guest_rx(struct guest *g, const u8 *frame, size_t len)
{
	if (!g->left[VIRTIO_NET_RXQ])
		guest_repost(g, VIRTIO_NET_RXQ);
	if (virtio_net_rx(&g->dev, frame, len))
		die("virtio_net_rx refused a frame");
	g->left[VIRTIO_NET_RXQ]--;
}

/* --- the switch: the ports and frames of tests/system/netcases.py's networks ----------- */

static void add_port(enum sw_port_kind kind, enum sw_mode mode, u16 net, const u8 *m, u32 ip)
{
	struct sw_policy p = { .kind = kind, .mode = mode, .network = net, .ip = ip, .up = true };

	if (m)
		memcpy(p.mac, m, ETH_ALEN);
	if (sw_add_port(&sw, &p) < 0)
		die("sw_add_port failed");
}

static void add_vsi(u32 port, enum sw_mode mode, u16 net, u32 ip)
{
	memcpy(mac[port], (u8[ETH_ALEN]){ 0x02, 0x9c, 0x41, 0x7e, 0x0a, (u8)port }, ETH_ALEN);
	add_port(SW_PORT_VSI, mode, net, mac[port], ip);
	guests[port] = guest_new(mac[port]);
}

/* A full-size TCP segment (1460 bytes of data) from port in; the port's sender frame. */
static void tcp_frame(u32 in, const u8 *dst, const u8 *src, u32 sip, u32 dip)
{
	size_t h = fr_eth(frames[in], dst, src, ETH_P_IP, -1);

	frame_len[in] = h + fr_ipv4(frames[in] + h, IP_PROTO_TCP, sip, 80, dip, 40000,
				    TCP_ACK | TCP_PSH, TCP_MSS);
}

/* Each sender's frame, and one frame from every non-VSI port so the switch knows their MACs. */
static void setup_frames(void)
{
	struct sw_decision d;
	size_t h;

	tcp_frame(P_NAT, mac_nat_gw, mac[P_NAT], NAT_IP, WEB_IP);
	tcp_frame(P_NAT_GW, mac[P_NAT], mac_nat_gw, WEB_IP, NAT_IP);
	tcp_frame(P_BR0, mac_router, mac[P_BR0], BR_IP, WEB_IP);
	tcp_frame(P_INT0, mac[P_INT1], mac[P_INT0], INT0_IP, INT1_IP);
	tcp_frame(P_INT_GW, mac[P_INT0], mac_int_gw, INT_GW_IP, INT0_IP);
	tcp_frame(P_UPLINK, mac[P_BR0], mac_router, WEB_IP, BR_IP);
	/* the uplink's broadcast: a full-size UDP datagram to 255.255.255.255 */
	h = fr_eth(frames[F_BCAST], bcast, mac_router, ETH_P_IP, -1);
	frame_len[F_BCAST] = h + fr_ipv4(frames[F_BCAST] + h, IP_PROTO_UDP, ROUTER_IP, 5000,
					 IPV4_BROADCAST, 5000, 0, TCP_MSS + TCP_HLEN - UDP_HLEN);
	sw_ingress(&sw, P_UPLINK, frames[P_UPLINK], frame_len[P_UPLINK], NOW_MS, &d);
	sw_ingress(&sw, P_NAT_GW, frames[P_NAT_GW], frame_len[P_NAT_GW], NOW_MS, &d);
	sw_ingress(&sw, P_INT_GW, frames[P_INT_GW], frame_len[P_INT_GW], NOW_MS, &d);
	for (u32 i = 0; i < P_COUNT; i++)
		if (guests[i] && frame_len[i])
			guest_fill_tx(guests[i], frames[i], frame_len[i]);
}

static void setup_switch(void)
{
	sw_init(&sw, HOST_IP);
	if (sw_add_storage(&sw, STORAGE_IP))
		die("sw_add_storage failed");
	add_port(SW_PORT_UPLINK, SW_MODE_BRIDGED, 0, NULL, 0);
	add_port(SW_PORT_HOST, SW_MODE_BRIDGED, 0, NULL, 0);
	add_port(SW_PORT_HOST, SW_MODE_BRIDGED, 1, mac_nat_gw, 0);
	add_port(SW_PORT_HOST, SW_MODE_BRIDGED, 2, mac_int_gw, 0);
	add_vsi(P_NAT, SW_MODE_NAT, 1, NAT_IP);
	for (u32 i = 0; i < NR_BRIDGED; i++)
		add_vsi(P_BR0 + i, SW_MODE_BRIDGED, 0, 0);
	add_vsi(P_INT0, SW_MODE_INTERNAL, 2, INT0_IP);
	add_vsi(P_INT1, SW_MODE_INTERNAL, 2, INT1_IP);
	setup_frames();
}

/* The ports that get frame from port in. */
static u32 decide(u32 in, const u8 *frame, size_t len)
{
	struct sw_decision d;

	sw_ingress(&sw, in, frame, len, NOW_MS, &d);
	return d.out_mask;
}

/* Copy the frame into every VSI of mask, as netsw_deliver() does. */
static void deliver(u32 mask, const u8 *frame, size_t len)
{
	for (u32 i = 0; i < P_COUNT; i++)
		if ((mask & (1u << i)) && guests[i])
			guest_rx(guests[i], frame, len);
}

/* The masks each figure must see, checked once before anything is timed. */
static void check_masks(void)
{
	u32 br = 0;

	for (u32 i = 0; i < NR_BRIDGED; i++)
		br |= 1u << (P_BR0 + i);
	if (decide(P_NAT, frames[P_NAT], frame_len[P_NAT]) != 1u << P_NAT_GW ||
	    decide(P_NAT_GW, frames[P_NAT_GW], frame_len[P_NAT_GW]) != 1u << P_NAT ||
	    decide(P_BR0, frames[P_BR0], frame_len[P_BR0]) != 1u << P_UPLINK ||
	    decide(P_UPLINK, frames[P_UPLINK], frame_len[P_UPLINK]) != 1u << P_BR0 ||
	    decide(P_UPLINK, frames[F_BCAST], frame_len[F_BCAST]) != (br | 1u << P_HOST) ||
	    decide(P_INT0, frames[P_INT0], frame_len[P_INT0]) != 1u << P_INT1)
		die("a frame did not go where the figures assume");
}

#define DECISION(fn, in, fr)                                           \
	static void fn(u32 n)                                          \
	{                                                              \
		for (u32 i = 0; i < n; i++)                            \
			sink += decide(in, frames[fr], frame_len[fr]); \
	}
DECISION(d_nat_to_gw, P_NAT, P_NAT)
DECISION(d_gw_to_nat, P_NAT_GW, P_NAT_GW)
DECISION(d_br_to_uplink, P_BR0, P_BR0)
DECISION(d_uplink_to_br, P_UPLINK, P_UPLINK)
DECISION(d_uplink_bcast, P_UPLINK, F_BCAST)
DECISION(d_int_to_int, P_INT0, P_INT0)

/* From a VSI's transmit ring through the switch (and into receive rings). */
#define FROM_GUEST(fn, in)                                         \
	static void fn(u32 n)                                      \
	{                                                          \
		for (u32 i = 0; i < n; i++) {                      \
			size_t len = guest_tx(guests[in]);         \
			deliver(decide(in, wire, len), wire, len); \
		}                                                  \
	}
FROM_GUEST(v_nat_to_gw, P_NAT)
FROM_GUEST(v_br_to_uplink, P_BR0)
FROM_GUEST(v_int_to_int, P_INT0)

/* From the uplink or a gateway through the switch into receive rings. */
#define TO_GUEST(fn, in, fr)                                                                       \
	static void fn(u32 n)                                                                      \
	{                                                                                          \
		for (u32 i = 0; i < n; i++)                                                        \
			deliver(decide(in, frames[fr], frame_len[fr]), frames[fr], frame_len[fr]); \
	}
TO_GUEST(v_gw_to_nat, P_NAT_GW, P_NAT_GW)
TO_GUEST(v_uplink_to_br, P_UPLINK, P_UPLINK)
TO_GUEST(v_uplink_bcast, P_UPLINK, F_BCAST)

/* --- NAT: a connection's datagrams both ways, rewritten in place ------------------------ */

#define NAT_PORT_LO 20000 /* NETSW_NAT_PORT_LO .. _HI */
#define NAT_PORT_HI 29999
#define UDP_DATA    (1442 - ETH_HLEN - IP_HLEN - UDP_HLEN) /* a 1442-byte frame */

struct nat_flow {
	u8 pkt[ETH_MTU], orig[ETH_MTU];
	size_t len, hlen; /* the datagram; the headers NAT rewrites */
};

static struct nat_table nat1, nat256; /* one connection per protocol; a full table */
static struct nat_flow udp_out, udp_in, ack_out, ack_in;
static struct nat_table *nat = &nat1;

static void flow(struct nat_flow *f, u8 proto, u32 sip, u16 sport, u32 dip, u16 dport, u8 flags,
		 size_t plen)
{
	f->len = fr_ipv4(f->orig, proto, sip, sport, dip, dport, flags, plen);
	f->hlen = IP_HLEN + (proto == IP_PROTO_TCP ? TCP_HLEN : UDP_HLEN);
	memcpy(f->pkt, f->orig, f->len);
}

/* One datagram through NAT, after putting back the headers the last one rewrote. */
static int nat_one(struct nat_flow *f, bool out)
{
	memcpy(f->pkt, f->orig, f->hlen);
	return out ? nat_outbound(nat, f->pkt, f->len, NOW_MS)
		   : nat_inbound(nat, f->pkt, f->len, NOW_MS);
}

/* The rows of t: fillers other VSI ports own first (so ours come last), then UDP and TCP. */
static void nat_rows(struct nat_table *t, u32 fillers)
{
	struct nat_flow first, synack;
	u16 uport, tport;

	nat_init(t, HOST_IP, NAT_PORT_LO, NAT_PORT_HI);
	nat = t;
	for (u32 i = 0; i < fillers; i++) {
		flow(&first, IP_PROTO_UDP, IPV4(10, 0, 3, 11), (u16)(1000 + i), WEB_IP, 53, 0, 32);
		if (nat_one(&first, true))
			die("NAT refused a filler row");
	}
	flow(&first, IP_PROTO_UDP, NAT_IP, 40000, WEB_IP, 5001, 0, UDP_DATA);
	if (nat_one(&first, true))
		die("NAT refused the UDP row");
	uport = (u16)(first.pkt[20] << 8 | first.pkt[21]);
	flow(&first, IP_PROTO_TCP, NAT_IP, 40001, WEB_IP, 8000, TCP_SYN, 0);
	if (nat_one(&first, true))
		die("NAT refused the SYN");
	tport = (u16)(first.pkt[20] << 8 | first.pkt[21]);
	flow(&synack, IP_PROTO_TCP, WEB_IP, 8000, HOST_IP, tport, TCP_SYN | TCP_ACK, 0);
	if (nat_one(&synack, false))
		die("NAT refused the SYN+ACK");
	flow(&udp_out, IP_PROTO_UDP, NAT_IP, 40000, WEB_IP, 5001, 0, UDP_DATA);
	flow(&udp_in, IP_PROTO_UDP, WEB_IP, 5001, HOST_IP, uport, 0, UDP_DATA);
	flow(&ack_out, IP_PROTO_TCP, NAT_IP, 40001, WEB_IP, 8000, TCP_ACK, 0);
	flow(&ack_in, IP_PROTO_TCP, WEB_IP, 8000, HOST_IP, tport, TCP_ACK, 0);
	if (nat_one(&udp_out, true) || nat_one(&udp_in, false) || nat_one(&ack_out, true) ||
	    nat_one(&ack_in, false) || !fr_ipv4_csums_ok(udp_in.pkt, udp_in.len) ||
	    !fr_ipv4_csums_ok(ack_in.pkt, ack_in.len))
		die("NAT did not pass the connection's datagrams");
}

#define NAT_RUN(fn, f, out)                            \
	static void fn(u32 n)                          \
	{                                              \
		for (u32 i = 0; i < n; i++)            \
			sink += (u64)nat_one(&f, out); \
	}
NAT_RUN(n_udp_out, udp_out, true)
NAT_RUN(n_udp_in, udp_in, false)
NAT_RUN(n_ack_out, ack_out, true)
NAT_RUN(n_ack_in, ack_in, false)

static void nat_figures(struct nat_table *t, u32 fillers, const char *rows)
{
	char name[96];

	nat_rows(t, fillers);
	snprintf(name, sizeof(name), "1442-byte UDP, outbound (%s)", rows);
	measure(name, n_udp_out);
	snprintf(name, sizeof(name), "1442-byte UDP, inbound (%s)", rows);
	measure(name, n_udp_in);
	snprintf(name, sizeof(name), "60-byte TCP ACK, outbound (%s)", rows);
	measure(name, n_ack_out);
	snprintf(name, sizeof(name), "60-byte TCP ACK, inbound (%s)", rows);
	measure(name, n_ack_in);
}

int main(int argc, char **argv)
{
	const char *s = getenv("BENCH_SECONDS");

	if (s && atof(s) > 0)
		seconds = atof(s);
	setup_switch();
	check_masks();
	printf("VSI networks on the host (%s): 1514-byte frames, one sender, ~%.1f s a figure\n",
	       argc > 1 ? argv[1] : "gcc -O2", seconds);
	printf("sw_ingress() decision only:\n");
	measure("nat VSI -> gateway", d_nat_to_gw);
	measure("gateway -> nat VSI", d_gw_to_nat);
	measure("bridged VSI -> uplink", d_br_to_uplink);
	measure("uplink -> bridged VSI", d_uplink_to_br);
	measure("uplink broadcast -> 4 bridged VSIs (and the host)", d_uplink_bcast);
	measure("internal VSI -> internal VSI", d_int_to_int);
	printf("with virtio-net: the sender's transmit ring, the switch, each receive ring:\n");
	measure("nat VSI -> gateway (tx ring)", v_nat_to_gw);
	measure("gateway -> nat VSI (rx ring)", v_gw_to_nat);
	measure("bridged VSI -> uplink (tx ring)", v_br_to_uplink);
	measure("uplink -> bridged VSI (rx ring)", v_uplink_to_br);
	measure("uplink broadcast -> 4 bridged VSIs (4 rx rings)", v_uplink_bcast);
	measure("internal VSI -> internal VSI (tx ring, rx ring)", v_int_to_int);
	printf("NAT rewrite in place (with the rewritten headers put back each time):\n");
	nat_figures(&nat1, 0, "2 rows");
	nat_figures(&nat256, NAT_ROWS - 2, "256 rows, ours last");
	return 0;
}
