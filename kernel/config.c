/*
 * The configuration file parser and validator (format: docs/config.md).
 *
 * Two passes over untrusted text. The first walks the lines once, each copied
 * into a bounded buffer, and checks everything a line can show on its own
 * (syntax, keys, values, CPUs and modules against the machine). The second
 * checks what needs the whole file: required keys, CPUs given twice or to the
 * service CPU, and the total RAM. Every problem is recorded with its line;
 * nothing stops at the first one, and the earliest lines' problems are kept
 * when there are too many. Work is linear in the input size.
 */
#include <hv/config.h>
#include <hv/errno.h>
#include <hv/log.h>
#include <hv/printf.h>
#include <hv/string.h>

#include "config_internal.h"

#define SUGGEST_MAX 32 /* words longer than this get no "did you mean" */

/*
 * Insert a problem into errs, kept sorted by line (stable); when full, the
 * latest line is dropped, so the first CONFIG_MAX_ERRORS problems are kept.
 */
static void add_verror(struct parser *p, u32 line, const char *fmt, va_list ap)
{
	struct config_errors *errs = p->errs;
	u32 pos = errs->nr, last;

	while (pos > 0 && errs->e[pos - 1].line > line)
		pos--;
	if (errs->nr == CONFIG_MAX_ERRORS) {
		errs->truncated = true;
		if (pos == CONFIG_MAX_ERRORS)
			return;
		last = CONFIG_MAX_ERRORS - 1;
	} else {
		last = errs->nr++;
	}
	memmove(&errs->e[pos + 1], &errs->e[pos], (last - pos) * sizeof(errs->e[0]));
	errs->e[pos].line = line;
	vsnprintf(errs->e[pos].msg, sizeof(errs->e[pos].msg), fmt, ap);
}

/* Record a problem found at a given line. */
static void __printf(3, 4) add_error(struct parser *p, u32 line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	add_verror(p, line, fmt, ap);
	va_end(ap);
}

void config_error(struct parser *p, u32 line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	add_verror(p, line, fmt, ap);
	va_end(ap);
}

