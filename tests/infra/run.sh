#!/bin/sh
# tests/infra/run.sh - infrastructure fingerprints against a private DNS
# server: each way a domain on no list is caught (MX host, MX address,
# CIDR, name server, SPF include two levels down, MX inside a listed
# domain), weak-only -> suspicious, allowlisted -> allowed without a query,
# no MX, null MX, nine MX hosts (eight looked at, by preference, equal
# ones in the answer's order), CNAME chains, NXDOMAIN, SERVFAIL, a server
# that never answers (the budget holds), an SPF include loop, a hostile
# SPF record;
# and the cache: a second lookup sends no query, TTL expiry re-queries,
# negative answers are cached.
. "${DM_SRCDIR:-$(dirname "$0")/../..}/tests/support/common.sh"
. "$DM_SRCDIR/tests/support/dns.sh"
dm_init infra
dm_require_built
T=$DM_TMP
S=$DM_SRCDIR/tests/infra
INFRA=$DM_SRCDIR/conf/fingerprints/infrastructure.txt	# the shipped list

cat "$S/zone.conf" "$S/mine.zone" >"$T/zone.conf"
dm_dns_start "$T/zone.conf" || { dm_notok "DNS server starts"; dm_finish; }

conf()	# conf FILE SERVER [extra lines]: lists, fingerprints, DNS at SERVER
{
	f=$1
	srv=$2
	shift 2
	{
		echo "Syslog no"
		echo "Database $T/lists.db"
		echo "KeyFile $T/hash.key"
		echo "List disposable test-disposable $S/lists-disposable.txt"
		echo "List allow test-allow $S/lists-allow.txt"
		echo "Fingerprints disposable test-fp $S/fingerprints-disposable.txt"
		echo "Fingerprints disposable test-weak $S/fingerprints-weak.txt"
		echo "DNSServers $srv"
		for x in "$@"; do echo "$x"; done
	} >"$f"
}
conf "$T/t.conf" "$DM_DNS_SERVER" "DNSTimeout 500" "DNSTries 1" "DNSBudget 2000"
ctl() { "$DM_CTL" -c "$T/t.conf" "$@"; }
ctl genkey >/dev/null
ctl build >"$T/build.out" 2>&1
dm_check "build lists and fingerprints" grep -q "fingerprints" "$T/build.out"

# expect DOMAIN CATEGORY MATCH: disposable-ctl lookup's verdict.
expect()
{
	ctl lookup "$1" >"$T/out" 2>&1
	if grep -Eq "^  category: *$2( |$)" "$T/out" &&
	    { [ -z "$3" ] || grep -q "match $3)" "$T/out"; }; then
		dm_ok "$1: $2${3:+ ($3)}"
	else
		dm_notok "$1: $2${3:+ ($3)}"
		sed 's/^/# /' "$T/out"
	fi
}

expect fresh-mx.test disposable "mx:in.example-temp.test"
expect fresh-addr.test disposable "ip:198.51.100.77/32"
expect fresh-cidr.test disposable "ip:203.0.113.0/24"
expect fresh-ns.test disposable "ns:\*.burner-dns.test"
expect fresh-spf.test disposable "spf:_spf.burner-spf.test"
expect fresh-mxdomain.test disposable "mx-domain:listed-burner.test"
expect weak-only.test suspicious "mx:\*.mx.shared-routing.test"
expect no-mx.test disposable "ip:198.51.100.77/32"
expect null-mx.test suspicious "nullmx"
expect alias1.test disposable "mx:in.example-temp.test"
expect clean.test clean ""
expect nothing-here.test clean ""
expect spf-loop.test clean ""
expect x.servfail.test unknown "dns:servfail"
# A hostile CIDR length never makes the classification fail.
expect spf-badcidr6.test disposable "mx:in.example-temp.test"
expect spf-badcidr4.test disposable "mx:in.example-temp.test"
expect spf-badcidr-clean.test suspicious "spf-bad-prefix"
# Past eight MX hosts: preference decides which are looked at, and
# among equals the answer's order.
expect many-mx.test disposable "mx:in.example-temp.test"
expect far-mx.test clean ""
expect tie-mx.test clean ""
ctl lookup far-mx.test >"$T/out" 2>&1
dm_check "nine MX hosts: eight looked at, by preference" sh -c "
    test \$(grep -c '^  mx: ' '$T/out') -eq 8 &&
    grep -n '^  mx: ' '$T/out' | tail -1 | grep -q 'mx8.many-clean.test' &&
    ! grep -q 'in.example-temp.test' '$T/out'"

