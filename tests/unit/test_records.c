/*
 * test_records.c - lib/records.c: records written and read back field by
 * field, the domain aggregates, the age index order seen through purge,
 * forget, read-only opens, a full map, a reopen, stored values that do
 * not decode (written with plain LMDB calls), and the decoders.
 */
#include "config.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lmdb.h>

#include "records.h"
#include "t.h"

#define MIB ((size_t)1 << 20)

static char	dir[] = "/tmp/test_records.XXXXXX";
static char	path[PATH_MAX], path2[PATH_MAX];

static void
remove_store(const char *p)
{
	char lock[PATH_MAX + 8];

	unlink(p);
	snprintf(lock, sizeof(lock), "%s-lock", p);
	unlink(lock);
}

static void
mkhash(unsigned char *h, unsigned n)
{
	for (size_t i = 0; i < HASH_LEN; i++)
		h[i] = (unsigned char)(n * 131u + i * 7u + (n >> 8));
	h[0] = (unsigned char)n;
	h[1] = (unsigned char)(n >> 8);
	h[2] = (unsigned char)(n >> 16);
}

static struct record_event
ev(unsigned who, uint8_t key_id, time_t when, const char *domain,
    enum category cat, enum role role, enum action act, int first)
{
	struct record_event e;

	memset(&e, 0, sizeof(e));
	e.when = when;
	e.key_id = key_id;
	mkhash(e.hash, who);
	snprintf(e.domain, sizeof(e.domain), "%s", domain);
	e.category = cat;
	e.roles = 1u << role;
	e.action = act;
	e.first_of_domain = first;
	return e;
}

static int
get(struct records *rs, unsigned who, uint8_t key_id, struct record *r)
{
	unsigned char	h[HASH_LEN];
	char		err[256];

	mkhash(h, who);
	return records_get(rs, key_id, h, r, err, sizeof(err));
}

struct aggs {
	struct domain_aggregate	a[4];
	size_t			n;
};

static int
collect_dom(void *arg, const struct domain_aggregate *a)
{
	struct aggs *g = arg;

	if (g->n < 4)
		g->a[g->n] = *a;
	g->n++;
	return 0;
}

struct recs {
	size_t		n;
	unsigned	stop_after;
};

static int
count_rec(void *arg, const struct record *r)
{
	struct recs *c = arg;

	(void)r;
	c->n++;
	return c->stop_after != 0 && c->n == c->stop_after;
}

enum { A = 1, B, C, D };

static void
check_aggregates(struct records *rs)
{
	struct aggs	g;
	char		err[256];

	memset(&g, 0, sizeof(g));
	CHECK_INT(records_foreach_domain(rs, collect_dom, &g, err,
	    sizeof(err)), 0);
	CHECK_INT(g.n, 2);
	/* example.org: one message (c, first_of_domain), one sender; the
	 * later sighting of c with no domain counts nowhere. */
	CHECK_STR(g.a[0].domain, "example.org");
	CHECK_INT(g.a[0].messages, 1);
	CHECK_INT(g.a[0].senders, 1);
	CHECK_INT(g.a[0].per_category[CAT_CLEAN], 1);
	CHECK_INT(g.a[0].per_category[CAT_DISPOSABLE], 0);
	CHECK_INT(g.a[0].per_action[ACT_ACCEPT], 1);
	CHECK_INT(g.a[0].first_seen, 900);
	CHECK_INT(g.a[0].last_seen, 900);
	/* mailinator.com: two messages (e1, e5), three records created
	 * (a/1, b, a/2), five sightings, one reject and one tag. */
	CHECK_STR(g.a[1].domain, "mailinator.com");
	CHECK_INT(g.a[1].messages, 2);
	CHECK_INT(g.a[1].senders, 3);
	CHECK_INT(g.a[1].per_category[CAT_DISPOSABLE], 5);
	CHECK_INT(g.a[1].per_category[CAT_CLEAN], 0);
	CHECK_INT(g.a[1].per_action[ACT_REJECT], 1);
	CHECK_INT(g.a[1].per_action[ACT_TAG], 1);
	CHECK_INT(g.a[1].per_action[ACT_ACCEPT], 0);
	CHECK_INT(g.a[1].first_seen, 1000);
	CHECK_INT(g.a[1].last_seen, 2000);
}

