#!/bin/sh
# tests/tools/run.sh - disposable-ctl and the daemon's command line, as an
# admin meets them: what each command prints, its exit status, and its
# errors with file and line; bad input never leaves a partial database.
. "${DM_SRCDIR:-$(dirname "$0")/../..}/tests/support/common.sh"
dm_init tools
dm_require_built
T=$DM_TMP

dm_write_lists "$T/lists"
dm_write_conf "$T/t.conf" "$T/lists" "$T/lists.db" "$T/hash.key" \
    "Socket unix:$T/s.sock"
ctl() { "$DM_CTL" -c "$T/t.conf" "$@"; }

# genkey: mode 0600, never overwrites.
ctl genkey >"$T/out" 2>&1
dm_check "genkey writes the key file" test -s "$T/hash.key"
dm_check "genkey makes it mode 0600" \
    test "$(stat -c %a "$T/hash.key")" = 600
cp "$T/hash.key" "$T/hash.key.orig"
if ctl genkey >"$T/out" 2>&1; then dm_notok "genkey refuses to overwrite"
else dm_check "genkey refuses to overwrite" cmp -s "$T/hash.key" "$T/hash.key.orig"; fi

# build: counts per category and per source.
ctl build >"$T/out" 2>&1
dm_check "build succeeds" test $? -eq 0
dm_check "build prints counts per category" \
    grep -q "2 disposable, 1 relay, 1 allowed" "$T/out"
dm_check "build prints counts per source" \
    grep -Eq "source test-disposable +disposable +domains +curated +2" "$T/out"
cp "$T/lists.db" "$T/lists.db.good"

# A bad list: every refused entry named with file:line; nothing written.
cp "$T/lists/disposable.txt" "$T/bad.txt"
printf 'co.uk\n192.0.2.1\n*.wild.test\nbad..name\n' >>"$T/bad.txt"
if ctl build "disposable:bad:$T/bad.txt" >"$T/out" 2>&1; then
	dm_notok "build with bad entries fails"
else
	dm_ok "build with bad entries fails"
fi
for n in 4 5 6 7; do
	dm_check "bad entry reported at $T/bad.txt:$n" \
	    grep -q "$T/bad.txt:$n:" "$T/out"
done
dm_check "public suffix named as such" grep -q "co.uk.*public suffix" "$T/out"
dm_check "failed build leaves the database untouched" \
    cmp -s "$T/lists.db" "$T/lists.db.good"
dm_check "failed build leaves no temporary file" \
    sh -c "! ls '$T' | grep -q 'lists.db.tmp'"
ctl build --skip-bad -o "$T/skip.db" "disposable:bad:$T/bad.txt" \
    >"$T/out" 2>&1
dm_check "build --skip-bad writes the good entries" \
    grep -q "2 disposable, 0 relay, 0 allowed.*4 entries skipped" "$T/out"
# Fingerprint lists on the command line: fp:CATEGORY:SOURCE:PATH.
printf 'mx *.fp-mx.test strong\nip 192.0.2.0/24 weak\n' >"$T/fp.txt"
ctl build -o "$T/fp.db" "disposable:d:$T/lists/disposable.txt" \
    "fp:relay:fp-relay:$T/fp.txt" >"$T/out" 2>&1
dm_check "build fp: counts the fingerprints" \
    grep -q "2 disposable, 0 relay, 0 allowed, 2 fingerprints" "$T/out"
dm_check "build fp: counts them per source" \
    grep -Eq "source fp-relay +relay +fingerprints +curated +2" "$T/out"
printf 'mx *.com strong\n' >"$T/fp-bad.txt"
if ctl build -o "$T/fp-bad.db" "fp:relay:r:$T/fp-bad.txt" >"$T/out" 2>&1
then dm_notok "build fp: a public suffix is refused"
else dm_check "build fp: a public suffix is refused with file:line" \
    grep -q "$T/fp-bad.txt:1: '\*.com' is a public suffix" "$T/out"; fi
if ctl build -o "$T/fp-bad.db" "fp:allow:a:$T/fp.txt" >"$T/out" 2>&1
then dm_notok "build fp: allow is not a fingerprint category"
else dm_ok "build fp: allow is not a fingerprint category"; fi
if ctl build "disposable:missing:$T/nonexistent.txt" >"$T/out" 2>&1; then
	dm_notok "build with a missing list fails"
else
	dm_check "build with a missing list names it" \
	    grep -q "$T/nonexistent.txt" "$T/out"
fi

# lookup explains the verdict.
ctl lookup x.y.MAILINATOR.com. >"$T/out" 2>&1
dm_check "lookup: parent match, level 2" \
    sh -c "grep -q 'match: *mailinator.com (parent domain)' '$T/out' &&
        grep -q 'level: *2 labels up' '$T/out' &&
        grep -q 'sources: *test-disposable' '$T/out'"
ctl lookup a.good.mailinator.com >"$T/out" 2>&1
dm_check "lookup: allowlist override shown" \
    sh -c "grep -q 'category: *allowed' '$T/out' &&
        grep -q 'overrides: *block entry mailinator.com' '$T/out'"
ctl lookup co.uk >"$T/out" 2>&1
dm_check "lookup: a public suffix is never matched" \
    grep -q "category: *clean" "$T/out"

