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
	expect_one_error("[bridge]\n", 1,
			 "unknown section kind 'bridge'; sections are "
			 "[hypervisor], [vsi NAME] and [network NAME]");
	expect_one_error("[netwrok lan]\n", 1,
			 "unknown section kind 'netwrok' (did you mean "
			 "'network'?)");
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
	rom_error("big.rom",
		  "boot module 'big.rom' is 1048577 bytes; a ROM is at most 1 MiB (is it "
		  "OVMF? then add 'firmware = ovmf')");
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

/* firmware = ovmf: a ROM up to 4 MiB, and RAM enough for OVMF's PEI and DXE */
static void test_firmware(void **state)
{
	static const char *const mods[] = { "big.rom", "max.rom", "huge.rom",
					    "OVMF_CODE_4M.secboot.fd", "OVMF_CODE_4M.ms.fd" };
	static const u64 sizes[] = { 2 * MiB, 1 * MiB, 4 * MiB + 1, 3584 * KiB, 3584 * KiB };

	(void)state;
	env.modules = mods;
	env.module_sizes = sizes;
	env.nr_modules = ARRAY_SIZE(mods);
	expect_ok("[vsi a]\ncpus = 1\nmemory = 64M\nrom = big.rom\nfirmware = ovmf\n");
	assert_int_equal(cfg.vsi[0].firmware, VSI_FW_OVMF);
	expect_ok("[vsi a]\nfirmware = native\ncpus = 1\nmemory = 2M\nrom = max.rom\n");
	assert_int_equal(cfg.vsi[0].firmware, VSI_FW_NATIVE);
	expect_one_error("[vsi a]\ncpus = 1\nmemory = 32M\nrom = big.rom\nfirmware = ovmf\n", 3,
			 "VSI 'a' boots OVMF, which needs memory = 64M or more");
	expect_one_error("[vsi a]\ncpus = 1\nmemory = 64M\nrom = max.rom\nfirmware = uefi\n", 5,
			 "firmware = 'uefi' is not valid");
	expect_one_error("[vsi a]\ncpus = 1\nmemory = 64M\nrom = huge.rom\nfirmware = ovmf\n", 4,
			 "boot module 'huge.rom' is 4194305 bytes; a ROM is at most 4 MiB");
	expect_one_error("[vsi a]\ncpus = 1\nmemory = 64M\nrom = OVMF_CODE_4M.secboot.fd\n"
			 "firmware = ovmf\n",
			 4, "looks like a secure-boot build of OVMF, which needs SMM and a Q35");
	expect_one_error("[vsi a]\ncpus = 1\nmemory = 64M\nrom = OVMF_CODE_4M.ms.fd\n"
			 "firmware = ovmf\n",
			 4, "use OVMF.fd (package ovmf)");
}

/* The front of a firmware volume: its file system GUID, length, signature, header length. */
static void fv_header(u8 *img, u64 fv_len, const u8 guid[16])
{
	u16 hdr_len = 0x48;

	memset(img, 0, 0x48);
	memcpy(img + 0x10, guid, 16);
	memcpy(img + 0x20, &fv_len, sizeof(fv_len));
	memcpy(img + 0x28, "_FVH", 4);
	memcpy(img + 0x30, &hdr_len, sizeof(hdr_len));
}

