/*
 * APIC virtualisation for xAPIC guests (asm/apicv.h). The local APIC model
 * (kernel/vdev/vlapic.c) keeps the registers; the virtual-APIC page mirrors
 * them for the CPU to read, and owns IRR, ISR and TPR while active:
 *
 *  - interrupts from any CPU land in the model's IRR, which serves as an
 *    inbox; before each VM entry this CPU moves the one the guest takes at
 *    that entry into the page and RVI, and the CPU delivers it (asm/vintr.h);
 *  - EOI and TPR writes are virtualised by the CPU; an EOI of a
 *    level-triggered vector (EOI-exit bitmap) exits, for the I/O APIC, and
 *    so does every EOI while vectors wait in the inbox;
 *  - writes to the other registers exit after the fact (APIC-write) and go
 *    to the model, whose result is copied back to the page;
 *  - accesses the CPU does not virtualise (the timer's current count) exit
 *    as APIC-access exits and are decoded like any MMIO.
 */
#include <asm/apicv.h>
#include <asm/cpu.h>
#include <asm/msr.h>
#include <asm/paging.h>
#include <asm/spinlock.h>
#include <asm/vintr.h>
#include <asm/vmcs.h>
#include <asm/vmx.h>
#include <asm/vmx_exit.h>
#include <asm/vmx_vcpu.h>
#include <hv/errno.h>
#include <hv/kernel.h>
#include <hv/log.h>
#include <hv/string.h>

#define APICV_PROC2                                                                    \
	(SECONDARY_EXEC_VIRTUALIZE_APIC_ACCESSES | SECONDARY_EXEC_APIC_REGISTER_VIRT | \
	 SECONDARY_EXEC_VIRTUAL_INTR_DELIVERY)
#define APICV_ACTIVE_PROC2 \
	(SECONDARY_EXEC_APIC_REGISTER_VIRT | SECONDARY_EXEC_VIRTUAL_INTR_DELIVERY)

/* Registers the model owns and the CPU reads from the page. */
static const u32 mirrored[] = {
	VLAPIC_ID,	  VLAPIC_VERSION,   VLAPIC_LDR,	     VLAPIC_DFR,
	VLAPIC_SVR,	  VLAPIC_ESR,	    VLAPIC_ICR_LOW,  VLAPIC_ICR_HIGH,
	VLAPIC_LVT_TIMER, VLAPIC_LVT_THERM, VLAPIC_LVT_PERF, VLAPIC_LVT_LINT0,
	VLAPIC_LVT_LINT1, VLAPIC_LVT_ERROR, VLAPIC_TMICT,    VLAPIC_TDCR,
};

static u64 access_page;
static int enabled = -1;

static volatile u32 *reg(const struct vcpu *vc, u32 offset)
{
	return (volatile u32 *)(uintptr_t)(vc->arch.vapic + offset);
}

bool apicv_enabled(void)
{
	char v[8];

	if (enabled < 0) {
		bool off =
		    cmdline_get(boot_info.cmdline, "apicv", v, sizeof(v)) && !strcmp(v, "off");
		enabled = !off && (vmx_caps.proc_allowed1 & CPU_BASED_TPR_SHADOW) &&
			  (vmx_caps.proc2_allowed1 & APICV_PROC2) == APICV_PROC2;
	}
	return enabled;
}

u64 apicv_access_page(void)
{
	static spinlock_t lock;

	if (!apicv_enabled())
		return 0;
	spin_lock(&lock);
	if (!access_page)
		access_page = (u64)(uintptr_t)page_alloc_zeroed(PAGE_SIZE, PAGE_SIZE, 0);
	spin_unlock(&lock);
	return access_page;
}

bool apicv_active(const struct vcpu *vc)
{
	return vc->arch.apicv_on;
}

