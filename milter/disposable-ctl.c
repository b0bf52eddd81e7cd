/*
 * disposable-ctl - the admin tool: build and query the list database,
 * classify address files, create the hash key.  Same lib as the daemon.
 *
 * It prints back what the admin typed (an address given to lookup or in a
 * check file) on the admin's own terminal; it never writes an address to
 * a log or a file of its own.
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "classify.h"
#include "conf.h"
#include "domain.h"
#include "hash.h"
#include "listdb.h"

#ifndef DM_SYSCONFDIR
#define DM_SYSCONFDIR "/etc"
#endif
#define DEFAULT_CONF DM_SYSCONFDIR "/disposable-milter/disposable-milter.conf"

static struct config cfg;

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr,
	    "usage: disposable-ctl [-c file] build [--skip-bad] [-o db] "
	    "[[fp:]category:source:path ...]\n"
	    "       disposable-ctl [-c file] lookup domain-or-address ...\n"
	    "       disposable-ctl [-c file] check [--hashed] [file]\n"
	    "       disposable-ctl [-c file] stats\n"
	    "       disposable-ctl [-c file] genkey [path]\n");
	exit(2);
}

static void
build_diag(void *arg, int is_error, const char *line)
{
	(void)arg;
	fprintf(stderr, "%s: %s\n", is_error ? "error" : "warning", line);
}

static int
cmd_build(int argc, char **argv)
{
	struct listdb_input in[CONFIG_MAX_LISTS + 256];
	struct listdb_build_report rep;
	const char *out = cfg.database;
	size_t nin = 0;
	int i = 1, flags = 0;

	for (; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "--skip-bad") == 0)
			flags |= LISTDB_BUILD_SKIP_BAD;
		else if (strcmp(argv[i], "-o") == 0 && i + 1 < argc)
			out = argv[++i];
		else
			usage();
	}
	for (; i < argc; i++) {
		/* [fp:]category:source:path */
		char *cat = argv[i], *src, *path;
		int c, fp = 0;

		if (strncmp(cat, "fp:", 3) == 0) {
			fp = 1;
			cat += 3;
		}
		if ((src = strchr(cat, ':')) == NULL ||
		    (path = strchr(src + 1, ':')) == NULL)
			usage();
		*src++ = '\0';
		*path++ = '\0';
		c = category_byname(cat);
		if (c != CAT_DISPOSABLE && c != CAT_RELAY &&
		    (c != CAT_ALLOWED || fp)) {
			fprintf(stderr, "disposable-ctl: bad category '%s' "
			    "(%s)\n", cat, fp ? "disposable or relay" :
			    "disposable, relay or allow");
			return 2;
		}
		if (nin == sizeof(in) / sizeof(in[0])) {
			fprintf(stderr, "disposable-ctl: too many lists\n");
			return 2;
		}
		in[nin++] = (struct listdb_input){ path, c, src, fp };
	}
	if (nin == 0)
		for (size_t j = 0; j < cfg.nlists; j++)
			in[nin++] = (struct listdb_input){ cfg.lists[j].path,
			    cfg.lists[j].category, cfg.lists[j].source,
			    cfg.lists[j].fingerprints };
	if (nin == 0) {
		fprintf(stderr, "disposable-ctl: no lists: name them with "
		    "List in the configuration or on the command line\n");
		return 1;
	}
	if (listdb_build(out, in, nin, flags, build_diag, NULL, &rep) != 0) {
		fprintf(stderr, "disposable-ctl: %s not written (%zu errors)\n",
		    out, rep.errors);
		return 1;
	}
	printf("%s: %zu disposable, %zu relay, %zu allowed, %zu "
	    "fingerprints (%zu warnings, %zu entries skipped)\n", out,
	    rep.per_category[CAT_DISPOSABLE], rep.per_category[CAT_RELAY],
	    rep.per_category[CAT_ALLOWED], rep.fingerprints, rep.warnings,
	    rep.errors);
	for (size_t j = 0; j < rep.nsources; j++)
		printf("  source %-24s %-10s %zu\n", rep.source[j].name,
		    category_name(rep.source[j].category),
		    rep.source[j].entries);
	return 0;
}

