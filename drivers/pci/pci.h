/*
 * PCI (PCI Local Bus Specification 3.0, chapter 6: configuration space).
 *
 * The enumeration and BAR decoding in pci.c are portable: they reach
 * configuration space only through a struct pci_config, so host tests run
 * them against a fake one. conf1.c supplies the machine's accessor
 * (configuration mechanism #1, ports 0xCF8/0xCFC) and the hypervisor's
 * table of the functions found.
 */
#ifndef DRIVERS_PCI_H
#define DRIVERS_PCI_H

#include <hv/types.h>

/* A function's address: bus 15:8, device 7:3, function 2:0. */
#define PCI_BDF(bus, dev, fn) ((u32)(((bus) << 8) | ((dev) << 3) | (fn)))
#define PCI_BDF_BUS(bdf)      (((bdf) >> 8) & 0xff)
#define PCI_BDF_DEV(bdf)      (((bdf) >> 3) & 0x1f)
#define PCI_BDF_FN(bdf)	      ((bdf)&0x7)

#define PCI_BUSES	   256
#define PCI_DEVS_PER_BUS   32
#define PCI_FNS_PER_DEV	   8
#define PCI_CONFIG_SIZE	   256 /* what mechanism #1 reaches (no extended space) */
#define PCI_VENDOR_INVALID 0xffff

/* Configuration space header, common part (PCI 3.0 6.1, Figure 6-1). */
#define PCI_VENDOR_ID	  0x00
#define PCI_DEVICE_ID	  0x02
#define PCI_COMMAND	  0x04
#define PCI_STATUS	  0x06
#define PCI_REVISION_ID	  0x08
#define PCI_CLASS_PROG	  0x09 /* programming interface */
#define PCI_CLASS_DEVICE  0x0a /* sub-class */
#define PCI_CLASS_CODE	  0x0b /* base class */
#define PCI_HEADER_TYPE	  0x0e
#define PCI_BASE_ADDRESS0 0x10
#define PCI_SUBSYSTEM_ID  0x2e /* type 0 header */
#define PCI_CAP_PTR	  0x34 /* type 0 header, valid with PCI_STATUS_CAP_LIST_BIT */
#define PCI_INTERRUPT_PIN 0x3d
#define PCI_CAP_FIRST	  0x40 /* capabilities live after the 64-byte header */

/* Status register (PCI 3.0 6.2.3) and capability IDs (PCI Code and ID Assignment). */
#define PCI_STATUS_CAP_LIST_BIT (1ULL << 4)
#define PCI_CAP_ID_VNDR		0x09

/* Type 1 (PCI-to-PCI bridge) header, PCI-to-PCI Bridge Architecture 1.2 3.2. */
#define PCI_PRIMARY_BUS	    0x18
#define PCI_SECONDARY_BUS   0x19
#define PCI_SUBORDINATE_BUS 0x1a

#define PCI_HEADER_TYPE_MASK	0x7f
#define PCI_HEADER_TYPE_NORMAL	0x00
#define PCI_HEADER_TYPE_BRIDGE	0x01
#define PCI_HEADER_TYPE_CARDBUS 0x02
#define PCI_HEADER_MULTIFN_BIT	(1ULL << 7)
#define PCI_BARS_NORMAL		6
#define PCI_BARS_BRIDGE		2
#define PCI_BARS_CARDBUS	1
#define PCI_BARS_MAX		6

/* Command register (PCI 3.0 6.2.2). */
#define PCI_COMMAND_IO_BIT	     (1ULL << 0)
#define PCI_COMMAND_MEMORY_BIT	     (1ULL << 1)
#define PCI_COMMAND_MASTER_BIT	     (1ULL << 2)
#define PCI_COMMAND_INTX_DISABLE_BIT (1ULL << 10)

/* Base Address Registers (PCI 3.0 6.2.5.1). */
#define PCI_BAR_IO_BIT		 (1ULL << 0)
#define PCI_BAR_MEM_TYPE_SHIFT	 1
#define PCI_BAR_MEM_TYPE_MASK	 (0x3 << 1)
#define PCI_BAR_MEM_TYPE_32	 (0x0 << 1)
#define PCI_BAR_MEM_TYPE_1M	 (0x1 << 1) /* legacy "below 1 MiB": decoded as 32-bit */
#define PCI_BAR_MEM_TYPE_64	 (0x2 << 1)
#define PCI_BAR_MEM_PREFETCH_BIT (1ULL << 3)
#define PCI_BAR_IO_ADDR_MASK	 0xfffffffcU
#define PCI_BAR_MEM_ADDR_MASK	 0xfffffff0U