# check: one line per address, hashes with --hashed, bad lines by number.
printf '# subscribers\nxqzt1@mailinator.com\n\nXqzt2+news@Relay.Test\nnot-an-address\n<xqzt3@example.org>\n' \
    >"$T/subs.txt"
ctl check "$T/subs.txt" >"$T/out" 2>"$T/err"
rc=$?
dm_check "check exits 1 when a line is not an address" test $rc -eq 1
dm_check "check names the bad line" grep -q "$T/subs.txt:5: not a mail address" "$T/err"
dm_check "check classifies each address" sh -c "
    grep -q '^xqzt1@mailinator.com	disposable	mailinator.com$' '$T/out' &&
    grep -q '^Xqzt2+news@Relay.Test	relay	relay.test$' '$T/out' &&
    grep -q '^<xqzt3@example.org>	clean	-$' '$T/out'"
dm_check "check prints four lines" test "$(wc -l <"$T/out")" -eq 4
ctl check --hashed "$T/subs.txt" >"$T/hashed" 2>/dev/null
dm_check "check --hashed prints no address" dm_no_raw_in "$T/hashed" -- \
    xqzt1 xqzt2 xqzt3 mailinator.com@
dm_check "check --hashed prints 64-hex hashes" \
    test "$(grep -Ec '^[0-9a-f]{64}	' "$T/hashed")" -eq 3
h1=$(printf 'xqzt2@relay.test\n' | ctl check --hashed | cut -f1)
h2=$(grep '	relay	' "$T/hashed" | cut -f1)
dm_check "hash ignores case and +tag" test "$h1" = "$h2"

# stats.
ctl stats >"$T/out" 2>&1
dm_check "stats lists entries and sources" sh -c "
    grep -q '^entries: *4' '$T/out' && grep -q 'test-relay' '$T/out'"

# The daemon's -n: config errors with file:line, a missing database.
"$DM_MILTER" -n -c "$T/t.conf" >"$T/out" 2>&1
dm_check "disposable-milter -n accepts a good configuration" test $? -eq 0
cp "$T/t.conf" "$T/bad.conf"
echo "ActionRelay maybe" >>"$T/bad.conf"
line=$(wc -l <"$T/bad.conf")
if "$DM_MILTER" -n -c "$T/bad.conf" >"$T/out" 2>&1; then
	dm_notok "disposable-milter -n refuses a bad value"
else
	dm_check "disposable-milter -n names file and line" \
	    grep -q "$T/bad.conf:$line:.*ActionRelay" "$T/out"
fi
sed 's|^Database .*|Database '"$T"'/none.db|' "$T/t.conf" >"$T/nodb.conf"
if "$DM_MILTER" -n -c "$T/nodb.conf" >"$T/out" 2>&1; then
	dm_notok "disposable-milter -n refuses a missing database"
else
	dm_check "disposable-milter -n names the missing database" \
	    grep -q "$T/none.db" "$T/out"
fi
chmod 0644 "$T/hash.key"
if "$DM_MILTER" -n -c "$T/t.conf" >"$T/out" 2>&1; then
	dm_notok "disposable-milter -n refuses a world-readable key"
else
	dm_check "disposable-milter -n says why the key is refused" \
	    grep -q "group or others" "$T/out"
fi
chmod 0600 "$T/hash.key"
"$DM_MILTER" -V >"$T/out" 2>&1
dm_check "disposable-milter -V prints the version" \
    grep -q "^disposable-milter [0-9]" "$T/out"
"$DM_MILTER" -x >"$T/out" 2>&1
dm_check "an unknown option prints usage, exit 2" \
    sh -c "test $? -eq 2 && grep -q usage '$T/out'"

# Daemon mode: the launcher returns, the pid file names the daemon, a
# relative -c still works after the daemon moved to "/", SIGUSR1 reloads,
# SIGTERM stops it and removes the pid file.  Syslog no: the daemon keeps
# the stderr it was started with.
(cd "$T" && "$DM_MILTER" -c t.conf -P "$T/d.pid" 2>>"$T/d.log")
dm_check "daemon: launcher returns 0" test $? -eq 0
dm_wait_for 50 test -s "$T/d.pid"
pid=$(cat "$T/d.pid" 2>/dev/null)
[ -n "$pid" ] && dm_atexit "kill -KILL $pid"
dm_check "daemon: pid file names a running daemon" dm_alive "$pid"
dm_wait_for 50 test -S "$T/s.sock"
kill -USR1 "$pid" 2>/dev/null
dm_wait_for 50 grep -q "reloaded:" "$T/d.log"
dm_check "daemon: SIGUSR1 reloads with a relative -c" grep -q "reloaded:" "$T/d.log"
dm_check "daemon: no reload error" sh -c "! grep -q 'reload failed' '$T/d.log'"
kill -TERM "$pid" 2>/dev/null
dm_wait_for 150 dm_dead "$pid"
dm_check "daemon: SIGTERM stops it" dm_dead "$pid"
dm_check "daemon: stopping logged, pid file removed" sh -c "
    grep -q stopping '$T/d.log' && test ! -e '$T/d.pid'"

dm_finish
