/*
 * test_fingerprint.c - fingerprint lists in the list database: build them
 * from small files next to domain lists, look up host names (exact and
 * "*." suffix) and address ranges (nesting, range queries), and check the
 * refusals and warnings with their file:line.
 */
#include "config.h"

#include <sys/socket.h>
#include <arpa/inet.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dns.h"
#include "domain.h"
#include "listbuild.h"
#include "listdb.h"
#include "t.h"

#include "tlist.h"

static struct fp_match m;

/* A host lookup: the entry that matched, or "" for none. */
static const char *
host(struct listdb *db, enum fp_kind k, const char *name)
{
	char err[256] = "";

	if (listdb_fp_host(db, k, name, &m, err, sizeof(err)) != 0) {
		fprintf(stderr, "fp_host %s: %s\n", name, err);
		return "(error)";
	}
	CHECK_INT(m.kind, k);
	return m.found ? m.entry : "";
}

/* An address or range lookup ("192.0.2.1", "192.0.2.0/25"). */
static const char *
addr(struct listdb *db, const char *text)
{
	struct dns_addr a;
	char buf[64], err[256] = "", *slash;
	int prefix;

	snprintf(buf, sizeof(buf), "%s", text);
	memset(&a, 0, sizeof(a));
	a.family = strchr(buf, ':') != NULL ? AF_INET6 : AF_INET;
	prefix = a.family == AF_INET ? 32 : 128;
	if ((slash = strchr(buf, '/')) != NULL) {
		*slash = '\0';
		prefix = atoi(slash + 1);
	}
	if (inet_pton(a.family, buf, &a.u) != 1) {
		fprintf(stderr, "bad test address %s\n", text);
		exit(99);
	}
	if (listdb_fp_addr(db, &a, prefix, &m, err, sizeof(err)) != 0) {
		fprintf(stderr, "fp_addr %s: %s\n", text, err);
		return "(error)";
	}
	CHECK_INT(m.kind, FP_IP);
	return m.found ? m.entry : "";
}

static void
test_names(void)
{
	CHECK_STR(fp_kind_name(FP_MX), "mx");
	CHECK_STR(fp_kind_name(FP_NS), "ns");
	CHECK_STR(fp_kind_name(FP_SPF), "spf");
	CHECK_STR(fp_kind_name(FP_IP), "ip");
	CHECK_STR(fp_kind_name(FP_KIND_COUNT), "?");
}

