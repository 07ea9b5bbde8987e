/*
 * Emulated MMIO: an EPT violation outside the VSI's memory. The CPU tells
 * the guest-physical address, not the access, so the instruction is fetched
 * through the guest's own page tables and decoded (decode.c); the device
 * model answers, the destination register is written and RIP moves on.
 * The bytes, the page tables and the address are the guest's: hostile.
 */
#include <asm/apicv.h>
#include <asm/cpu.h>
#include <asm/debugreg.h>
#include <asm/desc.h>
#include <asm/decode.h>
#include <asm/msr.h>
#include <asm/vmcs.h>
#include <asm/vmx.h>
#include <asm/vmx_exit.h>
#include <asm/vmx_vcpu.h>
#include <hv/errno.h>
#include <hv/kernel.h>
#include <hv/log.h>
#include <hv/printf.h>
#include <hv/string.h>

#define PTE_P	       BIT(0)
#define PTE_PS	       BIT(7)
#define PTE_ADDR_MASK  0x000ffffffffff000ULL
#define AR_L	       BIT(13) /* 64-bit code segment */
#define AR_DB	       BIT(14) /* default operand size 32 */
#define LINEAR_32_MASK 0xffffffffULL
#define GPR_RSP	       4
#define GPR_RBP	       5

static bool read_pte(struct vsi *v, u64 gpa, u32 size, u64 *pte)
{
	void *p = vsi_gpa_to_hva(v, gpa, size);

	if (!p)
		return false;
	*pte = size == 8 ? *(volatile u64 *)p : *(volatile u32 *)p;
	return true;
}

/*
 * Guest linear -> guest physical for the paging mode the guest is in (SDM
 * Vol. 3 ch. 4): none, 32-bit, PAE or 4-level. Only presence is checked:
 * the guest was just executing from (or accessing) this address.
 */
int vmx_guest_translate(struct vcpu *vc, u64 la, u64 *gpa)
{
	u64 cr0 = vmcs_readl(GUEST_CR0), cr4 = vmcs_readl(GUEST_CR4), cr3 = vmcs_readl(GUEST_CR3);
	bool lma = vmcs_read64(GUEST_IA32_EFER) & MSR_IA32_EFER_LMA_BIT;
	struct vsi *v = vc->vsi;
	u64 pte;

	if (!(cr0 & X86_CR0_PG)) {
		*gpa = la & 0xffffffffULL;
		return 0;
	}
	if (!(cr4 & X86_CR4_PAE)) { /* 32-bit paging, 4 MiB pages with PSE */
		u32 l = (u32)la;
		if (!read_pte(v, (cr3 & 0xfffff000ULL) + ((l >> 22) << 2), 4, &pte) ||
		    !(pte & PTE_P))
			return -EFAULT;
		if ((pte & PTE_PS) && (cr4 & X86_CR4_PSE)) {
			*gpa = (pte & 0xffc00000ULL) | (l & 0x3fffff);
			return 0;
		}
		if (!read_pte(v, (pte & 0xfffff000ULL) + (((l >> 12) & 0x3ff) << 2), 4, &pte) ||
		    !(pte & PTE_P))
			return -EFAULT;
		*gpa = (pte & 0xfffff000ULL) | (l & 0xfff);
		return 0;
	}
	int levels = lma ? 4 : 3;
	u64 table = lma ? cr3 & PTE_ADDR_MASK : cr3 & 0xffffffe0ULL;
	for (int lvl = levels; lvl >= 1; lvl--) {
		u32 shift = 12 + 9 * (lvl - 1);
		u64 idx = (la >> shift) & (lvl == 3 && !lma ? 3 : 0x1ff);
		if (!read_pte(v, table + idx * 8, 8, &pte) || !(pte & PTE_P))
			return -EFAULT;
		if (lvl == 1 || (lvl <= 3 && lvl >= 2 && (pte & PTE_PS) && !(lvl == 3 && !lma))) {
			u64 page = 1ULL << shift;
			*gpa = (pte & PTE_ADDR_MASK & ~(page - 1)) | (la & (page - 1));
			return 0;
		}
		table = pte & PTE_ADDR_MASK;
	}
	return -EFAULT; /* not reached: level 1 always returns */
}

