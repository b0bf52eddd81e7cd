/*
 * test_senders - the senders of one message against a real list
 * database: every address classified however many there are at few
 * domains, each bound exactly at and one past, the verdict named after
 * the earliest role, the records store's events, and out of memory at
 * every allocation.
 *
 * Out of memory is injected by linking with --wrap for malloc, calloc,
 * realloc and reallocarray (see Makefile.am).
 */
#include "config.h"

#include <stdlib.h>
#include <unistd.h>

#include "listbuild.h"
#include "senders.h"
#include "t.h"

/* ---- allocation failure injection ----------------------------------- */

void	*__real_malloc(size_t);
void	*__real_calloc(size_t, size_t);
void	*__real_realloc(void *, size_t);
void	*__real_reallocarray(void *, size_t, size_t);
void	*__wrap_malloc(size_t);
void	*__wrap_calloc(size_t, size_t);
void	*__wrap_realloc(void *, size_t);
void	*__wrap_reallocarray(void *, size_t, size_t);

static long alloc_budget = -1;	/* -1: unlimited; else calls left */

static int
alloc_fails(void)
{
	if (alloc_budget == 0)
		return 1;
	if (alloc_budget > 0)
		alloc_budget--;
	return 0;
}

void *
__wrap_malloc(size_t n)
{
	return alloc_fails() ? NULL : __real_malloc(n);
}

void *
__wrap_calloc(size_t n, size_t size)
{
	return alloc_fails() ? NULL : __real_calloc(n, size);
}

void *
__wrap_realloc(void *p, size_t n)
{
	return alloc_fails() ? NULL : __real_realloc(p, n);
}

void *
__wrap_reallocarray(void *p, size_t n, size_t size)
{
	return alloc_fails() ? NULL : __real_reallocarray(p, n, size);
}

/* ---- helpers --------------------------------------------------------- */

static char dir[] = "/tmp/test_senders.XXXXXX";
static struct listdb *db;
static struct hash_key key = { .mode = HASH_HMAC, .keylen = 32 };
static struct policy pol;

static void
write_file(const char *name, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((f = fopen(path, "w")) == NULL) {
		perror(path);
		exit(99);
	}
	fputs(text, f);
	fclose(f);
}

/* Add local@domain in role; the return value of senders_add. */
static int
add(struct senders *s, const char *local, const char *domain,
    enum role role)
{
	struct addr a = { (char *)local, (char *)domain, domain[0] == '[' };
	char err[256] = "";
	int r;

	r = senders_add(s, db, &key, &pol, &a, role, err, sizeof(err));
	if (r < 0 && alloc_budget < 0)
		fprintf(stderr, "senders_add: %s\n", err);
	return r;
}

/* The verdict of a normalised domain among the senders', or NULL. */
static const struct verdict *
find(struct senders *s, const char *domain)
{
	size_t n;
	struct verdict *v = senders_verdicts(s, &n);

	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i].domain, domain) == 0)
			return &v[i];
	return NULL;
}

static size_t
ndomains(struct senders *s)
{
	size_t n;

	(void)senders_verdicts(s, &n);
	return n;
}

static struct verdict
classify(const char *local, const char *domain, enum role role)
{
	struct addr a = { (char *)local, (char *)domain, domain[0] == '[' };
	struct verdict v;
	char err[256];

	if (classify_address(db, &key, &pol, &a, role, &v, err,
	    sizeof(err)) != 0) {
		fprintf(stderr, "classify_address: %s\n", err);
		exit(99);
	}
	return v;
}

/* ---- tests ----------------------------------------------------------- */

/* Many addresses at one domain are one domain: all classified, the
 * disposable one after 300 clean ones too. */
