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
    "$REJECT" "Records $T/records.lmdb" "RetentionDays 30" ${BENCH_RECORDS_EXTRA:+"$BENCH_RECORDS_EXTRA"}
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
	echo "  $1 run $2: $rate msg/s"
	echo "$rate" >>"$T/$1.all"
	[ "$rate" -gt "$(cat "$T/$1.rate")" ] && echo "$rate" >"$T/$1.rate"
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
echo "records on: $records msg/s against $plain msg/s off" \
    "($((records * 100 / plain))% of the rate without records, best runs)"
# Each records run against the plain run just before it: the median of
# those ratios is the steadier figure.
paste "$T/plain.all" "$T/records.all" | awk '{ printf "%.1f\n", $2 * 100 / $1 }' |
    sort -n >"$T/ratios"
n=$(wc -l <"$T/ratios")
echo "records on, median of $n paired runs: $(sed -n "$(( (n + 1) / 2 ))p" "$T/ratios")% of the rate without records (pairs: $(tr '\n' ' ' <"$T/ratios"))"
