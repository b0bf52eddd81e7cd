#!/bin/sh
# tests/tools/ctl.sh - disposable-ctl's manners, command by command:
#   - --help for the tool and for each command (stdout, exit 0, even with
#     a configuration it cannot read), --version;
#   - a bad argument is named in the error, with the usage, exit 2;
#   - the exit statuses the manual page documents, per command;
#   - check on what subscriber exports hold: mailman members' lines, bare
#     addresses, comments, and CSV with a header row and quoted fields;
#     with DNS on, a progress bar on a terminal (script(1)) and none
#     otherwise;
#   - --json of lookup, check and stats parsed by python3's json module,
#     holding the same facts as the text, whatever bytes the input had;
#   - the records store: a reader makes none; forget run as root creates
#     it owned by the UserID user (a system user made here if missing,
#     removed at exit only then), who can then open it; an unknown
#     UserID, or another user than the daemon's, creates nothing and
#     says why.
# Functions called through dm_check look unreachable to shellcheck:
# shellcheck disable=SC2317
. "${DM_SRCDIR:-$(dirname "$0")/../..}/tests/support/common.sh"
dm_init ctl
dm_require_built
T=$DM_TMP

dm_write_lists "$T/lists"
dm_write_conf "$T/t.conf" "$T/lists" "$T/lists.db" "$T/hash.key" \
    "Records $T/rec.db"
ctl() { "$DM_CTL" -c "$T/t.conf" "$@"; }
# run ARGS...: disposable-ctl's output in $T/out and $T/err, status in RC.
run() { ctl "$@" >"$T/out" 2>"$T/err"; RC=$?; }
# status N DESC ARGS...: one check that the command exits N.
status()
{
	st__want=$1 st__desc=$2
	shift 2
	run "$@"
	if [ "$RC" -eq "$st__want" ]; then
		dm_ok "$st__desc: exit $st__want"
	else
		dm_notok "$st__desc: exit $st__want (got $RC)"
		dm_diag "$T/err" 5
	fi
}
ctl genkey >/dev/null 2>&1 && ctl build >/dev/null 2>&1 ||
    { dm_notok "genkey and build"; dm_finish; }

# --- --help and --version ---------------------------------------------------
COMMANDS="build update lookup check fingerprint mine stats export forget recheck purge genkey"
run --help
dm_check "--help: exit 0, usage on stdout, nothing on stderr" \
    sh -c "test $RC -eq 0 && grep -q '^usage: disposable-ctl' '$T/out' && test ! -s '$T/err'"
for c in $COMMANDS; do
	dm_check "--help lists $c with a summary" \
	    grep -Eq "^  $c +[a-z]" "$T/out"
done
"$DM_CTL" --version >"$T/out" 2>&1
dm_check "--version prints the version" \
    grep -Eqx 'disposable-ctl [0-9]+\.[0-9]+\.[0-9]+.*' "$T/out"
for c in $COMMANDS; do
	# A configuration that cannot be read: --help needs none.
	"$DM_CTL" -c "$T/nonexistent.conf" "$c" --help >"$T/out" 2>"$T/err"
	rc=$?
	dm_check "$c --help: exit 0, usage, options, exit status on stdout" \
	    sh -c "test $rc -eq 0 && test ! -s '$T/err' &&
	    grep -q '^usage: disposable-ctl \[-c file\] $c' '$T/out' &&
	    grep -q '^exit status:' '$T/out' && grep -q '^  0 ' '$T/out' &&
	    grep -q '^  2 ' '$T/out'"
done
"$DM_CTL" update --help >"$T/out" 2>&1
dm_check "update --help keeps its own 75" grep -q '^  75 ' "$T/out"

