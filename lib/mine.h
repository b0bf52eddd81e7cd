/*
 * mine.h - propose fingerprints from data: the infrastructure that many
 * listed domains share and no allowlisted domain uses.
 *
 * The caller resolves domains (infra.h) and hands each one's facts to
 * mine_add(), saying whether the domain is listed (disposable or relay)
 * or allowlisted.  mine_result() returns every MX host, MX address and
 * name server seen for at least min_listed listed domains and for no
 * allowlisted domain, most shared first, with the count behind each and
 * a few of the domains.  Pure bookkeeping: no DNS, no database, no I/O.
 *
 * mine_shared() then holds a proposal against the database: a host or
 * address on the shared-infrastructure list, or a host of an allowlisted
 * domain (a mailbox provider's own servers), is never proposed, however
 * many listed domains use it: disposable domains sit on Google's or
 * Cloudflare's mail servers as often as anyone's.
 */
#ifndef DM_MINE_H
#define DM_MINE_H

#include <stddef.h>

#include "infra.h"
#include "listdb.h"

struct mine;

#define MINE_SAMPLES 3

struct mine_proposal {
	enum fp_kind	kind;		/* FP_MX, FP_IP or FP_NS */
	char		value[DNS_NAME_MAX];	/* host, or address text */
	size_t		listed;		/* listed domains that share it */
	size_t		nsample;
	char		sample[MINE_SAMPLES][DNS_NAME_MAX];	/* some of
						   them, in name order */
};

struct mine	*mine_new(void);
void		 mine_free(struct mine *);

/* Record the facts of one domain.  Returns 0, or -1 if out of memory. */
int	mine_add(struct mine *, const struct infra *, int allowed);

/* The proposals into *out (malloc'd, caller frees), *n of them.  Returns
 * 0, or -1 if out of memory. */
int	mine_result(struct mine *, size_t min_listed,
	    struct mine_proposal **out, size_t *n);

/* 1 when the proposal is shared infrastructure or a host of an
 * allowlisted domain (why: "infrastructure mx *.google.com",
 * "allowlisted gmail.com"), 0 when it may be proposed, -1 on a database
 * error (why holds it). */
int	mine_shared(struct listdb *, const struct mine_proposal *, char *why,
	    size_t len);

#endif
