/*
 * metrics.c - process-wide counters and their Prometheus text exposition
 * (see metrics.h).
 *
 * The counters are C11 atomics bumped with relaxed ordering: each is an
 * independent tally and nothing is published through them, so no
 * callback ever waits on a lock to count.  A rendering reads each counter
 * once; counters bumped while it runs land in the next one.
 *
 * metrics_render() writes text exposition format 0.0.4: per family one
 * "# HELP" and one "# TYPE" line, then its series; counters end in
 * _total; every series of messages_total is present (zeros included) so
 * that rates work from the first scrape.  Label values are only our own
 * fixed names (actions, categories, roles), escaped all the same.
 *
 * metrics_write_file() writes a temporary file in the target's directory
 * (its name does not end in ".prom", so node_exporter never reads it
 * half-written), makes it 0644, fsyncs and renames it over the target.
 * Diagnostics name the target path.
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "metrics.h"
#include "util.h"

#define PREFIX "disposable_milter_"

static _Atomic uint64_t messages[ACT_COUNT][CAT_COUNT][ROLE_COUNT];
static _Atomic uint64_t errors;
static _Atomic uint64_t reloads[2];	/* [0] failed, [1] took */

void
metrics_count_message(enum action a, enum category c, enum role r)
{
	/* An out-of-range value is a caller's bug; it must not become a
	 * write outside the table. */
	if ((unsigned)a >= ACT_COUNT || (unsigned)c >= CAT_COUNT ||
	    (unsigned)r >= ROLE_COUNT)
		return;
	atomic_fetch_add_explicit(&messages[a][c][r], 1, memory_order_relaxed);
}

void
metrics_count_error(void)
{
	atomic_fetch_add_explicit(&errors, 1, memory_order_relaxed);
}

void
metrics_count_reload(int ok)
{
	atomic_fetch_add_explicit(&reloads[ok != 0], 1, memory_order_relaxed);
}

void
metrics_reset(void)
{
	for (int a = 0; a < ACT_COUNT; a++)
		for (int c = 0; c < CAT_COUNT; c++)
			for (int r = 0; r < ROLE_COUNT; r++)
				atomic_store_explicit(&messages[a][c][r], 0,
				    memory_order_relaxed);
	atomic_store_explicit(&errors, 0, memory_order_relaxed);
	atomic_store_explicit(&reloads[0], 0, memory_order_relaxed);
	atomic_store_explicit(&reloads[1], 0, memory_order_relaxed);
}

static uint64_t
get(_Atomic uint64_t *v)
{
	return atomic_load_explicit(v, memory_order_relaxed);
}

/* A growing string; on out of memory it stops growing and says so. */
struct buf {
	char	*s;
	size_t	 len, size;
	int	 failed;
};

static void
bprintf(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
bprintf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	size_t nsize;
	char *ns;
	int n;

	if (b->failed)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->s + b->len, b->size - b->len, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->failed = 1;
			return;
		}
		if ((size_t)n < b->size - b->len) {
			b->len += (size_t)n;
			return;
		}
		nsize = b->size * 2 + (size_t)n + 1;
		if ((ns = realloc(b->s, nsize)) == NULL) {
			b->failed = 1;
			return;
		}
		b->s = ns;
		b->size = nsize;
	}
}

/* A label value as the text format wants it: \, " and newline escaped. */
static const char *
esc(const char *v, char *out, size_t len)
{
	size_t o = 0;

	for (; *v != '\0' && o + 3 < len; v++) {
		if (*v == '\\' || *v == '"') {
			out[o++] = '\\';
			out[o++] = *v;
		} else if (*v == '\n') {
			out[o++] = '\\';
			out[o++] = 'n';
		} else
			out[o++] = *v;
	}
	out[o] = '\0';
	return out;
}

static void
family(struct buf *b, const char *name, const char *type, const char *help)
{
	bprintf(b, "# HELP " PREFIX "%s %s\n# TYPE " PREFIX "%s %s\n", name,
	    help, name, type);
}

static void
counter(struct buf *b, const char *name, const char *help, uint64_t v)
{
	family(b, name, "counter", help);
	bprintf(b, PREFIX "%s %" PRIu64 "\n", name, v);
}

/* DNS latency: the buckets dns.c counts one by one, written cumulative
 * as the format wants, +Inf last; _count is the +Inf bucket. */
