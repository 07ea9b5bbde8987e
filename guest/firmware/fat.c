/*
 * Read-only FAT12/16/32 with VFAT long names, after the Microsoft FAT
 * specification (fatgen103): BPB at offset 0 of the volume, FAT type from
 * the count of data clusters, 32-byte directory entries, LFN entries with
 * attribute 0x0F preceding their short entry in reverse order.
 *
 * Every value read from the disk is checked before it is used as a cluster
 * number or an LBA; a cluster chain is never followed further than the
 * volume has clusters, and Brent's cycle check catches shorter loops.
 */
#include "fat.h"

/* BPB fields (fatgen103 section 3); the FAT32 extension follows at 36. */
struct fat_bpb {
	u8 jmp[3];
	char oem[8];
	u16 bytes_per_sector;
	u8 sectors_per_cluster;
	u16 reserved_sectors;
	u8 nr_fats;
	u16 root_entries;
	u16 total16;
	u8 media;
	u16 fat_size16;
	u16 sectors_per_track;
	u16 heads;
	u32 hidden;
	u32 total32;
	u32 fat_size32;
	u16 ext_flags;
	u16 fs_version;
	u32 root_cluster;
} __packed;
_Static_assert(sizeof(struct fat_bpb) == 48, "BPB layout");

struct fat_dirent {
	u8 name[11];
	u8 attr;
	u8 ntres;
	u8 ctime_tenth;
	u16 ctime, cdate, adate;
	u16 cluster_hi;
	u16 mtime, mdate;
	u16 cluster_lo;
	u32 size;
} __packed;
_Static_assert(sizeof(struct fat_dirent) == 32, "directory entry layout");

#define FAT_DIRENT_SIZE 32

#define FAT_ATTR_VOLUME_ID 0x08
#define FAT_ATTR_DIRECTORY 0x10
#define FAT_ATTR_LFN	   0x0f /* READ_ONLY | HIDDEN | SYSTEM | VOLUME_ID */
#define FAT_ATTR_MASK	   0x3f

#define FAT_NTRES_LOWER_BASE 0x08 /* Windows NT: 8.3 base name is lower case */
#define FAT_NTRES_LOWER_EXT  0x10 /* Windows NT: 8.3 extension is lower case */

#define FAT_ENTRY_END	  0x00 /* this and every later entry are free */
#define FAT_ENTRY_DELETED 0xe5
#define FAT_ENTRY_KANJI	  0x05 /* stands for a first byte of 0xE5 */

#define FAT_LFN_LAST	 0x40
#define FAT_LFN_SEQ_MASK 0x1f
#define FAT_LFN_CHARS	 13
#define FAT_LFN_MAX_SEQ	 20 /* 20 * 13 = 260 >= 255 */

/* fatgen103 section 3.5: the type is decided by the cluster count alone. */
#define FAT12_MAX_CLUSTERS 4084
#define FAT16_MAX_CLUSTERS 65524
#define FAT32_MAX_CLUSTERS 0x0ffffff5 /* cluster numbers stay below the bad mark 0x0FFFFFF7 */

#define FAT_NO_LBA ((u64)-1)

static void fat_walk_init(struct fat_walk *w, u32 start)
{
	w->saved = start;
	w->power = 1;
	w->lam = 0;
}

/* Returns true if the chain has come back to a cluster it visited. */
static bool fat_walk_loops(struct fat_walk *w, u32 c)
{
	if (c == w->saved)
		return true;
	if (++w->lam == w->power) {
		w->saved = c;
		w->power *= 2;
		w->lam = 0;
	}
	return false;
}

static int disk_read(struct fat_fs *fs, u64 lba, u32 count, void *buf)
{
	return fs->disk.read(fs->disk.ctx, lba, count, buf) ? -FW_EIO : 0;
}

static u64 cluster_lba(const struct fat_fs *fs, u32 c)
{
	return fs->data_lba + (u64)(c - 2) * fs->spc;
}

static bool cluster_valid(const struct fat_fs *fs, u32 c)
{
	return c >= 2 && c - 2 < fs->nr_clusters;
}

