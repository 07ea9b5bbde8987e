/*
 * TCP output: building segments, sending new data as far as the peer's
 * window and the congestion window allow (Nagle off), retransmission on
 * timeout (RFC 6298) with go-back-N, zero-window probes, and the RTO
 * estimator.
 */
#include <hv/errno.h>
#include <hv/string.h>

#include "net_internal.h"

/* Free receive buffer space, at most 65535: we offer window scale 0 (RFC 7323 2.3). */
u32 tcp_rcv_space(const struct tcp_conn *c)
{
	return MIN(TCP_RCV_BUF - c->rcv_len, 0xffffu);
}

/*
 * The window to advertise (RFC 9293 3.8.6.2.2, receiver SWS avoidance): the
 * right edge moves on only by min(buffer/2, MSS) or more, and never back.
 */
static u32 tcp_adv_window(const struct tcp_conn *c)
{
	u32 edge = c->rcv_nxt + tcp_rcv_space(c);

	if (seq_ge(c->rcv_adv, c->rcv_nxt) &&
	    seq_lt(edge, c->rcv_adv + MIN(TCP_RCV_BUF / 2, TCP_MSS_LOCAL)))
		edge = c->rcv_adv;
	return edge - c->rcv_nxt;
}

/* Our SYN's options: MSS, window scale 0 (to use the peer's), SACK permitted. */
static size_t tcp_syn_options(u8 *p)
{
	const u8 opts[] = {
		TCPOPT_MSS,
		4,
		TCP_MSS_LOCAL >> 8,
		TCP_MSS_LOCAL & 0xff,
		TCPOPT_NOP,
		TCPOPT_WSCALE,
		3,
		0,
		TCPOPT_NOP,
		TCPOPT_NOP,
		TCPOPT_SACK_PERMITTED,
		2,
	};

	memcpy(p, opts, sizeof(opts));
	return sizeof(opts);
}

/* Data bytes per segment: the MSS less the options we add (RFC 6691 2). */
u32 tcp_seg_max(const struct tcp_conn *c)
{
	u32 opts = c->sack_ok && c->nr_ooo ? 4 + 8 * c->nr_ooo : 0;

	return c->mss - opts;
}

/* Checksum the segment of seg_len bytes at s->tx + NET_L4_OFF and send it to dst. */
static int tcp_checksum_send(struct net_stack *s, u32 dst, size_t seg_len)
{
	struct tcp_hdr *th = (struct tcp_hdr *)(s->tx + NET_L4_OFF);
	u32 sum = inet_pseudo_sum(ip_source(s), dst, IP_PROTO_TCP, (u16)seg_len);
	int rc;

	th->csum = 0;
	th->csum = cpu_to_be16(inet_fold(inet_sum(sum, th, seg_len)));
	rc = ip_output(s, dst, IP_PROTO_TCP, seg_len);
	if (rc >= 0)
		s->stats.tcp_segs_out++;
	return rc;
}

static void tcp_fill_header(struct tcp_hdr *th, u16 sport, u16 dport, u32 seq, u32 ack, u8 flags,
			    u16 wnd, size_t hlen)
{
	th->sport = cpu_to_be16(sport);
	th->dport = cpu_to_be16(dport);
	th->seq = cpu_to_be32(seq);
	th->ack = cpu_to_be32(ack);
	th->doff = (u8)(hlen / 4) << 4;
	th->flags = flags;
	th->wnd = cpu_to_be16(wnd);
	th->urg = 0;
}

/* A bare segment not tied to a connection's buffers (RSTs). */
int tcp_emit(struct net_stack *s, u32 dst, u16 sport, u16 dport, u32 seq, u32 ack, u8 flags,
	     u16 wnd)
{
	struct tcp_hdr *th = (struct tcp_hdr *)(s->tx + NET_L4_OFF);

	tcp_fill_header(th, sport, dport, seq, ack, flags, wnd, TCP_HLEN);
	return tcp_checksum_send(s, dst, TCP_HLEN);
}

/*
 * Send one segment of c: flags, sequence number seq and len bytes of the
 * send buffer from seq on. Every segment but the SYN carries ACK and our
 * window. Returns ip_output()'s result.
 */