/* Record a problem found on the line being parsed. */
static void __printf(2, 3) line_error(struct parser *p, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	add_verror(p, p->line, fmt, ap);
	va_end(ap);
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static char to_lower(char c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

/* Cut blanks off both ends of s in place; returns the new start. */
static char *trim(char *s)
{
	size_t n;

	while (is_blank(*s))
		s++;
	n = strlen(s);
	while (n && is_blank(s[n - 1]))
		s[--n] = '\0';
	return s;
}

/* Copy the string src into dst[size], cut if needed, always NUL-terminated. */
static void copy_str(char *dst, size_t size, const char *src)
{
	size_t i;

	for (i = 0; i + 1 < size && src[i]; i++)
		dst[i] = src[i];
	dst[i] = '\0';
}

/*
 * Edit distance ignoring case, counting insertions, deletions, substitutions
 * and swaps of neighbours (optimal string alignment); U32 max if too long.
 */
static u32 edit_distance(const char *a, const char *b)
{
	u32 d[3][SUGGEST_MAX + 1];
	size_t la = strlen(a), lb = strlen(b);

	if (la > SUGGEST_MAX || lb > SUGGEST_MAX)
		return UINT32_MAX;
	for (size_t j = 0; j <= lb; j++)
		d[0][j] = j;
	for (size_t i = 1; i <= la; i++) {
		u32 *cur = d[i % 3], *prev = d[(i - 1) % 3], *prev2 = d[(i + 1) % 3];
		char ca = to_lower(a[i - 1]);

		cur[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			char cb = to_lower(b[j - 1]);
			u32 v = MIN(prev[j], cur[j - 1]) + 1;

			v = MIN(v, prev[j - 1] + (ca != cb));
			if (i > 1 && j > 1 && ca == to_lower(b[j - 2]) && to_lower(a[i - 2]) == cb)
				v = MIN(v, prev2[j - 2] + 1);
			cur[j] = v;
		}
	}
	return d[la % 3][lb];
}

/* Keep cand in *best if it is a nearer miss for word than what *best holds. */
static void consider(const char *word, const char *cand, const char **best, u32 *best_d)
{
	u32 limit = strlen(word) <= 4 ? 1 : 2;
	u32 d = edit_distance(word, cand);

	if (d <= limit && d < *best_d) {
		*best = cand;
		*best_d = d;
	}
}

/* The name in names[0..n) that word most likely misspells, or NULL. */
const char *config_closest(const char *word, const char *const *names, u32 n)
{
	const char *best = NULL;
	u32 best_d = UINT32_MAX;

	for (u32 i = 0; i < n; i++)
		if (names[i])
			consider(word, names[i], &best, &best_d);
	return best;
}

/*
 * Parse decimal digits at *s, advancing past all of them. -EINVAL if there
 * are none, -ERANGE (with *v saturated) if the number exceeds 64 bits.
 */
static int scan_number(const char **s, u64 *v)
{
	const char *c = *s;
	int rc = 0;

	if (!is_digit(*c))
		return -EINVAL;
	for (*v = 0; is_digit(*c); c++) {
		u64 digit = *c - '0';

		if (*v > (UINT64_MAX - digit) / 10) {
			*v = UINT64_MAX;
			rc = -ERANGE;
		} else if (!rc) {
			*v = *v * 10 + digit;
		}
	}
	*s = c;
	return rc;
}

/* A whole string that is one decimal number. */
int config_number(const char *s, u64 *v)
{
	int rc = scan_number(&s, v);

	if (rc == -EINVAL || *s)
		return -EINVAL;
	return rc;
}

/* A unit letter K, M or G (any case, optionally followed by "iB") at *s: its power of 1024. */
static u32 scan_unit(const char **s)
{
	const char *c = *s;
	u32 unit;

	switch (to_lower(*c)) {
	case 'k':
		unit = 1;
		break;
	case 'm':
		unit = 2;
		break;
	case 'g':
		unit = 3;
		break;
	default:
		return 0;
	}
	c++;
	if (to_lower(c[0]) == 'i' && to_lower(c[1]) == 'b')
		c += 2;
	*s = c;
	return unit;
}

/*
 * A size: one or more numbers with units from large to small ("64M",
 * "1G512M", "64M5K"); a number without a unit is bytes and ends the size.
 * -EINVAL on bad syntax, -ERANGE past 64 bits.
 */
static int parse_size(const char *s, u64 *bytes)
{
	u64 total = 0, n;
	u32 prev = 4, unit;
	int rc;

	do {
		rc = scan_number(&s, &n);
		if (rc)
			return rc;
		unit = scan_unit(&s);
		if (unit >= prev)
			return -EINVAL;
		prev = unit;
		if (n > (UINT64_MAX >> (10 * unit)) || total > UINT64_MAX - (n << (10 * unit)))
			return -ERANGE;
		total += n << (10 * unit);
	} while (*s && unit);
	if (*s)
		return -EINVAL;
	*bytes = total;
	return 0;
}

/* An exact size for messages: "3072 MiB", "4 KiB" or "1000 bytes". */
const char *config_size_text(char *buf, size_t size, u64 bytes)
{
	if (bytes && IS_ALIGNED(bytes, MiB))
		snprintf(buf, size, "%llu MiB", (unsigned long long)(bytes / MiB));
	else if (bytes && IS_ALIGNED(bytes, KiB))
		snprintf(buf, size, "%llu KiB", (unsigned long long)(bytes / KiB));
	else
		snprintf(buf, size, "%llu bytes", (unsigned long long)bytes);
	return buf;
}

/* A MiB-aligned size as a value to write in the file: "66M", "2G". */
static const char *size_value(char *buf, size_t size, u64 bytes)
{
	if (IS_ALIGNED(bytes, GiB))
		snprintf(buf, size, "%lluG", (unsigned long long)(bytes / GiB));
	else
		snprintf(buf, size, "%lluM", (unsigned long long)(bytes / MiB));
	return buf;
}

/* n in decimal, into buf. */
static const char *number_text(char *buf, size_t size, u64 n)
{
	snprintf(buf, size, "%llu", (unsigned long long)n);
	return buf;
}

/* "CPUs 0-3", "only CPU 0" or "no CPUs": what this machine has. */
static const char *machine_cpus(char *buf, size_t size, u32 nr_cpus)
{
	if (nr_cpus == 0)
		snprintf(buf, size, "no CPUs");
	else if (nr_cpus == 1)
		snprintf(buf, size, "only CPU 0");
	else
		snprintf(buf, size, "CPUs 0-%u", nr_cpus - 1);
	return buf;
}

/* "a, b, c" into buf[size], ending in "..." if it does not fit; "none" if n is 0. */
const char *config_name_list(char *buf, size_t size, const char *const *names, u32 n)
{
	size_t len = 0;

	snprintf(buf, size, "none");
	for (u32 i = 0; i < n; i++) {
		int w = snprintf(buf + len, size - len, "%s%s", i ? ", " : "",
				 names[i] ? names[i] : "");

		if (w < 0 || (size_t)w >= size - len) {
			snprintf(buf + size - 4, 4, "...");
			break;
		}
		len += w;
	}
	return buf;
}

/* Index of val in names[0..n), or -1 after an error naming the choices. */
int config_choice(struct parser *p, const char *key, const char *val, const char *const *names,
		  u32 n, const char *list)
{
	const char *hint;

	for (u32 i = 0; i < n; i++)
		if (!strcmp(val, names[i]))
			return i;
	hint = config_closest(val, names, n);
	if (hint)
		line_error(p, "%s = '%.40s' is not valid; did you mean '%s'? (%s)", key, val, hint,
			   list);
	else
		line_error(p, "%s = '%.40s' is not valid; use %s", key, val, list);
	return -1;
}

/*
 * Key handlers: val is the trimmed, non-empty value; each stores it into
 * p->out or p->vsi, or records why it cannot.
 */
static void parse_service_cpu(struct parser *p, char *val)
{
	char have[24];
	u64 cpu;
	int rc = config_number(val, &cpu);

	p->service_cpu_bad = true;
	if (rc == -EINVAL) {
		line_error(p,
			   "service_cpu = '%.40s' is not a CPU number; write e.g. service_cpu = 0",
			   val);
		return;
	}
	if (rc || cpu >= p->env->nr_cpus) {
		line_error(p, "service CPU %.24s does not exist: this machine has %s", val,
			   machine_cpus(have, sizeof(have), p->env->nr_cpus));
		return;
	}
	p->out->service_cpu = cpu;
	p->service_cpu_bad = false;
}

static void parse_log_level(struct parser *p, char *val)
{
	static const char *const levels[] = { "err", "warn", "info", "debug" };
	int level = config_choice(p, "log_level", val, levels, ARRAY_SIZE(levels),
				  "err, warn, info or debug");

	if (level >= 0)
		p->out->log_level = level; /* the order of enum log_level */
}

/* Append cpu to the current VSI unless it is listed already. */
static void add_cpu(struct parser *p, u32 cpu)
{
	struct vsi_config *vsi = p->vsi;

	for (u32 i = 0; i < vsi->nr_cpus; i++) {
		if (vsi->cpus[i] == cpu) {
			line_error(p, "CPU %u is listed twice in this VSI; list each CPU once",
				   cpu);
			return;
		}
	}
	vsi->cpus[vsi->nr_cpus++] = cpu;
}

/* One entry of a CPU list, "N" or "N-M"; false if the list cannot go on. */
static bool parse_cpu_item(struct parser *p, const char *item)
{
	const char *s = item;
	u32 nr = p->env->nr_cpus;
	char have[24], num[24];
	u64 lo, hi;
	int rl, rh;

	rl = rh = scan_number(&s, &lo);
	hi = lo;
	while (is_blank(*s))
		s++;
	if (*s == '-') {
		for (s++; is_blank(*s); s++)
			;
		rh = scan_number(&s, &hi);
	}
	if (rl == -EINVAL || rh == -EINVAL || *s) {
		line_error(p, "'%.40s' is not a CPU number or range; write e.g. cpus = 2 or 1-3",
			   item);
		return true;
	}
	if (rl || lo >= nr) {
		line_error(p, "CPU %.24s does not exist: this machine has %s",
			   rl ? item : number_text(num, sizeof(num), lo),
			   machine_cpus(have, sizeof(have), nr));
		return true;
	}
	if (lo > hi) {
		line_error(p, "CPU range %.40s is backwards; write %llu-%llu", item,
			   (unsigned long long)hi, (unsigned long long)lo);
		return true;
	}
	if (hi >= nr) {
		line_error(p, "CPU %u does not exist: this machine has %s", nr,
			   machine_cpus(have, sizeof(have), nr));
		return true;
	}
	if (hi - lo >= CONFIG_MAX_CPUS - p->vsi->nr_cpus) {
		line_error(p, "too many CPUs: a VSI has at most %u", CONFIG_MAX_CPUS);
		return false;
	}
	for (u64 cpu = lo; cpu <= hi; cpu++)
		add_cpu(p, cpu);
	return true;
}

/* "cpus": comma-separated entries, each checked on its own. */
static void parse_cpus(struct parser *p, char *val)
{
	char *item = val, *next;

	do {
		next = strchr(item, ',');
		if (next)
			*next++ = '\0';
		item = trim(item);
		if (!*item)
			line_error(p, "empty entry in the CPU list; write e.g. cpus = 1,2 or 1-3");
		else if (!parse_cpu_item(p, item))
			return;
		item = next;
	} while (item);
}

/* "memory": a size, 2 MiB aligned, 2 MiB to 3 GiB; the total is checked at the end. */
static void parse_memory(struct parser *p, char *val)
{
	char lo[24], hi[24];
	u64 size, down;
	int rc = parse_size(val, &size);

	if (rc == -ERANGE) {
		line_error(p, "memory = %.40s is too large to count; write e.g. 64M or 2G", val);
	} else if (rc) {
		line_error(p, "memory = '%.40s' is not a size; write e.g. 64M, 2G or 1G512M", val);
	} else if (size < CONFIG_RAM_ALIGN) {
		line_error(p, "memory = %.40s is too small: a VSI needs at least 2 MiB; try 2M",
			   val);
	} else if (size > CONFIG_RAM_MAX) {
		line_error(p,
			   "memory = %.40s is too large: a VSI's RAM lies below 3 GiB "
			   "(docs/vsi-platform.md); at most 3G",
			   val);
	} else if (!IS_ALIGNED(size, CONFIG_RAM_ALIGN)) {
		down = ALIGN_DOWN(size, CONFIG_RAM_ALIGN);
		if (down + CONFIG_RAM_ALIGN > down)
			line_error(p, "memory = %.40s is not a multiple of 2 MiB; try %s or %s",
				   val, size_value(lo, sizeof(lo), down),
				   size_value(hi, sizeof(hi), down + CONFIG_RAM_ALIGN));
		else
			line_error(p, "memory = %.40s is not a multiple of 2 MiB; try %s", val,
				   size_value(lo, sizeof(lo), down));
	} else {
		p->vsi->ram_size = size;
	}
}

/* Index of the boot module called name, or -1. */
int config_find_module(const struct config_env *env, const char *name)
{
	for (u32 i = 0; env->modules && i < env->nr_modules; i++)
		if (env->modules[i] && !strcmp(env->modules[i], name))
			return i;
	return -1;
}

/* No module is called name: suggest the nearest one and list them all. */
void config_module_missing(struct parser *p, const char *name)
{
	const struct config_env *env = p->env;
	u32 n = env->modules ? env->nr_modules : 0;
	const char *hint = config_closest(name, env->modules, n);
	char list[80];

	config_name_list(list, sizeof(list), env->modules, n);
	if (hint)
		line_error(p, "no boot module named '%.40s'; did you mean '%.40s'? modules: %s",
			   name, hint, list);
	else
		line_error(p, "no boot module named '%.40s'; modules: %s", name, list);
}

int config_module_name(struct parser *p, const char *key, const char *val, char *dst, size_t size)
{
	int i;

	if (strlen(val) >= size) {
		line_error(p,
			   "%s = '%.40s...' is too long: module names have at most %zu characters",
			   key, val, size - 1);
		return -EINVAL;
	}
	for (const char *c = val; *c; c++) {
		if (is_blank(*c)) {
			line_error(p, "%s = '%.40s' is not one module name; remove the blanks", key,
				   val);
			return -EINVAL;
		}
	}
	copy_str(dst, size, val);
	i = config_find_module(p->env, val);
	return i < 0 ? -ENOENT : i;
}

/* "rom": the name of an existing boot module of 1 byte to 4 MiB (check_rom: 1 MiB unless OVMF). */
static void parse_rom(struct parser *p, char *val)
{
	const struct config_env *env = p->env;
	char size[32];
	int i = config_module_name(p, "rom", val, p->vsi->rom, sizeof(p->vsi->rom));

	if (i == -ENOENT) {
		config_module_missing(p, val);
	} else if (i < 0) {
		return;
	} else if (env->module_sizes && env->module_sizes[i] == 0) {
		line_error(p, "boot module '%s' is empty; a ROM holds at least the reset vector",
			   val);
	} else if (env->module_sizes && env->module_sizes[i] > CONFIG_OVMF_MAX) {
		line_error(p, "boot module '%s' is %s; a ROM is at most 4 MiB", val,
			   config_size_text(size, sizeof(size), env->module_sizes[i]));
	}
}

static void parse_fault(struct parser *p, char *val)
{
	static const char *const policies[] = {
		[VSI_ON_FAULT_STOP] = "stop",
		[VSI_ON_FAULT_RESET] = "reset",
	};
	int policy = config_choice(p, "on_triple_fault", val, policies, ARRAY_SIZE(policies),
				   "reset or stop");

	if (policy >= 0)
		p->vsi->on_triple_fault = policy;
}

static void parse_autostart(struct parser *p, char *val)
{
	static const char *const answers[] = { "no", "yes" };
	int yes = config_choice(p, "autostart", val, answers, ARRAY_SIZE(answers), "yes or no");

	if (yes >= 0)
		p->vsi->autostart = yes;
}

/* "a.b.c.d" with each part 0-255; 0 or -EINVAL. Stops at end (end may be NULL: whole string). */
int config_ipv4(const char *s, const char *end, u32 *ip)
{
	u32 v = 0, part, digits;

	if (!end)
		end = s + strlen(s);
	for (int i = 0; i < 4; i++) {
		for (part = 0, digits = 0; s < end && *s >= '0' && *s <= '9' && digits < 4; s++)
			part = part * 10 + (u32)(*s - '0'), digits++;
		if (!digits || part > 255 || (i < 3 && (s >= end || *s++ != '.')))
			return -EINVAL;
		v = (v << 8) | part;
	}
	if (s != end)
		return -EINVAL;
	*ip = v;
	return 0;
}

static void parse_network(struct parser *p, char *val)
{
	static const char *const modes[] = { [CONFIG_NET_NONE] = "none",
					     [CONFIG_NET_DHCP] = "dhcp",
					     [CONFIG_NET_STATIC] = "static" };
	int mode = config_choice(p, "network", val, modes, ARRAY_SIZE(modes),
				 "dhcp, static (with address and gateway) or none");

	if (mode >= 0)
		p->out->net_mode = mode;
}

/* "address = 10.0.2.15/24" */
static void parse_address(struct parser *p, char *val)
{
	char *slash = strchr(val, '/');
	u64 prefix;

	if (!slash || config_ipv4(val, slash, &p->out->ip) || config_number(slash + 1, &prefix) ||
	    prefix < 1 || prefix > 30) {
		line_error(p,
			   "address = '%.40s' is not an IPv4 address with a prefix; write e.g. "
			   "address = 10.0.2.15/24",
			   val);
		return;
	}
	p->out->prefix = (u32)prefix;
}

static void parse_gateway(struct parser *p, char *val)
{
	if (config_ipv4(val, NULL, &p->out->gateway))
		line_error(p,
			   "gateway = '%.40s' is not an IPv4 address; write e.g. "
			   "gateway = 10.0.2.2",
			   val);
}

static void parse_io_deadline(struct parser *p, char *val)
{
	u64 s;

	if (config_number(val, &s) || s < 1 || s > 3600) {
		line_error(p,
			   "io_deadline = '%.40s' is not a number of seconds from 1 to 3600; "
			   "write e.g. io_deadline = 30",
			   val);
		return;
	}
	p->out->io_deadline = (u32)s;
}

/* Exactly n hex digits at s into *v. */
static bool parse_hex(const char *s, u32 n, u32 *v)
{
	u32 x = 0;

	for (u32 i = 0; i < n; i++) {
		char c = s[i];
		u32 d = c >= '0' && c <= '9'   ? (u32)(c - '0')
			: c >= 'a' && c <= 'f' ? (u32)(c - 'a' + 10)
			: c >= 'A' && c <= 'F' ? (u32)(c - 'A' + 10)
					       : 16;

		if (d > 15)
			return false;
		x = x * 16 + d;
	}
	*v = x;
	return true;
}

/* "BB:DD.F" (or "0000:BB:DD.F": segment 0 is the only one we reach) into *bdf. */
static bool parse_bdf(const char *s, u32 *bdf)
{
	u32 bus, dev, fn, seg;

	if (strlen(s) == 12) {
		if (!parse_hex(s, 4, &seg) || seg || s[4] != ':')
			return false;
		s += 5;
	}
	if (strlen(s) != 7 || s[2] != ':' || s[5] != '.' || !parse_hex(s, 2, &bus) ||
	    !parse_hex(s + 3, 2, &dev) || !parse_hex(s + 6, 1, &fn) || dev > 31 || fn > 7)
		return false;
	*bdf = (bus << 8) | (dev << 3) | fn;
	return true;
}

bool config_scan_mac(const char *s, u8 mac[6])
{
	u32 b;

	if (strlen(s) != 17)
		return false;
	for (u32 i = 0; i < 6; i++) {
		if (!parse_hex(s + 3 * i, 2, &b) || (i < 5 && s[3 * i + 2] != ':'))
			return false;
		mac[i] = (u8)b;
	}
	return true;
}

/* "52:54:00:12:34:56", a unicast, non-zero address, into mac. */
static bool parse_mac(const char *s, u8 mac[6])
{
	static const u8 zero[6];

	return config_scan_mac(s, mac) && memcmp(mac, zero, 6) && !(mac[0] & 1);
}

/* "storage_nic = 00:03.0" or "storage_nic = 52:54:00:12:34:56". */
static void parse_storage_nic(struct parser *p, char *val)
{
	struct nic_config *n = &p->out->storage_nic;

	if (parse_bdf(val, &n->bdf)) {
		n->by = CONFIG_NIC_BDF;
	} else if (parse_mac(val, n->mac)) {
		n->by = CONFIG_NIC_MAC;
	} else {
		line_error(p,
			   "storage_nic = '%.40s' is neither a PCI address nor a unicast MAC; "
			   "write e.g. storage_nic = 00:03.0 or storage_nic = 52:54:00:12:34:56",
			   val);
		return;
	}
	n->line = p->line;
	memcpy(n->text, val, strlen(val) + 1); /* 17 characters at most, checked above */
}

/* An export name: 1-63 of [A-Za-z0-9._-]. */
static bool export_name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= CONFIG_EXPORT_MAX)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '.' || *s == '_' || *s == '-'))
			return false;
	return true;
}

