/*
 * MMIO instruction decoder: a table of real encodings (assembled with GNU as,
 * the source line above each) with every field the decoder reports, then the
 * same encodings cut short at every length, and the forms it must refuse.
 * Every input sits in a heap buffer of exactly its size, so ASan reports a
 * read past avail.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <hv/errno.h>
#include <asm/decode.h>

struct decode_case {
	u32 mode;
	u8 bytes[MMIO_INSN_MAX];
	u8 n;
	struct mmio_insn want; /* len is n */
};

#define B(...) { __VA_ARGS__ }, sizeof((u8[]){ __VA_ARGS__ })
#define ST(sz, r)                                         \
	{                                                 \
		.size = sz, .op = MMIO_OP_STORE, .reg = r \
	}
#define STH(sz, r)                                                           \
	{                                                                    \
		.size = sz, .op = MMIO_OP_STORE, .reg = r, .reg_high8 = true \
	}
#define LD(sz, r)                                                        \
	{                                                                \
		.size = sz, .op = MMIO_OP_LOAD, .reg = r, .dst_size = sz \
	}
#define LDH(sz, r)                                                                          \
	{                                                                                   \
		.size = sz, .op = MMIO_OP_LOAD, .reg = r, .dst_size = sz, .reg_high8 = true \
	}
#define IMM(sz, v)                                                         \
	{                                                                  \
		.size = sz, .op = MMIO_OP_STORE, .has_imm = true, .imm = v \
	}
#define ZX(sz, r, dst)                                                                          \
	{                                                                                       \
		.size = sz, .op = MMIO_OP_LOAD, .reg = r, .ext = MMIO_EXT_ZERO, .dst_size = dst \
	}
#define SX(sz, r, dst)                                                                          \
	{                                                                                       \
		.size = sz, .op = MMIO_OP_LOAD, .reg = r, .ext = MMIO_EXT_SIGN, .dst_size = dst \
	}

