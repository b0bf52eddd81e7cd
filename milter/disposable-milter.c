/*
 * disposable-milter - the daemon: command line, configuration, privileges,
 * socket, signals.  Everything it decides is decided in lib/ (through the
 * callbacks in callbacks.c).
 *
 * Start-up order, and why.  A start that cannot succeed must say so on
 * the terminal and exit non-zero, never detach and die in syslog:
 *   1. parse the command line, read the configuration, look up the user
 *      and make way for the socket (listen.h: a live socket of another
 *      instance is refused, a stale one removed), all in the process the
 *      shell waits for (-n: check the rest as the user the daemon runs
 *      as, then stop);
 *   2. unless -f, fork: the child does everything below and reports on a
 *      socket pair ("ok", or its warnings and the reason it stopped); the
 *      parent prints what it is told and exits 0 only on "ok".  Nothing
 *      of LMDB is open across the fork;
 *   3. open and lock the pid file as root (a second instance finds it
 *      locked), drop privileges (setgroups, setresgid, setresuid,
 *      aborting on failure), then load the state (configuration, key,
 *      database), check the records store and the metrics directory,
 *      and bind the socket, all as the unprivileged user, so that what
 *      the daemon cannot open later is found now;
 *   4. block SIGUSR1 before any thread starts; a reload thread sigwaits
 *      on it.  libmilter's own thread handles SIGHUP/SIGTERM (graceful
 *      stop) and SIGINT (abort);
 *   5. ready: tell the parent, detach from the terminal, serve.
 */
#include "config.h"

#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <libmilter/mfapi.h>

#include "callbacks.h"
#include "dns.h"
#include "domain.h"
#include "listdb.h"
#include "listen.h"
#include "log.h"
#include "metrics.h"
#include "notify.h"
#include "records.h"
#include "recwriter.h"
#include "spf.h"
#include "state.h"
#include "util.h"


static const char *conffile = config_default_file;
static const char *socket_opt;
static struct recwriter *recorder;	/* NULL: no records store (yet) */
static time_t started;
static atomic_int stopping;		/* main asks the reload thread to end */
static const char *pidfile_made;	/* ours (locked): removed at exit */
static const char *socket_made;		/* ours (bound): removed at exit */
static int ready_fd = -1;		/* to the waiting parent, until ready */

/* The records store: opened at start if it can be, else retried by the
 * housekeeping with a growing pause; mail never waits for it. */
static struct {
	time_t		 next_try;
	int		 pause;		/* seconds, doubling to RETRY_MAX */
	uint64_t	 failures;
	int		 warned;
} rec_state;
/* How long a stop waits for the messages in flight: beyond the longest
 * DNS budget (25 s) a message can spend in the milter; a client slower
 * than that in its DATA is cut off. */
#define STOP_DRAIN_SECONDS	30

#define RECORDS_RETRY_MIN	5
#define RECORDS_RETRY_MAX	300

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr, "usage: disposable-milter [-fnV] [-c file] "
	    "[-p socket] [-P pidfile] [-u user[:group]]\n");
	exit(2);
}

/* Whom the daemon runs as (-u or UserID); spec NULL: whoever started it. */
struct runas {
	const char	*spec;
	uid_t		 uid;
	gid_t		 gid;
};

/* Whom cfg's UserID (which -u has overridden) names.  Returns 0, or -1
 * with the reason in err. */
static int
runas_resolve(const struct config *cfg, struct runas *ra, char *err,
    size_t errlen)
{
	int r;

	ra->spec = NULL;
	if ((r = config_user_ids(cfg, &ra->uid, &ra->gid, err, errlen)) < 0)
		return -1;
	if (r == 0)
		ra->spec = cfg->user;
	return 0;
}

/* Become ra in the three exact steps, or die.  A process that already
 * is that user and group (started by it) has nothing to drop. */
static void
runas_drop(const struct runas *ra)
{
	if (ra->spec == NULL)
		return;
	if (geteuid() != 0 && getuid() == ra->uid && geteuid() == ra->uid &&
	    getgid() == ra->gid && getegid() == ra->gid)
		return;
	if (setgroups(1, &ra->gid) != 0 ||
	    setresgid(ra->gid, ra->gid, ra->gid) != 0 ||
	    setresuid(ra->uid, ra->uid, ra->uid) != 0)
		fatal("cannot drop privileges to %s", ra->spec);
	if (setuid(0) == 0 && ra->uid != 0)
		fatalx("privileges could be regained after dropping them");
}

