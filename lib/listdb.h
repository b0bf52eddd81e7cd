/*
 * listdb.h - the immutable list database: lookup and build.
 *
 * One LMDB file (MDB_NOSUBDIR) compiled by listdb_build() from text lists
 * and opened read-only by the daemon and the tools.  It is never written in
 * place: a build writes "PATH.tmp.PID", syncs it and renames it over PATH,
 * so a reader sees the old file or the new one, never half of either.
 *
 * Layout (named databases; keys are bytes, integers little-endian):
 *   "domain"  key: normalised domain        value: struct listdb_entry
 *             packed as u8 version(1), u8 category mask (1 << CAT_*),
 *             u16 n, then n u16 source ids
 *   "source"  key: u16 source id            value: u8 category, then the
 *             source name, NUL, the file path, NUL, u32 entry count
 *   "meta"    key: "version" "built" "entries"  value: text
 *
 * Lookup walks from the domain up through its parents and stops at the
 * registrable domain: "x.y.mailinator.com" is looked up as itself, then
 * "y.mailinator.com", then "mailinator.com", never "com".  An allow entry
 * anywhere on that walk wins over every block entry (an allow entry at a
 * level is an exception for that level and everything below it; a block
 * entry below an allowed parent is overruled too).  Among block entries the
 * most specific one wins; an entry carrying both relay and disposable is a
 * relay (a known alias service that aggregate lists also mark disposable).
 *
 * Reader thread-safety: a struct listdb may be shared by all threads; each
 * lookup runs in its own read transaction (MDB_RDONLY|MDB_NOLOCK, no TLS).
 */
#ifndef DM_LISTDB_H
#define DM_LISTDB_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "category.h"
#include "domain.h"

#define LISTDB_MAX_SOURCES 64	/* sources reported per entry */
#define LISTDB_SOURCE_NAME 64	/* bytes of a source name, NUL included */

struct listdb;

struct listdb_match {
	enum category	category;	/* CAT_CLEAN when nothing matched */
	char		entry[DOMAIN_MAX + 1];	/* the entry that decided */
	int		level;		/* labels stripped: 0 = exact */
	int		overridden;	/* an allow entry overruled a block
					   entry; block_entry names it */
	char		block_entry[DOMAIN_MAX + 1];
	size_t		nsources;
	char		sources[LISTDB_MAX_SOURCES][LISTDB_SOURCE_NAME];
};

struct listdb_source_info {
	char		name[LISTDB_SOURCE_NAME];
	enum category	category;
	char		path[512];
	uint32_t	entries;
};

/* Open a database read-only.  Returns 0, or -1 with the reason (naming
 * path) in err. */
int	listdb_open(const char *path, struct listdb **out, char *err,
	    size_t errlen);
void	listdb_close(struct listdb *);

/* Look up a normalised domain.  Returns 0 with *m filled (category
 * CAT_CLEAN when no entry matched), or -1 on a database error (reason in
 * err). */
int	listdb_lookup(struct listdb *, const char *ascii,
	    struct listdb_match *m, char *err, size_t errlen);

/* Call fn for every domain entry, in key order, with the category a
 * lookup of that very name gives; fn returns non-zero to stop.  Returns 0,
 * or -1 on a database error (err). */
typedef int listdb_foreach_fn(void *arg, const char *domain, enum category);
int	listdb_foreach(struct listdb *, listdb_foreach_fn *fn, void *arg,
	    char *err, size_t errlen);

/* Statistics: the number of sources, then each by index; and when the
 * file was built.  Return 0 or -1.  The source table belongs to the
 * struct listdb and lives until listdb_close(). */
int	listdb_sources(struct listdb *, struct listdb_source_info **out,
	    size_t *n);
time_t	listdb_built(struct listdb *);
size_t	listdb_entries(struct listdb *);

/*
 * Building.  A list file is one domain per line; "#" starts a comment;
 * blank lines are ignored; surrounding whitespace is trimmed.  Each file
 * has a category (CAT_DISPOSABLE, CAT_RELAY or CAT_ALLOWED) and a source
 * name.  Entries are normalised with domain_normalise().
 *
 * Refused, as "file:line: reason" diagnostics: public suffixes, IP
 * addresses and literals, invalid or non-normalisable names, names with a
 * wildcard.  Reported as warnings: duplicates within a source, and domains
 * that are both allowed and blocked.  Any refused entry fails the build
 * (no file written) unless the caller passes LISTDB_BUILD_SKIP_BAD.
 */
