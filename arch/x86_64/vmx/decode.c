/*
 * MMIO instruction decoder; see asm/decode.h. The exit gives the address of
 * the access, so the memory operand is only recorded (registers, scale,
 * displacement), for accesses split across a page boundary, whose exit names
 * only the part that faulted. Every byte goes through fetch(), which stops at
 * avail and at the architectural 15-byte limit.
 */
#include <asm/decode.h>
#include <hv/errno.h>

#define REX_W BIT(3)
#define REX_R BIT(2)
#define REX_X BIT(1)
#define REX_B BIT(0)

#define MODRM_MOD(m) ((m) >> 6)
#define MODRM_REG(m) (((m) >> 3) & 7)
#define MODRM_RM(m)  ((m)&7)
#define SIB_BASE(s)  ((s)&7)
#define SIB_INDEX(s) (((s) >> 3) & 7)
#define SIB_SCALE(s) ((s) >> 6)

#define REG_SP 4 /* SIB index 100 without REX.X: no index */
#define REG_BP 5 /* base 101 with mod 00: disp32, no base */

struct decode_cursor {
	const u8 *bytes;
	size_t limit; /* MIN(avail, MMIO_INSN_MAX) */
	size_t pos;
	u32 mode; /* code size: 2, 4 or 8 */
};

struct decode_prefixes {
	bool opsize;   /* 66 */
	bool addrsize; /* 67 */
	u8 rex;	       /* 40-4F immediately before the opcode, else 0 */
	u8 seg;	       /* the last segment override (0-5), or MMIO_SEG_NONE */
};

/* The next byte, or -E2BIG at the end of the input or of 15 bytes. */
static int fetch(struct decode_cursor *c, u8 *b)
{
	if (c->pos >= c->limit)
		return -E2BIG;
	*b = c->bytes[c->pos++];
	return 0;
}

/* Read an n-byte little-endian field (n <= 8) into *v. */
static int fetch_le(struct decode_cursor *c, u32 n, u64 *v)
{
	u64 x = 0;
	u8 b;

	for (u32 i = 0; i < n; i++) {
		int rc = fetch(c, &b);

		if (rc)
			return rc;
		x |= (u64)b << (8 * i);
	}
	*v = x;
	return 0;
}

/*
 * Consume the prefixes (SDM Vol. 2 2.1.1, 2.2.1) and return the opcode byte.
 * LOCK and REP/REPNE never go with these MOVs: -EINVAL. A REX counts only
 * immediately before the opcode; one followed by a legacy prefix is ignored.
 */
static int decode_prefixes(struct decode_cursor *c, u32 mode, struct decode_prefixes *p, u8 *opcode)
{
	u8 b;

	for (;;) {
		int rc = fetch(c, &b);

		if (rc)
			return rc;
		switch (b) {
		case 0x66:
			p->opsize = true;
			p->rex = 0;
			continue;
		case 0x67:
			p->addrsize = true;
			p->rex = 0;
			continue;
		case 0x26: /* ES, CS, SS, DS */
		case 0x2e:
		case 0x36:
		case 0x3e:
			p->seg = (b >> 3) & 3;
			p->rex = 0;
			continue;
		case 0x64: /* FS, GS */
		case 0x65:
			p->seg = 4 + (b & 1);
			p->rex = 0;
			continue;
		case 0xf0:
		case 0xf2:
		case 0xf3:
			return -EINVAL;
		}
		if (mode == 8 && (b & 0xf0) == 0x40) {
			p->rex = b;
			continue;
		}
		*opcode = b;
		return 0;
	}
}

/* Effective operand size (SDM Vol. 2 3.6, Table 3-4): REX.W beats 66. */
static u8 operand_size(u32 mode, const struct decode_prefixes *p)
{
	u8 def = mode == 2 ? 2 : 4;

	if (mode == 8 && (p->rex & REX_W))
		return 8;
	if (p->opsize)
		return def == 2 ? 4 : 2;
	return def;
}

/* Effective address size (SDM Vol. 2 3.6, Table 3-4). */
static u8 address_size(u32 mode, const struct decode_prefixes *p)
{
	if (mode == 8)
		return p->addrsize ? 4 : 8;
	if (mode == 4)
		return p->addrsize ? 2 : 4;
	return p->addrsize ? 4 : 2;
}

/* A signed displacement of n bytes (1, 2 or 4). */
static int fetch_disp(struct decode_cursor *c, u32 n, s64 *disp)
{
	u64 v;
	int rc = fetch_le(c, n, &v);

	if (rc)
		return rc;
	*disp = n == 1 ? (s8)v : n == 2 ? (s16)v : (s32)v;
	return 0;
}

