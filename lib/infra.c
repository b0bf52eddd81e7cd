/*
 * infra.c - gather a domain's infrastructure from DNS and hold it against
 * the fingerprints (see infra.h).
 *
 * The walk is a set of callbacks on one DNS session: the MX answer starts
 * the host address lookups (or the implicit-MX lookups), each SPF record
 * found starts the TXT lookups of what it includes.  Every callback's
 * argument is the struct infra it fills, or for the SPF walk's TXT
 * lookups the struct's step of that depth: nothing is allocated per
 * lookup.  Completion is dns_wait()'s.  Names and signals are copied
 * with util_copy and joined by hand, not printf'd: with the DNS cache
 * warm this runs for every message.
 */
#include "config.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "infra.h"
#include "util.h"

static void on_mx(void *, const struct dns_answer *);
static void on_addr(void *, const struct dns_answer *);
static void on_implicit(void *, const struct dns_answer *);
static void on_ns(void *, const struct dns_answer *);
static void on_txt(void *, const struct dns_answer *);

/* A failed lookup (not a definite "no such data") leaves the picture
 * incomplete: the verdict may then be "unknown" rather than "clean". */
static void
note_status(struct infra *inf, enum dns_status st)
{
	if (st == DNS_SERVFAIL || st == DNS_TIMEOUT || st == DNS_ERROR) {
		inf->incomplete = 1;
		if (st == DNS_TIMEOUT)
			inf->timed_out = 1;
	}
}

/* arg is inf, or for on_txt &inf->txt_step[depth]. */
static int
ask(struct infra *inf, const char *name, int type, dns_callback *cb,
    void *arg)
{
	if (dns_query(inf->sess, name, type, cb, arg) != 0) {
		inf->incomplete = 1;
		return -1;
	}
	return 0;
}

static void
add_addrs(struct infra *inf, const struct dns_answer *a)
{
	for (size_t i = 0; i < a->n && inf->naddr < INFRA_MAX_ADDR; i++) {
		size_t j;

		for (j = 0; j < inf->naddr; j++)
			if (memcmp(&inf->addr[j], &a->rr[i].addr,
			    sizeof(struct dns_addr)) == 0)
				break;
		if (j == inf->naddr)
			inf->addr[inf->naddr++] = a->rr[i].addr;
	}
}

static void
on_addr(void *arg, const struct dns_answer *a)
{
	struct infra *inf = arg;

	/* An MX host without an address of one family is normal. */
	if (a->status == DNS_OK)
		add_addrs(inf, a);
	else
		note_status(inf, a->status);
}

static void
on_implicit(void *arg, const struct dns_answer *a)
{
	struct infra *inf = arg;

	if (a->status == DNS_OK) {
		inf->a_status = DNS_OK;
		add_addrs(inf, a);
	} else {
		if (inf->a_status != DNS_OK)
			inf->a_status = a->status;
		note_status(inf, a->status);
	}
}

/* The MX hosts in preference order, equal preferences in the answer's
 * order: pointers sorted, not the 9 KB of records copied and sorted on
 * the stack of every message (a fresh libmilter thread faults each page
 * of stack it touches in). */
static size_t
mx_by_pref(const struct dns_answer *a, const struct dns_rr **out)
{
	size_t i, j;

	for (i = 0; i < a->n && i < DNS_MAX_RR; i++) {
		for (j = i; j > 0 && out[j - 1]->pref > a->rr[i].pref; j--)
			out[j] = out[j - 1];
		out[j] = &a->rr[i];
	}
	return i;
}

