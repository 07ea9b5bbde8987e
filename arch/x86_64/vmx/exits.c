/*
 * VM-exit handlers. Every value here comes from the guest and is checked
 * before use; anything the platform (docs/vsi-platform.md) does not define
 * either gets the architectural answer (#GP, #UD, all-ones) or stops this
 * VSI with a report. Nothing a guest does reaches panic().
 */
#include <asm/apicv.h>
#include <asm/cpu.h>
#include <asm/debugreg.h>
#include <asm/lapic.h>
#include <asm/msr.h>
#include <asm/trap.h>
#include <asm/vmcs.h>
#include <asm/vmx.h>
#include <asm/vmx_exit.h>
#include <asm/vmx_vcpu.h>
#include <hv/errno.h>
#include <hv/kernel.h>
#include <hv/log.h>
#include <hv/printf.h>
#include <hv/string.h>

#define HV_CPUID_BASE	 0x40000000
#define HV_CPUID_INFO	 0x40000001
#define HV_CPUID_MAX	 HV_CPUID_INFO
#define HV_CPUID_SIG_EBX 0x494d5648 /* "HVMI" */
#define HV_CPUID_SIG_ECX 0x564f5243 /* "CROV" */
#define HV_CPUID_SIG_EDX 0x524f5349 /* "ISOR" */
#define HYPERCALL_NOP	 0

#define PORT_COM1	   0x3f8
#define PORT_COM1_END	   0x3ff
#define PORT_RESET_CONTROL 0xcf9
#define RESET_CONTROL_RST  BIT(2)
#define PORT_KBD_CMD	   0x64
#define KBD_CMD_RESET	   0xfe

#define XCR0_X87     BIT(0)
#define XCR0_SSE     BIT(1)
#define XCR0_AVX     BIT(2)
#define XCR0_BNDREGS BIT(3)
#define XCR0_BNDCSR  BIT(4)
#define XCR0_AVX512  (BIT(5) | BIT(6) | BIT(7))
#define XCR0_AMX     (BIT(17) | BIT(18))

/* CPUID bits hidden from guests (SDM Vol. 2A CPUID; features we do not virtualise). */
#define CPUID_1_ECX_HIDE                                                                      \
	(BIT(2) /* DTES64 */ | BIT(3) /* MONITOR */ | BIT(4) /* DS-CPL */ | CPUID_1_ECX_VMX | \
	 CPUID_1_ECX_SMX | BIT(7) /* EST */ | BIT(8) /* TM2 */ | BIT(14) /* xTPR */ |         \
	 BIT(15) /* PDCM */ | BIT(18) /* DCA */)
#define CPUID_1_EDX_HIDE                                                                        \
	(BIT(7) /* MCE */ | BIT(14) /* MCA */ | BIT(21) /* DS */ | BIT(22) /* ACPI thermal */ | \
	 BIT(29) /* TM */ | BIT(31) /* PBE */)
#define CPUID_1_ECX_TSC_DEADLINE BIT(24)
#define CPUID_6_EAX_ARAT	 BIT(2)
#define CPUID_TSC_LEAF		 0x15 /* TSC/crystal ratio and crystal frequency */
#define CPUID_FREQ_LEAF		 0x16 /* base/max frequency in MHz */
#define CPUID_1_EDX_HTT		 BIT(28)
#define CPUID_1_EDX_APIC	 BIT(9)
#define CPUID_7_EBX_HIDE \
	(BIT(1) /* TSC_ADJUST */ | BIT(2) /* SGX */ | BIT(12) /* RDT-M */ | BIT(15) /* RDT-A */)
#define CPUID_7_ECX_HIDE (BIT(5) /* WAITPKG */ | BIT(30) /* SGX_LC */)
#define CPUID_7_EDX_HIDE                                                                   \
	(BIT(26) /* IBRS/IBPB */ | BIT(27) /* STIBP */ | BIT(29) /* ARCH_CAPABILITIES */ | \
	 BIT(31) /* SSBD */)

/*
 * The instruction of len bytes at GUEST_RIP completed as the hypervisor
 * emulated it: do what the CPU does at the end of an instruction. Blocking
 * by STI/MOV SS ends (SDM 26.3.1.5), RF is cleared (SDM 18.3.1.1), and TF
 * set at its start leaves a single-step trap pending (BS), which the CPU
 * delivers after VM entry (SDM 26.7.3) ahead of any interrupt
 * (inject_pending()). IA32_DEBUGCTL.BTF is always 0 here
 * (docs/vsi-platform.md).
 */
