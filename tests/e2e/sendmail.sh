#!/bin/sh
# sendmail.sh - end-to-end test: SMTP client -> private Sendmail -> milter,
# delivered copies captured by smtp-sink.
#
# Debian's sendmail-bin conflicts with postfix (both provide
# mail-transport-agent), so Sendmail is not installed: its packages are
# fetched with "apt-get download" and unpacked with "dpkg-deb -x" into a
# cache below the build directory (tests/e2e/sendmail-root, kept between
# runs, removed by "make clean").  No apt archive reachable: skip (77).
# Its two libraries (liblockfile1, libwrap0) and m4 must be installed
# (tests/ci.sh does).
#
# The daemon ("sendmail -bd") runs as root with a .cf built here from a
# test .mc: queue, pid file and settings in the temporary directory,
# listeners on 127.0.0.1 high ports, everything relayed to a local
# smtp-sink.  Three listeners, each with its own filter (InputMailFilters):
#
#   dead	a filter socket nobody listens on: F=T must tempfail
#   enf	the milter with the default policy (disposable reject, relay
#		tag), over a unix socket, as Sendmail's F=T wiring
#   tag	the milter with ActionDisposable tag, over TCP
#
# The messages and what must become of them are the cases of
# tests/e2e/scenarios, which tests/e2e/postfix.sh runs too.
#
# Sendmail looks its own host name up before it reads the .cf and sleeps
# 60 s when an unqualified name resolves but has no qualified form (as
# "vm" in /etc/hosts here).  Rather than touch /etc, the daemon is started
# in a UTS namespace of its own whose host name is qualified.
#
# Needs root, swaks, smtp-sink (package postfix), m4, apt-get, dpkg-deb
# and unshare; skips (77) without.

# Functions run from the EXIT trap or dm_check look unreachable to it:
# shellcheck disable=SC2317
. "${DM_SRCDIR:-$(dirname "$0")/../..}/tests/support/common.sh"
. "$DM_SRCDIR/tests/support/postfix.sh"
. "$DM_SRCDIR/tests/support/scenarios.sh"

[ "$(id -u)" -eq 0 ] || dm_skip "needs root to run a private Sendmail"
dm_require_built
SWAKS=${SWAKS:-$(command -v swaks)}
if [ -z "$SWAKS" ] || [ ! -x "$SWAKS" ]; then
	dm_skip "swaks not installed (apt-get install swaks)"
fi
DM_PF_SINK_BIN=$(command -v smtp-sink || echo /usr/sbin/smtp-sink)
[ -x "$DM_PF_SINK_BIN" ] ||
    dm_skip "smtp-sink not found (it ships in the postfix package)"
for c in m4 apt-get dpkg-deb unshare hostname; do
	command -v "$c" >/dev/null 2>&1 || dm_skip "$c not found"
done
id nobody >/dev/null 2>&1 || dm_skip "no nobody user"

# --- Sendmail, unpacked -----------------------------------------------
SM_ROOT=$DM_BUILDDIR/tests/e2e/sendmail-root
SM_BIN=$SM_ROOT/usr/libexec/sendmail/sendmail
SM_CF=$SM_ROOT/usr/share/sendmail/cf
if [ ! -x "$SM_BIN" ] || [ ! -r "$SM_CF/m4/cf.m4" ]; then
	rm -rf "$SM_ROOT.new"
	mkdir -p "$SM_ROOT.new/deb"
	# As root apt warns that its sandbox user cannot write here.
	if ! (cd "$SM_ROOT.new/deb" &&
	    timeout 120 apt-get download -q sendmail-bin sendmail-cf) \
	    >"$SM_ROOT.new/download.log" 2>&1; then
		sed 's/^/# /' "$SM_ROOT.new/download.log" | tail -n 5
		rm -rf "$SM_ROOT.new"
		dm_skip "apt-get download sendmail-bin sendmail-cf failed (no apt archive reachable?)"
	fi
	for deb in "$SM_ROOT.new"/deb/*.deb; do
		dpkg-deb -x "$deb" "$SM_ROOT.new" ||
		    dm_skip "dpkg-deb -x $deb failed"
	done
	rm -rf "$SM_ROOT.new/deb" "$SM_ROOT"
	mv "$SM_ROOT.new" "$SM_ROOT"
fi
[ -x "$SM_BIN" ] || dm_skip "no sendmail binary in the unpacked sendmail-bin"
if ldd "$SM_BIN" 2>/dev/null | grep -q 'not found'; then
	dm_skip "sendmail lacks libraries ($(ldd "$SM_BIN" |
	    sed -n 's/^[[:space:]]*\([^ ]*\) => not found.*/\1/p' | tr '\n' ' '
	    )): apt-get install liblockfile1 libwrap0"
fi

# The host name Sendmail will see: ours, unless it would make it sleep.
SM_UNSHARE=
HN=$(hostname)
case $HN in
*.*) ;;
*)
	if getent hosts "$HN" >/dev/null 2>&1; then
		unshare --uts true 2>/dev/null ||
		    dm_skip "host name '$HN' is unqualified and no UTS namespace can be made (sendmail would sleep 60 s)"
		SM_UNSHARE=1
	fi
	;;