struct listdb_input {
	const char	*path;
	enum category	 category;
	const char	*source;
	int		 fingerprints;	/* 1: a fingerprint list (below) */
};

struct listdb_build_report {
	size_t	per_category[CAT_COUNT];	/* distinct domain entries */
	size_t	fingerprints;			/* fingerprint entries */
	size_t	errors, warnings;
	size_t	nsources;
	struct {
		char	name[LISTDB_SOURCE_NAME];
		enum category category;
		size_t	entries;
	} source[256];
};

#define LISTDB_BUILD_SKIP_BAD 0x01

/* Diagnostics are passed to diag (one line each, "file:line: ..." with
 * is_error 1 for refusals, 0 for warnings); diag may be NULL.  Returns 0
 * when the database was written, -1 otherwise (reason through diag). */
int	listdb_build(const char *dbpath, const struct listdb_input *in,
	    size_t nin, int flags,
	    void (*diag)(void *arg, int is_error, const char *line), void *arg,
	    struct listdb_build_report *report);

/*
 * Infrastructure fingerprints.  A fingerprint list file (category
 * disposable or relay, like a domain list) has one entry per line:
 *
 *	KIND VALUE STRENGTH
 *
 *   mx  in.example-temp.test   strong   an MX host name, exact
 *   mx  *.mail-data.net        strong   any MX host below mail-data.net
 *   ns  ns1.tempdns.test       weak     a name server, exact or "*." suffix
 *   spf _spf.example-temp.test strong   a domain an SPF record includes or
 *                                       redirects to, exact or "*." suffix
 *   ip  192.0.2.0/24           strong   an address range (a bare address is
 *   ip  2001:db8:5::/48        weak     /32 or /128): matched against MX
 *                                       addresses, a domain's own A/AAAA
 *                                       when it has no MX, and SPF ip4/ip6
 *
 * STRENGTH is "strong" (decides a verdict on its own) or "weak" (only adds
 * to a score: shared infrastructure).  Refused with file:line: unknown
 * kinds or strengths, host names that do not normalise, a "*." suffix
 * that is a public suffix, ranges with host bits set, IPv4 ranges wider
 * than /8 and IPv6 ranges wider than /16.  Duplicates are warnings.
 *
 * Stored in the named database "fp": key kind letter ('m', 'n', 's') +
 * '=' or '*' + host for names, 'i' + family ('4' or '6') + prefix length
 * (one byte) + the 4 or 16 network bytes for ranges; value u8 version,
 * u8 category, u8 strong, u16 n, n u16 source ids.  "meta" records the
 * prefix lengths in use, so an address lookup tries only those
 * ("fp_prefix4", "fp_prefix6": "32,24,20", longest first), and the
 * number of entries ("fp_entries").  A database built without
 * fingerprints has no "fp" table; it opens and never matches one.
 * Host names may hold '_' (SPF includes such as "_spf.example.test").
 */
enum fp_kind { FP_MX = 0, FP_NS, FP_SPF, FP_IP, FP_KIND_COUNT };

const char	*fp_kind_name(enum fp_kind);	/* "mx", "ns", "spf", "ip" */

struct fp_match {
	int		found;
	enum fp_kind	kind;
	enum category	category;	/* CAT_DISPOSABLE or CAT_RELAY */
	int		strong;
	char		entry[DOMAIN_MAX + 3];	/* as listed: "*.mail-data.net",
						   "192.0.2.0/24" */
	size_t		nsources;
	char		sources[LISTDB_MAX_SOURCES][LISTDB_SOURCE_NAME];
};

struct dns_addr;

/* Look up a host name (normalised) among the fingerprints of kind FP_MX,
 * FP_NS or FP_SPF: the exact entry, else the "*." entry of the nearest
 * parent.  Returns 0 with m->found set or not, -1 on a database error. */
int	listdb_fp_host(struct listdb *, enum fp_kind, const char *host,
	    struct fp_match *m, char *err, size_t errlen);

/* Look up an address range (prefix = 32 or 128 for one address) among the
 * ip fingerprints: the most specific entry that contains the whole range.
 * Returns 0 with m->found set or not, -1 on a database error. */
int	listdb_fp_addr(struct listdb *, const struct dns_addr *, int prefix,
	    struct fp_match *m, char *err, size_t errlen);

/* Fingerprint entries in the database (for stats). */
size_t	listdb_fp_entries(struct listdb *);

#endif
