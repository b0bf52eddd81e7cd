/*
 * listupdate.h - judging a fetched remote list before it may replace its
 * last good copy: the half of "disposable-ctl update" that needs no
 * network (fetch.h fetches; ctl/cmd-update.c ties the two together).
 *
 * A remote list (List, Fingerprints or Infrastructure with an https:// or
 * file:// location, conf.h) is built from its last good copy,
 * SourceDir/SOURCE.list.  A download replaces that copy only when it
 * passes every check below, in this order; otherwise the copy is kept.
 *
 *   a web page        Content-Type text/html or XHTML, or a body whose
 *                     first non-blank character is '<'
 *                     (listupdate_is_html: an error or login page)
 *   not such a list   more than LISTUPDATE_MAX_BAD_PERCENT of its entry
 *                     lines (not blank, not comments) are lines a build
 *                     refuses for a reason other than a public suffix: a
 *                     list of addresses, a hosts file, garbage
 *                     (listupdate_not_a_list)
 *   a safeguard       its entries (those kept, below) shrink by more than
 *                     max_shrink percent of the last good copy's, or grow
 *                     by more than max_growth percent, or there are none
 *                     (listupdate_guard); --force overrides this check
 *                     alone.  A first fetch has no growth limit.
 *
 * Sifting (listupdate_sift) reads the download with the build's own line
 * rules (listbuild.h) and sorts each entry line into kept or quarantined,
 * with one reason:
 *
 *   invalid         the build would refuse the line (a public suffix in
 *                   a fingerprint line too)
 *   public suffix   a domain entry that is a public suffix
 *   never-block     the entry or a parent of it is on the admin's
 *                   never-block file (UpdateNeverBlock)
 *   allowlisted     the current database allows it (listdb_lookup gives
 *                   CAT_ALLOWED)
 *   infrastructure  it is the domain of shared mail infrastructure
 *                   (listdb_infra_domain)
 *
 * The last three apply to block lists only (List disposable and List
 * relay): a block list that names gmail.com, a forwarding service or a
 * domain the admin protects is wrong about it, and one wrong entry must
 * not reject a whole provider's mail.  An allow list, a fingerprint list
 * and an infrastructure list lose only the lines the build would refuse.
 * The kept entries, normalised (domains) or with their white space
 * collapsed (fingerprint lines), sorted and each once, are the new copy;
 * the quarantined ones go to SourceDir/SOURCE.quarantine as
 * "ENTRY<TAB>REASON" lines.  A line that holds a mail address is never
 * quoted back, there or anywhere.
 *
 * Each source's SourceDir/SOURCE.state records, as "key value" lines, the
 * URL, the validators of the last good fetch (ETag, Last-Modified), its
 * time, its entry count and the SHA-256 of the body it came from; an
 * update sends the validators back (If-None-Match, If-Modified-Since) and
 * takes a body with the same SHA-256 as unchanged too (file://, or a
 * server that ignores validators).
 *
 * Nothing here writes a file: the caller stages and renames.  Every
 * function that can fail returns -1 with the reason in err (naming the
 * file where there is one); out of memory is such a failure.
 */
#ifndef DM_LISTUPDATE_H
#define DM_LISTUPDATE_H

#include <stddef.h>
#include <time.h>

#include "category.h"
#include "listdb.h"

#define LISTUPDATE_MAX_SHRINK	50	/* UpdateMaxShrink: percent */
#define LISTUPDATE_MAX_GROWTH	100	/* UpdateMaxGrowth: percent */
#define LISTUPDATE_TIMEOUT	60	/* UpdateTimeout: seconds a source */
#define LISTUPDATE_MAX_SIZE	64	/* UpdateMaxSize: MiB a download */
#define LISTUPDATE_MAX_BAD_PERCENT 10	/* more bad lines: not such a list */

struct listupdate_config {
	int	max_shrink;	/* percent, 0..100 (100: any shrink) */
	int	max_growth;	/* percent */
	int	timeout;	/* seconds for one source's transfer */
	size_t	max_size;	/* MiB */
};

void	listupdate_config_default(struct listupdate_config *);

enum listupdate_reason {
	LU_KEPT = 0,
	LU_ALLOWLISTED,
	LU_INFRASTRUCTURE,
	LU_PUBLIC_SUFFIX,
	LU_NEVER_BLOCK,
	LU_INVALID,
	LU_REASON_COUNT
};

/* "kept", "allowlisted", "infrastructure", "public suffix",
 * "never-block", "invalid". */
const char *listupdate_reason_name(enum listupdate_reason);

/*
 * The never-block file: one domain per line, '#' comments, each
 * normalised as a list entry is (a public suffix is allowed: the admin
 * may protect a whole suffix).  A bad line fails the load with
 * "path:line: reason"; an address is not quoted back.
 * listupdate_never_match() returns the entry that covers domain (itself
 * or its nearest listed parent), or NULL.
 */
struct listupdate_never;

int	listupdate_never_load(const char *path,
	    struct listupdate_never **out, char *err, size_t errlen);
