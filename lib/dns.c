/*
 * dns.c - DNS lookups: c-ares sessions, wire parsing, a shared cache
 * (see dns.h for the contract).
 *
 * A session is a deadline, its queries, and a c-ares channel once a
 * lookup misses the cache.  dns_query() answers from the cache at once,
 * or hands the name to ares_query(); the answer comes back raw and is
 * parsed here with ns_initparse/ns_parserr, so each record keeps its TTL
 * (c-ares' own parsers drop it for MX, NS and TXT).  dns_wait() polls the
 * channel's sockets until no query is left or the deadline passes; then
 * ares_cancel() completes the rest as DNS_TIMEOUT.
 *
 * Re-entrancy: a callback may start new queries, and c-ares may call our
 * completion from inside ares_query() itself (an immediate failure), so
 * a query is fully set up and counted before it is handed to c-ares, and
 * every completion path decrements the count before calling the user.
 *
 * Pools.  ares_init_options() reads the resolver configuration and
 * allocates; ares_destroy() frees it all again: per message that was
 * most of a cached message's cost.  So channels are pooled (pool_lock):
 * a session takes one at its first cache miss (chan_take) and gives it
 * back at its end (chan_give), after ares_cancel() has completed
 * whatever was still out, so an idle channel has no query in it (c-ares
 * then has its sockets closed too).  Each channel carries the generation
 * of the settings it was made with; dns_reconfigure() and a changed
 * resolver file start a new one, and a channel of an older generation is
 * destroyed instead of pooled.  Sessions are pooled as well, each with
 * up to DNS_SPARE finished queries (the big part: an answer holds
 * DNS_MAX_RR records) and the buffer that takes the TXT strings of a
 * cache hit, so that a session answered by the cache allocates nothing.
 *
 * The cache is lru.h's table under dns_lock.  An entry holds the parsed
 * answer (records of the end of any CNAME chain, TXT strings copied)
 * until now + clamp(min TTL, min_ttl, max_ttl); NXDOMAIN and NODATA for
 * neg_ttl.  Times are CLOCK_MONOTONIC milliseconds, so a clock step
 * never revives or kills entries.
 *
 * Diagnostics: none; every failure is a status in the answer, or -1 with
 * a message in err.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/stat.h>
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <ares.h>
#include <ctype.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dns.h"
#include "lru.h"
#include "util.h"

#define DNS_SPARE		8	/* finished queries a session keeps */
#define DNS_RESOLV_CHECK_MS	1000	/* the resolver file, looked at */

struct centry {
	struct lru_node	 node;		/* first: the cache's links */
	int		 type;
	int64_t		 expires;	/* monotonic ms */
	uint32_t	 ttl;		/* the answer's (dns_answer.ttl) */
	enum dns_status	 status;
	char		 name[DNS_NAME_MAX];
	char		 cname[DNS_NAME_MAX];
	size_t		 txtlen;	/* all TXT strings, NULs included */
	size_t		 n;
	struct dns_rr	 rr[];		/* n records, txt owned */
};

/* One c-ares channel and the settings generation it was made with. */
struct chan {
	ares_channel	 ch;
	unsigned	 gen;
	struct chan	*next;		/* the pool's idle list */
};

struct query {
	struct dns_session *s;
	struct query	*prev, *next;	/* the session's queries, or its
					   spares (next only) */
	dns_callback	*cb;
	void		*arg;
	int		 links;		/* CNAME links followed */
	int		 borrowed;	/* ans.rr[].txt point into txtbuf */
	int64_t		 sent_us;	/* when first sent (0: not yet) */
	uint32_t	 minttl;	/* of the CNAME links so far */
	char		*txtbuf;	/* a cache hit's TXT strings; kept
					   with the query for its next use */
	size_t		 txtcap;
	char		 target[DNS_NAME_MAX];	/* the name now asked */
	char		 seen[DNS_MAX_CNAME + 1][DNS_NAME_MAX];
	struct dns_answer ans;
};

struct dns_session {
	struct chan	*chan;		/* NULL until the first cache miss */
	int64_t		 deadline;	/* monotonic ms */
	int		 outstanding;
	struct query	*queries;
	struct query	*spare;		/* finished, for the next dns_query */
	int		 nspare;
	struct dns_session *next;	/* the pool's idle list */
};

/* The cache and the settings it applies: dns_lock. */
static pthread_mutex_t dns_lock = PTHREAD_MUTEX_INITIALIZER;
static struct dns_config dns_conf;
static struct lru *dns_cache;
static int dns_ready;

/* Channels and sessions: pool_lock.  conf is what new channels are made
 * with (and the default budget of a session). */
static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
	int		 ready;
	struct dns_config conf;
	unsigned	 gen;
	struct chan	*idle;
	int		 nidle;
	struct dns_session *sessions;
	int		 nsessions;
	int64_t		 resolv_seen_ms;	/* last look at the file */
	int		 resolv_ok;		/* it was there */
	struct stat	 resolv_st;
} pool;

static _Atomic uint64_t st_queries, st_hits, st_timeouts, st_failures;
static _Atomic uint64_t st_latency[DNS_LATENCY_BUCKETS + 1];
static _Atomic uint64_t st_latency_sum_us, st_channels;
static atomic_int cur_neg_ttl;		/* dns_conf.neg_ttl, lock-free */

/* 1 ms to 10 s, the 1-2.5-5 steps of Prometheus' own defaults: a cached
 * resolver on the host answers in the first buckets, a remote one in the
 * tens of milliseconds, a timeout (DNSTimeout, 1.5 s) further up. */
