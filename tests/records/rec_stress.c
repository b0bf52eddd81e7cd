/*
 * rec_stress.c - drive lib/records.c for tests/records/kill9.sh.
 *
 *	rec_stress write STORE PROGRESS
 *		Write rounds forever: each is one batch (new senders and a
 *		few seen again, so that index entries move) and one purge
 *		transaction keeping the last 50 rounds; after each round
 *		its number goes to PROGRESS (written aside and renamed).  A
 *		restart continues after the round PROGRESS names.
 *	rec_stress read STORE
 *		Read the whole store forever (another process reading while
 *		one writes; killed mid-read it leaves a stale reader slot).
 *	rec_stress verify STORE PROGRESS
 *		Open the store, check every record and the age index
 *		against each other (each entry has its record with that
 *		last sighting, and as many entries as records), check the
 *		round PROGRESS names is all there, purge, write, and check
 *		again.
 *	rec_stress
 *		Alone (make check, check-valgrind): a few rounds in a
 *		temporary store, then verify.
 *
 * The index is read with LMDB directly: its encoding is documented in
 * lib/records.c and this program holds it to it.
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

#define MAPSIZE		((size_t)8 << 20)
#define PER_ROUND	90		/* new senders per round */
#define AGAIN		10		/* senders seen again per round */
#define KEEP		50		/* rounds kept by the purge */
#define T_BASE		((time_t)1000000)

static void
mkhash(unsigned char *h, unsigned n)
{
	for (size_t i = 0; i < HASH_LEN; i++)
		h[i] = (unsigned char)(n * 37u + i);
	h[0] = (unsigned char)(n >> 24);
	h[1] = (unsigned char)(n >> 16);
	h[2] = (unsigned char)(n >> 8);
	h[3] = (unsigned char)n;
}

static struct record_event
ev(unsigned who, time_t when, int first)
{
	struct record_event e;

	memset(&e, 0, sizeof(e));
	e.when = when;
	e.key_id = 1;
	mkhash(e.hash, who);
	snprintf(e.domain, sizeof(e.domain), "stress.example");
	e.category = (enum category)(who % CAT_COUNT);
	e.roles = 1u << (who % ROLE_COUNT);
	e.action = ACT_TAG;
	e.first_of_domain = first;
	return e;
}

static long
read_progress(const char *progress)
{
	FILE	*fp;
	long	 r = -1;

	if ((fp = fopen(progress, "r")) == NULL)
		return -1;
	if (fscanf(fp, "%ld", &r) != 1)
		r = -1;
	fclose(fp);
	return r;
}

static int
write_progress(const char *progress, long r)
{
	char	 tmp[PATH_MAX];
	FILE	*fp;

	snprintf(tmp, sizeof(tmp), "%s.tmp", progress);
	if ((fp = fopen(tmp, "w")) == NULL)
		return -1;
	fprintf(fp, "%ld\n", r);
	if (fclose(fp) != 0)
		return -1;
	return rename(tmp, progress);
}

/* One round: a batch, then one purge transaction.  0, or -1. */
static int
round_once(struct records *rs, long r)
{
	struct record_event	e[PER_ROUND + AGAIN];
	char			err[256];
	size_t			n;
	time_t			when = T_BASE + r;
	int			rc;

	for (unsigned i = 0; i < PER_ROUND; i++)
		e[i] = ev((unsigned)r * PER_ROUND + i, when, i == 0);
	for (unsigned i = 0; i < AGAIN; i++)
		e[PER_ROUND + i] = ev(((unsigned)r * 7u + i * 13u) %
		    ((unsigned)r * PER_ROUND + 1), when, 0);
	rc = records_write_batch(rs, e, PER_ROUND + AGAIN, NULL, err,
	    sizeof(err));
	if (rc != 0) {
		fprintf(stderr, "round %ld: %s\n", r,
		    rc == RECORDS_EFULL ? "map full" : err);
		return -1;
	}
	if (records_purge(rs, when - KEEP, 200, &n, err, sizeof(err)) != 0) {
		fprintf(stderr, "round %ld: %s\n", r, err);
		return -1;
	}
	return 0;
}

static int
do_write(const char *store, const char *progress, long rounds)
{
	struct records	*rs;
	char		 err[256];
	long		 r;

	if (records_open(store, MAPSIZE, 0, &rs, err, sizeof(err)) == -1) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	for (r = read_progress(progress) + 1; rounds < 0 || rounds-- > 0;
	    r++) {
		if (round_once(rs, r) == -1 || write_progress(progress, r)) {
			records_close(rs);
			return 1;
		}
	}
	records_close(rs);
	return 0;
}

static int
count_fn(void *arg, const struct record *r)
{
	(void)r;
	(*(size_t *)arg)++;
	return 0;
}

static int
do_read(const char *store)
{
	struct records	*rs;
	char		 err[256];
	size_t		 n;

	if (records_open(store, MAPSIZE, 1, &rs, err, sizeof(err)) == -1) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	for (;;) {
		n = 0;
		if (records_foreach(rs, count_fn, &n, err, sizeof(err))) {
			fprintf(stderr, "%s\n", err);
			records_close(rs);
			return 1;
		}
	}
}

struct walk {
	size_t	n, bad;
	time_t	min_last;
};

static int
walk_fn(void *arg, const struct record *r)
{
	struct walk *w = arg;

	w->n++;
	if (r->messages == 0 || r->first_seen > r->last_seen ||
	    r->first_seen < T_BASE || r->categories == 0 || r->roles == 0 ||
	    strcmp(r->domain, "stress.example") != 0)
		w->bad++;
	if (w->n == 1 || r->last_seen < w->min_last)
		w->min_last = r->last_seen;
	return 0;
}

/* The age index and the records, read with LMDB itself: every entry
 * names a record whose last sighting is the entry's time, and there are
 * as many entries as records (so no record lacks its entry). */
static void
check_index(const char *store, size_t *nrec)
{
	MDB_env		*env;
	MDB_txn		*txn;
	MDB_dbi		 drec, dage;
	MDB_cursor	*cur;
	MDB_val		 k, v, rk, rv;
	MDB_stat	 st;
	size_t		 entries = 0, bad = 0;
	int		 rc;

	*nrec = 0;
	CHECK_INT(mdb_env_create(&env), 0);
	mdb_env_set_maxdbs(env, 4);
	rc = mdb_env_open(env, store, MDB_RDONLY | MDB_NOSUBDIR, 0600);
	CHECK_INT(rc, 0);
	if (rc != 0) {
		mdb_env_close(env);
		return;
	}
	CHECK_INT(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn), 0);
	CHECK_INT(mdb_dbi_open(txn, "rec", 0, &drec), 0);
	CHECK_INT(mdb_dbi_open(txn, "age", 0, &dage), 0);
	CHECK_INT(mdb_cursor_open(txn, dage, &cur), 0);
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	    rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		const unsigned char *p = k.mv_data, *q;
		uint64_t t = 0, last = 0;

		entries++;
		if (k.mv_size != 8 + 1 + HASH_LEN || v.mv_size != 0) {
			bad++;
			continue;
		}
		for (int i = 0; i < 8; i++)
			t = t << 8 | p[i];
		rk.mv_data = (void *)(p + 8);
		rk.mv_size = 1 + HASH_LEN;
		if (mdb_get(txn, drec, &rk, &rv) != 0 || rv.mv_size < 30) {
			bad++;
			continue;
		}
		q = rv.mv_data;
		for (int i = 7; i >= 0; i--)	/* last seen, LE at 9 */
			last = last << 8 | q[9 + i];
		if (q[0] != 1 || last != t)
			bad++;
	}
	CHECK_INT(rc, MDB_NOTFOUND);
	mdb_cursor_close(cur);
	CHECK_INT(mdb_stat(txn, drec, &st), 0);
	*nrec = st.ms_entries;
	mdb_txn_abort(txn);
	mdb_env_close(env);
	CHECK_INT(bad, 0);
	CHECK_INT(entries, *nrec);
}

