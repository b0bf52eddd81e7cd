# shellcheck shell=sh
# bench.sh - what the benchmark scripts report beside a rate.
#
# Sourced after common.sh by tests/bench/milter.sh and
# tests/bench/postfix.sh.  Plain POSIX sh (dash).
#
#   dm_bench_cpu PID...
#	Print the CPU time (user + system, in clock ticks) those processes
#	and their direct children (rspamd's workers) have used so far,
#	from /proc; take it before and after a run.
#
#   dm_bench_ms_per_msg TICKS MESSAGES
#	Print TICKS of CPU time spread over MESSAGES, in milliseconds
#	("0.690"); "-" when MESSAGES is 0.
#
#   dm_bench_median FILE [FORMAT]
#	Print the median of the numbers in FILE (one a line) with the
#	printf FORMAT ("%.2f" when not given); "-" when FILE holds none,
#	or anything else ("-" for "not measured").
#
#   dm_bench_ratio FILE REF OUT [FORMAT]
#	Write to OUT, line by line, FILE's number over REF's (one a round,
#	"-" where either was not measured); print their median with
#	FORMAT ("%.2f").
#
#   dm_bench_events PROMFILE WANT
#	Wait until WANT record events in all are accounted for (written
#	or dropped) in a daemon's metrics file (MetricsFile, written every
#	MetricsInterval), 30 s at most; then set DM_BENCH_WRITTEN and
#	DM_BENCH_DROPPED to the totals so far.  Returns 1 (with the
#	totals set) when they fall short.

DM_BENCH_HZ=$(getconf CLK_TCK 2>/dev/null || echo 100)

dm_bench_cpu()
{
	# After the last ") " (the command name may hold anything) the
	# fields are state, ppid ... utime (12th), stime (13th).
	cat /proc/[0-9]*/stat 2>/dev/null | awk -v pids=" $* " '
	{
		pid = $1
		sub(/.*\) /, "")
		if (index(pids, " " pid " ") || index(pids, " " $2 " "))
			t += $12 + $13
	}
	END { print t + 0 }'
}

dm_bench_ms_per_msg()
{
	awk -v t="$1" -v n="$2" -v hz="$DM_BENCH_HZ" 'BEGIN {
		if (n > 0) printf "%.3f\n", t * 1000 / hz / n
		else print "-"
	}'
}

dm_bench_median()
{
	sort -n "$1" | awk -v f="${2:-%.2f}" '
	!/^[0-9.]+$/ { bad = 1 }
	{ v[NR] = $1 }
	END {
		if (NR == 0 || bad) print "-"
		else if (NR % 2) printf f "\n", v[(NR + 1) / 2]
		else printf f "\n", (v[NR / 2] + v[NR / 2 + 1]) / 2
	}'
}

dm_bench_ratio()
{
	paste "$1" "$2" | awk -v f="${4:-%.2f}" '
	    $1 ~ /^[0-9.]+$/ && $2 ~ /^[0-9.]+$/ && $2 > 0 {
		printf f "\n", $1 / $2; next }
	    { print "-" }' >"$3"
	dm_bench_median "$3" "${4:-%.2f}"
}

dm__bench_metric()
{
	dm__v=$(sed -n "s/^disposable_milter_$2 \([0-9][0-9]*\)\$/\1/p" \
	    "$1" 2>/dev/null)
	echo "${dm__v:-0}"
}

dm_bench_events()
{
	dm__i=0
	while :; do
		DM_BENCH_WRITTEN=$(dm__bench_metric "$1" records_written_total)
		DM_BENCH_DROPPED=$(($(dm__bench_metric "$1" \
		    'records_dropped_total{reason="queue"}') + \
		    $(dm__bench_metric "$1" \
		    'records_dropped_total{reason="map"}')))
		[ $((DM_BENCH_WRITTEN + DM_BENCH_DROPPED)) -ge "$2" ] &&
		    return 0
		dm__i=$((dm__i + 1))
		[ $dm__i -ge 300 ] && return 1
		sleep 0.1
	done
}