/*
 * The pid file: opened as root, possibly in a directory the milter's
 * user may write, so never through a symbolic link, a hard link or into
 * anything but a regular file.  It is locked for the daemon's life (the
 * descriptor stays open): a second instance finds the lock and stops
 * before it touches the file, so it can never remove the pid file of the
 * instance that runs.
 */
static void
pidfile_take(const char *path)
{
	char buf[32];
	struct stat st;
	ssize_t r;
	int fd, n;

	fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC |
	    O_NOCTTY | O_NONBLOCK, 0644);
	if (fd == -1)
		fatal("pid file %s%s", path, errno == ELOOP ?
		    " is a symbolic link; refused" : "");
	if (fstat(fd, &st) == -1)
		fatal("pid file %s", path);
	if (!S_ISREG(st.st_mode) || st.st_nlink != 1)
		fatalx("pid file %s: not a regular file with one link; "
		    "refused", path);
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		if (errno != EWOULDBLOCK)
			fatal("pid file %s: cannot lock it", path);
		r = pread(fd, buf, sizeof(buf) - 1, 0);
		buf[r > 0 ? r : 0] = '\0';
		buf[strcspn(buf, "\n")] = '\0';
		fatalx("pid file %s is locked by a running instance (pid %s); "
		    "not started", path, buf[0] != '\0' ? buf : "unknown");
	}
	pidfile_made = path;
	n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) == -1 || pwrite(fd, buf, (size_t)n, 0) != n)
		fatal("pid file %s", path);
}

/* At every exit after start-up, fatal ones included: what this process
 * made goes, and only that. */
static void
remove_own_files(void)
{
	if (pidfile_made != NULL)
		(void)unlink(pidfile_made);
	if (socket_made != NULL)
		(void)unlink(socket_made);
}

/*
 * Detaching.  The parent waits on a socket pair for one line from the
 * child: "ok" once it serves, or, before it dies, the lines it logged at
 * warning level and above (relayed only when the child logs to syslog:
 * with Syslog no they reach the same stderr by themselves).  The parent
 * exits 0 on "ok", else 1 once the child is gone, so that no process is
 * left behind a failed start (a child killed before it could say why
 * is reported by its signal).
 */
static void
relay_to_parent(int pri, const char *line)
{
	char buf[2200];
	int n;

	(void)pri;
	if (ready_fd == -1)
		return;
	n = snprintf(buf, sizeof(buf), "L%s\n", line);
	if (n > 0 && (size_t)n < sizeof(buf)) {
		for (char *p = buf + 1; p < buf + n - 1; p++)
			if (*p == '\n')
				*p = ' ';
		(void)send(ready_fd, buf, (size_t)n, MSG_NOSIGNAL);
	}
}

static void __attribute__((noreturn))
wait_for_child(pid_t pid, int fd, int relay)
{
	char buf[4096], *nl;
	size_t have = 0;
	ssize_t r;
	int status, said = 0;

	for (;;) {
		r = read(fd, buf + have, sizeof(buf) - 1 - have);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		have += (size_t)r;
		buf[have] = '\0';
		while ((nl = strchr(buf, '\n')) != NULL) {
			*nl = '\0';
			if (strcmp(buf, "ok") == 0)
				exit(0);
			if (buf[0] == 'L') {
				fprintf(stderr, "disposable-milter: %s\n",
				    buf + 1);
				said = 1;
			}
			have -= (size_t)(nl + 1 - buf);
			memmove(buf, nl + 1, have + 1);
		}
		if (have == sizeof(buf) - 1)
			have = 0;	/* a line too long: dropped */
	}
	while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
		;
	if (WIFSIGNALED(status))
		fprintf(stderr, "disposable-milter: the daemon was killed by "
		    "signal %d before it was ready\n", WTERMSIG(status));
	else if (relay && !said)
		fprintf(stderr, "disposable-milter: the daemon stopped before "
		    "it was ready (exit status %d)\n", WIFEXITED(status) ?
		    WEXITSTATUS(status) : -1);
	exit(1);
}

