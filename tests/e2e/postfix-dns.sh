#!/bin/sh
# postfix-dns.sh - end-to-end test of the DNS layer: SMTP client -> private
# Postfix -> milter with DNS and SPF on -> private unbound (tests/support/dns.sh
# serving tests/infra/zone.conf), delivered copies captured by smtp-sink.
#
# One smtpd per milter configuration, each trusting XCLIENT from loopback
# (smtpd_authorized_xclient_hosts) so that SPF sees a client other than
# 127.0.0.1, which libspf2 passes by its "localhost" rule:
#
#   enf     default policy (disposable reject), DNS at the private server
#   tag     ActionDisposable tag, DNS at the private server
#   outage  default policy, DNS at a server that never answers,
#           DNSBudget 1000: mail must flow, untouched
#
# Needs root (Postfix), postfix, smtp-sink, swaks, unbound and python3;
# skips (77) without.

# shellcheck disable=SC2317 # functions called through dm_check
. "${DM_SRCDIR:-$(dirname "$0")/../..}/tests/support/common.sh"
. "$DM_SRCDIR/tests/support/postfix.sh"
. "$DM_SRCDIR/tests/support/dns.sh"

dm_pf_require
dm_require_built
S=$DM_SRCDIR/tests/infra

dm_init e2e-postfix-dns
T=$DM_TMP
M=$T/milter		# everything the milters write, and only that
mkdir -p "$M" "$T/lists"
ETC_BEFORE=$(dm_pf_etc_sum)

dm_dns_start "$S/zone.conf" || { dm_notok "DNS server starts"; dm_finish; }
dm_dns_silent_start || { dm_notok "silent server starts"; dm_finish; }
dm_pf_sink_start || { dm_notok "smtp-sink listens"; dm_finish; }
dm_pick_port; P_ENF=$DM_PORT
dm_pick_port; P_TAG=$DM_PORT
dm_pick_port; P_OUT=$DM_PORT
echo "# tmp=$T dns=$DM_DNS_SERVER silent=$DM_DNS_SILENT_SERVER smtpd: enf=$P_ENF tag=$P_TAG outage=$P_OUT"

# --- the milters ------------------------------------------------------
cp "$S/lists-disposable.txt" "$T/lists/disposable.txt"
cp "$S/lists-allow.txt" "$T/lists/allow.txt"
: >"$T/lists/relay.txt"
conf()	# conf NAME SERVER [EXTRA-LINE...]
{
	c_name=$1 c_srv=$2
	shift 2
	dm_write_conf "$M/$c_name.conf" "$T/lists" "$M/lists.db" \
	    "$M/hash.key" \
	    "RejectReply 550 5.7.1 disposable sender address refused" \
	    "Fingerprints disposable test-fp $S/fingerprints-disposable.txt" \
	    "Fingerprints disposable test-weak $S/fingerprints-weak.txt" \
	    "DNS yes" "SPF yes" "DNSServers $c_srv" "$@"
}
conf enf "$DM_DNS_SERVER" "DNSTimeout 1000" "DNSTries 2" "DNSBudget 4000"
conf tag "$DM_DNS_SERVER" "DNSTimeout 1000" "DNSTries 2" "DNSBudget 4000" \
    "ActionDisposable tag"
conf outage "$DM_DNS_SILENT_SERVER" "DNSTimeout 400" "DNSTries 3" \
    "DNSBudget 1000"
"$DM_CTL" genkey "$M/hash.key" >"$T/ctl.log" 2>&1
if "$DM_CTL" -c "$M/enf.conf" build >>"$T/ctl.log" 2>&1; then
	dm_ok "disposable-ctl build: lists and fingerprints"
else
	dm_notok "disposable-ctl build: lists and fingerprints"
	dm_diag "$T/ctl.log"
fi
# As deployed: an unprivileged user, the MTA's group on the socket.
chown nobody "$M" "$M/hash.key"
started=0
for c in enf tag outage; do
	if dm_milter_start "$M/$c.conf" "$M/$c.log" "unix:$M/$c.sock" \
	    -u nobody:postfix; then
		started=$((started + 1))
	else
		dm_notok "milter ($c) starts"
	fi
done
[ $started -eq 3 ] || dm_finish
dm_ok "3 milters with DNS listening"

# --- the Postfix instance ---------------------------------------------
# After XCLIENT the client is no longer in mynetworks: sink.test is a
# relay domain for these listeners.
listener()	# listener NAME PORT
{
	cat <<EOF
127.0.0.1:$2 inet n - n - - smtpd
  -o syslog_name=dm-e2e-dns/$1
  -o smtpd_milters=unix:$M/$1.sock
  -o smtpd_authorized_xclient_hosts=127.0.0.0/8
  -o smtpd_relay_restrictions=permit_mynetworks,reject_unauth_destination
EOF
}
if dm_pf_start "$(listener enf "$P_ENF")
$(listener tag "$P_TAG")
$(listener outage "$P_OUT")"; then
	dm_ok "private postfix instance starts"
else
	dm_notok "private postfix instance starts"
	dm_finish
fi
dm_check "postfix smtpd listens on $P_OUT" dm_wait_for 50 dm_listening "$P_OUT"

TAG=X-Disposable-Sender
# tagged_exactly NAME VALUE: the delivered copy has one tag header, VALUE.
tagged_exactly()
{
	grep -q -x -F "$TAG: $2" "$DM_PF_FILE" &&
	    [ "$(dm_pf_header_lines "$TAG" "$DM_PF_FILE")" -eq 1 ] && return 0
	echo "# $1: tag headers: $(grep -i "^$TAG:" "$DM_PF_FILE" | tr '\n' ' ')"
	return 1
}

# --- default policy: a fresh domain on fingerprinted infrastructure -----
dm_pf_send fresh-env "$P_ENF" --from "xqzd1@fresh-mx.test"
dm_pf_expect_refused fresh-env 23 \
    '^<\*\* +550 5\.7\.1 disposable sender address refused'
dm_pf_send fresh-from "$P_ENF" --from "xqzd2@clean.test" \
    --header "From: <xqzd2f@fresh-ns.test>"
dm_pf_expect_refused fresh-from 26 '^<\*\* +550 5\.7\.1'
if dm_pf_sink_has fresh-from; then
	dm_notok "fresh-from: nothing delivered"
else
	dm_ok "fresh-from: nothing delivered"
fi

# --- SPF through XCLIENT: clean.test is "v=spf1 ip4:192.0.2.250 -all" ----
dm_pf_send spf-fail "$P_ENF" --xclient-addr 198.51.100.1 \
    --from "xqzd3@clean.test"
dm_pf_expect_delivered spf-fail &&
    QID_SPF_FAIL=$(dm_pf_queue_id "$DM_PF_FILE")
dm_pf_send spf-pass "$P_ENF" --xclient-addr 192.0.2.250 \
    --from "xqzd4@clean.test"
dm_pf_expect_delivered spf-pass &&
    QID_SPF_PASS=$(dm_pf_queue_id "$DM_PF_FILE")

# --- tag: the header names the fingerprint, and the client's SPF --------
# A loopback client: libspf2's localhost rule says pass.
dm_pf_send fresh-tag "$P_TAG" --from "xqzd5@fresh-mx.test"
if dm_pf_expect_delivered fresh-tag; then
	dm_check "fresh-tag: '$TAG: disposable; role=envelope; match=mx:in.example-temp.test; spf=pass'" \
	    tagged_exactly fresh-tag \
	    "disposable; role=envelope; match=mx:in.example-temp.test; spf=pass"
fi
# A forged disposable sender: its SPF fails for the client.
dm_pf_send fresh-tag-spf "$P_TAG" --xclient-addr 198.51.100.1 \
    --from "xqzd6@fresh-spf.test"
if dm_pf_expect_delivered fresh-tag-spf; then
	dm_check "fresh-tag-spf: '$TAG: disposable; role=envelope; match=spf:_spf.burner-spf.test; spf=fail'" \
	    tagged_exactly fresh-tag-spf \
	    "disposable; role=envelope; match=spf:_spf.burner-spf.test; spf=fail"
fi

# --- a DNS outage: mail flows, untouched ------------------------------
dm_pf_send outage "$P_OUT" --xclient-addr 198.51.100.1 \
    --from "xqzd7@fresh-mx.test" --header "From: <xqzd7f@fresh-addr.test>"
if dm_pf_expect_delivered outage; then
	QID_OUTAGE=$(dm_pf_queue_id "$DM_PF_FILE")
	dm_check "outage: no tag header" \
	    test "$(dm_pf_header_lines "$TAG" "$DM_PF_FILE")" -eq 0
fi

# --- what the milters wrote -------------------------------------------
dm_stop_milters
dm_check "log: fresh-env rejected, disposable by MX fingerprint" \
    grep -q -E 'action=reject category=disposable role=envelope .*domain=fresh-mx\.test match=mx:in\.example-temp\.test ' \
    "$M/enf.log"
dm_check "log: fresh-from rejected on From, NS fingerprint" \
    grep -q -E 'action=reject category=disposable role=from .*domain=fresh-ns\.test match=ns:\*\.burner-dns\.test ' \
    "$M/enf.log"
dm_check "log: spf-fail (XCLIENT 198.51.100.1) spf=fail" \
    dm_has_decision "$M/enf.log" "${QID_SPF_FAIL:-none}" 'action=accept' \
    'category=clean' 'spf=fail( |$)'
dm_check "log: spf-pass (XCLIENT 192.0.2.250) spf=pass" \
    dm_has_decision "$M/enf.log" "${QID_SPF_PASS:-none}" 'action=accept' \
    'category=clean' 'spf=pass( |$)'
dm_check "log: outage category=unknown action=accept" \
    dm_has_decision "$M/outage.log" "${QID_OUTAGE:-none}" 'action=accept' \
    'category=unknown' 'match=dns:timeout '
ms=$(dm_decision_line "$M/outage.log" "${QID_OUTAGE:-none}" |
    sed -n 's/.* dns_ms=\([0-9]*\).*/\1/p')
echo "# outage: dns_ms=${ms:-none} (DNSBudget 1000)"
dm_check "outage: the DNS budget held (dns_ms=${ms:-none} <= 1200)" \
    test "${ms:-99999}" -le 1200
dm_check "the unbound log saw the fingerprinted domains (the milter asked it)" \
    test "$(dm_dns_queries fresh-mx.test MX)" -ge 1

WORDS=
for a in xqzd1@fresh-mx.test xqzd2@clean.test xqzd2f@fresh-ns.test \
    xqzd3@clean.test xqzd4@clean.test xqzd5@fresh-mx.test \
    xqzd6@fresh-spf.test xqzd7@fresh-mx.test xqzd7f@fresh-addr.test; do
	WORDS="$WORDS $a ${a%@*}"
done
# shellcheck disable=SC2086
dm_check "no raw address or local part in any file the milters wrote" \
    dm_no_raw_in "$M" -- $WORDS
dm_check "/etc/postfix untouched" test "$ETC_BEFORE" = "$(dm_pf_etc_sum)"

dm_finish
