/*
 * listbuild.c - compile text lists into the list database (see listdb.h).
 *
 * NAME
 *	listdb_build
 *
 * DESCRIPTION
 *	Every input line is read, normalised and checked before anything is
 *	written, so one bad line in any file is reported with its file and
 *	line and, without LISTDB_BUILD_SKIP_BAD, leaves no database behind.
 *	The entries are then held in memory, sorted once and merged, and
 *	written in a single write transaction with MDB_APPEND: a build of a
 *	few hundred thousand names costs one sort and one sync, not one
 *	transaction per name.
 *
 *	The database is written to "PATH.tmp.PID" without a lock file
 *	(MDB_NOLOCK: nobody else may open it), given its checksum trailer
 *	(listdb_format.h; read back from the file LMDB wrote, so the sum is
 *	of what is on disk), synced, and renamed over PATH.
 *	A reader that has the old file open keeps its mapping of the old
 *	inode; a new open sees the new file.  Any failure removes the
 *	temporary file and leaves PATH as it was.
 *
 *	per_category in the report counts distinct domains carrying each
 *	category; a domain listed as both disposable and relay counts in
 *	both.
 *
 *	Fingerprint lists (listdb_input.fingerprints) are read into their
 *	own array, each line turned into its binary key at once, then sorted
 *	in LMDB's key order and appended to the "fp" table.  A fingerprint
 *	listed by several sources is one record naming them all: relay wins
 *	over disposable, as for domains, and weak wins over strong (a source
 *	that knows the infrastructure to be shared is the one to believe,
 *	since a strong fingerprint rejects mail on its own); the
 *	disagreement is a warning.  A build without fingerprints writes no
 *	"fp" table at all, exactly like a database from before they existed.
 *
 * DIAGNOSTICS
 *	One line per problem through the caller's diag function: refusals
 *	(is_error 1) as "file:line: 'name' reason", warnings (is_error 0) for
 *	duplicates within a source, for names both allowed and blocked and
 *	for fingerprints whose sources disagree,
 *	and errors naming the file for what cannot be read or written.  A
 *	line that looks like a mail address is reported without its text.
 */
#include "config.h"

#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <lmdb.h>

#include "category.h"
#include "domain.h"
#include "listbuild.h"
#include "listdb.h"
#include "listdb_format.h"
#include "util.h"

#define NSOURCES_MAX	LISTDB_BUILD_MAX_INPUTS
#define MAPSIZE_MIN	((size_t)64 << 20)
#define FP_SHOW_MAX	(DOMAIN_MAX + 8)	/* "spf *.host" */

struct item {
	union {
		size_t		 off;	/* into the arena while reading */
		const char	*dom;	/* after the arena stops moving */
	} u;
	uint32_t	line;
	uint16_t	src;
};

/* One fingerprint line, its key already in the database's form. */
struct fpitem {
	unsigned char	key[LISTDB_FP_KEY_MAX];
	uint16_t	klen;
	uint8_t		strong;
	uint32_t	line;
	uint16_t	src;
};

/* The keys of the fingerprint lists, or of the shared infrastructure. */
struct fpset {
	struct fpitem	*v;
	size_t		 n, cap;	/* n: distinct after fp_merge() */
	size_t		 distinct;
	uint64_t	 prefixes[2][3];	/* bit L: an IPv4 / IPv6 range
						   of length L is in use */
};

struct build {
	const struct listdb_input *in;
	size_t		 nin;
	void		(*diag)(void *, int, const char *);
	void		*arg;
	struct listdb_build_report *rep;

	char		*arena;		/* the normalised names, NUL-ended */
	size_t		 alen, acap;
	struct item	*items;
	size_t		 nitems, icap;
	size_t		 ndomains;	/* distinct, after the merge */
	struct fpset	 fp, infra;
	int		 fatal;		/* cannot write whatever the flags */
	int		 refused;	/* bad lines seen */
};

static void say(struct build *, int, const char *, ...)
    __attribute__((format(printf, 3, 4)));
static void note(struct build *, const char *, ...)
    __attribute__((format(printf, 2, 3)));
static void vsay(struct build *, int, const char *, va_list)
    __attribute__((format(printf, 3, 0)));

static void
vsay(struct build *b, int is_error, const char *fmt, va_list ap)
{
	char line[1024];

	if (b->diag == NULL)
		return;
	vsnprintf(line, sizeof(line), fmt, ap);
	b->diag(b->arg, is_error, line);
}

/* A refusal (is_error 1) or a warning, counted in the report. */
static void
say(struct build *b, int is_error, const char *fmt, ...)
{
	va_list ap;

	if (is_error)
		b->rep->errors++;
	else
		b->rep->warnings++;
	va_start(ap, fmt);
	vsay(b, is_error, fmt, ap);
	va_end(ap);
}

/* The closing summary of a failed build: an error line, not counted. */
static void
note(struct build *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsay(b, 1, fmt, ap);
	va_end(ap);
}

const char *
listdb_show(const char *tok, char *buf, size_t buflen)
{
	size_t i;

	for (i = 0; tok[i] != '\0' && i + 4 < buflen && i < LISTDB_SHOW_MAX;
	    i++)
		buf[i] = ((unsigned char)tok[i] < 0x20 ||
		    (unsigned char)tok[i] == 0x7f) ? '?' : tok[i];
	if (tok[i] != '\0') {
		memcpy(buf + i, "...", 3);
		i += 3;
	}
	buf[i] = '\0';
	return buf;
}

static int
is_space(int c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' ||
	    c == '\f';
}

static int
add_item(struct build *b, const char *dom, uint16_t src, uint32_t line)
{
	size_t len = strlen(dom) + 1;

	if (b->alen + len > b->acap) {
		size_t ncap = b->acap ? b->acap * 2 : 1 << 16;
		char *na;

		while (ncap < b->alen + len)
			ncap *= 2;
		if ((na = realloc(b->arena, ncap)) == NULL)
			return -1;
		b->arena = na;
		b->acap = ncap;
	}
	if (b->nitems == b->icap) {
		size_t ncap = b->icap ? b->icap * 2 : 4096;
		struct item *ni;

		if (ncap > SIZE_MAX / sizeof(*ni) ||
		    (ni = realloc(b->items, ncap * sizeof(*ni))) == NULL)
			return -1;
		b->items = ni;
		b->icap = ncap;
	}
	memcpy(b->arena + b->alen, dom, len);
	b->items[b->nitems].u.off = b->alen;
	b->items[b->nitems].line = line;
	b->items[b->nitems].src = src;
	b->nitems++;
	b->alen += len;
	return 0;
}

