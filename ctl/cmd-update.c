/*
 * cmd-update.c - update: fetch every remote list of the configuration,
 * keep each one's last good copy safe, rebuild the database and tell the
 * daemon.  Fetching is fetch.h's, judging a download listupdate.h's, the
 * build ctl_build_configured's (the one build does); this file orders
 * the steps and says what came of each source, one line each.
 *
 * The order, and why:
 *   1. every selected source is fetched before anything is made or
 *      written (SourceDir, the database a first run builds for the
 *      checks), so that a machine without a network (every source
 *      unreachable) changes nothing and says so in one line; then each
 *      download is judged;
 *   2. the new copies, states and quarantine files are written to
 *      temporary files beside their places (synced);
 *   3. the copies are renamed into place, each old copy kept under a
 *      second name (SOURCE.list.prev, a hard link), and the database is
 *      built from them;
 *   4. only a build that succeeded keeps them: the states and quarantine
 *      files follow and the old copies go; a failed build puts the old
 *      copies back, so that the lists and the database are as they were.
 *
 * Two updates at once (the timer and an admin) would each keep the other's
 * copies as "old": a second one waits for the first (SourceDir/.lock).
 */
#include "config.h"

#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "conf.h"
#include "ctl.h"
#include "fetch.h"
#include "listdb.h"
#include "listupdate.h"
#include "util.h"

#define EXIT_TEMPFAIL	75	/* sysexits.h's EX_TEMPFAIL: offline */
#define NAME_MAX_LEN	(CONFIG_PATH_MAX + LISTDB_SOURCE_NAME + 16)

enum outcome {
	OUT_UPDATED = 0,
	OUT_UNCHANGED,
	OUT_REFUSED,
	OUT_FAILED,
	OUT_UNREACHABLE
};

/* One remote source through the steps above. */
struct run {
	const struct config_list *l;
	char		 state_path[NAME_MAX_LEN];
	char		 quar_path[NAME_MAX_LEN];
	char		 prev_path[NAME_MAX_LEN];
	enum outcome	 outcome;
	char		 why[2048];	/* refused, failed: the reason;
					   unchanged: how it was told */
	char		 forced[192];	/* a safeguard --force overrode */
	struct listupdate_state state;	/* as read, then as to be written */
	int		 have_state;
	struct listupdate_set old;	/* the last good copy */
	int		 have_old;
	struct fetch_result fr;		/* a body to judge */
	int		 pending;	/* fr holds one */
	struct listupdate_sift sift;	/* updated: the new copy */
	size_t		 added, removed;
	char		*copy_tmp, *state_tmp, *quar_tmp;
	int		 prev_linked;
};

struct update {
	struct ctl	*ctl;
	int		 force, dry_run, no_build, rebuild;
	const char	*only[CONFIG_MAX_LISTS];
	size_t		 nonly;
	struct run	*runs;
	size_t		 nruns;
	struct listupdate_checks checks;
	uid_t		 uid;		/* the owner files in SourceDir get */
	gid_t		 gid;
	time_t		 now;
};

static const char *
kind_word(enum list_kind k)
{
	return k == LIST_FINGERPRINTS ? "fingerprint" : k == LIST_INFRA ?
	    "infrastructure" : "domain";
}

static int
selected(const struct update *u, const char *source)
{
	if (u->nonly == 0)
		return 1;
	for (size_t i = 0; i < u->nonly; i++)
		if (strcmp(u->only[i], source) == 0)
			return 1;
	return 0;
}

/* SourceDir, created (0755, owned like the database's directory) when it
 * is missing.  Returns 0, or -1 having said why. */
