/*
 * Local APIC access and timer calibration. The mode (x2APIC through MSRs or
 * xAPIC through MMIO) is chosen once on the boot CPU and used on every CPU.
 */
#include <asm/cpu.h>
#include <asm/io.h>
#include <asm/lapic.h>
#include <asm/msr.h>
#include <asm/paging.h>
#include <hv/log.h>

/* PIT channel 2, gated through port 0x61 (the PC speaker gate). */
#define PIT_HZ		  1193182ULL
#define PIT_CH2		  0x42
#define PIT_CMD		  0x43
#define PIT_CMD_CH2_MODE0 0xb0 /* channel 2, lobyte/hibyte, mode 0 */
#define PORT_SPEAKER	  0x61
#define SPEAKER_GATE2	  BIT(0)
#define SPEAKER_DATA	  BIT(1)
#define SPEAKER_OUT2	  BIT(5)
#define CALIBRATE_MS	  10

/* The legacy 8259 pair (remapped above the exceptions, then fully masked). */
#define PIC1_CMD	   0x20
#define PIC1_DATA	   0x21
#define PIC2_CMD	   0xa0
#define PIC2_DATA	   0xa1
#define PIC_ICW1_INIT_ICW4 0x11
#define PIC_ICW4_8086	   0x01
#define PIC_VECTOR_BASE	   0x20 /* IRQ 0-15 -> vectors 0x20-0x2f, never exceptions */
#define PIC_MASK_ALL	   0xff
#define ICR_BUSY_SPINS	   1000000

static bool x2apic;
static u64 xapic_base = XAPIC_DEFAULT_BASE;
static u64 tsc_freq = 1000000000ULL; /* a guess until calibrated */
static u64 timer_freq;

static u32 lapic_read(u32 reg)
{
	if (x2apic)
		return (u32)rdmsr(MSR_IA32_X2APIC_BASE + (reg >> 4));
	return mmio_read32(xapic_base + reg);
}

static void lapic_write(u32 reg, u32 v)
{
	if (x2apic)
		wrmsr(MSR_IA32_X2APIC_BASE + (reg >> 4), v);
	else
		mmio_write32(xapic_base + reg, v);
}

bool lapic_is_x2apic(void)
{
	return x2apic;
}

/*
 * Firmware leaves the 8259s in virtual-wire mode with IRQ 0 at vector 8: the
 * first STI would deliver the PIT tick as a fake double fault. Remap them to
 * 0x20-0x2f (so a spurious IRQ 7 cannot look like an exception) and mask all.
 */
static void pic_disable(void)
{
	outb(PIC1_CMD, PIC_ICW1_INIT_ICW4);
	outb(PIC2_CMD, PIC_ICW1_INIT_ICW4);
	outb(PIC1_DATA, PIC_VECTOR_BASE);
	outb(PIC2_DATA, PIC_VECTOR_BASE + 8);
	outb(PIC1_DATA, 4); /* slave on IRQ 2 */
	outb(PIC2_DATA, 2);
	outb(PIC1_DATA, PIC_ICW4_8086);
	outb(PIC2_DATA, PIC_ICW4_8086);
	outb(PIC1_DATA, PIC_MASK_ALL);
	outb(PIC2_DATA, PIC_MASK_ALL);
}

void lapic_init(void)
{
	u64 base = rdmsr(MSR_IA32_APIC_BASE);
	static bool mode_chosen;

	if (!mode_chosen) {
		x2apic = cpuid(1, 0).ecx & CPUID_1_ECX_X2APIC;
		xapic_base = base & MSR_IA32_APIC_BASE_ADDR_MASK;
		if (!x2apic)
			paging_map_mmio(xapic_base, PAGE_SIZE);
		mode_chosen = true;
		pic_disable();
		if (x2apic)
			pr_info("lapic: x2APIC mode");
		else
			pr_info("lapic: xAPIC mode, registers at 0x%llx (no x2APIC on this CPU)",
				(unsigned long long)xapic_base);
	}
	/* Enable first, then switch to x2APIC (SDM Vol. 3 11.12.5). */
	base |= MSR_IA32_APIC_BASE_EN_BIT;
	wrmsr(MSR_IA32_APIC_BASE, base);
	if (x2apic)
		wrmsr(MSR_IA32_APIC_BASE, base | MSR_IA32_APIC_BASE_EXTD_BIT);
	lapic_write(APIC_TPR, 0);
	lapic_write(APIC_LVT_TIMER, APIC_LVT_MASKED);
	lapic_write(APIC_LVT_ERROR, APIC_LVT_MASKED);
	lapic_write(APIC_LVT_LINT0, APIC_LVT_MASKED); /* no ExtINT from the 8259s */
	lapic_write(APIC_SVR, APIC_SVR_ENABLE | 0xff);
}

