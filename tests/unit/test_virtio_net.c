/*
 * The virtio-net device model (kernel/vdev/virtio_net.c) over the real
 * transport and ring walker, driven like a Linux guest would through the
 * BAR, with crafted rings: frames both ways, the header, every bad transmit
 * chain (writable, short, long, offload flags, malformed), receive buffers
 * that are readable, too small or missing, a broken ring, and the device
 * config (MAC, link status).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <hv/errno.h>
#include <hv/virtio_net.h>

#define RAM_SIZE (1 * MiB)
#define BAR_BASE 0x0000000c00000000ULL
#define QSIZE	 16
#define RING(q)	 (0x10000ULL + 0x4000ULL * (q)) /* desc, avail +0x1000, used +0x2000 */
#define BUF	 0x40000ULL			/* buffers, 0x1000 apart */

/* Common configuration (4.1.4.3). */
#define CC_DFSELECT 0x00
#define CC_DF	    0x04
#define CC_GFSELECT 0x08
#define CC_GF	    0x0c
#define CC_STATUS   0x14
#define CC_QSELECT  0x16
#define CC_QSIZE    0x18
#define CC_QENABLE  0x1c
#define CC_QDESC    0x20
#define CC_QDRIVER  0x28
#define CC_QDEVICE  0x30

#define S_UP                                                                            \
	(VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK | \
	 VIRTIO_STATUS_DRIVER_OK)

static const u8 mac[ETH_ALEN] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };

static struct virtio_net *n;
static u8 *ram;
static u16 next_desc[2], avail_idx[2], used_seen[2];
static u8 frame[ETH_FRAME_MAX];
static u32 msis;

static void *ram_map(void *ctx, u64 gpa, u64 len)
{
	(void)ctx;
	if (gpa > RAM_SIZE || len > RAM_SIZE - gpa)
		return NULL;
	return ram + gpa;
}

static void put(u64 gpa, u64 v, u32 size)
{
	memcpy(ram + gpa, &v, size); /* little-endian host, as the guest */
}

static u32 get(u64 gpa, u32 size)
{
	u32 v = 0;

	memcpy(&v, ram + gpa, size);
	return v;
}

static void cc_wr(u32 off, u32 size, u64 v)
{
	virtio_pci_bar_write(&n->pci, VIRTIO_PCI_COMMON_OFF + off, size, v);
}

static u64 cc_rd(u32 off, u32 size)
{
	return virtio_pci_bar_read(&n->pci, VIRTIO_PCI_COMMON_OFF + off, size);
}

static void queue(u16 q)
{
	cc_wr(CC_QSELECT, 2, q);
	cc_wr(CC_QSIZE, 2, QSIZE);
	cc_wr(CC_QDESC, 4, RING(q));
	cc_wr(CC_QDESC + 4, 4, 0);
	cc_wr(CC_QDRIVER, 4, RING(q) + 0x1000);
	cc_wr(CC_QDRIVER + 4, 4, 0);
	cc_wr(CC_QDEVICE, 4, RING(q) + 0x2000);
	cc_wr(CC_QDEVICE + 4, 4, 0);
	cc_wr(CC_QENABLE, 2, 1);
}

static void msi_count(void *ctx, u64 addr, u32 data)
{
	(void)ctx;
	(void)addr;
	(void)data;
	msis++;
}

