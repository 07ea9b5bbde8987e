/*
 * The virtio-net device model (hv/virtio_net.h). Every ring entry and header
 * is the guest's: the walker bounds-checks the chains, this file checks
 * their direction, lengths and header fields before a byte is copied.
 */
#include <hv/errno.h>
#include <hv/string.h>
#include <hv/virtio_net.h>

static const u8 zero_mac[ETH_ALEN];

int virtio_net_init(struct virtio_net *n, const struct virtio_net_params *p)
{
	struct virtio_pci_params pp;
	u8 cfg[VIRTIO_NET_CFG_SIZE] = { 0 };

	if (!p || (p->mac[0] & 1) || !memcmp(p->mac, zero_mac, ETH_ALEN))
		return -EINVAL;
	memset(n, 0, sizeof(*n));
	memset(&pp, 0, sizeof(pp));
	memcpy(n->mac, p->mac, ETH_ALEN);
	memcpy(cfg, p->mac, ETH_ALEN);
	cfg[ETH_ALEN] = VIRTIO_NET_S_LINK_UP; /* le16 */
	pp.id.device_id = VIRTIO_NET_PCI_DEVICE_ID;
	pp.id.subsys_vendor = VIRTIO_PCI_VENDOR_ID;
	pp.id.subsys_id = VIRTIO_NET_PCI_SUBSYS_ID;
	pp.id.revision = VIRTIO_NET_PCI_REVISION;
	pp.id.class_code = VIRTIO_NET_PCI_CLASS;
	pp.features = BIT(VIRTIO_NET_F_MAC) | BIT(VIRTIO_NET_F_STATUS);
	pp.nr_queues = 2;
	pp.queue_max = VQ_MAX_SIZE;
	pp.devcfg = cfg;
	pp.devcfg_len = sizeof(cfg);
	pp.mem = p->mem;
	pp.msi = p->msi;
	pp.msi_ctx = p->msi_ctx;
	return virtio_pci_init(&n->pci, &pp);
}

void virtio_net_reset(struct virtio_net *n)
{
	virtio_pci_reset(&n->pci);
}

/* Complete chain head on queue q with written bytes; a broken ring needs a reset. */
static void complete(struct virtio_net *n, u16 q, u16 head, u32 written)
{
	struct virtqueue *vq = &n->pci.q[q].vq;

	if (vq_push(vq, head, written) == 0)
		virtio_pci_notify_queue(&n->pci, q);
	else if (vq->broken)
		virtio_pci_needs_reset(&n->pci);
}

/*
 * Pop the next chain of queue q into n->chain: 1, 0 for none, -EIO when
 * the queue is broken. Malformed chains are completed and counted in *bad.
 */
static int next_chain(struct virtio_net *n, u16 q, u64 *bad)
{
	struct virtqueue *vq = virtio_pci_queue_live(&n->pci, q);
	int rc;

	if (!vq)
		return 0;
	while ((rc = vq_pop(vq, &n->chain)) == -EINVAL) {
		(*bad)++;
		complete(n, q, n->chain.head, 0);
	}
	if (rc == -EIO)
		virtio_pci_needs_reset(&n->pci);
	return rc;
}

/*
 * A transmit chain is device-readable only (5.1.6.2), a header with no
 * offload asked for (we offer none), then one frame of ETH_HLEN to
 * ETH_FRAME_MAX bytes.
 */
static bool tx_chain_ok(const struct vq_chain *c)
{
	u8 hdr[VIRTIO_NET_HDR_LEN];
	u64 len = c->bytes_out - VIRTIO_NET_HDR_LEN;

	if (c->bytes_in || c->bytes_out < VIRTIO_NET_HDR_LEN + ETH_HLEN || len > ETH_FRAME_MAX)
		return false;
	vq_chain_copy(c, false, 0, hdr, sizeof(hdr), false);
	return !(hdr[0] & VIRTIO_NET_HDR_F_NEEDS_CSUM) && hdr[1] == VIRTIO_NET_HDR_GSO_NONE;
}

size_t virtio_net_tx(struct virtio_net *n, u8 *frame)
{
	const struct vq_chain *c = &n->chain;
	size_t len;

	while (next_chain(n, VIRTIO_NET_TXQ, &n->stats.tx_bad) > 0) {
		if (!tx_chain_ok(c)) {
			n->stats.tx_bad++;
			complete(n, VIRTIO_NET_TXQ, c->head, 0);
			continue;
		}
		len = (size_t)(c->bytes_out - VIRTIO_NET_HDR_LEN);
		vq_chain_copy(c, false, VIRTIO_NET_HDR_LEN, frame, len, false);
		complete(n, VIRTIO_NET_TXQ, c->head, 0);
		n->stats.tx_frames++;
		return len;
	}
	return 0;
}

/* A receive chain is device-writable only (5.1.6.3), else it is skipped. */
int virtio_net_rx(struct virtio_net *n, const u8 *frame, size_t len)
{
	const struct vq_chain *c = &n->chain;
	u8 hdr[VIRTIO_NET_HDR_LEN] = { 0 };
	int rc;

	if (len < ETH_HLEN || len > ETH_FRAME_MAX) {
		n->stats.rx_bad_frame++;
		return -EINVAL;
	}
	while ((rc = next_chain(n, VIRTIO_NET_RXQ, &n->stats.rx_bad_buffer)) > 0) {
		if (!c->bytes_out)
			break;
		n->stats.rx_bad_buffer++;
		complete(n, VIRTIO_NET_RXQ, c->head, 0);
	}
	if (rc < 0)
		return rc;
	if (rc == 0) {
		n->stats.rx_no_buffer++;
		return -ENOSPC;
	}
	if (c->bytes_in < VIRTIO_NET_HDR_LEN + len) {
		n->stats.rx_too_small++;
		complete(n, VIRTIO_NET_RXQ, c->head, 0);
		return -ENOSPC;
	}
	hdr[VIRTIO_NET_HDR_NUM_BUFS_OFF] = 1; /* le16: one buffer */
	vq_chain_copy(c, true, 0, hdr, sizeof(hdr), true);
	vq_chain_copy(c, true, VIRTIO_NET_HDR_LEN, (void *)frame, len, true);
	complete(n, VIRTIO_NET_RXQ, c->head, (u32)(VIRTIO_NET_HDR_LEN + len));
	n->stats.rx_frames++;
	return 0;
}
