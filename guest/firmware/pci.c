/*
 * Bus 0 enumeration and resource assignment. The configuration address is
 * written before every data access (no state is kept between calls).
 */
#include "console.h"
#include "io.h"
#include "pci.h"

#define PCI_CONF_ADDR	  0xCF8
#define PCI_CONF_DATA	  0xCFC
#define PCI_CONF_ENABLE	  (1U << 31)
#define PCI_BAR_IO	  (1U << 0)
#define PCI_BAR_MEM64	  (2U << 1)
#define PCI_BAR_TYPE	  (3U << 1)
#define PCI_HDR_MULTI	  0x80
#define PCI_MIN_MEM_ALIGN 0x1000 /* a memory BAR never shares a page */

static u32 conf_addr(const struct pci_func *f, u8 off)
{
	return PCI_CONF_ENABLE | ((u32)f->bus << 16) | ((u32)f->dev << 11) | ((u32)f->fn << 8) |
	       (off & 0xFC);
}

u32 pci_read32(const struct pci_func *f, u8 off)
{
	outl(PCI_CONF_ADDR, conf_addr(f, off));
	return inl(PCI_CONF_DATA);
}

u16 pci_read16(const struct pci_func *f, u8 off)
{
	return (u16)(pci_read32(f, off) >> ((off & 2) * 8));
}

u8 pci_read8(const struct pci_func *f, u8 off)
{
	return (u8)(pci_read32(f, off) >> ((off & 3) * 8));
}

void pci_write32(const struct pci_func *f, u8 off, u32 v)
{
	outl(PCI_CONF_ADDR, conf_addr(f, off));
	outl(PCI_CONF_DATA, v);
}

void pci_set_command(const struct pci_func *f, u16 cmd)
{
	pci_write32(f, PCI_COMMAND, cmd);
}

/* Writes all ones to a BAR and returns what sticks; the BAR is restored. */
static u32 bar_probe(const struct pci_func *f, u8 off)
{
	u32 orig = pci_read32(f, off), v;

	pci_write32(f, off, 0xFFFFFFFF);
	v = pci_read32(f, off);
	pci_write32(f, off, orig);
	return v;
}

/* Sizes BAR i (PCI 3.0 6.2.5.1); returns how many BAR slots it takes (2 for 64-bit). */
static int bar_size(struct pci_func *f, int i)
{
	u8 off = PCI_BAR0 + 4 * i;
	u32 lo = bar_probe(f, off);
	struct pci_bar *b = &f->bar[i];

	if (lo & PCI_BAR_IO) {
		b->io = true;
		b->size = (u16)(~(lo & ~3U) + 1);
		return 1;
	}
	if ((lo & PCI_BAR_TYPE) == PCI_BAR_MEM64 && i + 1 < PCI_NR_BARS) {
		u64 mask = ((u64)bar_probe(f, off + 4) << 32) | (lo & ~0xFULL);

		b->mem64 = true;
		b->size = mask ? ~mask + 1 : 0;
		return 2;
	}
	b->size = lo & ~0xFU ? (u32)(~(lo & ~0xFU) + 1) : 0;
	return 1;
}

static void probe_func(struct pci_func *f)
{
	u32 id = pci_read32(f, PCI_VENDOR_ID);

	f->vendor = (u16)id;
	f->device = (u16)(id >> 16);
	f->class_code = pci_read32(f, PCI_CLASS_REV) >> 8;
	f->header_type = pci_read8(f, PCI_HEADER_TYPE) & ~PCI_HDR_MULTI;
	memset(f->bar, 0, sizeof(f->bar));
	if (f->header_type != 0)
		return;
	pci_set_command(f, pci_read16(f, PCI_COMMAND) & ~(PCI_CMD_IO | PCI_CMD_MEM));
	for (int i = 0; i < PCI_NR_BARS;)
		i += bar_size(f, i);
}

static int scan_bus0(struct pci_func *out, int max)
{
	int n = 0;

	for (u8 dev = 0; dev < 32; dev++) {
		for (u8 fn = 0; fn < 8 && n < max; fn++) {
			struct pci_func *f = &out[n];

			*f = (struct pci_func){ .bus = 0, .dev = dev, .fn = fn };
			if ((u16)pci_read32(f, PCI_VENDOR_ID) == 0xFFFF) {
				if (fn == 0)
					break;
				continue;
			}
			probe_func(f);
			n++;
			if (fn == 0 && !(pci_read8(f, PCI_HEADER_TYPE) & PCI_HDR_MULTI))
				break;
		}
	}
	return n;
}

static void bar_write(const struct pci_func *f, int i, u64 addr)
{
	pci_write32(f, PCI_BAR0 + 4 * i, (u32)addr);
	if (f->bar[i].mem64)
		pci_write32(f, PCI_BAR0 + 4 * (i + 1), (u32)(addr >> 32));
}

/* Assigns every BAR of one kind (I/O or memory), largest first, from *next up to limit. */
static void assign_kind(struct pci_func *fs, int n, bool io, u64 next, u64 limit)
{
	for (;;) {
		struct pci_bar *best = NULL;
		int bf = 0, bi = 0;

		for (int k = 0; k < n; k++) {
			for (int i = 0; i < PCI_NR_BARS; i++) {
				struct pci_bar *b = &fs[k].bar[i];

				if (b->size && b->io == io && !b->base &&
				    (!best || b->size > best->size)) {
					best = b;
					bf = k;
					bi = i;
				}
			}
		}
		if (!best)
			return;
		u64 a = ALIGN_UP(next, io ? best->size : MAX(best->size, PCI_MIN_MEM_ALIGN));

		if (a + best->size > limit || a + best->size < a) {
			fw_log("pci %02x:%02x.%x: no room for BAR%d (%lu bytes); left unassigned",
			       fs[bf].bus, fs[bf].dev, fs[bf].fn, bi, best->size);
			best->size = 0;
			continue;
		}
		best->base = a;
		bar_write(&fs[bf], bi, a);
		next = a + best->size;
	}
}

int pci_init(struct pci_func *out, int max, u64 mem_base, u64 mem_limit, u32 io_base, u32 io_limit)
{
	int n = scan_bus0(out, max);

	assign_kind(out, n, false, mem_base, mem_limit);
	assign_kind(out, n, true, io_base, io_limit);
	return n;
}
