/*
 * The local APIC a vCPU sees (SDM Vol. 3 ch. 11), in xAPIC (MMIO page at
 * 0xFEE00000) and x2APIC (MSRs 0x800-0x8FF) form. Portable: the caller
 * routes register accesses here, supplies the TSC and delivers the IPIs
 * this model asks for. One vlapic belongs to one vCPU: every function runs
 * on that vCPU's CPU except vlapic_accept(), which any CPU may call.
 */
#ifndef HV_VLAPIC_H
#define HV_VLAPIC_H

#include <hv/types.h>

/* Register offsets in the xAPIC page; an x2APIC MSR is 0x800 + offset / 16. */
#define VLAPIC_ID	 0x020
#define VLAPIC_VERSION	 0x030
#define VLAPIC_TPR	 0x080
#define VLAPIC_APR	 0x090
#define VLAPIC_PPR	 0x0a0
#define VLAPIC_EOI	 0x0b0
#define VLAPIC_RRD	 0x0c0
#define VLAPIC_LDR	 0x0d0
#define VLAPIC_DFR	 0x0e0
#define VLAPIC_SVR	 0x0f0
#define VLAPIC_ISR	 0x100
#define VLAPIC_TMR	 0x180
#define VLAPIC_IRR	 0x200
#define VLAPIC_ESR	 0x280
#define VLAPIC_LVT_CMCI	 0x2f0
#define VLAPIC_ICR_LOW	 0x300
#define VLAPIC_ICR_HIGH	 0x310
#define VLAPIC_LVT_TIMER 0x320
#define VLAPIC_LVT_THERM 0x330
#define VLAPIC_LVT_PERF	 0x340
#define VLAPIC_LVT_LINT0 0x350
#define VLAPIC_LVT_LINT1 0x360
#define VLAPIC_LVT_ERROR 0x370
#define VLAPIC_TMICT	 0x380
#define VLAPIC_TMCCT	 0x390
#define VLAPIC_TDCR	 0x3e0
#define VLAPIC_SELF_IPI	 0x3f0 /* x2APIC only */

#define VLAPIC_NR_LVT 6 /* timer, thermal, perf, LINT0, LINT1, error */

/* Version register: version 0x14 (integrated), max LVT entry 5. */
#define VLAPIC_VERSION_VALUE (0x14 | ((VLAPIC_NR_LVT - 1) << 16))

#define VLAPIC_LVT_MASKED	 BIT(16)
#define VLAPIC_TIMER_MODE_SHIFT	 17
#define VLAPIC_TIMER_ONESHOT	 0
#define VLAPIC_TIMER_PERIODIC	 1
#define VLAPIC_TIMER_TSCDEADLINE 2
#define VLAPIC_SVR_ENABLE	 BIT(8)
#define VLAPIC_ESR_SEND_ILLEGAL	 BIT(5)
#define VLAPIC_ESR_RECV_ILLEGAL	 BIT(6)
#define VLAPIC_ESR_ILLEGAL_REG	 BIT(7)

/* ICR fields (SDM 11.6.1). */
#define VLAPIC_ICR_VECTOR(lo)	 ((lo)&0xff)
#define VLAPIC_ICR_MODE(lo)	 (((lo) >> 8) & 7)
#define VLAPIC_ICR_LOGICAL	 BIT(11)
#define VLAPIC_ICR_ASSERT	 BIT(14)
#define VLAPIC_ICR_LEVEL	 BIT(15)
#define VLAPIC_ICR_SHORTHAND(lo) (((lo) >> 18) & 3)
#define VLAPIC_DM_FIXED		 0
#define VLAPIC_DM_LOWEST	 1
#define VLAPIC_DM_SMI		 2
#define VLAPIC_DM_NMI		 4
#define VLAPIC_DM_INIT		 5
#define VLAPIC_DM_STARTUP	 6
#define VLAPIC_DM_EXTINT	 7
#define VLAPIC_SH_NONE		 0
#define VLAPIC_SH_SELF		 1
#define VLAPIC_SH_ALL		 2
#define VLAPIC_SH_OTHERS	 3

struct vlapic;

struct vlapic_ops {
	/* The guest wrote the ICR: deliver (icr_low, dest) as an IPI. dest is
	 * the full 32-bit x2APIC destination or the xAPIC's 8 bits. */
	void (*send_ipi)(struct vlapic *l, u32 icr_low, u32 dest);
	/* EOI of a level-triggered vector (for the IOAPIC); may be NULL. */
	void (*eoi_level)(struct vlapic *l, u32 vector);
};

