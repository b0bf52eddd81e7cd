/*
 * test_metrics.c - counters, the Prometheus text exposition (checked by a
 * strict parser of format 0.0.4 written here: no prometheus_client on
 * this machine), the atomic file write, and exact counts from threads.
 * The failing-write checks that need an unwritable directory run only
 * when not root; a missing directory and a file in the way run always.
 */
#include "config.h"

#include <sys/stat.h>

#include <ctype.h>
#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "metrics.h"
#include "t.h"

#define P "disposable_milter_"

/* --- a strict checker of the text exposition format ------------------- */

#define MAXSERIES 1024
#define MAXFAM 64

struct expo {
	int	nseries, nfam;
	char	series[MAXSERIES][256];	/* name{labels} as written */
	double	value[MAXSERIES];
	char	fam[MAXFAM][128];
	char	famtype[MAXFAM][16];
	int	famhelp[MAXFAM], famdone[MAXFAM], famseries[MAXFAM];
	char	why[1200];		/* first problem */
};

static int
is_name_start(int c, int colon)
{
	return isalpha(c) || c == '_' || (colon && c == ':');
}

static int
is_name_char(int c, int colon)
{
	return isalnum(c) || c == '_' || (colon && c == ':');
}

/* Length of a metric name (colon) or label name at s; 0 if none. */
static size_t
name_len(const char *s, int colon)
{
	size_t n = 0;

	if (!is_name_start((unsigned char)s[0], colon))
		return 0;
	while (is_name_char((unsigned char)s[n], colon))
		n++;
	return n;
}

static int
find_fam(struct expo *x, const char *name, size_t len)
{
	for (int i = 0; i < x->nfam; i++)
		if (strlen(x->fam[i]) == len && strncmp(x->fam[i], name, len) == 0)
			return i;
	return -1;
}

/* A value: an integer or decimal float, or NaN/+Inf/-Inf. */
static int
parse_value(const char *s, double *v)
{
	char *end;

	if (strcmp(s, "NaN") == 0 || strcmp(s, "+Inf") == 0 ||
	    strcmp(s, "-Inf") == 0) {
		*v = 0;
		return 0;
	}
	if (*s != '-' && !isdigit((unsigned char)*s))
		return -1;
	*v = strtod(s, &end);
	return *end == '\0' ? 0 : -1;
}

#define BAD(...) do {							\
	snprintf(x->why, sizeof(x->why), __VA_ARGS__);			\
	return -1;							\
} while (0)

static const char *const hsuffix[] = { "_bucket", "_sum", "_count", NULL };

