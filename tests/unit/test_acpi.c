/*
 * ACPI discovery against real firmware tables (tests/unit/data, dumped from
 * a Firecracker microVM) placed in a fake physical memory behind an RSDP and
 * XSDT/RSDT built here, and against hand-built broken variants.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <hv/errno.h>
#include <acpi/acpi.h>
#include "host_log.h"

/* Fake physical memory: [0, 1 MiB) and a 64 KiB window where firmware keeps its tables. */
#define LOW_SIZE  0x100000ULL
#define HIGH_BASE 0x7fe0000ULL
#define HIGH_SIZE 0x10000ULL

#define RSDP_AT 0x7fe0000ULL
#define XSDT_AT 0x7fe0100ULL
#define RSDT_AT 0x7fe0200ULL
#define MADT_AT 0x7fe1000ULL
#define FADT_AT 0x7fe2000ULL
#define MCFG_AT 0x7fe3000ULL
#define SYN_AT	0x7fe4000ULL /* hand-built tables */
#define SYN2_AT 0x7fe8000ULL

static u8 *low, *high; /* heap blocks of the exact size: ASan sees any overrun */

static const void *fake_map(void *ctx, u64 phys, u64 len)
{
	(void)ctx;
	if (phys < LOW_SIZE && len <= LOW_SIZE - phys)
		return low + phys;
	if (phys >= HIGH_BASE && phys - HIGH_BASE < HIGH_SIZE &&
	    len <= HIGH_SIZE - (phys - HIGH_BASE))
		return high + (phys - HIGH_BASE);
	return NULL;
}

static const struct acpi_mem mem = { .map = fake_map, .ctx = NULL };
static struct acpi_info info;

/* Writable view of physical memory, for building tables. */
static u8 *at(u64 phys)
{
	u8 *p = (u8 *)fake_map(NULL, phys, 1);
	assert_non_null(p);
	return p;
}

static void put16(u64 phys, u16 v)
{
	for (int i = 0; i < 2; i++)
		at(phys + i)[0] = (u8)(v >> (8 * i));
}

static void put32(u64 phys, u32 v)
{
	for (int i = 0; i < 4; i++)
		at(phys + i)[0] = (u8)(v >> (8 * i));
}

static void put64(u64 phys, u64 v)
{
	put32(phys, (u32)v);
	put32(phys + 4, (u32)(v >> 32));
}

static u32 get32(u64 phys)
{
	const u8 *p = at(phys);
	return p[0] | p[1] << 8 | p[2] << 16 | (u32)p[3] << 24;
}

/* Set the byte at phys + off so that len bytes from phys sum to 0. */
static void fix_sum(u64 phys, u32 len, u32 off)
{
	const u8 *p = fake_map(NULL, phys, len);
	u8 sum = 0;

	assert_non_null(p);
	at(phys + off)[0] = 0;
	for (u32 i = 0; i < len; i++)
		sum += p[i];
	at(phys + off)[0] = (u8)-sum;
}

/* Recompute a table's header checksum over its current length. */
static void seal(u64 phys)
{
	fix_sum(phys, get32(phys + 4), 9);
}

static void put_header(u64 phys, const char *sig, u32 len, u8 rev)
{
	memcpy(at(phys), sig, 4);
	put32(phys + 4, len);
	at(phys + 8)[0] = rev;
	memcpy(at(phys + 10), "HVTEST", 6);
	memcpy(at(phys + 16), "UNITTEST", 8);
	put32(phys + 24, 1);
	memcpy(at(phys + 28), "HVTC", 4);
	put32(phys + 32, 1);
}

static u32 load_fixture(const char *name, u64 phys)
{
	char path[512];
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "%s/%s", HV_TEST_DATA, name);
	f = fopen(path, "rb");
	if (!f)
		fail_msg("cannot open %s", path);
	n = fread(at(phys), 1, 4096, f);
	fclose(f);
	assert_true(n >= 36);
	assert_int_equal(get32(phys + 4), n); /* the dump is exactly one table */
	return (u32)n;
}

static void build_xsdt(u64 phys, const u64 *entry, u32 n)
{
	put_header(phys, "XSDT", 36 + 8 * n, 1);
	for (u32 i = 0; i < n; i++)
		put64(phys + 36 + 8 * i, entry[i]);
	seal(phys);
}

static void build_rsdt(u64 phys, const u64 *entry, u32 n)
{
	put_header(phys, "RSDT", 36 + 4 * n, 1);
	for (u32 i = 0; i < n; i++)
		put32(phys + 36 + 4 * i, (u32)entry[i]);
	seal(phys);
}

/* ACPI 6.5 5.2.5.3: revision 0 is the 20-byte ACPI 1.0 RSDP, revision 2 the 36-byte one. */
static void build_rsdp(u64 phys, u8 rev, u32 rsdt, u64 xsdt)
{
	memcpy(at(phys), "RSD PTR ", 8);
	memcpy(at(phys + 9), "FIRECK", 6);
	at(phys + 15)[0] = rev;
	put32(phys + 16, rsdt);
	fix_sum(phys, 20, 8);
	if (rev >= 2) {
		put32(phys + 20, 36);
		put64(phys + 24, xsdt);
		fix_sum(phys, 36, 32);
	}
}

