/*
 * dns.h - DNS lookups for the milter: parallel, bounded in time, cached.
 *
 * Transport is c-ares (asynchronous, many queries in flight on one
 * channel, per-query timeout and tries, servers given as host[:port]);
 * answers are parsed from the wire with libresolv's ns_parserr so that
 * every record keeps its TTL.  Why c-ares: it is small, thread-safe per
 * channel, runs independent queries in parallel without threads, and lets
 * a test or an admin point it at any server and port; glibc's resolver
 * is synchronous, libunbound brings a second cache and a validator we do
 * not need, and libspf2's resolver layer has no timeout control.
 *
 * Sessions.  A session is one unit of work with one deadline: a message,
 * or one domain in disposable-ctl.  Queries are started with dns_query();
 * the callback runs (from dns_wait, or at once on a cache hit) with the
 * answer, and may start further queries (the addresses of an MX host).
 * dns_wait() runs until no query is outstanding or the session's deadline
 * has passed; queries still outstanding then complete with DNS_TIMEOUT.
 * A session belongs to one thread at a time; sessions are independent.
 *
 * Channels.  A session costs nothing until a lookup misses the cache:
 * only then does it take a c-ares channel, from a pool shared by all
 * sessions (or a new one, which reads the resolver configuration), and
 * it gives the channel back when it ends.  A channel serves one session
 * at a time, so never two threads at once.  The pool keeps at most
 * DNS_POOL_MAX idle channels (more are destroyed when given back); the
 * channels in use are as many as the sessions missing the cache at the
 * same moment.  Every dns_reconfigure() (a reload) starts a new
 * generation: idle channels of an older one are destroyed, and those in
 * use are when their session gives them back, never reused.  So does a
 * change of the resolver configuration file (dns_config.resolv_conf:
 * device, inode, size or modification time), looked at, at most once a
 * second, when a lookup misses the cache.  A session whose lookups are
 * all answered by the cache opens no channel, reads no file and
 * allocates nothing (sessions and their query buffers are pooled as
 * well, DNS_POOL_MAX idle sessions).
 *
 * Cache.  One cache shared by all sessions (mutex), keyed by (name,
 * type), bounded in entries (least recently used evicted), each entry
 * kept for its TTL clamped to [min_ttl, max_ttl]; NXDOMAIN and NODATA
 * answers for neg_ttl; SERVFAIL and timeouts are not cached.  The cache
 * holds DNS facts, never verdicts, so a list reload applies at once.
 *
 * CNAMEs are followed: the records returned are those of the end of the
 * chain (at most DNS_MAX_CNAME links; a longer chain or a loop is
 * DNS_ERROR), re-querying the target when the server did not include it.
 */
#ifndef DM_DNS_H
#define DM_DNS_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#define DNS_MAX_CNAME	8
#define DNS_MAX_RR	32	/* records kept per answer */
#define DNS_NAME_MAX	254	/* a host name, NUL included */
#define DNS_TXT_MAX	4096	/* one TXT record, strings joined */
#define DNS_POOL_MAX	128	/* idle channels kept, idle sessions kept */

/* Query types (the DNS type numbers). */
#define DNS_T_A		1
#define DNS_T_NS	2
#define DNS_T_CNAME	5
#define DNS_T_MX	15
#define DNS_T_TXT	16
#define DNS_T_AAAA	28

enum dns_status {
	DNS_OK = 0,		/* records in the answer */
	DNS_NODATA,		/* the name exists, no record of that type */
	DNS_NXDOMAIN,		/* the name does not exist */
	DNS_SERVFAIL,		/* the server failed (or refused) */
	DNS_TIMEOUT,		/* no answer within the timeout or budget */
	DNS_ERROR		/* anything else: bad answer, CNAME loop ... */
};

struct dns_addr {
	int		family;		/* AF_INET or AF_INET6 */
	union {
		struct in_addr	v4;
		struct in6_addr	v6;
	} u;
};

struct dns_rr {
	uint32_t	ttl;
	uint16_t	pref;		/* MX preference */
	char		name[DNS_NAME_MAX];	/* MX or NS host, lower case,
						   no trailing dot; "" = null MX */
	struct dns_addr	addr;		/* A / AAAA */
	char		*txt;		/* TXT: the strings joined, malloc'd */
};

struct dns_answer {
	enum dns_status	status;
	int		type;
	char		qname[DNS_NAME_MAX];	/* as asked */
	char		cname[DNS_NAME_MAX];	/* end of the CNAME chain,
						   "" if none */
	int		from_cache;
	uint32_t	ttl;		/* seconds the answer may be relied
					   on: the least TTL of its records
					   and of the CNAME links to them; for
					   NXDOMAIN and NODATA the configured
					   neg_ttl (the SOA is not read);
					   from the cache, never more than
					   what is left of its life there
					   (whole seconds, rounded down); 0
					   for any other status */
	size_t		n;
	struct dns_rr	rr[DNS_MAX_RR];
};

