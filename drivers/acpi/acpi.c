/*
 * ACPI table discovery (see acpi.h). Section numbers are those of the ACPI
 * 6.5 specification. Tables are read byte by byte (little-endian, no
 * alignment assumed): firmware places them anywhere.
 */
#include <hv/errno.h>
#include <hv/log.h>
#include <acpi/acpi.h>

/* RSDP fields, 5.2.5.3 (Table 5.3) */
enum rsdp_field {
	RSDP_OEMID = 9,
	RSDP_REVISION = 15,
	RSDP_RSDT = 16,
	RSDP_LENGTH = 20,
	RSDP_XSDT = 24,
};
#define RSDP_V1_LEN 20 /* the checksum covers the ACPI 1.0 part */
#define RSDP_V2_LEN 36

#define SDT_LENGTH	 4 /* 5.2.6: header length field */
#define SDT_HEADER_LEN	 36
#define MADT_LAPIC_ADDR	 36 /* 5.2.12 (Table 5.19): Local Interrupt Controller Address */
#define MADT_FLAGS	 40
#define MADT_ENTRIES_OFF 44
#define FADT_V1_LEN	 116

/* FADT field offsets, 5.2.9 (Table 5.9) */
enum fadt_field {
	FADT_DSDT = 40,
	FADT_SCI_INT = 46,
	FADT_PM1A_CNT_BLK = 64,
	FADT_PM1B_CNT_BLK = 68,
	FADT_PM_TMR_BLK = 76,
	FADT_PM1_CNT_LEN = 89,
	FADT_PM_TMR_LEN = 91,
	FADT_FLAGS = 112,
	FADT_RESET_REG = 116,
	FADT_RESET_VALUE = 128,
	FADT_X_DSDT = 140,
	FADT_X_PM1A_CNT_BLK = 172,
	FADT_X_PM1B_CNT_BLK = 184,
	FADT_X_PM_TMR_BLK = 208,
	FADT_SLEEP_CONTROL_REG = 244,
	FADT_SLEEP_STATUS_REG = 256,
};
#define GAS_LEN 12 /* Generic Address Structure, 5.2.3.2 */

#define EBDA_PTR     0x40e /* 16-bit real-mode segment of the EBDA */
#define EBDA_SCAN    1024
#define BIOS_ROM     0xe0000
#define BIOS_ROM_END 0x100000

/* MADT interrupt controller structure types, 5.2.12 (Table 5.21) */
enum madt_type {
	MADT_LOCAL_APIC = 0,
	MADT_IO_APIC = 1,
	MADT_INT_SRC_OVERRIDE = 2,
	MADT_LOCAL_APIC_NMI = 4,
	MADT_LOCAL_APIC_OVERRIDE = 5,
	MADT_LOCAL_X2APIC = 9,
	MADT_LOCAL_X2APIC_NMI = 10,
};

/* Local APIC flags, 5.2.12.2 (Table 5.23) */
#define MADT_LAPIC_ENABLED	  (1U << 0)
#define MADT_LAPIC_ONLINE_CAPABLE (1U << 1)
#define MADT_PCAT_COMPAT	  (1U << 0) /* MADT Flags, Table 5.20 */

static u16 get16(const u8 *p)
{
	return (u16)(p[0] | p[1] << 8);
}

static u32 get32(const u8 *p)
{
	return (u32)p[0] | (u32)p[1] << 8 | (u32)p[2] << 16 | (u32)p[3] << 24;
}

static u64 get64(const u8 *p)
{
	return (u64)get32(p) | (u64)get32(p + 4) << 32;
}

/* Sum of len bytes modulo 256; a valid ACPI structure sums to 0 (5.2.5.3, 5.2.6). */
static u8 checksum(const u8 *p, u64 len)
{
	u8 sum = 0;

	while (len--)
		sum += *p++;
	return sum;
}

static bool sig_eq(const u8 *p, const char *sig)
{
	for (; *sig; sig++, p++)
		if (*p != (u8)*sig)
			return false;
	return true;
}

/* The signature as text, unprintable bytes as '?'. */
static const char *sig_str(const u8 *sig, char buf[5])
{
	for (int i = 0; i < 4; i++)
		buf[i] = sig[i] >= 0x20 && sig[i] < 0x7f ? (char)sig[i] : '?';
	buf[4] = '\0';
	return buf;
}

/* Log name of a table: MADT and FADT by their spec names, others by signature. */
static const char *table_name(const u8 *sig, char buf[5])
{
	if (sig_eq(sig, "APIC"))
		return "MADT";
	if (sig_eq(sig, "FACP"))
		return "FADT";
	return sig_str(sig, buf);
}

