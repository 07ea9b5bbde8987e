/*
 * ACPI table discovery (ACPI 6.5, chapter 5.2): RSDP -> XSDT or RSDT -> MADT
 * and FADT. Every table is validated (length, checksum) before a byte of it
 * is trusted; a broken table is reported and skipped. Physical memory is read
 * through a caller-supplied accessor, so the same code runs in the kernel
 * (identity map) and in host tests (a fake physical memory).
 */
#ifndef DRIVERS_ACPI_H
#define DRIVERS_ACPI_H

#include <hv/types.h>

#define ACPI_MAX_CPUS	 64
#define ACPI_MAX_IOAPICS 8
#define ACPI_MAX_ISOS	 16

struct acpi_mem {
	/* Pointer to len bytes at physical address phys, or NULL if any of them is not backed. */
	const void *(*map)(void *ctx, u64 phys, u64 len);
	void *ctx;
};

/* Generic Address Structure, ACPI 6.5 5.2.3.2. address 0: register not present. */
struct acpi_gas {
	u8 space_id; /* ACPI_GAS_* */
	u8 bit_width;
	u8 bit_offset;
	u8 access_size; /* 0 undefined (legacy), 1 byte, 2 word, 3 dword, 4 qword */
	u64 address;
};

#define ACPI_GAS_SYSTEM_MEMORY 0
#define ACPI_GAS_SYSTEM_IO     1
#define ACPI_GAS_PCI_CONFIG    2

/* FADT Flags, ACPI 6.5 5.2.9 (Table 5.10) */
#define ACPI_FADT_TMR_VAL_EXT_BIT     (1U << 8)	 /* PM timer is 32 bits wide, not 24 */
#define ACPI_FADT_RESET_REG_SUP_BIT   (1U << 10) /* RESET_REG is supported */
#define ACPI_FADT_HW_REDUCED_ACPI_BIT (1U << 20) /* no fixed hardware: no PM1 blocks, no PM timer */

/* MPS INTI flags of an Interrupt Source Override, ACPI 6.5 5.2.12.5 */
#define ACPI_MADT_POLARITY_MASK 0x3
#define ACPI_MADT_POLARITY_HIGH 0x1
#define ACPI_MADT_POLARITY_LOW	0x3
#define ACPI_MADT_TRIGGER_SHIFT 2
#define ACPI_MADT_TRIGGER_MASK	(0x3 << 2)
#define ACPI_MADT_TRIGGER_EDGE	(0x1 << 2)
#define ACPI_MADT_TRIGGER_LEVEL (0x3 << 2)

struct acpi_info {
	u64 lapic_base; /* MADT Local Interrupt Controller Address, or its override */
	u32 nr_cpus;	/* entries in cpus[], disabled ones included */
	struct acpi_cpu {
		u32 apic_id;
		u32 uid; /* ACPI processor UID */
		bool enabled;
		bool online_capable; /* disabled now, but may be brought online */
		bool x2apic;	     /* listed by a Processor Local x2APIC entry */
	} cpus[ACPI_MAX_CPUS];
	u32 nr_ioapics;
	struct acpi_ioapic {
		u8 id;
		u32 base; /* physical address of the register window */
		u32 gsi_base;
	} ioapics[ACPI_MAX_IOAPICS];
	u32 nr_isos;
	struct acpi_iso {
		u8 bus;	   /* 0: ISA */
		u8 source; /* bus-relative IRQ */
		u32 gsi;
		u16 flags; /* ACPI_MADT_POLARITY_* | ACPI_MADT_TRIGGER_* (0: bus default) */
	} isos[ACPI_MAX_ISOS];
	u32 nr_lapic_nmis; /* Local APIC / x2APIC NMI entries, counted only */
	bool pcat_compat;  /* MADT PCAT_COMPAT: dual 8259s present, mask them */
	u64 madt_phys;	   /* 0 if no valid MADT */

	char oem_id[7]; /* from the RSDP, NUL-terminated */
	u8 rsdp_revision;
	u64 root_phys; /* the XSDT or RSDT that was walked */
	bool root_is_xsdt;
	u64 mcfg_phys; /* PCI Express memory-mapped configuration table, 0 if none */

	/* FADT, ACPI 6.5 5.2.9; all 0 if there is none */
	u64 fadt_phys;
	u32 fadt_flags; /* ACPI_FADT_* */
	u16 sci_irq;	/* SCI_INT: the GSI of the SCI (ISA IRQ on PC-AT systems) */
	u64 dsdt_phys;
	struct acpi_gas pm1a_cnt; /* X_PM1a_CNT_BLK, else PM1a_CNT_BLK as system I/O */
	struct acpi_gas pm1b_cnt;
	struct acpi_gas pm_tmr; /* X_PM_TMR_BLK, else PM_TMR_BLK as system I/O */
	struct acpi_gas reset_reg;
	u8 reset_value;
	struct acpi_gas sleep_control; /* hardware-reduced ACPI only */
	struct acpi_gas sleep_status;
};

/*
 * Find and validate the tables reachable from the RSDP at rsdp_phys and fill
 * *out. -ENOENT if rsdp_phys is 0; -EBADMSG if the RSDP or both root tables
 * are invalid. A broken MADT/FADT is reported, skipped, and is not an error.
 */
int acpi_parse(struct acpi_info *out, u64 rsdp_phys, const struct acpi_mem *mem);
/*
 * Scan the legacy BIOS areas for a valid RSDP (ACPI 6.5 5.2.5.1): the first
 * KiB of the EBDA, then 0xE0000-0xFFFFF, on 16-byte boundaries. Returns its
 * physical address or 0.
 */
u64 acpi_find_rsdp_legacy(const struct acpi_mem *mem);

#endif
