/*
 * NBD client (docs/nbd.md, hv/nbd.h). Everything is driven by nbd_poll():
 *
 *   IDLE/BACKOFF -> CONNECTING -> HANDSHAKE -> READY
 *        ^                                      |
 *        +---- teardown (lost, bad message) ----+
 *
 * Requests live on one list in submit order. The ones not yet on the wire of
 * the current connection are a suffix of it starting at send_next, so a
 * teardown makes every pending request QUEUED again and replays them in
 * submit order. Replies are matched through the slot table by cookie; a
 * reply that matches nothing tears the connection down before a byte of its
 * payload is stored anywhere. Only simple replies are used: the client never
 * sends NBD_OPT_STRUCTURED_REPLY. The handshake is in nbd_handshake.c.
 */
#include <hv/byteorder.h>
#include <hv/nbd.h>
#include <hv/errno.h>
#include <hv/log.h>
#include <hv/printf.h>
#include <hv/string.h>

#include "nbd_internal.h"

_Static_assert(NBD_MAX_INFLIGHT <= 64, "tx_busy has one bit per slot");

enum rx_step {
	RX_HDR,	 /* simple reply header */
	RX_DATA, /* READ payload of slot rx_slot */
};

static bool is_write_type(u16 type)
{
	return type == NBD_CMD_WRITE || type == NBD_CMD_TRIM || type == NBD_CMD_WRITE_ZEROES;
}

void __printf(2, 3) nbd_set_error(struct nbd_client *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->last_error, sizeof(c->last_error), fmt, ap);
	va_end(ap);
}

void nbd_init(struct nbd_client *c, const struct nbd_transport *t, const char *export_name,
	      const struct nbd_params *p)
{
	static const struct nbd_params none;
	size_t n = export_name ? strnlen(export_name, NBD_EXPORT_NAME_MAX - 1) : 0;

	if (!p)
		p = &none;
	memset(c, 0, sizeof(*c));
	c->t = *t;
	memcpy(c->export_name, export_name, n); /* strlcpy is not in every host libc */
	c->export_name[n] = '\0';
	c->deadline_ms = p->deadline_ms ? p->deadline_ms : NBD_DEFAULT_DEADLINE_MS;
	c->backoff_min_ms = p->backoff_min_ms ? p->backoff_min_ms : NBD_DEFAULT_BACKOFF_MIN_MS;
	c->backoff_max_ms = p->backoff_max_ms ? p->backoff_max_ms : NBD_DEFAULT_BACKOFF_MAX_MS;
	if (c->backoff_max_ms < c->backoff_min_ms)
		c->backoff_max_ms = c->backoff_min_ms;
	c->connect_ms = p->connect_ms ? p->connect_ms : NBD_DEFAULT_CONNECT_MS;
	/*
	 * A server may take nearly the whole deadline over a request, so silence
	 * counts as a dead connection only after half of it: the replay still has
	 * the other half (docs/nbd.md "Replay and deadlines").
	 */
	c->stall_ms = p->stall_ms ? p->stall_ms : MAX(NBD_DEFAULT_STALL_MS, c->deadline_ms / 2);
	c->backoff_ms = c->backoff_min_ms;
	c->state = NBD_ST_IDLE;
}

/* ---- requests: validation, the pending list, completion ---- */

/*
 * Whether r may be sent to this export: the command was advertised
 * (proto.md "Transmission flags": "The client MUST NOT use a feature ...
 * unless that flag was set") and lies within the block size constraints.
 */
