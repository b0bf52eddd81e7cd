# shellcheck shell=sh
# dns.sh - a private DNS server on loopback for the tests.
#
# Sourced after common.sh (and after dm_init), by any test that needs DNS
# answers it controls: the DNS unit test, fingerprints, SPF, Postfix end
# to end.  Plain POSIX sh (dash).
#
#   dm_dns_start ZONEFILE
#	Start unbound (Debian package unbound) on 127.0.0.1, a free port,
#	serving ZONEFILE: unbound.conf "server:" lines, usually
#	    local-data: "mx.test. 300 IN MX 10 mail.mx.test."
#	    local-zone: "sub.test." static
#	    local-data: 'txt.test. 300 IN TXT "v=spf1" " -all"'
#	(single quotes outside, so the TXT strings keep their quotes).
#	Everything not defined there is NXDOMAIN (local-zone "." static):
#	no query ever leaves the machine.  local-data answers carry no
#	CNAME chain (a client follows each link); for answers with the
#	whole chain, serve a zone file authoritatively:
#	    local-zone: "chain.test." transparent
#	    auth-zone:
#		name: "chain.test."
#		zonefile: "/absolute/path/chain.zone"
#		for-downstream: yes
#		for-upstream: no
#	(other clauses may follow server: lines; the file may end in one).
#	Two zones are always there:
#	    servfail.test.   every name answers SERVFAIL at once
#	    blackhole.test.  every query is dropped: no answer, ever
#	Sets DM_DNS_PORT, DM_DNS_SERVER (127.0.0.1:PORT) and DM_DNS_LOG;
#	the server is stopped when the script exits.  Returns 1 (with
#	the log shown) if it does not answer within 5 s; skips (exit 77)
#	when unbound or python3 is missing.  The server keeps no cache
#	that could hide a query, and logs every query it receives.
#
#   dm_dns_queries NAME TYPE
#	Print how many queries for NAME (no trailing dot, any case) and
#	TYPE (A, MX, TXT ...) reached the server so far.
#
#   dm_dns_query NAME TYPE
#	Ask the server once; print the rcode (0 NOERROR, 2 SERVFAIL,
#	3 NXDOMAIN ...) and the number of answer records, or "timeout".
#
#   dm_dns_silent_start
#	Start a second "server" that reads every query and never answers
#	(a UDP socket nobody replies on).  Sets DM_DNS_SILENT_PORT and
#	DM_DNS_SILENT_SERVER (127.0.0.1:PORT); stopped at exit.

DM_UNBOUND=${DM_UNBOUND:-/usr/sbin/unbound}

# dm__udp_tcp_port: like dm_pick_port, but free for UDP as well.
dm__udp_tcp_port()
{
	while :; do
		dm_pick_port
		if ! command -v ss >/dev/null 2>&1 ||
		    [ -z "$(ss -Huln "( sport = :$DM_PORT )" 2>/dev/null)" ]; then
			return 0
		fi
	done
}

dm_dns_query()
{
	python3 - "$DM_DNS_PORT" "$1" "$2" <<'PY'
import socket, struct, sys
port, name, qtype = int(sys.argv[1]), sys.argv[2], sys.argv[3]
types = {"A": 1, "NS": 2, "CNAME": 5, "MX": 15, "TXT": 16, "AAAA": 28}
q = struct.pack(">HHHHHH", 0x4d44, 0x0100, 1, 0, 0, 0)
for label in name.rstrip(".").split("."):
    q += bytes([len(label)]) + label.encode()
q += b"\0" + struct.pack(">HH", types[qtype.upper()], 1)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(1)
s.sendto(q, ("127.0.0.1", port))
try:
    d = s.recv(65535)
except OSError:
    print("timeout")
    sys.exit(0)
print(d[3] & 15, struct.unpack(">H", d[6:8])[0])
PY
}

dm__dns_ready()
{
	dm_alive "$DM_DNS_PID" || return 0	# stop waiting: it died
	[ "$(dm_dns_query ready.dm-probe A 2>/dev/null)" = "3 0" ]
}

