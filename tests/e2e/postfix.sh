#!/bin/sh
# postfix.sh - end-to-end test: SMTP client -> private Postfix -> milter,
# delivered copies captured by smtp-sink.
#
# Runs a throw-away Postfix instance (own config directory, queue and logs
# in a temporary directory, listeners on 127.0.0.1 high ports, no chroot)
# so the system's /etc/postfix is never read for settings nor written.
# master.cf gets one smtpd per scenario, each with its own smtpd_milters:
#
#   plain	no milter: the instance itself delivers to the sink
#   dead	a milter socket nobody listens on: milter_default_action
#		(tempfail here) must turn every message away with 4xx
#   enf	the daemon with the default policy (disposable reject,
#		relay tag), over a unix socket
#   tag	the daemon with ActionDisposable tag, over TCP
#
# Needs root (Postfix), postfix, smtp-sink and swaks; skips (77) without.

# Functions run from the EXIT trap or dm_check look unreachable to it:
# shellcheck disable=SC2317
. "${DM_SRCDIR:-$(dirname "$0")/../..}/tests/lib/common.sh"

[ "$(id -u)" -eq 0 ] || dm_skip "needs root to run a private Postfix instance"
POSTFIX=${POSTFIX:-$(command -v postfix || echo /usr/sbin/postfix)}
SWAKS=${SWAKS:-$(command -v swaks)}
[ -x "$POSTFIX" ] || dm_skip "postfix not installed (apt-get install postfix)"
if [ -z "$SWAKS" ] || [ ! -x "$SWAKS" ]; then
	dm_skip "swaks not installed (apt-get install swaks)"
fi
SINK=$(command -v smtp-sink || echo /usr/sbin/smtp-sink)
[ -x "$SINK" ] || dm_skip "smtp-sink not found (it ships in the postfix package)"
POSTCONF=$(dirname "$POSTFIX")/postconf
[ -x "$POSTCONF" ] || POSTCONF=postconf
id postfix >/dev/null 2>&1 || dm_skip "no postfix user"

# The daemon is optional for the first checks: without it only the
# instance and the dead-milter behaviour are tested, and the run fails
# (a missing daemon is not a pass) unless DM_E2E_NO_MILTER=1.
HAVE_MILTER=1
if [ -z "$DM_BUILDDIR" ] || [ ! -x "$DM_BUILDDIR/milter/disposable-milter" ] ||
    [ ! -x "$DM_BUILDDIR/milter/disposable-ctl" ]; then
	HAVE_MILTER=0
fi

dm_init e2e-postfix
T=$DM_TMP
ETC_BEFORE=$(find /etc/postfix -printf '%p %s %T@ %m\n' 2>/dev/null | sort | cksum)

dm_pick_port; P_PLAIN=$DM_PORT
dm_pick_port; P_DEAD=$DM_PORT
dm_pick_port; P_ENF=$DM_PORT
dm_pick_port; P_TAG=$DM_PORT
dm_pick_port; P_SINK=$DM_PORT
dm_pick_port; P_TAGMILTER=$DM_PORT
echo "# tmp=$T ports: plain=$P_PLAIN dead=$P_DEAD enf=$P_ENF tag=$P_TAG sink=$P_SINK tag-milter=$P_TAGMILTER"

# --- the sink ---------------------------------------------------------
mkdir -p "$T/sink"
chown nobody "$T/sink"
"$SINK" -u nobody -d "$T/sink/%H%M%S." "127.0.0.1:$P_SINK" 256 \
    >"$T/sink.log" 2>&1 &
SINK_PID=$!
dm_atexit "dm_stop_pid $SINK_PID"
dm_wait_for 50 dm_listening "$P_SINK" || {
	dm_notok "smtp-sink listens on $P_SINK"
	dm_diag "$T/sink.log"
	dm_finish
}

