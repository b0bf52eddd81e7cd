/*
 * cmd-check.c - check: classify a file of addresses (a list operator's
 * subscriber file) as the daemon would, one line out per address.
 *
 * A line is what subscriber exports hold: an address, "Name <addr>",
 * "\"Anne Person\" <addr>" (mailman members), a CSV record with the
 * address in one field; addr_parse_line reads it, the header parser
 * again.  A first line with no address and no "@" is the header row of
 * a CSV export, skipped (and said so); any other line without exactly
 * one address is invalid, said with its number.
 *
 * Lines are read in batches: the domains of one batch the lists left
 * clean are looked up in DNS together, in parallel.  A DNS check of a few
 * thousand lines takes minutes: on a terminal a progress bar counts the
 * lines done (of those the file has, when it is a file and not a pipe).
 *
 * Hashes are identity.h's, under the keys of KeyFile: --hashed prints
 * the hash under the newest key with that key's id (--all-keys: a line
 * per key, newest first, for logs and records older than a rotation);
 * --match-hashes FILE prints the addresses whose hash under any key is
 * listed in FILE (recheck's output, say).
 *
 * --json prints JSON Lines, one object per line read, as each batch is
 * done: the same facts as the text, with the sources and their tiers.
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "classify.h"
#include "ctl.h"
#include "dns.h"
#include "identity.h"

#define CHECK_BATCH 64

struct check_line {
	size_t		 lineno;
	char		*text;		/* as typed, for the admin's eyes:
					   into line */
	char		*line;		/* getline's buffer, kept per slot */
	size_t		 cap;
	const char	*invalid;	/* why it holds no address, or NULL */
	struct verdict	 v;		/* hash under the newest key */
	unsigned char	 hash[HASH_MAX_KEYS][HASH_LEN];	/* under key i */
};

struct check {
	struct ctl		*ctl;
	struct listdb		*db;
	struct hash_keyring	 ring;
	int			 hashed, all_keys, use_dns, matching, json;
	unsigned char		(*want)[HASH_LEN];	/* --match-hashes, sorted */
	size_t			 nwant;
	size_t			 found;		/* addresses listed (matched) */
	size_t			 read;		/* lines read */
	struct progress		 pg;
};

static int
hash_cmp(const void *a, const void *b)
{
	return memcmp(a, b, HASH_LEN);
}

/* The hashes to match: the first column of each line that is not blank
 * or a comment must be 64 hex digits. */
static int
read_hashes(struct check *ck, const char *path)
{
	char *line = NULL, *tok;
	size_t cap = 0, lineno = 0, room = 0;
	FILE *f;
	int rc = 0;

	if ((f = fopen(path, "r")) == NULL) {
		fprintf(stderr, "disposable-ctl: %s: %s\n", path,
		    strerror(errno));
		return -1;
	}
	while (rc == 0 && getline(&line, &cap, f) != -1) {
		lineno++;
		tok = line + strspn(line, " \t");
		if (*tok == '#' || *tok == '\n' || *tok == '\0')
			continue;
		tok[strcspn(tok, " \t\r\n")] = '\0';
		if (ck->nwant == room) {
			size_t nroom = room ? 2 * room : 256;
			void *nv = reallocarray(ck->want, nroom, HASH_LEN);

			if (nv == NULL) {
				fprintf(stderr, "disposable-ctl: out of "
				    "memory\n");
				rc = -1;
				break;
			}
			ck->want = nv;
			room = nroom;
		}
		if (hash_from_hex(tok, ck->want[ck->nwant]) != 0) {
			fprintf(stderr, "%s:%zu: the first column is not a "
			    "hash (64 hex digits)\n", path, lineno);
			rc = -1;
		} else
			ck->nwant++;
	}
	free(line);
	fclose(f);
	if (rc == 0 && ck->nwant > 0)
		qsort(ck->want, ck->nwant, HASH_LEN, hash_cmp);
	return rc;
}

