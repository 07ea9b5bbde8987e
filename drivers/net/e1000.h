/*
 * Intel 8254x Gigabit Ethernet controllers (PCI/PCI-X Family of Gigabit
 * Ethernet Controllers Software Developer's Manual, "8254x SDM" below):
 * register offsets and bits by their manual names, the legacy descriptor
 * formats, and the driver's entry points. The 82540EM (8086:100E) is what
 * QEMU's "-device e1000" and Bochs' "e1000:" emulate; the 82574L's differences
 * are in e1000e.h.
 */
#ifndef DRIVERS_NET_E1000_H
#define DRIVERS_NET_E1000_H

#include <hv/types.h>
#include <net/netdev.h>

#define E1000_VENDOR_INTEL    0x8086
#define E1000_DEV_82540EM     0x100e
#define E1000_DEV_82545EM_COP 0x100f

/* Register offsets in BAR0 (8254x SDM 13.1, Table 13-2). */
#define E1000_CTRL   0x0000
#define E1000_STATUS 0x0008
#define E1000_EECD   0x0010
#define E1000_EERD   0x0014
#define E1000_ICR    0x00c0
#define E1000_IMS    0x00d0
#define E1000_IMC    0x00d8
#define E1000_RCTL   0x0100
#define E1000_TCTL   0x0400
#define E1000_TIPG   0x0410
#define E1000_RDBAL  0x2800
#define E1000_RDBAH  0x2804
#define E1000_RDLEN  0x2808
#define E1000_RDH    0x2810
#define E1000_RDT    0x2818
#define E1000_RDTR   0x2820
#define E1000_RADV   0x282c
#define E1000_TDBAL  0x3800
#define E1000_TDBAH  0x3804
#define E1000_TDLEN  0x3808
#define E1000_TDH    0x3810
#define E1000_TDT    0x3818
#define E1000_TIDV   0x3820
#define E1000_MTA    0x5200 /* 128 dwords: the multicast table array */
#define E1000_RAL(n) (0x5400 + 8 * (n))
#define E1000_RAH(n) (0x5404 + 8 * (n))

#define E1000_RAH_AV_BIT (1ULL << 31) /* address valid (8254x SDM 13.5.3) */

#define E1000_BAR0_SIZE	  (128 * KiB)
#define E1000_MTA_ENTRIES 128
#define E1000_RAR_ENTRIES 16

/* CTRL (8254x SDM 13.4.1). */
#define E1000_CTRL_FD_BIT      (1ULL << 0)
#define E1000_CTRL_LRST_BIT    (1ULL << 3)
#define E1000_CTRL_ASDE_BIT    (1ULL << 5)
#define E1000_CTRL_SLU_BIT     (1ULL << 6)
#define E1000_CTRL_ILOS_BIT    (1ULL << 7)
#define E1000_CTRL_FRCSPD_BIT  (1ULL << 11)
#define E1000_CTRL_FRCDPLX_BIT (1ULL << 12)
#define E1000_CTRL_RST_BIT     (1ULL << 26)
#define E1000_CTRL_VME_BIT     (1ULL << 30)
#define E1000_CTRL_PHY_RST_BIT (1ULL << 31)

/* STATUS (8254x SDM 13.4.2). */
#define E1000_STATUS_FD_BIT	 (1ULL << 0)
#define E1000_STATUS_LU_BIT	 (1ULL << 1)
#define E1000_STATUS_SPEED_SHIFT 6
#define E1000_STATUS_SPEED_MASK	 (0x3 << 6) /* 00 10, 01 100, 1x 1000 Mb/s */

/* EERD (8254x SDM 13.4.4; the 82540EM/82545EM layout, not the 82541/82547 one). */
#define E1000_EERD_START_BIT  (1ULL << 0)
#define E1000_EERD_DONE_BIT   (1ULL << 4)
#define E1000_EERD_ADDR_SHIFT 8
#define E1000_EERD_DATA_SHIFT 16
#define E1000_EEPROM_MAC_WORD 0 /* words 0-2: the Ethernet address, low byte first */

/* RCTL (8254x SDM 13.4.22). */
#define E1000_RCTL_EN_BIT     (1ULL << 1)
#define E1000_RCTL_SBP_BIT    (1ULL << 2)
#define E1000_RCTL_UPE_BIT    (1ULL << 3)
#define E1000_RCTL_MPE_BIT    (1ULL << 4)
#define E1000_RCTL_LPE_BIT    (1ULL << 5)
#define E1000_RCTL_LBM_MASK   (0x3 << 6)
#define E1000_RCTL_RDMTS_HALF (0x0 << 8)
#define E1000_RCTL_BAM_BIT    (1ULL << 15)
#define E1000_RCTL_BSIZE_2048 (0x0 << 16) /* with BSEX = 0 */
#define E1000_RCTL_BSEX_BIT   (1ULL << 25)
#define E1000_RCTL_SECRC_BIT  (1ULL << 26)