enum listdb_entry
listdb_entry_check(const char *tok, char norm[DOMAIN_MAX + 1])
{
	const char *p;

	norm[0] = '\0';
	for (p = tok; *p != '\0'; p++)
		if (is_space((unsigned char)*p))
			return LISTDB_ENTRY_WORDS;
	if (strchr(tok, '@') != NULL)
		return LISTDB_ENTRY_ADDRESS;
	if (strchr(tok, '*') != NULL)
		return LISTDB_ENTRY_WILDCARD;
	switch (domain_normalise(tok, norm)) {
	case DOMAIN_OK:
		break;
	case DOMAIN_ELITERAL:
		return LISTDB_ENTRY_LITERAL;
	case DOMAIN_ENOMEM:
		return LISTDB_ENTRY_NOMEM;
	default:
		return LISTDB_ENTRY_INVALID;
	}
	if (domain_is_public_suffix(norm) || domain_registrable(norm) == NULL)
		return LISTDB_ENTRY_SUFFIX;
	return LISTDB_ENTRY_OK;
}

const char *
listdb_entry_reason(enum listdb_entry e)
{
	switch (e) {
	case LISTDB_ENTRY_OK:		return "a domain";
	case LISTDB_ENTRY_WORDS:	return "more than one name on the line";
	case LISTDB_ENTRY_ADDRESS:	return "a mail address, not a domain";
	case LISTDB_ENTRY_WILDCARD:	return "a wildcard";
	case LISTDB_ENTRY_LITERAL:	return "an IP address or address "
					    "literal";
	case LISTDB_ENTRY_SUFFIX:	return "a public suffix";
	case LISTDB_ENTRY_NOMEM:	return "out of memory";
	case LISTDB_ENTRY_INVALID:	break;
	}
	return "not a valid domain name";
}

/* Check one trimmed, non-empty token; 0 if it was added, 1 if it was
 * refused, -1 when memory ran out. */
static int
take_token(struct build *b, uint16_t src, uint32_t lineno, const char *tok)
{
	const char *path = b->in[src].path;
	char norm[DOMAIN_MAX + 1], sh[LISTDB_SHOW_MAX + 4];
	enum listdb_entry e = listdb_entry_check(tok, norm);

	switch (e) {
	case LISTDB_ENTRY_OK:
		return add_item(b, norm, src, lineno) == 0 ? 0 : -1;
	case LISTDB_ENTRY_NOMEM:
		return -1;
	case LISTDB_ENTRY_WORDS:
		say(b, 1, "%s:%u: more than one name on the line", path,
		    lineno);
		break;
	case LISTDB_ENTRY_ADDRESS:
		/* Never echo what may be somebody's mailbox. */
		say(b, 1, "%s:%u: a mail address, not a domain (not shown)",
		    path, lineno);
		break;
	case LISTDB_ENTRY_WILDCARD:
		say(b, 1, "%s:%u: '%s' is a wildcard; list the domain itself "
		    "(its subdomains match)", path, lineno,
		    listdb_show(tok, sh, sizeof(sh)));
		break;
	case LISTDB_ENTRY_SUFFIX:
		say(b, 1, "%s:%u: '%s' is a public suffix", path, lineno,
		    norm);
		break;
	default:
		say(b, 1, "%s:%u: '%s' is %s", path, lineno,
		    listdb_show(tok, sh, sizeof(sh)), listdb_entry_reason(e));
		break;
	}
	return 1;
}

/*
 * Fingerprint lines: "KIND VALUE STRENGTH".
 */


/*
 * A host name as a fingerprint: normalised like a domain, except that
 * labels may hold '_' (SPF includes live under "_spf." and the like).
 * Such names are ASCII: they are checked by normalising a copy with each
 * '_' replaced by a letter, and kept in lower case as written.
 */
static int
fp_normalise_host(const char *in, char *out)
{
	char probe[DOMAIN_MAX + 2];
	size_t len, i;
	int rc;

	if (strchr(in, '_') == NULL)
		return domain_normalise(in, out);
	out[0] = '\0';
	if ((len = strlen(in)) > DOMAIN_MAX + 1)
		return DOMAIN_EINVALID;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)in[i];

		if (c >= 0x80)
			return DOMAIN_EINVALID;
		probe[i] = c == '_' ? 'x' : (char)c;
	}
	probe[len] = '\0';
	if ((rc = domain_normalise(probe, out)) != DOMAIN_OK)
		return rc;
	/* The probe normalised to itself in lower case, without a
	 * trailing dot: the original is that, with its '_' back. */
	len = strlen(out);
	for (i = 0; i < len; i++)
		out[i] = (char)tolower((unsigned char)in[i]);
	out[len] = '\0';
	return DOMAIN_OK;
}

/* The key of a host fingerprint; 1 if refused (said), -1 out of memory. */
static int
fp_host_key(struct build *b, const char *path, uint32_t lineno,
    enum fp_kind kind, const char *val, struct fpitem *it)
{
	char norm[DOMAIN_MAX + 1], sh[LISTDB_SHOW_MAX + 4];
	const char *host = val;
	int suffix = 0;

	if (strncmp(val, "*.", 2) == 0) {
		suffix = 1;
		host = val + 2;
	}
	if (strchr(host, '*') != NULL) {
		say(b, 1, "%s:%u: '%s': a wildcard is only allowed as a "
		    "leading \"*.\"", path, lineno, listdb_show(val, sh, sizeof(sh)));
		return 1;
	}
	switch (fp_normalise_host(host, norm)) {
	case DOMAIN_OK:
		break;
	case DOMAIN_ELITERAL:
		say(b, 1, "%s:%u: '%s' is an address: list it as ip", path,
		    lineno, listdb_show(val, sh, sizeof(sh)));
		return 1;
	case DOMAIN_ENOMEM:
		return -1;
	default:
		say(b, 1, "%s:%u: '%s' is not a valid host name", path,
		    lineno, listdb_show(val, sh, sizeof(sh)));
		return 1;
	}
	/* "*.co.uk" would match every domain hosted under co.uk. */
	if (suffix && (domain_is_public_suffix(norm) ||
	    domain_registrable(norm) == NULL)) {
		say(b, 1, "%s:%u: '*.%s' is a public suffix", path, lineno,
		    norm);
		return 1;
	}
	it->klen = (uint16_t)listdb_fp_host_key(it->key, kind, suffix, norm,
	    strlen(norm));
	return 0;
}