# --- bad arguments, named ----------------------------------------------------
# named WANT-REGEX DESC ARGS...: exit 2, the error matches, usage follows.
named()
{
	nm__re=$1 nm__desc=$2
	shift 2
	run "$@"
	if [ "$RC" -eq 2 ] && grep -Eq -e "$nm__re" "$T/err" &&
	    grep -q '^usage: disposable-ctl' "$T/err"; then
		dm_ok "$nm__desc"
	else
		dm_notok "$nm__desc (exit $RC)"
		dm_diag "$T/err" 5
	fi
}
named "^disposable-ctl: purge: --days: 'abc' is not a number of days" \
    "purge --days abc: the value named, not 'retention is off'" \
    purge --days abc
dm_check "purge --days abc purges nothing" test ! -e "$T/rec.db"
named "^disposable-ctl: purge: --days: '0' is not a number of days" \
    "purge --days 0 is refused" purge --days 0
named "^disposable-ctl: purge: --days needs a value" \
    "a missing value named" purge --days
named "^disposable-ctl: lookup: unknown option '--bogus'" \
    "an unknown option named" lookup --bogus mailinator.com
named "^disposable-ctl: mine: --rate: 'fast' is not" \
    "mine --rate fast named" mine --rate fast
named "^disposable-ctl: mine: --category: 'allowed' is neither" \
    "mine --category allowed named" mine --category allowed
named "^disposable-ctl: check: --all-keys goes with --hashed" \
    "check --all-keys alone" check --all-keys
named "^disposable-ctl: build: 'nocolon': expected" \
    "build: a list argument without its parts" build nocolon
named "^disposable-ctl: unknown command 'frobnicate'" \
    "an unknown command named" frobnicate
named "^disposable-ctl: lookup: no domain or address given" \
    "lookup with nothing to look up" lookup
named "^disposable-ctl: forget: no address or hash given" \
    "forget with nobody to forget" forget
dm_check "forget: no store made for nothing" test ! -e "$T/rec.db"

# --- exit statuses -------------------------------------------------------------
status 0 "lookup of a clean domain" lookup --no-dns example.org
status 0 "lookup of an allowed domain" lookup --no-dns a.good.mailinator.com
status 1 "lookup of a disposable address" lookup --no-dns x@mailinator.com
status 1 "lookup of a relay domain among clean ones" \
    lookup --no-dns example.org relay.test
status 1 "lookup of an invalid domain" lookup --no-dns 'bad..name'
printf 'a@example.org\nb@a.good.mailinator.com\n' >"$T/clean.txt"
printf 'a@example.org\nb@tempmail.test\n' >"$T/listed.txt"
printf 'a@example.org\nnot an address\n' >"$T/invalid.txt"
status 0 "check: every address clean or allowed" check --no-dns "$T/clean.txt"
status 1 "check: an address listed" check --no-dns "$T/listed.txt"
status 1 "check: a line that is no address" check --no-dns "$T/invalid.txt"
status 2 "check: a file that cannot be read" check --no-dns "$T/none.txt"
status 1 "fingerprint: an argument that is no domain" fingerprint 'bad..name'
status 0 "forget: done" forget someone@example.org
status 0 "stats" stats
status 1 "export: an argument neither an address nor a hash" \
    export 'not an address'
status 1 "forget: an argument neither an address nor a hash" \
    forget 'not an address' someone@example.org
status 0 "recheck: nobody now disposable" recheck --no-dns
status 0 "purge --days 1" purge --days 1
status 2 "genkey: the key file exists" genkey
sed 's|^Database .*|Database '"$T"'/none.db|' "$T/t.conf" >"$T/nodb.conf"
"$DM_CTL" -c "$T/nodb.conf" lookup --no-dns example.org >/dev/null 2>&1
dm_check "lookup: no database is an error, exit 2" test $? -eq 2
"$DM_CTL" -c "$T/nonexistent.conf" stats >/dev/null 2>&1
dm_check "an unreadable configuration is an error, exit 2" test $? -eq 2
sed 's|^RetentionDays .*||' "$T/t.conf" >"$T/keep.conf"
echo "RetentionDays 0" >>"$T/keep.conf"
"$DM_CTL" -c "$T/keep.conf" purge >"$T/out" 2>&1
dm_check "purge with RetentionDays 0 and no --days: exit 2, says why" \
    sh -c "test $? -eq 2 && grep -q 'give --days N' '$T/out'"

