/*
 * TCP connections (RFC 9293), active open only: the user calls, the
 * connection table and the timers. Segment arrival is in tcp_input.c,
 * sending and retransmission in tcp_output.c.
 *
 * A slot belongs to the user from tcp_connect() until tcp_close() or
 * tcp_abort(); after tcp_close() the stack finishes the exchange of FINs
 * on its own and frees the slot (TIME-WAIT slots are reclaimed early when
 * tcp_connect() finds no free one).
 */
#include <hv/errno.h>
#include <hv/string.h>

#include "net_internal.h"

static const char *const reason_names[] = {
	[TCP_CLOSED_NONE] = "open",
	[TCP_CLOSED_NORMAL] = "closed",
	[TCP_CLOSED_REFUSED] = "refused",
	[TCP_CLOSED_RESET] = "reset",
	[TCP_CLOSED_TIMEOUT] = "timed out",
	[TCP_CLOSED_DEAD_PEER] = "dead peer",
	[TCP_CLOSED_ABORTED] = "address lost",
};

enum tcp_state tcp_state(const struct tcp_conn *c)
{
	switch (c->fsm) {
	case TCPS_SYN_SENT:
		return TCP_CONNECTING;
	case TCPS_ESTABLISHED:
		return TCP_ESTABLISHED;
	case TCPS_FREE:
	case TCPS_CLOSED:
		return TCP_CLOSED;
	default:
		return TCP_CLOSING;
	}
}

enum tcp_close_reason tcp_close_reason(const struct tcp_conn *c)
{
	return c->reason;
}

/* What tcp_send()/tcp_recv() return on a closed connection. */
static long tcp_closed_errno(const struct tcp_conn *c)
{
	switch (c->reason) {
	case TCP_CLOSED_REFUSED:
		return -ECONNREFUSED;
	case TCP_CLOSED_TIMEOUT:
	case TCP_CLOSED_DEAD_PEER:
		return -ETIMEDOUT;
	case TCP_CLOSED_NORMAL:
		return -ESHUTDOWN;
	default:
		return -ECONNRESET;
	}
}

void tcp_free(struct tcp_conn *c)
{
	c->fsm = TCPS_FREE;
	c->user = false;
}

/* Enter CLOSED for reason; a slot the user gave up is freed at once. */
void tcp_set_closed(struct tcp_conn *c, enum tcp_close_reason reason)
{
	if (c->fsm == TCPS_FREE || c->fsm == TCPS_CLOSED)
		return;
	pr_info("net: tcp " IP_FMT ":%u port %u: %s\n", IP_ARGS(c->remote_ip), c->remote_port,
		c->local_port, reason_names[reason]);
	if (!c->user) {
		tcp_free(c);
		return;
	}
	c->fsm = TCPS_CLOSED;
	c->reason = reason;
	c->rto_at = c->persist_at = 0;
}

void tcp_abort_all(struct net_stack *s, enum tcp_close_reason reason)
{
	for (u32 i = 0; i < NET_TCP_MAX_CONNS; i++)
		tcp_set_closed(&s->tcp[i], reason);
}

static bool tcp_port_in_use(const struct net_stack *s, u16 port)
{
	for (u32 i = 0; i < NET_TCP_MAX_CONNS; i++)
		if (s->tcp[i].fsm != TCPS_FREE && s->tcp[i].local_port == port)
			return true;
	return false;
}

/* RFC 6056 3.3.3: a keyed hash of the destination plus a counter, in 49152-65535. */
static u16 tcp_pick_port(struct net_stack *s, u32 ip, u16 port)
{
	u32 offset = (u32)net_hash(s->secret, ip, port);

	for (u32 i = 0; i < 16384; i++) {
		u16 p = (u16)(49152 + (offset + s->next_port++) % 16384);

		if (!tcp_port_in_use(s, p))
			return p;
	}
	return 0; /* unreachable: there are far fewer slots than ports */
}

/* RFC 9293 3.4.1 and RFC 6528: a 4 us clock plus a keyed hash of the connection. */
static u32 tcp_isn(struct net_stack *s, const struct tcp_conn *c)
{
	u64 ends = (u64)s->ip << 32 | c->remote_ip;
	u64 ports = (u64)c->local_port << 16 | c->remote_port;

	return (u32)(s->now * 250) + (u32)net_hash(s->secret, ends, ports);
}

