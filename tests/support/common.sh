# shellcheck shell=sh
# common.sh - shell helpers shared by the protocol and end-to-end tests.
#
# Sourced (". common.sh") by tests/protocol/*.sh and tests/e2e/*.sh,
# which "make check" runs with DM_BUILDDIR, DM_SRCDIR, DM_DATA, MILTERTEST,
# SWAKS and POSTFIX in the environment.  Plain POSIX sh (dash).
#
# Results: one line per check, "ok - what" or "not ok - what", then a
# summary; dm_finish exits 0 when every check passed, 1 otherwise.
# dm_skip prints why and exits 77 (automake's skip).
#
# Clean-up: dm_init installs an EXIT trap that runs, newest first, every
# command registered with dm_atexit, so a test that fails half-way (or is
# interrupted) still stops what it started and removes its temporary
# directory.  Processes are ended by the pid this script recorded, never
# by name.

DM_PASS=0
DM_FAIL=0
DM_CLEANUP=
DM_PORTS_TAKEN=
DM_MILTER_PIDS=

# dm_init NAME: temporary directory $DM_TMP and the EXIT trap.
dm_init()
{
	DM_NAME=$1
	DM_TMP=$(mktemp -d "/tmp/dm-$1.XXXXXX") || {
		echo "Bail out! cannot create a temporary directory"
		exit 99
	}
	# Other users (postfix, nobody) must reach files below it.
	chmod 0755 "$DM_TMP"
	trap 'dm__exit $?' EXIT
	trap 'exit 1' HUP INT TERM
	if [ -n "$DM_KEEP" ]; then
		echo "# DM_KEEP set: $DM_TMP is kept"
	else
		dm_atexit "rm -rf '$DM_TMP'"
	fi
}

dm__exit()
{
	dm__rc=$1
	trap - EXIT
	# Daemons take seconds to stop: signal them all first, so that the
	# clean-up below waits for them in parallel rather than in turn.
	for dm__p in $DM_MILTER_PIDS; do
		kill -TERM "$dm__p" 2>/dev/null
	done
	printf '%s\n' "$DM_CLEANUP" | while IFS= read -r dm__c; do
		[ -n "$dm__c" ] && eval "$dm__c" >/dev/null 2>&1
	done
	exit "$dm__rc"
}

# dm_atexit COMMAND: run COMMAND (a shell string) when the script exits.
dm_atexit()
{
	DM_CLEANUP="$1
$DM_CLEANUP"
}

dm_skip()
{
	echo "SKIP: $*"
	exit 77
}

dm_ok()
{
	DM_PASS=$((DM_PASS + 1))
	echo "ok - $*"
}

dm_notok()
{
	DM_FAIL=$((DM_FAIL + 1))
	echo "not ok - $*"
}

# dm_check DESC COMMAND...: one check, passing when COMMAND succeeds.
dm_check()
{
	dm__desc=$1
	shift
	if "$@"; then
		dm_ok "$dm__desc"
	else
		dm_notok "$dm__desc"
	fi
}

# dm_diag FILE [LINES]: show the tail of a file, each line as a "#" comment.
dm_diag()
{
	[ -r "$1" ] || return 0
	echo "# --- tail of $1"
	tail -n "${2:-20}" "$1" | sed 's/^/#   /'
}

dm_finish()
{
	echo "# $DM_NAME: $DM_PASS passed, $DM_FAIL failed"
	[ "$DM_FAIL" -eq 0 ] && [ "$DM_PASS" -gt 0 ] && exit 0
	exit 1
}

# dm_require_built: the daemon and the admin tool must exist.
dm_require_built()
{
	[ -n "$DM_BUILDDIR" ] || dm_skip "DM_BUILDDIR not set (run via make check)"
	DM_MILTER=$DM_BUILDDIR/milter/disposable-milter
	DM_CTL=$DM_BUILDDIR/ctl/disposable-ctl
	[ -x "$DM_MILTER" ] || dm_skip "$DM_MILTER not built"
	[ -x "$DM_CTL" ] || dm_skip "$DM_CTL not built"
}

