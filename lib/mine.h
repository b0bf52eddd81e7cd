/*
 * mine.h - propose fingerprints from data: the infrastructure that many
 * listed domains share and no allowlisted domain uses.
 *
 * The caller resolves domains (infra.h) and hands each one's facts to
 * mine_add(), saying whether the domain is listed (disposable or relay)
 * or allowlisted.  mine_result() returns every MX host, MX address and
 * name server seen for at least min_listed listed domains and for no
 * allowlisted domain, most shared first, with the count behind each.
 * Pure bookkeeping: no DNS, no database, no I/O.
 */
#ifndef DM_MINE_H
#define DM_MINE_H

#include <stddef.h>

#include "infra.h"
#include "listdb.h"

struct mine;

struct mine_proposal {
	enum fp_kind	kind;		/* FP_MX, FP_IP or FP_NS */
	char		value[DNS_NAME_MAX];	/* host, or address text */
	size_t		listed;		/* listed domains that share it */
};

struct mine	*mine_new(void);
void		 mine_free(struct mine *);

/* Record the facts of one domain.  Returns 0, or -1 if out of memory. */
int	mine_add(struct mine *, const struct infra *, int allowed);

/* The proposals into *out (malloc'd, caller frees), *n of them.  Returns
 * 0, or -1 if out of memory. */
int	mine_result(struct mine *, size_t min_listed,
	    struct mine_proposal **out, size_t *n);

#endif
