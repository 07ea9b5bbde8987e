/*
 * TCP loss recovery and congestion control: SACK both ways (RFC 2018),
 * slow start and congestion avoidance (RFC 5681 3.1), fast retransmit and
 * recovery with NewReno's partial ACKs (RFC 5681 3.2, RFC 6582), Limited
 * Transmit (RFC 3042, in tcp_output.c), Early Retransmit (RFC 5827) and, when
 * the peer sends SACK blocks, a small scoreboard in the spirit of RFC 6675:
 * an ACK that SACKs new data counts as a duplicate even if it carries data
 * or a new window (both are the rule when data flows both ways), and
 * recovery resends the holes below the highest SACKed byte, one per ACK.
 */
#include <hv/string.h>

#include "net_internal.h"

#define TCP_CWND_MAX (4 * TCP_SND_BUF)

static void put_be32(u8 *p, u32 v)
{
	p[0] = (u8)(v >> 24);
	p[1] = (u8)(v >> 16);
	p[2] = (u8)(v >> 8);
	p[3] = (u8)v;
}

/*
 * Add [start, end) to a sorted list of disjoint ranges, merging what
 * touches it. When max ranges would be exceeded the highest one is dropped
 * (*dropped set). Returns true if the range covered something new.
 */
bool tcp_range_add(struct tcp_range *r, u8 *nr, u32 max, u32 start, u32 end, bool *dropped)
{
	u32 i = 0;

	*dropped = false;
	for (i = 0; i < *nr; i++)
		if (seq_le(r[i].start, start) && seq_ge(r[i].end, end))
			return false;
	i = 0;
	while (i < *nr) {
		if (seq_gt(start, r[i].end) || seq_gt(r[i].start, end)) {
			i++;
			continue;
		}
		start = seq_lt(r[i].start, start) ? r[i].start : start;
		end = seq_gt(r[i].end, end) ? r[i].end : end;
		memmove(&r[i], &r[i + 1], (*nr - i - 1) * sizeof(*r));
		(*nr)--;
	}
	for (i = 0; i < *nr && seq_lt(r[i].start, start); i++)
		;
	if (*nr == max) {
		*dropped = true;
		if (i == max)
			return true;
		(*nr)--;
	}
	memmove(&r[i + 1], &r[i], (*nr - i) * sizeof(*r));
	r[i].start = start;
	r[i].end = end;
	(*nr)++;
	return true;
}

/*
 * SACK blocks for the out-of-order data we hold (RFC 2018 4): the block of
 * the latest segment first, then the others; at most 4 fit.
 */
size_t tcp_sack_options(const struct tcp_conn *c, u8 *p)
{
	u32 n = 1, first = 0;

	if (!c->sack_ok || !c->nr_ooo)
		return 0;
	for (u32 i = 0; i < c->nr_ooo; i++)
		if (seq_ge(c->ooo_last, c->ooo[i].start) && seq_lt(c->ooo_last, c->ooo[i].end))
			first = i;
	p[0] = TCPOPT_NOP;
	p[1] = TCPOPT_NOP;
	p[2] = TCPOPT_SACK;
	put_be32(p + 4, c->ooo[first].start);
	put_be32(p + 8, c->ooo[first].end);
	for (u32 i = 0; i < c->nr_ooo; i++) {
		if (i == first)
			continue;
		put_be32(p + 4 + 8 * n, c->ooo[i].start);
		put_be32(p + 8 + 8 * n, c->ooo[i].end);
		n++;
	}
	p[3] = (u8)(2 + 8 * n);
	return 4 + 8 * n;
}

/*
 * Take the SACK blocks of an ACK whose cumulative point is cum into the
 * scoreboard. Blocks are checked: non-empty, above cum, not beyond what we
 * sent; others (D-SACK, bogus) are ignored. Returns true if any covered
 * data not SACKed before.
 */
bool tcp_sack_update(struct tcp_conn *c, const struct tcp_range *blocks, u32 n, u32 cum)
{
	bool news = false, dropped;

	if (seq_lt(cum, c->snd_una))
		cum = c->snd_una;
	for (u32 i = 0; i < n; i++) {
		u32 start = blocks[i].start, end = blocks[i].end;

		if (!seq_lt(start, end) || !seq_gt(end, cum) || seq_gt(end, c->snd_max))
			continue;
		if (seq_lt(start, cum))
			start = cum;
		news |=
		    tcp_range_add(c->sacked, &c->nr_sacked, TCP_SACK_RANGES, start, end, &dropped);
	}
	return news;
}

