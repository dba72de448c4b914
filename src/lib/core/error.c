// SPDX-License-Identifier: MIT
/*
 * mipart_strerror(): what each errno means in mipart (the table in include/mipart/error.h).
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <string.h>

#include "mipart/error.h"
#include "util.h"
#include "banned.h"

/* libc's descriptions start with a capital ("No such file or directory"); every message of
 * mipart is lower case (STYLE.md: git style), and a description is always quoted after a
 * colon. So each one is copied once, its first letter lowered, into storage that lives as
 * long as the library: callers keep the pointer and may pass two of them to one printf. */
#define LIBC_ERRNO_MAX 256
static char libc_text[LIBC_ERRNO_MAX][64];
static pthread_once_t libc_text_once = PTHREAD_ONCE_INIT;

static void libc_text_init(void)
{
	for (int e = 1; e < LIBC_ERRNO_MAX; e++) {
		/* GNU strerror_r: returns the text, in buf or static; never NULL */
		char buf[sizeof(libc_text[0])];
		const char *t = strerror_r(e, buf, sizeof(buf));
		size_t i = 0;

		for (; t[i] && i + 1 < sizeof(libc_text[e]); i++)
			libc_text[e][i] = t[i];
		libc_text[e][i] = '\0';
		if (libc_text[e][0] >= 'A' && libc_text[e][0] <= 'Z' &&
		    !(libc_text[e][1] >= 'A' && libc_text[e][1] <= 'Z')) /* keep "RPC ..." */
			libc_text[e][0] = (char)(libc_text[e][0] - 'A' + 'a');
	}
}

const char *util_strerror(int err)
{
	if (err < 0)
		err = err == INT_MIN ? INT_MAX : -err;
	if (err == 0)
		return "success";
	if (err >= LIBC_ERRNO_MAX)
		return "unknown error";
	pthread_once(&libc_text_once, libc_text_init);
	return libc_text[err];
}

const char *mipart_strerror(int err)
{
	if (err < 0)
		err = err == INT_MIN ? INT_MAX : -err;
	switch (err) {
	case 0:
		return "success";
	case EPERM:
		return "operation not permitted (needs root, or the GPU is in reset)";
	case EACCES:
		return "permission denied";
	case EBADMSG:
		return "not in the format the kernel writes";
	case EFBIG:
		return "file too large";
	case EBUSY:
		return "in use by a process";
	case ENOSPC:
		return "does not fit";
	case EOPNOTSUPP:
		return "not supported";
	case ETIMEDOUT:
		return "timed out";
	case ENODEV:
		return "no such GPU";
	case EADDRINUSE:
		return "memory on the partition is allocated";
	case EINPROGRESS:
		return "an earlier change did not finish";
	default:
		return util_strerror(err);
	}
}
