/*
 * Intel 8254x (82540EM, 82545EM) and 82574L driver, polled: interrupts stay masked and
 * the service CPU calls receive(). Legacy descriptors; one allocation holds
 * the state, both rings and a 2 KiB buffer per descriptor (frames are copied
 * in and out, so callers never hand the device their own memory).
 *
 * Ring ownership (8254x SDM chapter 3, the descriptor ring structures): the
 * device owns RX descriptors from RDH up to RDT-1 and TX descriptors from TDH
 * up to TDT-1; software owns the rest and moves the tail registers.
 *
 * The 82574L (PCI Express, "e1000e") keeps these registers and the legacy
 * descriptors; what differs is in e1000e.h and selected by the model table
 * below, where later parts (I217, I219) get their own quirk bits.
 */
#include <asm/io.h>
#include <asm/lapic.h>
#include <asm/paging.h>
#include <hv/errno.h>
#include <hv/kernel.h>
#include <hv/log.h>
#include <hv/string.h>
#include <net/e1000.h>
#include <net/e1000e.h>
#include <net/netdev.h>
#include <pci/pci.h>

#define E1000_QUIESCE_US       10000  /* after RX/TX off, before the global reset */
#define E1000_RESET_SETTLE_US  5000   /* after CTRL.RST, before the next register access */
#define E1000_RESET_TIMEOUT_US 100000 /* CTRL.RST self-clears; a device that keeps it is dead */
#define E1000_EERD_TIMEOUT_US  10000
#define E1000_POLL_STEP_US     10

/* Quirks of a model. */
#define E1000_Q_PCIE_BIT (1ULL << 0) /* GIO master disable before reset, NVM auto-read after */

struct e1000_model {
	u16 device;
	const char *name; /* the driver's name in the log and in struct netdev */
	u32 eerd_done;	  /* EERD layout: the done bit and the address shift */
	u8 eerd_addr_shift;
	u32 quirks; /* E1000_Q_* */
};

static const struct e1000_model e1000_models[] = {
	{ E1000_DEV_82540EM, "e1000", E1000_EERD_DONE_BIT, E1000_EERD_ADDR_SHIFT, 0 },
	{ E1000_DEV_82545EM_COP, "e1000", E1000_EERD_DONE_BIT, E1000_EERD_ADDR_SHIFT, 0 },
	{ E1000E_DEV_82574L, "e1000e", E1000E_EERD_DONE_BIT, E1000E_EERD_ADDR_SHIFT,
	  E1000_Q_PCIE_BIT },
};

struct e1000 {
	struct netdev nd;
	const struct e1000_model *model;
	const struct pci_dev *pdev;
	u64 regs; /* BAR0, mapped uncached */
	volatile struct e1000_rx_desc *rx;
	volatile struct e1000_tx_desc *tx;
	u8 *rx_buf, *tx_buf; /* E1000_BUF_SIZE per descriptor */
	u32 rx_next;	     /* the next RX descriptor the device completes */
	u32 tx_tail;	     /* the next TX descriptor to fill (= TDT) */
	u32 tx_clean;	     /* the oldest TX descriptor not yet seen done */
	bool rx_discard;     /* inside a frame spread over several buffers */
	u8 extra_mac[E1000_RAR_ENTRIES - 1][ETH_ALEN]; /* add_rx_mac(): RAR1.. */
	u32 nr_extra;
	bool promisc; /* the RARs ran out: every unicast frame is received */
};

/* One block: state page, RX ring page, TX ring page, then the buffers. */
#define E1000_RX_RING_OFF PAGE_SIZE
#define E1000_TX_RING_OFF (2 * PAGE_SIZE)
#define E1000_RX_BUF_OFF  (3 * PAGE_SIZE)
#define E1000_TX_BUF_OFF  (E1000_RX_BUF_OFF + E1000_RX_DESCS * E1000_BUF_SIZE)
#define E1000_MEM_SIZE	  (E1000_TX_BUF_OFF + E1000_TX_DESCS * E1000_BUF_SIZE)
_Static_assert(sizeof(struct e1000) <= PAGE_SIZE, "state fits its page");
_Static_assert(E1000_RX_DESCS * sizeof(struct e1000_rx_desc) <= PAGE_SIZE, "RX ring fits");
_Static_assert(E1000_TX_DESCS * sizeof(struct e1000_tx_desc) <= PAGE_SIZE, "TX ring fits");