/* Real tables, both root tables listing them, and a revision 2 RSDP naming both. */
static void build_real(u8 rsdp_rev)
{
	const u64 tables[] = { FADT_AT, MADT_AT, MCFG_AT };

	assert_int_equal(load_fixture("fc-apic.bin", MADT_AT), 72);
	assert_int_equal(load_fixture("fc-facp.bin", FADT_AT), 276);
	assert_int_equal(load_fixture("fc-mcfg.bin", MCFG_AT), 60);
	build_xsdt(XSDT_AT, tables, 3);
	build_rsdt(RSDT_AT, tables, 3);
	build_rsdp(RSDP_AT, rsdp_rev, RSDT_AT, rsdp_rev >= 2 ? XSDT_AT : 0);
}

/* Root tables listing the given MADT and the real FADT. */
static void build_with_madt(u64 madt)
{
	const u64 tables[] = { madt, FADT_AT };

	assert_int_equal(load_fixture("fc-facp.bin", FADT_AT), 276);
	build_xsdt(XSDT_AT, tables, 2);
	build_rsdt(RSDT_AT, tables, 2);
	build_rsdp(RSDP_AT, 2, RSDT_AT, XSDT_AT);
}

static int setup(void **state)
{
	(void)state;
	low = calloc(1, LOW_SIZE);
	high = calloc(1, HIGH_SIZE);
	assert_non_null(low);
	assert_non_null(high);
	memset(&info, 0xa5, sizeof(info)); /* acpi_parse() must set every field */
	host_log_clear();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	free(low);
	free(high);
	return 0;
}

static void expect_cpu(u32 i, u32 apic_id, u32 uid, bool enabled, bool online_capable, bool x2apic)
{
	assert_true(i < info.nr_cpus);
	assert_int_equal(info.cpus[i].apic_id, apic_id);
	assert_int_equal(info.cpus[i].uid, uid);
	assert_int_equal(info.cpus[i].enabled, enabled);
	assert_int_equal(info.cpus[i].online_capable, online_capable);
	assert_int_equal(info.cpus[i].x2apic, x2apic);
}

/* Everything the real Firecracker MADT says (see data/README and `iasl -d`). */
static void expect_real_madt(void)
{
	assert_int_equal(info.madt_phys, MADT_AT);
	assert_int_equal(info.lapic_base, 0xfee00000);
	assert_false(info.pcat_compat);
	assert_int_equal(info.nr_cpus, 2);
	expect_cpu(0, 0, 0, true, false, false);
	expect_cpu(1, 1, 1, true, false, false);
	assert_int_equal(info.nr_ioapics, 1);
	assert_int_equal(info.ioapics[0].id, 0);
	assert_int_equal(info.ioapics[0].base, 0xfec00000);
	assert_int_equal(info.ioapics[0].gsi_base, 0);
	assert_int_equal(info.nr_isos, 0);
	assert_int_equal(info.nr_lapic_nmis, 0);
}

/* Everything the real Firecracker FADT says: hardware-reduced, no fixed registers. */
static void expect_real_fadt(void)
{
	assert_int_equal(info.fadt_phys, FADT_AT);
	assert_int_equal(info.fadt_flags, 0x00100030);
	assert_true(info.fadt_flags & ACPI_FADT_HW_REDUCED_ACPI_BIT);
	assert_false(info.fadt_flags & ACPI_FADT_RESET_REG_SUP_BIT);
	assert_int_equal(info.sci_irq, 0);
	assert_int_equal(info.dsdt_phys, 0x9fd44); /* X_DSDT; the 32-bit DSDT field is 0 */
	assert_int_equal(info.pm1a_cnt.address, 0);
	assert_int_equal(info.pm1b_cnt.address, 0);
	assert_int_equal(info.pm_tmr.address, 0);
	assert_int_equal(info.reset_reg.address, 0);
	assert_int_equal(info.reset_value, 0);
	assert_int_equal(info.sleep_control.address, 0);
	assert_int_equal(info.sleep_status.address, 0);
}

static void test_real_tables_xsdt(void **state)
{
	(void)state;
	build_real(2);
	assert_int_equal(acpi_parse(&info, RSDP_AT, &mem), 0);
	assert_string_equal(info.oem_id, "FIRECK");
	assert_int_equal(info.rsdp_revision, 2);
	assert_true(info.root_is_xsdt);
	assert_int_equal(info.root_phys, XSDT_AT);
	assert_int_equal(info.mcfg_phys, MCFG_AT);
	expect_real_madt();
	expect_real_fadt();
	assert_int_equal(host_log_count(LOG_WARN), 0);
}

static void test_real_tables_rsdt(void **state)
{
	(void)state;
	build_real(0);
	assert_int_equal(acpi_parse(&info, RSDP_AT, &mem), 0);
	assert_int_equal(info.rsdp_revision, 0);
	assert_false(info.root_is_xsdt);
	assert_int_equal(info.root_phys, RSDT_AT);
	expect_real_madt();
	expect_real_fadt();
	assert_int_equal(host_log_count(LOG_WARN), 0);
}

/* Revision 2 with XsdtAddress 0: the RSDT is used. */
static void test_rsdp_v2_without_xsdt(void **state)
{
	(void)state;
	build_real(2);
	build_rsdp(RSDP_AT, 2, RSDT_AT, 0);
	assert_int_equal(acpi_parse(&info, RSDP_AT, &mem), 0);
	assert_false(info.root_is_xsdt);
	expect_real_madt();
}

