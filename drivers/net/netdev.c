/*
 * NIC discovery: every PCI function is offered to each known driver in
 * order; the first one that sets up becomes the hypervisor's netdev.
 */
#include <hv/log.h>
#include <hv/printf.h>
#include <net/e1000.h>
#include <net/netdev.h>
#include <net/virtio_net.h>
#include <pci/pci.h>

static const struct netdev_driver netdev_drivers[] = {
	{ "e1000", e1000_match, e1000_attach },
	{ "virtio-net", virtio_net_match, virtio_net_attach },
};

void netdev_format_mac(const u8 mac[ETH_ALEN], char *buf, size_t len)
{
	snprintf(buf, len, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4],
		 mac[5]);
}

/* Offer one function to every driver; the attached netdev or NULL. */
static struct netdev *try_function(const struct pci_dev *pdev)
{
	struct netdev *nd;
	int err;

	for (u32 i = 0; i < ARRAY_SIZE(netdev_drivers); i++) {
		if (!netdev_drivers[i].match(pdev))
			continue;
		err = netdev_drivers[i].attach(pdev, &nd);
		if (!err)
			return nd;
		pr_warn("net: %s at %02x:%02x.%x failed to set up (error %d)",
			netdev_drivers[i].name, PCI_BDF_BUS(pdev->bdf), PCI_BDF_DEV(pdev->bdf),
			PCI_BDF_FN(pdev->bdf), err);
	}
	return NULL;
}

struct netdev *netdev_probe(void)
{
	const struct pci_list *list = pci_init();
	struct netdev *nd;

	for (u32 i = 0; i < list->nr; i++) {
		nd = try_function(&list->dev[i]);
		if (nd)
			return nd;
	}
	pr_info("net: no supported NIC among %u PCI functions (drivers: e1000 82540EM/82545EM, "
		"virtio-net)",
		list->nr);
	return NULL;
}
