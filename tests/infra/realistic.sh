#!/bin/sh
# tests/infra/realistic.sh - the shipped fingerprints against zones built
# from public data (../shared/data/lists, read in place):
#   - domains whose MX is mx.mail-data.net (disposable/static-disposable-
#     lists) and domains of the generator.email family, on their real MX
#     host names: caught as disposable although no shipped list names them;
#   - custom alias domains on SimpleLogin's and addy.io's MX hosts: relay;
#   - the free and paid mail services of mailservices_flat.tsv, each on its
#     real MX hosts: none may come out disposable, relay or suspicious (the
#     false-positive side).
# Addresses are TEST-NET data; the private unbound answers everything.
. "${DM_SRCDIR:-$(dirname "$0")/../..}/tests/support/common.sh"
. "$DM_SRCDIR/tests/support/dns.sh"
dm_init infra-real
dm_require_built
L=$DM_DATA/lists/disposable-static-disposable-lists
[ -r "$L/mail-data-net_mx_domains.txt" ] && [ -r "$L/mailservices_flat.tsv" ] &&
    [ -r "$L/generator-email_domains.txt" ] ||
    dm_skip "shared data not found in $DM_DATA/lists (set DM_DATA)"
T=$DM_TMP
C=$DM_SRCDIR/conf

# Up to N names of a list, spread over it, lower case, skipping comments.
sample()
{
	grep -v '^#' "$1" | tr 'A-Z' 'a-z' | grep -E '^[a-z0-9.-]+\.[a-z]+$' |
	    awk -v n="$2" '{ a[NR] = $0 } END {
		step = NR / n; if (step < 1) step = 1
		for (i = 1; i <= NR && c < n; i += step) { print a[int(i)]; c++ } }'
}

sample "$L/mail-data-net_mx_domains.txt" 200 >"$T/mail-data"
sample "$L/generator-email_domains.txt" 200 >"$T/generator"
# Legit services (not forwarding), with their MX hosts.
awk -F'\t' 'NR > 1 && $2 != "forwarding" && $5 != "" { print $4 "\t" $5 }' \
    "$L/mailservices_flat.tsv" | tr 'A-Z' 'a-z' | sort -u >"$T/legit"

{
	echo 'local-data: "mx.mail-data.net. 300 IN A 192.0.2.1"'
	for h in emailfake.com generator.email tempm.com mail-fake.com email-fake.com; do
		echo "local-data: \"$h. 300 IN A 192.0.2.2\""
	done
	for h in mx1.simplelogin.co mx2.simplelogin.co mail.anonaddy.me mail2.anonaddy.me; do
		echo "local-data: \"$h. 300 IN A 192.0.2.3\""
	done
	while read -r d; do
		echo "local-data: \"$d. 300 IN MX 10 mx.mail-data.net.\""
	done <"$T/mail-data"
	i=0
	set -- emailfake.com generator.email tempm.com mail-fake.com email-fake.com
	while read -r d; do
		eval "h=\${$((i % 5 + 1))}"
		echo "local-data: \"$d. 300 IN MX 10 $h.\""
		i=$((i + 1))
	done <"$T/generator"
	i=0
	while [ $i -lt 20 ]; do
		echo "local-data: \"alias$i.customer-sl.test. 300 IN MX 10 mx1.simplelogin.co.\""
		echo "local-data: \"alias$i.customer-sl.test. 300 IN MX 20 mx2.simplelogin.co.\""
		echo "local-data: \"alias$i.customer-addy.test. 300 IN MX 10 mail.anonaddy.me.\""
		i=$((i + 1))
	done
	n=10
	while IFS='	' read -r d mx; do
		echo "$mx" | tr ',' '\n' | while read -r h; do
			[ -n "$h" ] && echo "local-data: \"$d. 300 IN MX 10 $h.\""
		done
		# Each legit MX host gets an address of its own.
		echo "$mx" | tr ',' '\n' | while read -r h; do
			[ -n "$h" ] && echo "local-data: \"$h. 300 IN A 198.51.100.$n\""
		done
		n=$((n % 200 + 1))
	done <"$T/legit"
} | sort -u >"$T/zone.conf"
dm_dns_start "$T/zone.conf" || { dm_notok "DNS server starts"; dm_finish; }

# The shipped lists and fingerprints, exactly as the sample config names
# them, with DNS at the private server.
{
	grep -E '^(List|Fingerprints) ' "$C/disposable-milter.conf" |
	    sed "s| lists/| $C/lists/|; s| fingerprints/| $C/fingerprints/|"
	echo "Database $T/lists.db"
	echo "KeyFile $T/hash.key"
	echo "DNSServers $DM_DNS_SERVER"
	echo "DNSBudget 20000"
} >"$T/t.conf"
ctl() { "$DM_CTL" -c "$T/t.conf" "$@"; }
ctl genkey >/dev/null
dm_check "the shipped lists and fingerprints build" \
    sh -c "'$DM_CTL' -c '$T/t.conf' build >'$T/build' 2>&1"

# category_of FILE: "domain<TAB>category<TAB>match" for x@ each domain.
category_of()
{
	sed 's/^/x@/' "$1" | ctl check 2>/dev/null | sed 's/^x@//'
}

category_of "$T/mail-data" >"$T/r1"
n=$(wc -l <"$T/mail-data")
k=$(grep -c '	disposable	' "$T/r1")
echo "# mail-data.net domains: $k of $n disposable"
dm_check "mail-data.net MX: all $n sampled domains disposable" test "$k" -eq "$n"
# Most sampled domains are on no shipped list: the fingerprint decides.
f=$(grep -c '	disposable	mx:\*\.mail-data\.net$' "$T/r1")
echo "# ... $f of them by the fingerprint mx:*.mail-data.net"
dm_check "mail-data.net MX: the fingerprint decides for most ($f)" \
    test "$f" -ge $((n * 9 / 10))

category_of "$T/generator" >"$T/r2"
n=$(wc -l <"$T/generator")
k=$(grep -c '	disposable	' "$T/r2")
echo "# generator.email family: $k of $n disposable"
dm_check "generator.email family: all $n sampled domains disposable" test "$k" -eq "$n"
f=$(grep -c '	disposable	mx:' "$T/r2")
dm_check "generator.email family: the MX fingerprints decide for most ($f)" \
    test "$f" -ge $((n * 9 / 10))

i=0
while [ $i -lt 20 ]; do
	echo "alias$i.customer-sl.test"
	echo "alias$i.customer-addy.test"
	i=$((i + 1))
done >"$T/aliases"
category_of "$T/aliases" >"$T/r3"
dm_check "custom alias domains on SimpleLogin/addy.io MX: all relay" \
    test "$(grep -c '	relay	mx:' "$T/r3")" -eq 40

cut -f1 "$T/legit" >"$T/legit-domains"
category_of "$T/legit-domains" >"$T/r4"
n=$(wc -l <"$T/legit-domains")
bad=$(grep -E '	(disposable|relay|suspicious)	' "$T/r4")
echo "# legit mail services: $n checked, $(grep -c '	allowed	' "$T/r4") allowlisted, $(grep -c '	clean	' "$T/r4") clean"
if [ -z "$bad" ]; then
	dm_ok "no legitimate mail service caught by the shipped fingerprints ($n)"
else
	dm_notok "legitimate mail services caught:"
	echo "$bad" | sed 's/^/# /'
fi

dm_finish