void vmx_complete_instruction(u32 len)
{
	u64 rflags = vmcs_readl(GUEST_RFLAGS);
	u32 intr = vmcs_read32(GUEST_INTERRUPTIBILITY_INFO);

	vmcs_writel(GUEST_RIP, vmcs_readl(GUEST_RIP) + len);
	if (intr & (GUEST_INTR_STATE_STI | GUEST_INTR_STATE_MOV_SS)) /* rare: write only then */
		vmcs_write32(GUEST_INTERRUPTIBILITY_INFO,
			     intr & ~(GUEST_INTR_STATE_STI | GUEST_INTR_STATE_MOV_SS));
	if (rflags & X86_RFLAGS_RF)
		vmcs_writel(GUEST_RFLAGS, rflags & ~X86_RFLAGS_RF);
	if (rflags & X86_RFLAGS_TF)
		vmcs_writel(GUEST_PENDING_DBG_EXCEPTIONS,
			    vmcs_readl(GUEST_PENDING_DBG_EXCEPTIONS) | PENDING_DBG_BS);
}

void vmx_skip_instruction(void)
{
	vmx_complete_instruction(vmcs_read32(VM_EXIT_INSTRUCTION_LEN));
}

/* Traps and aborts; every other exception the hypervisor raises is a fault (SDM 6.15). */
static bool exception_is_fault(u32 vector)
{
	return vector != X86_TRAP_DB && vector != X86_TRAP_NMI && vector != X86_TRAP_BP &&
	       vector != X86_TRAP_OF && vector != X86_TRAP_DF && vector != X86_TRAP_MC;
}

/*
 * A hardware exception at the next VM entry. The CPU pushes GUEST_RFLAGS as
 * it is (SDM 26.6.1.1), so for a fault RF is set here as the CPU sets it in
 * the frame of a fault it raises itself (SDM 18.3.1.1): the handler's IRET
 * re-executes the instruction without re-triggering its instruction
 * breakpoint.
 */
void vmx_inject_exception(u32 vector, bool has_error, u32 error)
{
	u32 info = INTR_INFO_VALID_BIT | INTR_TYPE_HARD_EXCEPTION | vector;

	if (exception_is_fault(vector))
		vmcs_writel(GUEST_RFLAGS, vmcs_readl(GUEST_RFLAGS) | X86_RFLAGS_RF);
	if (has_error) {
		info |= INTR_INFO_DELIVER_CODE_BIT;
		vmcs_write32(VM_ENTRY_EXCEPTION_ERROR_CODE, error);
	}
	vmcs_write32(VM_ENTRY_INTR_INFO_FIELD, info);
}

static void inject_gp(void)
{
	vmx_inject_exception(EXCEPTION_GP, true, 0);
}

static void inject_ud(void)
{
	vmx_inject_exception(EXCEPTION_UD, false, 0);
}

static u32 guest_cpl(void)
{
	return (vmcs_read32(GUEST_SS_AR_BYTES) >> VMX_AR_DPL_SHIFT) & 3;
}

/* The full report of an exit this VSI cannot continue from, then the fault. */
enum exit_result vmx_fault_exit(struct vcpu *vc, u32 reason, const char *why)
{
	const struct guest_regs *r = &vc->arch.regs;