static void test_rsdp_errors(void **state)
{
	(void)state;
	build_real(2);

	assert_int_equal(acpi_parse(&info, 0, &mem), -ENOENT);
	assert_int_equal(acpi_parse(&info, 0x40000000, &mem), -EBADMSG);
	assert_true(host_log_contains("RSDP at 0x40000000: not mapped"));

	at(RSDP_AT + 15)[0]++; /* revision changed, checksum not */
	assert_int_equal(acpi_parse(&info, RSDP_AT, &mem), -EBADMSG);
	assert_true(host_log_contains("RSDP at 0x7fe0000: checksum 0x01, want 0"));
	assert_int_equal(info.nr_cpus, 0);

	build_rsdp(RSDP_AT, 2, RSDT_AT, XSDT_AT);
	at(RSDP_AT + 24)[0]++; /* XsdtAddress is covered by the extended checksum only */
	assert_int_equal(acpi_parse(&info, RSDP_AT, &mem), -EBADMSG);
	assert_true(host_log_contains("RSDP at 0x7fe0000: extended checksum 0x01, want 0"));

	build_rsdp(RSDP_AT, 2, RSDT_AT, XSDT_AT);
	put32(RSDP_AT + 20, 20);
	fix_sum(RSDP_AT, 36, 32);
	assert_int_equal(acpi_parse(&info, RSDP_AT, &mem), -EBADMSG);
	assert_true(host_log_contains("RSDP at 0x7fe0000: length 20 invalid"));

	build_rsdp(RSDP_AT, 2, RSDT_AT, XSDT_AT);
	put32(RSDP_AT + 20, 0x20000); /* beyond the memory window */
	fix_sum(RSDP_AT, 36, 32);
	assert_int_equal(acpi_parse(&info, RSDP_AT, &mem), -EBADMSG);
	assert_true(host_log_contains("length 131072 runs past mapped memory"));

	build_rsdp(RSDP_AT, 2, RSDT_AT, XSDT_AT);
	memcpy(at(RSDP_AT), "RSD PTX ", 8);
	assert_int_equal(acpi_parse(&info, RSDP_AT, &mem), -EBADMSG);
	assert_true(host_log_contains("RSDP at 0x7fe0000: bad signature"));
}

static void test_bad_xsdt_falls_back_to_rsdt(void **state)
{
	(void)state;
	build_real(2);
	at(XSDT_AT + 36)[0] ^= 0x40; /* corrupt the first entry */
	assert_int_equal(acpi_parse(&info, RSDP_AT, &mem), 0);
	assert_true(host_log_contains("XSDT at 0x7fe0100: checksum 0x"));
	assert_true(host_log_contains("falling back to the RSDT at 0x7fe0200"));
	assert_false(info.root_is_xsdt);
	expect_real_madt();
	expect_real_fadt();
}

static void test_bad_xsdt_without_rsdt(void **state)
{
	(void)state;
	build_real(2);
	build_rsdp(RSDP_AT, 2, 0, XSDT_AT);
	at(XSDT_AT + 9)[0]++;
	assert_int_equal(acpi_parse(&info, RSDP_AT, &mem), -EBADMSG);
	assert_true(host_log_contains("XSDT at 0x7fe0100: checksum 0x01, want 0"));
	assert_true(host_log_contains("no valid XSDT or RSDT"));
	assert_int_equal(info.nr_cpus, 0);
	assert_int_equal(info.fadt_phys, 0);

	/* a root pointer to something else entirely */
	build_real(2);
	build_rsdp(RSDP_AT, 2, 0, MADT_AT);
	host_log_clear();
	assert_int_equal(acpi_parse(&info, RSDP_AT, &mem), -EBADMSG);
	assert_true(host_log_contains("XSDT at 0x7fe1000: signature 'APIC', want 'XSDT'"));
}

static void test_madt_bad_checksum(void **state)
{
	(void)state;
	build_real(2);
	at(MADT_AT + 0x43)[0]++; /* APIC ID of the second CPU */
	assert_int_equal(acpi_parse(&info, RSDP_AT, &mem), 0);
	assert_true(host_log_contains("MADT at 0x7fe1000: checksum 0x01, want 0"));
	assert_true(host_log_contains("no valid MADT"));
	assert_int_equal(info.nr_cpus, 0);
	assert_int_equal(info.nr_ioapics, 0);
	assert_int_equal(info.madt_phys, 0);
	assert_int_equal(info.lapic_base, 0);
	expect_real_fadt(); /* the other tables are still used */
	assert_int_equal(info.mcfg_phys, MCFG_AT);
}

/* A MADT whose length runs off the end of memory is not read past it. */
static void test_madt_past_mapped_memory(void **state)
{
	const u64 madt = HIGH_BASE + HIGH_SIZE - 72;
	(void)state;
	load_fixture("fc-apic.bin", madt);
	put32(madt + 4, 0x100);
	build_with_madt(madt);
	assert_int_equal(acpi_parse(&info, RSDP_AT, &mem), 0);
	assert_true(host_log_contains("MADT at 0x7feffb8: length 256 runs past mapped memory"));
	assert_int_equal(info.nr_cpus, 0);
	assert_int_equal(info.fadt_phys, FADT_AT);
}