static void
on_mx(void *arg, const struct dns_answer *a)
{
	struct infra *inf = arg;
	const struct dns_rr *rr[DNS_MAX_RR];
	size_t n;

	inf->mx_status = a->status;
	switch (a->status) {
	case DNS_OK:
		break;
	case DNS_NXDOMAIN:
		inf->nxdomain = 1;
		return;
	case DNS_NODATA:
		/* No MX: the domain itself is the implicit MX. */
		inf->implicit_mx = 1;
		ask(inf, inf->domain, DNS_T_A, on_implicit, inf);
		ask(inf, inf->domain, DNS_T_AAAA, on_implicit, inf);
		return;
	default:
		note_status(inf, a->status);
		return;
	}
	n = mx_by_pref(a, rr);
	for (size_t i = 0; i < n; i++) {
		if (rr[i]->name[0] == '\0') {
			/* "0 ." alone is a null MX; beside other hosts
			 * RFC 7505 calls it an error: ignore it then. */
			if (n == 1)
				inf->null_mx = 1;
			continue;
		}
		if (inf->nmx == INFRA_MAX_MX)
			break;
		util_copy(inf->mx[inf->nmx++], DNS_NAME_MAX, rr[i]->name);
		ask(inf, rr[i]->name, DNS_T_A, on_addr, inf);
		ask(inf, rr[i]->name, DNS_T_AAAA, on_addr, inf);
	}
}

static void
on_ns(void *arg, const struct dns_answer *a)
{
	struct infra *inf = arg;

	inf->ns_status = a->status;
	if (a->status != DNS_OK) {
		if (a->status != DNS_NXDOMAIN)
			note_status(inf, a->status);
		return;
	}
	for (size_t i = 0; i < a->n && inf->nns < INFRA_MAX_NS; i++)
		util_copy(inf->ns[inf->nns++], DNS_NAME_MAX, a->rr[i].name);
}

/* Follow one include/redirect target, once. */
static void
spf_follow(struct infra *inf, const char *target, int depth)
{
	for (size_t i = 0; i < inf->nspf; i++)
		if (strcmp(inf->spf[i], target) == 0) {
			inf->spf_loop = 1;
			return;
		}
	if (strcmp(target, inf->domain) == 0) {
		inf->spf_loop = 1;
		return;
	}
	if (inf->nspf == INFRA_MAX_SPF_DOMAINS) {
		inf->spf_limit = 1;
		return;
	}
	util_copy(inf->spf[inf->nspf++], DNS_NAME_MAX, target);
	if (depth >= SPF_MAX_DEPTH ||
	    inf->spf_lookups >= INFRA_MAX_SPF_LOOKUPS) {
		inf->spf_limit = 1;
		return;
	}
	inf->spf_lookups++;
	ask(inf, target, DNS_T_TXT, on_txt, &inf->txt_step[depth + 1]);
}

static void
on_txt(void *arg, const struct dns_answer *a)
{
	const struct infra_txt_step *s = arg;
	struct infra *inf = s->inf;
	int depth = s->depth, nrec = 0;
	const char *rec = NULL;
	struct spf_terms t;
	char err[256];

	if (depth == 0)
		inf->txt_status = a->status;
	if (a->status != DNS_OK) {
		if (a->status != DNS_NXDOMAIN && a->status != DNS_NODATA)
			note_status(inf, a->status);
		return;
	}
	for (size_t i = 0; i < a->n; i++)
		if (a->rr[i].txt != NULL && spf_is_record(a->rr[i].txt)) {
			rec = a->rr[i].txt;
			nrec++;
		}
	/* RFC 7208 4.5: more than one record is a permerror. */
	if (nrec != 1)
		return;
	if (depth == 0)
		inf->has_spf = 1;
	if (spf_parse(rec, &t, err, sizeof(err)) != 0) {
		const char *why;

		if (spf_screen(rec, &why) != 0) {
			inf->spf_screened++;
			if (strcmp(why, "bad cidr length") == 0)
				inf->spf_bad_prefix++;
		}
		return;
	}
	inf->spf_bad_prefix += t.bad_prefix;
	for (size_t i = 0; i < t.nrange && inf->nrange < SPF_MAX_RANGES; i++)
		inf->range[inf->nrange++] = t.range[i];
	for (size_t i = 0; i < t.ninclude; i++)
		spf_follow(inf, t.include[i], depth);
	if (t.redirect[0] != '\0')
		spf_follow(inf, t.redirect, depth);
}

int
infra_start(struct dns_session *sess, const char *domain, int want_spf,
    struct infra *inf)
{
	int r = 0;

