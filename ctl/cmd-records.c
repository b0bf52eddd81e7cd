/*
 * cmd-records.c - the commands a data-protection officer asks for: export
 * (the right of access), forget (the right to erasure), recheck (which
 * remembered senders a list update turned disposable), purge (retention
 * by hand), and the aggregates of stats.
 *
 * A person is named by an address, by a keyed hash, or by a file of
 * either, one per line.  An address is hashed (identity.h, as the daemon
 * hashes it) with every key of KeyFile, and a hash is tried under every
 * key id, so records made before a key rotation are found too.  Output
 * names hashes with the id of the key that made them, never addresses;
 * the admin's own input is only echoed in error messages on the terminal.
 *
 * The store is the daemon's: it creates it, as the user it runs as
 * (UserID).  A command that only reads (export, recheck, stats) finds a
 * store not made yet empty, and makes nothing.  One that writes (forget,
 * purge) creates it when it is missing, and what it creates as root (the
 * file, or LMDB's lock file beside it) is given to the daemon's user,
 * or the daemon could not open its own store; where that cannot be done
 * (UserID names no user; run as another user than the daemon's) it
 * creates nothing and says why.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "classify.h"
#include "ctl.h"
#include "dns.h"
#include "identity.h"
#include "records.h"

/* Who the files this run creates in the store must belong to:
 * *give set when they must be given to the daemon's user (we are root).
 * Returns 0, or -1 having said why nothing may be created. */
static int
store_owner(const struct ctl *ctl, uid_t *uid, gid_t *gid, int *give)
{
	const char *path = ctl->cfg.records;
	char err[512];
	int r;

	*give = 0;
	if ((r = config_user_ids(&ctl->cfg, uid, gid, err,
	    sizeof(err))) == 1)
		return 0;	/* the daemon stays who starts it */
	if (r != 0) {
		fprintf(stderr, "disposable-ctl: records store %s: not "
		    "created: %s, so the daemon's user is not known\n", path,
		    err);
		return -1;
	}
	if (geteuid() == 0) {
		*give = *uid != 0 || *gid != 0;
		return 0;
	}
	if (*uid != geteuid()) {
		fprintf(stderr, "disposable-ctl: records store %s: not "
		    "created: it would be yours, and the daemon runs as %s "
		    "(UserID): run this as root or as that user\n", path,
		    ctl->cfg.user);
		return -1;
	}
	return 0;
}

/* The records store of the configuration, as the top of this file says:
 * *rs NULL (and 0) for a reader when there is none yet.  Returns 0, or -1
 * having said why. */
static int
open_records(struct ctl *ctl, int readonly, struct records **rs)
{
	const char *path = ctl->cfg.records;
	char err[1024], lock[PATH_MAX];
	const char *made[2];
	size_t nmade = 0;
	uid_t uid;
	gid_t gid;
	int chown_made = 0;

	*rs = NULL;
	if (path[0] == '\0') {
		fprintf(stderr, "disposable-ctl: no Records store in the "
		    "configuration\n");
		return -1;
	}
	if (readonly && access(path, F_OK) != 0 && errno == ENOENT)
		return 0;
	snprintf(lock, sizeof(lock), "%s-lock", path);	/* LMDB's */
	if (access(path, F_OK) != 0)
		made[nmade++] = path;
	if (access(lock, F_OK) != 0)
		made[nmade++] = lock;
	if (nmade > 0 && store_owner(ctl, &uid, &gid, &chown_made) != 0)
		return -1;
	if (records_open(path, ctl->cfg.records_mapsize << 20, readonly, rs,
	    err, sizeof(err)) != 0) {
		fprintf(stderr, "disposable-ctl: %s\n", err);
		return -1;
	}
	for (size_t i = 0; chown_made && i < nmade; i++)
		if (chown(made[i], uid, gid) != 0) {
			fprintf(stderr, "disposable-ctl: %s: chown to the "
			    "daemon's user (UserID %s): %s\n", made[i],
			    ctl->cfg.user, strerror(errno));
			records_close(*rs);
			*rs = NULL;
			return -1;
		}
	if (nmade == 2 && !readonly)
		fprintf(stderr, "disposable-ctl: records store %s created%s%s"
		    "\n", path, chown_made ? ", owned by " : "",
		    chown_made ? ctl->cfg.user : "");
	return 0;
}