# --- check: what subscriber exports hold --------------------------------------
# has FILE LINE...: each LINE (tabs written \t) is a whole line of FILE.
has()
{
	hs__f=$1
	shift
	for hs__l in "$@"; do
		hs__l=$(printf '%b' "$hs__l")
		grep -qxF -e "$hs__l" "$hs__f" ||
		    { echo "# no line '$hs__l' in $hs__f"; return 1; }
	done
}
cat >"$T/mailman.txt" <<'EOF'
# mailman members announce@example.org
"Anne Person" <anne@mailinator.com>
Bob Example <bob@example.org>
carl@relay.test

"Person, Dora" <dora@a.good.mailinator.com>
  erin@tempmail.test (Erin)
EOF
run check --no-dns "$T/mailman.txt"
dm_check "check, mailman members: exit 1, nothing on stderr" \
    sh -c "test $RC -eq 1 && test ! -s '$T/err'"
dm_check "check, mailman members: each line as typed, its category and match" \
    has "$T/out" \
    '"Anne Person" <anne@mailinator.com>\tdisposable\tmailinator.com' \
    'Bob Example <bob@example.org>\tclean\t-' \
    'carl@relay.test\trelay\trelay.test' \
    '"Person, Dora" <dora@a.good.mailinator.com>\tallowed\tgood.mailinator.com' \
    'erin@tempmail.test (Erin)\tdisposable\ttempmail.test'
dm_check "check, mailman members: five lines, no comment or blank" \
    test "$(wc -l <"$T/out")" -eq 5
h1=$(printf '"Anne Person" <anne@mailinator.com>\n' | ctl check --hashed | cut -f1)
h2=$(printf 'anne@mailinator.com\n' | ctl check --hashed | cut -f1)
dm_check "check --hashed: a display name does not change the hash" \
    sh -c "test -n '$h1' && test '$h1' = '$h2'"

printf '\357\273\277"Email Address","Name","Joined"\n' >"$T/export.csv"
cat >>"$T/export.csv" <<'EOF'
anne@mailinator.com,Anne Person,2024-01-01 10:00:00
"Person, Bob","bob@example.org",2024-02-02
"carl@relay.test","Carl ""CC"" Example",
x@example.org,y@example.org
Name Only,no address here
EOF
run check --no-dns "$T/export.csv"
dm_check "check, CSV: exit 1 (listed and invalid lines)" test "$RC" -eq 1
dm_check "check, CSV: the header row skipped, and said so" sh -c "
    grep -q 'export.csv:1: no address: taken for a header row' '$T/err' &&
    ! grep -q 'Email Address' '$T/out'"
dm_check "check, CSV: the address found in any field, quoted or not" \
    has "$T/out" \
    'anne@mailinator.com,Anne Person,2024-01-01 10:00:00\tdisposable\tmailinator.com' \
    '"Person, Bob","bob@example.org",2024-02-02\tclean\t-' \
    '"carl@relay.test","Carl ""CC"" Example",\trelay\trelay.test'
dm_check "check, CSV: two addresses on a line are invalid, by line number" \
    sh -c "grep -q 'export.csv:5: more than one address' '$T/err' &&
    grep -q '^x@example.org,y@example.org	invalid	more than one address\$' '$T/out'"
dm_check "check, CSV: a line without an address is invalid, by line number" \
    sh -c "grep -q 'export.csv:6: not a mail address' '$T/err' &&
    grep -q '^Name Only,no address here	invalid	not a mail address\$' '$T/out'"
printf 'email,name\nbob@example.org,Bob\n' >"$T/clean.csv"
status 0 "check, CSV: a header row is not an invalid line" \
    check --no-dns "$T/clean.csv"

