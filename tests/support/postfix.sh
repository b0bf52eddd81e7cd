# shellcheck shell=sh
# postfix.sh - a private Postfix instance and an smtp-sink for the end-to-end
# tests.
#
# Sourced after common.sh by tests/e2e/*.sh.  Plain POSIX sh (dash).
#
#   dm_pf_require
#	Skip (77) unless root, postfix, smtp-sink, swaks and the postfix
#	user are there.  Sets POSTFIX, SWAKS, DM_PF_SINK_BIN.
#
#   dm_pf_sink_start
#	smtp-sink on 127.0.0.1, a free port (DM_PF_SINK_PORT), dumping
#	each message to a file below $DM_TMP/sink; stopped at exit.
#	Returns 1 (log shown) if it does not listen.
#
#   dm_pf_start LISTENERS [MAIN-LINE...]
#	A throw-away instance in $DM_PF ($DM_TMP/postfix): own config
#	directory, queue and maillog ($DM_PF/maillog), no chroot (with
#	DM_PF_CHROOT=y: the services chrooted in the queue directory as
#	Debian's master.cf has them, and the files they read copied into
#	it, as Debian's postfix does), no listener on port 25;
#	sink.test (a relay domain, so that an XCLIENT-presented client
#	may send to it where the listener has reject_unauth_destination)
#	is delivered to the sink, nothing else anywhere; milter_default_action tempfail, so a milter that fails
#	is noticed.  LISTENERS are master.cf lines for the smtpd
#	services (127.0.0.1:PORT inet n - n - - smtpd, with -o lines);
#	each MAIN-LINE is appended to main.cf.  Stopped at exit, by
#	"postfix stop" or else by the master's pid.  Returns 1 (logs
#	shown) if it does not start.
#
#   dm_pf_send NAME PORT SWAKS-ARGS...
#	One message to rcpt.NAME@sink.test with "Subject: dm-e2e NAME";
#	swaks' exit code in DM_PF_RC, its transcript in $DM_TMP/swaks.NAME.
#	(swaks exits 23 when refused at MAIL FROM, 24 at RCPT TO, 26 at
#	the end of DATA.)
#
#   dm_pf_expect_delivered NAME
#	One check: accepted and found in the sink; DM_PF_FILE names the
#	copy (empty if not).  False if not.
#
#   dm_pf_expect_refused NAME EXIT PATTERN
#	One check: swaks exit code EXIT and a reply matching PATTERN
#	(extended regular expression on swaks' transcript).
#
#   dm_pf_sink_has NAME		true when NAME reached the sink
#   dm_pf_header_lines HEADER FILE	how many HEADER: lines its header has
#   dm_pf_queue_id FILE		the queue id Postfix gave that copy
#   dm_pf_etc_sum		a checksum of /etc/postfix (never touched)

dm_pf_require()
{
	[ "$(id -u)" -eq 0 ] || dm_skip "needs root to run a private Postfix instance"
	POSTFIX=${POSTFIX:-$(command -v postfix || echo /usr/sbin/postfix)}
	SWAKS=${SWAKS:-$(command -v swaks)}
	[ -x "$POSTFIX" ] || dm_skip "postfix not installed (apt-get install postfix)"
	if [ -z "$SWAKS" ] || [ ! -x "$SWAKS" ]; then
		dm_skip "swaks not installed (apt-get install swaks)"
	fi
	DM_PF_SINK_BIN=$(command -v smtp-sink || echo /usr/sbin/smtp-sink)
	[ -x "$DM_PF_SINK_BIN" ] ||
	    dm_skip "smtp-sink not found (it ships in the postfix package)"
	id postfix >/dev/null 2>&1 || dm_skip "no postfix user"
}

dm_pf_etc_sum()
{
	find /etc/postfix -printf '%p %s %T@ %m\n' 2>/dev/null | sort | cksum
}

dm_pf_sink_start()
{
	dm_pick_port
	DM_PF_SINK_PORT=$DM_PORT
	mkdir -p "$DM_TMP/sink"
	chown nobody "$DM_TMP/sink"
	"$DM_PF_SINK_BIN" -u nobody -d "$DM_TMP/sink/%H%M%S." \
	    "127.0.0.1:$DM_PF_SINK_PORT" 256 >"$DM_TMP/sink.log" 2>&1 &
	DM_PF_SINK_PID=$!
	dm_atexit "dm_stop_pid $DM_PF_SINK_PID"
	dm_wait_for 50 dm_listening "$DM_PF_SINK_PORT" && return 0
	echo "# smtp-sink does not listen on $DM_PF_SINK_PORT"
	dm_diag "$DM_TMP/sink.log"
	return 1
}