int nbd_validate(const struct nbd_client *c, const struct nbd_request *r)
{
	u16 need = 0, allowed = 0;
	u32 max = c->max_block;

	switch (r->type) {
	case NBD_CMD_READ:
	case NBD_CMD_WRITE:
		max = MIN(max, NBD_MAX_PAYLOAD);
		allowed = r->type == NBD_CMD_WRITE ? NBD_CMD_FLAG_FUA : 0;
		break;
	case NBD_CMD_FLUSH:
		need = NBD_FLAG_SEND_FLUSH;
		break;
	case NBD_CMD_TRIM:
		need = NBD_FLAG_SEND_TRIM;
		allowed = NBD_CMD_FLAG_FUA;
		max = 0xffffffffU; /* the maximum binds READ, WRITE, WRITE_ZEROES only */
		break;
	case NBD_CMD_WRITE_ZEROES:
		need = NBD_FLAG_SEND_WRITE_ZEROES;
		allowed = NBD_CMD_FLAG_FUA | NBD_CMD_FLAG_NO_HOLE;
		break;
	default:
		return -EINVAL;
	}
	if (r->flags & ~allowed)
		return -EINVAL;
	if ((need && !(c->tflags & need)) ||
	    ((r->flags & NBD_CMD_FLAG_FUA) && !(c->tflags & NBD_FLAG_SEND_FUA)))
		return -ENOTSUP;
	if (is_write_type(r->type) && (c->tflags & NBD_FLAG_READ_ONLY))
		return -EPERM;
	if (r->type == NBD_CMD_FLUSH) /* "length and offset are reserved, and MUST be ... zero" */
		return (r->offset || r->length) ? -EINVAL : 0;
	if (!r->length || r->offset > c->size || r->length > c->size - r->offset)
		return -EINVAL;
	if (!IS_ALIGNED(r->offset, c->min_block) || !IS_ALIGNED(r->length, c->min_block))
		return -EINVAL;
	if (r->length > max)
		return -EINVAL;
	if ((r->type == NBD_CMD_READ || r->type == NBD_CMD_WRITE) && !r->buf)
		return -EINVAL;
	return 0;
}

/* Unlink r from the pending list (keeping send_next on the first QUEUED request). */
static void list_remove(struct nbd_client *c, struct nbd_request *r)
{
	if (c->send_next == r)
		c->send_next = r->next;
	if (r->prev)
		r->prev->next = r->next;
	else
		c->head = r->next;
	if (r->next)
		r->next->prev = r->prev;
	else
		c->tail = r->prev;
	r->prev = r->next = NULL;
	c->nr_pending--;
}

/*
 * Take r off the client and report status; keeps the durability bookkeeping
 * that decides whether a FLUSH may report success (hv/nbd.h).
 */
void nbd_finish(struct nbd_client *c, struct nbd_request *r, int status)
{
	list_remove(c, r);
	r->state = NBD_RQ_IDLE;
	if (status == 0 && is_write_type(r->type) && !(r->flags & NBD_CMD_FLAG_FUA))
		c->acked_writes++;
	if (status == 0 && r->type == NBD_CMD_FLUSH) {
		if ((s32)(r->flush_mark - c->flushed_upto) > 0)
			c->flushed_upto = r->flush_mark;
		if (c->flush_poison) {
			pr_err("nbd %s: FLUSH fails: writes acknowledged on a lost connection may "
			       "not have reached stable storage\n",
			       c->export_name);
			c->flush_poison = false;
			status = -EIO;
		}
	}
	c->stats.requests++;
	if (status) {
		c->stats.errors++;
	} else if (r->type == NBD_CMD_READ) {
		c->stats.bytes_read += r->length;
	} else if (r->type == NBD_CMD_WRITE) {
		c->stats.bytes_written += r->length;
	}
	r->done(r, status);
}

int nbd_submit(struct nbd_client *c, struct nbd_request *r, u64 now_ms)
{
	int rc;

	if (c->state == NBD_ST_SHUTDOWN || !c->negotiated)
		return -ENODEV;
	if (!r->done)
		return -EINVAL;
	rc = nbd_validate(c, r);
	if (rc)
		return rc;
	r->state = NBD_RQ_QUEUED;
	r->submit_ms = now_ms;
	r->sent_before = false;
	r->next = NULL;
	r->prev = c->tail;
	if (c->tail)
		c->tail->next = r;
	else
		c->head = r;
	c->tail = r;
	if (!c->send_next)
		c->send_next = r;
	c->nr_pending++;
	return 0;
}

/* ---- connection: teardown and (re)connect ---- */

/* Forget every partial message in both directions (a new connection starts clean). */
static void reset_io(struct nbd_client *c)
{
	c->rx_head = c->rx_tail = 0;
	c->rx_step = RX_HDR;
	c->tx_len = c->tx_off = 0;
	c->tx_payload = NULL;
	c->tx_payload_off = 0;
	c->tx_busy = 0;
}

