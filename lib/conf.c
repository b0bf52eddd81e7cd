/*
 * conf.c - the configuration file of the daemon and of disposable-ctl
 * (see conf.h; every key is described in disposable-milter.conf(5)).
 *
 * config_load() reads the whole file into a copy of *c and copies it back
 * only when every line was good, so a failed reload leaves the running
 * configuration as it was.  Each key is parsed and checked on its own line,
 * so that a mistake is reported with its line; config_check() repeats what
 * can be repeated on the finished structure (which a program may also
 * have filled itself) and checks what involves several keys.
 *
 * Relative paths (PidFile, Database, KeyFile, SourceDir,
 * UpdateNeverBlock, UpdateCAFile, the files of List, Fingerprints and
 * Infrastructure) are
 * taken relative to the directory of the configuration file: the daemon
 * may change its working directory, and a configuration shipped with its
 * lists should not depend on where it is started from.
 *
 * Defaults are not written here: config_default() takes them from the
 * modules the settings belong to.  A number's range is written once, in
 * the key table, and both config_load() and config_check() read it there.
 *
 * Diagnostics: "path:line: reason" from config_load(), "Key: reason" from
 * config_check().  A value is quoted back in a diagnostic at most 200
 * bytes long; configuration values are not mail traffic.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <unistd.h>

#include "conf.h"
#include "log.h"
#include "metrics.h"
#include "records.h"
#include "util.h"

#ifndef DM_SYSCONFDIR
#define DM_SYSCONFDIR "/etc"
#endif
const char config_default_file[] =
    DM_SYSCONFDIR "/disposable-milter/disposable-milter.conf";

#define CONF_LINE_MAX	4096	/* bytes of a line, newline excluded */
#define REPLY_SMFI_MAX	980	/* smfi_setreply's limit, '%' doubled */

/* Inside Postfix's queue directory: a chrooted smtpd (Debian's default
 * master.cf) resolves unix: milter paths relative to it, and a socket in
 * /run does not exist for it. */
#define DEF_SOCKET	"unix:/var/spool/postfix/disposable-milter/" \
			"disposable-milter.sock"
#define DEF_DATABASE	"/var/lib/disposable-milter/lists.db"
#define DEF_SOURCEDIR	"/var/lib/disposable-milter/sources"
#define DEF_KEYFILE	"/etc/disposable-milter/hash.key"
#define DEF_TAG		"X-Disposable-Sender"
#define DEF_REJECT	"550 5.7.1 Sender address rejected: disposable or " \
			"anonymous mail service not accepted"
#define DEF_TEMPFAIL	"451 4.7.1 Sender address temporarily rejected; " \
			"try again later"
#define DEF_HEADERS	(1u << ROLE_FROM | 1u << ROLE_SENDER | \
			1u << ROLE_REPLY_TO)

#define EXPECT_SERVERS	"ADDRESS[:PORT] or [IPV6]:PORT, comma-separated"

#define EXPECT_ACTION	"reject, tempfail, tag or accept"
#define EXPECT_BOOL	"yes or no"
#define EXPECT_HEADERS	"From, Sender, Reply-To, Resent-From, " \
			"Resent-Sender or Disposition-Notification-To"
#define EXPECT_SOCKET	"unix:/path, local:/path, inet:PORT@HOST or " \
			"inet6:PORT@HOST"

/* Header fields a tag header must not be named after: StripTagHeader
 * would delete them from every message. */
static const char *const protected_headers[] = {
	"From", "Sender", "Reply-To", "Resent-From", "Resent-Sender",
	"Resent-Date", "Resent-To", "Resent-Cc", "Resent-Message-ID",
	"Disposition-Notification-To", "To", "Cc", "Bcc", "Subject", "Date",
	"Message-ID", "In-Reply-To", "References", "Received", "Return-Path",
	"MIME-Version", "Content-Type", "Content-Transfer-Encoding",
	"DKIM-Signature", "ARC-Seal", "ARC-Message-Signature",
	"ARC-Authentication-Results", "Authentication-Results",
};

struct load;
typedef int (*parse_fn)(struct load *, char *value);

/* How a number is stored: the field at off in struct config. */
enum numtype { NUM_NONE = 0, NUM_INT, NUM_SIZE };

struct keydef {
	const char	*name;
	parse_fn	 parse;
	int		 arg;		/* category, or which reply */
	int		 repeat;	/* may appear more than once */
	enum numtype	 type;		/* numbers (p_number): where and */
	size_t		 off;
	long		 min, max;	/* the range, checked by config_load
					   and config_check alike */
};

/* The state of one config_load() call. */
struct load {
	const char	*path;
	unsigned	 line;
	struct config	*c;
	const struct keydef *key;
	const char	*value;
	unsigned	 list_line[CONFIG_MAX_LISTS];
	char		*err;
	size_t		 errlen;
};