/* Up to MMIO_INSN_MAX bytes at CS:RIP, page by page; the count fetched. */
static u32 fetch_insn(struct vcpu *vc, u8 *buf)
{
	bool lma = vmcs_read64(GUEST_IA32_EFER) & MSR_IA32_EFER_LMA_BIT;
	u32 ar = vmcs_read32(GUEST_CS_AR_BYTES);
	u64 la = vmcs_readl(GUEST_RIP);
	u32 got = 0;

	if (!(lma && (ar & AR_L)))
		la = (vmcs_readl(GUEST_CS_BASE) + la) & 0xffffffffULL;
	while (got < MMIO_INSN_MAX) {
		u64 gpa;
		u32 chunk = MIN(MMIO_INSN_MAX - got, PAGE_SIZE - ((la + got) & (PAGE_SIZE - 1)));
		if (vmx_guest_translate(vc, la + got, &gpa))
			break;
		const u8 *p = vsi_gpa_to_hva_code(vc->vsi, gpa, chunk);
		if (!p)
			break;
		memcpy(buf + got, p, chunk);
		got += chunk;
	}
	return got;
}

u32 vmx_code_mode(void)
{
	bool lma = vmcs_read64(GUEST_IA32_EFER) & MSR_IA32_EFER_LMA_BIT;
	u32 ar = vmcs_read32(GUEST_CS_AR_BYTES);

	if (lma && (ar & AR_L))
		return 8;
	if (!(vmcs_readl(GUEST_CR0) & X86_CR0_PE))
		return 2; /* real mode (unrestricted guest) */
	return (ar & AR_DB) ? 4 : 2;
}

u64 vmx_segment_base(u32 seg)
{
	switch (seg) {
	case SEG_FS:
		return vmcs_readl(GUEST_FS_BASE);
	case SEG_GS:
		return vmcs_readl(GUEST_GS_BASE);
	}
	if (vmx_code_mode() == 8) /* SDM Vol. 1 3.4.2.1 */
		return 0;
	switch (seg) {
	case SEG_ES:
		return vmcs_readl(GUEST_ES_BASE);
	case SEG_CS:
		return vmcs_readl(GUEST_CS_BASE);
	case SEG_SS:
		return vmcs_readl(GUEST_SS_BASE);
	default:
		return vmcs_readl(GUEST_DS_BASE);
	}
}

void *vmx_guest_memory(struct vcpu *vc, u64 gpa, u32 len, bool write)
{
	void *ram = vsi_gpa_to_hva(vc->vsi, gpa, len);
	void *seen = vsi_gpa_to_hva_code(vc->vsi, gpa, len); /* what reads see (ROM alias) */

	if (write)
		return ram == seen ? ram : NULL; /* the ROM and its alias drop writes */
	return seen;
}

static u64 size_mask(u32 size)
{
	return size >= 8 ? ~0ULL : (1ULL << (size * 8)) - 1;
}

/* Write a load's result to its register as the CPU would (SDM Vol. 1 3.4.1.1). */
static void write_dest(struct vcpu *vc, const struct mmio_insn *in, u64 val)
{
	u64 v = val & size_mask(in->size);
	u32 dst = in->dst_size ? in->dst_size : in->size;

	if (in->ext == MMIO_EXT_SIGN && in->size < 8 && (v >> (in->size * 8 - 1)) & 1)
		v |= ~size_mask(in->size);
	v &= size_mask(dst);
	if (in->reg_high8) {
		u32 r = in->reg - 4;
		u64 old = vmx_read_gpr(vc, r);
		vmx_write_gpr(vc, r, (old & ~0xff00ULL) | ((v & 0xff) << 8));
		return;
	}
	if (dst >= 4) { /* 32-bit results zero-extend to 64 */
		vmx_write_gpr(vc, in->reg, v);
		return;
	}
	vmx_write_gpr(vc, in->reg, (vmx_read_gpr(vc, in->reg) & ~size_mask(dst)) | v);
}

static enum exit_result mmio_fault(struct vcpu *vc, const char *why)
{
	return vmx_fault_exit(vc, EXIT_REASON_EPT_VIOLATION, why);
}

