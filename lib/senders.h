/*
 * senders.h - the sender addresses of one message: every one of them
 * looked at, the work bounded by what costs.
 *
 * A message names its senders in the envelope and in header fields
 * (From, Sender, Reply-To, ...), and one field of Postfix's 100 KB can
 * hold thousands of addresses.  What costs is per domain, not per
 * address: a list lookup, and DNS when the lists say nothing.  So a
 * message's senders are kept as its distinct domains, each with one
 * verdict, and an address at a domain already seen costs a table lookup.
 * The first address at a domain is classified (classify_address); its
 * verdict stands for the domain, named after the domain's first address
 * in its earliest role (envelope first), which is what the decisive
 * verdict and the tag header then show.
 *
 * Bounds per message (also in disposable-milter(8), LIMITS):
 *
 *   SENDERS_MAX_DOMAINS    distinct domains (normalised; every address
 *                          without a usable domain counts as one more);
 *   SENDERS_MAX_SPELLINGS  ways the domains are written (byte for byte
 *                          as in the message): each is normalised once;
 *   SENDERS_MAX_RECORDED   addresses, the first ones, hashed for the
 *                          records store.
 *
 * An address at a new domain past the first bound, or written in a new
 * way past the second, is not classified: senders_add() says so and the
 * message is truncated from then on, which the policy answers with its
 * truncated action (classify.h, policy_action).  The third bound loses
 * records, never verdicts, and does not truncate.  Any number of
 * addresses at the domains already seen is classified completely: a
 * From of 300 addresses at one domain and a disposable one after them
 * is two domains.
 *
 * Cost: per address, a hash of its domain as written and a probe of a
 * table of at most 2 * SENDERS_MAX_SPELLINGS slots; a keyed hash
 * (identity_make) only for the first SENDERS_MAX_RECORDED addresses and
 * when an earlier role finds a known domain; normalisation per new
 * spelling; a list lookup per new domain.  Memory: one verdict per
 * domain, the spellings, SENDERS_MAX_RECORDED small records.
 *
 * Not thread-safe: one struct senders belongs to one message.
 */
#ifndef DM_SENDERS_H
#define DM_SENDERS_H

#include <stddef.h>
#include <time.h>

#include "addr.h"
#include "classify.h"
#include "records.h"

#define SENDERS_MAX_DOMAINS	64
#define SENDERS_MAX_SPELLINGS	256
#define SENDERS_MAX_RECORDED	256

/* senders_add() and senders_add_verdict() return one of these, or -1. */
#define SENDERS_OK	0	/* the address's domain has a verdict */
#define SENDERS_CAPPED	1	/* a bound left it unclassified: the
				   message is truncated */

struct senders;

/* A new, empty set; NULL when out of memory. */
struct senders *senders_new(void);
void	senders_free(struct senders *);

/* Add an address already classified, with its verdict (the envelope's,
 * classified at MAIL FROM and perhaps looked at through DNS): the
 * verdict becomes its domain's unless the domain has one from an
 * earlier role.  Returns SENDERS_OK, SENDERS_CAPPED, or -1 when out of
 * memory. */
int	senders_add_verdict(struct senders *, const struct verdict *);

/* Add one address found in role: classified when its domain is new.
 * Returns SENDERS_OK, SENDERS_CAPPED, or -1 on a database, hashing or
 * memory error (reason in err; the message then gets the caller's
 * failure action). */
int	senders_add(struct senders *, struct listdb *, const struct hash_key *,
	    const struct policy *, const struct addr *, enum role,
	    char *err, size_t errlen);

/* A bound outside this module was reached (a header field longer than
 * addr.h's ADDR_MAX_FIELD): the message is truncated. */
void	senders_set_truncated(struct senders *);

/* 1 when some sender of the message was not classified, else 0. */
int	senders_truncated(const struct senders *);

/* The verdicts, one per distinct domain, in the order the domains were
 * first seen; *n may be 0.  The caller may change them in place (the
 * DNS step does); they live until senders_free. */
struct verdict *senders_verdicts(struct senders *, size_t *n);

/* The number of addresses kept for the records store: what
 * senders_record_events needs room for. */
size_t	senders_nrecorded(const struct senders *);

/* The records store's events for the message, which ended in action
 * done: one per distinct sender (key and hash) among the recorded
 * addresses, with every role it had, its domain's category, and the
 * first sender of each domain flagged so that the domain counts the
 * message once.  Returns the number written to out. */
size_t	senders_record_events(const struct senders *, enum action done,
	    time_t when, struct record_event *out);

#endif
