/*
 * test_dns.c - lib/dns.c against a real DNS server (unbound on loopback,
 * started by tests/dns/run.sh with tests/dns/zone.conf).
 *
 * Environment: DM_DNS_SERVER (127.0.0.1:PORT) the server; DM_DNS_SILENT
 * a server that never answers; DM_DNS_SLOW set when run under valgrind
 * (the time bounds widen).  Without DM_DNS_SERVER (make check runs it
 * alone too) only the checks that need no server run.
 *
 * The time bounds below are correctness bounds (a timeout or budget that
 * is not honoured shows up as seconds, not milliseconds), not speed.
 * run.sh counts the queries that reached the server for the names the
 * cache checks use; here the library's own counters say the same.
 *
 * The channel pool: c-ares is pointed at a resolver file of the test's
 * own (dns_config.resolv_conf), and fopen() is wrapped here (the
 * program's definition takes the place of libc's for libcares too) to
 * count how often that file is read: a session answered by the cache
 * must read it never, nor make a channel.
 */
#include "config.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <dlfcn.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dns.h"
#include "t.h"

static const char *server, *silent;
static int slow = 1;		/* time bound factor */

/* The resolver file the tests hand c-ares, and how often it was opened. */
static char resolv_path[64];
static atomic_int resolv_opens;

FILE *
fopen(const char *path, const char *mode)
{
	static FILE *(*real)(const char *, const char *);

	if (real == NULL) {
		void *sym = dlsym(RTLD_NEXT, "fopen");

		memcpy(&real, &sym, sizeof(real));
	}
	if (path != NULL && resolv_path[0] != '\0' &&
	    strcmp(path, resolv_path) == 0)
		resolv_opens++;
	return real(path, mode);
}

/* One finished query, copied out of the callback. */
struct res {
	int		 calls;
	enum dns_status	 status;
	int		 from_cache;
	size_t		 n;
	char		 cname[DNS_NAME_MAX];
	char		 qname[DNS_NAME_MAX];
	uint32_t	 ttl[DNS_MAX_RR];
	unsigned	 pref[DNS_MAX_RR];
	char		 name[DNS_MAX_RR][DNS_NAME_MAX];
	char		 addr[DNS_MAX_RR][64];
	char		*txt[DNS_MAX_RR];
};

static void
res_clear(struct res *r)
{
	for (size_t i = 0; i < DNS_MAX_RR; i++)
		free(r->txt[i]);
	memset(r, 0, sizeof(*r));
}

static void
collect(void *arg, const struct dns_answer *a)
{
	struct res *r = arg;

	r->calls++;
	r->status = a->status;
	r->from_cache = a->from_cache;
	r->n = a->n;
	snprintf(r->cname, sizeof(r->cname), "%s", a->cname);
	snprintf(r->qname, sizeof(r->qname), "%s", a->qname);
	for (size_t i = 0; i < a->n && i < DNS_MAX_RR; i++) {
		r->ttl[i] = a->rr[i].ttl;
		r->pref[i] = a->rr[i].pref;
		snprintf(r->name[i], sizeof(r->name[i]), "%s", a->rr[i].name);
		if (a->type == DNS_T_A || a->type == DNS_T_AAAA)
			dns_addr_str(&a->rr[i].addr, r->addr[i],
			    sizeof(r->addr[i]));
		if (a->rr[i].txt != NULL)
			r->txt[i] = strdup(a->rr[i].txt);
	}
}

static int64_t
ms_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* One query in its own session, waited for. */
static void
lookup(const char *name, int type, struct res *r)
{
	char err[256];
	struct dns_session *s;

	res_clear(r);
	s = dns_session_new(0, err, sizeof(err));
	CHECK(s != NULL);
	if (s == NULL) {
		fprintf(stderr, "session: %s\n", err);
		return;
	}
	CHECK_INT(dns_query(s, name, type, collect, r), 0);
	CHECK_INT(dns_wait(s), 0);
	CHECK_INT(r->calls, 1);
	dns_session_free(s);
}

static uint64_t
sent(void)
{
	struct dns_stats st;

	dns_get_stats(&st);
	return st.queries;
}

static uint64_t
hits(void)
{
	struct dns_stats st;

	dns_get_stats(&st);
	return st.cache_hits;
}

/* Lookups in the latency histogram (every bucket). */
static uint64_t
timed(void)
{
	struct dns_stats st;
	uint64_t n = 0;

	dns_get_stats(&st);
	for (int i = 0; i <= DNS_LATENCY_BUCKETS; i++)
		n += st.latency[i];
	return n;
}

static uint64_t
channels(void)
{
	struct dns_stats st;

	dns_get_stats(&st);
	return st.channels_created;
}

static void
config(struct dns_config *c, const char *servers)
{
	dns_config_default(c);
	snprintf(c->resolv_conf, sizeof(c->resolv_conf), "%s", resolv_path);
	snprintf(c->servers, sizeof(c->servers), "%s", servers);
	c->timeout_ms = 300;
	c->tries = 1;
	c->budget_ms = 5000;
	c->cache_size = 1000;
	c->min_ttl = 0;
	c->max_ttl = 3600;
	c->neg_ttl = 2;
}

