#!/bin/sh
# make bench-postfix (also the last part of make bench): end to end
# through a private Postfix, the one the end-to-end tests start
# (tests/support/postfix.sh), the table of issue 11.
#
# smtp-source sends BENCH_PF_N messages (4000) of BENCH_PF_SIZE bytes
# (2000) over BENCH_PF_S parallel sessions (20), one message a session,
# to one smtpd listener per configuration; Postfix delivers to discard.
# Every listener shares the same main.cf (in_flow_delay 0,
# default_process_limit 100, milter_default_action tempfail: a milter
# that fails makes smtp-source fail, which stops the bench); only its
# smtpd_milters differ:
#
#   none     no milter
#   noop     tests/bench/noop_milter, unix socket (the same callbacks and
#            steps as ours, nothing done)
#   rspamd   rspamd's milter (rspamd_proxy, self_scan, a process per
#            core), multimap only: the envelope sender, From, Sender and
#            Reply-To against the same listed domains; when rspamd is
#            installed (apt-get install rspamd), else the row says why
#   lists    this milter, lists only (DNS, SPF, records off), unix
#   full     this milter, full configuration, unix
#   fulltcp  the same, TCP
#
# "Full configuration": BENCH_PF_LISTED (75,000) domains of the shared
# amieiro list as a list, the shipped lists (conf/lists: disposable,
# relay, allow, freemail) and fingerprints (conf/fingerprints), DNS
# against a private unbound (tests/support/dns.sh) with a warm cache,
# SPF, the records store and the metrics file on.  The sender is
# bench@sender.bench.test, on no list, whose MX, NS, A and SPF record
# the private DNS serves: DNS and SPF are exercised, nothing is refused.
# (The client is 127.0.0.1: libspf2 fetches the SPF record, then passes
# a loopback client without evaluating it.)
#
# After a warm-up run each (caches warm, not counted), BENCH_PF_R rounds
# (7), each running every configuration in turn (interleaved), each round
# starting one configuration further on (round 2 starts with the no-op
# milter, ...), so that no configuration always runs at the same point
# of a round (each still follows the same other one); then the median
# rate of each, the median of its per-round ratios to the no-op
# milter's run of the same round, the milter's CPU per message
# (utime + stime of its processes from /proc over the run) and its
# ratio the same way, the full configuration against rspamd the same
# way, and the record events written and dropped (from the daemon's
# metrics file).
# Then the same for one session at a time (BENCH_PF_N1 messages, 500),
# full over TCP against full over unix.  Between runs the queue drains.
#
# Needs root, postfix (smtp-source), unbound, python3 and DM_DATA;
# skips (77) without.  About six minutes with the defaults (2-core
# machine; shorter runs and fewer rounds let its noise decide).
. "${DM_SRCDIR:?}/tests/support/common.sh"
. "$DM_SRCDIR/tests/support/postfix.sh"
. "$DM_SRCDIR/tests/support/dns.sh"
. "$DM_SRCDIR/tests/support/bench.sh"

dm_pf_require
dm_require_built
SOURCE=$(command -v smtp-source || echo /usr/sbin/smtp-source)
[ -x "$SOURCE" ] || dm_skip "smtp-source not found (postfix package)"
NOOP=$DM_BUILDDIR/tests/bench/noop_milter
[ -x "$NOOP" ] || { echo "bench: $NOOP not built"; exit 1; }
DENY=${DM_DATA:-}/lists/amieiro-disposable-email-domains/denyDomains.txt
[ -r "$DENY" ] || dm_skip "$DENY not found (set DM_DATA)"
N=${BENCH_PF_N:-4000}
N1=${BENCH_PF_N1:-500}
S=${BENCH_PF_S:-20}
R=${BENCH_PF_R:-7}
SIZE=${BENCH_PF_SIZE:-2000}
LISTED=${BENCH_PF_LISTED:-75000}
WARM=${BENCH_PF_WARM:-200}
FROM=bench@sender.bench.test
CONF=$DM_SRCDIR/conf
RSPAMD=$(command -v rspamd)
RSPAMD_SKIP=
if [ "${BENCH_PF_RSPAMD:-yes}" = no ]; then
	RSPAMD_SKIP="BENCH_PF_RSPAMD=no"
elif [ -z "$RSPAMD" ]; then
	RSPAMD_SKIP="rspamd not installed (apt-get install rspamd)"
elif ! id _rspamd >/dev/null 2>&1; then
	RSPAMD_SKIP="no _rspamd user to run it as"
fi

dm_init bench-postfix
T=$DM_TMP
M=$T/milter		# what our daemons read and write
mkdir -p "$M"

