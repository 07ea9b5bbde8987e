/*
 * The storage path: frames from the NIC go into the TCP/IP stack, each VSI
 * disk is an NBD client on its own TCP connection, and everything is polled
 * by the service CPU (storage_poll). selftest=nbd writes a pattern to the
 * start of every disk, flushes, and reads it back; selftest=nbd-soak does
 * that for SOAK_ROUNDS rounds, each with its own pattern, so the tests can
 * kill and restart servers mid-run.
 */
#include <asm/cpu.h>
#include <asm/lapic.h>
#include <hv/errno.h>
#include <hv/kernel.h>
#include <hv/log.h>
#include <hv/nbd.h>
#include <hv/printf.h>
#include <hv/net.h>
#include <hv/netsw.h>
#include <hv/storage.h>
#include <hv/string.h>
#include <hv/vlan.h>
#include <net/netdev.h>

#define FRAME_MAX	   2048
#define SELFTEST_BYTES	   (1 * MiB)
#define SELFTEST_CHUNK	   (64 * KiB)
#define SELFTEST_REQUESTS  16 /* SELFTEST_BYTES / SELFTEST_CHUNK */
#define PATTERN_MULTIPLIER 0x9e3779b97f4a7c15ULL
#define SOAK_ROUNDS	   30

enum selftest_phase {
	ST_IDLE = 0,
	ST_WRITE, /* pattern writes in flight (the last one FUA) */
	ST_FLUSH,
	ST_READ,
	ST_DONE,
};

struct disk {
	const struct vsi_config *cfg;
	u32 index; /* the VSI's position in the configuration: salts its pattern */
	struct tcp_conn *conn;
	struct nbd_client nbd;
	bool announced;
	/* the VSI's disk device, whose I/O the client's callbacks complete */
	void (*lock)(void *ctx), (*unlock)(void *ctx);
	void *lock_ctx;
	/* selftest=nbd */
	u32 phase, outstanding, errors, round;
	u64 started_ms;
	int wstatus[SELFTEST_REQUESTS], rstatus[SELFTEST_REQUESTS];
	u8 *wbuf, *rbuf;
	struct nbd_request req[SELFTEST_REQUESTS];
};

/* selftest=nbd-bench: a queue-depth-driven load on the first disk (reported, not judged). */
#define BENCH_SEQ_BYTES	 (8 * MiB)
#define BENCH_SEQ_CHUNK	 (128 * KiB)
#define BENCH_SEQ_QD	 8
#define BENCH_RAND_BLOCK 4096
#define BENCH_RAND_SPAN	 (8 * MiB)
#define BENCH_MAX_QD	 32

enum bench_phase {
	B_SEQ_WRITE,
	B_SEQ_READ,
	B_RAND_QD1,
	B_RAND_QD32,
	B_DONE
};

struct bench {
	u32 phase, qd, issued, completed, total, chunk;
	u64 started_ms, rng;
	u8 *buf; /* BENCH_MAX_QD * BENCH_SEQ_CHUNK */
	struct nbd_request req[BENCH_MAX_QD];
	bool slot_busy[BENCH_MAX_QD];
};

struct storage {
	struct netdev *nic;
	struct net_stack net;
	struct disk disks[CONFIG_MAX_VSIS];
	u32 nr_disks;
	bool selftest;
	u32 rounds; /* 1, or SOAK_ROUNDS for selftest=nbd-soak */
	bool bench;
	struct bench b;
	struct vlan_port vlan;	   /* storage_vlan: vid 0 when the stack is on the untagged LAN */
	u8 frame[FRAME_MAX];	   /* the frame received */
	u8 tagged[VLAN_FRAME_MAX]; /* the stack's frame with its tag (sent from inside net_input) */
};

static struct storage *st;

static u64 now_ms(void)
{
	return rdtsc() / (tsc_hz() / 1000);
}

bool storage_selftest(void)
{
	return st && (st->selftest || st->bench);
}

u64 storage_now_ms(void)
{
	return now_ms();
}

struct nbd_client *storage_attach(const struct vsi_config *cfg, void (*lock)(void *),
				  void (*unlock)(void *), void *ctx)
{
	for (u32 i = 0; st && i < st->nr_disks; i++) {
		struct disk *d = &st->disks[i];
		if (d->cfg != cfg)
			continue;
		d->lock = lock;
		d->unlock = unlock;
		d->lock_ctx = ctx;
		return &d->nbd;
	}
	return NULL;
}

bool storage_active(void)
{
	return st && st->nr_disks;
}

