#!/bin/sh
# run.sh - protocol tests: the daemon driven by miltertest over unix
# sockets, one daemon per configuration:
#
#   enf      default policy (disposable reject, relay tag)
#            envelope.lua headers.lua caps.lua
#   tag      ActionDisposable tag                      tag.lua
#   observe  Mode observe                              observe.lua
#   reload   own lists, changed while running          reload.lua
#
# Then what the daemons logged: a decision line with a hash for every
# message, and no raw address or local part anywhere in what they wrote.

# Functions called through dm_check look unreachable to shellcheck;
# PID_<config> are set through eval.
# shellcheck disable=SC2317,SC2154
. "${DM_SRCDIR:-$(dirname "$0")/../..}/tests/support/common.sh"
. "$DM_SRCDIR/tests/support/miltertest.sh"

dm_mt_require
dm_require_built
HERE=$DM_SRCDIR/tests/protocol

dm_init protocol
T=$DM_TMP
M=$T/milter		# everything the daemons write, and only that
mkdir -p "$M"
DM_MT_RUNDIR=$M

dm_write_lists "$T/lists"
dm_write_lists "$T/lists-reload"
if "$DM_CTL" genkey "$M/hash.key" >"$T/ctl.log" 2>&1 &&
    [ "$(stat -c %a "$M/hash.key")" = 600 ]; then
	dm_ok "disposable-ctl genkey writes a 0600 key"
else
	dm_notok "disposable-ctl genkey writes a 0600 key"
	dm_diag "$T/ctl.log"
fi

REJECT="550 5.7.1 Disposable sender address refused"
conf()
{
	dm_write_conf "$T/$1.conf" "$2" "$M/$1.db" "$M/hash.key" \
	    "RejectReply $REJECT" "TempfailReply 451 4.7.1 Try again later" \
	    "$3"
}
conf enf "$T/lists" ""
conf tag "$T/lists" "ActionDisposable tag"
conf observe "$T/lists" "Mode observe"
conf reload "$T/lists-reload" ""

for c in enf tag observe reload; do
	if "$DM_CTL" -c "$T/$c.conf" build >>"$T/ctl.log" 2>&1; then
		dm_ok "disposable-ctl build ($c)"
	else
		dm_notok "disposable-ctl build ($c)"
		dm_diag "$T/ctl.log"
	fi
done
if "$DM_MILTER" -n -c "$T/enf.conf" -p "unix:$M/check.sock" \
    >"$T/check.log" 2>&1; then
	dm_ok "disposable-milter -n accepts the test configuration"
else
	dm_notok "disposable-milter -n accepts the test configuration"
	dm_diag "$T/check.log"
fi

started=0
for c in enf tag observe reload; do
	set --
	[ $c = reload ] && set -- -P "$M/reload.pid"
	if dm_milter_start "$T/$c.conf" "$M/$c.log" "unix:$M/$c.sock" "$@"; then
		eval "PID_$c=\$DM_PID"
		started=$((started + 1))
	else
		dm_notok "daemon ($c) starts"
	fi
done
[ $started -eq 4 ] || dm_finish
dm_ok "4 daemons listening"

# The reload step, run from inside reload.lua between two messages.
cat >"$T/reload.sh" <<EOF
#!/bin/sh
echo latecomer.test >>"$T/lists-reload/disposable.txt"
"$DM_CTL" -c "$T/reload.conf" build >>"$T/ctl.log" 2>&1 || exit 1
n=\$(grep -c reloaded "$M/reload.log")
kill -USR1 $PID_reload || exit 1
i=0
while [ \$i -lt 100 ]; do
	[ "\$(grep -c reloaded "$M/reload.log")" -gt "\$n" ] && exit 0
	sleep 0.1
	i=\$((i + 1))
done
echo "no reload logged" >&2
exit 1
EOF

dm_mt_run envelope.lua enf
dm_mt_run headers.lua enf
dm_mt_run caps.lua enf
dm_mt_run tag.lua tag
dm_mt_run observe.lua observe
dm_mt_run reload.lua reload reload_cmd="sh $T/reload.sh"

# The daemons survived everything, the reloaded one with the same pid.
for c in enf tag observe reload; do
	eval "pid=\$PID_$c"
	dm_check "daemon ($c) still running after its tests" dm_alive "$pid"
done
dm_check "reload: logged once, as 'reloaded'" \
    test "$(grep -c reloaded "$M/reload.log")" -eq 1
dm_check "-P: pid file names the running daemon" \
    test "$(cat "$M/reload.pid" 2>/dev/null)" = "$PID_reload"

# SIGTERM is a graceful stop (libmilter's signal thread), not death by
# signal: exit status 0, "stopping" logged, pid file removed.
dm_stop_pid "$PID_reload"
dm_check "SIGTERM: daemon exits with status 0 (got $DM_STATUS)" \
    test "$DM_STATUS" -eq 0
dm_check "SIGTERM: 'stopping' logged" grep -q 'stopping' "$M/reload.log"
dm_check "SIGTERM: pid file removed" test ! -e "$M/reload.pid"
dm_stop_milters