static void
test_one_domain(void)
{
	struct senders *s = senders_new();
	const struct verdict *v;
	char local[32];
	size_t n;

	CHECK(s != NULL);
	for (int i = 0; i < 300; i++) {
		snprintf(local, sizeof(local), "u%d", i);
		CHECK_INT(add(s, local, "example.org", ROLE_FROM), SENDERS_OK);
	}
	CHECK_INT(add(s, "late", "mailinator.com", ROLE_FROM), SENDERS_OK);
	CHECK_INT(ndomains(s), 2);
	CHECK_INT(senders_truncated(s), 0);
	CHECK((v = find(s, "mailinator.com")) != NULL);
	CHECK_INT(v->category, CAT_DISPOSABLE);
	CHECK_INT(classify_decisive(&pol, senders_verdicts(s, &n), 2), 1);
	/* The records store gets the first SENDERS_MAX_RECORDED. */
	CHECK_INT(senders_nrecorded(s), SENDERS_MAX_RECORDED);
	senders_free(s);

	/* 10,000 addresses: still two domains. */
	s = senders_new();
	for (int i = 0; i < 10000; i++) {
		snprintf(local, sizeof(local), "u%d", i);
		CHECK_INT(add(s, local, i % 2 ? "Example.ORG" : "example.org",
		    ROLE_REPLY_TO), SENDERS_OK);
	}
	CHECK_INT(add(s, "late", "x.tempmail.test", ROLE_REPLY_TO),
	    SENDERS_OK);
	CHECK_INT(ndomains(s), 2);
	CHECK_INT(senders_truncated(s), 0);
	CHECK(find(s, "x.tempmail.test") != NULL);
	senders_free(s);
}

/* SENDERS_MAX_DOMAINS domains are classified, the next one is not and
 * truncates the message; the known ones go on being classified. */
static void
test_domain_bound(void)
{
	struct senders *s = senders_new();
	char domain[64];
	int i;

	/* Exactly at the bound: the last domain is the disposable one. */
	for (i = 0; i < SENDERS_MAX_DOMAINS - 1; i++) {
		snprintf(domain, sizeof(domain), "d%d.example.net", i);
		CHECK_INT(add(s, "x", domain, ROLE_REPLY_TO), SENDERS_OK);
	}
	CHECK_INT(add(s, "y", "mailinator.com", ROLE_REPLY_TO), SENDERS_OK);
	CHECK_INT(ndomains(s), SENDERS_MAX_DOMAINS);
	CHECK_INT(senders_truncated(s), 0);
	CHECK(find(s, "mailinator.com") != NULL);
	senders_free(s);

	/* One past it. */
	s = senders_new();
	for (i = 0; i < SENDERS_MAX_DOMAINS; i++) {
		snprintf(domain, sizeof(domain), "d%d.example.net", i);
		CHECK_INT(add(s, "x", domain, ROLE_REPLY_TO), SENDERS_OK);
	}
	CHECK_INT(senders_truncated(s), 0);
	CHECK_INT(add(s, "y", "mailinator.com", ROLE_REPLY_TO),
	    SENDERS_CAPPED);
	CHECK_INT(senders_truncated(s), 1);
	CHECK_INT(ndomains(s), SENDERS_MAX_DOMAINS);
	CHECK(find(s, "mailinator.com") == NULL);
	/* Again, written otherwise: still past the bound. */
	CHECK_INT(add(s, "y", "MAILINATOR.COM", ROLE_FROM), SENDERS_CAPPED);
	/* A known domain still counts, in an earlier role too. */
	CHECK_INT(add(s, "z", "d5.example.net", ROLE_FROM), SENDERS_OK);
	CHECK_INT(find(s, "d5.example.net")->role, ROLE_FROM);
	CHECK_INT(ndomains(s), SENDERS_MAX_DOMAINS);
	senders_free(s);
}

/* A domain is normalised once per spelling; past SENDERS_MAX_SPELLINGS
 * a new spelling is not looked at, even of a known domain. */
static void
test_spelling_bound(void)
{
	struct senders *s = senders_new();
	char domain[32];
	int i;

	/* "abcdefghi.org" in 512 case variants: one domain. */
	for (i = 0; i < SENDERS_MAX_SPELLINGS; i++) {
		for (int b = 0; b < 9; b++)
			domain[b] = (char)((i & (1 << b) ? 'A' : 'a') + b);
		strcpy(domain + 9, ".org");
		CHECK_INT(add(s, "x", domain, ROLE_FROM), SENDERS_OK);
	}
	CHECK_INT(ndomains(s), 1);
	CHECK_INT(senders_truncated(s), 0);
	/* Every spelling seen goes on being found, and costs nothing. */
	CHECK_INT(add(s, "y", "abcdefghi.org", ROLE_FROM), SENDERS_OK);
	CHECK_INT(add(s, "y", "ABCDEFGHi.org", ROLE_FROM), SENDERS_OK);
	CHECK_INT(senders_truncated(s), 0);
	/* One more spelling: not looked at. */
	CHECK_INT(add(s, "y", "abcdefghi.ORG", ROLE_FROM), SENDERS_CAPPED);
	CHECK_INT(senders_truncated(s), 1);
	CHECK_INT(add(s, "y", "mailinator.com", ROLE_FROM), SENDERS_CAPPED);
	CHECK_INT(ndomains(s), 1);
	senders_free(s);
}

