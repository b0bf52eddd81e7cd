/*
 * domain.h - domain names: normalisation and the public-suffix boundary.
 *
 * domain_normalise() turns a domain as written in an address into the form
 * every other module compares: lower case, no trailing dot, IDNA A-labels
 * (libidn2, IDNA2008 with the TR46 non-transitional mapping), each label
 * 1..63 LDH characters not starting or ending with '-', at most 253 bytes.
 *
 * The public suffix list is the system's (libpsl reading DM_PSL_FILE, the
 * private section included), loaded once by domain_init() before threads
 * start; every other function is then thread-safe.
 */
#ifndef DM_DOMAIN_H
#define DM_DOMAIN_H

#include <stddef.h>

#define DOMAIN_MAX 253		/* bytes of a normalised domain */

#define DOMAIN_OK        0
#define DOMAIN_EINVALID -1	/* not a valid domain name */
#define DOMAIN_ELITERAL -2	/* an address literal or an IP address */
#define DOMAIN_ENOMEM   -3

/* Load the public suffix list from path (NULL: the built-in default
 * DM_PSL_FILE).  Returns 0, or -1 with a reason in err. */
int	domain_init(const char *path, char *err, size_t errlen);
void	domain_fini(void);

/* Normalise in (NUL-terminated, UTF-8 or ASCII) into out, which holds at
 * least DOMAIN_MAX + 1 bytes.  Returns DOMAIN_OK, DOMAIN_EINVALID,
 * DOMAIN_ELITERAL ("[...]", dotted-quad, or an IPv6 address) or
 * DOMAIN_ENOMEM.  out is an empty string on error. */
int	domain_normalise(const char *in, char *out);

/* For a normalised domain: 1 if it is itself a public suffix (com, co.uk,
 * github.io ...), else 0. */
int	domain_is_public_suffix(const char *ascii);

/* For a normalised domain: a pointer into ascii at its registrable domain
 * (the public suffix plus one label), or NULL when ascii is a public
 * suffix or has no registrable part. */
const char *domain_registrable(const char *ascii);

/* For a normalised domain and d, a pointer into it at the start of one of
 * its suffixes: 1 when d is at or below ascii's registrable domain (what
 * d >= domain_registrable(ascii) would say), else 0.  It asks the public
 * suffix list only about the suffixes from *from to d (the registrable
 * domain is the one before the first public suffix from the left) and
 * moves *from past those that are not public suffixes: a walk over
 * several suffixes of one name, from specific to general, starts with
 * *from = ascii and asks about each suffix once.  Most walks that find a
 * listed name ask about one or two suffixes where domain_registrable()
 * asks about every one. */
int	domain_within_registrable(const char *ascii, const char *d,
	    const char **from);

/* The parent of a normalised domain: a pointer just past its first label,
 * or NULL for a single label. */
const char *domain_parent(const char *ascii);

#endif
