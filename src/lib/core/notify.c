// SPDX-License-Identifier: MIT
/*
 * sd_notify without libsystemd: systemd passes a Type=notify service the address of a datagram
 * socket in $NOTIFY_SOCKET, and the service sends it newline-separated assignments
 * ("READY=1", "STATUS=...") in single datagrams (sd_notify(3), systemd src/libsystemd/
 * sd-daemon/sd-daemon.c: sd_pid_notify_with_fds). Only the AF_UNIX forms are handled: an
 * absolute path, or '@' followed by a name in the abstract namespace (the '@' becomes the
 * leading NUL of sun_path and the address length counts only the bytes used). The library
 * never prints; the caller decides what a failure means.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "mipart/notify.h"
#include "banned.h"

int mipart_notify(const char *state)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	const char *path = getenv("NOTIFY_SOCKET");
	size_t plen, slen;
	socklen_t salen;
	ssize_t n;
	int fd, r = 1;

	if (!state || !*state)
		return -EINVAL;
	if (!path || !*path)
		return 0;
	slen = strlen(state);
	if (slen > MIPART_NOTIFY_MAX)
		return -EMSGSIZE;
	if (path[0] != '/' && path[0] != '@')
		return -EINVAL; /* "vsock:..." and relative paths: not for mipart */
	plen = strlen(path);
	/* a path needs its NUL inside sun_path; an abstract name does not */
	if (plen > sizeof(sa.sun_path) - (path[0] == '/'))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, plen);
	if (path[0] == '@') {
		sa.sun_path[0] = '\0';
		salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + plen);
	} else {
		salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + plen + 1);
	}

	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	do
		n = sendto(fd, state, slen, MSG_NOSIGNAL, (const struct sockaddr *)&sa, salen);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		r = -errno;
	else if ((size_t)n != slen)
		r = -EIO; /* a datagram is sent whole or not at all; never seen */
	close(fd);
	return r;
}
