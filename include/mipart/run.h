/* SPDX-License-Identifier: MIT */
/*
 * Running another program: an argv (never a shell string), stdin from /dev/null, stdout and
 * stderr captured up to 64 KiB, and a timeout after which the child is terminated.
 */
#ifndef MIPART_RUN_H
#define MIPART_RUN_H

/*
 * mipart_run - run argv[0] (searched in PATH) and wait at most timeout_ms. Returns 0 with its
 * exit status (128 + signal when killed by one) in *ret_status and, when ret_output is not
 * NULL, its output in *ret_output (NUL-terminated; the caller frees it); -ETIMEDOUT,
 * -ENOENT (no such program), -ENOMEM, or another -errno when it could not be started.
 */
int mipart_run(const char *const argv[], unsigned timeout_ms, int *ret_status, char **ret_output);

#endif
