// SPDX-License-Identifier: MIT
/*
 * Unit tests for util.c: strict number parsing of the kernel's "%llu\n" and "0x%x\n" files
 * (boundaries, signs, spaces, CR, NUL, newlines), bounded reads, atomic writes, natural order,
 * bounded copies, directory creation and tree removal that never leaves the tree.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mipart/error.h"
#include "scratch.h"
#include "util.h"
#include "banned.h"

#define S(x) x, sizeof(x) - 1
#define SENTINEL UINT64_C(0x5a5a5a5a5a5a5a5a)

/* scratch_teardown removes with nftw, not util_rm_rf: the cleanup must not depend on the code
 * under test */
static void path_in(const struct scratch_dir *s, const char *name, char *buf, size_t size)
{
	assert_true(util_pathf(buf, size, "%s/%s", s->dir, name) > 0);
}

static void make_file(const char *path, const char *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

/* Number of directory entries (besides . and ..) of dir, and whether one contains needle. */
static unsigned count_entries(const char *dir, const char *needle, bool *ret_found)
{
	DIR *d = opendir(dir);
	unsigned n = 0;

	assert_non_null(d);
	if (ret_found)
		*ret_found = false;
	for (struct dirent *de; (de = readdir(d));) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		n++;
		if (needle && ret_found && strstr(de->d_name, needle))
			*ret_found = true;
	}
	closedir(d);
	return n;
}

