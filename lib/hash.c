/*
 * hash.c - keyed hashes of mail addresses (see hash.h).
 *
 * hash_keyring_load() reads the key file: it must be a regular file with
 * no permission bits for group or others; blank lines and "#" comments
 * are skipped and every other line is a key, "ID HEX" or bare HEX (id 0),
 * 64 to 2 * HASH_KEY_MAX digits; ids are unique.  hash_key_load() keeps
 * the last key, the newest.  hash_key_generate() writes a new file with a
 * fresh key from the OpenSSL random generator, refusing to overwrite;
 * hash_key_rotate() appends a key by writing the whole file anew beside
 * the old one and renaming it into place, so that a crash never leaves a
 * half-written key file.
 *
 * hash_bin() computes HMAC-SHA-256 from the key's inner and outer SHA-256
 * states, computed once per key (hash_key_prepare): per address that is
 * two copies of a state and three compressions, with no allocation, no
 * algorithm fetch and no key setup (OpenSSL 3's one-shot HMAC() does all
 * three on every call, at a sixth of the speed).  The states are
 * OpenSSL's SHA256_CTX, a plain struct kept inside struct hash_key: it
 * is copied without allocation and lives wherever the key lives, which
 * an EVP_MD_CTX (allocated by OpenSSL) cannot.  SHA256_Init/Update/Final
 * are deprecated in OpenSSL 3.0, though kept in every 3.x release;
 * should they go, the way is EVP_MD_CTX_copy_ex from two primed
 * contexts, one set per thread.
 *
 * hash_canonical() and hash_bin() write nothing shared (hash_bin reads
 * the key's states and copies them onto its stack), so they are safe in
 * any number of threads.
 *
 * Diagnostics name the key file and, for syntax, the line; they never
 * contain the key.
 */
#include "config.h"

/* SHA256_CTX and its functions: see the top of this file. */
#define OPENSSL_SUPPRESS_DEPRECATED

#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "hash.h"
#include "util.h"

#define KEYFILE_MAX	65536	/* a key file is a few lines; refuse more */
#define KEY_MIN		32	/* bytes of key hash_key_load() requires */
#define KEY_GEN		32	/* bytes of key hash_key_generate() writes */

static const char hexdigits[] = "0123456789abcdef";

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int
is_blank(int c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/* Parse the key line [s, e) (already trimmed) into k.  Returns 0 or -1
 * with err. */
static int
parse_key_line(const char *path, unsigned lineno, const char *s,
    const char *e, struct hash_key *k, char *err, size_t errlen)
{
	size_t ndig = (size_t)(e - s);

	for (const char *p = s; p < e; p++)
		if (hexval((unsigned char)*p) < 0) {
			seterr(err, errlen, "%s:%u: key is not hexadecimal "
			    "(column %zu)", path, lineno,
			    (size_t)(p - s) + 1);
			return -1;
		}
	if (ndig % 2 != 0) {
		seterr(err, errlen, "%s:%u: key has an odd number of hex "
		    "digits (%zu)", path, lineno, ndig);
		return -1;
	}
	if (ndig < 2 * KEY_MIN) {
		seterr(err, errlen, "%s:%u: key too short (%zu hex digits, "
		    "need at least %d)", path, lineno, ndig, 2 * KEY_MIN);
		return -1;
	}
	if (ndig > 2 * HASH_KEY_MAX) {
		seterr(err, errlen, "%s:%u: key too long (%zu hex digits, "
		    "at most %d)", path, lineno, ndig, 2 * HASH_KEY_MAX);
		return -1;
	}
	memset(k, 0, sizeof(*k));
	for (size_t i = 0; i < ndig / 2; i++)
		k->key[i] = (unsigned char)(hexval((unsigned char)s[2 * i]) << 4 |
		    hexval((unsigned char)s[2 * i + 1]));
	k->keylen = ndig / 2;
	k->mode = HASH_HMAC;
	return 0;
}

/* Read the whole key file at path into *textp (OPENSSL_malloc'd, the
 * caller cleanses and frees it), after the checks every key file passes:
 * a regular file, no group or other permission bits, not too large.
 * Returns 0 or -1 with err. */
static int
keyfile_read(const char *path, char **textp, size_t *lenp, struct stat *st,
    char *err, size_t errlen)
{
	char *text = NULL;
	size_t len = 0;
	ssize_t n;
	int fd;

	*textp = NULL;
	*lenp = 0;
	/* O_NONBLOCK: a FIFO in place of the key must not hang us before
	 * fstat can refuse it. */
	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd == -1) {
		seterr(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, st) == -1) {
		seterr(err, errlen, "%s: %s", path, strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st->st_mode)) {
		seterr(err, errlen, "%s: not a regular file", path);
		goto fail;
	}
	if ((st->st_mode & 077) != 0) {
		seterr(err, errlen, "%s: readable or writable by group or "
		    "others (mode %04o); chmod 600 %s", path,
		    (unsigned)(st->st_mode & 07777), path);
		goto fail;
	}
	if (st->st_size > KEYFILE_MAX) {
		seterr(err, errlen, "%s: too large for a key file (%lld "
		    "bytes)", path, (long long)st->st_size);
		goto fail;
	}
	/* Heap, not a static buffer (threads) nor the stack (small thread
	 * stacks); cleansed before it is freed since it holds the key. */
	if ((text = OPENSSL_malloc(KEYFILE_MAX + 1)) == NULL) {
		seterr(err, errlen, "%s: out of memory", path);
		goto fail;
	}
	for (;;) {
		n = read(fd, text + len, KEYFILE_MAX + 1 - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			seterr(err, errlen, "%s: %s", path, strerror(errno));
			goto fail;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > KEYFILE_MAX) {
			seterr(err, errlen, "%s: too large for a key file",
			    path);
			goto fail;
		}
	}
	close(fd);
	*textp = text;
	*lenp = len;
	return 0;
fail:
	if (text != NULL) {
		OPENSSL_cleanse(text, KEYFILE_MAX + 1);
		OPENSSL_free(text);
	}
	close(fd);
	return -1;
}

