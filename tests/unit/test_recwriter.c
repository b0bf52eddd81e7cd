/*
 * test_recwriter.c - lib/recwriter.c with an injected clock: events
 * written after a flush, batching, a transaction that takes the whole
 * backlog, a full queue dropping exactly what does not fit, a full map
 * counted while the writer goes on, a purge in a map full to its last
 * page, a corrupt stored record counted,
 * retention purge, stop flushing what is queued, and disk flushes once
 * per interval after commits, none without.
 *
 * The commit interval is set to an hour so that only the batch size,
 * recwriter_flush and recwriter_stop make the writer commit, and the
 * hook before each commit holds the writer where a test needs it: the
 * counts below do not depend on timing.  How many transactions a stream
 * of pushes becomes does (the writer takes whatever is queued when it
 * runs), and only its bounds are checked.
 */
#include "config.h"

#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lmdb.h>

#include "log.h"
#include "recwriter.h"
#include "t.h"

#define MIB	((size_t)1 << 20)
#define DAY	86400
#define T0	((time_t)1700000000)

static char	dir[] = "/tmp/test_recwriter.XXXXXX";
static time_t	fake_now = T0;

static time_t
fake_clock(void)
{
	return __atomic_load_n(&fake_now, __ATOMIC_SEQ_CST);
}

static void
set_clock(time_t t)
{
	__atomic_store_n(&fake_now, t, __ATOMIC_SEQ_CST);
}

static void
mkhash(unsigned char *h, unsigned n)
{
	memset(h, 0x5a, HASH_LEN);
	h[0] = (unsigned char)n;
	h[1] = (unsigned char)(n >> 8);
	h[2] = (unsigned char)(n >> 16);
}

static struct record_event
ev(unsigned who, time_t when)
{
	struct record_event e;

	memset(&e, 0, sizeof(e));
	e.when = when;
	e.key_id = 1;
	mkhash(e.hash, who);
	snprintf(e.domain, sizeof(e.domain), "relay.example");
	e.category = CAT_RELAY;
	e.roles = 1u << ROLE_FROM;
	e.action = ACT_TAG;
	e.first_of_domain = 1;
	return e;
}

static void
config(struct recwriter_config *cfg, size_t queue, size_t batch)
{
	recwriter_config_default(cfg);
	cfg->queue = queue;
	cfg->batch = batch;
	cfg->interval_ms = 3600 * 1000;
	cfg->clock = fake_clock;
}

static void
store(const char *name, char *path, size_t len)
{
	char lock[PATH_MAX + 8];

	snprintf(path, len, "%s/%s.db", dir, name);
	unlink(path);
	snprintf(lock, sizeof(lock), "%s-lock", path);
	unlink(lock);
}

static struct recwriter *
start(const char *path, size_t mapsize, const struct recwriter_config *cfg)
{
	struct records		*rs;
	struct recwriter	*w;
	char			 err[256];

	if (records_open(path, mapsize, 0, &rs, err, sizeof(err)) == -1) {
		fprintf(stderr, "%s\n", err);
		return NULL;
	}
	if ((w = recwriter_start(rs, cfg, err, sizeof(err))) == NULL) {
		fprintf(stderr, "%s\n", err);
		records_close(rs);
	}
	return w;
}

/* Count the records of who in [from, to) present in the store. */
static size_t
present(const char *path, unsigned from, unsigned to, size_t *total)
{
	struct records	*rs;
	struct record	 r;
	unsigned char	 h[HASH_LEN];
	char		 err[256];
	size_t		 n = 0;

	if (records_open(path, MIB, 1, &rs, err, sizeof(err)) == -1) {
		fprintf(stderr, "%s\n", err);
		return 0;
	}
	for (unsigned i = from; i < to; i++) {
		mkhash(h, i);
		if (records_get(rs, 1, h, &r, err, sizeof(err)) == 0)
			n++;
	}
	if (total != NULL && records_count(rs, total, NULL) == -1)
		*total = SIZE_MAX;
	records_close(rs);
	return n;
}

