/*
 * tlist.h - fixtures shared by the list database tests: a temporary
 * directory, files written into it, and a build that keeps every
 * diagnostic for the test to inspect.  Include once, after t.h.
 */
#ifndef DM_TLIST_H
#define DM_TLIST_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "listbuild.h"
#include "listdb.h"

static char dir[64];		/* the test's temporary directory */

/* Every diagnostic of the last build. */
static struct {
	int	is_error;
	char	line[1024];
} diags[512];
static size_t ndiags;

static void
collect(void *arg, int is_error, const char *line)
{
	(void)arg;
	if (ndiags < sizeof(diags) / sizeof(diags[0])) {
		diags[ndiags].is_error = is_error;
		snprintf(diags[ndiags].line, sizeof(diags[0].line), "%s",
		    line);
		ndiags++;
	}
}

/* How many diagnostics of the given kind contain s (diag_count) or are
 * exactly s (diag_is). */
static inline int
diag_count(int is_error, const char *s)
{
	int n = 0;

	for (size_t i = 0; i < ndiags; i++)
		if (diags[i].is_error == is_error &&
		    strstr(diags[i].line, s) != NULL)
			n++;
	return n;
}

static inline int
diag_is(int is_error, const char *s)
{
	int n = 0;

	for (size_t i = 0; i < ndiags; i++)
		if (diags[i].is_error == is_error &&
		    strcmp(diags[i].line, s) == 0)
			n++;
	return n;
}

static inline void
dump_diags(void)
{
	for (size_t i = 0; i < ndiags; i++)
		fprintf(stderr, "  %s %s\n", diags[i].is_error ? "E" : "W",
		    diags[i].line);
}

static inline const char *
path_in(const char *name)
{
	static char buf[8][256];
	static int k;

	k = (k + 1) % 8;
	snprintf(buf[k], sizeof(buf[k]), "%s/%s", dir, name);
	return buf[k];
}

static inline const char *
write_file(const char *name, const char *text)
{
	const char *p = path_in(name);
	FILE *fp;

	if ((fp = fopen(p, "w")) == NULL || fputs(text, fp) == EOF ||
	    fclose(fp) != 0) {
		perror(p);
		exit(99);
	}
	return p;
}

static inline int
build(const char *db, const struct listdb_input *in, size_t nin, int flags,
    struct listdb_build_report *rep)
{
	ndiags = 0;
	return listdb_build(db, in, nin, flags, collect, NULL, rep);
}

/* Remove dir and the files in it. */
static inline void
rm_dir(void)
{
	struct dirent *de;
	DIR *d;

	if ((d = opendir(dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			(void)unlink(path_in(de->d_name));
	closedir(d);
	(void)rmdir(dir);
}

#endif
