/* Local APIC (SDM Vol. 3 Chapter 11): x2APIC where the CPU has it, xAPIC otherwise. */
#ifndef ASM_LAPIC_H
#define ASM_LAPIC_H

#include <hv/types.h>

/* Register offsets in the xAPIC page; x2APIC MSR = 0x800 + (offset >> 4). */
#define APIC_ID		0x020
#define APIC_VERSION	0x030
#define APIC_TPR	0x080
#define APIC_EOI	0x0b0
#define APIC_SVR	0x0f0
#define APIC_ESR	0x280
#define APIC_ICR_LOW	0x300
#define APIC_ICR_HIGH	0x310
#define APIC_LVT_TIMER	0x320
#define APIC_LVT_LINT0	0x350
#define APIC_LVT_LINT1	0x360
#define APIC_LVT_ERROR	0x370
#define APIC_TIMER_INIT 0x380
#define APIC_TIMER_CUR	0x390
#define APIC_TIMER_DIV	0x3e0

#define APIC_SVR_ENABLE		BIT(8)
#define APIC_LVT_MASKED		BIT(16)
#define APIC_TIMER_DIV_16	0x3
#define APIC_LVT_TIMER_PERIODIC BIT(17)

/* ICR (SDM Vol. 3 11.6.1). */
#define APIC_ICR_DM_FIXED	   (0x0 << 8)
#define APIC_ICR_DM_NMI		   (0x4 << 8)
#define APIC_ICR_DM_INIT	   (0x5 << 8)
#define APIC_ICR_DM_STARTUP	   (0x6 << 8)
#define APIC_ICR_BUSY		   BIT(12)
#define APIC_ICR_LEVEL_ASSERT	   BIT(14)
#define APIC_ICR_TRIGGER_LEVEL	   BIT(15)
#define APIC_ICR_DEST_ALL_BUT_SELF (0x3 << 18)

#define XAPIC_DEFAULT_BASE 0xfee00000ULL

/* Enable this CPU's LAPIC (x2APIC mode when available). */
void lapic_init(void);
bool lapic_is_x2apic(void);
u32 lapic_id(void);
void lapic_eoi(void);
/* Send an IPI: icr_low = delivery mode | vector | flags, to APIC ID dest. */
void lapic_send_ipi(u32 dest, u32 icr_low);
/* NMI to every CPU but this one (used to park CPUs on a fatal fault). */
void lapic_nmi_others(void);
/* Measure the TSC and the LAPIC timer against the PIT; logs both. */
void timer_calibrate(void);
u64 tsc_hz(void);
/* Periodic LAPIC timer interrupt on this CPU at about hz (after calibration). */
void lapic_timer_periodic(u32 vector, u32 hz);
/* One interrupt at vector after about tsc_delta TSC ticks (this CPU's timer). */
void lapic_timer_oneshot_tsc(u32 vector, u64 tsc_delta);
void lapic_timer_stop(void);
/* Busy-wait; exact once timer_calibrate() has run. */
void udelay(u64 us);

#endif
