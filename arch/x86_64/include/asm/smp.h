/* Bringing up the application processors. */
#ifndef ASM_SMP_H
#define ASM_SMP_H

#include <hv/types.h>

struct acpi_info;

/* Set up the boot CPU's per-CPU area (logical CPU 0). */
void smp_init_bsp(void);
/*
 * Start every enabled CPU the MADT lists with INIT-SIPI-SIPI, one at a time.
 * A CPU that does not report in within SMP_AP_TIMEOUT_MS is reported and
 * left out. Returns the number of CPUs online, the boot CPU included.
 */
u32 smp_boot(const struct acpi_info *ai);
/* Test hook: the AP with this APIC ID parks at once instead of reporting in. */
void smp_test_silence(u32 apic_id);
/* Run fn(arg) on every online AP and wait until all have returned. */
void smp_call_all(void (*fn)(void *), void *arg);
/* Hand fn(arg) to an idle CPU and return at once; false if that CPU is busy. */
bool smp_run_on(u32 cpu, void (*fn)(void *), void *arg);
/* Turn the calling CPU into a worker that runs what smp_run_on() hands it. */
__noreturn void smp_worker_loop(void);

#endif
