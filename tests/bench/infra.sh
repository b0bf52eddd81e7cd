#!/bin/sh
# make bench, second part: the cost of a fingerprint verdict, cold against
# a private unbound on loopback and from the cache.
. "${DM_SRCDIR:?}/tests/support/common.sh"
. "$DM_SRCDIR/tests/support/dns.sh"
dm_init bench-infra
DM_BUILDDIR=${DM_BUILDDIR:-.}
T=$DM_TMP
N=${BENCH_INFRA_N:-2000}
S=$DM_SRCDIR/tests/infra

i=0
{
	cat "$S/zone.conf"
	while [ $i -lt "$N" ]; do
		echo "local-data: \"fresh-$i.bench. 300 IN MX 10 in.example-temp.test.\""
		echo "local-data: 'fresh-$i.bench. 300 IN TXT \"v=spf1 include:_spf.level1.test -all\"'"
		i=$((i + 1))
	done
} >"$T/zone.conf"
dm_dns_start "$T/zone.conf" || exit 1
"$DM_BUILDDIR/ctl/disposable-ctl" build -o "$T/fp.db" \
    "disposable:bench:$S/lists-disposable.txt" \
    "fp:disposable:bench-fp:$S/fingerprints-disposable.txt" >/dev/null || exit 1
echo "infrastructure: $N fresh domains (MX on a fingerprinted host, SPF two levels deep), unbound on $DM_DNS_SERVER"
"$DM_BUILDDIR/tests/bench/bench_infra" "$T/fp.db" "$DM_DNS_SERVER" "$N"
