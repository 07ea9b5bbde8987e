/* Port I/O. */
#ifndef ASM_IO_H
#define ASM_IO_H

#include <hv/types.h>

static inline void outb(u16 port, u8 v)
{
	asm volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline u8 inb(u16 port)
{
	u8 v;
	asm volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline void outw(u16 port, u16 v)
{
	asm volatile("outw %0, %1" : : "a"(v), "Nd"(port));
}

static inline void outl(u16 port, u32 v)
{
	asm volatile("outl %0, %1" : : "a"(v), "Nd"(port));
}

static inline u32 inl(u16 port)
{
	u32 v;
	asm volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline u32 mmio_read32(u64 addr)
{
	return *(volatile u32 *)(uintptr_t)addr;
}

static inline void mmio_write32(u64 addr, u32 v)
{
	*(volatile u32 *)(uintptr_t)addr = v;
}

static inline u8 mmio_read8(u64 addr)
{
	return *(volatile u8 *)(uintptr_t)addr;
}

static inline void mmio_write8(u64 addr, u8 v)
{
	*(volatile u8 *)(uintptr_t)addr = v;
}

static inline u16 mmio_read16(u64 addr)
{
	return *(volatile u16 *)(uintptr_t)addr;
}

static inline void mmio_write16(u64 addr, u16 v)
{
	*(volatile u16 *)(uintptr_t)addr = v;
}

static inline void mmio_write64(u64 addr, u64 v)
{
	*(volatile u64 *)(uintptr_t)addr = v;
}

#endif
