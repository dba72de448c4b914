// SPDX-License-Identifier: MIT
/*
 * Unit tests for notify.c: the bytes that reach a datagram socket bound at $NOTIFY_SOCKET (a
 * path in a scratch directory, and a name in the abstract namespace), that nothing is sent and 0
 * is returned without $NOTIFY_SOCKET, the refusals of malformed addresses and states, and that no
 * descriptor is left open.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "mipart/notify.h"
#include "scratch.h"
#include "banned.h"

/* A datagram socket bound at name ('@' for abstract), non-blocking reads. */
static int bind_dgram(const char *name)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t len = strlen(name);
	socklen_t salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	assert_true(fd >= 0);
	assert_true(len < sizeof(sa.sun_path));
	memcpy(sa.sun_path, name, len);
	if (name[0] == '@')
		sa.sun_path[0] = '\0';
	else
		salen++;
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, salen), 0);
	return fd;
}

/* The next datagram on fd, NUL-terminated; its length. -1 when none is waiting. */
static ssize_t recv_one(int fd, char *buf, size_t size)
{
	ssize_t n = recv(fd, buf, size - 1, MSG_DONTWAIT);

	if (n >= 0)
		buf[n] = '\0';
	return n;
}

static unsigned open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	unsigned n = 0;

	assert_non_null(d);
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

static void test_unset(void **state)
{
	assert_int_equal(unsetenv("NOTIFY_SOCKET"), 0);
	assert_int_equal(mipart_notify("READY=1"), 0);
	assert_int_equal(setenv("NOTIFY_SOCKET", "", 1), 0);
	assert_int_equal(mipart_notify("READY=1"), 0);
	/* a bad state is refused even when there is nobody to tell */
	assert_int_equal(mipart_notify(NULL), -EINVAL);
	assert_int_equal(mipart_notify(""), -EINVAL);
	unsetenv("NOTIFY_SOCKET");
}

static void test_path(void **state)
{
	static const char READY[] = "READY=1\nSTATUS=listening on 127.0.0.1:9400";
	struct scratch_dir *s = *state;
	char path[256], buf[8192];
	unsigned before;
	int fd;

	snprintf(path, sizeof(path), "%s/notify", s->dir);
	fd = bind_dgram(path);
	assert_int_equal(setenv("NOTIFY_SOCKET", path, 1), 0);
	before = open_fds();
	assert_int_equal(mipart_notify(READY), 1);
	assert_int_equal(open_fds(), before); /* the sending socket is closed */
	assert_int_equal(recv_one(fd, buf, sizeof(buf)), strlen(READY));
	assert_string_equal(buf, READY);
	assert_int_equal(recv_one(fd, buf, sizeof(buf)), -1); /* exactly one datagram */

	/* the environment is kept: the next call reaches the same socket */
	assert_string_equal(getenv("NOTIFY_SOCKET"), path);
	assert_int_equal(mipart_notify("STOPPING=1"), 1);
	assert_int_equal(recv_one(fd, buf, sizeof(buf)), 10);
	assert_string_equal(buf, "STOPPING=1");

	/* the largest state goes in one datagram; one byte more is refused */
	{
		char big[MIPART_NOTIFY_MAX + 2];

		memset(big, 'x', sizeof(big));
		memcpy(big, "STATUS=", 7);
		big[MIPART_NOTIFY_MAX] = '\0';
		assert_int_equal(mipart_notify(big), 1);
		assert_int_equal(recv_one(fd, buf, sizeof(buf)), MIPART_NOTIFY_MAX);
		big[MIPART_NOTIFY_MAX] = 'x';
		big[MIPART_NOTIFY_MAX + 1] = '\0';
		assert_int_equal(mipart_notify(big), -EMSGSIZE);
		assert_int_equal(recv_one(fd, buf, sizeof(buf)), -1);
	}
	close(fd);

	/* nobody bound there any more */
	unlink(path);
	before = open_fds();
	assert_int_equal(mipart_notify("READY=1"), -ENOENT);
	assert_int_equal(open_fds(), before);
	unsetenv("NOTIFY_SOCKET");
}

static void test_abstract(void **state)
{
	char name[64], buf[256];
	int fd;

	snprintf(name, sizeof(name), "@mipart-test-notify-%ld", (long)getpid());
	fd = bind_dgram(name);
	assert_int_equal(setenv("NOTIFY_SOCKET", name, 1), 0);
	assert_int_equal(mipart_notify("RELOADING=1\nMONOTONIC_USEC=12345"), 1);
	assert_int_equal(recv_one(fd, buf, sizeof(buf)), 32);
	assert_string_equal(buf, "RELOADING=1\nMONOTONIC_USEC=12345");
	close(fd);

	/* the length counts only the name: "@name-longer" is another socket, nobody listens */
	snprintf(name + strlen(name), sizeof(name) - strlen(name), "-longer");
	assert_int_equal(setenv("NOTIFY_SOCKET", name, 1), 0);
	assert_int_equal(mipart_notify("READY=1"), -ECONNREFUSED);
	unsetenv("NOTIFY_SOCKET");
}

static void test_bad_address(void **state)
{
	char longpath[200];

	assert_int_equal(setenv("NOTIFY_SOCKET", "relative/notify", 1), 0);
	assert_int_equal(mipart_notify("READY=1"), -EINVAL);
	assert_int_equal(setenv("NOTIFY_SOCKET", "vsock:2:1234", 1), 0);
	assert_int_equal(mipart_notify("READY=1"), -EINVAL);

	/* sun_path holds 108 bytes: a path of 107 fits with its NUL, 108 does not */
	memset(longpath, 'a', sizeof(longpath));
	longpath[0] = '/';
	longpath[108] = '\0';
	assert_int_equal(setenv("NOTIFY_SOCKET", longpath, 1), 0);
	assert_int_equal(mipart_notify("READY=1"), -ENAMETOOLONG);
	longpath[107] = '\0';
	assert_int_equal(setenv("NOTIFY_SOCKET", longpath, 1), 0);
	assert_int_equal(mipart_notify("READY=1"), -ENOENT); /* fits; nothing is there */
	/* an abstract name needs no NUL: 108 bytes fit, 109 do not */
	memset(longpath, 'b', sizeof(longpath));
	longpath[0] = '@';
	longpath[108] = '\0';
	assert_int_equal(setenv("NOTIFY_SOCKET", longpath, 1), 0);
	assert_int_equal(mipart_notify("READY=1"), -ECONNREFUSED);
	longpath[108] = 'b';
	longpath[109] = '\0';
	assert_int_equal(setenv("NOTIFY_SOCKET", longpath, 1), 0);
	assert_int_equal(mipart_notify("READY=1"), -ENAMETOOLONG);
	unsetenv("NOTIFY_SOCKET");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unset),
		cmocka_unit_test_setup_teardown(test_path, scratch_setup, scratch_teardown),
		cmocka_unit_test(test_abstract),
		cmocka_unit_test(test_bad_address),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
