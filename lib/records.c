/*
 * records.c - the hashed sender records, their age index and the domain
 * aggregates (see records.h).
 *
 * NAME
 *	records_open, records_close, records_check_access,
 *	records_write_batch, records_sync,
 *	records_purge, records_get, records_forget, records_foreach,
 *	records_foreach_domain, records_count, records_batch_fits,
 *	records_decode_record, records_decode_domain
 *
 * DESCRIPTION
 *	One LMDB environment, MDB_NOSUBDIR (the file, and "path-lock"
 *	beside it), mode 0600, locking on: the daemon's writer thread writes
 *	while disposable-ctl reads, forgets and purges from another process.
 *	MDB_NOTLS, so that a read transaction is not tied to its thread and
 *	a records_foreach callback may call records_get.  After open,
 *	mdb_reader_check clears the reader slots of a process that was
 *	killed; LMDB's robust mutex recovers the writer lock of a writer
 *	killed mid-transaction, and the uncommitted pages are simply not
 *	referenced by any meta page: a kill -9 loses the batch being
 *	written and nothing else.  A writer commits without a disk flush
 *	(MDB_NOSYNC) and flushes with records_sync, which the writer's
 *	flusher thread calls once per interval, beside the commits, and
 *	records_close at the end: a crash of the process loses nothing
 *	committed; a crash of the machine loses what was committed since the
 *	last flush and may, LMDB's documentation warns for MDB_NOSYNC with
 *	MDB_WRITEMAP, leave the file corrupt (the daemon then runs without
 *	it: disposable-milter.c).  records_sync is fdatasync(2) on the file, which touches
 *	nothing of LMDB's but its descriptor, so it may run while another
 *	thread writes a batch.
 *
 * ENCODING
 *	All integers little-endian except the age index key (big-endian, so
 *	that LMDB's byte order is time order).  Times are seconds since the
 *	epoch as u64; a negative time is stored as 0.  Every value starts
 *	with a version byte (1); a value of another version or of the wrong
 *	length is reported as corrupt, never read past its end.
 *
 *	rec  key   u8 key id, 32 bytes hash				(33)
 *	     value u8 version 1, u64 first seen, u64 last seen,
 *		   u32 messages, u32 categories (1 << CAT_*),
 *		   u32 roles (1 << ROLE_*), u8 domain length n,
 *		   n bytes domain (no NUL; n = 0 when unknown)	(30 + n)
 *	age  key   u64 last seen (big-endian), the 33-byte rec key	(41)
 *	     value empty
 *	dom  key   the domain (no NUL, 1 to DOMAIN_MAX bytes)
 *	     value u8 version 1, u8 ncat, u8 nact, u64 first seen,
 *		   u64 last seen, u64 messages, u64 senders,
 *		   ncat u64 per category, nact u64 per action
 *		   (ncat and nact let a later build with more categories
 *		   read an older value: missing counters read as 0)
 *	meta "version" -> u32 1
 *
 *	One event is one sender of one message, with every role it had in
 *	that message (senders_record_events builds them), so a record's
 *	messages grows by one per event.  A domain's messages and
 *	its per-action counters grow only for events flagged
 *	first_of_domain, so a message naming the same domain in several
 *	roles counts once; its per-category counters count every event;
 *	its senders grow when an event creates a record (a sender purged
 *	and seen again counts again: "records created").
 *
 * CORRUPT VALUES
 *	A stored record or aggregate that does not decode (a bad version
 *	byte or length: a damaged file, or a value this code did not write)
 *	is treated by records_write_batch as absent and overwritten with
 *	what the batch knows: a record begins again at the batch's events
 *	(and counts as created in its domain's senders), an aggregate at
 *	the batch's counts.  Overwriting rather than skipping heals the
 *	store (export, recheck and stats read every value and stop at one
 *	that does not decode) and keeps nothing unreadable about a person.
 *	The record's old index entry cannot be found without its last
 *	sighting and stays behind, stale: records_purge removes such an
 *	entry without deleting the record, whose last sighting is not the
 *	entry's.
 *
 * DIAGNOSTICS
 *	Errors name the file and the LMDB reason.  MDB_MAP_FULL while
 *	writing aborts the transaction: records_write_batch returns
 *	RECORDS_EFULL and the store keeps its last committed state.
 *	Corrupt values overwritten are counted, not reported as errors.
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <lmdb.h>

#include "records.h"
#include "util.h"

#define RECORDS_VERSION	1
#define REC_KEY_LEN	(1 + HASH_LEN)
#define AGE_KEY_LEN	(8 + REC_KEY_LEN)
#define REC_FIXED	30
#define REC_MAX		(REC_FIXED + DOMAIN_MAX)
#define DOM_FIXED	35
#define DOM_MAX		(DOM_FIXED + 8 * (CAT_COUNT + ACT_COUNT))
#define MIN_MAPSIZE	((size_t)1 << 20)

struct records {
	MDB_env		*env;
	MDB_dbi		 drec, dage, ddom, dmeta;
	int		 readonly;
	char		 path[512];
};

/* --- encoding ---------------------------------------------------------- */