/* The (key id, hash) pairs one person may have records under. */
struct who {
	size_t		n;
	unsigned char	id[HASH_MAX_KEYS];
	unsigned char	hash[HASH_MAX_KEYS][HASH_LEN];
};

static int
resolve_who(struct ctl *ctl, const struct hash_keyring *ring,
    const char *input, struct who *w)
{
	char canon[HASH_CANON_MAX], dom[DOMAIN_MAX + 1];
	struct addr a;
	int rc = 0;

	w->n = 0;
	if (hash_from_hex(input, w->hash[0]) == 0) {
		for (size_t i = 0; i < ring->n; i++) {
			w->id[i] = ring->k[i].id;
			memcpy(w->hash[i], w->hash[0], HASH_LEN);
		}
		w->n = ring->n;
		return 0;
	}
	if (addr_parse_envelope(input, &a) != ADDR_OK)
		return -1;
	/* The canonical form once, hashed under every key. */
	if (identity_canonical(&a, ctl->cfg.policy.subaddr_sep, canon,
	    dom) < 0)
		rc = -1;
	addr_free(&a);
	for (size_t i = 0; rc == 0 && i < ring->n; i++) {
		if (hash_bin(&ring->k[i], canon, w->hash[w->n]) != 0)
			rc = -1;
		else
			w->id[w->n++] = ring->k[i].id;
	}
	explicit_bzero(canon, sizeof(canon));
	return rc;
}

/* The people named on the command line: arguments, or -f FILE. */
struct inputs {
	char		**v;
	size_t		  n;
	const char	 *file;		/* -f FILE, or NULL: arguments */
};

/* Returns 0, or the exit status having said why. */
static int
read_inputs(struct ctl *ctl, int argc, char **argv, struct inputs *in)
{
	static const struct option longopts[] = { { NULL, 0, NULL, 0 } };
	FILE *f;
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	int ch;

	memset(in, 0, sizeof(*in));
	while ((ch = ctl_getopt(ctl, argc, argv, "f:", longopts)) != -1) {
		if (ch != 'f')
			return CTL_EXIT_ERROR;
		in->file = optarg;
	}
	/* Operands are named by their position, never echoed: they may be
	 * somebody's address, and this goes to the logs of cron jobs. */
	if (in->file != NULL && optind < argc)
		return ctl_usage_error(ctl, "-f FILE or operands, not both");
	if (in->file == NULL && optind == argc)
		return ctl_usage_error(ctl, "no address or hash given");
	if (in->file != NULL) {
		if ((f = fopen(in->file, "r")) == NULL) {
			fprintf(stderr, "disposable-ctl: %s: %s\n", in->file,
			    strerror(errno));
			return CTL_EXIT_ERROR;
		}
		while ((len = getline(&line, &cap, f)) != -1) {
			char *p = line, **nv;

			while (len > 0 && (line[len - 1] == '\n' ||
			    line[len - 1] == '\r' || line[len - 1] == ' '))
				line[--len] = '\0';
			while (*p == ' ' || *p == '\t')
				p++;
			if (*p == '\0' || *p == '#')
				continue;
			if ((nv = reallocarray(in->v, in->n + 1,
			    sizeof(*nv))) == NULL ||
			    (nv[in->n] = strdup(p)) == NULL) {
				free(line);
				fclose(f);
				fprintf(stderr, "disposable-ctl: out of "
				    "memory\n");
				return CTL_EXIT_ERROR;
			}
			in->v = nv;
			in->n++;
		}
		free(line);
		fclose(f);
		return 0;
	}
	/* The operands themselves: getopt has put them last. */
	in->v = argv + optind;
	in->n = (size_t)(argc - optind);
	return 0;
}