# dm_port_free PORT: true when nothing listens on 127.0.0.1:PORT (TCP).
dm_port_free()
{
	case " $DM_PORTS_TAKEN " in *" $1 "*) return 1 ;; esac
	# Without ss(8) we cannot look; the daemon's bind would then fail
	# loudly rather than silently share a port.
	command -v ss >/dev/null 2>&1 || return 0
	dm_port_free_raw "$1"
}

# dm_pick_port: print a free port in 20000-29999 derived from our pid,
# different from every port picked before by this script.
dm_pick_port()
{
	dm__p=$((20000 + ($$ * 37 + ${DM_PORT_SALT:-0}) % 10000))
	dm__n=0
	while [ $dm__n -lt 200 ]; do
		if dm_port_free "$dm__p"; then
			DM_PORTS_TAKEN="$DM_PORTS_TAKEN $dm__p"
			# shellcheck disable=SC2034 # read by the caller
			DM_PORT=$dm__p
			return 0
		fi
		dm__p=$((dm__p + 1))
		[ $dm__p -gt 29999 ] && dm__p=20000
		dm__n=$((dm__n + 1))
	done
	echo "Bail out! no free port found"
	exit 99
}

# dm_wait_for TENTHS COMMAND...: poll COMMAND every 0.1 s, at most TENTHS
# times; true as soon as it succeeds.
dm_wait_for()
{
	dm__t=$1
	shift
	while [ "$dm__t" -gt 0 ]; do
		"$@" && return 0
		sleep 0.1
		dm__t=$((dm__t - 1))
	done
	return 1
}

dm_alive()
{
	kill -0 "$1" 2>/dev/null
}

dm_dead()
{
	! kill -0 "$1" 2>/dev/null
}

dm_listening()
{
	! dm_port_free_raw "$1"
}

dm_port_free_raw()
{
	[ -z "$(ss -Htln "( sport = :$1 )" 2>/dev/null)" ]
}

# dm_milter_start CONF LOG SOCKETSPEC [ARG...]: start the daemon in the
# foreground (a background job of ours) with any further arguments,
# logging to LOG, and wait until it listens.  Sets DM_PID.  Returns 1
# (with the log shown) if it does not come up.
dm_milter_start()
{
	dm__conf=$1 dm__log=$2 dm__spec=$3
	shift 3
	dm_daemon_start "$dm__log" "$dm__spec" \
	    "$DM_MILTER" -f -c "$dm__conf" -p "$dm__spec" "$@"
}

# dm_daemon_start LOG SOCKETSPEC COMMAND...: the same for any milter
# (COMMAND stays in the foreground and listens on SOCKETSPEC).
dm_daemon_start()
{
	dm__log=$1 dm__spec=$2
	shift 2
	"$@" >>"$dm__log" 2>&1 &
	DM_PID=$!
	DM_MILTER_PIDS="$DM_MILTER_PIDS $DM_PID"
	dm_atexit "dm_stop_pid $DM_PID"
	case $dm__spec in
	unix:*|local:*)
		dm_wait_for 100 dm__sock_ready "$DM_PID" "${dm__spec#*:}" ;;
	inet:*)
		dm__port=${dm__spec#inet:}
		dm_wait_for 100 dm__port_ready "$DM_PID" "${dm__port%%@*}" ;;
	esac
	if ! dm_alive "$DM_PID"; then
		echo "# milter exited at start"
		dm_diag "$dm__log"
		return 1
	fi
	return 0
}

dm__sock_ready()
{
	dm_alive "$1" || return 0	# stop waiting: it died
	[ -S "$2" ]
}

dm__port_ready()
{
	dm_alive "$1" || return 0
	dm_listening "$2"
}

# dm_stop_pid PID: SIGTERM, wait until it is gone (libmilter takes a few
# seconds), SIGKILL after 15 s.  DM_STATUS gets its exit status when it
# is our child (128 + signal if a signal ended it), else 127.
dm_stop_pid()
{
	DM_STATUS=127
	if dm_alive "$1"; then
		kill -TERM "$1" 2>/dev/null
		if ! dm_wait_for 150 dm_dead "$1"; then
			kill -KILL "$1" 2>/dev/null
			dm_wait_for 20 dm_dead "$1"
		fi
	fi
	wait "$1" 2>/dev/null
	# shellcheck disable=SC2034 # read by the caller
	DM_STATUS=$?
	dm_dead "$1"
}

