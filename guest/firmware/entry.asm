; Reset path of the firmware ROM (docs/firmware.md "Start").
;
; vCPU 0 starts at 0xFFFFFFF0 in real mode with CS.base 0xFFFF0000. The
; reset vector jumps (near) to reset16 in the ROM's last 4 KiB, which reads
; the TSC first thing, enters 32-bit protected mode on the ROM's GDT, copies
; the firmware image from the ROM to FW_IMAGE_BASE in RAM, zeroes .bss,
; builds an identity map of the low 4 GiB (2 MiB pages, the top GiB
; uncached for device BARs), enters long mode and calls fw_main(reset_tsc)
; on the boot stack. Nothing here writes the ROM: the descriptors have their
; accessed bit preset (SDM Vol. 3 3.4.5).
;
; The ROM is [padding][image][tail]: the image (text, rodata, data linked at
; FW_IMAGE_BASE) ends where this 4 KiB tail begins, at 0xFFFFF000.

%define CR0_PE		(1 << 0)
%define CR0_NW		(1 << 29)
%define CR0_CD		(1 << 30)
%define CR0_PG		(1 << 31)
%define CR4_PAE		(1 << 5)
%define MSR_IA32_EFER	0xc0000080
%define EFER_LME	(1 << 8)
%define PTE_P		(1 << 0)
%define PTE_W		(1 << 1)
%define PTE_PWT		(1 << 3)
%define PTE_PCD		(1 << 4)
%define PTE_PS		(1 << 7)
%define CPUID_LM	29		; CPUID 0x80000001 EDX

%define SEL_CODE32	0x08		; layout.h
%define SEL_CODE64	0x10
%define SEL_DATA	0x18

%define PT_BASE		0x1000		; layout.h FW_PT_BASE
%define PML4		PT_BASE
%define PDPT		(PT_BASE + 0x1000)
%define PD		(PT_BASE + 0x2000)	; 4 pages: 2048 x 2 MiB
%define PT_PAGES	6
%define UC_FROM_PDE	1536		; 3 GiB / 2 MiB: PCI BARs, IOAPIC, LAPIC, ROM

%define TAIL_BASE	0xFFFFF000
%define TAIL_SIZE	0x1000
%define BOOT_STACK_SIZE	0x4000
%define COM1		0x3F8

; Offset from CS.base 0xFFFF0000 of a label in .romtail.
%define CS_OFF(l)	(TAIL_BASE - 0xFFFF0000 + ((l) - $$))

extern __image_start, __image_size, __image_load, __bss_start, __bss_end
extern fw_main
global reset_vector, fw_gdt, fw_gdt_end

section .romtail progbits alloc exec nowrite align=16
bits 16
reset16:
	cli
	cld
	rdtsc				; reset timestamp: ESP:EBP until the stack exists
	mov esp, eax
	mov ebp, edx
	o32 lgdt [cs:CS_OFF(rom_gdt_ptr)]
	mov eax, cr0
	or eax, CR0_PE
	mov cr0, eax
	jmp dword SEL_CODE32:entry32

align 8
rom_gdt:
	dq 0
	dq 0x00cf9b000000ffff		; 0x08: 32-bit code, flat, accessed
	dq 0x00af9b000000ffff		; 0x10: 64-bit code, accessed
	dq 0x00cf93000000ffff		; 0x18: data, flat, accessed
rom_gdt_end:
rom_gdt_ptr:
	dw rom_gdt_end - rom_gdt - 1
	dd rom_gdt

