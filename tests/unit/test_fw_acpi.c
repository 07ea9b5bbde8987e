/*
 * The firmware's ACPI tables (guest/firmware/acpi.c) with the DSDT that iasl
 * compiled from dsdt.asl. Tables are built into a heap buffer of exact size
 * that stands for guest memory at a chosen address, and read back at the
 * byte offsets ACPI 6.5 chapter 5.2 gives (not through the builder's
 * structs). Then each table is written to its own file and decoded by
 * `iasl -d`, and FADT + MADT + DSDT are loaded by acpiexec (ACPICA, the
 * interpreter Linux uses); their output is checked too. Both tools come with
 * acpica-tools; a missing tool fails the test.
 */
#define _GNU_SOURCE /* memmem */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ctype.h>
#include <dirent.h>
#include <unistd.h>
#include <sys/wait.h>
#include <cmocka.h>

#include "acpi.h"

#define GPA_LOW	 0x7fe0000ULL	/* below 4 GiB: 32-bit DSDT pointer filled in */
#define GPA_HIGH 0x100002000ULL /* above 4 GiB: only X_DSDT reaches it */
#define CAP	 4096

/* ACPI 6.5 5.2.6 header, 5.2.5.3 RSDP, 5.2.9 FADT, 5.2.12 MADT offsets. */
#define HDR_LEN		 36
#define FADT_LEN	 276
#define FADT_DSDT	 40
#define FADT_IAPC	 109
#define FADT_FLAGS	 112
#define FADT_RESET_REG	 116
#define FADT_RESET_VALUE 128
#define FADT_MINOR	 131
#define FADT_X_FACS	 132
#define FADT_X_DSDT	 140
#define FADT_X_PM1A_EVT	 148
#define FADT_SLEEP_CTL	 244
#define FADT_SLEEP_STS	 256
#define FADT_HYPERVISOR	 268
#define MADT_FIXED_LEN	 44
#define FLAG_WBINVD	 (1U << 0)
#define FLAG_PWR_BUTTON	 (1U << 4)
#define FLAG_SLP_BUTTON	 (1U << 5)
#define FLAG_RESET_REG	 (1U << 10)
#define FLAG_HW_REDUCED	 (1U << 20)
#define IAPC_LEGACY	 (1U << 0)
#define IAPC_NO_VGA	 (1U << 2)

static u8 *buf;	  /* exactly CAP bytes: ASan catches any write past it */
static long used; /* acpi_build()'s result for buf */
static u64 base;  /* guest-physical address of buf */
static u64 rsdp;
static char tmpdir[] = "/tmp/fw_acpi_XXXXXX";

static u16 get16(const u8 *p)
{
	return (u16)(p[0] | p[1] << 8);
}

static u32 get32(const u8 *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (u32)p[3] << 24;
}

static u64 get64(const u8 *p)
{
	return get32(p) | (u64)get32(p + 4) << 32;
}

static u8 sum(const u8 *p, size_t len)
{
	u8 s = 0;

	while (len--)
		s += *p++;
	return s;
}

/* The len bytes at guest-physical addr; they must lie inside what acpi_build() used. */
static const u8 *at(u64 addr, u64 len)
{
	assert_true(addr >= base);
	assert_true(addr - base + len <= (u64)used);
	return buf + (addr - base);
}

static void build_at(u32 nr_cpus, u64 gpa)
{
	struct acpi_platform p;

	acpi_platform_defaults(&p, nr_cpus);
	memset(buf, 0xa5, CAP);
	base = gpa;
	rsdp = 0;
	used = acpi_build(buf, CAP, gpa, &p, &rsdp);
	assert_true(used > 0);
	assert_int_equal(used % 16, 0);
	assert_true(used <= CAP);
}

static void build(u32 nr_cpus)
{
	build_at(nr_cpus, GPA_LOW);
}

/* Check a table's header at addr; return its length. */
static u32 check_table(u64 addr, const char *sig, u8 revision)
{
	const u8 *h = at(addr, HDR_LEN);
	u32 len = get32(h + 4);

	assert_memory_equal(h, sig, 4);
	assert_true(len >= HDR_LEN);
	h = at(addr, len);
	assert_int_equal(h[8], revision);
	assert_int_equal(sum(h, len), 0);
	assert_memory_equal(h + 10, "HVMICR", 6);
	assert_memory_equal(h + 16, "VSIPC   ", 8);
	assert_int_equal(addr % 16, 0);
	return len;
}

static u64 xsdt_addr(void)
{
	return get64(at(rsdp + 24, 8));
}

static u64 xsdt_entry(u32 i)
{
	return get64(at(xsdt_addr() + HDR_LEN + 8 * i, 8));
}

static u64 fadt_addr(void)
{
	return xsdt_entry(0);
}

static u64 madt_addr(void)
{
	return xsdt_entry(1);
}

static u64 dsdt_addr(void)
{
	return get64(at(fadt_addr() + FADT_X_DSDT, 8));
}

static u32 dsdt_len(void)
{
	return (u32)(dsdt_aml_end - dsdt_aml);
}

static const u32 cpu_counts[] = { 1, 2, 4 };

/* RSDP first in the buffer, revision 2, both checksums, pointing at the XSDT. */
static void test_rsdp(void **state)
{
	(void)state;
	for (size_t c = 0; c < ARRAY_SIZE(cpu_counts); c++) {
		build(cpu_counts[c]);
		assert_int_equal(rsdp, base);
		const u8 *r = at(rsdp, 36);
		assert_memory_equal(r, "RSD PTR ", 8);
		assert_int_equal(sum(r, 20), 0);
		assert_int_equal(sum(r, 36), 0);
		assert_memory_equal(r + 9, "HVMICR", 6);
		assert_int_equal(r[15], 2);
		assert_int_equal(get32(r + 16), 0); /* no RSDT */
		assert_int_equal(get32(r + 20), 36);
		check_table(xsdt_addr(), "XSDT", 1);
	}
}

