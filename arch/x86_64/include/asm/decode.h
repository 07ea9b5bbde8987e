/*
 * Decoder of the instructions a guest uses to touch emulated MMIO: the MOV
 * family (SDM Vol. 2 MOV, MOVZX, MOVSX). On an EPT violation the CPU gives
 * the guest-physical address but not the access; this tells the size, the
 * direction and the register or immediate. Portable and tested on the host:
 * the bytes come from guest memory and are hostile.
 */
#ifndef ASM_DECODE_H
#define ASM_DECODE_H

#include <hv/types.h>

#define MMIO_INSN_MAX 15 /* SDM Vol. 2 2.3.11: longer raises #GP */

enum mmio_op {
	MMIO_OP_LOAD,
	MMIO_OP_STORE,
};

enum mmio_ext {
	MMIO_EXT_NONE,
	MMIO_EXT_ZERO, /* MOVZX */
	MMIO_EXT_SIGN, /* MOVSX */
};

#define MMIO_REG_NONE 0xff /* no base or index register */
#define MMIO_REG_RIP  0x10 /* RIP-relative (64-bit mode): base is the next RIP */
#define MMIO_SEG_NONE 0xff /* no segment override: DS, or SS with an rSP/rBP base */

/* The memory operand as encoded (SDM Vol. 2 2.1.5): its effective address is
 * base + index * scale + disp at addr_size; moffs forms have only disp. */
struct mmio_mem {
	u8 base;      /* GPR 0-15, MMIO_REG_RIP or MMIO_REG_NONE */
	u8 index;     /* GPR 0-15 or MMIO_REG_NONE */
	u8 scale;     /* 1, 2, 4 or 8 */
	u8 addr_size; /* 2, 4 or 8 */
	u8 seg;	      /* override 0-5 (ES, CS, SS, DS, FS, GS) or MMIO_SEG_NONE */
	s64 disp;     /* sign-extended (moffs: zero-extended) */
};

struct mmio_insn {
	u8 len;		/* instruction length in bytes, 1..15 */
	u8 size;	/* memory operand size: 1, 2, 4 or 8 */
	u8 op;		/* enum mmio_op */
	u8 reg;		/* GPR encoding 0 RAX .. 15 R15 of the register operand */
	bool reg_high8; /* reg is 4-7 and names AH/CH/DH/BH: bits 15:8 of GPR reg - 4 */
	bool has_imm;	/* store of an immediate (reg is then 0 and unused) */
	u64 imm;	/* the immediate, sign-extended to size as the CPU does */
	u8 ext;		/* loads: enum mmio_ext */
	u8 dst_size;	/* loads: size of the register written (MOVZX r32, m8: 4) */
	struct mmio_mem mem;
};

/*
 * Decode one instruction from bytes[0..avail) for a code segment whose
 * default operand size is mode (2, 4 or 8 bytes: 16-, 32- or 64-bit code).
 * 0 and *out filled; -EINVAL if it is not a supported MMIO form or is
 * malformed; -E2BIG if it needs more than avail or MMIO_INSN_MAX bytes.
 * Never reads past avail; *out is untouched on error.
 */
int mmio_decode(const u8 *bytes, size_t avail, u32 mode, struct mmio_insn *out);

#endif
