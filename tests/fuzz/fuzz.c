/*
 * fuzz.c - what the libFuzzer targets share (see fuzz.h).
 */
#include "config.h"

#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "domain.h"
#include "fuzz.h"

static char tmpdir[PATH_MAX];

void
fuzz_broken(const char *what, const char *file, int line)
{
	fprintf(stderr, "%s:%d: broken promise: %s\n", file, line, what);
	abort();
}

static void
fail(const char *what)
{
	fprintf(stderr, "fuzz: %s: %s\n", what, strerror(errno));
	abort();
}

static void
tmp_remove(void)
{
	struct dirent *e;
	DIR *d;
	int fd;

	if (tmpdir[0] == '\0' || (d = opendir(tmpdir)) == NULL)
		return;
	fd = dirfd(d);
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			(void)unlinkat(fd, e->d_name, 0);
	closedir(d);
	(void)rmdir(tmpdir);
}

void
fuzz_tmp_init(const char *name)
{
	const char *t = getenv("TMPDIR");

	if (tmpdir[0] != '\0')
		return;
	if (t == NULL || *t == '\0')
		t = "/tmp";
	if ((size_t)snprintf(tmpdir, sizeof(tmpdir), "%s/dm-%s.XXXXXX", t,
	    name) >= sizeof(tmpdir)) {
		errno = ENAMETOOLONG;
		fail(t);
	}
	if (mkdtemp(tmpdir) == NULL)
		fail(tmpdir);
	atexit(tmp_remove);
}

const char *
fuzz_tmp_path(const char *file)
{
	char *p;

	if (tmpdir[0] == '\0') {
		errno = ENOENT;
		fail("fuzz_tmp_path before fuzz_tmp_init");
	}
	if ((p = malloc(strlen(tmpdir) + 1 + strlen(file) + 1)) == NULL)
		fail("malloc");
	sprintf(p, "%s/%s", tmpdir, file);
	return p;
}

void
fuzz_write(const char *path, const uint8_t *data, size_t size, mode_t mode)
{
	ssize_t n;
	int fd;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    mode)) == -1)
		fail(path);
	/* open() leaves the mode of an existing file alone. */
	if (fchmod(fd, mode) == -1)
		fail(path);
	while (size > 0) {
		if ((n = write(fd, data, size)) == -1) {
			if (errno == EINTR)
				continue;
			fail(path);
		}
		data += n;
		size -= (size_t)n;
	}
	if (close(fd) == -1)
		fail(path);
}

char *
fuzz_cstr(const uint8_t *data, size_t size)
{
	char *s;

	if ((s = malloc(size + 1)) == NULL)
		fail("malloc");
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

void
fuzz_domain_init(const char *name)
{
	char err[512];

	if (domain_init(NULL, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s: %s\n", name, err);
		abort();
	}
}