static int
check_line(struct expo *x, const char *line, int lineno, int *cur)
{
	const char *s = line, *lab, *suffix;
	size_t n;
	int f;

	if (strncmp(s, "# HELP ", 7) == 0 || strncmp(s, "# TYPE ", 7) == 0) {
		int help = s[2] == 'H';

		s += 7;
		if ((n = name_len(s, 1)) == 0 || s[n] != ' ')
			BAD("line %d: bad name in %s", lineno, line);
		if ((f = find_fam(x, s, n)) == -1) {
			if (x->nfam == MAXFAM)
				BAD("too many families");
			f = x->nfam++;
			snprintf(x->fam[f], sizeof(x->fam[f]), "%.*s", (int)n, s);
		}
		if (x->famdone[f] || x->famseries[f] > 0)
			BAD("line %d: %s after the family's series", lineno,
			    line);
		if (help) {
			if (x->famhelp[f]++)
				BAD("line %d: second HELP for %s", lineno,
				    x->fam[f]);
		} else {
			if (x->famtype[f][0] != '\0')
				BAD("line %d: second TYPE for %s", lineno,
				    x->fam[f]);
			s += n + 1;
			if (strcmp(s, "counter") != 0 && strcmp(s, "gauge") != 0 &&
			    strcmp(s, "untyped") != 0 &&
			    strcmp(s, "histogram") != 0)
				BAD("line %d: type %s", lineno, s);
			snprintf(x->famtype[f], sizeof(x->famtype[f]), "%s", s);
		}
		*cur = f;
		return 0;
	}
	if (*s == '#')
		return 0;		/* a plain comment */
	if ((n = name_len(s, 1)) == 0)
		BAD("line %d: no metric name: %s", lineno, line);
	/* A histogram's series are its name + _bucket, _sum or _count,
	 * and nothing else. */
	suffix = NULL;
	if ((f = find_fam(x, s, n)) != -1 &&
	    strcmp(x->famtype[f], "histogram") == 0)
		BAD("line %d: histogram series without a suffix: %s", lineno,
		    line);
	for (int i = 0; f == -1 && hsuffix[i] != NULL; i++) {
		size_t k = strlen(hsuffix[i]);

		if (n > k && strncmp(s + n - k, hsuffix[i], k) == 0 &&
		    (f = find_fam(x, s, n - k)) != -1) {
			if (strcmp(x->famtype[f], "histogram") != 0)
				f = -1;
			else
				suffix = hsuffix[i];
		}
	}
	if (f == -1 || !x->famhelp[f] || x->famtype[f][0] == '\0')
		BAD("line %d: series without HELP and TYPE before it: %s",
		    lineno, line);
	if (suffix != NULL && strcmp(suffix, "_bucket") == 0 &&
	    strstr(s + n, "le=\"") == NULL)
		BAD("line %d: a bucket without le: %s", lineno, line);
	if (suffix != NULL && strcmp(suffix, "_bucket") != 0 && s[n] == '{')
		BAD("line %d: labels on a histogram's sum or count: %s",
		    lineno, line);
	if (f != *cur)
		BAD("line %d: series of %s not grouped with its family",
		    lineno, x->fam[f]);
	if (strcmp(x->famtype[f], "counter") == 0 &&
	    (n < 6 || strncmp(s + n - 6, "_total", 6) != 0))
		BAD("line %d: counter without _total: %s", lineno, line);
	s += n;
	if (*s == '{') {
		s++;
		while (*s != '}') {
			if ((n = name_len(s, 0)) == 0 || s[n] != '=' ||
			    s[n + 1] != '"')
				BAD("line %d: bad label at column %d", lineno,
				    (int)(s - line) + 1);
			for (lab = s + n + 2; *lab != '"'; lab++) {
				if (*lab == '\0')
					BAD("line %d: unterminated label value",
					    lineno);
				if (*lab == '\\') {
					lab++;
					if (*lab != '\\' && *lab != '"' &&
					    *lab != 'n')
						BAD("line %d: bad escape", lineno);
				}
			}
			s = lab + 1;
			if (*s == ',')
				s++;
			else if (*s != '}')
				BAD("line %d: expected , or } at column %d",
				    lineno, (int)(s - line) + 1);
		}
		s++;
	}
	if (*s != ' ')
		BAD("line %d: no single space before the value", lineno);
	n = (size_t)(s - line);
	if (x->nseries == MAXSERIES || n >= sizeof(x->series[0]))
		BAD("line %d: too many or too long series", lineno);
	snprintf(x->series[x->nseries], sizeof(x->series[0]), "%.*s", (int)n,
	    line);
	for (int i = 0; i < x->nseries; i++)
		if (strcmp(x->series[i], x->series[x->nseries]) == 0)
			BAD("line %d: duplicate series %s", lineno,
			    x->series[i]);
	if (parse_value(s + 1, &x->value[x->nseries]) != 0)
		BAD("line %d: bad value '%s'", lineno, s + 1);
	x->nseries++;
	x->famseries[f]++;
	return 0;
}