/* The PCI core and the driver's probe: BAR, bus mastering, features, both queues. */
static int setup(void **state)
{
	struct virtio_net_params p = { .mem = { ram_map, NULL }, .msi = msi_count };
	u64 f;

	(void)state;
	ram = calloc(1, RAM_SIZE);
	n = calloc(1, sizeof(*n));
	memcpy(p.mac, mac, ETH_ALEN);
	assert_int_equal(virtio_net_init(n, &p), 0);
	virtio_pci_cfg_write(&n->pci, 0x10, 4, (u32)BAR_BASE);
	virtio_pci_cfg_write(&n->pci, 0x14, 4, (u32)(BAR_BASE >> 32));
	virtio_pci_cfg_write(&n->pci, 0x04, 2, 0x6);
	cc_wr(CC_STATUS, 1, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	cc_wr(CC_DFSELECT, 4, 0);
	f = cc_rd(CC_DF, 4);
	cc_wr(CC_DFSELECT, 4, 1);
	f |= cc_rd(CC_DF, 4) << 32;
	assert_int_equal(f, BIT(VIRTIO_NET_F_MAC) | BIT(VIRTIO_NET_F_STATUS) | BIT(32));
	cc_wr(CC_GFSELECT, 4, 0);
	cc_wr(CC_GF, 4, (u32)f);
	cc_wr(CC_GFSELECT, 4, 1);
	cc_wr(CC_GF, 4, (u32)(f >> 32));
	cc_wr(CC_STATUS, 1, S_UP & ~VIRTIO_STATUS_DRIVER_OK);
	queue(VIRTIO_NET_RXQ);
	queue(VIRTIO_NET_TXQ);
	cc_wr(CC_STATUS, 1, S_UP);
	assert_int_equal(cc_rd(CC_STATUS, 1), S_UP);
	memset(next_desc, 0, sizeof(next_desc));
	memset(avail_idx, 0, sizeof(avail_idx));
	memset(used_seen, 0, sizeof(used_seen));
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	free(ram);
	free(n);
	return 0;
}

/* Offer a chain of nseg buffers (gpa, len, writable) on queue q. */
static void offer(u16 q, u32 nseg, const u64 *gpa, const u32 *len, const bool *wr)
{
	u64 desc = RING(q), avail = RING(q) + 0x1000;
	u16 head = next_desc[q];

	for (u32 i = 0; i < nseg; i++) {
		u16 d = (u16)((head + i) % QSIZE);
		u64 e = desc + 16ULL * d;

		put(e, gpa[i], 8);
		put(e + 8, len[i], 4);
		put(e + 12,
		    (wr[i] ? VIRTQ_DESC_F_WRITE : 0) | (i + 1 < nseg ? VIRTQ_DESC_F_NEXT : 0), 2);
		put(e + 14, (head + i + 1) % QSIZE, 2);
	}
	next_desc[q] = (u16)((head + nseg) % QSIZE);
	put(avail + 4 + 2ULL * (avail_idx[q] % QSIZE), head, 2);
	put(avail + 2, ++avail_idx[q], 2);
}

/* The next used element of queue q: its length (asserts there is one). */
static u32 used_len(u16 q)
{
	u64 used = RING(q) + 0x2000;

	assert_int_not_equal(get(used + 2, 2), used_seen[q]);
	return get(used + 4 + 8ULL * (used_seen[q]++ % QSIZE) + 4, 4);
}

/* The guest sends a frame of len bytes (header then frame, two buffers). */
static void guest_tx(size_t len, u8 hdr_flags)
{
	u64 gpa[2] = { BUF, BUF + 0x1000 };
	u32 l[2] = { VIRTIO_NET_HDR_LEN, (u32)len };
	bool wr[2] = { false, false };

	memset(ram + BUF, 0, VIRTIO_NET_HDR_LEN);
	ram[BUF] = hdr_flags;
	for (size_t i = 0; i < len; i++)
		ram[BUF + 0x1000 + i] = (u8)(i * 7);
	offer(VIRTIO_NET_TXQ, 2, gpa, l, wr);
}

static void test_config_space(void **state)
{
	(void)state;
	for (u32 i = 0; i < ETH_ALEN; i++)
		assert_int_equal(virtio_pci_bar_read(&n->pci, VIRTIO_PCI_DEVICE_OFF + i, 1),
				 mac[i]);
	assert_int_equal(virtio_pci_bar_read(&n->pci, VIRTIO_PCI_DEVICE_OFF + 6, 2),
			 VIRTIO_NET_S_LINK_UP);
	assert_int_equal(virtio_net_init(n, &(struct virtio_net_params){ .mac = { 1 } }), -EINVAL);
	assert_int_equal(virtio_net_init(n, &(struct virtio_net_params){ 0 }), -EINVAL);
}

static void test_tx(void **state)
{
	(void)state;
	assert_int_equal(virtio_net_tx(n, frame), 0);
	guest_tx(60, 0);
	guest_tx(ETH_FRAME_MAX, 0);
	assert_int_equal(virtio_net_tx(n, frame), 60);
	for (size_t i = 0; i < 60; i++)
		assert_int_equal(frame[i], (u8)(i * 7));
	assert_int_equal(used_len(VIRTIO_NET_TXQ), 0);
	assert_int_equal(virtio_net_tx(n, frame), ETH_FRAME_MAX);
	assert_int_equal(frame[ETH_FRAME_MAX - 1], (u8)((ETH_FRAME_MAX - 1) * 7));
	assert_int_equal(virtio_net_tx(n, frame), 0);
	assert_int_equal(n->stats.tx_frames, 2);
}

/* Each bad chain is completed and counted; the good one after them still goes. */
static void test_tx_bad_chains(void **state)
{
	u64 g1[1] = { BUF }, g2[3] = { BUF, BUF + 0x1000, BUF + 0x2000 };
	u32 l1[1] = { VIRTIO_NET_HDR_LEN + 60 }, l2[3] = { VIRTIO_NET_HDR_LEN, 60, 4 };
	bool ro[1] = { false }, rw[3] = { false, false, true };

	(void)state;
	guest_tx(ETH_FRAME_MAX + 1, 0); /* too long */
	assert_int_equal(virtio_net_tx(n, frame), 0);
	guest_tx(ETH_HLEN - 1, 0); /* runt */
	assert_int_equal(virtio_net_tx(n, frame), 0);
	guest_tx(60, VIRTIO_NET_HDR_F_NEEDS_CSUM); /* an offload not offered */
	assert_int_equal(virtio_net_tx(n, frame), 0);
	memset(ram + BUF, 0, VIRTIO_NET_HDR_LEN);
	offer(VIRTIO_NET_TXQ, 3, g2, l2, rw); /* a whole frame, then a writable buffer */
	assert_int_equal(virtio_net_tx(n, frame), 0);
	l1[0] = RAM_SIZE; /* past the guest's RAM: the walker refuses */
	offer(VIRTIO_NET_TXQ, 1, g1, l1, ro);
	l1[0] = VIRTIO_NET_HDR_LEN + 60; /* then header and frame in one buffer */
	offer(VIRTIO_NET_TXQ, 1, g1, l1, ro);
	assert_int_equal(virtio_net_tx(n, frame), 60);
	assert_int_equal(n->stats.tx_bad, 5);
	for (int i = 0; i < 6; i++)
		assert_int_equal(used_len(VIRTIO_NET_TXQ), 0);
	assert_int_equal(msis, 0); /* MSI-X not enabled by this driver: nothing sent */
}

static void post_rx(u32 len, bool writable)
{
	u64 gpa[1] = { BUF + 0x8000 };
	u32 l[1] = { len };
	bool wr[1] = { writable };

	offer(VIRTIO_NET_RXQ, 1, gpa, l, wr);
}

static void test_rx(void **state)
{
	(void)state;
	for (size_t i = 0; i < 100; i++)
		frame[i] = (u8)(i + 1);
	assert_int_equal(virtio_net_rx(n, frame, 100), -ENOSPC);
	assert_int_equal(n->stats.rx_no_buffer, 1);
	post_rx(VIRTIO_NET_HDR_LEN + ETH_FRAME_MAX, true);
	memset(ram + BUF + 0x8000, 0xee, 200);
	assert_int_equal(virtio_net_rx(n, frame, 100), 0);
	assert_int_equal(used_len(VIRTIO_NET_RXQ), VIRTIO_NET_HDR_LEN + 100);
	assert_int_equal(get(BUF + 0x8000, 4), 0);	/* flags, gso */
	assert_int_equal(get(BUF + 0x8000 + 10, 2), 1); /* num_buffers */
	assert_memory_equal(ram + BUF + 0x8000 + VIRTIO_NET_HDR_LEN, frame, 100);
	assert_int_equal(ram[BUF + 0x8000 + VIRTIO_NET_HDR_LEN + 100], 0xee); /* nothing beyond */
	assert_int_equal(n->stats.rx_frames, 1);
}

static void test_rx_bad_buffers(void **state)
{
	(void)state;
	assert_int_equal(virtio_net_rx(n, frame, ETH_HLEN - 1), -EINVAL);
	assert_int_equal(virtio_net_rx(n, frame, ETH_FRAME_MAX + 1), -EINVAL);
	assert_int_equal(n->stats.rx_bad_frame, 2);
	post_rx(VIRTIO_NET_HDR_LEN + ETH_FRAME_MAX, false); /* readable: skipped */
	post_rx(VIRTIO_NET_HDR_LEN + 99, true);		    /* one byte short */
	memset(ram + BUF + 0x8000, 0xee, 200);
	assert_int_equal(virtio_net_rx(n, frame, 100), -ENOSPC);
	assert_int_equal(n->stats.rx_bad_buffer, 1);
	assert_int_equal(n->stats.rx_too_small, 1);
	assert_int_equal(used_len(VIRTIO_NET_RXQ), 0);
	assert_int_equal(used_len(VIRTIO_NET_RXQ), 0);
	assert_int_equal(ram[BUF + 0x8000], 0xee); /* nothing written */
	post_rx(VIRTIO_NET_HDR_LEN + 100, true);
	assert_int_equal(virtio_net_rx(n, frame, 100), 0);
}

/* Before DRIVER_OK, and after the driver breaks a ring, nothing moves. */
static void test_not_live_and_broken(void **state)
{
	(void)state;
	post_rx(2000, true);
	guest_tx(60, 0);
	cc_wr(CC_STATUS, 1, 0); /* reset */
	assert_int_equal(virtio_net_tx(n, frame), 0);
	assert_int_equal(virtio_net_rx(n, frame, 60), -ENOSPC);
	teardown(state);
	setup(state);
	put(RING(VIRTIO_NET_TXQ) + 0x1000 + 2, QSIZE + 1, 2); /* avail idx too far ahead */
	assert_int_equal(virtio_net_tx(n, frame), 0);
	assert_true(cc_rd(CC_STATUS, 1) & VIRTIO_STATUS_DEVICE_NEEDS_RESET);
	put(RING(VIRTIO_NET_RXQ) + 0x1000 + 2, QSIZE + 1, 2);
	virtio_net_reset(n);
	assert_int_equal(virtio_net_rx(n, frame, 60), -ENOSPC);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_config_space, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tx, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tx_bad_chains, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rx, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rx_bad_buffers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_live_and_broken, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
