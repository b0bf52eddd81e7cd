/*
 * namefilter.h - a Bloom filter over domain names, so that a lookup asks
 * the list database only for names it may hold.
 *
 * Most mail comes from domains on no list, and a lookup walks every
 * suffix of a name from the name itself to its registrable domain: each
 * step a B-tree search that finds nothing.  The filter answers "surely
 * not listed" for almost all of them from a few hundred kilobytes of
 * memory, with no false negatives: a name it says no to is not a key.
 *
 * Blocked Bloom filter (one 64-byte block per key, NAMEFILTER_K bits set
 * in it), NAMEFILTER_BITS bits per key: about 1 % false positives, each
 * costing the search it would have cost anyway.
 *
 * The hash runs over a name from its last byte to its first (FNV-1a,
 * 64-bit, then a final mix), so that one pass from the right end of a
 * name gives the hash of every suffix on the way: namefilter_step() per
 * byte, namefilter_final() where a suffix starts.  namefilter_hash() is
 * that pass over a whole name.
 *
 * Built once (namefilter_add), then only read: any number of threads may
 * share it.
 */
#ifndef DM_NAMEFILTER_H
#define DM_NAMEFILTER_H

#include <stddef.h>
#include <stdint.h>

#define NAMEFILTER_BITS	12	/* bits per key */
#define NAMEFILTER_K	6	/* bits set per key, in one block */

#define NAMEFILTER_SEED		UINT64_C(0xcbf29ce484222325)
#define NAMEFILTER_PRIME	UINT64_C(0x100000001b3)

struct namefilter {
	uint64_t	*blocks;	/* nblocks * 8 words */
	size_t		 nblocks;
};

/* An empty filter sized for nkeys keys.  Returns 0, or -1 (ENOMEM). */
int	namefilter_init(struct namefilter *f, size_t nkeys);
void	namefilter_free(struct namefilter *f);

static inline uint64_t
namefilter_step(uint64_t h, unsigned char c)
{
	return (h ^ c) * NAMEFILTER_PRIME;
}

/* The hash of the bytes stepped so far (murmur3's 64-bit finaliser). */
static inline uint64_t
namefilter_final(uint64_t h)
{
	h ^= h >> 33;
	h *= UINT64_C(0xff51afd7ed558ccd);
	h ^= h >> 33;
	h *= UINT64_C(0xc4ceb9fe1a85ec53);
	h ^= h >> 33;
	return h;
}

/* The hash of name[0..len). */
uint64_t namefilter_hash(const char *name, size_t len);

void	namefilter_add(struct namefilter *f, uint64_t h);

/* The block of hash h (its high 32 bits, scaled to nblocks), and the
 * bits in it (NAMEFILTER_K slices of 9 bits of h scrambled). */
static inline size_t
namefilter_block(const struct namefilter *f, uint64_t h)
{
	return 8 * (size_t)(((h >> 32) * (uint64_t)f->nblocks) >> 32);
}

static inline uint64_t
namefilter_bits(uint64_t h)
{
	return h * UINT64_C(0x9e3779b97f4a7c15);
}

/* 0: the key of hash h was surely never added; 1: it may have been. */
static inline int
namefilter_maybe(const struct namefilter *f, uint64_t h)
{
	const uint64_t *b = f->blocks + namefilter_block(f, h);
	uint64_t g = namefilter_bits(h);

	for (int i = 0; i < NAMEFILTER_K; i++, g >>= 9)
		if (!(b[(g >> 6) & 7] & (UINT64_C(1) << (g & 63))))
			return 0;
	return 1;
}

#endif
