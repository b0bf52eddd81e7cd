/*
 * callbacks.h - the milter callbacks: milter events in, lib calls, milter
 * replies out.  No parsing or classification happens here.
 */
#ifndef DM_CALLBACKS_H
#define DM_CALLBACKS_H

#include <libmilter/mfapi.h>

struct recwriter;

/* The filter description to hand to smfi_register(). */
extern struct smfiDesc dm_filter;

/* Where decisions are recorded (NULL: no records store).  Set before
 * smfi_main starts and cleared after it returns. */
void	callbacks_set_recorder(struct recwriter *);

/* The stop, before smfi_stop(): from now on a new connection is turned
 * away at negotiation (the MTA goes on without this filter) and a message
 * that begins is passed unfiltered (tempfailed with OnError tempfail) and
 * logged with stopping=1; this waits up to seconds for the messages that
 * began before to end.  Returns how many are still in flight (0: all
 * answered). */
long	callbacks_drain(int seconds);

#endif
