# shellcheck shell=sh
# scenarios.sh - run the end-to-end cases of a scenario file (the format
# is described at the top of tests/e2e/scenarios) through one MTA.
#
# Sourced after common.sh and postfix.sh (whose swaks and smtp-sink
# helpers send and find the messages) by tests/e2e/postfix.sh and
# tests/e2e/sendmail.sh.  Plain POSIX sh (dash).
#
#   dm_sc_mta MTA QUEUE-ID-FUNCTION [ADDRESS-PREFIX]
#	The MTA the cases go through, by the name "mta" lines use
#	(postfix, sendmail); the function that prints the queue id it
#	gave a delivered copy (FILE); and the extended regular
#	expression it writes before the milter's text when it refuses
#	MAIL FROM or RCPT TO (Sendmail: "<addr>... "; Postfix: none).
#
#   dm_sc_listener NAME PORT [MILTER-LOG]
#	Cases "via NAME" are sent to 127.0.0.1:PORT; MILTER-LOG is the
#	log of the milter behind it (needed by "logged").
#
#   dm_sc_run FILE LISTENER...
#	Run, in file order, every case of FILE for this MTA that goes
#	via one of the LISTENERs: one message and its checks each (see
#	the file's top for what each expectation checks).  A malformed
#	case, a case via a listener not set up, and a case name used
#	twice are "not ok".  Adds every address a case sent (envelope
#	sender and header fields) to DM_SC_SENT, one a line, for the
#	privacy scan.

DM_SC_SENT=
DM_SC__TAG=X-Disposable-Sender

dm_sc_mta()
{
	DM_SC__MTA=$1 DM_SC__QUEUE_ID=$2 DM_SC__ADDR_PREFIX=${3-}
}

dm_sc_listener()
{
	case $1 in
	*[!a-z0-9_]*|'') echo "Bail out! bad listener name '$1'"; exit 99 ;;
	esac
	eval "DM_SC__PORT_$1=\$2 DM_SC__LOG_$1=\${3-}"
}

dm_sc_run()
{
	dm_sc__file=$1
	shift
	dm_sc__want=" $* "
	dm_sc__lineno=0
	DM_SC__NAMES=
	dm_sc__clear
	# fd 3: the commands a case runs keep the script's stdin.
	while IFS= read -r dm_sc__line <&3 || [ -n "$dm_sc__line" ]; do
		dm_sc__lineno=$((dm_sc__lineno + 1))
		# The key, and the rest with the blanks around it removed.
		read -r dm_sc__key dm_sc__val <<EOF
$dm_sc__line
EOF
		case $dm_sc__key in
		'#'*|'')
			[ -n "$dm_sc__key" ] || dm_sc__end
			continue ;;
		case)
			dm_sc__end
			dm_sc__name=$dm_sc__val ;;
		*)
			if [ -z "$dm_sc__name" ]; then
				dm_notok "$dm_sc__file:$dm_sc__lineno: '$dm_sc__key' outside a case"
				continue
			fi ;;
		esac
		case $dm_sc__key in
		case) ;;
		mta)	dm_sc__mtas=$dm_sc__val ;;
		via)	dm_sc__via=$dm_sc__val ;;
		from)	dm_sc__from=$dm_sc__val ;;
		header)	dm_sc__headers="$dm_sc__headers$dm_sc__val
" ;;
		expect)	dm_sc__expect=$dm_sc__val ;;
		kept)	dm_sc__kept="$dm_sc__kept$dm_sc__val
" ;;
		logged)	dm_sc__logged=$dm_sc__val ;;
		*)	dm_sc__bad="$dm_sc__bad unknown key '$dm_sc__key'"
			dm_sc__bad="$dm_sc__bad (line $dm_sc__lineno);" ;;
		esac
	done 3<"$dm_sc__file"
	dm_sc__end
}

dm_sc__clear()
{
	dm_sc__name='' dm_sc__mtas='' dm_sc__via='' dm_sc__from=''
	dm_sc__headers='' dm_sc__expect='' dm_sc__kept='' dm_sc__logged=''
	dm_sc__bad=''
}

