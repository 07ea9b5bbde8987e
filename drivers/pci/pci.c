/*
 * PCI enumeration and BAR decoding, portable: configuration space is reached
 * only through the struct pci_config the caller passes, so the same code runs
 * on the machine (conf1.c) and against a fake space in the host tests.
 *
 * Every bus 0-255 is scanned, not only those reachable through bridges: a
 * multi-socket machine has root buses that no bridge on bus 0 leads to, and
 * 8192 reads of function 0's ID cost milliseconds even under Bochs.
 */
#include <hv/errno.h>
#include <hv/printf.h>
#include <hv/string.h>
#include <pci/pci.h>

static u32 cfg_read32(const struct pci_config *cfg, u32 bdf, u16 off)
{
	return cfg->read32(cfg->ctx, bdf, off);
}

static void cfg_write32(const struct pci_config *cfg, u32 bdf, u16 off, u32 v)
{
	cfg->write32(cfg->ctx, bdf, off, v);
}

/* One byte of configuration space, through a dword read (reads have no side effects). */
static u8 cfg_read8(const struct pci_config *cfg, u32 bdf, u16 off)
{
	return (u8)(cfg_read32(cfg, bdf, off & ~3) >> ((off & 3) * 8));
}

enum pci_bar_kind pci_bar_kind(u32 lo)
{
	if (lo & PCI_BAR_IO_BIT)
		return PCI_BAR_IO;
	switch (lo & PCI_BAR_MEM_TYPE_MASK) {
	case PCI_BAR_MEM_TYPE_32:
	case PCI_BAR_MEM_TYPE_1M:
		return PCI_BAR_MEM32;
	case PCI_BAR_MEM_TYPE_64:
		return PCI_BAR_MEM64;
	default:
		return PCI_BAR_NONE; /* type 11b is reserved */
	}
}

void pci_bar_decode(u32 lo, u32 hi, u32 probe_lo, u32 probe_hi, struct pci_bar *bar)
{
	enum pci_bar_kind kind = pci_bar_kind(lo);
	u64 addr, mask;

	*bar = (struct pci_bar){ .kind = PCI_BAR_NONE };
	switch (kind) {
	case PCI_BAR_IO:
		addr = lo & PCI_BAR_IO_ADDR_MASK;
		mask = probe_lo & PCI_BAR_IO_ADDR_MASK;
		break;
	case PCI_BAR_MEM32:
		addr = lo & PCI_BAR_MEM_ADDR_MASK;
		mask = probe_lo & PCI_BAR_MEM_ADDR_MASK;
		break;
	case PCI_BAR_MEM64:
		addr = ((u64)hi << 32) | (lo & PCI_BAR_MEM_ADDR_MASK);
		mask = ((u64)probe_hi << 32) | (probe_lo & PCI_BAR_MEM_ADDR_MASK);
		break;
	default:
		return;
	}
	if (!mask)
		return; /* no writable address bit: not implemented */
	bar->kind = kind;
	bar->prefetchable = kind != PCI_BAR_IO && (lo & PCI_BAR_MEM_PREFETCH_BIT);
	bar->base = addr;
	/* I/O BARs may leave bits 31:16 at 0; the lowest writable bit is the size either way. */
	bar->size = mask & (~mask + 1);
}

/* Write all-ones to the register at off and read back what stuck; the old value is restored. */
static u32 bar_probe(const struct pci_config *cfg, u32 bdf, u16 off, u32 *old)
{
	u32 probe;

	*old = cfg_read32(cfg, bdf, off);
	cfg_write32(cfg, bdf, off, 0xffffffff);
	probe = cfg_read32(cfg, bdf, off);
	cfg_write32(cfg, bdf, off, *old);
	return probe;
}

/*
 * Size every BAR of d. Memory and I/O decoding are off meanwhile, so the
 * all-ones address never decodes; host bridges keep theirs on, since on some
 * chipsets that also cuts off RAM.
 */
static void probe_bars(struct pci_dev *d)
{
	const struct pci_config *cfg = d->cfg;
	u32 cmd = cfg_read32(cfg, d->bdf, PCI_COMMAND) & 0xffff;
	bool host = d->class_code == PCI_CLASS_BRIDGE && d->subclass == PCI_SUBCLASS_HOST;
	u32 lo, hi, probe_lo, probe_hi;

	/* The status half is written as 0: its bits are write-1-to-clear. */
	if (!host)
		cfg_write32(cfg, d->bdf, PCI_COMMAND,
			    cmd & ~(u32)(PCI_COMMAND_IO_BIT | PCI_COMMAND_MEMORY_BIT));
	for (u32 i = 0; i < d->nr_bars; i++) {
		u16 off = PCI_BASE_ADDRESS0 + 4 * i;

		probe_lo = bar_probe(cfg, d->bdf, off, &lo);
		hi = probe_hi = 0;
		if (pci_bar_kind(lo) == PCI_BAR_MEM64) {
			if (i + 1 == d->nr_bars)
				continue; /* no register left for its upper half: unusable */
			probe_hi = bar_probe(cfg, d->bdf, off + 4, &hi);
		}
		pci_bar_decode(lo, hi, probe_lo, probe_hi, &d->bar[i]);
		if (pci_bar_kind(lo) == PCI_BAR_MEM64)
			i++; /* the upper half has no entry of its own */
	}
	if (!host)
		cfg_write32(cfg, d->bdf, PCI_COMMAND, cmd);
}

