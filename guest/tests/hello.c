/* hello: the platform works end to end. RAM reads as zero everywhere the
 * guest has not written, and a deterministic workload gives the checksum
 * that hello_checksum.c computes on the host. */
#include "guest.h"
#include "workload.h"

/* The ROM alias below 1 MiB is not RAM (docs/vsi-platform.md "Memory"). */
#define ROM_ALIAS_START 0xe0000UL
#define ROM_ALIAS_END	0x100000UL
/* Only the identity-mapped low 4 GiB below the APIC and ROM is checked. */
#define RAM_CHECK_LIMIT 0xfec00000UL

const char guest_name[] = "hello";

static uint64_t workload_table[WORKLOAD_TABLE];

/* First non-zero address in [start, end), or end. 64 bytes per iteration:
 * the check runs on every byte of RAM under an emulator. */
static uint64_t find_nonzero(uint64_t start, uint64_t end)
{
	const uint64_t *p = (const uint64_t *)start;

	for (; (uint64_t)p + 64 <= end; p += 8) {
		if (p[0] | p[1] | p[2] | p[3] | p[4] | p[5] | p[6] | p[7])
			break;
	}
	for (const uint8_t *b = (const uint8_t *)p; (uint64_t)b < end; b++) {
		if (*b)
			return (uint64_t)b;
	}
	return end;
}

struct range {
	uint64_t start, end;
};

static void check_ram_zero(void)
{
	uint64_t own_end = (uint64_t)__guest_ram_end;
	uint64_t ram_end = platform.ram_bytes;
	struct range ranges[2] = { { own_end, ROM_ALIAS_START }, { ROM_ALIAS_END, ram_end } };
	uint64_t checked = 0;

	if (ram_end > RAM_CHECK_LIMIT) {
		guest_say("ram-zero: checking only up to 0x%lx", RAM_CHECK_LIMIT);
		ranges[1].end = RAM_CHECK_LIMIT;
	}
	for (int i = 0; i < 2; i++) {
		uint64_t bad;

		if (ranges[i].end <= ranges[i].start)
			continue;
		bad = find_nonzero(ranges[i].start, ranges[i].end);
		if (bad != ranges[i].end) {
			expect_fail("ram-zero", "byte 0x%x at 0x%lx", *(volatile uint8_t *)bad,
				    bad);
			return;
		}
		checked += ranges[i].end - ranges[i].start;
	}
	guest_say("ram-zero: %lu bytes checked in [0x%lx, 0x%lx) outside the ROM alias", checked,
		  own_end, ram_end);
	expect_ok("ram-zero");
}

void guest_main(void)
{
	check_ram_zero();
	guest_say("checksum 0x%016lx", workload_run(workload_table, WORKLOAD_STEPS));
}