static void
reconf(struct dns_config *c)
{
	char err[256];

	CHECK_INT(dns_reconfigure(c, err, sizeof(err)), 0);
}

static void
test_setup(void)
{
	struct dns_config c;
	char err[256];

	dns_config_default(&c);
	CHECK_INT(c.timeout_ms, 1500);
	CHECK_INT(c.tries, 2);
	CHECK_INT(c.budget_ms, 8000);
	CHECK_INT(c.cache_size, 20000);
	CHECK_INT(c.min_ttl, 60);
	CHECK_INT(c.max_ttl, 86400);
	CHECK_INT(c.neg_ttl, 300);
	CHECK_STR(c.servers, "");

	c.tries = 0;
	CHECK_INT(dns_init(&c, err, sizeof(err)), -1);
	dns_config_default(&c);
	c.min_ttl = 100;
	c.max_ttl = 10;
	CHECK_INT(dns_init(&c, err, sizeof(err)), -1);
	dns_config_default(&c);
	snprintf(c.servers, sizeof(c.servers), "not an address");
	CHECK_INT(dns_init(&c, err, sizeof(err)), -1);
	CHECK(strstr(err, "server") != NULL);
}

static void
test_addr(void)
{
	struct dns_addr a;
	char buf[46];

	CHECK_INT(dns_addr_parse("192.0.2.1", &a), 0);
	CHECK_INT(a.family, AF_INET);
	CHECK_STR(dns_addr_str(&a, buf, sizeof(buf)), "192.0.2.1");
	CHECK_INT(dns_addr_parse("2001:DB8::1", &a), 0);
	CHECK_INT(a.family, AF_INET6);
	CHECK_STR(dns_addr_str(&a, buf, sizeof(buf)), "2001:db8::1");
	CHECK_INT(dns_addr_parse("192.0.2", &a), -1);
	CHECK_INT(dns_addr_parse("", &a), -1);
	CHECK_INT(dns_addr_parse("::ffff:192.0.2.1x", &a), -1);
}

static void
test_answers(void)
{
	struct res r = { 0 };

	lookup("mx.dns.test", DNS_T_MX, &r);
	CHECK_INT(r.status, DNS_OK);
	CHECK_INT(r.from_cache, 0);
	CHECK_STR(r.qname, "mx.dns.test");
	CHECK_STR(r.cname, "");
	CHECK_INT(r.n, 3);
	/* Order as served; each host with its preference. */
	for (size_t i = 0; i < r.n; i++) {
		if (strcmp(r.name[i], "mx1.dns.test") == 0)
			CHECK_INT(r.pref[i], 10);
		else if (strcmp(r.name[i], "mx2.dns.test") == 0)
			CHECK_INT(r.pref[i], 20);
		else if (strcmp(r.name[i], "mx3.dns.test") == 0)
			CHECK_INT(r.pref[i], 30);	/* lower-cased */
		else
			CHECK_STR(r.name[i], "(an MX host of the zone)");
		CHECK_INT(r.ttl[i], 300);
	}

	/* Asked in capitals with a trailing dot: the same name. */
	lookup("A.DNS.Test.", DNS_T_A, &r);
	CHECK_INT(r.status, DNS_OK);
	CHECK_STR(r.qname, "a.dns.test");
	CHECK_INT(r.n, 2);
	CHECK(strcmp(r.addr[0], "192.0.2.1") == 0 ||
	    strcmp(r.addr[1], "192.0.2.1") == 0);
	CHECK(strcmp(r.addr[0], "192.0.2.2") == 0 ||
	    strcmp(r.addr[1], "192.0.2.2") == 0);
	CHECK_INT(r.ttl[0], 3600);

	lookup("a.dns.test", DNS_T_AAAA, &r);
	CHECK_INT(r.status, DNS_OK);
	CHECK_INT(r.n, 1);
	CHECK_STR(r.addr[0], "2001:db8::1");
	CHECK_INT(r.ttl[0], 1800);

	lookup("ns.dns.test", DNS_T_NS, &r);
	CHECK_INT(r.status, DNS_OK);
	CHECK_INT(r.n, 2);
	CHECK(strcmp(r.name[0], "ns1.provider.test") == 0 ||
	    strcmp(r.name[1], "ns1.provider.test") == 0);
	CHECK(strcmp(r.name[0], "ns2.provider.test") == 0 ||
	    strcmp(r.name[1], "ns2.provider.test") == 0);

	lookup("txt.dns.test", DNS_T_TXT, &r);
	CHECK_INT(r.status, DNS_OK);
	CHECK_INT(r.n, 1);
	CHECK_STR(r.txt[0], "v=spf1 include:_spf.provider.test -all");

	/* Four strings of 250 bytes in one record: over 512 bytes, so the
	 * answer needs EDNS. */
	lookup("longtxt.dns.test", DNS_T_TXT, &r);
	CHECK_INT(r.status, DNS_OK);
	CHECK_INT(r.n, 1);
	CHECK(r.txt[0] != NULL && strlen(r.txt[0]) == 1000);
	CHECK(r.txt[0] != NULL && r.txt[0][0] == 'a' &&
	    r.txt[0][250] == 'b' && r.txt[0][999] == 'd');

	/* A record over DNS_TXT_MAX (4250 bytes, over TCP) is skipped, the
	 * short one beside it kept. */
	lookup("big.dns.test", DNS_T_TXT, &r);
	CHECK_INT(r.status, DNS_OK);
	CHECK_INT(r.n, 1);
	CHECK_STR(r.txt[0], "ok");

	lookup("nullmx.dns.test", DNS_T_MX, &r);
	CHECK_INT(r.status, DNS_OK);
	CHECK_INT(r.n, 1);
	CHECK_STR(r.name[0], "");
	CHECK_INT(r.pref[0], 0);

	lookup("nx.dns.test", DNS_T_A, &r);
	CHECK_INT(r.status, DNS_NXDOMAIN);
	CHECK_INT(r.n, 0);

	lookup("a.dns.test", DNS_T_MX, &r);
	CHECK_INT(r.status, DNS_NODATA);
	CHECK_INT(r.n, 0);

	lookup("x.servfail.test", DNS_T_A, &r);
	CHECK_INT(r.status, DNS_SERVFAIL);
	CHECK_INT(r.n, 0);

	/* Names refused before any query. */
	uint64_t before = sent();
	lookup("", DNS_T_A, &r);
	CHECK_INT(r.status, DNS_ERROR);
	lookup(".", DNS_T_A, &r);
	CHECK_INT(r.status, DNS_ERROR);
	lookup("a..dns.test", DNS_T_A, &r);
	CHECK_INT(r.status, DNS_ERROR);
	lookup("a dns.test", DNS_T_A, &r);
	CHECK_INT(r.status, DNS_ERROR);
	char name[300];
	memset(name, 'x', 64);
	snprintf(name + 64, sizeof(name) - 64, ".dns.test");
	lookup(name, DNS_T_A, &r);		/* a 64-byte label */
	CHECK_INT(r.status, DNS_ERROR);
	for (int i = 0; i < 254; i += 2)	/* 254 bytes: "x.x. ... x.x" */
		memcpy(name + i, "x.", 2);
	name[253] = '\0';
	lookup(name, DNS_T_A, &r);		/* 253: the longest name */
	CHECK_INT(r.status, DNS_NXDOMAIN);
	name[253] = '.';
	name[254] = 'x';
	name[255] = '\0';
	lookup(name, DNS_T_A, &r);		/* 255 */
	CHECK_INT(r.status, DNS_ERROR);
	CHECK_INT(sent() - before, 1);
	res_clear(&r);
}