/*
 * Descriptor and buffer stores are visible to the device before the tail
 * register write that hands them over: x86 does not reorder stores with
 * other stores, UC included (SDM Vol. 3 9.2.2); only the compiler must not.
 */
#define dma_barrier() asm volatile("" ::: "memory")

static u32 rd(struct e1000 *e, u32 reg)
{
	return mmio_read32(e->regs + reg);
}

static void wr(struct e1000 *e, u32 reg, u32 v)
{
	mmio_write32(e->regs + reg, v);
}

/* Poll reg until (value & mask) == want, for at most us microseconds. */
static bool e1000_poll(struct e1000 *e, u32 reg, u32 mask, u32 want, u32 us)
{
	for (u32 t = 0;; t += E1000_POLL_STEP_US) {
		if ((rd(e, reg) & mask) == want)
			return true;
		if (t >= us)
			return false;
		udelay(E1000_POLL_STEP_US);
	}
}

/*
 * PCI Express parts (82574 datasheet 4.6.1): stop new bus-master requests
 * and let pending ones drain before the reset. A device that never reports
 * them drained is reset anyway, as Linux does.
 */
static void e1000_pcie_master_disable(struct e1000 *e)
{
	if (!(e->model->quirks & E1000_Q_PCIE_BIT))
		return;
	wr(e, E1000_CTRL, rd(e, E1000_CTRL) | E1000E_CTRL_GIO_MASTER_DISABLE_BIT);
	if (!e1000_poll(e, E1000_STATUS, E1000E_STATUS_GIO_MASTER_EN_BIT, 0,
			E1000E_MASTER_DISABLE_US))
		pr_debug("%s: bus-master requests still pending before reset", e->model->name);
}

/* After the reset, PCI Express parts reload the MAC from the NVM: wait for that (EEC.AUTO_RD). */
static void e1000_pcie_auto_read(struct e1000 *e)
{
	if (!(e->model->quirks & E1000_Q_PCIE_BIT))
		return;
	if (!e1000_poll(e, E1000_EECD, E1000E_EEC_AUTO_RD_BIT, E1000E_EEC_AUTO_RD_BIT,
			E1000E_AUTO_RD_US))
		pr_debug("%s: NVM auto-read not reported done", e->model->name);
}

/*
 * Global reset (CTRL.RST, 8254x SDM 13.4.1): interrupts masked and RX/TX
 * stopped first so no DMA is in flight, then RST, which the device clears;
 * then the link set up for auto-negotiation. -EIO when the registers read
 * all-ones (no device behind the BAR), -ETIMEDOUT when RST never clears.
 */
static int e1000_reset(struct e1000 *e)
{
	u32 ctrl;

	if (rd(e, E1000_STATUS) == 0xffffffff)
		return -EIO;
	wr(e, E1000_IMC, 0xffffffff);
	wr(e, E1000_RCTL, 0);
	wr(e, E1000_TCTL, E1000_TCTL_PSP_BIT);
	rd(e, E1000_STATUS); /* flush the posted writes */
	udelay(E1000_QUIESCE_US);
	e1000_pcie_master_disable(e);
	wr(e, E1000_CTRL, rd(e, E1000_CTRL) | E1000_CTRL_RST_BIT);
	udelay(E1000_RESET_SETTLE_US);
	if (!e1000_poll(e, E1000_CTRL, E1000_CTRL_RST_BIT, 0, E1000_RESET_TIMEOUT_US))
		return -ETIMEDOUT;
	e1000_pcie_auto_read(e);
	wr(e, E1000_IMC, 0xffffffff);
	rd(e, E1000_ICR); /* clears every pending cause */
	/*
	 * The PHY auto-negotiates; the MAC takes speed from it (ASDE) with the link
	 * forced up (SLU). VME stays off: 802.1Q tags cross the rings in the frame,
	 * inserted and stripped in software (hv/vlan.h), the same on every NIC.
	 */
	ctrl = rd(e, E1000_CTRL);
	ctrl |= E1000_CTRL_SLU_BIT | E1000_CTRL_ASDE_BIT;
	ctrl &= ~(u32)(E1000_CTRL_LRST_BIT | E1000_CTRL_PHY_RST_BIT | E1000_CTRL_ILOS_BIT |
		       E1000_CTRL_FRCSPD_BIT | E1000_CTRL_FRCDPLX_BIT | E1000_CTRL_VME_BIT);
	wr(e, E1000_CTRL, ctrl);
	return 0;
}

