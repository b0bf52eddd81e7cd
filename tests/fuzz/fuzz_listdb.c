/*
 * fuzz_listdb.c - libFuzzer target for the list compiler, listdb_build
 * (listbuild.h), on a file holding the input: once as a domain list, once
 * as a fingerprint list; each database built is opened again with
 * listdb_open and looked up.
 *
 * Checks what listbuild.h and listdb.h promise: listdb_build returns 0
 * or -1; without LISTDB_BUILD_SKIP_BAD it fails, writing nothing (no
 * database, no temporary file), exactly when a line was refused, and
 * says why; with it the same file builds.  The warnings passed to diag
 * are those the report counts.  A database built opens, counts the
 * entries the report counted, and gives back what the list holds: every
 * domain entry looks itself up as disposable at level 0 from its one
 * source, and every line the build must have taken (a domain that
 * normalises and is below a public suffix; "mx|ns|spf HOST", "ip
 * ADDRESS" with a strength) is found again.
 */
#include "config.h"

#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "dns.h"
#include "domain.h"
#include "fuzz.h"
#include "listbuild.h"
#include "listdb.h"

#define SOURCE "fuzz"

static const char *listfile, *dbfile, *dbtmp;
static struct listdb_build_report *report;

struct diags {
	size_t	errors, warnings;
	char	last[1024];		/* the last error line */
};

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char pid[32];

	(void)argc;
	(void)argv;
	fuzz_domain_init("fuzz_listdb");
	fuzz_tmp_init("fuzz_listdb");
	listfile = fuzz_tmp_path("list.txt");
	dbfile = fuzz_tmp_path("lists.db");
	/* listdb.h: a build writes "PATH.tmp.PID" and renames it. */
	snprintf(pid, sizeof(pid), "lists.db.tmp.%ld", (long)getpid());
	dbtmp = fuzz_tmp_path(pid);
	if ((report = malloc(sizeof(*report))) == NULL)
		abort();
	return 0;
}

static void
diag(void *arg, int is_error, const char *line)
{
	struct diags *d = arg;

	FUZZ_CHECK(line != NULL && line[0] != '\0');
	if (is_error) {
		d->errors++;
		snprintf(d->last, sizeof(d->last), "%s", line);
	} else
		d->warnings++;
}

static int
is_space(int c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' ||
	    c == '\f';
}

/*
 * The lines of the input as the build reads them: split at '\n', a line
 * with a NUL byte refused, cut at '#', trimmed.  Calls fn for every
 * non-empty one (a modifiable copy).
 */
static void
each_line(const uint8_t *data, size_t size, struct listdb *db,
    void (*fn)(struct listdb *, char *))
{
	const uint8_t *p = data, *end = data + size, *eol;
	char *line, *s, *e;

	for (; p < end; p = eol + 1) {
		if ((eol = memchr(p, '\n', (size_t)(end - p))) == NULL)
			eol = end;
		if (memchr(p, '\0', (size_t)(eol - p)) != NULL)
			continue;
		line = fuzz_cstr(p, (size_t)(eol - p));
		if ((s = strchr(line, '#')) != NULL)
			*s = '\0';
		for (s = line; is_space((unsigned char)*s); s++)
			;
		for (e = s + strlen(s); e > s &&
		    is_space((unsigned char)e[-1]); e--)
			;
		*e = '\0';
		if (*s != '\0')
			fn(db, s);
		free(line);
	}
}

/* A domain entry the build must have taken is found, exactly. */
static void
find_domain(struct listdb *db, char *tok)
{
	struct listdb_match m;
	char norm[DOMAIN_MAX + 1], err[512];

	for (const char *p = tok; *p != '\0'; p++)
		if (is_space((unsigned char)*p))
			return;
	if (strchr(tok, '@') != NULL || strchr(tok, '*') != NULL ||
	    domain_normalise(tok, norm) != DOMAIN_OK ||
	    domain_is_public_suffix(norm) || domain_registrable(norm) == NULL)
		return;
	FUZZ_CHECK(listdb_lookup(db, norm, &m, err, sizeof(err)) == 0);
	FUZZ_CHECK(m.category == CAT_DISPOSABLE);
	FUZZ_CHECK(m.level == 0 && strcmp(m.entry, norm) == 0);
}

struct walk {
	struct listdb	*db;
	size_t		 n;
};

/* Every entry in the database is a normalised name that looks itself
 * up as what the one source listed. */
static int
check_entry(void *arg, const char *dom, enum category cat)
{
	struct walk *w = arg;
	struct listdb_match m;
	char norm[DOMAIN_MAX + 1], err[512];

	w->n++;
	FUZZ_CHECK(cat == CAT_DISPOSABLE);
	FUZZ_CHECK(domain_normalise(dom, norm) == DOMAIN_OK);
	FUZZ_CHECK(strcmp(norm, dom) == 0);
	FUZZ_CHECK(listdb_lookup(w->db, dom, &m, err, sizeof(err)) == 0);
	FUZZ_CHECK(m.category == CAT_DISPOSABLE);
	FUZZ_CHECK(m.level == 0 && strcmp(m.entry, dom) == 0);
	FUZZ_CHECK(!m.overridden);
	FUZZ_CHECK(m.nsources == 1 && strcmp(m.sources[0], SOURCE) == 0);
	return 0;
}

