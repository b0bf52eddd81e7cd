/*
 * listdb.h - the immutable list database: lookup (the builder is
 * listbuild.h; the on-disk format, private to both, listdb_format.h).
 *
 * One LMDB file (MDB_NOSUBDIR) compiled by listdb_build() from text lists
 * and opened read-only by the daemon and the tools.  A build writes
 * "PATH.tmp.PID", syncs it and renames it over PATH, so a reader sees the
 * old file or the new one, never half of either.
 *
 * Admins do not all publish that way: cp over the file, install, rsync
 * --inplace, truncate and configuration-management tools write it in
 * place, and a mapped file that shrinks or changes under its reader kills
 * the reader (SIGBUS) or feeds it pages of two versions.  So listdb_open()
 * never maps the admin's file: it copies it into a private memory file
 * (memfd, sealed against every change) and maps that snapshot.  A struct
 * listdb answers from the file as it was at open, whatever happens to the
 * file afterwards.  The cost is one copy of the file in memory per open
 * database (shared memory, counted in the process's RSS: 6.3 MiB for the
 * 209k domains of the largest public list) and the time to copy it.
 *
 * What listdb_open() refuses rather than let a lookup find out later:
 * a file that changed while it was copied (its identity, below, differs
 * before and after, or fewer bytes came than it had: "changed while being
 * read"); a file that is not a complete database (empty, truncated, not
 * an LMDB file, of another version, or pages that are not those the
 * build wrote: garbage, or two versions mixed; the checksum a build
 * appends, listdb_format.h, tells).  The caller keeps whatever it had.
 * The snapshot is mapped through /proc/self/fd, so /proc must be mounted.
 *
 * Lookup walks from the domain up through its parents and stops at the
 * registrable domain: "x.y.mailinator.com" is looked up as itself, then
 * "y.mailinator.com", then "mailinator.com", never "com".  The most
 * specific allow entry and the most specific block (disposable or relay)
 * entry on that walk are kept.
 *
 * Trust.  Every source has a tier (category.h: curated, community, weak)
 * and every entry keeps the sources that listed it, so what an entry
 * means follows from who says so, by these rules (one place: listdb.c,
 * asked by the builder for its warnings and by every lookup):
 *
 *   allow against block   the allow entry wins unless the block entry has
 *                         a source of a higher tier than any of the allow
 *                         entry's (an admin's curated block list overrules
 *                         a community allowlist; a curated allowlist
 *                         overrules everything).
 *   disposable or relay   when the sources of one entry disagree, the side
 *                         with more curated sources wins, then more
 *                         community, then more weak; a tie is relay (the
 *                         milder, and alias services are what aggregate
 *                         lists tend to mark disposable).  The build warns,
 *                         naming the sources.
 *   decided or not        a block entry decides (its category's action)
 *                         when its sources meet the quorum of struct
 *                         listdb_trust: by default one curated source, or
 *                         two of community or better; weak sources never
 *                         decide alone.  Otherwise the entry only makes the
 *                         address suspicious (m->decided 0).  Both block
 *                         categories count: two lists that agree a domain
 *                         is no ordinary mailbox are two voices.
 *   shared infrastructure a block entry on the domain of a shared
 *                         infrastructure host (listdb_infra_domain:
 *                         improvmx.com, yandex.net) decides only when a
 *                         curated source lists it: public lists carry
 *                         such domains by mistake.
 *
 * Reader thread-safety: a struct listdb may be shared by all threads; each
 * lookup runs in its own read transaction (MDB_RDONLY|MDB_NOLOCK, no TLS).
 */
#ifndef DM_LISTDB_H
#define DM_LISTDB_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "category.h"
#include "domain.h"

#define LISTDB_MAX_SOURCES 64	/* sources reported per entry */
#define LISTDB_SOURCE_NAME 64	/* bytes of a source name, NUL included */

struct listdb;

/* The quorum: a block entry decides when, for some tier t with
 * quorum[t] > 0, at least quorum[t] of its sources are of tier t or
 * better.  0 for a tier: its sources are counted by the tiers below only
 * (weak 0: weak sources never decide on their own). */
