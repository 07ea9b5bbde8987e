/*
 * The NBD client's handshake (docs/nbd.md "States", proto.md "Fixed newstyle
 * negotiation", "NBD_OPT_INFO and NBD_OPT_GO"): greeting, client flags,
 * NBD_OPT_GO with NBD_INFO_BLOCK_SIZE (or the NBD_OPT_EXPORT_NAME fallback),
 * option replies parsed strictly, then the export's facts are adopted and
 * pending requests are checked against them. Driven by nbd_poll() (nbd.c)
 * while the client is in NBD_ST_HANDSHAKE.
 */
#include <hv/byteorder.h>
#include <hv/errno.h>
#include <hv/log.h>
#include <hv/nbd.h>
#include <hv/printf.h>
#include <hv/string.h>

#include "nbd_internal.h"

#define NBD_OLDSTYLE_MAGIC 0x00420281861253ULL /* proto.md "Oldstyle negotiation" */
#define HS_KEEP		   255		       /* bytes of an option reply payload looked at */
#define HS_REPLY_MAX	   8192		       /* longer option replies are a violation */

enum hs_step {
	HS_GREETING,	/* NBDMAGIC, IHAVEOPT, handshake flags */
	HS_REPLY_HDR,	/* option reply header */
	HS_REPLY_DATA,	/* its payload (the first HS_KEEP bytes) */
	HS_SKIP,	/* the rest of a long payload, then hs_after_skip */
	HS_EXPORT_NAME, /* reply to NBD_OPT_EXPORT_NAME */
};

static bool is_pow2(u32 v)
{
	return v && !(v & (v - 1));
}

/* Copy a server string (not trusted, not terminated) as printable ASCII. */
static void copy_text(char *dst, size_t size, const u8 *src, u32 len)
{
	size_t i;

	for (i = 0; i + 1 < size && i < len; i++)
		dst[i] = (src[i] >= 0x20 && src[i] < 0x7f) ? (char)src[i] : '?';
	dst[i] = '\0';
}

/* Stage IHAVEOPT, option, length and data (proto.md "Newstyle negotiation"). */
static void stage_option(struct nbd_client *c, u32 opt, const void *data, u32 len)
{
	u8 *p = c->txbuf + c->tx_len;

	put_be64(p, NBD_IHAVEOPT);
	put_be32(p + 8, opt);
	put_be32(p + 12, len);
	memcpy(p + 16, data, len);
	c->tx_len += 16 + len;
	c->hs_opt = opt;
}

/* NBD_OPT_GO with the export name and one information request, NBD_INFO_BLOCK_SIZE. */
static void stage_go(struct nbd_client *c)
{
	u8 data[4 + NBD_EXPORT_NAME_MAX + 4];
	u32 n = strlen(c->export_name);

	put_be32(data, n);
	memcpy(data + 4, c->export_name, n);
	put_be16(data + 4 + n, 1);
	put_be16(data + 6 + n, NBD_INFO_BLOCK_SIZE);
	stage_option(c, NBD_OPT_GO, data, n + 8);
}

/* The handshake failed for a reason the server told us: soft disconnect, then retry later. */
static void hs_refused(struct nbd_client *c, u64 now)
{
	u8 *p = c->txbuf;

	pr_err("nbd %s: %s\n", c->export_name, c->last_error);
	/* "it MUST use soft disconnect" (proto.md "Termination of the session during option haggling") */
	c->tx_off = c->tx_len = 0;
	put_be64(p, NBD_IHAVEOPT);
	put_be32(p + 8, NBD_OPT_ABORT);
	put_be32(p + 12, 0);
	c->t.send(c->t.ctx, p, 16, now);
	nbd_teardown(c, now);
}

/*
 * The server's greeting: only fixed newstyle is spoken. Answer with the client
 * flags and NBD_OPT_GO straight away (no other option is needed).
 */