/* Address literals and unusable domains are one domain, invalid. */
static void
test_invalid(void)
{
	struct senders *s = senders_new();
	const struct verdict *v;

	CHECK_INT(add(s, "a", "[192.0.2.1]", ROLE_FROM), SENDERS_OK);
	CHECK_INT(add(s, "b", "bad..domain", ROLE_FROM), SENDERS_OK);
	CHECK_INT(add(s, "c", "[IPv6:2001:db8::1]", ROLE_REPLY_TO),
	    SENDERS_OK);
	CHECK_INT(ndomains(s), 1);
	CHECK((v = find(s, "")) != NULL);
	CHECK_INT(v->category, CAT_INVALID);
	CHECK_INT(senders_nrecorded(s), 3);
	senders_free(s);
}

/* A domain's verdict is named after its address in the earliest role,
 * as a verdict per address would have been decisive. */
static void
test_roles(void)
{
	struct senders *s = senders_new();
	struct verdict env, from;
	const struct verdict *v;

	from = classify("ann", "mailinator.com", ROLE_FROM);
	CHECK_INT(add(s, "bob", "mailinator.com", ROLE_REPLY_TO), SENDERS_OK);
	CHECK_INT(add(s, "ann", "Mailinator.com", ROLE_FROM), SENDERS_OK);
	CHECK_INT(add(s, "cat", "mailinator.com", ROLE_SENDER), SENDERS_OK);
	CHECK((v = find(s, "mailinator.com")) != NULL);
	CHECK_INT(v->role, ROLE_FROM);
	CHECK(memcmp(v->hash, from.hash, HASH_LEN) == 0);
	senders_free(s);

	/* The envelope's verdict (looked at through DNS at MAIL) stands
	 * for its domain: the header addresses there do not redo it. */
	s = senders_new();
	env = classify("joe", "example.org", ROLE_ENVELOPE);
	env.dns = 1;
	env.category = CAT_SUSPICIOUS;
	snprintf(env.why, sizeof(env.why), "mx:test");
	CHECK_INT(senders_add_verdict(s, &env), SENDERS_OK);
	CHECK_INT(add(s, "joe", "EXAMPLE.org", ROLE_FROM), SENDERS_OK);
	CHECK_INT(add(s, "x", "mailinator.com", ROLE_REPLY_TO), SENDERS_OK);
	CHECK_INT(ndomains(s), 2);
	CHECK((v = find(s, "example.org")) != NULL);
	CHECK_INT(v->category, CAT_SUSPICIOUS);
	CHECK_INT(v->role, ROLE_ENVELOPE);
	CHECK_STR(v->why, "mx:test");
	CHECK(memcmp(v->hash, env.hash, HASH_LEN) == 0);
	senders_set_truncated(s);
	CHECK_INT(senders_truncated(s), 1);
	senders_free(s);
}

/* Record events: one per sender and message, with all its roles; a
 * domain counts the message once. */
