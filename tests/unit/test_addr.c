/*
 * test_addr.c - unit tests of lib/addr.c: every form addr.h promises,
 * the malformed inputs it must survive, each limit exactly at and one
 * past, reads bounded by len, and out-of-memory at every allocation.
 *
 * Out of memory is injected by linking with -Wl,--wrap=malloc,--wrap=realloc
 * (see Makefile.am): __wrap_malloc fails the Nth call when asked to.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "t.h"

/* ---- allocation failure injection ----------------------------------- */

void	*__real_malloc(size_t);
void	*__real_realloc(void *, size_t);
void	*__wrap_malloc(size_t);
void	*__wrap_realloc(void *, size_t);

static long alloc_budget = -1;	/* -1: unlimited; else calls left */

void *
__wrap_malloc(size_t n)
{
	if (alloc_budget == 0)
		return NULL;
	if (alloc_budget > 0)
		alloc_budget--;
	return __real_malloc(n);
}

void *
__wrap_realloc(void *p, size_t n)
{
	if (alloc_budget == 0)
		return NULL;
	if (alloc_budget > 0)
		alloc_budget--;
	return __real_realloc(p, n);
}

/* ---- helpers --------------------------------------------------------- */

/* Parse len bytes from an exact-size heap copy (no NUL after them, so a
 * read past len is an ASan/valgrind error) and render the result as
 * "local@domain;..." with "[L]" after a literal.  Returns the flags, or
 * -100 if the parser failed. */
static int
hdr_n(const char *in, size_t len, char *got, size_t size)
{
	struct addr_list	 l;
	char			*copy = malloc(len ? len : 1);
	size_t			 i, off = 0;
	int			 flags;

	got[0] = '\0';
	if (copy == NULL)
		return -100;
	memcpy(copy, in, len);
	if (addr_parse_header_list(copy, len, &l) != 0) {
		free(copy);
		return -100;
	}
	free(copy);
	for (i = 0; i < l.n && off < size; i++)
		off += (size_t)snprintf(got + off, size - off, "%s%s@%s%s",
		    i ? ";" : "", l.v[i].local, l.v[i].domain,
		    l.v[i].literal ? "[L]" : "");
	flags = l.flags;
	addr_list_free(&l);
	CHECK(l.v == NULL && l.n == 0);
	return flags;
}

#define M	ADDR_F_MALFORMED
#define TR	ADDR_F_TRUNCATED

/* header value, expected addresses, expected flags */
#define H(in, exp, fl) do {						\
	char h_got[8192];						\
	int h_fl = hdr_n((in), strlen(in), h_got, sizeof(h_got));	\
	CHECK_STR(h_got, (exp));					\
	CHECK_INT(h_fl, (fl));						\
	if (strcmp(h_got, (exp)) != 0 || h_fl != (fl))			\
		fprintf(stderr, "  input: [%s]\n", (in));		\
} while (0)

/* the same with an explicit length */
#define HN(in, len, exp, fl) do {					\
	char h_got[8192];						\
	int h_fl = hdr_n((in), (len), h_got, sizeof(h_got));		\
	CHECK_STR(h_got, (exp));					\
	CHECK_INT(h_fl, (fl));						\
} while (0)

/* the same for a literal with embedded NULs */
#define HS(lit, exp, fl)	HN((lit), sizeof(lit) - 1, (exp), (fl))

/* envelope, expected return, local, domain */
#define E(in, rc, loc, dom) do {					\
	struct addr e_a = { NULL, NULL, 0 };				\
	int e_rc = addr_parse_envelope((in), &e_a);			\
	CHECK_INT(e_rc, (rc));						\
	CHECK_STR(e_a.local, (loc));					\
	CHECK_STR(e_a.domain, (dom));					\
	if (e_rc != (rc))						\
		fprintf(stderr, "  input: [%s]\n", (in));		\
	addr_free(&e_a);						\
} while (0)

#define ESYN(in)	E((in), ADDR_ESYNTAX, NULL, NULL)

static char *
repeat(char c, size_t n)
{
	char *s = malloc(n + 1);

	if (s == NULL)
		abort();
	memset(s, c, n);
	s[n] = '\0';
	return s;
}

/* A domain of exactly n bytes: 63-byte labels joined by dots. */
static char *
domain_of(size_t n)
{
	char	*s = repeat('d', n);

	for (size_t i = 63; i < n; i += 64)
		s[i] = '.';
	if (n > 0 && s[n - 1] == '.')
		s[n - 1] = 'e';
	return s;
}

/* ---- envelope -------------------------------------------------------- */

