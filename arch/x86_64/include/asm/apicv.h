/*
 * APIC virtualisation (SDM Vol. 3 ch. 30): where the CPU has the APIC-access
 * page, APIC-register virtualisation and virtual-interrupt delivery, a vCPU
 * whose guest uses its xAPIC gets a virtual-APIC page. Reads of its
 * registers, TPR and EOI writes, and the delivery of pending interrupts then
 * happen without VM exits; writes to the other registers reach the local
 * APIC model (hv/vlapic.h) through APIC-write exits. The model stays the
 * source of truth for everything but IRR, ISR and TPR, which the page holds
 * while the vCPU uses it. In x2APIC mode, or without the features, the
 * software path of vcpu.c and exits.c runs instead.
 */
#ifndef ASM_APICV_H
#define ASM_APICV_H

#include <hv/types.h>

struct vcpu;
struct vsi;

/* True when this machine's vCPUs use APIC virtualisation (and apicv=off is not given). */
bool apicv_enabled(void);
/* The page every VSI's EPT maps at 0xFEE00000 (never read or written by guests), or 0. */
u64 apicv_access_page(void);
/* Per vCPU, on its CPU with its VMCS loaded. */
int apicv_vcpu_init(struct vcpu *vc);
/* After the local APIC model was reset (vCPU reset, INIT): fresh page, xAPIC mode. */
void apicv_reset(struct vcpu *vc);
/* The guest switched IA32_APIC_BASE.EXTD: x2APIC runs on the software path. */
void apicv_mode_changed(struct vcpu *vc);
/* A register of the model changed outside an APIC exit: copy it to the page. */
void apicv_mark_dirty(struct vcpu *vc);
/* True while the page holds IRR/ISR/TPR for this vCPU. */
bool apicv_active(const struct vcpu *vc);
/*
 * Before VM entry, after any event injection is set up: the interrupt the
 * guest takes at this entry into the page and RVI, SVI, registers, EOI-exit
 * bitmap. True if the interrupt window must be requested.
 */
bool apicv_before_entry(struct vcpu *vc);
/* The vector the guest would take now (above its PPR), or -1. */
int apicv_pending(const struct vcpu *vc);

#endif
