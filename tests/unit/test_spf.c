/*
 * test_spf.c - the SPF module: record test, screen, parse, evaluation.
 *
 * spf_check_host runs against a fake of dns.h defined here (a table of
 * answers, every callback at once), so the mapping from DNS answers to
 * libspf2 and from libspf2's results to ours is tested without a server.
 * The link wraps SPF_record_compile (-Wl,--wrap) to count what reaches
 * libspf2's compiler: the hostile records must never get there.
 * Client addresses are TEST-NET data only; nothing leaves the process.
 */
#include "config.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <spf2/spf.h>

#include "dns.h"
#include "spf.h"
#include "t.h"

/* --- what reaches the compiler ------------------------------------ */

static int compiled, compiled_macro;

SPF_errcode_t __real_SPF_record_compile(SPF_server_t *, SPF_response_t *,
    SPF_record_t **, const char *);
SPF_errcode_t __wrap_SPF_record_compile(SPF_server_t *, SPF_response_t *,
    SPF_record_t **, const char *);

SPF_errcode_t
__wrap_SPF_record_compile(SPF_server_t *s, SPF_response_t *r,
    SPF_record_t **rp, const char *record)
{
	compiled++;
	if (record != NULL && strchr(record, '%') != NULL)
		compiled_macro++;
	return __real_SPF_record_compile(s, r, rp, record);
}

/* --- a fake dns.h -------------------------------------------------- */

struct dns_session {
	int	left_ms;
};

struct fake_rr {
	const char	*name;
	int		 type;
	enum dns_status	 status;
	const char	*data[4];	/* TXT text, MX host, A/AAAA address */
};

/* Every answer's TTL is 300 but these names'. */
static uint32_t
fake_ttl(const char *name)
{
	if (strcasecmp(name, "short.test") == 0)
		return 1;
	if (strcasecmp(name, "zero.test") == 0)
		return 0;
	return 300;
}

static const struct fake_rr *zone;
static int queries;

/* A hostile record of the CVE-2023-42118 kind: a huge truncation count,
 * reversal, and macros in a domain-spec. */
#define HOSTILE "v=spf1 exists:%{d1000000000r}.%{ir}.%{v}._spf.%{d2} -all"

