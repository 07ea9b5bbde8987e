/*
 * Interop of kernel/net with a real NBD server: the fixed newstyle
 * handshake with NBD_OPT_GO (NBD protocol, doc/proto.md "Fixed newstyle
 * negotiation", "NBD_OPT_GO"), the export size from NBD_REP_INFO /
 * NBD_INFO_EXPORT, one NBD_CMD_READ of the first 4 KiB compared with the
 * exported file, then NBD_CMD_DISC. Just enough to prove the TCP path; the
 * real client is kernel/blk/nbd.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hosted_net.h"

#define NBDMAGIC		0x4e42444d41474943ull
#define IHAVEOPT		0x49484156454f5054ull
#define NBD_REP_MAGIC		0x3e889045565a9ull
#define NBD_REQUEST_MAGIC	0x25609513u
#define NBD_SIMPLE_REPLY_MAGIC	0x67446698u
#define NBD_FLAG_FIXED_NEWSTYLE BIT(0)
#define NBD_FLAG_NO_ZEROES	BIT(1)
#define NBD_OPT_GO		7
#define NBD_REP_ACK		1
#define NBD_REP_INFO		3
#define NBD_REP_FLAG_ERROR	BIT(31)
#define NBD_INFO_EXPORT		0
#define NBD_CMD_READ		0
#define NBD_CMD_DISC		2
#define READ_LEN		4096

enum probe_step {
	CONNECT,
	GREETING,     /* NBDMAGIC, IHAVEOPT, handshake flags */
	OPTION_REPLY, /* replies to NBD_OPT_GO until NBD_REP_ACK */
	READ_REPLY,
	DONE,
};

struct nbd_probe {
	u32 ip;
	u16 port;
	char export[256];
	u8 expect[READ_LEN];
	enum probe_step step;
	struct tcp_conn *c;
	u8 in[65536]; /* received, not yet parsed */
	size_t in_len;
	u64 size;
	u64 done_at;
};

