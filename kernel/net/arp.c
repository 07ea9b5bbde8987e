/*
 * ARP for IPv4 over Ethernet (RFC 826): a small cache whose entries live
 * ARP_TTL_MS after the last reply, requests retried ARP_TRIES times
 * ARP_RETRY_MS apart, and a bounded queue of frames waiting for an answer.
 * An entry in use is refreshed (unicast request) before it expires, so a
 * busy TCP connection never stalls on an expiry.
 */
#include <hv/errno.h>
#include <hv/string.h>

#include "net_internal.h"

static struct arp_entry *arp_find(struct net_stack *s, u32 ip)
{
	for (u32 i = 0; i < NET_ARP_ENTRIES; i++)
		if (s->arp[i].state != ARP_FREE && s->arp[i].ip == ip)
			return &s->arp[i];
	return NULL;
}

/* A free entry for ip, else the valid one closest to expiry; NULL if all are pending. */
static struct arp_entry *arp_alloc(struct net_stack *s, u32 ip)
{
	struct arp_entry *victim = NULL;

	for (u32 i = 0; i < NET_ARP_ENTRIES; i++) {
		struct arp_entry *e = &s->arp[i];

		if (e->state == ARP_FREE) {
			victim = e;
			break;
		}
		if (e->state == ARP_VALID && (!victim || e->expires_at < victim->expires_at))
			victim = e;
	}
	if (!victim) {
		NET_DROP(s, arp_cache_full);
		return NULL;
	}
	memset(victim, 0, sizeof(*victim));
	victim->ip = ip;
	return victim;
}

/* Send an ARP packet: a request (to dst_mac, or broadcast if NULL) or a reply. */
static void arp_send(struct net_stack *s, u16 op, const u8 *dst_mac, u32 tpa)
{
	u8 frame[ETH_ZLEN];
	struct eth_hdr *eh = (struct eth_hdr *)frame;
	struct arp_pkt *ap = (struct arp_pkt *)(frame + ETH_HLEN);

	memset(frame, 0, sizeof(frame));
	memset(eh->dst, 0xff, ETH_ALEN);
	if (dst_mac)
		memcpy(eh->dst, dst_mac, ETH_ALEN);
	memcpy(eh->src, s->drv.mac, ETH_ALEN);
	eh->type = cpu_to_be16(ETH_P_ARP);
	ap->hrd = cpu_to_be16(ARP_HRD_ETHER);
	ap->pro = cpu_to_be16(ETH_P_IP);
	ap->hln = ETH_ALEN;
	ap->pln = 4;
	ap->op = cpu_to_be16(op);
	memcpy(ap->sha, s->drv.mac, ETH_ALEN);
	ap->spa = cpu_to_be32(s->ip);
	/* RFC 826: a request's target hardware address is unknown; send zeros. */
	if (op == ARP_OP_REPLY)
		memcpy(ap->tha, dst_mac, ETH_ALEN);
	ap->tpa = cpu_to_be32(tpa);
	if (net_transmit(s, frame, sizeof(frame)) == 0) {
		if (op == ARP_OP_REQUEST)
			s->stats.arp_requests_sent++;
		else
			s->stats.arp_replies_sent++;
	}
}

/* Remove queued frame i, keeping the others oldest first. */
static void arpq_remove(struct net_stack *s, u32 i)
{
	s->nr_arpq--;
	for (; i < s->nr_arpq; i++) {
		s->arpq[i].next_hop = s->arpq[i + 1].next_hop;
		s->arpq[i].len = s->arpq[i + 1].len;
		memcpy(s->arpq[i].frame, s->arpq[i + 1].frame, s->arpq[i + 1].len);
	}
}

/* Send the queued frames for e, now resolved; a busy driver keeps them for the next poll. */
static void arpq_flush(struct net_stack *s, const struct arp_entry *e)
{
	for (u32 i = 0; i < s->nr_arpq;) {
		struct arp_queued *q = &s->arpq[i];

		if (q->next_hop != e->ip) {
			i++;
			continue;
		}
		memcpy(q->frame, e->mac, ETH_ALEN);
		if (net_transmit(s, q->frame, q->len) == -EBUSY)
			return;
		arpq_remove(s, i);
	}
}

/* Drop the queued frames for ip: it did not answer. */
static void arpq_drop(struct net_stack *s, u32 ip)
{
	for (u32 i = 0; i < s->nr_arpq;) {
		if (s->arpq[i].next_hop == ip) {
			NET_DROP(s, arp_unresolved);
			arpq_remove(s, i);
		} else {
			i++;
		}
	}
}

/* Record ip -> mac as just confirmed and send what waited for it. */
static void arp_learn(struct net_stack *s, struct arp_entry *e, const u8 *mac)
{
	memcpy(e->mac, mac, ETH_ALEN);
	e->state = ARP_VALID;
	e->tries = 0;
	e->refresh = false;
	e->expires_at = s->now + ARP_TTL_MS;
	arpq_flush(s, e);
}