static const struct decode_case cases[] = {
	/* mov %al,(%rbx) */
	{ 8, B(0x88, 0x03), ST(1, 0) },
	/* mov %ah,(%rbx) */
	{ 8, B(0x88, 0x23), STH(1, 4) },
	/* mov %bh,(%rbx) */
	{ 8, B(0x88, 0x3b), STH(1, 7) },
	/* mov %spl,(%rbx) */
	{ 8, B(0x40, 0x88, 0x23), ST(1, 4) },
	/* mov %dil,(%rbx) */
	{ 8, B(0x40, 0x88, 0x3b), ST(1, 7) },
	/* mov %r8b,(%rbx) */
	{ 8, B(0x44, 0x88, 0x03), ST(1, 8) },
	/* mov %r15b,(%r12) */
	{ 8, B(0x45, 0x88, 0x3c, 0x24), ST(1, 15) },
	/* mov %ax,(%rbx) */
	{ 8, B(0x66, 0x89, 0x03), ST(2, 0) },
	/* mov %eax,(%rbx) */
	{ 8, B(0x89, 0x03), ST(4, 0) },
	/* mov %rax,(%rbx) */
	{ 8, B(0x48, 0x89, 0x03), ST(8, 0) },
	/* mov %r9,(%rbx) */
	{ 8, B(0x4c, 0x89, 0x0b), ST(8, 9) },
	/* mov %r10w,(%rbx) */
	{ 8, B(0x66, 0x44, 0x89, 0x13), ST(2, 10) },
	/* mov %r10d,0x10(%rbx) */
	{ 8, B(0x44, 0x89, 0x53, 0x10), ST(4, 10) },
	/* mov %ecx,-0x80(%rbp) */
	{ 8, B(0x89, 0x4d, 0x80), ST(4, 1) },
	/* mov %ecx,0x12345678(%rbx) */
	{ 8, B(0x89, 0x8b, 0x78, 0x56, 0x34, 0x12), ST(4, 1) },
	/* mov %edx,(%rax,%rcx,4) */
	{ 8, B(0x89, 0x14, 0x88), ST(4, 2) },
	/* mov %edx,0x8(%rax,%rcx,4) */
	{ 8, B(0x89, 0x54, 0x88, 0x08), ST(4, 2) },
	/* mov %edx,0x1000(%rax,%rcx,4) */
	{ 8, B(0x89, 0x94, 0x88, 0x00, 0x10, 0x00, 0x00), ST(4, 2) },
	/* mov %edx,0x1000(,%rcx,4) */
	{ 8, B(0x89, 0x14, 0x8d, 0x00, 0x10, 0x00, 0x00), ST(4, 2) },
	/* mov %edx,(%rsp) */
	{ 8, B(0x89, 0x14, 0x24), ST(4, 2) },
	/* mov %edx,(%rbp) */
	{ 8, B(0x89, 0x55, 0x00), ST(4, 2) },
	/* mov %edx,(%r12) */
	{ 8, B(0x41, 0x89, 0x14, 0x24), ST(4, 2) },
	/* mov %edx,(%r13) */
	{ 8, B(0x41, 0x89, 0x55, 0x00), ST(4, 2) },
	/* mov %edx,(%rax,%r11,2) */
	{ 8, B(0x42, 0x89, 0x14, 0x58), ST(4, 2) },
	/* mov %r14,0x40(%r13,%r15,8) */
	{ 8, B(0x4f, 0x89, 0x74, 0xfd, 0x40), ST(8, 14) },
	/* mov %esi,0x100(%rip) */
	{ 8, B(0x89, 0x35, 0x00, 0x01, 0x00, 0x00), ST(4, 6) },
	/* mov %esi,0x12345678 */
	{ 8, B(0x89, 0x34, 0x25, 0x78, 0x56, 0x34, 0x12), ST(4, 6) },
	/* mov %edi,(%ebx) */
	{ 8, B(0x67, 0x89, 0x3b), ST(4, 7) },
	/* mov %edi,0x10(%ebx,%esi,2) */
	{ 8, B(0x67, 0x89, 0x7c, 0x73, 0x10), ST(4, 7) },
	/* mov %edi,0x100(%eip) */
	{ 8, B(0x67, 0x89, 0x3d, 0x00, 0x01, 0x00, 0x00), ST(4, 7) },
	/* mov %edi,%es:(%rbx) */
	{ 8, B(0x26, 0x89, 0x3b), ST(4, 7) },
	/* mov %edi,%cs:(%rbx) */
	{ 8, B(0x2e, 0x89, 0x3b), ST(4, 7) },
	/* mov %edi,%ss:(%rbx) */
	{ 8, B(0x36, 0x89, 0x3b), ST(4, 7) },
	/* mov %edi,%ds:(%rbx) */
	{ 8, B(0x89, 0x3b), ST(4, 7) },
	/* mov %edi,%fs:(%rbx) */
	{ 8, B(0x64, 0x89, 0x3b), ST(4, 7) },
	/* mov %rdi,%gs:0x8(%rbx) */
	{ 8, B(0x65, 0x48, 0x89, 0x7b, 0x08), ST(8, 7) },
	/* mov (%rbx),%al */
	{ 8, B(0x8a, 0x03), LD(1, 0) },
	/* mov (%rbx),%ch */
	{ 8, B(0x8a, 0x2b), LDH(1, 5) },
	/* mov (%rbx),%sil */
	{ 8, B(0x40, 0x8a, 0x33), LD(1, 6) },
	/* mov (%rbx),%r11b */
	{ 8, B(0x44, 0x8a, 0x1b), LD(1, 11) },
	/* mov (%rbx),%dx */
	{ 8, B(0x66, 0x8b, 0x13), LD(2, 2) },
	/* mov (%rbx),%esp */
	{ 8, B(0x8b, 0x23), LD(4, 4) },
	/* mov (%rbx),%r14 */
	{ 8, B(0x4c, 0x8b, 0x33), LD(8, 14) },
	/* mov 0x20(%rip),%rax */
	{ 8, B(0x48, 0x8b, 0x05, 0x20, 0x00, 0x00, 0x00), LD(8, 0) },
	/* mov %gs:0x10(%rax,%rbx,8),%r8d */
	{ 8, B(0x65, 0x44, 0x8b, 0x44, 0xd8, 0x10), LD(4, 8) },
	/* movb $0x80,(%rbx) */
	{ 8, B(0xc6, 0x03, 0x80), IMM(1, 0x80) },
	/* movw $0x8000,(%rbx) */
	{ 8, B(0x66, 0xc7, 0x03, 0x00, 0x80), IMM(2, 0x8000) },
	/* movl $0x80000000,(%rbx) */
	{ 8, B(0xc7, 0x03, 0x00, 0x00, 0x00, 0x80), IMM(4, 0x80000000) },
	/* movq $-1,(%rbx) */
	{ 8, B(0x48, 0xc7, 0x03, 0xff, 0xff, 0xff, 0xff), IMM(8, 0xffffffffffffffffULL) },
	/* movq $0x7fffffff,(%rbx) */
	{ 8, B(0x48, 0xc7, 0x03, 0xff, 0xff, 0xff, 0x7f), IMM(8, 0x7fffffff) },
	/* movq $-0x80000000,(%rbx) */
	{ 8, B(0x48, 0xc7, 0x03, 0x00, 0x00, 0x00, 0x80), IMM(8, 0xffffffff80000000ULL) },
	/* movl $0x12345678,0x10(%rip) */
	{ 8, B(0xc7, 0x05, 0x10, 0x00, 0x00, 0x00, 0x78, 0x56, 0x34, 0x12), IMM(4, 0x12345678) },
	/* movb $0x5a,0x8(%rax,%rcx,8) */
	{ 8, B(0xc6, 0x44, 0xc8, 0x08, 0x5a), IMM(1, 0x5a) },
	/* movw $0xbeef,0x12345678(%r13) */
	{ 8, B(0x66, 0x41, 0xc7, 0x85, 0x78, 0x56, 0x34, 0x12, 0xef, 0xbe), IMM(2, 0xbeef) },
	/* movq $0x1234,(%r9) */
	{ 8, B(0x49, 0xc7, 0x01, 0x34, 0x12, 0x00, 0x00), IMM(8, 0x1234) },
	/* movzbl (%rbx),%eax */
	{ 8, B(0x0f, 0xb6, 0x03), ZX(1, 0, 4) },
	/* movzbl (%rbx),%esp */
	{ 8, B(0x0f, 0xb6, 0x23), ZX(1, 4, 4) },
	/* movzbq (%rbx),%r8 */
	{ 8, B(0x4c, 0x0f, 0xb6, 0x03), ZX(1, 8, 8) },
	/* movzbw (%rbx),%ax */
	{ 8, B(0x66, 0x0f, 0xb6, 0x03), ZX(1, 0, 2) },
	/* movzwl (%rbx),%ecx */
	{ 8, B(0x0f, 0xb7, 0x0b), ZX(2, 1, 4) },
	/* movzwq 0x8(%rip),%rdx */
	{ 8, B(0x48, 0x0f, 0xb7, 0x15, 0x08, 0x00, 0x00, 0x00), ZX(2, 2, 8) },
	/* movsbl (%rbx),%esi */
	{ 8, B(0x0f, 0xbe, 0x33), SX(1, 6, 4) },
	/* movsbq (%rbx),%rdi */
	{ 8, B(0x48, 0x0f, 0xbe, 0x3b), SX(1, 7, 8) },
	/* movsbw (%rbx),%r9w */
	{ 8, B(0x66, 0x44, 0x0f, 0xbe, 0x0b), SX(1, 9, 2) },
	/* movswl (%rbx),%ebp */
	{ 8, B(0x0f, 0xbf, 0x2b), SX(2, 5, 4) },
	/* movswq (%r12,%r13,2),%r15 */
	{ 8, B(0x4f, 0x0f, 0xbf, 0x3c, 0x6c), SX(2, 15, 8) },
	/* movabs 0x1122334455667788,%al */
	{ 8, B(0xa0, 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11), LD(1, 0) },
	/* movabs 0x1122334455667788,%ax */
	{ 8, B(0x66, 0xa1, 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11), LD(2, 0) },
	/* movabs 0x1122334455667788,%eax */
	{ 8, B(0xa1, 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11), LD(4, 0) },
	/* movabs 0x1122334455667788,%rax */
	{ 8, B(0x48, 0xa1, 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11), LD(8, 0) },
	/* movabs %al,0x1122334455667788 */
	{ 8, B(0xa2, 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11), ST(1, 0) },
	/* movabs %rax,0x1122334455667788 */
	{ 8, B(0x48, 0xa3, 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11), ST(8, 0) },
	/* addr32 movabs 0x12345678,%eax */
	{ 8, B(0x67, 0xa1, 0x78, 0x56, 0x34, 0x12), LD(4, 0) },
	/* mov %eax,(%ebx) */
	{ 4, B(0x89, 0x03), ST(4, 0) },
	/* mov %ax,(%ebx) */
	{ 4, B(0x66, 0x89, 0x03), ST(2, 0) },
	/* mov %al,(%ebx) */
	{ 4, B(0x88, 0x03), ST(1, 0) },
	/* mov %dh,0x10(%ebx) */
	{ 4, B(0x88, 0x73, 0x10), STH(1, 6) },
	/* mov %esp,(%esp) */
	{ 4, B(0x89, 0x24, 0x24), ST(4, 4) },
	/* mov 0x12345678,%ecx */
	{ 4, B(0x8b, 0x0d, 0x78, 0x56, 0x34, 0x12), LD(4, 1) },
	/* mov 0x12345678,%eax */
	{ 4, B(0xa1, 0x78, 0x56, 0x34, 0x12), LD(4, 0) },
	/* mov %al,0x12345678 */
	{ 4, B(0xa2, 0x78, 0x56, 0x34, 0x12), ST(1, 0) },
	/* mov %ax,0x1234(%ebx,%esi,4) */
	{ 4, B(0x66, 0x89, 0x84, 0xb3, 0x34, 0x12, 0x00, 0x00), ST(2, 0) },
	/* mov (%ebp),%edi */
	{ 4, B(0x8b, 0x7d, 0x00), LD(4, 7) },
	/* mov %fs:(%ebx),%bh */
	{ 4, B(0x64, 0x8a, 0x3b), LDH(1, 7) },
	/* movl $0x1,(%ebx) */
	{ 4, B(0xc7, 0x03, 0x01, 0x00, 0x00, 0x00), IMM(4, 1) },
	/* movw $0xfffe,(%ebx) */
	{ 4, B(0x66, 0xc7, 0x03, 0xfe, 0xff), IMM(2, 0xfffe) },
	/* movb $0xff,(%ebx) */
	{ 4, B(0xc6, 0x03, 0xff), IMM(1, 0xff) },
	/* addr16 mov %eax,(%bx,%si) */
	{ 4, B(0x67, 0x89, 0x00), ST(4, 0) },
	/* addr16 mov %ecx,0x1234(%bp) */
	{ 4, B(0x67, 0x89, 0x8e, 0x34, 0x12), ST(4, 1) },
	/* addr16 mov %ebx,0x1234 */
	{ 4, B(0x67, 0x89, 0x1e, 0x34, 0x12), ST(4, 3) },
	/* addr16 mov 0x1234,%ax */
	{ 4, B(0x67, 0x66, 0xa1, 0x34, 0x12), LD(2, 0) },
	/* movzbl %fs:(%ebx),%eax */
	{ 4, B(0x64, 0x0f, 0xb6, 0x03), ZX(1, 0, 4) },
	/* movswl (%ebx),%edx */
	{ 4, B(0x0f, 0xbf, 0x13), SX(2, 2, 4) },
	/* mov %ax,(%bx,%si) */
	{ 2, B(0x89, 0x00), ST(2, 0) },
	/* mov %eax,(%bx) */
	{ 2, B(0x66, 0x89, 0x07), ST(4, 0) },
	/* mov %ah,(%bx) */
	{ 2, B(0x88, 0x27), STH(1, 4) },
	/* mov %cl,0x10(%bp,%di) */
	{ 2, B(0x88, 0x4b, 0x10), ST(1, 1) },
	/* mov %dx,0x1234(%si) */
	{ 2, B(0x89, 0x94, 0x34, 0x12), ST(2, 2) },
	/* mov %bx,0x1234 */
	{ 2, B(0x89, 0x1e, 0x34, 0x12), ST(2, 3) },
	/* mov (%bp),%sp */
	{ 2, B(0x8b, 0x66, 0x00), LD(2, 4) },
	/* mov (%bx),%al */
	{ 2, B(0x8a, 0x07), LD(1, 0) },
	/* mov %es:(%di),%esi */
	{ 2, B(0x26, 0x66, 0x8b, 0x35), LD(4, 6) },
	/* movb $0x80,(%bx) */
	{ 2, B(0xc6, 0x07, 0x80), IMM(1, 0x80) },
	/* movw $0x1234,(%bx) */
	{ 2, B(0xc7, 0x07, 0x34, 0x12), IMM(2, 0x1234) },
	/* movl $0x12345678,0x10(%bx) */
	{ 2, B(0x66, 0xc7, 0x47, 0x10, 0x78, 0x56, 0x34, 0x12), IMM(4, 0x12345678) },
	/* mov %ax,(%eax) */
	{ 2, B(0x67, 0x89, 0x00), ST(2, 0) },
	/* mov %ax,0x10(%eax,%ebx,2) */
	{ 2, B(0x67, 0x89, 0x44, 0x58, 0x10), ST(2, 0) },
	/* mov %eax,0x12345678(%esp) */
	{ 2, B(0x67, 0x66, 0x89, 0x84, 0x24, 0x78, 0x56, 0x34, 0x12), ST(4, 0) },
	/* movzbw (%bx),%ax */
	{ 2, B(0x0f, 0xb6, 0x07), ZX(1, 0, 2) },
	/* movzbl (%bx),%eax */
	{ 2, B(0x66, 0x0f, 0xb6, 0x07), ZX(1, 0, 4) },
	/* movsbw 0x4(%si),%di */
	{ 2, B(0x0f, 0xbe, 0x7c, 0x04), SX(1, 7, 2) },
	/* movzwl (%bx),%ebx */
	{ 2, B(0x66, 0x0f, 0xb7, 0x1f), ZX(2, 3, 4) },
	/* mov 0x1234,%al */
	{ 2, B(0xa0, 0x34, 0x12), LD(1, 0) },
	/* mov %ax,0x1234 */
	{ 2, B(0xa3, 0x34, 0x12), ST(2, 0) },
	/* mov %eax,0x1234 */
	{ 2, B(0x66, 0xa3, 0x34, 0x12), ST(4, 0) },
	/* addr32 mov 0x12345678,%ax */
	{ 2, B(0x67, 0xa1, 0x78, 0x56, 0x34, 0x12), LD(2, 0) },
	/* 2e 2e 2e movq $0xffffffffdeadbeef,0x12345678(%rax,%rbx,4): exactly 15 bytes */
	{ 8,
	  B(0x2e, 0x2e, 0x2e, 0x48, 0xc7, 0x84, 0x98, 0x78, 0x56, 0x34, 0x12, 0xef, 0xbe, 0xad,
	    0xde),
	  IMM(8, 0xffffffffdeadbeefULL) },
	/* 13 x cs, mov %eax,(%rbx): 15 bytes */
	{ 8,
	  B(0x2e, 0x2e, 0x2e, 0x2e, 0x2e, 0x2e, 0x2e, 0x2e, 0x2e, 0x2e, 0x2e, 0x2e, 0x2e, 0x89,
	    0x03),
	  ST(4, 0) },
	/* rex.W data16 mov (%rbx),%eax: a REX before a legacy prefix is ignored (SDM 2.2.1) */
	{ 8, B(0x48, 0x66, 0x8b, 0x03), LD(2, 0) },
	/* data16 rex.W mov %rax,(%rbx): REX.W beats 66 */
	{ 8, B(0x66, 0x48, 0x89, 0x03), ST(8, 0) },
	/* rex.WR cs mov %eax,(%rbx): REX.R and REX.W both dropped */
	{ 8, B(0x4c, 0x2e, 0x89, 0x03), ST(4, 0) },
	/* rex.R ds mov %ah,(%rbx): the REX is gone, so reg 4 is AH again */
	{ 8, B(0x44, 0x3e, 0x88, 0x23), STH(1, 4) },
	/* rex.B mov %eax,(%r13+0): REX.B does not change the mod 01 length */
	{ 8, B(0x41, 0x89, 0x45, 0x00), ST(4, 0) },
};

