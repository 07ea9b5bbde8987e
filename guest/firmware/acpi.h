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

/* The DSDT compiled from dsdt.asl, linked in by acpi.mk. */
extern const u8 dsdt_aml[];
extern const u8 dsdt_aml_end[];

/* Fill p with the vsi-pc defaults above for nr_cpus vCPUs and the linked DSDT. */
void acpi_platform_defaults(struct acpi_platform *p, u32 nr_cpus);

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

#endif