	pr_err("vsi %s: vCPU %u: %s: exit %s (%u), qualification 0x%llx", vc->vsi->name, vc->index,
	       why, vmx_exit_reason_name(reason), reason,
	       (unsigned long long)vmcs_readl(EXIT_QUALIFICATION));
	pr_err("vsi %s: GPA 0x%llx GLA 0x%llx RIP 0x%llx RSP 0x%llx RFLAGS 0x%llx", vc->vsi->name,
	       (unsigned long long)vmcs_read64(GUEST_PHYSICAL_ADDRESS),
	       (unsigned long long)vmcs_readl(GUEST_LINEAR_ADDRESS),
	       (unsigned long long)vmcs_readl(GUEST_RIP), (unsigned long long)vmcs_readl(GUEST_RSP),
	       (unsigned long long)vmcs_readl(GUEST_RFLAGS));
	pr_err("vsi %s: RAX %llx RBX %llx RCX %llx RDX %llx RSI %llx RDI %llx RBP %llx",
	       vc->vsi->name, (unsigned long long)r->rax, (unsigned long long)r->rbx,
	       (unsigned long long)r->rcx, (unsigned long long)r->rdx, (unsigned long long)r->rsi,
	       (unsigned long long)r->rdi, (unsigned long long)r->rbp);
	pr_err("vsi %s: R8 %llx R9 %llx R10 %llx R11 %llx R12 %llx R13 %llx R14 %llx R15 %llx",
	       vc->vsi->name, (unsigned long long)r->r8, (unsigned long long)r->r9,
	       (unsigned long long)r->r10, (unsigned long long)r->r11, (unsigned long long)r->r12,
	       (unsigned long long)r->r13, (unsigned long long)r->r14, (unsigned long long)r->r15);
	pr_err("vsi %s: CR0 0x%llx CR3 0x%llx CR4 0x%llx EFER 0x%llx CS 0x%x", vc->vsi->name,
	       (unsigned long long)vmx_guest_cr0(), (unsigned long long)vmcs_readl(GUEST_CR3),
	       (unsigned long long)vmx_guest_cr4(),
	       (unsigned long long)vmcs_read64(GUEST_IA32_EFER), vmcs_read16(GUEST_CS_SELECTOR));
	vsi_fault(vc, "%s: exit %s at RIP 0x%llx", why, vmx_exit_reason_name(reason),
		  (unsigned long long)vmcs_readl(GUEST_RIP));
	return EXIT_LEAVE;
}

static void cpuid_topology(struct vcpu *vc, u32 leaf, u32 sub, struct cpuid_regs *r)
{
	u32 n = vc->vsi->nr_vcpus, shift = 0;

	while ((1U << shift) < n)
		shift++;
	if (leaf == 4) {
		r->eax = (r->eax & 0x3fff) | ((n - 1) << 26); /* cores per package */
		return;
	}
	/* Leaf 0xB: level 0 SMT (one thread per core), level 1 cores. */
	r->edx = vc->index;
	r->ecx = sub & 0xff;
	if (sub == 0) {
		r->eax = 0, r->ebx = 1, r->ecx |= 1 << 8;
	} else if (sub == 1) {
		r->eax = shift, r->ebx = n, r->ecx |= 2 << 8;
	} else {
		r->eax = 0, r->ebx = 0;
	}
}

static enum exit_result handle_cpuid(struct vcpu *vc)
{
	struct guest_regs *g = &vc->arch.regs;
	u32 leaf = (u32)g->rax, sub = (u32)g->rcx;
	struct cpuid_regs r = { 0, 0, 0, 0 };

