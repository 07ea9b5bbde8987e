/*
 * Boot Loader Specification type #1 entries (UAPI.1,
 * https://uapi-group.org/specifications/specs/boot_loader_specification/):
 * parsing one loader/entries/NAME.conf file and ordering entries for the menu.
 */
#ifndef FW_BLS_H
#define FW_BLS_H

#include "fwtypes.h"

#define BLS_MAX_INITRD	4
#define BLS_ID_MAX	256 /* file names are at most 255 characters */
#define BLS_PATH_MAX	128
#define BLS_OPTIONS_MAX 1024

/*
 * One entry. Every string is NUL-terminated and empty when its key is
 * absent; none is ever truncated (a value that does not fit is an error).
 * initrd[0..nr_initrd) are the initrd keys in file order: load them back to
 * back. options joins every options line with one space. tries_left and
 * tries_done come from a boot-counting suffix "+LEFT[-DONE]" at the end of
 * id, -1 when absent; an entry with tries_left == 0 is "bad".
 */
struct bls_entry {
	char id[BLS_ID_MAX]; /* file name without ".conf" */
	char title[128];
	char version[64];
	char machine_id[64];
	char sort_key[64];
	/* The "linux" key (a member named linux would meet GNU C's predefined macro linux). */
	char linux_path[BLS_PATH_MAX];
	char initrd[BLS_MAX_INITRD][BLS_PATH_MAX];
	u32 nr_initrd;
	char options[BLS_OPTIONS_MAX];
	int tries_left, tries_done;
};

/*
 * Parses one entry: len bytes of text (not NUL-terminated), for the file
 * named id (".conf" is stripped if present). Lines are split at '\n'; leading
 * and trailing blanks (space, tab, '\r') are dropped; empty lines and lines
 * starting with '#' are ignored. The key is the first word, the value the rest
 * after one or more blanks. Keys: title, version, machine-id, sort-key, linux
 * (the last one of each counts), initrd (up to BLS_MAX_INITRD, in order),
 * options (joined). efi, devicetree, devicetree-overlay and unknown keys are
 * ignored, and so are keys without a value. architecture is compared with
 * "x64" case-insensitively.
 *
 * Returns 0; -FW_ENOTSUP if the entry is not for this machine (another
 * architecture, or an efi entry without linux); -FW_EINVAL if it is malformed
 * (no linux key, a value or id too long, too many initrds, a NUL byte).
 * *why (if why is not NULL) says which, for the console.
 */
int bls_parse(const char *text, size_t len, const char *id, struct bls_entry *e, const char **why);

/*
 * Menu order per the specification's "Sorting" section: entries that are not
 * bad first; then entries with a sort-key, ordered by sort-key (strcmp),
 * machine-id (strcmp, empty first) and version (newest first); then all by id
 * (newest version first). Returns <0 if a sorts before b, 0, >0, like strcmp.
 */
int bls_compare(const struct bls_entry *a, const struct bls_entry *b);

/*
 * Version comparison of the UAPI Version Format Specification (the algorithm
 * of systemd's strverscmp_improved()): <0 if a is older than b, 0, >0.
 */
int bls_vercmp(const char *a, const char *b);

#endif