const char *listupdate_never_match(const struct listupdate_never *,
	    const char *domain);
void	listupdate_never_free(struct listupdate_never *);

/* What a block list's entries are held against; either may be NULL
 * (not checked: no database yet, no never-block file). */
struct listupdate_checks {
	struct listdb			*db;
	const struct listupdate_never	*never;
};

/* Entries, sorted (strcmp) and each once, in one allocation of text. */
struct listupdate_set {
	const char	**v;
	size_t		  n;
	char		 *text;
};

void	listupdate_set_free(struct listupdate_set *);

/* What a list body holds. */
struct listupdate_sift {
	size_t	lines;			/* entry lines: not blank or comment */
	size_t	count[LU_REASON_COUNT];	/* of them, kept and quarantined
					   by reason */
	size_t	quarantined;		/* the sum of the reasons but kept */
	size_t	duplicates;		/* kept lines that repeat an entry */
	struct listupdate_set kept;	/* the new copy's entries */
	char	*quarantine;		/* "ENTRY\tREASON...\n" lines, NUL-
					   ended; "" when none */
	size_t	qlen;
};

/*
 * Sift len bytes of body (which need not be NUL-terminated and may hold
 * NUL bytes: such a line is invalid) as a list of kind and category.
 * checks may be NULL, and is used for block lists (CAT_DISPOSABLE,
 * CAT_RELAY domain lists) only.  Returns 0 with *out filled (free it with
 * listupdate_sift_free), or -1 (out of memory, a database error).
 */
int	listupdate_sift(enum list_kind kind, enum category category,
	    const char *body, size_t len, const struct listupdate_checks *,
	    struct listupdate_sift *out, char *err, size_t errlen);
void	listupdate_sift_free(struct listupdate_sift *);

/* 1 when content_type (may be NULL or "") says HTML or XHTML, or the
 * body's first character after white space and a UTF-8 byte order mark
 * is '<'. */
int	listupdate_is_html(const char *content_type, const char *body,
	    size_t len);

/* 1 when more than LISTUPDATE_MAX_BAD_PERCENT of the entry lines are
 * invalid (with none at all it is listupdate_guard's "empty"). */
int	listupdate_not_a_list(const struct listupdate_sift *);

enum listupdate_guard {
	LU_GUARD_OK = 0,
	LU_GUARD_SHRINK,	/* fewer by more than max_shrink percent */
	LU_GUARD_GROWTH,	/* more by more than max_growth percent */
	LU_GUARD_EMPTY		/* no entries at all */
};

/* The safeguard: entries now against old entries in the last good copy
 * (have_old 0: a first fetch, no growth limit; an old copy of no entries
 * sets none either).  A change of exactly the limit passes.  *percent
 * gets the change in percent, rounded down (0 when there is no old copy
 * or it is empty). */
enum listupdate_guard listupdate_guard(const struct listupdate_config *,
	    int have_old, size_t old, size_t now, unsigned long *percent);

/* How many entries of now are not in old (added), and of old not in now
 * (removed). */
void	listupdate_diff(const struct listupdate_set *old,
	    const struct listupdate_set *now, size_t *added, size_t *removed);

/* The last good copy at path, read as listupdate_sift reads a body (no
 * checks): its entries in *out, *exists 0 (and an empty set) when there
 * is no such file.  Returns 0 or -1 (unreadable: err names path). */
int	listupdate_read_copy(const char *path, enum list_kind kind,
	    enum category category, struct listupdate_set *out, int *exists,
	    char *err, size_t errlen);

/* The text of a new copy: a comment naming source, url and when, then
 * the kept entries one a line.  Returns 0 with *text (malloc'd) and *len,
 * or -1 out of memory. */
int	listupdate_copy_text(const struct listupdate_sift *,
	    const char *source, const char *url, time_t when, char **text,
	    size_t *len);

/*
 * A source's state file.  Values are printable ASCII (0x20-0x7e):
 * listupdate_state_set_validator() keeps a server's ETag or Last-Modified
 * only when it is that and fits, so that it can be sent back in a
 * header.  listupdate_state_read() takes what it understands and ignores
 * the rest (an unreadable or foreign state only costs a full fetch);
 * *exists 0 when there is no file.
 */
struct listupdate_state {
	char	url[1024];
	char	etag[256];
	char	last_modified[128];
	time_t	fetched;		/* the last good fetch; 0 never */
	size_t	entries;		/* in the last good copy */
	char	sha256[65];		/* of the body it was made from */
};

int	listupdate_state_set_validator(char *dst, size_t dstlen,
	    const char *value);
int	listupdate_state_read(const char *path, struct listupdate_state *,
	    int *exists, char *err, size_t errlen);
/* The state file's text into buf; the length it needs (as snprintf). */
size_t	listupdate_state_format(const struct listupdate_state *, char *buf,
	    size_t len);

/* The SHA-256 of data, 64 lower-case hex digits and a NUL. */
void	listupdate_sha256_hex(const void *data, size_t len, char out[65]);

#endif