static void
test_batches(void)
{
	struct recwriter_config	 cfg;
	struct recwriter_stats	 st;
	struct recwriter	*w;
	struct record_event	 e;
	char			 path[PATH_MAX];
	size_t			 total;

	store("batches", path, sizeof(path));
	config(&cfg, 100, 4);
	if ((w = start(path, MIB, &cfg)) == NULL) {
		CHECK(0);
		return;
	}
	for (unsigned i = 0; i < 10; i++) {
		e = ev(i, T0);
		CHECK_INT(recwriter_push(w, &e), 0);
	}
	recwriter_flush(w);
	recwriter_get_stats(w, &st);
	CHECK_INT(st.written, 10);
	/* 4 + 4 + 2 if the writer runs at once, fewer larger ones if it
	 * runs later. */
	CHECK(st.batches >= 1 && st.batches <= 3);
	CHECK(st.largest >= 4 && st.largest <= 10);
	CHECK_INT(st.dropped_full, 0);
	CHECK_INT(st.dropped_map, 0);
	CHECK_INT(st.errors, 0);

	/* A burst of 40: ten more full batches. */
	for (unsigned i = 10; i < 50; i++) {
		e = ev(i, T0);
		CHECK_INT(recwriter_push(w, &e), 0);
	}
	recwriter_flush(w);
	recwriter_get_stats(w, &st);
	CHECK_INT(st.written, 50);
	CHECK(st.batches >= 2 && st.batches <= 13);
	recwriter_flush(w);		/* nothing queued: returns */

	/* Stop commits what is still queued. */
	for (unsigned i = 50; i < 53; i++) {
		e = ev(i, T0);
		CHECK_INT(recwriter_push(w, &e), 0);
	}
	recwriter_stop(w);
	CHECK_INT(present(path, 0, 60, &total), 53);
	CHECK_INT(total, 53);
}

/* With batch larger than queue the writer waits for the interval (an
 * hour): the queue fills, and exactly the rest is dropped and counted. */
static void
test_queue_full(void)
{
	struct recwriter_config	 cfg;
	struct recwriter_stats	 st;
	struct recwriter	*w;
	struct record_event	 e;
	char			 path[PATH_MAX];
	int			 ok = 0, dropped = 0;

	store("full", path, sizeof(path));
	config(&cfg, 8, 100);
	if ((w = start(path, MIB, &cfg)) == NULL) {
		CHECK(0);
		return;
	}
	for (unsigned i = 0; i < 100; i++) {
		e = ev(i, T0);
		if (recwriter_push(w, &e) == 0)
			ok++;
		else
			dropped++;
	}
	CHECK_INT(ok, 8);
	CHECK_INT(dropped, 92);
	recwriter_get_stats(w, &st);
	CHECK_INT(st.dropped_full, 92);
	CHECK_INT(st.written, 0);
	recwriter_flush(w);
	recwriter_get_stats(w, &st);
	CHECK_INT(st.written, 8);
	CHECK_INT(st.batches, 1);
	/* Room again. */
	e = ev(500, T0);
	CHECK_INT(recwriter_push(w, &e), 0);
	recwriter_stop(w);
	CHECK_INT(present(path, 0, 8, NULL), 8);
	CHECK_INT(present(path, 8, 100, NULL), 0);
	CHECK_INT(present(path, 500, 501, NULL), 1);
}

/* A map too small: what fits is written, the rest dropped and counted,
 * the writer goes on; after a retention purge new events are written
 * again. */
static void
test_map_full(void)
{
	struct recwriter_config	 cfg;
	struct recwriter_stats	 st;
	struct recwriter	*w;
	struct record_event	 e;
	char			 path[PATH_MAX];
	size_t			 total;
	uint64_t		 written;
	const unsigned		 n = 10000;

	set_clock(T0);
	store("map", path, sizeof(path));
	config(&cfg, n, 200);
	cfg.purge_batch = 500;
	if ((w = start(path, MIB, &cfg)) == NULL) {
		CHECK(0);
		return;
	}
	for (unsigned i = 0; i < n; i++) {
		e = ev(i, T0);
		CHECK_INT(recwriter_push(w, &e), 0);
	}
	recwriter_flush(w);
	recwriter_get_stats(w, &st);
	CHECK(st.dropped_map > 0);
	CHECK(st.written > 0);
	CHECK_INT(st.written + st.dropped_map, n);
	CHECK_INT(st.errors, 0);
	written = st.written;

	/* Everything is 31 days old now: the purge finds exactly what was
	 * counted written. */
	set_clock(T0 + 31 * DAY);
	recwriter_purge_now(w);
	recwriter_get_stats(w, &st);
	CHECK_INT(st.purged, written);
	for (unsigned i = 0; i < 5; i++) {
		e = ev(n + i, T0 + 31 * DAY);
		CHECK_INT(recwriter_push(w, &e), 0);
	}
	recwriter_flush(w);
	recwriter_get_stats(w, &st);
	CHECK_INT(st.written, written + 5);
	CHECK_INT(st.written + st.dropped_map, n + 5);
	recwriter_stop(w);
	CHECK_INT(present(path, n, n + 5, &total), 5);
	CHECK_INT(total, 5);
}