	if (leaf == HV_CPUID_BASE) {
		r = (struct cpuid_regs){ HV_CPUID_MAX, HV_CPUID_SIG_EBX, HV_CPUID_SIG_ECX,
					 HV_CPUID_SIG_EDX };
	} else if (leaf == HV_CPUID_INFO) {
		r.eax = (u32)(vc->vsi->ram_size / MiB);
		r.ebx = vc->vsi->nr_vcpus;
		r.ecx = vc->index;
	} else if (leaf == CPUID_TSC_LEAF || leaf == CPUID_FREQ_LEAF) {
		/* The TSC (and the APIC timer, which counts with it) at its measured rate. */
		u32 khz = (u32)((tsc_hz() + 500) / 1000);
		if (leaf == CPUID_TSC_LEAF)
			r = (struct cpuid_regs){ 1, 1, khz * 1000, 0 };
		else
			r = (struct cpuid_regs){ khz / 1000, khz / 1000, 0, 0 };
	} else if (leaf < HV_CPUID_BASE && leaf > cpuid(0, 0).eax) {
		/* beyond the host's basic leaves (up to ours): zeros */
	} else if (leaf < HV_CPUID_BASE || leaf >= 0x80000000) {
		r = cpuid(leaf, sub);
		switch (leaf) {
		case 0:
			r.eax = MAX(r.eax, CPUID_FREQ_LEAF);
			break;
		case 1:
			/* x2APIC: its MSRs are emulated whatever the host has */
			r.ecx = (r.ecx & ~(CPUID_1_ECX_HIDE | CPUID_1_ECX_OSXSAVE)) |
				CPUID_1_ECX_HYPERVISOR | CPUID_1_ECX_X2APIC |
				CPUID_1_ECX_TSC_DEADLINE;
			if (vmcs_readl(GUEST_CR4) & X86_CR4_OSXSAVE) /* mirrors the guest's CR4 */
				r.ecx |= CPUID_1_ECX_OSXSAVE;
			r.edx &= ~CPUID_1_EDX_HIDE;
			/* APIC present follows IA32_APIC_BASE.EN (SDM 11.4.3) */
			if (!(vc->arch.apic_base & MSR_IA32_APIC_BASE_EN_BIT))
				r.edx &= ~CPUID_1_EDX_APIC;
			if (vc->vsi->nr_vcpus > 1)
				r.edx |= CPUID_1_EDX_HTT;
			r.ebx = (r.ebx & 0xffff) | (vc->vsi->nr_vcpus << 16) | (vc->index << 24);
			break;
		case 4:
		case 0xb:
			cpuid_topology(vc, leaf, sub, &r);
			break;
		case 5:	  /* MONITOR/MWAIT */
		case 0xa: /* performance monitoring */
			r = (struct cpuid_regs){ 0, 0, 0, 0 };
			break;
		case 6: /* thermal and power: only "the APIC timer always runs" */
			r = (struct cpuid_regs){ CPUID_6_EAX_ARAT, 0, 0, 0 };
			break;
		case 7:
			if (sub == 0) {
				r.ebx &= ~CPUID_7_EBX_HIDE;
				r.ecx &= ~CPUID_7_ECX_HIDE;
				r.edx &= ~CPUID_7_EDX_HIDE;
			}
			break;
		}
	}
	g->rax = r.eax, g->rbx = r.ebx, g->rcx = r.ecx, g->rdx = r.edx;
	vmx_skip_instruction();
	return EXIT_RESUME;
}

/*
 * One port access of `size` bytes, as IN/OUT (and each element of INS/OUTS)
 * does it: *val is the value written, or receives the value read (all ones
 * where nothing decodes the port). VSI_ACCESS_LEAVE: the VSI has a request
 * (reset, power-off); the instruction is done.
 */
enum vsi_access vmx_port_access(struct vcpu *vc, u32 port, u32 size, bool in, u32 *val)
{
	enum vsi_access r;

	if (vsi_pm_timer_fast(vc, port, size, in, val))
		return VSI_ACCESS_DONE;
	if (port >= PORT_COM1 && port <= PORT_COM1_END) {
		if (in)
			*val = vsi_uart_read(vc->vsi, port - PORT_COM1);
		else
			vsi_uart_write(vc->vsi, port - PORT_COM1, (u8)*val);
		return VSI_ACCESS_DONE;
	}
	if (!in && ((port == PORT_RESET_CONTROL && (*val & RESET_CONTROL_RST)) ||
		    (port == PORT_KBD_CMD && (u8)*val == KBD_CMD_RESET))) {
		vsi_post_request(vc->vsi, VSI_REQ_RESET);
		return VSI_ACCESS_LEAVE;
	}
	r = vsi_io(vc, port, size, in, val);
	if (r == VSI_ACCESS_UNCLAIMED) {
		vc->io_unclaimed++;
		*val = 0xffffffff; /* nothing decodes it: all ones */
	}
	return r;
}

static enum exit_result handle_io(struct vcpu *vc, u64 q)
{
	struct guest_regs *g = &vc->arch.regs;
	u32 size = (q & EXIT_QUAL_IO_SIZE_MASK) + 1, port = (u32)(q >> EXIT_QUAL_IO_PORT_SHIFT);
	bool in = q & EXIT_QUAL_IO_IN_BIT;
	u64 mask = size == 4 ? 0xffffffffULL : (1ULL << (size * 8)) - 1;
	u32 val = (u32)g->rax;
	enum vsi_access r;

	if (q & EXIT_QUAL_IO_STRING_BIT)
		return vmx_handle_string_io(vc, q);
	vmx_check_breakpoints(port, size, DR_ACCESS_IO);
	r = vmx_port_access(vc, port, size, in, &val);
	if (in)
		g->rax = (g->rax & ~mask) | (val & mask);
	if (in && size == 4)
		g->rax &= 0xffffffffULL; /* a 32-bit result zero-extends (SDM 3.4.1.1) */
	vmx_skip_instruction();
	return r == VSI_ACCESS_LEAVE ? EXIT_LEAVE : EXIT_RESUME;
}

