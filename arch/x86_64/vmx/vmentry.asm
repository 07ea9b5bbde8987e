; VM entry and exit (SDM Vol. 3 26, 27).
;
; int vmx_enter(struct guest_regs *regs, int launched)
;   Loads the guest's general-purpose registers and CR2 from regs, then
;   VMLAUNCH (launched == 0) or VMRESUME. On the next VM exit the CPU comes
;   back at vmx_exit (HOST_RIP) with RSP = HOST_RSP, which points at the saved
;   regs pointer; the guest's registers are stored and vmx_enter returns 0.
;   If the entry itself fails (VMfailValid/VMfailInvalid) it returns 1
;   (VM_INSTRUCTION_ERROR says why) or 2 (no current VMCS).
;   RSP, RIP and RFLAGS of the guest live in the VMCS, not in regs.

%define HOST_RSP_FIELD	0x6c14

; struct guest_regs, keep in sync with asm/vcpu.h
%define R_RAX	0
%define R_RCX	8
%define R_RDX	16
%define R_RBX	24
%define R_RBP	32
%define R_RSI	40
%define R_RDI	48
%define R_R8	56
%define R_R9	64
%define R_R10	72
%define R_R11	80
%define R_R12	88
%define R_R13	96
%define R_R14	104
%define R_R15	112
%define R_CR2	120

section .text
global vmx_enter
vmx_enter:
	push rbp
	mov rbp, rsp
	push rbx
	push r12
	push r13
	push r14
	push r15
	push rdi			; [rsp] = regs, found again at exit
	mov eax, HOST_RSP_FIELD
	vmwrite rax, rsp
	jbe .fail_write

	mov rax, [rdi + R_CR2]
	mov cr2, rax
	test esi, esi
	mov rax, [rdi + R_RAX]
	mov rcx, [rdi + R_RCX]
	mov rdx, [rdi + R_RDX]
	mov rbx, [rdi + R_RBX]
	mov rbp, [rdi + R_RBP]
	mov rsi, [rdi + R_RSI]
	mov r8,  [rdi + R_R8]
	mov r9,  [rdi + R_R9]
	mov r10, [rdi + R_R10]
	mov r11, [rdi + R_R11]
	mov r12, [rdi + R_R12]
	mov r13, [rdi + R_R13]
	mov r14, [rdi + R_R14]
	mov r15, [rdi + R_R15]
	mov rdi, [rdi + R_RDI]		; last: it held regs (flags from the test survive movs)
	jnz .resume
	vmlaunch
	jmp .fail
.resume:
	vmresume
.fail:
	; Still in the host: the entry failed. CF: VMfailInvalid, ZF: VMfailValid.
	mov eax, 1
	mov ecx, 2
	cmovc eax, ecx
	jmp .out
.fail_write:
	mov eax, 2
.out:
	add rsp, 8			; regs
	pop r15
	pop r14
	pop r13
	pop r12
	pop rbx
	pop rbp
	ret

global vmx_exit
vmx_exit:
	; RSP = HOST_RSP: [rsp] = regs. Interrupts are off (host RFLAGS = 0x2).
	push rdi
	mov rdi, [rsp + 8]
	mov [rdi + R_RAX], rax
	mov [rdi + R_RCX], rcx
	mov [rdi + R_RDX], rdx
	mov [rdi + R_RBX], rbx
	mov [rdi + R_RBP], rbp
	mov [rdi + R_RSI], rsi
	mov [rdi + R_R8], r8
	mov [rdi + R_R9], r9
	mov [rdi + R_R10], r10
	mov [rdi + R_R11], r11
	mov [rdi + R_R12], r12
	mov [rdi + R_R13], r13
	mov [rdi + R_R14], r14
	mov [rdi + R_R15], r15
	mov rax, cr2
	mov [rdi + R_CR2], rax
	pop rax				; the guest's rdi
	mov [rdi + R_RDI], rax
	xor eax, eax
	add rsp, 8			; regs
	pop r15
	pop r14
	pop r13
	pop r12
	pop rbx
	pop rbp
	ret