# With DNS on (a server that is not there: each domain unknown, at once)
# a terminal gets a progress bar of the lines done; a file, none.
dm_pick_port
sed "s/^DNS no/DNS yes\nDNSServers 127.0.0.1:$DM_PORT\nDNSTimeout 200\nDNSTries 1/" \
    "$T/t.conf" >"$T/dns.conf"
i=0
while [ $i -lt 100 ]; do echo "u$i@host$i.test"; i=$((i + 1)); done >"$T/many.txt"
"$DM_CTL" -c "$T/dns.conf" check "$T/many.txt" >"$T/out" 2>"$T/err"
dm_check "check with DNS: 100 lines out, no bar in a file" sh -c "
    test \$(wc -l <'$T/out') -eq 100 && ! grep -q 'lines' '$T/err'"
if command -v script >/dev/null 2>&1; then
	script -qec "'$DM_CTL' -c '$T/dns.conf' check '$T/many.txt' >/dev/null" \
	    /dev/null </dev/null >"$T/tty" 2>&1
	dm_check "check with DNS: a progress bar on a terminal, of the file's lines" \
	    grep -q '\[#*\] 100/100 lines' "$T/tty"
	script -qec "'$DM_CTL' -c '$T/dns.conf' check --no-dns '$T/many.txt' >/dev/null" \
	    /dev/null </dev/null >"$T/tty" 2>&1
	dm_check "check --no-dns: no bar (seconds, not minutes)" \
	    sh -c "! grep -q 'lines' '$T/tty'"
	script -qec "cat '$T/many.txt' | '$DM_CTL' -c '$T/dns.conf' check >/dev/null" \
	    /dev/null </dev/null >"$T/tty" 2>&1
	dm_check "check with DNS from a pipe: the count alone" \
	    sh -c "grep -Eq '(^|[^/0-9])100 lines' '$T/tty' && ! grep -q '\[' '$T/tty'"
else
	dm_notok "script(1) (bsdutils) installed, for the terminal"
fi

# --- --json ----------------------------------------------------------------------
# pycheck DESC FILE PYTHON: one check, PYTHON (d: the parsed FILE; for
# JSON Lines, d is the list of the lines parsed) must not fail.
pycheck()
{
	if python3 - "$2" "$3" >"$T/py.out" 2>&1 <<'PY'
import json, sys
path, code = sys.argv[1], sys.argv[2]
text = open(path, encoding="utf-8").read()   # strict: the text is UTF-8
try:
    d = json.loads(text)
except ValueError:
    d = [json.loads(l) for l in text.splitlines()]
exec(code)
PY
	then dm_ok "$1"; else dm_notok "$1"; dm_diag "$T/py.out" 8; fi
}
if command -v python3 >/dev/null 2>&1; then
	run lookup --json --no-dns x.y.MAILINATOR.com xqzsomeone@relay.test \
	    a.good.mailinator.com 'bad..name' 'xqzbad@@x'
	cp "$T/out" "$T/lookup.json"
	dm_check "lookup --json: exit 1 (listed and invalid), no raw address" \
	    sh -c "test $RC -eq 1 && ! grep -q xqz '$T/lookup.json'"
	pycheck "lookup --json: one array, an object per argument, the facts of the text" \
	    "$T/lookup.json" '
assert [o["argument"] for o in d] == [1, 2, 3, 4, 5]
a, b, c, e, f = d
assert a["input"] == "x.y.MAILINATOR.com" and a["domain"] == "x.y.mailinator.com"
assert a["category"] == "disposable" and a["action"] == "reject"
assert a["list"]["entry"] == "mailinator.com" and a["list"]["level"] == 2
assert a["list"]["sources"] == [{"name": "test-disposable", "category": "disposable", "tier": "curated"}]
assert a["list"]["decides"] is True and a["dns"] is None
assert b["input"] is None and b["address"] is True and b["domain"] == "relay.test"
assert b["category"] == "relay" and b["action"] == "tag"
assert c["category"] == "allowed" and c["list"]["overrides_block"] == "mailinator.com"
assert e["category"] == "invalid" and e["invalid"] == "not a valid domain name"
assert f["category"] == "invalid" and f["invalid"] == "not a mail address"
'
	"$DM_CTL" -c "$T/dns.conf" lookup --json example.org >"$T/dns.json" 2>"$T/err"
	pycheck "lookup --json with DNS: its facts, and unknown when DNS fails" \
	    "$T/dns.json" '
