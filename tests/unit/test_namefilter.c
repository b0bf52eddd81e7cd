/*
 * test_namefilter.c - the Bloom filter over names: no false negatives,
 * few false positives, and suffix hashes from one right-to-left pass
 * equal to the hashes of the suffixes themselves.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "namefilter.h"
#include "t.h"

#define N 100000

int
main(void)
{
	struct namefilter f;
	char name[64];
	size_t missed = 0, fp = 0;

	CHECK_INT(namefilter_init(&f, N), 0);
	for (size_t i = 0; i < N; i++) {
		snprintf(name, sizeof(name), "host%zu.example%zu.com", i, i % 97);
		namefilter_add(&f, namefilter_hash(name, strlen(name)));
	}
	for (size_t i = 0; i < N; i++) {
		snprintf(name, sizeof(name), "host%zu.example%zu.com", i, i % 97);
		missed += !namefilter_maybe(&f, namefilter_hash(name,
		    strlen(name)));
		snprintf(name, sizeof(name), "other%zu.example%zu.org", i,
		    i % 97);
		fp += namefilter_maybe(&f, namefilter_hash(name, strlen(name)));
	}
	CHECK_INT(missed, 0);
	/* 12 bits a key, 6 set in one block: about 1 %. */
	fprintf(stderr, "false positives: %zu of %d\n", fp, N);
	CHECK(fp < N / 50);
	namefilter_free(&f);
	CHECK(f.blocks == NULL);

	/* An empty filter says no to everything. */
	CHECK_INT(namefilter_init(&f, 0), 0);
	CHECK_INT(namefilter_maybe(&f, namefilter_hash("a.com", 5)), 0);
	namefilter_free(&f);

	/* The hash of each suffix, on the way from the right. */
	{
		const char *n = "mx.a.example.co.uk";
		size_t len = strlen(n), seen = 0;
		uint64_t h = NAMEFILTER_SEED;

		for (size_t i = len; i-- > 0; ) {
			h = namefilter_step(h, (unsigned char)n[i]);
			if (i == 0 || n[i - 1] == '.') {
				CHECK(namefilter_final(h) ==
				    namefilter_hash(n + i, len - i));
				seen++;
			}
		}
		CHECK_INT(seen, 5);
		CHECK(namefilter_hash("a.com", 5) !=
		    namefilter_hash("b.com", 5));
	}
	return T_DONE();
}
