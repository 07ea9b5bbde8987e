/*
 * Platform discovery: fw_cfg, etc/e820, the firmware's claims on memory,
 * ACPI and PCI. Any failure here halts with its reason.
 */
#include "acpi.h"
#include "console.h"
#include "fwcfg.h"
#include "layout.h"
#include "mem.h"
#include "platform.h"

#define PCI_MEM_WINDOW	   0xC0000000UL
#define PCI_MEM_WINDOW_END 0xFEC00000UL /* the IOAPIC, then the LAPIC and the ROM */
#define PCI_MEM_ALIGN	   (256 * MiB)
#define PCI_IO_WINDOW	   0xC000
#define PCI_IO_WINDOW_END  0x10000
#define RSDP_LOW_ADDR	   0xE0000UL
#define RSDP_LEN	   36
#define ROM_ALIAS_MAX	   (128 * KiB) /* the ROM's last min(size, 128 KiB) appear below 1 MiB */

/* i440FX PAM registers (Intel 82441FX datasheet 3.2.18): PAM5 and PAM6 map 0xE0000-0xEFFFF. */
#define I440FX_VENDOR 0x8086
#define I440FX_DEVICE 0x1237
#define I440FX_PAM3   0x5C /* the dword holding PAM3..PAM6 */
#define PAM_RW_DRAM   0x33

static void claim_fixed(void)
{
	int err = mem_reserve(0, FW_PT_BASE, E820_RESERVED, "page 0 0x0-0xFFF");

	/* The firmware's own: a kernel segment may take them (boot.c, handoff.c). */
	err |= mem_reserve_movable(FW_PT_BASE, FW_RAM_END - FW_PT_BASE, E820_RAM, "the firmware");
	err |= mem_reserve_movable(FW_HANDOFF_BASE, FW_HANDOFF_END - FW_HANDOFF_BASE, E820_RESERVED,
				   "the hand-off area");
	err |= mem_reserve(FW_LEGACY_BASE, FW_LEGACY_END - FW_LEGACY_BASE, E820_RESERVED,
			   "the legacy hole 0xA0000-0xFFFFF");
	if (err)
		fw_fatal("too many memory claims");
}

static void memory_init(void)
{
	static struct e820_map map;
	const char *why;

	if (!fwcfg_present())
		fw_fatal("no fw_cfg device at ports 0x510/0x511 (signature \"QEMU\" missing)");
	if (e820_from_fwcfg(&map, &why))
		fw_fatal("memory map: %s", why);
	if (e820_ram_end_from(&map, FW_PT_BASE) < FW_LEGACY_BASE)
		fw_fatal("memory map: RAM below 640 KiB is missing (the firmware runs there)");
	mem_init(&map);
	claim_fixed();
	fw_log("memory map (etc/e820), %lu MiB RAM:", (u64)(e820_ram_total(&map) / MiB));
	e820_print(&map);
}

static u32 cpu_count(void)
{
	u16 n = 0;

	fwcfg_read(FW_CFG_NB_CPUS, &n, sizeof(n));
	if (!n) {
		fw_log("fw_cfg reports 0 CPUs; describing 1");
		n = 1;
	}
	if (n > ACPI_VSI_MAX_CPUS) {
		fw_log("fw_cfg reports %u CPUs; describing %u", n, ACPI_VSI_MAX_CPUS);
		n = ACPI_VSI_MAX_CPUS;
	}
	return n;
}

/* On QEMU's i440FX, 0xE0000-0xEFFFF is RAM only once PAM says so; vsi-pc has RAM there. */
static void legacy_ram_enable(const struct platform *pf)
{
	const struct pci_func *hb = platform_find_pci(pf, I440FX_VENDOR, I440FX_DEVICE);
	u32 v;

	if (!hb || hb->dev != 0)
		return;
	v = pci_read32(hb, I440FX_PAM3) & 0x0000FFFF;
	pci_write32(hb, I440FX_PAM3, v | (PAM_RW_DRAM << 16) | (PAM_RW_DRAM << 24));
}

