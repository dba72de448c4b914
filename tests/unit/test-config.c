// SPDX-License-Identifier: MIT
/*
 * Unit tests for config.c: the v1 format read back through every accessor, each error of the
 * format with its line, column and message, hostile input (alias bomb, nesting bombs, binary
 * bytes, huge scalars, the event cap, UTF-16, tabs, CRLF, byte order marks), loading from
 * files, and the writer's round trip: parsing what mipart_config_format() wrote gives every
 * GPU back its modes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mipart/config.h"
#include "hooks.h"
#include "util.h"
#include "banned.h"

static const char example[] = "version: v1\n"
			      "partition-configs:\n"
			      "  all-cpx:\n"
			      "    - devices: all\n"
			      "      compute: CPX\n"
			      "      memory: NPS4\n"
			      "  mixed:\n"
			      "    - devices: [0, 1, 2, 3]        # GPU indices\n"
			      "      compute: cpx\n"
			      "      memory: nps4\n"
			      "    - devices: [4, 5, \"0000:C5:1F.7\", 0000:05:00.0]\n"
			      "      product: MI300X\n"
			      "      compute: SPX\n"
			      "      memory: NPS1\n"
			      "  memory-only:\n"
			      "    - {devices: all, memory: NPS2}\n"
			      "hooks:\n"
			      "  units: [vllm-a.service, \"vllm@b.target\", x:y.scope]\n";

/* Parse text that must be valid. */
static mipart_config *parse_ok(const char *text, size_t len)
{
	mipart_config_error err = {.line = 12345};
	mipart_config *c = NULL;
	int r = mipart_config_parse(text, len, "ok.yaml", &c, &err);

	if (r < 0)
		fail_msg("%d %s:%u:%u: %s", r, err.file, err.line, err.column, err.message);
	assert_non_null(c);
	assert_int_equal(err.line, 12345); /* untouched on success */
	return c;
}

/* Parse text that must fail with r at line:column with exactly msg (or msg as a prefix). */
static void parse_fail_len(const char *text, size_t len, int r, unsigned line, unsigned column,
			   const char *msg)
{
	mipart_config *c = (mipart_config *)0x1;
	mipart_config_error err;
	int got;

	memset(&err, 0xaa, sizeof(err));
	got = mipart_config_parse(text, len, "plan.yaml", &c, &err);
	if (got != r || err.line != line || err.column != column ||
	    strncmp(err.message, msg, strlen(msg)))
		fail_msg("input:\n%.300s\nwant %d %u:%u: %s\ngot  %d %u:%u: %s", text, r, line,
			 column, msg, got, err.line, err.column, err.message);
	assert_ptr_equal(c, (mipart_config *)0x1); /* untouched on failure */
	assert_string_equal(err.file, "plan.yaml");
	assert_non_null(memchr(err.message, '\0', sizeof(err.message)));
}

static void parse_fail(const char *text, unsigned line, unsigned column, const char *msg)
{
	parse_fail_len(text, strlen(text), -EINVAL, line, column, msg);
}

static void test_example(void **state)
{
	mipart_config *c = parse_ok(example, strlen(example));
	const mipart_config_set *s, *s2;
	const mipart_config_entry *e;

	assert_int_equal(mipart_config_count(c), 3);
	assert_null(mipart_config_get(c, 3));

	s = mipart_config_get(c, 0);
	assert_string_equal(mipart_config_set_name(s), "all-cpx");
	assert_int_equal(mipart_config_set_line(s), 3);
	assert_int_equal(mipart_config_set_entry_count(s), 1);
	e = mipart_config_set_entry(s, 0);
	assert_true(e->all_devices);
	assert_int_equal(e->n_devices, 0);
	assert_null(e->product);
	assert_int_equal(e->compute, MIPART_COMPUTE_CPX);
	assert_int_equal(e->memory, MIPART_MEMORY_NPS4);
	assert_int_equal(e->line, 4);
	assert_int_equal(e->column, 7);
	assert_null(mipart_config_set_entry(s, 1));

	assert_int_equal(mipart_config_find(c, "mixed", &s), 0);
	assert_ptr_equal(s, mipart_config_get(c, 1));
	assert_int_equal(mipart_config_set_entry_count(s), 2);
	e = mipart_config_set_entry(s, 0);
	assert_false(e->all_devices);
	assert_int_equal(e->n_devices, 4);
	for (unsigned i = 0; i < 4; i++) {
		assert_false(e->devices[i].is_bdf);
		assert_int_equal(e->devices[i].index, i);
		assert_string_equal(e->devices[i].bdf, "");
		assert_int_equal(e->devices[i].line, 8);
	}
	assert_int_equal(e->devices[0].column, 17);
	assert_int_equal(e->devices[3].column, 26);
	assert_int_equal(e->compute, MIPART_COMPUTE_CPX); /* case-insensitive */
	assert_int_equal(e->memory, MIPART_MEMORY_NPS4);
	e = mipart_config_set_entry(s, 1);
	assert_int_equal(e->line, 11);
	assert_int_equal(e->n_devices, 4);
	assert_int_equal(e->devices[1].index, 5);
	assert_true(e->devices[2].is_bdf);
	assert_string_equal(e->devices[2].bdf, "0000:c5:1f.7"); /* lower case, as sysfs */
	assert_int_equal(e->devices[2].column, 23);
	assert_true(e->devices[3].is_bdf);
	assert_string_equal(e->devices[3].bdf, "0000:05:00.0");
	assert_string_equal(e->product, "MI300X");
	assert_int_equal(e->compute, MIPART_COMPUTE_SPX);
	assert_int_equal(e->memory, MIPART_MEMORY_NPS1);

	assert_int_equal(mipart_config_find(c, "memory-only", &s), 0);
	e = mipart_config_set_entry(s, 0);
	assert_true(e->all_devices);
	assert_int_equal(e->compute, MIPART_COMPUTE_UNKNOWN);
	assert_int_equal(e->memory, MIPART_MEMORY_NPS2);

	s2 = (const mipart_config_set *)0x1;
	assert_int_equal(mipart_config_find(c, "MIXED", &s2), -ENOENT);
	assert_ptr_equal(s2, (const mipart_config_set *)0x1);

	assert_int_equal(mipart_config_unit_count(c), 3);
	assert_string_equal(mipart_config_unit(c, 0), "vllm-a.service");
	assert_string_equal(mipart_config_unit(c, 1), "vllm@b.target");
	assert_string_equal(mipart_config_unit(c, 2), "x:y.scope");
	assert_null(mipart_config_unit(c, 3));
	assert_null(mipart_config_free(c));
	assert_null(mipart_config_free(NULL));
}

