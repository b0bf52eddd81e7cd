#!/bin/sh
# postfix.sh - end-to-end test: SMTP client -> private Postfix -> milter,
# delivered copies captured by smtp-sink.
#
# Runs a throw-away Postfix instance (own config directory, queue and logs
# in a temporary directory, listeners on 127.0.0.1 high ports, no chroot)
# so the system's /etc/postfix is never read for settings nor written.
# master.cf gets one smtpd per listener, each with its own smtpd_milters:
#
#   plain	no milter: the instance itself delivers to the sink
#   dead	a milter socket nobody listens on: milter_default_action
#		(tempfail here) must turn every message away with 4xx
#   enf	the daemon with the default policy (disposable reject,
#		relay tag), over a unix socket
#   tag	the daemon with ActionDisposable tag, over TCP
#
# The messages and what must become of them are the cases of
# tests/e2e/scenarios, which tests/e2e/sendmail.sh runs too; here
# besides: the privacy canary (records and metrics), and what the
# daemons logged.
#
# Needs root (Postfix), postfix, smtp-sink and swaks; skips (77) without.

# Functions run from the EXIT trap or dm_check look unreachable to it:
# shellcheck disable=SC2317
. "${DM_SRCDIR:-$(dirname "$0")/../..}/tests/support/common.sh"
. "$DM_SRCDIR/tests/support/postfix.sh"
. "$DM_SRCDIR/tests/support/scenarios.sh"

dm_pf_require

# The daemon is optional for the first checks: without it only the
# instance and the dead-milter behaviour are tested, and the run fails
# (a missing daemon is not a pass) unless DM_E2E_NO_MILTER=1.
HAVE_MILTER=1
if [ -z "$DM_BUILDDIR" ] || [ ! -x "$DM_BUILDDIR/milter/disposable-milter" ] ||
    [ ! -x "$DM_BUILDDIR/ctl/disposable-ctl" ]; then
	HAVE_MILTER=0
fi

dm_init e2e-postfix
T=$DM_TMP
ETC_BEFORE=$(dm_pf_etc_sum)

dm_pick_port; P_PLAIN=$DM_PORT
dm_pick_port; P_DEAD=$DM_PORT
dm_pick_port; P_ENF=$DM_PORT
dm_pick_port; P_TAG=$DM_PORT
dm_pick_port; P_TAGMILTER=$DM_PORT

# --- the sink ---------------------------------------------------------
dm_pf_sink_start || { dm_notok "smtp-sink listens"; dm_finish; }
echo "# tmp=$T ports: plain=$P_PLAIN dead=$P_DEAD enf=$P_ENF tag=$P_TAG sink=$DM_PF_SINK_PORT tag-milter=$P_TAGMILTER"

# --- the milters ------------------------------------------------------
LOG_ENF=$T/milter/enf.log
LOG_TAG=$T/milter/tag.log
SOCK_ENF=$T/milter/enf.sock
if [ "$HAVE_MILTER" = 1 ]; then
	DM_MILTER=$DM_BUILDDIR/milter/disposable-milter
	DM_CTL=$DM_BUILDDIR/ctl/disposable-ctl
	mkdir -p "$T/milter"
	dm_write_lists "$T/milter/lists"
	"$DM_CTL" genkey "$T/milter/hash.key" >"$T/milter/ctl.log" 2>&1 ||
	    dm_notok "disposable-ctl genkey"
	# The enforcing milter keeps records and metrics: the privacy
	# canary below scans them too.
	dm_write_conf "$T/milter/enf.conf" "$T/milter/lists" \
	    "$T/milter/lists.db" "$T/milter/hash.key" \
	    "RejectReply 550 5.7.1 disposable sender address refused" \
	    "Records $T/milter/records.db" "RecordsInterval 50" \
	    "MetricsFile $T/milter/metrics.prom" "MetricsInterval 1"
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
if dm_pf_start "127.0.0.1:$P_PLAIN inet n - n - - smtpd
  -o syslog_name=dm-e2e/plain
127.0.0.1:$P_DEAD inet n - n - - smtpd
  -o syslog_name=dm-e2e/dead
  -o smtpd_milters=unix:$T/nobody-listens.sock
127.0.0.1:$P_ENF inet n - n - - smtpd
  -o syslog_name=dm-e2e/enf
  -o smtpd_milters=$MILTER_ENF
127.0.0.1:$P_TAG inet n - n - - smtpd
  -o syslog_name=dm-e2e/tag
  -o smtpd_milters=$MILTER_TAG"; then
	dm_ok "private postfix instance starts"