/* A store filled to its last page (batches halved until one event does
 * not fit), everything old: the purge halves its transactions until one
 * fits, and deletes everything; before, it failed at 1000 and the store
 * stayed full. */
static void
test_purge_full_map(void)
{
	struct recwriter_config	 cfg;
	struct recwriter_stats	 st;
	struct recwriter	*w;
	struct records		*rs;
	struct record_event	*e;
	char			 path[PATH_MAX], err[256];
	size_t			 sz = 1000, total;
	unsigned		 who = 0;
	int			 rc;

	store("purgefull", path, sizeof(path));
	if ((e = calloc(sz, sizeof(*e))) == NULL ||
	    records_open(path, MIB, 0, &rs, err, sizeof(err)) == -1) {
		free(e);
		CHECK(0);
		return;
	}
	for (;;) {
		for (size_t i = 0; i < sz; i++)
			e[i] = ev(who + (unsigned)i, T0);
		rc = records_write_batch(rs, e, sz, NULL, err, sizeof(err));
		if (rc == 0)
			who += (unsigned)sz;
		else if (rc == RECORDS_EFULL && sz > 1)
			sz /= 2;
		else
			break;
	}
	free(e);
	CHECK_INT(rc, RECORDS_EFULL);
	CHECK(who > 1000);
	records_close(rs);

	set_clock(T0 + 31 * DAY);
	config(&cfg, 100, 10);
	cfg.purge_batch = 1000;
	if ((w = start(path, MIB, &cfg)) == NULL) {
		CHECK(0);
		return;
	}
	recwriter_purge_now(w);	/* the run at start may have done it */
	recwriter_get_stats(w, &st);
	CHECK_INT(st.purged, who);
	CHECK_INT(st.errors, 0);
	recwriter_stop(w);
	CHECK_INT(present(path, 0, who, &total), 0);
	CHECK_INT(total, 0);
}

/* The hook holds the writer in its first transaction until released. */
static pthread_mutex_t	hook_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t	hook_cv = PTHREAD_COND_INITIALIZER;
static int		hook_hold, hook_entered;
static size_t		commits[16], ncommits;

static void
hold_first(size_t n)
{
	pthread_mutex_lock(&hook_mu);
	if (ncommits < sizeof(commits) / sizeof(commits[0]))
		commits[ncommits] = n;
	if (ncommits++ == 0) {
		hook_entered = 1;
		pthread_cond_broadcast(&hook_cv);
		while (hook_hold)
			pthread_cond_wait(&hook_cv, &hook_mu);
	}
	pthread_mutex_unlock(&hook_mu);
}

/* While the writer is busy, pushes fill the queue (not the batch): the
 * next transaction takes all of it, and the queue still holds no more
 * than its size. */
static void
test_backlog(void)
{
	struct recwriter_config	 cfg;
	struct recwriter_stats	 st;
	struct recwriter	*w;
	struct record_event	 e;
	char			 path[PATH_MAX];
	size_t			 total;
	int			 ok = 0, dropped = 0;

	set_clock(T0);
	store("backlog", path, sizeof(path));
	config(&cfg, 1000, 4);
	cfg.before_commit = hold_first;
	hook_hold = 1;
	/* Room for the backlog in one transaction and a purge after it
	 * (records_batch_fits); in 1 MiB it would be written in parts. */
	if ((w = start(path, 64 * MIB, &cfg)) == NULL) {
		CHECK(0);
		return;
	}
	for (unsigned i = 0; i < 4; i++) {
		e = ev(i, T0);
		CHECK_INT(recwriter_push(w, &e), 0);
	}
	/* The fourth push woke the writer: it is now in its first
	 * transaction, with those 4. */
	pthread_mutex_lock(&hook_mu);
	while (!hook_entered)
		pthread_cond_wait(&hook_cv, &hook_mu);
	pthread_mutex_unlock(&hook_mu);
	for (unsigned i = 4; i < 1014; i++) {
		e = ev(i, T0);
		if (recwriter_push(w, &e) == 0)
			ok++;
		else
			dropped++;
	}
	CHECK_INT(ok, 1000);		/* the queue, whole again */
	CHECK_INT(dropped, 10);
	pthread_mutex_lock(&hook_mu);
	hook_hold = 0;
	pthread_cond_broadcast(&hook_cv);
	pthread_mutex_unlock(&hook_mu);
	recwriter_flush(w);
	recwriter_get_stats(w, &st);
	CHECK_INT(st.written, 1004);
	CHECK_INT(st.dropped_full, 10);
	CHECK_INT(st.batches, 2);
	CHECK_INT(st.largest, 1000);
	CHECK_INT(ncommits, 2);
	CHECK_INT(commits[0], 4);
	CHECK_INT(commits[1], 1000);	/* the backlog, in one */
	recwriter_stop(w);
	CHECK_INT(present(path, 0, 1004, &total), 1004);
	CHECK_INT(total, 1004);
}

