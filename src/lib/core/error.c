// SPDX-License-Identifier: MIT
/*
 * mipart_strerror(): what each errno means in mipart (the table in include/mipart/error.h).
 */
#include <errno.h>
#include <string.h>

#include "mipart/error.h"
#include "banned.h"

const char *mipart_strerror(int err)
{
	if (err < 0)
		err = -err;
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
		return strerror(err);
	}
}