static void test_madt_length_short(void **state)
{
	(void)state;
	load_fixture("fc-apic.bin", SYN_AT);
	put32(SYN_AT + 4, 20);
	build_with_madt(SYN_AT);
	assert_int_equal(acpi_parse(&info, RSDP_AT, &mem), 0);
	assert_true(host_log_contains("MADT at 0x7fe4000: length 20 shorter than its header (36)"));
	assert_int_equal(info.nr_cpus, 0);

	/* a valid header, but no room for the LAPIC address and flags */
	put32(SYN_AT + 4, 40);
	seal(SYN_AT);
	host_log_clear();
	assert_int_equal(acpi_parse(&info, RSDP_AT, &mem), 0);
	assert_true(
	    host_log_contains("MADT at 0x7fe4000: length 40 shorter than its fixed fields (44)"));
	assert_int_equal(info.nr_cpus, 0);
	assert_int_equal(info.madt_phys, 0);
}

/* Hand-built MADT (ACPI 6.5 5.2.12). */
struct madt {
	u64 phys;
	u32 len;
};

static void madt_begin(struct madt *m, u64 phys, u32 lapic, u32 flags)
{
	m->phys = phys;
	m->len = 44;
	put_header(phys, "APIC", 44, 5);
	put32(phys + 36, lapic);
	put32(phys + 40, flags);
}

static void madt_raw(struct madt *m, const u8 *e, u32 n)
{
	memcpy(at(m->phys + m->len), e, n);
	m->len += n;
}

static void madt_lapic(struct madt *m, u8 uid, u8 apic_id, u32 flags)
{
	const u8 e[8] = { 0, 8, uid, apic_id, (u8)flags, (u8)(flags >> 8), 0, 0 };
	madt_raw(m, e, sizeof(e));
}

static void madt_x2apic(struct madt *m, u32 id, u32 flags, u32 uid)
{
	u8 e[16] = { 9, 16 };
	for (int i = 0; i < 4; i++) {
		e[4 + i] = (u8)(id >> 8 * i);
		e[8 + i] = (u8)(flags >> 8 * i);
		e[12 + i] = (u8)(uid >> 8 * i);
	}
	madt_raw(m, e, sizeof(e));
}

static void madt_ioapic(struct madt *m, u8 id, u32 addr, u32 gsi)
{
	u8 e[12] = { 1, 12, id, 0 };
	for (int i = 0; i < 4; i++) {
		e[4 + i] = (u8)(addr >> 8 * i);
		e[8 + i] = (u8)(gsi >> 8 * i);
	}
	madt_raw(m, e, sizeof(e));
}

static void madt_iso(struct madt *m, u8 source, u32 gsi, u16 flags)
{
	u8 e[10] = { 2,
		     10,
		     0,
		     source,
		     (u8)gsi,
		     (u8)(gsi >> 8),
		     (u8)(gsi >> 16),
		     (u8)(gsi >> 24),
		     (u8)flags,
		     (u8)(flags >> 8) };
	madt_raw(m, e, sizeof(e));
}

static void madt_end(struct madt *m)
{
	put32(m->phys + 4, m->len);
	seal(m->phys);
}

/* Build m into SYN_AT, list it with the real FADT, parse. */
static void parse_madt(struct madt *m)
{
	madt_end(m);
	build_with_madt(m->phys);
	assert_int_equal(acpi_parse(&info, RSDP_AT, &mem), 0);
}

static void test_madt_zero_length_entry(void **state)
{
	static const u8 zero[8] = { 0, 0 };
	static const u8 one[2] = { 0x7f, 1 };
	struct madt m;
	(void)state;
	madt_begin(&m, SYN_AT, 0xfee00000, 0);
	madt_lapic(&m, 0, 0, 1);
	madt_raw(&m, zero, sizeof(zero)); /* would loop forever if trusted */
	madt_lapic(&m, 1, 1, 1);
	parse_madt(&m);
	assert_true(host_log_contains(
	    "MADT at 0x7fe4000: entry at 52 (type 0, len 0, 16 left): length below 2"));
	assert_int_equal(info.nr_cpus, 1);
	expect_cpu(0, 0, 0, true, false, false);
	assert_int_equal(info.madt_phys, SYN_AT); /* what came before the bad entry is kept */

	/* length 1, of a type we do not know */
	madt_begin(&m, SYN_AT, 0xfee00000, 0);
	madt_raw(&m, one, sizeof(one));
	madt_lapic(&m, 1, 1, 1);
	parse_madt(&m);
	assert_true(host_log_contains(
	    "MADT at 0x7fe4000: entry at 44 (type 127, len 1, 10 left): length below 2"));
	assert_int_equal(info.nr_cpus, 0);
}

static void test_madt_entry_past_end(void **state)
{
	static const u8 cut_ioapic[8] = {
		1, 12, 0, 0, 0, 0, 0xc0, 0xfe
	}; /* 12 claimed, 8 present */
	struct madt m;
	(void)state;
	madt_begin(&m, SYN_AT, 0xfee00000, 0);
	madt_lapic(&m, 0, 0, 1);
	madt_raw(&m, cut_ioapic, sizeof(cut_ioapic));
	parse_madt(&m);
	assert_true(
	    host_log_contains("entry at 52 (type 1, len 12, 8 left): runs past the table end"));
	assert_int_equal(info.nr_cpus, 1);
	assert_int_equal(info.nr_ioapics, 0);
}

