/*
 * The storage VLAN's tags (kernel/net/vlan.c): insertion on the way out
 * (offsets, VID, the 1514/1518 limits) and the receive demultiplexer:
 * tagged with our VID to the stack with the tag stripped, untagged to the
 * switch untouched, another VID, a priority tag, an 802.1ad or QinQ tag and
 * malformed frames dropped and counted.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include <hv/errno.h>
#include <hv/vlan.h>

#define VID 100

static struct vlan_port v;
static u8 plain[VLAN_FRAME_MAX + 8], tagged[VLAN_FRAME_MAX + 8];

static int setup(void **state)
{
	(void)state;
	vlan_init(&v, VID);
	return 0;
}

/* An untagged frame of len bytes: addresses, EtherType type, a counting payload. */
static void make_plain(size_t len, u16 type)
{
	for (size_t i = 0; i < len; i++)
		plain[i] = (u8)(i * 7 + 1);
	plain[12] = (u8)(type >> 8);
	plain[13] = (u8)type;
}

/* plain with a tag of type tpid and TCI tci after the addresses: its length. */
static size_t make_tagged(size_t len, u16 tpid, u16 tci)
{
	memcpy(tagged, plain, 12);
	tagged[12] = (u8)(tpid >> 8);
	tagged[13] = (u8)tpid;
	tagged[14] = (u8)(tci >> 8);
	tagged[15] = (u8)tci;
	memcpy(tagged + 16, plain + 12, len - 12);
	return len + VLAN_HLEN;
}

static void test_tag_inserted(void **state)
{
	u8 out[VLAN_FRAME_MAX];
	static const u8 tag[4] = { 0x81, 0x00, 0x00, VID };

	(void)state;
	make_plain(60, ETH_P_ARP);
	assert_int_equal(vlan_tag(&v, plain, 60, out), 64);
	assert_memory_equal(out, plain, 12);
	assert_memory_equal(out + 12, tag, 4);
	assert_memory_equal(out + 16, plain + 12, 48);
	make_plain(ETH_FRAME_MAX, ETH_P_IP);
	assert_int_equal(vlan_tag(&v, plain, ETH_FRAME_MAX, out), 1518);
	assert_memory_equal(out + 16, plain + 12, ETH_FRAME_MAX - 12);
	assert_int_equal(v.stats.tx_tagged, 2);
	vlan_init(&v, VLAN_ID_MAX);
	assert_int_equal(vlan_tag(&v, plain, 60, out), 64);
	assert_int_equal(out[14], 0x0f);
	assert_int_equal(out[15], 0xfe);
}

static void test_tag_limits(void **state)
{
	u8 out[VLAN_FRAME_MAX];

	(void)state;
	make_plain(ETH_FRAME_MAX + 1, ETH_P_IP);
	assert_int_equal(vlan_tag(&v, plain, ETH_FRAME_MAX + 1, out), -EINVAL);
	assert_int_equal(vlan_tag(&v, plain, ETH_HLEN - 1, out), -EINVAL);
	assert_int_equal(v.stats.tx_bad, 2);
	assert_int_equal(v.stats.tx_tagged, 0);
}

static void test_demux_ours(void **state)
{
	size_t len;
	u8 *out;

	(void)state;
	make_plain(98, ETH_P_IP);
	len = make_tagged(98, ETH_P_8021Q, VID);
	assert_int_equal(vlan_demux(&v, tagged, &len, &out), VLAN_RX_STACK);
	assert_ptr_equal(out, tagged + VLAN_HLEN);
	assert_int_equal(len, 98);
	assert_memory_equal(out, plain, 98);
	/* priority 5 and DEI set: still our VLAN */
	len = make_tagged(98, ETH_P_8021Q, 0xb000 | VID);
	assert_int_equal(vlan_demux(&v, tagged, &len, &out), VLAN_RX_STACK);
	assert_memory_equal(out, plain, 98);
	/* the largest: 1518 bytes in, 1514 to the stack */
	make_plain(ETH_FRAME_MAX, ETH_P_IP);
	len = make_tagged(ETH_FRAME_MAX, ETH_P_8021Q, VID);
	assert_int_equal(vlan_demux(&v, tagged, &len, &out), VLAN_RX_STACK);
	assert_int_equal(len, ETH_FRAME_MAX);
	assert_memory_equal(out, plain, ETH_FRAME_MAX);
	assert_int_equal(v.stats.rx_ours, 3);
}

static void test_demux_untagged(void **state)
{
	size_t len = 60;
	u8 *out;

	(void)state;
	make_plain(60, ETH_P_ARP);
	memcpy(tagged, plain, 60);
	assert_int_equal(vlan_demux(&v, tagged, &len, &out), VLAN_RX_SWITCH);
	assert_ptr_equal(out, tagged);
	assert_int_equal(len, 60);
	assert_memory_equal(tagged, plain, 60);
	assert_int_equal(v.stats.rx_untagged, 1);
	assert_int_equal(v.stats.rx_ours, 0);
}

static void test_demux_others_dropped(void **state)
{
	static const u16 tags[][2] = {
		{ ETH_P_8021Q, VID + 1 },
		{ ETH_P_8021Q, 0 },		     /* another VID, priority tag */
		{ ETH_P_8021Q, 0x1000 | (VID + 1) }, /* DEI does not make it ours */
		{ ETH_P_8021AD, VID },
		{ ETH_P_QINQ, VID }, /* outer tags, even with our VID */
		{ ETH_P_8021Q, 0x0fff },
	};
	size_t len;
	u8 *out;

	(void)state;
	make_plain(80, ETH_P_IP);
	for (size_t i = 0; i < sizeof(tags) / sizeof(tags[0]); i++) {
		len = make_tagged(80, tags[i][0], tags[i][1]);
		assert_int_equal(vlan_demux(&v, tagged, &len, &out), VLAN_RX_DROP);
		assert_int_equal(len, 84);
	}
	assert_int_equal(v.stats.rx_other_vid, 6);
	assert_int_equal(v.stats.rx_ours + v.stats.rx_untagged, 0);
}

static void test_demux_malformed(void **state)
{
	size_t len;
	u8 *out;

	(void)state;
	make_plain(ETH_FRAME_MAX + 1, ETH_P_IP);
	len = make_tagged(ETH_FRAME_MAX + 1, ETH_P_8021Q, VID); /* 1519 */
	assert_int_equal(vlan_demux(&v, tagged, &len, &out), VLAN_RX_DROP);
	len = 17; /* the tag cut short */
	assert_int_equal(vlan_demux(&v, tagged, &len, &out), VLAN_RX_DROP);
	len = 13;
	assert_int_equal(vlan_demux(&v, tagged, &len, &out), VLAN_RX_DROP);
	assert_int_equal(v.stats.rx_malformed, 3);
	assert_int_equal(v.stats.rx_ours + v.stats.rx_untagged + v.stats.rx_other_vid, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_tag_inserted, setup),
		cmocka_unit_test_setup(test_tag_limits, setup),
		cmocka_unit_test_setup(test_demux_ours, setup),
		cmocka_unit_test_setup(test_demux_untagged, setup),
		cmocka_unit_test_setup(test_demux_others_dropped, setup),
		cmocka_unit_test_setup(test_demux_malformed, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
