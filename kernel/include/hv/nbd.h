/*
 * NBD client (docs/nbd.md): one connection to one export over a non-blocking
 * byte stream, the fixed newstyle handshake with NBD_OPT_GO, many requests in
 * flight, reconnect with backoff and replay of every unacknowledged request.
 * Protocol references ("proto.md") are to doc/proto.md of the NBD project.
 *
 * What "acknowledged" means. done(r, 0) is called only after the server's
 * successful reply to r arrived on the connection r was last sent on:
 *  - READ: r->buf holds the export's bytes [offset, offset+length).
 *  - WRITE, TRIM, WRITE_ZEROES: the server has performed the write; with
 *    NBD_CMD_FLAG_FUA it is on the server's stable storage (proto.md
 *    "Ordering of messages and writes"), without it, it may still sit in the
 *    server's cache until a FLUSH completes.
 *  - FLUSH: every write submitted before the FLUSH and acknowledged is on
 *    stable storage. A FLUSH is sent only after every write submitted before
 *    it has been acknowledged. If a connection was lost after it had
 *    acknowledged writes that no completed FLUSH covered, the server may have
 *    lost them; the next FLUSH then completes with -EIO instead of 0.
 * A request that is not acknowledged is replayed after a reconnect, in submit
 * order, until it is acknowledged, fails on the server, or reaches its
 * deadline. done() is called exactly once per accepted request, from
 * nbd_poll() or nbd_shutdown(), never from nbd_submit().
 *
 * Portable: no allocation, no globals; builds into the image, the host unit
 * tests, the fuzzer and the hosted interop tests.
 */
#ifndef HV_NBD_H
#define HV_NBD_H

#include <hv/types.h>

/* Magic numbers and values of the protocol (proto.md "Values"). */
#define NBD_MAGIC		   0x4e42444d41474943ULL /* "NBDMAGIC" */
#define NBD_IHAVEOPT		   0x49484156454f5054ULL /* "IHAVEOPT" */
#define NBD_OPT_REPLY_MAGIC	   0x0003e889045565a9ULL
#define NBD_REQUEST_MAGIC	   0x25609513U
#define NBD_SIMPLE_REPLY_MAGIC	   0x67446698U
#define NBD_STRUCTURED_REPLY_MAGIC 0x668e33efU

/* Handshake flags (server) and client flags. */
#define NBD_FLAG_FIXED_NEWSTYLE	  BIT(0)
#define NBD_FLAG_NO_ZEROES	  BIT(1)
#define NBD_FLAG_C_FIXED_NEWSTYLE BIT(0)
#define NBD_FLAG_C_NO_ZEROES	  BIT(1)

/* Transmission flags. */
#define NBD_FLAG_HAS_FLAGS	   BIT(0)
#define NBD_FLAG_READ_ONLY	   BIT(1)
#define NBD_FLAG_SEND_FLUSH	   BIT(2)
#define NBD_FLAG_SEND_FUA	   BIT(3)
#define NBD_FLAG_ROTATIONAL	   BIT(4)
#define NBD_FLAG_SEND_TRIM	   BIT(5)
#define NBD_FLAG_SEND_WRITE_ZEROES BIT(6)
#define NBD_FLAG_SEND_DF	   BIT(7)
#define NBD_FLAG_CAN_MULTI_CONN	   BIT(8)
#define NBD_FLAG_SEND_CACHE	   BIT(10)
#define NBD_FLAG_SEND_FAST_ZERO	   BIT(11)

/* Options and option replies. */
#define NBD_OPT_EXPORT_NAME	    1
#define NBD_OPT_ABORT		    2
#define NBD_OPT_GO		    7
#define NBD_OPT_STRUCTURED_REPLY    8
#define NBD_REP_ACK		    1
#define NBD_REP_SERVER		    2
#define NBD_REP_INFO		    3
#define NBD_REP_FLAG_ERROR	    BIT(31)
#define NBD_REP_ERR_UNSUP	    (NBD_REP_FLAG_ERROR | 1)
#define NBD_REP_ERR_POLICY	    (NBD_REP_FLAG_ERROR | 2)
#define NBD_REP_ERR_INVALID	    (NBD_REP_FLAG_ERROR | 3)
#define NBD_REP_ERR_PLATFORM	    (NBD_REP_FLAG_ERROR | 4)
#define NBD_REP_ERR_TLS_REQD	    (NBD_REP_FLAG_ERROR | 5)
#define NBD_REP_ERR_UNKNOWN	    (NBD_REP_FLAG_ERROR | 6)
#define NBD_REP_ERR_SHUTDOWN	    (NBD_REP_FLAG_ERROR | 7)
#define NBD_REP_ERR_BLOCK_SIZE_REQD (NBD_REP_FLAG_ERROR | 8)
#define NBD_REP_ERR_TOO_BIG	    (NBD_REP_FLAG_ERROR | 9)
#define NBD_INFO_EXPORT		    0
#define NBD_INFO_NAME		    1
#define NBD_INFO_DESCRIPTION	    2
#define NBD_INFO_BLOCK_SIZE	    3