static int
open_db(struct listdb **db)
{
	char err[1024];

	if (listdb_open(cfg.database, db, err, sizeof(err)) != 0) {
		fprintf(stderr, "disposable-ctl: %s\n", err);
		return -1;
	}
	return 0;
}

static void
print_sources(const struct listdb_match *m)
{
	for (size_t i = 0; i < m->nsources; i++)
		printf("%s%s", i ? ", " : "", m->sources[i]);
}

static int
cmd_lookup(int argc, char **argv)
{
	struct listdb *db;
	int rc = 0;

	if (argc < 2)
		usage();
	if (open_db(&db) != 0)
		return 1;
	for (int i = 1; i < argc; i++) {
		struct listdb_match m;
		struct addr a = { 0 };
		char dom[DOMAIN_MAX + 1], err[256];
		const char *raw = argv[i], *reg;
		int r;

		if (strchr(argv[i], '@') != NULL) {
			if (addr_parse_envelope(argv[i], &a) != ADDR_OK) {
				fprintf(stderr, "%s: not a mail address\n",
				    argv[i]);
				rc = 1;
				continue;
			}
			raw = a.domain;
		}
		r = domain_normalise(raw, dom);
		printf("%s\n", argv[i]);
		if (r != DOMAIN_OK) {
			printf("  category:    invalid (%s)\n",
			    r == DOMAIN_ELITERAL ? "address literal or IP" :
			    "not a valid domain name");
			addr_free(&a);
			continue;
		}
		reg = domain_registrable(dom);
		printf("  domain:      %s\n", dom);
		printf("  registrable: %s\n", reg != NULL ? reg :
		    "(none: a public suffix)");
		if (listdb_lookup(db, dom, &m, err, sizeof(err)) != 0) {
			fprintf(stderr, "disposable-ctl: %s\n", err);
			rc = 1;
		} else if (m.category == CAT_CLEAN)
			printf("  category:    clean (no entry for %s or its "
			    "parents)\n", dom);
		else {
			printf("  category:    %s\n", category_name(m.category));
			printf("  match:       %s (%s)\n", m.entry,
			    m.level == 0 ? "exact" : "parent domain");
			if (m.level > 0)
				printf("  level:       %d label%s up\n", m.level,
				    m.level == 1 ? "" : "s");
			printf("  sources:     ");
			print_sources(&m);
			printf("\n");
			if (m.overridden)
				printf("  overrides:   block entry %s "
				    "(the allowlist wins)\n", m.block_entry);
		}
		addr_free(&a);
	}
	listdb_close(db);
	return rc;
}