# --- the milters ------------------------------------------------------
LOG_ENF=$T/milter/enf.log
LOG_TAG=$T/milter/tag.log
SOCK_ENF=$T/milter/enf.sock
if [ "$HAVE_MILTER" = 1 ]; then
	DM_MILTER=$DM_BUILDDIR/milter/disposable-milter
	DM_CTL=$DM_BUILDDIR/milter/disposable-ctl
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
	# As deployed: an unprivileged user owning the socket's directory
	# and the key, the MTA's group on the socket (mode 0770 by umask).
	chown nobody "$T/milter" "$T/milter/hash.key"
	dm_check "milter (enforce) starts on unix socket as nobody:postfix" \
	    dm_milter_start "$T/milter/enf.conf" "$LOG_ENF" "unix:$SOCK_ENF" \
	    -u nobody:postfix
	dm_check "milter (tag) starts on inet socket as nobody" \
	    dm_milter_start "$T/milter/tag.conf" "$LOG_TAG" \
	    "inet:$P_TAGMILTER@127.0.0.1" -u nobody
	MILTER_ENF="unix:$SOCK_ENF"
	MILTER_TAG="inet:127.0.0.1:$P_TAGMILTER"
else
	echo "# disposable-milter not built: only the instance is tested"
	# Both point at nothing; those listeners are not used below.
	MILTER_ENF="unix:$T/none.sock"
	MILTER_TAG="unix:$T/none.sock"
fi

# --- the Postfix instance ---------------------------------------------
PF=$T/postfix
mkdir -p "$PF/etc" "$PF/queue" "$PF/data"
chown postfix "$PF/data"
cat >"$PF/etc/main.cf" <<EOF
# private test instance written by tests/e2e/postfix.sh
compatibility_level = 3.6
queue_directory = $PF/queue
data_directory = $PF/data
command_directory = /usr/sbin
daemon_directory = /usr/lib/postfix/sbin
mail_owner = postfix
setgid_group = postdrop
myhostname = mx.dm-e2e.test
mydomain = dm-e2e.test
myorigin = \$myhostname
mydestination =
relay_domains =
local_recipient_maps =
alias_maps =
alias_database =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject
smtpd_peername_lookup = no
transport_maps = inline:{sink.test=smtp:[127.0.0.1]:$P_SINK}
default_transport = error:5.1.2 only sink.test is delivered here
local_transport = error:5.1.1 no local delivery
maillog_file = $T/postfix/maillog
maillog_file_prefixes = $T
smtputf8_enable = no
biff = no
smtpd_milters =
non_smtpd_milters =
milter_default_action = tempfail
milter_connect_timeout = 5s
milter_command_timeout = 10s
smtp_connect_timeout = 5s
EOF
# No listener on port 25; chroot off so unix: milter paths are absolute.
cat >"$PF/etc/master.cf" <<EOF
127.0.0.1:$P_PLAIN inet n - n - - smtpd
  -o syslog_name=dm-e2e/plain
127.0.0.1:$P_DEAD inet n - n - - smtpd
  -o syslog_name=dm-e2e/dead
  -o smtpd_milters=unix:$T/nobody-listens.sock
127.0.0.1:$P_ENF inet n - n - - smtpd
  -o syslog_name=dm-e2e/enf
  -o smtpd_milters=$MILTER_ENF
127.0.0.1:$P_TAG inet n - n - - smtpd
  -o syslog_name=dm-e2e/tag
  -o smtpd_milters=$MILTER_TAG
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
EOF

# Stop it even if this script is killed half-way through the start; if
# "postfix stop" cannot, end the master by the pid it wrote.
pf_stop()
{
	"$POSTFIX" -c "$PF/etc" stop >/dev/null 2>&1
	pf_pid=$(tr -d ' ' <"$PF/queue/pid/master.pid" 2>/dev/null)
	[ -n "$pf_pid" ] || return 0
	dm_wait_for 50 dm_dead "$pf_pid" && return 0
	kill -TERM "$pf_pid"
	dm_wait_for 50 dm_dead "$pf_pid"
}
dm_atexit pf_stop
if "$POSTFIX" -c "$PF/etc" start >"$T/postfix-start.log" 2>&1; then
	dm_ok "private postfix instance starts"
else
	dm_notok "private postfix instance starts"
	dm_diag "$T/postfix-start.log"
	dm_diag "$PF/maillog"
	dm_finish
fi
dm_check "postfix smtpd listens on $P_PLAIN" \
    dm_wait_for 50 dm_listening "$P_PLAIN"

