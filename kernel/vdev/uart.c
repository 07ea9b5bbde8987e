/*
 * The 16550 a VSI sees at 0x3F8 (output only). Bytes are gathered into lines
 * and printed on the hypervisor console as "[name] text"; control bytes are
 * shown as '.', so a guest cannot drive the operator's terminal.
 */
#include <hv/log.h>
#include <hv/vsi.h>

#define UART_THR 0
#define UART_IER 1
#define UART_IIR 2
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define UART_MSR 6
#define UART_SCR 7

#define UART_LCR_DLAB	     0x80
#define UART_IIR_NO_INT	     0x01
#define UART_LSR_THRE_TEMT   0x60 /* transmitter always empty */
#define UART_MSR_DCD_DSR_CTS 0xb0

static void flush_line(struct vsi *v)
{
	struct vsi_uart *u = &v->uart;

	u->line[u->len] = '\0';
	console_printf("[%s] %s\n", v->name, u->line);
	u->len = 0;
}

void vsi_uart_write(struct vsi *v, u32 offset, u8 val)
{
	struct vsi_uart *u = &v->uart;

	spin_lock(&u->lock);
	if (offset == UART_THR && !(u->regs[UART_LCR] & UART_LCR_DLAB)) {
		if (val == '\n') {
			flush_line(v);
		} else if (val != '\r') {
			u->line[u->len++] = (val >= 0x20 && val < 0x7f) ? (char)val : '.';
			if (u->len == VSI_UART_LINE - 1)
				flush_line(v);
		}
	} else if (offset < 8) {
		u->regs[offset] = val;
	}
	spin_unlock(&u->lock);
}

u8 vsi_uart_read(struct vsi *v, u32 offset)
{
	struct vsi_uart *u = &v->uart;

	switch (offset) {
	case UART_IIR:
		return UART_IIR_NO_INT;
	case UART_LSR:
		return UART_LSR_THRE_TEMT;
	case UART_MSR:
		return UART_MSR_DCD_DSR_CTS;
	case UART_THR: /* RBR: no input yet; DLL when DLAB is set */
	case UART_IER:
		return (u->regs[UART_LCR] & UART_LCR_DLAB) ? u->regs[offset] : 0;
	}
	return offset < 8 ? u->regs[offset] : 0xff;
}