const uint32_t dns_latency_bounds_us[DNS_LATENCY_BUCKETS] = {
	1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000,
	1000000, 2500000, 5000000, 10000000,
};

/* One lookup's latency: two relaxed atomic additions, no lock. */
static void
count_latency(int64_t us)
{
	int i = 0;

	if (us < 0)
		us = 0;
	while (i < DNS_LATENCY_BUCKETS && us > dns_latency_bounds_us[i])
		i++;
	atomic_fetch_add_explicit(&st_latency[i], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&st_latency_sum_us, (uint64_t)us,
	    memory_order_relaxed);
}

void
dns_config_default(struct dns_config *c)
{
	memset(c, 0, sizeof(*c));
	c->timeout_ms = 1500;
	c->tries = 2;
	c->budget_ms = 8000;
	c->cache_size = 20000;
	c->min_ttl = 60;
	c->max_ttl = 86400;
	c->neg_ttl = 300;
	snprintf(c->resolv_conf, sizeof(c->resolv_conf), "/etc/resolv.conf");
}

/*
 * Names.  Lower case, one trailing dot dropped, every label 1..63 bytes,
 * the whole at most 253; no blanks or control bytes (they can only come
 * from a broken caller or a hostile record).  Returns 0 or -1.
 */
static int
name_norm(const char *in, char *out)
{
	size_t len = strlen(in), label = 0;

	if (len > 0 && in[len - 1] == '.')
		len--;
	if (len == 0 || len > DNS_NAME_MAX - 1)
		return -1;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)in[i];

		if (c <= ' ' || c == 0x7f)
			return -1;
		if (c == '.') {
			if (label == 0)
				return -1;
			label = 0;
		} else if (++label > 63)
			return -1;
		out[i] = (char)tolower(c);
	}
	if (label == 0)
		return -1;
	out[len] = '\0';
	return 0;
}

/* ---------------------------------------------------------------- cache */

struct ckey {
	const char	*name;
	int		 type;
};

static uint32_t
cache_hash(const char *name, int type)
{
	return lru_hash((uint32_t)type, name, strlen(name));
}

static int
centry_is(const struct lru_node *n, const void *key)
{
	const struct centry *e = (const struct centry *)n;
	const struct ckey *k = key;

	return e->type == k->type && strcmp(e->name, k->name) == 0;
}

static void
centry_free(struct centry *e)
{
	for (size_t i = 0; i < e->n; i++)
		free(e->rr[i].txt);
	free(e);
}

static void
centry_drop(struct lru_node *n)
{
	centry_free((struct centry *)n);
}

static struct lru *
cache_new(size_t size)
{
	struct lru *c;

	if ((c = malloc(sizeof(*c))) == NULL)
		return NULL;
	if (lru_init(c, size) != 0) {
		free(c);
		return NULL;
	}
	return c;
}

static void
cache_free(struct lru *c)
{
	if (c == NULL)
		return;
	lru_fini(c, centry_drop);
	free(c);
}

/*
 * Fill q->ans from the cache.  TXT strings are copied into q->txtbuf,
 * which grows when it is too small (and then stays with the query).
 * Returns 1 on a hit, 0 on a miss, and also 0 when that buffer cannot
 * grow (the caller then asks the server, which is merely slower).
 */
static int
cache_get(struct query *q, uint32_t h)
{
	struct dns_answer *a = &q->ans;
	struct ckey key = { a->qname, a->type };
	struct centry *e;
	int64_t now = util_mono_ms();
	size_t off = 0;
	int hit = 0;

	pthread_mutex_lock(&dns_lock);
	if (dns_cache == NULL ||
	    (e = (struct centry *)lru_find(dns_cache, h, centry_is,
	    &key)) == NULL)
		goto out;
	if (e->expires <= now) {
		lru_remove(dns_cache, &e->node);
		centry_free(e);
		goto out;
	}
	if (e->txtlen > q->txtcap) {
		char *nb = realloc(q->txtbuf, e->txtlen);

		if (nb == NULL)
			goto out;
		q->txtbuf = nb;
		q->txtcap = e->txtlen;
	}
	lru_touch(dns_cache, &e->node);
	a->status = e->status;
	util_copy(a->cname, DNS_NAME_MAX, e->cname);
	a->from_cache = 1;
	/* The TTL left, never more than the record said; the answer's own
	 * in whole seconds left, rounded down, so that nothing built on it
	 * outlives the entry. */
	uint32_t left = (uint32_t)((e->expires - now + 999) / 1000);
	uint32_t whole = (uint32_t)((e->expires - now) / 1000);
	a->ttl = e->ttl < whole ? e->ttl : whole;
	for (size_t i = 0; i < e->n; i++) {
		struct dns_rr *rr = &a->rr[i];

		*rr = e->rr[i];
		if (rr->ttl > left)
			rr->ttl = left;
		if (e->rr[i].txt != NULL) {
			size_t len = strlen(e->rr[i].txt) + 1;

			rr->txt = memcpy(q->txtbuf + off, e->rr[i].txt, len);
			off += len;
		}
	}
	a->n = e->n;
	q->borrowed = 1;
	hit = 1;
out:
	pthread_mutex_unlock(&dns_lock);
	return hit;
}