static const struct fake_rr test_zone[] = {
	{ "pass.test", DNS_T_TXT, DNS_OK,
	    { "v=spf1 ip4:192.0.2.0/24 -all" } },
	{ "soft.test", DNS_T_TXT, DNS_OK,
	    { "google-site-verification=abc%{i}", "v=spf1 ip4:192.0.2.1 ~all" } },
	{ "neutral.test", DNS_T_TXT, DNS_OK, { "v=spf1 ?all" } },
	{ "nodata.test", DNS_T_TXT, DNS_OK, { "some other text" } },
	{ "empty.test", DNS_T_TXT, DNS_NODATA, { NULL } },
	{ "inc.test", DNS_T_TXT, DNS_OK,
	    { "v=spf1 include:Mid.Test -all" } },
	{ "mid.test", DNS_T_TXT, DNS_OK,
	    { "v=spf1 include:_spf.leaf.test -all" } },
	{ "q.test", DNS_T_TXT, DNS_OK,
	    { "v=spf1 ~include:_spf.leaf.test -all" } },
	{ "_spf.leaf.test", DNS_T_TXT, DNS_OK,
	    { "v=spf1 ip4:198.51.100.0/24 ip6:2001:db8::/32 -all" } },
	{ "redir.test", DNS_T_TXT, DNS_OK,
	    { "v=spf1 redirect=_spf.leaf.test" } },
	{ "loopa.test", DNS_T_TXT, DNS_OK,
	    { "v=spf1 include:loopb.test -all" } },
	{ "loopb.test", DNS_T_TXT, DNS_OK,
	    { "v=spf1 include:loopa.test -all" } },
	{ "evil.test", DNS_T_TXT, DNS_OK,
	    { "v=spf1 ip4:192.0.2.0/24 include:mid2.test -all" } },
	{ "mid2.test", DNS_T_TXT, DNS_OK,
	    { "v=spf1 include:hostile.test -all" } },
	{ "hostile.test", DNS_T_TXT, DNS_OK, { HOSTILE } },
	{ "amx.test", DNS_T_TXT, DNS_OK, { "v=spf1 a mx -all" } },
	{ "amx.test", DNS_T_A, DNS_OK, { "192.0.2.20" } },
	{ "amx.test", DNS_T_MX, DNS_OK, { "mail.amx.test", "" } },
	{ "mail.amx.test", DNS_T_A, DNS_OK, { "192.0.2.21" } },
	{ "v6.test", DNS_T_TXT, DNS_OK, { "v=spf1 a -all" } },
	{ "v6.test", DNS_T_AAAA, DNS_OK, { "2001:db8::25" } },
	{ "sf.test", DNS_T_TXT, DNS_SERVFAIL, { NULL } },
	{ "slow.test", DNS_T_TXT, DNS_TIMEOUT, { NULL } },
	{ "two.test", DNS_T_TXT, DNS_OK,
	    { "v=spf1 -all", "v=spf1 +all" } },
	{ "bad.test", DNS_T_TXT, DNS_OK,
	    { "v=spf1 ip4:300.1.1.1 include: -all" } },
	{ "exp.test", DNS_T_TXT, DNS_OK,
	    { "v=spf1 -all exp=why.exp.test" } },
	{ "why.exp.test", DNS_T_TXT, DNS_OK,
	    { "%{i} %{d1000000000r} is not welcome" } },
	{ "many.test", DNS_T_TXT, DNS_OK,
	    { "v=spf1 a:n1.test a:n2.test a:n3.test a:n4.test a:n5.test "
	      "a:n6.test a:n7.test a:n8.test a:n9.test a:n10.test "
	      "a:n11.test a:n12.test -all" } },
	{ "wide.test", DNS_T_TXT, DNS_OK,
	    { "v=spf1 include:w1.test include:w2.test include:w3.test -all" } },
	{ "w1.test", DNS_T_TXT, DNS_OK,
	    { "v=spf1 a:x1.test a:x2.test a:x3.test a:x4.test a:x5.test "
	      "a:x6.test a:x7.test a:x8.test ?all" } },
	{ "w2.test", DNS_T_TXT, DNS_OK,
	    { "v=spf1 a:x1.test a:x2.test a:x3.test a:x4.test a:x5.test "
	      "a:x6.test a:x7.test a:x8.test ?all" } },
	{ "w3.test", DNS_T_TXT, DNS_OK,
	    { "v=spf1 a:x1.test a:x2.test a:x3.test a:x4.test a:x5.test "
	      "a:x6.test a:x7.test a:x8.test ?all" } },
	/* A chain d0 -> d1 -> ... -> d7; d7 lists the client. */
	{ "d0.test", DNS_T_TXT, DNS_OK, { "v=spf1 include:d1.test -all" } },
	{ "d1.test", DNS_T_TXT, DNS_OK, { "v=spf1 include:d2.test -all" } },
	{ "d2.test", DNS_T_TXT, DNS_OK, { "v=spf1 include:d3.test -all" } },
	{ "d3.test", DNS_T_TXT, DNS_OK, { "v=spf1 include:d4.test -all" } },
	{ "d4.test", DNS_T_TXT, DNS_OK, { "v=spf1 include:d5.test -all" } },
	{ "d5.test", DNS_T_TXT, DNS_OK, { "v=spf1 include:d6.test -all" } },
	{ "d6.test", DNS_T_TXT, DNS_OK, { "v=spf1 include:d7.test -all" } },
	{ "d7.test", DNS_T_TXT, DNS_OK, { "v=spf1 ip4:203.0.113.0/24 -all" } },
	/* For the verdict cache: TTLs, and a lookup failing on the way. */
	{ "short.test", DNS_T_TXT, DNS_OK,
	    { "v=spf1 ip4:192.0.2.0/24 -all" } },
	{ "zero.test", DNS_T_TXT, DNS_OK,
	    { "v=spf1 ip4:192.0.2.0/24 -all" } },
	{ "incshort.test", DNS_T_TXT, DNS_OK,
	    { "v=spf1 include:short.test -all" } },
	{ "mxfail.test", DNS_T_TXT, DNS_OK, { "v=spf1 mx ?all" } },
	{ "mxfail.test", DNS_T_MX, DNS_OK, { "sfhost.test", "okhost.test" } },
	{ "sfhost.test", DNS_T_A, DNS_SERVFAIL, { NULL } },
	{ "okhost.test", DNS_T_A, DNS_OK, { "192.0.2.30" } },
	{ NULL, 0, DNS_OK, { NULL } }
};

struct dns_session *
dns_session_new(int budget_ms, char *err, size_t errlen)
{
	struct dns_session *s;

	(void)err;
	(void)errlen;
	if ((s = calloc(1, sizeof(*s))) != NULL)
		s->left_ms = budget_ms ? budget_ms : 8000;
	return s;
}

void
dns_session_free(struct dns_session *s)
{
	free(s);
}

int
dns_session_left_ms(const struct dns_session *s)
{
	return s->left_ms;
}

int
dns_wait(struct dns_session *s)
{
	(void)s;
	return 0;
}

int
dns_query(struct dns_session *s, const char *name, int type,
    dns_callback *cb, void *arg)
{
	struct dns_answer a;
	int found = 0;

	(void)s;
	queries++;
	memset(&a, 0, sizeof(a));
	a.type = type;
	snprintf(a.qname, sizeof(a.qname), "%s", name);
	a.status = DNS_NXDOMAIN;
	for (const struct fake_rr *z = zone; z->name != NULL; z++) {
		if (strcasecmp(z->name, name) != 0)
			continue;
		found = 1;
		if (z->type != type)
			continue;
		a.status = z->status;
		if (z->status == DNS_OK || z->status == DNS_NODATA)
			a.ttl = fake_ttl(name);
		for (int i = 0; i < 4 && z->data[i] != NULL; i++) {
			struct dns_rr *rr = &a.rr[a.n++];

			rr->ttl = a.ttl;
			if (type == DNS_T_TXT)
				rr->txt = strdup(z->data[i]);
			else if (type == DNS_T_MX) {
				rr->pref = 10;
				snprintf(rr->name, sizeof(rr->name), "%s",
				    z->data[i]);
			} else if (type == DNS_T_A) {
				rr->addr.family = AF_INET;
				inet_pton(AF_INET, z->data[i], &rr->addr.u.v4);
			} else if (type == DNS_T_AAAA) {
				rr->addr.family = AF_INET6;
				inet_pton(AF_INET6, z->data[i], &rr->addr.u.v6);
			}
		}
		break;
	}
	if (found && a.status == DNS_NXDOMAIN)
		a.status = DNS_NODATA;
	if (!found || a.status == DNS_NODATA)
		a.ttl = 300;	/* the negative TTL */
	cb(arg, &a);
	for (size_t i = 0; i < a.n; i++)
		free(a.rr[i].txt);
	return 0;
}

