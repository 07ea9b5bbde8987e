/*
 * libFuzzer target: the switch's ingress path (classifier and port policy)
 * on arbitrary frames. Input: records of [port byte][flags byte][len byte]
 * [frame]; flag bit 0 replaces the source MAC with the port's own, bit 1
 * puts the port's leased IPv4 in as source, so the fuzzer gets past the
 * spoofing checks. Checked for every decision: only existing ports, never
 * the sender, the same network, a VSI gets only its own unicast or
 * multicast, nothing from a VSI to a storage server or the hypervisor but a
 * forwarded TCP port, and every classifier offset inside the frame.
 */
#include <stdint.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <hv/switch.h>

#define CHECK(cond)                       \
	do {                              \
		if (!(cond))              \
			__builtin_trap(); \
	} while (0)

#define FIX_MAC_BIT BIT(0)
#define FIX_IP_BIT  BIT(1)

static struct sw_switch sw;

static void add(enum sw_port_kind kind, enum sw_mode mode, u16 net, u8 id, u32 ip)
{
	struct sw_policy p = { .kind = kind, .mode = mode, .network = net, .ip = ip, .up = true };

	p.mac[0] = 0x52;
	p.mac[5] = id;
	sw_add_port(&sw, &p);
}

static void setup(void)
{
	sw_init(&sw, IPV4(192, 168, 1, 2));
	add(SW_PORT_UPLINK, SW_MODE_BRIDGED, 0, 0, 0);
	add(SW_PORT_HOST, SW_MODE_BRIDGED, 0, 1, 0);
	add(SW_PORT_VSI, SW_MODE_BRIDGED, 0, 2, 0);
	add(SW_PORT_HOST, SW_MODE_NAT, 1, 3, 0);
	add(SW_PORT_VSI, SW_MODE_NAT, 1, 4, IPV4(10, 0, 2, 15));
	add(SW_PORT_VSI, SW_MODE_NAT, 1, 5, 0);
	add(SW_PORT_VSI, SW_MODE_INTERNAL, 2, 6, IPV4(10, 9, 0, 2));
	add(SW_PORT_VSI, SW_MODE_INTERNAL, 2, 7, IPV4(10, 9, 0, 3));
	sw_add_storage(&sw, IPV4(192, 168, 1, 10));
	sw_add_host_fwd(&sw, 8080);
}

static void check_classify(const u8 *fr, size_t len)
{
	struct sw_frame f;

	if (sw_classify(fr, len, &f))
		return;
	CHECK(f.l3_off <= len && f.l3_len <= len - f.l3_off);
	CHECK(f.l4_off + f.l4_len <= f.l3_off + f.l3_len);
}

static void check_decision(u32 in, const u8 *fr, size_t len, const struct sw_decision *d)
{
	const struct sw_policy *pin = &sw.ports[in].pol;
	struct sw_frame f;

	CHECK(!(d->out_mask >> sw.nports));
	CHECK(!(d->out_mask & (1u << in)));
	if (!d->out_mask)
		return;
	CHECK(sw_classify(fr, len, &f) == 0);
	CHECK(!f.tagged); /* the networks are untagged: no tagged frame is ever forwarded */
	if (pin->kind == SW_PORT_VSI)
		CHECK(!sw_storage_bound(&sw, &f) && !memcmp(f.src, pin->mac, ETH_ALEN));
	for (u32 i = 0; i < sw.nports; i++) {
		const struct sw_policy *p = &sw.ports[i].pol;

		if (!(d->out_mask & (1u << i)))
			continue;
		CHECK(p->network == pin->network);
		if (p->kind == SW_PORT_VSI)
			CHECK((f.dst[0] & 1) || !memcmp(f.dst, p->mac, ETH_ALEN));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static u8 fr[256 * 8];
	struct sw_decision d;
	u64 now = 0;

	setup();
	while (size >= 3) {
		u32 in = data[0] % sw.nports;
		u8 flags = data[1];
		size_t len = MIN((size_t)data[2] * 8, size - 3);
		u8 *exact;

		memcpy(fr, data + 3, len);
		if ((flags & FIX_MAC_BIT) && len >= ETH_HLEN)
			memcpy(fr + ETH_ALEN, sw.ports[in].pol.mac, ETH_ALEN);
		if ((flags & FIX_IP_BIT) && len >= ETH_HLEN + IP_HLEN)
			memcpy(fr + ETH_HLEN + 12, &(u32){ cpu_to_be32(sw.ports[in].pol.ip) }, 4);
		exact = malloc(len ? len : 1); /* ASan sees a read past the frame */
		memcpy(exact, fr, len);
		check_classify(exact, len);
		sw_ingress(&sw, in, exact, len, now, &d);
		check_decision(in, exact, len, &d);
		free(exact);
		now += (u64)(flags >> 4) * 60000;
		data += 3 + len;
		size -= 3 + len;
	}
	return 0;
}
