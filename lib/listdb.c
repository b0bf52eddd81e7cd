/*
 * listdb.c - read the list database (see listdb.h; listbuild.c writes it).
 *
 * NAME
 *	listdb_open, listdb_close, listdb_lookup, listdb_sources,
 *	listdb_built, listdb_entries, fp_kind_name, listdb_fp_host,
 *	listdb_fp_addr, listdb_fp_entries, listdb_fileid_get,
 *	listdb_fileid_same, listdb_fileid, listdb_infra_host,
 *	listdb_infra_addr, listdb_infra_entries, listdb_set_trust and the
 *	trust rules (listdb_trust_*)
 *
 * DESCRIPTION
 *	listdb_open() copies the file into a memfd (MFD_CLOEXEC, sealed
 *	against shrinking, growing and writing once full), then has LMDB
 *	open "/proc/self/fd/N": LMDB takes a path, not a descriptor, and
 *	opens and maps the memfd through it; our descriptor is closed
 *	after, the memory lives as long as LMDB's.  The source's identity
 *	is taken with fstat before and after the copy, on the descriptor
 *	read, so a rename in between cannot mix two files.  The copy uses
 *	read(2) into a buffer rather than sendfile or copy_file_range: the
 *	bytes pass through anyway, and a test can wrap read.
 *
 *	LMDB trusts its file: a truncated copy whose meta pages survived
 *	opens, and the first lookup of a page past the end dies of SIGBUS
 *	(the map is as large as the meta page says, not as the file); a
 *	garbage page fails a lookup or trips an assertion (abort).  So an
 *	empty file is refused before LMDB sees it (LMDB would take it for a
 *	new database to create); the checksum trailer (listdb_format.h) is
 *	summed on the way into the copy and checked; and after LMDB's open
 *	the pages its meta page claims (last page number + 1, times the
 *	page size) must fit in the copy.
 *
 *	The snapshot is opened MDB_RDONLY|MDB_NOLOCK|MDB_NOSUBDIR|MDB_NOTLS:
 *	sealed, it cannot change, so readers need no lock table, and
 *	without TLS a read transaction may be begun in any thread.  The
 *	table handles, the meta values and the small source table are read
 *	once at open; after that the struct is only read, so any number of
 *	threads may share it.  Each lookup is one read transaction, and what
 *	it reports is copied out before the transaction ends; transactions
 *	are kept reset and renewed (txn_get), each held by one thread at a
 *	time.
 *
 *	At open every key of "domain" goes into a Bloom filter (namefilter.h)
 *	in memory, and a lookup first hashes every suffix of the name in one
 *	pass from its right end: the suffixes the filter rules out are never
 *	searched for, and a name none of whose suffixes may be a key (most
 *	mail) costs no transaction and no public-suffix work at all.  The
 *	public-suffix boundary is then asked about only for the suffixes
 *	found (domain_within_registrable).
 *
 *	The sources listed for a match are those of the deciding side: the
 *	allow lists for an allowed entry, the block lists (disposable and
 *	relay) for a blocked one.
 *
 *	listdb_sources() hands out the table owned by the struct listdb; it
 *	lives until listdb_close().
 *
 *	An address lookup does not scan: the prefix lengths in use per
 *	family are read from "meta" at open, and a query masks its address
 *	to each of them (longest first, none longer than the query's own
 *	prefix) and looks that key up, so a lookup costs at most one get per
 *	length in use, a handful in practice.  A database without an "fp"
 *	table (built without fingerprints, or before they existed) opens
 *	and never matches one.
 *
 * DIAGNOSTICS
 *	listdb_open() and listdb_lookup() put the reason, naming the file,
 *	in err.  A value that does not parse is reported as corrupt rather
 *	than read past its end.
 */
#include "config.h"

#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <lmdb.h>
#include <openssl/evp.h>

#include "category.h"
#include "dns.h"
#include "domain.h"
#include "listdb.h"
#include "listdb_format.h"
#include "namefilter.h"
#include "util.h"

#define BLOCK_MASK	((1u << CAT_DISPOSABLE) | (1u << CAT_RELAY))

/* A table of host and range keys: the fingerprints, or the shared
 * infrastructure. */
struct fptable {
	MDB_dbi		 dbi;
	int		 present;	/* built with such lists */
	size_t		 entries;
	unsigned char	 prefix4[33], prefix6[129];	/* in use, longest
							   first */
	size_t		 nprefix4, nprefix6;
};

/* The registrable domain of an infrastructure host, and its entry. */
struct infradom {
	char		 dom[DOMAIN_MAX + 1];
	char		 entry[DOMAIN_MAX + 8];	/* "mx *.improvmx.com" */
};

/* Read transactions kept reset for reuse (txn_get): a new one costs an
 * allocation and its set-up, a renewed one neither. */
#define LISTDB_TXNS 16

struct listdb {
	MDB_env		*env;
	struct infradom	*idom;		/* sorted by dom, unique */
	size_t		 nidom;
	MDB_dbi		 ddom, dsrc, dmeta;
	struct fptable	 fp, infra;
	struct listdb_trust trust;
	char		 path[512];	/* for diagnostics */
	struct listdb_fileid file;	/* what the snapshot was taken of */
	struct listdb_source_info *src;
	struct namefilter names;	/* every key of "domain" */
	_Atomic(MDB_txn *) txns[LISTDB_TXNS];	/* reset read transactions */
	uint16_t	*srcid;		/* the id of src[i] */
	size_t		 nsrc;
	time_t		 built;
	size_t		 entries;
};

/* One entry found on the walk. */
struct hit {
	const char	*dom;		/* into the caller's name */
	int		 level;
	unsigned	 mask;
	size_t		 n;
	uint16_t	 id[LISTDB_MAX_SOURCES];
};

/* A meta value as a number; -1 if missing or not a number. */
static long long
meta_number(MDB_txn *txn, MDB_dbi dbi, const char *key)
{
	MDB_val k = { strlen(key), (void *)(uintptr_t)key }, v;
	char buf[32], *end;
	long long n;

	if (mdb_get(txn, dbi, &k, &v) != 0 || v.mv_size == 0 ||
	    v.mv_size >= sizeof(buf))
		return -1;
	memcpy(buf, v.mv_data, v.mv_size);
	buf[v.mv_size] = '\0';
	errno = 0;
	n = strtoll(buf, &end, 10);
	if (errno != 0 || *end != '\0' || n < 0)
		return -1;
	return n;
}

