/*
 * Kernel image formats the firmware boots, identified from the file's first
 * bytes, and a load plan for each:
 *  - Linux bzImage, boot protocol >= 2.12 with a 64-bit entry
 *    (Documentation/arch/x86/boot.rst);
 *  - ELF32/ELF64 with a Xen PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY);
 *  - Multiboot 1 (0.6.96) and Multiboot2 (2.0) headers, loaded through their
 *    address fields or the ELF program headers.
 *
 * The file is never needed in memory as a whole. Usage:
 *
 *	n = MIN(file_size, KFMT_HEAD_SIZE); read n bytes at 0 into head;
 *	rc = kfmt_probe(&ki, head, n, file_size, ram_lo, ram_hi, &why);
 *	while (rc == KFMT_MORE) {	// ELF: program headers, then notes
 *		read ki.need_len bytes at ki.need_off into buf;
 *		rc = kfmt_feed(&ki, buf, ki.need_len, &why);
 *	}
 *	if (rc < 0) fail with why;
 *	for each ki.seg[i]: read seg.file_size bytes at seg.file_off straight to
 *		seg.dest, zero up to seg.mem_size; then jump per ki.kind to ki.entry.
 *
 * Every header field is treated as hostile: segments must lie inside the
 * file, their destinations inside [ram_lo, ram_hi) and apart from each other,
 * counts are bounded and no arithmetic wraps.
 */
#ifndef FW_KERNEL_FMT_H
#define FW_KERNEL_FMT_H

#include "fwtypes.h"

#define KFMT_HEAD_SIZE	 32768 /* file bytes kfmt_probe() wants (the Multiboot2 search range) */
#define KFMT_NEED_MAX	 16384 /* the largest read kfmt_feed() asks for */
#define KFMT_MAX_SEGS	 16    /* loadable segments */
#define KFMT_MAX_PHDRS	 64    /* ELF program headers */
#define KFMT_MAX_NOTES	 8     /* ELF PT_NOTE segments examined */
#define KFMT_MB2_MAX_REQ 32    /* Multiboot2 information request entries */
#define KFMT_MORE	 1     /* kfmt_probe/kfmt_feed: read ki->need_len bytes at ki->need_off */
#define KFMT_BZ_ENTRY_64 \
	0x200 /* 64-bit entry (startup_64) from the protected-mode kernel's start */

enum kfmt_kind {
	KFMT_UNKNOWN = 0,
	KFMT_BZIMAGE,	 /* 64-bit boot protocol: entry in long mode, %rsi = boot_params */
	KFMT_PVH,	 /* 32-bit protected mode, paging off, %ebx = hvm_start_info */
	KFMT_MULTIBOOT1, /* %eax = 0x2BADB002, %ebx = multiboot info */
	KFMT_MULTIBOOT2, /* %eax = 0x36D76289, %ebx = multiboot2 info */
};

/* Copy file_size bytes at file_off to dest, then zero dest + file_size .. dest + mem_size. */
struct kfmt_seg {
	u64 file_off, file_size;
	u64 dest, mem_size;
};

/* The bzImage setup header fields a loader needs (boot.rst, "The real-mode kernel header"). */
struct kfmt_bzimage {
	u8 setup_sects; /* 0 in the header already means 4 here */
	u16 version;	/* boot protocol, e.g. 0x020f for 2.15 */
	u8 loadflags;
	u16 xloadflags;
	u32 code32_start;
	u32 hdr_end;	/* setup header is head[0x1f1, hdr_end): copy it into boot_params */
	u64 kernel_off; /* protected-mode kernel in the file: (setup_sects + 1) * 512 */
	u64 kernel_size;
	u64 pref_address;
	u32 kernel_alignment;
	bool relocatable;
	u32 init_size; /* memory the kernel needs from its load address before it relocates */
	u32 initrd_addr_max;
	u32 cmdline_size;
};

struct kfmt_mb2_req {
	u32 type; /* MBI tag type the kernel asks for */
	bool optional;
};

