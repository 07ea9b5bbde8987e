/*
 * INS/OUTS exits, with or without REP (SDM Vol. 2B "INS", "OUTS", "REP").
 * Each element goes through the same port dispatch as IN/OUT and to or from
 * guest memory through the guest's page tables; at most
 * PIO_STRING_MAX_PER_EXIT elements per exit, the rest after the next entry
 * (RIP stays on the instruction, as for an interrupted REP). Memory that is
 * not RAM reads as all ones and drops writes; a page that is not present
 * raises #PF in the guest with the elements done so far accounted for.
 */
#include <asm/cpu.h>
#include <asm/debugreg.h>
#include <asm/desc.h>
#include <asm/msr.h>
#include <asm/paging.h>
#include <asm/pio_string.h>
#include <asm/vmcs.h>
#include <asm/vmx.h>
#include <asm/vmx_exit.h>
#include <asm/vmx_vcpu.h>
#include <hv/kernel.h>
#include <hv/string.h>

/* VM-exit instruction information for INS/OUTS (SDM 27.2.5, Table 27-8). */
#define IO_INFO_ADDR_SIZE_SHIFT 7
#define IO_INFO_ADDR_SIZE_MASK	0x7 /* 0: 16-bit, 1: 32-bit, 2: 64-bit */
#define IO_INFO_SEG_SHIFT	15
#define IO_INFO_SEG_MASK	0x7 /* SEG_ES .. SEG_GS */

#define EXCEPTION_PF	 14
#define PF_ERR_WRITE_BIT BIT(1) /* SDM 4.7: the access was a write */
#define PF_ERR_USER_BIT	 BIT(2) /* ... from CPL 3 */
#define LINEAR_32_MASK	 0xffffffffULL

/* Address size and the OUTS source segment from the exit's instruction
 * information; without it (IA32_VMX_BASIC bit 54 clear), the code size and DS. */
static void decode_info(u32 *addr_size, u32 *seg)
{
	u32 info, code = vmx_code_mode();

	*addr_size = code;
	*seg = SEG_DS;
	if (!vmx_caps.inout_info)
		return;
	info = vmcs_read32(VMX_INSTRUCTION_INFO);
	*addr_size = 2U << ((info >> IO_INFO_ADDR_SIZE_SHIFT) & IO_INFO_ADDR_SIZE_MASK);
	*seg = (info >> IO_INFO_SEG_SHIFT) & IO_INFO_SEG_MASK;
	if (*addr_size > 8 || *seg > SEG_GS) /* not a value the CPU reports */
		*addr_size = code, *seg = SEG_DS;
}

enum copy_op {
	COPY_READ,
	COPY_WRITE,
	COPY_PROBE
};

/* Move len bytes between guest linear la and buf, page by page (probe: only
 * translate). False with *fault set at the first page that is not present. */
static bool linear_copy(struct vcpu *vc, u64 la, u8 *buf, u32 len, enum copy_op op, u64 *fault)
{
	for (u32 i = 0; i < len;) {
		u64 a = vmx_code_mode() == 8 ? la + i : (la + i) & LINEAR_32_MASK, gpa;
		u32 chunk = MIN(len - i, PAGE_SIZE - (u32)(a & (PAGE_SIZE - 1)));
		if (vmx_guest_translate(vc, a, &gpa)) {
			*fault = a;
			return false;
		}
		u8 *p =
		    op == COPY_PROBE ? NULL : vmx_guest_memory(vc, gpa, chunk, op == COPY_WRITE);
		if (op == COPY_WRITE && p)
			memcpy(p, buf + i, chunk);
		else if (op == COPY_READ && p)
			memcpy(buf + i, p, chunk);
		else if (op == COPY_READ)
			memset(buf + i, 0xff, chunk);
		i += chunk;
	}
	return true;
}

/* #PF for a page that is not present (SDM 4.7): CR2 and the error code. */
static void inject_pf(struct vcpu *vc, u64 la, bool write)
{
	u32 err = write ? PF_ERR_WRITE_BIT : 0;

	if (((vmcs_read32(GUEST_SS_AR_BYTES) >> VMX_AR_DPL_SHIFT) & 3) == 3)
		err |= PF_ERR_USER_BIT;
	vc->arch.regs.cr2 = la;
	vmx_inject_exception(EXCEPTION_PF, true, err);
}

/*
 * Move the elements of this exit. INS checks its destination before reading
 * the port, so a fault does not consume device data. Returns the elements
 * done; *r is the port dispatch's last answer, *faulted if #PF was raised.
 */
static u64 move_elements(struct vcpu *vc, const struct pio_string *s, u32 port, bool in, u64 base,
			 enum vsi_access *r, bool *faulted)
{
	u64 n = pio_string_count(s, PIO_STRING_MAX_PER_EXIT), done, fault = 0;

	*r = VSI_ACCESS_DONE;
	*faulted = false;
	for (done = 0; done < n && *r != VSI_ACCESS_LEAVE; done++) {
		u64 la = base + pio_string_offset(s, done);
		u32 val = 0;
		if (!linear_copy(vc, la, (u8 *)&val, s->size, in ? COPY_PROBE : COPY_READ,
				 &fault)) {
			inject_pf(vc, fault, in);
			*faulted = true;
			break;
		}
		*r = vmx_port_access(vc, port, s->size, in, &val);
		if (in)
			linear_copy(vc, la, (u8 *)&val, s->size, COPY_WRITE, &fault);
	}
	return done;
}

enum exit_result vmx_handle_string_io(struct vcpu *vc, u64 q)
{
	struct guest_regs *g = &vc->arch.regs;
	bool in = q & EXIT_QUAL_IO_IN_BIT, faulted;
	u32 port = (u32)(q >> EXIT_QUAL_IO_PORT_SHIFT), seg;
	struct pio_string s = {
		.size = (q & EXIT_QUAL_IO_SIZE_MASK) + 1,
		.rep = q & EXIT_QUAL_IO_REP_BIT,
		.down = vmcs_readl(GUEST_RFLAGS) & X86_RFLAGS_DF,
		.rcx = g->rcx,
		.index = in ? g->rdi : g->rsi,
	};
	enum vsi_access r;
	bool complete;
	u64 done;

	decode_info(&s.addr_size, &seg);
	/* INS always writes ES:rDI; OUTS reads seg:rSI (DS unless overridden). */
	done = move_elements(vc, &s, port, in, vmx_segment_base(in ? SEG_ES : seg), &r, &faulted);
	if (done) /* I/O breakpoints (SDM 17.2.4): once per exit, not per element */
		vmx_check_breakpoints(port, s.size, DR_ACCESS_IO);
	complete = pio_string_advance(&s, done);
	g->rcx = s.rcx;
	if (in)
		g->rdi = s.index;
	else
		g->rsi = s.index;
	if (faulted)
		return EXIT_RESUME; /* RIP stays: the guest's #PF handler resumes the REP */
	if (complete || r == VSI_ACCESS_LEAVE)
		vmx_skip_instruction();
	return r == VSI_ACCESS_LEAVE ? EXIT_LEAVE : EXIT_RESUME;
}