/* The stack's frames: on the storage VLAN, tagged here (hv/vlan.h), else as they are. */
static int nic_transmit(void *ctx, const void *frame, size_t len)
{
	struct netdev *nic = ctx;
	long n;

	if (!st->vlan.vid)
		return nic->transmit(nic, frame, len);
	n = vlan_tag(&st->vlan, frame, len, st->tagged);
	if (n < 0)
		return (int)n;
	return nic->transmit(nic, st->tagged, (size_t)n);
}

/*
 * A frame from the NIC. Without a storage VLAN the switch sees it first and
 * the stack keeps what is addressed to it; with one, the tag decides: ours
 * to the stack only, untagged to the switch only, anything else dropped.
 */
static void nic_input(size_t len, u64 now)
{
	u8 *frame;

	if (!st->vlan.vid) {
		if (netsw_uplink_input(st->frame, len, now))
			net_input(&st->net, st->frame, len, now);
		return;
	}
	switch (vlan_demux(&st->vlan, st->frame, &len, &frame)) {
	case VLAN_RX_STACK:
		net_input(&st->net, frame, len, now);
		break;
	case VLAN_RX_SWITCH:
		netsw_uplink_input(frame, len, now);
		break;
	case VLAN_RX_DROP:
		break;
	}
}

const struct vlan_stats *storage_vlan_stats(u16 *vid)
{
	if (!st || !st->vlan.vid)
		return NULL;
	*vid = st->vlan.vid;
	return &st->vlan.stats;
}

/* The NBD transport over one of our TCP connections. */
static int t_connect(void *ctx, u64 now)
{
	struct disk *d = ctx;

	if (d->conn)
		tcp_abort(d->conn);
	d->conn = NULL;
	if (!net_configured(&st->net))
		return -ENETDOWN; /* the client retries with its backoff */
	d->conn = tcp_connect(&st->net, d->cfg->disk.ip, d->cfg->disk.port, now);
	return d->conn ? 0 : -ENOMEM;
}

static int t_status(void *ctx)
{
	struct disk *d = ctx;

	if (!d->conn)
		return NBD_TRANSPORT_DOWN;
	switch (tcp_state(d->conn)) {
	case TCP_CONNECTING:
		return NBD_TRANSPORT_CONNECTING;
	case TCP_ESTABLISHED:
		return NBD_TRANSPORT_UP;
	default:
		return NBD_TRANSPORT_DOWN;
	}
}

static long t_send(void *ctx, const void *buf, size_t len, u64 now)
{
	struct disk *d = ctx;

	return d->conn ? tcp_send(d->conn, buf, len, now) : -ENOTCONN;
}

static long t_recv(void *ctx, void *buf, size_t len)
{
	struct disk *d = ctx;

	return d->conn ? tcp_recv(d->conn, buf, len) : -ENOTCONN;
}

static void t_close(void *ctx)
{
	struct disk *d = ctx;

	if (d->conn)
		tcp_abort(d->conn);
	d->conn = NULL;
}

static const char *ip_text(u32 ip, char *buf, size_t len)
{
	snprintf(buf, len, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 0xff, (ip >> 8) & 0xff, ip & 0xff);
	return buf;
}

static bool net_bring_up(const struct hv_config *cfg, bool disks)
{
	struct net_driver drv;
	char a[16], g[16];

	st->nic = netdev_probe_for(&cfg->storage_nic, "storage");
	if (!st->nic && !disks) {
		pr_err("net: VSIs on nat or bridged networks but no supported NIC was found: they "
		       "reach nothing outside");
		return false;
	}
	if (!st->nic) {
		pr_err("storage: VSIs have disks but no supported NIC was found; their disks "
		       "stay offline");
		return false;
	}
	memcpy(drv.mac, st->nic->mac, sizeof(drv.mac));
	drv.transmit = nic_transmit;
	drv.ctx = st->nic;
	net_init(&st->net, &drv);
	if (cfg->storage_vlan) {
		vlan_init(&st->vlan, cfg->storage_vlan);
		pr_info("storage: on VLAN %u of %s (802.1Q tags in software); the VSIs' uplink is "
			"the untagged LAN",
			cfg->storage_vlan, st->nic->name);
	}
	net_seed(&st->net, rdtsc());
	if (cfg->net_mode == CONFIG_NET_STATIC) {
		net_config_static(&st->net, cfg->ip, ~0U << (32 - cfg->prefix), cfg->gateway);
		pr_info("storage: network %s/%u via %s", ip_text(cfg->ip, a, sizeof(a)),
			cfg->prefix, ip_text(cfg->gateway, g, sizeof(g)));
	} else {
		net_config_dhcp(&st->net, now_ms());
		pr_info("storage: network by DHCP");
	}
	return true;
}