/* Remember q's answer for its clamped TTL.  Out of memory: not cached. */
static void
cache_put(const struct query *q, uint32_t minttl)
{
	const struct dns_answer *a = &q->ans;
	struct ckey key = { a->qname, a->type };
	struct centry *e, *old;
	int64_t ttl;
	uint32_t h = cache_hash(a->qname, a->type);

	pthread_mutex_lock(&dns_lock);
	if (dns_cache == NULL)
		goto out;
	if (a->status == DNS_OK) {
		ttl = minttl;
		if (ttl < dns_conf.min_ttl)
			ttl = dns_conf.min_ttl;
		if (ttl > dns_conf.max_ttl)
			ttl = dns_conf.max_ttl;
	} else if (a->status == DNS_NXDOMAIN || a->status == DNS_NODATA)
		ttl = dns_conf.neg_ttl;
	else
		goto out;
	if (ttl <= 0)
		goto out;
	e = calloc(1, sizeof(*e) + a->n * sizeof(e->rr[0]));
	if (e == NULL)
		goto out;
	e->node.hash = h;
	e->type = a->type;
	e->expires = util_mono_ms() + ttl * 1000;
	e->ttl = a->ttl;
	e->status = a->status;
	util_copy(e->name, DNS_NAME_MAX, a->qname);
	util_copy(e->cname, DNS_NAME_MAX, a->cname);
	for (size_t i = 0; i < a->n; i++) {
		e->rr[i] = a->rr[i];
		e->rr[i].txt = NULL;
		if (a->rr[i].txt != NULL) {
			if ((e->rr[i].txt = strdup(a->rr[i].txt)) == NULL) {
				centry_free(e);
				goto out;
			}
			e->txtlen += strlen(a->rr[i].txt) + 1;
		}
		e->n++;
	}
	/* Two sessions may have asked at once: the newer answer wins. */
	if ((old = (struct centry *)lru_find(dns_cache, h, centry_is,
	    &key)) != NULL) {
		lru_remove(dns_cache, &old->node);
		centry_free(old);
	}
	if ((old = (struct centry *)lru_add(dns_cache, &e->node)) != NULL)
		centry_free(old);
out:
	pthread_mutex_unlock(&dns_lock);
}

/* --------------------------------------------------------------- setup */

static int
config_check(const struct dns_config *c, char *err, size_t errlen)
{
	if (c->timeout_ms <= 0 || c->tries <= 0 || c->budget_ms <= 0) {
		seterr(err, errlen, "dns: timeout, tries and budget must be "
		    "positive");
		return -1;
	}
	if (c->min_ttl < 0 || c->max_ttl < c->min_ttl || c->neg_ttl < 0) {
		seterr(err, errlen, "dns: need 0 <= min_ttl <= max_ttl and "
		    "neg_ttl >= 0");
		return -1;
	}
	if (memchr(c->servers, '\0', sizeof(c->servers)) == NULL) {
		seterr(err, errlen, "dns: server list not terminated");
		return -1;
	}
	if (memchr(c->resolv_conf, '\0', sizeof(c->resolv_conf)) == NULL ||
	    c->resolv_conf[0] == '\0') {
		seterr(err, errlen, "dns: no resolver configuration file");
		return -1;
	}
	return 0;
}

/* A c-ares channel with the settings of c: this reads c->resolv_conf
 * (and allocates), which is why it happens only when the pool has
 * none. */
static int
channel_new(const struct dns_config *c, ares_channel *ch, char *err,
    size_t errlen)
{
	struct ares_options o;
	int rc, mask;

	memset(&o, 0, sizeof(o));
	/* No search list, no HOSTALIASES: a name is asked as given.  EDNS
	 * lets a long SPF TXT answer come over UDP rather than TCP. */
	o.flags = ARES_FLAG_NOSEARCH | ARES_FLAG_NOALIASES | ARES_FLAG_EDNS;
	o.timeout = c->timeout_ms;
	o.tries = c->tries;
	o.ednspsz = 1232;
	o.resolvconf_path = (char *)c->resolv_conf;
	mask = ARES_OPT_FLAGS | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES |
	    ARES_OPT_EDNSPSZ | ARES_OPT_RESOLVCONF;
	if ((rc = ares_init_options(ch, &o, mask)) != ARES_SUCCESS) {
		seterr(err, errlen, "dns: c-ares: %s", ares_strerror(rc));
		return -1;
	}
	if (c->servers[0] != '\0' &&
	    (rc = ares_set_servers_ports_csv(*ch, c->servers)) != ARES_SUCCESS) {
		ares_destroy(*ch);
		seterr(err, errlen, "dns: bad server list: %s",
		    ares_strerror(rc));
		return -1;
	}
	return 0;
}

static void
chan_free(struct chan *c)
{
	if (c != NULL) {
		ares_destroy(c->ch);
		free(c);
	}
}

static void
chan_free_list(struct chan *c)
{
	struct chan *next;

	for (; c != NULL; c = next) {
		next = c->next;
		chan_free(c);
	}
}

/* A new generation of channels (pool_lock held): the idle ones are
 * handed to the caller to destroy outside the lock. */
static struct chan *
pool_new_generation(void)
{
	struct chan *old = pool.idle;

	pool.gen++;
	pool.idle = NULL;
	pool.nidle = 0;
	return old;
}

/* Note the resolver file as it is now (pool_lock held). */
static void
resolv_note(void)
{
	pool.resolv_ok = stat(pool.conf.resolv_conf, &pool.resolv_st) == 0;
	if (!pool.resolv_ok)
		memset(&pool.resolv_st, 0, sizeof(pool.resolv_st));
	pool.resolv_seen_ms = util_mono_ms();
}

