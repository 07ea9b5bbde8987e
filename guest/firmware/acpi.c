/*
 * ACPI table builder for the vsi-pc platform. The tables are packed structs
 * whose offsets are checked against ACPI 6.5 chapter 5.2 below; x86 is
 * little-endian, like ACPI.
 */
#include "acpi.h"

#define ACPI_OEM_ID	     "HVMICR"
#define ACPI_OEM_TABLE_ID    "VSIPC   "
#define ACPI_OEM_REVISION    1
#define ACPI_CREATOR_ID	     "HVMI"
#define ACPI_CREATOR_REV     1
#define ACPI_TABLE_ALIGN     16
#define ACPI_RSDP_V1_LEN     20 /* the ACPI 1.0 part the first checksum covers */
#define ACPI_XSDT_ENTRIES    2	/* FADT, MADT */
#define ACPI_FADT_REVISION   6
#define ACPI_FADT_MINOR	     3
#define ACPI_MADT_REVISION   5
#define ACPI_XSDT_REVISION   1
#define ACPI_RSDP_REVISION   2
#define ACPI_ALL_PROCESSORS  0xFF /* ACPI processor UID meaning "every processor" */
#define ACPI_ISA_IRQ_PIT     0
#define ACPI_GSI_PIT	     2 /* the customary IRQ 0 -> pin 2 override */
#define ACPI_LAPIC_NMI_LINT1 1

/* Generic Address Structure, ACPI 6.5 5.2.3.2. */
struct acpi_gas {
	u8 space_id;
	u8 bit_width;
	u8 bit_offset;
	u8 access_size;
	u64 address;
} __packed;

#define ACPI_GAS_SYSTEM_IO   1
#define ACPI_GAS_ACCESS_BYTE 1

/* System Description Table Header, ACPI 6.5 5.2.6. */
struct acpi_header {
	char signature[4];
	u32 length;
	u8 revision;
	u8 checksum;
	char oem_id[6];
	char oem_table_id[8];
	u32 oem_revision;
	char creator_id[4];
	u32 creator_revision;
} __packed;

/* Root System Description Pointer, ACPI 6.5 5.2.5.3. */
struct acpi_rsdp {
	char signature[8];
	u8 checksum; /* over the first 20 bytes */
	char oem_id[6];
	u8 revision;
	u32 rsdt_address; /* 0: no RSDT, the XSDT is the root */
	u32 length;
	u64 xsdt_address;
	u8 extended_checksum; /* over all 36 bytes */
	u8 reserved[3];
} __packed;

/* Fixed ACPI Description Table, ACPI 6.5 5.2.9 (Table 5.9). */
struct acpi_fadt {
	struct acpi_header hdr;
	u32 firmware_ctrl;
	u32 dsdt;
	u8 reserved0;
	u8 preferred_pm_profile;
	u16 sci_int;
	u32 smi_cmd;
	u8 acpi_enable;
	u8 acpi_disable;
	u8 s4bios_req;
	u8 pstate_cnt;
	u32 pm1a_evt_blk;
	u32 pm1b_evt_blk;
	u32 pm1a_cnt_blk;
	u32 pm1b_cnt_blk;
	u32 pm2_cnt_blk;
	u32 pm_tmr_blk;
	u32 gpe0_blk;
	u32 gpe1_blk;
	u8 pm1_evt_len;
	u8 pm1_cnt_len;
	u8 pm2_cnt_len;
	u8 pm_tmr_len;
	u8 gpe0_blk_len;
	u8 gpe1_blk_len;
	u8 gpe1_base;
	u8 cst_cnt;
	u16 p_lvl2_lat;
	u16 p_lvl3_lat;
	u16 flush_size;
	u16 flush_stride;
	u8 duty_offset;
	u8 duty_width;
	u8 day_alrm;
	u8 mon_alrm;
	u8 century;
	u16 iapc_boot_arch;
	u8 reserved1;
	u32 flags;
	struct acpi_gas reset_reg;
	u8 reset_value;
	u16 arm_boot_arch;
	u8 minor_version;
	u64 x_firmware_ctrl;
	u64 x_dsdt;
	struct acpi_gas x_pm1a_evt_blk;
	struct acpi_gas x_pm1b_evt_blk;
	struct acpi_gas x_pm1a_cnt_blk;
	struct acpi_gas x_pm1b_cnt_blk;
	struct acpi_gas x_pm2_cnt_blk;
	struct acpi_gas x_pm_tmr_blk;
	struct acpi_gas x_gpe0_blk;
	struct acpi_gas x_gpe1_blk;
	struct acpi_gas sleep_control_reg;
	struct acpi_gas sleep_status_reg;
	u64 hypervisor_vendor_id;
} __packed;