/* Fork; the parent waits for the child's word and never returns. */
static void
detach(int relay)
{
	int sv[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1)
		fatal("socketpair");
	if ((pid = fork()) == -1)
		fatal("fork");
	if (pid != 0) {
		close(sv[1]);
		wait_for_child(pid, sv[0], relay);
	}
	close(sv[0]);
	ready_fd = sv[1];
	if (setsid() == -1)
		fatal("setsid");
	if (relay)
		log_set_relay(relay_to_parent);
}

/* Serving: tell the parent, then leave the terminal.  With Syslog no, a
 * daemon keeps the stderr it was started with (redirect it to a file). */
static void
ready(int keep_stderr)
{
	int fd;

	if (ready_fd == -1)
		return;
	log_set_relay(NULL);
	(void)send(ready_fd, "ok\n", 3, MSG_NOSIGNAL);
	close(ready_fd);
	ready_fd = -1;
	if ((fd = open("/dev/null", O_RDWR | O_CLOEXEC)) == -1) {
		log_warn("/dev/null");
		return;
	}
	(void)dup2(fd, STDIN_FILENO);
	(void)dup2(fd, STDOUT_FILENO);
	if (!keep_stderr)
		(void)dup2(fd, STDERR_FILENO);
	close(fd);
}

/* Core dumps would hold addresses in flight: off unless CoreDumps yes
 * (the key is kept out of them either way, state.c).  Called after the
 * privilege drop, which resets the dumpable flag to the system's
 * suid_dumpable (usually 0). */
static void
limit_core_dumps(int allow)
{
	struct rlimit rl = { 0, 0 };

	if (allow) {
		if (prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) == -1)
			log_warn("cannot set the dumpable flag");
		return;
	}
	if (setrlimit(RLIMIT_CORE, &rl) == -1)
		log_warn("cannot set RLIMIT_CORE to 0");
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == -1)
		log_warn("cannot clear the dumpable flag");
}

/* Open the records store and start its writer; on failure warn (once
 * per outage), count, and try again later. */
static void
records_try(const struct config *cfg)
{
	struct records *rs;
	char err[1024];

	if (recorder != NULL || cfg->records[0] == '\0' ||
	    time(NULL) < rec_state.next_try)
		return;
	if (records_open(cfg->records, cfg->records_mapsize << 20, 0, &rs,
	    err, sizeof(err)) == 0) {
		if ((recorder = recwriter_start(rs, &cfg->rec, err,
		    sizeof(err))) != NULL) {
			callbacks_set_recorder(recorder);
			if (rec_state.warned)
				log_info("records: %s open again",
				    cfg->records);
			rec_state.warned = 0;
			rec_state.pause = 0;
			return;
		}
		records_close(rs);
	}
	rec_state.failures++;
	rec_state.pause = rec_state.pause == 0 ? RECORDS_RETRY_MIN :
	    rec_state.pause * 2 > RECORDS_RETRY_MAX ? RECORDS_RETRY_MAX :
	    rec_state.pause * 2;
	rec_state.next_try = time(NULL) + rec_state.pause;
	if (!rec_state.warned)
		log_warnx("records: %s; running without the records store, "
		    "retrying", err);
	rec_state.warned = 1;
}

/* The housekeeping: the metrics file every MetricsInterval, the summary
 * line every StatsInterval, both once more at a stop (HK_FINAL: up 0,
 * the last counts; the line unless StatsInterval is 0). */
#define HK_METRICS	1
#define HK_STATS	2
#define HK_FINAL	4

