/*
 * config_parse(): the configuration file (docs/config.md), valid files
 * against exact structs, and every kind of mistake against the exact line
 * and message it must produce.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <hv/config.h>
#include <hv/errno.h>
#include "host_log.h"

/* The machine most tests run on: CPUs 0-3, 1918 MiB free. */
static const char *const modules[] = {
	"hello.rom", "hv.cfg", "web.rom", "max.rom", "big.rom", "empty.rom",
};
static const u64 module_sizes[] = {
	64 * KiB, 600, 128 * KiB, 1 * MiB, 1 * MiB + 1, 0,
};

static struct config_env env;
static struct hv_config cfg;
static struct config_errors errs;

static int setup(void **state)
{
	(void)state;
	env = (struct config_env){
		.nr_cpus = 4,
		.free_ram = 1918 * MiB,
		.modules = modules,
		.nr_modules = ARRAY_SIZE(modules),
		.module_sizes = module_sizes,
	};
	memset(&cfg, 0xa5, sizeof(cfg));
	memset(&errs, 0xa5, sizeof(errs));
	host_log_clear();
	return 0;
}

static void dump_errors(void)
{
	fprintf(stderr, "%u error(s)%s:\n", errs.nr, errs.truncated ? " (truncated)" : "");
	for (u32 i = 0; i < errs.nr && i < CONFIG_MAX_ERRORS; i++)
		fprintf(stderr, "  line %u: %s\n", errs.e[i].line, errs.e[i].msg);
}

static int parse(const char *text)
{
	return config_parse(text, strlen(text), &env, &cfg, &errs);
}

static void expect_ok(const char *text)
{
	int rc = parse(text);

	if (rc)
		dump_errors();
	assert_int_equal(rc, 0);
	assert_int_equal(errs.nr, 0);
	assert_false(errs.truncated);
}

/* Assert that error i is on line and contains needle. */
static void expect_error_at(u32 i, u32 line, const char *needle)
{
	bool ok = i < errs.nr && errs.e[i].line == line && strstr(errs.e[i].msg, needle);

	if (!ok) {
		fprintf(stderr, "want error %u at line %u containing \"%s\"\n", i, line, needle);
		dump_errors();
	}
	assert_true(ok);
}

/* Parse text; assert that it fails with exactly one error, on line, containing needle. */
static void expect_one_error(const char *text, u32 line, const char *needle)
{
	assert_int_equal(parse(text), -EINVAL);
	if (errs.nr != 1)
		dump_errors();
	assert_int_equal(errs.nr, 1);
	assert_false(errs.truncated);
	expect_error_at(0, line, needle);
}

/* A VSI section with the given cpus, ready to be appended to a file. */
#define VSI(name, cpus) "[vsi " name "]\ncpus = " cpus "\nmemory = 2M\nrom = hello.rom\n"

/* ---- valid files ---- */

static const char complete_file[] = "# hv.cfg: two VSIs on a 4-CPU machine\n"
				    "[hypervisor]\n"
				    "service_cpu = 0          # console and devices\n"
				    "log_level = debug\n"
				    "\n"
				    "[vsi web]\n"
				    "cpus = 2,1\n"
				    "memory = 64M\n"
				    "rom = hello.rom\n"
				    "on_triple_fault = reset\n"
				    "autostart = yes\n"
				    "\n"
				    "\t[ vsi   batch-2 ]\t\n"
				    "  cpus=3  \n"
				    "memory = 1G512M\n"
				    "rom = web.rom\n"
				    "autostart = no\n"
				    "on_triple_fault = stop\n";

static void test_complete_file(void **state)
{
	struct hv_config want;

	(void)state;
	memset(&want, 0, sizeof(want));
	want.service_cpu = 0;
	want.log_level = LOG_DEBUG;
	want.io_deadline = CONFIG_IO_DEADLINE; /* the default; no disks: no network */
	want.nr_vsis = 2;
	strcpy(want.vsi[0].name, "web");
	want.vsi[0].nr_cpus = 2;
	want.vsi[0].cpus[0] = 2;
	want.vsi[0].cpus[1] = 1;
	want.vsi[0].ram_size = 64 * MiB;
	strcpy(want.vsi[0].rom, "hello.rom");
	want.vsi[0].on_triple_fault = VSI_ON_FAULT_RESET;
	want.vsi[0].autostart = true;
	want.vsi[0].line = 6;
	strcpy(want.vsi[1].name, "batch-2");
	want.vsi[1].nr_cpus = 1;
	want.vsi[1].cpus[0] = 3;
	want.vsi[1].ram_size = 1536 * MiB;
	strcpy(want.vsi[1].rom, "web.rom");
	want.vsi[1].on_triple_fault = VSI_ON_FAULT_STOP;
	want.vsi[1].autostart = false;
	want.vsi[1].line = 13;

	expect_ok(complete_file);
	assert_int_equal(cfg.service_cpu, want.service_cpu);
	assert_int_equal(cfg.log_level, want.log_level);
	assert_int_equal(cfg.nr_vsis, want.nr_vsis);
	for (u32 i = 0; i < want.nr_vsis; i++) {
		assert_string_equal(cfg.vsi[i].name, want.vsi[i].name);
		assert_int_equal(cfg.vsi[i].nr_cpus, want.vsi[i].nr_cpus);
		assert_int_equal(cfg.vsi[i].ram_size, want.vsi[i].ram_size);
		assert_string_equal(cfg.vsi[i].rom, want.vsi[i].rom);
		assert_int_equal(cfg.vsi[i].on_triple_fault, want.vsi[i].on_triple_fault);
		assert_int_equal(cfg.vsi[i].autostart, want.vsi[i].autostart);
		assert_int_equal(cfg.vsi[i].line, want.vsi[i].line);
	}
	assert_memory_equal(&cfg, &want, sizeof(want));
}

/* ---- storage: network and disks ---- */

#define DISK_VSI(name, cpu, disk) \
	"[vsi " name "]\ncpus = " cpu "\nmemory = 16M\nrom = hello.rom\ndisk = " disk "\n"