static const u8 *map(const struct acpi_mem *mem, u64 phys, u64 len)
{
	return mem->map(mem->ctx, phys, len);
}

/*
 * Map the system description table at phys and check it (5.2.6): header
 * mapped, signature as expected (if want is not NULL), length covering at
 * least the header and entirely mapped, checksum 0. Reports and returns NULL
 * if any check fails.
 */
static const u8 *map_table(const struct acpi_mem *mem, u64 phys, const char *want, u32 *len)
{
	unsigned long long at = phys;
	const u8 *t = map(mem, phys, SDT_HEADER_LEN);
	char buf[5];
	const char *name;
	u8 sum;

	if (!t) {
		pr_warn("acpi: %s at 0x%llx: header not mapped\n", want ? want : "table", at);
		return NULL;
	}
	if (want && !sig_eq(t, want)) {
		pr_warn("acpi: %s at 0x%llx: signature '%s', want '%s'\n", want, at,
			sig_str(t, buf), want);
		return NULL;
	}
	name = table_name(t, buf);
	*len = get32(t + SDT_LENGTH);
	if (*len < SDT_HEADER_LEN) {
		pr_warn("acpi: %s at 0x%llx: length %u shorter than its header (%u)\n", name, at,
			*len, SDT_HEADER_LEN);
		return NULL;
	}
	t = map(mem, phys, *len);
	if (!t) {
		pr_warn("acpi: %s at 0x%llx: length %u runs past mapped memory\n", name, at, *len);
		return NULL;
	}
	sum = checksum(t, *len);
	if (sum) {
		pr_warn("acpi: %s at 0x%llx: checksum 0x%02x, want 0\n", name, at, sum);
		return NULL;
	}
	return t;
}

/*
 * Check the RSDP at phys (5.2.5.3): signature, checksum of the first 20
 * bytes and, from revision 2 on, length and extended checksum over length
 * bytes. Returns it, or NULL (reported with pr_err if loud).
 */
static const u8 *rsdp_check(const struct acpi_mem *mem, u64 phys, bool loud)
{
	unsigned long long at = phys;
	const u8 *p = map(mem, phys, RSDP_V1_LEN);
	u32 len;
	u8 sum;

	if (!p || !sig_eq(p, "RSD PTR ")) {
		if (loud)
			pr_err("acpi: RSDP at 0x%llx: %s\n", at,
			       p ? "bad signature" : "not mapped");
		return NULL;
	}
	sum = checksum(p, RSDP_V1_LEN);
	if (sum) {
		if (loud)
			pr_err("acpi: RSDP at 0x%llx: checksum 0x%02x, want 0\n", at, sum);
		return NULL;
	}
	if (p[RSDP_REVISION] < 2)
		return p;
	p = map(mem, phys, RSDP_V2_LEN);
	len = p ? get32(p + RSDP_LENGTH) : 0;
	if (len < RSDP_V2_LEN || !(p = map(mem, phys, len))) {
		if (loud)
			pr_err("acpi: RSDP at 0x%llx: length %u %s\n", at, len,
			       len < RSDP_V2_LEN ? "invalid" : "runs past mapped memory");
		return NULL;
	}
	sum = checksum(p, len);
	if (sum) {
		if (loud)
			pr_err("acpi: RSDP at 0x%llx: extended checksum 0x%02x, want 0\n", at, sum);
		return NULL;
	}
	return p;
}

/*
 * Add a processor, dropping duplicates of an APIC ID already listed. Firmware
 * may list a CPU with an ID below 255 in both a Local APIC and a Local x2APIC
 * entry (5.2.12.12 says the former must be used); that pair is expected.
 */
static void add_cpu(struct acpi_info *out, u32 apic_id, u32 uid, u32 flags, bool x2apic,
		    u32 *dropped)
{
	struct acpi_cpu *cpu;

	for (u32 i = 0; i < out->nr_cpus; i++) {
		if (out->cpus[i].apic_id != apic_id)
			continue;
		if (out->cpus[i].x2apic != x2apic && apic_id < 0xff)
			pr_debug("acpi: MADT: APIC ID %u listed as xAPIC and x2APIC\n", apic_id);
		else
			pr_warn("acpi: MADT: duplicate APIC ID %u (UID %u), ignored\n", apic_id,
				uid);
		return;
	}
	if (out->nr_cpus == ACPI_MAX_CPUS) {
		(*dropped)++;
		return;
	}
	cpu = &out->cpus[out->nr_cpus++];
	cpu->apic_id = apic_id;
	cpu->uid = uid;
	cpu->enabled = flags & MADT_LAPIC_ENABLED;
	cpu->online_capable = flags & MADT_LAPIC_ONLINE_CAPABLE;
	cpu->x2apic = x2apic;
}