/* --- spf_is_record and spf_screen ----------------------------------- */

static void
test_is_record(void)
{
	CHECK_INT(spf_is_record("v=spf1"), 1);
	CHECK_INT(spf_is_record("v=spf1 -all"), 1);
	CHECK_INT(spf_is_record("V=SPF1 ip4:192.0.2.1"), 1);
	CHECK_INT(spf_is_record("v=spf1a"), 0);
	CHECK_INT(spf_is_record("v=spf10 -all"), 0);
	CHECK_INT(spf_is_record(" v=spf1 -all"), 0);
	CHECK_INT(spf_is_record("v=spf1\t-all"), 0);
	CHECK_INT(spf_is_record("spf2.0/mfrom -all"), 0);
	CHECK_INT(spf_is_record("v=spf"), 0);
	CHECK_INT(spf_is_record(""), 0);
	CHECK_INT(spf_is_record(NULL), 0);
}

static void
screen_is(const char *record, const char *want)
{
	const char *why = "unset";
	int rc = spf_screen(record, &why);

	if (want == NULL) {
		CHECK_INT(rc, 0);
		CHECK(why == NULL);
	} else {
		CHECK_INT(rc, -1);
		CHECK_STR(why, want);
	}
	if (rc != (want == NULL ? 0 : -1))
		fprintf(stderr, "  record: %s\n", record ? record : "(null)");
}

/* "v=spf1" and n terms "a:tN.example" */
static char *
record_of_terms(int n)
{
	char *s = malloc(16 + (size_t)n * 24);
	size_t len;

	strcpy(s, "v=spf1");
	len = strlen(s);
	for (int i = 0; i < n; i++)
		len += (size_t)sprintf(s + len, " a:t%d.example", i);
	return s;
}

static void
test_screen(void)
{
	char buf[SPF_RECORD_MAX + 64];
	char *s;

	screen_is("v=spf1 ip4:192.0.2.0/24 include:_spf.example.com -all",
	    NULL);
	screen_is("v=spf1", NULL);
	screen_is("v=spf1 exists:%{i}.x.example -all", "macro");
	screen_is("v=spf1 exists:%{ir}.%{v}._spf.%{d2} -all", "macro");
	screen_is("v=spf1 include:a%%b.example -all", "macro");
	screen_is("v=spf1 include:a%_b.example -all", "macro");
	screen_is("v=spf1 include:a%-b.example -all", "macro");
	screen_is("v=spf1 include:ab.example%", "macro");
	screen_is("v=spf1 -all exp=%{l}.example", "macro");
	screen_is(HOSTILE, "macro");
	screen_is("v=spf1\t-all", "bad character");
	screen_is("v=spf1 -all\r\n", "bad character");
	screen_is("v=spf1 a:\x01.example", "bad character");
	screen_is("v=spf1 a:x\x7f.example", "bad character");
	screen_is("v=spf1 a:caf\xc3\xa9.example -all", "bad character");
	screen_is("v=spf1 a:x\x80%{i}.example -all", "bad character");
	screen_is(NULL, "bad character");
	CHECK_INT(spf_screen("v=spf1 -all", NULL), 0);
	CHECK_INT(spf_screen("v=spf1 %{i}", NULL), -1);

	/* Exactly SPF_RECORD_MAX bytes pass, one more does not. */
	memset(buf, 0, sizeof(buf));
	strcpy(buf, "v=spf1 a:");
	memset(buf + strlen(buf), 'x', SPF_RECORD_MAX - strlen(buf));
	CHECK_INT(strlen(buf), SPF_RECORD_MAX);
	screen_is(buf, NULL);
	buf[SPF_RECORD_MAX] = 'x';
	screen_is(buf, "too long");
	/* Length is judged before the macro. */
	buf[20] = '%';
	screen_is(buf, "too long");

	s = record_of_terms(SPF_MAX_TERMS);
	screen_is(s, NULL);
	free(s);
	s = record_of_terms(SPF_MAX_TERMS + 1);
	screen_is(s, "too many terms");
	free(s);
	/* Runs of spaces are one separator. */
	screen_is("v=spf1    a     mx   -all   ", NULL);

	/* A CIDR length libspf2 would let overflow (fuzz_spf found
	 * "ip6:::/6666666666" compiled as /170); three digits pass. */
	screen_is("v=spf1 ip6:::/6666666666 -all", "bad cidr length");
	screen_is("v=spf1 ip4:192.0.2.0/4294967297 -all", "bad cidr length");
	screen_is("v=spf1 a:mail.example.com/0024 -all", "bad cidr length");
	screen_is("v=spf1 mx//1280 -all", "bad cidr length");
	screen_is("v=spf1 a/24 mx//128 ip4:192.0.2.0/32 ip6:2001:db8::/128 "
	    "a:x.example/999", NULL);
}

