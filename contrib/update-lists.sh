#!/bin/sh
#
# update-lists.sh - fetch public disposable-domain lists, rebuild the
# disposable-milter database, and tell the running daemon to reload.
#
# Usage: update-lists.sh [-fhns] [-c conf] [-d dir] [-m min] [-p pidfile]
#
#   -c conf     configuration file passed to "disposable-ctl build"
#               (default /etc/disposable-milter/disposable-milter.conf)
#   -d dir      where fetched lists are kept
#               (default /var/lib/disposable-milter/lists)
#   -m min      fewest entries a fetched list must have (default 1000)
#   -p pidfile  the daemon's PidFile
#               (default /run/disposable-milter/disposable-milter.pid)
#   -s          reload with "systemctl reload disposable-milter" instead of
#               the pid file (for the contrib systemd unit, which runs the
#               daemon without a pid file)
#   -n          fetch and check only: no build, no reload
#   -f          accept a list that shrank to less than half its last size
#   -h          this help
#
# Each source below is fetched over HTTPS with curl into a temporary file
# beside its destination, checked (non-empty, at least min entries, only
# domain-like lines, not much smaller than the copy it replaces) and only
# then renamed over DIR/NAME.txt.  A source that fails keeps its previous
# copy.  Then "disposable-ctl -c CONF build" compiles every List named in
# the configuration; it writes a temporary database and renames it into
# place, so the daemon never sees a half-written one.  Finally the daemon
# gets SIGUSR1 (reload lists and configuration).
#
# The configuration must name the fetched files in List lines, e.g.
#   List disposable disposable-email-domains /var/lib/disposable-milter/lists/disposable-email-domains.txt
# next to the project's own lists (conf/lists/*.txt).
#
# Run it from cron or a systemd timer, as root or as the milter's user
# (who must own DIR and the database's directory), e.g. daily:
#   17 4 * * *  root  /usr/share/disposable-milter/update-lists.sh -s
#
# Exit status: 0 all sources fetched and the database rebuilt; 1 a source
# failed (the build then used its previous copy) or the build or the
# reload failed; 2 usage.
#
# NOT TESTED AGAINST THE REAL SOURCES: the machines that build and test
# disposable-milter have no network access, so no real download has ever
# run there.  The checks, the rename, the build and reload steps were
# exercised with a stand-in curl that copies a local list; the URLs and
# the upstream formats are unverified from here.

set -u

CONF=/etc/disposable-milter/disposable-milter.conf
DIR=/var/lib/disposable-milter/lists
PIDFILE=/run/disposable-milter/disposable-milter.pid
MIN=1000
USE_SYSTEMCTL=0
CHECK_ONLY=0
FORCE=0
CTL=${DISPOSABLE_CTL:-disposable-ctl}
UNIT=disposable-milter

# NAME URL, one source a line.  NAME becomes DIR/NAME.txt.  Only lists
# whose entries are all registrable domains belong here by default:
# "disposable-ctl build" refuses a list with a public suffix in it.
#
# disposable-email-domains/disposable-email-domains (CC0-1.0), used by
# PyPI; registrable domains only.
SOURCES='disposable-email-domains https://raw.githubusercontent.com/disposable-email-domains/disposable-email-domains/main/disposable_email_blocklist.conf'
# Larger aggregate lists carry a few public-suffix entries (the build
# refuses those); add them only once they build cleanly here, e.g.:
# disposable/disposable-email-domains (MIT)
#   disposable-disposable https://raw.githubusercontent.com/disposable/disposable-email-domains/master/domains.txt

PROG=${0##*/}

usage() {
	echo "usage: $PROG [-fhns] [-c conf] [-d dir] [-m min] [-p pidfile]" >&2
	exit 2
}

warn() {
	echo "$PROG: $*" >&2
}

while getopts c:d:fhm:np:s opt; do
	case $opt in
	c) CONF=$OPTARG ;;
	d) DIR=$OPTARG ;;
	f) FORCE=1 ;;
	m) MIN=$OPTARG ;;
	n) CHECK_ONLY=1 ;;
	p) PIDFILE=$OPTARG ;;
	s) USE_SYSTEMCTL=1 ;;
	h) sed -n '3,/^$/s/^# \{0,1\}//p' "$0"; exit 0 ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
[ $# -eq 0 ] || usage
case $MIN in
''|*[!0-9]*) warn "-m wants a number: $MIN"; usage ;;
esac

command -v curl >/dev/null 2>&1 || { warn "curl not found (apt-get install curl)"; exit 1; }
mkdir -p "$DIR" || exit 1

TMP=
cleanup() {
	if [ -n "$TMP" ]; then
		rm -f "$TMP"
	fi
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM

# entries FILE: the number of entry lines (not blank, not a comment).
entries() {
	grep -cv '^[[:space:]]*\(#.*\)\{0,1\}$' "$1"
}

# check NAME NEW OLD: is the freshly fetched NEW fit to replace OLD?
check() {
	if [ ! -s "$2" ]; then
		warn "$1: empty download"
		return 1
	fi
	# An error page or a redirect to HTML is not a list.
	bad=$(grep -v '^[[:space:]]*\(#.*\)\{0,1\}$' "$2" |
	    grep -cv '^[[:space:]]*[A-Za-z0-9][A-Za-z0-9.-]*[[:space:]]*\(#.*\)\{0,1\}$')
	if [ "$bad" -ne 0 ]; then
		warn "$1: $bad lines that are not domain names"
		return 1
	fi
	n=$(entries "$2")
	if [ "$n" -lt "$MIN" ]; then
		warn "$1: only $n entries (fewer than $MIN)"
		return 1
	fi
	if [ -f "$3" ] && [ "$FORCE" -eq 0 ]; then
		old=$(entries "$3")
		if [ $((n * 2)) -lt "$old" ]; then
			warn "$1: shrank from $old to $n entries; keeping the old copy (-f to accept)"
			return 1
		fi
	fi
	echo "$PROG: $1: $n entries"
	return 0
}

# fetch NAME URL: download into a temporary file, check it, rename it.
fetch() {
	dest=$DIR/$1.txt
	TMP=$(mktemp "$DIR/.$1.XXXXXX") || return 1
	if ! curl -fsSL --proto '=https' --proto-redir '=https' \
	    --max-time 300 --retry 2 --max-filesize 100000000 \
	    -o "$TMP" "$2"; then
		warn "$1: download failed: $2"
		return 1
	fi
	check "$1" "$TMP" "$dest" || return 1
	chmod 0644 "$TMP" && mv -f "$TMP" "$dest" || return 1
	TMP=
}

status=0
# A here-document, not a pipe, so that the loop runs in this shell and
# the trap sees TMP.
while read -r name url; do
	case $name in ''|'#'*) continue ;; esac
	if ! fetch "$name" "$url"; then
		status=1
		cleanup
		TMP=
	fi
done <<END
$SOURCES
END

[ "$CHECK_ONLY" -eq 1 ] && exit $status

if ! "$CTL" -c "$CONF" build; then
	warn "build failed; the previous database stays in use"
	exit 1
fi

if [ "$USE_SYSTEMCTL" -eq 1 ]; then
	systemctl reload "$UNIT" || status=1
elif [ -s "$PIDFILE" ]; then
	kill -USR1 "$(cat "$PIDFILE")" || status=1
else
	warn "no pid file $PIDFILE: reload the daemon yourself (kill -USR1, or -s)"
	status=1
fi
exit $status