/* One EEPROM word through EERD (8254x SDM 13.4.4, the model's layout); -ETIMEDOUT without DONE. */
static int e1000_eeprom_read(struct e1000 *e, u32 word, u16 *out)
{
	u32 done = e->model->eerd_done;

	wr(e, E1000_EERD, E1000_EERD_START_BIT | (word << e->model->eerd_addr_shift));
	if (!e1000_poll(e, E1000_EERD, done, done, E1000_EERD_TIMEOUT_US))
		return -ETIMEDOUT;
	*out = rd(e, E1000_EERD) >> E1000_EERD_DATA_SHIFT;
	return 0;
}

/* The MAC: RAL0/RAH0 as the reset loaded them from the EEPROM, else the EEPROM itself. */
static int e1000_read_mac(struct e1000 *e)
{
	u32 ral = rd(e, E1000_RAL(0)), rah = rd(e, E1000_RAH(0));
	u8 *mac = e->nd.mac;
	u16 w;
	int err;

	if (ral && (rah & E1000_RAH_AV_BIT)) {
		for (u32 i = 0; i < 4; i++)
			mac[i] = ral >> (8 * i);
		mac[4] = rah;
		mac[5] = rah >> 8;
	} else {
		for (u32 i = 0; i < 3; i++) {
			err = e1000_eeprom_read(e, E1000_EEPROM_MAC_WORD + i, &w);
			if (err)
				return err;
			mac[2 * i] = w & 0xff;
			mac[2 * i + 1] = w >> 8;
		}
	}
	if (mac[0] & 1 || !(mac[0] | mac[1] | mac[2] | mac[3] | mac[4] | mac[5]))
		return -EINVAL; /* multicast or zero: not a station address */
	return 0;
}

static void e1000_write_rar(struct e1000 *e, u32 i, const u8 *m)
{
	/* 8254x SDM 13.5.3: write an entry low then high, clear it high then low. */
	wr(e, E1000_RAL(i), m[0] | m[1] << 8 | m[2] << 16 | (u32)m[3] << 24);
	wr(e, E1000_RAH(i), m[4] | m[5] << 8 | (u32)E1000_RAH_AV_BIT);
}

/*
 * Address filters: our MAC in RAR0, the addresses add_rx_mac() was given in
 * the next RARs, the rest and the multicast table empty.
 */
static void e1000_setup_filters(struct e1000 *e)
{
	e1000_write_rar(e, 0, e->nd.mac);
	for (u32 i = 1; i < E1000_RAR_ENTRIES; i++) {
		if (i - 1 < e->nr_extra) {
			e1000_write_rar(e, i, e->extra_mac[i - 1]);
			continue;
		}
		wr(e, E1000_RAH(i), 0);
		wr(e, E1000_RAL(i), 0);
	}
	for (u32 i = 0; i < E1000_MTA_ENTRIES; i++)
		wr(e, E1000_MTA + 4 * i, 0);
}

