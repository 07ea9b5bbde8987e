/* hostile-virtio: drives the VSI's virtio-blk function (00:01.0,
 * docs/vsi-platform.md "PCI") like a driver, then with hostile input, to show
 * that a guest can only hurt itself. Each verdict compares what the device
 * answered with what kernel/vdev/virtio_blk.c, virtio_pci.c and
 * virtqueue.c document:
 * - a chain the walker refuses (a buffer or table not wholly in RAM, a loop,
 *   a bad indirect table, no device-writable byte) comes back on the used
 *   ring with length 0 and nothing written, not even the status byte;
 * - a request it parses but cannot serve (direction, length, range) gets
 *   VIRTIO_BLK_S_IOERR, an unknown type VIRTIO_BLK_S_UNSUPP, used length 1,
 *   and no data moves;
 * - a broken ring (avail idx too far ahead, a head >= queue size, rings not
 *   in RAM or misaligned at enable) sets DEVICE_NEEDS_RESET, announced on
 *   the configuration vector, and the queue stops until a reset.
 * After each attack a good read of sector 0 must still find the boot
 * signature 0x55AA. The write tests use the last usable LBA of the disk's
 * GPT when no partition covers it. Completions are polled on the used ring;
 * MSI-X messages go to this vCPU's x2APIC and are counted.
 * On a read-only disk (VIRTIO_BLK_F_RO offered: the export is read-only on
 * its server) it only writes anyway, RO_WRITES times: each write must get
 * IOERR and the disk must not change. */
#include "cpu.h"

const char guest_name[] = "hostile-virtio";

/* PCI configuration mechanism #1 (PCI 3.0 3.2.2.3.2), function 00:01.0. */
#define PCI_CFG_ADDR	      0xcf8
#define PCI_CFG_DATA	      0xcfc
#define PCI_CFG_ENABLE	      (1U << 31)
#define VIRTIO_BLK_SLOT	      1
#define PCI_VENDOR_ID	      0x00
#define PCI_COMMAND	      0x04
#define PCI_STATUS	      0x06
#define PCI_CLASS_REV	      0x08
#define PCI_BAR0	      0x10
#define PCI_CAP_PTR	      0x34
#define PCI_CMD_MEMORY_BIT    (1U << 1)
#define PCI_CMD_MASTER_BIT    (1U << 2)
#define PCI_STATUS_CAP_BIT    (1U << 4)
#define PCI_BAR_IO_BIT	      (1U << 0)
#define PCI_BAR_TYPE_MASK     0x6
#define PCI_BAR_TYPE_64	      0x4
#define PCI_BAR_ADDR_MASK     (~0xfULL)
#define PCI_CAP_ID_VNDR	      0x09
#define PCI_CAP_ID_MSIX	      0x11
#define PCI_CAP_WALK_MAX      48
#define MSIX_CTRL_ENABLE_BIT  (1U << 15)
#define MSIX_CTRL_MASKALL_BIT (1U << 14)
#define MSIX_BIR_MASK	      0x7
#define MSIX_ENTRY_SIZE	      16
#define MSIX_ENTRY_MASKED_BIT (1U << 0)
#define MSI_ADDR_BASE	      0xfee00000UL
#define MSI_ADDR_DEST_SHIFT   12
#define VIRTIO_VENDOR_ID      0x1af4
#define VIRTIO_BLK_DEVICE_ID  0x1042
#define BAR_WINDOW	      0xc0000000UL /* docs/vsi-platform.md "Memory" */
#define PLATFORM_BAR_SIZE     0x4000	   /* include/hv/virtio_pci.h */

/* Virtio PCI capabilities and common configuration (VIRTIO 1.2 4.1.4). */
#define VIRTIO_PCI_CAP_COMMON 1
#define VIRTIO_PCI_CAP_NOTIFY 2
#define VIRTIO_PCI_CAP_ISR    3
#define VIRTIO_PCI_CAP_DEVICE 4
#define VIRTIO_PCI_CAP_TYPES  5
#define CC_DFSELECT	      0x00
#define CC_DF		      0x04
#define CC_GFSELECT	      0x08
#define CC_GF		      0x0c
#define CC_MSIX_CONFIG	      0x10
#define CC_STATUS	      0x14
#define CC_Q_SELECT	      0x16
#define CC_Q_SIZE	      0x18
#define CC_Q_MSIX	      0x1a
#define CC_Q_ENABLE	      0x1c
#define CC_Q_NOTIFY_OFF	      0x1e
#define CC_Q_DESC	      0x20
#define CC_Q_AVAIL	      0x28
#define CC_Q_USED	      0x30
#define VIRTIO_MSI_NO_VECTOR  0xffff

/* Device status (2.1) and features (6, 5.2.3). */
#define ST_ACKNOWLEDGE	 (1U << 0)
#define ST_DRIVER	 (1U << 1)
#define ST_DRIVER_OK	 (1U << 2)
#define ST_FEATURES_OK	 (1U << 3)
#define ST_NEEDS_RESET	 (1U << 6)
#define ST_LIVE		 (ST_ACKNOWLEDGE | ST_DRIVER | ST_FEATURES_OK | ST_DRIVER_OK)
#define F_RO		 (1ULL << 5)
#define F_INDIRECT_DESC	 (1ULL << 28)
#define F_VERSION_1	 (1ULL << 32)
#define FEATURES_WANTED	 (F_VERSION_1 | F_INDIRECT_DESC)
#define BLK_CFG_CAPACITY 0
#define BLK_CFG_SEG_MAX	 12

/* Split virtqueue (2.7) and virtio-blk requests (5.2.6). */
#define QSIZE		      16
#define VIRTQ_DESC_F_NEXT     1
#define VIRTQ_DESC_F_WRITE    2
#define VIRTQ_DESC_F_INDIRECT 4
#define IND_MAX		      256
#define VIRTIO_BLK_T_IN	      0
#define VIRTIO_BLK_T_OUT      1
#define VIRTIO_BLK_T_DISCARD  11
#define VIRTIO_BLK_T_UNKNOWN  0x7fff
#define VIRTIO_BLK_S_OK	      0
#define VIRTIO_BLK_S_IOERR    1
#define VIRTIO_BLK_S_UNSUPP   2
#define SECTOR		      512
#define RO_WRITES	      64 /* writes a read-only disk must refuse, LBA 0 up */

/* GPT header (UEFI 2.10 5.3.2) and entries (5.3.3). */
#define GPT_HEADER_LBA	  1
#define GPT_LAST_USABLE	  0x30
#define GPT_ENTRIES_LBA	  0x48
#define GPT_NR_ENTRIES	  0x50
#define GPT_ENTRY_SIZE	  0x54
#define GPT_ENTRY_MIN	  128
#define GPT_ENTRY_LAST	  0x28
#define GPT_ENTRIES_MAX	  (32 * SECTOR)
#define MBR_SIGNATURE_OFF 510

/* Interrupts and waits. */
#define VEC_CONFIG	    0x50
#define VEC_QUEUE	    0x51
#define VEC_SPURIOUS	    0xff
#define MSIX_CONFIG_ENTRY   0
#define MSIX_QUEUE_ENTRY    1
#define MSIX_BAD_ENTRY	    7 /* beyond the table (1 + queues entries) */
#define REQ_TIMEOUT_MS	    10000
#define QUIET_MS	    500 /* how long "nothing happens" is watched */
#define IRQ_TIMEOUT_MS	    2000
#define STATUS_POLL_MS	    1
#define FALLBACK_TSC_PER_MS 1000000
#define CPUID_TSC_LEAF	    0x15

/* Addresses outside every VSI's RAM (at most 3 GiB): not RAM to DMA to. */
#define LAPIC_PAGE    0xfee00000UL
#define ABOVE_4GIB    0x100001000UL
#define WRAPPING_ADDR 0xffffffffffffff00UL
#define ONE_GIB_LEN   0x40000000U

#define DATA_FILL   0xa5
#define STATUS_FILL 0xee

#define PTE_P		 (1UL << 0)
#define PTE_W		 (1UL << 1)
#define PTE_PWT		 (1UL << 3)
#define PTE_PCD		 (1UL << 4)
#define PTE_PS		 (1UL << 7)
#define PTE_ADDR	 0x000ffffffffff000UL
#define LARGE_PAGE	 (2 * MiB)
#define MIN(a, b)	 ((a) < (b) ? (a) : (b))
#define barrier()	 asm volatile("" ::: "memory")
#define READ_ONCE(x)	 (*(const volatile __typeof__(x) *)&(x))
#define WRITE_ONCE(x, v) (*(volatile __typeof__(x) *)&(x) = (v))

