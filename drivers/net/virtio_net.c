/*
 * Virtio-net driver (VIRTIO 1.2, 5.1) over the modern PCI transport,
 * polled: every MSI-X vector stays VIRTIO_MSI_NO_VECTOR, the rings ask for
 * no interrupts, and the service CPU calls receive(). One receive and one
 * transmit queue; each descriptor owns one 2 KiB buffer of the driver's
 * block, so frames are copied in and out behind the 12-byte header.
 *
 * The initialisation follows 3.1.1: reset, ACKNOWLEDGE, DRIVER, features,
 * FEATURES_OK (checked), queues, DRIVER_OK. What the device reports (queue
 * sizes, notify offsets, used-ring entries, lengths) is checked before use;
 * a device that breaks the ring protocol is marked FAILED and its link
 * reported down, never followed.
 */
#include <asm/io.h>
#include <asm/lapic.h>
#include <asm/paging.h>
#include <hv/errno.h>
#include <hv/kernel.h>
#include <hv/log.h>
#include <hv/string.h>
#include <net/netdev.h>
#include <net/virtio_net.h>
#include <pci/pci.h>
#include <virtio/virtio_drv.h>

#define VNET_RESET_TIMEOUT_US 100000
#define VNET_POLL_STEP_US     10
#define VNET_CFG_TRIES	      16 /* config generation changes before giving up (4.1.4.3.1) */
#define VNET_HDR_LEN	      VIRTIO_NET_HDR_LEN
#define VNET_FRAME_MIN	      14   /* an Ethernet header */
#define VNET_FRAME_MAX	      1518 /* 1500 + header + one VLAN tag, without FCS */

struct vnet_queue {
	struct vring_drv ring;
	u8 *buf;    /* VIRTIO_NET_BUF_SIZE per descriptor */
	u64 notify; /* where to write the queue index */
	u16 index;  /* VIRTIO_NET_RXQ or VIRTIO_NET_TXQ */
};

struct vnet {
	struct netdev nd;
	const struct pci_dev *pdev;
	struct virtio_drv_caps caps;
	struct vnet_queue rx, tx;
	u16 tx_free[VIRTIO_NET_QUEUE_MAX]; /* TX descriptors the driver holds */
	u16 nr_tx_free;
	u64 features;
	bool failed; /* the device broke the protocol: link reported down */
};

/* One block: state, then per queue three ring pages, then the buffers. */
#define VNET_RING_OFF(q, part) ((1 + 3 * (q) + (part)) * PAGE_SIZE)
#define VNET_BUF_OFF	       (7 * PAGE_SIZE)
#define VNET_QUEUE_BUF_BYTES   (VIRTIO_NET_QUEUE_MAX * VIRTIO_NET_BUF_SIZE)
#define VNET_MEM_SIZE	       (VNET_BUF_OFF + 2 * VNET_QUEUE_BUF_BYTES)
_Static_assert(sizeof(struct vnet) <= PAGE_SIZE, "state fits its page");
_Static_assert(VRING_DRV_DESC_BYTES(VIRTIO_NET_QUEUE_MAX) <= PAGE_SIZE, "descriptors fit");
_Static_assert(VRING_DRV_USED_BYTES(VIRTIO_NET_QUEUE_MAX) <= PAGE_SIZE, "used ring fits");
_Static_assert(VIRTIO_NET_QUEUE_MAX <= VRING_DRV_MAX, "ring bookkeeping covers the queue");
_Static_assert(VNET_HDR_LEN + VNET_FRAME_MAX <= VIRTIO_NET_BUF_SIZE, "a frame fits a buffer");

static u64 common(struct vnet *v, u32 off)
{
	return v->caps.common + off;
}

static u8 status_get(struct vnet *v)
{
	return mmio_read8(common(v, VIRTIO_PCI_COMMON_STATUS));
}

static void status_set(struct vnet *v, u8 s)
{
	mmio_write8(common(v, VIRTIO_PCI_COMMON_STATUS), s);
}