static void
test_cname(void)
{
	struct res r = { 0 };

	lookup("c1.dns.test", DNS_T_A, &r);
	CHECK_INT(r.status, DNS_OK);
	CHECK_STR(r.qname, "c1.dns.test");
	CHECK_STR(r.cname, "a.dns.test");
	CHECK_INT(r.n, 2);

	lookup("m1.dns.test", DNS_T_MX, &r);
	CHECK_INT(r.status, DNS_OK);
	CHECK_STR(r.cname, "mx.dns.test");
	CHECK_INT(r.n, 3);

	lookup("ext.dns.test", DNS_T_A, &r);
	CHECK_INT(r.status, DNS_OK);
	CHECK_STR(r.cname, "a.other.test");
	CHECK_INT(r.n, 1);
	CHECK_STR(r.addr[0], "198.51.100.7");

	/* The CNAME itself, asked for: not followed. */
	lookup("c1.dns.test", DNS_T_CNAME, &r);
	CHECK_INT(r.status, DNS_OK);
	CHECK_INT(r.n, 1);
	CHECK_STR(r.name[0], "c2.dns.test");
	CHECK_STR(r.cname, "");

	lookup("dangling.dns.test", DNS_T_A, &r);
	CHECK_INT(r.status, DNS_NXDOMAIN);
	CHECK_STR(r.cname, "nothere.dns.test");

	lookup("loop1.dns.test", DNS_T_A, &r);
	CHECK_INT(r.status, DNS_ERROR);
	CHECK_INT(r.n, 0);

	lookup("e1.dns.test", DNS_T_A, &r);	/* 8 links */
	CHECK_INT(r.status, DNS_OK);
	CHECK_STR(r.cname, "e9.dns.test");
	CHECK_INT(r.n, 1);
	CHECK_STR(r.addr[0], "192.0.2.9");

	lookup("f0.dns.test", DNS_T_A, &r);	/* 9 links */
	CHECK_INT(r.status, DNS_ERROR);
	CHECK_INT(r.n, 0);

	/* An authoritative server sends the whole chain in one answer: one
	 * query; the cache keeps it for the shortest TTL, a link's 100 s. */
	uint64_t before = sent();
	lookup("c1.chain.test", DNS_T_A, &r);
	CHECK_INT(r.status, DNS_OK);
	CHECK_STR(r.cname, "target.chain.test");
	CHECK_INT(r.n, 1);
	CHECK_STR(r.addr[0], "192.0.2.77");
	CHECK_INT(r.ttl[0], 300);
	CHECK_INT(sent() - before, 1);
	lookup("c1.chain.test", DNS_T_A, &r);
	CHECK_INT(r.from_cache, 1);
	CHECK(r.ttl[0] <= 100 && r.ttl[0] >= 98);
	/* Only the CNAME, no SOA (unbound 1.17 sends none here): the
	 * target is asked, and has no MX. */
	before = sent();
	lookup("nodata.chain.test", DNS_T_MX, &r);
	CHECK_INT(r.status, DNS_NODATA);
	CHECK_STR(r.cname, "target.chain.test");
	CHECK_INT(r.n, 0);
	CHECK_INT(sent() - before, 2);
	res_clear(&r);
}