struct virtq_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

struct virtq_avail {
	uint16_t flags, idx, ring[QSIZE], used_event;
};

struct virtq_used {
	uint16_t flags, idx;
	struct {
		uint32_t id, len;
	} ring[QSIZE];
	uint16_t avail_event;
};

struct blk_hdr {
	uint32_t type, reserved;
	uint64_t sector;
};
_Static_assert(sizeof(struct virtq_desc) == 16, "virtq_desc is 16 bytes (2.7.5)");
_Static_assert(sizeof(struct blk_hdr) == 16, "virtio_blk_req header is 16 bytes (5.2.6)");

/* What the driver knows about the function. */
struct vblk {
	uint64_t bar[6], bar_size[6];
	bool bar64[6];
	struct {
		bool found;
		uint8_t bar;
		uint32_t off;
	} cap[VIRTIO_PCI_CAP_TYPES];
	uint32_t notify_mult;
	uint8_t msix_cap;
	uint32_t msix_table, msix_pba; /* offset | BIR */
	uint64_t common, devcfg, notify, msix;
	uint16_t qmax;
	uint64_t capacity; /* sectors */
	uint32_t seg_max;
	uint64_t spare; /* LBA the write tests aim at; 0: none */
	uint16_t avail_idx, used_idx;
};

struct answer {
	uint32_t id, len;
	uint8_t status;
	bool extra; /* more than one used element */
};

enum want {
	WANT_OK,
	WANT_DROPPED,
	WANT_IOERR,
	WANT_UNSUPP,
	WANT_IOERR_IN_DATA
};

static struct {
	struct virtq_desc desc[QSIZE];
	struct virtq_avail avail;
	struct virtq_used used;
} ring __attribute__((aligned(4096)));

static struct vblk dev;
static struct blk_hdr hdr;
static volatile uint8_t status; /* the request's status byte */
static uint8_t data[2 * SECTOR] __attribute__((aligned(SECTOR)));
static uint8_t check[SECTOR] __attribute__((aligned(SECTOR)));
static uint8_t pattern[SECTOR];
static uint8_t gpt[GPT_ENTRIES_MAX] __attribute__((aligned(SECTOR)));
static struct virtq_desc ind[IND_MAX] __attribute__((aligned(16)));
static struct virtq_desc nested[3] __attribute__((aligned(16)));
static uint64_t bar_pd[512] __attribute__((aligned(4096)));
static volatile uint32_t config_irqs, queue_irqs;
static uint64_t tsc_per_ms;
static char why[160];

static __printf(1, 2) bool failed(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprint(why, sizeof(why), fmt, ap);
	va_end(ap);
	return false;
}

static void verdict(const char *what, bool ok)
{
	if (ok)
		expect_ok(what);
	else
		expect_fail(what, "%s", why);
}

static uint64_t addr_of(const volatile void *p)
{
	return (uint64_t)(uintptr_t)p;
}

static bool filled(const uint8_t *b, size_t n, uint8_t v)
{
	for (size_t i = 0; i < n; i++)
		if (READ_ONCE(b[i]) != v)
			return false;
	return true;
}

static uint64_t le64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static uint32_t le32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/* ---- time ---- */

/* CPUID 0x15 gives the TSC rate (docs/vsi-platform.md "CPUID"). */
static void timing_init(void)
{
	uint32_t r[4];

	cpuid(CPUID_TSC_LEAF, 0, r);
	if (r[0] && r[1] && r[2])
		tsc_per_ms = (uint64_t)r[2] * r[1] / r[0] / 1000;
	if (!tsc_per_ms)
		tsc_per_ms = FALLBACK_TSC_PER_MS;
}

static uint64_t deadline(uint32_t ms)
{
	return rdtsc_fenced() + ms * tsc_per_ms;
}

static bool expired(uint64_t end)
{
	return rdtsc_fenced() > end;
}

static void sleep_ms(uint32_t ms)
{
	uint64_t end = deadline(ms);

	while (!expired(end))
		cpu_relax();
}

/* ---- MMIO: plain MOVs, the instructions the platform decodes ---- */

static uint8_t mmio_rd8(uint64_t a)
{
	uint8_t v;

	asm volatile("movb %1, %0" : "=q"(v) : "m"(*(volatile uint8_t *)a) : "memory");
	return v;
}

static uint16_t mmio_rd16(uint64_t a)
{
	uint16_t v;

	asm volatile("movw %1, %0" : "=r"(v) : "m"(*(volatile uint16_t *)a) : "memory");
	return v;
}

static uint32_t mmio_rd32(uint64_t a)
{
	uint32_t v;

	asm volatile("movl %1, %0" : "=r"(v) : "m"(*(volatile uint32_t *)a) : "memory");
	return v;
}

static void mmio_wr8(uint64_t a, uint8_t v)
{
	asm volatile("movb %1, %0" : "=m"(*(volatile uint8_t *)a) : "q"(v) : "memory");
}

static void mmio_wr16(uint64_t a, uint16_t v)
{
	asm volatile("movw %1, %0" : "=m"(*(volatile uint16_t *)a) : "r"(v) : "memory");
}

static void mmio_wr32(uint64_t a, uint32_t v)
{
	asm volatile("movl %1, %0" : "=m"(*(volatile uint32_t *)a) : "r"(v) : "memory");
}

/* 4.1.3.1: 64-bit fields as two 32-bit accesses, low half first. */
static void mmio_wr64(uint64_t a, uint64_t v)
{
	mmio_wr32(a, (uint32_t)v);
	mmio_wr32(a + 4, (uint32_t)(v >> 32));
}

static uint64_t mmio_rd64(uint64_t a)
{
	return mmio_rd32(a) | (uint64_t)mmio_rd32(a + 4) << 32;
}

/* ---- PCI configuration space of 00:01.0 ---- */

static void pci_select(uint32_t reg)
{
	outl(PCI_CFG_ADDR, PCI_CFG_ENABLE | VIRTIO_BLK_SLOT << 11 | (reg & 0xfc));
}

static uint32_t pci_read(uint32_t reg, int size)
{
	pci_select(reg);
	if (size == 1)
		return inb(PCI_CFG_DATA + (reg & 3));
	if (size == 2)
		return inw(PCI_CFG_DATA + (reg & 2));
	return inl(PCI_CFG_DATA);
}

static void pci_write(uint32_t reg, int size, uint32_t v)
{
	pci_select(reg);
	if (size == 1)
		outb(PCI_CFG_DATA + (reg & 3), (uint8_t)v);
	else if (size == 2)
		outw(PCI_CFG_DATA + (reg & 2), (uint16_t)v);
	else
		outl(PCI_CFG_DATA, v);
}

static void pci_command(uint16_t set, uint16_t clear)
{
	pci_write(PCI_COMMAND, 2, (pci_read(PCI_COMMAND, 2) | set) & ~clear);
}

static bool find_device(void)
{
	uint32_t id = pci_read(PCI_VENDOR_ID, 4);
	uint32_t cls = pci_read(PCI_CLASS_REV, 4);

	guest_say("00:01.0: id %04x:%04x class %02x/%02x rev %u", id & 0xffff, id >> 16, cls >> 24,
		  (cls >> 16) & 0xff, cls & 0xff);
	if ((id & 0xffff) != VIRTIO_VENDOR_ID || id >> 16 != VIRTIO_BLK_DEVICE_ID)
		return failed("00:01.0 is %04x:%04x, want %04x:%04x", id & 0xffff, id >> 16,
			      VIRTIO_VENDOR_ID, VIRTIO_BLK_DEVICE_ID);
	return true;
}

static uint32_t cap_bar(int type)
{
	return dev.cap[type].bar;
}

static void record_vendor_cap(uint8_t pos)
{
	uint8_t type = (uint8_t)pci_read(pos + 3, 1);

	if (type == 0 || type >= VIRTIO_PCI_CAP_TYPES || dev.cap[type].found)
		return; /* 4.1.4: the first of each type is the one to use */
	dev.cap[type].found = true;
	dev.cap[type].bar = (uint8_t)pci_read(pos + 4, 1);
	dev.cap[type].off = pci_read(pos + 8, 4);
	if (type == VIRTIO_PCI_CAP_NOTIFY)
		dev.notify_mult = pci_read(pos + 16, 4);
}

