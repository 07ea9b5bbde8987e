/*
 * VMX control bits (Intel SDM Vol. 3C 24.6-24.8) and the capability bits of
 * IA32_VMX_EPT_VPID_CAP and IA32_VMX_VMFUNC (SDM Vol. 3D A.10, A.11).
 * Names follow KVM. Controls are never written directly: they go through
 * vmx_adjust_ctls() (asm/vmx_caps.h) against the capability MSR.
 */
#ifndef ASM_VMX_CONTROLS_H
#define ASM_VMX_CONTROLS_H

/* Pin-based VM-execution controls, SDM 24.6.1 (Table 24-5) */
#define PIN_BASED_EXT_INTR_MASK	       (1U << 0)
#define PIN_BASED_NMI_EXITING	       (1U << 3)
#define PIN_BASED_VIRTUAL_NMIS	       (1U << 5)
#define PIN_BASED_VMX_PREEMPTION_TIMER (1U << 6)
#define PIN_BASED_POSTED_INTR	       (1U << 7)
/* Default1 class: must be 1 unless IA32_VMX_TRUE_PINBASED_CTLS says otherwise (SDM A.2) */
#define PIN_BASED_ALWAYSON_WITHOUT_TRUE_MSR 0x00000016U

/* Primary processor-based VM-execution controls, SDM 24.6.2 (Table 24-6) */
#define CPU_BASED_INTR_WINDOW_EXITING	      (1U << 2)
#define CPU_BASED_USE_TSC_OFFSETTING	      (1U << 3)
#define CPU_BASED_HLT_EXITING		      (1U << 7)
#define CPU_BASED_INVLPG_EXITING	      (1U << 9)
#define CPU_BASED_MWAIT_EXITING		      (1U << 10)
#define CPU_BASED_RDPMC_EXITING		      (1U << 11)
#define CPU_BASED_RDTSC_EXITING		      (1U << 12)
#define CPU_BASED_CR3_LOAD_EXITING	      (1U << 15)
#define CPU_BASED_CR3_STORE_EXITING	      (1U << 16)
#define CPU_BASED_ACTIVATE_TERTIARY_CONTROLS  (1U << 17)
#define CPU_BASED_CR8_LOAD_EXITING	      (1U << 19)
#define CPU_BASED_CR8_STORE_EXITING	      (1U << 20)
#define CPU_BASED_TPR_SHADOW		      (1U << 21)
#define CPU_BASED_NMI_WINDOW_EXITING	      (1U << 22)
#define CPU_BASED_MOV_DR_EXITING	      (1U << 23)
#define CPU_BASED_UNCOND_IO_EXITING	      (1U << 24)
#define CPU_BASED_USE_IO_BITMAPS	      (1U << 25)
#define CPU_BASED_MONITOR_TRAP_FLAG	      (1U << 27)
#define CPU_BASED_USE_MSR_BITMAPS	      (1U << 28)
#define CPU_BASED_MONITOR_EXITING	      (1U << 29)
#define CPU_BASED_PAUSE_EXITING		      (1U << 30)
#define CPU_BASED_ACTIVATE_SECONDARY_CONTROLS (1U << 31)
/* Default1 class: bits 1, 4-6, 8, 13-16 and 26 (SDM A.2) */
#define CPU_BASED_ALWAYSON_WITHOUT_TRUE_MSR 0x0401e172U