/* Re-entrancy: the MX callback asks for each host's address, on the same
 * session; some of those are cache hits, answered inside dns_query. */
struct mxwalk {
	struct dns_session *s;
	int		 mx_status;
	int		 hosts;
	int		 addrs;
	int		 calls;
};

static void
mx_addr_cb(void *arg, const struct dns_answer *a)
{
	struct mxwalk *w = arg;

	w->calls++;
	if (a->status == DNS_OK)
		w->addrs += (int)a->n;
}

static void
mx_cb(void *arg, const struct dns_answer *a)
{
	struct mxwalk *w = arg;

	w->mx_status = a->status;
	for (size_t i = 0; i < a->n; i++) {
		w->hosts++;
		CHECK_INT(dns_query(w->s, a->rr[i].name, DNS_T_A, mx_addr_cb,
		    w), 0);
		CHECK_INT(dns_query(w->s, a->rr[i].name, DNS_T_AAAA,
		    mx_addr_cb, w), 0);
	}
}

static void
test_reentry(void)
{
	struct mxwalk w = { 0 };
	char err[256];
	struct res r = { 0 };

	lookup("mx1.dns.test", DNS_T_A, &r);	/* cached: a hit inside */
	res_clear(&r);
	w.s = dns_session_new(0, err, sizeof(err));
	CHECK(w.s != NULL);
	if (w.s == NULL)
		return;
	CHECK_INT(dns_query(w.s, "mx.dns.test", DNS_T_MX, mx_cb, &w), 0);
	CHECK_INT(dns_wait(w.s), 0);
	CHECK_INT(w.mx_status, DNS_OK);
	CHECK_INT(w.hosts, 3);
	CHECK_INT(w.calls, 6);
	CHECK_INT(w.addrs, 4);	/* mx1 A, mx2 A and AAAA, mx3 A */
	dns_session_free(w.s);
}

