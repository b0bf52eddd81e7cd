/*
 * ctl.h - what the commands of disposable-ctl share.  The records commands
 * live in ctl-records.c; everything else in disposable-ctl.c.
 */
#ifndef DM_CTL_H
#define DM_CTL_H

#include "conf.h"
#include "listdb.h"

extern struct config cfg;		/* the configuration read */

void	usage(void) __attribute__((noreturn));
int	open_db(struct listdb **);	/* 0, or -1 after a message */
int	init_dns(void);			/* 0, or -1 after a message */

/* The records commands (ctl-records.c); argv[0] is the command. */
int	cmd_export(int argc, char **argv);
int	cmd_forget(int argc, char **argv);
int	cmd_recheck(int argc, char **argv);
int	cmd_purge(int argc, char **argv);
int	cmd_records_stats(void);	/* stats' second half */

#endif