/* At a cache miss (pool_lock held): has the resolver file changed since
 * it was last noted?  Then a new generation starts; the idle channels of
 * the old one are returned for the caller to destroy.  Looked at once a
 * second at most: a stat(2), never a read. */
static struct chan *
resolv_check(void)
{
	struct stat st;
	int ok;

	if (util_mono_ms() - pool.resolv_seen_ms < DNS_RESOLV_CHECK_MS)
		return NULL;
	pool.resolv_seen_ms = util_mono_ms();
	if (!(ok = stat(pool.conf.resolv_conf, &st) == 0))
		memset(&st, 0, sizeof(st));
	if (ok == pool.resolv_ok && (!ok ||
	    (st.st_dev == pool.resolv_st.st_dev &&
	    st.st_ino == pool.resolv_st.st_ino &&
	    st.st_size == pool.resolv_st.st_size &&
	    st.st_mtim.tv_sec == pool.resolv_st.st_mtim.tv_sec &&
	    st.st_mtim.tv_nsec == pool.resolv_st.st_mtim.tv_nsec)))
		return NULL;
	pool.resolv_ok = ok;
	pool.resolv_st = st;
	return pool_new_generation();
}

/* A channel for a session's first cache miss: an idle one of the current
 * generation, or a new one.  NULL when none can be made. */
static struct chan *
chan_take(void)
{
	struct chan *c, *stale;
	struct dns_config conf;
	unsigned gen;

	pthread_mutex_lock(&pool_lock);
	stale = resolv_check();
	if ((c = pool.idle) != NULL) {
		pool.idle = c->next;
		pool.nidle--;
		pthread_mutex_unlock(&pool_lock);
		chan_free_list(stale);
		return c;
	}
	conf = pool.conf;
	gen = pool.gen;
	pthread_mutex_unlock(&pool_lock);
	chan_free_list(stale);
	if ((c = malloc(sizeof(*c))) == NULL)
		return NULL;
	/* The generation of the settings read: a reconfigure in between
	 * makes this channel one of the old, destroyed when given back. */
	c->gen = gen;
	if (channel_new(&conf, &c->ch, NULL, 0) == -1) {
		free(c);
		return NULL;
	}
	atomic_fetch_add_explicit(&st_channels, 1, memory_order_relaxed);
	return c;
}

/* Give back the channel of a session that ended with no query in it:
 * pooled when of the current generation and the pool has room, else
 * destroyed. */
static void
chan_give(struct chan *c)
{
	if (c == NULL)
		return;
	pthread_mutex_lock(&pool_lock);
	if (pool.ready && c->gen == pool.gen && pool.nidle < DNS_POOL_MAX) {
		c->next = pool.idle;
		pool.idle = c;
		pool.nidle++;
		c = NULL;
	}
	pthread_mutex_unlock(&pool_lock);
	chan_free(c);
}

static void
session_destroy(struct dns_session *s)
{
	struct query *q, *next;

	for (q = s->spare; q != NULL; q = next) {
		next = q->next;
		free(q->txtbuf);
		free(q);
	}
	free(s);
}

int
dns_init(const struct dns_config *c, char *err, size_t errlen)
{
	ares_channel ch;
	struct chan *old;
	int rc;

	if (config_check(c, err, errlen) == -1)
		return -1;
	if ((rc = ares_library_init(ARES_LIB_INIT_ALL)) != ARES_SUCCESS) {
		seterr(err, errlen, "dns: c-ares: %s", ares_strerror(rc));
		return -1;
	}
	/* A channel made and dropped: a bad server list fails here, at
	 * start, rather than at the first lookup.  Not pooled: the daemon
	 * forks after this, and -n only checks. */
	if (channel_new(c, &ch, err, errlen) == -1) {
		ares_library_cleanup();
		return -1;
	}
	ares_destroy(ch);
	pthread_mutex_lock(&dns_lock);
	dns_conf = *c;
	cache_free(dns_cache);
	dns_cache = NULL;
	if (c->cache_size > 0 && (dns_cache = cache_new(c->cache_size)) == NULL) {
		pthread_mutex_unlock(&dns_lock);
		ares_library_cleanup();
		seterr(err, errlen, "dns: cache: %s", strerror(ENOMEM));
		return -1;
	}
	dns_ready = 1;
	pthread_mutex_unlock(&dns_lock);
	atomic_store(&cur_neg_ttl, c->neg_ttl);
	pthread_mutex_lock(&pool_lock);
	pool.conf = *c;
	old = pool_new_generation();
	resolv_note();
	pool.ready = 1;
	pthread_mutex_unlock(&pool_lock);
	chan_free_list(old);
	st_queries = st_hits = st_timeouts = st_failures = st_channels = 0;
	for (int i = 0; i <= DNS_LATENCY_BUCKETS; i++)
		st_latency[i] = 0;
	st_latency_sum_us = 0;
	return 0;
}