# --- sending and looking ----------------------------------------------
# send NAME PORT SWAKS-ARGS...: one message with Subject dm-e2e NAME;
# swaks' exit code in RC, its transcript in $T/swaks.NAME.
send()
{
	s_name=$1 s_port=$2
	shift 2
	"$SWAKS" --server "127.0.0.1:$s_port" --timeout 15 \
	    --to "rcpt.$s_name@sink.test" \
	    --header "Subject: dm-e2e $s_name" "$@" \
	    >"$T/swaks.$s_name" 2>&1
	RC=$?
}

# delivered NAME: the sink file holding that message (waits for it).
delivered()
{
	dm_wait_for 100 sink_has "$1" || return 1
	grep -l -x -F "Subject: dm-e2e $1" "$T"/sink/* 2>/dev/null | head -n 1
}

sink_has()
{
	grep -q -x -F "Subject: dm-e2e $1" "$T"/sink/* 2>/dev/null
}

# expect_delivered NAME: check that it arrived; sets FILE.
expect_delivered()
{
	FILE=
	if [ "$RC" -ne 0 ]; then
		dm_notok "$1: accepted (swaks exit $RC)"
		sed 's/^/#   /' "$T/swaks.$1" | tail -n 8
		return 1
	fi
	FILE=$(delivered "$1")
	if [ -n "$FILE" ]; then
		dm_ok "$1: accepted and delivered"
		return 0
	fi
	dm_notok "$1: delivered to the sink"
	dm_diag "$PF/maillog" 8
	return 1
}

# expect_refused NAME EXIT PATTERN: swaks exit code and reply text.
expect_refused()
{
	if [ "$RC" -eq "$2" ] && grep -q -E "$3" "$T/swaks.$1"; then
		dm_ok "$1: refused, swaks exit $2, reply /$3/"
	else
		dm_notok "$1: refused, swaks exit $2 (got $RC), reply /$3/"
		sed 's/^/#   /' "$T/swaks.$1" | grep -E '^#   <[*~]? *[0-9]' | tail -n 4
	fi
}

header_lines()
{
	# The header block only: the dump ends it at the first empty line.
	sed -n '/^$/q;p' "$2" | grep -i -c "^$1:"
}

# --- without a milter -------------------------------------------------
send plain "$P_PLAIN" --from "pl4insender@example.org" \
    --header "X-Disposable-Sender: forged-but-untouched"
if expect_delivered plain; then
	dm_check "plain: no milter, inbound X-Disposable-Sender kept as sent" \
	    grep -q -x -F "X-Disposable-Sender: forged-but-untouched" "$FILE"
fi

# A milter that is down: milter_default_action = tempfail must be
# applied, i.e. the test instance notices a dead milter.
send dead "$P_DEAD" --from "d3adsender@example.org"
expect_refused dead 23 '^<\*\* +4[0-9][0-9] 4\.[0-9]\.[0-9]'
if sink_has dead; then
	dm_notok "dead: nothing delivered"
else
	dm_ok "dead: nothing delivered"
fi

if [ "$HAVE_MILTER" != 1 ]; then
	if [ "${DM_E2E_NO_MILTER:-0}" = 1 ]; then
		dm_finish
	fi
	dm_notok "disposable-milter built (needed for the remaining checks)"
	dm_finish
fi

# --- the daemon, default policy (unix socket) -------------------------
# Every address and local part used below, for the privacy scan.
RAW="xqzdisp0@mailinator.com xqzsub1@mx.mailinator.com
    xqzclean2@example.org xqzreply3@tempmail.test xqzrelay4@relay.test
    xqzclean5@example.net xqzforge6@example.com xqzallow7@good.mailinator.com
    xqzclean8@example.org xqzreply9@mailinator.com xqzrelayt@relay.test"

send env-disposable "$P_ENF" --from "xqzdisp0@mailinator.com"
expect_refused env-disposable 23 '^<\*\* +550 5\.7\.1 disposable sender address refused'

send env-subdomain "$P_ENF" --from "xqzsub1@mx.mailinator.com"
expect_refused env-subdomain 23 '^<\*\* +550 5\.7\.1'

send replyto-reject "$P_ENF" --from "xqzclean2@example.org" \
    --header "Reply-To: <xqzreply3@tempmail.test>"
expect_refused replyto-reject 26 '^<\*\* +550 5\.7\.1'
if sink_has replyto-reject; then
	dm_notok "replyto-reject: nothing delivered"
else
	dm_ok "replyto-reject: nothing delivered"
fi

send relay-from "$P_ENF" --from "xqzclean5@example.net" \
    --header "From: Relay User <xqzrelay4@relay.test>"
if expect_delivered relay-from; then
	dm_check "relay-from: tagged 'relay; role=from; match=relay.test'" \
	    grep -q -x -F "X-Disposable-Sender: relay; role=from; match=relay.test" "$FILE"
	dm_check "relay-from: exactly one tag header" \
	    test "$(header_lines X-Disposable-Sender "$FILE")" -eq 1
fi

send clean "$P_ENF" --from "xqzclean8@example.org"
if expect_delivered clean; then
	dm_check "clean: no tag header" \
	    test "$(header_lines X-Disposable-Sender "$FILE")" -eq 0
	# The queue id is unknown at MAIL time; the daemon must read it
	# again later so its log line names the Postfix queue id.
	CLEAN_QID=$(sed -n 's/.*(Postfix) with E*SMTP id \([0-9A-Za-z]*\).*/\1/p' "$FILE" | head -n 1)
fi

send forged "$P_ENF" --from "xqzforge6@example.com" \
    --header "X-Disposable-Sender: disposable; role=from; match=forged.test"
if expect_delivered forged; then
	dm_check "forged: inbound X-Disposable-Sender removed" \
	    test "$(header_lines X-Disposable-Sender "$FILE")" -eq 0
fi

send allowed "$P_ENF" --from "xqzallow7@good.mailinator.com"
if expect_delivered allowed; then
	dm_check "allowed: allowlisted subdomain untagged" \
	    test "$(header_lines X-Disposable-Sender "$FILE")" -eq 0
fi

# --- the daemon, ActionDisposable tag (TCP socket) --------------------
send replyto-tag "$P_TAG" --from "xqzclean2@example.org" \
    --header "Reply-To: <xqzreply9@mailinator.com>" \
    --header "X-Disposable-Sender: forged"
if expect_delivered replyto-tag; then
	dm_check "replyto-tag: tagged 'disposable; role=reply-to; match=mailinator.com'" \
	    grep -q -x -F "X-Disposable-Sender: disposable; role=reply-to; match=mailinator.com" "$FILE"
	dm_check "replyto-tag: forged copy gone, exactly one tag header" \
	    test "$(header_lines X-Disposable-Sender "$FILE")" -eq 1
fi

send env-tag "$P_TAG" --from "xqzdisp0@mailinator.com"
if expect_delivered env-tag; then
	dm_check "env-tag: tagged 'disposable; role=envelope; match=mailinator.com'" \
	    grep -q -x -F "X-Disposable-Sender: disposable; role=envelope; match=mailinator.com" "$FILE"
fi

send relay-tag "$P_TAG" --from "xqzrelayt@relay.test"
if expect_delivered relay-tag; then
	dm_check "relay-tag: tagged 'relay; role=envelope; match=relay.test'" \
	    grep -q -x -F "X-Disposable-Sender: relay; role=envelope; match=relay.test" "$FILE"
fi

# --- what the daemon wrote --------------------------------------------
dm_stop_milters
for log in "$LOG_ENF" "$LOG_TAG"; do
	n=$(grep -c -E 'hash=[0-9a-f]{64}' "$log")
	dm_check "$(basename "$log"): decision lines carry hash= ($n)" \
	    test "$n" -ge 3
done
dm_check "clean: milter log line carries the Postfix queue id (${CLEAN_QID:-none})" \
    grep -q -E "qid=${CLEAN_QID:-none} action=accept category=clean .*hash=[0-9a-f]{64}" "$LOG_ENF"
dm_check "milters stopped gracefully ('stopping' logged after SIGTERM)" \
    test "$(grep -c stopping "$LOG_ENF" "$LOG_TAG" | grep -c ':1$')" -eq 2
WORDS=
for a in $RAW; do
	WORDS="$WORDS $a ${a%@*}"
done
# shellcheck disable=SC2086
dm_check "no raw address or local part in any file the milter wrote" \
    dm_no_raw_in "$T/milter" -- $WORDS
ETC_AFTER=$(find /etc/postfix -printf '%p %s %T@ %m\n' 2>/dev/null | sort | cksum)
dm_check "/etc/postfix untouched" test "$ETC_BEFORE" = "$ETC_AFTER"

dm_finish
