; Reset path shared by every test-guest ROM (docs/vsi-platform.md "CPUs").
; vCPU 0 starts at 0xFFFFFFF0 in real mode with CS.base 0xFFFF0000; the
; reset vector jumps (near, so CS.base stays) to reset_entry in the same
; 64 KiB, which enters protected mode on the ROM's GDT, builds an identity
; map of the low 4 GiB with 2 MiB pages in RAM, enters long mode and calls
; lib_main() on the boot stack.
;
; Nothing here writes the ROM: the descriptors have their accessed bit
; preset, so loading a segment does not update the GDT (SDM Vol. 3 3.4.5),
; and the page tables live in .bss.
;
; APs start from a copy of ap_trampoline below 1 MiB (the SIPI vector), take
; the next stack from ap_stack_base and call lib_ap_main(slot).

%define CR0_PE		(1 << 0)
%define CR0_NW		(1 << 29)
%define CR0_CD		(1 << 30)
%define CR0_PG		(1 << 31)
%define CR4_PAE		(1 << 5)
%define MSR_IA32_EFER	0xc0000080
%define EFER_LME	(1 << 8)
%define PTE_P		(1 << 0)
%define PTE_W		(1 << 1)
%define PTE_PS		(1 << 7)

%define SEL_CODE32	0x08
%define SEL_DATA	0x10
%define SEL_CODE64	0x18

%define RESET_SIZE	0x100		; keep in sync with rom.ld
%define AP_STACK_SHIFT	12		; AP_STACK_SIZE in guest.h
%define BOOT_STACK_SIZE	0x4000

; Offset from CS.base 0xFFFF0000 of a label in .reset (the last RESET_SIZE
; bytes below 4 GiB).
%define RESET_OFF(l)	(0x10000 - RESET_SIZE + ((l) - $$))

extern __bss_start, __bss_end, __data_start, __data_end, __data_load
extern lib_main, lib_ap_main

global reset_vector, boot_pml4, boot_pdpt
global ap_trampoline, ap_trampoline_end, ap_stack_base, ap_stack_count

; Long-mode switch common to vCPU 0 and the APs (SDM Vol. 3 10.8.5):
; PAE, CR3, EFER.LME, then paging; caches on (CR0 resets with CD and NW).
%macro ENTER_LONG_MODE 1
	mov eax, cr4
	or eax, CR4_PAE
	mov cr4, eax
	mov eax, boot_pml4
	mov cr3, eax
	mov ecx, MSR_IA32_EFER
	rdmsr
	or eax, EFER_LME
	wrmsr
	mov eax, cr0
	and eax, ~(CR0_CD | CR0_NW)
	or eax, CR0_PG | CR0_PE
	mov cr0, eax
	jmp SEL_CODE64:%1
%endmacro

section .reset progbits alloc exec nowrite align=16
bits 16
reset_entry:
	cli
	cld
	o32 lgdt [cs:RESET_OFF(gdt_ptr)]
	mov eax, cr0
	or eax, CR0_PE
	mov cr0, eax
	jmp dword SEL_CODE32:entry32

align 8
gdt:
	dq 0
	dq 0x00cf9b000000ffff		; 0x08: 32-bit code, accessed
	dq 0x00cf93000000ffff		; 0x10: data, accessed
	dq 0x00af9b000000ffff		; 0x18: 64-bit code, accessed
gdt_end:
gdt_ptr:
	dw gdt_end - gdt - 1
	dd gdt

	times RESET_SIZE - 16 - ($ - $$) db 0
reset_vector:				; 0xFFFFFFF0
	jmp near reset_entry
	times RESET_SIZE - ($ - $$) db 0

section .text
bits 32
entry32:
	mov ax, SEL_DATA
	mov ds, ax
	mov es, ax
	mov ss, ax
	mov fs, ax
	mov gs, ax

	mov edi, __bss_start		; zero .bss (page tables included)
	mov ecx, __bss_end
	sub ecx, edi
	shr ecx, 2
	xor eax, eax
	rep stosd

	mov esi, __data_load		; copy .data from the ROM
	mov edi, __data_start
	mov ecx, __data_end
	sub ecx, edi
	shr ecx, 2
	rep movsd

	mov dword [boot_pml4], boot_pdpt + (PTE_P | PTE_W)
	mov edi, boot_pdpt
	mov eax, boot_pd + (PTE_P | PTE_W)
	mov ecx, 4
.pdpt:
	mov [edi], eax
	add eax, 0x1000
	add edi, 8
	loop .pdpt

	mov edi, boot_pd		; 2048 x 2 MiB = 4 GiB, identity
	mov eax, PTE_P | PTE_W | PTE_PS
	mov ecx, 2048
.pd:
	mov [edi], eax
	add eax, 0x200000
	add edi, 8
	loop .pd

	ENTER_LONG_MODE entry64

ap_entry32:
	mov ax, SEL_DATA
	mov ds, ax
	mov es, ax
	mov ss, ax
	mov fs, ax
	mov gs, ax
	ENTER_LONG_MODE ap_entry64

bits 64
entry64:
	mov rsp, boot_stack + BOOT_STACK_SIZE
	xor ebp, ebp
	call lib_main
.park:
	cli
	hlt
	jmp .park

; Each AP takes a slot with an atomic increment, so APs that arrive late or
; together still get distinct stacks; extra APs park.
ap_entry64:
	mov eax, 1
	lock xadd [ap_next_slot], eax
	cmp eax, [ap_stack_count]
	jae .park
	mov edi, eax
	inc eax
	shl rax, AP_STACK_SHIFT
	add rax, [ap_stack_base]
	mov rsp, rax
	xor ebp, ebp
	call lib_ap_main
.park:
	cli
	hlt
	jmp .park

; Real-mode AP entry, copied to a page below 1 MiB: CS = page >> 4, IP = 0.
; Position-independent: only CS-relative offsets and absolute ROM addresses.
bits 16
ap_trampoline:
	cli
	cld
	o32 lgdt [cs:ap_gdt_ptr - ap_trampoline]
	mov eax, cr0
	or eax, CR0_PE
	mov cr0, eax
	jmp dword SEL_CODE32:ap_entry32
ap_gdt_ptr:
	dw gdt_end - gdt - 1
	dd gdt
ap_trampoline_end:

section .data
align 8
ap_stack_base:	dq 0
ap_stack_count:	dd 0
ap_next_slot:	dd 0

section .bss.pagetables nobits alloc write align=4096
boot_pml4:	resb 0x1000
boot_pdpt:	resb 0x1000
boot_pd:	resb 0x4000

section .bss nobits alloc write align=16
boot_stack:	resb BOOT_STACK_SIZE