dm_pf_start()
{
	DM_PF=$DM_TMP/postfix
	mkdir -p "$DM_PF/etc" "$DM_PF/queue" "$DM_PF/data"
	chown postfix "$DM_PF/data"
	dm__listeners=$1
	shift
	{
		cat <<EOF
# private test instance written by $DM_NAME
compatibility_level = 3.6
queue_directory = $DM_PF/queue
data_directory = $DM_PF/data
command_directory = /usr/sbin
daemon_directory = /usr/lib/postfix/sbin
mail_owner = postfix
setgid_group = postdrop
myhostname = mx.dm-e2e.test
mydomain = dm-e2e.test
myorigin = \$myhostname
mydestination =
relay_domains = sink.test
local_recipient_maps =
alias_maps =
alias_database =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject
smtpd_peername_lookup = no
transport_maps = inline:{sink.test=smtp:[127.0.0.1]:$DM_PF_SINK_PORT}
default_transport = error:5.1.2 only sink.test is delivered here
local_transport = error:5.1.1 no local delivery
maillog_file = $DM_PF/maillog
maillog_file_prefixes = $DM_TMP
smtputf8_enable = no
biff = no
smtpd_milters =
non_smtpd_milters =
milter_default_action = tempfail
milter_connect_timeout = 5s
milter_command_timeout = 10s
smtp_connect_timeout = 5s
EOF
		for dm__x in "$@"; do
			echo "$dm__x"
		done
	} >"$DM_PF/etc/main.cf"
	# chroot off so that unix: milter paths are absolute; or, with
	# DM_PF_CHROOT=y, on where Debian's master.cf has it (the caller's
	# LISTENERS say so for smtpd themselves), with the files Debian's
	# postfix copies into the queue directory for chrooted services.
	dm__c=n
	if [ "${DM_PF_CHROOT:-n}" = y ]; then
		dm__c=y
		mkdir -p "$DM_PF/queue/etc"
		for dm__x in localtime services resolv.conf hosts host.conf \
		    nsswitch.conf; do
			if [ -f "/etc/$dm__x" ]; then
				cp -pL "/etc/$dm__x" "$DM_PF/queue/etc/$dm__x"
			fi
		done
	fi
	{
		printf '%s\n' "$dm__listeners"
		cat <<EOF
pickup    unix  n       -       $dm__c 60      1       pickup
cleanup   unix  n       -       $dm__c -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       $dm__c 1000?   1       tlsmgr
rewrite   unix  -       -       $dm__c -       -       trivial-rewrite
bounce    unix  -       -       $dm__c -       0       bounce
defer     unix  -       -       $dm__c -       0       bounce
trace     unix  -       -       $dm__c -       0       bounce
verify    unix  -       -       $dm__c -       1       verify
flush     unix  n       -       $dm__c 1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       $dm__c -       -       smtp
relay     unix  -       -       $dm__c -       -       smtp
showq     unix  n       -       $dm__c -       -       showq
error     unix  -       -       $dm__c -       -       error
retry     unix  -       -       $dm__c -       -       error
discard   unix  -       -       $dm__c -       -       discard
anvil     unix  -       -       $dm__c -       1       anvil
scache    unix  -       -       $dm__c -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
EOF
	} >"$DM_PF/etc/master.cf"
	# Registered before the start, so a script killed half-way through
	# it still stops the instance.
	dm_atexit dm_pf_stop
	if ! "$POSTFIX" -c "$DM_PF/etc" start >"$DM_TMP/postfix-start.log" 2>&1; then
		echo "# the private postfix instance does not start"
		dm_diag "$DM_TMP/postfix-start.log"
		dm_diag "$DM_PF/maillog"
		return 1
	fi
	return 0
}

dm_pf_stop()
{
	"$POSTFIX" -c "$DM_PF/etc" stop >/dev/null 2>&1
	dm__pid=$(tr -d ' ' <"$DM_PF/queue/pid/master.pid" 2>/dev/null)
	[ -n "$dm__pid" ] || return 0
	dm_wait_for 50 dm_dead "$dm__pid" && return 0
	kill -TERM "$dm__pid"
	dm_wait_for 50 dm_dead "$dm__pid"
}

dm_pf_send()
{
	dm__name=$1 dm__port=$2
	shift 2
	"$SWAKS" --server "127.0.0.1:$dm__port" --timeout 15 \
	    --to "rcpt.$dm__name@sink.test" \
	    --header "Subject: dm-e2e $dm__name" "$@" \
	    >"$DM_TMP/swaks.$dm__name" 2>&1
	DM_PF_RC=$?
}

dm_pf_sink_has()
{
	grep -q -x -F "Subject: dm-e2e $1" "$DM_TMP"/sink/* 2>/dev/null
}

# The sink file holding NAME (waits for it).
dm__pf_delivered()
{
	dm_wait_for 100 dm_pf_sink_has "$1" || return 1
	grep -l -x -F "Subject: dm-e2e $1" "$DM_TMP"/sink/* 2>/dev/null |
	    head -n 1
}

dm_pf_expect_delivered()
{
	DM_PF_FILE=
	if [ "$DM_PF_RC" -ne 0 ]; then
		dm_notok "$1: accepted (swaks exit $DM_PF_RC)"
		sed 's/^/#   /' "$DM_TMP/swaks.$1" | tail -n 8
		return 1
	fi
	DM_PF_FILE=$(dm__pf_delivered "$1")
	if [ -n "$DM_PF_FILE" ]; then
		dm_ok "$1: accepted and delivered"
		return 0
	fi
	dm_notok "$1: delivered to the sink"
	dm_diag "$DM_PF/maillog" 8
	return 1
}

dm_pf_expect_refused()
{
	if [ "$DM_PF_RC" -eq "$2" ] && grep -q -E "$3" "$DM_TMP/swaks.$1"; then
		dm_ok "$1: refused, swaks exit $2, reply /$3/"
	else
		dm_notok "$1: refused, swaks exit $2 (got $DM_PF_RC), reply /$3/"
		sed 's/^/#   /' "$DM_TMP/swaks.$1" |
		    grep -E '^#   <[*~]* *[0-9]' | tail -n 4
	fi
}

dm_pf_header_lines()
{
	# The header block only: the dump ends it at the first empty line.
	sed -n '/^$/q;p' "$2" | grep -i -c "^$1:"
}

dm_pf_queue_id()
{
	sed -n 's/.*(Postfix) with E*SMTP id \([0-9A-Za-z]*\).*/\1/p' "$1" |
	    head -n 1
}
