/*
 * \hv\cmdline.txt and the boot modules: every other regular file in \hv,
 * each in its own pages below 4 GiB, sorted by name.
 */
#include "loader.h"

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

/*
 * Put the text of cmdline.txt into bi->cmdline: leading and trailing
 * whitespace dropped, inner line breaks and tabs turned into spaces so a
 * wrapped file still is one line.
 */
static EFI_STATUS cmdline_set(struct boot_info *bi, const char *text, UINT64 len)
{
	while (len > 0 && is_space(text[len - 1]))
		len--;
	while (len > 0 && is_space(text[0])) {
		text++;
		len--;
	}
	if (len > BOOT_CMDLINE_MAX - 1)
		return loader_error(EFI_BAD_BUFFER_SIZE,
				    L"\\hv\\cmdline.txt too long: %ld bytes, at most %d", len,
				    BOOT_CMDLINE_MAX - 1);
	for (UINT64 i = 0; i < len; i++) {
		if (text[i] == '\0')
			return loader_error(EFI_INVALID_PARAMETER,
					    L"\\hv\\cmdline.txt has a NUL byte at offset %ld "
					    L"(UTF-16? save it as ASCII/UTF-8)",
					    i);
		bi->cmdline[i] = is_space(text[i]) ? ' ' : text[i];
	}
	bi->cmdline[len] = '\0';
	return EFI_SUCCESS;
}

/* Read the optional \hv\cmdline.txt into bi->cmdline (empty if absent). */
EFI_STATUS cmdline_read(EFI_FILE_HANDLE dir, struct boot_info *bi)
{
	void *text;
	UINT64 size;
	EFI_STATUS st;

	bi->cmdline[0] = '\0';
	st = fs_read_pool(dir, L"cmdline.txt", &text, &size);
	if (st == EFI_NOT_FOUND)
		return EFI_SUCCESS;
	if (EFI_ERROR(st))
		return st;
	st = cmdline_set(bi, text, size);
	uefi_call_wrapper(BS->FreePool, 1, text);
	return st;
}

/* ASCII case-insensitive equality of a UEFI file name and an ASCII name. */
static bool name_is(const CHAR16 *a, const char *b)
{
	for (; *a && *b; a++, b++) {
		CHAR16 x = (*a >= 'A' && *a <= 'Z') ? *a + 32 : *a;
		char y = (*b >= 'A' && *b <= 'Z') ? *b + 32 : *b;

		if (x != y)
			return false;
	}
	return *a == 0 && *b == 0;
}

/* The module name: the CHAR16 file name as printable ASCII, or an error. */
static EFI_STATUS module_name(const CHAR16 *name, char *out)
{
	u32 i;

	for (i = 0; name[i]; i++) {
		if (i >= BOOT_MODNAME_MAX - 1)
			return loader_error(EFI_BAD_BUFFER_SIZE,
					    L"module \\hv\\%s: name longer than %d characters",
					    name, BOOT_MODNAME_MAX - 1);
		if (name[i] < 0x20 || name[i] > 0x7e)
			return loader_error(EFI_UNSUPPORTED,
					    L"module \\hv\\%s: name is not ASCII (character %d)",
					    name, i);
		out[i] = (char)name[i];
	}
	out[i] = '\0';
	return EFI_SUCCESS;
}

/* Load the file a directory entry describes as module bi->modules[bi->nr_modules]. */
static EFI_STATUS module_load(EFI_FILE_HANDLE dir, EFI_FILE_INFO *fi, struct boot_info *bi)
{
	struct boot_module *mod = &bi->modules[bi->nr_modules];
	UINT64 span = ALIGN_UP(MAX(fi->FileSize, 1), PAGE_SIZE);
	EFI_FILE_HANDLE file;
	EFI_STATUS st;

	if (bi->nr_modules >= BOOT_MODULES_MAX)
		return loader_error(EFI_BUFFER_TOO_SMALL,
				    L"more than %d modules in \\hv (at \\hv\\%s)", BOOT_MODULES_MAX,
				    fi->FileName);
	st = module_name(fi->FileName, mod->name);
	if (EFI_ERROR(st))
		return st;
	st = fs_open(dir, fi->FileName, &file);
	if (EFI_ERROR(st))
		return loader_error(st, L"cannot open module \\hv\\%s", fi->FileName);
	st = efi_alloc_low(span, &mod->base);
	if (EFI_ERROR(st)) {
		loader_error(st, L"no memory below 4 GiB for module \\hv\\%s (%ld bytes)",
			     fi->FileName, fi->FileSize);
		goto out;
	}
	ZeroMem((void *)(mod->base + fi->FileSize), span - fi->FileSize);
	mod->size = fi->FileSize;
	st = fs_read(file, fi->FileName, (void *)mod->base, fi->FileSize);
	if (EFI_ERROR(st))
		efi_free_pages(mod->base, span);
	else
		bi->nr_modules++;
out:
	uefi_call_wrapper(file->Close, 1, file);
	return st;
}

/* Next entry of dir into *buf; EFI_END_OF_FILE after the last one. */
static EFI_STATUS dir_next(EFI_FILE_HANDLE dir, union file_info_buf *buf)
{
	UINTN len = sizeof(*buf);
	EFI_STATUS st;

	st = uefi_call_wrapper(dir->Read, 3, dir, &len, buf);
	if (st == EFI_BUFFER_TOO_SMALL)
		return loader_error(st, L"a file name in \\hv is longer than 255 characters");
	if (EFI_ERROR(st))
		return loader_error(st, L"cannot list directory \\hv");
	return len == 0 ? EFI_END_OF_FILE : EFI_SUCCESS;
}

/* strcmp(): gnu-efi's strcmpa() returns an unsigned value, useless for ordering. */
static int name_cmp(const char *a, const char *b)
{
	while (*a && *a == *b) {
		a++;
		b++;
	}
	return (u8)*a - (u8)*b;
}

/* Sort modules by name so their order does not depend on the file system. */
static void modules_sort(struct boot_info *bi)
{
	for (u32 i = 1; i < bi->nr_modules; i++)
		for (u32 j = i; j > 0 && name_cmp(bi->modules[j - 1].name, bi->modules[j].name) > 0;
		     j--) {
			struct boot_module t = bi->modules[j];

			bi->modules[j] = bi->modules[j - 1];
			bi->modules[j - 1] = t;
		}
}

/* Load every regular file in \hv except hv.elf and cmdline.txt as a module. */
EFI_STATUS modules_load(EFI_FILE_HANDLE dir, struct boot_info *bi)
{
	union file_info_buf buf;
	EFI_STATUS st;

	bi->nr_modules = 0;
	uefi_call_wrapper(dir->SetPosition, 2, dir, 0ULL);
	while ((st = dir_next(dir, &buf)) == EFI_SUCCESS) {
		if (buf.info.Attribute & EFI_FILE_DIRECTORY)
			continue;
		if (name_is(buf.info.FileName, "hv.elf") ||
		    name_is(buf.info.FileName, "cmdline.txt"))
			continue;
		st = module_load(dir, &buf.info, bi);
		if (EFI_ERROR(st))
			break;
	}
	if (st != EFI_END_OF_FILE) {
		modules_free(bi);
		return st;
	}
	modules_sort(bi);
	return EFI_SUCCESS;
}

/* Give back the pages of every loaded module. */
void modules_free(struct boot_info *bi)
{
	for (u32 i = 0; i < bi->nr_modules; i++)
		efi_free_pages(bi->modules[i].base,
			       ALIGN_UP(MAX(bi->modules[i].size, 1), PAGE_SIZE));
	bi->nr_modules = 0;
}