esac

dm_init e2e-sendmail
T=$DM_TMP

dm_pick_port; P_ENF=$DM_PORT
dm_pick_port; P_TAG=$DM_PORT
dm_pick_port; P_DEAD=$DM_PORT
dm_pick_port; P_TAGMILTER=$DM_PORT

# --- the sink ---------------------------------------------------------
dm_pf_sink_start || { dm_notok "smtp-sink listens"; dm_finish; }
echo "# tmp=$T ports: enf=$P_ENF tag=$P_TAG dead=$P_DEAD sink=$DM_PF_SINK_PORT tag-milter=$P_TAGMILTER"

# --- the milters ------------------------------------------------------
LOG_ENF=$T/milter/enf.log
LOG_TAG=$T/milter/tag.log
SOCK_ENF=$T/milter/enf.sock
mkdir -p "$T/milter"
dm_write_lists "$T/milter/lists"
"$DM_CTL" genkey "$T/milter/hash.key" >"$T/milter/ctl.log" 2>&1 ||
    dm_notok "disposable-ctl genkey"
dm_write_conf "$T/milter/enf.conf" "$T/milter/lists" \
    "$T/milter/lists.db" "$T/milter/hash.key" \
    "RejectReply 550 5.7.1 disposable sender address refused"
dm_write_conf "$T/milter/tag.conf" "$T/milter/lists" \
    "$T/milter/lists.db" "$T/milter/hash.key" \
    "ActionDisposable tag"
if "$DM_CTL" -c "$T/milter/enf.conf" build >>"$T/milter/ctl.log" 2>&1; then
	dm_ok "disposable-ctl build"
else
	dm_notok "disposable-ctl build"
	dm_diag "$T/milter/ctl.log"
fi
# As deployed: an unprivileged user owning the socket's directory.
chown nobody "$T/milter" "$T/milter/hash.key"
dm_check "milter (enforce) starts on unix socket as nobody" \
    dm_milter_start "$T/milter/enf.conf" "$LOG_ENF" "unix:$SOCK_ENF" \
    -u nobody
dm_check "milter (tag) starts on inet socket as nobody" \
    dm_milter_start "$T/milter/tag.conf" "$LOG_TAG" \
    "inet:$P_TAGMILTER@127.0.0.1" -u nobody

