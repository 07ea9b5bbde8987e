/*
 * Port I/O, MMIO and CPU primitives of the firmware. Device registers are
 * touched only through these: plain IN/OUT (no string I/O) and single MOV
 * loads and stores of the register's width, the forms the hypervisor's
 * MMIO decoder (arch/x86_64/include/asm/decode.h) and I/O exit handler
 * accept.
 */
#ifndef FW_IO_H
#define FW_IO_H

#include "fwtypes.h"

static inline void outb(u16 port, u8 v)
{
	__asm__ __volatile__("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline void outw(u16 port, u16 v)
{
	__asm__ __volatile__("outw %0, %1" : : "a"(v), "Nd"(port));
}

static inline void outl(u16 port, u32 v)
{
	__asm__ __volatile__("outl %0, %1" : : "a"(v), "Nd"(port));
}

static inline u8 inb(u16 port)
{
	u8 v;

	__asm__ __volatile__("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline u32 inl(u16 port)
{
	u32 v;

	__asm__ __volatile__("inl %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline u8 mmio_read8(const volatile void *p)
{
	u8 v;

	__asm__ __volatile__("movb %1, %0" : "=q"(v) : "m"(*(const volatile u8 *)p));
	return v;
}

static inline u16 mmio_read16(const volatile void *p)
{
	u16 v;

	__asm__ __volatile__("movw %1, %0" : "=r"(v) : "m"(*(const volatile u16 *)p));
	return v;
}

static inline u32 mmio_read32(const volatile void *p)
{
	u32 v;

	__asm__ __volatile__("movl %1, %0" : "=r"(v) : "m"(*(const volatile u32 *)p));
	return v;
}

static inline void mmio_write8(volatile void *p, u8 v)
{
	__asm__ __volatile__("movb %1, %0" : "=m"(*(volatile u8 *)p) : "q"(v));
}

static inline void mmio_write16(volatile void *p, u16 v)
{
	__asm__ __volatile__("movw %1, %0" : "=m"(*(volatile u16 *)p) : "r"(v));
}

static inline void mmio_write32(volatile void *p, u32 v)
{
	__asm__ __volatile__("movl %1, %0" : "=m"(*(volatile u32 *)p) : "r"(v));
}

/* 64-bit device fields as two 32-bit halves, low first (VIRTIO 1.2 4.1.3.1). */
static inline void mmio_write64(volatile void *p, u64 v)
{
	mmio_write32(p, (u32)v);
	mmio_write32((volatile u8 *)p + 4, (u32)(v >> 32));
}

static inline u64 rdtsc(void)
{
	u32 lo, hi;

	__asm__ __volatile__("rdtsc" : "=a"(lo), "=d"(hi));
	return ((u64)hi << 32) | lo;
}

static inline void cpuid(u32 leaf, u32 *a, u32 *b, u32 *c, u32 *d)
{
	__asm__ __volatile__("cpuid" : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d) : "a"(leaf), "c"(0));
}

static inline void cpu_relax(void)
{
	__asm__ __volatile__("pause" ::: "memory");
}

/* Orders the compiler's memory accesses; x86 keeps stores in order (TSO). */
#define barrier() __asm__ __volatile__("" ::: "memory")

/* A full fence: ring stores are visible before a device is notified. */
static inline void mb(void)
{
	__asm__ __volatile__("mfence" ::: "memory");
}

#endif