/* The key of a range "ADDRESS[/LEN]"; 1 if refused (said). */
static int
fp_range_key(struct build *b, struct fpset *set, const char *path,
    uint32_t lineno, const char *val, struct fpitem *it)
{
	static const unsigned char v4mapped[12] = {
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff,
	};
	char addr[INET6_ADDRSTRLEN + 1], sh[LISTDB_SHOW_MAX + 4];
	const char *slash = strchr(val, '/'), *p;
	unsigned char net[16];
	int v6 = strchr(val, ':') != NULL, max = v6 ? 128 : 32;
	int min = v6 ? 16 : 8, len = max, nbytes = v6 ? 16 : 4, i;
	size_t alen = slash != NULL ? (size_t)(slash - val) : strlen(val);

	if (alen == 0 || alen >= sizeof(addr))
		goto garbage;
	memcpy(addr, val, alen);
	addr[alen] = '\0';
	if (inet_pton(v6 ? AF_INET6 : AF_INET, addr, net) != 1)
		goto garbage;
	if (slash != NULL) {
		len = 0;
		for (p = slash + 1; *p >= '0' && *p <= '9' && len <= max; p++)
			len = len * 10 + (*p - '0');
		if (p == slash + 1 || *p != '\0' || len > max || p - slash > 4)
			goto garbage;
	}
	/* A lookup takes an IPv4-mapped IPv6 address for its IPv4 address
	 * (listdb_fp_addr), so such a range is stored as that IPv4 range:
	 * kept as IPv6 it could never match. */
	if (v6 && len >= 96 && memcmp(net, v4mapped, sizeof(v4mapped)) == 0) {
		memmove(net, net + 12, 4);
		v6 = 0;
		len -= 96;
		min = 8;
		nbytes = 4;
	}
	if (len < min) {
		say(b, 1, "%s:%u: '%s' is wider than /%d", path, lineno,
		    listdb_show(val, sh, sizeof(sh)), min);
		return 1;
	}
	for (i = len; i < 8 * nbytes; i++)
		if (net[i / 8] & (0x80 >> (i % 8))) {
			say(b, 1, "%s:%u: '%s' has host bits set", path,
			    lineno, listdb_show(val, sh, sizeof(sh)));
			return 1;
		}
	it->klen = (uint16_t)listdb_fp_range_key(it->key, v6, len, net);
	set->prefixes[v6][len / 64] |= (uint64_t)1 << (len % 64);
	return 0;
garbage:
	say(b, 1, "%s:%u: '%s' is not an address or ADDRESS/LENGTH", path,
	    lineno, listdb_show(val, sh, sizeof(sh)));
	return 1;
}

static int
add_fp(struct fpset *set, const struct fpitem *it)
{
	if (set->n == set->cap) {
		size_t ncap = set->cap ? set->cap * 2 : 256;
		struct fpitem *n;

		if (ncap > SIZE_MAX / sizeof(*n) ||
		    (n = realloc(set->v, ncap * sizeof(*n))) == NULL)
			return -1;
		set->v = n;
		set->cap = ncap;
	}
	set->v[set->n++] = *it;
	return 0;
}

/* One trimmed, non-empty fingerprint line ("KIND VALUE STRENGTH"), or
 * shared infrastructure ("KIND VALUE"); 0 added, 1 refused, -1 out of
 * memory. */
static int
take_fp_line(struct build *b, uint16_t src, uint32_t lineno, char *line)
{
	const char *path = b->in[src].path;
	char *tok[4], *p = line, sh[LISTDB_SHOW_MAX + 4];
	int infra = b->in[src].kind == LIST_INFRA;
	struct fpset *set = infra ? &b->infra : &b->fp;
	struct fpitem it;
	int ntok = 0, kind, rc;

	if (strchr(line, '@') != NULL) {
		say(b, 1, "%s:%u: a mail address in the line (not shown)",
		    path, lineno);
		return 1;
	}
	while (*p != '\0' && ntok < 4) {
		tok[ntok++] = p;
		while (*p != '\0' && !is_space((unsigned char)*p))
			p++;
		while (is_space((unsigned char)*p))
			*p++ = '\0';
	}
	if (ntok != (infra ? 2 : 3)) {
		say(b, 1, "%s:%u: expected KIND VALUE%s", path, lineno,
		    infra ? " (shared infrastructure has no strength)" :
		    " STRENGTH");
		return 1;
	}
	if ((kind = fp_kind_byname(tok[0])) < 0) {
		say(b, 1, "%s:%u: unknown kind '%s' (expected mx, ns, spf or "
		    "ip)", path, lineno, listdb_show(tok[0], sh, sizeof(sh)));
		return 1;
	}
	memset(&it, 0, sizeof(it));
	if (infra)
		;
	else if (strcasecmp(tok[2], "strong") == 0)
		it.strong = 1;
	else if (strcasecmp(tok[2], "weak") != 0) {
		say(b, 1, "%s:%u: unknown strength '%s' (expected strong or "
		    "weak)", path, lineno, listdb_show(tok[2], sh, sizeof(sh)));
		return 1;
	}
	if (kind == FP_IP)
		rc = fp_range_key(b, set, path, lineno, tok[1], &it);
	else
		rc = fp_host_key(b, path, lineno, (enum fp_kind)kind, tok[1],
		    &it);
	if (rc != 0)
		return rc;
	it.line = lineno;
	it.src = src;
	return add_fp(set, &it) == 0 ? 0 : -1;
}

/* listdb_fp_line_check's diag: the reason of the one refusal, without
 * the "path:1: " a build puts before it. */
struct fp_why {
	char	*buf;
	size_t	 len;
};

static void
fp_why(void *arg, int is_error, const char *line)
{
	struct fp_why *w = arg;
	const char *p = strstr(line, ":1: ");

	if (is_error && w->buf[0] == '\0')
		snprintf(w->buf, w->len, "%s", p != NULL ? p + 4 : line);
}

int
listdb_fp_line_check(enum list_kind kind, const char *entry, char *why,
    size_t whylen)
{
	struct listdb_input in = { .path = "-", .source = "-", .kind = kind,
	    .category = kind == LIST_INFRA ? CAT_ALLOWED : CAT_DISPOSABLE };
	struct listdb_build_report rep;
	struct fp_why w = { why, whylen };
	struct build b;
	char *copy;
	int rc;

	if (whylen == 0 || (kind != LIST_FINGERPRINTS && kind != LIST_INFRA))
		return -1;
	why[0] = '\0';
	if ((copy = strdup(entry)) == NULL)
		return -1;
	memset(&b, 0, sizeof(b));
	memset(&rep, 0, sizeof(rep));
	b.in = &in;
	b.nin = 1;
	b.diag = fp_why;
	b.arg = &w;
	b.rep = &rep;
	/* The build's own parser: one rule for what a line may be. */
	rc = take_fp_line(&b, 0, 1, copy);
	free(b.fp.v);
	free(b.infra.v);
	free(copy);
	return rc;
}