static int
source_dir(struct update *u)
{
	const struct config *c = &u->ctl->cfg;
	char dbdir[CONFIG_PATH_MAX], *slash;
	struct stat st;

	snprintf(dbdir, sizeof(dbdir), "%s", c->database);
	if ((slash = strrchr(dbdir, '/')) == NULL)
		snprintf(dbdir, sizeof(dbdir), ".");
	else
		slash[slash == dbdir] = '\0';
	if (stat(c->source_dir, &st) == 0) {
		if (!S_ISDIR(st.st_mode)) {
			fprintf(stderr, "disposable-ctl: SourceDir %s: not a "
			    "directory\n", c->source_dir);
			return -1;
		}
	} else if (errno != ENOENT || mkdir(c->source_dir, 0755) != 0) {
		fprintf(stderr, "disposable-ctl: SourceDir %s: %s\n",
		    c->source_dir, strerror(errno));
		return -1;
	} else {
		struct stat dst;

		if (geteuid() == 0 && stat(dbdir, &dst) == 0 &&
		    chown(c->source_dir, dst.st_uid, dst.st_gid) != 0) {
			fprintf(stderr, "disposable-ctl: SourceDir %s: chown "
			    "like %s: %s\n", c->source_dir, dbdir,
			    strerror(errno));
			return -1;
		}
		printf("%s: created\n", c->source_dir);
		if (stat(c->source_dir, &st) != 0) {
			fprintf(stderr, "disposable-ctl: SourceDir %s: %s\n",
			    c->source_dir, strerror(errno));
			return -1;
		}
	}
	u->uid = st.st_uid;
	u->gid = st.st_gid;
	return 0;
}

/* Wait for any other update of this SourceDir to end.  Returns the
 * descriptor that holds the lock (closed at exit), or -1 having said
 * why. */