# The fingerprint facts behind a verdict.
ctl lookup fresh-spf.test >"$T/out" 2>&1
dm_check "lookup shows the SPF walk, two levels" sh -c "
    grep -q 'includes or redirects to _spf.level1.test' '$T/out' &&
    grep -q 'includes or redirects to _spf.burner-spf.test' '$T/out' &&
    grep -q 'spf range: *192.0.2.128/28' '$T/out'"
ctl lookup no-mx.test >"$T/out" 2>&1
dm_check "no MX: the domain's own address is used" \
    grep -q "mx: *none; the domain's own address" "$T/out"
ctl lookup spf-loop.test >"$T/out" 2>&1
dm_check "an SPF include loop is cut" grep -q "include loop cut" "$T/out"
ctl lookup spf-hostile.test >"$T/out" 2>&1
dm_check "a hostile SPF record is screened, not parsed" \
    sh -c "grep -q 'with macros skipped' '$T/out' && grep -q 'category: *clean' '$T/out'"

# Allowlisted: decided by the lists, so no query at all.
before=$(dm_dns_queries goodcorp.test MX)
expect goodcorp.test allowed ""
dm_check "allowlisted domain: no query sent" \
    test "$(dm_dns_queries goodcorp.test MX)" -eq "$before"

# A server that never answers: the budget holds and the verdict is unknown.
dm_dns_silent_start
conf "$T/silent.conf" "$DM_DNS_SILENT_SERVER" "DNSTimeout 400" \
    "DNSTries 3" "DNSBudget 1000"
t0=$(date +%s%N)
"$DM_CTL" -c "$T/silent.conf" lookup fresh-mx.test >"$T/out" 2>&1
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
echo "# silent server: lookup took $ms ms (budget 1000 ms)"
dm_check "silent server: unknown (dns:timeout)" \
    grep -q "category: *unknown .*match dns:timeout" "$T/out"
dm_check "silent server: the budget holds ($ms ms)" test "$ms" -lt 2500

# The cache, in one process: check reads a file of addresses and looks up
# each batch's domains together; the second batch repeats the first.
{
	echo "a@fresh-mx.test"
	echo "b@nothing-here.test"
	i=0
	while [ $i -lt 64 ]; do echo "pad$i@goodcorp.test"; i=$((i + 1)); done
	echo "c@fresh-mx.test"
	echo "d@nothing-here.test"
} >"$T/addrs"
q0=$(dm_dns_queries fresh-mx.test MX)
n0=$(dm_dns_queries nothing-here.test MX)
ctl check "$T/addrs" >"$T/out" 2>&1
dm_check "check: both fresh-mx.test lines disposable" \
    test "$(grep -c 'fresh-mx.test	disposable	mx:in.example-temp.test' "$T/out")" -eq 2
dm_check "cache: the second lookup sent no query" \
    test "$(dm_dns_queries fresh-mx.test MX)" -eq $((q0 + 1))
dm_check "cache: NXDOMAIN cached too" \
    test "$(dm_dns_queries nothing-here.test MX)" -eq $((n0 + 1))
ctl check --no-dns "$T/addrs" >"$T/out" 2>&1
dm_check "check --no-dns: no DNS, lists only" sh -c "
    grep -q 'fresh-mx.test	clean	-' '$T/out' &&
    test $(dm_dns_queries fresh-mx.test MX) -eq $((q0 + 1))"

# TTL expiry: a 2 s record with DNSMinTTL 0 is asked again after it.
conf "$T/ttl.conf" "$DM_DNS_SERVER" "DNSMinTTL 0" "DNSTimeout 500" "DNSTries 1"
printf 'a@short-ttl.test\n' >"$T/one"
s0=$(dm_dns_queries short-ttl.test MX)
{ cat "$T/one"; i=0; while [ $i -lt 64 ]; do echo "p$i@goodcorp.test"; i=$((i + 1)); done
  cat "$T/one"; } >"$T/twice"
"$DM_CTL" -c "$T/ttl.conf" check "$T/twice" >/dev/null 2>&1
dm_check "TTL: within the TTL, one query" \
    test "$(dm_dns_queries short-ttl.test MX)" -eq $((s0 + 1))
# The same process past the TTL: a file read slowly through a pipe.
{ cat "$T/one"; i=0; while [ $i -lt 64 ]; do echo "p$i@goodcorp.test"; i=$((i + 1)); done
  sleep 3; cat "$T/one"; } |
    "$DM_CTL" -c "$T/ttl.conf" check >/dev/null 2>&1
dm_check "TTL: after the TTL, asked again" \
    test "$(dm_dns_queries short-ttl.test MX)" -eq $((s0 + 3))

