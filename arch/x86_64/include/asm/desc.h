/* GDT, TSS and IDT layouts (SDM Vol. 3 3.4.5, 7.2.3, 6.14.1). */
#ifndef ASM_DESC_H
#define ASM_DESC_H

#include <hv/types.h>

#define GDT_KERNEL_CS 0x08
#define GDT_KERNEL_DS 0x10
#define GDT_TSS	      0x18 /* 16-byte system descriptor */
#define GDT_ENTRIES   5

/* Segment registers as instructions and VM exits number them (SDM Vol. 2
 * 2.1.5 Sreg, Vol. 3 Table 27-8): ES, CS, SS, DS, FS, GS. */
#define SEG_ES 0
#define SEG_CS 1
#define SEG_SS 2
#define SEG_DS 3
#define SEG_FS 4
#define SEG_GS 5

/* IST slots (1-based in the IDT gate, 0 = no stack switch). */
#define IST_NMI 1
#define IST_DF	2
#define IST_MC	3

struct tss {
	u32 reserved0;
	u64 rsp[3];
	u64 reserved1;
	u64 ist[7];
	u64 reserved2;
	u16 reserved3;
	u16 iomap_base;
} __packed;
_Static_assert(sizeof(struct tss) == 104, "TSS is 104 bytes (SDM 7.7)");

struct gdt {
	u64 entry[GDT_ENTRIES];
};

struct idt_gate {
	u16 offset_low;
	u16 selector;
	u8 ist;
	u8 type_attr;
	u16 offset_mid;
	u32 offset_high;
	u32 reserved;
} __packed;
_Static_assert(sizeof(struct idt_gate) == 16, "IDT gate is 16 bytes (SDM 6.14.1)");

struct desc_ptr {
	u16 limit;
	u64 base;
} __packed;

#endif