static void
test_envelope_forms(void)
{
	struct addr	a;

	E("<a@b>", ADDR_OK, "a", "b");
	E("a@b", ADDR_OK, "a", "b");			/* cleanup path */
	E("<John.Doe@Example.COM>", ADDR_OK, "John.Doe", "Example.COM");
	E("  <a@b>  ", ADDR_OK, "a", "b");
	E("\t a@b \t", ADDR_OK, "a", "b");
	E("<user+tag@example.com>", ADDR_OK, "user+tag", "example.com");
	E("<!#$%&'*+/=?^_`{|}~-@x.y>", ADDR_OK, "!#$%&'*+/=?^_`{|}~-", "x.y");

	/* null reverse-path */
	E("<>", ADDR_NULL, NULL, NULL);
	E("", ADDR_NULL, NULL, NULL);
	E("   ", ADDR_NULL, NULL, NULL);
	E(" <> ", ADDR_NULL, NULL, NULL);
	E("<> SIZE=0", ADDR_NULL, NULL, NULL);

	/* source routes: dropped */
	E("<@r1,@r2:a@b>", ADDR_OK, "a", "b");
	E("<@relay.example:a@b>", ADDR_OK, "a", "b");
	ESYN("<@r1,r2:a@b>");
	ESYN("<@:a@b>");
	ESYN("<@r1 a@b>");
	ESYN("@r1:a@b");			/* a route needs the brackets */

	/* quoted local parts: quotes and quoted-pairs removed */
	E("<\"a b\"@c>", ADDR_OK, "a b", "c");
	E("\"a b\"@c", ADDR_OK, "a b", "c");
	E("<\"a\\\"b\\\\c\"@d>", ADDR_OK, "a\"b\\c", "d");
	E("<\"a@b\"@c>", ADDR_OK, "a@b", "c");
	E("<\"\"@c>", ADDR_OK, "", "c");	/* RFC 5321 allows it */
	ESYN("<\"a\\\x01\"@c>");
	ESYN("<\"a\x01\"@c>");
	ESYN("<\"ab@c>");

	/* address literals: brackets kept, literal set */
	E("<a@[192.0.2.1]>", ADDR_OK, "a", "[192.0.2.1]");
	E("a@[IPv6:2001:db8::1]", ADDR_OK, "a", "[IPv6:2001:db8::1]");
	CHECK_INT(addr_parse_envelope("<a@[192.0.2.1]>", &a), ADDR_OK);
	CHECK_INT(a.literal, 1);
	addr_free(&a);
	CHECK_INT(addr_parse_envelope("<a@b.c>", &a), ADDR_OK);
	CHECK_INT(a.literal, 0);
	addr_free(&a);
	ESYN("<a@[]>");
	ESYN("<a@[192.0.2.1>");
	ESYN("<a@[1.2[3].4]>");
	ESYN("<a@b[1.2.3.4]>");
	ESYN("<a@[1.2.3.4].b>");

	/* SMTPUTF8 */
	E("<jd\xc3\xb6" "e@m\xc3\xa4" "chine.example>", ADDR_OK,
	    "jd\xc3\xb6" "e", "m\xc3\xa4" "chine.example");
	E("\xc2\xb5@example.com", ADDR_OK, "\xc2\xb5", "example.com");

	/* ESMTP parameters after ">" are tolerated */
	E("<a@b> SIZE=123", ADDR_OK, "a", "b");
	E("<a@b> SIZE=123 BODY=8BITMIME SMTPUTF8", ADDR_OK, "a", "b");
	E("a@b SIZE=1", ADDR_OK, "a", "b");
	ESYN("<a@b>SIZE=123");
	ESYN("<a@b> <c@d>");
	ESYN("a@b c@d");
	ESYN("<a@b> SIZE==1");

	/* root dot */
	E("<a@b.c.>", ADDR_OK, "a", "b.c.");
	ESYN("<a@b..>");
	ESYN("<a@.>");
}