/*
 * Drop the connection (why is in last_error) and schedule the next attempt:
 * every request on the wire becomes QUEUED again for replay in submit order.
 */
void nbd_teardown(struct nbd_client *c, u64 now)
{
	struct nbd_request *r;

	if (c->state == NBD_ST_READY) {
		pr_warn("nbd %s: connection lost: %s; reconnecting in %u ms\n", c->export_name,
			c->last_error, c->backoff_ms);
		if (c->acked_writes != c->flushed_upto)
			c->flush_poison = true;
	} else {
		c->stats.connect_failures++;
		pr_warn("nbd %s: connecting failed: %s; retrying in %u ms\n", c->export_name,
			c->last_error, c->backoff_ms);
	}
	c->t.close(c->t.ctx);
	for (u32 i = 0; i < NBD_MAX_INFLIGHT; i++)
		c->slots[i] = (struct nbd_slot){ 0 };
	for (r = c->head; r; r = r->next) {
		if (r->state == NBD_RQ_SENT)
			r->sent_before = true;
		r->state = NBD_RQ_QUEUED;
	}
	c->send_next = c->head;
	c->nr_sent = c->writes_sent = 0;
	c->acked_writes = c->flushed_upto = 0;
	reset_io(c);
	c->state = NBD_ST_BACKOFF;
	c->next_attempt_ms = now + c->backoff_ms;
	c->backoff_ms = MIN(c->backoff_ms * 2, c->backoff_max_ms);
}

/* A message broke the protocol: log what was wrong and hard-disconnect (proto.md "Transmission"). */
void __printf(3, 4) nbd_violation(struct nbd_client *c, u64 now, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->last_error, sizeof(c->last_error), fmt, ap);
	va_end(ap);
	pr_err("nbd %s: protocol violation: %s\n", c->export_name, c->last_error);
	c->stats.protocol_violations++;
	nbd_teardown(c, now);
}

/* Begin a connection attempt; a transport that refuses at once counts as a failed attempt. */
static void start_connect(struct nbd_client *c, u64 now)
{
	int rc;

	reset_io(c);
	c->attempt_start_ms = now;
	c->state = NBD_ST_CONNECTING;
	rc = c->t.connect(c->t.ctx, now);
	if (rc < 0) {
		nbd_set_error(c, "transport connect failed (%d)", rc);
		nbd_teardown(c, now);
	}
}

/* ---- byte I/O ---- */

/* Receive into the read-ahead buffer: >0 bytes, 0 none yet, <0 closed or failed. */
long nbd_rx_fill(struct nbd_client *c)
{
	long n;

	if (c->rx_head == c->rx_tail)
		c->rx_head = c->rx_tail = 0;
	if (c->rx_tail == NBD_RXBUF_SIZE) {
		memmove(c->rxbuf, c->rxbuf + c->rx_head, c->rx_tail - c->rx_head);
		c->rx_tail -= c->rx_head;
		c->rx_head = 0;
	}
	n = c->t.recv(c->t.ctx, c->rxbuf + c->rx_tail, NBD_RXBUF_SIZE - c->rx_tail);
	if (n > (long)(NBD_RXBUF_SIZE - c->rx_tail))
		n = -EIO; /* a transport claiming more than it was given room for */
	if (n > 0)
		c->rx_tail += n;
	return n;
}

/* Make n (<= NBD_RXBUF_SIZE) bytes contiguous at rxbuf + rx_head: 1, 0 not yet, <0 failed. */
int nbd_rx_need(struct nbd_client *c, u32 n, u64 now)
{
	while (c->rx_tail - c->rx_head < n) {
		long got;

		if (NBD_RXBUF_SIZE - c->rx_head < n) {
			memmove(c->rxbuf, c->rxbuf + c->rx_head, c->rx_tail - c->rx_head);
			c->rx_tail -= c->rx_head;
			c->rx_head = 0;
		}
		got = nbd_rx_fill(c);
		if (got < 0)
			return (int)got;
		if (got == 0)
			return 0;
		c->last_io_ms = now;
	}
	return 1;
}

