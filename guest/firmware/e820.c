/*
 * Memory map handling. Map sizes are tens of entries, so plain insertion
 * sort and rebuilds are fine.
 */
#include "console.h"
#include "e820.h"
#include "fwcfg.h"

static void e820_sort(struct e820_map *m)
{
	for (u32 i = 1; i < m->nr; i++) {
		struct e820_entry t = m->e[i];
		u32 j = i;

		for (; j && m->e[j - 1].addr > t.addr; j--)
			m->e[j] = m->e[j - 1];
		m->e[j] = t;
	}
}

/* Joins neighbours of the same type that touch. */
static void e820_merge(struct e820_map *m)
{
	u32 out = 0;

	for (u32 i = 0; i < m->nr; i++) {
		struct e820_entry *p = out ? &m->e[out - 1] : NULL;

		if (p && p->type == m->e[i].type && p->addr + p->size == m->e[i].addr)
			p->size += m->e[i].size;
		else
			m->e[out++] = m->e[i];
	}
	m->nr = out;
}

static int e820_push(struct e820_entry *e, u32 *nr, u64 addr, u64 end, u32 type)
{
	if (end <= addr)
		return 0;
	if (*nr >= E820_MAX)
		return -FW_ENOSPC;
	e[(*nr)++] = (struct e820_entry){ addr, end - addr, type };
	return 0;
}

int e820_set(struct e820_map *m, u64 addr, u64 size, u32 type)
{
	static struct e820_entry tmp[E820_MAX];
	u64 end = addr + size;
	u32 nr = 0;
	int err = 0;

	if (!size || end < addr)
		return -FW_EINVAL;
	for (u32 i = 0; i < m->nr && !err; i++) {
		const struct e820_entry *e = &m->e[i];
		u64 e_end = e->addr + e->size;

		if (e_end <= addr || e->addr >= end) {
			err = e820_push(tmp, &nr, e->addr, e_end, e->type);
			continue;
		}
		err = e820_push(tmp, &nr, e->addr, addr, e->type);
		if (!err)
			err = e820_push(tmp, &nr, end, e_end, e->type);
	}
	if (!err)
		err = e820_push(tmp, &nr, addr, end, type);
	if (err)
		return err;
	memcpy(m->e, tmp, nr * sizeof(tmp[0]));
	m->nr = nr;
	e820_sort(m);
	e820_merge(m);
	return 0;
}

/*
 * RAM entries go in first and everything else over them, so where the
 * platform's entries overlap, the non-RAM type wins.
 */
int e820_from_fwcfg(struct e820_map *m, const char **why)
{
	static struct e820_entry raw[E820_MAX];
	u16 key;
	u32 size, n;

	m->nr = 0;
	if (fwcfg_find_file("etc/e820", &key, &size)) {
		*why = "fw_cfg has no etc/e820 file";
		return -FW_ENOENT;
	}
	if (!size || size % sizeof(raw[0]) || size > sizeof(raw)) {
		*why = "etc/e820 is empty, not a whole number of 20-byte entries, or too long";
		return -FW_EINVAL;
	}
	n = size / sizeof(raw[0]);
	fwcfg_read(key, raw, size);
	for (int pass = 0; pass < 2; pass++) {
		for (u32 i = 0; i < n; i++) {
			if ((raw[i].type == E820_RAM) != (pass == 0) || !raw[i].size)
				continue;
			if (raw[i].addr + raw[i].size < raw[i].addr ||
			    e820_set(m, raw[i].addr, raw[i].size, raw[i].type)) {
				*why =
				    "etc/e820 has an entry that wraps around or too many entries";
				return -FW_EINVAL;
			}
		}
	}
	if (!e820_ram_total(m)) {
		*why = "etc/e820 lists no RAM";
		return -FW_EINVAL;
	}
	return 0;
}

u64 e820_ram_total(const struct e820_map *m)
{
	u64 t = 0;

	for (u32 i = 0; i < m->nr; i++) {
		if (m->e[i].type == E820_RAM)
			t += m->e[i].size;
	}
	return t;
}

u64 e820_ram_end_from(const struct e820_map *m, u64 addr)
{
	for (u32 i = 0; i < m->nr; i++) {
		const struct e820_entry *e = &m->e[i];

		if (e->type == E820_RAM && addr >= e->addr && addr - e->addr < e->size)
			return e->addr + e->size;
	}
	return 0;
}

void e820_print(const struct e820_map *m)
{
	static const char *const names[] = { "?", "RAM", "reserved", "ACPI", "NVS", "unusable" };

	for (u32 i = 0; i < m->nr; i++) {
		const struct e820_entry *e = &m->e[i];

		con_printf("fw:   %016lx-%016lx %s\n", e->addr, e->addr + e->size - 1,
			   e->type < ARRAY_SIZE(names) ? names[e->type] : "other");
	}
}
