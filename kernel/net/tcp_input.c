/*
 * TCP segment arrival (RFC 9293 3.10.7) with the RFC 5961 defences against
 * blind RST, SYN and ACK injection. Out-of-order data is kept in the
 * receive buffer at its place (up to TCP_OOO_RANGES ranges) and reported
 * with SACK when the peer allows it.
 */
#include <hv/errno.h>
#include <hv/string.h>

#include "net_internal.h"

#define TCP_MSS_MIN 64 /* smaller MSS options are raised to this */

/* One parsed segment; wnd is the raw field. */
struct tcp_seg {
	u32 seq, ack, wnd, len; /* len: data bytes */
	u8 flags;
	const u8 *data;
	bool has_mss, has_ws, sack_ok;
	u16 mss;
	u8 ws;
	u8 nr_sack;
	struct tcp_range sack[4]; /* SACK blocks (RFC 2018 3) */
};

static u32 get_be32(const u8 *p)
{
	return (u32)p[0] << 24 | (u32)p[1] << 16 | (u32)p[2] << 8 | p[3];
}

/* Keep up to four SACK blocks (left edge, right edge) of an option. */
static void tcp_parse_sack(const u8 *p, u32 n, struct tcp_seg *seg)
{
	for (u32 i = 0; i < n && seg->nr_sack < ARRAY_SIZE(seg->sack); i++, p += 8) {
		seg->sack[seg->nr_sack].start = get_be32(p);
		seg->sack[seg->nr_sack].end = get_be32(p + 4);
		seg->nr_sack++;
	}
}

/*
 * Walk the options (RFC 9293 3.2): every length is checked against the
 * header's end; a known option with the wrong length is an error.
 */
static int tcp_parse_options(const u8 *p, size_t len, struct tcp_seg *seg)
{
	size_t i = 0;

	while (i < len && p[i] != TCPOPT_EOL) {
		u8 kind = p[i], olen;

		if (kind == TCPOPT_NOP) {
			i++;
			continue;
		}
		if (i + 2 > len || p[i + 1] < 2 || i + p[i + 1] > len)
			return -EBADMSG;
		olen = p[i + 1];
		switch (kind) {
		case TCPOPT_MSS:
			if (olen != 4)
				return -EBADMSG;
			seg->has_mss = true;
			seg->mss = (u16)(p[i + 2] << 8 | p[i + 3]);
			break;
		case TCPOPT_WSCALE:
			if (olen != 3)
				return -EBADMSG;
			seg->has_ws = true;
			seg->ws = MIN(p[i + 2], 14); /* RFC 7323 2.3 */
			break;
		case TCPOPT_SACK_PERMITTED:
			if (olen != 2)
				return -EBADMSG;
			seg->sack_ok = true;
			break;
		case TCPOPT_SACK:
			if (olen < 10 || (olen - 2) % 8)
				return -EBADMSG;
			tcp_parse_sack(p + i + 2, (olen - 2) / 8, seg);
			break;
		}
		i += olen;
	}
	return 0;
}

static struct tcp_conn *tcp_lookup(struct net_stack *s, u32 ip, u16 rport, u16 lport)
{
	for (u32 i = 0; i < NET_TCP_MAX_CONNS; i++) {
		struct tcp_conn *c = &s->tcp[i];

		if (c->fsm != TCPS_FREE && c->remote_ip == ip && c->remote_port == rport &&
		    c->local_port == lport)
			return c;
	}
	return NULL;
}

/* Sequence space a segment occupies: data, SYN and FIN. */
static u32 tcp_seg_len(const struct tcp_seg *seg)
{
	return seg->len + !!(seg->flags & TCP_SYN) + !!(seg->flags & TCP_FIN);
}

/* RFC 9293 3.10.7.1: answer a segment no connection takes, at most TCP_RST_PER_SEC a second. */
static void tcp_reply_rst(struct net_stack *s, const struct ip_info *ip, u16 sport, u16 dport,
			  const struct tcp_seg *seg)
{
	if (seg->flags & TCP_RST)
		return;
	if (s->now >= s->rst_refill_at) {
		s->rst_tokens = TCP_RST_PER_SEC;
		s->rst_refill_at = s->now + 1000;
	}
	if (!s->rst_tokens) {
		s->stats.tcp_rst_ratelimited++;
		return;
	}
	s->rst_tokens--;
	if (seg->flags & TCP_ACK)
		tcp_emit(s, ip->src, dport, sport, seg->ack, 0, TCP_RST, 0);
	else
		tcp_emit(s, ip->src, dport, sport, 0, seg->seq + tcp_seg_len(seg),
			 TCP_RST | TCP_ACK, 0);
	s->stats.tcp_rst_sent++;
}

