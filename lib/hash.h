/*
 * hash.h - keyed hashes of mail addresses: what logs and records carry
 * instead of the address.
 *
 * The canonical form of an address: the domain normalised (A-label, lower
 * case) and the local part lower-cased with its subaddress tag removed (the
 * separator and what follows it, separator configurable, default '+';
 * '\0' disables).  "Foo+news@Example.COM" -> "foo@example.com".
 *
 * HASH_HMAC: HMAC-SHA-256 over the canonical form with a secret key read
 * from a key file; without the key the hash cannot be reversed by guessing
 * addresses.  HASH_SHA256: plain SHA-256 of the canonical form, for
 * interoperability with systems that share unsalted hashes; it is weaker:
 * anyone with a list of candidate addresses can reverse it by dictionary.
 *
 * The key file holds the key as at least 64 hex digits (32 bytes) on one
 * line, "#" comments allowed; it must not be readable or writable by group
 * or others.  Hashes are shown as 64 lower-case hex digits.
 */
#ifndef DM_HASH_H
#define DM_HASH_H

#include <stddef.h>
#include <stdint.h>

#define HASH_LEN 32		/* bytes of a hash: SHA-256 */
#define HASH_HEX_LEN 64		/* its text form, at the program's edges */
#define HASH_KEY_MAX 64		/* bytes of key */
#define HASH_CANON_MAX 600	/* bytes of a canonical address, NUL incl. */

enum hash_mode { HASH_HMAC = 0, HASH_SHA256 };

/* A SHA-256 state (hash.c's SHA256_CTX, which fits in it). */
union hash_state {
	unsigned char	b[128];
	uint64_t	align;
};

struct hash_key {
	enum hash_mode	mode;
	unsigned char	id;		/* its id in the key file (0..255);
					   every hash says which key made it */
	unsigned char	key[HASH_KEY_MAX];
	size_t		keylen;
	/* HASH_HMAC: the SHA-256 states after key^ipad and key^opad,
	 * computed once by hash_key_prepare().  They are worth as much as
	 * the key and live where it lives (the daemon keeps its key in
	 * pages out of core dumps); cleared with it. */
	int		prepared;
	union hash_state ipad, opad;
};

/* Compute k's HMAC states (hash_key_load and hash_keyring_load do it for
 * every key they read; call it again after changing k->key).  hash_bin()
 * of an unprepared key still works, at the cost of a key setup per call.
 * Returns 0, or -1 for a key longer than HASH_KEY_MAX. */
int	hash_key_prepare(struct hash_key *k);

/* Read a key file (its newest key).  Returns 0, or -1 with a reason (naming the file and
 * line) in err: unreadable, readable by group/others, no key, short key. */
int	hash_key_load(const char *path, struct hash_key *k, char *err,
	    size_t errlen);

/*
 * Key rotation.  A key file may hold several keys, one per line as
 * "ID HEX" with ID 0..255 (a line of bare HEX is key 0, the form genkey
 * wrote first); the last key line is the newest.  New hashes use the
 * newest key; a lookup of one person's records tries every key; records
 * made under a retired key simply age out.
 */
#define HASH_MAX_KEYS 16

struct hash_keyring {
	size_t		n;			/* keys; k[n - 1] newest */
	struct hash_key	k[HASH_MAX_KEYS];
};

/* Read every key of a key file (same checks as hash_key_load; duplicate
 * ids are refused with file:line).  Returns 0 or -1 with err. */
int	hash_keyring_load(const char *path, struct hash_keyring *r,
	    char *err, size_t errlen);

/* Append a new random key with id = highest + 1 to an existing key file
 * (keeping its mode 0600).  Returns 0 or -1 with err. */
int	hash_key_rotate(const char *path, char *err, size_t errlen);

/* Create a new key file with a fresh random key, mode 0600, refusing to
 * overwrite an existing file.  Returns 0 or -1 with err. */
int	hash_key_generate(const char *path, char *err, size_t errlen);

/* Build the canonical form of local@ascii_domain (domain already
 * normalised) into out (HASH_CANON_MAX bytes).  Returns 0, or -1 if it
 * does not fit.  Callers go through identity.h, which decides what the
 * domain part is. */
int	hash_canonical(const char *local, const char *ascii_domain, char sep,
	    char *out);

/* Hash a canonical address into out (HASH_LEN bytes).  Returns 0 or -1
 * (OpenSSL failure, unknown mode). */
int	hash_bin(const struct hash_key *k, const char *canonical,
	    unsigned char out[HASH_LEN]);

/* The text form: 64 lower-case hex digits and a NUL, and back (upper
 * case accepted; anything but exactly 64 hex digits is -1). */
void	hash_to_hex(const unsigned char bin[HASH_LEN],
	    char hex[HASH_HEX_LEN + 1]);
int	hash_from_hex(const char *hex, unsigned char bin[HASH_LEN]);


#endif