int
dns_reconfigure(const struct dns_config *c, char *err, size_t errlen)
{
	struct chan *nc, *old;
	struct lru *cache;

	if (config_check(c, err, errlen) == -1)
		return -1;
	if ((nc = malloc(sizeof(*nc))) == NULL) {
		seterr(err, errlen, "dns: %s", strerror(ENOMEM));
		return -1;
	}
	if (channel_new(c, &nc->ch, err, errlen) == -1) {
		free(nc);
		return -1;
	}
	atomic_fetch_add_explicit(&st_channels, 1, memory_order_relaxed);
	pthread_mutex_lock(&dns_lock);
	if (c->cache_size != dns_conf.cache_size) {
		cache = NULL;
		if (c->cache_size > 0 &&
		    (cache = cache_new(c->cache_size)) == NULL) {
			pthread_mutex_unlock(&dns_lock);
			chan_free(nc);
			seterr(err, errlen, "dns: cache: %s", strerror(ENOMEM));
			return -1;
		}
		cache_free(dns_cache);
		dns_cache = cache;
	}
	dns_conf = *c;
	pthread_mutex_unlock(&dns_lock);
	atomic_store(&cur_neg_ttl, c->neg_ttl);
	/* The channel that proved the settings is the first of the new
	 * generation; none of the old is taken again. */
	pthread_mutex_lock(&pool_lock);
	pool.conf = *c;
	old = pool_new_generation();
	resolv_note();
	nc->gen = pool.gen;
	nc->next = NULL;
	pool.idle = nc;
	pool.nidle = 1;
	pthread_mutex_unlock(&pool_lock);
	chan_free_list(old);
	return 0;
}

void
dns_fini(void)
{
	struct chan *old;
	struct dns_session *s, *next;

	pthread_mutex_lock(&pool_lock);
	pool.ready = 0;
	old = pool_new_generation();
	s = pool.sessions;
	pool.sessions = NULL;
	pool.nsessions = 0;
	pthread_mutex_unlock(&pool_lock);
	chan_free_list(old);
	for (; s != NULL; s = next) {
		next = s->next;
		session_destroy(s);
	}
	pthread_mutex_lock(&dns_lock);
	cache_free(dns_cache);
	dns_cache = NULL;
	if (dns_ready)
		ares_library_cleanup();
	dns_ready = 0;
	pthread_mutex_unlock(&dns_lock);
}

void
dns_get_stats(struct dns_stats *st)
{
	st->queries = st_queries;
	st->cache_hits = st_hits;
	st->timeouts = st_timeouts;
	st->failures = st_failures;
	for (int i = 0; i <= DNS_LATENCY_BUCKETS; i++)
		st->latency[i] = atomic_load_explicit(&st_latency[i],
		    memory_order_relaxed);
	st->latency_sum_us = atomic_load_explicit(&st_latency_sum_us,
	    memory_order_relaxed);
	st->channels_created = atomic_load_explicit(&st_channels,
	    memory_order_relaxed);
}

/* ------------------------------------------------------------ sessions */

struct dns_session *
dns_session_new(int budget_ms, char *err, size_t errlen)
{
	struct dns_session *s;
	int budget;

	pthread_mutex_lock(&pool_lock);
	if (!pool.ready) {
		pthread_mutex_unlock(&pool_lock);
		seterr(err, errlen, "dns: dns_init not called");
		return NULL;
	}
	budget = budget_ms > 0 ? budget_ms : pool.conf.budget_ms;
	if ((s = pool.sessions) != NULL) {
		pool.sessions = s->next;
		pool.nsessions--;
	}
	pthread_mutex_unlock(&pool_lock);
	if (s == NULL && (s = calloc(1, sizeof(*s))) == NULL) {
		seterr(err, errlen, "dns: %s", strerror(ENOMEM));
		return NULL;
	}
	s->next = NULL;
	s->deadline = util_mono_ms() + budget;
	return s;
}

void
dns_session_free(struct dns_session *s)
{
	if (s == NULL)
		return;
	if (s->chan != NULL) {
		if (s->outstanding > 0) {
			/* Queries still running complete (DNS_TIMEOUT) from
			 * in here; a callback that asks again meets a past
			 * deadline and is answered at once, never sent. */
			s->deadline = 0;
			ares_cancel(s->chan->ch);
		}
		/* Nothing may be left in a channel that another session
		 * takes: a query still in it (cannot happen) goes with it,
		 * completed by ares_destroy. */
		if (s->outstanding > 0)
			chan_free(s->chan);
		else
			chan_give(s->chan);
		s->chan = NULL;
	}
	s->queries = NULL;
	s->outstanding = 0;
	pthread_mutex_lock(&pool_lock);
	if (pool.ready && pool.nsessions < DNS_POOL_MAX) {
		s->next = pool.sessions;
		pool.sessions = s;
		pool.nsessions++;
		s = NULL;
	}
	pthread_mutex_unlock(&pool_lock);
	if (s != NULL)
		session_destroy(s);
}

int
dns_session_left_ms(const struct dns_session *s)
{
	int64_t left = s->deadline - util_mono_ms();

	if (left <= 0)
		return 0;
	return left > 0x7fffffff ? 0x7fffffff : (int)left;
}

/* -------------------------------------------------------------- queries */

static void
answer_clear(struct dns_answer *a)
{
	for (size_t i = 0; i < a->n; i++) {
		free(a->rr[i].txt);
		a->rr[i].txt = NULL;
	}
	a->n = 0;
}

/* A query's answer emptied: TXT strings freed, unless they were a cache
 * hit's, in the query's own buffer. */
static void
query_clear(struct query *q)
{
	if (q->borrowed) {
		for (size_t i = 0; i < q->ans.n; i++)
			q->ans.rr[i].txt = NULL;
		q->ans.n = 0;
		q->borrowed = 0;
	} else
		answer_clear(&q->ans);
}

