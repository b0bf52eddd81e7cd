/*
 * callbacks.h - the milter callbacks: milter events in, lib calls, milter
 * replies out.  No parsing or classification happens here.
 */
#ifndef DM_CALLBACKS_H
#define DM_CALLBACKS_H

#include <libmilter/mfapi.h>

/* The filter description to hand to smfi_register(). */
extern struct smfiDesc dm_filter;

#endif
