#!/bin/sh
# deb.sh - end-to-end test of the Debian package: built from a clean copy
# of the tree, installed with dpkg -i, run as its unit would run it, used
# through a private Postfix whose smtpd is chrooted as on stock Debian and
# wired as the README says, then purged.
#
#   1. dpkg-buildpackage -us -uc -b (DEB_BUILD_OPTIONS="nocheck
#      parallel=2") on a copy of the tracked files (of the tree make
#      distcheck unpacked, outside a git checkout): what a clean checkout
#      builds, never the working tree's build products;
#   2. dpkg -i: the files, the user and group (postfix a member), the
#      conffiles, the key and database made on install, the directories
#      of the tmpfiles.d entry, the units enabled, and
#      systemd-analyze verify on the installed units;
#   3. the daemon started as disposable-milter.service would start it
#      (no systemd here): the unit's ExecStart, as its User and Group,
#      with its UMask, from /, NOTIFY_SOCKET set (Type=notify: READY=1
#      must come); only its socket is moved from /var/spool/postfix into
#      the private instance's queue directory (-p), in a directory made
#      as the tmpfiles.d entry makes the real one, and the installed
#      configuration gets "DNS no" (a test never asks the outside);
#   4. a private Postfix, smtpd chrooted (master.cf chroot y), with the
#      smtpd_milters and non_smtpd_milters lines of the installed
#      examples/main.cf.snippet (the README's lines): a mailinator.com
#      sender gets 550, at MAIL FROM and in From:, an allowlisted one is
#      delivered, and Postfix's own reject lines carry the raw addresses
#      (what PRIVACY.md says); a
#      second chrooted smtpd, given the socket's absolute path (the old
#      wiring), cannot reach it: the control that the chroot is real;
#   5. the daemon stopped as systemd would (SIGTERM), dpkg --purge: no
#      process of the user left, its data gone.
#
# Never over a real installation: skips when the package is installed
# or its directories exist.  Cleans up in the EXIT trap, failures
# included: the daemon and Postfix stopped, the package purged, and the
# user and group removed if this test made them.
#
# Needs root, dpkg-buildpackage with debhelper, the build dependencies
# (tests/ci.sh installs them), systemd-analyze (package systemd; systemd
# need not run), postfix, smtp-sink, swaks, python3; skips (77) without.
# About a minute here, most of it the package build.

# Functions run from the EXIT trap or dm_check look unreachable to it:
# shellcheck disable=SC2317
. "${DM_SRCDIR:-$(dirname "$0")/../..}/tests/support/common.sh"
. "$DM_SRCDIR/tests/support/postfix.sh"

PKG=disposable-milter
ETC=/etc/disposable-milter
STATE=/var/lib/disposable-milter
SPOOLDIR=/var/spool/postfix/disposable-milter
UNIT=/lib/systemd/system/disposable-milter.service

[ "$(id -u)" -eq 0 ] || dm_skip "needs root (dpkg -i, a private Postfix)"
command -v dpkg-buildpackage >/dev/null 2>&1 ||
    dm_skip "dpkg-buildpackage not installed (apt-get install dpkg-dev debhelper)"
command -v dh >/dev/null 2>&1 ||
    dm_skip "debhelper not installed (apt-get install debhelper)"
command -v systemd-analyze >/dev/null 2>&1 ||
    dm_skip "systemd-analyze not installed (apt-get install systemd)"
command -v python3 >/dev/null 2>&1 || dm_skip "python3 not installed"
dm_pf_require
if dpkg-query -W -f='${Status}' "$PKG" 2>/dev/null | grep -q -v 'not-installed'; then
	dm_skip "$PKG is installed here: this test would purge it"
fi
for d in "$ETC" "$STATE" "$SPOOLDIR"; do
	[ -e "$d" ] && dm_skip "$d exists (an installation from source?): this test installs and purges the package"
done

dm_init deb
T=$DM_TMP
T0=$(date +%s)
USER_BEFORE=$(getent passwd "$PKG")
GROUP_BEFORE=$(getent group "$PKG")

