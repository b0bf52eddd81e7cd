/*
 * ctl.h - what the commands of disposable-ctl share.
 *
 * Every command is a row of the command table in disposable-ctl.c: a
 * name, a function called with the context (the configuration read, and
 * where from) and its own argc/argv (argv[0] is the command), and its
 * usage line.  A command returns the program's exit status.  The
 * commands live one group to a file:
 *
 *   cmd-lists.c    build, lookup, fingerprint, mine, stats
 *   cmd-check.c    check
 *   cmd-records.c  export, forget, recheck, purge (and stats' records part)
 *   cmd-key.c      genkey
 *   cmd-update.c   update (the remote lists; fetch.h, listupdate.h)
 *
 * Commands print what the admin typed back only on the terminal
 * (stdout/stderr); never to a log or a file of their own.
 */
#ifndef DM_CTL_H
#define DM_CTL_H

#include "conf.h"
#include "hash.h"
#include "listdb.h"

struct ctl {
	struct config	 cfg;		/* defaults, then the file read */
	const char	*conffile;	/* NULL: none read */
};

typedef int ctl_command_fn(struct ctl *, int argc, char **argv);

void	ctl_usage(void) __attribute__((noreturn));
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
/* stats' second half: the records store's aggregates. */
int	cmd_records_stats(struct ctl *);

#endif