/* The XSDT lists exactly the FADT and the MADT; no two tables overlap. */
static void test_xsdt(void **state)
{
	(void)state;
	for (size_t c = 0; c < ARRAY_SIZE(cpu_counts); c++) {
		build(cpu_counts[c]);
		assert_int_equal(check_table(xsdt_addr(), "XSDT", 1), HDR_LEN + 2 * 8);
		assert_int_equal(check_table(fadt_addr(), "FACP", 6), FADT_LEN);
		check_table(madt_addr(), "APIC", 5);

		const u64 start[] = { rsdp, xsdt_addr(), fadt_addr(), madt_addr(), dsdt_addr() };
		const u64 len[] = { 36, HDR_LEN + 16, FADT_LEN, get32(at(madt_addr() + 4, 4)),
				    dsdt_len() };
		u64 end = 0;
		for (size_t i = 0; i < ARRAY_SIZE(start); i++) {
			for (size_t j = 0; j < i; j++)
				assert_true(start[i] >= start[j] + len[j] ||
					    start[j] >= start[i] + len[i]);
			end = start[i] + len[i] > end ? start[i] + len[i] : end;
		}
		/* Nothing used beyond the last table's alignment padding. */
		assert_true(base + used - end < 16);
	}
}

static void check_gas_io8(const u8 *g, u16 port)
{
	assert_int_equal(g[0], 1); /* system I/O */
	assert_int_equal(g[1], 8); /* bit width */
	assert_int_equal(g[2], 0); /* bit offset */
	assert_int_equal(g[3], 1); /* byte access */
	assert_int_equal(get64(g + 4), port);
}

/* Hardware-reduced FADT: flags, boot architecture, reset and sleep registers, DSDT. */
static void test_fadt(void **state)
{
	(void)state;
	for (size_t c = 0; c < ARRAY_SIZE(cpu_counts); c++) {
		build(cpu_counts[c]);
		const u8 *f = at(fadt_addr(), FADT_LEN);

		assert_int_equal(get32(f + FADT_FLAGS), FLAG_WBINVD | FLAG_PWR_BUTTON |
							    FLAG_SLP_BUTTON | FLAG_RESET_REG |
							    FLAG_HW_REDUCED);
		/* Legacy devices, no VGA; 8042, MSI-not-supported, no-CMOS-RTC all clear. */
		assert_int_equal(get16(f + FADT_IAPC), IAPC_LEGACY | IAPC_NO_VGA);
		assert_int_equal(f[FADT_MINOR], 3);
		check_gas_io8(f + FADT_RESET_REG, 0xCF9);
		assert_int_equal(f[FADT_RESET_VALUE], 0x06);
		check_gas_io8(f + FADT_SLEEP_CTL, 0x600);
		check_gas_io8(f + FADT_SLEEP_STS, 0x601);
		assert_int_equal(get32(f + FADT_DSDT), dsdt_addr());
		assert_int_equal(get64(f + FADT_X_FACS), 0);
		/* No FACS, SCI, SMI, PM blocks, PM timer or GPEs: bytes 36..108 are zero... */
		for (u32 i = HDR_LEN; i < FADT_IAPC; i++)
			if (i < FADT_DSDT || i >= FADT_DSDT + 4)
				assert_int_equal(f[i], 0);
		/* ...and so are the extended blocks X_PM1a_EVT_BLK..X_GPE1_BLK and the vendor ID. */
		for (u32 i = FADT_X_PM1A_EVT; i < FADT_SLEEP_CTL; i++)
			assert_int_equal(f[i], 0);
		assert_int_equal(get64(f + FADT_HYPERVISOR), 0);
	}
}

/* The DSDT behind the FADT is the iasl-compiled blob, intact. */
static void test_dsdt(void **state)
{
	(void)state;
	build(2);
	assert_int_equal(check_table(dsdt_addr(), "DSDT", 2), dsdt_len());
	assert_memory_equal(at(dsdt_addr(), dsdt_len()), dsdt_aml, dsdt_len());
	assert_non_null(memmem(dsdt_aml, dsdt_len(), "_S5_", 4));
	for (u32 i = 0; i < 2; i++)
		assert_memory_not_equal(at(xsdt_entry(i), 4), "DSDT",
					4); /* reached via FADT only */
}

/* One enabled LAPIC per CPU (UID = APIC ID = index), the IOAPIC, IRQ0 -> GSI 2, NMI LINT1. */
static void check_madt(u32 n, u8 ioapic_id, u32 ioapic_base)
{
	u64 madt = madt_addr();
	u32 len = check_table(madt, "APIC", 5);
	const u8 *m = at(madt, len);
	u32 off = MADT_FIXED_LEN, cpus = 0, ioapics = 0, isos = 0, nmis = 0;

	assert_int_equal(len, MADT_FIXED_LEN + 8 * n + 12 + 10 + 6);
	assert_int_equal(get32(m + 36), 0xFEE00000);
	assert_int_equal(get32(m + 40), 0); /* PCAT_COMPAT clear */
	while (off < len) {
		const u8 *e = m + off;

		assert_true(e[1] >= 2 && off + e[1] <= len);
		switch (e[0]) {
		case 0:
			assert_int_equal(e[1], 8);
			assert_int_equal(e[2], cpus); /* ACPI processor UID */
			assert_int_equal(e[3], cpus); /* APIC ID */
			assert_int_equal(get32(e + 4), 1);
			cpus++;
			break;
		case 1:
			assert_int_equal(e[1], 12);
			assert_int_equal(e[2], ioapic_id);
			assert_int_equal(get32(e + 4), ioapic_base);
			assert_int_equal(get32(e + 8), 0);
			ioapics++;
			break;
		case 2:
			assert_int_equal(e[1], 10);
			assert_int_equal(e[2], 0); /* ISA */
			assert_int_equal(e[3], 0);
			assert_int_equal(get32(e + 4), 2);
			assert_int_equal(get16(e + 8), 0);
			isos++;
			break;
		case 4:
			assert_int_equal(e[1], 6);
			assert_int_equal(e[2], 0xFF);
			assert_int_equal(get16(e + 3), 0);
			assert_int_equal(e[5], 1);
			nmis++;
			break;
		default:
			fail_msg("unexpected MADT entry type %u at offset %u", e[0], off);
		}
		off += e[1];
	}
	assert_int_equal(off, len);
	assert_int_equal(cpus, n);
	assert_int_equal(ioapics, 1);
	assert_int_equal(isos, 1);
	assert_int_equal(nmis, 1);
}

