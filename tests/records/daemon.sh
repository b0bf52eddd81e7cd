#!/bin/sh
# tests/records/daemon.sh - the records store and the metrics file behind
# the running daemon, and the operations a data-protection officer asks
# for, on real data:
#   - every classified address of every message is recorded, by hash;
#   - export prints one person's records (by address, hash or file),
#     forget removes exactly that person's and says so, idempotently;
#   - recheck finds the senders of a domain that a list update turned
#     disposable;
#   - under pressure (a tiny queue, a writer that waits) events are
#     dropped and counted, and every message still gets its reply;
#   - the metrics file parses as Prometheus text (python3-prometheus-
#     client's parser) and its counters match the messages sent;
#   - no raw address or local part in any byte the daemon wrote.
. "${DM_SRCDIR:-$(dirname "$0")/../..}/tests/support/common.sh"
dm_require_built
BENCH=$DM_BUILDDIR/tests/bench/milter_bench
[ -x "$BENCH" ] || dm_skip "$BENCH not built"
PY=/usr/bin/python3
$PY -c 'import prometheus_client.parser' 2>/dev/null ||
    dm_skip "python3-prometheus-client missing (apt-get install python3-prometheus-client)"
dm_init records
T=$DM_TMP
M=$T/milter		# everything the daemon writes, and only that
mkdir -p "$M"

dm_write_lists "$T/lists"
"$DM_CTL" genkey "$M/hash.key" >/dev/null || exit 1
dm_write_conf "$T/r.conf" "$T/lists" "$M/lists.db" "$M/hash.key" \
    "Records $M/records.db" "RecordsInterval 50" "RetentionDays 30" \
    "MetricsFile $M/metrics.prom" "MetricsInterval 1" "StatsInterval 1"
"$DM_CTL" -c "$T/r.conf" build >"$T/ctl.log" 2>&1 ||
    { dm_notok "disposable-ctl build"; dm_diag "$T/ctl.log"; dm_finish; }

# Message k comes from user<k>@ the (k mod 4)-th domain, in From and
# Reply-To too: 40 messages, 10 per domain, 40 distinct senders.
cat >"$T/senders" <<'EOF2'
clean example.org
disposable mailinator.com
relay relay.test
clean later-burner.test
EOF2
dm_milter_start "$T/r.conf" "$M/r.log" "unix:$M/r.sock" ||
    { dm_notok "daemon starts"; dm_finish; }
PID=$DM_PID
"$BENCH" -s "unix:$M/r.sock" -c 2 -n 40 -m 10 -f "$T/senders" >"$T/b1" 2>&1
dm_check "40 messages, no protocol error" grep -q "^errors: 0$" "$T/b1"
dm_check "10 disposable senders rejected" grep -q "rejected=10 " "$T/b1"
# The writer commits within RecordsInterval; the metrics come each second.
dm_wait_for 50 sh -c "'$DM_CTL' -c '$T/r.conf' export user39@later-burner.test |
    grep -q '\"hash\"'"

ctl() { "$DM_CTL" -c "$T/r.conf" "$@"; }
ctl export user0@example.org >"$T/e0" 2>&1
dm_check "export: a clean sender, all three roles, one message" sh -c "
    grep -q '\"domain\": \"example.org\"' '$T/e0' &&
    grep -q '\"messages\": 1,' '$T/e0' &&
    grep -q '\"roles\": \[\"envelope\", \"from\", \"reply-to\"\]' '$T/e0' &&
    grep -q '\"categories\": \[\"clean\"\]' '$T/e0'"
dm_check "export: the JSON parses" $PY -c "import json,sys; d=json.load(open('$T/e0')); sys.exit(0 if len(d) == 1 else 1)"
ctl export User1+Tag@MAILINATOR.com >"$T/e1" 2>&1
dm_check "export: case and +tag do not matter; a rejected sender, envelope only" sh -c "
    grep -q '\"categories\": \[\"disposable\"\]' '$T/e1' &&
    grep -q '\"roles\": \[\"envelope\"\]' '$T/e1'"
h=$(printf 'user4@example.org\n' | ctl check --no-dns --hashed | cut -f1)
ctl export "$h" >"$T/e4" 2>&1
dm_check "export by hash" grep -q "\"hash\": \"$h\"" "$T/e4"
printf 'user2@relay.test\n%s\n# comment\n' "$h" >"$T/people"
ctl export -f "$T/people" >"$T/ef" 2>&1
dm_check "export -f: two people, two records" \
    test "$(grep -c '"hash"' "$T/ef")" -eq 2

ctl forget user0@example.org >"$T/f0" 2>&1
dm_check "forget: confirmation with hash, count and time" grep -Eq \
    '^forgotten: hash=[0-9a-f]{64} key=[0-9]+ records_removed=1 at=20[0-9-]+T[0-9:]+Z$' "$T/f0"
