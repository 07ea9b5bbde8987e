/*
 * VMCS fields (SDM Vol. 3 Appendix B) and width-checked accessors.
 * An encoding's bits 14:13 give its width (B.1-B.4); vmcs_read16/32/64 and
 * vmcs_readl (natural width) refuse, at compile time, a field of another
 * width. A failed VMREAD/VMWRITE is reported with the field's name, the
 * VM-instruction error and the caller.
 */
#ifndef ASM_VMCS_H
#define ASM_VMCS_H

#include <hv/types.h>

enum vmcs_field {
	/* 16-bit control fields */
	VIRTUAL_PROCESSOR_ID = 0x00000000,
	POSTED_INTR_NV = 0x00000002,
	/* 16-bit guest-state fields */
	GUEST_ES_SELECTOR = 0x00000800,
	GUEST_CS_SELECTOR = 0x00000802,
	GUEST_SS_SELECTOR = 0x00000804,
	GUEST_DS_SELECTOR = 0x00000806,
	GUEST_FS_SELECTOR = 0x00000808,
	GUEST_GS_SELECTOR = 0x0000080a,
	GUEST_LDTR_SELECTOR = 0x0000080c,
	GUEST_TR_SELECTOR = 0x0000080e,
	GUEST_INTR_STATUS = 0x00000810,
	/* 16-bit host-state fields */
	HOST_ES_SELECTOR = 0x00000c00,
	HOST_CS_SELECTOR = 0x00000c02,
	HOST_SS_SELECTOR = 0x00000c04,
	HOST_DS_SELECTOR = 0x00000c06,
	HOST_FS_SELECTOR = 0x00000c08,
	HOST_GS_SELECTOR = 0x00000c0a,
	HOST_TR_SELECTOR = 0x00000c0c,
	/* 64-bit control fields */
	IO_BITMAP_A = 0x00002000,
	IO_BITMAP_B = 0x00002002,
	MSR_BITMAP = 0x00002004,
	VM_EXIT_MSR_STORE_ADDR = 0x00002006,
	VM_EXIT_MSR_LOAD_ADDR = 0x00002008,
	VM_ENTRY_MSR_LOAD_ADDR = 0x0000200a,
	TSC_OFFSET = 0x00002010,
	VIRTUAL_APIC_PAGE_ADDR = 0x00002012,
	APIC_ACCESS_ADDR = 0x00002014,
	EOI_EXIT_BITMAP0 = 0x0000201c,
	EOI_EXIT_BITMAP1 = 0x0000201e,
	EOI_EXIT_BITMAP2 = 0x00002020,
	EOI_EXIT_BITMAP3 = 0x00002022,
	EPT_POINTER = 0x0000201a,
	/* 64-bit read-only data field */
	GUEST_PHYSICAL_ADDRESS = 0x00002400,
	/* 64-bit guest-state fields */
	VMCS_LINK_POINTER = 0x00002800,
	GUEST_IA32_DEBUGCTL = 0x00002802,
	GUEST_IA32_PAT = 0x00002804,
	GUEST_IA32_EFER = 0x00002806,
	GUEST_PDPTR0 = 0x0000280a,
	GUEST_PDPTR1 = 0x0000280c,
	GUEST_PDPTR2 = 0x0000280e,
	GUEST_PDPTR3 = 0x00002810,
	/* 64-bit host-state fields */
	HOST_IA32_PAT = 0x00002c00,
	HOST_IA32_EFER = 0x00002c02,
	/* 32-bit control fields */
	PIN_BASED_VM_EXEC_CONTROL = 0x00004000,
	CPU_BASED_VM_EXEC_CONTROL = 0x00004002,
	EXCEPTION_BITMAP = 0x00004004,
	PAGE_FAULT_ERROR_CODE_MASK = 0x00004006,
	PAGE_FAULT_ERROR_CODE_MATCH = 0x00004008,
	CR3_TARGET_COUNT = 0x0000400a,
	VM_EXIT_CONTROLS = 0x0000400c,
	VM_EXIT_MSR_STORE_COUNT = 0x0000400e,
	VM_EXIT_MSR_LOAD_COUNT = 0x00004010,
	VM_ENTRY_CONTROLS = 0x00004012,
	VM_ENTRY_MSR_LOAD_COUNT = 0x00004014,
	VM_ENTRY_INTR_INFO_FIELD = 0x00004016,
	VM_ENTRY_EXCEPTION_ERROR_CODE = 0x00004018,
	VM_ENTRY_INSTRUCTION_LEN = 0x0000401a,
	TPR_THRESHOLD = 0x0000401c,
	SECONDARY_VM_EXEC_CONTROL = 0x0000401e,
	/* 32-bit read-only data fields */
	VM_INSTRUCTION_ERROR = 0x00004400,
	VM_EXIT_REASON = 0x00004402,
	VM_EXIT_INTR_INFO = 0x00004404,
	VM_EXIT_INTR_ERROR_CODE = 0x00004406,
	IDT_VECTORING_INFO_FIELD = 0x00004408,
	IDT_VECTORING_ERROR_CODE = 0x0000440a,
	VM_EXIT_INSTRUCTION_LEN = 0x0000440c,
	VMX_INSTRUCTION_INFO = 0x0000440e,
	/* 32-bit guest-state fields */
	GUEST_ES_LIMIT = 0x00004800,
	GUEST_CS_LIMIT = 0x00004802,
	GUEST_SS_LIMIT = 0x00004804,
	GUEST_DS_LIMIT = 0x00004806,
	GUEST_FS_LIMIT = 0x00004808,
	GUEST_GS_LIMIT = 0x0000480a,
	GUEST_LDTR_LIMIT = 0x0000480c,
	GUEST_TR_LIMIT = 0x0000480e,
	GUEST_GDTR_LIMIT = 0x00004810,
	GUEST_IDTR_LIMIT = 0x00004812,
	GUEST_ES_AR_BYTES = 0x00004814,
	GUEST_CS_AR_BYTES = 0x00004816,
	GUEST_SS_AR_BYTES = 0x00004818,
	GUEST_DS_AR_BYTES = 0x0000481a,
	GUEST_FS_AR_BYTES = 0x0000481c,
	GUEST_GS_AR_BYTES = 0x0000481e,
	GUEST_LDTR_AR_BYTES = 0x00004820,
	GUEST_TR_AR_BYTES = 0x00004822,
	GUEST_INTERRUPTIBILITY_INFO = 0x00004824,
	GUEST_ACTIVITY_STATE = 0x00004826,
	GUEST_SYSENTER_CS = 0x0000482a,
	VMX_PREEMPTION_TIMER_VALUE = 0x0000482e,
	/* 32-bit host-state field */
	HOST_IA32_SYSENTER_CS = 0x00004c00,
	/* natural-width control fields */
	CR0_GUEST_HOST_MASK = 0x00006000,
	CR4_GUEST_HOST_MASK = 0x00006002,
	CR0_READ_SHADOW = 0x00006004,
	CR4_READ_SHADOW = 0x00006006,
	/* natural-width read-only data fields */
	EXIT_QUALIFICATION = 0x00006400,
	GUEST_LINEAR_ADDRESS = 0x0000640a,
	/* natural-width guest-state fields */
	GUEST_CR0 = 0x00006800,
	GUEST_CR3 = 0x00006802,
	GUEST_CR4 = 0x00006804,
	GUEST_ES_BASE = 0x00006806,
	GUEST_CS_BASE = 0x00006808,
	GUEST_SS_BASE = 0x0000680a,
	GUEST_DS_BASE = 0x0000680c,
	GUEST_FS_BASE = 0x0000680e,
	GUEST_GS_BASE = 0x00006810,
	GUEST_LDTR_BASE = 0x00006812,
	GUEST_TR_BASE = 0x00006814,
	GUEST_GDTR_BASE = 0x00006816,
	GUEST_IDTR_BASE = 0x00006818,
	GUEST_DR7 = 0x0000681a,
	GUEST_RSP = 0x0000681c,
	GUEST_RIP = 0x0000681e,
	GUEST_RFLAGS = 0x00006820,
	GUEST_PENDING_DBG_EXCEPTIONS = 0x00006822,
	GUEST_SYSENTER_ESP = 0x00006824,
	GUEST_SYSENTER_EIP = 0x00006826,
	/* natural-width host-state fields */
	HOST_CR0 = 0x00006c00,
	HOST_CR3 = 0x00006c02,
	HOST_CR4 = 0x00006c04,
	HOST_FS_BASE = 0x00006c06,
	HOST_GS_BASE = 0x00006c08,
	HOST_TR_BASE = 0x00006c0a,
	HOST_GDTR_BASE = 0x00006c0c,
	HOST_IDTR_BASE = 0x00006c0e,
	HOST_IA32_SYSENTER_ESP = 0x00006c10,
	HOST_IA32_SYSENTER_EIP = 0x00006c12,
	HOST_RSP = 0x00006c14,
	HOST_RIP = 0x00006c16,
};

/* Field widths, encoding bits 14:13 (SDM B.1-B.4). */
#define VMCS_FIELD_WIDTH_SHIFT 13
#define VMCS_FIELD_WIDTH_MASK  (0x3 << VMCS_FIELD_WIDTH_SHIFT)
#define VMCS_WIDTH_16	       0
#define VMCS_WIDTH_64	       1
#define VMCS_WIDTH_32	       2
#define VMCS_WIDTH_NATURAL     3
#define VMCS_FIELD_WIDTH(f)    (((f)&VMCS_FIELD_WIDTH_MASK) >> VMCS_FIELD_WIDTH_SHIFT)

/* VM-entry interruption-information field (SDM 24.8.3). */
#define INTR_INFO_VECTOR_MASK	   0xff
#define INTR_INFO_TYPE_SHIFT	   8
#define INTR_INFO_TYPE_MASK	   (0x7 << INTR_INFO_TYPE_SHIFT)
#define INTR_TYPE_EXT_INTR	   (0 << INTR_INFO_TYPE_SHIFT)
#define INTR_TYPE_NMI		   (2 << INTR_INFO_TYPE_SHIFT)
#define INTR_TYPE_HARD_EXCEPTION   (3 << INTR_INFO_TYPE_SHIFT)
#define INTR_TYPE_SOFT_INTR	   (4 << INTR_INFO_TYPE_SHIFT)
#define INTR_TYPE_SOFT_EXCEPTION   (6 << INTR_INFO_TYPE_SHIFT)
#define INTR_INFO_DELIVER_CODE_BIT BIT(11)
#define INTR_INFO_VALID_BIT	   BIT(31)