static void test_madt(void **state)
{
	(void)state;
	for (size_t c = 0; c < ARRAY_SIZE(cpu_counts); c++) {
		build(cpu_counts[c]);
		check_madt(cpu_counts[c], (u8)cpu_counts[c], 0xFEC00000);
	}
}

/* Every number comes from the platform struct, not from constants in the builder. */
static void test_platform_values(void **state)
{
	/* A DSDT other than the linked one, of odd length, ending in a non-zero byte. */
	u8 dsdt[HDR_LEN + 5] = { 'D', 'S', 'D', 'T', sizeof(dsdt), 0, 0, 0, 2 };
	const u8 body[5] = { 0x10, 0x05, '_', 'S', 'B' };
	struct acpi_platform p;

	(void)state;
	memcpy(dsdt + HDR_LEN, body, sizeof(body));
	dsdt[9] = (u8)-sum(dsdt, sizeof(dsdt));
	acpi_platform_defaults(&p, 3);
	p.dsdt = dsdt;
	p.dsdt_len = sizeof(dsdt);
	p.lapic_base = 0xFEE10000;
	p.ioapic_id = 7;
	p.ioapic_base = 0xFEC01000;
	p.sleep_ctl_port = 0x700;
	p.sleep_sts_port = 0x704;
	p.reset_port = 0x64;
	p.reset_value = 0xFE;
	base = GPA_LOW;
	used = acpi_build(buf, CAP, base, &p, &rsdp);
	assert_true(used > 0);
	assert_int_equal(get32(at(madt_addr() + 36, 4)), 0xFEE10000);
	assert_int_equal(get32(at(dsdt_addr() + 4, 4)), sizeof(dsdt));
	assert_memory_equal(at(dsdt_addr(), sizeof(dsdt)), dsdt, sizeof(dsdt));
	assert_true(base + used - (dsdt_addr() + sizeof(dsdt)) < 16); /* sized by dsdt_len */
	p.lapic_base = 0xFEE00000;
	used = acpi_build(buf, CAP, base, &p, &rsdp);
	assert_true(used > 0);
	check_madt(3, 7, 0xFEC01000);
	const u8 *f = at(fadt_addr(), FADT_LEN);
	check_gas_io8(f + FADT_SLEEP_CTL, 0x700);
	check_gas_io8(f + FADT_SLEEP_STS, 0x704);
	check_gas_io8(f + FADT_RESET_REG, 0x64);
	assert_int_equal(f[FADT_RESET_VALUE], 0xFE);
}

/* The largest VSI: 255 CPUs, APIC IDs 0..254, still within one 4 KiB page. */
static void test_max_cpus(void **state)
{
	(void)state;
	build(ACPI_VSI_MAX_CPUS);
	check_madt(ACPI_VSI_MAX_CPUS, ACPI_VSI_MAX_CPUS, 0xFEC00000);
}

/* Tables above 4 GiB: the 32-bit DSDT pointer is 0, the 64-bit ones carry the addresses. */
static void test_above_4g(void **state)
{
	(void)state;
	build_at(2, GPA_HIGH);
	assert_int_equal(rsdp, GPA_HIGH);
	assert_true(xsdt_addr() > 0xFFFFFFFFULL);
	check_table(fadt_addr(), "FACP", 6);
	check_table(madt_addr(), "APIC", 5);
	check_table(dsdt_addr(), "DSDT", 2);
	assert_int_equal(get32(at(fadt_addr() + FADT_DSDT, 4)), 0);
	assert_true(dsdt_addr() > 0xFFFFFFFFULL);
}

static long build_with(const struct acpi_platform *p, size_t cap, u64 gpa)
{
	u64 r = 0x1234;
	long ret;

	memset(buf, 0xa5, CAP);
	ret = acpi_build(buf, cap, gpa, p, &r);
	assert_int_equal(r, 0x1234); /* untouched on error */
	for (size_t i = 0; i < CAP; i++)
		assert_int_equal(buf[i], 0xa5); /* nothing written on error */
	return ret;
}

