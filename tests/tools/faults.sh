#!/bin/sh
# faults.sh - the daemon under faults it must survive or refuse (issue 8):
#   - a pid file that is a symbolic link (or has other links) is refused,
#     the file it points to untouched; a start that fails after writing
#     the pid file removes it;
#   - core dumps are off by default (RLIMIT_CORE 0, not dumpable: /proc
#     files of a process running as nobody belong to root), on with
#     CoreDumps yes;
#   - a corrupt records store does not stop the daemon: it starts, warns,
#     counts (records_up 0 in the metrics file), serves mail, and opens
#     the store once it is usable again.
# Needs root (the daemon drops to nobody).

# Functions called through dm_check look unreachable to shellcheck:
# shellcheck disable=SC2317
. "${DM_SRCDIR:-$(dirname "$0")/../..}/tests/support/common.sh"

[ "$(id -u)" -eq 0 ] || dm_skip "needs root (the daemon drops to nobody)"
id nobody >/dev/null 2>&1 || dm_skip "no nobody user"
dm_require_built
BENCH=$DM_BUILDDIR/tests/bench/milter_bench
[ -x "$BENCH" ] || dm_skip "$BENCH not built"
dm_init faults
T=$DM_TMP
M=$T/milter
mkdir -p "$M"
chown nobody "$M"

dm_write_lists "$T/lists"
"$DM_CTL" genkey "$M/hash.key" >/dev/null || exit 1
chown nobody "$M/hash.key"
dm_write_conf "$T/f.conf" "$T/lists" "$M/lists.db" "$M/hash.key"
"$DM_CTL" -c "$T/f.conf" build >"$T/ctl.log" 2>&1 ||
    { dm_notok "disposable-ctl build"; dm_diag "$T/ctl.log"; dm_finish; }

# --- the pid file ------------------------------------------------------
echo "precious" >"$T/target"
ln -s "$T/target" "$M/link.pid"
"$DM_MILTER" -f -c "$T/f.conf" -p "unix:$M/p.sock" -P "$M/link.pid" \
    -u nobody >"$T/p1.log" 2>&1 &
pid=$!
dm_wait_for 50 dm_dead "$pid"
wait "$pid"
rc=$?
dm_check "pid file a symbolic link: refused, exit $rc" test "$rc" -ne 0
dm_check "pid file a symbolic link: the message says so" \
    grep -q "link.pid is a symbolic link; refused" "$T/p1.log"
dm_check "pid file a symbolic link: the file it points to is untouched" \
    test "$(cat "$T/target")" = precious
ln "$T/target" "$M/hard.pid"
"$DM_MILTER" -f -c "$T/f.conf" -p "unix:$M/p.sock" -P "$M/hard.pid" \
    >"$T/p2.log" 2>&1
dm_check "pid file with another link: refused, the other name untouched" \
    sh -c "grep -q 'not a regular file with one link' '$T/p2.log' &&
        test \"\$(cat '$T/target')\" = precious"
# A start that fails once the pid file is written (the socket's
# directory does not exist) leaves no pid file behind.
"$DM_MILTER" -f -c "$T/f.conf" -p "unix:$M/none/p.sock" -P "$M/ok.pid" \
    >"$T/p3.log" 2>&1
rc=$?
dm_check "failed start ($rc): the pid file it wrote is removed" \
    sh -c "test $rc -ne 0 && test ! -e '$M/ok.pid'"

# --- core dumps ---------------------------------------------------------
dm_milter_start "$T/f.conf" "$M/c.log" "unix:$M/c.sock" -u nobody ||
    { dm_notok "daemon starts as nobody"; dm_finish; }
dm_check "core dumps off: RLIMIT_CORE is 0" \
    grep -Eq '^Max core file size +0 +0 ' "/proc/$DM_PID/limits"
dm_check "core dumps off: not dumpable (its /proc files belong to root)" \
    test "$(stat -c %U "/proc/$DM_PID/status")" = root
dm_stop_pid "$DM_PID"
dm_write_conf "$T/core.conf" "$T/lists" "$M/lists.db" "$M/hash.key" \
    "CoreDumps yes"
dm_milter_start "$T/core.conf" "$M/c2.log" "unix:$M/c2.sock" -u nobody ||
    { dm_notok "daemon starts with CoreDumps yes"; dm_finish; }
dm_check "CoreDumps yes: dumpable (its /proc files belong to nobody)" \
    test "$(stat -c %U "/proc/$DM_PID/status")" = nobody
dm_stop_pid "$DM_PID"

# --- a corrupt records store --------------------------------------------
head -c 65536 /dev/urandom >"$M/records.db"
chown nobody "$M/records.db"
dm_write_conf "$T/r.conf" "$T/lists" "$M/lists.db" "$M/hash.key" \
    "Records $M/records.db" "RecordsInterval 50" \
    "MetricsFile $M/metrics.prom" "MetricsInterval 1"