static uint64_t
flushes(struct recwriter *w)
{
	struct recwriter_stats st;

	recwriter_get_stats(w, &st);
	return st.flushes;
}

/* The flusher: a flush follows commits within an interval or two, and
 * an idle store is not flushed again. */
static void
test_flushes(void)
{
	struct recwriter_config	 cfg;
	struct recwriter	*w;
	struct record_event	 e;
	char			 path[PATH_MAX];
	uint64_t		 f;
	int			 i;

	set_clock(T0);
	store("flushes", path, sizeof(path));
	config(&cfg, 100, 10);
	cfg.interval_ms = 20;
	if ((w = start(path, MIB, &cfg)) == NULL) {
		CHECK(0);
		return;
	}
	usleep(100 * 1000);		/* five intervals, no commit */
	CHECK_INT(flushes(w), 0);
	for (unsigned k = 0; k < 3; k++) {
		e = ev(k, T0);
		CHECK_INT(recwriter_push(w, &e), 0);
		recwriter_flush(w);	/* committed, not yet flushed */
	}
	for (i = 0; i < 200 && flushes(w) == 0; i++)
		usleep(10 * 1000);
	usleep(100 * 1000);		/* a flush under way ends */
	f = flushes(w);
	CHECK(f >= 1 && f <= 3);
	usleep(100 * 1000);
	CHECK_INT(flushes(w), f);	/* nothing new: no flush */
	e = ev(3, T0);
	CHECK_INT(recwriter_push(w, &e), 0);
	recwriter_flush(w);
	for (i = 0; i < 200 && flushes(w) == f; i++)
		usleep(10 * 1000);
	CHECK_INT(flushes(w), f + 1);
	recwriter_stop(w);
	CHECK_INT(present(path, 0, 4, NULL), 4);
}

/* A stored record that does not decode: the writer's batch lands, the
 * value is overwritten, and the stats count it. */
static void
test_corrupt(void)
{
	struct recwriter_config	 cfg;
	struct recwriter_stats	 st;
	struct recwriter	*w;
	struct record_event	 e;
	struct records		*rs;
	char			 path[PATH_MAX], err[256];
	unsigned char		 key[1 + HASH_LEN];
	MDB_env			*env;
	MDB_txn			*txn;
	MDB_dbi			 dbi;
	MDB_val			 k = { sizeof(key), key }, v = { 3, "bad" };

	set_clock(T0);
	store("corrupt", path, sizeof(path));
	CHECK_INT(records_open(path, MIB, 0, &rs, err, sizeof(err)), 0);
	records_close(rs);
	key[0] = 1;
	mkhash(key + 1, 7);
	CHECK_INT(mdb_env_create(&env), 0);
	CHECK_INT(mdb_env_set_maxdbs(env, 4), 0);
	CHECK_INT(mdb_env_open(env, path, MDB_NOSUBDIR, 0600), 0);
	CHECK_INT(mdb_txn_begin(env, NULL, 0, &txn), 0);
	CHECK_INT(mdb_dbi_open(txn, "rec", 0, &dbi), 0);
	CHECK_INT(mdb_put(txn, dbi, &k, &v, 0), 0);
	CHECK_INT(mdb_txn_commit(txn), 0);
	mdb_env_close(env);

	config(&cfg, 100, 10);
	if ((w = start(path, MIB, &cfg)) == NULL) {
		CHECK(0);
		return;
	}
	for (unsigned i = 5; i < 10; i++) {
		e = ev(i, T0);
		CHECK_INT(recwriter_push(w, &e), 0);
	}
	recwriter_flush(w);
	recwriter_get_stats(w, &st);
	CHECK_INT(st.written, 5);
	CHECK_INT(st.corrupt, 1);
	CHECK_INT(st.errors, 0);
	recwriter_stop(w);
	CHECK_INT(present(path, 5, 10, NULL), 5);
}

