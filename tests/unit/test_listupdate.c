/*
 * test_listupdate.c - what disposable-ctl update makes of a download,
 * without a network: web pages told apart from lists, the share of bad
 * lines a list may have, the shrink and growth safeguard at its edges,
 * each quarantine reason (against a small database built here), the new
 * copy's entries and their difference from the old, the never-block
 * file, and the state file's round trip.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain.h"
#include "listbuild.h"
#include "listdb.h"
#include "listupdate.h"
#include "t.h"

#include "tlist.h"

static void
test_html(void)
{
	CHECK(listupdate_is_html("text/html", "", 0));
	CHECK(listupdate_is_html("TEXT/HTML; charset=utf-8", "a.test\n", 7));
	CHECK(listupdate_is_html(" application/xhtml+xml", "", 0));
	CHECK(listupdate_is_html(NULL, "<!DOCTYPE html>", 15));
	CHECK(listupdate_is_html("text/plain", "\xef\xbb\xbf \r\n\t<html>",
	    12));
	CHECK(listupdate_is_html("", "\n\n<", 3));
	CHECK(!listupdate_is_html("text/plain", "a.test\n<b.test\n", 15));
	CHECK(!listupdate_is_html(NULL, "", 0));
	CHECK(!listupdate_is_html(NULL, "   \n", 4));
	CHECK(!listupdate_is_html("text/plain; x=html", "# <html>\n", 9));
	/* Only the first character counts: the length bounds the look. */
	CHECK(!listupdate_is_html(NULL, "  <", 2));
}

/* A body of good domains and bad lines, in that order. */
static char *
body_of(int good, int bad, const char *badline)
{
	size_t cap = (size_t)(good + bad) * 64 + 1, off = 0;
	char *b = malloc(cap);

	if (b == NULL)
		exit(99);
	b[0] = '\0';
	for (int i = 0; i < good; i++)
		off += (size_t)snprintf(b + off, cap - off, "d%d.test\n", i);
	for (int i = 0; i < bad; i++)
		off += (size_t)snprintf(b + off, cap - off, "%s\n", badline);
	return b;
}

static int
not_a_list(int good, int bad, const char *badline)
{
	struct listupdate_sift s;
	char err[256], *b = body_of(good, bad, badline);
	int r = -1;

	if (listupdate_sift(LIST_DOMAINS, CAT_DISPOSABLE, b, strlen(b), NULL,
	    &s, err, sizeof(err)) == 0) {
		r = listupdate_not_a_list(&s);
		listupdate_sift_free(&s);
	}
	free(b);
	return r;
}

static void
test_bad_share(void)
{
	/* Exactly LISTUPDATE_MAX_BAD_PERCENT (10) is still a list. */
	CHECK_INT(not_a_list(90, 10, "not a domain"), 0);
	CHECK_INT(not_a_list(89, 11, "not a domain"), 1);
	CHECK_INT(not_a_list(0, 5, "xqz@example.org"), 1);
	CHECK_INT(not_a_list(1, 1, "0.0.0.0 ads.example"), 1);
	CHECK_INT(not_a_list(9, 1, "*.wild.test"), 0);
	/* Public suffixes are quarantined, not bad: a list may have many. */
	CHECK_INT(not_a_list(1, 9, "co.uk"), 0);
	/* No entry lines at all is the safeguard's "empty", not this. */
	CHECK_INT(not_a_list(0, 0, ""), 0);
}