/* The SYN-ACK arrived: take the peer's parameters and enter ESTABLISHED (RFC 9293 3.10.7.3). */
static void tcp_establish(struct tcp_conn *c, const struct tcp_seg *seg)
{
	struct net_stack *s = c->stack;

	c->irs = seg->seq;
	c->rcv_nxt = c->rcv_adv = seg->seq + 1;
	c->snd_una = seg->ack;
	c->mss = seg->has_mss ? MIN(MAX(seg->mss, TCP_MSS_MIN), TCP_MSS_LOCAL) : TCP_MSS_DEFAULT;
	c->snd_wscale = seg->has_ws ? seg->ws : 0;
	c->sack_ok = seg->sack_ok;
	/* RFC 7323 2.2: the window of a SYN is never scaled. */
	c->snd_wnd = c->max_snd_wnd = seg->wnd;
	c->snd_wl1 = seg->seq;
	c->snd_wl2 = seg->ack;
	/* RFC 5681 3.1 / RFC 6928: initial window of min(10 MSS, max(2 MSS, 14600)). */
	c->cwnd = MIN(10u * c->mss, MAX(2u * c->mss, 14600u));
	c->ssthresh = 0x7fffffff;
	if (c->rtt_timing)
		tcp_rtt_sample(c, (u32)(s->now - c->rtt_start));
	else
		c->rto = 3000; /* RFC 6298 5.7: the SYN was retransmitted */
	c->rtt_timing = false;
	c->rto_at = 0;
	c->retransmits = 0;
	c->last_progress = s->now;
	c->fsm = TCPS_ESTABLISHED;
	c->ack_now = true;
	pr_info("net: tcp " IP_FMT ":%u port %u: established, mss %u\n", IP_ARGS(c->remote_ip),
		c->remote_port, c->local_port, c->mss);
}

/* RFC 9293 3.10.7.3 SYN-SENT; a SYN without ACK (simultaneous open) is not supported. */
static void tcp_syn_sent(struct tcp_conn *c, const struct tcp_seg *seg, const struct ip_info *ip,
			 u16 sport, u16 dport)
{
	struct net_stack *s = c->stack;
	bool ack = seg->flags & TCP_ACK;

	if (ack && (seq_le(seg->ack, c->iss) || seq_gt(seg->ack, c->snd_max))) {
		NET_DROP(s, tcp_bad_ack);
		tcp_reply_rst(s, ip, sport, dport, seg);
		return;
	}
	if (seg->flags & TCP_RST) {
		/* RFC 5961 3.2: only a RST acknowledging our SYN counts. */
		if (ack)
			tcp_set_closed(c, TCP_CLOSED_REFUSED);
		else
			NET_DROP(s, tcp_bad_state);
		return;
	}
	if (!(seg->flags & TCP_SYN) || !ack) {
		NET_DROP(s, tcp_bad_state);
		return;
	}
	/* Data or FIN on the SYN-ACK is not taken; not acknowledged, it comes again. */
	tcp_establish(c, seg);
}

/*
 * RFC 9293 3.10.7.4 first check: does the segment overlap the receive
 * window? An empty segment may also sit at the right edge itself, as Linux
 * takes it: a peer that sent a whole window, whose first segment was lost,
 * acknowledges our data from there, and those ACKs must count.
 */
static bool tcp_acceptable(const struct tcp_conn *c, const struct tcp_seg *seg)
{
	u32 wnd = TCP_RCV_BUF - c->rcv_len, len = tcp_seg_len(seg);
	u32 first = seg->seq - c->rcv_nxt, last = seg->seq + len - 1 - c->rcv_nxt;

	if (wnd == 0)
		return seg->seq == c->rcv_nxt;
	if (len == 0)
		return first <= wnd;
	return first < wnd || last < wnd;
}