static void test_parse_u64(void **state)
{
	uint64_t v = SENTINEL;

	assert_int_equal(util_parse_u64(S("0"), &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(util_parse_u64(S("007"), &v), 0);
	assert_int_equal(v, 7);
	assert_int_equal(util_parse_u64(S("4294967296"), &v), 0);
	assert_int_equal(v, UINT64_C(4294967296));
	/* the largest value, then one more */
	assert_int_equal(util_parse_u64(S("18446744073709551615"), &v), 0);
	assert_true(v == UINT64_MAX);
	v = SENTINEL;
	assert_int_equal(util_parse_u64(S("18446744073709551616"), &v), -ERANGE);
	assert_int_equal(util_parse_u64(S("18446744073709551620"), &v), -ERANGE);
	assert_int_equal(util_parse_u64(S("99999999999999999999"), &v), -ERANGE);
	assert_int_equal(util_parse_u64(S("184467440737095516150"), &v), -ERANGE);
	assert_true(v == SENTINEL); /* untouched on failure */

	assert_int_equal(util_parse_u64(S(""), &v), -EINVAL);
	assert_int_equal(util_parse_u64(S("+1"), &v), -EINVAL);
	assert_int_equal(util_parse_u64(S("-1"), &v), -EINVAL);
	assert_int_equal(util_parse_u64(S("-0"), &v), -EINVAL);
	assert_int_equal(util_parse_u64(S(" 1"), &v), -EINVAL);
	assert_int_equal(util_parse_u64(S("1 "), &v), -EINVAL);
	assert_int_equal(util_parse_u64(S("1 2"), &v), -EINVAL);
	assert_int_equal(util_parse_u64(S("1\n"), &v), -EINVAL);
	assert_int_equal(util_parse_u64(S("1\r"), &v), -EINVAL);
	assert_int_equal(util_parse_u64(S("1\0"), &v), -EINVAL);
	assert_int_equal(util_parse_u64(S("0x10"), &v), -EINVAL);
	assert_int_equal(util_parse_u64(S("1e3"), &v), -EINVAL);
	assert_int_equal(util_parse_u64(S("\xd9\xa1"), &v), -EINVAL); /* Arabic-Indic one */
	assert_true(v == SENTINEL);

	/* only [s, s+len) counts: the byte after it is not read as part of the number */
	assert_int_equal(util_parse_u64("123x", 2, &v), 0);
	assert_int_equal(v, 12);
	assert_int_equal(util_parse_u64("123", 3, &v), 0);
	assert_int_equal(v, 123);
}

static void test_parse_hex_u64(void **state)
{
	uint64_t v = SENTINEL;

	assert_int_equal(util_parse_hex_u64(S("ff"), &v), 0);
	assert_int_equal(v, 0xff);
	assert_int_equal(util_parse_hex_u64(S("0x1002"), &v), 0);
	assert_int_equal(v, 0x1002);
	assert_int_equal(util_parse_hex_u64(S("0X74A1"), &v), 0);
	assert_int_equal(v, 0x74a1);
	assert_int_equal(util_parse_hex_u64(S("0xaBcDeF"), &v), 0);
	assert_int_equal(v, 0xabcdef);
	assert_int_equal(util_parse_hex_u64(S("0"), &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(util_parse_hex_u64(S("0x0"), &v), 0);
	assert_int_equal(v, 0);
	/* 16 digits: the largest value, with and without the prefix */
	assert_int_equal(util_parse_hex_u64(S("ffffffffffffffff"), &v), 0);
	assert_true(v == UINT64_MAX);
	assert_int_equal(util_parse_hex_u64(S("0xFFFFFFFFFFFFFFFF"), &v), 0);
	assert_true(v == UINT64_MAX);
	assert_int_equal(util_parse_hex_u64(S("8000000000000000"), &v), 0);
	assert_true(v == UINT64_C(0x8000000000000000));
	/* leading zeros do not count toward the 16 digits */
	assert_int_equal(util_parse_hex_u64(S("00000000000000000001"), &v), 0);
	assert_int_equal(v, 1);

	v = SENTINEL;
	/* 17 significant digits */
	assert_int_equal(util_parse_hex_u64(S("10000000000000000"), &v), -ERANGE);
	assert_int_equal(util_parse_hex_u64(S("0x10000000000000000"), &v), -ERANGE);
	assert_int_equal(util_parse_hex_u64(S("fffffffffffffffff"), &v), -ERANGE);
	assert_true(v == SENTINEL);

	assert_int_equal(util_parse_hex_u64(S(""), &v), -EINVAL);
	assert_int_equal(util_parse_hex_u64(S("0x"), &v), -EINVAL);
	assert_int_equal(util_parse_hex_u64(S("0X"), &v), -EINVAL);
	assert_int_equal(util_parse_hex_u64(S("x1"), &v), -EINVAL);
	assert_int_equal(util_parse_hex_u64(S("0x0x1"), &v), -EINVAL);
	assert_int_equal(util_parse_hex_u64(S("+ff"), &v), -EINVAL);
	assert_int_equal(util_parse_hex_u64(S("-ff"), &v), -EINVAL);
	assert_int_equal(util_parse_hex_u64(S("0x-1"), &v), -EINVAL);
	assert_int_equal(util_parse_hex_u64(S(" ff"), &v), -EINVAL);
	assert_int_equal(util_parse_hex_u64(S("ff "), &v), -EINVAL);
	assert_int_equal(util_parse_hex_u64(S("fg"), &v), -EINVAL);
	assert_int_equal(util_parse_hex_u64(S("ff\n"), &v), -EINVAL);
	assert_int_equal(util_parse_hex_u64(S("f\0f"), &v), -EINVAL);
	assert_true(v == SENTINEL);
	assert_int_equal(util_parse_hex_u64("0x12zz", 4, &v), 0);
	assert_int_equal(v, 0x12);
}

static void test_parse_line_u64(void **state)
{
	uint64_t v = SENTINEL;

	assert_int_equal(util_parse_line_u64(S("5\n"), &v), 0);
	assert_int_equal(v, 5);
	assert_int_equal(util_parse_line_u64(S("42"), &v), 0); /* no trailing newline */
	assert_int_equal(v, 42);
	assert_int_equal(util_parse_line_u64(S("18446744073709551615\n"), &v), 0);
	assert_true(v == UINT64_MAX);

	v = SENTINEL;
	assert_int_equal(util_parse_line_u64(S("18446744073709551616\n"), &v), -ERANGE);
	assert_int_equal(util_parse_line_u64(S("18446744073709551616"), &v), -ERANGE);
	assert_int_equal(util_parse_line_u64(S(""), &v), -EBADMSG);
	assert_int_equal(util_parse_line_u64(S("\n"), &v), -EBADMSG);
	assert_int_equal(util_parse_line_u64(S("5\n\n"), &v), -EBADMSG); /* two newlines */
	assert_int_equal(util_parse_line_u64(S("\n5"), &v), -EBADMSG);
	assert_int_equal(util_parse_line_u64(S("5\r\n"), &v), -EBADMSG);
	assert_int_equal(util_parse_line_u64(S("5\r"), &v), -EBADMSG);
	assert_int_equal(util_parse_line_u64(S("\r5\n"), &v), -EBADMSG);
	assert_int_equal(util_parse_line_u64(S("5\0\n"), &v), -EBADMSG);
	assert_int_equal(util_parse_line_u64(S("\0"), &v), -EBADMSG);
	assert_int_equal(util_parse_line_u64(S("+5\n"), &v), -EBADMSG);
	assert_int_equal(util_parse_line_u64(S("-5\n"), &v), -EBADMSG);
	assert_int_equal(util_parse_line_u64(S(" 5\n"), &v), -EBADMSG);
	assert_int_equal(util_parse_line_u64(S("5 \n"), &v), -EBADMSG);
	assert_int_equal(util_parse_line_u64(S("0x5\n"), &v), -EBADMSG);
	assert_true(v == SENTINEL);
}

static void test_parse_line_hex(void **state)
{
	uint64_t v = SENTINEL;

	assert_int_equal(util_parse_line_hex(S("0x1002\n"), &v), 0);
	assert_int_equal(v, 0x1002);
	assert_int_equal(util_parse_line_hex(S("0x120000"), &v), 0); /* no trailing newline */
	assert_int_equal(v, 0x120000);
	assert_int_equal(util_parse_line_hex(S("5a9e4c3b2d1f0e87\n"), &v), 0);
	assert_true(v == UINT64_C(0x5a9e4c3b2d1f0e87));

	v = SENTINEL;
	assert_int_equal(util_parse_line_hex(S("0x10000000000000000\n"), &v), -ERANGE);
	assert_int_equal(util_parse_line_hex(S(""), &v), -EBADMSG);
	assert_int_equal(util_parse_line_hex(S("\n"), &v), -EBADMSG);
	assert_int_equal(util_parse_line_hex(S("0x\n"), &v), -EBADMSG);
	assert_int_equal(util_parse_line_hex(S("0x1002\n\n"), &v), -EBADMSG);
	assert_int_equal(util_parse_line_hex(S("0x1002\r\n"), &v), -EBADMSG);
	assert_int_equal(util_parse_line_hex(S("0x10\00002\n"), &v), -EBADMSG);
	assert_int_equal(util_parse_line_hex(S("+0x1002\n"), &v), -EBADMSG);
	assert_int_equal(util_parse_line_hex(S("-1\n"), &v), -EBADMSG);
	assert_int_equal(util_parse_line_hex(S(" 0x1002\n"), &v), -EBADMSG);
	assert_int_equal(util_parse_line_hex(S("0x1002 \n"), &v), -EBADMSG);
	assert_true(v == SENTINEL);
}

static void test_line_len(void **state)
{
	assert_int_equal(util_line_len(S("abc\n")), 3);
	assert_int_equal(util_line_len(S("abc")), 3);
	assert_int_equal(util_line_len(S("\n")), 0);
	assert_int_equal(util_line_len(S("")), 0);
	assert_int_equal(util_line_len(S("a\nb")), -EBADMSG);
	assert_int_equal(util_line_len(S("ab\n\n")), -EBADMSG);
	assert_int_equal(util_line_len(S("ab\r\n")), -EBADMSG);
	assert_int_equal(util_line_len(S("a\0b\n")), -EBADMSG);
	/* only the last byte may be the newline */
	assert_int_equal(util_line_len("ab\nX", 3), 2);
}

static void test_read_file(void **state)
{
	struct scratch_dir *s = *state;
	char path[256], buf[64];
	ssize_t n;

	/* exactly cap bytes fit; one more is -EFBIG */
	path_in(s, "ten", path, sizeof(path));
	make_file(path, "0123456789", 10);
	memset(buf, 'X', sizeof(buf));
	n = util_read_file(path, buf, 10);
	assert_int_equal(n, 10);
	assert_memory_equal(buf, "0123456789", 11); /* NUL-terminated */
	assert_int_equal(util_read_file(path, buf, 9), -EFBIG);
	assert_int_equal(util_read_file(path, buf, 0), -EFBIG);
	n = util_read_file(path, buf, sizeof(buf) - 1);
	assert_int_equal(n, 10);

	/* empty file: length 0 and an empty string */
	path_in(s, "empty", path, sizeof(path));
	make_file(path, "", 0);
	memset(buf, 'X', sizeof(buf));
	assert_int_equal(util_read_file(path, buf, 10), 0);
	assert_int_equal(buf[0], '\0');
	assert_int_equal(util_read_file(path, buf, 0), 0);

	/* NUL bytes inside are kept and counted */
	path_in(s, "nul", path, sizeof(path));
	make_file(path, "a\0b\n", 4);
	assert_int_equal(util_read_file(path, buf, 10), 4);
	assert_memory_equal(buf, "a\0b\n", 5);

	/* missing file, a directory */
	path_in(s, "missing", path, sizeof(path));
	assert_int_equal(util_read_file(path, buf, 10), -ENOENT);
	assert_int_equal(util_read_file(s->dir, buf, 10), -EISDIR);
	path_in(s, "ten/child", path, sizeof(path));
	assert_int_equal(util_read_file(path, buf, 10), -ENOTDIR);
}

static void test_read_file_big(void **state)
{
	struct scratch_dir *s = *state;
	char path[256];
	char *big = malloc(3 * UTIL_ATTR_MAX), *buf = malloc(UTIL_ATTR_MAX + 1);
	int dfd;

	assert_non_null(big);
	assert_non_null(buf);
	memset(big, '7', 3 * UTIL_ATTR_MAX);
	path_in(s, "page", path, sizeof(path));
	make_file(path, big, UTIL_ATTR_MAX);
	assert_int_equal(util_read_file(path, buf, UTIL_ATTR_MAX), UTIL_ATTR_MAX);
	assert_int_equal(buf[UTIL_ATTR_MAX], '\0');
	path_in(s, "page+1", path, sizeof(path));
	make_file(path, big, UTIL_ATTR_MAX + 1);
	assert_int_equal(util_read_file(path, buf, UTIL_ATTR_MAX), -EFBIG);
	path_in(s, "three-pages", path, sizeof(path));
	make_file(path, big, 3 * UTIL_ATTR_MAX);
	assert_int_equal(util_read_file(path, buf, UTIL_ATTR_MAX), -EFBIG);

	/* the same through a directory fd */
	dfd = open(s->dir, O_RDONLY | O_DIRECTORY);
	assert_true(dfd >= 0);
	assert_int_equal(util_read_fileat(dfd, "page", buf, UTIL_ATTR_MAX), UTIL_ATTR_MAX);
	assert_int_equal(util_read_fileat(dfd, "page+1", buf, UTIL_ATTR_MAX), -EFBIG);
	assert_int_equal(util_read_fileat(dfd, "nope", buf, UTIL_ATTR_MAX), -ENOENT);
	close(dfd);
	free(big);
	free(buf);
}

static void test_write_file(void **state)
{
	struct scratch_dir *s = *state;
	char path[256], hard[256], buf[64];
	struct stat st;
	bool found;

	path_in(s, "attr", path, sizeof(path));
	assert_int_equal(util_write_file(path, S("CPX\n"), 0640), 0);
	assert_int_equal(util_read_file(path, buf, sizeof(buf) - 1), 4);
	assert_string_equal(buf, "CPX\n");
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640); /* exactly the mode, whatever the umask */

	/* a shorter rewrite leaves nothing of the old content, and the new mode */
	assert_int_equal(util_write_file(path, S("Q"), 0444), 0);
	assert_int_equal(util_read_file(path, buf, sizeof(buf) - 1), 1);
	assert_string_equal(buf, "Q");
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0444);

	/* empty content */
	assert_int_equal(util_write_file(path, "", 0, 0644), 0);
	assert_int_equal(util_read_file(path, buf, sizeof(buf) - 1), 0);

	/* replaced by rename, not written in place: a hard link keeps the old content */
	assert_int_equal(util_write_file(path, S("old\n"), 0644), 0);
	path_in(s, "attr-link", hard, sizeof(hard));
	assert_int_equal(link(path, hard), 0);
	assert_int_equal(util_write_file(path, S("new\n"), 0644), 0);
	assert_int_equal(util_read_file(hard, buf, sizeof(buf) - 1), 4);
	assert_string_equal(buf, "old\n");
	assert_int_equal(util_read_file(path, buf, sizeof(buf) - 1), 4);
	assert_string_equal(buf, "new\n");

	/* no temporary file is left behind after success */
	assert_int_equal(count_entries(s->dir, ".tmp", &found), 2);
	assert_false(found);
}

static void test_write_file_failure(void **state)
{
	struct scratch_dir *s = *state;
	char path[256], sub[256];
	bool found;

	/* the target is a non-empty directory: rename fails, no temporary remains */
	path_in(s, "dir", path, sizeof(path));
	assert_int_equal(mkdir(path, 0755), 0);
	path_in(s, "dir/keep", sub, sizeof(sub));
	make_file(sub, "x", 1);
	assert_true(util_write_file(path, S("data"), 0644) < 0);
	assert_int_equal(count_entries(s->dir, ".tmp", &found), 1);
	assert_false(found);
	assert_int_equal(count_entries(path, NULL, NULL), 1);

	/* missing parent directory */
	path_in(s, "nodir/file", path, sizeof(path));
	assert_int_equal(util_write_file(path, S("data"), 0644), -ENOENT);
	assert_int_equal(count_entries(s->dir, ".tmp", &found), 1);
	assert_false(found);
}

static void test_write_filef(void **state)
{
	struct scratch_dir *s = *state;
	char path[256], buf[64];
	char *big = malloc(70000);

	assert_non_null(big);
	path_in(s, "f", path, sizeof(path));
	assert_int_equal(
	    util_write_filef(path, 0644, "%s %llu\n", "hive_id", 18446744073709551615ull), 0);
	assert_int_equal(util_read_file(path, buf, sizeof(buf) - 1), 29);
	assert_string_equal(buf, "hive_id 18446744073709551615\n");

	/* over the 64 KiB cap: refused, the old file stays */
	memset(big, 'a', 69999);
	big[69999] = '\0';
	assert_int_equal(util_write_filef(path, 0644, "%s", big), -EFBIG);
	assert_int_equal(util_read_file(path, buf, sizeof(buf) - 1), 29);
	free(big);
}

static int sign(int x)
{
	return (x > 0) - (x < 0);
}

static int cmp_natural_qsort(const void *a, const void *b)
{
	return util_cmp_natural(*(const char *const *)a, *(const char *const *)b);
}

static void test_cmp_natural(void **state)
{
	const char *names[] = {"node10", "node2", "renderD128", "node1", "node20",
			       "node3",	 "card0", "renderD9",	"node"};
	const char *sorted[] = {"card0",  "node",   "node1",	"node2",     "node3",
				"node10", "node20", "renderD9", "renderD128"};

	assert_int_equal(sign(util_cmp_natural("node9", "node10")), -1);
	assert_int_equal(sign(util_cmp_natural("node10", "node9")), 1);
	assert_int_equal(util_cmp_natural("node10", "node10"), 0);
	assert_int_equal(util_cmp_natural("", ""), 0);
	assert_int_equal(sign(util_cmp_natural("", "a")), -1);
	assert_int_equal(sign(util_cmp_natural("node", "node0")), -1);
	assert_int_equal(sign(util_cmp_natural("a", "b")), -1);
	assert_int_equal(sign(util_cmp_natural("a2b", "a10a")), -1);
	assert_int_equal(sign(util_cmp_natural("x10y", "x10z")), -1);
	assert_int_equal(sign(util_cmp_natural("1", "a")), -1);
	/* numbers beyond 64 bits still compare by value */
	assert_int_equal(sign(util_cmp_natural("n99999999999999999999", "n100000000000000000000")),
			 -1);
	assert_int_equal(sign(util_cmp_natural("n100000000000000000001", "n100000000000000000000")),
			 1);
	/* leading zeros do not make a number larger */
	assert_int_equal(sign(util_cmp_natural("n010", "n9")), 1);
	assert_int_equal(sign(util_cmp_natural("n009", "n10")), -1);
	/* bytes above 0x7f compare unsigned */
	assert_int_equal(sign(util_cmp_natural("a\xff", "a\x01")), 1);
	/* antisymmetric over a few pairs */
	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		for (size_t j = 0; j < ARRAY_SIZE(names); j++)
			assert_int_equal(sign(util_cmp_natural(names[i], names[j])),
					 -sign(util_cmp_natural(names[j], names[i])));

	qsort(names, ARRAY_SIZE(names), sizeof(names[0]), cmp_natural_qsort);
	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		assert_string_equal(names[i], sorted[i]);
}

static void test_strlcpy(void **state)
{
	char buf[16];

	memset(buf, 'X', sizeof(buf));
	assert_int_equal(util_strlcpy(buf, "hello", sizeof(buf)), 5);
	assert_string_equal(buf, "hello");

	memset(buf, 'X', sizeof(buf));
	assert_int_equal(util_strlcpy(buf, "hello", 4), 5); /* truncated, full length returned */
	assert_string_equal(buf, "hel");
	assert_int_equal(buf[4], 'X'); /* nothing past size */

	memset(buf, 'X', sizeof(buf));
	assert_int_equal(util_strlcpy(buf, "hello", 6), 5); /* exactly fits */
	assert_string_equal(buf, "hello");
	assert_int_equal(buf[6], 'X');

	memset(buf, 'X', sizeof(buf));
	assert_int_equal(util_strlcpy(buf, "hello", 5), 5); /* one short */
	assert_string_equal(buf, "hell");

	memset(buf, 'X', sizeof(buf));
	assert_int_equal(util_strlcpy(buf, "hello", 1), 5);
	assert_int_equal(buf[0], '\0');
	assert_int_equal(buf[1], 'X');

	memset(buf, 'X', sizeof(buf));
	assert_int_equal(util_strlcpy(buf, "hello", 0), 5); /* size 0 writes nothing */
	assert_int_equal(buf[0], 'X');

	assert_int_equal(util_strlcpy(buf, "", sizeof(buf)), 0);
	assert_string_equal(buf, "");
}

static void test_pathf(void **state)
{
	char buf[8];

	assert_int_equal(util_pathf(buf, sizeof(buf), "%s/%d", "ab", 42), 5);
	assert_string_equal(buf, "ab/42");
	assert_int_equal(util_pathf(buf, sizeof(buf), "%s", "1234567"), 7); /* size - 1 fits */
	assert_int_equal(util_pathf(buf, sizeof(buf), "%s", "12345678"), -ENAMETOOLONG);
}

static void test_format_gib(void **state)
{
	char buf[32];

	util_format_gib(buf, sizeof(buf), INT64_C(1) << 30);
	assert_string_equal(buf, "1.00 GiB");
	util_format_gib(buf, sizeof(buf), INT64_C(51539607552));
	assert_string_equal(buf, "48.00 GiB");
	util_format_gib(buf, sizeof(buf), 0);
	assert_string_equal(buf, "0.00 GiB");
	util_format_gib(buf, sizeof(buf), -1);
	assert_string_equal(buf, "-");
}

/* the durable write that makes the file's directory first (declared state, agent record,
 * NFD labels, the Hub cache, the CDI spec) */
static void test_write_file_durable_mkdir(void **state)
{
	struct scratch_dir *s = *state;
	char path[256], file[256], buf[16];
	struct stat st;

	path_in(s, "d/e/f.json", path, sizeof(path));
	assert_int_equal(util_write_file_durable_mkdir(path, "{}", 2, 0600), 0);
	assert_int_equal(util_read_file(path, buf, sizeof(buf)), 2);
	assert_memory_equal(buf, "{}", 2);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	/* the directory exists now: written again in place */
	assert_int_equal(util_write_file_durable_mkdir(path, "[1]", 3, 0644), 0);
	assert_int_equal(util_read_file(path, buf, sizeof(buf)), 3);
	/* a component that is a regular file: the directory's error, nothing written */
	path_in(s, "plain", file, sizeof(file));
	make_file(file, "x", 1);
	path_in(s, "plain/sub/f", path, sizeof(path));
	assert_int_equal(util_write_file_durable_mkdir(path, "x", 1, 0644), -ENOTDIR);
	/* util_mkdir_parent alone: the directory of the path, not the path */
	path_in(s, "g/h/i", path, sizeof(path));
	assert_int_equal(util_mkdir_parent(path), 0);
	assert_int_equal(stat(path, &st), -1);
	path_in(s, "g/h", path, sizeof(path));
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(util_mkdir_parent("bare-name"), 0); /* the current directory */
}

static void test_mkdir_p(void **state)
{
	struct scratch_dir *s = *state;
	char path[256], file[256], *longpath;
	struct stat st;

	mode_t old = umask(022);

	path_in(s, "a/b/c", path, sizeof(path));
	assert_int_equal(util_mkdir_p(path), 0);
	umask(old);
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0755);
	path_in(s, "a", path, sizeof(path));
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0755);
	path_in(s, "a/b/c", path, sizeof(path));
	assert_int_equal(util_mkdir_p(path), 0); /* exists already */

	path_in(s, "x//y/", path, sizeof(path));
	assert_int_equal(util_mkdir_p(path), 0);
	path_in(s, "x/y", path, sizeof(path));
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISDIR(st.st_mode));

	/* a component is a regular file */
	path_in(s, "file", file, sizeof(file));
	make_file(file, "x", 1);
	path_in(s, "file/sub", path, sizeof(path));
	assert_int_equal(util_mkdir_p(path), -ENOTDIR);

	/* longer than PATH_MAX */
	longpath = malloc(PATH_MAX + 16);
	assert_non_null(longpath);
	memset(longpath, 'a', PATH_MAX + 15);
	longpath[0] = '/';
	longpath[PATH_MAX + 15] = '\0';
	assert_int_equal(util_mkdir_p(longpath), -ENAMETOOLONG);
	free(longpath);
}

