/*
 * spf.h - SPF through libspf2, kept narrow and screened.
 *
 * Two uses.  spf_parse() reads one SPF record (for the infrastructure
 * walk: which domains it includes or redirects to, which ip4/ip6 ranges
 * it lists) with libspf2's record compiler.  spf_check_host() evaluates
 * SPF for the connecting client's address and the envelope domain, with
 * every DNS lookup going through dns.h (same servers, cache and session
 * budget) by a DNS layer of our own under libspf2.
 *
 * Every record comes from a domain its sender controls, and Debian 12's
 * libspf2 has no fix for CVE-2023-42118 (an integer underflow reached
 * through macro strings while a record is compiled and expanded).  So no
 * record reaches libspf2 unless spf_screen() passed it: records with any
 * macro ("%{", "%%", "%_", "%-"), records longer than SPF_RECORD_MAX
 * bytes, with more than SPF_MAX_TERMS terms, with bytes outside
 * printable ASCII, or with a CIDR length of more than three digits
 * (which libspf2 lets overflow) are refused, and the refusal is
 * reported (the caller counts and logs it as a signal).  Evaluation is
 * bounded: at most 10 DNS-querying terms (RFC 7208), depth
 * SPF_MAX_DEPTH, and the session's deadline.  libspf2's error and
 * warning handlers log instead of aborting.
 *
 * Verdict cache.  spf_check_host() results are kept, keyed by the
 * client address and the sender domain (lower case).  HELO is not part
 * of the key: it could change a result only through a %{h} macro, which
 * the screen refuses, or stand in for a missing sender domain, which is
 * always given.  An entry lives no longer than the shortest TTL among
 * the DNS answers its evaluation used (dns_answer.ttl: record and CNAME
 * TTLs, no more than the DNS cache has left of them, DNSNegativeTTL for
 * "no such name" and "no such record"), and never more than
 * SPF_CACHE_MAX_TTL, which also bounds a result that needed no DNS
 * answer at all (libspf2's loopback rule).  Never kept: temperror, and
 * any result reached while some lookup failed or timed out (a retry may
 * fare otherwise).  Bounded to cache_size entries (least recently used
 * evicted) under one mutex.  An entry holds the client address (in
 * binary), the domain, the result and its short reason: never a local
 * part.  spf_configure() empties it (a reload: answers are asked afresh
 * from the DNS cache and the servers now configured).
 *
 * spf_init() once before threads start, spf_configure() then and at each
 * reload; everything else is thread-safe (one SPF_server_t per
 * evaluation).
 */
#ifndef DM_SPF_H
#define DM_SPF_H

#include <stddef.h>
#include <stdint.h>

#include "dns.h"

#define SPF_RECORD_MAX	1024	/* bytes of a record we accept */
#define SPF_MAX_TERMS	48	/* terms of a record we accept */
#define SPF_MAX_DEPTH	5	/* include/redirect nesting */

int	spf_init(char *err, size_t errlen);

#define SPF_CACHE_MAX_TTL 3600	/* seconds a verdict is kept at most */
#define SPF_WHY_MAX	128	/* bytes of a kept reason, NUL included */

struct spf_config {
	size_t	cache_size;	/* verdicts kept (default 10000); 0 = none */
};

void	spf_config_default(struct spf_config *);

/* A new, empty verdict cache of the configured size (none with 0, and
 * none before the first call).  Returns 0, or -1 with err when out of
 * memory (then there is no cache: every check evaluates). */
int	spf_configure(const struct spf_config *, char *err, size_t errlen);

/* Free the verdict cache (at exit: a checker sees no leak). */
void	spf_fini(void);

/* Counters since start: checks the cache answered, and checks that were
 * evaluated (the cache off, or no entry). */
struct spf_stats {
	uint64_t	cache_hits;
	uint64_t	cache_misses;
};
void	spf_get_stats(struct spf_stats *);

/* 1 if txt is an SPF record ("v=spf1" then a space or the end). */
int	spf_is_record(const char *txt);

/* 0 if the record may be handed to libspf2, -1 if not; *why then says
 * which rule refused it ("macro", "too long", "too many terms",
 * "bad character", "bad cidr length"). */
int	spf_screen(const char *record, const char **why);

#define SPF_MAX_INCLUDES 16
#define SPF_MAX_RANGES	 64

struct spf_range {
	struct dns_addr	addr;
	int		prefix;
};

struct spf_terms {
	size_t		ninclude;
	char		include[SPF_MAX_INCLUDES][DNS_NAME_MAX]; /* lower case */
	char		redirect[DNS_NAME_MAX];	/* "" if none */
	size_t		nrange;
	struct spf_range range[SPF_MAX_RANGES];
	int		truncated;	/* more includes or ranges than kept */
	int		bad_prefix;	/* ranges dropped: a prefix length out
					   of range for its family */
};

/* Parse a record.  Returns 0 with *t filled, -1 if the screen refused it
 * or libspf2 could not compile it (reason in err).  A range whose prefix
 * libspf2 hands back out of range (it keeps prefixes in 8 bits) is
 * dropped and counted in bad_prefix: one bad term never spoils the
 * rest.
 *
 * A record's terms are a function of its text alone, and the walk of a
 * domain's infrastructure parses the same records for every message
 * (the domain's own, its providers' includes): the outcome for the last
 * SPF_PARSE_MEMO texts (the terms, or libspf2's error) is remembered,
 * least recently used forgotten first, and given again without libspf2,
 * allocation or formatting.  Nothing expires: a changed record is
 * another text.  Thread-safe (one mutex); set up by spf_init(). */
#define SPF_PARSE_MEMO	1024
int	spf_parse(const char *record, struct spf_terms *t, char *err,
	    size_t errlen);

enum spf_result {
	SPFR_NONE = 0,	/* no record */
	SPFR_NEUTRAL,
	SPFR_PASS,
	SPFR_FAIL,
	SPFR_SOFTFAIL,
	SPFR_TEMPERROR,	/* DNS failed or the budget ran out */
	SPFR_PERMERROR,
	SPFR_SKIPPED,	/* a record on the way was refused by the screen */
	SPFR_COUNT
};

const char *spf_result_name(enum spf_result);	/* "pass", "fail" ... */

/* Evaluate SPF for client address client_ip ("192.0.2.1" or an IPv6
 * address), HELO name helo (may be NULL) and sender domain (normalised),
 * or take the verdict from the cache (see above: then no DNS query, no
 * allocation).  The local part is never handed to libspf2 ("postmaster"
 * stands in).  Returns the result; why (may be NULL) receives a short
 * reason, at most SPF_WHY_MAX - 1 bytes of it. */
enum spf_result spf_check_host(struct dns_session *, const char *client_ip,
	    const char *helo, const char *domain, char *why, size_t whylen);

#endif
