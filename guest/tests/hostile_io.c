/* hostile-io: a flood of port I/O to ports the platform does not assign
 * (docs/vsi-platform.md "I/O ports": reads give all ones, writes are
 * dropped, both counted): the POST port 0x80, 0x1000-0x10FF in all widths,
 * and PCI configuration mechanism #1 (0xCF8/0xCFC) on buses 1-255, where
 * no device is on this platform nor on QEMU's. */
#include "cpu.h"

#define FLOOD_OPS	1000000
#define OPS_PER_ROUND	8
#define PORT_POST	0x80
#define PORT_RANGE_BASE 0x1000
#define PORT_RANGE_MASK 0xff
#define PCI_CONFIG_ADDR 0xcf8
#define PCI_CONFIG_DATA 0xcfc
#define PCI_CONFIG_EN	(1U << 31)

const char guest_name[] = "hostile-io";

struct read_check {
	uint64_t reads, bad;
	uint16_t first_port;
	uint8_t first_width;
	uint32_t first_value;
};

static void check(struct read_check *c, uint16_t port, int width, uint32_t value)
{
	uint32_t ones = width == 4 ? 0xffffffffU : (1U << (8 * width)) - 1;

	c->reads++;
	if (value == ones)
		return;
	if (!c->bad++) {
		c->first_port = port;
		c->first_width = (uint8_t)width;
		c->first_value = value;
	}
}

/* Bus 1-255, every device, function and register in turn. */
static uint32_t pci_config_address(uint32_t i)
{
	uint32_t bus = 1 + i % 255, dev = (i >> 8) & 31, fn = (i >> 13) & 7, reg = (i << 2) & 0xfc;

	return PCI_CONFIG_EN | bus << 16 | dev << 11 | fn << 8 | reg;
}

static uint32_t in_width(uint16_t port, int width)
{
	if (width == 1)
		return inb(port);
	if (width == 2)
		return inw(port);
	return inl(port);
}

static void flood_round(struct read_check *c, uint32_t i)
{
	int width = 1 << (i % 3);
	uint16_t port = (uint16_t)(PORT_RANGE_BASE + ((i * 7) & PORT_RANGE_MASK & ~(width - 1)));

	outb(PORT_POST, (uint8_t)i);
	check(c, PORT_POST, 1, inb(PORT_POST));
	outb((uint16_t)(PORT_RANGE_BASE + (i & PORT_RANGE_MASK)), (uint8_t)i);
	check(c, port, width, in_width(port, width));
	outl(PCI_CONFIG_ADDR, pci_config_address(i));
	check(c, PCI_CONFIG_DATA, 4, inl(PCI_CONFIG_DATA));
	outl(PCI_CONFIG_DATA, i);
	check(c, PCI_CONFIG_DATA + 2, 2, inw(PCI_CONFIG_DATA + 2));
}

void guest_main(void)
{
	struct read_check c = { 0 };
	uint32_t rounds = FLOOD_OPS / OPS_PER_ROUND;

	guest_say("flooding %u port accesses: 0x%x, 0x%x-0x%x, 0x%x/0x%x", rounds * OPS_PER_ROUND,
		  PORT_POST, PORT_RANGE_BASE, PORT_RANGE_BASE + PORT_RANGE_MASK, PCI_CONFIG_ADDR,
		  PCI_CONFIG_DATA);
	for (uint32_t i = 0; i < rounds; i++)
		flood_round(&c, i);
	guest_say("flood done: %lu reads checked", c.reads);
	if (c.bad)
		expect_fail("io-read-ones",
			    "%lu of %lu reads not all ones, first: port 0x%x width %u = 0x%x",
			    c.bad, c.reads, c.first_port, c.first_width, c.first_value);
	else
		expect_ok("io-read-ones");
}
