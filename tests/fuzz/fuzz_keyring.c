/*
 * fuzz_keyring.c - libFuzzer target for the key file reader,
 * hash_keyring_load and hash_key_load (hash.h), on a file of mode 0600
 * holding the input.
 *
 * Checks what hash.h promises: 0 or -1 only; on success 1 to
 * HASH_MAX_KEYS keys, distinct ids, each key 32 to HASH_KEY_MAX bytes in
 * HMAC mode, and hash_key_load giving the newest (the last); on failure
 * a reason naming the file, and no key material in it (no run of 16 hex
 * digits), the same failure from hash_key_load.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "hash.h"

static const char *keyfile;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_tmp_init("fuzz_keyring");
	keyfile = fuzz_tmp_path("hash.key");
	return 0;
}

static int
is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
	    (c >= 'A' && c <= 'F');
}

/* A reason naming the file and, past its name, never the key: no long
 * run of hex digits. */
static void
check_err(const char *err, size_t errlen)
{
	size_t run = 0;

	FUZZ_CHECK(memchr(err, '\0', errlen) != NULL);
	FUZZ_CHECK(strncmp(err, keyfile, strlen(keyfile)) == 0);
	for (const char *p = err + strlen(keyfile); *p != '\0'; p++) {
		run = is_hex(*p) ? run + 1 : 0;
		FUZZ_CHECK(run < 16);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hash_keyring *r;
	struct hash_key k;
	char err[512], err2[512];
	int rc, rc2;

	fuzz_write(keyfile, data, size, 0600);
	if ((r = malloc(sizeof(*r))) == NULL)
		abort();
	memset(err, 0, sizeof(err));
	rc = hash_keyring_load(keyfile, r, err, sizeof(err));
	memset(err2, 0, sizeof(err2));
	rc2 = hash_key_load(keyfile, &k, err2, sizeof(err2));
	FUZZ_CHECK(rc2 == rc);
	if (rc == 0) {
		FUZZ_CHECK(r->n >= 1 && r->n <= HASH_MAX_KEYS);
		for (size_t i = 0; i < r->n; i++) {
			FUZZ_CHECK(r->k[i].mode == HASH_HMAC);
			FUZZ_CHECK(r->k[i].keylen >= 32 &&
			    r->k[i].keylen <= HASH_KEY_MAX);
			for (size_t j = 0; j < i; j++)
				FUZZ_CHECK(r->k[j].id != r->k[i].id);
		}
		FUZZ_CHECK(k.mode == r->k[r->n - 1].mode);
		FUZZ_CHECK(k.id == r->k[r->n - 1].id);
		FUZZ_CHECK(k.keylen == r->k[r->n - 1].keylen);
		FUZZ_CHECK(memcmp(k.key, r->k[r->n - 1].key, k.keylen) == 0);
	} else {
		FUZZ_CHECK(rc == -1);
		check_err(err, sizeof(err));
		FUZZ_CHECK(strcmp(err, err2) == 0);
	}
	free(r);
	return 0;
}
