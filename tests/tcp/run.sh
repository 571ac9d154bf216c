#!/usr/bin/env bash
# TCP correctness end to end (issue 13, docs/dataplane.md "TCP
# correctness"): every tests/tcp/t-*.sh, each in namespaces of its own,
# each printing "N passed, N failed[, N skipped]" last. This sums them.
# Usage: tests/tcp/run.sh BUILD_DIR [SUITE...]
set -uo pipefail
shopt -s nullglob

build=$(cd "${1:-build}" && pwd)
shift || true
here=$(cd "$(dirname "$0")" && pwd)
passed=0 failed=0 skipped=0
suites=("$@")
[ ${#suites[@]} -eq 0 ] && suites=("$here"/t-*.sh)

log=$(mktemp)
trap 'rm -f "$log"' EXIT
for s in "${suites[@]}"; do
	echo "== $(basename "$s")"
	"$s" "$build" 2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}
	out=$(tail -1 "$log")
	if [[ $out =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed(,\ ([0-9]+)\ skipped)?$ ]]; then
		passed=$((passed + BASH_REMATCH[1]))
		failed=$((failed + BASH_REMATCH[2]))
		skipped=$((skipped + ${BASH_REMATCH[4]:-0}))
		[ "$rc" -ne 0 ] && [ "${BASH_REMATCH[2]}" -eq 0 ] &&
			{ echo "FAIL $(basename "$s"): exit $rc"; failed=$((failed + 1)); }
	else
		echo "FAIL $(basename "$s"): no summary line (exit $rc)"
		failed=$((failed + 1))
	fi
done
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
