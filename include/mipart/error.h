/* SPDX-License-Identifier: MIT */
/*
 * Errors in libmipart.
 *
 * Every function that can fail returns an int: >= 0 on success, a negative errno on failure.
 * The table below says what each errno means in mipart; mipart_strerror() turns one into the
 * phrase the CLI prints after the subject ("cannot read '/sys/...': <phrase>").
 *
 *   -ENOENT     a file, GPU, partition or allocation does not exist
 *   -EACCES     permission denied reading a file
 *   -EPERM      the operation needs root, or the GPU is in reset
 *   -EINVAL     malformed input or a mode the driver does not accept
 *   -EBADMSG    a kernel file did not have the format the kernel writes
 *   -ERANGE     a number is out of range
 *   -EFBIG      an input file is larger than mipart accepts
 *   -EBUSY      a GPU or partition is in use by a process
 *   -ENOSPC     a model or allocation does not fit
 *   -EOPNOTSUPP the GPU or the host does not support partitioning
 *   -ETIMEDOUT  a lock, subprocess or driver wait ran out of time
 *   -EIO        the driver reported an I/O error
 *   -ENOMEM     out of memory
 *   -EEXIST     the thing to create exists already
 *   -ENODEV     no GPU was found
 *   -EADDRINUSE the ledger books memory on a partition a change would remove
 *   -EINPROGRESS an earlier change did not finish (mipart recover)
 *   -E2BIG      a context longer than the model allows
 *   -EAGAIN     a server asked to retry later (the Hugging Face Hub's rate limit)
 *   -EHOSTUNREACH, -ECONNREFUSED  a server cannot be reached (no network)
 */
#ifndef MIPART_ERROR_H
#define MIPART_ERROR_H

/*
 * mipart_strerror - phrase for a negative (or positive) errno value.
 * Returns a static string; never NULL.
 */
const char *mipart_strerror(int err);

/*
 * What a policy function of the library (mipart_allocate, mipart_launch_open, ...) says when it
 * refuses: the message the mipart tool prints after "error: " and the hint it prints after
 * "hint: ", so that the tool, the Python binding and the agent say the same thing.
 */
typedef struct mipart_diag {
	int usage;		/* 1: the request itself is wrong (the tool exits 2), 0: the host */
	char message[512];	/* git style, lower case, no "error: " prefix; "" when none */
	char hint[512];		/* what to do instead; "" when there is nothing to suggest */
} mipart_diag;

#endif
