/*
 * I/O APIC model: indirect register access through IOREGSEL/IOWIN,
 * edge and level pins, Remote IRR for level pins (82093AA datasheet 3.2).
 */
#include <hv/string.h>
#include <hv/vioapic.h>

/* Bits the guest may write in a redirection entry: all but delivery status and Remote IRR. */
#define RTE_WRITABLE (~(BIT(12) | VIOAPIC_RTE_REMOTE_IRR))

void vioapic_reset(struct vioapic *io, u32 id)
{
	io->id = id;
	io->regsel = 0;
	io->lines = 0;
	for (u32 i = 0; i < VIOAPIC_PINS; i++)
		io->rte[i] = VIOAPIC_RTE_MASKED;
}

static void fire(struct vioapic *io, u32 pin)
{
	u64 rte = io->rte[pin];
	bool level = rte & VIOAPIC_RTE_LEVEL;

	if (rte & VIOAPIC_RTE_MASKED)
		return;
	if (level) {
		if (rte & VIOAPIC_RTE_REMOTE_IRR)
			return; /* the last one is not yet EOIed */
		io->rte[pin] |= VIOAPIC_RTE_REMOTE_IRR;
	}
	if (io->deliver)
		io->deliver(io->ctx, (u32)(rte >> 56), rte & VIOAPIC_RTE_LOGICAL, (rte >> 8) & 7,
			    rte & 0xff, level);
}

u32 vioapic_read(struct vioapic *io, u32 offset)
{
	u32 reg = io->regsel;

	if (offset == VIOAPIC_REGSEL)
		return io->regsel;
	if (offset != VIOAPIC_WINDOW) {
		io->bad_access++;
		return 0xffffffff;
	}
	switch (reg) {
	case VIOAPIC_REG_ID:
		return (io->id & 0xf) << 24;
	case VIOAPIC_REG_VERSION:
		return VIOAPIC_VERSION | ((VIOAPIC_PINS - 1) << 16);
	case VIOAPIC_REG_ARB:
		return (io->id & 0xf) << 24;
	}
	if (reg >= VIOAPIC_REG_REDIR && reg < VIOAPIC_REG_REDIR + 2 * VIOAPIC_PINS) {
		u64 rte = io->rte[(reg - VIOAPIC_REG_REDIR) / 2];
		return reg & 1 ? (u32)(rte >> 32) : (u32)rte;
	}
	io->bad_access++;
	return 0xffffffff;
}

void vioapic_write(struct vioapic *io, u32 offset, u32 val)
{
	u32 reg = io->regsel;

	if (offset == VIOAPIC_REGSEL) {
		io->regsel = val & 0xff;
		return;
	}
	if (offset == VIOAPIC_EOIR) {
		vioapic_eoi(io, val & 0xff);
		return;
	}
	if (offset != VIOAPIC_WINDOW) {
		io->bad_access++;
		return;
	}
	if (reg == VIOAPIC_REG_ID) {
		io->id = (val >> 24) & 0xf;
		return;
	}
	if (reg < VIOAPIC_REG_REDIR || reg >= VIOAPIC_REG_REDIR + 2 * VIOAPIC_PINS) {
		io->bad_access++;
		return;
	}
	u32 pin = (reg - VIOAPIC_REG_REDIR) / 2;
	u64 rte = io->rte[pin];
	if (reg & 1)
		rte = (rte & 0xffffffffULL) | ((u64)val << 32);
	else
		rte = (rte & ~0xffffffffULL) | val;
	io->rte[pin] = (rte & RTE_WRITABLE) | (io->rte[pin] & ~RTE_WRITABLE);
	/* An unmasked level pin that is asserted delivers now. */
	if ((io->lines & BIT(pin)) && (io->rte[pin] & VIOAPIC_RTE_LEVEL))
		fire(io, pin);
}

void vioapic_set_irq(struct vioapic *io, u32 pin, bool level)
{
	bool was;

	if (pin >= VIOAPIC_PINS)
		return;
	was = io->lines & BIT(pin);
	if (level)
		io->lines |= BIT(pin);
	else
		io->lines &= ~BIT(pin);
	if (level && (!was || (io->rte[pin] & VIOAPIC_RTE_LEVEL)))
		fire(io, pin);
}

void vioapic_eoi(struct vioapic *io, u32 vector)
{
	for (u32 pin = 0; pin < VIOAPIC_PINS; pin++) {
		u64 rte = io->rte[pin];
		if ((rte & 0xff) != vector || !(rte & VIOAPIC_RTE_REMOTE_IRR))
			continue;
		io->rte[pin] &= ~VIOAPIC_RTE_REMOTE_IRR;
		if (io->lines & BIT(pin))
			fire(io, pin);
	}
}
