#!/bin/sh
# listdb-inplace.sh - the list database written over in place under the
# running daemon, as admins do (cp over it, truncate, dd, a copy that
# stopped half-way), while tests/bench/milter_bench keeps mail flowing:
#   - the daemon survives every change (same pid), and every message of
#     the load gets its answer (milter_bench: errors 0, all finals);
#   - a good file written in place is picked up on its own, no SIGUSR1;
#   - while the file is empty, truncated or garbage the verdicts stay
#     those of the last good lists, and the log warns once per change;
#   - the new lists apply as soon as a good file lands;
#   - no raw address in anything the daemon wrote.
#
# Three list sets: A (the daemon starts on it), B (other.db: otherlist.test
# disposable, mailinator.com not listed) and C (new.db: A plus
# newburner.test).  A verdict check sends a few messages from each of
# mailinator.com, otherlist.test and newburner.test and counts rejects.

# Functions called through dm_check look unreachable to shellcheck:
# shellcheck disable=SC2317
. "${DM_SRCDIR:-$(dirname "$0")/../..}/tests/support/common.sh"
dm_require_built
BENCH=$DM_BUILDDIR/tests/bench/milter_bench
[ -x "$BENCH" ] || dm_skip "$BENCH not built"
dm_init listdb-inplace
T=$DM_TMP
M=$T/milter		# everything the daemon writes, and only that
D=$T/db			# the admin's database, written over below
mkdir -p "$M" "$D"
DB=$D/lists.db

dm_write_lists "$T/a"
mkdir -p "$T/b" "$T/c"
{
	echo otherlist.test
	i=0
	while [ $i -lt 2000 ]; do echo "filler$i.test"; i=$((i + 1)); done
} >"$T/b/disposable.txt"
echo relay.test >"$T/b/relay.txt"
echo '# none' >"$T/b/allow.txt"
cp "$T/a/relay.txt" "$T/a/allow.txt" "$T/c/"
printf 'mailinator.com\ntempmail.test\nnewburner.test\n' >"$T/c/disposable.txt"

"$DM_CTL" genkey "$M/hash.key" >/dev/null || exit 1
dm_write_conf "$T/a.conf" "$T/a" "$DB" "$M/hash.key"
dm_write_conf "$T/b.conf" "$T/b" "$D/other.db" "$M/hash.key"
dm_write_conf "$T/c.conf" "$T/c" "$D/new.db" "$M/hash.key"
for c in a b c; do
	"$DM_CTL" -c "$T/$c.conf" build >>"$T/ctl.log" 2>&1 ||
	    { dm_notok "disposable-ctl build ($c)"; dm_diag "$T/ctl.log"; dm_finish; }
done
SIZE=$(stat -c %s "$D/other.db")
PAGES=$((SIZE / 4096))

printf 'disposable mailinator.com\n' >"$T/s-mailinator"
printf 'disposable otherlist.test\n' >"$T/s-otherlist"
printf 'disposable newburner.test\n' >"$T/s-newburner"
cat >"$T/s-mix" <<'EOF2'
clean example.org
disposable mailinator.com
disposable otherlist.test
disposable newburner.test
relay relay.test
EOF2

# verdicts: "mailinator=R otherlist=R newburner=R", R the rejects of 8
# messages from that domain (8 when the lists in use list it, else 0).
verdicts()
{
	for d in mailinator otherlist newburner; do
		"$BENCH" -s "unix:$M/d.sock" -c 2 -n 8 -m 4 -f "$T/s-$d" \
		    >"$T/v.out" 2>&1
		grep -q '^errors: 0$' "$T/v.out" || { printf '%s=error ' $d; continue; }
		printf '%s=%s ' $d "$(sed -n 's/^final:.* rejected=\([0-9]*\) .*/\1/p' "$T/v.out")"
	done
	echo
}
LISTS_A="mailinator=8 otherlist=0 newburner=0 "
LISTS_B="mailinator=0 otherlist=8 newburner=0 "
LISTS_C="mailinator=8 otherlist=0 newburner=8 "
expect_lists()
{
	v=$(verdicts)
	if [ "$v" = "$2" ]; then
		dm_ok "$1: $v"
	else
		dm_notok "$1: $v (expected $2)"
	fi
}