static uint64_t
time_enc(time_t t)
{
	return t < 0 ? 0 : (uint64_t)t;
}

static time_t
time_dec(uint64_t v)
{
	/* A stored time beyond what time_t holds cannot come from this
	 * code; clamp rather than overflow. */
	if (v > (uint64_t)INT64_MAX)
		v = (uint64_t)INT64_MAX;
	if (sizeof(time_t) < 8 && v > (uint64_t)INT32_MAX)
		v = (uint64_t)INT32_MAX;
	return (time_t)v;
}

static void
rec_key(unsigned char *k, uint8_t key_id, const unsigned char *hash)
{
	k[0] = key_id;
	memcpy(k + 1, hash, HASH_LEN);
}

static void
age_key(unsigned char *k, time_t when, const unsigned char *reckey)
{
	uint64_t v = time_enc(when);

	for (int i = 0; i < 8; i++)
		k[i] = (unsigned char)(v >> (8 * (7 - i)));
	memcpy(k + 8, reckey, REC_KEY_LEN);
}

static size_t
rec_encode(unsigned char *p, const struct record *r)
{
	size_t n = strnlen(r->domain, DOMAIN_MAX);

	p[0] = RECORDS_VERSION;
	put_u64(p + 1, time_enc(r->first_seen));
	put_u64(p + 9, time_enc(r->last_seen));
	put_u32(p + 17, r->messages);
	put_u32(p + 21, r->categories);
	put_u32(p + 25, r->roles);
	p[29] = (unsigned char)n;
	memcpy(p + REC_FIXED, r->domain, n);
	return REC_FIXED + n;
}

/* Decode a rec key and value into r; -1 if either is malformed. */
static int
rec_decode(const MDB_val *k, const MDB_val *v, struct record *r)
{
	const unsigned char *p = v->mv_data;
	size_t n;

	if (k->mv_size != REC_KEY_LEN || v->mv_size < REC_FIXED ||
	    p[0] != RECORDS_VERSION)
		return -1;
	n = p[29];
	if (n > DOMAIN_MAX || v->mv_size != REC_FIXED + n ||
	    memchr(p + REC_FIXED, '\0', n) != NULL)
		return -1;
	memset(r, 0, sizeof(*r));
	r->key_id = ((const unsigned char *)k->mv_data)[0];
	memcpy(r->hash, (const unsigned char *)k->mv_data + 1,
	    HASH_LEN);
	r->first_seen = time_dec(get_u64(p + 1));
	r->last_seen = time_dec(get_u64(p + 9));
	r->messages = get_u32(p + 17);
	r->categories = get_u32(p + 21);
	r->roles = get_u32(p + 25);
	memcpy(r->domain, p + REC_FIXED, n);
	r->domain[n] = '\0';
	return 0;
}

static size_t
dom_encode(unsigned char *p, const struct domain_aggregate *a)
{
	unsigned char *q;

	p[0] = RECORDS_VERSION;
	p[1] = CAT_COUNT;
	p[2] = ACT_COUNT;
	put_u64(p + 3, time_enc(a->first_seen));
	put_u64(p + 11, time_enc(a->last_seen));
	put_u64(p + 19, a->messages);
	put_u64(p + 27, a->senders);
	q = p + DOM_FIXED;
	for (int i = 0; i < CAT_COUNT; i++, q += 8)
		put_u64(q, a->per_category[i]);
	for (int i = 0; i < ACT_COUNT; i++, q += 8)
		put_u64(q, a->per_action[i]);
	return (size_t)(q - p);
}

static int
dom_decode(const MDB_val *k, const MDB_val *v, struct domain_aggregate *a)
{
	const unsigned char *p = v->mv_data, *q;
	size_t ncat, nact;

	if (k->mv_size == 0 || k->mv_size > DOMAIN_MAX ||
	    memchr(k->mv_data, '\0', k->mv_size) != NULL ||
	    v->mv_size < DOM_FIXED || p[0] != RECORDS_VERSION)
		return -1;
	ncat = p[1];
	nact = p[2];
	if (v->mv_size != DOM_FIXED + 8 * (ncat + nact))
		return -1;
	memset(a, 0, sizeof(*a));
	memcpy(a->domain, k->mv_data, k->mv_size);
	a->domain[k->mv_size] = '\0';
	a->first_seen = time_dec(get_u64(p + 3));
	a->last_seen = time_dec(get_u64(p + 11));
	a->messages = get_u64(p + 19);
	a->senders = get_u64(p + 27);
	q = p + DOM_FIXED;
	for (size_t i = 0; i < ncat; i++, q += 8)
		if (i < CAT_COUNT)
			a->per_category[i] = get_u64(q);
	for (size_t i = 0; i < nact; i++, q += 8)
		if (i < ACT_COUNT)
			a->per_action[i] = get_u64(q);
	return 0;
}