static void
test_envelope_errors(void)
{
	struct addr	a = { (char *)"keep", (char *)"me", 7 };

	ESYN("a");
	ESYN("<a>");
	ESYN("@b");
	ESYN("<@b>");
	ESYN("a@");
	ESYN("<a@>");
	ESYN("<a@b");
	ESYN("a@b>");
	ESYN("<<a@b>>");
	ESYN("<a@b>>");
	ESYN("<a@@b>");
	ESYN("<a@b@c>");
	ESYN(".a@b");
	ESYN("a.@b");
	ESYN("a..b@c");
	ESYN("a@b..c");
	ESYN("a@.b");
	ESYN("a@-b.c");
	ESYN("a@b-.c");
	ESYN("a@b.c-");
	ESYN("a b@c");
	ESYN("<a@b c>");
	ESYN("(c)a@b");
	ESYN("<a\x01@b>");
	ESYN("<a@b\x7f>");
	ESYN("a@b\r\n");
	ESYN("a@b\n");
	ESYN("\ra@b");
	ESYN("<a@b_c>");
	ESYN("John <a@b>");
	ESYN("<a@b>, <c@d>");

	/* *out is untouched on error */
	CHECK_INT(addr_parse_envelope("<a@>", &a), ADDR_ESYNTAX);
	CHECK_STR(a.local, "keep");
	CHECK_STR(a.domain, "me");
	CHECK_INT(a.literal, 7);
	CHECK_INT(addr_parse_envelope(NULL, &a), ADDR_ESYNTAX);
	CHECK_INT(addr_parse_envelope("<>", &a), ADDR_NULL);
	CHECK_STR(a.local, "keep");
}

static void
test_envelope_limits(void)
{
	char	*l256 = repeat('l', ADDR_MAX_LOCAL);
	char	*l257 = repeat('l', ADDR_MAX_LOCAL + 1);
	char	*d255 = domain_of(ADDR_MAX_DOMAIN);
	char	*d256 = domain_of(ADDR_MAX_DOMAIN + 1);
	char	*huge = repeat('a', 5000);
	char	 buf[8192];

	CHECK_INT(strlen(d255), 255);
	snprintf(buf, sizeof(buf), "<%s@x>", l256);
	E(buf, ADDR_OK, l256, "x");
	snprintf(buf, sizeof(buf), "<%s@x>", l257);
	ESYN(buf);
	snprintf(buf, sizeof(buf), "<x@%s>", d255);
	E(buf, ADDR_OK, "x", d255);
	snprintf(buf, sizeof(buf), "<x@%s>", d256);
	ESYN(buf);
	/* quoted: the limit is on the unquoted local part */
	snprintf(buf, sizeof(buf), "<\"%s\"@x>", l256);
	E(buf, ADDR_OK, l256, "x");
	snprintf(buf, sizeof(buf), "<@%s:a@b>", d256);
	ESYN(buf);
	/* a NUL-less string far past any path: refused, not scanned */
	huge[2000] = '@';
	ESYN(huge);
	free(l256);
	free(l257);
	free(d255);
	free(d256);
	free(huge);
}

/* ---- header: well-formed --------------------------------------------- */

