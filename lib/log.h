/*
 * log.h - the diagnostics of the daemon and its tools.
 *
 * A tiny logging API in the manner of OpenBSD's daemons.  Messages go to
 * syslog (after log_init with to_stderr = 0) or to stderr, one line each.
 *
 *   log_warn    warning, with strerror(errno) appended
 *   log_warnx   warning
 *   log_info    informational (one line per message decision lives here)
 *   log_debug   only when the verbosity is at least 1
 *   fatal/fatalx  log and exit(1); never called from a milter callback.
 *
 * Nothing passed to these functions may contain a raw mail address or a
 * local part: callers pass keyed hashes and domains only.
 *
 * log_set_relay(fn): every warning and fatal line is also handed to fn
 * (after it was logged, before fatal exits), until log_set_relay(NULL).
 * The daemon relays its start-up diagnostics to the process that waits
 * for it, so that they reach the terminal even when it logs to syslog.
 *
 * The functions are thread-safe (syslog(3) and one fprintf per line).
 */
#ifndef DM_LOG_H
#define DM_LOG_H

#include <stdarg.h>

/* Start logging.  ident is the program name, facility a syslog facility
 * (LOG_MAIL ...), to_stderr 1 for stderr, verbose 0 or more. */
void log_init(const char *ident, int facility, int to_stderr, int verbose);
/* Change the verbosity or the target after a configuration reload. */
void log_setverbose(int verbose);

/* fn(pri, line) sees each LOG_WARNING and LOG_CRIT line (its prefix
 * included: "warning: ...", "fatal: ..."); NULL stops it. */
void log_set_relay(void (*fn)(int pri, const char *line));

/* Map a facility name ("mail", "local0" ... "local7", "daemon", "user")
 * to its value; -1 if unknown. */
int log_facility_byname(const char *name);

void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void fatal(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));
void fatalx(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));

#endif