static void test_minimal(void **state)
{
	/* no hooks, keys in any order, quoted keys, core tags, document markers, comments */
	static const char text[] = "%YAML 1.1\n"
				   "--- # plan\n"
				   "\"partition-configs\":\n"
				   "  '0':\n"
				   "  - devices: !!str all\n"
				   "    memory: !!str NPS1\n"
				   "    product: MI300X\n"
				   "  - devices: [!!int 3]\n"
				   "    compute: DPX\n"
				   "version: !!str v1\n"
				   "...\n";
	mipart_config *c = parse_ok(text, strlen(text));
	const mipart_config_set *s = NULL;

	assert_int_equal(mipart_config_unit_count(c), 0);
	assert_int_equal(mipart_config_find(c, "0", &s), 0);
	assert_int_equal(mipart_config_set_entry_count(s), 2);
	assert_int_equal(mipart_config_set_entry(s, 1)->devices[0].index, 3);
	mipart_config_free(c);

	c = parse_ok("version: v1\npartition-configs: {a: [{devices: all, compute: SPX}]}\n"
		     "hooks: {units: []}\n",
		     strlen("version: v1\npartition-configs: {a: [{devices: all, compute: SPX}]}\n"
			    "hooks: {units: []}\n"));
	assert_int_equal(mipart_config_unit_count(c), 0);
	mipart_config_free(c);
}

#define HEAD "version: v1\npartition-configs:\n"
#define CFG HEAD "  a:\n"
#define ENTRY CFG "    - devices: all\n"

static void test_errors_top(void **state)
{
	parse_fail("version: v2\n", 1, 10, "unsupported version 'v2' (this mipart reads v1)");
	parse_fail("version: 1\n", 1, 10, "unsupported version '1' (this mipart reads v1)");
	parse_fail("version:\n", 1, 9, "'version' needs a value");
	parse_fail("version: [v1]\n", 1, 10, "'version' must be a string, not a list");
	parse_fail("version: {v: 1}\n", 1, 10, "'version' must be a string, not a mapping");
	parse_fail("version: !!int 1\n", 1, 10, "'version' must be a string, not !!int");
	parse_fail("version: v1\n", 1, 1, "missing 'partition-configs'");
	parse_fail("partition-configs:\n  a: [{devices: all, compute: SPX}]\n", 1, 1,
		   "missing 'version: v1'");
	parse_fail("version: v1\nversion: v1\n", 2, 1, "duplicate key 'version' (first at line 1)");
	parse_fail(ENTRY "      compute: SPX\npartition-configs: {}\n", 6, 1,
		   "duplicate key 'partition-configs' (first at line 2)");
	parse_fail("version: v1\nmodes: x\n", 2, 1,
		   "unknown key 'modes' (expected version, partition-configs or hooks)");
	parse_fail("version: v1\n? [a]\n: x\n", 2, 3, "expected a key, found a list");
	parse_fail("version: v1\n\"\": x\n", 2, 1, "unknown key ''");
	parse_fail("- version: v1\n", 1, 1,
		   "expected a mapping with 'version' and 'partition-configs', not a list");
	parse_fail("v1\n", 1, 1,
		   "expected a mapping with 'version' and 'partition-configs', not 'v1'");
	parse_fail(HEAD "  a: [{devices: all, compute: SPX}]\n---\nversion: v1\n", 4, 1,
		   "a second YAML document starts here; a config file holds one");
	parse_fail(HEAD "  a: [{devices: all, compute: SPX}]\n...\n---\n", 5, 1,
		   "a second YAML document starts here");
	parse_fail("version: v1\npartition-configs: {a: [}\n", 2, 25,
		   "invalid YAML: did not find expected node content, while parsing a flow node at "
		   "line 2");
	parse_fail("version: \"v1\n", 2, 1, "invalid YAML: found unexpected end of stream");
}

static void test_errors_configs(void **state)
{
	parse_fail(HEAD, 2, 19,
		   "'partition-configs' must be a mapping of config names to lists of entries, "
		   "not nothing");
	parse_fail("version: v1\npartition-configs: []\n", 2, 20,
		   "'partition-configs' must be a mapping of config names to lists of entries, "
		   "not a list");
	parse_fail("version: v1\npartition-configs: {}\n", 2, 20,
		   "'partition-configs' has no configs");
	parse_fail(HEAD "  a b:\n", 3, 3,
		   "config name 'a b' has a space; names use letters, digits and '_', '.', '-'");
	parse_fail(HEAD "  a/b:\n", 3, 3, "config name 'a/b' has '/'");
	parse_fail(HEAD "  null: []\n", 3, 3, "key 'null' reads as null in YAML; quote it");
	parse_fail(HEAD "  ? \n  : []\n", 3, 4, "empty key");
	parse_fail(HEAD "  \"a\\tb\": []\n", 3, 3, "config name 'a?b' has byte 0x09");
	parse_fail(HEAD "  "
			"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa: []\n",
		   3, 3,
		   "config name 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...' is longer than 64 "
		   "characters");
	parse_fail(HEAD "  a: [{devices: all, compute: SPX}]\n  a: []\n", 4, 3,
		   "duplicate config 'a' (first at line 3)");
	parse_fail(CFG, 3, 5,
		   "config 'a' must be a list of entries ('- devices: ...'), not nothing");
	parse_fail(HEAD "  a: {devices: all}\n", 3, 6,
		   "config 'a' must be a list of entries ('- devices: ...'), not a mapping");
	parse_fail(HEAD "  a: []\n", 3, 6, "config 'a' has no entries");
	parse_fail(CFG "    - all\n", 4, 7,
		   "an entry of config 'a' must be a mapping with 'devices' and 'compute' or "
		   "'memory', not 'all'");
	parse_fail(CFG "    - [0]\n", 4, 7, "an entry of config 'a' must be a mapping");
}

