#!/bin/sh
# tests/ci.sh - the whole test suite, from a fresh Debian 12 machine as
# root: install what the build and the tests need, build with warnings as
# errors, run every test (unit, protocol through miltertest, end to end
# through a private Postfix, the Debian package built, installed, used and
# purged), again under valgrind and with sanitizers, run the fuzz targets
# for a while, then check the distribution tarball.
#
# Tests read ../shared/data beside the checkout (DM_DATA overrides); a test
# that needs it and cannot find it is reported as skipped, never passed.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
	export DEBIAN_FRONTEND=noninteractive
	# Postfix must install without asking and without starting: the
	# tests run private instances of their own.  Sendmail conflicts
	# with it: tests/e2e/sendmail.sh unpacks its packages itself and
	# needs only m4 and the two libraries it links beyond ours.
	echo "postfix postfix/main_mailer_type select No configuration" |
	    debconf-set-selections
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
		chmod 755 /usr/sbin/policy-rc.d
		trap 'rm -f /usr/sbin/policy-rc.d' EXIT
	fi
	apt-get update -qq
	apt-get install -y -q --no-install-recommends \
	    build-essential autoconf automake pkg-config \
	    libmilter-dev liblmdb-dev libssl-dev libidn2-dev libpsl-dev \
	    libspf2-dev libc-ares-dev libcurl4-openssl-dev libsystemd-dev \
	    publicsuffix \
	    openssl ca-certificates miltertest postfix swaks \
	    lmdb-utils valgrind unbound python3 python3-prometheus-client \
	    m4 liblockfile1 libwrap0 clang libclang-rt-14-dev strace \
	    dpkg-dev debhelper devscripts fakeroot lintian systemd \
	    >/dev/null
fi

: "${DM_DATA:=$(cd "$top/.." && pwd)/shared/data}"
export DM_DATA
[ -d "$DM_DATA" ] || echo "note: $DM_DATA missing: the tests that need it will be reported as skipped"

autoreconf -fi >/dev/null 2>&1
rm -rf _build
mkdir _build
cd _build
../configure -q --enable-werror
make -j2 >/dev/null

status=0
make -j2 check || status=$?
if [ -f test-suite.log ]; then
	# Show every failure in full, then one closing line of counts.
	[ $status -eq 0 ] || cat test-suite.log
	pass=$(sed -n 's/^# PASS: *//p' test-suite.log)
	fail=$(sed -n 's/^# FAIL: *//p' test-suite.log)
	skip=$(sed -n 's/^# SKIP: *//p' test-suite.log)
	err=$(sed -n 's/^# ERROR: *//p' test-suite.log)
fi
[ $status -eq 0 ] || { echo "${pass:-0} passed, $((${fail:-0} + ${err:-0})) failed, ${skip:-0} skipped"; exit 1; }

# The unit tests once more under valgrind.
make -j2 check-valgrind >valgrind.log 2>&1 ||
    { cat valgrind.log; cat valgrind-suite.log 2>/dev/null; echo "0 passed, 1 failed (valgrind)"; exit 1; }
echo "valgrind: ok"

# Everything once more built with AddressSanitizer and UBSan: the unit
# tests and the daemon under the protocol and end-to-end tests.
cd "$top"
rm -rf _build-asan
mkdir _build-asan
cd _build-asan
san="-fsanitize=address,undefined -fno-sanitize-recover=undefined"
../configure -q --enable-werror CFLAGS="-g -O1 -fno-omit-frame-pointer $san" \
    LDFLAGS="$san"
make -j2 >/dev/null
make -j2 check >sanitize.log 2>&1 ||
    { cat sanitize.log test-suite.log; echo "0 passed, 1 failed (sanitizers)"; exit 1; }
echo "sanitizers: ok"

# Every parser that sees untrusted input under libFuzzer, built with
# clang (ASan, UBSan), each target for DM_FUZZ_SECONDS (20) seconds.
cd "$top"
rm -rf _build-fuzz
mkdir _build-fuzz
cd _build-fuzz
../configure -q CC=clang --enable-fuzzing --enable-werror
make -j2 >/dev/null
make fuzz DM_DATA="$DM_DATA" >fuzz.log 2>&1 ||
    { cat fuzz.log; echo "0 passed, 1 failed (fuzzing)"; exit 1; }
grep -E '^ok|in all$' fuzz.log || true
echo "fuzzing: ok"
cd "$top/_build"

make -j2 distcheck DM_DATA="$DM_DATA" >distcheck.log 2>&1 ||
    { tail -50 distcheck.log; echo "distcheck failed"; exit 1; }
echo "distcheck: ok"
echo "${pass:-0} passed, ${fail:-0} failed, ${skip:-0} skipped"