/* IAPC_BOOT_ARCH, ACPI 6.5 5.2.9.3 */
#define ACPI_IAPC_LEGACY_DEVICES_BIT	   (1U << 0) /* ISA-style devices (COM1) the OS drives */
#define ACPI_IAPC_8042_BIT		   (1U << 1)
#define ACPI_IAPC_VGA_NOT_PRESENT_BIT	   (1U << 2)
#define ACPI_IAPC_MSI_NOT_SUPPORTED_BIT	   (1U << 3)
#define ACPI_IAPC_CMOS_RTC_NOT_PRESENT_BIT (1U << 5)

/* FADT Flags, ACPI 6.5 5.2.9 (Table 5.10) */
#define ACPI_FADT_WBINVD_BIT	      (1U << 0)
#define ACPI_FADT_PWR_BUTTON_BIT      (1U << 4) /* no fixed-feature power button */
#define ACPI_FADT_SLP_BUTTON_BIT      (1U << 5) /* no fixed-feature sleep button */
#define ACPI_FADT_RESET_REG_SUP_BIT   (1U << 10)
#define ACPI_FADT_HW_REDUCED_ACPI_BIT (1U << 20)

/* Multiple APIC Description Table, ACPI 6.5 5.2.12 */
struct acpi_madt {
	struct acpi_header hdr;
	u32 lapic_address;
	u32 flags; /* bit 0 PCAT_COMPAT: clear, there are no 8259s */
} __packed;

#define ACPI_MADT_LAPIC	    0 /* 5.2.12.2 */
#define ACPI_MADT_IOAPIC    1 /* 5.2.12.3 */
#define ACPI_MADT_ISO	    2 /* 5.2.12.5 */
#define ACPI_MADT_LAPIC_NMI 4 /* 5.2.12.7 */

#define ACPI_MADT_LAPIC_ENABLED_BIT (1U << 0)

struct acpi_madt_lapic {
	u8 type;
	u8 length;
	u8 processor_uid;
	u8 apic_id;
	u32 flags;
} __packed;

struct acpi_madt_ioapic {
	u8 type;
	u8 length;
	u8 ioapic_id;
	u8 reserved;
	u32 address;
	u32 gsi_base;
} __packed;

struct acpi_madt_iso {
	u8 type;
	u8 length;
	u8 bus; /* 0: ISA */
	u8 source;
	u32 gsi;
	u16 flags; /* 0: conforms to the bus (ISA: edge, active high) */
} __packed;

struct acpi_madt_lapic_nmi {
	u8 type;
	u8 length;
	u8 processor_uid;
	u16 flags;
	u8 lint;
} __packed;