/* Parse one "source" record into db->src[db->nsrc]. */
static int
load_source(struct listdb *db, const MDB_val *k, const MDB_val *v)
{
	const unsigned char *p = v->mv_data, *name, *path, *end;
	struct listdb_source_info *s = &db->src[db->nsrc];
	size_t nl, pl;

	if (k->mv_size != 2 || v->mv_size < LISTDB_SOURCE_SIZE(0, 0))
		return -1;
	end = p + v->mv_size - 4;
	name = p + LISTDB_SOURCE_HEAD;
	if ((path = memchr(name, '\0', (size_t)(end - name))) == NULL)
		return -1;
	nl = (size_t)(path - name);
	path++;
	if (path >= end || memchr(path, '\0', (size_t)(end - path)) == NULL)
		return -1;
	pl = strlen((const char *)path);
	if (path + pl + 1 != end || p[0] >= CAT_COUNT || p[1] >= TIER_COUNT ||
	    p[2] >= LIST_KIND_COUNT)
		return -1;
	snprintf(s->name, sizeof(s->name), "%.*s", (int)nl,
	    (const char *)name);
	snprintf(s->path, sizeof(s->path), "%s", (const char *)path);
	s->category = (enum category)p[0];
	s->tier = (enum tier)p[1];
	s->kind = (enum list_kind)p[2];
	s->entries = get_u32(end);
	db->srcid[db->nsrc] = (uint16_t)get_u16(k->mv_data);
	db->nsrc++;
	return 0;
}

static int
load_sources(struct listdb *db, MDB_txn *txn, char *err, size_t errlen)
{
	MDB_cursor *c;
	MDB_stat st;
	MDB_val k, v;
	int rc;

	if ((rc = mdb_stat(txn, db->dsrc, &st)) != 0) {
		seterr(err, errlen, "%s: %s", db->path, mdb_strerror(rc));
		return -1;
	}
	if (st.ms_entries > 65536) {
		seterr(err, errlen, "%s: corrupt source table", db->path);
		return -1;
	}
	if (st.ms_entries > 0 &&
	    ((db->src = calloc(st.ms_entries, sizeof(*db->src))) == NULL ||
	    (db->srcid = calloc(st.ms_entries, sizeof(*db->srcid))) == NULL)) {
		seterr(err, errlen, "%s: out of memory", db->path);
		return -1;
	}
	if ((rc = mdb_cursor_open(txn, db->dsrc, &c)) != 0) {
		seterr(err, errlen, "%s: %s", db->path, mdb_strerror(rc));
		return -1;
	}
	for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
	    rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		if (db->nsrc >= st.ms_entries || load_source(db, &k, &v) != 0) {
			mdb_cursor_close(c);
			seterr(err, errlen, "%s: corrupt source table",
			    db->path);
			return -1;
		}
	}
	mdb_cursor_close(c);
	if (rc != MDB_NOTFOUND) {
		seterr(err, errlen, "%s: %s", db->path, mdb_strerror(rc));
		return -1;
	}
	return 0;
}

/* "32,24,20" from meta into a list, most specific first; a missing or
 * unreadable value means no ranges of that family. */
static void
load_prefixes(MDB_txn *txn, MDB_dbi dbi, const char *key, int max,
    unsigned char *out, size_t *n)
{
	MDB_val k = { strlen(key), (void *)(uintptr_t)key }, v;
	const char *p, *end;
	int len, prev = max + 1;

	*n = 0;
	if (mdb_get(txn, dbi, &k, &v) != 0)
		return;
	for (p = v.mv_data, end = p + v.mv_size; p < end; p++) {
		const char *digits = p;

		for (len = 0; p < end && *p >= '0' && *p <= '9' &&
		    len <= max; p++)
			len = len * 10 + (*p - '0');
		/* Out of order or out of range: corrupt; keep what was
		 * good rather than guess. */
		if (p == digits || len >= prev || len > max ||
		    (p < end && *p != ','))
			return;
		out[(*n)++] = (unsigned char)len;
		prev = len;
	}
}

/* Open one of the optional key tables; 0 also when it is absent. */
static int
open_fptable(struct listdb *db, MDB_txn *txn, struct fptable *t,
    const char *name, const char *m_entries, const char *m_prefix4,
    const char *m_prefix6)
{
	long long n;
	int rc;

	if ((rc = mdb_dbi_open(txn, name, 0, &t->dbi)) == MDB_NOTFOUND)
		return 0;
	if (rc != 0)
		return rc;
	t->present = 1;
	n = meta_number(txn, db->dmeta, m_entries);
	t->entries = n < 0 ? 0 : (size_t)n;
	load_prefixes(txn, db->dmeta, m_prefix4, 32, t->prefix4,
	    &t->nprefix4);
	load_prefixes(txn, db->dmeta, m_prefix6, 128, t->prefix6,
	    &t->nprefix6);
	return 0;
}

static int
infradom_cmp(const void *a, const void *b)
{
	return strcmp(((const struct infradom *)a)->dom,
	    ((const struct infradom *)b)->dom);
}

/* The registrable domains of the infrastructure hosts, sorted, for
 * listdb_infra_domain(); the table is small (hundreds of entries). */
static int
load_infra_domains(struct listdb *db, MDB_txn *txn)
{
	MDB_cursor *c;
	MDB_val k, v;
	size_t cap = 0, out = 0;
	int rc;

	if (mdb_cursor_open(txn, db->infra.dbi, &c) != 0)
		return 0;	/* none then: a lookup still works */
	for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
	    rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		char host[DOMAIN_MAX + 1];
		const char *reg;

		if (listdb_fp_key_host(k.mv_data, k.mv_size, host) != 0 ||
		    (reg = domain_registrable(host)) == NULL)
			continue;
		if (db->nidom == cap) {
			size_t ncap = cap ? cap * 2 : 64;
			struct infradom *n = realloc(db->idom,
			    ncap * sizeof(*n));

			if (n == NULL) {
				mdb_cursor_close(c);
				return -1;
			}
			db->idom = n;
			cap = ncap;
		}
		snprintf(db->idom[db->nidom].dom, sizeof(db->idom->dom), "%s",
		    reg);
		listdb_fp_key_text(k.mv_data, k.mv_size,
		    db->idom[db->nidom].entry, sizeof(db->idom->entry));
		db->nidom++;
	}
	mdb_cursor_close(c);
	if (db->nidom == 0)
		return 0;
	qsort(db->idom, db->nidom, sizeof(*db->idom), infradom_cmp);
	for (size_t i = 0; i < db->nidom; i++)
		if (out == 0 || strcmp(db->idom[out - 1].dom,
		    db->idom[i].dom) != 0)
			db->idom[out++] = db->idom[i];
	db->nidom = out;
	return 0;
}