/* Input i is neither: said without echoing it (it may be somebody's
 * address, and this goes to the logs of cron jobs). */
static void
bad_input(const struct inputs *in, size_t i)
{
	if (in->file != NULL)
		fprintf(stderr, "disposable-ctl: %s: entry %zu: not an address "
		    "or a hash\n", in->file, i + 1);
	else
		fprintf(stderr, "disposable-ctl: argument %zu: not an address "
		    "or a hash\n", i + 1);
}

static void
free_inputs(struct inputs *in)
{
	if (in->file == NULL)
		return;		/* argv's */
	for (size_t i = 0; i < in->n; i++)
		free(in->v[i]);
	free(in->v);
}

static void
print_json_record(const struct record *r, int *first)
{
	char h[HASH_HEX_LEN + 1], f[32], l[32];
	int any = 0;

	hash_to_hex(r->hash, h);
	ctl_iso_time(r->first_seen, f, sizeof(f));
	ctl_iso_time(r->last_seen, l, sizeof(l));
	printf("%s  {\n    \"hash\": \"%s\",\n    \"key_id\": %u,\n"
	    "    \"domain\": \"%s\",\n    \"first_seen\": \"%s\",\n"
	    "    \"last_seen\": \"%s\",\n    \"messages\": %u,\n"
	    "    \"categories\": [", *first ? "" : ",\n", h, r->key_id,
	    r->domain, f, l, r->messages);
	for (int c = 0; c < CAT_COUNT; c++)
		if (r->categories & (1u << c)) {
			printf("%s\"%s\"", any ? ", " : "", category_name(c));
			any = 1;
		}
	printf("],\n    \"roles\": [");
	any = 0;
	for (int ro = 0; ro < ROLE_COUNT; ro++)
		if (r->roles & (1u << ro)) {
			printf("%s\"%s\"", any ? ", " : "", role_name(ro));
			any = 1;
		}
	printf("]\n  }");
	*first = 0;
}

int
cmd_export(struct ctl *ctl, int argc, char **argv)
{
	struct hash_keyring ring;
	struct records *rs;
	struct inputs in;
	int rc, first = 1;
	char err[1024];

	if ((rc = read_inputs(ctl, argc, argv, &in)) != 0)
		return rc;
	if (ctl_load_keys(ctl, &ring) != 0 || open_records(ctl, 1, &rs) != 0) {
		explicit_bzero(&ring, sizeof(ring));
		free_inputs(&in);
		return CTL_EXIT_ERROR;
	}
	printf("[\n");
	for (size_t i = 0; i < in.n; i++) {
		struct who w;

		if (resolve_who(ctl, &ring, in.v[i], &w) != 0) {
			bad_input(&in, i);
			rc = rc ? rc : CTL_EXIT_FOUND;
			continue;
		}
		/* No store yet: nobody has records. */
		for (size_t k = 0; rs != NULL && k < w.n; k++) {
			struct record r;
			int g = records_get(rs, w.id[k], w.hash[k], &r, err,
			    sizeof(err));

			if (g < 0) {
				fprintf(stderr, "disposable-ctl: %s\n", err);
				rc = CTL_EXIT_ERROR;
			} else if (g == 0)
				print_json_record(&r, &first);
		}
	}
	printf("%s]\n", first ? "" : "\n");
	explicit_bzero(&ring, sizeof(ring));
	records_close(rs);
	free_inputs(&in);
	return rc;
}