/*
 * Copy n bytes into a heap buffer of exactly n bytes; NULL for n == 0, since
 * ASan does not catch a read of malloc(0).
 */
static u8 *exact_copy(const u8 *bytes, size_t n)
{
	u8 *p;

	if (n == 0)
		return NULL;
	p = malloc(n);
	assert_non_null(p);
	memcpy(p, bytes, n);
	return p;
}

/* Decode bytes[0..n) from an exact heap buffer. */
static int decode_exact(const u8 *bytes, size_t n, u32 mode, struct mmio_insn *out)
{
	u8 *buf = exact_copy(bytes, n);
	int rc = mmio_decode(buf, n, mode, out);

	free(buf);
	return rc;
}

static void check_insn(const struct decode_case *c, const struct mmio_insn *got, int i)
{
	const struct mmio_insn *w = &c->want;

	if (got->len != c->n || got->size != w->size || got->op != w->op || got->reg != w->reg ||
	    got->reg_high8 != w->reg_high8 || got->has_imm != w->has_imm || got->imm != w->imm ||
	    got->ext != w->ext || got->dst_size != w->dst_size)
		fail_msg("case %d: len %u size %u op %u reg %u high8 %d imm %d/%#llx ext %u dst %u",
			 i, got->len, got->size, got->op, got->reg, got->reg_high8, got->has_imm,
			 (unsigned long long)got->imm, got->ext, got->dst_size);
}

