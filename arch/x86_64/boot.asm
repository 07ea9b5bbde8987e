; Entry points of the hypervisor image.
;
; mb2_entry:  32-bit protected mode from a Multiboot2 loader (GRUB). Builds
;             nothing at run time: the boot page tables below are static.
; hv_entry64: 64-bit entry (the ELF entry point), used by the UEFI loader.
;
; Both switch to the boot GDT, the boot page tables (identity map of the low
; 4 GiB with 2 MiB pages) and the boot stack, then call into C.

%define MB2_MAGIC		0xe85250d6
%define MB2_ARCH_I386		0
%define MB2_LOADER_MAGIC	0x36d76289
%define MB2_TAG_END		0
%define MB2_TAG_ENTRY		3
%define MB2_TAG_MODULE_ALIGN	6

%define CR0_PE			(1 << 0)
%define CR0_PG			(1 << 31)
%define CR4_PAE			(1 << 5)
%define MSR_IA32_EFER		0xc0000080
%define EFER_LME		(1 << 8)
%define EFER_NXE		(1 << 11)

%define PTE_P			(1 << 0)
%define PTE_W			(1 << 1)
%define PTE_PS			(1 << 7)

%define BOOT_CS64		0x08
%define BOOT_DS			0x10
%define BOOT_STACK_SIZE		(32 * 1024)

extern mb2_main
extern kernel_main

section .multiboot2
align 8
mb2_header:
	dd MB2_MAGIC
	dd MB2_ARCH_I386
	dd mb2_header_end - mb2_header
	dd -(MB2_MAGIC + MB2_ARCH_I386 + (mb2_header_end - mb2_header))
align 8
	dw MB2_TAG_ENTRY, 0		; the i386 entry, not the ELF entry
	dd 12
	dd mb2_entry
align 8
	dw MB2_TAG_MODULE_ALIGN, 0	; page-aligned modules
	dd 8
align 8
	dw MB2_TAG_END, 0
	dd 8
mb2_header_end:

section .text.boot
bits 32
global mb2_entry
mb2_entry:
	cli
	cld
	mov esp, boot_stack_top
	mov edi, eax			; loader magic
	mov esi, ebx			; physical address of the boot information
	cmp edi, MB2_LOADER_MAGIC
	jne .not_mb2

	; Long mode needs CPUID 0x80000001 EDX.LM[29].
	mov eax, 0x80000000
	cpuid
	cmp eax, 0x80000001
	jb .no_long_mode
	mov eax, 0x80000001
	cpuid
	test edx, (1 << 29)
	jz .no_long_mode

	lgdt [boot_gdtr]
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
	or eax, CR0_PG | CR0_PE
	mov cr0, eax
	jmp BOOT_CS64:.long_mode

.not_mb2:
	mov esi, msg_not_mb2
	jmp early_fail32
.no_long_mode:
	mov esi, msg_no_lm
	jmp early_fail32

bits 64
.long_mode:
	mov ax, BOOT_DS
	mov ds, ax
	mov es, ax
	mov ss, ax
	xor eax, eax
	mov fs, ax
	mov gs, ax
	mov rsp, boot_stack_top
	; edi = loader magic, esi = info address (zero-extended by the 32-bit movs)
	xor ebp, ebp
	call mb2_main
.hang:
	cli
	hlt
	jmp .hang

; 64-bit entry from the UEFI loader: %rdi = struct boot_info *.
global hv_entry64
hv_entry64:
	cli
	cld
	lgdt [boot_gdtr]
	mov rax, boot_pml4
	mov cr3, rax
	mov rsp, boot_stack_top
	mov ax, BOOT_DS
	mov ds, ax
	mov es, ax
	mov ss, ax
	xor eax, eax
	mov fs, ax
	mov gs, ax
	; Reload CS through a far return.
	push BOOT_CS64
	lea rax, [rel .reload_cs]
	push rax
	retfq
.reload_cs:
	xor ebp, ebp
	call kernel_main
	jmp mb2_entry.hang

; Print a NUL-terminated string at esi to COM1 and stop (32-bit, pre-C).
bits 32
early_fail32:
	mov dx, 0x3fb			; LCR: 8N1, DLAB set to program the divisor
	mov al, 0x83
	out dx, al
	mov dx, 0x3f8
	mov al, 1			; divisor 1: 115200 baud
	out dx, al
	mov dx, 0x3f9
	xor al, al
	out dx, al
	mov dx, 0x3fb
	mov al, 0x03
	out dx, al
.next:
	lodsb
	test al, al
	jz .stop
	mov ah, al
	mov dx, 0x3fd
.wait:
	in al, dx
	test al, 0x20
	jz .wait
	mov al, ah
	mov dx, 0x3f8
	out dx, al
	jmp .next
.stop:
	cli
	hlt
	jmp .stop

section .rodata
msg_not_mb2:	db "hv: fatal: not started by a Multiboot2 loader", 13, 10, 0
msg_no_lm:	db "hv: fatal: this CPU has no long mode (CPUID 0x80000001 EDX.LM)", 13, 10, 0

section .data
align 16
; null, 64-bit code, data; the per-CPU GDT replaces it in cpu_init().
boot_gdt:
	dq 0
	dq 0x00af9a000000ffff
	dq 0x00cf92000000ffff
boot_gdt_end:
boot_gdtr:
	dw boot_gdt_end - boot_gdt - 1
	dq boot_gdt

; Identity map of [0, 4 GiB) with 2 MiB pages, used until paging_init() and
; by the APs' trampoline. Static, so neither entry path has to build it.
align 4096
global boot_pml4
boot_pml4:
	dq boot_pdpt + PTE_P + PTE_W
	times 511 dq 0
boot_pdpt:
%assign i 0
%rep 4
	dq boot_pd + i * 4096 + PTE_P + PTE_W
%assign i i + 1
%endrep
	times 508 dq 0
boot_pd:
%assign i 0
%rep 2048
	dq (i << 21) + PTE_P + PTE_W + PTE_PS
%assign i i + 1
%endrep

section .bss
align 16
boot_stack:
	resb BOOT_STACK_SIZE
global boot_stack_top
boot_stack_top:
