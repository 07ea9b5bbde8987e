/* The hypervisor's own page tables (4-level, SDM Vol. 3 4.5). */
#ifndef ASM_PAGING_H
#define ASM_PAGING_H

#include <hv/types.h>

#define PTE_PRESENT   BIT(0)
#define PTE_WRITE     BIT(1)
#define PTE_USER      BIT(2)
#define PTE_PWT	      BIT(3)
#define PTE_PCD	      BIT(4)
#define PTE_ACCESSED  BIT(5)
#define PTE_DIRTY     BIT(6)
#define PTE_LARGE     BIT(7) /* PS: 2 MiB in a PD, 1 GiB in a PDPT */
#define PTE_GLOBAL    BIT(8)
#define PTE_NX	      BIT(63)
#define PTE_ADDR_MASK 0x000ffffffffff000ULL

/*
 * Build the final tables: all of RAM and the low 4 GiB identity-mapped,
 * read/write, no-execute; the image W^X (text RX, rodata R, data RW);
 * page 0 left unmapped so NULL dereferences fault. Switches CR3.
 */
void paging_init(void);
/* Remap [phys, phys+size) uncached (device registers). */
void paging_map_mmio(u64 phys, u64 size);
/* CR3 value of the hypervisor's tables (below 4 GiB). */
u64 paging_root(void);

#endif