/*
 * The linear address of the decoded memory operand (SDM Vol. 1 3.7.5):
 * base + index * scale + displacement at the address size, plus the
 * segment's base (SS for an rSP/rBP base, else DS, unless overridden).
 */
static u64 operand_linear(struct vcpu *vc, const struct mmio_insn *in)
{
	const struct mmio_mem *m = &in->mem;
	u64 ea = (u64)m->disp;
	u32 seg = m->seg;

	if (m->base == MMIO_REG_RIP)
		ea += vmcs_readl(GUEST_RIP) + in->len;
	else if (m->base != MMIO_REG_NONE)
		ea += vmx_read_gpr(vc, m->base);
	if (m->index != MMIO_REG_NONE)
		ea += vmx_read_gpr(vc, m->index) * m->scale;
	ea &= size_mask(m->addr_size);
	if (seg == MMIO_SEG_NONE)
		seg = m->base == GPR_RSP || m->base == GPR_RBP ? SEG_SS : SEG_DS;
	ea += vmx_segment_base(seg);
	return vmx_code_mode() == 8 ? ea : ea & LINEAR_32_MASK;
}

/* One page's part of a split access: memory directly, else the devices. */
static enum vsi_access split_part(struct vcpu *vc, u64 la, u8 *data, u32 len, bool write)
{
	u64 gpa, val = 0;
	enum vsi_access r;
	u8 *p;

	if (vmx_guest_translate(vc, la, &gpa)) { /* the page tables changed under us */
		if (!write)
			memset(data, 0xff, len);
		return VSI_ACCESS_UNCLAIMED;
	}
	p = vmx_guest_memory(vc, gpa, len, write);
	if (p) {
		write ? memcpy(p, data, len) : memcpy(data, p, len);
		return VSI_ACCESS_DONE;
	}
	memcpy(&val, data, len);
	r = vsi_mmio(vc, gpa, len, write, &val);
	if (r == VSI_ACCESS_UNCLAIMED) {
		vc->mmio_unclaimed++;
		val = ~0ULL;
	}
	if (!write)
		memcpy(data, &val, len);
	return r;
}

/*
 * An access split across a page boundary: the exit names only the part
 * that faulted, the other may be RAM (the end of RAM, the ROM's start).
 * Each part goes where its own address leads, in order.
 */
static enum vsi_access split_access(struct vcpu *vc, u64 la, u32 first, u32 size, bool write,
				    u64 *val)
{
	u8 data[sizeof(u64)];
	enum vsi_access r1, r2;

	memcpy(data, val, sizeof(data));
	r1 = split_part(vc, la, data, first, write);
	r2 = split_part(vc, la + first, data + first, size - first, write);
	memcpy(val, data, sizeof(data));
	return r1 == VSI_ACCESS_LEAVE || r2 == VSI_ACCESS_LEAVE ? VSI_ACCESS_LEAVE
								: VSI_ACCESS_DONE;
}

/* The operand crosses a page boundary: bytes in its first page, else 0. */
static u32 split_first(struct vcpu *vc, const struct mmio_insn *in, u64 *la)
{
	u64 gpa;
	u32 first;

	*la = operand_linear(vc, in);
	first = PAGE_SIZE - (u32)(*la & (PAGE_SIZE - 1));
	if (first >= in->size || vmx_guest_translate(vc, *la, &gpa))
		return 0;
	return first;
}

/*
 * Decode the instruction at RIP and do its access of gpa through the devices;
 * gla_valid: GUEST_LINEAR_ADDRESS names it, for the guest's data breakpoints.
 */
static enum exit_result emulate(struct vcpu *vc, u64 gpa, bool write, bool rom, bool gla_valid)
{
	struct mmio_insn in;
	u8 bytes[MMIO_INSN_MAX];
	char why[160];
	u64 val = 0;
	u32 n;

