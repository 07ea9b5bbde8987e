/* string-io: INS/OUTS with and without REP (docs/vsi-platform.md "I/O
 * ports"). REP with RCX = 0 does nothing and goes on; REP OUTSB prints a
 * line through the UART; REP INSB reads fw_cfg's signature; a REP longer
 * than what one exit moves completes; DF = 1 walks down; a REP INSB into a
 * page that is not present raises #PF with the elements before it done;
 * and a 4-byte store and load straddling the end of RAM keep their RAM half. */
#include "cpu.h"

#define PORT_UNCLAIMED	 0xe0
#define PORT_COM1	 0x3f8
#define PORT_FW_CFG_SEL	 0x510
#define PORT_FW_CFG_DAT	 0x511
#define FW_CFG_SIGNATURE 0x0000
#define LONG_COUNT	 5000 /* more than one exit moves (PIO_STRING_MAX_PER_EXIT) */
#define VEC_PF		 14
#define PF_ERR_WRITE	 (1UL << 1)
#define UNMAPPED_GIB	 3 /* the test unmaps the first 2 MiB of GiB 3 */
#define PTE_ADDR_MASK	 0x000ffffffffff000UL
#define STRADDLE_PATTERN 0x11223344U

const char guest_name[] = "string-io";

static uint8_t buf[LONG_COUNT + 16];

struct rep_result {
	uint64_t rcx, index;
	int vector;
};

static struct rep_result rep_insb(uint16_t port, uint64_t dst, uint64_t count)
{
	struct rep_result r;

	trap_vector = TRAP_NONE;
	asm volatile(EXTABLE("rep insb") : "+D"(dst), "+c"(count) : "d"(port) : "memory");
	r.rcx = count, r.index = dst, r.vector = trap_vector;
	return r;
}

static struct rep_result rep_outsb(uint16_t port, const void *src, uint64_t count)
{
	struct rep_result r;
	uint64_t s = (uint64_t)src;

	trap_vector = TRAP_NONE;
	asm volatile(EXTABLE("rep outsb") : "+S"(s), "+c"(count) : "d"(port) : "memory");
	r.rcx = count, r.index = s, r.vector = trap_vector;
	return r;
}

static void verdict(const char *what, bool ok, const char *why)
{
	if (ok)
		expect_ok(what);
	else
		expect_fail(what, "%s", why);
}

static void check_zero_counts(void)
{
	struct rep_result r;

	buf[0] = 0x5a;
	r = rep_insb(PORT_UNCLAIMED, (uint64_t)buf, 0);
	verdict("rep-insb-rcx-0",
		r.vector == TRAP_NONE && r.rcx == 0 && r.index == (uint64_t)buf && buf[0] == 0x5a,
		"registers or memory changed");
	r = rep_outsb(PORT_UNCLAIMED, buf, 0);
	verdict("rep-outsb-rcx-0", r.vector == TRAP_NONE && r.rcx == 0 && r.index == (uint64_t)buf,
		"registers changed");
}

static void check_uart_and_fw_cfg(void)
{
	static const char line[] = "GUEST string-io: a line by rep outsb\n";
	struct rep_result r;

	r = rep_outsb(PORT_COM1, line, sizeof(line) - 1);
	verdict("rep-outsb-uart", r.rcx == 0 && r.index == (uint64_t)line + sizeof(line) - 1,
		"RCX/RSI not advanced");
	outw(PORT_FW_CFG_SEL, FW_CFG_SIGNATURE);
	memset(buf, 0, 8);
	r = rep_insb(PORT_FW_CFG_DAT, (uint64_t)buf, 4);
	verdict("rep-insb-fw-cfg-signature",
		r.rcx == 0 && r.index == (uint64_t)buf + 4 && !memcmp(buf, "QEMU", 4) && !buf[4],
		"not QEMU");
}

static bool all_ones(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != 0xff)
			return false;
	return true;
}

static void check_long_and_down(void)
{
	struct rep_result r;
	uint64_t end;

	memset(buf, 0, sizeof(buf));
	r = rep_insb(PORT_UNCLAIMED, (uint64_t)buf, LONG_COUNT);
	verdict("rep-insb-long",
		r.rcx == 0 && r.index == (uint64_t)buf + LONG_COUNT && all_ones(buf, LONG_COUNT) &&
		    buf[LONG_COUNT] == 0,
		"count, index or data wrong");
	memset(buf, 0, 16);
	end = (uint64_t)buf + 7;
	asm volatile("std; rep insb; cld"
		     : "+D"(end), "+c"((uint64_t){ 4 })
		     : "d"(PORT_UNCLAIMED)
		     : "memory");
	verdict("rep-insb-df-down",
		end == (uint64_t)buf + 3 && all_ones(buf + 4, 4) && !buf[3] && !buf[8],
		"did not walk down");
}

/* The first 2 MiB of GiB 3 unmapped: 2 bytes before it land, then #PF. */
static void check_page_fault(void)
{
	uint64_t *pd = (uint64_t *)(boot_pdpt[UNMAPPED_GIB] & PTE_ADDR_MASK);
	uint64_t hole = UNMAPPED_GIB * GiB, cr2;
	struct rep_result r;

	pd[0] = 0;
	write_cr3(read_cr3());
	r = rep_insb(PORT_UNCLAIMED, hole - 2, 4);
	asm volatile("mov %%cr2, %0" : "=r"(cr2));
	verdict("rep-insb-page-fault",
		r.vector == VEC_PF && cr2 == hole && r.rcx == 2 && r.index == hole &&
		    (trap_error & PF_ERR_WRITE),
		"no #PF at the hole with 2 elements done");
}

/* A 4-byte access at the last 2 bytes of RAM: the RAM half is RAM. */
static void check_straddle(void)
{
	volatile uint16_t *last = (volatile uint16_t *)(platform.ram_bytes - 2);
	volatile uint32_t *p = (volatile uint32_t *)last;
	uint32_t v;

	*last = 0;
	*p = STRADDLE_PATTERN;
	verdict("store-straddling-ram-end-keeps-ram-half", *last == (STRADDLE_PATTERN & 0xffff),
		"the RAM half was dropped");
	v = *p;
	verdict("load-straddling-ram-end-reads-ram-half",
		v == ((STRADDLE_PATTERN & 0xffff) | 0xffff0000U), "wrong value");
}

void guest_main(void)
{
	check_zero_counts();
	check_uart_and_fw_cfg();
	check_long_and_down();
	check_page_fault();
	check_straddle();
}