static void
lerr(struct load *L, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
lerr(struct load *L, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(L->err, L->errlen, "%s:%u: %s", L->path, L->line, msg);
}

/* "bad value for Key: 'value' (expected ...)"; returns -1. */
static int
bad(struct load *L, const char *expected)
{
	lerr(L, "bad value for %s: '%.200s' (expected %s)", L->key->name,
	    L->value, expected);
	return -1;
}

static int
is_space(int c)
{
	return c == ' ' || c == '\t';
}

static int
is_alnum(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9');
}

static int
is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static int
copy(char *dst, size_t size, const char *src)
{
	size_t n = strlen(src);

	if (n >= size)
		return -1;
	memcpy(dst, src, n + 1);
	return 0;
}

/*
 * Values shared by config_load() and config_check().  Each returns 0, or
 * -1 with a reason (without the key) in why.
 */

static int
check_socket(const char *s, char *why, size_t n)
{
	const char *p;

	for (p = s; *p != '\0'; p++)
		if ((unsigned char)*p <= ' ' || *p == 0x7f) {
			snprintf(why, n, "white space or control character");
			return -1;
		}
	if (strncasecmp(s, "unix:", 5) == 0 ||
	    strncasecmp(s, "local:", 6) == 0) {
		p = strchr(s, ':') + 1;
		if (*p != '/') {
			snprintf(why, n, "the socket path must be absolute");
			return -1;
		}
		if (strlen(p) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
			snprintf(why, n, "the socket path is longer than %zu "
			    "bytes", sizeof(((struct sockaddr_un *)0)->sun_path)
			    - 1);
			return -1;
		}
		return 0;
	}
	if (strncasecmp(s, "inet:", 5) == 0 ||
	    strncasecmp(s, "inet6:", 6) == 0) {
		unsigned long port = 0;
		size_t digits = 0;

		for (p = strchr(s, ':') + 1; is_digit((unsigned char)*p); p++)
			if (++digits <= 5)
				port = port * 10 + (unsigned long)(*p - '0');
		if (digits == 0 || digits > 5 || port < 1 || port > 65535) {
			snprintf(why, n, "the port must be 1 to 65535");
			return -1;
		}
		/* No "@HOST" means every address, as libmilter has it. */
		if (*p == '\0')
			return 0;
		if (*p != '@' || p[1] == '\0') {
			snprintf(why, n, "expected PORT@HOST");
			return -1;
		}
		return 0;
	}
	snprintf(why, n, "unknown kind of socket");
	return -1;
}

/*
 * "CODE[ X.Y.Z][ text]", CODE 4xx or 5xx.  Fills code and xcode (may be
 * empty) and points text into r.  class is '4' or '5' to require it, 0
 * for either.
 */
static int
parse_reply(const char *r, int class, char code[4], char xcode[16],
    const char **text, char *why, size_t n)
{
	const char *p = r;
	size_t len;

	if (!is_digit((unsigned char)p[0]) || !is_digit((unsigned char)p[1]) ||
	    !is_digit((unsigned char)p[2]) ||
	    (p[3] != '\0' && p[3] != ' ')) {
		snprintf(why, n, "the reply must start with a 3-digit code");
		return -1;
	}
	if ((p[0] != '4' && p[0] != '5') || p[1] > '5') {
		snprintf(why, n, "%.3s is not a 4xx or 5xx reply code", p);
		return -1;
	}
	if (class != 0 && p[0] != class) {
		snprintf(why, n, "the code must be %cxx", class);
		return -1;
	}
	memcpy(code, p, 3);
	code[3] = '\0';
	xcode[0] = '\0';
	p += 3;
	while (*p == ' ')
		p++;

	/* An enhanced status code (RFC 3463) is a digit and a dot. */
	if (is_digit((unsigned char)p[0]) && p[1] == '.') {
		const char *x = p + 2;
		size_t d;

		for (d = 0; is_digit((unsigned char)*x); x++)
			d++;
		if (d < 1 || d > 3 || *x++ != '.') {
			snprintf(why, n, "malformed enhanced status code");
			return -1;
		}
		for (d = 0; is_digit((unsigned char)*x); x++)
			d++;
		if (d < 1 || d > 3 || (*x != '\0' && *x != ' ')) {
			snprintf(why, n, "malformed enhanced status code");
			return -1;
		}
		if (p[0] != code[0]) {
			snprintf(why, n, "enhanced status code %.*s does not "
			    "match reply code %s", (int)(x - p), p, code);
			return -1;
		}
		memcpy(xcode, p, (size_t)(x - p));
		xcode[x - p] = '\0';
		p = x;
		while (*p == ' ')
			p++;
	}

	len = strlen(code) + (xcode[0] != '\0' ? strlen(xcode) + 1 : 0) + 1;
	for (const char *t = p; *t != '\0'; t++) {
		if ((unsigned char)*t < ' ' || *t == 0x7f) {
			snprintf(why, n, "control character in the text");
			return -1;
		}
		/* The daemon writes '%' as "%%" for smfi_setreply. */
		len += *t == '%' ? 2 : 1;
	}
	if (len >= REPLY_SMFI_MAX) {
		snprintf(why, n, "too long (%zu characters, '%%' counted "
		    "twice; at most %d)", len, REPLY_SMFI_MAX - 1);
		return -1;
	}
	*text = p;
	return 0;
}

static int
check_reply(const char *r, int class, char *why, size_t n)
{
	char code[4], xcode[16];
	const char *text;

	if (strlen(r) >= CONFIG_REPLY_MAX) {
		snprintf(why, n, "too long (at most %d characters)",
		    CONFIG_REPLY_MAX - 1);
		return -1;
	}
	return parse_reply(r, class, code, xcode, &text, why, n);
}

static int
check_tag_header(const char *h, char *why, size_t n)
{
	size_t len = strlen(h);

	if (len == 0 || len >= sizeof(((struct config *)0)->tag_header)) {
		snprintf(why, n, "a header field name of 1 to %zu characters",
		    sizeof(((struct config *)0)->tag_header) - 1);
		return -1;
	}
	for (const unsigned char *p = (const unsigned char *)h; *p != '\0';
	    p++)
		if (*p <= ' ' || *p >= 0x7f || *p == ':') {
			snprintf(why, n, "a header field name: printable "
			    "ASCII, no ':' or space");
			return -1;
		}
	for (size_t i = 0; i < sizeof(protected_headers) /
	    sizeof(protected_headers[0]); i++)
		if (strcasecmp(h, protected_headers[i]) == 0) {
			snprintf(why, n, "a header field of its own, not one "
			    "that StripTagHeader would delete from mail");
			return -1;
		}
	return 0;
}

static int
check_separator(char sep)
{
	return sep == '\0' || (sep > ' ' && sep < 0x7f && sep != '@' &&
	    !is_alnum((unsigned char)sep)) ? 0 : -1;
}

static int
check_source(const char *s)
{
	size_t len = strlen(s);

	if (len == 0 || len >= LISTDB_SOURCE_NAME)
		return -1;
	for (; *s != '\0'; s++)
		if (!is_alnum((unsigned char)*s) && *s != '.' && *s != '_' &&
		    *s != '-')
			return -1;
	return 0;
}

static int
check_user(const char *u)
{
	const char *colon = strchr(u, ':');

	if (strlen(u) >= sizeof(((struct config *)0)->user))
		return -1;
	if (u[0] == '\0' || u[0] == ':')
		return -1;
	if (colon != NULL && (colon[1] == '\0' || strchr(colon + 1, ':')))
		return -1;
	for (; *u != '\0'; u++)
		if ((unsigned char)*u <= ' ' || *u == 0x7f)
			return -1;
	return 0;
}

/* A port "1".."65535"; -1 otherwise. */
static int
check_port(const char *p)
{
	unsigned long port = 0;
	size_t digits = 0;

	for (; is_digit((unsigned char)*p); p++)
		if (++digits <= 5)
			port = port * 10 + (unsigned long)(*p - '0');
	return *p == '\0' && digits >= 1 && digits <= 5 && port >= 1 &&
	    port <= 65535 ? 0 : -1;
}

/* One name server: an IPv4 address with an optional ":PORT", an IPv6
 * address, or "[IPv6]" with an optional ":PORT".  Host names are refused:
 * the resolver's own address cannot depend on a lookup. */
static int
check_server(const char *s, size_t len, char *why, size_t n)
{
	char host[INET6_ADDRSTRLEN + 8], port[8] = "";
	unsigned char buf[sizeof(struct in6_addr)];
	const char *colon, *end = s + len;
	int v6;

	if (len == 0 || len >= sizeof(host) + sizeof(port)) {
		snprintf(why, n, "an empty or overlong server");
		return -1;
	}
	if (s[0] == '[') {
		const char *close = memchr(s, ']', len);

		if (close == NULL || (size_t)(close - s - 1) >= sizeof(host))
			goto bad;
		memcpy(host, s + 1, (size_t)(close - s - 1));
		host[close - s - 1] = '\0';
		if (close + 1 < end) {
			if (close[1] != ':' || (size_t)(end - close - 2) >=
			    sizeof(port))
				goto bad;
			memcpy(port, close + 2, (size_t)(end - close - 2));
			port[end - close - 2] = '\0';
			if (check_port(port) != 0)
				goto badport;
		}
		v6 = 1;
	} else {
		colon = memchr(s, ':', len);
		/* Two colons or more: a bare IPv6 address, no port. */
		v6 = colon != NULL && memchr(colon + 1, ':',
		    (size_t)(end - colon - 1)) != NULL;
		if (v6 || colon == NULL) {
			if (len >= sizeof(host))
				goto bad;
			memcpy(host, s, len);
			host[len] = '\0';
		} else {
			if ((size_t)(colon - s) >= sizeof(host) ||
			    (size_t)(end - colon - 1) >= sizeof(port))
				goto bad;
			memcpy(host, s, (size_t)(colon - s));
			host[colon - s] = '\0';
			memcpy(port, colon + 1, (size_t)(end - colon - 1));
			port[end - colon - 1] = '\0';
			if (check_port(port) != 0)
				goto badport;
		}
	}
	if (inet_pton(v6 ? AF_INET6 : AF_INET, host, buf) != 1)
		goto bad;
	return 0;
badport:
	snprintf(why, n, "'%.*s': the port must be 1 to 65535", (int)len, s);
	return -1;
bad:
	snprintf(why, n, "'%.*s' is not ADDRESS[:PORT] or [IPV6]:PORT",
	    (int)(len > 100 ? 100 : len), s);
	return -1;
}

/* A comma-separated list of servers into out ("a,b", no spaces); out may
 * be NULL to check only.  The empty list means resolv.conf. */
static int
check_servers(const char *v, char *out, size_t outlen, char *why, size_t n)
{
	char buf[sizeof(((struct dns_config *)0)->servers)];
	size_t off = 0, len;
	const char *p = v, *e;

	buf[0] = '\0';
	while (*p != '\0') {
		while (is_space((unsigned char)*p) || *p == ',')
			p++;
		if (*p == '\0')
			break;
		for (e = p; *e != '\0' && *e != ',' &&
		    !is_space((unsigned char)*e); e++)
			;
		len = (size_t)(e - p);
		if (check_server(p, len, why, n) != 0)
			return -1;
		if (off + len + 2 > sizeof(buf)) {
			snprintf(why, n, "too long (at most %zu bytes)",
			    sizeof(buf) - 1);
			return -1;
		}
		if (off > 0)
			buf[off++] = ',';
		memcpy(buf + off, p, len);
		off += len;
		buf[off] = '\0';
		p = e;
	}
	if (out != NULL && copy(out, outlen, buf) != 0) {
		snprintf(why, n, "too long");
		return -1;
	}
	return 0;
}

/*
 * Per-key parsers: the value is trimmed, unquoted and not empty.
 */

static int
parse_bool(struct load *L, const char *v, int *out)
{
	if (strcasecmp(v, "yes") == 0 || strcasecmp(v, "true") == 0 ||
	    strcmp(v, "1") == 0)
		*out = 1;
	else if (strcasecmp(v, "no") == 0 || strcasecmp(v, "false") == 0 ||
	    strcmp(v, "0") == 0)
		*out = 0;
	else
		return bad(L, EXPECT_BOOL);
	return 0;
}

/* A decimal number in [min, max]. */
static int
parse_number(struct load *L, const char *v, long min, long max, long *out)
{
	char expect[96];
	long long n = 0;
	const char *p;

	for (p = v; is_digit((unsigned char)*p) && n <= max; p++)
		n = n * 10 + (*p - '0');
	if (p == v || *p != '\0' || n < min || n > max) {
		snprintf(expect, sizeof(expect), "a number from %ld to %ld",
		    min, max);
		return bad(L, expect);
	}
	*out = (long)n;
	return 0;
}

/* Resolve a path against the directory of the configuration file. */
static int
parse_path(struct load *L, const char *v, char *out)
{
	const char *slash;
	char cwd[CONFIG_PATH_MAX];
	int n;

	if (v[0] == '/') {
		if (copy(out, CONFIG_PATH_MAX, v) != 0)
			goto toolong;
		return 0;
	}
	slash = strrchr(L->path, '/');
	if (L->path[0] == '/')
		n = snprintf(out, CONFIG_PATH_MAX, "%.*s/%s",
		    (int)(slash - L->path), L->path, v);
	else {
		if (getcwd(cwd, sizeof(cwd)) == NULL) {
			lerr(L, "%s: cannot resolve '%.200s': current "
			    "directory: %s", L->key->name, v, strerror(errno));
			return -1;
		}
		if (slash != NULL)
			n = snprintf(out, CONFIG_PATH_MAX, "%s/%.*s/%s", cwd,
			    (int)(slash - L->path), L->path, v);
		else
			n = snprintf(out, CONFIG_PATH_MAX, "%s/%s", cwd, v);
	}
	if (n < 0 || n >= CONFIG_PATH_MAX)
		goto toolong;
	return 0;
toolong:
	lerr(L, "%s: path too long (at most %d bytes)", L->key->name,
	    CONFIG_PATH_MAX - 1);
	return -1;
}

static int
p_socket(struct load *L, char *v)
{
	char why[256];

	if (check_socket(v, why, sizeof(why)) != 0) {
		lerr(L, "bad value for Socket: '%.200s' (%s; expected "
		    EXPECT_SOCKET ")", v, why);
		return -1;
	}
	if (copy(L->c->socket, sizeof(L->c->socket), v) != 0)
		return bad(L, "a shorter socket");
	return 0;
}

static int
p_pidfile(struct load *L, char *v)
{
	return parse_path(L, v, L->c->pidfile);
}

static int
p_database(struct load *L, char *v)
{
	return parse_path(L, v, L->c->database);
}

static int
p_keyfile(struct load *L, char *v)
{
	return parse_path(L, v, L->c->keyfile);
}

static int
p_user(struct load *L, char *v)
{
	if (check_user(v) != 0)
		return bad(L, "USER or USER:GROUP");
	return copy(L->c->user, sizeof(L->c->user), v);
}

static int
p_syslog(struct load *L, char *v)
{
	return parse_bool(L, v, &L->c->syslog);
}

static int
p_facility(struct load *L, char *v)
{
	int f = log_facility_byname(v);

	if (f == -1)
		return bad(L, "mail, daemon, user or local0 to local7");
	L->c->syslog_facility = f;
	return 0;
}

static int
p_coredumps(struct load *L, char *v)
{
	return parse_bool(L, v, &L->c->core_dumps);
}

static int
p_loglevel(struct load *L, char *v)
{
	if (v[0] < '0' || v[0] > '2' || v[1] != '\0')
		return bad(L, "0, 1 or 2");
	L->c->verbose = v[0] - '0';
	return 0;
}

/* The next white-space separated word of *p, NUL-ended; "" at the end. */
static char *
next_word(char **p)
{
	char *w = *p;

	while (**p != '\0' && !is_space((unsigned char)**p))
		(*p)++;
	while (is_space((unsigned char)**p))
		*(*p)++ = '\0';
	return w;
}

/* A remote list's location: "https://HOST/..." or "file:///PATH"
 * (plain http is refused before this is asked). */
static int
is_remote(const char *loc)
{
	return strncasecmp(loc, "https://", 8) == 0 ||
	    strncasecmp(loc, "file://", 7) == 0;
}

static int
p_list(struct load *L, char *v)
{
	struct config *c = L->c;
	struct config_list *l;
	char *cat, *src, *loc, *tierw, *p = v, *e;
	const char *key = L->key->name;
	enum list_kind kind = (enum list_kind)L->key->arg;
	int k, t = -1;

	cat = kind == LIST_INFRA ? (char *)"allow" : next_word(&p);
	src = next_word(&p);
	loc = p;
	/* The tier is the last word, when it names one. */
	if ((e = loc + strlen(loc)) > loc) {
		for (tierw = e; tierw > loc &&
		    !is_space((unsigned char)tierw[-1]); tierw--)
			;
		if (tierw > loc && (t = tier_byname(tierw)) >= 0) {
			for (e = tierw; e > loc &&
			    is_space((unsigned char)e[-1]); e--)
				;
			*e = '\0';
		}
	}
	if (*src == '\0' || *loc == '\0') {
		lerr(L, "%s: expected %sSOURCE LOCATION [TIER]", key,
		    kind == LIST_INFRA ? "" : "CATEGORY ");
		return -1;
	}
	k = category_byname(cat);
	if (k < 0 || !listdb_category_listable((enum category)k, kind)) {
		lerr(L, "bad category for %s: '%.200s' (expected "
		    "%s)", key, cat, kind == LIST_FINGERPRINTS ?
		    "disposable or relay" : "disposable, relay or allow");
		return -1;
	}
	if (strncasecmp(loc, "http://", 7) == 0) {
		lerr(L, "%s: '%.200s': plain http can be changed on the way; "
		    "use https://, or file:// for a local mirror", key, loc);
		return -1;
	}
	if (check_source(src) != 0) {
		lerr(L, "bad source name for %s: '%.200s' (expected 1 to "
		    "%d of A-Z a-z 0-9 . _ -)", key, src,
		    LISTDB_SOURCE_NAME - 1);
		return -1;
	}
	/* List and Fingerprints share the database's source table. */
	for (size_t i = 0; i < c->nlists; i++)
		if (strcmp(c->lists[i].source, src) == 0) {
			lerr(L, "%s: source '%s' already given on line %u",
			    key, src, L->list_line[i]);
			return -1;
		}
	if (c->nlists >= CONFIG_MAX_LISTS) {
		lerr(L, "too many List and Fingerprints lines (at most %d)",
		    CONFIG_MAX_LISTS);
		return -1;
	}
	l = &c->lists[c->nlists];
	memset(l, 0, sizeof(*l));
	if (is_remote(loc)) {
		if (strncasecmp(loc, "file://", 7) == 0 && loc[7] != '/') {
			lerr(L, "%s: '%.200s': a file:// location needs an "
			    "absolute path (file:///PATH)", key, loc);
			return -1;
		}
		if (copy(l->url, sizeof(l->url), loc) != 0) {
			lerr(L, "%s: location too long (at most %d bytes)",
			    key, CONFIG_PATH_MAX - 1);
			return -1;
		}
		/* path: SourceDir/SOURCE.list, once SourceDir is known
		 * (config_load, at the end of the file). */
	} else if (parse_path(L, loc, l->path) != 0)
		return -1;
	l->category = (enum category)k;
	l->kind = kind;
	l->tier = t >= 0 ? (enum tier)t : l->url[0] != '\0' ?
	    TIER_COMMUNITY : TIER_CURATED;
	memcpy(l->source, src, strlen(src) + 1);
	L->list_line[c->nlists++] = L->line;
	return 0;
}

static int
p_sourcedir(struct load *L, char *v)
{
	return parse_path(L, v, L->c->source_dir);
}

/* Where the build reads a remote list: its last good copy. */
static int
remote_paths(struct config *c)
{
	for (size_t i = 0; i < c->nlists; i++) {
		struct config_list *l = &c->lists[i];
		int n;

		if (l->url[0] == '\0')
			continue;
		n = snprintf(l->path, sizeof(l->path), "%s/%s.list",
		    c->source_dir, l->source);
		if (n < 0 || (size_t)n >= sizeof(l->path))
			return -1;
	}
	return 0;
}

static int
p_neverblock(struct load *L, char *v)
{
	return parse_path(L, v, L->c->update_never_block);
}

static int
p_cafile(struct load *L, char *v)
{
	return parse_path(L, v, L->c->update_ca_file);
}

static int
p_hashmode(struct load *L, char *v)
{
	if (strcasecmp(v, "hmac") == 0)
		L->c->hash_mode = HASH_HMAC;
	else if (strcasecmp(v, "sha256") == 0)
		L->c->hash_mode = HASH_SHA256;
	else
		return bad(L, "hmac or sha256");
	return 0;
}

static int
p_separator(struct load *L, char *v)
{
	if (strcasecmp(v, "none") == 0) {
		L->c->policy.subaddr_sep = '\0';
		return 0;
	}
	if (v[1] != '\0' || check_separator(v[0]) != 0)
		return bad(L, "one character, not a letter, digit or '@'; "
		    "or none");
	L->c->policy.subaddr_sep = v[0];
	return 0;
}

static int
p_headers(struct load *L, char *v)
{
	unsigned mask = 0;
	size_t n = 0;
	char *tok, *save = NULL;

	if (strcasecmp(v, "none") == 0) {
		L->c->headers = 0;
		return 0;
	}
	for (tok = strtok_r(v, ", \t", &save); tok != NULL;
	    tok = strtok_r(NULL, ", \t", &save)) {
		int r = role_byname(tok);

		if (r < 0 || r == ROLE_ENVELOPE) {
			lerr(L, "bad value for HeaderFields: '%.200s' "
			    "(expected " EXPECT_HEADERS ")", tok);
			return -1;
		}
		mask |= 1u << r;
		n++;
	}
	if (n == 0)
		return bad(L, EXPECT_HEADERS);
	L->c->headers = mask;
	return 0;
}

static int
p_action(struct load *L, char *v)
{
	int a = action_byname(v);

	if (a < 0)
		return bad(L, EXPECT_ACTION);
	L->c->policy.action[L->key->arg] = (enum action)a;
	return 0;
}

static int
p_reply(struct load *L, char *v)
{
	char why[256];
	int class = L->key->arg;
	char *dst = class == '5' ? L->c->reject_reply : L->c->tempfail_reply;

	if (check_reply(v, class, why, sizeof(why)) != 0) {
		lerr(L, "bad value for %s: '%.200s' (%s)", L->key->name, v,
		    why);
		return -1;
	}
	return copy(dst, CONFIG_REPLY_MAX, v);
}

static int
p_tagheader(struct load *L, char *v)
{
	char why[256];

	if (check_tag_header(v, why, sizeof(why)) != 0)
		return bad(L, why);
	return copy(L->c->tag_header, sizeof(L->c->tag_header), v);
}

static int
p_strip(struct load *L, char *v)
{
	return parse_bool(L, v, &L->c->strip_tag);
}

static int
p_mode(struct load *L, char *v)
{
	if (strcasecmp(v, "enforce") == 0)
		L->c->mode = MODE_ENFORCE;
	else if (strcasecmp(v, "observe") == 0)
		L->c->mode = MODE_OBSERVE;
	else
		return bad(L, "enforce or observe");
	return 0;
}

static int
p_skipauth(struct load *L, char *v)
{
	return parse_bool(L, v, &L->c->skip_auth);
}

static int
p_onerror(struct load *L, char *v)
{
	if (strcasecmp(v, "accept") == 0)
		L->c->on_error = ONERROR_ACCEPT;
	else if (strcasecmp(v, "tempfail") == 0)
		L->c->on_error = ONERROR_TEMPFAIL;
	else
		return bad(L, "accept or tempfail");
	return 0;
}

static int
p_dns(struct load *L, char *v)
{
	return parse_bool(L, v, &L->c->dns_enabled);
}

static int
p_spf(struct load *L, char *v)
{
	return parse_bool(L, v, &L->c->spf_enabled);
}

static int
p_dnsservers(struct load *L, char *v)
{
	char why[256];

	if (check_servers(v, L->c->dns.servers, sizeof(L->c->dns.servers),
	    why, sizeof(why)) != 0) {
		lerr(L, "bad value for DNSServers: %s (expected "
		    EXPECT_SERVERS ")", why);
		return -1;
	}
	/* Only leaving the key out means resolv.conf. */
	if (L->c->dns.servers[0] == '\0') {
		lerr(L, "bad value for DNSServers: no server (expected "
		    EXPECT_SERVERS ")");
		return -1;
	}
	return 0;
}

static int
p_records(struct load *L, char *v)
{
	return parse_path(L, v, L->c->records);
}

static int
p_metricsfile(struct load *L, char *v)
{
	return parse_path(L, v, L->c->metrics_file);
}

/* A number in the key's range, into the key's field. */
static int
p_number(struct load *L, char *v)
{
	const struct keydef *k = L->key;
	long n;

	if (parse_number(L, v, k->min, k->max, &n) != 0)
		return -1;
	if (k->type == NUM_INT)
		*(int *)(void *)((char *)L->c + k->off) = (int)n;
	else
		*(size_t *)(void *)((char *)L->c + k->off) = (size_t)n;
	return 0;
}

static int
p_truncated(struct load *L, char *v)
{
	int a = action_byname(v);

	if (a < 0)
		return bad(L, EXPECT_ACTION);
	L->c->policy.truncated = (enum action)a;
	return 0;
}

static int
p_nullmax(struct load *L, char *v)
{
	int a = action_byname(v);

	if (a < 0)
		return bad(L, EXPECT_ACTION);
	L->c->policy.null_sender_max = (enum action)a;
	return 0;
}

#define TTL_MAX 604800		/* a week */
#define KEY(n, p, a, r) { .name = n, .parse = p, .arg = a, .repeat = r }
#define NUM(n, t, field, lo, hi) { .name = n, .parse = p_number, .type = t, \
	.off = offsetof(struct config, field), .min = lo, .max = hi }