/* Under which key, if any, line l's address hashes to a wanted hash. */
static int
wanted(const struct check *ck, const struct check_line *l)
{
	for (size_t k = 0; k < ck->ring.n && ck->nwant > 0; k++)
		if (bsearch(l->hash[k], ck->want, ck->nwant, HASH_LEN,
		    hash_cmp) != NULL)
			return 1;
	return 0;
}

/* What a line adds to the exit status: 1 for an address listed (or, with
 * --match-hashes, matched). */
static int
line_found(const struct check *ck, const struct check_line *l)
{
	if (l->invalid != NULL)
		return 0;
	if (ck->matching)
		return wanted(ck, l);
	return l->v.category != CAT_CLEAN && l->v.category != CAT_ALLOWED;
}

/* print_line's facts as one line of JSON. */
static void
json_line(const struct check *ck, const struct check_line *l)
{
	const struct verdict *v = &l->v;
	char hex[HASH_HEX_LEN + 1];
	struct json j;

	json_start(&j, stdout);
	json_open(&j, NULL, '{');
	json_num(&j, "line", l->lineno);
	/* --hashed: the output may be kept or shared, the address not. */
	json_str(&j, "input", ck->hashed ? NULL : l->text);
	if (l->invalid != NULL) {
		json_str(&j, "category", "invalid");
		json_str(&j, "invalid", l->invalid);
	} else {
		json_str(&j, "category", category_name(v->category));
		json_str(&j, "action", action_name(
		    ck->ctl->cfg.policy.action[v->category]));
		json_str(&j, "match", v->why[0] ? v->why : NULL);
		json_str(&j, "confidence", v->confidence);
		json_bool(&j, "dns", v->dns);
		if (v->match.category != CAT_CLEAN) {
			json_str(&j, "listed", category_name(v->match.category));
			json_bool(&j, "decides", v->match.category ==
			    CAT_ALLOWED || v->match.decided);
			ctl_json_sources(&j, &v->match);
		}
		if (ck->hashed) {
			json_open(&j, "hashes", '[');
			for (size_t k = ck->ring.n; k-- > 0; ) {
				hash_to_hex(l->hash[k], hex);
				json_open(&j, NULL, '{');
				json_str(&j, "hash", hex);
				json_num(&j, "key_id", ck->ring.k[k].id);
				json_close(&j, '}');
				if (!ck->all_keys)
					break;
			}
			json_close(&j, ']');
		}
	}
	json_close(&j, '}');
	putchar('\n');
}

static void
print_line(const struct check *ck, const struct check_line *l)
{
	const char *cat = l->invalid ? "invalid" : category_name(l->v.category);
	const char *why = l->invalid ? l->invalid : l->v.why[0] ? l->v.why :
	    "-";
	char hex[HASH_HEX_LEN + 1];

	if (ck->matching && (l->invalid != NULL || !wanted(ck, l)))
		return;
	if (ck->json) {
		json_line(ck, l);
		return;
	}
	if (!ck->hashed) {	/* --match-hashes among them */
		/* A million lines: printf's parsing of its format shows. */
		fputs_unlocked(l->text, stdout);
		putc_unlocked('\t', stdout);
		fputs_unlocked(cat, stdout);
		putc_unlocked('\t', stdout);
		fputs_unlocked(why, stdout);
		putc_unlocked('\n', stdout);
		return;
	}
	if (l->invalid != NULL) {
		printf("-\tinvalid\t%s\t-\n", why);
		return;
	}
	/* Newest key first: the one the daemon hashes with now. */
	for (size_t k = ck->ring.n; k-- > 0; ) {
		hash_to_hex(l->hash[k], hex);
		printf("%s\t%s\t%s\t%u\n", hex, cat, why, ck->ring.k[k].id);
		if (!ck->all_keys)
			break;
	}
}

