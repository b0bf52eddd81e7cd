#!/bin/sh
# make bench: build a database from the largest shared list (~209,000
# domains) and classify a million addresses against it.  Results go to
# stdout; record them with the command in the README or an issue note.
set -eu
list="$DM_DATA/lists/amieiro-disposable-email-domains/denyDomains.txt"
if [ ! -r "$list" ]; then
	echo "bench: $list not found (set DM_DATA to the shared data folder)"
	exit 1
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "list: $list ($(wc -l < "$list") lines)"
./tests/bench/bench_classify "$list" "$tmp/bench.db" "${BENCH_N:-1000000}"
