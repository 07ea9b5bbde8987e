/*
 * vCPUs: one VMCS each, loaded on the physical CPU the vCPU is pinned to for
 * its whole life. Controls come from the capability MSRs through
 * vmx_adjust_ctls(); guest state starts at the architectural reset values.
 */
#include <asm/apicv.h>
#include <asm/cpu.h>
#include <asm/desc.h>
#include <asm/lapic.h>
#include <asm/msr.h>
#include <asm/paging.h>
#include <asm/percpu.h>
#include <asm/trap.h>
#include <asm/vmcs.h>
#include <asm/vmx.h>
#include <asm/vmx_exit.h>
#include <asm/vmx_vcpu.h>
#include <hv/errno.h>
#include <hv/kernel.h>
#include <hv/log.h>
#include <hv/string.h>

/* x86 reset values (SDM Vol. 3 Table 10-1). */
#define RESET_CR0	    0x60000010ULL /* CD, NW, ET */
#define RESET_RFLAGS	    0x2ULL
#define RESET_DR6	    0xffff0ff0ULL
#define RESET_DR7	    0x400ULL
#define RESET_CS_SELECTOR   0xf000
#define RESET_CS_BASE	    0xffff0000ULL
#define RESET_RIP	    0xfff0ULL
#define RESET_LIMIT	    0xffff
#define RESET_PAT	    0x0007040600070406ULL
#define AR_CODE_RX_ACCESSED 0x9b /* P, S, type 11 */
#define AR_DATA_RW_ACCESSED 0x93 /* P, S, type 3 */
#define AR_LDT		    0x82 /* P, type 2 */
#define AR_TSS_BUSY_32	    0x8b /* P, type 11 */

/* MSR bitmap layout (SDM 24.6.9): read low/high, write low/high, 1 KiB each. */
#define MSR_BITMAP_READ_LOW   0
#define MSR_BITMAP_READ_HIGH  1024
#define MSR_BITMAP_WRITE_LOW  2048
#define MSR_BITMAP_WRITE_HIGH 3072
#define MSR_HIGH_BASE	      0xc0000000U

static u8 *msr_bitmap; /* shared by every vCPU: the policy is the same */

/* MSRs whose guest values live in the VMCS or in registers the host never uses. */
static const u32 passthrough_msrs[] = {
	MSR_IA32_SYSENTER_CS, MSR_IA32_SYSENTER_ESP,   MSR_IA32_SYSENTER_EIP, MSR_IA32_FS_BASE,
	MSR_IA32_GS_BASE,     MSR_IA32_KERNEL_GS_BASE, MSR_IA32_STAR,	      MSR_IA32_LSTAR,
	MSR_IA32_CSTAR,	      MSR_IA32_FMASK,	       MSR_IA32_TSC_AUX,
};

static void msr_bitmap_allow(u32 msr)
{
	u32 base = msr >= MSR_HIGH_BASE ? MSR_BITMAP_READ_HIGH : MSR_BITMAP_READ_LOW;
	u32 bit = msr & 0x1fff;

	msr_bitmap[base + bit / 8] &= ~(1 << (bit % 8));
	msr_bitmap[base + MSR_BITMAP_WRITE_LOW + bit / 8] &= ~(1 << (bit % 8));
}

static void msr_bitmap_init(void)
{
	static spinlock_t lock;

	spin_lock(&lock);
	if (!msr_bitmap) {
		u8 *b = page_alloc_zeroed(PAGE_SIZE, PAGE_SIZE, 0);
		memset(b, 0xff, PAGE_SIZE); /* everything exits... */
		msr_bitmap = b;
		for (u32 i = 0; i < ARRAY_SIZE(passthrough_msrs); i++)
			msr_bitmap_allow(passthrough_msrs[i]); /* ...but these */
	}
	spin_unlock(&lock);
}

/* One control field through the allowed-0/allowed-1 rule; -ENOTSUP if required bits are missing. */
static int set_ctls(const char *what, u32 required, u32 optional, u64 cap, u32 *out)
{
	if (vmx_adjust_ctls(required, optional, cap, out) == 0)
		return 0;
	pr_err("vmx: %s controls: required bits 0x%x not allowed (capability 0x%016llx)", what,
	       required & ~(u32)(cap >> 32), (unsigned long long)cap);
	return -ENOTSUP;
}