int
records_decode_record(const void *key, size_t keylen, const void *val,
    size_t vallen, struct record *r)
{
	MDB_val k = { keylen, (void *)key }, v = { vallen, (void *)val };

	return rec_decode(&k, &v, r);
}

int
records_decode_domain(const void *key, size_t keylen, const void *val,
    size_t vallen, struct domain_aggregate *a)
{
	MDB_val k = { keylen, (void *)key }, v = { vallen, (void *)val };

	return dom_decode(&k, &v, a);
}

/* --- open and close ---------------------------------------------------- */

/* Begin a transaction; when another process grew the map, adopt its size
 * and try once more. */
static int
txn_begin(struct records *rs, unsigned flags, MDB_txn **txn)
{
	int rc;

	rc = mdb_txn_begin(rs->env, NULL, flags, txn);
	if (rc == MDB_MAP_RESIZED) {
		rc = mdb_env_set_mapsize(rs->env, 0);
		if (rc == 0)
			rc = mdb_txn_begin(rs->env, NULL, flags, txn);
	}
	return rc;
}

static int
open_dbis(struct records *rs, char *err, size_t errlen)
{
	static const char	*names[] = { "rec", "age", "dom", "meta" };
	MDB_dbi			*dbis[] = { &rs->drec, &rs->dage, &rs->ddom,
				    &rs->dmeta };
	MDB_txn			*txn;
	MDB_val			 k, v;
	unsigned char		 ver[4];
	int			 rc;

	rc = txn_begin(rs, rs->readonly ? MDB_RDONLY : 0, &txn);
	if (rc != 0) {
		seterr(err, errlen, "%s: %s", rs->path, mdb_strerror(rc));
		return -1;
	}
	for (size_t i = 0; i < 4; i++) {
		rc = mdb_dbi_open(txn, names[i], rs->readonly ? 0 : MDB_CREATE,
		    dbis[i]);
		if (rc == MDB_NOTFOUND) {
			seterr(err, errlen, "%s: not a records store (no "
			    "\"%s\" table)", rs->path, names[i]);
			goto fail;
		}
		if (rc != 0)
			goto lmdb;
	}
	k.mv_data = (void *)"version";
	k.mv_size = 7;
	rc = mdb_get(txn, rs->dmeta, &k, &v);
	if (rc == MDB_NOTFOUND && !rs->readonly) {
		put_u32(ver, RECORDS_VERSION);
		v.mv_data = ver;
		v.mv_size = sizeof(ver);
		rc = mdb_put(txn, rs->dmeta, &k, &v, 0);
		if (rc != 0)
			goto lmdb;
	} else if (rc != 0) {
		goto lmdb;
	} else if (v.mv_size != 4 || get_u32(v.mv_data) != RECORDS_VERSION) {
		seterr(err, errlen, "%s: records store version %u, expected "
		    "%d", rs->path, v.mv_size == 4 ?
		    (unsigned)get_u32(v.mv_data) : 0u, RECORDS_VERSION);
		goto fail;
	}
	/* Committed even when read-only: an aborted transaction closes the
	 * table handles it opened. */
	if ((rc = mdb_txn_commit(txn)) != 0) {
		seterr(err, errlen, "%s: %s", rs->path, mdb_strerror(rc));
		return -1;
	}
	return 0;
lmdb:
	seterr(err, errlen, "%s: %s", rs->path, mdb_strerror(rc));
fail:
	mdb_txn_abort(txn);
	return -1;
}

int
records_open(const char *path, size_t mapsize, int readonly,
    struct records **out, char *err, size_t errlen)
{
	struct records	*rs;
	struct stat	 st;
	unsigned	 flags = MDB_NOSUBDIR | MDB_NOTLS;
	int		 rc, dead;