static void add_ioapic(struct acpi_info *out, const u8 *e)
{
	struct acpi_ioapic *io;

	if (out->nr_ioapics == ACPI_MAX_IOAPICS) {
		pr_warn("acpi: MADT: more than %u I/O APICs, ID %u ignored\n", ACPI_MAX_IOAPICS,
			e[2]);
		return;
	}
	io = &out->ioapics[out->nr_ioapics++];
	io->id = e[2];
	io->base = get32(e + 4);
	io->gsi_base = get32(e + 8);
}

static void add_iso(struct acpi_info *out, const u8 *e)
{
	struct acpi_iso *iso;

	if (out->nr_isos == ACPI_MAX_ISOS) {
		pr_warn("acpi: MADT: more than %u interrupt source overrides, IRQ %u ignored\n",
			ACPI_MAX_ISOS, e[3]);
		return;
	}
	iso = &out->isos[out->nr_isos++];
	iso->bus = e[2];
	iso->source = e[3];
	iso->gsi = get32(e + 4);
	iso->flags = get16(e + 8);
}

/* Minimum length of each MADT structure type we read, 5.2.12.2-5.2.12.13. */
static u32 madt_entry_min(u8 type)
{
	switch (type) {
	case MADT_LOCAL_APIC:
		return 8;
	case MADT_IO_APIC:
		return 12;
	case MADT_INT_SRC_OVERRIDE:
		return 10;
	case MADT_LOCAL_APIC_NMI:
		return 6;
	case MADT_LOCAL_APIC_OVERRIDE:
		return 12;
	case MADT_LOCAL_X2APIC:
		return 16;
	case MADT_LOCAL_X2APIC_NMI:
		return 12;
	}
	return 2;
}

/*
 * One interrupt controller structure, already length-checked. APIC ID 0xFF
 * (xAPIC) and 0xFFFFFFFF (x2APIC) are broadcast IDs, never a processor.
 */
static void madt_entry(struct acpi_info *out, const u8 *e, u32 *dropped)
{
	switch (e[0]) {
	case MADT_LOCAL_APIC:
		if (e[3] != 0xff)
			add_cpu(out, e[3], e[2], get32(e + 4), false, dropped);
		break;
	case MADT_LOCAL_X2APIC:
		if (get32(e + 4) != 0xffffffff)
			add_cpu(out, get32(e + 4), get32(e + 12), get32(e + 8), true, dropped);
		break;
	case MADT_IO_APIC:
		add_ioapic(out, e);
		break;
	case MADT_INT_SRC_OVERRIDE:
		add_iso(out, e);
		break;
	case MADT_LOCAL_APIC_OVERRIDE:
		out->lapic_base = get64(e + 4);
		break;
	case MADT_LOCAL_APIC_NMI:
	case MADT_LOCAL_X2APIC_NMI:
		out->nr_lapic_nmis++;
		break;
	}
}

/* Why the MADT entry at off cannot be read, or NULL if it can. */
static const char *madt_entry_problem(const u8 *t, u32 len, u32 off)
{
	if (len - off < 2)
		return "truncated";
	if (t[off + 1] < 2)
		return "length below 2";
	if (t[off + 1] > len - off)
		return "runs past the table end";
	if (t[off + 1] < madt_entry_min(t[off]))
		return "too short for its type";
	return NULL;
}

/*
 * Walk the MADT (5.2.12). A malformed structure stops the walk: everything
 * after it is unreliable, and a zero length would never advance.
 */
static void parse_madt(struct acpi_info *out, const u8 *t, u32 len, u64 phys)
{
	unsigned long long at = phys;
	u32 dropped = 0;

	if (len < MADT_ENTRIES_OFF) {
		pr_warn("acpi: MADT at 0x%llx: length %u shorter than its fixed fields (%u)\n", at,
			len, MADT_ENTRIES_OFF);
		return;
	}
	out->madt_phys = phys;
	out->lapic_base = get32(t + MADT_LAPIC_ADDR);
	out->pcat_compat = get32(t + MADT_FLAGS) & MADT_PCAT_COMPAT;
	for (u32 off = MADT_ENTRIES_OFF; off < len; off += t[off + 1]) {
		const char *why = madt_entry_problem(t, len, off);
		u32 left = len - off;

		if (why) {
			pr_warn(
			    "acpi: MADT at 0x%llx: entry at %u (type %u, len %u, %u left): %s\n",
			    at, off, t[off], left >= 2 ? t[off + 1] : 0, left, why);
			break;
		}
		madt_entry(out, t + off, &dropped);
	}
	if (dropped)
		pr_warn("acpi: MADT lists %u CPUs more than the %u supported, ignored\n", dropped,
			ACPI_MAX_CPUS);
}