static const struct keydef keys[] = {
	KEY("Socket", p_socket, 0, 0),
	KEY("PidFile", p_pidfile, 0, 0),
	KEY("UserID", p_user, 0, 0),
	KEY("Syslog", p_syslog, 0, 0),
	KEY("SyslogFacility", p_facility, 0, 0),
	KEY("LogLevel", p_loglevel, 0, 0),
	KEY("CoreDumps", p_coredumps, 0, 0),
	KEY("Database", p_database, 0, 0),
	KEY("List", p_list, LIST_DOMAINS, 1),
	KEY("Fingerprints", p_list, LIST_FINGERPRINTS, 1),
	KEY("Infrastructure", p_list, LIST_INFRA, 1),
	KEY("SourceDir", p_sourcedir, 0, 0),
	NUM("QuorumCurated", NUM_INT, trust.quorum[TIER_CURATED], 0, 64),
	NUM("QuorumCommunity", NUM_INT, trust.quorum[TIER_COMMUNITY], 0, 64),
	NUM("QuorumWeak", NUM_INT, trust.quorum[TIER_WEAK], 0, 64),
	NUM("UpdateMaxShrink", NUM_INT, update.max_shrink, 0, 100), /* % */
	NUM("UpdateMaxGrowth", NUM_INT, update.max_growth, 0, 100000), /* % */
	KEY("UpdateNeverBlock", p_neverblock, 0, 0),
	NUM("UpdateTimeout", NUM_INT, update.timeout, 1, 3600), /* s */
	NUM("UpdateMaxSize", NUM_SIZE, update.max_size, 1, 4096), /* MiB */
	KEY("UpdateCAFile", p_cafile, 0, 0),
	KEY("KeyFile", p_keyfile, 0, 0),
	KEY("HashMode", p_hashmode, 0, 0),
	KEY("SubaddressSeparator", p_separator, 0, 0),
	KEY("HeaderFields", p_headers, 0, 0),
	KEY("ActionDisposable", p_action, CAT_DISPOSABLE, 0),
	KEY("ActionRelay", p_action, CAT_RELAY, 0),
	KEY("ActionInvalid", p_action, CAT_INVALID, 0),
	KEY("ActionClean", p_action, CAT_CLEAN, 0),
	KEY("ActionAllowed", p_action, CAT_ALLOWED, 0),
	KEY("ActionSuspicious", p_action, CAT_SUSPICIOUS, 0),
	KEY("ActionUnknown", p_action, CAT_UNKNOWN, 0),
	KEY("ActionTruncated", p_truncated, 0, 0),
	KEY("NullSenderMaxAction", p_nullmax, 0, 0),
	KEY("RejectReply", p_reply, '5', 0),
	KEY("TempfailReply", p_reply, '4', 0),
	KEY("TagHeader", p_tagheader, 0, 0),
	KEY("StripTagHeader", p_strip, 0, 0),
	KEY("Mode", p_mode, 0, 0),
	KEY("SkipAuthenticated", p_skipauth, 0, 0),
	KEY("OnError", p_onerror, 0, 0),
	KEY("DNS", p_dns, 0, 0),
	KEY("DNSServers", p_dnsservers, 0, 0),
	NUM("DNSTimeout", NUM_INT, dns.timeout_ms, 100, 30000),
	NUM("DNSTries", NUM_INT, dns.tries, 1, 5),
	/* The budget stays well under Postfix's 30 s milter_command_timeout,
	 * or the MTA gives up on the milter first. */
	NUM("DNSBudget", NUM_INT, dns.budget_ms, 100, 25000),
	NUM("DNSCacheSize", NUM_SIZE, dns.cache_size, 0, 10000000),
	NUM("DNSMinTTL", NUM_INT, dns.min_ttl, 0, TTL_MAX),
	NUM("DNSMaxTTL", NUM_INT, dns.max_ttl, 0, TTL_MAX),
	NUM("DNSNegativeTTL", NUM_INT, dns.neg_ttl, 0, TTL_MAX),
	KEY("SPF", p_spf, 0, 0),
	NUM("SPFCacheSize", NUM_SIZE, spf.cache_size, 0, 10000000),
	KEY("Records", p_records, 0, 0),
	NUM("RecordsMapSize", NUM_SIZE, records_mapsize, 1, 1048576), /* MiB */
	NUM("RecordsQueue", NUM_SIZE, rec.queue, 16, 10000000),
	NUM("RecordsBatch", NUM_SIZE, rec.batch, 1, 100000),
	NUM("RecordsInterval", NUM_INT, rec.interval_ms, 10, 60000), /* ms */
	NUM("RetentionDays", NUM_INT, rec.retention_days, 0, 3650), /* 0 = keep */
	KEY("MetricsFile", p_metricsfile, 0, 0),
	NUM("MetricsInterval", NUM_INT, metrics_interval, 1, 86400), /* s */
	NUM("StatsInterval", NUM_INT, stats_interval, 0, 604800), /* s */
};
#define NKEYS (sizeof(keys) / sizeof(keys[0]))

