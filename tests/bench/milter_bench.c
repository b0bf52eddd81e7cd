/*
 * milter_bench - drive a milter like an MTA, as fast as it answers.
 *
 *	milter_bench [-s socket] [-c connections] [-n messages]
 *	    [-m per-connection] [-f sender-domains] [-H header-file]
 *
 * Speaks the milter protocol (version 6) itself over a unix or inet
 * socket: option negotiation, then per connection CONNECT and HELO, and
 * per message the MAIL macros ("i", the queue id), MAIL, RCPT, DATA, three
 * headers (From, Reply-To, Subject: the sender's address in the first
 * two), EOH, one BODY chunk and EOM, each only when the milter did not
 * negotiate it away, and waiting for a reply only where it did not
 * negotiate "no reply".  Modification actions before the final EOM reply
 * are counted.  A message ended early (reject, tempfail, accept, discard)
 * is followed by ABORT, as an MTA does before the next transaction.
 *
 * The connections run in parallel threads, each sending up to
 * per-connection messages before it reconnects, until the total is sent.
 * Message k uses sender domain k modulo the list, so the mix is exact:
 * "sent:" gives messages per category of sender domain, "final:" the end
 * of each message, "mods:" the modifications.  The sender-domains file
 * holds lines "category domain" (category as the milter names it:
 * clean, disposable, relay, allowed); "#" comments.  Without -f a
 * built-in mix matching tests/support/common.sh's test lists is used.
 * -H adds the header fields of a file to every message, after the
 * three: one "Name: value" a line, the value as long as it likes (up
 * to the 1 MiB a packet may hold), so that big fields can be measured
 * and tested (miltertest cannot send a value over 1 KB).
 *
 * Prints the rate and the counts; exits 0, or 1 after any protocol or
 * connection error (counted in "errors:"), 2 on usage.
 *
 * A benchmark and a test tool: it assumes a well-behaved milter and
 * stops a connection at the first thing it does not understand.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libmilter/mfapi.h>	/* SMFIF_*: only the constants */
#include <libmilter/mfdef.h>

#define MAX_DOMAINS	256
#define MAX_CATS	16
#define MAX_PACKET	(1024 * 1024)

/* What a real MTA offers: every step can be switched off or left
 * without reply; header values without their leading space. */
#define OFFER_PROT	(SMFIP_NOCONNECT | SMFIP_NOHELO | SMFIP_NOMAIL | \
	SMFIP_NORCPT | SMFIP_NOBODY | SMFIP_NOHDRS | SMFIP_NOEOH | \
	SMFIP_NR_HDR | SMFIP_NOUNKNOWN | SMFIP_NODATA | SMFIP_SKIP | \
	SMFIP_NR_CONN | SMFIP_NR_HELO | SMFIP_NR_MAIL | SMFIP_NR_RCPT | \
	SMFIP_NR_DATA | SMFIP_NR_UNKN | SMFIP_NR_EOH | SMFIP_NR_BODY | \
	SMFIP_HDR_LEADSPC)
#define OFFER_ACTS	(SMFIF_ADDHDRS | SMFIF_CHGBODY | SMFIF_ADDRCPT | \
	SMFIF_DELRCPT | SMFIF_CHGHDRS | SMFIF_QUARANTINE | SMFIF_CHGFROM | \
	SMFIF_ADDRCPT_PAR | SMFIF_SETSYMLIST)

struct domain {
	char	cat[32];
	char	name[256];
	int	cati;
};

static struct domain domains[MAX_DOMAINS];
static size_t ndomains;
static char cats[MAX_CATS][32];
static size_t ncats;

/* The -H header fields: name and value of each. */
struct xheader {
	char	*name, *value;
	size_t	 len;		/* of "name\0 value\0", a leading space
				   included */
};
static struct xheader *xheaders;
static size_t nxheaders, xheader_max;

static const char *sockspec =
    "unix:/var/spool/postfix/disposable-milter/disposable-milter.sock";
static long total = 1000, per_conn = 100;
static _Atomic long next_msg;

/* Counts, per connection thread, summed at the end. */
enum { F_ACCEPT, F_REJECT, F_TEMPFAIL, F_DISCARD, F_COUNT };
static const char *const final_names[F_COUNT] = {
	"accepted", "rejected", "tempfailed", "discarded"
};

