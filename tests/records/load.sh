#!/bin/sh
# tests/records/load.sh - the records store keeps every event while the
# daemon runs as fast as a milter client can drive it.
#
# tests/bench/milter_bench sends LOAD_N messages (60,000) over LOAD_C
# connections (40: Postfix allows 100 smtpd processes by default), each
# from its own sender (user<k>@ one of the test
# domains, in the envelope, From and Reply-To: one event a message), to
# a daemon with the default records settings (RecordsQueue 10000,
# RecordsBatch 500, RecordsInterval 1000).  That is about 11,000-15,000
# messages a second on the 2-core development machine, with the client
# and the daemon sharing both cores: twenty times the rate a real Postfix
# reaches there (../shared/REFERENCE.md).  Then:
#   - the metrics file counts no event dropped (queue or map), and every
#     one written;
#   - the store holds one record per sender, as disposable-ctl stats says.
# LOAD_EXTRA adds one configuration line (e.g. "RecordsQueue 2000", to
# see the margin).
# Before the writer kept up (issue 8, defect 11) every such run dropped
# events: 1,405 to 29,000 of 60,000 in five runs.
. "${DM_SRCDIR:-$(dirname "$0")/../..}/tests/support/common.sh"
dm_require_built
BENCH=$DM_BUILDDIR/tests/bench/milter_bench
[ -x "$BENCH" ] || dm_skip "$BENCH not built"
dm_init records-load
T=$DM_TMP
N=${LOAD_N:-60000}
C=${LOAD_C:-40}

dm_write_lists "$T/lists"
"$DM_CTL" genkey "$T/hash.key" >/dev/null || exit 1
dm_write_conf "$T/r.conf" "$T/lists" "$T/lists.db" "$T/hash.key" \
    "Records $T/records.db" "MetricsFile $T/metrics.prom" \
    "MetricsInterval 1" ${LOAD_EXTRA:+"$LOAD_EXTRA"}
"$DM_CTL" -c "$T/r.conf" build >"$T/ctl.log" 2>&1 ||
    { dm_notok "disposable-ctl build"; dm_diag "$T/ctl.log"; dm_finish; }
dm_milter_start "$T/r.conf" "$T/r.log" "unix:$T/r.sock" ||
    { dm_notok "daemon starts"; dm_diag "$T/r.log"; dm_finish; }
PID=$DM_PID

"$BENCH" -s "unix:$T/r.sock" -c "$C" -n "$N" -m 100 >"$T/b" 2>&1
dm_check "$N messages, no protocol error" grep -q '^errors: 0$' "$T/b"
sed -n 1p "$T/b" | sed 's/^/# /'

metric()
{
	v=$(sed -n "s/^disposable_milter_$1 \([0-9][0-9]*\)\$/\1/p" \
	    "$T/metrics.prom" 2>/dev/null)
	echo "${v:-0}"
}
accounted()
{
	[ $(($(metric records_written_total) +
	    $(metric 'records_dropped_total{reason="queue"}') +
	    $(metric 'records_dropped_total{reason="map"}'))) -ge "$N" ]
}
# The writer commits within a second once the client stops; the file
# comes each second.
dm_wait_for 300 accounted
w=$(metric records_written_total)
q=$(metric 'records_dropped_total{reason="queue"}')
m=$(metric 'records_dropped_total{reason="map"}')
echo "# records: written $w, dropped $q (queue full), $m (map full)"
dm_check "no event dropped: queue full" test "$q" -eq 0
dm_check "no event dropped: map full" test "$m" -eq 0
dm_check "every event written ($w of $N)" test "$w" -eq "$N"

kill -TERM "$PID"
dm_wait_for 150 dm_dead "$PID"
n=$("$DM_CTL" -c "$T/r.conf" stats 2>/dev/null |
    sed -n 's/.*: \([0-9]*\) hashed senders.*/\1/p')
dm_check "one record per sender (${n:-none} of $N)" test "${n:-0}" -eq "$N"
dm_finish
