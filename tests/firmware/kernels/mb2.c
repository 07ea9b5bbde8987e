/* Multiboot2 test kernel: EAX = 0x36D76289, EBX = the boot information. */
#include "tk.h"

void tk_main(uint32_t eax, uint32_t ebx);

static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static void report_mmap(const uint8_t *t, uint32_t size)
{
	uint32_t esize = rd32(t + 8);

	for (uint32_t off = 16; esize && off + esize <= size; off += esize) {
		uint64_t addr, len;

		memcpy(&addr, t + off, 8);
		memcpy(&len, t + off + 8, 8);
		tk_report_mem(addr, len, rd32(t + off + 16));
	}
}

void tk_main(uint32_t eax, uint32_t ebx)
{
	const uint8_t *info = (const uint8_t *)(uintptr_t)ebx;
	uint32_t total = rd32(info), nmod = 0;
	uint64_t rsdp = 0;

	tk_init("multiboot2");
	tk_report_cpu();
	tk_printf("tk: magic %x info %x total %u\n", eax, ebx, total);
	if (eax != 0x36D76289)
		tk_fail("bad multiboot2 magic");
	if (ebx & 7)
		tk_fail("information not 8-byte aligned");
	for (uint32_t off = 8; off + 8 <= total;) {
		const uint8_t *t = info + off;
		uint32_t type = rd32(t), size = rd32(t + 4);

		if (type == 0)
			break;
		if (type == 1)
			tk_report_cmdline((const char *)t + 8);
		else if (type == 2)
			tk_printf("tk: loader \"%s\"\n", (const char *)t + 8);
		else if (type == 3)
			tk_report_module(nmod++, rd32(t + 8), rd32(t + 12) - rd32(t + 8),
					 (const char *)t + 16);
		else if (type == 4)
			tk_printf("tk: mem_lower %u mem_upper %u\n", rd32(t + 8), rd32(t + 12));
		else if (type == 6)
			report_mmap(t, size);
		else if (type == 15 || (type == 14 && !rsdp))
			rsdp = (uintptr_t)(t + 8);
		tk_printf("tk: tag %u size %u\n", type, size);
		off += (size + 7) & ~7U;
	}
	tk_report_acpi(rsdp);
	tk_done();
}