static void
test_write_read(void)
{
	struct records		*rs;
	struct record		 r;
	struct record_event	 b1[4], b2[4], bad;
	struct recs		 c;
	size_t			 nrec, ndom;
	char			 err[256];

	CHECK_INT(records_open(path, MIB, 0, &rs, err, sizeof(err)), 0);
	CHECK_INT(records_count(rs, &nrec, &ndom), 0);
	CHECK_INT(nrec, 0);
	CHECK_INT(ndom, 0);

	/* One message: a in MAIL FROM and From, b in Reply-To, all at
	 * mailinator.com; another message from c. */
	b1[0] = ev(A, 1, 1000, "mailinator.com", CAT_DISPOSABLE,
	    ROLE_ENVELOPE, ACT_REJECT, 1);
	b1[1] = ev(A, 1, 1000, "mailinator.com", CAT_DISPOSABLE, ROLE_FROM,
	    ACT_REJECT, 0);
	b1[2] = ev(B, 1, 1000, "mailinator.com", CAT_DISPOSABLE,
	    ROLE_REPLY_TO, ACT_REJECT, 0);
	b1[3] = ev(C, 1, 900, "example.org", CAT_CLEAN, ROLE_ENVELOPE,
	    ACT_ACCEPT, 1);
	CHECK_INT(records_write_batch(rs, b1, 4, NULL, err, sizeof(err)), 0);

	b2[0] = ev(A, 1, 2000, "mailinator.com", CAT_DISPOSABLE,
	    ROLE_ENVELOPE, ACT_TAG, 1);
	/* The same address hashed under another key is another record. */
	b2[1] = ev(A, 2, 2000, "mailinator.com", CAT_DISPOSABLE,
	    ROLE_ENVELOPE, ACT_TAG, 0);
	b2[2] = ev(D, 1, 500, "", CAT_INVALID, ROLE_SENDER, ACT_ACCEPT, 1);
	/* Older than c's first sighting, and without a domain. */
	b2[3] = ev(C, 1, 800, "", CAT_INVALID, ROLE_DNT, ACT_ACCEPT, 1);
	CHECK_INT(records_write_batch(rs, b2, 4, NULL, err, sizeof(err)), 0);

	/* An invalid event refuses the whole batch. */
	bad = ev(99, 1, 3000, "x.test", CAT_CLEAN, ROLE_FROM, ACT_ACCEPT, 1);
	bad.category = CAT_COUNT;
	CHECK_INT(records_write_batch(rs, &bad, 1, NULL, err, sizeof(err)),
	    -1);
	bad = ev(99, 1, 3000, "x.test", CAT_CLEAN, ROLE_COUNT, ACT_ACCEPT, 1);
	CHECK_INT(records_write_batch(rs, &bad, 1, NULL, err, sizeof(err)),
	    -1);
	CHECK_INT(get(rs, 99, 1, &r), 1);
	CHECK_INT(records_write_batch(rs, NULL, 0, NULL, err, sizeof(err)), 0);

	CHECK_INT(get(rs, A, 1, &r), 0);
	CHECK_INT(r.key_id, 1);
	CHECK_INT(r.first_seen, 1000);
	CHECK_INT(r.last_seen, 2000);
	CHECK_INT(r.messages, 3);
	CHECK_INT(r.categories, 1u << CAT_DISPOSABLE);
	CHECK_INT(r.roles, (1u << ROLE_ENVELOPE) | (1u << ROLE_FROM));
	CHECK_STR(r.domain, "mailinator.com");

	CHECK_INT(get(rs, A, 2, &r), 0);
	CHECK_INT(r.key_id, 2);
	CHECK_INT(r.messages, 1);
	CHECK_INT(r.first_seen, 2000);

	CHECK_INT(get(rs, B, 1, &r), 0);
	CHECK_INT(r.messages, 1);
	CHECK_INT(r.roles, 1u << ROLE_REPLY_TO);

	CHECK_INT(get(rs, C, 1, &r), 0);
	CHECK_INT(r.first_seen, 800);
	CHECK_INT(r.last_seen, 900);
	CHECK_INT(r.messages, 2);
	CHECK_INT(r.categories, (1u << CAT_CLEAN) | (1u << CAT_INVALID));
	CHECK_INT(r.roles, (1u << ROLE_ENVELOPE) | (1u << ROLE_DNT));
	CHECK_STR(r.domain, "example.org");	/* the latest non-empty */

	CHECK_INT(get(rs, D, 1, &r), 0);
	CHECK_STR(r.domain, "");
	CHECK_INT(r.categories, 1u << CAT_INVALID);

	CHECK_INT(get(rs, D, 2, &r), 1);
	CHECK_INT(get(rs, 1234, 1, &r), 1);

	CHECK_INT(records_count(rs, &nrec, &ndom), 0);
	CHECK_INT(nrec, 5);
	CHECK_INT(ndom, 2);
	check_aggregates(rs);

	memset(&c, 0, sizeof(c));
	CHECK_INT(records_foreach(rs, count_rec, &c, err, sizeof(err)), 0);
	CHECK_INT(c.n, 5);
	c.n = 0;
	c.stop_after = 2;
	CHECK_INT(records_foreach(rs, count_rec, &c, err, sizeof(err)), 0);
	CHECK_INT(c.n, 2);
	records_close(rs);
}