/* The byte at offset off of the FAT in use, through the FAT cache. */
static int fat_byte(struct fat_fs *fs, u64 off, u8 *b)
{
	u64 sec = off / DISK_SECTOR_SIZE;
	u64 start = ALIGN_DOWN(sec, FAT_CACHE_SECTORS);

	if (fs->fat_cache_lba != fs->fat_lba + start) {
		u32 n = (u32)MIN((u64)FAT_CACHE_SECTORS, fs->fat_sectors - start);

		fs->fat_cache_lba = FAT_NO_LBA;
		if (disk_read(fs, fs->fat_lba + start, n, fs->fat_cache))
			return -FW_EIO;
		fs->fat_cache_lba = fs->fat_lba + start;
	}
	*b = fs->fat_cache[(sec - start) * DISK_SECTOR_SIZE + off % DISK_SECTOR_SIZE];
	return 0;
}

/* The FAT entry of cluster c (which is valid, so the entry lies inside the FAT). */
static int fat_entry(struct fat_fs *fs, u32 c, u32 *v)
{
	u32 width = fs->type == 12 ? 2 : fs->type / 8;
	u64 off = fs->type == 12 ? c + c / 2 : (u64)c * width;
	u8 b[4] = { 0 };

	for (u32 i = 0; i < width; i++)
		if (fat_byte(fs, off + i, &b[i]))
			return -FW_EIO;
	*v = b[0] | b[1] << 8 | (u32)b[2] << 16 | (u32)b[3] << 24;
	if (fs->type == 12)
		*v = c & 1 ? *v >> 4 : *v & 0xfff;
	else if (fs->type == 32)
		*v &= 0x0fffffff;
	return 0;
}

/*
 * The cluster after c: 0 with *next set, 1 at the end-of-chain mark, or
 * -FW_EIO for a read error, a free/bad/out-of-range entry or a loop.
 */
static int fat_chain_next(struct fat_fs *fs, u32 c, u32 *next, struct fat_walk *w)
{
	u32 eoc = fs->type == 12 ? 0xff8 : fs->type == 16 ? 0xfff8 : 0x0ffffff8;
	u32 v;

	if (fat_entry(fs, c, &v))
		return -FW_EIO;
	if (v >= eoc)
		return 1;
	if (!cluster_valid(fs, v) || fat_walk_loops(w, v))
		return -FW_EIO;
	*next = v;
	return 0;
}

/* Moves the cursor to cluster c at index idx of the chain from first, with walk state w. */
static void fat_cursor_set(struct fat_fs *fs, u32 first, u64 idx, u32 c, const struct fat_walk *w)
{
	fs->cursor_first = first;
	fs->cursor_index = idx;
	fs->cursor_cluster = c;
	fs->cursor_walk = *w;
}

/*
 * The cluster at index idx of the chain starting at first: 0 with *c set,
 * 1 if the chain ends before idx, -FW_EIO if it is corrupt. Starts from the
 * cursor when it is on the same chain at or before idx (the loop check
 * carries on from there, so a directory read entry by entry still sees a
 * loop), and leaves it at idx.
 */
static int fat_seek(struct fat_fs *fs, u32 first, u64 idx, u32 *c)
{
	struct fat_walk w;
	u64 i = 0;
	u32 cur = first;
	int rc;

	if (!cluster_valid(fs, first) || idx >= fs->nr_clusters)
		return -FW_EIO;
	if (fs->cursor_first == first && fs->cursor_index <= idx) {
		cur = fs->cursor_cluster;
		i = fs->cursor_index;
		w = fs->cursor_walk;
	} else {
		fat_walk_init(&w, first);
	}
	for (; i < idx; i++) {
		rc = fat_chain_next(fs, cur, &cur, &w);
		if (rc)
			return rc;
	}
	fat_cursor_set(fs, first, idx, cur, &w);
	*c = cur;
	return 0;
}

static bool is_pow2(u32 x)
{
	return x && !(x & (x - 1));
}

/* The volume's geometry in its own sectors, from the BPB. */
struct fat_geom {
	u64 k; /* disk sectors per volume sector */
	u64 total, fat_size, meta, clusters;
	u32 active; /* the FAT in use */
};

