#!/bin/sh
# stop.sh - SIGTERM is a clean stop: no new connection is taken, every
# message in flight gets its answer, then the daemon exits (issue 8).
#
# The messages are made slow on purpose: DNS goes to a server that never
# answers, so each one spends its whole DNSBudget (8 s) in the milter,
# longer than libmilter takes to notice the signal (its listener looks
# every 5 s).  Two connections each send one message (libmilter keeps
# two workers ready; more would queue behind the slow ones); SIGTERM
# comes while both wait for DNS.  Each must be answered (accepted: DNS
# unknown), none cut off; a connection made after the stop is refused.

# Functions called through dm_check look unreachable to shellcheck:
# shellcheck disable=SC2317
. "${DM_SRCDIR:-$(dirname "$0")/../..}/tests/support/common.sh"
. "$DM_SRCDIR/tests/support/dns.sh"

dm_require_built
BENCH=$DM_BUILDDIR/tests/bench/milter_bench
[ -x "$BENCH" ] || dm_skip "$BENCH not built"
dm_init stop
T=$DM_TMP
M=$T/milter
mkdir -p "$M"

dm_dns_silent_start || { dm_notok "silent DNS server starts"; dm_finish; }
dm_write_lists "$T/lists"
"$DM_CTL" genkey "$M/hash.key" >/dev/null || exit 1
dm_write_conf "$T/s.conf" "$T/lists" "$M/lists.db" "$M/hash.key" \
    "DNS yes" "SPF no" "DNSServers $DM_DNS_SILENT_SERVER" \
    "DNSTimeout 4000" "DNSTries 2" "DNSBudget 8000"
"$DM_CTL" -c "$T/s.conf" build >"$T/ctl.log" 2>&1 ||
    { dm_notok "disposable-ctl build"; dm_diag "$T/ctl.log"; dm_finish; }
printf 'clean slow.example.org\n' >"$T/senders"

dm_milter_start "$T/s.conf" "$M/s.log" "unix:$M/s.sock" ||
    { dm_notok "daemon starts"; dm_finish; }
PID=$DM_PID
t0=$(date +%s)
"$BENCH" -s "unix:$M/s.sock" -c 2 -n 2 -m 1 -f "$T/senders" \
    >"$T/bench" 2>&1 &
BPID=$!
sleep 3
kill -TERM "$PID"
wait "$BPID"
brc=$?
t1=$(date +%s)
sed 's/^/# bench: /' "$T/bench"
dm_check "both messages in flight at SIGTERM got their answer (bench exit $brc)" \
    sh -c "test $brc -eq 0 && grep -q '^errors: 0$' '$T/bench' &&
        grep -q 'accepted=2' '$T/bench'"
dm_check "they waited for DNS, as they should ($((t1 - t0)) s)" \
    test $((t1 - t0)) -ge 6
dm_wait_for 150 dm_dead "$PID"
dm_check "the daemon exits after them" dm_dead "$PID"
wait "$PID"
dm_check "exit status 0 ($?)" test $? -eq 0
"$BENCH" -s "unix:$M/s.sock" -c 1 -n 1 >"$T/after" 2>&1
dm_check "no connection is taken after the stop" \
    grep -q 'cannot connect' "$T/after"
dm_check "the decisions were logged, the stop too" sh -c "
    test \$(grep -c 'action=accept category=unknown' '$M/s.log') -eq 2 &&
    grep -q stopping '$M/s.log'"
dm_finish
