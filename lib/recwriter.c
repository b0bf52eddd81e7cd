/*
 * recwriter.c - the single writer thread in front of the records store
 * (see recwriter.h).
 *
 * NAME
 *	recwriter_config_default, recwriter_start, recwriter_push,
 *	recwriter_flush, recwriter_purge_now, recwriter_get_stats,
 *	recwriter_stop
 *
 * DESCRIPTION
 *	Two arrays of cfg.queue events, allocated once at start, and one
 *	mutex.  recwriter_push copies one event to the end of the filling
 *	array under the mutex and returns: it never allocates and never
 *	waits for the writer.  It wakes the writer when batch events are
 *	queued; otherwise the writer wakes by itself every interval_ms
 *	(CLOCK_MONOTONIC) and commits what is queued.  With batch larger
 *	than queue only the interval paces the commits.
 *
 *	The writer takes the whole filling array by swapping it with its
 *	own (the mutex is held for the swap, not for a copy), then writes
 *	every event in it in one transaction with the mutex released, while
 *	pushes fill the other array.  A transaction is therefore as large
 *	as the backlog: batch events when the writer keeps up, up to queue
 *	events when it falls behind, which is when folding many events
 *	into one transaction pays most (one read and write per sender and
 *	per domain, one commit).  At most queue events wait, and at most
 *	queue more are being written.  Each turn of its loop does at most
 *	one batch and one purge transaction (purge_batch records), so a
 *	long purge never holds back queued events by more than one purge
 *	transaction.
 *
 *	A large batch is written in one transaction only when the map has
 *	room for it and for a purge after it (records_batch_fits): a
 *	transaction cannot reuse the pages the one before it freed, so one
 *	that took the last free pages would leave the next, even a purge,
 *	with none, and the store full for good.  Otherwise, and when a
 *	batch finds the map full, it is written in parts of batch events
 *	until a part does not fit: what fits is kept, the rest is dropped
 *	and counted.  A purge transaction that finds the map full is tried
 *	again with half as many records, down to one (a map filled to the
 *	last page refuses 1000 deletions and takes a few), and each that
 *	succeeds doubles the next, up to purge_batch.
 *
 *	A second thread, the flusher, flushes the store to disk once per
 *	interval_ms when something was committed since its last flush.  The
 *	writer used to flush after a commit once the interval had passed,
 *	and wrote nothing while the disk worked: in a benchmark run on a
 *	busy machine a flush took up to 0.3 s, and the queue filled at the
 *	daemon's top rate meanwhile.  Now commits go on during a flush
 *	(records_sync may run beside records_write_batch: see records.h);
 *	a flush still covers every commit made before it began, and a crash
 *	of the machine loses at most what was committed in the last
 *	interval and the flush under way.
 *
 *	Events carry a sequence number (pushed) and the writer counts those
 *	it has finished with (done: committed, or dropped because the map
 *	was full or the write failed); recwriter_flush waits until done
 *	reaches the pushed count it saw.  Purge runs are numbered the same
 *	way for recwriter_purge_now.
 *
 *	The writer runs at the priority of the threads that carry mail.
 *	It used to run at nice 10, to yield to them; under load it then
 *	waited for a CPU most of the time (in a benchmark run 5.4 s of
 *	6.2 s, against 0.25 s on a CPU) and the queue overflowed, though
 *	the writing itself costs a few microseconds an event: at equal
 *	priority it takes what it needs, a few percent of one core at the
 *	highest rates the daemon reaches.
 *
 *	cfg.clock (time(3) by default) drives retention: a purge run starts
 *	when clock() - last run >= purge_interval (the first at start), with
 *	cutoff = clock() - retention_days * 86400, and the map-full and
 *	error warnings, each at most once per warn_interval.  The interval
 *	between commits is real time: it bounds how long an event waits.
 *
 * DIAGNOSTICS
 *	log_warnx for a full map (with the count dropped since the last
 *	warning), for stored values overwritten because they did not
 *	decode (with the count since the last warning), and for write or
 *	purge errors (the store's message, which
 *	names the file).  Never an address, never a hash.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "records.h"
#include "recwriter.h"
#include "util.h"

/* A warning said at most once per warn_interval, with what was counted
 * since it was last said. */