void storage_init(const struct hv_config *cfg)
{
	struct nbd_params params = { 0 };
	struct nbd_transport t = { t_connect, t_status, t_send, t_recv, t_close, NULL };
	char ip[16];
	bool disks = false;

	for (u32 i = 0; i < cfg->nr_vsis; i++)
		disks |= cfg->vsi[i].disk.present;
	if (!disks && !netsw_needs_uplink())
		return; /* nothing needs the NIC */
	st = page_alloc_zeroed(sizeof(*st), PAGE_SIZE, 0);
	st->selftest = selftest_enabled("nbd") || selftest_enabled("nbd-soak");
	st->rounds = selftest_enabled("nbd-soak") ? SOAK_ROUNDS : 1;
	st->bench = selftest_enabled("nbd-bench");
	if (!net_bring_up(cfg, disks))
		return;
	netsw_set_uplink(st->nic, &st->net);
	params.deadline_ms = cfg->io_deadline * 1000;
	for (u32 i = 0; i < cfg->nr_vsis; i++) {
		const struct vsi_config *v = &cfg->vsi[i];
		struct disk *d = &st->disks[st->nr_disks];

		if (!v->disk.present)
			continue;
		d->cfg = v;
		d->index = i;
		t.ctx = d;
		nbd_init(&d->nbd, &t, v->disk.export_name, &params);
		st->nr_disks++;
		pr_info("storage: vsi %s: disk nbd://%s:%u/%s", v->name,
			ip_text(v->disk.ip, ip, sizeof(ip)), v->disk.port, v->disk.export_name);
	}
}

/* The self-test's pattern: each 8-byte word names its offset, the VSI and the round. */
static u64 pattern_word(u32 index, u32 round, u64 offset)
{
	return (offset | ((u64)index << 56) | ((u64)round << 48)) * PATTERN_MULTIPLIER;
}

static void selftest_done(struct nbd_request *r, int status)
{
	struct disk *d = r->arg;
	u32 i = (u32)(r - d->req);

	if (r->type == NBD_CMD_WRITE)
		d->wstatus[i] = status;
	else if (r->type == NBD_CMD_READ)
		d->rstatus[i] = status;
	if (status) {
		d->errors++;
		pr_warn("storage: vsi %s: selftest %s at %llu failed: %d", d->cfg->name,
			r->type == NBD_CMD_READ	   ? "read"
			: r->type == NBD_CMD_WRITE ? "write"
						   : "flush",
			(unsigned long long)r->offset, status);
	}
	d->outstanding--;
}

static void selftest_submit(struct disk *d, u16 type, u32 n)
{
	for (u32 i = 0; i < n; i++) {
		struct nbd_request *r = &d->req[i];

		memset(r, 0, sizeof(*r));
		r->type = type;
		r->arg = d;
		r->done = selftest_done;
		if (type != NBD_CMD_FLUSH) {
			r->offset = (u64)i * SELFTEST_CHUNK;
			r->length = SELFTEST_CHUNK;
			r->buf = (type == NBD_CMD_WRITE ? d->wbuf : d->rbuf) + r->offset;
		}
		/* The last write asks for FUA where the server offers it. */
		if (type == NBD_CMD_WRITE && i == n - 1 &&
		    (nbd_transmission_flags(&d->nbd) & NBD_FLAG_SEND_FUA))
			r->flags = NBD_CMD_FLAG_FUA;
		d->outstanding++;
		if (nbd_submit(&d->nbd, r, now_ms())) {
			d->outstanding--;
			d->errors++;
		}
	}
}

/*
 * Compare what was read with what was written, chunk by chunk. A chunk whose
 * write or read failed is not judged (its contents are undefined by
 * design); any other difference is wrong data, which must never happen.
 */
static void selftest_verify(struct disk *d)
{
	const u64 *got = (const u64 *)d->rbuf;
	u32 judged = 0;

	for (u32 c = 0; c < SELFTEST_REQUESTS; c++) {
		if (d->wstatus[c] || d->rstatus[c])
			continue;
		judged++;
		for (u64 i = c * SELFTEST_CHUNK / 8; i < (c + 1) * SELFTEST_CHUNK / 8; i++)
			if (got[i] != pattern_word(d->index, d->round, i * 8)) {
				pr_err("storage: vsi %s: selftest WRONG DATA: read back 0x%llx at "
				       "%llu, "
				       "wrote 0x%llx",
				       d->cfg->name, (unsigned long long)got[i],
				       (unsigned long long)(i * 8),
				       (unsigned long long)pattern_word(d->index, d->round, i * 8));
				return;
			}
	}
	if (judged == SELFTEST_REQUESTS && !d->errors)
		pr_info("storage: vsi %s: selftest%s wrote %llu KiB (%u requests in flight, FUA, "
			"FLUSH) and read it back: pattern ok in %llu ms",
			d->cfg->name, st->rounds > 1 ? " round" : "",
			(unsigned long long)(SELFTEST_BYTES / KiB), SELFTEST_REQUESTS,
			(unsigned long long)(now_ms() - d->started_ms));
	else
		pr_warn("storage: vsi %s: selftest round %u: %u failed requests, the other %u "
			"chunks read back right",
			d->cfg->name, d->round, d->errors, judged);
}

