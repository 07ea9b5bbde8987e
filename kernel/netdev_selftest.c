/*
 * selftest=nic: transmit and receive on the hypervisor's NIC without a
 * TCP/IP stack. An ARP request (RFC 826) built by hand asks for the address
 * of 10.0.2.2, the gateway of QEMU's and Bochs' user-mode network (slirp),
 * as 10.0.2.15, the address slirp expects of its guest; the reply proves
 * both directions of DMA, the MAC filter and the rings.
 */
#include <asm/cpu.h>
#include <asm/lapic.h>
#include <hv/kernel.h>
#include <hv/log.h>
#include <hv/netdev_selftest.h>
#include <hv/string.h>
#include <net/netdev.h>

#define NIC_LINK_WAIT_MS 3000
#define NIC_ARP_TRIES	 4
#define NIC_ARP_WAIT_MS	 1500 /* per request; QEMU's e1000 holds RX for 1 s after RCTL writes */
#define NIC_RX_BUF	 2048

#define ETH_P_ARP	0x0806
#define ETH_P_IP	0x0800
#define ARP_HTYPE_ETHER 1
#define ARP_OP_REQUEST	1
#define ARP_OP_REPLY	2
#define ARP_IPV4_LEN	4

static const u8 selftest_ip[ARP_IPV4_LEN] = { 10, 0, 2, 15 };
static const u8 gateway_ip[ARP_IPV4_LEN] = { 10, 0, 2, 2 };

/* An Ethernet frame carrying ARP for IPv4 over Ethernet; multi-byte fields big-endian. */
struct arp_frame {
	u8 dst[ETH_ALEN];
	u8 src[ETH_ALEN];
	u16 ethertype;
	u16 htype;
	u16 ptype;
	u8 hlen;
	u8 plen;
	u16 oper;
	u8 sha[ETH_ALEN];
	u8 spa[ARP_IPV4_LEN];
	u8 tha[ETH_ALEN];
	u8 tpa[ARP_IPV4_LEN];
} __packed;
_Static_assert(sizeof(struct arp_frame) == 14 + 28, "Ethernet header + ARP for IPv4");

static u16 be16(u16 v)
{
	return __builtin_bswap16(v);
}

/* Broadcast "who has 10.0.2.2, tell 10.0.2.15" from nd's MAC. */
static void arp_request(const struct netdev *nd, struct arp_frame *f)
{
	memset(f, 0, sizeof(*f));
	memset(f->dst, 0xff, ETH_ALEN);
	memcpy(f->src, nd->mac, ETH_ALEN);
	f->ethertype = be16(ETH_P_ARP);
	f->htype = be16(ARP_HTYPE_ETHER);
	f->ptype = be16(ETH_P_IP);
	f->hlen = ETH_ALEN;
	f->plen = ARP_IPV4_LEN;
	f->oper = be16(ARP_OP_REQUEST);
	memcpy(f->sha, nd->mac, ETH_ALEN);
	memcpy(f->spa, selftest_ip, ARP_IPV4_LEN);
	memcpy(f->tpa, gateway_ip, ARP_IPV4_LEN);
}

/* True when the len bytes at frame are the gateway's ARP reply to us. */
static bool is_gateway_reply(const struct netdev *nd, const void *frame, long len)
{
	const struct arp_frame *f = frame;

	return len >= (long)sizeof(*f) && f->ethertype == be16(ETH_P_ARP) &&
	       f->htype == be16(ARP_HTYPE_ETHER) && f->ptype == be16(ETH_P_IP) &&
	       f->hlen == ETH_ALEN && f->plen == ARP_IPV4_LEN && f->oper == be16(ARP_OP_REPLY) &&
	       !memcmp(f->spa, gateway_ip, ARP_IPV4_LEN) &&
	       !memcmp(f->tpa, selftest_ip, ARP_IPV4_LEN) && !memcmp(f->tha, nd->mac, ETH_ALEN);
}

/* Wait up to NIC_LINK_WAIT_MS for link; the milliseconds it took, or -1. */
static int wait_link(struct netdev *nd)
{
	for (int ms = 0; ms <= NIC_LINK_WAIT_MS; ms++) {
		if (nd->link_up(nd))
			return ms;
		udelay(1000);
	}
	return -1;
}

/* Receive for up to ms milliseconds; true with the gateway's MAC once its reply arrived. */
static bool await_reply(struct netdev *nd, u8 gw_mac[ETH_ALEN], u32 ms)
{
	static u8 buf[NIC_RX_BUF];
	u64 end = rdtsc() + tsc_hz() / 1000 * ms;
	long n;

	do {
		n = nd->receive(nd, buf, sizeof(buf));
		if (n > 0 && is_gateway_reply(nd, buf, n)) {
			memcpy(gw_mac, ((const struct arp_frame *)buf)->sha, ETH_ALEN);
			return true;
		}
		if (n == 0)
			udelay(100);
	} while (rdtsc() < end);
	return false;
}

/* Up to NIC_ARP_TRIES requests; logs the reply or the failure. */
static void arp_gateway(struct netdev *nd)
{
	struct arp_frame req;
	u8 gw_mac[ETH_ALEN];
	char mac[18];
	u64 t0 = rdtsc();
	int err;

	arp_request(nd, &req);
	for (u32 try = 1; try <= NIC_ARP_TRIES; try++) {
		err = nd->transmit(nd, &req, sizeof(req));
		if (err)
			pr_warn("nic: sending ARP request %u failed (error %d)", try, err);
		if (!err && await_reply(nd, gw_mac, NIC_ARP_WAIT_MS)) {
			netdev_format_mac(gw_mac, mac, sizeof(mac));
			pr_info("nic: ARP reply from 10.0.2.2 at %s (request %u, %llu ms)", mac,
				try, (unsigned long long)((rdtsc() - t0) / (tsc_hz() / 1000)));
			return;
		}
	}
	pr_err("nic: selftest failed: no ARP reply from 10.0.2.2 after %u requests "
	       "(tx %llu, rx %llu, rx dropped %llu, tx busy %llu)",
	       NIC_ARP_TRIES, (unsigned long long)nd->tx_frames, (unsigned long long)nd->rx_frames,
	       (unsigned long long)nd->rx_dropped, (unsigned long long)nd->tx_busy);
}

void netdev_selftest(void)
{
	struct netdev *nd;
	int ms;

	if (!selftest_enabled("nic"))
		return;
	nd = netdev_probe();
	if (!nd) {
		pr_err("nic: selftest failed: no NIC");
		return;
	}
	ms = wait_link(nd);
	if (ms < 0) {
		pr_err("nic: selftest failed: %s link still down after %u ms", nd->name,
		       NIC_LINK_WAIT_MS);
		return;
	}
	pr_info("nic: %s link up after %d ms", nd->name, ms);
	arp_gateway(nd);
}
