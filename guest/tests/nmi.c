/* nmi: NMIs as the architecture delivers them (docs/vsi-platform.md, "NMIs").
 * Several self-NMIs each arrive; an NMI raised inside the NMI handler stays
 * pending while the handler runs and arrives right after its IRET (SDM Vol. 3
 * 6.7.1); and NMIs still arrive afterwards. The handler itself runs with
 * interrupts off (an interrupt gate). Then the guest parks inside its NMI
 * handler (cli; hlt with NMIs blocked) and never says "done": the system
 * test then has the hypervisor's fault dump park every CPU, this one too. */
#include "cpu.h"

#define NMI_VECTOR	 2
#define NMI_ROUNDS	 5
#define ARRIVAL_LOOPS	 2000000 /* bounded wait for an NMI, in pause loops */
#define IN_HANDLER_LOOPS 200000	 /* how long the handler lingers after raising one */

const char guest_name[] = "nmi";

static volatile uint32_t nmis, raise_inside, count_inside, park_inside;

static void send_self_nmi(void)
{
	apic_send_ipi(apic_id(), ICR_NMI | ICR_LEVEL_ASSERT);
}

/* Once armed, the handler raises a second NMI, lingers, and records how many
 * NMIs had arrived by then: a nested delivery would have bumped the count. */
static void on_nmi(struct trap_frame *f)
{
	(void)f;
	nmis++;
	if (park_inside)
		for (;
		     ;) /* NMIs blocked for good: the hypervisor's own NMI must still get through */
			asm volatile("cli; hlt");
	if (raise_inside) {
		raise_inside = 0;
		send_self_nmi();
		delay_loops(IN_HANDLER_LOOPS);
		count_inside = nmis;
	}
}

static bool wait_for_nmis(uint32_t want)
{
	for (uint32_t i = 0; i < ARRIVAL_LOOPS && nmis < want; i++)
		cpu_relax();
	return nmis >= want;
}

static void check_rounds(const char *phase)
{
	char what[40];

	for (uint32_t round = 1; round <= NMI_ROUNDS; round++) {
		uint32_t want = nmis + 1;
		snprint(what, sizeof(what), "%s-nmi-%u-arrives", phase, round);
		send_self_nmi();
		if (wait_for_nmis(want) && nmis == want)
			expect_ok(what);
		else
			expect_fail(what, "%u NMIs seen, want %u", nmis, want);
	}
}

static void check_nested(void)
{
	uint32_t base = nmis;

	raise_inside = 1;
	send_self_nmi();
	wait_for_nmis(base + 2);
	if (count_inside == base + 1)
		expect_ok("nested-nmi-blocked-in-handler");
	else
		expect_fail("nested-nmi-blocked-in-handler", "%u NMIs inside the handler, want %u",
			    count_inside, base + 1);
	if (nmis == base + 2)
		expect_ok("nested-nmi-after-iret");
	else
		expect_fail("nested-nmi-after-iret", "%u NMIs, want %u", nmis - base, 2);
}

void guest_main(void)
{
	apic_init();
	trap_set_handler(NMI_VECTOR, on_nmi);
	/* Interrupts on, as an OS runs (nothing else is enabled to arrive): NMI
	 * handlers then return to code that can take interrupts, which is what the
	 * fallback without virtual NMIs needs (docs/vsi-platform.md, "NMIs"). */
	asm volatile("sti");
	check_rounds("first");
	check_nested();
	check_rounds("after-nested");
	guest_say("parking inside its NMI handler");
	park_inside = 1;
	send_self_nmi();
	for (;;)
		cpu_relax();
}
