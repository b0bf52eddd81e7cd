/*
 * spf.c - SPF through libspf2, kept narrow and screened (see spf.h).
 *
 * Interface
 *	spf_init, spf_config_default, spf_configure, spf_fini,
 *	spf_get_stats, spf_is_record, spf_screen, spf_parse,
 *	spf_check_host, spf_result_name.
 *
 * Why the screen.  CVE-2023-42118 (ZDI-23-1472) is an integer underflow
 * in libspf2's SPF macro parsing, reached through a crafted SPF record
 * that any sender domain's owner publishes.  ZDI published no details;
 * the one underflow found since (shevek/libspf2 issue #45, fixed upstream
 * by PR #44 in spf_compile.c) is the space left for a string literal in
 * SPF_c_parse_macro, "ds_avail = _avail", which must leave room for the
 * SPF_data_t header ("ds_avail = _avail - sizeof(SPF_data_t)"); the
 * compiled macro is later walked by SPF_record_expand_data.  Debian 12's
 * libspf2 1.2.10-7.2 has the CVE-2021-20314 fix and nothing after it.
 * So no '%' ever reaches libspf2 from outside: with no '%' a record's
 * domain-specs compile to plain string literals (at most 255 bytes each,
 * inside the compiler's 4096-byte buffers), and expansion only copies
 * them.  The length, term and character limits keep the rest of the
 * compiler on short, plain input.
 *
 * Evaluation.  spf_check_host gives libspf2 a DNS layer of our own: its
 * lookups go through dns.h on the caller's session (cache, servers,
 * deadline), every TXT record that is not an SPF record is dropped (an
 * exp= text would otherwise reach the macro compiler), every SPF record
 * goes through spf_screen, and the layer's get_spf hook compiles the
 * records itself so that the nesting depth is known.  The explanation is
 * set to a fixed text without macros.  Limits: 10 DNS-querying terms per
 * record (libspf2, RFC 7208), SPF_MAX_LOOKUPS queries per evaluation and
 * the session's deadline (the layer answers TRY_AGAIN past either, the
 * result is temperror), SPF_MAX_DEPTH include/redirect nesting
 * (permerror).  PTR and type-99 SPF queries are answered "no data"
 * without a query.
 *
 * The verdict cache (spf.h) is lru.h's table under spf_lock, keyed by
 * the client address in binary and the lower-case domain.  While an
 * evaluation runs, its DNS layer notes the least dns_answer.ttl of what
 * it was given and whether any lookup failed; that decides whether and
 * for how long the verdict is kept.  A hit copies the result and the
 * reason out under the lock: no allocation, no formatting.
 *
 * libspf2's error handler is called only for programming errors (a NULL
 * argument, a DNS layer returning NULL) and libspf2 aborts after it
 * returns; ours logs first.  This module never gives libspf2 a NULL and
 * its DNS layer never returns NULL (a reserve of answers covers running
 * out of memory).
 *
 * Diagnostics
 *	libspf2's messages are logged with log_warnx (errors, warnings) and
 *	log_debug (info, debug).  Only domains are ever handed to libspf2
 *	("postmaster" stands in for the local part).
 */
#include "config.h"

#include <sys/types.h>
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <spf2/spf.h>

#include "dns.h"
#include "log.h"
#include "lru.h"
#include "spf.h"
#include "util.h"

#define SPF_MAX_LOOKUPS	20	/* DNS queries per evaluation */
#define SPF_RESERVE	4	/* answers kept for out-of-memory */
#define SPF_MAX_NAMES	1024	/* depth table entries per evaluation */
#define SPF_EXPLANATION	"see the SPF policy of the sender domain"

/* The parsed records (spf_parse): memo_lock. */
static pthread_mutex_t memo_lock = PTHREAD_MUTEX_INITIALIZER;
static struct lru *memo;

/* libspf2 1.2.10 lays a compiled record out in 4-byte aligned units
 * (spf_internal.h, not installed): an SPF_mech_t header then its data
 * (struct in_addr / in6_addr for ip4 / ip6, whose CIDR is in mech_len,
 * 0 meaning /32 or /128; else mech_len bytes of SPF_data_t items); an
 * SPF_mod_t header, the name, then data_len bytes of items. */
#define SPF_ALIGN(n)	(((n) + 3) & ~(size_t)3)

static void __attribute__((noreturn))
spf_log_error(const char *file, int line, const char *msg)
{
	log_warnx("spf: libspf2 error (%s:%d): %s", file ? file : "?", line,
	    msg);
	/* libspf2's SPF_errorx aborts when we return; say so before. */
	log_warnx("spf: libspf2 aborts after an internal error");
	abort();
}

static void
spf_log_warning(const char *file, int line, const char *msg)
{
	(void)file;
	(void)line;
	log_warnx("spf: libspf2: %s", msg);
}

static void
spf_log_debug(const char *file, int line, const char *msg)
{
	(void)file;
	(void)line;
	log_debug("spf: libspf2: %s", msg);
}

int
spf_init(char *err, size_t errlen)
{
	SPF_error_handler = spf_log_error;
	SPF_warning_handler = spf_log_warning;
	SPF_info_handler = spf_log_debug;
	SPF_debug_handler = spf_log_debug;
	if (errlen > 0)
		err[0] = '\0';
	pthread_mutex_lock(&memo_lock);
	if (memo == NULL && (memo = malloc(sizeof(*memo))) != NULL &&
	    lru_init(memo, SPF_PARSE_MEMO) != 0) {
		free(memo);
		memo = NULL;	/* every record parsed: slower, not wrong */
	}
	pthread_mutex_unlock(&memo_lock);
	return 0;
}

/* --- the verdict cache ---------------------------------------------- */

