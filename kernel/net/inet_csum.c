/*
 * The Internet checksum (RFC 1071), its incremental update (RFC 1624) and
 * the IPv4 pseudo-header sum: on their own so the switch, NAT and DHCP
 * server (kernel/switch/) use them without linking the stack.
 */
#include <hv/net_proto.h>

u32 inet_sum(u32 sum, const void *buf, size_t len)
{
	const u8 *p = buf;
	u64 acc = sum;

	for (; len >= 2; p += 2, len -= 2)
		acc += (u32)p[0] << 8 | p[1];
	if (len)
		acc += (u32)p[0] << 8;
	while (acc >> 32)
		acc = (acc & 0xffffffff) + (acc >> 32);
	return (u32)acc;
}

u16 inet_fold(u32 sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (u16)~sum;
}

u32 inet_pseudo_sum(u32 src, u32 dst, u8 proto, u16 len)
{
	return (src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff) + proto + len;
}

void inet_csum_update16(u8 *csum, u16 old, u16 new)
{
	u32 sum = (u16) ~(u16)(csum[0] << 8 | csum[1]);

	sum += (u16)~old;
	sum += new;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	sum = (u16)~sum;
	csum[0] = (u8)(sum >> 8);
	csum[1] = (u8)sum;
}

void inet_csum_update32(u8 *csum, u32 old, u32 new)
{
	inet_csum_update16(csum, (u16)(old >> 16), (u16)(new >> 16));
	inet_csum_update16(csum, (u16)old, (u16) new);
}
