/*
 * disposable-milter - the daemon: command line, configuration, privileges,
 * socket, signals.  Everything it decides is decided in lib/ (through the
 * callbacks in callbacks.c).
 *
 * Start-up order, and why:
 *   1. parse the command line and load the whole state once, in the
 *      foreground, so that every configuration error reaches the terminal
 *      (-n stops here);
 *   2. daemonise (unless -f) and only then open the list database for
 *      real: LMDB environments must not cross a fork;
 *   3. write the pid file, drop privileges (setgroups, setresgid,
 *      setresuid, aborting on failure), then create the socket so that it
 *      belongs to the unprivileged user;
 *   4. block SIGUSR1 before any thread starts; a reload thread sigwaits
 *      on it.  libmilter's own thread handles SIGHUP/SIGTERM (graceful
 *      stop) and SIGINT (abort).
 */
#include "config.h"

#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pthread.h>
#include <pwd.h>
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
#include "log.h"
#include "metrics.h"
#include "records.h"
#include "recwriter.h"
#include "spf.h"
#include "state.h"


static const char *conffile = config_default_file;
static const char *socket_opt;
static struct recwriter *recorder;	/* NULL: no records store (yet) */
static time_t started;
static atomic_int stopping;		/* main asks the reload thread to end */
static const char *pidfile_made;	/* removed at every exit */
static char socket_made[sizeof(((struct sockaddr_un *)0)->sun_path)];

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

/* Drop to user[:group] in the three exact steps, or die. */
static void
drop_privileges(const char *spec)
{
	char user[256], *group;
	struct passwd *pw;
	struct group *gr;
	gid_t gid;

	snprintf(user, sizeof(user), "%s", spec);
	if ((group = strchr(user, ':')) != NULL)
		*group++ = '\0';
	if ((pw = getpwnam(user)) == NULL)
		fatalx("unknown user %s", user);
	gid = pw->pw_gid;
	if (group != NULL && *group != '\0') {
		if ((gr = getgrnam(group)) == NULL)
			fatalx("unknown group %s", group);
		gid = gr->gr_gid;
	}
	if (setgroups(1, &gid) != 0 ||
	    setresgid(gid, gid, gid) != 0 ||
	    setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) != 0)
		fatal("cannot drop privileges to %s", spec);
	if (setuid(0) == 0 && pw->pw_uid != 0)
		fatalx("privileges could be regained after dropping them");
}

/* Written as root, possibly in a directory the milter's user may write:
 * never follow a symbolic link, never write through a hard link or into
 * anything but a regular file. */
static void
write_pidfile(const char *path)
{
	char buf[32];
	struct stat st;
	int fd, n;

	fd = open(path, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC |
	    O_NOCTTY | O_NONBLOCK, 0644);
	if (fd == -1)
		fatal("pid file %s%s", path, errno == ELOOP ?
		    " is a symbolic link; refused" : "");
	if (fstat(fd, &st) == -1)
		fatal("pid file %s", path);
	if (!S_ISREG(st.st_mode) || st.st_nlink != 1)
		fatalx("pid file %s: not a regular file with one link; "
		    "refused", path);
	n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) == -1 || write(fd, buf, (size_t)n) != n ||
	    close(fd) == -1)
		fatal("pid file %s", path);
	pidfile_made = path;
}

/* At every exit after start-up, fatal ones included: what this process
 * made goes (the unix socket only if this process created it). */
static void
remove_own_files(void)
{
	if (pidfile_made != NULL)
		(void)unlink(pidfile_made);
	if (socket_made[0] != '\0')
		(void)unlink(socket_made);
}