int apicv_vcpu_init(struct vcpu *vc)
{
	if (!apicv_enabled())
		return 0;
	vc->arch.vapic = (u64)(uintptr_t)page_alloc_zeroed(PAGE_SIZE, PAGE_SIZE, 0);
	if (!vc->arch.vapic || !apicv_access_page())
		return -ENOMEM;
	vmcs_write64(VIRTUAL_APIC_PAGE_ADDR, vc->arch.vapic);
	vmcs_write64(APIC_ACCESS_ADDR, access_page);
	vmcs_write32(TPR_THRESHOLD, 0);
	/* Always on: the access page is in the EPT, so every access must be virtualised or exit. */
	vmcs_write32(SECONDARY_VM_EXEC_CONTROL, vmcs_read32(SECONDARY_VM_EXEC_CONTROL) |
						    SECONDARY_EXEC_VIRTUALIZE_APIC_ACCESSES);
	return 0;
}

/* Switch the page in (xAPIC mode) or out (x2APIC, disabled APIC). */
static void set_active(struct vcpu *vc, bool on)
{
	u32 proc = vmcs_read32(CPU_BASED_VM_EXEC_CONTROL);
	u32 proc2 = vmcs_read32(SECONDARY_VM_EXEC_CONTROL);
	struct vlapic *l = &vc->lapic;

	if (on == vc->arch.apicv_on)
		return;
	if (!on) { /* the page's IRR, ISR and TPR go back to the model */
		for (u32 i = 0; i < 8; i++) {
			__atomic_or_fetch(&l->irr[i], *reg(vc, VLAPIC_IRR + 16 * i),
					  __ATOMIC_SEQ_CST);
			l->isr[i] = *reg(vc, VLAPIC_ISR + 16 * i);
		}
		l->tpr = *reg(vc, VLAPIC_TPR) & 0xff;
		proc = (proc & ~CPU_BASED_TPR_SHADOW) | CPU_BASED_CR8_LOAD_EXITING |
		       CPU_BASED_CR8_STORE_EXITING;
		proc2 &= ~APICV_ACTIVE_PROC2;
	} else { /* the model's go to the page */
		memset((void *)(uintptr_t)vc->arch.vapic, 0, PAGE_SIZE);
		for (u32 i = 0; i < 8; i++) {
			*reg(vc, VLAPIC_IRR + 16 * i) =
			    __atomic_exchange_n(&l->irr[i], 0, __ATOMIC_SEQ_CST);
			*reg(vc, VLAPIC_ISR + 16 * i) = l->isr[i];
		}
		*reg(vc, VLAPIC_TPR) = l->tpr;
		proc = (proc | CPU_BASED_TPR_SHADOW) &
		       ~(CPU_BASED_CR8_LOAD_EXITING | CPU_BASED_CR8_STORE_EXITING);
		proc2 |= APICV_ACTIVE_PROC2;
		vc->arch.apicv_dirty = true;
		for (u32 i = 0; i < 8; i++)
			vc->arch.apicv_tmr[i] = ~l->tmr[i]; /* forces the EOI-exit bitmap out */
	}
	vmcs_write32(CPU_BASED_VM_EXEC_CONTROL, proc);
	vmcs_write32(SECONDARY_VM_EXEC_CONTROL, proc2);
	vc->arch.apicv_on = on;
}

static bool wants_page(const struct vcpu *vc)
{
	/* From IA32_APIC_BASE alone: a mode change takes the page out before the model changes. */
	return apicv_enabled() &&
	       (vc->arch.apic_base & (MSR_IA32_APIC_BASE_EN_BIT | MSR_IA32_APIC_BASE_EXTD_BIT)) ==
		   MSR_IA32_APIC_BASE_EN_BIT;
}

