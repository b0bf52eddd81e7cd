#!/bin/sh
# make bench, fourth part: the daemon's message rate through the milter
# protocol itself, driven by tests/bench/milter_bench (an MTA stand-in
# that adds next to no cost of its own), with the test lists and no DNS:
# the cost measured is libmilter plus our callbacks, held against
# tests/bench/noop_milter, a libmilter milter that negotiates the same
# steps and does nothing (the cost of libmilter alone).
#
# Three milters side by side on the same socket kind: the no-op milter,
# the daemon with the records store off ("plain") and on ("records":
# Records, RetentionDays, MetricsFile).  The runs are interleaved (noop,
# plain, records, noop ...), so that the machine's drift, larger than
# the differences looked for, weighs on all alike.  For each: the median
# rate, the median of its per-round ratios to the no-op run of the same
# round, and the milter's CPU per message (utime + stime of its process
# from /proc over the run, divided by the messages).  After each records
# run the daemon's metrics file (MetricsInterval 1) gives the events
# written and dropped by that run (milter_bench sends one sender per
# message: one event each), reported beside its rate; the issue asks
# that records on stay within 5% of off with every event kept.
#
# The senders are clean (on no list): every message takes every step,
# as through the no-op milter, with no reply or header change of ours;
# BENCH_MILTER_MIX=test sends milter_bench's mix of clean, disposable
# (rejected at MAIL: fewer steps than the no-op milter takes), relay
# (tagged) and allowed senders instead.
#
# BENCH_MILTER_SOCKETS socket kinds, one after the other ("unix inet"),
# BENCH_MILTER_C connections (20), BENCH_MILTER_N messages a run (20000),
# BENCH_MILTER_M messages per connection (100), BENCH_MILTER_R rounds
# (7).  About a minute per socket kind with the defaults.
. "${DM_SRCDIR:?}/tests/support/common.sh"
. "$DM_SRCDIR/tests/support/bench.sh"
dm_require_built
dm_init bench-milter
T=$DM_TMP
KINDS=${BENCH_MILTER_SOCKETS:-unix inet}
C=${BENCH_MILTER_C:-20}
N=${BENCH_MILTER_N:-20000}
M=${BENCH_MILTER_M:-100}
R=${BENCH_MILTER_R:-7}
BENCH=$DM_BUILDDIR/tests/bench/milter_bench
NOOP=$DM_BUILDDIR/tests/bench/noop_milter
[ -x "$NOOP" ] || { echo "bench: $NOOP not built"; exit 1; }
if [ "${BENCH_MILTER_MIX:-clean}" = test ]; then
	MIX=
else
	printf 'clean example.org\nclean bench.example.net\n' >"$T/senders"
	MIX="-f $T/senders"
fi

dm_write_lists "$T/lists"
"$DM_CTL" genkey "$T/hash.key" >/dev/null || exit 1
REJECT="RejectReply 550 5.7.1 Disposable sender address refused"
dm_write_conf "$T/plain.conf" "$T/lists" "$T/bench.db" "$T/hash.key" \
    "$REJECT"
"$DM_CTL" -c "$T/plain.conf" build >/dev/null || exit 1
for k in $KINDS; do
	dm_write_conf "$T/$k.records.conf" "$T/lists" "$T/bench.db" \
	    "$T/hash.key" "$REJECT" "Records $T/$k.records.lmdb" \
	    "RetentionDays 30" "MetricsFile $T/$k.records.prom" \
	    "MetricsInterval 1" ${BENCH_RECORDS_EXTRA:+"$BENCH_RECORDS_EXTRA"}
	cp "$T/plain.conf" "$T/$k.plain.conf"
	if ! "$DM_MILTER" -n -c "$T/$k.records.conf" \
	    -p "unix:$T/check.sock" >"$T/check.log" 2>&1; then
		echo "bench: the records configuration is refused:"
		dm_diag "$T/check.log" 5
		exit 1
	fi
done