static u8 bars_for_header(u8 header_type)
{
	switch (header_type) {
	case PCI_HEADER_TYPE_NORMAL:
		return PCI_BARS_NORMAL;
	case PCI_HEADER_TYPE_BRIDGE:
		return PCI_BARS_BRIDGE;
	case PCI_HEADER_TYPE_CARDBUS:
		return PCI_BARS_CARDBUS;
	default:
		return 0; /* unknown layout: touch nothing */
	}
}

/* Record the function at bdf whose first dword is id; counts it as missed when the table is full. */
static void add_function(const struct pci_config *cfg, struct pci_list *list, u32 bdf, u32 id)
{
	struct pci_dev *d;
	u32 cls;

	if (list->nr == PCI_LIST_MAX) {
		list->missed++;
		return;
	}
	d = &list->dev[list->nr++];
	memset(d, 0, sizeof(*d));
	d->cfg = cfg;
	d->bdf = bdf;
	d->vendor = id & 0xffff;
	d->device = id >> 16;
	cls = cfg_read32(cfg, bdf, PCI_REVISION_ID);
	d->revision = cls & 0xff;
	d->prog_if = (cls >> 8) & 0xff;
	d->subclass = (cls >> 16) & 0xff;
	d->class_code = cls >> 24;
	d->header_type = cfg_read8(cfg, bdf, PCI_HEADER_TYPE) & PCI_HEADER_TYPE_MASK;
	d->nr_bars = bars_for_header(d->header_type);
	probe_bars(d);
}

/* An ID dword of a present function: all-ones is "nothing there", 0 a broken bus. */
static bool id_present(u32 id)
{
	return (id & 0xffff) != PCI_VENDOR_INVALID && (id & 0xffff) != 0;
}

/* Functions of one device; 1-7 only if function 0 says it has them (PCI 3.0 6.2.1). */
static void scan_device(const struct pci_config *cfg, struct pci_list *list, u32 bus, u32 dev)
{
	u32 id = cfg_read32(cfg, PCI_BDF(bus, dev, 0), PCI_VENDOR_ID);
	u32 fns = 1;

	if (!id_present(id))
		return;
	if (cfg_read8(cfg, PCI_BDF(bus, dev, 0), PCI_HEADER_TYPE) & PCI_HEADER_MULTIFN_BIT)
		fns = PCI_FNS_PER_DEV;
	add_function(cfg, list, PCI_BDF(bus, dev, 0), id);
	for (u32 fn = 1; fn < fns; fn++) {
		id = cfg_read32(cfg, PCI_BDF(bus, dev, fn), PCI_VENDOR_ID);
		if (id_present(id))
			add_function(cfg, list, PCI_BDF(bus, dev, fn), id);
	}
}

int pci_scan(const struct pci_config *cfg, struct pci_list *list)
{
	memset(list, 0, sizeof(*list));
	for (u32 bus = 0; bus < PCI_BUSES; bus++) {
		u32 before = list->nr + list->missed;

		for (u32 dev = 0; dev < PCI_DEVS_PER_BUS; dev++)
			scan_device(cfg, list, bus, dev);
		if (list->nr + list->missed > before && list->nr_buses++ == 0)
			list->first_bus = bus;
	}
	return list->missed ? -ENOSPC : (int)list->nr;
}

int pci_enable(const struct pci_dev *d, u16 bits)
{
	const u16 allowed = PCI_COMMAND_IO_BIT | PCI_COMMAND_MEMORY_BIT | PCI_COMMAND_MASTER_BIT |
			    PCI_COMMAND_INTX_DISABLE_BIT;
	u32 cmd;

	if (bits & ~allowed)
		return -EINVAL;
	cmd = cfg_read32(d->cfg, d->bdf, PCI_COMMAND) & 0xffff;
	cfg_write32(d->cfg, d->bdf, PCI_COMMAND, cmd | bits);
	if ((cfg_read32(d->cfg, d->bdf, PCI_COMMAND) & bits) != bits)
		return -EIO; /* a bit the function hardwires to 0 */
	return 0;
}

void pci_disable(const struct pci_dev *d, u16 bits)
{
	u32 cmd = cfg_read32(d->cfg, d->bdf, PCI_COMMAND) & 0xffff;

	cfg_write32(d->cfg, d->bdf, PCI_COMMAND, cmd & ~(u32)bits);
}

static const char *const bar_kind_names[] = { "none", "io", "mem32", "mem64" };

/* 4096 -> "4K", 128 KiB -> "128K", 32 -> "32". */
static void size_str(u64 size, char *buf, size_t len)
{
	static const char units[] = " KMGT";
	u32 u = 0;

	while (u + 1 < sizeof(units) - 1 && size >= 1024 && size % 1024 == 0) {
		size /= 1024;
		u++;
	}
	if (u)
		snprintf(buf, len, "%llu%c", (unsigned long long)size, units[u]);
	else
		snprintf(buf, len, "%llu", (unsigned long long)size);
}

void pci_describe(const struct pci_dev *d, char *buf, size_t len)
{
	size_t n;

	n = snprintf(buf, len, "%02x:%02x.%x %04x:%04x class %02x.%02x.%02x", PCI_BDF_BUS(d->bdf),
		     PCI_BDF_DEV(d->bdf), PCI_BDF_FN(d->bdf), d->vendor, d->device, d->class_code,
		     d->subclass, d->prog_if);
	for (u32 i = 0; i < d->nr_bars && n < len; i++) {
		const struct pci_bar *b = &d->bar[i];
		char sz[24];

		if (b->kind == PCI_BAR_NONE)
			continue;
		size_str(b->size, sz, sizeof(sz));
		n += snprintf(buf + n, len - n, " bar%u %s%s 0x%llx %s", i, bar_kind_names[b->kind],
			      b->prefetchable ? "-pf" : "", (unsigned long long)b->base, sz);
	}
}
