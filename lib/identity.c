/*
 * identity.c - the canonical form and keyed hash of a sender address
 * (see identity.h).
 */
#include "config.h"

#include <string.h>

#include "identity.h"

int
identity_domain(const struct addr *a, char *domain)
{
	if (!a->literal && domain_normalise(a->domain, domain) == DOMAIN_OK)
		return 0;
	domain[0] = '\0';
	return 1;
}

int
identity_canonical(const struct addr *a, char sep, char *canon, char *domain)
{
	char raw[ADDR_MAX_DOMAIN + 1];
	size_t len;

	if (identity_domain(a, domain) == 0)
		return hash_canonical(a->local, domain, sep, canon) == 0 ?
		    0 : -1;
	if ((len = strlen(a->domain)) >= sizeof(raw))
		return -1;
	for (size_t i = 0; i <= len; i++) {
		char c = a->domain[i];

		raw[i] = c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
	}
	return hash_canonical(a->local, raw, sep, canon) == 0 ? 1 : -1;
}

int
identity_make(const struct addr *a, char sep, const struct hash_key *k,
    struct identity *id)
{
	char canon[HASH_CANON_MAX];
	int r;

	memset(id, 0, sizeof(*id));
	if ((r = identity_canonical(a, sep, canon, id->domain)) < 0)
		return -1;
	id->invalid = r == 1;
	id->key_id = k->id;
	r = hash_bin(k, canon, id->hash);
	explicit_bzero(canon, sizeof(canon));
	return r;
}
