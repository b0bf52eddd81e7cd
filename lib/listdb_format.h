/*
 * listdb_format.h - the list database's on-disk format, private to its
 * reader (listdb.c) and its builder (listbuild.c), so that both read and
 * write it from one description.  Nothing else includes this file.
 *
 * One LMDB file (MDB_NOSUBDIR) with named databases; keys are bytes,
 * integers little-endian (util.h's get_/put_ helpers):
 *
 *   "domain"  key: normalised domain
 *             value: u8 version, u8 category mask (1 << CAT_*), u16 n,
 *             then n u16 source ids
 *   "source"  key: u16 source id
 *             value: u8 category, u8 tier, u8 list kind, the source
 *             name, NUL, the file path, NUL, u32 entry count
 *   "fp"      key: a host fingerprint is its kind letter ('m', 'n', 's'),
 *             '=' (exact) or '*' (the names below), and the host name; a
 *             range is 'i', '4' or '6', one byte of prefix length and the
 *             4 or 16 network bytes
 *             value: u8 version, u8 category, u8 strong, u16 n, then n
 *             u16 source ids
 *   "infra"   shared infrastructure: keys as in "fp"
 *             value: u8 version, u16 n, then n u16 source ids
 *   "meta"    text values: "version", "built" (seconds since the epoch),
 *             "entries", and with fingerprints "fp_entries",
 *             "fp_prefix4" and "fp_prefix6" (the prefix lengths in use,
 *             longest first: "32,24,20"), with shared infrastructure
 *             "infra_entries", "infra_prefix4" and "infra_prefix6"
 *
 * A database built without fingerprints has no "fp" table at all, one
 * without shared infrastructure no "infra" table.  A
 * change to any of this changes LISTDB_VERSION: a reader refuses a file
 * of another version ("rebuild it") rather than misread it.
 *
 * After the pages LMDB wrote, the builder appends a trailer of
 * LISTDB_TRAILER_SIZE bytes:
 *
 *   "DMLDBSUM"  8 bytes
 *   u64         the number of bytes before the trailer
 *   SHA-256     of those bytes, 32 bytes
 *
 * LMDB reads no further than the pages its meta page claims, so it never
 * sees the trailer (and an older reader opens such a file unchanged).  A
 * reader checks it against its copy: pages of two versions (a file caught
 * half-way through an in-place write that did not truncate it first,
 * rsync --inplace, dd) or damaged ones are refused at open.  LMDB itself
 * checks no page: given such a file it fails a lookup later, or aborts on
 * an assertion.  A file without the trailer (built before it existed)
 * still opens, with the other checks only.
 */
#ifndef DM_LISTDB_FORMAT_H
#define DM_LISTDB_FORMAT_H

#include <sys/socket.h>
#include <arpa/inet.h>

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#include "listdb.h"
#include "util.h"

#define LISTDB_VERSION		2	/* 2: source tiers and kinds, "infra" */
#define LISTDB_MAXDBS		5

#define LISTDB_T_DOMAIN		"domain"
#define LISTDB_T_SOURCE		"source"
#define LISTDB_T_FP		"fp"
#define LISTDB_T_INFRA		"infra"
#define LISTDB_T_META		"meta"

#define LISTDB_M_VERSION	"version"
#define LISTDB_M_BUILT		"built"
#define LISTDB_M_ENTRIES	"entries"
#define LISTDB_M_FP_ENTRIES	"fp_entries"
#define LISTDB_M_FP_PREFIX4	"fp_prefix4"
#define LISTDB_M_FP_PREFIX6	"fp_prefix6"
#define LISTDB_M_INFRA_ENTRIES	"infra_entries"
#define LISTDB_M_INFRA_PREFIX4	"infra_prefix4"
#define LISTDB_M_INFRA_PREFIX6	"infra_prefix6"

/* "domain" values: 4 bytes, then 2 a source. */
#define LISTDB_ENTRY_HEAD	4
#define LISTDB_ENTRY_SIZE(n)	(LISTDB_ENTRY_HEAD + 2 * (size_t)(n))

static inline size_t
listdb_entry_pack(unsigned char *out, unsigned mask, size_t n)
{
	out[0] = LISTDB_VERSION;
	out[1] = (unsigned char)mask;
	put_u16(out + 2, (unsigned)n);
	return LISTDB_ENTRY_SIZE(n);
}

/* The mask and the number of source ids of a value; -1 if it is not a
 * value of this version. */
static inline int
listdb_entry_unpack(const unsigned char *p, size_t len, unsigned *mask,
    size_t *n)
{
	if (len < LISTDB_ENTRY_HEAD || p[0] != LISTDB_VERSION)
		return -1;
	*n = get_u16(p + 2);
	if (len != LISTDB_ENTRY_SIZE(*n))
		return -1;
	*mask = p[1];
	return 0;
}

/* "fp" values: 5 bytes, then 2 a source. */
#define LISTDB_FP_HEAD		5
#define LISTDB_FP_SIZE(n)	(LISTDB_FP_HEAD + 2 * (size_t)(n))

static inline size_t
listdb_fp_pack(unsigned char *out, enum category c, int strong, size_t n)
{
	out[0] = LISTDB_VERSION;
	out[1] = (unsigned char)c;
	out[2] = (unsigned char)(strong != 0);
	put_u16(out + 3, (unsigned)n);
	return LISTDB_FP_SIZE(n);
}

static inline int
listdb_fp_unpack(const unsigned char *p, size_t len, enum category *c,
    int *strong, size_t *n)
{
	if (len < LISTDB_FP_HEAD || p[0] != LISTDB_VERSION ||
	    (p[1] != CAT_DISPOSABLE && p[1] != CAT_RELAY) || p[2] > 1)
		return -1;
	*n = get_u16(p + 3);
	if (len != LISTDB_FP_SIZE(*n))
		return -1;
	*c = (enum category)p[1];
	*strong = p[2];
	return 0;
}