/* Copies the RSDP to 0xE0000 if that is writable RAM below the ROM's alias. */
static u64 rsdp_copy_low(const struct platform *pf)
{
	volatile u8 *p = (volatile u8 *)(uintptr_t)RSDP_LOW_ADDR;

	if (FW_LEGACY_END - MIN((u64)pf->rom_size, ROM_ALIAS_MAX) <= RSDP_LOW_ADDR)
		return 0;
	p[0] = 0x5A;
	if (p[0] != 0x5A)
		return 0;
	memcpy((void *)(uintptr_t)RSDP_LOW_ADDR, (const void *)(uintptr_t)pf->rsdp, RSDP_LEN);
	return RSDP_LOW_ADDR;
}

static void acpi_init(struct platform *pf)
{
	struct acpi_platform ap;
	long len;

	acpi_platform_defaults(&ap, pf->nr_cpus);
	pf->acpi_size = ALIGN_UP(ap.dsdt_len + 4 * KiB + 16UL * pf->nr_cpus, 4 * KiB);
	pf->acpi_base = mem_alloc(pf->acpi_size, 4 * KiB, FW_LEGACY_END, FW_LOW_4G, true, E820_ACPI,
				  "the ACPI tables");
	if (!pf->acpi_base)
		fw_fatal("no RAM for the ACPI tables (%lu bytes)", pf->acpi_size);
	len = acpi_build((void *)(uintptr_t)pf->acpi_base, pf->acpi_size, pf->acpi_base, &ap,
			 &pf->rsdp);
	if (len < 0)
		fw_fatal("building the ACPI tables failed (error %ld)", len);
	pf->rsdp_low = rsdp_copy_low(pf);
	fw_log("ACPI tables at 0x%lx (%ld bytes, %u CPUs), RSDP copy at 0x%lx", pf->acpi_base, len,
	       pf->nr_cpus, pf->rsdp_low);
}

static void pci_setup(struct platform *pf)
{
	const struct e820_map *m = mem_platform_map();
	u64 window = PCI_MEM_WINDOW;

	for (u32 i = 0; i < m->nr; i++) {
		u64 end = m->e[i].addr + m->e[i].size;

		if (m->e[i].type == E820_RAM && m->e[i].addr < FW_LOW_4G && end > window)
			window = ALIGN_UP(MIN(end, FW_LOW_4G), PCI_MEM_ALIGN);
	}
	pf->nr_pci = pci_init(pf->pci, PCI_MAX_FUNCS, window, PCI_MEM_WINDOW_END, PCI_IO_WINDOW,
			      PCI_IO_WINDOW_END);
	for (int k = 0; k < pf->nr_pci; k++) {
		const struct pci_func *f = &pf->pci[k];

		con_printf("fw: pci %02x:%02x.%x %04x:%04x class %06x", f->bus, f->dev, f->fn,
			   f->vendor, f->device, f->class_code);
		for (int i = 0; i < PCI_NR_BARS; i++) {
			if (f->bar[i].size)
				con_printf(" bar%d %s 0x%lx+0x%lx", i, f->bar[i].io ? "io" : "mem",
					   f->bar[i].base, f->bar[i].size);
		}
		con_printf("\n");
	}
}

const struct pci_func *platform_find_pci(const struct platform *pf, u16 vendor, u16 device)
{
	for (int k = 0; k < pf->nr_pci; k++) {
		if (pf->pci[k].vendor == vendor && pf->pci[k].device == device)
			return &pf->pci[k];
	}
	return NULL;
}

void platform_init(struct platform *pf)
{
	memory_init();
	pf->nr_cpus = cpu_count();
	pci_setup(pf);
	legacy_ram_enable(pf);
	acpi_init(pf);
}
