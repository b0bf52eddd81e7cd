/*
 * notify.h - telling a service manager how the daemon is doing.
 *
 * When systemd runs the daemon as a Type=notify service it sets
 * NOTIFY_SOCKET; the daemon then sends (sd_notify, libsystemd):
 *
 *   READY=1       once it serves (the socket listens), and again after
 *                 each SIGUSR1 reload, whether the reload took or not;
 *   RELOADING=1   when a SIGUSR1 reload begins;
 *   STOPPING=1    when a stop (SIGTERM, SIGHUP) begins;
 *   STATUS=...    a line for "systemctl status" with each of them.
 *
 * Without NOTIFY_SOCKET every call does nothing.  A build without
 * libsystemd (configure --without-systemd) sends nothing either, and
 * notify_check() warns once when NOTIFY_SOCKET asks for it all the same:
 * such a unit would wait for a READY=1 that never comes.
 */
#ifndef DM_NOTIFY_H
#define DM_NOTIFY_H

void	notify_check(void);
void	notify_ready(const char *status);
void	notify_reloading(void);
void	notify_stopping(void);

#endif