/* A fingerprint line the build must have taken is found: a host that
 * normalises as a domain (no "*.", no '_'), or a single address. */
static void
find_fingerprint(struct listdb *db, char *line)
{
	char *tok[4], *p = line, norm[DOMAIN_MAX + 1], err[512];
	struct fp_match m;
	struct dns_addr a;
	int ntok = 0, kind;

	if (strchr(line, '@') != NULL)
		return;
	while (*p != '\0' && ntok < 4) {
		tok[ntok++] = p;
		while (*p != '\0' && !is_space((unsigned char)*p))
			p++;
		while (is_space((unsigned char)*p))
			*p++ = '\0';
	}
	if (ntok != 3 || (strcasecmp(tok[2], "strong") != 0 &&
	    strcasecmp(tok[2], "weak") != 0))
		return;
	if ((kind = fp_kind_byname(tok[0])) < 0)
		return;
	memset(&m, 0xa5, sizeof(m));
	if (kind == FP_IP) {
		memset(&a, 0, sizeof(a));
		a.family = strchr(tok[1], ':') != NULL ? AF_INET6 : AF_INET;
		if (inet_pton(a.family, tok[1], &a.u) != 1)
			return;
		FUZZ_CHECK(listdb_fp_addr(db, &a, a.family == AF_INET ? 32 :
		    128, &m, err, sizeof(err)) == 0);
	} else {
		if (strchr(tok[1], '*') != NULL ||
		    strchr(tok[1], '_') != NULL ||
		    domain_normalise(tok[1], norm) != DOMAIN_OK)
			return;
		FUZZ_CHECK(listdb_fp_host(db, (enum fp_kind)kind, norm, &m,
		    err, sizeof(err)) == 0);
		FUZZ_CHECK(!m.found || strcmp(m.entry, norm) == 0);
	}
	FUZZ_CHECK(m.found == 1);
	FUZZ_CHECK(m.kind == (enum fp_kind)kind);
	FUZZ_CHECK(m.category == CAT_DISPOSABLE);
	FUZZ_CHECK(m.strong == 0 || m.strong == 1);
	FUZZ_CHECK(m.nsources == 1 && strcmp(m.sources[0], SOURCE) == 0);
}

/* Build the input as one list; 0 if a database was written. */
static int
build(const struct listdb_input *in, int flags)
{
	struct diags d;
	int rc;

	memset(&d, 0, sizeof(d));
	rc = listdb_build(dbfile, in, 1, flags, diag, &d, report);
	FUZZ_CHECK(rc == 0 || rc == -1);
	FUZZ_CHECK(d.warnings == report->warnings);
	FUZZ_CHECK(d.errors >= report->errors);
	FUZZ_CHECK(access(dbtmp, F_OK) == -1 && errno == ENOENT);
	if (rc == 0) {
		FUZZ_CHECK(access(dbfile, F_OK) == 0);
		FUZZ_CHECK(flags != 0 || report->errors == 0);
	} else {
		FUZZ_CHECK(access(dbfile, F_OK) == -1 && errno == ENOENT);
		FUZZ_CHECK(d.errors > 0);
		/* Only a refused line fails a build of a readable file. */
		if (report->errors == 0 || flags != 0)
			fprintf(stderr, "fuzz_listdb: %s\n", d.last);
		FUZZ_CHECK(report->errors > 0 && flags == 0);
	}
	return rc;
}

static void
check_list(const uint8_t *data, size_t size, int fingerprints)
{
	struct listdb_input in = {
		.path = listfile,
		.category = CAT_DISPOSABLE,
		.source = SOURCE,
		.kind = fingerprints ? LIST_FINGERPRINTS : LIST_DOMAINS,
	};
	struct listdb *db;
	struct walk w;
	char err[512];

	(void)unlink(dbfile);
	if (build(&in, 0) != 0)
		FUZZ_CHECK(build(&in, LISTDB_BUILD_SKIP_BAD) == 0);
	if (listdb_open(dbfile, &db, err, sizeof(err)) != 0)
		fprintf(stderr, "fuzz_listdb: %s\n", err);
	FUZZ_CHECK(db != NULL);
	FUZZ_CHECK(report->nsources == 1);
	if (fingerprints) {
		FUZZ_CHECK(listdb_entries(db) == 0);
		FUZZ_CHECK(listdb_fp_entries(db) == report->fingerprints);
		FUZZ_CHECK(report->source[0].entries == report->fingerprints);
		each_line(data, size, db, find_fingerprint);
	} else {
		FUZZ_CHECK(listdb_fp_entries(db) == 0);
		FUZZ_CHECK(listdb_entries(db) ==
		    report->per_category[CAT_DISPOSABLE]);
		FUZZ_CHECK(report->source[0].entries ==
		    report->per_category[CAT_DISPOSABLE]);
		w.db = db;
		w.n = 0;
		FUZZ_CHECK(listdb_foreach(db, check_entry, &w, err,
		    sizeof(err)) == 0);
		FUZZ_CHECK(w.n == listdb_entries(db));
		each_line(data, size, db, find_domain);
	}
	listdb_close(db);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_write(listfile, data, size, 0644);
	check_list(data, size, 0);
	check_list(data, size, 1);
	return 0;
}