static void test_errors(void **state)
{
	struct acpi_platform p, bad;
	u8 *dsdt = malloc(dsdt_len());
	u64 r;

	(void)state;
	assert_non_null(dsdt);
	acpi_platform_defaults(&p, 4);
	long need = acpi_build(buf, CAP, GPA_LOW, &p, &r);
	assert_true(need > 0);

	assert_int_equal(build_with(&p, (size_t)need - 1, GPA_LOW), -FW_ENOSPC);
	assert_int_equal(build_with(&p, 36, GPA_LOW), -FW_ENOSPC);
	assert_int_equal(build_with(&p, 0, GPA_LOW), -FW_ENOSPC);
	assert_int_equal(build_with(NULL, CAP, GPA_LOW), -FW_EINVAL);
	assert_int_equal(build_with(&p, CAP, GPA_LOW + 8), -FW_EINVAL); /* RSDP not 16-aligned */
	assert_int_equal(acpi_build(buf, CAP, GPA_LOW, &p, NULL), -FW_EINVAL);

	bad = p;
	bad.nr_cpus = 0;
	assert_int_equal(build_with(&bad, CAP, GPA_LOW), -FW_EINVAL);
	bad = p;
	bad.nr_cpus = 256;
	assert_int_equal(build_with(&bad, CAP, GPA_LOW), -FW_EINVAL);
	bad = p;
	bad.lapic_base = 0x100000000ULL;
	assert_int_equal(build_with(&bad, CAP, GPA_LOW), -FW_EINVAL);
	bad = p;
	bad.ioapic_base = 0;
	assert_int_equal(build_with(&bad, CAP, GPA_LOW), -FW_EINVAL);
	bad = p;
	bad.sleep_ctl_port = 0;
	assert_int_equal(build_with(&bad, CAP, GPA_LOW), -FW_EINVAL);
	bad = p;
	bad.dsdt_len = dsdt_len() - 1;
	assert_int_equal(build_with(&bad, CAP, GPA_LOW), -FW_EINVAL);

	/* A DSDT with a broken checksum or signature is refused, not copied. */
	memcpy(dsdt, dsdt_aml, dsdt_len());
	dsdt[dsdt_len() - 1] ^= 1;
	bad = p;
	bad.dsdt = dsdt;
	assert_int_equal(build_with(&bad, CAP, GPA_LOW), -FW_EINVAL);
	memcpy(dsdt, dsdt_aml, dsdt_len());
	memcpy(dsdt, "SSDT", 4);
	assert_int_equal(build_with(&bad, CAP, GPA_LOW), -FW_EINVAL);
	free(dsdt);

	/* The exact size is enough. */
	used = acpi_build(buf, (size_t)need, GPA_LOW, &p, &r);
	assert_int_equal(used, need);
}

/* ---- iasl -d and acpiexec on the dumped tables ---- */

static void write_file(const char *name, const void *data, size_t len)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	f = fopen(path, "wb");
	if (!f)
		fail_msg("cannot create %s", path);
	assert_int_equal(fwrite(data, 1, len, f), len);
	fclose(f);
}

/* The whole file, NUL-terminated; the caller frees it. */
static char *read_file(const char *name)
{
	char path[256];
	FILE *f;
	long n;
	char *s;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	f = fopen(path, "rb");
	if (!f)
		fail_msg("cannot open %s", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	s = malloc((size_t)n + 1);
	assert_non_null(s);
	assert_int_equal(fread(s, 1, (size_t)n, f), n);
	s[n] = 0;
	fclose(f);
	return s;
}

/* Run a shell command in tmpdir with output to log; fail unless it exits 0. */
static void run_in_tmpdir(const char *cmd, const char *log)
{
	char line[1024];
	int st;

	snprintf(line, sizeof(line), "cd '%s' && %s > %s 2>&1", tmpdir, cmd, log);
	st = system(line);
	if (st == -1 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		char *out = read_file(log);
		fprintf(stderr, "%s\n", out);
		free(out);
		fail_msg("'%s' failed (status %d) in %s", cmd, st, tmpdir);
	}
}

static void require_tool(const char *tool)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "command -v %s > /dev/null 2>&1", tool);
	if (system(cmd) != 0)
		fail_msg("%s not found in PATH: install acpica-tools (make deps)", tool);
}

/* Write a table as <name>.dat, decode it with iasl -d; return the .dsl and the log. */
static char *iasl_decode(const char *name, u64 addr, char **log)
{
	char file[64], cmd[128], logname[64];
	u32 len = get32(at(addr + 4, 4));

	snprintf(file, sizeof(file), "%s.dat", name);
	snprintf(logname, sizeof(logname), "%s.log", name);
	write_file(file, at(addr, len), len);
	snprintf(cmd, sizeof(cmd), "iasl -vs -d %s", file);
	run_in_tmpdir(cmd, logname);
	*log = read_file(logname);
	snprintf(file, sizeof(file), "%s.dsl", name);
	return read_file(file);
}

/* iasl found nothing to complain about in this table. */
static void assert_clean(const char *log)
{
	if (strstr(log, "Warning") || strstr(log, "Error") || strstr(log, "Incorrect"))
		fail_msg("iasl complained:\n%s", log);
}

/* s without any white space (iasl's column alignment is not what is tested). */
static char *squeeze(const char *s)
{
	char *out = malloc(strlen(s) + 1), *o = out;

	assert_non_null(out);
	for (; *s; s++)
		if (!isspace((unsigned char)*s))
			*o++ = *s;
	*o = 0;
	return out;
}

/*
 * The value of the first "field : value" line after anchor in iasl's data
 * table output, e.g. dsl_value(dsl, "Sleep Control Register", "Address").
 */
static const char *dsl_value(const char *dsl, const char *anchor, const char *field)
{
	static char val[64];
	char pat[96];
	const char *p = strstr(dsl, anchor);
	size_t n = 0;

	if (!p)
		fail_msg("iasl output has no '%s'", anchor);
	snprintf(pat, sizeof(pat), " %s : ", field);
	p = strstr(p, pat);
	if (!p)
		fail_msg("iasl output has no '%s' after '%s'", field, anchor);
	p += strlen(pat);
	while (p[n] && p[n] != '\n' && n < sizeof(val) - 1)
		n++;
	memcpy(val, p, n);
	val[n] = 0;
	while (n && val[n - 1] == ' ')
		val[--n] = 0;
	return val;
}

