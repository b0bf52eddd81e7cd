/*
 * recwriter.h - the single writer thread between the milter callbacks and
 * the records store.
 *
 * recwriter_push() is called from callbacks: it copies the event into a
 * bounded queue under a mutex held for that copy only, and never waits:
 * when the queue is full the event is dropped and counted, and mail goes
 * on.  The writer thread takes everything queued at once (every
 * interval_ms, or as soon as batch events are queued) and commits it in
 * one transaction: when it falls behind, its transactions grow with the
 * backlog, up to queue events, and it catches up.  It purges records
 * older than the retention in small transactions between batches
 * (purge_batch records each, every purge_interval seconds), and when the
 * map is full keeps running, keeps what fits, drops the rest and counts
 * it, and warns at most once per warn_interval seconds (so too for
 * stored values that did not decode, which the store overwrites and
 * counts).  A second thread flushes the store to disk once per
 * interval_ms when something was committed, so that the writer never
 * waits for the disk.
 *
 * The clock and a hook before each commit are function pointers so that
 * tests can move time and hold the writer.
 */
#ifndef DM_RECWRITER_H
#define DM_RECWRITER_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "records.h"

struct recwriter_config {
	size_t	queue;		/* events waiting at most (default 10000) */
	size_t	batch;		/* events queued that wake the writer before
				   interval_ms (default 500); a transaction
				   takes everything queued */
	int	interval_ms;	/* longest wait before a commit (default 1000) */
	int	retention_days;	/* default 30; 0 = keep */
	int	purge_interval;	/* seconds between purge runs (default 3600) */
	size_t	purge_batch;	/* records per purge transaction (1000) */
	int	warn_interval;	/* seconds between map-full warnings (300) */
	time_t	(*clock)(void);	/* NULL: time() */
	void	(*before_commit)(size_t n);	/* tests: called by the writer
				   thread before each transaction of n events;
				   NULL */
};

struct recwriter_stats {
	uint64_t	written;	/* events committed */
	uint64_t	dropped_full;	/* queue full */
	uint64_t	dropped_map;	/* map full */
	uint64_t	purged;		/* records deleted by retention */
	uint64_t	corrupt;	/* stored values that did not decode,
					   overwritten (records.h) */
	uint64_t	batches;	/* transactions committed */
	uint64_t	largest;	/* events in the largest one */
	uint64_t	flushes;	/* disk flushes */
	uint64_t	errors;		/* transactions or flushes failed (the
					   events of a failed transaction are
					   neither written nor dropped) */
};

struct recwriter;

void	recwriter_config_default(struct recwriter_config *);

/* Start the writer thread on an open store (which it then owns until
 * recwriter_stop).  Returns NULL with err on failure. */
struct recwriter *recwriter_start(struct records *,
	    const struct recwriter_config *, char *err, size_t errlen);

/* Queue one event; returns 0, or -1 if it was dropped (queue full). */
int	recwriter_push(struct recwriter *, const struct record_event *);

/* Commit what is queued now and wait until it is written (tests, and a
 * graceful stop). */
void	recwriter_flush(struct recwriter *);

/* Run a purge now (tests; disposable-ctl purge uses records_purge). */
void	recwriter_purge_now(struct recwriter *);

void	recwriter_get_stats(struct recwriter *, struct recwriter_stats *);

/* Commit what is queued, stop the threads, flush and close the store. */
void	recwriter_stop(struct recwriter *);

#endif