char *
listdb_line_entry(char *line)
{
	char *s, *e;

	if ((s = strchr(line, '#')) != NULL)
		*s = '\0';
	for (s = line; is_space((unsigned char)*s); s++)
		;
	for (e = s + strlen(s); e > s && is_space((unsigned char)e[-1]); e--)
		;
	*e = '\0';
	return *s == '\0' ? NULL : s;
}

static int
read_list(struct build *b, uint16_t src)
{
	const char *path = b->in[src].path;
	char *line = NULL, *s;
	size_t cap = 0;
	ssize_t n;
	uint32_t lineno = 0;
	FILE *fp;
	int rc = 0;

	if ((fp = fopen(path, "r")) == NULL) {
		if (errno == ENOENT && b->in[src].optional) {
			say(b, 0, "%s: source %s has no copy yet (fetch it "
			    "with disposable-ctl update): built without it",
			    path, b->in[src].source);
			return 0;
		}
		say(b, 1, "%s: %s", path, strerror(errno));
		b->fatal = 1;
		return 0;
	}
	while ((n = getline(&line, &cap, fp)) != -1) {
		lineno++;
		if (memchr(line, '\0', (size_t)n) != NULL) {
			say(b, 1, "%s:%u: a NUL byte in the line", path,
			    lineno);
			b->refused = 1;
			continue;
		}
		if ((s = listdb_line_entry(line)) == NULL)
			continue;
		rc = b->in[src].kind != LIST_DOMAINS ?
		    take_fp_line(b, src, lineno, s) :
		    take_token(b, src, lineno, s);
		if (rc < 0)
			break;
		if (rc > 0)
			b->refused = 1;
		rc = 0;
	}
	if (rc < 0) {
		say(b, 1, "%s:%u: out of memory", path, lineno);
		b->fatal = 1;
	} else if (ferror(fp)) {
		say(b, 1, "%s: read error: %s", path, strerror(errno));
		b->fatal = 1;
	}
	free(line);
	fclose(fp);
	return rc;
}

static int
item_cmp(const void *va, const void *vb)
{
	const struct item *a = va, *b = vb;
	int c;

	if ((c = strcmp(a->u.dom, b->u.dom)) != 0)
		return c;
	if (a->src != b->src)
		return a->src < b->src ? -1 : 1;
	return a->line < b->line ? -1 : a->line > b->line;
}

/* The sources of a run of items on one side, "a (curated), b
 * (community)", and their count per tier.  cats: a mask of the
 * categories taken. */
static void
run_sources(const struct build *b, const struct item *g, size_t n,
    unsigned cats, char *buf, size_t len, unsigned support[TIER_COUNT])
{
	size_t off = 0;

	buf[0] = '\0';
	if (support != NULL)
		memset(support, 0, TIER_COUNT * sizeof(*support));
	for (size_t i = 0; i < n; i++) {
		const struct listdb_input *in = &b->in[g[i].src];
		int k;

		if (!(cats & (1u << in->category)))
			continue;
		if (support != NULL)
			support[in->tier]++;
		if (off >= len)
			continue;
		k = snprintf(buf + off, len - off, "%s%s (%s)", off ? ", " :
		    "", in->source, tier_name(in->tier));
		if (k > 0)
			off += (size_t)k;
	}
}

/* The first item of a run from a source of category c. */
static const struct item *
run_first(const struct build *b, const struct item *g, size_t n,
    unsigned cats)
{
	for (size_t i = 0; i < n; i++)
		if (cats & (1u << b->in[g[i].src].category))
			return &g[i];
	return g;
}

#define M_ALLOW		(1u << CAT_ALLOWED)
#define M_DISP		(1u << CAT_DISPOSABLE)
#define M_RELAY		(1u << CAT_RELAY)
#define M_BLOCK		(M_DISP | M_RELAY)

/* Warn about a domain whose sources disagree, once, naming every source
 * on each side and what the trust rules (listdb.h) make of it. */
static void
warn_conflict(struct build *b, const struct item *g, size_t n,
    unsigned mask)
{
	char allow[512], block[512], disp[512], relay[512];
	unsigned a[TIER_COUNT], bl[TIER_COUNT], d[TIER_COUNT], r[TIER_COUNT];
	const struct item *first;

	if ((mask & M_ALLOW) && (mask & M_BLOCK)) {
		run_sources(b, g, n, M_ALLOW, allow, sizeof(allow), a);
		run_sources(b, g, n, M_BLOCK, block, sizeof(block), bl);
		first = run_first(b, g, n, M_ALLOW);
		say(b, 0, "%s:%u: '%s' is both allowed (%s) and blocked (%s); "
		    "the %s entry wins", b->in[first->src].path, first->line,
		    first->u.dom, allow, block,
		    listdb_trust_allow_wins(a, bl) ? "allow" :
		    "block (a more trusted source)");
	}
	if ((mask & M_DISP) && (mask & M_RELAY)) {
		run_sources(b, g, n, M_DISP, disp, sizeof(disp), d);
		run_sources(b, g, n, M_RELAY, relay, sizeof(relay), r);
		first = run_first(b, g, n, M_RELAY);
		say(b, 0, "%s:%u: '%s' is listed disposable (%s) and relay "
		    "(%s); it counts as %s", b->in[first->src].path,
		    first->line, first->u.dom, disp, relay,
		    category_name(listdb_trust_block(d, r)));
	}
}

/*
 * Merge the sorted items: drop duplicates within a source (warning),
 * count distinct domains per category and per source, and warn about
 * allow/block conflicts.  The array is compacted in place so that each
 * domain is a run of items with distinct sources.
 */
