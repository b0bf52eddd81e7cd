/*
 * infra.h - what a domain's mail infrastructure says about it.
 *
 * infra_start() queues, on a DNS session, every lookup needed to describe
 * a domain: its MX hosts and their addresses (or, with no MX, the
 * domain's own A/AAAA: RFC 5321 section 5.1; a null MX "0 ." is RFC 7505's
 * "this domain receives no mail"), its name servers, and its SPF record
 * with the records it includes or redirects to, walked to SPF_MAX_DEPTH
 * with loop protection and at most INFRA_MAX_SPF_LOOKUPS lookups.  All of
 * them run in parallel where they do not depend on each other; several
 * domains can be started on one session and waited for together.  After
 * dns_wait() on the session the struct holds the facts.
 *
 * infra_match() holds the facts against the fingerprints of the list
 * database:
 *   mx:ENTRY         an MX host is a fingerprinted host (exact or suffix)
 *   mx-domain:ENTRY  an MX host belongs to a domain on the blocklist:
 *                    strong only when that listing decides on its own
 *                    (listdb.h, trust) and the host is not shared
 *   ip:ENTRY         an MX address (or the implicit MX's) is in a range
 *   ns:ENTRY         a name server is fingerprinted
 *   spf:ENTRY        the SPF record includes/redirects to a fingerprint
 *   spf-ip:ENTRY     an SPF ip4/ip6 range lies in a fingerprinted range
 *   nullmx           (weak) the domain declares it receives no mail
 * A strong signal decides: its category (disposable or relay).  Weak
 * signals only: CAT_SUSPICIOUS.
 *
 * Shared infrastructure (listdb.h) is never evidence.  A domain whose MX
 * hosts or MX addresses (the implicit MX's included) are on the
 * infrastructure list, or whose MX hosts belong to an allowlisted domain
 * (a mailbox provider's own servers), is on shared infrastructure: every
 * signal is then at most weak, and the verdict at most suspicious.  A
 * fingerprint that names shared infrastructure itself (a name server, an
 * SPF include or range on the list) is weak wherever it matches.  No signal but a lookup that failed or ran
 * out of time: CAT_UNKNOWN.  Otherwise CAT_CLEAN.  Facts come from the
 * DNS cache, the verdict is made fresh each time: a list reload applies at
 * once.
 */
#ifndef DM_INFRA_H
#define DM_INFRA_H

#include <stddef.h>

#include "category.h"
#include "dns.h"
#include "listdb.h"
#include "spf.h"

#define INFRA_MAX_MX		8	/* MX hosts looked at */
#define INFRA_MAX_ADDR		32	/* addresses kept */
#define INFRA_MAX_NS		8
#define INFRA_MAX_SPF_DOMAINS	16	/* include/redirect targets kept */
#define INFRA_MAX_SPF_LOOKUPS	10	/* TXT lookups for the SPF walk */
#define INFRA_MAX_SIGNALS	16
#define INFRA_MATCH_MAX		(DOMAIN_MAX + 16)

struct infra;

/* What a TXT lookup of the SPF walk is for: private to infra.c. */
struct infra_txt_step {
	struct infra	*inf;
	int		 depth;
};

struct infra {
	enum dns_status	mx_status, ns_status, txt_status, a_status;
	int		null_mx;	/* RFC 7505 */
	int		implicit_mx;	/* no MX: addr[] are the domain's own */
	int		nxdomain;	/* the domain does not exist */
	size_t		nmx;		/* of mx[] */
	size_t		naddr;		/* of addr[] */
	size_t		nns;		/* of ns[] */
	int		has_spf;
	size_t		nspf;		/* of spf[]: include/redirect targets,
					   all levels */
	size_t		nrange;		/* of range[] */
	int		spf_screened;	/* records refused by spf_screen */
	int		spf_bad_prefix;	/* CIDR lengths no family has: ranges
					   dropped, or whole records refused */
	int		spf_loop;	/* an include/redirect loop was cut */
	int		spf_limit;	/* the lookup limit cut the walk */
	int		incomplete;	/* a lookup failed or timed out */
	int		timed_out;	/* ... and a timeout was among them */
	/* walk state, private */
	int		spf_lookups;
	struct dns_session *sess;
	struct infra_txt_step txt_step[SPF_MAX_DEPTH + 1];	/* per depth:
						   the callbacks' argument,
						   so that the walk
						   allocates nothing */
	/* The arrays, last: infra_start clears what comes before domain
	 * and leaves them as they are (9 KiB a message, on the stack of a
	 * fresh thread); only the first nmx, naddr ... are ever read. */
	char		domain[DNS_NAME_MAX];
	char		mx[INFRA_MAX_MX][DNS_NAME_MAX];	/* by preference */
	struct dns_addr	addr[INFRA_MAX_ADDR];
	char		ns[INFRA_MAX_NS][DNS_NAME_MAX];
	char		spf[INFRA_MAX_SPF_DOMAINS][DNS_NAME_MAX];
	struct spf_range range[SPF_MAX_RANGES];
};

/* Queue the lookups for domain (normalised) on sess; want_spf 0 skips the
 * SPF walk.  *inf must stay in place until dns_wait() returns.  Neither
 * this nor the walk allocates: answered by the DNS cache, it costs no
 * more than the copies of the facts.  Returns 0, or -1 if out of memory
 * (inf->incomplete set). */
int	infra_start(struct dns_session *sess, const char *domain,
	    int want_spf, struct infra *inf);

struct infra_signal {
	char		what[INFRA_MATCH_MAX];	/* "mx:*.mail-data.net" */
	enum category	category;	/* disposable, relay, or suspicious */
	int		strong;
	char		sources[LISTDB_SOURCE_NAME * 2];	/* "a,b" */
};

struct infra_verdict {
	enum category	category;	/* clean, disposable, relay, suspicious,
					   unknown */
	const char	*confidence;	/* "high", "low" or "none" */
	size_t		nsignals;	/* of signal[] */
	int		shared;		/* mail goes to shared infrastructure */
	/* The text, last: infra_match clears what comes before it and
	 * empties the strings, not 7 KiB a message. */
	char		match[INFRA_MATCH_MAX];	/* the deciding signal, or
						   "dns:timeout" ... */
	char		shared_what[INFRA_MATCH_MAX];	/* the first fact:
						   "mx:*.google.com" */
	struct infra_signal signal[INFRA_MAX_SIGNALS];
};

/* Hold the facts against the database.  Returns 0, or -1 on a database
 * error (err). */
int	infra_match(struct listdb *, const struct infra *,
	    struct infra_verdict *, char *err, size_t errlen);

#endif