ctl export user0@example.org >"$T/e0b" 2>&1
dm_check "forget: the record is gone" sh -c "! grep -q '\"hash\"' '$T/e0b'"
ctl export user4@example.org >"$T/e4b" 2>&1
dm_check "forget: nobody else's" grep -q '"hash"' "$T/e4b"
ctl forget user0@example.org >"$T/f0b" 2>&1
dm_check "forget again: nothing removed, still fine" \
    grep -q 'records_removed=0' "$T/f0b"

# A list update turns later-burner.test disposable: recheck finds its 10
# senders (by hash), and no one else.
echo "later-burner.test" >>"$T/lists/disposable.txt"
ctl build >/dev/null 2>&1
ctl recheck --no-dns >"$T/rc" 2>"$T/rc.err"
dm_check "recheck: the 10 senders of the newly listed domain" sh -c "
    test \$(grep -c '	later-burner.test	.*	later-burner.test	newly-disposable$' '$T/rc') -eq 10"
dm_check "recheck: and the disposable ones already known" \
    test "$(grep -c '	mailinator.com	' "$T/rc")" -eq 10
dm_check "recheck: nothing else" test "$(wc -l <"$T/rc")" -eq 20
dm_check "recheck: hashes only" sh -c "! grep -q 'user' '$T/rc'"

# Aggregates in stats.
ctl stats >"$T/st" 2>&1
dm_check "stats: records and the domain aggregates" sh -c "
    grep -q 'hashed senders' '$T/st' &&
    grep -Eq '^  mailinator.com +10 addresses' '$T/st'"

# Metrics: parse, and the counters match what was sent.
dm_wait_for 30 sh -c "grep -q 'records_written_total 40' '$M/metrics.prom'"
cat >"$T/prom.py" <<'EOF2'
import sys
from prometheus_client.parser import text_string_to_metric_families
text = open(sys.argv[1]).read()
total = {}
for fam in text_string_to_metric_families(text):
    for s in fam.samples:
        if s.name == "disposable_milter_messages_total":
            total[s.labels["action"]] = total.get(s.labels["action"], 0) + s.value
        if s.name == "disposable_milter_records_written_total":
            total["written"] = s.value
print(" ".join("%s=%d" % (k, v) for k, v in sorted(total.items())))
EOF2
$PY "$T/prom.py" "$M/metrics.prom" >"$T/prom.out" 2>&1
dm_check "metrics parse as Prometheus text" test $? -eq 0
dm_check "metrics: 10 rejects, 10 tags, 20 accepts; one event per sender and message" \
    grep -qx 'accept=20 reject=10 tag=10 tempfail=0 written=40' "$T/prom.out"
sed 's/^/# metrics: /' "$T/prom.out"
dm_check "metrics: no corrupt stored value met" \
    grep -qx 'disposable_milter_records_corrupt_total 0' "$M/metrics.prom"
dm_check "a stats line in the log" grep -q 'stats: messages=' "$M/r.log"

# Pressure: a queue of 16 and a writer that waits 60 s: most events are
# dropped and counted, and every message still gets its reply.
dm_write_conf "$T/p.conf" "$T/lists" "$M/lists.db" "$M/hash.key" \
    "Records $M/pressure.db" "RecordsQueue 16" "RecordsBatch 100000" \
    "RecordsInterval 60000" "MetricsFile $M/pressure.prom" \
    "MetricsInterval 1"
dm_milter_start "$T/p.conf" "$M/p.log" "unix:$M/p.sock" ||
    { dm_notok "pressure daemon starts"; dm_finish; }
PPID_=$DM_PID
"$BENCH" -s "unix:$M/p.sock" -c 4 -n 400 -m 50 -f "$T/senders" >"$T/b2" 2>&1
dm_check "pressure: 400 messages, every reply right (later-burner.test is listed now)" sh -c "
    grep -q '^errors: 0$' '$T/b2' && grep -q 'rejected=200 ' '$T/b2'"
dm_wait_for 30 sh -c "grep -q 'reason=\"queue\"} [1-9]' '$M/pressure.prom'"
dm_check "pressure: dropped events counted in the metrics" \
    grep -Eq 'records_dropped_total\{reason="queue"\} [1-9][0-9]*' "$M/pressure.prom"
kill -TERM "$PPID_"
dm_wait_for 150 dm_dead "$PPID_"
dm_check "pressure: a graceful stop flushes the 16 queued events" sh -c "
    '$DM_CTL' -c '$T/p.conf' stats 2>/dev/null | grep -q 'hashed senders'"
sed -i "s|^Records .*|Records $M/pressure.db|" "$T/p.conf"
n=$("$DM_CTL" -c "$T/p.conf" stats 2>/dev/null | sed -n 's/.*: \([0-9]*\) hashed senders.*/\1/p')
dm_check "pressure: what the queue held was written ($n records)" \
    test "${n:-0}" -ge 1 -a "${n:-0}" -le 16

