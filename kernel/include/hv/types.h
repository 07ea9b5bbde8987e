/* Fixed-width types shared by the image, the UEFI loader and host tests. */
#ifndef HV_TYPES_H
#define HV_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;
typedef int8_t s8;
typedef int16_t s16;
typedef int32_t s32;
typedef int64_t s64;

#define ARRAY_SIZE(a)	    (sizeof(a) / sizeof((a)[0]))
#define ALIGN_UP(x, a)	    (((x) + ((a)-1)) & ~((u64)(a)-1))
#define ALIGN_DOWN(x, a)    ((x) & ~((u64)(a)-1))
#define IS_ALIGNED(x, a)    (((x) & ((u64)(a)-1)) == 0)
#define MIN(a, b)	    ((a) < (b) ? (a) : (b))
#define MAX(a, b)	    ((a) > (b) ? (a) : (b))
#define BIT(n)		    (1ULL << (n))
#define __packed	    __attribute__((packed))
#define __aligned(n)	    __attribute__((aligned(n)))
#define __noreturn	    __attribute__((noreturn))
#define __printf(fmt, args) __attribute__((format(printf, fmt, args)))
#define __unused	    __attribute__((unused))

#define KiB 1024ULL
#define MiB (1024ULL * KiB)
#define GiB (1024ULL * MiB)

#define PAGE_SIZE  4096ULL
#define PAGE_SHIFT 12

#endif