# mine: what the listed domains share and no allowlisted one uses.
printf 'mine-%s.test\n' a b c d e f g h >"$T/mine-list"
printf 'mine-good.test\n' >"$T/mine-allow"
conf "$T/mine.conf" "$DM_DNS_SERVER" "DNSTimeout 500" "DNSTries 1"
sed -i "s|^Database .*|Database $T/mine.db|" "$T/mine.conf"
"$DM_CTL" -c "$T/mine.conf" build -o "$T/mine.db" \
    "disposable:mine:$T/mine-list" "allow:mine-allow:$T/mine-allow" \
    "fp:disposable:test-fp:$S/fingerprints-disposable.txt" \
    "infra:shipped-infra:$INFRA" >/dev/null 2>&1
"$DM_CTL" -c "$T/mine.conf" mine --min 3 --rate 100 >"$T/out" 2>"$T/err"
dm_check "mine exits 0" test $? -eq 0
dm_check "mine proposes the shared MX host, weak, with its count" \
    sh -c "grep -A1 -x '# 4 listed domains, among them mine-a.test, mine-b.test, mine-c.test' '$T/out' |
    grep -Eq '^mx +mx.mine-shared.test +weak$'"
dm_check "mine proposes the shared MX address" \
    grep -Eq '^ip +192.0.2.123 +weak$' "$T/out"
dm_check "mine: no Google host, however many listed domains use it" \
    sh -c "! grep -Eq '^[a-z]+ +(aspmx.l.google.com|192.0.2.210) ' '$T/out'"
dm_check "mine: no shared name server, and says why" \
    grep -q '^# not proposed: ns anna.ns.cloudflare.com, used by 3 listed domains: infrastructure ns \*.ns.cloudflare.com$' "$T/out"
# What mine prints loads as a fingerprint list as it is.
"$DM_CTL" -c "$T/mine.conf" build -o "$T/mine2.db" \
    "disposable:mine:$T/mine-list" "fp:disposable:mined:$T/out" \
    >"$T/mine2.out" 2>&1
dm_check "mine: its output builds as a fingerprint list" \
    grep -q ' 2 fingerprints' "$T/mine2.out"
dm_check "mine: nothing an allowlisted domain uses" \
    sh -c "! grep -q 'ns.mine-dns.test' '$T/out'"
dm_check "mine: nothing below the threshold" \
    sh -c "! grep -q 'mine-lone' '$T/out'"
dm_check "mine: no progress bar when stderr is not a terminal" \
    sh -c "! grep -q '#####' '$T/err'"
sed 's/^/# /' "$T/out"
# On a terminal (script(1) gives it one), a progress bar.
if command -v script >/dev/null 2>&1; then
	script -qec "'$DM_CTL' -c '$T/mine.conf' mine --min 3 --rate 100 >/dev/null" \
	    /dev/null </dev/null >"$T/tty" 2>&1
	dm_check "mine: a progress bar on a terminal" \
	    grep -q '\] 9/9 domains' "$T/tty"
fi

# Shared mail infrastructure never condemns: yandex.net, improvmx.com
# and forwardemail.net on a curated block list (public lists carry
# them), the shipped infrastructure list loaded, and domains hosted on
# Google, Yandex 360, ImprovMX, Forward Email and Cloudflare Email
# Routing: none is disposable or relay (so none is rejected).  The
# listed service's own MX still decides.
printf 'yandex.net\nimprovmx.com\nforwardemail.net\nlisted-burner.test\n' \
    >"$T/shared-list"
conf "$T/shared.conf" "$DM_DNS_SERVER" "DNSTimeout 500" "DNSTries 1" \
    "HashMode sha256"
sed -i -e "s|^Database .*|Database $T/shared.db|" -e '/^List /d' \
    -e '/^Fingerprints /d' -e '/^KeyFile /d' "$T/shared.conf"
printf 'List disposable public %s\nInfrastructure shipped %s\n' \
    "$T/shared-list" "$INFRA" >>"$T/shared.conf"
"$DM_CTL" -c "$T/shared.conf" build >"$T/shared.build" 2>&1
dm_check "shared: the build warns that listed domains are infrastructure" \
    grep -q "'improvmx.com' (public (curated)) is shared mail infrastructure" \
    "$T/shared.build"
for d in google yandex improvmx fwd cf burner; do
	echo "someone@hosted-$d.test"
done >"$T/shared-addrs"
"$DM_CTL" -c "$T/shared.conf" check "$T/shared-addrs" >"$T/shared.out" 2>&1
sed 's/^/# /' "$T/shared.out"
for d in google yandex improvmx fwd cf; do
	dm_check "shared: hosted-$d.test is not condemned" \
	    sh -c "grep -E '^someone@hosted-$d.test	' '$T/shared.out' |
	    grep -Evq '	(disposable|relay)	'"
done
dm_check "shared: a listed service's own MX still decides" \
    grep -Eq '^someone@hosted-burner.test	disposable	' "$T/shared.out"

dm_finish
