/*
 * test_trust.c - sources with tiers: the quorum, allow against block,
 * disposable against relay, what a lookup and a classification make of
 * them; the shared-infrastructure table and the rule that nothing about
 * a domain on shared infrastructure decides against it (infra_match on
 * facts filled in by hand: no DNS).
 */
#include "config.h"

#include <sys/socket.h>
#include <arpa/inet.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "classify.h"
#include "dns.h"
#include "domain.h"
#include "infra.h"
#include "listbuild.h"
#include "listdb.h"
#include "t.h"

#include "tlist.h"

static struct listdb_match lm;

static struct listdb_match *
look(struct listdb *db, const char *name)
{
	char err[256];

	if (listdb_lookup(db, name, &lm, err, sizeof(err)) != 0) {
		fprintf(stderr, "lookup %s: %s\n", name, err);
		exit(99);
	}
	return &lm;
}

static void
test_rules(void)
{
	struct listdb_trust t;
	unsigned none[TIER_COUNT] = { 0, 0, 0 };
	unsigned cur[TIER_COUNT] = { 1, 0, 0 };
	unsigned com1[TIER_COUNT] = { 0, 1, 0 };
	unsigned com2[TIER_COUNT] = { 0, 2, 0 };
	unsigned weak5[TIER_COUNT] = { 0, 0, 5 };
	unsigned com1weak1[TIER_COUNT] = { 0, 1, 1 };
	char buf[64];

	listdb_trust_default(&t);
	CHECK_INT(t.quorum[TIER_CURATED], 1);
	CHECK_INT(t.quorum[TIER_COMMUNITY], 2);
	CHECK_INT(t.quorum[TIER_WEAK], 0);
	CHECK_INT(listdb_trust_decides(&t, none), 0);
	CHECK_INT(listdb_trust_decides(&t, cur), 1);
	CHECK_INT(listdb_trust_decides(&t, com1), 0);
	CHECK_INT(listdb_trust_decides(&t, com2), 1);
	CHECK_INT(listdb_trust_decides(&t, weak5), 0);
	CHECK_INT(listdb_trust_decides(&t, com1weak1), 0);
	/* A curated and a community source: two of community or better. */
	{
		unsigned cc[TIER_COUNT] = { 1, 1, 0 };
		struct listdb_trust strict = { { 2, 3, 0 } };

		CHECK_INT(listdb_trust_decides(&strict, cc), 0);
		cc[1] = 2;
		CHECK_INT(listdb_trust_decides(&strict, cc), 1);
	}
	t.quorum[TIER_WEAK] = 2;	/* weak sources count now */
	CHECK_INT(listdb_trust_decides(&t, com1weak1), 1);
	CHECK_INT(listdb_trust_decides(&t, weak5), 1);

	/* Disposable against relay: more curated, then community, then
	 * weak; a tie is relay. */
	CHECK_INT(listdb_trust_block(none, none), CAT_CLEAN);
	CHECK_INT(listdb_trust_block(com2, com1), CAT_DISPOSABLE);
	CHECK_INT(listdb_trust_block(com2, cur), CAT_RELAY);
	CHECK_INT(listdb_trust_block(com1, com1), CAT_RELAY);
	CHECK_INT(listdb_trust_block(weak5, none), CAT_DISPOSABLE);

	/* Allow against block: the more trusted side; a tie is allow. */
	CHECK_INT(listdb_trust_allow_wins(com1, cur), 0);
	CHECK_INT(listdb_trust_allow_wins(cur, com2), 1);
	CHECK_INT(listdb_trust_allow_wins(com1, com2), 1);
	CHECK_INT(listdb_trust_allow_wins(weak5, com1), 0);

	CHECK_STR(listdb_support_text(com1weak1, buf, sizeof(buf)),
	    "1 community, 1 weak");
	CHECK_STR(listdb_support_text(none, buf, sizeof(buf)), "none");
}