int
cmd_forget(struct ctl *ctl, int argc, char **argv)
{
	struct hash_keyring ring;
	struct records *rs;
	struct inputs in;
	int rc;
	char err[1024], when[32], h[HASH_HEX_LEN + 1];

	if ((rc = read_inputs(ctl, argc, argv, &in)) != 0)
		return rc;
	if (ctl_load_keys(ctl, &ring) != 0 || open_records(ctl, 0, &rs) != 0) {
		explicit_bzero(&ring, sizeof(ring));
		free_inputs(&in);
		return CTL_EXIT_ERROR;
	}
	for (size_t i = 0; i < in.n; i++) {
		struct who w;
		size_t removed = 0;

		if (resolve_who(ctl, &ring, in.v[i], &w) != 0) {
			bad_input(&in, i);
			rc = rc ? rc : CTL_EXIT_FOUND;
			continue;
		}
		for (size_t k = 0; k < w.n; k++) {
			int f = records_forget(rs, w.id[k], w.hash[k], err,
			    sizeof(err));

			if (f < 0) {
				fprintf(stderr, "disposable-ctl: %s\n", err);
				rc = CTL_EXIT_ERROR;
			} else if (f == 0)
				removed++;
		}
		/* The hash under the newest key names the person. */
		hash_to_hex(w.hash[w.n - 1], h);
		ctl_iso_time(time(NULL), when, sizeof(when));
		printf("forgotten: hash=%s key=%u records_removed=%zu at=%s\n",
		    h, w.id[w.n - 1], removed, when);
	}
	explicit_bzero(&ring, sizeof(ring));
	records_close(rs);
	free_inputs(&in);
	return rc;
}

/* recheck: the domains of remembered senders, classified anew. */
struct recheck {
	time_t		 cutoff;
	struct record	*v;
	size_t		 n, cap;
};

static int
recheck_collect(void *arg, const struct record *r)
{
	struct recheck *rc = arg;

	if (r->last_seen < rc->cutoff || r->domain[0] == '\0')
		return 0;
	if (rc->n == rc->cap) {
		size_t ncap = rc->cap ? rc->cap * 2 : 1024;
		struct record *nv = reallocarray(rc->v, ncap, sizeof(*nv));

		if (nv == NULL)
			return -1;
		rc->v = nv;
		rc->cap = ncap;
	}
	rc->v[rc->n++] = *r;
	return 0;
}

static int
by_domain(const void *x, const void *y)
{
	return strcmp(((const struct record *)x)->domain,
	    ((const struct record *)y)->domain);
}