# Key rotation: a new key, SIGUSR1, and the same sender again: the new
# record is under the new key id, and export finds both.
"$DM_CTL" genkey --rotate "$M/hash.key" >/dev/null 2>&1
kill -USR1 "$PID"
dm_wait_for 50 grep -q "reloaded:" "$M/r.log"
printf 'clean example.org\n' >"$T/one"
"$BENCH" -s "unix:$M/r.sock" -c 1 -n 5 -m 5 -f "$T/one" >"$T/b3" 2>&1
dm_wait_for 50 sh -c "ctl() { '$DM_CTL' -c '$T/r.conf' \"\$@\"; };
    test \$(ctl export user4@example.org | grep -c '\"hash\"') -eq 2"
ctl export user4@example.org >"$T/e4r" 2>&1
dm_check "rotation: export finds the record under each key" sh -c "
    grep -q '\"key_id\": 0,' '$T/e4r' && grep -q '\"key_id\": 1,' '$T/e4r'"
ctl forget user4@example.org >"$T/f4" 2>&1
dm_check "rotation: forget removes both" grep -q 'records_removed=2' "$T/f4"

kill -TERM "$PID"
dm_wait_for 150 dm_dead "$PID"

# kill -9 while the daemon writes: it restarts on the same store, which
# opens cleanly, keeps what was committed, takes new records, and purges.
dm_milter_start "$T/r.conf" "$M/r2.log" "unix:$M/r2.sock" ||
    { dm_notok "daemon restarts"; dm_finish; }
KPID=$DM_PID
"$BENCH" -s "unix:$M/r2.sock" -c 4 -n 3000 -m 100 -f "$T/senders" >/dev/null 2>&1 &
sleep 0.3
kill -KILL "$KPID"
wait $! 2>/dev/null
dm_wait_for 50 dm_dead "$KPID"
dm_milter_start "$T/r.conf" "$M/r3.log" "unix:$M/r3.sock" ||
    { dm_notok "daemon starts after kill -9"; dm_finish; }
KPID=$DM_PID
dm_ok "after kill -9 the daemon opens the store again"
"$BENCH" -s "unix:$M/r3.sock" -c 1 -n 8 -m 8 -f "$T/senders" >"$T/b5" 2>&1
dm_check "after kill -9: mail flows" grep -q '^errors: 0$' "$T/b5"
# user4@example.org was forgotten above: these 8 messages record it anew.
dm_wait_for 50 sh -c "'$DM_CTL' -c '$T/r.conf' export user4@example.org 2>/dev/null |
    grep -q '\"hash\"'"
dm_check "after kill -9: earlier records kept, new ones written" sh -c "
    '$DM_CTL' -c '$T/r.conf' export user8@example.org | grep -q '\"hash\"' &&
    '$DM_CTL' -c '$T/r.conf' export user4@example.org | grep -q '\"hash\"'"
dm_check "after kill -9: purge works beside the running daemon" \
    sh -c "'$DM_CTL' -c '$T/r.conf' purge --days 1 | grep -q '^purged: 0 records'"
kill -TERM "$KPID"
dm_wait_for 150 dm_dead "$KPID"

# A full map: 1 MiB, 6000 distinct senders.  Mail keeps flowing, the
# drops are counted, and the warning comes once, not once a batch.
dm_write_conf "$T/full.conf" "$T/lists" "$M/lists.db" "$M/hash.key" \
    "Records $M/full.db" "RecordsMapSize 1" "RecordsInterval 20" \
    "MetricsFile $M/full.prom" "MetricsInterval 1"
dm_milter_start "$T/full.conf" "$M/full.log" "unix:$M/full.sock" ||
    { dm_notok "map-full daemon starts"; dm_finish; }
FPID=$DM_PID
printf 'clean example.org\n' >"$T/one"
"$BENCH" -s "unix:$M/full.sock" -c 2 -n 6000 -m 100 -f "$T/one" >"$T/b4" 2>&1
dm_check "map full: 6000 messages, all accepted, no protocol error" sh -c "
    grep -q '^errors: 0$' '$T/b4' && grep -q 'accepted=6000 ' '$T/b4'"
dm_wait_for 50 grep -Eq 'records_dropped_total\{reason="map"\} [1-9]' "$M/full.prom"
dm_check "map full: dropped records counted" \
    grep -Eq 'records_dropped_total\{reason="map"\} [1-9]' "$M/full.prom"
dm_check "map full: warned once" test "$(grep -c 'map.*full\|full.*map' "$M/full.log")" -eq 1
kill -TERM "$FPID"
dm_wait_for 150 dm_dead "$FPID"

# Privacy: nothing the daemon wrote names a sender.  Every sender of
# this test is user<k>@...: one pattern finds a local part in any form.
dm_check "no raw address or local part in logs, records, metrics" \
    sh -c "! grep -r -a -i -E -l 'user[0-9]+' '$M'"
dm_finish