/* 16-bit forms (SDM Vol. 2 Table 2-1): rm 0-7 = BX+SI, BX+DI, BP+SI, BP+DI, SI, DI, BP, BX. */
static int modrm_mem16(struct decode_cursor *c, u8 mod, u8 rm, struct mmio_mem *m)
{
	static const u8 base[8] = { 3, 3, 5, 5, 6, 7, 5, 3 };
	static const u8 index[8] = {
		6, 7, 6, 7, MMIO_REG_NONE, MMIO_REG_NONE, MMIO_REG_NONE, MMIO_REG_NONE
	};

	m->base = base[rm];
	m->index = index[rm];
	if (mod == 0 && rm == 6) { /* disp16 alone */
		m->base = MMIO_REG_NONE;
		return fetch_disp(c, 2, &m->disp);
	}
	return mod ? fetch_disp(c, mod == 1 ? 1 : 2, &m->disp) : 0;
}

/*
 * Consume and record the SIB and displacement a memory ModRM implies (SDM
 * Vol. 2 2.1.5, Tables 2-1 to 2-3; 2.2.1.2 for REX.X/B and RIP-relative).
 * Register-direct (mod 11) is not a memory access: -EINVAL.
 */
static int modrm_mem(struct decode_cursor *c, u8 modrm, u8 addr_size, u8 rex, struct mmio_mem *m)
{
	u8 mod = MODRM_MOD(modrm), rm = MODRM_RM(modrm), sib;
	int rc;

	if (mod == 3)
		return -EINVAL;
	m->addr_size = addr_size;
	m->scale = 1;
	if (addr_size == 2)
		return modrm_mem16(c, mod, rm, m);
	m->base = rm | ((rex & REX_B) ? 8 : 0);
	m->index = MMIO_REG_NONE;
	if (rm == 4) {
		rc = fetch(c, &sib);
		if (rc)
			return rc;
		m->base = SIB_BASE(sib) | ((rex & REX_B) ? 8 : 0);
		m->index = SIB_INDEX(sib) | ((rex & REX_X) ? 8 : 0);
		if (m->index == REG_SP)
			m->index = MMIO_REG_NONE;
		m->scale = 1 << SIB_SCALE(sib);
		if (mod == 0 && SIB_BASE(sib) == REG_BP) {
			m->base = MMIO_REG_NONE;
			return fetch_disp(c, 4, &m->disp);
		}
	} else if (mod == 0 && rm == REG_BP) { /* disp32: RIP-relative in 64-bit mode */
		m->base = c->mode == 8 ? MMIO_REG_RIP : MMIO_REG_NONE;
		return fetch_disp(c, 4, &m->disp);
	}
	return mod ? fetch_disp(c, mod == 1 ? 1 : 4, &m->disp) : 0;
}

/* The ModRM byte of a memory form, with its SIB and displacement consumed. */
static int fetch_modrm_mem(struct decode_cursor *c, u8 addr_size, u8 rex, u8 *modrm,
			   struct mmio_mem *m)
{
	int rc = fetch(c, modrm);

	if (rc)
		return rc;
	return modrm_mem(c, *modrm, addr_size, rex, m);
}

/* ModRM.reg extended by REX.R; without REX, byte registers 4-7 are AH-BH (SDM 3.4.1.1). */
static void set_reg(struct mmio_insn *insn, u8 modrm, u8 rex, bool byte_reg)
{
	insn->reg = MODRM_REG(modrm) | ((rex & REX_R) ? 8 : 0);
	insn->reg_high8 = byte_reg && !rex && insn->reg >= 4;
}

/* 88/89 (store) and 8A/8B (load) /r: MOV between a register and memory. */
static int decode_mov_reg(struct decode_cursor *c, u8 opcode, const struct decode_prefixes *p,
			  u8 opsize, u8 addr_size, struct mmio_insn *insn)
{
	u8 modrm;
	int rc = fetch_modrm_mem(c, addr_size, p->rex, &modrm, &insn->mem);

	if (rc)
		return rc;
	insn->size = (opcode & 1) ? opsize : 1;
	insn->op = (opcode & 2) ? MMIO_OP_LOAD : MMIO_OP_STORE;
	if (insn->op == MMIO_OP_LOAD)
		insn->dst_size = insn->size;
	set_reg(insn, modrm, p->rex, insn->size == 1);
	return 0;
}

