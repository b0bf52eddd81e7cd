#!/bin/sh
# make bench, last part: a soak.  The daemon, built with AddressSanitizer
# and UBSan, takes SOAK_N messages (300,000) from SOAK_C connections (100)
# through tests/bench/milter_bench, reconnecting every SOAK_M messages
# (1,000), with the records store and the metrics file on and no DNS; its
# anonymous resident memory (RssAnon: the heap, not the records file it
# maps, which grows with the senders it records) and open descriptors
# are sampled every second.
#
# Passes when the client saw no error, the sanitizers reported nothing,
# the daemon stopped cleanly, and RSS and descriptors were flat after the
# warm-up: the last sample within 10 % (RSS) and 8 descriptors of the
# sample taken once a fifth of the messages had gone.  Prints the rate,
# the samples at warm-up and at the end, and the record events dropped.
#
# The sanitizer build lives in DM_BUILDDIR/tests/bench/soak-build and is
# reused (configure, then make of the daemon and tool only); SOAK_MILTER
# names another daemon to soak instead.
. "${DM_SRCDIR:?}/tests/support/common.sh"
dm_init soak
T=$DM_TMP
C=${SOAK_C:-100}
N=${SOAK_N:-300000}
M=${SOAK_M:-1000}
BENCH=$DM_BUILDDIR/tests/bench/milter_bench
[ -x "$BENCH" ] || { echo "soak: $BENCH not built"; exit 1; }

B=$DM_BUILDDIR/tests/bench/soak-build
SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined"
if [ -z "${SOAK_MILTER:-}" ]; then
	mkdir -p "$B"
	if [ ! -f "$B/Makefile" ]; then
		(cd "$B" && "$DM_SRCDIR/configure" -q \
		    CFLAGS="-g -O1 -fno-omit-frame-pointer $SAN" \
		    LDFLAGS="$SAN") >"$T/configure.log" 2>&1 ||
		    { cat "$T/configure.log"; exit 1; }
	fi
	(cd "$B" && make -j2 milter/disposable-milter ctl/disposable-ctl) \
	    >"$T/make.log" 2>&1 || { tail -20 "$T/make.log"; exit 1; }
	SOAK_MILTER=$B/milter/disposable-milter
	CTL=$B/ctl/disposable-ctl
else
	CTL=${DM_CTL:-$DM_BUILDDIR/ctl/disposable-ctl}
fi

dm_write_lists "$T/lists"
"$CTL" genkey "$T/hash.key" >/dev/null || exit 1
dm_write_conf "$T/soak.conf" "$T/lists" "$T/soak.db" "$T/hash.key" \
    "DNS no" "Records $T/records.lmdb" "MetricsFile $T/metrics.prom" \
    "MetricsInterval 5"
"$CTL" -c "$T/soak.conf" build >/dev/null || exit 1

# A bounded quarantine: ASan keeps freed memory up to it, and RSS grows
# until it is full (256 MiB by default), which is not a leak.
export ASAN_OPTIONS="detect_leaks=1:halt_on_error=1:quarantine_size_mb=64:log_path=$T/asan"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:log_path=$T/ubsan"
DM_MILTER=$SOAK_MILTER
if ! dm_milter_start "$T/soak.conf" "$T/soak.log" "unix:$T/soak.sock"; then
	echo "soak: the daemon did not start"
	exit 1
fi
PID=$DM_PID

sample()	# sample: "seconds rss_kib fds" of the daemon
{
	rss=$(sed -n 's/^RssAnon:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$PID/status" 2>/dev/null)
	fds=$(ls "/proc/$PID/fd" 2>/dev/null | wc -l)
	echo "$(date +%s) ${rss:-0} $fds"
}
t0=$(date +%s)
"$BENCH" -s "unix:$T/soak.sock" -c "$C" -n "$N" -m "$M" >"$T/bench.out" 2>&1 &
BPID=$!
while dm_alive "$BPID"; do
	sample >>"$T/samples"
	sleep 1
done
wait "$BPID"
brc=$?
t1=$(date +%s)
sample >>"$T/samples"
dm_stop_pid "$PID"
cat "$T/bench.out"

# The warm-up ends when a fifth of the run's time has gone: the rate is
# steady, so that is about a fifth of the messages.
n=$(wc -l <"$T/samples")
warm=$(sed -n "$(( n / 5 > 0 ? n / 5 : 1 ))p" "$T/samples")
last=$(tail -n 1 "$T/samples")
set -- $warm; wrss=$2; wfds=$3
set -- $last; lrss=$2; lfds=$3
maxrss=$(awk '$2 > m { m = $2 } END { print m }' "$T/samples")
dropped=$(sed -n 's/^disposable_milter_records_dropped_total{reason="\(.*\)"} \(.*\)/\1=\2/p' "$T/metrics.prom" | tr '\n' ' ')
written=$(sed -n 's/^disposable_milter_records_written_total \(.*\)/\1/p' "$T/metrics.prom")
echo "soak: $N messages over $C connections in $((t1 - t0)) s under ASan/UBSan"
echo "soak: anonymous RSS $wrss KiB after warm-up, $lrss KiB at the end (peak $maxrss); descriptors $wfds then $lfds"
echo "soak: record events written ${written:-?}, dropped ${dropped:-?} (the metrics file written at the stop)"

fail=0
grep -q '^errors: 0$' "$T/bench.out" && [ "$brc" -eq 0 ] ||
    { echo "soak: FAIL: the client saw errors"; fail=1; }
if ls "$T"/asan.* "$T"/ubsan.* >/dev/null 2>&1; then
	echo "soak: FAIL: sanitizer reports:"
	cat "$T"/asan.* "$T"/ubsan.* 2>/dev/null | head -40
	fail=1
fi
[ "$DM_STATUS" -eq 0 ] || { echo "soak: FAIL: exit status $DM_STATUS"; fail=1; }
[ "$lrss" -le $((wrss + wrss / 10)) ] ||
    { echo "soak: FAIL: RSS grew after warm-up"; fail=1; }
[ "$lfds" -le $((wfds + 8)) ] ||
    { echo "soak: FAIL: descriptors grew after warm-up"; fail=1; }
[ $fail -eq 0 ] && echo "soak: ok"
exit $fail
