/* What runs between entry.asm and guest_main(): the UART, the IDT, the
 * platform probe (CPUID 0x40000000/0x40000001, docs/vsi-platform.md), the
 * start and done lines. Also the C side of AP start-up. */
#include "cpu.h"

#define CPUID_HV_BASE	   0x40000000
#define CPUID_HV_INFO	   0x40000001
#define CPUID_TOPOLOGY	   0x0b
#define TOPOLOGY_TYPE_CORE 2
#define FALLBACK_RAM_MIB   2

struct platform platform;
void (*ap_entry)(uint32_t slot);

void lib_main(void);
void lib_ap_main(uint32_t slot);

__noreturn void halt_forever(void)
{
	for (;;)
		asm volatile("cli\n\thlt");
}

void delay_loops(uint64_t n)
{
	while (n--)
		cpu_relax();
}

/* Logical processors in the package, from leaf 0xB (core level) or leaf 1;
 * used only without the hypervisor's leaves. */
static uint32_t cpuid_topology_count(void)
{
	uint32_t r[4];

	cpuid(0, 0, r);
	if (r[0] >= CPUID_TOPOLOGY) {
		for (uint32_t level = 0; level < 8; level++) {
			cpuid(CPUID_TOPOLOGY, level, r);
			if (((r[2] >> 8) & 0xff) == 0)
				break;
			if (((r[2] >> 8) & 0xff) == TOPOLOGY_TYPE_CORE && (r[1] & 0xffff))
				return r[1] & 0xffff;
		}
	}
	cpuid(1, 0, r);
	if ((r[3] & CPUID_1_EDX_HTT) && ((r[1] >> 16) & 0xff))
		return (r[1] >> 16) & 0xff;
	return 1;
}

void platform_probe(void)
{
	static const char signature[12] = "HVMICROVISOR";
	uint32_t r[4];

	cpuid(CPUID_HV_BASE, 0, r);
	platform.hv = r[0] >= CPUID_HV_INFO && memcmp(&r[1], signature, 4) == 0 &&
		      memcmp(&r[2], signature + 4, 4) == 0 && memcmp(&r[3], signature + 8, 4) == 0;
	if (platform.hv) {
		cpuid(CPUID_HV_INFO, 0, r);
		platform.ram_mib = r[0];
		platform.vcpus = r[1];
	} else {
		platform.ram_mib = FALLBACK_RAM_MIB;
		platform.vcpus = cpuid_topology_count();
	}
	platform.ram_bytes = (uint64_t)platform.ram_mib * MiB;
}

/* Called by entry64 on vCPU 0 with the boot stack. */
void lib_main(void)
{
	uart_init();
	idt_init();
	platform_probe();
	if (platform.hv)
		guest_say("start vcpus=%u ram=%u", platform.vcpus, platform.ram_mib);
	else
		guest_say("start vcpus=%u ram=%u hv=no", platform.vcpus, platform.ram_mib);
	guest_main();
	guest_say("done");
	halt_forever();
}

/* Called by ap_entry64 on an AP with its own stack. */
void lib_ap_main(uint32_t slot)
{
	idt_load();
	apic_enable_this_cpu();
	if (ap_entry)
		ap_entry(slot);
	halt_forever();
}
