/*
 * PCI configuration mechanism #1 (PCI Local Bus 3.0, 3.2.2.3.2): a dword
 * address written to CONFIG_ADDRESS (0xCF8) selects bus/device/function/
 * register; CONFIG_DATA (0xCFC-0xCFF) then reads or writes it. The pair is one
 * shared state machine, so every access holds one lock. Also the hypervisor's
 * table of the functions found through it.
 */
#include <asm/io.h>
#include <asm/spinlock.h>
#include <hv/log.h>
#include <pci/pci.h>

#define PCI_CONFIG_ADDRESS	   0xcf8
#define PCI_CONFIG_DATA		   0xcfc
#define PCI_CONFIG_ADDR_ENABLE_BIT (1ULL << 31)

static spinlock_t conf1_lock;
static struct pci_list pci_table;
static bool pci_scanned;

/* The CONFIG_ADDRESS value for off's dword; false when off is outside mechanism #1's reach. */
static bool conf1_address(u32 bdf, u16 off, u16 width, u32 *addr)
{
	if (off >= PCI_CONFIG_SIZE || off % width || bdf > PCI_BDF(0xff, 0x1f, 7))
		return false;
	*addr = (u32)PCI_CONFIG_ADDR_ENABLE_BIT | (bdf << 8) | (off & 0xfc);
	return true;
}

u32 pci_read32(u32 bdf, u16 off)
{
	u32 addr, v;

	if (!conf1_address(bdf, off, 4, &addr))
		return 0xffffffff;
	spin_lock(&conf1_lock);
	outl(PCI_CONFIG_ADDRESS, addr);
	v = inl(PCI_CONFIG_DATA);
	spin_unlock(&conf1_lock);
	return v;
}

/* Narrow reads take their bytes from the dword: configuration reads have no side effects. */
u16 pci_read16(u32 bdf, u16 off)
{
	if (off % 2)
		return 0xffff;
	return (u16)(pci_read32(bdf, off & ~3) >> ((off & 2) * 8));
}

u8 pci_read8(u32 bdf, u16 off)
{
	return (u8)(pci_read32(bdf, off & ~3) >> ((off & 3) * 8));
}

void pci_write32(u32 bdf, u16 off, u32 v)
{
	u32 addr;

	if (!conf1_address(bdf, off, 4, &addr))
		return;
	spin_lock(&conf1_lock);
	outl(PCI_CONFIG_ADDRESS, addr);
	outl(PCI_CONFIG_DATA, v);
	spin_unlock(&conf1_lock);
}

/* Narrow writes go to the byte lanes of CONFIG_DATA: a dword read-modify-write would
 * write back (and so clear) write-1-to-clear bits next to the target. */
void pci_write16(u32 bdf, u16 off, u16 v)
{
	u32 addr;

	if (!conf1_address(bdf, off, 2, &addr))
		return;
	spin_lock(&conf1_lock);
	outl(PCI_CONFIG_ADDRESS, addr);
	outw(PCI_CONFIG_DATA + (off & 2), v);
	spin_unlock(&conf1_lock);
}

void pci_write8(u32 bdf, u16 off, u8 v)
{
	u32 addr;

	if (!conf1_address(bdf, off, 1, &addr))
		return;
	spin_lock(&conf1_lock);
	outl(PCI_CONFIG_ADDRESS, addr);
	outb(PCI_CONFIG_DATA + (off & 3), v);
	spin_unlock(&conf1_lock);
}

static u32 conf1_read32(void *ctx, u32 bdf, u16 off)
{
	return pci_read32(bdf, off);
}

static void conf1_write32(void *ctx, u32 bdf, u16 off, u32 v)
{
	pci_write32(bdf, off, v);
}

const struct pci_config pci_conf1 = { conf1_read32, conf1_write32, NULL };

/* One debug line per function, one summary line. */
static void pci_log(const struct pci_list *list)
{
	char line[256];

	for (u32 i = 0; i < list->nr; i++) {
		pci_describe(&list->dev[i], line, sizeof(line));
		pr_debug("pci: %s", line);
	}
	if (list->missed)
		pr_warn("pci: %u more functions than the table holds (%u) were left out",
			list->missed, PCI_LIST_MAX);
	if (list->nr_buses <= 1)
		pr_info("pci: %u functions on bus %u", list->nr, list->nr ? list->first_bus : 0);
	else
		pr_info("pci: %u functions on %u buses", list->nr, list->nr_buses);
}

const struct pci_list *pci_init(void)
{
	if (!pci_scanned) {
		pci_scan(&pci_conf1, &pci_table);
		pci_scanned = true;
		pci_log(&pci_table);
	}
	return &pci_table;
}

const struct pci_dev *pci_find(u16 vendor, u16 device, u32 index)
{
	const struct pci_list *list = pci_init();

	for (u32 i = 0; i < list->nr; i++)
		if (list->dev[i].vendor == vendor && list->dev[i].device == device && index-- == 0)
			return &list->dev[i];
	return NULL;
}
