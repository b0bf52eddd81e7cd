/*
 * classify.h - from addresses to a verdict per address and per message.
 *
 * classify_address() normalises the domain of one parsed address, looks it
 * up in the list database and returns its category, the entry that matched
 * with its sources, and the keyed hash of the canonical address (the only
 * trace of the address that may be logged).
 *
 * A message is classified from its sender addresses (envelope, From,
 * Sender, Reply-To, ...).  The decisive address is the one whose category
 * maps to the most severe action under the policy (reject > tempfail > tag
 * > accept); ties go to the more severe category (disposable > relay >
 * suspicious > invalid > unknown > clean > allowed), then to the earlier role (envelope first).
 *
 * The senders of one message, how many of them are looked at and what
 * a message whose senders were not all classified is, are senders.h's.
 *
 * Pure functions of their inputs and the database: thread-safe.
 */
#ifndef DM_CLASSIFY_H
#define DM_CLASSIFY_H

#include <stddef.h>

#include "addr.h"
#include "category.h"
#include "domain.h"
#include "hash.h"
#include "infra.h"
#include "listdb.h"
#include "spf.h"

struct policy {
	enum action	action[CAT_COUNT];	/* per category */
	enum action	truncated;		/* the least a message gets
						   whose senders were not all
						   classified (senders.h) */
	enum action	null_sender_max;	/* the most a message with the
						   null envelope sender gets */
	char		subaddr_sep;		/* '+' by default, '\0' off */
};

/* Defaults: disposable -> reject, relay -> tag, suspicious -> tag,
 * others (unknown among them: a DNS problem never rejects) -> accept;
 * a truncated message at least tag; with the null envelope sender at
 * most tag. */
void	policy_default(struct policy *);

/* The action for a message whose decisive verdict has category c.  A
 * truncated message (a bound left some sender unclassified, which may
 * have been the disposable one) gets at least the truncated action: an
 * attacker cannot hide an address behind many others for less than
 * that.  A message with the null envelope sender (a bounce, a delivery
 * report) gets at most null_sender_max: its From is a provider's
 * MAILER-DAEMON or a list's bounce address, and rejecting it loses the
 * report that a disposable mailbox is gone. */
enum action policy_action(const struct policy *, enum category c,
	    int truncated, int null_sender);

struct verdict {
	enum category	category;
	enum role	role;
	char		domain[DOMAIN_MAX + 1];	/* normalised; "" if invalid */
	unsigned char	hash[HASH_LEN];		/* keyed hash of the address
						   (identity.h) */
	unsigned char	key_id;			/* the key that made it */
	struct listdb_match match;		/* what the lists said */
	/* verdict_clear() zeroes all but match (listdb_match_clear): why
	 * must stay the first field after it. */
	char		why[INFRA_MATCH_MAX];	/* what decided: the list
						   entry, or a fingerprint
						   signal "mx:..."; "" none */
	const char	*confidence;		/* "high", "low", "none" */
	int		dns;			/* infrastructure was looked at */
	int		spf_done;		/* spf holds a result */
	enum spf_result	spf;			/* client SPF (envelope) */
};

/* A verdict of nothing (CAT_CLEAN, all zero), without writing all of its
 * match. */
void	verdict_clear(struct verdict *);

/* Classify one address found in role; its hash is identity_make()'s under
 * the key (a NULL key: no hash is made, and the verdict's is zero).
 * Returns 0, or -1 on a database or hashing error (reason in err; the
 * verdict is then unusable and the caller applies its failure action). */
int	classify_address(struct listdb *, const struct hash_key *,
	    const struct policy *, const struct addr *, enum role,
	    struct verdict *, char *err, size_t errlen);

/* Look past the lists: for each of the n verdicts the lists left clean
 * or only suspicious (a listing that does not decide: a strong signal may
 * still decide it; nothing else changes it) and DNS has not looked at
 * yet (v.dns 0), gather its domain's infrastructure on sess (all domains in parallel,
 * one dns_wait) and match it against the fingerprints; a verdict then
 * becomes disposable, relay, suspicious, unknown, or stays clean, with why
 * naming the deciding signal.  Verdicts of other categories cause no DNS
 * query at all (allowlisted domains never reach DNS).  want_spf 0 skips
 * the SPF walk.  Returns 0, or -1 on a database error (err). */
int	classify_infra(struct listdb *, struct dns_session *, int want_spf,
	    struct verdict *v, size_t n, char *err, size_t errlen);

/* Whether the infrastructure's verdict decides a domain that the lists
 * left clean (always) or listed without deciding, listed_weak (only a
 * strong signal does: iv disposable or relay).  classify_infra's rule,
 * for the tool that explains a verdict. */
int	classify_infra_decides(int listed_weak, const struct infra_verdict *);

/* Index of the decisive verdict among n (n > 0). */
size_t	classify_decisive(const struct policy *, const struct verdict *,
	    size_t n);

/* The tag header value for a message's decisive verdict:
 * "disposable; role=reply-to; match=mailinator.com", with "; spf=fail"
 * when the client's SPF was evaluated, and "; truncated" last when some
 * sender of the message was not classified (then the category is the
 * worst among those that were).  Returns the length written (< len), or
 * -1 if it does not fit. */
int	verdict_tag_value(const struct verdict *, int truncated, char *buf,
	    size_t len);

#endif
