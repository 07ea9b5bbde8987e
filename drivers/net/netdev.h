/*
 * The hypervisor's own network interface: what a NIC driver (e1000,
 * e1000e, virtio-net) offers the network stack. Polled, no
 * interrupts: the service CPU calls receive() from its loop. Not reentrant:
 * one CPU at a time uses a netdev.
 */
#ifndef DRIVERS_NET_NETDEV_H
#define DRIVERS_NET_NETDEV_H

#include <hv/config.h>
#include <hv/net_proto.h> /* ETH_ALEN */
#include <hv/types.h>
#include <pci/pci.h>

struct netdev {
	const char *name; /* the driver: "e1000", "virtio-net" */
	u8 mac[ETH_ALEN];
	/* Queue one Ethernet frame without FCS (copied): 0, -EBUSY (ring full), -EINVAL (length). */
	int (*transmit)(struct netdev *d, const void *frame, size_t len);
	/* The next received frame into buf: its length, 0 if none, -errno (frame dropped). */
	long (*receive)(struct netdev *d, void *buf, size_t len);
	bool (*link_up)(struct netdev *d);
	/*
	 * Also receive unicast frames to mac (a bridged VSI's): 0 with an exact
	 * filter, 1 when the NIC had to go promiscuous, -errno. NULL: the NIC
	 * receives every unicast frame already (QEMU's virtio-net without a
	 * control queue).
	 */
	int (*add_rx_mac)(struct netdev *d, const u8 *mac);
	/* Stop the device (no DMA afterwards) and free the driver's memory; d is gone. */
	void (*detach)(struct netdev *d);
	void *priv; /* the driver's state */
	u64 rx_frames, tx_frames, rx_dropped, tx_busy;
};

/* A NIC driver: which PCI functions it runs, and how it sets one up. */
struct netdev_driver {
	const char *name;
	bool (*match)(const struct pci_dev *pdev);
	/* Set the function up; 0 and *out, or -errno with the device left quiet. */
	int (*attach)(const struct pci_dev *pdev, struct netdev **out);
};

/*
 * The first supported NIC found on PCI, set up; NULL if none, logged once
 * with every network controller found. Enumerates PCI once.
 */
struct netdev *netdev_probe(void);
/*
 * The NIC sel names (by PCI address or MAC; the first supported one when
 * sel is NULL or says CONFIG_NIC_FIRST), set up and logged as the one for
 * role ("storage"); NULL if it is absent or not one we drive (logged once,
 * with the configuration line and every network controller found). NICs
 * set up only to read their MAC are detached again.
 */
struct netdev *netdev_probe_for(const struct nic_config *sel, const char *role);
/* "52:54:00:12:34:56" into buf (at least 18 bytes). */
void netdev_format_mac(const u8 mac[ETH_ALEN], char *buf, size_t len);

#endif
