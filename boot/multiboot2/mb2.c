/*
 * Multiboot2 hand-off: turn the loader's information structure into the
 * struct boot_info the UEFI loader also produces, then enter kernel_main().
 * Tag layouts: Multiboot2 specification, section 3.6.
 */
#include <boot_info.h>
#include <hv/kernel.h>
#include <hv/string.h>
#include <uart/uart.h>

#define MB2_LOADER_MAGIC 0x36d76289

#define MB2_TAG_END	    0
#define MB2_TAG_CMDLINE	    1
#define MB2_TAG_LOADER_NAME 2
#define MB2_TAG_MODULE	    3
#define MB2_TAG_MMAP	    6
#define MB2_TAG_ACPI_OLD    14
#define MB2_TAG_ACPI_NEW    15

#define MB2_MMAP_AVAILABLE	  1
#define MB2_MMAP_ACPI_RECLAIMABLE 3

#define RSDP_COPY_MAX 64 /* an ACPI 2.0+ RSDP is 36 bytes */

struct mb2_tag {
	u32 type;
	u32 size;
};

struct mb2_tag_module {
	struct mb2_tag tag;
	u32 mod_start;
	u32 mod_end;
	char name[];
};

struct mb2_tag_mmap {
	struct mb2_tag tag;
	u32 entry_size;
	u32 entry_version;
};

struct mb2_mmap_entry {
	u64 base;
	u64 len;
	u32 type;
	u32 reserved;
};

/* Built here, copied by kernel_main(). */
static struct boot_info mb2_boot_info;
/* GRUB hands over a copy of the RSDP, not its address: keep the copy in the image. */
static u8 rsdp_copy[RSDP_COPY_MAX] __aligned(16);

static __noreturn void mb2_fatal(const char *msg)
{
	uart_init(UART_COM1);
	for (; *msg; msg++)
		uart_putc(*msg);
	for (;;)
		asm volatile("cli; hlt");
}

static void mb2_module(struct boot_info *bi, const struct mb2_tag_module *m)
{
	struct boot_module *bm;
	const char *name = m->name;

	if (bi->nr_modules >= BOOT_MODULES_MAX)
		mb2_fatal("hv: fatal: more than 32 boot modules\r\n");
	bm = &bi->modules[bi->nr_modules++];
	bm->base = m->mod_start;
	bm->size = m->mod_end - m->mod_start;
	/* The module's string is its name; keep the last path element only. */
	for (const char *p = m->name; *p; p++)
		if (*p == '/')
			name = p + 1;
	strlcpy(bm->name, name, sizeof(bm->name));
}

static void mb2_mmap(struct boot_info *bi, const struct mb2_tag_mmap *t)
{
	const u8 *p = (const u8 *)(t + 1);
	const u8 *end = (const u8 *)t + t->tag.size;

	if (t->entry_size < sizeof(struct mb2_mmap_entry))
		mb2_fatal("hv: fatal: Multiboot2 memory map entries too small\r\n");
	for (; p + sizeof(struct mb2_mmap_entry) <= end; p += t->entry_size) {
		const struct mb2_mmap_entry *e = (const void *)p;
		u32 type = MEM_RESERVED;

		if (e->type == MB2_MMAP_AVAILABLE)
			type = MEM_USABLE;
		else if (e->type == MB2_MMAP_ACPI_RECLAIMABLE)
			type = MEM_ACPI;
		if (memmap_add(&bi->mem, e->base, e->len, type))
			mb2_fatal("hv: fatal: firmware memory map too large\r\n");
	}
}

static void mb2_rsdp(struct boot_info *bi, const struct mb2_tag *t, bool is_new)
{
	u32 len = t->size - sizeof(*t);

	/* Prefer the ACPI 2.0 copy when both are given. */
	if (bi->rsdp && !is_new)
		return;
	if (len > sizeof(rsdp_copy))
		len = sizeof(rsdp_copy);
	memcpy(rsdp_copy, t + 1, len);
	bi->rsdp = (u64)(uintptr_t)rsdp_copy;
}

static void mb2_parse_tag(struct boot_info *bi, const struct mb2_tag *t)
{
	switch (t->type) {
	case MB2_TAG_CMDLINE:
		strlcpy(bi->cmdline, (const char *)(t + 1), sizeof(bi->cmdline));
		break;
	case MB2_TAG_LOADER_NAME:
		strlcpy(bi->loader_name, (const char *)(t + 1), sizeof(bi->loader_name));
		break;
	case MB2_TAG_MODULE:
		mb2_module(bi, (const void *)t);
		break;
	case MB2_TAG_MMAP:
		mb2_mmap(bi, (const void *)t);
		break;
	case MB2_TAG_ACPI_OLD:
	case MB2_TAG_ACPI_NEW:
		mb2_rsdp(bi, t, t->type == MB2_TAG_ACPI_NEW);
		break;
	}
}

/* Called from mb2_entry in long mode with the boot identity map. */
__noreturn void mb2_main(u32 magic, u32 info)
{
	struct boot_info *bi = &mb2_boot_info;
	const u8 *p = (const u8 *)(uintptr_t)info + 8;
	const u8 *end = (const u8 *)(uintptr_t)info + *(const u32 *)(uintptr_t)info;

	if (magic != MB2_LOADER_MAGIC)
		mb2_fatal("hv: fatal: bad Multiboot2 magic\r\n");
	bi->magic = BOOT_INFO_MAGIC;
	bi->version = BOOT_INFO_VERSION;
	strlcpy(bi->loader_name, "multiboot2", sizeof(bi->loader_name));
	while (p + sizeof(struct mb2_tag) <= end) {
		const struct mb2_tag *t = (const void *)p;

		if (t->type == MB2_TAG_END || t->size < sizeof(*t))
			break;
		mb2_parse_tag(bi, t);
		p += ALIGN_UP(t->size, 8);
	}
	if (bi->mem.nr == 0)
		mb2_fatal("hv: fatal: the loader gave no memory map\r\n");
	if (memmap_normalize(&bi->mem))
		mb2_fatal("hv: fatal: memory map does not fit after normalisation\r\n");
	kernel_main(bi);
}
