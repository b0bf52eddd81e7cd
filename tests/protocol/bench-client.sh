#!/bin/sh
# bench-client.sh - the benchmark client tests/bench/milter_bench tested
# against the daemon: for a known mix of sender domains, the replies it
# counts must be exactly what the policy gives, and exactly what the
# daemon logged.  If the client miscounted, mis-framed a packet or waited
# for a reply the milter negotiated away, the bench figures would be
# worthless; this is what shows they are not.
#
#   enf   default policy, unix socket: disposable -> 550 at MAIL,
#         relay -> tag header inserted at end of message
#   tmp   ActionDisposable tempfail, inet socket: disposable -> 451
. "${DM_SRCDIR:-$(dirname "$0")/../..}/tests/support/common.sh"
dm_require_built
BENCH=$DM_BUILDDIR/tests/bench/milter_bench
[ -x "$BENCH" ] || dm_skip "$BENCH not built"
dm_init bench-client
T=$DM_TMP

dm_write_lists "$T/lists"
"$DM_CTL" genkey "$T/hash.key" >/dev/null || exit 1
dm_write_conf "$T/enf.conf" "$T/lists" "$T/test.db" "$T/hash.key" \
    "RejectReply 550 5.7.1 Disposable sender address refused"
dm_write_conf "$T/tmp.conf" "$T/lists" "$T/test.db" "$T/hash.key" \
    "ActionDisposable tempfail" "TempfailReply 451 4.7.1 Try again later"
"$DM_CTL" -c "$T/enf.conf" build >"$T/ctl.log" 2>&1 || {
	dm_notok "disposable-ctl build"
	dm_diag "$T/ctl.log"
	dm_finish
}

# Six domains, so 300 messages are 50 each: clean 100, disposable 100
# (one matched through its parent), relay 50, allowed 50 (below a listed
# disposable domain).
cat >"$T/senders" <<'EOF2'
# category domain
clean example.org
disposable mailinator.com
relay relay.test
disposable x.tempmail.test
allowed good.mailinator.com
clean sub.example.com
EOF2

dm_pick_port
started=0
dm_milter_start "$T/enf.conf" "$T/enf.log" "unix:$T/enf.sock" &&
    started=$((started + 1))
dm_milter_start "$T/tmp.conf" "$T/tmp.log" "inet:$DM_PORT@127.0.0.1" &&
    started=$((started + 1))
[ $started -eq 2 ] || { dm_notok "daemons start"; dm_finish; }

# expect FILE LINE: FILE holds exactly LINE.
expect()
{
	if grep -qxF "$2" "$1"; then
		dm_ok "$3: $2"
	else
		dm_notok "$3: $2"
		sed 's/^/#   /' "$1"
	fi
}

# 300 messages on 4 connections of at most 7 messages: reconnections, and
# a last connection that runs short.
if "$BENCH" -s "unix:$T/enf.sock" -c 4 -n 300 -m 7 -f "$T/senders" \
    >"$T/enf.out" 2>&1; then
	dm_ok "client exits 0 (unix)"
else
	dm_notok "client exits 0 (unix)"
fi
expect "$T/enf.out" "sent: clean=100 disposable=100 relay=50 allowed=50" enf
expect "$T/enf.out" "final: accepted=200 rejected=100 tempfailed=0 discarded=0 early=100" enf
expect "$T/enf.out" "mods: addheader=0 insheader=50 chgheader=0 other=0" enf
expect "$T/enf.out" "errors: 0" enf
# RejectReply set: each reject is a reply code, never a bare 'r'; one
# option negotiation per connection: 300 / 7 -> 43 full ones, and up to 3
# more cut short when the messages ran out under the other connections.
# shellcheck disable=SC2016 # awk's own $i
dm_check "enf: 100 reply codes, no bare reject, 43 to 46 negotiations" \
    awk '/^replies:/ { for (i = 2; i <= NF; i++) { split($i, kv, "=");
	n[kv[1]] = kv[2] } }
	END { exit !(n["y"] == 100 && n["r"] == "" &&
	n["O"] >= 43 && n["O"] <= 46) }' \
    "$T/enf.out"

if "$BENCH" -s "inet:$DM_PORT@127.0.0.1" -c 3 -n 300 -m 50 \
    -f "$T/senders" >"$T/tmp.out" 2>&1; then
	dm_ok "client exits 0 (inet)"
else
	dm_notok "client exits 0 (inet)"
fi
expect "$T/tmp.out" "final: accepted=200 rejected=0 tempfailed=100 discarded=0 early=100" tmp
expect "$T/tmp.out" "mods: addheader=0 insheader=50 chgheader=0 other=0" tmp
expect "$T/tmp.out" "errors: 0" tmp

# The built-in mix (no -f): 6 domains again, 2 of them disposable.
"$BENCH" -s "unix:$T/enf.sock" -c 2 -n 60 >"$T/builtin.out" 2>&1
expect "$T/builtin.out" "final: accepted=40 rejected=20 tempfailed=0 discarded=0 early=20" builtin

# The daemon saw the same: one decision line per message.
n=$(grep -c ' action=reject ' "$T/enf.log")
dm_check "enf log: 120 rejects (got $n)" [ "$n" -eq 120 ]
n=$(grep -c ' action=tag ' "$T/enf.log")
dm_check "enf log: 60 tags (got $n)" [ "$n" -eq 60 ]
n=$(grep -c ' action=tempfail ' "$T/tmp.log")
dm_check "tmp log: 100 tempfails (got $n)" [ "$n" -eq 100 ]

# A client that cannot connect says so and fails.
if "$BENCH" -s "unix:$T/nothing.sock" -c 1 -n 5 >"$T/fail.out" 2>&1; then
	dm_notok "client fails without a milter"
else
	expect "$T/fail.out" "errors: 1" nothing
fi
dm_finish