/* fatgen103 section 3.1: the fields that stand alone. NULL if they are valid. */
static const char *fat_check_fields(const struct fat_bpb *b, const u8 *sec)
{
	if (sec[510] != 0x55 || sec[511] != 0xaa)
		return "no 0x55AA boot sector signature";
	if (b->jmp[0] != 0xeb && b->jmp[0] != 0xe9)
		return "no jump instruction in the boot sector";
	if (b->bytes_per_sector < 512 || b->bytes_per_sector > 4096 ||
	    !is_pow2(b->bytes_per_sector))
		return "bad bytes per sector";
	if (!is_pow2(b->sectors_per_cluster))
		return "bad sectors per cluster";
	if (!b->reserved_sectors)
		return "no reserved sectors";
	if (!b->nr_fats)
		return "no FAT";
	if (b->media != 0xf0 && b->media < 0xf8)
		return "bad media descriptor";
	return NULL;
}

/* fatgen103 sections 3.2-3.5: sizes, cluster count and FAT type. NULL if consistent. */
static const char *fat_check_geometry(struct fat_fs *fs, const struct fat_bpb *b, u64 sectors,
				      struct fat_geom *g)
{
	u64 root_secs = ((u64)b->root_entries * FAT_DIRENT_SIZE + b->bytes_per_sector - 1) /
			b->bytes_per_sector;

	g->k = b->bytes_per_sector / DISK_SECTOR_SIZE;
	g->total = b->total16 ? b->total16 : b->total32;
	g->fat_size = b->fat_size16 ? b->fat_size16 : b->fat_size32;
	if (!g->total || g->total * g->k > sectors)
		return "total sectors zero or beyond the partition";
	if (!g->fat_size)
		return "FAT size is zero";
	g->meta = b->reserved_sectors + b->nr_fats * g->fat_size + root_secs;
	if (g->meta >= g->total)
		return "no data region";
	g->clusters = (g->total - g->meta) / b->sectors_per_cluster;
	if (!g->clusters)
		return "no data clusters";
	fs->type = g->clusters <= FAT12_MAX_CLUSTERS   ? 12
		   : g->clusters <= FAT16_MAX_CLUSTERS ? 16
						       : 32;
	if (fs->type == 32) {
		if (b->root_entries || b->fat_size16)
			return "FAT32 volume with a FAT12/16 root directory or FAT size";
		if (b->fs_version)
			return "unsupported FAT32 version";
		if (g->clusters > FAT32_MAX_CLUSTERS)
			return "too many clusters";
		if (b->root_cluster < 2 || b->root_cluster - 2 >= g->clusters)
			return "FAT32 root cluster outside the volume";
	} else if (!b->root_entries || !b->fat_size16) {
		return "FAT12/16 volume without root directory entries or FAT size";
	}
	if (g->fat_size * b->bytes_per_sector * 8 < (g->clusters + 2) * fs->type)
		return "FAT too small for the cluster count";
	/* FAT32 with mirroring disabled (bit 7) uses only the FAT numbered in bits 0-3. */
	g->active = fs->type == 32 && (b->ext_flags & 0x80) ? b->ext_flags & 0xf : 0;
	if (g->active >= b->nr_fats)
		return "active FAT does not exist";
	return NULL;
}

/* Validates the boot sector sec and fills the layout of fs. NULL if the volume is usable. */
static const char *fat_check_bpb(struct fat_fs *fs, const u8 *sec, u64 first_lba, u64 sectors)
{
	struct fat_geom g;
	struct fat_bpb b;
	const char *why;

	memcpy(&b, sec, sizeof(b));
	why = fat_check_fields(&b, sec);
	if (!why)
		why = fat_check_geometry(fs, &b, sectors, &g);
	if (why)
		return why;
	fs->spc = b.sectors_per_cluster * (u32)g.k;
	fs->cluster_bytes = fs->spc * DISK_SECTOR_SIZE;
	fs->fat_lba = first_lba + (b.reserved_sectors + g.active * g.fat_size) * g.k;
	fs->fat_sectors = g.fat_size * g.k;
	fs->root_lba = first_lba + (b.reserved_sectors + b.nr_fats * g.fat_size) * g.k;
	fs->root_entries = fs->type == 32 ? 0 : b.root_entries;
	fs->root_cluster = fs->type == 32 ? b.root_cluster : 0;
	fs->data_lba = first_lba + g.meta * g.k;
	fs->nr_clusters = (u32)g.clusters;
	return NULL;
}

