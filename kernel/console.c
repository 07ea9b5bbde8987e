/*
 * The operator's console on the service CPU: a line editor over the UART
 * and a few commands (README: "The console"). Input is polled by the
 * service loop, so a busy console never slows a vCPU.
 */
#include <hv/exit_list.h>
#include <hv/netsw.h>
#include <hv/kernel.h>
#include <hv/log.h>
#include <hv/printf.h>
#include <hv/string.h>
#include <hv/vdisk.h>
#include <hv/virtio_blk.h>
#include <hv/vsi.h>
#include <uart/uart.h>

#define CONSOLE_LINE_MAX 80
#define PROMPT		 "hv> "

#define CONSOLE_DETACH 0x1d /* Ctrl-], as telnet's escape */

struct console {
	char line[CONSOLE_LINE_MAX];
	u32 len;
	struct vsi *attached; /* typing goes to this VSI's COM1 */
};

static struct console con;

static void cmd_help(void)
{
	console_printf("commands:\n"
		       "  list               VSIs: state, CPUs, RAM, resets, exits by reason\n"
		       "  start NAME         start a stopped VSI from its reset vector\n"
		       "  stop NAME          stop a VSI (its RAM is zeroed)\n"
		       "  reset NAME         reset a VSI (RAM zeroed, restarted)\n"
		       "  net                VSI networks: addresses, MACs, counters by reason\n"
		       "  attach NAME        type into a VSI's COM1 (Ctrl-] comes back)\n"
		       "  help               this text\n");
}

/* First line "      exits: A=1 B=2", the next ones indented under the first entry. */
static void print_exit_line(void *ctx, const char *text)
{
	u32 *lines = ctx;

	console_printf("%s%s\n", (*lines)++ ? "            " : "      exits:", text);
}

/* Exit counts of all vCPUs of v by reason, non-zero ones only, whole entries. */
static void list_exits(const struct vsi *v)
{
	static u64 totals[VSI_EXIT_COUNTERS]; /* the console runs on the service CPU only */
	u32 lines = 0;

	for (u32 r = 0; r < VSI_EXIT_COUNTERS; r++) {
		totals[r] = 0;
		for (u32 i = 0; i < v->nr_vcpus; i++)
			totals[r] += v->vcpus[i].exits[r];
	}
	if (!exit_list_lines(totals, VSI_EXIT_COUNTERS, vcpu_arch_exit_name, print_exit_line,
			     &lines))
		console_printf("      exits: none\n");
}

/* What an OVMF guest costs beyond the exit reasons: PM timer reads, ignored flash writes. */
static void list_ovmf(const struct vsi *v)
{
	u64 tmr = 0, rom = 0;

	for (u32 c = 0; c < v->nr_vcpus; c++) {
		tmr += v->vcpus[c].pm_timer_reads;
		rom += v->vcpus[c].rom_writes;
	}
	console_printf("      ovmf: PM timer reads %llu, ROM writes ignored %llu\n",
		       (unsigned long long)tmr, (unsigned long long)rom);
}

/* The disk's requests: what a guest writing to a read-only export was refused. */
static void list_disk(const struct vsi *v)
{
	struct virtio_blk_stats s;
	bool ro;

	if (!v->plat.disk || !vdisk_stats(v->plat.disk, &s, &ro))
		return;
	console_printf("      disk: export '%s'%s, reads %llu, writes %llu, refused as read-only "
		       "%llu, I/O errors %llu\n",
		       vdisk_export_name(v->plat.disk), ro ? " read-only" : "",
		       (unsigned long long)s.reads, (unsigned long long)s.writes,
		       (unsigned long long)s.ro_rejected, (unsigned long long)s.ioerr);
}

