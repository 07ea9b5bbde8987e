/*
 * The firmware's FAT reader (guest/firmware/fat.c) on volumes made at test
 * time by mkfs.vfat and filled by mtools: FAT12 with 2048-byte sectors,
 * FAT16 with 2 KiB clusters, FAT16 with 4096-byte sectors, FAT32 with
 * 512-byte clusters; GPT-partitioned (found through gpt.c) or bare. Each
 * has nested directories, long names, a directory of 200 entries and a
 * large file written into the holes left by deleted files, so its cluster
 * chain is fragmented. Every file is compared byte for byte with its source,
 * whole and at odd offsets and lengths, and the disk reads are counted to
 * prove one read per run of contiguous clusters, straight into the caller's
 * buffer. Then the volumes are damaged: looping and escaping chains, sizes
 * beyond the chain, absurd BPB fields. Each must fail cleanly.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "fat.h"
#include "gpt.h"

#define SECTOR	 512
#define NR_MANY	 200
#define NR_SMALL 40

struct vol {
	const char *name;
	u8 bits;
	const char *mkfs;
	u32 size_mb;
	bool gpt;     /* partition at 1 MiB behind a GPT, else the volume is the disk */
	u32 big_size; /* the fragmented file */
	u32 small_size;
};

static const struct vol vols[] = {
	{ "fat12-2k", 12, "-F 12 -S 2048 -s 1", 4, 0, 900 * 1024 + 77, 6144 },
	{ "fat16", 16, "-F 16 -s 4", 32, 1, 3 * 1024 * 1024 + 1234, 16384 },
	{ "fat16-4k", 16, "-F 16 -S 4096 -s 1", 48, 0, 2 * 1024 * 1024 + 4095, 12288 },
	{ "fat32", 32, "-F 32 -s 1", 72, 1, 5 * 1024 * 1024 + 999, 4096 },
};

/* A disk in memory that counts reads and how many landed in the caller's buffer. */
struct memdisk {
	u8 *data;
	u64 sectors;
	u64 fail_lba;
	const u8 *user_lo, *user_hi; /* the buffer fat_read() was given */
	u32 reads, user_reads;
};

static int memdisk_read(void *ctx, u64 lba, u32 count, void *buf)
{
	struct memdisk *m = ctx;

	m->reads++;
	if ((u8 *)buf >= m->user_lo && (u8 *)buf < m->user_hi)
		m->user_reads++;
	if (lba >= m->sectors || count > m->sectors - lba)
		return -FW_EIO;
	if (m->fail_lba >= lba && m->fail_lba - lba < count)
		return -FW_EIO;
	memcpy(buf, m->data + lba * SECTOR, (size_t)count * SECTOR);
	return 0;
}

static char tmpdir[] = "/tmp/fw_fat_XXXXXX";

static void run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void run(const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;
	int rc;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	rc = system(cmd);
	if (rc != 0)
		fail_msg("command failed (%d): %s", rc, cmd);
}

/* Deterministic contents: a xorshift stream seeded per file. */
static void fill(u8 *p, size_t n, u32 seed)
{
	u32 x = seed * 2654435761u + 1;

	for (size_t i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		p[i] = (u8)x;
	}
}

static void write_src(const char *rel, size_t n, u32 seed)
{
	char path[512];
	u8 *buf = malloc(n + 1);
	FILE *f;

	fill(buf, n, seed);
	snprintf(path, sizeof(path), "%s/src/%s", tmpdir, rel);
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(buf, 1, n, f), n);
	fclose(f);
	free(buf);
}

/* The source file for path (as written to the volume) and its size. */
struct srcfile {
	const char *path;
	const char *src;
	size_t size;
	u32 seed;
};

static const struct srcfile files[] = {
	{ "/loader/entries/6a9857a393724b7a981ebb5b8495b9ea-6.1.0-56-amd64.conf", "entry", 333, 1 },
	{ "/loader/loader.conf", "loaderconf", 40, 2 },
	{ "/README.TXT", "readme", 1000, 3 },
	{ "/Mixed Case Name With Spaces.txt", "mixed", 513, 4 },
	{ "/deep/a/b/c/leaf.bin", "leaf", 70000, 5 },
	{ "/EFI/Linux/a-name-that-needs-three-lfn-entries-to-hold-it.efi", "three", 4097, 6 },
	{ "/empty.txt", "empty", 0, 7 },
};

