/*
 * category.h - what a sender address is, and where it appeared.
 *
 * Shared vocabulary of the classifier, the list database, the policy, the
 * records store and the logs.  The names are the strings used in config
 * files, list files, log lines and the tag header.
 */
#ifndef DM_CATEGORY_H
#define DM_CATEGORY_H

enum category {
	CAT_CLEAN = 0,		/* on no list */
	CAT_DISPOSABLE,		/* a disposable / temporary mailbox service */
	CAT_RELAY,		/* an anonymous alias or relay service */
	CAT_ALLOWED,		/* on the allowlist */
	CAT_INVALID,		/* domain unusable (syntax, not normalisable) */
	CAT_SUSPICIOUS,		/* on no list; weak infrastructure signals */
	CAT_UNKNOWN,		/* on no list; DNS failed or ran out of time */
	CAT_COUNT
};

/* Where an address was found.  ROLE_COUNT is not a role. */
enum role {
	ROLE_ENVELOPE = 0,	/* MAIL FROM */
	ROLE_FROM,
	ROLE_SENDER,
	ROLE_REPLY_TO,
	ROLE_RESENT_FROM,
	ROLE_RESENT_SENDER,
	ROLE_DNT,		/* Disposition-Notification-To */
	ROLE_COUNT
};

/* What is done with a message, mildest first: the order is severity. */
enum action {
	ACT_ACCEPT = 0,		/* let through, log only */
	ACT_TAG,		/* add the tag header */
	ACT_TEMPFAIL,
	ACT_REJECT,
	ACT_COUNT
};

/*
 * How much a list source is trusted, most first: the order is trust.
 *   curated    the project's own lists and the admin's: decide alone
 *   community  maintained public lists: decide when enough agree
 *   weak       aggregators, unmaintained lists: never decide alone
 * The rule that turns the tiers of an entry's sources into a verdict is
 * listdb.h's (struct listdb_trust).
 */
enum tier {
	TIER_CURATED = 0,
	TIER_COMMUNITY,
	TIER_WEAK,
	TIER_COUNT
};

/* What a list file holds. */
enum list_kind {
	LIST_DOMAINS = 0,	/* one domain per line */
	LIST_FINGERPRINTS,	/* "KIND VALUE STRENGTH" (listdb.h) */
	LIST_INFRA,		/* "KIND VALUE": shared mail infrastructure */
	LIST_KIND_COUNT
};

const char	*category_name(enum category);	/* "disposable" ... */
int		 category_byname(const char *);	/* -1 if unknown */
const char	*role_name(enum role);		/* "envelope", "reply-to" ... */
int		 role_byname(const char *);	/* -1; accepts the header name
						   too ("Reply-To") */
const char	*role_header(enum role);	/* "Reply-To"; NULL for envelope */
const char	*action_name(enum action);	/* "reject" ... */
int		 action_byname(const char *);	/* -1 if unknown */
const char	*tier_name(enum tier);		/* "curated" ... */
int		 tier_byname(const char *);	/* -1 if unknown */
const char	*list_kind_name(enum list_kind);	/* "domains" ... */

#endif
