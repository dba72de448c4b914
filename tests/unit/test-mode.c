// SPDX-License-Identifier: MIT
/*
 * Unit tests for mode.c: names, parsing, partition counts and the kernel's validity rules
 * (aqua_vanjaram.c), checked against the tables in ../shared/HARDWARE.md 2.3 and 4.2.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "mipart/mode.h"

#define B(m) MIPART_MODE_BIT(m)

static void test_parse(void **state)
{
	mipart_compute_mode c = MIPART_COMPUTE_UNKNOWN;
	mipart_memory_mode m = MIPART_MEMORY_UNKNOWN;

	assert_int_equal(mipart_compute_mode_parse("cpx", &c), 0);
	assert_int_equal(c, MIPART_COMPUTE_CPX);
	assert_int_equal(mipart_compute_mode_parse("CPX-foo", &c), -22);
	assert_int_equal(mipart_compute_mode_parse("", &c), -22);
	assert_int_equal(mipart_memory_mode_parse("nps4", &m), 0);
	assert_int_equal(m, MIPART_MEMORY_NPS4);
	assert_int_equal(mipart_memory_mode_parse("UNKNOWN", &m), -22);
	assert_int_equal(mipart_memory_mode_parse("NPS5", &m), -22);
}

static void test_partitions(void **state)
{
	/* HARDWARE.md 2.3 */
	assert_int_equal(mipart_compute_mode_partitions(MIPART_COMPUTE_SPX, 8), 1);
	assert_int_equal(mipart_compute_mode_partitions(MIPART_COMPUTE_DPX, 8), 2);
	assert_int_equal(mipart_compute_mode_partitions(MIPART_COMPUTE_QPX, 8), 4);
	assert_int_equal(mipart_compute_mode_partitions(MIPART_COMPUTE_CPX, 8), 8);
	assert_int_equal(mipart_compute_mode_partitions(MIPART_COMPUTE_TPX, 8), 0);
	assert_int_equal(mipart_compute_mode_partitions(MIPART_COMPUTE_TPX, 6), 3);
	assert_int_equal(mipart_compute_mode_partitions(MIPART_COMPUTE_CPX, 6), 6);
	assert_int_equal(mipart_compute_mode_partitions(MIPART_COMPUTE_DPX, 6), 0);
	assert_int_equal(mipart_compute_mode_partitions(MIPART_COMPUTE_DPX, 4), 2);
	assert_int_equal(mipart_compute_mode_partitions(MIPART_COMPUTE_CPX, 4), 4);
	assert_int_equal(mipart_compute_mode_partitions(MIPART_COMPUTE_QPX, 4), 0);
	assert_int_equal(mipart_memory_mode_partitions(MIPART_MEMORY_NPS4, false), 4);
	assert_int_equal(mipart_memory_mode_partitions(MIPART_MEMORY_NPS4, true), 3);
}

static void test_valid_pairs(void **state)
{
	/* HARDWARE.md 4.2, MI300X (8 XCC, gfx942) */
	assert_true(mipart_mode_pair_valid(MIPART_COMPUTE_SPX, MIPART_MEMORY_NPS1, 8, 90402));
	assert_false(mipart_mode_pair_valid(MIPART_COMPUTE_SPX, MIPART_MEMORY_NPS4, 8, 90402));
	assert_true(mipart_mode_pair_valid(MIPART_COMPUTE_DPX, MIPART_MEMORY_NPS2, 8, 90402));
	assert_false(mipart_mode_pair_valid(MIPART_COMPUTE_DPX, MIPART_MEMORY_NPS4, 8, 90402));
	assert_true(mipart_mode_pair_valid(MIPART_COMPUTE_QPX, MIPART_MEMORY_NPS4, 8, 90402));
	assert_true(mipart_mode_pair_valid(MIPART_COMPUTE_CPX, MIPART_MEMORY_NPS4, 8, 90402));
	assert_false(mipart_mode_pair_valid(MIPART_COMPUTE_CPX, MIPART_MEMORY_NPS2, 8, 90402));
	/* GC 9.5.0 also takes NPS2 with QPX and CPX */
	assert_true(mipart_mode_pair_valid(MIPART_COMPUTE_CPX, MIPART_MEMORY_NPS2, 8, 90500));
	assert_true(mipart_mode_pair_valid(MIPART_COMPUTE_QPX, MIPART_MEMORY_NPS2, 8, 90500));
	/* XCC rules: no QPX on 4 XCC, no DPX on 6 XCC, TPX only on 6 */
	assert_false(mipart_mode_pair_valid(MIPART_COMPUTE_QPX, MIPART_MEMORY_NPS1, 4, 90402));
	assert_false(mipart_mode_pair_valid(MIPART_COMPUTE_DPX, MIPART_MEMORY_NPS1, 6, 90402));
	assert_true(mipart_mode_pair_valid(MIPART_COMPUTE_TPX, MIPART_MEMORY_NPS1, 6, 90402));
	assert_false(mipart_mode_pair_valid(MIPART_COMPUTE_TPX, MIPART_MEMORY_NPS1, 8, 90402));
}