# dm_stop_milters: stop every daemon started here, in parallel.
dm_stop_milters()
{
	for dm__p in $DM_MILTER_PIDS; do
		kill -TERM "$dm__p" 2>/dev/null
	done
	for dm__p in $DM_MILTER_PIDS; do
		dm_stop_pid "$dm__p"
	done
}

# dm_no_raw_in FILE... -- WORD...: true when no WORD occurs in any FILE
# (fixed strings, case-insensitive); otherwise prints each hit as a "#"
# comment.  Directories are searched recursively, binary files too.
dm_no_raw_in()
{
	dm__files=
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		dm__files="$dm__files $1"
		shift
	done
	[ "$1" = -- ] && shift
	dm__clean=0
	for dm__w in "$@"; do
		# shellcheck disable=SC2086
		if grep -r -D skip -a -i -F -l -e "$dm__w" $dm__files >/dev/null 2>&1; then
			# shellcheck disable=SC2086
			echo "# raw '$dm__w' found in: $(grep -r -D skip -a -i -F -l -e "$dm__w" $dm__files | tr '\n' ' ')"
			dm__clean=1
		fi
	done
	return $dm__clean
}

# dm_decision_line LOG QID: the daemon's (last) decision line for the
# message with queue id QID, from the log file LOG; empty if none.
dm_decision_line()
{
	grep -E "(^|[ :])qid=$2 " "$1" | tail -n 1
}

# dm_has_decision LOG QID PATTERN...: true when that message's decision
# line matches every extended regular expression given; a PATTERN
# starting with ! must not match.  Otherwise says why, as a "#" comment.
dm_has_decision()
{
	dm__l=$(dm_decision_line "$1" "$2")
	[ -n "$dm__l" ] || { echo "# no line for qid=$2 in $1"; return 1; }
	shift 2
	for dm__pat in "$@"; do
		case $dm__pat in
		!*)	! printf '%s\n' "$dm__l" | grep -q -E -e "${dm__pat#!}" ;;
		*)	printf '%s\n' "$dm__l" | grep -q -E -e "$dm__pat" ;;
		esac || {
			echo "# qid line fails /$dm__pat/: $dm__l"
			return 1
		}
	done
}

# dm_write_lists DIR: the small test lists, one file per category.
dm_write_lists()
{
	mkdir -p "$1"
	cat >"$1/disposable.txt" <<'LIST'
# test disposable domains
mailinator.com
tempmail.test
LIST
	cat >"$1/relay.txt" <<'LIST'
# test relay (alias) domains
relay.test
LIST
	cat >"$1/allow.txt" <<'LIST'
# exceptions below a listed domain
good.mailinator.com
LIST
}

# dm_write_conf FILE LISTDIR DB KEYFILE [EXTRA-LINE...]: a daemon config
# using the lists in LISTDIR; each EXTRA-LINE is appended verbatim.
dm_write_conf()
{
	dm__f=$1 dm__l=$2 dm__db=$3 dm__k=$4
	shift 4
	{
		echo "# written by $DM_NAME"
		echo "Syslog no"
		echo "Database $dm__db"
		echo "KeyFile $dm__k"
		echo "HashMode hmac"
		echo "HeaderFields From, Sender, Reply-To"
		# No DNS unless a test asks for it (and points DNSServers at
		# its own loopback server): a test never queries the outside.
		case " $* " in
		*" DNS "*) ;;
		*) echo "DNS no" ;;
		esac
		case " $* " in
		*" SPF "*) ;;
		*) echo "SPF no" ;;
		esac
		echo "List disposable test-disposable $dm__l/disposable.txt"
		echo "List relay test-relay $dm__l/relay.txt"
		echo "List allow test-allow $dm__l/allow.txt"
		for dm__x in "$@"; do
			echo "$dm__x"
		done
	} >"$dm__f"
}
