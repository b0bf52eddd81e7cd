/*
 * namefilter.c - a Bloom filter over domain names (see namefilter.h).
 */
#include "config.h"

#include <stdlib.h>

#include "namefilter.h"

int
namefilter_init(struct namefilter *f, size_t nkeys)
{
	size_t bits = nkeys * NAMEFILTER_BITS;

	/* The block index is taken from 32 bits of the hash. */
	f->nblocks = bits / 512 + 1;
	if (nkeys > SIZE_MAX / NAMEFILTER_BITS || f->nblocks > UINT32_MAX) {
		f->blocks = NULL;
		return -1;
	}
	if ((f->blocks = calloc(f->nblocks, 64)) == NULL)
		return -1;
	return 0;
}

void
namefilter_free(struct namefilter *f)
{
	free(f->blocks);
	f->blocks = NULL;
	f->nblocks = 0;
}

uint64_t
namefilter_hash(const char *name, size_t len)
{
	uint64_t h = NAMEFILTER_SEED;

	while (len-- > 0)
		h = namefilter_step(h, (unsigned char)name[len]);
	return namefilter_final(h);
}

void
namefilter_add(struct namefilter *f, uint64_t h)
{
	uint64_t *b = f->blocks + namefilter_block(f, h);
	uint64_t g = namefilter_bits(h);

	for (int i = 0; i < NAMEFILTER_K; i++, g >>= 9)
		b[(g >> 6) & 7] |= UINT64_C(1) << (g & 63);
}