struct vkey {
	unsigned char	family;		/* 4 or 6 */
	unsigned char	addr[16];
	size_t		dlen;
	char		domain[DNS_NAME_MAX];	/* lower case */
};

struct ventry {
	struct lru_node	 node;		/* first: the cache's links */
	int64_t		 expires;	/* monotonic ms */
	enum spf_result	 result;
	struct vkey	 key;
	char		 why[SPF_WHY_MAX];
};

static pthread_mutex_t spf_lock = PTHREAD_MUTEX_INITIALIZER;
static struct lru *spf_cache;
static _Atomic uint64_t st_hits, st_misses;

void
spf_config_default(struct spf_config *c)
{
	memset(c, 0, sizeof(*c));
	c->cache_size = 10000;
}

/* Entries of either table are one allocation each. */
static void
node_free(struct lru_node *n)
{
	free(n);
}

static void
table_free(struct lru *c)
{
	if (c != NULL) {
		lru_fini(c, node_free);
		free(c);
	}
}

int
spf_configure(const struct spf_config *c, char *err, size_t errlen)
{
	struct lru *nc = NULL, *old;

	if (c->cache_size > 0) {
		if ((nc = malloc(sizeof(*nc))) == NULL ||
		    lru_init(nc, c->cache_size) != 0) {
			free(nc);
			nc = NULL;
		}
	}
	pthread_mutex_lock(&spf_lock);
	old = spf_cache;
	spf_cache = nc;
	pthread_mutex_unlock(&spf_lock);
	table_free(old);
	if (c->cache_size > 0 && nc == NULL) {
		seterr(err, errlen, "spf: cache: out of memory");
		return -1;
	}
	return 0;
}

void
spf_fini(void)
{
	struct lru *old;

	pthread_mutex_lock(&spf_lock);
	old = spf_cache;
	spf_cache = NULL;
	pthread_mutex_unlock(&spf_lock);
	table_free(old);
	pthread_mutex_lock(&memo_lock);
	old = memo;
	memo = NULL;
	pthread_mutex_unlock(&memo_lock);
	table_free(old);
}

void
spf_get_stats(struct spf_stats *st)
{
	st->cache_hits = atomic_load_explicit(&st_hits, memory_order_relaxed);
	st->cache_misses = atomic_load_explicit(&st_misses,
	    memory_order_relaxed);
}

/* The key of (client_ip, domain): 0, or -1 when the address does not
 * parse (that check is not kept) or the domain does not fit. */
static int
vkey_make(const char *client_ip, const char *domain, struct vkey *k)
{
	size_t len = strnlen(domain, DNS_NAME_MAX);

	memset(k->addr, 0, sizeof(k->addr));
	if (inet_pton(AF_INET, client_ip, k->addr) == 1)
		k->family = 4;
	else if (inet_pton(AF_INET6, client_ip, k->addr) == 1)
		k->family = 6;
	else
		return -1;
	if (len == 0 || len >= DNS_NAME_MAX)
		return -1;
	for (size_t i = 0; i < len; i++) {
		char ch = domain[i];

		k->domain[i] = ch >= 'A' && ch <= 'Z' ? (char)(ch - 'A' + 'a') :
		    ch;
	}
	k->domain[len] = '\0';
	k->dlen = len;
	return 0;
}

static uint32_t
vkey_hash(const struct vkey *k)
{
	return lru_hash(lru_hash(k->family, k->addr, sizeof(k->addr)),
	    k->domain, k->dlen);
}

static int
ventry_is(const struct lru_node *n, const void *key)
{
	const struct vkey *a = &((const struct ventry *)n)->key, *b = key;

	return a->family == b->family && a->dlen == b->dlen &&
	    memcmp(a->addr, b->addr, sizeof(a->addr)) == 0 &&
	    memcmp(a->domain, b->domain, a->dlen) == 0;
}

/* The kept verdict for k into *res and why: 1, or 0 when none (or it
 * expired). */
static int
cache_get(const struct vkey *k, enum spf_result *res, char *why,
    size_t whylen)
{
	struct ventry *e;
	int hit = 0;

	pthread_mutex_lock(&spf_lock);
	if (spf_cache == NULL ||
	    (e = (struct ventry *)lru_find(spf_cache, vkey_hash(k),
	    ventry_is, k)) == NULL)
		goto out;
	if (e->expires <= util_mono_ms()) {
		lru_remove(spf_cache, &e->node);
		free(e);
		goto out;
	}
	lru_touch(spf_cache, &e->node);
	*res = e->result;
	if (why != NULL && whylen > 0)
		util_copy(why, whylen, e->why);
	hit = 1;
out:
	pthread_mutex_unlock(&spf_lock);
	return hit;
}

/* Keep a verdict for ttl seconds (0: not kept). */
static void
cache_put(const struct vkey *k, enum spf_result res, const char *why,
    uint32_t ttl)
{
	struct ventry *e, *old;

	if (ttl == 0 || (e = malloc(sizeof(*e))) == NULL)
		return;
	e->node.hash = vkey_hash(k);
	e->key = *k;
	e->result = res;
	e->expires = util_mono_ms() + (int64_t)ttl * 1000;
	util_copy(e->why, sizeof(e->why), why);
	pthread_mutex_lock(&spf_lock);
	if (spf_cache == NULL) {
		pthread_mutex_unlock(&spf_lock);
		free(e);
		return;
	}
	/* Two checks of one key at once: the later verdict wins. */
	if ((old = (struct ventry *)lru_find(spf_cache, e->node.hash,
	    ventry_is, k)) != NULL) {
		lru_remove(spf_cache, &old->node);
		free(old);
	}
	old = (struct ventry *)lru_add(spf_cache, &e->node);
	pthread_mutex_unlock(&spf_lock);
	free(old);
}

