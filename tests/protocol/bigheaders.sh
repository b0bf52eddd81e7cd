#!/bin/sh
# bigheaders.sh - header fields over libmilter's default 64 KiB packet
# limit, and fields of thousands of addresses, through the milter
# protocol.  miltertest cannot send a header value over about 1 KB (it
# copies it into a 1024-byte buffer on its stack), so the MTA here is
# tests/bench/milter_bench with -H; every sender it makes up is clean
# (example.org), so each message's fate is its big field's.
#
#   enf   default policy, unix socket
#
# A field up to Postfix's header_size_limit (102,400 bytes by default)
# must get its proper answer, not a dropped connection (which the MTA
# answers with its milter failure action).  Postfix itself cuts fields
# to 60,000 bytes when milters are configured (tests/e2e/scenarios);
# other MTAs and milter proxies need not.
. "${DM_SRCDIR:-$(dirname "$0")/../..}/tests/support/common.sh"
dm_require_built
BENCH=$DM_BUILDDIR/tests/bench/milter_bench
[ -x "$BENCH" ] || dm_skip "$BENCH not built"
dm_init bigheaders
T=$DM_TMP

dm_write_lists "$T/lists"
"$DM_CTL" genkey "$T/hash.key" >/dev/null || exit 1
dm_write_conf "$T/enf.conf" "$T/lists" "$T/test.db" "$T/hash.key" \
    "RejectReply 550 5.7.1 Disposable sender address refused"
"$DM_CTL" -c "$T/enf.conf" build >"$T/ctl.log" 2>&1 || {
	dm_notok "disposable-ctl build"
	dm_diag "$T/ctl.log"
	dm_finish
}
echo "clean example.org" >"$T/senders"
dm_milter_start "$T/enf.conf" "$T/enf.log" "unix:$T/enf.sock" ||
    { dm_notok "daemon starts"; dm_finish; }

# field NAME LINE: the -H file NAME holds LINE (printed by awk).
field()
{
	awk "BEGIN { $2 }" >"$T/$1.h"
	echo "# $1: a $(wc -c <"$T/$1.h")-byte field"
}

# run NAME: 4 messages with the field, on 2 connections; the output's
# lines then in $T/NAME.out.
run()
{
	if "$BENCH" -s "unix:$T/enf.sock" -c 2 -n 4 -m 2 -f "$T/senders" \
	    -H "$T/$1.h" >"$T/$1.out" 2>&1; then
		dm_ok "$1: client exits 0, no dropped connection"
	else
		dm_notok "$1: client exits 0, no dropped connection"
		sed 's/^/#   /' "$T/$1.out"
		dm_diag "$T/enf.log" 5
	fi
}

# expect NAME LINE: NAME's output has exactly LINE.
expect()
{
	if grep -qxF "$2" "$T/$1.out"; then
		dm_ok "$1: $2"
	else
		dm_notok "$1: $2"
		sed 's/^/#   /' "$T/$1.out"
	fi
}

# lines ERE: the number of decision lines in the log matching ERE.
lines()
{
	grep -c -E "qid=B[0-9A-F]+ $1" "$T/enf.log"
}

# A Subject of 70 KB and one of 100 KB: clean, passed, nothing added.
field subject70 'printf "Subject: "; for (i = 0; i < 72000; i++) printf "x"; print ""'
run subject70
expect subject70 "final: accepted=4 rejected=0 tempfailed=0 discarded=0 early=0"
expect subject70 "mods: addheader=0 insheader=0 chgheader=0 other=0"
expect subject70 "errors: 0"
field subject100 'printf "Subject: "; for (i = 0; i < 102000; i++) printf "y"; print ""'
run subject100
expect subject100 "final: accepted=4 rejected=0 tempfailed=0 discarded=0 early=0"
expect subject100 "errors: 0"
n=$(lines 'action=accept category=clean')
dm_check "log: 8 clean messages accepted (got $n)" [ "$n" -eq 8 ]

# A From of 96 KB, 4,000 clean addresses, the disposable one last (past
# the first 64 KiB): found, refused at end of headers.
field from100 'printf "From: "; for (i = 0; i < 4000; i++) printf "xqzpad%d@example.net, ", i; print "xqzlate@tempmail.test"'
run from100
expect from100 "final: accepted=0 rejected=4 tempfailed=0 discarded=0 early=4"
expect from100 "errors: 0"
n=$(lines 'action=reject category=disposable role=from .*match=tempmail\.test')
dm_check "log: the last address of a 96 KB From decides, 4 times (got $n)" \
    [ "$n" -eq 4 ]

# 300 clean addresses at one domain in one From, then a disposable one:
# more than the 100 an address list keeps, but two domains.
field from300 'printf "From: "; for (i = 0; i < 300; i++) printf "xqzpad%d@example.net, ", i; print "xqzw@mailinator.com"'
run from300
expect from300 "final: accepted=0 rejected=4 tempfailed=0 discarded=0 early=4"
n=$(lines 'action=reject category=disposable role=from .*match=mailinator\.com')
dm_check "log: the 301st From address decides, 4 times (got $n)" \
    [ "$n" -eq 4 ]

# One Reply-To of 100 clean addresses at 100 domains, then a disposable
# one: past the bound of 64 domains, so the message is truncated: tagged
# (ActionTruncated), logged truncated=1, not refused.
field wide 'printf "Reply-To: "; for (i = 0; i < 100; i++) printf "xqzpad@d%d.example.net, ", i; print "xqzv@mailinator.com"'
run wide
expect wide "final: accepted=4 rejected=0 tempfailed=0 discarded=0 early=0"
expect wide "mods: addheader=0 insheader=4 chgheader=0 other=0"
n=$(lines 'action=tag category=clean .*truncated=1')
dm_check "log: 4 truncated messages tagged (got $n)" [ "$n" -eq 4 ]
n=$(grep -c 'truncated=1' "$T/enf.log")
dm_check "log: only those 4 are truncated (got $n)" [ "$n" -eq 4 ]

dm_check "the daemon is still running" dm_alive "$DM_PID"
dm_check "no raw address in the log" \
    dm_no_raw_in "$T/enf.log" -- xqzpad xqzlate xqzw xqzv
dm_finish