/* What the multiboot header asked for (Multiboot 1 and 2). */
struct kfmt_multiboot {
	u32 header_off; /* file offset of the magic */
	u32 flags;	/* Multiboot 1 header flags */
	bool has_addr;	/* load by the address fields: MB1 flag 16, MB2 address tag */
	u32 header_addr, load_addr, load_end_addr, bss_end_addr;
	bool has_entry; /* MB1 flag 16, MB2 entry address tag */
	u32 entry_addr;
	bool page_align_modules; /* MB1 flag 0, MB2 module alignment tag */
	bool want_mem_info;	 /* MB1 flag 1 */
	bool want_video;	 /* MB1 flag 2, MB2 framebuffer tag: not provided, ignored */
	u32 nr_req;		 /* MB2 information requests */
	struct kfmt_mb2_req req[KFMT_MB2_MAX_REQ];
	bool has_console_flags;
	u32 console_flags;
	bool relocatable; /* MB2 relocatable tag: reported, the plan uses the linked addresses */
	u32 reloc_min, reloc_max, reloc_align, reloc_pref;
};

/* The ELF header fields in use. */
struct kfmt_elf {
	u8 cls;	   /* 32 or 64 */
	u64 entry; /* e_entry */
	u64 phoff;
	u16 phnum, phentsize;
	bool has_pvh;
	u64 pvh_entry;
};

/* A PT_NOTE segment still to be examined. */
struct kfmt_note {
	u64 off, size;
	u32 align; /* 4 or 8 */
};

struct kfmt_info {
	enum kfmt_kind kind; /* valid once kfmt_probe()/kfmt_feed() return 0 */
	u64 file_size;
	u64 ram_lo, ram_hi;
	/*
	 * KFMT_BZIMAGE: bz, and seg[0] = the protected-mode kernel at the chosen
	 * load address (pref_address if it fits the window, else the lowest
	 * kernel_alignment-aligned address in it for a relocatable kernel), with
	 * mem_size = MAX(init_size, kernel_size); entry = seg[0].dest + 0x200.
	 * A caller may move a relocatable kernel to another aligned address.
	 * KFMT_PVH, KFMT_MULTIBOOT*: seg[] by physical address, entry the
	 * 32-bit physical entry point, inside a segment.
	 */
	struct kfmt_bzimage bz;
	struct kfmt_multiboot mb;
	u8 mb_version; /* 0 (none), 1 or 2: the multiboot header found */
	bool is_elf;
	struct kfmt_elf elf;
	u32 nr_segs;
	struct kfmt_seg seg[KFMT_MAX_SEGS];
	u64 entry;
	/* When KFMT_MORE is returned: the next read the caller must do. */
	u64 need_off;
	u32 need_len;
	/* Private. */
	u8 stage;
	int mb_err;	    /* a broken multiboot header in an ELF file, reported if no PVH note */
	const char *mb_why; /* and its reason */
	u64 seg_vaddr[KFMT_MAX_SEGS]; /* ELF p_vaddr of seg[i], to translate e_entry */
	u32 nr_notes, note_idx;
	struct kfmt_note notes[KFMT_MAX_NOTES];
};

/*
 * Identifies the kernel from head (its first head_len bytes: pass
 * MIN(file_size, KFMT_HEAD_SIZE)) and plans its load into [ram_lo, ram_hi).
 * Returns 0 when *ki is complete; KFMT_MORE when the caller must read
 * ki->need_len (<= KFMT_NEED_MAX) bytes at ki->need_off and pass them to
 * kfmt_feed(); -FW_ENOEXEC for an unknown, unsupported or malformed image;
 * -FW_ERANGE when a valid image does not fit the RAM window; -FW_EINVAL for
 * bad arguments. *why (if why is not NULL) gives the reason on failure.
 * Preference when several apply: bzImage, PVH note, Multiboot2, Multiboot 1;
 * a multiboot header with address fields is used without looking at ELF, and
 * a broken multiboot header in an ELF file is reported only if the file has
 * no PVH note.
 */
int kfmt_probe(struct kfmt_info *ki, const void *head, size_t head_len, u64 file_size, u64 ram_lo,
	       u64 ram_hi, const char **why);

/*
 * Continues after KFMT_MORE with the len == ki->need_len bytes read at
 * ki->need_off. Same returns as kfmt_probe().
 */
int kfmt_feed(struct kfmt_info *ki, const void *buf, size_t len, const char **why);

/* "bzImage", "PVH ELF", "Multiboot", "Multiboot2" or "unknown", for the console. */
const char *kfmt_kind_name(enum kfmt_kind kind);

#endif