struct listdb_trust {
	int		quorum[TIER_COUNT];
};

/* curated 1, community 2, weak 0. */
void	listdb_trust_default(struct listdb_trust *);
/* 1 when sources of these tiers (count per tier) meet the quorum. */
int	listdb_trust_decides(const struct listdb_trust *,
	    const unsigned support[TIER_COUNT]);
/* Which block category wins between the supports of disposable and
 * relay sources (CAT_CLEAN when neither has any). */
enum category listdb_trust_block(const unsigned disp[TIER_COUNT],
	    const unsigned relay[TIER_COUNT]);
/* 1 when an allow entry with these sources wins over a block entry with
 * those (see above). */
int	listdb_trust_allow_wins(const unsigned allow[TIER_COUNT],
	    const unsigned block[TIER_COUNT]);
/* "1 curated, 2 community": the counts that are not 0 ("none" if all
 * are).  Returns buf. */
const char *listdb_support_text(const unsigned support[TIER_COUNT],
	    char *buf, size_t len);

/* The counts and flags come first: listdb_match_clear() zeroes them and
 * empties the names, and what lies beyond a count is not read. */
struct listdb_match {
	enum category	category;	/* CAT_CLEAN when nothing matched */
	int		level;		/* labels stripped: 0 = exact */
	int		decided;	/* a block entry meets the quorum */
	unsigned	support[TIER_COUNT];	/* the deciding entry's sources
					   per tier (block: both categories) */
	int		conflict;	/* its sources disagree on disposable
					   and relay */
	int		infra;		/* the block entry is the domain of
					   shared infrastructure */
	int		overridden;	/* an allow entry overruled a block
					   entry; block_entry names it */
	int		allow_lost;	/* a block entry of a higher tier
					   overruled an allow entry */
	size_t		nsources;	/* of the deciding entry */
	char		entry[DOMAIN_MAX + 1];	/* the entry that decided */
	char		block_entry[DOMAIN_MAX + 1];
	char		allow_entry[DOMAIN_MAX + 1];
	char		sources[LISTDB_MAX_SOURCES][LISTDB_SOURCE_NAME];
	unsigned char	source_tier[LISTDB_MAX_SOURCES];
	unsigned char	source_category[LISTDB_MAX_SOURCES];
};

/* A match of nothing (CAT_CLEAN), without writing all of its 5 KB. */
void	listdb_match_clear(struct listdb_match *);

struct listdb_source_info {
	char		name[LISTDB_SOURCE_NAME];
	enum category	category;
	enum tier	tier;
	enum list_kind	kind;
	char		path[512];
	uint32_t	entries;
};

/* Open a database: a private snapshot of the file at path (see above).
 * Returns 0, or -1 with the reason (naming path) in err: the file cannot
 * be read, is not a regular file, changed while being read, is not a
 * complete list database, is of another version; out of memory; no
 * /proc. */
int	listdb_open(const char *path, struct listdb **out, char *err,
	    size_t errlen);
void	listdb_close(struct listdb *);

/* The quorum lookups apply (listdb_trust_default() at open).  Set it
 * before the struct is shared between threads. */
void	listdb_set_trust(struct listdb *, const struct listdb_trust *);

/*
 * Which file, and which version of it.  A file written in place keeps its
 * device and inode, so its size and modification time (to the nanosecond)
 * count too.  Timestamps are as fine as the file system keeps them (on
 * Linux, a clock tick of a few milliseconds): a writer that keeps the size
 * and writes twice within one tick is not told apart, which is why the
 * daemon also waits for a change to hold still before it reloads.
 */
struct listdb_fileid {
	dev_t		dev;
	ino_t		ino;
	off_t		size;
	struct timespec	mtime;
};

/* The identity of the file at path now.  Returns 0, or -1 with the reason
 * (naming path) in err. */
int	listdb_fileid_get(const char *path, struct listdb_fileid *id,
	    char *err, size_t errlen);
/* 1 when a and b are the same version of the same file, else 0. */
int	listdb_fileid_same(const struct listdb_fileid *a,
	    const struct listdb_fileid *b);