static void
test_record_events(void)
{
	struct senders *s = senders_new();
	struct record_event ev[SENDERS_MAX_RECORDED];
	struct verdict env = classify("joe", "mailinator.com", ROLE_ENVELOPE);

	CHECK_INT(senders_add_verdict(s, &env), SENDERS_OK);
	CHECK_INT(add(s, "Joe+x", "MAILINATOR.com", ROLE_FROM), SENDERS_OK);
	CHECK_INT(add(s, "ann", "mailinator.com", ROLE_REPLY_TO), SENDERS_OK);
	CHECK_INT(add(s, "bob", "example.org", ROLE_SENDER), SENDERS_OK);
	CHECK_INT(senders_nrecorded(s), 4);
	CHECK_INT(senders_record_events(s, ACT_REJECT, 1000, ev), 3);
	CHECK_INT(ev[0].roles, 1u << ROLE_ENVELOPE | 1u << ROLE_FROM);
	CHECK(memcmp(ev[0].hash, env.hash, HASH_LEN) == 0);
	CHECK_INT(ev[0].first_of_domain, 1);
	CHECK_INT(ev[0].category, CAT_DISPOSABLE);
	CHECK_INT(ev[1].roles, 1u << ROLE_REPLY_TO);
	CHECK_INT(ev[1].first_of_domain, 0);
	CHECK_INT(ev[2].first_of_domain, 1);
	CHECK_STR(ev[2].domain, "example.org");
	CHECK_INT(ev[2].action, ACT_REJECT);
	CHECK_INT((int)ev[2].when, 1000);
	CHECK_INT(ev[2].category, CAT_CLEAN);
	/* The category is the domain's as it ended (after DNS, say). */
	{
		size_t n;
		struct verdict *v = senders_verdicts(s, &n);

		v[1].category = CAT_RELAY;
	}
	CHECK_INT(senders_record_events(s, ACT_TAG, 1000, ev), 3);
	CHECK_INT(ev[2].category, CAT_RELAY);
	senders_free(s);

	/* The same hash under another key is another sender. */
	s = senders_new();
	CHECK_INT(add(s, "joe", "mailinator.com", ROLE_FROM), SENDERS_OK);
	key.id = 1;
	CHECK_INT(add(s, "joe", "mailinator.com", ROLE_REPLY_TO), SENDERS_OK);
	key.id = 0;
	CHECK_INT(senders_record_events(s, ACT_TAG, 1000, ev), 2);
	senders_free(s);
}

/* Out of memory at every allocation: -1 with the reason, or success;
 * never a crash or a leak (valgrind and ASan runs). */
static void
test_enomem(void)
{
	int failures = 0, successes = 0;
	char domain[64];

	for (long k = 0; k < 400 && successes == 0; k++) {
		struct senders *s;
		int r = 0;

		alloc_budget = k;
		if ((s = senders_new()) == NULL) {
			alloc_budget = -1;
			failures++;
			continue;
		}
		for (int i = 0; i < 40 && r >= 0; i++) {
			snprintf(domain, sizeof(domain), "d%d.example.net",
			    i % 20);
			r = add(s, "x", domain, i % 3 ? ROLE_FROM :
			    ROLE_REPLY_TO);
		}
		alloc_budget = -1;
		if (r < 0)
			failures++;
		else {
			CHECK_INT(ndomains(s), 20);
			successes++;
		}
		senders_free(s);
	}
	CHECK(failures > 5);
	CHECK_INT(successes, 1);
}

int
main(void)
{
	struct listdb_input in[3] = { 0 };
	struct listdb_build_report rep;
	char err[1024], path[600], d[600], r[600], a[600];

	if (mkdtemp(dir) == NULL)
		T_SKIP("mkdtemp failed");
	if (domain_init(NULL, err, sizeof(err)) != 0)
		T_SKIP(err);
	write_file("d.txt", "mailinator.com\ntempmail.test\n");
	write_file("r.txt", "relay.test\n");
	write_file("a.txt", "good.mailinator.com\n");
	snprintf(path, sizeof(path), "%s/lists.db", dir);
	snprintf(d, sizeof(d), "%s/d.txt", dir);
	snprintf(r, sizeof(r), "%s/r.txt", dir);
	snprintf(a, sizeof(a), "%s/a.txt", dir);
	in[0] = (struct listdb_input){ .path = d,
	    .category = CAT_DISPOSABLE, .source = "test-d" };
	in[1] = (struct listdb_input){ .path = r,
	    .category = CAT_RELAY, .source = "test-r" };
	in[2] = (struct listdb_input){ .path = a,
	    .category = CAT_ALLOWED, .source = "test-a" };
	CHECK_INT(listdb_build(path, in, 3, 0, NULL, NULL, &rep), 0);
	CHECK_INT(listdb_open(path, &db, err, sizeof(err)), 0);
	memset(key.key, 7, key.keylen);
	policy_default(&pol);

	test_one_domain();
	test_domain_bound();
	test_spelling_bound();
	test_invalid();
	test_roles();
	test_record_events();
	test_enomem();

	listdb_close(db);
	snprintf(err, sizeof(err), "rm -rf %s", dir);
	if (system(err) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
	return T_DONE();
}
