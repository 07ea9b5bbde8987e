/*
 * libFuzzer target: the virtio-net device on guest RAM made of the fuzzer's
 * bytes. The driver handshake is done through the BAR (both queues of 16
 * entries, rings at fixed places); the input then is the RAM: rings,
 * descriptors, headers and buffers, copied into an exactly-sized heap
 * buffer. Transmit and receive alternate until both have nothing to do.
 * Checked: every frame handed out is 14..1514 bytes, every receive result
 * is one the API names, and ASan sees any access outside the RAM.
 */
#include <stdint.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <hv/errno.h>
#include <hv/virtio_net.h>

#define CHECK(cond)                       \
	do {                              \
		if (!(cond))              \
			__builtin_trap(); \
	} while (0)

#define RAM_SIZE    0x4000
#define QSIZE	    16
#define RING(q)	    (0x800ULL * (q)) /* desc, avail +0x100, used +0x200 */
#define CC_STATUS   0x14
#define CC_QSELECT  0x16
#define CC_QSIZE    0x18
#define CC_QENABLE  0x1c
#define CC_QDESC    0x20
#define CC_QDRIVER  0x28
#define CC_QDEVICE  0x30
#define CC_GFSELECT 0x08
#define CC_GF	    0x0c

static u8 *ram;

static void *ram_map(void *ctx, u64 gpa, u64 len)
{
	(void)ctx;
	if (gpa > RAM_SIZE || len > RAM_SIZE - gpa)
		return NULL;
	return ram + gpa;
}

static void msi(void *ctx, u64 addr, u32 data)
{
	(void)ctx;
	(void)addr;
	(void)data;
}

static void cc(struct virtio_net *n, u32 off, u32 size, u64 v)
{
	virtio_pci_bar_write(&n->pci, VIRTIO_PCI_COMMON_OFF + off, size, v);
}

static void probe(struct virtio_net *n)
{
	struct virtio_net_params p = { .mac = { 0x52, 0, 0, 0, 0, 1 },
				       .mem = { ram_map, NULL },
				       .msi = msi };

	CHECK(virtio_net_init(n, &p) == 0);
	virtio_pci_cfg_write(&n->pci, 0x10, 4, 0);
	virtio_pci_cfg_write(&n->pci, 0x14, 4, 0xc);
	virtio_pci_cfg_write(&n->pci, 0x04, 2, 0x6);
	cc(n, CC_STATUS, 1, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	cc(n, CC_GFSELECT, 4, 0);
	cc(n, CC_GF, 4, BIT(VIRTIO_NET_F_MAC) | BIT(VIRTIO_NET_F_STATUS));
	cc(n, CC_GFSELECT, 4, 1);
	cc(n, CC_GF, 4, 1); /* VERSION_1 */
	cc(n, CC_STATUS, 1, 0xb);
	for (u16 q = 0; q < 2; q++) {
		cc(n, CC_QSELECT, 2, q);
		cc(n, CC_QSIZE, 2, QSIZE);
		cc(n, CC_QDESC, 4, RING(q));
		cc(n, CC_QDRIVER, 4, RING(q) + 0x100);
		cc(n, CC_QDEVICE, 4, RING(q) + 0x200);
		cc(n, CC_QENABLE, 2, 1);
	}
	cc(n, CC_STATUS, 1, 0xf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct virtio_net n;
	static u8 frame[ETH_FRAME_MAX];
	bool more = true;

	ram = calloc(1, RAM_SIZE);
	memcpy(ram, data, MIN(size, (size_t)RAM_SIZE));
	probe(&n);
	for (u32 i = 0; i < 4 * QSIZE && more; i++) {
		size_t len = virtio_net_tx(&n, frame), rx_len = 14 + (size_t)(i * 97) % 1501;
		int rc = virtio_net_rx(&n, frame, rx_len);

		CHECK(len == 0 || (len >= ETH_HLEN && len <= ETH_FRAME_MAX));
		CHECK(rc == 0 || rc == -ENOSPC || rc == -EIO);
		more = len || rc == 0;
	}
	virtio_net_reset(&n);
	free(ram);
	return 0;
}