int fat_mount(struct fat_fs *fs, const struct fw_disk *d, u64 first_lba, u64 sectors,
	      const char **why)
{
	const char *dummy;

	if (!why)
		why = &dummy;
	memset(fs, 0, sizeof(*fs));
	fs->disk = *d;
	fs->fat_cache_lba = FAT_NO_LBA;
	fs->dir_cache_lba = FAT_NO_LBA;
	if (!sectors || first_lba > d->sectors || sectors > d->sectors - first_lba) {
		*why = "partition outside the disk";
		return -FW_EINVAL;
	}
	fs->part_lba = first_lba;
	fs->part_sectors = sectors;
	if (disk_read(fs, first_lba, 1, fs->bounce)) {
		*why = "disk read error in the boot sector";
		return -FW_EIO;
	}
	*why = fat_check_bpb(fs, fs->bounce, first_lba, sectors);
	return *why ? -FW_EINVAL : 0;
}

/* Copies n bytes at byte offset in of the sectors from lba on: whole sectors go straight to dst. */
static int fat_copy(struct fat_fs *fs, u64 lba, u64 in, u8 *dst, u64 n)
{
	u32 head = in % DISK_SECTOR_SIZE;

	lba += in / DISK_SECTOR_SIZE;
	if (head) {
		u32 k = (u32)MIN(n, (u64)(DISK_SECTOR_SIZE - head));

		if (disk_read(fs, lba++, 1, fs->bounce))
			return -FW_EIO;
		memcpy(dst, fs->bounce + head, k);
		dst += k;
		n -= k;
	}
	while (n >= DISK_SECTOR_SIZE) {
		u32 count = (u32)MIN(n / DISK_SECTOR_SIZE, (u64)0x80000000u);

		if (disk_read(fs, lba, count, dst))
			return -FW_EIO;
		lba += count;
		dst += (u64)count * DISK_SECTOR_SIZE;
		n -= (u64)count * DISK_SECTOR_SIZE;
	}
	if (n) {
		if (disk_read(fs, lba, 1, fs->bounce))
			return -FW_EIO;
		memcpy(dst, fs->bounce, n);
	}
	return 0;
}

/*
 * Reads len bytes at off (inside the file) of the chain from first: each
 * run of consecutive clusters becomes one fat_copy().
 */
static int fat_read_chain(struct fat_fs *fs, u32 first, u64 off, u8 *buf, u64 len)
{
	u64 cb = fs->cluster_bytes, idx = off / cb, done = 0;
	struct fat_walk w;
	u32 c, last, next = 0;
	int rc;

	rc = fat_seek(fs, first, idx, &c);
	if (rc)
		return -FW_EIO;
	w = fs->cursor_walk;
	while (done < len) {
		u64 in = (off + done) % cb, want = len - done, run = 1, n;

		for (last = c; run * cb - in < want; last = next, run++) {
			rc = fat_chain_next(fs, last, &next, &w);
			if (rc)
				return -FW_EIO; /* also a chain ending before the file size */
			if (next != last + 1)
				break;
		}
		n = MIN(want, run * cb - in);
		rc = fat_copy(fs, cluster_lba(fs, c), in, buf + done, n);
		if (rc)
			return rc;
		done += n;
		/* The cursor goes where the walk is: on the next run's start if one was fetched. */
		if (done < len)
			fat_cursor_set(fs, first, idx + run, next, &w);
		else
			fat_cursor_set(fs, first, idx + run - 1, last, &w);
		idx += run;
		c = next;
	}
	return 0;
}

long fat_read(struct fat_fs *fs, const struct fat_file *f, u64 off, void *buf, u64 len)
{
	int rc;

	if (f->is_dir)
		return -FW_EINVAL;
	if (off >= f->size || !len)
		return 0;
	len = MIN(len, f->size - off);
	if (f->size > (u64)fs->nr_clusters * fs->cluster_bytes)
		return -FW_EIO; /* larger than the volume: the chain cannot hold it */
	rc = fat_read_chain(fs, f->first_cluster, off, buf, len);
	return rc ? rc : (long)len;
}

