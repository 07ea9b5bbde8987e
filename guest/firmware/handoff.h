/*
 * Leaving the firmware. The hand-off area (layout.h) holds everything the OS
 * is given by address: the GDT it starts on, boot_params / hvm_start_info /
 * Multiboot information, the command line and the memory map. It is
 * reserved in the map handed over, so it survives until the OS has read it.
 */
#ifndef FW_HANDOFF_H
#define FW_HANDOFF_H

#include "fwtypes.h"

/*
 * Moves the hand-off area out of the kernel's way: when a kernel segment
 * claimed part of 0x80000-0x8FFFF, 64 KiB as high as possible below 4 GiB
 * instead. Called once the kernel's segments are claimed, before any
 * handoff_alloc().
 */
void handoff_area_init(void);

/*
 * A kernel segment staged at src because its place dst is the firmware's own
 * memory: handoff_enter32() copies it there after the firmware is done.
 */
void handoff_add_move(u64 dst, u64 src, u64 len);

/* Zeroed bytes from the hand-off area; halts with a message when it is full. */
void *handoff_alloc(size_t size, size_t align);

/* Copies a NUL-terminated string into the hand-off area. */
char *handoff_strdup(const char *s);

/*
 * 32-bit protected mode, paging off, flat CS/DS/ES/FS/GS/SS, TR a 32-bit TSS
 * at base 0 limit 0x67, CR0 = PE|ET, CR4 = 0, EFLAGS.IF = 0; EAX = eax,
 * EBX = ebx, then a jump to entry (PVH, Multiboot 1 and 2).
 */
_Noreturn void handoff_enter32(u32 entry, u32 eax, u32 ebx);

/*
 * Long mode on the firmware's identity map, CS = 0x10, DS/ES/SS = 0x18,
 * interrupts off, RSI = rsi, then a jump to entry (Linux 64-bit boot protocol).
 */
_Noreturn void handoff_enter64(u64 entry, u64 rsi);

#endif
