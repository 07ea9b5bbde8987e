/* hostile-mem: reads, then writes, guest-physical addresses beyond this
 * VSI's RAM, where the host keeps the hypervisor and other VSIs. Outside
 * RAM, the ROM and the devices there is nothing (docs/vsi-platform.md
 * "Memory"): every read gives all ones and every write is dropped, so a
 * value written cannot be read back. Then it jumps to code beyond its RAM:
 * an instruction fetch there stops the VSI with a report naming the address,
 * so "done" is never printed. Every FAIL line is a failure. */
#include "cpu.h"

#define LAPIC_START   0xfee00000UL
#define LAPIC_END     0xfef00000UL
#define IOAPIC_START  0xfec00000UL
#define IOAPIC_END    0xfec01000UL
#define ROM_START     0xffff0000UL /* 64 KiB ROM */
#define FOUR_GIB      0x100000000UL
#define HIGH_MAP_GIB  4 /* boot map covers GiB 0-3 */
#define WRITE_PATTERN 0x5a5a5a5a5a5a5a5aUL
#define ALL_ONES      0xffffffffffffffffUL
#define PTE_P	      (1UL << 0)
#define PTE_W	      (1UL << 1)
#define PTE_PS	      (1UL << 7)

const char guest_name[] = "hostile-mem";

static uint64_t high_pd[512] __attribute__((aligned(4096)));

/* Identity-maps GiB 4 with 2 MiB pages, next to the boot map. */
static void map_fifth_gib(void)
{
	for (int i = 0; i < 512; i++)
		high_pd[i] = (HIGH_MAP_GIB * GiB + i * 2 * MiB) | PTE_P | PTE_W | PTE_PS;
	boot_pdpt[HIGH_MAP_GIB] = (uint64_t)high_pd | PTE_P | PTE_W;
	write_cr3(read_cr3());
}

/* Not RAM, not the ROM, not a device, and mapped. */
static bool is_target(uint64_t a)
{
	return a >= platform.ram_bytes && !(a >= LAPIC_START && a < LAPIC_END) &&
	       !(a >= IOAPIC_START && a < IOAPIC_END) && !(a >= ROM_START && a < FOUR_GIB) &&
	       a < (HIGH_MAP_GIB + 1) * GiB;
}

static void attack(uint64_t addr)
{
	volatile uint64_t *p = (volatile uint64_t *)addr;
	char what[48];
	uint64_t v;

	snprint(what, sizeof(what), "mem-0x%lx-empty", addr);
	v = *p;
	if (v != ALL_ONES) {
		expect_fail(what, "read gave 0x%lx, want all ones", v);
		return;
	}
	*p = WRITE_PATTERN;
	v = *p;
	if (v != ALL_ONES) {
		expect_fail(what, "write landed: read back 0x%lx", v);
		return;
	}
	expect_ok(what);
}

void guest_main(void)
{
	uint64_t ram = platform.ram_bytes;
	const uint64_t targets[] = {
		ram,
		ram + 2 * MiB,
		1 * GiB,
		2 * GiB,
		3 * GiB,
		0xfed00000UL,
		FOUR_GIB,
		FOUR_GIB + ram - 8,
		FOUR_GIB + 1 * GiB - 8,
	};

	map_fifth_gib();
	for (size_t i = 0; i < sizeof(targets) / sizeof(targets[0]); i++) {
		if (is_target(targets[i]))
			attack(targets[i]);
	}
	guest_say("jumping to 0x%lx", ram + 4 * MiB);
	((void (*)(void))(ram + 4 * MiB))();
	expect_fail("fetch-blocked", "code beyond RAM ran and returned");
}