/* A free slot, else the TIME-WAIT one closest to its end; cleared but for its buffers. */
static struct tcp_conn *tcp_alloc(struct net_stack *s)
{
	struct tcp_conn *c = NULL;

	for (u32 i = 0; i < NET_TCP_MAX_CONNS && (!c || c->fsm != TCPS_FREE); i++) {
		struct tcp_conn *t = &s->tcp[i];

		if (t->fsm == TCPS_FREE ||
		    (t->fsm == TCPS_TIME_WAIT && (!c || t->time_wait_at < c->time_wait_at)))
			c = t;
	}
	if (c)
		memset(&c->fsm, 0, sizeof(*c) - offsetof(struct tcp_conn, fsm));
	return c;
}

struct tcp_conn *tcp_connect(struct net_stack *s, u32 ip, u16 port, u64 now_ms)
{
	struct tcp_conn *c;

	s->now = now_ms;
	if (!s->configured || port == 0 || ip == 0 || ip == s->ip || (ip >> 28) >= 0xe) {
		pr_debug("net: tcp: cannot connect to " IP_FMT ":%u\n", IP_ARGS(ip), port);
		return NULL;
	}
	c = tcp_alloc(s);
	if (!c) {
		pr_debug("net: tcp: all %u connections in use\n", NET_TCP_MAX_CONNS);
		return NULL;
	}
	c->remote_ip = ip;
	c->remote_port = port;
	c->local_port = tcp_pick_port(s, ip, port);
	c->iss = tcp_isn(s, c);
	c->snd_una = c->recover = c->iss;
	c->snd_nxt = c->snd_max = c->iss + 1;
	c->mss = TCP_MSS_DEFAULT;
	c->rto = TCP_RTO_INITIAL_MS;
	c->rto_at = now_ms + c->rto;
	c->connect_by = now_ms + TCP_CONNECT_TIMEOUT_MS;
	c->rtt_timing = true;
	c->rtt_seq = c->iss;
	c->rtt_start = now_ms;
	c->fsm = TCPS_SYN_SENT;
	c->user = true;
	pr_info("net: tcp " IP_FMT ":%u port %u: connecting\n", IP_ARGS(ip), port, c->local_port);
	tcp_send_syn(c);
	return c;
}

size_t tcp_send_space(const struct tcp_conn *c)
{
	if (c->fsm != TCPS_ESTABLISHED && c->fsm != TCPS_CLOSE_WAIT)
		return 0;
	return TCP_SND_BUF - c->snd_len;
}

long tcp_send(struct tcp_conn *c, const void *buf, size_t len, u64 now_ms)
{
	u32 n, tail, first;

	if (c->fsm == TCPS_CLOSED)
		return tcp_closed_errno(c);
	if (c->fsm != TCPS_ESTABLISHED && c->fsm != TCPS_CLOSE_WAIT)
		return -ENOTCONN;
	c->stack->now = now_ms;
	n = (u32)MIN(len, (size_t)(TCP_SND_BUF - c->snd_len));
	tail = (c->snd_head + c->snd_len) % TCP_SND_BUF;
	first = MIN(n, TCP_SND_BUF - tail);
	memcpy(c->sbuf + tail, buf, first);
	memcpy(c->sbuf, (const u8 *)buf + first, n - first);
	/* The dead-peer clock starts when an idle connection gets data. */
	if (c->snd_una == c->snd_max)
		c->last_progress = now_ms;
	c->snd_len += n;
	tcp_output(c);
	return n;
}

/* RFC 9293 3.8.6.2.2: tell the peer about space freed by a read, when it matters. */
static void tcp_window_update(struct tcp_conn *c)
{
	u32 edge = c->rcv_nxt + tcp_rcv_space(c);
	u32 advertised = c->rcv_adv - c->rcv_nxt;

	if (c->fsm != TCPS_ESTABLISHED && c->fsm != TCPS_FIN_WAIT_1 && c->fsm != TCPS_FIN_WAIT_2)
		return;
	/* Only when the peer sees less than half a buffer and the edge moves a segment or more. */
	if (advertised < TCP_RCV_BUF / 2 && seq_ge(edge, c->rcv_adv + TCP_MSS_LOCAL))
		tcp_send_ack(c);
}