# dpkg, waiting its turn while another dpkg or apt holds the lock.
deb_dpkg()
{
	deb__n=0
	while :; do
		dpkg "$@" >"$T/dpkg.log" 2>&1 && return 0
		grep -q -i 'lock' "$T/dpkg.log" || return 1
		deb__n=$((deb__n + 1))
		[ $deb__n -lt 60 ] || return 1
		sleep 2
	done
}

# Clean-up: the package purged, and the user and group removed if this
# test made them (the package keeps them on purge, as Debian does).
deb_cleanup()
{
	dpkg-query -W -f='${Status}' "$PKG" 2>/dev/null | grep -q -v 'not-installed' &&
	    deb_dpkg --purge "$PKG"
	if [ -z "$USER_BEFORE" ] && getent passwd "$PKG" >/dev/null; then
		userdel "$PKG"
	fi
	if [ -z "$GROUP_BEFORE" ] && getent group "$PKG" >/dev/null; then
		groupdel "$PKG"
	fi
}

# --- 1. build from a clean copy ----------------------------------------
SRC=$T/src/$PKG
mkdir -p "$SRC"
GIT_TOP=$(git -C "$DM_SRCDIR" rev-parse --show-toplevel 2>/dev/null)
if [ -n "$GIT_TOP" ] &&
    [ "$(cd "$GIT_TOP" && pwd -P)" = "$(cd "$DM_SRCDIR" && pwd -P)" ]; then
	# The tracked files as they are now (uncommitted edits included,
	# untracked files and build products not).
	(cd "$DM_SRCDIR" && git ls-files -z | tar --null -T - -c -f - \
	    --ignore-failed-read 2>/dev/null) | tar -x -C "$SRC"
else
	# A release tree (make distcheck; it may lie inside a checkout):
	# all of it but the build and install directories inside it.
	(cd "$DM_SRCDIR" && tar -c -f - --exclude='./_build*' \
	    --exclude=./_inst --exclude=./_quickstart --exclude=./.git .) |
	    tar -x -C "$SRC"
fi
dm_check "a clean copy of the tree has debian/ and no build products" \
    test -f "$SRC/debian/control" -a ! -e "$SRC/config.status"
if ! (cd "$SRC" && dpkg-checkbuilddeps) >"$T/builddeps.log" 2>&1; then
	dm_notok "build dependencies installed (tests/ci.sh installs them)"
	dm_diag "$T/builddeps.log"
	dm_finish
fi
T_BUILD=$(date +%s)
# The outer make's flags (jobserver, -j) are not the package build's.
if (cd "$SRC" && env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u MAKEOVERRIDES \
    DEB_BUILD_OPTIONS="nocheck parallel=2" \
    dpkg-buildpackage -us -uc -b) >"$T/build.log" 2>&1; then
	dm_ok "dpkg-buildpackage -us -uc -b ($(($(date +%s) - T_BUILD)) s)"
else
	dm_notok "dpkg-buildpackage -us -uc -b"
	dm_diag "$T/build.log" 30
	dm_finish
fi
DEB=$(ls "$T/src/${PKG}_"*"_$(dpkg --print-architecture).deb" 2>/dev/null | head -n 1)
dm_check "the .deb is there ($(basename "${DEB:-none}"))" test -f "$DEB"
if command -v lintian >/dev/null 2>&1; then
	# Errors and warnings (lintian's default): none.  Info tags are
	# shown as comments.
	lintian "$DEB" >"$T/lintian.log" 2>&1
	dm_check "lintian: no error or warning" \
	    sh -c "! grep -q -E '^(E|W): ' '$T/lintian.log'"
	grep -E '^[EW]: ' "$T/lintian.log" | sed 's/^/#   /'
else
	echo "# lintian not installed: not run"
fi

# --- 2. install ----------------------------------------------------------
dm_atexit deb_cleanup
if deb_dpkg -i "$DEB"; then
	dm_ok "dpkg -i"
else
	dm_notok "dpkg -i"
	dm_diag "$T/dpkg.log" 30
	dm_finish
fi
cp "$T/dpkg.log" "$T/install.log"
for f in /usr/sbin/disposable-milter /usr/sbin/disposable-ctl; do
	dm_check "$f installed" test -x "$f"