/* A query for s: a spare one, or a new one.  NULL if out of memory. */
static struct query *
query_get(struct dns_session *s)
{
	struct query *q;

	if ((q = s->spare) != NULL) {
		s->spare = q->next;
		s->nspare--;
	} else if ((q = calloc(1, sizeof(*q))) == NULL)
		return NULL;
	q->s = s;
	q->prev = q->next = NULL;
	q->links = 0;
	q->borrowed = 0;
	q->sent_us = 0;
	q->minttl = UINT32_MAX;
	q->ans.status = DNS_OK;
	q->ans.cname[0] = '\0';
	q->ans.from_cache = 0;
	q->ans.ttl = 0;
	q->ans.n = 0;
	return q;
}

/* A finished query back to its session, or freed past DNS_SPARE. */
static void
query_put(struct dns_session *s, struct query *q)
{
	if (s->nspare < DNS_SPARE) {
		q->next = s->spare;
		s->spare = q;
		s->nspare++;
		return;
	}
	free(q->txtbuf);
	free(q);
}

/* dns_answer.ttl of an answer that came from a server (or the wire). */
static uint32_t
answer_ttl(const struct query *q)
{
	uint32_t ttl = q->minttl, neg;

	switch (q->ans.status) {
	case DNS_OK:
		for (size_t i = 0; i < q->ans.n; i++)
			if (q->ans.rr[i].ttl < ttl)
				ttl = q->ans.rr[i].ttl;
		return ttl;
	case DNS_NXDOMAIN:
	case DNS_NODATA:
		neg = (uint32_t)atomic_load_explicit(&cur_neg_ttl,
		    memory_order_relaxed);
		return neg < ttl ? neg : ttl;
	default:
		return 0;
	}
}

static void
count_status(enum dns_status st)
{
	if (st == DNS_TIMEOUT)
		st_timeouts++;
	else if (st == DNS_SERVFAIL || st == DNS_ERROR)
		st_failures++;
}

/* The end of a query: unlink, cache, tell the caller, recycle. */
static void
query_done(struct query *q, enum dns_status st, int cacheable)
{
	struct dns_session *s = q->s;

	if (q->prev != NULL)
		q->prev->next = q->next;
	else
		s->queries = q->next;
	if (q->next != NULL)
		q->next->prev = q->prev;
	s->outstanding--;
	q->ans.status = st;
	if (st != DNS_OK)
		query_clear(q);
	count_status(st);
	if (q->sent_us != 0)
		count_latency(util_mono_us() - q->sent_us);
	if (!q->ans.from_cache)
		q->ans.ttl = answer_ttl(q);
	if (cacheable)
		cache_put(q, q->ans.ttl);
	q->cb(q->arg, &q->ans);
	query_clear(q);
	query_put(s, q);
}

static void ares_done(void *, int, int, unsigned char *, int);

/* Ask the server for q->target; the completion may run in here.  The
 * session's first miss takes its channel. */
static void
query_send(struct query *q)
{
	struct dns_session *s = q->s;

	if (dns_session_left_ms(s) == 0) {
		query_done(q, DNS_TIMEOUT, 0);
		return;
	}
	if (s->chan == NULL && (s->chan = chan_take()) == NULL) {
		query_done(q, DNS_ERROR, 0);
		return;
	}
	st_queries++;
	if (q->sent_us == 0)
		q->sent_us = util_mono_us();
	ares_query(s->chan->ch, q->target, ns_c_in, q->ans.type, ares_done,
	    q);
}

/* A name from the wire, in dns.h's form: lower case, no trailing dot,
 * "" for the root. */
static int
wire_name(const ns_msg *m, const unsigned char *p, char *out)
{
	char buf[NS_MAXDNAME];

	if (ns_name_uncompress(ns_msg_base(*m), ns_msg_end(*m), p, buf,
	    sizeof(buf)) < 0)
		return -1;
	if (strcmp(buf, ".") == 0 || buf[0] == '\0') {
		out[0] = '\0';
		return 0;
	}
	return name_norm(buf, out);
}

/* TXT: the character-strings of one record joined.  -1 when malformed,
 * over DNS_TXT_MAX or holding a NUL (then the record is skipped). */
static int
wire_txt(const unsigned char *p, size_t len, char **out)
{
	char buf[DNS_TXT_MAX];
	size_t n = 0;

	while (len > 0) {
		size_t l = p[0];

		if (l + 1 > len || n + l >= sizeof(buf))
			return -1;
		if (memchr(p + 1, '\0', l) != NULL)
			return -1;
		memcpy(buf + n, p + 1, l);
		n += l;
		p += l + 1;
		len -= l + 1;
	}
	buf[n] = '\0';
	return (*out = strdup(buf)) == NULL ? -2 : 0;
}

/* One record of the asked type into q->ans: 0 kept, 1 skipped (a TXT
 * record we refuse), -1 malformed, -2 out of memory. */
static int
wire_rr(struct query *q, const ns_msg *m, const ns_rr *rr)
{
	struct dns_rr *out = &q->ans.rr[q->ans.n];
	const unsigned char *d = ns_rr_rdata(*rr);
	size_t len = ns_rr_rdlen(*rr);
	int rc;

	memset(out, 0, sizeof(*out));
	out->ttl = ns_rr_ttl(*rr);
	switch (q->ans.type) {
	case DNS_T_A:
		if (len != 4)
			return -1;
		out->addr.family = AF_INET;
		memcpy(&out->addr.u.v4, d, 4);
		break;
	case DNS_T_AAAA:
		if (len != 16)
			return -1;
		out->addr.family = AF_INET6;
		memcpy(&out->addr.u.v6, d, 16);
		break;
	case DNS_T_MX:
		if (len < 3)
			return -1;
		out->pref = ns_get16(d);
		if (wire_name(m, d + 2, out->name) == -1)
			return -1;
		break;
	case DNS_T_NS:
	case DNS_T_CNAME:
		if (wire_name(m, d, out->name) == -1)
			return -1;
		break;
	case DNS_T_TXT:
		if ((rc = wire_txt(d, len, &out->txt)) == -1)
			return 1;
		if (rc == -2)
			return -2;
		break;
	default:
		break;		/* a type dns.h does not know: TTL only */
	}
	q->ans.n++;
	return 0;
}