/* Report a failed receive: the peer closed or reset, possibly in the middle of a message. */
void nbd_rx_failed(struct nbd_client *c, u64 now, long rc, const char *during)
{
	nbd_set_error(c, "connection closed or failed (%ld) %s", rc, during);
	nbd_teardown(c, now);
}

/* Send staged bytes: true when all are out, false if the transport is full or failed. */
bool nbd_tx_flush(struct nbd_client *c, u64 now)
{
	while (c->tx_off < c->tx_len) {
		long n = c->t.send(c->t.ctx, c->txbuf + c->tx_off, c->tx_len - c->tx_off, now);

		if (n < 0 || n > (long)(c->tx_len - c->tx_off)) {
			nbd_set_error(c, "send failed (%ld)", n);
			nbd_teardown(c, now);
			return false;
		}
		if (n == 0)
			return false;
		c->tx_off += n;
		c->last_io_ms = now;
	}
	c->tx_off = c->tx_len = 0;
	/* Every staged header is out; only a WRITE's data may still follow. */
	c->tx_busy &= c->tx_payload ? 1ULL << c->tx_payload->slot : 0;
	return true;
}

/* Nothing half sent: a whole new message may be written now. */
static bool tx_idle(const struct nbd_client *c)
{
	return c->tx_off == c->tx_len && !c->tx_payload;
}

/* ---- transmission: receiving replies (proto.md "Simple reply message") ---- */

/* A reply's error value (proto.md "Error values") as the status done() reports. */
static int map_error(u32 err)
{
	switch (err) {
	case NBD_ENOSPC:
		return -ENOSPC;
	case NBD_EPERM:
		return -EPERM;
	case NBD_ENOTSUP:
		return -ENOTSUP;
	default: /* EIO, EINVAL, ENOMEM, EOVERFLOW and values the protocol does not define */
		return -EIO;
	}
}

/* The reply for slot i is complete: free it and finish its request, if it still has one. */
static void complete_slot(struct nbd_client *c, u32 i, int status)
{
	struct nbd_slot *s = &c->slots[i];
	struct nbd_request *r = s->rq;

	if (is_write_type(s->type))
		c->writes_sent--;
	c->nr_sent--;
	*s = (struct nbd_slot){ 0 };
	if (r)
		nbd_finish(c, r, status);
}

/* "If the client receives an NBD_ESHUTDOWN error it MUST initiate a soft disconnect." */
static void server_shutting_down(struct nbd_client *c, u64 now)
{
	u8 *p = c->txbuf;

	if (tx_idle(c)) {
		memset(p, 0, NBD_REQUEST_SIZE);
		put_be32(p, NBD_REQUEST_MAGIC);
		put_be16(p + 6, NBD_CMD_DISC);
		c->t.send(c->t.ctx, p, NBD_REQUEST_SIZE, now);
	}
	nbd_set_error(c, "server is shutting down (NBD_ESHUTDOWN)");
	nbd_teardown(c, now);
}