struct dns_config {
	char	servers[512];	/* "127.0.0.1:5353,[::1]:53"; "" = resolv.conf */
	int	timeout_ms;	/* per query try (default 1500) */
	int	tries;		/* per query (default 2) */
	int	budget_ms;	/* per session (default 8000) */
	size_t	cache_size;	/* entries (default 20000); 0 = no cache */
	int	min_ttl;	/* seconds (default 60) */
	int	max_ttl;	/* seconds (default 86400) */
	int	neg_ttl;	/* seconds (default 300) */
	char	resolv_conf[256];	/* the resolver configuration c-ares
					   reads, watched for changes
					   (default /etc/resolv.conf; not a
					   setting of the configuration
					   file: tests point it elsewhere) */
};

void	dns_config_default(struct dns_config *);

/* Set up c-ares and the shared cache.  Call once before threads start.
 * Returns 0, or -1 with err. */
int	dns_init(const struct dns_config *, char *err, size_t errlen);
/* Replace the settings (on reload); the cache is kept unless its size
 * changes.  A new generation of channels starts (see Channels above):
 * the channel made to check the settings is the first of it.  Returns 0
 * or -1 with err (then nothing changed). */
int	dns_reconfigure(const struct dns_config *, char *err, size_t errlen);
void	dns_fini(void);

struct dns_session;

typedef void dns_callback(void *arg, const struct dns_answer *);

/* A new session whose deadline is budget_ms from now (0: the configured
 * budget).  It holds no channel yet.  NULL if out of memory or dns_init
 * was not called (reason in err).  A channel that cannot be made at the
 * first cache miss fails that lookup (DNS_ERROR), not the session. */
struct dns_session *dns_session_new(int budget_ms, char *err, size_t errlen);
void	dns_session_free(struct dns_session *);

/* Start a query; cb runs exactly once, possibly before dns_query returns
 * (cache hit, or the deadline already passed).  The answer passed to cb
 * is valid during the call only.  Returns 0, or -1 if out of memory (cb
 * not called). */
int	dns_query(struct dns_session *, const char *name, int type,
	    dns_callback *cb, void *arg);

/* Run until no query is outstanding or the deadline passes.  Returns 0,
 * or DNS_TIMEOUT when the deadline cut queries short. */
int	dns_wait(struct dns_session *);

/* Milliseconds left before the session's deadline (0 when past). */
int	dns_session_left_ms(const struct dns_session *);

/* The latency of lookups that went to a server (a cache hit is not
 * one): from the first query sent to the answer given to the caller,
 * CNAME re-queries and retries included, timeouts too.  Counted per
 * bucket: bucket i holds the lookups that took at most
 * dns_latency_bounds_us[i] and more than the bound before it; the last
 * one (index DNS_LATENCY_BUCKETS) those beyond the last bound. */
#define DNS_LATENCY_BUCKETS 13
extern const uint32_t dns_latency_bounds_us[DNS_LATENCY_BUCKETS];

/* Counters since dns_init (for logs, tests and metrics). */
struct dns_stats {
	uint64_t	queries;	/* sent to a server */
	uint64_t	cache_hits;
	uint64_t	timeouts;
	uint64_t	failures;	/* SERVFAIL and errors */
	uint64_t	latency[DNS_LATENCY_BUCKETS + 1];	/* lookups */
	uint64_t	latency_sum_us;
	uint64_t	channels_created;	/* c-ares channels made (each
						   read the resolver
						   configuration): at a cache
						   miss when the pool had none,
						   and one per reconfigure */
};
void	dns_get_stats(struct dns_stats *);

/* Parse one answer from the wire (len bytes) to a query of name and
 * type, as the resolver does with what a server sent: the records of
 * type at the end of the CNAME chain into *out (TXT strings malloc'd:
 * dns_answer_clear frees them).  Returns a dns_status, or -1 when the
 * chain leads out of the answer (the resolver would ask again; out->
 * cname names the end reached).  For tests and the fuzzer; the answer
 * can be anything a hostile server sends. */
int	dns_parse_answer(const char *name, int type, const unsigned char *buf,
	    int len, struct dns_answer *out);
void	dns_answer_clear(struct dns_answer *);

/* Format an address ("192.0.2.1", "2001:db8::1") into buf (46 bytes). */
const char *dns_addr_str(const struct dns_addr *, char *buf, size_t len);
/* Parse an address; 0 or -1. */
int	dns_addr_parse(const char *s, struct dns_addr *);

#endif