# start KIND NAME: milter NAME (noop, plain, records) on a socket of KIND;
# $T/KIND.NAME.spec and .pid say where and who.  Each stays up, idle,
# until the script ends.
start()
{
	case $1 in
	unix)	spec=unix:$T/$1.$2.sock ;;
	*)	dm_pick_port
		spec=inet:$DM_PORT@127.0.0.1 ;;
	esac
	if [ "$2" = noop ]; then
		dm_daemon_start "$T/$1.$2.log" "$spec" "$NOOP" -p "$spec"
	else
		dm_milter_start "$T/$1.$2.conf" "$T/$1.$2.log" "$spec"
	fi || { echo "bench: the $2 milter ($1) did not start"; exit 1; }
	echo "$spec" >"$T/$1.$2.spec"
	echo "$DM_PID" >"$T/$1.$2.pid"
}

# once KIND NAME ROUND: drive that milter once; its rate goes to
# $T/KIND.NAME.rates, its CPU per message to .cpus.
once()
{
	f=$T/$1.$2
	pid=$(cat "$f.pid")
	c0=$(dm_bench_cpu "$pid")
	# shellcheck disable=SC2086 # MIX: no option, or one with its file
	if ! "$BENCH" -s "$(cat "$f.spec")" -c "$C" -n "$N" -m "$M" $MIX \
	    >"$f.out"; then
		cat "$f.out"
		dm_diag "$f.log"
		exit 1
	fi
	ev="records off"
	if [ "$2" = records ]; then
		# The writer commits within a second of the run: its work
		# belongs to the run.
		dm_bench_events "$f.prom" $(($3 * N)) ||
		    echo "  events not all accounted for after 30 s"
		ev="$((DM_BENCH_WRITTEN - W0)) events written, $((DM_BENCH_DROPPED - D0)) dropped"
		echo "$((DM_BENCH_DROPPED - D0))" >>"$T/$1.dropped"
		W0=$DM_BENCH_WRITTEN D0=$DM_BENCH_DROPPED
	fi
	cpu=$(dm_bench_ms_per_msg $(($(dm_bench_cpu "$pid") - c0)) "$N")
	rate=$(sed -n 's/.* \([0-9][0-9]*\) msg\/s$/\1/p' "$f.out")
	echo "$rate" >>"$f.rates"
	echo "$cpu" >>"$f.cpus"
	printf '  %s round %s: %-7s %6s msg/s, %s ms CPU/msg, %s\n' \
	    "$1" "$3" "$2" "$rate" "$cpu" "$ev"
}

# ratio KIND NAME REF [WHAT]: NAME's WHAT (rates, or cpus) over REF's
# in each round, to $T/KIND.NAME.vs.REF.WHAT; print their median.
ratio()
{
	dm_bench_ratio "$T/$1.$2.${4:-rates}" "$T/$1.$3.${4:-rates}" \
	    "$T/$1.$2.vs.$3.${4:-rates}" %.3f
}

for k in $KINDS; do
	for m in noop plain records; do
		start "$k" "$m"
	done
	W0=0 D0=0
	echo "milter, $k socket: $C connections, $N messages a run, $M per connection, $R rounds interleaved"
	r=1
	while [ $r -le "$R" ]; do
		for m in noop plain records; do
			once "$k" "$m" $r
		done
		r=$((r + 1))
	done
	sed -n '2,$p' "$T/$k.records.out" | sed 's/^/  records, last run: /'
	echo "milter, $k socket, medians of $R rounds (vs no-op: median of the per-round ratios):"
	printf '  %-34s %8s %8s %12s %8s  %s\n' configuration msg/s \
	    "vs no-op" "CPU/msg" "vs no-op" "record events"
	for m in noop plain records; do
		case $m in
		noop)	what="no-op libmilter milter"; ev="records off" ;;
		plain)	what="this milter, records off"; ev="records off" ;;
		records) what="this milter, records on"
			ev="$W0 written, $D0 dropped of $((R * N)) (per run: $(tr '\n' ' ' <"$T/$k.dropped"))" ;;
		esac
		printf '  %-34s %8s %8s %9s ms %8s  %s\n' "$what" \
		    "$(dm_bench_median "$T/$k.$m.rates" %.0f)" \
		    "$(ratio "$k" "$m" noop)" \
		    "$(dm_bench_median "$T/$k.$m.cpus" %.3f)" \
		    "$(ratio "$k" "$m" noop cpus)" "$ev"
	done
	echo "  records on, $k: $(ratio "$k" records plain) x the rate without records (median of the per-round ratios: $(tr '\n' ' ' <"$T/$k.records.vs.plain.rates")); $D0 events dropped"
done
