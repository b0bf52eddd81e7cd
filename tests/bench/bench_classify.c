/*
 * bench_classify - how fast lib/ classifies addresses, beside a floor
 * program measured in the same run.
 *
 *   bench_classify LISTFILE DBPATH [N [ROUNDS]]
 *
 * Builds DBPATH from LISTFILE (category disposable, tier curated), then
 * makes N addresses (default 1,000,000) of three kinds in turn: a listed
 * domain, a subdomain of a listed domain (matched at a parent level), and
 * a clean domain on no list (the walk that finds nothing).  Every address
 * is made before any clock starts.
 *
 * Two loops go over the same addresses, ROUNDS times each (default 3),
 * interleaved (floor, lib, floor, lib ...) so that the machine's drift
 * weighs on both alike; the median round of each counts:
 *
 *   floor  what the work costs at the least: the same database opened
 *          the way listdb.c opens it, one read transaction per address,
 *          a bare mdb_get of every suffix of the domain that has a dot,
 *          and HMAC-SHA-256 of local@domain from the key's inner and
 *          outer SHA-256 states computed once (EVP_MD_CTX_copy_ex).  It
 *          lower-cases nothing, checks nothing, knows no public suffix.
 *   lib    classify_address(), what the daemon and disposable-ctl call.
 *
 * Prints each rate, the ratio lib / floor, and the matched counts (both
 * loops must agree on how many listed addresses they found; a bench that
 * disagrees exits 1).  Single thread.
 */
#include "config.h"

#include <sys/stat.h>

#include <lmdb.h>
#include <openssl/evp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "classify.h"
#include "listbuild.h"
#include "listdb_format.h"

struct addrs {
	char	**dom;		/* lower-case domain of address i */
	size_t	  n;
};

static const char local[] = "someone";

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The floor's HMAC: inner and outer states primed once. */
struct floor_hmac {
	EVP_MD_CTX	*in, *out, *work;
};

static int
floor_hmac_init(struct floor_hmac *h, const unsigned char *key, size_t len)
{
	unsigned char ipad[64], opad[64];

	if (len > 64)
		return -1;
	memset(ipad, 0x36, sizeof(ipad));
	memset(opad, 0x5c, sizeof(opad));
	for (size_t i = 0; i < len; i++) {
		ipad[i] ^= key[i];
		opad[i] ^= key[i];
	}
	h->in = EVP_MD_CTX_new();
	h->out = EVP_MD_CTX_new();
	h->work = EVP_MD_CTX_new();
	if (h->in == NULL || h->out == NULL || h->work == NULL ||
	    !EVP_DigestInit_ex(h->in, EVP_sha256(), NULL) ||
	    !EVP_DigestUpdate(h->in, ipad, sizeof(ipad)) ||
	    !EVP_DigestInit_ex(h->out, EVP_sha256(), NULL) ||
	    !EVP_DigestUpdate(h->out, opad, sizeof(opad)))
		return -1;
	return 0;
}

static int
floor_hmac(struct floor_hmac *h, const char *msg, size_t len,
    unsigned char md[32])
{
	unsigned char inner[32];

	return EVP_MD_CTX_copy_ex(h->work, h->in) &&
	    EVP_DigestUpdate(h->work, msg, len) &&
	    EVP_DigestFinal_ex(h->work, inner, NULL) &&
	    EVP_MD_CTX_copy_ex(h->work, h->out) &&
	    EVP_DigestUpdate(h->work, inner, sizeof(inner)) &&
	    EVP_DigestFinal_ex(h->work, md, NULL) ? 0 : -1;
}