/* --- spf_parse ------------------------------------------------------ */

static const char *
addr_str(const struct spf_range *r, char *buf, size_t len)
{
	return inet_ntop(r->addr.family, &r->addr.u, buf, (socklen_t)len);
}

static void
test_parse(void)
{
	struct spf_terms t;
	char err[256], a[64];
	int before;

	CHECK_INT(spf_parse("v=spf1 include:_spf.Google.COM "
	    "ip4:192.0.2.0/24 ip4:198.51.100.7 ip4:203.0.113.9/32 "
	    "ip6:2001:db8::/64 ip6:2001:DB8:1::1 "
	    "-include:Bad.Example. ~include:soft.example ?include:n.example "
	    "+include:p.example "
	    "a mx:mx.example/24 ptr exists:x.example a:y.example//64 "
	    "redirect=Next.Example. exp=e.example", &t, err, sizeof(err)), 0);
	CHECK_STR(err, "");
	CHECK_INT(t.ninclude, 5);
	CHECK_STR(t.include[0], "_spf.google.com");
	CHECK_STR(t.include[1], "bad.example");
	CHECK_STR(t.include[2], "soft.example");
	CHECK_STR(t.include[3], "n.example");
	CHECK_STR(t.include[4], "p.example");
	CHECK_STR(t.redirect, "next.example");
	CHECK_INT(t.truncated, 0);
	CHECK_INT(t.nrange, 5);
	CHECK_INT(t.range[0].addr.family, AF_INET);
	CHECK_STR(addr_str(&t.range[0], a, sizeof(a)), "192.0.2.0");
	CHECK_INT(t.range[0].prefix, 24);
	CHECK_STR(addr_str(&t.range[1], a, sizeof(a)), "198.51.100.7");
	CHECK_INT(t.range[1].prefix, 32);
	CHECK_STR(addr_str(&t.range[2], a, sizeof(a)), "203.0.113.9");
	CHECK_INT(t.range[2].prefix, 32);
	CHECK_INT(t.range[3].addr.family, AF_INET6);
	CHECK_STR(addr_str(&t.range[3], a, sizeof(a)), "2001:db8::");
	CHECK_INT(t.range[3].prefix, 64);
	CHECK_STR(addr_str(&t.range[4], a, sizeof(a)), "2001:db8:1::1");
	CHECK_INT(t.range[4].prefix, 128);

	/* Upper-case keywords, no terms, odd CIDRs. */
	CHECK_INT(spf_parse("V=SPF1 IP4:192.0.2.128/25 INCLUDE:X.Example "
	    "IP6:2001:db8::/48 -ALL", &t, err, sizeof(err)), 0);
	CHECK_INT(t.ninclude, 1);
	CHECK_STR(t.include[0], "x.example");
	CHECK_INT(t.nrange, 2);
	CHECK_INT(t.range[0].prefix, 25);
	CHECK_INT(t.range[1].prefix, 48);
	CHECK_STR(t.redirect, "");
	CHECK_INT(spf_parse("v=spf1", &t, err, sizeof(err)), 0);
	CHECK_INT(t.ninclude + t.nrange, 0);
	CHECK_STR(t.redirect, "");
	CHECK_INT(spf_parse("v=spf1 ip4:192.0.2.1/1 ip6:::1/1",
	    &t, err, sizeof(err)), 0);
	CHECK_INT(t.range[0].prefix, 1);
	CHECK_INT(t.range[1].prefix, 1);

	/* More includes than kept. */
	{
		char rec[1024];
		size_t len = (size_t)sprintf(rec, "v=spf1");

		for (int i = 0; i < SPF_MAX_INCLUDES + 3; i++)
			len += (size_t)sprintf(rec + len, " include:i%d.example",
			    i);
		CHECK_INT(spf_parse(rec, &t, err, sizeof(err)), 0);
		CHECK_INT(t.ninclude, SPF_MAX_INCLUDES);
		CHECK_INT(t.truncated, 1);
		CHECK_STR(t.include[SPF_MAX_INCLUDES - 1], "i15.example");
	}

	/* A 253-byte include name fits, 254 does not. */
	{
		char rec[400];

		strcpy(rec, "v=spf1 include:");
		memset(rec + 15, 'a', 253);
		rec[15 + 253] = '\0';
		CHECK_INT(spf_parse(rec, &t, err, sizeof(err)), 0);
		CHECK_INT(strlen(t.include[0]), 253);
		strcat(rec, "b");
		CHECK_INT(spf_parse(rec, &t, err, sizeof(err)), -1);
		CHECK(err[0] != '\0');
		CHECK_INT(t.ninclude, 0);
	}

	/* Malformed records: -1 with libspf2's reason, no crash. */
	CHECK_INT(spf_parse("v=spf1 ip4:300.1.1.1 include:", &t, err,
	    sizeof(err)), -1);
	CHECK(strncmp(err, "libspf2: ", 9) == 0);
	CHECK_INT(spf_parse("v=spf1 ip4:192.0.2.0/33", &t, err, sizeof(err)),
	    -1);
	CHECK(strncmp(err, "libspf2: ", 9) == 0);
	CHECK_INT(spf_parse("v=spf1 ip6:2001:db8::/129", &t, err, sizeof(err)),
	    -1);
	CHECK_INT(spf_parse("v=spf1 foo:bar.example", &t, err, sizeof(err)),
	    -1);
	CHECK_INT(spf_parse("v=spf1 include", &t, err, sizeof(err)), -1);
	CHECK_INT(spf_parse("v=spf1 ip4", &t, err, sizeof(err)), -1);
	CHECK_INT(spf_parse("v=spf1 ==", &t, err, sizeof(err)), -1);
	CHECK_INT(spf_parse("v=spf1 -all -all -all ~", &t, err, sizeof(err)),
	    -1);
	CHECK_INT(spf_parse("v=spf1 a/0", &t, err, sizeof(err)), -1);
	CHECK_INT(spf_parse("spf2.0/pra include:x.example", &t, err,
	    sizeof(err)), -1);
	CHECK_STR(err, "not an SPF record");
	CHECK_INT(spf_parse("", &t, err, sizeof(err)), -1);

	/* The hostile records never reach the compiler. */
	before = compiled;
	CHECK_INT(spf_parse(HOSTILE, &t, err, sizeof(err)), -1);
	CHECK_STR(err, "refused: macro");
	CHECK_INT(spf_parse("v=spf1 exists:%{d1000000000r}.x", &t, err,
	    sizeof(err)), -1);
	CHECK_STR(err, "refused: macro");
	{
		/* Many macros right up to the length limit, in a
		 * modifier (whose 511-byte buffer the reported underflow
		 * is about) and in a mechanism. */
		char rec[SPF_RECORD_MAX + 1];
		static const char *const pre[] = { "v=spf1 exp=",
			"v=spf1 exists:", "v=spf1 include:" };

		for (size_t p = 0; p < 3; p++) {
			size_t len = (size_t)sprintf(rec, "%s", pre[p]);

			while (len + 12 <= SPF_RECORD_MAX)
				len += (size_t)sprintf(rec + len,
				    "%%{d9r}%%{l}x");
			CHECK(strlen(rec) <= SPF_RECORD_MAX);
			CHECK_INT(spf_parse(rec, &t, err, sizeof(err)), -1);
			CHECK_STR(err, "refused: macro");
		}
	}
	/* Nor do CIDR lengths that wrap: /4294967297 compiled as /1. */
	CHECK_INT(spf_parse("v=spf1 ip4:192.0.2.0/4294967297 -all", &t, err,
	    sizeof(err)), -1);
	CHECK_STR(err, "refused: bad cidr length");
	CHECK_INT(t.nrange, 0);
	CHECK_INT(spf_parse("v=spf1 ip6:::/6666666666 -all", &t, err,
	    sizeof(err)), -1);
	CHECK_STR(err, "refused: bad cidr length");
	CHECK_INT(compiled, before);
	CHECK_INT(compiled_macro, 0);

	/* And a benign record does reach it. */
	CHECK_INT(spf_parse("v=spf1 -all", &t, err, sizeof(err)), 0);
	CHECK_INT(compiled, before + 1);
}