int
spf_is_record(const char *txt)
{
	if (txt == NULL || strncasecmp(txt, "v=spf1", 6) != 0)
		return 0;
	return txt[6] == '\0' || txt[6] == ' ';
}

int
spf_screen(const char *record, const char **why)
{
	const char *dummy;
	size_t len, i, terms;
	int in_term;

	if (why == NULL)
		why = &dummy;
	*why = NULL;
	if (record == NULL) {
		*why = "bad character";
		return -1;
	}
	len = strnlen(record, SPF_RECORD_MAX + 1);
	if (len > SPF_RECORD_MAX) {
		*why = "too long";
		return -1;
	}
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)record[i];

		if (c < 0x20 || c > 0x7e) {
			*why = "bad character";
			return -1;
		}
	}
	if (memchr(record, '%', len) != NULL) {
		*why = "macro";
		return -1;
	}
	/* libspf2 reads a CIDR length with atoi() and checks only its upper
	 * bound, so a long one wraps: "ip4:192.0.2.0/4294967297" compiles as
	 * /1, "ip6:::/6666666666" as /170.  No valid length has more than
	 * three digits. */
	for (i = 0; i < len; i++)
		if (record[i] == '/' &&
		    strspn(record + i + 1, "0123456789") > 3) {
			*why = "bad cidr length";
			return -1;
		}
	/* Terms after the version, separated by spaces as libspf2 does. */
	terms = 0;
	in_term = 0;
	for (i = 0; i < len; i++) {
		if (record[i] == ' ')
			in_term = 0;
		else if (!in_term) {
			in_term = 1;
			terms++;
		}
	}
	if (terms > 0 && spf_is_record(record))
		terms--;
	if (terms > SPF_MAX_TERMS) {
		*why = "too many terms";
		return -1;
	}
	return 0;
}

/* What a walk over a compiled record reports. */
enum term_kind { TERM_INCLUDE, TERM_REDIRECT, TERM_IP4, TERM_IP6 };

typedef int term_fn(void *arg, enum term_kind, const char *name,
    const void *addr, int prefix);

/* Join the string items of a domain-spec into a lower-case name without
 * a trailing dot.  -1 if an item is not a plain string (cannot happen
 * after the screen) or the name does not fit. */
static int
data_name(const unsigned char *d, size_t len, char *name, size_t namelen)
{
	size_t off = 0, n = 0;

	while (off + sizeof(SPF_data_t) <= len) {
		SPF_data_t item;
		size_t slen = 0;

		memcpy(&item, d + off, sizeof(item));
		if (item.ds.parm_type == PARM_STRING) {
			slen = item.ds.len;
			if (off + sizeof(item) + slen > len ||
			    n + slen >= namelen)
				return -1;
			for (size_t i = 0; i < slen; i++) {
				char c = (char)d[off + sizeof(item) + i];

				if (c >= 'A' && c <= 'Z')
					c = (char)(c - 'A' + 'a');
				name[n++] = c;
			}
		} else if (item.ds.parm_type != PARM_CIDR)
			return -1;
		off = SPF_ALIGN(off + sizeof(item) + slen);
	}
	if (n > 0 && name[n - 1] == '.')
		n--;
	name[n] = '\0';
	return n > 0 ? 0 : -1;
}

/* Walk the mechanisms and modifiers of a compiled record, reporting
 * include, redirect, ip4 and ip6 terms.  Every offset is checked against
 * the record's used sizes.  Returns 0, -1 (malformed, reason in err) or
 * what fn returned when not 0. */
static int
walk_record(const SPF_record_t *r, term_fn *fn, void *arg, char *err,
    size_t errlen)
{
	const unsigned char *base;
	char name[DNS_NAME_MAX];
	size_t off, i;
	int rc;

	base = (const unsigned char *)r->mech_first;
	off = 0;
	for (i = 0; i < r->num_mech; i++) {
		SPF_mech_t m;
		const unsigned char *data;
		size_t dlen;

		if (base == NULL || off + sizeof(m) > r->mech_len)
			goto truncated;
		memcpy(&m, base + off, sizeof(m));
		data = base + off + sizeof(m);
		if (m.mech_type == MECH_IP4)
			dlen = sizeof(struct in_addr);
		else if (m.mech_type == MECH_IP6)
			dlen = sizeof(struct in6_addr);
		else
			dlen = m.mech_len;
		if (off + sizeof(m) + dlen > r->mech_len)
			goto truncated;
		rc = 0;
		switch (m.mech_type) {
		case MECH_IP4: {
			struct in_addr a;

			memcpy(&a, data, sizeof(a));
			rc = fn(arg, TERM_IP4, NULL, &a,
			    m.mech_len ? m.mech_len : 32);
			break;
		}
		case MECH_IP6: {
			struct in6_addr a;

			memcpy(&a, data, sizeof(a));
			rc = fn(arg, TERM_IP6, NULL, &a,
			    m.mech_len ? m.mech_len : 128);
			break;
		}
		case MECH_INCLUDE:
		case MECH_REDIRECT:
			if (data_name(data, dlen, name, sizeof(name)) == -1) {
				seterr(err, errlen, "%s domain unusable",
				    m.mech_type == MECH_INCLUDE ? "include" :
				    "redirect");
				return -1;
			}
			rc = fn(arg, m.mech_type == MECH_INCLUDE ?
			    TERM_INCLUDE : TERM_REDIRECT, name, NULL, 0);
			break;
		default:
			break;
		}
		if (rc != 0)
			return rc;
		off = SPF_ALIGN(off + sizeof(m) + dlen);
	}

	/* libspf2 compiles redirect= as a mechanism; a modifier of that name
	 * is read too so that another layout would not lose it. */
	base = (const unsigned char *)r->mod_first;
	off = 0;
	for (i = 0; i < r->num_mod; i++) {
		SPF_mod_t m;
		size_t doff;

		if (base == NULL || off + sizeof(m) > r->mod_len)
			goto truncated;
		memcpy(&m, base + off, sizeof(m));
		doff = SPF_ALIGN(off + sizeof(m) + m.name_len);
		if (off + sizeof(m) + m.name_len > r->mod_len ||
		    doff + m.data_len > r->mod_len)
			goto truncated;
		if (m.name_len == 8 &&
		    strncasecmp((const char *)base + off + sizeof(m),
		    "redirect", 8) == 0) {
			if (data_name(base + doff, m.data_len, name,
			    sizeof(name)) == -1) {
				seterr(err, errlen, "redirect domain unusable");
				return -1;
			}
			if ((rc = fn(arg, TERM_REDIRECT, name, NULL, 0)) != 0)
				return rc;
		}
		off = SPF_ALIGN(doff + m.data_len);
	}
	return 0;

truncated:
	seterr(err, errlen, "compiled record malformed");
	return -1;
}