static void
test_header_forms(void)
{
	struct addr_list	l;

	/* RFC 5322 appendix A */
	H("John Doe <jdoe@machine.example>", "jdoe@machine.example", 0);
	H("\"Joe Q. Public\" <john.q.public@example.com>",
	    "john.q.public@example.com", 0);
	H("Mary Smith <mary@x.test>, jdoe@example.org, Who? <one@y.test>",
	    "mary@x.test;jdoe@example.org;one@y.test", 0);
	H("<boss@nil.test>, \"Giant; \\\"Big\\\" Box\" <sysservices@example.net>",
	    "boss@nil.test;sysservices@example.net", 0);
	H("\"Mary Smith: Personal Account\" <smith@home.example>",
	    "smith@home.example", 0);
	H("Pete(A wonderful \\) chap) <pete(his account)@silly.test(his host)>",
	    "pete@silly.test", 0);
	H("Joe Q. Public <john.q.public@example.com>",
	    "john.q.public@example.com", 0);
	H("Asem H. <noreply@example.com>", "noreply@example.com", 0);

	/* groups */
	H("A Group:Chris Jones <c@a.test>,joe@where.test,John <jdoe@one.test>;",
	    "c@a.test;joe@where.test;jdoe@one.test", 0);
	H("Undisclosed recipients:;", "", 0);
	H("undisclosed recipients: ;", "", 0);
	H("(Empty list)(start)Undisclosed recipients  :(nobody(that I know))  ;",
	    "", 0);
	H("A Group(Some people)\r\n     :Chris Jones <c@(Chris's host.)"
	    "public.example>,\r\n         joe@example.org,\r\n  John "
	    "<jdoe@one.test> (my dear friend); (the end of the group)",
	    "c@public.example;joe@example.org;jdoe@one.test", 0);
	H("G1: a@b;, G2: c@d, e@f;, g@h", "a@b;c@d;e@f;g@h", 0);
	H("G: , a@b,, ;", "a@b", 0);

	/* obs-route, empty elements, CFWS around dots */
	H("Mary Smith <@machine.tld:mary@example.net>, , jdoe@test   . example",
	    "mary@example.net;jdoe@test.example", 0);
	H("<@a,@b.c:x@y>", "x@y", 0);
	H("<,@a,,@b:x@y>", "x@y", 0);
	H(", a@b, , c@d,", "a@b;c@d", 0);
	H(",,,", "", 0);
	H("first . last @ example (c) . com", "first.last@example.com", 0);

	/* quoted local parts, quoted-pairs, folding inside quotes */
	H("\"first last\"@example.com", "first last@example.com", 0);
	H("\"a\\\"b\\\\c\"@d", "a\"b\\c@d", 0);
	H("\"test\".\"test\"@iana.org", "test.test@iana.org", 0);
	H("\"a\r\n b\"@c", "a b@c", 0);
	H("\"\"@c", "@c", 0);

	/* literals */
	H("user@[192.0.2.1]", "user@[192.0.2.1][L]", 0);
	H("X <user@[IPv6:2001:db8::1]>", "user@[IPv6:2001:db8::1][L]", 0);
	H("a@(c)[1.2.3.4](d)", "a@[1.2.3.4][L]", 0);
	H("a@[RFC 5322 literal]", "a@[RFC 5322 literal][L]", 0);

	/* folding with CRLF and bare LF, whitespace-only fold lines */
	H("a@b,\r\n\t c@d,\r\n\t\r\n\te@f", "a@b;c@d;e@f", 0);
	H("Name\n <a@b>,\n c@d", "a@b;c@d", 0);
	H("  a@b  ", "a@b", 0);

	/* RFC 2047 encoded words in display names are skipped intact */
	H("=?iso-8859-1?q?J=F6rg_Doe?= <joerg@example.com>",
	    "joerg@example.com", 0);
	H("=?UTF-8?B?SsO2cmc=?= <joerg@example.com>", "joerg@example.com", 0);
	H("=?ISO-8859-1?Q?Andr=E9?= Pirard <PIRARD@vm1.ulg.ac.be>",
	    "PIRARD@vm1.ulg.ac.be", 0);

	/* RFC 6532 UTF-8 */
	H("\"J\xc3\xb6hn Doe\" <jd\xc3\xb6" "e@m\xc3\xa4" "chine.example>",
	    "jd\xc3\xb6" "e@m\xc3\xa4" "chine.example", 0);
	H("\xc2\xb5 <micro@example.com>", "micro@example.com", 0);
	H("Micro <micro@\xc2\xb5.example.com>", "micro@\xc2\xb5.example.com", 0);

	/* a display name that looks like an address is not the address */
	H("\"support@paypal.com\" <x@evil.test>", "x@evil.test", 0);
	/* case kept as written */
	H("Apple <News@InsideApple.Apple.com>", "News@InsideApple.Apple.com", 0);

	/* nothing to parse */
	H("", "", 0);
	H("   \r\n ", "", 0);
	H("(only a comment)", "", 0);
	H("<>", "", 0);
	CHECK_INT(addr_parse_header_list(NULL, 0, &l), 0);
	CHECK_INT(l.n, 0);
	CHECK_INT(l.flags, 0);
	addr_list_free(&l);
}

/* ---- header: malformed ----------------------------------------------- */

static void
test_header_malformed(void)
{
	/* recovery: angle-addrs win over a bare "@" in the name */
	H("smith@gmail.com, Mikel@Lindsaar <raasdnil@gmail.com>, tom@gmail.com",
	    "smith@gmail.com;raasdnil@gmail.com;tom@gmail.com", M);
	/* no comma between addr-specs: both kept */
	H("tim@powerupdev.com concierge@powerupdev.com",
	    "tim@powerupdev.com;concierge@powerupdev.com", M);
	H("a@gmail.com b@gmail.com", "a@gmail.com;b@gmail.com", M);
	H("Big Bug bb@bug.com", "bb@bug.com", M);
	H("a@b; c@d", "a@b;c@d", M);
	H("test(comment)test@iana.org", "test@iana.org", M);
	H("John <a@b> <c@d>", "a@b;c@d", M);
	H("John <a@b> x@y, ok@z", "a@b;ok@z", M);

	/* nothing recoverable */
	H("\"Rob\" <@>", "", M);
	H("just words", "", M);
	H("@", "", M);
	H("a@", "", M);
	H("@b", "", M);
	H(".a.@b", "", M);
	H("<a@b", "a@b", M);		/* unterminated angle: recovered */
	H("Name <a@b", "a@b", M);
	H("Name <a@b, c@d", "a@b;c@d", M);
	H("a@b>", "a@b", M);
	H("<<a@b>>", "a@b", M);

	/* unterminated quotes, comments, literals run to the end */
	H("\"abc <a@b>", "", M);
	H("\"abc <a@b>, c@d", "", M);
	H("a@b (comment", "a@b", M);
	H("(a@b", "", M);
	H("x (unterminated <a@b>", "", M);
	H("a@[1.2.3.4", "", M);
	H("a@[1.2[3.4]", "a@[1.2[3.4][L]", M);

	/* groups gone wrong */
	H("G: a@b", "a@b", M);			/* no ";" */
	H("G: a@b; junk", "a@b", M);
	H("A: B: c@d;;", "c@d", M);		/* nested group */
	H(": a@b;", "a@b", M);			/* no display name */

	/* NUL and controls */
	HS("\"\0\" <null@example.net>", "null@example.net", M);
	HS("\"\\\0\" <escaped-null@example.net>", "escaped-null@example.net",
	    M);
	HS("a@b\0c", "a@b", M);
	HS("(\0)a@b", "a@b", M);
	H("a\x01" "b@c", "b@c", M);
	H("(\x07)test@iana.org", "test@iana.org", 0);	/* obs-ctext */
	H("\"\x07\"@iana.org", "\x07@iana.org", 0);	/* obs-qtext */

	/* trailing root dot: kept (domain_normalise strips it), flagged */
	H("user@mailinator.com.", "user@mailinator.com.", M);
	/* stray specials */
	H(")", "", M);
	H("a@b)", "a@b", M);
	H("]", "", M);
	H("\\", "", M);
	H(";", "", M);
	H(":", "", M);
}

