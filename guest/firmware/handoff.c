/*
 * Hand-off area allocation and the last steps before the jump.
 */
#include "console.h"
#include "handoff.h"
#include "kernel_fmt.h"
#include "layout.h"
#include "mem.h"

#define HANDOFF_SIZE  (FW_HANDOFF_END - FW_HANDOFF_BASE)
#define HANDOFF_ALIGN 4096

/* LGDT's operand in long mode: a 64-bit base. */
struct gdtr {
	u16 limit;
	u64 base;
} __packed;

/* What handoff_reloc (handoff.asm) reads; keep the two in sync. */
struct handoff_move {
	u32 dst, src, len;
};

struct handoff_reloc_table {
	u32 entry, eax, count;
	struct handoff_move move[KFMT_MAX_SEGS];
};

extern const u8 fw_gdt[], fw_gdt_end[];
extern const u8 handoff_reloc[], handoff_reloc_end[];
void handoff_jump32(u32 reloc, u32 table, u32 ebx, const struct gdtr *gdtr);
void handoff_jump64(u64 entry, u64 rsi, const struct gdtr *gdtr);

static u64 area = FW_HANDOFF_BASE, next = FW_HANDOFF_BASE;
static struct handoff_reloc_table moves;

void handoff_area_init(void)
{
	if (!mem_overlaps_fixed(FW_HANDOFF_BASE, HANDOFF_SIZE))
		return;
	mem_release(FW_HANDOFF_BASE, HANDOFF_SIZE);
	area = mem_alloc(HANDOFF_SIZE, HANDOFF_ALIGN, FW_LEGACY_END, FW_LOW_4G, true, E820_RESERVED,
			 "the hand-off area");
	if (!area)
		fw_fatal("the kernel takes the hand-off area 0x%lx-0x%lx and no other 64 KiB "
			 "below 4 GiB is free",
			 FW_HANDOFF_BASE, FW_HANDOFF_END);
	next = area;
	fw_log("hand-off area moved to 0x%lx-0x%lx: the kernel takes 0x%lx-0x%lx", area,
	       area + HANDOFF_SIZE, FW_HANDOFF_BASE, FW_HANDOFF_END);
}

void handoff_add_move(u64 dst, u64 src, u64 len)
{
	if (moves.count == KFMT_MAX_SEGS)
		fw_fatal("more than %u staged kernel segments", KFMT_MAX_SEGS);
	moves.move[moves.count++] = (struct handoff_move){ (u32)dst, (u32)src, (u32)len };
}

void *handoff_alloc(size_t size, size_t align)
{
	u64 a = ALIGN_UP(next, align ? align : 1);

	if (a + size > area + HANDOFF_SIZE || a + size < a)
		fw_fatal("the hand-off area (0x%lx-0x%lx) is full: %zu more bytes needed", area,
			 area + HANDOFF_SIZE, size);
	next = a + size;
	return memset((void *)(uintptr_t)a, 0, size);
}

char *handoff_strdup(const char *s)
{
	size_t n = strlen(s) + 1;

	return memcpy(handoff_alloc(n, 1), s, n);
}

/* The firmware's GDT, copied where the OS will not overwrite it before loading its own. */
static const struct gdtr *handoff_gdt(void)
{
	size_t n = fw_gdt_end - fw_gdt;
	u8 *gdt = memcpy(handoff_alloc(n, 16), fw_gdt, n);
	struct gdtr *r = handoff_alloc(sizeof(*r), 8);

	r->limit = (u16)(n - 1);
	r->base = (u64)(uintptr_t)gdt;
	return r;
}

/* The jump goes through a copy of handoff_reloc in the hand-off area, which no segment overlaps. */
_Noreturn void handoff_enter32(u32 entry, u32 eax, u32 ebx)
{
	size_t n = handoff_reloc_end - handoff_reloc;
	void *reloc = memcpy(handoff_alloc(n, 16), handoff_reloc, n);
	struct handoff_reloc_table *t = handoff_alloc(sizeof(*t), 8);

	*t = moves;
	t->entry = entry;
	t->eax = eax;
	handoff_jump32((u32)(uintptr_t)reloc, (u32)(uintptr_t)t, ebx, handoff_gdt());
	__builtin_unreachable();
}

_Noreturn void handoff_enter64(u64 entry, u64 rsi)
{
	handoff_jump64(entry, rsi, handoff_gdt());
	__builtin_unreachable();
}