static int
do_verify(const char *store, const char *progress)
{
	struct records	*rs;
	struct record	 rec;
	struct walk	 w;
	unsigned char	 h[HASH_LEN];
	char		 err[256];
	size_t		 nrec, n, total = 0, counted, present = 0;
	long		 last;
	time_t		 cutoff;
	int		 rc;

	if ((last = read_progress(progress)) < 0) {
		fprintf(stderr, "%s: no progress recorded\n", progress);
		return 1;
	}
	/* Writable first: a killed process's reader slot is cleared, and a
	 * killed writer's lock recovered. */
	rc = records_open(store, MAPSIZE, 0, &rs, err, sizeof(err));
	CHECK_INT(rc, 0);
	if (rc != 0)
		return T_DONE();
	memset(&w, 0, sizeof(w));
	CHECK_INT(records_foreach(rs, walk_fn, &w, err, sizeof(err)), 0);
	CHECK_INT(w.bad, 0);
	CHECK_INT(records_count(rs, &counted, NULL), 0);
	CHECK_INT(counted, w.n);
	/* The last round reported committed is all there. */
	for (unsigned i = 0; i < PER_ROUND; i++) {
		mkhash(h, (unsigned)last * PER_ROUND + i);
		if (records_get(rs, 1, h, &rec, err, sizeof(err)) == 0 &&
		    rec.last_seen >= T_BASE + last)
			present++;
	}
	CHECK_INT(present, PER_ROUND);
	records_close(rs);
	check_index(store, &nrec);
	CHECK_INT(nrec, w.n);
	printf("# %zu records, last round %ld\n", nrec, last);

	/* Purge down to the last 10 rounds, 100 per transaction. */
	rc = records_open(store, MAPSIZE, 0, &rs, err, sizeof(err));
	CHECK_INT(rc, 0);
	if (rc != 0)
		return T_DONE();
	cutoff = T_BASE + last - 10;
	do {
		n = 0;
		CHECK_INT(records_purge(rs, cutoff, 100, &n, err,
		    sizeof(err)), 0);
		total += n;
	} while (n == 100);
	CHECK(last < 11 || total > 0);
	memset(&w, 0, sizeof(w));
	CHECK_INT(records_foreach(rs, walk_fn, &w, err, sizeof(err)), 0);
	CHECK_INT(w.n, nrec - total);
	CHECK(w.n == 0 || w.min_last >= cutoff);
	/* And it takes writes again. */
	CHECK_INT(round_once(rs, last + 1), 0);
	mkhash(h, (unsigned)(last + 1) * PER_ROUND);
	CHECK_INT(records_get(rs, 1, h, &rec, err, sizeof(err)), 0);
	CHECK_INT(rec.last_seen, T_BASE + last + 1);
	records_close(rs);
	check_index(store, &nrec);
	CHECK(nrec >= PER_ROUND);
	return T_DONE();
}

int
main(int argc, char *argv[])
{
	char	dir[] = "/tmp/rec_stress.XXXXXX", store[PATH_MAX];
	char	progress[PATH_MAX], lock[PATH_MAX + 8];
	int	rc;

	if (argc == 4 && strcmp(argv[1], "write") == 0)
		return do_write(argv[2], argv[3], -1);
	if (argc == 3 && strcmp(argv[1], "read") == 0)
		return do_read(argv[2]);
	if (argc == 4 && strcmp(argv[1], "verify") == 0)
		return do_verify(argv[2], argv[3]);
	if (argc != 1) {
		fprintf(stderr, "usage: rec_stress [write store progress | "
		    "read store | verify store progress]\n");
		return 99;
	}
	if (mkdtemp(dir) == NULL)
		T_SKIP("mkdtemp failed");
	snprintf(store, sizeof(store), "%s/records.db", dir);
	snprintf(progress, sizeof(progress), "%s/progress", dir);
	CHECK_INT(do_write(store, progress, 70), 0);
	CHECK_INT(read_progress(progress), 69);
	rc = t_failed ? 1 : do_verify(store, progress);
	unlink(store);
	snprintf(lock, sizeof(lock), "%s-lock", store);
	unlink(lock);
	unlink(progress);
	rmdir(dir);
	return rc;
}