static void
test_guard(void)
{
	struct listupdate_config c;
	unsigned long pct;

	listupdate_config_default(&c);
	CHECK_INT(c.max_shrink, 50);
	CHECK_INT(c.max_growth, 100);
	CHECK_INT(listupdate_guard(&c, 1, 100, 50, &pct), LU_GUARD_OK);
	CHECK_INT(pct, 50);
	CHECK_INT(listupdate_guard(&c, 1, 100, 49, &pct), LU_GUARD_SHRINK);
	CHECK_INT(pct, 51);
	CHECK_INT(listupdate_guard(&c, 1, 100, 200, &pct), LU_GUARD_OK);
	CHECK_INT(pct, 100);
	CHECK_INT(listupdate_guard(&c, 1, 100, 201, &pct), LU_GUARD_GROWTH);
	CHECK_INT(pct, 101);
	CHECK_INT(listupdate_guard(&c, 1, 100, 100, &pct), LU_GUARD_OK);
	CHECK_INT(pct, 0);
	/* The README's example, rounded down. */
	CHECK_INT(listupdate_guard(&c, 1, 8335, 833, &pct), LU_GUARD_SHRINK);
	CHECK_INT(pct, 90);
	/* Just past a half of an odd count: 3 of 7 left is 57% gone. */
	CHECK_INT(listupdate_guard(&c, 1, 7, 4, &pct), LU_GUARD_OK);
	CHECK_INT(listupdate_guard(&c, 1, 7, 3, &pct), LU_GUARD_SHRINK);
	CHECK_INT(pct, 57);
	/* A first fetch has no growth limit; an empty old copy neither. */
	CHECK_INT(listupdate_guard(&c, 0, 0, 1000000, &pct), LU_GUARD_OK);
	CHECK_INT(listupdate_guard(&c, 1, 0, 1000000, &pct), LU_GUARD_OK);
	CHECK_INT(listupdate_guard(&c, 0, 0, 0, &pct), LU_GUARD_EMPTY);
	CHECK_INT(listupdate_guard(&c, 1, 100, 0, &pct), LU_GUARD_SHRINK);
	CHECK_INT(pct, 100);
	c.max_shrink = 100;
	CHECK_INT(listupdate_guard(&c, 1, 100, 1, &pct), LU_GUARD_OK);
	CHECK_INT(listupdate_guard(&c, 1, 100, 0, &pct), LU_GUARD_EMPTY);
	c.max_shrink = 0;
	c.max_growth = 0;
	CHECK_INT(listupdate_guard(&c, 1, 100, 99, &pct), LU_GUARD_SHRINK);
	CHECK_INT(pct, 1);
	CHECK_INT(listupdate_guard(&c, 1, 100, 101, &pct), LU_GUARD_GROWTH);
	CHECK_INT(listupdate_guard(&c, 1, 100, 100, &pct), LU_GUARD_OK);
	/* Large counts do not overflow the arithmetic. */
	c.max_growth = 100000;
	CHECK_INT(listupdate_guard(&c, 1, (size_t)3000000000u,
	    (size_t)3000000000u * 2, &pct), LU_GUARD_OK);
	CHECK_INT(pct, 100);
}

/* A database with an allowlist and shared infrastructure. */
static struct listdb *
small_db(void)
{
	struct listdb_input in[2] = {
		{ .path = write_file("allow.txt", "gmail.com\n"),
		    .category = CAT_ALLOWED, .source = "allow" },
		{ .path = write_file("infra.txt", "mx *.improvmx.com\n"),
		    .category = CAT_ALLOWED, .source = "infra",
		    .kind = LIST_INFRA },
	};
	struct listdb *db = NULL;
	char err[256];

	if (build(path_in("t.db"), in, 2, 0, NULL) != 0) {
		dump_diags();
		return NULL;
	}
	if (listdb_open(path_in("t.db"), &db, err, sizeof(err)) != 0)
		fprintf(stderr, "%s\n", err);
	return db;
}