/* Directory entry i of dir: 1 with *e pointing into the cache, 0 past the end, -FW_EIO. */
static int fat_dir_entry(struct fat_fs *fs, const struct fat_file *dir, u64 i, const u8 **e)
{
	u64 byte = i * FAT_DIRENT_SIZE, lba;
	u32 first = dir->first_cluster ? dir->first_cluster : fs->root_cluster;
	u32 c;
	int rc;

	if (!first) {
		if (i >= fs->root_entries)
			return 0;
		lba = fs->root_lba + byte / DISK_SECTOR_SIZE;
	} else {
		if (i >= FAT_DIR_MAX_ENTRIES)
			return -FW_EIO;
		rc = fat_seek(fs, first, byte / fs->cluster_bytes, &c);
		if (rc)
			return rc == 1 ? 0 : rc;
		lba = cluster_lba(fs, c) + byte % fs->cluster_bytes / DISK_SECTOR_SIZE;
	}
	if (fs->dir_cache_lba != lba) {
		fs->dir_cache_lba = FAT_NO_LBA;
		if (disk_read(fs, lba, 1, fs->dir_cache))
			return -FW_EIO;
		fs->dir_cache_lba = lba;
	}
	*e = fs->dir_cache + byte % DISK_SECTOR_SIZE;
	return 1;
}

/* A long name being assembled from its LFN entries (last part first). */
struct fat_lfn {
	u8 checksum;
	u8 parts;  /* entries in the sequence (the first one's sequence number) */
	u8 expect; /* sequence number of the next entry wanted; 0 when complete */
	bool active;
	u16 ch[FAT_LFN_MAX_SEQ * FAT_LFN_CHARS]; /* the first parts * 13 are filled */
};

/* Both names of one directory entry. */
struct fat_names {
	char lname[FAT_NAME_MAX];
	char sname[13];
	bool has_lname;
};

static const u8 lfn_char_off[FAT_LFN_CHARS] = { 1, 3, 5, 7, 9, 14, 16, 18, 20, 22, 24, 28, 30 };

static void fat_lfn_add(struct fat_lfn *l, const u8 *e)
{
	u8 seq = e[0] & FAT_LFN_SEQ_MASK;

	if (e[0] & FAT_LFN_LAST) {
		l->active = seq >= 1 && seq <= FAT_LFN_MAX_SEQ;
		l->checksum = e[13];
		l->parts = l->expect = seq;
	} else if (!l->active || seq != l->expect || e[13] != l->checksum) {
		l->active = false;
	}
	if (!l->active || seq != l->expect)
		return;
	for (u32 i = 0; i < FAT_LFN_CHARS; i++) {
		const u8 *p = e + lfn_char_off[i];

		l->ch[(seq - 1) * FAT_LFN_CHARS + i] = p[0] | p[1] << 8;
	}
	l->expect--;
}

static u8 fat_short_checksum(const u8 *name)
{
	u8 sum = 0;

	for (u32 i = 0; i < 11; i++)
		sum = (u8)(((sum & 1) << 7) + (sum >> 1) + name[i]);
	return sum;
}

static char fat_ascii(u32 c)
{
	return c >= 0x20 && c < 0x7f ? (char)c : '?';
}

/* The long name of a complete LFN sequence matching the short entry e; false if none. */
static bool fat_lfn_name(const struct fat_lfn *l, const u8 *e, char *out)
{
	u32 n = 0;

	if (!l->active || l->expect || l->checksum != fat_short_checksum(e))
		return false;
	while (n < (u32)l->parts * FAT_LFN_CHARS && l->ch[n])
		n++;
	if (!n || n >= FAT_NAME_MAX)
		return false;
	for (u32 i = 0; i < n; i++)
		out[i] = fat_ascii(l->ch[i]);
	out[n] = '\0';
	return true;
}

static char fat_lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* "NAME.EXT" from the 11-byte short name, with the NT lower-case flags. */
static void fat_short_name(const struct fat_dirent *d, char *out)
{
	u32 n = 0, base = 8, ext = 3;

	while (base && d->name[base - 1] == ' ')
		base--;
	while (ext && d->name[8 + ext - 1] == ' ')
		ext--;
	for (u32 i = 0; i < base; i++) {
		u8 c = i == 0 && d->name[0] == FAT_ENTRY_KANJI ? FAT_ENTRY_DELETED : d->name[i];

		out[n++] = d->ntres & FAT_NTRES_LOWER_BASE ? fat_lower(fat_ascii(c)) : fat_ascii(c);
	}
	if (ext)
		out[n++] = '.';
	for (u32 i = 0; i < ext; i++) {
		char c = fat_ascii(d->name[8 + i]);

		out[n++] = d->ntres & FAT_NTRES_LOWER_EXT ? fat_lower(c) : c;
	}
	out[n] = '\0';
}