done
for f in "$UNIT" /lib/systemd/system/disposable-milter-update.service \
    /lib/systemd/system/disposable-milter-update.timer \
    /usr/lib/tmpfiles.d/disposable-milter.conf \
    /usr/share/man/man8/disposable-milter.8.gz \
    /usr/share/man/man8/disposable-ctl.8.gz \
    /usr/share/man/man5/disposable-milter.conf.5.gz \
    /usr/share/doc/disposable-milter/copyright \
    /usr/share/doc/disposable-milter/examples/main.cf.snippet; do
	dm_check "$f installed" test -f "$f"
done
dm_check "the unit starts /usr/sbin/disposable-milter with $ETC's configuration" \
    grep -q -x "ExecStart=/usr/sbin/disposable-milter -f -c $ETC/disposable-milter.conf" "$UNIT"

PW=$(getent passwd "$PKG")
dm_check "system user $PKG (id below 1000, no login shell, home $STATE)" \
    sh -c "echo '$PW' | awk -F: '\$3 < 1000 && \$6 == \"$STATE\" && \$7 ~ /nologin\$/ { ok = 1 } END { exit !ok }'"
dm_check "group $PKG" sh -c "getent group '$PKG' >/dev/null"
dm_check "the postfix user is in group $PKG (it connects to the socket)" \
    sh -c "id -nG postfix | tr ' ' '\n' | grep -q -x '$PKG'"

dpkg-query -W -f='${Conffiles}\n' "$PKG" >"$T/conffiles"
for f in disposable-milter.conf lists/disposable.txt lists/relay.txt \
    lists/allow.txt lists/freemail.txt fingerprints/disposable.txt \
    fingerprints/relay.txt fingerprints/infrastructure.txt; do
	dm_check "conffile $ETC/$f" grep -q "^ $ETC/$f " "$T/conffiles"
done
dm_check "the key is no conffile (made on install, kept on upgrade)" \
    sh -c "! grep -q hash.key '$T/conffiles'"

dm_check "hash key made on install: $ETC/hash.key, $PKG's, mode 600" \
    test "$(stat -c '%U %a' "$ETC/hash.key" 2>/dev/null)" = "$PKG 600"
dm_check "database built on install: $STATE/lists.db, $PKG's" \
    test "$(stat -c '%U' "$STATE/lists.db" 2>/dev/null)" = "$PKG" -a \
    -s "$STATE/lists.db"
for d in "$STATE" "$SPOOLDIR" /run/disposable-milter; do
	dm_check "$d made, $PKG's, mode 750" \
	    test "$(stat -c '%U %G %a' "$d" 2>/dev/null)" = "$PKG $PKG 750"
done
dm_check "the configuration names the daemon's user (UserID $PKG)" \
    grep -q -x "UserID $PKG" "$ETC/disposable-milter.conf"
if /usr/sbin/disposable-milter -n -c "$ETC/disposable-milter.conf" \
    >"$T/n.log" 2>&1; then
	dm_ok "disposable-milter -n, as root, passes the installed setup (checked as $PKG)"
else
	dm_notok "disposable-milter -n, as root, passes the installed setup"
	dm_diag "$T/n.log"
fi
dm_check "the daemon and the update timer are enabled" \
    test -L /etc/systemd/system/multi-user.target.wants/disposable-milter.service \
    -a -L /etc/systemd/system/timers.target.wants/disposable-milter-update.timer
dm_check "the sample's default Socket is in $SPOOLDIR" \
    grep -q -x "#Socket unix:$SPOOLDIR/disposable-milter.sock" \
    "$ETC/disposable-milter.conf"
if (cd / && systemd-analyze verify "$UNIT" \
    /lib/systemd/system/disposable-milter-update.service \
    /lib/systemd/system/disposable-milter-update.timer) \
    >"$T/verify.log" 2>&1; then
	dm_ok "systemd-analyze verify on the installed units"
else
	dm_notok "systemd-analyze verify on the installed units"
	dm_diag "$T/verify.log"
fi