static int setup_controls(void)
{
	const struct vmx_caps *c = &vmx_caps;
	u32 pin, proc, proc2, exit, entry;
	int err = 0;

	/* The preemption timer runs the guest's APIC timer where the CPU has it;
	 * guest NMI blocking is the CPU's where it has virtual NMIs (nmi.c). */
	err |= set_ctls("pin-based",
			PIN_BASED_EXT_INTR_MASK | PIN_BASED_NMI_EXITING |
			    (vmx_virtual_nmis() ? PIN_BASED_VIRTUAL_NMIS : 0),
			PIN_BASED_VMX_PREEMPTION_TIMER, c->pin_ctls, &pin);
	err |= set_ctls("processor-based",
			CPU_BASED_HLT_EXITING | CPU_BASED_UNCOND_IO_EXITING |
			    CPU_BASED_USE_MSR_BITMAPS | CPU_BASED_MWAIT_EXITING |
			    CPU_BASED_MONITOR_EXITING | CPU_BASED_RDPMC_EXITING |
			    /* MOV CR8 would write the physical TPR and could mask our kicks */
			    CPU_BASED_CR8_LOAD_EXITING | CPU_BASED_CR8_STORE_EXITING |
			    CPU_BASED_ACTIVATE_SECONDARY_CONTROLS,
			0, c->proc_ctls, &proc);
	err |= set_ctls("secondary",
			SECONDARY_EXEC_ENABLE_EPT | SECONDARY_EXEC_ENABLE_VPID |
			    SECONDARY_EXEC_UNRESTRICTED_GUEST | SECONDARY_EXEC_WBINVD_EXITING,
			SECONDARY_EXEC_ENABLE_RDTSCP | SECONDARY_EXEC_ENABLE_INVPCID, c->proc2_ctls,
			&proc2);
	/* DR7 and IA32_DEBUGCTL are the guest's: saved at exit, loaded at entry
	 * (SDM 27.3.1, 26.3.2.1); a VM exit sets DR7 to 0x400 for the host. */
	err |= set_ctls("VM-exit",
			VM_EXIT_SAVE_DEBUG_CONTROLS | VM_EXIT_HOST_ADDR_SPACE_SIZE |
			    VM_EXIT_ACK_INTR_ON_EXIT | VM_EXIT_SAVE_IA32_PAT |
			    VM_EXIT_LOAD_IA32_PAT | VM_EXIT_SAVE_IA32_EFER | VM_EXIT_LOAD_IA32_EFER,
			0, c->exit_ctls, &exit);
	err |= set_ctls("VM-entry",
			VM_ENTRY_LOAD_DEBUG_CONTROLS | VM_ENTRY_LOAD_IA32_PAT |
			    VM_ENTRY_LOAD_IA32_EFER,
			0, c->entry_ctls, &entry);
	if (err)
		return -ENOTSUP;
	/* CR3-load/store exiting may be forced on without true controls; EPT does not need them. */
	vmcs_write32(PIN_BASED_VM_EXEC_CONTROL, pin);
	vmcs_write32(CPU_BASED_VM_EXEC_CONTROL, proc);
	vmcs_write32(SECONDARY_VM_EXEC_CONTROL, proc2);
	vmcs_write32(VM_EXIT_CONTROLS, exit);
	vmcs_write32(VM_ENTRY_CONTROLS, entry);
	vmcs_write32(EXCEPTION_BITMAP, 0);
	vmcs_write32(PAGE_FAULT_ERROR_CODE_MASK, 0);
	vmcs_write32(PAGE_FAULT_ERROR_CODE_MATCH, 0);
	vmcs_write32(CR3_TARGET_COUNT, 0);
	vmcs_write32(VM_EXIT_MSR_STORE_COUNT, 0);
	vmcs_write32(VM_EXIT_MSR_LOAD_COUNT, 0);
	vmcs_write32(VM_ENTRY_MSR_LOAD_COUNT, 0);
	vmcs_write64(MSR_BITMAP, (u64)(uintptr_t)msr_bitmap);
	vmcs_write64(TSC_OFFSET, 0);
	vmcs_write64(VMCS_LINK_POINTER, ~0ULL);
	return 0;
}

