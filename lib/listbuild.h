/*
 * listbuild.h - compile text lists into the list database (listdb.h
 * reads it).
 *
 * A list file is one domain per line; "#" starts a comment;
 * blank lines are ignored; surrounding whitespace is trimmed.  Each file
 * has a category (CAT_DISPOSABLE, CAT_RELAY or CAT_ALLOWED) and a source
 * name.  Entries are normalised with domain_normalise().  A fingerprint
 * list (listdb.h describes its lines) is disposable or relay; both kinds
 * must pass listdb_category_listable().
 *
 * Refused, as "file:line: reason" diagnostics: public suffixes, IP
 * addresses and literals, invalid or non-normalisable names, names with a
 * wildcard.  Reported as warnings: duplicates within a source, and domains
 * that are both allowed and blocked.  Any refused entry fails the build
 * (no file written) unless the caller passes LISTDB_BUILD_SKIP_BAD.
 */
#ifndef DM_LISTBUILD_H
#define DM_LISTBUILD_H

#include <stddef.h>

#include "category.h"
#include "listdb.h"

#define LISTDB_BUILD_MAX_INPUTS 256	/* lists (and report rows) a build
					   takes */

struct listdb_input {
	const char	*path;
	enum category	 category;
	const char	*source;
	enum list_kind	 kind;		/* domains, fingerprints (listdb.h)
					   or shared infrastructure */
	enum tier	 tier;		/* 0 is TIER_CURATED */
	int		 optional;	/* a missing file is a warning and
					   an empty source (a remote list
					   not fetched yet) */
};

struct listdb_build_report {
	size_t	per_category[CAT_COUNT];	/* distinct domain entries */
	size_t	fingerprints;			/* fingerprint entries */
	size_t	infrastructure;			/* shared infrastructure
						   entries */
	size_t	errors, warnings;
	size_t	nsources;
	struct {
		char	name[LISTDB_SOURCE_NAME];
		enum category category;
		enum tier tier;
		enum list_kind kind;
		size_t	entries;
	} source[LISTDB_BUILD_MAX_INPUTS];
};

#define LISTDB_BUILD_SKIP_BAD 0x01

/* Diagnostics are passed to diag (one line each, "file:line: ..." with
 * is_error 1 for refusals, 0 for warnings); diag may be NULL.  Returns 0
 * when the database was written, -1 otherwise (reason through diag). */
int	listdb_build(const char *dbpath, const struct listdb_input *in,
	    size_t nin, int flags,
	    void (*diag)(void *arg, int is_error, const char *line), void *arg,
	    struct listdb_build_report *report);


#endif
