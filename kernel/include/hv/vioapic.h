/*
 * The VSI's I/O APIC (Intel 82093AA datasheet): IOREGSEL at base + 0x00,
 * IOWIN at base + 0x10, 24 redirection entries. Portable: the caller
 * routes MMIO here, holds one lock per VSI around every call, and delivers
 * the interrupts this model asks for to the vCPUs' local APICs.
 */
#ifndef HV_VIOAPIC_H
#define HV_VIOAPIC_H

#include <hv/types.h>

#define VIOAPIC_BASE	0xfec00000ULL
#define VIOAPIC_SIZE	0x1000
#define VIOAPIC_PINS	24
#define VIOAPIC_REGSEL	0x00
#define VIOAPIC_WINDOW	0x10
#define VIOAPIC_EOIR	0x40
#define VIOAPIC_VERSION 0x11

#define VIOAPIC_REG_ID	    0x00
#define VIOAPIC_REG_VERSION 0x01
#define VIOAPIC_REG_ARB	    0x02
#define VIOAPIC_REG_REDIR   0x10

#define VIOAPIC_RTE_MASKED     BIT(16)
#define VIOAPIC_RTE_LEVEL      BIT(15)
#define VIOAPIC_RTE_REMOTE_IRR BIT(14)
#define VIOAPIC_RTE_LOGICAL    BIT(11)

struct vioapic {
	u32 id;
	u32 regsel;
	u64 rte[VIOAPIC_PINS];
	u32 lines; /* input levels, a bit per pin */
	/* Deliver one interrupt: dest (8 bits), logical or physical, delivery mode, vector. */
	void (*deliver)(void *ctx, u32 dest, bool logical, u32 mode, u32 vector, bool level);
	void *ctx;
	u64 bad_access;
};

void vioapic_reset(struct vioapic *io, u32 id);
u32 vioapic_read(struct vioapic *io, u32 offset);
void vioapic_write(struct vioapic *io, u32 offset, u32 val);
/* Input pin level (edge-triggered pins fire on 0 -> 1). */
void vioapic_set_irq(struct vioapic *io, u32 pin, bool level);
/* A local APIC took an EOI for vector: clear Remote IRR, re-deliver if still asserted. */
void vioapic_eoi(struct vioapic *io, u32 vector);

#endif