/* Parse text; 0 when every line is valid, else -1 with x->why. */
static int
expo_parse(struct expo *x, const char *text)
{
	char line[1024];
	const char *p = text, *eol;
	int lineno = 0, cur = -1;

	memset(x, 0, sizeof(*x));
	if (*text == '\0' || text[strlen(text) - 1] != '\n') {
		snprintf(x->why, sizeof(x->why), "no final newline");
		return -1;
	}
	for (; *p != '\0'; p = eol + 1) {
		eol = strchr(p, '\n');
		lineno++;
		if ((size_t)(eol - p) >= sizeof(line)) {
			snprintf(x->why, sizeof(x->why), "line %d too long",
			    lineno);
			return -1;
		}
		memcpy(line, p, (size_t)(eol - p));
		line[eol - p] = '\0';
		if (line[0] == '\0' || strchr(line, '\r') != NULL) {
			snprintf(x->why, sizeof(x->why), "line %d: empty or "
			    "CR", lineno);
			return -1;
		}
		if (check_line(x, line, lineno, &cur) != 0)
			return -1;
		/* A family whose series have started is closed once another
		 * family begins. */
		for (int f = 0; f < x->nfam; f++)
			if (f != cur && x->famseries[f] > 0)
				x->famdone[f] = 1;
	}
	for (int f = 0; f < x->nfam; f++)
		if (!x->famhelp[f] || x->famtype[f][0] == '\0') {
			snprintf(x->why, sizeof(x->why), "family %s lacks "
			    "HELP or TYPE", x->fam[f]);
			return -1;
		}
	return 0;
}

/* Value of a series, or -1 if absent. */
static double
expo_value(const struct expo *x, const char *series)
{
	for (int i = 0; i < x->nseries; i++)
		if (strcmp(x->series[i], series) == 0)
			return x->value[i];
	return -1;
}

static double
msgs(const struct expo *x, const char *a, const char *c, const char *r)
{
	char s[256];

	snprintf(s, sizeof(s), P "messages_total{action=\"%s\",category=\"%s\","
	    "role=\"%s\"}", a, c, r);
	return expo_value(x, s);
}

static struct expo ex;	/* large: not on the stack */

/* The checker itself must fail on what is wrong, or it proves nothing. */
static void
test_checker(void)
{
	static const char *const bad[] = {
		"x_total 1\n",					/* no HELP/TYPE */
		"# HELP x_total h\nx_total 1\n",		/* no TYPE */
		"# TYPE x_total counter\nx_total 1\n",		/* no HELP */
		"# HELP x h\n# TYPE x counter\nx 1\n",		/* _total */
		"# HELP x h\n# TYPE x gauge\nx 1\nx 2\n",	/* duplicate */
		"# HELP x h\n# TYPE x gauge\nx{a=\"1\"} 1\n"
		    "x{a=\"1\"} 2\n",				/* duplicate */
		"# HELP x h\n# TYPE x gauge\nx 1",		/* no newline */
		"# HELP x h\n# TYPE x gauge\nx  1\n",		/* two spaces */
		"# HELP x h\n# TYPE x gauge\nx one\n",		/* value */
		"# HELP x h\n# TYPE x gauge\nx{a=1} 1\n",	/* unquoted */
		"# HELP x h\n# TYPE x gauge\nx{a=\"\\q\"} 1\n",	/* escape */
		"# HELP x h\n# TYPE x gauge\nx{a=\"1\" 1\n",	/* no } */
		"# HELP x h\n# TYPE x gauge\n# HELP x h\nx 1\n", /* 2 HELP */
		"# HELP x h\n# TYPE x gauge\n# TYPE x gauge\nx 1\n",
		"# HELP x h\n# TYPE x gauge\nx 1\n# HELP y h\n"
		    "# TYPE y gauge\ny 1\nx{a=\"b\"} 1\n",	/* not grouped */
		"# HELP 1x h\n# TYPE 1x gauge\n1x 1\n",		/* name */
		"# HELP x h\n# TYPE x gaug\nx 1\n",		/* type */
		"# HELP x h\n# TYPE x gauge\n\nx 1\n",		/* blank line */
		"# HELP h h\n# TYPE h histogram\nh 1\n",	/* no suffix */
		"# HELP h h\n# TYPE h histogram\nh_bucket 1\n",	/* no le */
		"# HELP h h\n# TYPE h histogram\nh_sum{a=\"1\"} 1\n",
		"# HELP h h\n# TYPE h gauge\nh_count 1\n",	/* not one */
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = expo_parse(&ex, bad[i]);

		CHECK_INT(rc, -1);
		if (rc == 0)
			fprintf(stderr, "checker accepted bad input %zu\n", i);
	}
	CHECK_INT(expo_parse(&ex, "# HELP x h\n# TYPE x gauge\n"
	    "x{a=\"q\\\"\\\\\\n\",b=\"\"} -1.5e3\n# just a comment\n"
	    "# HELP y_total h\n# TYPE y_total counter\ny_total 0\n"), 0);
	CHECK_INT(ex.nseries, 2);
	CHECK(expo_value(&ex, "x{a=\"q\\\"\\\\\\n\",b=\"\"}") == -1500);
	CHECK_INT(expo_parse(&ex, "# HELP h h\n# TYPE h histogram\n"
	    "h_bucket{le=\"1\"} 0\nh_bucket{le=\"+Inf\"} 2\nh_sum 3.5\n"
	    "h_count 2\n"), 0);
	CHECK_INT(ex.nseries, 4);
}