/* A legacy 32-bit I/O port block of the FADT as a system I/O GAS (5.2.9). */
static struct acpi_gas io_block(u32 port, u8 len)
{
	struct acpi_gas g = { 0 };

	if (port) {
		g.space_id = ACPI_GAS_SYSTEM_IO;
		g.bit_width = (u8)(len * 8);
		g.address = port;
	}
	return g;
}

static struct acpi_gas get_gas(const u8 *p)
{
	struct acpi_gas g = {
		.space_id = p[0],
		.bit_width = p[1],
		.bit_offset = p[2],
		.access_size = p[3],
		.address = get64(p + 4),
	};
	return g;
}

/*
 * The extended (X_) GAS at off if the FADT is long enough and it is present
 * (5.2.9: a nonzero X_ field overrides the legacy one), else the legacy block.
 */
static struct acpi_gas fadt_block(const u8 *t, u32 len, u32 off, struct acpi_gas legacy)
{
	if (len >= off + GAS_LEN && get64(t + off + 4))
		return get_gas(t + off);
	return legacy;
}

/* FADT fields the kernel needs for power-off, reset and the PM timer (5.2.9). */
static void parse_fadt(struct acpi_info *out, const u8 *t, u32 len, u64 phys)
{
	u8 pm1_cnt_len;

	if (len < FADT_V1_LEN) {
		pr_warn("acpi: FADT at 0x%llx: length %u shorter than the ACPI 1.0 FADT (%u)\n",
			(unsigned long long)phys, len, FADT_V1_LEN);
		return;
	}
	pm1_cnt_len = t[FADT_PM1_CNT_LEN];
	out->fadt_phys = phys;
	out->dsdt_phys = get32(t + FADT_DSDT);
	out->sci_irq = get16(t + FADT_SCI_INT);
	out->fadt_flags = get32(t + FADT_FLAGS);
	out->pm1a_cnt = fadt_block(t, len, FADT_X_PM1A_CNT_BLK,
				   io_block(get32(t + FADT_PM1A_CNT_BLK), pm1_cnt_len));
	out->pm1b_cnt = fadt_block(t, len, FADT_X_PM1B_CNT_BLK,
				   io_block(get32(t + FADT_PM1B_CNT_BLK), pm1_cnt_len));
	out->pm_tmr = fadt_block(t, len, FADT_X_PM_TMR_BLK,
				 io_block(get32(t + FADT_PM_TMR_BLK), t[FADT_PM_TMR_LEN]));
	if (len > FADT_RESET_VALUE) {
		out->reset_reg = get_gas(t + FADT_RESET_REG);
		out->reset_value = t[FADT_RESET_VALUE];
	}
	if (len >= FADT_X_DSDT + 8 && get64(t + FADT_X_DSDT))
		out->dsdt_phys = get64(t + FADT_X_DSDT); /* X_DSDT overrides DSDT */
	if (len >= FADT_SLEEP_STATUS_REG + GAS_LEN) {
		out->sleep_control = get_gas(t + FADT_SLEEP_CONTROL_REG);
		out->sleep_status = get_gas(t + FADT_SLEEP_STATUS_REG);
	}
}

/* Validate the table at phys and take what we need from it; others are skipped. */
static void parse_table(struct acpi_info *out, const struct acpi_mem *mem, u64 phys)
{
	u32 len;
	const u8 *t = map_table(mem, phys, NULL, &len);

	if (!t)
		return;
	if (sig_eq(t, "APIC")) {
		if (out->madt_phys)
			pr_warn("acpi: second MADT at 0x%llx ignored\n", (unsigned long long)phys);
		else
			parse_madt(out, t, len, phys);
	} else if (sig_eq(t, "FACP")) {
		if (out->fadt_phys)
			pr_warn("acpi: second FADT at 0x%llx ignored\n", (unsigned long long)phys);
		else
			parse_fadt(out, t, len, phys);
	} else if (sig_eq(t, "MCFG") && !out->mcfg_phys) {
		out->mcfg_phys = phys;
	}
}