static void test_madt_entry_too_short(void **state)
{
	static const u8 short_lapic[6] = { 0, 6, 2, 2, 1, 0 };
	static const u8 short_x2apic[12] = { 9, 12 };
	static const u8 one_byte[1] = { 0 };
	struct madt m;
	(void)state;
	madt_begin(&m, SYN_AT, 0xfee00000, 0);
	madt_lapic(&m, 0, 0, 1);
	madt_raw(&m, short_lapic, sizeof(short_lapic));
	madt_lapic(&m, 1, 1, 1);
	parse_madt(&m);
	assert_true(
	    host_log_contains("entry at 52 (type 0, len 6, 14 left): too short for its type"));
	assert_int_equal(info.nr_cpus, 1);

	madt_begin(&m, SYN_AT, 0xfee00000, 0);
	madt_raw(&m, short_x2apic, sizeof(short_x2apic));
	parse_madt(&m);
	assert_true(
	    host_log_contains("entry at 44 (type 9, len 12, 12 left): too short for its type"));
	assert_int_equal(info.nr_cpus, 0);

	/* one stray byte after the last entry */
	host_log_clear();
	madt_begin(&m, SYN_AT, 0xfee00000, 0);
	madt_lapic(&m, 0, 0, 1);
	madt_raw(&m, one_byte, sizeof(one_byte));
	parse_madt(&m);
	assert_true(host_log_contains("entry at 52 (type 0, len 0, 1 left): truncated"));
	assert_int_equal(info.nr_cpus, 1);
}

static void test_madt_duplicate_apic_id(void **state)
{
	struct madt m;
	(void)state;
	madt_begin(&m, SYN_AT, 0xfee00000, 0);
	madt_lapic(&m, 0, 3, 1);
	madt_lapic(&m, 1, 3, 1);
	madt_lapic(&m, 2, 4, 1);
	madt_x2apic(&m, 300, 1, 3);
	madt_x2apic(&m, 300, 1, 4);
	parse_madt(&m);
	assert_true(host_log_contains("duplicate APIC ID 3 (UID 1), ignored"));
	assert_true(host_log_contains("duplicate APIC ID 300 (UID 4), ignored"));
	assert_int_equal(info.nr_cpus, 3);
	expect_cpu(0, 3, 0, true, false, false);
	expect_cpu(1, 4, 2, true, false, false);
	expect_cpu(2, 300, 3, true, false, true);
}

/*
 * x2APIC entries: IDs >= 255 are new CPUs; an ID below 255 repeating a Local
 * APIC entry (as some firmware lists every CPU twice) is no new CPU and no
 * warning; the all-ones ID is no CPU at all.
 */
static void test_madt_x2apic(void **state)
{
	struct madt m;
	(void)state;
	madt_begin(&m, SYN_AT, 0xfee00000, 0);
	madt_lapic(&m, 0, 0, 1);
	madt_lapic(&m, 1, 1, 1);
	madt_x2apic(&m, 0, 1, 0);
	madt_x2apic(&m, 1, 1, 1);
	madt_x2apic(&m, 300, 1, 2);
	madt_x2apic(&m, 0x10000, 2, 3); /* online capable */
	madt_x2apic(&m, 0xffffffff, 1, 4);
	parse_madt(&m);
	assert_int_equal(host_log_count(LOG_WARN), 0);
	assert_int_equal(info.nr_cpus, 4);
	expect_cpu(0, 0, 0, true, false, false);
	expect_cpu(1, 1, 1, true, false, false);
	expect_cpu(2, 300, 2, true, false, true);
	expect_cpu(3, 0x10000, 3, false, true, true);
}

static void test_madt_disabled_cpus(void **state)
{
	struct madt m;
	(void)state;
	madt_begin(&m, SYN_AT, 0xfee00000, 0);
	madt_lapic(&m, 0, 0, 1);
	madt_lapic(&m, 1, 1, 0);    /* unusable */
	madt_lapic(&m, 2, 2, 2);    /* online capable */
	madt_lapic(&m, 3, 3, 3);    /* enabled; online capable is meaningless then */
	madt_lapic(&m, 4, 0xff, 0); /* an empty socket with the broadcast ID */
	parse_madt(&m);
	assert_int_equal(info.nr_cpus, 4);
	expect_cpu(0, 0, 0, true, false, false);
	expect_cpu(1, 1, 1, false, false, false);
	expect_cpu(2, 2, 2, false, true, false);
	expect_cpu(3, 3, 3, true, true, false);
	assert_int_equal(host_log_count(LOG_WARN), 0);
}

static void test_madt_too_many_cpus(void **state)
{
	struct madt m;
	(void)state;
	madt_begin(&m, SYN_AT, 0xfee00000, 0);
	for (u32 i = 0; i < ACPI_MAX_CPUS + 6; i++)
		madt_lapic(&m, (u8)i, (u8)i, 1);
	parse_madt(&m);
	assert_int_equal(info.nr_cpus, ACPI_MAX_CPUS);
	expect_cpu(ACPI_MAX_CPUS - 1, ACPI_MAX_CPUS - 1, ACPI_MAX_CPUS - 1, true, false, false);
	assert_true(host_log_contains("MADT lists 6 CPUs more than the 64 supported, ignored"));
	assert_int_equal(host_log_count(LOG_WARN), 1);
}

