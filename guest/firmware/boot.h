/*
 * Booting from the disk: the Boot Loader Specification entry, the kernel
 * and its initrds, then one of the boot protocols (boot_linux.c,
 * boot_pvh.c, boot_multiboot.c) builds what its kernel expects and jumps.
 */
#ifndef FW_BOOT_H
#define FW_BOOT_H

#include "bls.h"
#include "kernel_fmt.h"
#include "platform.h"

struct boot_module {
	u64 addr, size;
	const char *path;
};

struct boot_plan {
	const struct platform *pf;
	struct bls_entry entry;
	struct kfmt_info ki;
	u64 kernel_bytes; /* the kernel file's size */
	const u8 *head;	  /* its first head_len bytes (the bzImage setup header) */
	size_t head_len;
	struct boot_module mod[BLS_MAX_INITRD];
	u32 nr_mods;
	u64 initrd_addr, initrd_size; /* all initrds back to back (Linux, PVH) */
};

/* Finds the disk, the entry and the kernel, then hands over; never returns. */
_Noreturn void boot_from_disk(const struct platform *pf);

/*
 * Loads the entry's initrds below limit: back to back (4-byte aligned, the
 * gaps zeroed, as one range: initrd_addr/initrd_size) unless separate, in
 * which case each is a page-aligned module of its own. Halts with a message
 * if one is missing or does not fit.
 */
void boot_load_initrds(struct boot_plan *bp, bool separate, u64 limit);

/*
 * The last step of every protocol: resets the disk, prints the load
 * statistics, "handing over to <protocol> entry 0x..." and the TSC.
 */
void boot_report(const struct boot_plan *bp, const char *protocol, u64 entry);

_Noreturn void boot_linux(struct boot_plan *bp);
_Noreturn void boot_pvh(struct boot_plan *bp);
_Noreturn void boot_multiboot(struct boot_plan *bp);

#endif