	n = fetch_insn(vc, bytes);
	if (n == 0 || mmio_decode(bytes, n, vmx_code_mode(), &in)) {
		snprintf(why, sizeof(why),
			 "%s at guest-physical 0x%llx by an instruction the MMIO decoder does not "
			 "handle (%02x %02x %02x %02x)",
			 write ? "write" : "read", (unsigned long long)gpa, n > 0 ? bytes[0] : 0,
			 n > 1 ? bytes[1] : 0, n > 2 ? bytes[2] : 0, n > 3 ? bytes[3] : 0);
		return mmio_fault(vc, why);
	}
	if ((in.op == MMIO_OP_STORE) != write) {
		snprintf(why, sizeof(why),
			 "MMIO at guest-physical 0x%llx: the instruction does not match the access",
			 (unsigned long long)gpa);
		return mmio_fault(vc, why);
	}
	if (write)
		val = (in.has_imm     ? in.imm
		       : in.reg_high8 ? vmx_read_gpr(vc, in.reg - 4) >> 8
				      : vmx_read_gpr(vc, in.reg)) &
		      size_mask(in.size);
	u64 la;
	u32 first = split_first(vc, &in, &la);
	enum vsi_access r = first ? split_access(vc, la, first, in.size, write, &val)
			    : rom ? VSI_ACCESS_UNCLAIMED
				  : vsi_mmio(vc, gpa, in.size, write, &val);
	if (r == VSI_ACCESS_UNCLAIMED && rom && write)
		vc->rom_writes++; /* flash programming, e.g. OVMF's probe: ignored */
	if (r == VSI_ACCESS_UNCLAIMED) {
		vc->mmio_unclaimed++;
		val = ~0ULL;
	}
	if (!write)
		write_dest(vc, &in, val);
	if (gla_valid || first) /* a split access: the exit's linear address is its second part */
		vmx_check_breakpoints(first ? la : vmcs_readl(GUEST_LINEAR_ADDRESS), in.size,
				      write ? DR_ACCESS_WRITE : DR_ACCESS_READ);
	vmx_complete_instruction(in.len);
	return r == VSI_ACCESS_LEAVE ? EXIT_LEAVE : EXIT_RESUME;
}

enum exit_result vmx_handle_mmio(struct vcpu *vc)
{
	u64 q = vmcs_readl(EXIT_QUALIFICATION), gpa = vmcs_read64(GUEST_PHYSICAL_ADDRESS);
	char why[160];

	if (q & EXIT_QUAL_EPT_FETCH_BIT) {
		snprintf(why, sizeof(why),
			 "instruction fetch at guest-physical 0x%llx outside its memory",
			 (unsigned long long)gpa);
		return mmio_fault(vc, why);
	}
	/* Mapped but not writable: a write to the ROM, dropped as a real ROM would. */
	return emulate(vc, gpa, q & EXIT_QUAL_EPT_WRITE_BIT,
		       q & (EXIT_QUAL_EPT_READABLE_BIT | EXIT_QUAL_EPT_EXECUTABLE_BIT),
		       q & EXIT_QUAL_EPT_GLA_VALID_BIT);
}

/* APIC-access exit qualification (SDM 28.2.1, Table 28-6). */
#define APIC_ACCESS_OFFSET(q) ((q)&0xfff)
#define APIC_ACCESS_TYPE(q)   (((q) >> 12) & 0xf)
#define APIC_ACCESS_READ      0 /* linear access for a data read */
#define APIC_ACCESS_WRITE     1 /* linear access for a data write */

enum exit_result vmx_handle_apic_access(struct vcpu *vc)
{
	u64 q = vmcs_readl(EXIT_QUALIFICATION);
	u32 type = APIC_ACCESS_TYPE(q);
	u64 gpa = 0xfee00000ULL + APIC_ACCESS_OFFSET(q);
	enum exit_result r;
	char why[120];

	if (type != APIC_ACCESS_READ && type != APIC_ACCESS_WRITE) {
		snprintf(why, sizeof(why), "APIC page access of type %u at offset 0x%llx", type,
			 (unsigned long long)APIC_ACCESS_OFFSET(q));
		return vmx_fault_exit(vc, EXIT_REASON_APIC_ACCESS, why);
	}
	r = emulate(vc, gpa, type == APIC_ACCESS_WRITE, false, false);
	apicv_mark_dirty(vc);
	return r;
}