# --- 3. the daemon, as its unit runs it ----------------------------------
unit_value()
{
	sed -n "s/^$1=//p" "$UNIT" | tail -n 1
}
EXEC=$(unit_value ExecStart)
RUN_USER=$(unit_value User)
RUN_GROUP=$(unit_value Group)
RUN_UMASK=$(unit_value UMask)
dm_check "the unit says Type=notify, User=$PKG, Group=$PKG, UMask=0007" \
    test "$(unit_value Type) $RUN_USER $RUN_GROUP $RUN_UMASK" = \
    "notify $PKG $PKG 0007"

# The private instance's queue directory stands for /var/spool/postfix:
# the socket's directory made there as the tmpfiles.d entry makes the
# real one.
Q=$T/postfix/queue
SOCKDIR=$Q/disposable-milter
set -- $(awk -v d="$SPOOLDIR" '$1 == "d" && $2 == d { print $3, $4, $5 }' \
    /usr/lib/tmpfiles.d/disposable-milter.conf)
mkdir -p "$Q"
install -d -m "${1:-0}" -o "${2:-root}" -g "${3:-root}" "$SOCKDIR"
SOCK=$SOCKDIR/disposable-milter.sock

printf '\n# %s: no DNS, a test never asks the outside\nDNS no\n' \
    "$DM_NAME" >>"$ETC/disposable-milter.conf"

# systemd's side of sd_notify: a datagram socket that keeps what it gets.
NOTIFY=$T/notify.sock
: >"$T/notify.out"
python3 -c '
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
os.chmod(sys.argv[1], 0o666)
while True:
    m = s.recv(4096)
    with open(sys.argv[2], "ab") as f:
        f.write(m + b"\n")
' "$NOTIFY" "$T/notify.out" >"$T/notify.log" 2>&1 &
NOTIFY_PID=$!
dm_atexit "kill $NOTIFY_PID"
dm_wait_for 50 test -S "$NOTIFY"

LOG=$T/milter.log
(cd / && exec env NOTIFY_SOCKET="$NOTIFY" setpriv --reuid="$RUN_USER" \
    --regid="$RUN_GROUP" --init-groups sh -c \
    "umask $RUN_UMASK; exec $EXEC -p unix:$SOCK") >"$LOG" 2>&1 &
MPID=$!
DM_MILTER_PIDS="$DM_MILTER_PIDS $MPID"
dm_atexit "dm_stop_pid $MPID"
dm_wait_for 100 dm__sock_ready "$MPID" "$SOCK"
if dm_alive "$MPID" && [ -S "$SOCK" ]; then
	dm_ok "the daemon runs as the unit runs it, socket $SOCK"
else
	dm_notok "the daemon runs as the unit runs it"
	dm_diag "$LOG"
	dm_finish
fi
dm_check "it runs as $RUN_USER" \
    test "$(ps -o user= -p "$MPID" | tr -d ' ')" = "$RUN_USER"
dm_check "its socket: mode 770, group $RUN_GROUP" \
    test "$(stat -c '%a %G' "$SOCK")" = "770 $RUN_GROUP"
dm_wait_for 100 grep -q READY=1 "$T/notify.out"
dm_check "it said READY=1 on NOTIFY_SOCKET (Type=notify)" \
    grep -q READY=1 "$T/notify.out"

# --- 4. a private Postfix, smtpd chrooted, wired as the README says ------
SNIPPET=/usr/share/doc/disposable-milter/examples/main.cf.snippet
WIRING=$(grep -E '^(non_)?smtpd_milters = ' "$SNIPPET")
dm_check "the snippet wires smtpd and non-smtpd mail" \
    test "$(printf '%s\n' "$WIRING" | wc -l)" -eq 2
printf '%s\n' "$WIRING" | while IFS= read -r line; do
	grep -q -F -x "    $line" "$DM_SRCDIR/README" || {
		echo "# README lacks: $line"
		exit 1
	}
done
dm_check "the README shows the same lines" test $? -eq 0