void apicv_reset(struct vcpu *vc)
{
	if (!apicv_enabled())
		return;
	vc->arch.apicv_on = false; /* the model was just reset: nothing to take back */
	vmcs_write32(CPU_BASED_VM_EXEC_CONTROL, vmcs_read32(CPU_BASED_VM_EXEC_CONTROL) |
						    CPU_BASED_CR8_LOAD_EXITING |
						    CPU_BASED_CR8_STORE_EXITING);
	vmcs_write32(CPU_BASED_VM_EXEC_CONTROL,
		     vmcs_read32(CPU_BASED_VM_EXEC_CONTROL) & ~CPU_BASED_TPR_SHADOW);
	vmcs_write32(SECONDARY_VM_EXEC_CONTROL,
		     vmcs_read32(SECONDARY_VM_EXEC_CONTROL) & ~APICV_ACTIVE_PROC2);
	vmcs_write16(GUEST_INTR_STATUS, 0);
	set_active(vc, wants_page(vc));
}

void apicv_mode_changed(struct vcpu *vc)
{
	if (apicv_enabled())
		set_active(vc, wants_page(vc));
}

void apicv_mark_dirty(struct vcpu *vc)
{
	vc->arch.apicv_dirty = true;
}

static int highest(const struct vcpu *vc, u32 base)
{
	for (int w = 7; w >= 0; w--) {
		u32 x = *reg(vc, base + 16 * w);
		if (x)
			return w * 32 + 31 - __builtin_clz(x);
	}
	return -1;
}

/* EOI-exit bitmap n covers vectors 64n..64n+63 (the field names must be constants). */
static void update_eoi_exit(u32 n, u64 bits)
{
	switch (n) {
	case 0:
		vmcs_write64(EOI_EXIT_BITMAP0, bits);
		break;
	case 1:
		vmcs_write64(EOI_EXIT_BITMAP1, bits);
		break;
	case 2:
		vmcs_write64(EOI_EXIT_BITMAP2, bits);
		break;
	default:
		vmcs_write64(EOI_EXIT_BITMAP3, bits);
		break;
	}
}

/* The guest takes an interrupt at this entry if one is deliverable (SDM 26.7.5). */
static bool guest_can_take(void)
{
	return (vmcs_readl(GUEST_RFLAGS) & X86_RFLAGS_IF) &&
	       !(vmcs_read32(GUEST_INTERRUPTIBILITY_INFO) &
		 (GUEST_INTR_STATE_STI | GUEST_INTR_STATE_MOV_SS)) &&
	       !(vmcs_readl(GUEST_PENDING_DBG_EXCEPTIONS) & PENDING_DBG_DELIVERABLE) &&
	       !(vmcs_read32(VM_ENTRY_INTR_INFO_FIELD) & INTR_INFO_VALID_BIT) &&
	       vmcs_read32(GUEST_ACTIVITY_STATE) == GUEST_ACTIVITY_ACTIVE;
}

/* Level-triggered vectors exit on EOI, for the I/O APIC; while vectors are held, all do. */
static void sync_eoi_exit(struct vcpu *vc, bool all)
{
	struct vlapic *l = &vc->lapic;
	bool all_changed = all != vc->arch.apicv_eoi_all;

	vc->arch.apicv_eoi_all = all;
	for (u32 n = 0; n < 4; n++) {
		u32 lo = __atomic_load_n(&l->tmr[2 * n], __ATOMIC_RELAXED);
		u32 hi = __atomic_load_n(&l->tmr[2 * n + 1], __ATOMIC_RELAXED);
		if (!all_changed && lo == vc->arch.apicv_tmr[2 * n] &&
		    hi == vc->arch.apicv_tmr[2 * n + 1])
			continue;
		vc->arch.apicv_tmr[2 * n] = lo;
		vc->arch.apicv_tmr[2 * n + 1] = hi;
		*reg(vc, VLAPIC_TMR + 32 * n) = lo;
		*reg(vc, VLAPIC_TMR + 32 * n + 16) = hi;
		update_eoi_exit(n, all ? ~0ULL : ((u64)hi << 32) | lo);
	}
}

/*
 * Pending vectors (the page's IRR and the inbox) are chosen from anew at
 * every entry (asm/vintr.h): at most one goes to the page and RVI, the rest
 * back to the inbox. True if the interrupt window is wanted for them.
 */
bool apicv_before_entry(struct vcpu *vc)
{
	struct vlapic *l = &vc->lapic;
	struct vintr_choice c = { -1, false, false };
	u32 pending[8], any = 0;
	u64 now = 0;
	int svi;

	if (!vc->arch.apicv_on)
		return false;
	for (u32 i = 0; i < 8; i++) {
		pending[i] = *reg(vc, VLAPIC_IRR + 16 * i);
		if (__atomic_load_n(&l->irr[i], __ATOMIC_RELAXED))
			pending[i] |= __atomic_exchange_n(&l->irr[i], 0, __ATOMIC_SEQ_CST);
		any |= pending[i];
	}
	if (vc->arch.apicv_dirty) {
		vc->arch.apicv_dirty = false;
		for (u32 i = 0; i < ARRAY_SIZE(mirrored); i++)
			*reg(vc, mirrored[i]) = vlapic_read(l, mirrored[i], now);
	}
	svi = highest(vc, VLAPIC_ISR);
	if (any) {
		c = vintr_choose(pending, svi, guest_can_take());
		if (c.release >= 0)
			pending[c.release / 32] &= ~BIT(c.release % 32);
		for (u32 i = 0; i < 8; i++) {
			*reg(vc, VLAPIC_IRR + 16 * i) = 0;
			if (pending[i])
				__atomic_or_fetch(&l->irr[i], pending[i], __ATOMIC_SEQ_CST);
		}
		if (c.release >= 0)
			*reg(vc, VLAPIC_IRR + 16 * (c.release / 32)) = BIT(c.release % 32);
	}
	sync_eoi_exit(vc, c.held);
	/* Always written: the CPU changes RVI and SVI itself as it delivers and EOIs. */
	vmcs_write16(GUEST_INTR_STATUS,
		     (u16)((c.release < 0 ? 0 : (u32)c.release) | ((svi < 0 ? 0 : (u32)svi) << 8)));
	return c.irq_window;
}

int apicv_pending(const struct vcpu *vc)
{
	const struct vlapic *l = &vc->lapic;
	int irr = highest(vc, VLAPIC_IRR), isr = highest(vc, VLAPIC_ISR);
	u32 tpr = *reg(vc, VLAPIC_TPR) & 0xf0, ppr;

	for (int w = 7; w >= 0; w--) {
		u32 x = __atomic_load_n(&l->irr[w], __ATOMIC_ACQUIRE);
		if (x) {
			irr = MAX(irr, w * 32 + 31 - __builtin_clz(x));
			break;
		}
	}
	ppr = MAX(tpr, isr < 0 ? 0U : (u32)isr & 0xf0);
	return irr >= 0 && ((u32)irr & 0xf0) > ppr ? irr : -1;
}

/* APIC-write exit (SDM 30.4.3.3): the value is in the page; the model decides. */
enum exit_result apicv_handle_write(struct vcpu *vc)
{
	u32 offset = vmcs_readl(EXIT_QUALIFICATION) & 0xff0;
	struct vlapic *l = &vc->lapic;

	if (offset == VLAPIC_ICR_LOW)
		l->icr_high = *reg(vc, VLAPIC_ICR_HIGH) & 0xff000000;
	vlapic_write(l, offset, *reg(vc, offset), rdtsc());
	vc->arch.apicv_dirty = true;
	return EXIT_RESUME;
}

/* EOI-induced exit (SDM 30.1.4): a level-triggered vector's EOI goes to the I/O APIC. */
enum exit_result apicv_handle_eoi(struct vcpu *vc)
{
	u32 vector = vmcs_readl(EXIT_QUALIFICATION) & 0xff;
	bool level =
	    __atomic_load_n(&vc->lapic.tmr[vector / 32], __ATOMIC_ACQUIRE) & BIT(vector % 32);

	/* Edge vectors exit too while others are held: the next entry chooses again. */
	if (level && vc->lapic.ops && vc->lapic.ops->eoi_level)
		vc->lapic.ops->eoi_level(&vc->lapic, vector);
	return EXIT_RESUME;
}