/* TCTL (8254x SDM 13.4.33). */
#define E1000_TCTL_EN_BIT     (1ULL << 1)
#define E1000_TCTL_PSP_BIT    (1ULL << 3)
#define E1000_TCTL_CT_SHIFT   4
#define E1000_TCTL_COLD_SHIFT 12
#define E1000_TCTL_CT_DEFAULT 0x0f /* collision threshold, as the manual recommends */
#define E1000_TCTL_COLD_FULL  0x40 /* collision distance for full duplex (512 bit times) */

/* TIPG (8254x SDM 13.4.34), copper parts from the 82543 on: IPGT 8, IPGR1 8, IPGR2 6. */
#define E1000_TIPG_IPGR1_SHIFT 10
#define E1000_TIPG_IPGR2_SHIFT 20
#define E1000_TIPG_COPPER \
	((8U << 0) | (8U << E1000_TIPG_IPGR1_SHIFT) | (6U << E1000_TIPG_IPGR2_SHIFT))

/* Legacy receive descriptor (8254x SDM 3.2.3, Table 3-1). */
struct e1000_rx_desc {
	u64 addr;
	u16 length;
	u16 checksum;
	u8 status;
	u8 errors;
	u16 special;
} __packed;
_Static_assert(sizeof(struct e1000_rx_desc) == 16, "8254x SDM 3.2.3: 16-byte descriptor");

#define E1000_RXD_STAT_DD_BIT  (1ULL << 0) /* descriptor done */
#define E1000_RXD_STAT_EOP_BIT (1ULL << 1) /* end of packet */
/* RX errors (8254x SDM 3.2.3): CRC/alignment, symbol, sequence, carrier extension, RX data. */
#define E1000_RXD_ERR_CE_BIT  (1ULL << 0)
#define E1000_RXD_ERR_SE_BIT  (1ULL << 1)
#define E1000_RXD_ERR_SEQ_BIT (1ULL << 2)
#define E1000_RXD_ERR_CXE_BIT (1ULL << 4)
#define E1000_RXD_ERR_RXE_BIT (1ULL << 7)
#define E1000_RXD_ERR_FRAME                                                    \
	(E1000_RXD_ERR_CE_BIT | E1000_RXD_ERR_SE_BIT | E1000_RXD_ERR_SEQ_BIT | \
	 E1000_RXD_ERR_CXE_BIT | E1000_RXD_ERR_RXE_BIT)

/* Legacy transmit descriptor (8254x SDM 3.3.3, Table 3-8). */
struct e1000_tx_desc {
	u64 addr;
	u16 length;
	u8 cso;
	u8 cmd;
	u8 status;
	u8 css;
	u16 special;
} __packed;
_Static_assert(sizeof(struct e1000_tx_desc) == 16, "8254x SDM 3.3.3: 16-byte descriptor");

#define E1000_TXD_CMD_EOP_BIT  (1ULL << 0) /* end of packet */
#define E1000_TXD_CMD_IFCS_BIT (1ULL << 1) /* insert FCS */
#define E1000_TXD_CMD_RS_BIT   (1ULL << 3) /* report status: sets DD when done */
#define E1000_TXD_STAT_DD_BIT  (1ULL << 0)

/* Ring sizes: a ring's byte length must be a multiple of 128 (RDLEN, TDLEN: 13.4.27, 13.4.38). */
#define E1000_RX_DESCS	256
#define E1000_TX_DESCS	256
#define E1000_BUF_SIZE	2048 /* matches RCTL.BSIZE; one TX copy buffer per descriptor too */
#define E1000_FRAME_MAX 1518 /* without FCS: 1500 + header + one VLAN tag */
#define E1000_FRAME_MIN 14   /* an Ethernet header; PSP pads the rest to 64 on the wire */
_Static_assert(E1000_RX_DESCS * sizeof(struct e1000_rx_desc) % 128 == 0, "RDLEN granularity");
_Static_assert(E1000_TX_DESCS * sizeof(struct e1000_tx_desc) % 128 == 0, "TDLEN granularity");

/* True for the PCI functions this driver runs. */
bool e1000_match(const struct pci_dev *pdev);
/*
 * Reset the controller, read its MAC, set up both rings with interrupts
 * masked (the service CPU polls) and enable RX and TX. 0 and *out, or
 * -ENODEV (no usable BAR0), -ENOMEM, -ETIMEDOUT (stuck in reset, EEPROM
 * silent), -EIO (registers read all-ones), -EINVAL (no valid MAC).
 */
int e1000_attach(const struct pci_dev *pdev, struct netdev **out);

#endif