static void test_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct mmio_insn got;
		int rc = decode_exact(cases[i].bytes, cases[i].n, cases[i].mode, &got);

		if (rc)
			fail_msg("case %zu: rc %d", i, rc);
		check_insn(&cases[i], &got, (int)i);
	}
}

/* Bytes after the instruction are not part of it. */
static void test_trailing_bytes(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		u8 buf[MMIO_INSN_MAX + 16];
		struct mmio_insn got;

		memset(buf, 0x89, sizeof(buf));
		memcpy(buf, cases[i].bytes, cases[i].n);
		assert_int_equal(decode_exact(buf, sizeof(buf), cases[i].mode, &got), 0);
		check_insn(&cases[i], &got, (int)i);
	}
}

/* Every proper prefix of a valid instruction needs more bytes; *out stays as it was. */
static void test_truncated(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		for (u8 k = 0; k < cases[i].n; k++) {
			struct mmio_insn got, before;
			int rc;

			memset(&got, 0xa5, sizeof(got));
			before = got;
			rc = decode_exact(cases[i].bytes, k, cases[i].mode, &got);
			if (rc != -E2BIG)
				fail_msg("case %zu cut to %u: rc %d", i, k, rc);
			assert_memory_equal(&got, &before, sizeof(got));
		}
	}
}