/* RFC 826 "Packet Reception": merge the sender, add it if we are the target, answer requests. */
void arp_input(struct net_stack *s, const u8 *pkt, size_t len)
{
	const struct arp_pkt *ap = (const struct arp_pkt *)pkt;
	struct arp_entry *e;
	u32 spa, tpa;
	u16 op;

	if (len < sizeof(*ap)) {
		NET_DROP(s, arp_short);
		return;
	}
	op = be16_to_cpu(ap->op);
	if (be16_to_cpu(ap->hrd) != ARP_HRD_ETHER || be16_to_cpu(ap->pro) != ETH_P_IP ||
	    ap->hln != ETH_ALEN || ap->pln != 4 || (op != ARP_OP_REQUEST && op != ARP_OP_REPLY)) {
		NET_DROP(s, arp_bad_format);
		return;
	}
	if (!s->configured) {
		NET_DROP(s, arp_not_for_us);
		return;
	}
	spa = be32_to_cpu(ap->spa);
	tpa = be32_to_cpu(ap->tpa);
	/* A multicast sender address, or one claiming our IPv4 address, is never learnt. */
	if ((ap->sha[0] & 1) || spa == s->ip || spa == IPV4_BROADCAST) {
		NET_DROP(s, arp_bad_sender);
		return;
	}
	e = spa ? arp_find(s, spa) : NULL;
	if (e)
		arp_learn(s, e, ap->sha);
	if (tpa != s->ip) {
		if (!e)
			NET_DROP(s, arp_not_for_us);
		return;
	}
	/* spa 0 is an RFC 5227 probe: answer it, learn nothing. */
	if (!e && spa && (e = arp_alloc(s, spa)))
		arp_learn(s, e, ap->sha);
	if (op == ARP_OP_REQUEST)
		arp_send(s, ARP_OP_REPLY, ap->sha, spa);
	else
		s->stats.arp_replies_received++;
}

/* Hold a copy of frame until next_hop resolves; NET_QUEUED or -ENOSPC. */
static int arpq_add(struct net_stack *s, u32 next_hop, const u8 *frame, size_t len)
{
	struct arp_queued *q;

	if (s->nr_arpq == NET_ARP_QUEUE) {
		NET_DROP(s, arp_queue_full);
		return -ENOSPC;
	}
	q = &s->arpq[s->nr_arpq++];
	q->next_hop = next_hop;
	q->len = (u16)len;
	memcpy(q->frame, frame, len);
	s->stats.arp_queued++;
	return NET_QUEUED;
}

/*
 * Send frame (Ethernet header filled but for the destination) to next_hop:
 * 0 sent, NET_QUEUED held for ARP, or -errno (-EBUSY: the driver's ring is full).
 */
int arp_output(struct net_stack *s, u32 next_hop, u8 *frame, size_t len)
{
	struct arp_entry *e;
	int rc;

	if (next_hop == IPV4_BROADCAST) {
		memset(frame, 0xff, ETH_ALEN);
		return net_transmit(s, frame, len);
	}
	e = arp_find(s, next_hop);
	if (e && e->state == ARP_VALID && s->now >= e->expires_at) {
		e->state = ARP_PENDING;
		e->tries = 0;
	}
	if (e && e->state == ARP_VALID) {
		if (!e->refresh && s->now + ARP_REFRESH_MS >= e->expires_at) {
			e->refresh = true;
			e->tries = 1;
			e->retry_at = s->now + ARP_RETRY_MS;
			arp_send(s, ARP_OP_REQUEST, e->mac, next_hop);
		}
		memcpy(frame, e->mac, ETH_ALEN);
		return net_transmit(s, frame, len);
	}
	if (!e) {
		e = arp_alloc(s, next_hop);
		if (!e)
			return -ENOSPC;
		e->state = ARP_PENDING;
	}
	rc = arpq_add(s, next_hop, frame, len);
	if (e->tries == 0) {
		e->tries = 1;
		e->retry_at = s->now + ARP_RETRY_MS;
		arp_send(s, ARP_OP_REQUEST, NULL, next_hop);
	}
	return rc;
}

/* Retry, expire and flush: called from net_poll(). */
void arp_poll(struct net_stack *s)
{
	for (u32 i = 0; i < NET_ARP_ENTRIES; i++) {
		struct arp_entry *e = &s->arp[i];

		if (e->state == ARP_VALID && s->now >= e->expires_at) {
			e->state = ARP_FREE;
		} else if (e->state == ARP_VALID && e->refresh && s->now >= e->retry_at) {
			if (e->tries < ARP_TRIES) {
				e->tries++;
				e->retry_at = s->now + ARP_RETRY_MS;
				arp_send(s, ARP_OP_REQUEST, e->mac, e->ip);
			}
		} else if (e->state == ARP_PENDING && s->now >= e->retry_at) {
			if (e->tries >= ARP_TRIES) {
				pr_debug("net: arp: no answer from " IP_FMT "\n", IP_ARGS(e->ip));
				arpq_drop(s, e->ip);
				e->state = ARP_FREE;
				continue;
			}
			e->tries++;
			e->retry_at = s->now + ARP_RETRY_MS;
			arp_send(s, ARP_OP_REQUEST, NULL, e->ip);
		}
		if (e->state == ARP_VALID)
			arpq_flush(s, e);
	}
}

/* Forget every entry and queued frame (the address changed or went away). */
void arp_flush(struct net_stack *s)
{
	memset(s->arp, 0, sizeof(s->arp));
	s->nr_arpq = 0;
}