/* The histogram name as a histogram: buckets in increasing le order with
 * non-decreasing counts, +Inf last and equal to _count, and as many
 * buckets as the bounds given (+Inf apart).  0 or -1 (with why). */
static int
histogram_ok(const struct expo *x, const char *name, int bounds,
    char *why, size_t len)
{
	char bucket[128], series[256];
	double last_le = -1, last = 0, le, count;
	int nb = 0;

	snprintf(bucket, sizeof(bucket), "%s_bucket{le=\"", name);
	for (int i = 0; i < x->nseries; i++) {
		if (strncmp(x->series[i], bucket, strlen(bucket)) != 0)
			continue;
		if (strcmp(x->series[i] + strlen(bucket), "+Inf\"}") == 0)
			le = 1e300;
		else
			le = strtod(x->series[i] + strlen(bucket), NULL);
		if (le <= last_le || x->value[i] < last) {
			snprintf(why, len, "%s out of order", x->series[i]);
			return -1;
		}
		last_le = le;
		last = x->value[i];
		nb++;
	}
	snprintf(series, sizeof(series), "%s_count", name);
	count = expo_value(x, series);
	if (last_le != 1e300 || nb != bounds + 1 || count != last) {
		snprintf(why, len, "%d buckets, +Inf %s, count %g against %g",
		    nb, last_le == 1e300 ? "last" : "missing", count, last);
		return -1;
	}
	return 0;
}

static void
extra_init(struct metrics_extra *x)
{
	memset(x, 0, sizeof(*x));
	x->now = 1700000500;
	x->started = 1700000000;
	x->dns.queries = 11;
	x->dns.cache_hits = 22;
	x->dns.timeouts = 3;
	x->dns.failures = 4;
	x->db_built = 1700000400;
	x->db_entries = 209000;
	x->db_fingerprints = 17;
	/* 3 lookups of at most 1 ms, 2 of at most 50 ms, 1 past 10 s. */
	x->dns.latency[0] = 3;
	x->dns.latency[5] = 2;
	x->dns.latency[DNS_LATENCY_BUCKETS] = 1;
	x->dns.latency_sum_us = 12345678;
	x->dns.channels_created = 5;
	x->spf.cache_hits = 31;
	x->spf.cache_misses = 9;
}