static void test_disk_urls(void **state)
{
	(void)state;
	expect_ok(DISK_VSI("a", "1", "nbd://10.0.2.2:10810/web-1.img"));
	assert_true(cfg.vsi[0].disk.present);
	assert_int_equal(cfg.vsi[0].disk.ip, 0x0a000202);
	assert_int_equal(cfg.vsi[0].disk.port, 10810);
	assert_string_equal(cfg.vsi[0].disk.export_name, "web-1.img");
	assert_int_equal(cfg.vsi[0].disk.line, 5);
	assert_int_equal(cfg.net_mode, CONFIG_NET_DHCP); /* a disk and no network: DHCP */
	assert_int_equal(cfg.io_deadline, 30);

	expect_ok(DISK_VSI("a", "1", "nbd://192.168.1.20/db"));
	assert_int_equal(cfg.vsi[0].disk.port, CONFIG_NBD_PORT);

	expect_one_error(DISK_VSI("a", "1", "http://10.0.2.2/web"), 5, "is not an NBD URL");
	expect_one_error(DISK_VSI("a", "1", "nbd://storage.lan/web"), 5,
			 "must be an IPv4 address (names are not resolved)");
	expect_one_error(DISK_VSI("a", "1", "nbd://10.0.2.256/web"), 5, "IPv4 address");
	expect_one_error(DISK_VSI("a", "1", "nbd://10.0.2.2"), 5, "followed by /EXPORT");
	expect_one_error(DISK_VSI("a", "1", "nbd://10.0.2.2:0/web"), 5,
			 "port '0' is not a number from 1 to 65535");
	expect_one_error(DISK_VSI("a", "1", "nbd://10.0.2.2:70000/web"), 5, "port '70000'");
	expect_one_error(DISK_VSI("a", "1", "nbd://10.0.2.2/"), 5, "export name '' must be");
	expect_one_error(DISK_VSI("a", "1", "nbd://10.0.2.2/a b"), 5, "export name 'a b'");
}

static void test_disk_shared_export(void **state)
{
	(void)state;
	expect_ok(DISK_VSI("a", "1", "nbd://10.0.2.2/web") DISK_VSI("b", "2", "nbd://10.0.2.2/db"));
	expect_one_error(DISK_VSI("a", "1", "nbd://10.0.2.2/web")
			     DISK_VSI("b", "2", "nbd://10.0.2.2:10809/web"),
			 10, "export 'web' is already VSI 'a''s disk (line 5)");
	/* the same name on another server or port is another export */
	expect_ok(DISK_VSI("a", "1", "nbd://10.0.2.2/web")
		      DISK_VSI("b", "2", "nbd://10.0.2.3/web"));
}

static void test_network_keys(void **state)
{
	(void)state;
	expect_ok(
	    "[hypervisor]\naddress = 10.0.2.15/24\ngateway = 10.0.2.2\nio_deadline = 5\n" DISK_VSI(
		"a", "1", "nbd://10.0.2.2/web"));
	assert_int_equal(cfg.net_mode, CONFIG_NET_STATIC); /* an address says static */
	assert_int_equal(cfg.ip, 0x0a00020f);
	assert_int_equal(cfg.prefix, 24);
	assert_int_equal(cfg.gateway, 0x0a000202);
	assert_int_equal(cfg.io_deadline, 5);
	expect_ok("[hypervisor]\nnetwork = dhcp\n" DISK_VSI("a", "1", "nbd://10.0.2.2/web"));
	assert_int_equal(cfg.net_mode, CONFIG_NET_DHCP);
	expect_one_error("[hypervisor]\nnetwork = static\n", 2,
			 "a static network needs an address");
	expect_one_error("[hypervisor]\nnetwork = none\n" DISK_VSI("a", "1", "nbd://10.0.2.2/w"), 2,
			 "network = none, but VSIs have disks");
	expect_one_error("[hypervisor]\nnetwork = wifi\n", 2, "network = 'wifi' is not valid");
	expect_one_error("[hypervisor]\naddress = 10.0.2.15\n", 2,
			 "is not an IPv4 address with a prefix");
	expect_one_error("[hypervisor]\naddress = 10.0.2.15/33\n", 2, "with a prefix");
	expect_one_error("[hypervisor]\naddress = 10.0.2.15/24\ngateway = 10.0.3.1\n", 3,
			 "the gateway is not on the address's subnet (/24)");
	expect_one_error("[hypervisor]\ngateway = 10.0.2\n", 2,
			 "gateway = '10.0.2' is not an IPv4");
	expect_one_error("[hypervisor]\nio_deadline = 0\n", 2, "io_deadline = '0'");
	expect_one_error("[hypervisor]\nio_deadline = 3601\n", 2, "from 1 to 3600");
	expect_ok(DISK_VSI("a", "1", "nbd://10.0.2.2/web"));
	expect_ok("[vsi a]\ncpus = 1\nmemory = 16M\nrom = hello.rom\n");
	assert_int_equal(cfg.net_mode, CONFIG_NET_NONE); /* no disk: no network */
}

static void test_storage_nic(void **state)
{
	(void)state;
	expect_ok("[hypervisor]\n" DISK_VSI("a", "1", "nbd://10.0.2.2/web"));
	assert_int_equal(cfg.storage_nic.by, CONFIG_NIC_FIRST); /* the default */
	expect_ok("[hypervisor]\nstorage_nic = 00:1f.7\n");
	assert_int_equal(cfg.storage_nic.by, CONFIG_NIC_BDF);
	assert_int_equal(cfg.storage_nic.bdf, (0 << 8) | (0x1f << 3) | 7);
	assert_int_equal(cfg.storage_nic.line, 2);
	assert_string_equal(cfg.storage_nic.text, "00:1f.7");
	expect_ok("[hypervisor]\nstorage_nic = 0000:3A:00.1\n");
	assert_int_equal(cfg.storage_nic.bdf, (0x3a << 8) | 1);
	expect_ok("[hypervisor]\n\nstorage_nic = 52:54:00:aB:34:56\n");
	assert_int_equal(cfg.storage_nic.by, CONFIG_NIC_MAC);
	assert_memory_equal(cfg.storage_nic.mac, "\x52\x54\x00\xab\x34\x56", 6);
	assert_int_equal(cfg.storage_nic.line, 3);
	expect_one_error("[hypervisor]\nstorage_nic = eth0\n", 2,
			 "storage_nic = 'eth0' is neither a PCI address nor a unicast MAC");
	expect_one_error("[hypervisor]\nstorage_nic = 00:20.0\n", 2, "neither"); /* device 32 */
	expect_one_error("[hypervisor]\nstorage_nic = 00:03.8\n", 2, "neither");
	expect_one_error("[hypervisor]\nstorage_nic = 0001:00:03.0\n", 2, "neither");
	expect_one_error("[hypervisor]\nstorage_nic = 0:3.0\n", 2, "neither");
	expect_one_error("[hypervisor]\nstorage_nic = 00:03.0x\n", 2, "neither");
	expect_one_error("[hypervisor]\nstorage_nic = 01:00:5e:00:00:01\n", 2, "unicast");
	expect_one_error("[hypervisor]\nstorage_nic = 00:00:00:00:00:00\n", 2, "unicast");
	expect_one_error("[hypervisor]\nstorage_nic = 52:54:00:12:34:5g\n", 2, "neither");
	expect_one_error("[hypervisor]\nstorage_nic = 52-54-00-12-34-56\n", 2, "neither");
	expect_one_error(VSI("a", "1") "storage_nic = 00:03.0\n", 5,
			 "'storage_nic' belongs in [hypervisor]");
}