o = d[0]
assert o["category"] == "unknown" and o["list"] is None
assert o["dns"]["domain"] == "example.org" and o["dns"]["incomplete"] is True
assert o["dns"]["category"] == "unknown" and o["dns"]["signals"] == []
'
	# Quotes, a backslash, a control character, a Latin-1 byte: the
	# JSON stays valid UTF-8 and says what it could of each.
	{
		cat "$T/mailman.txt" "$T/export.csv"
		printf '"Quote \\"Q\\" Back\\\\slash" <q@mailinator.com>\n'
		printf 'Tab\there <t@example.org>\n'
		printf 'Ren\351e <r@example.org>\n'
		printf 'Ctl\001 <c@example.org>\n'
	} >"$T/odd.txt"
	ctl check --no-dns "$T/odd.txt" >"$T/odd.tsv" 2>/dev/null
	run check --json --no-dns "$T/odd.txt"
	cp "$T/out" "$T/check.json"
	dm_check "check --json: the text's exit status (1)" test "$RC" -eq 1
	pycheck "check --json: JSON Lines, a line per line read, the text's categories" \
	    "$T/check.json" '
tsv = [l.split("\t") for l in open(sys.argv[1].replace("check.json", "odd.tsv"), encoding="utf-8", errors="replace").read().splitlines()]
assert len(d) == len(tsv), (len(d), len(tsv))
for o, t in zip(d, tsv):
    assert o["category"] == t[-2], (o, t)   # the input may hold a tab
    assert (o.get("invalid") or o.get("match") or "-") == t[-1], (o, t)
q = [o for o in d if "q@mailinator.com" in o["input"]][0]
assert q["input"] == "\"Quote \\\"Q\\\" Back\\\\slash\" <q@mailinator.com>", q["input"]
assert q["category"] == "disposable" and q["sources"][0]["tier"] == "curated"
r = [o for o in d if "r@example.org" in o["input"]][0]
assert r["input"] == "Ren\ufffde <r@example.org>", r["input"]
assert [o for o in d if "t@example.org" in o["input"]][0]["input"] == "Tab\there <t@example.org>"
assert d[0]["line"] == 2 and d[0]["input"].startswith("\"Anne Person\"")
'
	printf 'anne@mailinator.com\n' | ctl check --json --hashed --no-dns >"$T/hashed.json"
	printf 'anne@mailinator.com\n' | ctl check --hashed --no-dns | cut -f1 >"$T/hashed.txt"
	pycheck "check --json --hashed: the hash, no input" "$T/hashed.json" '
o = d
assert o["input"] is None
assert o["hashes"][0]["hash"] == open(sys.argv[1].replace(".json", ".txt")).read().strip()
assert o["hashes"][0]["key_id"] == 0
'
	run stats --json
	cp "$T/out" "$T/stats.json"
	pycheck "stats --json: the database and the records store" "$T/stats.json" '
assert d["entries"] == 4 and d["database"].endswith("/lists.db")
assert [s["name"] for s in d["sources"]] == ["test-disposable", "test-relay", "test-allow"]
assert d["sources"][0]["entries"] == 2 and d["sources"][0]["tier"] == "curated"
assert d["records"]["senders"] == 0 and d["records"]["per_category"] == {}
'
else
	dm_notok "python3 installed, to parse --json"
fi