static void hs_greeting(struct nbd_client *c, u64 now)
{
	const u8 *p = c->rxbuf + c->rx_head;
	u64 magic = get_be64(p), opt_magic = get_be64(p + 8);
	u16 hflags = get_be16(p + 16);
	u32 cflags = NBD_FLAG_C_FIXED_NEWSTYLE;

	c->rx_head += NBD_GREETING_SIZE;
	if (magic != NBD_MAGIC) {
		nbd_violation(c, now, "bad greeting magic 0x%016llx (not an NBD server?)",
			      (unsigned long long)magic);
		return;
	}
	if (opt_magic == NBD_OLDSTYLE_MAGIC) {
		nbd_set_error(
		    c, "server uses oldstyle negotiation, which this client does not support");
		c->stats.protocol_violations++;
		nbd_teardown(c, now);
		return;
	}
	if (opt_magic != NBD_IHAVEOPT) {
		nbd_violation(c, now, "bad greeting magic 0x%016llx after NBDMAGIC",
			      (unsigned long long)opt_magic);
		return;
	}
	if (!(hflags & NBD_FLAG_FIXED_NEWSTYLE)) {
		nbd_set_error(c, "server does not offer fixed newstyle negotiation "
				 "(NBD_FLAG_FIXED_NEWSTYLE), which this client requires");
		pr_err("nbd %s: %s\n", c->export_name, c->last_error);
		nbd_teardown(c, now);
		return;
	}
	/* NBD_FLAG_C_NO_ZEROES "MUST NOT be set if the server did not set NBD_FLAG_NO_ZEROES" */
	c->hs_no_zeroes = hflags & NBD_FLAG_NO_ZEROES;
	if (c->hs_no_zeroes)
		cflags |= NBD_FLAG_C_NO_ZEROES;
	put_be32(c->txbuf + c->tx_len, cflags);
	c->tx_len += 4;
	stage_go(c);
	c->hs_step = HS_REPLY_HDR;
}

/* Enter transmission with the facts in hs_*; compare them with an earlier connection's. */
static void hs_done(struct nbd_client *c, u64 now)
{
	struct nbd_request *r, *next;
	bool changed = c->negotiated && (c->hs_size != c->size || c->hs_tflags != c->tflags ||
					 c->hs_min != c->min_block || c->hs_max != c->max_block);

	if (!(c->hs_tflags & NBD_FLAG_HAS_FLAGS)) { /* "NBD_FLAG_HAS_FLAGS: MUST always be 1" */
		nbd_violation(c, now, "transmission flags 0x%04x lack NBD_FLAG_HAS_FLAGS",
			      c->hs_tflags);
		return;
	}
	c->size = c->hs_size;
	c->tflags = c->hs_tflags;
	c->min_block = c->hs_min;
	c->pref_block = c->hs_pref;
	c->max_block = c->hs_max;
	c->negotiated = true;
	c->state = NBD_ST_READY;
	c->backoff_ms = c->backoff_min_ms;
	c->last_io_ms = now;
	c->stats.connects++;
	if (c->ever_ready)
		c->stats.reconnects++;
	c->ever_ready = true;
	pr_info("nbd %s: connected: %llu bytes, flags 0x%04x, block sizes %u/%u/%u\n",
		c->export_name, (unsigned long long)c->size, c->tflags, c->min_block, c->pref_block,
		c->max_block);
	if (!changed)
		return;
	pr_warn(
	    "nbd %s: the export changed across the reconnect; checking pending requests again\n",
	    c->export_name);
	for (r = c->head; r; r = next) {
		int rc = nbd_validate(c, r);

		next = r->next;
		if (rc)
			nbd_finish(c, r, rc == -EINVAL ? -EIO : rc);
	}
}