/* Sources once, then one image per volume. */
static void build_volume(const struct vol *v)
{
	char img[512], at[600], mk[700], fsinfo[700] = "";
	u64 off = v->gpt ? 1 * MiB : 0;

	snprintf(img, sizeof(img), "%s/%s.img", tmpdir, v->name);
	snprintf(at, sizeof(at), "%s@@%llu", img, (unsigned long long)off);
	if (v->gpt) {
		run("truncate -s %uM %s && sgdisk -n 1:2048:0 -t 1:ef00 %s >/dev/null",
		    v->size_mb + 2, img, img);
		snprintf(mk, sizeof(mk), "mkfs.vfat %s -n FWTEST --offset 2048 %s %u >/dev/null",
			 v->mkfs, img, v->size_mb * 1024);
	} else {
		run("truncate -s %uM %s", v->size_mb, img);
		snprintf(mk, sizeof(mk), "mkfs.vfat %s -n FWTEST %s >/dev/null", v->mkfs, img);
	}
	run("%s 2>/dev/null", mk);
	/*
	 * FAT32: forget the FSInfo next-free hint (sector 1, offset 492), so mtools allocates
	 * from the start of the volume and the big file fills the holes.
	 */
	if (v->bits == 32)
		snprintf(fsinfo, sizeof(fsinfo),
			 "printf '\\377\\377\\377\\377' | "
			 "dd of=%s bs=1 seek=%llu conv=notrunc 2>/dev/null && ",
			 img, (unsigned long long)off + SECTOR + 492);
	run("cd %s/src && export MTOOLS_SKIP_CHECK=1 && I='%s' && "
	    "mmd -i \"$I\" ::/loader ::/loader/entries ::/EFI ::/EFI/Linux ::/deep ::/deep/a "
	    "::/deep/a/b ::/deep/a/b/c ::/many ::/frag && "
	    "mcopy -i \"$I\" entry ::/loader/entries/%s && "
	    "mcopy -i \"$I\" loaderconf ::/loader/loader.conf && "
	    "mcopy -i \"$I\" readme ::/README.TXT && "
	    "mcopy -i \"$I\" mixed '::/Mixed Case Name With Spaces.txt' && "
	    "mcopy -i \"$I\" leaf ::/deep/a/b/c/leaf.bin && "
	    "mcopy -i \"$I\" three ::/EFI/Linux/%s && "
	    "mcopy -i \"$I\" empty ::/empty.txt && "
	    "mcopy -i \"$I\" many/* ::/many/ && "
	    "mcopy -i \"$I\" small/* ::/frag/ && "
	    "mdel -i \"$I\" $(for i in $(seq 1 2 %u); do printf '::/frag/s%%03d ' $i; done) && "
	    "%s mcopy -i \"$I\" big-%s ::/frag/big.bin",
	    tmpdir, at, strrchr(files[0].path, '/') + 1, strrchr(files[5].path, '/') + 1, NR_SMALL,
	    fsinfo, v->name);
}

static int setup(void **state)
{
	char dir[600];

	(void)state;
	if (!mkdtemp(tmpdir))
		return -1;
	if (system("(command -v sgdisk && command -v mkfs.vfat && command -v mcopy) >/dev/null")) {
		fprintf(stderr, "sgdisk, mkfs.vfat or mcopy missing: run tools/install-deps.sh\n");
		return -1;
	}
	snprintf(dir, sizeof(dir), "mkdir -p %s/src/many %s/src/small", tmpdir, tmpdir);
	if (system(dir))
		return -1;
	for (u32 i = 0; i < ARRAY_SIZE(files); i++)
		write_src(files[i].src, files[i].size, files[i].seed);
	for (u32 i = 0; i < NR_MANY; i++) {
		snprintf(dir, sizeof(dir), "many/File-%03u.dat", i);
		write_src(dir, 100 + i, 1000 + i);
	}
	for (u32 v = 0; v < ARRAY_SIZE(vols); v++) {
		for (u32 i = 1; i <= NR_SMALL; i++) {
			snprintf(dir, sizeof(dir), "small/s%03u", i);
			write_src(dir, vols[v].small_size, 2000 + i);
		}
		snprintf(dir, sizeof(dir), "big-%s", vols[v].name);
		write_src(dir, vols[v].big_size, 3000 + v);
		build_volume(&vols[v]);
	}
	return 0;
}

static int teardown(void **state)
{
	char cmd[300];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	return system(cmd);
}

/* A loaded volume: the image in memory, found through the GPT when there is one. */
struct tvol {
	const struct vol *v;
	struct memdisk m;
	struct fw_disk d;
	u64 first_lba, sectors;
	struct fat_fs fs;
};