/* ---- header: limits and bounded reads --------------------------------- */

static void
test_header_limits(void)
{
	char	*l256 = repeat('l', ADDR_MAX_LOCAL);
	char	*l257 = repeat('l', ADDR_MAX_LOCAL + 1);
	char	*d255 = domain_of(ADDR_MAX_DOMAIN);
	char	*d256 = domain_of(ADDR_MAX_DOMAIN + 1);
	char	*buf, *exp, *p;
	size_t	 i, len;

	if ((buf = malloc(ADDR_MAX_FIELD + 64)) == NULL ||
	    (exp = malloc(ADDR_MAX_FIELD)) == NULL)
		abort();

	/* local part and domain: exactly at the limit, one past */
	snprintf(buf, ADDR_MAX_FIELD, "%s@x", l256);
	H(buf, buf, 0);
	snprintf(buf, ADDR_MAX_FIELD, "a@b, %s@x, c@d", l257);
	H(buf, "a@b;c@d", M);
	snprintf(buf, ADDR_MAX_FIELD, "x@%s", d255);
	H(buf, buf, 0);
	snprintf(buf, ADDR_MAX_FIELD, "Name <x@%s>", d256);
	H(buf, "", M);
	/* the limit is on the unquoted local part */
	snprintf(buf, ADDR_MAX_FIELD, "\"%s\"@x", l256);
	snprintf(exp, ADDR_MAX_FIELD, "%s@x", l256);
	H(buf, exp, 0);
	snprintf(buf, ADDR_MAX_FIELD, "\"\\l%s\"@x", l256);  /* 257 */
	H(buf, "", M);
	/* a route is dropped: its length does not matter */
	snprintf(buf, ADDR_MAX_FIELD, "<@%s:a@b>", d256);
	H(buf, "a@b", 0);

	/* count: exactly ADDR_MAX_COUNT, then one more */
	for (i = 0, p = buf; i < ADDR_MAX_COUNT; i++)
		p += sprintf(p, "%su%zu@d", i ? "," : "", i);
	for (i = 0, p = exp; i < ADDR_MAX_COUNT; i++)
		p += sprintf(p, "%su%zu@d", i ? ";" : "", i);
	H(buf, exp, 0);
	strcat(buf, ",extra@d");
	H(buf, exp, TR);
	/* in a group too */
	memmove(buf + 2, buf, strlen(buf) + 1);
	memcpy(buf, "G:", 2);
	strcat(buf, ";");
	H(buf, exp, TR);

	/* field length: the last byte exactly at ADDR_MAX_FIELD, then one
	 * byte further (the domain is cut: truncated, and malformed) */
	len = ADDR_MAX_FIELD;
	memset(buf, ' ', len);
	memcpy(buf, "x@y,", 4);
	memcpy(buf + len - 5, ", z@w", 5);
	HN(buf, len, "x@y;z@w", 0);
	memset(buf, ' ', len + 1);
	memcpy(buf, "x@y,", 4);
	memcpy(buf + len + 1 - 5, ", z@w", 5);
	HN(buf, len + 1, "x@y", TR | M);
	/* cut inside a word: the address is cut, only truncation shows */
	memset(buf, ' ', len + 10);
	memcpy(buf + len - 4, "ab@cdef", 7);
	HN(buf, len + 10, "ab@c", TR);

	free(buf);
	free(exp);
	free(l256);
	free(l257);
	free(d255);
	free(d256);
}

