/*
 * mine.c - count the infrastructure listed domains share (see mine.h).
 *
 * Every fact is one (kind, value) item, listed or allowed; at the end the
 * listed items are sorted and counted in runs, and a run whose value also
 * occurs among the allowed items is dropped: infrastructure a legitimate
 * provider uses must never become a fingerprint.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mine.h"

struct item {
	enum fp_kind	kind;
	char		value[DNS_NAME_MAX];
	char		domain[DNS_NAME_MAX];	/* whose fact it is */
};

struct vec {
	struct item	*v;
	size_t		 n, cap;
};

struct mine {
	struct vec	listed, allowed;
};

struct mine *
mine_new(void)
{
	return calloc(1, sizeof(struct mine));
}

void
mine_free(struct mine *m)
{
	if (m == NULL)
		return;
	free(m->listed.v);
	free(m->allowed.v);
	free(m);
}

static int
push(struct vec *vec, enum fp_kind kind, const char *value,
    const char *domain)
{
	if (vec->n == vec->cap) {
		size_t ncap = vec->cap ? vec->cap * 2 : 256;
		struct item *nv = reallocarray(vec->v, ncap, sizeof(*nv));

		if (nv == NULL)
			return -1;
		vec->v = nv;
		vec->cap = ncap;
	}
	vec->v[vec->n].kind = kind;
	snprintf(vec->v[vec->n].value, DNS_NAME_MAX, "%s", value);
	snprintf(vec->v[vec->n].domain, DNS_NAME_MAX, "%s", domain);
	vec->n++;
	return 0;
}

int
mine_add(struct mine *m, const struct infra *inf, int allowed)
{
	struct vec *vec = allowed ? &m->allowed : &m->listed;
	char a[64];

	/* An infra holds each host and address once: one item per domain. */
	for (size_t i = 0; i < inf->nmx; i++)
		if (push(vec, FP_MX, inf->mx[i], inf->domain) != 0)
			return -1;
	/* The implicit MX's address is the domain's web host as often as
	 * its mail server: too weak a fact to propose. */
	if (!inf->implicit_mx)
		for (size_t i = 0; i < inf->naddr; i++)
			if (push(vec, FP_IP, dns_addr_str(&inf->addr[i], a,
			    sizeof(a)), inf->domain) != 0)
				return -1;
	for (size_t i = 0; i < inf->nns; i++)
		if (push(vec, FP_NS, inf->ns[i], inf->domain) != 0)
			return -1;
	return 0;
}

static int
item_cmp(const void *x, const void *y)
{
	const struct item *a = x, *b = y;

	if (a->kind != b->kind)
		return (int)a->kind - (int)b->kind;
	return strcmp(a->value, b->value);
}

/* The fact, then the domain: a run's samples come out in name order. */
static int
item_sort(const void *x, const void *y)
{
	const struct item *a = x, *b = y;
	int c;

	if ((c = item_cmp(x, y)) != 0)
		return c;
	return strcmp(a->domain, b->domain);
}

static int
proposal_cmp(const void *x, const void *y)
{
	const struct mine_proposal *a = x, *b = y;

	if (a->listed != b->listed)
		return a->listed < b->listed ? 1 : -1;
	if (a->kind != b->kind)
		return (int)a->kind - (int)b->kind;
	return strcmp(a->value, b->value);
}

int
mine_result(struct mine *m, size_t min_listed, struct mine_proposal **out,
    size_t *n)
{
	struct mine_proposal *p = NULL;
	size_t np = 0, cap = 0, i, j;

	*out = NULL;
	*n = 0;
	if (m->listed.n > 0)
		qsort(m->listed.v, m->listed.n, sizeof(struct item),
		    item_sort);
	if (m->allowed.n > 0)
		qsort(m->allowed.v, m->allowed.n, sizeof(struct item),
		    item_cmp);
	for (i = 0; i < m->listed.n; i = j) {
		for (j = i + 1; j < m->listed.n &&
		    item_cmp(&m->listed.v[i], &m->listed.v[j]) == 0; j++)
			;
		if (j - i < min_listed || (m->allowed.n > 0 &&
		    bsearch(&m->listed.v[i], m->allowed.v, m->allowed.n,
		    sizeof(struct item), item_cmp) != NULL))
			continue;
		if (np == cap) {
			size_t ncap = cap ? cap * 2 : 64;
			struct mine_proposal *nq = reallocarray(p, ncap,
			    sizeof(*nq));

			if (nq == NULL) {
				free(p);
				return -1;
			}
			p = nq;
			cap = ncap;
		}
		memset(&p[np], 0, sizeof(p[np]));
		p[np].kind = m->listed.v[i].kind;
		memcpy(p[np].value, m->listed.v[i].value, DNS_NAME_MAX);
		p[np].listed = j - i;
		for (size_t k = i; k < j && p[np].nsample < MINE_SAMPLES; k++)
			memcpy(p[np].sample[p[np].nsample++],
			    m->listed.v[k].domain, DNS_NAME_MAX);
		np++;
	}
	if (np > 0)
		qsort(p, np, sizeof(*p), proposal_cmp);
	*out = p;
	*n = np;
	return 0;
}

int
mine_shared(struct listdb *db, const struct mine_proposal *p, char *why,
    size_t len)
{
	struct fp_match fm;
	struct listdb_match lm;
	struct dns_addr a;
	char entry[DNS_NAME_MAX + 8];

	if (p->kind == FP_IP) {
		if (dns_addr_parse(p->value, &a) != 0)
			return 0;
		if (listdb_infra_addr(db, &a, a.family == AF_INET ? 32 : 128,
		    &fm, why, len) != 0)
			return -1;
		if (fm.found) {
			snprintf(why, len, "infrastructure ip %s", fm.entry);
			return 1;
		}
		return 0;
	}
	if (listdb_infra_host(db, p->kind, p->value, &fm, why, len) != 0)
		return -1;
	if (fm.found) {
		snprintf(why, len, "infrastructure %s %s",
		    fp_kind_name(p->kind), fm.entry);
		return 1;
	}
	/* A host of a mailbox provider, or of a domain the infrastructure
	 * list names ("mx9.improvmx.com" beside "mx mx1.improvmx.com"). */
	if (listdb_lookup(db, p->value, &lm, why, len) != 0)
		return -1;
	if (lm.category == CAT_ALLOWED) {
		snprintf(why, len, "allowlisted %s", lm.entry);
		return 1;
	}
	if (listdb_infra_domain(db, p->value, entry, sizeof(entry))) {
		snprintf(why, len, "infrastructure %s", entry);
		return 1;
	}
	return 0;
}
