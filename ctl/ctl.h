/*
 * ctl.h - what the commands of disposable-ctl share.
 *
 * Every command is a row of the command table in disposable-ctl.c: a
 * name, a function called with the context (the configuration read, and
 * where from) and its own argc/argv (argv[0] is the command), and what
 * --help prints: its usage, options and exit statuses.  A command parses
 * its options with ctl_getopt, answers a bad argument with
 * ctl_usage_error (which names it), and returns the program's exit
 * status: CTL_EXIT_OK, CTL_EXIT_FOUND or CTL_EXIT_ERROR, as its row
 * says (update has 75 besides).  The commands live one group to a
 * file:
 *
 *   cmd-lists.c    build, lookup, fingerprint, mine, stats
 *   cmd-check.c    check
 *   cmd-records.c  export, forget, recheck, purge (and stats' records part)
 *   cmd-key.c      genkey
 *   cmd-update.c   update (the remote lists; fetch.h, listupdate.h)
 *
 * and what several commands print alike:
 *
 *   progress.c     a progress bar on stderr (mine, check)
 *   json.c         the JSON text of --json (lookup, check, stats)
 *
 * Commands print what the admin typed back only on the terminal
 * (stdout/stderr); never to a log or a file of their own.
 */
#ifndef DM_CTL_H
#define DM_CTL_H

#include <getopt.h>
#include <stdio.h>

#include "conf.h"
#include "hash.h"
#include "listdb.h"

#define CTL_EXIT_OK	0	/* done; nothing listed or invalid */
#define CTL_EXIT_FOUND	1	/* something listed or invalid, or a soft
				   failure: the command's row says which */
#define CTL_EXIT_ERROR	2	/* usage or error, said on stderr */

struct ctl;
typedef int ctl_command_fn(struct ctl *, int argc, char **argv);

struct ctl_command {
	const char	*name;
	ctl_command_fn	*run;
	int		 needs_psl;	/* loads the public suffix list */
	const char	*summary;	/* a line of disposable-ctl --help */
	const char	*args;		/* the usage line after the name */
	const char	*options;	/* --help: an option a line or two */
	const char	*status;	/* --help: its exit statuses */
};

struct ctl {
	struct config	 cfg;		/* defaults, then the file read */
	const char	*conffile;	/* NULL: none read */
	const struct ctl_command *cmd;	/* the command running */
	int		 all_warnings;	/* build: show every warning, not the
					   first CTL_BUILD_WARNINGS */
};

/* Warnings a build prints before it only counts the rest. */
#define CTL_BUILD_WARNINGS 50

/* getopt_long over a command's argv, shortopts as getopt's (without the
 * leading ':', added here).  Returns the next option, -1 after the
 * last (optind is then the first operand), or '?' having told stderr
 * which option is unknown or lacks its value, and the usage: the
 * command then returns CTL_EXIT_ERROR. */
int	ctl_getopt(struct ctl *, int argc, char **argv, const char *shortopts,
	    const struct option *longopts);
/* "disposable-ctl: COMMAND: <message>" and the command's usage line on
 * stderr.  Returns CTL_EXIT_ERROR, for "return ctl_usage_error(...)". */
int	ctl_usage_error(struct ctl *, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/* *out = arg, a whole number from min to max; otherwise a usage error
 * ("COMMAND: OPT: 'ARG' is not WHAT (MIN to MAX)") and -1. */
int	ctl_number(struct ctl *, const char *opt, const char *arg,
	    unsigned long min, unsigned long max, const char *what,
	    unsigned long *out);
/* Each prints its reason on stderr and returns -1, or returns 0. */
int	ctl_open_db(struct ctl *, struct listdb **);
int	ctl_init_dns(struct ctl *);
int	ctl_load_keys(struct ctl *, struct hash_keyring *);
/* Build the database (out, or the configured Database when NULL) from
 * the lists of the configuration, remote ones from their last good
 * copies, and print the summary: what build and update both do.
 * Returns 0, or 1 when nothing was written (the reasons on stderr). */
int	ctl_build_configured(struct ctl *, const char *out, int flags);
/* "2026-11-30T12:00:00Z" */
void	ctl_iso_time(time_t, char *buf, size_t len);

ctl_command_fn	cmd_build, cmd_lookup, cmd_fingerprint, cmd_mine, cmd_stats;
ctl_command_fn	cmd_check;
ctl_command_fn	cmd_export, cmd_forget, cmd_recheck, cmd_purge;
ctl_command_fn	cmd_genkey;
ctl_command_fn	cmd_update;

/* progress.c: a bar on stderr while DNS is waited on, drawn only when
 * stderr is a terminal (and wanted). */
struct progress {
	const char	*unit;		/* "domains", "lines" */
	size_t		 total;		/* 0: unknown, the count alone */
	int		 on;		/* drawn */
	int		 shown;		/* a bar is on the screen */
	int		 share;		/* stdout is a terminal too */
};
void	progress_start(struct progress *, const char *unit, size_t total,
	    int want);
/* Draw done of total. */
void	progress_update(struct progress *, size_t done);
/* Before printing to stdout: the bar erased if stdout is a terminal
 * too; the next progress_update draws it again. */
void	progress_clear(struct progress *);
/* After the last update: the bar kept, the line ended. */
void	progress_end(struct progress *);

/* json.c: --json's text (RFC 8259), compact, the commas kept.  Each
 * value goes with its key inside an object, with NULL inside an array or
 * at the top; strings are escaped, and bytes that are not UTF-8 become
 * U+FFFD: the text is valid JSON whatever the input held. */
#define JSON_MAX_DEPTH 8
struct json {
	FILE		*f;
	int		 depth;
	unsigned	 items[JSON_MAX_DEPTH];	/* written at each depth */
};
void	json_start(struct json *, FILE *);
/* Open '{' or '[' as key's value; json_close with '}' or ']'. */
void	json_open(struct json *, const char *key, char bracket);
void	json_close(struct json *, char bracket);
/* The values; a NULL string is written null. */
void	json_str(struct json *, const char *key, const char *v);
void	json_num(struct json *, const char *key, unsigned long long v);
void	json_bool(struct json *, const char *key, int v);
/* "sources": a list match's sources, each with its category and tier
 * (cmd-lists.c; check has them too). */
void	ctl_json_sources(struct json *, const struct listdb_match *);

/* stats' second half: the records store's aggregates. */
int	cmd_records_stats(struct ctl *, struct json *);	/* NULL: text */

#endif
