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

int
util_dir_of(const char *path, char *dir, size_t len)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL)
		snprintf(dir, len, ".");
	else if (slash == path)
		snprintf(dir, len, "/");
	else if ((size_t)(slash - path) < len)
		snprintf(dir, len, "%.*s", (int)(slash - path), path);
	else
		return -1;
	return 0;
}

void
util_sync_dir(const char *path)
{
	char dir[PATH_MAX];
	int fd;

	if (util_dir_of(path, dir, sizeof(dir)) != 0)
		return;
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		(void)fsync(fd);
		close(fd);
	}
}

int
util_check_dir_of(const char *path, char *err, size_t errlen)
{
	char dir[PATH_MAX];
	struct stat st;

	if (util_dir_of(path, dir, sizeof(dir)) != 0) {
		seterr(err, errlen, "%s: path too long", path);
		return -1;
	}
	if (stat(dir, &st) == -1) {
		seterr(err, errlen, "directory %s: %s", dir, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		seterr(err, errlen, "%s: not a directory", dir);
		return -1;
	}
	if (access(dir, W_OK | X_OK) == -1) {
		seterr(err, errlen, "directory %s: %s (as uid %ld)", dir,
		    strerror(errno), (long)getuid());
		return -1;
	}
	return 0;
}