static void test_defaults(void **state)
{
	(void)state;
	expect_ok(VSI("a", "1"));
	assert_int_equal(cfg.service_cpu, 0);
	assert_int_equal(cfg.log_level, -1);
	assert_int_equal(cfg.nr_vsis, 1);
	assert_int_equal(cfg.vsi[0].on_triple_fault, VSI_ON_FAULT_STOP);
	assert_true(cfg.vsi[0].autostart);
	assert_int_equal(cfg.vsi[0].line, 1);
}

static void test_log_levels(void **state)
{
	static const char *const names[] = { "err", "warn", "info", "debug" };
	char text[64];

	(void)state;
	for (u32 i = 0; i < ARRAY_SIZE(names); i++) {
		snprintf(text, sizeof(text), "[hypervisor]\nlog_level = %s\n", names[i]);
		expect_ok(text);
		assert_int_equal(cfg.log_level, (int)i);
	}
}

static void test_empty_file(void **state)
{
	(void)state;
	assert_int_equal(config_parse(NULL, 0, &env, &cfg, &errs), 0);
	assert_int_equal(errs.nr, 0);
	assert_int_equal(cfg.nr_vsis, 0);
	assert_int_equal(cfg.service_cpu, 0);
	assert_int_equal(cfg.log_level, -1);
	expect_ok("");
	assert_int_equal(cfg.nr_vsis, 0);
}

static void test_only_comments(void **state)
{
	(void)state;
	expect_ok("# nothing to run yet\n\n   # indented comment\n\t\n#[vsi x]\n");
	assert_int_equal(cfg.nr_vsis, 0);
	expect_ok("[hypervisor]\n# no keys\n");
	assert_int_equal(cfg.nr_vsis, 0);
}

static void test_no_trailing_newline(void **state)
{
	(void)state;
	expect_ok("[vsi a]\ncpus = 1\nmemory = 2M\nrom = hello.rom\nautostart = no");
	assert_false(cfg.vsi[0].autostart);
	expect_one_error("[vsi a]\ncpus = 1\nmemory = 2M\nrom = hello.rom\nautostart = nope", 5,
			 "autostart = 'nope' is not valid; use yes or no");
}

static void test_crlf(void **state)
{
	(void)state;
	expect_ok("# crlf\r\n[hypervisor]\r\nservice_cpu = 3\r\n\r\n[vsi a]\r\ncpus = 1-2\r\n"
		  "memory = 4M\r\nrom = hello.rom\r\non_triple_fault = reset\r\n");
	assert_int_equal(cfg.service_cpu, 3);
	assert_int_equal(cfg.vsi[0].nr_cpus, 2);
	assert_string_equal(cfg.vsi[0].rom, "hello.rom");
	assert_int_equal(cfg.vsi[0].on_triple_fault, VSI_ON_FAULT_RESET);
	/* errors in a CRLF file still count lines right */
	expect_one_error("[vsi a]\r\ncpus = 1\r\nmemory = 3M\r\nrom = hello.rom\r\n", 3,
			 "not a multiple of 2 MiB");
}

/* The text is read through len only: here it has no NUL and sits at the end of its buffer. */
static void test_not_nul_terminated(void **state)
{
	static const char text[] = VSI("a", "1") "autostart = no";
	size_t len = strlen(text);
	char *copy = malloc(len);

	(void)state;
	assert_non_null(copy);
	memcpy(copy, text, len);
	assert_int_equal(config_parse(copy, len, &env, &cfg, &errs), 0);
	assert_false(cfg.vsi[0].autostart);
	/* cut inside the last value: "autostart = n" */
	assert_int_equal(config_parse(copy, len - 1, &env, &cfg, &errs), -EINVAL);
	expect_error_at(0, 5, "did you mean 'no'?");
	free(copy);
}

/* ---- syntax ---- */

static void test_not_key_value(void **state)
{
	(void)state;
	expect_one_error("[hypervisor]\nservice_cpu 0\n", 2,
			 "'service_cpu 0' is not 'key = value', a [section] or a # comment");
	expect_one_error("[hypervisor]\n= 0\n", 2, "no key before '='");
}

static void test_unknown_section(void **state)
{
	(void)state;
	expect_one_error("[vis web]\ncpus = 1\n", 1,
			 "unknown section kind 'vis' (did you mean 'vsi'?); sections are");
	expect_one_error("[network]\n", 1,
			 "unknown section kind 'network'; sections are "
			 "[hypervisor] and [vsi NAME]");
	expect_one_error("[]\n", 1, "unknown section kind ''");
	expect_one_error("[vsi web\ncpus = 1\n", 1, "lacks the closing ']'");
	expect_one_error(VSI("a", "1") "[hypervisor] x\n", 5, "unexpected ' x' after ']'");
	expect_one_error("[hypervisor main]\n", 1, "[hypervisor] takes no name; remove 'main'");
	expect_one_error("[hypervisor]\n[hypervisor]\n", 2,
			 "second [hypervisor] section (the first is on line 1); merge them");
}

/* After a header that cannot be understood its keys are not checked (no error flood). */
static void test_broken_section_skips_keys(void **state)
{
	(void)state;
	expect_one_error("[vm web]\ncpus = 99\nbogus = 1\n[hypervisor]\n", 1, "unknown section");
}

static void test_key_outside_section(void **state)
{
	(void)state;
	expect_one_error("# header\ncpus = 1\n", 2,
			 "'cpus' is outside any section; put it under [hypervisor] or [vsi NAME]");
}