static void
test_render(void)
{
	struct metrics_extra x;
	char *text, sum[1024];

	metrics_reset();
	extra_init(&x);
	metrics_count_message(ACT_REJECT, CAT_DISPOSABLE, ROLE_ENVELOPE);
	metrics_count_message(ACT_REJECT, CAT_DISPOSABLE, ROLE_ENVELOPE);
	metrics_count_message(ACT_REJECT, CAT_DISPOSABLE, ROLE_REPLY_TO);
	metrics_count_message(ACT_TAG, CAT_RELAY, ROLE_FROM);
	metrics_count_message(ACT_ACCEPT, CAT_CLEAN, ROLE_ENVELOPE);
	metrics_count_message(ACT_ACCEPT, CAT_CLEAN, ROLE_ENVELOPE);
	metrics_count_message(ACT_ACCEPT, CAT_CLEAN, ROLE_ENVELOPE);
	metrics_count_error();
	metrics_count_reload(1);
	metrics_count_reload(1);
	metrics_count_reload(0);
	/* Out of range: ignored, not a write past the table. */
	metrics_count_message(ACT_COUNT, CAT_CLEAN, ROLE_ENVELOPE);
	metrics_count_message(ACT_ACCEPT, CAT_COUNT, ROLE_ENVELOPE);
	metrics_count_message(ACT_ACCEPT, CAT_CLEAN, ROLE_COUNT);

	text = metrics_render(&x);
	CHECK(text != NULL);
	if (text == NULL)
		return;
	if (expo_parse(&ex, text) != 0) {
		CHECK(!"rendering parses");
		fprintf(stderr, "checker: %s\n--- rendering:\n%s", ex.why, text);
	}
	/* Every combination is present, the counted ones with their counts. */
	CHECK_INT(ex.nseries, ACT_COUNT * CAT_COUNT * ROLE_COUNT + 1 + 4 +
	    DNS_LATENCY_BUCKETS + 3 + 3 + 2 + 1 + 1 + 2 + 1 + 1);
	CHECK(msgs(&ex, "reject", "disposable", "envelope") == 2);
	CHECK(msgs(&ex, "reject", "disposable", "reply-to") == 1);
	CHECK(msgs(&ex, "tag", "relay", "from") == 1);
	CHECK(msgs(&ex, "accept", "clean", "envelope") == 3);
	CHECK(msgs(&ex, "accept", "clean", "from") == 0);
	CHECK(msgs(&ex, "tempfail", "unknown",
	    "disposition-notification-to") == 0);
	{
		double total = 0;

		for (int i = 0; i < ex.nseries; i++)
			if (strncmp(ex.series[i], P "messages_total{", 31) == 0)
				total += ex.value[i];
		CHECK(total == 7);
	}
	CHECK(expo_value(&ex, P "errors_total") == 1);
	CHECK(expo_value(&ex, P "dns_queries_total") == 11);
	CHECK(expo_value(&ex, P "dns_cache_hits_total") == 22);
	CHECK(expo_value(&ex, P "dns_timeouts_total") == 3);
	CHECK(expo_value(&ex, P "dns_failures_total") == 4);
	CHECK(expo_value(&ex, P "dns_channels_created_total") == 5);
	CHECK(expo_value(&ex, P "spf_cache_hits_total") == 31);
	CHECK(expo_value(&ex, P "spf_cache_misses_total") == 9);
	{
		char why[256];

		if (histogram_ok(&ex, P "dns_lookup_duration_seconds",
		    DNS_LATENCY_BUCKETS, why, sizeof(why)) != 0) {
			CHECK(!"the DNS histogram is well-formed");
			fprintf(stderr, "histogram: %s\n", why);
		}
	}
	CHECK(expo_value(&ex, P "dns_lookup_duration_seconds_bucket"
	    "{le=\"0.001\"}") == 3);
	CHECK(expo_value(&ex, P "dns_lookup_duration_seconds_bucket"
	    "{le=\"0.025\"}") == 3);
	CHECK(expo_value(&ex, P "dns_lookup_duration_seconds_bucket"
	    "{le=\"0.05\"}") == 5);
	CHECK(expo_value(&ex, P "dns_lookup_duration_seconds_bucket"
	    "{le=\"10\"}") == 5);
	CHECK(expo_value(&ex, P "dns_lookup_duration_seconds_bucket"
	    "{le=\"+Inf\"}") == 6);
	CHECK(expo_value(&ex, P "dns_lookup_duration_seconds_count") == 6);
	CHECK(expo_value(&ex, P "dns_lookup_duration_seconds_sum") ==
	    12.345678);
	CHECK(strstr(text, "# TYPE " P "dns_lookup_duration_seconds "
	    "histogram\n") != NULL);
	CHECK(expo_value(&ex, P "listdb_age_seconds") == 100);
	CHECK(expo_value(&ex, P "listdb_build_time_seconds") == 1700000400);
	CHECK(expo_value(&ex, P "reloads_total{result=\"success\"}") == 2);
	CHECK(expo_value(&ex, P "reloads_total{result=\"failure\"}") == 1);
	CHECK(expo_value(&ex, P "listdb_entries{kind=\"domain\"}") == 209000);
	CHECK(expo_value(&ex, P "listdb_entries{kind=\"fingerprint\"}") == 17);
	CHECK(expo_value(&ex, P "up") == 1);
	CHECK(expo_value(&ex, P "start_time_seconds") == 1700000000);
	/* Without a records store, no records series. */
	CHECK(strstr(text, "records_") == NULL);
	CHECK(strstr(text, "# TYPE " P "messages_total counter\n") != NULL);
	CHECK(strstr(text, "# TYPE " P "listdb_age_seconds gauge\n") != NULL);
	metrics_summary(&x, sum, sizeof(sum));
	CHECK_STR(sum, "messages=7 accept=3 tag=1 tempfail=0 reject=3 "
	    "errors=1 dns_queries=11 dns_cache_hits=22 dns_timeouts=3 "
	    "dns_failures=4 listdb_age=100");
	free(text);

	/* With one. */
	x.have_records = 1;
	x.rec.written = 5;
	x.rec.dropped_full = 6;
	x.rec.dropped_map = 7;
	x.rec.purged = 8;
	x.rec.corrupt = 9;
	text = metrics_render(&x);
	CHECK(text != NULL);
	if (text == NULL)
		return;
	if (expo_parse(&ex, text) != 0) {
		CHECK(!"rendering with records parses");
		fprintf(stderr, "checker: %s\n", ex.why);
	}
	CHECK(expo_value(&ex, P "records_written_total") == 5);
	CHECK(expo_value(&ex, P "records_dropped_total{reason=\"queue\"}") == 6);
	CHECK(expo_value(&ex, P "records_dropped_total{reason=\"map\"}") == 7);
	CHECK(expo_value(&ex, P "records_purged_total") == 8);
	CHECK(expo_value(&ex, P "records_corrupt_total") == 9);
	metrics_summary(&x, sum, sizeof(sum));
	CHECK(strstr(sum, " records_written=5 records_dropped=13 "
	    "records_purged=8 ") != NULL);
	/* A short buffer is cut, still terminated. */
	metrics_summary(&x, sum, 20);
	CHECK_STR(sum, "messages=7 accept=3");
	free(text);

	/* Reset: all zero again; no database age when it is unknown. */
	metrics_reset();
	x.db_built = 0;
	text = metrics_render(&x);
	CHECK(text != NULL);
	if (text == NULL)
		return;
	CHECK_INT(expo_parse(&ex, text), 0);
	CHECK(msgs(&ex, "reject", "disposable", "envelope") == 0);
	CHECK(expo_value(&ex, P "errors_total") == 0);
	CHECK(expo_value(&ex, P "reloads_total{result=\"success\"}") == 0);
	CHECK(expo_value(&ex, P "listdb_age_seconds") == -1);
	CHECK(expo_value(&ex, P "listdb_build_time_seconds") == -1);
	free(text);
}