/* snd_una moved: forget what it passed. */
static void tcp_sack_trim(struct tcp_conn *c)
{
	while (c->nr_sacked && seq_le(c->sacked[0].end, c->snd_una)) {
		c->nr_sacked--;
		memmove(&c->sacked[0], &c->sacked[1], c->nr_sacked * sizeof(c->sacked[0]));
	}
	if (c->nr_sacked && seq_lt(c->sacked[0].start, c->snd_una))
		c->sacked[0].start = c->snd_una;
}

/*
 * Resend the next hole: unSACKed data from rtx_nxt on, below the highest
 * SACKed byte (with no SACK information: the segment at snd_una, NewReno).
 */
static void tcp_resend_hole(struct tcp_conn *c, bool newreno)
{
	u32 start = seq_lt(c->rtx_nxt, c->snd_una) ? c->snd_una : c->rtx_nxt;
	int rc;

	if (!c->nr_sacked) {
		if (!newreno)
			return;
		start = c->snd_una;
	}
	for (u32 i = 0; i < c->nr_sacked; i++) {
		if (seq_lt(start, c->sacked[i].start)) {
			rc = tcp_retransmit(c, start, c->sacked[i].start - start);
			if (rc > 0)
				c->rtx_nxt = start + (u32)rc;
			return;
		}
		if (seq_lt(start, c->sacked[i].end))
			start = c->sacked[i].end;
	}
	if (!c->nr_sacked && (rc = tcp_retransmit(c, start, c->mss)) > 0)
		c->rtx_nxt = start + (u32)rc;
}

/*
 * An ACK of new data: slow start or congestion avoidance (RFC 5681 3.1),
 * or in recovery NewReno's partial and full ACKs (RFC 6582 3.2).
 */
void tcp_cwnd_on_ack(struct tcp_conn *c, u32 acked)
{
	tcp_sack_trim(c);
	if (c->in_recovery) {
		if (seq_ge(c->snd_una, c->recover)) {
			u32 flight = c->snd_max - c->snd_una;

			c->cwnd = MIN(c->ssthresh, MAX(flight, (u32)c->mss) + c->mss);
			c->in_recovery = false;
		} else {
			tcp_resend_hole(c, true);
			c->cwnd = (c->cwnd > acked ? c->cwnd - acked : 0) + c->mss;
		}
	} else if (c->cwnd < c->ssthresh) {
		c->cwnd += MIN(acked, (u32)c->mss);
	} else {
		c->cwnd += MAX((u32)c->mss * c->mss / c->cwnd, 1u);
	}
	c->cwnd = MIN(c->cwnd, (u32)TCP_CWND_MAX);
	c->dupacks = 0;
}

/*
 * Duplicate ACKs that mean a loss: 3, or with 2 or 3 segments in flight and
 * no new data or no receive window for it, one less than those in flight
 * (RFC 5827 3.1).
 */
static u8 tcp_dupthresh(const struct tcp_conn *c)
{
	u32 flight = c->snd_max - c->snd_una, oseg = (flight + c->mss - 1) / c->mss;
	bool can_send = tcp_unsent(c) && c->snd_wnd >= flight + c->mss; /* Limited Transmit */

	/* With one segment out, a duplicate ACK is no sign of loss. */
	if (oseg >= 4 || oseg < 2 || can_send)
		return 3;
	return (u8)(oseg - 1);
}

/*
 * A duplicate ACK (RFC 5681 3.2; with sack_news, one SACKing new data):
 * the third starts fast retransmit, later ones inflate the window and, with
 * SACK, resend the next hole.
 */
void tcp_cwnd_on_dupack(struct tcp_conn *c, bool sack_news)
{
	u32 flight = c->snd_max - c->snd_una;

	if (c->dupacks < 255)
		c->dupacks++;
	if (c->in_recovery) {
		c->cwnd = MIN(c->cwnd + c->mss, (u32)TCP_CWND_MAX);
		if (sack_news)
			tcp_resend_hole(c, false);
		return;
	}
	/*
	 * RFC 6582 3.2 step 2 and 4.2: below recover (after a timeout), duplicate
	 * ACKs mean a loss only if the ACKs advanced by small steps; big jumps
	 * mean the receiver had the data and our retransmissions were needless.
	 */
	if (c->dupacks != tcp_dupthresh(c))
		return;
	if (!seq_gt(c->snd_una, c->recover) &&
	    (c->cwnd <= c->mss || c->snd_una - c->prev_una > 4u * c->mss))
		return;
	c->ssthresh = MAX(flight / 2, 2u * c->mss);
	c->recover = c->snd_max;
	c->in_recovery = true;
	c->rtx_nxt = c->snd_una;
	c->stack->stats.tcp_fast_retransmits++;
	tcp_resend_hole(c, true);
	c->cwnd = c->ssthresh + 3u * c->mss;
}
