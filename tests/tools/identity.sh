#!/bin/sh
# identity.sh - one address, one hash, everywhere: the daemon's log line
# and records, check --hashed, export and forget all hash an address the
# same way (lib/identity.c), for domains at and past the 253-byte limit,
# IDNA, mixed case and +tags; and after a key rotation, recheck's output
# is matched against a subscriber file with check --match-hashes.
#
# Needs miltertest (the daemon is driven with one message per address).

# Functions called through dm_check look unreachable to shellcheck:
# shellcheck disable=SC2317
. "${DM_SRCDIR:-$(dirname "$0")/../..}/tests/support/common.sh"

MILTERTEST=${MILTERTEST:-$(command -v miltertest)}
if [ -z "$MILTERTEST" ] || [ ! -x "$MILTERTEST" ]; then
	dm_skip "miltertest not installed (apt-get install miltertest)"
fi
dm_require_built
dm_init identity
T=$DM_TMP
M=$T/milter
mkdir -p "$M"

dm_write_lists "$T/lists"
"$DM_CTL" genkey "$M/hash.key" >/dev/null || exit 1
dm_write_conf "$T/i.conf" "$T/lists" "$M/lists.db" "$M/hash.key" \
    "Records $M/records.db" "RecordsInterval 50" "DNS no"
"$DM_CTL" -c "$T/i.conf" build >"$T/ctl.log" 2>&1 ||
    { dm_notok "disposable-ctl build"; dm_diag "$T/ctl.log"; dm_finish; }
ctl() { "$DM_CTL" -c "$T/i.conf" "$@"; }