static int
count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

static void
test_write(const char *tmpdir)
{
	char path[512], dir[512], want[1024], err[1024], buf[256];
	struct stat st, st2;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "%.400s/dm.prom", tmpdir);
	CHECK_INT(metrics_write_file(path, "first\n", err, sizeof(err)), 0);
	CHECK_INT(stat(path, &st), 0);
	CHECK_INT(st.st_mode & 07777, 0644);
	/* Replaced, not rewritten in place: a reader holding the old file
	 * keeps a whole old file. */
	CHECK_INT(metrics_write_file(path, "second\n", err, sizeof(err)), 0);
	CHECK_INT(stat(path, &st2), 0);
	CHECK(st.st_ino != st2.st_ino);
	CHECK_INT(st2.st_mode & 07777, 0644);
	f = fopen(path, "r");
	CHECK(f != NULL);
	if (f != NULL) {
		n = fread(buf, 1, sizeof(buf) - 1, f);
		buf[n] = '\0';
		fclose(f);
		CHECK_STR(buf, "second\n");
	}
	CHECK_INT(count_entries(tmpdir), 1);	/* no temporary left */

	/* A directory we cannot write: the error names the path.  Root
	 * writes anywhere, so use a missing directory as well. */
	snprintf(dir, sizeof(dir), "%.400s/nodir", tmpdir);
	snprintf(path, sizeof(path), "%.400s/dm.prom", dir);
	CHECK_INT(metrics_write_file(path, "x\n", err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s: cannot create a temporary file "
	    "beside it: No such file or directory", path);
	CHECK_STR(err, want);
	/* A file where the directory should be (fails for root too). */
	f = fopen(dir, "w");
	CHECK(f != NULL);
	if (f != NULL)
		fclose(f);
	CHECK_INT(metrics_write_file(path, "x\n", err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s: cannot create a temporary file "
	    "beside it: Not a directory", path);
	CHECK_STR(err, want);
	unlink(dir);
	/* Unwritable directory (root may write anyway). */
	CHECK_INT(mkdir(dir, 0555), 0);
	if (geteuid() != 0) {
		CHECK_INT(metrics_write_file(path, "x\n", err, sizeof(err)), -1);
		CHECK(strncmp(err, path, strlen(path)) == 0);
		CHECK(strstr(err, "Permission denied") != NULL);
		CHECK_INT(count_entries(dir), 0);
	}
	rmdir(dir);
	/* The target is a directory: rename fails, temporary removed. */
	snprintf(path, sizeof(path), "%.400s/isdir", tmpdir);
	CHECK_INT(mkdir(path, 0755), 0);
	CHECK_INT(metrics_write_file(path, "x\n", err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s: Is a directory", path);
	CHECK_STR(err, want);
	CHECK_INT(count_entries(tmpdir), 2);	/* dm.prom and isdir */
	rmdir(path);
	snprintf(path, sizeof(path), "%.400s/dm.prom", tmpdir);
	unlink(path);
}

#define THREADS 4
#define PER_THREAD 10000

static void *
bump(void *arg)
{
	int t = *(int *)arg;

	for (int i = 0; i < PER_THREAD; i++) {
		/* All threads on one counter (contention), and each on its
		 * own too. */
		metrics_count_message(ACT_REJECT, CAT_DISPOSABLE, ROLE_ENVELOPE);
		metrics_count_message(ACT_TAG, CAT_RELAY, (enum role)t);
		if (i % 10 == 0)
			metrics_count_error();
	}
	return NULL;
}

static void
test_threads(void)
{
	pthread_t th[THREADS];
	int ids[THREADS];
	struct metrics_extra x;
	char *text;

	metrics_reset();
	for (int i = 0; i < THREADS; i++) {
		ids[i] = i;
		CHECK_INT(pthread_create(&th[i], NULL, bump, &ids[i]), 0);
	}
	for (int i = 0; i < THREADS; i++)
		pthread_join(th[i], NULL);
	extra_init(&x);
	text = metrics_render(&x);
	CHECK(text != NULL);
	if (text == NULL)
		return;
	CHECK_INT(expo_parse(&ex, text), 0);
	CHECK(msgs(&ex, "reject", "disposable", "envelope") ==
	    THREADS * PER_THREAD);
	for (int i = 0; i < THREADS; i++)
		CHECK(msgs(&ex, "tag", "relay", role_name((enum role)i)) ==
		    PER_THREAD);
	CHECK(expo_value(&ex, P "errors_total") == THREADS * PER_THREAD / 10);
	free(text);
}

int
main(void)
{
	const char *t = getenv("TMPDIR");
	char tmpdir[256];

	snprintf(tmpdir, sizeof(tmpdir), "%s/test_metrics.XXXXXX",
	    t != NULL && *t != '\0' ? t : "/tmp");
	if (mkdtemp(tmpdir) == NULL) {
		perror(tmpdir);
		return 99;
	}
	test_checker();
	test_render();
	test_write(tmpdir);
	test_threads();
	if (rmdir(tmpdir) == -1)
		perror(tmpdir);
	return T_DONE();
}