static void test_rm_rf(void **state)
{
	struct scratch_dir *s = *state;
	char tree[256], outside[256], p[256], q[256];
	struct stat st;

	/* outside/ holds a file the tree links to */
	path_in(s, "outside", outside, sizeof(outside));
	assert_int_equal(mkdir(outside, 0755), 0);
	path_in(s, "outside/precious", p, sizeof(p));
	make_file(p, "keep", 4);

	path_in(s, "tree", tree, sizeof(tree));
	path_in(s, "tree/a/b/c", p, sizeof(p));
	assert_int_equal(util_mkdir_p(p), 0);
	path_in(s, "tree/a/b/c/f", p, sizeof(p));
	make_file(p, "1", 1);
	path_in(s, "tree/a/f", p, sizeof(p));
	make_file(p, "2", 1);
	path_in(s, "tree/a/b/link-to-outside", p, sizeof(p));
	assert_int_equal(symlink(outside, p), 0);
	path_in(s, "tree/link-to-file", p, sizeof(p));
	path_in(s, "outside/precious", q, sizeof(q));
	assert_int_equal(symlink(q, p), 0);
	path_in(s, "tree/dangling", p, sizeof(p));
	assert_int_equal(symlink("/nonexistent/mipart", p), 0);
	path_in(s, "tree/empty", p, sizeof(p));
	assert_int_equal(mkdir(p, 0700), 0);

	assert_int_equal(util_rm_rf(tree), 0);
	assert_int_equal(lstat(tree, &st), -1);
	assert_int_equal(errno, ENOENT);
	/* the link was removed, not followed */
	path_in(s, "outside/precious", p, sizeof(p));
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_size, 4);
	assert_int_equal(count_entries(outside, NULL, NULL), 1);

	/* a missing path is not an error */
	assert_int_equal(util_rm_rf(tree), 0);

	/* the path itself is a symlink to a directory: only the link goes */
	path_in(s, "top-link", p, sizeof(p));
	assert_int_equal(symlink(outside, p), 0);
	assert_int_equal(util_rm_rf(p), 0);
	assert_int_equal(lstat(p, &st), -1);
	assert_int_equal(count_entries(outside, NULL, NULL), 1);

	/* a plain file */
	path_in(s, "plain", p, sizeof(p));
	make_file(p, "x", 1);
	assert_int_equal(util_rm_rf(p), 0);
	assert_int_equal(lstat(p, &st), -1);
}

