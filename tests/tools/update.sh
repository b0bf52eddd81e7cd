#!/bin/sh
# update.sh - disposable-ctl update against an HTTPS server of the test's
# own (tests/support/httpd.py on 127.0.0.1, a certificate from a CA made
# here, UpdateCAFile pointing at it) and a file:// mirror:
#   - a first fetch builds the database with the new entries; a second
#     run sends the validators back and is told 304;
#   - a poisoned update (an allowlisted domain, a public suffix, shared
#     infrastructure, a never-block domain) quarantines those four and
#     adds the one genuinely new domain;
#   - a list shrunk by 90% or grown tenfold, an HTML page, a transfer cut
#     half-way, a list of addresses and an HTTP error are refused, exit 1,
#     the last good copy and the database unchanged (sha256); --force
#     accepts the shrink;
#   - every source unreachable: exit 75, one "offline" line, nothing
#     changed; --dry-run writes nothing; a bad configuration exits 2;
#     a build that fails puts the old copy back and exits 2;
#   - with the daemon running: verdicts are the same before and after a
#     refused update, and an accepted one reloads it (SIGUSR1, same pid).
# Needs python3 and openssl; the daemon part needs miltertest.

# Functions called through dm_check look unreachable to shellcheck:
# shellcheck disable=SC2317
. "${DM_SRCDIR:-$(dirname "$0")/../..}/tests/support/common.sh"
dm_require_built
command -v python3 >/dev/null 2>&1 || dm_skip "python3 not installed"
command -v openssl >/dev/null 2>&1 || dm_skip "openssl not installed"
dm_init update
T=$DM_TMP
W=$T/www		# what the server serves
S=$T/sources		# SourceDir
mkdir -p "$W" "$T/mirror"

# --- a CA, a certificate for 127.0.0.1, the server -----------------------
(
	cd "$T" &&
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
	    -nodes -keyout ca.key -out ca.pem -days 2 -subj /CN=dm-test-ca &&
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
	    -nodes -keyout srv.key -out srv.csr -subj /CN=127.0.0.1 &&
	printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n' >srv.ext &&
	openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key \
	    -CAcreateserial -out srv.pem -days 2 -extfile srv.ext
) >"$T/openssl.log" 2>&1 ||
    { dm_notok "test CA and certificate"; dm_diag "$T/openssl.log"; dm_finish; }
python3 "$DM_SRCDIR/tests/support/httpd.py" "$W" "$T/srv.pem" "$T/srv.key" \
    "$T/port" "$T/requests.log" 120 >"$T/httpd.out" 2>&1 &
HTTPD=$!
dm_atexit "kill $HTTPD; wait $HTTPD"
dm_wait_for 100 test -s "$T/port" ||
    { dm_notok "HTTPS server starts"; dm_diag "$T/httpd.out"; dm_finish; }
PORT=$(cat "$T/port")
URL=https://127.0.0.1:$PORT
dm_pick_port
CLOSED=$DM_PORT		# nothing listens there

