/*
 * metrics.h - the figures an admin watches.
 *
 * Counters are process-wide atomics, bumped from any thread.  The daemon's
 * housekeeping thread renders them every MetricsInterval seconds in the
 * Prometheus text exposition format (for node_exporter's textfile
 * collector), writes the file atomically (temporary file in the same
 * directory, then rename), and logs a one-line summary every
 * StatsInterval seconds.
 *
 * Exposed (all names prefixed disposable_milter_):
 *   messages_total{action,category,role}   decisions (role of the
 *                                           decisive address)
 *   errors_total                            internal errors (OnError)
 *   dns_queries_total, dns_cache_hits_total, dns_timeouts_total,
 *   dns_failures_total
 *   dns_lookup_duration_seconds             histogram (_bucket{le},
 *                                           _sum, _count) of the lookups
 *                                           that went to a server
 *   dns_channels_created_total              c-ares channels made (each
 *                                           read the resolver file)
 *   spf_cache_hits_total, spf_cache_misses_total
 *                                           SPF checks the verdict cache
 *                                           answered / did not
 *   records_written_total, records_dropped_total{reason="queue"|"map"},
 *   records_purged_total, records_corrupt_total, records_up (when
 *   Records is set), records_open_failures_total
 *   reloads_total{result="success"|"failure"}  configuration and database
 *                                           reloads (a failed one keeps
 *                                           the running state)
 *   listdb_age_seconds, listdb_build_time_seconds (the version in use),
 *   listdb_entries{kind="domain"|"fingerprint"}
 *   up (1; 0 in the file written at a stop), start_time_seconds
 * No address, hash or domain ever appears in a label.
 */
#ifndef DM_METRICS_H
#define DM_METRICS_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "category.h"
#include "dns.h"
#include "recwriter.h"
#include "spf.h"

#define METRICS_INTERVAL 60	/* seconds between two metrics files
				   (MetricsInterval) */
#define STATS_INTERVAL 3600	/* seconds between two summary lines in
				   the log (StatsInterval; 0: none) */

void	metrics_count_message(enum action, enum category, enum role);
void	metrics_count_error(void);
void	metrics_count_reload(int ok);	/* ok: 1 it took, 0 it failed */
void	metrics_reset(void);		/* tests */

/* What the counters alone do not know, gathered by the caller. */
struct metrics_extra {
	time_t			now, started;
	int			stopped;	/* the last file: up 0 */
	struct dns_stats	dns;
	struct spf_stats	spf;
	int			have_records;	/* the store is open */
	int			records_down;	/* configured, not open */
	uint64_t		records_open_failures;
	struct recwriter_stats	rec;
	time_t			db_built;
	size_t			db_entries, db_fingerprints;
};

/* The whole exposition, malloc'd (NULL if out of memory). */
char	*metrics_render(const struct metrics_extra *);

/* Write text to path atomically.  Returns 0, or -1 with err. */
int	metrics_write_file(const char *path, const char *text, char *err,
	    size_t errlen);

/* One line for the log: "messages=120 reject=3 tag=9 ... dns_queries=..". */
void	metrics_summary(const struct metrics_extra *, char *buf, size_t len);

#endif