static void load(struct tvol *t, u32 index)
{
	char path[512];
	FILE *f;
	long n;

	memset(t, 0, sizeof(*t));
	t->v = &vols[index];
	snprintf(path, sizeof(path), "%s/%s.img", tmpdir, t->v->name);
	f = fopen(path, "rb");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	t->m.data = malloc(n);
	assert_int_equal(fread(t->m.data, 1, n, f), n);
	fclose(f);
	t->m.sectors = n / SECTOR;
	t->m.fail_lba = ~0ULL;
	t->d = (struct fw_disk){ .read = memdisk_read, .ctx = &t->m, .sectors = t->m.sectors };
	if (t->v->gpt) {
		struct gpt_part p;

		assert_int_equal(gpt_find_boot(&t->d, &p, NULL), 0);
		t->first_lba = p.first_lba;
		t->sectors = p.last_lba - p.first_lba + 1;
	} else {
		t->sectors = t->m.sectors;
	}
}

static int mount(struct tvol *t, const char **why)
{
	return fat_mount(&t->fs, &t->d, t->first_lba, t->sectors, why);
}

static void remount(struct tvol *t)
{
	assert_int_equal(mount(t, NULL), 0);
}

static void unload(struct tvol *t)
{
	free(t->m.data);
}

static u8 *expected(size_t n, u32 seed)
{
	u8 *p = malloc(n + 1);

	fill(p, n, seed);
	return p;
}

/* Opens path and compares the whole file with its source. */
static void check_file(struct tvol *t, const char *path, size_t size, u32 seed)
{
	struct fat_file f;
	u8 *want = expected(size, seed), *got = malloc(size + 100);
	int rc = fat_open(&t->fs, path, &f);

	if (rc)
		fail_msg("%s: open %s: %d", t->v->name, path, rc);
	assert_false(f.is_dir);
	assert_int_equal(f.size, size);
	assert_int_equal(fat_read(&t->fs, &f, 0, got, size + 100), size);
	assert_memory_equal(got, want, size);
	assert_int_equal(fat_read(&t->fs, &f, size, got, 10), 0);
	assert_int_equal(fat_read(&t->fs, &f, size + 12345, got, 10), 0);
	free(want);
	free(got);
}

static void test_mount_and_files(void **state)
{
	(void)state;
	for (u32 i = 0; i < ARRAY_SIZE(vols); i++) {
		struct tvol t;
		const char *why = NULL;

		load(&t, i);
		if (mount(&t, &why))
			fail_msg("%s: mount: %s", vols[i].name, why);
		assert_int_equal(t.fs.type, vols[i].bits);
		for (u32 k = 0; k < ARRAY_SIZE(files); k++)
			check_file(&t, files[k].path, files[k].size, files[k].seed);
		for (u32 k = 0; k < NR_MANY; k += 37) {
			char p[64];

			snprintf(p, sizeof(p), "/many/file-%03u.dat", k);
			check_file(&t, p, 100 + k, 1000 + k);
		}
		for (u32 k = 2; k <= NR_SMALL; k += 2) {
			char p[64];

			snprintf(p, sizeof(p), "frag/S%03u", k); /* no leading '/', other case */
			check_file(&t, p, vols[i].small_size, 2000 + k);
		}
		check_file(&t, "//DEEP/./A//b/C/LEAF.BIN", 70000, 5);
		check_file(&t, "/frag/big.bin", vols[i].big_size, 3000 + i);
		unload(&t);
	}
}

/* Number of contiguous runs of path's chain, as mshowfat reports it. */
static u32 mshowfat_runs(const struct vol *v, const char *path)
{
	char cmd[700];
	FILE *p;
	u32 runs = 0;
	int c;

	snprintf(cmd, sizeof(cmd), "MTOOLS_SKIP_CHECK=1 mshowfat -i %s/%s.img@@%u ::%s", tmpdir,
		 v->name, v->gpt ? 1024 * 1024 : 0, path);
	p = popen(cmd, "r");
	assert_non_null(p);
	while ((c = fgetc(p)) != EOF)
		runs += c == '<';
	pclose(p);
	return runs;
}

/*
 * The fragmented file: one read per run straight into the buffer, then
 * reads at odd offsets and lengths, each compared with the source.
 */