static int
terms_add(void *arg, enum term_kind kind, const char *name,
    const void *addr, int prefix)
{
	struct spf_terms *t = arg;
	struct spf_range *r;

	switch (kind) {
	case TERM_INCLUDE:
		if (t->ninclude == SPF_MAX_INCLUDES) {
			t->truncated = 1;
			break;
		}
		snprintf(t->include[t->ninclude++], DNS_NAME_MAX, "%s", name);
		break;
	case TERM_REDIRECT:
		snprintf(t->redirect, sizeof(t->redirect), "%s", name);
		break;
	case TERM_IP4:
	case TERM_IP6:
		if (t->nrange == SPF_MAX_RANGES) {
			t->truncated = 1;
			break;
		}
		if (prefix < 0 || prefix > (kind == TERM_IP4 ? 32 : 128)) {
			t->bad_prefix++;
			break;
		}
		r = &t->range[t->nrange++];
		memset(r, 0, sizeof(*r));
		if (kind == TERM_IP4) {
			r->addr.family = AF_INET;
			memcpy(&r->addr.u.v4, addr, sizeof(r->addr.u.v4));
		} else {
			r->addr.family = AF_INET6;
			memcpy(&r->addr.u.v6, addr, sizeof(r->addr.u.v6));
		}
		r->prefix = prefix;
		break;
	}
	return 0;
}

/* Compile a screened record.  On failure the first error libspf2 gave
 * goes to err and its code is returned; *rp is NULL then. */
static SPF_errcode_t
compile_record(SPF_server_t *server, const char *record, SPF_record_t **rp,
    char *err, size_t errlen)
{
	SPF_response_t *resp;
	SPF_errcode_t code;

	*rp = NULL;
	if ((resp = SPF_response_new(NULL)) == NULL) {
		seterr(err, errlen, "out of memory");
		return SPF_E_NO_MEMORY;
	}
	code = SPF_record_compile(server, resp, rp, record);
	if (code != SPF_E_SUCCESS) {
		const char *msg = SPF_strerror(code);

		for (int i = 0; i < SPF_response_messages(resp); i++) {
			SPF_error_t *e = SPF_response_message(resp, i);

			if (SPF_error_errorp(e)) {
				msg = SPF_error_message(e);
				break;
			}
		}
		seterr(err, errlen, "libspf2: %s", msg ? msg : "error");
		if (*rp != NULL)
			SPF_record_free(*rp);
		*rp = NULL;
	}
	SPF_response_free(resp);
	return code;
}

/* --- parsed records, remembered ------------------------------------ */

/*
 * spf.h's memo: an entry is packed, the ranges, the record, the include
 * names and the redirect (or the error), each string NUL-terminated.
 */

struct pmemo {
	struct lru_node	 node;		/* first: the table's links */
	int		 rc;		/* spf_parse's: 0, or -1 with err */
	size_t		 reclen, ninclude, nrange, bad_prefix;
	int		 truncated;
	const char	*record, *names;
	const struct spf_range *range;
	union {
		struct spf_range r;	/* aligns what follows */
		char	c;
	}		 data[];
};

struct mkey {
	const char	*record;
	size_t		 len;
};

static int
pmemo_is(const struct lru_node *n, const void *key)
{
	const struct pmemo *e = (const struct pmemo *)n;
	const struct mkey *k = key;

	return e->reclen == k->len && memcmp(e->record, k->record, k->len) == 0;
}

/* What spf_parse gave for this text, into *t and err: 0 or -1 as it
 * returned; 1 when not remembered. */
static int
memo_get(const struct mkey *k, uint32_t h, struct spf_terms *t, char *err,
    size_t errlen)
{
	const struct pmemo *e;
	const char *p;
	int rc = 1;

	pthread_mutex_lock(&memo_lock);
	if (memo == NULL || (e = (const struct pmemo *)lru_find(memo, h,
	    pmemo_is, k)) == NULL)
		goto out;
	lru_touch(memo, (struct lru_node *)&e->node);
	rc = e->rc;
	p = e->names;
	if (rc != 0) {
		if (errlen > 0)
			util_copy(err, errlen, p);
		goto out;
	}
	t->ninclude = e->ninclude;
	for (size_t i = 0; i < e->ninclude; i++) {
		util_copy(t->include[i], DNS_NAME_MAX, p);
		p += strlen(p) + 1;
	}
	util_copy(t->redirect, sizeof(t->redirect), p);
	t->nrange = e->nrange;
	memcpy(t->range, e->range, e->nrange * sizeof(t->range[0]));
	t->truncated = e->truncated;
	t->bad_prefix = (int)e->bad_prefix;
out:
	pthread_mutex_unlock(&memo_lock);
	return rc;
}