dm_milter_start "$T/r.conf" "$M/r.log" "unix:$M/r.sock" -u nobody ||
    { dm_notok "daemon starts despite a corrupt records store"; dm_finish; }
PID=$DM_PID
dm_ok "daemon starts despite a corrupt records store"
dm_check "it warns, naming the store" \
    grep -q "records: .*records.db.*running without the records store" "$M/r.log"
"$BENCH" -s "unix:$M/r.sock" -c 2 -n 20 -m 10 >"$T/b1" 2>&1
dm_check "mail flows without the store (20 messages, no error)" \
    grep -q "^errors: 0$" "$T/b1"
dm_wait_for 50 grep -q 'records_up 0' "$M/metrics.prom"
dm_check "metrics: records_up 0, the failures counted" sh -c "
    grep -q '^disposable_milter_records_up 0' '$M/metrics.prom' &&
    grep -Eq '^disposable_milter_records_open_failures_total [1-9]' '$M/metrics.prom'"
# The admin moves the broken file away: the next retry opens a new store.
mv "$M/records.db" "$T/records.broken"
rm -f "$M/records.db-lock"
dm_wait_for 150 sh -c "grep -q 'records: .* open again' '$M/r.log'"
dm_check "the store is opened again once usable" \
    grep -q "records: .* open again" "$M/r.log"
"$BENCH" -s "unix:$M/r.sock" -c 2 -n 20 -m 10 >"$T/b2" 2>&1
dm_wait_for 50 sh -c "grep -q '^disposable_milter_records_up 1' '$M/metrics.prom' &&
    grep -Eq '^disposable_milter_records_written_total [1-9]' '$M/metrics.prom'"
dm_check "metrics: records_up 1, events written" sh -c "
    grep -q '^disposable_milter_records_up 1' '$M/metrics.prom' &&
    grep -Eq '^disposable_milter_records_written_total [1-9]' '$M/metrics.prom'"
dm_check "the daemon kept its pid throughout" dm_alive "$PID"
dm_stop_pid "$PID"
dm_check "SIGTERM: clean exit ($DM_STATUS)" test "$DM_STATUS" -eq 0
dm_check "the metrics file written at the stop says up 0, with the last counts" \
    sh -c "grep -q '^disposable_milter_up 0' '$M/metrics.prom' &&
        grep -Eq '^disposable_milter_records_written_total [1-9]' '$M/metrics.prom'"
dm_check "no temporary metrics file left behind" \
    sh -c "! ls '$M' | grep -q 'metrics.prom.'"

# --- what the tool says about what the admin typed ------------------------
# Its output and errors end up in the logs of cron jobs: a mistyped
# address is named by its position, a looked-up one by its domain.
"$DM_CTL" -c "$T/r.conf" forget 'xqzbad@@example.org' >"$T/e1" 2>&1
"$DM_CTL" -c "$T/r.conf" export 'xqzbad2 at example.org' >"$T/e2" 2>&1
"$DM_CTL" -c "$T/r.conf" lookup --no-dns 'xqzbad3@@x' \
    'xqzgood@mailinator.com' >"$T/e3" 2>&1
dm_check "errors name the argument, not what was typed" sh -c "
    grep -q 'argument 1: not an address or a hash' '$T/e1' &&
    grep -q 'argument 1: not an address or a hash' '$T/e2' &&
    grep -q 'argument 1: not a mail address' '$T/e3' &&
    grep -q '(an address at) mailinator.com' '$T/e3'"
dm_check "no typed address or local part in the tool's output" \
    dm_no_raw_in "$T/e1" "$T/e2" "$T/e3" -- xqzbad xqzgood

# --- a record time gmtime cannot represent -----------------------------
# (lmdb-utils): every record's first-seen time set to 2^63 - 1 seconds.
if command -v mdb_dump >/dev/null && command -v mdb_load >/dev/null; then
	mdb_dump -n -s rec "$M/records.db" >"$T/rec.dump"
	awk '/^ [0-9a-f]+$/ { n++ }
	    /^ [0-9a-f]+$/ && n % 2 == 0 {
		$0 = " " substr($1, 1, 2) "ffffffffffffff7f" substr($1, 19) }
	    { print }' "$T/rec.dump" >"$T/rec.bad"
	mdb_load -n -s rec -f "$T/rec.bad" "$M/records.db" 2>"$T/load.err"
	h=$(sed -n '/^ [0-9a-f]*$/{p;q}' "$T/rec.dump" | cut -c4-67)
	"$DM_CTL" -c "$T/r.conf" export "$h" >"$T/exp" 2>&1
	rc=$?
	dm_check "export: a time gmtime cannot represent is shown, not a crash ($rc)" \
	    sh -c "test $rc -eq 0 && grep -q '\"first_seen\": \"@9223372036854775807\"' '$T/exp'"
else
	dm_notok "mdb_dump and mdb_load (lmdb-utils) installed"
fi
dm_finish
