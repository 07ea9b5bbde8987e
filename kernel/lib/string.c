/* Freestanding string routines (the compiler may also emit calls to these). */
#include <hv/string.h>

/*
 * REP STOSQ/MOVSQ for the bulk, then bytes (SDM Vol. 1 7.3.9.3; DF is
 * clear in the kernel). Zeroing a VSI's RAM goes through here: a byte loop
 * held the service CPU, and every VSI's network and disk with it, for
 * seconds per GiB.
 */
void *memset(void *dst, int c, size_t n)
{
	u64 pattern = 0x0101010101010101ULL * (u8)c;
	void *d = dst;
	size_t q = n / 8, b = n % 8;

	asm volatile("rep stosq" : "+D"(d), "+c"(q) : "a"(pattern) : "memory");
	asm volatile("rep stosb" : "+D"(d), "+c"(b) : "a"(pattern) : "memory");
	return dst;
}

void *memcpy(void *dst, const void *src, size_t n)
{
	void *d = dst;
	const void *s = src;
	size_t q = n / 8, b = n % 8;

	asm volatile("rep movsq" : "+D"(d), "+S"(s), "+c"(q) : : "memory");
	asm volatile("rep movsb" : "+D"(d), "+S"(s), "+c"(b) : : "memory");
	return dst;
}

void *memmove(void *dst, const void *src, size_t n)
{
	u8 *d = dst;
	const u8 *s = src;

	if (d < s)
		return memcpy(dst, src, n);
	while (n--)
		d[n] = s[n];
	return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const u8 *x = a, *y = b;

	for (; n; n--, x++, y++)
		if (*x != *y)
			return *x - *y;
	return 0;
}

size_t strlen(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	return n;
}

size_t strnlen(const char *s, size_t max)
{
	size_t n = 0;

	while (n < max && s[n])
		n++;
	return n;
}

int strcmp(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return (u8)*a - (u8)*b;
}

int strncmp(const char *a, const char *b, size_t n)
{
	for (; n; n--, a++, b++) {
		if (*a != *b)
			return (u8)*a - (u8)*b;
		if (!*a)
			break;
	}
	return 0;
}

char *strchr(const char *s, int c)
{
	for (; *s; s++)
		if (*s == (char)c)
			return (char *)s;
	return c ? NULL : (char *)s;
}

size_t strlcpy(char *dst, const char *src, size_t size)
{
	size_t len = strlen(src);

	if (size) {
		size_t n = len < size - 1 ? len : size - 1;
		memcpy(dst, src, n);
		dst[n] = '\0';
	}
	return len;
}
