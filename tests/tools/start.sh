#!/bin/sh
# start.sh - a start that cannot succeed says why and exits non-zero, in
# daemon mode (without -f), leaving no process behind (issue 10):
#   - the key unreadable by the UserID user, an unknown UserID, a missing
#     socket or pid file directory, a busy TCP port, a live unix socket
#     of another instance (which keeps serving), a missing database, a
#     records directory the user may not write, a locked pid file;
#   - -n run as root catches what only the user cannot read;
#   - a good start exits 0 once the daemon serves, and a stale socket in
#     its way is removed.
# Needs root: the daemon runs as a dedicated system user, created here
# when missing (and removed at exit only then).

# Functions called through dm_check look unreachable to shellcheck:
# shellcheck disable=SC2317
. "${DM_SRCDIR:-$(dirname "$0")/../..}/tests/support/common.sh"
. "${DM_SRCDIR:-$(dirname "$0")/../..}/tests/support/dns.sh"

[ "$(id -u)" -eq 0 ] || dm_skip "needs root (the daemon runs as another user)"
command -v useradd >/dev/null 2>&1 || dm_skip "no useradd"
dm_require_built
BENCH=$DM_BUILDDIR/tests/bench/milter_bench
[ -x "$BENCH" ] || dm_skip "$BENCH not built"
PY=/usr/bin/python3
$PY -c 'import prometheus_client.parser' 2>/dev/null ||
    dm_skip "python3-prometheus-client missing (apt-get install python3-prometheus-client)"
dm_init start
T=$DM_TMP
M=$T/milter
U=dm-start-test
if ! id "$U" >/dev/null 2>&1; then
	useradd --system --no-create-home --home-dir /nonexistent \
	    --shell /usr/sbin/nologin "$U" || dm_skip "cannot create user $U"
	dm_atexit "userdel '$U'"
fi
mkdir -p "$M"
chown "$U" "$M"

dm_write_lists "$T/lists"
"$DM_CTL" genkey "$M/hash.key" >/dev/null || exit 1
chown "$U" "$M/hash.key"
dm_write_conf "$T/s.conf" "$T/lists" "$M/lists.db" "$M/hash.key" \
    "UserID $U"
"$DM_CTL" -c "$T/s.conf" build >"$T/ctl.log" 2>&1 ||
    { dm_notok "disposable-ctl build"; dm_diag "$T/ctl.log"; dm_finish; }

