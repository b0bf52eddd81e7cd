/*
 * records.h - what the milter learns, kept without identifying anyone
 * longer than needed.
 *
 * A writable LMDB environment of its own (one file, MDB_NOSUBDIR, with its
 * lock file beside it), separate from the immutable list database.
 *
 *   "rec"  one record per hashed sender: key = key id (u8) + the 32-byte
 *          keyed hash of the canonical address; value = first seen, last
 *          seen (u64 seconds), messages (u32), the categories and roles
 *          it was seen with (bit masks 1 << CAT_*, 1 << ROLE_*), and its
 *          domain.  Never the address or its local part.  The domain is
 *          kept because the aggregates and recheck need it: a domain names
 *          a provider, not a person (documented in PRIVACY.md).
 *   "age"  index: last seen (u64 big-endian) + rec key -> empty, so that
 *          retention purges the oldest first without a scan.
 *   "dom"  per-domain aggregates, kept without expiry: messages, distinct
 *          hashed senders (records created), counts per category and per
 *          action, first and last seen.  No individual data.
 *   "meta" "version".
 *
 * Writes happen only through records_write_batch (one transaction per
 * batch, folded in memory first: one update per sender and per domain;
 * commits are not flushed to disk one by one, records_sync does that:
 * a crash of the process loses nothing committed; a crash of the machine
 * loses what was committed since the last flush and, with MDB_NOSYNC and
 * MDB_WRITEMAP, may leave the file corrupt: the daemon then runs without
 * the store, warns and retries until the admin removes it (statistics
 * only); LMDB itself survives kill -9);
 * the daemon feeds it from a single writer thread (recwriter.h).  A
 * stored value that does not decode is overwritten by the next batch
 * that touches it, and counted, never the cause of a lost batch.
 * Readers (disposable-ctl) may run while the daemon writes.  Time is
 * passed in, never read here: tests inject it.
 */
#ifndef DM_RECORDS_H
#define DM_RECORDS_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "category.h"
#include "domain.h"
#include "hash.h"

#define RECORDS_MAPSIZE_MB 256	/* the map's default size (RecordsMapSize) */

struct records;

/* One sender of one message (senders_record_events builds them from
 * the message's senders). */
struct record_event {
	time_t		when;
	uint8_t		key_id;		/* the key the hash was made with */
	unsigned char	hash[HASH_LEN];
	char		domain[DOMAIN_MAX + 1];	/* "" for invalid domains */
	enum category	category;
	unsigned	roles;		/* 1 << ROLE_*: every role the sender
					   had in the message (not 0) */
	enum action	action;		/* the message's action */
	int		first_of_domain; /* the message's first sender of this
					    domain: the domain counts the
					    message once */
};

struct record {
	uint8_t		key_id;
	unsigned char	hash[HASH_LEN];
	time_t		first_seen, last_seen;
	uint32_t	messages;
	unsigned	categories;	/* 1 << CAT_* */
	unsigned	roles;		/* 1 << ROLE_* */
	char		domain[DOMAIN_MAX + 1];
};

struct domain_aggregate {
	char		domain[DOMAIN_MAX + 1];
	time_t		first_seen, last_seen;
	uint64_t	messages;
	uint64_t	senders;		/* records created */
	uint64_t	per_category[CAT_COUNT];
	uint64_t	per_action[ACT_COUNT];
};

/* Open (creating if needed) the store at path with a map of mapsize
 * bytes; a stale reader left by a killed process is cleared.  Returns 0,
 * or -1 with err. */
int	records_open(const char *path, size_t mapsize, int readonly,
	    struct records **out, char *err, size_t errlen);
void	records_close(struct records *);

/* Whether records_open(path, ..., 0, ...) may open the store for
 * writing, as far as permissions tell: the file and its lock file, where
 * they exist, readable and writable, else their directory writable (by
 * the real user: call it after the privilege drop).  Nothing is created.
 * A damaged file passes: only opening it tells.  Returns 0, or -1 with
 * the reason (naming the path) in err. */
int	records_check_access(const char *path, char *err, size_t errlen);

/* Apply n events in one transaction.  A stored record or aggregate that
 * does not decode is treated as absent and overwritten (a record begins
 * again with these events, an aggregate with their counts) rather than
 * failing the batch: *corrupt (unless NULL) receives how many were,
 * when the batch is committed; 0 otherwise.  Returns 0, RECORDS_EFULL
 * when the map is full (nothing written), or -1 (err). */
#define RECORDS_EFULL 1
int	records_write_batch(struct records *, const struct record_event *,
	    size_t n, size_t *corrupt, char *err, size_t errlen);

/* Flush committed batches to disk (commits themselves do not: see
 * records_open).  May be called from another thread while a batch is
 * being written: it flushes at least what was committed before the call.
 * Returns 0, or -1 with err. */
int	records_sync(struct records *, char *err, size_t errlen);

/* Delete records whose last sighting is before cutoff, at most max in
 * one transaction.  *purged receives the count (of index entries: one
 * left stale by an overwritten corrupt record is removed without its
 * record, which was seen since, and counts too).  Returns 0,
 * RECORDS_EFULL (with err) when the map is too full even to delete:
 * nothing deleted, a smaller max may fit; or -1 (err).  Call again
 * while *purged == max. */
int	records_purge(struct records *, time_t cutoff, size_t max,
	    size_t *purged, char *err, size_t errlen);

/* The record of one (key id, hash); 0 found, 1 not found, -1 error. */
int	records_get(struct records *, uint8_t key_id,
	    const unsigned char hash[HASH_LEN], struct record *,
	    char *err, size_t errlen);

/* Delete the record of one (key id, hash) and its index entry; 0
 * deleted, 1 not found, -1 error.  Aggregates are not changed (they hold
 * no individual data). */
int	records_forget(struct records *, uint8_t key_id,
	    const unsigned char hash[HASH_LEN], char *err,
	    size_t errlen);

/* Visit every record (fn returns non-zero to stop); every aggregate. */
typedef int records_record_fn(void *arg, const struct record *);
typedef int records_domain_fn(void *arg, const struct domain_aggregate *);
int	records_foreach(struct records *, records_record_fn *, void *arg,
	    char *err, size_t errlen);
int	records_foreach_domain(struct records *, records_domain_fn *,
	    void *arg, char *err, size_t errlen);

/* Whether a batch of n events surely fits in the map and leaves room to
 * purge after it.  A full map can refuse even a deletion: a transaction
 * cannot reuse the pages the one before it freed, so one that takes the
 * last free page leaves the next with none.  The daemon writes a large
 * backlog in one transaction only when this says so.  1 or 0 (0 too
 * when it cannot tell). */
int	records_batch_fits(struct records *, size_t n);

/* Counts for stats and metrics. */
int	records_count(struct records *, size_t *records, size_t *domains);

/* The decoders of stored values, for tests and fuzzing (the store itself
 * calls the same code): a rec key and value, a dom key and value, as
 * records.c documents them.  Read nothing outside the given bytes.
 * Return 0 with the result filled in (a NUL-terminated domain of at most
 * DOMAIN_MAX bytes), or -1 for a malformed key or value. */
int	records_decode_record(const void *key, size_t keylen,
	    const void *val, size_t vallen, struct record *);
int	records_decode_domain(const void *key, size_t keylen,
	    const void *val, size_t vallen, struct domain_aggregate *);

#endif