/* RX ring (8254x SDM 14.4): every descriptor but one handed to the device, then RCTL.EN. */
static void e1000_setup_rx(struct e1000 *e)
{
	u64 ring = (u64)(uintptr_t)e->rx;

	for (u32 i = 0; i < E1000_RX_DESCS; i++) {
		e->rx[i].addr = (u64)(uintptr_t)(e->rx_buf + i * E1000_BUF_SIZE);
		e->rx[i].status = 0;
	}
	wr(e, E1000_RDBAL, (u32)ring);
	wr(e, E1000_RDBAH, ring >> 32);
	wr(e, E1000_RDLEN, E1000_RX_DESCS * sizeof(struct e1000_rx_desc));
	wr(e, E1000_RDH, 0);
	wr(e, E1000_RDT, E1000_RX_DESCS - 1);
	wr(e, E1000_RDTR, 0); /* no receive delay: nobody waits for an interrupt */
	wr(e, E1000_RADV, 0);
	e->rx_next = 0;
	e->rx_discard = false;
	/*
	 * Broadcasts accepted, CRC stripped, 2 KiB buffers, no long frames (LPE
	 * off); every unicast (UPE) once the address filters ran out. LPE off
	 * still takes frames of up to 1522 bytes with the FCS (8254x SDM
	 * 13.4.22), so a tagged 1518-byte frame arrives whole; VFE is off, so
	 * no VLAN is filtered out before the storage VLAN's demultiplexer.
	 */
	wr(e, E1000_RCTL,
	   E1000_RCTL_EN_BIT | E1000_RCTL_BAM_BIT | E1000_RCTL_SECRC_BIT | E1000_RCTL_BSIZE_2048 |
	       E1000_RCTL_RDMTS_HALF | (e->promisc ? E1000_RCTL_UPE_BIT : 0));
}

/*
 * Receive for mac too (a bridged VSI's address): 0 with an exact filter in
 * a free RAR, 1 when they are all taken and the NIC goes promiscuous (the
 * switch still delivers only what each port may get).
 */
static int e1000_add_rx_mac(struct netdev *d, const u8 *mac)
{
	struct e1000 *e = d->priv;

	if (e->nr_extra < ARRAY_SIZE(e->extra_mac)) {
		memcpy(e->extra_mac[e->nr_extra], mac, ETH_ALEN);
		e1000_write_rar(e, ++e->nr_extra, mac);
		return 0;
	}
	if (!e->promisc) {
		e->promisc = true;
		wr(e, E1000_RCTL, rd(e, E1000_RCTL) | E1000_RCTL_UPE_BIT);
	}
	return 1;
}

/* TX ring (8254x SDM 14.5): empty (TDH = TDT), then TCTL.EN with short packets padded. */
static void e1000_setup_tx(struct e1000 *e)
{
	u64 ring = (u64)(uintptr_t)e->tx;

	for (u32 i = 0; i < E1000_TX_DESCS; i++)
		e->tx[i].addr = (u64)(uintptr_t)(e->tx_buf + i * E1000_BUF_SIZE);
	wr(e, E1000_TDBAL, (u32)ring);
	wr(e, E1000_TDBAH, ring >> 32);
	wr(e, E1000_TDLEN, E1000_TX_DESCS * sizeof(struct e1000_tx_desc));
	wr(e, E1000_TDH, 0);
	wr(e, E1000_TDT, 0);
	wr(e, E1000_TIPG, E1000_TIPG_COPPER);
	wr(e, E1000_TIDV, 0);
	e->tx_tail = e->tx_clean = 0;
	wr(e, E1000_TCTL,
	   E1000_TCTL_EN_BIT | E1000_TCTL_PSP_BIT | E1000_TCTL_CT_DEFAULT << E1000_TCTL_CT_SHIFT |
	       E1000_TCTL_COLD_FULL << E1000_TCTL_COLD_SHIFT);
}

/* Advance tx_clean over the descriptors the device has finished (DD, set because of RS). */
static void e1000_tx_reclaim(struct e1000 *e)
{
	while (e->tx_clean != e->tx_tail && (e->tx[e->tx_clean].status & E1000_TXD_STAT_DD_BIT))
		e->tx_clean = (e->tx_clean + 1) % E1000_TX_DESCS;
}