/* vars = with a split OVMF build: told apart from whole images by their bytes */
static void test_ovmf_vars(void **state)
{
	static const u8 nv[16] = { 0x8d, 0x2b, 0xf1, 0xff, 0x96, 0x76, 0x8b, 0x4c,
				   0xa9, 0x85, 0x27, 0x47, 0x07, 0x5b, 0x4f, 0x50 };
	static const u8 ffs2[16] = { 0x78, 0xe5, 0x8c, 0x8c, 0x3d, 0x8a, 0x1c, 0x4f,
				     0x99, 0x35, 0x89, 0x61, 0x85, 0xc3, 0x2d, 0xd3 };
	static u8 whole[256], code[256], vars[256];
	static const char *const mods[] = { "OVMF.fd", "OVMF_CODE_4M.fd", "OVMF_VARS_4M.fd",
					    "hello.rom" };
	static u64 sizes[] = { 2 * MiB, 3568 * KiB, 528 * KiB, 64 * KiB };
	static const void *data[] = { whole, code, vars, code };

	(void)state;
	fv_header(whole, 128 * KiB, nv);
	fv_header(code, 3568 * KiB, ffs2);
	fv_header(vars, 528 * KiB, nv);
	env.modules = mods;
	env.module_sizes = sizes;
	env.module_data = data;
	env.nr_modules = ARRAY_SIZE(mods);
	expect_ok("[vsi a]\ncpus = 1\nmemory = 64M\nrom = OVMF.fd\nfirmware = ovmf\n");
	assert_string_equal(cfg.vsi[0].vars, "");
	expect_ok("[vsi a]\ncpus = 1\nmemory = 64M\nrom = OVMF_CODE_4M.fd\nfirmware = ovmf\n"
		  "vars = OVMF_VARS_4M.fd\n");
	assert_string_equal(cfg.vsi[0].vars, "OVMF_VARS_4M.fd");
	expect_one_error("[vsi a]\ncpus = 1\nmemory = 64M\nrom = OVMF_CODE_4M.fd\n"
			 "firmware = ovmf\n",
			 4,
			 "'OVMF_CODE_4M.fd' holds OVMF's code without its variable store (a "
			 "split build); add 'vars = OVMF_VARS_4M.fd'");
	expect_one_error("[vsi a]\ncpus = 1\nmemory = 64M\nrom = OVMF.fd\nfirmware = ovmf\n"
			 "vars = OVMF_VARS_4M.fd\n",
			 6,
			 "'OVMF.fd' already holds its variable store (a whole OVMF image); "
			 "remove 'vars ='");
	expect_one_error("[vsi a]\ncpus = 1\nmemory = 64M\nrom = OVMF_CODE_4M.fd\n"
			 "firmware = ovmf\nvars = hello.rom\n",
			 6, "'hello.rom' is not an OVMF variable store");
	expect_one_error("[vsi a]\ncpus = 1\nmemory = 64M\nrom = OVMF_CODE_4M.fd\n"
			 "firmware = ovmf\nvars = OVMF_VAR_4M.fd\n",
			 6,
			 "no boot module named 'OVMF_VAR_4M.fd'; did you mean 'OVMF_VARS_4M.fd'?");
	expect_one_error("[vsi a]\ncpus = 1\nmemory = 2M\nrom = hello.rom\n"
			 "vars = OVMF_VARS_4M.fd\n",
			 5, "'vars' is OVMF's variable store; add 'firmware = ovmf', or remove it");
	sizes[2] = 529 * KiB; /* code and vars past OVMF's 4 MiB of flash */
	fv_header(vars, 529 * KiB, nv);
	expect_one_error("[vsi a]\ncpus = 1\nmemory = 64M\nrom = OVMF_CODE_4M.fd\n"
			 "firmware = ovmf\nvars = OVMF_VARS_4M.fd\n",
			 6, "are 4097 KiB together; OVMF's flash is at most 4 MiB");
	sizes[2] = 528 * KiB;
	vars[0x28] = 'X'; /* no "_FVH": not a firmware volume */
	expect_one_error("[vsi a]\ncpus = 1\nmemory = 64M\nrom = OVMF_CODE_4M.fd\n"
			 "firmware = ovmf\nvars = OVMF_VARS_4M.fd\n",
			 6, "is not an OVMF variable store");
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

/* ---- networks ---- */

/* A VSI section with extra lines (net, mac, forward ...) after its required keys. */
#define NET_VSI(name, cpu, extra) \
	"[vsi " name "]\ncpus = " cpu "\nmemory = 2M\nrom = hello.rom\n" extra
#define NAT_LAN "[network lan]\nmode = nat\nsubnet = 10.0.3.0/24\n"

static const char networks_file[] = "[hypervisor]\n"		    /* 1 */
				    "address = 192.168.1.15/24\n"   /* 2 */
				    "gateway = 192.168.1.1\n"	    /* 3 */
				    "[network lan]\n"		    /* 4 */
				    "mode = nat\n"		    /* 5 */
				    "subnet = 10.0.3.0/24\n"	    /* 6 */
				    "[network dmz]\n"		    /* 7 */
				    "mode = bridged\n"		    /* 8 */
				    "[network back]\n"		    /* 9 */
				    "mode = internal\n"		    /* 10 */
				    "subnet = 172.16.0.0/29\n"	    /* 11 */
				    "[network quiet]\n"		    /* 12 */
				    "mode = internal\n"		    /* 13 */
				    "[vsi web]\n"		    /* 14 */
				    "cpus = 1\n"		    /* 15 */
				    "memory = 2M\n"		    /* 16 */
				    "rom = hello.rom\n"		    /* 17 */
				    "net = lan\n"		    /* 18 */
				    "mac = 52:54:00:12:34:57\n"	    /* 19 */
				    "forward = tcp:8080:80\n"	    /* 20 */
				    "forward = tcp:2222:22\n"	    /* 21 */
				    "[vsi db]\n"		    /* 22 */
				    "cpus = 2\n"		    /* 23 */
				    "memory = 2M\n"		    /* 24 */
				    "rom = hello.rom\n"		    /* 25 */
				    "net = back\n"		    /* 26 */
				    "disk = nbd://192.168.1.2/db\n" /* 27 */
				    "[vsi edge]\n"		    /* 28 */
				    "net = dmz\n"		    /* 29 */
				    "cpus = 3\n"		    /* 30 */
				    "memory = 2M\n"		    /* 31 */
				    "rom = hello.rom\n";	    /* 32 */

static void expect_network(u32 i, const char *name, u32 mode, u32 subnet, u32 prefix, u32 line)
{
	const struct network_config *n = &cfg.net[i];

	assert_string_equal(n->name, name);
	assert_int_equal(n->mode, mode);
	assert_int_equal(n->subnet, subnet);
	assert_int_equal(n->prefix, prefix);
	assert_int_equal(n->line, line);
}

static void expect_pool(u32 i, u32 gateway, u32 pool_start, u32 pool_size)
{
	assert_int_equal(cfg.net[i].gateway, gateway);
	assert_int_equal(cfg.net[i].pool_start, pool_start);
	assert_int_equal(cfg.net[i].pool_size, pool_size);
}

static void test_networks_complete(void **state)
{
	const struct vsi_config *web = &cfg.vsi[0], *db = &cfg.vsi[1], *edge = &cfg.vsi[2];
	u8 mac[6];

	(void)state;
	expect_ok(networks_file);
	assert_false(cfg.no_uplink);
	assert_int_equal(cfg.net_mode, CONFIG_NET_STATIC);
	assert_int_equal(cfg.nr_networks, 4);
	expect_network(0, "lan", CONFIG_NETWORK_NAT, 0x0a000300, 24, 4);
	expect_pool(0, 0x0a000301, 0x0a00030a, CONFIG_NAT_POOL_MAX);
	expect_network(1, "dmz", CONFIG_NETWORK_BRIDGED, 0, 0, 7);
	expect_pool(1, 0, 0, 0);
	expect_network(2, "back", CONFIG_NETWORK_INTERNAL, 0xac100000, 29, 9);
	expect_pool(2, 0xac100001, 0xac100002, 5); /* .2 to .6: .7 is the broadcast */
	expect_network(3, "quiet", CONFIG_NETWORK_INTERNAL, 0, 0, 12);
	expect_pool(3, 0, 0, 0);

	assert_true(web->has_net);
	assert_int_equal(web->net, 0);
	assert_int_equal(web->net_line, 18);
	assert_memory_equal(web->mac, "\x52\x54\x00\x12\x34\x57", 6);
	assert_int_equal(web->nr_forwards, 2);
	assert_int_equal(web->fwd[0].host_port, 8080);
	assert_int_equal(web->fwd[0].vsi_port, 80);
	assert_int_equal(web->fwd[0].line, 20);
	assert_int_equal(web->fwd[1].host_port, 2222);
	assert_int_equal(web->fwd[1].vsi_port, 22);
	assert_int_equal(web->fwd[1].line, 21);

	assert_true(db->has_net);
	assert_int_equal(db->net, 2);
	assert_int_equal(db->net_line, 26);
	config_default_mac("db", mac);
	assert_memory_equal(db->mac, mac, 6);
	assert_int_equal(db->nr_forwards, 0);

	assert_true(edge->has_net);
	assert_int_equal(edge->net, 1);
	assert_int_equal(edge->net_line, 29);
	assert_memory_equal(edge->mac, "\x02\x60\x2c\x72\x00\x7c", 6);
}

/* FNV-1a (64 bits) of the name in bytes 1-5, behind 02: locally administered, unicast. */
static void test_default_mac(void **state)
{
	u8 a[6], b[6];

	(void)state;
	config_default_mac("web", a);
	assert_memory_equal(a, "\x02\x19\x48\x72\x1e\xf1", 6);
	config_default_mac("db", a);
	assert_memory_equal(a, "\x02\x07\xb5\x3b\xa1\xe3", 6);
	config_default_mac("a", a);
	config_default_mac("b", b);
	assert_memory_not_equal(a, b, 6);
	config_default_mac("", a);
	assert_int_equal(a[0], 0x02);
	config_default_mac("0123456789012345678901234567890", a);
	assert_int_equal(a[0] & 1, 0);
}

/* The DHCP pool from subnet + 10 in a /27 or larger, else from + 2; never the broadcast. */
static void test_network_pools(void **state)
{
	(void)state;
	expect_ok("[network a]\nmode = nat\nsubnet = 10.0.0.0/27\n");
	expect_pool(0, 0x0a000001, 0x0a00000a, 21);
	expect_ok("[network a]\nmode = nat\nsubnet = 10.0.0.16/28\n");
	expect_pool(0, 0x0a000011, 0x0a000012, 13);
	expect_ok("[network a]\nmode = internal\nsubnet = 10.0.0.0/8\n");
	expect_pool(0, 0x0a000001, 0x0a00000a, CONFIG_NAT_POOL_MAX);
	expect_ok("[network a]\nmode = nat\nsubnet = 192.168.7.248/29\n");
	expect_pool(0, 0xc0a807f9, 0xc0a807fa, 5);
	assert_int_equal(cfg.net_mode, CONFIG_NET_NONE); /* nobody uses it */
}

static void test_network_section_errors(void **state)
{
	char text[1024];
	size_t len = 0;

	(void)state;
	expect_one_error("[network lan]\nmode = nat\nsubnet = 10.0.3.0/24\ncolour = blue\n", 4,
			 "unknown key 'colour' in [network NAME]; keys: mode, subnet");
	assert_int_equal(parse("[network lan]\nmdoe = nat\n"), -EINVAL);
	assert_int_equal(errs.nr, 2);
	expect_error_at(0, 1, "network 'lan' has no 'mode'; add a line like 'mode = nat'");
	expect_error_at(1, 2, "unknown key 'mdoe'; did you mean 'mode'?");
	expect_one_error("[network lan]\nmode = internal\ntype = nat\n", 3,
			 "unknown key 'type'; did you mean 'mode'?");
	expect_one_error("[network lan]\nmode = internal\nnet = lan\n", 3,
			 "'net' belongs in [vsi NAME], not in [network NAME]");
	expect_one_error(VSI("a", "1") "subnet = 10.0.3.0/24\n", 5,
			 "'subnet' belongs in [network NAME], not in [vsi NAME]");
	expect_one_error("[hypervisor]\nmode = nat\n", 2, "'mode' belongs in [network NAME]");
	expect_one_error("[network lan]\nmode = natt\n", 2,
			 "mode = 'natt' is not valid; did you mean 'nat'? (nat, bridged or "
			 "internal)");
	expect_one_error("[network lan]\nmode = routed\n", 2,
			 "mode = 'routed' is not valid; use nat, bridged or internal");
	expect_one_error("[network lan]\nmode = internal\nmode = nat\n", 3,
			 "'mode' is already set on line 2");
	expect_one_error("[network lan]\nmode = nat\n", 1,
			 "nat network 'lan' has no subnet; add a line like 'subnet = 10.0.3.0/24'");
	expect_one_error(
	    "[network lan]\nmode = bridged\nsubnet = 10.0.3.0/24\n", 3,
	    "a bridged network takes no subnet: the LAN's DHCP server serves its VSIs");
	expect_one_error("[network lan]\nsubnet = 10.0.3.0/24\nmode = bridged\n", 2,
			 "a bridged network takes no subnet");
	expect_one_error(
	    "[network lan]\nmode = internal\n[network lan]\nmode = internal\n", 3,
	    "network name 'lan' is already used on line 1; name each network uniquely");
	expect_one_error("[network Lan]\nmode = internal\n", 1,
			 "network name 'Lan' is invalid: use 1 to 31 of a-z, 0-9, '_' and '-'");
	expect_one_error("[network]\nmode = internal\n", 1,
			 "a network section needs a name, e.g. [network lan]");
	/* the same name for a VSI and a network is fine */
	expect_ok("[network web]\nmode = internal\n" NET_VSI("web", "1", "net = web\n"));

	for (u32 i = 0; i <= CONFIG_MAX_NETWORKS; i++)
		len +=
		    snprintf(text + len, sizeof(text) - len, "[network n%u]\nmode = internal\n", i);
	expect_one_error(text, 2 * CONFIG_MAX_NETWORKS + 1,
			 "more than 8 networks; remove this one or let its VSIs share another");
	assert_int_equal(cfg.nr_networks, CONFIG_MAX_NETWORKS);
	text[len - 2] = '\0'; /* "mode = interna": checked past the limit too */
	assert_int_equal(parse(text), -EINVAL);
	assert_int_equal(errs.nr, 2);
	expect_error_at(1, 2 * CONFIG_MAX_NETWORKS + 2, "mode = 'interna' is not valid");
}

static void test_subnet_syntax(void **state)
{
	(void)state;
	expect_one_error("[network lan]\nmode = nat\nsubnet = 10.0.3.0\n", 3,
			 "subnet = '10.0.3.0' is not an IPv4 subnet; write e.g. "
			 "subnet = 10.0.3.0/24");
	expect_one_error("[network lan]\nmode = nat\nsubnet = 10.0.3/24\n", 3,
			 "is not an IPv4 subnet");
	expect_one_error("[network lan]\nmode = nat\nsubnet = 10.0.3.0/33\n", 3,
			 "is not an IPv4 subnet");
	expect_one_error("[network lan]\nmode = nat\nsubnet = 10.0.3.0/24 x\n", 3,
			 "is not an IPv4 subnet");
	expect_one_error("[network lan]\nmode = nat\nsubnet = 10.0.3.0/30\n", 3,
			 "subnet = 10.0.3.0/30 is too small: a network needs 8 addresses or more");
	expect_one_error("[network lan]\nmode = nat\nsubnet = 10.0.0.0/7\n", 3,
			 "subnet = 10.0.0.0/7 is too large: the prefix is /8 at most");
	expect_one_error("[network lan]\nmode = nat\nsubnet = 10.0.3.5/24\n", 3,
			 "subnet = 10.0.3.5/24 has host bits set; did you mean 10.0.3.0/24?");
	expect_one_error("[network lan]\nmode = nat\nsubnet = 127.0.0.0/8\n", 3,
			 "subnet = 127.0.0.0/8 is reserved");
	expect_one_error("[network lan]\nmode = nat\nsubnet = 224.0.0.0/24\n", 3, "is reserved");
}

static void test_vsi_net(void **state)
{
	(void)state;
	/* used before it is defined */
	expect_ok(NET_VSI("a", "1", "net = lan\n") NAT_LAN);
	assert_true(cfg.vsi[0].has_net);
	assert_int_equal(cfg.vsi[0].net, 0);
	assert_int_equal(cfg.net_mode, CONFIG_NET_DHCP); /* a nat VSI turns the network on */
	expect_ok(NET_VSI("a", "1", "") NAT_LAN);
	assert_false(cfg.vsi[0].has_net);
	assert_memory_equal(cfg.vsi[0].mac, "\0\0\0\0\0\0", 6);

	expect_one_error(NAT_LAN "[network dmz]\nmode = bridged\n" NET_VSI("a", "1", "net = lam\n"),
			 10, "no network named 'lam'; did you mean 'lan'? networks: lan, dmz");
	expect_one_error(NAT_LAN NET_VSI("a", "1", "net = office\n"), 8,
			 "no network named 'office'; define it with [network office] "
			 "(networks: lan)");
	expect_one_error(NET_VSI("a", "1", "net = lan\n"), 5,
			 "no network named 'lan'; define it with [network lan] (networks: none)");
	expect_one_error(NAT_LAN NET_VSI("a", "1", "net = lan\nnet = lan\n"), 9,
			 "'net' is already set on line 8; give each key once per section");
	expect_one_error(NAT_LAN NET_VSI("a", "1", "net = Lan\n"), 8,
			 "net = 'Lan' is not a network name; write e.g. net = lan for "
			 "[network lan]");
	expect_one_error(NAT_LAN NET_VSI("a", "1", "network = lan\n"), 8,
			 "unknown key 'network'; did you mean 'net'? ('network' belongs in "
			 "[hypervisor])");
}

static void test_vsi_mac(void **state)
{
	u8 mac[6];
	char text[512];

	(void)state;
	expect_one_error(NAT_LAN NET_VSI("a", "1", "net = lan\nmac = 52:54:00:12:34\n"), 9,
			 "mac = '52:54:00:12:34' is not a MAC address; write e.g. "
			 "mac = 52:54:00:12:34:57");
	expect_one_error(NAT_LAN NET_VSI("a", "1", "net = lan\nmac = 52-54-00-12-34-57\n"), 9,
			 "is not a MAC address");
	expect_one_error(NAT_LAN NET_VSI("a", "1", "net = lan\nmac = 01:00:5e:00:00:01\n"), 9,
			 "mac = 01:00:5e:00:00:01 is a multicast address (the first byte is odd); "
			 "e.g. 00:00:5e:00:00:01");
	expect_one_error(NAT_LAN NET_VSI("a", "1", "net = lan\nmac = ff:ff:ff:ff:ff:ff\n"), 9,
			 "is a multicast address");
	expect_one_error(NAT_LAN NET_VSI("a", "1", "net = lan\nmac = 00:00:00:00:00:00\n"), 9,
			 "mac = 00:00:00:00:00:00 is not an address; leave mac out for one made "
			 "from the VSI's name");
	expect_one_error(NAT_LAN NET_VSI("a", "1", "mac = 52:54:00:12:34:57\n"), 8,
			 "mac is set, but VSI 'a' has no net, so no network device");

	/* upper case hex is fine */
	expect_ok(NAT_LAN NET_VSI("a", "1", "net = lan\nmac = 52:54:00:AB:cd:EF\n"));
	assert_memory_equal(cfg.vsi[0].mac, "\x52\x54\x00\xab\xcd\xef", 6);

	/* two given MACs, on different networks: reported at the later VSI */
	expect_one_error(NAT_LAN "[network b]\nmode = internal\n" NET_VSI(
			     "a", "1", "net = lan\nmac = 52:54:00:12:34:57\n")
			     NET_VSI("b", "2", "mac = 52:54:00:12:34:57\nnet = b\n"),
			 16,
			 "MAC 52:54:00:12:34:57 is already VSI 'a''s (line 11); give each VSI its "
			 "own mac");
	/* a given MAC equal to a derived one */
	config_default_mac("a", mac);
	snprintf(text, sizeof(text),
		 NAT_LAN NET_VSI("a", "1", "net = lan\n")
		     NET_VSI("b", "2", "net = lan\nmac = %02x:%02x:%02x:%02x:%02x:%02x\n"),
		 mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
	expect_one_error(text, 14, "is already VSI 'a''s (line 8)");
	/* the storage NIC's MAC */
	expect_one_error("[hypervisor]\nstorage_nic = 52:54:00:12:34:56\n" NAT_LAN NET_VSI(
			     "a", "1", "net = lan\nmac = 52:54:00:12:34:56\n"),
			 11, "MAC 52:54:00:12:34:56 is the storage NIC's (line 2); give VSI 'a'");
}

static void test_forwards(void **state)
{
	char text[1024];
	size_t len;

	(void)state;
	expect_ok(NAT_LAN NET_VSI("a", "1", "net = lan\nforward = tcp:65535:1\n"));
	assert_int_equal(cfg.vsi[0].fwd[0].host_port, 65535);
	assert_int_equal(cfg.vsi[0].fwd[0].vsi_port, 1);

	expect_one_error(NAT_LAN NET_VSI("a", "1", "net = lan\nforward = 8080:80\n"), 9,
			 "forward = '8080:80' is not tcp:HOSTPORT:VSIPORT with ports 1-65535; "
			 "write e.g. forward = tcp:8080:80");
	expect_one_error(NAT_LAN NET_VSI("a", "1", "net = lan\nforward = udp:53:53\n"), 9,
			 "forward = 'udp:53:53': only tcp ports are forwarded");
	expect_one_error(NAT_LAN NET_VSI("a", "1", "net = lan\nforward = tcp:0:80\n"), 9,
			 "is not tcp:HOSTPORT:VSIPORT");
	expect_one_error(NAT_LAN NET_VSI("a", "1", "net = lan\nforward = tcp:80:65536\n"), 9,
			 "is not tcp:HOSTPORT:VSIPORT");
	expect_one_error(NAT_LAN NET_VSI("a", "1", "net = lan\nforward = tcp:80\n"), 9,
			 "is not tcp:HOSTPORT:VSIPORT");
	expect_one_error(NAT_LAN NET_VSI("a", "1", "net = lan\nforward = tcp:80:80:1\n"), 9,
			 "is not tcp:HOSTPORT:VSIPORT");
	expect_one_error(NAT_LAN NET_VSI("a", "1", "net = lan\nforward = tcp\n"), 9,
			 "is not tcp:HOSTPORT:VSIPORT");
	expect_one_error(NAT_LAN NET_VSI("a", "1", "net = lan\nforward = tcp: 80:80\n"), 9,
			 "is not tcp:HOSTPORT:VSIPORT");

	expect_one_error(NET_VSI("a", "1", "forward = tcp:8080:80\n"), 5,
			 "forward needs a nat network, but VSI 'a' has no net; add e.g. net = lan");
	expect_one_error("[network dmz]\nmode = bridged\n" NET_VSI(
			     "a", "1", "net = dmz\nforward = tcp:8080:80\nforward = tcp:8081:80\n"),
			 8,
			 "forward needs a nat network; VSI 'a' is on bridged network 'dmz' "
			 "(line 1)");
	expect_one_error("[network back]\nmode = internal\n" NET_VSI(
			     "a", "1", "forward = tcp:8080:80\nnet = back\n"),
			 7, "VSI 'a' is on internal network 'back'");

	/* one host port, one forward: within a VSI and between VSIs */
	expect_one_error(
	    NAT_LAN NET_VSI("a", "1", "net = lan\nforward = tcp:8080:80\nforward = tcp:8080:81\n"),
	    10,
	    "host port 8080 is already forwarded on line 9 (VSI 'a'); give each "
	    "forward its own host port");
	expect_one_error(NAT_LAN NET_VSI("a", "1", "net = lan\nforward = tcp:2222:22\n")
			     NET_VSI("b", "2", "net = lan\nforward = tcp:2222:22\n"),
			 15, "host port 2222 is already forwarded on line 9 (VSI 'a')");
	/* the same VSI port behind two host ports is fine */
	expect_ok(NAT_LAN NET_VSI("a", "1", "net = lan\nforward = tcp:8080:80\n")
		      NET_VSI("b", "2", "net = lan\nforward = tcp:8081:80\n"));

	len = snprintf(text, sizeof(text), NAT_LAN NET_VSI("a", "1", "net = lan\n"));
	for (u32 i = 0; i < CONFIG_MAX_FORWARDS; i++)
		len += snprintf(text + len, sizeof(text) - len, "forward = tcp:%u:80\n", 8000 + i);
	expect_ok(text);
	assert_int_equal(cfg.vsi[0].nr_forwards, CONFIG_MAX_FORWARDS);
	assert_int_equal(cfg.vsi[0].fwd[7].host_port, 8007);
	snprintf(text + len, sizeof(text) - len, "forward = tcp:9000:80\n");
	expect_one_error(text, 9 + CONFIG_MAX_FORWARDS,
			 "more than 8 forwards in one VSI; remove this one");
}

static void test_subnet_conflicts(void **state)
{
	(void)state;
	expect_one_error("[hypervisor]\naddress = 10.0.0.15/16\n" NAT_LAN, 5,
			 "subnet 10.0.3.0/24 overlaps the hypervisor's address 10.0.0.15/16 "
			 "(line 2); choose a subnet apart from it");
	expect_one_error("[hypervisor]\naddress = 10.0.3.200/25\n" NAT_LAN, 5,
			 "overlaps the hypervisor's address");
	expect_ok("[hypervisor]\naddress = 10.0.2.15/24\n" NAT_LAN);
	expect_one_error("[hypervisor]\nnetwork = dhcp\ngateway = 10.0.3.254\n" NAT_LAN, 6,
			 "subnet 10.0.3.0/24 holds the hypervisor's gateway 10.0.3.254 (line 3)");
	expect_one_error(NAT_LAN DISK_VSI("a", "1", "nbd://10.0.3.2/web"), 3,
			 "subnet 10.0.3.0/24 holds storage server 10.0.3.2 (VSI 'a''s disk, line "
			 "8); choose another subnet");
	expect_ok(NAT_LAN DISK_VSI("a", "1", "nbd://10.0.2.2/web"));
	expect_one_error(NAT_LAN "[network big]\nmode = internal\nsubnet = 10.0.0.0/8\n", 6,
			 "subnet 10.0.0.0/8 overlaps network 'lan''s subnet (line 3); give each "
			 "network its own subnet");
	expect_one_error("[network small]\nmode = internal\nsubnet = 10.0.3.128/25\n" NAT_LAN, 6,
			 "subnet 10.0.3.0/24 overlaps network 'small''s subnet (line 3)");
	/* internal networks without a subnet, and bridged ones, have no addresses */
	expect_ok(NAT_LAN "[network a]\nmode = internal\n[network b]\nmode = internal\n"
			  "[network c]\nmode = bridged\n");
	expect_ok(NAT_LAN "[network lan2]\nmode = nat\nsubnet = 10.0.4.0/24\n");
}

static void test_uplink(void **state)
{
	(void)state;
	expect_ok("[hypervisor]\nuplink = none\n[network a]\nmode = internal\n" NET_VSI(
	    "a", "1", "net = a\n"));
	assert_true(cfg.no_uplink);
	assert_int_equal(cfg.net_mode, CONFIG_NET_NONE); /* internal needs no uplink */
	expect_ok(
	    "[network a]\nmode = internal\nsubnet = 10.0.3.0/24\n" NET_VSI("a", "1", "net = a\n"));
	assert_false(cfg.no_uplink);
	assert_int_equal(cfg.net_mode, CONFIG_NET_NONE);
	expect_ok("[network dmz]\nmode = bridged\n" NET_VSI("a", "1", "net = dmz\n"));
	assert_int_equal(cfg.net_mode, CONFIG_NET_DHCP); /* a bridged VSI turns it on */

	expect_one_error("[hypervisor]\nuplink = none\n" NAT_LAN, 4,
			 "mode = nat needs the uplink, but uplink = none (line 2)");
	expect_one_error("[hypervisor]\nuplink = none\n[network dmz]\nmode = bridged\n", 4,
			 "a bridged VSI without an uplink reaches nothing; use mode = internal");
	expect_one_error("[hypervisor]\nuplink = eth0\n", 2,
			 "uplink = 'eth0' is not valid; use none, or leave it out for the NIC that "
			 "carries storage");
	expect_one_error("[hypervisor]\nnetwork = none\n" NAT_LAN NET_VSI("a", "1", "net = lan\n"),
			 2,
			 "network = none, but VSI 'a''s network 'lan' needs the uplink; use "
			 "network = dhcp or static");
	expect_ok("[hypervisor]\nnetwork = static\naddress = 10.0.2.15/24\n" NAT_LAN NET_VSI(
	    "a", "1", "net = lan\n"));
	assert_int_equal(cfg.net_mode, CONFIG_NET_STATIC);
}

static void test_storage_vlan(void **state)
{
	(void)state;
	expect_ok("[hypervisor]\n");
	assert_int_equal(cfg.storage_vlan, 0); /* the default: the untagged LAN */
	expect_ok("[hypervisor]\nstorage_vlan = 100\n");
	assert_int_equal(cfg.storage_vlan, 100);
	expect_ok("[hypervisor]\nstorage_vlan = 1\n");
	assert_int_equal(cfg.storage_vlan, 1);
	expect_ok("[hypervisor]\nstorage_vlan = 4094\n");
	assert_int_equal(cfg.storage_vlan, 4094);
	expect_one_error("[hypervisor]\nstorage_vlan = 0\n", 2,
			 "storage_vlan = '0' is not a VLAN ID from 1 to 4094; write e.g. "
			 "storage_vlan = 100");
	expect_one_error("[hypervisor]\nstorage_vlan = 4095\n", 2, "from 1 to 4094");
	expect_one_error("[hypervisor]\nstorage_vlan = 0x64\n", 2, "from 1 to 4094");
	expect_one_error("[hypervisor]\nstorage_vlan = 18446744073709551716\n", 2,
			 "from 1 to 4094");
	expect_one_error(VSI("a", "1") "storage_vlan = 100\n", 5,
			 "'storage_vlan' belongs in [hypervisor]");
	/* bridged and internal networks beside a storage VLAN; nat is refused */
	expect_ok("[hypervisor]\nstorage_vlan = 100\n[network dmz]\nmode = bridged\n" NET_VSI(
	    "a", "1", "net = dmz\n"));
	expect_one_error(
	    "[hypervisor]\nstorage_vlan = 100\n" NAT_LAN NET_VSI("a", "1", "net = lan\n"), 4,
	    "mode = nat translates to the hypervisor's address, which storage_vlan = "
	    "100 (line 2) puts on the storage VLAN; use mode = bridged, or leave out "
	    "storage_vlan");
	expect_one_error(NAT_LAN "[hypervisor]\nstorage_vlan = 7\n", 2, "(line 5)");
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
		cmocka_unit_test_setup(test_firmware, setup),
		cmocka_unit_test_setup(test_ovmf_vars, setup),
		cmocka_unit_test_setup(test_choices, setup),
		cmocka_unit_test_setup(test_max_vsis, setup),
		cmocka_unit_test_setup(test_extra_vsi_checked, setup),
		cmocka_unit_test_setup(test_networks_complete, setup),
		cmocka_unit_test_setup(test_default_mac, setup),
		cmocka_unit_test_setup(test_network_pools, setup),
		cmocka_unit_test_setup(test_network_section_errors, setup),
		cmocka_unit_test_setup(test_subnet_syntax, setup),
		cmocka_unit_test_setup(test_vsi_net, setup),
		cmocka_unit_test_setup(test_vsi_mac, setup),
		cmocka_unit_test_setup(test_forwards, setup),
		cmocka_unit_test_setup(test_subnet_conflicts, setup),
		cmocka_unit_test_setup(test_uplink, setup),
		cmocka_unit_test_setup(test_storage_vlan, setup),
		cmocka_unit_test_setup(test_all_errors_reported, setup),
		cmocka_unit_test_setup(test_error_limit, setup),
		cmocka_unit_test_setup(test_bad_arguments, setup),
		cmocka_unit_test_setup(test_report, setup),
	};

	return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