/* The capability list (PCI 3.0 6.7), bounded against a list that loops. */
static bool walk_caps(void)
{
	uint8_t pos;

	if (!(pci_read(PCI_STATUS, 2) & PCI_STATUS_CAP_BIT))
		return failed("status register has no capability list");
	pos = (uint8_t)pci_read(PCI_CAP_PTR, 1) & ~3;
	for (int n = 0; pos && n < PCI_CAP_WALK_MAX; n++) {
		uint8_t id = (uint8_t)pci_read(pos, 1);

		if (id == PCI_CAP_ID_VNDR) {
			record_vendor_cap(pos);
		} else if (id == PCI_CAP_ID_MSIX) {
			dev.msix_cap = pos;
			dev.msix_table = pci_read(pos + 4, 4);
			dev.msix_pba = pci_read(pos + 8, 4);
		}
		pos = (uint8_t)pci_read(pos + 1, 1) & ~3;
	}
	for (int t = VIRTIO_PCI_CAP_COMMON; t <= VIRTIO_PCI_CAP_DEVICE; t++)
		if (!dev.cap[t].found)
			return failed("no virtio capability of type %d", t);
	if (!dev.msix_cap)
		return failed("no MSI-X capability");
	guest_say("capabilities (BAR+offset): common %u+0x%x notify %u+0x%x (x%u) isr %u+0x%x "
		  "device %u+0x%x msix table %u+0x%x pba %u+0x%x",
		  cap_bar(VIRTIO_PCI_CAP_COMMON), dev.cap[VIRTIO_PCI_CAP_COMMON].off,
		  cap_bar(VIRTIO_PCI_CAP_NOTIFY), dev.cap[VIRTIO_PCI_CAP_NOTIFY].off,
		  dev.notify_mult, cap_bar(VIRTIO_PCI_CAP_ISR), dev.cap[VIRTIO_PCI_CAP_ISR].off,
		  cap_bar(VIRTIO_PCI_CAP_DEVICE), dev.cap[VIRTIO_PCI_CAP_DEVICE].off,
		  dev.msix_table & MSIX_BIR_MASK, dev.msix_table & ~MSIX_BIR_MASK,
		  dev.msix_pba & MSIX_BIR_MASK, dev.msix_pba & ~MSIX_BIR_MASK);
	if (!platform.hv)
		return true;
	for (int t = VIRTIO_PCI_CAP_COMMON; t <= VIRTIO_PCI_CAP_DEVICE; t++)
		if (cap_bar(t) != 0)
			return failed("capability %d in BAR%u: the platform has BAR0 only", t,
				      cap_bar(t));
	if (dev.msix_table & MSIX_BIR_MASK)
		return failed("MSI-X table in BAR%u: the platform has BAR0 only",
			      dev.msix_table & MSIX_BIR_MASK);
	return true;
}

/* ---- BARs ---- */

/* The 2 MiB page holding va in the boot map, or NULL if a level is absent. */
static uint64_t *pde_of(uint64_t va)
{
	uint64_t e = boot_pml4[(va >> 39) & 511], *pd;

	if (!(e & PTE_P))
		return NULL;
	e = ((uint64_t *)(e & PTE_ADDR))[(va >> 30) & 511];
	if (!(e & PTE_P) || (e & PTE_PS))
		return NULL;
	pd = (uint64_t *)(e & PTE_ADDR);
	return &pd[(va >> 21) & 511];
}

/* The boot map covers the low 4 GiB: check it maps [base, base+size), else map it uncached. */
static void ensure_mapped(uint64_t base, uint64_t size)
{
	for (uint64_t va = base & ~(LARGE_PAGE - 1); va < base + size; va += LARGE_PAGE) {
		uint64_t *pde = pde_of(va);

		if (pde && (*pde & PTE_P))
			continue;
		if (!pde) {
			boot_pdpt[(va >> 30) & 511] = addr_of(bar_pd) | PTE_P | PTE_W;
			pde = &bar_pd[(va >> 21) & 511];
		}
		*pde = va | PTE_P | PTE_W | PTE_PS | PTE_PCD | PTE_PWT;
		guest_say("mapped 0x%lx for the BAR", va);
		write_cr3(read_cr3());
	}
}

/* Size BAR i (PCI 3.0 6.2.5.1) and give it the next aligned address of the window. */
static bool assign_bar(uint32_t i, uint64_t *next)
{
	uint32_t reg = PCI_BAR0 + 4 * i, lo = pci_read(reg, 4);
	bool b64 = (lo & PCI_BAR_TYPE_MASK) == PCI_BAR_TYPE_64;
	uint64_t mask, size, base, got;

	if (dev.bar[i])
		return true;
	if (lo & PCI_BAR_IO_BIT)
		return failed("BAR%u is an I/O BAR", i);
	pci_write(reg, 4, 0xffffffff);
	mask = pci_read(reg, 4) & PCI_BAR_ADDR_MASK & 0xffffffffULL;
	if (b64) {
		pci_write(reg + 4, 4, 0xffffffff);
		mask |= (uint64_t)pci_read(reg + 4, 4) << 32;
	} else {
		mask |= ~0xffffffffULL;
	}
	size = ~mask + 1;
	if (!mask || (size & (size - 1)))
		return failed("BAR%u sizes to mask 0x%lx", i, mask);
	base = (*next + size - 1) & ~(size - 1);
	pci_write(reg, 4, (uint32_t)base);
	if (b64)
		pci_write(reg + 4, 4, (uint32_t)(base >> 32));
	got = pci_read(reg, 4) & PCI_BAR_ADDR_MASK;
	if (b64)
		got |= (uint64_t)pci_read(reg + 4, 4) << 32;
	if (got != base)
		return failed("BAR%u reads back 0x%lx after writing 0x%lx", i, got, base);
	guest_say("BAR%u: %s, %lu KiB at 0x%lx", i, b64 ? "64-bit" : "32-bit", size >> 10, base);
	dev.bar[i] = base;
	dev.bar_size[i] = size;
	dev.bar64[i] = b64;
	*next = base + size;
	ensure_mapped(base, size);
	return true;
}

static bool assign_bars(void)
{
	uint64_t next = BAR_WINDOW;

	pci_command(0, PCI_CMD_MEMORY_BIT | PCI_CMD_MASTER_BIT); /* decoding off while sizing */
	for (int t = VIRTIO_PCI_CAP_COMMON; t <= VIRTIO_PCI_CAP_DEVICE; t++) {
		if (dev.cap[t].bar > 5)
			return failed("capability %d names BAR%u", t, dev.cap[t].bar);
		if (!assign_bar(dev.cap[t].bar, &next))
			return false;
	}
	if (!assign_bar(dev.msix_table & MSIX_BIR_MASK, &next) ||
	    !assign_bar(dev.msix_pba & MSIX_BIR_MASK, &next))
		return false;
	if (platform.hv && (!dev.bar64[0] || dev.bar_size[0] != PLATFORM_BAR_SIZE))
		return failed("BAR0 is %s, %lu bytes; want 64-bit, %u bytes",
			      dev.bar64[0] ? "64-bit" : "32-bit", dev.bar_size[0],
			      PLATFORM_BAR_SIZE);
	dev.common =
	    dev.bar[dev.cap[VIRTIO_PCI_CAP_COMMON].bar] + dev.cap[VIRTIO_PCI_CAP_COMMON].off;
	dev.devcfg =
	    dev.bar[dev.cap[VIRTIO_PCI_CAP_DEVICE].bar] + dev.cap[VIRTIO_PCI_CAP_DEVICE].off;
	dev.msix = dev.bar[dev.msix_table & MSIX_BIR_MASK] + (dev.msix_table & ~MSIX_BIR_MASK);
	pci_command(PCI_CMD_MEMORY_BIT | PCI_CMD_MASTER_BIT, 0);
	return true;
}

/* ---- interrupts ---- */

static void on_config_irq(struct trap_frame *f)
{
	(void)f;
	config_irqs++;
	apic_eoi();
}

static void on_queue_irq(struct trap_frame *f)
{
	(void)f;
	queue_irqs++;
	apic_eoi();
}

static void on_spurious(struct trap_frame *f)
{
	(void)f;
}

static bool wait_irq(volatile uint32_t *count, uint32_t ms)
{
	uint64_t end = deadline(ms);

	while (!*count && !expired(end))
		cpu_relax();
	return *count != 0;
}

static uint64_t msix_entry(uint32_t e)
{
	return dev.msix + e * MSIX_ENTRY_SIZE;
}