struct reject_case {
	u32 mode;
	u8 bytes[20];
	u8 n;
	int rc;
};

static const struct reject_case rejects[] = {
	/* lock mov %eax,(%rbx) */
	{ 8, B(0xf0, 0x89, 0x03), -EINVAL },
	/* cs lock mov %eax,(%rbx) */
	{ 8, B(0x2e, 0xf0, 0x89, 0x03), -EINVAL },
	/* rep mov %eax,(%rbx) */
	{ 8, B(0xf3, 0x89, 0x03), -EINVAL },
	/* repnz mov %eax,(%rbx) */
	{ 8, B(0xf2, 0x89, 0x03), -EINVAL },
	/* rep movzbl (%ebx),%eax */
	{ 4, B(0xf3, 0x0f, 0xb6, 0x03), -EINVAL },
	/* mov %eax,%ebx */
	{ 8, B(0x89, 0xc3), -EINVAL },
	/* mov %ebx,%eax */
	{ 8, B(0x8b, 0xc3), -EINVAL },
	/* mov %al,%cl */
	{ 4, B(0x88, 0xc1), -EINVAL },
	/* mov $0x12,%al */
	{ 8, B(0xc6, 0xc0, 0x12), -EINVAL },
	/* mov $0x12345678,%eax (C7 /0 register form) */
	{ 8, B(0xc7, 0xc0, 0x78, 0x56, 0x34, 0x12), -EINVAL },
	/* movzbl %al,%eax */
	{ 8, B(0x0f, 0xb6, 0xc0), -EINVAL },
	/* movsbw %al,%ax */
	{ 2, B(0x0f, 0xbe, 0xc0), -EINVAL },
	/* ud2 */
	{ 8, B(0x0f, 0x0b), -EINVAL },
	/* add %eax,(%rbx) */
	{ 8, B(0x01, 0x03), -EINVAL },
	/* mov %es,(%rbx) */
	{ 8, B(0x8c, 0x03), -EINVAL },
	/* nop */
	{ 8, B(0x90), -EINVAL },
	/* C6 /1 (undefined) */
	{ 8, B(0xc6, 0x08, 0x12), -EINVAL },
	/* xabort $0x0 */
	{ 8, B(0xc6, 0xf8, 0x00), -EINVAL },
	/* xbegin . */
	{ 8, B(0xc7, 0xf8, 0x00, 0x00, 0x00, 0x00), -EINVAL },
	/* 40 is inc %eax outside 64-bit mode */
	{ 4, B(0x40, 0x89, 0x03), -EINVAL },
	/* 48 is dec %ax in 16-bit mode */
	{ 2, B(0x48, 0x89, 0x07), -EINVAL },
	/* not a code segment size */
	{ 0, B(0x89, 0x03), -EINVAL },
	{ 1, B(0x89, 0x03), -EINVAL },
	{ 16, B(0x89, 0x03), -EINVAL },
	/* 14 x cs, mov %eax,(%rbx): 16 bytes */
	{ 8,
	  B(0x2e, 0x2e, 0x2e, 0x2e, 0x2e, 0x2e, 0x2e, 0x2e, 0x2e, 0x2e, 0x2e, 0x2e, 0x2e, 0x2e,
	    0x89, 0x03),
	  -E2BIG },
	/* 15 x data16, then a valid mov */
	{ 4,
	  B(0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66,
	    0x66, 0x89, 0x03),
	  -E2BIG },
	/* 4 x cs, movq $imm32,0x12345678(%rax,%rbx,4): 16 bytes */
	{ 8,
	  B(0x2e, 0x2e, 0x2e, 0x2e, 0x48, 0xc7, 0x84, 0x98, 0x78, 0x56, 0x34, 0x12, 0xef, 0xbe,
	    0xad, 0xde),
	  -E2BIG },
};

