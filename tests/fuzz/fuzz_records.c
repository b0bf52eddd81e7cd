/*
 * fuzz_records.c - libFuzzer target for the records store's value
 * decoders, records_decode_record and records_decode_domain (records.h),
 * the code that reads every stored record and aggregate back: a value
 * written by another build, or damaged on disk, goes through them.
 *
 * Input: one byte whose low bit picks the table (0 rec, 1 dom), one byte
 * of key length (cut to what follows), the key, then the value.  Key and
 * value are copied to buffers of exactly their size, so that a read past
 * either end is AddressSanitizer's to see.
 *
 * Checks what records.h and the encoding in records.c promise: 0 or -1
 * only; on success a NUL-terminated domain of at most DOMAIN_MAX bytes;
 * a record only from a 33-byte key (key id and hash taken from it) and a
 * value of exactly 30 bytes plus the domain, version 1; an aggregate
 * named by its key (1 to DOMAIN_MAX bytes, no NUL), version 1; the same
 * answer twice; and the value with one more byte never decodes (the
 * lengths are exact).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "records.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

/* v and one more byte (0), exactly sized. */
static unsigned char *
longer(const unsigned char *v, size_t n)
{
	unsigned char *q;

	if ((q = malloc(n + 1)) == NULL)
		abort();
	memcpy(q, v, n);
	q[n] = 0;
	return q;
}

static void
check_record(const unsigned char *k, size_t kl, const unsigned char *v,
    size_t vl)
{
	struct record	 r, r2;
	unsigned char	*more;
	size_t		 n;
	int		 rc;

	rc = records_decode_record(k, kl, v, vl, &r);
	FUZZ_CHECK(rc == 0 || rc == -1);
	if (rc != 0)
		return;
	n = strnlen(r.domain, sizeof(r.domain));
	FUZZ_CHECK(n <= DOMAIN_MAX);
	FUZZ_CHECK(kl == 1 + HASH_LEN);
	FUZZ_CHECK(r.key_id == k[0]);
	FUZZ_CHECK(memcmp(r.hash, k + 1, HASH_LEN) == 0);
	FUZZ_CHECK(vl == 30 + n);
	FUZZ_CHECK(v[0] == 1);
	FUZZ_CHECK(memcmp(r.domain, v + 30, n) == 0);
	FUZZ_CHECK(r.first_seen >= 0 && r.last_seen >= 0);
	FUZZ_CHECK(records_decode_record(k, kl, v, vl, &r2) == 0);
	FUZZ_CHECK(memcmp(&r, &r2, sizeof(r)) == 0);
	more = longer(v, vl);
	FUZZ_CHECK(records_decode_record(k, kl, more, vl + 1, &r2) == -1);
	free(more);
}

static void
check_domain(const unsigned char *k, size_t kl, const unsigned char *v,
    size_t vl)
{
	struct domain_aggregate	 a, a2;
	unsigned char		*more;
	int			 rc;

	rc = records_decode_domain(k, kl, v, vl, &a);
	FUZZ_CHECK(rc == 0 || rc == -1);
	if (rc != 0)
		return;
	FUZZ_CHECK(kl >= 1 && kl <= DOMAIN_MAX);
	FUZZ_CHECK(memchr(k, '\0', kl) == NULL);
	FUZZ_CHECK(strnlen(a.domain, sizeof(a.domain)) == kl);
	FUZZ_CHECK(memcmp(a.domain, k, kl) == 0);
	FUZZ_CHECK(v[0] == 1);
	FUZZ_CHECK(vl == 35 + 8 * ((size_t)v[1] + v[2]));
	FUZZ_CHECK(a.first_seen >= 0 && a.last_seen >= 0);
	FUZZ_CHECK(records_decode_domain(k, kl, v, vl, &a2) == 0);
	FUZZ_CHECK(memcmp(&a, &a2, sizeof(a)) == 0);
	more = longer(v, vl);
	FUZZ_CHECK(records_decode_domain(k, kl, more, vl + 1, &a2) == -1);
	free(more);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char	*k, *v;
	size_t		 kl, vl;
	int		 dom;

	if (size < 2)
		return 0;
	dom = data[0] & 1;
	kl = data[1];
	if (kl > size - 2)
		kl = size - 2;
	vl = size - 2 - kl;
	if ((k = malloc(kl ? kl : 1)) == NULL ||
	    (v = malloc(vl ? vl : 1)) == NULL)
		abort();
	memcpy(k, data + 2, kl);
	memcpy(v, data + 2 + kl, vl);
	if (dom)
		check_domain(k, kl, v, vl);
	else
		check_record(k, kl, v, vl);
	free(k);
	free(v);
	return 0;
}
