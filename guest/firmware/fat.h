/*
 * Read-only FAT12/16/32 (Microsoft FAT specification, "fatgen103") with
 * VFAT long file names. File system sectors of 512..4096 bytes sit on a
 * disk of 512-byte sectors. All state lives in struct fat_fs: no heap.
 */
#ifndef FW_FAT_H
#define FW_FAT_H

#include "disk.h"

#define FAT_NAME_MAX	    256	       /* a long name (255 ASCII characters) plus its NUL */
#define FAT_CACHE_SECTORS   128	       /* disk sectors of the FAT kept in memory (64 KiB) */
#define FAT_DIR_MAX_ENTRIES (1u << 21) /* 64 MiB of directory: more is corrupt */

/* Brent's cycle detection along a walk of a cluster chain. */
struct fat_walk {
	u32 saved;
	u32 power, lam;
};

/*
 * A mounted volume. Every LBA here is a disk LBA (512-byte units), already
 * offset by the partition start. The cursor remembers where the last walk
 * along a cluster chain ended, so sequential reads do not restart at the
 * first cluster, and the loop check goes on from there too.
 */
struct fat_fs {
	struct fw_disk disk;
	u64 part_lba, part_sectors;
	u8 type; /* 12, 16 or 32 */
	u32 spc; /* disk sectors per cluster */
	u32 cluster_bytes;
	u64 fat_lba;	    /* the FAT in use */
	u64 fat_sectors;    /* disk sectors of one FAT */
	u64 root_lba;	    /* FAT12/16: fixed root directory */
	u32 root_entries;   /* FAT12/16 */
	u32 root_cluster;   /* FAT32 */
	u64 data_lba;	    /* cluster 2 */
	u32 nr_clusters;    /* data clusters: valid cluster numbers are 2..nr_clusters+1 */
	u32 cursor_first;   /* chain the cursor is on (its first cluster), 0 if none */
	u64 cursor_index;   /* cluster index within that chain */
	u32 cursor_cluster; /* cluster number at cursor_index */
	struct fat_walk cursor_walk;
	u64 fat_cache_lba; /* first disk LBA in fat_cache, or ~0 */
	u64 dir_cache_lba; /* disk LBA in dir_cache, or ~0 */
	u8 fat_cache[FAT_CACHE_SECTORS * DISK_SECTOR_SIZE];
	u8 dir_cache[DISK_SECTOR_SIZE];
	u8 bounce[DISK_SECTOR_SIZE];
};

/*
 * A file or directory. first_cluster 0 is an empty file, or the root
 * directory when is_dir (FAT12/16 fixed root; FAT32 root is first_cluster
 * = the BPB's root cluster). size is 0 for directories.
 */
struct fat_file {
	u32 first_cluster;
	u32 size;
	bool is_dir;
};

/*
 * Mounts the FAT file system occupying sectors disk sectors from first_lba.
 * The BPB is validated (jump, 0x55AA, sector size, cluster size, reserved
 * sectors, FAT count and size, root entries, total sectors fitting the
 * partition, a FAT large enough for every cluster, FAT32 version and root
 * cluster); the FAT type follows from the cluster count as the
 * specification says. d is copied. Returns 0; -FW_EINVAL with *why (if why
 * is not NULL) naming the failed check; -FW_EIO on a read error.
 */
int fat_mount(struct fat_fs *fs, const struct fw_disk *d, u64 first_lba, u64 sectors,
	      const char **why);

/*
 * Looks up a '/'-separated path ("/loader/entries/a.conf"; the leading '/'
 * is optional, empty and "." components are skipped, ".." is not supported).
 * Each component matches a long name or an 8.3 name, case-insensitively
 * (ASCII). "" and "/" are the root directory. Returns 0 with *f filled;
 * -FW_ENOENT if a component is missing or a non-final one is not a
 * directory; -FW_EINVAL for a component longer than 255 characters;
 * -FW_EIO on a read error or a corrupt directory.
 */
int fat_open(struct fat_fs *fs, const char *path, struct fat_file *f);

/*
 * Reads up to len bytes at byte offset off of a regular file into buf.
 * Returns the number of bytes read (short only at end of file, 0 at or past
 * it), -FW_EINVAL for a directory, or -FW_EIO on a read error or a cluster
 * chain that ends early, leaves the volume or loops. Each run of contiguous
 * clusters is one disk read, straight into buf for whole sectors; only a
 * partial first or last sector goes through a bounce buffer.
 */
long fat_read(struct fat_fs *fs, const struct fat_file *f, u64 off, void *buf, u64 len);

/*
 * Iterates directory dir: *cookie starts at 0 and is advanced past each
 * entry returned. Fills name (long name if present and intact, else the 8.3
 * name as "NAME.EXT", honouring the NT lower-case flags; non-ASCII
 * characters become '?') and *f. Returns 1 per entry, 0 at the end,
 * -FW_ERANGE if the name does not fit name_cap (the cookie still advances,
 * so iteration can go on; FAT_NAME_MAX always fits), -FW_EINVAL if dir is
 * not a directory, -FW_EIO on a read error or a corrupt directory. Skips
 * ".", "..", volume labels and deleted entries.
 */
int fat_readdir(struct fat_fs *fs, const struct fat_file *dir, u64 *cookie, char *name,
		size_t name_cap, struct fat_file *f);

#endif