# --- DNS: the sender's domain, and NXDOMAIN for everything else -------
cat >"$T/zone.conf" <<'EOF'
local-data: "sender.bench.test. 300 IN MX 10 mx.sender.bench.test."
local-data: "sender.bench.test. 300 IN NS ns.sender.bench.test."
local-data: "sender.bench.test. 300 IN A 203.0.113.25"
local-data: 'sender.bench.test. 300 IN TXT "v=spf1 mx -all"'
local-data: "mx.sender.bench.test. 300 IN A 203.0.113.25"
local-data: "ns.sender.bench.test. 300 IN A 203.0.113.53"
EOF
dm_dns_start "$T/zone.conf" || exit 1
dnsq()
{
	grep -c -i -F 'sender.bench.test. ' "$DM_DNS_LOG"
}

# --- our configurations -------------------------------------------------
head -n "$LISTED" "$DENY" >"$M/listed.txt"
"$DM_CTL" genkey "$M/hash.key" >/dev/null || exit 1
conf()	# conf NAME DB [EXTRA-LINE...]
{
	c_name=$1 c_db=$2
	shift 2
	dm_write_conf "$M/$c_name.conf" "$CONF/lists" "$M/$c_db" \
	    "$M/hash.key" "List allow project-freemail $CONF/lists/freemail.txt community" \
	    "List disposable bench-listed $M/listed.txt" "$@"
}
conf lists lists.db
for c in full fulltcp; do
	conf $c full.db \
	    "Fingerprints disposable project-fp $CONF/fingerprints/disposable.txt" \
	    "Fingerprints relay project-relay-fp $CONF/fingerprints/relay.txt" \
	    "Infrastructure project-infra $CONF/fingerprints/infrastructure.txt" \
	    "DNS yes" "SPF yes" "DNSServers $DM_DNS_SERVER" \
	    "Records $M/$c.lmdb" "RetentionDays 30" \
	    "MetricsFile $M/$c.prom" "MetricsInterval 1"
done
# The public list holds lines a build refuses (addresses, public
# suffixes): they go, once, and the build is done again.
: >"$T/refused.sed"
if ! "$DM_CTL" -c "$M/lists.conf" build >"$T/build.lists" 2>&1; then
	sed -n "s|^error: $M/listed.txt:\([0-9]*\): .*|\1d|p" \
	    "$T/build.lists" >"$T/refused.sed"
	sed -i -f "$T/refused.sed" "$M/listed.txt"
fi
for c in lists full; do
	"$DM_CTL" -c "$M/$c.conf" build >"$T/build.$c" 2>&1 ||
	    { cat "$T/build.$c"; exit 1; }
done
echo "listed: $(wc -l <"$M/listed.txt") domains of $(basename "$DENY") ($(wc -l <"$T/refused.sed") lines refused by the build left out)"
echo "full configuration: $(grep "^$M/full.db: " "$T/build.full")"
# As deployed: an unprivileged user, the MTA's group on the socket.
chown nobody "$M" "$M/hash.key"

# --- the milters: $T/NAME.spec (as Postfix writes it), $T/NAME.pids -------
dm_daemon_start "$M/noop.log" "unix:$M/noop.sock" \
    "$NOOP" -p "unix:$M/noop.sock" || exit 1
echo "unix:$M/noop.sock" >"$T/noop.spec"
echo "$DM_PID" >"$T/noop.pids"
for c in lists full fulltcp; do
	if [ $c = fulltcp ]; then
		dm_pick_port
		spec=inet:$DM_PORT@127.0.0.1
		echo "inet:127.0.0.1:$DM_PORT" >"$T/$c.spec"
	else
		spec=unix:$M/$c.sock
		echo "$spec" >"$T/$c.spec"
	fi
	dm_milter_start "$M/$c.conf" "$M/$c.log" "$spec" -u nobody:postfix ||
	    exit 1
	echo "$DM_PID" >"$T/$c.pids"
	echo 0 >"$T/$c.sent"
done
CONFIGS="none noop"
if [ -z "$RSPAMD_SKIP" ]; then
	RSPAMD_VERSION=$("$RSPAMD" --version | sed -n 's/.*version //p')
	D=$T/rspamd
	mkdir -p "$D"
	chown _rspamd "$D"
	cat >"$D/init.lua" <<'EOF'
