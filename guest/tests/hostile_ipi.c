/* hostile-ipi: IPIs to APIC IDs that are not this VSI's (docs/vsi-platform.md:
 * "other destinations are dropped and counted"), then the "all excluding
 * self" shorthand, which reaches only this VSI's other vCPUs. After each
 * batch the guest opens an interrupt window and checks that nothing came
 * back to itself and that it is still running. Under the hypervisor, the
 * x2APIC broadcast (0xffffffff) is checked apart: like on hardware it
 * includes the sender, so in a one-vCPU VSI it must arrive exactly once. */
#include "cpu.h"

#define IPI_VECTOR	  0x40
#define SPURIOUS_VECTOR	  0xff
#define NMI_VECTOR	  2
#define PARK_PAGE	  0x8000UL /* rom.ld keeps it free */
#define PARK_SIPI_VECTOR  (PARK_PAGE >> 12)
#define REAL_MODE_IVT_NMI (NMI_VECTOR * 4)
#define LAST_XAPIC_ID	  0xfe /* 0xff is the xAPIC broadcast */
#define LAST_APIC_ID	  0xff
#define IRQ_WINDOW_LOOPS  20000

const char guest_name[] = "hostile-ipi";

static volatile uint32_t interrupts_seen, nmis_seen;

static void on_interrupt(struct trap_frame *f)
{
	(void)f;
	interrupts_seen++;
	apic_eoi();
}

/* A spurious interrupt is not in service: no EOI (SDM Vol. 3 11.9). */
static void on_spurious(struct trap_frame *f)
{
	(void)f;
	interrupts_seen++;
}

static void on_nmi(struct trap_frame *f)
{
	(void)f;
	nmis_seen++;
}

/* Whatever legitimately gets a SIPI from the shorthand (this VSI's own
 * vCPUs) parks: "cli; hlt; jmp $-3" at the SIPI page, and the real-mode NMI
 * vector pointing there too, in case an NMI was held pending. */
static void install_park_page(void)
{
	static const uint8_t park[] = { 0xfa, 0xf4, 0xeb, 0xfd };

	memcpy((void *)PARK_PAGE, park, sizeof(park));
	*(volatile uint32_t *)REAL_MODE_IVT_NMI = (uint32_t)(PARK_PAGE >> 4) << 16;
}

/* A short window with interrupts on: anything sent to us arrives now. */
static void check_alive(const char *what)
{
	asm volatile("sti");
	delay_loops(IRQ_WINDOW_LOOPS);
	asm volatile("cli");
	if (interrupts_seen || nmis_seen)
		expect_fail(what, "%u interrupts and %u NMIs reached this vCPU", interrupts_seen,
			    nmis_seen);
	else
		expect_ok(what);
	interrupts_seen = nmis_seen = 0;
}

/* Physical destinations from the first ID that is not ours. */
static void send_batch(const char *name, uint32_t icr_low)
{
	uint32_t first = platform.vcpus;
	uint32_t last = platform.hv || apic_is_x2apic() ? LAST_APIC_ID : LAST_XAPIC_ID;
	char what[40];

	guest_say("sending %s to APIC IDs %u..%u", name, first, last);
	for (uint32_t id = first; id <= last; id++)
		apic_send_ipi(id, icr_low);
	snprint(what, sizeof(what), "alive-after-%s", name);
	check_alive(what);
}

/* The x2APIC broadcast from a one-vCPU VSI: exactly one delivery, to us. */
static void send_broadcast(const char *name, uint32_t icr_low, volatile uint32_t *seen)
{
	char what[48];

	guest_say("sending %s to the broadcast ID 0x%x", name, APIC_BROADCAST_ID);
	apic_send_ipi(APIC_BROADCAST_ID, icr_low);
	asm volatile("sti");
	delay_loops(IRQ_WINDOW_LOOPS);
	asm volatile("cli");
	snprint(what, sizeof(what), "broadcast-%s-self-only", name);
	if (*seen == 1 && interrupts_seen + nmis_seen == 1)
		expect_ok(what);
	else
		expect_fail(what, "%u interrupts and %u NMIs, want exactly one %s", interrupts_seen,
			    nmis_seen, name);
	interrupts_seen = nmis_seen = 0;
}

static void send_all_but_self(const char *name, uint32_t icr_low)
{
	char what[48];

	guest_say("sending %s to all excluding self", name);
	apic_send_ipi(0, icr_low | ICR_ALL_BUT_SELF);
	snprint(what, sizeof(what), "alive-after-%s-all-but-self", name);
	check_alive(what);
}

void guest_main(void)
{
	apic_init();
	if (!apic_is_x2apic())
		guest_say("no x2APIC on this CPU (CPUID.1:ECX[21]): using xAPIC MMIO instead");
	install_park_page();
	trap_set_handler(IPI_VECTOR, on_interrupt);
	trap_set_handler(SPURIOUS_VECTOR, on_spurious);
	trap_set_handler(NMI_VECTOR, on_nmi);
	apic_soft_enable(SPURIOUS_VECTOR);

	send_batch("fixed", ICR_FIXED | ICR_LEVEL_ASSERT | IPI_VECTOR);
	send_batch("nmi", ICR_NMI | ICR_LEVEL_ASSERT);
	send_batch("init", ICR_INIT | ICR_LEVEL_ASSERT);
	send_batch("sipi", ICR_SIPI | ICR_LEVEL_ASSERT | PARK_SIPI_VECTOR);
	send_all_but_self("fixed", ICR_FIXED | ICR_LEVEL_ASSERT | IPI_VECTOR);
	send_all_but_self("nmi", ICR_NMI | ICR_LEVEL_ASSERT);
	send_all_but_self("init", ICR_INIT | ICR_LEVEL_ASSERT);
	send_all_but_self("sipi", ICR_SIPI | ICR_LEVEL_ASSERT | PARK_SIPI_VECTOR);
	if (platform.hv && platform.vcpus == 1) {
		send_broadcast("fixed", ICR_FIXED | ICR_LEVEL_ASSERT | IPI_VECTOR,
			       &interrupts_seen);
		send_broadcast("nmi", ICR_NMI | ICR_LEVEL_ASSERT, &nmis_seen);
	}
}