/* Keep out-of-order data [start, end): a range held in the buffer, SACKed from now on. */
static void tcp_ooo_add(struct tcp_conn *c, u32 start, u32 end)
{
	bool dropped;

	c->ooo_last = start;
	if (!tcp_range_add(c->ooo, &c->nr_ooo, TCP_OOO_RANGES, start, end, &dropped))
		return;
	if (dropped)
		NET_DROP(c->stack, tcp_ooo_dropped);
	else
		c->stack->stats.tcp_ooo_queued++;
}

/* rcv_nxt moved: take in the out-of-order ranges it reached. */
static void tcp_ooo_merge(struct tcp_conn *c)
{
	while (c->nr_ooo && seq_le(c->ooo[0].start, c->rcv_nxt)) {
		if (seq_gt(c->ooo[0].end, c->rcv_nxt)) {
			c->rcv_len += c->ooo[0].end - c->rcv_nxt;
			c->rcv_nxt = c->ooo[0].end;
		}
		c->nr_ooo--;
		memmove(&c->ooo[0], &c->ooo[1], c->nr_ooo * sizeof(c->ooo[0]));
	}
}

/* Copy len bytes for sequence number seq to their place in the receive ring. */
static void tcp_ring_write(struct tcp_conn *c, u32 seq, const u8 *data, u32 len)
{
	u32 pos = (c->rcv_head + c->rcv_len + (seq - c->rcv_nxt)) % TCP_RCV_BUF;
	u32 first = MIN(len, TCP_RCV_BUF - pos);

	memcpy(c->rbuf + pos, data, first);
	memcpy(c->rbuf, data + first, len - first);
}

/*
 * RFC 9293 3.10.7.4 seventh: store the part of the data that is new and
 * fits the buffer; in order it moves rcv_nxt, out of order it is held.
 * ACK policy per RFC 5681 4.2: every second segment, at once for
 * out-of-order data and for data filling a gap, else at the next poll.
 */
static void tcp_data_arrives(struct tcp_conn *c, u32 seq, const u8 *data, u32 len)
{
	u32 space = TCP_RCV_BUF - c->rcv_len, off;
	bool gap = c->nr_ooo > 0;

	if (seq_lt(seq, c->rcv_nxt)) {
		u32 skip = c->rcv_nxt - seq;

		if (skip >= len)
			return;
		data += skip;
		len -= skip;
		seq = c->rcv_nxt;
	}
	off = seq - c->rcv_nxt;
	if (off >= space) {
		NET_DROP(c->stack, tcp_out_of_window);
		c->ack_now = true;
		return;
	}
	if (len > space - off) {
		len = space - off;
		c->ack_now = true;
	}
	tcp_ring_write(c, seq, data, len);
	if (off) {
		tcp_ooo_add(c, seq, seq + len);
		c->ack_now = true;
		return;
	}
	c->rcv_nxt += len;
	c->rcv_len += len;
	tcp_ooo_merge(c);
	if (gap || ++c->segs_unacked >= 2)
		c->ack_now = true;
	else
		c->ack_delayed = true;
	/* A released connection's data is acknowledged and dropped. */
	if (!c->user) {
		c->rcv_head = (c->rcv_head + c->rcv_len) % TCP_RCV_BUF;
		c->rcv_len = 0;
	}
}

/* RFC 9293 3.10.7.4 eighth: the FIN, once everything before it arrived. */
static void tcp_fin_arrives(struct tcp_conn *c)
{
	struct net_stack *s = c->stack;

	c->rcv_nxt++;
	c->fin_received = true;
	c->nr_ooo = 0;
	c->ack_now = true;
	switch (c->fsm) {
	case TCPS_ESTABLISHED:
		c->fsm = TCPS_CLOSE_WAIT;
		pr_info("net: tcp " IP_FMT ":%u port %u: peer closed\n", IP_ARGS(c->remote_ip),
			c->remote_port, c->local_port);
		break;
	case TCPS_FIN_WAIT_1:
		c->fsm = c->fin_acked ? TCPS_TIME_WAIT : TCPS_CLOSING;
		break;
	case TCPS_FIN_WAIT_2:
		c->fsm = TCPS_TIME_WAIT;
		break;
	default:
		break;
	}
	if (c->fsm == TCPS_TIME_WAIT) {
		c->time_wait_at = s->now + TCP_TIME_WAIT_MS;
		c->rto_at = c->persist_at = 0;
	}
}

