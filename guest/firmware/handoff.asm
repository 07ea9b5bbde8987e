; The jumps out of the firmware (handoff.h). Both run on the identity map
; from the firmware's RAM copy, which stays mapped and intact until the jump.

%define CR0_PE		(1 << 0)
%define CR0_ET		(1 << 4)
%define CR0_PG		(1 << 31)
%define MSR_IA32_EFER	0xc0000080
%define EFER_LME	(1 << 8)

%define SEL_CODE32	0x08		; layout.h
%define SEL_CODE64	0x10
%define SEL_DATA	0x18
%define SEL_TSS		0x20

global handoff_jump32, handoff_jump64

section .text
bits 64
; void handoff_jump32(u32 entry [rdi], u32 eax [rsi], u32 ebx [rdx], gdtr [rcx])
;
; Leaving long mode (SDM Vol. 3 10.8.5.4): to compatibility mode on a 32-bit
; code segment, paging off (which clears EFER.LMA), then EFER.LME off.
handoff_jump32:
	cli
	lgdt [rcx]
	mov ebx, edx			; r8-r15 are gone in 32-bit code: EBX, ESI, EDI
	push SEL_CODE32
	lea rax, [rel .compat]
	push rax
	o64 retf
bits 32
.compat:
	mov ax, SEL_DATA
	mov ds, ax
	mov es, ax
	mov fs, ax
	mov gs, ax
	mov ss, ax
	mov eax, cr0
	and eax, ~CR0_PG
	mov cr0, eax
	mov ecx, MSR_IA32_EFER
	rdmsr
	and eax, ~EFER_LME
	wrmsr
	xor eax, eax
	mov cr4, eax
	mov cr3, eax
	mov eax, CR0_PE | CR0_ET	; caches on, no WP/NE/AM: "all other writable bits clear"
	mov cr0, eax
	mov ax, SEL_TSS
	ltr ax
	mov eax, esi
	xor ecx, ecx
	xor edx, edx
	xor esi, esi
	xor ebp, ebp
	jmp edi

bits 64
; void handoff_jump64(u64 entry [rdi], u64 rsi [rsi], gdtr [rdx])
handoff_jump64:
	cli
	lgdt [rdx]
	mov ax, SEL_DATA
	mov ds, ax
	mov es, ax
	mov ss, ax
	xor eax, eax
	mov fs, ax
	mov gs, ax
	push SEL_CODE64
	push rdi
	xor ebx, ebx
	xor ecx, ecx
	xor edx, edx
	xor edi, edi
	xor ebp, ebp
	xor r8d, r8d
	xor r9d, r9d
	xor r10d, r10d
	xor r11d, r11d
	xor r12d, r12d
	xor r13d, r13d
	xor r14d, r14d
	xor r15d, r15d
	o64 retf

section .note.GNU-stack noalloc noexec nowrite progbits