static void check_iasl_fadt(void)
{
	char *log, *dsl = iasl_decode("facp", fadt_addr(), &log);
	char want[32];

	assert_clean(log);
	assert_non_null(strstr(log, "ACPI: FACP 0x0000000000000000 000114 (v06 HVMICR VSIPC    "));
	assert_string_equal(dsl_value(dsl, "[FACP]", "Revision"), "06");
	assert_string_equal(dsl_value(dsl, "[FACP]", "FADT Minor Revision"), "03");
	assert_string_equal(dsl_value(dsl, "Flags (decoded below)", "Hardware Reduced (V5)"), "1");
	assert_string_equal(
	    dsl_value(dsl, "Flags (decoded below)", "Reset Register Supported (V2)"), "1");
	assert_string_equal(
	    dsl_value(dsl, "Flags (decoded below)", "WBINVD instruction is operational (V1)"), "1");
	assert_string_equal(dsl_value(dsl, "Boot Flags", "8042 Present on ports 60/64 (V2)"), "0");
	assert_string_equal(dsl_value(dsl, "Boot Flags", "VGA Not Present (V4)"), "1");
	assert_string_equal(dsl_value(dsl, "Boot Flags", "MSI Not Supported (V4)"), "0");
	assert_string_equal(dsl_value(dsl, "Boot Flags", "CMOS RTC Not Present (V5)"), "0");
	assert_string_equal(dsl_value(dsl, "[FACP]", "PM Timer Block Address"), "00000000");
	assert_string_equal(dsl_value(dsl, "[FACP]", "SCI Interrupt"), "0000");
	assert_string_equal(dsl_value(dsl, "Sleep Control Register", "Space ID"), "01 [SystemIO]");
	assert_string_equal(dsl_value(dsl, "Sleep Control Register", "Bit Width"), "08");
	assert_string_equal(dsl_value(dsl, "Sleep Control Register", "Address"),
			    "0000000000000600");
	assert_string_equal(dsl_value(dsl, "Sleep Status Register", "Address"), "0000000000000601");
	assert_string_equal(dsl_value(dsl, "Reset Register", "Space ID"), "01 [SystemIO]");
	assert_string_equal(dsl_value(dsl, "Reset Register", "Address"), "0000000000000CF9");
	assert_string_equal(dsl_value(dsl, "[FACP]", "Value to cause reset"), "06");
	/* Both DSDT pointers: the 32-bit one first, X_DSDT after the minor revision. */
	snprintf(want, sizeof(want), "%08llX", (unsigned long long)dsdt_addr());
	assert_string_equal(dsl_value(dsl, "[FACP]", "DSDT Address"), want);
	snprintf(want, sizeof(want), "%016llX", (unsigned long long)dsdt_addr());
	assert_string_equal(dsl_value(dsl, "FADT Minor Revision", "DSDT Address"), want);
	free(dsl);
	free(log);
}

static void check_iasl_madt(u32 n)
{
	char *log, *dsl = iasl_decode("apic", madt_addr(), &log);
	const char *p = dsl;
	char want[16];

	assert_clean(log);
	assert_string_equal(dsl_value(dsl, "[APIC]", "Revision"), "05");
	assert_string_equal(dsl_value(dsl, "[APIC]", "Local Apic Address"), "FEE00000");
	assert_string_equal(dsl_value(dsl, "[APIC]", "PC-AT Compatibility"), "0");
	for (u32 i = 0; i < n; i++) {
		p = strstr(p, "[Processor Local APIC]");
		assert_non_null(p);
		snprintf(want, sizeof(want), "%02X", i);
		assert_string_equal(dsl_value(p, "[Processor Local APIC]", "Local Apic ID"), want);
		assert_string_equal(dsl_value(p, "[Processor Local APIC]", "Processor ID"), want);
		assert_string_equal(dsl_value(p, "[Processor Local APIC]", "Processor Enabled"),
				    "1");
		p++;
	}
	assert_null(strstr(p, "[Processor Local APIC]")); /* exactly n */
	snprintf(want, sizeof(want), "%02X", n);
	assert_string_equal(dsl_value(dsl, "[I/O APIC]", "I/O Apic ID"), want);
	assert_string_equal(dsl_value(dsl, "[I/O APIC]", "Address"), "FEC00000");
	assert_string_equal(dsl_value(dsl, "[I/O APIC]", "Interrupt"), "00000000");
	assert_string_equal(dsl_value(dsl, "[Interrupt Source Override]", "Source"), "00");
	assert_string_equal(dsl_value(dsl, "[Interrupt Source Override]", "Interrupt"), "00000002");
	assert_string_equal(dsl_value(dsl, "[Local APIC NMI]", "Processor ID"), "FF");
	assert_string_equal(dsl_value(dsl, "[Local APIC NMI]", "Interrupt Input LINT"), "01");
	free(dsl);
	free(log);
}

static void check_iasl_xsdt(void)
{
	char *log, *dsl = iasl_decode("xsdt", xsdt_addr(), &log);
	char want[32];

	assert_clean(log);
	snprintf(want, sizeof(want), "%016llX", (unsigned long long)fadt_addr());
	assert_string_equal(dsl_value(dsl, "[XSDT]", "ACPI Table Address   0"), want);
	snprintf(want, sizeof(want), "%016llX", (unsigned long long)madt_addr());
	assert_string_equal(dsl_value(dsl, "[XSDT]", "ACPI Table Address   1"), want);
	assert_null(strstr(dsl, "ACPI Table Address   2"));
	free(dsl);
	free(log);
}

/* The strings the DSDT's disassembly must contain, compared without white space. */
static const char *const dsdt_expect[] = {
	"DefinitionBlock(\"\",\"DSDT\",2,\"HVMICR\",\"VSIPC\",0x00000001)",
	"Name(_S5,Package(0x04)//_S5_:S5SystemState{0x05,0x05,Zero,Zero})",
	"Device(PCI0){Name(_HID,EisaId(\"PNP0A03\")",
	"Name(_SEG,Zero)",
	"Name(_BBN,Zero)",
	"Name(_UID,Zero)",
	"WordBusNumber(ResourceProducer,MinFixed,MaxFixed,PosDecode,0x0000,//Granularity"
	"0x0000,//RangeMinimum0x0000,//RangeMaximum0x0000,//TranslationOffset0x0001,//Length",
	"IO(Decode16,0x0CF8,//RangeMinimum0x0CF8,//RangeMaximum0x01,//Alignment0x08,//Length)",
	"WordIO(ResourceProducer,MinFixed,MaxFixed,PosDecode,EntireRange,0x0000,//Granularity"
	"0x1000,//RangeMinimum0xFFFF,//RangeMaximum0x0000,//TranslationOffset0xF000,//Length",
	"DWordMemory(ResourceProducer,PosDecode,MinFixed,MaxFixed,NonCacheable,ReadWrite,"
	"0x00000000,//Granularity0xC0000000,//RangeMinimum0xFEBFFFFF,//RangeMaximum"
	"0x00000000,//TranslationOffset0x3EC00000,//Length",
	"Device(COM1){Name(_HID,EisaId(\"PNP0501\")",
	"IO(Decode16,0x03F8,//RangeMinimum0x03F8,//RangeMaximum0x01,//Alignment0x08,//Length)"
	"IRQNoFlags(){4}",
};

static void check_iasl_dsdt(void)
{
	char *log, *dsl = iasl_decode("dsdt", dsdt_addr(), &log);
	char *flat = squeeze(dsl);

	assert_clean(log);
	assert_non_null(strstr(log, "Disassembly completed"));
	for (size_t i = 0; i < ARRAY_SIZE(dsdt_expect); i++) {
		char *want = squeeze(dsdt_expect[i]);
		if (!strstr(flat, want))
			fail_msg("DSDT disassembly lacks %s:\n%s", dsdt_expect[i], dsl);
		free(want);
	}
	free(flat);
	free(dsl);
	free(log);
}

static void test_iasl_decodes_tables(void **state)
{
	(void)state;
	require_tool("iasl");
	for (size_t c = 0; c < ARRAY_SIZE(cpu_counts); c++) {
		build(cpu_counts[c]);
		check_iasl_xsdt();
		check_iasl_fadt();
		check_iasl_madt(cpu_counts[c]);
		check_iasl_dsdt();
	}
}

/* The harness notices a bad table: a wrong FADT checksum makes iasl complain. */
static void test_iasl_sees_bad_checksum(void **state)
{
	char *log, *dsl;

	(void)state;
	require_tool("iasl");
	build(1);
	buf[fadt_addr() - base + 9] ^= 0x40;
	dsl = iasl_decode("badfacp", fadt_addr(), &log);
	assert_non_null(strstr(log, "Incorrect checksum in table [FACP]"));
	assert_non_null(strstr(dsl, "Incorrect checksum"));
	free(dsl);
	free(log);
}

/*
 * ACPICA loads FADT, MADT and DSDT as Linux would (acpiexec builds its own
 * RSDP and XSDT around them) and evaluates the objects Linux uses.
 */
static void test_acpiexec_evaluates_dsdt(void **state)
{
	char *out, *flat;

	(void)state;
	require_tool("acpiexec");
	build(2);
	write_file("facp.dat", at(fadt_addr(), FADT_LEN), FADT_LEN);
	write_file("apic.dat", at(madt_addr(), get32(at(madt_addr() + 4, 4))),
		   get32(at(madt_addr() + 4, 4)));
	write_file("dsdt.dat", at(dsdt_addr(), dsdt_len()), dsdt_len());
	run_in_tmpdir("acpiexec -b 'Evaluate \\_S5; Evaluate \\_SB.PCI0._HID; "
		      "Evaluate \\_SB.COM1._HID' facp.dat apic.dat dsdt.dat",
		      "acpiexec.log");
	out = read_file("acpiexec.log");
	if (strstr(out, "Warning") || strstr(out, "Error") || strstr(out, "Exception"))
		fail_msg("acpiexec complained:\n%s", out);
	flat = squeeze(out);
	assert_non_null(strstr(out, "ACPI: FACP"));
	assert_non_null(strstr(out, "ACPI: APIC"));
	assert_non_null(strstr(out, "1 ACPI AML tables successfully acquired and loaded"));
	assert_non_null(strstr(flat, "Evaluating\\_S5"));
	assert_non_null(strstr(flat, "[Package]Contains4Elements:"
				     "[Integer]=0000000000000005[Integer]=0000000000000005"));
	/* EisaId("PNP0A03") and EisaId("PNP0501") in their compressed form */
	assert_non_null(strstr(flat, "Evaluating\\_SB.PCI0._HID"));
	assert_non_null(strstr(flat, "[Integer]=00000000030AD041"));
	assert_non_null(strstr(flat, "[Integer]=000000000105D041"));
	free(flat);
	free(out);
}

static int group_setup(void **state)
{
	(void)state;
	buf = malloc(CAP);
	if (!buf || !mkdtemp(tmpdir))
		return -1;
	return 0;
}

/* Remove tmpdir and the files the tests wrote into it (it has no subdirectories). */
static int group_teardown(void **state)
{
	DIR *d = opendir(tmpdir);
	struct dirent *e;
	char path[512];

	(void)state;
	free(buf);
	if (!d)
		return -1;
	while ((e = readdir(d))) {
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
			snprintf(path, sizeof(path), "%s/%s", tmpdir, e->d_name);
			unlink(path);
		}
	}
	closedir(d);
	return rmdir(tmpdir);
}

/* ---- the fw_cfg files OVMF installs (acpi_build_fwcfg) ---- */