static void
test_quarantine(void)
{
	static const char body[] =
	    "# a remote block list\n"
	    "\n"
	    "Example.ORG\n"
	    "example.org   # again, other case\n"
	    "gmail.com\n"
	    "mail.gmail.com\n"
	    "improvmx.com\n"
	    "co.uk\n"
	    "x.protected.test\n"
	    "b\xc3\xbc" "cher.test\n"
	    "xqzsecret@example.net\n"
	    "*.wild.test\n"
	    "nul\0line\n"
	    "last.test";
	struct listupdate_never *nb = NULL;
	struct listupdate_checks checks = { 0 };
	struct listupdate_sift s;
	struct listdb *db;
	char err[256];

	checks.db = db = small_db();
	CHECK(checks.db != NULL);
	CHECK_INT(listupdate_never_load(write_file("never.txt",
	    "# the admin's own\nProtected.TEST\n"), &nb, err, sizeof(err)), 0);
	checks.never = nb;

	CHECK_INT(listupdate_sift(LIST_DOMAINS, CAT_DISPOSABLE, body,
	    sizeof(body) - 1, &checks, &s, err, sizeof(err)), 0);
	CHECK_INT(s.lines, 12);
	CHECK_INT(s.count[LU_KEPT], 4);
	CHECK_INT(s.kept.n, 3);
	CHECK_INT(s.duplicates, 1);
	if (s.kept.n == 3) {
		CHECK_STR(s.kept.v[0], "example.org");
		CHECK_STR(s.kept.v[1], "last.test");
		CHECK_STR(s.kept.v[2], "xn--bcher-kva.test");
	}
	CHECK_INT(s.count[LU_ALLOWLISTED], 2);
	CHECK_INT(s.count[LU_INFRASTRUCTURE], 1);
	CHECK_INT(s.count[LU_PUBLIC_SUFFIX], 1);
	CHECK_INT(s.count[LU_NEVER_BLOCK], 1);
	CHECK_INT(s.count[LU_INVALID], 3);
	CHECK_INT(s.quarantined, 8);
	CHECK(strstr(s.quarantine, "gmail.com\tallowlisted\tallow entry "
	    "gmail.com\n") != NULL);
	CHECK(strstr(s.quarantine, "mail.gmail.com\tallowlisted\tallow "
	    "entry gmail.com\n") != NULL);
	CHECK(strstr(s.quarantine, "improvmx.com\tinfrastructure\t"
	    "mx *.improvmx.com\n") != NULL);
	CHECK(strstr(s.quarantine, "co.uk\tpublic suffix\tline 8\n") != NULL);
	CHECK(strstr(s.quarantine, "x.protected.test\tnever-block\t"
	    "protected.test\n") != NULL);
	CHECK(strstr(s.quarantine, "(a mail address)\tinvalid\tline 11: a "
	    "mail address") != NULL);
	CHECK(strstr(s.quarantine, "*.wild.test\tinvalid\tline 12: a "
	    "wildcard\n") != NULL);
	CHECK(strstr(s.quarantine, "nul\tinvalid\tline 13: a NUL byte") !=
	    NULL);
	CHECK(strstr(s.quarantine, "xqzsecret") == NULL);
	listupdate_sift_free(&s);

	/* Without a database (none built yet) only what needs none. */
	checks.db = NULL;
	CHECK_INT(listupdate_sift(LIST_DOMAINS, CAT_RELAY, body,
	    sizeof(body) - 1, &checks, &s, err, sizeof(err)), 0);
	CHECK_INT(s.count[LU_ALLOWLISTED] + s.count[LU_INFRASTRUCTURE], 0);
	CHECK_INT(s.count[LU_NEVER_BLOCK], 1);
	CHECK_INT(s.kept.n, 6);
	listupdate_sift_free(&s);

	/* An allow list loses only what a build refuses. */
	CHECK_INT(listupdate_sift(LIST_DOMAINS, CAT_ALLOWED, body,
	    sizeof(body) - 1, &checks, &s, err, sizeof(err)), 0);
	CHECK_INT(s.count[LU_NEVER_BLOCK], 0);
	CHECK_INT(s.count[LU_PUBLIC_SUFFIX], 1);
	CHECK_INT(s.count[LU_INVALID], 3);
	CHECK_INT(s.kept.n, 7);
	listupdate_sift_free(&s);
	listupdate_never_free(nb);
	listdb_close(db);
}