	memset(inf, 0, offsetof(struct infra, domain));
	inf->sess = sess;
	inf->a_status = DNS_NODATA;
	for (int d = 0; d <= SPF_MAX_DEPTH; d++) {
		inf->txt_step[d].inf = inf;
		inf->txt_step[d].depth = d;
	}
	util_copy(inf->domain, sizeof(inf->domain), domain);
	r |= ask(inf, domain, DNS_T_MX, on_mx, inf);
	r |= ask(inf, domain, DNS_T_NS, on_ns, inf);
	if (want_spf)
		r |= ask(inf, domain, DNS_T_TXT, on_txt, &inf->txt_step[0]);
	return r;
}

/* Matching. */

/* a, sep and b one after the other into buf (len > 0), cut to fit. */
static void
join(char *buf, size_t len, const char *a, const char *sep, const char *b)
{
	size_t n;

	util_copy(buf, len, a);
	n = strlen(buf);
	util_copy(buf + n, len - n, sep);
	n += strlen(buf + n);
	util_copy(buf + n, len - n, b);
}

static void
join_sources(char *buf, size_t len, const struct fp_match *m)
{
	size_t n = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < m->nsources && n + 1 < len; i++) {
		join(buf + n, len - n, i ? "," : "", "", m->sources[i]);
		n += strlen(buf + n);
	}
}

static void
add_signal(struct infra_verdict *v, const char *kind, const char *entry,
    enum category cat, int strong, const char *sources)
{
	struct infra_signal *s;

	for (size_t i = 0; i < v->nsignals; i++)
		if (strncmp(v->signal[i].what, kind, strlen(kind)) == 0 &&
		    v->signal[i].what[strlen(kind)] == ':' &&
		    strcmp(v->signal[i].what + strlen(kind) + 1, entry) == 0)
			return;		/* same fingerprint twice */
	if (v->nsignals == INFRA_MAX_SIGNALS)
		return;
	s = &v->signal[v->nsignals++];
	join(s->what, sizeof(s->what), kind, entry[0] != '\0' ? ":" : "",
	    entry);
	s->category = cat;
	s->strong = strong;
	util_copy(s->sources, sizeof(s->sources), sources);
}

/* A fingerprint as a signal; weak when what it names is itself shared
 * infrastructure (shared 1). */
static void
add_fp(struct infra_verdict *v, const char *kind, const struct fp_match *m,
    int shared)
{
	char src[LISTDB_SOURCE_NAME * 2];

	join_sources(src, sizeof(src), m);
	add_signal(v, kind, m->entry, m->category, m->strong && !shared, src);
}

/* Note the first shared-infrastructure fact of the domain. */
static void
note_shared(struct infra_verdict *v, const char *kind, const char *entry)
{
	if (v->shared)
		return;
	v->shared = 1;
	join(v->shared_what, sizeof(v->shared_what), kind, ":", entry);
}

int
infra_match(struct listdb *db, const struct infra *inf,
    struct infra_verdict *v, char *err, size_t errlen)
{
	struct fp_match m, sh;
	const struct infra_signal *first_weak = NULL;

