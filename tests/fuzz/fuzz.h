/*
 * fuzz.h - what the libFuzzer targets in tests/fuzz share.
 *
 * Each target is one fuzz_NAME.c with LLVMFuzzerTestOneInput (and, when
 * it needs set-up, LLVMFuzzerInitialize), built by configure
 * --enable-fuzzing and run for a bounded time by tests/fuzz/run.sh.
 * Beside "no crash, no leak, no undefined behaviour" every target checks
 * what its module's header promises about the results, with FUZZ_CHECK:
 * a broken promise prints the condition and aborts, which libFuzzer
 * reports as a crash and saves the input of.
 *
 * Targets that parse files write each input to one file, reused for the
 * whole run, in a private directory made once per process:
 *
 * fuzz_tmp_init() makes the directory (mkdtemp below $TMPDIR, else
 * /tmp) and removes it and everything in it at exit; fuzz_tmp_path()
 * names a file in it (the string lives as long as the process);
 * fuzz_write() replaces a file's content with exactly the input and
 * gives it the mode asked for; fuzz_cstr() is a NUL-terminated copy of
 * the input (free it).  All of them abort when the system refuses: a
 * target that cannot set up its input tests nothing, and must not pass.
 */
#ifndef DM_FUZZ_H
#define DM_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define FUZZ_CHECK(cond) do {						\
	if (!(cond))							\
		fuzz_broken(#cond, __FILE__, __LINE__);			\
} while (0)

void	fuzz_broken(const char *what, const char *file, int line)
	    __attribute__((noreturn));

void	fuzz_tmp_init(const char *name);
const char *fuzz_tmp_path(const char *file);
void	fuzz_write(const char *path, const uint8_t *data, size_t size,
	    mode_t mode);
char	*fuzz_cstr(const uint8_t *data, size_t size);

/* domain_init() with the system's public suffix list, or abort naming
 * the target: without it a target tests nothing. */
void	fuzz_domain_init(const char *name);

/* The entry points libFuzzer calls. */
int	LLVMFuzzerInitialize(int *argc, char ***argv);
int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
