#!/bin/sh
# tests/records/kill9.sh - the records store survives kill -9: a writer
# (tests/records/rec_stress write) is killed mid-writing several times,
# once while another process reads the store and is killed too (leaving
# a stale reader slot); each restart must open the store and go on from
# the last round it committed.  Then rec_stress verify checks the records
# against their age index, that the last committed round is all there,
# purges and writes again.
. "$DM_SRCDIR/tests/support/common.sh"

dm_init records-kill9
STRESS=$DM_BUILDDIR/tests/records/rec_stress
[ -x "$STRESS" ] || dm_skip "$STRESS not built"

db=$DM_TMP/records.db
progress=$DM_TMP/progress

# wait_round N PID: true once the writer has committed round N; false if
# it died first or 30 s pass (a hung writer, not a slow one).
wait_round()
{
	wr_i=0
	while [ "$wr_i" -lt 600 ]; do
		wr_r=$(cat "$progress" 2>/dev/null || echo -1)
		[ "$wr_r" -ge "$1" ] && return 0
		kill -0 "$2" 2>/dev/null || return 1
		sleep 0.05
		wr_i=$((wr_i + 1))
	done
	return 1
}

last=-1
for run in 1 2 3 4; do
	"$STRESS" write "$db" "$progress" 2>"$DM_TMP/write$run.err" &
	pid=$!
	dm_atexit "kill -9 $pid 2>/dev/null"
	reader=
	if [ "$run" -eq 2 ]; then
		"$STRESS" read "$db" 2>"$DM_TMP/read.err" &
		reader=$!
		dm_atexit "kill -9 $reader 2>/dev/null"
	fi
	target=$((last + 40))
	if wait_round "$target" "$pid"; then
		dm_ok "run $run: the writer reached round $target"
	else
		dm_notok "run $run: the writer reached round $target"
		dm_diag "$DM_TMP/write$run.err"
	fi
	if [ -n "$reader" ]; then
		if kill -0 "$reader" 2>/dev/null; then
			dm_ok "a reader runs beside the writer"
		else
			dm_notok "a reader runs beside the writer"
			dm_diag "$DM_TMP/read.err"
		fi
		kill -9 "$reader" 2>/dev/null
		wait "$reader" 2>/dev/null
	fi
	kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	rc=$?
	dm_check "run $run: killed with -9 while writing (status $rc)" \
	    [ "$rc" -eq 137 ]
	last=$(cat "$progress" 2>/dev/null || echo -1)
	dm_check "run $run: rounds went on from the last commit ($last)" \
	    [ "$last" -ge "$target" ]
done

if "$STRESS" verify "$db" "$progress" >"$DM_TMP/verify.out" 2>&1; then
	dm_ok "store consistent after kill -9, purge and write work"
	grep '^#' "$DM_TMP/verify.out"
else
	dm_notok "store consistent after kill -9, purge and write work"
	dm_diag "$DM_TMP/verify.out" 40
fi
dm_finish
