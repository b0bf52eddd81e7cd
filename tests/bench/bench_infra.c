/*
 * bench_infra - what a fingerprint verdict costs: cold (every fact from
 * the DNS server) and cached (every fact from the shared cache).
 *
 *   bench_infra DB SERVER N
 *
 * DB holds the fingerprints; SERVER (host:port) serves fresh-0.bench ...
 * fresh-(N-1).bench, each with an MX on fingerprinted infrastructure.
 * Cold, one at a time: each domain on its own session, as a message with
 * one new sender domain.  Cold, batched: 64 domains on one session, as
 * disposable-ctl check does.  Cached: the same domains again, 20 times.
 * Single thread.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "classify.h"

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static size_t
run(struct listdb *db, size_t first, size_t n, size_t batch)
{
	struct verdict v[64];
	char err[256];
	size_t hits = 0;

	for (size_t i = first; i < first + n; i += batch) {
		size_t k = first + n - i < batch ? first + n - i : batch;
		struct dns_session *s = dns_session_new(0, err, sizeof(err));

		if (s == NULL)
			exit(1);
		for (size_t j = 0; j < k; j++) {
			memset(&v[j], 0, sizeof(v[j]));
			v[j].category = CAT_CLEAN;
			snprintf(v[j].domain, sizeof(v[j].domain),
			    "fresh-%zu.bench", i + j);
		}
		if (classify_infra(db, s, 1, v, k, err, sizeof(err)) != 0)
			exit(1);
		for (size_t j = 0; j < k; j++)
			hits += v[j].category == CAT_DISPOSABLE;
		dns_session_free(s);
	}
	return hits;
}

int
main(int argc, char *argv[])
{
	struct dns_config dc;
	struct listdb *db;
	char err[1024];
	size_t n, hits;
	double t0, t1;

	if (argc != 4)
		return fprintf(stderr, "usage: bench_infra DB SERVER N\n"), 2;
	n = strtoul(argv[3], NULL, 10);
	dns_config_default(&dc);
	snprintf(dc.servers, sizeof(dc.servers), "%s", argv[2]);
	dc.cache_size = 4 * n + 100;
	if (domain_init(NULL, err, sizeof(err)) != 0 ||
	    dns_init(&dc, err, sizeof(err)) != 0 ||
	    spf_init(err, sizeof(err)) != 0 ||
	    listdb_open(argv[1], &db, err, sizeof(err)) != 0)
		return fprintf(stderr, "%s\n", err), 1;

	t0 = now();
	hits = run(db, 0, n / 2, 1);
	t1 = now();
	printf("cold, one domain per session: %zu verdicts in %.2f s: "
	    "%.2f ms each (%zu disposable)\n", n / 2, t1 - t0,
	    (t1 - t0) * 1000 / (n / 2), hits);
	t0 = now();
	hits = run(db, n / 2, n - n / 2, 64);
	t1 = now();
	printf("cold, 64 domains per session: %zu verdicts in %.2f s: "
	    "%.0f per second (%zu disposable)\n", n - n / 2, t1 - t0,
	    (n - n / 2) / (t1 - t0), hits);
	t0 = now();
	hits = 0;
	for (int r = 0; r < 20; r++)
		hits += run(db, 0, n, 1);
	t1 = now();
	printf("cached: %zu verdicts in %.2f s: %.1f us each, %.0f per second "
	    "(%zu disposable)\n", 20 * n, t1 - t0, (t1 - t0) * 1e6 / (20 * n),
	    20 * n / (t1 - t0), hits);
	listdb_close(db);
	dns_fini();
	return 0;
}
