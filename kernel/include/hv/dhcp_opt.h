/*
 * DHCP options (RFC 2132 section 2), shared by the client (kernel/net/dhcp.c)
 * and the server (kernel/switch/dhcp_server.c): one bounds-checked walk over
 * the options field and the writer of a 4-byte option. Every length read
 * from the wire is checked against the end of the field before it is used.
 */
#ifndef HV_DHCP_OPT_H
#define HV_DHCP_OPT_H

#include <hv/errno.h>
#include <hv/net_proto.h>

struct dhcp_opt_walk {
	const u8 *p;
	size_t len, pos;
};

struct dhcp_opt {
	u8 code, len;
	const u8 *val; /* len bytes, inside the field */
};

static inline void dhcp_opt_begin(struct dhcp_opt_walk *w, const u8 *p, size_t len)
{
	w->p = p;
	w->len = len;
	w->pos = 0;
}

/*
 * The next option into *o, pads skipped: 1, or 0 at DHCPOPT_END or the end
 * of the field, or -EBADMSG when an option's length runs past the end.
 */
static inline int dhcp_opt_next(struct dhcp_opt_walk *w, struct dhcp_opt *o)
{
	while (w->pos < w->len && w->p[w->pos] == DHCPOPT_PAD)
		w->pos++;
	if (w->pos >= w->len || w->p[w->pos] == DHCPOPT_END)
		return 0;
	if (w->pos + 2 > w->len || w->pos + 2 + w->p[w->pos + 1] > w->len)
		return -EBADMSG;
	o->code = w->p[w->pos];
	o->len = w->p[w->pos + 1];
	o->val = w->p + w->pos + 2;
	w->pos += 2 + (size_t)o->len;
	return 1;
}

static inline u32 dhcp_get_be32(const u8 *p)
{
	return (u32)p[0] << 24 | (u32)p[1] << 16 | (u32)p[2] << 8 | p[3];
}

/* Append a 4-byte option; returns the end. */
static inline u8 *dhcp_put_opt_u32(u8 *p, u8 code, u32 val)
{
	p[0] = code;
	p[1] = 4;
	p[2] = (u8)(val >> 24);
	p[3] = (u8)(val >> 16);
	p[4] = (u8)(val >> 8);
	p[5] = (u8)val;
	return p + 6;
}

#endif
