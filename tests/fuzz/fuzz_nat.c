/*
 * libFuzzer target: the NAT table on arbitrary datagrams both ways, with
 * time moving on. Input: records of [flags][len][datagram]; flag bit 0 sends
 * it inbound (else outbound), bit 1 fixes the total length and header
 * checksum, bit 2 puts a VSI source (outbound) or the outside destination
 * (inbound) in, bit 3 expires rows and checks the table, the high nibble
 * advances the clock. Checked: a datagram
 * whose checksums were right is still right after the rewrite (recomputed
 * from scratch), the rewritten address, and that an outside port belongs to
 * one inside endpoint, inside the port range or a forward.
 */
#include <stdint.h>
#include <stddef.h>
#include <string.h>

#include <hv/nat.h>

#include "switch_frames.h"

#define CHECK(cond)                       \
	do {                              \
		if (!(cond))              \
			__builtin_trap(); \
	} while (0)

#define INBOUND_BIT  BIT(0)
#define FIX_HDR_BIT  BIT(1)
#define FIX_ADDR_BIT BIT(2)
#define EXPIRE_BIT   BIT(3)
#define OUT_IP	     IPV4(192, 168, 1, 2)

static struct nat_table nat;

static void fix(u8 *ip, size_t len, u8 flags)
{
	u32 sum;

	if (len < IP_HLEN)
		return;
	if (flags & FIX_ADDR_BIT) {
		u32 a = flags & INBOUND_BIT ? OUT_IP : IPV4(10, 0, 2, 15 + (ip[15] & 3));

		memcpy(ip + (flags & INBOUND_BIT ? 16 : 12), &(u32){ cpu_to_be32(a) }, 4);
	}
	if (flags & FIX_HDR_BIT) {
		ip[0] = 0x45;
		ip[2] = (u8)(len >> 8);
		ip[3] = (u8)len;
		ip[10] = ip[11] = 0;
		sum = inet_fold(inet_sum(0, ip, IP_HLEN));
		ip[10] = (u8)(sum >> 8);
		ip[11] = (u8)sum;
	}
}

static bool port_ok(u8 proto, u16 p)
{
	for (u32 i = 0; proto == IP_PROTO_TCP && i < nat.nfwd; i++)
		if (nat.fwd[i].host_port == p)
			return true;
	return p >= nat.port_lo && p <= nat.port_hi;
}

/* After nat_expire(), every used row is live. */
static void check_table(void)
{
	for (u32 i = 0; i < NAT_ROWS; i++) {
		const struct nat_row *a = &nat.rows[i];

		if (!a->used)
			continue;
		CHECK(port_ok(a->proto, a->out_port));
		for (u32 j = i + 1; j < NAT_ROWS; j++) {
			const struct nat_row *b = &nat.rows[j];

			/* an outside port belongs to one inside endpoint */
			CHECK(!(b->used && b->proto == a->proto && b->out_port == a->out_port &&
				(b->in_ip != a->in_ip || b->in_port != a->in_port)));
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static u8 ip[256 * 6];
	u64 now = 1000;

	nat_init(&nat, OUT_IP, 40000, 40015);
	nat_add_forward(&nat, 8080, IPV4(10, 0, 2, 15), 22);
	while (size >= 2) {
		u8 flags = data[0];
		size_t len = MIN((size_t)data[1] * 6, size - 2);
		bool ok;
		int rc;

		memcpy(ip, data + 2, len);
		fix(ip, len, flags);
		ok = len >= IP_HLEN && fr_ipv4_csums_ok(ip, len);
		rc = flags & INBOUND_BIT ? nat_inbound(&nat, ip, len, now)
					 : nat_outbound(&nat, ip, len, now);
		if (rc == 0 && ok)
			CHECK(fr_ipv4_csums_ok(ip, len));
		if (rc == 0 && !(flags & INBOUND_BIT))
			CHECK(ip[12] == 192 && ip[13] == 168 && ip[14] == 1 && ip[15] == 2);
		if (flags & EXPIRE_BIT) {
			nat_expire(&nat, now);
			check_table();
		}
		now += (u64)(flags >> 4) * 20000;
		data += 2 + len;
		size -= 2 + len;
	}
	return 0;
}