/* Entry e: a fixed, edge interrupt of vector to this vCPU (SDM 11.11), masked or not. */
static void msix_set(uint32_t e, uint8_t vector, bool masked)
{
	mmio_wr32(msix_entry(e), (uint32_t)(MSI_ADDR_BASE | apic_id() << MSI_ADDR_DEST_SHIFT));
	mmio_wr32(msix_entry(e) + 4, 0);
	mmio_wr32(msix_entry(e) + 8, vector);
	mmio_wr32(msix_entry(e) + 12, masked ? MSIX_ENTRY_MASKED_BIT : 0);
}

static void irq_init(void)
{
	uint16_t ctrl;

	apic_init();
	trap_set_handler(VEC_CONFIG, on_config_irq);
	trap_set_handler(VEC_QUEUE, on_queue_irq);
	trap_set_handler(VEC_SPURIOUS, on_spurious);
	apic_soft_enable(VEC_SPURIOUS);
	msix_set(MSIX_CONFIG_ENTRY, VEC_CONFIG, false);
	msix_set(MSIX_QUEUE_ENTRY, VEC_QUEUE, false);
	ctrl = (uint16_t)pci_read(dev.msix_cap + 2, 2);
	pci_write(dev.msix_cap + 2, 2, (ctrl | MSIX_CTRL_ENABLE_BIT) & ~MSIX_CTRL_MASKALL_BIT);
	asm volatile("sti");
}

/* ---- the device: status, features, the queue ---- */

static uint8_t status_get(void)
{
	return mmio_rd8(dev.common + CC_STATUS);
}

static void status_set(uint8_t s)
{
	mmio_wr8(dev.common + CC_STATUS, s);
}

/* 4.1.4.3.2: after writing 0 the driver waits until status reads 0. */
static bool dev_reset(void)
{
	uint64_t end = deadline(REQ_TIMEOUT_MS);

	status_set(0);
	while (status_get() != 0)
		if (expired(end))
			return failed("status never read 0 after a reset");
	return true;
}

static uint64_t device_features(void)
{
	uint64_t f;

	mmio_wr32(dev.common + CC_DFSELECT, 0);
	f = mmio_rd32(dev.common + CC_DF);
	mmio_wr32(dev.common + CC_DFSELECT, 1);
	return f | (uint64_t)mmio_rd32(dev.common + CC_DF) << 32;
}

/* Reset, ACKNOWLEDGE, DRIVER, write f, FEATURES_OK: the status read back (3.1.1). */
static uint8_t negotiate(uint64_t f)
{
	dev_reset();
	status_set(ST_ACKNOWLEDGE);
	status_set(ST_ACKNOWLEDGE | ST_DRIVER);
	mmio_wr32(dev.common + CC_GFSELECT, 0);
	mmio_wr32(dev.common + CC_GF, (uint32_t)f);
	mmio_wr32(dev.common + CC_GFSELECT, 1);
	mmio_wr32(dev.common + CC_GF, (uint32_t)(f >> 32));
	status_set(ST_ACKNOWLEDGE | ST_DRIVER | ST_FEATURES_OK);
	return status_get();
}

/* Queue 0 at the given rings, on the queue vector, then enabled (4.1.5.1.3). */
static void queue_program(uint16_t size, uint64_t desc, uint64_t avail, uint64_t used)
{
	uint64_t c = dev.common;

	mmio_wr16(c + CC_Q_SELECT, 0);
	mmio_wr16(c + CC_Q_SIZE, size);
	mmio_wr16(c + CC_Q_MSIX, MSIX_QUEUE_ENTRY);
	mmio_wr64(c + CC_Q_DESC, desc);
	mmio_wr64(c + CC_Q_AVAIL, avail);
	mmio_wr64(c + CC_Q_USED, used);
	mmio_wr16(c + CC_Q_ENABLE, 1);
	dev.notify = dev.bar[dev.cap[VIRTIO_PCI_CAP_NOTIFY].bar] +
		     dev.cap[VIRTIO_PCI_CAP_NOTIFY].off +
		     (uint64_t)mmio_rd16(c + CC_Q_NOTIFY_OFF) * dev.notify_mult;
}

static void ring_clear(void)
{
	memset(&ring, 0, sizeof(ring));
	dev.avail_idx = 0;
	dev.used_idx = 0;
}

/* Negotiate FEATURES_WANTED and bring queue 0 up on our rings with DRIVER_OK. */
static bool dev_restart(void)
{
	uint8_t st;

	ring_clear();
	st = negotiate(FEATURES_WANTED);
	if (!(st & ST_FEATURES_OK))
		return failed("FEATURES_OK refused after a reset (status 0x%x)", st);
	mmio_wr16(dev.common + CC_MSIX_CONFIG, MSIX_CONFIG_ENTRY);
	queue_program(QSIZE, addr_of(ring.desc), addr_of(&ring.avail), addr_of(&ring.used));
	status_set(ST_LIVE);
	st = status_get();
	if (st != ST_LIVE)
		return failed("status 0x%x after DRIVER_OK, want 0x%x", st, ST_LIVE);
	return true;
}

/* ---- requests ---- */

static void desc_set(struct virtq_desc *d, uint64_t addr, uint32_t len, uint16_t flags,
		     uint16_t next)
{
	d->addr = addr;
	d->len = len;
	d->flags = flags;
	d->next = next;
}

/* Header, data (data_flags), status byte: descriptors 0, 1, 2 of table t. */
static void chain_rw(struct virtq_desc *t, uint32_t type, uint64_t lba, uint64_t addr, uint32_t len,
		     uint16_t data_flags)
{
	hdr.type = type;
	hdr.reserved = 0;
	hdr.sector = lba;
	desc_set(&t[0], addr_of(&hdr), sizeof(hdr), VIRTQ_DESC_F_NEXT, 1);
	desc_set(&t[1], addr, len, data_flags | VIRTQ_DESC_F_NEXT, 2);
	desc_set(&t[2], addr_of(&status), 1, VIRTQ_DESC_F_WRITE, 0);
}

static void sentinels(void)
{
	memset(data, DATA_FILL, sizeof(data));
	status = STATUS_FILL;
	memset(ring.desc, 0, sizeof(ring.desc));
	memset(ind, 0, sizeof(ind));
}

static void notify(void)
{
	mmio_wr16(dev.notify, 0);
}

/* Make the chain at head available and tell the device (2.7.13). */
static void submit(uint16_t head)
{
	ring.avail.ring[dev.avail_idx % QSIZE] = head;
	barrier();
	dev.avail_idx++;
	WRITE_ONCE(ring.avail.idx, dev.avail_idx);
	barrier();
	notify();
}

/* The next used element, if one arrives within ms. */
static bool wait_answer(struct answer *a, uint32_t ms)
{
	uint64_t end = deadline(ms);

	while (READ_ONCE(ring.used.idx) == dev.used_idx)
		if (expired(end))
			return false;
	barrier();
	a->id = READ_ONCE(ring.used.ring[dev.used_idx % QSIZE].id);
	a->len = READ_ONCE(ring.used.ring[dev.used_idx % QSIZE].len);
	dev.used_idx++;
	a->status = status;
	a->extra = READ_ONCE(ring.used.idx) != dev.used_idx;
	return true;
}

/* Read or write len bytes at lba through a plain chain; true if answered OK. */
static bool transfer(uint32_t type, uint64_t lba, void *buf, uint32_t len)
{
	uint16_t dir = type == VIRTIO_BLK_T_IN ? VIRTQ_DESC_F_WRITE : 0;
	uint32_t want_len = type == VIRTIO_BLK_T_IN ? len + 1 : 1;
	struct answer a;

	status = STATUS_FILL;
	chain_rw(ring.desc, type, lba, addr_of(buf), len, dir);
	submit(0);
	if (!wait_answer(&a, REQ_TIMEOUT_MS))
		return failed("%s of LBA %lu: no answer in %u ms",
			      type == VIRTIO_BLK_T_IN ? "read" : "write", lba, REQ_TIMEOUT_MS);
	if (a.id != 0 || a.len != want_len || a.status != VIRTIO_BLK_S_OK || a.extra)
		return failed("%s of LBA %lu: used id %u len %u status 0x%x, want 0 %u 0x0",
			      type == VIRTIO_BLK_T_IN ? "read" : "write", lba, a.id, a.len,
			      a.status, want_len);
	return true;
}