/*
 * XSETBV (SDM Vol. 2C): XCR0 only, x87 always, AVX needs SSE, MPX, AVX-512
 * and AMX in their groups, nothing the CPU lacks. The write itself goes
 * through xsetbv_safe(), so a rule missed here is a #GP for the guest, not
 * a fault in the hypervisor.
 */
static bool xcr0_valid(u64 val)
{
	struct cpuid_regs x = cpuid(0xd, 0);
	u64 supported = ((u64)x.edx << 32) | x.eax;

	return (val & XCR0_X87) && !(val & ~supported) && (!(val & XCR0_AVX) || (val & XCR0_SSE)) &&
	       !(val & XCR0_BNDREGS) == !(val & XCR0_BNDCSR) &&
	       (!(val & XCR0_AVX512) || ((val & XCR0_AVX512) == XCR0_AVX512 && (val & XCR0_AVX))) &&
	       ((val & XCR0_AMX) == 0 || (val & XCR0_AMX) == XCR0_AMX);
}

static enum exit_result handle_xsetbv(struct vcpu *vc)
{
	struct guest_regs *g = &vc->arch.regs;
	u64 val = (g->rdx << 32) | (u32)g->rax;

	/* Without the guest's CR4.OSXSAVE the CPU raises #UD before any exit. */
	if (!(vmcs_readl(GUEST_CR4) & X86_CR4_OSXSAVE)) {
		inject_ud();
		return EXIT_RESUME;
	}
	if (guest_cpl() != 0 || (u32)g->rcx != 0 || !xcr0_valid(val) || xsetbv_safe(0, val)) {
		inject_gp();
		return EXIT_RESUME;
	}
	vc->arch.xcr0 = val;
	vmx_skip_instruction();
	return EXIT_RESUME;
}

static enum exit_result handle_hlt(struct vcpu *vc)
{
	vmx_skip_instruction();
	vmx_wait_for_work(vc, vmcs_readl(GUEST_RFLAGS) & X86_RFLAGS_IF);
	return EXIT_RESUME;
}

static enum exit_result handle_vmcall(struct vcpu *vc)
{
	struct guest_regs *g = &vc->arch.regs;

	g->rax = g->rax == HYPERCALL_NOP ? 0 : (u64)-ENOSYS;
	vmx_skip_instruction();
	return EXIT_RESUME;
}

static enum exit_result handle_exception_nmi(struct vcpu *vc)
{
	u32 info = vmcs_read32(VM_EXIT_INTR_INFO);

	/* Guest NMIs are injected, never physical: this one is the hypervisor's
	 * (the fault dump parks CPUs with it), whatever the guest's NMI state. */
	if ((info & INTR_INFO_TYPE_MASK) == INTR_TYPE_NMI) {
		trap_nmi_in_guest();
		return EXIT_RESUME;
	}
	return vmx_fault_exit(vc, EXIT_REASON_EXCEPTION_NMI, "unexpected exception exit");
}

static enum exit_result handle_triple_fault(struct vcpu *vc)
{
	if (vc->vsi->cfg->on_triple_fault == VSI_ON_FAULT_RESET) {
		pr_warn("vsi %s: vCPU %u triple fault at RIP 0x%llx: resetting (on_triple_fault = "
			"reset)",
			vc->vsi->name, vc->index, (unsigned long long)vmcs_readl(GUEST_RIP));
		vsi_post_request(vc->vsi, VSI_REQ_RESET);
		return EXIT_LEAVE;
	}
	return vmx_fault_exit(vc, EXIT_REASON_TRIPLE_FAULT,
			      "triple fault (on_triple_fault = stop)");
}

/* VM entry failed on guest state (SDM 26.8): basic reason 33/34/41 with bit 31 set. */
static enum exit_result entry_failure(struct vcpu *vc, u32 reason)
{
	char why[200];

	pr_err("vsi %s: vCPU %u: VM entry failed: %s, exit qualification %llu", vc->vsi->name,
	       vc->index, vmx_exit_reason_name(reason),
	       (unsigned long long)vmcs_readl(EXIT_QUALIFICATION));
	if (reason == EXIT_REASON_INVALID_STATE)
		pr_err("vsi %s: failed check: %s", vc->vsi->name,
		       vmcs_explain_guest_state(why, sizeof(why)));
	vmcs_dump_guest();
	vsi_fault(vc, "VM entry failed: %s", vmx_exit_reason_name(reason));
	return EXIT_LEAVE;
}