/* A simple reply header: match it to its slot; a READ's payload follows only if error is 0. */
static void rx_header(struct nbd_client *c, u64 now)
{
	const u8 *p = c->rxbuf + c->rx_head;
	u32 magic = get_be32(p), err = get_be32(p + 4);
	u64 cookie = get_be64(p + 8);
	u32 i = cookie & 0xff;
	struct nbd_slot *s = &c->slots[i < NBD_MAX_INFLIGHT ? i : 0];

	c->rx_head += NBD_SIMPLE_REPLY_SIZE;
	if (magic == NBD_STRUCTURED_REPLY_MAGIC) {
		/* "The server MUST NOT send this reply type unless ... negotiated" */
		nbd_violation(c, now,
			      "structured reply chunk, but structured replies were not negotiated");
		return;
	}
	if (magic != NBD_SIMPLE_REPLY_MAGIC) {
		nbd_violation(c, now, "bad reply magic 0x%08x", magic);
		return;
	}
	if (i >= NBD_MAX_INFLIGHT || !s->busy || s->cookie != cookie) {
		nbd_violation(c, now, "reply for handle 0x%016llx, which is not in flight",
			      (unsigned long long)cookie);
		return;
	}
	if (c->tx_busy & (1ULL << i)) {
		/*
		 * The server cannot have the whole request yet: believing it would
		 * acknowledge a write it has not received, and free the buffer
		 * its data is still being sent from.
		 */
		nbd_violation(c, now,
			      "reply for handle 0x%016llx before its request was sent in full",
			      (unsigned long long)cookie);
		return;
	}
	if (err == NBD_ESHUTDOWN) {
		server_shutting_down(c, now);
		return;
	}
	if (err) {
		c->stats.server_errors++;
		if (s->rq)
			pr_warn("nbd %s: server error %u on command %u at %llu+%u\n",
				c->export_name, err, s->type, (unsigned long long)s->rq->offset,
				s->rq->length);
		complete_slot(c, i, map_error(err));
		return;
	}
	if (s->type != NBD_CMD_READ) {
		complete_slot(c, i, 0);
		return;
	}
	c->rx_step = RX_DATA;
	c->rx_slot = i;
	c->rx_got = 0;
	c->rx_len = s->length;
}

/*
 * READ payload of rx_slot: into its request's buffer, or nowhere if the
 * request timed out meanwhile. 1 progress, 0 waiting, <0 receive failed.
 */
static int rx_data(struct nbd_client *c, u64 now)
{
	struct nbd_slot *s = &c->slots[c->rx_slot];
	u8 *dst = s->rq ? (u8 *)s->rq->buf + c->rx_got : NULL;
	u32 left = c->rx_len - c->rx_got, n = MIN(left, c->rx_tail - c->rx_head);
	long got;

	if (n) {
		if (dst)
			memcpy(dst, c->rxbuf + c->rx_head, n);
		c->rx_head += n;
	} else if (dst && left >= NBD_RXBUF_SIZE / 2) {
		got = c->t.recv(c->t.ctx, dst, left); /* large payloads skip the copy */
		if (got <= 0)
			return (int)got;
		if (got > (long)left)
			return -EIO;
		n = got;
		c->last_io_ms = now;
	} else {
		got = nbd_rx_fill(c);
		if (got > 0)
			c->last_io_ms = now;
		return got < 0 ? (int)got : got > 0;
	}
	c->rx_got += n;
	if (c->rx_got == c->rx_len) {
		c->rx_step = RX_HDR;
		complete_slot(c, c->rx_slot, 0);
	}
	return 1;
}

/* Read and dispatch replies until the transport has nothing more. */
static void rx_run(struct nbd_client *c, u64 now)
{
	for (int i = 0; i < WORK_PER_POLL && c->state == NBD_ST_READY; i++) {
		int rc;

		if (c->rx_step == RX_DATA) {
			rc = rx_data(c, now);
		} else {
			rc = nbd_rx_need(c, NBD_SIMPLE_REPLY_SIZE, now);
			if (rc > 0)
				rx_header(c, now);
		}
		if (rc < 0 && c->state == NBD_ST_READY)
			nbd_rx_failed(c, now, rc,
				      c->rx_step == RX_DATA || c->rx_head != c->rx_tail
					  ? "in the middle of a reply"
					  : "while waiting for replies");
		if (rc <= 0)
			return;
	}
}

/* ---- transmission: sending requests (proto.md "Request message") ---- */

/* A free slot, searched from a rotating start so a slot is not reused at once; -1 if none. */
static int alloc_slot(struct nbd_client *c)
{
	for (u32 n = 0; n < NBD_MAX_INFLIGHT; n++) {
		u32 i = (u32)(c->next_cookie + n) % NBD_MAX_INFLIGHT;

		if (!c->slots[i].busy)
			return (int)i;
	}
	return -1;
}

/* Whether the next queued request may go on the wire now. */
static bool can_send(const struct nbd_client *c, const struct nbd_request *r)
{
	if (c->nr_sent >= NBD_MAX_INFLIGHT)
		return false;
	/* A FLUSH covers every write submitted before it, so those must be acknowledged first. */
	return r->type != NBD_CMD_FLUSH || c->writes_sent == 0;
}