# --- lists and configuration ---------------------------------------------
dm_write_lists "$T/lists"
echo gmail.com >>"$T/lists/allow.txt"
echo 'mx *.improvmx.com' >"$T/lists/infra.txt"
printf '# the admin says never\nprotected.test\n' >"$T/never.txt"
"$DM_CTL" genkey "$T/hash.key" >/dev/null || exit 1
burners() { i=1; while [ $i -le "$1" ]; do printf 'burner%02d.test\n' $i; i=$((i + 1)); done; }
burners 20 >"$W/remote.txt"
printf 'mirror1.test\nmirror2.test\n' >"$T/mirror/mirror.txt"
# conf FILE REMOTE-URL [MIRROR]: the remote source (curated, so that one
# source decides a verdict) and, unless MIRROR is "none", the mirror.
conf()
{
	dm_write_conf "$1" "$T/lists" "$T/lists.db" "$T/hash.key" \
	    "Socket unix:$T/m.sock" "PidFile $T/m.pid" "SourceDir $S" \
	    "Infrastructure test-infra $T/lists/infra.txt" \
	    "List disposable remote $2 curated" \
	    "UpdateNeverBlock $T/never.txt" "UpdateCAFile $T/ca.pem" \
	    "UpdateTimeout 10"
	[ "${3:-}" = none ] ||
	    echo "List disposable mirror file://$T/mirror/mirror.txt" >>"$1"
}
conf "$T/u.conf" "$URL/files/remote.txt"
# up [CONF] ARGS...: run update, its output in $T/out, its status in RC.
up()
{
	c=$T/u.conf
	case ${1:-} in *.conf) c=$1; shift ;; esac
	"$DM_CTL" -c "$c" update "$@" >"$T/out" 2>"$T/err"
	RC=$?
}
has() { grep -q -F -e "$1" "$T/out"; }
lookup() { "$DM_CTL" -c "$T/u.conf" lookup --no-dns "$@" 2>&1; }
sums() { sha256sum "$T/lists.db" "$S/remote.list" "$S/remote.state" 2>&1; }
copysums() { sha256sum "$T/lists.db" "$S/remote.list" "$S/mirror.list" 2>&1; }
show() { dm_diag "$T/out"; dm_diag "$T/err"; }

# --- a first fetch --------------------------------------------------------
up
dm_check "first fetch: exit 0 ($RC)" test "$RC" -eq 0 || show
dm_check "first fetch: no database yet, built first" has "no database yet: built first"
dm_check "first fetch: remote updated, 20 entries" \
    has "remote: updated, 20 entries (+20 -0), 0 quarantined (0 allowlisted, 0 infrastructure, 0 public suffix, 0 never-block, 0 invalid)"
dm_check "first fetch: the file:// mirror updated, 2 entries" \
    has "mirror: updated, 2 entries (+2 -0)"
dm_check "first fetch: the database rebuilt with them" \
    grep -Eq "^ +source remote +disposable +domains +curated +20$" "$T/out"
dm_check "first fetch: lookup names the source" \
    sh -c "\"$DM_CTL\" -c '$T/u.conf' lookup --no-dns burner07.test | grep -q 'sources: *remote (disposable, curated)'"
dm_check "first fetch: the mirror's entries are in the database" \
    sh -c "\"$DM_CTL\" -c '$T/u.conf' lookup --no-dns mirror2.test | grep -q 'sources: *mirror'"
dm_check "first fetch: no daemon running is a note" has "note: $T/m.pid:"
dm_check "first fetch: the state has the ETag" grep -q '^etag "' "$S/remote.state"
dm_check "first fetch: SourceDir created 0755" test "$(stat -c %a "$S")" = 755

# --- unchanged ------------------------------------------------------------
before=$(copysums)
up
dm_check "second run: exit 0 ($RC)" test "$RC" -eq 0 || show
dm_check "second run: remote unchanged (304)" has "remote: unchanged (304)"
dm_check "second run: mirror unchanged (same content)" has "mirror: unchanged (same content)"
dm_check "second run: If-None-Match was sent" \
    sh -c "tail -n 1 '$T/requests.log' | grep -q 'if-none-match=\"[0-9a-f]*\" .*status=304'"
dm_check "second run: no rebuild, the database and the copies unchanged" \
    sh -c "! grep -q 'source remote' '$T/out' && test \"$before\" = \"$(copysums)\""

# --- a poisoned update ----------------------------------------------------
{ burners 20; printf 'gmail.com\nco.uk\nimprovmx.com\nmx.protected.test\nnewburner.test\n'; } >"$W/remote.txt"
up
dm_check "poisoned: exit 0 ($RC)" test "$RC" -eq 0 || show
dm_check "poisoned: four quarantined, one added" \
    has "remote: updated, 21 entries (+1 -0), 4 quarantined (1 allowlisted, 1 infrastructure, 1 public suffix, 1 never-block, 0 invalid)"