struct warning {
	int			 said;
	time_t			 last;
	uint64_t		 since;
};

struct recwriter {
	struct records		*rs;
	struct recwriter_config	 cfg;
	pthread_t		 thread;
	pthread_mutex_t		 mu;
	pthread_cond_t		 wake;		/* to the writer */
	pthread_cond_t		 done_cv;	/* to flush and purge_now */
	pthread_t		 flusher;
	pthread_cond_t		 flush_wake;	/* to the flusher */
	int			 committed;	/* since the last disk flush */
	int			 flusher_stop;

	struct record_event	*fill;		/* cfg.queue: pushes go here */
	size_t			 nfill;
	struct record_event	*drain;		/* cfg.queue: the batch being
						   written, writer only */

	uint64_t		 pushed, done;	/* event sequence */
	uint64_t		 flush_to;	/* done must reach this */
	uint64_t		 purge_asked, purge_finished;
	int			 stopping;
	struct recwriter_stats	 st;

	/* Writer thread only. */
	int			 purging;
	uint64_t		 purge_for;	/* purge_asked when it began */
	size_t			 purge_size;	/* records a transaction */
	time_t			 cutoff, last_purge;
	int			 purged_once;
	struct warning		 full, err, corrupt;
};

/* Count n for warning g; 1 when it is due now (then its count is the
 * caller's to say, and starts again). */
static int
warning_due(const struct recwriter *w, struct warning *g, uint64_t n,
    time_t now, uint64_t *count)
{
	g->since += n;
	if (g->said && now - g->last < w->cfg.warn_interval)
		return 0;
	g->said = 1;
	g->last = now;
	*count = g->since;
	g->since = 0;
	return 1;
}

void
recwriter_config_default(struct recwriter_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->queue = 10000;
	cfg->batch = 500;
	cfg->interval_ms = 1000;
	cfg->retention_days = 30;
	cfg->purge_interval = 3600;
	cfg->purge_batch = 1000;
	cfg->warn_interval = 300;
	cfg->clock = NULL;
}

static time_t
clock_time(void)
{
	return time(NULL);
}

static void
deadline_after(struct timespec *ts, int ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

static int
deadline_passed(const struct timespec *ts)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec > ts->tv_sec ||
	    (now.tv_sec == ts->tv_sec && now.tv_nsec >= ts->tv_nsec);
}

/* What one turn of the writer did. */
struct outcome {
	size_t	written;	/* events committed */
	size_t	commits;	/* transactions committed */
	size_t	corrupt;	/* stored values overwritten */
};

/* Write n events of b: in one transaction when the map has room for it
 * and to spare, else, or when the map is full, in parts of batch events:
 * what fits is kept.  Returns the status of the last transaction (0,
 * RECORDS_EFULL, -1 with err). */
static int
write_events(struct recwriter *w, const struct record_event *b, size_t n,
    struct outcome *o, char *err, size_t errlen)
{
	size_t	i, m, bad;
	int	rc = RECORDS_EFULL;

	memset(o, 0, sizeof(*o));
	if (w->cfg.before_commit != NULL)
		w->cfg.before_commit(n);
	if (n <= w->cfg.batch || records_batch_fits(w->rs, n)) {
		rc = records_write_batch(w->rs, b, n, &o->corrupt, err,
		    errlen);
		if (rc == 0) {
			o->written = n;
			o->commits = 1;
		}
	}
	if (rc != RECORDS_EFULL || n <= w->cfg.batch)
		return rc;
	for (i = 0; i < n; i += m) {
		m = n - i < w->cfg.batch ? n - i : w->cfg.batch;
		if ((rc = records_write_batch(w->rs, b + i, m, &bad, err,
		    errlen)) != 0)
			break;
		o->written += m;
		o->commits++;
		o->corrupt += bad;
	}
	return rc;
}

