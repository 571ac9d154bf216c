# shellcheck shell=bash
# What every shell suite under tests/ shares: sourced, after $pfx (the
# namespace prefix) is known. Results: ok/bad/check count into $passed
# and $failed; each suite prints "N passed, N failed" itself.

passed=${passed:-0} failed=${failed:-0}

at() { local n=$1; shift; ip netns exec "$pfx-$n" "$@"; }

ok() { passed=$((passed + 1)); echo "ok   $*"; }
bad() { failed=$((failed + 1)); echo "FAIL $*"; }
check() {	# NAME EXPECTED GOT
	if [ "$2" = "$3" ]; then ok "$1"; else bad "$1: want '$2', got '$3'"; fi
}

us() { local t=${1/./}; echo $((10#$t)); }	# $EPOCHREALTIME -> us
ms_since() { echo $((($(us "$EPOCHREALTIME") - $(us "$1")) / 1000)); }