static void test_unknown_key(void **state)
{
	(void)state;
	expect_one_error(VSI("a", "1") "cpu = 2\n", 5, "unknown key 'cpu'; did you mean 'cpus'?");
	expect_one_error(VSI("a", "1") "on_tripel_fault = stop\n", 5,
			 "did you mean 'on_triple_fault'?");
	expect_one_error(VSI("a", "1") "AutoStart = yes\n", 5, "did you mean 'autostart'?");
	expect_one_error(VSI("a", "1") "ram = 2M\n", 5,
			 "unknown key 'ram'; did you mean 'memory'?");
	expect_one_error(VSI("a", "1") "colour = blue\n", 5,
			 "unknown key 'colour' in [vsi NAME]; keys: cpus, memory, rom, "
			 "on_triple_fault, autostart");
	expect_one_error("[hypervisor]\nservice_cpus = 1\n", 2, "did you mean 'service_cpu'?");
	expect_one_error("[hypervisor]\nloglevel = info\n", 2, "did you mean 'log_level'?");
	expect_one_error("[hypervisor]\nconsole = com1\n", 2,
			 "unknown key 'console' in [hypervisor]; keys: service_cpu, log_level");
}

static void test_key_in_wrong_section(void **state)
{
	(void)state;
	expect_one_error("[hypervisor]\nmemory = 2M\n", 2,
			 "'memory' belongs in [vsi NAME], not in [hypervisor]");
	expect_one_error(VSI("a", "1") "service_cpu = 0\n", 5,
			 "'service_cpu' belongs in [hypervisor], not in [vsi NAME]");
}

static void test_duplicate_key(void **state)
{
	(void)state;
	expect_one_error(VSI("a", "1") "memory = 4M\n", 5,
			 "'memory' is already set on line 3; give each key once per section");
	assert_int_equal(parse("[hypervisor]\nlog_level = info\n[hypervisor]\nlog_level = warn\n"),
			 -EINVAL);
	assert_int_equal(errs.nr, 2);
	expect_error_at(0, 3, "second [hypervisor] section (the first is on line 1)");
	expect_error_at(1, 4, "'log_level' is already set on line 2");
}

static void test_empty_value(void **state)
{
	(void)state;
	expect_one_error("[vsi a]\ncpus =\nmemory = 2M\nrom = hello.rom\n", 2,
			 "'cpus' has no value; write e.g. 'cpus = 1,2'");
	expect_one_error("[vsi a]\ncpus = 1\nmemory = # later\nrom = hello.rom\n", 3,
			 "'memory' has no value; write e.g. 'memory = 64M'");
}

static void test_trailing_garbage(void **state)
{
	(void)state;
	expect_one_error(VSI("a", "1") "autostart = yes please\n", 5,
			 "autostart = 'yes please' is not valid; use yes or no");
	expect_one_error("[hypervisor]\nservice_cpu = 1 2\n", 2,
			 "service_cpu = '1 2' is not a CPU number");
	expect_one_error("[vsi a]\ncpus = 1\nmemory = 64M x\nrom = hello.rom\n", 3,
			 "memory = '64M x' is not a size; write e.g. 64M, 2G or 1G512M");
	expect_one_error("[vsi a]\ncpus = 1 2\nmemory = 2M\nrom = hello.rom\n", 2,
			 "'1 2' is not a CPU number or range; write e.g. cpus = 2 or 1-3");
	expect_one_error("[vsi a]\ncpus = 1\nmemory = 2M\nrom = hello.rom web.rom\n", 4,
			 "rom = 'hello.rom web.rom' is not one module name; remove the blanks");
	expect_one_error(VSI("a", "1") "on_triple_fault = reset;\n", 5,
			 "on_triple_fault = 'reset;' is not valid; did you mean 'reset'?");
}

static void test_nul_byte(void **state)
{
	static const char text[] = "[hypervisor]\nlog_level = in\0fo\n";

	(void)state;
	assert_int_equal(config_parse(text, sizeof(text) - 1, &env, &cfg, &errs), -EINVAL);
	assert_int_equal(errs.nr, 1);
	expect_error_at(0, 2, "NUL byte in column 15; the file must be plain text");
}

static void test_non_printable(void **state)
{
	(void)state;
	expect_one_error("[hypervisor]\nlog_level = info\x1b[0m\n", 2,
			 "byte 0x1b in column 17 is not printable ASCII");
	expect_one_error("# caf\xc3\xa9\n", 1, "byte 0xc3 in column 6 is not printable ASCII");
	expect_one_error("[hypervisor]\rservice_cpu = 1\n", 1,
			 "carriage return in column 13; end lines with LF or CR LF");
	expect_one_error("\xef\xbb\xbf[hypervisor]\n", 1, "starts with a UTF-8 byte order mark");
	expect_one_error("[hypervisor]\nlog_level = info\x7f\n", 2, "byte 0x7f in column 17");
}

/* 255 characters fit (not counting the line ending), 256 do not. */
static void test_long_line(void **state)
{
	char text[600];
	size_t n;

	(void)state;
	n = snprintf(text, sizeof(text), "[hypervisor]\nlog_level = info");
	memset(text + n, ' ', 255 - (n - 13));
	n = 13 + 255;
	strcpy(text + n, "\r\n");
	expect_ok(text);
	assert_int_equal(cfg.log_level, LOG_INFO);

	memset(text + n, '#', 1);
	strcpy(text + n + 1, "\n");
	expect_one_error(text, 2, "line is 256 characters long; at most 255 fit, shorten it");

	memset(text, '#', 500);
	strcpy(text + 500, "\n[hypervisor]\nbad\n");
	assert_int_equal(parse(text), -EINVAL);
	assert_int_equal(errs.nr, 2);
	expect_error_at(0, 1, "line is 500 characters long");
	expect_error_at(1, 3, "'bad' is not 'key = value'");
}

/* ---- [hypervisor] ---- */

static void test_service_cpu(void **state)
{
	(void)state;
	expect_ok("[hypervisor]\nservice_cpu = 3\n" VSI("a", "0-2"));
	assert_int_equal(cfg.service_cpu, 3);
	expect_one_error("[hypervisor]\nservice_cpu = 4\n", 2,
			 "service CPU 4 does not exist: this machine has CPUs 0-3");
	expect_one_error("[hypervisor]\nservice_cpu = 99999999999999999999999\n", 2,
			 "service CPU 99999999999999999999999 does not exist");
	expect_one_error("[hypervisor]\nservice_cpu = -1\n", 2,
			 "service_cpu = '-1' is not a CPU number; write e.g. service_cpu = 0");
	env.nr_cpus = 1;
	expect_one_error("[hypervisor]\nservice_cpu = 1\n", 2,
			 "service CPU 1 does not exist: this machine has only CPU 0");
}

static void test_log_level_bad(void **state)
{
	(void)state;
	expect_one_error("[hypervisor]\nlog_level = warning\n", 2,
			 "log_level = 'warning' is not valid; use err, warn, info or debug");
	expect_one_error(
	    "[hypervisor]\nlog_level = INFO\n", 2,
	    "log_level = 'INFO' is not valid; did you mean 'info'? (err, warn, info or "
	    "debug)");
}

