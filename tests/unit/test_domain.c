/*
 * test_domain.c - normalisation and the public-suffix boundary.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "domain.h"
#include "t.h"

static char out[DOMAIN_MAX + 1];

/* Normalise in and expect rc; with rc DOMAIN_OK also the result. */
static void
norm(const char *in, int rc, const char *want)
{
	int got;

	memset(out, 'x', sizeof(out));
	got = domain_normalise(in, out);
	if (got != rc)
		fprintf(stderr, "input \"%s\"\n", in);
	CHECK_INT(got, rc);
	CHECK_STR(out, rc == DOMAIN_OK ? want : "");
}

static void
test_normalise(void)
{
	char big[400];

	norm("example.com", DOMAIN_OK, "example.com");
	norm("Example.COM.", DOMAIN_OK, "example.com");
	norm("EXAMPLE.COM", DOMAIN_OK, "example.com");
	norm("a-b.c0m", DOMAIN_OK, "a-b.c0m");
	norm("123.example", DOMAIN_OK, "123.example");
	norm("ab--cd.com", DOMAIN_OK, "ab--cd.com");

	/* IDNA: UTS #46 mapping, non-transitional, to A-labels. */
	norm("MÄCHINE.example", DOMAIN_OK, "xn--mchine-bua.example");
	norm("mächine.example.", DOMAIN_OK, "xn--mchine-bua.example");
	norm("xn--mchine-bua.example", DOMAIN_OK, "xn--mchine-bua.example");
	norm("XN--MCHINE-BUA.example", DOMAIN_OK, "xn--mchine-bua.example");
	norm("faß.de", DOMAIN_OK, "xn--fa-hia.de");	/* not "fass.de" */
	norm("bücher。example", DOMAIN_OK, "xn--bcher-kva.example");
	norm("пример.рф", DOMAIN_OK, "xn--e1afmkfd.xn--p1ai");
	/* An ASCII label idn2 alone would refuse beside a U-label. */
	norm("ab--cd.bücher.de", DOMAIN_OK, "ab--cd.xn--bcher-kva.de");
	/* IDNA2008 disallows emoji, DNS and the public lists have them. */
	norm("xn--o38h.abrdns.com", DOMAIN_OK, "xn--o38h.abrdns.com");
	norm("\xf0\x9f\x98\xad.abrdns.com", DOMAIN_OK, "xn--o38h.abrdns.com");
	/* ... but the fallback never turns sharp s into "ss". */
	norm("fa\xc3\x9f\xf0\x9f\x98\xad.de", DOMAIN_EINVALID, NULL);
	/* Forged A-labels. */
	norm("xn--zz.com", DOMAIN_EINVALID, NULL);
	norm("xn--abc-.com", DOMAIN_EINVALID, NULL);
	norm("xn--.com", DOMAIN_EINVALID, NULL);

	/* Syntax. */
	norm("", DOMAIN_EINVALID, NULL);
	norm(".", DOMAIN_EINVALID, NULL);
	norm("..", DOMAIN_EINVALID, NULL);
	norm("a..com", DOMAIN_EINVALID, NULL);
	norm(".a.com", DOMAIN_EINVALID, NULL);
	norm("a.com..", DOMAIN_EINVALID, NULL);
	norm("-a.com", DOMAIN_EINVALID, NULL);
	norm("a-.com", DOMAIN_EINVALID, NULL);
	norm("a b.com", DOMAIN_EINVALID, NULL);
	norm(" a.com", DOMAIN_EINVALID, NULL);
	norm("a_b.com", DOMAIN_EINVALID, NULL);
	norm("_dmarc.a.com", DOMAIN_EINVALID, NULL);
	norm("a@b.com", DOMAIN_EINVALID, NULL);
	norm("*.a.com", DOMAIN_EINVALID, NULL);
	norm("a.123", DOMAIN_EINVALID, NULL);
	norm("ä b.com", DOMAIN_EINVALID, NULL);
	norm("a\tb.com", DOMAIN_EINVALID, NULL);
	norm(NULL, DOMAIN_EINVALID, NULL);

	/* Label of 63 is fine, 64 is not. */
	memset(big, 'a', 63);
	strcpy(big + 63, ".com");
	norm(big, DOMAIN_OK, big);
	memset(big, 'a', 64);
	strcpy(big + 64, ".com");
	norm(big, DOMAIN_EINVALID, NULL);

	/* 253 bytes in total is fine (with or without the root dot), 254
	 * is not: 63+1+63+1+63+1+57+1+3 = 253. */
	memset(big, 'a', sizeof(big));
	big[63] = big[127] = big[191] = big[249] = '.';
	strcpy(big + 250, "com");
	CHECK_INT(strlen(big), 253);
	norm(big, DOMAIN_OK, big);
	{
		char want[DOMAIN_MAX + 1];

		strcpy(want, big);
		strcat(big, ".");
		norm(big, DOMAIN_OK, want);
	}
	memset(big, 'a', sizeof(big));
	big[63] = big[127] = big[191] = big[250] = '.';
	strcpy(big + 251, "com");
	CHECK_INT(strlen(big), 254);
	norm(big, DOMAIN_EINVALID, NULL);
	/* Overlong input of any kind. */
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	norm(big, DOMAIN_EINVALID, NULL);

	/* Literals and IP addresses. */
	norm("[1.2.3.4]", DOMAIN_ELITERAL, NULL);
	norm("[IPv6:::1]", DOMAIN_ELITERAL, NULL);
	norm("1.2.3.4", DOMAIN_ELITERAL, NULL);
	norm("1.2.3.4.", DOMAIN_ELITERAL, NULL);
	norm("010.1.1.1", DOMAIN_ELITERAL, NULL);
	norm("::1", DOMAIN_ELITERAL, NULL);
	norm("2001:db8::25", DOMAIN_ELITERAL, NULL);
	norm("a::b::c", DOMAIN_EINVALID, NULL);
	norm("example.com:25", DOMAIN_EINVALID, NULL);
}