/* New data acknowledged: free it from the send buffer, time it, grow cwnd, re-arm the RTO. */
static void tcp_ack_advance(struct tcp_conn *c, u32 ack)
{
	struct net_stack *s = c->stack;
	u32 acked = ack - c->snd_una, data = MIN(acked, c->snd_len);

	c->snd_head = (c->snd_head + data) % TCP_SND_BUF;
	c->snd_len -= data;
	if (acked > data)
		c->fin_acked = true;
	c->prev_una = c->snd_una;
	c->snd_una = ack;
	if (seq_lt(c->snd_nxt, ack))
		c->snd_nxt = ack;
	/*
	 * RFC 6298 3 (Karn): only a segment never retransmitted gives a sample.
	 * Unlike RFC 6298 5.5, progress also drops the backoff (as Linux does):
	 * under steady loss, samples are rare and the RTO would only grow.
	 */
	if (c->rtt_timing && seq_gt(ack, c->rtt_seq)) {
		tcp_rtt_sample(c, (u32)(s->now - c->rtt_start));
		c->rtt_timing = false;
	} else {
		tcp_rto_reset(c);
	}
	c->retransmits = 0;
	c->last_progress = s->now;
	tcp_cwnd_on_ack(c, acked);
	/* RFC 6298 5.2, 5.3 */
	c->rto_at = c->snd_una == c->snd_max ? 0 : s->now + c->rto;
}

/* The FIN we sent was acknowledged: move on in the closing states. Returns false if c is gone. */
static bool tcp_fin_acked(struct tcp_conn *c)
{
	struct net_stack *s = c->stack;

	switch (c->fsm) {
	case TCPS_FIN_WAIT_1:
		c->fsm = TCPS_FIN_WAIT_2;
		c->time_wait_at = s->now + TCP_TIME_WAIT_MS;
		break;
	case TCPS_CLOSING:
		c->fsm = TCPS_TIME_WAIT;
		c->time_wait_at = s->now + TCP_TIME_WAIT_MS;
		break;
	case TCPS_LAST_ACK:
		tcp_set_closed(c, TCP_CLOSED_NORMAL);
		return false;
	default:
		break;
	}
	return true;
}

/*
 * RFC 9293 3.10.7.4 fifth: the ACK field, with RFC 5961 5.2's bound on old
 * ACKs, duplicate ACK counting and the window update rule. Returns false
 * if the segment is done with (dropped, or c is gone).
 */
static bool tcp_ack_arrives(struct tcp_conn *c, const struct tcp_seg *seg)
{
	struct net_stack *s = c->stack;
	u32 wnd = seg->wnd << c->snd_wscale;
	bool sack_news;

	if (seq_gt(seg->ack, c->snd_max)) {
		NET_DROP(s, tcp_bad_ack);
		c->ack_now = true;
		return false;
	}
	if (seq_lt(seg->ack, c->snd_una - MAX(c->max_snd_wnd, 1u))) {
		NET_DROP(s, tcp_bad_ack);
		s->stats.tcp_challenge_acks++;
		c->ack_now = true;
		return false;
	}
	sack_news = tcp_sack_update(c, seg->sack, seg->nr_sack, seg->ack);
	if (seq_gt(seg->ack, c->snd_una))
		tcp_ack_advance(c, seg->ack);
	else if (seg->ack == c->snd_una && c->snd_una != c->snd_max &&
		 (sack_news || (!seg->len && !(seg->flags & TCP_FIN) && wnd == c->snd_wnd)))
		tcp_cwnd_on_dupack(c, sack_news);
	if (seq_lt(c->snd_wl1, seg->seq) ||
	    (c->snd_wl1 == seg->seq && seq_le(c->snd_wl2, seg->ack))) {
		c->snd_wnd = wnd;
		c->snd_wl1 = seg->seq;
		c->snd_wl2 = seg->ack;
		c->max_snd_wnd = MAX(c->max_snd_wnd, wnd);
	}
	/* Nothing in flight (a zero window): an answering peer is alive. */
	if (c->snd_una == c->snd_max)
		c->last_progress = s->now;
	if (c->fin_acked)
		return tcp_fin_acked(c);
	return true;
}