/* "infra" values: 3 bytes, then 2 a source. */
#define LISTDB_INFRA_HEAD	3
#define LISTDB_INFRA_SIZE(n)	(LISTDB_INFRA_HEAD + 2 * (size_t)(n))

static inline size_t
listdb_infra_pack(unsigned char *out, size_t n)
{
	out[0] = LISTDB_VERSION;
	put_u16(out + 1, (unsigned)n);
	return LISTDB_INFRA_SIZE(n);
}

static inline int
listdb_infra_unpack(const unsigned char *p, size_t len, size_t *n)
{
	if (len < LISTDB_INFRA_HEAD || p[0] != LISTDB_VERSION)
		return -1;
	*n = get_u16(p + 1);
	return len == LISTDB_INFRA_SIZE(*n) ? 0 : -1;
}

/* Fingerprint keys (also those of "infra").  LISTDB_FP_KEY_MAX covers
 * both forms. */
#define LISTDB_FP_KEY_MAX	(2 + DOMAIN_MAX)

static inline char
listdb_fp_letter(enum fp_kind k)
{
	static const char letter[FP_KIND_COUNT] = { 'm', 'n', 's', 'i' };

	return (unsigned)k < FP_KIND_COUNT ? letter[k] : '?';
}

/* The key of a host fingerprint: kind, exact or suffix, the name (len
 * bytes, at most DOMAIN_MAX).  Returns the key's length. */
static inline size_t
listdb_fp_host_key(unsigned char *key, enum fp_kind kind, int suffix,
    const char *host, size_t len)
{
	key[0] = (unsigned char)listdb_fp_letter(kind);
	key[1] = suffix ? '*' : '=';
	memcpy(key + 2, host, len);
	return 2 + len;
}

/* The kind of a key, from its letter; FP_KIND_COUNT for none. */
static inline enum fp_kind
listdb_fp_key_kind(const unsigned char *key)
{
	int k;

	for (k = 0; k < FP_KIND_COUNT; k++)
		if ((unsigned char)listdb_fp_letter((enum fp_kind)k) == key[0])
			break;
	return (enum fp_kind)k;
}

/* The host name of a host key (mx, ns, spf) into host, NUL-ended.
 * Returns 0, or -1 for a range key or a key no host fits in. */
static inline int
listdb_fp_key_host(const unsigned char *key, size_t klen,
    char host[DOMAIN_MAX + 1])
{
	enum fp_kind k = listdb_fp_key_kind(key);

	if (k == FP_IP || k == FP_KIND_COUNT || klen < 3 ||
	    klen - 2 > DOMAIN_MAX)
		return -1;
	memcpy(host, key + 2, klen - 2);
	host[klen - 2] = '\0';
	return 0;
}

/* A key as written in a list: "mx *.host", "ip 192.0.2.0/24".  Returns
 * buf. */
static inline const char *
listdb_fp_key_text(const unsigned char *key, size_t klen, char *buf,
    size_t len)
{
	char a[INET6_ADDRSTRLEN];
	enum fp_kind k = listdb_fp_key_kind(key);

	if (k == FP_IP) {
		if (inet_ntop(key[1] == '6' ? AF_INET6 : AF_INET, key + 3, a,
		    sizeof(a)) == NULL)
			a[0] = '\0';
		snprintf(buf, len, "ip %s/%u", a, key[2]);
	} else
		snprintf(buf, len, "%s %s%.*s", fp_kind_name(k),
		    key[1] == '*' ? "*." : "", (int)(klen - 2),
		    (const char *)key + 2);
	return buf;
}

/* The key of a range: the network bytes already masked to prefix. */
static inline size_t
listdb_fp_range_key(unsigned char *key, int v6, int prefix,
    const unsigned char *net)
{
	size_t nbytes = v6 ? 16 : 4;

	key[0] = (unsigned char)listdb_fp_letter(FP_IP);
	key[1] = v6 ? '6' : '4';
	key[2] = (unsigned char)prefix;
	memcpy(key + 3, net, nbytes);
	return 3 + nbytes;
}

/* The checksum trailer. */
#define LISTDB_TRAILER_MAGIC	"DMLDBSUM"
#define LISTDB_TRAILER_DIGEST	32
#define LISTDB_TRAILER_SIZE	(8 + 8 + LISTDB_TRAILER_DIGEST)
#define listdb_trailer_md()	EVP_sha256()

static inline void
listdb_trailer_pack(unsigned char *t, uint64_t covered,
    const unsigned char *digest)
{
	memcpy(t, LISTDB_TRAILER_MAGIC, 8);
	put_u64(t + 8, covered);
	memcpy(t + 16, digest, LISTDB_TRAILER_DIGEST);
}

/* 1 when t is a trailer (*covered and the digest filled), else 0. */
static inline int
listdb_trailer_unpack(const unsigned char *t, uint64_t *covered,
    unsigned char *digest)
{
	if (memcmp(t, LISTDB_TRAILER_MAGIC, 8) != 0)
		return 0;
	*covered = get_u64(t + 8);
	memcpy(digest, t + 16, LISTDB_TRAILER_DIGEST);
	return 1;
}

/* "source" values: u8 category, u8 tier, u8 kind, name NUL path NUL,
 * u32 entries. */
#define LISTDB_SOURCE_HEAD	3
#define LISTDB_SOURCE_SIZE(namelen, pathlen) \
	(LISTDB_SOURCE_HEAD + (namelen) + 1 + (pathlen) + 1 + 4)

#endif
