/*
 * progress.c - a progress bar on standard error for the commands that
 * wait on DNS for minutes (mine, check):
 *
 *	[################                        ] 1200/3000 lines
 *
 * or, when the total is not known (a pipe), the count alone.  Drawn only
 * when standard error is a terminal, so that no carriage return ends up
 * in a log file; a command that prints to the same terminal clears the
 * bar first and has it redrawn by the next update.
 */
#include "config.h"

#include <stdio.h>
#include <unistd.h>

#include "ctl.h"

#define BAR_WIDTH 40

void
progress_start(struct progress *pg, const char *unit, size_t total, int want)
{
	pg->unit = unit;
	pg->total = total;
	pg->on = want && isatty(STDERR_FILENO);
	pg->shown = 0;
	pg->share = isatty(STDOUT_FILENO);
}

void
progress_update(struct progress *pg, size_t done)
{
	int fill;

	if (!pg->on)
		return;
	if (pg->total == 0)
		fprintf(stderr, "\r%zu %s", done, pg->unit);
	else {
		fill = done >= pg->total ? BAR_WIDTH :
		    (int)(done * BAR_WIDTH / pg->total);
		fprintf(stderr, "\r[%.*s%*s] %zu/%zu %s", fill,
		    "########################################",
		    BAR_WIDTH - fill, "", done, pg->total, pg->unit);
	}
	fflush(stderr);
	pg->shown = 1;
}

void
progress_clear(struct progress *pg)
{
	if (!pg->shown || !pg->share)
		return;
	/* Back to the start of the line, and the line erased (ECMA-48 EL):
	 * what is printed next takes its place. */
	fputs("\r\033[K", stderr);
	fflush(stderr);
	pg->shown = 0;
}

void
progress_end(struct progress *pg)
{
	if (!pg->shown)
		return;
	fputc('\n', stderr);
	pg->shown = 0;
}
