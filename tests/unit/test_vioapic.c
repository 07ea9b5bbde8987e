/* Host tests of the I/O APIC model: registers, edge and level pins, Remote IRR. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <hv/vioapic.h>

static u32 fired, last_dest, last_vector;
static bool last_logical, last_level;

static void deliver(void *ctx, u32 dest, bool logical, u32 mode, u32 vector, bool level)
{
	(void)ctx;
	(void)mode;
	fired++;
	last_dest = dest;
	last_logical = logical;
	last_vector = vector;
	last_level = level;
}

static void setup(struct vioapic *io)
{
	*io = (struct vioapic){ .deliver = deliver };
	vioapic_reset(io, 2);
	fired = 0;
}

static void rte_write(struct vioapic *io, u32 pin, u64 rte)
{
	vioapic_write(io, VIOAPIC_REGSEL, VIOAPIC_REG_REDIR + 2 * pin);
	vioapic_write(io, VIOAPIC_WINDOW, (u32)rte);
	vioapic_write(io, VIOAPIC_REGSEL, VIOAPIC_REG_REDIR + 2 * pin + 1);
	vioapic_write(io, VIOAPIC_WINDOW, (u32)(rte >> 32));
}

static void test_registers(void **state)
{
	struct vioapic io;

	(void)state;
	setup(&io);
	vioapic_write(&io, VIOAPIC_REGSEL, VIOAPIC_REG_ID);
	assert_int_equal(vioapic_read(&io, VIOAPIC_WINDOW), 2U << 24);
	vioapic_write(&io, VIOAPIC_REGSEL, VIOAPIC_REG_VERSION);
	assert_int_equal(vioapic_read(&io, VIOAPIC_WINDOW), 0x170011); /* 24 pins */
	vioapic_write(&io, VIOAPIC_REGSEL, VIOAPIC_REG_REDIR + 6);
	assert_int_equal(vioapic_read(&io, VIOAPIC_WINDOW), VIOAPIC_RTE_MASKED);
	/* Remote IRR and delivery status are read-only */
	rte_write(&io, 3, 0x30 | BIT(12) | VIOAPIC_RTE_REMOTE_IRR);
	vioapic_write(&io, VIOAPIC_REGSEL, VIOAPIC_REG_REDIR + 6);
	assert_int_equal(vioapic_read(&io, VIOAPIC_WINDOW), 0x30);
	/* out of range: all ones, counted */
	vioapic_write(&io, VIOAPIC_REGSEL, 0x70);
	assert_int_equal(vioapic_read(&io, VIOAPIC_WINDOW), 0xffffffff);
	assert_int_equal(io.bad_access, 1);
	vioapic_set_irq(&io, 99, true); /* no such pin: ignored */
	assert_int_equal(fired, 0);
}

static void test_edge(void **state)
{
	struct vioapic io;

	(void)state;
	setup(&io);
	vioapic_set_irq(&io, 4, true); /* masked: nothing */
	assert_int_equal(fired, 0);
	vioapic_set_irq(&io, 4, false);
	rte_write(&io, 4, 0x24 | VIOAPIC_RTE_LOGICAL | (3ULL << 56));
	vioapic_set_irq(&io, 4, true);
	assert_int_equal(fired, 1);
	assert_int_equal(last_vector, 0x24);
	assert_int_equal(last_dest, 3);
	assert_true(last_logical);
	assert_false(last_level);
	vioapic_set_irq(&io, 4, true); /* no new edge */
	assert_int_equal(fired, 1);
	vioapic_set_irq(&io, 4, false);
	vioapic_set_irq(&io, 4, true);
	assert_int_equal(fired, 2);
}

static void test_level(void **state)
{
	struct vioapic io;

	(void)state;
	setup(&io);
	rte_write(&io, 9, 0x39 | VIOAPIC_RTE_LEVEL);
	vioapic_set_irq(&io, 9, true);
	assert_int_equal(fired, 1);
	assert_true(last_level);
	vioapic_set_irq(&io, 9, true); /* Remote IRR holds it */
	assert_int_equal(fired, 1);
	vioapic_eoi(&io, 0x38); /* another vector: nothing */
	assert_int_equal(fired, 1);
	vioapic_eoi(&io, 0x39); /* still asserted: again */
	assert_int_equal(fired, 2);
	vioapic_set_irq(&io, 9, false);
	vioapic_eoi(&io, 0x39);
	assert_int_equal(fired, 2);
	/* unmasking an asserted level pin delivers */
	rte_write(&io, 10, 0x3a | VIOAPIC_RTE_LEVEL | VIOAPIC_RTE_MASKED);
	vioapic_set_irq(&io, 10, true);
	assert_int_equal(fired, 2);
	rte_write(&io, 10, 0x3a | VIOAPIC_RTE_LEVEL);
	assert_int_equal(fired, 3);
	assert_int_equal(last_vector, 0x3a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_registers),
		cmocka_unit_test(test_edge),
		cmocka_unit_test(test_level),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