static void
test_cache(struct dns_config *c)
{
	struct res r = { 0 };
	struct dns_stats st0, st1;
	uint64_t q0, h0, t0;

	/* The second lookup is answered from the cache: one query sent
	 * (run.sh checks the server saw exactly one), one lookup timed. */
	q0 = sent();
	h0 = hits();
	t0 = timed();
	dns_get_stats(&st0);
	lookup("cached.dns.test", DNS_T_A, &r);
	CHECK_INT(r.status, DNS_OK);
	CHECK_INT(r.from_cache, 0);
	lookup("CACHED.dns.test.", DNS_T_A, &r);
	CHECK_INT(r.status, DNS_OK);
	CHECK_INT(r.from_cache, 1);
	CHECK_INT(r.n, 1);
	CHECK_STR(r.addr[0], "192.0.2.60");
	CHECK(r.ttl[0] <= 300 && r.ttl[0] >= 298);
	CHECK_INT(sent() - q0, 1);
	CHECK_INT(hits() - h0, 1);
	CHECK_INT(timed() - t0, 1);
	/* A loopback server answers within the 2.5 s bucket, valgrind or
	 * not, and the sum grew by that lookup's time. */
	dns_get_stats(&st1);
	{
		uint64_t fast = 0;

		for (int i = 0; i < DNS_LATENCY_BUCKETS &&
		    dns_latency_bounds_us[i] <= 2500000; i++)
			fast += st1.latency[i] - st0.latency[i];
		CHECK_INT(fast, 1);
	}
	CHECK(st1.latency_sum_us > st0.latency_sum_us);
	/* Another type of the same name is another entry. */
	lookup("cached.dns.test", DNS_T_AAAA, &r);
	CHECK_INT(r.status, DNS_NODATA);
	CHECK_INT(r.from_cache, 0);
	lookup("cached.dns.test", DNS_T_AAAA, &r);
	CHECK_INT(r.status, DNS_NODATA);
	CHECK_INT(r.from_cache, 1);

	/* A CNAME chain's answer is kept under the name asked. */
	lookup("m1.dns.test", DNS_T_MX, &r);
	CHECK_INT(r.from_cache, 1);
	CHECK_STR(r.cname, "mx.dns.test");
	CHECK_INT(r.n, 3);

	/* Negative caching. */
	lookup("nx2.dns.test", DNS_T_A, &r);
	CHECK_INT(r.status, DNS_NXDOMAIN);
	CHECK_INT(r.from_cache, 0);
	lookup("nx2.dns.test", DNS_T_A, &r);
	CHECK_INT(r.status, DNS_NXDOMAIN);
	CHECK_INT(r.from_cache, 1);

	/* SERVFAIL is not cached. */
	q0 = sent();
	lookup("y.servfail.test", DNS_T_A, &r);
	CHECK_INT(r.status, DNS_SERVFAIL);
	lookup("y.servfail.test", DNS_T_A, &r);
	CHECK_INT(r.status, DNS_SERVFAIL);
	CHECK_INT(r.from_cache, 0);
	CHECK_INT(sent() - q0, 2);

	/* Expiry: short (TTL 1, min_ttl 0) and nx2 (neg_ttl 2) expire;
	 * clamp (TTL 1, cached with min_ttl 60) stays; long (TTL 3600,
	 * cached with max_ttl 1) expires. */
	lookup("short.dns.test", DNS_T_A, &r);
	CHECK_INT(r.status, DNS_OK);
	CHECK_INT(r.ttl[0], 1);
	c->min_ttl = 60;
	reconf(c);
	lookup("clamp.dns.test", DNS_T_A, &r);
	CHECK_INT(r.status, DNS_OK);
	c->min_ttl = 0;
	c->max_ttl = 1;
	reconf(c);
	lookup("long.dns.test", DNS_T_A, &r);
	CHECK_INT(r.status, DNS_OK);
	c->max_ttl = 3600;
	reconf(c);
	lookup("short.dns.test", DNS_T_A, &r);
	CHECK_INT(r.from_cache, 1);
	lookup("long.dns.test", DNS_T_A, &r);
	CHECK_INT(r.from_cache, 1);
	CHECK_INT(r.ttl[0], 1);		/* what is left, not 3600 */

	sleep(3);	/* about expiry, not speed: past every TTL above */
	q0 = sent();
	lookup("short.dns.test", DNS_T_A, &r);
	CHECK_INT(r.status, DNS_OK);
	CHECK_INT(r.from_cache, 0);
	lookup("nx2.dns.test", DNS_T_A, &r);
	CHECK_INT(r.status, DNS_NXDOMAIN);
	CHECK_INT(r.from_cache, 0);
	lookup("long.dns.test", DNS_T_A, &r);
	CHECK_INT(r.from_cache, 0);
	lookup("clamp.dns.test", DNS_T_A, &r);
	CHECK_INT(r.status, DNS_OK);
	CHECK_INT(r.from_cache, 1);
	CHECK_STR(r.addr[0], "192.0.2.52");
	CHECK_INT(r.ttl[0], 1);
	CHECK_INT(sent() - q0, 3);

	/* LRU: two entries.  A changed size starts an empty cache. */
	c->cache_size = 2;
	reconf(c);
	lookup("lru1.dns.test", DNS_T_A, &r);
	CHECK_INT(r.from_cache, 0);
	lookup("lru2.dns.test", DNS_T_A, &r);
	CHECK_INT(r.from_cache, 0);
	lookup("lru1.dns.test", DNS_T_A, &r);	/* lru1 now the newest */
	CHECK_INT(r.from_cache, 1);
	lookup("lru3.dns.test", DNS_T_A, &r);	/* evicts lru2 */
	CHECK_INT(r.from_cache, 0);
	lookup("lru1.dns.test", DNS_T_A, &r);
	CHECK_INT(r.from_cache, 1);
	lookup("lru3.dns.test", DNS_T_A, &r);
	CHECK_INT(r.from_cache, 1);
	lookup("lru2.dns.test", DNS_T_A, &r);	/* asked again */
	CHECK_INT(r.from_cache, 0);
	CHECK_STR(r.addr[0], "192.0.2.62");

	/* No cache at all. */
	c->cache_size = 0;
	reconf(c);
	lookup("lru2.dns.test", DNS_T_A, &r);
	CHECK_INT(r.from_cache, 0);
	lookup("lru2.dns.test", DNS_T_A, &r);
	CHECK_INT(r.from_cache, 0);
	c->cache_size = 1000;
	reconf(c);
	res_clear(&r);
}

