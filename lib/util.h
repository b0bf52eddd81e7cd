/*
 * util.h - the small things several lib modules need alike.
 *
 * seterr() formats a diagnostic into a caller's err/errlen buffer (both
 * may be NULL/0: then nothing is written), the convention of every lib
 * function that "returns -1 with the reason in err".
 *
 * util_check_dir_of() tells, before a daemon detaches, whether it will be
 * able to create a file (a socket, a metrics file, a store) beside a path.
 *
 * util_write_temp() and util_sync_dir() are the two halves of replacing
 * a file atomically: the new text in a synced temporary file beside the
 * old one, rename() by the caller (when it is ready: a caller may stage
 * several files and rename them together), then the directory synced so
 * that the rename itself survives a crash.
 *
 * util_copy() copies a string into a buffer, cut to fit, and
 * util_mono_us() reads the monotonic clock: both without formatting or
 * allocation, for the paths that run for every message.
 *
 * le_get/le_put read and write little-endian integers of the on-disk
 * formats (list database, records store), whatever the host's order.
 */
#ifndef DM_UTIL_H
#define DM_UTIL_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

void	seterr(char *err, size_t errlen, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));

/* Write len bytes of data into a new file "path.XXXXXX" beside path,
 * with the given mode, and fsync it.  Returns 0 with the file's name in
 * *tmp (malloc'd: the caller renames or unlinks it, then frees it), or -1
 * with the reason (naming path or the temporary file) in err and nothing
 * left behind. */
int	util_write_temp(const char *path, const void *data, size_t len,
	    mode_t mode, char **tmp, char *err, size_t errlen);

/* The directory that holds path ("." for a bare name) into dir.
 * Returns 0, or -1 when it does not fit. */
int	util_dir_of(const char *path, char *dir, size_t len);

/* Whether this process may create a file beside path: the directory that
 * holds it exists, is a directory, and is writable and searchable for the
 * real user (access(2): call it after the privilege drop, or as the user
 * to check for).  Returns 0, or -1 with "directory DIR: reason" in err. */
int	util_check_dir_of(const char *path, char *err, size_t errlen);

/* fsync the directory that holds path, so that a rename into it is
 * durable.  A failure loses only that guarantee and is not reported. */
void	util_sync_dir(const char *path);

/* At most len - 1 bytes of src into dst, always terminated (len > 0). */
static inline void
util_copy(char *dst, size_t len, const char *src)
{
	size_t n = strnlen(src, len - 1);

	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* CLOCK_MONOTONIC in microseconds: a clock step never moves it. */
static inline int64_t
util_mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* The same in milliseconds. */
static inline int64_t
util_mono_ms(void)
{
	return util_mono_us() / 1000;
}

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