enum exit_result vmx_handle_exit(struct vcpu *vc, u32 full)
{
	u32 reason = full & EXIT_REASON_BASIC_MASK;

	if (reason < VSI_EXIT_COUNTERS)
		vc->exits[reason]++;
	if (full & EXIT_REASON_ENTRY_FAILURE_BIT)
		return entry_failure(vc, reason);
	vmx_requeue_vectoring();
	switch (reason) {
	case EXIT_REASON_EXCEPTION_NMI:
		return handle_exception_nmi(vc);
	case EXIT_REASON_EXTERNAL_INTERRUPT:
		lapic_eoi(); /* acknowledged on exit; a kick has done its job */
		return EXIT_RESUME;
	case EXIT_REASON_TRIPLE_FAULT:
		return handle_triple_fault(vc);
	case EXIT_REASON_INIT_SIGNAL:
	case EXIT_REASON_SIPI_SIGNAL:
	case EXIT_REASON_INTERRUPT_WINDOW:
	case EXIT_REASON_NMI_WINDOW:
	case EXIT_REASON_PREEMPTION_TIMER:
		return EXIT_RESUME; /* nothing to do but re-evaluate what to inject */
	case EXIT_REASON_CPUID:
		return handle_cpuid(vc);
	case EXIT_REASON_HLT:
		return handle_hlt(vc);
	case EXIT_REASON_INVD:
	case EXIT_REASON_WBINVD:
		asm volatile("wbinvd" ::: "memory"); /* INVD would drop others' dirty lines */
		vmx_skip_instruction();
		return EXIT_RESUME;
	case EXIT_REASON_PAUSE_INSTRUCTION:
		vmx_skip_instruction();
		return EXIT_RESUME;
	case EXIT_REASON_VMCALL:
		return handle_vmcall(vc);
	case EXIT_REASON_GETSEC:
	case EXIT_REASON_VMCLEAR:
	case EXIT_REASON_VMLAUNCH:
	case EXIT_REASON_VMPTRLD:
	case EXIT_REASON_VMPTRST:
	case EXIT_REASON_VMREAD:
	case EXIT_REASON_VMRESUME:
	case EXIT_REASON_VMWRITE:
	case EXIT_REASON_VMOFF:
	case EXIT_REASON_VMON:
	case EXIT_REASON_INVEPT:
	case EXIT_REASON_INVVPID:
	case EXIT_REASON_VMFUNC:
	case EXIT_REASON_MWAIT_INSTRUCTION:
	case EXIT_REASON_MONITOR_INSTRUCTION:
	case EXIT_REASON_ENCLS:
		inject_ud(); /* no VMX, SMX, MONITOR or SGX inside a VSI */
		return EXIT_RESUME;
	case EXIT_REASON_RDPMC:
		inject_gp();
		return EXIT_RESUME;
	case EXIT_REASON_CR_ACCESS:
		return vmx_handle_cr(vc);
	case EXIT_REASON_IO_INSTRUCTION:
		return handle_io(vc, vmcs_readl(EXIT_QUALIFICATION));
	case EXIT_REASON_MSR_READ:
		return vmx_handle_msr(vc, false);
	case EXIT_REASON_MSR_WRITE:
		return vmx_handle_msr(vc, true);
	case EXIT_REASON_XSETBV:
		return handle_xsetbv(vc);
	case EXIT_REASON_EPT_VIOLATION:
		return vmx_handle_mmio(vc);
	case EXIT_REASON_APIC_ACCESS:
		return vmx_handle_apic_access(vc);
	case EXIT_REASON_APIC_WRITE:
		return apicv_handle_write(vc);
	case EXIT_REASON_EOI_INDUCED:
		return apicv_handle_eoi(vc);
	case EXIT_REASON_EPT_MISCONFIG:
		return vmx_fault_exit(vc, reason, "EPT misconfiguration (a hypervisor bug)");
	case EXIT_REASON_TASK_SWITCH:
		return vmx_fault_exit(vc, reason, "hardware task switches are not supported");
	}
	return vmx_fault_exit(vc, reason, "unhandled exit");
}
