/*
 * PCI configuration mechanism #1 (ports 0xCF8/0xCFC, PCI Local Bus 3.0
 * 3.2.2.3.2), bus 0 only. Every configuration access is a 32-bit IN/OUT at
 * 0xCFC; narrower fields are read out of, or merged into, that dword.
 */
#ifndef FW_PCI_H
#define FW_PCI_H

#include "fwtypes.h"

#define PCI_MAX_FUNCS 32
#define PCI_NR_BARS   6

#define PCI_VENDOR_ID	    0x00
#define PCI_COMMAND	    0x04
#define PCI_STATUS	    0x06
#define PCI_CLASS_REV	    0x08
#define PCI_HEADER_TYPE	    0x0E
#define PCI_BAR0	    0x10
#define PCI_CAP_PTR	    0x34
#define PCI_CMD_IO	    (1U << 0)
#define PCI_CMD_MEM	    (1U << 1)
#define PCI_CMD_MASTER	    (1U << 2)
#define PCI_STATUS_CAP_LIST (1U << 4)
#define PCI_CAP_ID_VNDR	    0x09

struct pci_bar {
	u64 base, size; /* size 0: not implemented */
	bool io, mem64;
};

struct pci_func {
	u8 bus, dev, fn;
	u16 vendor, device;
	u32 class_code; /* base class, subclass, prog-if */
	u8 header_type; /* without the multi-function bit */
	struct pci_bar bar[PCI_NR_BARS];
};

u32 pci_read32(const struct pci_func *f, u8 off);
u8 pci_read8(const struct pci_func *f, u8 off);
u16 pci_read16(const struct pci_func *f, u8 off);
void pci_write32(const struct pci_func *f, u8 off, u32 v);
/* Sets the command register (the status half is written as 0: its bits are write-1-to-clear). */
void pci_set_command(const struct pci_func *f, u16 cmd);

/*
 * Finds every function on bus 0, sizes the BARs of type-0 headers and
 * assigns them: memory BARs (64-bit ones too) from mem_base up, I/O BARs
 * from io_base up, each naturally aligned, largest first. Decoding stays off
 * until pci_set_command(). Returns the number of functions in out.
 */
int pci_init(struct pci_func *out, int max, u64 mem_base, u64 mem_limit, u32 io_base, u32 io_limit);

#endif