static void test_fragmented_reads(void **state)
{
	(void)state;
	for (u32 i = 0; i < ARRAY_SIZE(vols); i++) {
		const struct vol *v = &vols[i];
		u32 runs = mshowfat_runs(v, "/frag/big.bin"), seed = 12345;
		u8 *want = expected(v->big_size, 3000 + i), *got = malloc(v->big_size);
		struct fat_file f;
		struct tvol t;

		load(&t, i);
		assert_int_equal(mount(&t, NULL), 0);
		assert_true(runs > NR_SMALL / 4); /* the holes were used */
		assert_int_equal(fat_open(&t.fs, "/frag/big.bin", &f), 0);
		t.m.reads = t.m.user_reads = 0;
		t.m.user_lo = got;
		t.m.user_hi = got + v->big_size;
		assert_int_equal(fat_read(&t.fs, &f, 0, got, v->big_size), v->big_size);
		assert_memory_equal(got, want, v->big_size);
		/* Each run is one read into the buffer; the tail sector and the FAT go elsewhere. */
		assert_in_range(t.m.user_reads, runs - 1, runs);
		assert_in_range(t.m.reads, runs, runs + 2 + t.fs.fat_sectors / FAT_CACHE_SECTORS);

		for (u32 k = 0; k < 300; k++) {
			u64 off, len;

			seed = seed * 1103515245 + 12345;
			off = (seed >> 4) % v->big_size;
			seed = seed * 1103515245 + 12345;
			len = k % 3 ? (seed >> 4) % 70000 : (seed >> 4) % 700;
			memset(got, 0, v->big_size);
			assert_int_equal(fat_read(&t.fs, &f, off, got, len),
					 MIN(len, v->big_size - off));
			assert_memory_equal(got, want + off, MIN(len, v->big_size - off));
		}
		/* Backwards, so the chain cursor is of no use. */
		for (u64 off = v->big_size; off > 4096; off -= v->big_size / 7) {
			assert_int_equal(fat_read(&t.fs, &f, off - 4096, got, 4096), 4096);
			assert_memory_equal(got, want + off - 4096, 4096);
		}
		free(want);
		free(got);
		unload(&t);
	}
}

static bool listed(char names[][FAT_NAME_MAX], u32 n, const char *name)
{
	for (u32 i = 0; i < n; i++)
		if (!strcmp(names[i], name))
			return true;
	return false;
}

/* Lists dir into names (at most cap), returns the count. */
static u32 list(struct tvol *t, const char *path, char names[][FAT_NAME_MAX], u32 cap)
{
	struct fat_file dir, f;
	u64 cookie = 0;
	u32 n = 0;
	int rc;

	assert_int_equal(fat_open(&t->fs, path, &dir), 0);
	assert_true(dir.is_dir);
	while ((rc = fat_readdir(&t->fs, &dir, &cookie, names[n], FAT_NAME_MAX, &f)) == 1) {
		assert_string_not_equal(names[n], ".");
		assert_string_not_equal(names[n], "..");
		assert_true(++n < cap);
	}
	assert_int_equal(rc, 0);
	assert_int_equal(fat_readdir(&t->fs, &dir, &cookie, names[n], FAT_NAME_MAX, &f), 0);
	return n;
}

static void test_readdir(void **state)
{
	static char names[NR_MANY + 10][FAT_NAME_MAX];

	(void)state;
	for (u32 i = 0; i < ARRAY_SIZE(vols); i++) {
		struct tvol t;
		u32 n;

		load(&t, i);
		assert_int_equal(mount(&t, NULL), 0);
		n = list(&t, "/", names, ARRAY_SIZE(names));
		assert_int_equal(n, 8); /* the label FWTEST is not listed */
		assert_true(listed(names, n, "loader"));
		assert_true(listed(names, n, "EFI"));
		assert_true(listed(names, n, "README.TXT"));
		assert_true(listed(names, n, "Mixed Case Name With Spaces.txt"));
		assert_true(listed(names, n, "empty.txt"));

		n = list(&t, "/many", names, ARRAY_SIZE(names));
		assert_int_equal(n, NR_MANY);
		for (u32 k = 0; k < NR_MANY; k++) {
			char want[32];

			snprintf(want, sizeof(want), "File-%03u.dat", k);
			if (!listed(names, n, want))
				fail_msg("%s: %s not listed", vols[i].name, want);
		}
		n = list(&t, "/frag", names, ARRAY_SIZE(names));
		assert_int_equal(n, NR_SMALL / 2 + 1);
		n = list(&t, "/deep/a/b", names, ARRAY_SIZE(names));
		assert_int_equal(n, 1);
		assert_string_equal(names[0], "c");
		n = list(&t, "/EFI/Linux", names, ARRAY_SIZE(names));
		assert_int_equal(n, 1);
		assert_string_equal(names[0], strrchr(files[5].path, '/') + 1);
		unload(&t);
	}
}