static int
check_flush(struct check *ck, struct check_line *b, size_t n)
{
	struct verdict *vs;
	struct dns_session *sess;
	char err[1024];
	int rc = 0;

	if (n == 0)
		return 0;
	if (ck->use_dns) {
		if ((vs = calloc(n, sizeof(*vs))) == NULL ||
		    (sess = dns_session_new(0, err, sizeof(err))) == NULL) {
			free(vs);
			fprintf(stderr, "disposable-ctl: out of memory\n");
			return -1;
		}
		for (size_t i = 0; i < n; i++)
			vs[i] = b[i].v;
		if (classify_infra(ck->db, sess, 1, vs, n, err,
		    sizeof(err)) != 0) {
			fprintf(stderr, "disposable-ctl: %s\n", err);
			rc = -1;
		} else
			for (size_t i = 0; i < n; i++)
				b[i].v = vs[i];
		dns_session_free(sess);
		free(vs);
	}
	progress_clear(&ck->pg);
	for (size_t i = 0; i < n; i++) {
		ck->found += line_found(ck, &b[i]);
		print_line(ck, &b[i]);
	}
	fflush(stdout);
	progress_update(&ck->pg, ck->read);
	return rc;
}

/* Classify one address under the newest key, and hash it under each. */
static int
check_address(struct check *ck, const struct addr *a, struct check_line *l,
    char *err, size_t errlen)
{
	const struct hash_keyring *r = &ck->ring;
	char sep = ck->ctl->cfg.policy.subaddr_sep;
	struct identity id;

	/* Hashes are printed or matched, or not made. */
	if (!ck->hashed && !ck->matching)
		return classify_address(ck->db, NULL, &ck->ctl->cfg.policy, a,
		    ROLE_ENVELOPE, &l->v, err, errlen);
	if (classify_address(ck->db, &r->k[r->n - 1], &ck->ctl->cfg.policy, a,
	    ROLE_ENVELOPE, &l->v, err, errlen) != 0)
		return -1;
	memcpy(l->hash[r->n - 1], l->v.hash, HASH_LEN);
	for (size_t k = 0; k + 1 < r->n; k++) {
		if (identity_make(a, sep, &r->k[k], &id) != 0) {
			snprintf(err, errlen, "cannot hash address");
			return -1;
		}
		memcpy(l->hash[k], id.hash, HASH_LEN);
	}
	return 0;
}

/* The number of lines of f from where it is, when it is a file (a pipe
 * cannot be read twice), or 0. */
static size_t
count_lines(FILE *f)
{
	struct stat st;
	char buf[65536];
	size_t n, lines = 0;
	off_t at;
	int last = '\n';

	if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode) ||
	    (at = ftello(f)) == -1)
		return 0;
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0) {
		for (const char *p = buf; (p = memchr(p, '\n',
		    n - (size_t)(p - buf))) != NULL; p++)
			lines++;
		last = buf[n - 1];
	}
	lines += last != '\n';
	return fseeko(f, at, SEEK_SET) == 0 ? lines : 0;
}

