#!/usr/bin/env bash
# The suites that exercise the kernel, run as one command so `make vmtest`
# can run them under another kernel (vmtest/run). Binaries must be built
# already: in a VM the tree is read-only.
# Usage: tests/vm-suites.sh BUILD_DIR
set -uo pipefail

build=${1:-build}
corpus=${CORPUS:-$(cd "$(dirname "$0")/.." && pwd)/../shared/corpus}
failed=0 passed=0

suite() {
	local name=$1
	shift
	echo "== $name on $(uname -r)"
	if "$@"; then
		passed=$((passed + 1))
	else
		echo "FAIL: $name"
		failed=$((failed + 1))
	fi
}

suite "parser, kernel vs userspace" "$build/test_kdiff" -m 4000 \
	"$build/hellos" "$corpus/hello" "$build/fuzz/corpus"
suite "data plane, SYN cookies" ./tests/lib/in-netns.sh "$build/test_cookie"
suite "data plane, hellos" ./tests/lib/in-netns.sh "$build/test_hello"
suite "data plane, routing" ./tests/lib/in-netns.sh "$build/test_route"
suite "data plane, splicing" ./tests/lib/in-netns.sh "$build/test_splice"
suite "the reaper against the data plane" ./tests/lib/in-netns.sh "$build/test_reaper"
suite "TC attach, query, detach" ./tests/lib/in-netns.sh "$build/test_tc"
suite "pinned maps of another layout" ./tests/lib/in-netns.sh "$build/test_pins"
suite "data plane, ICMP errors" ./tests/lib/in-netns.sh "$build/test_icmp"
suite "data plane, TCP correctness" ./tests/lib/in-netns.sh "$build/test_tcp"
suite "data plane, SNAT ports" ./tests/lib/in-netns.sh "$build/test_snat"
suite "data plane, traffic to VIPs" ./tests/lib/in-netns.sh "$build/test_vip"
suite "data plane, the backend's RTT" ./tests/lib/in-netns.sh "$build/test_bbr"
suite "data plane, MSS and MTU" ./tests/lib/in-netns.sh "$build/test_mss"
suite "data plane, long hellos" ./tests/lib/in-netns.sh "$build/test_owned"
suite "data plane, PROXY protocol v2" ./tests/lib/in-netns.sh "$build/test_proxy"
suite "data plane, access log records" ./tests/lib/in-netns.sh "$build/test_alog"
suite "data plane, NAT46/64" ./tests/lib/in-netns.sh "$build/test_nat46"
suite "data plane, SYNs answered in XDP" ./tests/lib/in-netns.sh "$build/test_xdp"
suite "data plane, several gateway nodes" \
	./tests/lib/in-netns.sh "$build/test_multinode"
suite "data plane, steering in an outer header (IPIP, 6in4)" \
	./tests/lib/in-netns.sh "$build/test_steerwrap"
suite "the node table, written and read back" \
	./tests/lib/in-netns.sh "$build/test_nodetable"
suite "the cookie's key across two gateway nodes, TC and XDP" \
	./tests/tcp/t-cookie-key.sh "$build"
suite "snilb sni --kernel on the corpus" ./tests/corpus.sh "$build/snilb"
suite "end to end, real TLS through the data plane" \
	env E2E_SEQ=200 E2E_CONC=50 ./tests/e2e/run.sh "$build"
suite "the agent: manifests to the data plane, real TLS" \
	./tests/e2e/agent.sh "$build"

echo "vm suites on $(uname -r): $passed passed, $failed failed"
[ "$failed" -eq 0 ]
