/* The test-guest library: what every guest ROM links against (see README.md).
 * A guest defines guest_name and guest_main(); the library brings vCPU 0 to
 * long mode, probes the platform, prints the start line, runs guest_main()
 * and prints "done" when it returns. */
#ifndef GUEST_H
#define GUEST_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define __printf(a, b) __attribute__((format(printf, a, b)))
#define __noreturn     __attribute__((noreturn))

#define MiB (1UL << 20)
#define GiB (1UL << 30)

/* Provided by each guest. */
extern const char guest_name[];
void guest_main(void);

/* What the guest learnt from CPUID 0x40000000/0x40000001 (docs/vsi-platform.md).
 * Without the signature: 2 MiB of RAM, vCPUs from the CPUID topology leaves. */
struct platform {
	bool hv;
	uint32_t vcpus;
	uint32_t ram_mib;
	uint64_t ram_bytes;
};
extern struct platform platform;

/* End of the RAM the guest itself writes (page tables, data, stacks): the
 * region [0, guest_ram_end) is the guest's own, everything above stays zero. */
extern char __guest_ram_end[];

/* Identity map of the low 4 GiB (entry.asm): PML4, PDPT, 4 page directories. */
extern uint64_t boot_pml4[512];
extern uint64_t boot_pdpt[512];

/* Application processors (entry.asm, lib_ap_main): a copy of the real-mode
 * trampoline [ap_trampoline, ap_trampoline_end) in a page below 1 MiB is the
 * SIPI target. Each AP takes the next of ap_stack_count stacks of
 * AP_STACK_SIZE bytes at ap_stack_base, then calls ap_entry(slot). */
#define AP_STACK_SIZE 4096 /* keep in sync with entry.asm */
extern const char ap_trampoline[], ap_trampoline_end[];
extern void *ap_stack_base;
extern uint32_t ap_stack_count;
extern void (*ap_entry)(uint32_t slot);

/* uart.c: COM1, whole lines under one lock. */
void uart_init(void);
void uart_write_line(const char *s, size_t len);

/* print.c */
int vsnprint(char *buf, size_t size, const char *fmt, va_list ap);
int snprint(char *buf, size_t size, const char *fmt, ...) __printf(3, 4);
void print(const char *fmt, ...) __printf(1, 2);
void guest_say(const char *fmt, ...) __printf(1, 2);
void expect_ok(const char *what);
void expect_fail(const char *what, const char *fmt, ...) __printf(2, 3);

/* trap.c: exceptions on extable instructions resume after the instruction
 * and record the vector in trap_vector; other vectors go to a registered
 * handler, or are reported as unexpected and stop the vCPU. */
struct trap_frame {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rdi, rsi, rbp, rbx, rdx, rcx, rax;
	uint64_t vector, error;
	uint64_t rip, cs, rflags, rsp, ss;
};
typedef void (*trap_handler_t)(struct trap_frame *f);

#define TRAP_NONE (-1)
extern volatile int trap_vector;
extern volatile uint64_t trap_error;
void idt_init(void);
void idt_load(void);
void trap_set_handler(unsigned int vector, trap_handler_t h);
const char *trap_name(int vector);

/* platform.c */
void platform_probe(void);
__noreturn void halt_forever(void);
void delay_loops(uint64_t n);

/* apic.c: x2APIC as the platform defines it; xAPIC MMIO only as a fallback
 * without the hypervisor on a CPU that has no x2APIC (QEMU TCG). */
#define ICR_FIXED	  0x000
#define ICR_NMI		  0x400
#define ICR_INIT	  0x500
#define ICR_SIPI	  0x600
#define ICR_LEVEL_ASSERT  (1U << 14)
#define ICR_ALL_BUT_SELF  (3U << 18)
#define APIC_BROADCAST_ID 0xffffffffU

void apic_init(void);
void apic_enable_this_cpu(void);
bool apic_is_x2apic(void);
uint32_t apic_id(void);
void apic_send_ipi(uint32_t dest, uint32_t icr_low);
void apic_soft_enable(uint8_t spurious_vector);
void apic_eoi(void);

/* string.c: what the compiler may call. */
void *memcpy(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);

#endif