static void test_errors_entries(void **state)
{
	/* the example of the brief: 7:16 */
	parse_fail(HEAD "  mixed:\n"
			"    - devices: [0, 1]\n"
			"      compute: CPX\n"
			"      memory: NPS4\n"
			"    - devices: [4, 5]\n"
			"      compute: CPU\n",
		   8, 16, "unknown compute mode 'CPU' (expected SPX, DPX, TPX, QPX or CPX)");
	parse_fail(ENTRY "      memory: NPS5\n", 5, 15,
		   "unknown memory mode 'NPS5' (expected NPS1, NPS2, NPS3, NPS4, NPS6 or NPS8)");
	parse_fail(ENTRY "      compute: SPX-X\n", 5, 16, "unknown compute mode 'SPX-X'");
	parse_fail(ENTRY "      compute:\n", 5, 15, "'compute' needs a value");
	parse_fail(ENTRY "      compute: ~\n", 5, 16, "'compute' needs a value");
	parse_fail(ENTRY "      compute: [CPX]\n", 5, 16, "'compute' must be a string, not a list");
	parse_fail(ENTRY "      memory: {a: 1}\n", 5, 15,
		   "'memory' must be a string, not a mapping");
	parse_fail(ENTRY "      compute: CPX\n      compute: SPX\n", 6, 7,
		   "duplicate key 'compute' (first at line 5)");
	parse_fail(ENTRY "      compute: CPX\n      mode: SPX\n", 6, 7,
		   "unknown key 'mode' in an entry (expected devices, product, compute or memory)");
	parse_fail(ENTRY "      product: MI300X\n", 4, 7,
		   "entry sets neither 'compute' nor 'memory'");
	parse_fail(CFG "    - compute: CPX\n", 4, 7,
		   "entry has no 'devices' (write 'devices: all' or a list of GPU indices)");
	parse_fail(CFG "    - {}\n", 4, 7, "entry has no 'devices'");
	parse_fail(ENTRY "      product: MI300X/2\n      compute: SPX\n", 5, 16,
		   "product 'MI300X/2' has '/'; product names use letters, digits, spaces and "
		   "'_', '.', '+', '-'");
	parse_fail(ENTRY "      product: \" MI300X\"\n      compute: SPX\n", 5, 16,
		   "product ' MI300X' starts or ends with a space");
	parse_fail(ENTRY "      product: \"a\\0b\"\n      compute: SPX\n", 5, 16,
		   "'product' holds a NUL character");
	parse_fail(ENTRY "      product: \"\"\n      compute: SPX\n", 5, 16,
		   "product '' starts or ends with a space");
	parse_fail(ENTRY "      product: [MI300X]\n", 5, 16,
		   "'product' must be a string, not a list");
}

static void test_errors_devices(void **state)
{
	parse_fail(CFG "    - devices:\n      compute: SPX\n", 4, 15, "'devices' needs a value");
	parse_fail(CFG "    - devices: some\n", 4, 16,
		   "'devices' must be 'all' or a list of GPU indices or PCI addresses, not 'some'");
	parse_fail(CFG "    - devices: ALL\n", 4, 16, "'devices' must be 'all' or a list");
	parse_fail(CFG "    - devices: 3\n", 4, 16, "'devices' must be 'all' or a list: write [3]");
	parse_fail(CFG "    - devices: 0000:05:00.0\n", 4, 16,
		   "'devices' must be 'all' or a list: write [\"0000:05:00.0\"]");
	parse_fail(
	    CFG "    - devices: {0: 1}\n", 4, 16,
	    "'devices' must be 'all' or a list of GPU indices or PCI addresses, not a mapping");
	parse_fail(CFG "    - devices: []\n", 4, 16,
		   "'devices' is empty: write 'all' or list GPU indices");
	parse_fail(CFG "    - devices: [0, [1]]\n", 4, 20,
		   "an item of 'devices' must be a GPU index or a PCI address, not a list");
	parse_fail(CFG "    - devices: [0, {1: 2}]\n", 4, 20,
		   "an item of 'devices' must be a GPU index or a PCI address, not a mapping");
	parse_fail(CFG "    - devices: [64]\n", 4, 17, "GPU index 64 is out of range (0..63)");
	parse_fail(CFG "    - devices: [99999999999999999999999]\n", 4, 17,
		   "GPU index 99999999999999999999999 is out of range (0..63)");
	parse_fail(CFG "    - devices: [-1]\n", 4, 17,
		   "'-1' is neither a GPU index (0..63) nor a PCI address (0000:05:00.0)");
	parse_fail(CFG "    - devices: [1.5]\n", 4, 17, "'1.5' is neither a GPU index");
	parse_fail(CFG "    - devices: [0x1]\n", 4, 17, "'0x1' is neither a GPU index");
	parse_fail(CFG "    - devices: [007]\n", 4, 17,
		   "GPU index '007' has a leading zero; write 7");
	parse_fail(CFG "    - devices: [00]\n", 4, 17,
		   "GPU index '00' has a leading zero; write 0");
	parse_fail(CFG "    - devices: [\"3\"]\n", 4, 17,
		   "GPU index '3' is quoted; write it without quotes");
	parse_fail(CFG "    - devices: [!!str 3]\n", 4, 17, "GPU index '3' is quoted");
	parse_fail(CFG "    - devices: [!!int x]\n", 4, 17, "'x' is not a GPU index (0..63)");
	parse_fail(CFG "    - devices: [!!bool true]\n", 4, 17,
		   "an item of 'devices' must be a GPU index or a PCI address, not !!bool");
	parse_fail(CFG "    - devices: [05:00.0]\n", 4, 17,
		   "PCI address '05:00.0' needs its domain: write '0000:05:00.0'");
	parse_fail(CFG "    - devices: [0000:05:20.0]\n", 4, 17,
		   "PCI address '0000:05:20.0' is out of range (device 00..1f, function 0..7)");
	parse_fail(CFG "    - devices: [0000:05:00.8]\n", 4, 17,
		   "PCI address '0000:05:00.8' is out of range");
	parse_fail(CFG "    - devices: [0000:5:00.0]\n", 4, 17, "'0000:5:00.0' is neither");
	parse_fail(CFG "    - devices: [0000:05:00.0x]\n", 4, 17, "'0000:05:00.0x' is neither");

	/* duplicates inside one entry, and across entries: both places named */
	parse_fail(CFG "    - devices: [0, 1, 0]\n      compute: SPX\n", 4, 23,
		   "GPU 0 is listed twice (first at line 4, column 17)");
	parse_fail(CFG "    - devices: [\"0000:05:00.0\", 0000:05:00.0]\n      compute: SPX\n", 4,
		   33, "GPU 0000:05:00.0 is listed twice (first at line 4, column 17)");
	parse_fail(CFG "    - devices: [0, 1]\n"
		       "      compute: SPX\n"
		       "    - devices: [2, 3]\n"
		       "      compute: SPX\n"
		       "    - devices:\n"
		       "        - 4\n"
		       "        - 1\n"
		       "      compute: CPX\n",
		   10, 11, "GPU 1 is selected by two entries of config 'a', at lines 4 and 10");
	parse_fail(CFG "    - {devices: [0000:0A:00.0], compute: SPX}\n"
		       "    - {devices: [0000:0a:00.0], compute: SPX, product: MI300X}\n",
		   5, 18,
		   "GPU 0000:0a:00.0 is selected by two entries of config 'a', at lines 4 and 5");
	parse_fail(HEAD "  b: [{devices: [1], compute: SPX}, {devices: [1], compute: CPX}]\n", 3,
		   48,
		   "GPU 1 is selected by two entries of config 'b', at line 3, columns 18 and 48");
	parse_fail(CFG "    - {devices: all, compute: SPX}\n    - {devices: all, memory: NPS1}\n",
		   5, 7, "this entry and the entry at line 4 both select all GPUs");
	parse_fail(CFG "    - {devices: all, compute: SPX, product: MI300X}\n"
		       "    - {devices: all, memory: NPS1, product: mi300x}\n",
		   5, 7, "this entry and the entry at line 4 both select all mi300x GPUs");
}

