/*
 * A TAP device as the stack's NIC: frames the stack transmits are written to
 * the device, frames Linux sends to the device are read and fed to
 * net_input(). Loss and delay can be emulated here for kernels without
 * sch_netem.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <sys/ioctl.h>

#include "hosted_net.h"

#define DELAY_SLOTS 16384

struct tap_delayed {
	u64 due;
	u16 len;
	u8 frame[ETH_FRAME_MAX];
};

u64 hosted_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (u64)ts.tv_sec * 1000 + (u64)ts.tv_nsec / 1000000;
}

int tap_open(struct tap *t, const char *name)
{
	struct ifreq ifr;

	t->fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (t->fd < 0) {
		perror("open /dev/net/tun");
		return -1;
	}
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name);
	if (ioctl(t->fd, TUNSETIFF, &ifr) < 0) {
		perror("TUNSETIFF");
		close(t->fd);
		return -1;
	}
	if (t->delay_ms) {
		t->line = calloc(DELAY_SLOTS, sizeof(*t->line));
		if (!t->line)
			return -1;
	}
	return 0;
}

/* One line per TCP segment in or out, for debugging (--trace FILE). */
static void trace(struct tap *t, char dir, const u8 *f, size_t len, bool dropped)
{
	const struct ip_hdr *ih = (const struct ip_hdr *)(f + ETH_HLEN);
	const struct tcp_hdr *th;
	size_t hlen;

	if (!t->trace || len < ETH_HLEN + IP_HLEN + TCP_HLEN || f[12] != 0x08 ||
	    ih->proto != IP_PROTO_TCP)
		return;
	hlen = (size_t)(ih->ver_ihl & 0xf) * 4;
	th = (const struct tcp_hdr *)((const u8 *)ih + hlen);
	fprintf(t->trace, "%llu %c%s seq %u ack %u wnd %u flags %02x len %zu\n",
		(unsigned long long)hosted_now(), dir, dropped ? " LOST" : "", be32_to_cpu(th->seq),
		be32_to_cpu(th->ack), be16_to_cpu(th->wnd), th->flags,
		be16_to_cpu(ih->tot_len) - hlen - (size_t)(th->doff >> 4) * 4);
}

void tap_close(struct tap *t)
{
	free(t->line);
	t->line = NULL;
	close(t->fd);
	if (t->trace)
		fclose(t->trace);
}

static bool lose(struct tap *t, unsigned pct)
{
	return pct && (unsigned)rand_r(&t->seed) % 100 < pct;
}

int tap_transmit(void *ctx, const void *frame, size_t len)
{
	struct tap *t = ctx;

	if (lose(t, t->tx_loss)) {
		trace(t, '>', frame, len, true);
		t->tx_dropped++;
		return 0;
	}
	trace(t, '>', frame, len, false);
	if (write(t->fd, frame, len) == (ssize_t)len)
		return 0;
	if (errno == EAGAIN || errno == ENOBUFS) {
		t->tx_busy++;
		return -EBUSY;
	}
	return -EIO;
}

void tap_receive(struct tap *t, struct net_stack *s, u64 now)
{
	u8 buf[4096];

	for (int i = 0; i < 512; i++) {
		ssize_t n = read(t->fd, buf, sizeof(buf));

		if (n <= 0)
			break;
		if (lose(t, t->rx_loss)) {
			trace(t, '<', buf, (size_t)n, true);
			t->rx_dropped++;
			continue;
		}
		trace(t, '<', buf, (size_t)n, false);
		if (!t->delay_ms) {
			net_input(s, buf, (size_t)n, now);
			continue;
		}
		if (t->count == DELAY_SLOTS || n > ETH_FRAME_MAX) {
			t->rx_dropped++;
			continue;
		}
		struct tap_delayed *d = &t->line[(t->head + t->count++) % DELAY_SLOTS];

		d->due = now + t->delay_ms;
		d->len = (u16)n;
		memcpy(d->frame, buf, (size_t)n);
	}
	while (t->count && t->line[t->head].due <= now) {
		struct tap_delayed *d = &t->line[t->head];

		net_input(s, d->frame, d->len, now);
		t->head = (t->head + 1) % DELAY_SLOTS;
		t->count--;
	}
}

void tap_wait(struct tap *t, int timeout_ms)
{
	struct pollfd pfd = { .fd = t->fd, .events = POLLIN };

	if (t->count) {
		u64 now = hosted_now(), due = t->line[t->head].due;

		timeout_ms = due <= now ? 0 : (int)MIN((u64)timeout_ms, due - now);
	}
	poll(&pfd, 1, timeout_ms);
}
