/* Internal interface between vcpu.c (VMCS, run loop) and exits.c (exit handlers). */
#ifndef ASM_VMX_VCPU_H
#define ASM_VMX_VCPU_H

#include <hv/vsi.h>

#define EXCEPTION_GP 13
#define EXCEPTION_UD 6

/* Exit handler result. */
enum exit_result {
	EXIT_RESUME = 0, /* go back into the guest */
	EXIT_LEAVE,	 /* the VSI has a request: return to the vCPU thread */
};

enum exit_result vmx_handle_exit(struct vcpu *vc, u32 reason);
/* RDMSR (write false) or WRMSR at the guest's RCX/RDX:RAX (msr.c). */
enum exit_result vmx_handle_msr(struct vcpu *vc, bool write);
/* End the emulated instruction of len bytes at GUEST_RIP as the CPU would (RIP, RF, TF, blocking). */
void vmx_complete_instruction(u32 len);
/* The same for the instruction that caused the exit (VM_EXIT_INSTRUCTION_LEN). */
void vmx_skip_instruction(void);
/* Turn a primary processor-based control on or off; *cur caches its state. */
void vmx_set_exec_control(u32 bit, bool on, bool *cur);
/* Queue a hardware exception for the next entry (SDM 26.6). */
void vmx_inject_exception(u32 vector, bool has_error, u32 error);
/* Put vc in the architectural reset state (SDM 10.1.1); sipi: an AP's start at vector. */
void vmx_reset_guest_state(struct vcpu *vc, bool sipi, u32 vector);
/* Guest GPR number n (exit qualification numbering: 0 = RAX, 4 = RSP ... 15 = R15). */
u64 vmx_read_gpr(struct vcpu *vc, u32 n);
void vmx_write_gpr(struct vcpu *vc, u32 n, u64 val);
/* The guest's view of CR0/CR4 (shadow for the bits we own, the register for the rest). */
u64 vmx_guest_cr0(void);
u64 vmx_guest_cr4(void);
/* MOV to/from CR0/CR3/CR4/CR8, CLTS, LMSW (cr.c). */
enum exit_result vmx_handle_cr(struct vcpu *vc);
/* Sleep on this CPU until vc has work (an interrupt, SIPI, or a request). */
void vmx_wait_for_work(struct vcpu *vc, bool irq_can_wake);
/* Report an exit this VSI cannot continue from (registers, reason) and fault it. */
enum exit_result vmx_fault_exit(struct vcpu *vc, u32 reason, const char *why);
/* An EPT violation outside RAM: emulated MMIO (mmio.c). */
enum exit_result vmx_handle_mmio(struct vcpu *vc);
/* An APIC-access exit: an access to the APIC page the CPU did not virtualise (mmio.c). */
enum exit_result vmx_handle_apic_access(struct vcpu *vc);
/* APIC-write and EOI-induced exits (apicv.c). */
enum exit_result apicv_handle_write(struct vcpu *vc);
enum exit_result apicv_handle_eoi(struct vcpu *vc);
/* NMIs (nmi.c): whether the guest's NMI blocking is the CPU's ("virtual NMIs"). */
bool vmx_virtual_nmis(void);
/* Forget pending NMIs and NMI blocking (reset, INIT). */
void vmx_nmi_reset(struct vcpu *vc);
/* Inject a pending NMI if allowed now (entry field free); else request its window. */
bool vmx_nmi_inject(struct vcpu *vc, bool *irq_window);
/* An event is queued already: request the pending NMI's window; true: the interrupt window. */
bool vmx_nmi_after_queued(struct vcpu *vc);
/* An NMI is pending and not blocked: a halted vCPU must wake for it. */
bool vmx_nmi_can_wake(const struct vcpu *vc);
/* After every exit: without virtual NMIs, keep physical NMIs unblocked. */
void vmx_nmi_after_exit(struct vcpu *vc);
/* Queue again an event whose delivery the exit interrupted. */
void vmx_requeue_vectoring(void);
/* One port access as IN/OUT do it (exits.c); *val in or out. */
enum vsi_access vmx_port_access(struct vcpu *vc, u32 port, u32 size, bool in, u32 *val);
/* INS/OUTS, with or without REP (string_io.c). */
enum exit_result vmx_handle_string_io(struct vcpu *vc, u64 qualification);
/* Guest linear -> guest physical through the guest's page tables; -EFAULT if not present. */
int vmx_guest_translate(struct vcpu *vc, u64 la, u64 *gpa);
/* The guest's code size in bytes: 2, 4 or 8 (real, 16/32-bit protected, 64-bit mode). */
u32 vmx_code_mode(void);
/* A segment's base (SEG_*); in 64-bit mode only FS and GS have one. */
u64 vmx_segment_base(u32 seg);
/* Guest memory a data access of len bytes at gpa reaches directly: RAM, and
 * for reads the ROM and its alias; NULL for anything else (devices, nothing). */
void *vmx_guest_memory(struct vcpu *vc, u64 gpa, u32 len, bool write);
/* The local APIC model's hooks into the VSI (IPIs). */
extern const struct vlapic_ops vcpu_vlapic_ops;

#endif
