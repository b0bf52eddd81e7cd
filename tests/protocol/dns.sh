#!/bin/sh
# dns.sh - protocol tests with DNS and SPF on: the daemon, driven by
# miltertest, against the private unbound of tests/support/dns.sh serving
# tests/infra/zone.conf, with the lists and fingerprints of tests/infra.
# One daemon per configuration:
#
#   enf     default policy                   dns_enf.lua, dns_again.lua
#   tag     ActionDisposable tag             dns_tag.lua
#   silent  a name server that never answers,
#           DNSBudget 1000, DNSTimeout 400   dns_silent.lua
#   nodns   DNS no (SPF yes): lists only     dns_nodns.lua
#
# Then what the daemons logged (category, match, spf=, dns_ms=), what
# the DNS server was asked (nothing for an allowlisted domain; a domain
# once, however many connections send from it), and no raw address or
# local part anywhere in what the daemons wrote.

# Functions called through dm_check look unreachable to shellcheck;
# PID_<config> are set through eval.
# shellcheck disable=SC2317,SC2154
. "${DM_SRCDIR:-$(dirname "$0")/../..}/tests/support/common.sh"
. "$DM_SRCDIR/tests/support/dns.sh"
. "$DM_SRCDIR/tests/support/miltertest.sh"

dm_mt_require
dm_require_built
HERE=$DM_SRCDIR/tests/protocol
S=$DM_SRCDIR/tests/infra

dm_init protocol-dns
T=$DM_TMP
M=$T/milter		# everything the daemons write, and only that
mkdir -p "$M" "$T/lists"
DM_MT_RUNDIR=$M

dm_dns_start "$S/zone.conf" || { dm_notok "DNS server starts"; dm_finish; }
dm_dns_silent_start || { dm_notok "silent server starts"; dm_finish; }

cp "$S/lists-disposable.txt" "$T/lists/disposable.txt"
cp "$S/lists-allow.txt" "$T/lists/allow.txt"
: >"$T/lists/relay.txt"

REJECT="550 5.7.1 Disposable sender address refused"
conf()	# conf NAME SERVER [EXTRA-LINE...]
{
	c_name=$1 c_srv=$2
	shift 2
	dm_write_conf "$T/$c_name.conf" "$T/lists" "$M/lists.db" \
	    "$M/hash.key" "RejectReply $REJECT" \
	    "Fingerprints disposable test-fp $S/fingerprints-disposable.txt" \
	    "Fingerprints disposable test-weak $S/fingerprints-weak.txt" \
	    "DNS yes" "SPF yes" "DNSServers $c_srv" "$@"
}
conf enf "$DM_DNS_SERVER" "DNSTimeout 1000" "DNSTries 2" "DNSBudget 4000"
conf tag "$DM_DNS_SERVER" "DNSTimeout 500" "DNSTries 2" "DNSBudget 1000" \
    "ActionDisposable tag"
conf silent "$DM_DNS_SILENT_SERVER" "DNSTimeout 400" "DNSTries 3" \
    "DNSBudget 1000"
dm_write_conf "$T/nodns.conf" "$T/lists" "$M/lists.db" "$M/hash.key" \
    "RejectReply $REJECT" \
    "Fingerprints disposable test-fp $S/fingerprints-disposable.txt" \
    "DNS no" "SPF yes" "DNSServers $DM_DNS_SERVER"

"$DM_CTL" genkey "$M/hash.key" >"$T/ctl.log" 2>&1
if "$DM_CTL" -c "$T/enf.conf" build >>"$T/ctl.log" 2>&1 &&
    grep -q fingerprints "$T/ctl.log"; then
	dm_ok "disposable-ctl build: lists and fingerprints"
else
	dm_notok "disposable-ctl build: lists and fingerprints"
	dm_diag "$T/ctl.log"
fi

started=0
for c in enf tag silent nodns; do
	if dm_milter_start "$T/$c.conf" "$M/$c.log" "unix:$M/$c.sock"; then
		eval "PID_$c=\$DM_PID"
		started=$((started + 1))
	else
		dm_notok "daemon ($c) starts"
	fi
done
[ $started -eq 4 ] || dm_finish
dm_ok "4 daemons listening"

dm_mt_run dns_enf.lua enf
# The same fresh domain on another connection: answered from the cache.
q1=$(dm_dns_queries fresh-cidr.test MX)
dm_mt_run dns_again.lua enf qid=PD07
q2=$(dm_dns_queries fresh-cidr.test MX)
dm_check "cache: fresh-cidr.test asked once ($q1), not again on another connection ($q2)" \
    test "$q1" -eq 1 -a "$q2" -eq 1
dm_check "allowlisted goodcorp.test: no query of any type reached the server" \
    test "$(grep -c -i -F 'goodcorp.test' "$DM_DNS_LOG")" -eq 0
dm_mt_run dns_tag.lua tag
dm_mt_run dns_silent.lua silent
echo "# silent server: the miltertest run took $DM_MT_MS ms (budget 1000 ms)"
# A correctness bound, generous: without the budget the three lookups
# would take 3 x 3 x 400 ms and more.
dm_check "silent server: the whole miltertest run ends within 3 s ($DM_MT_MS ms)" \
    test "$DM_MT_MS" -lt 3000
dm_mt_run dns_nodns.lua nodns
dm_check "DNS no: no query for no-mx.test of any type, SPF's included" \
    test "$(grep -c -i -F 'no-mx.test' "$DM_DNS_LOG")" -eq 0