/* Secondary processor-based VM-execution controls, SDM 24.6.2 (Table 24-7) */
#define SECONDARY_EXEC_VIRTUALIZE_APIC_ACCESSES (1U << 0)
#define SECONDARY_EXEC_ENABLE_EPT		(1U << 1)
#define SECONDARY_EXEC_DESC			(1U << 2) /* descriptor-table exiting */
#define SECONDARY_EXEC_ENABLE_RDTSCP		(1U << 3)
#define SECONDARY_EXEC_VIRTUALIZE_X2APIC_MODE	(1U << 4)
#define SECONDARY_EXEC_ENABLE_VPID		(1U << 5)
#define SECONDARY_EXEC_WBINVD_EXITING		(1U << 6)
#define SECONDARY_EXEC_UNRESTRICTED_GUEST	(1U << 7)
#define SECONDARY_EXEC_APIC_REGISTER_VIRT	(1U << 8)
#define SECONDARY_EXEC_VIRTUAL_INTR_DELIVERY	(1U << 9)
#define SECONDARY_EXEC_PAUSE_LOOP_EXITING	(1U << 10)
#define SECONDARY_EXEC_RDRAND_EXITING		(1U << 11)
#define SECONDARY_EXEC_ENABLE_INVPCID		(1U << 12)
#define SECONDARY_EXEC_ENABLE_VMFUNC		(1U << 13)
#define SECONDARY_EXEC_SHADOW_VMCS		(1U << 14)
#define SECONDARY_EXEC_ENCLS_EXITING		(1U << 15)
#define SECONDARY_EXEC_RDSEED_EXITING		(1U << 16)
#define SECONDARY_EXEC_ENABLE_PML		(1U << 17)
#define SECONDARY_EXEC_EPT_VIOLATION_VE		(1U << 18)
#define SECONDARY_EXEC_PT_CONCEAL_VMX		(1U << 19)
#define SECONDARY_EXEC_ENABLE_XSAVES		(1U << 20)
#define SECONDARY_EXEC_MODE_BASED_EPT_EXEC	(1U << 22)
#define SECONDARY_EXEC_EPT_SUBPAGE_WRITE	(1U << 23)
#define SECONDARY_EXEC_PT_USE_GPA		(1U << 24)
#define SECONDARY_EXEC_TSC_SCALING		(1U << 25)
#define SECONDARY_EXEC_ENABLE_USR_WAIT_PAUSE	(1U << 26)
#define SECONDARY_EXEC_ENABLE_PCONFIG		(1U << 27)
#define SECONDARY_EXEC_ENCLV_EXITING		(1U << 28)
#define SECONDARY_EXEC_EPC_VIRT_EXT		(1U << 29)
#define SECONDARY_EXEC_BUS_LOCK_DETECTION	(1U << 30)
#define SECONDARY_EXEC_NOTIFY_VM_EXITING	(1U << 31) /* instruction timeout */

/* Tertiary processor-based VM-execution controls (64 bits), SDM 24.6.2 (Table 24-8) */
#define TERTIARY_EXEC_LOADIWKEY_EXITING (1ULL << 0)
#define TERTIARY_EXEC_IPI_VIRT		(1ULL << 4)

/* Primary VM-exit controls, SDM 24.7.1 (Table 24-13) */
#define VM_EXIT_SAVE_DEBUG_CONTROLS	    (1U << 2)
#define VM_EXIT_HOST_ADDR_SPACE_SIZE	    (1U << 9)
#define VM_EXIT_LOAD_IA32_PERF_GLOBAL_CTRL  (1U << 12)
#define VM_EXIT_ACK_INTR_ON_EXIT	    (1U << 15)
#define VM_EXIT_SAVE_IA32_PAT		    (1U << 18)
#define VM_EXIT_LOAD_IA32_PAT		    (1U << 19)
#define VM_EXIT_SAVE_IA32_EFER		    (1U << 20)
#define VM_EXIT_LOAD_IA32_EFER		    (1U << 21)
#define VM_EXIT_SAVE_VMX_PREEMPTION_TIMER   (1U << 22)
#define VM_EXIT_CLEAR_BNDCFGS		    (1U << 23)
#define VM_EXIT_PT_CONCEAL_PIP		    (1U << 24)
#define VM_EXIT_CLEAR_IA32_RTIT_CTL	    (1U << 25)
#define VM_EXIT_CLEAR_IA32_LBR_CTL	    (1U << 26)
#define VM_EXIT_LOAD_CET_STATE		    (1U << 28)
#define VM_EXIT_LOAD_IA32_PKRS		    (1U << 29)
#define VM_EXIT_SAVE_IA32_PERF_GLOBAL_CTRL  (1U << 30)
#define VM_EXIT_ACTIVATE_SECONDARY_CONTROLS (1U << 31)
/* Default1 class: bits 0-8, 10, 11, 13, 14, 16 and 17 (SDM A.4) */
#define VM_EXIT_ALWAYSON_WITHOUT_TRUE_MSR 0x00036dffU