dm_dns_start()
{
	[ -x "$DM_UNBOUND" ] || dm_skip "$DM_UNBOUND missing (apt-get install unbound)"
	command -v python3 >/dev/null 2>&1 || dm_skip "python3 missing"
	[ -r "$1" ] || { echo "# dm_dns_start: cannot read $1"; return 1; }
	dm__udp_tcp_port
	DM_DNS_PORT=$DM_PORT
	DM_DNS_SERVER=127.0.0.1:$DM_DNS_PORT
	DM_DNS_DIR=$DM_TMP/unbound.$DM_DNS_PORT
	DM_DNS_LOG=$DM_DNS_DIR/unbound.log
	mkdir -p "$DM_DNS_DIR"
	# servfail.test is forwarded to 127.0.0.1, which unbound refuses
	# to query (do-not-query-localhost defaults to yes): with no
	# usable upstream it answers SERVFAIL at once, without retries.
	# cache-max-ttl 0 keeps the forwarded answers out of the cache;
	# local data is never cached.  log-queries logs each query as it
	# arrives, cached or not.
	{
		cat <<EOF
server:
	interface: 127.0.0.1
	port: $DM_DNS_PORT
	do-ip6: no
	num-threads: 1
	chroot: ""
	username: ""
	directory: "$DM_DNS_DIR"
	pidfile: "$DM_DNS_DIR/unbound.pid"
	logfile: "$DM_DNS_LOG"
	use-syslog: no
	log-queries: yes
	verbosity: 1
	module-config: "iterator"
	cache-max-ttl: 0
	cache-max-negative-ttl: 0
	local-zone: "." static
	local-zone: "servfail.test." transparent
	local-zone: "blackhole.test." deny
EOF
		cat "$1"
		cat <<EOF
forward-zone:
	name: "servfail.test."
	forward-addr: 127.0.0.1@9
remote-control:
	control-enable: no
EOF
	} >"$DM_DNS_DIR/unbound.conf"
	"$DM_UNBOUND" -d -c "$DM_DNS_DIR/unbound.conf" \
	    </dev/null >>"$DM_DNS_DIR/stderr" 2>&1 &
	DM_DNS_PID=$!
	dm_atexit "dm_stop_pid $DM_DNS_PID"
	dm_wait_for 50 dm__dns_ready
	if ! dm_alive "$DM_DNS_PID" || ! dm__dns_ready; then
		echo "# unbound did not come up on $DM_DNS_SERVER"
		dm_diag "$DM_DNS_DIR/stderr"
		dm_diag "$DM_DNS_LOG"
		return 1
	fi
	export DM_DNS_SERVER DM_DNS_PORT
	return 0
}

dm_dns_queries()
{
	dm__n=$(grep -c -i -F " $1. $2 IN" "$DM_DNS_LOG" 2>/dev/null)
	echo "${dm__n:-0}"
}

dm_dns_silent_start()
{
	command -v python3 >/dev/null 2>&1 || dm_skip "python3 missing"
	dm__udp_tcp_port
	DM_DNS_SILENT_PORT=$DM_PORT
	DM_DNS_SILENT_SERVER=127.0.0.1:$DM_PORT
	# Bound before the ready file appears, so no query is refused.
	python3 - "$DM_PORT" "$DM_TMP/silent.$DM_PORT" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", int(sys.argv[1])))
t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
t.bind(("127.0.0.1", int(sys.argv[1])))
t.listen(8)
open(sys.argv[2], "w").close()
while True:
    s.recv(65535)
PY
	DM_DNS_SILENT_PID=$!
	dm_atexit "dm_stop_pid $DM_DNS_SILENT_PID"
	dm_wait_for 50 test -e "$DM_TMP/silent.$DM_PORT"
	if ! dm_alive "$DM_DNS_SILENT_PID"; then
		echo "# the silent server did not start"
		return 1
	fi
	export DM_DNS_SILENT_SERVER DM_DNS_SILENT_PORT
	return 0
}
