/*
 * NIC discovery: every PCI function is offered to each known driver in
 * order; the first one that sets up becomes the hypervisor's netdev.
 */
#include <hv/log.h>
#include <hv/printf.h>
#include <hv/string.h>
#include <net/e1000.h>
#include <net/netdev.h>
#include <net/virtio_net.h>
#include <pci/pci.h>

/* What the drivers below run, for the "no NIC" message (docs/net.md lists the same). */
#define NETDEV_SUPPORTED                                                               \
	"8086:100e 82540EM, 8086:100f 82545EM, 8086:10d3 82574L, 1af4:1000/1af4:1041 " \
	"virtio-net"
#define NETDEV_DESCRIBE_MAX 384

static const struct netdev_driver netdev_drivers[] = {
	{ "e1000", e1000_match, e1000_attach }, /* 82540EM, 82545EM, 82574L (e1000e) */
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

/* "vvvv:dddd at bb:dd.f, ..." for every network controller in list, or "none". */
static void describe_network_controllers(const struct pci_list *list, char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = 0;
	for (u32 i = 0; i < list->nr && n < len; i++) {
		const struct pci_dev *d = &list->dev[i];

		if (d->class_code != PCI_CLASS_NETWORK)
			continue;
		n += snprintf(buf + n, len - n, "%s%04x:%04x at %02x:%02x.%x", n ? ", " : "",
			      d->vendor, d->device, PCI_BDF_BUS(d->bdf), PCI_BDF_DEV(d->bdf),
			      PCI_BDF_FN(d->bdf));
	}
	if (!buf[0])
		snprintf(buf, len, "none");
}

/* The function sel names, or NULL (by MAC: every supported one is attached to read it). */
static struct netdev *select_function(const struct pci_list *list, const struct nic_config *sel,
				      const struct pci_dev **at)
{
	struct netdev *nd;

	for (u32 i = 0; i < list->nr; i++) {
		*at = &list->dev[i];
		if (sel->by == CONFIG_NIC_BDF && list->dev[i].bdf != sel->bdf)
			continue;
		nd = try_function(&list->dev[i]);
		if (!nd)
			continue;
		if (sel->by != CONFIG_NIC_MAC || !memcmp(nd->mac, sel->mac, ETH_ALEN))
			return nd;
		nd->detach(nd); /* not the one: quiet it again */
	}
	return NULL;
}

static void log_choice(const struct pci_dev *d, const struct netdev *nd,
		       const struct nic_config *sel, const char *role)
{
	char mac[18];

	netdev_format_mac(nd->mac, mac, sizeof(mac));
	if (sel->by == CONFIG_NIC_FIRST)
		pr_info("net: NIC for %s: %s at %02x:%02x.%x, MAC %s (the first supported one)",
			role, nd->name, PCI_BDF_BUS(d->bdf), PCI_BDF_DEV(d->bdf),
			PCI_BDF_FN(d->bdf), mac);
	else
		pr_info("net: NIC for %s: %s at %02x:%02x.%x, MAC %s (%s_nic = %s, line %u)", role,
			nd->name, PCI_BDF_BUS(d->bdf), PCI_BDF_DEV(d->bdf), PCI_BDF_FN(d->bdf), mac,
			role, sel->text, sel->line);
}

struct netdev *netdev_probe_for(const struct nic_config *sel, const char *role)
{
	static const struct nic_config first = { .by = CONFIG_NIC_FIRST };
	const struct pci_list *list = pci_init();
	const struct pci_dev *at = NULL;
	char found[NETDEV_DESCRIBE_MAX];
	struct netdev *nd;

	sel = sel ? sel : &first;
	nd = select_function(list, sel, &at);
	if (nd) {
		log_choice(at, nd, sel, role);
		return nd;
	}
	describe_network_controllers(list, found, sizeof(found));
	if (sel->by == CONFIG_NIC_FIRST)
		pr_warn("net: no NIC we drive among %u PCI functions; network controllers found: "
			"%s (supported: %s)",
			list->nr, found, NETDEV_SUPPORTED);
	else
		pr_warn("net: %s_nic = %s (line %u): no NIC we drive there; network controllers "
			"found: %s (supported: %s)",
			role, sel->text, sel->line, found, NETDEV_SUPPORTED);
	return NULL;
}

struct netdev *netdev_probe(void)
{
	return netdev_probe_for(NULL, "the self-test");
}
