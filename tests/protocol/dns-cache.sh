#!/bin/sh
# dns-cache.sh - what a message costs once the caches hold its answers,
# through the daemon (miltertest, the private unbound of
# tests/support/dns.sh serving tests/infra/zone.conf and a few names of
# its own, the metrics file read between messages):
#
#   - a second message for the same domains and client makes no c-ares
#     channel (dns_channels_created_total stays: no resolver file read),
#     sends no query (dns_queries_total, and the server's own log), and
#     takes its SPF verdict from the cache (spf_cache_hits_total);
#   - with strace (and ptrace allowed), the daemon's threads traced
#     through such a message open no resolver file;
#   - an SPF verdict lives no longer than its record's TTL (4 s);
#   - a message with many sender domains classifies each one (more
#     domains than classify_infra keeps off the heap);
#   - a reload (SIGUSR1) that points DNSServers at a server that never
#     answers is obeyed at the next lookup: no channel made before it is
#     used again; the SPF verdicts go, the DNS answers stay.
#
# Every message runs on a connection of its own, as Postfix's sessions
# do, so that nothing is carried by the connection.

# Functions called through dm_check look unreachable to shellcheck.
# shellcheck disable=SC2317
. "${DM_SRCDIR:-$(dirname "$0")/../..}/tests/support/common.sh"
. "$DM_SRCDIR/tests/support/dns.sh"
. "$DM_SRCDIR/tests/support/miltertest.sh"

dm_mt_require
dm_require_built
S=$DM_SRCDIR/tests/infra

dm_init protocol-dns-cache
T=$DM_TMP
M=$T/milter		# everything the daemon writes, and only that
mkdir -p "$M" "$T/lists"
DM_MT_RUNDIR=$M

cp "$S/zone.conf" "$T/zone.conf"
{
	cat <<'EOF'
# dns-cache.sh: a clean domain with SPF; one whose SPF record lives 4 s;
# one asked for the first time after the reload (its MX is fingerprinted:
# an answer would refuse it); and names for the message of many domains.
local-data: "cached.test. 300 IN MX 10 mx.clean-host.test."
local-data: 'cached.test. 300 IN TXT "v=spf1 ip4:192.0.2.250 -all"'
local-data: "short-spf.test. 300 IN MX 10 mx.clean-host.test."
local-data: 'short-spf.test. 4 IN TXT "v=spf1 ip4:192.0.2.250 -all"'
local-data: "after-reload.test. 300 IN MX 10 in.example-temp.test."
EOF
	i=1
	while [ $i -le 18 ]; do
		echo "local-data: \"many$i.test. 300 IN MX 10 mx.clean-host.test.\""
		i=$((i + 1))
	done
} >>"$T/zone.conf"
dm_dns_start "$T/zone.conf" || { dm_notok "DNS server starts"; dm_finish; }
dm_dns_silent_start || { dm_notok "silent server starts"; dm_finish; }

cp "$S/lists-disposable.txt" "$T/lists/disposable.txt"
cp "$S/lists-allow.txt" "$T/lists/allow.txt"
: >"$T/lists/relay.txt"
conf()	# conf SERVER [EXTRA-LINE...]
{
	c_srv=$1
	shift
	dm_write_conf "$T/d.conf" "$T/lists" "$M/lists.db" "$M/hash.key" \
	    "Fingerprints disposable test-fp $S/fingerprints-disposable.txt" \
	    "Fingerprints disposable test-weak $S/fingerprints-weak.txt" \
	    "DNS yes" "SPF yes" "DNSServers $c_srv" "DNSMinTTL 0" \
	    "MetricsFile $M/metrics.prom" "MetricsInterval 1" "$@"
}
conf "$DM_DNS_SERVER" "DNSTimeout 1000" "DNSTries 2" "DNSBudget 4000"
"$DM_CTL" genkey "$M/hash.key" >"$T/ctl.log" 2>&1
"$DM_CTL" -c "$T/d.conf" build >>"$T/ctl.log" 2>&1 ||
    { dm_notok "disposable-ctl build"; dm_diag "$T/ctl.log"; dm_finish; }
dm_milter_start "$T/d.conf" "$M/d.log" "unix:$M/d.sock" ||
    { dm_notok "daemon starts"; dm_finish; }