/* Host state (SDM 24.5): this CPU's descriptor tables and stack, vmx_exit as RIP. */
static void setup_host_state(void)
{
	struct percpu *pc = this_cpu();
	struct desc_ptr gdtr, idtr;

	asm volatile("sgdt %0; sidt %1" : "=m"(gdtr), "=m"(idtr));
	vmcs_writel(HOST_CR0, read_cr0());
	vmcs_writel(HOST_CR3, read_cr3());
	vmcs_writel(HOST_CR4, read_cr4());
	vmcs_write16(HOST_CS_SELECTOR, GDT_KERNEL_CS);
	vmcs_write16(HOST_SS_SELECTOR, GDT_KERNEL_DS);
	vmcs_write16(HOST_DS_SELECTOR, GDT_KERNEL_DS);
	vmcs_write16(HOST_ES_SELECTOR, GDT_KERNEL_DS);
	vmcs_write16(HOST_FS_SELECTOR, 0);
	vmcs_write16(HOST_GS_SELECTOR, 0);
	vmcs_write16(HOST_TR_SELECTOR, GDT_TSS);
	vmcs_writel(HOST_FS_BASE, 0);
	vmcs_writel(HOST_GS_BASE, (u64)(uintptr_t)pc);
	vmcs_writel(HOST_TR_BASE, (u64)(uintptr_t)&pc->tss);
	vmcs_writel(HOST_GDTR_BASE, gdtr.base);
	vmcs_writel(HOST_IDTR_BASE, idtr.base);
	vmcs_write32(HOST_IA32_SYSENTER_CS, 0);
	vmcs_writel(HOST_IA32_SYSENTER_ESP, 0);
	vmcs_writel(HOST_IA32_SYSENTER_EIP, 0);
	vmcs_write64(HOST_IA32_PAT, rdmsr(MSR_IA32_PAT));
	vmcs_write64(HOST_IA32_EFER, rdmsr(MSR_IA32_EFER));
	vmcs_writel(HOST_RIP, (u64)(uintptr_t)vmx_exit);
}

/*
 * DR0-DR3 and DR6 are not in the VMCS: the guest's stay in the registers of
 * the CPU its vCPU is pinned to (the hypervisor never uses them), so a reset
 * clears them there (SDM Vol. 3 Table 10-1).
 */
static void reset_debug_registers(void)
{
	u64 zero = 0, dr6 = RESET_DR6;

	asm volatile("mov %0, %%db0; mov %0, %%db1; mov %0, %%db2; mov %0, %%db3; mov %1, %%db6"
		     :
		     : "r"(zero), "r"(dr6));
}

