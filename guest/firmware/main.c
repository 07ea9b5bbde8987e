/*
 * The vsi-pc virtual firmware: from the reset vector (entry.asm) to a kernel
 * loaded from the virtio-blk disk (docs/firmware.md).
 */
#include "boot.h"
#include "console.h"
#include "platform.h"
#include "trap.h"

#define ROM_TAIL_SIZE 0x1000  /* entry.asm: reset code and vector */
#define ROM_GRANULE   0x10000 /* the Makefile pads the ROM to 64 KiB multiples */

extern const char __image_size[]; /* firmware.ld: an absolute symbol */

_Noreturn void fw_main(u64 tsc_reset);

_Noreturn void fw_main(u64 tsc_reset)
{
	static struct platform pf;
	u64 used = (u64)(uintptr_t)__image_size + ROM_TAIL_SIZE;

	uart_init();
	trap_init();
	pf.tsc_reset = tsc_reset;
	pf.rom_size = (u32)ALIGN_UP(used, ROM_GRANULE);
	fw_log("vsi-pc firmware: ROM %u KiB (%lu bytes used)", pf.rom_size / 1024, used);
	fw_log("tsc reset %lu", tsc_reset);
	platform_init(&pf);
	boot_from_disk(&pf);
}
