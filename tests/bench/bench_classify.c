/*
 * bench_classify - how fast lib/ builds a large list database and
 * classifies addresses against it.
 *
 *   bench_classify LISTFILE DBPATH [N]
 *
 * Builds DBPATH from LISTFILE (category disposable), then classifies N
 * addresses (default 1,000,000) drawn from three kinds in turn: a listed
 * domain, a subdomain of a listed domain (matched at a parent level), and
 * a clean domain on no list (the walk that finds nothing).  Prints the
 * build time, the database size and the classifications per second.
 * Single thread; the key is fixed (HMAC-SHA-256 is part of the cost).
 */
#include "config.h"

#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "classify.h"
#include "listbuild.h"

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int
main(int argc, char *argv[])
{
	struct listdb_input in;
	struct listdb_build_report rep;
	struct listdb *db;
	struct hash_key key = { .mode = HASH_HMAC, .keylen = 32 };
	struct policy pol;
	char err[1024], line[512], local[] = "someone", dom[600];
	char **doms = NULL;
	size_t n = 1000000, nd = 0, cap = 0, hits = 0;
	struct stat st;
	double t0, t1;
	FILE *f;

	if (argc < 3)
		return fprintf(stderr, "usage: bench_classify LIST DB [N]\n"), 2;
	if (argc > 3)
		n = strtoul(argv[3], NULL, 10);
	if (domain_init(NULL, err, sizeof(err)) != 0)
		return fprintf(stderr, "%s\n", err), 1;

	in = (struct listdb_input){ argv[1], CAT_DISPOSABLE, "bench", 0 };
	t0 = now();
	if (listdb_build(argv[2], &in, 1, LISTDB_BUILD_SKIP_BAD, NULL, NULL,
	    &rep) != 0)
		return fprintf(stderr, "build failed\n"), 1;
	t1 = now();
	stat(argv[2], &st);
	printf("build: %zu entries (%zu refused) in %.2f s, %.1f MiB\n",
	    rep.per_category[CAT_DISPOSABLE], rep.errors, t1 - t0,
	    st.st_size / 1048576.0);

	if (listdb_open(argv[2], &db, err, sizeof(err)) != 0)
		return fprintf(stderr, "%s\n", err), 1;
	if ((f = fopen(argv[1], "r")) == NULL)
		return perror(argv[1]), 1;
	while (fgets(line, sizeof(line), f) != NULL && nd < 100000) {
		line[strcspn(line, "\r\n \t#")] = '\0';
		if (line[0] == '\0')
			continue;
		if (nd == cap && (doms = realloc(doms,
		    (cap = cap ? cap * 2 : 1024) * sizeof(*doms))) == NULL)
			return 1;
		doms[nd++] = strdup(line);
	}
	fclose(f);
	if (nd == 0)
		return fprintf(stderr, "no domains in %s\n", argv[1]), 1;

	policy_default(&pol);
	memset(key.key, 0x5a, key.keylen);
	t0 = now();
	for (size_t i = 0; i < n; i++) {
		struct addr a = { local, dom, 0 };
		struct verdict v;
		const char *d = doms[(i / 3) % nd];

		switch (i % 3) {
		case 0: snprintf(dom, sizeof(dom), "%s", d); break;
		case 1: snprintf(dom, sizeof(dom), "mx.a.%s", d); break;
		default: snprintf(dom, sizeof(dom), "host%zu.example-clean.org",
		    i % 5000); break;
		}
		if (classify_address(db, &key, &pol, &a, ROLE_FROM, &v, err,
		    sizeof(err)) != 0)
			return fprintf(stderr, "%s\n", err), 1;
		hits += v.category == CAT_DISPOSABLE;
	}
	t1 = now();
	printf("classify: %zu addresses in %.2f s: %.0f per second "
	    "(%zu matched)\n", n, t1 - t0, n / (t1 - t0), hits);
	listdb_close(db);
	return 0;
}
