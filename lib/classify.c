/*
 * classify.c - verdicts per address and the decisive one of a message
 * (see classify.h).
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "classify.h"
#include "identity.h"
#include "util.h"

void
policy_default(struct policy *p)
{
	memset(p, 0, sizeof(*p));
	for (int i = 0; i < CAT_COUNT; i++)
		p->action[i] = ACT_ACCEPT;
	p->action[CAT_DISPOSABLE] = ACT_REJECT;
	p->action[CAT_RELAY] = ACT_TAG;
	p->action[CAT_SUSPICIOUS] = ACT_TAG;
	p->truncated = ACT_TAG;
	p->null_sender_max = ACT_TAG;
	p->subaddr_sep = '+';
}

enum action
policy_action(const struct policy *p, enum category c, int truncated,
    int null_sender)
{
	enum action a = p->action[c];

	if (truncated && p->truncated > a)
		a = p->truncated;
	return null_sender && a > p->null_sender_max ? p->null_sender_max : a;
}

void
verdict_clear(struct verdict *v)
{
	/* Not memset whole: the match alone is 5 KB, more than the rest of
	 * the work on a clean address. */
	memset(v, 0, offsetof(struct verdict, match));
	listdb_match_clear(&v->match);
	memset(v->why, 0, sizeof(*v) - offsetof(struct verdict, why));
}

int
classify_address(struct listdb *db, const struct hash_key *key,
    const struct policy *pol, const struct addr *a, enum role role,
    struct verdict *v, char *err, size_t errlen)
{
	struct identity id;

	verdict_clear(v);
	v->role = role;
	if (key == NULL)
		id.invalid = identity_domain(a, v->domain);
	else if (identity_make(a, pol->subaddr_sep, key, &id) != 0) {
		seterr(err, errlen, "cannot hash address");
		return -1;
	} else {
		memcpy(v->hash, id.hash, sizeof(v->hash));
		v->key_id = id.key_id;
		memcpy(v->domain, id.domain, sizeof(v->domain));
	}
	/* An address literal or an unusable domain: no list can name it. */
	if (id.invalid) {
		v->domain[0] = '\0';
		v->category = CAT_INVALID;
		return 0;
	}
	if (listdb_lookup(db, v->domain, &v->match, err, errlen) != 0)
		return -1;
	v->category = v->match.category;
	/* why is longer than any entry (INFRA_MATCH_MAX). */
	memcpy(v->why, v->match.entry, strlen(v->match.entry) + 1);
	v->confidence = v->category == CAT_CLEAN ? "none" : "high";
	/* Listed, but by too few or too little trusted sources to decide
	 * (listdb.h, trust): a weak signal. */
	if ((v->category == CAT_DISPOSABLE || v->category == CAT_RELAY) &&
	    !v->match.decided) {
		v->category = CAT_SUSPICIOUS;
		v->confidence = "low";
	}
	return 0;
}

/* On a list whose sources did not decide (classify_address). */
static int
listed_weak(const struct verdict *v)
{
	return v->category == CAT_SUSPICIOUS &&
	    (v->match.category == CAT_DISPOSABLE ||
	    v->match.category == CAT_RELAY);
}

int
classify_infra_decides(int weak, const struct infra_verdict *iv)
{
	/* A weak listing stays what it is unless a strong signal decides. */
	return !weak || iv->category == CAT_DISPOSABLE ||
	    iv->category == CAT_RELAY;
}

/* Verdicts and distinct domains classify_infra handles without the
 * heap: a message's senders usually have one or two domains, and the
 * envelope's was looked at already (a struct infra is 10 KiB: one on a
 * callback's stack is enough). */
#define INFRA_STACK_VERDICTS	16
#define INFRA_STACK_DOMAINS	1