static void test_lookup_errors(void **state)
{
	struct tvol t;
	struct fat_file f, dir;
	char name[FAT_NAME_MAX], longc[400];
	u64 cookie = 0;
	u8 buf[16];

	(void)state;
	load(&t, 1);
	assert_int_equal(mount(&t, NULL), 0);
	assert_int_equal(fat_open(&t.fs, "/nope", &f), -FW_ENOENT);
	assert_int_equal(fat_open(&t.fs, "/README.TXT/x", &f), -FW_ENOENT);
	assert_int_equal(fat_open(&t.fs, "/deep/..", &f), -FW_ENOENT);
	assert_int_equal(fat_open(&t.fs, "/loader/entries/6a9857a393724b7a981ebb5b8495b9ea", &f),
			 -FW_ENOENT);
	memset(longc, 'a', sizeof(longc) - 1);
	longc[sizeof(longc) - 1] = '\0';
	assert_int_equal(fat_open(&t.fs, longc, &f), -FW_EINVAL);
	/* The root, and a name given in 8.3 form. */
	assert_int_equal(fat_open(&t.fs, "", &dir), 0);
	assert_true(dir.is_dir);
	assert_int_equal(fat_open(&t.fs, "///", &dir), 0);
	assert_true(dir.is_dir);
	assert_int_equal(fat_open(&t.fs, "/mixedc~1.txt", &f), 0);
	assert_int_equal(f.size, 513);
	/* Directories are not read as files, files not listed as directories. */
	assert_int_equal(fat_read(&t.fs, &dir, 0, buf, sizeof(buf)), -FW_EINVAL);
	assert_int_equal(fat_readdir(&t.fs, &f, &cookie, name, sizeof(name), &f), -FW_EINVAL);
	/* A name too long for the buffer: -FW_ERANGE, and the listing goes on. */
	assert_int_equal(fat_open(&t.fs, "/", &dir), 0);
	u32 ok = 0, range = 0;
	int rc;
	while ((rc = fat_readdir(&t.fs, &dir, &cookie, name, 8, &f)) != 0) {
		assert_true(rc == 1 || rc == -FW_ERANGE);
		ok += rc == 1;
		range += rc == -FW_ERANGE;
	}
	assert_int_equal(ok + range, 8);
	assert_int_equal(range, 3); /* README.TXT, Mixed Case..., empty.txt */
	unload(&t);
}

/* Where the directory entry with the 11-byte short name sits in the image. */
static u8 *find_dirent(struct tvol *t, const char *short11)
{
	for (u64 o = t->first_lba * SECTOR; o + 32 <= t->m.sectors * SECTOR; o += 32)
		if (!memcmp(t->m.data + o, short11, 11) && !(t->m.data[o + 11] & 0x08))
			return t->m.data + o;
	fail_msg("no directory entry %s", short11);
	return NULL;
}

static u8 *fat_at(struct tvol *t, u32 c)
{
	u64 off = t->fs.type == 12 ? c + c / 2 : (u64)c * t->fs.type / 8;

	return t->m.data + t->fs.fat_lba * SECTOR + off;
}

static u32 fat_get(struct tvol *t, u32 c)
{
	u8 *p = fat_at(t, c);
	u32 v = p[0] | p[1] << 8;

	if (t->fs.type == 12)
		return c & 1 ? v >> 4 : v & 0xfff;
	if (t->fs.type == 16)
		return v;
	return (v | (u32)p[2] << 16 | (u32)p[3] << 24) & 0x0fffffff;
}

static void fat_set(struct tvol *t, u32 c, u32 v)
{
	u8 *p = fat_at(t, c);

	if (t->fs.type == 12) {
		u16 old = p[0] | p[1] << 8;

		old = c & 1 ? (u16)((old & 0x000f) | v << 4) : (u16)((old & 0xf000) | (v & 0xfff));
		p[0] = (u8)old;
		p[1] = (u8)(old >> 8);
	} else {
		for (u32 i = 0; i < (u32)t->fs.type / 8; i++)
			p[i] = (u8)(v >> (8 * i));
	}
}

/* The k-th cluster of path's chain (k from 0). */
static u32 chain_at(struct tvol *t, const char *path, u32 k)
{
	struct fat_file f;
	u32 c;

	assert_int_equal(fat_open(&t->fs, path, &f), 0);
	c = f.first_cluster;
	while (k--)
		c = fat_get(t, c);
	return c;
}

/* Reads the whole of path; the result of fat_read(). */
static long read_all(struct tvol *t, const char *path)
{
	struct fat_file f;
	long rc;
	u8 *buf;

	assert_int_equal(fat_open(&t->fs, path, &f), 0);
	buf = malloc(f.size + 1);
	rc = fat_read(&t->fs, &f, 0, buf, f.size);
	free(buf);
	return rc;
}

/* Lists path to the end; the last fat_readdir() result. */
static int list_all(struct tvol *t, const char *path)
{
	struct fat_file dir, f;
	char name[FAT_NAME_MAX];
	u64 cookie = 0;
	int rc, n = 0;

	assert_int_equal(fat_open(&t->fs, path, &dir), 0);
	while ((rc = fat_readdir(&t->fs, &dir, &cookie, name, sizeof(name), &f)) == 1)
		assert_true(++n < 100000);
	return rc;
}