static void test_no_overlap(void **state)
{
	/* the same GPU in two configs, and "all" per product, are fine */
	static const char text[] = HEAD "  a: [{devices: [1], compute: SPX}]\n"
					"  b: [{devices: [1], compute: CPX}]\n"
					"  c:\n"
					"    - {devices: all, product: MI300X, compute: SPX}\n"
					"    - {devices: all, product: MI325X, compute: CPX}\n"
					"    - {devices: [0], product: MI308X, compute: CPX}\n";
	mipart_config_free(parse_ok(text, strlen(text)));
}

static void test_errors_hooks(void **state)
{
#define H ENTRY "      compute: SPX\nhooks:\n"
	parse_fail(ENTRY "      compute: SPX\nhooks: x.service\n", 6, 8,
		   "'hooks' must be a mapping with 'units', not 'x.service'");
	parse_fail(H, 6, 7, "'hooks' must be a mapping with 'units', not nothing");
	parse_fail(ENTRY "      compute: SPX\nhooks: {}\n", 6, 8, "'hooks' has no 'units'");
	parse_fail(H "  units: [a.service]\n  pre: [x]\n", 8, 3,
		   "unknown key 'pre' in 'hooks' (expected units)");
	parse_fail(H "  units: []\n  units: []\n", 8, 3, "duplicate key 'units' (first at line 7)");
	parse_fail(H "  units: a.service\n", 7, 10, "'units' must be a list: write [a.service]");
	parse_fail(H "  units:\n", 7, 9,
		   "'units' must be a list of systemd unit names, not nothing");
	parse_fail(H "  units: {a: b}\n", 7, 10,
		   "'units' must be a list of systemd unit names, not a mapping");
	parse_fail(H "  units: [a.service, [b.service]]\n", 7, 22,
		   "a unit name must be a string, not a list");
	parse_fail(H "  units: [a.service, b.socket]\n", 7, 22,
		   "unit name 'b.socket' must end in .service, .target or .scope");
	parse_fail(H "  units: [.service]\n", 7, 11,
		   "unit name '.service' must end in .service, .target or .scope");
	parse_fail(H "  units: [\"a b.service\"]\n", 7, 11,
		   "unit name 'a b.service' has a space; unit names use letters, digits and ':', "
		   "'_', '.', '@', '-'");
	parse_fail(H "  units: [\"a;reboot.service\"]\n", 7, 11,
		   "unit name 'a;reboot.service' has ';'");
	parse_fail(H "  units: [--now.service]\n", 7, 11,
		   "unit name '--now.service' starts with '-'");
	parse_fail(H "  units: [vllm@.service]\n", 7, 11,
		   "unit 'vllm@.service' is a template; name an instance (foo@1.service)");
	parse_fail(H "  units: [a.service, b.target, a.service]\n", 7, 32,
		   "unit 'a.service' is listed twice (first at line 7)");
#undef H
}

static void test_anchors_tags(void **state)
{
	parse_fail("version: &v v1\n", 1, 10,
		   "YAML anchors are not supported (&v); write the value out");
	parse_fail("version: v1\npartition-configs: &c\n  a: []\n", 2, 20,
		   "YAML anchors are not supported (&c)");
	parse_fail(HEAD "  &k a: []\n", 3, 3, "YAML anchors are not supported (&k)");
	parse_fail("&top version: v1\n", 1, 1, "YAML anchors are not supported (&top)");
	parse_fail("version: *v\n", 1, 10, "YAML aliases are not supported (*v)"); /* undefined */
	parse_fail(CFG "    - devices: all\n      compute: *c\n", 5, 16,
		   "YAML aliases are not supported (*c); write the value out");
	parse_fail(CFG "    - <<: *base\n", 4, 7,
		   "unknown key '<<' in an entry"); /* no merge keys */
	parse_fail("version: !custom v1\n", 1, 10, "tag '!custom' is not supported here");
	parse_fail("version: ! v1\n", 1, 10, "tag '!' is not supported here");
	parse_fail("version: !!python/object:os.system v1\n", 1, 10,
		   "tag '!!python/object:os.system' is not supported here");
	parse_fail("%TAG !e! tag:example.com,2000:\n---\nversion: !e!x v1\n", 3, 10,
		   "tag 'tag:example.com,2000:x' is not supported here");
	parse_fail("version: v1\npartition-configs: !!seq {}\n", 2, 20,
		   "tag '!!seq' is not supported here");
	parse_fail("!!map [version]\n", 1, 1, "tag '!!map' is not supported here");
	parse_fail("version: !!null v1\n", 1, 10, "'version' must be a string, not !!null");
}

/*
 * The alias bomb: 218 bytes that a tree-building reader expands to 9^5 nodes. Refused at the
 * first anchor, before any alias is looked at.
 */
static void test_alias_bomb(void **state)
{
	static const char bomb[] = "version: v1\n"
				   "partition-configs:\n"
				   "  a: &a [x,x,x,x,x,x,x,x,x]\n"
				   "  b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
				   "  c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
				   "  d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
				   "  e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n"
				   "# lol lol!\n";
	/* the classic shape, at the top level */
	static const char classic[] = "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n"
				      "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
				      "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
				      "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
				      "e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n";

	assert_int_equal(strlen(bomb), 218);
	parse_fail(bomb, 3, 6, "YAML anchors are not supported (&a); write the value out");
	parse_fail(classic, 1, 1, "unknown key 'a'");
	parse_fail("version: v1\npartition-configs:\n  a: [*x, *x]\n", 3, 7,
		   "YAML aliases are not supported (*x)");
}

/* A string of n copies of s after prefix, then suffix. Caller frees. */
static char *repeat(const char *prefix, const char *s, size_t n, const char *suffix)
{
	size_t pl = strlen(prefix), sl = strlen(s), xl = strlen(suffix);
	char *buf = malloc(pl + sl * n + xl + 1), *p = buf;

	assert_non_null(buf);
	memcpy(p, prefix, pl);
	p += pl;
	for (size_t i = 0; i < n; i++, p += sl)
		memcpy(p, s, sl);
	memcpy(p, suffix, xl + 1);
	return buf;
}

static void test_nesting(void **state)
{
	char *t;

	/* 500000 levels of flow lists: refused at the first level the schema does not take */
	t = repeat("version: v1\npartition-configs:\n  a:\n    - devices: ", "[", 500000, "");
	parse_fail(t, 4, 17,
		   "an item of 'devices' must be a GPU index or a PCI address, not a list");
	free(t);
	t = repeat("", "[", 1000000, "");
	parse_fail(t, 1, 1,
		   "expected a mapping with 'version' and 'partition-configs', not a list");
	free(t);
	t = repeat("version: ", "{a: ", 200000, "");
	parse_fail(t, 1, 10, "'version' must be a string, not a mapping");
	free(t);
	/* block nesting */
	t = repeat("version: v1\npartition-configs:\n", "  - ", 1000, "x\n");
	parse_fail(t, 3, 3, "'partition-configs' must be a mapping");
	free(t);
}