int
classify_infra(struct listdb *db, struct dns_session *sess, int want_spf,
    struct verdict *v, size_t n, char *err, size_t errlen)
{
	struct infra inf_stack[INFRA_STACK_DOMAINS], *inf = inf_stack;
	struct infra_verdict iv;
	size_t owner_stack[INFRA_STACK_VERDICTS];
	size_t *owner = owner_stack;	/* verdict i uses inf[owner[i]] */
	size_t ninf = 0;
	int rc = 0;

	if (n > INFRA_STACK_VERDICTS &&
	    (owner = calloc(n, sizeof(*owner))) == NULL) {
		seterr(err, errlen, "out of memory");
		return -1;
	}
	/* One gathering per distinct domain: numbered first, so that the
	 * gatherings can live on the stack when they are few. */
	for (size_t i = 0; i < n; i++) {
		size_t j;

		owner[i] = SIZE_MAX;
		/* v[i].dns: looked at already (the envelope, at MAIL).
		 * Clean, or listed without deciding: the infrastructure may
		 * still decide. */
		if ((v[i].category != CAT_CLEAN && !listed_weak(&v[i])) ||
		    v[i].dns || v[i].domain[0] == '\0')
			continue;
		for (j = 0; j < i; j++)
			if (owner[j] != SIZE_MAX &&
			    strcmp(v[j].domain, v[i].domain) == 0)
				break;
		owner[i] = j < i ? owner[j] : ninf++;
	}
	if (ninf > INFRA_STACK_DOMAINS &&
	    (inf = calloc(ninf, sizeof(*inf))) == NULL) {
		if (owner != owner_stack)
			free(owner);
		seterr(err, errlen, "out of memory");
		return -1;
	}
	for (size_t i = 0, next = 0; i < n; i++)
		if (owner[i] == next)
			infra_start(sess, v[i].domain, want_spf, &inf[next++]);
	if (ninf > 0)
		(void)dns_wait(sess);	/* a timeout shows in each infra */
	for (size_t i = 0; i < n && rc == 0; i++) {
		if (owner[i] == SIZE_MAX)
			continue;
		if (infra_match(db, &inf[owner[i]], &iv, err, errlen) != 0) {
			rc = -1;
			break;
		}
		v[i].dns = 1;
		if (!classify_infra_decides(listed_weak(&v[i]), &iv))
			continue;
		v[i].category = iv.category;
		v[i].confidence = iv.confidence;
		util_copy(v[i].why, sizeof(v[i].why), iv.match);
	}
	if (owner != owner_stack)
		free(owner);
	if (inf != inf_stack)
		free(inf);
	return rc;
}

/* Severity of a category when actions tie: the more telling one wins. */
static int
category_rank(enum category c)
{
	switch (c) {
	case CAT_DISPOSABLE:	return 6;
	case CAT_RELAY:		return 5;
	case CAT_SUSPICIOUS:	return 4;
	case CAT_INVALID:	return 3;
	case CAT_UNKNOWN:	return 2;
	case CAT_CLEAN:		return 1;
	default:		return 0;
	}
}

size_t
classify_decisive(const struct policy *pol, const struct verdict *v,
    size_t n)
{
	size_t best = 0;

	for (size_t i = 1; i < n; i++) {
		enum action ab = pol->action[v[best].category];
		enum action ai = pol->action[v[i].category];

		if (ai > ab || (ai == ab &&
		    (category_rank(v[i].category) >
		    category_rank(v[best].category) ||
		    (category_rank(v[i].category) ==
		    category_rank(v[best].category) &&
		    v[i].role < v[best].role))))
			best = i;
	}
	return best;
}

int
verdict_tag_value(const struct verdict *v, int truncated, char *buf,
    size_t len)
{
	int n;

	n = snprintf(buf, len, "%s; role=%s%s%s%s%s%s",
	    category_name(v->category), role_name(v->role),
	    v->why[0] != '\0' ? "; match=" : "", v->why,
	    v->spf_done ? "; spf=" : "",
	    v->spf_done ? spf_result_name(v->spf) : "",
	    truncated ? "; truncated" : "");
	return n < 0 || (size_t)n >= len ? -1 : n;
}
