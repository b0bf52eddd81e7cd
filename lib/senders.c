/*
 * senders.c - the sender addresses of one message (see senders.h).
 *
 * DESCRIPTION
 *	Three arrays: the verdicts (one per distinct normalised domain, in
 *	the order first seen), the spellings (an open-addressing table
 *	from a domain as written to its verdict's index, or to -1 for a
 *	domain past SENDERS_MAX_DOMAINS, so that its further addresses
 *	are not normalised again), and the recorded addresses (hash, key,
 *	role, verdict index).  A new spelling is normalised and its domain
 *	looked for among at most SENDERS_MAX_DOMAINS verdicts; that scan
 *	happens at most SENDERS_MAX_SPELLINGS times per message.  The
 *	spelling table doubles from 16 slots and stays at most half full;
 *	its probes compare a 32-bit hash before the bytes.
 *
 * DIAGNOSTICS
 *	Return values only; nothing is logged.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "identity.h"
#include "senders.h"
#include "util.h"

#define SPELL_SLOTS_MIN	16
#define SPELL_SLOTS_MAX	(2 * SENDERS_MAX_SPELLINGS)

struct spelling {
	char		*raw;		/* the domain as written; NULL: free */
	uint32_t	 h;
	int		 literal;
	int		 dom;		/* verdict index; -1: past the bound */
};

struct recorded {
	unsigned char	hash[HASH_LEN];
	unsigned char	key_id;
	unsigned char	role;
	unsigned char	dom;		/* verdict index */
};

struct senders {
	struct verdict	*v;
	size_t		 nv, vcap;
	struct spelling	*sp;
	size_t		 nsp, spslots;
	struct recorded	*rec;
	size_t		 nrec, reccap;
	int		 truncated;
};

/* The bound fits the recorded index and the domain bit mask below. */
typedef char senders_domains_fit[SENDERS_MAX_DOMAINS <= 64 ? 1 : -1];

struct senders *
senders_new(void)
{
	return calloc(1, sizeof(struct senders));
}

void
senders_free(struct senders *s)
{
	if (s == NULL)
		return;
	for (size_t i = 0; i < s->spslots; i++)
		free(s->sp[i].raw);
	free(s->sp);
	free(s->v);
	/* The hashes identify senders: no copy left behind. */
	if (s->rec != NULL)
		explicit_bzero(s->rec, s->reccap * sizeof(*s->rec));
	free(s->rec);
	free(s);
}

/* FNV-1a over the domain as written, and whether it is a literal. */
static uint32_t
spelling_hash(const char *raw, int literal)
{
	uint32_t h = 2166136261u ^ (uint32_t)(literal != 0);

	for (; *raw != '\0'; raw++) {
		h ^= (unsigned char)*raw;
		h *= 16777619u;
	}
	return h;
}

/* The slot of raw: where it is, or the free slot where it would go. */
static size_t
spelling_slot(const struct senders *s, const char *raw, int literal,
    uint32_t h)
{
	size_t mask = s->spslots - 1, i = h & mask;

	while (s->sp[i].raw != NULL && (s->sp[i].h != h ||
	    s->sp[i].literal != literal || strcmp(s->sp[i].raw, raw) != 0))
		i = (i + 1) & mask;
	return i;
}

/* Room for one more spelling, the table at most half full.  -1: out of
 * memory. */
static int
spelling_room(struct senders *s)
{
	struct spelling *old = s->sp, *nsp;
	size_t oslots = s->spslots, nslots;

	if (s->spslots > 0 && 2 * (s->nsp + 1) <= s->spslots)
		return 0;
	nslots = oslots ? oslots * 2 : SPELL_SLOTS_MIN;
	if (nslots > SPELL_SLOTS_MAX)
		return 0;	/* cannot happen: nsp < SENDERS_MAX_SPELLINGS */
	if ((nsp = calloc(nslots, sizeof(*nsp))) == NULL)
		return -1;
	s->sp = nsp;
	s->spslots = nslots;
	for (size_t i = 0; i < oslots; i++)
		if (old[i].raw != NULL)
			s->sp[spelling_slot(s, old[i].raw, old[i].literal,
			    old[i].h)] = old[i];
	free(old);
	return 0;
}

/* The verdict of a normalised domain, or -1. */
static int
domain_index(const struct senders *s, const char *domain)
{
	for (size_t i = 0; i < s->nv; i++)
		if (strcmp(s->v[i].domain, domain) == 0)
			return (int)i;
	return -1;
}

/* Room for one more verdict.  -1: out of memory. */
static int
verdict_room(struct senders *s)
{
	struct verdict *nv;
	size_t ncap;

	if (s->nv < s->vcap)
		return 0;
	ncap = s->vcap ? s->vcap * 2 : 4;
	if (ncap > SENDERS_MAX_DOMAINS)
		ncap = SENDERS_MAX_DOMAINS;
	if ((nv = reallocarray(s->v, ncap, sizeof(*nv))) == NULL)
		return -1;
	s->v = nv;
	s->vcap = ncap;
	return 0;
}

/* Keep one address for the records store, while there is room.  -1:
 * out of memory. */
static int
record(struct senders *s, const unsigned char *hash, unsigned char key_id,
    enum role role, int dom)
{
	struct recorded *r;

