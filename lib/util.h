/*
 * util.h - the small things several lib modules need alike.
 *
 * seterr() formats a diagnostic into a caller's err/errlen buffer (both
 * may be NULL/0: then nothing is written), the convention of every lib
 * function that "returns -1 with the reason in err".
 *
 * le_get/le_put read and write little-endian integers of the on-disk
 * formats (list database, records store), whatever the host's order.
 */
#ifndef DM_UTIL_H
#define DM_UTIL_H

#include <stddef.h>
#include <stdint.h>

void	seterr(char *err, size_t errlen, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));

static inline uint64_t
le_get(const unsigned char *p, int bytes)
{
	uint64_t v = 0;

	for (int i = bytes - 1; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static inline void
le_put(unsigned char *p, uint64_t v, int bytes)
{
	for (int i = 0; i < bytes; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static inline unsigned get_u16(const unsigned char *p)
{ return (unsigned)le_get(p, 2); }
static inline uint32_t get_u32(const unsigned char *p)
{ return (uint32_t)le_get(p, 4); }
static inline uint64_t get_u64(const unsigned char *p)
{ return le_get(p, 8); }
static inline void put_u16(unsigned char *p, unsigned v)
{ le_put(p, v, 2); }
static inline void put_u32(unsigned char *p, uint32_t v)
{ le_put(p, v, 4); }
static inline void put_u64(unsigned char *p, uint64_t v)
{ le_put(p, v, 8); }

#endif