#define SET_SEG(seg, sel, base, limit, ar)                 \
	do {                                               \
		vmcs_write16(GUEST_##seg##_SELECTOR, sel); \
		vmcs_writel(GUEST_##seg##_BASE, base);     \
		vmcs_write32(GUEST_##seg##_LIMIT, limit);  \
		vmcs_write32(GUEST_##seg##_AR_BYTES, ar);  \
	} while (0)

void vmx_reset_guest_state(struct vcpu *vc, bool sipi, u32 vector)
{
	struct vcpu_arch *a = &vc->arch;

	memset(&a->regs, 0, sizeof(a->regs));
	a->regs.rdx = cpuid(1, 0).eax; /* processor signature */
	if (sipi)
		SET_SEG(CS, vector << 8, (u64)vector << 12, RESET_LIMIT, AR_CODE_RX_ACCESSED);
	else
		SET_SEG(CS, RESET_CS_SELECTOR, RESET_CS_BASE, RESET_LIMIT, AR_CODE_RX_ACCESSED);
	SET_SEG(DS, 0, 0, RESET_LIMIT, AR_DATA_RW_ACCESSED);
	SET_SEG(ES, 0, 0, RESET_LIMIT, AR_DATA_RW_ACCESSED);
	SET_SEG(FS, 0, 0, RESET_LIMIT, AR_DATA_RW_ACCESSED);
	SET_SEG(GS, 0, 0, RESET_LIMIT, AR_DATA_RW_ACCESSED);
	SET_SEG(SS, 0, 0, RESET_LIMIT, AR_DATA_RW_ACCESSED);
	SET_SEG(LDTR, 0, 0, RESET_LIMIT, AR_LDT);
	SET_SEG(TR, 0, 0, RESET_LIMIT, AR_TSS_BUSY_32);
	vmcs_writel(GUEST_GDTR_BASE, 0);
	vmcs_write32(GUEST_GDTR_LIMIT, RESET_LIMIT);
	vmcs_writel(GUEST_IDTR_BASE, 0);
	vmcs_write32(GUEST_IDTR_LIMIT, RESET_LIMIT);
	vmcs_writel(GUEST_RIP, sipi ? 0 : RESET_RIP);
	vmcs_writel(GUEST_RSP, 0);
	vmcs_writel(GUEST_RFLAGS, RESET_RFLAGS);
	vmcs_writel(GUEST_DR7, RESET_DR7);
	reset_debug_registers();
	vmcs_writel(GUEST_PENDING_DBG_EXCEPTIONS, 0);
	vmcs_write32(GUEST_INTERRUPTIBILITY_INFO, 0);
	vmcs_write32(GUEST_ACTIVITY_STATE, GUEST_ACTIVITY_ACTIVE);
	vmcs_write32(VM_ENTRY_INTR_INFO_FIELD, 0);
	vmcs_write64(GUEST_IA32_EFER, 0);
	vmcs_write64(GUEST_IA32_PAT, RESET_PAT);
	vmcs_write64(GUEST_IA32_DEBUGCTL, 0);
	vmcs_write32(GUEST_SYSENTER_CS, 0);
	vmcs_writel(GUEST_SYSENTER_ESP, 0);
	vmcs_writel(GUEST_SYSENTER_EIP, 0);
	/* Leaving IA-32e mode: clear the entry control (SDM 26.2.1.3 ties it to EFER.LMA). */
	vmcs_write32(VM_ENTRY_CONTROLS, vmcs_read32(VM_ENTRY_CONTROLS) & ~VM_ENTRY_IA32E_MODE);
	/* CR0.NE and CR4.VMXE are forced on in VMX operation; the guest sees its own values. */
	vmcs_writel(CR0_READ_SHADOW, RESET_CR0);
	vmcs_writel(GUEST_CR0,
		    vmx_fixed_cr(RESET_CR0, vmx_caps.cr0_fixed0 & ~(X86_CR0_PE | X86_CR0_PG),
				 vmx_caps.cr0_fixed1));
	vmcs_writel(CR4_READ_SHADOW, 0);
	vmcs_writel(GUEST_CR4, vmx_fixed_cr(0, vmx_caps.cr4_fixed0, vmx_caps.cr4_fixed1));
	vmcs_writel(GUEST_CR3, 0);
	/* The guest's syscall MSRs are passed through: start them clean. */
	wrmsr(MSR_IA32_STAR, 0);
	wrmsr(MSR_IA32_LSTAR, 0);
	wrmsr(MSR_IA32_CSTAR, 0);
	wrmsr(MSR_IA32_FMASK, 0);
	wrmsr(MSR_IA32_KERNEL_GS_BASE, 0);
	if (cpu_has_rdtscp())
		wrmsr(MSR_IA32_TSC_AUX, 0);
	a->apic_base = XAPIC_DEFAULT_BASE | MSR_IA32_APIC_BASE_EN_BIT |
		       (vc->index == 0 ? MSR_IA32_APIC_BASE_BSP_BIT : 0);
	a->xcr0 = 1; /* x87 only, as at power-up; the hardware register is this vCPU's */
	if (read_cr4() & X86_CR4_OSXSAVE)
		xsetbv_safe(0, a->xcr0);
	vmx_nmi_reset(vc);
	vlapic_reset(&vc->lapic, vc->index, &vcpu_vlapic_ops, vc);
	apicv_reset(vc);
	a->timer_armed = false;
	if (cpu_has_preemption_timer(&vmx_caps)) /* no deadline: as far out as it goes */
		vmcs_write32(VMX_PREEMPTION_TIMER_VALUE, 0xffffffff);
	vmcs_write32(CPU_BASED_VM_EXEC_CONTROL,
		     vmcs_read32(CPU_BASED_VM_EXEC_CONTROL) & ~CPU_BASED_INTR_WINDOW_EXITING);
	a->window_requested = false;
}

/* INVVPID/INVEPT types (SDM Vol. 3 30.3, "INVVPID", "INVEPT"). */
#define INVVPID_SINGLE_CONTEXT 1
#define INVVPID_ALL_CONTEXT    2
#define INVEPT_SINGLE_CONTEXT  1
#define INVEPT_ALL_CONTEXT     2

static void invvpid(u64 type, u16 vpid)
{
	struct {
		u64 vpid, addr;
	} desc = { vpid, 0 };

	asm volatile("invvpid %0, %1" : : "m"(desc), "r"(type) : "cc", "memory");
}

static void invept(u64 type, u64 eptp)
{
	struct {
		u64 eptp, reserved;
	} desc = { eptp, 0 };

	asm volatile("invept %0, %1" : : "m"(desc), "r"(type) : "cc", "memory");
}

/*
 * A reset must not leave TLB entries behind: VM entry keeps VPID-tagged
 * translations (SDM 29.4.3.3), and a reset CPU would have none.
 */
static void flush_guest_tlb(struct vcpu *vc)
{
	if (cpu_has_invvpid_single(&vmx_caps))
		invvpid(INVVPID_SINGLE_CONTEXT, vc->arch.vpid);
	else if (cpu_has_invvpid_global(&vmx_caps))
		invvpid(INVVPID_ALL_CONTEXT, 0);
	if (cpu_has_invept_single(&vmx_caps))
		invept(INVEPT_SINGLE_CONTEXT, ept_pointer(&vc->vsi->ept, false));
	else if (cpu_has_invept_global(&vmx_caps))
		invept(INVEPT_ALL_CONTEXT, 0);
}

int vcpu_arch_init(struct vcpu *vc)
{
	struct vcpu_arch *a = &vc->arch;
	u32 *vmcs;
	int err;

	msr_bitmap_init();
	vmcs = page_alloc_zeroed(vmx_caps.vmcs_size, PAGE_SIZE, 0);
	vmcs[0] = vmx_caps.revision; /* SDM 24.2 */
	a->vmcs = (u64)(uintptr_t)vmcs;
	a->vpid = (u16)(vc->vsi->id * 64 + vc->index + 1); /* 0 is the host's */
	err = vmcs_clear(a->vmcs);
	if (!err)
		err = vmcs_load(a->vmcs);
	if (err)
		return err;
	a->launched = false;
	err = setup_controls();
	if (err)
		return err;
	setup_host_state();
	vmcs_write16(VIRTUAL_PROCESSOR_ID, a->vpid);
	vmcs_write64(EPT_POINTER, ept_pointer(&vc->vsi->ept, false));
	/* Bits the hypervisor owns: reads come from the shadow, writes exit. */
	vmcs_writel(CR0_GUEST_HOST_MASK, X86_CR0_NE);
	vmcs_writel(CR4_GUEST_HOST_MASK,
		    X86_CR4_VMXE | X86_CR4_SMXE | (~vmx_caps.cr4_fixed1 & 0xffffffffULL));
	err = apicv_vcpu_init(vc);
	if (err)
		return err;
	vmx_reset_guest_state(vc, false, 0);
	return 0;
}

/* A fixed interrupt waits in the model (or, with APICv, for the CPU). */
static bool irq_pending(struct vcpu *vc)
{
	return apicv_active(vc) ? apicv_pending(vc) >= 0 : vlapic_pending(&vc->lapic) >= 0;
}

/* Inject the highest fixed interrupt if the guest can take it; else want its window. */
static bool inject_irq(struct vcpu *vc, u32 intr)
{
	int vector = apicv_active(vc) ? -1 : vlapic_pending(&vc->lapic);

	if (vector < 0)
		return false;
	/* A #DB trap left pending (vmx_complete_instruction()) comes before an
	 * interrupt (SDM 6.9): the window exit follows its delivery. */
	if (!(vmcs_readl(GUEST_RFLAGS) & X86_RFLAGS_IF) ||
	    (intr & (GUEST_INTR_STATE_STI | GUEST_INTR_STATE_MOV_SS)) ||
	    (vmcs_readl(GUEST_PENDING_DBG_EXCEPTIONS) & PENDING_DBG_DELIVERABLE))
		return true;
	vlapic_ack(&vc->lapic, (u32)vector);
	vmcs_write32(VM_ENTRY_INTR_INFO_FIELD,
		     INTR_INFO_VALID_BIT | INTR_TYPE_EXT_INTR | (u32)vector);
	/* A halted guest that takes an interrupt runs again (SDM 26.6.2). */
	if (vmcs_read32(GUEST_ACTIVITY_STATE) != GUEST_ACTIVITY_ACTIVE)
		vmcs_write32(GUEST_ACTIVITY_STATE, GUEST_ACTIVITY_ACTIVE);
	return false;
}

/*
 * Turn a primary processor-based control on or off; *cur caches its state
 * so that an unchanged control costs no VMREAD or VMWRITE on the entry path.
 */
void vmx_set_exec_control(u32 bit, bool on, bool *cur)
{
	u32 proc;

	if (on == *cur)
		return;
	proc = vmcs_read32(CPU_BASED_VM_EXEC_CONTROL);
	vmcs_write32(CPU_BASED_VM_EXEC_CONTROL, on ? proc | bit : proc & ~bit);
	*cur = on;
}

static void set_irq_window(struct vcpu *vc, bool on)
{
	vmx_set_exec_control(CPU_BASED_INTR_WINDOW_EXITING, on, &vc->arch.window_requested);
}

/*
 * Inject what is pending and allowed now, the NMI first (SDM 6.9 priority);
 * ask for the interrupt or NMI window otherwise. With APICv the CPU
 * delivers fixed interrupts itself (RVI, apicv_before_entry()).
 */
static void inject_pending(struct vcpu *vc)
{
	struct vcpu_arch *a = &vc->arch;
	bool want_irq_window = false;

	if (!a->pending_nmi && !a->window_requested && !a->nmi_window &&
	    (apicv_active(vc) || vlapic_pending(&vc->lapic) < 0))
		return; /* the common case */
	if (vmcs_read32(VM_ENTRY_INTR_INFO_FIELD) & INTR_INFO_VALID_BIT) {
		/* An event is queued already: come back right after its delivery. */
		if (vmx_nmi_after_queued(vc))
			set_irq_window(vc, true);
		return;
	}
	if (vmx_nmi_inject(vc, &want_irq_window)) {
		/* Fixed interrupts wait until the NMI handler opens a window. */
		want_irq_window = !apicv_active(vc) && vlapic_pending(&vc->lapic) >= 0;
	} else if (inject_irq(vc, vmcs_read32(GUEST_INTERRUPTIBILITY_INFO))) {
		want_irq_window = true;
	}
	set_irq_window(vc, want_irq_window);
}

/*
 * The guest's APIC timer: fire what is due, then make sure the CPU leaves
 * the guest when the next deadline comes: through the VMX preemption timer,
 * or this CPU's own LAPIC timer (an external-interrupt exit) without one.
 */
static void arm_guest_timer(struct vcpu *vc)
{
	struct vcpu_arch *a = &vc->arch;
	u64 now = rdtsc(), dl = vlapic_timer_poll(&vc->lapic, now);

	if (!dl && !a->timer_armed)
		return;
	a->timer_armed = dl != 0;
	if (cpu_has_preemption_timer(&vmx_caps)) {
		u32 shift = vmx_caps.preemption_timer_rate;
		u64 ticks = dl ? (dl > now ? (dl - now) >> shift : 0) : 0xffffffffULL;
		vmcs_write32(VMX_PREEMPTION_TIMER_VALUE, (u32)MIN(ticks, 0xffffffffULL));
	} else if (dl) {
		lapic_timer_oneshot_tsc(VECTOR_KICK, dl > now ? dl - now : 0);
	} else {
		lapic_timer_stop();
	}
}

void vmx_wait_for_work(struct vcpu *vc, bool irq_can_wake)
{
	const struct vcpu_arch *a = &vc->arch;

	/* Checked with interrupts off; "sti; hlt" cannot miss a kick sent after the check. */
	while (vc->vsi->request == VSI_REQ_NONE && !a->init_pending) {
		if (vc->run_state == VCPU_RUNNING && vmx_nmi_can_wake(vc))
			return;
		u64 now = rdtsc(), dl = 0;
		if (vc->run_state == VCPU_RUNNING)
			dl = vlapic_timer_poll(&vc->lapic, now);
		if (irq_can_wake && irq_pending(vc))
			return;
		if (vc->run_state == VCPU_WAIT_SIPI && a->sipi_vector != ~0U)
			return;
		if (dl) /* the guest's timer wakes us through this CPU's own */
			lapic_timer_oneshot_tsc(VECTOR_KICK, dl > now ? dl - now : 0);
		asm volatile("sti; hlt; cli" ::: "memory");
	}
}

static void report_entry_failure(struct vcpu *vc, int rc)
{
	if (rc == 1) {
		u32 err = vmcs_read32(VM_INSTRUCTION_ERROR);
		vsi_fault(vc, "VM entry failed: VM-instruction error %u (%s)", err,
			  vmx_insn_error_name(err));
	} else {
		vsi_fault(vc, "VM entry failed: VMfailInvalid (no current VMCS)");
	}
	pr_err("vmx: controls pin 0x%08x proc 0x%08x proc2 0x%08x exit 0x%08x entry 0x%08x",
	       vmcs_read32(PIN_BASED_VM_EXEC_CONTROL), vmcs_read32(CPU_BASED_VM_EXEC_CONTROL),
	       vmcs_read32(SECONDARY_VM_EXEC_CONTROL), vmcs_read32(VM_EXIT_CONTROLS),
	       vmcs_read32(VM_ENTRY_CONTROLS));
	vmcs_dump_guest();
}

void vcpu_arch_run(struct vcpu *vc)
{
	struct vcpu_arch *a = &vc->arch;

	for (;;) {
		if (vc->vsi->request != VSI_REQ_NONE)
			return;
		if (a->init_pending) { /* INIT: back to wait-for-SIPI (SDM 10.4.7.3) */
			a->init_pending = 0;
			vc->run_state = VCPU_WAIT_SIPI;
		}
		if (vc->run_state == VCPU_WAIT_SIPI) {
			if (a->sipi_vector == ~0U) {
				vmx_wait_for_work(vc, false);
				continue;
			}
			flush_guest_tlb(vc); /* INIT empties the TLBs (SDM 10.1.1) */
			vmx_reset_guest_state(vc, true, a->sipi_vector);
			a->sipi_vector = ~0U;
			vc->run_state = VCPU_RUNNING;
		}
		arm_guest_timer(vc);
		inject_pending(vc);
		if (apicv_before_entry(vc)) /* after inject_pending(): it sees what is injected */
			set_irq_window(vc, true);
		if (!a->launched && vc->vsi->id == 0 && vc->index == 0 &&
		    selftest_enabled("bad-guest-state"))
			vmcs_writel(GUEST_RFLAGS, 0); /* bit 1 must be 1: the entry must fail */
		int rc = vmx_enter(&a->regs, a->launched);
		if (rc) {
			report_entry_failure(vc, rc);
			return;
		}
		a->launched = true;
		vmx_nmi_after_exit(vc);
		u32 reason = vmcs_read32(VM_EXIT_REASON);
		if (vmx_handle_exit(vc, reason) == EXIT_LEAVE)
			return;
	}
}

void vcpu_kick(struct vcpu *vc)
{
	if (vc->pcpu != cpu_id())
		lapic_send_ipi(cpus[vc->pcpu]->apic_id, APIC_ICR_DM_FIXED | VECTOR_KICK);
}

void vcpu_deliver(struct vcpu *t, u32 mode, u32 vector)
{
	struct vcpu_arch *a = &t->arch;

	if (t->lapic.disabled)
		return; /* a disabled local APIC receives no IPIs (SDM 11.4.3) */
	switch (mode) {
	case 0: /* fixed; vectors 0-15 are illegal (SDM 11.5.2): dropped */
		if (!vlapic_accept(&t->lapic, vector, false))
			return;
		break;
	case 4: /* NMI */
		a->pending_nmi = 1;
		break;
	case 5: /* INIT: the BSP ignores it here; an AP goes back to wait-for-SIPI */
		if (t->index == 0)
			return;
		a->sipi_vector = ~0U;
		a->init_pending = 1;
		break;
	case 6: /* SIPI: only a CPU waiting for one takes it */
		if (t->run_state != VCPU_WAIT_SIPI && !a->init_pending)
			return;
		a->sipi_vector = vector;
		break;
	default: /* SMI, lowest priority, ExtINT: not on this platform */
		return;
	}
	vcpu_kick(t);
}

void vcpu_deliver_fixed(struct vcpu *t, u32 vector, bool level)
{
	if (vlapic_accept(&t->lapic, vector, level))
		vcpu_kick(t);
}

const char *vcpu_arch_exit_name(u32 reason)
{
	return vmx_exit_reason_name(reason);
}

void vcpu_arch_reset(struct vcpu *vc)
{
	flush_guest_tlb(vc);
	vmx_reset_guest_state(vc, false, 0);
	vc->arch.sipi_vector = ~0U;
	vc->arch.init_pending = 0;
}

u64 vsi_arch_apic_access_page(void)
{
	return apicv_access_page();
}

void vsi_arch_ept_caps(bool *use_2m, bool *use_1g)
{
	*use_2m = cpu_has_ept_2m(&vmx_caps);
	*use_1g = cpu_has_ept_1g(&vmx_caps);
}