int
cmd_recheck(struct ctl *ctl, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "no-dns", no_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 }
	};
	struct recheck rc = { 0 };
	struct records *rs;
	struct listdb *db;
	int ch, use_dns = ctl->cfg.dns_enabled, status = CTL_EXIT_OK;
	size_t found = 0, domains = 0;
	char err[1024];

	while ((ch = ctl_getopt(ctl, argc, argv, "", longopts)) != -1) {
		if (ch != 'n')
			return CTL_EXIT_ERROR;
		use_dns = 0;
	}
	if (optind < argc)
		return ctl_usage_error(ctl, "'%s': recheck takes no operand",
		    argv[optind]);
	if (open_records(ctl, 1, &rs) != 0)
		return CTL_EXIT_ERROR;
	if (ctl_open_db(ctl, &db) != 0 || (use_dns && ctl_init_dns(ctl) != 0)) {
		records_close(rs);
		return CTL_EXIT_ERROR;
	}
	rc.cutoff = ctl->cfg.rec.retention_days > 0 ?
	    time(NULL) - (time_t)ctl->cfg.rec.retention_days * 86400 : 0;
	if (rs != NULL && records_foreach(rs, recheck_collect, &rc, err,
	    sizeof(err)) != 0) {
		fprintf(stderr, "disposable-ctl: %s\n", err);
		status = CTL_EXIT_ERROR;
		goto out;
	}
	if (rc.n > 0)
		qsort(rc.v, rc.n, sizeof(*rc.v), by_domain);
	for (size_t i = 0, j; i < rc.n; i = j) {
		struct verdict v;
		struct listdb_match m;

		for (j = i + 1; j < rc.n &&
		    strcmp(rc.v[j].domain, rc.v[i].domain) == 0; j++)
			;
		domains++;
		/* Classify the domain as the daemon would now. */
		memset(&v, 0, sizeof(v));
		if (listdb_lookup(db, rc.v[i].domain, &m, err,
		    sizeof(err)) != 0) {
			fprintf(stderr, "disposable-ctl: %s\n", err);
			status = CTL_EXIT_ERROR;
			break;
		}
		v.category = m.category;
		snprintf(v.domain, sizeof(v.domain), "%s", rc.v[i].domain);
		snprintf(v.why, sizeof(v.why), "%s", m.entry);
		if (v.category == CAT_CLEAN && use_dns) {
			struct dns_session *s = dns_session_new(0, err,
			    sizeof(err));

			if (s == NULL || classify_infra(db, s, 1, &v, 1, err,
			    sizeof(err)) != 0) {
				fprintf(stderr, "disposable-ctl: %s\n", err);
				dns_session_free(s);
				status = CTL_EXIT_ERROR;
				break;
			}
			dns_session_free(s);
		}
		if (v.category != CAT_DISPOSABLE)
			continue;
		for (size_t k = i; k < j; k++) {
			char h[HASH_HEX_LEN + 1], when[32];

			hash_to_hex(rc.v[k].hash, h);
			ctl_iso_time(rc.v[k].last_seen, when, sizeof(when));
			printf("%s\t%u\t%s\t%s\t%s%s\n", h, rc.v[k].key_id,
			    rc.v[k].domain, when,
			    v.why[0] ? v.why : "-",
			    rc.v[k].categories & (1u << CAT_DISPOSABLE) ?
			    "" : "\tnewly-disposable");
			found++;
		}
	}
	fprintf(stderr, "recheck: %zu senders in %zu domains within the "
	    "retention window; %zu now disposable\n", rc.n, domains, found);
	if (status == CTL_EXIT_OK && found > 0)
		status = CTL_EXIT_FOUND;
out:
	free(rc.v);
	listdb_close(db);
	records_close(rs);
	return status;
}

int
cmd_purge(struct ctl *ctl, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "days", required_argument, NULL, 'd' },
		{ NULL, 0, NULL, 0 }
	};
	struct records *rs;
	unsigned long days = (unsigned long)ctl->cfg.rec.retention_days;
	size_t purged, total = 0;
	char err[1024];
	int ch;

	while ((ch = ctl_getopt(ctl, argc, argv, "", longopts)) != -1) {
		if (ch != 'd' || ctl_number(ctl, "--days", optarg, 1, 36500,
		    "a number of days", &days) != 0)
			return CTL_EXIT_ERROR;
	}
	if (optind < argc)
		return ctl_usage_error(ctl, "'%s': purge takes no operand "
		    "(--days N?)", argv[optind]);
	if (days == 0)
		return ctl_usage_error(ctl, "retention is off (RetentionDays "
		    "0): give --days N");
	if (open_records(ctl, 0, &rs) != 0)
		return CTL_EXIT_ERROR;
	do {
		if (records_purge(rs, time(NULL) - (time_t)days * 86400, 1000,
		    &purged, err, sizeof(err)) != 0) {
			fprintf(stderr, "disposable-ctl: %s\n", err);
			records_close(rs);
			return CTL_EXIT_ERROR;
		}
		total += purged;
	} while (purged == 1000);
	printf("purged: %zu records last seen more than %lu days ago\n", total,
	    days);
	records_close(rs);
	return CTL_EXIT_OK;
}

/* stats: totals per category and the domains with most disposable
 * traffic. */
#define TOP_DOMAINS 10

struct agg {
	uint64_t		per_category[CAT_COUNT];
	uint64_t		messages, senders;
	size_t			ndomains;
	struct domain_aggregate	top[TOP_DOMAINS];
	size_t			ntop;
};