/* A good read of sector 0 finds the boot signature (MBR or GPT protective MBR). */
static bool sector0_ok(void)
{
	memset(check, DATA_FILL, sizeof(check));
	if (!transfer(VIRTIO_BLK_T_IN, 0, check, SECTOR))
		return false;
	if (check[MBR_SIGNATURE_OFF] != 0x55 || check[MBR_SIGNATURE_OFF + 1] != 0xaa)
		return failed("sector 0 ends in %02x %02x, want 55 aa", check[MBR_SIGNATURE_OFF],
			      check[MBR_SIGNATURE_OFF + 1]);
	return true;
}

/* The spare sector still holds the pattern this run wrote. */
static bool spare_intact(void)
{
	memset(check, DATA_FILL, sizeof(check));
	if (!transfer(VIRTIO_BLK_T_IN, dev.spare, check, SECTOR))
		return false;
	if (memcmp(check, pattern, SECTOR))
		return failed("LBA %lu changed: a refused write landed", dev.spare);
	return true;
}

/* What the device answered, against what it documents for that kind of chain. */
static bool check_answer(const struct answer *a, enum want w)
{
	uint8_t st = w == WANT_UNSUPP ? VIRTIO_BLK_S_UNSUPP : VIRTIO_BLK_S_IOERR;

	if (a->id != 0 || a->extra)
		return failed("used id %u%s, want head 0 once", a->id, a->extra ? " and more" : "");
	switch (w) {
	case WANT_OK:
		if (a->len != SECTOR + 1 || a->status != VIRTIO_BLK_S_OK)
			return failed("used len %u status 0x%x, want %u and OK", a->len, a->status,
				      SECTOR + 1);
		if (data[MBR_SIGNATURE_OFF] != 0x55 || data[MBR_SIGNATURE_OFF + 1] != 0xaa)
			return failed("read OK but sector 0 ends in %02x %02x",
				      data[MBR_SIGNATURE_OFF], data[MBR_SIGNATURE_OFF + 1]);
		return true;
	case WANT_DROPPED:
		if (a->len != 0 || a->status != STATUS_FILL)
			return failed("used len %u status 0x%x, want len 0 and status untouched",
				      a->len, a->status);
		break;
	case WANT_IOERR:
	case WANT_UNSUPP:
		if (a->len != 1 || a->status != st)
			return failed("used len %u status 0x%x, want len 1 status %u", a->len,
				      a->status, st);
		break;
	case WANT_IOERR_IN_DATA:
		if (a->len != 1 || a->status != STATUS_FILL || data[SECTOR - 1] != st)
			return failed("used len %u, data[511] 0x%x, status 0x%x: want 1, IOERR, "
				      "untouched",
				      a->len, data[SECTOR - 1], a->status);
		if (!filled(data, SECTOR - 1, DATA_FILL))
			return failed("data moved before the status byte");
		return true;
	}
	if (!filled(data, sizeof(data), DATA_FILL))
		return failed("the data buffer was written");
	return true;
}

/* Submit the chain built at descriptor 0, check the answer, then that the
 * device still serves a good read (and kept the spare sector, for writes). */
static void run_case(const char *name, enum want w, bool writes)
{
	struct answer a;
	bool ok;

	submit(0);
	if (!wait_answer(&a, REQ_TIMEOUT_MS)) {
		ok = failed("no used element within %u ms", REQ_TIMEOUT_MS);
		dev_restart(); /* the next case starts from a clean queue */
	} else {
		ok = check_answer(&a, w) && (!writes || !dev.spare || spare_intact()) &&
		     sector0_ok();
	}
	verdict(name, ok);
}

/* ---- the good path ---- */

static void features_tests(void)
{
	uint64_t offered = device_features(), bad = 0;
	uint8_t st;

	guest_say("device features 0x%lx", offered);
	verdict("device-offers-version-1-and-indirect",
		(offered & FEATURES_WANTED) == FEATURES_WANTED || failed("offered 0x%lx", offered));
	st = negotiate(F_INDIRECT_DESC);
	verdict("features-ok-refused-without-version-1",
		!(st & ST_FEATURES_OK) || failed("status 0x%x", st));
	for (int b = 0; b < 64 && !bad; b++)
		if (!(offered & (1ULL << b)))
			bad = 1ULL << b;
	st = negotiate(FEATURES_WANTED | bad);
	verdict("features-ok-refused-for-unoffered-bit",
		!(st & ST_FEATURES_OK) || failed("bit 0x%lx accepted: status 0x%x", bad, st));
	st = negotiate(FEATURES_WANTED);
	verdict("features-ok-accepted",
		(st & ST_FEATURES_OK) || failed("VERSION_1|INDIRECT_DESC: status 0x%x", st));
}

static bool queue_checks(void)
{
	uint64_t c = dev.common;
	uint16_t v;

	if (!dev_restart())
		return false;
	if ((v = mmio_rd16(c + CC_Q_ENABLE)) != 1)
		return failed("queue_enable reads %u", v);
	if ((v = mmio_rd16(c + CC_Q_MSIX)) != MSIX_QUEUE_ENTRY ||
	    mmio_rd16(c + CC_MSIX_CONFIG) != MSIX_CONFIG_ENTRY)
		return failed("vectors read back 0x%x (queue) 0x%x (config)", v,
			      mmio_rd16(c + CC_MSIX_CONFIG));
	dev.capacity = mmio_rd64(dev.devcfg + BLK_CFG_CAPACITY);
	dev.seg_max = mmio_rd32(dev.devcfg + BLK_CFG_SEG_MAX);
	guest_say("queue 0: %u of %u entries; capacity %lu sectors, seg_max %u", QSIZE, dev.qmax,
		  dev.capacity, dev.seg_max);
	if (dev.capacity < 2 || dev.seg_max == 0)
		return failed("capacity %lu, seg_max %u", dev.capacity, dev.seg_max);
	return true;
}

static void queue_setup_tests(void)
{
	uint16_t v;

	mmio_wr16(dev.common + CC_Q_SELECT, 0);
	dev.qmax = mmio_rd16(dev.common + CC_Q_SIZE);
	verdict("queue-live",
		(dev.qmax >= QSIZE || failed("queue size %u", dev.qmax)) && queue_checks());
	mmio_wr16(dev.common + CC_Q_MSIX, MSIX_BAD_ENTRY);
	v = mmio_rd16(dev.common + CC_Q_MSIX);
	mmio_wr16(dev.common + CC_Q_MSIX, MSIX_QUEUE_ENTRY);
	verdict("msix-vector-beyond-table-refused",
		v == VIRTIO_MSI_NO_VECTOR ||
		    failed("vector %u reads back 0x%x", MSIX_BAD_ENTRY, v));
}

/* The GPT's last usable LBA, if no partition covers it: the write tests' target. */
static bool find_spare(void)
{
	uint64_t last_usable, entries, end = 0;
	uint32_t n, size;

	memset(check, 0, sizeof(check));
	if (!transfer(VIRTIO_BLK_T_IN, GPT_HEADER_LBA, check, SECTOR))
		return false;
	if (memcmp(check, "EFI PART", 8))
		return failed("LBA 1 is not a GPT header");
	last_usable = le64(check + GPT_LAST_USABLE);
	entries = le64(check + GPT_ENTRIES_LBA);
	n = le32(check + GPT_NR_ENTRIES);
	size = le32(check + GPT_ENTRY_SIZE);
	if (size < GPT_ENTRY_MIN || (uint64_t)n * size > sizeof(gpt))
		return failed("%u GPT entries of %u bytes", n, size);
	if (!transfer(VIRTIO_BLK_T_IN, entries, gpt, (n * size + SECTOR - 1) & ~(SECTOR - 1)))
		return false;
	for (uint32_t i = 0; i < n; i++) {
		const uint8_t *e = gpt + i * size;

		if (!filled(e, 16, 0) && le64(e + GPT_ENTRY_LAST) > end)
			end = le64(e + GPT_ENTRY_LAST);
	}
	if (last_usable >= dev.capacity || last_usable <= end)
		return failed("last usable LBA %lu, partitions end at %lu: no spare sector",
			      last_usable, end);
	guest_say("spare sector: LBA %lu (partitions end at LBA %lu)", last_usable, end);
	dev.spare = last_usable;
	return true;
}