/* VM-entry controls, SDM 24.8.1 (Table 24-15) */
#define VM_ENTRY_LOAD_DEBUG_CONTROLS	    (1U << 2)
#define VM_ENTRY_IA32E_MODE		    (1U << 9)
#define VM_ENTRY_SMM			    (1U << 10)
#define VM_ENTRY_DEACT_DUAL_MONITOR	    (1U << 11)
#define VM_ENTRY_LOAD_IA32_PERF_GLOBAL_CTRL (1U << 13)
#define VM_ENTRY_LOAD_IA32_PAT		    (1U << 14)
#define VM_ENTRY_LOAD_IA32_EFER		    (1U << 15)
#define VM_ENTRY_LOAD_BNDCFGS		    (1U << 16)
#define VM_ENTRY_PT_CONCEAL_PIP		    (1U << 17)
#define VM_ENTRY_LOAD_IA32_RTIT_CTL	    (1U << 18)
#define VM_ENTRY_LOAD_CET_STATE		    (1U << 20)
#define VM_ENTRY_LOAD_IA32_LBR_CTL	    (1U << 21)
#define VM_ENTRY_LOAD_IA32_PKRS		    (1U << 22)
/* Default1 class: bits 0-8 and 12 (SDM A.5) */
#define VM_ENTRY_ALWAYSON_WITHOUT_TRUE_MSR 0x000011ffU

/* IA32_VMX_EPT_VPID_CAP, SDM Vol. 3D A.10 */
#define VMX_EPT_EXECUTE_ONLY_BIT	      (1ULL << 0)
#define VMX_EPT_PAGE_WALK_4_BIT		      (1ULL << 6)
#define VMX_EPT_PAGE_WALK_5_BIT		      (1ULL << 7)
#define VMX_EPTP_UC_BIT			      (1ULL << 8)  /* EPT paging structures may be UC */
#define VMX_EPTP_WB_BIT			      (1ULL << 14) /* EPT paging structures may be WB */
#define VMX_EPT_2MB_PAGE_BIT		      (1ULL << 16)
#define VMX_EPT_1GB_PAGE_BIT		      (1ULL << 17)
#define VMX_EPT_INVEPT_BIT		      (1ULL << 20)
#define VMX_EPT_AD_BIT			      (1ULL << 21) /* accessed and dirty flags */
#define VMX_EPT_ADVANCED_EXIT_INFO_BIT	      (1ULL << 22)
#define VMX_EPT_SUPERVISOR_SHADOW_STACK_BIT   (1ULL << 23)
#define VMX_EPT_EXTENT_CONTEXT_BIT	      (1ULL << 25) /* INVEPT single-context */
#define VMX_EPT_EXTENT_GLOBAL_BIT	      (1ULL << 26) /* INVEPT all-context */
#define VMX_VPID_INVVPID_BIT		      (1ULL << 32)
#define VMX_VPID_EXTENT_INDIVIDUAL_ADDR_BIT   (1ULL << 40)
#define VMX_VPID_EXTENT_SINGLE_CONTEXT_BIT    (1ULL << 41)
#define VMX_VPID_EXTENT_GLOBAL_CONTEXT_BIT    (1ULL << 42) /* all-context */
#define VMX_VPID_EXTENT_SINGLE_NON_GLOBAL_BIT (1ULL << 43) /* single-context, retaining globals */

/* IA32_VMX_VMFUNC, SDM Vol. 3D A.11: one bit per VM function */
#define VMX_VMFUNC_EPTP_SWITCHING_BIT (1ULL << 0)

#endif