/* C6 /0 ib, C7 /0 iw/id: store an immediate; with REX.W, imm32 sign-extended to 64. */
static int decode_mov_imm(struct decode_cursor *c, u8 opcode, u8 opsize, u8 addr_size, u8 rex,
			  struct mmio_insn *insn)
{
	u8 modrm;
	u64 imm;
	int rc = fetch(c, &modrm);

	if (rc)
		return rc;
	if (MODRM_REG(modrm) != 0) /* C6/C7 /7 is XABORT/XBEGIN, the rest undefined */
		return -EINVAL;
	rc = modrm_mem(c, modrm, addr_size, rex, &insn->mem);
	if (rc)
		return rc;
	insn->size = (opcode & 1) ? opsize : 1;
	rc = fetch_le(c, MIN(insn->size, 4), &imm);
	if (rc)
		return rc;
	if (insn->size == 8)
		imm = (u64)(s64)(s32)(u32)imm;
	insn->op = MMIO_OP_STORE;
	insn->has_imm = true;
	insn->imm = imm;
	return 0;
}

/* 0F B6/B7 MOVZX, 0F BE/BF MOVSX: load a byte or word into a wider register. */
static int decode_movx(struct decode_cursor *c, const struct decode_prefixes *p, u8 opsize,
		       u8 addr_size, struct mmio_insn *insn)
{
	u8 opcode, modrm;
	int rc = fetch(c, &opcode);

	if (rc)
		return rc;
	if (opcode != 0xb6 && opcode != 0xb7 && opcode != 0xbe && opcode != 0xbf)
		return -EINVAL;
	rc = fetch_modrm_mem(c, addr_size, p->rex, &modrm, &insn->mem);
	if (rc)
		return rc;
	insn->op = MMIO_OP_LOAD;
	insn->size = (opcode & 1) ? 2 : 1;
	insn->ext = (opcode & 8) ? MMIO_EXT_SIGN : MMIO_EXT_ZERO;
	insn->dst_size = opsize;
	set_reg(insn, modrm, p->rex, false);
	return 0;
}

/* A0/A1 (load) and A2/A3 (store) moffs: AL/rAX and an address-sized offset. */
static int decode_moffs(struct decode_cursor *c, u8 opcode, u8 opsize, u8 addr_size,
			struct mmio_insn *insn)
{
	u64 offset;
	int rc = fetch_le(c, addr_size, &offset);

	if (rc)
		return rc;
	insn->mem = (struct mmio_mem){ MMIO_REG_NONE, MMIO_REG_NONE, 1, addr_size, 0, (s64)offset };
	insn->size = (opcode & 1) ? opsize : 1;
	insn->op = (opcode & 2) ? MMIO_OP_STORE : MMIO_OP_LOAD;
	if (insn->op == MMIO_OP_LOAD)
		insn->dst_size = insn->size;
	insn->reg = 0;
	return 0;
}

/* Dispatch on the opcode (SDM Vol. 2 Appendix A, Table ). */
static int decode_opcode(struct decode_cursor *c, u8 opcode, const struct decode_prefixes *p,
			 u32 mode, struct mmio_insn *insn)
{
	u8 opsize = operand_size(mode, p);
	u8 addr_size = address_size(mode, p);

	switch (opcode) {
	case 0x88:
	case 0x89:
	case 0x8a:
	case 0x8b:
		return decode_mov_reg(c, opcode, p, opsize, addr_size, insn);
	case 0xc6:
	case 0xc7:
		return decode_mov_imm(c, opcode, opsize, addr_size, p->rex, insn);
	case 0x0f:
		return decode_movx(c, p, opsize, addr_size, insn);
	case 0xa0:
	case 0xa1:
	case 0xa2:
	case 0xa3:
		return decode_moffs(c, opcode, opsize, addr_size, insn);
	default:
		return -EINVAL;
	}
}

int mmio_decode(const u8 *bytes, size_t avail, u32 mode, struct mmio_insn *out)
{
	struct decode_cursor c = { .bytes = bytes,
				   .limit = MIN(avail, MMIO_INSN_MAX),
				   .mode = mode };
	struct decode_prefixes p = { .seg = MMIO_SEG_NONE };
	struct mmio_insn insn = { 0 };
	u8 opcode;
	int rc;

	if (mode != 2 && mode != 4 && mode != 8)
		return -EINVAL;
	rc = decode_prefixes(&c, mode, &p, &opcode);
	if (rc)
		return rc;
	rc = decode_opcode(&c, opcode, &p, mode, &insn);
	if (rc)
		return rc;
	insn.mem.seg = p.seg;
	insn.len = (u8)c.pos;
	*out = insn;
	return 0;
}