static void test_rejected(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(rejects); i++) {
		struct mmio_insn got, before;
		int rc;

		memset(&got, 0x5a, sizeof(got));
		before = got;
		rc = decode_exact(rejects[i].bytes, rejects[i].n, rejects[i].mode, &got);
		if (rc != rejects[i].rc)
			fail_msg("reject %zu: rc %d, want %d", i, rc, rejects[i].rc);
		assert_memory_equal(&got, &before, sizeof(got));
	}
}

/* The memory operand as encoded: what a split access needs to find its start. */
struct mem_case {
	u32 mode;
	u8 bytes[MMIO_INSN_MAX];
	u8 n;
	struct mmio_mem want;
};

#define NONE MMIO_REG_NONE
static const struct mem_case mem_cases[] = {
	/* mov %eax, 0x10(%rbx,%rcx,4) */
	{ 8, B(0x89, 0x44, 0x8b, 0x10), { 3, 1, 4, 8, MMIO_SEG_NONE, 0x10 } },
	/* mov 0x100(%rip), %eax */
	{ 8,
	  B(0x8b, 0x05, 0x00, 0x01, 0x00, 0x00),
	  { MMIO_REG_RIP, NONE, 1, 8, MMIO_SEG_NONE, 0x100 } },
	/* mov %eax, (%r12): SIB with REX.B */
	{ 8, B(0x41, 0x89, 0x04, 0x24), { 12, NONE, 1, 8, MMIO_SEG_NONE, 0 } },
	/* mov %fs:0x8, %rax: SIB without base or index */
	{ 8, B(0x64, 0x48, 0x8b, 0x04, 0x25, 0x08, 0x00, 0x00, 0x00), { NONE, NONE, 1, 8, 4, 8 } },
	/* mov %eax, -8(%rbp) */
	{ 8, B(0x89, 0x45, 0xf8), { 5, NONE, 1, 8, MMIO_SEG_NONE, -8 } },
	/* movl $1, 0(%r13,%r14,8): REX.X and REX.B */
	{ 8,
	  B(0x43, 0xc7, 0x44, 0xf5, 0x00, 0x01, 0x00, 0x00, 0x00),
	  { 13, 14, 8, 8, MMIO_SEG_NONE, 0 } },
	/* mov %eax, 0x1000(,%rdx,2) */
	{ 8,
	  B(0x89, 0x04, 0x55, 0x00, 0x10, 0x00, 0x00),
	  { NONE, 2, 2, 8, MMIO_SEG_NONE, 0x1000 } },
	/* 16-bit: mov %ax, 2(%bp,%si) */
	{ 2, B(0x89, 0x42, 0x02), { 5, 6, 1, 2, MMIO_SEG_NONE, 2 } },
	/* 32-bit: mov %eax, 0x1000 (moffs) */
	{ 4, B(0xa3, 0x00, 0x10, 0x00, 0x00), { NONE, NONE, 1, 4, MMIO_SEG_NONE, 0x1000 } },
	/* 32-bit: mov %eax, %es:4(%esp) */
	{ 4, B(0x26, 0x89, 0x44, 0x24, 0x04), { 4, NONE, 1, 4, 0, 4 } },
	/* 32-bit: mov %eax, 0x2000: mod 00 rm 101 is absolute outside 64-bit mode */
	{ 4, B(0x89, 0x05, 0x00, 0x20, 0x00, 0x00), { NONE, NONE, 1, 4, MMIO_SEG_NONE, 0x2000 } },
};
#undef NONE