/* A PC-like MADT: two I/O APICs, the usual ISA overrides, NMIs, a LAPIC address override. */
static void test_madt_pc(void **state)
{
	static const u8 lapic_nmi[6] = { 4, 6, 0xff, 0x05, 0x00, 1 };
	static const u8 x2apic_nmi[12] = { 10, 12, 0x05, 0, 0xff, 0xff, 0xff, 0xff, 1 };
	static const u8 override[12] = { 5, 12, 0, 0, 0x00, 0x00, 0xe1, 0xfe, 0, 0, 0, 0 };
	static const u8 unknown[4] = { 0x7f, 4, 0xaa, 0x55 };
	struct madt m;
	(void)state;
	madt_begin(&m, SYN_AT, 0xfee00000, 1);
	madt_lapic(&m, 0, 0, 1);
	madt_lapic(&m, 1, 2, 1);
	madt_ioapic(&m, 8, 0xfec00000, 0);
	madt_ioapic(&m, 9, 0xfec01000, 24);
	madt_iso(&m, 0, 2, 0);
	madt_iso(&m, 9, 9, ACPI_MADT_POLARITY_HIGH | ACPI_MADT_TRIGGER_LEVEL);
	madt_raw(&m, lapic_nmi, sizeof(lapic_nmi));
	madt_raw(&m, x2apic_nmi, sizeof(x2apic_nmi));
	madt_raw(&m, unknown, sizeof(unknown));
	madt_raw(&m, override, sizeof(override));
	parse_madt(&m);
	assert_int_equal(host_log_count(LOG_WARN), 0);
	assert_true(info.pcat_compat);
	assert_int_equal(info.lapic_base, 0xfee10000);
	assert_int_equal(info.nr_cpus, 2);
	expect_cpu(1, 2, 1, true, false, false);
	assert_int_equal(info.nr_ioapics, 2);
	assert_int_equal(info.ioapics[1].id, 9);
	assert_int_equal(info.ioapics[1].base, 0xfec01000);
	assert_int_equal(info.ioapics[1].gsi_base, 24);
	assert_int_equal(info.nr_isos, 2);
	assert_int_equal(info.isos[0].bus, 0);
	assert_int_equal(info.isos[0].source, 0);
	assert_int_equal(info.isos[0].gsi, 2);
	assert_int_equal(info.isos[0].flags, 0);
	assert_int_equal(info.isos[1].source, 9);
	assert_int_equal(info.isos[1].gsi, 9);
	assert_int_equal(info.isos[1].flags, 0xd);
	assert_int_equal(info.nr_lapic_nmis, 2);
}

static void test_madt_too_many_ioapics(void **state)
{
	struct madt m;
	(void)state;
	madt_begin(&m, SYN_AT, 0xfee00000, 0);
	for (u32 i = 0; i < ACPI_MAX_IOAPICS + 1; i++)
		madt_ioapic(&m, (u8)i, 0xfec00000 + i * 0x1000, i * 24);
	parse_madt(&m);
	assert_int_equal(info.nr_ioapics, ACPI_MAX_IOAPICS);
	assert_int_equal(info.ioapics[7].gsi_base, 7 * 24);
	assert_true(host_log_contains("more than 8 I/O APICs, ID 8 ignored"));
}

/* Hand-built FADT. */
static void fadt_begin(u64 phys, u32 len, u8 rev)
{
	memset(at(phys), 0, len);
	put_header(phys, "FACP", len, rev);
}

static void parse_with_fadt(u64 fadt)
{
	const u64 tables[] = { MADT_AT, fadt };

	seal(fadt);
	load_fixture("fc-apic.bin", MADT_AT);
	build_xsdt(XSDT_AT, tables, 2);
	build_rsdp(RSDP_AT, 2, 0, XSDT_AT);
	assert_int_equal(acpi_parse(&info, RSDP_AT, &mem), 0);
}

/* An ACPI 1.0 FADT (116 bytes) as on PIIX4 chipsets: everything in I/O ports. */
static void test_fadt_legacy(void **state)
{
	(void)state;
	fadt_begin(SYN_AT, 116, 1);
	put32(SYN_AT + 40, 0x7fe9000); /* DSDT */
	put16(SYN_AT + 46, 9);	       /* SCI_INT */
	put32(SYN_AT + 56, 0xb000);    /* PM1a_EVT_BLK */
	put32(SYN_AT + 64, 0xb004);    /* PM1a_CNT_BLK */
	put32(SYN_AT + 76, 0xb008);    /* PM_TMR_BLK */
	at(SYN_AT + 88)[0] = 4;	       /* PM1_EVT_LEN */
	at(SYN_AT + 89)[0] = 2;	       /* PM1_CNT_LEN */
	at(SYN_AT + 91)[0] = 4;	       /* PM_TMR_LEN */
	put32(SYN_AT + 112, ACPI_FADT_TMR_VAL_EXT_BIT);
	parse_with_fadt(SYN_AT);
	assert_int_equal(info.fadt_phys, SYN_AT);
	assert_int_equal(info.dsdt_phys, 0x7fe9000);
	assert_int_equal(info.sci_irq, 9);
	assert_int_equal(info.fadt_flags, ACPI_FADT_TMR_VAL_EXT_BIT);
	assert_int_equal(info.pm1a_cnt.space_id, ACPI_GAS_SYSTEM_IO);
	assert_int_equal(info.pm1a_cnt.bit_width, 16);
	assert_int_equal(info.pm1a_cnt.address, 0xb004);
	assert_int_equal(info.pm1b_cnt.address, 0);
	assert_int_equal(info.pm_tmr.space_id, ACPI_GAS_SYSTEM_IO);
	assert_int_equal(info.pm_tmr.bit_width, 32);
	assert_int_equal(info.pm_tmr.address, 0xb008);
	assert_int_equal(info.reset_reg.address, 0); /* no room for it in ACPI 1.0 */
	expect_real_madt();
}

