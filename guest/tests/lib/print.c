/* Formatted output: a printf subset (%d %i %u %x %X %p %s %c %%, flags '0'
 * and '-', a width, length modifiers l, ll, z) and the verdict lines of the
 * output grammar in README.md. */
#include "guest.h"

#define LINE_MAX 200

struct out {
	char *buf;
	size_t size, len;
};

static void out_char(struct out *o, char c)
{
	if (o->len + 1 < o->size)
		o->buf[o->len] = c;
	o->len++;
}

static void out_pad(struct out *o, char c, int n)
{
	while (n-- > 0)
		out_char(o, c);
}

struct spec {
	bool zero, left;
	int width;
};

static void out_str(struct out *o, const char *s, const struct spec *sp)
{
	int len = 0;

	while (s[len])
		len++;
	if (!sp->left)
		out_pad(o, ' ', sp->width - len);
	for (int i = 0; i < len; i++)
		out_char(o, s[i]);
	if (sp->left)
		out_pad(o, ' ', sp->width - len);
}

static void out_num(struct out *o, uint64_t v, bool neg, unsigned int base, bool upper,
		    const struct spec *sp)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char tmp[24];
	int n = 0, len;

	do {
		tmp[n++] = digits[v % base];
		v /= base;
	} while (v);
	len = n + neg;
	if (!sp->left && !sp->zero)
		out_pad(o, ' ', sp->width - len);
	if (neg)
		out_char(o, '-');
	if (!sp->left && sp->zero)
		out_pad(o, '0', sp->width - len);
	while (n)
		out_char(o, tmp[--n]);
	if (sp->left)
		out_pad(o, ' ', sp->width - len);
}

/* One conversion at *fmt (just past '%'); returns the next character. */
static const char *out_conv(struct out *o, const char *fmt, va_list *ap)
{
	struct spec sp = { 0 };
	int lng = 0;
	uint64_t u;
	int64_t s;

	for (;; fmt++) {
		if (*fmt == '0')
			sp.zero = true;
		else if (*fmt == '-')
			sp.left = true;
		else
			break;
	}
	while (*fmt >= '0' && *fmt <= '9')
		sp.width = sp.width * 10 + (*fmt++ - '0');
	while (*fmt == 'l' || *fmt == 'z') {
		lng++;
		fmt++;
	}
	switch (*fmt) {
	case 'd':
	case 'i':
		s = lng ? va_arg(*ap, int64_t) : va_arg(*ap, int);
		out_num(o, s < 0 ? -(uint64_t)s : (uint64_t)s, s < 0, 10, false, &sp);
		break;
	case 'u':
	case 'x':
	case 'X':
		u = lng ? va_arg(*ap, uint64_t) : va_arg(*ap, unsigned int);
		out_num(o, u, false, *fmt == 'u' ? 10 : 16, *fmt == 'X', &sp);
		break;
	case 'p':
		out_str(o, "0x", &(struct spec){ 0 });
		out_num(o, (uintptr_t)va_arg(*ap, void *), false, 16, false, &sp);
		break;
	case 's':
		out_str(o, va_arg(*ap, const char *), &sp);
		break;
	case 'c':
		out_char(o, (char)va_arg(*ap, int));
		break;
	case '%':
		out_char(o, '%');
		break;
	default:
		return fmt;
	}
	return fmt + 1;
}

/* Like vsnprintf: always terminates, returns the length it wanted. */
int vsnprint(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct out o = { buf, size, 0 };
	va_list aq;

	va_copy(aq, ap);
	while (*fmt) {
		if (*fmt != '%')
			out_char(&o, *fmt++);
		else
			fmt = out_conv(&o, fmt + 1, &aq);
	}
	va_end(aq);
	if (size)
		buf[o.len < size ? o.len : size - 1] = '\0';
	return (int)o.len;
}

int snprint(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprint(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

/* prefix + formatted text + "\n", written as one line. */
static void say_line(const char *prefix, const char *fmt, va_list ap)
{
	char line[LINE_MAX];
	int n = snprint(line, sizeof(line) - 1, "%s", prefix);

	if (n > (int)sizeof(line) - 2)
		n = sizeof(line) - 2;
	n += vsnprint(line + n, sizeof(line) - 1 - n, fmt, ap);
	if (n > (int)sizeof(line) - 2)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	uart_write_line(line, n);
}

void print(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	say_line("", fmt, ap);
	va_end(ap);
}

/* "GUEST <name>: ..." */
void guest_say(const char *fmt, ...)
{
	char prefix[40];
	va_list ap;

	snprint(prefix, sizeof(prefix), "GUEST %s: ", guest_name);
	va_start(ap, fmt);
	say_line(prefix, fmt, ap);
	va_end(ap);
}

void expect_ok(const char *what)
{
	print("EXPECT %s: ok", what);
}

/* "EXPECT <what>: FAIL (<details>)" */
void expect_fail(const char *what, const char *fmt, ...)
{
	char details[LINE_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprint(details, sizeof(details), fmt, ap);
	va_end(ap);
	print("EXPECT %s: FAIL (%s)", what, details);
}