static void
housekeeping(int what)
{
	int final = (what & HK_FINAL) != 0;
	struct metrics_extra x;
	struct state *s = state_acquire();
	char line[1024], err[1024], *text;

	if (s == NULL)
		return;
	if (final)
		what |= HK_METRICS | (s->cfg.stats_interval > 0 ? HK_STATS : 0);
	memset(&x, 0, sizeof(x));
	x.now = time(NULL);
	x.stopped = final;
	x.started = started;
	dns_get_stats(&x.dns);
	spf_get_stats(&x.spf);
	if (!final)
		records_try(&s->cfg);
	if (recorder != NULL) {
		x.have_records = 1;
		recwriter_get_stats(recorder, &x.rec);
	} else if (s->cfg.records[0] != '\0')
		x.records_down = 1;
	x.records_open_failures = rec_state.failures;
	x.db_built = listdb_built(state_db(s));
	x.db_entries = listdb_entries(state_db(s));
	x.db_fingerprints = listdb_fp_entries(state_db(s));
	if (what & HK_STATS) {
		metrics_summary(&x, line, sizeof(line));
		log_info("stats: %s", line);
	}
	if ((what & HK_METRICS) && s->cfg.metrics_file[0] != '\0') {
		if ((text = metrics_render(&x)) == NULL)
			log_warnx("metrics: out of memory");
		else if (metrics_write_file(s->cfg.metrics_file, text, err,
		    sizeof(err)) != 0)
			log_warnx("metrics: %s", err);
		free(text);
	}
	state_release(s);
}

/*
 * The stop.  libmilter's signal thread (started by smfi_main) waits for
 * SIGHUP, SIGTERM and SIGINT, and on the first two tells its pool of
 * workers to stop at once: a message in flight is cut off and the MTA
 * applies its default action.  So the daemon takes SIGTERM and SIGHUP
 * from it: this sigwait(), to which the dynamic linker binds libmilter's
 * call, leaves them out of the set (SIGINT, the abort, stays
 * libmilter's), and the reload thread, the only one that waits for them,
 * lets the messages in flight end before it calls smfi_stop().
 */
int
sigwait(const sigset_t *set, int *sig)
{
	sigset_t rest = *set;
	int r;

	sigdelset(&rest, SIGTERM);
	sigdelset(&rest, SIGHUP);
	while ((r = sigwaitinfo(&rest, NULL)) == -1 && errno == EINTR)
		;
	if (r == -1)
		return errno;
	*sig = r;
	return 0;
}

static void
stop_gracefully(int sig)
{
	long left;

	notify_stopping();
	log_info("%s: no new message is filtered; the ones in flight are "
	    "finished first", sig == SIGTERM ? "SIGTERM" : "SIGHUP");
	if ((left = callbacks_drain(STOP_DRAIN_SECONDS)) > 0)
		log_warnx("stopping: %ld message%s still in flight after %d s",
		    left, left == 1 ? "" : "s", STOP_DRAIN_SECONDS);
	if (smfi_stop() != MI_SUCCESS)
		log_warnx("smfi_stop failed");
}

/* Load a complete new state beside the running one and swap it in.
 * Returns 0, or -1 with the reason in err, having changed nothing. */
static int
reload(char *err, size_t errlen)
{
	struct state *cur, *next;

	cur = state_acquire();
	if ((next = state_load(conffile, socket_opt, cur, err,
	    errlen)) == NULL) {
		state_release(cur);
		metrics_count_reload(0);
		return -1;
	}
	if (cur != NULL && strcmp(cur->cfg.socket, next->cfg.socket) != 0)
		log_warnx("reload: Socket change needs a restart");
	if (cur != NULL && strcmp(cur->cfg.records, next->cfg.records) != 0)
		log_warnx("reload: Records change needs a restart");
	log_setverbose(next->cfg.verbose);
	if (dns_reconfigure(&next->cfg.dns, err, errlen) != 0)
		log_warnx("reload: DNS settings kept: %s", err);
	/* Verdicts resting on the old settings' answers go. */
	if (spf_configure(&next->cfg.spf, err, errlen) != 0)
		log_warnx("reload: %s; SPF verdicts are not cached", err);
	log_info("reloaded: database %s with %zu entries",
	    next->cfg.database, listdb_entries(state_db(next)));
	state_install(next);
	state_release(cur);
	metrics_count_reload(1);
	return 0;
}

/*
 * The Database file, looked at once a second.  A change (written in
 * place or replaced: listdb.h's file identity) is acted on once the file
 * has held still for one more look, so that a copy in progress is not
 * read half-way; a version that cannot be used is warned about once and
 * not tried again until the file changes again.
 */
struct db_watch {
	struct listdb_fileid	seen;		/* the last look */
	struct listdb_fileid	refused;	/* tried, unusable */
	int			have_seen, have_refused, missing;
};

