#!/usr/bin/env bash
# Run the libFuzzer target for SECONDS (0: until interrupted), seeded with
# every hello we have; new inputs land in WORKDIR/corpus, where the
# differential kernel test (tests/bpf/kdiff.c) picks them up.
# Usage: tests/fuzz.sh FUZZER WORKDIR SECONDS
set -euo pipefail

fuzzer=$1 work=$2 seconds=$3
corpus_dir=${CORPUS:-$(dirname "$0")/../../shared/corpus}/hello
mkdir -p "$work/corpus" "$work/artifacts"

seeds=()
for d in "$(dirname "$fuzzer")/hellos" "$corpus_dir"; do
	if [ -d "$d" ]; then
		seeds+=("$d")
	else
		echo "fuzz: seed directory $d not found, not used" >&2
	fi
done

args=(-max_len=17000 -timeout=10 -rss_limit_mb=2048
      -artifact_prefix="$work/artifacts/" -print_final_stats=1)
[ "$seconds" -gt 0 ] && args+=(-max_total_time="$seconds")

log=$work/fuzz.log
status=0
"$fuzzer" "${args[@]}" "$work/corpus" "${seeds[@]}" >"$log" 2>&1 || status=$?
grep -E '^stat::(number_of_executed_units|new_units_added|peak_rss)' "$log" || true
if [ "$status" -ne 0 ]; then
	tail -n 40 "$log"
	echo "fuzz: the fuzzer found a failing input (see $work/artifacts/)"
	echo "0 passed, 1 failed"
	exit 1
fi
echo "fuzz: $(ls "$work/corpus" | wc -l) inputs in $work/corpus, no crash" \
	"or property failure in ${seconds}s"
echo "1 passed, 0 failed"