int
cmd_check(struct ctl *ctl, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "hashed", no_argument, NULL, 'H' },
		{ "all-keys", no_argument, NULL, 'a' },
		{ "match-hashes", required_argument, NULL, 'm' },
		{ "no-dns", no_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 }
	};
	struct check ck = { .ctl = ctl, .use_dns = ctl->cfg.dns_enabled };
	struct check_line *batch = NULL;
	const char *name = "stdin", *match = NULL;
	char err[1024];
	size_t lineno = 0, bad = 0, n = 0;
	FILE *f = stdin;
	int ch, pr, rc = 0, data = 0;

	while ((ch = ctl_getopt(ctl, argc, argv, "", longopts)) != -1) {
		switch (ch) {
		case 'H': ck.hashed = 1; break;
		case 'a': ck.all_keys = 1; break;
		case 'm': match = optarg; break;
		case 'n': ck.use_dns = 0; break;
		case 'j': ck.json = 1; break;
		default: return CTL_EXIT_ERROR;
		}
	}
	if (optind < argc)
		name = argv[optind++];
	if (optind < argc)
		return ctl_usage_error(ctl, "one file at most: '%s' is a "
		    "second", argv[optind]);
	if (ck.all_keys && !ck.hashed)
		return ctl_usage_error(ctl, "--all-keys goes with --hashed");
	if (match != NULL && ck.hashed)
		return ctl_usage_error(ctl, "--match-hashes prints addresses, "
		    "--hashed hashes: one or the other");
	/* The daemon's keys, so that hashes match its logs and records. */
	if (ctl_load_keys(ctl, &ck.ring) != 0)
		return CTL_EXIT_ERROR;
	ck.matching = match != NULL;
	if (match != NULL && read_hashes(&ck, match) != 0) {
		explicit_bzero(&ck.ring, sizeof(ck.ring));
		return CTL_EXIT_ERROR;
	}
	if (strcmp(name, "stdin") != 0 && (f = fopen(name, "r")) == NULL) {
		fprintf(stderr, "disposable-ctl: %s: %s\n", name,
		    strerror(errno));
		rc = -1;
		goto out;
	}
	if ((batch = calloc(CHECK_BATCH, sizeof(*batch))) == NULL) {
		fprintf(stderr, "disposable-ctl: out of memory\n");
		rc = -1;
		goto out;
	}
	if (ctl_open_db(ctl, &ck.db) != 0 ||
	    (ck.use_dns && ctl_init_dns(ctl) != 0)) {
		rc = -1;
		goto out;
	}
	/* Without DNS a check is over in seconds. */
	progress_start(&ck.pg, "lines", ck.use_dns ? count_lines(f) : 0,
	    ck.use_dns);
	while (rc == 0 && getline(&batch[n].line, &batch[n].cap, f) != -1) {
		struct check_line *cl = &batch[n];
		struct addr a;
		char *p = cl->line, *e;

		ck.read = ++lineno;
		while (*p == ' ' || *p == '\t')
			p++;
		e = p + strlen(p);
		while (e > p && (e[-1] == '\n' || e[-1] == '\r' ||
		    e[-1] == ' ' || e[-1] == '\t'))
			*--e = '\0';
		/* A spreadsheet's export starts with a byte order mark. */
		if (lineno == 1 && strncmp(p, "\xef\xbb\xbf", 3) == 0)
			p += 3;
		if (*p == '\0' || *p == '#')
			continue;
		/* Not memset: a line is 6 KB, and the verdict is cleared (or
		 * written whole) below. */
		cl->lineno = lineno;
		cl->text = p;
		cl->invalid = NULL;
		if ((pr = addr_parse_line(p, &a)) == ADDR_ENOMEM) {
			fprintf(stderr, "disposable-ctl: out of memory\n");
			rc = -1;
			break;
		}
		if (pr == ADDR_ESYNTAX && !data && strchr(p, '@') == NULL) {
			fprintf(stderr, "%s:%zu: no address: taken for a "
			    "header row and skipped\n", name, lineno);
			data = 1;
			continue;
		}
		data = 1;
		if (pr != ADDR_OK) {
			cl->invalid = pr == ADDR_EMANY ? "more than one address" :
			    "not a mail address";
			verdict_clear(&cl->v);
			fprintf(stderr, "%s:%zu: %s\n", name, lineno,
			    cl->invalid);
			bad++;
		} else {
			if (check_address(&ck, &a, cl, err, sizeof(err)) != 0) {
				fprintf(stderr, "%s:%zu: %s\n", name, lineno,
				    err);
				rc = -1;
			}
			addr_free(&a);
		}
		if (++n == CHECK_BATCH || rc != 0) {
			if (check_flush(&ck, batch, n) != 0)
				rc = -1;
			n = 0;
		}
	}
	if (check_flush(&ck, batch, n) != 0)
		rc = -1;
	progress_update(&ck.pg, ck.read);	/* comments after the last */
	progress_end(&ck.pg);
	listdb_close(ck.db);
out:
	for (size_t i = 0; batch != NULL && i < CHECK_BATCH; i++) {
		if (batch[i].line != NULL)
			explicit_bzero(batch[i].line, batch[i].cap);
		free(batch[i].line);
	}
	free(batch);
	if (f != stdin && f != NULL)
		fclose(f);
	free(ck.want);
	explicit_bzero(&ck.ring, sizeof(ck.ring));
	if (rc < 0)
		return CTL_EXIT_ERROR;
	return bad > 0 || ck.found > 0 ? CTL_EXIT_FOUND : CTL_EXIT_OK;
}