static int
cmd_check(int argc, char **argv)
{
	struct listdb *db;
	struct hash_key key = { .mode = HASH_SHA256 };
	struct policy pol;
	const char *name = "stdin";
	char *line = NULL, err[1024];
	size_t cap = 0, lineno = 0, bad = 0;
	ssize_t len;
	FILE *f = stdin;
	int hashed = 0, i = 1;

	if (i < argc && strcmp(argv[i], "--hashed") == 0) {
		hashed = 1;
		i++;
	}
	if (i < argc) {
		name = argv[i++];
		if ((f = fopen(name, "r")) == NULL) {
			fprintf(stderr, "disposable-ctl: %s: %s\n", name,
			    strerror(errno));
			return 1;
		}
	}
	if (i != argc)
		usage();
	/* The hash always comes from the daemon's key, so that hashes
	 * match those in its logs. */
	if (cfg.hash_mode == HASH_HMAC &&
	    hash_key_load(cfg.keyfile, &key, err, sizeof(err)) != 0) {
		fprintf(stderr, "disposable-ctl: %s\n", err);
		return 1;
	}
	if (open_db(&db) != 0)
		return 1;
	pol = cfg.policy;
	while ((len = getline(&line, &cap, f)) != -1) {
		struct addr a;
		struct verdict v;
		char *p = line, *e;

		lineno++;
		while (*p == ' ' || *p == '\t')
			p++;
		e = p + strlen(p);
		while (e > p && (e[-1] == '\n' || e[-1] == '\r' ||
		    e[-1] == ' ' || e[-1] == '\t'))
			*--e = '\0';
		if (*p == '\0' || *p == '#')
			continue;
		if (addr_parse_envelope(p, &a) != ADDR_OK) {
			fprintf(stderr, "%s:%zu: not a mail address\n", name,
			    lineno);
			printf("%s\tinvalid\t-\n", hashed ? "-" : p);
			bad++;
			continue;
		}
		if (classify_address(db, &key, &pol, &a, ROLE_ENVELOPE, &v,
		    err, sizeof(err)) != 0) {
			fprintf(stderr, "%s:%zu: %s\n", name, lineno, err);
			addr_free(&a);
			listdb_close(db);
			return 1;
		}
		printf("%s\t%s\t%s\n", hashed ? v.hash : p,
		    category_name(v.category),
		    v.match.entry[0] ? v.match.entry : "-");
		addr_free(&a);
	}
	free(line);
	if (f != stdin)
		fclose(f);
	listdb_close(db);
	return bad ? 1 : 0;
}

static int
cmd_stats(void)
{
	struct listdb *db;
	struct listdb_source_info *src;
	size_t n;
	time_t built;
	char when[64];
	struct tm tm;

	if (open_db(&db) != 0)
		return 1;
	built = listdb_built(db);
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC",
	    gmtime_r(&built, &tm));
	printf("database: %s\nbuilt:    %s\nentries:  %zu\n"
	    "fingerprints: %zu\n", cfg.database, when, listdb_entries(db),
	    listdb_fp_entries(db));
	if (listdb_sources(db, &src, &n) == 0) {
		for (size_t i = 0; i < n; i++)
			printf("  source %-24s %-10s %8u  %s\n", src[i].name,
			    category_name(src[i].category), src[i].entries,
			    src[i].path);
	}
	listdb_close(db);
	return 0;
}

static int
cmd_genkey(int argc, char **argv)
{
	const char *path = argc > 1 ? argv[1] : cfg.keyfile;
	char err[1024];

	if (argc > 2)
		usage();
	if (hash_key_generate(path, err, sizeof(err)) != 0) {
		fprintf(stderr, "disposable-ctl: %s\n", err);
		return 1;
	}
	printf("%s: new key written (mode 0600)\n", path);
	return 0;
}

int
main(int argc, char *argv[])
{
	const char *conffile = NULL, *cmd;
	char err[1024];
	int ch;

	while ((ch = getopt(argc, argv, "+c:")) != -1) {
		if (ch == 'c')
			conffile = optarg;
		else
			usage();
	}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		usage();
	cmd = argv[0];

	config_default(&cfg);
	/* Without -c the default file is read if it exists, so that build
	 * from explicit lists works on a machine with no configuration. */
	if (conffile == NULL && access(DEFAULT_CONF, F_OK) == 0)
		conffile = DEFAULT_CONF;
	if (conffile != NULL &&
	    config_load(conffile, &cfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "disposable-ctl: %s\n", err);
		return 1;
	}
	if (strcmp(cmd, "genkey") == 0)
		return cmd_genkey(argc, argv);
	if (domain_init(NULL, err, sizeof(err)) != 0) {
		fprintf(stderr, "disposable-ctl: %s\n", err);
		return 1;
	}
	if (strcmp(cmd, "build") == 0)
		return cmd_build(argc, argv);
	if (strcmp(cmd, "lookup") == 0)
		return cmd_lookup(argc, argv);
	if (strcmp(cmd, "check") == 0)
		return cmd_check(argc, argv);
	if (strcmp(cmd, "stats") == 0)
		return cmd_stats();
	usage();
}
