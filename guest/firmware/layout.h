/*
 * Where the firmware lives in guest-physical memory (docs/firmware.md).
 * firmware.ld and entry.asm repeat the first three values.
 *
 *   0x00000 - 0x00FFF  page 0: reserved in the map handed over
 *   0x01000 - 0x06FFF  page tables: identity map of the low 4 GiB, 2 MiB pages
 *   0x10000 - 0x7FFFF  the firmware copied from the ROM: code, data, bss, stack
 *   0x80000 - 0x8FFFF  hand-off area: GDT, boot_params / start_info / Multiboot
 *                      information, command line, memory map; reserved
 *   0xA0000 - 0xFFFFF  legacy hole (and the ROM's alias): reserved
 *   top of RAM below 4 GiB: the ACPI tables, ACPI reclaimable
 *
 * Everything from 0x1000 to 0x80000 is usable RAM again once the OS runs.
 */
#ifndef FW_LAYOUT_H
#define FW_LAYOUT_H

#define FW_PT_BASE	  0x1000UL
#define FW_IMAGE_BASE	  0x10000UL
#define FW_RAM_END	  0x80000UL
#define FW_HANDOFF_BASE	  0x80000UL
#define FW_HANDOFF_END	  0x90000UL
#define FW_LEGACY_BASE	  0xA0000UL
#define FW_LEGACY_END	  0x100000UL
#define FW_ACPI_AREA_SIZE 0x10000UL
#define FW_LOW_4G	  0x100000000UL

/* GDT selectors, the same in the firmware and at hand-off (Linux's __BOOT_CS / __BOOT_DS). */
#define SEL_CODE32 0x08
#define SEL_CODE64 0x10
#define SEL_DATA   0x18
#define SEL_TSS	   0x20

#endif