/* Reopened (read-only, then writable) the data is all there. */
static void
test_reopen(void)
{
	struct records		*rs;
	struct record		 r;
	struct record_event	 e;
	size_t			 nrec, ndom, n;
	char			 err[256];

	CHECK_INT(records_open(path, MIB, 1, &rs, err, sizeof(err)), 0);
	CHECK_INT(get(rs, A, 1, &r), 0);
	CHECK_INT(r.messages, 3);
	CHECK_INT(records_count(rs, &nrec, &ndom), 0);
	CHECK_INT(nrec, 5);
	check_aggregates(rs);
	e = ev(A, 1, 3000, "mailinator.com", CAT_DISPOSABLE, ROLE_FROM,
	    ACT_TAG, 1);
	CHECK_INT(records_write_batch(rs, &e, 1, NULL, err, sizeof(err)), -1);
	CHECK(strstr(err, path) != NULL);
	CHECK_INT(records_purge(rs, 5000, 10, &n, err, sizeof(err)), -1);
	records_close(rs);

	CHECK_INT(records_open(path, 2 * MIB, 0, &rs, err, sizeof(err)), 0);
	CHECK_INT(get(rs, C, 1, &r), 0);
	CHECK_INT(r.first_seen, 800);

	records_close(rs);
}

static void
test_roles(void)
{
	struct records		*rs;
	struct record		 r;
	struct record_event	 one;
	char			 err[256];
	char			 p3[PATH_MAX + 16];

	/* One message naming the same sender as envelope and Reply-To is
	 * one event (senders_record_events): one message, both roles. */
	snprintf(p3, sizeof(p3), "%s.repeat", path);
	CHECK_INT(records_open(p3, MIB, 0, &rs, err, sizeof(err)), 0);
	one = ev(C, 1, 3100, "example.org", CAT_CLEAN, ROLE_ENVELOPE,
	    ACT_ACCEPT, 1);
	one.roles |= 1u << ROLE_REPLY_TO;
	CHECK_INT(records_write_batch(rs, &one, 1, NULL, err, sizeof(err)), 0);
	CHECK_INT(get(rs, C, 1, &r), 0);
	CHECK_INT(r.messages, 1);
	CHECK(r.roles & (1u << ROLE_ENVELOPE));
	CHECK(r.roles & (1u << ROLE_REPLY_TO));
	records_close(rs);
	remove_store(p3);
}

