/*
 * A VSI's firmware in the configuration: `firmware = native | ovmf` and, for
 * OVMF's split builds, `vars = MODULE`, with what OVMF needs of its images
 * and RAM (docs/config.md, docs/vsi-platform.md "OVMF").
 */
#include <hv/config.h>
#include <hv/errno.h>
#include <hv/ovmf_image.h>
#include <hv/string.h>

#include "config_internal.h"

void config_parse_firmware(struct parser *p, char *val)
{
	static const char *const kinds[] = {
		[VSI_FW_NATIVE] = "native",
		[VSI_FW_OVMF] = "ovmf",
	};
	int fw = config_choice(p, "firmware", val, kinds, ARRAY_SIZE(kinds), "native or ovmf");

	if (fw >= 0)
		p->vsi->firmware = fw;
}

/* "vars": the variable store of a split OVMF build, mapped below the code. */
void config_parse_vars(struct parser *p, char *val)
{
	int i = config_module_name(p, "vars", val, p->vsi->vars, sizeof(p->vsi->vars));

	if (i == -ENOENT)
		config_module_missing(p, val);
}

/* True if part occurs in name. */
static bool contains(const char *name, const char *part)
{
	size_t n = strlen(part);

	for (; *name; name++)
		if (!strncmp(name, part, n))
			return true;
	return false;
}

/*
 * Debian's secure-boot builds of OVMF need SMM and a Q35 machine and hang
 * in PEI on this platform; their bytes do not tell, their names do.
 */
static bool ovmf_secure_boot_name(const char *name)
{
	return contains(name, "secboot") || contains(name, "snakeoil") || contains(name, ".ms.");
}

/* Does boot module m begin with OVMF's variable store? Unknown contents: assume so. */
static bool module_has_var_store(const struct config_env *env, int m)
{
	if (m < 0 || !env->module_data || !env->module_sizes)
		return true;
	return ovmf_image_has_var_store(env->module_data[m], env->module_sizes[m]);
}

/* The images: a whole OVMF.fd alone, or the code with its variable store below it. */
static void check_ovmf_images(struct parser *p, u32 i)
{
	const struct vsi_config *vsi = &p->out->vsi[i];
	const struct config_env *env = p->env;
	int rom = config_find_module(env, vsi->rom), vars = config_find_module(env, vsi->vars);
	u32 rom_line = p->vsi_seen[i][VSI_ROM], vars_line = p->vsi_seen[i][VSI_VARS];
	char size[32];

	if (!vsi->vars[0]) {
		if (rom >= 0 && !module_has_var_store(env, rom))
			config_error(
			    p, rom_line,
			    "'%s' holds OVMF's code without its variable store (a split "
			    "build); add 'vars = OVMF_VARS_4M.fd' (package ovmf) as a boot "
			    "module, or use OVMF.fd",
			    vsi->rom);
		return;
	}
	if (vars < 0)
		return; /* reported on its line */
	if (rom >= 0 && env->module_data && module_has_var_store(env, rom))
		config_error(p, vars_line,
			     "'%s' already holds its variable store (a whole OVMF image); remove "
			     "'vars =', or use the split build's code, OVMF_CODE_4M.fd",
			     vsi->rom);
	if (!module_has_var_store(env, vars))
		config_error(p, vars_line,
			     "'%s' is not an OVMF variable store (no firmware volume of UEFI "
			     "variables at its start); use OVMF_VARS_4M.fd (package ovmf)",
			     vsi->vars);
	if (rom >= 0 && env->module_sizes &&
	    env->module_sizes[rom] + env->module_sizes[vars] > CONFIG_OVMF_MAX)
		config_error(p, vars_line,
			     "'%s' and '%s' are %s together; OVMF's flash is at most 4 MiB",
			     vsi->vars, vsi->rom,
			     config_size_text(size, sizeof(size),
					      env->module_sizes[rom] + env->module_sizes[vars]));
}

void config_check_ovmf(struct parser *p, u32 i)
{
	const struct vsi_config *vsi = &p->out->vsi[i];

	if (ovmf_secure_boot_name(vsi->rom))
		config_error(p, p->vsi_seen[i][VSI_ROM],
			     "'%s' looks like a secure-boot build of OVMF, which needs SMM and a "
			     "Q35 machine; use OVMF.fd (package ovmf)",
			     vsi->rom);
	if (vsi->ram_size && vsi->ram_size < CONFIG_OVMF_RAM_MIN)
		config_error(p, p->vsi_seen[i][VSI_MEMORY],
			     "VSI '%s' boots OVMF, which needs memory = 64M or more", vsi->name);
	check_ovmf_images(p, i);
}