static int tcp_xmit(struct tcp_conn *c, u32 seq, u8 flags, u32 len)
{
	struct net_stack *s = c->stack;
	u8 *seg = s->tx + NET_L4_OFF;
	size_t hlen = TCP_HLEN, first;
	u32 wnd, pos;
	int rc;

	if (flags & TCP_SYN)
		hlen += tcp_syn_options(seg + TCP_HLEN);
	else
		hlen += tcp_sack_options(c, seg + TCP_HLEN);
	/* Never beyond the frame buffer, whatever the caller asked. */
	if (hlen + len > NET_L4_MAX)
		return -E2BIG;
	wnd = flags & TCP_SYN ? tcp_rcv_space(c) : tcp_adv_window(c);
	tcp_fill_header((struct tcp_hdr *)seg, c->local_port, c->remote_port, seq,
			flags & TCP_ACK ? c->rcv_nxt : 0, flags, (u16)wnd, hlen);
	pos = (c->snd_head + (seq - c->snd_una)) % TCP_SND_BUF;
	first = MIN(len, TCP_SND_BUF - pos);
	memcpy(seg + hlen, c->sbuf + pos, first);
	memcpy(seg + hlen + first, c->sbuf, len - first);
	rc = tcp_checksum_send(s, c->remote_ip, hlen + len);
	if (rc >= 0 && (flags & TCP_ACK)) {
		c->ack_now = c->ack_delayed = false;
		c->segs_unacked = 0;
		if (seq_gt(c->rcv_nxt + wnd, c->rcv_adv))
			c->rcv_adv = c->rcv_nxt + wnd;
	}
	return rc;
}

int tcp_send_syn(struct tcp_conn *c)
{
	return tcp_xmit(c, c->iss, TCP_SYN, 0);
}

int tcp_send_ack(struct tcp_conn *c)
{
	return tcp_xmit(c, c->snd_nxt, TCP_ACK, 0);
}

int tcp_send_rst(struct tcp_conn *c)
{
	return tcp_emit(c->stack, c->remote_ip, c->local_port, c->remote_port, c->snd_nxt, 0,
			TCP_RST, 0);
}

/* Data in the send buffer not sent yet (from snd_nxt on). */
u32 tcp_unsent(const struct tcp_conn *c)
{
	u32 sent = c->snd_nxt - c->snd_una;

	return sent < c->snd_len ? c->snd_len - sent : 0;
}

/* The FIN is due once all data is sent (snd_nxt sits at its sequence number). */
static bool tcp_fin_due(const struct tcp_conn *c)
{
	return c->fin_queued && !c->fin_acked && c->snd_nxt == c->snd_una + c->snd_len;
}

/*
 * Send the next segment of new (or, after a timeout, resent) data and/or
 * the FIN if the windows allow. force skips sender SWS avoidance (the
 * persist timer's override). Returns true if more may follow.
 */
static bool tcp_send_segment(struct tcp_conn *c, bool force)
{
	struct net_stack *s = c->stack;
	u32 unsent = tcp_unsent(c), flight = c->snd_nxt - c->snd_una;
	/* RFC 3042 (Limited Transmit): a new segment for each of the first two dupacks. */
	u32 lt = c->in_recovery ? 0 : MIN(c->dupacks, (u8)2) * (u32)c->mss;
	u32 wnd = MIN(c->snd_wnd, c->cwnd + lt), seg_max = tcp_seg_max(c);
	u32 n = MIN(MIN(unsent, wnd > flight ? wnd - flight : 0), seg_max);
	u8 flags = TCP_ACK;
	int rc;

	if (unsent ? n == 0 : !tcp_fin_due(c))
		return false;
	/* RFC 9293 3.8.6.2.1 with Nagle off (3.7.4): full segments, or all that is queued. */
	if (!force && n < seg_max && n < unsent && n < c->max_snd_wnd / 2)
		return false;
	if (n == unsent) {
		flags |= unsent ? TCP_PSH : 0;
		if (c->fin_queued && !c->fin_acked)
			flags |= TCP_FIN;
	}
	rc = tcp_xmit(c, c->snd_nxt, flags, n);
	if (rc < 0)
		return false;
	if (seq_lt(c->snd_nxt, c->snd_max)) {
		s->stats.tcp_retransmits++;
	} else if (!c->rtt_timing && n) {
		c->rtt_timing = true;
		c->rtt_seq = c->snd_nxt;
		c->rtt_start = s->now;
	}
	c->snd_nxt += n + (flags & TCP_FIN ? 1 : 0);
	if (seq_gt(c->snd_nxt, c->snd_max))
		c->snd_max = c->snd_nxt;
	if (!c->rto_at)
		c->rto_at = s->now + c->rto;
	return rc != NET_QUEUED;
}

/* RFC 9293 3.8.6.1: with data waiting, nothing in flight and no window, probe. */
static void tcp_arm_persist(struct tcp_conn *c)
{
	if (c->snd_una != c->snd_max || !tcp_unsent(c)) {
		c->persist_at = 0;
		return;
	}
	if (!c->persist_at) {
		c->persist_ms = c->rto;
		c->persist_at = c->stack->now + c->persist_ms;
	}
}

