/*
 * dns.c - DNS lookups: c-ares sessions, wire parsing, a shared cache
 * (see dns.h for the contract).
 *
 * A session is one c-ares channel and a deadline.  dns_query() answers
 * from the cache at once, or hands the name to ares_query(); the answer
 * comes back raw and is parsed here with ns_initparse/ns_parserr, so each
 * record keeps its TTL (c-ares' own parsers drop it for MX, NS and TXT).
 * dns_wait() polls the channel's sockets until no query is left or the
 * deadline passes; then ares_cancel() completes the rest as DNS_TIMEOUT.
 *
 * Re-entrancy: a callback may start new queries, and c-ares may call our
 * completion from inside ares_query() itself (an immediate failure), so
 * a query is fully set up and counted before it is handed to c-ares, and
 * every completion path decrements the count before calling the user.
 *
 * The cache is a chained hash table with an LRU list, under one mutex.
 * An entry holds the parsed answer (records of the end of any CNAME
 * chain, TXT strings copied) until now + clamp(min TTL, min_ttl,
 * max_ttl); NXDOMAIN and NODATA for neg_ttl.  Times are CLOCK_MONOTONIC
 * milliseconds, so a clock step never revives or kills entries.
 *
 * Diagnostics: none; every failure is a status in the answer, or -1 with
 * a message in err.
 */
#include "config.h"

#include <sys/types.h>
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
#include "util.h"

struct centry {
	struct centry	*hnext;		/* hash chain */
	struct centry	*prev, *next;	/* LRU list, most recent first */
	uint32_t	 hash;
	int		 type;
	int64_t		 expires;	/* monotonic ms */
	enum dns_status	 status;
	char		 name[DNS_NAME_MAX];
	char		 cname[DNS_NAME_MAX];
	size_t		 n;
	struct dns_rr	 rr[];		/* n records, txt owned */
};

struct cache {
	struct centry	**tab;
	size_t		 mask;		/* table size - 1 */
	size_t		 size;		/* entries allowed */
	size_t		 count;
	struct centry	*head, *tail;
};

struct query {
	struct dns_session *s;
	struct query	*prev, *next;	/* the session's queries */
	dns_callback	*cb;
	void		*arg;
	int		 links;		/* CNAME links followed */
	int64_t		 sent_us;	/* when first sent (0: not yet) */
	uint32_t	 minttl;	/* of the CNAME links so far */
	char		 target[DNS_NAME_MAX];	/* the name now asked */
	char		 seen[DNS_MAX_CNAME + 1][DNS_NAME_MAX];
	struct dns_answer ans;
};

struct dns_session {
	ares_channel	 ch;
	int64_t		 deadline;	/* monotonic ms */
	int		 outstanding;
	struct query	*queries;
};

static pthread_mutex_t dns_lock = PTHREAD_MUTEX_INITIALIZER;
static struct dns_config dns_conf;
static struct cache *dns_cache;
static int dns_ready;

static _Atomic uint64_t st_queries, st_hits, st_timeouts, st_failures;
static _Atomic uint64_t st_latency[DNS_LATENCY_BUCKETS + 1];
static _Atomic uint64_t st_latency_sum_us;

/* 1 ms to 10 s, the 1-2.5-5 steps of Prometheus' own defaults: a cached
 * resolver on the host answers in the first buckets, a remote one in the
 * tens of milliseconds, a timeout (DNSTimeout, 1.5 s) further up. */
const uint32_t dns_latency_bounds_us[DNS_LATENCY_BUCKETS] = {
	1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000,
	1000000, 2500000, 5000000, 10000000,
};

static int64_t
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

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