static void
test_timeouts(struct dns_config *c)
{
	struct res r[5];
	char err[256], name[64];
	struct dns_session *s;
	int64_t t0, dt;

	memset(r, 0, sizeof(r));
	/* One query, timeout 300 ms, one try. */
	t0 = ms_now();
	lookup("t0.blackhole.test", DNS_T_A, &r[0]);
	dt = ms_now() - t0;
	CHECK_INT(r[0].status, DNS_TIMEOUT);
	CHECK(dt >= 250);
	CHECK(dt < 300 + 400 * slow);
	res_clear(&r[0]);

	/* Five at once take one timeout, not five. */
	s = dns_session_new(0, err, sizeof(err));
	CHECK(s != NULL);
	if (s == NULL)
		return;
	t0 = ms_now();
	for (int i = 0; i < 5; i++) {
		snprintf(name, sizeof(name), "p%d.blackhole.test", i);
		CHECK_INT(dns_query(s, name, DNS_T_A, collect, &r[i]), 0);
	}
	CHECK_INT(dns_wait(s), 0);
	dt = ms_now() - t0;
	for (int i = 0; i < 5; i++) {
		CHECK_INT(r[i].calls, 1);
		CHECK_INT(r[i].status, DNS_TIMEOUT);
	}
	CHECK(dt < 300 + 400 * slow);
	CHECK(dns_session_left_ms(s) > 0);
	dns_session_free(s);

	/* The session's budget cuts queries whose own timeout is longer. */
	c->timeout_ms = 2000;
	c->tries = 2;
	reconf(c);
	memset(r, 0, sizeof(r));
	lookup("a.dns.test", DNS_T_A, &r[4]);	/* cached for below */
	res_clear(&r[4]);
	t0 = ms_now();
	s = dns_session_new(500, err, sizeof(err));
	CHECK(s != NULL);
	if (s == NULL)
		return;
	CHECK(dns_session_left_ms(s) <= 500 && dns_session_left_ms(s) > 400);
	for (int i = 0; i < 4; i++) {
		snprintf(name, sizeof(name), "b%d.blackhole.test", i);
		CHECK_INT(dns_query(s, name, DNS_T_A, collect, &r[i]), 0);
	}
	CHECK_INT(dns_wait(s), DNS_TIMEOUT);
	dt = ms_now() - t0;
	CHECK(dt >= 450);
	CHECK(dt < 500 + 400 * slow);
	for (int i = 0; i < 4; i++) {
		CHECK_INT(r[i].calls, 1);
		CHECK_INT(r[i].status, DNS_TIMEOUT);
	}
	CHECK_INT(dns_session_left_ms(s), 0);
	/* Past the deadline a name not cached times out at once; a cached
	 * one is still answered (a fact at no cost). */
	CHECK_INT(dns_query(s, "b9.blackhole.test", DNS_T_A, collect, &r[4]),
	    0);
	CHECK_INT(r[4].calls, 1);
	CHECK_INT(r[4].status, DNS_TIMEOUT);
	CHECK_INT(dns_query(s, "a.dns.test", DNS_T_A, collect, &r[4]), 0);
	CHECK_INT(r[4].calls, 2);
	CHECK_INT(r[4].status, DNS_OK);
	CHECK_INT(r[4].from_cache, 1);
	CHECK_INT(dns_wait(s), 0);
	dns_session_free(s);

	/* A session freed with queries still out: each completes once. */
	memset(r, 0, sizeof(r));
	s = dns_session_new(0, err, sizeof(err));
	CHECK(s != NULL);
	if (s == NULL)
		return;
	CHECK_INT(dns_query(s, "f.blackhole.test", DNS_T_A, collect, &r[0]),
	    0);
	dns_session_free(s);
	CHECK_INT(r[0].calls, 1);
	CHECK_INT(r[0].status, DNS_TIMEOUT);

	c->timeout_ms = 300;
	c->tries = 1;
	reconf(c);
	for (int i = 0; i < 5; i++)
		res_clear(&r[i]);
}

/* Every server silent; then a silent one first and the real one second. */
static void
test_silent(struct dns_config *c)
{
	struct res r = { 0 };
	char saved[sizeof(c->servers)];

	if (silent == NULL || *silent == '\0') {
		fprintf(stderr, "# DM_DNS_SILENT not set: silent server "
		    "checks left out\n");
		return;
	}
	memcpy(saved, c->servers, sizeof(saved));
	snprintf(c->servers, sizeof(c->servers), "%s", silent);
	reconf(c);
	lookup("silent1.dns.test", DNS_T_A, &r);
	CHECK_INT(r.status, DNS_TIMEOUT);

	snprintf(c->servers, sizeof(c->servers), "%.200s,%.200s", silent, saved);
	reconf(c);
	lookup("mx2.dns.test", DNS_T_AAAA, &r);
	CHECK_INT(r.status, DNS_OK);
	CHECK_INT(r.n, 1);
	CHECK_STR(r.addr[0], "2001:db8::12");

	memcpy(c->servers, saved, sizeof(saved));
	reconf(c);
	res_clear(&r);
}

/* Open file descriptors of this process. */
static int
open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

/* One session, the given names (A) asked at once. */
static void
session_of(const char *const *names, size_t n, struct res *r)
{
	char err[256];
	struct dns_session *s = dns_session_new(0, err, sizeof(err));

	CHECK(s != NULL);
	if (s == NULL)
		return;
	for (size_t i = 0; i < n; i++) {
		res_clear(&r[i]);
		CHECK_INT(dns_query(s, names[i], DNS_T_A, collect, &r[i]), 0);
	}
	CHECK_INT(dns_wait(s), 0);
	dns_session_free(s);
}

/*
 * Channels are made at a cache miss only, kept in a pool and reused; a
 * reconfigure or a changed resolver file starts afresh and never takes
 * an older channel again.
 */