/* Walk the entries of the XSDT (8-byte, 5.2.8) or RSDT (4-byte, 5.2.7). */
static void walk_root(struct acpi_info *out, const struct acpi_mem *mem, const u8 *root, u32 len)
{
	u32 esize = out->root_is_xsdt ? 8 : 4;
	const char *name = out->root_is_xsdt ? "XSDT" : "RSDT";

	for (u32 off = SDT_HEADER_LEN; off + esize <= len; off += esize) {
		u64 phys = esize == 8 ? get64(root + off) : get32(root + off);

		if (!phys) {
			pr_warn("acpi: %s entry %u is null\n", name,
				(off - SDT_HEADER_LEN) / esize);
			continue;
		}
		parse_table(out, mem, phys);
	}
}

/*
 * The root table to walk: the XSDT when the RSDP has revision >= 2 and a
 * nonzero XsdtAddress (5.2.5.3), else the RSDT. A broken XSDT falls back to
 * the RSDT, if there is one.
 */
static const u8 *find_root(struct acpi_info *out, const struct acpi_mem *mem, const u8 *rsdp,
			   u32 *len)
{
	u64 rsdt = get32(rsdp + RSDP_RSDT);
	u64 xsdt = rsdp[RSDP_REVISION] >= 2 ? get64(rsdp + RSDP_XSDT) : 0;
	const u8 *root;

	if (xsdt) {
		root = map_table(mem, xsdt, "XSDT", len);
		if (root) {
			out->root_phys = xsdt;
			out->root_is_xsdt = true;
			return root;
		}
		if (rsdt)
			pr_warn("acpi: falling back to the RSDT at 0x%llx\n",
				(unsigned long long)rsdt);
	}
	if (!rsdt)
		return NULL;
	root = map_table(mem, rsdt, "RSDT", len);
	if (root)
		out->root_phys = rsdt;
	return root;
}

int acpi_parse(struct acpi_info *out, u64 rsdp_phys, const struct acpi_mem *mem)
{
	const u8 *rsdp, *root;
	u32 len;

	*out = (struct acpi_info){ 0 };
	if (!rsdp_phys) {
		pr_err("acpi: no RSDP\n");
		return -ENOENT;
	}
	rsdp = rsdp_check(mem, rsdp_phys, true);
	if (!rsdp)
		return -EBADMSG;
	for (int i = 0; i < 6; i++)
		out->oem_id[i] = (char)rsdp[RSDP_OEMID + i];
	out->rsdp_revision = rsdp[RSDP_REVISION];

	root = find_root(out, mem, rsdp, &len);
	if (!root) {
		pr_err("acpi: RSDP at 0x%llx: no valid XSDT or RSDT\n",
		       (unsigned long long)rsdp_phys);
		return -EBADMSG;
	}
	walk_root(out, mem, root, len);
	if (!out->madt_phys)
		pr_warn("acpi: no valid MADT\n");
	pr_info("acpi: %s at 0x%llx, OEM '%s': %u CPUs, %u I/O APICs, FADT at 0x%llx\n",
		out->root_is_xsdt ? "XSDT" : "RSDT", (unsigned long long)out->root_phys,
		out->oem_id, out->nr_cpus, out->nr_ioapics, (unsigned long long)out->fadt_phys);
	return 0;
}

/* First valid RSDP on a 16-byte boundary in [start, end), or 0. */
static u64 scan_rsdp(const struct acpi_mem *mem, u64 start, u64 end)
{
	for (u64 a = start; a < end; a += 16) {
		const u8 *p = map(mem, a, 8);

		if (p && sig_eq(p, "RSD PTR ") && rsdp_check(mem, a, false))
			return a;
	}
	return 0;
}

u64 acpi_find_rsdp_legacy(const struct acpi_mem *mem)
{
	const u8 *ptr = map(mem, EBDA_PTR, 2);
	u64 ebda = ptr ? (u64)get16(ptr) << 4 : 0;
	u64 found = 0;

	/* 5.2.5.1: the EBDA segment is at 40:0Eh; ignore one outside conventional memory */
	if (ebda >= 0x400 && ebda < 0xa0000)
		found = scan_rsdp(mem, ebda, ebda + EBDA_SCAN);
	if (!found)
		found = scan_rsdp(mem, BIOS_ROM, BIOS_ROM_END);
	if (found)
		pr_info("acpi: RSDP found at 0x%llx\n", (unsigned long long)found);
	return found;
}
