/*
 * The 16550 a VSI sees at 0x3F8. Bytes are gathered into lines and printed
 * on the hypervisor console as "[name] text"; control bytes are shown as
 * '.', so a guest cannot drive the operator's terminal. Input is what the
 * operator types while the console is attached to the VSI (`attach NAME`):
 * a buffer of VSI_UART_RX bytes behind the receive register, with the
 * data-ready bit and the received-data interrupt (National PC16550D data
 * sheet, "Registers"); no FIFO is offered, as before.
 */
#include <hv/log.h>
#include <hv/string.h>
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
#define UART_IIR_THRI	     0x02
#define UART_IIR_RDI	     0x04
#define UART_IER_RDI	     0x01
#define UART_IER_THRI	     0x02
#define UART_LSR_DR	     0x01
#define UART_MCR_DTR	     0x01
#define UART_MCR_RTS	     0x02
#define UART_MCR_OUT1	     0x04
#define UART_MCR_OUT2	     0x08
#define UART_MCR_LOOP	     0x10
#define UART_MSR_CTS	     0x10
#define UART_MSR_DSR	     0x20
#define UART_MSR_RI	     0x40
#define UART_MSR_DCD	     0x80
#define UART_LSR_THRE_TEMT   0x60 /* transmitter always empty */
#define UART_MSR_DCD_DSR_CTS 0xb0

static void flush_line(struct vsi *v)
{
	struct vsi_uart *u = &v->uart;

	u->line[u->len] = '\0';
	console_printf("[%s] %s\n", v->name, u->line);
	u->len = 0;
}

static bool rx_irq(const struct vsi_uart *u)
{
	return (u->regs[UART_IER] & UART_IER_RDI) && u->rx_len;
}

/* The interrupt line (IRQ 4): received data or THR empty, enabled and pending, gated by OUT2. */
static bool irq_line(const struct vsi_uart *u)
{
	bool thri = (u->regs[UART_IER] & UART_IER_THRI) && u->thri_pending;

	return (rx_irq(u) || thri) && (u->regs[UART_MCR] & UART_MCR_OUT2);
}

static u8 rx_pop(struct vsi_uart *u)
{
	u8 val;

	if (!u->rx_len)
		return 0;
	val = u->rx[u->rx_head];
	u->rx_head = (u->rx_head + 1) % VSI_UART_RX;
	u->rx_len--;
	return val;
}

bool vsi_uart_receive(struct vsi *v, u8 byte)
{
	struct vsi_uart *u = &v->uart;
	bool line, ok;

	spin_lock(&u->lock);
	ok = u->rx_len < VSI_UART_RX;
	if (ok) {
		u->rx[(u->rx_head + u->rx_len) % VSI_UART_RX] = byte;
		u->rx_len++;
	} else {
		u->rx_dropped++;
	}
	line = irq_line(u);
	spin_unlock(&u->lock);
	vsi_platform_set_irq(v, VSI_UART_IRQ, line);
	return ok;
}

u64 vsi_uart_attach(struct vsi *v, bool attach)
{
	struct vsi_uart *u = &v->uart;
	u64 dropped;

	spin_lock(&u->lock);
	if (u->len)
		flush_line(v);
	u->attached = attach;
	dropped = u->rx_dropped;
	if (attach)
		u->rx_dropped = 0;
	spin_unlock(&u->lock);
	return dropped;
}

/* Attached: a byte as it comes; printable ones, newlines and backspace, else '.'. */
static void put_raw(u8 val)
{
	if (val == '\n' || val == '\b' || (val >= 0x20 && val < 0x7f))
		console_printf("%c", val);
	else if (val != '\r')
		console_printf(".");
}

void vsi_uart_reset(struct vsi *v)
{
	struct vsi_uart *u = &v->uart;

	spin_lock(&u->lock);
	memset(u->regs, 0, sizeof(u->regs));
	u->thri_pending = false;
	u->rx_head = u->rx_len = 0;
	spin_unlock(&u->lock);
}

void vsi_uart_write(struct vsi *v, u32 offset, u8 val)
{
	struct vsi_uart *u = &v->uart;
	bool dlab, line;

	spin_lock(&u->lock);
	dlab = u->regs[UART_LCR] & UART_LCR_DLAB;
	if (offset == UART_THR && !dlab && u->attached) {
		put_raw(val);
		u->thri_pending = true;
	} else if (offset == UART_THR && !dlab) {
		if (val == '\n') {
			flush_line(v);
		} else if (val != '\r') {
			u->line[u->len++] = (val >= 0x20 && val < 0x7f) ? (char)val : '.';
			if (u->len == VSI_UART_LINE - 1)
				flush_line(v);
		}
		u->thri_pending = true; /* sent at once: the holding register is empty again */
	} else if (offset == UART_IER && !dlab) {
		if ((val & UART_IER_THRI) && !(u->regs[UART_IER] & UART_IER_THRI))
			u->thri_pending = true;
		u->regs[UART_IER] = val & 0x0f;
	} else if (offset == UART_IIR) {
		/* FCR: no FIFO is offered, the write is ignored (an 8250/16450) */
	} else if (offset < 8) {
		u->regs[offset] = val;
	}
	line = irq_line(u);
	spin_unlock(&u->lock);
	vsi_platform_set_irq(v, VSI_UART_IRQ, line);
}

/* MSR in loopback mode (MCR bit 4): the modem outputs come back as inputs. */
static u8 loopback_msr(u8 mcr)
{
	return (u8)(((mcr & UART_MCR_RTS) ? UART_MSR_CTS : 0) |
		    ((mcr & UART_MCR_DTR) ? UART_MSR_DSR : 0) |
		    ((mcr & UART_MCR_OUT1) ? UART_MSR_RI : 0) |
		    ((mcr & UART_MCR_OUT2) ? UART_MSR_DCD : 0));
}

u8 vsi_uart_read(struct vsi *v, u32 offset)
{
	struct vsi_uart *u = &v->uart;
	bool dlab, line;
	u8 val;

	spin_lock(&u->lock);
	dlab = u->regs[UART_LCR] & UART_LCR_DLAB;
	switch (offset) {
	case UART_IIR:
		if (rx_irq(u)) {
			val = UART_IIR_RDI; /* higher priority; cleared by reading RBR */
		} else if ((u->regs[UART_IER] & UART_IER_THRI) && u->thri_pending) {
			u->thri_pending = false; /* reading IIR clears a THRE interrupt */
			val = UART_IIR_THRI;
		} else {
			val = UART_IIR_NO_INT;
		}
		break;
	case UART_LSR:
		val = UART_LSR_THRE_TEMT | (u->rx_len ? UART_LSR_DR : 0);
		break;
	case UART_MSR:
		val = (u->regs[UART_MCR] & UART_MCR_LOOP) ? loopback_msr(u->regs[UART_MCR])
							  : UART_MSR_DCD_DSR_CTS;
		break;
	case UART_THR: /* RBR; DLL when DLAB is set */
		val = dlab ? u->regs[offset] : rx_pop(u);
		break;
	default:
		val = offset < 8 ? u->regs[offset] : 0xff;
		break;
	}
	line = irq_line(u);
	spin_unlock(&u->lock);
	vsi_platform_set_irq(v, VSI_UART_IRQ, line);
	return val;
}