/* The outcome of a text parsed before is given again, libspf2 not
 * asked; the memo is bounded. */
static void
test_memo(void)
{
	static const char rec[] = "v=spf1 include:Memo.Example "
	    "ip4:192.0.2.0/24 ip6:2001:db8::/32 include:two.example "
	    "redirect=R.example";
	static const char bad[] = "v=spf1 ip4:300.1.1.1 include: -all";
	static const struct spf_terms empty;
	struct spf_terms *t1 = malloc(sizeof(*t1)), *t2 = malloc(sizeof(*t2));
	char err[256], err2[256], other[64];
	int before;

	CHECK(t1 != NULL && t2 != NULL);
	if (t1 == NULL || t2 == NULL)
		return;
	before = compiled;
	CHECK_INT(spf_parse(rec, t1, err, sizeof(err)), 0);
	CHECK_INT(compiled, before + 1);
	memset(t2, 0x5a, sizeof(*t2));
	CHECK_INT(spf_parse(rec, t2, err, sizeof(err)), 0);
	CHECK_INT(compiled, before + 1);
	CHECK_STR(err, "");
	CHECK(memcmp(t1, t2, sizeof(*t1)) == 0);
	CHECK_INT(t2->ninclude, 2);
	CHECK_STR(t2->include[0], "memo.example");
	CHECK_STR(t2->include[1], "two.example");
	CHECK_STR(t2->redirect, "r.example");
	CHECK_INT(t2->nrange, 2);
	CHECK_INT(t2->range[1].prefix, 32);

	/* libspf2's refusal is the record's too. */
	CHECK_INT(spf_parse(bad, t1, err, sizeof(err)), -1);
	before = compiled;
	memset(t2, 0x5a, sizeof(*t2));
	CHECK_INT(spf_parse(bad, t2, err2, sizeof(err2)), -1);
	CHECK_INT(compiled, before);
	CHECK_STR(err2, err);
	CHECK(memcmp(t2, &empty, sizeof(*t2)) == 0);

	/* Bounded: SPF_PARSE_MEMO other texts push the first one out. */
	for (int i = 0; i < SPF_PARSE_MEMO; i++) {
		snprintf(other, sizeof(other), "v=spf1 include:m%d.example -all",
		    i);
		CHECK_INT(spf_parse(other, t1, err, sizeof(err)), 0);
	}
	before = compiled;
	CHECK_INT(spf_parse(rec, t1, err, sizeof(err)), 0);
	CHECK_INT(compiled, before + 1);
	CHECK_STR(t1->include[0], "memo.example");
	free(t1);
	free(t2);
}