/* ---- VSI names ---- */

static void test_vsi_name(void **state)
{
	(void)state;
	expect_ok(VSI("a_b-9", "1") VSI("0123456789012345678901234567890", "2"));
	assert_string_equal(cfg.vsi[1].name, "0123456789012345678901234567890");
	expect_one_error(VSI("Web", "1"), 1,
			 "VSI name 'Web' is invalid: use 1 to 31 of a-z, 0-9, '_' and '-'");
	expect_one_error(VSI("web server", "1"), 1, "VSI name 'web server' is invalid");
	expect_one_error(VSI("01234567890123456789012345678901", "1"), 1,
			 "VSI name '01234567890123456789012345678901' is invalid");
	expect_one_error("[vsi]\ncpus = 1\nmemory = 2M\nrom = hello.rom\n", 1,
			 "a VSI section needs a name, e.g. [vsi web]");
}

static void test_vsi_name_twice(void **state)
{
	(void)state;
	expect_one_error(VSI("web", "1") "\n" VSI("web", "2"), 6,
			 "VSI name 'web' is already used on line 1; name each VSI uniquely");
}

static void test_required_keys(void **state)
{
	(void)state;
	expect_one_error("[vsi web]\nmemory = 2M\nrom = hello.rom\n", 1,
			 "VSI 'web' has no 'cpus'; add a line like 'cpus = 1,2'");
	expect_one_error("[vsi web]\ncpus = 1\nrom = hello.rom\n", 1,
			 "VSI 'web' has no 'memory'; add a line like 'memory = 64M'");
	expect_one_error("[vsi web]\ncpus = 1\nmemory = 2M\n", 1,
			 "VSI 'web' has no 'rom'; add a line like 'rom = guest.rom'");
	assert_int_equal(parse("# all missing\n[vsi web]\n"), -EINVAL);
	assert_int_equal(errs.nr, 3);
	expect_error_at(0, 2, "no 'cpus'");
	expect_error_at(1, 2, "no 'memory'");
	expect_error_at(2, 2, "no 'rom'");
}

/* ---- cpus ---- */

static void test_cpus_lists(void **state)
{
	static const u32 want[] = { 3, 1, 2, 0 };

	(void)state;
	expect_ok("[hypervisor]\nservice_cpu = 2\n" VSI("a", "3 , 1\t,0"));
	assert_int_equal(cfg.vsi[0].nr_cpus, 3);
	env.nr_cpus = 8;
	expect_ok("[hypervisor]\nservice_cpu = 7\n" VSI("a", "3,1-2,0") VSI("b", "4 - 6"));
	assert_int_equal(cfg.vsi[0].nr_cpus, 4);
	assert_memory_equal(cfg.vsi[0].cpus, want, sizeof(want));
	assert_int_equal(cfg.vsi[1].nr_cpus, 3);
	assert_int_equal(cfg.vsi[1].cpus[0], 4);
	assert_int_equal(cfg.vsi[1].cpus[2], 6);
}

/* CPU N-1 exists, CPU N does not. */
static void test_cpu_bounds(void **state)
{
	(void)state;
	expect_ok(VSI("a", "3"));
	expect_one_error("[vsi a]\ncpus = 4\nmemory = 2M\nrom = hello.rom\n", 2,
			 "CPU 4 does not exist: this machine has CPUs 0-3");
	expect_one_error("[vsi a]\ncpus = 7\nmemory = 2M\nrom = hello.rom\n", 2,
			 "CPU 7 does not exist: this machine has CPUs 0-3");
	expect_one_error("[vsi a]\ncpus = 2-9\nmemory = 2M\nrom = hello.rom\n", 2,
			 "CPU 4 does not exist: this machine has CPUs 0-3");
	expect_one_error("[vsi a]\ncpus = 1,99999999999999999999\nmemory = 2M\nrom = hello.rom\n",
			 2, "CPU 99999999999999999999 does not exist");
	expect_one_error("[vsi a]\ncpus = 1-99999999999999999999\nmemory = 2M\nrom = hello.rom\n",
			 2, "CPU 4 does not exist");
}

static void test_cpu_is_service_cpu(void **state)
{
	(void)state;
	expect_one_error(
	    "[vsi a]\ncpus = 1,0\nmemory = 2M\nrom = hello.rom\n", 2,
	    "CPU 0 is the service CPU; give the VSI other CPUs (service_cpu defaults to "
	    "0)");
	/* the [hypervisor] section may come last */
	expect_one_error("[vsi a]\ncpus = 1-3\nmemory = 2M\nrom = hello.rom\n[hypervisor]\n"
			 "service_cpu = 2\n",
			 2, "CPU 2 is the service CPU; give the VSI other CPUs");
	assert_null(strstr(errs.e[0].msg, "defaults"));
}

static void test_cpu_twice_in_vsi(void **state)
{
	(void)state;
	expect_one_error("[vsi a]\ncpus = 1,2,1\nmemory = 2M\nrom = hello.rom\n", 2,
			 "CPU 1 is listed twice in this VSI; list each CPU once");
	expect_one_error("[vsi a]\ncpus = 1-3,2\nmemory = 2M\nrom = hello.rom\n", 2,
			 "CPU 2 is listed twice in this VSI");
}

static void test_cpu_in_two_vsis(void **state)
{
	(void)state;
	expect_one_error("# two VSIs\n"
			 "[hypervisor]\n"
			 "service_cpu = 0\n"
			 "\n"
			 "[vsi web]\n"
			 "memory = 2M\n"
			 "rom = hello.rom\n"
			 "cpus = 1,2\n"
			 "\n"
			 "[vsi db]\n"
			 "cpus = 3,2\n"
			 "memory = 2M\n"
			 "rom = hello.rom\n",
			 11,
			 "CPU 2 is already given to VSI 'web' (line 8); give it to one VSI only");
}

static void test_cpu_ranges(void **state)
{
	(void)state;
	expect_one_error("[vsi a]\ncpus = 3-1\nmemory = 2M\nrom = hello.rom\n", 2,
			 "CPU range 3-1 is backwards; write 1-3");
	expect_one_error("[vsi a]\ncpus = 1-\nmemory = 2M\nrom = hello.rom\n", 2,
			 "'1-' is not a CPU number or range");
	expect_one_error("[vsi a]\ncpus = -3\nmemory = 2M\nrom = hello.rom\n", 2,
			 "'-3' is not a CPU number or range");
	expect_one_error("[vsi a]\ncpus = 1-2-3\nmemory = 2M\nrom = hello.rom\n", 2,
			 "'1-2-3' is not a CPU number or range");
	expect_one_error("[vsi a]\ncpus = 1,,2\nmemory = 2M\nrom = hello.rom\n", 2,
			 "empty entry in the CPU list; write e.g. cpus = 1,2 or 1-3");
	expect_one_error("[vsi a]\ncpus = 1,\nmemory = 2M\nrom = hello.rom\n", 2,
			 "empty entry in the CPU list");
}

