; 32-bit entries of the test kernels: PVH (ELF note), Multiboot 1 and
; Multiboot2 headers. Assembled once per kernel with -DPVH, -DMB1 (-DAOUT for
; the address fields) or -DMB2.
; Each saves EAX/EBX, takes its own stack and calls tk_main(eax, ebx).

extern tk_main
global start

%ifdef MB1
%ifdef AOUT
%define MB1_FLAGS 0x00010003			; and the address fields below
%else
%define MB1_FLAGS 0x00000003			; page-aligned modules, memory info
%endif
extern __load_end, __bss_end
section .multiboot progbits alloc noexec nowrite align=4
mb1_header:
	dd 0x1BADB002
	dd MB1_FLAGS
	dd -(0x1BADB002 + MB1_FLAGS)
%ifdef AOUT
	dd mb1_header				; header_addr
	dd mb1_header				; load_addr: the file from the header on
	dd __load_end				; load_end_addr
	dd __bss_end				; bss_end_addr
	dd start				; entry_addr
%endif
%endif

%ifdef MB2
%define MB2_MAGIC 0xE85250D6
section .multiboot progbits alloc noexec nowrite align=8
mb2_header:
	dd MB2_MAGIC, 0, mb2_header_end - mb2_header
	dd (0x100000000 - MB2_MAGIC - (mb2_header_end - mb2_header)) & 0xFFFFFFFF
	align 8
	dw 1, 0					; information request, required
	dd 8 + 4 * 4
	dd 1, 3, 6, 15				; cmdline, modules, memory map, new RSDP
	align 8
	dw 6, 0					; module alignment
	dd 8
	align 8
	dw 0, 0					; end
	dd 8
mb2_header_end:
%endif

%ifdef PVH
section .note.Xen note alloc noexec nowrite align=4
	dd 4, 4, 18				; XEN_ELFNOTE_PHYS32_ENTRY
	db "Xen", 0
	dd start
%endif

section .text
bits 32
start:
	mov esp, stack_top
	push ebx
	push eax
	call tk_main
.halt:
	cli
	hlt
	jmp .halt

section .bss
align 16
	resb 16384
stack_top:

section .note.GNU-stack noalloc noexec nowrite progbits
