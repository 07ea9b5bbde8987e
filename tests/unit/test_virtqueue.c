/*
 * Split-virtqueue walker on a fake guest RAM: an exactly-sized heap buffer,
 * so ASan reports any read past its end. Rings are built here byte by byte
 * from the spec's layout (VIRTIO 1.2, 2.7), not through virtqueue.h structs.
 * Above the backed RAM the fake can pretend to have a sparse region whose
 * pointers are never dereferenced, to reach the byte limits.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <hv/errno.h>
#include <hv/virtqueue.h>

#define RAM_SIZE (1 * MiB)
#define DESC	 0x0000ULL
#define AVAIL	 0x1000ULL
#define USED	 0x2000ULL
#define BUF	 0x10000ULL /* data buffers from here */
#define TABLE	 0x8000ULL  /* indirect tables */
#define QSIZE	 16

#define F_NEXT	VIRTQ_DESC_F_NEXT
#define F_WRITE VIRTQ_DESC_F_WRITE
#define F_IND	VIRTQ_DESC_F_INDIRECT

struct fake {
	u8 *ram;
	u64 size;	 /* backed bytes */
	u64 sparse_size; /* map succeeds below this, with a pointer never to use */
	bool careless;	 /* an accessor that forgets the 2^64 wrap */
	u16 avail_idx;	 /* the driver's next avail index */
	struct virtqueue vq;
	struct vq_chain c;
};

static void *fake_map(void *ctx, u64 gpa, u64 len)
{
	struct fake *f = ctx;

	if (gpa + len < gpa && !f->careless)
		return NULL;
	if (gpa + len <= f->size)
		return f->ram + gpa;
	if (gpa + len <= f->sparse_size)
		return f->ram;
	return NULL;
}

static void put16(struct fake *f, u64 gpa, u16 v)
{
	memcpy(f->ram + gpa, &v, 2);
}

static void put32(struct fake *f, u64 gpa, u32 v)
{
	memcpy(f->ram + gpa, &v, 4);
}

static void put64(struct fake *f, u64 gpa, u64 v)
{
	memcpy(f->ram + gpa, &v, 8);
}

static u16 get16(struct fake *f, u64 gpa)
{
	u16 v;

	memcpy(&v, f->ram + gpa, 2);
	return v;
}

static u32 get32(struct fake *f, u64 gpa)
{
	u32 v;

	memcpy(&v, f->ram + gpa, 4);
	return v;
}

/* Write one descriptor at gpa (a ring's table or an indirect one). */
static void desc_at(struct fake *f, u64 gpa, u64 addr, u32 len, u16 flags, u16 next)
{
	put64(f, gpa, addr);
	put32(f, gpa + 8, len);
	put16(f, gpa + 12, flags);
	put16(f, gpa + 14, next);
}

static void desc(struct fake *f, u16 i, u64 addr, u32 len, u16 flags, u16 next)
{
	desc_at(f, DESC + 16ULL * i, addr, len, flags, next);
}

/* Make the chain at head available and publish the new avail idx. */
static void offer(struct fake *f, u16 head)
{
	put16(f, AVAIL + 4 + 2 * (f->avail_idx % f->vq.size), head);
	f->avail_idx++;
	put16(f, AVAIL + 2, f->avail_idx);
}

static const struct vq_mem *mem_of(struct fake *f)
{
	static struct vq_mem m;

	m.map = fake_map;
	m.ctx = f;
	return &m;
}

