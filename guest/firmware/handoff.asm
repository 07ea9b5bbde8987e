; The jumps out of the firmware (handoff.h). Both run on the identity map
; from the firmware's RAM copy, which stays mapped and intact until the jump;
; the 32-bit one ends in handoff_reloc, run from a copy in the hand-off area,
; which moves staged kernel segments over the firmware's own memory.

%define CR0_PE		(1 << 0)
%define CR0_ET		(1 << 4)
%define CR0_PG		(1 << 31)
%define MSR_IA32_EFER	0xc0000080
%define EFER_LME	(1 << 8)

%define SEL_CODE32	0x08		; layout.h
%define SEL_CODE64	0x10
%define SEL_DATA	0x18
%define SEL_TSS		0x20

; struct handoff_reloc_table (handoff.c)
%define RT_ENTRY	0
%define RT_EAX		4
%define RT_COUNT	8
%define RT_MOVES	12
%define MOVE_DST	0
%define MOVE_SRC	4
%define MOVE_LEN	8
%define MOVE_SIZE	12

global handoff_jump32, handoff_jump64, handoff_reloc, handoff_reloc_end

section .text
bits 64
; void handoff_jump32(u32 reloc [rdi], u32 table [rsi], u32 ebx [rdx], gdtr [rcx])
;
; Leaving long mode (SDM Vol. 3 10.8.5.4): to compatibility mode on a 32-bit
; code segment, paging off (which clears EFER.LMA), then EFER.LME off; then
; to the copy of handoff_reloc at reloc with EBP = table.
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
	mov ebp, esi
	jmp edi

; Position-independent, no stack: runs from its copy in the hand-off area
; once nothing of the firmware is needed. EBP = the table: each move copies
; len bytes from src (a staging copy) to dst (the segment's place, which may
; be the firmware's own memory); then EAX = table.eax, EBX unchanged, a jump
; to table.entry.
handoff_reloc:
	cld
	mov edx, [ebp + RT_COUNT]
	lea eax, [ebp + RT_MOVES]
.next:
	test edx, edx
	jz .go
	mov edi, [eax + MOVE_DST]
	mov esi, [eax + MOVE_SRC]
	mov ecx, [eax + MOVE_LEN]
	rep movsb
	add eax, MOVE_SIZE
	dec edx
	jmp .next
.go:
	mov edi, [ebp + RT_ENTRY]
	mov eax, [ebp + RT_EAX]
	xor ecx, ecx
	xor edx, edx
	xor esi, esi
	xor ebp, ebp
	jmp edi
handoff_reloc_end:

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