static void
dns_histogram(struct buf *b, const struct dns_stats *d)
{
	const char *name = "dns_lookup_duration_seconds";
	uint64_t cum = 0;

	family(b, name, "histogram", "Time a DNS lookup that went to a "
	    "server took (cache hits are not counted; timeouts are).");
	for (int i = 0; i < DNS_LATENCY_BUCKETS; i++) {
		cum += d->latency[i];
		bprintf(b, PREFIX "%s_bucket{le=\"%g\"} %" PRIu64 "\n", name,
		    dns_latency_bounds_us[i] / 1e6, cum);
	}
	cum += d->latency[DNS_LATENCY_BUCKETS];
	bprintf(b, PREFIX "%s_bucket{le=\"+Inf\"} %" PRIu64 "\n", name, cum);
	bprintf(b, PREFIX "%s_sum %.6f\n", name, d->latency_sum_us / 1e6);
	bprintf(b, PREFIX "%s_count %" PRIu64 "\n", name, cum);
}

char *
metrics_render(const struct metrics_extra *x)
{
	struct buf b = { NULL, 0, 0, 0 };
	char e1[64], e2[64], e3[64];
	long long age;

	if ((b.s = malloc(b.size = 16384)) == NULL)
		return NULL;
	b.s[0] = '\0';

	family(&b, "messages_total", "counter", "Messages decided, by action, "
	    "category and role of the decisive address.");
	for (int a = 0; a < ACT_COUNT; a++)
		for (int c = 0; c < CAT_COUNT; c++)
			for (int r = 0; r < ROLE_COUNT; r++)
				bprintf(&b, PREFIX "messages_total{action=\"%s\","
				    "category=\"%s\",role=\"%s\"} %" PRIu64 "\n",
				    esc(action_name((enum action)a), e1,
				    sizeof(e1)),
				    esc(category_name((enum category)c), e2,
				    sizeof(e2)),
				    esc(role_name((enum role)r), e3, sizeof(e3)),
				    get(&messages[a][c][r]));
	counter(&b, "errors_total", "Internal errors (handled with the "
	    "OnError action).", get(&errors));
	counter(&b, "dns_queries_total", "DNS queries sent to a server.",
	    x->dns.queries);
	counter(&b, "dns_cache_hits_total", "DNS answers taken from the "
	    "cache.", x->dns.cache_hits);
	counter(&b, "dns_timeouts_total", "DNS queries that timed out.",
	    x->dns.timeouts);
	counter(&b, "dns_failures_total", "DNS queries that failed "
	    "(SERVFAIL and errors).", x->dns.failures);
	dns_histogram(&b, &x->dns);
	counter(&b, "dns_channels_created_total", "c-ares channels made, "
	    "each reading the resolver configuration: when a lookup missed "
	    "the cache and the pool had none, and at each reload.",
	    x->dns.channels_created);
	counter(&b, "spf_cache_hits_total", "SPF checks answered by the "
	    "verdict cache.", x->spf.cache_hits);
	counter(&b, "spf_cache_misses_total", "SPF checks evaluated (no "
	    "verdict cached).", x->spf.cache_misses);
	if (x->have_records || x->records_down) {
		family(&b, "records_up", "gauge", "1 when the records store "
		    "is open, 0 while it is unusable (retried).");
		bprintf(&b, PREFIX "records_up %d\n", x->have_records);
		counter(&b, "records_open_failures_total", "Attempts to "
		    "open the records store that failed.",
		    x->records_open_failures);
	}
	if (x->have_records) {
		counter(&b, "records_written_total", "Record events "
		    "committed to the records store.", x->rec.written);
		family(&b, "records_dropped_total", "counter", "Record events "
		    "dropped: queue full, or records map full.");
		bprintf(&b, PREFIX "records_dropped_total{reason=\"queue\"} "
		    "%" PRIu64 "\n", x->rec.dropped_full);
		bprintf(&b, PREFIX "records_dropped_total{reason=\"map\"} "
		    "%" PRIu64 "\n", x->rec.dropped_map);
		counter(&b, "records_purged_total", "Records deleted by the "
		    "retention period.", x->rec.purged);
		counter(&b, "records_corrupt_total", "Stored records or "
		    "aggregates that did not decode, overwritten.",
		    x->rec.corrupt);
	}
	family(&b, "reloads_total", "counter", "Reloads of the configuration "
	    "and the list database (SIGUSR1, or a changed Database file), by "
	    "result; a failed one leaves the running state in force.");
	bprintf(&b, PREFIX "reloads_total{result=\"success\"} %" PRIu64 "\n",
	    get(&reloads[1]));
	bprintf(&b, PREFIX "reloads_total{result=\"failure\"} %" PRIu64 "\n",
	    get(&reloads[0]));
	if (x->db_built > 0) {
		age = (long long)x->now - (long long)x->db_built;
		family(&b, "listdb_age_seconds", "gauge", "Seconds since the "
		    "list database was built.");
		bprintf(&b, PREFIX "listdb_age_seconds %lld\n",
		    age > 0 ? age : 0);
		family(&b, "listdb_build_time_seconds", "gauge", "When the "
		    "list database in use was built, in seconds since the "
		    "epoch: its version.");
		bprintf(&b, PREFIX "listdb_build_time_seconds %lld\n",
		    (long long)x->db_built);
	}
	family(&b, "listdb_entries", "gauge", "Entries in the list "
	    "database, by kind.");
	bprintf(&b, PREFIX "listdb_entries{kind=\"domain\"} %zu\n",
	    x->db_entries);
	bprintf(&b, PREFIX "listdb_entries{kind=\"fingerprint\"} %zu\n",
	    x->db_fingerprints);
	family(&b, "up", "gauge", "1 while the milter runs.");
	bprintf(&b, PREFIX "up %d\n", !x->stopped);
	family(&b, "start_time_seconds", "gauge", "When the milter started, "
	    "in seconds since the epoch.");
	bprintf(&b, PREFIX "start_time_seconds %lld\n",
	    (long long)x->started);

	if (b.failed) {
		free(b.s);
		return NULL;
	}
	return b.s;
}