struct counts {
	long	sent[MAX_CATS];
	long	final[F_COUNT];
	long	byreply[128];		/* per reply command character */
	long	addheader, insheader, chgheader, othermod;
	long	early;			/* messages ended before EOM */
	long	done, errors;
};

static struct counts sum;
static pthread_mutex_t sum_lock = PTHREAD_MUTEX_INITIALIZER;

struct conn {
	int		fd;
	unsigned long	prot, acts;
	char		out[65536];
	size_t		outlen;
	char		*in;
	char		*xbuf;		/* one -H field's packet data */
	struct counts	c;
};

static void
warnx_(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
warnx_(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("milter_bench: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static int
write_all(int fd, const char *p, size_t len)
{
	ssize_t n;

	while (len > 0) {
		n = write(fd, p, len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int
read_all(int fd, char *p, size_t len)
{
	ssize_t n;

	while (len > 0) {
		n = read(fd, p, len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Packets that need no reply wait in the buffer and go out with the next
 * one that does: one write per reply, as an MTA with its own buffering. */
static int
flush(struct conn *k)
{
	int rc = write_all(k->fd, k->out, k->outlen);

	k->outlen = 0;
	return rc;
}

/* Queue one packet: command and its data parts, each given with its
 * length (NUL terminators are part of the data where the protocol wants
 * them). */
static int
queue(struct conn *k, char cmd, const char *data, size_t len)
{
	uint32_t n = htonl((uint32_t)(len + 1));

	if (k->outlen + 5 + len > sizeof(k->out) && flush(k) != 0)
		return -1;
	if (5 + len > sizeof(k->out)) {
		/* A big header field: written at once, unbuffered. */
		char head[5];

		if (len + 1 > MAX_PACKET)
			return -1;
		memcpy(head, &n, 4);
		head[4] = cmd;
		return write_all(k->fd, head, 5) != 0 ||
		    write_all(k->fd, data, len) != 0 ? -1 : 0;
	}
	memcpy(k->out + k->outlen, &n, 4);
	k->out[k->outlen + 4] = cmd;
	memcpy(k->out + k->outlen + 5, data, len);
	k->outlen += 5 + len;
	return 0;
}

/* Read one reply packet: its command in *cmd, its data in k->in. */
static int
reply(struct conn *k, char *cmd, size_t *len)
{
	uint32_t n;

	if (k->outlen > 0 && flush(k) != 0)
		return -1;
	if (read_all(k->fd, (char *)&n, 4) != 0)
		return -1;
	n = ntohl(n);
	if (n < 1 || n > MAX_PACKET)
		return -1;
	if (read_all(k->fd, cmd, 1) != 0 ||
	    read_all(k->fd, k->in, n - 1) != 0)
		return -1;
	k->in[n - 1] = '\0';
	*len = n - 1;
	if ((unsigned char)*cmd < 128)
		k->c.byreply[(unsigned char)*cmd]++;
	return 0;
}

/* The end a reply gives a message; -1 for "go on". */
static int
reply_final(struct conn *k, char cmd)
{
	switch (cmd) {
	case SMFIR_ACCEPT:
		return F_ACCEPT;
	case SMFIR_REJECT:
		return F_REJECT;
	case SMFIR_TEMPFAIL:
		return F_TEMPFAIL;
	case SMFIR_DISCARD:
		return F_DISCARD;
	case SMFIR_REPLYCODE:
		return k->in[0] == '4' ? F_TEMPFAIL : F_REJECT;
	default:
		return -1;
	}
}

/* Send a step that may be answered, and read the answer unless nr.
 * Returns -1 to go on, F_* when the message ended, -2 on error. */
static int
step(struct conn *k, char cmd, const char *data, size_t len, int nr)
{
	char r;
	size_t rlen;
	int f;

	if (queue(k, cmd, data, len) != 0)
		return -2;
	if (nr)
		return -1;
	for (;;) {
		if (reply(k, &r, &rlen) != 0)
			return -2;
		if (r == SMFIR_PROGRESS)
			continue;
		if (r == SMFIR_CONTINUE || r == SMFIR_SKIP)
			return -1;
		if ((f = reply_final(k, r)) >= 0)
			return f;
		warnx_("unexpected reply '%c' to command '%c'", r, cmd);
		return -2;
	}
}

static int
negotiate(struct conn *k)
{
	uint32_t v[3];
	char r;
	size_t len;

	v[0] = htonl(SMFI_PROT_VERSION);
	v[1] = htonl(OFFER_ACTS);
	v[2] = htonl(OFFER_PROT);
	if (queue(k, SMFIC_OPTNEG, (const char *)v, sizeof(v)) != 0 ||
	    reply(k, &r, &len) != 0)
		return -1;
	/* Version 6 may append the macros wanted per stage; we send "i"
	 * wherever an MTA would and ignore the list. */
	if (r != SMFIC_OPTNEG || len < 12) {
		warnx_("bad option negotiation reply '%c' (%zu bytes)", r, len);
		return -1;
	}
	memcpy(v, k->in, sizeof(v));
	k->acts = ntohl(v[1]);
	k->prot = ntohl(v[2]);
	if ((k->prot & ~(unsigned long)OFFER_PROT) != 0) {
		warnx_("milter asks for protocol flags not offered: %#lx",
		    k->prot & ~(unsigned long)OFFER_PROT);
		return -1;
	}
	return 0;
}

static int
connect_to(const char *spec)
{
	struct sockaddr_un sun;
	struct sockaddr_in sin;
	struct timeval tv = { 30, 0 };
	const char *p, *at;
	int fd, one = 1;

	if (strncmp(spec, "unix:", 5) == 0 || strncmp(spec, "local:", 6) == 0) {
		p = strchr(spec, ':') + 1;
		memset(&sun, 0, sizeof(sun));
		sun.sun_family = AF_UNIX;
		if (strlen(p) >= sizeof(sun.sun_path))
			return -1;
		strcpy(sun.sun_path, p);
		if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
			return -1;
		if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
			close(fd);
			return -1;
		}
	} else if (strncmp(spec, "inet:", 5) == 0) {
		p = spec + 5;
		memset(&sin, 0, sizeof(sin));
		sin.sin_family = AF_INET;
		sin.sin_port = htons((uint16_t)atoi(p));
		at = strchr(p, '@');
		if (inet_pton(AF_INET, at != NULL ? at + 1 : "127.0.0.1",
		    &sin.sin_addr) != 1)
			return -1;
		if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
			return -1;
		/* We batch packets ourselves; Nagle would only add the
		 * delayed-ACK stall (REFERENCE.md, Postfix). */
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1) {
			close(fd);
			return -1;
		}
	} else
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return fd;
}

/* Append name\0value\0 at *o in buf. */
static void
put2(char *buf, size_t *o, size_t size, const char *a, const char *b)
{
	size_t la = strlen(a) + 1, lb = strlen(b) + 1;

	if (*o + la + lb > size)
		return;
	memcpy(buf + *o, a, la);
	memcpy(buf + *o + la, b, lb);
	*o += la + lb;
}

/* One message; 0, or -1 when the connection is no longer usable. */
static int
message(struct conn *k, long i)
{
	const struct domain *d = &domains[(size_t)i % ndomains];
	unsigned long p = k->prot;
	const char *lead = p & SMFIP_HDR_LEADSPC ? " " : "";
	char addr[300], qid[32], buf[1024], val[400];
	size_t o;
	int f = -1;

	snprintf(addr, sizeof(addr), "user%ld@%s", i, d->name);
	snprintf(qid, sizeof(qid), "B%09lX", i);
	k->c.sent[d->cati]++;

	o = 0;
	buf[o++] = SMFIC_MAIL;
	put2(buf, &o, sizeof(buf), "i", qid);
	put2(buf, &o, sizeof(buf), "{mail_addr}", addr);
	if (queue(k, SMFIC_MACRO, buf, o) != 0)
		return -1;
	if (!(p & SMFIP_NOMAIL)) {
		o = (size_t)snprintf(buf, sizeof(buf), "<%s>", addr) + 1;
		f = step(k, SMFIC_MAIL, buf, o, (p & SMFIP_NR_MAIL) != 0);
	}
	if (f == -1 && !(p & SMFIP_NORCPT)) {
		static const char rcpt[] = "<postmaster@bench.test>";

		f = step(k, SMFIC_RCPT, rcpt, sizeof(rcpt),
		    (p & SMFIP_NR_RCPT) != 0);
	}
	if (f == -1 && !(p & SMFIP_NODATA))
		f = step(k, SMFIC_DATA, "", 0, (p & SMFIP_NR_DATA) != 0);
	if (f == -1 && !(p & SMFIP_NOHDRS)) {
		const char *hv[3][2] = {
			{ "From", NULL }, { "Reply-To", NULL },
			{ "Subject", NULL }
		};
		char from[350], subj[64];

		snprintf(from, sizeof(from), "%sBench <%s>", lead, addr);
		snprintf(subj, sizeof(subj), "%sbench message %ld", lead, i);
		hv[0][1] = from;
		hv[1][1] = from;
		hv[2][1] = subj;
		for (int h = 0; h < 3 && f == -1; h++) {
			o = 0;
			put2(val, &o, sizeof(val), hv[h][0], hv[h][1]);
			f = step(k, SMFIC_HEADER, val, o,
			    (p & SMFIP_NR_HDR) != 0);
		}
		for (size_t h = 0; h < nxheaders && f == -1; h++) {
			const struct xheader *x = &xheaders[h];
			size_t nl = strlen(x->name) + 1;

			memcpy(k->xbuf, x->name, nl);
			o = nl;
			if (*lead != '\0')
				k->xbuf[o++] = ' ';
			memcpy(k->xbuf + o, x->value, strlen(x->value) + 1);
			o += strlen(x->value) + 1;
			f = step(k, SMFIC_HEADER, k->xbuf, o,
			    (p & SMFIP_NR_HDR) != 0);
		}
	}
	if (f == -1 && !(p & SMFIP_NOEOH)) {
		o = 0;
		buf[o++] = SMFIC_EOH;
		put2(buf, &o, sizeof(buf), "i", qid);
		if (queue(k, SMFIC_MACRO, buf, o) != 0)
			return -1;
		f = step(k, SMFIC_EOH, "", 0, (p & SMFIP_NR_EOH) != 0);
	}
	if (f == -1 && !(p & SMFIP_NOBODY)) {
		static const char body[] = "A line of body.\r\n";

		f = step(k, SMFIC_BODY, body, sizeof(body) - 1,
		    (p & SMFIP_NR_BODY) != 0);
	}
	if (f == -2)
		return -1;
	if (f >= 0) {
		k->c.final[f]++;
		k->c.early++;
		/* End the transaction the milter has left. */
		if (queue(k, SMFIC_ABORT, "", 0) != 0)
			return -1;
		k->c.done++;
		return 0;
	}

	o = 0;
	buf[o++] = SMFIC_BODYEOB;
	put2(buf, &o, sizeof(buf), "i", qid);
	if (queue(k, SMFIC_MACRO, buf, o) != 0 ||
	    queue(k, SMFIC_BODYEOB, "", 0) != 0)
		return -1;
	for (;;) {
		char r;
		size_t rlen;

		if (reply(k, &r, &rlen) != 0)
			return -1;
		switch (r) {
		case SMFIR_ADDHEADER:
			k->c.addheader++;
			continue;
		case SMFIR_INSHEADER:
			k->c.insheader++;
			continue;
		case SMFIR_CHGHEADER:
			k->c.chgheader++;
			continue;
		case SMFIR_PROGRESS:
			continue;
		case SMFIR_ADDRCPT: case SMFIR_DELRCPT: case SMFIR_ADDRCPT_PAR:
		case SMFIR_REPLBODY: case SMFIR_CHGFROM: case SMFIR_QUARANTINE:
			k->c.othermod++;
			continue;
		case SMFIR_CONTINUE:
			f = F_ACCEPT;
			break;
		default:
			if ((f = reply_final(k, r)) < 0) {
				warnx_("unexpected reply '%c' to end of "
				    "message", r);
				return -1;
			}
		}
		break;
	}
	k->c.final[f]++;
	k->c.done++;
	return 0;
}

/* One connection: negotiate, CONNECT, HELO, up to per_conn messages,
 * QUIT.  Returns 0 when there is nothing more to send, 1 when there may
 * be, -1 on error. */
static int
session(struct conn *k)
{
	static const char connect_data[] = "bench.test\0" "4" "\x00\x19"
	    "127.0.0.1";
	static const char helo[] = "bench.test";
	unsigned long p;
	long i, sent = 0;

	errno = 0;
	int f;

	/* Claim the first message before connecting: no empty sessions
	 * at the end of the run. */
	if ((i = atomic_fetch_add(&next_msg, 1)) >= total)
		return 0;
	if ((k->fd = connect_to(sockspec)) == -1) {
		warnx_("%s: cannot connect: %s", sockspec, strerror(errno));
		return -1;
	}
	k->outlen = 0;
	if (negotiate(k) != 0)
		goto fail;
	p = k->prot;
	if (!(p & SMFIP_NOCONNECT)) {
		f = step(k, SMFIC_CONNECT, connect_data, sizeof(connect_data),
		    (p & SMFIP_NR_CONN) != 0);
		if (f != -1)
			goto fail;
	}
	if (!(p & SMFIP_NOHELO)) {
		f = step(k, SMFIC_HELO, helo, sizeof(helo),
		    (p & SMFIP_NR_HELO) != 0);
		if (f != -1)
			goto fail;
	}
	for (;;) {
		if (message(k, i) != 0) {
			warnx_("message %ld: connection failed (%s)", i,
			    errno ? strerror(errno) : "protocol");
			goto fail;
		}
		if (++sent == per_conn ||
		    (i = atomic_fetch_add(&next_msg, 1)) >= total)
			break;
	}
	if (queue(k, SMFIC_QUIT, "", 0) != 0 || flush(k) != 0)
		goto fail;
	close(k->fd);
	return 1;
fail:
	close(k->fd);
	return -1;
}

static void *
worker(void *arg)
{
	struct conn *k = arg;
	int rc;

	while ((rc = session(k)) == 1)
		;
	if (rc < 0)
		k->c.errors++;
	pthread_mutex_lock(&sum_lock);
	for (size_t i = 0; i < MAX_CATS; i++)
		sum.sent[i] += k->c.sent[i];
	for (int i = 0; i < F_COUNT; i++)
		sum.final[i] += k->c.final[i];
	for (int i = 0; i < 128; i++)
		sum.byreply[i] += k->c.byreply[i];
	sum.addheader += k->c.addheader;
	sum.insheader += k->c.insheader;
	sum.chgheader += k->c.chgheader;
	sum.othermod += k->c.othermod;
	sum.early += k->c.early;
	sum.done += k->c.done;
	sum.errors += k->c.errors;
	pthread_mutex_unlock(&sum_lock);
	return NULL;
}

static int
add_domain(const char *cat, const char *name)
{
	size_t c;

	if (ndomains == MAX_DOMAINS || strlen(cat) >= sizeof(cats[0]) ||
	    strlen(name) >= sizeof(domains[0].name))
		return -1;
	for (c = 0; c < ncats; c++)
		if (strcmp(cats[c], cat) == 0)
			break;
	if (c == ncats) {
		if (ncats == MAX_CATS)
			return -1;
		snprintf(cats[ncats++], sizeof(cats[0]), "%s", cat);
	}
	snprintf(domains[ndomains].cat, sizeof(domains[0].cat), "%s", cat);
	snprintf(domains[ndomains].name, sizeof(domains[0].name), "%s", name);
	domains[ndomains].cati = (int)c;
	ndomains++;
	return 0;
}

static int
load_domains(const char *path)
{
	char line[512], cat[64], name[300];
	FILE *f;
	int lineno = 0;

	if ((f = fopen(path, "r")) == NULL) {
		warnx_("%s: %s", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		lineno++;
		if (line[strspn(line, " \t")] == '#' ||
		    line[strspn(line, " \t\r\n")] == '\0')
			continue;
		if (sscanf(line, "%63s %299s", cat, name) != 2 ||
		    add_domain(cat, name) != 0) {
			warnx_("%s:%d: expected \"category domain\"", path,
			    lineno);
			fclose(f);
			return -1;
		}
	}
	fclose(f);
	return 0;
}

/* -H: "Name: value" lines. */
static int
load_headers(const char *path)
{
	FILE *f;
	char *line = NULL, *colon;
	size_t cap = 0;
	ssize_t n;
	int lineno = 0;

	if ((f = fopen(path, "r")) == NULL) {
		warnx_("%s: %s", path, strerror(errno));
		return -1;
	}
	while ((n = getline(&line, &cap, f)) != -1) {
		struct xheader *x;

		lineno++;
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		if ((colon = strchr(line, ':')) == NULL || colon == line ||
		    (size_t)n + 3 > MAX_PACKET) {
			warnx_("%s:%d: expected \"Name: value\" of at most "
			    "1 MiB", path, lineno);
			goto fail;
		}
		*colon++ = '\0';
		colon += strspn(colon, " \t");
		if ((x = realloc(xheaders, (nxheaders + 1) *
		    sizeof(*x))) == NULL)
			goto fail;
		xheaders = x;
		x = &xheaders[nxheaders];
		if ((x->name = strdup(line)) == NULL ||
		    (x->value = strdup(colon)) == NULL)
			goto fail;
		x->len = strlen(x->name) + strlen(x->value) + 3;
		if (x->len > xheader_max)
			xheader_max = x->len;
		nxheaders++;
	}
	free(line);
	fclose(f);
	return 0;
fail:
	free(line);
	fclose(f);
	return -1;
}

static void
usage(void)
{
	fprintf(stderr, "usage: milter_bench [-s unix:/path|inet:port@host] "
	    "[-c connections] [-n messages] [-m per-connection] "
	    "[-f sender-domains] [-H header-file]\n");
	exit(2);
}

int
main(int argc, char *argv[])
{
	struct timespec t0, t1;
	struct conn *k;
	pthread_t *th;
	const char *dfile = NULL, *hfile = NULL;
	long nconn = 4;
	double secs;
	int ch;

	while ((ch = getopt(argc, argv, "s:c:n:m:f:H:")) != -1) {
		switch (ch) {
		case 's': sockspec = optarg; break;
		case 'c': nconn = atol(optarg); break;
		case 'n': total = atol(optarg); break;
		case 'm': per_conn = atol(optarg); break;
		case 'f': dfile = optarg; break;
		case 'H': hfile = optarg; break;
		default: usage();
		}
	}
	if (optind != argc || nconn < 1 || nconn > 1000 || total < 0 ||
	    per_conn < 1)
		usage();
	if (dfile != NULL) {
		if (load_domains(dfile) != 0)
			return 2;
	} else {
		/* The domains of tests/support/common.sh's dm_write_lists. */
		add_domain("clean", "example.org");
		add_domain("disposable", "mailinator.com");
		add_domain("clean", "bench.example.net");
		add_domain("relay", "relay.test");
		add_domain("disposable", "x.tempmail.test");
		add_domain("allowed", "good.mailinator.com");
	}
	if (ndomains == 0) {
		warnx_("no sender domains");
		return 2;
	}
	if (hfile != NULL && load_headers(hfile) != 0)
		return 2;
	if ((k = calloc((size_t)nconn, sizeof(*k))) == NULL ||
	    (th = calloc((size_t)nconn, sizeof(*th))) == NULL)
		return 1;
	for (long i = 0; i < nconn; i++)
		if ((k[i].in = malloc(MAX_PACKET + 1)) == NULL ||
		    (k[i].xbuf = malloc(xheader_max + 1)) == NULL)
			return 1;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (long i = 0; i < nconn; i++)
		if (pthread_create(&th[i], NULL, worker, &k[i]) != 0) {
			warnx_("cannot start thread %ld", i);
			return 1;
		}
	for (long i = 0; i < nconn; i++)
		pthread_join(th[i], NULL);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;

	printf("milter_bench: %ld messages, %ld connections (%ld messages "
	    "each at most), %s: %.2f s, %.0f msg/s\n", sum.done, nconn,
	    per_conn, sockspec, secs, secs > 0 ? (double)sum.done / secs : 0);
	printf("sent:");
	for (size_t c = 0; c < ncats; c++)
		printf(" %s=%ld", cats[c], sum.sent[c]);
	printf("\nfinal:");
	for (int f = 0; f < F_COUNT; f++)
		printf(" %s=%ld", final_names[f], sum.final[f]);
	printf(" early=%ld\n", sum.early);
	printf("mods: addheader=%ld insheader=%ld chgheader=%ld other=%ld\n",
	    sum.addheader, sum.insheader, sum.chgheader, sum.othermod);
	printf("replies:");
	for (int r = 1; r < 128; r++)
		if (sum.byreply[r] > 0)
			printf(" %c=%ld", r, sum.byreply[r]);
	printf("\nerrors: %ld\n", sum.errors);
	for (long i = 0; i < nconn; i++) {
		free(k[i].in);
		free(k[i].xbuf);
	}
	for (size_t h = 0; h < nxheaders; h++) {
		free(xheaders[h].name);
		free(xheaders[h].value);
	}
	free(xheaders);
	free(k);
	free(th);
	return sum.errors > 0 || sum.done != total ? 1 : 0;
}