static bool tcp_can_send(const struct tcp_conn *c)
{
	switch (c->fsm) {
	case TCPS_ESTABLISHED:
	case TCPS_CLOSE_WAIT:
	case TCPS_FIN_WAIT_1:
	case TCPS_CLOSING:
	case TCPS_LAST_ACK:
		return true;
	default:
		return false;
	}
}

/* Send what the windows allow now, then an ACK if one is owed and nothing carried it. */
void tcp_output(struct tcp_conn *c)
{
	if (tcp_can_send(c)) {
		while (tcp_send_segment(c, false))
			;
		tcp_arm_persist(c);
	}
	if (c->ack_now && c->fsm != TCPS_SYN_SENT)
		tcp_send_ack(c);
}

/* The persist timer: force a segment into a small window, or probe a zero one. */
void tcp_on_persist(struct tcp_conn *c)
{
	struct net_stack *s = c->stack;

	s->stats.tcp_window_probes++;
	if (!c->snd_wnd || !tcp_send_segment(c, true))
		/* One already acknowledged byte back: the peer answers with its window. */
		tcp_xmit(c, c->snd_una - 1, TCP_ACK, 0);
	c->persist_ms = MIN(c->persist_ms * 2, (u32)TCP_RTO_MAX_MS);
	c->persist_at = c->snd_una == c->snd_max ? s->now + c->persist_ms : 0;
}

/*
 * Resend up to len bytes of data already sent, from seq (with the FIN if it
 * follows and was sent). Returns the sequence space sent, 0 if nothing was
 * left there, or -errno.
 */
int tcp_retransmit(struct tcp_conn *c, u32 seq, u32 len)
{
	u32 off = seq - c->snd_una;
	u8 flags = TCP_ACK;
	int rc;

	if (off > c->snd_len)
		return 0;
	len = MIN(len, MIN(c->snd_len - off, tcp_seg_max(c)));
	if (c->fin_queued && off + len == c->snd_len && seq_gt(c->snd_max, c->snd_una + c->snd_len))
		flags |= TCP_FIN;
	if (!len && !(flags & TCP_FIN))
		return 0;
	c->rtt_timing = false; /* Karn */
	rc = tcp_xmit(c, seq, flags, len);
	if (rc < 0)
		return rc;
	c->stack->stats.tcp_retransmits++;
	return (int)len + (flags & TCP_FIN ? 1 : 0);
}

/*
 * The retransmission timer expired (RFC 6298 5.4-5.6): back off, collapse
 * the congestion window to one segment (RFC 5681 3.1) and resend from
 * snd_una; too many expiries in a row mean the peer is dead.
 */
void tcp_on_rto(struct tcp_conn *c)
{
	struct net_stack *s = c->stack;
	u32 flight = c->snd_max - c->snd_una;

	if (!flight) {
		c->rto_at = 0;
		return;
	}
	s->stats.tcp_rto_expired++;
	if (++c->retransmits > TCP_MAX_RETRANSMITS) {
		tcp_set_closed(c, TCP_CLOSED_DEAD_PEER);
		return;
	}
	c->ssthresh = MAX(flight / 2, 2u * c->mss);
	c->cwnd = c->mss;
	c->in_recovery = false;
	c->dupacks = 0;
	c->recover = c->snd_max;
	/* RFC 2018 8: after a timeout, SACKed data may have been reneged. */
	c->nr_sacked = 0;
	c->rto = MIN(c->rto * 2, (u32)TCP_RTO_MAX_MS);
	c->rtt_timing = false;
	c->snd_nxt = c->snd_una;
	c->rto_at = s->now + c->rto;
	tcp_output(c);
}

/* One RTT measurement into SRTT/RTTVAR and the RTO (RFC 6298 2.2-2.5, G = 1 ms). */
void tcp_rtt_sample(struct tcp_conn *c, u32 rtt_ms)
{
	u32 r = MIN(MAX(rtt_ms, 1u), 2u * TCP_RTO_MAX_MS); /* a longer "RTT" is no sample */

	if (!c->srtt8) {
		c->srtt8 = r << 3;
		c->rttvar4 = r << 1;
	} else {
		s32 delta = (s32)r - (s32)(c->srtt8 >> 3);

		c->srtt8 += delta;
		if (delta < 0)
			delta = -delta;
		c->rttvar4 += (u32)delta - (c->rttvar4 >> 2);
	}
	tcp_rto_reset(c);
}

/* RTO = SRTT + max(G, 4 RTTVAR) within bounds, dropping any backoff (RFC 6298 2.3-2.5). */
void tcp_rto_reset(struct tcp_conn *c)
{
	if (!c->srtt8)
		return;
	c->rto = (c->srtt8 >> 3) + MAX(c->rttvar4, 1u);
	c->rto = MIN(MAX(c->rto, (u32)TCP_RTO_MIN_MS), (u32)TCP_RTO_MAX_MS);
}