dm_pf_sink_start || { dm_notok "smtp-sink listens"; dm_finish; }
dm_pick_port
P_SMTPD=$DM_PORT
# A control: the same socket named by its absolute path, which a
# chrooted smtpd cannot see (the old wiring's fault), failing to tempfail
# so that it shows.
dm_pick_port
P_ABS=$DM_PORT
MAIN_SMTPD=$(printf '%s\n' "$WIRING" | grep '^smtpd_milters')
MAIN_NON=$(printf '%s\n' "$WIRING" | grep '^non_smtpd_milters')
if DM_PF_CHROOT=y dm_pf_start "127.0.0.1:$P_SMTPD inet n - y - - smtpd
  -o syslog_name=dm-deb/chroot
127.0.0.1:$P_ABS inet n - y - - smtpd
  -o syslog_name=dm-deb/absolute
  -o { smtpd_milters = { unix:$SOCK, default_action=tempfail } }" \
    "$MAIN_SMTPD" "$MAIN_NON"; then
	dm_ok "private postfix starts, smtpd chrooted in $Q"
else
	dm_notok "private postfix starts"
	dm_finish
fi
dm_wait_for 50 dm_listening "$P_SMTPD"

dm_pf_send burner "$P_SMTPD" --from "deb-e2e@mailinator.com"
dm_pf_expect_refused burner 23 '550 5\.7\.1 Sender address rejected'
dm_pf_send allowed "$P_SMTPD" --from "deb-e2e@gmail.com"
dm_pf_expect_delivered allowed
dm_check "Postfix reached the milter: no connect warning in its log" \
    sh -c "! grep 'dm-deb/chroot' '$DM_PF/maillog' | grep -q 'connect to Milter service'"
dm_pf_send absolute "$P_ABS" --from "deb-e2e@example.org"
dm_pf_expect_refused absolute 23 '4[0-9][0-9] 4\.[0-9]\.[0-9]'
dm_check "control: the chrooted smtpd cannot see $SOCK by its absolute path" \
    sh -c "grep 'dm-deb/absolute' '$DM_PF/maillog' | grep -q 'connect to Milter service unix:$SOCK: No such file or directory'"
dm_check "Postfix's own reject line carries the raw sender (PRIVACY.md)" \
    grep -q 'milter-reject: MAIL from .* from=<deb-e2e@mailinator.com>' \
    "$DM_PF/maillog"
dm_pf_send header "$P_SMTPD" --from "deb-e2e-h@gmail.com" \
    --header "From: <deb-e2e-h@mailinator.com>"
dm_pf_expect_refused header 26 '550 5\.7\.1 Sender address rejected'
dm_check "... and at the end of the headers, sender and recipient (PRIVACY.md)" \
    grep -q 'milter-reject: END-OF-MESSAGE .* from=<deb-e2e-h@gmail.com> to=<rcpt.header@sink.test>' \
    "$DM_PF/maillog"
dm_check "the daemon logged the reject, by hash" \
    grep -q -E 'action=reject category=disposable .*hash=[0-9a-f]{64}' "$LOG"
dm_check "no raw address in the daemon's log" \
    dm_no_raw_in "$LOG" -- deb-e2e@mailinator.com deb-e2e@gmail.com \
    deb-e2e@example.org deb-e2e-h@gmail.com deb-e2e-h@mailinator.com

# --- 5. stop, purge --------------------------------------------------------
# What systemd does on stop, which dpkg's prerm asks of it.
dm_stop_pid "$MPID"
dm_check "the daemon stops on SIGTERM with status 0" test "$DM_STATUS" -eq 0
if deb_dpkg --purge "$PKG"; then
	dm_ok "dpkg --purge"
else
	dm_notok "dpkg --purge"
	dm_diag "$T/dpkg.log"
fi
dm_check "no process of $PKG left" \
    sh -c "! ps -u '$PKG' -o pid= 2>/dev/null | grep -q ."
for p in /usr/sbin/disposable-milter "$UNIT" "$ETC" "$STATE" "$SPOOLDIR" \
    /etc/systemd/system/timers.target.wants/disposable-milter-update.timer; do
	dm_check "purged: $p" test ! -e "$p" -a ! -L "$p"
done

echo "# deb: $(($(date +%s) - T0)) s in all"
dm_finish