const char *
config_key_name(size_t i)
{
	return i < NKEYS ? keys[i].name : NULL;
}

void
config_default(struct config *c)
{
	memset(c, 0, sizeof(*c));
	memcpy(c->socket, DEF_SOCKET, sizeof(DEF_SOCKET));
	c->syslog = 1;
	c->syslog_facility = LOG_MAIL;
	c->verbose = 0;
	memcpy(c->database, DEF_DATABASE, sizeof(DEF_DATABASE));
	memcpy(c->source_dir, DEF_SOURCEDIR, sizeof(DEF_SOURCEDIR));
	listdb_trust_default(&c->trust);
	listupdate_config_default(&c->update);
	memcpy(c->keyfile, DEF_KEYFILE, sizeof(DEF_KEYFILE));
	c->hash_mode = HASH_HMAC;
	policy_default(&c->policy);
	c->headers = DEF_HEADERS;
	memcpy(c->reject_reply, DEF_REJECT, sizeof(DEF_REJECT));
	memcpy(c->tempfail_reply, DEF_TEMPFAIL, sizeof(DEF_TEMPFAIL));
	memcpy(c->tag_header, DEF_TAG, sizeof(DEF_TAG));
	c->strip_tag = 1;
	c->mode = MODE_ENFORCE;
	c->skip_auth = 1;
	c->on_error = ONERROR_ACCEPT;
	c->dns_enabled = 1;
	c->spf_enabled = 1;
	dns_config_default(&c->dns);
	spf_config_default(&c->spf);
	c->records_mapsize = RECORDS_MAPSIZE_MB;
	recwriter_config_default(&c->rec);
	c->metrics_interval = METRICS_INTERVAL;
	c->stats_interval = STATS_INTERVAL;
}

