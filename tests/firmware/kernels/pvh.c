/* PVH test kernel: EBX = struct hvm_start_info (start_info.h). */
#include "tk.h"

struct hvm_start_info {
	uint32_t magic, version, flags, nr_modules;
	uint64_t modlist_paddr, cmdline_paddr, rsdp_paddr, memmap_paddr;
	uint32_t memmap_entries, reserved;
};

struct hvm_modlist_entry {
	uint64_t paddr, size, cmdline_paddr, reserved;
};

struct hvm_memmap_table_entry {
	uint64_t addr, size;
	uint32_t type, reserved;
};

void tk_main(uint32_t eax, uint32_t ebx);

void tk_main(uint32_t eax, uint32_t ebx)
{
	const struct hvm_start_info *si = (const void *)(uintptr_t)ebx;
	const struct hvm_modlist_entry *m = (const void *)(uintptr_t)si->modlist_paddr;
	const struct hvm_memmap_table_entry *mm = (const void *)(uintptr_t)si->memmap_paddr;

	tk_init("pvh");
	tk_report_cpu();
	tk_printf("tk: magic %x info %x version %u flags %x\n", si->magic, ebx, si->version,
		  si->flags);
	if (si->magic != 0x336ec578)
		tk_fail("bad start_info magic");
	tk_report_cmdline((const char *)(uintptr_t)si->cmdline_paddr);
	for (uint32_t i = 0; i < si->nr_modules; i++)
		tk_report_module(i, m[i].paddr, m[i].size,
				 (const char *)(uintptr_t)m[i].cmdline_paddr);
	for (uint32_t i = 0; i < si->memmap_entries; i++)
		tk_report_mem(mm[i].addr, mm[i].size, mm[i].type);
	tk_report_acpi(si->rsdp_paddr);
	(void)eax;
	tk_done();
}