static void
test_pool(struct dns_config *c)
{
	static const char *const cached[] = { "a.dns.test", "mx1.dns.test",
	    "mx3.dns.test" };
	struct res r[3];
	char err[256];
	struct dns_session *s1, *s2;
	uint64_t ch0, q0;
	int op0, fd0;
	FILE *f;

	memset(r, 0, sizeof(r));
	reconf(c);		/* a known pool: one idle channel */
	session_of(cached, 3, r);	/* cached from here on */

	/* All answered by the cache: no channel, no file, no query. */
	ch0 = channels();
	op0 = resolv_opens;
	q0 = sent();
	for (int round = 0; round < 3; round++) {
		session_of(cached, 3, r);
		for (int i = 0; i < 3; i++) {
			CHECK_INT(r[i].status, DNS_OK);
			CHECK_INT(r[i].from_cache, 1);
		}
	}
	CHECK_INT(channels() - ch0, 0);
	CHECK_INT(resolv_opens - op0, 0);
	CHECK_INT(sent() - q0, 0);

	/* Misses: the idle channel serves the first session; a second one
	 * missing at the same time needs a channel of its own, which reads
	 * the resolver file.  Given back, both serve later sessions. */
	s1 = dns_session_new(0, err, sizeof(err));
	s2 = dns_session_new(0, err, sizeof(err));
	CHECK(s1 != NULL && s2 != NULL);
	if (s1 == NULL || s2 == NULL)
		return;
	ch0 = channels();
	op0 = resolv_opens;
	CHECK_INT(dns_query(s1, "pool1.dns.test", DNS_T_A, collect, &r[0]),
	    0);
	CHECK_INT(channels() - ch0, 0);
	CHECK_INT(dns_query(s2, "pool2.dns.test", DNS_T_A, collect, &r[1]),
	    0);
	CHECK_INT(channels() - ch0, 1);
	CHECK_INT(resolv_opens - op0, 1);
	CHECK_INT(dns_wait(s1), 0);
	CHECK_INT(dns_wait(s2), 0);
	CHECK_INT(r[0].status, DNS_NXDOMAIN);
	CHECK_INT(r[1].status, DNS_NXDOMAIN);
	dns_session_free(s1);
	dns_session_free(s2);
	{
		static const char *const fresh[] = { "pool3.dns.test" };

		for (int i = 0; i < 4; i++) {
			session_of(fresh, 1, r);
			CHECK_INT(r[0].status, DNS_NXDOMAIN);
		}
	}
	CHECK_INT(channels() - ch0, 1);
	CHECK_INT(resolv_opens - op0, 1);

	/* A session that ends with a query still out gives back a channel
	 * that serves the next one as if new. */
	s1 = dns_session_new(0, err, sizeof(err));
	CHECK(s1 != NULL);
	if (s1 == NULL)
		return;
	res_clear(&r[0]);
	CHECK_INT(dns_query(s1, "pool4.blackhole.test", DNS_T_A, collect,
	    &r[0]), 0);
	dns_session_free(s1);
	CHECK_INT(r[0].calls, 1);
	CHECK_INT(r[0].status, DNS_TIMEOUT);
	{
		static const char *const next[] = { "mx2.dns.test" };

		lookup("pool5.dns.test", DNS_T_A, &r[1]);
		CHECK_INT(r[1].status, DNS_NXDOMAIN);
		session_of(next, 1, r);
		CHECK_INT(r[0].status, DNS_OK);
	}
	CHECK_INT(channels() - ch0, 1);
	/* Idle channels hold no socket: c-ares closes them when its last
	 * query ends. */
	fd0 = open_fds();
	lookup("pool6.dns.test", DNS_T_A, &r[0]);
	CHECK_INT(open_fds(), fd0);

	/* A reconfigure: one new channel (it proves the settings), then
	 * that one is taken; the old ones are gone.  Pointed at a server
	 * that never answers, a fresh name times out: no channel still
	 * aimed at the real server is used. */
	if (silent != NULL && *silent != '\0') {
		char saved[sizeof(c->servers)];

		memcpy(saved, c->servers, sizeof(saved));
		snprintf(c->servers, sizeof(c->servers), "%s", silent);
		ch0 = channels();
		op0 = resolv_opens;
		reconf(c);
		CHECK_INT(channels() - ch0, 1);
		CHECK_INT(resolv_opens - op0, 1);
		lookup("pool7.dns.test", DNS_T_A, &r[0]);
		CHECK_INT(r[0].status, DNS_TIMEOUT);
		/* Two sessions at once: the second makes a channel, where
		 * an old one would have answered. */
		s1 = dns_session_new(0, err, sizeof(err));
		s2 = dns_session_new(0, err, sizeof(err));
		CHECK(s1 != NULL && s2 != NULL);
		if (s1 == NULL || s2 == NULL)
			return;
		res_clear(&r[0]);
		res_clear(&r[1]);
		CHECK_INT(dns_query(s1, "pool8.dns.test", DNS_T_A, collect,
		    &r[0]), 0);
		CHECK_INT(dns_query(s2, "pool9.dns.test", DNS_T_A, collect,
		    &r[1]), 0);
		(void)dns_wait(s1);
		(void)dns_wait(s2);
		dns_session_free(s1);
		dns_session_free(s2);
		CHECK_INT(r[0].status, DNS_TIMEOUT);
		CHECK_INT(r[1].status, DNS_TIMEOUT);
		CHECK_INT(channels() - ch0, 2);
		memcpy(c->servers, saved, sizeof(saved));
		reconf(c);
		lookup("pool7.dns.test", DNS_T_A, &r[0]);
		CHECK_INT(r[0].status, DNS_NXDOMAIN);
		CHECK_INT(channels() - ch0, 3);
	}

	/* The resolver file changes: at the next miss (a second later at
	 * most) a new channel reads it; unchanged, nothing is read. */
	usleep(1100 * 1000);
	ch0 = channels();
	op0 = resolv_opens;
	lookup("pool12.dns.test", DNS_T_A, &r[0]);
	CHECK_INT(channels() - ch0, 0);
	CHECK_INT(resolv_opens - op0, 0);
	if ((f = fopen(resolv_path, "a")) != NULL) {
		fputs("# changed\n", f);
		fclose(f);
	}
	op0 = resolv_opens;	/* the fopen above */
	usleep(1100 * 1000);
	lookup("pool10.dns.test", DNS_T_A, &r[0]);
	CHECK_INT(r[0].status, DNS_NXDOMAIN);
	CHECK_INT(channels() - ch0, 1);
	CHECK_INT(resolv_opens - op0, 1);
	lookup("pool11.dns.test", DNS_T_A, &r[0]);
	CHECK_INT(channels() - ch0, 1);
	for (int i = 0; i < 3; i++)
		res_clear(&r[i]);
}