/* control characters (C0, DEL, C1) and bytes that are not UTF-8 show as '?'; other UTF-8 stays */
static void test_show_controls(void **state)
{
	char buf[64];
	const char *in = "a\033[2J\xc2\x9b" "b\xc3\xa9\xff\x7f\xe2\x82";

	(void)state;
	assert_string_equal(util_show(in, strlen(in), 60, buf, sizeof(buf)), "a?[2J?b\xc3\xa9????");
	assert_true(util_has_control("x\ty"));
	assert_true(util_has_control("\xed\xa0\x80")); /* a surrogate */
	assert_true(util_has_control("\xc0\xaf"));	    /* overlong '/' */
	assert_false(util_has_control("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \\x1b"));
}

static void appendf(char **buf, size_t *len, size_t *cap, size_t max, int *err, const char *fmt,
		    ...) __attribute__((format(printf, 6, 7)));
static void appendf(char **buf, size_t *len, size_t *cap, size_t max, int *err, const char *fmt,
		    ...)
{
	va_list ap;

	va_start(ap, fmt);
	util_vappendf(buf, len, cap, max, err, fmt, ap);
	va_end(ap);
}

static void test_vappendf(void **state)
{
	size_t len = 0, cap = 4;
	char *buf = malloc(cap);
	int err = 0;

	(void)state;
	assert_non_null(buf);
	buf[0] = '\0';
	appendf(&buf, &len, &cap, 64, &err, "%s-%d", "abcdef", 42);
	assert_int_equal(err, 0);
	assert_string_equal(buf, "abcdef-42");
	assert_int_equal(len, 9);
	assert_true(cap >= 10 && cap <= 64);
	/* past the cap: -E2BIG, and the text so far is kept */
	appendf(&buf, &len, &cap, 64, &err, "%0100d", 7);
	assert_int_equal(err, -E2BIG);
	assert_int_equal(cap, 64);
	assert_string_equal(buf, "abcdef-42");
	/* a later append does nothing */
	appendf(&buf, &len, &cap, 64, &err, "x");
	assert_int_equal(len, 9);
	free(buf);
}