long tcp_recv(struct tcp_conn *c, void *buf, size_t len)
{
	u32 n = (u32)MIN(len, (size_t)c->rcv_len);
	u32 first = MIN(n, TCP_RCV_BUF - c->rcv_head);

	if (n == 0) {
		if (c->fin_received)
			return -ESHUTDOWN;
		return c->fsm == TCPS_CLOSED ? tcp_closed_errno(c) : 0;
	}
	memcpy(buf, c->rbuf + c->rcv_head, first);
	memcpy((u8 *)buf + first, c->rbuf, n - first);
	c->rcv_head = (c->rcv_head + n) % TCP_RCV_BUF;
	c->rcv_len -= n;
	tcp_window_update(c);
	return n;
}

void tcp_close(struct tcp_conn *c, u64 now_ms)
{
	c->stack->now = now_ms;
	c->user = false;
	switch (c->fsm) {
	case TCPS_ESTABLISHED:
		c->fsm = TCPS_FIN_WAIT_1;
		break;
	case TCPS_CLOSE_WAIT:
		c->fsm = TCPS_LAST_ACK;
		break;
	default: /* RFC 9293 3.10.4: in SYN-SENT, delete the TCB */
		pr_debug("net: tcp port %u: released\n", c->local_port);
		tcp_free(c);
		return;
	}
	pr_debug("net: tcp port %u: closing\n", c->local_port);
	c->fin_queued = true;
	/* Unread data is dropped: nobody will read it. */
	c->rcv_head = (c->rcv_head + c->rcv_len) % TCP_RCV_BUF;
	c->rcv_len = 0;
	if (c->snd_una == c->snd_max)
		c->last_progress = now_ms;
	tcp_output(c);
}

void tcp_abort(struct tcp_conn *c)
{
	/* RFC 9293 3.10.5: RST in the synchronised states that still have a peer. */
	switch (c->fsm) {
	case TCPS_ESTABLISHED:
	case TCPS_FIN_WAIT_1:
	case TCPS_FIN_WAIT_2:
	case TCPS_CLOSE_WAIT:
		tcp_send_rst(c);
		pr_info("net: tcp " IP_FMT ":%u port %u: aborted\n", IP_ARGS(c->remote_ip),
			c->remote_port, c->local_port);
		break;
	default:
		break;
	}
	tcp_free(c);
}

/* SYN-SENT: give up at the connect deadline, else retransmit the SYN on time. */
static void tcp_poll_syn_sent(struct tcp_conn *c)
{
	struct net_stack *s = c->stack;

	if (s->now >= c->connect_by) {
		tcp_set_closed(c, TCP_CLOSED_TIMEOUT);
		return;
	}
	if (s->now < c->rto_at)
		return;
	/* RFC 6298 5.5 and Karn: back off, and the SYN-ACK gives no RTT sample. */
	c->rto = MIN(c->rto * 2, (u32)TCP_RTO_MAX_MS);
	c->rto_at = s->now + c->rto;
	c->rtt_timing = false;
	s->stats.tcp_retransmits++;
	tcp_send_syn(c);
}

/* The connection's timers: called from net_poll(). */
static void tcp_poll_conn(struct tcp_conn *c)
{
	struct net_stack *s = c->stack;
	bool waiting;

	switch (c->fsm) {
	case TCPS_FREE:
	case TCPS_CLOSED:
		return;
	case TCPS_SYN_SENT:
		tcp_poll_syn_sent(c);
		return;
	case TCPS_TIME_WAIT:
	case TCPS_FIN_WAIT_2:
		/* FIN-WAIT-2 of a released slot ends like TIME-WAIT (the peer may never send FIN). */
		if (c->time_wait_at && s->now >= c->time_wait_at && !c->user) {
			tcp_free(c);
			return;
		}
		break;
	default:
		break;
	}
	/* RFC 9293 3.8.3: a peer that acknowledges nothing for long is dead. */
	waiting = c->snd_una != c->snd_max || c->persist_at;
	if (waiting && s->now - c->last_progress >= TCP_DEAD_PEER_MS) {
		tcp_set_closed(c, TCP_CLOSED_DEAD_PEER);
		return;
	}
	if (c->rto_at && s->now >= c->rto_at)
		tcp_on_rto(c);
	if (c->persist_at && s->now >= c->persist_at)
		tcp_on_persist(c);
	if (c->fsm == TCPS_FREE || c->fsm == TCPS_CLOSED)
		return;
	tcp_output(c);
	if (c->ack_delayed)
		tcp_send_ack(c);
}

void tcp_poll(struct net_stack *s)
{
	for (u32 i = 0; i < NET_TCP_MAX_CONNS; i++)
		tcp_poll_conn(&s->tcp[i]);
}