/* One line, without its newline.  Returns 0, or -1 with err. */
static int
load_line(struct load *L, char *line, unsigned seen[NKEYS])
{
	char *p, *key, *val, *end;
	int quoted = 0;
	size_t i;

	/* A comment starts at a '#' outside double quotes. */
	for (p = line; *p != '\0'; p++) {
		if (*p == '"')
			quoted = !quoted;
		else if (*p == '#' && !quoted) {
			*p = '\0';
			break;
		} else if (((unsigned char)*p < ' ' && *p != '\t' &&
		    *p != '\r') || *p == 0x7f) {
			lerr(L, "control character in line");
			return -1;
		}
	}
	if (quoted) {
		lerr(L, "unterminated quoted value");
		return -1;
	}
	end = line + strlen(line);
	while (end > line && (is_space((unsigned char)end[-1]) ||
	    end[-1] == '\r'))
		*--end = '\0';
	for (p = line; is_space((unsigned char)*p); p++)
		;
	if (*p == '\0')
		return 0;
	if (strchr(p, '\r') != NULL) {
		lerr(L, "control character in line");
		return -1;
	}

	key = p;
	while (*p != '\0' && !is_space((unsigned char)*p))
		p++;
	if (*p != '\0')
		*p++ = '\0';
	while (is_space((unsigned char)*p))
		p++;
	val = p;

	for (i = 0; i < NKEYS; i++)
		if (strcasecmp(key, keys[i].name) == 0)
			break;
	if (i == NKEYS) {
		lerr(L, "unknown key '%.64s'", key);
		return -1;
	}
	L->key = &keys[i];
	if (*val == '"') {
		end = val + strlen(val);
		if (end - val < 2 || end[-1] != '"') {
			lerr(L, "%s: text after the closing quote",
			    keys[i].name);
			return -1;
		}
		*--end = '\0';
		val++;
	}
	if (*val == '\0') {
		lerr(L, "missing value for %s", keys[i].name);
		return -1;
	}
	if (seen[i] != 0 && !keys[i].repeat) {
		lerr(L, "%s given twice (first on line %u)", keys[i].name,
		    seen[i]);
		return -1;
	}
	seen[i] = L->line;
	L->value = val;
	return keys[i].parse(L, val);
}