static void test_corrupt_chains(void **state)
{
	(void)state;
	for (u32 i = 0; i < ARRAY_SIZE(vols); i++) {
		const char *big = "/frag/big.bin";
		u32 eoc = vols[i].bits == 12 ? 0xfff : vols[i].bits == 16 ? 0xffff : 0x0fffffff;
		u32 c5, c9, d0, d1;
		struct tvol t;
		u8 *e;

		load(&t, i);
		assert_int_equal(mount(&t, NULL), 0);
		c5 = chain_at(&t, big, 5);
		c9 = chain_at(&t, big, 9);

		fat_set(&t, c9, c5); /* a loop of 4 clusters in the middle */
		assert_int_equal(mount(&t, NULL), 0);
		assert_int_equal(read_all(&t, big), -FW_EIO);
		fat_set(&t, c9, c9); /* onto itself */
		assert_int_equal(mount(&t, NULL), 0);
		assert_int_equal(read_all(&t, big), -FW_EIO);
		fat_set(&t, c9, t.fs.nr_clusters + 2); /* just past the last cluster */
		assert_int_equal(mount(&t, NULL), 0);
		assert_int_equal(read_all(&t, big), -FW_EIO);
		fat_set(&t, c9, 1);
		remount(&t);
		assert_int_equal(read_all(&t, big), -FW_EIO);
		fat_set(&t, c9, 0); /* free */
		assert_int_equal(mount(&t, NULL), 0);
		assert_int_equal(read_all(&t, big), -FW_EIO);
		fat_set(&t, c9, eoc - 8); /* bad cluster mark */
		assert_int_equal(mount(&t, NULL), 0);
		assert_int_equal(read_all(&t, big), -FW_EIO);
		fat_set(&t, c9, eoc); /* end of chain long before the size */
		assert_int_equal(mount(&t, NULL), 0);
		assert_int_equal(read_all(&t, big), -FW_EIO);
		{
			/* What lies before the damage still reads. */
			struct fat_file f;
			u8 buf[600];

			assert_int_equal(fat_open(&t.fs, big, &f), 0);
			assert_int_equal(fat_read(&t.fs, &f, 3, buf, sizeof(buf)), sizeof(buf));
		}

		/* A size beyond the chain, and beyond the volume. */
		e = find_dirent(&t, "README  TXT");
		e[28] = 0x00;
		e[29] = 0x00;
		e[30] = 0x01; /* 64 KiB, the chain holds 1000 bytes */
		assert_int_equal(mount(&t, NULL), 0);
		assert_int_equal(read_all(&t, "/README.TXT"), -FW_EIO);
		e[31] = 0xff;
		assert_int_equal(mount(&t, NULL), 0);
		assert_int_equal(read_all(&t, "/README.TXT"), -FW_EIO);
		/* First cluster 0 or past the volume with a non-zero size. */
		e[28] = 0xe8;
		e[29] = 0x03;
		e[30] = e[31] = 0;
		e[26] = e[27] = 0;
		e[20] = e[21] = 0;
		remount(&t);
		assert_int_equal(read_all(&t, "/README.TXT"), -FW_EIO);
		e[26] = e[27] = 0xff;
		e[20] = e[21] = 0xff;
		remount(&t);
		assert_int_equal(read_all(&t, "/README.TXT"), -FW_EIO);

		/* A directory whose chain loops, and one whose chain leaves the volume. */
		d0 = chain_at(&t, "/many", 0);
		d1 = fat_get(&t, d0);
		assert_true(d1 >= 2 && d1 < eoc - 8); /* /many spans several clusters */
		fat_set(&t, d1, d0);
		assert_int_equal(mount(&t, NULL), 0);
		assert_int_equal(list_all(&t, "/many"), -FW_EIO);
		fat_set(&t, d0, d0);
		assert_int_equal(mount(&t, NULL), 0);
		assert_int_equal(list_all(&t, "/many"), -FW_EIO);
		fat_set(&t, d0, t.fs.nr_clusters + 9);
		assert_int_equal(mount(&t, NULL), 0);
		assert_int_equal(list_all(&t, "/many"), -FW_EIO);
		assert_int_equal(fat_open(&t.fs, "/many/file-199.dat", &(struct fat_file){ 0 }),
				 -FW_EIO);
		unload(&t);
	}
}