/* A VSI has at most CONFIG_MAX_CPUS CPUs; a huge range is refused before it is walked. */
static void test_cpu_count_limit(void **state)
{
	(void)state;
	env.nr_cpus = 4096;
	expect_ok("[hypervisor]\nservice_cpu = 100\n" VSI("a", "0-63"));
	assert_int_equal(cfg.vsi[0].nr_cpus, 64);
	assert_int_equal(cfg.vsi[0].cpus[63], 63);
	expect_one_error("[hypervisor]\nservice_cpu = 100\n" VSI("a", "0-64"), 4,
			 "too many CPUs: a VSI has at most 64");
	expect_one_error("[hypervisor]\nservice_cpu = 100\n" VSI("a", "0-62,70,71"), 4,
			 "too many CPUs: a VSI has at most 64");
	env.nr_cpus = UINT32_MAX;
	expect_one_error("[hypervisor]\nservice_cpu = 100\n" VSI("a", "1-4294967294"), 4,
			 "too many CPUs");
}

/* ---- memory ---- */

static u64 ram_of(const char *value)
{
	char text[128];

	snprintf(text, sizeof(text), "[vsi a]\ncpus = 1\nmemory = %s\nrom = hello.rom\n", value);
	expect_ok(text);
	return cfg.vsi[0].ram_size;
}

static void memory_error(const char *value, const char *needle)
{
	char text[128];

	snprintf(text, sizeof(text), "[vsi a]\ncpus = 1\nmemory = %s\nrom = hello.rom\n", value);
	expect_one_error(text, 3, needle);
}

static void test_memory_sizes(void **state)
{
	(void)state;
	assert_int_equal(ram_of("64M"), 64 * MiB);
	assert_int_equal(ram_of("64m"), 64 * MiB);
	assert_int_equal(ram_of("64MiB"), 64 * MiB);
	assert_int_equal(ram_of("64mib"), 64 * MiB);
	assert_int_equal(ram_of("1G"), GiB);
	assert_int_equal(ram_of("1gib"), GiB);
	assert_int_equal(ram_of("2048K"), 2 * MiB);
	assert_int_equal(ram_of("2048KiB"), 2 * MiB);
	assert_int_equal(ram_of("2097152"), 2 * MiB);
	assert_int_equal(ram_of("1G512M"), 1536 * MiB);
	assert_int_equal(ram_of("1M1024K"), 2 * MiB);
	assert_int_equal(ram_of("1M1023K1024"), 2 * MiB);
	assert_int_equal(ram_of("0001G"), GiB);
}

static void test_memory_syntax(void **state)
{
	(void)state;
	memory_error("64X", "memory = '64X' is not a size; write e.g. 64M, 2G or 1G512M");
	memory_error("M", "memory = 'M' is not a size");
	memory_error("64MB", "memory = '64MB' is not a size");
	memory_error("64 M", "memory = '64 M' is not a size");
	memory_error("64T", "memory = '64T' is not a size");
	memory_error("-64M", "memory = '-64M' is not a size");
	memory_error("5K64M", "memory = '5K64M' is not a size");
	memory_error("1M1M", "memory = '1M1M' is not a size");
	memory_error("64M5", "not a multiple of 2 MiB");
}

static void test_memory_overflow(void **state)
{
	(void)state;
	memory_error("18446744073709551616", "memory = 18446744073709551616 is too large");
	memory_error("17179869184G", "is too large to count");
	memory_error("17179869183G1024M", "is too large");
	memory_error("99999999999999999999999999999G", "is too large");
	/* the largest representable 2 MiB multiple: counted, then over the 3 GiB limit */
	memory_error("17179869183G1022M", "is too large: a VSI's RAM lies below 3 GiB");
	memory_error("17179869183G1023M1023K1023", "is too large: a VSI's RAM lies below 3 GiB");
}

static void test_memory_limit(void **state)
{
	(void)state;
	/* 3G itself passes the per-VSI limit; only the free RAM (1918 MiB here) stops it */
	memory_error("3G", "VSIs need 3072 MiB of RAM in all, 1918 MiB are free");
	memory_error("3074M", "memory = 3074M is too large: a VSI's RAM lies below 3 GiB "
			      "(docs/vsi-platform.md); at most 3G");
}

static void test_memory_alignment(void **state)
{
	(void)state;
	memory_error("64M5K", "memory = 64M5K is not a multiple of 2 MiB; try 64M or 66M");
	memory_error("65M", "memory = 65M is not a multiple of 2 MiB; try 64M or 66M");
	memory_error("1023M", "try 1022M or 1G");
	memory_error("3000001", "try 2M or 4M");
	memory_error("1M", "memory = 1M is too small: a VSI needs at least 2 MiB; try 2M");
	memory_error("0", "memory = 0 is too small");
	memory_error("2097151", "too small");
	assert_int_equal(ram_of("2097152"), CONFIG_RAM_ALIGN);
}

static void test_memory_total(void **state)
{
	(void)state;
	expect_one_error("[vsi a]\ncpus = 1\nmemory = 1G\nrom = hello.rom\n"
			 "[vsi b]\ncpus = 2\nmemory = 1G\nrom = hello.rom\n"
			 "[vsi c]\ncpus = 3\nmemory = 1G\nrom = hello.rom\n",
			 7, "VSIs need 3072 MiB of RAM in all, 1918 MiB are free");
}

/* All of the free RAM may be given out; one byte less free is too little. */
static void test_memory_exactly_free(void **state)
{
	static const char text[] = "[vsi a]\ncpus = 1\nmemory = 1G\nrom = hello.rom\n"
				   "[vsi b]\ncpus = 2,3\nmemory = 894M\nrom = hello.rom\n";

	(void)state;
	expect_ok(text);
	assert_int_equal(cfg.vsi[0].ram_size + cfg.vsi[1].ram_size, env.free_ram);
	env.free_ram -= 1;
	expect_one_error(text, 7, "VSIs need 1918 MiB of RAM in all, 2011168767 bytes are free");
	env.free_ram = 1918 * MiB + 1;
	expect_ok(text);
	env.free_ram = 0;
	expect_one_error(text, 3, "VSIs need 1918 MiB of RAM in all, 0 bytes are free");
}