/* NBD_INFO_EXPORT and NBD_INFO_BLOCK_SIZE; others "MUST" be ignored (proto.md "NBD_REP_INFO"). */
static void hs_info(struct nbd_client *c, u64 now, const u8 *p, u32 len)
{
	u16 type = get_be16(p);

	if (type == NBD_INFO_EXPORT) {
		if (len != 12) {
			nbd_violation(c, now, "NBD_INFO_EXPORT of %u bytes, must be 12", len);
			return;
		}
		c->hs_size = get_be64(p + 2);
		c->hs_tflags = get_be16(p + 10);
		c->hs_have_export = true;
	} else if (type == NBD_INFO_BLOCK_SIZE) {
		u32 min, pref, max;

		if (len != 14) {
			nbd_violation(c, now, "NBD_INFO_BLOCK_SIZE of %u bytes, must be 14", len);
			return;
		}
		min = get_be32(p + 2);
		pref = get_be32(p + 6);
		max = get_be32(p + 10);
		/* proto.md "Block size constraints": powers of 2, min <= 64 KiB, max a multiple of min */
		if (!is_pow2(min) || min > 64 * KiB || !is_pow2(pref) || max < min ||
		    (max != 0xffffffffU && max % min)) {
			nbd_violation(c, now,
				      "invalid block sizes: minimum %u, preferred %u, maximum %u",
				      min, pref, max);
			return;
		}
		c->hs_min = min;
		c->hs_pref = pref;
		c->hs_max = max;
	}
}

/* Why an NBD_OPT_GO failed, for the log and nbd_last_error(). */
static void hs_error(struct nbd_client *c, u32 type, const u8 *msg, u32 len)
{
	char text[96];
	const char *what;

	copy_text(text, sizeof(text), msg, len);
	switch (type) {
	case NBD_REP_ERR_UNKNOWN:
		what = "not found on server";
		break;
	case NBD_REP_ERR_TLS_REQD:
		what = "requires TLS, which this client does not support";
		break;
	case NBD_REP_ERR_POLICY:
		what = "refused by the server's policy";
		break;
	case NBD_REP_ERR_SHUTDOWN:
		what = "unavailable: the server is shutting down";
		break;
	case NBD_REP_ERR_BLOCK_SIZE_REQD:
		what = "refused: the server requires block size negotiation";
		break;
	case NBD_REP_ERR_INVALID:
		what = "refused: the server found NBD_OPT_GO invalid";
		break;
	default:
		what = "refused by the server";
		break;
	}
	nbd_set_error(c, "export '%s' %s (reply 0x%08x)%s%s", c->export_name, what, type,
		      text[0] ? ": " : "", text);
}

/* One option reply to NBD_OPT_GO: the first len bytes of its full_len-byte payload are at p. */
static void hs_reply(struct nbd_client *c, u64 now, const u8 *p, u32 len, u32 full_len)
{
	u32 type = c->hs_type;

	if (type == NBD_REP_ACK) {
		if (full_len)
			nbd_violation(c, now, "NBD_REP_ACK with %u bytes of data", full_len);
		else if (!c->hs_have_export) /* "MUST send ... NBD_INFO_EXPORT" before the ACK */
			nbd_violation(c, now, "NBD_REP_ACK to NBD_OPT_GO without NBD_INFO_EXPORT");
		else
			hs_done(c, now);
		return;
	}
	if (type == NBD_REP_INFO) {
		if (full_len < 2)
			nbd_violation(c, now, "NBD_REP_INFO of %u bytes", full_len);
		else
			hs_info(c, now, p, full_len);
		return;
	}
	if (!(type & NBD_REP_FLAG_ERROR)) {
		nbd_violation(c, now, "unexpected option reply type %u to NBD_OPT_GO", type);
		return;
	}
	if (type == NBD_REP_ERR_UNSUP) {
		/* "clients SHOULD be prepared to also handle NBD_REP_ERR_UNSUP by falling back" */
		pr_info("nbd %s: server lacks NBD_OPT_GO; using NBD_OPT_EXPORT_NAME\n",
			c->export_name);
		stage_option(c, NBD_OPT_EXPORT_NAME, c->export_name, strlen(c->export_name));
		c->hs_after_skip = HS_EXPORT_NAME;
		return;
	}
	hs_error(c, type, p, len);
	hs_refused(c, now);
}