/* Remember what spf_parse gave (rc, *t or err) for the text of k. */
static void
memo_put(const struct mkey *k, uint32_t h, int rc, const struct spf_terms *t,
    const char *err)
{
	struct pmemo *e, *old;
	size_t names = 0, size;
	char *p;

	if (rc == 0) {
		for (size_t i = 0; i < t->ninclude; i++)
			names += strlen(t->include[i]) + 1;
		names += strlen(t->redirect) + 1;
	} else
		names = strlen(err) + 1;
	size = (rc == 0 ? t->nrange * sizeof(t->range[0]) : 0) + k->len + 1 +
	    names;
	if ((e = calloc(1, sizeof(*e) + size)) == NULL)
		return;
	e->node.hash = h;
	e->rc = rc;
	e->reclen = k->len;
	e->range = &e->data[0].r;
	p = (char *)e->data;
	if (rc == 0) {
		e->ninclude = t->ninclude;
		e->nrange = t->nrange;
		e->truncated = t->truncated;
		e->bad_prefix = (size_t)t->bad_prefix;
		memcpy(p, t->range, t->nrange * sizeof(t->range[0]));
		p += t->nrange * sizeof(t->range[0]);
	}
	e->record = memcpy(p, k->record, k->len + 1);
	p += k->len + 1;
	e->names = p;
	if (rc == 0) {
		for (size_t i = 0; i < t->ninclude; i++)
			p = stpcpy(p, t->include[i]) + 1;
		strcpy(p, t->redirect);
	} else
		strcpy(p, err);
	pthread_mutex_lock(&memo_lock);
	if (memo == NULL) {
		pthread_mutex_unlock(&memo_lock);
		free(e);
		return;
	}
	if ((old = (struct pmemo *)lru_find(memo, h, pmemo_is, k)) != NULL) {
		lru_remove(memo, &old->node);
		free(old);
	}
	old = (struct pmemo *)lru_add(memo, &e->node);
	pthread_mutex_unlock(&memo_lock);
	free(old);
}

/* Parse with libspf2.  *keep says whether the outcome is the record's
 * own (not a failed allocation). */
static int
parse_record(const char *record, struct spf_terms *t, char *err,
    size_t errlen, int *keep)
{
	SPF_server_t *server;
	SPF_record_t *r;
	SPF_errcode_t code;
	int rc;

	*keep = 0;
	/* The zone layer is empty: compiling needs no DNS. */
	if ((server = SPF_server_new(SPF_DNS_ZONE, 0)) == NULL) {
		seterr(err, errlen, "out of memory");
		return -1;
	}
	code = compile_record(server, record, &r, err, errlen);
	if (code != SPF_E_SUCCESS) {
		SPF_server_free(server);
		*keep = code != SPF_E_NO_MEMORY;
		return -1;
	}
	rc = walk_record(r, terms_add, t, err, errlen);
	SPF_record_free(r);
	SPF_server_free(server);
	if (rc != 0) {
		memset(t, 0, sizeof(*t));
		rc = -1;
	}
	*keep = 1;
	return rc;
}

int
spf_parse(const char *record, struct spf_terms *t, char *err, size_t errlen)
{
	const char *why;
	struct mkey k;
	uint32_t h;
	int rc, keep;

	memset(t, 0, sizeof(*t));
	if (errlen > 0)
		err[0] = '\0';
	if (spf_screen(record, &why) == -1) {
		seterr(err, errlen, "refused: %s", why);
		return -1;
	}
	if (!spf_is_record(record)) {
		seterr(err, errlen, "not an SPF record");
		return -1;
	}
	k.record = record;
	k.len = strlen(record);
	h = lru_hash(0, record, k.len);
	if ((rc = memo_get(&k, h, t, err, errlen)) != 1)
		return rc;
	rc = parse_record(record, t, err, errlen, &keep);
	if (keep && (rc == 0 || errlen > 0))
		memo_put(&k, h, rc, t, err);
	return rc;
}

const char *
spf_result_name(enum spf_result r)
{
	static const char *const names[SPFR_COUNT] = {
		[SPFR_NONE] = "none",
		[SPFR_NEUTRAL] = "neutral",
		[SPFR_PASS] = "pass",
		[SPFR_FAIL] = "fail",
		[SPFR_SOFTFAIL] = "softfail",
		[SPFR_TEMPERROR] = "temperror",
		[SPFR_PERMERROR] = "permerror",
		[SPFR_SKIPPED] = "skipped",
	};

	if ((int)r < 0 || r >= SPFR_COUNT)
		return "unknown";
	return names[r];
}

/* --- evaluation ----------------------------------------------------- */

struct depth_name {
	char	name[DNS_NAME_MAX];
	int	depth;
};

struct check_ctx {
	struct dns_session *session;
	int		 lookups;
	const char	*refused;	/* why the screen refused a record */
	char		 refused_at[DNS_NAME_MAX];
	const char	*tempfail;	/* "lookup limit", "deadline" ... */
	int		 too_deep;
	SPF_dns_rr_t	*reserve[SPF_RESERVE];
	struct depth_name *names;	/* who named which domain, how deep */
	size_t		 nnames, names_size;
	int		 cur_depth;	/* of the record being registered */
	uint32_t	 ttl;		/* least dns_answer.ttl used */
	int		 dns_failed;	/* some lookup failed or timed out */
};

struct lookup_wait {
	SPF_dns_server_t *layer;
	struct check_ctx *c;
	const char	*name;
	ns_type		 type;
	SPF_dns_rr_t	*rr;
	int		 done;
};

