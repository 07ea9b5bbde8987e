; Exception entry stubs: every vector 0-31 pushes a dummy error code where the
; CPU pushes none (SDM Vol. 3 6.13), then its vector, saves the general
; registers and calls trap_report(frame), which prints them and halts.

global trap_stubs
extern trap_report

%macro STUB 1
align 16
	%if %1 == 8 || (%1 >= 10 && %1 <= 14) || %1 == 17 || %1 == 21 || %1 == 29 || %1 == 30
	push qword %1
	%else
	push qword 0
	push qword %1
	%endif
	jmp trap_common
%endmacro

section .text
bits 64
align 16
trap_stubs:
%assign v 0
%rep 32
	STUB v
%assign v v + 1
%endrep

trap_common:
	push rax
	push rbx
	push rcx
	push rdx
	push rsi
	push rdi
	push rbp
	push r8
	push r9
	push r10
	push r11
	push r12
	push r13
	push r14
	push r15
	mov rdi, rsp
	and rsp, ~15
	call trap_report
.halt:
	cli
	hlt
	jmp .halt

section .note.GNU-stack noalloc noexec nowrite progbits