/* 1 when Database changed and held still since the last call: reload;
 * w->seen is then the version to load. */
static int
database_settled(struct db_watch *w)
{
	struct listdb_fileid now;
	struct state *s;
	char err[1024];
	int in_use, settled;

	if ((s = state_acquire()) == NULL)
		return 0;
	if (listdb_fileid_get(s->cfg.database, &now, err,
	    sizeof(err)) != 0) {
		if (!w->missing)
			log_warnx("database: %s; keeping the lists in use",
			    err);
		w->missing = 1;
		w->have_seen = 0;
		state_release(s);
		return 0;
	}
	w->missing = 0;
	in_use = listdb_fileid_same(&now, listdb_fileid(state_db(s)));
	if (in_use || (w->have_refused &&
	    listdb_fileid_same(&now, &w->refused))) {
		w->have_seen = 0;
		state_release(s);
		return 0;
	}
	settled = w->have_seen && listdb_fileid_same(&now, &w->seen);
	w->seen = now;
	w->have_seen = !settled;
	if (settled)
		log_info("database %s changed: reloading", s->cfg.database);
	state_release(s);
	return settled;
}

/* Reload on SIGUSR1, and when the Database file changed; on any error
 * keep running on the old state.  Stop on SIGTERM and SIGHUP.  Between
 * signals, the housekeeping: the metrics file at once and every
 * MetricsInterval, the summary line every StatsInterval (counted anew
 * when a reload changes it). */
static void *
reload_thread(void *arg)
{
	sigset_t *set = arg;
	struct db_watch watch = { 0 };
	char err[1024];
	int sig, stats_every = -1;
	time_t next_metrics = time(NULL), next_stats = 0;

	while (!atomic_load(&stopping)) {
		struct state *cur;
		struct timespec wait = { 1, 0 };
		time_t now = time(NULL);
		int what = 0;

		if ((cur = state_acquire()) != NULL) {
			if (cur->cfg.stats_interval != stats_every) {
				stats_every = cur->cfg.stats_interval;
				next_stats = now + stats_every;
			}
			if (now >= next_metrics) {
				what |= HK_METRICS;
				next_metrics = now + cur->cfg.metrics_interval;
			}
			if (stats_every > 0 && now >= next_stats) {
				what |= HK_STATS;
				next_stats = now + stats_every;
			}
			/* A store that could not be opened is retried on its
			 * own schedule, not the metrics'. */
			if (recorder == NULL)
				records_try(&cur->cfg);
			state_release(cur);
			if (what != 0)
				housekeeping(what);
		}
		sig = sigtimedwait(set, NULL, &wait);
		if (sig == SIGTERM || sig == SIGHUP) {
			stop_gracefully(sig);
			break;
		}
		if (sig == SIGUSR1) {
			notify_reloading();
			if (reload(err, sizeof(err)) != 0) {
				log_warnx("reload failed, running on: %s",
				    err);
				notify_ready("serving; the last reload failed "
				    "(see the log)");
			} else
				notify_ready("serving; reloaded");
			continue;
		}
		if (!database_settled(&watch))
			continue;
		if (reload(err, sizeof(err)) == 0)
			watch.have_refused = 0;
		else {
			log_warnx("reload after a database change failed, "
			    "keeping the lists in use: %s", err);
			watch.refused = watch.seen;
			watch.have_refused = 1;
		}
	}
	return NULL;
}

/* The state, read as the user the daemon runs as (called after the
 * drop), and what that user must be able to write later: the records
 * store and the metrics file's directory.  Dies with the reason. */
static struct state *
load_as_user(void)
{
	struct state *s;
	char err[1024], msg[sizeof(err) + CONFIG_PATH_MAX + 32];

	if ((s = state_load(conffile, socket_opt, NULL, err,
	    sizeof(err))) == NULL)
		fatalx("%s", err);
	msg[0] = '\0';
	if (s->cfg.records[0] != '\0' && records_check_access(s->cfg.records,
	    err, sizeof(err)) != 0)
		snprintf(msg, sizeof(msg), "Records: %s", err);
	else if (s->cfg.metrics_file[0] != '\0' &&
	    util_check_dir_of(s->cfg.metrics_file, err, sizeof(err)) != 0)
		snprintf(msg, sizeof(msg), "MetricsFile %s: %s",
		    s->cfg.metrics_file, err);
	if (msg[0] != '\0') {
		state_release(s);	/* nothing left behind, even now */
		fatalx("%s", msg);
	}
	return s;
}

