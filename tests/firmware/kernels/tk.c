/*
 * Shared report code of the test kernels, built for 32-bit (PVH, Multiboot)
 * and 64-bit (bzImage) entry. Only the low 4 GiB is touched, identity mapped
 * or with paging off.
 */
#include <stdarg.h>

#include "tk.h"

#define COM1	  0x3F8
#define EXIT_PORT 0xF4

static inline void outb(uint16_t port, uint8_t v)
{
	__asm__ __volatile__("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint8_t inb(uint16_t port)
{
	uint8_t v;

	__asm__ __volatile__("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

void *memset(void *d, int c, size_t n)
{
	uint8_t *p = d;

	while (n--)
		*p++ = (uint8_t)c;
	return d;
}

void *memcpy(void *d, const void *s, size_t n)
{
	uint8_t *p = d;
	const uint8_t *q = s;

	while (n--)
		*p++ = *q++;
	return d;
}

size_t strlen(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	return n;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const uint8_t *x = a, *y = b;

	for (; n; n--, x++, y++)
		if (*x != *y)
			return *x - *y;
	return 0;
}

static void putc_raw(char c)
{
	while (!(inb(COM1 + 5) & 0x20))
		;
	outb(COM1, (uint8_t)c);
}

static void putc(char c)
{
	if (c == '\n')
		putc_raw('\r');
	putc_raw(c);
}

static void puts_n(const char *s, size_t n)
{
	while (n--)
		putc(*s++);
}

/* v /= d, returning the remainder, without libgcc's 64-bit division in 32-bit code. */
static uint32_t div_small(uint64_t *v, uint32_t d)
{
	uint32_t hi = (uint32_t)(*v >> 32), lo = (uint32_t)*v, r = hi % d, qlo;

	__asm__("divl %4" : "=a"(qlo), "=d"(r) : "a"(lo), "d"(r), "rm"(d));
	*v = (uint64_t)(hi / d) << 32 | qlo;
	return r;
}

static void put_num(uint64_t v, unsigned int base, int width)
{
	char buf[24];
	int i = sizeof(buf);

	do {
		buf[--i] = "0123456789abcdef"[div_small(&v, base)];
	} while (v);
	while (sizeof(buf) - i < (size_t)width)
		buf[--i] = '0';
	puts_n(buf + i, sizeof(buf) - i);
}

/* %s %c %u %x %lu %lx %llu %llx %02x (width with zero fill only). */
void tk_printf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	for (; *fmt; fmt++) {
		int longs = 0, width = 0;

		if (*fmt != '%') {
			putc(*fmt);
			continue;
		}
		fmt++;
		while (*fmt >= '0' && *fmt <= '9')
			width = width * 10 + (*fmt++ - '0');
		while (*fmt == 'l') {
			longs++;
			fmt++;
		}
		if (*fmt == 's') {
			const char *s = va_arg(ap, const char *);

			puts_n(s, strlen(s));
		} else if (*fmt == 'c') {
			putc((char)va_arg(ap, int));
		} else if (*fmt == 'u' || *fmt == 'x') {
			uint64_t v = longs == 2 ? va_arg(ap, unsigned long long)
				     : longs	? va_arg(ap, unsigned long)
						: va_arg(ap, unsigned int);

			put_num(v, *fmt == 'u' ? 10 : 16, width);
		}
	}
	va_end(ap);
}

void tk_init(const char *proto)
{
	outb(COM1 + 1, 0);
	outb(COM1 + 3, 0x80);
	outb(COM1 + 0, 1);
	outb(COM1 + 1, 0);
	outb(COM1 + 3, 0x03);
	tk_printf("tk: proto %s\n", proto);
}

void tk_report_cpu(void)
{
	unsigned long cr0, cr4, flags;
	uint16_t cs, ds, es, ss, tr;

	__asm__ __volatile__("mov %%cr0, %0" : "=r"(cr0));
	__asm__ __volatile__("mov %%cr4, %0" : "=r"(cr4));
	__asm__ __volatile__("pushf; pop %0" : "=r"(flags));
	__asm__ __volatile__("mov %%cs, %0" : "=r"(cs));
	__asm__ __volatile__("mov %%ds, %0" : "=r"(ds));
	__asm__ __volatile__("mov %%es, %0" : "=r"(es));
	__asm__ __volatile__("mov %%ss, %0" : "=r"(ss));
	__asm__ __volatile__("str %0" : "=r"(tr));
	tk_printf("tk: cpu cr0 %lx cr4 %lx eflags %lx cs %x ds %x es %x ss %x tr %x\n", cr0, cr4,
		  flags, cs, ds, es, ss, tr);
}

void tk_report_cmdline(const char *s)
{
	tk_printf("tk: cmdline \"%s\"\n", s ? s : "(none)");
}

/* CRC-32 (IEEE 802.3, reflected, as Python's zlib.crc32). */
static uint32_t crc32(const uint8_t *p, uint64_t n)
{
	uint32_t c = 0xFFFFFFFF;

	while (n--) {
		c ^= *p++;
		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ (0xEDB88320 & -(c & 1));
	}
	return ~c;
}

void tk_report_module(unsigned int i, uint64_t addr, uint64_t size, const char *string)
{
	const uint8_t *p = (const uint8_t *)(uintptr_t)addr;

	tk_printf("tk: module %u addr %llx size %llu crc %08x string \"%s\"\n", i,
		  (unsigned long long)addr, (unsigned long long)size, crc32(p, size),
		  string ? string : "");
}

void tk_report_mem(uint64_t addr, uint64_t size, uint32_t type)
{
	tk_printf("tk: mem %llx %llx %u\n", (unsigned long long)addr, (unsigned long long)size,
		  type);
}

static uint8_t sum(const uint8_t *p, uint32_t n)
{
	uint8_t s = 0;

	while (n--)
		s += *p++;
	return s;
}

static void hexdump(const char *what, uint64_t addr, uint32_t len)
{
	const uint8_t *p = (const uint8_t *)(uintptr_t)addr;

	tk_printf("tk: acpi %s %llx %u\n", what, (unsigned long long)addr, len);
	for (uint32_t off = 0; off < len; off += 32) {
		tk_printf("tk: hex ");
		for (uint32_t k = off; k < len && k < off + 32; k++)
			tk_printf("%02x", p[k]);
		tk_printf("\n");
	}
}

static uint32_t rd32(const uint8_t *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t rd64(const uint8_t *p)
{
	return rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

static void dump_table(uint64_t addr)
{
	const uint8_t *t = (const uint8_t *)(uintptr_t)addr;
	char sig[5] = { t[0], t[1], t[2], t[3], 0 };
	uint32_t len = rd32(t + 4);

	if (len < 36 || len > 65536) {
		tk_printf("tk: acpi table %s at %llx has a bad length %u\n", sig,
			  (unsigned long long)addr, len);
		return;
	}
	tk_printf("tk: acpi table %s checksum %s\n", sig, sum(t, len) ? "bad" : "ok");
	hexdump(sig, addr, len);
	if (!memcmp(sig, "FACP", 4)) {
		uint64_t dsdt = len >= 148 ? rd64(t + 140) : 0;

		dump_table(dsdt ? dsdt : rd32(t + 40));
	}
}

void tk_report_acpi(uint64_t rsdp)
{
	const uint8_t *r = (const uint8_t *)(uintptr_t)rsdp;
	uint64_t xsdt;
	const uint8_t *x;

	if (!rsdp || memcmp(r, "RSD PTR ", 8)) {
		tk_printf("tk: rsdp %llx missing\n", (unsigned long long)rsdp);
		return;
	}
	xsdt = r[15] >= 2 ? rd64(r + 24) : 0;
	tk_printf("tk: rsdp %llx rev %u checksum %s extended %s xsdt %llx\n",
		  (unsigned long long)rsdp, r[15], sum(r, 20) ? "bad" : "ok",
		  sum(r, 36) ? "bad" : "ok", (unsigned long long)xsdt);
	hexdump("RSDP", rsdp, 36);
	if (!xsdt)
		return;
	x = (const uint8_t *)(uintptr_t)xsdt;
	dump_table(xsdt);
	for (uint32_t off = 36; off + 8 <= rd32(x + 4); off += 8)
		dump_table(rd64(x + off));
}

/* Scans 0xE0000-0xFFFFF for the RSDP as a BIOS-era OS does. */
uint64_t tk_low_rsdp(void)
{
	for (uint32_t a = 0xE0000; a < 0x100000; a += 16) {
		const uint8_t *p = (const uint8_t *)(uintptr_t)a;

		if (!memcmp(p, "RSD PTR ", 8) && !sum(p, 20))
			return a;
	}
	return 0;
}

static void exit_qemu(uint8_t code)
{
	tk_printf("tk: low rsdp %llx\n", (unsigned long long)tk_low_rsdp());
	tk_printf("tk: done\n");
	outb(EXIT_PORT, code);
	for (;;)
		__asm__ __volatile__("cli; hlt");
}

_Noreturn void tk_done(void)
{
	exit_qemu(0);
	__builtin_unreachable();
}

_Noreturn void tk_fail(const char *why)
{
	tk_printf("tk: FAIL %s\n", why);
	exit_qemu(1);
	__builtin_unreachable();
}