/* RFC 9293 3.10.7.4 for the synchronised states. */
static void tcp_segment_arrives(struct tcp_conn *c, struct tcp_seg *seg)
{
	struct net_stack *s = c->stack;

	if (!tcp_acceptable(c, seg)) {
		NET_DROP(s, tcp_out_of_window);
		if (!(seg->flags & TCP_RST))
			c->ack_now = true;
		return;
	}
	if (seg->flags & TCP_RST) {
		/* RFC 5961 3.2: only an exact match resets; in-window ones get a challenge ACK. */
		if (seg->seq != c->rcv_nxt) {
			s->stats.tcp_challenge_acks++;
			c->ack_now = true;
		} else if (c->fsm == TCPS_CLOSING || c->fsm == TCPS_LAST_ACK ||
			   c->fsm == TCPS_TIME_WAIT) {
			tcp_set_closed(c, TCP_CLOSED_NORMAL);
		} else {
			tcp_set_closed(c, TCP_CLOSED_RESET);
		}
		return;
	}
	if (seg->flags & TCP_SYN) {
		/* RFC 5961 4.2: a SYN in a synchronised state gets a challenge ACK. */
		s->stats.tcp_challenge_acks++;
		c->ack_now = true;
		return;
	}
	if (!(seg->flags & TCP_ACK)) {
		NET_DROP(s, tcp_bad_state);
		return;
	}
	/* A zero window takes the ACK of a segment, not its data (RFC 9293 3.10.7.4). */
	if (TCP_RCV_BUF == c->rcv_len && (seg->len || (seg->flags & TCP_FIN))) {
		seg->len = 0;
		seg->flags &= (u8)~TCP_FIN;
		c->ack_now = true;
	}
	if (!tcp_ack_arrives(c, seg))
		return;
	if (c->fsm != TCPS_ESTABLISHED && c->fsm != TCPS_FIN_WAIT_1 && c->fsm != TCPS_FIN_WAIT_2)
		return; /* text and FIN after the peer's FIN are retransmissions */
	if (seg->len)
		tcp_data_arrives(c, seg->seq, seg->data, seg->len);
	if ((seg->flags & TCP_FIN) && seg->seq + seg->len == c->rcv_nxt)
		tcp_fin_arrives(c);
}

void tcp_input(struct net_stack *s, const struct ip_info *ip, const u8 *pkt, size_t len)
{
	const struct tcp_hdr *th = (const struct tcp_hdr *)pkt;
	struct tcp_seg seg = { 0 };
	struct tcp_conn *c;
	size_t hlen;

	if (len < TCP_HLEN) {
		NET_DROP(s, tcp_short);
		return;
	}
	hlen = (size_t)(th->doff >> 4) * 4;
	if (hlen < TCP_HLEN || hlen > len) {
		NET_DROP(s, tcp_bad_offset);
		return;
	}
	if (inet_fold(inet_sum(inet_pseudo_sum(ip->src, ip->dst, IP_PROTO_TCP, (u16)len), pkt,
			       len)) != 0) {
		NET_DROP(s, tcp_bad_checksum);
		return;
	}
	if (ip->broadcast) {
		NET_DROP(s, tcp_bad_dst);
		return;
	}
	if (tcp_parse_options(pkt + TCP_HLEN, hlen - TCP_HLEN, &seg)) {
		NET_DROP(s, tcp_bad_options);
		return;
	}
	seg.seq = be32_to_cpu(th->seq);
	seg.ack = be32_to_cpu(th->ack);
	seg.wnd = be16_to_cpu(th->wnd);
	seg.flags = th->flags & (TCP_FIN | TCP_SYN | TCP_RST | TCP_PSH | TCP_ACK | TCP_URG);
	seg.data = pkt + hlen;
	seg.len = (u32)(len - hlen);
	s->stats.tcp_segs_in++;
	c = tcp_lookup(s, ip->src, be16_to_cpu(th->sport), be16_to_cpu(th->dport));
	if (!c || c->fsm == TCPS_CLOSED) {
		NET_DROP(s, tcp_no_conn);
		tcp_reply_rst(s, ip, be16_to_cpu(th->sport), be16_to_cpu(th->dport), &seg);
		return;
	}
	if (c->fsm == TCPS_SYN_SENT)
		tcp_syn_sent(c, &seg, ip, be16_to_cpu(th->sport), be16_to_cpu(th->dport));
	else
		tcp_segment_arrives(c, &seg);
	if (c->fsm != TCPS_FREE && c->fsm != TCPS_CLOSED)
		tcp_output(c);
}
