/*
 * VM-entry guest-state checks (SDM Vol. 3 26.3.1.1-26.3.1.5) over a
 * snapshot; see asm/vmx_check.h. Each check is one rule, in the SDM's order,
 * and the first one broken is reported.
 */
#include <asm/vmcs.h>
#include <asm/vmx_check.h>
#include <asm/vmx_controls.h>
#include <hv/errno.h>
#include <hv/printf.h>

#define CR0_PE	 BIT(0)
#define CR0_PG	 BIT(31)
#define CR0_NW	 BIT(29)
#define CR0_CD	 BIT(30)
#define CR4_PAE	 BIT(5)
#define EFER_LME BIT(8)
#define EFER_LMA BIT(10)
#define EFER_RESERVED \
	(~(BIT(0) | BIT(8) | BIT(10) | BIT(11) | BIT(12) | BIT(13) | BIT(14) | BIT(15)))
#define RFLAGS_FIXED1	  BIT(1)
#define RFLAGS_RESERVED	  (BIT(3) | BIT(5) | BIT(15) | ~0x3fffffULL)
#define RFLAGS_IF	  BIT(9)
#define RFLAGS_VM	  BIT(17)
#define INTR_BLOCK_STI	  BIT(0)
#define INTR_BLOCK_MOV_SS BIT(1)
#define INTR_RESERVED	  (~0x1fU)
#define SEG_TYPE_ACCESSED BIT(0)