static int setup(void **state)
{
	struct fake *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->ram = calloc(1, RAM_SIZE);
	assert_non_null(f->ram);
	f->size = RAM_SIZE;
	f->sparse_size = RAM_SIZE;
	assert_int_equal(vq_init(&f->vq, QSIZE, DESC, AVAIL, USED, mem_of(f)), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fake *f = *state;

	free(f->ram);
	free(f);
	return 0;
}

static void reinit(struct fake *f, u16 size)
{
	assert_int_equal(vq_init(&f->vq, size, DESC, AVAIL, USED, mem_of(f)), 0);
	f->avail_idx = 0;
	put16(f, AVAIL + 2, 0);
}

static void assert_seg(struct fake *f, u32 i, u64 gpa, u32 len, bool writes)
{
	assert_true(i < f->c.nr);
	assert_ptr_equal(f->c.seg[i].hva, f->ram + gpa);
	assert_int_equal(f->c.seg[i].len, len);
	assert_int_equal(f->c.seg[i].device_writes, writes);
}

static void assert_used(struct fake *f, u16 at, u32 id, u32 len)
{
	u64 e = USED + 4 + 8ULL * (at % f->vq.size);

	assert_int_equal(get32(f, e), id);
	assert_int_equal(get32(f, e + 4), len);
}

/* Pop expecting -EINVAL with the given head consumed, queue still usable. */
static void pop_malformed(struct fake *f, u16 head)
{
	assert_int_equal(vq_pop(&f->vq, &f->c), -EINVAL);
	assert_int_equal(f->c.head, head);
	assert_false(f->vq.broken);
	assert_int_equal(vq_push(&f->vq, head, 0), 0);
}

/* ---- set-up ---- */

static void test_init_rejects(void **state)
{
	struct fake *f = *state;
	struct virtqueue vq;
	const u16 bad_sizes[] = { 0, 3, 6, 100, 255, 512, 32768 };

	for (size_t i = 0; i < ARRAY_SIZE(bad_sizes); i++)
		assert_int_equal(vq_init(&vq, bad_sizes[i], DESC, AVAIL, USED, mem_of(f)), -EINVAL);
	assert_int_equal(vq_init(&vq, 1, DESC, AVAIL, USED, mem_of(f)), 0);
	assert_int_equal(vq_init(&vq, 256, DESC, AVAIL, USED, mem_of(f)), 0);
	/* alignment 16, 2, 4 */
	assert_int_equal(vq_init(&vq, 16, DESC + 8, AVAIL, USED, mem_of(f)), -EINVAL);
	assert_int_equal(vq_init(&vq, 16, DESC, AVAIL + 1, USED, mem_of(f)), -EINVAL);
	assert_int_equal(vq_init(&vq, 16, DESC, AVAIL, USED + 2, mem_of(f)), -EINVAL);
	assert_int_equal(vq_init(&vq, 16, DESC, AVAIL + 2, USED + 4, mem_of(f)), 0);
	/* each area wholly in RAM: exactly at the end fits, one entry more does not */
	assert_int_equal(vq_init(&vq, 16, RAM_SIZE - 256, AVAIL, USED, mem_of(f)), 0);
	assert_int_equal(vq_init(&vq, 32, RAM_SIZE - 256, AVAIL, USED, mem_of(f)), -EINVAL);
	assert_int_equal(vq_init(&vq, 16, DESC, RAM_SIZE - 37, USED, mem_of(f)), -EINVAL);
	assert_int_equal(vq_init(&vq, 16, DESC, RAM_SIZE - 38, USED, mem_of(f)), 0);
	assert_int_equal(vq_init(&vq, 16, DESC, AVAIL, RAM_SIZE - 132, mem_of(f)), -EINVAL);
	assert_int_equal(vq_init(&vq, 16, DESC, AVAIL, RAM_SIZE - 136, mem_of(f)), 0);
	assert_int_equal(vq_init(&vq, 16, DESC, AVAIL, ~0ULL - 3, mem_of(f)), -EINVAL);
	assert_int_equal(vq_init(&vq, 16, ~0ULL - 15, AVAIL, USED, mem_of(f)), -EINVAL);
	assert_int_equal(vq_init(&vq, 16, DESC, AVAIL, USED, NULL), -EINVAL);
}

/* ---- good chains ---- */

static void test_empty(void **state)
{
	struct fake *f = *state;

	assert_int_equal(vq_pop(&f->vq, &f->c), 0);
	assert_int_equal(vq_push(&f->vq, 0, 0), -EINVAL); /* nothing outstanding */
}

static void test_one_desc(void **state)
{
	struct fake *f = *state;

	desc(f, 5, BUF, 512, 0, 0);
	offer(f, 5);
	assert_int_equal(vq_pop(&f->vq, &f->c), 1);
	assert_int_equal(f->c.head, 5);
	assert_int_equal(f->c.nr, 1);
	assert_seg(f, 0, BUF, 512, false);
	assert_int_equal(f->c.bytes_out, 512);
	assert_int_equal(f->c.bytes_in, 0);
	assert_int_equal(vq_pop(&f->vq, &f->c), 0);
}

/* virtio-blk: header (readable), data, status (writable). */
static void test_blk_chain(void **state)
{
	struct fake *f = *state;

	desc(f, 0, BUF, 16, F_NEXT, 7);
	desc(f, 7, BUF + 0x1000, 4096, F_NEXT | F_WRITE, 3);
	desc(f, 3, BUF + 0x3000, 1, F_WRITE, 0);
	offer(f, 0);
	assert_int_equal(vq_pop(&f->vq, &f->c), 1);
	assert_int_equal(f->c.head, 0);
	assert_int_equal(f->c.nr, 3);
	assert_seg(f, 0, BUF, 16, false);
	assert_seg(f, 1, BUF + 0x1000, 4096, true);
	assert_seg(f, 2, BUF + 0x3000, 1, true);
	assert_int_equal(f->c.bytes_out, 16);
	assert_int_equal(f->c.bytes_in, 4097);

	assert_int_equal(vq_push(&f->vq, 0, 4097), 0);
	assert_int_equal(get16(f, USED + 2), 1);
	assert_used(f, 0, 0, 4097);
	assert_int_equal(vq_push(&f->vq, 0, 0), -EINVAL); /* already completed */
}

static void test_indirect(void **state)
{
	struct fake *f = *state;

	/* the WRITE flag on the referring descriptor is ignored (2.7.5.3.2) */
	desc(f, 2, TABLE, 48, F_IND | F_WRITE, 0);
	desc_at(f, TABLE, BUF, 16, F_NEXT, 2);
	desc_at(f, TABLE + 32, BUF + 0x100, 512, F_NEXT, 1);
	desc_at(f, TABLE + 16, BUF + 0x400, 1, F_WRITE, 0);
	offer(f, 2);
	assert_int_equal(vq_pop(&f->vq, &f->c), 1);
	assert_int_equal(f->c.head, 2);
	assert_int_equal(f->c.nr, 3);
	assert_seg(f, 0, BUF, 16, false);
	assert_seg(f, 1, BUF + 0x100, 512, false);
	assert_seg(f, 2, BUF + 0x400, 1, true);
	assert_int_equal(f->c.bytes_out, 528);
	assert_int_equal(f->c.bytes_in, 1);
}

/* Direct descriptors then one indirect (2.7.5.3.2); table unaligned, at RAM's end. */
static void test_direct_then_indirect(void **state)
{
	struct fake *f = *state;
	u64 t = RAM_SIZE - 33;

	desc(f, 1, BUF, 16, F_NEXT, 4);
	desc(f, 4, t, 32, F_IND, 0);
	desc_at(f, t, BUF + 0x100, 100, F_NEXT, 1);
	desc_at(f, t + 16, BUF + 0x200, 1, F_WRITE, 0);
	offer(f, 1);
	assert_int_equal(vq_pop(&f->vq, &f->c), 1);
	assert_int_equal(f->c.nr, 3);
	assert_seg(f, 0, BUF, 16, false);
	assert_seg(f, 1, BUF + 0x100, 100, false);
	assert_seg(f, 2, BUF + 0x200, 1, true);
}

static void test_indirect_max_entries(void **state)
{
	struct fake *f = *state;

	desc(f, 0, TABLE, VQ_MAX_SEGS * 16, F_IND, 0);
	for (u16 i = 0; i < VQ_MAX_SEGS; i++)
		desc_at(f, TABLE + 16ULL * i, BUF + i, 1, i + 1 < VQ_MAX_SEGS ? F_NEXT : 0, i + 1);
	offer(f, 0);
	assert_int_equal(vq_pop(&f->vq, &f->c), 1);
	assert_int_equal(f->c.nr, VQ_MAX_SEGS);
	assert_int_equal(f->c.bytes_out, VQ_MAX_SEGS);
}

/* Buffers may end exactly at the end of RAM. */
static void test_buffer_at_ram_end(void **state)
{
	struct fake *f = *state;

	desc(f, 0, RAM_SIZE - 4096, 4096, 0, 0);
	offer(f, 0);
	assert_int_equal(vq_pop(&f->vq, &f->c), 1);
	assert_seg(f, 0, RAM_SIZE - 4096, 4096, false);
}

/* A zero-length buffer is skipped, whatever its address and flags. */
static void test_zero_length_skipped(void **state)
{
	struct fake *f = *state;

	desc(f, 0, BUF, 16, F_NEXT, 1);
	desc(f, 1, ~0ULL, 0, F_NEXT | F_WRITE, 2);
	desc(f, 2, BUF + 16, 8, F_NEXT, 3);
	desc(f, 3, BUF + 32, 1, F_WRITE, 0);
	offer(f, 0);
	assert_int_equal(vq_pop(&f->vq, &f->c), 1);
	assert_int_equal(f->c.nr, 3);
	assert_seg(f, 0, BUF, 16, false);
	assert_seg(f, 1, BUF + 16, 8, false);
	assert_seg(f, 2, BUF + 32, 1, true);
}

/* The longest legal direct chain: every descriptor of the table once. */
static void test_chain_of_size(void **state)
{
	struct fake *f = *state;

	for (u16 i = 0; i < QSIZE; i++)
		desc(f, i, BUF + i, 1, i + 1 < QSIZE ? F_NEXT : 0, i + 1);
	offer(f, 0);
	assert_int_equal(vq_pop(&f->vq, &f->c), 1);
	assert_int_equal(f->c.nr, QSIZE);
}

static void test_several_and_used_ring(void **state)
{
	struct fake *f = *state;

	for (u16 i = 0; i < QSIZE; i++) {
		desc(f, i, BUF + 0x100ULL * i, 0x10 + i, 0, 0);
		offer(f, (u16)(QSIZE - 1 - i));
	}
	/* idx exactly size ahead is legal */
	for (u16 i = 0; i < QSIZE; i++) {
		u16 head = QSIZE - 1 - i;

		assert_int_equal(vq_pop(&f->vq, &f->c), 1);
		assert_int_equal(f->c.head, head);
		assert_seg(f, 0, BUF + 0x100ULL * head, 0x10 + head, false);
	}
	assert_int_equal(vq_pop(&f->vq, &f->c), 0);
	/* completed out of order */
	for (u16 i = 0; i < QSIZE; i++)
		assert_int_equal(vq_push(&f->vq, i, 1000 + i), 0);
	assert_int_equal(vq_push(&f->vq, 0, 0), -EINVAL);
	assert_int_equal(get16(f, USED + 2), QSIZE);
	for (u16 i = 0; i < QSIZE; i++)
		assert_used(f, i, i, 1000 + i);
}

/* The free-running 16-bit indexes wrap from 0xffff to 0. */
static void test_index_wrap(void **state)
{
	struct fake *f = *state;

	f->vq.last_avail = 0xfffd;
	f->vq.used_idx = 0xfffd;
	f->avail_idx = 0xfffd;
	desc(f, 0, BUF, 8, 0, 0);
	desc(f, 1, BUF + 8, 8, F_WRITE, 0);
	for (int i = 0; i < 6; i++)
		offer(f, (u16)(i & 1));
	assert_int_equal(get16(f, AVAIL + 2), 3);
	for (int i = 0; i < 6; i++) {
		assert_int_equal(vq_pop(&f->vq, &f->c), 1);
		assert_int_equal(f->c.head, i & 1);
		assert_int_equal(vq_push(&f->vq, f->c.head, 7 * i), 0);
		assert_used(f, (u16)(0xfffd + i), i & 1, 7 * i);
	}
	assert_int_equal(vq_pop(&f->vq, &f->c), 0);
	assert_int_equal(f->vq.last_avail, 3);
	assert_int_equal(get16(f, USED + 2), 3);
}

/* ---- hostile chains: malformed, consumed, the queue goes on ---- */

static void test_next_out_of_range(void **state)
{
	struct fake *f = *state;

	desc(f, 0, BUF, 16, F_NEXT, QSIZE);
	offer(f, 0);
	desc(f, 1, BUF, 16, F_NEXT, 0xffff);
	offer(f, 1);
	desc(f, 2, BUF, 16, 0, 0);
	offer(f, 2);
	pop_malformed(f, 0);
	pop_malformed(f, 1);
	assert_int_equal(vq_pop(&f->vq, &f->c), 1);
	assert_int_equal(f->c.head, 2);
	assert_int_equal(vq_push(&f->vq, 2, 0), 0);
	assert_used(f, 0, 0, 0);
	assert_used(f, 1, 1, 0);
	assert_used(f, 2, 2, 0);
}

static void test_loops(void **state)
{
	struct fake *f = *state;

	desc(f, 3, BUF, 16, F_NEXT, 3); /* self loop */
	desc(f, 4, BUF, 16, F_NEXT, 5); /* a -> b -> a */
	desc(f, 5, BUF, 16, F_NEXT, 4);
	desc(f, 6, BUF, 0, F_NEXT, 6); /* zero-length self loop */
	offer(f, 3);
	offer(f, 4);
	offer(f, 6);
	pop_malformed(f, 3);
	pop_malformed(f, 4);
	pop_malformed(f, 6);
	assert_int_equal(vq_pop(&f->vq, &f->c), 0);
}

/* A chain through every descriptor that then links back: longer than size. */
static void test_chain_longer_than_size(void **state)
{
	struct fake *f = *state;

	reinit(f, 256);
	for (u16 i = 0; i < 256; i++)
		desc(f, i, BUF + i, 0, F_NEXT, (u16)((i + 1) % 256));
	offer(f, 0);
	pop_malformed(f, 0);
}

/* More buffers than a chain may hold, in a queue big enough to link them. */
static void test_too_many_segs(void **state)
{
	struct fake *f = *state;

	reinit(f, 256);
	for (u16 i = 0; i <= VQ_MAX_SEGS; i++)
		desc(f, i, BUF + i, 1, i < VQ_MAX_SEGS ? F_NEXT : 0, i + 1);
	offer(f, 0);
	pop_malformed(f, 0);
	/* one fewer is fine */
	desc(f, VQ_MAX_SEGS - 1, BUF, 1, 0, 0);
	offer(f, 0);
	assert_int_equal(vq_pop(&f->vq, &f->c), 1);
	assert_int_equal(f->c.nr, VQ_MAX_SEGS);
}

static void test_indirect_bad(void **state)
{
	struct fake *f = *state;
	const u32 bad_len[] = { 0, 8, 17, 40, (VQ_MAX_SEGS + 1) * 16 };

	desc_at(f, TABLE, BUF, 16, 0, 0);
	desc_at(f, TABLE + 16, BUF, 16, 0, 0);
	for (size_t i = 0; i < ARRAY_SIZE(bad_len); i++) {
		desc(f, 0, TABLE, bad_len[i], F_IND, 0);
		offer(f, 0);
		pop_malformed(f, 0);
	}
	/* INDIRECT together with NEXT */
	desc(f, 0, TABLE, 16, F_IND | F_NEXT, 1);
	desc(f, 1, BUF, 16, 0, 0);
	offer(f, 0);
	pop_malformed(f, 0);
	/* nested INDIRECT */
	desc(f, 0, TABLE, 32, F_IND, 0);
	desc_at(f, TABLE, BUF, 16, F_NEXT, 1);
	desc_at(f, TABLE + 16, TABLE, 32, F_IND, 0);
	offer(f, 0);
	pop_malformed(f, 0);
	/* next past the table (which ends with RAM, for ASan), a loop inside it */
	desc(f, 0, RAM_SIZE - 32, 32, F_IND, 0);
	desc_at(f, RAM_SIZE - 32, BUF, 16, F_NEXT, 2);
	offer(f, 0);
	pop_malformed(f, 0);
	desc(f, 0, TABLE, 32, F_IND, 0);
	desc_at(f, TABLE + 16, BUF, 16, F_NEXT, 0);
	offer(f, 0);
	pop_malformed(f, 0);
	/* table past RAM's end */
	desc(f, 0, RAM_SIZE - 16, 32, F_IND, 0);
	offer(f, 0);
	pop_malformed(f, 0);
	/* the good table still works */
	desc_at(f, TABLE + 16, BUF, 16, 0, 0);
	desc(f, 0, TABLE, 32, F_IND, 0);
	offer(f, 0);
	assert_int_equal(vq_pop(&f->vq, &f->c), 1);
	assert_int_equal(f->c.nr, 2);
}

static void test_buffer_outside_ram(void **state)
{
	struct fake *f = *state;
	const u64 addr[] = { RAM_SIZE - 4095, RAM_SIZE, ~0ULL - 100, ~0ULL };

	for (size_t i = 0; i < ARRAY_SIZE(addr); i++) {
		desc(f, 0, BUF, 16, F_NEXT, 1);
		desc(f, 1, addr[i], 4096, F_WRITE, 0);
		offer(f, 0);
		pop_malformed(f, 0);
	}
	/* wrapping 2^64 into RAM even when the accessor does not check */
	f->careless = true;
	desc(f, 0, ~0ULL - 15, 32, 0, 0);
	offer(f, 0);
	pop_malformed(f, 0);
}

/* The byte limit, with buffers in a sparse region never dereferenced. */
static void test_total_bytes(void **state)
{
	struct fake *f = *state;
	const u64 big = 16 * GiB;

	f->sparse_size = 64 * GiB;
	desc(f, 0, big, 0xffffffffu, 0, 0);
	offer(f, 0);
	pop_malformed(f, 0);
	/* exactly the limit in two buffers */
	desc(f, 0, big, VQ_MAX_BYTES / 2, F_NEXT, 1);
	desc(f, 1, 2 * big, VQ_MAX_BYTES / 2, F_WRITE, 0);
	offer(f, 0);
	assert_int_equal(vq_pop(&f->vq, &f->c), 1);
	assert_int_equal(f->c.bytes_out + f->c.bytes_in, VQ_MAX_BYTES);
	assert_int_equal(vq_push(&f->vq, 0, 0), 0);
	/* one byte more */
	desc(f, 2, BUF, 1, F_WRITE, 0);
	desc(f, 1, 2 * big, VQ_MAX_BYTES / 2, F_WRITE | F_NEXT, 2);
	offer(f, 0);
	pop_malformed(f, 0);
	/* many 4 GiB - 1 buffers: would overflow a u32 sum */
	for (u16 i = 0; i < QSIZE; i++)
		desc(f, i, big, 0xffffffffu, i + 1 < QSIZE ? F_NEXT : 0, i + 1);
	offer(f, 0);
	pop_malformed(f, 0);
}

static void test_write_before_read(void **state)
{
	struct fake *f = *state;

	desc(f, 0, BUF, 1, F_WRITE | F_NEXT, 1);
	desc(f, 1, BUF + 16, 16, 0, 0);
	offer(f, 0);
	pop_malformed(f, 0);
	/* also across the direct/indirect boundary */
	desc(f, 0, BUF, 1, F_WRITE | F_NEXT, 1);
	desc(f, 1, TABLE, 16, F_IND, 0);
	desc_at(f, TABLE, BUF + 16, 16, 0, 0);
	offer(f, 0);
	pop_malformed(f, 0);
}

/* ---- hostile rings: the queue breaks ---- */

static void test_avail_idx_jump(void **state)
{
	struct fake *f = *state;

	desc(f, 0, BUF, 16, 0, 0);
	offer(f, 0);
	assert_int_equal(vq_pop(&f->vq, &f->c), 1);
	put16(f, AVAIL + 2, (u16)(f->vq.last_avail + QSIZE + 1));
	assert_int_equal(vq_pop(&f->vq, &f->c), -EIO);
	assert_true(f->vq.broken);
	assert_int_equal(vq_pop(&f->vq, &f->c), -EIO);
	assert_int_equal(vq_push(&f->vq, 0, 0), -EIO);
	/* going backwards looks the same: 0xffff ahead */
	reinit(f, QSIZE);
	put16(f, AVAIL + 2, 0xffff);
	assert_int_equal(vq_pop(&f->vq, &f->c), -EIO);
	assert_true(f->vq.broken);
}

static void test_head_out_of_range(void **state)
{
	struct fake *f = *state;

	offer(f, QSIZE);
	assert_int_equal(vq_pop(&f->vq, &f->c), -EIO);
	assert_true(f->vq.broken);
	assert_int_equal(vq_push(&f->vq, QSIZE, 0), -EIO);
}

static void test_push_head_out_of_range(void **state)
{
	struct fake *f = *state;

	desc(f, 0, BUF, 16, 0, 0);
	offer(f, 0);
	assert_int_equal(vq_pop(&f->vq, &f->c), 1);
	assert_int_equal(vq_push(&f->vq, QSIZE, 0), -EINVAL);
	assert_int_equal(get16(f, USED + 2), 0);
	assert_int_equal(vq_push(&f->vq, 0, 0), 0);
}

/* RAM that vanishes under a set-up queue (accessor changed): -EIO, not a fault. */
static void test_rings_unmapped(void **state)
{
	struct fake *f = *state;

	desc(f, 0, BUF, 16, 0, 0);
	offer(f, 0);
	f->size = AVAIL; /* avail and used rings gone */
	f->sparse_size = AVAIL;
	assert_int_equal(vq_pop(&f->vq, &f->c), -EIO);
	assert_true(f->vq.broken);

	f->size = RAM_SIZE;
	f->sparse_size = RAM_SIZE;
	reinit(f, QSIZE);
	offer(f, 0);
	assert_int_equal(vq_pop(&f->vq, &f->c), 1);
	f->size = USED; /* used ring gone */
	f->sparse_size = USED;
	assert_int_equal(vq_push(&f->vq, 0, 0), -EIO);
	assert_true(f->vq.broken);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_init_rejects),
		T(test_empty),
		T(test_one_desc),
		T(test_blk_chain),
		T(test_indirect),
		T(test_direct_then_indirect),
		T(test_indirect_max_entries),
		T(test_buffer_at_ram_end),
		T(test_zero_length_skipped),
		T(test_chain_of_size),
		T(test_several_and_used_ring),
		T(test_index_wrap),
		T(test_next_out_of_range),
		T(test_loops),
		T(test_chain_longer_than_size),
		T(test_too_many_segs),
		T(test_indirect_bad),
		T(test_buffer_outside_ram),
		T(test_total_bytes),
		T(test_write_before_read),
		T(test_avail_idx_jump),
		T(test_head_out_of_range),
		T(test_push_head_out_of_range),
		T(test_rings_unmapped),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
