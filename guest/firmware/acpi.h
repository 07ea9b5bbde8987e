/*
 * ACPI tables of the vsi-pc platform (docs/vsi-platform.md): RSDP, XSDT,
 * FADT, MADT and the DSDT that iasl compiles from dsdt.asl. The platform is
 * hardware-reduced ACPI (ACPI 6.5 4.1): no PM1 blocks, PM timer, GPEs, SCI or
 * FACS; power-off goes through the FADT's sleep registers and reset through
 * its reset register. Table layouts follow ACPI 6.5 chapter 5.2; the
 * revisions are those of ACPI 6.3 (FADT 6.3, MADT 5).
 *
 * Portable: built into the firmware and into host tests (FW_HOSTED).
 */
#ifndef FW_ACPI_H
#define FW_ACPI_H

#include "fwtypes.h"

/* Defaults of the vsi-pc platform. */
#define ACPI_VSI_LAPIC_BASE	0xFEE00000ULL
#define ACPI_VSI_IOAPIC_BASE	0xFEC00000ULL
#define ACPI_VSI_SLEEP_CTL_PORT 0x600
#define ACPI_VSI_SLEEP_STS_PORT 0x601
#define ACPI_VSI_RESET_PORT	0xCF9
#define ACPI_VSI_RESET_VALUE	0x06
#define ACPI_VSI_MAX_CPUS	255 /* xAPIC IDs 0..254 in Processor Local APIC entries */

/*
 * The byte an OS writes to the sleep control register to power off: SLP_TYP
 * from \_S5 (5) in bits 4:2 and SLP_EN (bit 5), ACPI 6.5 4.8.3.7. Linux
 * writes WAK_STS (0x80) to the sleep status register just before it.
 */
#define ACPI_SLEEP_TYP_S5	 5
#define ACPI_SLEEP_TYP_SHIFT	 2
#define ACPI_SLEEP_EN_BIT	 (1U << 5)
#define ACPI_SLEEP_WAK_STS_BIT	 (1U << 7)
#define ACPI_SLEEP_CTL_POWER_OFF ((ACPI_SLEEP_TYP_S5 << ACPI_SLEEP_TYP_SHIFT) | ACPI_SLEEP_EN_BIT)

struct acpi_platform {
	u32 nr_cpus;	 /* 1..ACPI_VSI_MAX_CPUS; vCPU i has APIC ID i and ACPI UID i */
	u64 lapic_base;	 /* below 4 GiB (MADT field is 32 bits) */
	u64 ioapic_base; /* below 4 GiB; GSI base 0, 24 pins (the IOAPIC's own version register) */
	u8 ioapic_id;	 /* default nr_cpus, what the hypervisor's IOAPIC model resets to */
	u16 sleep_ctl_port; /* 8-bit system I/O registers, non-zero */
	u16 sleep_sts_port;
	u16 reset_port;
	u8 reset_value;
	const void *dsdt; /* a complete DSDT (header included), copied behind X_DSDT */
	u32 dsdt_len;
};

/* The DSDTs compiled from dsdt.asl and dsdt_piix.asl, linked in by acpi.mk. */
extern const u8 dsdt_aml[];
extern const u8 dsdt_aml_end[];
extern const u8 dsdt_piix_aml[];
extern const u8 dsdt_piix_aml_end[];

/* Fill p with the vsi-pc defaults above for nr_cpus vCPUs and the linked DSDT. */
void acpi_platform_defaults(struct acpi_platform *p, u32 nr_cpus);

/*
 * The PIIX4's ACPI registers (Intel 82371AB datasheet 7.2) from its PM I/O
 * base: PM1 status at +0, PM1 control at +4. The sleep registers of a
 * hardware-reduced FADT are their high bytes, where WAK_STS (bit 15) and
 * SUS_TYP/SUS_EN (bits 12:10, 13) appear as the sleep status register's
 * bit 7 and the sleep control register's SLP_TYP (4:2) and SLP_EN (5).
 */