static void
merge(struct build *b)
{
	struct listdb_build_report *r = b->rep;
	size_t i, j, k, out = 0, start;
	unsigned mask;

	for (i = 0; i < b->nitems; i = j) {
		const char *dom = b->items[i].u.dom;

		start = out;
		mask = 0;
		for (j = i; j < b->nitems &&
		    strcmp(b->items[j].u.dom, dom) == 0; j++) {
			const struct item *it = &b->items[j];

			if (j > i && it->src == b->items[j - 1].src) {
				say(b, 0, "%s:%u: '%s' is a duplicate of "
				    "line %u", b->in[it->src].path, it->line,
				    it->u.dom, b->items[j - 1].line);
				continue;
			}
			b->items[out++] = *it;
			r->source[it->src].entries++;
			mask |= 1u << b->in[it->src].category;
		}
		b->ndomains++;
		for (k = 0; k < CAT_COUNT; k++)
			if (mask & (1u << k))
				r->per_category[k]++;
		if (((mask & M_ALLOW) && (mask & M_BLOCK)) ||
		    ((mask & M_DISP) && (mask & M_RELAY)))
			warn_conflict(b, &b->items[start], out - start, mask);
	}
	b->nitems = out;
}

/*
 * Warnings that look across entries, after both merges: block entries
 * below an allowed parent, and block entries that are shared mail
 * infrastructure (their registrable domain is that of an infrastructure
 * host: "improvmx.com" against "mx *.improvmx.com").
 */
struct group {
	const char	*dom;
	size_t		 first, n;	/* its items */
	unsigned	 mask;
};

static int
group_cmp(const void *key, const void *elem)
{
	return strcmp(key, ((const struct group *)elem)->dom);
}

struct infradom {
	char		 dom[DOMAIN_MAX + 1];
	const struct fpitem *it;
};

static int
infradom_cmp(const void *a, const void *b)
{
	return strcmp(((const struct infradom *)a)->dom,
	    ((const struct infradom *)b)->dom);
}

static int
infradom_find(const void *key, const void *elem)
{
	return strcmp(key, ((const struct infradom *)elem)->dom);
}

static const char *fp_show(const struct fpitem *, char *, size_t);

static int
warn_across(struct build *b)
{
	struct group *g = NULL;
	struct infradom *idom = NULL;
	size_t ng = 0, ni = 0, i, j;
	char sh[FP_SHOW_MAX], who[512], other[512];

	if (b->nitems > 0 && (g = calloc(b->ndomains, sizeof(*g))) == NULL)
		return -1;
	for (i = 0; i < b->nitems; i = j) {
		unsigned mask = 0;

		for (j = i; j < b->nitems &&
		    strcmp(b->items[j].u.dom, b->items[i].u.dom) == 0; j++)
			mask |= 1u << b->in[b->items[j].src].category;
		g[ng++] = (struct group){ b->items[i].u.dom, i, j - i, mask };
	}
	if (b->infra.n > 0 &&
	    (idom = calloc(b->infra.n, sizeof(*idom))) == NULL) {
		free(g);
		return -1;
	}
	for (i = 0; i < b->infra.n; i++) {
		const struct fpitem *it = &b->infra.v[i];
		char host[DOMAIN_MAX + 1];
		const char *reg;

		if (listdb_fp_key_host(it->key, it->klen, host) != 0 ||
		    (reg = domain_registrable(host)) == NULL)
			continue;
		snprintf(idom[ni].dom, sizeof(idom[ni].dom), "%s", reg);
		idom[ni++].it = it;
	}
	if (ni > 0)
		qsort(idom, ni, sizeof(*idom), infradom_cmp);

	for (i = 0; i < ng; i++) {
		const struct item *first;
		const struct group *pg;
		const struct infradom *id;
		const char *reg, *d;
		unsigned a[TIER_COUNT], bl[TIER_COUNT];

		if (!(g[i].mask & M_BLOCK))
			continue;
		first = run_first(b, &b->items[g[i].first], g[i].n, M_BLOCK);
		reg = domain_registrable(g[i].dom);
		for (d = domain_parent(g[i].dom); d != NULL && reg != NULL &&
		    strlen(d) >= strlen(reg); d = domain_parent(d)) {
			if ((pg = bsearch(d, g, ng, sizeof(*g),
			    group_cmp)) == NULL || !(pg->mask & M_ALLOW))
				continue;
			run_sources(b, &b->items[g[i].first], g[i].n, M_BLOCK,
			    who, sizeof(who), bl);
			run_sources(b, &b->items[pg->first], pg->n, M_ALLOW,
			    other, sizeof(other), a);
			say(b, 0, "%s:%u: '%s' (%s) is below the allowed "
			    "'%s' (%s); the %s entry wins",
			    b->in[first->src].path, first->line, g[i].dom, who,
			    d, other, listdb_trust_allow_wins(a, bl) ? "allow" :
			    "block (a more trusted source)");
			break;
		}
		if (reg != NULL && ni > 0 && (id = bsearch(reg, idom, ni,
		    sizeof(*idom), infradom_find)) != NULL) {
			run_sources(b, &b->items[g[i].first], g[i].n, M_BLOCK,
			    who, sizeof(who), NULL);
			say(b, 0, "%s:%u: '%s' (%s) is shared mail "
			    "infrastructure ('%s' in %s): its MX hosts are "
			    "never evidence against the domains they serve",
			    b->in[first->src].path, first->line, g[i].dom, who,
			    fp_show(id->it, sh, sizeof(sh)),
			    b->in[id->it->src].source);
		}
	}
	free(idom);
	free(g);
	return 0;
}

static int
put_text(MDB_txn *txn, MDB_dbi dbi, const char *key, const char *val)
{
	MDB_val k = { strlen(key), (void *)(uintptr_t)key };
	MDB_val v = { strlen(val), (void *)(uintptr_t)val };

	return mdb_put(txn, dbi, &k, &v, 0);
}

/* A fingerprint key as written in a list: "mx *.host", "ip 192.0.2.0/24". */
static const char *
fp_show(const struct fpitem *it, char *buf, size_t len)
{
	return listdb_fp_key_text(it->key, it->klen, buf, len);
}

/* LMDB's default order (bytes, then the shorter first), which
 * MDB_APPEND needs. */
static int
fp_key_cmp(const void *va, const void *vb)
{
	const struct fpitem *a = va, *b = vb;
	int c;

	if ((c = memcmp(a->key, b->key, a->klen < b->klen ? a->klen :
	    b->klen)) != 0)
		return c;
	return a->klen != b->klen ? (a->klen < b->klen ? -1 : 1) : 0;
}

/* The key order, then by source and line. */
static int
fp_cmp(const void *va, const void *vb)
{
	const struct fpitem *a = va, *b = vb;
	int c;

	if ((c = fp_key_cmp(va, vb)) != 0)
		return c;
	if (a->src != b->src)
		return a->src < b->src ? -1 : 1;
	return a->line < b->line ? -1 : a->line > b->line;
}

static int
fp_same(const struct fpitem *a, const struct fpitem *b)
{
	return a->klen == b->klen && memcmp(a->key, b->key, a->klen) == 0;
}