static bool write_read_back(void)
{
	uint64_t seed = rdtsc_fenced();

	for (int i = 0; i < SECTOR; i++)
		pattern[i] = (uint8_t)(seed >> (8 * (i % 8))) ^ (uint8_t)i;
	guest_say("writing pattern 0x%lx to LBA %lu", seed, dev.spare);
	memcpy(data, pattern, SECTOR);
	if (!transfer(VIRTIO_BLK_T_OUT, dev.spare, data, SECTOR))
		return false;
	return spare_intact();
}

/* With the queue vector masked the message waits in the PBA and goes out
 * when it is unmasked (PCI 3.0 6.8.3.4). */
static bool msix_pending(void)
{
	uint64_t pba = dev.bar[dev.msix_pba & MSIX_BIR_MASK] + (dev.msix_pba & ~MSIX_BIR_MASK);
	uint32_t bits;

	msix_set(MSIX_QUEUE_ENTRY, VEC_QUEUE, true);
	queue_irqs = 0;
	if (!sector0_ok())
		return false;
	sleep_ms(QUIET_MS);
	bits = mmio_rd32(pba);
	if (queue_irqs || !(bits & (1U << MSIX_QUEUE_ENTRY)))
		return failed("masked: %u interrupts, PBA 0x%x", queue_irqs, bits);
	mmio_wr32(msix_entry(MSIX_QUEUE_ENTRY) + 12, 0);
	if (!wait_irq(&queue_irqs, IRQ_TIMEOUT_MS))
		return failed("no interrupt after unmasking");
	bits = mmio_rd32(pba);
	return !(bits & (1U << MSIX_QUEUE_ENTRY)) || failed("PBA 0x%x after delivery", bits);
}

/* With bus mastering off the device must not touch memory; on again, it serves. */
static bool bus_master_gate(void)
{
	struct answer a;

	sentinels();
	chain_rw(ring.desc, VIRTIO_BLK_T_IN, 0, addr_of(data), SECTOR, VIRTQ_DESC_F_WRITE);
	pci_command(0, PCI_CMD_MASTER_BIT);
	submit(0);
	sleep_ms(QUIET_MS);
	if (READ_ONCE(ring.used.idx) != dev.used_idx || status != STATUS_FILL ||
	    !filled(data, sizeof(data), DATA_FILL)) {
		pci_command(PCI_CMD_MASTER_BIT, 0);
		return failed("served with bus mastering off");
	}
	pci_command(PCI_CMD_MASTER_BIT, 0);
	if (!wait_answer(&a, REQ_TIMEOUT_MS))
		return failed("not served after bus mastering came back");
	return check_answer(&a, WANT_OK);
}

static bool queue_irq_arrived(void)
{
	if (wait_irq(&queue_irqs, IRQ_TIMEOUT_MS))
		return true;
	return failed("no interrupt on vector 0x%x in %u ms", VEC_QUEUE, IRQ_TIMEOUT_MS);
}

static void good_path(void)
{
	sentinels();
	queue_irqs = 0;
	verdict("read-sector0-boot-signature", sector0_ok());
	verdict("msix-queue-interrupt", queue_irq_arrived());
	verdict("gpt-spare-sector", find_spare());
	verdict("write-read-back", dev.spare ? write_read_back() : failed("no spare sector"));
	verdict("msix-masked-then-pending", msix_pending());
	verdict("no-dma-without-bus-master", bus_master_gate());
}

/* ---- hostile requests: plain three-descriptor chains ---- */

enum lba_ref {
	LBA_AT,
	LBA_CAPACITY,
	LBA_SPARE
};
enum addr_ref {
	ADDR_DATA,
	ADDR_RAM_END,
	ADDR_REGS,
	ADDR_AT
};

struct rw_case {
	const char *name;
	uint32_t type;
	uint8_t lba_ref;
	int64_t lba;
	uint8_t addr_ref;
	int64_t addr;
	uint32_t len;
	uint16_t data_flags;
	uint8_t want;
};

#define W VIRTQ_DESC_F_WRITE
static const struct rw_case rw_cases[] = {
	/* buffers not wholly in RAM: refused by the walker */
	{ "read-into-ram-end", VIRTIO_BLK_T_IN, LBA_AT, 0, ADDR_RAM_END, 0, SECTOR, W,
	  WANT_DROPPED },
	{ "read-straddling-ram-end", VIRTIO_BLK_T_IN, LBA_AT, 0, ADDR_RAM_END, -256, SECTOR, W,
	  WANT_DROPPED },
	{ "read-into-lapic-page", VIRTIO_BLK_T_IN, LBA_AT, 0, ADDR_AT, LAPIC_PAGE, SECTOR, W,
	  WANT_DROPPED },
	{ "read-into-own-registers", VIRTIO_BLK_T_IN, LBA_AT, 0, ADDR_REGS, 0, SECTOR, W,
	  WANT_DROPPED },
	{ "read-above-4gib", VIRTIO_BLK_T_IN, LBA_AT, 0, ADDR_AT, ABOVE_4GIB, SECTOR, W,
	  WANT_DROPPED },
	{ "read-wrapping-64bit-address", VIRTIO_BLK_T_IN, LBA_AT, 0, ADDR_AT,
	  (int64_t)WRAPPING_ADDR, SECTOR, W, WANT_DROPPED },
	{ "read-1gib-buffer", VIRTIO_BLK_T_IN, LBA_AT, 0, ADDR_DATA, 0, ONE_GIB_LEN, W,
	  WANT_DROPPED },
	{ "write-from-ram-end", VIRTIO_BLK_T_OUT, LBA_SPARE, 0, ADDR_RAM_END, 0, SECTOR, 0,
	  WANT_DROPPED },
	/* parsed, refused: IOERR and nothing moves */
	{ "read-beyond-capacity", VIRTIO_BLK_T_IN, LBA_CAPACITY, 0, ADDR_DATA, 0, SECTOR, W,
	  WANT_IOERR },
	{ "read-straddling-capacity", VIRTIO_BLK_T_IN, LBA_CAPACITY, -1, ADDR_DATA, 0, 2 * SECTOR,
	  W, WANT_IOERR },
	{ "read-offset-overflows-64bit", VIRTIO_BLK_T_IN, LBA_AT, 0x7fffffffffffffLL, ADDR_DATA, 0,
	  SECTOR, W, WANT_IOERR },
	{ "read-sector-all-ones", VIRTIO_BLK_T_IN, LBA_AT, -1, ADDR_DATA, 0, SECTOR, W,
	  WANT_IOERR },
	{ "write-beyond-capacity", VIRTIO_BLK_T_OUT, LBA_CAPACITY, 0, ADDR_DATA, 0, SECTOR, 0,
	  WANT_IOERR },
	{ "read-length-100", VIRTIO_BLK_T_IN, LBA_AT, 0, ADDR_DATA, 0, 100, W, WANT_IOERR },
	{ "write-length-700", VIRTIO_BLK_T_OUT, LBA_SPARE, 0, ADDR_DATA, 0, 700, 0, WANT_IOERR },
	{ "read-into-device-readable-buffer", VIRTIO_BLK_T_IN, LBA_AT, 0, ADDR_DATA, 0, SECTOR, 0,
	  WANT_IOERR },
	{ "write-from-device-writable-buffer", VIRTIO_BLK_T_OUT, LBA_SPARE, 0, ADDR_DATA, 0, SECTOR,
	  W, WANT_IOERR },
	{ "read-zero-length-data", VIRTIO_BLK_T_IN, LBA_AT, 0, ADDR_DATA, 0, 0, W, WANT_IOERR },
	{ "unknown-request-type", VIRTIO_BLK_T_UNKNOWN, LBA_AT, 0, ADDR_DATA, 0, SECTOR, W,
	  WANT_UNSUPP },
	{ "discard-not-negotiated", VIRTIO_BLK_T_DISCARD, LBA_SPARE, 0, ADDR_DATA, 0, 16, 0,
	  WANT_UNSUPP },
};
#undef W

static void run_rw_case(const struct rw_case *c)
{
	uint64_t lba = (uint64_t)c->lba, addr = (uint64_t)c->addr;

	if (c->lba_ref == LBA_CAPACITY)
		lba += dev.capacity;
	else if (c->lba_ref == LBA_SPARE)
		lba += dev.spare;
	if (c->addr_ref == ADDR_DATA)
		addr += addr_of(data);
	else if (c->addr_ref == ADDR_RAM_END)
		addr += platform.ram_bytes;
	else if (c->addr_ref == ADDR_REGS)
		addr += dev.common;
	if (c->lba_ref == LBA_SPARE && !dev.spare) {
		expect_fail(c->name, "no spare sector to aim at");
		return;
	}
	sentinels();
	chain_rw(ring.desc, c->type, lba, addr, c->len, c->data_flags);
	run_case(c->name, c->want, c->type == VIRTIO_BLK_T_OUT);
}

