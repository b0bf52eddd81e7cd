/*
 * test_classify - verdicts per address against a real list database, the
 * decisive address of a message, and the tag header value.
 */
#include "config.h"

#include <stdlib.h>
#include <unistd.h>

#include "classify.h"
#include "listbuild.h"
#include "t.h"

static char dir[] = "/tmp/test_classify.XXXXXX";

static void
write_file(const char *name, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	if (f == NULL) {
		perror(path);
		exit(99);
	}
	fputs(text, f);
	fclose(f);
}

static struct verdict
classify(struct listdb *db, const struct hash_key *k,
    const struct policy *p, const char *local, const char *domain,
    enum role role)
{
	struct addr a = { (char *)local, (char *)domain, domain[0] == '[' };
	struct verdict v;
	char err[256];

	if (classify_address(db, k, p, &a, role, &v, err, sizeof(err)) != 0) {
		fprintf(stderr, "classify_address: %s\n", err);
		memset(&v, 0, sizeof(v));
		v.category = CAT_COUNT;
	}
	return v;
}

int
main(void)
{
	struct listdb_input in[3] = { 0 };
	struct listdb_build_report rep;
	struct listdb *db;
	struct hash_key k = { .mode = HASH_HMAC, .keylen = 32 };
	struct policy p;
	struct verdict v, vs[4];
	char err[1024], path[600], buf[512];
	unsigned char h1[HASH_LEN], zero[HASH_LEN] = { 0 };

	if (mkdtemp(dir) == NULL)
		T_SKIP("mkdtemp failed");
	if (domain_init(NULL, err, sizeof(err)) != 0)
		T_SKIP(err);
	write_file("d.txt", "mailinator.com\ntempmail.test\n");
	write_file("r.txt", "mozmail.com\n");
	write_file("a.txt", "good.mailinator.com\n");
	snprintf(path, sizeof(path), "%s/lists.db", dir);
	snprintf(buf, sizeof(buf), "%s/d.txt", dir);
	char rpath[600], apath[600];
	snprintf(rpath, sizeof(rpath), "%s/r.txt", dir);
	snprintf(apath, sizeof(apath), "%s/a.txt", dir);
	in[0] = (struct listdb_input){ .path = buf,
	    .category = CAT_DISPOSABLE, .source = "test-d" };
	in[1] = (struct listdb_input){ .path = rpath,
	    .category = CAT_RELAY, .source = "test-r" };
	in[2] = (struct listdb_input){ .path = apath,
	    .category = CAT_ALLOWED, .source = "test-a" };
	CHECK_INT(listdb_build(path, in, 3, 0, NULL, NULL, &rep), 0);
	CHECK_INT(listdb_open(path, &db, err, sizeof(err)), 0);
	memset(k.key, 7, k.keylen);
	policy_default(&p);

	/* Categories, with the domain normalised first. */
	v = classify(db, &k, &p, "x", "MAILINATOR.com.", ROLE_ENVELOPE);
	CHECK_INT(v.category, CAT_DISPOSABLE);
	CHECK_STR(v.domain, "mailinator.com");
	CHECK_STR(v.match.entry, "mailinator.com");
	CHECK_INT(v.role, ROLE_ENVELOPE);
	CHECK(memcmp(v.hash, zero, HASH_LEN) != 0);
	v = classify(db, &k, &p, "x", "a.b.tempmail.test", ROLE_FROM);
	CHECK_INT(v.category, CAT_DISPOSABLE);
	CHECK_STR(v.match.entry, "tempmail.test");
	CHECK_INT(v.match.level, 2);
	v = classify(db, &k, &p, "x", "mozmail.com", ROLE_FROM);
	CHECK_INT(v.category, CAT_RELAY);
	v = classify(db, &k, &p, "x", "good.mailinator.com", ROLE_FROM);
	CHECK_INT(v.category, CAT_ALLOWED);
	v = classify(db, &k, &p, "x", "example.org", ROLE_FROM);
	CHECK_INT(v.category, CAT_CLEAN);
	CHECK_STR(v.match.entry, "");
	v = classify(db, &k, &p, "x", "bad..domain", ROLE_FROM);
	CHECK_INT(v.category, CAT_INVALID);
	CHECK_STR(v.domain, "");
	CHECK(memcmp(v.hash, zero, HASH_LEN) != 0);
	v = classify(db, &k, &p, "x", "[192.0.2.1]", ROLE_FROM);
	CHECK_INT(v.category, CAT_INVALID);
	v = classify(db, &k, &p, "x", "m\xc3\xa4" "chine.example", ROLE_FROM);
	CHECK_STR(v.domain, "xn--mchine-bua.example");

	/* The hash is of the canonical address: case and +tag do not
	 * matter, the key does. */
	v = classify(db, &k, &p, "Joe+list", "Mailinator.COM", ROLE_FROM);
	memcpy(h1, v.hash, HASH_LEN);
	v = classify(db, &k, &p, "joe", "mailinator.com", ROLE_FROM);
	CHECK(memcmp(v.hash, h1, HASH_LEN) == 0);
	p.subaddr_sep = '\0';
	v = classify(db, &k, &p, "joe+list", "mailinator.com", ROLE_FROM);
	CHECK(memcmp(v.hash, h1, HASH_LEN) != 0);
	p.subaddr_sep = '+';
	k.key[0] ^= 1;
	v = classify(db, &k, &p, "joe", "mailinator.com", ROLE_FROM);
	CHECK(memcmp(v.hash, h1, HASH_LEN) != 0);

	/* The decisive address: the most severe action wins ... */
	vs[0] = classify(db, &k, &p, "a", "example.org", ROLE_ENVELOPE);
	vs[1] = classify(db, &k, &p, "b", "mozmail.com", ROLE_FROM);
	vs[2] = classify(db, &k, &p, "c", "mailinator.com", ROLE_REPLY_TO);
	vs[3] = classify(db, &k, &p, "d", "good.mailinator.com", ROLE_SENDER);
	CHECK_INT(classify_decisive(&p, vs, 4), 2);
	CHECK_INT(classify_decisive(&p, vs, 2), 1);
	CHECK_INT(classify_decisive(&p, vs, 1), 0);
	/* ... under the policy in force, not a fixed order ... */
	p.action[CAT_DISPOSABLE] = ACT_ACCEPT;
	CHECK_INT(classify_decisive(&p, vs, 4), 1);
	/* ... ties go to the more severe category, then the earlier role. */
	p.action[CAT_RELAY] = ACT_ACCEPT;
	CHECK_INT(classify_decisive(&p, vs, 4), 2);
	vs[1] = classify(db, &k, &p, "b", "tempmail.test", ROLE_FROM);
	CHECK_INT(classify_decisive(&p, vs + 1, 2), 0);
	policy_default(&p);
	vs[1] = classify(db, &k, &p, "b", "mozmail.com", ROLE_FROM);

	/* With the null envelope sender (a bounce) the action is capped:
	 * by default at tag; a milder action stays what it is. */
	CHECK_INT(policy_action(&p, CAT_DISPOSABLE, 0, 0), ACT_REJECT);
	CHECK_INT(policy_action(&p, CAT_DISPOSABLE, 0, 1), ACT_TAG);
	CHECK_INT(policy_action(&p, CAT_RELAY, 0, 1), ACT_TAG);
	CHECK_INT(policy_action(&p, CAT_CLEAN, 0, 1), ACT_ACCEPT);
	p.null_sender_max = ACT_ACCEPT;
	CHECK_INT(policy_action(&p, CAT_DISPOSABLE, 0, 1), ACT_ACCEPT);
	p.null_sender_max = ACT_REJECT;
	CHECK_INT(policy_action(&p, CAT_DISPOSABLE, 0, 1), ACT_REJECT);
	policy_default(&p);

	/* A truncated message (not every sender classified) gets at least
	 * the truncated action, tag by default; a more severe category
	 * keeps its own; the null-sender cap still applies. */
	CHECK_INT(p.truncated, ACT_TAG);
	CHECK_INT(policy_action(&p, CAT_CLEAN, 1, 0), ACT_TAG);
	CHECK_INT(policy_action(&p, CAT_ALLOWED, 1, 0), ACT_TAG);
	CHECK_INT(policy_action(&p, CAT_DISPOSABLE, 1, 0), ACT_REJECT);
	CHECK_INT(policy_action(&p, CAT_CLEAN, 0, 0), ACT_ACCEPT);
	p.truncated = ACT_REJECT;
	CHECK_INT(policy_action(&p, CAT_CLEAN, 1, 0), ACT_REJECT);
	CHECK_INT(policy_action(&p, CAT_RELAY, 1, 0), ACT_REJECT);
	CHECK_INT(policy_action(&p, CAT_CLEAN, 1, 1), ACT_TAG);
	p.truncated = ACT_ACCEPT;
	CHECK_INT(policy_action(&p, CAT_CLEAN, 1, 0), ACT_ACCEPT);
	CHECK_INT(policy_action(&p, CAT_RELAY, 1, 0), ACT_TAG);
	policy_default(&p);

	/* The tag value. */
	vs[0] = classify(db, &k, &p, "a", "example.org", ROLE_ENVELOPE);
	vs[2] = classify(db, &k, &p, "c", "mailinator.com", ROLE_REPLY_TO);
	CHECK(verdict_tag_value(&vs[2], 0, buf, sizeof(buf)) > 0);
	CHECK_STR(buf, "disposable; role=reply-to; match=mailinator.com");
	CHECK(verdict_tag_value(&vs[0], 0, buf, sizeof(buf)) > 0);
	CHECK_STR(buf, "clean; role=envelope");
	CHECK_INT(verdict_tag_value(&vs[2], 0, buf, 20), -1);
	/* A truncated message's tag says so, last. */
	CHECK(verdict_tag_value(&vs[0], 1, buf, sizeof(buf)) > 0);
	CHECK_STR(buf, "clean; role=envelope; truncated");
	CHECK(verdict_tag_value(&vs[2], 1, buf, sizeof(buf)) > 0);
	CHECK_STR(buf, "disposable; role=reply-to; match=mailinator.com; "
	    "truncated");
	CHECK_INT(verdict_tag_value(&vs[0], 1, buf, 31), -1);
	CHECK_INT(verdict_tag_value(&vs[0], 1, buf, 32), 31);

	listdb_close(db);
	snprintf(buf, sizeof(buf), "rm -rf %s", dir);
	if (system(buf) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
	return T_DONE();
}