else
	dm_notok "private postfix instance starts"
	dm_finish
fi
dm_check "postfix smtpd listens on $P_PLAIN" \
    dm_wait_for 50 dm_listening "$P_PLAIN"

# --- the scenarios ----------------------------------------------------
# Without the daemon only the cases via plain and dead run, and the run
# fails (a missing daemon is not a pass) unless DM_E2E_NO_MILTER=1.
dm_sc_mta postfix dm_pf_queue_id
dm_sc_listener plain "$P_PLAIN"
dm_sc_listener dead "$P_DEAD"
dm_sc_listener enf "$P_ENF" "$LOG_ENF"
dm_sc_listener tag "$P_TAG" "$LOG_TAG"
if [ "$HAVE_MILTER" != 1 ]; then
	dm_sc_run "$DM_SRCDIR/tests/e2e/scenarios" plain dead
	if [ "${DM_E2E_NO_MILTER:-0}" = 1 ]; then
		dm_finish
	fi
	dm_notok "disposable-milter built (needed for the remaining checks)"
	dm_finish
fi
dm_sc_run "$DM_SRCDIR/tests/e2e/scenarios" plain dead enf tag

# --- the privacy canary (unix socket) ---------------------------------
# The privacy canary's own senders: an IDNA envelope, a UTF-8 From (its
# A-label form is what the milter hashes), a mixed-case Reply-To.  The
# message comes from a file, byte for byte.
CANARY_RAW="xqzidn@xn--bcher-kva.test xqzjohn@bücher.test
    xqzjohn@xn--bcher-kva.test Xqz.Mixed@Example.ORG"
printf '%s\r\n' "From: Jöhn <xqzjohn@bücher.test>" \
    "Reply-To: Xqz.Mixed@Example.ORG" "To: rcpt.canary@sink.test" \
    "Subject: dm-e2e canary" "" "canary" >"$T/canary.eml"
dm_pf_send canary "$P_ENF" --from "xqzidn@xn--bcher-kva.test" \
    --data "$T/canary.eml"
dm_pf_expect_delivered canary >/dev/null
dm_check "canary: delivered" test "$DM_PF_RC" -eq 0
dm_wait_for 50 sh -c "'$DM_CTL' -c '$T/milter/enf.conf' export \
    'xqzjohn@bücher.test' 2>/dev/null | grep -q '\"hash\"'"
dm_check "canary: the records store holds the UTF-8 sender, by hash" \
    sh -c "'$DM_CTL' -c '$T/milter/enf.conf' export \
    'xqzjohn@bücher.test' | grep -q '\"domain\": \"xn--bcher-kva.test\"'"
dm_check "canary: the mixed-case Reply-To, under its canonical hash" \
    sh -c "'$DM_CTL' -c '$T/milter/enf.conf' export \
    'xqz.mixed@example.org' | grep -q '\"roles\": \[\"reply-to\"\]'"
dm_wait_for 30 grep -q 'messages_total{action="accept"' "$T/milter/metrics.prom"
dm_check "canary: the metrics file is written" \
    grep -q 'disposable_milter_records_written_total' "$T/milter/metrics.prom"

# --- what the daemon wrote --------------------------------------------
dm_stop_milters
for log in "$LOG_ENF" "$LOG_TAG"; do
	n=$(grep -c -E 'hash=[0-9a-f]{64}' "$log")
	dm_check "$(basename "$log"): decision lines carry hash= ($n)" \
	    test "$n" -ge 3
done
dm_check "milters stopped gracefully ('stopping' logged after SIGTERM)" \
    test "$(grep -c stopping "$LOG_ENF" "$LOG_TAG" | grep -c ':1$')" -eq 2
# Every address the scenarios and the canary sent, and its local part.
WORDS=
for a in $DM_SC_SENT $CANARY_RAW; do
	# plain and local part; dm_no_raw_in ignores case
	WORDS="$WORDS $a ${a%@*}"
done
dm_check "records and metrics files exist (scanned below)" \
    test -s "$T/milter/records.db" -a -s "$T/milter/metrics.prom"
# shellcheck disable=SC2086 # one word each
dm_check "no raw address or local part in any file the milter wrote (logs, records, aggregates, metrics)" \
    dm_no_raw_in "$T/milter" -- $WORDS
ETC_AFTER=$(dm_pf_etc_sum)
dm_check "/etc/postfix untouched" test "$ETC_BEFORE" = "$ETC_AFTER"

dm_finish
