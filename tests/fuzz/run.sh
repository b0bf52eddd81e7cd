#!/bin/sh
# tests/fuzz/run.sh - run every libFuzzer target for a bounded time.
#
# make fuzz runs it in a build configured with CC=clang --enable-fuzzing
# (DM_SRCDIR and DM_BUILDDIR set; run by hand, DM_BUILDDIR is the current
# directory).  Each target runs DM_FUZZ_SECONDS (default 20) on a copy of
# its corpus tests/fuzz/corpus/NAME in a temporary directory, so the
# source tree is never written, seeded besides from files of DM_DATA
# (read in place) when they are there.  DM_FUZZ_TARGETS="spf config"
# runs only those.
#
# One line per target: "ok" when it ran and libFuzzer found nothing; "not
# ok" when it crashed, broke a promise of its header (an abort), leaked,
# hung, ran out of memory, or did not run at all.  The input that failed
# is kept with the log in DM_FUZZ_ARTIFACTS (default
# DM_BUILDDIR/tests/fuzz/artifacts), and the line says how to replay it.
set -u

: "${DM_SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${DM_BUILDDIR:=$(pwd)}"
: "${DM_DATA:=}"
: "${DM_FUZZ_SECONDS:=20}"
: "${DM_FUZZ_ARTIFACTS:=$DM_BUILDDIR/tests/fuzz/artifacts}"
: "${DM_KEEP:=}"
. "$DM_SRCDIR/tests/support/common.sh"

TARGETS="envelope header domain spf listdb config keyring dns records listupdate"

# max_len NAME: the longest input worth trying, a little past the
# module's own limit so that the limit itself is tried.
max_len()
{
	case $1 in
	envelope) echo 2100 ;;	# ENVELOPE_MAX 2048 (addr.c)
	header) echo 8192 ;;
	domain) echo 1100 ;;	# DOMAIN_INPUT_MAX 1024 (domain.c)
	spf) echo 1200 ;;	# SPF_RECORD_MAX 1024 (spf.h)
	config) echo 8192 ;;	# CONF_LINE_MAX 4096 (conf.c)
	records) echo 4400 ;;	# 2 + a 255-byte key + the longest
				# aggregate, 35 + 8 * (255 + 255)
	*) echo 4096 ;;
	esac
}

# seeds NAME: the files that seed NAME besides its corpus, read in
# place, one a line: DM_DATA's vectors and lists when it is there, the
# sample configuration of the source tree.
seeds()
{
	case $1 in
	envelope) set -- vectors/isemail-hapijs/tests.tsv \
	    vectors/isemail-dominicsayers/tests.tsv \
	    vectors/flanker-address-fixtures/mailboxes.tsv ;;
	header) set -- vectors/header-address-cases/cases.tsv \
	    messages/messages-flanker/headers_index.tsv \
	    messages/messages-mikel-mail/headers_index.tsv \
	    messages/messages-spamassassin/headers_index.tsv ;;
	domain) set -- vectors/flanker-address-fixtures/domain_typos_valid.txt \
	    vectors/flanker-address-fixtures/domain_typos_invalid.txt \
	    lists/alias-relay-domains/relay_domains.txt ;;
	listdb) set -- lists/7c-fakefilter/domains.txt \
	    lists/7c-fakefilter/hosts.txt \
	    lists/alias-relay-domains/relay_domains.txt \
	    lists/amieiro-disposable-email-domains/allowDomains.txt \
	    lists/disposable-static-disposable-lists/legit_service_mx_hosts.txt ;;
	listupdate) set -- lists/7c-fakefilter/raw/data.txt \
	    lists/disposable-email-domains/blocklist.txt \
	    lists/disposable-static-disposable-lists/legit_service_mx_hosts.txt ;;
	config) echo "$DM_SRCDIR/conf/disposable-milter.conf"; return ;;
	*) return ;;
	esac
	[ -n "$DM_DATA" ] || return 0
	for f; do
		[ -r "$DM_DATA/$f" ] && echo "$DM_DATA/$f"
	done
	return 0
}

case $DM_FUZZ_SECONDS in
''|*[!0-9]*|0) echo "Bail out! DM_FUZZ_SECONDS must be a number of seconds"; exit 99 ;;
esac