#define ACPI_PIIX4_PM_BASE_OVMF 0xB000 /* what OVMF programs on i440FX */
#define ACPI_PIIX4_SLEEP_STS	1      /* PM1 status, high byte */
#define ACPI_PIIX4_SLEEP_CTL	5      /* PM1 control, high byte */

/*
 * Fill p for an OVMF VSI (i440FX, PIIX4 PM at pm_base): the vsi-pc defaults
 * with the sleep registers in the PM block and the DSDT from dsdt_piix.asl.
 */
void acpi_platform_piix4(struct acpi_platform *p, u32 nr_cpus, u16 pm_base);

/*
 * Build RSDP, XSDT, FADT, MADT and DSDT into buf[0..cap), which the guest
 * sees at guest-physical address gpa (16-byte aligned). The RSDP comes first,
 * at gpa itself, and each table starts 16-byte aligned. Returns the bytes
 * used (a multiple of 16; about 0.7 KiB plus 8 bytes per CPU), -FW_EINVAL if
 * p or gpa is invalid, -FW_ENOSPC if cap is too small. *rsdp_gpa receives the
 * RSDP's address on success. The caller reports the range as ACPI reclaimable
 * memory in the e820 map.
 */
long acpi_build(void *buf, size_t cap, u64 gpa, const struct acpi_platform *p, u64 *rsdp_gpa);

/*
 * The same tables for QEMU's fw_cfg interface, which OVMF installs (QEMU's
 * hw/acpi/bios-linker-loader.c; OVMF's AcpiPlatformDxe): the file
 * "etc/acpi/rsdp" holds the RSDP, "etc/acpi/tables" the tables with each
 * pointer holding an offset into that file, and "etc/table-loader" the
 * commands that place both files in guest memory (ALLOCATE), add the
 * tables' base address to each pointer (ADD_POINTER) and then compute each
 * checksum (ADD_CHECKSUM), whose byte the files hold as 0.
 */
#define ACPI_FWCFG_LOADER "etc/table-loader"
#define ACPI_FWCFG_TABLES "etc/acpi/tables"
#define ACPI_FWCFG_RSDP	  "etc/acpi/rsdp"

/* A loader command: 128 bytes, a little-endian u32 type and its arguments. */
#define ACPI_LOADER_ENTRY_LEN 128
#define ACPI_LOADER_FNAME_LEN 56 /* NUL-terminated fw_cfg file names */
#define ACPI_LOADER_ALLOCATE  1	 /* file[56], u32 align, u8 zone */
#define ACPI_LOADER_ADD_PTR   2	 /* pointer file[56], pointee file[56], u32 offset, u8 size */
#define ACPI_LOADER_ADD_CSUM  3	 /* file[56], u32 result offset, u32 start, u32 length */
#define ACPI_LOADER_ZONE_HIGH 1	 /* anywhere */
#define ACPI_LOADER_ZONE_FSEG 2	 /* the BIOS's 0xE0000-0xFFFFF, for legacy RSDP scans */
#define ACPI_LOADER_MAX_CMDS  12 /* 2 ALLOCATE, 4 ADD_POINTER, 6 ADD_CHECKSUM */
#define ACPI_RSDP_LEN	      36

struct acpi_fwcfg {
	u8 rsdp[ACPI_RSDP_LEN];
	u8 loader[ACPI_LOADER_MAX_CMDS * ACPI_LOADER_ENTRY_LEN];
	u32 loader_len;
	u32 tables_len;
	u8 *tables; /* the caller's buffer of tables_cap bytes */
	u32 tables_cap;
};

/*
 * Build the three files into f (the caller sets f->tables and f->tables_cap).
 * Returns 0, -FW_EINVAL if p is invalid, -FW_ENOSPC if the tables do not fit.
 */
int acpi_build_fwcfg(struct acpi_fwcfg *f, const struct acpi_platform *p);

#endif
