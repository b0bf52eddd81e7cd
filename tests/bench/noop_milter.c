/*
 * noop_milter - a libmilter milter that does nothing: the reference the
 * benchmarks hold disposable-milter against.
 *
 *	noop_milter [-a] -p unix:/path|inet:port@host
 *
 * Registers the callbacks disposable-milter registers (negotiate,
 * envfrom, data, header, eoh, eom, abort, close), with the same flags,
 * and asks the MTA for the same steps, macros and actions in
 * xxfi_negotiate (milter/callbacks.h's CALLBACKS_*: no connect, helo,
 * rcpt, body or unknown step; headers without reply when offered; a
 * replied DATA step): the same packets cross the socket, so a rate or
 * CPU time measured against it is the cost of the protocol and of
 * libmilter alone.  Every callback returns SMFIS_CONTINUE.
 *
 * -a: no xxfi_negotiate, and connect, helo and rcpt callbacks too: every
 * step the MTA offers, each replied, as a milter that does not negotiate
 * gets them.
 *
 * Runs in the foreground with the process's umask (0 here: the MTA's
 * user must reach a unix socket); SIGTERM or SIGHUP stop it gracefully,
 * as libmilter does for every milter.  Exits 0 after a stop, 1 when it
 * cannot listen, 2 on usage.
 */
#include "config.h"

#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <libmilter/mfapi.h>

#include "callbacks.h"		/* what to ask: constants only */

static int noop_nr_hdr;		/* its address: "headers take no reply" */

static sfsistat
noop_connect(SMFICTX *ctx, char *host, _SOCK_ADDR *sa)
{
	(void)ctx, (void)host, (void)sa;
	return SMFIS_CONTINUE;
}

static sfsistat
noop_argv(SMFICTX *ctx, char **argv)
{
	(void)ctx, (void)argv;
	return SMFIS_CONTINUE;
}

static sfsistat
noop_helo(SMFICTX *ctx, char *name)
{
	(void)ctx, (void)name;
	return SMFIS_CONTINUE;
}

/* A header takes no reply when the MTA offered that: the private pointer
 * says so (libmilter still sends one for SMFIS_CONTINUE). */
static sfsistat
noop_header(SMFICTX *ctx, char *name, char *value)
{
	(void)name, (void)value;
	return smfi_getpriv(ctx) != NULL ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

static sfsistat
noop_ctx(SMFICTX *ctx)
{
	(void)ctx;
	return SMFIS_CONTINUE;
}

/* What milter/callbacks.c's dm_negotiate asks, from its header. */
static sfsistat
noop_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
    unsigned long f2, unsigned long f3, unsigned long *pf0,
    unsigned long *pf1, unsigned long *pf2, unsigned long *pf3)
{
	(void)f2, (void)f3;
	if ((f0 & CALLBACKS_ACTIONS) != CALLBACKS_ACTIONS)
		return SMFIS_REJECT;
	*pf0 = CALLBACKS_ACTIONS;
	*pf1 = f1 & (CALLBACKS_SKIP_STEPS | SMFIP_NR_HDR);
	*pf2 = 0;
	*pf3 = 0;
	if (f1 & SMFIP_NR_HDR)
		smfi_setpriv(ctx, &noop_nr_hdr);
	smfi_setsymlist(ctx, SMFIM_ENVFROM, CALLBACKS_MACROS_ENVFROM);
	smfi_setsymlist(ctx, SMFIM_EOH, CALLBACKS_MACROS_EOH);
	smfi_setsymlist(ctx, SMFIM_EOM, CALLBACKS_MACROS_EOM);
	return SMFIS_CONTINUE;
}

static struct smfiDesc noop_filter = {
	.xxfi_name = "noop-milter",
	.xxfi_version = SMFI_VERSION,
	.xxfi_flags = CALLBACKS_ACTIONS,
	.xxfi_envfrom = noop_argv,
	.xxfi_header = noop_header,
	.xxfi_eoh = noop_ctx,
	.xxfi_eom = noop_ctx,
	.xxfi_abort = noop_ctx,
	.xxfi_close = noop_ctx,
	.xxfi_data = noop_ctx,
	.xxfi_negotiate = noop_negotiate,
};

static void
usage(void)
{
	fprintf(stderr, "usage: noop_milter [-a] -p unix:/path|inet:port@host\n");
	exit(2);
}

int
main(int argc, char *argv[])
{
	const char *spec = NULL;
	int ch;

	while ((ch = getopt(argc, argv, "ap:")) != -1) {
		switch (ch) {
		case 'a':
			noop_filter.xxfi_negotiate = NULL;
			noop_filter.xxfi_connect = noop_connect;
			noop_filter.xxfi_helo = noop_helo;
			noop_filter.xxfi_envrcpt = noop_argv;
			break;
		case 'p': spec = optarg; break;
		default: usage();
		}
	}
	if (spec == NULL || optind != argc)
		usage();
	umask(0);
	if (smfi_setconn((char *)spec) != MI_SUCCESS ||
	    smfi_register(noop_filter) != MI_SUCCESS ||
	    smfi_opensocket(1) != MI_SUCCESS) {
		fprintf(stderr, "noop_milter: cannot listen on %s\n", spec);
		return 1;
	}
	return smfi_main() == MI_SUCCESS ? 0 : 1;
}