static int fail(char *buf, size_t len, const char *fmt, ...) __printf(3, 4);
static int fail(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* 26.3.1.1: control registers and EFER, including the IA-32e mode rules. */
static int check_crs(const struct vmx_guest_state *g, char *buf, size_t len)
{
	u64 fixed0 = g->cr0_fixed0;
	bool ia32e = g->entry_ctls & VM_ENTRY_IA32E_MODE;

	if (g->unrestricted_guest)
		fixed0 &= ~(CR0_PE | CR0_PG); /* the exemption unrestricted guest gives */
	if ((g->cr0 & fixed0) != fixed0 || (g->cr0 & ~g->cr0_fixed1))
		return fail(buf, len,
			    "CR0 0x%llx breaks the VMX fixed bits (must-be-1 0x%llx, may-be-1 "
			    "0x%llx): SDM 26.3.1.1",
			    (unsigned long long)g->cr0, (unsigned long long)fixed0,
			    (unsigned long long)g->cr0_fixed1);
	if ((g->cr0 & CR0_PG) && !(g->cr0 & CR0_PE))
		return fail(buf, len, "CR0 0x%llx has PG without PE: SDM 26.3.1.1",
			    (unsigned long long)g->cr0);
	if ((g->cr0 & CR0_NW) && !(g->cr0 & CR0_CD))
		return fail(buf, len, "CR0 0x%llx has NW without CD", (unsigned long long)g->cr0);
	if ((g->cr4 & g->cr4_fixed0) != g->cr4_fixed0 || (g->cr4 & ~g->cr4_fixed1))
		return fail(buf, len,
			    "CR4 0x%llx breaks the VMX fixed bits (must-be-1 0x%llx, may-be-1 "
			    "0x%llx): SDM 26.3.1.1",
			    (unsigned long long)g->cr4, (unsigned long long)g->cr4_fixed0,
			    (unsigned long long)g->cr4_fixed1);
	if (ia32e && (!(g->cr0 & CR0_PG) || !(g->cr4 & CR4_PAE)))
		return fail(
		    buf, len,
		    "\"IA-32e mode guest\" is set but CR0.PG or CR4.PAE is clear: SDM 26.3.1.1");
	if (g->efer & EFER_RESERVED)
		return fail(buf, len, "IA32_EFER 0x%llx has reserved bits set: SDM 26.3.1.1",
			    (unsigned long long)g->efer);
	if (!!(g->efer & EFER_LMA) != ia32e)
		return fail(
		    buf, len,
		    "IA32_EFER.LMA (%d) differs from \"IA-32e mode guest\" (%d): SDM 26.3.1.1",
		    !!(g->efer & EFER_LMA), ia32e);
	if ((g->cr0 & CR0_PG) && !!(g->efer & EFER_LME) != !!(g->efer & EFER_LMA))
		return fail(buf, len,
			    "paging is on and IA32_EFER.LME differs from LMA: SDM 26.3.1.1");
	if (g->dr7 >> 32)
		return fail(buf, len, "DR7 0x%llx has bits 63:32 set: SDM 26.3.1.1",
			    (unsigned long long)g->dr7);
	return 0;
}

/* Limit and granularity agree (SDM 26.3.1.2, the rule shared by all segments). */
static bool limit_ok(const struct vmx_seg_state *s)
{
	bool g = s->ar & VMX_AR_G_BIT;

	if ((s->limit & 0xfff) != 0xfff && g)
		return false;
	if ((s->limit >> 20) && !g)
		return false;
	return true;
}

static int check_seg(const char *name, const struct vmx_seg_state *s, char *buf, size_t len)
{
	if (s->ar & VMX_AR_UNUSABLE_BIT)
		return 0;
	if (!(s->ar & VMX_AR_P_BIT))
		return fail(buf, len, "%s is usable but not present (AR 0x%x): SDM 26.3.1.2", name,
			    s->ar);
	if (!limit_ok(s))
		return fail(buf, len,
			    "%s limit 0x%x disagrees with its granularity (AR 0x%x): SDM 26.3.1.2",
			    name, s->limit, s->ar);
	if (s->ar & 0xfffe0f00)
		return fail(buf, len, "%s AR 0x%x has reserved bits set: SDM 26.3.1.2", name,
			    s->ar);
	return 0;
}

/* 26.3.1.2: the segment registers we can get wrong. */
static int check_segments(const struct vmx_guest_state *g, char *buf, size_t len)
{
	u32 cs_type = g->cs.ar & VMX_AR_TYPE_MASK, tr_type = g->tr.ar & VMX_AR_TYPE_MASK;
	bool ia32e = g->entry_ctls & VM_ENTRY_IA32E_MODE;
	int err;

	if (g->cs.ar & VMX_AR_UNUSABLE_BIT)
		return fail(buf, len, "CS is marked unusable: SDM 26.3.1.2");
	if (!(cs_type & SEG_TYPE_ACCESSED) ||
	    !(cs_type & 0x8 || (cs_type == 3 && g->unrestricted_guest)))
		return fail(buf, len,
			    "CS type %u is not an accessed code segment (or 3 with unrestricted "
			    "guest): SDM 26.3.1.2",
			    cs_type);
	if (!(g->cs.ar & VMX_AR_S_BIT))
		return fail(buf, len, "CS is a system segment (S = 0): SDM 26.3.1.2");
	if (ia32e && (g->cs.ar & VMX_AR_L_BIT) && (g->cs.ar & VMX_AR_DB_BIT))
		return fail(buf, len, "CS has both L and D/B set in IA-32e mode: SDM 26.3.1.2");
	if ((err = check_seg("CS", &g->cs, buf, len)) ||
	    (err = check_seg("SS", &g->ss, buf, len)) ||
	    (err = check_seg("DS", &g->ds, buf, len)) ||
	    (err = check_seg("ES", &g->es, buf, len)) ||
	    (err = check_seg("FS", &g->fs, buf, len)) || (err = check_seg("GS", &g->gs, buf, len)))
		return err;
	if ((g->tr.ar & VMX_AR_UNUSABLE_BIT) || (g->tr.ar & VMX_AR_S_BIT) ||
	    !(tr_type == 11 || (tr_type == 3 && !ia32e)))
		return fail(buf, len,
			    "TR (AR 0x%x) must be a usable busy TSS (type 11, or 3 outside IA-32e "
			    "mode): SDM 26.3.1.2",
			    g->tr.ar);
	if ((err = check_seg("TR", &g->tr, buf, len)))
		return err;
	if (!(g->ldtr.ar & VMX_AR_UNUSABLE_BIT) &&
	    ((g->ldtr.ar & VMX_AR_TYPE_MASK) != 2 || (g->ldtr.ar & VMX_AR_S_BIT)))
		return fail(buf, len,
			    "LDTR (AR 0x%x) is usable but not an LDT (type 2, S = 0): SDM 26.3.1.2",
			    g->ldtr.ar);
	if (g->gdtr_limit > 0xffff || g->idtr_limit > 0xffff)
		return fail(buf, len, "GDTR/IDTR limit above 0xffff: SDM 26.3.1.3");
	return 0;
}

/* 26.3.1.4 (RIP, RFLAGS) and 26.3.1.5 (activity, interruptibility, link pointer). */
static int check_state(const struct vmx_guest_state *g, char *buf, size_t len)
{
	bool ia32e = g->entry_ctls & VM_ENTRY_IA32E_MODE;
	bool ext_intr = (g->entry_intr_info & INTR_INFO_VALID_BIT) &&
			(g->entry_intr_info & INTR_INFO_TYPE_MASK) == INTR_TYPE_EXT_INTR;

	if ((!ia32e || !(g->cs.ar & VMX_AR_L_BIT)) && (g->rip >> 32))
		return fail(buf, len,
			    "RIP 0x%llx has bits 63:32 set outside 64-bit mode: SDM 26.3.1.4",
			    (unsigned long long)g->rip);
	if (!(g->rflags & RFLAGS_FIXED1) || (g->rflags & RFLAGS_RESERVED))
		return fail(buf, len,
			    "RFLAGS 0x%llx: bit 1 must be 1 and bits 3, 5, 15, 63:22 must be 0: "
			    "SDM 26.3.1.4",
			    (unsigned long long)g->rflags);
	if ((ia32e || !(g->cr0 & CR0_PE)) && (g->rflags & RFLAGS_VM))
		return fail(buf, len,
			    "RFLAGS.VM is set in IA-32e mode or with CR0.PE clear: SDM 26.3.1.4");
	if (ext_intr && !(g->rflags & RFLAGS_IF))
		return fail(buf, len,
			    "an external interrupt is injected with RFLAGS.IF clear: SDM 26.3.1.4");
	if (g->activity > 3 || (g->activity && !(g->activity_states & BIT(g->activity - 1))))
		return fail(buf, len, "activity state %u is not supported: SDM 26.3.1.5",
			    g->activity);
	if (g->interruptibility & INTR_RESERVED)
		return fail(buf, len, "interruptibility 0x%x has reserved bits set: SDM 26.3.1.5",
			    g->interruptibility);
	if ((g->interruptibility & INTR_BLOCK_STI) && (g->interruptibility & INTR_BLOCK_MOV_SS))
		return fail(buf, len,
			    "interruptibility has both STI and MOV-SS blocking: SDM 26.3.1.5");
	if ((g->interruptibility & INTR_BLOCK_STI) && !(g->rflags & RFLAGS_IF))
		return fail(buf, len, "blocking by STI with RFLAGS.IF clear: SDM 26.3.1.5");
	if (g->link_pointer != ~0ULL)
		return fail(
		    buf, len,
		    "VMCS link pointer 0x%llx is not ~0 (no shadow VMCS is used): SDM 26.3.1.5",
		    (unsigned long long)g->link_pointer);
	return 0;
}

int vmx_check_guest_state(const struct vmx_guest_state *g, char *buf, size_t len)
{
	int err = check_crs(g, buf, len);

	if (!err)
		err = check_segments(g, buf, len);
	if (!err)
		err = check_state(g, buf, len);
	if (!err && len)
		buf[0] = '\0';
	return err;
}