static void
fileid_of(const struct stat *st, struct listdb_fileid *id)
{
	memset(id, 0, sizeof(*id));
	id->dev = st->st_dev;
	id->ino = st->st_ino;
	id->size = st->st_size;
	id->mtime = st->st_mtim;
}

int
listdb_fileid_get(const char *path, struct listdb_fileid *id, char *err,
    size_t errlen)
{
	struct stat st;

	if (stat(path, &st) != 0) {
		seterr(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	fileid_of(&st, id);
	return 0;
}

int
listdb_fileid_same(const struct listdb_fileid *a,
    const struct listdb_fileid *b)
{
	return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
	    a->mtime.tv_sec == b->mtime.tv_sec &&
	    a->mtime.tv_nsec == b->mtime.tv_nsec;
}

const struct listdb_fileid *
listdb_fileid(const struct listdb *db)
{
	return &db->file;
}

static int
write_all(int fd, const unsigned char *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		if ((w = write(fd, p, n)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

#define COPY_CHUNK	(256 * 1024)

/* Whether the copy in fd, of size bytes of which the digest of all but the
 * last LISTDB_TRAILER_SIZE is md, ends in a trailer that matches.  Returns
 * 0 with *pages the bytes before the trailer (all of them without one),
 * or -1 with err. */
static int
check_trailer(struct listdb *db, int fd, size_t size, const unsigned char *md,
    size_t *pages, char *err, size_t errlen)
{
	unsigned char t[LISTDB_TRAILER_SIZE], want[LISTDB_TRAILER_DIGEST];
	uint64_t covered;

	*pages = size;
	if (size < LISTDB_TRAILER_SIZE)
		return 0;
	if (pread(fd, t, sizeof(t), (off_t)(size - sizeof(t))) !=
	    (ssize_t)sizeof(t)) {
		seterr(err, errlen, "%s: reading its copy: %s", db->path,
		    strerror(errno));
		return -1;
	}
	if (!listdb_trailer_unpack(t, &covered, want))
		return 0;	/* built before checksums */
	if (covered != size - sizeof(t) ||
	    memcmp(md, want, sizeof(want)) != 0) {
		seterr(err, errlen, "%s: checksum mismatch: damaged, or "
		    "caught half-way through a write", db->path);
		return -1;
	}
	*pages = size - sizeof(t);
	return 0;
}

/* Copy db->path into a sealed memfd, its identity into db->file; *pages
 * the bytes of LMDB pages in it (the checksum trailer checked and left
 * out).  Returns the memfd, or -1 with err. */
static int
snapshot(struct listdb *db, size_t *pages, char *err, size_t errlen)
{
	const char *path = db->path;
	struct listdb_fileid after;
	struct stat st;
	unsigned char *buf = NULL, md[EVP_MAX_MD_SIZE];
	EVP_MD_CTX *ctx = NULL;
	size_t total = 0, summed;
	unsigned mdlen;
	ssize_t n;
	int src, fd = -1;

	/* O_NONBLOCK: a FIFO must not hold the open until a writer comes;
	 * it is refused just below.  Reads of a regular file ignore it. */
	if ((src = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY |
	    O_NONBLOCK)) == -1) {
		seterr(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(src, &st) != 0) {
		seterr(err, errlen, "%s: %s", path, strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		seterr(err, errlen, "%s: not a regular file", path);
		goto fail;
	}
	fileid_of(&st, &db->file);
	if (st.st_size == 0) {
		seterr(err, errlen, "%s: empty file: not a list database",
		    path);
		goto fail;
	}
	if ((buf = malloc(COPY_CHUNK)) == NULL ||
	    (ctx = EVP_MD_CTX_new()) == NULL) {
		seterr(err, errlen, "%s: out of memory", path);
		goto fail;
	}
	if (EVP_DigestInit_ex(ctx, listdb_trailer_md(), NULL) != 1)
		goto crypto;
	/* Everything but where a trailer would be is summed on the way. */
	summed = (size_t)st.st_size > LISTDB_TRAILER_SIZE ?
	    (size_t)st.st_size - LISTDB_TRAILER_SIZE : 0;
	if ((fd = memfd_create("listdb", MFD_CLOEXEC |
	    MFD_ALLOW_SEALING)) == -1) {
		seterr(err, errlen, "%s: memfd_create: %s", path,
		    strerror(errno));
		goto fail;
	}
	while ((n = read(src, buf, COPY_CHUNK)) != 0) {
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			seterr(err, errlen, "%s: %s", path, strerror(errno));
			goto fail;
		}
		if (write_all(fd, buf, (size_t)n) != 0) {
			seterr(err, errlen, "%s: copying it to memory: %s",
			    path, strerror(errno));
			goto fail;
		}
		if (total < summed && EVP_DigestUpdate(ctx, buf,
		    (size_t)n < summed - total ? (size_t)n : summed - total) !=
		    1)
			goto crypto;
		total += (size_t)n;
	}
	if (fstat(src, &st) != 0) {
		seterr(err, errlen, "%s: %s", path, strerror(errno));
		goto fail;
	}
	fileid_of(&st, &after);
	if (total != (size_t)db->file.size ||
	    !listdb_fileid_same(&db->file, &after)) {
		seterr(err, errlen, "%s: changed while being read", path);
		goto fail;
	}
	if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW |
	    F_SEAL_WRITE | F_SEAL_SEAL) != 0) {
		seterr(err, errlen, "%s: sealing its copy: %s", path,
		    strerror(errno));
		goto fail;
	}
	if (EVP_DigestFinal_ex(ctx, md, &mdlen) != 1 ||
	    mdlen != LISTDB_TRAILER_DIGEST)
		goto crypto;
	if (check_trailer(db, fd, total, md, pages, err, errlen) != 0)
		goto fail;
	free(buf);
	EVP_MD_CTX_free(ctx);
	close(src);
	return fd;
crypto:
	seterr(err, errlen, "%s: checksum: OpenSSL failed", path);
fail:
	free(buf);
	EVP_MD_CTX_free(ctx);
	close(src);
	if (fd != -1)
		close(fd);
	return -1;
}

/* The pages LMDB's meta page claims must all be in the size bytes of
 * pages the copy holds; a truncated file keeps its meta pages and
 * opens. */
static int
check_complete(struct listdb *db, size_t size, char *err, size_t errlen)
{
	MDB_envinfo info;
	MDB_stat st;
	int rc;

	if ((rc = mdb_env_info(db->env, &info)) != 0 ||
	    (rc = mdb_env_stat(db->env, &st)) != 0) {
		seterr(err, errlen, "%s: %s", db->path, mdb_strerror(rc));
		return -1;
	}
	if (st.ms_psize == 0 || info.me_last_pgno >= size / st.ms_psize) {
		seterr(err, errlen, "%s: truncated (%zu bytes, its pages "
		    "need %zu): not a complete list database", db->path, size,
		    ((size_t)info.me_last_pgno + 1) * st.ms_psize);
		return -1;
	}
	return 0;
}

/* Every key of "domain" into db->names.  Returns 0, or an LMDB error,
 * or ENOMEM. */
static int
load_names(struct listdb *db, MDB_txn *txn)
{
	MDB_cursor *c;
	MDB_stat st;
	MDB_val k, v;
	int rc;

	if ((rc = mdb_stat(txn, db->ddom, &st)) != 0)
		return rc;
	if (namefilter_init(&db->names, st.ms_entries) != 0)
		return ENOMEM;
	if ((rc = mdb_cursor_open(txn, db->ddom, &c)) != 0)
		return rc;
	for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
	    rc = mdb_cursor_get(c, &k, &v, MDB_NEXT))
		namefilter_add(&db->names, namefilter_hash(k.mv_data,
		    k.mv_size));
	mdb_cursor_close(c);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

int
listdb_open(const char *path, struct listdb **out, char *err, size_t errlen)
{
	struct listdb *db;
	MDB_txn *txn = NULL;
	char fdpath[64];
	long long n;
	size_t pages;
	int rc, fd;

	*out = NULL;
	if ((db = calloc(1, sizeof(*db))) == NULL) {
		seterr(err, errlen, "%s: out of memory", path);
		return -1;
	}
	snprintf(db->path, sizeof(db->path), "%s", path);
	listdb_trust_default(&db->trust);
	if ((fd = snapshot(db, &pages, err, errlen)) == -1) {
		listdb_close(db);
		return -1;
	}
	snprintf(fdpath, sizeof(fdpath), "/proc/self/fd/%d", fd);
	if ((rc = mdb_env_create(&db->env)) != 0) {
		db->env = NULL;
		close(fd);
		goto lmdb_fail;
	}
	if ((rc = mdb_env_set_maxdbs(db->env, LISTDB_MAXDBS)) == 0)
		rc = mdb_env_open(db->env, fdpath, MDB_RDONLY | MDB_NOLOCK |
		    MDB_NOSUBDIR | MDB_NOTLS, 0);
	close(fd);	/* LMDB opened its own */
	if (rc == ENOENT && access("/proc/self/fd", X_OK) != 0) {
		seterr(err, errlen, "%s: its copy cannot be opened through "
		    "%s: /proc is not mounted", path, fdpath);
		goto fail;
	}
	if (rc != 0)
		goto lmdb_fail;
	if (check_complete(db, pages, err, errlen) != 0)
		goto fail;
	if ((rc = mdb_txn_begin(db->env, NULL, MDB_RDONLY, &txn)) != 0)
		goto lmdb_fail;
	if (mdb_dbi_open(txn, LISTDB_T_DOMAIN, 0, &db->ddom) != 0 ||
	    mdb_dbi_open(txn, LISTDB_T_SOURCE, 0, &db->dsrc) != 0 ||
	    mdb_dbi_open(txn, LISTDB_T_META, 0, &db->dmeta) != 0) {
		seterr(err, errlen, "%s: not a list database", path);
		goto fail;
	}
	if ((n = meta_number(txn, db->dmeta, LISTDB_M_VERSION)) != LISTDB_VERSION) {
		seterr(err, errlen, "%s: list database version %lld, "
		    "expected %d: rebuild it", path, n, LISTDB_VERSION);
		goto fail;
	}
	n = meta_number(txn, db->dmeta, LISTDB_M_BUILT);
	db->built = n < 0 ? 0 : (time_t)n;
	n = meta_number(txn, db->dmeta, LISTDB_M_ENTRIES);
	db->entries = n < 0 ? 0 : (size_t)n;
	if (load_sources(db, txn, err, errlen) != 0)
		goto fail;
	if ((rc = load_names(db, txn)) != 0)
		goto lmdb_fail;
	/* A database built without fingerprints has no "fp" table: it
	 * opens, and no fingerprint ever matches; the same for "infra". */
	if ((rc = open_fptable(db, txn, &db->fp, LISTDB_T_FP,
	    LISTDB_M_FP_ENTRIES, LISTDB_M_FP_PREFIX4,
	    LISTDB_M_FP_PREFIX6)) != 0 ||
	    (rc = open_fptable(db, txn, &db->infra, LISTDB_T_INFRA,
	    LISTDB_M_INFRA_ENTRIES, LISTDB_M_INFRA_PREFIX4,
	    LISTDB_M_INFRA_PREFIX6)) != 0)
		goto lmdb_fail;
	if (db->infra.present && load_infra_domains(db, txn) != 0) {
		seterr(err, errlen, "%s: out of memory", path);
		goto fail;
	}
	/* Committing, not aborting, keeps the table handles for later
	 * transactions. */
	rc = mdb_txn_commit(txn);
	txn = NULL;
	if (rc != 0)
		goto lmdb_fail;
	*out = db;
	return 0;

lmdb_fail:
	seterr(err, errlen, "%s: %s", path, mdb_strerror(rc));
fail:
	if (txn != NULL)
		mdb_txn_abort(txn);
	listdb_close(db);
	return -1;
}

/*
 * A read transaction: a kept one renewed, or a new one.  Any thread may
 * take any kept transaction (MDB_NOTLS; MDB_NOLOCK has no reader table),
 * and each slot is taken by an atomic exchange, so no two threads ever
 * hold the same one.  The search starts at a slot of the thread's own.
 */
static _Thread_local unsigned char txn_thread;

static size_t
txn_first_slot(void)
{
	return ((uintptr_t)&txn_thread >> 6) % LISTDB_TXNS;
}

static int
txn_get(struct listdb *db, MDB_txn **txn)
{
	size_t start = txn_first_slot();

	for (size_t i = 0; i < 4; i++) {
		MDB_txn *t = atomic_exchange(
		    &db->txns[(start + i) % LISTDB_TXNS], NULL);

		if (t == NULL)
			continue;
		if (mdb_txn_renew(t) == 0) {
			*txn = t;
			return 0;
		}
		mdb_txn_abort(t);
	}
	return mdb_txn_begin(db->env, NULL, MDB_RDONLY, txn);
}

/* Done with a read transaction: reset and kept, or ended. */
static void
txn_put(struct listdb *db, MDB_txn *txn)
{
	size_t start = txn_first_slot();

	mdb_txn_reset(txn);
	for (size_t i = 0; i < 4; i++) {
		MDB_txn *none = NULL;

		if (atomic_compare_exchange_strong(
		    &db->txns[(start + i) % LISTDB_TXNS], &none, txn))
			return;
	}
	mdb_txn_abort(txn);
}

void
listdb_close(struct listdb *db)
{
	if (db == NULL)
		return;
	for (size_t i = 0; i < LISTDB_TXNS; i++) {
		MDB_txn *t = atomic_exchange(&db->txns[i], NULL);

		if (t != NULL)
			mdb_txn_abort(t);
	}
	if (db->env != NULL)
		mdb_env_close(db->env);
	free(db->src);
	free(db->srcid);
	free(db->idom);
	namefilter_free(&db->names);
	free(db);
}

static const struct listdb_source_info *
source_by_id(const struct listdb *db, unsigned id)
{
	size_t i;

	/* The builder numbers sources 0..n-1; a search covers the rest. */
	if (id < db->nsrc && db->srcid[id] == id)
		return &db->src[id];
	for (i = 0; i < db->nsrc; i++)
		if (db->srcid[i] == id)
			return &db->src[i];
	return NULL;
}

/*
 * Trust (listdb.h): one place for the rules.
 */

void
listdb_trust_default(struct listdb_trust *t)
{
	t->quorum[TIER_CURATED] = 1;
	t->quorum[TIER_COMMUNITY] = 2;
	t->quorum[TIER_WEAK] = 0;
}

void
listdb_set_trust(struct listdb *db, const struct listdb_trust *t)
{
	if (db != NULL && t != NULL)
		db->trust = *t;
}

int
listdb_trust_decides(const struct listdb_trust *t,
    const unsigned support[TIER_COUNT])
{
	unsigned cum = 0;

	for (int i = 0; i < TIER_COUNT; i++) {
		cum += support[i];
		if (t->quorum[i] > 0 && cum >= (unsigned)t->quorum[i])
			return 1;
	}
	return 0;
}

/* Compare two supports, the most trusted tier first: <0, 0, >0. */
static int
support_cmp(const unsigned a[TIER_COUNT], const unsigned b[TIER_COUNT])
{
	for (int i = 0; i < TIER_COUNT; i++)
		if (a[i] != b[i])
			return a[i] < b[i] ? -1 : 1;
	return 0;
}

/* The most trusted tier with a source; TIER_COUNT for none. */
static int
top_tier(const unsigned s[TIER_COUNT])
{
	for (int i = 0; i < TIER_COUNT; i++)
		if (s[i] > 0)
			return i;
	return TIER_COUNT;
}

enum category
listdb_trust_block(const unsigned disp[TIER_COUNT],
    const unsigned relay[TIER_COUNT])
{
	if (top_tier(disp) == TIER_COUNT && top_tier(relay) == TIER_COUNT)
		return CAT_CLEAN;
	return support_cmp(disp, relay) > 0 ? CAT_DISPOSABLE : CAT_RELAY;
}

int
listdb_trust_allow_wins(const unsigned allow[TIER_COUNT],
    const unsigned block[TIER_COUNT])
{
	return top_tier(allow) <= top_tier(block);
}

const char *
listdb_support_text(const unsigned s[TIER_COUNT], char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	for (int i = 0; i < TIER_COUNT; i++) {
		int n;

		if (s[i] == 0 || off >= len)
			continue;
		n = snprintf(buf + off, len - off, "%s%u %s", off ? ", " : "",
		    s[i], tier_name((enum tier)i));
		if (n > 0)
			off += (size_t)n;
	}
	if (off == 0)
		snprintf(buf, len, "none");
	return buf;
}

/* Parse a "domain" value into h; -1 if it does not parse. */
static int
parse_entry(const MDB_val *v, struct hit *h)
{
	const unsigned char *p = v->mv_data;
	size_t n, i;

	if (listdb_entry_unpack(p, v->mv_size, &h->mask, &n) != 0)
		return -1;
	h->n = 0;
	for (i = 0; i < n && h->n < LISTDB_MAX_SOURCES; i++)
		h->id[h->n++] = (uint16_t)get_u16(p + LISTDB_ENTRY_HEAD +
		    2 * i);
	return 0;
}

/* h's sources per tier: allow lists into allow, the block ones into
 * disp and relay (any may be NULL).  A source the table does not know
 * (a damaged file) counts for nothing. */
static void
count_support(const struct listdb *db, const struct hit *h,
    unsigned allow[TIER_COUNT], unsigned disp[TIER_COUNT],
    unsigned relay[TIER_COUNT])
{
	const struct listdb_source_info *s;
	unsigned *to;

	for (size_t i = 0; i < h->n; i++) {
		if ((s = source_by_id(db, h->id[i])) == NULL)
			continue;
		to = s->category == CAT_ALLOWED ? allow :
		    s->category == CAT_RELAY ? relay : disp;
		if (to != NULL)
			to[s->tier]++;
	}
}

/* The names and tiers of h's sources on the deciding side into m. */
static void
fill_sources(const struct listdb *db, const struct hit *h, int allow,
    struct listdb_match *m)
{
	const struct listdb_source_info *s;
	size_t i;

	m->nsources = 0;
	for (i = 0; i < h->n && m->nsources < LISTDB_MAX_SOURCES; i++) {
		if ((s = source_by_id(db, h->id[i])) == NULL) {
			m->source_tier[m->nsources] = TIER_COUNT;
			m->source_category[m->nsources] = CAT_CLEAN;
			snprintf(m->sources[m->nsources++],
			    LISTDB_SOURCE_NAME, "#%u", (unsigned)h->id[i]);
			continue;
		}
		if ((s->category == CAT_ALLOWED) != allow)
			continue;
		m->source_tier[m->nsources] = (unsigned char)s->tier;
		m->source_category[m->nsources] = (unsigned char)s->category;
		memcpy(m->sources[m->nsources++], s->name, LISTDB_SOURCE_NAME);
	}
}

void
listdb_match_clear(struct listdb_match *m)
{
	memset(m, 0, offsetof(struct listdb_match, entry));
	m->category = CAT_CLEAN;
	m->entry[0] = m->block_entry[0] = m->allow_entry[0] = '\0';
}

/* A name of at most DOMAIN_MAX bytes (a hit's) into a DOMAIN_MAX + 1
 * buffer. */
static void
copy_name(char *dst, const char *src)
{
	size_t n = strnlen(src, DOMAIN_MAX);

	memcpy(dst, src, n);
	dst[n] = '\0';
}

static const struct infradom *infra_reg(const struct listdb *,
    const char *);

/*
 * What the most specific allow hit and block hit of a walk (either may be
 * NULL; they may be the same entry) mean under the trust rules.
 */
static void
resolve(const struct listdb *db, const struct hit *allow,
    const struct hit *block, struct listdb_match *m)
{
	const char *reg;
	unsigned a[TIER_COUNT] = { 0 }, d[TIER_COUNT] = { 0 },
	    r[TIER_COUNT] = { 0 }, b[TIER_COUNT];

	if (allow != NULL)
		count_support(db, allow, a, NULL, NULL);
	if (block != NULL)
		count_support(db, block, NULL, d, r);
	for (int t = 0; t < TIER_COUNT; t++)
		b[t] = d[t] + r[t];
	if (allow != NULL && (block == NULL ||
	    listdb_trust_allow_wins(a, b))) {
		m->category = CAT_ALLOWED;
		copy_name(m->entry, allow->dom);
		m->level = allow->level;
		memcpy(m->support, a, sizeof(a));
		fill_sources(db, allow, 1, m);
		if (block != NULL) {
			m->overridden = 1;
			copy_name(m->block_entry, block->dom);
		}
	} else if (block != NULL) {
		m->category = listdb_trust_block(d, r);
		/* Sources the table lost: the mask still tells. */
		if (m->category == CAT_CLEAN)
			m->category = (block->mask & (1u << CAT_RELAY)) ?
			    CAT_RELAY : CAT_DISPOSABLE;
		copy_name(m->entry, block->dom);
		m->level = block->level;
		memcpy(m->support, b, sizeof(b));
		m->decided = listdb_trust_decides(&db->trust, b);
		/* The domain of shared infrastructure (improvmx.com, which
		 * public lists carry): only a curated source decides. */
		if (db->nidom > 0 &&
		    (reg = domain_registrable(block->dom)) != NULL &&
		    infra_reg(db, reg) != NULL) {
			m->infra = 1;
			if (b[TIER_CURATED] == 0)
				m->decided = 0;
		}
		m->conflict = top_tier(d) < TIER_COUNT &&
		    top_tier(r) < TIER_COUNT;
		fill_sources(db, block, 0, m);
		if (allow != NULL) {
			m->allow_lost = 1;
			copy_name(m->allow_entry, allow->dom);
		}
	}
}

int
listdb_lookup(struct listdb *db, const char *ascii, struct listdb_match *m,
    char *err, size_t errlen)
{
	struct hit allow, block, h;
	const char *from;
	MDB_txn *txn;
	MDB_val k, v;
	size_t len, maybe[DOMAIN_MAX / 2 + 1], nmaybe = 0;
	uint64_t hv = NAMEFILTER_SEED;
	int rc, have_allow = 0, have_block = 0, dots = 0;

	listdb_match_clear(m);
	if (db == NULL || ascii == NULL) {
		seterr(err, errlen, "listdb_lookup: no database or no name");
		return -1;
	}
	/* Nothing longer than a domain can be listed. */
	if ((len = strnlen(ascii, DOMAIN_MAX + 1)) > DOMAIN_MAX)
		return 0;
	/* The suffixes that start a label and hold a dot (a single label
	 * is a public suffix), from the right: those the filter says may
	 * be keys.  Most names have none, and are done here. */
	for (size_t i = len; i-- > 0; ) {
		hv = namefilter_step(hv, (unsigned char)ascii[i]);
		if (ascii[i] == '.')
			dots++;
		else if (dots > 0 && (i == 0 || ascii[i - 1] == '.') &&
		    namefilter_maybe(&db->names, namefilter_final(hv)))
			maybe[nmaybe++] = i;
	}
	if (nmaybe == 0)
		return 0;

	if ((rc = txn_get(db, &txn)) != 0) {
		seterr(err, errlen, "%s: %s", db->path, mdb_strerror(rc));
		return -1;
	}
	/* From specific to general (maybe[] runs the other way), so the
	 * first of each kind is the most specific.  Nothing above the
	 * registrable domain is ever looked up. */
	from = ascii;
	while (nmaybe-- > 0) {
		const char *d = ascii + maybe[nmaybe];

		if (!domain_within_registrable(ascii, d, &from))
			break;
		k.mv_data = (void *)(uintptr_t)d;
		k.mv_size = len - maybe[nmaybe];
		rc = mdb_get(txn, db->ddom, &k, &v);
		if (rc == MDB_NOTFOUND)
			continue;
		if (rc != 0) {
			seterr(err, errlen, "%s: %s", db->path,
			    mdb_strerror(rc));
			txn_put(db, txn);
			return -1;
		}
		if (parse_entry(&v, &h) != 0) {
			seterr(err, errlen, "%s: corrupt entry", db->path);
			txn_put(db, txn);
			return -1;
		}
		h.dom = d;
		h.level = 0;
		for (const char *p = ascii; p < d; p++)
			h.level += *p == '.';
		if ((h.mask & (1u << CAT_ALLOWED)) && !have_allow) {
			allow = h;
			have_allow = 1;
		}
		if ((h.mask & BLOCK_MASK) && !have_block) {
			block = h;
			have_block = 1;
		}
	}
	txn_put(db, txn);
	resolve(db, have_allow ? &allow : NULL, have_block ? &block : NULL,
	    m);
	return 0;
}

int
listdb_sources(struct listdb *db, struct listdb_source_info **out,
    size_t *n)
{
	if (db == NULL || out == NULL || n == NULL)
		return -1;
	*out = db->src;
	*n = db->nsrc;
	return 0;
}

time_t
listdb_built(struct listdb *db)
{
	return db != NULL ? db->built : 0;
}

size_t
listdb_entries(struct listdb *db)
{
	return db != NULL ? db->entries : 0;
}

/*
 * Fingerprints.
 */

static const char *const fp_names[FP_KIND_COUNT] = { "mx", "ns", "spf", "ip" };

const char *
fp_kind_name(enum fp_kind k)
{
	return (unsigned)k < FP_KIND_COUNT ? fp_names[k] : "?";
}

int
fp_kind_byname(const char *s)
{
	for (int k = 0; k < FP_KIND_COUNT; k++)
		if (strcasecmp(s, fp_names[k]) == 0)
			return k;
	return -1;
}

int
listdb_category_listable(enum category c, enum list_kind k)
{
	switch (k) {
	case LIST_DOMAINS:
		return c == CAT_DISPOSABLE || c == CAT_RELAY ||
		    c == CAT_ALLOWED;
	case LIST_FINGERPRINTS:
		return c == CAT_DISPOSABLE || c == CAT_RELAY;
	case LIST_INFRA:
		return c == CAT_ALLOWED;
	default:
		return 0;
	}
}

/* Parse an "fp" value (or an "infra" one: t is the infrastructure table)
 * into m, sources by name; -1 if it does not parse.  A strong
 * fingerprint stays strong only when its sources meet the quorum. */
static int
parse_fp(const struct listdb *db, const struct fptable *t, const MDB_val *v,
    struct fp_match *m)
{
	const unsigned char *p = v->mv_data;
	const struct listdb_source_info *s;
	unsigned support[TIER_COUNT] = { 0 };
	size_t n, i, head;

	if (t == &db->infra) {
		if (listdb_infra_unpack(p, v->mv_size, &n) != 0)
			return -1;
		m->category = CAT_ALLOWED;
		m->strong = 0;
		head = LISTDB_INFRA_HEAD;
	} else {
		if (listdb_fp_unpack(p, v->mv_size, &m->category, &m->strong,
		    &n) != 0)
			return -1;
		head = LISTDB_FP_HEAD;
	}
	m->found = 1;
	m->nsources = 0;
	for (i = 0; i < n; i++) {
		unsigned id = get_u16(p + head + 2 * i);

		if ((s = source_by_id(db, id)) != NULL)
			support[s->tier]++;
		if (m->nsources == LISTDB_MAX_SOURCES)
			continue;
		if (s != NULL)
			memcpy(m->sources[m->nsources++], s->name,
			    LISTDB_SOURCE_NAME);
		else
			snprintf(m->sources[m->nsources++],
			    LISTDB_SOURCE_NAME, "#%u", id);
	}
	if (m->strong && !listdb_trust_decides(&db->trust, support))
		m->strong = 0;
	return 0;
}

static void
fp_match_clear(struct fp_match *m)
{
	memset(m, 0, offsetof(struct fp_match, entry));
	m->entry[0] = '\0';
}

/* Look up one key; 1 found (m filled), 0 not, -1 error (err set). */
static int
fp_get(struct listdb *db, const struct fptable *t, MDB_txn *txn,
    const unsigned char *key, size_t klen, struct fp_match *m, char *err,
    size_t errlen)
{
	MDB_val k = { klen, (void *)(uintptr_t)key }, v;
	int rc;

	if ((rc = mdb_get(txn, t->dbi, &k, &v)) == MDB_NOTFOUND)
		return 0;
	if (rc != 0) {
		seterr(err, errlen, "%s: %s", db->path, mdb_strerror(rc));
		return -1;
	}
	if (parse_fp(db, t, &v, m) != 0) {
		fp_match_clear(m);
		seterr(err, errlen, "%s: corrupt fingerprint", db->path);
		return -1;
	}
	return 1;
}

static int
fp_host(struct listdb *db, const struct fptable *t, enum fp_kind kind,
    const char *host, struct fp_match *m, char *err, size_t errlen)
{
	unsigned char key[LISTDB_FP_KEY_MAX];
	const char *d;
	size_t len, klen;
	MDB_txn *txn;
	int rc;

	fp_match_clear(m);
	if (db == NULL || host == NULL || (kind != FP_MX && kind != FP_NS &&
	    kind != FP_SPF)) {
		seterr(err, errlen, "listdb_fp_host: no database, no name or "
		    "not a host kind");
		return -1;
	}
	m->kind = kind;
	if (!t->present || (len = strlen(host)) == 0 || len > DOMAIN_MAX)
		return 0;
	if ((rc = txn_get(db, &txn)) != 0) {
		seterr(err, errlen, "%s: %s", db->path, mdb_strerror(rc));
		return -1;
	}
	klen = listdb_fp_host_key(key, kind, 0, host, len);
	rc = fp_get(db, t, txn, key, klen, m, err, errlen);
	if (rc == 1)
		snprintf(m->entry, sizeof(m->entry), "%s", host);
	/* A suffix entry matches the names below it, not itself; nearest
	 * parent first.  No suffix entry is a public suffix, so walking
	 * past the registrable domain finds nothing and costs a lookup or
	 * two. */
	for (d = domain_parent(host); rc == 0 && d != NULL;
	    d = domain_parent(d)) {
		klen = listdb_fp_host_key(key, kind, 1, d, strlen(d));
		if ((rc = fp_get(db, t, txn, key, klen, m, err, errlen)) == 1)
			snprintf(m->entry, sizeof(m->entry), "*.%s", d);
	}
	txn_put(db, txn);
	m->kind = kind;
	return rc < 0 ? -1 : 0;
}

static int
fp_addr(struct listdb *db, const struct fptable *t, const struct dns_addr *a,
    int prefix, struct fp_match *m, char *err, size_t errlen)
{
	unsigned char key[LISTDB_FP_KEY_MAX], net[16], masked[16], *lens;
	char text[INET6_ADDRSTRLEN];
	size_t nlens, nbytes, i;
	int v6, max, rc = 0;
	MDB_txn *txn;

	fp_match_clear(m);
	m->kind = FP_IP;
	if (db == NULL || a == NULL || (a->family != AF_INET &&
	    a->family != AF_INET6)) {
		seterr(err, errlen, "listdb_fp_addr: no database or no "
		    "address");
		return -1;
	}
	v6 = a->family == AF_INET6;
	max = v6 ? 128 : 32;
	nbytes = v6 ? 16 : 4;
	if (prefix < 0 || prefix > max) {
		seterr(err, errlen, "listdb_fp_addr: prefix /%d out of range",
		    prefix);
		return -1;
	}
	memcpy(net, v6 ? (const void *)&a->u.v6 : (const void *)&a->u.v4,
	    nbytes);
	/* An IPv4-mapped IPv6 address is the IPv4 address. */
	if (v6 && prefix >= 96 && IN6_IS_ADDR_V4MAPPED(&a->u.v6)) {
		memmove(net, net + 12, 4);
		v6 = 0;
		max = 32;
		nbytes = 4;
		prefix -= 96;
	}
	lens = v6 ? (unsigned char *)t->prefix6 : (unsigned char *)t->prefix4;
	nlens = v6 ? t->nprefix6 : t->nprefix4;
	if (!t->present || nlens == 0)
		return 0;
	if ((rc = txn_get(db, &txn)) != 0) {
		seterr(err, errlen, "%s: %s", db->path, mdb_strerror(rc));
		return -1;
	}
	/* Most specific first; a range only fits in one at least as wide. */
	for (i = 0, rc = 0; i < nlens && rc == 0; i++) {
		int len = lens[i];
		size_t klen;

		if (len > prefix)
			continue;
		for (size_t b = 0; b < nbytes; b++) {
			int bits = len - 8 * (int)b;

			masked[b] = bits >= 8 ? net[b] : bits <= 0 ? 0 :
			    net[b] & (unsigned char)(0xff << (8 - bits));
		}
		klen = listdb_fp_range_key(key, v6, len, masked);
		if ((rc = fp_get(db, t, txn, key, klen, m, err, errlen)) == 1) {
			inet_ntop(v6 ? AF_INET6 : AF_INET, masked, text,
			    sizeof(text));
			snprintf(m->entry, sizeof(m->entry), "%s/%d", text,
			    len);
		}
	}
	txn_put(db, txn);
	m->kind = FP_IP;
	return rc < 0 ? -1 : 0;
}

int
listdb_fp_host(struct listdb *db, enum fp_kind kind, const char *host,
    struct fp_match *m, char *err, size_t errlen)
{
	return fp_host(db, db != NULL ? &db->fp : NULL, kind, host, m, err,
	    errlen);
}

int
listdb_fp_addr(struct listdb *db, const struct dns_addr *a, int prefix,
    struct fp_match *m, char *err, size_t errlen)
{
	return fp_addr(db, db != NULL ? &db->fp : NULL, a, prefix, m, err,
	    errlen);
}

int
listdb_infra_host(struct listdb *db, enum fp_kind kind, const char *host,
    struct fp_match *m, char *err, size_t errlen)
{
	return fp_host(db, db != NULL ? &db->infra : NULL, kind, host, m,
	    err, errlen);
}

int
listdb_infra_addr(struct listdb *db, const struct dns_addr *a, int prefix,
    struct fp_match *m, char *err, size_t errlen)
{
	return fp_addr(db, db != NULL ? &db->infra : NULL, a, prefix, m, err,
	    errlen);
}

size_t
listdb_fp_entries(struct listdb *db)
{
	return db != NULL ? db->fp.entries : 0;
}

size_t
listdb_infra_entries(struct listdb *db)
{
	return db != NULL ? db->infra.entries : 0;
}

static int
infradom_key_cmp(const void *key, const void *elem)
{
	return strcmp(key, ((const struct infradom *)elem)->dom);
}

/* The infrastructure entry whose registrable domain is reg, or NULL. */
static const struct infradom *
infra_reg(const struct listdb *db, const char *reg)
{
	if (db->nidom == 0)
		return NULL;
	return bsearch(reg, db->idom, db->nidom, sizeof(*db->idom),
	    infradom_key_cmp);
}

int
listdb_infra_domain(const struct listdb *db, const char *domain, char *entry,
    size_t len)
{
	const struct infradom *hit;
	const char *reg;

	if (db == NULL || domain == NULL ||
	    (reg = domain_registrable(domain)) == NULL ||
	    (hit = infra_reg(db, reg)) == NULL)
		return 0;
	if (entry != NULL && len > 0)
		snprintf(entry, len, "%s", hit->entry);
	return 1;
}

int
listdb_foreach(struct listdb *db, listdb_foreach_fn *fn, void *arg,
    char *err, size_t errlen)
{
	MDB_txn *txn;
	MDB_cursor *cur;
	MDB_val k, v;
	char dom[DOMAIN_MAX + 1];
	int r, rc = 0;

	if ((r = mdb_txn_begin(db->env, NULL, MDB_RDONLY, &txn)) != 0) {
		seterr(err, errlen, "%s: %s", db->path, mdb_strerror(r));
		return -1;
	}
	if ((r = mdb_cursor_open(txn, db->ddom, &cur)) != 0) {
		mdb_txn_abort(txn);
		seterr(err, errlen, "%s: %s", db->path, mdb_strerror(r));
		return -1;
	}
	for (r = mdb_cursor_get(cur, &k, &v, MDB_FIRST); r == 0;
	    r = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		struct hit h;
		struct listdb_match mm, *m = &mm;

		if (k.mv_size > DOMAIN_MAX || parse_entry(&v, &h) != 0)
			continue;
		memcpy(dom, k.mv_data, k.mv_size);
		dom[k.mv_size] = '\0';
		h.dom = dom;
		h.level = 0;
		/* The same rules as a lookup of the entry itself. */
		listdb_match_clear(m);
		resolve(db, (h.mask & (1u << CAT_ALLOWED)) ? &h : NULL,
		    (h.mask & BLOCK_MASK) ? &h : NULL, m);
		if (fn(arg, dom, m->category != CAT_ALLOWED && !m->decided ?
		    CAT_SUSPICIOUS : m->category) != 0)
			break;
	}
	if (r != 0 && r != MDB_NOTFOUND) {
		seterr(err, errlen, "%s: %s", db->path, mdb_strerror(r));
		rc = -1;
	}
	mdb_cursor_close(cur);
	mdb_txn_abort(txn);
	return rc;
}
