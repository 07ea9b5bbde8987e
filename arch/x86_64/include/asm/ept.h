/*
 * Extended page tables (Intel SDM Vol. 3C 28.3): building and querying the
 * 4-level guest-physical to host-physical tables of one guest. Portable: the
 * paging-structure pages come from a caller-supplied allocator, so the same
 * code runs in the image (frame allocator, identity virt) and in host tests
 * (malloc'ed pages). No locking and no INVEPT here: the caller serialises
 * changes and invalidates after ept_unmap() on a live guest (SDM 28.4.3).
 */
#ifndef ASM_EPT_H
#define ASM_EPT_H

#include <hv/types.h>

/* EPT paging-structure entries, SDM 28.3.2 (Tables 28-1 to 28-6) */
#define EPT_READ_BIT	    (1ULL << 0)
#define EPT_WRITE_BIT	    (1ULL << 1)
#define EPT_EXEC_BIT	    (1ULL << 2) /* supervisor-mode execute */
#define EPT_PERM_MASK	    (EPT_READ_BIT | EPT_WRITE_BIT | EPT_EXEC_BIT)
#define EPT_MT_SHIFT	    3 /* memory type, leaf entries only */
#define EPT_MT_MASK	    (7ULL << EPT_MT_SHIFT)
#define EPT_IGNORE_PAT_BIT  (1ULL << 6) /* leaf entries only */
#define EPT_LARGE_BIT	    (1ULL << 7) /* PDPTE: 1 GiB page, PDE: 2 MiB page */
#define EPT_ACCESSED_BIT    (1ULL << 8)
#define EPT_DIRTY_BIT	    (1ULL << 9)	 /* leaf entries only */
#define EPT_USER_EXEC_BIT   (1ULL << 10) /* mode-based execute control only */
#define EPT_SUPPRESS_VE_BIT (1ULL << 63)
#define EPT_ADDR_MASK	    0x000ffffffffff000ULL /* bits 51:12 */

/* EPT memory types, SDM 28.3.7 (2, 3 and 7 are reserved: misconfiguration) */
#define EPT_MT_UC 0
#define EPT_MT_WC 1
#define EPT_MT_WT 4
#define EPT_MT_WP 5
#define EPT_MT_WB 6

/* Extended-page-table pointer, SDM 24.6.11 */
#define EPTP_MT_SHIFT  0
#define EPTP_MT_MASK   (7ULL << EPTP_MT_SHIFT)
#define EPTP_PWL_SHIFT 3 /* page-walk length minus 1 */
#define EPTP_PWL_MASK  (7ULL << EPTP_PWL_SHIFT)
#define EPTP_PWL_4     (3ULL << EPTP_PWL_SHIFT)
#define EPTP_AD_BIT    (1ULL << 6) /* accessed and dirty flags */
#define EPTP_ADDR_MASK EPT_ADDR_MASK

/* Geometry of 4-level EPT: 512 entries a table, 48-bit guest-physical addresses. */
#define EPT_LEVELS   4
#define EPT_ENTRIES  512
#define EPT_GPA_BITS 48
#define EPT_HPA_BITS 52 /* the architectural maximum MAXPHYADDR */

/* Where paging-structure pages come from. */
struct ept_mem {
	/* A zeroed, 4 KiB-aligned page below 2^52: its physical address, 0 if none. */
	u64 (*alloc_page)(void *ctx);
	void (*free_page)(void *ctx, u64 pa);
	/* Pointer to the page at pa (identity in the kernel). */
	void *(*virt)(void *ctx, u64 pa);
	void *ctx;
};

struct ept {
	u64 root;	     /* physical address of the PML4 */
	bool use_2m, use_1g; /* large pages allowed (from the CPU's capabilities) */
	bool exec_only;	     /* execute-only mappings allowed (IA32_VMX_EPT_VPID_CAP bit 0) */
	u32 nr_tables;	     /* paging-structure pages in use */
	struct ept_mem mem;
};

/*
 * Allocate an empty PML4. 1 GiB pages are used only together with 2 MiB ones
 * (a split 1 GiB page becomes 2 MiB pages); exec_only starts false. 0,
 * -EINVAL or -ENOMEM.
 */
int ept_init(struct ept *e, const struct ept_mem *mem, bool use_2m, bool use_1g);

/*
 * Map [gpa, gpa+size) to [hpa, hpa+size) with perms (EPT_*_BIT) and memory
 * type (EPT_MT_*), using the largest page the alignment of both gpa and hpa
 * and the remaining size allow. perms must include read, or be execute-only
 * with exec_only set. -EINVAL on bad arguments, -EEXIST if any part is
 * already mapped, -ENOMEM; on error nothing has changed.
 */
int ept_map(struct ept *e, u64 gpa, u64 hpa, u64 size, u32 perms, u32 memtype);

/*
 * Remove [gpa, gpa+size), splitting large pages the range cuts. -EINVAL on
 * bad arguments, -ENOENT if some part was not mapped (nothing changed), or
 * -ENOMEM if a split could not get a page (translations unchanged).
 */
int ept_unmap(struct ept *e, u64 gpa, u64 size);

/* Translate gpa: 0 with the leaf's facts (any pointer may be NULL), or -ENOENT. */
int ept_lookup(const struct ept *e, u64 gpa, u64 *hpa, u32 *perms, u32 *memtype, u64 *page_size);

/* The EPTP value for the VMCS: write-back, 4 levels, A/D flags if ad. */
u64 ept_pointer(const struct ept *e, bool ad);

/* Free every paging-structure page, the PML4 too (not the mapped memory). */
void ept_destroy(struct ept *e);

/*
 * Call fn for every leaf in address order; stops at and returns the first
 * non-zero value fn returns, else 0.
 */
int ept_for_each(const struct ept *e,
		 int (*fn)(void *arg, u64 gpa, u64 hpa, u64 size, u32 perms, u32 memtype),
		 void *arg);

#endif