/* Base classes (PCI Code and ID Assignment 1.11). */
#define PCI_CLASS_NETWORK 0x02
#define PCI_CLASS_BRIDGE  0x06
#define PCI_SUBCLASS_HOST 0x00 /* with PCI_CLASS_BRIDGE: a host bridge */

/*
 * Access to configuration space: 32-bit registers at dword-aligned offsets
 * below PCI_CONFIG_SIZE. An absent function reads all-ones.
 */
struct pci_config {
	u32 (*read32)(void *ctx, u32 bdf, u16 off);
	void (*write32)(void *ctx, u32 bdf, u16 off, u32 v);
	void *ctx;
};

enum pci_bar_kind {
	PCI_BAR_NONE = 0, /* not implemented, or a reserved type */
	PCI_BAR_IO,
	PCI_BAR_MEM32,
	PCI_BAR_MEM64, /* its upper half is the next register, which has no entry of its own */
};

struct pci_bar {
	enum pci_bar_kind kind;
	bool prefetchable;
	u64 base; /* as the firmware assigned it; 0: unassigned */
	u64 size; /* bytes decoded, a power of two; 0 with PCI_BAR_NONE */
};

struct pci_dev {
	const struct pci_config *cfg; /* how this function's registers are reached */
	u32 bdf;
	u16 vendor, device;
	u8 class_code, subclass, prog_if, revision;
	u8 header_type; /* PCI_HEADER_TYPE_*, without the multi-function bit */
	u8 nr_bars;	/* register slots: 6, 2 or 1 by header type */
	struct pci_bar bar[PCI_BARS_MAX];
};

#define PCI_LIST_MAX 256

struct pci_list {
	u32 nr;	      /* entries in dev[] */
	u32 missed;   /* functions found beyond PCI_LIST_MAX */
	u32 nr_buses; /* buses with at least one function */
	u8 first_bus; /* the lowest such bus (meaningful when nr_buses > 0) */
	struct pci_dev dev[PCI_LIST_MAX];
};

/* Portable (pci.c). */

/* Kind of a BAR from its register value: I/O, 32- or 64-bit memory, or none (reserved type). */
enum pci_bar_kind pci_bar_kind(u32 lo);
/*
 * Decode a BAR from the value the firmware left (lo, and hi for the upper
 * half of a 64-bit BAR) and the values read back after writing all-ones
 * (probe_lo, probe_hi). hi and probe_hi are ignored unless lo is 64-bit.
 * The size is the lowest address bit that stuck at 0 after the all-ones
 * write (PCI 3.0 6.2.5.1); a BAR that keeps no address bit is PCI_BAR_NONE.
 */
void pci_bar_decode(u32 lo, u32 hi, u32 probe_lo, u32 probe_hi, struct pci_bar *bar);
/*
 * Find every function on every bus 0-255 (device 0-31, functions 1-7 only
 * where function 0 sets the multi-function bit) and decode its BARs, with
 * memory and I/O decoding off during each probe. Fills *list; returns the
 * number of functions found, or -ENOSPC when some did not fit (the table
 * holds the first PCI_LIST_MAX).
 */
int pci_scan(const struct pci_config *cfg, struct pci_list *list);
/* Set bits (PCI_COMMAND_*) in the function's command register; 0, or -EINVAL for other bits. */
int pci_enable(const struct pci_dev *d, u16 bits);
/* Clear bits (PCI_COMMAND_*) in the function's command register. */
void pci_disable(const struct pci_dev *d, u16 bits);
/* "00:02.0 8086:100e class 02.00.00 bar0 mem32 0xfeb80000 128K ..." for the log. */
void pci_describe(const struct pci_dev *d, char *buf, size_t len);

/* The machine (conf1.c). */

/*
 * Configuration mechanism #1 (PCI 3.0 3.2.2.3.2): any CPU, serialised by one
 * lock. off must be below PCI_CONFIG_SIZE and aligned to the access width;
 * other offsets read all-ones and write nothing.
 */
u32 pci_read32(u32 bdf, u16 off);
u16 pci_read16(u32 bdf, u16 off);
u8 pci_read8(u32 bdf, u16 off);
void pci_write32(u32 bdf, u16 off, u32 v);
void pci_write16(u32 bdf, u16 off, u16 v);
void pci_write8(u32 bdf, u16 off, u8 v);
/* The accessor above as a struct pci_config. */
extern const struct pci_config pci_conf1;
/* Enumerate once (later calls return the same table) and log what was found. One CPU at a time. */
const struct pci_list *pci_init(void);
/* The index-th function (from 0) with that vendor and device ID, or NULL. */
const struct pci_dev *pci_find(u16 vendor, u16 device, u32 index);

#endif
