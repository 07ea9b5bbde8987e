/*
 * Basic types and the few library functions of the virtual firmware. The
 * firmware is freestanding; its portable parts (ACPI builder, GPT, FAT, BLS,
 * loaders) include only this header, so host tests can compile them against
 * libc by defining FW_HOSTED, which maps everything here onto <stdint.h>,
 * <stddef.h>, <stdbool.h> and <string.h>. The hypervisor builds the ACPI
 * builder into itself for OVMF VSIs with FW_IN_HV, which maps them onto its
 * own <hv/types.h> and <hv/string.h>.
 */
#ifndef FW_FWTYPES_H
#define FW_FWTYPES_H

#if defined(FW_IN_HV)
/* Built into the hypervisor: its own types, macros and string functions. */
#include <hv/string.h>
#include <hv/types.h>
#else
#ifdef FW_HOSTED
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#else
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
void *memmove(void *d, const void *s, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
#endif

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;
typedef int8_t s8;
typedef int16_t s16;
typedef int32_t s32;
typedef int64_t s64;

#define KiB (1024ULL)
#define MiB (1024ULL * KiB)
#define GiB (1024ULL * MiB)

#define ARRAY_SIZE(a)	 (sizeof(a) / sizeof((a)[0]))
#define ALIGN_UP(x, a)	 (((x) + ((a)-1)) & ~((u64)(a)-1))
#define ALIGN_DOWN(x, a) ((x) & ~((u64)(a)-1))
#define MIN(a, b)	 ((a) < (b) ? (a) : (b))
#define MAX(a, b)	 ((a) > (b) ? (a) : (b))
#define __packed	 __attribute__((packed))
#define __printf(a, b)	 __attribute__((format(printf, a, b)))
#endif

/* Errors are negative errno values, as in the hypervisor (numbers from Linux). */
#define FW_EIO	   5
#define FW_ENOEXEC 8
#define FW_ENOMEM  12
#define FW_EFAULT  14
#define FW_ENODEV  19
#define FW_ENOENT  2
#define FW_EINVAL  22
#define FW_EFBIG   27
#define FW_ENOSPC  28
#define FW_ERANGE  34
#define FW_ENOTSUP 95

#endif