static void selftest_summary(struct disk *d)
{
	const struct nbd_stats *s = nbd_get_stats(&d->nbd);

	pr_info("storage: vsi %s: selftest finished %u rounds: %llu requests, %llu errors, "
		"%llu reconnects, %llu replays",
		d->cfg->name, st->rounds, (unsigned long long)s->requests,
		(unsigned long long)s->errors, (unsigned long long)s->reconnects,
		(unsigned long long)s->replays);
}

/* One step of selftest=nbd for a ready disk. */
static void selftest_step(struct disk *d)
{
	if (d->outstanding)
		return;
	switch (d->phase) {
	case ST_IDLE:
		if (nbd_export_size(&d->nbd) < SELFTEST_BYTES ||
		    (nbd_transmission_flags(&d->nbd) & NBD_FLAG_READ_ONLY)) {
			pr_warn("storage: vsi %s: selftest needs a writable export of at least "
				"%llu KiB",
				d->cfg->name, (unsigned long long)(SELFTEST_BYTES / KiB));
			d->phase = ST_DONE;
			return;
		}
		if (!d->wbuf) {
			d->wbuf = page_alloc_zeroed(SELFTEST_BYTES, PAGE_SIZE, 0);
			d->rbuf = page_alloc_zeroed(SELFTEST_BYTES, PAGE_SIZE, 0);
		}
		for (u64 i = 0; i < SELFTEST_BYTES / 8; i++)
			((u64 *)d->wbuf)[i] = pattern_word(d->index, d->round, i * 8);
		memset(d->rbuf, 0, SELFTEST_BYTES);
		memset(d->wstatus, 0, sizeof(d->wstatus));
		memset(d->rstatus, 0, sizeof(d->rstatus));
		d->errors = 0;
		d->started_ms = now_ms();
		d->phase = ST_WRITE;
		selftest_submit(d, NBD_CMD_WRITE, SELFTEST_REQUESTS);
		break;
	case ST_WRITE:
		d->phase = ST_FLUSH;
		if (nbd_transmission_flags(&d->nbd) & NBD_FLAG_SEND_FLUSH)
			selftest_submit(d, NBD_CMD_FLUSH, 1);
		break;
	case ST_FLUSH:
		d->phase = ST_READ;
		selftest_submit(d, NBD_CMD_READ, SELFTEST_REQUESTS);
		break;
	case ST_READ:
		selftest_verify(d);
		if (++d->round < st->rounds) {
			d->phase = ST_IDLE;
			break;
		}
		d->phase = ST_DONE;
		if (st->rounds > 1)
			selftest_summary(d);
		break;
	}
}

static void bench_done(struct nbd_request *r, int status)
{
	struct bench *b = r->arg;

	b->slot_busy[r - b->req] = false;
	b->completed++;
	if (status)
		pr_warn("storage: bench request at %llu failed: %d", (unsigned long long)r->offset,
			status);
}

static void bench_start(struct bench *b, u32 phase)
{
	static const struct {
		u32 qd, total, chunk;
	} shape[] = {
		[B_SEQ_WRITE] = { BENCH_SEQ_QD, BENCH_SEQ_BYTES / BENCH_SEQ_CHUNK,
				  BENCH_SEQ_CHUNK },
		[B_SEQ_READ] = { BENCH_SEQ_QD, BENCH_SEQ_BYTES / BENCH_SEQ_CHUNK, BENCH_SEQ_CHUNK },
		[B_RAND_QD1] = { 1, 500, BENCH_RAND_BLOCK },
		[B_RAND_QD32] = { 32, 2000, BENCH_RAND_BLOCK },
	};

	b->phase = phase;
	if (phase == B_DONE)
		return;
	b->qd = shape[phase].qd;
	b->total = shape[phase].total;
	b->chunk = shape[phase].chunk;
	b->issued = b->completed = 0;
	b->started_ms = now_ms();
}