static void
test_header_bounds(void)
{
	/* a prefix of a longer buffer: nothing past len is seen */
	HN("a@b.cdef", 5, "a@b.c", 0);
	HN("a@b, c@d", 3, "a@b", 0);
	HN("\"abc\"@d", 4, "", M);
	HN("(abc)a@b", 3, "", M);
	HN("a@[1.2.3.4]", 6, "", M);
	HN("Name <a@b>", 9, "a@b", M);
	HN("a@b\\", 3, "a@b", 0);
	HN("\"a\\\"@b", 3, "", M);	/* quoted-pair cut after the "\" */
	HN("(a\\)", 3, "", M);
	HN("a@b", 0, "", 0);
	/* every prefix of a rich value parses without reading past it */
	{
		const char *v = "G(c): \"a\\\"b\" (x(y)) <@r:a.b@[1.2.3.4]>, "
		    "c . d @ e . f;, µ <g@h.>";
		char got[1024];
		for (size_t n = 0; n <= strlen(v); n++)
			CHECK(hdr_n(v, n, got, sizeof(got)) >= 0);
		CHECK_INT(hdr_n(v, strlen(v), got, sizeof(got)), M);
		CHECK_STR(got, "a.b@[1.2.3.4][L];c.d@e.f;g@h.");
	}
}

/* ---- every address, through the visitor ------------------------------ */

struct seen {
	size_t	n;		/* addresses seen */
	size_t	stop_at;	/* return 1 after this many; 0: never */
	int	fail_at;	/* return -1 at this one (1-based); 0: never */
	char	last[600];	/* the last one, "local@domain" */
};

static int
see(void *arg, const struct addr *a)
{
	struct seen *s = arg;

	s->n++;
	snprintf(s->last, sizeof(s->last), "%s@%s%s", a->local, a->domain,
	    a->literal ? "[L]" : "");
	if (s->fail_at > 0 && s->n == (size_t)s->fail_at)
		return -1;
	return s->stop_at > 0 && s->n == s->stop_at ? 1 : 0;
}

static void
test_header_each(void)
{
	struct seen	 s;
	char		*buf, *p;
	size_t		 i, len, n;

	if ((buf = malloc(ADDR_MAX_FIELD + 64)) == NULL)
		abort();

	/* No cap on the count: 3,000 addresses, the last one too; the
	 * list form keeps ADDR_MAX_COUNT of the same field. */
	for (i = 0, p = buf; i < 3000; i++)
		p += sprintf(p, "%su%zu@example.org", i ? ", " : "", i);
	p += sprintf(p, ", last@mailinator.com");
	memset(&s, 0, sizeof(s));
	CHECK_INT(addr_parse_header_each(buf, strlen(buf), see, &s), 0);
	CHECK_INT(s.n, 3001);
	CHECK_STR(s.last, "last@mailinator.com");
	{
		struct addr_list l;

		CHECK_INT(addr_parse_header_list(buf, strlen(buf), &l), 0);
		CHECK_INT(l.n, ADDR_MAX_COUNT);
		CHECK_INT(l.flags, TR);
		addr_list_free(&l);
	}

	/* It allocates nothing: every allocation failing changes nothing. */
	memset(&s, 0, sizeof(s));
	alloc_budget = 0;
	CHECK_INT(addr_parse_header_each(buf, strlen(buf), see, &s), 0);
	alloc_budget = -1;
	CHECK_INT(s.n, 3001);

	/* Malformed elements and groups go through the visitor too. */
	memset(&s, 0, sizeof(s));
	p = "G: a@b, x <c@d> y;, junk e@[1.2.3.4]";
	CHECK_INT(addr_parse_header_each(p, strlen(p), see, &s), M);
	CHECK_INT(s.n, 3);
	CHECK_STR(s.last, "e@[1.2.3.4][L]");

	/* 1: stop, nothing after is seen; -1: the parse fails. */
	memset(&s, 0, sizeof(s));
	s.stop_at = 3;
	CHECK_INT(addr_parse_header_each(buf, strlen(buf), see, &s), 0);
	CHECK_INT(s.n, 3);
	CHECK_STR(s.last, "u2@example.org");
	memset(&s, 0, sizeof(s));
	s.fail_at = 5;
	CHECK_INT(addr_parse_header_each(buf, strlen(buf), see, &s), -1);
	CHECK_INT(s.n, 5);

	/* A field past ADDR_MAX_FIELD: parsed up to it and flagged; the
	 * address beyond it is not seen, the ones before all are. */
	for (i = 0, p = buf; (size_t)(p - buf) < ADDR_MAX_FIELD; i++)
		p += sprintf(p, "%su%zu@example.org", i ? ", " : "", i);
	len = (size_t)(p - buf);
	n = i;
	p += sprintf(p, ", late@mailinator.com");
	memset(&s, 0, sizeof(s));
	CHECK(addr_parse_header_each(buf, (size_t)(p - buf), see, &s) & TR);
	CHECK(s.n >= n - 1 && s.n <= n);
	CHECK(strcmp(s.last, "late@mailinator.com") != 0);
	CHECK(len > ADDR_MAX_FIELD);

	/* Postfix's default header_size_limit (102,400 bytes) fits whole. */
	for (i = 0, p = buf; (size_t)(p - buf) < 102400 - 30; i++)
		p += sprintf(p, "%su%zu@example.org", i ? ", " : "", i);
	p += sprintf(p, ", late@mailinator.com");
	memset(&s, 0, sizeof(s));
	CHECK_INT(addr_parse_header_each(buf, (size_t)(p - buf), see, &s), 0);
	CHECK_INT(s.n, i + 1);
	CHECK_STR(s.last, "late@mailinator.com");
	free(buf);
}