static void
test_lookups(void)
{
	struct listdb_input in[7] = { 0 };
	struct listdb_build_report rep;
	struct listdb *db;
	struct listdb_trust t;
	const char *dbp = path_in("trust.db");
	char err[256];

	in[0] = (struct listdb_input){ .path = write_file("cur.txt",
	    "curated.example\nallowcom.example\nallowcur.example\n"),
	    .category = CAT_DISPOSABLE, .source = "cur",
	    .tier = TIER_CURATED };
	in[1] = (struct listdb_input){ .path = write_file("com1.txt",
	    "one.example\ntwo.example\nmixed.example\n"
	    "sub.allowedparent.example\n"),
	    .category = CAT_DISPOSABLE, .source = "com1",
	    .tier = TIER_COMMUNITY };
	in[2] = (struct listdb_input){ .path = write_file("com2.txt",
	    "two.example\nmixed.example\n"),
	    .category = CAT_DISPOSABLE, .source = "com2",
	    .tier = TIER_COMMUNITY };
	in[3] = (struct listdb_input){ .path = write_file("weak.txt",
	    "weakonly.example\none.example\n"),
	    .category = CAT_DISPOSABLE, .source = "agg",
	    .tier = TIER_WEAK };
	in[4] = (struct listdb_input){ .path = write_file("relay.txt",
	    "mixed.example\n"),
	    .category = CAT_RELAY, .source = "relaycom",
	    .tier = TIER_COMMUNITY };
	in[5] = (struct listdb_input){ .path = write_file("allowcom.txt",
	    "allowcom.example\nallowedparent.example\n"),
	    .category = CAT_ALLOWED, .source = "allowcom",
	    .tier = TIER_COMMUNITY };
	in[6] = (struct listdb_input){ .path = write_file("allowcur.txt",
	    "allowcur.example\n"),
	    .category = CAT_ALLOWED, .source = "allowcur",
	    .tier = TIER_CURATED };
	CHECK_INT(build(dbp, in, 7, 0, &rep), 0);
	dump_diags();
	CHECK_INT(rep.source[1].tier, TIER_COMMUNITY);
	CHECK_INT(diag_count(0, "'mixed.example' is listed disposable "
	    "(com1 (community), com2 (community)) and relay (relaycom "
	    "(community)); it counts as disposable"), 1);
	CHECK_INT(diag_count(0, "'allowcom.example' is both allowed "
	    "(allowcom (community)) and blocked (cur (curated)); the block "
	    "(a more trusted source) entry wins"), 1);
	CHECK_INT(diag_count(0, "'allowcur.example' is both allowed "
	    "(allowcur (curated)) and blocked (cur (curated)); the allow "
	    "entry wins"), 1);
	CHECK_INT(diag_count(0, "'sub.allowedparent.example' (com1 "
	    "(community)) is below the allowed 'allowedparent.example' "
	    "(allowcom (community)); the allow entry wins"), 1);
	if (listdb_open(dbp, &db, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s\n", err);
		CHECK(0);
		return;
	}
	CHECK_INT(look(db, "curated.example")->decided, 1);
	CHECK_INT(lm.category, CAT_DISPOSABLE);
	CHECK_INT(lm.support[TIER_CURATED], 1);
	CHECK_INT(lm.source_tier[0], TIER_CURATED);

	/* One community and one weak source: listed, not decided. */
	CHECK_INT(look(db, "x.one.example")->category, CAT_DISPOSABLE);
	CHECK_INT(lm.decided, 0);
	CHECK_INT(lm.support[TIER_COMMUNITY], 1);
	CHECK_INT(lm.support[TIER_WEAK], 1);
	CHECK_INT(look(db, "two.example")->decided, 1);
	CHECK_INT(look(db, "weakonly.example")->decided, 0);

	/* Two community disposable against one community relay. */
	CHECK_INT(look(db, "mixed.example")->category, CAT_DISPOSABLE);
	CHECK_INT(lm.conflict, 1);
	CHECK_INT(lm.decided, 1);
	CHECK_INT(lm.nsources, 3);

	CHECK_INT(look(db, "allowcom.example")->category, CAT_DISPOSABLE);
	CHECK_INT(lm.allow_lost, 1);
	CHECK_STR(lm.allow_entry, "allowcom.example");
	CHECK_INT(look(db, "allowcur.example")->category, CAT_ALLOWED);
	CHECK_INT(lm.overridden, 1);
	CHECK_INT(look(db, "sub.allowedparent.example")->category,
	    CAT_ALLOWED);

	/* The quorum is the caller's: one community source decides. */
	listdb_trust_default(&t);
	t.quorum[TIER_COMMUNITY] = 1;
	listdb_set_trust(db, &t);
	CHECK_INT(look(db, "x.one.example")->decided, 1);
	CHECK_INT(look(db, "weakonly.example")->decided, 0);
	listdb_close(db);
	unlink(dbp);
}

/* Classification: a listing that does not decide is suspicious. */
static void
test_classify(void)
{
	struct listdb_input in[2] = { 0 };
	struct listdb_build_report rep;
	struct listdb *db;
	struct policy pol;
	struct hash_key key;
	struct verdict v;
	struct addr a;
	const char *dbp = path_in("cls.db");
	char err[256];

	in[0] = (struct listdb_input){ .path = write_file("c1.txt",
	    "weakly.example\nstrongly.example\n"),
	    .category = CAT_DISPOSABLE, .source = "c1",
	    .tier = TIER_COMMUNITY };
	in[1] = (struct listdb_input){ .path = write_file("c2.txt",
	    "strongly.example\n"),
	    .category = CAT_DISPOSABLE, .source = "c2",
	    .tier = TIER_COMMUNITY };
	CHECK_INT(build(dbp, in, 2, 0, &rep), 0);
	if (listdb_open(dbp, &db, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s\n", err);
		CHECK(0);
		return;
	}
	policy_default(&pol);
	memset(&key, 0, sizeof(key));
	key.mode = HASH_SHA256;
	memset(&a, 0, sizeof(a));
	a.local = (char *)"someone";
	a.domain = (char *)"weakly.example";
	CHECK_INT(classify_address(db, &key, &pol, &a, ROLE_FROM, &v, err,
	    sizeof(err)), 0);
	CHECK_INT(v.category, CAT_SUSPICIOUS);
	CHECK_STR(v.why, "weakly.example");
	CHECK_STR(v.confidence, "low");
	CHECK_INT(policy_action(&pol, v.category, 0, 0), ACT_TAG);
	a.domain = (char *)"strongly.example";
	CHECK_INT(classify_address(db, &key, &pol, &a, ROLE_FROM, &v, err,
	    sizeof(err)), 0);
	CHECK_INT(v.category, CAT_DISPOSABLE);
	CHECK_INT(policy_action(&pol, v.category, 0, 0), ACT_REJECT);
	listdb_close(db);
	unlink(dbp);
}

static void
set_addr(struct dns_addr *d, const char *text)
{
	memset(d, 0, sizeof(*d));
	d->family = strchr(text, ':') != NULL ? AF_INET6 : AF_INET;
	if (inet_pton(d->family, text, &d->u) != 1)
		exit(99);
}

/* The facts of a domain with MX hosts, as infra_start would leave them. */
static void
facts(struct infra *inf, const char *domain, const char *mx1,
    const char *mx2, const char *ip)
{
	memset(inf, 0, sizeof(*inf));
	snprintf(inf->domain, sizeof(inf->domain), "%s", domain);
	if (mx1 != NULL)
		snprintf(inf->mx[inf->nmx++], DNS_NAME_MAX, "%s", mx1);
	if (mx2 != NULL)
		snprintf(inf->mx[inf->nmx++], DNS_NAME_MAX, "%s", mx2);
	if (ip != NULL)
		set_addr(&inf->addr[inf->naddr++], ip);
}

static void
test_infra(void)
{
	struct listdb_input in[8] = { 0 };
	struct listdb_build_report rep;
	struct listdb *db;
	struct infra inf;
	struct infra_verdict iv;
	struct fp_match m;
	struct dns_addr da;
	const char *dbp = path_in("infra.db");
	char err[256], entry[300];

	/* yandex.net, improvmx.com and forwardemail.net on a curated block
	 * list, as public lists carry them; their hosts on the shared
	 * infrastructure list. */
	in[0] = (struct listdb_input){ .path = write_file("blk.txt",
	    "yandex.net\nimprovmx.com\nforwardemail.net\n"
	    "realtemp.example\n"),
	    .category = CAT_DISPOSABLE, .source = "blk",
	    .tier = TIER_CURATED };
	in[1] = (struct listdb_input){ .path = write_file("shared.txt",
	    "mx *.yandex.net\nmx *.improvmx.com\n"
	    "mx mx1.forwardemail.net\nmx *.google.com\nmx *.mailgun.org\n"
	    "ns *.ns.cloudflare.com\nip 192.0.2.0/24\n"),
	    .category = CAT_ALLOWED, .source = "shared",
	    .kind = LIST_INFRA, .tier = TIER_CURATED };
	in[2] = (struct listdb_input){ .path = write_file("fp.txt",
	    "mx aspmx.l.google.com strong\nmx mx.realtemp.example strong\n"
	    "ip 192.0.2.0/25 strong\nns x.ns.cloudflare.com strong\n"),
	    .category = CAT_DISPOSABLE, .source = "fp",
	    .kind = LIST_FINGERPRINTS, .tier = TIER_CURATED };
	in[3] = (struct listdb_input){ .path = write_file("fpcom.txt",
	    "mx mx.community.example strong\n"),
	    .category = CAT_DISPOSABLE, .source = "fpcom",
	    .kind = LIST_FINGERPRINTS, .tier = TIER_COMMUNITY };
	in[4] = (struct listdb_input){ .path = write_file("allow.txt",
	    "gmail.com\n"),
	    .category = CAT_ALLOWED, .source = "allow",
	    .tier = TIER_CURATED };
	in[6] = (struct listdb_input){ .path = write_file("pub1.txt",
	    "mailgun.org\n"),
	    .category = CAT_DISPOSABLE, .source = "pub1",
	    .tier = TIER_COMMUNITY };
	in[7] = (struct listdb_input){ .path = write_file("pub2.txt",
	    "mailgun.org\n"),
	    .category = CAT_DISPOSABLE, .source = "pub2",
	    .tier = TIER_COMMUNITY };
	in[5] = (struct listdb_input){ .path = write_file("bad.txt",
	    "mx mx.example.test strong\n"),
	    .category = CAT_ALLOWED, .source = "bad",
	    .kind = LIST_INFRA, .tier = TIER_CURATED };
	/* Shared infrastructure has no strength. */
	CHECK_INT(build(dbp, in, 8, 0, &rep), -1);
	CHECK_INT(diag_count(1, "bad.txt:1: expected KIND VALUE (shared "
	    "infrastructure has no strength)"), 1);
	in[5] = in[7];
	CHECK_INT(build(dbp, in, 7, 0, &rep), 0);
	dump_diags();
	CHECK_INT(rep.infrastructure, 7);
	CHECK_INT(rep.fingerprints, 5);
	CHECK_INT(diag_count(0, "'improvmx.com' (blk (curated)) is shared "
	    "mail infrastructure ('mx *.improvmx.com' in shared)"), 1);
	CHECK_INT(diag_count(0, "'forwardemail.net' (blk (curated)) is "
	    "shared mail infrastructure ('mx mx1.forwardemail.net' in "
	    "shared)"), 1);
	CHECK_INT(diag_count(0, "'mx aspmx.l.google.com' is shared mail "
	    "infrastructure ('mx *.google.com' in shared)"), 1);
	CHECK_INT(diag_count(0, "'ip 192.0.2.0/25' is shared mail "
	    "infrastructure ('ip 192.0.2.0/24' in shared)"), 1);
	CHECK_INT(diag_count(0, "'ns x.ns.cloudflare.com' is shared mail "
	    "infrastructure"), 1);
	CHECK_INT(diag_count(0, "realtemp"), 0);
	if (listdb_open(dbp, &db, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s\n", err);
		CHECK(0);
		return;
	}
	CHECK_INT(listdb_infra_entries(db), 7);
	/* The domain of shared infrastructure: two community lists do not
	 * decide it, a curated one does. */
	CHECK_INT(look(db, "mailgun.org")->category, CAT_DISPOSABLE);
	CHECK_INT(lm.infra, 1);
	CHECK_INT(lm.decided, 0);
	CHECK_INT(look(db, "improvmx.com")->infra, 1);
	CHECK_INT(lm.decided, 1);
	CHECK_INT(look(db, "realtemp.example")->infra, 0);
	CHECK_INT(listdb_infra_host(db, FP_MX, "mx1.improvmx.com", &m, err,
	    sizeof(err)), 0);
	CHECK_INT(m.found, 1);
	CHECK_STR(m.entry, "*.improvmx.com");
	CHECK_INT(m.category, CAT_ALLOWED);
	CHECK_INT(m.strong, 0);
	CHECK_INT(listdb_infra_host(db, FP_NS, "mx1.improvmx.com", &m, err,
	    sizeof(err)), 0);
	CHECK_INT(m.found, 0);
	set_addr(&da, "192.0.2.77");
	CHECK_INT(listdb_infra_addr(db, &da, 32, &m, err, sizeof(err)), 0);
	CHECK_STR(m.entry, "192.0.2.0/24");
	CHECK_INT(listdb_infra_domain(db, "improvmx.com", entry,
	    sizeof(entry)), 1);
	CHECK_STR(entry, "mx *.improvmx.com");
	CHECK_INT(listdb_infra_domain(db, "forwardemail.net", entry,
	    sizeof(entry)), 1);
	CHECK_INT(listdb_infra_domain(db, "a.b.yandex.net", NULL, 0), 1);
	CHECK_INT(listdb_infra_domain(db, "realtemp.example", NULL, 0), 0);
	CHECK_INT(listdb_infra_domain(db, "net", NULL, 0), 0);
	/* A strong fingerprint of a community source alone is weak. */
	CHECK_INT(listdb_fp_host(db, FP_MX, "mx.community.example", &m, err,
	    sizeof(err)), 0);
	CHECK_INT(m.found, 1);
	CHECK_INT(m.strong, 0);

	/* A domain on Yandex 360 while yandex.net is listed: the
	 * MX-inside-a-listed-domain rule is weak there. */
	facts(&inf, "customer.example", "mx.yandex.net", NULL, NULL);
	CHECK_INT(infra_match(db, &inf, &iv, err, sizeof(err)), 0);
	CHECK_INT(iv.category, CAT_SUSPICIOUS);
	CHECK_INT(iv.shared, 1);
	CHECK_STR(iv.shared_what, "mx:*.yandex.net");
	CHECK_STR(iv.match, "mx-domain:yandex.net");
	/* ImprovMX and Forward Email: the same. */
	facts(&inf, "c2.example", "mx1.improvmx.com", "mx2.improvmx.com",
	    NULL);
	CHECK_INT(infra_match(db, &inf, &iv, err, sizeof(err)), 0);
	CHECK(iv.category != CAT_DISPOSABLE && iv.category != CAT_RELAY);
	facts(&inf, "c3.example", "mx1.forwardemail.net", NULL, NULL);
	CHECK_INT(infra_match(db, &inf, &iv, err, sizeof(err)), 0);
	CHECK(iv.category != CAT_DISPOSABLE && iv.category != CAT_RELAY);
	/* A strong fingerprint on Google's MX decides nothing. */
	facts(&inf, "c4.example", "aspmx.l.google.com", NULL, NULL);
	CHECK_INT(infra_match(db, &inf, &iv, err, sizeof(err)), 0);
	CHECK_INT(iv.category, CAT_SUSPICIOUS);
	CHECK_STR(iv.match, "mx:aspmx.l.google.com");
	/* An MX address in a shared range: the strong range below it is
	 * weak there. */
	facts(&inf, "c5.example", "mail.c5.example", NULL, "192.0.2.9");
	CHECK_INT(infra_match(db, &inf, &iv, err, sizeof(err)), 0);
	CHECK_INT(iv.category, CAT_SUSPICIOUS);
	CHECK_STR(iv.shared_what, "ip:192.0.2.0/24");
	/* The MX host of a mailbox provider on the allowlist is shared. */
	facts(&inf, "c6.example", "mx.realtemp.example",
	    "gmail-smtp-in.l.gmail.com", NULL);
	CHECK_INT(infra_match(db, &inf, &iv, err, sizeof(err)), 0);
	CHECK_INT(iv.category, CAT_SUSPICIOUS);
	CHECK_STR(iv.shared_what, "mx-allowed:gmail.com");
	/* The disposable service's own MX still decides: strong
	 * fingerprint, and the MX inside a listed (decided) domain. */
	facts(&inf, "new-burner.example", "mx.realtemp.example", NULL, NULL);
	CHECK_INT(infra_match(db, &inf, &iv, err, sizeof(err)), 0);
	CHECK_INT(iv.category, CAT_DISPOSABLE);
	CHECK_INT(iv.shared, 0);
	CHECK_STR(iv.match, "mx:mx.realtemp.example");
	facts(&inf, "other.example", "in.realtemp.example", NULL, NULL);
	CHECK_INT(infra_match(db, &inf, &iv, err, sizeof(err)), 0);
	CHECK_INT(iv.category, CAT_DISPOSABLE);
	CHECK_STR(iv.match, "mx-domain:realtemp.example");
	listdb_close(db);
	unlink(dbp);
}

int
main(void)
{
	char err[256];

	snprintf(dir, sizeof(dir), "/tmp/test_trust.XXXXXX");
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 99;
	}
	if (domain_init(NULL, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s\n", err);
		return 99;
	}
	test_rules();
	test_lookups();
	test_classify();
	test_infra();
	rm_dir();
	domain_fini();
	return T_DONE();
}
