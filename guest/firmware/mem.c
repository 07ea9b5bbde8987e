/*
 * Claims on guest-physical memory. Allocation walks the platform's RAM
 * ranges and steps over claims: from the top down for initrds and tables
 * (the Linux boot protocol wants the initrd high), from the bottom up for a
 * relocated kernel.
 */
#include "layout.h"
#include "mem.h"

struct claim {
	u64 base, end;
	u32 type;
	bool movable; /* the firmware's own: it gets out of the way of a kernel */
	const char *what;
};

static struct e820_map platform;
static struct claim claims[MEM_MAX_CLAIMS];
static u32 nr_claims;

void mem_init(const struct e820_map *m)
{
	platform = *m;
	nr_claims = 0;
}

const struct e820_map *mem_platform_map(void)
{
	return &platform;
}

static bool in_ram(u64 base, u64 end)
{
	u64 ram_end = e820_ram_end_from(&platform, base);

	return end <= FW_LOW_4G && ram_end && end <= ram_end;
}

/* The first claim overlapping [base, end), movable ones only if with_movable; or NULL. */
static const struct claim *overlap_of(u64 base, u64 end, bool with_movable)
{
	for (u32 i = 0; i < nr_claims; i++) {
		if ((with_movable || !claims[i].movable) && claims[i].base < end &&
		    base < claims[i].end)
			return &claims[i];
	}
	return NULL;
}

static const struct claim *overlap(u64 base, u64 end)
{
	return overlap_of(base, end, true);
}

static int claim(u64 base, u64 size, u32 type, const char *what, const char **conflict,
		 bool over_movable)
{
	u64 end = base + size;
	const struct claim *c;

	*conflict = "";
	if (!size || end < base || !in_ram(base, end)) {
		*conflict = "memory that is not RAM below 4 GiB";
		return -FW_EFAULT;
	}
	c = overlap_of(base, end, !over_movable);
	if (c) {
		*conflict = c->what;
		return -FW_ENOSPC;
	}
	if (nr_claims == MEM_MAX_CLAIMS)
		return -FW_ENOMEM;
	claims[nr_claims++] = (struct claim){ base, end, type, false, what };
	return 0;
}

int mem_claim(u64 base, u64 size, u32 type, const char *what, const char **conflict)
{
	return claim(base, size, type, what, conflict, false);
}

int mem_claim_final(u64 base, u64 size, u32 type, const char *what, const char **conflict)
{
	return claim(base, size, type, what, conflict, true);
}

bool mem_overlaps_movable(u64 base, u64 size)
{
	for (u32 i = 0; i < nr_claims; i++) {
		if (claims[i].movable && claims[i].base < base + size && base < claims[i].end)
			return true;
	}
	return false;
}

bool mem_overlaps_fixed(u64 base, u64 size)
{
	return overlap_of(base, base + size, false) != NULL;
}

static int reserve(u64 base, u64 size, u32 type, bool movable, const char *what)
{
	if (nr_claims == MEM_MAX_CLAIMS)
		return -FW_ENOMEM;
	claims[nr_claims++] = (struct claim){ base, base + size, type, movable, what };
	return 0;
}

int mem_reserve(u64 base, u64 size, u32 type, const char *what)
{
	return reserve(base, size, type, false, what);
}

int mem_reserve_movable(u64 base, u64 size, u32 type, const char *what)
{
	return reserve(base, size, type, true, what);
}

void mem_release(u64 base, u64 size)
{
	for (u32 i = 0; i < nr_claims; i++) {
		if (claims[i].base == base && claims[i].end == base + size) {
			claims[i] = claims[--nr_claims];
			return;
		}
	}
}

/* The lowest (or highest) aligned free spot in [lo, hi), or 0. */
static u64 fit(u64 size, u64 align, u64 lo, u64 hi, bool top)
{
	while (hi > lo && hi - lo >= size) {
		u64 a = top ? ALIGN_DOWN(hi - size, align) : ALIGN_UP(lo, align);
		const struct claim *c;

		if (a < lo || a + size > hi || a + size < a)
			return 0;
		c = overlap(a, a + size);
		if (!c)
			return a;
		if (top)
			hi = c->base;
		else
			lo = c->end;
	}
	return 0;
}

u64 mem_alloc(u64 size, u64 align, u64 min, u64 max, bool top, u32 type, const char *what)
{
	const char *conflict;

	max = MIN(max, FW_LOW_4G);
	for (u32 k = 0; k < platform.nr; k++) {
		const struct e820_entry *e = &platform.e[top ? platform.nr - 1 - k : k];
		u64 lo = MAX(e->addr, min), hi = MIN(e->addr + e->size, max), a;

		if (e->type != E820_RAM || !size)
			continue;
		a = fit(size, align ? align : 1, lo, hi, top);
		if (a && !mem_claim(a, size, type, what, &conflict))
			return a;
	}
	return 0;
}

int mem_handover_map(struct e820_map *out)
{
	*out = platform;
	for (u32 i = 0; i < nr_claims; i++) {
		int err;

		if (claims[i].type == E820_RAM)
			continue;
		err = e820_set(out, claims[i].base, claims[i].end - claims[i].base, claims[i].type);
		if (err)
			return err;
	}
	return 0;
}
