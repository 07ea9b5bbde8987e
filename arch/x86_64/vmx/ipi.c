/*
 * The local APIC model's view of the outside world: IPIs from a vCPU's ICR,
 * routed to the other vCPUs of its own VSI only, and level-triggered EOIs
 * passed to the VSI's I/O APIC.
 */
#include <asm/apicv.h>
#include <asm/cpu.h>
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

/*
 * An IPI from the guest's ICR (SDM 11.6.1): delivered within the VSI only.
 * Physical and logical destinations are matched against the VSI's own
 * APICs; anything else is dropped and counted. A level-deassert INIT (the
 * old "INIT de-assert" step of the MP start-up) does nothing.
 */
static void route_ipi(struct vlapic *l, u32 icr_low, u32 dest)
{
	struct vcpu *vc = l->ctx;
	struct vsi *v = vc->vsi;
	u32 mode = VLAPIC_ICR_MODE(icr_low), vector = VLAPIC_ICR_VECTOR(icr_low);
	u32 shorthand = VLAPIC_ICR_SHORTHAND(icr_low);
	bool logical = icr_low & VLAPIC_ICR_LOGICAL, hit = false;

	if (mode == VLAPIC_DM_INIT && (icr_low & VLAPIC_ICR_LEVEL) &&
	    !(icr_low & VLAPIC_ICR_ASSERT))
		return;
	if (mode == VLAPIC_DM_LOWEST)
		mode = VLAPIC_DM_FIXED; /* every CPU has the same priority here */
	for (u32 i = 0; i < v->nr_vcpus; i++) {
		struct vcpu *t = &v->vcpus[i];
		bool match;
		switch (shorthand) {
		case VLAPIC_SH_SELF:
			match = t == vc;
			break;
		case VLAPIC_SH_ALL:
			match = true;
			break;
		case VLAPIC_SH_OTHERS:
			match = t != vc;
			break;
		default:
			match = vlapic_match_dest(&t->lapic, dest, logical);
			break;
		}
		if (match) {
			vcpu_deliver(t, mode, vector);
			hit = true;
		}
	}
	if (!hit && shorthand == VLAPIC_SH_NONE)
		vc->ipi_dropped++;
}

static void eoi_level(struct vlapic *l, u32 vector)
{
	vsi_platform_eoi(((struct vcpu *)l->ctx)->vsi, vector);
}

const struct vlapic_ops vcpu_vlapic_ops = {
	.send_ipi = route_ipi,
	.eoi_level = eoi_level,
};