bits 32
entry32:
	mov ax, SEL_DATA
	mov ds, ax
	mov es, ax
	mov ss, ax
	mov fs, ax
	mov gs, ax

	mov eax, 0x80000000		; long mode? (CPUID clobbers EBX, not ESP/EBP)
	cpuid
	cmp eax, 0x80000001
	jb no_long_mode
	mov eax, 0x80000001
	cpuid
	bt edx, CPUID_LM
	jnc no_long_mode

	mov esi, __image_load		; the image, from the ROM to RAM
	mov edi, __image_start
	mov ecx, __image_size
	shr ecx, 2
	rep movsd

	mov edi, __bss_start
	mov ecx, __bss_end
	sub ecx, edi
	shr ecx, 2
	xor eax, eax
	rep stosd

	mov edi, PT_BASE
	mov ecx, PT_PAGES * 1024
	rep stosd
	mov dword [PML4], PDPT + (PTE_P | PTE_W)
	mov dword [PDPT + 0], PD + 0x0000 + (PTE_P | PTE_W)
	mov dword [PDPT + 8], PD + 0x1000 + (PTE_P | PTE_W)
	mov dword [PDPT + 16], PD + 0x2000 + (PTE_P | PTE_W)
	mov dword [PDPT + 24], PD + 0x3000 + (PTE_P | PTE_W)
	mov edi, PD
	mov eax, PTE_P | PTE_W | PTE_PS
	xor ecx, ecx
.pde:
	cmp ecx, UC_FROM_PDE
	jne .store
	or eax, PTE_PCD | PTE_PWT
.store:
	mov [edi + ecx * 8], eax
	add eax, 0x200000
	inc ecx
	cmp ecx, 2048
	jb .pde

	mov eax, cr4			; SDM Vol. 3 10.8.5: PAE, CR3, LME, PG
	or eax, CR4_PAE
	mov cr4, eax
	mov eax, PML4
	mov cr3, eax
	mov ecx, MSR_IA32_EFER
	rdmsr
	or eax, EFER_LME
	wrmsr
	mov eax, cr0
	and eax, ~(CR0_CD | CR0_NW)	; caches on: CR0 resets with CD and NW
	or eax, CR0_PG | CR0_PE
	mov cr0, eax
	jmp SEL_CODE64:entry64

; No long mode: say so on COM1 (8N1, 115200) and stop.
no_long_mode:
	mov dx, COM1 + 3
	mov al, 0x80
	out dx, al
	mov dx, COM1
	mov al, 1
	out dx, al
	mov dx, COM1 + 1
	xor al, al
	out dx, al
	mov dx, COM1 + 3
	mov al, 3
	out dx, al
	mov esi, no_lm_msg
.next:
	lodsb
	test al, al
	jz .halt
	mov ah, al
	mov dx, COM1 + 5
.wait:
	in al, dx
	test al, 0x20
	jz .wait
	mov dx, COM1
	mov al, ah
	out dx, al
	jmp .next
.halt:
	cli
	hlt
	jmp .halt

no_lm_msg:
	db "fw: the CPU has no long mode (CPUID 0x80000001 EDX bit 29)", 13, 10
	db "fw: halted", 13, 10, 0

	times TAIL_SIZE - 16 - ($ - $$) db 0
reset_vector:				; 0xFFFFFFF0
	jmp near reset16
	times TAIL_SIZE - ($ - $$) db 0

section .text
bits 64
entry64:
	lgdt [fw_gdt_ptr]		; the RAM copy: the ROM is not touched again
	mov ax, SEL_DATA
	mov ds, ax
	mov es, ax
	mov ss, ax
	mov fs, ax
	mov gs, ax
	mov edi, esp			; reset TSC: EBP high, ESP low
	shl rbp, 32
	or rdi, rbp
	mov rsp, boot_stack + BOOT_STACK_SIZE
	xor ebp, ebp
	call fw_main
.park:
	cli
	hlt
	jmp .park

section .data
align 16
fw_gdt:
	dq 0
	dq 0x00cf9b000000ffff		; 0x08: 32-bit code, flat
	dq 0x00af9b000000ffff		; 0x10: 64-bit code
	dq 0x00cf93000000ffff		; 0x18: data, flat
	dq 0x0000890000000067		; 0x20: 32-bit TSS, base 0, limit 0x67 (PVH's TR)
fw_gdt_end:
align 8
	dw 0
fw_gdt_ptr:
	dw fw_gdt_end - fw_gdt - 1
	dq fw_gdt

section .bss
align 16
boot_stack:
	resb BOOT_STACK_SIZE

section .note.GNU-stack noalloc noexec nowrite progbits