_Static_assert(sizeof(struct acpi_gas) == 12, "GAS is 12 bytes");
_Static_assert(sizeof(struct acpi_header) == 36, "table header is 36 bytes");
_Static_assert(sizeof(struct acpi_rsdp) == 36, "RSDP 2.0 is 36 bytes");
_Static_assert(offsetof(struct acpi_fadt, iapc_boot_arch) == 109, "FADT IAPC_BOOT_ARCH");
_Static_assert(offsetof(struct acpi_fadt, flags) == 112, "FADT Flags");
_Static_assert(offsetof(struct acpi_fadt, reset_reg) == 116, "FADT RESET_REG");
_Static_assert(offsetof(struct acpi_fadt, x_dsdt) == 140, "FADT X_DSDT");
_Static_assert(offsetof(struct acpi_fadt, sleep_control_reg) == 244, "FADT SLEEP_CONTROL_REG");
_Static_assert(sizeof(struct acpi_fadt) == 276, "FADT revision 6 is 276 bytes");
_Static_assert(sizeof(struct acpi_madt) == 44, "MADT fixed part is 44 bytes");
_Static_assert(sizeof(struct acpi_madt_lapic) == 8, "Processor Local APIC entry");
_Static_assert(sizeof(struct acpi_madt_ioapic) == 12, "I/O APIC entry");
_Static_assert(sizeof(struct acpi_madt_iso) == 10, "Interrupt Source Override entry");
_Static_assert(sizeof(struct acpi_madt_lapic_nmi) == 6, "Local APIC NMI entry");
_Static_assert(sizeof(struct acpi_rsdp) == ACPI_RSDP_LEN, "the fw_cfg RSDP file");

/* Where each table goes, as offsets from the start of the buffer. */
struct acpi_layout {
	u64 xsdt, fadt, madt, dsdt, end;
	u32 xsdt_len, madt_len;
};

static u8 acpi_sum(const void *p, size_t len)
{
	const u8 *b = p;
	u8 sum = 0;

	while (len--)
		sum += *b++;
	return sum;
}

/* Set a table's checksum so that its length bytes sum to zero (ACPI 6.5 5.2.6). */
static void acpi_seal(struct acpi_header *h)
{
	h->checksum = 0;
	h->checksum = (u8)-acpi_sum(h, h->length);
}

static void acpi_header_init(struct acpi_header *h, const char *sig, u32 len, u8 rev)
{
	memcpy(h->signature, sig, 4);
	h->length = len;
	h->revision = rev;
	memcpy(h->oem_id, ACPI_OEM_ID, 6);
	memcpy(h->oem_table_id, ACPI_OEM_TABLE_ID, 8);
	h->oem_revision = ACPI_OEM_REVISION;
	memcpy(h->creator_id, ACPI_CREATOR_ID, 4);
	h->creator_revision = ACPI_CREATOR_REV;
}

static struct acpi_gas acpi_io_byte(u16 port)
{
	struct acpi_gas g = {
		.space_id = ACPI_GAS_SYSTEM_IO,
		.bit_width = 8,
		.bit_offset = 0,
		.access_size = ACPI_GAS_ACCESS_BYTE,
		.address = port,
	};
	return g;
}

/* A DSDT is usable if its header is complete, names it and covers exactly len bytes. */
static bool acpi_dsdt_valid(const void *dsdt, u32 len)
{
	struct acpi_header h;

	if (!dsdt || len < sizeof(h))
		return false;
	memcpy(&h, dsdt, sizeof(h));
	return memcmp(h.signature, "DSDT", 4) == 0 && h.length == len && acpi_sum(dsdt, len) == 0;
}

static bool acpi_platform_valid(const struct acpi_platform *p)
{
	if (!p || p->nr_cpus < 1 || p->nr_cpus > ACPI_VSI_MAX_CPUS)
		return false;
	if (!p->lapic_base || p->lapic_base > 0xFFFFFFFFULL || !p->ioapic_base ||
	    p->ioapic_base > 0xFFFFFFFFULL)
		return false;
	if (!p->sleep_ctl_port || !p->sleep_sts_port || !p->reset_port)
		return false;
	return acpi_dsdt_valid(p->dsdt, p->dsdt_len);
}

/* The tables from the XSDT on, starting at offset first (16-byte aligned). */
static void acpi_plan(const struct acpi_platform *p, struct acpi_layout *l, u64 first)
{
	l->xsdt_len = sizeof(struct acpi_header) + 8 * ACPI_XSDT_ENTRIES;
	l->madt_len = sizeof(struct acpi_madt) + p->nr_cpus * sizeof(struct acpi_madt_lapic) +
		      sizeof(struct acpi_madt_ioapic) + sizeof(struct acpi_madt_iso) +
		      sizeof(struct acpi_madt_lapic_nmi);
	l->xsdt = first;
	l->fadt = ALIGN_UP(l->xsdt + l->xsdt_len, ACPI_TABLE_ALIGN);
	l->madt = ALIGN_UP(l->fadt + sizeof(struct acpi_fadt), ACPI_TABLE_ALIGN);
	l->dsdt = ALIGN_UP(l->madt + l->madt_len, ACPI_TABLE_ALIGN);
	l->end = ALIGN_UP(l->dsdt + p->dsdt_len, ACPI_TABLE_ALIGN);
}

static void acpi_build_rsdp(struct acpi_rsdp *r, u64 xsdt_gpa)
{
	memcpy(r->signature, "RSD PTR ", 8);
	memcpy(r->oem_id, ACPI_OEM_ID, 6);
	r->revision = ACPI_RSDP_REVISION;
	r->length = sizeof(*r);
	r->xsdt_address = xsdt_gpa;
	r->checksum = (u8)-acpi_sum(r, ACPI_RSDP_V1_LEN);
	r->extended_checksum = (u8)-acpi_sum(r, sizeof(*r));
}

static void acpi_build_xsdt(u8 *t, u32 len, u64 fadt_gpa, u64 madt_gpa)
{
	const u64 entry[ACPI_XSDT_ENTRIES] = { fadt_gpa, madt_gpa };

	acpi_header_init((struct acpi_header *)t, "XSDT", len, ACPI_XSDT_REVISION);
	/* Entries are 8 bytes at offset 36: not naturally aligned, so copied bytewise. */
	memcpy(t + sizeof(struct acpi_header), entry, sizeof(entry));
	acpi_seal((struct acpi_header *)t);
}

/*
 * Hardware-reduced FADT (ACPI 6.5 4.1): every fixed-hardware field stays 0,
 * and Linux sets up no PM timer, SCI, PIT or 8259; there is no FACS.
 */
static void acpi_build_fadt(struct acpi_fadt *f, const struct acpi_platform *p, u64 dsdt_gpa)
{
	acpi_header_init(&f->hdr, "FACP", sizeof(*f), ACPI_FADT_REVISION);
	f->minor_version = ACPI_FADT_MINOR;
	/* The 32-bit copy only where it reaches; OSPM prefers X_DSDT (Table 5.9). */
	f->dsdt = dsdt_gpa <= 0xFFFFFFFFULL ? (u32)dsdt_gpa : 0;
	f->x_dsdt = dsdt_gpa;
	/* COM1 is an ISA-style device; no VGA; MSI works; CMOS RTC at 0x70; no 8042. */
	f->iapc_boot_arch = ACPI_IAPC_LEGACY_DEVICES_BIT | ACPI_IAPC_VGA_NOT_PRESENT_BIT;
	/*
	 * WBINVD works (the hypervisor runs it). No fixed-feature buttons, else
	 * Linux registers fixed power/sleep button devices.
	 */
	f->flags = ACPI_FADT_WBINVD_BIT | ACPI_FADT_PWR_BUTTON_BIT | ACPI_FADT_SLP_BUTTON_BIT |
		   ACPI_FADT_RESET_REG_SUP_BIT | ACPI_FADT_HW_REDUCED_ACPI_BIT;
	f->reset_reg = acpi_io_byte(p->reset_port);
	f->reset_value = p->reset_value;
	f->sleep_control_reg = acpi_io_byte(p->sleep_ctl_port);
	f->sleep_status_reg = acpi_io_byte(p->sleep_sts_port);
	acpi_seal(&f->hdr);
}

static u8 *acpi_madt_lapic(u8 *e, u8 uid, u8 apic_id)
{
	struct acpi_madt_lapic *l = (struct acpi_madt_lapic *)e;

	l->type = ACPI_MADT_LAPIC;
	l->length = sizeof(*l);
	l->processor_uid = uid;
	l->apic_id = apic_id;
	l->flags = ACPI_MADT_LAPIC_ENABLED_BIT;
	return e + sizeof(*l);
}

static u8 *acpi_madt_ioapic(u8 *e, u8 id, u32 address)
{
	struct acpi_madt_ioapic *io = (struct acpi_madt_ioapic *)e;

	io->type = ACPI_MADT_IOAPIC;
	io->length = sizeof(*io);
	io->ioapic_id = id;
	io->address = address;
	io->gsi_base = 0;
	return e + sizeof(*io);
}

static u8 *acpi_madt_iso(u8 *e, u8 isa_irq, u32 gsi)
{
	struct acpi_madt_iso *iso = (struct acpi_madt_iso *)e;

	iso->type = ACPI_MADT_ISO;
	iso->length = sizeof(*iso);
	iso->bus = 0;
	iso->source = isa_irq;
	iso->gsi = gsi;
	iso->flags = 0;
	return e + sizeof(*iso);
}

static u8 *acpi_madt_lapic_nmi(u8 *e, u8 uid, u8 lint)
{
	struct acpi_madt_lapic_nmi *nmi = (struct acpi_madt_lapic_nmi *)e;

	nmi->type = ACPI_MADT_LAPIC_NMI;
	nmi->length = sizeof(*nmi);
	nmi->processor_uid = uid;
	nmi->flags = 0; /* conforms to the bus */
	nmi->lint = lint;
	return e + sizeof(*nmi);
}

/* One enabled Processor Local APIC per vCPU, the IOAPIC, IRQ 0 -> GSI 2, NMI on LINT1. */
static void acpi_build_madt(u8 *t, u32 len, const struct acpi_platform *p)
{
	struct acpi_madt *m = (struct acpi_madt *)t;
	u8 *e = t + sizeof(*m);

	acpi_header_init(&m->hdr, "APIC", len, ACPI_MADT_REVISION);
	m->lapic_address = (u32)p->lapic_base;
	m->flags = 0;
	for (u32 i = 0; i < p->nr_cpus; i++)
		e = acpi_madt_lapic(e, (u8)i, (u8)i);
	e = acpi_madt_ioapic(e, p->ioapic_id, (u32)p->ioapic_base);
	e = acpi_madt_iso(e, ACPI_ISA_IRQ_PIT, ACPI_GSI_PIT);
	acpi_madt_lapic_nmi(e, ACPI_ALL_PROCESSORS, ACPI_LAPIC_NMI_LINT1);
	acpi_seal(&m->hdr);
}

/*
 * The IOAPIC gets ID nr_cpus, the first one after the vCPUs' APIC IDs, which
 * is also what the hypervisor's IOAPIC model resets its ID register to; the
 * two ID spaces are separate since xAPIC, so this is only for clarity.
 */
void acpi_platform_defaults(struct acpi_platform *p, u32 nr_cpus)
{
	memset(p, 0, sizeof(*p));
	p->nr_cpus = nr_cpus;
	p->lapic_base = ACPI_VSI_LAPIC_BASE;
	p->ioapic_base = ACPI_VSI_IOAPIC_BASE;
	p->ioapic_id = (u8)nr_cpus;
	p->sleep_ctl_port = ACPI_VSI_SLEEP_CTL_PORT;
	p->sleep_sts_port = ACPI_VSI_SLEEP_STS_PORT;
	p->reset_port = ACPI_VSI_RESET_PORT;
	p->reset_value = ACPI_VSI_RESET_VALUE;
	p->dsdt = dsdt_aml;
	p->dsdt_len = (u32)(dsdt_aml_end - dsdt_aml);
}