# --- the logs ---------------------------------------------------------
H='hash=[0-9a-f]{64}( |$)'
for q in PE01 PE02 PE03 PE04 PE05 PE06 PE07 PE08 PE09 PE11 PE12 \
    PH01 PH02 PH03 PH04 PH05 PH06 PH07 PH08 PH09 PH10 PH11 \
    PC01 PC02 PC03 PC04 PC05; do
	dm_check "log: $q decision line with hash" \
	    dm_has_decision "$M/enf.log" "$q" "$H"
done
for q in PT01 PT02 PT03 PT04 PT05; do
	dm_check "log: $q decision line with hash" \
	    dm_has_decision "$M/tag.log" "$q" "$H"
done
for q in PO01 PO02 PO03; do
	dm_check "log: $q decision line with hash" \
	    dm_has_decision "$M/observe.log" "$q" "$H"
done
for q in PR01 PR02 PR03 PR04 PR05; do
	dm_check "log: $q decision line with hash" \
	    dm_has_decision "$M/reload.log" "$q" "$H"
done

dm_check "log: PE01 rejected as disposable envelope, domain and match" \
    dm_has_decision "$M/enf.log" PE01 'action=reject' \
    'category=disposable' 'role=envelope' 'domain=mailinator\.com' \
    'match=mailinator\.com'
dm_check "log: PE02 subdomain normalised, matched on its parent" \
    dm_has_decision "$M/enf.log" PE02 'action=reject' \
    'domain=mx\.mailinator\.com' 'match=mailinator\.com'
dm_check "log: PE08 allowlisted" \
    dm_has_decision "$M/enf.log" PE08 'action=accept' 'category=allowed'
dm_check "log: PE10 authenticated sender skipped" \
    dm_has_decision "$M/enf.log" PE10 'action=accept' 'skip=authenticated'
if dm_decision_line "$M/enf.log" PE10 | grep -q -E 'hash=|category='; then
	dm_notok "log: PE10 authenticated sender not classified"
else
	dm_ok "log: PE10 authenticated sender not classified"
fi
dm_check "log: PE11 relay envelope tagged" \
    dm_has_decision "$M/enf.log" PE11 'action=tag' 'category=relay' \
    'role=envelope'
dm_check "log: PE12 malformed envelope flagged" \
    dm_has_decision "$M/enf.log" PE12 'action=accept' \
    'malformed=[a-z,-]*envelope'
dm_check "log: PH01 rejected on Reply-To" \
    dm_has_decision "$M/enf.log" PH01 'action=reject' \
    'category=disposable' 'role=reply-to' 'match=mailinator\.com'
dm_check "log: PH03 rejected on Sender" \
    dm_has_decision "$M/enf.log" PH03 'action=reject' 'role=sender' \
    'match=tempmail\.test'
dm_check "log: PH07 forged tags counted as stripped" \
    dm_has_decision "$M/enf.log" PH07 'action=accept' 'stripped=2'
dm_check "log: PH08 malformed From flagged" \
    dm_has_decision "$M/enf.log" PH08 'malformed=[a-z,-]*from'
dm_check "log: PH11 bounce classified on From, capped at tag" \
    dm_has_decision "$M/enf.log" PH11 'action=tag' 'category=disposable' \
    'role=from' 'null_sender=1'
dm_check "log: PC01 disposable after 320 From addresses at one domain, not truncated" \
    dm_has_decision "$M/enf.log" PC01 'action=reject' \
    'category=disposable' 'role=from' 'match=mailinator\.com' \
    '!truncated'
dm_check "log: PC02 the domain bound was reached: tag, truncated=1" \
    dm_has_decision "$M/enf.log" PC02 'action=tag' 'category=clean' \
    'role=envelope' 'truncated=1'
dm_check "log: PC03 the next message is not truncated" \
    dm_has_decision "$M/enf.log" PC03 'action=accept' '!truncated'
dm_check "log: PC04 disposable among 41 domains, not truncated" \
    dm_has_decision "$M/enf.log" PC04 'action=reject' \
    'role=reply-to' '!truncated'
dm_check "log: PC05 relay From, truncated" \
    dm_has_decision "$M/enf.log" PC05 'action=tag' 'category=relay' \
    'role=from' 'truncated=1'
dm_check "log: PO01 observe says what would have happened" \
    dm_has_decision "$M/observe.log" PO01 'action=accept' \
    'observe=reject' 'category=disposable'
dm_check "log: PO03 observe relay" \
    dm_has_decision "$M/observe.log" PO03 'action=accept' 'observe=tag'
dm_check "log: PR01 clean before the reload" \
    dm_has_decision "$M/reload.log" PR01 'action=accept' \
    'category=clean'
dm_check "log: PR02 disposable after the reload" \
    dm_has_decision "$M/reload.log" PR02 'action=reject' \
    'match=latecomer\.test'

# Every address and local part the scripts used, and the login name.
WORDS=$(cat "$HERE"/*.lua | grep -o -E 'xqz[a-z0-9]+(@[A-Za-z0-9.-]+)?' |
    sort -u)
# shellcheck disable=SC2086 # one word a line
WORDS="$WORDS $(printf '%s\n' $WORDS | sed 's/@.*//' | sort -u)"
# shellcheck disable=SC2086
n=$(printf '%s\n' $WORDS | sort -u | wc -l)
# shellcheck disable=SC2086
dm_check "no raw address or local part ($n strings) in anything the daemons wrote" \
    dm_no_raw_in "$M" -- $WORDS

dm_finish