/* Privileged software exception (INT1), and the bits of the IDT-vectoring
 * information (SDM 24.9.3) that are reserved in the VM-entry field: 30:12. */
#define INTR_TYPE_PRIV_SW_EXCEPTION  (5 << INTR_INFO_TYPE_SHIFT)
#define INTR_INFO_VECTORING_RESERVED 0x7ffff000U

/* Guest interruptibility state (SDM 24.4.2, Table 24-3). */
#define GUEST_INTR_STATE_STI	BIT(0)
#define GUEST_INTR_STATE_MOV_SS BIT(1)
#define GUEST_INTR_STATE_SMI	BIT(2)
#define GUEST_INTR_STATE_NMI	BIT(3)

/* Pending debug exceptions (SDM 24.4.2, Table 24-4): the DR6 causes of a
 * #DB the CPU delivers right after VM entry, if BS or "enabled breakpoint"
 * is set (SDM 26.7.3); B0-B3 alone may name breakpoints DR7 does not enable. */
#define PENDING_DBG_B0_B3	0xfUL
#define PENDING_DBG_ENABLED_BP	BIT(12)
#define PENDING_DBG_BS		BIT(14)
#define PENDING_DBG_DELIVERABLE (PENDING_DBG_ENABLED_BP | PENDING_DBG_BS)

