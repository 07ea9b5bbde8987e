/*
 * Identity-mapped page tables (virtual == physical). Large pages (1 GiB where
 * the CPU has them, else 2 MiB) cover RAM; ranges with other attributes are
 * split down to 4 KiB on demand. See docs/architecture.md for why identity.
 */
#include <asm/cpu.h>
#include <asm/msr.h>
#include <asm/paging.h>
#include <hv/kernel.h>
#include <hv/log.h>
#include <hv/string.h>

#define PT_ENTRIES     512
#define LEVEL_SHIFT(l) (PAGE_SHIFT + 9 * ((l)-1)) /* level 1 = PT ... 4 = PML4 */
#define LEVEL_SIZE(l)  (1ULL << LEVEL_SHIFT(l))
#define PT_INDEX(a, l) (((a) >> LEVEL_SHIFT(l)) & (PT_ENTRIES - 1))
#define FLAGS_MASK     (~PTE_ADDR_MASK & ~PTE_LARGE)

static u64 *pml4;
static int max_leaf_level; /* 3 with 1 GiB pages, else 2 */

static u64 *table_alloc(void)
{
	/* Below 4 GiB, so a 32-bit CR3 load (AP trampoline) could use it. */
	return page_alloc_zeroed(PAGE_SIZE, PAGE_SIZE, 4 * GiB);
}

/* Replace a large leaf at level l by a table of leaves one level down. */
static u64 *split_large(u64 *entry, int l)
{
	u64 *t = table_alloc();
	u64 base = *entry & PTE_ADDR_MASK & ~(LEVEL_SIZE(l) - 1);
	u64 flags = *entry & FLAGS_MASK;

	for (int i = 0; i < PT_ENTRIES; i++)
		t[i] = (base + i * LEVEL_SIZE(l - 1)) | flags | (l - 1 > 1 ? PTE_LARGE : 0);
	*entry = (u64)(uintptr_t)t | PTE_PRESENT | PTE_WRITE;
	return t;
}

/* The table one level below entry, created or split as needed. */
static u64 *next_table(u64 *entry, int l)
{
	if (!(*entry & PTE_PRESENT)) {
		u64 *t = table_alloc();
		*entry = (u64)(uintptr_t)t | PTE_PRESENT | PTE_WRITE;
		return t;
	}
	if (*entry & PTE_LARGE)
		return split_large(entry, l);
	return (u64 *)(uintptr_t)(*entry & PTE_ADDR_MASK);
}

/* Map one block of level l at addr, walking down from the PML4. */
static void map_block(u64 addr, int l, u64 flags)
{
	u64 *t = pml4;

	for (int lvl = 4; lvl > l; lvl--)
		t = next_table(&t[PT_INDEX(addr, lvl)], lvl);
	u64 *e = &t[PT_INDEX(addr, l)];
	if (l > 1 && (*e & PTE_PRESENT) && !(*e & PTE_LARGE)) {
		/* Already split: keep the table, remap each entry in it. */
		for (int i = 0; i < PT_ENTRIES; i++)
			map_block(addr + i * LEVEL_SIZE(l - 1), l - 1, flags);
		return;
	}
	*e = addr | flags | (l > 1 ? PTE_LARGE : 0);
}

/* Identity-map [base, end) with flags (PTE_PRESENT included by the caller), largest pages first. */
static void map_range(u64 base, u64 end, u64 flags)
{
	base = ALIGN_DOWN(base, PAGE_SIZE);
	end = ALIGN_UP(end, PAGE_SIZE);
	while (base < end) {
		int l = max_leaf_level;

		while (l > 1 && (!IS_ALIGNED(base, LEVEL_SIZE(l)) || end - base < LEVEL_SIZE(l)))
			l--;
		map_block(base, l, flags);
		base += LEVEL_SIZE(l);
	}
}

static void unmap_page(u64 addr)
{
	u64 *t = pml4;

	for (int lvl = 4; lvl > 1; lvl--)
		t = next_table(&t[PT_INDEX(addr, lvl)], lvl);
	t[PT_INDEX(addr, 1)] = 0;
}

u64 paging_root(void)
{
	return (u64)(uintptr_t)pml4;
}

void paging_map_mmio(u64 phys, u64 size)
{
	map_range(phys, phys + size, PTE_PRESENT | PTE_WRITE | PTE_NX | PTE_PCD | PTE_PWT);
	write_cr3(read_cr3()); /* flush */
}

static void map_image(void)
{
	u64 text = (u64)(uintptr_t)__text_start, rodata = (u64)(uintptr_t)__rodata_start;
	u64 data = (u64)(uintptr_t)__data_start, end = (u64)(uintptr_t)__kernel_end;

	map_range(text, rodata, PTE_PRESENT);
	map_range(rodata, data, PTE_PRESENT | PTE_NX);
	map_range(data, end, PTE_PRESENT | PTE_WRITE | PTE_NX);
}

void paging_init(void)
{
	const struct memmap *m = &boot_info.mem;
	u64 rw = PTE_PRESENT | PTE_WRITE | PTE_NX;
	u64 top = 4 * GiB;

	if (!(cpuid(0x80000001, 0).edx & CPUID_80000001_EDX_NX))
		panic("paging: CPU has no NX bit (CPUID 0x80000001 EDX.NX)");
	max_leaf_level = (cpuid(0x80000001, 0).edx & CPUID_80000001_EDX_PAGE1GB) ? 3 : 2;
	pml4 = table_alloc();
	/* The low 4 GiB whole (RAM, firmware and the usual MMIO window)... */
	map_range(0, 4 * GiB, rw);
	/* ...and every described region above it. */
	for (u32 i = 0; i < m->nr; i++)
		if (m->r[i].base + m->r[i].size > 4 * GiB) {
			map_range(MAX(m->r[i].base, 4 * GiB), m->r[i].base + m->r[i].size, rw);
			top = MAX(top, m->r[i].base + m->r[i].size);
		}
	map_image();
	unmap_page(0);
	wrmsr(MSR_IA32_EFER, rdmsr(MSR_IA32_EFER) | MSR_IA32_EFER_NXE_BIT);
	write_cr3(paging_root());
	write_cr0(read_cr0() | X86_CR0_WP);
	pr_info("paging: identity map up to %llu MiB with %s pages, image W^X, page 0 unmapped",
		(unsigned long long)(top / MiB), max_leaf_level == 3 ? "1 GiB" : "2 MiB");
}
