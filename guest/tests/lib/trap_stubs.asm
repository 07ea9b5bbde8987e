; Interrupt and exception entry: one 16-byte stub per vector at
; trap_stubs + 16 * vector, all ending in trap_handler(struct trap_frame *)
; (trap.c). The handler may change the saved RIP to resume elsewhere.

extern trap_handler
global trap_stubs

; Vectors for which the CPU pushes an error code (SDM Vol. 3 6.13).
%define HAS_ERROR(v)	((v) == 8 || ((v) >= 10 && (v) <= 14) || (v) == 17 || \
			 (v) == 21 || (v) == 29 || (v) == 30)

section .text
bits 64
align 16
trap_stubs:
%assign v 0
%rep 256
	align 16
%if HAS_ERROR(v) == 0
	push 0
%endif
	push v
	jmp trap_common
%assign v v + 1
%endrep

; Frame on entry: vector, error code, then the CPU's RIP, CS, RFLAGS, RSP,
; SS. 15 saved registers keep RSP 16-byte aligned for the call (the CPU
; aligns RSP before pushing its frame in 64-bit mode).
trap_common:
	push rax
	push rcx
	push rdx
	push rbx
	push rbp
	push rsi
	push rdi
	push r8
	push r9
	push r10
	push r11
	push r12
	push r13
	push r14
	push r15
	mov rdi, rsp
	cld
	call trap_handler
	pop r15
	pop r14
	pop r13
	pop r12
	pop r11
	pop r10
	pop r9
	pop r8
	pop rdi
	pop rsi
	pop rbp
	pop rbx
	pop rdx
	pop rcx
	pop rax
	add rsp, 16
	iretq
