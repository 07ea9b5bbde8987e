/* Core kernel interfaces: boot entry, command line, panic. */
#ifndef HV_KERNEL_H
#define HV_KERNEL_H

#include <boot_info.h>
#include <hv/frame.h>
#include <hv/types.h>

/* The machine's one copy of the hand-off, and the physical allocator. */
extern struct boot_info boot_info;
extern struct frame_alloc frames;

/* Linker-script symbols: the image and its parts. */
extern char __kernel_start[], __kernel_end[];
extern char __text_start[], __text_end[];
extern char __rodata_start[], __rodata_end[];
extern char __data_start[], __bss_start[], __bss_end[];

__noreturn void kernel_main(const struct boot_info *bi);

/*
 * Command-line options: "key=value" words. cmdline_get() copies the value of
 * key into buf and returns true when present ("key" alone gives "").
 */
bool cmdline_get(const char *cmdline, const char *key, char *buf, size_t len);

/* Poll the operator's console (service CPU). */
void console_poll(void);

/* True when the command line says selftest=name (debug switches for the tests). */
bool selftest_enabled(const char *name);

/* A broken hypervisor invariant: dump, park every CPU. Never for guest faults. */
__noreturn void panic(const char *fmt, ...) __printf(1, 2);

/* Allocate zeroed pages (identity-mapped); panics when memory is exhausted. */
void *page_alloc_zeroed(u64 size, u64 align, u64 limit);
/* Allocate pages (not zeroed); 0 when nothing fits. Any CPU. */
u64 page_alloc_try(u64 size, u64 align, u64 limit);
void page_free(u64 pa, u64 size);
/* The boot module of that name, or NULL. */
const struct boot_module *boot_module_find(const char *name);

#endif
