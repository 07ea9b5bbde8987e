/*
 * A small printf for the console: %c %s %d %i %u %x %X %p %%, the flags '0'
 * and '-', a field width, a precision for %s ("%.*s" too) and the length
 * modifiers l, ll and z. '\n' goes out as "\r\n".
 */
#include "console.h"

struct fmt_spec {
	bool zero, left;
	int width, prec;
};

static void put_char(char c)
{
	if (c == '\n')
		uart_putc('\r');
	uart_putc(c);
}

static void put_padded(const char *s, size_t n, const struct fmt_spec *sp)
{
	int pad = sp->width > (int)n ? sp->width - (int)n : 0;

	if (!sp->left) {
		for (; pad > 0; pad--)
			put_char(sp->zero ? '0' : ' ');
	}
	while (n--)
		put_char(*s++);
	for (; pad > 0; pad--)
		put_char(' ');
}

static void put_num(u64 v, unsigned int base, bool upper, bool neg, const struct fmt_spec *sp)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char buf[24];
	int i = sizeof(buf);
	struct fmt_spec s = *sp;

	do {
		buf[--i] = digits[v % base];
		v /= base;
	} while (v);
	if (neg) {
		if (s.zero && s.width > 0) {
			put_char('-');
			s.width--;
		} else {
			buf[--i] = '-';
		}
	}
	put_padded(buf + i, sizeof(buf) - i, &s);
}

/* Reads the flags, width and precision after '%'; returns the conversion character's position. */
static const char *parse_spec(const char *f, struct fmt_spec *sp, va_list *ap)
{
	*sp = (struct fmt_spec){ .prec = -1 };
	for (;; f++) {
		if (*f == '0')
			sp->zero = true;
		else if (*f == '-')
			sp->left = true;
		else
			break;
	}
	for (; *f >= '0' && *f <= '9'; f++)
		sp->width = sp->width * 10 + (*f - '0');
	if (*f == '.') {
		f++;
		sp->prec = 0;
		if (*f == '*') {
			sp->prec = va_arg(*ap, int);
			f++;
		}
		for (; *f >= '0' && *f <= '9'; f++)
			sp->prec = sp->prec * 10 + (*f - '0');
	}
	return f;
}

static void put_string(const char *s, const struct fmt_spec *sp)
{
	size_t n = 0;

	if (!s)
		s = "(null)";
	while (s[n] && (sp->prec < 0 || (int)n < sp->prec))
		n++;
	put_padded(s, n, sp);
}

void con_vprintf(const char *fmt, va_list ap)
{
	va_list args;

	va_copy(args, ap);
	for (const char *f = fmt; *f; f++) {
		struct fmt_spec sp;
		int lng = 0;

		if (*f != '%') {
			put_char(*f);
			continue;
		}
		f = parse_spec(f + 1, &sp, &args);
		for (; *f == 'l' || *f == 'z'; f++)
			lng++;
		switch (*f) {
		case 'c':
			put_char((char)va_arg(args, int));
			break;
		case 's':
			put_string(va_arg(args, const char *), &sp);
			break;
		case 'd':
		case 'i': {
			s64 v = lng ? va_arg(args, s64) : va_arg(args, int);

			put_num(v < 0 ? -(u64)v : (u64)v, 10, false, v < 0, &sp);
			break;
		}
		case 'u':
			put_num(lng ? va_arg(args, u64) : va_arg(args, unsigned int), 10, false,
				false, &sp);
			break;
		case 'x':
		case 'X':
			put_num(lng ? va_arg(args, u64) : va_arg(args, unsigned int), 16, *f == 'X',
				false, &sp);
			break;
		case 'p':
			put_char('0');
			put_char('x');
			put_num((u64)(uintptr_t)va_arg(args, void *), 16, false, false, &sp);
			break;
		case '%':
			put_char('%');
			break;
		default:
			put_char('%');
			if (!*f)
				f--;
			else
				put_char(*f);
			break;
		}
	}
	va_end(args);
}

void con_printf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	con_vprintf(fmt, ap);
	va_end(ap);
}

_Noreturn void fw_halt(void)
{
	con_printf("fw: halted\n");
	for (;;)
		__asm__ __volatile__("cli; hlt");
}

_Noreturn void fw_fatal(const char *fmt, ...)
{
	va_list ap;

	con_printf("fw: ");
	va_start(ap, fmt);
	con_vprintf(fmt, ap);
	va_end(ap);
	con_printf("\n");
	fw_halt();
}