static int64_t
now_ms(void)
{
	return now_us() / 1000;
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

static uint32_t
cache_hash(const char *name, int type)
{
	uint32_t h = 2166136261u ^ (uint32_t)type;

	for (; *name != '\0'; name++)
		h = (h ^ (unsigned char)*name) * 16777619u;
	return h;
}

static struct cache *
cache_new(size_t size)
{
	struct cache *c;
	size_t buckets = 16;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	while (buckets < size && buckets < ((size_t)1 << 30))
		buckets <<= 1;
	if ((c->tab = calloc(buckets, sizeof(*c->tab))) == NULL) {
		free(c);
		return NULL;
	}
	c->mask = buckets - 1;
	c->size = size;
	return c;
}

static void
centry_free(struct centry *e)
{
	for (size_t i = 0; i < e->n; i++)
		free(e->rr[i].txt);
	free(e);
}

static void
cache_unlink(struct cache *c, struct centry *e)
{
	struct centry **pp = &c->tab[e->hash & c->mask];

	while (*pp != e)
		pp = &(*pp)->hnext;
	*pp = e->hnext;
	if (e->prev != NULL)
		e->prev->next = e->next;
	else
		c->head = e->next;
	if (e->next != NULL)
		e->next->prev = e->prev;
	else
		c->tail = e->prev;
	c->count--;
}

static void
cache_push(struct cache *c, struct centry *e)
{
	e->prev = NULL;
	e->next = c->head;
	if (c->head != NULL)
		c->head->prev = e;
	c->head = e;
	if (c->tail == NULL)
		c->tail = e;
}

static void
cache_free(struct cache *c)
{
	struct centry *e, *next;

	if (c == NULL)
		return;
	for (e = c->head; e != NULL; e = next) {
		next = e->next;
		centry_free(e);
	}
	free(c->tab);
	free(c);
}

static struct centry *
cache_find(struct cache *c, const char *name, int type, uint32_t h)
{
	struct centry *e;

	for (e = c->tab[h & c->mask]; e != NULL; e = e->hnext)
		if (e->hash == h && e->type == type &&
		    strcmp(e->name, name) == 0)
			return e;
	return NULL;
}

/*
 * Fill *a from the cache.  Returns 1 on a hit, 0 on a miss, and also 0
 * when copying a TXT string runs out of memory (the caller then asks the
 * server, which is merely slower).
 */
static int
cache_get(const char *name, int type, struct dns_answer *a)
{
	struct centry *e;
	uint32_t h = cache_hash(name, type);
	int64_t now = now_ms();
	int hit = 0;

	pthread_mutex_lock(&dns_lock);
	if (dns_cache == NULL ||
	    (e = cache_find(dns_cache, name, type, h)) == NULL)
		goto out;
	if (e->expires <= now) {
		cache_unlink(dns_cache, e);
		centry_free(e);
		goto out;
	}
	/* Most recently used first. */
	if (e != dns_cache->head) {
		if (e->prev != NULL)
			e->prev->next = e->next;
		if (e->next != NULL)
			e->next->prev = e->prev;
		else
			dns_cache->tail = e->prev;
		cache_push(dns_cache, e);
	}
	a->status = e->status;
	a->type = type;
	snprintf(a->cname, sizeof(a->cname), "%s", e->cname);
	a->from_cache = 1;
	a->n = 0;
	/* The TTL left, never more than the record said. */
	uint32_t left = (uint32_t)((e->expires - now + 999) / 1000);
	for (size_t i = 0; i < e->n; i++) {
		struct dns_rr *rr = &a->rr[i];

		*rr = e->rr[i];
		if (rr->ttl > left)
			rr->ttl = left;
		if (e->rr[i].txt != NULL &&
		    (rr->txt = strdup(e->rr[i].txt)) == NULL) {
			for (size_t j = 0; j < i; j++) {
				free(a->rr[j].txt);
				a->rr[j].txt = NULL;
			}
			goto out;
		}
		a->n++;
	}
	hit = 1;
out:
	pthread_mutex_unlock(&dns_lock);
	return hit;
}

/* Remember an answer for its clamped TTL.  Out of memory: not cached. */
static void
cache_put(const char *name, const struct dns_answer *a, uint32_t minttl)
{
	struct centry *e, *old;
	int64_t ttl;
	uint32_t h = cache_hash(name, a->type);

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
	e->hash = h;
	e->type = a->type;
	e->expires = now_ms() + ttl * 1000;
	e->status = a->status;
	snprintf(e->name, sizeof(e->name), "%s", name);
	snprintf(e->cname, sizeof(e->cname), "%s", a->cname);
	for (size_t i = 0; i < a->n; i++) {
		e->rr[i] = a->rr[i];
		e->rr[i].txt = NULL;
		if (a->rr[i].txt != NULL &&
		    (e->rr[i].txt = strdup(a->rr[i].txt)) == NULL) {
			centry_free(e);
			goto out;
		}
		e->n++;
	}
	/* Two sessions may have asked at once: the newer answer wins. */
	if ((old = cache_find(dns_cache, name, a->type, h)) != NULL) {
		cache_unlink(dns_cache, old);
		centry_free(old);
	}
	while (dns_cache->count >= dns_cache->size && dns_cache->tail != NULL) {
		old = dns_cache->tail;
		cache_unlink(dns_cache, old);
		centry_free(old);
	}
	e->hnext = dns_cache->tab[h & dns_cache->mask];
	dns_cache->tab[h & dns_cache->mask] = e;
	cache_push(dns_cache, e);
	dns_cache->count++;
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
	return 0;
}

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
	mask = ARES_OPT_FLAGS | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES |
	    ARES_OPT_EDNSPSZ;
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

int
dns_init(const struct dns_config *c, char *err, size_t errlen)
{
	ares_channel ch;
	int rc;

	if (config_check(c, err, errlen) == -1)
		return -1;
	if ((rc = ares_library_init(ARES_LIB_INIT_ALL)) != ARES_SUCCESS) {
		seterr(err, errlen, "dns: c-ares: %s", ares_strerror(rc));
		return -1;
	}
	/* A channel made and dropped: a bad server list fails here, at
	 * start, rather than with every message. */
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
	st_queries = st_hits = st_timeouts = st_failures = 0;
	for (int i = 0; i <= DNS_LATENCY_BUCKETS; i++)
		st_latency[i] = 0;
	st_latency_sum_us = 0;
	return 0;
}

int
dns_reconfigure(const struct dns_config *c, char *err, size_t errlen)
{
	ares_channel ch;
	struct cache *nc = NULL;

	if (config_check(c, err, errlen) == -1)
		return -1;
	if (channel_new(c, &ch, err, errlen) == -1)
		return -1;
	ares_destroy(ch);
	pthread_mutex_lock(&dns_lock);
	if (c->cache_size != dns_conf.cache_size) {
		if (c->cache_size > 0 &&
		    (nc = cache_new(c->cache_size)) == NULL) {
			pthread_mutex_unlock(&dns_lock);
			seterr(err, errlen, "dns: cache: %s", strerror(ENOMEM));
			return -1;
		}
		cache_free(dns_cache);
		dns_cache = nc;
	}
	dns_conf = *c;
	pthread_mutex_unlock(&dns_lock);
	return 0;
}

void
dns_fini(void)
{
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
}

/* ------------------------------------------------------------ sessions */

struct dns_session *
dns_session_new(int budget_ms, char *err, size_t errlen)
{
	struct dns_session *s;
	struct dns_config c;

	pthread_mutex_lock(&dns_lock);
	c = dns_conf;
	pthread_mutex_unlock(&dns_lock);
	if (c.timeout_ms <= 0) {
		seterr(err, errlen, "dns: dns_init not called");
		return NULL;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		seterr(err, errlen, "dns: %s", strerror(ENOMEM));
		return NULL;
	}
	if (channel_new(&c, &s->ch, err, errlen) == -1) {
		free(s);
		return NULL;
	}
	s->deadline = now_ms() + (budget_ms > 0 ? budget_ms : c.budget_ms);
	return s;
}

void
dns_session_free(struct dns_session *s)
{
	if (s == NULL)
		return;
	/* Queries still running complete (DNS_TIMEOUT) from in here. */
	ares_destroy(s->ch);
	free(s);
}

int
dns_session_left_ms(const struct dns_session *s)
{
	int64_t left = s->deadline - now_ms();

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

static void
count_status(enum dns_status st)
{
	if (st == DNS_TIMEOUT)
		st_timeouts++;
	else if (st == DNS_SERVFAIL || st == DNS_ERROR)
		st_failures++;
}

/* The end of a query: unlink, cache, tell the caller, free. */
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
		answer_clear(&q->ans);
	count_status(st);
	if (q->sent_us != 0)
		count_latency(now_us() - q->sent_us);
	if (cacheable) {
		uint32_t minttl = q->minttl;

		for (size_t i = 0; i < q->ans.n; i++)
			if (q->ans.rr[i].ttl < minttl)
				minttl = q->ans.rr[i].ttl;
		cache_put(q->ans.qname, &q->ans, minttl);
	}
	q->cb(q->arg, &q->ans);
	answer_clear(&q->ans);
	free(q);
}

static void ares_done(void *, int, int, unsigned char *, int);

/* Ask the server for q->target; the completion may run in here. */
static void
query_send(struct query *q)
{
	if (dns_session_left_ms(q->s) == 0) {
		query_done(q, DNS_TIMEOUT, 0);
		return;
	}
	st_queries++;
	if (q->sent_us == 0)
		q->sent_us = now_us();
	ares_query(q->s->ch, q->target, ns_c_in, q->ans.type, ares_done, q);
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

	if ((q = calloc(1, sizeof(*q))) == NULL)
		return -1;
	q->s = s;
	q->cb = cb;
	q->arg = arg;
	q->minttl = UINT32_MAX;
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
	if (cache_get(q->ans.qname, type, &q->ans)) {
		st_hits++;
		query_done(q, q->ans.status, 0);
		return 0;
	}
	snprintf(q->target, sizeof(q->target), "%s", q->ans.qname);
	snprintf(q->seen[0], sizeof(q->seen[0]), "%s", q->ans.qname);
	query_send(q);
	return 0;
}

int
dns_wait(struct dns_session *s)
{
	struct pollfd pfd[ARES_GETSOCK_MAXNUM];
	ares_socket_t socks[ARES_GETSOCK_MAXNUM];
	struct timeval max, tv, *tvp;
	unsigned bits;
	int left, n, ms;

	while (s->outstanding > 0) {
		if ((left = dns_session_left_ms(s)) == 0) {
			/* Every query still out completes as DNS_TIMEOUT. */
			ares_cancel(s->ch);
			return DNS_TIMEOUT;
		}
		/* c-ares' ARES_GETSOCK_WRITABLE shifts a signed 1 into the
		 * sign bit for the last socket: test the bits unsigned. */
		bits = (unsigned)ares_getsock(s->ch, socks,
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
		tvp = ares_timeout(s->ch, &max, &tv);
		/* Round up: waking a millisecond early only spins. */
		ms = (int)(tvp->tv_sec * 1000 + (tvp->tv_usec + 999) / 1000);
		if (poll(pfd, (nfds_t)n, ms) < 0 && errno != EINTR)
			return DNS_ERROR;
		int any = 0;
		for (int i = 0; i < n; i++) {
			if (pfd[i].revents == 0)
				continue;
			any = 1;
			ares_process_fd(s->ch,
			    pfd[i].revents & (POLLIN | POLLERR | POLLHUP) ?
			    pfd[i].fd : ARES_SOCKET_BAD,
			    pfd[i].revents & POLLOUT ?
			    pfd[i].fd : ARES_SOCKET_BAD);
		}
		if (!any)	/* timeouts and retries */
			ares_process_fd(s->ch, ARES_SOCKET_BAD,
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