static void test_write_attr(void **state)
{
	char dir[128], path[256], buf[16];

	(void)state;
	assert_non_null(scratch_mkdtemp(dir, sizeof(dir), "attr"));
	snprintf(path, sizeof(path), "%s/current_compute_partition", dir);
	/* an attribute that does not exist is not created */
	assert_int_equal(util_write_attr(path, "CPX\n", 4), -ENOENT);
	assert_int_equal(access(path, F_OK), -1);
	assert_int_equal(util_write_file(path, "SPX\n", 4, 0644), 0);
	assert_int_equal(util_write_attr(path, "CPX\n", 4), 0);
	assert_int_equal(util_read_file(path, buf, sizeof(buf) - 1), 4);
	assert_string_equal(buf, "CPX\n");
	scratch_remove(dir);
}

/* mipart_strerror: mipart's own meanings, libc's text for the rest in lower case (messages
 * are git style), a stable pointer (two in one printf), and something for any number. */
static void test_strerror_lower(void **state)
{
	const char *a = mipart_strerror(-ENOENT), *b = mipart_strerror(EIO);

	(void)state;
	assert_string_equal(a, "no such file or directory");
	assert_string_equal(b, "input/output error");
	assert_ptr_equal(a, mipart_strerror(ENOENT));
	assert_string_equal(mipart_strerror(-EBUSY), "in use by a process");
	assert_string_equal(mipart_strerror(EISDIR), "is a directory");
	assert_string_equal(mipart_strerror(100000), "unknown error");
	assert_string_equal(mipart_strerror(INT_MIN), "unknown error");
	/* util_strerror: libc's meaning only, where mipart_strerror speaks of GPUs */
	assert_string_equal(mipart_strerror(-ENODEV), "no such GPU");
	assert_string_equal(util_strerror(-ENODEV), "no such device");
	assert_string_equal(util_strerror(EPERM), "operation not permitted");
	assert_ptr_equal(util_strerror(EIO), b);
	for (int e = 1; e < 256; e++) {
		const char *t = mipart_strerror(e);

		assert_non_null(t);
		assert_true(t[0] != '\0');
		assert_false(t[0] >= 'A' && t[0] <= 'Z' && !(t[1] >= 'A' && t[1] <= 'Z'));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_u64),
	    cmocka_unit_test(test_parse_hex_u64),
	    cmocka_unit_test(test_parse_line_u64),
	    cmocka_unit_test(test_parse_line_hex),
	    cmocka_unit_test(test_line_len),
	    cmocka_unit_test_setup_teardown(test_read_file, scratch_setup, scratch_teardown),
	    cmocka_unit_test_setup_teardown(test_read_file_big, scratch_setup, scratch_teardown),
	    cmocka_unit_test_setup_teardown(test_write_file, scratch_setup, scratch_teardown),
	    cmocka_unit_test_setup_teardown(test_write_file_failure, scratch_setup,
					    scratch_teardown),
	    cmocka_unit_test_setup_teardown(test_write_filef, scratch_setup, scratch_teardown),
	    cmocka_unit_test(test_cmp_natural),
	    cmocka_unit_test(test_strlcpy),
	    cmocka_unit_test(test_pathf),
	    cmocka_unit_test(test_format_gib),
	    cmocka_unit_test(test_show_controls),
	    cmocka_unit_test(test_vappendf),
	    cmocka_unit_test(test_write_attr),
	    cmocka_unit_test(test_strerror_lower),
	    cmocka_unit_test_setup_teardown(test_mkdir_p, scratch_setup, scratch_teardown),
	    cmocka_unit_test_setup_teardown(test_write_file_durable_mkdir, scratch_setup,
					    scratch_teardown),
	    cmocka_unit_test_setup_teardown(test_rm_rf, scratch_setup, scratch_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