/* --- spf_check_host ------------------------------------------------- */

static enum spf_result
check(const char *ip, const char *domain, char *why, size_t whylen)
{
	struct dns_session s = { 8000 };

	queries = 0;
	return spf_check_host(&s, ip, "mx.example", domain, why, whylen);
}

#define CHECK_SPF(ip, dom, want) do {					\
	char t_why[256];						\
	enum spf_result t_r = check((ip), (dom), t_why, sizeof(t_why));	\
	CHECK_STR(spf_result_name(t_r), spf_result_name(want));	\
	if (t_r != (want))						\
		fprintf(stderr, "  %s %s: %s\n", (ip), (dom), t_why);	\
} while (0)

static void
test_check_host(void)
{
	char why[256];
	struct dns_session s = { 0 };
	int before;

	zone = test_zone;
	CHECK_SPF("192.0.2.10", "pass.test", SPFR_PASS);
	CHECK_INT(queries, 1);
	CHECK_SPF("198.51.100.1", "pass.test", SPFR_FAIL);
	CHECK_SPF("203.0.113.5", "soft.test", SPFR_SOFTFAIL);
	CHECK_SPF("192.0.2.1", "soft.test", SPFR_PASS);
	CHECK_SPF("192.0.2.1", "neutral.test", SPFR_NEUTRAL);
	CHECK_SPF("192.0.2.1", "none.test", SPFR_NONE);
	CHECK_SPF("192.0.2.1", "nodata.test", SPFR_NONE);
	CHECK_SPF("192.0.2.1", "empty.test", SPFR_NONE);
	/* include two levels deep, named in mixed case */
	CHECK_SPF("198.51.100.7", "inc.test", SPFR_PASS);
	CHECK_SPF("2001:db8::1", "inc.test", SPFR_PASS);
	CHECK_SPF("203.0.113.1", "inc.test", SPFR_FAIL);
	CHECK_SPF("2001:db9::1", "inc.test", SPFR_FAIL);
	/* the include's qualifier applies when it matches */
	CHECK_SPF("198.51.100.7", "q.test", SPFR_SOFTFAIL);
	CHECK_SPF("192.0.2.1", "q.test", SPFR_FAIL);
	CHECK_SPF("198.51.100.7", "redir.test", SPFR_PASS);
	CHECK_SPF("192.0.2.1", "redir.test", SPFR_FAIL);
	/* a and mx, with a null MX beside the real one */
	CHECK_SPF("192.0.2.20", "amx.test", SPFR_PASS);
	CHECK_SPF("192.0.2.21", "amx.test", SPFR_PASS);
	CHECK_SPF("192.0.2.22", "amx.test", SPFR_FAIL);
	CHECK_SPF("2001:db8::25", "v6.test", SPFR_PASS);
	CHECK_SPF("2001:db8::26", "v6.test", SPFR_FAIL);
	/* DNS trouble and malformed records */
	CHECK_SPF("192.0.2.1", "sf.test", SPFR_TEMPERROR);
	CHECK_SPF("192.0.2.1", "slow.test", SPFR_TEMPERROR);
	CHECK_SPF("192.0.2.1", "two.test", SPFR_PERMERROR);
	CHECK_SPF("192.0.2.1", "bad.test", SPFR_PERMERROR);
	/* More than 10 DNS-querying terms: libspf2 says permerror. */
	CHECK_SPF("192.0.2.1", "many.test", SPFR_PERMERROR);
	CHECK(queries <= 20);
	/* 1 + 3 x 9 lookups: the layer stops at 20, temperror. */
	CHECK_INT(check("192.0.2.1", "wide.test", why, sizeof(why)),
	    SPFR_TEMPERROR);
	CHECK_STR(why, "lookup limit");
	CHECK_INT(queries, 20);
	/* include loop: bounded, an error, no hang */
	{
		enum spf_result r = check("192.0.2.1", "loopa.test", why,
		    sizeof(why));

		CHECK(r == SPFR_PERMERROR || r == SPFR_TEMPERROR);
		CHECK(queries <= 20);
	}
	/* nesting: d2 is 5 includes from d7, d0 is 7 */
	CHECK_SPF("203.0.113.7", "d2.test", SPFR_PASS);
	CHECK_INT(check("203.0.113.7", "d1.test", why, sizeof(why)),
	    SPFR_PERMERROR);
	CHECK_STR(why, "nested too deep");
	CHECK_SPF("203.0.113.7", "d0.test", SPFR_PERMERROR);
	/* A hostile record two includes down: skipped, never compiled.
	 * A client that matches the ip4 before the include passes: the
	 * hostile record is never fetched then. */
	before = compiled;
	compiled_macro = 0;
	CHECK_INT(check("198.51.100.9", "evil.test", why, sizeof(why)),
	    SPFR_SKIPPED);
	CHECK_STR(why, "refused: macro (hostile.test)");
	CHECK_INT(compiled_macro, 0);
	CHECK_INT(compiled, before + 2);	/* evil.test, mid2.test */
	CHECK_SPF("192.0.2.9", "evil.test", SPFR_PASS);
	CHECK_SPF("198.51.100.9", "hostile.test", SPFR_SKIPPED);
	/* An exp= text full of macros is dropped: plain fail. */
	CHECK_SPF("192.0.2.1", "exp.test", SPFR_FAIL);
	CHECK_INT(compiled_macro, 0);
	/* Bad input */
	CHECK_SPF("not-an-address", "pass.test", SPFR_PERMERROR);
	CHECK_SPF("192.0.2.300", "pass.test", SPFR_PERMERROR);
	CHECK_SPF("192.0.2.1", "", SPFR_PERMERROR);
	CHECK_SPF("192.0.2.1", "a%{i}.test", SPFR_PERMERROR);
	CHECK_SPF("192.0.2.1", "user@pass.test", SPFR_PERMERROR);
	CHECK_INT(spf_check_host(NULL, "192.0.2.1", NULL, "pass.test", why,
	    sizeof(why)), SPFR_TEMPERROR);
	CHECK_INT(spf_check_host(&s, "192.0.2.1", NULL, "pass.test", NULL, 0),
	    SPFR_TEMPERROR);
	/* The session's deadline has passed: no query at all. */
	queries = 0;
	CHECK_INT(spf_check_host(&s, "192.0.2.10", NULL, "pass.test", why,
	    sizeof(why)), SPFR_TEMPERROR);
	CHECK_STR(why, "deadline");
	CHECK_INT(queries, 0);
	/* libspf2 passes loopback clients without looking. */
	CHECK_SPF("127.0.0.1", "sf.test", SPFR_PASS);
	CHECK_INT(queries, 0);
}