static int
lock_source_dir(const struct config *c)
{
	char path[CONFIG_PATH_MAX + 8];
	int fd;

	snprintf(path, sizeof(path), "%s/.lock", c->source_dir);
	if ((fd = open(path, O_RDONLY | O_CREAT | O_CLOEXEC, 0644)) == -1) {
		fprintf(stderr, "disposable-ctl: %s: %s\n", path,
		    strerror(errno));
		return -1;
	}
	while (flock(fd, LOCK_EX) == -1) {
		if (errno == EINTR)
			continue;
		fprintf(stderr, "disposable-ctl: %s: lock: %s\n", path,
		    strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* Judge a body that came back whole (FETCH_OK). */
static void
judge(struct update *u, struct run *r, const struct fetch_result *fr)
{
	const struct config_list *l = r->l;
	unsigned long pct = 0;
	char sha[65], err[512];
	enum listupdate_guard g;

	listupdate_sha256_hex(fr->body, fr->len, sha);
	if (r->have_old && r->have_state && strcmp(sha, r->state.sha256) == 0) {
		r->outcome = OUT_UNCHANGED;
		snprintf(r->why, sizeof(r->why), "same content");
		goto state;
	}
	r->outcome = OUT_REFUSED;
	if (listupdate_is_html(fr->content_type, "", 0)) {
		snprintf(r->why, sizeof(r->why), "a web page, not a list "
		    "(Content-Type %s)", fr->content_type);
		return;
	}
	if (listupdate_is_html(NULL, fr->body, fr->len)) {
		snprintf(r->why, sizeof(r->why), "a web page, not a list "
		    "(the body starts with '<')");
		return;
	}
	if (listupdate_sift(l->kind, l->category, fr->body, fr->len,
	    &u->checks, &r->sift, err, sizeof(err)) != 0) {
		r->outcome = OUT_FAILED;
		seterr(r->why, sizeof(r->why), "%s", err);
		return;
	}
	if (listupdate_not_a_list(&r->sift)) {
		snprintf(r->why, sizeof(r->why), "not a %s list: %zu of its "
		    "%zu entry lines are not %s entries (more than %d%%)",
		    kind_word(l->kind), r->sift.count[LU_INVALID],
		    r->sift.lines, kind_word(l->kind),
		    LISTUPDATE_MAX_BAD_PERCENT);
		return;
	}
	g = listupdate_guard(&u->ctl->cfg.update, r->have_old, r->old.n,
	    r->sift.kept.n, &pct);
	if (g != LU_GUARD_OK) {
		char what[160];

		if (g == LU_GUARD_EMPTY)
			snprintf(what, sizeof(what), "no entries");
		else
			snprintf(what, sizeof(what), "%s by %lu%% (%zu -> "
			    "%zu entries", g == LU_GUARD_SHRINK ? "shrinks" :
			    "grows", pct, r->old.n, r->sift.kept.n);
		if (!u->force) {
			snprintf(r->why, sizeof(r->why), "%s%s--force accepts "
			    "it)", what, g == LU_GUARD_EMPTY ? " (" : "; ");
			return;
		}
		snprintf(r->forced, sizeof(r->forced), "%s%s", what,
		    g == LU_GUARD_EMPTY ? "" : ")");
	}
	listupdate_diff(&r->old, &r->sift.kept, &r->added, &r->removed);
	r->outcome = OUT_UPDATED;
	r->state.entries = r->sift.kept.n;
	memcpy(r->state.sha256, sha, sizeof(sha));
state:
	/* The validators of this answer, whatever the last ones were. */
	snprintf(r->state.url, sizeof(r->state.url), "%s", l->url);
	memcpy(r->state.etag, fr->etag, sizeof(r->state.etag));
	memcpy(r->state.last_modified, fr->last_modified,
	    sizeof(r->state.last_modified));
	r->state.fetched = u->now;
}

/* Read what there is of one source and fetch it; a body is left in
 * r->fr for judge(). */
static void
fetch_one(struct update *u, struct run *r)
{
	const struct config *c = &u->ctl->cfg;
	const struct config_list *l = r->l;
	struct fetch_request req = { .url = l->url,
	    .ca_file = c->update_ca_file, .timeout = c->update.timeout,
	    .max_bytes = c->update.max_size << 20 };
	char err[1024];

	if (listupdate_state_read(r->state_path, &r->state, &r->have_state,
	    err, sizeof(err)) != 0 ||
	    listupdate_read_copy(l->path, l->kind, l->category, &r->old,
	    &r->have_old, err, sizeof(err)) != 0) {
		r->outcome = OUT_FAILED;
		seterr(r->why, sizeof(r->why), "%s", err);
		return;
	}
	/* Validators belong to a URL and to the copy they were sent for:
	 * without both, fetch in full. */
	if (r->have_state && strcmp(r->state.url, l->url) != 0) {
		memset(&r->state, 0, sizeof(r->state));
		r->have_state = 0;
	}
	if (r->have_old && r->have_state) {
		req.etag = r->state.etag;
		req.last_modified = r->state.last_modified;
	}
	fetch_url(&req, &r->fr);
	switch (r->fr.status) {
	case FETCH_OK:
		r->pending = 1;		/* judged once the database is open */
		return;
	case FETCH_NOT_MODIFIED:
		r->outcome = OUT_UNCHANGED;
		snprintf(r->why, sizeof(r->why), "304");
		r->state.fetched = u->now;
		break;
	case FETCH_UNREACHABLE:
	case FETCH_FAILED:
		r->outcome = r->fr.status == FETCH_UNREACHABLE ?
		    OUT_UNREACHABLE : OUT_FAILED;
		seterr(r->why, sizeof(r->why), "%s: %s", l->url, r->fr.error);
		break;
	}
	fetch_result_free(&r->fr);
}

/* Give a file written here the owner SourceDir has (when root). */
static int
own(const struct update *u, const char *tmp, char *err, size_t errlen)
{
	if (geteuid() != 0 || chown(tmp, u->uid, u->gid) == 0)
		return 0;
	seterr(err, errlen, "%s: chown: %s", tmp, strerror(errno));
	return -1;
}

static int
stage(const struct update *u, const char *path, const char *text,
    size_t len, char **tmp, char *err, size_t errlen)
{
	if (util_write_temp(path, text, len, 0644, tmp, err, errlen) != 0)
		return -1;
	if (own(u, *tmp, err, errlen) != 0) {
		unlink(*tmp);
		free(*tmp);
		*tmp = NULL;
		return -1;
	}
	return 0;
}

static void
unstage(char **tmp)
{
	if (*tmp != NULL) {
		unlink(*tmp);
		free(*tmp);
		*tmp = NULL;
	}
}

/* Step 2: the new copy, state and quarantine file of one source in
 * temporary files.  A failure turns the source into a failed one. */
static void
stage_run(const struct update *u, struct run *r)
{
	char err[1024], *text = NULL, state[4096];
	size_t len, slen;

	if (r->outcome != OUT_UPDATED && r->outcome != OUT_UNCHANGED)
		return;
	slen = listupdate_state_format(&r->state, state, sizeof(state));
	if (slen >= sizeof(state)) {
		seterr(err, sizeof(err), "%s: state too long",
		    r->state_path);
		goto fail;
	}
	if (stage(u, r->state_path, state, slen, &r->state_tmp, err,
	    sizeof(err)) != 0)
		goto fail;
	if (r->outcome == OUT_UNCHANGED)
		return;
	if (listupdate_copy_text(&r->sift, r->l->source, r->l->url, u->now,
	    &text, &len) != 0) {
		seterr(err, sizeof(err), "%s: out of memory", r->l->path);
		goto fail;
	}
	if (stage(u, r->l->path, text, len, &r->copy_tmp, err,
	    sizeof(err)) != 0 ||
	    stage(u, r->quar_path, r->sift.quarantine, r->sift.qlen,
	    &r->quar_tmp, err, sizeof(err)) != 0)
		goto fail;
	free(text);
	return;
fail:
	free(text);
	unstage(&r->state_tmp);
	unstage(&r->copy_tmp);
	unstage(&r->quar_tmp);
	r->outcome = OUT_FAILED;
	seterr(r->why, sizeof(r->why), "%s", err);
}

/* Step 3 for one source: the new copy in place, the old one kept as
 * SOURCE.list.prev.  Returns 0, or -1 having said why. */
static int
put_copy(struct run *r)
{
	if (r->copy_tmp == NULL)
		return 0;
	(void)unlink(r->prev_path);	/* one left by a crash */
	if (link(r->l->path, r->prev_path) == 0)
		r->prev_linked = 1;
	else if (errno != ENOENT)
		fprintf(stderr, "disposable-ctl: %s: cannot keep the old copy "
		    "as %s (%s): a failed build cannot put it back\n",
		    r->l->path, r->prev_path, strerror(errno));
	if (rename(r->copy_tmp, r->l->path) != 0) {
		fprintf(stderr, "disposable-ctl: %s: rename from %s: %s\n",
		    r->l->path, r->copy_tmp, strerror(errno));
		return -1;
	}
	free(r->copy_tmp);
	r->copy_tmp = NULL;
	return 0;
}

/* A failed build: the old copy back (or none, as before). */
static void
take_back(struct run *r)
{
	unstage(&r->copy_tmp);
	unstage(&r->state_tmp);
	unstage(&r->quar_tmp);
	if (r->outcome != OUT_UPDATED)
		return;
	if (r->prev_linked) {
		if (rename(r->prev_path, r->l->path) != 0)
			fprintf(stderr, "disposable-ctl: %s: cannot put the "
			    "old copy back from %s: %s\n", r->l->path,
			    r->prev_path, strerror(errno));
		r->prev_linked = 0;
	} else if (!r->have_old)
		(void)unlink(r->l->path);
}

/* Step 4 for one source. */
static int
keep(struct run *r)
{
	int rc = 0;

	if (r->state_tmp != NULL && rename(r->state_tmp, r->state_path) != 0) {
		fprintf(stderr, "disposable-ctl: %s: rename from %s: %s\n",
		    r->state_path, r->state_tmp, strerror(errno));
		rc = -1;
	}
	if (r->quar_tmp != NULL && rename(r->quar_tmp, r->quar_path) != 0) {
		fprintf(stderr, "disposable-ctl: %s: rename from %s: %s\n",
		    r->quar_path, r->quar_tmp, strerror(errno));
		rc = -1;
	}
	unstage(&r->state_tmp);
	unstage(&r->quar_tmp);
	if (r->prev_linked)
		(void)unlink(r->prev_path);
	r->prev_linked = 0;
	return rc;
}

static void
print_run(const struct run *r)
{
	const char *name = r->l->source;
	const char *kept = r->have_old ? "last good copy kept" :
	    "no copy yet (built without it)";

	switch (r->outcome) {
	case OUT_UPDATED:
		printf("%s: updated, %zu entries (+%zu -%zu), %zu quarantined "
		    "(%zu allowlisted, %zu infrastructure, %zu public "
		    "suffix, %zu never-block, %zu invalid)%s%s\n", name,
		    r->sift.kept.n, r->added, r->removed, r->sift.quarantined,
		    r->sift.count[LU_ALLOWLISTED],
		    r->sift.count[LU_INFRASTRUCTURE],
		    r->sift.count[LU_PUBLIC_SUFFIX],
		    r->sift.count[LU_NEVER_BLOCK], r->sift.count[LU_INVALID],
		    r->forced[0] ? "; accepted with --force: " : "",
		    r->forced);
		break;
	case OUT_UNCHANGED:
		printf("%s: unchanged (%s)\n", name, r->why);
		break;
	case OUT_REFUSED:
		printf("%s: refused: %s; %s\n", name, r->why, kept);
		break;
	case OUT_FAILED:
	case OUT_UNREACHABLE:
		printf("%s: failed: %s; %s\n", name, r->why, kept);
		break;
	}
}

/* Tell the daemon to reload (SIGUSR1; SIGHUP stops it).  Anything in the
 * way is a note: the daemon notices a new database by itself. */
static void
signal_daemon(const struct config *c)
{
	char buf[64], *end;
	long pid;
	FILE *f;
	size_t n;

	if (c->pidfile[0] == '\0') {
		printf("note: no PidFile configured: the daemon picks up the "
		    "new database by itself within seconds\n");
		return;
	}
	if ((f = fopen(c->pidfile, "re")) == NULL) {
		printf("note: %s: %s: no daemon signalled (a running one "
		    "picks up the new database by itself)\n", c->pidfile,
		    strerror(errno));
		return;
	}
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	errno = 0;
	pid = strtol(buf, &end, 10);
	if (errno != 0 || end == buf || (*end != '\0' && *end != '\n') ||
	    pid <= 1) {
		printf("note: %s: no process id in it: no daemon "
		    "signalled\n", c->pidfile);
		return;
	}
	if (kill((pid_t)pid, 0) != 0 || kill((pid_t)pid, SIGUSR1) != 0) {
		printf("note: %s: process %ld: %s: no daemon signalled\n",
		    c->pidfile, pid, errno == ESRCH ? "not running" :
		    strerror(errno));
		return;
	}
	printf("daemon (pid %ld) told to reload (SIGUSR1)\n", pid);
}

/* Returns -1 to go on, or the exit status having said why not. */
static int
parse_options(struct update *u, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "force", no_argument, NULL, 'f' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "source", required_argument, NULL, 's' },
		{ "no-build", no_argument, NULL, 'B' },
		{ "rebuild", no_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 }
	};
	int ch;

	while ((ch = ctl_getopt(u->ctl, argc, argv, "", longopts)) != -1) {
		switch (ch) {
		case 'f': u->force = 1; break;
		case 'n': u->dry_run = 1; break;
		case 'B': u->no_build = 1; break;
		case 'r': u->rebuild = 1; break;
		case 's':
			if (u->nonly == CONFIG_MAX_LISTS)
				return ctl_usage_error(u->ctl, "--source: "
				    "more than %d", CONFIG_MAX_LISTS);
			u->only[u->nonly++] = optarg;
			break;
		default:
			return CTL_EXIT_ERROR;
		}
	}
	if (optind != argc)
		return ctl_usage_error(u->ctl, "'%s': update takes no operand "
		    "(--source NAME?)", argv[optind]);
	if (u->no_build && u->rebuild)
		return ctl_usage_error(u->ctl, "--no-build and --rebuild: one "
		    "or the other");
	return -1;
}

/* The runs: every remote source selected.  Returns 0 or 2. */
static int
plan(struct update *u)
{
	const struct config *c = &u->ctl->cfg;

	for (size_t i = 0; i < u->nonly; i++) {
		size_t j;

		for (j = 0; j < c->nlists; j++)
			if (strcmp(c->lists[j].source, u->only[i]) == 0)
				break;
		if (j == c->nlists || c->lists[j].url[0] == '\0') {
			fprintf(stderr, "disposable-ctl: --source %s: %s\n",
			    u->only[i], j == c->nlists ? "no such source in "
			    "the configuration" : "not a remote list (its "
			    "location is a file)");
			return 2;
		}
	}
	if ((u->runs = calloc(CONFIG_MAX_LISTS, sizeof(*u->runs))) == NULL) {
		fprintf(stderr, "disposable-ctl: out of memory\n");
		return 2;
	}
	for (size_t j = 0; j < c->nlists; j++) {
		const struct config_list *l = &c->lists[j];
		struct run *r = &u->runs[u->nruns];

		if (l->url[0] == '\0' || !selected(u, l->source))
			continue;
		r->l = l;
		snprintf(r->state_path, sizeof(r->state_path), "%s/%s.state",
		    c->source_dir, l->source);
		snprintf(r->quar_path, sizeof(r->quar_path),
		    "%s/%s.quarantine", c->source_dir, l->source);
		snprintf(r->prev_path, sizeof(r->prev_path), "%s.prev",
		    l->path);
		u->nruns++;
	}
	return 0;
}

/* The database the checks ask: built first when there is none yet (not
 * in a dry run, which writes nothing).  Returns 0 or 2. */
static int
open_database(struct update *u)
{
	struct ctl *ctl = u->ctl;

	if (access(ctl->cfg.database, F_OK) != 0) {
		if (u->dry_run) {
			printf("note: %s: no database yet: the allowlist and "
			    "shared infrastructure are not checked\n",
			    ctl->cfg.database);
			return 0;
		}
		printf("%s: no database yet: built first from the lists "
		    "there are, for the allowlist and shared "
		    "infrastructure\n", ctl->cfg.database);
		if (ctl_build_configured(ctl, NULL, 0) != 0)
			return 2;
	}
	return ctl_open_db(ctl, &u->checks.db) == 0 ? 0 : 2;
}

/* Steps 3 and 4.  Returns 0, or 2 when the build failed (nothing kept). */
static int
apply(struct update *u, int *failed)
{
	int changed = 0;

	for (size_t i = 0; i < u->nruns; i++)
		if (u->runs[i].copy_tmp != NULL) {
			if (put_copy(&u->runs[i]) == 0)
				changed = 1;
			else {
				take_back(&u->runs[i]);
				*failed = 1;
			}
		}
	if ((changed || u->rebuild) && !u->no_build) {
		/* The daemon may have the old database open: the build
		 * replaces the file, it never writes into it. */
		listdb_close(u->checks.db);
		u->checks.db = NULL;
		if (ctl_build_configured(u->ctl, NULL, 0) != 0) {
			for (size_t i = 0; i < u->nruns; i++)
				take_back(&u->runs[i]);
			fprintf(stderr, "disposable-ctl: update: the build "
			    "failed: the last good copies and the database "
			    "are as they were\n");
			return 2;
		}
	}
	for (size_t i = 0; i < u->nruns; i++)
		if (keep(&u->runs[i]) != 0)
			*failed = 1;
	util_sync_dir(u->runs[0].state_path);
	if ((changed || u->rebuild) && !u->no_build)
		signal_daemon(&u->ctl->cfg);
	return 0;
}

int
cmd_update(struct ctl *ctl, int argc, char **argv)
{
	struct update u = { .ctl = ctl };
	struct listupdate_never *never = NULL;
	const struct run *first_unreachable = NULL;
	size_t unreachable = 0;
	int rc, failed = 0, lock = -1;
	char err[1024];

	if ((rc = parse_options(&u, argc, argv)) >= 0)
		return rc;
	if ((rc = plan(&u)) != 0)
		goto out;
	if (u.nruns == 0) {
		printf("no remote lists in the configuration: nothing to "
		    "update\n");
		goto out;
	}
	rc = 2;
	if (ctl->cfg.update_never_block[0] != '\0') {
		if (listupdate_never_load(ctl->cfg.update_never_block, &never,
		    err, sizeof(err)) != 0) {
			fprintf(stderr, "disposable-ctl: UpdateNeverBlock: "
			    "%s\n", err);
			goto out;
		}
		u.checks.never = never;
	}
	/* The last good copies are read under the lock, when there are
	 * any; a SourceDir still to be made waits until it is needed. */
	if (!u.dry_run && access(ctl->cfg.source_dir, F_OK) == 0 &&
	    (lock = lock_source_dir(&ctl->cfg)) == -1)
		goto out;
	if (fetch_init(err, sizeof(err)) != 0) {
		fprintf(stderr, "disposable-ctl: %s\n", err);
		goto out;
	}
	u.now = time(NULL);
	for (size_t i = 0; i < u.nruns; i++) {
		fetch_one(&u, &u.runs[i]);
		if (u.runs[i].outcome == OUT_UNREACHABLE &&
		    unreachable++ == 0)
			first_unreachable = &u.runs[i];
	}
	fetch_fini();

	/* No network: one line, and nothing touched, not even made. */
	if (unreachable == u.nruns) {
		printf("offline: no remote source could be reached (first "
		    "error: %s: %s); the lists are as they were\n",
		    first_unreachable->l->source, first_unreachable->why);
		rc = EXIT_TEMPFAIL;
		goto out;
	}
	if (!u.dry_run && (source_dir(&u) != 0 || (lock == -1 &&
	    (lock = lock_source_dir(&ctl->cfg)) == -1)))
		goto out;
	if (open_database(&u) != 0)
		goto out;
	for (size_t i = 0; i < u.nruns; i++)
		if (u.runs[i].pending) {
			judge(&u, &u.runs[i], &u.runs[i].fr);
			fetch_result_free(&u.runs[i].fr);
			u.runs[i].pending = 0;
		}
	for (size_t i = 0; i < u.nruns; i++) {
		if (!u.dry_run)
			stage_run(&u, &u.runs[i]);
		print_run(&u.runs[i]);
		if (u.runs[i].outcome >= OUT_REFUSED)
			failed = 1;
	}
	if (u.dry_run) {
		printf("dry run: nothing written, the database not rebuilt\n");
		rc = failed;
		goto out;
	}
	if ((rc = apply(&u, &failed)) == 0)
		rc = failed;
out:
	for (size_t i = 0; i < u.nruns; i++) {
		unstage(&u.runs[i].copy_tmp);
		unstage(&u.runs[i].state_tmp);
		unstage(&u.runs[i].quar_tmp);
		listupdate_set_free(&u.runs[i].old);
		listupdate_sift_free(&u.runs[i].sift);
		fetch_result_free(&u.runs[i].fr);
	}
	free(u.runs);
	listdb_close(u.checks.db);
	listupdate_never_free(never);
	if (lock != -1)
		close(lock);
	return rc;
}
