#!/bin/sh
# make bench, third part: the daemon's message rate through the milter
# protocol itself, driven by tests/bench/milter_bench (an MTA stand-in
# that adds next to no cost of its own) over a unix socket, with the test
# lists and no DNS: the cost measured is libmilter plus our callbacks.
#
# Twice: with the records store off, then on (Records, RetentionDays);
# the issue asks that the second rate stay within 5% of the first.
# BENCH_MILTER_C connections (20), BENCH_MILTER_N messages (20000),
# BENCH_MILTER_M messages per connection (100), BENCH_MILTER_R runs per
# configuration (3).
. "${DM_SRCDIR:?}/tests/lib/common.sh"
dm_require_built
dm_init bench-milter
T=$DM_TMP
C=${BENCH_MILTER_C:-20}
N=${BENCH_MILTER_N:-20000}
M=${BENCH_MILTER_M:-100}
R=${BENCH_MILTER_R:-3}
BENCH=$DM_BUILDDIR/tests/bench/milter_bench

dm_write_lists "$T/lists"
"$DM_CTL" genkey "$T/hash.key" >/dev/null || exit 1
REJECT="RejectReply 550 5.7.1 Disposable sender address refused"
dm_write_conf "$T/plain.conf" "$T/lists" "$T/bench.db" "$T/hash.key" \
    "$REJECT"
dm_write_conf "$T/records.conf" "$T/lists" "$T/bench.db" "$T/hash.key" \
    "$REJECT" "Records $T/records.lmdb" "RetentionDays 30"
"$DM_CTL" -c "$T/plain.conf" build >/dev/null || exit 1

# run NAME CONF: start a daemon on CONF, drive it R times, keep the best
# rate in $T/NAME.rate (single runs vary by about 10% on this machine,
# more than the 5% the comparison is about), stop it.
run()
{
	if ! dm_milter_start "$2" "$T/$1.log" "unix:$T/$1.sock"; then
		echo "bench: the daemon ($1) did not start"
		return 1
	fi
	echo "$1: $C connections, $N messages, $M per connection, best of $R"
	best=0
	r=0
	while [ $r -lt "$R" ]; do
		if ! "$BENCH" -s "unix:$T/$1.sock" -c "$C" -n "$N" -m "$M" \
		    >"$T/$1.out"; then
			cat "$T/$1.out"
			dm_diag "$T/$1.log"
			return 1
		fi
		rate=$(sed -n 's/.* \([0-9][0-9]*\) msg\/s$/\1/p' "$T/$1.out")
		echo "  run $((r + 1)): $rate msg/s"
		[ "$rate" -gt "$best" ] && best=$rate
		r=$((r + 1))
	done
	sed -n '2,$p' "$T/$1.out" | sed 's/^/  last run /'
	echo "$best" >"$T/$1.rate"
	echo "$1: $best msg/s"
	dm_stop_pid "$DM_PID"
}

run plain "$T/plain.conf" || exit 1
if ! "$DM_MILTER" -n -c "$T/records.conf" -p "unix:$T/check.sock" \
    >"$T/check.log" 2>&1; then
	if grep -q "unknown key 'Records'" "$T/check.log"; then
		echo "records: not available yet"
		exit 0
	fi
	echo "bench: the records configuration is refused:"
	dm_diag "$T/check.log" 5
	exit 1
fi
run records "$T/records.conf" || exit 1
plain=$(cat "$T/plain.rate")
records=$(cat "$T/records.rate")
echo "records on: $records msg/s against $plain msg/s off" \
    "($((records * 100 / plain))% of the rate without records)"