	if (s->nrec == SENDERS_MAX_RECORDED)
		return 0;
	if (s->nrec == s->reccap) {
		size_t ncap = s->reccap ? s->reccap * 2 : 4;

		if (ncap > SENDERS_MAX_RECORDED)
			ncap = SENDERS_MAX_RECORDED;
		if ((r = reallocarray(s->rec, ncap, sizeof(*r))) == NULL)
			return -1;
		s->rec = r;
		s->reccap = ncap;
	}
	r = &s->rec[s->nrec++];
	memcpy(r->hash, hash, HASH_LEN);
	r->key_id = key_id;
	r->role = (unsigned char)role;
	r->dom = (unsigned char)dom;
	return 0;
}

int
senders_add_verdict(struct senders *s, const struct verdict *v)
{
	int d = domain_index(s, v->domain);

	if (d < 0) {
		if (s->nv == SENDERS_MAX_DOMAINS) {
			s->truncated = 1;
			return SENDERS_CAPPED;
		}
		if (verdict_room(s) != 0)
			return -1;
		d = (int)s->nv++;
		s->v[d] = *v;
	} else if (v->role < s->v[d].role)
		s->v[d] = *v;
	return record(s, v->hash, v->key_id, v->role, d) == 0 ?
	    SENDERS_OK : -1;
}

int
senders_add(struct senders *s, struct listdb *db, const struct hash_key *k,
    const struct policy *pol, const struct addr *a, enum role role,
    char *err, size_t errlen)
{
	uint32_t h = spelling_hash(a->domain, a->literal);
	struct identity id;
	struct verdict *v;
	size_t slot = 0;
	int d, fresh = 0;

	if (s->spslots > 0 &&
	    s->sp[slot = spelling_slot(s, a->domain, a->literal, h)].raw !=
	    NULL)
		d = s->sp[slot].dom;
	else {
		char domain[DOMAIN_MAX + 1], *raw;
		size_t len;

		if (s->nsp == SENDERS_MAX_SPELLINGS) {
			s->truncated = 1;
			return SENDERS_CAPPED;
		}
		(void)identity_domain(a, domain);
		if ((d = domain_index(s, domain)) < 0 &&
		    s->nv < SENDERS_MAX_DOMAINS) {
			if (verdict_room(s) != 0)
				goto nomem;
			if (classify_address(db, k, pol, a, role, &s->v[s->nv],
			    err, errlen) != 0)
				return -1;
			d = (int)s->nv++;
			fresh = 1;
		}
		len = strlen(a->domain) + 1;
		if (spelling_room(s) != 0 || (raw = malloc(len)) == NULL)
			goto nomem;
		memcpy(raw, a->domain, len);
		slot = spelling_slot(s, a->domain, a->literal, h);
		s->sp[slot].raw = raw;
		s->sp[slot].h = h;
		s->sp[slot].literal = a->literal;
		s->sp[slot].dom = d;
		s->nsp++;
	}
	if (d < 0) {
		s->truncated = 1;
		return SENDERS_CAPPED;
	}
	v = &s->v[d];
	if (fresh) {
		memcpy(id.hash, v->hash, HASH_LEN);
		id.key_id = v->key_id;
	} else if (role < v->role || s->nrec < SENDERS_MAX_RECORDED) {
		if (identity_make(a, pol->subaddr_sep, k, &id) != 0) {
			seterr(err, errlen, "cannot hash address");
			return -1;
		}
		/* The domain's verdict is named after its address in the
		 * earliest role, as if each address had its own. */
		if (role < v->role) {
			v->role = role;
			memcpy(v->hash, id.hash, HASH_LEN);
			v->key_id = id.key_id;
		}
	} else
		return SENDERS_OK;
	if (record(s, id.hash, id.key_id, role, d) != 0)
		goto nomem;
	return SENDERS_OK;
nomem:
	seterr(err, errlen, "out of memory");
	return -1;
}

void
senders_set_truncated(struct senders *s)
{
	s->truncated = 1;
}

int
senders_truncated(const struct senders *s)
{
	return s->truncated;
}

struct verdict *
senders_verdicts(struct senders *s, size_t *n)
{
	*n = s->nv;
	return s->v;
}

size_t
senders_nrecorded(const struct senders *s)
{
	return s->nrec;
}

size_t
senders_record_events(const struct senders *s, enum action done,
    time_t when, struct record_event *out)
{
	uint64_t domains_seen = 0;
	size_t nev = 0;

	for (size_t i = 0; i < s->nrec; i++) {
		const struct recorded *r = &s->rec[i];
		const struct verdict *v = &s->v[r->dom];
		struct record_event *ev;
		size_t j;

		/* The envelope, From and Reply-To are often one sender:
		 * one event, with all its roles.  At most
		 * SENDERS_MAX_RECORDED squared comparisons. */
		for (j = 0; j < nev; j++)
			if (out[j].key_id == r->key_id &&
			    memcmp(out[j].hash, r->hash, HASH_LEN) == 0)
				break;
		if (j < nev) {
			out[j].roles |= 1u << r->role;
			continue;
		}
		ev = &out[nev++];
		memset(ev, 0, sizeof(*ev));
		ev->when = when;
		ev->key_id = r->key_id;
		memcpy(ev->hash, r->hash, HASH_LEN);
		memcpy(ev->domain, v->domain, sizeof(ev->domain));
		ev->category = v->category;
		ev->roles = 1u << r->role;
		ev->action = done;
		ev->first_of_domain = !(domains_seen & (UINT64_C(1) << r->dom));
		domains_seen |= UINT64_C(1) << r->dom;
	}
	return nev;
}