/* Tell the device to stop: FAILED (2.1.1), which a reset clears. */
static void vnet_fail(struct vnet *v)
{
	status_set(v, status_get(v) | VIRTIO_STATUS_FAILED);
	v->failed = true;
}

/* Writing 0 resets the device; it reads 0 once the reset is done (4.1.4.3.2). */
static int vnet_reset(struct vnet *v)
{
	status_set(v, 0);
	for (u32 t = 0; status_get(v); t += VNET_POLL_STEP_US) {
		if (t >= VNET_RESET_TIMEOUT_US)
			return -ETIMEDOUT;
		udelay(VNET_POLL_STEP_US);
	}
	return 0;
}

static u64 features_get(struct vnet *v)
{
	u64 lo, hi;

	mmio_write32(common(v, VIRTIO_PCI_COMMON_DFSELECT), 0);
	lo = mmio_read32(common(v, VIRTIO_PCI_COMMON_DF));
	mmio_write32(common(v, VIRTIO_PCI_COMMON_DFSELECT), 1);
	hi = mmio_read32(common(v, VIRTIO_PCI_COMMON_DF));
	return lo | hi << 32;
}

static void features_set(struct vnet *v, u64 f)
{
	mmio_write32(common(v, VIRTIO_PCI_COMMON_GFSELECT), 0);
	mmio_write32(common(v, VIRTIO_PCI_COMMON_GF), (u32)f);
	mmio_write32(common(v, VIRTIO_PCI_COMMON_GFSELECT), 1);
	mmio_write32(common(v, VIRTIO_PCI_COMMON_GF), f >> 32);
}