PID=$DM_PID
dm_ok "daemon listening, DNS and SPF on, metrics every second"

# The metrics file as it is now.
metric()	# metric NAME: its value (0 when absent)
{
	m__v=$(sed -n "s/^disposable_milter_$1 //p" "$M/metrics.prom" \
	    2>/dev/null | head -n 1)
	echo "${m__v:-0}"
}
decided()	# decided N: the file counts N messages decided, at least
{
	[ "$(awk '/^disposable_milter_messages_total\{/ { s += $2 }
	    END { print s + 0 }' "$M/metrics.prom" 2>/dev/null)" -ge "$1" ]
}
n=0
# send QID FROM CLIENT HFROM WANT: one message; then wait until the
# metrics file counts it, and read the counters into CH, Q, SH, SM.
send()
{
	dm_mt_run dns_cache.lua d qid="$1" from="$2" client="$3" \
	    hfrom="$4" want="$5"
	n=$((n + 1))
	dm_wait_for 50 decided "$n" ||
	    echo "# the metrics file did not count message $n ($1)"
	CH=$(metric dns_channels_created_total)
	Q=$(metric dns_queries_total)
	SH=$(metric spf_cache_hits_total)
	SM=$(metric spf_cache_misses_total)
	echo "# after $1: channels made $CH, queries $Q, SPF cache hits $SH," \
	    "misses $SM"
}
asked()		# asked NAME: queries of any type the server got for NAME
{
	grep -c -i -F " $1. " "$DM_DNS_LOG"
}

# --- a second message for the same domains -----------------------------
send PC01 "<xqc1@cached.test>" 198.51.100.1 "xqc1f@cached.test" pass
ch1=$CH q1=$Q sh1=$SH sm1=$SM a1=$(asked cached.test)
dm_check "first message: it made a channel ($ch1) and asked ($q1 queries)" \
    test "$ch1" -ge 1 -a "$q1" -ge 3
dm_check "first message: SPF evaluated (misses $sm1), not from the cache" \
    test "$sm1" -eq 1 -a "$sh1" -eq 0
send PC02 "<xqc2@cached.test>" 198.51.100.1 "xqc2f@cached.test" pass
dm_check "second message: no channel made ($ch1 -> $CH): no resolver file read" \
    test "$CH" -eq "$ch1"
dm_check "second message: no query sent ($q1 -> $Q)" test "$Q" -eq "$q1"
dm_check "second message: the server saw nothing new for cached.test" \
    test "$(asked cached.test)" -eq "$a1"
dm_check "second message: SPF verdict from the cache (hits $sh1 -> $SH, misses $sm1 -> $SM)" \
    test "$SH" -eq $((sh1 + 1)) -a "$SM" -eq "$sm1"
dm_check "log: PC01 and PC02 alike, spf=fail both" sh -c "
    grep -E 'qid=PC01 .*category=clean .*spf=fail' '$M/d.log' >/dev/null &&
    grep -E 'qid=PC02 .*category=clean .*spf=fail' '$M/d.log' >/dev/null"

# --- the daemon's threads traced through a cached message ---------------
if command -v strace >/dev/null 2>&1; then
	strace -f -qq -s 256 -p "$PID" -e trace=%file,read,write \
	    -o "$T/strace.out" 2>"$T/strace.err" &
	SPID=$!
	dm_atexit "kill $SPID 2>/dev/null"
	# Attached once the metrics file's writer shows up in the trace.
	if dm_wait_for 50 grep -q metrics.prom "$T/strace.out" 2>/dev/null; then
		send PC03 "<xqc3@cached.test>" 198.51.100.1 \
		    "xqc3f@cached.test" pass
		sleep 0.5
		kill "$SPID" 2>/dev/null
		wait "$SPID" 2>/dev/null
		dm_check "traced: the message went through the traced daemon" \
		    grep -q "PC03" "$T/strace.out"
		dm_check "traced: no resolver file opened for a cached message" \
		    sh -c "! grep -E 'resolv\\.conf|nsswitch\\.conf|host\\.conf' '$T/strace.out'"
	else
		kill "$SPID" 2>/dev/null
		echo "# strace could not attach (ptrace not allowed?): trace left out"
		sed 's/^/# strace: /' "$T/strace.err" | head -n 3
		send PC03 "<xqc3@cached.test>" 198.51.100.1 \
		    "xqc3f@cached.test" pass
	fi
else
	echo "# strace not installed: the trace is left out"
	send PC03 "<xqc3@cached.test>" 198.51.100.1 "xqc3f@cached.test" pass
fi
dm_check "third message: still no channel made, no query" \
    test "$CH" -eq "$ch1" -a "$Q" -eq "$q1"

# --- an SPF verdict expires with its record ------------------------------
send PC04 "<xqc4@short-spf.test>" 198.51.100.1 "" pass
sm4=$SM sh4=$SH
send PC05 "<xqc5@short-spf.test>" 198.51.100.1 "" pass
dm_check "SPF TTL 4: kept at once (hits $sh4 -> $SH)" \
    test "$SH" -eq $((sh4 + 1)) -a "$SM" -eq "$sm4"
sleep 5		# about expiry, not speed
send PC06 "<xqc6@short-spf.test>" 198.51.100.1 "" pass
dm_check "SPF TTL 4: evaluated again 5 s later (misses $sm4 -> $SM)" \
    test "$SM" -eq $((sm4 + 1))
dm_check "SPF TTL 4: the record asked twice ($(dm_dns_queries short-spf.test TXT))" \
    test "$(dm_dns_queries short-spf.test TXT)" -eq 2

# --- many sender domains in one message ---------------------------------
many=
i=1
while [ $i -le 18 ]; do
	many="${many}xqm$i@many$i.test, "
	i=$((i + 1))
done
send PC07 "<xqc7@cached.test>" 192.0.2.250 "${many}xqm19@fresh-mx.test" eoh
dm_check "log: PC07, 19 From domains: the fingerprinted one decides" \
    dm_has_decision "$M/d.log" PC07 'action=reject' 'category=disposable' \
    'role=from' 'domain=fresh-mx\.test' 'match=mx:in\.example-temp\.test ' \
    'spf=pass( |$)'
for i in 1 9 18; do
	dm_check "many$i.test was looked up" test "$(asked many$i.test)" -ge 1
done
send PC08 "<xqc8@cached.test>" 192.0.2.250 \
    "xqm20@many1.test, xqm21@fresh-ns.test" eoh
dm_check "log: PC08, two From domains: the one on a fingerprinted NS decides" \
    dm_has_decision "$M/d.log" PC08 'action=reject' 'domain=fresh-ns\.test' \
    'match=ns:\*\.burner-dns\.test '

# --- a reload that changes the DNS settings -----------------------------
ch8=$CH sm8=$SM
conf "$DM_DNS_SILENT_SERVER" "DNSTimeout 300" "DNSTries 1" "DNSBudget 1000"
kill -USR1 "$PID"
dm_check "SIGUSR1: reloaded" dm_wait_for 50 grep -q "reloaded:" "$M/d.log"
send PC09 "<xqc9@after-reload.test>" 198.51.100.1 "" pass
dm_check "after the reload: the new server was asked, it never answers: unknown" \
    dm_has_decision "$M/d.log" PC09 'action=accept' 'category=unknown' \
    'match=dns:timeout '
dm_check "after the reload: no query for after-reload.test reached the old server" \
    test "$(asked after-reload.test)" -eq 0
dm_check "after the reload: channels made afresh ($ch8 -> $CH)" \
    test "$CH" -gt "$ch8"
ch9=$CH
send PC10 "<xqc10@cached.test>" 198.51.100.1 "" pass
dm_check "after the reload: SPF verdicts gone, evaluated again (misses $sm8 -> $SM)" \
    test "$SM" -gt "$sm8"
dm_check "after the reload: from the DNS answers kept, no channel ($ch9 -> $CH), spf=fail" \
    sh -c "test '$CH' -eq '$ch9' &&
    grep -E 'qid=PC10 .*spf=fail' '$M/d.log' >/dev/null"

dm_check "daemon still running" dm_alive "$PID"
dm_stop_milters
# Every local part and address the messages used.
dm_check "no raw address or local part in anything the daemon wrote" \
    dm_no_raw_in "$M" -- xqc1 xqc2f xqm19 xqm21 xqc10 \
    xqc1@cached.test xqm19@fresh-mx.test
dm_finish