/* "disk = nbd://HOST[:PORT]/EXPORT" with HOST an IPv4 address. */
static void parse_disk(struct parser *p, char *val)
{
	struct disk_config *d = &p->vsi->disk;
	char *host = val + 6, *slash, *colon;
	u64 port = CONFIG_NBD_PORT;

	if (strncmp(val, "nbd://", 6)) {
		line_error(p,
			   "disk = '%.40s' is not an NBD URL; write e.g. "
			   "disk = nbd://10.0.2.2:10809/web",
			   val);
		return;
	}
	slash = strchr(host, '/');
	colon = strchr(host, ':');
	if (colon && slash && colon > slash)
		colon = NULL;
	if (!slash || config_ipv4(host, colon ? colon : slash, &d->ip) || d->ip == 0) {
		line_error(p,
			   "disk = '%.40s': the server must be an IPv4 address (names are not "
			   "resolved) followed by /EXPORT; e.g. nbd://10.0.2.2/web",
			   val);
		return;
	}
	*slash = '\0';
	if (colon && (config_number(colon + 1, &port) || port < 1 || port > 65535)) {
		line_error(p, "disk: port '%.12s' is not a number from 1 to 65535", colon + 1);
		return;
	}
	if (!export_name_ok(slash + 1)) {
		line_error(p,
			   "disk: export name '%.40s' must be 1-63 characters of letters, "
			   "digits, '.', '_' and '-'",
			   slash + 1);
		return;
	}
	d->port = (u16)port;
	memcpy(d->export_name, slash + 1, strlen(slash + 1) + 1); /* length checked above */
	d->present = true;
	d->line = p->line;
}

static const struct key_desc hv_keys[NR_HV_KEYS] = {
	[HV_SERVICE_CPU] = { "service_cpu", "service_cpu = 0", false, parse_service_cpu, false },
	[HV_LOG_LEVEL] = { "log_level", "log_level = info", false, parse_log_level, false },
	[HV_NETWORK] = { "network", "network = dhcp", false, parse_network, false },
	[HV_ADDRESS] = { "address", "address = 10.0.2.15/24", false, parse_address, false },
	[HV_GATEWAY] = { "gateway", "gateway = 10.0.2.2", false, parse_gateway, false },
	[HV_IO_DEADLINE] = { "io_deadline", "io_deadline = 30", false, parse_io_deadline, false },
	[HV_STORAGE_NIC] = { "storage_nic", "storage_nic = 00:03.0", false, parse_storage_nic,
			     false },
	[HV_UPLINK] = { "uplink", "uplink = none", false, config_parse_uplink, false },
	[HV_STORAGE_VLAN] = { "storage_vlan", "storage_vlan = 100", false,
			      config_parse_storage_vlan, false },
};

static const struct key_desc vsi_keys[NR_VSI_KEYS] = {
	[VSI_CPUS] = { "cpus", "cpus = 1,2", true, parse_cpus, false },
	[VSI_MEMORY] = { "memory", "memory = 64M", true, parse_memory, false },
	[VSI_ROM] = { "rom", "rom = guest.rom", true, parse_rom, false },
	[VSI_ON_TRIPLE_FAULT] = { "on_triple_fault", "on_triple_fault = stop", false, parse_fault,
				  false },
	[VSI_AUTOSTART] = { "autostart", "autostart = yes", false, parse_autostart, false },
	[VSI_DISK] = { "disk", "disk = nbd://10.0.2.2:10809/web", false, parse_disk, false },
	[VSI_NET] = { "net", "net = lan", false, config_parse_net, false },
	[VSI_MAC] = { "mac", "mac = 52:54:00:12:34:57", false, config_parse_mac, false },
	[VSI_FORWARD] = { "forward", "forward = tcp:8080:80", false, config_parse_forward, true },
	[VSI_FIRMWARE] = { "firmware", "firmware = ovmf", false, config_parse_firmware, false },
	[VSI_VARS] = { "vars", "vars = OVMF_VARS_4M.fd", false, config_parse_vars, false },
};

static const struct section_desc hv_section = {
	"[hypervisor]",
	hv_keys,
	NR_HV_KEYS,
	"service_cpu, log_level, network, address, gateway, io_deadline, storage_nic, uplink, "
	"storage_vlan",
};

static const struct section_desc vsi_section = {
	"[vsi NAME]",
	vsi_keys,
	NR_VSI_KEYS,
	"cpus, memory, rom, on_triple_fault, autostart, disk, net, mac, forward, firmware, vars",
};

/* The key of section d called name, or NULL. */
static const struct key_desc *find_key(const struct section_desc *d, const char *name)
{
	for (u32 i = 0; i < d->nr_keys; i++)
		if (!strcmp(d->keys[i].name, name))
			return &d->keys[i];
	return NULL;
}

/* The section other than the current one that has a key called key, or NULL. */
static const struct section_desc *key_home(const struct parser *p, const char *key)
{
	static const struct section_desc *const sections[] = {
		&hv_section,
		&vsi_section,
		&config_network_section,
	};

	for (u32 i = 0; i < ARRAY_SIZE(sections); i++)
		if (sections[i] != p->desc && find_key(sections[i], key))
			return sections[i];
	return NULL;
}

/*
 * Explain an unknown key: a likely intended key of this section (and where
 * the key itself belongs, if anywhere), the section it belongs to, or the
 * keys.
 */
static void unknown_key(struct parser *p, const char *key)
{
	static const char *const aliases[][2] = {
		{ "ram", "memory" }, { "mem", "memory" },  { "vcpus", "cpus" }, { "image", "rom" },
		{ "bios", "rom" },   { "network", "net" }, { "type", "mode" },
	};
	const struct section_desc *home = key_home(p, key);
	const char *hint = NULL;
	u32 best_d = UINT32_MAX;

	for (u32 i = 0; i < ARRAY_SIZE(aliases); i++)
		if (!strcmp(key, aliases[i][0]) && find_key(p->desc, aliases[i][1]))
			hint = aliases[i][1];
	if (hint && home) {
		line_error(p, "unknown key '%s'; did you mean '%s'? ('%s' belongs in %s)", key,
			   hint, key, home->title);
		return;
	}
	if (home) {
		line_error(p, "'%s' belongs in %s, not in %s", key, home->title, p->desc->title);
		return;
	}
	for (u32 i = 0; !hint && i < p->desc->nr_keys; i++)
		consider(key, p->desc->keys[i].name, &hint, &best_d);
	if (hint)
		line_error(p, "unknown key '%.40s'; did you mean '%s'?", key, hint);
	else
		line_error(p, "unknown key '%.40s' in %s; keys: %s", key, p->desc->title,
			   p->desc->key_list);
}

/* Hand val to key k of the current section, unless the key is set already or val is empty. */
static void set_key(struct parser *p, const struct key_desc *k, char *val)
{
	u32 *seen = &p->seen[k - p->desc->keys];

	if (*seen && !k->many) {
		line_error(p, "'%s' is already set on line %u; give each key once per section",
			   k->name, *seen);
		return;
	}
	if (!*seen)
		*seen = p->line;
	if (*val)
		k->parse(p, val);
	else
		line_error(p, "'%s' has no value; write e.g. '%s'", k->name, k->example);
}

/* A "key = value" line of the current section. */
static void parse_key(struct parser *p, char *s)
{
	char *eq = strchr(s, '='), *key, *val;
	const struct key_desc *k;

	if (!eq) {
		line_error(p, "'%.40s' is not 'key = value', a [section] or a # comment", s);
		return;
	}
	*eq = '\0';
	key = trim(s);
	val = trim(eq + 1);
	if (!*key) {
		line_error(p, "no key before '='; write 'key = value'");
	} else if (p->sec == SEC_NONE) {
		line_error(
		    p, "'%.40s' is outside any section; put it under [hypervisor] or [vsi NAME]",
		    key);
	} else if (p->sec == SEC_SKIP) {
		return;
	} else if (!(k = find_key(p->desc, key))) {
		unknown_key(p, key);
	} else {
		set_key(p, k, val);
	}
}

/* Start the [hypervisor] section; a second one continues the first. */
static void enter_hypervisor(struct parser *p, const char *name)
{
	if (*name)
		line_error(p, "[hypervisor] takes no name; remove '%.40s'", name);
	if (p->hv_line)
		line_error(p, "second [hypervisor] section (the first is on line %u); merge them",
			   p->hv_line);
	else
		p->hv_line = p->line;
	p->sec = SEC_HYPERVISOR;
	p->desc = &hv_section;
	p->seen = p->hv_seen;
}

bool config_name_ok(const char *name)
{
	size_t n = strlen(name);
	bool ok = n >= 1 && n < CONFIG_NAME_MAX;

	for (size_t i = 0; ok && i < n; i++)
		ok = (name[i] >= 'a' && name[i] <= 'z') || is_digit(name[i]) || name[i] == '_' ||
		     name[i] == '-';
	return ok;
}

/* Complain if name is not a valid VSI name or one used already. */
static void check_vsi_name(struct parser *p, const char *name)
{
	if (!*name) {
		line_error(p, "a VSI section needs a name, e.g. [vsi web]");
		return;
	}
	if (!config_name_ok(name)) {
		line_error(p, "VSI name '%.40s' is invalid: use 1 to %u of a-z, 0-9, '_' and '-'",
			   name, CONFIG_NAME_MAX - 1);
		return;
	}
	for (u32 i = 0; i < p->out->nr_vsis; i++) {
		if (!strcmp(p->out->vsi[i].name, name)) {
			line_error(
			    p, "VSI name '%s' is already used on line %u; name each VSI uniquely",
			    name, p->out->vsi[i].line);
			return;
		}
	}
}

/* Start a [vsi NAME] section; VSIs past the limit are checked in p->spare. */
static void enter_vsi(struct parser *p, const char *name)
{
	struct hv_config *out = p->out;
	u32 slot = out->nr_vsis;

	check_vsi_name(p, name);
	if (slot == CONFIG_MAX_VSIS) {
		line_error(p, "more than %u VSIs; remove this one or merge it with another",
			   CONFIG_MAX_VSIS);
		p->vsi = &p->spare;
	} else {
		p->vsi = &out->vsi[out->nr_vsis++];
	}
	p->seen = p->vsi_seen[slot];
	memset(p->seen, 0, sizeof(p->vsi_seen[0]));
	memset(p->vsi, 0, sizeof(*p->vsi));
	p->vsi_net[slot][0] = '\0';
	copy_str(p->vsi->name, sizeof(p->vsi->name), name);
	p->vsi->on_triple_fault = VSI_ON_FAULT_STOP;
	p->vsi->autostart = true;
	p->vsi->line = p->line;
	p->sec = SEC_VSI;
	p->desc = &vsi_section;
}