/* Has the chain of q visited name?  Records it if not.  -1: a loop or
 * too long. */
static int
chain_step(struct query *q, const char *name)
{
	for (int i = 0; i <= q->links; i++)
		if (strcmp(q->seen[i], name) == 0)
			return -1;
	if (q->links >= DNS_MAX_CNAME)
		return -1;
	q->links++;
	snprintf(q->seen[q->links], sizeof(q->seen[0]), "%s", name);
	snprintf(q->ans.cname, sizeof(q->ans.cname), "%s", name);
	return 0;
}

/*
 * Parse one answer for q->target.  Follows CNAMEs inside it, keeps the
 * records of the asked type at the end of the chain.  Returns the status,
 * or -1 when the chain leads out of the answer and the target must be
 * asked again (q->target updated).
 */
static int
parse_answer(struct query *q, const unsigned char *buf, int len)
{
	ns_msg m;
	ns_rr rr;
	char owner[DNS_NAME_MAX], cur[DNS_NAME_MAX], tgt[DNS_NAME_MAX];
	int count, rcode, moved = 0, soa = 0;

	if (ns_initparse(buf, len, &m) < 0)
		return DNS_ERROR;
	rcode = ns_msg_getflag(m, ns_f_rcode);
	count = ns_msg_count(m, ns_s_an);
	snprintf(cur, sizeof(cur), "%s", q->target);

	/* Walk the chain: each pass looks for a CNAME owned by cur. */
	if (q->ans.type != DNS_T_CNAME) {
		for (int again = 1; again;) {
			again = 0;
			for (int i = 0; i < count; i++) {
				if (ns_parserr(&m, ns_s_an, i, &rr) < 0)
					return DNS_ERROR;
				if (ns_rr_type(rr) != ns_t_cname ||
				    ns_rr_class(rr) != ns_c_in ||
				    name_norm(ns_rr_name(rr), owner) == -1 ||
				    strcmp(owner, cur) != 0)
					continue;
				if (wire_name(&m, ns_rr_rdata(rr), tgt) == -1 ||
				    tgt[0] == '\0' || chain_step(q, tgt) == -1)
					return DNS_ERROR;
				if (ns_rr_ttl(rr) < q->minttl)
					q->minttl = ns_rr_ttl(rr);
				snprintf(cur, sizeof(cur), "%s", tgt);
				moved = again = 1;
				break;
			}
		}
	}

	for (int i = 0; i < count; i++) {
		if (ns_parserr(&m, ns_s_an, i, &rr) < 0)
			return DNS_ERROR;
		if ((int)ns_rr_type(rr) != q->ans.type ||
		    ns_rr_class(rr) != ns_c_in ||
		    name_norm(ns_rr_name(rr), owner) == -1 ||
		    strcmp(owner, cur) != 0)
			continue;
		if (q->ans.n == DNS_MAX_RR)
			break;
		if (wire_rr(q, &m, &rr) < 0)
			return DNS_ERROR;
	}
	if (q->ans.n > 0)
		return DNS_OK;

	switch (rcode) {
	case ns_r_noerror:
		break;
	case ns_r_nxdomain:
		return DNS_NXDOMAIN;
	case ns_r_servfail:
	case ns_r_refused:
		return DNS_SERVFAIL;
	default:
		return DNS_ERROR;
	}
	if (!moved)
		return DNS_NODATA;
	/* A CNAME and an SOA in the authority section: the server says the
	 * target has nothing of that type; no need to ask again. */
	for (int i = 0; i < ns_msg_count(m, ns_s_ns); i++)
		if (ns_parserr(&m, ns_s_ns, i, &rr) == 0 &&
		    ns_rr_type(rr) == ns_t_soa)
			soa = 1;
	if (soa)
		return DNS_NODATA;
	snprintf(q->target, sizeof(q->target), "%s", cur);
	return -1;
}

int
dns_parse_answer(const char *name, int type, const unsigned char *buf,
    int len, struct dns_answer *out)
{
	struct query *q;
	int st;

	memset(out, 0, sizeof(*out));
	if ((q = calloc(1, sizeof(*q))) == NULL)
		return DNS_ERROR;
	q->minttl = UINT32_MAX;
	q->ans.type = type;
	if (name_norm(name, q->ans.qname) == -1) {
		free(q);
		return DNS_ERROR;
	}
	snprintf(q->target, sizeof(q->target), "%s", q->ans.qname);
	snprintf(q->seen[0], sizeof(q->seen[0]), "%s", q->ans.qname);
	st = parse_answer(q, buf, len);
	if (st != DNS_OK)
		answer_clear(&q->ans);
	q->ans.status = st == -1 ? DNS_OK : (enum dns_status)st;
	q->ans.ttl = answer_ttl(q);
	*out = q->ans;
	free(q);
	return st;
}

void
dns_answer_clear(struct dns_answer *a)
{
	answer_clear(a);
}