static void
test_forget_purge(void)
{
	struct records	*rs;
	struct record	 r;
	unsigned char	 h[HASH_LEN];
	size_t		 n, nrec, ndom;
	char		 err[256];

	CHECK_INT(records_open(path, MIB, 0, &rs, err, sizeof(err)), 0);

	/* Forget b: exactly one record goes, and its index entry with it
	 * (the purges below would count a stale one). */
	mkhash(h, B);
	CHECK_INT(records_forget(rs, 1, h, err, sizeof(err)), 0);
	CHECK_INT(get(rs, B, 1, &r), 1);
	CHECK_INT(records_forget(rs, 1, h, err, sizeof(err)), 1);
	mkhash(h, A);
	CHECK_INT(records_forget(rs, 3, h, err, sizeof(err)), 1);
	CHECK_INT(get(rs, A, 1, &r), 0);
	CHECK_INT(get(rs, A, 2, &r), 0);
	CHECK_INT(get(rs, C, 1, &r), 0);
	CHECK_INT(get(rs, D, 1, &r), 0);
	CHECK_INT(records_count(rs, &nrec, &ndom), 0);
	CHECK_INT(nrec, 4);
	check_aggregates(rs);

	/* Nothing is older than 500. */
	CHECK_INT(records_purge(rs, 500, 10, &n, err, sizeof(err)), 0);
	CHECK_INT(n, 0);
	CHECK_INT(records_purge(rs, 5000, 0, &n, err, sizeof(err)), 0);
	CHECK_INT(n, 0);

	/* One per transaction: oldest last sighting first (d 500, c 900),
	 * then a/1 and a/2 (both 2000, in key order).  a/1's index entry
	 * moved from 1000 to 2000 when it was seen again. */
	CHECK_INT(records_purge(rs, 2001, 1, &n, err, sizeof(err)), 0);
	CHECK_INT(n, 1);
	CHECK_INT(get(rs, D, 1, &r), 1);
	CHECK_INT(get(rs, C, 1, &r), 0);
	CHECK_INT(records_purge(rs, 2001, 1, &n, err, sizeof(err)), 0);
	CHECK_INT(n, 1);
	CHECK_INT(get(rs, C, 1, &r), 1);
	CHECK_INT(get(rs, A, 1, &r), 0);
	/* The cutoff is exclusive: last seen 2000 stays at cutoff 2000. */
	CHECK_INT(records_purge(rs, 2000, 10, &n, err, sizeof(err)), 0);
	CHECK_INT(n, 0);
	CHECK_INT(records_purge(rs, 2001, 1, &n, err, sizeof(err)), 0);
	CHECK_INT(n, 1);
	CHECK_INT(get(rs, A, 1, &r), 1);
	CHECK_INT(get(rs, A, 2, &r), 0);
	CHECK_INT(records_purge(rs, 2001, 1, &n, err, sizeof(err)), 0);
	CHECK_INT(n, 1);
	CHECK_INT(records_purge(rs, 2001, 1, &n, err, sizeof(err)), 0);
	CHECK_INT(n, 0);
	CHECK_INT(records_count(rs, &nrec, &ndom), 0);
	CHECK_INT(nrec, 0);
	CHECK_INT(ndom, 2);
	/* Aggregates hold no individual data: neither forget nor purge
	 * touches them. */
	check_aggregates(rs);
	records_close(rs);
}

/* A purge of many records in bounded transactions: repeated calls end. */
static void
test_purge_batches(void)
{
	struct records		*rs;
	struct record_event	 e[50];
	struct record		 r;
	size_t			 n, total = 0, calls = 0, nrec;
	char			 err[256];

	CHECK_INT(records_open(path2, MIB, 0, &rs, err, sizeof(err)), 0);
	for (unsigned i = 0; i < 50; i++)
		e[i] = ev(1000 + i, 1, 10000 + (time_t)i, "example.net",
		    CAT_CLEAN, ROLE_FROM, ACT_ACCEPT, 1);
	CHECK_INT(records_write_batch(rs, e, 50, NULL, err, sizeof(err)), 0);
	/* 10000..10036 are older than 10037: 37 records. */
	do {
		CHECK_INT(records_purge(rs, 10037, 8, &n, err, sizeof(err)),
		    0);
		CHECK(n <= 8);
		total += n;
	} while (n == 8 && ++calls < 100);
	CHECK_INT(total, 37);
	CHECK_INT(calls, 4);	/* 8 8 8 8, then 5 */
	CHECK_INT(records_count(rs, &nrec, NULL), 0);
	CHECK_INT(nrec, 13);
	CHECK_INT(get(rs, 1036, 1, &r), 1);
	CHECK_INT(get(rs, 1037, 1, &r), 0);
	CHECK_INT(r.last_seen, 10037);
	records_close(rs);
	remove_store(path2);
}