/* Short names: NT lower-case flags, and a long name whose checksum does not match. */
static void test_short_names(void **state)
{
	static char names[16][FAT_NAME_MAX];
	struct tvol t;
	u8 *e;

	(void)state;
	load(&t, 3);
	e = find_dirent(&t, "README  TXT");
	e[12] = 0x08 | 0x10;
	assert_int_equal(mount(&t, NULL), 0);
	assert_true(listed(names, list(&t, "/", names, 16), "readme.txt"));
	e[12] = 0x10;
	remount(&t);
	assert_true(listed(names, list(&t, "/", names, 16), "README.txt"));
	/* The LFN entry just before "MIXEDC~1TXT" carries the checksum at byte 13. */
	e = find_dirent(&t, "MIXEDC~1TXT");
	assert_int_equal(e[-32 + 11], 0x0f);
	e[-32 + 13] ^= 0x55;
	assert_int_equal(mount(&t, NULL), 0);
	assert_true(listed(names, list(&t, "/", names, 16), "MIXEDC~1.TXT"));
	assert_int_equal(
	    fat_open(&t.fs, "/Mixed Case Name With Spaces.txt", &(struct fat_file){ 0 }),
	    -FW_ENOENT);
	/* A deleted file is gone; a 0x05 first byte stands for 0xE5. */
	e = find_dirent(&t, "README  TXT");
	e[0] = 0xe5;
	remount(&t);
	assert_false(listed(names, list(&t, "/", names, 16), "README.txt"));
	e[0] = 0x05;
	remount(&t);
	assert_true(listed(names, list(&t, "/", names, 16), "?EADME.txt"));
	unload(&t);
}

struct bpb_mutation {
	const char *name;
	u32 off, size;
	u32 value;
	const char *why;
	u32 off2, size2, value2; /* a second field, when size2 is not 0 */
};

#define BPB(name, off, size, value, why)             \
	{                                            \
		name, off, size, value, why, 0, 0, 0 \
	}
#define BPB2(name, off, size, value, why, o2, s2, v2)   \
	{                                               \
		name, off, size, value, why, o2, s2, v2 \
	}

/* Defects of the boot sector (fatgen103 section 3), each alone on a FAT16 volume. */
static const struct bpb_mutation bpb16[] = {
	BPB("signature", 510, 2, 0x0000, "no 0x55AA boot sector signature"),
	BPB("jump", 0, 1, 0x00, "no jump instruction in the boot sector"),
	BPB("bps 0", 11, 2, 0, "bad bytes per sector"),
	BPB("bps 256", 11, 2, 256, "bad bytes per sector"),
	BPB("bps 1000", 11, 2, 1000, "bad bytes per sector"),
	BPB("bps 8192", 11, 2, 8192, "bad bytes per sector"),
	BPB("spc 0", 13, 1, 0, "bad sectors per cluster"),
	BPB("spc 3", 13, 1, 3, "bad sectors per cluster"),
	BPB("reserved 0", 14, 2, 0, "no reserved sectors"),
	BPB("no FAT", 16, 1, 0, "no FAT"),
	BPB("media", 21, 1, 0x12, "bad media descriptor"),
	BPB("total 0", 32, 4, 0, "total sectors zero or beyond the partition"),
	BPB("total32 beyond", 32, 4, 0x7fffffff, "total sectors zero or beyond the partition"),
	BPB2("fat size 0", 22, 2, 0, "FAT size is zero", 36, 4, 0),
	BPB("fat size 0, FAT32 field garbage", 22, 2, 0, "no data region"),
	BPB("fat size huge", 22, 2, 0xffff, "no data region"),
	BPB("root entries 0", 17, 2, 0,
	    "FAT12/16 volume without root directory entries or FAT size"),
	BPB("fat too small", 22, 2, 4, "FAT too small for the cluster count"),
	BPB("fat size 1", 22, 2, 1, "FAT too small for the cluster count"),
};

static void put(u8 *p, u32 size, u32 v)
{
	for (u32 i = 0; i < size; i++)
		p[i] = (u8)(v >> (8 * i));
}

static void check_bpb(struct tvol *t, const struct bpb_mutation *mu, u32 n)
{
	u8 *bs = t->m.data + t->first_lba * SECTOR, saved[SECTOR];

	memcpy(saved, bs, SECTOR);
	for (u32 i = 0; i < n; i++) {
		const char *why = NULL;
		int rc;

		put(bs + mu[i].off, mu[i].size, mu[i].value);
		put(bs + mu[i].off2, mu[i].size2, mu[i].value2);
		rc = mount(t, &why);
		if (rc != -FW_EINVAL || !why || strcmp(why, mu[i].why))
			fail_msg("%s %s: expected \"%s\", got %d \"%s\"", t->v->name, mu[i].name,
				 mu[i].why, rc, why ? why : "(none)");
		memcpy(bs, saved, SECTOR);
	}
	assert_int_equal(mount(t, NULL), 0);
}