static void test_event_cap(void **state)
{
	/* 256 configs of 64 entries: 132 000 events in 960 KiB, every one valid by itself */
	size_t cap = MIPART_CONFIG_MAX_SIZE, len = 0;
	char *t = malloc(cap);

	assert_non_null(t);
	len += (size_t)snprintf(t + len, cap - len, "version: v1\npartition-configs:\n");
	for (unsigned c = 0; c < MIPART_CONFIG_MAX_CONFIGS; c++) {
		len += (size_t)snprintf(t + len, cap - len, "  c%u:\n", c);
		for (unsigned e = 0; e < MIPART_CONFIG_MAX_ENTRIES; e++)
			len +=
			    (size_t)snprintf(t + len, cap - len,
					     "  - {devices: all, product: p%u, memory: NPS1}\n", e);
	}
	assert_true(len < cap);
	{
		mipart_config *c = NULL;
		mipart_config_error err;

		assert_int_equal(mipart_config_parse(t, len, "big.yaml", &c, &err), -EINVAL);
		assert_null(c);
		assert_string_equal(err.message,
				    "more than 100000 YAML nodes; a config is far smaller");
		assert_true(err.line > 100);
	}
	free(t);
}

static void test_limits(void **state)
{
	char *t, *u;
	size_t len = 0;

	/* 64 indices and one PCI address: 65 items */
	t = repeat(CFG "    - devices: [", "", 0, "");
	u = malloc(4096);
	assert_non_null(u);
	len = (size_t)snprintf(u, 4096, "%s", t);
	for (unsigned i = 0; i < 64; i++)
		len += (size_t)snprintf(u + len, 4096 - len, "%u, ", i);
	snprintf(u + len, 4096 - len, "0000:01:00.0]\n      compute: SPX\n");
	parse_fail(u, 4, 17 + (unsigned)(len - strlen(t)), "more than 64 items in 'devices'");
	free(t);

	len = (size_t)snprintf(u, 4096, CFG);
	for (unsigned i = 0; i < 65; i++)
		len += (size_t)snprintf(u + len, 4096 - len,
					"    - {devices: [%u], compute: SPX}\n", i < 64 ? i : 0);
	parse_fail(u, 68, 7, "config 'a' has more than 64 entries");

	len = (size_t)snprintf(u, 4096, "%s", ENTRY "      compute: SPX\nhooks:\n  units:\n");
	for (unsigned i = 0; i < 65; i++)
		len += (size_t)snprintf(u + len, 4096 - len, "  - u%u.service\n", i);
	parse_fail(u, 72, 5, "more than 64 units in 'hooks'");
	free(u);

	u = malloc(65536);
	assert_non_null(u);
	/* 65 PCI addresses in one config, spread over two entries */
	len = (size_t)snprintf(u, 65536, CFG "    - compute: SPX\n      devices:\n");
	for (unsigned i = 0; i < 65; i++)
		len += (size_t)snprintf(u + len, 65536 - len, "%s        - 0000:%02x:00.0\n",
					i == 40 ? "    - compute: CPX\n      devices:\n" : "", i);
	parse_fail(u, 72, 11, "config 'a' names more than 64 PCI addresses");

	len = (size_t)snprintf(u, 65536, HEAD);
	for (unsigned i = 0; i < 257; i++)
		len += (size_t)snprintf(u + len, 65536 - len,
					"  c%u: [{devices: all, memory: NPS1}]\n", i);
	parse_fail(u, 259, 3, "more than 256 configs");
	free(u);
}

static void test_huge(void **state)
{
	char *t;

	/* a scalar of nearly 1 MiB */
	t = repeat(ENTRY "      product: ", "X", MIPART_CONFIG_MAX_SIZE - 200, "\n");
	parse_fail(
	    t, 5, 16,
	    "product 'XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX...' is longer than 64 characters");
	free(t);
	t = repeat("version: v1\n", "k", MIPART_CONFIG_MAX_SIZE - 200, ": 1\n");
	/* libyaml gives up on a key longer than 1024 characters */
	parse_fail(t, 2, MIPART_CONFIG_MAX_SIZE - 199, "invalid YAML: could not find expected ':'");
	free(t);
	t = repeat("version: v1\n", "k", 1000, ": 1\n");
	parse_fail(t, 2, 1, "unknown key 'kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk...'");
	free(t);
	/* one byte over the cap */
	t = repeat("", "#", MIPART_CONFIG_MAX_SIZE + 1, "");
	parse_fail_len(t, MIPART_CONFIG_MAX_SIZE + 1, -EFBIG, 0, 0, "larger than 1 MiB");
	free(t);
	/* the cap itself is fine: 1 MiB of comment after a valid config */
	t = repeat(ENTRY "      compute: SPX\n", "#", MIPART_CONFIG_MAX_SIZE, "");
	mipart_config_free(parse_ok(t, MIPART_CONFIG_MAX_SIZE));
	free(t);
}

static void test_empty(void **state)
{
	parse_fail("", 1, 1, "the file is empty; a config starts with 'version: v1'");
	parse_fail_len(NULL, 0, -EINVAL, 1, 1, "the file is empty");
	parse_fail("\n\n  \n", 1, 1, "the file is empty");
	parse_fail("# nothing\n", 1, 1, "the file is empty");
	parse_fail("---\n", 2, 1, "the document is empty; a config starts with 'version: v1'");
	parse_fail("--- ~\n", 1, 5, "the document is empty");
	parse_fail("...\n", 1, 1, "invalid YAML: did not find expected node content");
}

static void test_binary(void **state)
{
	static const char nul[] = "version: v1\0\npartition-configs: {}\n";
	static const unsigned char elf[] = {0x7f, 'E', 'L', 'F', 2, 1, 1, 0, 0, 0};
	unsigned char rnd[4096];
	uint32_t x = 2463534242u;

	parse_fail_len(nul, sizeof(nul) - 1, -EINVAL, 1, 12,
		       "not UTF-8 text: control characters are not allowed (0x00)");
	parse_fail_len((const char *)elf, sizeof(elf), -EINVAL, 1, 1,
		       "not UTF-8 text: control characters are not allowed (0x7f)");
	parse_fail("version: v1\nx: caf\xc3\xa9 \xff\n", 2, 9,
		   "not UTF-8 text: invalid leading UTF-8 octet (0xff)");
	parse_fail("version: v1\nx: \xc3\n", 2, 5,
		   "not UTF-8 text: invalid trailing UTF-8 octet (0x0a)");
	parse_fail("version: v1\nx: \xc3", 2, 4, "not UTF-8 text: incomplete UTF-8 octet sequence");
	parse_fail("version: v1\nx: \xc0\x80\n", 2, 4, "not UTF-8 text: invalid length");
	parse_fail("version: v1\nx: \xed\xa0\x80\n", 2, 4,
		   "not UTF-8 text: invalid Unicode character");
	parse_fail("version: v1\n\x1b[31m\n", 2, 1,
		   "not UTF-8 text: control characters are not allowed (0x1b)");
	/* UTF-16, with and without a byte order mark */
	parse_fail_len("\xff\xfev\0e\0r\0", 8, -EINVAL, 1, 1,
		       "the file is UTF-16; save it as UTF-8");
	parse_fail_len("\xfe\xff\0v\0e\0r", 8, -EINVAL, 1, 1, "the file is UTF-16");
	parse_fail_len("v\0e\0r\0", 6, -EINVAL, 1, 2, "not UTF-8 text: control characters");
	/* random bytes: refused, never crash */
	for (int round = 0; round < 200; round++) {
		mipart_config *c = NULL;
		mipart_config_error err;

		for (size_t i = 0; i < sizeof(rnd); i++) {
			x ^= x << 13;
			x ^= x >> 17;
			x ^= x << 5;
			rnd[i] = (unsigned char)x;
		}
		assert_int_equal(
		    mipart_config_parse((const char *)rnd, (size_t)round * 20, NULL, &c, &err),
		    -EINVAL);
		assert_null(c);
		assert_string_equal(err.file, "<input>");
	}
}