/* The identity of the file db's snapshot was copied from, as it was then. */
const struct listdb_fileid *listdb_fileid(const struct listdb *db);

/* Look up a normalised domain.  Returns 0 with *m filled (category
 * CAT_CLEAN when no entry matched), or -1 on a database error (reason in
 * err). */
int	listdb_lookup(struct listdb *, const char *ascii,
	    struct listdb_match *m, char *err, size_t errlen);

/* Call fn for every domain entry, in key order, with the category a
 * lookup of that very name gives (CAT_SUSPICIOUS for a block entry whose
 * sources do not meet the quorum); fn returns non-zero to stop.  Returns 0,
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

/* Whether a list of category c and kind k may be compiled: disposable,
 * relay or allowed for a domain list, disposable or relay for a
 * fingerprint list, allowed (the only category it has) for shared
 * infrastructure.  The one rule the config parser, the tool and the
 * builder all ask. */
int	listdb_category_listable(enum category c, enum list_kind k);

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
 * to a score: shared infrastructure).  A strong entry decides only when
 * its sources meet the quorum (struct listdb_trust): one curated source
 * by default; from community or weak sources alone it is weak.  Refused with file:line: unknown
 * kinds or strengths, host names that do not normalise, a "*." suffix
 * that is a public suffix, ranges with host bits set, IPv4 ranges wider
 * than /8 and IPv6 ranges wider than /16.  Duplicates are warnings.
 * An IPv4-mapped IPv6 range ("::ffff:192.0.2.0/120") is its IPv4 range,
 * as an IPv4-mapped address looked up is its IPv4 address.
 *
 * The database records the prefix lengths in use, so an address lookup
 * tries only those.  A database built without fingerprints opens and
 * never matches one.  Host names may hold '_' (SPF includes such as
 * "_spf.example.test").
 */
enum fp_kind { FP_MX = 0, FP_NS, FP_SPF, FP_IP, FP_KIND_COUNT };

const char	*fp_kind_name(enum fp_kind);	/* "mx", "ns", "spf", "ip" */
int		 fp_kind_byname(const char *);	/* any case; -1 if unknown */

struct fp_match {
	int		found;
	enum fp_kind	kind;
	enum category	category;	/* CAT_DISPOSABLE or CAT_RELAY */
	int		strong;
	size_t		nsources;	/* of sources[] */
	/* The text, last: a lookup clears what comes before it, not 4 KiB
	 * for each of the dozens of lookups a message's infrastructure
	 * takes; sources[] beyond nsources is never read. */
	char		entry[DOMAIN_MAX + 3];	/* as listed: "*.mail-data.net",
						   "192.0.2.0/24"; "" if none */
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

/*
 * Shared mail infrastructure (LIST_INFRA lists): the MX and name servers,
 * SPF includes and address ranges of providers that serve legitimate and
 * disposable domains alike (Google Workspace, Microsoft 365, Yandex 360,
 * ImprovMX, Cloudflare Email Routing, parking services ...).  "KIND VALUE"
 * per line, the kinds and values of fingerprint lines, no strength.  Kept
 * in a table of its own and matched as fingerprints are: m->category is
 * CAT_ALLOWED, m->strong 0.  A domain whose infrastructure is on it is
 * never condemned by its infrastructure (infra.h).
 */
int	listdb_infra_host(struct listdb *, enum fp_kind, const char *host,
	    struct fp_match *m, char *err, size_t errlen);
int	listdb_infra_addr(struct listdb *, const struct dns_addr *, int prefix,
	    struct fp_match *m, char *err, size_t errlen);
size_t	listdb_infra_entries(struct listdb *);

/* 1 when domain (normalised) is, or is below, the registrable domain of a
 * shared-infrastructure host ("improvmx.com" for "mx *.improvmx.com" or
 * "mx mx1.improvmx.com"), with that entry ("mx *.improvmx.com") in entry;
 * else 0.  Blocking such a domain says nothing of the domains its hosts
 * serve, and is most often a list's mistake. */
int	listdb_infra_domain(const struct listdb *, const char *domain,
	    char *entry, size_t len);

#endif