u32 lapic_id(void)
{
	u32 id = lapic_read(APIC_ID);

	return x2apic ? id : id >> 24;
}

void lapic_eoi(void)
{
	lapic_write(APIC_EOI, 0);
}

static void icr_wait(void)
{
	if (x2apic)
		return; /* x2APIC ICR writes complete synchronously */
	for (int i = 0; i < ICR_BUSY_SPINS; i++)
		if (!(lapic_read(APIC_ICR_LOW) & APIC_ICR_BUSY))
			return;
	pr_warn("lapic: IPI still pending after %d polls", ICR_BUSY_SPINS);
}

void lapic_send_ipi(u32 dest, u32 icr_low)
{
	if (x2apic) {
		wrmsr(MSR_IA32_X2APIC_ICR, ((u64)dest << 32) | icr_low);
		return;
	}
	lapic_write(APIC_ICR_HIGH, dest << 24);
	lapic_write(APIC_ICR_LOW, icr_low);
	icr_wait();
}

void lapic_nmi_others(void)
{
	lapic_send_ipi(0, APIC_ICR_DM_NMI | APIC_ICR_DEST_ALL_BUT_SELF);
}

u64 tsc_hz(void)
{
	return tsc_freq;
}

void udelay(u64 us)
{
	u64 end = rdtsc() + tsc_freq / 1000000 * us;

	while (rdtsc() < end)
		cpu_relax();
}

void lapic_timer_periodic(u32 vector, u32 hz)
{
	u64 count = timer_freq ? timer_freq / hz : 1000000;

	lapic_write(APIC_TIMER_DIV, APIC_TIMER_DIV_16);
	lapic_write(APIC_LVT_TIMER, APIC_LVT_TIMER_PERIODIC | vector);
	lapic_write(APIC_TIMER_INIT, (u32)MIN(count, 0xffffffffULL));
}

void lapic_timer_oneshot_tsc(u32 vector, u64 tsc_delta)
{
	u64 count;

	if (!timer_freq) /* not calibrated: wake at once rather than never */
		count = 1;
	else
		/* timer_freq counts at divide-by-16; cap the delta so the product fits */
		count = MIN(tsc_delta, 1ULL << 40) * (timer_freq / 1000) / (tsc_freq / 1000) + 1;
	lapic_write(APIC_TIMER_DIV, APIC_TIMER_DIV_16);
	lapic_write(APIC_LVT_TIMER, vector);
	lapic_write(APIC_TIMER_INIT, (u32)MIN(count, 0xffffffffULL));
}

void lapic_timer_stop(void)
{
	lapic_write(APIC_TIMER_INIT, 0);
}

/* Start PIT channel 2 counting down ms milliseconds (mode 0). */
static void pit_start(u32 ms)
{
	u32 count = (u32)(PIT_HZ * ms / 1000);

	outb(PORT_SPEAKER, (inb(PORT_SPEAKER) & ~SPEAKER_DATA) | SPEAKER_GATE2);
	outb(PIT_CMD, PIT_CMD_CH2_MODE0);
	outb(PIT_CH2, count & 0xff);
	outb(PIT_CH2, count >> 8);
}

void timer_calibrate(void)
{
	u64 tsc0, tsc1, spins = 0;
	u32 apic1;

	lapic_write(APIC_TIMER_DIV, APIC_TIMER_DIV_16);
	pit_start(CALIBRATE_MS);
	lapic_write(APIC_TIMER_INIT, 0xffffffff);
	tsc0 = rdtsc();
	while (!(inb(PORT_SPEAKER) & SPEAKER_OUT2))
		if (++spins > 100000000ULL) {
			pr_warn("timer: PIT channel 2 never fired; assuming TSC %llu Hz",
				(unsigned long long)tsc_freq);
			return;
		}
	tsc1 = rdtsc();
	apic1 = lapic_read(APIC_TIMER_CUR);
	lapic_write(APIC_TIMER_INIT, 0);
	tsc_freq = (tsc1 - tsc0) * 1000 / CALIBRATE_MS;
	timer_freq = (u64)(0xffffffffU - apic1) * 1000 / CALIBRATE_MS;
	pr_info("timer: TSC %llu.%03llu MHz, LAPIC timer %llu.%03llu MHz (divide by 16), "
		"calibrated against the PIT over %d ms",
		(unsigned long long)(tsc_freq / 1000000),
		(unsigned long long)(tsc_freq / 1000 % 1000),
		(unsigned long long)(timer_freq / 1000000),
		(unsigned long long)(timer_freq / 1000 % 1000), CALIBRATE_MS);
}
