/*
 * listupdate.c - judging a fetched remote list (see listupdate.h).
 *
 * A body is read line by line with the build's own rules
 * (listdb_line_entry, listdb_entry_check, listdb_fp_line_check), so that
 * whatever is kept is what a build takes: a copy this module lets through
 * never fails the build that follows.  The kept entries are gathered in
 * one growing block of text and sorted once at the end.
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

#include "domain.h"
#include "listbuild.h"
#include "listdb.h"
#include "listupdate.h"
#include "util.h"

#define STATE_MAX	65536		/* bytes of a state file read */

void
listupdate_config_default(struct listupdate_config *c)
{
	c->max_shrink = LISTUPDATE_MAX_SHRINK;
	c->max_growth = LISTUPDATE_MAX_GROWTH;
	c->timeout = LISTUPDATE_TIMEOUT;
	c->max_size = LISTUPDATE_MAX_SIZE;
}

const char *
listupdate_reason_name(enum listupdate_reason r)
{
	static const char *const names[LU_REASON_COUNT] = {
		"kept", "allowlisted", "infrastructure", "public suffix",
		"never-block", "invalid"
	};

	return (unsigned)r < LU_REASON_COUNT ? names[r] : "?";
}

/* A growing string. */
struct buf {
	char	*s;
	size_t	 len, cap;
	int	 failed;
};

static void
buf_add(struct buf *b, const char *p, size_t n)
{
	if (b->failed)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t ncap = b->cap ? b->cap : 4096;
		char *ns;

		while (ncap < b->len + n + 1)
			ncap *= 2;
		if ((ns = realloc(b->s, ncap)) == NULL) {
			b->failed = 1;
			return;
		}
		b->s = ns;
		b->cap = ncap;
	}
	memcpy(b->s + b->len, p, n);
	b->len += n;
	b->s[b->len] = '\0';
}

static void
buf_printf(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
buf_printf(struct buf *b, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0)
		b->failed = 1;
	else
		buf_add(b, line, (size_t)n < sizeof(line) ? (size_t)n :
		    sizeof(line) - 1);
}

/*
 * Sets: the entries as NUL-ended strings one after another in a buf,
 * their offsets beside; listupdate_set_finish() turns them into sorted,
 * distinct pointers.
 */
struct setbuild {
	struct buf	 text;
	size_t		*off;
	size_t		 n, cap;
};

static int
setbuild_add(struct setbuild *sb, const char *s)
{
	if (sb->n == sb->cap) {
		size_t ncap = sb->cap ? sb->cap * 2 : 1024;
		size_t *no = reallocarray(sb->off, ncap, sizeof(*no));

		if (no == NULL)
			return -1;
		sb->off = no;
		sb->cap = ncap;
	}
	sb->off[sb->n++] = sb->text.len;
	buf_add(&sb->text, s, strlen(s) + 1);
	return sb->text.failed ? -1 : 0;
}

static int
str_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Sorted and distinct; the number of repeats dropped in *dups.  Frees
 * what sb held either way. */
static int
setbuild_finish(struct setbuild *sb, struct listupdate_set *out,
    size_t *dups)
{
	size_t i, n = 0;

	memset(out, 0, sizeof(*out));
	*dups = 0;
	if (sb->n > 0 &&
	    (out->v = reallocarray(NULL, sb->n, sizeof(*out->v))) == NULL) {
		free(sb->off);
		free(sb->text.s);
		return -1;
	}
	for (i = 0; i < sb->n; i++)
		out->v[i] = sb->text.s + sb->off[i];
	if (sb->n > 0)
		qsort(out->v, sb->n, sizeof(*out->v), str_cmp);
	for (i = 0; i < sb->n; i++)
		if (n == 0 || strcmp(out->v[n - 1], out->v[i]) != 0)
			out->v[n++] = out->v[i];
	*dups = sb->n - n;
	out->n = n;
	out->text = sb->text.s;
	free(sb->off);
	return 0;
}

void
listupdate_set_free(struct listupdate_set *s)
{
	free(s->v);
	free(s->text);
	memset(s, 0, sizeof(*s));
}

/*
 * The never-block file.
 */
struct listupdate_never {
	struct listupdate_set	set;
};

int
listupdate_never_load(const char *path, struct listupdate_never **out,
    char *err, size_t errlen)
{
	struct setbuild sb = { 0 };
	struct listupdate_never *nb = NULL;
	char *line = NULL, *e, norm[DOMAIN_MAX + 1], sh[LISTDB_SHOW_MAX + 4];
	size_t cap = 0, dups;
	unsigned lineno = 0;
	ssize_t n;
	FILE *f;
	int rc;

	*out = NULL;
	if ((f = fopen(path, "re")) == NULL) {
		seterr(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	while ((n = getline(&line, &cap, f)) != -1) {
		lineno++;
		if (memchr(line, '\0', (size_t)n) != NULL) {
			seterr(err, errlen, "%s:%u: a NUL byte in the line",
			    path, lineno);
			goto fail;
		}
		if ((e = listdb_line_entry(line)) == NULL)
			continue;
		if (strchr(e, '@') != NULL) {
			seterr(err, errlen, "%s:%u: a mail address, not a "
			    "domain (not shown)", path, lineno);
			goto fail;
		}
		if ((rc = domain_normalise(e, norm)) != DOMAIN_OK) {
			seterr(err, errlen, "%s:%u: '%s' is %s", path,
			    lineno, listdb_show(e, sh, sizeof(sh)),
			    rc == DOMAIN_ENOMEM ?
			    "out of memory" : rc == DOMAIN_ELITERAL ?
			    "an IP address or address literal" :
			    "not a valid domain name");
			goto fail;
		}
		if (setbuild_add(&sb, norm) != 0) {
			seterr(err, errlen, "%s: out of memory", path);
			goto fail;
		}
	}
	if (ferror(f)) {
		seterr(err, errlen, "%s: %s", path, strerror(errno));
		goto fail;
	}
	if ((nb = calloc(1, sizeof(*nb))) == NULL) {
		seterr(err, errlen, "%s: out of memory", path);
		goto fail;
	}
	if (setbuild_finish(&sb, &nb->set, &dups) != 0) {
		seterr(err, errlen, "%s: out of memory", path);
		free(nb);
		nb = NULL;
		goto out;
	}
	*out = nb;
	goto out;
fail:
	free(sb.off);
	free(sb.text.s);
out:
	free(line);
	fclose(f);
	return *out != NULL ? 0 : -1;
}

const char *
listupdate_never_match(const struct listupdate_never *nb,
    const char *domain)
{
	const char *d = domain;
	const char *const *hit;

	if (nb == NULL)
		return NULL;
	for (; d != NULL; d = domain_parent(d))
		if ((hit = bsearch(&d, nb->set.v, nb->set.n,
		    sizeof(*nb->set.v), str_cmp)) != NULL)
			return *hit;
	return NULL;
}

void
listupdate_never_free(struct listupdate_never *nb)
{
	if (nb == NULL)
		return;
	listupdate_set_free(&nb->set);
	free(nb);
}

/*
 * Sifting.
 */

/* A line quoted in the quarantine file as a build quotes it, but never
 * one that holds an address. */
static const char *
show(const char *s, char *buf, size_t len)
{
	if (strchr(s, '@') == NULL)
		return listdb_show(s, buf, len);
	snprintf(buf, len, "(a mail address)");
	return buf;
}

/* A fingerprint line with its white space collapsed to single spaces. */
static void
collapse(const char *in, char *out, size_t len)
{
	size_t o = 0;
	int space = 0;

	for (; *in != '\0' && o + 2 < len; in++) {
		if (*in == ' ' || *in == '\t' || *in == '\r' || *in == '\v' ||
		    *in == '\f') {
			space = 1;
			continue;
		}
		if (space && o > 0)
			out[o++] = ' ';
		space = 0;
		out[o++] = *in;
	}
	out[o] = '\0';
}

struct sifting {
	enum list_kind			 kind;
	int				 block;	/* a block list, checked */
	const struct listupdate_checks	*checks;
	struct listdb_match		*m;
	struct listupdate_sift		*out;
	struct setbuild			 kept;
	struct buf			 q;
	char				*err;
	size_t				 errlen;
};

static void
quarantine(struct sifting *s, enum listupdate_reason r, const char *entry,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void
quarantine(struct sifting *s, enum listupdate_reason r, const char *entry,
    const char *fmt, ...)
{
	char detail[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	s->out->count[r]++;
	s->out->quarantined++;
	buf_printf(&s->q, "%s\t%s\t%s\n", entry, listupdate_reason_name(r),
	    detail);
}

/* A domain entry of a block list: held against the admin's never-block
 * file, the allowlist and shared infrastructure.  Returns 1 when it was
 * quarantined, 0 to keep it, -1 on a database error. */
static int
block_checks(struct sifting *s, const char *norm)
{
	const struct listupdate_checks *c = s->checks;
	const char *hit;
	char entry[DOMAIN_MAX + 16], err[256];

	if (c == NULL || !s->block)
		return 0;
	if ((hit = listupdate_never_match(c->never, norm)) != NULL) {
		quarantine(s, LU_NEVER_BLOCK, norm, "%s", hit);
		return 1;
	}
	if (c->db == NULL)
		return 0;
	if (listdb_lookup(c->db, norm, s->m, err, sizeof(err)) != 0) {
		seterr(s->err, s->errlen, "%s", err);
		return -1;
	}
	if (s->m->category == CAT_ALLOWED) {
		quarantine(s, LU_ALLOWLISTED, norm, "allow entry %s",
		    s->m->entry);
		return 1;
	}
	if (listdb_infra_domain(c->db, norm, entry, sizeof(entry))) {
		quarantine(s, LU_INFRASTRUCTURE, norm, "%s", entry);
		return 1;
	}
	return 0;
}

/* One entry line (trimmed, not empty).  0, or -1 with s->err. */
static int
sift_entry(struct sifting *s, unsigned lineno, const char *e)
{
	char norm[DOMAIN_MAX + 1], sh[LISTDB_SHOW_MAX + 4], why[512];
	char line[4096];
	enum listdb_entry r;
	int rc;

	s->out->lines++;
	if (s->kind != LIST_DOMAINS) {
		if ((rc = listdb_fp_line_check(s->kind, e, why,
		    sizeof(why))) < 0) {
			seterr(s->err, s->errlen, "out of memory");
			return -1;
		}
		if (rc > 0) {
			quarantine(s, LU_INVALID, show(e, sh, sizeof(sh)),
			    "line %u: %s", lineno, why);
			return 0;
		}
		collapse(e, line, sizeof(line));
		goto keep;
	}
	switch ((r = listdb_entry_check(e, norm))) {
	case LISTDB_ENTRY_OK:
		break;
	case LISTDB_ENTRY_NOMEM:
		seterr(s->err, s->errlen, "out of memory");
		return -1;
	case LISTDB_ENTRY_SUFFIX:
		quarantine(s, LU_PUBLIC_SUFFIX, norm, "line %u", lineno);
		return 0;
	default:
		quarantine(s, LU_INVALID, show(e, sh, sizeof(sh)),
		    "line %u: %s", lineno, listdb_entry_reason(r));
		return 0;
	}
	if ((rc = block_checks(s, norm)) != 0)
		return rc > 0 ? 0 : -1;
	snprintf(line, sizeof(line), "%s", norm);
keep:
	s->out->count[LU_KEPT]++;
	if (setbuild_add(&s->kept, line) != 0) {
		seterr(s->err, s->errlen, "out of memory");
		return -1;
	}
	return 0;
}

int
listupdate_sift(enum list_kind kind, enum category category,
    const char *body, size_t len, const struct listupdate_checks *checks,
    struct listupdate_sift *out, char *err, size_t errlen)
{
	struct sifting s;
	char *line = NULL, *e;
	size_t off = 0, cap = 0, dups;
	unsigned lineno = 0;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	memset(&s, 0, sizeof(s));
	s.kind = kind;
	s.block = kind == LIST_DOMAINS && (category == CAT_DISPOSABLE ||
	    category == CAT_RELAY);
	s.checks = checks;
	s.out = out;
	s.err = err;
	s.errlen = errlen;
	if (s.block && checks != NULL && checks->db != NULL &&
	    (s.m = malloc(sizeof(*s.m))) == NULL) {
		seterr(err, errlen, "out of memory");
		return -1;
	}
	buf_add(&s.q, "", 0);
	while (off < len) {
		const char *nl = memchr(body + off, '\n', len - off);
		size_t n = (nl != NULL ? (size_t)(nl - body) : len) - off;
		char sh[LISTDB_SHOW_MAX + 4];

		lineno++;
		if (n + 1 > cap) {
			char *nline = realloc(line, n + 1);

			if (nline == NULL) {
				seterr(err, errlen, "out of memory");
				goto out;
			}
			line = nline;
			cap = n + 1;
		}
		memcpy(line, body + off, n);
		line[n] = '\0';
		off += n + (nl != NULL);
		if (memchr(line, '\0', n) != NULL) {
			out->lines++;
			quarantine(&s, LU_INVALID, show(line, sh, sizeof(sh)),
			    "line %u: a NUL byte in the line", lineno);
			continue;
		}
		if ((e = listdb_line_entry(line)) == NULL)
			continue;
		if (sift_entry(&s, lineno, e) != 0)
			goto out;
	}
	if (s.q.failed) {
		seterr(err, errlen, "out of memory");
		goto out;
	}
	if (setbuild_finish(&s.kept, &out->kept, &dups) != 0) {
		memset(&s.kept, 0, sizeof(s.kept));
		seterr(err, errlen, "out of memory");
		goto out;
	}
	memset(&s.kept, 0, sizeof(s.kept));
	out->duplicates = dups;
	out->quarantine = s.q.s;
	out->qlen = s.q.len;
	s.q.s = NULL;
	rc = 0;
out:
	free(line);
	free(s.m);
	free(s.q.s);
	free(s.kept.off);
	free(s.kept.text.s);
	if (rc != 0)
		listupdate_sift_free(out);
	return rc;
}

void
listupdate_sift_free(struct listupdate_sift *s)
{
	listupdate_set_free(&s->kept);
	free(s->quarantine);
	memset(s, 0, sizeof(*s));
}

int
listupdate_is_html(const char *content_type, const char *body, size_t len)
{
	size_t i = 0;

	if (content_type != NULL) {
		while (*content_type == ' ' || *content_type == '\t')
			content_type++;
		if (strncasecmp(content_type, "text/html", 9) == 0 ||
		    strncasecmp(content_type, "application/xhtml", 17) == 0)
			return 1;
	}
	if (len >= 3 && memcmp(body, "\xef\xbb\xbf", 3) == 0)
		i = 3;
	while (i < len && (body[i] == ' ' || body[i] == '\t' ||
	    body[i] == '\r' || body[i] == '\n' || body[i] == '\f' ||
	    body[i] == '\v'))
		i++;
	return i < len && body[i] == '<';
}

int
listupdate_not_a_list(const struct listupdate_sift *s)
{
	return (unsigned long long)s->count[LU_INVALID] * 100 >
	    (unsigned long long)LISTUPDATE_MAX_BAD_PERCENT * s->lines;
}

enum listupdate_guard
listupdate_guard(const struct listupdate_config *c, int have_old,
    size_t old, size_t now, unsigned long *percent)
{
	unsigned long long o = old, n = now;

	*percent = 0;
	if (have_old && old > 0) {
		if (n < o) {
			*percent = (unsigned long)((o - n) * 100 / o);
			if ((o - n) * 100 > (unsigned long long)c->max_shrink
			    * o)
				return LU_GUARD_SHRINK;
		} else {
			*percent = (unsigned long)((n - o) * 100 / o);
			if ((n - o) * 100 > (unsigned long long)c->max_growth
			    * o)
				return LU_GUARD_GROWTH;
		}
	}
	return now == 0 ? LU_GUARD_EMPTY : LU_GUARD_OK;
}

void
listupdate_diff(const struct listupdate_set *old,
    const struct listupdate_set *now, size_t *added, size_t *removed)
{
	size_t i = 0, j = 0;

	*added = *removed = 0;
	while (i < old->n || j < now->n) {
		int c = i == old->n ? 1 : j == now->n ? -1 :
		    strcmp(old->v[i], now->v[j]);

		if (c < 0) {
			(*removed)++;
			i++;
		} else if (c > 0) {
			(*added)++;
			j++;
		} else {
			i++;
			j++;
		}
	}
}

/* A whole file into memory (NUL-ended), at most max bytes.  0, or -1
 * with errno set (EFBIG when larger). */
static int
read_file(const char *path, size_t max, char **text, size_t *len)
{
	struct stat st;
	size_t got = 0;
	char *t;
	FILE *f;

	*text = NULL;
	*len = 0;
	if ((f = fopen(path, "re")) == NULL)
		return -1;
	if (fstat(fileno(f), &st) != 0) {
		fclose(f);
		return -1;
	}
	if (st.st_size < 0 || (unsigned long long)st.st_size > max) {
		fclose(f);
		errno = EFBIG;
		return -1;
	}
	if ((t = malloc((size_t)st.st_size + 1)) == NULL) {
		fclose(f);
		errno = ENOMEM;
		return -1;
	}
	got = fread(t, 1, (size_t)st.st_size, f);
	if (ferror(f)) {
		free(t);
		fclose(f);
		errno = EIO;
		return -1;
	}
	fclose(f);
	t[got] = '\0';
	*text = t;
	*len = got;
	return 0;
}

int
listupdate_read_copy(const char *path, enum list_kind kind,
    enum category category, struct listupdate_set *out, int *exists,
    char *err, size_t errlen)
{
	struct listupdate_sift s;
	char *text, why[256];
	size_t len;

	memset(out, 0, sizeof(*out));
	*exists = 0;
	if (read_file(path, SIZE_MAX / 2, &text, &len) != 0) {
		if (errno == ENOENT)
			return 0;
		seterr(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	*exists = 1;
	if (listupdate_sift(kind, category, text, len, NULL, &s, why,
	    sizeof(why)) != 0) {
		seterr(err, errlen, "%s: %s", path, why);
		free(text);
		return -1;
	}
	free(text);
	*out = s.kept;
	memset(&s.kept, 0, sizeof(s.kept));
	listupdate_sift_free(&s);
	return 0;
}

int
listupdate_copy_text(const struct listupdate_sift *s, const char *source,
    const char *url, time_t when, char **text, size_t *len)
{
	struct buf b = { 0 };
	struct tm tm;
	char iso[32] = "?";

	if (gmtime_r(&when, &tm) != NULL)
		strftime(iso, sizeof(iso), "%Y-%m-%dT%H:%M:%SZ", &tm);
	buf_printf(&b, "# %s: %s\n# fetched %s by disposable-ctl update: "
	    "%zu entries, %zu quarantined (%s.quarantine)\n", source, url,
	    iso, s->kept.n, s->quarantined, source);
	for (size_t i = 0; i < s->kept.n; i++) {
		buf_add(&b, s->kept.v[i], strlen(s->kept.v[i]));
		buf_add(&b, "\n", 1);
	}
	if (b.failed) {
		free(b.s);
		return -1;
	}
	*text = b.s;
	*len = b.len;
	return 0;
}

/*
 * State files.
 */

int
listupdate_state_set_validator(char *dst, size_t dstlen, const char *value)
{
	size_t n = strlen(value);

	dst[0] = '\0';
	if (n == 0 || n >= dstlen)
		return -1;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)value[i] < 0x20 ||
		    (unsigned char)value[i] > 0x7e)
			return -1;
	memcpy(dst, value, n + 1);
	return 0;
}

int
listupdate_state_read(const char *path, struct listupdate_state *st,
    int *exists, char *err, size_t errlen)
{
	char *text, *line, *save = NULL;
	size_t len;

	memset(st, 0, sizeof(*st));
	*exists = 0;
	if (read_file(path, STATE_MAX, &text, &len) != 0) {
		if (errno == ENOENT)
			return 0;
		seterr(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	*exists = 1;
	for (line = strtok_r(text, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		char *v = strchr(line, ' ');

		if (line[0] == '#' || v == NULL)
			continue;
		*v++ = '\0';
		if (strcmp(line, "url") == 0)
			(void)listupdate_state_set_validator(st->url,
			    sizeof(st->url), v);
		else if (strcmp(line, "etag") == 0)
			(void)listupdate_state_set_validator(st->etag,
			    sizeof(st->etag), v);
		else if (strcmp(line, "last-modified") == 0)
			(void)listupdate_state_set_validator(
			    st->last_modified, sizeof(st->last_modified), v);
		else if (strcmp(line, "fetched") == 0)
			st->fetched = (time_t)strtoll(v, NULL, 10);
		else if (strcmp(line, "entries") == 0)
			st->entries = (size_t)strtoull(v, NULL, 10);
		else if (strcmp(line, "sha256") == 0 && strlen(v) == 64 &&
		    strspn(v, "0123456789abcdef") == 64)
			memcpy(st->sha256, v, 65);
	}
	free(text);
	return 0;
}

size_t
listupdate_state_format(const struct listupdate_state *st, char *buf,
    size_t len)
{
	struct tm tm;
	char iso[32] = "?";
	int n;

	if (gmtime_r(&st->fetched, &tm) != NULL)
		strftime(iso, sizeof(iso), "%Y-%m-%dT%H:%M:%SZ", &tm);
	n = snprintf(buf, len, "# disposable-ctl update: the last good fetch "
	    "of this remote list; rewritten by each update\n"
	    "url %s\n%s%s%s%s%s%s"
	    "fetched %lld %s\nentries %zu\nsha256 %s\n", st->url,
	    st->etag[0] ? "etag " : "", st->etag, st->etag[0] ? "\n" : "",
	    st->last_modified[0] ? "last-modified " : "", st->last_modified,
	    st->last_modified[0] ? "\n" : "", (long long)st->fetched, iso,
	    st->entries, st->sha256);
	return n < 0 ? 0 : (size_t)n;
}

void
listupdate_sha256_hex(const void *data, size_t len, char out[65])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;

	out[0] = '\0';
	if (EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL) != 1 ||
	    mdlen != 32)
		return;
	for (unsigned i = 0; i < 32; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 0xf];
	}
	out[64] = '\0';
}