/* Four threads, a session each per round, sharing the cache. */
static int thread_bad;

static void *
worker(void *arg)
{
	static const struct { const char *name; int type; int status;
	    size_t n; } q[] = {
		{ "a.dns.test", DNS_T_A, DNS_OK, 2 },
		{ "mx.dns.test", DNS_T_MX, DNS_OK, 3 },
		{ "txt.dns.test", DNS_T_TXT, DNS_OK, 1 },
		{ "c1.dns.test", DNS_T_A, DNS_OK, 2 },
		{ "nx3.dns.test", DNS_T_A, DNS_NXDOMAIN, 0 },
		{ "ns.dns.test", DNS_T_NS, DNS_OK, 2 },
	};
	struct res r[6];
	char err[256];
	int id = *(int *)arg, bad = 0;

	memset(r, 0, sizeof(r));
	for (int round = 0; round < 30; round++) {
		struct dns_session *s = dns_session_new(0, err, sizeof(err));

		if (s == NULL) {
			bad++;
			continue;
		}
		for (int i = 0; i < 6; i++) {
			int k = (i + id + round) % 6;

			res_clear(&r[k]);
			if (dns_query(s, q[k].name, q[k].type, collect,
			    &r[k]) != 0)
				bad++;
		}
		if (dns_wait(s) != 0)
			bad++;
		for (int k = 0; k < 6; k++)
			if (r[k].calls != 1 || (int)r[k].status !=
			    q[k].status || r[k].n != q[k].n)
				bad++;
		dns_session_free(s);
	}
	for (int k = 0; k < 6; k++)
		res_clear(&r[k]);
	__atomic_add_fetch(&thread_bad, bad, __ATOMIC_SEQ_CST);
	return NULL;
}

static void
test_threads(struct dns_config *c)
{
	pthread_t t[4];
	int id[4];

	uint64_t ch0;

	/* A small cache: threads evict each other's entries. */
	c->cache_size = 3;
	reconf(c);
	ch0 = channels();
	for (int i = 0; i < 4; i++) {
		id[i] = i;
		CHECK_INT(pthread_create(&t[i], NULL, worker, &id[i]), 0);
	}
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	CHECK_INT(thread_bad, 0);
	/* 120 sessions, most of them missing the cache: never more
	 * channels than sessions at a time (the reconfigure's among
	 * them). */
	CHECK(channels() - ch0 <= 3);
}

int
main(void)
{
	struct dns_config c;
	struct dns_stats st;
	char err[256];

	test_addr();
	test_setup();
	server = getenv("DM_DNS_SERVER");
	silent = getenv("DM_DNS_SILENT");
	if (getenv("DM_DNS_SLOW") != NULL)
		slow = 3;
	if (server == NULL || *server == '\0') {
		/* Alone (make check, check-valgrind): the offline part. */
		printf("# DM_DNS_SERVER not set: the checks against a server "
		    "run in tests/dns/run.sh\n");
		return T_DONE();
	}
	{
		const char *tmp = getenv("TMPDIR");
		int fd;

		snprintf(resolv_path, sizeof(resolv_path), "%.40s/resolvXXXXXX",
		    tmp != NULL && *tmp != '\0' && strlen(tmp) < 40 ? tmp :
		    "/tmp");
		if ((fd = mkstemp(resolv_path)) == -1 ||
		    write(fd, "nameserver 127.0.0.1\n", 21) != 21) {
			perror(resolv_path);
			return 1;
		}
		close(fd);
	}
	config(&c, server);
	if (dns_init(&c, err, sizeof(err)) != 0) {
		fprintf(stderr, "dns_init: %s\n", err);
		return 1;
	}
	dns_get_stats(&st);
	CHECK_INT(st.queries, 0);

	test_answers();
	test_cname();
	test_reentry();
	test_cache(&c);
	test_timeouts(&c);
	test_silent(&c);
	test_pool(&c);
	test_threads(&c);

	dns_get_stats(&st);
	CHECK(st.timeouts >= 12);
	CHECK(st.failures >= 3);
	printf("# stats: %llu queries, %llu cache hits, %llu timeouts, "
	    "%llu failures\n", (unsigned long long)st.queries,
	    (unsigned long long)st.cache_hits,
	    (unsigned long long)st.timeouts,
	    (unsigned long long)st.failures);
	dns_fini();
	unlink(resolv_path);
	return T_DONE();
}