for c in enf tag silent nodns; do
	eval "pid=\$PID_$c"
	dm_check "daemon ($c) still running after its tests" dm_alive "$pid"
done
dm_stop_milters

# --- the logs ---------------------------------------------------------
H='hash=[0-9a-f]{64}( |$)'
E=$M/enf.log
dm_check "log: PD01 rejected, disposable by MX fingerprint" \
    dm_has_decision "$E" PD01 'action=reject' 'category=disposable' \
    'role=envelope' 'domain=fresh-mx\.test' \
    'match=mx:in\.example-temp\.test ' 'confidence=high' "$H" 'dns_ms=[0-9]+'
dm_check "log: PD02 rejected on From, disposable by NS fingerprint" \
    dm_has_decision "$E" PD02 'action=reject' 'category=disposable' \
    'role=from' 'match=ns:\*\.burner-dns\.test ' "$H"
dm_check "log: PD03 tagged suspicious on From, weak signal" \
    dm_has_decision "$E" PD03 'action=tag' 'category=suspicious' 'role=from' \
    'match=mx:\*\.mx\.shared-routing\.test ' 'confidence=low'
dm_check "log: PD04 SERVFAIL: category=unknown, action=accept" \
    dm_has_decision "$E" PD04 'action=accept' 'category=unknown' \
    'match=dns:servfail ' 'spf=temperror'
dm_check "log: PD05 allowlisted, no SPF, no DNS time" \
    dm_has_decision "$E" PD05 'action=accept' 'category=allowed' \
    'match=goodcorp\.test ' '!spf=' '!dns_ms='
dm_check "log: PD06 rejected, disposable by CIDR" \
    dm_has_decision "$E" PD06 'action=reject' 'match=ip:203\.0\.113\.0/24 '
dm_check "log: PD07 (cache) rejected, same match" \
    dm_has_decision "$E" PD07 'action=reject' 'match=ip:203\.0\.113\.0/24 '
dm_check "log: PS01 client outside clean.test's SPF: spf=fail" \
    dm_has_decision "$E" PS01 'action=accept' 'category=clean' 'spf=fail( |$)'
dm_check "log: PS02 client inside clean.test's SPF: spf=pass" \
    dm_has_decision "$E" PS02 'action=accept' 'category=clean' 'spf=pass( |$)'
dm_check "log: PS03 macro record screened: spf=skipped, category clean" \
    dm_has_decision "$E" PS03 'action=accept' 'category=clean' \
    'spf=skipped( |$)'
# libspf2 passes every client in 127.0.0.0/8 (its "localhost" rule), so
# SPF can only be tested end to end with another client address.
dm_check "log: PS04 loopback client: spf=pass (libspf2's localhost rule)" \
    dm_has_decision "$E" PS04 'action=accept' 'spf=pass( |$)'
dm_check "log: PS05 no client address: no spf=" \
    dm_has_decision "$E" PS05 'action=accept' 'category=clean' '!spf='
dm_check "log: PS06 From decides, the envelope's spf=fail is still logged" \
    dm_has_decision "$E" PS06 'action=reject' 'role=from' 'spf=fail( |$)'
dm_check "log: PDT02 tagged, spf=none" \
    dm_has_decision "$M/tag.log" PDT02 'action=tag' 'category=disposable' \
    'spf=none( |$)'
dm_check "log: PDS01 silent server: category=unknown, action=accept" \
    dm_has_decision "$M/silent.log" PDS01 'action=accept' \
    'category=unknown' 'match=dns:timeout ' 'dns_ms=[0-9]+'
dm_check "log: PDT04 slow client: From still looked up, tagged" \
    dm_has_decision "$M/tag.log" PDT04 'action=tag' 'role=from' \
    'match=ip:198\.51\.100\.77/32 ' 'spf=fail( |$)'
dm_check "log: PN01 DNS no: clean, no spf=, no dns_ms=" \
    dm_has_decision "$M/nodns.log" PN01 'action=accept' 'category=clean' \
    '!spf=' '!dns_ms='
dm_check "log: PN02 DNS no: listed domain rejected" \
    dm_has_decision "$M/nodns.log" PN02 'action=reject' \
    'category=disposable' 'match=listed-burner\.test '
ms=$(dm_decision_line "$M/silent.log" PDS01 |
    sed -n 's/.* dns_ms=\([0-9]*\).*/\1/p')
echo "# silent server: dns_ms=${ms:-none} (DNSBudget 1000)"
dm_check "silent server: the budget was spent, and held ($ms ms, 800..1200)" \
    test "${ms:-0}" -ge 800 -a "${ms:-99999}" -le 1200

# Every address and local part the scripts used.
WORDS=$(cat "$HERE"/dns_*.lua | grep -o -E 'xq[nstuv][a-z0-9]+(@[A-Za-z0-9.-]+)?' |
    sort -u)
# shellcheck disable=SC2086 # one word a line
WORDS="$WORDS $(printf '%s\n' $WORDS | sed 's/@.*//' | sort -u)"
# shellcheck disable=SC2086
n=$(printf '%s\n' $WORDS | sort -u | wc -l)
# shellcheck disable=SC2086
dm_check "no raw address or local part ($n strings) in anything the daemons wrote" \
    dm_no_raw_in "$M" -- $WORDS

dm_finish
