/*
 * Split-virtqueue walker (VIRTIO 1.2, 2.7). The guest may rewrite the rings
 * and descriptors while we read them, so each value is read exactly once into
 * a local and only the local is validated and used.
 *
 * Choices where the spec leaves room:
 * - a zero-length buffer is skipped entirely (no segment, its address and
 *   WRITE flag ignored) but still counts towards the loop bound;
 * - a readable buffer after a writable one is malformed (2.7.4.2);
 * - an indirect table holds 1..VQ_MAX_SEGS descriptors, whatever the queue size;
 * - a head index >= size breaks the queue: there is no chain the driver
 *   could recognise as completed;
 * - a malformed chain costs the driver that request only (-EINVAL), a broken
 *   ring costs the queue (-EIO, vq->broken).
 */
#include <hv/errno.h>
#include <hv/string.h>
#include <hv/types.h>
#include <hv/virtqueue.h>

_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "virtio 1.x rings are little-endian");

#define VQ_AVAIL_FLAGS 0
#define VQ_AVAIL_IDX   2 /* offsetof(struct virtq_avail, idx) */
#define VQ_AVAIL_RING  4
#define VQ_USED_IDX    2
#define VQ_USED_RING   4

/* Nothing is read or written across this point out of program order. */
#define vq_barrier() __asm__ __volatile__("" ::: "memory")

static inline u16 vq_read16(const void *p)
{
	return *(const volatile u16 *)p;
}

static inline void vq_write16(void *p, u16 v)
{
	*(volatile u16 *)p = v;
}

static inline void vq_write32(void *p, u32 v)
{
	*(volatile u32 *)p = v;
}

static void *vq_map(const struct virtqueue *vq, u64 gpa, u64 len)
{
	if (gpa + len < gpa)
		return NULL;
	return vq->mem.map(vq->mem.ctx, gpa, len);
}

/* Copy descriptor i of table into *d; the copy is all we look at afterwards. */
static void vq_read_desc(const void *table, u32 i, struct virtq_desc *d)
{
	memcpy(d, (const u8 *)table + (u64)i * sizeof(*d), sizeof(*d));
	vq_barrier();
}

int vq_init(struct virtqueue *vq, u16 size, u64 desc, u64 avail, u64 used, const struct vq_mem *m)
{
	if (!m || !m->map || size == 0 || size > VQ_MAX_SIZE || (size & (size - 1)))
		return -EINVAL;
	/* 2.7.1: alignment of each part */
	if (!IS_ALIGNED(desc, 16) || !IS_ALIGNED(avail, 2) || !IS_ALIGNED(used, 4))
		return -EINVAL;

	memset(vq, 0, sizeof(*vq));
	vq->size = size;
	vq->desc_gpa = desc;
	vq->avail_gpa = avail;
	vq->used_gpa = used;
	vq->mem = *m;
	if (!vq_map(vq, desc, VQ_DESC_BYTES(size)) || !vq_map(vq, avail, VQ_AVAIL_BYTES(size)) ||
	    !vq_map(vq, used, VQ_USED_BYTES(size))) {
		memset(vq, 0, sizeof(*vq));
		return -EINVAL;
	}
	return 0;
}

static int vq_break(struct virtqueue *vq)
{
	vq->broken = true;
	return -EIO;
}

/* Append the buffer d describes to c: readable ones first, all within RAM and the limits. */
static int vq_add_seg(const struct virtqueue *vq, struct vq_chain *c, const struct virtq_desc *d)
{
	bool writes = d->flags & VIRTQ_DESC_F_WRITE;
	u64 total = c->bytes_in + c->bytes_out;
	void *hva;

	if (d->len == 0)
		return 0;
	/* 2.7.4.2: device-writable elements come after device-readable ones */
	if (!writes && c->nr && c->seg[c->nr - 1].device_writes)
		return -EINVAL;
	if (c->nr == VQ_MAX_SEGS || d->len > VQ_MAX_BYTES - total)
		return -EINVAL;
	hva = vq_map(vq, d->addr, d->len);
	if (!hva)
		return -EINVAL;

	c->seg[c->nr].hva = hva;
	c->seg[c->nr].len = d->len;
	c->seg[c->nr].device_writes = writes;
	c->nr++;
	if (writes)
		c->bytes_in += d->len;
	else
		c->bytes_out += d->len;
	return 0;
}

/*
 * Walk the indirect table *ind refers to (2.7.5.3): 1..VQ_MAX_SEGS entries,
 * no nested INDIRECT, at most one visit per entry. Its WRITE flag is ignored
 * (2.7.5.3.2).
 */