static void test_crlf_bom_tabs(void **state)
{
	static const char crlf[] = "version: v1\r\n"
				   "partition-configs:\r\n"
				   "  a:\r\n"
				   "    - devices: [0, 1]\r\n"
				   "      compute: CPX\r\n"
				   "  b:\r\n"
				   "    - devices: all\r\n"
				   "      memory: NPS4\r\n";
	static const char bom[] = "\xef\xbb\xbfversion: v1\n"
				  "partition-configs: {a: [{devices: all, compute: SPX}]}\n";
	static const char tabsep[] = "version:\tv1\n"
				     "partition-configs:\n"
				     "  a:\t# tab before a comment\n"
				     "    - devices: [0,\t1]\n"
				     "      compute:\tCPX\n";
	mipart_config *c;
	const mipart_config_set *s = NULL;

	c = parse_ok(crlf, strlen(crlf));
	assert_int_equal(mipart_config_count(c), 2);
	assert_int_equal(mipart_config_find(c, "b", &s), 0);
	assert_int_equal(mipart_config_set_line(s), 6);
	assert_int_equal(mipart_config_set_entry(s, 0)->memory, MIPART_MEMORY_NPS4);
	mipart_config_free(c);
	/* CRLF and lone CR count one line each; columns are unchanged */
	parse_fail("version: v1\r\npartition-configs:\r\n  a:\r\n    - devices: all\r\n"
		   "      compute: CPU\r\n",
		   5, 16, "unknown compute mode 'CPU'");
	parse_fail("version: v1\r\n\r\nx: 1\r\n", 3, 1, "unknown key 'x'");
	parse_fail("version: v1\rx: 1\r", 2, 1, "unknown key 'x'");
	parse_fail("version: v1\r\nx: \x01\r\n", 2, 4, "not UTF-8 text: control characters");

	c = parse_ok(bom, strlen(bom));
	mipart_config_free(c);
	/* columns after a byte order mark count from the first real character */
	parse_fail("\xef\xbb\xbfversion: v2\n", 1, 10, "unsupported version 'v2'");
	parse_fail("\xef\xbb\xbfx: \x02\n", 1, 4, "not UTF-8 text: control characters");
	parse_fail("\xef\xbb\xbf", 1, 1, "the file is empty");

	/* a tab separates, but never indents */
	c = parse_ok(tabsep, strlen(tabsep));
	mipart_config_free(c);
	parse_fail("version: v1\npartition-configs:\n\ta:\n", 3, 1,
		   "tab character: YAML indents with spaces, never tabs");
	parse_fail(CFG "    - devices: all\n\t  compute: CPX\n", 5, 1,
		   "tab character: YAML indents with spaces, never tabs");
	parse_fail(CFG "\t- devices: all\n", 4, 1, "tab character");
}

static char tmpdir[64];

static void test_load(void **state)
{
	char path[128], big[128];
	mipart_config *c = NULL;
	mipart_config_error err;
	char *t;

	util_strlcpy(tmpdir, "/tmp/test-config.XXXXXX", sizeof(tmpdir));
	assert_non_null(mkdtemp(tmpdir));
	snprintf(path, sizeof(path), "%s/plan.yaml", tmpdir);
	snprintf(big, sizeof(big), "%s/big.yaml", tmpdir);

	assert_int_equal(util_write_file(path, example, strlen(example), 0644), 0);
	assert_int_equal(mipart_config_load(path, &c, &err), 0);
	assert_int_equal(mipart_config_count(c), 3);
	c = mipart_config_free(c);

	assert_int_equal(util_write_file(path, "version: v1\nx: 1\n", 17, 0644), 0);
	assert_int_equal(mipart_config_load(path, &c, &err), -EINVAL);
	assert_null(c);
	assert_string_equal(err.file, path);
	assert_int_equal(err.line, 2);
	assert_int_equal(err.column, 1);

	t = repeat("", "#", MIPART_CONFIG_MAX_SIZE + 1, "");
	assert_int_equal(util_write_file(big, t, MIPART_CONFIG_MAX_SIZE + 1, 0644), 0);
	free(t);
	assert_int_equal(mipart_config_load(big, &c, &err), -EFBIG);
	assert_null(c);
	assert_string_equal(err.file, big);
	assert_int_equal(err.line, 0);
	assert_string_equal(err.message, "cannot read: larger than 1 MiB; a config is far smaller");

	snprintf(big, sizeof(big), "%s/missing.yaml", tmpdir);
	assert_int_equal(mipart_config_load(big, &c, &err), -ENOENT);
	assert_null(c);
	assert_string_equal(err.file, big);
	assert_int_equal(err.line, 0);
	assert_string_equal(err.message, "cannot read: no such file or directory");
	assert_int_equal(mipart_config_load(tmpdir, &c, &err), -EISDIR);
	assert_int_equal(mipart_config_load(big, &c, NULL), -ENOENT);
	assert_null(c);
	assert_int_equal(util_rm_rf(tmpdir), 0);
}

