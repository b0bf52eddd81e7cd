/*
 * util.c - see util.h.
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

void
seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

int
util_write_temp(const char *path, const void *data, size_t len, mode_t mode,
    char **tmp, char *err, size_t errlen)
{
	const char *p = data;
	char *name;
	ssize_t n;
	int fd;

	*tmp = NULL;
	if ((name = malloc(strlen(path) + sizeof(".XXXXXX"))) == NULL) {
		seterr(err, errlen, "%s: out of memory", path);
		return -1;
	}
	strcpy(name, path);
	strcat(name, ".XXXXXX");
	if ((fd = mkostemp(name, O_CLOEXEC)) == -1) {
		seterr(err, errlen, "%s: cannot create a temporary file "
		    "beside it: %s", path, strerror(errno));
		free(name);
		return -1;
	}
	if (fchmod(fd, mode) == -1)
		goto fail;
	while (len > 0) {
		n = write(fd, p, len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			goto fail;
		p += n;
		len -= (size_t)n;
	}
	if (fsync(fd) == -1)
		goto fail;
	if (close(fd) == -1) {
		fd = -1;
		goto fail;
	}
	*tmp = name;
	return 0;
fail:
	seterr(err, errlen, "%s: %s", name, strerror(errno));
	if (fd != -1)
		close(fd);
	unlink(name);
	free(name);
	return -1;
}

void
util_sync_dir(const char *path)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	int fd;

	if (slash == NULL)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == path)
		snprintf(dir, sizeof(dir), "/");
	else if ((size_t)(slash - path) < sizeof(dir))
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	else
		return;
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		(void)fsync(fd);
		close(fd);
	}
}