/* FAT32-only fields. */
static const struct bpb_mutation bpb32[] = {
	BPB("root entries", 17, 2, 16, "FAT32 volume with a FAT12/16 root directory or FAT size"),
	BPB("fat size 16", 22, 2, 100, "FAT32 volume with a FAT12/16 root directory or FAT size"),
	BPB("version", 42, 2, 1, "unsupported FAT32 version"),
	BPB("root cluster 0", 44, 4, 0, "FAT32 root cluster outside the volume"),
	BPB("root cluster 1", 44, 4, 1, "FAT32 root cluster outside the volume"),
	BPB("root cluster huge", 44, 4, 0x0fffffff, "FAT32 root cluster outside the volume"),
	BPB("fat32 size 0", 36, 4, 0, "FAT size is zero"),
	BPB("tiny volume", 32, 4, 40, "no data region"),
	BPB("fat32 size small", 36, 4, 100, "FAT too small for the cluster count"),
	BPB("fat32 size huge", 36, 4, 0xffffffff, "no data region"),
	BPB("active FAT 3", 40, 2, 0x83, "active FAT does not exist"),
	BPB("total32 beyond", 32, 4, 0xfffffff0, "total sectors zero or beyond the partition"),
};

static void test_bpb_checks(void **state)
{
	struct tvol t;
	const char *why = NULL;

	(void)state;
	load(&t, 1);
	check_bpb(&t, bpb16, ARRAY_SIZE(bpb16));
	/* The partition itself: outside the disk, or a read error. */
	assert_int_equal(fat_mount(&t.fs, &t.d, t.m.sectors, 1, &why), -FW_EINVAL);
	assert_string_equal(why, "partition outside the disk");
	assert_int_equal(fat_mount(&t.fs, &t.d, 2048, t.m.sectors, &why), -FW_EINVAL);
	assert_int_equal(fat_mount(&t.fs, &t.d, 2048, 0, &why), -FW_EINVAL);
	assert_int_equal(fat_mount(&t.fs, &t.d, ~0ULL, 2, &why), -FW_EINVAL);
	assert_int_equal(fat_mount(&t.fs, &t.d, 2048, 100, &why), -FW_EINVAL);
	assert_string_equal(why, "total sectors zero or beyond the partition");
	t.m.fail_lba = 2048;
	assert_int_equal(fat_mount(&t.fs, &t.d, 2048, t.sectors, &why), -FW_EIO);
	t.m.fail_lba = ~0ULL;
	/* A read error later: in the FAT, in a directory, in file data. */
	assert_int_equal(mount(&t, NULL), 0);
	t.m.fail_lba = t.fs.fat_lba + 1;
	assert_int_equal(read_all(&t, "/deep/a/b/c/leaf.bin"), -FW_EIO);
	remount(&t);
	t.m.fail_lba = t.fs.root_lba;
	assert_int_equal(fat_open(&t.fs, "/README.TXT", &(struct fat_file){ 0 }), -FW_EIO);
	t.m.fail_lba = ~0ULL;
	assert_int_equal(mount(&t, NULL), 0);
	t.m.fail_lba = t.fs.data_lba + (u64)(chain_at(&t, "/README.TXT", 0) - 2) * t.fs.spc;
	assert_int_equal(read_all(&t, "/README.TXT"), -FW_EIO);
	unload(&t);

	load(&t, 3);
	check_bpb(&t, bpb32, ARRAY_SIZE(bpb32));
	unload(&t);
}

/* FAT32 with FAT mirroring off reads the FAT that ext_flags names. */
static void test_active_fat(void **state)
{
	struct tvol t;
	u8 *bs;
	u64 fat_bytes;

	(void)state;
	load(&t, 3);
	assert_int_equal(mount(&t, NULL), 0);
	fat_bytes = t.fs.fat_sectors * SECTOR;
	bs = t.m.data + t.first_lba * SECTOR;
	/* Wreck FAT 0, point ext_flags at FAT 1. */
	memset(t.m.data + t.fs.fat_lba * SECTOR + 8, 0x77, fat_bytes - 8);
	remount(&t);
	{
		struct fat_file f;
		static u8 big[8 * 1024 * 1024];
		long rc = fat_open(&t.fs, "/frag/big.bin", &f);

		if (!rc)
			rc = fat_read(&t.fs, &f, 0, big, f.size);
		assert_int_equal(rc, -FW_EIO);
	}
	put(bs + 40, 2, 0x81);
	assert_int_equal(mount(&t, NULL), 0);
	assert_int_equal(read_all(&t, "/frag/big.bin"), vols[3].big_size);
	unload(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mount_and_files), cmocka_unit_test(test_fragmented_reads),
		cmocka_unit_test(test_readdir),		cmocka_unit_test(test_lookup_errors),
		cmocka_unit_test(test_corrupt_chains),	cmocka_unit_test(test_short_names),
		cmocka_unit_test(test_bpb_checks),	cmocka_unit_test(test_active_fat),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