static void test_format_text(void **state)
{
	static const unsigned idx[] = {3, 0, 1, 2};
	static const char *const prod[] = {"MI300X", "MI300X", "MI325X", "MI300X"};
	static const mipart_compute_mode cm[] = {MIPART_COMPUTE_SPX, MIPART_COMPUTE_CPX,
						 MIPART_COMPUTE_CPX, MIPART_COMPUTE_SPX};
	static const mipart_memory_mode mm[] = {MIPART_MEMORY_NPS1, MIPART_MEMORY_NPS4,
						MIPART_MEMORY_NPS4, MIPART_MEMORY_NPS1};
	static const char *const one[] = {"MI300X", "MI300X", "MI300X", "MI300X"};
	static const mipart_compute_mode cpx[] = {MIPART_COMPUTE_CPX, MIPART_COMPUTE_CPX,
						  MIPART_COMPUTE_CPX, MIPART_COMPUTE_CPX};
	static const mipart_memory_mode nps4[] = {MIPART_MEMORY_NPS4, MIPART_MEMORY_NPS4,
						  MIPART_MEMORY_NPS4, MIPART_MEMORY_NPS4};
	static const mipart_memory_mode some[] = {MIPART_MEMORY_NPS4, MIPART_MEMORY_UNKNOWN,
						  MIPART_MEMORY_NPS4, MIPART_MEMORY_NPS4};
	static const mipart_compute_mode partly[] = {MIPART_COMPUTE_CPX, MIPART_COMPUTE_UNKNOWN,
						     MIPART_COMPUTE_UNKNOWN, MIPART_COMPUTE_CPX};
	char *text = NULL;

	assert_int_equal(mipart_config_format("now", 4, idx, prod, cm, mm, &text), 0);
	assert_string_equal(text, "version: v1\n"
				  "partition-configs:\n"
				  "  \"now\":\n"
				  "    - devices: [0]\n"
				  "      product: \"MI300X\"\n"
				  "      compute: CPX\n"
				  "      memory: NPS4\n"
				  "    - devices: [1]\n"
				  "      product: \"MI325X\"\n"
				  "      compute: CPX\n"
				  "      memory: NPS4\n"
				  "    - devices: [2, 3]\n"
				  "      product: \"MI300X\"\n"
				  "      compute: SPX\n"
				  "      memory: NPS1\n");
	free(text);

	assert_int_equal(mipart_config_format("all-cpx", 4, NULL, one, cpx, nps4, &text), 0);
	assert_string_equal(text, "version: v1\n"
				  "partition-configs:\n"
				  "  \"all-cpx\":\n"
				  "    - devices: all\n"
				  "      compute: CPX\n"
				  "      memory: NPS4\n");
	free(text);

	/* unknown modes are left out; a GPU with neither mode is not in the config */
	assert_int_equal(mipart_config_format("p", 4, NULL, NULL, partly, some, &text), 0);
	assert_string_equal(text, "version: v1\n"
				  "partition-configs:\n"
				  "  \"p\":\n"
				  "    - devices: [0, 3]\n"
				  "      compute: CPX\n"
				  "      memory: NPS4\n"
				  "    - devices: [2]\n"
				  "      memory: NPS4\n");
	free(text);
}

static void test_format_errors(void **state)
{
	static const unsigned idx[] = {0, 64}, dup[] = {1, 1};
	static const char *const bad[] = {"MI300X", "MI300X\n"};
	static const mipart_compute_mode cm[] = {MIPART_COMPUTE_SPX, MIPART_COMPUTE_SPX};
	static const mipart_memory_mode mm[] = {MIPART_MEMORY_NPS1, MIPART_MEMORY_NPS1};
	static const mipart_compute_mode cm_bad[] = {MIPART_COMPUTE_SPX, 5};
	static const mipart_memory_mode mm_bad[] = {MIPART_MEMORY_NPS1, 5};
	static const mipart_compute_mode cm_none[] = {MIPART_COMPUTE_UNKNOWN,
						      MIPART_COMPUTE_UNKNOWN};
	static const mipart_memory_mode mm_none[] = {MIPART_MEMORY_UNKNOWN, MIPART_MEMORY_UNKNOWN};
	unsigned many[65];
	mipart_compute_mode cm_many[65];
	mipart_memory_mode mm_many[65];
	char *text = (char *)0x1;

	for (unsigned i = 0; i < 65; i++) {
		many[i] = i;
		cm_many[i] = MIPART_COMPUTE_SPX;
		mm_many[i] = MIPART_MEMORY_NPS1;
	}
	assert_int_equal(mipart_config_format("a b", 2, NULL, NULL, cm, mm, &text), -EINVAL);
	assert_int_equal(mipart_config_format("", 2, NULL, NULL, cm, mm, &text), -EINVAL);
	assert_int_equal(mipart_config_format(NULL, 2, NULL, NULL, cm, mm, &text), -EINVAL);
	assert_int_equal(mipart_config_format("a", 0, NULL, NULL, cm, mm, &text), -EINVAL);
	assert_int_equal(mipart_config_format("a", 2, idx, NULL, cm, mm, &text), -EINVAL);
	assert_int_equal(mipart_config_format("a", 2, dup, NULL, cm, mm, &text), -EINVAL);
	assert_int_equal(mipart_config_format("a", 2, NULL, bad, cm, mm, &text), -EINVAL);
	assert_int_equal(mipart_config_format("a", 2, NULL, NULL, cm_bad, mm, &text), -EINVAL);
	assert_int_equal(mipart_config_format("a", 2, NULL, NULL, cm, mm_bad, &text), -EINVAL);
	assert_int_equal(mipart_config_format("a", 2, NULL, NULL, cm_none, mm_none, &text),
			 -EINVAL);
	assert_int_equal(mipart_config_format("a", 2, NULL, NULL, NULL, mm, &text), -EINVAL);
	assert_int_equal(mipart_config_format("a", 65, many, NULL, cm_many, mm_many, &text),
			 -EINVAL);
	assert_ptr_equal(text, (char *)0x1); /* untouched */
	assert_int_equal(mipart_config_format("a", 64, many, NULL, cm_many, mm_many, &text), 0);
	assert_string_equal(text, "version: v1\npartition-configs:\n  \"a\":\n    - devices: all\n"
				  "      compute: SPX\n      memory: NPS1\n");
	free(text);
}

static uint32_t rng = 1;

static uint32_t rnd(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 17;
	rng ^= rng << 5;
	return rng % n;
}

/* Modes the config gives GPU idx of product prod: exactly one entry may match. */
static int resolve(const mipart_config_set *s, unsigned idx, const char *prod,
		   mipart_compute_mode *ret_c, mipart_memory_mode *ret_m)
{
	int matches = 0;

	for (size_t i = 0; i < mipart_config_set_entry_count(s); i++) {
		const mipart_config_entry *e = mipart_config_set_entry(s, i);
		bool sel = e->all_devices;

		for (size_t j = 0; j < e->n_devices; j++)
			if (!e->devices[j].is_bdf && e->devices[j].index == idx)
				sel = true;
		if (!sel || (e->product && (!prod || strcmp(prod, e->product))))
			continue;
		*ret_c = e->compute;
		*ret_m = e->memory;
		matches++;
	}
	return matches;
}