/* A revision 6 FADT: X_ blocks override the legacy ones where present, X_DSDT the DSDT. */
static void test_fadt_extended(void **state)
{
	static const u8 reset_gas[12] = { 1, 8, 0, 1, 0xf9, 0x0c };		/* I/O 0xcf9 */
	static const u8 x_pm1a_cnt[12] = { 1, 16, 0, 2, 0x04, 0x06 };		/* I/O 0x604 */
	static const u8 sleep_ctl[12] = { 0, 8, 0, 1, 0x00, 0x10, 0xd0, 0xfe }; /* MMIO */
	(void)state;
	fadt_begin(SYN_AT, 276, 6);
	put32(SYN_AT + 40, 0x7fe9000);
	put16(SYN_AT + 46, 9);
	put32(SYN_AT + 64, 0x999); /* ignored: X_PM1a_CNT_BLK is set */
	put32(SYN_AT + 76, 0x608); /* used: X_PM_TMR_BLK is empty */
	at(SYN_AT + 89)[0] = 2;
	at(SYN_AT + 91)[0] = 4;
	put32(SYN_AT + 112, ACPI_FADT_RESET_REG_SUP_BIT);
	memcpy(at(SYN_AT + 116), reset_gas, 12);
	at(SYN_AT + 128)[0] = 0x06;
	put64(SYN_AT + 140, 0x7fea000); /* X_DSDT */
	memcpy(at(SYN_AT + 172), x_pm1a_cnt, 12);
	memcpy(at(SYN_AT + 244), sleep_ctl, 12);
	parse_with_fadt(SYN_AT);
	assert_int_equal(info.dsdt_phys, 0x7fea000);
	assert_int_equal(info.pm1a_cnt.space_id, ACPI_GAS_SYSTEM_IO);
	assert_int_equal(info.pm1a_cnt.bit_width, 16);
	assert_int_equal(info.pm1a_cnt.access_size, 2);
	assert_int_equal(info.pm1a_cnt.address, 0x604);
	assert_int_equal(info.pm_tmr.address, 0x608);
	assert_int_equal(info.pm_tmr.bit_width, 32);
	assert_true(info.fadt_flags & ACPI_FADT_RESET_REG_SUP_BIT);
	assert_int_equal(info.reset_reg.space_id, ACPI_GAS_SYSTEM_IO);
	assert_int_equal(info.reset_reg.bit_width, 8);
	assert_int_equal(info.reset_reg.address, 0xcf9);
	assert_int_equal(info.reset_value, 6);
	assert_int_equal(info.sleep_control.space_id, ACPI_GAS_SYSTEM_MEMORY);
	assert_int_equal(info.sleep_control.address, 0xfed01000);
	assert_int_equal(info.sleep_status.address, 0);
}

static void test_fadt_too_short(void **state)
{
	(void)state;
	fadt_begin(SYN_AT, 100, 1);
	put16(SYN_AT + 46, 9);
	parse_with_fadt(SYN_AT);
	assert_true(host_log_contains(
	    "FADT at 0x7fe4000: length 100 shorter than the ACPI 1.0 FADT (116)"));
	assert_int_equal(info.fadt_phys, 0);
	assert_int_equal(info.sci_irq, 0);
	expect_real_madt();

	/* a bare header at the very end of memory: no field beyond it is read */
	fadt_begin(HIGH_BASE + HIGH_SIZE - 36, 36, 1);
	host_log_clear();
	parse_with_fadt(HIGH_BASE + HIGH_SIZE - 36);
	assert_true(
	    host_log_contains("FADT at 0x7feffdc: length 36 shorter than the ACPI 1.0 FADT"));
	assert_int_equal(info.fadt_phys, 0);
}

/* Null, unmapped, unknown and repeated entries in the root table. */
static void test_root_entries(void **state)
{
	const u64 tables[] = { 0, 0x40000000, SYN_AT, MADT_AT, SYN2_AT, FADT_AT };
	(void)state;
	build_real(2);
	put_header(SYN_AT, "HPET", 56, 1);
	seal(SYN_AT);
	load_fixture("fc-apic.bin", SYN2_AT); /* a second, valid MADT */
	build_xsdt(XSDT_AT, tables, ARRAY_SIZE(tables));
	build_rsdp(RSDP_AT, 2, 0, XSDT_AT);
	assert_int_equal(acpi_parse(&info, RSDP_AT, &mem), 0);
	assert_true(host_log_contains("XSDT entry 0 is null"));
	assert_true(host_log_contains("table at 0x40000000: header not mapped"));
	assert_true(host_log_contains("second MADT at 0x7fe8000 ignored"));
	assert_false(host_log_contains("HPET"));
	assert_int_equal(host_log_count(LOG_WARN), 3);
	expect_real_madt();
	expect_real_fadt();
	assert_int_equal(info.mcfg_phys, 0);
}

