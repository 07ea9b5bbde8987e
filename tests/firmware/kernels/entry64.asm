; 64-bit entry of the bzImage test kernel: the protected-mode part is linked
; at its pref_address, 0x1000000; the 64-bit boot protocol enters at +0x200
; with RSI = boot_params. tk_main(boot_params, cs, ds) runs on its own stack.

extern tk_main
global start

section .head progbits alloc exec nowrite
	times 0x200 db 0xF4			; startup_32 would be here: hlt

section .text
bits 64
start:
	mov rsp, stack_top
	mov rdi, rsi
	xor esi, esi
	mov si, cs
	xor edx, edx
	mov dx, ds
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