struct vlapic_stats {
	u64 accepted;	  /* fixed interrupts taken into the IRR */
	u64 illegal;	  /* vectors 0-15 refused */
	u64 timer_fired;  /* timer interrupts raised (masked ones not counted) */
	u64 bad_access;	  /* reserved/read-only registers, bad widths */
	u64 eoi_spurious; /* EOI with an empty ISR */
};

struct vlapic {
	u32 id;
	bool x2apic;   /* IA32_APIC_BASE.EXTD as the guest set it */
	bool disabled; /* IA32_APIC_BASE.EN clear: accepts and delivers nothing */
	u32 irr[8];    /* written atomically by any CPU */
	u32 isr[8], tmr[8];
	u32 tpr, ldr, dfr, svr, esr, esr_pending;
	u32 lvt[VLAPIC_NR_LVT];
	u32 icr_low, icr_high;
	u32 tdcr, tmict;
	u64 timer_start;    /* TSC at the start of the current count */
	u64 timer_deadline; /* TSC at which the timer fires next; 0: not armed */
	u64 tsc_deadline;   /* IA32_TSC_DEADLINE as the guest wrote it */
	const struct vlapic_ops *ops;
	void *ctx; /* the caller's (its vCPU) */
	struct vlapic_stats stats;
};

/* Power-up/INIT state (SDM 11.4.7.1): everything masked, software-disabled. */
void vlapic_reset(struct vlapic *l, u32 id, const struct vlapic_ops *ops, void *ctx);

/* A register read/write at xAPIC offset (4-byte accesses; the caller checks
 * width and alignment). x2APIC callers use vlapic_read_msr/write_msr. */
u32 vlapic_read(struct vlapic *l, u32 offset, u64 now);
void vlapic_write(struct vlapic *l, u32 offset, u32 val, u64 now);
/* x2APIC MSR 0x800-0x8FF: false means #GP (reserved register, read-only, bad value). */
bool vlapic_read_msr(struct vlapic *l, u32 msr, u64 *val, u64 now);
bool vlapic_write_msr(struct vlapic *l, u32 msr, u64 val, u64 now);
/* IA32_TSC_DEADLINE (MSR 0x6E0). */
u64 vlapic_get_tsc_deadline(const struct vlapic *l);
void vlapic_set_tsc_deadline(struct vlapic *l, u64 val, u64 now);
/* Switch between xAPIC and x2APIC register views (IA32_APIC_BASE.EXTD). */
void vlapic_set_x2apic(struct vlapic *l, bool on);

/* The modes IA32_APIC_BASE's EN and EXTD bits select (SDM 11.12.5). */
enum vlapic_mode {
	VLAPIC_MODE_DISABLED, /* EN = 0, EXTD = 0 */
	VLAPIC_MODE_INVALID,  /* EN = 0, EXTD = 1: never reachable */
	VLAPIC_MODE_XAPIC,    /* EN = 1, EXTD = 0 */
	VLAPIC_MODE_X2APIC,   /* EN = 1, EXTD = 1 */
};
enum vlapic_mode vlapic_get_mode(const struct vlapic *l);
/* SDM 11.12.5: the transition from the current mode to `to` is legal (or no change). */
bool vlapic_mode_allowed(const struct vlapic *l, enum vlapic_mode to);
/* Move to mode `to` along a legal transition; false (the caller raises #GP,
 * nothing changed) for the others. Disabling puts the APIC in its reset state. */
bool vlapic_set_mode(struct vlapic *l, enum vlapic_mode to);

/* Any CPU: put a fixed interrupt into the IRR (level: remember it in the TMR).
 * False if the vector is illegal (0-15). The caller then wakes the vCPU. */
bool vlapic_accept(struct vlapic *l, u32 vector, bool level);
/* The vector to inject now (above the processor priority), or -1. */
int vlapic_pending(const struct vlapic *l);
/* The CPU takes the vector: IRR -> ISR. */
void vlapic_ack(struct vlapic *l, u32 vector);
/* Fire the timer if its deadline has passed; the next deadline (0: none). */
u64 vlapic_timer_poll(struct vlapic *l, u64 now);
/* TPR as CR8 sees it (bits 7:4). */
u32 vlapic_get_cr8(const struct vlapic *l);
void vlapic_set_cr8(struct vlapic *l, u32 cr8);

/* Does this APIC match a destination (SDM 11.6.2)? logical: flat or cluster per DFR / x2APIC LDR. */
bool vlapic_match_dest(const struct vlapic *l, u32 dest, bool logical);

#endif