void acpi_platform_piix4(struct acpi_platform *p, u32 nr_cpus, u16 pm_base)
{
	acpi_platform_defaults(p, nr_cpus);
	p->sleep_ctl_port = (u16)(pm_base + ACPI_PIIX4_SLEEP_CTL);
	p->sleep_sts_port = (u16)(pm_base + ACPI_PIIX4_SLEEP_STS);
	p->dsdt = dsdt_piix_aml;
	p->dsdt_len = (u32)(dsdt_piix_aml_end - dsdt_piix_aml);
}

/* XSDT, FADT, MADT and DSDT at b + l's offsets, which the guest sees at base + them. */
static void acpi_build_tables(u8 *b, const struct acpi_layout *l, const struct acpi_platform *p,
			      u64 base)
{
	memset(b + l->xsdt, 0, l->end - l->xsdt);
	memcpy(b + l->dsdt, p->dsdt, p->dsdt_len);
	acpi_build_madt(b + l->madt, l->madt_len, p);
	acpi_build_fadt((struct acpi_fadt *)(b + l->fadt), p, base + l->dsdt);
	acpi_build_xsdt(b + l->xsdt, l->xsdt_len, base + l->fadt, base + l->madt);
}

long acpi_build(void *buf, size_t cap, u64 gpa, const struct acpi_platform *p, u64 *rsdp_gpa)
{
	struct acpi_layout l;
	u8 *b = buf;

	if (!buf || !rsdp_gpa || !acpi_platform_valid(p) || gpa % ACPI_TABLE_ALIGN)
		return -FW_EINVAL;
	/* The RSDP first, at gpa itself. */
	acpi_plan(p, &l, ALIGN_UP(sizeof(struct acpi_rsdp), ACPI_TABLE_ALIGN));
	if (cap < l.end)
		return -FW_ENOSPC;
	if (gpa + l.end < gpa)
		return -FW_EINVAL;

	memset(b, 0, l.xsdt);
	acpi_build_tables(b, &l, p, gpa);
	acpi_build_rsdp((struct acpi_rsdp *)b, gpa + l.xsdt);
	*rsdp_gpa = gpa;
	return (long)l.end;
}

/* ---- QEMU's fw_cfg interface: the loader commands ---- */

static u8 *loader_cmd(struct acpi_fwcfg *f, u32 type)
{
	u8 *e = f->loader + f->loader_len;

	memset(e, 0, ACPI_LOADER_ENTRY_LEN);
	memcpy(e, &type, 4);
	f->loader_len += ACPI_LOADER_ENTRY_LEN;
	return e + 4;
}

static void loader_allocate(struct acpi_fwcfg *f, const char *file, u32 align, u8 zone)
{
	u8 *a = loader_cmd(f, ACPI_LOADER_ALLOCATE);

	memcpy(a, file, strlen(file));
	memcpy(a + ACPI_LOADER_FNAME_LEN, &align, 4);
	a[ACPI_LOADER_FNAME_LEN + 4] = zone;
}

/* The size-byte field at offset in file holds an offset into the tables file. */
static void loader_add_ptr(struct acpi_fwcfg *f, const char *file, u32 offset, u8 size)
{
	u8 *a = loader_cmd(f, ACPI_LOADER_ADD_PTR);

	memcpy(a, file, strlen(file));
	memcpy(a + ACPI_LOADER_FNAME_LEN, ACPI_FWCFG_TABLES, sizeof(ACPI_FWCFG_TABLES) - 1);
	memcpy(a + 2 * ACPI_LOADER_FNAME_LEN, &offset, 4);
	a[2 * ACPI_LOADER_FNAME_LEN + 4] = size;
}

