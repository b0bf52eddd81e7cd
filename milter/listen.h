/*
 * listen.h - the daemon's socket, before and after libmilter opens it.
 *
 * libmilter opens the socket (smfi_opensocket) and says why it failed
 * only in syslog, and with rmsocket set it removes whatever unix socket
 * is in the way, a live one included.  So the daemon opens it with
 * rmsocket unset, and around that call:
 *
 *   listen_claim()  before: a unix socket path held by a process that
 *                   accepts connections is refused (another instance is
 *                   serving there); a stale one (connection refused) is
 *                   removed; anything else in the way is refused.
 *   listen_why()    after a failure: the reason, found by doing what
 *                   libmilter did (bind to the same address) and taking
 *                   the errno it gets.
 *
 * Socket specs are the milter's: unix:/path, local:/path, inet:PORT[@HOST]
 * and inet6:PORT[@HOST] (conf.c has checked their form).
 */
#ifndef DM_LISTEN_H
#define DM_LISTEN_H

#include <stddef.h>

/* The path of a unix: or local: spec, NULL for any other. */
const char	*listen_unix_path(const char *spec);

/* Make way for a unix socket at spec's path.  Returns 0 when nothing is
 * in the way (*removed set to 1 when a stale socket was removed), or -1
 * with the reason in err.  Other specs: 0. */
int		 listen_claim(const char *spec, int *removed, char *err,
		    size_t errlen);

/* Turn Nagle off on the TCP socket libmilter listens on (found among the
 * process's descriptors: libmilter does not hand it out); connections it
 * accepts inherit the option.  Returns the number of sockets changed. */
int		 listen_nodelay(void);

/* Why listening on spec fails, into why ("bind: Address already in
 * use", "directory /run/x: No such file or directory", ...). */
void		 listen_why(const char *spec, char *why, size_t len);

#endif