/*
 * -n: everything a start opens, opened or checked as the user the daemon
 * would run as, creating nothing and leaving a running instance alone
 * (its socket is not probed: -n is how an admin checks a change before
 * the reload).  The pid file's directory is checked as root, who writes
 * the file.  Returns only when all is well.
 */
static void
check_only(const struct config *cfg, const struct runas *ra,
    const char *pidfile)
{
	struct state *s;
	const char *path;
	char err[1024];

	if (pidfile != NULL && util_check_dir_of(pidfile, err,
	    sizeof(err)) != 0)
		fatalx("pid file %s: %s", pidfile, err);
	if (ra->spec != NULL && geteuid() != 0 && getuid() != ra->uid)
		fprintf(stderr, "disposable-milter: note: not run as root: "
		    "checked as uid %ld, not as %s\n", (long)getuid(),
		    ra->spec);
	else
		runas_drop(ra);
	s = load_as_user();
	if ((path = listen_unix_path(cfg->socket)) != NULL &&
	    util_check_dir_of(path, err, sizeof(err)) != 0)
		fatalx("socket %s: %s", path, err);
	printf("%s: configuration ok, database %s with %zu entries%s%s\n",
	    conffile, s->cfg.database, listdb_entries(state_db(s)),
	    ra->spec != NULL ? ", checked as " : "",
	    ra->spec != NULL ? ra->spec : "");
	state_install(s);
	state_install(NULL);
}