Q=$S/remote.quarantine
dm_check "poisoned: quarantine file names each with its reason" sh -c "
    grep -q '^gmail.com	allowlisted	allow entry gmail.com$' '$Q' &&
    grep -q '^co.uk	public suffix	' '$Q' &&
    grep -q '^improvmx.com	infrastructure	mx \*.improvmx.com$' '$Q' &&
    grep -q '^mx.protected.test	never-block	protected.test$' '$Q' &&
    test \$(wc -l <'$Q') -eq 4"
dm_check "poisoned: none of them in the accepted copy" \
    sh -c "! grep -Eq '^(gmail.com|co.uk|improvmx.com|mx.protected.test)$' '$S/remote.list'"
lookup gmail.com >"$T/l1"
dm_check "poisoned: gmail.com is still allowed" grep -q "category: *allowed" "$T/l1"
lookup improvmx.com mx.protected.test >"$T/l2"
dm_check "poisoned: improvmx.com and mx.protected.test not listed by it" \
    sh -c "! grep -q remote '$T/l2' && test \$(grep -c 'category: *clean' '$T/l2') -eq 2"
lookup newburner.test >"$T/l3"
dm_check "poisoned: the new domain is listed" grep -q "sources: *remote" "$T/l3"

# --- refusals: each keeps the copy and the database -----------------------
# refused DESC EXPECTED-LINE [CONF] [ARGS]: exit 1, the line, nothing changed.
refused()
{
	d=$1 line=$2
	shift 2
	before=$(sums)
	up "$@"
	dm_check "$d: exit 1 ($RC)" test "$RC" -eq 1 || show
	dm_check "$d: says so" has "$line" || show
	dm_check "$d: database, copy and state unchanged" test "$(sums)" = "$before"
}
burners 2 >"$W/remote.txt"
refused "shrink by 90%" \
    "remote: refused: shrinks by 90% (21 -> 2 entries; --force accepts it); last good copy kept"
up --force
dm_check "shrink with --force: exit 0 ($RC)" test "$RC" -eq 0 || show
dm_check "shrink with --force: accepted, and says it was forced" \
    has "remote: updated, 2 entries (+0 -19), 0 quarantined (0 allowlisted, 0 infrastructure, 0 public suffix, 0 never-block, 0 invalid); accepted with --force: shrinks by 90% (21 -> 2 entries)"
dm_check "shrink with --force: the database has 2 of them" \
    grep -Eq "^ +source remote +disposable +domains +curated +2$" "$T/out"
burners 20 >"$W/remote.txt"
refused "tenfold growth" \
    "remote: refused: grows by 900% (2 -> 20 entries; --force accepts it); last good copy kept"
conf "$T/html.conf" "$URL/html"
refused "an HTML page" \
    "remote: refused: a web page, not a list (Content-Type text/html; charset=utf-8); last good copy kept" \
    "$T/html.conf"
printf '<html><body>burner01.test</body></html>\n' >"$W/page.txt"
conf "$T/page.conf" "$URL/files/page.txt"
refused "a body starting with '<' (text/plain)" \
    "remote: refused: a web page, not a list (the body starts with '<'); last good copy kept" \
    "$T/page.conf"
burners 2 >"$W/remote.txt"
conf "$T/cut.conf" "$URL/cut/remote.txt"
refused "cut mid-transfer" "remote: failed: $URL/cut/remote.txt: cut mid-transfer: " "$T/cut.conf"
i=0; while [ $i -lt 20 ]; do echo "xqzuser$i@example.org"; i=$((i + 1)); done >"$W/addresses.txt"
conf "$T/addr.conf" "$URL/files/addresses.txt"
refused "a list of addresses" \
    "remote: refused: not a domain list: 20 of its 20 entry lines are not domain entries (more than 10%); last good copy kept" \
    "$T/addr.conf"
dm_check "a list of addresses: no address in the output" \
    dm_no_raw_in "$T/out" "$T/err" "$S" -- xqzuser
