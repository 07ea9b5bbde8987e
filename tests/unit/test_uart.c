/*
 * The VSI's 16550 (kernel/vdev/uart.c): the receive side the console's
 * attach feeds, against stubs for the console and the interrupt line.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include <hv/vsi.h>

#define RBR 0
#define IER 1
#define IIR 2
#define MCR 4
#define LSR 5

static char printed[4096];
static size_t printed_len;
static int irq_level = -1;

void console_printf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	printed_len +=
	    (size_t)vsnprintf(printed + printed_len, sizeof(printed) - printed_len, fmt, ap);
	va_end(ap);
}

void vsi_platform_set_irq(struct vsi *v, u32 pin, bool level)
{
	(void)v;
	assert_int_equal(pin, VSI_UART_IRQ);
	irq_level = level;
}

static struct vsi vsi;

static void fresh(void)
{
	memset(&vsi, 0, sizeof(vsi));
	vsi.name = "g";
	printed_len = 0;
	printed[0] = '\0';
	irq_level = -1;
}

/* Typed bytes come out of RBR in order, with data-ready while any is left. */
static void test_receive_order(void **state)
{
	(void)state;
	fresh();
	assert_int_equal(vsi_uart_read(&vsi, LSR) & 1, 0);
	assert_int_equal(vsi_uart_read(&vsi, RBR), 0);
	assert_true(vsi_uart_receive(&vsi, 'h'));
	assert_true(vsi_uart_receive(&vsi, 'i'));
	assert_int_equal(vsi_uart_read(&vsi, LSR), 0x61);
	assert_int_equal(vsi_uart_read(&vsi, RBR), 'h');
	assert_int_equal(vsi_uart_read(&vsi, RBR), 'i');
	assert_int_equal(vsi_uart_read(&vsi, LSR), 0x60);
}

/* The buffer holds VSI_UART_RX bytes; more are dropped and counted, and it wraps. */
static void test_receive_full(void **state)
{
	(void)state;
	fresh();
	for (u32 i = 0; i < VSI_UART_RX; i++)
		assert_true(vsi_uart_receive(&vsi, (u8)i));
	assert_false(vsi_uart_receive(&vsi, 0xff));
	assert_int_equal(vsi_uart_read(&vsi, RBR), 0);
	assert_true(vsi_uart_receive(&vsi, 0xee));
	for (u32 i = 1; i < VSI_UART_RX; i++)
		assert_int_equal(vsi_uart_read(&vsi, RBR), i);
	assert_int_equal(vsi_uart_read(&vsi, RBR), 0xee);
	assert_int_equal(vsi_uart_attach(&vsi, true), 1);
	assert_int_equal(vsi_uart_attach(&vsi, false), 0);
}

/* Received data raises IRQ 4 when enabled and OUT2 is set, above THRE in IIR. */
static void test_receive_interrupt(void **state)
{
	(void)state;
	fresh();
	vsi_uart_write(&vsi, MCR, 0x08);
	vsi_uart_write(&vsi, IER, 0x03);
	assert_int_equal(irq_level, 1); /* THRE at once */
	assert_int_equal(vsi_uart_read(&vsi, IIR), 0x02);
	assert_int_equal(irq_level, 0);
	vsi_uart_receive(&vsi, 'x');
	assert_int_equal(irq_level, 1);
	assert_int_equal(vsi_uart_read(&vsi, IIR), 0x04);
	assert_int_equal(vsi_uart_read(&vsi, IIR), 0x04); /* until RBR is read */
	assert_int_equal(vsi_uart_read(&vsi, RBR), 'x');
	assert_int_equal(irq_level, 0);
	assert_int_equal(vsi_uart_read(&vsi, IIR), 0x01);
	vsi_uart_write(&vsi, MCR, 0);
	vsi_uart_receive(&vsi, 'y');
	assert_int_equal(irq_level, 0); /* OUT2 gates the line */
	vsi_uart_reset(&vsi);
	assert_int_equal(vsi_uart_read(&vsi, LSR), 0x60);
}

/* Attached, output goes out as it comes (control bytes as '.'); else by lines. */
static void test_attached_output(void **state)
{
	(void)state;
	fresh();
	vsi_uart_write(&vsi, RBR, 'a');
	assert_int_equal(printed_len, 0);
	vsi_uart_attach(&vsi, true); /* the unfinished line first */
	assert_string_equal(printed, "[g] a\n");
	vsi_uart_write(&vsi, RBR, '>');
	vsi_uart_write(&vsi, RBR, 0x1b);
	vsi_uart_write(&vsi, RBR, '\r');
	vsi_uart_write(&vsi, RBR, '\n');
	assert_string_equal(printed, "[g] a\n>.\n");
	vsi_uart_attach(&vsi, false);
	vsi_uart_write(&vsi, RBR, 'b');
	vsi_uart_write(&vsi, RBR, '\n');
	assert_string_equal(printed, "[g] a\n>.\n[g] b\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_receive_order),
		cmocka_unit_test(test_receive_full),
		cmocka_unit_test(test_receive_interrupt),
		cmocka_unit_test(test_attached_output),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
