# shellcheck shell=sh
# miltertest.sh - the protocol tests' driver: one miltertest (Lua) script
# run against one daemon, its "ok"/"not ok" lines counted as the caller's.
#
# Sourced after common.sh (and after dm_init) by tests/protocol/run.sh and
# tests/protocol/dns.sh.  Plain POSIX sh (dash).  Reading the daemons'
# decision lines afterwards is common.sh's dm_has_decision.
#
#   dm_mt_require
#	Skip (77) unless miltertest is there; sets MILTERTEST.
#
#   dm_mt_run SCRIPT NAME [VAR=VALUE...]
#	Run $DM_MT_SCRIPTS/SCRIPT (default tests/protocol) against the
#	daemon listening on unix:$DM_MT_RUNDIR/NAME.sock, with the Lua
#	globals libdir (the scripts' folder, for lib.lua) and socket set,
#	and each VAR=VALUE as one more global (miltertest -D).  Its ok and
#	not ok lines are printed as "ok - SCRIPT: ..." and counted in
#	DM_PASS and DM_FAIL; a script that exits non-zero without a not
#	ok line counts as one failure, and then the tail of
#	$DM_MT_RUNDIR/NAME.log is shown.  Its stderr is shown as "#"
#	comments; stdout and stderr stay in $DM_TMP/SCRIPT.out and .err.
#	Sets DM_MT_MS to the run's wall time in milliseconds.

DM_MT_SCRIPTS=${DM_MT_SCRIPTS:-$DM_SRCDIR/tests/protocol}

dm_mt_require()
{
	MILTERTEST=${MILTERTEST:-$(command -v miltertest)}
	if [ -z "$MILTERTEST" ] || [ ! -x "$MILTERTEST" ]; then
		dm_skip "miltertest not installed (apt-get install miltertest)"
	fi
}

dm_mt_run()
{
	dm_mt__script=$1 dm_mt__name=$2
	shift 2
	# Each VAR=VALUE becomes "-D VAR=VALUE", in place.
	dm_mt__n=$#
	while [ "$dm_mt__n" -gt 0 ]; do
		set -- "$@" -D "$1"
		shift
		dm_mt__n=$((dm_mt__n - 1))
	done
	dm_mt__out=$DM_TMP/$dm_mt__script
	dm_mt__t0=$(date +%s%N)
	"$MILTERTEST" -s "$DM_MT_SCRIPTS/$dm_mt__script" \
	    -D libdir="$DM_MT_SCRIPTS" \
	    -D socket="unix:$DM_MT_RUNDIR/$dm_mt__name.sock" "$@" \
	    >"$dm_mt__out.out" 2>"$dm_mt__out.err"
	dm_mt__rc=$?
	# shellcheck disable=SC2034 # read by the caller
	DM_MT_MS=$(( ($(date +%s%N) - dm_mt__t0) / 1000000 ))
	dm_mt__p=$(grep -c '^ok - ' "$dm_mt__out.out")
	dm_mt__f=$(grep -c '^not ok - ' "$dm_mt__out.out")
	grep -E '^(not )?ok - ' "$dm_mt__out.out" |
	    sed "s/^\(\(not \)\{0,1\}ok - \)/\1$dm_mt__script: /"
	DM_PASS=$((DM_PASS + dm_mt__p))
	DM_FAIL=$((DM_FAIL + dm_mt__f))
	if [ "$dm_mt__rc" -ne 0 ] && [ "$dm_mt__f" -eq 0 ]; then
		dm_notok "$dm_mt__script: miltertest exited $dm_mt__rc"
	fi
	if [ -s "$dm_mt__out.err" ]; then
		sed 's/^/# stderr: /' "$dm_mt__out.err"
	fi
	if [ "$dm_mt__rc" -ne 0 ]; then
		dm_diag "$DM_MT_RUNDIR/$dm_mt__name.log" 10
	fi
}