/* The unix socket's path, if Socket names one. */
static void
note_socket(const char *spec)
{
	const char *p = NULL;

	if (strncasecmp(spec, "unix:", 5) == 0)
		p = spec + 5;
	else if (strncasecmp(spec, "local:", 6) == 0)
		p = spec + 6;
	if (p != NULL)
		snprintf(socket_made, sizeof(socket_made), "%s", p);
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

/* The metrics file and the summary line: every MetricsInterval, and
 * once more at a stop (final: up 0, the last counts). */
static void
housekeeping(int final)
{
	struct metrics_extra x;
	struct state *s = state_acquire();
	char line[1024], err[1024], *text;

	if (s == NULL)
		return;
	memset(&x, 0, sizeof(x));
	x.now = time(NULL);
	x.stopped = final;
	x.started = started;
	dns_get_stats(&x.dns);
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
	metrics_summary(&x, line, sizeof(line));
	log_info("stats: %s", line);
	if (s->cfg.metrics_file[0] != '\0') {
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
		return -1;
	}
	if (cur != NULL && strcmp(cur->cfg.socket, next->cfg.socket) != 0)
		log_warnx("reload: Socket change needs a restart");
	if (cur != NULL && strcmp(cur->cfg.records, next->cfg.records) != 0)
		log_warnx("reload: Records change needs a restart");
	log_setverbose(next->cfg.verbose);
	if (dns_reconfigure(&next->cfg.dns, err, errlen) != 0)
		log_warnx("reload: DNS settings kept: %s", err);
	log_info("reloaded: database %s with %zu entries",
	    next->cfg.database, listdb_entries(state_db(next)));
	state_install(next);
	state_release(cur);
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
 * signals, the housekeeping of every MetricsInterval. */
static void *
reload_thread(void *arg)
{
	sigset_t *set = arg;
	struct db_watch watch = { 0 };
	char err[1024];
	int sig;
	time_t next_stats = time(NULL);

	while (!atomic_load(&stopping)) {
		struct state *cur;
		struct timespec wait = { 1, 0 };
		int interval;

		if ((cur = state_acquire()) != NULL) {
			interval = cur->cfg.metrics_interval;
			/* A store that could not be opened is retried on its
			 * own schedule, not the metrics'. */
			if (recorder == NULL)
				records_try(&cur->cfg);
			state_release(cur);
			if (time(NULL) >= next_stats) {
				housekeeping(0);
				next_stats = time(NULL) + interval;
			}
		}
		sig = sigtimedwait(set, NULL, &wait);
		if (sig == SIGTERM || sig == SIGHUP) {
			stop_gracefully(sig);
			break;
		}
		if (sig == SIGUSR1) {
			if (reload(err, sizeof(err)) != 0)
				log_warnx("reload failed, running on: %s",
				    err);
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

int
main(int argc, char *argv[])
{
	const char *pidfile = NULL, *user = NULL, *argv_conf = conffile;
	int ch, foreground = 0, check_only = 0, s_syslog, s_cores;
	struct state *s;
	char err[1024];
	sigset_t set, all, old;
	pthread_t tid;

	while ((ch = getopt(argc, argv, "c:fnp:P:u:V")) != -1) {
		switch (ch) {
		case 'c': conffile = argv_conf = optarg; break;
		case 'f': foreground = 1; break;
		case 'n': check_only = 1; break;
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

	log_init("disposable-milter", LOG_MAIL, 1, 0);
	/* The daemon works from "/": a relative -c must still name the same
	 * file at every reload. */
	if ((conffile = realpath(conffile, NULL)) == NULL)
		fatal("%s", argv_conf);
	if (domain_init(NULL, err, sizeof(err)) != 0)
		fatalx("%s", err);
	if ((s = state_load(conffile, socket_opt, NULL, err,
	    sizeof(err))) == NULL)
		fatalx("%s", err);
	if (dns_init(&s->cfg.dns, err, sizeof(err)) != 0)
		fatalx("%s: %s", conffile, err);
	if (spf_init(err, sizeof(err)) != 0)
		fatalx("%s", err);
	if (check_only) {
		printf("%s: configuration ok, database %s with %zu entries\n",
		    conffile, s->cfg.database, listdb_entries(state_db(s)));
		state_install(s);
		state_install(NULL);
		return 0;
	}
	if (pidfile == NULL && s->cfg.pidfile[0] != '\0')
		pidfile = strdup(s->cfg.pidfile);
	if (user == NULL && s->cfg.user[0] != '\0')
		user = strdup(s->cfg.user);
	if (!foreground && s->cfg.syslog)
		log_init("disposable-milter", s->cfg.syslog_facility, 0,
		    s->cfg.verbose);
	else
		log_init("disposable-milter", LOG_MAIL, 1, s->cfg.verbose);
	if (smfi_setconn(s->cfg.socket) != MI_SUCCESS)
		fatalx("bad socket %s", s->cfg.socket);
	if (smfi_register(dm_filter) != MI_SUCCESS)
		fatalx("smfi_register failed");
	(void)smfi_setmaxdatasize(CALLBACKS_MAX_PACKET);
	s_syslog = s->cfg.syslog;
	s_cores = s->cfg.core_dumps;
	state_install(s);
	state_install(NULL);	/* close the database before the fork */

	/* With Syslog no, a daemon keeps the stderr it was started with
	 * (redirect it to a file); with syslog, stdio goes to /dev/null. */
	if (!foreground && daemon(0, !s_syslog) != 0)
		fatal("daemon");
	if (atexit(remove_own_files) != 0)
		fatalx("atexit failed");
	if (pidfile != NULL)
		write_pidfile(pidfile);
	if (user != NULL)
		drop_privileges(user);
	limit_core_dumps(s_cores);
	if ((s = state_load(conffile, socket_opt, NULL, err,
	    sizeof(err))) == NULL)
		fatalx("%s", err);
	state_install(s);

	umask(007);	/* the MTA's group may connect to a unix socket */
	if (smfi_opensocket(1) != MI_SUCCESS)
		fatalx("cannot open socket %s", s->cfg.socket);
	note_socket(s->cfg.socket);

	/* Our threads must take no signal: libmilter blocks SIGTERM, SIGHUP
	 * and SIGINT only inside smfi_main, and a SIGTERM delivered to one
	 * of them would kill the process instead of stopping it gracefully.
	 * So they start with every signal blocked; the reload thread waits
	 * for SIGUSR1, SIGTERM and SIGHUP, which this thread (and so
	 * libmilter's) keep blocked. */
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigfillset(&all);
	if (pthread_sigmask(SIG_BLOCK, &all, &old) != 0)
		fatalx("cannot block signals");
	started = time(NULL);
	records_try(&s->cfg);
	if (pthread_create(&tid, NULL, reload_thread, &set) != 0)
		fatalx("cannot start the reload thread");
	sigaddset(&old, SIGUSR1);
	sigaddset(&old, SIGTERM);
	sigaddset(&old, SIGHUP);
	pthread_sigmask(SIG_SETMASK, &old, NULL);

	log_info("starting %s %s on %s: database %s with %zu entries, "
	    "mode %s", PACKAGE_NAME, PACKAGE_VERSION, s->cfg.socket,
	    s->cfg.database, listdb_entries(state_db(s)),
	    s->cfg.mode == MODE_OBSERVE ? "observe" : "enforce");
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
	housekeeping(1);
	if (recorder != NULL) {
		recwriter_stop(recorder);
		recorder = NULL;
	}
	state_install(NULL);
	log_info("stopping");
	return ch == MI_SUCCESS ? 0 : 1;
}