/*
 * The verdict of a run of sources listing one fingerprint.  Relay wins
 * over disposable, as for domains.  Weak wins over strong: a source that
 * knows the infrastructure to be shared is the one to believe, since a
 * strong fingerprint rejects mail on its own.
 */
static void
fp_resolve(const struct build *b, const struct fpitem *run, size_t n,
    enum category *cat, int *strong)
{
	size_t i;

	*cat = CAT_DISPOSABLE;
	*strong = 1;
	for (i = 0; i < n; i++) {
		if (b->in[run[i].src].category == CAT_RELAY)
			*cat = CAT_RELAY;
		if (!run[i].strong)
			*strong = 0;
	}
}

/* Drop duplicates within a source (warning), count per source, and warn
 * when sources disagree on the category or the strength. */
static void
fp_merge(struct build *b, struct fpset *set)
{
	struct listdb_build_report *r = b->rep;
	struct fpitem *v = set->v;
	char sh[FP_SHOW_MAX];
	size_t i, j, out = 0, start;

	for (i = 0; i < set->n; i = j) {
		enum category cat;
		int strong, mixcat = 0, mixstr = 0;

		start = out;
		for (j = i; j < set->n && fp_same(&v[j], &v[i]); j++) {
			const struct fpitem *it = &v[j];

			if (j > i && it->src == v[j - 1].src) {
				say(b, 0, "%s:%u: '%s' is a duplicate of "
				    "line %u", b->in[it->src].path, it->line,
				    fp_show(it, sh, sizeof(sh)), v[j - 1].line);
				continue;
			}
			if (out > start) {
				if (b->in[it->src].category !=
				    b->in[v[start].src].category)
					mixcat = 1;
				if (it->strong != v[start].strong)
					mixstr = 1;
			}
			v[out++] = *it;
			r->source[it->src].entries++;
		}
		set->distinct++;
		if (set == &b->infra)
			continue;
		if (mixcat || mixstr) {
			const struct fpitem *f = &v[start];

			fp_resolve(b, f, out - start, &cat, &strong);
			say(b, 0, "%s:%u: '%s' is listed with another %s by "
			    "another source; it counts as %s %s",
			    b->in[f->src].path, f->line,
			    fp_show(f, sh, sizeof(sh)),
			    mixcat ? (mixstr ? "category and strength" :
			    "category") : "strength",
			    strong ? "strong" : "weak", category_name(cat));
		}
	}
	set->n = out;
}

/* An infrastructure entry that covers fingerprint it: the same key, a
 * suffix entry above its host, or a range containing its range. */
static const struct fpitem *
infra_covering(const struct build *b, const struct fpitem *it)
{
	const struct fpset *inf = &b->infra;
	struct fpitem probe;
	char host[DOMAIN_MAX + 1];
	const char *d;

	if (inf->n == 0)
		return NULL;
	if (it->key[0] == (unsigned char)listdb_fp_letter(FP_IP)) {
		size_t nbytes = it->key[1] == '6' ? 16 : 4;

		for (size_t i = 0; i < inf->n; i++) {
			const struct fpitem *r = &inf->v[i];
			int len = r->key[2], bits;
			size_t k;

			if (r->key[0] != it->key[0] || r->key[1] != it->key[1] ||
			    len > it->key[2])
				continue;
			for (k = 0; k < nbytes; k++) {
				bits = len - 8 * (int)k;
				if (bits <= 0)
					break;
				if (((r->key[3 + k] ^ it->key[3 + k]) &
				    (bits >= 8 ? 0xff : 0xff << (8 - bits))) != 0)
					break;
			}
			if (k == nbytes || len - 8 * (int)k <= 0)
				return r;
		}
		return NULL;
	}
	memset(&probe, 0, sizeof(probe));
	memcpy(probe.key, it->key, it->klen);
	probe.klen = it->klen;
	for (;;) {
		const struct fpitem *hit = bsearch(&probe, inf->v, inf->n,
		    sizeof(*inf->v), fp_key_cmp);

		if (hit != NULL)
			return hit;
		if (listdb_fp_key_host(probe.key, probe.klen, host) != 0 ||
		    (d = domain_parent(host)) == NULL)
			return NULL;
		probe.klen = (uint16_t)listdb_fp_host_key(probe.key,
		    listdb_fp_key_kind(it->key), 1, d, strlen(d));
	}
}

/* Fingerprints that fall on shared infrastructure: they never decide
 * there (infra.h); say so at build time. */
static void
warn_fp_infra(struct build *b)
{
	char sh[FP_SHOW_MAX], ish[FP_SHOW_MAX];
	size_t i, j;

	for (i = 0; i < b->fp.n; i = j) {
		const struct fpitem *f = &b->fp.v[i], *hit;

		for (j = i; j < b->fp.n && fp_same(&b->fp.v[j], f); j++)
			;
		if ((hit = infra_covering(b, f)) == NULL)
			continue;
		say(b, 0, "%s:%u: '%s' is shared mail infrastructure ('%s' "
		    "in %s): at most a weak signal", b->in[f->src].path,
		    f->line, fp_show(f, sh, sizeof(sh)),
		    fp_show(hit, ish, sizeof(ish)), b->in[hit->src].source);
	}
}

/* "32,24,20": the prefix lengths in use, most specific first. */
static void
fp_prefix_text(const uint64_t bits[3], char *buf, size_t len)
{
	size_t off = 0;
	int l;

	buf[0] = '\0';
	for (l = 128; l >= 0 && off < len; l--)
		if (bits[l / 64] & ((uint64_t)1 << (l % 64)))
			off += (size_t)snprintf(buf + off, len - off, "%s%d",
			    off ? "," : "", l);
}