#define LOADER_MEM_BASE 0x7f00000ULL /* where the simulated firmware places the files */
#define LOADER_MEM_SIZE (64 * 1024)
#define PAGE		4096

struct loaded_file {
	const char *name;
	const u8 *data;
	u32 size;
	u64 addr; /* 0 until ALLOCATE */
};

static struct loaded_file files[2];
static u8 *loader_mem; /* LOADER_MEM_SIZE bytes at LOADER_MEM_BASE */
static u64 loader_next;

static struct loaded_file *file_named(const u8 *name)
{
	assert_int_equal(name[ACPI_LOADER_FNAME_LEN - 1], 0); /* OVMF: malformed otherwise */
	for (size_t i = 0; i < ARRAY_SIZE(files); i++)
		if (strcmp((const char *)name, files[i].name) == 0)
			return &files[i];
	fail_msg("loader names an unknown file \"%s\"", (const char *)name);
	return NULL;
}

static u8 *loaded(const struct loaded_file *f)
{
	assert_true(f->addr);
	return loader_mem + (f->addr - LOADER_MEM_BASE);
}

/* ALLOCATE as OVMF does it: whole pages (so any alignment up to 4 KiB holds), then the bytes. */
static void cmd_allocate(const u8 *a)
{
	struct loaded_file *f = file_named(a);
	u32 align = get32(a + ACPI_LOADER_FNAME_LEN);
	u8 zone = a[ACPI_LOADER_FNAME_LEN + 4];

	assert_int_equal(f->addr, 0); /* OVMF refuses a second ALLOCATE of a file */
	assert_true(align && align <= PAGE && !(align & (align - 1)));
	assert_true(zone == ACPI_LOADER_ZONE_HIGH || zone == ACPI_LOADER_ZONE_FSEG);
	f->addr = LOADER_MEM_BASE + loader_next;
	loader_next += ALIGN_UP(f->size, PAGE);
	assert_true(loader_next <= LOADER_MEM_SIZE);
	memcpy(loaded(f), f->data, f->size);
}

/* ADD_POINTER: the field holds an offset inside the pointee; add the pointee's address. */
static void cmd_add_pointer(const u8 *a)
{
	struct loaded_file *from = file_named(a), *to = file_named(a + ACPI_LOADER_FNAME_LEN);
	u32 offset = get32(a + 2 * ACPI_LOADER_FNAME_LEN);
	u8 size = a[2 * ACPI_LOADER_FNAME_LEN + 4];
	u64 value = 0;

	assert_true(size == 1 || size == 2 || size == 4 || size == 8);
	assert_true(from->size >= size && offset <= from->size - size);
	memcpy(&value, loaded(from) + offset, size);
	assert_true(value < to->size);
	value += to->addr;
	assert_true(size == 8 || value >> (8 * size) == 0);
	memcpy(loaded(from) + offset, &value, size);
}

/* ADD_CHECKSUM as OVMF computes it: 0 minus the sum of the range, result byte included. */
static void cmd_add_checksum(const u8 *a)
{
	struct loaded_file *f = file_named(a);
	u32 result = get32(a + ACPI_LOADER_FNAME_LEN), start = get32(a + ACPI_LOADER_FNAME_LEN + 4);
	u32 len = get32(a + ACPI_LOADER_FNAME_LEN + 8);

	assert_true(result < f->size && len <= f->size && start <= f->size - len);
	assert_true(result >= start && result < start + len);
	assert_int_equal(loaded(f)[result], 0); /* else OVMF's result would be wrong */
	loaded(f)[result] = (u8)-sum(loaded(f) + start, len);
}

/* Run the loader script over fresh memory; return how many ADD_POINTERs it had. */
static u32 run_loader(const struct acpi_fwcfg *f)
{
	u32 pointers = 0;

	files[0] = (struct loaded_file){ ACPI_FWCFG_RSDP, f->rsdp, sizeof(f->rsdp), 0 };
	files[1] = (struct loaded_file){ ACPI_FWCFG_TABLES, f->tables, f->tables_len, 0 };
	memset(loader_mem, 0xa5, LOADER_MEM_SIZE);
	loader_next = 0;
	assert_int_equal(f->loader_len % ACPI_LOADER_ENTRY_LEN, 0);
	for (u32 off = 0; off < f->loader_len; off += ACPI_LOADER_ENTRY_LEN) {
		const u8 *e = f->loader + off;

		switch (get32(e)) {
		case ACPI_LOADER_ALLOCATE:
			cmd_allocate(e + 4);
			break;
		case ACPI_LOADER_ADD_PTR:
			cmd_add_pointer(e + 4);
			pointers++;
			break;
		case ACPI_LOADER_ADD_CSUM:
			cmd_add_checksum(e + 4);
			break;
		default:
			fail_msg("unknown loader command %u", get32(e));
		}
	}
	/* The helpers above read guest memory through buf/base/used. */
	buf = loader_mem;
	base = LOADER_MEM_BASE;
	used = (long)loader_next;
	rsdp = files[0].addr;
	return pointers;
}

static void build_fwcfg(struct acpi_fwcfg *f, u8 *tables, u32 nr_cpus)
{
	struct acpi_platform p;

	acpi_platform_piix4(&p, nr_cpus, ACPI_PIIX4_PM_BASE_OVMF);
	memset(f, 0x5a, sizeof(*f));
	f->tables = tables;
	f->tables_cap = CAP;
	assert_int_equal(acpi_build_fwcfg(f, &p), 0);
	assert_true(f->tables_len > 0 && f->tables_len <= CAP);
}

/*
 * The loader script applied like OVMF applies it yields tables whose
 * pointers and checksums hold, byte for byte those acpi_build() makes for
 * the same place; OVMF installs each table a pointer reaches, so each is
 * reached exactly once (the XSDT it skips).
 */
