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
. "${DM_SRCDIR:-$(dirname "$0")/../..}/tests/support/common.sh"
. "$DM_SRCDIR/tests/support/postfix.sh"

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

# --- without a milter -------------------------------------------------
dm_pf_send plain "$P_PLAIN" --from "pl4insender@example.org" \
    --header "X-Disposable-Sender: forged-but-untouched"
if dm_pf_expect_delivered plain; then
	dm_check "plain: no milter, inbound X-Disposable-Sender kept as sent" \
	    grep -q -x -F "X-Disposable-Sender: forged-but-untouched" "$DM_PF_FILE"
fi

# A milter that is down: milter_default_action = tempfail must be
# applied, i.e. the test instance notices a dead milter.
dm_pf_send dead "$P_DEAD" --from "d3adsender@example.org"
dm_pf_expect_refused dead 23 '^<\*\* +4[0-9][0-9] 4\.[0-9]\.[0-9]'
if dm_pf_sink_has dead; then
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
    xqzclean8@example.org xqzreply9@mailinator.com xqzrelayt@relay.test
    xqzidn@xn--bcher-kva.test xqzjohn@bücher.test xqzjohn@xn--bcher-kva.test
    Xqz.Mixed@Example.ORG"

dm_pf_send env-disposable "$P_ENF" --from "xqzdisp0@mailinator.com"
dm_pf_expect_refused env-disposable 23 '^<\*\* +550 5\.7\.1 disposable sender address refused'

dm_pf_send env-subdomain "$P_ENF" --from "xqzsub1@mx.mailinator.com"
dm_pf_expect_refused env-subdomain 23 '^<\*\* +550 5\.7\.1'

dm_pf_send replyto-reject "$P_ENF" --from "xqzclean2@example.org" \
    --header "Reply-To: <xqzreply3@tempmail.test>"
dm_pf_expect_refused replyto-reject 26 '^<\*\* +550 5\.7\.1'
if dm_pf_sink_has replyto-reject; then
	dm_notok "replyto-reject: nothing delivered"
else
	dm_ok "replyto-reject: nothing delivered"
fi

dm_pf_send relay-from "$P_ENF" --from "xqzclean5@example.net" \
    --header "From: Relay User <xqzrelay4@relay.test>"
if dm_pf_expect_delivered relay-from; then
	dm_check "relay-from: tagged 'relay; role=from; match=relay.test'" \
	    grep -q -x -F "X-Disposable-Sender: relay; role=from; match=relay.test" "$DM_PF_FILE"
	dm_check "relay-from: exactly one tag header" \
	    test "$(dm_pf_header_lines X-Disposable-Sender "$DM_PF_FILE")" -eq 1
fi

dm_pf_send clean "$P_ENF" --from "xqzclean8@example.org"
if dm_pf_expect_delivered clean; then
	dm_check "clean: no tag header" \
	    test "$(dm_pf_header_lines X-Disposable-Sender "$DM_PF_FILE")" -eq 0
	# The queue id is unknown at MAIL time; the daemon must read it
	# again later so its log line names the Postfix queue id.
	CLEAN_QID=$(dm_pf_queue_id "$DM_PF_FILE")
fi

dm_pf_send forged "$P_ENF" --from "xqzforge6@example.com" \
    --header "X-Disposable-Sender: disposable; role=from; match=forged.test"
if dm_pf_expect_delivered forged; then
	dm_check "forged: inbound X-Disposable-Sender removed" \
	    test "$(dm_pf_header_lines X-Disposable-Sender "$DM_PF_FILE")" -eq 0
fi

dm_pf_send allowed "$P_ENF" --from "xqzallow7@good.mailinator.com"
if dm_pf_expect_delivered allowed; then
	dm_check "allowed: allowlisted subdomain untagged" \
	    test "$(dm_pf_header_lines X-Disposable-Sender "$DM_PF_FILE")" -eq 0
fi

# --- the daemon, ActionDisposable tag (TCP socket) --------------------
dm_pf_send replyto-tag "$P_TAG" --from "xqzclean2@example.org" \
    --header "Reply-To: <xqzreply9@mailinator.com>" \
    --header "X-Disposable-Sender: forged"
if dm_pf_expect_delivered replyto-tag; then
	dm_check "replyto-tag: tagged 'disposable; role=reply-to; match=mailinator.com'" \
	    grep -q -x -F "X-Disposable-Sender: disposable; role=reply-to; match=mailinator.com" "$DM_PF_FILE"
	dm_check "replyto-tag: forged copy gone, exactly one tag header" \
	    test "$(dm_pf_header_lines X-Disposable-Sender "$DM_PF_FILE")" -eq 1
fi

dm_pf_send env-tag "$P_TAG" --from "xqzdisp0@mailinator.com"
if dm_pf_expect_delivered env-tag; then
	dm_check "env-tag: tagged 'disposable; role=envelope; match=mailinator.com'" \
	    grep -q -x -F "X-Disposable-Sender: disposable; role=envelope; match=mailinator.com" "$DM_PF_FILE"
fi

dm_pf_send relay-tag "$P_TAG" --from "xqzrelayt@relay.test"
if dm_pf_expect_delivered relay-tag; then
	dm_check "relay-tag: tagged 'relay; role=envelope; match=relay.test'" \
	    grep -q -x -F "X-Disposable-Sender: relay; role=envelope; match=relay.test" "$DM_PF_FILE"
fi

# The privacy canary's own senders: an IDNA envelope, a UTF-8 From (its
# A-label form is what the milter hashes), a mixed-case Reply-To.  The
# message comes from a file, byte for byte.
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
dm_check "clean: milter log line carries the Postfix queue id (${CLEAN_QID:-none})" \
    grep -q -E "qid=${CLEAN_QID:-none} action=accept category=clean .*hash=[0-9a-f]{64}" "$LOG_ENF"
dm_check "milters stopped gracefully ('stopping' logged after SIGTERM)" \
    test "$(grep -c stopping "$LOG_ENF" "$LOG_TAG" | grep -c ':1$')" -eq 2
WORDS=
for a in $RAW; do
	# plain and local part; dm_no_raw_in ignores case
	WORDS="$WORDS $a ${a%@*}"
done
# shellcheck disable=SC2086
dm_check "records and metrics files exist (scanned below)" \
    test -s "$T/milter/records.db" -a -s "$T/milter/metrics.prom"
dm_check "no raw address or local part in any file the milter wrote (logs, records, aggregates, metrics)" \
    dm_no_raw_in "$T/milter" -- $WORDS
ETC_AFTER=$(dm_pf_etc_sum)
dm_check "/etc/postfix untouched" test "$ETC_BEFORE" = "$ETC_AFTER"

dm_finish