static void
test_open_errors(void)
{
	struct records	*rs = (void *)&rs;
	char		 err[256], missing[PATH_MAX + 16];

	snprintf(missing, sizeof(missing), "%s/missing.db", dir);
	err[0] = '\0';
	CHECK_INT(records_open(missing, MIB, 1, &rs, err, sizeof(err)), -1);
	CHECK(rs == NULL);
	CHECK(strstr(err, missing) != NULL);
	CHECK(access(missing, F_OK) == -1);	/* not created */

	err[0] = '\0';
	CHECK_INT(records_open(missing, MIB - 1, 0, &rs, err, sizeof(err)),
	    -1);
	CHECK(strstr(err, "map size") != NULL);
	CHECK(access(missing, F_OK) == -1);

	CHECK_INT(records_open("", MIB, 0, &rs, err, sizeof(err)), -1);
	CHECK_INT(records_open(NULL, MIB, 0, &rs, err, sizeof(err)), -1);
}


/* A map too small for the traffic: the batch that does not fit is
 * refused as a whole, what was committed stays readable, purge still
 * works, and once purged, writes succeed again. */
static void
test_map_full(void)
{
	struct records		*rs;
	struct record_event	*e;
	struct record		 r;
	size_t			 nrec, before, n, total;
	unsigned		 who = 100000, batches = 0;
	char			 err[256];
	int			 rc = 0;

	if ((e = calloc(200, sizeof(*e))) == NULL)
		T_SKIP("out of memory");
	CHECK_INT(records_open(path2, MIB, 0, &rs, err, sizeof(err)), 0);
	while (batches < 200) {
		for (unsigned i = 0; i < 200; i++)
			e[i] = ev(who + i, 1, 50000 + (time_t)batches,
			    "full.example", CAT_RELAY, ROLE_FROM, ACT_TAG, 1);
		rc = records_write_batch(rs, e, 200, NULL, err, sizeof(err));
		if (rc != 0)
			break;
		who += 200;
		batches++;
	}
	CHECK_INT(rc, RECORDS_EFULL);
	CHECK(batches > 2);
	CHECK_INT(records_count(rs, &nrec, NULL), 0);
	CHECK_INT(nrec, (size_t)batches * 200);	/* nothing half-written */
	CHECK_INT(get(rs, who, 1, &r), 1);	/* the refused batch */
	CHECK_INT(get(rs, 100000, 1, &r), 0);
	CHECK_INT(r.last_seen, 50000);
	/* Still refused while nothing has been freed. */
	CHECK_INT(records_write_batch(rs, e, 200, NULL, err, sizeof(err)),
	    RECORDS_EFULL);

	/* Purge the older half, in transactions of 100. */
	before = nrec;
	total = 0;
	do {
		CHECK_INT(records_purge(rs, 50000 + (time_t)batches / 2, 100,
		    &n, err, sizeof(err)), 0);
		total += n;
	} while (n == 100);
	CHECK_INT(total, (size_t)(batches / 2) * 200);
	CHECK_INT(records_count(rs, &nrec, NULL), 0);
	CHECK_INT(nrec, before - total);
	CHECK_INT(get(rs, 100000, 1, &r), 1);

	CHECK_INT(records_write_batch(rs, e, 200, NULL, err, sizeof(err)), 0);
	CHECK_INT(get(rs, who, 1, &r), 0);
	CHECK_INT(r.messages, 1);
	records_close(rs);

	CHECK_INT(records_open(path2, MIB, 0, &rs, err, sizeof(err)), 0);
	CHECK_INT(get(rs, who + 199, 1, &r), 0);
	records_close(rs);
	free(e);
	remove_store(path2);
}

/* Fill a 1 MiB store to its last page: batches of 1000 events, halved
 * whenever one does not fit, down to one.  Returns the records written
 * (senders first .. first + n - 1, last seen 1000 + k / 100). */
static unsigned
fill_to_the_brim(struct records *rs, unsigned first)
{
	struct record_event	*e;
	unsigned		 who = first;
	size_t			 sz = 1000;
	char			 err[256];
	int			 rc;

	if ((e = calloc(sz, sizeof(*e))) == NULL)
		return 0;
	for (;;) {
		for (size_t i = 0; i < sz; i++)
			e[i] = ev(who + (unsigned)i, 1,
			    1000 + (time_t)((who - first) / 100), "full.example",
			    CAT_RELAY, ROLE_FROM, ACT_TAG, 1);
		rc = records_write_batch(rs, e, sz, NULL, err, sizeof(err));
		if (rc == 0)
			who += (unsigned)sz;
		else if (rc == RECORDS_EFULL && sz > 1)
			sz /= 2;
		else
			break;
	}
	free(e);
	return who - first;
}