int
metrics_write_file(const char *path, const char *text, char *err,
    size_t errlen)
{
	char *tmp;

	/* 0644: the textfile collector runs as another user. */
	if (util_write_temp(path, text, strlen(text), 0644, &tmp, err,
	    errlen) != 0)
		return -1;
	if (rename(tmp, path) == -1) {
		seterr(err, errlen, "%s: %s", path, strerror(errno));
		unlink(tmp);
		free(tmp);
		return -1;
	}
	free(tmp);
	util_sync_dir(path);
	return 0;
}

void
metrics_summary(const struct metrics_extra *x, char *buf, size_t len)
{
	uint64_t act[ACT_COUNT] = { 0 }, total = 0;
	int o;

	for (int a = 0; a < ACT_COUNT; a++)
		for (int c = 0; c < CAT_COUNT; c++)
			for (int r = 0; r < ROLE_COUNT; r++)
				act[a] += get(&messages[a][c][r]);
	for (int a = 0; a < ACT_COUNT; a++)
		total += act[a];
	if (len == 0)
		return;
	o = snprintf(buf, len, "messages=%" PRIu64, total);
	for (int a = 0; a < ACT_COUNT && o >= 0 && (size_t)o < len; a++)
		o += snprintf(buf + o, len - (size_t)o, " %s=%" PRIu64,
		    action_name((enum action)a), act[a]);
	if (o >= 0 && (size_t)o < len)
		o += snprintf(buf + o, len - (size_t)o, " errors=%" PRIu64
		    " dns_queries=%" PRIu64 " dns_cache_hits=%" PRIu64
		    " dns_timeouts=%" PRIu64 " dns_failures=%" PRIu64,
		    get(&errors), x->dns.queries, x->dns.cache_hits,
		    x->dns.timeouts, x->dns.failures);
	if (x->have_records && o >= 0 && (size_t)o < len)
		o += snprintf(buf + o, len - (size_t)o, " records_written=%"
		    PRIu64 " records_dropped=%" PRIu64 " records_purged=%"
		    PRIu64, x->rec.written, x->rec.dropped_full +
		    x->rec.dropped_map, x->rec.purged);
	if (x->db_built > 0 && o >= 0 && (size_t)o < len)
		(void)snprintf(buf + o, len - (size_t)o, " listdb_age=%lld",
		    (long long)x->now - (long long)x->db_built);
}