dm_init fuzz
# The targets' files go to memory when it can be had: a list build syncs
# its database, and on a disk that halves the inputs tried.
if [ -d /dev/shm ] && [ -w /dev/shm ] &&
    TMPDIR=$(mktemp -d /dev/shm/dm-fuzz.XXXXXX 2>/dev/null); then
	[ -n "$DM_KEEP" ] || dm_atexit "rm -rf '$TMPDIR'"
else
	TMPDIR=$DM_TMP/tmp
	mkdir -p "$TMPDIR"
fi
export TMPDIR
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1}"
if [ -z "$DM_DATA" ] || [ ! -d "$DM_DATA" ]; then
	echo "# DM_DATA (${DM_DATA:-unset}) missing: seeding from the committed corpora only"
fi

# fuzz NAME
fuzz()
{
	target=$1
	name=fuzz_$target
	bin=$DM_BUILDDIR/tests/fuzz/$name
	src=$DM_SRCDIR/tests/fuzz/corpus/$target
	corpus=$DM_TMP/corpus/$target
	art=$DM_TMP/artifacts/$target
	log=$DM_TMP/$name.log

	if [ ! -x "$bin" ]; then
		dm_notok "$name: not built ($bin); configure CC=clang --enable-fuzzing"
		return
	fi
	if [ ! -d "$src" ] || [ -z "$(ls "$src")" ]; then
		dm_notok "$name: no seed corpus in $src"
		return
	fi
	mkdir -p "$corpus" "$art"
	cp "$src"/* "$corpus"/ && chmod -R u+w "$corpus"
	set -- -max_total_time="$DM_FUZZ_SECONDS" -max_len="$(max_len "$target")" \
	    -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
	    -artifact_prefix="$art/"
	s=$(seeds "$target" | paste -sd, -)
	[ -n "$s" ] && set -- "$@" -seed_inputs="$s"

	start=$(date +%s)
	# libFuzzer stops itself after max_total_time; the outer limit is
	# for a target that never comes back (a hang in its set-up).
	timeout -k 10 $((DM_FUZZ_SECONDS * 2 + 60)) "$bin" "$@" "$corpus" \
	    </dev/null >"$log" 2>&1
	rc=$?
	secs=$(($(date +%s) - start))
	runs=$(sed -n 's/^Done \([0-9]*\) runs in .*/\1/p' "$log" | tail -n 1)
	stats=$(sed -n 's/.*DONE *\(cov: [0-9]*\).*corp: \([0-9]*\).*/\1, corpus \2 inputs/p' "$log" | tail -n 1)

	if [ "$rc" -eq 0 ] && [ "${runs:-0}" -gt 0 ]; then
		dm_ok "$name: $runs runs in $secs s, ${stats:-no stats}"
		return
	fi
	if [ "$rc" -eq 0 ]; then
		why="did not run any input"
	elif [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
		why="did not finish within $((DM_FUZZ_SECONDS * 2 + 60)) s"
	else
		why=$(grep -m 1 -E 'broken promise|runtime error|ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)' "$log" |
		    sed 's/^==[0-9]*==//')
		why="failed (exit $rc): ${why:-see the log}"
	fi
	keep=$DM_FUZZ_ARTIFACTS/$name.$(date +%Y%m%d-%H%M%S)
	mkdir -p "$keep" && cp "$log" "$keep"/ && cp -R "$art"/. "$keep"/
	dm_notok "$name: $why"
	for f in "$keep"/*; do
		case ${f##*/} in
		crash-*|leak-*|timeout-*|oom-*|slow-unit-*)
			echo "# failing input: $f"
			echo "# replay: $bin $f" ;;
		esac
	done
	echo "# log: $keep/$name.log"
	dm_diag "$log" 40
}

for t in ${DM_FUZZ_TARGETS:-$TARGETS}; do
	case " $TARGETS " in
	*" $t "*) ;;
	*) echo "Bail out! no target $t (targets: $TARGETS)"; exit 99 ;;
	esac
done
t0=$(date +%s)
for t in ${DM_FUZZ_TARGETS:-$TARGETS}; do
	fuzz "$t"
done
echo "# $(($(date +%s) - t0)) s in all"
dm_finish