static void
keyfile_free(char *text)
{
	if (text != NULL) {
		OPENSSL_cleanse(text, KEYFILE_MAX + 1);
		OPENSSL_free(text);
	}
}

/* Parse every key line of text into r.  A line is "ID HEX" when its first
 * word is one to three decimal digits, else bare HEX (key id 0): a key of
 * 64 or more digits can never be taken for an id.  Returns 0 or -1 with
 * err. */
static int
keyring_parse(const char *path, const char *text, size_t len,
    struct hash_keyring *r, char *err, size_t errlen)
{
	struct hash_key k;
	unsigned lineno = 0, idline[256];

	memset(r, 0, sizeof(*r));
	memset(idline, 0, sizeof(idline));
	for (const char *p = text, *end = text + len; p < end; ) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *s = p, *e = eol != NULL ? eol : end, *w;
		unsigned id = 0;

		lineno++;
		p = eol != NULL ? eol + 1 : end;
		while (s < e && is_blank((unsigned char)*s))
			s++;
		while (e > s && is_blank((unsigned char)e[-1]))
			e--;
		if (s == e || *s == '#')
			continue;
		if (memchr(s, '\0', (size_t)(e - s)) != NULL) {
			seterr(err, errlen, "%s:%u: NUL byte in key line",
			    path, lineno);
			goto fail;
		}
		for (w = s; w < e && *w >= '0' && *w <= '9'; w++)
			id = id * 10 + (unsigned)(*w - '0');
		if (w > s && w - s <= 3 && w < e &&
		    is_blank((unsigned char)*w)) {
			if (id > 255) {
				seterr(err, errlen, "%s:%u: key id %u out "
				    "of range (0 to 255)", path, lineno, id);
				goto fail;
			}
			s = w;
			while (s < e && is_blank((unsigned char)*s))
				s++;
		} else
			id = 0;
		if (parse_key_line(path, lineno, s, e, &k, err, errlen) != 0)
			goto fail;
		if (idline[id] != 0) {
			seterr(err, errlen, "%s:%u: duplicate key id %u "
			    "(first on line %u)", path, lineno, id,
			    idline[id]);
			goto fail;
		}
		if (r->n == HASH_MAX_KEYS) {
			seterr(err, errlen, "%s:%u: more than %d keys",
			    path, lineno, HASH_MAX_KEYS);
			goto fail;
		}
		k.id = (unsigned char)id;
		if (hash_key_prepare(&k) != 0) {
			seterr(err, errlen, "%s:%u: cannot prepare the key",
			    path, lineno);
			goto fail;
		}
		r->k[r->n++] = k;
		idline[id] = lineno;
	}
	if (r->n == 0) {
		seterr(err, errlen, "%s: no key in file (expected a line of "
		    "at least %d hex digits)", path, 2 * KEY_MIN);
		return -1;
	}
	OPENSSL_cleanse(&k, sizeof(k));
	return 0;
