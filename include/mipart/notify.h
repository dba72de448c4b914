/* SPDX-License-Identifier: MIT */
/*
 * The service manager's readiness protocol (sd_notify(3)), without libsystemd: one datagram of
 * "KEY=VALUE\n" lines to the AF_UNIX socket named by $NOTIFY_SOCKET. A path starting with '@'
 * names a socket in the abstract namespace. See docs/serve.md and systemd.service(5), Type=notify.
 */
#ifndef MIPART_NOTIFY_H
#define MIPART_NOTIFY_H

/*
 * mipart_notify - send state ("READY=1", "STOPPING=1", "RELOADING=1\nMONOTONIC_USEC=...",
 * "STATUS=...") to the service manager when $NOTIFY_SOCKET is set. The environment is left as
 * it is, so later calls reach the same socket.
 *
 * Returns 1 when the datagram was sent, 0 when $NOTIFY_SOCKET is unset or empty (not run by a
 * service manager), -EINVAL when state is NULL or empty or $NOTIFY_SOCKET is neither an
 * absolute path nor '@'-prefixed, -ENAMETOOLONG when it does not fit a socket address,
 * -EMSGSIZE when state is larger than MIPART_NOTIFY_MAX, or the -errno of socket()/sendto()
 * (-ENOENT, -ECONNREFUSED: nothing listens there; -EACCES).
 */
int mipart_notify(const char *state);

/* Largest state mipart_notify sends: systemd reads at most one page of a notification. */
#define MIPART_NOTIFY_MAX 4096

#endif