static void cmd_list(void)
{
	console_printf("%-12s %-8s %-10s %8s %6s  %s\n", "NAME", "STATE", "CPUS", "RAM", "RESETS",
		       "UNCLAIMED-IO/DENIED-MSR/DROPPED-IPI/UNCLAIMED-MMIO");
	for (u32 i = 0; i < nr_vsis; i++) {
		const struct vsi *v = &vsis[i];
		char cpus[40];
		u64 io = 0, msr = 0, ipi = 0, mmio = 0;
		size_t n = 0;

		cpus[0] = '\0';
		for (u32 c = 0; c < v->nr_vcpus && n < sizeof(cpus); c++)
			n += snprintf(cpus + n, sizeof(cpus) - n, "%s%u", c ? "," : "",
				      v->vcpus[c].pcpu);
		for (u32 c = 0; c < v->nr_vcpus; c++) {
			io += v->vcpus[c].io_unclaimed;
			msr += v->vcpus[c].msr_denied;
			ipi += v->vcpus[c].ipi_dropped;
			mmio += v->vcpus[c].mmio_unclaimed;
		}
		console_printf("%-12s %-8s %-10s %6lluM %6u  %llu/%llu/%llu/%llu\n", v->name,
			       vsi_state_name(v->state), cpus,
			       (unsigned long long)(v->ram_size / MiB), v->resets,
			       (unsigned long long)io, (unsigned long long)msr,
			       (unsigned long long)ipi, (unsigned long long)mmio);
		list_exits(v);
		if (vsi_is_ovmf(v))
			list_ovmf(v);
		list_disk(v);
	}
	if (!nr_vsis)
		console_printf("no VSIs\n");
}

/* "stop web" -> cmd "stop", arg "web"; returns false on an empty line. */
static bool split(char *line, char **cmd, char **arg)
{
	while (*line == ' ')
		line++;
	if (!*line)
		return false;
	*cmd = line;
	while (*line && *line != ' ')
		line++;
	while (*line == ' ')
		*line++ = '\0';
	*arg = line;
	for (char *end = line + strlen(line); end > line && end[-1] == ' ';)
		*--end = '\0';
	return true;
}

static void attach(struct vsi *v)
{
	vsi_uart_attach(v, true);
	con.attached = v;
	console_printf("attached to %s's COM1; Ctrl-] detaches\n", v->name);
}

static void detach(void)
{
	struct vsi *v = con.attached;
	u64 dropped = vsi_uart_attach(v, false);

	con.attached = NULL;
	console_printf("\ndetached from %s; typed bytes dropped, COM1 full: %llu\n", v->name,
		       (unsigned long long)dropped);
}

static void run_vsi_cmd(const char *cmd, const char *arg)
{
	struct vsi *v = vsi_find(arg);

	if (!*arg) {
		console_printf("%s: which VSI? (%s NAME; 'list' shows them)\n", cmd, cmd);
		return;
	}
	if (!v) {
		console_printf("%s: no VSI named '%s' ('list' shows them)\n", cmd, arg);
		return;
	}
	if (!strcmp(cmd, "attach"))
		attach(v);
	else if (!strcmp(cmd, "start"))
		vsi_start(v);
	else if (!strcmp(cmd, "stop"))
		vsi_stop(v);
	else
		vsi_reset(v);
}

static void run_line(char *line)
{
	char *cmd, *arg;

	if (!split(line, &cmd, &arg))
		return;
	if (!strcmp(cmd, "help") || !strcmp(cmd, "?"))
		cmd_help();
	else if (!strcmp(cmd, "list") || !strcmp(cmd, "ls"))
		cmd_list();
	else if (!strcmp(cmd, "net"))
		netsw_print();
	else if (!strcmp(cmd, "fault") && selftest_enabled("console-fault"))
		panic("selftest: fault requested on the console"); /* the dump parks every CPU */
	else if (!strcmp(cmd, "start") || !strcmp(cmd, "stop") || !strcmp(cmd, "reset") ||
		 !strcmp(cmd, "attach"))
		run_vsi_cmd(cmd, arg);
	else
		console_printf("unknown command '%s'; 'help' lists them\n", cmd);
}

void console_poll(void)
{
	int c;

	while ((c = uart_getc()) >= 0) {
		if (con.attached) {
			if (c == CONSOLE_DETACH) {
				detach();
				console_printf(PROMPT);
			} else {
				vsi_uart_receive(con.attached, (u8)c);
			}
		} else if (c == '\r' || c == '\n') {
			console_printf("\n");
			con.line[con.len] = '\0';
			run_line(con.line);
			con.len = 0;
			console_printf(PROMPT);
		} else if ((c == 0x7f || c == '\b') && con.len) {
			con.len--;
			console_printf("\b \b");
		} else if (c >= 0x20 && c < 0x7f && con.len < CONSOLE_LINE_MAX - 1) {
			con.line[con.len++] = (char)c;
			console_printf("%c", c);
		}
	}
}