/* The "fp" table, or the "infra" one, with their meta values. */
static int
write_fps(struct build *b, struct fpset *set, MDB_txn *txn, MDB_dbi dmeta)
{
	unsigned char val[LISTDB_FP_SIZE(NSOURCES_MAX)];
	int infra = set == &b->infra;
	char text[600];
	MDB_dbi dfp;
	MDB_val k, v;
	size_t i, j, n;
	int rc, strong;
	enum category cat;

	snprintf(text, sizeof(text), "%zu", set->distinct);
	if ((rc = put_text(txn, dmeta, infra ? LISTDB_M_INFRA_ENTRIES :
	    LISTDB_M_FP_ENTRIES, text)) != 0)
		return rc;
	/* A database without fingerprints has no "fp" table at all, as
	 * one built before fingerprints existed; the same for "infra". */
	if (set->n == 0)
		return 0;
	fp_prefix_text(set->prefixes[0], text, sizeof(text));
	if ((rc = put_text(txn, dmeta, infra ? LISTDB_M_INFRA_PREFIX4 :
	    LISTDB_M_FP_PREFIX4, text)) != 0)
		return rc;
	fp_prefix_text(set->prefixes[1], text, sizeof(text));
	if ((rc = put_text(txn, dmeta, infra ? LISTDB_M_INFRA_PREFIX6 :
	    LISTDB_M_FP_PREFIX6, text)) != 0)
		return rc;
	if ((rc = mdb_dbi_open(txn, infra ? LISTDB_T_INFRA : LISTDB_T_FP,
	    MDB_CREATE, &dfp)) != 0)
		return rc;
	for (i = 0; i < set->n; i = j) {
		size_t head = infra ? LISTDB_INFRA_HEAD : LISTDB_FP_HEAD;

		for (j = i, n = 0; j < set->n && fp_same(&set->v[j],
		    &set->v[i]); j++)
			put_u16(val + head + 2 * n++, set->v[j].src);
		k.mv_data = set->v[i].key;
		k.mv_size = set->v[i].klen;
		v.mv_data = val;
		if (infra)
			v.mv_size = listdb_infra_pack(val, n);
		else {
			fp_resolve(b, &set->v[i], j - i, &cat, &strong);
			v.mv_size = listdb_fp_pack(val, cat, strong, n);
		}
		if ((rc = mdb_put(txn, dfp, &k, &v, MDB_APPEND)) != 0)
			return rc;
	}
	return 0;
}

static int
write_tables(struct build *b, MDB_txn *txn)
{
	unsigned char val[LISTDB_ENTRY_SIZE(NSOURCES_MAX)];
	unsigned char sval[LISTDB_SOURCE_SIZE(LISTDB_SOURCE_NAME, 511)];
	MDB_dbi ddom, dsrc, dmeta;
	MDB_val k, v;
	size_t i, j, n;
	char num[32];
	uint16_t id;
	int rc;

	if ((rc = mdb_dbi_open(txn, LISTDB_T_DOMAIN, MDB_CREATE, &ddom)) != 0 ||
	    (rc = mdb_dbi_open(txn, LISTDB_T_SOURCE, MDB_CREATE, &dsrc)) != 0 ||
	    (rc = mdb_dbi_open(txn, LISTDB_T_META, MDB_CREATE, &dmeta)) != 0)
		return rc;

	for (i = 0; i < b->nitems; i = j) {
		const char *dom = b->items[i].u.dom;
		unsigned mask = 0;

		n = 0;
		for (j = i; j < b->nitems &&
		    strcmp(b->items[j].u.dom, dom) == 0; j++) {
			mask |= 1u << b->in[b->items[j].src].category;
			put_u16(val + LISTDB_ENTRY_HEAD + 2 * n++,
			    b->items[j].src);
		}
		k.mv_data = (void *)(uintptr_t)dom;
		k.mv_size = strlen(dom);
		v.mv_data = val;
		v.mv_size = listdb_entry_pack(val, mask, n);
		if ((rc = mdb_put(txn, ddom, &k, &v, MDB_APPEND)) != 0)
			return rc;
	}

	for (id = 0; id < b->nin; id++) {
		const struct listdb_input *in = &b->in[id];
		size_t nl = strlen(in->source), pl = strlen(in->path);
		unsigned char key[2];

		if (pl > 511)
			pl = 511;
		sval[0] = (unsigned char)in->category;
		sval[1] = (unsigned char)in->tier;
		sval[2] = (unsigned char)in->kind;
		memcpy(sval + LISTDB_SOURCE_HEAD, in->source, nl + 1);
		memcpy(sval + LISTDB_SOURCE_HEAD + 1 + nl, in->path, pl);
		sval[LISTDB_SOURCE_HEAD + 1 + nl + pl] = '\0';
		put_u32(sval + LISTDB_SOURCE_HEAD + 2 + nl + pl,
		    (uint32_t)b->rep->source[id].entries);
		put_u16(key, id);
		k.mv_data = key;
		k.mv_size = 2;
		v.mv_data = sval;
		v.mv_size = LISTDB_SOURCE_SIZE(nl, pl);
		if ((rc = mdb_put(txn, dsrc, &k, &v, 0)) != 0)
			return rc;
	}

	snprintf(num, sizeof(num), "%d", LISTDB_VERSION);
	if ((rc = put_text(txn, dmeta, LISTDB_M_VERSION, num)) != 0)
		return rc;
	snprintf(num, sizeof(num), "%lld", (long long)time(NULL));
	if ((rc = put_text(txn, dmeta, LISTDB_M_BUILT, num)) != 0)
		return rc;
	snprintf(num, sizeof(num), "%zu", b->ndomains);
	if ((rc = put_text(txn, dmeta, LISTDB_M_ENTRIES, num)) != 0)
		return rc;
	if ((rc = write_fps(b, &b->fp, txn, dmeta)) != 0)
		return rc;
	return write_fps(b, &b->infra, txn, dmeta);
}

/* Append the checksum trailer to the file LMDB wrote and sync it.
 * Returns 0, or -1 having said why. */
static int
append_trailer(struct build *b, const char *tmp)
{
	unsigned char buf[65536], md[EVP_MAX_MD_SIZE];
	unsigned char t[LISTDB_TRAILER_SIZE];
	EVP_MD_CTX *ctx = NULL;
	uint64_t covered = 0;
	unsigned mdlen = 0;
	ssize_t n;
	int fd;

	if ((fd = open(tmp, O_RDWR | O_CLOEXEC)) == -1) {
		say(b, 1, "%s: %s", tmp, strerror(errno));
		return -1;
	}
	if ((ctx = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(ctx, listdb_trailer_md(), NULL) != 1)
		goto crypto;
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		if (EVP_DigestUpdate(ctx, buf, (size_t)n) != 1)
			goto crypto;
		covered += (uint64_t)n;
	}
	if (n == -1) {
		say(b, 1, "%s: %s", tmp, strerror(errno));
		goto fail;
	}
	if (EVP_DigestFinal_ex(ctx, md, &mdlen) != 1 ||
	    mdlen != LISTDB_TRAILER_DIGEST)
		goto crypto;
	listdb_trailer_pack(t, covered, md);
	if (pwrite(fd, t, sizeof(t), (off_t)covered) != (ssize_t)sizeof(t) ||
	    fsync(fd) != 0) {
		say(b, 1, "%s: %s", tmp, strerror(errno));
		goto fail;
	}
	EVP_MD_CTX_free(ctx);
	if (close(fd) != 0) {
		say(b, 1, "%s: %s", tmp, strerror(errno));
		return -1;
	}
	return 0;
crypto:
	say(b, 1, "%s: checksum: OpenSSL failed", tmp);
fail:
	EVP_MD_CTX_free(ctx);
	close(fd);
	return -1;
}

