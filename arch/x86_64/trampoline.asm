; AP start-up trampoline (SDM Vol. 3 8.4.4, 9.9). smp.c copies it to a page
; below 1 MiB and sends INIT-SIPI-SIPI with that page as the start vector.
; The AP starts in real mode at CS:0 = page:0, enters protected mode, then
; long mode on the boot identity map, and calls params.entry(params.arg) on
; params.stack. Addresses are computed from CS at run time: the code is
; position-independent within its page.

%define TRAMP_PARAMS	0x400		; keep in sync with smp.c
%define MSR_IA32_EFER	0xc0000080
%define EFER_LME	(1 << 8)
%define EFER_NXE	(1 << 11)

section .trampoline
bits 16
global trampoline_begin
trampoline_begin:
	cli
	cld
	mov ax, cs
	mov ds, ax
	xor ebx, ebx
	mov bx, ax
	shl ebx, 4			; ebx = physical base of this page
	lea eax, [ebx + (gdt - trampoline_begin)]
	mov [gdtr - trampoline_begin + 2], eax
	lea eax, [ebx + (pm32 - trampoline_begin)]
	mov [pm32_ptr - trampoline_begin], eax
	lea eax, [ebx + (lm64 - trampoline_begin)]
	mov [lm64_ptr - trampoline_begin], eax
	lgdt [gdtr - trampoline_begin]
	mov eax, cr0
	or eax, 1			; PE
	mov cr0, eax
	jmp dword far [pm32_ptr - trampoline_begin]

bits 32
pm32:
	mov ax, 0x10
	mov ds, ax
	mov es, ax
	mov ss, ax
	mov eax, cr4
	or eax, (1 << 5)		; PAE
	mov cr4, eax
	mov eax, [ebx + TRAMP_PARAMS]	; params.cr3 (low half: below 4 GiB)
	mov cr3, eax
	mov ecx, MSR_IA32_EFER
	rdmsr
	or eax, EFER_LME | EFER_NXE
	wrmsr
	mov eax, cr0
	or eax, (1 << 31) | 1		; PG | PE
	mov cr0, eax
	jmp far [ebx + (lm64_ptr - trampoline_begin)]

bits 64
lm64:
	mov ax, 0x10
	mov ds, ax
	mov es, ax
	mov ss, ax
	mov rsp, [rbx + TRAMP_PARAMS + 16]	; params.stack
	mov rdi, [rbx + TRAMP_PARAMS + 24]	; params.arg
	mov rax, [rbx + TRAMP_PARAMS + 8]	; params.entry
	xor ebp, ebp
	call rax
.park:
	cli
	hlt
	jmp .park

align 8
gdt:
	dq 0
	dq 0x00cf9a000000ffff		; 0x08: 32-bit code
	dq 0x00cf92000000ffff		; 0x10: data
	dq 0x00af9a000000ffff		; 0x18: 64-bit code
gdt_end:
gdtr:
	dw gdt_end - gdt - 1
	dd 0
pm32_ptr:
	dd 0
	dw 0x08
lm64_ptr:
	dd 0
	dw 0x18
global trampoline_end
trampoline_end:
