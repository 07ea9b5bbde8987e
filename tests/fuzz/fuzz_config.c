/*
 * libFuzzer target: config_parse() over arbitrary bytes on a fixed machine
 * (80 CPUs, 1 GiB free, seven boot modules), then config_report() so every
 * message is formatted. Besides the sanitizers, it checks the parser's
 * promises: an accepted file is within every limit docs/config.md states
 * (networks, MACs and forwards included),
 * a rejected one carries terminated messages on lines the file has.
 */
#include <stdint.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <hv/config.h>
#include <hv/errno.h>

/*
 * More CPUs than a VSI may have, so the per-VSI limit is reachable; free RAM
 * that is not a whole number of MiB; module names too many to list in full.
 */
static const char *const modules[] = {
	"hello.rom",
	"hv.cfg",
	"web.rom",
	"big.rom",
	"empty.rom",
	"a-module-with-a-long-name.bin",
	"another-module-with-a-long-name.bin",
};
static const u64 module_sizes[] = {
	64 * KiB, 300, 1 * MiB, 1 * MiB + 4096, 0, 4096, 16,
};
static const struct config_env env = {
	.nr_cpus = 80,
	.free_ram = 1 * GiB + 12345,
	.modules = modules,
	.nr_modules = ARRAY_SIZE(modules),
	.module_sizes = module_sizes,
};

#define CHECK(cond)                       \
	do {                              \
		if (!(cond))              \
			__builtin_trap(); \
	} while (0)

static bool valid_name(const char *name)
{
	size_t n = strnlen(name, CONFIG_NAME_MAX);

	if (n == 0 || n == CONFIG_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!strchr("abcdefghijklmnopqrstuvwxyz0123456789_-", name[i]))
			return false;
	return true;
}

/* The module index of name, or -1. */
static int module_of(const char *name)
{
	for (u32 i = 0; i < env.nr_modules; i++)
		if (!strcmp(modules[i], name))
			return i;
	return -1;
}

/* A network of an accepted file: its addresses lie inside its subnet. */
static void check_network(const struct hv_config *cfg, const struct network_config *n)
{
	u32 mask = n->prefix ? ~0U << (32 - n->prefix) : 0;

	CHECK(valid_name(n->name));
	CHECK(n->mode <= CONFIG_NETWORK_INTERNAL);
	CHECK(n->mode == CONFIG_NETWORK_INTERNAL || !cfg->no_uplink);
	CHECK((n->mode == CONFIG_NETWORK_NAT) <= (n->prefix != 0));
	CHECK(n->mode != CONFIG_NETWORK_BRIDGED || n->prefix == 0);
	if (!n->prefix)
		return;
	CHECK(n->prefix >= 8 && n->prefix <= 29 && !(n->subnet & ~mask));
	CHECK(n->gateway == n->subnet + 1 && n->pool_start > n->gateway);
	CHECK(n->pool_size >= 1 && n->pool_size <= CONFIG_NAT_POOL_MAX);
	CHECK(n->pool_start + n->pool_size - 1 < (n->subnet | ~mask));
	for (const struct network_config *m = cfg->net; m < n; m++) {
		u32 both = m->prefix < n->prefix ? (m->prefix ? ~0U << (32 - m->prefix) : 0) : mask;

		CHECK(!m->prefix || (m->subnet & both) != (n->subnet & both));
	}
}

/* A VSI's network device: a network that exists, its own MAC and host ports. */
static void check_vsi_net(const struct hv_config *cfg, u32 i)
{
	const struct vsi_config *v = &cfg->vsi[i];

	CHECK(v->nr_forwards <= CONFIG_MAX_FORWARDS);
	if (!v->has_net) {
		CHECK(v->nr_forwards == 0);
		return;
	}
	CHECK(v->net < cfg->nr_networks && v->net_line >= 1);
	CHECK(!(v->mac[0] & 1) && memcmp(v->mac, "\0\0\0\0\0\0", 6));
	CHECK(!v->nr_forwards || cfg->net[v->net].mode == CONFIG_NETWORK_NAT);
	for (u32 j = 0; j < i; j++)
		CHECK(!cfg->vsi[j].has_net || memcmp(cfg->vsi[j].mac, v->mac, 6));
	for (u32 f = 0; f < v->nr_forwards; f++) {
		CHECK(v->fwd[f].host_port && v->fwd[f].vsi_port);
		for (u32 j = 0; j <= i; j++)
			for (u32 k = 0; k < (j == i ? f : cfg->vsi[j].nr_forwards); k++)
				CHECK(cfg->vsi[j].fwd[k].host_port != v->fwd[f].host_port);
	}
}

/* An accepted configuration obeys every rule of docs/config.md. */
static void check_accepted(const struct hv_config *cfg, const struct config_errors *errs)
{
	u64 total = 0;

	CHECK(errs->nr == 0 && !errs->truncated);
	CHECK(cfg->service_cpu < env.nr_cpus);
	CHECK(cfg->log_level >= -1 && cfg->log_level <= 3);
	CHECK(cfg->nr_vsis <= CONFIG_MAX_VSIS);
	for (u32 i = 0; i < cfg->nr_vsis; i++) {
		const struct vsi_config *v = &cfg->vsi[i];
		int m = module_of(v->rom);

		CHECK(valid_name(v->name));
		for (u32 j = 0; j < i; j++)
			CHECK(strcmp(cfg->vsi[j].name, v->name) != 0);
		CHECK(v->nr_cpus >= 1 && v->nr_cpus <= CONFIG_MAX_CPUS);
		for (u32 c = 0; c < v->nr_cpus; c++) {
			CHECK(v->cpus[c] < env.nr_cpus && v->cpus[c] != cfg->service_cpu);
			for (u32 j = 0; j <= i; j++)
				for (u32 k = 0; k < (j == i ? c : cfg->vsi[j].nr_cpus); k++)
					CHECK(cfg->vsi[j].cpus[k] != v->cpus[c]);
		}
		CHECK(v->ram_size >= CONFIG_RAM_ALIGN && v->ram_size % CONFIG_RAM_ALIGN == 0);
		total += v->ram_size;
		CHECK(m >= 0 && module_sizes[m] > 0 &&
		      module_sizes[m] <=
			  (v->firmware == VSI_FW_OVMF ? CONFIG_OVMF_MAX : CONFIG_ROM_MAX));
		CHECK(v->firmware != VSI_FW_OVMF || v->ram_size >= CONFIG_OVMF_RAM_MIN);
		CHECK(v->on_triple_fault <= VSI_ON_FAULT_RESET);
		CHECK(v->line >= 1);
		check_vsi_net(cfg, i);
	}
	CHECK(total <= env.free_ram);
	CHECK(cfg->nr_networks <= CONFIG_MAX_NETWORKS);
	for (u32 i = 0; i < cfg->nr_networks; i++)
		check_network(cfg, &cfg->net[i]);
}

/* A rejected file has 1..CONFIG_MAX_ERRORS terminated messages, sorted, on existing lines. */
static void check_rejected(const struct config_errors *errs, u32 nr_lines)
{
	CHECK(errs->nr >= 1 && errs->nr <= CONFIG_MAX_ERRORS);
	for (u32 i = 0; i < errs->nr; i++) {
		size_t n = strnlen(errs->e[i].msg, sizeof(errs->e[i].msg));

		CHECK(n > 0 && n < sizeof(errs->e[i].msg));
		CHECK(errs->e[i].line >= 1 && errs->e[i].line <= nr_lines);
		CHECK(i == 0 || errs->e[i - 1].line <= errs->e[i].line);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct hv_config cfg;
	static struct config_errors errs;
	u32 nr_lines = 1;
	int rc;

	for (size_t i = 0; i + 1 < size; i++)
		nr_lines += data[i] == '\n';
	rc = config_parse((const char *)data, size, &env, &cfg, &errs);
	if (rc == 0) {
		check_accepted(&cfg, &errs);
	} else {
		CHECK(rc == -EINVAL);
		check_rejected(&errs, nr_lines);
	}
	config_report("fuzz.cfg", &errs);
	return 0;
}