/* Commands and command flags. */
#define NBD_CMD_READ	     0
#define NBD_CMD_WRITE	     1
#define NBD_CMD_DISC	     2
#define NBD_CMD_FLUSH	     3
#define NBD_CMD_TRIM	     4
#define NBD_CMD_WRITE_ZEROES 6
#define NBD_CMD_FLAG_FUA     BIT(0)
#define NBD_CMD_FLAG_NO_HOLE BIT(1)

/* Error values in replies. */
#define NBD_EPERM     1
#define NBD_EIO	      5
#define NBD_ENOMEM    12
#define NBD_EINVAL    22
#define NBD_ENOSPC    28
#define NBD_EOVERFLOW 75
#define NBD_ENOTSUP   95
#define NBD_ESHUTDOWN 108

/* Sizes on the wire. */
#define NBD_REQUEST_SIZE      28
#define NBD_SIMPLE_REPLY_SIZE 16
#define NBD_GREETING_SIZE     18
#define NBD_OPT_REPLY_SIZE    20

/* Limits of this client. */
#define NBD_MAX_INFLIGHT    64	       /* requests on the wire at once */
#define NBD_EXPORT_NAME_MAX 256	       /* bytes, with the NUL */
#define NBD_MAX_PAYLOAD	    (32 * MiB) /* READ/WRITE length cap (proto.md "Block size constraints") */
#define NBD_ERROR_MAX	    160	       /* bytes of nbd_last_error(), with the NUL */
#define NBD_RXBUF_SIZE	    4096
#define NBD_TXBUF_SIZE	    1024

/* Defaults for a zero field of struct nbd_params. */
#define NBD_DEFAULT_DEADLINE_MS	   30000
#define NBD_DEFAULT_BACKOFF_MIN_MS 100
#define NBD_DEFAULT_BACKOFF_MAX_MS 5000
#define NBD_DEFAULT_CONNECT_MS	   10000
#define NBD_DEFAULT_STALL_MS	   15000 /* or half the deadline, if that is longer */

enum nbd_transport_status {
	NBD_TRANSPORT_DOWN = 0,
	NBD_TRANSPORT_CONNECTING = 1,
	NBD_TRANSPORT_UP = 2,
};

/* A non-blocking byte stream supplied by the caller; every call returns at once. */
struct nbd_transport {
	int (*connect)(void *ctx, u64 now_ms); /* start (re)connecting: 0 or -errno */
	int (*status)(void *ctx);	       /* enum nbd_transport_status */
	long (*send)(void *ctx, const void *buf, size_t len,
		     u64 now_ms);			/* accepted, 0, or -errno */
	long (*recv)(void *ctx, void *buf, size_t len); /* read, 0 if none yet, or -errno */
	void (*close)(void *ctx);			/* drop the connection */
	void *ctx;
};

/* Configuration; a zero field takes its NBD_DEFAULT_*. */
struct nbd_params {
	u32 deadline_ms;    /* a request fails with -ETIMEDOUT this long after submission */
	u32 backoff_min_ms; /* first delay before reconnecting, doubled after each failure */
	u32 backoff_max_ms; /* ... up to this */
	u32 connect_ms;	    /* connect plus handshake must finish within this */
	u32 stall_ms;	    /* requests on the wire and no byte received this long: reconnect;
			       0: the larger of NBD_DEFAULT_STALL_MS and deadline_ms / 2 */
};

enum nbd_rq_state {
	NBD_RQ_IDLE = 0, /* not with the client */
	NBD_RQ_QUEUED,	 /* accepted, not sent on the current connection */
	NBD_RQ_SENT,	 /* sent (or being sent), reply outstanding */
};

struct nbd_request {
	u16 type;   /* NBD_CMD_READ, _WRITE, _FLUSH, _TRIM, _WRITE_ZEROES */
	u16 flags;  /* NBD_CMD_FLAG_FUA (write types), NBD_CMD_FLAG_NO_HOLE (WRITE_ZEROES) */
	u64 offset; /* bytes; FLUSH: 0 */
	u32 length; /* bytes; FLUSH: 0 */
	void *buf;  /* READ: filled; WRITE: read from; valid until done() */
	/*
	 * Called once with 0, or -EIO (server error, or data not deliverable),
	 * -ENOSPC / -EPERM / -ENOTSUP (the server's error), -ETIMEDOUT (deadline).
	 * May call nbd_submit(), not nbd_init() or nbd_shutdown().
	 */
	void (*done)(struct nbd_request *r, int status);
	void *arg;

	/* Private to the client. */
	struct nbd_request *prev, *next; /* pending list, submit order */
	u64 submit_ms;
	u32 slot;	  /* index in the slot table while SENT */
	u32 flush_mark;	  /* FLUSH: writes acknowledged before it was sent */
	u8 state;	  /* enum nbd_rq_state */
	bool sent_before; /* was on the wire of an earlier connection */
};