static SPF_dns_rr_t *
rr_from_reserve(struct check_ctx *c, ns_type type)
{
	for (int i = 0; i < SPF_RESERVE; i++) {
		SPF_dns_rr_t *rr = c->reserve[i];

		if (rr != NULL) {
			c->reserve[i] = NULL;
			rr->rr_type = type;
			rr->herrno = TRY_AGAIN;
			rr->num_rr = 0;
			if (c->tempfail == NULL)
				c->tempfail = "out of memory";
			return rr;
		}
	}
	/* Cannot happen: every evaluation stops at its first TRY_AGAIN
	 * long before the reserve is used up.  libspf2 aborts on NULL. */
	return NULL;
}

static SPF_dns_rr_t *
rr_new(struct lookup_wait *w, SPF_dns_stat_t herrno)
{
	SPF_dns_rr_t *rr;

	rr = SPF_dns_rr_new_init(w->layer, w->name, w->type, 0, herrno);
	if (rr == NULL)
		return rr_from_reserve(w->c, w->type);
	return rr;
}

/* Copy one answer into libspf2's form.  TXT records that are not SPF
 * records are dropped, SPF records pass the screen or are dropped. */
static void
lookup_done(void *arg, const struct dns_answer *a)
{
	struct lookup_wait *w = arg;
	SPF_dns_rr_t *rr;
	const char *why;
	int n = 0;

	w->done = 1;
	/* What the verdict rests on: how long it may be kept. */
	if (a->status == DNS_OK || a->status == DNS_NODATA ||
	    a->status == DNS_NXDOMAIN) {
		if (a->ttl < w->c->ttl)
			w->c->ttl = a->ttl;
	} else
		w->c->dns_failed = 1;
	switch (a->status) {
	case DNS_OK:
		break;
	case DNS_NODATA:
		w->rr = rr_new(w, NO_DATA);
		return;
	case DNS_NXDOMAIN:
		w->rr = rr_new(w, HOST_NOT_FOUND);
		return;
	case DNS_TIMEOUT:
		if (w->c->tempfail == NULL)
			w->c->tempfail = "DNS timeout";
		w->rr = rr_new(w, TRY_AGAIN);
		return;
	default:
		w->rr = rr_new(w, TRY_AGAIN);
		return;
	}
	if ((rr = rr_new(w, NETDB_SUCCESS)) == NULL || rr->herrno != 0) {
		w->rr = rr;
		return;
	}
	for (size_t i = 0; i < a->n && i < DNS_MAX_RR; i++) {
		const struct dns_rr *d = &a->rr[i];
		size_t len;

		switch (w->type) {
		case ns_t_a:
			if (d->addr.family != AF_INET)
				continue;
			if (SPF_dns_rr_buf_realloc(rr, n, sizeof(rr->rr[n]->a)))
				goto oom;
			rr->rr[n++]->a = d->addr.u.v4;
			break;
		case ns_t_aaaa:
			if (d->addr.family != AF_INET6)
				continue;
			if (SPF_dns_rr_buf_realloc(rr, n,
			    sizeof(rr->rr[n]->aaaa)))
				goto oom;
			rr->rr[n++]->aaaa = d->addr.u.v6;
			break;
		case ns_t_mx:
			len = strnlen(d->name, sizeof(d->name));
			if (len == 0 || len == sizeof(d->name))
				continue;	/* null MX */
			if (SPF_dns_rr_buf_realloc(rr, n, len + 1))
				goto oom;
			memcpy(rr->rr[n++]->mx, d->name, len + 1);
			break;
		case ns_t_txt:
			if (d->txt == NULL || !spf_is_record(d->txt))
				continue;
			if (spf_screen(d->txt, &why) == -1) {
				if (w->c->refused == NULL) {
					w->c->refused = why;
					snprintf(w->c->refused_at,
					    sizeof(w->c->refused_at), "%s",
					    w->name);
				}
				continue;
			}
			len = strlen(d->txt);
			if (SPF_dns_rr_buf_realloc(rr, n, len + 1))
				goto oom;
			memcpy(rr->rr[n++]->txt, d->txt, len + 1);
			break;
		default:
			break;
		}
		if (d->ttl > 0 && (rr->ttl == 0 || (time_t)d->ttl < rr->ttl))
			rr->ttl = d->ttl;
	}
	rr->num_rr = n;
	if (n == 0)
		rr->herrno = NO_DATA;
	w->rr = rr;
	return;
oom:
	SPF_dns_rr_free(rr);
	w->rr = rr_from_reserve(w->c, w->type);
}

static SPF_dns_rr_t *
layer_lookup(SPF_dns_server_t *layer, const char *name, ns_type type,
    int should_cache)
{
	struct check_ctx *c = layer->hook;
	struct lookup_wait w;
	int qtype;

	(void)should_cache;	/* dns.h caches every fact itself */
	memset(&w, 0, sizeof(w));
	w.layer = layer;
	w.c = c;
	w.name = name;
	w.type = type;

	switch (type) {
	case ns_t_a:	qtype = DNS_T_A; break;
	case ns_t_aaaa:	qtype = DNS_T_AAAA; break;
	case ns_t_mx:	qtype = DNS_T_MX; break;
	case ns_t_txt:	qtype = DNS_T_TXT; break;
	default:
		/* PTR (no "ptr" matches, no %{p}) and type 99 SPF (obsolete;
		 * libspf2 falls back to TXT): no data, no query. */
		return rr_new(&w, NO_DATA);
	}
	if (name == NULL || name[0] == '\0' ||
	    strnlen(name, DNS_NAME_MAX) >= DNS_NAME_MAX)
		return rr_new(&w, HOST_NOT_FOUND);
	if (c->tempfail != NULL)
		return rr_new(&w, TRY_AGAIN);
	if (++c->lookups > SPF_MAX_LOOKUPS) {
		c->tempfail = "lookup limit";
		return rr_new(&w, TRY_AGAIN);
	}
	if (dns_session_left_ms(c->session) == 0) {
		c->tempfail = "deadline";
		return rr_new(&w, TRY_AGAIN);
	}
	if (dns_query(c->session, name, qtype, lookup_done, &w) == -1)
		return rr_new(&w, TRY_AGAIN);
	if (!w.done)
		(void)dns_wait(c->session);
	if (!w.done || w.rr == NULL) {
		/* The session ended without calling back: treat as a
		 * timeout.  w.rr NULL only when even the reserve is gone. */
		if (c->tempfail == NULL)
			c->tempfail = "deadline";
		return w.rr != NULL ? w.rr : rr_new(&w, TRY_AGAIN);
	}
	return w.rr;
}

