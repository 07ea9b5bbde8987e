/*
 * libFuzzer target: the DHCP server on arbitrary frames and on well-formed
 * requests with arbitrary options, from four ports, with time moving on.
 * Input: records of [port][flags][len][bytes]. Flag bit 0 makes the bytes
 * the options of a valid request from the port (byte 0 of them picks ciaddr
 * in the pool or not), else they are the whole frame; the high nibble
 * advances the clock. Each frame is copied into a buffer of its exact size.
 * Checked: every reply is a full frame to the port's MAC
 * with right checksums (recomputed from scratch) and a yiaddr in the pool;
 * a MAC never holds two leases; only the ports' MACs hold any.
 */
#include <stdint.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <hv/dhcp_server.h>

#include "switch_frames.h"

#define CHECK(cond)                       \
	do {                              \
		if (!(cond))              \
			__builtin_trap(); \
	} while (0)

#define VALID_BIT BIT(0)
#define PORTS	  4
#define POOL	  IPV4(10, 0, 2, 15)
#define POOL_SIZE 3 /* fewer addresses than ports: exhaustion is reachable */

static struct dhcp_server d;
static u8 macs[PORTS][ETH_ALEN];

static void setup(void)
{
	struct dhcps_config c = { .server_ip = IPV4(10, 0, 2, 2),
				  .mask = IPV4(255, 255, 255, 0),
				  .pool_start = POOL,
				  .pool_size = POOL_SIZE,
				  .lease_s = 120,
				  .dns = true,
				  .server_mac = { 0x52, 0x54, 0, 0, 0, 2 } };

	CHECK(dhcps_init(&d, &c) == 0);
	for (u32 i = 0; i < PORTS; i++) {
		macs[i][0] = 0x52;
		macs[i][5] = (u8)(0x10 + i);
	}
}

static void check_reply(const u8 *r, size_t n, const u8 *mac)
{
	u32 yi;

	if (!n)
		return;
	CHECK(n == DHCPS_REPLY_MAX);
	CHECK(!memcmp(r, mac, ETH_ALEN));
	CHECK(fr_ipv4_csums_ok(r + ETH_HLEN, n - ETH_HLEN));
	yi = be32_to_cpu(((const struct dhcp_msg *)(r + ETH_HLEN + IP_HLEN + UDP_HLEN))->yiaddr);
	CHECK(yi == 0 || (yi >= POOL && yi < POOL + POOL_SIZE));
}

static void check_leases(u64 now)
{
	for (u32 i = 0; i < POOL_SIZE; i++) {
		const struct dhcps_lease *a = &d.lease[i];
		bool known = false;

		if (a->state == DHCPS_FREE || a->state == DHCPS_DECLINED || now >= a->until_ms)
			continue;
		for (u32 p = 0; p < PORTS; p++)
			known |= !memcmp(a->mac, macs[p], ETH_ALEN);
		CHECK(known);
		for (u32 j = i + 1; j < POOL_SIZE; j++) {
			const struct dhcps_lease *b = &d.lease[j];

			CHECK(b->state == DHCPS_FREE || b->state == DHCPS_DECLINED ||
			      now >= b->until_ms || memcmp(a->mac, b->mac, ETH_ALEN));
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static u8 fr[1600], reply[DHCPS_REPLY_MAX];
	u64 now = 1000;

	setup();
	while (size >= 3) {
		const u8 *mac = macs[data[0] % PORTS];
		u8 flags = data[1];
		size_t len = MIN((size_t)data[2] * 4, size - 3), n;
		u8 *exact;

		if ((flags & VALID_BIT) && len >= 1)
			n = fr_dhcp(fr, mac, data[3] & 1 ? POOL + (data[3] >> 1) % 4 : 0, data + 4,
				    MIN(len - 1, (size_t)1000));
		else
			memcpy(fr, data + 3, n = len);
		memset(reply, 0xee, sizeof(reply));
		exact = malloc(n ? n : 1); /* ASan sees a read past the frame */
		memcpy(exact, fr, n);
		check_reply(reply, dhcps_input(&d, mac, exact, n, now, reply), mac);
		free(exact);
		check_leases(now);
		now += (u64)(flags >> 4) * 15000;
		data += 3 + len;
		size -= 3 + len;
	}
	return 0;
}