	*out = NULL;
	if (path == NULL || *path == '\0') {
		seterr(err, errlen, "records: no path");
		return -1;
	}
	if (mapsize < MIN_MAPSIZE) {
		seterr(err, errlen, "%s: map size %zu below the minimum of "
		    "%zu bytes", path, mapsize, MIN_MAPSIZE);
		return -1;
	}
	if (readonly && stat(path, &st) == -1) {
		seterr(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if ((rs = calloc(1, sizeof(*rs))) == NULL) {
		seterr(err, errlen, "%s: out of memory", path);
		return -1;
	}
	rs->readonly = readonly != 0;
	if (strlen(path) >= sizeof(rs->path)) {
		seterr(err, errlen, "records: path too long");
		free(rs);
		return -1;
	}
	strcpy(rs->path, path);
	if ((rc = mdb_env_create(&rs->env)) != 0) {
		seterr(err, errlen, "%s: %s", path, mdb_strerror(rc));
		free(rs);
		return -1;
	}
	if ((rc = mdb_env_set_maxdbs(rs->env, 4)) != 0 ||
	    (rc = mdb_env_set_mapsize(rs->env, mapsize)) != 0)
		goto lmdb;
	/* Writers commit without a disk flush and flush with records_sync
	 * (the writer's flusher: once per interval) and at close: a commit is
	 * in the page cache at once, so a crash of the process loses
	 * nothing committed; a crash of the machine loses what was
	 * committed since the last flush. */
	if (rs->readonly)
		flags |= MDB_RDONLY;
	else
		flags |= MDB_NOSYNC | MDB_WRITEMAP;
	if ((rc = mdb_env_open(rs->env, path, flags, 0600)) != 0)
		goto lmdb;
	/* A reader killed mid-transaction pins old pages until cleared. */
	if ((rc = mdb_reader_check(rs->env, &dead)) != 0 && !rs->readonly)
		goto lmdb;
	if (open_dbis(rs, err, errlen) == -1) {
		mdb_env_close(rs->env);
		free(rs);
		return -1;
	}
	*out = rs;
	return 0;
lmdb:
	seterr(err, errlen, "%s: %s", path, mdb_strerror(rc));
	mdb_env_close(rs->env);
	free(rs);
	return -1;
}

/* The lock file LMDB keeps beside a MDB_NOSUBDIR environment. */
#define LOCK_SUFFIX "-lock"

int
records_check_access(const char *path, char *err, size_t errlen)
{
	char lock[PATH_MAX];
	const char *p[2] = { path, lock };

	if ((size_t)snprintf(lock, sizeof(lock), "%s" LOCK_SUFFIX, path) >=
	    sizeof(lock)) {
		seterr(err, errlen, "records: path too long");
		return -1;
	}
	for (int i = 0; i < 2; i++) {
		if (access(p[i], F_OK) == -1) {
			if (errno == ENOENT) {
				if (util_check_dir_of(p[i], err, errlen) != 0)
					return -1;
				continue;
			}
		} else if (access(p[i], R_OK | W_OK) == 0)
			continue;
		seterr(err, errlen, "%s: %s (as uid %ld)", p[i],
		    strerror(errno), (long)getuid());
		return -1;
	}
	return 0;
}

/*
 * Not mdb_env_sync: it reads the meta pages to size its msync, and the
 * writer thread rewrites them in place (MDB_WRITEMAP) while this runs
 * in the flusher; helgrind sees the race.  fdatasync(2) on the file
 * flushes the same pages, the data and the meta pages alike: the map is
 * MAP_SHARED, Linux marks a page dirty when it is first written through
 * the map (msync(MS_SYNC) is the same fsync of the file's range), and a
 * new file size (LMDB sets it with the map's) is metadata fdatasync
 * writes too.  It touches nothing of LMDB's but the descriptor, fixed
 * at open.
 */
int
records_sync(struct records *rs, char *err, size_t errlen)
{
	mdb_filehandle_t	fd;
	int			rc;

	if (rs->readonly)
		return 0;
	if ((rc = mdb_env_get_fd(rs->env, &fd)) != 0) {
		seterr(err, errlen, "%s: %s", rs->path, mdb_strerror(rc));
		return -1;
	}
	if (fdatasync(fd) == -1) {
		seterr(err, errlen, "%s: %s", rs->path, strerror(errno));
		return -1;
	}
	return 0;
}

void
records_close(struct records *rs)
{
	if (rs == NULL)
		return;
	if (!rs->readonly)
		(void)mdb_env_sync(rs->env, 1);
	mdb_env_close(rs->env);
	free(rs);
}

/* --- writing ----------------------------------------------------------- */

static int
event_valid(const struct record_event *e)
{
	return (unsigned)e->category < CAT_COUNT &&
	    e->roles != 0 && (e->roles >> ROLE_COUNT) == 0 &&
	    (unsigned)e->action < ACT_COUNT &&
	    memchr(e->domain, '\0', sizeof(e->domain)) != NULL;
}

/*
 * A batch is folded in memory before it touches the store: the events of
 * one sender (envelope, From, Reply-To of one message, or several
 * messages) become one read and one write of its record, and the events
 * of one domain one read and one write of its aggregate.  The result is
 * the same as applying the events one by one, in order.
 */
struct fold {
	const struct record_event *ev;
	size_t			   n;
	size_t			  *ix;		/* event order by sender */
	size_t			  *dx;		/* event order by domain */
	unsigned char		  *created;	/* per event: made a record */
};

static const struct record_event *sort_ev;	/* qsort has no argument */

static int
by_sender(const void *x, const void *y)
{
	size_t a = *(const size_t *)x, b = *(const size_t *)y;
	const struct record_event *ea = &sort_ev[a], *eb = &sort_ev[b];
	int c;

	if (ea->key_id != eb->key_id)
		return ea->key_id < eb->key_id ? -1 : 1;
	if ((c = memcmp(ea->hash, eb->hash, HASH_LEN)) != 0)
		return c;
	return a < b ? -1 : a > b;		/* stable: event order */
}

static int
by_domain_ev(const void *x, const void *y)
{
	size_t a = *(const size_t *)x, b = *(const size_t *)y;
	int c = strcmp(sort_ev[a].domain, sort_ev[b].domain);

	return c != 0 ? c : (a < b ? -1 : a > b);
}

/* The events ix[i..j) of one sender, applied to its record; a stored
 * value that does not decode counts in *corrupt and is overwritten. */
static int
apply_sender(struct records *rs, MDB_txn *txn, struct fold *f, size_t i,
    size_t j, size_t *corrupt)
{
	const struct record_event *e0 = &f->ev[f->ix[i]];
	unsigned char		 rk[REC_KEY_LEN], ak[AGE_KEY_LEN];
	unsigned char		 buf[REC_MAX];
	struct record		 r;
	MDB_val			 k, v;
	time_t			 old_last = 0;
	int			 rc, created = 0;

	rec_key(rk, e0->key_id, e0->hash);
	k.mv_data = rk;
	k.mv_size = sizeof(rk);
	rc = mdb_get(txn, rs->drec, &k, &v);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return rc;
	if (rc == 0 && rec_decode(&k, &v, &r) == -1) {
		(*corrupt)++;
		rc = MDB_NOTFOUND;
	}
	if (rc == MDB_NOTFOUND) {
		memset(&r, 0, sizeof(r));
		r.first_seen = r.last_seen = e0->when;
		created = 1;
		f->created[f->ix[i]] = 1;
	} else
		old_last = r.last_seen;
	for (size_t m = i; m < j; m++) {
		const struct record_event *e = &f->ev[f->ix[m]];

		if (e->when < r.first_seen)
			r.first_seen = e->when;
		if (e->when > r.last_seen)
			r.last_seen = e->when;
		if (r.messages < UINT32_MAX)
			r.messages++;
		r.categories |= 1u << e->category;
		r.roles |= e->roles;
		if (e->domain[0] != '\0')
			memcpy(r.domain, e->domain, strlen(e->domain) + 1);
	}
	if (!created && time_enc(old_last) != time_enc(r.last_seen)) {
		age_key(ak, old_last, rk);
		k.mv_data = ak;
		k.mv_size = sizeof(ak);
		rc = mdb_del(txn, rs->dage, &k, NULL);
		if (rc != 0 && rc != MDB_NOTFOUND)
			return rc;
	}
	if (created || time_enc(old_last) != time_enc(r.last_seen)) {
		age_key(ak, r.last_seen, rk);
		k.mv_data = ak;
		k.mv_size = sizeof(ak);
		v.mv_data = NULL;
		v.mv_size = 0;
		if ((rc = mdb_put(txn, rs->dage, &k, &v, 0)) != 0)
			return rc;
	}
	k.mv_data = rk;
	k.mv_size = sizeof(rk);
	v.mv_data = buf;
	v.mv_size = rec_encode(buf, &r);
	return mdb_put(txn, rs->drec, &k, &v, 0);
}

/* The events dx[i..j) of one domain, applied to its aggregate; a
 * stored value that does not decode counts in *corrupt and is
 * overwritten. */
static int
apply_domain(struct records *rs, MDB_txn *txn, struct fold *f, size_t i,
    size_t j, size_t *corrupt)
{
	const struct record_event *e0 = &f->ev[f->dx[i]];
	unsigned char		 buf[DOM_MAX];
	struct domain_aggregate	 a;
	MDB_val			 k, v;
	int			 rc;

	k.mv_data = (void *)e0->domain;
	k.mv_size = strlen(e0->domain);
	rc = mdb_get(txn, rs->ddom, &k, &v);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return rc;
	if (rc == 0 && dom_decode(&k, &v, &a) == -1) {
		(*corrupt)++;
		rc = MDB_NOTFOUND;
	}
	if (rc == MDB_NOTFOUND) {
		memset(&a, 0, sizeof(a));
		a.first_seen = a.last_seen = e0->when;
	}
	for (size_t m = i; m < j; m++) {
		const struct record_event *e = &f->ev[f->dx[m]];

		if (e->when < a.first_seen)
			a.first_seen = e->when;
		if (e->when > a.last_seen)
			a.last_seen = e->when;
		if (e->first_of_domain) {
			a.messages++;
			a.per_action[e->action]++;
		}
		a.senders += f->created[f->dx[m]];
		a.per_category[e->category]++;
	}
	v.mv_data = buf;
	v.mv_size = dom_encode(buf, &a);
	return mdb_put(txn, rs->ddom, &k, &v, 0);
}

static pthread_mutex_t sort_lock = PTHREAD_MUTEX_INITIALIZER;

/* Apply the whole batch inside txn; an LMDB code (0 on success). */
static int
apply_batch(struct records *rs, MDB_txn *txn,
    const struct record_event *ev, size_t n, size_t *corrupt)
{
	struct fold f = { ev, n, NULL, NULL, NULL };
	size_t nd = 0, i, j;
	int rc = 0;

	f.ix = calloc(n, sizeof(*f.ix));
	f.dx = calloc(n, sizeof(*f.dx));
	f.created = calloc(n, 1);
	if (f.ix == NULL || f.dx == NULL || f.created == NULL) {
		rc = ENOMEM;
		goto out;
	}
	for (i = 0; i < n; i++) {
		f.ix[i] = i;
		if (ev[i].domain[0] != '\0')
			f.dx[nd++] = i;
	}
	pthread_mutex_lock(&sort_lock);
	sort_ev = ev;
	qsort(f.ix, n, sizeof(*f.ix), by_sender);
	qsort(f.dx, nd, sizeof(*f.dx), by_domain_ev);
	pthread_mutex_unlock(&sort_lock);
	for (i = 0; i < n && rc == 0; i = j) {
		for (j = i + 1; j < n && ev[f.ix[j]].key_id ==
		    ev[f.ix[i]].key_id && memcmp(ev[f.ix[j]].hash,
		    ev[f.ix[i]].hash, HASH_LEN) == 0; j++)
			;
		rc = apply_sender(rs, txn, &f, i, j, corrupt);
	}
	for (i = 0; i < nd && rc == 0; i = j) {
		for (j = i + 1; j < nd && strcmp(ev[f.dx[j]].domain,
		    ev[f.dx[i]].domain) == 0; j++)
			;
		rc = apply_domain(rs, txn, &f, i, j, corrupt);
	}
out:
	free(f.ix);
	free(f.dx);
	free(f.created);
	return rc;
}

int
records_write_batch(struct records *rs, const struct record_event *ev,
    size_t n, size_t *corrupt, char *err, size_t errlen)
{
	MDB_txn	*txn;
	size_t	 bad = 0;
	int	 rc;

	if (corrupt != NULL)
		*corrupt = 0;

	if (rs->readonly) {
		seterr(err, errlen, "%s: opened read-only", rs->path);
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		if (!event_valid(&ev[i])) {
			seterr(err, errlen, "%s: invalid event", rs->path);
			return -1;
		}
	if (n == 0)
		return 0;
	if ((rc = txn_begin(rs, 0, &txn)) != 0)
		goto fail;
	if ((rc = apply_batch(rs, txn, ev, n, &bad)) != 0) {
		mdb_txn_abort(txn);
		goto fail;
	}
	if ((rc = mdb_txn_commit(txn)) != 0)
		goto fail;
	if (corrupt != NULL)
		*corrupt = bad;
	return 0;
fail:
	if (rc == MDB_MAP_FULL)
		return RECORDS_EFULL;
	seterr(err, errlen, "%s: %s", rs->path, mdb_strerror(rc));
	return -1;
}

int
records_purge(struct records *rs, time_t cutoff, size_t max,
    size_t *purged, char *err, size_t errlen)
{
	MDB_txn		*txn;
	MDB_cursor	*cur;
	MDB_val		 k, v, rk, rv;
	struct record	 r;
	size_t		 done = 0;
	uint64_t	 when, lim = time_enc(cutoff);
	int		 rc;

	*purged = 0;
	if (rs->readonly) {
		seterr(err, errlen, "%s: opened read-only", rs->path);
		return -1;
	}
	if (max == 0 || lim == 0)
		return 0;
	if ((rc = txn_begin(rs, 0, &txn)) != 0)
		goto fail;
	if ((rc = mdb_cursor_open(txn, rs->dage, &cur)) != 0) {
		mdb_txn_abort(txn);
		goto fail;
	}
	rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
	while (rc == 0 && done < max) {
		const unsigned char *p = k.mv_data;

		if (k.mv_size != AGE_KEY_LEN)
			break;	/* not ours: leave it, stop here */
		when = 0;
		for (int i = 0; i < 8; i++)
			when = when << 8 | p[i];
		if (when >= lim)
			break;
		rk.mv_data = (void *)(p + 8);
		rk.mv_size = REC_KEY_LEN;
		rc = mdb_get(txn, rs->drec, &rk, &rv);
		if (rc != 0 && rc != MDB_NOTFOUND)
			break;
		/* A record seen since (its index entry is another one: this
		 * one was left by a corrupt value overwritten) stays. */
		if (rc == 0 && (rec_decode(&rk, &rv, &r) == -1 ||
		    time_enc(r.last_seen) == when) &&
		    (rc = mdb_del(txn, rs->drec, &rk, NULL)) != 0)
			break;
		if ((rc = mdb_cursor_del(cur, 0)) != 0)
			break;
		done++;
		/* What was next is now first: no reliance on where a
		 * deleting cursor is left. */
		rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
	}
	mdb_cursor_close(cur);
	if (rc != 0 && rc != MDB_NOTFOUND) {
		mdb_txn_abort(txn);
		goto fail;
	}
	if ((rc = mdb_txn_commit(txn)) != 0)
		goto fail;
	*purged = done;
	return 0;
fail:
	seterr(err, errlen, "%s: purge: %s", rs->path, mdb_strerror(rc));
	return rc == MDB_MAP_FULL ? RECORDS_EFULL : -1;
}

/*
 * What the next write transaction can take: the map's never used end,
 * and the pages in the free list freed by a transaction before the last
 * committed one (LMDB keeps the last one's for the snapshot before it,
 * which is why a transaction right after one that took everything finds
 * nothing, not even to delete).  The free list is read as mdb_stat -f
 * reads it: table 0, key a transaction id, value a list of page numbers
 * whose first word is their count.  Readers holding an old snapshot keep
 * some of those pages: an estimate, on the high side.
 *
 * A batch of n events touches at most a record, two index entries and
 * an aggregate each, copies of their leaf pages and parents, and splits:
 * 4 pages an event and 64 more is a bound; 64 more are left for the
 * purge and the forget that free space again.
 */
int
records_batch_fits(struct records *rs, size_t n)
{
	MDB_envinfo	 info;
	MDB_stat	 st;
	MDB_txn		*txn;
	MDB_cursor	*cur;
	MDB_val		 k, v;
	size_t		 total, room;
	int		 rc;

	if (rs->readonly || mdb_env_info(rs->env, &info) != 0 ||
	    mdb_env_stat(rs->env, &st) != 0 || st.ms_psize == 0)
		return 0;
	total = info.me_mapsize / st.ms_psize;
	if (info.me_last_pgno + 1 > total)
		return 0;
	room = total - (info.me_last_pgno + 1);
	if (txn_begin(rs, MDB_RDONLY, &txn) != 0)
		return 0;
	if (mdb_cursor_open(txn, 0, &cur) != 0) {
		mdb_txn_abort(txn);
		return 0;
	}
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	    rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		size_t id, count;

		if (k.mv_size != sizeof(id) || v.mv_size < sizeof(count))
			break;
		memcpy(&id, k.mv_data, sizeof(id));
		memcpy(&count, v.mv_data, sizeof(count));
		if (id >= info.me_last_txnid)
			break;		/* in key order: the rest is newer */
		room += count;
	}
	mdb_cursor_close(cur);
	mdb_txn_abort(txn);
	return n <= (SIZE_MAX - 128) / 4 && room >= 4 * n + 128;
}

int
records_forget(struct records *rs, uint8_t key_id,
    const unsigned char hash[HASH_LEN], char *err, size_t errlen)
{
	unsigned char	 rk[REC_KEY_LEN], ak[AGE_KEY_LEN];
	struct record	 r;
	MDB_txn		*txn;
	MDB_val		 k, v;
	int		 rc;

	if (rs->readonly) {
		seterr(err, errlen, "%s: opened read-only", rs->path);
		return -1;
	}
	rec_key(rk, key_id, hash);
	if ((rc = txn_begin(rs, 0, &txn)) != 0)
		goto fail;
	k.mv_data = rk;
	k.mv_size = sizeof(rk);
	rc = mdb_get(txn, rs->drec, &k, &v);
	if (rc == MDB_NOTFOUND) {
		mdb_txn_abort(txn);
		return 1;
	}
	if (rc != 0) {
		mdb_txn_abort(txn);
		goto fail;
	}
	if (rec_decode(&k, &v, &r) == 0) {
		age_key(ak, r.last_seen, rk);
		k.mv_data = ak;
		k.mv_size = sizeof(ak);
		rc = mdb_del(txn, rs->dage, &k, NULL);
		if (rc != 0 && rc != MDB_NOTFOUND) {
			mdb_txn_abort(txn);
			goto fail;
		}
	}
	/* A corrupt value is still deleted: erasure must not depend on
	 * being able to read what is erased. */
	k.mv_data = rk;
	k.mv_size = sizeof(rk);
	if ((rc = mdb_del(txn, rs->drec, &k, NULL)) != 0) {
		mdb_txn_abort(txn);
		goto fail;
	}
	if ((rc = mdb_txn_commit(txn)) != 0)
		goto fail;
	return 0;
fail:
	seterr(err, errlen, "%s: forget: %s", rs->path, mdb_strerror(rc));
	return -1;
}

/* --- reading ----------------------------------------------------------- */

int
records_get(struct records *rs, uint8_t key_id,
    const unsigned char hash[HASH_LEN], struct record *r,
    char *err, size_t errlen)
{
	unsigned char	 rk[REC_KEY_LEN];
	MDB_txn		*txn;
	MDB_val		 k, v;
	int		 rc;

	rec_key(rk, key_id, hash);
	if ((rc = txn_begin(rs, MDB_RDONLY, &txn)) != 0)
		goto fail;
	k.mv_data = rk;
	k.mv_size = sizeof(rk);
	rc = mdb_get(txn, rs->drec, &k, &v);
	if (rc == MDB_NOTFOUND) {
		mdb_txn_abort(txn);
		return 1;
	}
	if (rc != 0) {
		mdb_txn_abort(txn);
		goto fail;
	}
	rc = rec_decode(&k, &v, r);
	mdb_txn_abort(txn);
	if (rc == -1) {
		seterr(err, errlen, "%s: corrupt record", rs->path);
		return -1;
	}
	return 0;
fail:
	seterr(err, errlen, "%s: %s", rs->path, mdb_strerror(rc));
	return -1;
}

/* Walk one table in key order in a read transaction; visit returns -1
 * for a value that does not decode (named by what), 1 to stop, 0 to go
 * on. */
static int
walk(struct records *rs, MDB_dbi dbi, const char *what,
    int (*visit)(void *, const MDB_val *, const MDB_val *), void *arg,
    char *err, size_t errlen)
{
	MDB_txn		*txn;
	MDB_cursor	*cur;
	MDB_val		 k, v;
	int		 rc, r = 0;

	if ((rc = txn_begin(rs, MDB_RDONLY, &txn)) != 0)
		goto fail;
	if ((rc = mdb_cursor_open(txn, dbi, &cur)) != 0) {
		mdb_txn_abort(txn);
		goto fail;
	}
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0 && r == 0;
	    rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
		r = visit(arg, &k, &v);
	mdb_cursor_close(cur);
	mdb_txn_abort(txn);
	if (r < 0) {
		seterr(err, errlen, "%s: corrupt %s", rs->path, what);
		return -1;
	}
	if (r == 0 && rc != MDB_NOTFOUND)
		goto fail;
	return 0;
fail:
	seterr(err, errlen, "%s: %s", rs->path, mdb_strerror(rc));
	return -1;
}

struct visit_rec {
	records_record_fn	*fn;
	void			*arg;
};

static int
visit_record(void *arg, const MDB_val *k, const MDB_val *v)
{
	struct visit_rec *vr = arg;
	struct record r;

	if (rec_decode(k, v, &r) == -1)
		return -1;
	return vr->fn(vr->arg, &r) != 0;
}

int
records_foreach(struct records *rs, records_record_fn *fn, void *arg,
    char *err, size_t errlen)
{
	struct visit_rec vr = { fn, arg };

	return walk(rs, rs->drec, "record", visit_record, &vr, err, errlen);
}

struct visit_dom {
	records_domain_fn	*fn;
	void			*arg;
};

static int
visit_domain(void *arg, const MDB_val *k, const MDB_val *v)
{
	struct visit_dom *vd = arg;
	struct domain_aggregate a;

	if (dom_decode(k, v, &a) == -1)
		return -1;
	return vd->fn(vd->arg, &a) != 0;
}

int
records_foreach_domain(struct records *rs, records_domain_fn *fn,
    void *arg, char *err, size_t errlen)
{
	struct visit_dom vd = { fn, arg };

	return walk(rs, rs->ddom, "aggregate", visit_domain, &vd, err,
	    errlen);
}

int
records_count(struct records *rs, size_t *records, size_t *domains)
{
	MDB_txn	*txn;
	MDB_stat st;

	if (txn_begin(rs, MDB_RDONLY, &txn) != 0)
		return -1;
	if (mdb_stat(txn, rs->drec, &st) != 0) {
		mdb_txn_abort(txn);
		return -1;
	}
	if (records != NULL)
		*records = st.ms_entries;
	if (mdb_stat(txn, rs->ddom, &st) != 0) {
		mdb_txn_abort(txn);
		return -1;
	}
	if (domains != NULL)
		*domains = st.ms_entries;
	mdb_txn_abort(txn);
	return 0;
}