/* ---- one line of a subscriber export -------------------------------- */

/* line, expected return, and "local@domain" when ADDR_OK */
#define L(in, rc, exp) do {						\
	struct addr l_a = { (char *)"untouched", NULL, 0 };		\
	char l_got[1024] = "";						\
	int l_rc = addr_parse_line((in), &l_a);				\
	CHECK_INT(l_rc, (rc));						\
	if (l_rc == ADDR_OK) {						\
		snprintf(l_got, sizeof(l_got), "%s@%s", l_a.local,	\
		    l_a.domain);					\
		addr_free(&l_a);					\
	} else								\
		CHECK_STR(l_a.local, "untouched");			\
	CHECK_STR(l_got, (exp));					\
	if (l_rc != (rc) || strcmp(l_got, (exp)) != 0)			\
		fprintf(stderr, "  input: [%s]\n", (in));		\
} while (0)

/* The bare line's short way (bare_line in addr.c) gives what the header
 * reading gives. */
static void
test_line_bare(void)
{
	static const char *const lines[] = {
		"anne@example.org", "a.b.c@x.y.z", "Anne.P+list@Example.ORG",
		"a@b", "a@b.", "x@[1.2.3.4]", "a..b@x.com", ".a@x.com",
		"a.@x.com", "a@-x.com", "a@x-.com", "a@x..com",
		"\xc3\xbc@x.com", "a@x_y.com", "a@b.c d", "a@b.c,x",
		"a@b@c", "a!#$%&'*+-/=?^_`{|}~@x.org", "@x.org", "a@",
	};

	for (size_t i = 0; i < sizeof(lines) / sizeof(*lines); i++) {
		struct addr a = { NULL, NULL, 0 };
		struct addr_list l;
		int rc = addr_parse_line(lines[i], &a);
		int hrc = addr_parse_header_list(lines[i], strlen(lines[i]),
		    &l);

		if (hrc == 0 && l.n == 1) {
			CHECK_INT(rc, ADDR_OK);
			if (rc == ADDR_OK) {
				CHECK_STR(a.local, l.v[0].local);
				CHECK_STR(a.domain, l.v[0].domain);
				CHECK_INT(a.literal, l.v[0].literal);
			}
		} else if (l.n == 0 && strchr(lines[i], ',') == NULL)
			CHECK(rc != ADDR_OK);
		if (rc == ADDR_OK)
			addr_free(&a);
		if (hrc == 0)
			addr_list_free(&l);
	}
}