/* A "[kind name]" header. */
static void parse_section(struct parser *p, char *s)
{
	char *close = strchr(s, ']'), *kind, *name;
	const char *hint;

	p->sec = SEC_SKIP;
	if (!close) {
		line_error(p, "'%.40s' lacks the closing ']'; write [hypervisor] or [vsi NAME]", s);
		return;
	}
	if (close[1])
		line_error(p, "unexpected '%.40s' after ']'; comments start with '#'", close + 1);
	*close = '\0';
	kind = trim(s + 1);
	for (name = kind; *name && !is_blank(*name); name++)
		;
	if (*name)
		*name++ = '\0';
	name = trim(name);
	if (!strcmp(kind, "hypervisor")) {
		enter_hypervisor(p, name);
	} else if (!strcmp(kind, "vsi")) {
		enter_vsi(p, name);
	} else if (!strcmp(kind, "network")) {
		config_enter_network(p, name);
	} else {
		static const char *const kinds[] = { "hypervisor", "vsi", "network" };

		hint = config_closest(kind, kinds, ARRAY_SIZE(kinds));
		line_error(p,
			   "unknown section kind '%.40s'%s%s%s; sections are [hypervisor], "
			   "[vsi NAME] and [network NAME]",
			   kind, hint ? " (did you mean '" : "", hint ? hint : "",
			   hint ? "'?)" : "");
	}
}

/* False, after an error, if the line holds a byte other than printable ASCII or a tab. */
static bool check_bytes(struct parser *p, const char *raw, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		u8 c = raw[i];

		if (c == '\t' || (c >= 0x20 && c < 0x7f))
			continue;
		if (c == 0)
			line_error(p, "NUL byte in column %zu; the file must be plain text", i + 1);
		else if (c == '\r')
			line_error(p, "carriage return in column %zu; end lines with LF or CR LF",
				   i + 1);
		else if (p->line == 1 && i == 0 && n >= 3 && c == 0xef && (u8)raw[1] == 0xbb &&
			 (u8)raw[2] == 0xbf)
			line_error(
			    p, "the file starts with a UTF-8 byte order mark; save it as ASCII");
		else
			line_error(p, "byte 0x%02x in column %zu is not printable ASCII; remove it",
				   (unsigned)c, i + 1);
		return false;
	}
	return true;
}

/* One line, without its '\n'; a trailing '\r' (CR LF endings) is dropped. */
static void parse_line(struct parser *p, const char *raw, size_t n)
{
	char *s, *hash;

	if (n && raw[n - 1] == '\r')
		n--;
	if (n > CONFIG_LINE_MAX) {
		line_error(p, "line is %zu characters long; at most %u fit, shorten it", n,
			   CONFIG_LINE_MAX);
		return;
	}
	if (!check_bytes(p, raw, n))
		return;
	memcpy(p->buf, raw, n);
	p->buf[n] = '\0';
	hash = strchr(p->buf, '#');
	if (hash)
		*hash = '\0';
	s = trim(p->buf);
	if (*s == '[')
		parse_section(p, s);
	else if (*s)
		parse_key(p, s);
}

/* The keys a VSI must have. */
static void check_required(struct parser *p, u32 i)
{
	const struct vsi_config *vsi = &p->out->vsi[i];

	for (u32 k = 0; k < NR_VSI_KEYS; k++)
		if (vsi_keys[k].required && !p->vsi_seen[i][k])
			add_error(p, vsi->line, "VSI '%s' has no '%s'; add a line like '%s'",
				  vsi->name, vsi_keys[k].name, vsi_keys[k].example);
}

/* What the ROM's size and the RAM must be for the VSI's firmware (known once the section ends). */
static void check_rom(struct parser *p, u32 i)
{
	const struct vsi_config *vsi = &p->out->vsi[i];
	const struct config_env *env = p->env;
	int m = config_find_module(env, vsi->rom);
	char size[32];

	if (vsi->firmware == VSI_FW_OVMF) {
		config_check_ovmf(p, i);
		return;
	}
	if (vsi->vars[0])
		add_error(p, p->vsi_seen[i][VSI_VARS],
			  "'vars' is OVMF's variable store; add 'firmware = ovmf', or remove it");
	if (m >= 0 && env->module_sizes && env->module_sizes[m] > CONFIG_ROM_MAX)
		add_error(p, p->vsi_seen[i][VSI_ROM],
			  "boot module '%s' is %s; a ROM is at most 1 MiB (is it OVMF? then add "
			  "'firmware = ovmf')",
			  vsi->rom, config_size_text(size, sizeof(size), env->module_sizes[m]));
}

/* The VSI before VSI i that holds cpu, or -1. */
static int cpu_owner(const struct hv_config *out, u32 i, u32 cpu)
{
	for (u32 j = 0; j < i; j++)
		for (u32 k = 0; k < out->vsi[j].nr_cpus; k++)
			if (out->vsi[j].cpus[k] == cpu)
				return j;
	return -1;
}

/* Each CPU of VSI i is neither the service CPU nor given to an earlier VSI. */
static void check_cpu_owners(struct parser *p, u32 i)
{
	const struct hv_config *out = p->out;
	const struct vsi_config *vsi = &out->vsi[i];
	u32 line = p->vsi_seen[i][VSI_CPUS];

	for (u32 c = 0; c < vsi->nr_cpus; c++) {
		u32 cpu = vsi->cpus[c];
		int j = cpu_owner(out, i, cpu);

		if (!p->service_cpu_bad && cpu == out->service_cpu)
			add_error(p, line, "CPU %u is the service CPU; give the VSI other CPUs%s",
				  cpu,
				  p->hv_seen[HV_SERVICE_CPU] ? "" : " (service_cpu defaults to 0)");
		else if (j >= 0)
			add_error(p, line,
				  "CPU %u is already given to VSI '%s' (line %u); give it to one "
				  "VSI only",
				  cpu, out->vsi[j].name, p->vsi_seen[j][VSI_CPUS]);
	}
}