static void
test_fingerprint_lines(void)
{
	static const char body[] =
	    "mx   *.mail-data.net\tstrong\n"
	    "mx *.com strong\n"
	    "ip 192.0.2.0/24 weak # a range\n"
	    "ns ns1.example.test\n";
	struct listupdate_sift s;
	char err[256];

	CHECK_INT(listupdate_sift(LIST_FINGERPRINTS, CAT_DISPOSABLE, body,
	    sizeof(body) - 1, NULL, &s, err, sizeof(err)), 0);
	CHECK_INT(s.lines, 4);
	CHECK_INT(s.kept.n, 2);
	if (s.kept.n == 2) {
		CHECK_STR(s.kept.v[0], "ip 192.0.2.0/24 weak");
		CHECK_STR(s.kept.v[1], "mx *.mail-data.net strong");
	}
	CHECK_INT(s.count[LU_INVALID], 2);
	CHECK(strstr(s.quarantine, "mx *.com strong\tinvalid\tline 2: "
	    "'*.com' is a public suffix\n") != NULL);
	listupdate_sift_free(&s);

	CHECK_INT(listupdate_sift(LIST_INFRA, CAT_ALLOWED, "mx *.g.test\n",
	    12, NULL, &s, err, sizeof(err)), 0);
	CHECK_INT(s.kept.n, 1);
	listupdate_sift_free(&s);
}

static void
test_copy_and_diff(void)
{
	static const char body[] = "d.test\nB.test\na.test\ne.test\n";
	static const char head[] = "# src: https://lists.test/x\n"
	    "# fetched 1970-01-01T00:00:00Z by disposable-ctl update: "
	    "4 entries, 0 quarantined (src.quarantine)\n";
	struct listupdate_set old;
	struct listupdate_sift s;
	size_t added, removed, len;
	char err[256], *text;
	int exists;

	CHECK_INT(listupdate_read_copy(path_in("none.list"), LIST_DOMAINS,
	    CAT_DISPOSABLE, &old, &exists, err, sizeof(err)), 0);
	CHECK_INT(exists, 0);
	CHECK_INT(old.n, 0);
	write_file("old.list", "# header\na.test\nb.test\nc.test\n");
	CHECK_INT(listupdate_read_copy(path_in("old.list"), LIST_DOMAINS,
	    CAT_DISPOSABLE, &old, &exists, err, sizeof(err)), 0);
	CHECK_INT(exists, 1);
	CHECK_INT(old.n, 3);
	CHECK_INT(listupdate_sift(LIST_DOMAINS, CAT_DISPOSABLE, body,
	    strlen(body), NULL, &s, err, sizeof(err)), 0);
	listupdate_diff(&old, &s.kept, &added, &removed);
	CHECK_INT(added, 2);
	CHECK_INT(removed, 1);
	listupdate_diff(&s.kept, &s.kept, &added, &removed);
	CHECK_INT(added + removed, 0);

	/* The new copy reads back as the same entries. */
	CHECK_INT(listupdate_copy_text(&s, "src", "https://lists.test/x",
	    0, &text, &len), 0);
	CHECK(strncmp(text, head, strlen(head)) == 0);
	write_file("new.list", text);
	free(text);
	listupdate_set_free(&old);
	CHECK_INT(listupdate_read_copy(path_in("new.list"), LIST_DOMAINS,
	    CAT_DISPOSABLE, &old, &exists, err, sizeof(err)), 0);
	listupdate_diff(&old, &s.kept, &added, &removed);
	CHECK_INT(old.n, 4);
	CHECK_INT(added + removed, 0);
	listupdate_set_free(&old);
	listupdate_sift_free(&s);
}