static void test_round_trip(void **state)
{
	static const char *const products[] = {"MI300X", "MI325X", "MI300A", "Instinct MI355X",
					       NULL};
	static const mipart_memory_mode memories[] = {MIPART_MEMORY_UNKNOWN, MIPART_MEMORY_NPS1,
						      MIPART_MEMORY_NPS2, MIPART_MEMORY_NPS4,
						      MIPART_MEMORY_NPS8};
	unsigned alls = 0, mixed = 0;

	for (int round = 0; round < 3000; round++) {
		unsigned idx[64], perm[64];
		const char *prod[64];
		mipart_compute_mode cm[64];
		mipart_memory_mode mm[64];
		size_t n = 1 + rnd(64), n_products = 1 + rnd(ARRAY_SIZE(products));
		unsigned n_modes = 1 + rnd(6);
		mipart_compute_mode pick_c[6];
		mipart_memory_mode pick_m[6];
		char *text = NULL, *again = NULL;
		mipart_config *c = NULL;
		const mipart_config_set *s = NULL;
		bool any = false;

		for (unsigned i = 0; i < 64; i++)
			perm[i] = i;
		for (unsigned i = 63; i > 0; i--) {
			unsigned j = rnd(i + 1), t = perm[i];

			perm[i] = perm[j];
			perm[j] = t;
		}
		for (unsigned k = 0; k < n_modes; k++) {
			pick_c[k] = (mipart_compute_mode)((int)rnd(6) - 1);
			pick_m[k] = memories[rnd(ARRAY_SIZE(memories))];
		}
		for (size_t i = 0; i < n; i++) {
			unsigned k = rnd(n_modes);

			idx[i] = round % 3 ? perm[i] : (unsigned)i;
			prod[i] = products[rnd((uint32_t)n_products)];
			cm[i] = pick_c[k];
			mm[i] = pick_m[k];
			any |= cm[i] != MIPART_COMPUTE_UNKNOWN || mm[i] != MIPART_MEMORY_UNKNOWN;
		}
		if (!any) {
			assert_int_equal(mipart_config_format("rt", n, idx, prod, cm, mm, &text),
					 -EINVAL);
			continue;
		}
		assert_int_equal(
		    mipart_config_format("rt", n, idx, round % 5 ? prod : NULL, cm, mm, &text), 0);
		assert_int_equal(
		    mipart_config_format("rt", n, idx, round % 5 ? prod : NULL, cm, mm, &again), 0);
		assert_string_equal(text, again); /* stable */
		free(again);
		c = parse_ok(text, strlen(text));
		assert_int_equal(mipart_config_count(c), 1);
		assert_int_equal(mipart_config_find(c, "rt", &s), 0);
		if (mipart_config_set_entry(s, 0)->all_devices)
			alls++;
		if (strstr(text, "product:"))
			mixed++;
		for (size_t i = 0; i < n; i++) {
			mipart_compute_mode gc = MIPART_COMPUTE_UNKNOWN;
			mipart_memory_mode gm = MIPART_MEMORY_UNKNOWN;
			int m = resolve(s, idx[i], round % 5 ? prod[i] : NULL, &gc, &gm);

			if (cm[i] == MIPART_COMPUTE_UNKNOWN && mm[i] == MIPART_MEMORY_UNKNOWN) {
				assert_int_equal(m, 0);
				continue;
			}
			if (m != 1 || gc != cm[i] || gm != mm[i])
				fail_msg("GPU %u: %d matches, %d/%d for %d/%d in\n%s", idx[i], m,
					 gc, gm, cm[i], mm[i], text);
		}
		mipart_config_free(c);
		free(text);
	}
	/* both shapes were exercised */
	assert_true(alls > 50);
	assert_true(mixed > 50);
}

/* The hook command: systemctl from PATH or as given, chrooted into a host root when one is set
 * (mig-manager's `chroot ${HOST_ROOT_MOUNT} systemctl`), units in order, NULL-terminated. */
static void test_hooks_argv(void **state)
{
	const char *units[HOOKS_MAX_UNITS + 1] = { "a.service", "b.service" };
	const char *argv[HOOKS_MAX_UNITS + 6];

	(void)state;
	assert_int_equal(hooks_argv(NULL, NULL, NULL, "stop", units, 2, argv), 4);
	assert_string_equal(argv[0], "systemctl");
	assert_string_equal(argv[1], "stop");
	assert_string_equal(argv[3], "b.service");
	assert_null(argv[4]);
	assert_int_equal(hooks_argv("", "/opt/bin/systemctl", NULL, "is-active", units, 1, argv), 3);
	assert_string_equal(argv[0], "/opt/bin/systemctl");
	assert_int_equal(hooks_argv("/host", NULL, NULL, "start", units, 2, argv), 6);
	assert_string_equal(argv[0], "chroot");
	assert_string_equal(argv[1], "/host");
	assert_string_equal(argv[2], "systemctl");
	assert_string_equal(argv[3], "start");
	assert_string_equal(argv[4], "a.service");
	assert_null(argv[6]);
	/* mipart boot: `systemctl --no-block start U` (systemctl(1): [OPTIONS...] COMMAND) */
	assert_int_equal(hooks_argv(NULL, NULL, HOOKS_NO_BLOCK, "start", units, 2, argv), 5);
	assert_string_equal(argv[1], "--no-block");
	assert_string_equal(argv[2], "start");
	assert_string_equal(argv[4], "b.service");
	assert_null(argv[5]);
	/* the most units, chrooted, fits; one more is refused */
	for (size_t i = 0; i <= HOOKS_MAX_UNITS; i++)
		units[i] = "u.service";
	assert_int_equal(hooks_argv("/host", "systemctl", NULL, "stop", units, HOOKS_MAX_UNITS, argv), HOOKS_MAX_UNITS + 4);
	assert_null(argv[HOOKS_MAX_UNITS + 4]);
	assert_int_equal(hooks_argv("/host", "systemctl", HOOKS_NO_BLOCK, "start", units, HOOKS_MAX_UNITS, argv),
			 HOOKS_MAX_UNITS + 5);
	assert_null(argv[HOOKS_MAX_UNITS + 5]);
	assert_int_equal(hooks_argv("/host", "systemctl", NULL, "stop", units, HOOKS_MAX_UNITS + 1, argv), -E2BIG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_example),	   cmocka_unit_test(test_minimal),
	    cmocka_unit_test(test_errors_top),	   cmocka_unit_test(test_errors_configs),
	    cmocka_unit_test(test_errors_entries), cmocka_unit_test(test_errors_devices),
	    cmocka_unit_test(test_no_overlap),	   cmocka_unit_test(test_errors_hooks),
	    cmocka_unit_test(test_anchors_tags),   cmocka_unit_test(test_alias_bomb),
	    cmocka_unit_test(test_nesting),	   cmocka_unit_test(test_event_cap),
	    cmocka_unit_test(test_limits),	   cmocka_unit_test(test_huge),
	    cmocka_unit_test(test_empty),	   cmocka_unit_test(test_binary),
	    cmocka_unit_test(test_crlf_bom_tabs),  cmocka_unit_test(test_load),
	    cmocka_unit_test(test_format_text),	   cmocka_unit_test(test_format_errors),
	    cmocka_unit_test(test_round_trip),	   cmocka_unit_test(test_hooks_argv),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
