// SPDX-License-Identifier: MIT
/* Unit tests for attr.c: the amdgpu partition attribute formats, with hostile input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>

#include "attr.h"

#define S(x) x, sizeof(x) - 1

static void test_compute_mode(void **state)
{
	mipart_compute_mode m = MIPART_COMPUTE_UNKNOWN;

	assert_int_equal(attr_parse_compute_mode(S("CPX\n"), &m), 0);
	assert_int_equal(m, MIPART_COMPUTE_CPX);
	assert_int_equal(attr_parse_compute_mode(S("SPX"), &m), 0); /* no trailing newline */
	assert_int_equal(m, MIPART_COMPUTE_SPX);
	m = MIPART_COMPUTE_DPX;
	assert_int_equal(attr_parse_compute_mode(S("CPX\r\n"), &m), -EBADMSG);
	assert_int_equal(attr_parse_compute_mode(S(""), &m), -EBADMSG);
	assert_int_equal(attr_parse_compute_mode(S("cpx\n"), &m), -EBADMSG); /* kernel writes caps */
	assert_int_equal(attr_parse_compute_mode(S("CPX\n\n"), &m), -EBADMSG);
	assert_int_equal(attr_parse_compute_mode(S("CP\0X\n"), &m), -EBADMSG);
	assert_int_equal(m, MIPART_COMPUTE_DPX); /* untouched on failure */
}

static void test_memory_mode(void **state)
{
	mipart_memory_mode m = MIPART_MEMORY_NPS2;

	assert_int_equal(attr_parse_memory_mode(S("NPS4\n"), &m), 0);
	assert_int_equal(m, MIPART_MEMORY_NPS4);
	assert_int_equal(attr_parse_memory_mode(S("UNKNOWN\n"), &m), 0);
	assert_int_equal(m, MIPART_MEMORY_UNKNOWN);
	assert_int_equal(attr_parse_memory_mode(S("NPS5\n"), &m), -EBADMSG);
	assert_int_equal(attr_parse_memory_mode(S("NPS\n"), &m), -EBADMSG);
}

static void test_lists(void **state)
{
	mipart_mode_set s = 77;

	assert_int_equal(attr_parse_compute_list(S("SPX, DPX, QPX, CPX\n"), &s), 0);
	assert_int_equal(s, 0x1b);
	assert_int_equal(attr_parse_compute_list(S("Not supported\n"), &s), 0);
	assert_int_equal(s, 0);
	assert_int_equal(attr_parse_memory_list(S("NPS1, NPS4\n"), &s), 0);
	assert_int_equal(s, (1u << 1) | (1u << 4));
	s = 77;
	assert_int_equal(attr_parse_compute_list(S("SPX,DPX\n"), &s), -EBADMSG);
	assert_int_equal(attr_parse_compute_list(S("SPX, SPX\n"), &s), -EBADMSG);
	assert_int_equal(attr_parse_compute_list(S("DPX, SPX\n"), &s), -EBADMSG);
	assert_int_equal(attr_parse_compute_list(S("SPX, \n"), &s), -EBADMSG);
	assert_int_equal(attr_parse_compute_list(S("SPX, XPX\n"), &s), -EBADMSG);
	assert_int_equal(attr_parse_compute_list(S("\n"), &s), -EBADMSG);
	assert_int_equal(attr_parse_compute_list(S(""), &s), -EBADMSG);
	assert_int_equal(attr_parse_memory_list(S("NPS1, NPS4\r\n"), &s), -EBADMSG);
	assert_int_equal(s, 77);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_compute_mode),
		cmocka_unit_test(test_memory_mode),
		cmocka_unit_test(test_lists),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