/* Write everything queued; called with the mutex held, returns with it
 * held. */
static void
write_queued(struct recwriter *w)
{
	struct record_event	*b = w->fill;
	struct outcome		 o;
	char			 err[256];
	size_t			 n = w->nfill;
	time_t			 now;
	uint64_t		 count;
	int			 rc;

	w->fill = w->drain;
	w->drain = b;
	w->nfill = 0;
	pthread_mutex_unlock(&w->mu);

	rc = write_events(w, b, n, &o, err, sizeof(err));
	now = w->cfg.clock();
	if (o.corrupt > 0 &&
	    warning_due(w, &w->corrupt, o.corrupt, now, &count))
		log_warnx("records: %llu stored values did not decode and "
		    "were overwritten (a damaged store?)",
		    (unsigned long long)count);
	if (rc == RECORDS_EFULL &&
	    warning_due(w, &w->full, n - o.written, now, &count))
		log_warnx("records: store full, %llu events dropped; raise "
		    "the map size or shorten the retention",
		    (unsigned long long)count);
	else if (rc != 0 && rc != RECORDS_EFULL &&
	    warning_due(w, &w->err, 0, now, &count))
		log_warnx("records: %s (%zu events dropped)", err,
		    n - o.written);

	pthread_mutex_lock(&w->mu);
	w->st.written += o.written;
	w->st.batches += o.commits;
	w->st.corrupt += o.corrupt;
	if (o.written > 0) {
		w->committed = 1;	/* for the flusher */
		if (o.written > w->st.largest)
			w->st.largest = o.written;
	}
	if (rc == RECORDS_EFULL)
		w->st.dropped_map += n - o.written;
	else if (rc != 0)
		w->st.errors++;
	w->done += n;
	pthread_cond_broadcast(&w->done_cv);
}

/* One purge transaction; mutex held on entry and return. */
static void
purge_step(struct recwriter *w)
{
	char	err[256];
	size_t	n = 0;
	time_t	now;
	int	rc;

	pthread_mutex_unlock(&w->mu);
	rc = records_purge(w->rs, w->cutoff, w->purge_size, &n, err,
	    sizeof(err));
	if (rc == RECORDS_EFULL && w->purge_size > 1) {
		/* Smaller transactions need fewer free pages. */
		w->purge_size /= 2;
		pthread_mutex_lock(&w->mu);
		return;
	}
	if (rc != 0) {
		uint64_t count;

		now = w->cfg.clock();
		if (warning_due(w, &w->err, 0, now, &count))
			log_warnx("records: %s", err);
	} else if (n > 0)
		log_debug("records: purged %zu", n);
	pthread_mutex_lock(&w->mu);
	if (rc != 0)
		w->st.errors++;
	else
		w->st.purged += n;
	if (n > 0)
		w->committed = 1;	/* retention reaches the disk too */
	if (rc == 0 && n == w->purge_size &&
	    w->purge_size < w->cfg.purge_batch)
		/* What a purge frees, the one after next may take. */
		w->purge_size = w->purge_size * 2 < w->cfg.purge_batch ?
		    w->purge_size * 2 : w->cfg.purge_batch;
	else if (rc != 0 || n < w->purge_size) {
		w->purging = 0;
		w->purge_finished = w->purge_for;
		pthread_cond_broadcast(&w->done_cv);
	}
}