/* Legacy BIOS areas (ACPI 6.5 5.2.5.1). */
#define EBDA 0x9fc00ULL

static void set_ebda(u64 base)
{
	put16(0x40e, (u16)(base >> 4));
}

static void test_legacy_ebda(void **state)
{
	(void)state;
	set_ebda(EBDA);
	build_rsdp(EBDA + 0x40, 0, 0x7fe0200, 0);
	build_rsdp(0xf5a60, 0, 0x7fe0200, 0); /* both: the EBDA comes first */
	assert_int_equal(acpi_find_rsdp_legacy(&mem), EBDA + 0x40);
	assert_true(host_log_contains("RSDP found at 0x9fc40"));

	/* the last 16 bytes of the first KiB are searched, what follows is not */
	memset(at(EBDA + 0x40), 0, 20);
	memset(at(0xf5a60), 0, 20);
	build_rsdp(EBDA + 0x3f0, 0, 0x7fe0200, 0);
	assert_int_equal(acpi_find_rsdp_legacy(&mem), EBDA + 0x3f0);
	memset(at(EBDA + 0x3f0), 0, 16);
	build_rsdp(EBDA + 0x400, 0, 0x7fe0200, 0);
	assert_int_equal(acpi_find_rsdp_legacy(&mem), 0);
}

static void test_legacy_bios_area(void **state)
{
	(void)state;
	build_rsdp(0xf5a60, 0, 0x7fe0200, 0);
	assert_int_equal(acpi_find_rsdp_legacy(&mem), 0xf5a60); /* no EBDA pointer */

	build_rsdp(0xe0000, 0, 0x7fe0200, 0); /* lowest address comes first */
	assert_int_equal(acpi_find_rsdp_legacy(&mem), 0xe0000);

	set_ebda(0xa0000); /* outside conventional memory: ignored */
	build_rsdp(0xa0000, 0, 0x7fe0200, 0);
	assert_int_equal(acpi_find_rsdp_legacy(&mem), 0xe0000);
	set_ebda(0x300); /* inside the interrupt vector table: ignored */
	build_rsdp(0x300, 0, 0x7fe0200, 0);
	assert_int_equal(acpi_find_rsdp_legacy(&mem), 0xe0000);
}

static void test_legacy_rejects(void **state)
{
	(void)state;
	set_ebda(EBDA);
	/* a bad checksum in the EBDA does not stop the search */
	build_rsdp(EBDA, 0, 0x7fe0200, 0);
	at(EBDA + 16)[0]++;
	build_rsdp(0xf0000, 0, 0x7fe0200, 0);
	assert_int_equal(acpi_find_rsdp_legacy(&mem), 0xf0000);

	/* not on a 16-byte boundary: not found */
	memset(at(0xf0000), 0, 20);
	build_rsdp(0xe0008, 0, 0x7fe0200, 0);
	assert_int_equal(acpi_find_rsdp_legacy(&mem), 0);

	/* revision 2 with a bad extended checksum: not found */
	build_rsdp(0xf1000, 2, 0x7fe0200, 0x7fe0100);
	at(0xf1000 + 24)[0]++;
	assert_int_equal(acpi_find_rsdp_legacy(&mem), 0);

	/* a signature in the last paragraph, its checksum bytes beyond 1 MiB: no read past */
	memset(at(0xf1000), 0, 36);
	memcpy(at(0xffff0), "RSD PTR ", 8);
	host_log_clear();
	assert_int_equal(acpi_find_rsdp_legacy(&mem), 0);
	assert_int_equal(host_log_count(LOG_DEBUG), 0);
}

/* What the legacy scan finds is what acpi_parse() takes. */
static void test_legacy_then_parse(void **state)
{
	u64 rsdp;
	(void)state;
	build_real(2);
	build_rsdp(0xf6a20, 2, RSDT_AT, XSDT_AT);
	rsdp = acpi_find_rsdp_legacy(&mem);
	assert_int_equal(rsdp, 0xf6a20);
	assert_int_equal(acpi_parse(&info, rsdp, &mem), 0);
	assert_true(info.root_is_xsdt);
	expect_real_madt();
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_real_tables_xsdt),
		T(test_real_tables_rsdt),
		T(test_rsdp_v2_without_xsdt),
		T(test_rsdp_errors),
		T(test_bad_xsdt_falls_back_to_rsdt),
		T(test_bad_xsdt_without_rsdt),
		T(test_madt_bad_checksum),
		T(test_madt_past_mapped_memory),
		T(test_madt_length_short),
		T(test_madt_zero_length_entry),
		T(test_madt_entry_past_end),
		T(test_madt_entry_too_short),
		T(test_madt_duplicate_apic_id),
		T(test_madt_x2apic),
		T(test_madt_disabled_cpus),
		T(test_madt_too_many_cpus),
		T(test_madt_pc),
		T(test_madt_too_many_ioapics),
		T(test_fadt_legacy),
		T(test_fadt_extended),
		T(test_fadt_too_short),
		T(test_root_entries),
		T(test_legacy_ebda),
		T(test_legacy_bios_area),
		T(test_legacy_rejects),
		T(test_legacy_then_parse),
	};

	return cmocka_run_group_tests_name("acpi", tests, NULL, NULL);
}