/* ---- hostile requests: malformed chains ---- */

static void build_read(void)
{
	chain_rw(ring.desc, VIRTIO_BLK_T_IN, 0, addr_of(data), SECTOR, VIRTQ_DESC_F_WRITE);
}

static void header_too_short(void)
{
	build_read();
	ring.desc[0].len = sizeof(hdr) / 2;
}

static void header_device_writable(void)
{
	build_read();
	ring.desc[0].flags |= VIRTQ_DESC_F_WRITE;
}

/* 2.6.4: no framing is assumed, so a header in two pieces is still a header. */
static void header_split(void)
{
	build_read();
	ring.desc[0].len = sizeof(hdr) / 2;
	ring.desc[0].next = 3;
	desc_set(&ring.desc[3], addr_of(&hdr) + sizeof(hdr) / 2, sizeof(hdr) / 2, VIRTQ_DESC_F_NEXT,
		 1);
}

static void header_outside_ram(void)
{
	build_read();
	ring.desc[0].addr = platform.ram_bytes;
}

static void status_outside_ram(void)
{
	build_read();
	ring.desc[2].addr = platform.ram_bytes;
}

/* A write with no device-writable byte at all: nowhere to put a status. */
static void missing_status(void)
{
	chain_rw(ring.desc, VIRTIO_BLK_T_OUT, dev.spare, addr_of(data), SECTOR, 0);
	ring.desc[1].flags = 0;
}

/* A read whose last writable byte is the data's: the status lands there. */
static void read_without_status(void)
{
	build_read();
	ring.desc[1].flags = VIRTQ_DESC_F_WRITE;
}

static void zero_length_status(void)
{
	build_read();
	ring.desc[2].len = 0;
}

static void zero_length_only(void)
{
	desc_set(&ring.desc[0], addr_of(&status), 0, VIRTQ_DESC_F_WRITE, 0);
}

/* A zero-length buffer is skipped whatever its address (virtqueue.c). */
static void zero_length_wild_address(void)
{
	build_read();
	ring.desc[0].next = 3;
	desc_set(&ring.desc[3], LAPIC_PAGE, 0, VIRTQ_DESC_F_NEXT, 1);
}

static void readable_after_writable(void)
{
	build_read();
	ring.desc[1].next = 3;
	desc_set(&ring.desc[3], addr_of(&hdr), sizeof(hdr), VIRTQ_DESC_F_NEXT, 2);
}

static void chain_loop(void)
{
	build_read();
	ring.desc[2].flags |= VIRTQ_DESC_F_NEXT;
	ring.desc[2].next = 1;
}

/* QSIZE descriptors, each once, and the last links back: QSIZE + 1 links. */
static void chain_longer_than_queue(void)
{
	const uint32_t piece = 32;

	build_read();
	for (uint16_t i = 1; i < QSIZE - 1; i++)
		desc_set(&ring.desc[i], addr_of(data) + (i - 1) * piece, piece,
			 VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, i + 1);
	desc_set(&ring.desc[QSIZE - 1], addr_of(&status), 1, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT,
		 1);
}

static void next_beyond_queue(void)
{
	build_read();
	ring.desc[1].next = QSIZE;
}

/* Descriptor 0 refers to a three-entry indirect table holding the read. */
static void build_indirect(void)
{
	chain_rw(ind, VIRTIO_BLK_T_IN, 0, addr_of(data), SECTOR, VIRTQ_DESC_F_WRITE);
	desc_set(&ring.desc[0], addr_of(ind), 3 * sizeof(ind[0]), VIRTQ_DESC_F_INDIRECT, 0);
}

static void indirect_outside_ram(void)
{
	build_indirect();
	ring.desc[0].addr = platform.ram_bytes;
}

static void indirect_straddling_ram_end(void)
{
	build_indirect();
	ring.desc[0].addr = platform.ram_bytes - sizeof(ind[0]);
}

static void indirect_nested(void)
{
	build_indirect();
	memcpy(nested, ind, sizeof(nested));
	desc_set(&ind[0], addr_of(nested), sizeof(nested), VIRTQ_DESC_F_INDIRECT, 0);
}

static void indirect_length_40(void)
{
	build_indirect();
	ring.desc[0].len = 40;
}

static void indirect_length_0(void)
{
	build_indirect();
	ring.desc[0].len = 0;
}

/* 2.7.5.3.1: INDIRECT and NEXT together are not allowed. */
static void indirect_with_next(void)
{
	build_indirect();
	ring.desc[0].flags |= VIRTQ_DESC_F_NEXT;
	ring.desc[0].next = 1;
	desc_set(&ring.desc[1], addr_of(&status), 1, VIRTQ_DESC_F_WRITE, 0);
}

/* seg_max data segments plus header and status is the most a chain may hold. */
static void indirect_beyond_seg_max(void)
{
	uint32_t n = MIN(dev.seg_max + 3, IND_MAX);

	build_indirect();
	for (uint32_t i = 1; i < n - 1; i++)
		desc_set(&ind[i], addr_of(data) + (i - 1) % 64 * 4, 4,
			 VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, (uint16_t)(i + 1));
	desc_set(&ind[n - 1], addr_of(&status), 1, VIRTQ_DESC_F_WRITE, 0);
	ring.desc[0].len = n * sizeof(ind[0]);
}

static void indirect_loop(void)
{
	build_indirect();
	ind[2].flags |= VIRTQ_DESC_F_NEXT;
	ind[2].next = 1;
}

static void indirect_next_beyond_table(void)
{
	build_indirect();
	ind[1].next = 3;
}

struct chain_case {
	const char *name;
	void (*build)(void);
	uint8_t want;
	bool writes;
};

static const struct chain_case chain_cases[] = {
	{ "read-indirect", build_indirect, WANT_OK, false },
	{ "header-split-in-two-accepted", header_split, WANT_OK, false },
	{ "zero-length-wild-descriptor-skipped", zero_length_wild_address, WANT_OK, false },
	{ "header-too-short", header_too_short, WANT_IOERR, false },
	{ "header-device-writable", header_device_writable, WANT_IOERR, false },
	{ "header-outside-ram", header_outside_ram, WANT_DROPPED, false },
	{ "status-outside-ram", status_outside_ram, WANT_DROPPED, false },
	{ "missing-status-descriptor", missing_status, WANT_DROPPED, true },
	{ "read-without-status-descriptor", read_without_status, WANT_IOERR_IN_DATA, false },
	{ "zero-length-status-descriptor", zero_length_status, WANT_IOERR_IN_DATA, false },
	{ "zero-length-descriptors-only", zero_length_only, WANT_DROPPED, false },
	{ "readable-after-writable", readable_after_writable, WANT_DROPPED, false },
	{ "chain-loop", chain_loop, WANT_DROPPED, false },
	{ "chain-longer-than-queue", chain_longer_than_queue, WANT_DROPPED, false },
	{ "next-beyond-queue", next_beyond_queue, WANT_DROPPED, false },
	{ "indirect-table-outside-ram", indirect_outside_ram, WANT_DROPPED, false },
	{ "indirect-table-straddling-ram-end", indirect_straddling_ram_end, WANT_DROPPED, false },
	{ "indirect-nested", indirect_nested, WANT_DROPPED, false },
	{ "indirect-length-40", indirect_length_40, WANT_DROPPED, false },
	{ "indirect-length-0", indirect_length_0, WANT_DROPPED, false },
	{ "indirect-with-next", indirect_with_next, WANT_DROPPED, false },
	{ "indirect-beyond-seg-max", indirect_beyond_seg_max, WANT_DROPPED, false },
	{ "indirect-loop", indirect_loop, WANT_DROPPED, false },
	{ "indirect-next-beyond-table", indirect_next_beyond_table, WANT_DROPPED, false },
};

static void hostile_requests(void)
{
	for (size_t i = 0; i < sizeof(chain_cases) / sizeof(chain_cases[0]); i++) {
		const struct chain_case *c = &chain_cases[i];

		if (c->writes && !dev.spare) {
			expect_fail(c->name, "no spare sector to aim at");
			continue;
		}
		sentinels();
		c->build();
		run_case(c->name, c->want, c->writes);
	}
	for (size_t i = 0; i < sizeof(rw_cases) / sizeof(rw_cases[0]); i++)
		run_rw_case(&rw_cases[i]);
}