/* Put r's header into txbuf and give it a slot and a fresh cookie. */
static void stage_request(struct nbd_client *c, struct nbd_request *r, u64 now)
{
	int i = alloc_slot(c);
	u8 *p = c->txbuf + c->tx_len;
	struct nbd_slot *s = &c->slots[i];
	u64 cookie = (c->next_cookie++ << 8) | (u32)i;

	*s = (struct nbd_slot){
		.rq = r, .cookie = cookie, .length = r->length, .type = r->type, .busy = true
	};
	put_be32(p, NBD_REQUEST_MAGIC);
	put_be16(p + 4, r->flags);
	put_be16(p + 6, r->type);
	put_be64(p + 8, cookie);
	put_be64(p + 16, r->offset);
	put_be32(p + 24, r->length);
	c->tx_len += NBD_REQUEST_SIZE;
	if (c->nr_sent == 0)
		c->last_io_ms = now; /* the stall clock starts with the first request on the wire */
	c->nr_sent++;
	if (is_write_type(r->type))
		c->writes_sent++;
	if (r->type == NBD_CMD_FLUSH)
		r->flush_mark = c->acked_writes;
	if (r->sent_before)
		c->stats.replays++;
	r->slot = (u32)i;
	r->state = NBD_RQ_SENT;
	c->tx_busy |= 1ULL << i;
	c->send_next = r->next;
	if (r->type == NBD_CMD_WRITE) {
		c->tx_payload = r;
		c->tx_payload_off = 0;
	}
}

/* Send the payload of tx_payload: true when all of it is out. */
static bool tx_send_payload(struct nbd_client *c, u64 now)
{
	struct nbd_request *r = c->tx_payload;

	while (c->tx_payload_off < r->length) {
		u32 left = r->length - c->tx_payload_off;
		long n = c->t.send(c->t.ctx, (const u8 *)r->buf + c->tx_payload_off, left, now);

		if (n < 0 || n > (long)left) {
			nbd_set_error(c, "send failed (%ld)", n);
			nbd_teardown(c, now);
			return false;
		}
		if (n == 0)
			return false;
		c->tx_payload_off += n;
		c->last_io_ms = now;
	}
	c->tx_busy &= ~(1ULL << r->slot);
	c->tx_payload = NULL;
	return true;
}

/* Send queued requests in submit order while the transport takes them. */
static void tx_run(struct nbd_client *c, u64 now)
{
	for (int i = 0; i < WORK_PER_POLL && c->state == NBD_ST_READY; i++) {
		struct nbd_request *r;

		if (c->tx_len && !nbd_tx_flush(c, now))
			return;
		if (c->tx_payload && !tx_send_payload(c, now))
			return;
		for (r = c->send_next; r && can_send(c, r); r = c->send_next) {
			if (c->tx_len + NBD_REQUEST_SIZE > NBD_TXBUF_SIZE)
				break;
			stage_request(c, r, now);
			if (c->tx_payload)
				break; /* its data goes straight after the header */
		}
		if (!c->tx_len)
			return;
	}
}

/* ---- deadlines ---- */

/* Complete r with -ETIMEDOUT; a reply still owed for it is received and dropped. */
static void time_out(struct nbd_client *c, struct nbd_request *r, u64 now)
{
	pr_warn("nbd %s: command %u at %llu+%u timed out after %llu ms\n", c->export_name, r->type,
		(unsigned long long)r->offset, r->length, (unsigned long long)(now - r->submit_ms));
	if (r->state == NBD_RQ_SENT) {
		if (c->tx_payload == r) {
			/* Its data can no longer be read from r->buf: the request cannot be completed. */
			nbd_set_error(c, "a WRITE timed out while its data was being sent");
			nbd_teardown(c, now);
		} else {
			c->slots[r->slot].rq = NULL;
		}
	}
	c->stats.timeouts++;
	nbd_finish(c, r, -ETIMEDOUT);
}

/* Fail every request whose deadline has passed; the list is in submit order. */
static void expire(struct nbd_client *c, u64 now)
{
	struct nbd_request *r = c->head, *next;

	while (r && now >= r->submit_ms && now - r->submit_ms >= c->deadline_ms) {
		next = r->next;
		time_out(c, r, now);
		r = next;
	}
}

