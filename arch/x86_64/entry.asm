; Exception entry stubs. Each pushes a uniform frame (struct trap_frame in
; asm/trap.h) and calls trap_handler(frame); an error code is faked as 0 for
; vectors where the CPU pushes none (SDM Vol. 3 6.15).

extern trap_handler

section .text

%macro SAVE_GPRS 0
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
%endmacro

%macro RESTORE_GPRS 0
	pop r15
	pop r14
	pop r13
	pop r12
	pop r11
	pop r10
	pop r9
	pop r8
	pop rbp
	pop rdi
	pop rsi
	pop rdx
	pop rcx
	pop rbx
	pop rax
%endmacro

%macro VECTOR_NOERR 1
vector_%1:
	push 0
	push %1
	jmp trap_common
%endmacro

%macro VECTOR_ERR 1
vector_%1:
	push %1
	jmp trap_common
%endmacro

trap_common:
	SAVE_GPRS
	mov rdi, rsp
	; Align the stack for C; the frame pointer chain starts at the
	; interrupted rbp, saved in the frame.
	mov rbx, rsp
	and rsp, -16
	call trap_handler
	mov rsp, rbx
	RESTORE_GPRS
	add rsp, 16			; vector and error code
	iretq

; Vectors with an error code: 8, 10-14, 17, 21, 29, 30.
VECTOR_NOERR 0
VECTOR_NOERR 1
VECTOR_NOERR 2
VECTOR_NOERR 3
VECTOR_NOERR 4
VECTOR_NOERR 5
VECTOR_NOERR 6
VECTOR_NOERR 7
VECTOR_ERR   8
VECTOR_NOERR 9
VECTOR_ERR   10
VECTOR_ERR   11
VECTOR_ERR   12
VECTOR_ERR   13
VECTOR_ERR   14
VECTOR_NOERR 15
VECTOR_NOERR 16
VECTOR_ERR   17
VECTOR_NOERR 18
VECTOR_NOERR 19
VECTOR_NOERR 20
VECTOR_ERR   21
VECTOR_NOERR 22
VECTOR_NOERR 23
VECTOR_NOERR 24
VECTOR_NOERR 25
VECTOR_NOERR 26
VECTOR_NOERR 27
VECTOR_NOERR 28
VECTOR_ERR   29
VECTOR_ERR   30
VECTOR_NOERR 31
; 32..255: external interrupts and IPIs share one stub per vector.
%assign v 32
%rep 224
VECTOR_NOERR v
%assign v v + 1
%endrep

section .rodata
align 8
global trap_vectors
trap_vectors:
%assign v 0
%rep 256
	dq vector_ %+ v
%assign v v + 1
%endrep