/* Guest activity state (SDM 24.4.2). */
#define GUEST_ACTIVITY_ACTIVE	 0
#define GUEST_ACTIVITY_HLT	 1
#define GUEST_ACTIVITY_SHUTDOWN	 2
#define GUEST_ACTIVITY_WAIT_SIPI 3

/* Segment access rights as the VMCS holds them (SDM 24.4.1, Table 24-2). */
#define VMX_AR_TYPE_MASK    0xf
#define VMX_AR_S_BIT	    BIT(4)
#define VMX_AR_DPL_SHIFT    5
#define VMX_AR_P_BIT	    BIT(7)
#define VMX_AR_L_BIT	    BIT(13)
#define VMX_AR_DB_BIT	    BIT(14)
#define VMX_AR_G_BIT	    BIT(15)
#define VMX_AR_UNUSABLE_BIT BIT(16)

u64 __vmcs_read(u32 field, const char *name);
void __vmcs_write(u32 field, u64 value, const char *name);

#define VMCS_CHECK_WIDTH(f, w) _Static_assert(VMCS_FIELD_WIDTH(f) == (w), #f " has another width")

#define vmcs_read16(f)                              \
	({                                          \
		VMCS_CHECK_WIDTH(f, VMCS_WIDTH_16); \
		(u16) __vmcs_read(f, #f);           \
	})
#define vmcs_read32(f)                              \
	({                                          \
		VMCS_CHECK_WIDTH(f, VMCS_WIDTH_32); \
		(u32) __vmcs_read(f, #f);           \
	})
#define vmcs_read64(f)                              \
	({                                          \
		VMCS_CHECK_WIDTH(f, VMCS_WIDTH_64); \
		__vmcs_read(f, #f);                 \
	})
#define vmcs_readl(f)                                    \
	({                                               \
		VMCS_CHECK_WIDTH(f, VMCS_WIDTH_NATURAL); \
		__vmcs_read(f, #f);                      \
	})
#define vmcs_write16(f, v)                          \
	({                                          \
		VMCS_CHECK_WIDTH(f, VMCS_WIDTH_16); \
		__vmcs_write(f, (u16)(v), #f);      \
	})
#define vmcs_write32(f, v)                          \
	({                                          \
		VMCS_CHECK_WIDTH(f, VMCS_WIDTH_32); \
		__vmcs_write(f, (u32)(v), #f);      \
	})
#define vmcs_write64(f, v)                          \
	({                                          \
		VMCS_CHECK_WIDTH(f, VMCS_WIDTH_64); \
		__vmcs_write(f, (u64)(v), #f);      \
	})
#define vmcs_writel(f, v)                                \
	({                                               \
		VMCS_CHECK_WIDTH(f, VMCS_WIDTH_NATURAL); \
		__vmcs_write(f, (u64)(v), #f);           \
	})

/* VMCLEAR / VMPTRLD of the VMCS at pa; 0 or -EIO (reported). */
int vmcs_clear(u64 pa);
int vmcs_load(u64 pa);
/* Name of a VM-instruction error number (SDM 31.4). */
const char *vmx_insn_error_name(u32 err);
/* Print the guest-state area (for entry failures and fault reports). */
void vmcs_dump_guest(void);
struct vmx_guest_state;
/* Copy the current VMCS's guest state into g (with the CPU's fixed bits). */
void vmcs_snapshot_guest(struct vmx_guest_state *g);
/* The first broken VM-entry guest-state rule, in words (SDM 26.3.1). */
const char *vmcs_explain_guest_state(char *buf, size_t len);

#endif
