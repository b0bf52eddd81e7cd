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

/*
 * The rules a build reads a list file by, one line at a time, for whoever
 * must know beforehand what a build will make of a file (the updater,
 * judging a download):
 *
 * listdb_line_entry() cuts a line's comment ('#' to the end) and the
 * white space around what is left, in place; it returns the entry, or
 * NULL when the line holds none.  (A line with a NUL byte is refused by
 * the build; the caller of this function sees only up to the NUL.)
 *
 * listdb_entry_check() judges a domain-list entry: LISTDB_ENTRY_OK with
 * its normalised form in norm (which holds DOMAIN_MAX + 1 bytes), or why
 * the build refuses it (norm then holds the normalised form of a public
 * suffix, and is empty otherwise).  listdb_entry_reason() says it in
 * words ("a public suffix"); a mail address is never quoted back.
 *
 * listdb_fp_line_check() judges a fingerprint (LIST_FINGERPRINTS) or
 * shared-infrastructure (LIST_INFRA) entry with the build's own parser:
 * 0 when the build takes it, 1 when it refuses it (the reason, without
 * file and line, in why), -1 out of memory or a kind that has no such
 * lines.
 *
 * listdb_show() is how a build quotes a list token back in a diagnostic:
 * control characters as '?', cut after LISTDB_SHOW_MAX bytes with "...".
 * buf should hold LISTDB_SHOW_MAX + 4 bytes.  Returns buf.  (Lines that
 * hold a mail address are never given to it.)
 */
#define LISTDB_SHOW_MAX 80

enum listdb_entry {
	LISTDB_ENTRY_OK = 0,
	LISTDB_ENTRY_WORDS,		/* more than one name on the line */
	LISTDB_ENTRY_ADDRESS,		/* a mail address */
	LISTDB_ENTRY_WILDCARD,		/* "*" in the name */
	LISTDB_ENTRY_LITERAL,		/* an IP address or address literal */
	LISTDB_ENTRY_INVALID,		/* not a valid domain name */
	LISTDB_ENTRY_SUFFIX,		/* a public suffix */
	LISTDB_ENTRY_NOMEM
};

char	*listdb_line_entry(char *line);
enum listdb_entry listdb_entry_check(const char *entry,
	    char norm[DOMAIN_MAX + 1]);
const char *listdb_entry_reason(enum listdb_entry);
int	listdb_fp_line_check(enum list_kind kind, const char *entry,
	    char *why, size_t whylen);
const char *listdb_show(const char *tok, char *buf, size_t buflen);

/* Diagnostics are passed to diag (one line each, "file:line: ..." with
 * is_error 1 for refusals, 0 for warnings); diag may be NULL.  Returns 0
 * when the database was written, -1 otherwise (reason through diag). */
int	listdb_build(const char *dbpath, const struct listdb_input *in,
	    size_t nin, int flags,
	    void (*diag)(void *arg, int is_error, const char *line), void *arg,
	    struct listdb_build_report *report);


#endif