static void
test_psl(void)
{
	const char *r;

	CHECK_INT(domain_is_public_suffix("com"), 1);
	CHECK_INT(domain_is_public_suffix("co.uk"), 1);
	CHECK_INT(domain_is_public_suffix("github.io"), 1);	/* private */
	CHECK_INT(domain_is_public_suffix("blogspot.com"), 1);
	CHECK_INT(domain_is_public_suffix("mailinator.com"), 0);
	CHECK_INT(domain_is_public_suffix("example.co.uk"), 0);
	CHECK_INT(domain_is_public_suffix("xn--p1ai"), 1);

	CHECK_STR(domain_registrable("x.y.mailinator.com"), "mailinator.com");
	CHECK_STR(domain_registrable("mailinator.com"), "mailinator.com");
	CHECK_STR(domain_registrable("a.b.example.co.uk"), "example.co.uk");
	CHECK_STR(domain_registrable("me.github.io"), "me.github.io");
	CHECK_STR(domain_registrable("x.me.github.io"), "me.github.io");
	CHECK_STR(domain_registrable("co.uk"), NULL);
	CHECK_STR(domain_registrable("com"), NULL);
	/* A pointer into the argument, as domain.h promises. */
	{
		const char *d = "x.y.mailinator.com";

		r = domain_registrable(d);
		CHECK(r == d + 4);
	}

	/* domain_within_registrable: the same boundary as
	 * domain_registrable, for every suffix of names the public suffix
	 * list makes hard (wildcards, exceptions, private and deep rules),
	 * asked one at a time and as one walk from specific to general. */
	{
		static const char *const names[] = {
			"x.y.mailinator.com", "mailinator.com", "com",
			"a.b.example.co.uk", "co.uk", "x.me.github.io",
			"me.github.io", "github.io", "a.b.blogspot.com",
			"www.ck", "a.www.ck", "b.a.www.ck", "x.ck", "y.x.ck",
			"a.b.c.kawasaki.jp", "city.kawasaki.jp",
			"a.city.kawasaki.jp", "b.a.city.kawasaki.jp",
			"x.s3.dualstack.us-east-1.amazonaws.com",
			"s3.dualstack.us-east-1.amazonaws.com",
			"a.dualstack.us-east-1.amazonaws.com",
			"h.x.compute.amazonaws.com", "a.b.c.d.e.example",
			"localhost", "a.b.xn--p1ai", "xn--p1ai",
		};

		for (size_t i = 0; i < sizeof(names) / sizeof(*names); i++) {
			const char *n = names[i], *reg = domain_registrable(n);
			const char *walk = n, *d;

			for (d = n; d != NULL; d = domain_parent(d)) {
				const char *one = n;
				int want = reg != NULL && d <= reg;

				if (domain_within_registrable(n, d, &one) !=
				    want || domain_within_registrable(n, d,
				    &walk) != want) {
					fprintf(stderr, "within_registrable: "
					    "%s in %s: expected %d\n", d, n,
					    want);
					CHECK(0);
				}
			}
		}
	}

	CHECK_STR(domain_parent("x.y.mailinator.com"), "y.mailinator.com");
	CHECK_STR(domain_parent("mailinator.com"), "com");
	CHECK_STR(domain_parent("com"), NULL);
}

int
main(void)
{
	char err[256];

	CHECK_INT(domain_init("/nonexistent/psl.dat", err, sizeof(err)), -1);
	CHECK(strstr(err, "/nonexistent/psl.dat") != NULL);
	if (domain_init(NULL, err, sizeof(err)) != 0)
		T_SKIP(err);
	test_normalise();
	test_psl();
	/* A second init replaces the list without leaking the first. */
	CHECK_INT(domain_init(NULL, err, sizeof(err)), 0);
	CHECK_INT(domain_is_public_suffix("co.uk"), 1);
	domain_fini();
	return T_DONE();
}