static uint64_t
disposable_traffic(const struct domain_aggregate *d)
{
	return d->per_category[CAT_DISPOSABLE];
}

static int
agg_visit(void *arg, const struct domain_aggregate *d)
{
	struct agg *a = arg;
	size_t i;

	a->ndomains++;
	a->messages += d->messages;
	a->senders += d->senders;
	for (int c = 0; c < CAT_COUNT; c++)
		a->per_category[c] += d->per_category[c];
	if (disposable_traffic(d) == 0)
		return 0;
	for (i = a->ntop; i > 0 &&
	    disposable_traffic(&a->top[i - 1]) < disposable_traffic(d); i--)
		if (i < TOP_DOMAINS)
			a->top[i] = a->top[i - 1];
	if (i < TOP_DOMAINS) {
		a->top[i] = *d;
		if (a->ntop < TOP_DOMAINS)
			a->ntop++;
	}
	return 0;
}

/* The aggregates as members of stats' open JSON object: "records". */
static void
json_records(struct json *j, const char *path, int created, size_t nrec,
    size_t ndom, const struct agg *a)
{
	json_open(j, "records", '{');
	json_str(j, "path", path);
	json_bool(j, "created", created);
	json_num(j, "senders", nrec);
	json_num(j, "domains", ndom);
	json_num(j, "messages", a->messages);
	json_num(j, "senders_counted", a->senders);
	json_open(j, "per_category", '{');
	for (int c = 0; c < CAT_COUNT; c++)
		if (a->per_category[c] > 0)
			json_num(j, category_name(c), a->per_category[c]);
	json_close(j, '}');
	json_open(j, "top_disposable_domains", '[');
	for (size_t i = 0; i < a->ntop; i++) {
		json_open(j, NULL, '{');
		json_str(j, "domain", a->top[i].domain);
		json_num(j, "addresses", disposable_traffic(&a->top[i]));
		json_num(j, "senders", a->top[i].senders);
		json_close(j, '}');
	}
	json_close(j, ']');
	json_close(j, '}');
}

int
cmd_records_stats(struct ctl *ctl, struct json *j)
{
	struct records *rs;
	struct agg a = { 0 };
	size_t nrec = 0, ndom = 0;
	char err[1024];

	if (open_records(ctl, 1, &rs) != 0)
		return CTL_EXIT_ERROR;
	if (rs != NULL && (records_foreach_domain(rs, agg_visit, &a, err,
	    sizeof(err)) != 0 || records_count(rs, &nrec, &ndom) != 0)) {
		fprintf(stderr, "disposable-ctl: %s\n", err);
		records_close(rs);
		return CTL_EXIT_ERROR;
	}
	if (j != NULL) {
		json_records(j, ctl->cfg.records, rs != NULL, nrec, ndom, &a);
		records_close(rs);
		return CTL_EXIT_OK;
	}
	printf("records:  %s: %zu hashed senders, %zu domains%s\n",
	    ctl->cfg.records, nrec, ndom, rs == NULL ? " (not created yet: "
	    "the daemon creates it)" : "");
	printf("messages: %llu (per domain seen), senders counted %llu\n",
	    (unsigned long long)a.messages, (unsigned long long)a.senders);
	for (int c = 0; c < CAT_COUNT; c++)
		if (a.per_category[c] > 0)
			printf("  %-12s %llu addresses\n", category_name(c),
			    (unsigned long long)a.per_category[c]);
	if (a.ntop > 0)
		printf("top domains by disposable traffic:\n");
	for (size_t i = 0; i < a.ntop; i++)
		printf("  %-40s %llu addresses, %llu senders\n",
		    a.top[i].domain,
		    (unsigned long long)disposable_traffic(&a.top[i]),
		    (unsigned long long)a.top[i].senders);
	records_close(rs);
	return CTL_EXIT_OK;
}