/* ---- queue-level attacks: DEVICE_NEEDS_RESET, then a reset must recover ---- */

static bool wait_needs_reset(void)
{
	uint64_t end = deadline(REQ_TIMEOUT_MS);
	uint8_t st;

	while (!((st = status_get()) & ST_NEEDS_RESET)) {
		if (expired(end))
			return failed("status 0x%x: no DEVICE_NEEDS_RESET in %u ms", st,
				      REQ_TIMEOUT_MS);
		sleep_ms(STATUS_POLL_MS);
	}
	return true;
}

/* Nothing reached the used ring, the status byte or the data buffer. */
static bool untouched(uint16_t used_idx)
{
	if (READ_ONCE(ring.used.idx) != used_idx)
		return failed("used idx moved from %u to %u", used_idx, READ_ONCE(ring.used.idx));
	if (status != STATUS_FILL || !filled(data, sizeof(data), DATA_FILL))
		return failed("a request was served (status 0x%x)", status);
	return true;
}

static void avail_idx_jump(void)
{
	WRITE_ONCE(ring.avail.idx, (uint16_t)(dev.avail_idx + QSIZE + 1));
	notify();
}

static void head_beyond_queue(void)
{
	ring.avail.ring[dev.avail_idx % QSIZE] = QSIZE;
	barrier();
	WRITE_ONCE(ring.avail.idx, (uint16_t)(dev.avail_idx + 1));
	notify();
}

/* Once in NEEDS_RESET the flag stays whatever the driver writes, and the queue is dead. */
static void needs_reset_details(void)
{
	uint8_t st;

	verdict("needs-reset-config-interrupt",
		wait_irq(&config_irqs, IRQ_TIMEOUT_MS) ||
		    failed("no interrupt on vector 0x%x", VEC_CONFIG));
	status_set(ST_LIVE);
	st = status_get();
	verdict("needs-reset-sticky", st == (ST_LIVE | ST_NEEDS_RESET) ||
					  failed("status 0x%x after writing 0x%x", st, ST_LIVE));
	sentinels();
	build_read();
	ring.avail.ring[dev.avail_idx % QSIZE] = 0;
	barrier();
	dev.avail_idx++;
	WRITE_ONCE(ring.avail.idx, dev.avail_idx);
	notify();
	sleep_ms(QUIET_MS);
	verdict("needs-reset-queue-stopped", untouched(dev.used_idx));
}

static void queue_attack(const char *name, void (*attack)(void), bool details)
{
	uint16_t used = READ_ONCE(ring.used.idx);
	bool ok;

	sentinels();
	config_irqs = 0;
	attack();
	ok = wait_needs_reset();
	sleep_ms(QUIET_MS);
	ok = ok && untouched(used);
	if (ok && details)
		needs_reset_details();
	ok = ok && dev_restart() && sector0_ok();
	verdict(name, ok);
	if (!ok)
		dev_restart();
}

/* ---- rings the device must refuse at queue enable ---- */

struct ring_attack {
	const char *name;
	uint16_t size;
	uint64_t desc, avail, used;
};

/* Queue 0 on these rings must come up broken (NEEDS_RESET, announced at
 * DRIVER_OK) and serve nothing, even with a good request on our own rings. */
static bool rings_refused(const struct ring_attack *r)
{
	uint8_t st, want = ST_ACKNOWLEDGE | ST_DRIVER | ST_FEATURES_OK | ST_NEEDS_RESET;

	ring_clear();
	sentinels();
	config_irqs = 0;
	if (!((st = negotiate(FEATURES_WANTED)) & ST_FEATURES_OK))
		return failed("FEATURES_OK refused (status 0x%x)", st);
	mmio_wr16(dev.common + CC_MSIX_CONFIG, MSIX_CONFIG_ENTRY);
	queue_program(r->size, r->desc, r->avail, r->used);
	if ((st = status_get()) != want)
		return failed("status 0x%x after queue_enable, want 0x%x", st, want);
	status_set(ST_LIVE);
	if ((st = status_get()) != (ST_LIVE | ST_NEEDS_RESET))
		return failed("status 0x%x after DRIVER_OK", st);
	if (!wait_irq(&config_irqs, IRQ_TIMEOUT_MS))
		return failed("DRIVER_OK did not announce NEEDS_RESET on vector 0x%x", VEC_CONFIG);
	build_read();
	submit(0);
	sleep_ms(QUIET_MS);
	return untouched(0);
}

static void ring_attacks(void)
{
	uint64_t ram = platform.ram_bytes, d = addr_of(ring.desc), a = addr_of(&ring.avail),
		 u = addr_of(&ring.used);
	const struct ring_attack attacks[] = {
		{ "rings-desc-at-ram-end", QSIZE, ram, a, u },
		{ "rings-desc-straddling-ram-end", QSIZE, ram - QSIZE * 8, a, u },
		{ "rings-avail-at-lapic-page", QSIZE, d, LAPIC_PAGE, u },
		{ "rings-used-above-4gib", QSIZE, d, a, ABOVE_4GIB },
		{ "rings-used-on-own-registers", QSIZE, d, a, dev.common },
		{ "rings-desc-misaligned", QSIZE, d + 8, a, u },
		{ "queue-size-not-power-of-two", QSIZE + QSIZE / 2, d, a, u },
		{ "queue-size-above-maximum", (uint16_t)(dev.qmax * 2), d, a, u },
	};

	for (size_t i = 0; i < sizeof(attacks) / sizeof(attacks[0]); i++) {
		bool ok = rings_refused(&attacks[i]);

		ok = ok && dev_restart() && sector0_ok();
		verdict(attacks[i].name, ok);
		if (!ok)
			dev_restart();
	}
}

/* 4.1.4.3.2: queue registers are frozen once it is enabled, so rings checked
 * at enable time cannot be moved out of RAM afterwards. */
static bool rings_frozen(void)
{
	uint64_t got;

	mmio_wr16(dev.common + CC_Q_SELECT, 0);
	mmio_wr64(dev.common + CC_Q_DESC, platform.ram_bytes);
	mmio_wr64(dev.common + CC_Q_USED, ABOVE_4GIB);
	got = mmio_rd64(dev.common + CC_Q_DESC);
	if (got != addr_of(ring.desc))
		return failed("queue_desc reads 0x%lx after moving it", got);
	sentinels();
	return sector0_ok();
}

/* Each of RO_WRITES writes gets IOERR with used length 1; sector 0 reads as before. */
static bool ro_writes_refused(void)
{
	struct answer a;

	if (!sector0_ok())
		return false;
	memcpy(pattern, check, SECTOR);
	for (uint64_t lba = 0; lba < RO_WRITES; lba++) {
		sentinels();
		chain_rw(ring.desc, VIRTIO_BLK_T_OUT, lba, addr_of(data), SECTOR, 0);
		submit(0);
		if (!wait_answer(&a, REQ_TIMEOUT_MS))
			return failed("write of LBA %lu: no answer in %u ms", lba, REQ_TIMEOUT_MS);
		if (a.id != 0 || a.extra || a.len != 1 || a.status != VIRTIO_BLK_S_IOERR)
			return failed("write of LBA %lu: used id %u len %u status 0x%x, want 0 1 "
				      "IOERR",
				      lba, a.id, a.len, a.status);
	}
	if (!sector0_ok())
		return false;
	return !memcmp(check, pattern, SECTOR) || failed("sector 0 changed: a write landed");
}

void guest_main(void)
{
	timing_init();
	if (!find_device()) {
		expect_fail("pci-virtio-blk-at-00-01-0", "%s", why);
		return;
	}
	expect_ok("pci-virtio-blk-at-00-01-0");
	verdict("pci-capabilities-and-bar", walk_caps() && assign_bars());
	if (!dev.common)
		return;
	irq_init();
	features_tests();
	queue_setup_tests();
	if (device_features() & F_RO) {
		guest_say("the disk is read-only: %u writes must be refused", RO_WRITES);
		verdict("read-only-writes-refused", ro_writes_refused());
		dev_reset();
		return;
	}
	good_path();
	hostile_requests();
	queue_attack("avail-idx-beyond-queue-size", avail_idx_jump, true);
	queue_attack("avail-head-beyond-queue-size", head_beyond_queue, false);
	ring_attacks();
	verdict("rings-moved-after-enable-ignored", rings_frozen());
	dev_reset();
}
