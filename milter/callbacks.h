/*
 * callbacks.h - the milter callbacks: milter events in, lib calls, milter
 * replies out.  No parsing or classification happens here.
 */
#ifndef DM_CALLBACKS_H
#define DM_CALLBACKS_H

#include <libmilter/mfapi.h>

#include "addr.h"

struct recwriter;

/* The filter description to hand to smfi_register(). */
extern struct smfiDesc dm_filter;

/*
 * The largest milter packet to accept, for smfi_setmaxdatasize() before
 * smfi_main().  Over libmilter's default, 64 KiB, libmilter dropped the
 * connection without a reply, and the MTA applied its milter failure
 * action to a harmless message with a big header field.  Postfix
 * happens to cut fields to 60,000 bytes when milters are configured
 * (its cleanup's workaround for that very limit), though its
 * header_size_limit is 102,400; an MTA or milter proxy that does not
 * cut them reaches the limit.  1 MiB - 1 is the largest size the milter
 * protocol names (MILTER_MDS_1M); libmilter allocates each packet at its
 * own size, so ordinary messages pay nothing for it.  It is exactly what
 * the header parser reads whole (ADDR_MAX_FIELD): a header packet holds
 * the name and two NULs besides the value.  (A Sendmail that negotiates
 * its own size cannot change it: this daemon is built without
 * libmilter's _FFR_MDS_NEGOTIATE.)
 */
#define CALLBACKS_MAX_PACKET	(ADDR_MAX_FIELD - 1)

/*
 * What the filter asks of the MTA at negotiation: the actions, the steps
 * it skips (DATA stays: a replied DATA step avoids a delayed-ACK stall
 * on TCP sockets, REFERENCE.md), and the macros it wants per stage (the
 * queue id wherever a decision can be logged).  Headers take no reply
 * when the MTA offers that.  The bench's no-op milter
 * (tests/bench/noop_milter.c) asks the same, so that the two compare.
 */
#define CALLBACKS_ACTIONS	(SMFIF_ADDHDRS | SMFIF_CHGHDRS)
#define CALLBACKS_SKIP_STEPS	(SMFIP_NOCONNECT | SMFIP_NOHELO | \
	SMFIP_NORCPT | SMFIP_NOBODY | SMFIP_NOUNKNOWN)
#define CALLBACKS_MACROS_ENVFROM	"i {auth_authen} {client_addr} s"
#define CALLBACKS_MACROS_EOH		"i"
#define CALLBACKS_MACROS_EOM		"i"

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