/* A map filled to its last page: records_batch_fits says no, a purge of
 * many records is refused as a whole (RECORDS_EFULL: the transaction
 * cannot take the pages the last one freed), and smaller ones fit, free
 * space, and let larger ones fit again (halved on RECORDS_EFULL, doubled
 * on success: what the writer does) until the purge is done.  Before,
 * the purge failed like any error, nothing said a smaller one would do,
 * and the store stayed full. */
static void
test_full_purge(void)
{
	struct records		*rs;
	struct record_event	 e;
	size_t			 n, m = 1000, purged = 0, before, after;
	unsigned		 filled, steps = 0, refused = 0;
	time_t			 cutoff;
	char			 err[256];
	int			 rc;

	remove_store(path2);
	CHECK_INT(records_open(path2, MIB, 0, &rs, err, sizeof(err)), 0);
	CHECK_INT(records_batch_fits(rs, 1), 1);	/* empty: room */
	CHECK_INT(records_batch_fits(rs, 1000), 0);	/* 4 MiB at most */
	filled = fill_to_the_brim(rs, 200000);
	CHECK(filled > 1000);
	CHECK_INT(records_batch_fits(rs, 1), 0);
	CHECK_INT(records_count(rs, &before, NULL), 0);
	cutoff = 1000 + (time_t)filled / 200;		/* about half */
	while (steps++ < 100000) {
		err[0] = '\0';
		rc = records_purge(rs, cutoff, m, &n, err, sizeof(err));
		if (rc == RECORDS_EFULL) {
			CHECK_INT(n, 0);
			CHECK(strstr(err, path2) != NULL);
			refused++;
			if (m == 1)
				break;
			m /= 2;
			continue;
		}
		CHECK_INT(rc, 0);
		purged += n;
		if (n < m)
			break;
		if (m < 1000)
			m *= 2;
	}
	CHECK(refused > 0);		/* 1000 at once did not fit */
	CHECK(n < m);			/* done, never stuck at one */
	CHECK(purged > 0);
	CHECK_INT(records_count(rs, &after, NULL), 0);
	CHECK_INT(before - after, purged);
	CHECK_INT(records_purge(rs, cutoff, 1000, &n, err, sizeof(err)), 0);
	CHECK_INT(n, 0);		/* nothing older is left */
	/* New events are taken again. */
	e = ev(900000, 1, 5000, "full.example", CAT_RELAY, ROLE_FROM,
	    ACT_TAG, 1);
	CHECK_INT(records_write_batch(rs, &e, 1, NULL, err, sizeof(err)), 0);
	records_close(rs);
	remove_store(path2);
}

/* Put raw values in a store with plain LMDB calls (records.c's encoding:
 * rec key = key id + hash); the store must not be open in this process. */
static int
put_raw(const char *p, const char *table, const void *key, size_t klen,
    const void *val, size_t vlen)
{
	MDB_env	*env;
	MDB_txn	*txn;
	MDB_dbi	 dbi;
	MDB_val	 k = { klen, (void *)key }, v = { vlen, (void *)val };
	int	 rc;

	if ((rc = mdb_env_create(&env)) != 0)
		return rc;
	if ((rc = mdb_env_set_maxdbs(env, 4)) == 0 &&
	    (rc = mdb_env_set_mapsize(env, MIB)) == 0 &&
	    (rc = mdb_env_open(env, p, MDB_NOSUBDIR, 0600)) == 0 &&
	    (rc = mdb_txn_begin(env, NULL, 0, &txn)) == 0) {
		if ((rc = mdb_dbi_open(txn, table, 0, &dbi)) == 0 &&
		    (rc = mdb_put(txn, dbi, &k, &v, 0)) == 0)
			rc = mdb_txn_commit(txn);
		else
			mdb_txn_abort(txn);
	}
	mdb_env_close(env);
	return rc;
}

/* A stored record and a stored aggregate that do not decode: the next
 * batch overwrites them as if absent, counts them, and loses none of
 * its other events.  Before, the whole batch failed. */