# The case read so far, if any: checked when it is for this MTA, run when
# it also goes via one of the listeners asked for; then forgotten.
dm_sc__end()
{
	dm_sc__n=$dm_sc__name
	if [ -n "$dm_sc__n" ] && dm_sc__for_this_mta; then
		dm_sc__validate
		if [ -n "$dm_sc__bad" ]; then
			dm_notok "$dm_sc__n: case well-formed:$dm_sc__bad"
		else
			case $dm_sc__want in
			*" $dm_sc__via "*) dm_sc__case ;;
			esac
		fi
	fi
	dm_sc__clear
}

dm_sc__for_this_mta()
{
	[ -z "$dm_sc__mtas" ] && return 0
	case " $dm_sc__mtas " in
	*" $DM_SC__MTA "*) return 0 ;;
	esac
	return 1
}

# Adds what is wrong with the case to dm_sc__bad; splits the expectation
# into dm_sc__kind and dm_sc__rest.
dm_sc__validate()
{
	case " $DM_SC__NAMES " in
	*" $dm_sc__n "*) dm_sc__bad="$dm_sc__bad name used twice;" ;;
	esac
	DM_SC__NAMES="$DM_SC__NAMES $dm_sc__n"
	case $dm_sc__via in
	*[!a-z0-9_]*|'') dm_sc__bad="$dm_sc__bad no listener ('via');" ;;
	esac
	read -r dm_sc__kind dm_sc__rest <<EOF
$dm_sc__expect
EOF
	case $dm_sc__kind in
	refused)
		# EXIT CODE ENHANCED at least
		case $dm_sc__rest in
		*[!\ ]*\ *[!\ ]*\ *[!\ ]*) ;;
		*) dm_sc__bad="$dm_sc__bad 'refused' without an exit code and a reply;" ;;
		esac
		[ -z "$dm_sc__kept$dm_sc__logged" ] ||
		    dm_sc__bad="$dm_sc__bad 'kept' or 'logged' on a refused message;"
		;;
	tagged)
		[ -n "$dm_sc__rest" ] ||
		    dm_sc__bad="$dm_sc__bad 'tagged' without a value;" ;;
	delivered|untagged) ;;
	'') dm_sc__bad="$dm_sc__bad no 'expect';" ;;
	*) dm_sc__bad="$dm_sc__bad unknown expectation '$dm_sc__kind';" ;;
	esac
}

dm_sc__case()
{
	eval "dm_sc__port=\${DM_SC__PORT_$dm_sc__via-}"
	eval "dm_sc__log=\${DM_SC__LOG_$dm_sc__via-}"
	if [ -z "$dm_sc__port" ]; then
		dm_notok "$dm_sc__n: listener '$dm_sc__via' set up for $DM_SC__MTA"
		return
	fi

	# The message: the envelope sender, then each header line, its
	# {N*TEXT} written out.
	set --
	[ -n "$dm_sc__from" ] && set -- --from "$dm_sc__from"
	dm_sc__sent=$dm_sc__from
	while IFS= read -r dm_sc__h; do
		[ -n "$dm_sc__h" ] || continue
		dm_sc__h=$(dm_sc__expand "$dm_sc__h")
		set -- "$@" --header "$dm_sc__h"
		dm_sc__sent="$dm_sc__sent
$dm_sc__h"
	done <<EOF
$dm_sc__headers
EOF
	DM_SC_SENT="$DM_SC_SENT$(printf '%s\n' "$dm_sc__sent" |
	    grep -o -E '[^][[:space:]<>(),;:"]+@[^][[:space:]<>(),;:"]+' |
	    sort -u)
"
	dm_pf_send "$dm_sc__n" "$dm_sc__port" "$@"

	# What must become of it.
	if [ "$dm_sc__kind" = refused ]; then
		dm_sc__refused
		return
	fi
	dm_pf_expect_delivered "$dm_sc__n" || return
	case $dm_sc__kind in
	tagged)
		if grep -q -x -F "$DM_SC__TAG: $dm_sc__rest" "$DM_PF_FILE"; then
			dm_ok "$dm_sc__n: tagged '$dm_sc__rest'"
		else
			dm_notok "$dm_sc__n: tagged '$dm_sc__rest'"
			grep -i "^$DM_SC__TAG:" "$DM_PF_FILE" | sed 's/^/#   got /'
		fi
		dm_check "$dm_sc__n: exactly one $DM_SC__TAG header" \
		    test "$(dm_pf_header_lines "$DM_SC__TAG" "$DM_PF_FILE")" -eq 1
		;;
	untagged)
		dm_check "$dm_sc__n: no $DM_SC__TAG header" \
		    test "$(dm_pf_header_lines "$DM_SC__TAG" "$DM_PF_FILE")" -eq 0
		;;
	esac
	while IFS= read -r dm_sc__h; do
		[ -n "$dm_sc__h" ] || continue
		dm_check "$dm_sc__n: header line kept as sent: '$dm_sc__h'" \
		    grep -q -x -F "$dm_sc__h" "$DM_PF_FILE"
	done <<EOF