WARNING='failed, keeping the lists in use'
count() { grep -c "$1" "$M/d.log"; }
# wait_more PATTERN N: until the log has more than N lines matching.
wait_more() { dm_wait_for 100 sh -c "test \$(grep -c '$1' '$M/d.log') -gt $2"; }

dm_milter_start "$T/a.conf" "$M/d.log" "unix:$M/d.sock" ||
    { dm_notok "daemon starts"; dm_finish; }
PID=$DM_PID
expect_lists "at start, lists A" "$LISTS_A"

# The load: milter_bench in a loop until told to stop, 2000 messages a
# run over 4 connections of at most 100 messages each.
(
	while [ ! -e "$T/stop" ]; do
		"$BENCH" -s "unix:$M/d.sock" -c 4 -n 2000 -m 100 \
		    -f "$T/s-mix" >>"$T/load.out" 2>&1
		echo "exit: $?" >>"$T/load.out"
		sleep 0.2
	done
) &
LOAD=$!
dm_atexit "touch '$T/stop'; wait $LOAD"
dm_wait_for 100 grep -q '^exit: ' "$T/load.out"

# 1. cp of another good database over the file: picked up on its own.
n=$(count 'reloaded: ')
cp "$D/other.db" "$DB"
wait_more 'reloaded: ' "$n"
dm_check "cp other.db over it: reloaded without a signal" \
    test "$(count 'reloaded: ')" -gt "$n"
dm_check "the reload says the database changed" grep -q "$DB changed" "$M/d.log"
expect_lists "after cp other.db, lists B" "$LISTS_B"

# 2-5. Files that are no database: each tried once, refused, warned
# about once; the lists in use stay B.
step()
{
	w=$(count "$WARNING")
	eval "$2"
	if wait_more "$WARNING" "$w"; then
		dm_ok "$1: a warning"
	else
		dm_notok "$1: a warning"
		dm_diag "$M/d.log" 5
	fi
	dm_check "$1: daemon alive, same pid" dm_alive "$PID"
	expect_lists "$1: still lists B" "$LISTS_B"
}
step "truncate -s 0" "truncate -s 0 '$DB'"
step "truncate to half" "cp '$D/other.db' '$DB' && truncate -s $((SIZE / 2)) '$DB'"
step "dd garbage over the pages, meta pages intact" \
    "cp '$D/other.db' '$DB' && dd if=/dev/urandom of='$DB' bs=4096 seek=2 count=$((PAGES - 3)) conv=notrunc 2>/dev/null"
step "dd garbage over the whole file" \
    "dd if=/dev/urandom of='$DB' bs=4096 count=$PAGES 2>/dev/null"
w=$(count "$WARNING")
sleep 3
dm_check "a file left bad is not tried again: no new warning in 3 s" \
    test "$(count "$WARNING")" -eq "$w"
dm_check "4 bad files, 4 warnings" test "$w" -eq 4

# 6. A good new database lands: its lists apply, again without a signal.
n=$(count 'reloaded: ')
cp "$D/new.db" "$DB"
wait_more 'reloaded: ' "$n"
expect_lists "after cp new.db, lists C (newburner.test is only there)" "$LISTS_C"

touch "$T/stop"
wait "$LOAD"
runs=$(grep -c '^exit: ' "$T/load.out")
dm_check "the load ran throughout ($runs runs of 2000 messages)" test "$runs" -ge 3
dm_check "every run: exit 0, errors 0" sh -c "
    ! grep '^exit: ' '$T/load.out' | grep -qv '^exit: 0$' &&
    test \$(grep -c '^errors: 0$' '$T/load.out') -eq $runs"
# shellcheck disable=SC2016 # awk's own $i
dm_check "every message of every run got its final answer" awk '
    /^milter_bench: / { runs++; if ($2 != 2000) bad++ }
    /^final: / { s = 0; for (i = 2; i < NF; i++) { split($i, kv, "=");
	s += kv[2] } if (s != 2000) bad++ }
    END { exit !(runs > 0 && bad == 0) }' "$T/load.out"
dm_check "daemon alive at the end, same pid" dm_alive "$PID"
dm_check "started once: no restart" test "$(count 'starting ')" -eq 1

dm_stop_milters
dm_check "no raw address in anything the daemon wrote" dm_no_raw_in "$M" -- \
    @example.org @mailinator.com @otherlist.test @newburner.test @relay.test \
    user1@ user42@
dm_finish
