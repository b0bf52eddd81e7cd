/*
 * log.c - syslog or stderr, one line per call (see log.h).
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static const char *log_ident = "disposable";
static int log_to_stderr = 1;
static int log_verbose;
static void (*log_relay)(int, const char *);

void
log_init(const char *ident, int facility, int to_stderr, int verbose)
{
	log_ident = ident;
	log_to_stderr = to_stderr;
	log_verbose = verbose;
	if (!to_stderr)
		openlog(ident, LOG_PID | LOG_NDELAY, facility);
}

void
log_setverbose(int verbose)
{
	log_verbose = verbose;
}

void
log_set_relay(void (*fn)(int pri, const char *line))
{
	log_relay = fn;
}

int
log_facility_byname(const char *name)
{
	static const struct { const char *n; int v; } f[] = {
		{ "mail", LOG_MAIL }, { "daemon", LOG_DAEMON },
		{ "user", LOG_USER }, { "local0", LOG_LOCAL0 },
		{ "local1", LOG_LOCAL1 }, { "local2", LOG_LOCAL2 },
		{ "local3", LOG_LOCAL3 }, { "local4", LOG_LOCAL4 },
		{ "local5", LOG_LOCAL5 }, { "local6", LOG_LOCAL6 },
		{ "local7", LOG_LOCAL7 },
	};
	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++)
		if (strcasecmp(name, f[i].n) == 0)
			return f[i].v;
	return -1;
}

/* s (its first n bytes) at *p, as much as fits before end. */
static char *
put(char *p, const char *end, const char *s, size_t n)
{
	if (n > (size_t)(end - p))
		n = (size_t)(end - p);
	memcpy(p, s, n);
	return p + n;
}

/* "TIME IDENT: PREFIXMSG\n" to standard error in one write(2), so that
 * lines of concurrent threads never interleave.  Not fprintf: on the
 * unbuffered stderr it formats through an 8 KiB buffer on the stack,
 * two pages a fresh libmilter thread faults in for every message. */
static void
write_stderr(const char *prefix, const char *msg, size_t n)
{
	char line[2048 + 128], ts[32], *p = line;
	const char *end = line + sizeof(line) - 1;
	struct tm tm;
	time_t now = time(NULL);
	size_t len;
	ssize_t w;

	len = strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S",
	    gmtime_r(&now, &tm));
	p = put(p, end, ts, len);
	p = put(p, end, " ", 1);
	p = put(p, end, log_ident, strlen(log_ident));
	p = put(p, end, ": ", 2);
	p = put(p, end, prefix, strlen(prefix));
	p = put(p, end, msg, n);
	*p++ = '\n';
	for (const char *q = line; q < p; q += w)
		if ((w = write(fileno(stderr), q, (size_t)(p - q))) < 0) {
			if (errno != EINTR)
				return;
			w = 0;
		}
}

/* Format once, then write the whole line with one call. */
static void __attribute__((format(printf, 3, 0)))
vlog(int pri, const char *prefix, const char *fmt, va_list ap, int errnum)
{
	char msg[2048];
	int n;

	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	if (n < 0)
		return;
	if (errnum && (size_t)n < sizeof(msg))
		snprintf(msg + n, sizeof(msg) - n, ": %s", strerror(errnum));
	if (log_to_stderr)
		write_stderr(prefix, msg, strnlen(msg, sizeof(msg) - 1));
	else
		syslog(pri, "%s%s", prefix, msg);
	if (log_relay != NULL && pri <= LOG_WARNING) {
		char line[sizeof(msg) + 16];

		snprintf(line, sizeof(line), "%s%s", prefix, msg);
		log_relay(pri, line);
	}
}

#define LOGFN(name, pri, prefix, witherr, cond)			\
void									\
name(const char *fmt, ...)						\
{									\
	int e = errno;							\
	va_list ap;							\
	if (!(cond))							\
		return;							\
	va_start(ap, fmt);						\
	vlog(pri, prefix, fmt, ap, witherr ? e : 0);			\
	va_end(ap);							\
	errno = e;							\
}

LOGFN(log_warn, LOG_WARNING, "warning: ", 1, 1)
LOGFN(log_warnx, LOG_WARNING, "warning: ", 0, 1)
LOGFN(log_info, LOG_INFO, "", 0, 1)
LOGFN(log_debug, LOG_DEBUG, "debug: ", 0, log_verbose > 0)

void
fatal(const char *fmt, ...)
{
	int e = errno;
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_CRIT, "fatal: ", fmt, ap, e);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_CRIT, "fatal: ", fmt, ap, 0);
	va_end(ap);
	exit(1);
}