static void test_fwcfg_loader(void **state)
{
	u8 *saved = buf, *tables = malloc(CAP), *expect = malloc(CAP);
	struct acpi_fwcfg *f = malloc(sizeof(*f));
	struct acpi_platform p;
	u64 expect_rsdp;

	(void)state;
	loader_mem = malloc(LOADER_MEM_SIZE);
	assert_non_null(tables);
	for (size_t c = 0; c < ARRAY_SIZE(cpu_counts); c++) {
		build_fwcfg(f, tables, cpu_counts[c]);
		assert_int_equal(f->loader_len, ACPI_LOADER_MAX_CMDS * ACPI_LOADER_ENTRY_LEN);
		assert_int_equal(run_loader(f), 4);

		const u8 *r = at(rsdp, 36);
		assert_memory_equal(r, "RSD PTR ", 8);
		assert_int_equal(sum(r, 20), 0);
		assert_int_equal(sum(r, 36), 0);
		assert_int_equal(xsdt_addr(), files[1].addr); /* the tables file starts with it */
		check_table(xsdt_addr(), "XSDT", 1);
		check_table(fadt_addr(), "FACP", 6);
		check_table(madt_addr(), "APIC", 5);
		check_madt(cpu_counts[c], (u8)cpu_counts[c], 0xFEC00000);
		u32 len = get32(at(dsdt_addr() + 4, 4));
		assert_int_equal(len, dsdt_piix_aml_end - dsdt_piix_aml);
		assert_int_equal(sum(at(dsdt_addr(), len), len), 0);
		assert_memory_equal(at(dsdt_addr(), len), dsdt_piix_aml, len);
		/* OVMF's table driver fills in the 32-bit DSDT field; the file leaves it 0. */
		assert_int_equal(get32(at(fadt_addr() + FADT_DSDT, 4)), 0);

		/* acpi_build() at the address that puts its XSDT where the loader put it. */
		acpi_platform_piix4(&p, cpu_counts[c], ACPI_PIIX4_PM_BASE_OVMF);
		long n = acpi_build(expect, CAP, files[1].addr - 48, &p, &expect_rsdp);
		assert_int_equal(n, 48 + f->tables_len);
		u8 *fadt = expect + 48 + (fadt_addr() - files[1].addr);
		memset(fadt + FADT_DSDT, 0, 4);
		fadt[9] = 0;
		fadt[9] = (u8)-sum(fadt, FADT_LEN);
		assert_memory_equal(expect + 48, at(files[1].addr, f->tables_len), f->tables_len);
		memcpy(expect + 24, &files[1].addr, 8); /* same XSDT address: same RSDP */
		assert_memory_equal(expect, r, 36);
	}
	buf = saved;
	free(loader_mem);
	free(f);
	free(expect);
	free(tables);
}

/* An OVMF VSI's FADT: the sleep registers are PIIX4 PM1's high bytes, reset through 0xCF9. */
static void test_fwcfg_piix4_fadt(void **state)
{
	u8 *saved = buf, *tables = malloc(CAP);
	struct acpi_fwcfg *f = malloc(sizeof(*f));

	(void)state;
	loader_mem = malloc(LOADER_MEM_SIZE);
	build_fwcfg(f, tables, 2);
	run_loader(f);
	const u8 *fa = at(fadt_addr(), FADT_LEN);
	assert_int_equal(get32(fa + FADT_FLAGS) & FLAG_HW_REDUCED, FLAG_HW_REDUCED);
	check_gas_io8(fa + FADT_SLEEP_CTL, 0xB005);
	check_gas_io8(fa + FADT_SLEEP_STS, 0xB001);
	check_gas_io8(fa + FADT_RESET_REG, 0xCF9);
	assert_int_equal(fa[FADT_RESET_VALUE], 0x06);
	/* \_S5's SLP_TYPa is 0: the PIIX4's soft-off SUS_TYP. Package(4) { Zero, ... } */
	const u8 s5[] = { '_', 'S', '5', '_', 0x12, 0x06, 0x04, 0x00, 0x00, 0x00, 0x00 };
	assert_non_null(memmem(dsdt_piix_aml, dsdt_piix_aml_end - dsdt_piix_aml, s5, sizeof(s5)));
	buf = saved;
	free(loader_mem);
	free(f);
	free(tables);
}

/* Too small a tables buffer, no buffer, a bad platform: refused. */
static void test_fwcfg_errors(void **state)
{
	u8 *tables = malloc(CAP);
	struct acpi_fwcfg f;
	struct acpi_platform p;

	(void)state;
	acpi_platform_piix4(&p, 2, ACPI_PIIX4_PM_BASE_OVMF);
	f.tables = tables;
	f.tables_cap = 256;
	assert_int_equal(acpi_build_fwcfg(&f, &p), -FW_ENOSPC);
	f.tables = NULL;
	f.tables_cap = CAP;
	assert_int_equal(acpi_build_fwcfg(&f, &p), -FW_EINVAL);
	f.tables = tables;
	p.nr_cpus = 0;
	assert_int_equal(acpi_build_fwcfg(&f, &p), -FW_EINVAL);
	free(tables);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rsdp),
		cmocka_unit_test(test_xsdt),
		cmocka_unit_test(test_fadt),
		cmocka_unit_test(test_dsdt),
		cmocka_unit_test(test_madt),
		cmocka_unit_test(test_platform_values),
		cmocka_unit_test(test_max_cpus),
		cmocka_unit_test(test_above_4g),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_iasl_decodes_tables),
		cmocka_unit_test(test_iasl_sees_bad_checksum),
		cmocka_unit_test(test_acpiexec_evaluates_dsdt),
		cmocka_unit_test(test_fwcfg_loader),
		cmocka_unit_test(test_fwcfg_piix4_fadt),
		cmocka_unit_test(test_fwcfg_errors),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