/* 3.1.1 steps 1-6: reset, ACKNOWLEDGE, DRIVER, features, FEATURES_OK read back. */
static int vnet_negotiate(struct vnet *v, const char **why)
{
	u64 want = BIT(VIRTIO_F_VERSION_1) | BIT(VIRTIO_NET_F_MAC) | BIT(VIRTIO_NET_F_STATUS);
	u64 need = BIT(VIRTIO_F_VERSION_1) | BIT(VIRTIO_NET_F_MAC);
	int err;

	if (vnet_reset(v)) {
		*why = "the device never finished its reset (device_status did not read back 0)";
		return -ETIMEDOUT;
	}
	status_set(v, VIRTIO_STATUS_ACKNOWLEDGE);
	status_set(v, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	err = virtio_drv_features(features_get(v), want, need, &v->features, why);
	if (err)
		return err;
	features_set(v, v->features);
	status_set(v, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
	if (!(status_get(v) & VIRTIO_STATUS_FEATURES_OK)) {
		*why = "the device refused the features (FEATURES_OK did not stay set)";
		return -EIO;
	}
	return 0;
}

/* The notification address of the selected queue, checked against the notify structure. */
static int vnet_notify_addr(struct vnet *v, struct vnet_queue *q, const char **why)
{
	u64 off = (u64)mmio_read16(common(v, VIRTIO_PCI_COMMON_Q_NOFF)) * v->caps.notify_mult;

	if (off + VIRTIO_DRV_NOTIFY_MIN > v->caps.notify_len) {
		*why = "a queue's notification address lies outside the notify structure";
		return -EINVAL;
	}
	q->notify = v->caps.notify + off;
	return 0;
}

/* 4.1.5.1.3: size, vector, ring addresses and notify offset of queue q, then enable it. */
static int vnet_queue_setup(struct vnet *v, struct vnet_queue *q, u64 base, const char **why)
{
	u64 desc = base + VNET_RING_OFF(q->index, 0), avail = base + VNET_RING_OFF(q->index, 1);
	u64 used = base + VNET_RING_OFF(q->index, 2);
	u16 size;
	int err;

	mmio_write16(common(v, VIRTIO_PCI_COMMON_Q_SELECT), q->index);
	err = virtio_drv_queue_size(mmio_read16(common(v, VIRTIO_PCI_COMMON_Q_SIZE)),
				    VIRTIO_NET_QUEUE_MAX, VIRTIO_NET_QUEUE_MIN, &size, why);
	if (!err)
		err = vnet_notify_addr(v, q, why);
	if (err)
		return err;
	vring_drv_init(&q->ring, size, (void *)(uintptr_t)desc, (void *)(uintptr_t)avail,
		       (void *)(uintptr_t)used);
	mmio_write16(common(v, VIRTIO_PCI_COMMON_Q_SIZE), size);
	mmio_write16(common(v, VIRTIO_PCI_COMMON_Q_MSIX), VIRTIO_MSI_NO_VECTOR);
	mmio_write64(common(v, VIRTIO_PCI_COMMON_Q_DESC), desc);
	mmio_write64(common(v, VIRTIO_PCI_COMMON_Q_DRIVER), avail);
	mmio_write64(common(v, VIRTIO_PCI_COMMON_Q_DEVICE), used);
	mmio_write16(common(v, VIRTIO_PCI_COMMON_Q_ENABLE), 1);
	return 0;
}

/* Device configuration bytes [off, off+len), consistent per the generation counter (4.1.4.3.1). */
static int vnet_config_read(struct vnet *v, u32 off, u8 *out, u32 len)
{
	if (off + len > v->caps.device_len)
		return -EINVAL;
	for (u32 tries = 0; tries < VNET_CFG_TRIES; tries++) {
		u8 gen = mmio_read8(common(v, VIRTIO_PCI_COMMON_CFGGENERATION));

		for (u32 i = 0; i < len; i++)
			out[i] = mmio_read8(v->caps.device + off + i);
		if (gen == mmio_read8(common(v, VIRTIO_PCI_COMMON_CFGGENERATION)))
			return 0;
	}
	return -EIO;
}

static int vnet_read_mac(struct vnet *v, const char **why)
{
	const u8 *m = v->nd.mac;

	if (vnet_config_read(v, VIRTIO_NET_CFG_MAC, v->nd.mac, ETH_ALEN)) {
		*why = "the MAC could not be read from the device configuration";
		return -EIO;
	}
	if (m[0] & 1 || !(m[0] | m[1] | m[2] | m[3] | m[4] | m[5])) {
		*why = "the device's MAC is multicast or zero";
		return -EINVAL;
	}
	return 0;
}

/* Notify the device of new buffers on q, unless it said it does not need to be. */
static void vnet_kick(struct vnet_queue *q)
{
	if (vring_drv_needs_kick(&q->ring))
		mmio_write16(q->notify, q->index);
}

/* Every RX descriptor gets its buffer and goes to the device; every TX one stays ours. */
static void vnet_fill(struct vnet *v)
{
	for (u16 i = 0; i < v->rx.ring.size; i++) {
		vring_drv_set(&v->rx.ring, i, (u64)(uintptr_t)(v->rx.buf + i * VIRTIO_NET_BUF_SIZE),
			      VIRTIO_NET_BUF_SIZE, VIRTQ_DESC_F_WRITE);
		vring_drv_post(&v->rx.ring, i);
	}
	for (u16 i = 0; i < v->tx.ring.size; i++)
		v->tx_free[i] = i;
	v->nr_tx_free = v->tx.ring.size;
}

/* A ring the device broke: say so once, stop the device, report the link down from now on. */
static void vnet_broken(struct vnet *v, const char *which)
{
	if (v->failed)
		return;
	pr_warn("virtio-net: the device broke the %s ring (bad used index or id): stopped", which);
	vnet_fail(v);
}

/* Take back every TX descriptor the device has finished. */
static int vnet_tx_reclaim(struct vnet *v)
{
	u16 id;
	u32 len;
	int r;

	while ((r = vring_drv_take(&v->tx.ring, &id, &len)) > 0)
		v->tx_free[v->nr_tx_free++] = id;
	if (r < 0)
		vnet_broken(v, "transmit");
	return r;
}

static int vnet_transmit(struct netdev *nd, const void *frame, size_t len)
{
	struct vnet *v = nd->priv;
	u16 id;
	u8 *b;

	if (!frame || len < VNET_FRAME_MIN || len > VNET_FRAME_MAX)
		return -EINVAL;
	if (v->failed || vnet_tx_reclaim(v) < 0)
		return -EIO;
	if (!v->nr_tx_free) {
		nd->tx_busy++;
		return -EBUSY;
	}
	id = v->tx_free[--v->nr_tx_free];
	b = v->tx.buf + id * VIRTIO_NET_BUF_SIZE;
	memset(b, 0, VNET_HDR_LEN); /* no checksum offload, no GSO */
	memcpy(b + VNET_HDR_LEN, frame, len);
	vring_drv_set(&v->tx.ring, id, (u64)(uintptr_t)b, VNET_HDR_LEN + len, 0);
	vring_drv_post(&v->tx.ring, id);
	vnet_kick(&v->tx);
	nd->tx_frames++;
	return 0;
}

/*
 * Copy the frame in RX descriptor id (len bytes written, header included)
 * to buf: its length, 0 when dropped (a length no frame has), -EOVERFLOW
 * when buf is too small (dropped too).
 */
static long vnet_rx_take(struct vnet *v, u16 id, u32 len, void *buf, size_t buf_len)
{
	u32 n = len - VNET_HDR_LEN;

	if (len < VNET_HDR_LEN + VNET_FRAME_MIN || len > VIRTIO_NET_BUF_SIZE) {
		v->nd.rx_dropped++;
		return 0;
	}
	if (n > buf_len) {
		v->nd.rx_dropped++;
		return -EOVERFLOW;
	}
	memcpy(buf, v->rx.buf + id * VIRTIO_NET_BUF_SIZE + VNET_HDR_LEN, n);
	v->nd.rx_frames++;
	return n;
}

static long vnet_receive(struct netdev *nd, void *buf, size_t len)
{
	struct vnet *v = nd->priv;
	u16 id;
	u32 got;
	long r;

	/* At most one lap: dropped frames are skipped, a flood cannot loop forever. */
	for (u32 n = 0; n < v->rx.ring.size && !v->failed; n++) {
		int t = vring_drv_take(&v->rx.ring, &id, &got);

		if (t < 0) {
			vnet_broken(v, "receive");
			return -EIO;
		}
		if (!t)
			return 0;
		r = vnet_rx_take(v, id, got, buf, len);
		vring_drv_post(&v->rx.ring, id); /* the buffer goes straight back */
		vnet_kick(&v->rx);
		if (r)
			return r;
	}
	return 0;
}

/* Up unless the device failed or needs a reset; with VIRTIO_NET_F_STATUS, as it reports. */
static bool vnet_link_up(struct netdev *nd)
{
	struct vnet *v = nd->priv;
	u8 st[2];

	if (v->failed || (status_get(v) & VIRTIO_STATUS_DEVICE_NEEDS_RESET))
		return false;
	if (!(v->features & BIT(VIRTIO_NET_F_STATUS)))
		return true;
	if (vnet_config_read(v, VIRTIO_NET_CFG_STATUS, st, sizeof(st)))
		return false;
	return st[0] & VIRTIO_NET_S_LINK_UP;
}

static void vnet_detach(struct netdev *nd)
{
	struct vnet *v = nd->priv;
	const struct pci_dev *pdev = v->pdev;

	vnet_reset(v); /* the device lets go of the rings */
	pci_disable(pdev, PCI_COMMAND_MASTER_BIT);
	page_free((u64)(uintptr_t)v, VNET_MEM_SIZE);
}

static u16 subsystem_id(const struct pci_dev *pdev)
{
	return pdev->cfg->read32(pdev->cfg->ctx, pdev->bdf, PCI_SUBSYSTEM_ID & ~3u) >> 16;
}

bool virtio_net_match(const struct pci_dev *pdev)
{
	if (pdev->vendor != VIRTIO_PCI_VENDOR_ID)
		return false;
	return pdev->device == VIRTIO_NET_DEV_MODERN ||
	       (pdev->device == VIRTIO_NET_DEV_TRANSITIONAL &&
		subsystem_id(pdev) == VIRTIO_NET_PCI_SUBSYS_ID);
}

/* The state, rings and buffers carved out of one zeroed block at pa. */
static struct vnet *vnet_layout(u64 pa, const struct pci_dev *pdev)
{
	struct vnet *v = memset((void *)(uintptr_t)pa, 0, VNET_MEM_SIZE);

	v->pdev = pdev;
	v->rx.index = VIRTIO_NET_RXQ;
	v->tx.index = VIRTIO_NET_TXQ;
	v->rx.buf = (u8 *)(uintptr_t)(pa + VNET_BUF_OFF);
	v->tx.buf = v->rx.buf + VNET_QUEUE_BUF_BYTES;
	v->nd = (struct netdev){ .name = "virtio-net",
				 .transmit = vnet_transmit,
				 .receive = vnet_receive,
				 .link_up = vnet_link_up,
				 .detach = vnet_detach,
				 .priv = v };
	return v;
}

/* Map every BAR a virtio structure lives in. */
static void vnet_map(struct vnet *v)
{
	for (u32 i = 0; i < PCI_BARS_MAX; i++)
		if (v->caps.bars & BIT(i))
			paging_map_mmio(v->pdev->bar[i].base, v->pdev->bar[i].size);
}

/* 3.1.1 from the reset to DRIVER_OK; *why says what the device got wrong. */
static int vnet_start(struct vnet *v, u64 pa, const char **why)
{
	int err = vnet_negotiate(v, why);

	if (err)
		return err;
	if (mmio_read16(common(v, VIRTIO_PCI_COMMON_NUMQ)) < 2) {
		*why = "fewer than two queues";
		return -EINVAL;
	}
	err = vnet_queue_setup(v, &v->rx, pa, why);
	if (!err)
		err = vnet_queue_setup(v, &v->tx, pa, why);
	if (!err)
		err = vnet_read_mac(v, why);
	if (err)
		return err;
	vnet_fill(v);
	status_set(v, status_get(v) | VIRTIO_STATUS_DRIVER_OK);
	vnet_kick(&v->rx);
	return 0;
}

static void vnet_log(struct vnet *v)
{
	char mac[18];

	netdev_format_mac(v->nd.mac, mac, sizeof(mac));
	pr_info("virtio-net: %02x:%02x.%x %04x:%04x MAC %s, %u RX / %u TX descriptors of %u "
		"bytes, link %s",
		PCI_BDF_BUS(v->pdev->bdf), PCI_BDF_DEV(v->pdev->bdf), PCI_BDF_FN(v->pdev->bdf),
		v->pdev->vendor, v->pdev->device, mac, v->rx.ring.size, v->tx.ring.size,
		VIRTIO_NET_BUF_SIZE,
		v->features & BIT(VIRTIO_NET_F_STATUS) ? (vnet_link_up(&v->nd) ? "up" : "down")
						       : "assumed up (no STATUS feature)");
}

int virtio_net_attach(const struct pci_dev *pdev, struct netdev **out)
{
	const char *why = "";
	struct vnet *v;
	u64 pa;
	int err;

	pa = page_alloc_try(VNET_MEM_SIZE, PAGE_SIZE, 4 * GiB);
	if (!pa)
		return -ENOMEM;
	v = vnet_layout(pa, pdev);
	err = virtio_drv_find_caps(pdev, &v->caps, &why);
	if (err)
		goto err_free;
	vnet_map(v);
	err = pci_enable(pdev, PCI_COMMAND_MEMORY_BIT | PCI_COMMAND_MASTER_BIT);
	if (err)
		goto err_free;
	err = vnet_start(v, pa, &why);
	if (err)
		goto err_stop;
	vnet_log(v);
	*out = &v->nd;
	return 0;

err_stop:
	vnet_fail(v);
	vnet_reset(v); /* no DMA into the memory freed below */
	pci_disable(pdev, PCI_COMMAND_MASTER_BIT);
err_free:
	pr_warn("virtio-net: %02x:%02x.%x %04x:%04x refused: %s", PCI_BDF_BUS(pdev->bdf),
		PCI_BDF_DEV(pdev->bdf), PCI_BDF_FN(pdev->bdf), pdev->vendor, pdev->device, why);
	page_free(pa, VNET_MEM_SIZE);
	return err;
}
