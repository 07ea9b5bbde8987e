/*
 * libFuzzer target: the split-virtqueue walker on a guest RAM made of the
 * fuzzer's bytes. Input: one byte choosing the queue size (1..256), two bytes
 * of starting index (so the 16-bit wrap is reachable), then the RAM, copied
 * into an exactly-sized heap buffer. The rings sit back to back from offset 0.
 * Pops until none or -EIO, completing every consumed head. Checked: every
 * segment lies inside the RAM, the chain respects every limit virtqueue.h
 * states, pops never exceed what the avail idx offered.
 */
#include <stdint.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <hv/errno.h>
#include <hv/virtqueue.h>

#define CHECK(cond)                       \
	do {                              \
		if (!(cond))              \
			__builtin_trap(); \
	} while (0)

struct ram {
	u8 *base;
	u64 size;
};

static void *ram_map(void *ctx, u64 gpa, u64 len)
{
	struct ram *r = ctx;

	if (gpa > r->size || len > r->size - gpa)
		return NULL;
	return r->base + gpa;
}

static void check_chain(const struct ram *r, const struct virtqueue *vq, const struct vq_chain *c)
{
	u64 in = 0, out = 0;
	bool seen_write = false;

	CHECK(c->head < vq->size);
	CHECK(c->nr <= VQ_MAX_SEGS);
	for (u32 i = 0; i < c->nr; i++) {
		const struct vq_seg *s = &c->seg[i];
		const u8 *p = s->hva;

		CHECK(s->len > 0);
		CHECK(p >= r->base && p <= r->base + r->size);
		CHECK(s->len <= (u64)(r->base + r->size - p));
		CHECK(!seen_write || s->device_writes);
		seen_write = s->device_writes;
		if (s->device_writes)
			in += s->len;
		else
			out += s->len;
	}
	CHECK(in == c->bytes_in && out == c->bytes_out);
	CHECK(in + out <= VQ_MAX_BYTES);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct vq_chain c;
	struct virtqueue vq;
	struct vq_mem m;
	struct ram r;
	u16 qsize, start;
	u64 desc, avail, used;
	u32 pops = 0;
	int ret;

	if (size < 3)
		return 0;
	qsize = (u16)(1u << (data[0] % 9));
	start = (u16)(data[1] | data[2] << 8);
	r.size = size - 3;
	r.base = malloc(r.size ? r.size : 1);
	CHECK(r.base);
	memcpy(r.base, data + 3, r.size);
	m.map = ram_map;
	m.ctx = &r;

	desc = 0;
	avail = VQ_DESC_BYTES(qsize);
	used = ALIGN_UP(avail + VQ_AVAIL_BYTES(qsize), 4);
	if (vq_init(&vq, qsize, desc, avail, used, &m)) {
		CHECK(used + VQ_USED_BYTES(qsize) > r.size);
		goto out;
	}
	vq.last_avail = start;
	vq.used_idx = start;

	while ((ret = vq_pop(&vq, &c)) != 0) {
		CHECK(ret == 1 || ret == -EINVAL || ret == -EIO);
		if (ret == -EIO) {
			CHECK(vq.broken);
			CHECK(vq_push(&vq, 0, 0) == -EIO);
			break;
		}
		CHECK(++pops <= qsize);
		if (ret == 1)
			check_chain(&r, &vq, &c);
		CHECK(c.head < qsize);
		CHECK(vq_push(&vq, c.head, (u32)c.bytes_in) == 0);
	}
	if (!vq.broken)
		CHECK(vq_push(&vq, 0, 0) == -EINVAL); /* nothing outstanding */
out:
	free(r.base);
	return 0;
}