/* The byte at result (0 in the file) is set so that [start, start + len) sums to 0. */
static void loader_add_csum(struct acpi_fwcfg *f, const char *file, u32 result, u32 start, u32 len)
{
	u8 *a = loader_cmd(f, ACPI_LOADER_ADD_CSUM);
	const u32 arg[3] = { result, start, len };

	memcpy(a, file, strlen(file));
	memcpy(a + ACPI_LOADER_FNAME_LEN, arg, sizeof(arg));
}

/* Clear a table's checksum byte and have the loader compute it. */
static void loader_seal(struct acpi_fwcfg *f, u64 table, u32 len)
{
	f->tables[table + offsetof(struct acpi_header, checksum)] = 0;
	loader_add_csum(f, ACPI_FWCFG_TABLES, (u32)table + offsetof(struct acpi_header, checksum),
			(u32)table, len);
}

/*
 * One ADD_POINTER per table reached, so that OVMF, which installs every
 * table a pointer reaches, installs each once: the FADT's 32-bit DSDT field
 * stays 0 (OVMF's ACPI table driver fills in both when it installs the
 * FADT). RSDT and XSDT are OVMF's own; it skips the XSDT it finds.
 */
static void acpi_fwcfg_commands(struct acpi_fwcfg *f, const struct acpi_layout *l)
{
	const u32 fadt_x_dsdt = (u32)l->fadt + offsetof(struct acpi_fadt, x_dsdt);
	const u32 xsdt_entry = (u32)l->xsdt + sizeof(struct acpi_header);

	f->loader_len = 0;
	loader_allocate(f, ACPI_FWCFG_RSDP, ACPI_TABLE_ALIGN, ACPI_LOADER_ZONE_FSEG);
	loader_allocate(f, ACPI_FWCFG_TABLES, 64, ACPI_LOADER_ZONE_HIGH);
	loader_add_ptr(f, ACPI_FWCFG_RSDP, offsetof(struct acpi_rsdp, xsdt_address), 8);
	loader_add_ptr(f, ACPI_FWCFG_TABLES, xsdt_entry, 8);
	loader_add_ptr(f, ACPI_FWCFG_TABLES, xsdt_entry + 8, 8);
	loader_add_ptr(f, ACPI_FWCFG_TABLES, fadt_x_dsdt, 8);
	((struct acpi_fadt *)(f->tables + l->fadt))->dsdt = 0;
	loader_seal(f, l->xsdt, l->xsdt_len);
	loader_seal(f, l->fadt, sizeof(struct acpi_fadt));
	loader_seal(f, l->madt, l->madt_len);
	loader_seal(f, l->dsdt, ((const struct acpi_header *)(f->tables + l->dsdt))->length);
	f->rsdp[offsetof(struct acpi_rsdp, checksum)] = 0;
	f->rsdp[offsetof(struct acpi_rsdp, extended_checksum)] = 0;
	loader_add_csum(f, ACPI_FWCFG_RSDP, offsetof(struct acpi_rsdp, checksum), 0,
			ACPI_RSDP_V1_LEN);
	loader_add_csum(f, ACPI_FWCFG_RSDP, offsetof(struct acpi_rsdp, extended_checksum), 0,
			sizeof(struct acpi_rsdp));
}

int acpi_build_fwcfg(struct acpi_fwcfg *f, const struct acpi_platform *p)
{
	struct acpi_layout l;

	if (!f || !f->tables || !acpi_platform_valid(p))
		return -FW_EINVAL;
	/* Every pointer is an offset into the tables file: build them at address 0. */
	acpi_plan(p, &l, 0);
	if (f->tables_cap < l.end)
		return -FW_ENOSPC;
	acpi_build_tables(f->tables, &l, p, 0);
	f->tables_len = (u32)l.end;
	memset(f->rsdp, 0, sizeof(f->rsdp));
	acpi_build_rsdp((struct acpi_rsdp *)f->rsdp, l.xsdt);
	acpi_fwcfg_commands(f, &l);
	return 0;
}