# --- the records store's owner ---------------------------------------------------
# HashMode sha256: no key file, which only root could read.
R=$T/store
mkdir -p "$R"
store_conf()
{
	dm_write_conf "$1" "$T/lists" "$T/lists.db" "$T/hash.key" \
	    "Records $R/rec.db" "$2"
	sed -i -e '/^KeyFile /d' -e 's/^HashMode .*/HashMode sha256/' "$1"
}
store_conf "$T/s.conf" "UserID nobody"
"$DM_CTL" -c "$T/s.conf" export someone@example.org >"$T/out" 2>"$T/err"
dm_check "export without a store yet: no records, exit 0, no store made" \
    sh -c "test $? -eq 0 && test \"\$(tr -d ' \n' <'$T/out')\" = '[]' &&
    test ! -e '$R/rec.db' && test ! -e '$R/rec.db-lock'"
"$DM_CTL" -c "$T/s.conf" stats >"$T/out" 2>"$T/err"
dm_check "stats without a store yet: says so, exit 0, no store made" \
    sh -c "test $? -eq 0 && grep -q 'rec.db: 0 hashed senders, 0 domains (not created yet' '$T/out' &&
    test ! -e '$R/rec.db'"
"$DM_CTL" -c "$T/s.conf" recheck --no-dns >"$T/out" 2>"$T/err"
dm_check "recheck without a store yet: nobody, exit 0, no store made" \
    sh -c "test $? -eq 0 && test ! -e '$R/rec.db'"
U=dmctltest
if [ "$(id -u)" -ne 0 ]; then
	echo "# not root: the store's owner is not tested"
elif ! command -v useradd >/dev/null 2>&1 || ! command -v setpriv >/dev/null 2>&1; then
	dm_notok "useradd and setpriv installed, for the store's owner"
else
	if ! id "$U" >/dev/null 2>&1; then
		useradd --system --no-create-home --home-dir /nonexistent \
		    --shell /usr/sbin/nologin "$U" ||
		    { dm_notok "a system user $U"; dm_finish; }
		dm_atexit "userdel $U"
	fi
	store_conf "$T/u.conf" "UserID $U"
	"$DM_CTL" -c "$T/u.conf" forget someone@example.org >"$T/out" 2>"$T/err"
	dm_check "forget as root with no store: creates it, exit 0, says so" \
	    sh -c "test $? -eq 0 && grep -q 'rec.db created, owned by $U' '$T/err'"
	dm_check "the store and its lock file belong to the UserID user" \
	    test "$(stat -c %U:%G "$R/rec.db" "$R/rec.db-lock" | sort -u)" = "$U:$(id -gn "$U")"
	# The daemon opens it for writing as that user: so does forget.
	setpriv --reuid="$U" --regid="$(id -g "$U")" --clear-groups \
	    "$DM_CTL" -c "$T/u.conf" forget someone@example.org >"$T/out" 2>&1
	dm_check "the UserID user opens it for writing" sh -c "
	    test $? -eq 0 && grep -q 'records_removed=0' '$T/out'"
	rm -f "$R/rec.db" "$R/rec.db-lock"
	store_conf "$T/x.conf" "UserID nosuchuserxqz"
	"$DM_CTL" -c "$T/x.conf" forget someone@example.org >"$T/out" 2>&1
	dm_check "an unknown UserID: nothing created, exit 2, says why" sh -c "
	    test $? -eq 2 && grep -q 'not created: UserID nosuchuserxqz: no such user' '$T/out' &&
	    test ! -e '$R/rec.db' && test ! -e '$R/rec.db-lock'"
	chmod 0777 "$R"
	setpriv --reuid="$U" --regid="$(id -g "$U")" --clear-groups \
	    "$DM_CTL" -c "$T/s.conf" purge --days 30 >"$T/out" 2>&1
	dm_check "another user than the daemon's: nothing created, exit 2, says why" sh -c "
	    test $? -eq 2 && grep -q 'daemon runs as nobody (UserID): run this as root or as that user' '$T/out' &&
	    test ! -e '$R/rec.db'"
	chmod 0755 "$R"
fi

dm_finish
