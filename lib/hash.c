/*
 * hash.c - keyed hashes of mail addresses (see hash.h).
 *
 * hash_key_load() reads the key file: it must be a regular file with no
 * permission bits for group or others; blank lines and "#" comments are
 * skipped and the first other line is the key in hex, 64 to
 * 2 * HASH_KEY_MAX digits.  hash_key_generate() writes such a file with a
 * fresh key from the OpenSSL random generator, refusing to overwrite.
 *
 * hash_canonical() and hash_hex() keep no state and use only OpenSSL's
 * one-shot functions, so they are safe in any number of threads.
 *
 * Diagnostics name the key file and, for syntax, the line; they never
 * contain the key.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "hash.h"

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
			snprintf(err, errlen, "%s:%u: key is not hexadecimal "
			    "(column %zu)", path, lineno,
			    (size_t)(p - s) + 1);
			return -1;
		}
	if (ndig % 2 != 0) {
		snprintf(err, errlen, "%s:%u: key has an odd number of hex "
		    "digits (%zu)", path, lineno, ndig);
		return -1;
	}
	if (ndig < 2 * KEY_MIN) {
		snprintf(err, errlen, "%s:%u: key too short (%zu hex digits, "
		    "need at least %d)", path, lineno, ndig, 2 * KEY_MIN);
		return -1;
	}
	if (ndig > 2 * HASH_KEY_MAX) {
		snprintf(err, errlen, "%s:%u: key too long (%zu hex digits, "
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

int
hash_key_load(const char *path, struct hash_key *k, char *err, size_t errlen)
{
	char *text = NULL;
	struct stat st;
	size_t len = 0;
	ssize_t n;
	unsigned lineno = 0;
	int fd, rc = -1;

	/* O_NONBLOCK: a FIFO in place of the key must not hang us before
	 * fstat can refuse it. */
	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		goto out;
	}
	if ((st.st_mode & 077) != 0) {
		snprintf(err, errlen, "%s: readable or writable by group or "
		    "others (mode %04o); chmod 600 %s", path,
		    (unsigned)(st.st_mode & 07777), path);
		goto out;
	}
	if (st.st_size > KEYFILE_MAX) {
		snprintf(err, errlen, "%s: too large for a key file (%lld "
		    "bytes)", path, (long long)st.st_size);
		goto out;
	}
	/* Heap, not a static buffer (threads) nor the stack (small thread
	 * stacks); cleansed before it is freed since it holds the key. */
	if ((text = OPENSSL_malloc(KEYFILE_MAX + 1)) == NULL) {
		snprintf(err, errlen, "%s: out of memory", path);
		goto out;
	}
	for (;;) {
		n = read(fd, text + len, KEYFILE_MAX + 1 - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > KEYFILE_MAX) {
			snprintf(err, errlen, "%s: too large for a key file",
			    path);
			goto out;
		}
	}

	for (const char *p = text, *end = text + len; p < end; ) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *s = p, *e = eol != NULL ? eol : end;

		lineno++;
		p = eol != NULL ? eol + 1 : end;
		while (s < e && is_blank((unsigned char)*s))
			s++;
		while (e > s && is_blank((unsigned char)e[-1]))
			e--;
		if (s == e || *s == '#')
			continue;
		if (memchr(s, '\0', (size_t)(e - s)) != NULL) {
			snprintf(err, errlen, "%s:%u: NUL byte in key line",
			    path, lineno);
			goto out;
		}
		rc = parse_key_line(path, lineno, s, e, k, err, errlen);
		goto out;
	}
	snprintf(err, errlen, "%s: no key in file (expected a line of at "
	    "least %d hex digits)", path, 2 * KEY_MIN);
out:
	if (text != NULL) {
		OPENSSL_cleanse(text, KEYFILE_MAX + 1);
		OPENSSL_free(text);
	}
	close(fd);
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
		snprintf(err, errlen, "%s: no random bytes from OpenSSL", path);
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
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
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
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		close(fd);
		unlink(path);
		return -1;
	}
	if (close(fd) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
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

int
hash_hex(const struct hash_key *k, const char *canonical, char *hex)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	size_t len = strlen(canonical);

	hex[0] = '\0';
	if (k->mode == HASH_SHA256) {
		if (EVP_Digest(canonical, len, md, &mdlen, EVP_sha256(),
		    NULL) != 1)
			return -1;
	} else if (k->mode == HASH_HMAC) {
		if (k->keylen > HASH_KEY_MAX)
			return -1;
		/* One-shot HMAC() with our own output buffer keeps no
		 * shared state between threads. */
		if (HMAC(EVP_sha256(), k->key, (int)k->keylen,
		    (const unsigned char *)canonical, len, md, &mdlen) == NULL)
			return -1;
	} else
		return -1;
	if (mdlen * 2 != HASH_HEX_LEN)
		return -1;
	for (unsigned int i = 0; i < mdlen; i++) {
		hex[2 * i] = hexdigits[md[i] >> 4];
		hex[2 * i + 1] = hexdigits[md[i] & 0xf];
	}
	hex[HASH_HEX_LEN] = '\0';
	return 0;
}