static void test_auto(void **state)
{
	assert_int_equal(mipart_compute_mode_auto(MIPART_MEMORY_NPS1, 8, false), MIPART_COMPUTE_SPX);
	assert_int_equal(mipart_compute_mode_auto(MIPART_MEMORY_NPS4, 8, false), MIPART_COMPUTE_CPX);
	assert_int_equal(mipart_compute_mode_auto(MIPART_MEMORY_NPS2, 8, false), MIPART_COMPUTE_DPX);
	assert_int_equal(mipart_compute_mode_auto(MIPART_MEMORY_NPS4, 4, false), MIPART_COMPUTE_CPX);
}

/* the mode at driver load (the rule doctor and the simulator share): AUTO follows the NPS
 * mode; a given mode is taken when the NPS mode allows it, else the switch is refused */
static void test_at_load(void **state)
{
	assert_int_equal(mipart_compute_mode_at_load(MIPART_USER_PARTT_AUTO, MIPART_MEMORY_NPS1, 8,
						     90402, false),
			 MIPART_COMPUTE_SPX);
	assert_int_equal(mipart_compute_mode_at_load(MIPART_USER_PARTT_AUTO, MIPART_MEMORY_NPS4, 8,
						     90402, false),
			 MIPART_COMPUTE_CPX);
	assert_int_equal(mipart_compute_mode_at_load(MIPART_COMPUTE_QPX, MIPART_MEMORY_NPS4, 8, 90402,
						     false),
			 MIPART_COMPUTE_QPX);
	assert_int_equal(mipart_compute_mode_at_load(MIPART_COMPUTE_DPX, MIPART_MEMORY_NPS2, 8, 90402,
						     false),
			 MIPART_COMPUTE_DPX);
	/* SPX is not valid with NPS4: refused at load */
	assert_int_equal(mipart_compute_mode_at_load(MIPART_COMPUTE_SPX, MIPART_MEMORY_NPS4, 8, 90402,
						     false),
			 MIPART_COMPUTE_UNKNOWN);
	/* -1 (UNKNOWN) and values past CPX are no mode */
	assert_int_equal(mipart_compute_mode_at_load(-1, MIPART_MEMORY_NPS1, 8, 90402, false),
			 MIPART_COMPUTE_UNKNOWN);
	assert_int_equal(mipart_compute_mode_at_load(5, MIPART_MEMORY_NPS1, 8, 90402, false),
			 MIPART_COMPUTE_UNKNOWN);
}

static void test_format(void **state)
{
	char buf[64];

	assert_int_equal(mipart_compute_modes_format(B(0) | B(1) | B(3) | B(4), buf, sizeof(buf)), 18);
	assert_string_equal(buf, "SPX, DPX, QPX, CPX");
	mipart_memory_modes_format(B(1) | B(4), buf, sizeof(buf));
	assert_string_equal(buf, "NPS1, NPS4");
	/* truncation keeps a terminated prefix and reports the full length */
	assert_int_equal(mipart_compute_modes_format(B(0) | B(4), buf, 4), 8);
	assert_string_equal(buf, "SPX");
	mipart_compute_modes_format(0, buf, sizeof(buf));
	assert_string_equal(buf, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),	     cmocka_unit_test(test_partitions),
		cmocka_unit_test(test_valid_pairs), cmocka_unit_test(test_auto),
		cmocka_unit_test(test_format),	     cmocka_unit_test(test_at_load),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
