#!/bin/sh
# tests/dns/run.sh - lib/dns.c against a real DNS server: starts unbound
# on loopback with tests/dns/zone.conf (plus two long TXT records made
# here, and tests/dns/chain.zone as an authoritative zone) and a server that never answers, runs tests/dns/test_dns, then
# checks in the server's own log that cached answers sent no query.
# The program runs once more under valgrind when valgrind is installed.
. "$DM_SRCDIR/tests/support/common.sh"
. "$DM_SRCDIR/tests/support/dns.sh"

dm_init dns
TEST_DNS=$DM_BUILDDIR/tests/dns/test_dns
[ -x "$TEST_DNS" ] || dm_skip "$TEST_DNS not built"

zone=$DM_TMP/zone.conf
cp "$DM_SRCDIR/tests/dns/zone.conf" "$zone"
# Character-strings are at most 255 bytes: long TXT records are several.
python3 - >>"$zone" <<'PY'
def txt(owner, strings):
    body = " ".join('"%s"' % s for s in strings)
    print("local-data: '%s 300 IN TXT %s'" % (owner, body))
txt("longtxt.dns.test.", [c * 250 for c in "abcd"])   # 1000 bytes
txt("big.dns.test.", ["x" * 250] * 17)                # 4250: over DNS_TXT_MAX
txt("big.dns.test.", ["ok"])
PY
# An authoritative zone answers with the whole CNAME chain.
cat >>"$zone" <<EOF
local-zone: "chain.test." transparent
auth-zone:
	name: "chain.test."
	zonefile: "$DM_SRCDIR/tests/dns/chain.zone"
	for-downstream: yes
	for-upstream: no
EOF

dm_dns_start "$zone" || { dm_notok "unbound starts"; dm_finish; }
dm_ok "unbound answers on $DM_DNS_SERVER"
dm_dns_silent_start || { dm_notok "silent server starts"; dm_finish; }
DM_DNS_SILENT=$DM_DNS_SILENT_SERVER
export DM_DNS_SILENT

# run LOG [WRAPPER...]: the test program, its output shown as comments
run()
{
	run__log=$1
	shift
	"$@" "$TEST_DNS" >"$run__log" 2>&1
	run__rc=$?
	sed 's/^/# /' "$run__log"
	return $run__rc
}

mark=$(wc -l <"$DM_DNS_LOG")
dm_check "test_dns passes against unbound" run "$DM_TMP/test_dns.log"

# The server's log: queries that reached it during the run.
q()
{
	tail -n "+$((mark + 1))" "$DM_DNS_LOG" |
	    grep -c -i -F " $1. $2 IN"
}
expect()
{
	n=$(q "$1" "$2")
	[ "$n" -eq "$3" ] && return 0
	echo "# $1 $2: $n queries reached the server, expected $3"
	return 1
}
dm_check "cached name: one query for two lookups" expect cached.dns.test A 1
dm_check "cached NODATA: one query" expect cached.dns.test AAAA 1
dm_check "NXDOMAIN cached, then asked again after neg_ttl" \
    expect nx2.dns.test A 2
dm_check "TTL 1: asked again after expiry" expect short.dns.test A 2
dm_check "min_ttl keeps a TTL-1 record" expect clamp.dns.test A 1
dm_check "max_ttl expires a TTL-3600 record" expect long.dns.test A 2
dm_check "SERVFAIL not cached: both lookups asked" \
    expect y.servfail.test A 2
dm_check "LRU: lru1 kept while lru2 was evicted" expect lru1.dns.test A 1
dm_check "LRU: lru2 asked again after eviction, twice with no cache" \
    expect lru2.dns.test A 4
dm_check "CNAME chain: each link asked once, then cached" \
    expect m1.dns.test MX 1
dm_check "a blackhole query reached the server" \
    expect t0.blackhole.test A 1
dm_check "a name refused by the library never reached the server" \
    expect a..dns.test A 0

if grep -q -a __asan_init "$TEST_DNS"; then
	echo "# built with AddressSanitizer: the valgrind run is left out"
elif command -v valgrind >/dev/null 2>&1; then
	DM_DNS_SLOW=1	# wider time bounds
	export DM_DNS_SLOW
	dm_check "test_dns passes under valgrind" run "$DM_TMP/valgrind.log" \
	    valgrind --error-exitcode=1 --leak-check=full \
	    --errors-for-leak-kinds=definite -q
else
	echo "# valgrind not installed: the valgrind run is left out"
fi

dm_finish
