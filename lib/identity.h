/*
 * identity.h - who a sender address is, as the program may remember it:
 * its canonical form and its keyed hash.
 *
 * This is the one place that decides which bytes are hashed for an
 * address; the daemon's log lines and records, and every disposable-ctl
 * command (check --hashed, export, forget, recheck's matching) call it,
 * so the same address always gives the same hash under the same key.
 *
 * The canonical form is local@domain (hash.h's hash_canonical: local
 * part lower-cased (ASCII), subaddress tag removed):
 *   - a usable domain is normalised (domain_normalise: A-label, lower
 *     case, no trailing dot);
 *   - an address literal or a domain that does not normalise is taken
 *     as written, ASCII lower-cased, whole (the parsers bound it to
 *     ADDR_MAX_DOMAIN bytes): no list can name it, but its log line can
 *     still be correlated with the tools' output.
 *
 * The canonical form exists only inside these calls and the caller's
 * buffer: it holds the address, so callers clear it (explicit_bzero)
 * when they keep it at all.
 *
 * Thread-safe: pure functions of their inputs (and the public suffix
 * list loaded once by domain_init).
 */
#ifndef DM_IDENTITY_H
#define DM_IDENTITY_H

#include "addr.h"
#include "domain.h"
#include "hash.h"

struct identity {
	int		invalid;		/* the domain is unusable */
	char		domain[DOMAIN_MAX + 1];	/* normalised; "" if invalid */
	unsigned char	key_id;			/* the key that made hash */
	unsigned char	hash[HASH_LEN];
};

/* The domain a's identity is made of, into domain (DOMAIN_MAX + 1
 * bytes): normalised, or "" when a's domain is an address literal or
 * does not normalise.  Returns 0 for a usable domain, 1 for an unusable
 * one.  Costs no hash: what the daemon compares addresses by when it
 * needs no hash of them (lib/senders.h). */
int	identity_domain(const struct addr *a, char *domain);

/* The canonical form of a (HASH_CANON_MAX bytes into canon) and its
 * normalised domain (DOMAIN_MAX + 1 bytes; "" when unusable).  Returns
 * 0 for a usable domain, 1 for an unusable one (canon still built, from
 * the domain as written), -1 when it does not fit (cannot happen for
 * addresses from addr.h's parsers). */
int	identity_canonical(const struct addr *a, char sep, char *canon,
	    char *domain);

/* canonical form, then hash under k, into *id.  Returns 0, or -1 when
 * the form does not fit or hashing fails. */
int	identity_make(const struct addr *a, char sep, const struct hash_key *k,
	    struct identity *id);

#endif