/* --- the verdict cache ---------------------------------------------- */

/* spf_stats' hits (1) or misses (0). */
static uint64_t
counted(int hit)
{
	struct spf_stats st;

	spf_get_stats(&st);
	return hit ? st.cache_hits : st.cache_misses;
}
#define hits()		counted(1)
#define misses()	counted(0)

static void
cache_size(size_t n)
{
	struct spf_config c;
	char err[128];

	spf_config_default(&c);
	c.cache_size = n;
	CHECK_INT(spf_configure(&c, err, sizeof(err)), 0);
}

/* Checked twice: the second time answered by the cache (want 1) or
 * evaluated again (want 0). */
static void
twice(const char *ip, const char *dom, enum spf_result want, int cached)
{
	char why1[256], why2[256];
	uint64_t h0 = hits(), m0 = misses();
	int q1;

	CHECK_INT(check(ip, dom, why1, sizeof(why1)), want);
	q1 = queries;
	CHECK_INT(misses() - m0, 1);
	CHECK_INT(check(ip, dom, why2, sizeof(why2)), want);
	CHECK_STR(why2, why1);
	if (cached) {
		CHECK_INT(queries, 0);
		CHECK_INT(hits() - h0, 1);
		CHECK_INT(misses() - m0, 1);
	} else {
		CHECK_INT(queries, q1);
		CHECK_INT(hits() - h0, 0);
		CHECK_INT(misses() - m0, 2);
	}
	if (t_failed > 0 && (cached ? queries != 0 : hits() != h0))
		fprintf(stderr, "  %s %s: %s by the cache\n", ip, dom,
		    cached ? "not answered" : "answered");
}

/* One check with its expected result; the queries it took. */
static int
asked(const char *ip, const char *dom, enum spf_result want)
{
	char why[256];

	CHECK_STR(spf_result_name(check(ip, dom, why, sizeof(why))),
	    spf_result_name(want));
	return queries;
}