/* One floor round; returns the addresses found listed, or -1. */
static long
floor_round(MDB_env *env, MDB_dbi dbi, struct floor_hmac *h,
    const struct addrs *as, unsigned char *sink)
{
	char canon[HASH_CANON_MAX];
	size_t ll = strlen(local);
	long found = 0;

	memcpy(canon, local, ll);
	canon[ll] = '@';
	for (size_t i = 0; i < as->n; i++) {
		const char *d = as->dom[i];
		size_t dl = strlen(d);
		unsigned char md[32];
		MDB_txn *txn;
		MDB_val k, v;
		int hit = 0;

		memcpy(canon + ll + 1, d, dl);
		if (floor_hmac(h, canon, ll + 1 + dl, md) != 0)
			return -1;
		*sink ^= md[0];
		if (mdb_txn_begin(env, NULL, MDB_RDONLY, &txn) != 0)
			return -1;
		for (const char *p = d; p != NULL && strchr(p, '.') != NULL;
		    p = strchr(p, '.') + 1) {
			k.mv_data = (void *)(uintptr_t)p;
			k.mv_size = dl - (size_t)(p - d);
			if (mdb_get(txn, dbi, &k, &v) == 0)
				hit = 1;
		}
		mdb_txn_abort(txn);
		found += hit;
	}
	return found;
}

/* One lib round; returns the addresses found disposable, or -1. */
static long
lib_round(struct listdb *db, const struct hash_key *key,
    const struct policy *pol, const struct addrs *as, unsigned char *sink)
{
	char err[256];
	long found = 0;

	for (size_t i = 0; i < as->n; i++) {
		struct addr a = { (char *)(uintptr_t)local, as->dom[i], 0 };
		struct verdict v;

		if (classify_address(db, key, pol, &a, ROLE_FROM, &v, err,
		    sizeof(err)) != 0) {
			fprintf(stderr, "%s\n", err);
			return -1;
		}
		*sink ^= v.hash[0];
		found += v.category == CAT_DISPOSABLE;
	}
	return found;
}