static int
depth_of(const struct check_ctx *c, const char *name)
{
	size_t len = strlen(name);

	if (len > 0 && name[len - 1] == '.')
		len--;
	for (size_t i = c->nnames; i-- > 0;)
		if (strlen(c->names[i].name) == len &&
		    strncasecmp(c->names[i].name, name, len) == 0)
			return c->names[i].depth;
	return 0;
}

static int
depth_add(void *arg, enum term_kind kind, const char *name,
    const void *addr, int prefix)
{
	struct check_ctx *c = arg;
	struct depth_name *n;

	(void)addr;
	(void)prefix;
	if (kind != TERM_INCLUDE && kind != TERM_REDIRECT)
		return 0;
	if (c->nnames == c->names_size) {
		size_t size = c->names_size ? c->names_size * 2 : 16;

		/* Past the cap a name counts as depth 0; the lookup limit
		 * still bounds the evaluation. */
		if (size > SPF_MAX_NAMES)
			return 0;
		n = realloc(c->names, size * sizeof(*n));
		if (n == NULL)
			return 0;
		c->names = n;
		c->names_size = size;
	}
	n = &c->names[c->nnames++];
	snprintf(n->name, sizeof(n->name), "%s", name);
	n->depth = c->cur_depth + 1;
	return 0;
}

/* libspf2 calls this for the sender domain and for every include and
 * redirect target (cur_dom) instead of fetching and compiling itself. */
static SPF_errcode_t
layer_get_spf(SPF_server_t *server, SPF_request_t *req, SPF_response_t *resp,
    SPF_record_t **recp)
{
	SPF_dns_server_t *layer = server->resolver;
	struct check_ctx *c = layer->hook;
	const char *dom = req->cur_dom;
	SPF_dns_rr_t *rr;
	SPF_errcode_t code;
	char err[256];
	int depth;

	*recp = NULL;
	if (dom == NULL)
		return SPF_response_add_error(resp, SPF_E_NOT_CONFIG,
		    "no current domain");
	if ((depth = depth_of(c, dom)) > SPF_MAX_DEPTH) {
		c->too_deep = 1;
		return SPF_response_add_error(resp, SPF_E_RECURSIVE,
		    "'%s' nested too deep", dom);
	}
	rr = layer_lookup(layer, dom, ns_t_txt, 1);
	if (rr == NULL)		/* reserve gone: cannot happen */
		return SPF_response_add_error(resp, SPF_E_DNS_ERROR,
		    "out of memory");
	switch (rr->herrno) {
	case NETDB_SUCCESS:
		break;
	case HOST_NOT_FOUND:
	case NO_DATA:
		SPF_dns_rr_free(rr);
		resp->result = SPF_RESULT_NONE;
		resp->reason = SPF_REASON_FAILURE;
		return SPF_response_add_error(resp, SPF_E_NOT_SPF,
		    "no SPF record for '%s'", dom);
	default:
		SPF_dns_rr_free(rr);
		return SPF_response_add_error(resp, SPF_E_DNS_ERROR,
		    "temporary DNS failure for '%s'", dom);
	}
	/* Only screened SPF records are left in the answer. */
	if (rr->num_rr > 1) {
		SPF_dns_rr_free(rr);
		resp->result = SPF_RESULT_PERMERROR;
		resp->reason = SPF_REASON_FAILURE;
		resp->err = SPF_E_MULTIPLE_RECORDS;
		return SPF_response_add_error(resp, SPF_E_MULTIPLE_RECORDS,
		    "multiple SPF records for '%s'", dom);
	}
	code = compile_record(server, rr->rr[0]->txt, recp, err, sizeof(err));
	SPF_dns_rr_free(rr);
	if (code != SPF_E_SUCCESS)
		return SPF_response_add_error(resp, code, "'%s': %s", dom,
		    err);
	c->cur_depth = depth;
	if (walk_record(*recp, depth_add, c, err, sizeof(err)) != 0) {
		SPF_record_free(*recp);
		*recp = NULL;
		return SPF_response_add_error(resp, SPF_E_SYNTAX, "'%s': %s",
		    dom, err);
	}
	return SPF_E_SUCCESS;
}

/* A domain we hand libspf2: printable, no macro, no address syntax. */
static int
domain_ok(const char *d)
{
	size_t len;

	if (d == NULL || (len = strnlen(d, DNS_NAME_MAX)) == 0 ||
	    len >= DNS_NAME_MAX)
		return 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)d[i];

		if (ch <= 0x20 || ch > 0x7e || ch == '%' || ch == '@')
			return 0;
	}
	return 1;
}