static void
test_corrupt(void)
{
	enum { E = 500, F = 501, H = 502 };
	struct records		*rs;
	struct record		 r;
	struct record_event	 b[3];
	struct recs		 c;
	struct aggs		 g;
	unsigned char		 key[1 + HASH_LEN];
	size_t			 bad, n, nrec;
	char			 p[PATH_MAX + 16], err[256];

	snprintf(p, sizeof(p), "%s/corrupt.db", dir);
	CHECK_INT(records_open(p, MIB, 0, &rs, err, sizeof(err)), 0);
	b[0] = ev(E, 1, 1000, "corrupt.example", CAT_DISPOSABLE,
	    ROLE_ENVELOPE, ACT_REJECT, 1);
	b[1] = ev(F, 1, 1000, "fine.example", CAT_CLEAN, ROLE_FROM,
	    ACT_ACCEPT, 1);
	CHECK_INT(records_write_batch(rs, b, 2, &bad, err, sizeof(err)), 0);
	CHECK_INT(bad, 0);
	records_close(rs);

	key[0] = 1;
	mkhash(key + 1, E);
	CHECK_INT(put_raw(p, "rec", key, sizeof(key), "\x07garbage", 8), 0);
	CHECK_INT(put_raw(p, "dom", "corrupt.example", 15, "\x01\x02", 2), 0);

	CHECK_INT(records_open(p, MIB, 0, &rs, err, sizeof(err)), 0);
	CHECK_INT(get(rs, E, 1, &r), -1);	/* unreadable now */
	memset(&c, 0, sizeof(c));
	CHECK_INT(records_foreach(rs, count_rec, &c, err, sizeof(err)), -1);

	b[0] = ev(E, 1, 2000, "corrupt.example", CAT_DISPOSABLE,
	    ROLE_ENVELOPE, ACT_REJECT, 1);
	b[1] = ev(F, 1, 2000, "fine.example", CAT_CLEAN, ROLE_FROM,
	    ACT_ACCEPT, 1);
	b[2] = ev(H, 1, 2000, "corrupt.example", CAT_DISPOSABLE,
	    ROLE_ENVELOPE, ACT_REJECT, 1);
	bad = 99;
	CHECK_INT(records_write_batch(rs, b, 3, &bad, err, sizeof(err)), 0);
	CHECK_INT(bad, 2);
	/* e begins again; f and h are written as ever. */
	CHECK_INT(get(rs, E, 1, &r), 0);
	CHECK_INT(r.messages, 1);
	CHECK_INT(r.first_seen, 2000);
	CHECK_STR(r.domain, "corrupt.example");
	CHECK_INT(get(rs, F, 1, &r), 0);
	CHECK_INT(r.messages, 2);
	CHECK_INT(r.first_seen, 1000);
	CHECK_INT(get(rs, H, 1, &r), 0);
	CHECK_INT(r.messages, 1);
	memset(&c, 0, sizeof(c));
	CHECK_INT(records_foreach(rs, count_rec, &c, err, sizeof(err)), 0);
	CHECK_INT(c.n, 3);
	/* The aggregate begins again at this batch: e (its record made
	 * anew) and h. */
	memset(&g, 0, sizeof(g));
	CHECK_INT(records_foreach_domain(rs, collect_dom, &g, err,
	    sizeof(err)), 0);
	CHECK_INT(g.n, 2);
	CHECK_STR(g.a[0].domain, "corrupt.example");
	CHECK_INT(g.a[0].messages, 2);
	CHECK_INT(g.a[0].senders, 2);
	CHECK_INT(g.a[0].first_seen, 2000);
	CHECK_STR(g.a[1].domain, "fine.example");
	CHECK_INT(g.a[1].messages, 2);

	/* e's index entry of 1000 was left behind: purge removes it and
	 * keeps e, seen at 2000. */
	CHECK_INT(records_purge(rs, 1500, 10, &n, err, sizeof(err)), 0);
	CHECK_INT(n, 1);
	CHECK_INT(get(rs, E, 1, &r), 0);
	CHECK_INT(records_count(rs, &nrec, NULL), 0);
	CHECK_INT(nrec, 3);
	CHECK_INT(records_purge(rs, 2001, 10, &n, err, sizeof(err)), 0);
	CHECK_INT(n, 3);
	CHECK_INT(records_count(rs, &nrec, NULL), 0);
	CHECK_INT(nrec, 0);

	/* A batch touching no corrupt value counts none. */
	bad = 99;
	CHECK_INT(records_write_batch(rs, b, 1, &bad, err, sizeof(err)), 0);
	CHECK_INT(bad, 0);
	records_close(rs);
	remove_store(p);
}