/* Start a purge run if one is due or asked for; mutex held. */
static void
purge_maybe_start(struct recwriter *w)
{
	time_t	now;

	if (w->purging || w->stopping)
		return;
	now = w->cfg.clock();
	if (w->purge_asked == w->purge_finished && (w->cfg.retention_days <= 0 ||
	    (w->purged_once && now - w->last_purge < w->cfg.purge_interval)))
		return;
	w->purge_for = w->purge_asked;
	w->purged_once = 1;
	w->last_purge = now;
	if (w->cfg.retention_days <= 0) {
		/* Keep everything: an explicit request completes at once. */
		w->purge_finished = w->purge_for;
		pthread_cond_broadcast(&w->done_cv);
		return;
	}
	w->cutoff = now - (time_t)w->cfg.retention_days * 86400;
	w->purge_size = w->cfg.purge_batch;
	w->purging = 1;
}

static void *
writer_main(void *arg)
{
	struct recwriter	*w = arg;
	struct timespec		 deadline;
	uint64_t		 drain_to = 0;

	/* Named for top -H and perf (at most 15 characters). */
	(void)pthread_setname_np(pthread_self(), "dm-recwriter");
	pthread_mutex_lock(&w->mu);
	deadline_after(&deadline, w->cfg.interval_ms);
	for (;;) {
		int worked = 0;

		if (deadline_passed(&deadline)) {
			drain_to = w->pushed;
			deadline_after(&deadline, w->cfg.interval_ms);
		}
		purge_maybe_start(w);
		if (w->nfill > 0 && (w->nfill >= w->cfg.batch ||
		    w->done < drain_to || w->done < w->flush_to ||
		    w->stopping)) {
			write_queued(w);
			worked = 1;
		}
		if (w->purging && !w->stopping) {
			purge_step(w);
			worked = 1;
		}
		if (worked)
			continue;
		if (w->stopping) {
			/* An unfinished run is abandoned: the next start
			 * purges again. */
			w->purging = 0;
			w->purge_finished = w->purge_asked;
			pthread_cond_broadcast(&w->done_cv);
			break;
		}
		if (w->purge_asked != w->purge_finished ||
		    w->done < w->flush_to)
			continue;
		pthread_cond_timedwait(&w->wake, &w->mu, &deadline);
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

/* One disk flush per interval when something was committed, not one per
 * commit, and never in the writer's way. */
static void *
flusher_main(void *arg)
{
	struct recwriter	*w = arg;
	struct timespec		 deadline;
	char			 err[256];
	int			 rc;

	(void)pthread_setname_np(pthread_self(), "dm-recflush");
	pthread_mutex_lock(&w->mu);
	deadline_after(&deadline, w->cfg.interval_ms);
	while (!w->flusher_stop) {
		if (!deadline_passed(&deadline)) {
			pthread_cond_timedwait(&w->flush_wake, &w->mu,
			    &deadline);
			continue;
		}
		deadline_after(&deadline, w->cfg.interval_ms);
		if (!w->committed)
			continue;
		w->committed = 0;
		pthread_mutex_unlock(&w->mu);
		rc = records_sync(w->rs, err, sizeof(err));
		if (rc != 0)
			log_warnx("records: %s", err);
		pthread_mutex_lock(&w->mu);
		if (rc == 0)
			w->st.flushes++;
		else
			w->st.errors++;
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

static void
destroy(struct recwriter *w)
{
	pthread_cond_destroy(&w->flush_wake);
	pthread_cond_destroy(&w->done_cv);
	pthread_cond_destroy(&w->wake);
	pthread_mutex_destroy(&w->mu);
	free(w->drain);
	free(w->fill);
	free(w);
}

struct recwriter *
recwriter_start(struct records *rs, const struct recwriter_config *cfg,
    char *err, size_t errlen)
{
	struct recwriter	*w;
	pthread_condattr_t	 ca;
	int			 rc;

	if (cfg->queue == 0 || cfg->batch == 0 || cfg->interval_ms <= 0 ||
	    cfg->purge_batch == 0 || cfg->retention_days < 0 ||
	    cfg->purge_interval <= 0 || cfg->warn_interval < 0) {
		/* purge_interval 0 would purge on every turn of the loop. */
		seterr(err, errlen, "records: invalid writer configuration");
		return NULL;
	}
	if ((w = calloc(1, sizeof(*w))) == NULL ||
	    (w->fill = calloc(cfg->queue, sizeof(*w->fill))) == NULL ||
	    (w->drain = calloc(cfg->queue, sizeof(*w->drain))) == NULL) {
		if (w != NULL) {
			free(w->fill);
			free(w);
		}
		seterr(err, errlen, "records: out of memory for a queue of "
		    "%zu events", cfg->queue);
		return NULL;
	}
	w->rs = rs;
	w->cfg = *cfg;
	if (w->cfg.clock == NULL)
		w->cfg.clock = clock_time;
	pthread_mutex_init(&w->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&w->wake, &ca);
	pthread_cond_init(&w->flush_wake, &ca);
	pthread_condattr_destroy(&ca);
	pthread_cond_init(&w->done_cv, NULL);
	if ((rc = pthread_create(&w->thread, NULL, writer_main, w)) != 0) {
		seterr(err, errlen, "records: writer thread: %s",
		    strerror(rc));
		destroy(w);
		return NULL;
	}
	if ((rc = pthread_create(&w->flusher, NULL, flusher_main, w)) != 0) {
		seterr(err, errlen, "records: flusher thread: %s",
		    strerror(rc));
		pthread_mutex_lock(&w->mu);
		w->stopping = 1;
		pthread_cond_signal(&w->wake);
		pthread_mutex_unlock(&w->mu);
		pthread_join(w->thread, NULL);
		destroy(w);
		return NULL;
	}
	return w;
}

int
recwriter_push(struct recwriter *w, const struct record_event *ev)
{
	pthread_mutex_lock(&w->mu);
	if (w->nfill == w->cfg.queue || w->stopping) {
		w->st.dropped_full++;
		pthread_mutex_unlock(&w->mu);
		return -1;
	}
	w->fill[w->nfill++] = *ev;
	w->pushed++;
	if (w->nfill == w->cfg.batch)
		pthread_cond_signal(&w->wake);
	pthread_mutex_unlock(&w->mu);
	return 0;
}

void
recwriter_flush(struct recwriter *w)
{
	uint64_t	target;

	pthread_mutex_lock(&w->mu);
	target = w->pushed;
	if (w->flush_to < target)
		w->flush_to = target;
	pthread_cond_signal(&w->wake);
	while (w->done < target)
		pthread_cond_wait(&w->done_cv, &w->mu);
	pthread_mutex_unlock(&w->mu);
}

void
recwriter_purge_now(struct recwriter *w)
{
	uint64_t	ticket;

	pthread_mutex_lock(&w->mu);
	ticket = ++w->purge_asked;
	pthread_cond_signal(&w->wake);
	while (w->purge_finished < ticket && !w->stopping)
		pthread_cond_wait(&w->done_cv, &w->mu);
	pthread_mutex_unlock(&w->mu);
}

void
recwriter_get_stats(struct recwriter *w, struct recwriter_stats *st)
{
	pthread_mutex_lock(&w->mu);
	*st = w->st;
	pthread_mutex_unlock(&w->mu);
}

void
recwriter_stop(struct recwriter *w)
{
	if (w == NULL)
		return;
	pthread_mutex_lock(&w->mu);
	w->stopping = 1;
	pthread_cond_signal(&w->wake);
	pthread_mutex_unlock(&w->mu);
	pthread_join(w->thread, NULL);
	pthread_mutex_lock(&w->mu);
	w->flusher_stop = 1;
	pthread_cond_signal(&w->flush_wake);
	pthread_mutex_unlock(&w->mu);
	pthread_join(w->flusher, NULL);
	records_close(w->rs);		/* the last flush */
	destroy(w);
}