int
main(int argc, char *argv[])
{
	const char *pidfile = NULL, *user = NULL, *argv_conf = conffile;
	const char *path;
	int ch, foreground = 0, check = 0, s_syslog, removed;
	static struct config cfg;	/* large: not on the stack */
	struct runas ra;
	struct state *s;
	char err[1024];
	sigset_t set, all, old;
	pthread_t tid;

	while ((ch = getopt(argc, argv, "c:fnp:P:u:V")) != -1) {
		switch (ch) {
		case 'c': conffile = argv_conf = optarg; break;
		case 'f': foreground = 1; break;
		case 'n': check = 1; break;
		case 'p': socket_opt = optarg; break;
		case 'P': pidfile = optarg; break;
		case 'u': user = optarg; break;
		case 'V':
			printf("%s %s\n", PACKAGE_NAME, PACKAGE_VERSION);
			return 0;
		default: usage();
		}
	}
	if (optind != argc)
		usage();

	/* 1: what can be known in the process the shell waits for. */
	log_init("disposable-milter", LOG_MAIL, 1, 0);
	notify_check();
	/* The daemon works from "/": a relative -c must still name the same
	 * file at every reload. */
	if ((conffile = realpath(conffile, NULL)) == NULL)
		fatal("%s", argv_conf);
	if (domain_init(NULL, err, sizeof(err)) != 0)
		fatalx("%s", err);
	if (state_load_config(conffile, socket_opt, &cfg, err,
	    sizeof(err)) != 0)
		fatalx("%s", err);
	if (pidfile == NULL && cfg.pidfile[0] != '\0')
		pidfile = cfg.pidfile;
	if (user != NULL && (size_t)snprintf(cfg.user, sizeof(cfg.user), "%s",
	    user) >= sizeof(cfg.user))
		fatalx("-u %.64s...: too long", user);
	if (runas_resolve(&cfg, &ra, err, sizeof(err)) != 0)
		fatalx("%s", err);
	if (dns_init(&cfg.dns, err, sizeof(err)) != 0)
		fatalx("%s: %s", conffile, err);
	if (spf_init(err, sizeof(err)) != 0 ||
	    spf_configure(&cfg.spf, err, sizeof(err)) != 0)
		fatalx("%s", err);
	if (check) {
		check_only(&cfg, &ra, pidfile);
		return 0;
	}
	if (smfi_setconn(cfg.socket) != MI_SUCCESS)
		fatalx("bad socket %s", cfg.socket);
	if (smfi_register(dm_filter) != MI_SUCCESS)
		fatalx("smfi_register failed");
	(void)smfi_setmaxdatasize(CALLBACKS_MAX_PACKET);
	if (listen_claim(cfg.socket, &removed, err, sizeof(err)) != 0)
		fatalx("%s", err);
	if (removed)
		log_info("removed the stale socket %s (no process listened "
		    "on it)", listen_unix_path(cfg.socket));
	s_syslog = cfg.syslog;

	/* 2: the child goes on, the parent waits for its word. */
	if (!foreground) {
		if (s_syslog)
			log_init("disposable-milter", cfg.syslog_facility, 0,
			    cfg.verbose);
		detach(s_syslog);
		if (chdir("/") == -1)
			fatal("chdir /");
	}
	log_setverbose(cfg.verbose);

	/* 3: as root the pid file, then everything else as the user. */
	if (atexit(remove_own_files) != 0)
		fatalx("atexit failed");
	if (pidfile != NULL)
		pidfile_take(pidfile);
	runas_drop(&ra);
	limit_core_dumps(cfg.core_dumps);
	s = load_as_user();
	state_install(s);

	umask(007);	/* the MTA's group may connect to a unix socket */
	if (smfi_opensocket(0) != MI_SUCCESS) {
		listen_why(cfg.socket, err, sizeof(err));
		state_install(NULL);
		fatalx("cannot listen on %s: %s", cfg.socket, err);
	}
	if ((path = listen_unix_path(cfg.socket)) != NULL)
		socket_made = path;
	else if (listen_nodelay() == 0)
		log_warnx("%s: cannot turn Nagle off: tagged messages may "
		    "wait 40 ms each for the MTA's delayed ACK", cfg.socket);

	/* 4: our threads must take no signal: libmilter blocks SIGTERM,
	 * SIGHUP and SIGINT only inside smfi_main, and a SIGTERM delivered
	 * to one of them would kill the process instead of stopping it
	 * gracefully.  So they start with every signal blocked; the reload
	 * thread waits for SIGUSR1, SIGTERM and SIGHUP, which this thread
	 * (and so libmilter's) keep blocked. */
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigfillset(&all);
	if (pthread_sigmask(SIG_BLOCK, &all, &old) != 0)
		fatalx("cannot block signals");
	started = time(NULL);
	records_try(&s->cfg);
	/* s is the reload thread's to replace from now on. */
	log_info("starting %s %s on %s: database %s with %zu entries, "
	    "mode %s", PACKAGE_NAME, PACKAGE_VERSION, s->cfg.socket,
	    s->cfg.database, listdb_entries(state_db(s)),
	    s->cfg.mode == MODE_OBSERVE ? "observe" : "enforce");
	snprintf(err, sizeof(err), "serving on %s: %zu list entries, mode %s",
	    s->cfg.socket, listdb_entries(state_db(s)),
	    s->cfg.mode == MODE_OBSERVE ? "observe" : "enforce");
	if (pthread_create(&tid, NULL, reload_thread, &set) != 0)
		fatalx("cannot start the reload thread");
	sigaddset(&old, SIGUSR1);
	sigaddset(&old, SIGTERM);
	sigaddset(&old, SIGHUP);
	pthread_sigmask(SIG_SETMASK, &old, NULL);

	/* 5: the socket listens (connections wait in its queue until
	 * smfi_main accepts them): serving. */
	ready(!s_syslog);
	notify_ready(err);
	ch = smfi_main();
	/* The reload thread reads the records writer and writes the
	 * metrics file: it ends before either goes. */
	atomic_store(&stopping, 1);
	pthread_join(tid, NULL);
	/* No callback runs any more: flush what they queued, say the last
	 * counts, then let go of everything. */
	callbacks_set_recorder(NULL);
	if (recorder != NULL)
		recwriter_flush(recorder);
	housekeeping(HK_FINAL);
	if (recorder != NULL) {
		recwriter_stop(recorder);
		recorder = NULL;
	}
	state_install(NULL);
	log_info("stopping");
	return ch == MI_SUCCESS ? 0 : 1;
}
