/*
 * test_listdb.c - build list databases from small files and look names up;
 * refusals and warnings with their file:line; the rename contract; a file
 * written in place under an open database, and files that are not
 * complete databases; and, when DM_DATA is there, a build from a real
 * public list.
 *
 * Linked with -Wl,--wrap=read: listdb_open copies the file with read(2),
 * and the wrapper below can change the file halfway through that copy.
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "domain.h"
#include "listbuild.h"
#include "listdb.h"
#include "t.h"

#include "tlist.h"

/* Files in dir whose name starts with prefix. */
static int
count_files(const char *prefix)
{
	struct dirent *de;
	DIR *d;
	int n = 0;

	if ((d = opendir(dir)) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL)
		if (strncmp(de->d_name, prefix, strlen(prefix)) == 0)
			n++;
	closedir(d);
	return n;
}

static struct listdb_match m;

static enum category
look(struct listdb *db, const char *name)
{
	char err[256] = "";

	if (listdb_lookup(db, name, &m, err, sizeof(err)) != 0) {
		fprintf(stderr, "lookup %s: %s\n", name, err);
		return (enum category)-1;
	}
	return m.category;
}

static void
test_lookup(void)
{
	struct listdb_input in[3] = { 0 };
	struct listdb_build_report rep;
	struct listdb_source_info *si;
	struct listdb *db;
	const char *dbp = path_in("lists.db");
	char err[256];
	size_t n;
	time_t t0 = time(NULL);

	in[0].path = write_file("disp.txt",
	    "# disposable test list\n"
	    "mailinator.com\n"
	    "Example-Disp.COM.   # trailing comment\n"
	    "crlf.example\r\n"
	    "  \t spaced.example \t \n"
	    "\n"
	    "   # only a comment\n"
	    "both.example\n"
	    "conflict.example\n"
	    "multi.example\n"
	    "sub.parent.example\n"
	    "MÄCHINE.example\n"
	    "mailinator.com\n"			/* line 13: duplicate */
	    "no-newline.example");
	in[0].category = CAT_DISPOSABLE;
	in[0].source = "disp";
	in[1].path = write_file("relay.txt",
	    "both.example\n"
	    "r.multi.example\n"
	    "relay.example\n");
	in[1].category = CAT_RELAY;
	in[1].source = "relay";
	in[2].path = write_file("allow.txt",
	    "conflict.example\n"
	    "good.mailinator.com\n"
	    "parent.example\n");
	in[2].category = CAT_ALLOWED;
	in[2].source = "allow";

	CHECK_INT(build(dbp, in, 3, 0, &rep), 0);
	dump_diags();
	CHECK_INT(rep.errors, 0);
	CHECK_INT(rep.warnings, 4);
	CHECK_INT(diag_count(0, "disp.txt:13: 'mailinator.com' is a "
	    "duplicate of line 2"), 1);
	CHECK_INT(diag_count(0, "allow.txt:1: 'conflict.example' is both "
	    "allowed (allow (curated)) and blocked (disp (curated)); the "
	    "allow entry wins"), 1);
	/* both.example is disposable and relay: one curated source each,
	 * a tie, which relay wins. */
	CHECK_INT(diag_count(0, "relay.txt:1: 'both.example' is listed "
	    "disposable (disp (curated)) and relay (relay (curated)); it "
	    "counts as relay"), 1);
	/* A block entry below an allowed parent. */
	CHECK_INT(diag_count(0, "disp.txt:11: 'sub.parent.example' (disp "
	    "(curated)) is below the allowed 'parent.example' (allow "
	    "(curated)); the allow entry wins"), 1);
	/* 10 distinct disposable, 3 relay, 3 allowed, 14 in all. */
	CHECK_INT(rep.per_category[CAT_DISPOSABLE], 10);
	CHECK_INT(rep.per_category[CAT_RELAY], 3);
	CHECK_INT(rep.per_category[CAT_ALLOWED], 3);
	CHECK_INT(rep.per_category[CAT_CLEAN], 0);
	CHECK_INT(rep.nsources, 3);
	CHECK_STR(rep.source[0].name, "disp");
	CHECK_INT(rep.source[0].entries, 10);
	CHECK_INT(rep.source[1].category, CAT_RELAY);
	CHECK_INT(rep.source[2].entries, 3);
	/* Published by rename: no temporary file, no lock file. */
	CHECK_INT(count_files("lists.db"), 1);

	if (listdb_open(path_in("nonexistent.db"), &db, err, sizeof(err)) ==
	    0)
		CHECK(0);
	CHECK(strstr(err, "nonexistent.db") != NULL);
	CHECK_INT(listdb_open(in[0].path, &db, err, sizeof(err)), -1);
	CHECK(strstr(err, "disp.txt") != NULL);

	if (listdb_open(dbp, &db, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s\n", err);
		CHECK(0);
		return;
	}
	CHECK_INT(listdb_entries(db), 14);
	CHECK(listdb_built(db) >= t0 && listdb_built(db) <= time(NULL));
	CHECK_INT(listdb_sources(db, &si, &n), 0);
	CHECK_INT(n, 3);
	if (n == 3) {
		CHECK_STR(si[0].name, "disp");
		CHECK_INT(si[0].category, CAT_DISPOSABLE);
		CHECK_STR(si[0].path, in[0].path);
		CHECK_INT(si[0].entries, 10);
		CHECK_STR(si[2].name, "allow");
		CHECK_INT(si[2].category, CAT_ALLOWED);
		CHECK_INT(si[2].entries, 3);
	}

	/* Exact match. */
	CHECK_INT(look(db, "mailinator.com"), CAT_DISPOSABLE);
	CHECK_STR(m.entry, "mailinator.com");
	CHECK_INT(m.level, 0);
	CHECK_INT(m.overridden, 0);
	CHECK_INT(m.nsources, 1);
	CHECK_STR(m.sources[0], "disp");
	/* Parent match, two labels up. */
	CHECK_INT(look(db, "x.y.mailinator.com"), CAT_DISPOSABLE);
	CHECK_STR(m.entry, "mailinator.com");
	CHECK_INT(m.level, 2);
	/* Each line form made it in, normalised. */
	CHECK_INT(look(db, "example-disp.com"), CAT_DISPOSABLE);
	CHECK_INT(look(db, "crlf.example"), CAT_DISPOSABLE);
	CHECK_INT(look(db, "spaced.example"), CAT_DISPOSABLE);
	CHECK_INT(look(db, "no-newline.example"), CAT_DISPOSABLE);
	CHECK_INT(look(db, "xn--mchine-bua.example"), CAT_DISPOSABLE);
	/* Unrelated names, lookalikes and suffixes are clean. */
	CHECK_INT(look(db, "gmail.com"), CAT_CLEAN);
	CHECK_STR(m.entry, "");
	CHECK_INT(m.nsources, 0);
	CHECK_INT(look(db, "notmailinator.com"), CAT_CLEAN);
	CHECK_INT(look(db, "mailinator.com.evil.example"), CAT_CLEAN);
	CHECK_INT(look(db, "com"), CAT_CLEAN);
	CHECK_INT(look(db, "example"), CAT_CLEAN);

	/* Disposable and relay at once: a relay, both sources named. */
	CHECK_INT(look(db, "both.example"), CAT_RELAY);
	CHECK_INT(m.nsources, 2);
	CHECK_STR(m.sources[0], "disp");
	CHECK_STR(m.sources[1], "relay");
	CHECK_INT(look(db, "relay.example"), CAT_RELAY);
	CHECK_STR(m.sources[0], "relay");

	/* The most specific block entry decides. */
	CHECK_INT(look(db, "x.r.multi.example"), CAT_RELAY);
	CHECK_STR(m.entry, "r.multi.example");
	CHECK_INT(m.level, 1);
	CHECK_INT(look(db, "y.multi.example"), CAT_DISPOSABLE);
	CHECK_STR(m.entry, "multi.example");

	/* Allow beats block on the same entry. */
	CHECK_INT(look(db, "conflict.example"), CAT_ALLOWED);
	CHECK_STR(m.entry, "conflict.example");
	CHECK_INT(m.overridden, 1);
	CHECK_STR(m.block_entry, "conflict.example");
	CHECK_INT(m.nsources, 1);
	CHECK_STR(m.sources[0], "allow");
	CHECK_INT(look(db, "sub.conflict.example"), CAT_ALLOWED);
	CHECK_INT(m.level, 1);
	/* An allowed subdomain is an exception to a blocked parent ... */
	CHECK_INT(look(db, "good.mailinator.com"), CAT_ALLOWED);
	CHECK_INT(m.level, 0);
	CHECK_INT(m.overridden, 1);
	CHECK_STR(m.block_entry, "mailinator.com");
	CHECK_INT(look(db, "a.good.mailinator.com"), CAT_ALLOWED);
	CHECK_STR(m.entry, "good.mailinator.com");
	CHECK_INT(m.level, 1);
	CHECK_INT(look(db, "bad.mailinator.com"), CAT_DISPOSABLE);
	CHECK_INT(m.overridden, 0);
	/* ... and an allowed parent overrules a blocked subdomain. */
	CHECK_INT(look(db, "a.sub.parent.example"), CAT_ALLOWED);
	CHECK_STR(m.entry, "parent.example");
	CHECK_INT(m.level, 2);
	CHECK_INT(m.overridden, 1);
	CHECK_STR(m.block_entry, "sub.parent.example");
	CHECK_INT(look(db, "parent.example"), CAT_ALLOWED);
	CHECK_INT(m.overridden, 0);
	listdb_close(db);
}

static void
test_refusals(void)
{
	struct listdb_input in[2] = { 0 };
	struct listdb_build_report rep;
	struct listdb *db;
	struct stat st0, st1;
	const char *dbp = path_in("refuse.db");
	char err[256];

	in[0].path = write_file("bad.txt",
	    "# bad entries\n"		/* 1 */
	    "ok.example\n"		/* 2 */
	    "com\n"			/* 3 */
	    "co.uk\n"			/* 4 */
	    "1.2.3.4\n"			/* 5 */
	    "[1.2.3.4]\n"		/* 6 */
	    "*.wild.example\n"		/* 7 */
	    "-bad.example\n"		/* 8 */
	    "two names.example\n"	/* 9 */
	    "someone@mail.example\n"	/* 10 */
	    "a_b.example\n"		/* 11 */
	    "::1\n"			/* 12 */
	    "github.io\n"		/* 13 */
	    "xn--zz.example\n");	/* 14 */
	in[0].category = CAT_DISPOSABLE;
	in[0].source = "bad";

	CHECK_INT(build(dbp, in, 1, 0, &rep), -1);
	CHECK_INT(rep.errors, 12);
	CHECK_INT(diag_count(1, "bad.txt:3: 'com' is a public suffix"), 1);
	CHECK_INT(diag_count(1, "bad.txt:4: 'co.uk' is a public suffix"), 1);
	CHECK_INT(diag_count(1, "bad.txt:5: '1.2.3.4' is an IP address"), 1);
	CHECK_INT(diag_count(1, "bad.txt:6: '[1.2.3.4]' is an IP address"),
	    1);
	CHECK_INT(diag_count(1, "bad.txt:7: '*.wild.example' is a wildcard"),
	    1);
	CHECK_INT(diag_count(1, "bad.txt:8: '-bad.example' is not a valid"),
	    1);
	CHECK_INT(diag_count(1, "bad.txt:9: more than one name"), 1);
	CHECK_INT(diag_count(1, "bad.txt:10: a mail address"), 1);
	CHECK_INT(diag_count(1, "bad.txt:11: 'a_b.example' is not a valid"),
	    1);
	CHECK_INT(diag_count(1, "bad.txt:12: '::1' is an IP address"), 1);
	CHECK_INT(diag_count(1, "bad.txt:13: 'github.io' is a public "
	    "suffix"), 1);
	CHECK_INT(diag_count(1, "bad.txt:14: 'xn--zz.example' is not"), 1);
	CHECK_INT(diag_count(1, "ok.example"), 0);
	/* The address itself is never echoed. */
	CHECK_INT(diag_count(1, "someone"), 0);
	CHECK_INT(diag_count(0, ""), 0);
	/* Nothing written, no temporary left. */
	CHECK(stat(dbp, &st0) == -1 && errno == ENOENT);
	CHECK_INT(count_files("refuse.db"), 0);

	/* A failed build leaves an existing database as it was. */
	in[1].path = write_file("good.txt", "good.example\n");
	in[1].category = CAT_DISPOSABLE;
	in[1].source = "good";
	CHECK_INT(build(dbp, &in[1], 1, 0, NULL), 0);
	CHECK_INT(stat(dbp, &st0), 0);
	CHECK_INT(build(dbp, in, 2, 0, &rep), -1);
	CHECK_INT(rep.errors, 12);
	CHECK_INT(stat(dbp, &st1), 0);
	CHECK(st0.st_ino == st1.st_ino && st0.st_size == st1.st_size);
	CHECK_INT(count_files("refuse.db"), 1);
	if (listdb_open(dbp, &db, err, sizeof(err)) == 0) {
		CHECK_INT(look(db, "good.example"), CAT_DISPOSABLE);
		CHECK_INT(look(db, "ok.example"), CAT_CLEAN);
		CHECK_INT(listdb_entries(db), 1);
		listdb_close(db);
	} else
		CHECK(0);

	/* An unreadable list fails the build even with SKIP_BAD. */
	in[1].path = path_in("missing.txt");
	CHECK_INT(build(dbp, &in[1], 1, LISTDB_BUILD_SKIP_BAD, &rep), -1);
	CHECK(diag_count(1, "missing.txt: No such file or directory") == 1);
	CHECK_INT(stat(dbp, &st1), 0);
	CHECK(st0.st_ino == st1.st_ino);

	/* Bad arguments. */
	in[1].path = path_in("good.txt");
	in[1].category = CAT_CLEAN;
	CHECK_INT(build(dbp, &in[1], 1, 0, &rep), -1);
	CHECK_INT(rep.errors, 1);
	in[1].category = CAT_DISPOSABLE;
	in[1].source = "";
	CHECK_INT(build(dbp, &in[1], 1, 0, &rep), -1);
	in[1].source = "good";

	/* SKIP_BAD reports the bad lines and writes the rest. */
	CHECK_INT(build(dbp, in, 1, LISTDB_BUILD_SKIP_BAD, &rep), 0);
	CHECK_INT(rep.errors, 12);
	CHECK_INT(rep.per_category[CAT_DISPOSABLE], 1);
	CHECK_INT(count_files("refuse.db"), 1);
	if (listdb_open(dbp, &db, err, sizeof(err)) == 0) {
		CHECK_INT(listdb_entries(db), 1);
		CHECK_INT(look(db, "ok.example"), CAT_DISPOSABLE);
		CHECK_INT(look(db, "good.example"), CAT_CLEAN);
		listdb_close(db);
	} else
		CHECK(0);
}

/* A reader keeps the file it opened; a new open sees the rebuilt one. */
static void
test_rename(void)
{
	struct listdb_input in = { 0 };
	struct listdb *old, *new;
	const char *dbp = path_in("swap.db");
	char err[256];

	in.category = CAT_DISPOSABLE;
	in.source = "swap";
	in.path = write_file("v1.txt", "old.example\n");
	CHECK_INT(build(dbp, &in, 1, 0, NULL), 0);
	if (listdb_open(dbp, &old, err, sizeof(err)) != 0) {
		CHECK(0);
		return;
	}
	in.path = write_file("v2.txt", "new.example\nnewer.example\n");
	CHECK_INT(build(dbp, &in, 1, 0, NULL), 0);
	CHECK_INT(count_files("swap.db"), 1);

	CHECK_INT(look(old, "old.example"), CAT_DISPOSABLE);
	CHECK_INT(look(old, "new.example"), CAT_CLEAN);
	CHECK_INT(listdb_entries(old), 1);
	if (listdb_open(dbp, &new, err, sizeof(err)) == 0) {
		CHECK_INT(look(new, "new.example"), CAT_DISPOSABLE);
		CHECK_INT(look(new, "old.example"), CAT_CLEAN);
		CHECK_INT(listdb_entries(new), 2);
		listdb_close(new);
	} else
		CHECK(0);
	CHECK_INT(look(old, "old.example"), CAT_DISPOSABLE);
	listdb_close(old);
}

/* One struct listdb shared by threads, each lookup its own transaction. */
static void *
lookup_thread(void *arg)
{
	struct listdb *db = arg;
	struct listdb_match tm;
	char err[256];
	long bad = 0;

	for (int i = 0; i < 2000; i++) {
		if (listdb_lookup(db, "x.y.mailinator.com", &tm, err,
		    sizeof(err)) != 0 || tm.category != CAT_DISPOSABLE ||
		    tm.level != 2)
			bad++;
		if (listdb_lookup(db, "a.good.mailinator.com", &tm, err,
		    sizeof(err)) != 0 || tm.category != CAT_ALLOWED)
			bad++;
		if (listdb_lookup(db, "gmail.com", &tm, err, sizeof(err)) !=
		    0 || tm.category != CAT_CLEAN)
			bad++;
	}
	return (void *)bad;
}

static void
test_threads(void)
{
	struct listdb *db;
	pthread_t th[4];
	char err[256];
	void *bad;
	int i;

	if (listdb_open(path_in("lists.db"), &db, err, sizeof(err)) != 0) {
		CHECK(0);
		return;
	}
	for (i = 0; i < 4; i++)
		CHECK_INT(pthread_create(&th[i], NULL, lookup_thread, db), 0);
	for (i = 0; i < 4; i++) {
		CHECK_INT(pthread_join(th[i], &bad), 0);
		CHECK_INT((long)bad, 0);
	}
	listdb_close(db);
}

/* The disposable-email-domains blocklist, read in place.  Returns 0 when
 * tested, -1 when the shared data is missing (the program then reports a
 * skip rather than a pass, since this part did not run). */
static int
test_public_list(void)
{
	struct listdb_input in = { 0 };
	struct listdb_build_report rep;
	struct listdb *db;
	const char *data = getenv("DM_DATA"), *dbp = path_in("public.db");
	static const char *const known[] = {
		"mailinator.com", "guerrillamail.com", "10minutemail.com",
		"yopmail.com", "trashmail.com",
	};
	char path[1024], err[256];
	size_t i;
	int rc;

	if (data == NULL || *data == '\0') {
		printf("public list: DM_DATA not set, not tested\n");
		return -1;
	}
	snprintf(path, sizeof(path),
	    "%s/lists/disposable-email-domains/blocklist.txt", data);
	if (access(path, R_OK) != 0) {
		printf("public list: %s not readable, not tested\n", path);
		return -1;
	}
	in.path = path;
	in.category = CAT_DISPOSABLE;
	in.source = "disposable-email-domains";
	if ((rc = build(dbp, &in, 1, 0, &rep)) != 0) {
		printf("public list: %zu refused lines:\n", rep.errors);
		dump_diags();
		rc = build(dbp, &in, 1, LISTDB_BUILD_SKIP_BAD, &rep);
	}
	CHECK_INT(rc, 0);
	printf("public list: %zu disposable, %zu refused, %zu warnings\n",
	    rep.per_category[CAT_DISPOSABLE], rep.errors, rep.warnings);
	/* 8335 lines in the snapshot of SOURCE.txt. */
	CHECK(rep.per_category[CAT_DISPOSABLE] > 8000);
	CHECK(rep.per_category[CAT_DISPOSABLE] <= 8335);
	if (listdb_open(dbp, &db, err, sizeof(err)) != 0) {
		CHECK(0);
		return 0;
	}
	CHECK_INT(listdb_entries(db), rep.per_category[CAT_DISPOSABLE]);
	for (i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
		CHECK_INT(look(db, known[i]), CAT_DISPOSABLE);
		CHECK_STR(m.entry, known[i]);
		CHECK_STR(m.sources[0], "disposable-email-domains");
	}
	/* An emoji A-label that IDNA2008 alone would refuse. */
	CHECK_INT(look(db, "xn--o38h.abrdns.com"), CAT_DISPOSABLE);
	CHECK_INT(look(db, "inbox.x.mailinator.com"), CAT_DISPOSABLE);
	CHECK_INT(m.level, 2);
	CHECK_INT(look(db, "gmail.com"), CAT_CLEAN);
	CHECK_INT(look(db, "example.org"), CAT_CLEAN);
	listdb_close(db);
	return 0;
}

/*
 * A database file changed in place (cp over it, install, rsync --inplace,
 * truncate) and files that are not complete databases.  Each part that
 * could die of the defect it guards against (SIGBUS on a mapped file that
 * shrank, an LMDB assertion on a garbage page, an open of a FIFO that
 * never returns) runs in a child, so that a crash or a hang is a failed
 * check with its signal named, not the end of this program.
 */

/* The whole file at path, malloc'ed; *len its size. */
static unsigned char *
slurp(const char *path, size_t *len)
{
	unsigned char *buf;
	struct stat st;
	FILE *fp;

	if ((fp = fopen(path, "rb")) == NULL || fstat(fileno(fp), &st) != 0 ||
	    (buf = malloc((size_t)st.st_size + 1)) == NULL ||
	    fread(buf, 1, (size_t)st.st_size, fp) != (size_t)st.st_size) {
		perror(path);
		exit(99);
	}
	fclose(fp);
	*len = (size_t)st.st_size;
	return buf;
}

/* Write len bytes over path in place: the same inode, truncated first,
 * as cp(1) and a shell redirection do. */
static void
overwrite(const char *path, const unsigned char *bytes, size_t len)
{
	int fd;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644)) == -1 ||
	    (len > 0 && write(fd, bytes, len) != (ssize_t)len) ||
	    close(fd) != 0) {
		perror(path);
		exit(99);
	}
}