/* ---- the driver ---- */

/* Connection management: start attempts, watch the transport, time attempts out. */
static void drive_connection(struct nbd_client *c, u64 now)
{
	int st;

	if (c->state == NBD_ST_IDLE || (c->state == NBD_ST_BACKOFF && now >= c->next_attempt_ms)) {
		nbd_hs_begin(c);
		start_connect(c, now);
	}
	if (c->state < NBD_ST_CONNECTING || c->state > NBD_ST_READY)
		return;
	st = c->t.status(c->t.ctx);
	if (st == NBD_TRANSPORT_DOWN) {
		nbd_set_error(c, c->state == NBD_ST_CONNECTING ? "could not connect to the server"
							       : "transport went down");
		nbd_teardown(c, now);
		return;
	}
	if (c->state == NBD_ST_CONNECTING && st == NBD_TRANSPORT_UP)
		c->state = NBD_ST_HANDSHAKE;
	if (c->state != NBD_ST_READY && now - c->attempt_start_ms >= c->connect_ms) {
		nbd_set_error(c, "no handshake within %u ms", c->connect_ms);
		nbd_teardown(c, now);
	}
}

void nbd_poll(struct nbd_client *c, u64 now_ms)
{
	if (c->state == NBD_ST_SHUTDOWN)
		return;
	drive_connection(c, now_ms);
	if (c->state == NBD_ST_HANDSHAKE)
		nbd_hs_run(c, now_ms);
	if (c->state == NBD_ST_READY) {
		rx_run(c, now_ms);
		tx_run(c, now_ms);
	}
	if (c->state == NBD_ST_READY && c->nr_sent && now_ms - c->last_io_ms >= c->stall_ms) {
		nbd_set_error(c, "no reply for %u ms", c->stall_ms);
		nbd_teardown(c, now_ms);
	}
	expire(c, now_ms);
}

void nbd_shutdown(struct nbd_client *c, u64 now_ms)
{
	u8 *p = c->txbuf;

	if (c->state == NBD_ST_SHUTDOWN)
		return;
	if (c->state == NBD_ST_READY && tx_idle(c)) {
		/* "The client MAY issue a soft disconnect at any time" (NBD_CMD_DISC) */
		memset(p, 0, NBD_REQUEST_SIZE);
		put_be32(p, NBD_REQUEST_MAGIC);
		put_be16(p + 6, NBD_CMD_DISC);
		put_be64(p + 8, c->next_cookie++ << 8);
		c->t.send(c->t.ctx, p, NBD_REQUEST_SIZE, now_ms);
	}
	/* While haggling, NBD_OPT_GO is outstanding and no option may follow it: hard close. */
	if (c->state >= NBD_ST_CONNECTING)
		c->t.close(c->t.ctx);
	c->state = NBD_ST_SHUTDOWN;
	while (c->head)
		nbd_finish(c, c->head, -EIO);
	pr_info("nbd %s: shut down\n", c->export_name);
}

bool nbd_ready(const struct nbd_client *c)
{
	return c->state == NBD_ST_READY;
}

bool nbd_negotiated(const struct nbd_client *c)
{
	return c->negotiated;
}

u64 nbd_export_size(const struct nbd_client *c)
{
	return c->negotiated ? c->size : 0;
}

u16 nbd_transmission_flags(const struct nbd_client *c)
{
	return c->negotiated ? c->tflags : 0;
}

u32 nbd_min_block(const struct nbd_client *c)
{
	return c->negotiated ? c->min_block : 0;
}

u32 nbd_max_block(const struct nbd_client *c)
{
	return c->negotiated ? MIN(c->max_block, NBD_MAX_PAYLOAD) : 0;
}

u32 nbd_pending(const struct nbd_client *c)
{
	return c->nr_pending;
}

const char *nbd_last_error(const struct nbd_client *c)
{
	return c->last_error;
}

const struct nbd_stats *nbd_get_stats(const struct nbd_client *c)
{
	return &c->stats;
}