fail:
	OPENSSL_cleanse(&k, sizeof(k));
	OPENSSL_cleanse(r, sizeof(*r));
	return -1;
}

int
hash_keyring_load(const char *path, struct hash_keyring *r, char *err,
    size_t errlen)
{
	struct stat st;
	char *text;
	size_t len;
	int rc;

	memset(r, 0, sizeof(*r));
	if (keyfile_read(path, &text, &len, &st, err, errlen) != 0)
		return -1;
	rc = keyring_parse(path, text, len, r, err, errlen);
	keyfile_free(text);
	return rc;
}

int
hash_key_load(const char *path, struct hash_key *k, char *err, size_t errlen)
{
	struct hash_keyring *r;
	int rc;

	/* Heap: a keyring is over a kilobyte and this may run on a small
	 * thread stack (reload). */
	if ((r = OPENSSL_malloc(sizeof(*r))) == NULL) {
		seterr(err, errlen, "%s: out of memory", path);
		return -1;
	}
	rc = hash_keyring_load(path, r, err, errlen);
	if (rc == 0)
		*k = r->k[r->n - 1];
	OPENSSL_cleanse(r, sizeof(*r));
	OPENSSL_free(r);
	return rc;
}

/* Write all of buf to fd.  Returns 0 or -1 (errno set). */
static int
write_all(int fd, const char *buf, size_t len)
{
	ssize_t n;

	while (len > 0) {
		n = write(fd, buf, len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

int
hash_key_rotate(const char *path, char *err, size_t errlen)
{
	struct hash_keyring *r = NULL;
	unsigned char key[KEY_GEN];
	char line[4 + 2 * KEY_GEN + 2], *tmp = NULL, *text = NULL;
	struct stat st, lst;
	size_t len, llen;
	unsigned newid = 0;
	int fd = -1, rc = -1;

	/* rename() would replace a symlink, not the key it points to. */
	if (lstat(path, &lst) == 0 && S_ISLNK(lst.st_mode)) {
		seterr(err, errlen, "%s: a symbolic link; rotate the file it "
		    "points to", path);
		return -1;
	}
	if ((r = OPENSSL_malloc(sizeof(*r))) == NULL) {
		seterr(err, errlen, "%s: out of memory", path);
		return -1;
	}
	/* Parse before appending: a key file we could not read back must
	 * not grow a key nobody will use. */
	if (keyfile_read(path, &text, &len, &st, err, errlen) != 0 ||
	    keyring_parse(path, text, len, r, err, errlen) != 0)
		goto out;
	for (size_t i = 0; i < r->n; i++)
		if (r->k[i].id >= newid)
			newid = r->k[i].id + 1u;
	if (newid > 255) {
		seterr(err, errlen, "%s: key id 255 is taken; no higher id "
		    "is possible (start a new key file)", path);
		goto out;
	}
	if (r->n >= HASH_MAX_KEYS) {
		seterr(err, errlen, "%s: already %d keys, the most a key "
		    "file may hold; remove retired keys first", path,
		    HASH_MAX_KEYS);
		goto out;
	}
	if (RAND_bytes(key, sizeof(key)) != 1) {
		seterr(err, errlen, "%s: no random bytes from OpenSSL", path);
		goto out;
	}
	llen = (size_t)snprintf(line, sizeof(line), "%u ", newid);
	for (size_t i = 0; i < sizeof(key); i++) {
		line[llen++] = hexdigits[key[i] >> 4];
		line[llen++] = hexdigits[key[i] & 0xf];
	}
	line[llen++] = '\n';
	OPENSSL_cleanse(key, sizeof(key));

	/* The new file beside the old one, so that rename() is atomic:
	 * a crash leaves either the old keys or the old keys plus one. */
	if ((tmp = malloc(strlen(path) + sizeof(".XXXXXX"))) == NULL) {
		seterr(err, errlen, "%s: out of memory", path);
		goto out;
	}
	strcpy(tmp, path);
	strcat(tmp, ".XXXXXX");
	if ((fd = mkstemp(tmp)) == -1) {
		seterr(err, errlen, "%s: cannot create a temporary file "
		    "beside it: %s", path, strerror(errno));
		goto out;
	}
	/* The daemon reads the key as its own user: keep owner and mode. */
	if ((st.st_uid != geteuid() || st.st_gid != getegid()) &&
	    fchown(fd, st.st_uid, st.st_gid) == -1) {
		seterr(err, errlen, "%s: cannot keep the owner of the key "
		    "file: %s", path, strerror(errno));
		goto out;
	}
	if (fchmod(fd, st.st_mode & 0700) == -1 ||
	    write_all(fd, text, len) == -1 ||
	    (len > 0 && text[len - 1] != '\n' && write_all(fd, "\n", 1) == -1) ||
	    write_all(fd, line, llen) == -1 || fsync(fd) == -1) {
		seterr(err, errlen, "%s: %s", tmp, strerror(errno));
		goto out;
	}
	if (close(fd) == -1) {
		fd = -1;
		seterr(err, errlen, "%s: %s", tmp, strerror(errno));
		goto out;
	}
	fd = -1;
	if (rename(tmp, path) == -1) {
		seterr(err, errlen, "%s: %s", path, strerror(errno));
		goto out;
	}
	free(tmp);
	tmp = NULL;
	/* The rename itself must reach the disk too. */
	util_sync_dir(path);
	rc = 0;
out:
	OPENSSL_cleanse(line, sizeof(line));
	if (fd != -1)
		close(fd);
	if (tmp != NULL) {
		unlink(tmp);
		free(tmp);
	}
	keyfile_free(text);
	OPENSSL_cleanse(r, sizeof(*r));
	OPENSSL_free(r);
	return rc;
}

int
hash_key_generate(const char *path, char *err, size_t errlen)
{
	static const char head[] =
	    "# disposable-milter hash key: HMAC-SHA-256 key for the address "
	    "hashes in the logs.\n"
	    "# Keep it secret (mode 0600); replacing it changes every hash.\n";
	unsigned char key[KEY_GEN];
	char text[sizeof(head) - 1 + 2 * KEY_GEN + 1];
	size_t len = 0, off = 0;
	ssize_t n;
	int fd;

	if (RAND_bytes(key, sizeof(key)) != 1) {
		seterr(err, errlen, "%s: no random bytes from OpenSSL", path);
		return -1;
	}
	memcpy(text, head, sizeof(head) - 1);
	len = sizeof(head) - 1;
	for (size_t i = 0; i < sizeof(key); i++) {
		text[len++] = hexdigits[key[i] >> 4];
		text[len++] = hexdigits[key[i] & 0xf];
	}
	text[len++] = '\n';
	OPENSSL_cleanse(key, sizeof(key));

	/* O_EXCL: never overwrite a key (every hash would change), and no
	 * symlink is followed. */
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOCTTY,
	    0600);
	if (fd == -1) {
		seterr(err, errlen, "%s: %s", path, strerror(errno));
		OPENSSL_cleanse(text, sizeof(text));
		return -1;
	}
	while (off < len) {
		n = write(fd, text + off, len - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			break;
		off += (size_t)n;
	}
	OPENSSL_cleanse(text, sizeof(text));
	if (off < len || fsync(fd) == -1) {
		seterr(err, errlen, "%s: %s", path, strerror(errno));
		close(fd);
		unlink(path);
		return -1;
	}
	if (close(fd) == -1) {
		seterr(err, errlen, "%s: %s", path, strerror(errno));
		unlink(path);
		return -1;
	}
	return 0;
}

int
hash_canonical(const char *local, const char *ascii_domain, char sep,
    char *out)
{
	size_t llen = strlen(local), dlen = strlen(ascii_domain);
	const char *tag;

	/* "+foo@x" keeps its local part: stripping would leave nothing, and
	 * distinct mailboxes must not all hash like the empty one. */
	if (sep != '\0' && (tag = memchr(local, sep, llen)) != NULL &&
	    tag != local)
		llen = (size_t)(tag - local);
	if (llen + 1 + dlen + 1 > HASH_CANON_MAX)
		return -1;
	/* ASCII only: UTF-8 local parts (RFC 6531) are kept byte for byte,
	 * since their case folding is the receiving system's business. */
	for (size_t i = 0; i < llen; i++) {
		char c = local[i];

		out[i] = c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
	}
	out[llen] = '@';
	memcpy(out + llen + 1, ascii_domain, dlen + 1);
	return 0;
}

_Static_assert(sizeof(SHA256_CTX) <= sizeof(union hash_state),
    "union hash_state is too small for SHA256_CTX");

/* The SHA-256 states after one block of key^ipad and of key^opad. */
static int
hmac_states(const struct hash_key *k, SHA256_CTX *in, SHA256_CTX *out)
{
	unsigned char ipad[SHA256_CBLOCK], opad[SHA256_CBLOCK];
	unsigned char kh[SHA256_DIGEST_LENGTH];
	const unsigned char *key = k->key;
	size_t len = k->keylen;
	int ok;

	if (len > HASH_KEY_MAX)
		return -1;
	/* RFC 2104: a key longer than the block is hashed first. */
	if (len > SHA256_CBLOCK) {
		SHA256(key, len, kh);
		key = kh;
		len = sizeof(kh);
	}
	memset(ipad, 0x36, sizeof(ipad));
	memset(opad, 0x5c, sizeof(opad));
	for (size_t i = 0; i < len; i++) {
		ipad[i] ^= key[i];
		opad[i] ^= key[i];
	}
	ok = SHA256_Init(in) && SHA256_Update(in, ipad, sizeof(ipad)) &&
	    SHA256_Init(out) && SHA256_Update(out, opad, sizeof(opad));
	OPENSSL_cleanse(ipad, sizeof(ipad));
	OPENSSL_cleanse(opad, sizeof(opad));
	OPENSSL_cleanse(kh, sizeof(kh));
	return ok ? 0 : -1;
}

int
hash_key_prepare(struct hash_key *k)
{
	SHA256_CTX in, out;

	k->prepared = 0;
	OPENSSL_cleanse(&k->ipad, sizeof(k->ipad));
	OPENSSL_cleanse(&k->opad, sizeof(k->opad));
	if (k->mode != HASH_HMAC)
		return 0;
	if (hmac_states(k, &in, &out) != 0)
		return -1;
	memcpy(k->ipad.b, &in, sizeof(in));
	memcpy(k->opad.b, &out, sizeof(out));
	k->prepared = 1;
	OPENSSL_cleanse(&in, sizeof(in));
	OPENSSL_cleanse(&out, sizeof(out));
	return 0;
}

int
hash_bin(const struct hash_key *k, const char *canonical,
    unsigned char out[HASH_LEN])
{
	SHA256_CTX c, o;
	unsigned char inner[SHA256_DIGEST_LENGTH];
	size_t len = strlen(canonical);
	int ok;

	if (k->mode == HASH_SHA256)
		return SHA256((const unsigned char *)canonical, len, out) !=
		    NULL ? 0 : -1;
	if (k->mode != HASH_HMAC)
		return -1;
	if (k->prepared) {
		memcpy(&c, k->ipad.b, sizeof(c));
		memcpy(&o, k->opad.b, sizeof(o));
	} else if (hmac_states(k, &c, &o) != 0)
		return -1;
	ok = SHA256_Update(&c, canonical, len) && SHA256_Final(inner, &c) &&
	    SHA256_Update(&o, inner, sizeof(inner)) && SHA256_Final(out, &o);
	/* The address's inner hash, and what is left of the key's states. */
	OPENSSL_cleanse(inner, sizeof(inner));
	OPENSSL_cleanse(&c, sizeof(c));
	OPENSSL_cleanse(&o, sizeof(o));
	return ok ? 0 : -1;
}

void
hash_to_hex(const unsigned char bin[HASH_LEN], char hex[HASH_HEX_LEN + 1])
{
	for (size_t i = 0; i < HASH_LEN; i++) {
		hex[2 * i] = hexdigits[bin[i] >> 4];
		hex[2 * i + 1] = hexdigits[bin[i] & 0xf];
	}
	hex[HASH_HEX_LEN] = '\0';
}

int
hash_from_hex(const char *hex, unsigned char bin[HASH_LEN])
{
	unsigned char buf[HASH_LEN];

	/* bin is left as it was unless the whole text is good. */
	if (hex == NULL || strlen(hex) != HASH_HEX_LEN)
		return -1;
	for (size_t i = 0; i < HASH_LEN; i++) {
		int hi = hexval((unsigned char)hex[2 * i]);
		int lo = hexval((unsigned char)hex[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -1;
		buf[i] = (unsigned char)(hi << 4 | lo);
	}
	memcpy(bin, buf, HASH_LEN);
	return 0;
}