/* ---- rom ---- */

static void rom_error(const char *value, const char *needle)
{
	char text[256];

	snprintf(text, sizeof(text), "[vsi a]\ncpus = 1\nmemory = 2M\nrom = %s\n", value);
	expect_one_error(text, 4, needle);
}

static void test_rom(void **state)
{
	static const char *const two[] = { "hello.rom", "hv.cfg" };

	(void)state;
	rom_error("helo.rom", "no boot module named 'helo.rom'; did you mean 'hello.rom'? modules: "
			      "hello.rom, hv.cfg, web.rom, max.rom, big.rom, empty.rom");
	env.modules = two;
	env.nr_modules = 2;
	rom_error("helo.rom", "no boot module named 'helo.rom'; did you mean 'hello.rom'? modules: "
			      "hello.rom, hv.cfg");
	rom_error("guest.bin", "no boot module named 'guest.bin'; modules: hello.rom, hv.cfg");
	rom_error("Hello.rom", "no boot module named 'Hello.rom'; did you mean 'hello.rom'?");
	env.modules = NULL;
	env.nr_modules = 0;
	rom_error("hello.rom", "no boot module named 'hello.rom'; modules: none");
}

static void test_rom_size(void **state)
{
	char name[BOOT_MODNAME_MAX + 1], text[256];
	const char *const mods[] = { name };

	(void)state;
	rom_error("empty.rom", "boot module 'empty.rom' is empty; a ROM holds at least the reset "
			       "vector");
	expect_ok("[vsi a]\ncpus = 1\nmemory = 2M\nrom = max.rom\n");
	assert_string_equal(cfg.vsi[0].rom, "max.rom");
	rom_error("big.rom", "boot module 'big.rom' is 1048577 bytes; a ROM is at most 1 MiB");
	env.module_sizes = NULL; /* sizes unknown: not checked */
	expect_ok("[vsi a]\ncpus = 1\nmemory = 2M\nrom = big.rom\n");

	/* module names: at most BOOT_MODNAME_MAX - 1 characters */
	memset(name, 'r', BOOT_MODNAME_MAX - 1);
	name[BOOT_MODNAME_MAX - 1] = '\0';
	env.modules = mods;
	env.nr_modules = 1;
	snprintf(text, sizeof(text), "[vsi a]\ncpus = 1\nmemory = 2M\nrom = %s\n", name);
	expect_ok(text);
	assert_string_equal(cfg.vsi[0].rom, name);
	strcat(name, "r");
	rom_error(name, "is too long: module names have at most 63 characters");
}

/* ---- policies and yes/no ---- */

static void test_choices(void **state)
{
	(void)state;
	expect_one_error(VSI("a", "1") "on_triple_fault = rest\n", 5,
			 "on_triple_fault = 'rest' is not valid; did you mean 'reset'? (reset or "
			 "stop)");
	expect_one_error(VSI("a", "1") "on_triple_fault = halt\n", 5,
			 "on_triple_fault = 'halt' is not valid; use reset or stop");
	expect_one_error(VSI("a", "1") "autostart = true\n", 5,
			 "autostart = 'true' is not valid; use yes or no");
	expect_one_error(VSI("a", "1") "autostart = Yes\n", 5, "did you mean 'yes'?");
}

/* ---- VSI count ---- */

static void build_vsis(char *text, size_t size, u32 n)
{
	size_t len = 0;

	for (u32 i = 0; i < n; i++)
		len += snprintf(text + len, size - len,
				"[vsi v%u]\ncpus = %u\nmemory = 2M\nrom = hello.rom\n", i, i + 1);
}

static void test_max_vsis(void **state)
{
	char text[2048];

	(void)state;
	env.nr_cpus = 64;
	build_vsis(text, sizeof(text), CONFIG_MAX_VSIS);
	expect_ok(text);
	assert_int_equal(cfg.nr_vsis, CONFIG_MAX_VSIS);
	assert_string_equal(cfg.vsi[15].name, "v15");
	assert_int_equal(cfg.vsi[15].cpus[0], 16);
	assert_int_equal(cfg.vsi[15].line, 61);

	build_vsis(text, sizeof(text), CONFIG_MAX_VSIS + 1);
	expect_one_error(text, 65, "more than 16 VSIs; remove this one or merge it with another");
	assert_int_equal(cfg.nr_vsis, CONFIG_MAX_VSIS);
}

/* Keys of a VSI past the limit are still checked. */
static void test_extra_vsi_checked(void **state)
{
	char text[2048];

	(void)state;
	env.nr_cpus = 64;
	build_vsis(text, sizeof(text), CONFIG_MAX_VSIS + 1);
	strcat(text, "memory = 4M\nautostart = maybe\n");
	assert_int_equal(parse(text), -EINVAL);
	assert_int_equal(errs.nr, 3);
	expect_error_at(0, 65, "more than 16 VSIs");
	expect_error_at(1, 69, "'memory' is already set on line 67");
	expect_error_at(2, 70, "autostart = 'maybe'");
}

/* ---- many errors ---- */

static void test_all_errors_reported(void **state)
{
	(void)state;
	assert_int_equal(parse("[hypervisor]\n"		    /* 1 */
			       "service_cpu = 1\n"	    /* 2 */
			       "log_level = loud\n"	    /* 3 */
			       "[vsi web]\n"		    /* 4 */
			       "cpus = 1,7\n"		    /* 5: service CPU, CPU 7 */
			       "memory = 64M5K\n"	    /* 6 */
			       "rom = helo.rom\n"	    /* 7 */
			       "cpu = 2\n"		    /* 8 */
			       "[vsi web]\n"		    /* 9: name twice, no rom */
			       "cpus = 2\n"		    /* 10 */
			       "memory = 2G\n"		    /* 11 */
			       "on_triple_fault = reboot\n" /* 12 */
			       "garbage\n"),		    /* 13 */
			 -EINVAL);
	assert_int_equal(errs.nr, 11);
	expect_error_at(0, 3, "log_level = 'loud'");
	expect_error_at(1, 5, "CPU 7 does not exist");
	expect_error_at(2, 5, "CPU 1 is the service CPU");
	expect_error_at(3, 6, "not a multiple of 2 MiB");
	expect_error_at(4, 7, "no boot module named 'helo.rom'");
	expect_error_at(5, 8, "did you mean 'cpus'?");
	expect_error_at(6, 9, "VSI name 'web' is already used on line 4");
	expect_error_at(7, 9, "VSI 'web' has no 'rom'");
	expect_error_at(8, 11, "VSIs need 2048 MiB of RAM in all, 1918 MiB are free");
	expect_error_at(9, 12, "on_triple_fault = 'reboot'");
	expect_error_at(10, 13, "'garbage' is not 'key = value'");
}