static void test_memory_operand(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(mem_cases); i++) {
		const struct mmio_mem *w = &mem_cases[i].want;
		struct mmio_insn got;
		int rc = decode_exact(mem_cases[i].bytes, mem_cases[i].n, mem_cases[i].mode, &got);

		if (rc)
			fail_msg("mem case %zu: rc %d", i, rc);
		if (got.mem.base != w->base || got.mem.index != w->index ||
		    got.mem.scale != w->scale || got.mem.addr_size != w->addr_size ||
		    got.mem.seg != w->seg || got.mem.disp != w->disp)
			fail_msg(
			    "mem case %zu: base %u index %u scale %u asize %u seg %u disp %lld", i,
			    got.mem.base, got.mem.index, got.mem.scale, got.mem.addr_size,
			    got.mem.seg, (long long)got.mem.disp);
	}
}

/* Nothing to decode: more bytes needed, and a NULL buffer is never read. */
static void test_empty(void **state)
{
	struct mmio_insn got;

	(void)state;
	assert_int_equal(mmio_decode(NULL, 0, 8, &got), -E2BIG);
	assert_int_equal(decode_exact(NULL, 0, 4, &got), -E2BIG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),	  cmocka_unit_test(test_trailing_bytes),
		cmocka_unit_test(test_truncated), cmocka_unit_test(test_rejected),
		cmocka_unit_test(test_empty),	  cmocka_unit_test(test_memory_operand),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