static void
test_cache(void)
{
	struct spf_config c;
	struct dns_session s = { 8000 };
	char why[256];
	uint64_t h0, m0;

	zone = test_zone;
	spf_config_default(&c);
	CHECK_INT(c.cache_size, 10000);
	cache_size(100);

	/* Evaluated once, then answered: same result, same reason, no
	 * query, no libspf2 at all. */
	h0 = hits();
	m0 = misses();
	twice("192.0.2.10", "pass.test", SPFR_PASS, 1);
	CHECK_INT(hits() - h0, 1);
	CHECK_INT(misses() - m0, 1);
	/* The domain in any case, any HELO: the same verdict. */
	CHECK_INT(check("192.0.2.10", "PASS.Test", why, sizeof(why)),
	    SPFR_PASS);
	CHECK_INT(queries, 0);
	queries = 0;
	CHECK_INT(spf_check_host(&s, "192.0.2.10", "other.example",
	    "pass.test", why, sizeof(why)), SPFR_PASS);
	CHECK_INT(queries, 0);
	CHECK_INT(spf_check_host(&s, "192.0.2.10", NULL, "pass.test", NULL,
	    0), SPFR_PASS);
	/* Another client, another domain: another verdict. */
	twice("198.51.100.1", "pass.test", SPFR_FAIL, 1);
	twice("192.0.2.10", "neutral.test", SPFR_NEUTRAL, 1);
	twice("2001:db8::1", "inc.test", SPFR_PASS, 1);
	twice("2001:db9::1", "inc.test", SPFR_FAIL, 1);
	CHECK_INT(check("2001:DB8:0::1", "inc.test", why, sizeof(why)),
	    SPFR_PASS);
	CHECK_INT(queries, 0);		/* the same address, written apart */
	/* No record, a refused record, a permanent error: facts too. */
	twice("192.0.2.1", "none.test", SPFR_NONE, 1);
	twice("198.51.100.9", "hostile.test", SPFR_SKIPPED, 1);
	twice("192.0.2.1", "two.test", SPFR_PERMERROR, 1);
	/* libspf2's loopback rule needs no DNS: kept all the same. */
	twice("127.0.0.1", "sf.test", SPFR_PASS, 1);

	/* Temporary errors are never kept: SERVFAIL, a timeout, the
	 * lookup limit, the deadline. */
	twice("192.0.2.1", "sf.test", SPFR_TEMPERROR, 0);
	twice("192.0.2.1", "slow.test", SPFR_TEMPERROR, 0);
	twice("192.0.2.1", "wide.test", SPFR_TEMPERROR, 0);
	{
		struct dns_session past = { 0 };

		CHECK_INT(spf_check_host(&past, "192.0.2.77", NULL,
		    "pass.test", why, sizeof(why)), SPFR_TEMPERROR);
		CHECK_INT(check("192.0.2.77", "pass.test", why, sizeof(why)),
		    SPFR_PASS);
		CHECK_INT(queries, 1);
	}
	/* A verdict reached past a failed lookup is not kept either. */
	{
		enum spf_result r = check("192.0.2.99", "mxfail.test", why,
		    sizeof(why));

		CHECK(queries > 0);
		CHECK_INT(check("192.0.2.99", "mxfail.test", why, sizeof(why)),
		    r);
		CHECK(queries > 0);
	}
	/* A bad address is never a key. */
	twice("not-an-address", "pass.test", SPFR_PERMERROR, 0);

	/* TTL 0: not kept.  TTL 1: kept one second, also through an
	 * include whose own record has a TTL of 300. */
	twice("192.0.2.1", "zero.test", SPFR_PASS, 0);
	twice("192.0.2.1", "short.test", SPFR_PASS, 1);
	twice("192.0.2.1", "incshort.test", SPFR_PASS, 1);
	sleep(2);	/* about expiry, not speed */
	CHECK_INT(asked("192.0.2.1", "short.test", SPFR_PASS), 1);
	CHECK_INT(asked("192.0.2.1", "incshort.test", SPFR_PASS), 2);
	CHECK_INT(asked("192.0.2.10", "pass.test", SPFR_PASS), 0); /* 300 s */

	/* Bounded: two entries, the least recently used goes. */
	cache_size(2);
	CHECK_INT(asked("192.0.2.10", "pass.test", SPFR_PASS), 1); /* empty */
	CHECK_INT(asked("192.0.2.1", "soft.test", SPFR_PASS), 1);
	CHECK_INT(asked("192.0.2.10", "pass.test", SPFR_PASS), 0); /* newest */
	CHECK_INT(asked("192.0.2.1", "neutral.test", SPFR_NEUTRAL), 1);
	CHECK_INT(asked("192.0.2.10", "pass.test", SPFR_PASS), 0);
	CHECK_INT(asked("192.0.2.1", "soft.test", SPFR_PASS), 1); /* evicted */

	/* A reason longer than the caller's buffer is cut, as evaluated. */
	{
		char small[8];

		CHECK_INT(check("192.0.2.10", "pass.test", small,
		    sizeof(small)), SPFR_PASS);
		CHECK_INT(strlen(small), sizeof(small) - 1);
	}

	/* Off: everything evaluated. */
	cache_size(0);
	twice("192.0.2.10", "pass.test", SPFR_PASS, 0);
	spf_fini();
	twice("192.0.2.10", "pass.test", SPFR_PASS, 0);
}

static void
test_names(void)
{
	CHECK_STR(spf_result_name(SPFR_NONE), "none");
	CHECK_STR(spf_result_name(SPFR_NEUTRAL), "neutral");
	CHECK_STR(spf_result_name(SPFR_PASS), "pass");
	CHECK_STR(spf_result_name(SPFR_FAIL), "fail");
	CHECK_STR(spf_result_name(SPFR_SOFTFAIL), "softfail");
	CHECK_STR(spf_result_name(SPFR_TEMPERROR), "temperror");
	CHECK_STR(spf_result_name(SPFR_PERMERROR), "permerror");
	CHECK_STR(spf_result_name(SPFR_SKIPPED), "skipped");
	CHECK_STR(spf_result_name(SPFR_COUNT), "unknown");
}

int
main(void)
{
	char err[128];

	CHECK_INT(spf_init(err, sizeof(err)), 0);
	test_is_record();
	test_screen();
	test_parse();
	test_memo();
	test_check_host();
	test_cache();
	test_names();
	return T_DONE();
}