/* The decoders the store and the fuzz target share: what records.c
 * writes decodes; a byte short, a byte long, another version, a domain
 * with a NUL or longer than DOMAIN_MAX do not. */
static void
test_decode(void)
{
	unsigned char		 k[1 + HASH_LEN], v[30 + 300];
	struct record		 r;
	struct domain_aggregate	 a;
	unsigned char		 d[35 + 8 * 64];

	memset(k, 0xab, sizeof(k));
	k[0] = 3;
	memset(v, 0, sizeof(v));
	v[0] = 1;				/* version */
	v[1] = 10;				/* first seen */
	v[9] = 20;				/* last seen */
	v[17] = 2;				/* messages */
	v[21] = 1u << CAT_RELAY;
	v[25] = 1u << ROLE_FROM;
	v[29] = 4;
	memcpy(v + 30, "a.bc", 4);
	CHECK_INT(records_decode_record(k, sizeof(k), v, 34, &r), 0);
	CHECK_INT(r.key_id, 3);
	CHECK_INT(r.first_seen, 10);
	CHECK_INT(r.last_seen, 20);
	CHECK_INT(r.messages, 2);
	CHECK_INT(r.categories, 1u << CAT_RELAY);
	CHECK_STR(r.domain, "a.bc");
	CHECK_INT(records_decode_record(k, sizeof(k), v, 33, &r), -1);
	CHECK_INT(records_decode_record(k, sizeof(k), v, 35, &r), -1);
	CHECK_INT(records_decode_record(k, sizeof(k) - 1, v, 34, &r), -1);
	CHECK_INT(records_decode_record(k, sizeof(k), v, 0, &r), -1);
	v[31] = '\0';
	CHECK_INT(records_decode_record(k, sizeof(k), v, 34, &r), -1);
	v[31] = '.';
	v[0] = 2;
	CHECK_INT(records_decode_record(k, sizeof(k), v, 34, &r), -1);
	v[0] = 1;
	v[29] = DOMAIN_MAX + 1;
	memset(v + 30, 'a', DOMAIN_MAX + 1);
	CHECK_INT(records_decode_record(k, sizeof(k), v, 30 + DOMAIN_MAX + 1,
	    &r), -1);
	v[29] = DOMAIN_MAX;
	CHECK_INT(records_decode_record(k, sizeof(k), v, 30 + DOMAIN_MAX,
	    &r), 0);
	CHECK_INT(strlen(r.domain), DOMAIN_MAX);

	/* An aggregate from a build with more categories and actions than
	 * this one: the extra counters are skipped. */
	memset(d, 0, sizeof(d));
	d[0] = 1;
	d[1] = CAT_COUNT + 2;
	d[2] = ACT_COUNT + 1;
	d[19] = 7;				/* messages */
	d[35] = 5;				/* per_category[0] */
	CHECK_INT(records_decode_domain("x.test", 6, d,
	    35 + 8 * (CAT_COUNT + 2 + ACT_COUNT + 1), &a), 0);
	CHECK_STR(a.domain, "x.test");
	CHECK_INT(a.messages, 7);
	CHECK_INT(a.per_category[0], 5);
	CHECK_INT(records_decode_domain("x.test", 6, d,
	    35 + 8 * (CAT_COUNT + 2 + ACT_COUNT), &a), -1);
	CHECK_INT(records_decode_domain("", 0, d,
	    35 + 8 * (CAT_COUNT + 2 + ACT_COUNT + 1), &a), -1);
	CHECK_INT(records_decode_domain("x\0test", 6, d,
	    35 + 8 * (CAT_COUNT + 2 + ACT_COUNT + 1), &a), -1);
	CHECK_INT(records_decode_domain("x.test", 6, d, 34, &a), -1);
}

int
main(void)
{
	if (mkdtemp(dir) == NULL)
		T_SKIP("mkdtemp failed");
	snprintf(path, sizeof(path), "%s/records.db", dir);
	snprintf(path2, sizeof(path2), "%s/other.db", dir);

	test_open_errors();
	test_write_read();
	test_reopen();
	test_roles();
	test_forget_purge();
	test_purge_batches();
	test_map_full();
	test_full_purge();
	test_corrupt();
	test_decode();

	remove_store(path);
	rmdir(dir);
	return T_DONE();
}