static void
test_retention(void)
{
	struct recwriter_config	 cfg;
	struct recwriter_stats	 st;
	struct recwriter	*w;
	struct record_event	 e;
	char			 path[PATH_MAX];
	size_t			 total;

	set_clock(T0);
	store("retention", path, sizeof(path));
	config(&cfg, 100, 10);
	cfg.purge_batch = 2;
	if ((w = start(path, MIB, &cfg)) == NULL) {
		CHECK(0);
		return;
	}
	for (unsigned i = 0; i < 3; i++) {
		e = ev(i, T0);
		CHECK_INT(recwriter_push(w, &e), 0);
	}
	recwriter_flush(w);
	set_clock(T0 + 10 * DAY);
	for (unsigned i = 10; i < 12; i++) {
		e = ev(i, T0 + 10 * DAY);
		CHECK_INT(recwriter_push(w, &e), 0);
	}
	recwriter_flush(w);
	/* Ten days on, nothing is older than the 30 days kept. */
	recwriter_purge_now(w);
	recwriter_get_stats(w, &st);
	CHECK_INT(st.purged, 0);

	set_clock(T0 + 31 * DAY);
	recwriter_purge_now(w);		/* 2 + 1, in two transactions */
	recwriter_get_stats(w, &st);
	CHECK_INT(st.purged, 3);
	CHECK_INT(st.written, 5);
	recwriter_stop(w);
	CHECK_INT(present(path, 0, 3, &total), 0);
	CHECK_INT(present(path, 10, 12, NULL), 2);
	CHECK_INT(total, 2);

	/* Retention 0 keeps everything, even when asked to purge. */
	config(&cfg, 100, 10);
	cfg.retention_days = 0;
	set_clock(T0 + 400 * DAY);
	if ((w = start(path, MIB, &cfg)) == NULL) {
		CHECK(0);
		return;
	}
	recwriter_purge_now(w);
	recwriter_get_stats(w, &st);
	CHECK_INT(st.purged, 0);
	recwriter_stop(w);
	CHECK_INT(present(path, 10, 12, NULL), 2);
}

static void
test_config(void)
{
	struct recwriter_config	 cfg;
	struct records		*rs;
	char			 path[PATH_MAX], err[256];

	recwriter_config_default(&cfg);
	CHECK_INT(cfg.queue, 10000);
	CHECK_INT(cfg.batch, 500);
	CHECK_INT(cfg.interval_ms, 1000);
	CHECK_INT(cfg.retention_days, 30);
	CHECK_INT(cfg.purge_interval, 3600);
	CHECK_INT(cfg.purge_batch, 1000);
	CHECK_INT(cfg.warn_interval, 300);
	CHECK(cfg.clock == NULL);

	store("config", path, sizeof(path));
	if (records_open(path, MIB, 0, &rs, err, sizeof(err)) == -1) {
		CHECK(0);
		return;
	}
	cfg.queue = 0;
	err[0] = '\0';
	CHECK(recwriter_start(rs, &cfg, err, sizeof(err)) == NULL);
	CHECK(err[0] != '\0');
	recwriter_config_default(&cfg);
	cfg.batch = 0;
	CHECK(recwriter_start(rs, &cfg, err, sizeof(err)) == NULL);
	recwriter_config_default(&cfg);
	cfg.purge_interval = 0;
	CHECK(recwriter_start(rs, &cfg, err, sizeof(err)) == NULL);
	recwriter_config_default(&cfg);
	cfg.interval_ms = 0;
	CHECK(recwriter_start(rs, &cfg, err, sizeof(err)) == NULL);
	records_close(rs);
}

int
main(void)
{
	char	cmd[PATH_MAX + 16];

	log_init("test_recwriter", 0, 1, 0);
	if (mkdtemp(dir) == NULL)
		T_SKIP("mkdtemp failed");
	test_config();
	test_batches();
	test_queue_full();
	test_backlog();
	test_flushes();
	test_corrupt();
	test_retention();
	test_map_full();
	test_purge_full_map();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	return T_DONE();
}
