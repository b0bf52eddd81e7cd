#!/bin/sh
# make bench, third part: the daemon's message rate through the milter
# protocol itself, driven by tests/bench/milter_bench (an MTA stand-in
# that adds next to no cost of its own) over a unix socket, with the test
# lists and no DNS: the cost measured is libmilter plus our callbacks.
#
# Twice: with the records store off, then on (Records, RetentionDays);
# the issue asks that the second rate stay within 5% of the first, with
# every record event kept: after each records run the daemon's metrics
# file (MetricsInterval 1) gives the events written and dropped by that
# run (milter_bench sends one sender per message: one event each), and
# they are reported beside its rate.
# BENCH_MILTER_C connections (20), BENCH_MILTER_N messages (20000),
# BENCH_MILTER_M messages per connection (100), BENCH_MILTER_R runs per
# configuration (7).
. "${DM_SRCDIR:?}/tests/support/common.sh"
dm_require_built
dm_init bench-milter
T=$DM_TMP
C=${BENCH_MILTER_C:-20}
N=${BENCH_MILTER_N:-20000}
M=${BENCH_MILTER_M:-100}
R=${BENCH_MILTER_R:-7}
BENCH=$DM_BUILDDIR/tests/bench/milter_bench

dm_write_lists "$T/lists"
"$DM_CTL" genkey "$T/hash.key" >/dev/null || exit 1
REJECT="RejectReply 550 5.7.1 Disposable sender address refused"
dm_write_conf "$T/plain.conf" "$T/lists" "$T/bench.db" "$T/hash.key" \
    "$REJECT"
dm_write_conf "$T/records.conf" "$T/lists" "$T/bench.db" "$T/hash.key" \
    "$REJECT" "Records $T/records.lmdb" "RetentionDays 30" \
    "MetricsFile $T/records.prom" "MetricsInterval 1" \
    ${BENCH_RECORDS_EXTRA:+"$BENCH_RECORDS_EXTRA"}
"$DM_CTL" -c "$T/plain.conf" build >/dev/null || exit 1

# run NAME CONF: start a daemon on CONF, drive it R times, keep the best
# rate in $T/NAME.rate (single runs vary by about 10% on this machine,
# more than the 5% the comparison is about), stop it.
# Both daemons run side by side, and the runs alternate (plain, records,
# plain, records ...): the machine's drift, which is larger than the 5%
# looked for, then weighs on both alike.  The best run of each counts.
start()
{
	if ! dm_milter_start "$2" "$T/$1.log" "unix:$T/$1.sock"; then
		echo "bench: the daemon ($1) did not start"
		exit 1
	fi
	echo 0 >"$T/$1.rate"
}

once()
{
	if ! "$BENCH" -s "unix:$T/$1.sock" -c "$C" -n "$N" -m "$M" \
	    >"$T/$1.out"; then
		cat "$T/$1.out"
		dm_diag "$T/$1.log"
		exit 1
	fi
	rate=$(sed -n 's/.* \([0-9][0-9]*\) msg\/s$/\1/p' "$T/$1.out")
	if [ "$1" = records ]; then
		events "$2" >"$T/events.line"
		echo "  $1 run $2: $rate msg/s, $(cat "$T/events.line")"
	else
		echo "  $1 run $2: $rate msg/s"
	fi
	echo "$rate" >>"$T/$1.all"
	[ "$rate" -gt "$(cat "$T/$1.rate")" ] && echo "$rate" >"$T/$1.rate"
}

# metric NAME: its value in the records daemon's metrics file (0 if absent).
metric()
{
	v=$(sed -n "s/^disposable_milter_$1 \([0-9][0-9]*\)\$/\1/p" \
	    "$T/records.prom" 2>/dev/null)
	echo "${v:-0}"
}

# events RUN: wait until every event of the runs so far is accounted for
# (written, or dropped), then print what this run wrote and dropped.  The
# writer commits within RecordsInterval (1 s) and the file comes each
# second; 30 s at most.
events()
{
	want=$(($1 * N))
	i=0
	while :; do
		w=$(metric records_written_total)
		q=$(metric 'records_dropped_total{reason="queue"}')
		m=$(metric 'records_dropped_total{reason="map"}')
		[ $((w + q + m)) -ge "$want" ] && break
		i=$((i + 1))
		if [ $i -ge 300 ]; then
			echo "events not all accounted for after 30 s:" \
			    "$((w + q + m)) of $want"
			return
		fi
		sleep 0.1
	done
	echo "$((w - ${W0:-0})) events written, $((q + m - ${D0:-0})) dropped"
	echo "$((q + m - ${D0:-0}))" >>"$T/dropped.all"
	W0=$w
	D0=$((q + m))
}

if ! "$DM_MILTER" -n -c "$T/records.conf" -p "unix:$T/check.sock" \
    >"$T/check.log" 2>&1; then
	echo "bench: the records configuration is refused:"
	dm_diag "$T/check.log" 5
	exit 1
fi
start plain "$T/plain.conf"
start records "$T/records.conf"
echo "milter: $C connections, $N messages, $M per connection, best of $R each, alternating"
r=1
while [ $r -le "$R" ]; do
	once plain $r
	once records $r
	r=$((r + 1))
done
sed -n '2,$p' "$T/records.out" | sed 's/^/  records, last run: /'
plain=$(cat "$T/plain.rate")
records=$(cat "$T/records.rate")
echo "plain: $plain msg/s"
echo "records: $records msg/s"
echo "records events dropped: $(awk '{ s += $1 } END { print s + 0 }' \
    "$T/dropped.all") of $((R * N)) (per run: $(tr '\n' ' ' <"$T/dropped.all"))"
echo "records on: $records msg/s against $plain msg/s off" \
    "($((records * 100 / plain))% of the rate without records, best runs)"
# Each records run against the plain run just before it: the median of
# those ratios is the steadier figure.
paste "$T/plain.all" "$T/records.all" | awk '{ printf "%.1f\n", $2 * 100 / $1 }' |
    sort -n >"$T/ratios"
n=$(wc -l <"$T/ratios")
echo "records on, median of $n paired runs: $(sed -n "$(( (n + 1) / 2 ))p" "$T/ratios")% of the rate without records (pairs: $(tr '\n' ' ' <"$T/ratios"))"
