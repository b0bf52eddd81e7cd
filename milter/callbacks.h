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

#endif