/*
 * The next live entry of dir at or after *cookie: 1 with *f and names filled
 * and *cookie past it, 0 at the end of the directory, -FW_EIO.
 */
static int fat_next_entry(struct fat_fs *fs, const struct fat_file *dir, u64 *cookie,
			  struct fat_names *nm, struct fat_file *f)
{
	struct fat_lfn l;
	struct fat_dirent d;
	const u8 *e = NULL;
	int rc;

	l.active = false;
	for (;;) {
		rc = fat_dir_entry(fs, dir, *cookie, &e);
		if (rc <= 0 || e[0] == FAT_ENTRY_END)
			return rc < 0 ? rc : 0;
		(*cookie)++;
		if (e[0] == FAT_ENTRY_DELETED) {
			l.active = false;
			continue;
		}
		if ((e[11] & FAT_ATTR_MASK) == FAT_ATTR_LFN) {
			fat_lfn_add(&l, e);
			continue;
		}
		if (e[11] & FAT_ATTR_VOLUME_ID || e[0] == '.') {
			l.active = false;
			continue;
		}
		memcpy(&d, e, sizeof(d));
		nm->has_lname = fat_lfn_name(&l, e, nm->lname);
		fat_short_name(&d, nm->sname);
		f->first_cluster = d.cluster_lo | (fs->type == 32 ? (u32)d.cluster_hi << 16 : 0);
		f->is_dir = d.attr & FAT_ATTR_DIRECTORY;
		f->size = f->is_dir ? 0 : d.size;
		return 1;
	}
}

int fat_readdir(struct fat_fs *fs, const struct fat_file *dir, u64 *cookie, char *name,
		size_t name_cap, struct fat_file *f)
{
	struct fat_names nm;
	const char *s;
	size_t n;
	int rc;

	if (!dir->is_dir)
		return -FW_EINVAL;
	rc = fat_next_entry(fs, dir, cookie, &nm, f);
	if (rc <= 0)
		return rc;
	s = nm.has_lname ? nm.lname : nm.sname;
	n = strlen(s);
	if (n >= name_cap)
		return -FW_ERANGE;
	memcpy(name, s, n + 1);
	return 1;
}

/* Case-insensitive (ASCII) match of a NUL-terminated name and a counted path component. */
static bool fat_name_eq(const char *name, const char *comp, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!name[i] || fat_lower(name[i]) != fat_lower(comp[i]))
			return false;
	return name[len] == '\0';
}

static int fat_lookup(struct fat_fs *fs, struct fat_file *dir, const char *comp, size_t len)
{
	struct fat_names nm;
	struct fat_file f;
	u64 cookie = 0;
	int rc;

	while ((rc = fat_next_entry(fs, dir, &cookie, &nm, &f)) == 1) {
		if ((nm.has_lname && fat_name_eq(nm.lname, comp, len)) ||
		    fat_name_eq(nm.sname, comp, len)) {
			*dir = f;
			return 0;
		}
	}
	return rc ? rc : -FW_ENOENT;
}

int fat_open(struct fat_fs *fs, const char *path, struct fat_file *f)
{
	struct fat_file cur = { .first_cluster = fs->root_cluster, .is_dir = true };
	int rc;

	for (;;) {
		size_t len = 0;

		while (*path == '/')
			path++;
		if (!*path)
			break;
		while (path[len] && path[len] != '/')
			len++;
		if (len == 1 && path[0] == '.') {
			path += len;
			continue;
		}
		if (len >= FAT_NAME_MAX)
			return -FW_EINVAL;
		if (!cur.is_dir || (len == 2 && path[0] == '.' && path[1] == '.'))
			return -FW_ENOENT;
		rc = fat_lookup(fs, &cur, path, len);
		if (rc)
			return rc;
		path += len;
	}
	*f = cur;
	return 0;
}