conf "$T/404.conf" "$URL/files/nonexistent.txt"
refused "HTTP 404" "remote: failed: $URL/files/nonexistent.txt: HTTP 404; last good copy kept" "$T/404.conf"

# --- offline ----------------------------------------------------------------
conf "$T/off.conf" "https://127.0.0.1:$CLOSED/files/remote.txt" none
before=$(sums)
up "$T/off.conf"
dm_check "unreachable: exit 75 ($RC)" test "$RC" -eq 75 || show
dm_check "unreachable: exactly one line, the offline one" sh -c "
    test \$(wc -l <'$T/out') -eq 1 && test ! -s '$T/err' &&
    grep -q '^offline: no remote source could be reached (first error: remote: https://127.0.0.1:$CLOSED/files/remote.txt: .*); the lists are as they were$' '$T/out'" ||
    show
dm_check "unreachable: nothing changed" test "$(sums)" = "$before"
# A first run offline makes nothing either: no SourceDir, no database.
sed -e "s|^Database .*|Database $T/fresh.db|" -e "s|^SourceDir .*|SourceDir $T/fresh|" \
    "$T/off.conf" >"$T/off2.conf"
up "$T/off2.conf"
dm_check "unreachable on a first run: exit 75, one line ($RC)" \
    sh -c "test $RC -eq 75 && test \$(wc -l <'$T/out') -eq 1 && test ! -s '$T/err'" || show
dm_check "unreachable on a first run: no SourceDir, no database made" \
    sh -c "test ! -e '$T/fresh' && test ! -e '$T/fresh.db'"

# --- dry run, --source, configuration errors --------------------------------
printf 'mirror1.test\nmirror2.test\nmirror3.test\n' >"$T/mirror/mirror.txt"
msum=$(sha256sum "$S/mirror.list" "$S/mirror.state")
before=$(sums)
up --dry-run --source mirror
dm_check "dry run: reports the update" has "mirror: updated, 3 entries (+1 -0)"
dm_check "dry run: and that nothing was written" has "dry run: nothing written"
dm_check "dry run: nothing written" sh -c "
    test \"\$(sha256sum '$S/mirror.list' '$S/mirror.state')\" = \"$msum\" &&
    test \"\$(sha256sum '$T/lists.db')\" = \"$(sha256sum "$T/lists.db")\""
n=$(wc -l <"$T/requests.log")
up --source mirror
dm_check "--source mirror: exit 0, mirror updated ($RC)" \
    sh -c "test $RC -eq 0 && grep -q 'mirror: updated, 3 entries (+1 -0)' '$T/out' && ! grep -q '^remote:' '$T/out'"
dm_check "--source mirror: the server was not asked" test "$(wc -l <"$T/requests.log")" -eq "$n"
up --source nosuch
dm_check "--source naming no remote source: exit 2 ($RC)" \
    sh -c "test $RC -eq 2 && grep -q 'nosuch: no such source' '$T/err'"
sed 's|^UpdateNeverBlock .*|UpdateNeverBlock '"$T"'/missing.txt|' "$T/u.conf" >"$T/bad.conf"
up "$T/bad.conf"
dm_check "a missing never-block file: exit 2, named ($RC)" \
    sh -c "test $RC -eq 2 && grep -q '$T/missing.txt: No such file' '$T/err'"
up --bogus
dm_check "an unknown option: exit 2 ($RC)" test "$RC" -eq 2
sed 's|^UpdateTimeout .*|UpdateMaxShrink 101|' "$T/u.conf" >"$T/bad2.conf"
up "$T/bad2.conf"
dm_check "a bad value in the configuration: exit 2, file and line ($RC)" \
    sh -c "test $RC -eq 2 && grep -q 'bad2.conf:[0-9]*: bad value for UpdateMaxShrink' '$T/err'"