static void
ares_done(void *arg, int status, int timeouts, unsigned char *buf, int len)
{
	struct query *q = arg;
	int st;

	(void)timeouts;
	switch (status) {
	case ARES_SUCCESS:
	case ARES_ENODATA:
	case ARES_ENOTFOUND:
		if (buf != NULL && len > 0) {
			st = parse_answer(q, buf, len);
			if (st == -1) {
				/* The chain left the answer: ask its end. */
				query_send(q);
				return;
			}
		} else
			st = status == ARES_ENOTFOUND ? DNS_NXDOMAIN :
			    status == ARES_ENODATA ? DNS_NODATA : DNS_ERROR;
		break;
	case ARES_ETIMEOUT:
	case ARES_ECANCELLED:
	case ARES_EDESTRUCTION:
		st = DNS_TIMEOUT;
		break;
	case ARES_ESERVFAIL:
	case ARES_EREFUSED:
	case ARES_ECONNREFUSED:
		st = DNS_SERVFAIL;
		break;
	default:
		st = DNS_ERROR;
		break;
	}
	query_done(q, st, st == DNS_OK || st == DNS_NXDOMAIN ||
	    st == DNS_NODATA);
}


int
dns_query(struct dns_session *s, const char *name, int type,
    dns_callback *cb, void *arg)
{
	struct query *q;

	if ((q = query_get(s)) == NULL)
		return -1;
	q->cb = cb;
	q->arg = arg;
	q->ans.type = type;
	/* Counted and linked first: whatever follows may complete it. */
	q->next = s->queries;
	if (s->queries != NULL)
		s->queries->prev = q;
	s->queries = q;
	s->outstanding++;

	if (name_norm(name, q->ans.qname) == -1) {
		snprintf(q->ans.qname, sizeof(q->ans.qname), "%.*s",
		    (int)sizeof(q->ans.qname) - 1, name);
		query_done(q, DNS_ERROR, 0);
		return 0;
	}
	if (cache_get(q, cache_hash(q->ans.qname, type))) {
		st_hits++;
		query_done(q, q->ans.status, 0);
		return 0;
	}
	util_copy(q->target, DNS_NAME_MAX, q->ans.qname);
	util_copy(q->seen[0], DNS_NAME_MAX, q->ans.qname);
	query_send(q);
	return 0;
}

int
dns_wait(struct dns_session *s)
{
	struct pollfd pfd[ARES_GETSOCK_MAXNUM];
	ares_socket_t socks[ARES_GETSOCK_MAXNUM];
	struct timeval max, tv, *tvp;
	ares_channel ch;
	unsigned bits;
	int left, n, ms;

	while (s->outstanding > 0) {
		/* A query out is a query sent: the session has a channel. */
		if (s->chan == NULL)
			return DNS_ERROR;
		ch = s->chan->ch;
		if ((left = dns_session_left_ms(s)) == 0) {
			/* Every query still out completes as DNS_TIMEOUT. */
			ares_cancel(ch);
			return DNS_TIMEOUT;
		}
		/* c-ares' ARES_GETSOCK_WRITABLE shifts a signed 1 into the
		 * sign bit for the last socket: test the bits unsigned. */
		bits = (unsigned)ares_getsock(ch, socks,
		    ARES_GETSOCK_MAXNUM);
		n = 0;
		for (int i = 0; i < ARES_GETSOCK_MAXNUM; i++) {
			short ev = 0;

			if (bits & (1u << i))
				ev |= POLLIN;
			if (bits & (1u << (i + ARES_GETSOCK_MAXNUM)))
				ev |= POLLOUT;
			if (ev == 0)
				continue;
			pfd[n].fd = socks[i];
			pfd[n].events = ev;
			pfd[n].revents = 0;
			n++;
		}
		max.tv_sec = left / 1000;
		max.tv_usec = (left % 1000) * 1000;
		tvp = ares_timeout(ch, &max, &tv);
		/* Round up: waking a millisecond early only spins. */
		ms = (int)(tvp->tv_sec * 1000 + (tvp->tv_usec + 999) / 1000);
		if (poll(pfd, (nfds_t)n, ms) < 0 && errno != EINTR)
			return DNS_ERROR;
		int any = 0;
		for (int i = 0; i < n; i++) {
			if (pfd[i].revents == 0)
				continue;
			any = 1;
			ares_process_fd(ch,
			    pfd[i].revents & (POLLIN | POLLERR | POLLHUP) ?
			    pfd[i].fd : ARES_SOCKET_BAD,
			    pfd[i].revents & POLLOUT ?
			    pfd[i].fd : ARES_SOCKET_BAD);
		}
		if (!any)	/* timeouts and retries */
			ares_process_fd(ch, ARES_SOCKET_BAD,
			    ARES_SOCKET_BAD);
	}
	return 0;
}

/* ------------------------------------------------------------ addresses */

const char *
dns_addr_str(const struct dns_addr *a, char *buf, size_t len)
{
	if (inet_ntop(a->family, a->family == AF_INET6 ?
	    (const void *)&a->u.v6 : (const void *)&a->u.v4, buf,
	    (socklen_t)len) == NULL) {
		if (len > 0)
			snprintf(buf, len, "?");
	}
	return buf;
}

int
dns_addr_parse(const char *s, struct dns_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, s, &a->u.v4) == 1) {
		a->family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, s, &a->u.v6) == 1) {
		a->family = AF_INET6;
		return 0;
	}
	return -1;
}