static enum spf_result
map_result(SPF_result_t r)
{
	switch (r) {
	case SPF_RESULT_NEUTRAL:	return SPFR_NEUTRAL;
	case SPF_RESULT_PASS:		return SPFR_PASS;
	case SPF_RESULT_FAIL:		return SPFR_FAIL;
	case SPF_RESULT_SOFTFAIL:	return SPFR_SOFTFAIL;
	case SPF_RESULT_NONE:		return SPFR_NONE;
	case SPF_RESULT_TEMPERROR:	return SPFR_TEMPERROR;
	case SPF_RESULT_PERMERROR:	return SPFR_PERMERROR;
	default:			return SPFR_PERMERROR;
	}
}

static enum spf_result
check_fail(char *why, size_t whylen, enum spf_result r, const char *msg)
{
	if (why != NULL && whylen > 0)
		snprintf(why, whylen, "%s", msg);
	return r;
}

enum spf_result
spf_check_host(struct dns_session *session, const char *client_ip,
    const char *helo, const char *domain, char *why, size_t whylen)
{
	SPF_dns_server_t layer;
	struct check_ctx c;
	SPF_server_t *server = NULL;
	SPF_request_t *req = NULL;
	SPF_response_t *resp = NULL;
	SPF_errcode_t code;
	enum spf_result res;
	struct vkey key;
	char from[DNS_NAME_MAX + 16], reason[SPF_WHY_MAX];
	const char *msg;
	int keyed, evaluated = 0;

	if (why != NULL && whylen > 0)
		why[0] = '\0';
	if (session == NULL || client_ip == NULL)
		return check_fail(why, whylen, SPFR_TEMPERROR, "no session");
	if (!domain_ok(domain))
		return check_fail(why, whylen, SPFR_PERMERROR, "bad domain");
	keyed = vkey_make(client_ip, domain, &key) == 0;
	if (keyed && cache_get(&key, &res, why, whylen)) {
		atomic_fetch_add_explicit(&st_hits, 1, memory_order_relaxed);
		return res;
	}
	atomic_fetch_add_explicit(&st_misses, 1, memory_order_relaxed);

	memset(&c, 0, sizeof(c));
	c.session = session;
	c.ttl = SPF_CACHE_MAX_TTL;
	memset(&layer, 0, sizeof(layer));
	layer.destroy = NULL;	/* ours, on the stack: libspf2 keeps off */
	layer.lookup = layer_lookup;
	layer.get_spf = layer_get_spf;
	layer.name = "dm";
	layer.hook = &c;

	res = SPFR_TEMPERROR;
	msg = "out of memory";
	for (int i = 0; i < SPF_RESERVE; i++)
		if ((c.reserve[i] = SPF_dns_rr_new_init(&layer, NULL, ns_t_any,
		    0, TRY_AGAIN)) == NULL)
			goto out;
	if ((server = SPF_server_new_dns(&layer, 0)) == NULL)
		goto out;
	/* The default explanation holds macros: a fixed text instead. */
	if (SPF_server_set_explanation(server, SPF_EXPLANATION, &resp) !=
	    SPF_E_SUCCESS)
		goto out;
	SPF_response_free(resp);
	resp = NULL;
	if ((req = SPF_request_new(server)) == NULL)
		goto out;

	res = SPFR_PERMERROR;
	msg = "bad client address";
	if (strchr(client_ip, ':') != NULL ?
	    SPF_request_set_ipv6_str(req, client_ip) != SPF_E_SUCCESS :
	    SPF_request_set_ipv4_str(req, client_ip) != SPF_E_SUCCESS)
		goto out;
	snprintf(from, sizeof(from), "postmaster@%s", domain);
	res = SPFR_TEMPERROR;
	msg = "out of memory";
	if (SPF_request_set_env_from(req, from) != 0)
		goto out;
	if (domain_ok(helo) &&
	    SPF_request_set_helo_dom(req, helo) != SPF_E_SUCCESS)
		goto out;

	code = SPF_request_query_mailfrom(req, &resp);
	if (resp == NULL)
		goto out;
	evaluated = 1;
	if (c.refused != NULL) {
		res = SPFR_SKIPPED;
		snprintf(reason, sizeof(reason), "refused: %s (%.96s)", c.refused,
		    c.refused_at);
		goto done;
	}
	if (c.tempfail != NULL) {
		res = SPFR_TEMPERROR;
		msg = c.tempfail;
		goto out;
	}
	if (c.too_deep) {
		res = SPFR_PERMERROR;
		msg = "nested too deep";
		goto out;
	}
	if (SPF_response_result(resp) == SPF_RESULT_INVALID) {
		/* The sender domain's record was not evaluated. */
		if (code == SPF_E_NOT_SPF)
			res = SPFR_NONE;
		else if (code == SPF_E_DNS_ERROR)
			res = SPFR_TEMPERROR;
		else
			res = SPFR_PERMERROR;
	} else
		res = map_result(SPF_response_result(resp));
	snprintf(reason, sizeof(reason), "%s: %s", spf_result_name(res),
	    code != SPF_E_SUCCESS ? SPF_strerror(code) :
	    SPF_strreason(SPF_response_reason(resp)));
	goto done;

out:
	util_copy(reason, sizeof(reason), msg);
done:
	/* A verdict that rests on answers only: kept for their TTL. */
	if (keyed && evaluated && res != SPFR_TEMPERROR && !c.dns_failed)
		cache_put(&key, res, reason, c.ttl);
	if (why != NULL && whylen > 0)
		util_copy(why, whylen, reason);
	if (resp != NULL)
		SPF_response_free(resp);
	if (req != NULL)
		SPF_request_free(req);
	if (server != NULL)
		SPF_server_free(server);
	for (int i = 0; i < SPF_RESERVE; i++)
		if (c.reserve[i] != NULL)
			SPF_dns_rr_free(c.reserve[i]);
	free(c.names);
	return res;
}