static int e1000_transmit(struct netdev *nd, const void *frame, size_t len)
{
	struct e1000 *e = nd->priv;
	volatile struct e1000_tx_desc *d;
	u32 next;

	if (!frame || len < E1000_FRAME_MIN || len > E1000_FRAME_MAX)
		return -EINVAL;
	e1000_tx_reclaim(e);
	next = (e->tx_tail + 1) % E1000_TX_DESCS;
	if (next == e->tx_clean) {
		nd->tx_busy++;
		return -EBUSY; /* one slot stays empty: TDT == TDH means "ring empty" */
	}
	memcpy(e->tx_buf + e->tx_tail * E1000_BUF_SIZE, frame, len);
	d = &e->tx[e->tx_tail];
	d->length = len;
	d->cso = 0;
	d->css = 0;
	d->special = 0;
	d->status = 0;
	d->cmd = E1000_TXD_CMD_EOP_BIT | E1000_TXD_CMD_IFCS_BIT | E1000_TXD_CMD_RS_BIT;
	dma_barrier();
	e->tx_tail = next;
	wr(e, E1000_TDT, next);
	nd->tx_frames++;
	return 0;
}

/*
 * Judge the completed descriptor at rx_next: the frame's length once copied
 * into buf; 0 when it is dropped (error bits, or a piece of a frame spread
 * over several buffers, which only a device ignoring RCTL.LPE sends);
 * -EOVERFLOW when buf is too small (the frame is dropped too).
 */
static long e1000_rx_take(struct e1000 *e, u8 status, void *buf, size_t len)
{
	volatile struct e1000_rx_desc *d = &e->rx[e->rx_next];
	u16 n = d->length;

	if (!(status & E1000_RXD_STAT_EOP_BIT)) {
		if (!e->rx_discard)
			e->nd.rx_dropped++;
		e->rx_discard = true;
		return 0;
	}
	if (e->rx_discard) {
		e->rx_discard = false; /* the last piece */
		return 0;
	}
	if ((d->errors & E1000_RXD_ERR_FRAME) || n == 0 || n > E1000_BUF_SIZE) {
		e->nd.rx_dropped++;
		return 0;
	}
	if (n > len) {
		e->nd.rx_dropped++;
		return -EOVERFLOW;
	}
	memcpy(buf, e->rx_buf + e->rx_next * E1000_BUF_SIZE, n);
	e->nd.rx_frames++;
	return n;
}

/* Hand the descriptor at rx_next back: it becomes the one RDT keeps from the device. */
static void e1000_rx_recycle(struct e1000 *e)
{
	e->rx[e->rx_next].status = 0;
	dma_barrier();
	wr(e, E1000_RDT, e->rx_next);
	e->rx_next = (e->rx_next + 1) % E1000_RX_DESCS;
}

static long e1000_receive(struct netdev *nd, void *buf, size_t len)
{
	struct e1000 *e = nd->priv;
	long r;

	/* At most one lap: dropped descriptors are skipped, a full ring cannot loop forever. */
	for (u32 n = 0; n < E1000_RX_DESCS; n++) {
		u8 status = e->rx[e->rx_next].status;

		if (!(status & E1000_RXD_STAT_DD_BIT))
			return 0;
		dma_barrier(); /* the rest of the descriptor and the buffer after DD */
		r = e1000_rx_take(e, status, buf, len);
		e1000_rx_recycle(e);
		if (r)
			return r;
	}
	return 0;
}

static void e1000_detach(struct netdev *nd)
{
	struct e1000 *e = nd->priv;
	const struct pci_dev *pdev = e->pdev;

	e1000_reset(e); /* RX and TX off, interrupts masked */
	pci_disable(pdev, PCI_COMMAND_MASTER_BIT);
	page_free((u64)(uintptr_t)e, E1000_MEM_SIZE);
}

static bool e1000_link_up(struct netdev *nd)
{
	struct e1000 *e = nd->priv;

	return rd(e, E1000_STATUS) & E1000_STATUS_LU_BIT;
}

static const struct e1000_model *e1000_model(const struct pci_dev *pdev)
{
	if (pdev->vendor != E1000_VENDOR_INTEL)
		return NULL;
	for (u32 i = 0; i < ARRAY_SIZE(e1000_models); i++)
		if (e1000_models[i].device == pdev->device)
			return &e1000_models[i];
	return NULL;
}

bool e1000_match(const struct pci_dev *pdev)
{
	return e1000_model(pdev) != NULL;
}