# A build that fails (a curated list the admin broke) keeps nothing: the
# accepted copy goes back to the last good one, the database stays.
printf 'mirror1.test\nmirror2.test\nmirror3.test\nmirror4.test\n' >"$T/mirror/mirror.txt"
cp "$T/lists/disposable.txt" "$T/disposable.good"
echo co.uk >>"$T/lists/disposable.txt"
before=$(sha256sum "$T/lists.db" "$S/mirror.list" "$S/mirror.state")
up --source mirror
dm_check "a failed build: exit 2 ($RC)" test "$RC" -eq 2 || show
dm_check "a failed build: says the copies and the database are as they were" \
    grep -q "the build failed: the last good copies and the database are as they were" "$T/err"
dm_check "a failed build: copy, state and database unchanged" \
    test "$(sha256sum "$T/lists.db" "$S/mirror.list" "$S/mirror.state")" = "$before"
cp "$T/disposable.good" "$T/lists/disposable.txt"
up --source mirror
dm_check "after the fix: the same update goes through ($RC)" \
    sh -c "test $RC -eq 0 && grep -q 'mirror: updated, 4 entries (+1 -0)' '$T/out'"
dm_check "no temporary or .prev file left in SourceDir" \
    sh -c "test -z \"\$(ls '$S' | grep -Ev '^(remote|mirror)\.(list|state|quarantine)$')\""

# --- with the daemon running ------------------------------------------------
MILTERTEST=${MILTERTEST:-$(command -v miltertest)}
if [ -z "$MILTERTEST" ] || [ ! -x "$MILTERTEST" ]; then
	dm_finish
fi
printf 'xqzv1@burner01.test\nxqzv2@burner02.test\nxqzv3@gmail.com\nxqzv4@mirror4.test\nxqzv5@example.org\n' >"$T/addrs"
# verdicts LOG: the action and category of each message, in order.
verdicts()
{
	"$MILTERTEST" -s "$DM_SRCDIR/tests/tools/identity.lua" \
	    -D libdir="$DM_SRCDIR/tests/protocol" -D socket="unix:$T/m.sock" \
	    -D addrfile="$T/addrs" >"$T/lua.out" 2>&1
	dm_wait_for 50 grep -q "qid=PI05 " "$T/m.log"
	for q in 1 2 3 4 5; do
		grep "qid=PI0$q " "$T/m.log" | tail -n 1 |
		    sed 's/.*\(action=[a-z]*\) \(category=[a-z]*\).*/\1 \2/'
	done
	: >"$T/m.log"
}
dm_milter_start "$T/u.conf" "$T/m.log" "unix:$T/m.sock" ||
    { dm_notok "daemon starts"; dm_finish; }
PID=$DM_PID
dm_wait_for 50 test -s "$T/m.pid"
v1=$(verdicts)
echo "# verdicts: $(echo "$v1" | tr "\n" " ")"
dm_check "daemon: burner01.test rejected, gmail.com allowed" sh -c "
    echo '$v1' | sed -n 1p | grep -q 'action=reject category=disposable' &&
    echo '$v1' | sed -n 3p | grep -q 'category=allowed'"
burners 20 >"$W/remote.txt"
refused "daemon: tenfold growth" "remote: refused: grows by 900% (2 -> 20 entries; --force accepts it)"
dm_check "daemon: not signalled after a refused update" \
    sh -c "! grep -q 'told to reload' '$T/out' && ! grep -q reload '$T/m.log'"
v2=$(verdicts)
dm_check "daemon: verdicts the same after the refused update" test "$v1" = "$v2"
burners 2 >"$W/remote.txt"
echo burner03.test >>"$W/remote.txt"
up
dm_check "daemon: an accepted update signals it" \
    sh -c "test $RC -eq 0 && grep -q 'daemon (pid $PID) told to reload (SIGUSR1)' '$T/out'" || show
dm_wait_for 50 grep -q "reload" "$T/m.log"
dm_check "daemon: it reloaded and kept running (same pid)" \
    sh -c "grep -q reload '$T/m.log' && kill -0 $PID"
dm_finish