static void
test_never_block(void)
{
	struct listupdate_never *nb = NULL;
	char err[256];

	CHECK_INT(listupdate_never_load(write_file("nb.txt",
	    "a.test\nco.uk # a whole suffix\n"), &nb, err, sizeof(err)), 0);
	CHECK_STR(listupdate_never_match(nb, "a.test"), "a.test");
	CHECK_STR(listupdate_never_match(nb, "x.y.a.test"), "a.test");
	CHECK_STR(listupdate_never_match(nb, "shop.co.uk"), "co.uk");
	CHECK(listupdate_never_match(nb, "aa.test") == NULL);
	CHECK(listupdate_never_match(nb, "test") == NULL);
	CHECK(listupdate_never_match(NULL, "a.test") == NULL);
	listupdate_never_free(nb);

	CHECK_INT(listupdate_never_load(write_file("nb2.txt",
	    "a.test\nxqzaddr@b.test\n"), &nb, err, sizeof(err)), -1);
	CHECK(strstr(err, "nb2.txt:2: a mail address") != NULL);
	CHECK(strstr(err, "xqzaddr") == NULL);
	CHECK_INT(listupdate_never_load(write_file("nb3.txt", "bad..name\n"),
	    &nb, err, sizeof(err)), -1);
	CHECK(strstr(err, "nb3.txt:1: 'bad..name' is not a valid domain") !=
	    NULL);
	CHECK_INT(listupdate_never_load(path_in("missing.txt"), &nb, err,
	    sizeof(err)), -1);
	CHECK(strstr(err, "missing.txt: No such file") != NULL);
}

static void
test_state(void)
{
	struct listupdate_state st, back;
	char text[4096], hex[65], err[256];
	int exists;

	memset(&st, 0, sizeof(st));
	snprintf(st.url, sizeof(st.url), "https://lists.test/x.txt");
	CHECK_INT(listupdate_state_set_validator(st.etag, sizeof(st.etag),
	    "W/\"abc\""), 0);
	CHECK_INT(listupdate_state_set_validator(st.last_modified,
	    sizeof(st.last_modified), "Mon, 30 Nov 2026 12:00:00 GMT"), 0);
	st.fetched = 1796040000;
	st.entries = 8335;
	listupdate_sha256_hex("abc", 3, hex);
	CHECK_STR(hex, "ba7816bf8f01cfea414140de5dae2223"
	    "b00361a396177a9cb410ff61f20015ad");
	memcpy(st.sha256, hex, sizeof(hex));
	CHECK(listupdate_state_format(&st, text, sizeof(text)) <
	    sizeof(text));
	write_file("s.state", text);
	CHECK_INT(listupdate_state_read(path_in("s.state"), &back, &exists,
	    err, sizeof(err)), 0);
	CHECK_INT(exists, 1);
	CHECK_STR(back.url, st.url);
	CHECK_STR(back.etag, "W/\"abc\"");
	CHECK_STR(back.last_modified, st.last_modified);
	CHECK_INT(back.fetched, st.fetched);
	CHECK_INT(back.entries, 8335);
	CHECK_STR(back.sha256, hex);

	/* What cannot go back into a header is not kept. */
	CHECK_INT(listupdate_state_set_validator(st.etag, sizeof(st.etag),
	    "\"a\"\r\nX-Evil: 1"), -1);
	CHECK_STR(st.etag, "");
	CHECK_INT(listupdate_state_set_validator(st.etag, 4, "\"abc\""), -1);
	write_file("bad.state", "etag \"x\"\x01\nsha256 nothex\nentries 7\n"
	    "unknown key\n");
	CHECK_INT(listupdate_state_read(path_in("bad.state"), &back, &exists,
	    err, sizeof(err)), 0);
	CHECK_STR(back.etag, "");
	CHECK_STR(back.sha256, "");
	CHECK_INT(back.entries, 7);
	CHECK_INT(listupdate_state_read(path_in("no.state"), &back, &exists,
	    err, sizeof(err)), 0);
	CHECK_INT(exists, 0);
}

int
main(void)
{
	char err[256];

	if (domain_init(NULL, err, sizeof(err)) != 0)
		T_SKIP(err);
	snprintf(dir, sizeof(dir), "/tmp/test_listupdate.XXXXXX");
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 99;
	}
	test_html();
	test_bad_share();
	test_guard();
	test_quarantine();
	test_fingerprint_lines();
	test_copy_and_diff();
	test_never_block();
	test_state();
	rm_dir();
	domain_fini();
	return T_DONE();
}