# A domain of exactly N bytes: labels of 63, then what is left, ".test".
domain_of()
{
	awk -v n="$1" 'BEGIN {
		d = ""; left = n - 4
		while (left > 0) {
			l = left > 64 ? 63 : left - 1
			if (l < 1) { l = 1 }
			lab = ""
			for (i = 0; i < l; i++) lab = lab "a"
			d = d lab "."
			left -= l + 1
		}
		print d "test"
	}'
}
for n in 253 254 255; do
	d=$(domain_of $n)
	[ ${#d} -eq "$n" ] || { dm_notok "a $n-byte domain (got ${#d})"; dm_finish; }
done
# The addresses, one per message; the second column of $T/same names
# another spelling that must hash the same.
cat >"$T/addrs" <<EOF2
xqzlen253@$(domain_of 253)
xqzlen254@$(domain_of 254)
xqzlen255@$(domain_of 255)
xqzidn@xn--bcher-kva.test
Xqz.Mixed+Tag@Example.ORG
xqztag+news@mailinator.com
EOF2
cat >"$T/same" <<EOF2
4 xqzidn@bücher.test
5 xqz.mixed@example.org
6 XQZTAG@MAILINATOR.COM
EOF2

dm_milter_start "$T/i.conf" "$M/i.log" "unix:$M/i.sock" ||
    { dm_notok "daemon starts"; dm_finish; }
"$MILTERTEST" -s "$DM_SRCDIR/tests/tools/identity.lua" \
    -D libdir="$DM_SRCDIR/tests/protocol" -D socket="unix:$M/i.sock" \
    -D addrfile="$T/addrs" >"$T/lua.out" 2>"$T/lua.err"
dm_check "the daemon took all 6 messages" \
    test "$(grep -c '^ok - ' "$T/lua.out")" -eq 6
dm_wait_for 50 sh -c "grep -q 'qid=PI06 ' '$M/i.log'"

# loghash N: the hash of message N's decision line.
loghash()
{
	grep -E "qid=PI0$1 " "$M/i.log" | sed -n 's/.* hash=\([0-9a-f]*\).*/\1/p'
}
i=0
while IFS= read -r a; do
	i=$((i + 1))
	lh=$(loghash $i)
	ch=$(printf '%s\n' "$a" | ctl check --no-dns --hashed 2>/dev/null | cut -f1)
	dm_check "PI0$i: the log line has a hash (${lh:-none})" \
	    test "${#lh}" -eq 64
	dm_check "PI0$i: check --hashed gives the log line's hash" \
	    test "$ch" = "$lh"
	dm_wait_for 50 sh -c "'$DM_CTL' -c '$T/i.conf' export '$a' | grep -q '\"hash\"'"
	eh=$(ctl export "$a" 2>/dev/null | sed -n 's/.*"hash": "\([0-9a-f]*\)".*/\1/p')
	dm_check "PI0$i: export finds the record under the log line's hash" \
	    test "$eh" = "$lh"
done <"$T/addrs"
while read -r i a; do
	ch=$(printf '%s\n' "$a" | ctl check --no-dns --hashed 2>/dev/null | cut -f1)
	dm_check "PI0$i: another spelling hashes the same" test "$ch" = "$(loghash "$i")"
done <"$T/same"
i=0
while IFS= read -r a; do
	i=$((i + 1))
	ctl forget "$a" >"$T/f$i" 2>&1
	dm_check "PI0$i: forget names the log line's hash and removes the record" \
	    grep -q "^forgotten: hash=$(loghash $i) key=0 records_removed=1 " "$T/f$i"
done <"$T/addrs"

# --- a key rotation --------------------------------------------------
# Subscribers seen under key 0; then a new key, a reload, a list update
# that makes later-burner.test disposable.  recheck names those senders
# by their key-0 hashes; check --match-hashes finds them in the
# subscriber file, which check --hashed under the newest key alone
# cannot.
cat >"$T/subs" <<'EOF2'
xqzsub1@later-burner.test
Xqz.Sub2+list@Later-Burner.TEST
xqzsub3@example.org
EOF2
printf '%s\n' xqzsub1@later-burner.test xqz.sub2@later-burner.test \
    xqzsub3@example.org >"$T/addrs2"
"$MILTERTEST" -s "$DM_SRCDIR/tests/tools/identity.lua" \
    -D libdir="$DM_SRCDIR/tests/protocol" -D socket="unix:$M/i.sock" \
    -D addrfile="$T/addrs2" >"$T/lua2.out" 2>"$T/lua2.err"
dm_wait_for 50 sh -c "'$DM_CTL' -c '$T/i.conf' export xqzsub3@example.org | grep -q '\"hash\"'"
old=$(grep -E "qid=PI01 " "$M/i.log" | tail -n 1 | sed -n 's/.* hash=\([0-9a-f]*\).*/\1/p')
ctl genkey --rotate >/dev/null 2>&1
dm_check "genkey --rotate: two keys" test "$(grep -c -E '^([0-9]+ )?[0-9a-f]{64}' "$M/hash.key")" -eq 2
echo "later-burner.test" >>"$T/lists/disposable.txt"
ctl build >>"$T/ctl.log" 2>&1
ctl recheck --no-dns >"$T/now.tsv" 2>/dev/null
dm_check "recheck: the two later-burner.test senders, under key 0" \
    test "$(grep -c '	0	later-burner.test	' "$T/now.tsv")" -eq 2
dm_check "recheck: xqzsub1's hash is the one the log line had" \
    grep -q "^$old	0	" "$T/now.tsv"
ctl check --no-dns --hashed "$T/subs" >"$T/newest" 2>/dev/null
dm_check "check --hashed: the newest key (1) only, which recheck's hashes miss" \
    sh -c "! cut -f1 '$T/now.tsv' | grep -q -F -f - '$T/newest' &&
        test \"\$(cut -f4 '$T/newest' | sort -u)\" = 1"
ctl check --no-dns --hashed --all-keys "$T/subs" >"$T/all" 2>/dev/null
dm_check "check --hashed --all-keys: a line per key, the old hash among them" \
    sh -c "test \$(wc -l <'$T/all') -eq 6 && grep -q '^$old	' '$T/all'"
ctl check --no-dns --match-hashes "$T/now.tsv" "$T/subs" >"$T/match" 2>"$T/match.err"
dm_check "check --match-hashes: exactly the two subscribers recheck named" \
    sh -c "test \$(wc -l <'$T/match') -eq 2 &&
        grep -q '^xqzsub1@later-burner.test	' '$T/match' &&
        grep -q '^Xqz.Sub2+list@Later-Burner.TEST	' '$T/match'"
printf '# no hashes\n' >"$T/none.tsv"
ctl check --no-dns --match-hashes "$T/none.tsv" "$T/subs" >"$T/match0" 2>&1
dm_check "check --match-hashes with no hashes: no address printed" \
    test ! -s "$T/match0"
printf 'not-a-hash\tx\n' >"$T/bad.tsv"
ctl check --no-dns --match-hashes "$T/bad.tsv" "$T/subs" >"$T/matchb" 2>"$T/matchb.err"
rc=$?
dm_check "check --match-hashes: a line that is no hash fails ($rc), naming file:line, printing nothing" \
    sh -c "test $rc -ne 0 && grep -q 'bad.tsv:1: ' '$T/matchb.err' && test ! -s '$T/matchb'"

dm_stop_milters
WORDS=$(cut -d@ -f1 "$T/addrs" "$T/addrs2" | sort -u)
# shellcheck disable=SC2086 # one word a line
dm_check "no raw address or local part in anything the daemon wrote" \
    dm_no_raw_in "$M" -- $WORDS
dm_finish