/* The VSIs' RAM together fits the free RAM; reported at the memory line that tips it over. */
static void check_ram(struct parser *p)
{
	const struct hv_config *out = p->out;
	char need[32], avail[32];
	u64 total = 0;
	u32 line = 0;

	for (u32 i = 0; i < out->nr_vsis; i++) {
		u64 ram = out->vsi[i].ram_size;

		total = total > UINT64_MAX - ram ? UINT64_MAX : total + ram;
		if (!line && total > p->env->free_ram)
			line = p->vsi_seen[i][VSI_MEMORY];
	}
	if (line)
		add_error(p, line, "VSIs need %s of RAM in all, %s are free; give them less memory",
			  config_size_text(need, sizeof(need), total),
			  config_size_text(avail, sizeof(avail), p->env->free_ram));
}

/*
 * The hypervisor's own network: static when an address is given, else DHCP
 * once a disk or a VSI on a nat or bridged network (the uplink) needs one.
 */
static void choose_net_mode(struct parser *p, bool disks)
{
	struct hv_config *out = p->out;
	int user = config_uplink_user(p);
	const struct vsi_config *vsi = user >= 0 ? &out->vsi[user] : NULL;

	if (p->hv_seen[HV_ADDRESS] && !p->hv_seen[HV_NETWORK])
		out->net_mode = CONFIG_NET_STATIC; /* an address says static */
	if ((disks || vsi) && out->net_mode == CONFIG_NET_NONE && !p->hv_seen[HV_NETWORK])
		out->net_mode = CONFIG_NET_DHCP;
	if (out->net_mode != CONFIG_NET_NONE)
		return;
	if (disks)
		add_error(p, p->hv_seen[HV_NETWORK],
			  "network = none, but VSIs have disks; use network = dhcp or static");
	else if (vsi)
		add_error(p, p->hv_seen[HV_NETWORK],
			  "network = none, but VSI '%s''s network '%s' needs the uplink; use "
			  "network = dhcp or static",
			  vsi->name, out->net[vsi->net].name);
}

/*
 * The network the disks and VSI networks need: DHCP unless configured; a
 * static one needs an address, and its gateway on that subnet. No export
 * serves two VSIs.
 */
static void check_network(struct parser *p)
{
	struct hv_config *out = p->out;
	u32 mask = out->prefix ? ~0U << (32 - out->prefix) : 0;
	bool disks = false;

	for (u32 i = 0; i < out->nr_vsis; i++) {
		const struct disk_config *d = &out->vsi[i].disk;
		disks |= d->present;
		for (u32 j = 0; d->present && j < i; j++) {
			const struct disk_config *e = &out->vsi[j].disk;
			if (e->present && e->ip == d->ip && e->port == d->port &&
			    !strcmp(e->export_name, d->export_name))
				add_error(
				    p, d->line,
				    "export '%s' is already VSI '%s''s disk (line %u); each VSI "
				    "needs its own export",
				    d->export_name, out->vsi[j].name, e->line);
		}
	}
	choose_net_mode(p, disks);
	if (out->net_mode == CONFIG_NET_STATIC && !p->hv_seen[HV_ADDRESS])
		add_error(p, p->hv_seen[HV_NETWORK] ? p->hv_seen[HV_NETWORK] : p->hv_line,
			  "a static network needs an address; add a line like "
			  "'address = 10.0.2.15/24'");
	if (out->net_mode == CONFIG_NET_STATIC && p->hv_seen[HV_ADDRESS] && out->gateway &&
	    (out->gateway & mask) != (out->ip & mask))
		add_error(p, p->hv_seen[HV_GATEWAY],
			  "the gateway is not on the address's subnet "
			  "(/%u)",
			  out->prefix);
	if (!out->io_deadline)
		out->io_deadline = CONFIG_IO_DEADLINE;
}

int config_parse(const char *text, size_t len, const struct config_env *env, struct hv_config *out,
		 struct config_errors *errs)
{
	struct parser p;
	size_t start = 0, end;

	if (!errs)
		return -EINVAL;
	memset(errs, 0, sizeof(*errs));
	memset(&p, 0, sizeof(p));
	p.errs = errs;
	if (!env || !out || (!text && len)) {
		add_error(&p, 0, "no configuration to parse (internal error)");
		return -EINVAL;
	}
	memset(out, 0, sizeof(*out));
	out->log_level = -1;
	p.env = env;
	p.out = out;
	while (start < len) {
		for (end = start; end < len && text[end] != '\n'; end++)
			;
		if (p.line < UINT32_MAX)
			p.line++;
		parse_line(&p, text + start, end - start);
		start = end + 1;
	}
	for (u32 i = 0; i < out->nr_vsis; i++) {
		check_required(&p, i);
		check_rom(&p, i);
		check_cpu_owners(&p, i);
	}
	check_ram(&p);
	config_check_networks(&p);
	check_network(&p);
	config_check_storage_vlan(&p);
	return errs->nr ? -EINVAL : 0;
}

void config_report(const char *filename, const struct config_errors *errs)
{
	for (u32 i = 0; i < errs->nr && i < CONFIG_MAX_ERRORS; i++) {
		if (errs->e[i].line)
			pr_err("%s:%u: %s\n", filename, errs->e[i].line, errs->e[i].msg);
		else
			pr_err("%s: %s\n", filename, errs->e[i].msg);
	}
	if (errs->truncated)
		pr_err("%s: more problems not shown; fix these and try again\n", filename);
}