static void test_error_limit(void **state)
{
	char text[1024];
	size_t len = 0;

	(void)state;
	for (u32 i = 0; i < CONFIG_MAX_ERRORS + 5; i++)
		len += snprintf(text + len, sizeof(text) - len, "junk %u\n", i);
	assert_int_equal(parse(text), -EINVAL);
	assert_int_equal(errs.nr, CONFIG_MAX_ERRORS);
	assert_true(errs.truncated);
	expect_error_at(CONFIG_MAX_ERRORS - 1, CONFIG_MAX_ERRORS, "'junk 15'");

	/* the problems of the earliest lines are kept, even those found last */
	len = snprintf(text, sizeof(text), "[vsi a]\n");
	for (u32 i = 0; i < CONFIG_MAX_ERRORS + 5; i++)
		len += snprintf(text + len, sizeof(text) - len, "junk %u\n", i);
	assert_int_equal(parse(text), -EINVAL);
	assert_int_equal(errs.nr, CONFIG_MAX_ERRORS);
	assert_true(errs.truncated);
	expect_error_at(0, 1, "no 'cpus'");
	expect_error_at(1, 1, "no 'memory'");
	expect_error_at(2, 1, "no 'rom'");
	expect_error_at(3, 2, "'junk 0'");
	expect_error_at(CONFIG_MAX_ERRORS - 1, CONFIG_MAX_ERRORS - 2, "'junk 12'");

	/* exactly the limit is not truncated */
	len = 0;
	for (u32 i = 0; i < CONFIG_MAX_ERRORS; i++)
		len += snprintf(text + len, sizeof(text) - len, "junk %u\n", i);
	assert_int_equal(parse(text), -EINVAL);
	assert_int_equal(errs.nr, CONFIG_MAX_ERRORS);
	assert_false(errs.truncated);
}

static void test_bad_arguments(void **state)
{
	(void)state;
	assert_int_equal(config_parse("x", 1, NULL, &cfg, &errs), -EINVAL);
	assert_int_equal(errs.nr, 1);
	assert_int_equal(config_parse(NULL, 5, &env, &cfg, &errs), -EINVAL);
	assert_int_equal(config_parse("x", 1, &env, &cfg, NULL), -EINVAL);
}

static void test_report(void **state)
{
	(void)state;
	assert_int_equal(parse("[vsi a]\ncpus = 1\nmemory = 2M\nrom = helo.rom\n"), -EINVAL);
	config_report("hv.cfg", &errs);
	assert_int_equal(host_log_count(LOG_ERR), 1);
	assert_true(host_log_contains("hv.cfg:4: no boot module named 'helo.rom'; did you mean "
				      "'hello.rom'?"));

	host_log_clear();
	errs.truncated = true;
	config_report("hv.cfg", &errs);
	assert_int_equal(host_log_count(LOG_ERR), 2);
	assert_true(host_log_contains("hv.cfg: more problems not shown"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_complete_file, setup),
		cmocka_unit_test_setup(test_storage_nic, setup),
		cmocka_unit_test_setup(test_defaults, setup),
		cmocka_unit_test_setup(test_log_levels, setup),
		cmocka_unit_test_setup(test_empty_file, setup),
		cmocka_unit_test_setup(test_only_comments, setup),
		cmocka_unit_test_setup(test_no_trailing_newline, setup),
		cmocka_unit_test_setup(test_crlf, setup),
		cmocka_unit_test_setup(test_not_nul_terminated, setup),
		cmocka_unit_test_setup(test_not_key_value, setup),
		cmocka_unit_test_setup(test_unknown_section, setup),
		cmocka_unit_test_setup(test_broken_section_skips_keys, setup),
		cmocka_unit_test_setup(test_key_outside_section, setup),
		cmocka_unit_test_setup(test_unknown_key, setup),
		cmocka_unit_test_setup(test_key_in_wrong_section, setup),
		cmocka_unit_test_setup(test_duplicate_key, setup),
		cmocka_unit_test_setup(test_empty_value, setup),
		cmocka_unit_test_setup(test_trailing_garbage, setup),
		cmocka_unit_test_setup(test_nul_byte, setup),
		cmocka_unit_test_setup(test_non_printable, setup),
		cmocka_unit_test_setup(test_long_line, setup),
		cmocka_unit_test_setup(test_service_cpu, setup),
		cmocka_unit_test_setup(test_log_level_bad, setup),
		cmocka_unit_test_setup(test_vsi_name, setup),
		cmocka_unit_test_setup(test_vsi_name_twice, setup),
		cmocka_unit_test_setup(test_required_keys, setup),
		cmocka_unit_test_setup(test_cpus_lists, setup),
		cmocka_unit_test_setup(test_cpu_bounds, setup),
		cmocka_unit_test_setup(test_cpu_is_service_cpu, setup),
		cmocka_unit_test_setup(test_cpu_twice_in_vsi, setup),
		cmocka_unit_test_setup(test_cpu_in_two_vsis, setup),
		cmocka_unit_test_setup(test_cpu_ranges, setup),
		cmocka_unit_test_setup(test_cpu_count_limit, setup),
		cmocka_unit_test_setup(test_memory_sizes, setup),
		cmocka_unit_test_setup(test_memory_syntax, setup),
		cmocka_unit_test_setup(test_memory_overflow, setup),
		cmocka_unit_test_setup(test_memory_limit, setup),
		cmocka_unit_test_setup(test_disk_urls, setup),
		cmocka_unit_test_setup(test_disk_shared_export, setup),
		cmocka_unit_test_setup(test_network_keys, setup),
		cmocka_unit_test_setup(test_memory_alignment, setup),
		cmocka_unit_test_setup(test_memory_total, setup),
		cmocka_unit_test_setup(test_memory_exactly_free, setup),
		cmocka_unit_test_setup(test_rom, setup),
		cmocka_unit_test_setup(test_rom_size, setup),
		cmocka_unit_test_setup(test_choices, setup),
		cmocka_unit_test_setup(test_max_vsis, setup),
		cmocka_unit_test_setup(test_extra_vsi_checked, setup),
		cmocka_unit_test_setup(test_all_errors_reported, setup),
		cmocka_unit_test_setup(test_error_limit, setup),
		cmocka_unit_test_setup(test_bad_arguments, setup),
		cmocka_unit_test_setup(test_report, setup),
	};

	return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