struct nbd_stats {
	u64 requests;		 /* completed, any status */
	u64 bytes_read;		 /* by successful READs */
	u64 bytes_written;	 /* by successful WRITEs */
	u64 errors;		 /* completed with a status other than 0 */
	u64 server_errors;	 /* of which the server reported */
	u64 timeouts;		 /* of which reached the deadline */
	u64 connects;		 /* handshakes completed */
	u64 reconnects;		 /* of which after a lost connection */
	u64 connect_failures;	 /* attempts that did not reach transmission */
	u64 replays;		 /* requests sent again on a new connection */
	u64 protocol_violations; /* connections torn down for a bad message */
};

enum nbd_state {
	NBD_ST_IDLE = 0,   /* not yet started */
	NBD_ST_BACKOFF,	   /* waiting to reconnect */
	NBD_ST_CONNECTING, /* transport connecting */
	NBD_ST_HANDSHAKE,  /* option haggling */
	NBD_ST_READY,	   /* transmission phase */
	NBD_ST_SHUTDOWN,   /* nbd_shutdown() was called */
};

/* One pending reply: the request it belongs to, or an orphan whose request timed out. */
struct nbd_slot {
	struct nbd_request *rq; /* NULL: free, or orphaned if busy */
	u64 cookie;
	u32 length; /* READ payload to drain if orphaned */
	u16 type;
	bool busy;
};

struct nbd_client {
	/* configuration */
	struct nbd_transport t;
	char export_name[NBD_EXPORT_NAME_MAX];
	u32 deadline_ms, backoff_min_ms, backoff_max_ms, connect_ms, stall_ms;

	/* negotiated facts (valid once negotiated is true) */
	bool negotiated;
	u64 size;
	u16 tflags;
	u32 min_block, pref_block, max_block;

	/* connection */
	u8 state; /* enum nbd_state */
	u64 next_attempt_ms, attempt_start_ms, last_io_ms;
	u32 backoff_ms;
	bool ever_ready;
	u64 next_cookie;
	char last_error[NBD_ERROR_MAX];

	/* requests */
	struct nbd_request *head, *tail; /* pending, submit order */
	struct nbd_request *send_next;	 /* first QUEUED request */
	u32 nr_pending, nr_sent, writes_sent;
	struct nbd_slot slots[NBD_MAX_INFLIGHT];

	/* durability bookkeeping (see "acknowledged" above) */
	u32 acked_writes;  /* non-FUA writes acknowledged on this connection */
	u32 flushed_upto;  /* of which a completed FLUSH covered this many */
	bool flush_poison; /* acknowledged writes may have been lost */

	/* handshake */
	u8 hs_step, hs_after_skip;
	u32 hs_opt, hs_type, hs_len, hs_skip;
	bool hs_have_export, hs_no_zeroes;
	u64 hs_size; /* facts offered by this connection, until NBD_REP_ACK */
	u16 hs_tflags;
	u32 hs_min, hs_pref, hs_max;

	/* receive: read-ahead buffer, current reply */
	u8 rxbuf[NBD_RXBUF_SIZE];
	u32 rx_head, rx_tail;
	u8 rx_step;
	u32 rx_slot, rx_got, rx_len;

	/* send: staged headers, then the payload of at most one WRITE */
	u8 txbuf[NBD_TXBUF_SIZE];
	u32 tx_len, tx_off;
	struct nbd_request *tx_payload; /* WRITE whose data follows the staged bytes */
	u32 tx_payload_off;
	u64 tx_busy; /* slots whose request is not yet sent in full (bit i: slot i) */

	struct nbd_stats stats;
};

/* Set up c (no I/O yet): export name (truncated to NBD_EXPORT_NAME_MAX-1), p may be NULL. */
void nbd_init(struct nbd_client *c, const struct nbd_transport *t, const char *export_name,
	      const struct nbd_params *p);
/*
 * Validate and queue r: 0, or -EINVAL (bad type, flags, range, length or
 * alignment), -ENOTSUP (the server did not advertise it), -EPERM (write to a
 * read-only export), -ENODEV (no export negotiated yet, or shut down).
 */
int nbd_submit(struct nbd_client *c, struct nbd_request *r, u64 now_ms);
/* Drive everything: connect, handshake, send, receive, deadlines, reconnect. */
void nbd_poll(struct nbd_client *c, u64 now_ms);
/* NBD_CMD_DISC (or NBD_OPT_ABORT while haggling), close; fail what is pending with -EIO. */
void nbd_shutdown(struct nbd_client *c, u64 now_ms);

/* Handshake done and the connection up. */
bool nbd_ready(const struct nbd_client *c);
/* A handshake has completed at least once (the export may still be empty). */
bool nbd_negotiated(const struct nbd_client *c);
/* Facts of the last handshake (0 before the first one). */
u64 nbd_export_size(const struct nbd_client *c);
u16 nbd_transmission_flags(const struct nbd_client *c);
u32 nbd_min_block(const struct nbd_client *c);
u32 nbd_max_block(const struct nbd_client *c);
/* Requests accepted and not yet completed. */
u32 nbd_pending(const struct nbd_client *c);
/* Why the last connection attempt or connection failed ("" if none did). */
const char *nbd_last_error(const struct nbd_client *c);
const struct nbd_stats *nbd_get_stats(const struct nbd_client *c);

#endif
