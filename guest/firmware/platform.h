/*
 * What the firmware learns and sets up before it touches the disk: fw_cfg,
 * the memory map and the firmware's own claims on it, the ACPI tables, PCI
 * bus 0.
 */
#ifndef FW_PLATFORM_H
#define FW_PLATFORM_H

#include "pci.h"

struct platform {
	u64 tsc_reset;
	u32 rom_size;
	u32 nr_cpus;
	u64 acpi_base, acpi_size;
	u64 rsdp;     /* the RSDP the OS is told about, at acpi_base */
	u64 rsdp_low; /* its copy in 0xE0000-0xFFFFF, 0 if there is no RAM there */
	int nr_pci;
	struct pci_func pci[PCI_MAX_FUNCS];
};

void platform_init(struct platform *pf);

/* The first function with this vendor and device ID, or NULL. */
const struct pci_func *platform_find_pci(const struct platform *pf, u16 vendor, u16 device);

#endif
