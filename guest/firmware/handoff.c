/*
 * Hand-off area allocation and the last steps before the jump.
 */
#include "console.h"
#include "handoff.h"
#include "layout.h"

/* LGDT's operand in long mode: a 64-bit base. */
struct gdtr {
	u16 limit;
	u64 base;
} __packed;

extern const u8 fw_gdt[], fw_gdt_end[];
void handoff_jump32(u32 entry, u32 eax, u32 ebx, const struct gdtr *gdtr);
void handoff_jump64(u64 entry, u64 rsi, const struct gdtr *gdtr);

static u64 next = FW_HANDOFF_BASE;

void *handoff_alloc(size_t size, size_t align)
{
	u64 a = ALIGN_UP(next, align ? align : 1);

	if (a + size > FW_HANDOFF_END || a + size < a)
		fw_fatal("the hand-off area (0x%lx-0x%lx) is full: %zu more bytes needed",
			 FW_HANDOFF_BASE, FW_HANDOFF_END, size);
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

_Noreturn void handoff_enter32(u32 entry, u32 eax, u32 ebx)
{
	handoff_jump32(entry, eax, ebx, handoff_gdt());
	__builtin_unreachable();
}

_Noreturn void handoff_enter64(u64 entry, u64 rsi)
{
	handoff_jump64(entry, rsi, handoff_gdt());
	__builtin_unreachable();
}