require "global_functions" ()
rspamd_maps = {}
EOF
	# The maps' rules as ours: the envelope sender and the three
	# header fields dm_write_conf names, one rule each.
	{
		cat <<EOF
lua = "$D/init.lua";
options { pidfile = "$D/rspamd.pid"; dbdir = "$D"; tempdir = "$D";
	dns { nameserver = ["$DM_DNS_SERVER"]; } }
logging { type = "file"; filename = "$D/rspamd.log"; level = "info"; }
modules { path = "\${PLUGINSDIR}"; }
actions { reject = 15; add_header = 6; greylist = 4; }
worker "rspamd_proxy" {
	bind_socket = "$D/rspamd.sock mode=0666";
	milter = yes; timeout = 120s; count = $(nproc);
	upstream "local" { default = yes; self_scan = yes; }
}
multimap {
	BENCH_ENVFROM { type = "from"; filter = "email:domain";
	    map = "file://$M/listed.txt"; score = 10.0; }
EOF
		for h in From Sender Reply-To; do
			echo "	BENCH_$(echo $h | tr -d -) { type = \"header\"; header = \"$h\";"
			echo "	    filter = \"email:domain\"; map = \"file://$M/listed.txt\"; score = 10.0; }"
		done
		echo "}"
	} >"$D/rspamd.conf"
	dm_daemon_start "$D/stderr" "unix:$D/rspamd.sock" "$RSPAMD" -f \
	    -c "$D/rspamd.conf" -u _rspamd -g _rspamd || exit 1
	echo "$DM_PID" >"$T/rspamd.pids"
	echo "unix:$D/rspamd.sock" >"$T/rspamd.spec"
	# Its start compiles the public suffix list: seconds.
	if ! dm_wait_for 600 test -S "$D/rspamd.sock"; then
		echo "bench: rspamd does not listen"
		dm_diag "$D/rspamd.log"
		exit 1
	fi
	CONFIGS="$CONFIGS rspamd"
fi
CONFIGS="$CONFIGS lists full fulltcp"

# --- Postfix: one smtpd listener per configuration ---------------------
L=
for c in $CONFIGS; do
	dm_pick_port
	echo "$DM_PORT" >"$T/$c.port"
	L="$L
127.0.0.1:$DM_PORT inet n - n - - smtpd
  -o syslog_name=bench/$c
  -o smtpd_milters=$(cat "$T/$c.spec" 2>/dev/null)"
done
dm_pf_start "$L" "in_flow_delay = 0" "default_process_limit = 100" \
    "transport_maps =" "relay_transport = discard" || exit 1
for c in $CONFIGS; do
	dm_wait_for 50 dm_listening "$(cat "$T/$c.port")" || {
		echo "bench: smtpd ($c) does not listen"
		dm_diag "$DM_PF/maillog"
		exit 1
	}
done

drained()
{
	[ -z "$(find "$DM_PF/queue/maildrop" "$DM_PF/queue/incoming" \
	    "$DM_PF/queue/active" -type f 2>/dev/null | head -n 1)" ]
}

# run NAME SESSIONS MESSAGES KEY: one smtp-source run through NAME's
# listener; its rate, CPU per message and events go to $T/KEY.*, and
# a line is printed.  Exits when smtp-source fails.
run()
{
	pids=$(cat "$T/$1.pids" 2>/dev/null)
	[ -n "$pids" ] && c0=$(dm_bench_cpu "$pids")
	t0=$(date +%s%N)
	if ! "$SOURCE" -s "$2" -m "$3" -l "$SIZE" -f "$FROM" \
	    -t bench@sink.test "127.0.0.1:$(cat "$T/$1.port")" \
	    >"$T/$4.src" 2>&1; then
		echo "bench: smtp-source failed through $1:"
		dm_diag "$T/$4.src" 5
		dm_diag "$DM_PF/maillog" 10
		exit 1
	fi
	t1=$(date +%s%N)
	dm_wait_for 600 drained || echo "  the queue did not drain in 60 s"
	ev=-
	if [ -f "$T/$1.sent" ]; then
		sent=$(($(cat "$T/$1.sent") + $3))
		echo $sent >"$T/$1.sent"
		ev="records off"
		if [ -f "$M/$1.prom" ]; then
			# One sender a message: one event each.
			dm_bench_events "$M/$1.prom" $sent ||
			    echo "  events not all accounted for after 30 s"
			w0=$(cat "$T/$1.written" 2>/dev/null || echo 0)
			d0=$(cat "$T/$1.dropped" 2>/dev/null || echo 0)
			echo "$DM_BENCH_WRITTEN" >"$T/$1.written"
			echo "$DM_BENCH_DROPPED" >"$T/$1.dropped"
			ev="$((DM_BENCH_WRITTEN - w0)) events written, $((DM_BENCH_DROPPED - d0)) dropped"
			echo "$((DM_BENCH_WRITTEN - w0)) $((DM_BENCH_DROPPED - d0))" \
			    >>"$T/$4.events"
		fi
	fi
	cpu=-
	[ -n "$pids" ] &&
	    cpu=$(dm_bench_ms_per_msg $(($(dm_bench_cpu "$pids") - c0)) "$3")
	rate=$(awk -v n="$3" -v ns=$((t1 - t0)) 'BEGIN { printf "%.0f\n", n * 1e9 / ns }')
	echo "$rate" >>"$T/$4.rates"
	echo "$cpu" >>"$T/$4.cpus"
	TOTAL=$((TOTAL + $3))
	[ "$4" = warm ] && return 0
	printf '  %-8s %2s sessions: %5s msg/s, %s ms CPU/msg, %s\n' \
	    "$1" "$2" "$rate" "$cpu" "$ev"
}

# rotate K WORD...: the words, starting at the (K mod count)th (from 0).
rotate()
{
	rot_k=$1
	shift
	rot_k=$((rot_k % $#))
	while [ "$rot_k" -gt 0 ]; do
		rot_w=$1
		shift
		set -- "$@" "$rot_w"
		rot_k=$((rot_k - 1))
	done
	echo "$@"
}

# ratio KEY REF WHAT: the median of KEY's per-round ratios to REF's
# WHAT (rates or cpus); "-" when either was not measured.
ratio()
{
	dm_bench_ratio "$T/$1.$3" "$T/$2.$3" "$T/$1.$3.vs"
}

# row KEY LABEL REF: one table row.
row()
{
	ev=-
	[ -f "$T/$1.events" ] && ev=$(awk '{ w += $1; d += $2 }
	    END { print d " of " w + d }' "$T/$1.events")
	case $1 in lists.*) ev="records off" ;; esac
	echo "| $2 | $(dm_bench_median "$T/$1.rates" %.0f) | $(ratio "$1" "$3" rates) | $(dm_bench_median "$T/$1.cpus" %.3f) | $(ratio "$1" "$3" cpus) | $ev |"
}

echo "postfix: private instance on 127.0.0.1, smtpd per configuration, delivery to discard; DNS $DM_DNS_SERVER; sender $FROM"
TOTAL=0
for c in $CONFIGS; do
	run $c "$S" "$WARM" warm
done
run fulltcp 1 "$WARM" warm
Q0=$(dnsq)
echo "warm-up: $WARM messages through each; DNS queries for sender.bench.test so far: $Q0"
r=1
while [ $r -le "$R" ]; do
	echo "round $r of $R: $N messages of $SIZE bytes, $S sessions"
	for c in $(rotate $((r - 1)) $CONFIGS); do
		run $c "$S" "$N" "$c.many"
	done
	echo "round $r of $R: $N1 messages, one session"
	for c in $(rotate $((r - 1)) full fulltcp); do
		run $c 1 "$N1" "$c.one"
	done
	r=$((r + 1))
done
Q1=$(dnsq)

echo
echo "Postfix $("$(dirname "$POSTFIX")/postconf" -c "$DM_PF/etc" -h mail_version 2>/dev/null), smtp-source, $SIZE-byte messages, $S sessions, $N messages a run, delivery to discard, configurations interleaved, medians of $R rounds; milter CPU = utime + stime of the milter's processes over the run / messages; events dropped = record events dropped in all rounds"
echo "| configuration | messages/s | vs no-op milter | milter CPU per message (ms) | CPU vs no-op | events dropped |"
echo "|---|---|---|---|---|---|"
row none.many "no milter" noop.many
row noop.many "no-op libmilter milter, unix socket" noop.many
if [ -z "$RSPAMD_SKIP" ]; then
	row rspamd.many "rspamd $RSPAMD_VERSION milter (multimap only), unix" \
	    noop.many
else
	echo "| rspamd milter (multimap only), unix | skipped: $RSPAMD_SKIP | | | | |"
fi
row lists.many "this milter, lists only, unix" noop.many
row full.many "this milter, full configuration, unix" noop.many
row fulltcp.many "this milter, full configuration, TCP" noop.many
[ -z "$RSPAMD_SKIP" ] &&
    echo "this milter, full configuration, unix, against rspamd's milter in the same round (medians of the per-round ratios): messages/s $(ratio full.many rspamd.many rates) x, milter CPU per message $(ratio full.many rspamd.many cpus) x"
echo
echo "One session, $N1 messages a run (vs: full configuration over unix, one session, same round):"
echo "| configuration | messages/s | vs unix, one session | milter CPU per message (ms) | CPU vs unix, one session | events dropped |"
echo "|---|---|---|---|---|---|"
row full.one "this milter, full configuration, unix, one session" full.one
row fulltcp.one "this milter, full configuration, TCP, one session" full.one
echo
echo "delivered (discarded): $(grep -c 'status=sent' "$DM_PF/maillog") of $TOTAL sent, warm-up included; deferred or bounced: $(grep -c -E 'status=(deferred|bounced)' "$DM_PF/maillog"); Postfix's milter warnings: $(grep -c -i 'warning:.*milter' "$DM_PF/maillog")"
echo "DNS queries below sender.bench.test at the private server: $Q0 during the warm-up, $((Q1 - Q0)) during the measured runs (the records live 300 s: each daemon asks again when they expire)"