/* Bytes no list database holds: a fixed pseudo-random sequence. */
static void
garble(unsigned char *p, size_t len)
{
	uint32_t x = 2463534242u;

	for (size_t i = 0; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		p[i] = (unsigned char)x;
	}
}

/* Run fn in a child (at most 20 s); a check that it exited cleanly. */
static void
isolated(const char *what, void (*fn)(void))
{
	int status;
	pid_t pid;

	fflush(NULL);
	if ((pid = fork()) == -1) {
		perror("fork");
		exit(99);
	}
	if (pid == 0) {
		t_failed = 0;	/* the child's own */
		alarm(20);
		fn();
		fflush(NULL);
		_exit(t_failed > 0);
	}
	if (waitpid(pid, &status, 0) != pid) {
		perror("waitpid");
		exit(99);
	}
	if (WIFSIGNALED(status))
		fprintf(stderr, "%s: killed by signal %d (%s)\n", what,
		    WTERMSIG(status), strsignal(WTERMSIG(status)));
	else if (WEXITSTATUS(status) != 0)
		fprintf(stderr, "%s: failed checks above\n", what);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static const char *inplace_db, *other_db;
static unsigned char *v1_bytes;		/* inplace_db as built */
static size_t v1_len;

/* The answers of the database built from "v1.txt" below. */
static void
expect_v1(struct listdb *db)
{
	CHECK_INT(look(db, "old-only.example"), CAT_DISPOSABLE);
	CHECK_INT(look(db, "x.old-only.example"), CAT_DISPOSABLE);
	CHECK_INT(m.level, 1);
	CHECK_INT(look(db, "both-lists.example"), CAT_DISPOSABLE);
	CHECK_INT(look(db, "new-only.example"), CAT_CLEAN);
	CHECK_INT(look(db, "d1234.example"), CAT_CLEAN);
	CHECK_INT(listdb_entries(db), 2);
}

/* One open database; its file rewritten in place, emptied, half
 * rewritten, filled with garbage: every lookup gives the answers of the
 * file as it was opened. */
static void
inplace_child(void)
{
	struct listdb *db;
	unsigned char *orig, *other;
	size_t olen, xlen;
	char err[256];

	orig = slurp(inplace_db, &olen);
	other = slurp(other_db, &xlen);
	if (listdb_open(inplace_db, &db, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s\n", err);
		CHECK(0);
		return;
	}
	expect_v1(db);
	overwrite(inplace_db, other, xlen);	/* cp other.db inplace.db */
	expect_v1(db);
	overwrite(inplace_db, NULL, 0);		/* truncate -s 0 */
	expect_v1(db);
	overwrite(inplace_db, orig, olen / 2);	/* a copy that stopped */
	expect_v1(db);
	garble(other, xlen);
	overwrite(inplace_db, other, xlen);	/* dd if=/dev/urandom */
	expect_v1(db);
	listdb_close(db);
	free(orig);
	free(other);
}

/* listdb_open refuses what is not a complete database, naming the file,
 * and never crashes on it. */
static void
refuse_child(void)
{
	enum { ALL, HALF, METAS, NONE };	/* how much of the file */
	static const struct {
		const char	*name;
		const char	*why;		/* in the error; NULL: any */
		int		 keep;
		long		 garbage_from;	/* bytes overwritten; */
		long		 garbage_to;	/* -3: the middle third */
	} bad[] = {
		{ "empty.db",	"empty",	NONE,	0, 0 },
		{ "half.db",	"truncated",	HALF,	0, 0 },
		/* The two meta pages alone: LMDB opens it. */
		{ "metas.db",	"truncated",	METAS,	0, 0 },
		{ "head.db",	NULL,		ALL,	0, 8192 },
		/* Meta pages and the tables' roots intact, a third of
		 * the domain pages garbage: a copy of two versions. */
		{ "middle.db",	"checksum",	ALL,	-3, -3 },
	};
	long page = sysconf(_SC_PAGESIZE);
	unsigned char *orig, *b;
	struct listdb *db;
	size_t len, n;
	char err[512];

	orig = slurp(other_db, &len);
	if ((b = malloc(len)) == NULL)
		exit(99);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *p = path_in(bad[i].name);
		long from = bad[i].garbage_from, to = bad[i].garbage_to;

		if (from == -3) {	/* the middle third */
			from = (long)len / 3;
			to = 2 * (long)len / 3;
		}

		memcpy(b, orig, len);
		garble(b + from, (size_t)(to - from));
		n = bad[i].keep == ALL ? len : bad[i].keep == HALF ? len / 2 :
		    bad[i].keep == METAS ? (size_t)(2 * page) : 0;
		overwrite(p, b, n);
		err[0] = '\0';
		if (listdb_open(p, &db, err, sizeof(err)) == 0) {
			fprintf(stderr, "%s: opened\n", bad[i].name);
			CHECK(0);
			/* What a daemon would do next. */
			(void)look(db, "d1234.example");
			listdb_close(db);
			continue;
		}
		CHECK(strstr(err, p) != NULL);
		if (bad[i].why != NULL && strstr(err, bad[i].why) == NULL) {
			fprintf(stderr, "%s: \"%s\" lacks \"%s\"\n",
			    bad[i].name, err, bad[i].why);
			CHECK(0);
		}
	}
	free(b);
	/* The complete file still opens; so does one built before the
	 * checksum trailer (48 bytes, listdb_format.h) was. */
	overwrite(path_in("untrailed.db"), orig, len - 48);
	for (int i = 0; i < 2; i++) {
		const char *p = i == 0 ? other_db : path_in("untrailed.db");

		if (listdb_open(p, &db, err, sizeof(err)) == 0) {
			CHECK_INT(look(db, "d1234.example"), CAT_DISPOSABLE);
			CHECK_INT(look(db, "new-only.example"),
			    CAT_DISPOSABLE);
			listdb_close(db);
		} else {
			fprintf(stderr, "%s\n", err);
			CHECK(0);
		}
	}
	free(orig);
}

/* A FIFO is no database, and opening one must not wait for a writer. */
static void
fifo_child(void)
{
	const char *p = path_in("fifo.db");
	struct listdb *db;
	char err[512] = "";

	if (mkfifo(p, 0600) != 0) {
		perror(p);
		exit(99);
	}
	CHECK_INT(listdb_open(p, &db, err, sizeof(err)), -1);
	CHECK(strstr(err, p) != NULL);
	CHECK(strstr(err, "not a regular file") != NULL);
}

/* The read(2) wrapper: after the first read of a listdb_open with
 * change_during_read set, that file is changed (grow: a byte appended;
 * else the same bytes written again, which changes only its mtime). */
ssize_t	__real_read(int, void *, size_t);
ssize_t	__wrap_read(int, void *, size_t);
static const char *change_during_read;
static int change_grows;

ssize_t
__wrap_read(int fd, void *buf, size_t n)
{
	ssize_t r = __real_read(fd, buf, n);
	const char *p = change_during_read;
	int w;

	if (p != NULL && r > 0) {
		change_during_read = NULL;
		if ((w = open(p, O_WRONLY | (change_grows ? O_APPEND : 0))) ==
		    -1 || (change_grows ? write(w, "x", 1) != 1 :
		    pwrite(w, buf, 1, 0) != 1) || close(w) != 0) {
			perror(p);
			exit(99);
		}
	}
	return r;
}

static void
test_changed_while_read(void)
{
	const char *p = path_in("moving.db");
	/* An mtime long past, so that a write now changes it whatever the
	 * clock's granularity. */
	const struct timespec old[2] = { { 1000000000, 0 },
	    { 1000000000, 0 } };
	struct listdb_fileid now;
	struct listdb *db;
	char err[512];

	for (change_grows = 1; change_grows >= 0; change_grows--) {
		overwrite(p, v1_bytes, v1_len);
		CHECK_INT(utimensat(AT_FDCWD, p, old, 0), 0);
		change_during_read = p;
		err[0] = '\0';
		if (listdb_open(p, &db, err, sizeof(err)) == 0) {
			fprintf(stderr, "moving.db (%s): opened\n",
			    change_grows ? "grown" : "rewritten");
			CHECK(0);
			listdb_close(db);
			continue;
		}
		CHECK(strstr(err, p) != NULL);
		CHECK(strstr(err, "changed while being read") != NULL);
	}
	change_during_read = NULL;
	/* Left alone, the same file opens, and knows which version of
	 * which file it was: the same bytes written again in place are
	 * another version of the same inode. */
	overwrite(p, v1_bytes, v1_len);
	CHECK_INT(utimensat(AT_FDCWD, p, old, 0), 0);
	if (listdb_open(p, &db, err, sizeof(err)) == 0) {
		expect_v1(db);
		CHECK_INT(listdb_fileid_get(p, &now, err, sizeof(err)), 0);
		CHECK(listdb_fileid_same(listdb_fileid(db), &now));
		overwrite(p, v1_bytes, v1_len);
		CHECK_INT(listdb_fileid_get(p, &now, err, sizeof(err)), 0);
		CHECK(!listdb_fileid_same(listdb_fileid(db), &now));
		CHECK(now.ino == listdb_fileid(db)->ino);
		listdb_close(db);
	} else {
		fprintf(stderr, "%s\n", err);
		CHECK(0);
	}
	CHECK_INT(listdb_fileid_get(path_in("gone.db"), &now, err,
	    sizeof(err)), -1);
	CHECK(strstr(err, "gone.db: No such file") != NULL);
}

static void
test_inplace(void)
{
	struct listdb_input in = { 0 };
	char *big;
	size_t off = 0;

	in.category = CAT_DISPOSABLE;
	in.source = "v1";
	in.path = write_file("v1.txt", "old-only.example\n"
	    "both-lists.example\n");
	inplace_db = strdup(path_in("inplace.db"));
	CHECK_INT(build(inplace_db, &in, 1, 0, NULL), 0);
	v1_bytes = slurp(inplace_db, &v1_len);
	/* Other lists, and a file of other size: 3000 entries. */
	if ((big = malloc(3002 * 24)) == NULL)
		exit(99);
	off += (size_t)sprintf(big, "new-only.example\nboth-lists.example\n");
	for (int i = 0; i < 3000; i++)
		off += (size_t)sprintf(big + off, "d%d.example\n", i);
	in.source = "v2";
	in.path = write_file("v2.txt", big);
	free(big);
	other_db = strdup(path_in("other.db"));
	CHECK_INT(build(other_db, &in, 1, 0, NULL), 0);

	isolated("in-place writes under an open database", inplace_child);
	isolated("incomplete files", refuse_child);
	isolated("a FIFO", fifo_child);
	test_changed_while_read();
	free(v1_bytes);
}

/* The line rules the updater asks before it writes a copy: the build's
 * own, so that a line it passes is one the build takes. */
static void
test_line_rules(void)
{
	char line[128], norm[DOMAIN_MAX + 1], why[256];

	snprintf(line, sizeof(line), "  Example.ORG.  # a comment\r\n");
	CHECK_STR(listdb_line_entry(line), "Example.ORG.");
	snprintf(line, sizeof(line), " \t# only a comment");
	CHECK(listdb_line_entry(line) == NULL);
	snprintf(line, sizeof(line), "\r\n");
	CHECK(listdb_line_entry(line) == NULL);

	CHECK_INT(listdb_entry_check("Example.ORG.", norm), LISTDB_ENTRY_OK);
	CHECK_STR(norm, "example.org");
	CHECK_INT(listdb_entry_check("b\xc3\xbc" "cher.test", norm),
	    LISTDB_ENTRY_OK);
	CHECK_STR(norm, "xn--bcher-kva.test");
	CHECK_INT(listdb_entry_check("co.uk", norm), LISTDB_ENTRY_SUFFIX);
	CHECK_STR(norm, "co.uk");
	CHECK_INT(listdb_entry_check("x@example.org", norm),
	    LISTDB_ENTRY_ADDRESS);
	CHECK_STR(norm, "");
	CHECK_INT(listdb_entry_check("*.example.org", norm),
	    LISTDB_ENTRY_WILDCARD);
	CHECK_INT(listdb_entry_check("192.0.2.1", norm), LISTDB_ENTRY_LITERAL);
	CHECK_INT(listdb_entry_check("0.0.0.0 example.org", norm),
	    LISTDB_ENTRY_WORDS);
	CHECK_INT(listdb_entry_check("<html>", norm), LISTDB_ENTRY_INVALID);
	CHECK_STR(listdb_entry_reason(LISTDB_ENTRY_SUFFIX), "a public suffix");

	CHECK_INT(listdb_fp_line_check(LIST_FINGERPRINTS,
	    "mx *.mail-data.net strong", why, sizeof(why)), 0);
	CHECK_STR(why, "");
	CHECK_INT(listdb_fp_line_check(LIST_FINGERPRINTS, "mx *.com strong",
	    why, sizeof(why)), 1);
	CHECK_STR(why, "'*.com' is a public suffix");
	CHECK_INT(listdb_fp_line_check(LIST_FINGERPRINTS,
	    "ip 192.0.2.0/24 medium", why, sizeof(why)), 1);
	CHECK(strstr(why, "unknown strength") != NULL);
	CHECK_INT(listdb_fp_line_check(LIST_INFRA, "mx *.improvmx.com", why,
	    sizeof(why)), 0);
	CHECK_INT(listdb_fp_line_check(LIST_INFRA, "mx *.improvmx.com weak",
	    why, sizeof(why)), 1);
	CHECK_INT(listdb_fp_line_check(LIST_DOMAINS, "example.org", why,
	    sizeof(why)), -1);
}

int
main(void)
{
	char err[256];
	int data_ok;

	if (domain_init(NULL, err, sizeof(err)) != 0)
		T_SKIP(err);
	snprintf(dir, sizeof(dir), "/tmp/test_listdb.XXXXXX");
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 99;
	}
	test_lookup();
	test_threads();
	test_refusals();
	test_rename();
	test_inplace();
	test_line_rules();
	data_ok = test_public_list() == 0;
	rm_dir();
	domain_fini();
	if (!data_ok && t_failed == 0)
		T_SKIP("the shared data part did not run (DM_DATA)");
	return T_DONE();
}
