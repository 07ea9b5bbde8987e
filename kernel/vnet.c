/*
 * A VSI's network device: the virtio-net PCI function
 * (kernel/vdev/virtio_net.c) whose frames the service CPU hands to the
 * switch (kernel/netsw.c). The device exists from the start, with the MAC
 * of the configuration. vCPUs reach it through configuration space and its
 * BAR; the service CPU takes the frames the guest sent and fills its
 * receive buffers. One lock per device covers the device model.
 */
#include <asm/spinlock.h>
#include <hv/errno.h>
#include <hv/frame.h>
#include <hv/kernel.h>
#include <hv/log.h>
#include <hv/netsw.h>
#include <hv/string.h>
#include <hv/virtio_net.h>
#include <hv/vnet.h>
#include <hv/vsi.h>
#include <net/netdev.h>

struct vsi_net {
	spinlock_t lock;
	struct vsi *v;
	u64 resets_logged; /* needs-reset events already reported */
	struct virtio_net dev;
};

/* The guest broke a ring: the device waits for a reset; say so once per event. */
static void report_broken(struct vsi_net *n)
{
	if (n->dev.pci.stats.needs_reset == n->resets_logged)
		return;
	n->resets_logged = n->dev.pci.stats.needs_reset;
	pr_warn("vsi %s: its network device needs a reset: the guest broke a ring (%llu so far)",
		n->v->name, (unsigned long long)n->resets_logged);
}

static void *ram_map(void *ctx, u64 gpa, u64 len)
{
	return vsi_gpa_to_hva(ctx, gpa, len);
}

static void send_msi(void *ctx, u64 addr, u32 data)
{
	vsi_msi(ctx, addr, data);
}

int vnet_attach(struct vsi *v)
{
	struct virtio_net_params p;
	struct vsi_net *n;
	char mac[18];
	int err;

	if (!v->cfg->has_net)
		return 0;
	n = page_alloc_zeroed(sizeof(*n), PAGE_SIZE, 0);
	if (!n)
		return -ENOMEM;
	n->v = v;
	memset(&p, 0, sizeof(p));
	memcpy(p.mac, v->cfg->mac, ETH_ALEN);
	p.mem = (struct vq_mem){ ram_map, v };
	p.msi = send_msi;
	p.msi_ctx = v;
	err = virtio_net_init(&n->dev, &p);
	if (err) {
		pr_err("vsi %s: the network device refused its parameters (%d)", v->name, err);
		return err;
	}
	v->plat.net = n;
	netdev_format_mac(v->cfg->mac, mac, sizeof(mac));
	pr_info("vsi %s: network device at PCI 00:02.0 (virtio-net), MAC %s", v->name, mac);
	return netsw_attach(v, n);
}

size_t vnet_tx(struct vsi_net *n, u8 *frame)
{
	size_t len;

	spin_lock(&n->lock);
	len = virtio_net_tx(&n->dev, frame);
	report_broken(n);
	spin_unlock(&n->lock);
	return len;
}

int vnet_rx(struct vsi_net *n, const u8 *frame, size_t len)
{
	int rc;

	spin_lock(&n->lock);
	rc = virtio_net_rx(&n->dev, frame, len);
	report_broken(n);
	spin_unlock(&n->lock);
	return rc;
}

void vnet_stats(struct vsi_net *n, struct virtio_net_stats *out, struct virtio_pci_stats *pci,
		u8 *status)
{
	spin_lock(&n->lock);
	*out = n->dev.stats;
	*pci = n->dev.pci.stats;
	*status = n->dev.pci.status;
	spin_unlock(&n->lock);
}

u32 vnet_cfg_read(struct vsi_net *n, u32 reg, u32 size)
{
	u32 val;

	spin_lock(&n->lock);
	val = virtio_pci_cfg_read(&n->dev.pci, reg, size);
	spin_unlock(&n->lock);
	return val;
}

void vnet_cfg_write(struct vsi_net *n, u32 reg, u32 size, u32 val)
{
	bool kick;

	spin_lock(&n->lock);
	kick = virtio_pci_cfg_write(&n->dev.pci, reg, size, val);
	spin_unlock(&n->lock);
	if (kick)
		service_kick();
}

bool vnet_mmio(struct vsi_net *n, u64 gpa, u32 size, bool write, u64 *val)
{
	bool hit = false, kick = false;
	u64 base;

	spin_lock(&n->lock);
	base = virtio_pci_bar_base(&n->dev.pci);
	if (base && gpa >= base && gpa - base < VIRTIO_PCI_BAR_SIZE) {
		hit = true;
		if (write)
			kick = virtio_pci_bar_write(&n->dev.pci, gpa - base, size, *val);
		else
			*val = virtio_pci_bar_read(&n->dev.pci, gpa - base, size);
	}
	spin_unlock(&n->lock);
	if (kick)
		service_kick();
	return hit;
}

void vnet_reset(struct vsi_net *n)
{
	spin_lock(&n->lock);
	virtio_net_reset(&n->dev);
	spin_unlock(&n->lock);
}