/* Option reply header: magic, the option it answers, type, length. */
static void hs_reply_hdr(struct nbd_client *c, u64 now)
{
	const u8 *p = c->rxbuf + c->rx_head;
	u64 magic = get_be64(p);
	u32 opt = get_be32(p + 8);

	c->rx_head += NBD_OPT_REPLY_SIZE;
	c->hs_type = get_be32(p + 12);
	c->hs_len = get_be32(p + 16);
	if (magic != NBD_OPT_REPLY_MAGIC) {
		nbd_violation(c, now, "bad option reply magic 0x%016llx",
			      (unsigned long long)magic);
		return;
	}
	if (opt != c->hs_opt) {
		nbd_violation(c, now, "option reply for option %u, expected %u", opt, c->hs_opt);
		return;
	}
	if (c->hs_len > HS_REPLY_MAX) { /* strings "MUST be no longer than 4096 bytes" */
		nbd_violation(c, now, "option reply of %u bytes", c->hs_len);
		return;
	}
	c->hs_step = HS_REPLY_DATA;
}

/* The reply to NBD_OPT_EXPORT_NAME: size, flags, and 124 zeroes unless NO_ZEROES. */
static int hs_export_name(struct nbd_client *c, u64 now)
{
	u32 n = c->hs_no_zeroes ? 10 : 134;
	int rc = nbd_rx_need(c, n, now);
	const u8 *p = c->rxbuf + c->rx_head;

	if (rc <= 0)
		return rc;
	c->rx_head += n;
	c->hs_size = get_be64(p);
	c->hs_tflags = get_be16(p + 8);
	hs_done(c, now);
	return 1;
}

/* Discard hs_skip bytes of a long option reply. */
static int hs_skip(struct nbd_client *c, u64 now)
{
	u32 n;

	if (!c->hs_skip) {
		c->hs_step = c->hs_after_skip;
		return 1;
	}
	if (c->rx_head == c->rx_tail) {
		long got = nbd_rx_fill(c);

		if (got <= 0)
			return (int)got;
		c->last_io_ms = now;
	}
	n = MIN(c->hs_skip, c->rx_tail - c->rx_head);
	c->rx_head += n;
	c->hs_skip -= n;
	return 1;
}

/* One step of the handshake: 1 progress, 0 waiting for bytes, <0 receive failed. */
static int hs_step(struct nbd_client *c, u64 now)
{
	u32 keep;
	int rc;

	switch (c->hs_step) {
	case HS_GREETING:
		rc = nbd_rx_need(c, NBD_GREETING_SIZE, now);
		if (rc > 0)
			hs_greeting(c, now);
		return rc;
	case HS_REPLY_HDR:
		rc = nbd_rx_need(c, NBD_OPT_REPLY_SIZE, now);
		if (rc > 0)
			hs_reply_hdr(c, now);
		return rc;
	case HS_REPLY_DATA:
		keep = MIN(c->hs_len, HS_KEEP);
		rc = nbd_rx_need(c, keep, now);
		if (rc > 0) {
			const u8 *p = c->rxbuf + c->rx_head;

			c->rx_head += keep;
			c->hs_skip = c->hs_len - keep;
			c->hs_after_skip = HS_REPLY_HDR;
			c->hs_step = HS_SKIP;
			hs_reply(c, now, p, keep, c->hs_len);
		}
		return rc;
	case HS_SKIP:
		return hs_skip(c, now);
	default:
		return hs_export_name(c, now);
	}
}

/* Advance the handshake as far as the bytes at hand allow. */
void nbd_hs_run(struct nbd_client *c, u64 now)
{
	for (int i = 0; i < WORK_PER_POLL && c->state == NBD_ST_HANDSHAKE; i++) {
		int rc;

		if (c->tx_len && !nbd_tx_flush(c, now))
			return;
		rc = hs_step(c, now);
		if (rc < 0 && c->state == NBD_ST_HANDSHAKE)
			nbd_rx_failed(c, now, rc, "during the handshake");
		if (rc <= 0)
			return;
	}
}

void nbd_hs_begin(struct nbd_client *c)
{
	c->hs_step = HS_GREETING;
	c->hs_have_export = false;
	/* proto.md "Block size constraints": the defaults without NBD_INFO_BLOCK_SIZE */
	c->hs_min = 1;
	c->hs_pref = 4096;
	c->hs_max = 0xffffffffU;
}
