/* COM1, a 16550 at 0x3F8, polled. Lines go out whole under one spinlock so
 * vCPUs do not interleave; a vCPU that cannot get the lock for long (its
 * holder faulted) takes it anyway rather than hang. */
#include "cpu.h"

#define COM1_BASE 0x3f8
#define UART_THR  0 /* with LCR.DLAB = 0 */
#define UART_DLL  0 /* with LCR.DLAB = 1 */
#define UART_IER  1
#define UART_DLM  1
#define UART_FCR  2
#define UART_LCR  3
#define UART_MCR  4
#define UART_LSR  5

#define LCR_8N1	       0x03
#define LCR_DLAB_BIT   (1U << 7)
#define FCR_ENABLE_BIT (1U << 0)
#define FCR_CLEAR_RX   (1U << 1)
#define FCR_CLEAR_TX   (1U << 2)
#define MCR_DTR_BIT    (1U << 0)
#define MCR_RTS_BIT    (1U << 1)
#define LSR_THRE_BIT   (1U << 5)

#define UART_DIVISOR_115200 1
#define THRE_POLL_LIMIT	    100000
#define LOCK_SPIN_LIMIT	    100000000UL

static volatile uint32_t uart_lock;

void uart_init(void)
{
	outb(COM1_BASE + UART_IER, 0);
	outb(COM1_BASE + UART_LCR, LCR_DLAB_BIT);
	outb(COM1_BASE + UART_DLL, UART_DIVISOR_115200);
	outb(COM1_BASE + UART_DLM, 0);
	outb(COM1_BASE + UART_LCR, LCR_8N1);
	outb(COM1_BASE + UART_FCR, FCR_ENABLE_BIT | FCR_CLEAR_RX | FCR_CLEAR_TX);
	outb(COM1_BASE + UART_MCR, MCR_DTR_BIT | MCR_RTS_BIT);
}

/* Waits for THRE, bounded: a missing UART reads all ones anyway. */
static void uart_putc(char c)
{
	for (int i = 0; i < THRE_POLL_LIMIT; i++) {
		if (inb(COM1_BASE + UART_LSR) & LSR_THRE_BIT)
			break;
	}
	outb(COM1_BASE + UART_THR, (uint8_t)c);
}

static void uart_lock_take(void)
{
	for (uint64_t spins = 0; __atomic_exchange_n(&uart_lock, 1, __ATOMIC_ACQUIRE); spins++) {
		if (spins > LOCK_SPIN_LIMIT)
			return;
		cpu_relax();
	}
}

static void uart_lock_give(void)
{
	__atomic_store_n(&uart_lock, 0, __ATOMIC_RELEASE);
}

/* Writes s[0..len) as is; the caller supplies the newline. */
void uart_write_line(const char *s, size_t len)
{
	uart_lock_take();
	for (size_t i = 0; i < len; i++)
		uart_putc(s[i]);
	uart_lock_give();
}
