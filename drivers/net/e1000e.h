/*
 * Intel PCI Express Gigabit Ethernet controllers that keep the 8254x
 * register set and legacy descriptors (Intel 82574 GbE Controller Family
 * Datasheet, "82574 datasheet" below): what differs from e1000.h. The
 * 82574L (8086:10D3) is what QEMU's "-device e1000e" emulates. The I217 and
 * I219 (PCH-attached) need more (ULP exit, PHY workarounds): their IDs go in
 * e1000.c's model table only together with those quirks.
 */
#ifndef DRIVERS_NET_E1000E_H
#define DRIVERS_NET_E1000E_H

#define E1000E_DEV_82574L 0x10d3

/* CTRL (82574 datasheet 10.2.2.1): stop new master requests before a reset. */
#define E1000E_CTRL_GIO_MASTER_DISABLE_BIT (1ULL << 2)
/* STATUS (10.2.2.2): clears once no master request is pending. */
#define E1000E_STATUS_GIO_MASTER_EN_BIT (1ULL << 19)
/* EEC (10.2.2.3): the NVM has been read into the registers after a reset. */
#define E1000E_EEC_AUTO_RD_BIT (1ULL << 9)

/* EERD (10.2.2.5): the 82574 layout, not the 82540's. */
#define E1000E_EERD_START_BIT  (1ULL << 0)
#define E1000E_EERD_DONE_BIT   (1ULL << 1)
#define E1000E_EERD_ADDR_SHIFT 2
#define E1000E_EERD_DATA_SHIFT 16

#define E1000E_MASTER_DISABLE_US 10000 /* pending requests drain; Linux waits up to 80 ms */
#define E1000E_AUTO_RD_US	 10000 /* the NVM read after a reset */

#endif
