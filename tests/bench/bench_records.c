/*
 * bench_records - how many record events a second the records store
 * takes, first through records_write_batch alone, then through the
 * writer thread (lib/recwriter.c) with its default configuration.
 *
 *	bench_records DIR [events]
 *
 * Each part writes events (default 200,000) for as many distinct
 * senders into a fresh store in DIR (hashes spread like HMAC output,
 * four domains), then the same senders once more (every event an
 * update: the record's age index entry moves).
 *
 * The first part calls records_write_batch with fixed batch sizes and
 * records_sync once a second, as the flusher does, and prints events/s
 * per size, and the CPU time an event (the thread's own clock: on a
 * machine shared with other work it varies less than the rate).  The second part pushes the events from one thread as fast
 * as recwriter_push takes them; when the queue is full it yields and
 * tries the same event again (counted as "full"), so the figure is the
 * rate the writer sustains while it always has work, flush included.
 */
#include "config.h"

#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "records.h"
#include "recwriter.h"

#define MAPSIZE	((size_t)1024 << 20)
#define T0	((time_t)1700000000)

static const char *const doms[] = {
	"example.org", "mailinator.com", "relay.test", "example.net"
};

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* CPU time of the calling thread: steadier than the wall clock on a
 * machine shared with other work. */
static double
cpu(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint64_t
mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static void
event(struct record_event *e, size_t who, time_t when)
{
	memset(e, 0, sizeof(*e));
	e->when = when;
	e->key_id = 0;
	for (size_t i = 0; i < HASH_LEN; i += 8) {
		uint64_t v = mix(who * 4 + i / 8);

		memcpy(e->hash + i, &v, 8);
	}
	snprintf(e->domain, sizeof(e->domain), "%s", doms[who % 4]);
	e->category = who % 4 == 1 ? CAT_DISPOSABLE : CAT_CLEAN;
	e->roles = 1u << ROLE_ENVELOPE;
	e->action = who % 4 == 1 ? ACT_REJECT : ACT_ACCEPT;
	e->first_of_domain = 1;
}

static int
fresh(const char *dir, const char *name, char *path, size_t len,
    struct records **rs)
{
	char err[256];

	snprintf(path, len, "%s/%s.lmdb", dir, name);
	unlink(path);
	snprintf(err, sizeof(err), "%s-lock", path);
	unlink(err);
	if (records_open(path, MAPSIZE, 0, rs, err, sizeof(err)) == -1) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	return 0;
}

/* Pass 0 creates, pass 1 updates; returns events/s or -1, and the CPU
 * microseconds an event in *us. */
static double
direct(struct records *rs, size_t n, size_t batch, int pass, double *us)
{
	struct record_event	*ev;
	char			 err[256];
	double			 t0, c0, last_sync;

	if ((ev = calloc(batch, sizeof(*ev))) == NULL)
		return -1;
	c0 = cpu();
	t0 = last_sync = now();
	for (size_t i = 0; i < n; i += batch) {
		size_t m = n - i < batch ? n - i : batch;

		for (size_t j = 0; j < m; j++)
			event(&ev[j], i + j, T0 + pass);
		if (records_write_batch(rs, ev, m, NULL, err,
		    sizeof(err)) != 0) {
			fprintf(stderr, "%s\n", err);
			free(ev);
			return -1;
		}
		if (now() - last_sync >= 1.0) {
			(void)records_sync(rs, err, sizeof(err));
			last_sync = now();
		}
	}
	(void)records_sync(rs, err, sizeof(err));
	free(ev);
	*us = (cpu() - c0) * 1e6 / n;
	return n / (now() - t0);
}

static int
through_writer(const char *dir, size_t n)
{
	struct recwriter_config	 cfg;
	struct recwriter_stats	 st;
	struct recwriter	*w;
	struct records		*rs;
	struct record_event	 e;
	char			 path[1024], err[256];
	unsigned long		 full = 0;
	double			 t0, t;

	if (fresh(dir, "writer", path, sizeof(path), &rs) == -1)
		return -1;
	recwriter_config_default(&cfg);
	if ((w = recwriter_start(rs, &cfg, err, sizeof(err))) == NULL) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	for (int pass = 0; pass < 2; pass++) {
		t0 = now();
		for (size_t i = 0; i < n; i++) {
			event(&e, i, T0 + pass);
			while (recwriter_push(w, &e) == -1) {
				full++;
				sched_yield();
			}
		}
		recwriter_flush(w);
		t = now() - t0;
		recwriter_get_stats(w, &st);
		printf("writer, %s: %zu events in %.2f s: %.0f events/s "
		    "(%lu pushes found the queue full; %llu batches so far, "
		    "%llu events written)\n", pass ? "updates" : "new senders",
		    n, t, n / t, full, (unsigned long long)st.batches,
		    (unsigned long long)st.written);
		full = 0;
	}
	recwriter_stop(w);
	return 0;
}

int
main(int argc, char **argv)
{
	static const size_t	 sizes[] = { 500, 5000, 20000 };
	struct records		*rs;
	char			 path[1024], name[32];
	size_t			 n = 200000;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: bench_records DIR [events]\n");
		return 2;
	}
	if (argc == 3)
		n = strtoul(argv[2], NULL, 10);
	log_init("bench_records", 0, 1, 0);
	printf("record_event: %zu bytes\n", sizeof(struct record_event));
	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		double c, u, cus, uus;

		snprintf(name, sizeof(name), "direct%zu", sizes[s]);
		if (fresh(argv[1], name, path, sizeof(path), &rs) == -1)
			return 1;
		c = direct(rs, n, sizes[s], 0, &cus);
		u = direct(rs, n, sizes[s], 1, &uus);
		records_close(rs);
		if (c < 0 || u < 0)
			return 1;
		printf("records_write_batch, %5zu a batch: new senders %.0f "
		    "events/s (%.2f us CPU each), updates %.0f events/s "
		    "(%.2f us)\n", sizes[s], c, cus, u, uus);
	}
	return through_writer(argv[1], n) == 0 ? 0 : 1;
}