# --- the Sendmail daemon ----------------------------------------------
SM=$T/sendmail
mkdir -p "$SM/queue"
chmod 0700 "$SM/queue"
: >"$SM/aliases"
# The filters are defined with MAIL_FILTER (not enabled for every
# listener) and picked per listener with InputMailFilters; the enf one is
# wired as contrib/sendmail/ documents (local: socket, F=T, timeouts).
cat >"$SM/test.mc" <<EOF
divert(-1)
written by $DM_NAME
divert(0)dnl
VERSIONID(\`dm-e2e')dnl
OSTYPE(\`linux')dnl
define(\`MAIL_SETTINGS_DIR', \`$SM/')dnl
define(\`QUEUE_DIR', \`$SM/queue')dnl
define(\`STATUS_FILE', \`$SM/statistics')dnl
define(\`confPID_FILE', \`$SM/sendmail.pid')dnl
define(\`confDOMAIN_NAME', \`mx.dm-e2e.test')dnl
define(\`confDONT_BLAME_SENDMAIL', \`GroupWritableDirPathSafe,TrustStickyBit')dnl
define(\`confTO_IDENT', \`0s')dnl
define(\`confREFUSE_LA', \`999')dnl
define(\`confQUEUE_LA', \`999')dnl
define(\`confDELAY_LA', \`999')dnl
define(\`confMILTER_LOG_LEVEL', \`0')dnl
define(\`SMART_HOST', \`esmtp:[127.0.0.1]')dnl
define(\`ESMTP_MAILER_ARGS', \`TCP \$h $DM_PF_SINK_PORT')dnl
define(\`RELAY_MAILER_ARGS', \`TCP \$h $DM_PF_SINK_PORT')dnl
FEATURE(\`no_default_msa')dnl
FEATURE(\`nocanonify')dnl
FEATURE(\`accept_unresolvable_domains')dnl
FEATURE(\`promiscuous_relay')dnl
DAEMON_OPTIONS(\`Port=$P_ENF, Addr=127.0.0.1, Name=dm-enf, Listen=1024, InputMailFilters=dm-enf')dnl
DAEMON_OPTIONS(\`Port=$P_TAG, Addr=127.0.0.1, Name=dm-tag, Listen=1024, InputMailFilters=dm-tag')dnl
DAEMON_OPTIONS(\`Port=$P_DEAD, Addr=127.0.0.1, Name=dm-dead, Listen=1024, InputMailFilters=dm-dead')dnl
MAIL_FILTER(\`dm-dead', \`S=local:$T/nobody-listens.sock, F=T, T=C:10s;S:10s;R:10s;E:1m')dnl
MAIL_FILTER(\`dm-enf', \`S=local:$SOCK_ENF, F=T, T=C:10s;S:10s;R:10s;E:1m')dnl
MAIL_FILTER(\`dm-tag', \`S=inet:$P_TAGMILTER@127.0.0.1, F=T, T=C:10s;S:10s;R:10s;E:1m')dnl
MAILER(\`smtp')dnl
EOF
if m4 -D_CF_DIR_="$SM_CF/" "$SM_CF/m4/cf.m4" "$SM/test.mc" \
    >"$SM/test.cf" 2>"$SM/m4.log" && [ -s "$SM/test.cf" ]; then
	dm_ok "test.cf built from test.mc with m4"
else
	dm_notok "test.cf built from test.mc with m4"
	dm_diag "$SM/m4.log"
	dm_finish
fi

sm_stop()
{
	sm__pid=$(head -n 1 "$SM/sendmail.pid" 2>/dev/null)
	[ -n "$sm__pid" ] || return 0
	dm_alive "$sm__pid" || return 0
	# The daemon is its own process group leader (it calls setsid):
	# the group holds its per-connection and delivery children too.
	kill -TERM -- "-$sm__pid" 2>/dev/null || kill -TERM "$sm__pid"
	dm_wait_for 50 dm_dead "$sm__pid" && return 0
	kill -KILL -- "-$sm__pid" 2>/dev/null || kill -KILL "$sm__pid"
	dm_wait_for 20 dm_dead "$sm__pid"
}
# Registered before the start, so a script killed half-way through it
# still stops the daemon.
dm_atexit sm_stop

sm_started()
{
	[ -s "$SM/sendmail.pid" ] && dm_listening "$P_ENF" &&
	    dm_listening "$P_TAG" && dm_listening "$P_DEAD"
}

if [ -n "$SM_UNSHARE" ]; then
	unshare --uts sh -c 'hostname mx.dm-e2e.test && exec "$@"' sh \
	    "$SM_BIN" -C "$SM/test.cf" -bd \
	    </dev/null >"$SM/start.log" 2>&1
else
	"$SM_BIN" -C "$SM/test.cf" -bd </dev/null >"$SM/start.log" 2>&1
fi
SM_RC=$?
if [ "$SM_RC" -eq 0 ] && dm_wait_for 100 sm_started; then
	dm_ok "private sendmail daemon starts (pid $(head -n 1 "$SM/sendmail.pid"))"
else
	dm_notok "private sendmail daemon starts (exit $SM_RC)"
	dm_diag "$SM/start.log"
	dm_finish
fi

# The queue id Sendmail gave a copy, from its Received header (the
# sink's own Received line, above it, carries an id of its own).
sm_queue_id()
{
	sed -n 's/.*(8\.[0-9.]*\/8\.[0-9.]*) with E*SMTP id \([0-9A-Za-z]*\).*/\1/p' \
	    "$1" | head -n 1
}

# --- the scenarios ----------------------------------------------------
# Sendmail puts the address before the milter's text when it refuses
# MAIL FROM ("550 5.7.1 <a@b>... text"), not at the end of DATA.
dm_sc_mta sendmail sm_queue_id '<[^>]*>\.\.\. '
dm_sc_listener dead "$P_DEAD"
dm_sc_listener enf "$P_ENF" "$LOG_ENF"
dm_sc_listener tag "$P_TAG" "$LOG_TAG"
dm_sc_run "$DM_SRCDIR/tests/e2e/scenarios" dead enf tag

# --- what the daemon wrote --------------------------------------------
sm_stop
dm_stop_milters
for log in "$LOG_ENF" "$LOG_TAG"; do
	n=$(grep -c -E 'hash=[0-9a-f]{64}' "$log")
	dm_check "$(basename "$log"): decision lines carry hash= ($n)" \
	    test "$n" -ge 2
done
# Sendmail sends {i} and no {auth_authen} for an unauthenticated client:
# the decision is logged under Sendmail's queue id (the scenario "clean"
# checks it), not skipped.
dm_check "no message skipped as authenticated" \
    sh -c "! grep -q 'skip=authenticated' '$LOG_ENF' '$LOG_TAG'"
dm_check "the envelope reject is logged with a queue id" \
    grep -q -E "qid=[0-9A-Za-z]{8,} action=reject category=disposable role=envelope" "$LOG_ENF"
dm_check "milters stopped gracefully ('stopping' logged after SIGTERM)" \
    test "$(grep -c stopping "$LOG_ENF" "$LOG_TAG" | grep -c ':1$')" -eq 2
# Every address the scenarios sent, and its local part.
WORDS=
for a in $DM_SC_SENT; do
	WORDS="$WORDS $a ${a%@*}"
done
# shellcheck disable=SC2086
dm_check "no raw address or local part in any file the milter wrote" \
    dm_no_raw_in "$T/milter" -- $WORDS

dm_finish