static int
write_db(struct build *b, const char *dbpath)
{
	char tmp[PATH_MAX];
	MDB_env *env = NULL;
	MDB_txn *txn = NULL;
	size_t mapsize;
	int rc;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", dbpath,
	    (long)getpid()) >= sizeof(tmp)) {
		say(b, 1, "%s: path too long", dbpath);
		return -1;
	}
	(void)unlink(tmp);	/* a stale one from a crashed build */

	/* Twice a generous 256 bytes per entry covers the B-tree's page
	 * slack; the file only grows to what is used. */
	mapsize = b->ndomains * 512 + b->alen * 2 +
	    (b->fp.n + b->infra.n) * 1024;
	if (mapsize < MAPSIZE_MIN)
		mapsize = MAPSIZE_MIN;
	mapsize = (mapsize + (1 << 20) - 1) & ~(size_t)((1 << 20) - 1);

	if ((rc = mdb_env_create(&env)) != 0)
		goto fail;
	if ((rc = mdb_env_set_maxdbs(env, LISTDB_MAXDBS)) != 0 ||
	    (rc = mdb_env_set_mapsize(env, mapsize)) != 0 ||
	    (rc = mdb_env_open(env, tmp, MDB_NOSUBDIR | MDB_NOLOCK |
	    MDB_NOSYNC, 0644)) != 0)
		goto fail;
	if ((rc = mdb_txn_begin(env, NULL, 0, &txn)) != 0)
		goto fail;
	if ((rc = write_tables(b, txn)) != 0)
		goto fail;
	rc = mdb_txn_commit(txn);
	txn = NULL;
	if (rc != 0 || (rc = mdb_env_sync(env, 1)) != 0)
		goto fail;
	mdb_env_close(env);
	env = NULL;
	if (append_trailer(b, tmp) != 0) {
		(void)unlink(tmp);
		return -1;
	}
	if (rename(tmp, dbpath) == -1) {
		rc = errno;
		say(b, 1, "%s: rename from %s: %s", dbpath, tmp, strerror(rc));
		(void)unlink(tmp);
		return -1;
	}
	util_sync_dir(dbpath);
	return 0;

fail:
	say(b, 1, "%s: %s", tmp, mdb_strerror(rc));
	if (txn != NULL)
		mdb_txn_abort(txn);
	if (env != NULL)
		mdb_env_close(env);
	(void)unlink(tmp);
	return -1;
}

static int
check_inputs(struct build *b)
{
	size_t i;

	if (b->nin > NSOURCES_MAX) {
		say(b, 1, "%zu lists given, at most %d", b->nin,
		    NSOURCES_MAX);
		return -1;
	}
	for (i = 0; i < b->nin; i++) {
		const struct listdb_input *in = &b->in[i];

		if (in->path == NULL || in->source == NULL ||
		    in->source[0] == '\0' ||
		    strlen(in->source) >= LISTDB_SOURCE_NAME) {
			say(b, 1, "%s: the source name must be 1 to %d bytes",
			    in->path ? in->path : "(null)",
			    LISTDB_SOURCE_NAME - 1);
			return -1;
		}
		if (!listdb_category_listable(in->category, in->kind)) {
			say(b, 1, "%s: category %s cannot be listed in %s",
			    in->path, category_name(in->category),
			    list_kind_name(in->kind));
			return -1;
		}
		if ((unsigned)in->tier >= TIER_COUNT) {
			say(b, 1, "%s: no such tier", in->path);
			return -1;
		}
		snprintf(b->rep->source[i].name, LISTDB_SOURCE_NAME, "%s",
		    in->source);
		b->rep->source[i].category = in->category;
		b->rep->source[i].tier = in->tier;
		b->rep->source[i].kind = in->kind;
	}
	b->rep->nsources = b->nin;
	return 0;
}

int
listdb_build(const char *dbpath, const struct listdb_input *in, size_t nin,
    int flags, void (*diag)(void *arg, int is_error, const char *line),
    void *arg, struct listdb_build_report *report)
{
	struct listdb_build_report scratch = { 0 };
	struct build b;
	size_t i;
	int rc = -1;

	memset(&b, 0, sizeof(b));
	b.in = in;
	b.nin = nin;
	b.diag = diag;
	b.arg = arg;
	b.rep = report != NULL ? report : &scratch;
	memset(b.rep, 0, sizeof(*b.rep));

	if (dbpath == NULL || (in == NULL && nin > 0)) {
		say(&b, 1, "listdb_build: no database path or no lists");
		return -1;
	}
	if (check_inputs(&b) != 0)
		return -1;
	/* Read every list even after an error, to report all of them at
	 * once; only running out of memory stops early. */
	for (i = 0; i < nin; i++)
		if (read_list(&b, (uint16_t)i) < 0)
			break;
	if (b.fatal || (b.refused && !(flags & LISTDB_BUILD_SKIP_BAD))) {
		note(&b, "%s: not written: %zu error%s", dbpath,
		    b.rep->errors, b.rep->errors == 1 ? "" : "s");
		goto out;
	}

	for (i = 0; i < b.nitems; i++)
		b.items[i].u.dom = b.arena + b.items[i].u.off;
	/* qsort(NULL, 0, ...) is undefined: a build of fingerprint lists
	 * alone has no domain items at all. */
	if (b.nitems > 0)
		qsort(b.items, b.nitems, sizeof(*b.items), item_cmp);
	merge(&b);
	if (b.fp.n > 0)
		qsort(b.fp.v, b.fp.n, sizeof(*b.fp.v), fp_cmp);
	fp_merge(&b, &b.fp);
	if (b.infra.n > 0)
		qsort(b.infra.v, b.infra.n, sizeof(*b.infra.v), fp_cmp);
	fp_merge(&b, &b.infra);
	b.rep->fingerprints = b.fp.distinct;
	b.rep->infrastructure = b.infra.distinct;
	warn_fp_infra(&b);
	if (warn_across(&b) != 0) {
		note(&b, "%s: not written: out of memory", dbpath);
		goto out;
	}
	rc = write_db(&b, dbpath);
out:
	free(b.items);
	free(b.arena);
	free(b.fp.v);
	free(b.infra.v);
	return rc;
}