static void
test_lookup(void)
{
	struct listdb_input in[4] = { 0 };
	struct listdb_build_report rep;
	struct listdb_match dm;
	struct listdb *db;
	const char *dbp = path_in("fp.db");
	char err[256] = "";

	in[0].path = write_file("disp-fp.txt",
	    "# disposable infrastructure\n"
	    "mx  in.example-temp.test      strong\n"
	    "mx  *.mail-data.net           strong  # the whole family\n"
	    "MX  *.Deep.Mail-Data.NET.     weak\n"
	    "\n"
	    "ns  ns1.tempdns.test          weak\n"
	    "ns  *.tempdns2.test           strong\n"
	    "spf _spf.example-temp.test    strong\n"
	    "spf *.spf-temp.test           weak\n"
	    "ip  192.0.2.0/24              strong\n"
	    "ip  192.0.2.128/32            weak\n"
	    "ip  198.51.96.0/20            weak\n"
	    "ip  198.51.100.0/24           strong\n"
	    "ip  2001:db8:5::/48           weak\n"
	    "ip  2001:db8:5:1::/64         strong\n"
	    "ip  203.0.113.7               strong\n"
	    "mx  shared.example-mx.test    strong\n");
	in[0].category = CAT_DISPOSABLE;
	in[0].source = "disp-fp";
	in[0].kind = LIST_FINGERPRINTS;
	in[1].path = write_file("relay-fp.txt",
	    "mx  mx1.alias-relay.test      strong\n"
	    "mx  shared.example-mx.test    weak\n"
	    "mx  in.example-temp.test      strong\n");
	in[1].category = CAT_RELAY;
	in[1].source = "relay-fp";
	in[1].kind = LIST_FINGERPRINTS;
	in[2].path = write_file("disp.txt",
	    "mailinator.com\n"
	    "mail-data.net\n");
	in[2].category = CAT_DISPOSABLE;
	in[2].source = "disp";
	in[2].kind = LIST_DOMAINS;
	in[3].path = write_file("allow.txt", "good.mailinator.com\n");
	in[3].category = CAT_ALLOWED;
	in[3].source = "allow";
	in[3].kind = LIST_DOMAINS;

	CHECK_INT(build(dbp, in, 4, 0, &rep), 0);
	dump_diags();
	CHECK_INT(rep.errors, 0);
	/* in.example-temp.test: relay wins; shared.example-mx.test: weak
	 * wins; each warned once. */
	CHECK_INT(rep.warnings, 2);
	{
		char want[512];

		snprintf(want, sizeof(want), "%s:2: 'mx in.example-temp.test' "
		    "is listed with another category by another source; it "
		    "counts as strong relay", in[0].path);
		CHECK_INT(diag_is(0, want), 1);
		snprintf(want, sizeof(want), "%s:17: 'mx shared.example-mx."
		    "test' is listed with another category and strength by "
		    "another source; it counts as weak relay", in[0].path);
		CHECK_INT(diag_is(0, want), 1);
	}
	/* 15 lines in the first file, 1 new in the second. */
	CHECK_INT(rep.fingerprints, 16);
	CHECK_INT(rep.per_category[CAT_DISPOSABLE], 2);
	CHECK_INT(rep.per_category[CAT_ALLOWED], 1);
	CHECK_INT(rep.nsources, 4);
	CHECK_INT(rep.source[0].entries, 15);
	CHECK_INT(rep.source[1].entries, 3);
	CHECK_INT(rep.source[2].entries, 2);

	if (listdb_open(dbp, &db, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s\n", err);
		CHECK(0);
		return;
	}
	CHECK_INT(listdb_fp_entries(db), 16);
	CHECK_INT(listdb_entries(db), 3);

	/* MX: exact, then the nearest "*." parent. */
	CHECK_STR(host(db, FP_MX, "in.example-temp.test"),
	    "in.example-temp.test");
	CHECK_INT(m.category, CAT_RELAY);
	CHECK_INT(m.strong, 1);
	CHECK_INT(m.nsources, 2);
	CHECK_STR(m.sources[0], "disp-fp");
	CHECK_STR(m.sources[1], "relay-fp");
	CHECK_STR(host(db, FP_MX, "x.in.example-temp.test"), "");
	CHECK_STR(host(db, FP_MX, "example-temp.test"), "");
	CHECK_STR(host(db, FP_MX, "mx3.mail-data.net"), "*.mail-data.net");
	CHECK_INT(m.category, CAT_DISPOSABLE);
	CHECK_INT(m.strong, 1);
	CHECK_INT(m.nsources, 1);
	CHECK_STR(m.sources[0], "disp-fp");
	CHECK_STR(host(db, FP_MX, "a.b.c.d.mail-data.net"),
	    "*.mail-data.net");
	/* The suffix entry is for names below it, not for itself. */
	CHECK_STR(host(db, FP_MX, "mail-data.net"), "");
	/* A nearer suffix wins, with its own strength. */
	CHECK_STR(host(db, FP_MX, "mx.x.deep.mail-data.net"),
	    "*.deep.mail-data.net");
	CHECK_INT(m.strong, 0);
	CHECK_STR(host(db, FP_MX, "deep.mail-data.net"), "*.mail-data.net");
	CHECK_INT(m.strong, 1);
	CHECK_STR(host(db, FP_MX, "mx1.alias-relay.test"),
	    "mx1.alias-relay.test");
	CHECK_INT(m.category, CAT_RELAY);
	CHECK_STR(m.sources[0], "relay-fp");
	CHECK_STR(host(db, FP_MX, "shared.example-mx.test"),
	    "shared.example-mx.test");
	CHECK_INT(m.strong, 0);
	CHECK_INT(m.category, CAT_RELAY);
	/* Kinds are apart: an mx entry is no ns entry. */
	CHECK_STR(host(db, FP_NS, "in.example-temp.test"), "");
	CHECK_STR(host(db, FP_SPF, "mx3.mail-data.net"), "");

	/* NS. */
	CHECK_STR(host(db, FP_NS, "ns1.tempdns.test"), "ns1.tempdns.test");
	CHECK_INT(m.strong, 0);
	CHECK_STR(host(db, FP_NS, "ns2.tempdns.test"), "");
	CHECK_STR(host(db, FP_NS, "ns7.tempdns2.test"), "*.tempdns2.test");
	CHECK_INT(m.strong, 1);

	/* SPF, with the underscore label. */
	CHECK_STR(host(db, FP_SPF, "_spf.example-temp.test"),
	    "_spf.example-temp.test");
	CHECK_INT(m.strong, 1);
	CHECK_STR(host(db, FP_SPF, "_spf2.example-temp.test"), "");
	CHECK_STR(host(db, FP_SPF, "_spf.mail.spf-temp.test"),
	    "*.spf-temp.test");
	CHECK_INT(m.strong, 0);
	CHECK_STR(host(db, FP_SPF, "spf-temp.test"), "");

	/* Bad calls. */
	CHECK_INT(listdb_fp_host(db, FP_IP, "x.test", &m, err, sizeof(err)),
	    -1);
	CHECK_INT(listdb_fp_host(NULL, FP_MX, "x.test", &m, err,
	    sizeof(err)), -1);

	/* IPv4: most specific wins; nesting /32 in /24, /24 in /20. */
	CHECK_STR(addr(db, "192.0.2.1"), "192.0.2.0/24");
	CHECK_INT(m.strong, 1);
	CHECK_INT(m.category, CAT_DISPOSABLE);
	CHECK_STR(m.sources[0], "disp-fp");
	CHECK_STR(addr(db, "192.0.2.128"), "192.0.2.128/32");
	CHECK_INT(m.strong, 0);
	CHECK_STR(addr(db, "192.0.2.255"), "192.0.2.0/24");
	CHECK_STR(addr(db, "192.0.3.1"), "");
	CHECK_STR(addr(db, "198.51.100.9"), "198.51.100.0/24");
	CHECK_INT(m.strong, 1);
	CHECK_STR(addr(db, "198.51.101.9"), "198.51.96.0/20");
	CHECK_INT(m.strong, 0);
	CHECK_STR(addr(db, "198.51.111.255"), "198.51.96.0/20");
	CHECK_STR(addr(db, "198.51.112.0"), "");
	CHECK_STR(addr(db, "203.0.113.7"), "203.0.113.7/32");
	CHECK_STR(addr(db, "203.0.113.8"), "");
	/* Ranges: a /25 inside the /24 matches it; a /23 around it does
	 * not; the /25 holding 192.0.2.128 is not inside that /32. */
	CHECK_STR(addr(db, "192.0.2.0/25"), "192.0.2.0/24");
	CHECK_STR(addr(db, "192.0.2.128/25"), "192.0.2.0/24");
	CHECK_STR(addr(db, "192.0.2.0/24"), "192.0.2.0/24");
	CHECK_STR(addr(db, "192.0.2.0/23"), "");
	CHECK_STR(addr(db, "198.51.100.0/22"), "198.51.96.0/20");
	CHECK_STR(addr(db, "198.51.96.0/19"), "");
	CHECK_STR(addr(db, "0.0.0.0/0"), "");
	/* An IPv4-mapped IPv6 address is its IPv4 address. */
	CHECK_STR(addr(db, "::ffff:192.0.2.9"), "192.0.2.0/24");

	/* IPv6. */
	CHECK_STR(addr(db, "2001:db8:5::1"), "2001:db8:5::/48");
	CHECK_INT(m.strong, 0);
	CHECK_STR(addr(db, "2001:db8:5:1::25"), "2001:db8:5:1::/64");
	CHECK_INT(m.strong, 1);
	CHECK_STR(addr(db, "2001:db8:5:ffff:1::"), "2001:db8:5::/48");
	CHECK_STR(addr(db, "2001:db8:6::1"), "");
	CHECK_STR(addr(db, "2001:db8:5:1::/80"), "2001:db8:5:1::/64");
	CHECK_STR(addr(db, "2001:db8:5::/56"), "2001:db8:5::/48");
	CHECK_STR(addr(db, "2001:db8::/32"), "");
	/* An IPv6 query never meets an IPv4 entry of the same bits. */
	CHECK_STR(addr(db, "c000:0200::"), "");

	/* Bad calls. */
	{
		struct dns_addr a;

		memset(&a, 0, sizeof(a));
		a.family = AF_INET;
		CHECK_INT(listdb_fp_addr(db, &a, 33, &m, err, sizeof(err)),
		    -1);
		CHECK_INT(listdb_fp_addr(db, &a, -1, &m, err, sizeof(err)),
		    -1);
		a.family = AF_UNIX;
		CHECK_INT(listdb_fp_addr(db, &a, 32, &m, err, sizeof(err)),
		    -1);
	}

	/* The domain lists still work beside the fingerprints. */
	CHECK_INT(listdb_lookup(db, "x.mailinator.com", &dm, err,
	    sizeof(err)), 0);
	CHECK_INT(dm.category, CAT_DISPOSABLE);
	CHECK_STR(dm.entry, "mailinator.com");
	CHECK_STR(dm.sources[0], "disp");
	CHECK_INT(listdb_lookup(db, "good.mailinator.com", &dm, err,
	    sizeof(err)), 0);
	CHECK_INT(dm.category, CAT_ALLOWED);
	CHECK_INT(listdb_lookup(db, "mx3.mail-data.net", &dm, err,
	    sizeof(err)), 0);
	CHECK_INT(dm.category, CAT_DISPOSABLE);
	CHECK_INT(dm.nsources, 1);
	/* Fingerprint hosts are not domain entries. */
	CHECK_INT(listdb_lookup(db, "in.example-temp.test", &dm, err,
	    sizeof(err)), 0);
	CHECK_INT(dm.category, CAT_CLEAN);

	/* The source table carries the fingerprint sources too. */
	{
		struct listdb_source_info *si;
		size_t n;

		CHECK_INT(listdb_sources(db, &si, &n), 0);
		CHECK_INT(n, 4);
		if (n == 4) {
			CHECK_STR(si[1].name, "relay-fp");
			CHECK_INT(si[1].category, CAT_RELAY);
			CHECK_INT(si[1].entries, 3);
		}
	}
	listdb_close(db);
}

/* Every refusal with its file:line, and nothing written. */
static void
test_refusals(void)
{
	struct listdb_input in[1] = { 0 };
	struct listdb_build_report rep;
	const char *dbp = path_in("bad.db");
	char want[512];
	struct {
		int		 line;
		const char	*text;
	} expect[] = {
		{ 2, "unknown kind 'txt' (expected mx, ns, spf or ip)" },
		{ 3, "unknown strength 'medium' (expected strong or weak)" },
		{ 4, "'*.com' is a public suffix" },
		{ 5, "'*.co.uk' is a public suffix" },
		{ 6, "'10.0.0.0/7' is wider than /8" },
		{ 7, "'2001:db8::/15' is wider than /16" },
		{ 8, "'192.0.2.1/24' has host bits set" },
		{ 9, "'not-an-address' is not an address or ADDRESS/LENGTH" },
		{ 10, "expected KIND VALUE STRENGTH" },
		{ 11, "expected KIND VALUE STRENGTH" },
		{ 12, "'bad..name' is not a valid host name" },
		{ 13, "'x.*.example.test': a wildcard is only allowed as a "
		    "leading \"*.\"" },
		{ 14, "'192.0.2.1' is an address: list it as ip" },
		{ 15, "'192.0.2.0/33' is not an address or ADDRESS/LENGTH" },
		{ 16, "a mail address in the line (not shown)" },
		{ 17, "'2001:db8::1/64' has host bits set" },
		{ 18, "'192.0.2.0/' is not an address or ADDRESS/LENGTH" },
		{ 19, "'*.github.io' is a public suffix" },
	};
	size_t i;

	in[0].path = write_file("bad-fp.txt",
	    "mx ok.example.test strong\n"
	    "txt ok.example.test strong\n"
	    "mx ok.example.test medium\n"
	    "mx *.com strong\n"
	    "ns *.co.uk weak\n"
	    "ip 10.0.0.0/7 weak\n"
	    "ip 2001:db8::/15 weak\n"
	    "ip 192.0.2.1/24 strong\n"
	    "ip not-an-address strong\n"
	    "mx garbage\n"
	    "mx a.test strong extra\n"
	    "mx bad..name strong\n"
	    "mx x.*.example.test strong\n"
	    "mx 192.0.2.1 strong\n"
	    "ip 192.0.2.0/33 strong\n"
	    "mx someone@example.test strong\n"
	    "ip 2001:db8::1/64 weak\n"
	    "ip 192.0.2.0/ weak\n"
	    "spf *.github.io weak\n"
	    "ip 10.0.0.0/8 weak\n"		/* the widest allowed */
	    "ip 2001::/16 weak\n"
	    "mx ok.example.test strong\n");	/* line 22: duplicate */
	in[0].category = CAT_DISPOSABLE;
	in[0].source = "bad-fp";
	in[0].kind = LIST_FINGERPRINTS;

	CHECK_INT(build(dbp, in, 1, 0, &rep), -1);
	CHECK_INT(access(dbp, F_OK), -1);
	CHECK_INT(rep.errors, sizeof(expect) / sizeof(expect[0]));
	for (i = 0; i < sizeof(expect) / sizeof(expect[0]); i++) {
		snprintf(want, sizeof(want), "%s:%d: %s", in[0].path,
		    expect[i].line, expect[i].text);
		if (diag_is(1, want) != 1) {
			fprintf(stderr, "missing: %s\n", want);
			CHECK(0);
		}
	}
	/* Nothing else refused; the address is never echoed. */
	for (i = 0; i < ndiags; i++)
		CHECK(strstr(diags[i].line, "someone") == NULL);
	CHECK_INT(rep.warnings, 0);	/* duplicates are found after reading */

	/* With LISTDB_BUILD_SKIP_BAD: written, and the duplicate warned. */
	ndiags = 0;
	CHECK_INT(listdb_build(dbp, in, 1, LISTDB_BUILD_SKIP_BAD, collect,
	    NULL, &rep), 0);
	snprintf(want, sizeof(want), "%s:22: 'mx ok.example.test' is a "
	    "duplicate of line 1", in[0].path);
	CHECK_INT(diag_is(0, want), 1);
	CHECK_INT(rep.warnings, 1);
	CHECK_INT(rep.fingerprints, 3);
	CHECK_INT(rep.source[0].entries, 3);
	{
		struct listdb *db;
		char err[256];

		if (listdb_open(dbp, &db, err, sizeof(err)) != 0) {
			fprintf(stderr, "%s\n", err);
			CHECK(0);
		} else {
			CHECK_STR(addr(db, "10.200.0.1"), "10.0.0.0/8");
			CHECK_STR(addr(db, "2001:db9::1"), "2001::/16");
			CHECK_STR(host(db, FP_MX, "ok.example.test"),
			    "ok.example.test");
			listdb_close(db);
		}
	}
	unlink(dbp);

	/* An allow list cannot hold fingerprints. */
	in[0].path = write_file("allow-fp.txt", "mx ok.example.test weak\n");
	in[0].category = CAT_ALLOWED;
	in[0].source = "allow-fp";
	in[0].kind = LIST_FINGERPRINTS;
	CHECK_INT(build(dbp, in, 1, 0, &rep), -1);
	snprintf(want, sizeof(want), "%s: category allowed cannot be listed "
	    "in fingerprints", in[0].path);
	CHECK_INT(diag_is(1, want), 1);
	CHECK_INT(access(dbp, F_OK), -1);

	/* A fingerprint line in a domain list is refused as a domain. */
	in[0].path = write_file("dom.txt", "mx ok.example.test weak\n");
	in[0].category = CAT_DISPOSABLE;
	in[0].source = "dom";
	in[0].kind = LIST_DOMAINS;
	CHECK_INT(build(dbp, in, 1, 0, &rep), -1);
	CHECK_INT(rep.errors, 1);
}

/* A database built without fingerprints opens and never matches. */
static void
test_without(void)
{
	struct listdb_input in[1] = { 0 };
	struct listdb_build_report rep;
	struct listdb_match dm;
	struct listdb *db;
	const char *dbp = path_in("nofp.db");
	char err[256];

	in[0].path = write_file("only.txt", "mailinator.com\n");
	in[0].category = CAT_DISPOSABLE;
	in[0].source = "only";
	in[0].kind = LIST_DOMAINS;
	CHECK_INT(build(dbp, in, 1, 0, &rep), 0);
	CHECK_INT(rep.fingerprints, 0);
	if (listdb_open(dbp, &db, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s\n", err);
		CHECK(0);
		return;
	}
	CHECK_INT(listdb_fp_entries(db), 0);
	CHECK_STR(host(db, FP_MX, "mx.mailinator.com"), "");
	CHECK_STR(host(db, FP_NS, "ns1.tempdns.test"), "");
	CHECK_STR(addr(db, "192.0.2.1"), "");
	CHECK_STR(addr(db, "2001:db8::1"), "");
	CHECK_INT(listdb_lookup(db, "a.mailinator.com", &dm, err,
	    sizeof(err)), 0);
	CHECK_INT(dm.category, CAT_DISPOSABLE);
	listdb_close(db);
}

/* An IPv4-mapped IPv6 range is listed as its IPv4 range: a lookup takes
 * an IPv4-mapped address for its IPv4 address, so as an IPv6 key it
 * could never match (fuzz_listdb checks it too). */
static void
test_mapped(void)
{
	struct listdb_input in[1] = { 0 };
	struct listdb_build_report rep;
	struct listdb *db;
	const char *dbp = path_in("mapped.db");
	char err[256];

	in[0].path = write_file("mapped.txt",
	    "ip ::ffff:192.0.2.0/120 strong\n"
	    "ip ::ffff:198.51.100.7 weak\n"
	    "ip ::ffff:203.0.113.0/100 weak\n"
	    "ip ::ffff:203.0.113.1/120 weak\n");
	in[0].category = CAT_DISPOSABLE;
	in[0].source = "mapped";
	in[0].kind = LIST_FINGERPRINTS;
	CHECK_INT(build(dbp, in, 1, 0, &rep), -1);
	/* The IPv4 rules apply: at most /8 wide, no host bits. */
	CHECK_INT(rep.errors, 2);
	CHECK_INT(diag_count(1, ":3: '::ffff:203.0.113.0/100' is wider than "
	    "/8"), 1);
	CHECK_INT(diag_count(1, ":4: '::ffff:203.0.113.1/120' has host bits "
	    "set"), 1);
	CHECK_INT(build(dbp, in, 1, LISTDB_BUILD_SKIP_BAD, &rep), 0);
	CHECK_INT(rep.fingerprints, 2);
	if (listdb_open(dbp, &db, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s\n", err);
		CHECK(0);
		return;
	}
	CHECK_STR(addr(db, "::ffff:192.0.2.9"), "192.0.2.0/24");
	CHECK_INT(m.strong, 1);
	CHECK_STR(addr(db, "192.0.2.9"), "192.0.2.0/24");
	CHECK_STR(addr(db, "::ffff:198.51.100.7"), "198.51.100.7/32");
	CHECK_INT(m.strong, 0);
	CHECK_STR(addr(db, "198.51.100.7"), "198.51.100.7/32");
	CHECK_STR(addr(db, "::ffff:198.51.100.8"), "");
	listdb_close(db);
}

int
main(void)
{
	char err[256];

	if (domain_init(NULL, err, sizeof(err)) != 0)
		T_SKIP(err);
	snprintf(dir, sizeof(dir), "/tmp/test_fingerprint.XXXXXX");
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 99;
	}
	test_names();
	test_lookup();
	test_refusals();
	test_without();
	test_mapped();
	rm_dir();
	domain_fini();
	return T_DONE();
}