	memset(v, 0, offsetof(struct infra_verdict, match));
	v->match[0] = v->shared_what[0] = '\0';
	/* In the order a reader expects: MX first, then what backs it. */
	for (size_t i = 0; i < inf->nmx; i++) {
		struct listdb_match lm;
		int shared;

		if (listdb_infra_host(db, FP_MX, inf->mx[i], &sh, err,
		    errlen) != 0 ||
		    listdb_fp_host(db, FP_MX, inf->mx[i], &m, err,
		    errlen) != 0 ||
		    listdb_lookup(db, inf->mx[i], &lm, err, errlen) != 0)
			return -1;
		/* A host of the infrastructure list, or of a domain on the
		 * allowlist (a mailbox provider's own servers). */
		shared = sh.found || lm.category == CAT_ALLOWED;
		if (sh.found)
			note_shared(v, "mx", sh.entry);
		else if (lm.category == CAT_ALLOWED)
			note_shared(v, "mx-allowed", lm.entry);
		if (m.found)
			add_fp(v, "mx", &m, shared);
		/* An MX host inside a listed domain: the domain shares
		 * that provider's mail servers.  Strong only when the
		 * listing decides on its own and the host is not shared. */
		if (lm.category == CAT_DISPOSABLE || lm.category == CAT_RELAY)
			add_signal(v, "mx-domain", lm.entry, lm.category,
			    lm.decided && !shared,
			    lm.nsources ? lm.sources[0] : "");
	}
	for (size_t i = 0; i < inf->naddr; i++) {
		int prefix = inf->addr[i].family == AF_INET ? 32 : 128;

		if (listdb_infra_addr(db, &inf->addr[i], prefix, &sh, err,
		    errlen) != 0 ||
		    listdb_fp_addr(db, &inf->addr[i], prefix, &m, err,
		    errlen) != 0)
			return -1;
		if (sh.found)
			note_shared(v, "ip", sh.entry);
		if (m.found)
			add_fp(v, "ip", &m, sh.found);
	}
	for (size_t i = 0; i < inf->nns; i++) {
		if (listdb_infra_host(db, FP_NS, inf->ns[i], &sh, err,
		    errlen) != 0 ||
		    listdb_fp_host(db, FP_NS, inf->ns[i], &m, err,
		    errlen) != 0)
			return -1;
		if (m.found)
			add_fp(v, "ns", &m, sh.found);
	}
	for (size_t i = 0; i < inf->nspf; i++) {
		if (listdb_infra_host(db, FP_SPF, inf->spf[i], &sh, err,
		    errlen) != 0 ||
		    listdb_fp_host(db, FP_SPF, inf->spf[i], &m, err,
		    errlen) != 0)
			return -1;
		if (m.found)
			add_fp(v, "spf", &m, sh.found);
	}
	for (size_t i = 0; i < inf->nrange; i++) {
		const struct spf_range *r = &inf->range[i];

		/* spf_parse keeps only prefixes in range; a range that is
		 * not is skipped here too, never a failed message. */
		if (r->prefix < 0 ||
		    r->prefix > (r->addr.family == AF_INET ? 32 : 128))
			continue;
		if (listdb_infra_addr(db, &r->addr, r->prefix, &sh, err,
		    errlen) != 0 ||
		    listdb_fp_addr(db, &r->addr, r->prefix, &m, err,
		    errlen) != 0)
			return -1;
		if (m.found)
			add_fp(v, "spf-ip", &m, sh.found);
	}
	/* Mail that goes to shared infrastructure: nothing about it
	 * decides against the domain. */
	if (v->shared)
		for (size_t i = 0; i < v->nsignals; i++)
			v->signal[i].strong = 0;
	if (inf->null_mx)
		add_signal(v, "nullmx", "", CAT_SUSPICIOUS, 0, "");
	/* A CIDR length no address family has is no typing slip of a
	 * legitimate sender: a weak signal. */
	if (inf->spf_bad_prefix)
		add_signal(v, "spf-bad-prefix", "", CAT_SUSPICIOUS, 0, "");

	for (size_t i = 0; i < v->nsignals; i++) {
		if (v->signal[i].strong) {
			v->category = v->signal[i].category;
			v->confidence = "high";
			util_copy(v->match, sizeof(v->match),
			    v->signal[i].what);
			return 0;
		}
		if (first_weak == NULL)
			first_weak = &v->signal[i];
	}
	if (first_weak != NULL) {
		v->category = CAT_SUSPICIOUS;
		v->confidence = "low";
		util_copy(v->match, sizeof(v->match), first_weak->what);
	} else if (inf->incomplete) {
		v->category = CAT_UNKNOWN;
		v->confidence = "none";
		join(v->match, sizeof(v->match), "dns:", "",
		    inf->timed_out ? "timeout" : "servfail");
	} else {
		v->category = CAT_CLEAN;
		v->confidence = "none";
	}
	return 0;
}