static void bench_report(struct bench *b)
{
	static const char *const names[] = { "seq-write", "seq-read", "rand-read-qd1",
					     "rand-read-qd32" };
	u64 ms = MAX(now_ms() - b->started_ms, 1ULL);
	u64 bytes = (u64)b->total * b->chunk;

	pr_info("storage: BENCH %s requests=%u size=%u qd=%u ms=%llu kib_per_s=%llu iops=%llu",
		names[b->phase], b->total, b->chunk, b->qd, (unsigned long long)ms,
		(unsigned long long)(bytes * 1000 / KiB / ms),
		(unsigned long long)((u64)b->total * 1000 / ms));
}

/* Keep qd requests in flight until the phase's total is done; then the next phase. */
static void bench_step(struct disk *d)
{
	struct bench *b = &st->b;

	if (b->phase == B_DONE)
		return;
	if (!b->buf) {
		b->buf = page_alloc_zeroed(BENCH_MAX_QD * BENCH_SEQ_CHUNK, PAGE_SIZE, 0);
		b->rng = 0x2545f4914f6cdd1dULL;
		bench_start(b, B_SEQ_WRITE);
	}
	for (u32 s = 0; s < b->qd && b->issued < b->total; s++) {
		struct nbd_request *r = &b->req[s];
		bool seq = b->phase <= B_SEQ_READ;

		if (b->slot_busy[s])
			continue;
		memset(r, 0, sizeof(*r));
		r->type = b->phase == B_SEQ_WRITE ? NBD_CMD_WRITE : NBD_CMD_READ;
		b->rng ^= b->rng << 13, b->rng ^= b->rng >> 7, b->rng ^= b->rng << 17;
		r->offset =
		    seq ? (u64)b->issued * b->chunk
			: (b->rng % (BENCH_RAND_SPAN / BENCH_RAND_BLOCK)) * BENCH_RAND_BLOCK;
		r->length = b->chunk;
		r->buf = b->buf + (u64)s * BENCH_SEQ_CHUNK;
		r->done = bench_done;
		r->arg = b;
		b->slot_busy[s] = true;
		b->issued++;
		if (nbd_submit(&d->nbd, r, now_ms())) {
			b->slot_busy[s] = false;
			b->completed++;
		}
	}
	if (b->completed == b->total) {
		bench_report(b);
		bench_start(b, b->phase + 1);
	}
}

/* Log a disk's export once, when its handshake first completes. */
static void announce(struct disk *d)
{
	u16 f = nbd_transmission_flags(&d->nbd);

	d->announced = true;
	pr_info("storage: vsi %s: export '%s' is %llu MiB (%llu bytes), flags 0x%04x:%s%s%s%s%s",
		d->cfg->name, d->cfg->disk.export_name,
		(unsigned long long)(nbd_export_size(&d->nbd) / MiB),
		(unsigned long long)nbd_export_size(&d->nbd), f,
		(f & NBD_FLAG_READ_ONLY) ? " read-only" : " writable",
		(f & NBD_FLAG_SEND_FLUSH) ? " flush" : "", (f & NBD_FLAG_SEND_FUA) ? " fua" : "",
		(f & NBD_FLAG_SEND_TRIM) ? " trim" : "",
		(f & NBD_FLAG_SEND_WRITE_ZEROES) ? " write-zeroes" : "");
}

bool storage_poll(void)
{
	bool busy = false;
	u64 now = now_ms();
	long n;

	if (!st || !st->nic)
		return false;
	for (int i = 0; i < 64 && (n = st->nic->receive(st->nic, st->frame, sizeof(st->frame))) > 0;
	     i++) {
		nic_input((size_t)n, now);
		busy = true;
	}
	net_poll(&st->net, now);
	if (!net_configured(&st->net))
		return true; /* DHCP first; the disks start once we have an address */
	for (u32 i = 0; i < st->nr_disks; i++) {
		struct disk *d = &st->disks[i];

		if (d->lock)
			d->lock(d->lock_ctx);
		nbd_poll(&d->nbd, now);
		if (d->unlock)
			d->unlock(d->lock_ctx);
		if (nbd_ready(&d->nbd) && !d->announced)
			announce(d);
		if (st->selftest && nbd_ready(&d->nbd) && d->phase != ST_DONE)
			selftest_step(d);
		if (st->bench && i == 0 && nbd_ready(&d->nbd)) {
			bench_step(d);
			busy |= st->b.phase != B_DONE;
		}
		busy |= nbd_pending(&d->nbd) > 0 || !nbd_ready(&d->nbd) ||
			(st->selftest && d->phase != ST_DONE);
	}
	return busy;
}