# procs_with PATH: the pids of processes whose command line holds PATH,
# a path below this test's own temporary directory (so only processes
# this test started can match).  PATH goes through the environment, so
# that the awk looking for it does not hold it in its own arguments.
procs_with()
{
	case $1 in
	"$T"/*) ;;
	*) echo "Bail out! procs_with: '$1' is not below $T"; exit 99 ;;
	esac
	ps -eo pid=,args= | DM_LOOK=$1 awk '
	    ENVIRON["DM_LOOK"] != "" && index($0, ENVIRON["DM_LOOK"]) {
		print $1 }'
}

# fails NAME PATTERN ARG...: the daemon started with ARG... (in daemon
# mode) exits non-zero, says PATTERN (an extended regular expression) on
# stderr and leaves no process behind.  ARG... must hold "$M/NAME." (a
# socket or pid file path): that is how a process left behind is found.
fails()
{
	f_name=$1 f_pat=$2
	shift 2
	"$DM_MILTER" "$@" >"$T/$f_name.out" 2>"$T/$f_name.err"
	f_rc=$?
	f_left=$(procs_with "$M/$f_name.")
	if [ "$f_rc" -ne 0 ] && grep -Eq -e "$f_pat" "$T/$f_name.err" &&
	    [ -z "$f_left" ]; then
		dm_ok "$f_name: exit $f_rc, says why, no process left"
	else
		dm_notok "$f_name: exit $f_rc, /$f_pat/ on stderr, processes left: ${f_left:-none}"
		dm_diag "$T/$f_name.err"
		for f_p in $f_left; do
			stop_ours "$f_p"
		done
	fi
}

# answers SPEC: one message through the daemon at SPEC, no error.
answers()
{
	"$BENCH" -s "$1" -c 1 -n 1 >"$T/bench.out" 2>&1 &&
	    grep -q '^errors: 0$' "$T/bench.out"
}

# starts NAME [CONF]: the daemon started in daemon mode (with CONF,
# s.conf by default) on unix:$M/NAME.sock with pid file $M/NAME.pid
# (stderr in $T/NAME.err); sets RC and PID (empty when no pid file was
# written), stopped at exit.
starts()
{
	"$DM_MILTER" -c "${2:-$T/s.conf}" -p "unix:$M/$1.sock" \
	    -P "$M/$1.pid" 2>"$T/$1.err"
	RC=$?
	PID=$(cat "$M/$1.pid" 2>/dev/null)
	[ -n "$PID" ] && dm_atexit "stop_ours $PID"
}

# stop_ours PID: dm_stop_pid, if PID is still a daemon of this test (a
# detached daemon is not our child: once gone, its pid may be another's).
stop_ours()
{
	is_ours "$1" && dm_stop_pid "$1"
	return 0
}

is_ours()
{
	procs_with "$T/" | grep -qx "$1"
}

# --- a good start, in daemon mode --------------------------------------
starts good
GOOD=$PID
dm_check "good start: exit 0 ($RC), the pid file written" \
    sh -c "test $RC -eq 0 && test -n '$GOOD' && kill -0 '$GOOD'"
dm_check "good start: the socket answers at once" answers "unix:$M/good.sock"
dm_check "good start: runs as $U" \
    test "$(stat -c %U "/proc/$GOOD" 2>/dev/null)" = "$U"

# --- what a start cannot get past --------------------------------------
# A second instance on the live socket: refused, the first keeps it.
fails second-socket "good.sock: another process .*listening there" \
    -c "$T/s.conf" -p "unix:$M/good.sock" -P "$M/second-socket.pid"
dm_check "second instance: the first still answers on its socket" \
    answers "unix:$M/good.sock"
# The same pid file, another socket: the lock refuses it, untouched.
fails second-pid "good.pid is locked by a running instance \(pid $GOOD\)" \
    -c "$T/s.conf" -p "unix:$M/second-pid.sock" -P "$M/good.pid"
dm_check "second instance: the first's pid file is kept" \
    test "$(cat "$M/good.pid" 2>/dev/null)" = "$GOOD"

fails unknown-user "UserID no-such-user-dm: no such user" \
    -c "$T/s.conf" -p "unix:$M/unknown-user.sock" -u no-such-user-dm
fails socket-dir "cannot listen on unix:$M/none/socket-dir.sock: directory $M/none: No such file or directory" \
    -c "$T/s.conf" -p "unix:$M/none/socket-dir.sock" -P "$M/socket-dir.pid"
fails pid-dir "pid file $M/none/pid-dir.pid: No such file or directory" \
    -c "$T/s.conf" -p "unix:$M/pid-dir.sock" -P "$M/none/pid-dir.pid"
dm_check "failed starts left no pid file" \
    sh -c "! ls '$M' | grep -q 'second-socket.pid\|socket-dir.pid'"

# A busy TCP port (a listener of our own holds it, and goes by itself
# after a minute should this script be cut short).
dm_pick_port
BUSY=$DM_PORT
: >"$T/busy.out"
$PY -c 'import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(1)
print("up", flush=True); time.sleep(60)' "$BUSY" >"$T/busy.out" 2>&1 &
BUSYPID=$!
dm_wait_for 50 grep -q up "$T/busy.out"
fails busy-port "cannot listen on inet:$BUSY@127.0.0.1: bind: Address already in use" \
    -c "$T/s.conf" -p "inet:$BUSY@127.0.0.1" -P "$M/busy-port.pid"
{ kill "$BUSYPID"; wait "$BUSYPID"; } 2>/dev/null

# The key readable by root only: the daemon, as $U, cannot read it.
chown root "$M/hash.key"
fails key "$M/hash.key: Permission denied" \
    -c "$T/s.conf" -p "unix:$M/key.sock"
# With Syslog yes the daemon's own stderr is not the reader's: the
# process started prints what the daemon relays to it.
sed 's/^Syslog no$/Syslog yes/' "$T/s.conf" >"$T/syslog.conf"
fails syslog-key "^disposable-milter: fatal: $M/hash.key: Permission denied" \
    -c "$T/syslog.conf" -p "unix:$M/syslog-key.sock"
"$DM_MILTER" -n -c "$T/s.conf" -p "unix:$M/key.sock" >"$T/n.out" 2>&1
rc=$?
dm_check "-n as root checks as $U: the key is unreadable (exit $rc)" \
    sh -c "test $rc -ne 0 && grep -q '$M/hash.key: Permission denied' '$T/n.out'"
chown "$U" "$M/hash.key"
"$DM_MILTER" -n -c "$T/s.conf" -p "unix:$M/key.sock" >"$T/n.out" 2>&1
rc=$?
dm_check "-n: all well once $U may read it (exit $rc)" \
    sh -c "test $rc -eq 0 && grep -q 'configuration ok.*checked as $U' '$T/n.out'"

sed "s|^Database .*|Database $M/none.db|" "$T/s.conf" >"$T/nodb.conf"
fails database "$M/none.db: No such file or directory" \
    -c "$T/nodb.conf" -p "unix:$M/database.sock"

# A records store in a directory $U may not write (root's, 0755).
mkdir -p "$T/rootonly"
dm_write_conf "$T/rec.conf" "$T/lists" "$M/lists.db" "$M/hash.key" \
    "UserID $U" "Records $T/rootonly/records.db"
fails records "Records: directory $T/rootonly: Permission denied" \
    -c "$T/rec.conf" -p "unix:$M/records.sock"
"$DM_MILTER" -n -c "$T/rec.conf" -p "unix:$M/records.sock" >"$T/n2.out" 2>&1
dm_check "-n catches the records directory too" \
    grep -q "Records: directory $T/rootonly: Permission denied" "$T/n2.out"

# --- a stale socket is removed -------------------------------------------
$PY -c 'import socket, sys
s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' "$M/stale.sock"
chown "$U" "$M/stale.sock"
dm_write_conf "$T/z.conf" "$T/lists" "$M/lists.db" "$M/hash.key" \
    "UserID $U" "StatsInterval 0"
starts stale "$T/z.conf"
dm_check "a stale socket is removed, and said (exit $RC)" \
    sh -c "test $RC -eq 0 && grep -q 'removed the stale socket $M/stale.sock' '$T/stale.err'"
dm_check "the new daemon answers there" answers "unix:$M/stale.sock"
[ -n "$PID" ] && stop_ours "$PID"
dm_check "StatsInterval 0: no summary line, not even at the stop" \
    sh -c "grep -q 'stopping' '$T/stale.err' && ! grep -q 'stats:' '$T/stale.err'"

# metric NAME{LABELS}: its value in $M/metrics.prom as prometheus_client
# parses the file (nothing when absent; "unparsable: why" when the file
# is not valid exposition text).  metric_is NAME{LABELS} VALUE: true when
# it has that value.
metric()
{
	$PY - "$M/metrics.prom" "$1" <<'PY'
import math, sys
from prometheus_client.parser import text_string_to_metric_families
try:
    fams = list(text_string_to_metric_families(open(sys.argv[1]).read()))
except Exception as e:
    print("unparsable:", e)
    sys.exit(0)
for f in fams:
    for s in f.samples:
        labels = ",".join('%s="%s"' % kv for kv in sorted(s.labels.items()))
        if sys.argv[2] == s.name + ("{%s}" % labels if labels else ""):
            v = s.value
            print(int(v) if math.isfinite(v) and v == int(v) else v)
PY
}

metric_is()
{
	[ "$(metric "$1")" = "$2" ]
}

# histogram NAME: "ok COUNT" when the histogram NAME in $M/metrics.prom
# is well-formed (as prometheus_client parses it: buckets in increasing
# le, counts never falling, +Inf last and equal to _count, a _sum), else
# what is wrong.
histogram()
{
	$PY - "$M/metrics.prom" "$1" <<'PY'
import math, sys
from prometheus_client.parser import text_string_to_metric_families
fams = {f.name: f for f in
        text_string_to_metric_families(open(sys.argv[1]).read())}
f = fams.get(sys.argv[2])
if f is None or f.type != "histogram":
    sys.exit(print("no histogram", sys.argv[2]))
b = [(float(s.labels["le"]), s.value) for s in f.samples
     if s.name.endswith("_bucket")]
other = {s.name[len(f.name):]: s.value for s in f.samples
         if not s.name.endswith("_bucket")}
if len(b) < 2 or b[-1][0] != math.inf:
    sys.exit(print("no +Inf bucket last"))
if any(b[i][0] >= b[i + 1][0] or b[i][1] > b[i + 1][1]
       for i in range(len(b) - 1)):
    sys.exit(print("buckets out of order:", b))
if other.get("_count") != b[-1][1] or other.get("_sum", -1) < 0:
    sys.exit(print("count or sum wrong:", other, b[-1]))
print("ok %d" % b[-1][1])
PY
}

# has_line FILE N PATTERN: at least N lines of FILE match PATTERN.
has_lines()
{
	[ "$(grep -c -e "$3" "$1")" -ge "$2" ]
}

# --- readiness for systemd (sd_notify), metrics of a reload and a stop -----
# A service manager of our own: a datagram socket that writes each
# message it gets as one line (goes by itself after a minute).
: >"$T/notify.log"
$PY -c 'import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1]); os.chmod(sys.argv[1], 0o666); s.settimeout(60)
f = open(sys.argv[2], "a"); print("up", file=f, flush=True)
while True:
    try:
        d = s.recv(4096)
    except socket.timeout:
        break
    print(d.decode().replace("\n", " "), file=f, flush=True)' \
    "$T/systemd.sock" "$T/notify.log" 2>"$T/notify.err" &
NOTIFYPID=$!
dm_wait_for 50 grep -q up "$T/notify.log"
# DNS for the latency histogram: unbound answering NXDOMAIN for all, or
# without unbound a server that never answers (lookups time out).
if [ -x "$DM_UNBOUND" ]; then
	: >"$T/empty.zone"
	dm_dns_start "$T/empty.zone" || { dm_notok "unbound starts"; dm_finish; }
	DNS=$DM_DNS_SERVER
else
	echo "# $DM_UNBOUND missing: DNS lookups will time out"
	dm_dns_silent_start || { dm_notok "silent DNS server starts"; dm_finish; }
	DNS=$DM_DNS_SILENT_SERVER
fi
printf 'clean fresh-domain.test\n' >"$T/senders"
SYSTEMD=
grep -q '^#define HAVE_LIBSYSTEMD 1' "$DM_BUILDDIR/config.h" && SYSTEMD=1
NOTIFY_SOCKET=$T/systemd.sock
export NOTIFY_SOCKET
dm_write_conf "$T/n.conf" "$T/lists" "$M/lists.db" "$M/hash.key" \
    "UserID $U" "StatsInterval 1" "MetricsFile $M/metrics.prom" \
    "MetricsInterval 1" "DNS yes" "DNSServers $DNS" "DNSTimeout 300" \
    "DNSTries 1" "DNSBudget 1000"
dm_milter_start "$T/n.conf" "$M/n.log" "unix:$M/n.sock"
NPID=$DM_PID
unset NOTIFY_SOCKET
R='disposable_milter_reloads_total'
if [ -n "$SYSTEMD" ]; then
	dm_wait_for 50 grep -q '^READY=1' "$T/notify.log"
	dm_check "sd_notify: READY=1 once serving, with its pid" \
	    grep -q "^READY=1 MAINPID=$NPID STATUS=serving on unix:$M/n.sock" \
	    "$T/notify.log"
else
	dm_check "built without libsystemd: NOTIFY_SOCKET is warned about" \
	    grep -q 'NOTIFY_SOCKET is set, but this build has no systemd' "$M/n.log"
fi
kill -USR1 "$NPID"
dm_wait_for 50 metric_is "$R{result=\"success\"}" 1
dm_check "metrics: reloads_total{result=success} 1 after SIGUSR1" \
    metric_is "$R{result=\"success\"}" 1
[ -n "$SYSTEMD" ] && dm_check "sd_notify: SIGUSR1 gives RELOADING=1, then READY=1" sh -c "
    grep -n '' '$T/notify.log' | grep -A1 ':RELOADING=1 MONOTONIC_USEC=[0-9]' |
    grep -q 'READY=1 .*STATUS=serving; reloaded'"
# A configuration the reload refuses: counted apart, the daemon runs on.
echo "ActionRelay maybe" >>"$T/n.conf"
kill -USR1 "$NPID"
dm_wait_for 50 metric_is "$R{result=\"failure\"}" 1
dm_check "metrics: a failed reload is counted apart (failure 1)" \
    metric_is "$R{result=\"failure\"}" 1
dm_check "metrics: ... and not as a success (success 1)" \
    metric_is "$R{result=\"success\"}" 1
[ -n "$SYSTEMD" ] && dm_check "sd_notify: READY=1 after a failed reload too" \
    dm_wait_for 50 grep -q '^READY=1 .*the last reload failed' "$T/notify.log"
# Its build time: when disposable-ctl began it, at most a minute before
# the file was last written.
built=$(metric disposable_milter_listdb_build_time_seconds)
mtime=$(stat -c %Y "$M/lists.db")
dm_check "metrics: the list database's version, its build time ($built)" \
    test "${built:-0}" -le "$mtime" -a "${built:-0}" -ge $((mtime - 60))
dm_check "StatsInterval 1: a summary line every second" \
    dm_wait_for 30 has_lines "$M/n.log" 2 'stats: messages='
# DNS latency: a message from a domain no list knows sends lookups.
H=disposable_milter_dns_lookup_duration_seconds
dm_check "metrics: the DNS histogram is there before any lookup" \
    test "$(histogram $H)" = "ok 0"
"$BENCH" -s "unix:$M/n.sock" -c 1 -n 1 -f "$T/senders" >"$T/dns1.out" 2>&1
dm_wait_for 30 sh -c "grep -q '^${H}_count [1-9]' '$M/metrics.prom'"
h1=$(histogram $H)
dm_check "metrics: DNS lookups observed, the histogram well-formed ($h1)" \
    sh -c "case '$h1' in 'ok 0'|'ok') exit 1 ;; ok\ *) exit 0 ;; esac; exit 1"
if [ -x "$DM_UNBOUND" ]; then
	# The same domain again: its answers come from the cache, and a
	# cache hit is no lookup.
	hits=$(metric disposable_milter_dns_cache_hits_total)
	"$BENCH" -s "unix:$M/n.sock" -c 1 -n 1 -f "$T/senders" \
	    >"$T/dns2.out" 2>&1
	dm_wait_for 30 sh -c "! grep -q '^disposable_milter_dns_cache_hits_total $hits\$' '$M/metrics.prom'"
	dm_check "metrics: cache hits are not in the histogram ($(histogram $H))" \
	    test "$(histogram $H)" = "$h1"
fi
dm_check "metrics: up 1 while it runs" metric_is disposable_milter_up 1
dm_stop_pid "$NPID"
dm_check "SIGTERM: clean exit ($DM_STATUS)" test "$DM_STATUS" -eq 0
dm_check "metrics: up 0 in the file written at the stop" \
    metric_is disposable_milter_up 0
[ -n "$SYSTEMD" ] && dm_check "sd_notify: STOPPING=1 at SIGTERM" \
    grep -q '^STOPPING=1' "$T/notify.log"
{ kill "$NOTIFYPID"; wait "$NOTIFYPID"; } 2>/dev/null

# --- the good one stops cleanly -----------------------------------------
dm_check "StatsInterval 3600 (the default): no summary line while it ran" \
    sh -c "! grep -q 'stats:' '$T/good.err'"
if [ -n "$GOOD" ] && is_ours "$GOOD"; then
	kill -TERM "$GOOD"
	dm_wait_for 150 dm_dead "$GOOD"
	dm_check "SIGTERM: the daemon is gone" dm_dead "$GOOD"
	dm_check "its socket and pid file are removed" \
	    sh -c "test ! -e '$M/good.sock' && test ! -e '$M/good.pid'"
	dm_check "one summary line at the stop" \
	    test "$(grep -c 'stats: messages=' "$T/good.err")" -eq 1
else
	dm_notok "the good daemon (pid ${GOOD:-none}) still runs, to be stopped"
fi
dm_finish