/* The state, its rings and buffers carved out of one zeroed block at pa. */
static struct e1000 *e1000_layout(u64 pa, const struct pci_dev *pdev)
{
	struct e1000 *e = memset((void *)(uintptr_t)pa, 0, E1000_MEM_SIZE);

	e->pdev = pdev;
	e->model = e1000_model(pdev);
	e->regs = pdev->bar[0].base;
	e->rx = (volatile struct e1000_rx_desc *)(uintptr_t)(pa + E1000_RX_RING_OFF);
	e->tx = (volatile struct e1000_tx_desc *)(uintptr_t)(pa + E1000_TX_RING_OFF);
	e->rx_buf = (u8 *)(uintptr_t)(pa + E1000_RX_BUF_OFF);
	e->tx_buf = (u8 *)(uintptr_t)(pa + E1000_TX_BUF_OFF);
	e->nd = (struct netdev){ .name = e->model->name,
				 .transmit = e1000_transmit,
				 .receive = e1000_receive,
				 .link_up = e1000_link_up,
				 .add_rx_mac = e1000_add_rx_mac,
				 .detach = e1000_detach,
				 .priv = e };
	return e;
}

static void e1000_log(struct e1000 *e)
{
	static const char *const speeds[] = { "10", "100", "1000", "1000" };
	u32 status = rd(e, E1000_STATUS);
	char mac[18];

	netdev_format_mac(e->nd.mac, mac, sizeof(mac));
	pr_info("%s: %02x:%02x.%x %04x:%04x MAC %s, %u RX / %u TX descriptors of %u bytes",
		e->model->name, PCI_BDF_BUS(e->pdev->bdf), PCI_BDF_DEV(e->pdev->bdf),
		PCI_BDF_FN(e->pdev->bdf), e->pdev->vendor, e->pdev->device, mac, E1000_RX_DESCS,
		E1000_TX_DESCS, E1000_BUF_SIZE);
	if (status & E1000_STATUS_LU_BIT)
		pr_info("%s: link up, %s Mb/s %s duplex", e->model->name,
			speeds[(status & E1000_STATUS_SPEED_MASK) >> E1000_STATUS_SPEED_SHIFT],
			status & E1000_STATUS_FD_BIT ? "full" : "half");
	else
		pr_info("%s: link down (auto-negotiating)", e->model->name);
}

int e1000_attach(const struct pci_dev *pdev, struct netdev **out)
{
	const struct pci_bar *bar0 = &pdev->bar[0];
	struct e1000 *e;
	u64 pa;
	int err;

	if (!e1000_model(pdev))
		return -ENODEV;
	if ((bar0->kind != PCI_BAR_MEM32 && bar0->kind != PCI_BAR_MEM64) || !bar0->base ||
	    bar0->size < E1000_BAR0_SIZE) {
		pr_warn("%s: BAR0 is not an assigned %llu KiB memory BAR", e1000_model(pdev)->name,
			(unsigned long long)(E1000_BAR0_SIZE / KiB));
		return -ENODEV;
	}
	/* Below 4 GiB: descriptor addresses then fit any bus the function sits on. */
	pa = page_alloc_try(E1000_MEM_SIZE, PAGE_SIZE, 4 * GiB);
	if (!pa)
		return -ENOMEM;
	e = e1000_layout(pa, pdev);
	paging_map_mmio(bar0->base, bar0->size);
	err = pci_enable(pdev, PCI_COMMAND_MEMORY_BIT | PCI_COMMAND_MASTER_BIT);
	if (err)
		goto err_free;
	err = e1000_reset(e);
	if (err)
		goto err_disable;
	err = e1000_read_mac(e);
	if (err)
		goto err_disable;
	e1000_setup_filters(e);
	e1000_setup_rx(e);
	e1000_setup_tx(e);
	e1000_log(e);
	*out = &e->nd;
	return 0;

err_disable:
	pci_disable(pdev, PCI_COMMAND_MASTER_BIT); /* no DMA into the memory freed below */
err_free:
	page_free(pa, E1000_MEM_SIZE);
	return err;
}
