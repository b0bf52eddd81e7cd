/*
 * notify.c - sd_notify, or nothing (see notify.h).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#ifdef HAVE_LIBSYSTEMD
#include <systemd/sd-daemon.h>
#endif

#include "log.h"
#include "notify.h"
#include "util.h"

#ifdef HAVE_LIBSYSTEMD

/* The environment is kept (unset_environment 0): every later state is
 * sent to the same socket.  MAINPID: the process that serves, which a
 * unit that lets the daemon detach does not know otherwise. */
static void
send_state(const char *state, const char *status)
{
	int r;

	if (getenv("NOTIFY_SOCKET") == NULL)
		return;
	r = sd_notifyf(0, "%s\nMAINPID=%ld\nSTATUS=%s", state,
	    (long)getpid(), status);
	if (r < 0)
		log_warnx("sd_notify %s: error %d", state, -r);
}

void
notify_check(void)
{
}

void
notify_ready(const char *status)
{
	send_state("READY=1", status);
}

void
notify_reloading(void)
{
	char state[64];

	/* systemd 253's Type=notify-reload wants the time with it. */
	snprintf(state, sizeof(state), "RELOADING=1\nMONOTONIC_USEC=%llu",
	    (unsigned long long)util_mono_us());
	send_state(state, "reloading");
}

void
notify_stopping(void)
{
	send_state("STOPPING=1", "stopping: finishing the messages in flight");
}

#else

void
notify_check(void)
{
	if (getenv("NOTIFY_SOCKET") != NULL)
		log_warnx("NOTIFY_SOCKET is set, but this build has no "
		    "systemd support (configure found no libsystemd): "
		    "readiness is not notified; use Type=forking or "
		    "Type=simple");
}

void
notify_ready(const char *status)
{
	(void)status;
}

void
notify_reloading(void)
{
}

void
notify_stopping(void)
{
}

#endif