int
config_load(const char *path, struct config *c, char *err, size_t errlen)
{
	struct load L;
	unsigned seen[NKEYS];
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	FILE *f;
	int rc = -1;

	memset(&L, 0, sizeof(L));
	memset(seen, 0, sizeof(seen));
	L.path = path;
	L.err = err;
	L.errlen = errlen;
	if ((f = fopen(path, "re")) == NULL) {
		seterr(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	/* Work on a copy: a bad file must not leave a half-loaded config. */
	if ((L.c = malloc(sizeof(*L.c))) == NULL) {
		seterr(err, errlen, "%s: %s", path, strerror(errno));
		goto out;
	}
	memcpy(L.c, c, sizeof(*c));
	/* A file's List lines replace the lists, not add to them. */
	L.c->nlists = 0;

	while (errno = 0, (n = getline(&line, &cap, f)) != -1) {
		char *s = line;

		L.line++;
		if (n > 0 && line[n - 1] == '\n')
			line[--n] = '\0';
		if ((size_t)n > CONF_LINE_MAX) {
			lerr(&L, "line too long (more than %d bytes)",
			    CONF_LINE_MAX);
			goto out;
		}
		if (strlen(line) != (size_t)n) {
			lerr(&L, "NUL byte in line");
			goto out;
		}
		/* An editor's UTF-8 byte order mark is not part of a key. */
		if (L.line == 1 && strncmp(s, "\xef\xbb\xbf", 3) == 0)
			s += 3;
		if (load_line(&L, s, seen) != 0)
			goto out;
	}
	if (ferror(f) || errno == ENOMEM) {
		seterr(err, errlen, "%s: %s", path,
		    strerror(errno ? errno : EIO));
		goto out;
	}
	if (remote_paths(L.c) != 0) {
		seterr(err, errlen, "%s: SourceDir: path too long for the "
		    "remote lists' copies", path);
		goto out;
	}
	memcpy(c, L.c, sizeof(*c));
	rc = 0;
out:
	free(line);
	free(L.c);
	fclose(f);
	return rc;
}

/* Every number in its key's range. */
static int
check_numbers(const struct config *c, char *err, size_t errlen)
{
	for (size_t i = 0; i < NKEYS; i++) {
		const struct keydef *k = &keys[i];
		const char *field = (const char *)c + k->off;
		long long v;

		if (k->type == NUM_NONE)
			continue;
		if (k->type == NUM_INT)
			v = *(const int *)(const void *)field;
		else
			v = *(const size_t *)(const void *)field > LONG_MAX ?
			    -1 : (long long)*(const size_t *)(const void *)field;
		if (v < k->min || v > k->max) {
			seterr(err, errlen, "%s: expected a number from %ld "
			    "to %ld", k->name, k->min, k->max);
			return -1;
		}
	}
	return 0;
}

static int
check_dns(const struct config *c, char *err, size_t errlen)
{
	const struct dns_config *d = &c->dns;
	char why[256];

	if ((c->dns_enabled != 0 && c->dns_enabled != 1) ||
	    (c->spf_enabled != 0 && c->spf_enabled != 1)) {
		seterr(err, errlen, "%s: expected yes or no",
		    c->dns_enabled != 0 && c->dns_enabled != 1 ? "DNS" :
		    "SPF");
		return -1;
	}
	if (memchr(d->servers, '\0', sizeof(d->servers)) == NULL ||
	    check_servers(d->servers, NULL, 0, why, sizeof(why)) != 0) {
		seterr(err, errlen, "DNSServers: %s", why);
		return -1;
	}
	if (d->min_ttl > d->max_ttl) {
		seterr(err, errlen, "DNSMinTTL: %d is more than DNSMaxTTL "
		    "%d", d->min_ttl, d->max_ttl);
		return -1;
	}
	return 0;
}

int
config_user_ids(const struct config *c, uid_t *uid, gid_t *gid, char *err,
    size_t errlen)
{
	char user[sizeof(c->user)], *group;
	struct passwd *pw;
	struct group *gr;

	if (c->user[0] == '\0')
		return 1;
	snprintf(user, sizeof(user), "%s", c->user);
	if ((group = strchr(user, ':')) != NULL)
		*group++ = '\0';
	if ((pw = getpwnam(user)) == NULL) {
		seterr(err, errlen, "UserID %s: no such user", user);
		return -1;
	}
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
	if (group != NULL) {
		if ((gr = getgrnam(group)) == NULL) {
			seterr(err, errlen, "UserID %s: no such group",
			    c->user);
			return -1;
		}
		*gid = gr->gr_gid;
	}
	return 0;
}

int
config_check(const struct config *c, char *err, size_t errlen)
{
	char why[256];
	unsigned valid = 0;

	if (check_socket(c->socket, why, sizeof(why)) != 0) {
		seterr(err, errlen, "Socket: %s", why);
		return -1;
	}
	if (c->user[0] != '\0' && check_user(c->user) != 0) {
		seterr(err, errlen, "UserID: expected USER or USER:GROUP");
		return -1;
	}
	if (c->verbose < 0 || c->verbose > 2) {
		seterr(err, errlen, "LogLevel: expected 0, 1 or 2");
		return -1;
	}
	if (c->database[0] == '\0') {
		seterr(err, errlen, "Database: no path");
		return -1;
	}
	if (c->nlists > CONFIG_MAX_LISTS) {
		seterr(err, errlen, "List: more than %d", CONFIG_MAX_LISTS);
		return -1;
	}
	for (size_t i = 0; i < c->nlists; i++) {
		const struct config_list *l = &c->lists[i];

		if (!listdb_category_listable(l->category, l->kind)) {
			seterr(err, errlen, "List %zu: category %s cannot be "
			    "listed in %s", i + 1, category_name(l->category),
			    list_kind_name(l->kind));
			return -1;
		}
		if ((unsigned)l->tier >= TIER_COUNT) {
			seterr(err, errlen, "List %zu: bad tier", i + 1);
			return -1;
		}
		if (check_source(l->source) != 0 || l->path[0] == '\0') {
			seterr(err, errlen, "List %zu: bad source name or "
			    "no path", i + 1);
			return -1;
		}
		for (size_t j = 0; j < i; j++)
			if (strcmp(c->lists[j].source, l->source) == 0) {
				seterr(err, errlen, "List: source '%s' "
				    "given twice", l->source);
				return -1;
			}
		/* The build renames its output over Database: a list there
		 * would be destroyed by the first build. */
		if (strcmp(l->path, c->database) == 0) {
			seterr(err, errlen, "List: source '%s' reads the "
			    "Database file %s", l->source, c->database);
			return -1;
		}
	}
	if (c->hash_mode != HASH_HMAC && c->hash_mode != HASH_SHA256) {
		seterr(err, errlen, "HashMode: expected hmac or sha256");
		return -1;
	}
	if (c->hash_mode == HASH_HMAC && c->keyfile[0] == '\0') {
		seterr(err, errlen, "KeyFile: HashMode hmac needs a key "
		    "file");
		return -1;
	}
	if (check_separator(c->policy.subaddr_sep) != 0) {
		seterr(err, errlen, "SubaddressSeparator: not a letter, "
		    "digit or '@'");
		return -1;
	}
	for (int r = 0; r < ROLE_COUNT; r++)
		if (r != ROLE_ENVELOPE)
			valid |= 1u << r;
	if ((c->headers & ~valid) != 0) {
		seterr(err, errlen, "HeaderFields: expected "
		    EXPECT_HEADERS);
		return -1;
	}
	for (int k = 0; k < CAT_COUNT; k++)
		if ((unsigned)c->policy.action[k] >= ACT_COUNT) {
			seterr(err, errlen, "Action%c%s: expected "
			    EXPECT_ACTION, category_name(k)[0] - 'a' + 'A',
			    category_name(k) + 1);
			return -1;
		}
	if (check_reply(c->reject_reply, '5', why, sizeof(why)) != 0) {
		seterr(err, errlen, "RejectReply: %s", why);
		return -1;
	}
	if (check_reply(c->tempfail_reply, '4', why, sizeof(why)) != 0) {
		seterr(err, errlen, "TempfailReply: %s", why);
		return -1;
	}
	if (check_tag_header(c->tag_header, why, sizeof(why)) != 0) {
		seterr(err, errlen, "TagHeader: expected %s", why);
		return -1;
	}
	if (c->mode != MODE_ENFORCE && c->mode != MODE_OBSERVE) {
		seterr(err, errlen, "Mode: expected enforce or observe");
		return -1;
	}
	if (c->on_error != ONERROR_ACCEPT && c->on_error != ONERROR_TEMPFAIL) {
		seterr(err, errlen, "OnError: expected accept or tempfail");
		return -1;
	}
	if ((unsigned)c->policy.truncated >= ACT_COUNT) {
		seterr(err, errlen, "ActionTruncated: expected "
		    EXPECT_ACTION);
		return -1;
	}
	if ((unsigned)c->policy.null_sender_max >= ACT_COUNT) {
		seterr(err, errlen, "NullSenderMaxAction: expected "
		    EXPECT_ACTION);
		return -1;
	}
	if (check_numbers(c, err, errlen) != 0)
		return -1;
	return check_dns(c, err, errlen);
}

int
config_split_reply(const char *reply, char code[4], char xcode[16],
    const char **text)
{
	char why[128];

	return parse_reply(reply, 0, code, xcode, text, why, sizeof(why));
}