static u64 get_be(const u8 *p, int n)
{
	u64 v = 0;

	for (int i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

static u8 *put_be(u8 *p, u64 v, int n)
{
	for (int i = n - 1; i >= 0; i--, v >>= 8)
		p[i] = (u8)v;
	return p + n;
}

struct nbd_probe *nbd_probe_new(u32 ip, u16 port, const char *export, const char *image)
{
	struct nbd_probe *p = calloc(1, sizeof(*p));
	FILE *f = fopen(image, "rb");

	if (!p || !f || fread(p->expect, 1, READ_LEN, f) != READ_LEN) {
		fprintf(stderr, "nbd: cannot read 4 KiB of %s\n", image);
		free(p);
		if (f)
			fclose(f);
		return NULL;
	}
	fclose(f);
	p->ip = ip;
	p->port = port;
	snprintf(p->export, sizeof(p->export), "%s", export);
	return p;
}

/* Queue all of buf (a handshake message is far smaller than the send buffer). */
static int send_all(struct nbd_probe *p, const u8 *buf, size_t len, u64 now)
{
	return tcp_send(p->c, buf, len, now) == (long)len ? 0 : -1;
}

/* The greeting is in: answer with our flags and NBD_OPT_GO for the export. */
static int greeting(struct nbd_probe *p, u64 now)
{
	u16 flags = (u16)get_be(p->in + 16, 2);
	size_t name_len = strlen(p->export);
	u8 msg[512], *m = msg;

	if (get_be(p->in, 8) != NBDMAGIC || get_be(p->in + 8, 8) != IHAVEOPT ||
	    !(flags & NBD_FLAG_FIXED_NEWSTYLE)) {
		fprintf(stderr, "nbd: not a fixed newstyle server\n");
		return -1;
	}
	m = put_be(m, flags & (NBD_FLAG_FIXED_NEWSTYLE | NBD_FLAG_NO_ZEROES), 4);
	m = put_be(m, IHAVEOPT, 8);
	m = put_be(m, NBD_OPT_GO, 4);
	m = put_be(m, 4 + name_len + 2, 4);
	m = put_be(m, name_len, 4);
	memcpy(m, p->export, name_len);
	m += name_len;
	m = put_be(m, 0, 2); /* no information requests: NBD_INFO_EXPORT comes anyway */
	printf("nbd: server handshake flags %#x, sending NBD_OPT_GO \"%s\"\n", flags, p->export);
	return send_all(p, msg, (size_t)(m - msg), now);
}

/* One option reply of len data bytes at p->in; 1 more to come, 0 acked, < 0 error. */
static int option_reply(struct nbd_probe *p, u64 now)
{
	u32 type = (u32)get_be(p->in + 12, 4), len = (u32)get_be(p->in + 16, 4);
	const u8 *data = p->in + 20;
	u8 req[28], *r = req;

	if (get_be(p->in, 8) != NBD_REP_MAGIC || get_be(p->in + 8, 4) != NBD_OPT_GO ||
	    (type & NBD_REP_FLAG_ERROR)) {
		fprintf(stderr, "nbd: NBD_OPT_GO failed (reply type %#x)\n", type);
		return -1;
	}
	if (type == NBD_REP_INFO && len >= 12 && get_be(data, 2) == NBD_INFO_EXPORT) {
		p->size = get_be(data + 2, 8);
		printf("nbd: export size %llu bytes, transmission flags %#llx\n",
		       (unsigned long long)p->size, (unsigned long long)get_be(data + 10, 2));
	}
	if (type != NBD_REP_ACK)
		return 1;
	if (!p->size) {
		fprintf(stderr, "nbd: no NBD_INFO_EXPORT before NBD_REP_ACK\n");
		return -1;
	}
	r = put_be(r, NBD_REQUEST_MAGIC, 4);
	r = put_be(r, 0, 2); /* command flags */
	r = put_be(r, NBD_CMD_READ, 2);
	r = put_be(r, 0x1234, 8); /* cookie */
	r = put_be(r, 0, 8);	  /* offset */
	put_be(r, READ_LEN, 4);
	return send_all(p, req, sizeof(req), now);
}

/* The simple reply to the READ: compare, then say goodbye with NBD_CMD_DISC. */
static int read_reply(struct nbd_probe *p, u64 now)
{
	u8 req[28] = { 0 }, *r = req;

	if (get_be(p->in, 4) != NBD_SIMPLE_REPLY_MAGIC || get_be(p->in + 4, 4) != 0 ||
	    get_be(p->in + 8, 8) != 0x1234) {
		fprintf(stderr, "nbd: bad reply to READ\n");
		return -1;
	}
	if (memcmp(p->in + 16, p->expect, READ_LEN)) {
		fprintf(stderr, "nbd: READ data differs from the image\n");
		return -1;
	}
	printf("nbd: READ of %u bytes at 0 matches the image\n", READ_LEN);
	r = put_be(r, NBD_REQUEST_MAGIC, 4);
	r = put_be(r, 0, 2);
	put_be(r, NBD_CMD_DISC, 2);
	return send_all(p, req, sizeof(req), now);
}

/* Bytes the current step needs before it can parse, given what is buffered. */
static size_t needed(const struct nbd_probe *p)
{
	switch (p->step) {
	case GREETING:
		return 18;
	case OPTION_REPLY:
		return p->in_len < 20 ? 20 : 20 + (size_t)get_be(p->in + 16, 4);
	case READ_REPLY:
		return 16 + READ_LEN;
	default:
		return 0;
	}
}

/* Parse every complete message buffered; returns < 0 on a protocol error. */
static int parse(struct nbd_probe *p, u64 now)
{
	size_t need;
	int rc = 0;

	while (p->step != DONE && (need = needed(p)) <= p->in_len) {
		if (need > sizeof(p->in))
			return -1;
		if (p->step == GREETING) {
			rc = greeting(p, now);
			p->step = OPTION_REPLY;
		} else if (p->step == OPTION_REPLY) {
			rc = option_reply(p, now);
			if (rc == 0)
				p->step = READ_REPLY;
			rc = rc > 0 ? 0 : rc;
		} else {
			rc = read_reply(p, now);
			p->step = DONE;
			p->done_at = now;
		}
		if (rc < 0)
			return rc;
		memmove(p->in, p->in + need, p->in_len - need);
		p->in_len -= need;
	}
	return 0;
}

int nbd_probe_step(struct app *a, struct net_stack *s, u64 now)
{
	struct nbd_probe *p = a->state;
	long n;

	if (p->step == CONNECT) {
		p->c = tcp_connect(s, p->ip, p->port, now);
		p->step = GREETING;
		return p->c ? 1 : -1;
	}
	if (p->step == DONE) {
		if (now - p->done_at < 200)
			return 1;
		tcp_close(p->c, now);
		return 0;
	}
	if (tcp_state(p->c) == TCP_CONNECTING)
		return 1;
	while (p->in_len < sizeof(p->in) &&
	       (n = tcp_recv(p->c, p->in + p->in_len, sizeof(p->in) - p->in_len)) > 0)
		p->in_len += (size_t)n;
	if (parse(p, now))
		return -1;
	if (tcp_state(p->c) == TCP_CLOSED) {
		fprintf(stderr, "nbd: connection closed (reason %d)\n", tcp_close_reason(p->c));
		return -1;
	}
	return 1;
}
