/* Multiboot 1 test kernel: EAX = 0x2BADB002, EBX = struct multiboot_info. */
#include "tk.h"

struct mb1_info {
	uint32_t flags, mem_lower, mem_upper, boot_device, cmdline, mods_count, mods_addr;
	uint32_t syms[4];
	uint32_t mmap_length, mmap_addr;
	uint32_t drives_length, drives_addr, config_table, boot_loader_name;
};

struct mb1_module {
	uint32_t mod_start, mod_end, string, reserved;
};

void tk_main(uint32_t eax, uint32_t ebx);

static void report_mmap(const struct mb1_info *mbi)
{
	uint32_t off = 0;

	while (off < mbi->mmap_length) {
		const uint8_t *e = (const uint8_t *)(uintptr_t)(mbi->mmap_addr + off);
		uint32_t size;
		uint64_t addr, len;
		uint32_t type;

		memcpy(&size, e, 4);
		memcpy(&addr, e + 4, 8);
		memcpy(&len, e + 12, 8);
		memcpy(&type, e + 20, 4);
		tk_report_mem(addr, len, type);
		off += size + 4;
	}
}

void tk_main(uint32_t eax, uint32_t ebx)
{
	const struct mb1_info *mbi = (const void *)(uintptr_t)ebx;
	const struct mb1_module *m = (const void *)(uintptr_t)mbi->mods_addr;

	tk_init("multiboot1");
	tk_report_cpu();
	tk_printf("tk: magic %x info %x flags %x mem_lower %u mem_upper %u\n", eax, ebx, mbi->flags,
		  mbi->mem_lower, mbi->mem_upper);
	if (eax != 0x2BADB002)
		tk_fail("bad multiboot magic");
	if (mbi->flags & (1 << 9))
		tk_printf("tk: loader \"%s\"\n", (const char *)(uintptr_t)mbi->boot_loader_name);
	tk_report_cmdline(mbi->flags & (1 << 2) ? (const char *)(uintptr_t)mbi->cmdline : 0);
	for (uint32_t i = 0; (mbi->flags & (1 << 3)) && i < mbi->mods_count; i++) {
		if (m[i].mod_start & 0xFFF)
			tk_fail("module not page aligned");
		tk_report_module(i, m[i].mod_start, m[i].mod_end - m[i].mod_start,
				 (const char *)(uintptr_t)m[i].string);
	}
	if (mbi->flags & (1 << 6))
		report_mmap(mbi);
	tk_report_acpi(tk_low_rsdp());
	tk_done();
}