$dm_sc__kept
EOF
	[ -n "$dm_sc__logged" ] && dm_sc__logged
	return 0
}

# "refused EXIT CODE ENHANCED [TEXT]": the expectation's words after
# "refused" are in dm_sc__rest.
dm_sc__refused()
{
	read -r dm_sc__exit dm_sc__code dm_sc__enh dm_sc__text <<EOF
$dm_sc__rest
EOF
	dm_sc__re="^<\*\* +$(dm_sc__code_re "$dm_sc__code")"
	dm_sc__re="$dm_sc__re $(dm_sc__code_re "$dm_sc__enh")"
	if [ -n "$dm_sc__text" ]; then
		case $dm_sc__exit in
		23|24) dm_sc__re="$dm_sc__re $DM_SC__ADDR_PREFIX" ;;
		*) dm_sc__re="$dm_sc__re " ;;
		esac
		dm_sc__re="$dm_sc__re$(printf '%s' "$dm_sc__text" |
		    sed 's/[][\.*^$+?(){}|/]/\\&/g')"
	fi
	dm_pf_expect_refused "$dm_sc__n" "$dm_sc__exit" "$dm_sc__re"
	if dm_pf_sink_has "$dm_sc__n"; then
		dm_notok "$dm_sc__n: nothing delivered"
	else
		dm_ok "$dm_sc__n: nothing delivered"
	fi
}

# A header line with each {N*TEXT} written out: N folded lines, each a
# space and TEXT, with %n in TEXT the line's number (1 to N).
dm_sc__expand()
{
	case $1 in
	*\{[0-9]*\**\}*) ;;
	*) printf '%s' "$1"; return ;;
	esac
	printf '%s\n' "$1" | awk '{
		s = $0; out = ""
		while (match(s, /\{[0-9]+\*[^}]*\}/)) {
			out = out substr(s, 1, RSTART - 1)
			spec = substr(s, RSTART + 1, RLENGTH - 2)
			star = index(spec, "*")
			n = substr(spec, 1, star - 1) + 0
			text = substr(spec, star + 1)
			for (i = 1; i <= n; i++) {
				t = text
				gsub(/%n/, i, t)
				out = out "\n " t
			}
			s = substr(s, RSTART + RLENGTH)
		}
		printf "%s", out s
	}'
}

# A reply code as a regular expression: x is any digit.
dm_sc__code_re()
{
	printf '%s' "$1" | sed 's/\./\\./g; s/x/[0-9]/g'
}

# The delivered copy's queue id, and the milter's line under it.
dm_sc__logged()
{
	dm_sc__qid=$("$DM_SC__QUEUE_ID" "$DM_PF_FILE")
	dm_sc__q=${dm_sc__qid:-none}
	dm_check "$dm_sc__n: the copy names the $DM_SC__MTA queue id ($dm_sc__q)" \
	    test -n "$dm_sc__qid"
	if [ -z "$dm_sc__log" ]; then
		dm_notok "$dm_sc__n: a milter log for listener '$dm_sc__via'"
		return
	fi
	# The milter writes the line before it replies: it is there by now,
	# and the short wait costs nothing when it is.
	dm_sc__what="milter log line carries the $DM_SC__MTA queue id"
	if dm_wait_for 30 grep -q -E "qid=$dm_sc__q $dm_sc__logged" \
	    "$dm_sc__log"; then
		dm_ok "$dm_sc__n: $dm_sc__what ($dm_sc__q)"
	else
		dm_notok "$dm_sc__n: $dm_sc__what ($dm_sc__q)"
		echo "# no /qid=$dm_sc__q $dm_sc__logged/ in $dm_sc__log; its line:"
		echo "#   $(dm_decision_line "$dm_sc__log" "$dm_sc__q")"
	fi
}