static int vq_walk_indirect(const struct virtqueue *vq, struct vq_chain *c,
			    const struct virtq_desc *ind)
{
	u32 nr = ind->len / sizeof(struct virtq_desc);
	struct virtq_desc d;
	const void *table;
	u32 i = 0;
	int ret;

	if (ind->flags & VIRTQ_DESC_F_NEXT)
		return -EINVAL;
	if (ind->len == 0 || ind->len % sizeof(struct virtq_desc) || nr > VQ_MAX_SEGS)
		return -EINVAL;
	table = vq_map(vq, ind->addr, ind->len);
	if (!table)
		return -EINVAL;

	for (u32 n = 0; n < nr; n++) {
		vq_read_desc(table, i, &d);
		if (d.flags & VIRTQ_DESC_F_INDIRECT)
			return -EINVAL;
		ret = vq_add_seg(vq, c, &d);
		if (ret)
			return ret;
		if (!(d.flags & VIRTQ_DESC_F_NEXT))
			return 0;
		if (d.next >= nr)
			return -EINVAL;
		i = d.next;
	}
	return -EINVAL; /* more links than entries: a loop */
}

/* Walk the chain at head (< size) into c; -EINVAL if malformed, -EIO if the table is gone. */
static int vq_walk(struct virtqueue *vq, u16 head, struct vq_chain *c)
{
	const void *table = vq_map(vq, vq->desc_gpa, VQ_DESC_BYTES(vq->size));
	struct virtq_desc d;
	u16 i = head;
	int ret;

	if (!table)
		return vq_break(vq);

	/* 2.7.5.3.1: no chain longer than the queue size, so more links are a loop */
	for (u32 n = 0; n < vq->size; n++) {
		vq_read_desc(table, i, &d);
		if (d.flags & VIRTQ_DESC_F_INDIRECT)
			return vq_walk_indirect(vq, c, &d);
		ret = vq_add_seg(vq, c, &d);
		if (ret)
			return ret;
		if (!(d.flags & VIRTQ_DESC_F_NEXT))
			return 0;
		if (d.next >= vq->size)
			return -EINVAL;
		i = d.next;
	}
	return -EINVAL;
}

int vq_pop(struct virtqueue *vq, struct vq_chain *c)
{
	const u8 *avail;
	u16 idx, head;
	int ret;

	if (vq->broken)
		return -EIO;
	avail = vq_map(vq, vq->avail_gpa, VQ_AVAIL_BYTES(vq->size));
	if (!avail)
		return vq_break(vq);

	/* 2.7.6: idx only grows; more than size ahead of us is impossible */
	idx = vq_read16(avail + VQ_AVAIL_IDX);
	if (idx == vq->last_avail)
		return 0;
	if ((u16)(idx - vq->last_avail) > vq->size)
		return vq_break(vq);
	/* read the ring entry only after idx (x86 keeps load order) */
	vq_barrier();
	head = vq_read16(avail + VQ_AVAIL_RING + 2 * (vq->last_avail & (vq->size - 1)));
	if (head >= vq->size)
		return vq_break(vq);
	vq->last_avail++;

	c->head = head;
	c->nr = 0;
	c->bytes_in = 0;
	c->bytes_out = 0;
	ret = vq_walk(vq, head, c);
	return ret ? ret : 1;
}

int vq_push(struct virtqueue *vq, u16 head, u32 written)
{
	u8 *used, *elem;

	if (vq->broken)
		return -EIO;
	if (head >= vq->size || vq->used_idx == vq->last_avail)
		return -EINVAL;
	used = vq_map(vq, vq->used_gpa, VQ_USED_BYTES(vq->size));
	if (!used)
		return vq_break(vq);

	/* 2.7.8: the element first, then idx that publishes it */
	elem = used + VQ_USED_RING + 8 * (vq->used_idx & (vq->size - 1));
	vq_write32(elem, head);
	vq_write32(elem + 4, written);
	vq_barrier();
	vq->used_idx++;
	vq_write16(used + VQ_USED_IDX, vq->used_idx);
	return 0;
}

bool vq_wants_interrupt(struct virtqueue *vq)
{
	u8 *avail;

	if (vq->broken)
		return false;
	avail = vq_map(vq, vq->avail_gpa, VQ_AVAIL_BYTES(vq->size));
	if (!avail) {
		vq_break(vq);
		return false;
	}
	/* The used idx is stored before the flags are loaded (a full fence: store-load order). */
	__asm__ __volatile__("mfence" ::: "memory");
	return !(vq_read16(avail + VQ_AVAIL_FLAGS) & VIRTQ_AVAIL_F_NO_INTERRUPT);
}

/*
 * Copy len bytes between buf and the chain's device-writable (writable) or
 * device-readable bytes, from stream position pos. The walker checked each
 * segment against guest RAM; callers keep pos + len inside the stream.
 */
void vq_chain_copy(const struct vq_chain *c, bool writable, u64 pos, void *buf, u64 len,
		   bool to_guest)
{
	u8 *b = buf;

	for (u32 i = 0; i < c->nr && len; i++) {
		const struct vq_seg *s = &c->seg[i];
		u64 n;

		if (s->device_writes != writable)
			continue;
		if (pos >= s->len) {
			pos -= s->len;
			continue;
		}
		n = MIN(s->len - pos, len);
		if (to_guest)
			memcpy((u8 *)s->hva + pos, b, n);
		else
			memcpy(b, (const u8 *)s->hva + pos, n);
		b += n;
		len -= n;
		pos = 0;
	}
}