int
main(int argc, char *argv[])
{
	struct listdb_input in;
	struct listdb_build_report rep;
	struct listdb *db;
	struct hash_key key = { .mode = HASH_HMAC, .keylen = 32 };
	struct floor_hmac fh;
	struct policy pol;
	struct addrs as = { NULL, 0 };
	char err[1024], line[512];
	char **doms = NULL;
	size_t n = 1000000, nd = 0, cap = 0, rounds = 3;
	long ffound = 0, lfound = 0;
	double *ft, *lt, t0, t1;
	unsigned char sink = 0;
	struct stat st;
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	FILE *f;

	if (argc < 3)
		return fprintf(stderr,
		    "usage: bench_classify LIST DB [N [ROUNDS]]\n"), 2;
	if (argc > 3)
		n = strtoul(argv[3], NULL, 10);
	if (argc > 4)
		rounds = strtoul(argv[4], NULL, 10);
	if (n == 0 || rounds == 0)
		return fprintf(stderr, "bench_classify: N and ROUNDS > 0\n"), 2;
	if (domain_init(NULL, err, sizeof(err)) != 0)
		return fprintf(stderr, "%s\n", err), 1;

	in = (struct listdb_input){ argv[1], CAT_DISPOSABLE, "bench",
	    LIST_DOMAINS, TIER_CURATED, 0 };
	t0 = now();
	if (listdb_build(argv[2], &in, 1, LISTDB_BUILD_SKIP_BAD, NULL, NULL,
	    &rep) != 0)
		return fprintf(stderr, "build failed\n"), 1;
	t1 = now();
	if (stat(argv[2], &st) != 0)
		return perror(argv[2]), 1;
	printf("build: %zu entries (%zu refused) in %.2f s, %.1f MiB\n",
	    rep.per_category[CAT_DISPOSABLE], rep.errors, t1 - t0,
	    st.st_size / 1048576.0);

	if ((f = fopen(argv[1], "r")) == NULL)
		return perror(argv[1]), 1;
	while (fgets(line, sizeof(line), f) != NULL && nd < 100000) {
		char dom[DOMAIN_MAX + 1];

		line[strcspn(line, "\r\n \t#")] = '\0';
		/* Room for "mx.a.": a longer name is no domain to either. */
		if (line[0] == '\0' ||
		    domain_normalise(line, dom) != DOMAIN_OK ||
		    strlen(dom) > DOMAIN_MAX - 5)
			continue;
		if (nd == cap && (doms = realloc(doms,
		    (cap = cap ? cap * 2 : 1024) * sizeof(*doms))) == NULL)
			return 1;
		if ((doms[nd++] = strdup(dom)) == NULL)
			return 1;
	}
	fclose(f);
	if (nd == 0)
		return fprintf(stderr, "no domains in %s\n", argv[1]), 1;
	if ((as.dom = calloc(n, sizeof(*as.dom))) == NULL)
		return 1;
	for (as.n = 0; as.n < n; as.n++) {
		const char *d = doms[(as.n / 3) % nd];
		char buf[600];

		switch (as.n % 3) {
		case 0: snprintf(buf, sizeof(buf), "%s", d); break;
		case 1: snprintf(buf, sizeof(buf), "mx.a.%s", d); break;
		default: snprintf(buf, sizeof(buf),
		    "host%zu.example-clean.org", as.n % 5000); break;
		}
		if ((as.dom[as.n] = strdup(buf)) == NULL)
			return 1;
	}

	if (listdb_open(argv[2], &db, err, sizeof(err)) != 0)
		return fprintf(stderr, "%s\n", err), 1;
	if (mdb_env_create(&env) != 0 || mdb_env_set_maxdbs(env, 16) != 0 ||
	    mdb_env_set_mapsize(env, (size_t)st.st_size + (1 << 20)) != 0 ||
	    mdb_env_open(env, argv[2], MDB_RDONLY | MDB_NOLOCK |
	    MDB_NOSUBDIR | MDB_NOTLS, 0) != 0 ||
	    mdb_txn_begin(env, NULL, MDB_RDONLY, &txn) != 0 ||
	    mdb_dbi_open(txn, LISTDB_T_DOMAIN, 0, &dbi) != 0)
		return fprintf(stderr, "floor: cannot open %s\n", argv[2]), 1;
	/* A handle opened in an aborted transaction is closed with it. */
	if (mdb_txn_commit(txn) != 0)
		return fprintf(stderr, "floor: cannot open %s\n", argv[2]), 1;

	policy_default(&pol);
	memset(key.key, 0x5a, key.keylen);
	if (floor_hmac_init(&fh, key.key, key.keylen) != 0)
		return fprintf(stderr, "floor: HMAC setup failed\n"), 1;
	if (hash_key_prepare(&key) != 0)
		return fprintf(stderr, "hash_key_prepare failed\n"), 1;

	ft = calloc(rounds, sizeof(*ft));
	lt = calloc(rounds, sizeof(*lt));
	if (ft == NULL || lt == NULL)
		return 1;
	for (size_t r = 0; r < rounds; r++) {
		t0 = now();
		ffound = floor_round(env, dbi, &fh, &as, &sink);
		t1 = now();
		ft[r] = as.n / (t1 - t0);
		t0 = now();
		lfound = lib_round(db, &key, &pol, &as, &sink);
		t1 = now();
		lt[r] = as.n / (t1 - t0);
		if (ffound < 0 || lfound < 0)
			return fprintf(stderr, "round %zu failed\n", r), 1;
	}
	qsort(ft, rounds, sizeof(*ft), cmp_double);
	qsort(lt, rounds, sizeof(*lt), cmp_double);
	printf("addresses: %zu (a listed domain, a subdomain of one, a "
	    "clean domain, in turn), %zu rounds each, interleaved; "
	    "medians:\n", as.n, rounds);
	printf("  floor (bare mdb_get + precomputed HMAC): %10.0f per "
	    "second (%ld listed, 0 failed)\n", ft[rounds / 2], ffound);
	printf("  lib (classify_address):                  %10.0f per "
	    "second (%ld disposable, 0 failed)\n", lt[rounds / 2], lfound);
	printf("  lib / floor: %.2f\n", lt[rounds / 2] / ft[rounds / 2]);
	fflush(stdout);
	if (ffound != lfound) {
		fprintf(stderr, "bench_classify: the floor found %ld listed, "
		    "lib %ld: they did not do the same work\n", ffound,
		    lfound);
		return 1;
	}
	(void)sink;
	listdb_close(db);
	mdb_env_close(env);
	return 0;
}