static void
test_line(void)
{
	/* What mailman members and mail clients print. */
	L("anne@example.org", ADDR_OK, "anne@example.org");
	L("<anne@example.org>", ADDR_OK, "anne@example.org");
	L("Anne Person <anne@example.org>", ADDR_OK, "anne@example.org");
	L("\"Anne Person\" <anne@example.org>", ADDR_OK, "anne@example.org");
	L("\"Person, Anne\" <anne@example.org>", ADDR_OK, "anne@example.org");
	L("anne@example.org (Anne Person)", ADDR_OK, "anne@example.org");
	L("\"Anne.P+list\"@Example.ORG", ADDR_OK, "Anne.P+list@Example.ORG");
	/* A display name that is the address counts once. */
	L("\"anne@example.org\" <anne@example.org>", ADDR_OK,
	    "anne@example.org");
	L("\"Anne@EXAMPLE.org\" <anne@example.org>", ADDR_OK,
	    "anne@example.org");
	/* CSV: address first or last, unquoted, more columns. */
	L("anne@example.org,Anne Person", ADDR_OK, "anne@example.org");
	L("Anne Person,anne@example.org", ADDR_OK, "anne@example.org");
	L("anne@example.org,Anne,2024-01-01 10:00:00", ADDR_OK,
	    "anne@example.org");
	L("Anne,Person,anne@example.org,,yes", ADDR_OK, "anne@example.org");
	/* CSV with quoted fields: the header reading sees quoted strings
	 * and finds nothing; the fields, unquoted, hold the address. */
	L("\"anne@example.org\",\"Person, Anne\"", ADDR_OK,
	    "anne@example.org");
	L("\"Person, Anne\",\"anne@example.org\"", ADDR_OK,
	    "anne@example.org");
	L("\"Anne \"\"A\"\" Person\",anne@example.org", ADDR_OK,
	    "anne@example.org");
	L("\"\"\"Anne\"\" <anne@example.org>\",x", ADDR_OK,
	    "anne@example.org");
	L(" \"anne@example.org\" , \"x\"", ADDR_OK, "anne@example.org");
	L("\"anne@example.org", ADDR_OK, "anne@example.org");
	/* No address: a header row, a word, half an address. */
	L("", ADDR_ESYNTAX, "");
	L("email,name", ADDR_ESYNTAX, "");
	L("\"Email Address\",\"First Name\",\"Last Name\"", ADDR_ESYNTAX, "");
	L("not-an-address", ADDR_ESYNTAX, "");
	L("anne@@example.org", ADDR_ESYNTAX, "");
	L("anne at example.org", ADDR_ESYNTAX, "");
	L("\"\",\"\",,", ADDR_ESYNTAX, "");
	/* Two addresses: the line does not say which is the subscriber. */
	L("anne@example.org,bob@example.org", ADDR_EMANY, "");
	L("Anne <anne@example.org>, Bob <bob@example.org>", ADDR_EMANY, "");
	L("\"bob@example.org\",\"anne@example.org\"", ADDR_EMANY, "");
	L("anne@example.org,anne@example.org", ADDR_OK, "anne@example.org");
}

/* ---- out of memory ----------------------------------------------------- */

/* parse(in) runs out of memory at each of its first n allocations,
 * leaving *out as it was, and succeeds with n. */
static void
parse_fails_until(int (*parse)(const char *, struct addr *), const char *in,
    long n)
{
	struct addr	a = { (char *)"keep", NULL, 0 };
	int		rc;

	for (long k = 0; k < n; k++) {
		alloc_budget = k;
		rc = parse(in, &a);
		alloc_budget = -1;
		CHECK_INT(rc, ADDR_ENOMEM);
		CHECK_STR(a.local, "keep");
	}
	alloc_budget = n;
	rc = parse(in, &a);
	alloc_budget = -1;
	CHECK_INT(rc, ADDR_OK);
	CHECK(a.local != NULL && strcmp(a.local, "keep") != 0);
	addr_free(&a);
	CHECK(a.local == NULL && a.domain == NULL);
}

static void
test_enomem(void)
{
	struct addr_list	l;
	char			buf[4096], *p;
	int			rc, failures = 0, successes = 0;
	long			k;

	for (k = 0, p = buf; k < 30; k++)
		p += sprintf(p, "%sN%ld <u%ld@d%ld>", k ? "," : "", k, k, k);

	/* fail the k-th allocation for every k until one run succeeds */
	for (k = 0; k < 200; k++) {
		alloc_budget = k;
		rc = addr_parse_header_list(buf, strlen(buf), &l);
		alloc_budget = -1;
		if (rc == ADDR_ENOMEM) {
			failures++;
			CHECK(l.v == NULL && l.n == 0);
			continue;
		}
		CHECK_INT(rc, 0);
		CHECK_INT(l.n, 30);
		addr_list_free(&l);
		successes++;
		break;
	}
	CHECK(failures > 30);		/* 2 per address plus the array */
	CHECK_INT(successes, 1);

	/* addr_parse_envelope copies local part and domain; so does
	 * addr_parse_line's header reading, and its CSV reading has a field
	 * buffer besides. */
	parse_fails_until(addr_parse_envelope, "<a@b>", 2);
	parse_fails_until(addr_parse_line, "Anne <anne@example.org>", 2);
	parse_fails_until(addr_parse_line, "\"anne@example.org\",x", 3);
	addr_free(NULL);
	addr_list_free(NULL);
}

int
main(void)
{
	test_envelope_forms();
	test_envelope_errors();
	test_envelope_limits();
	test_header_forms();
	test_header_malformed();
	test_header_limits();
	test_line_bare();
	test_header_bounds();
	test_header_each();
	test_line();
	test_enomem();
	return T_DONE();
}
