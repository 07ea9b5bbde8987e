/* Exceptions and interrupts taken by the hypervisor itself. */
#ifndef ASM_TRAP_H
#define ASM_TRAP_H

#include <hv/types.h>

/* Exception vectors (SDM Vol. 3 Table 6-1). */
#define X86_TRAP_DE  0
#define X86_TRAP_DB  1
#define X86_TRAP_NMI 2
#define X86_TRAP_BP  3
#define X86_TRAP_OF  4
#define X86_TRAP_BR  5
#define X86_TRAP_UD  6
#define X86_TRAP_NM  7
#define X86_TRAP_DF  8
#define X86_TRAP_TS  10
#define X86_TRAP_NP  11
#define X86_TRAP_SS  12
#define X86_TRAP_GP  13
#define X86_TRAP_PF  14
#define X86_TRAP_MF  16
#define X86_TRAP_AC  17
#define X86_TRAP_MC  18
#define X86_TRAP_XM  19
#define X86_TRAP_VE  20
#define X86_TRAP_CP  21

/* Interrupt vectors the hypervisor uses. */
#define VECTOR_TIMER	0xef /* LAPIC timer of the service CPU: periodic wake-up */
#define VECTOR_KICK	0xf0 /* "look at your requests": wakes a CPU, or exits its guest */
#define VECTOR_SPURIOUS 0xff

/* What entry.asm pushes, lowest address first. */
struct trap_frame {
	u64 r15, r14, r13, r12, r11, r10, r9, r8;
	u64 rbp, rdi, rsi, rdx, rcx, rbx, rax;
	u64 vector, error_code;
	u64 rip, cs, rflags, rsp, ss; /* pushed by the CPU */
};

void trap_handler(struct trap_frame *f);
/* An NMI exited a guest on this CPU: park if the hypervisor is dumping. */
void trap_nmi_in_guest(void);
/* Load the shared IDT on this CPU (built on first use). */
void idt_load(void);
/* Fatal: print the dump for f (may be NULL), park every CPU. */
__noreturn void fatal_dump(const char *why, const struct trap_frame *f);

#endif
