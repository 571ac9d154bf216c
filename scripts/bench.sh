#!/usr/bin/env bash
# `make bench`: what the data plane costs, measured, in one run on one
# topology (tests/e2e/topo.sh): snilb against plain routed forwarding
# through the same gateway namespace, to the same backends. On a shared
# 2-core machine absolute numbers are noise; the ratios are the figures.
# Usage: scripts/bench.sh BUILD_DIR [--quick]
set -uo pipefail

build=$(cd "${1:-build}" && pwd)
quick=${2:-}
top=$(cd "$(dirname "$0")/.." && pwd)
e2e=$top/tests/e2e
secs=5 mb=400
[ "$quick" = --quick ] && secs=2 mb=100
pfx=sb$$
work=$(mktemp -d /tmp/snilb-bench.XXXXXX)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	"$e2e/topo.sh" down "$pfx"
	sysctl -qw kernel.bpf_stats_enabled=0
	rm -rf "$work"
}
trap cleanup EXIT
at() { local n=$1; shift; ip netns exec "$pfx-$n" "$@"; }

echo "== kernel ns per packet (BPF_PROG_TEST_RUN, one packet per run)"
"$top/tests/in-netns.sh" "$build/dp_ns" 5000 | tee "$work/ns"

"$e2e/topo.sh" up "$pfx"
# Plain routing: the client reaches the backends through the gateway.
at cli ip route add 198.18.2.0/24 via 198.18.1.1
at b1 ip route add 198.18.1.0/24 via 198.18.2.1
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
	-days 2 -subj /CN=b1 -keyout "$work/b1.key" -out "$work/b1.crt" 2>/dev/null
ip netns exec "$pfx-b1" python3 "$e2e/backend.py" --name b1 \
	--cert "$work/b1.crt" --key "$work/b1.key" >"$work/b1.log" 2>&1 &
pids+=($!)
cat >"$work/dp.conf" <<EOF2
snat 198.18.2.1
listener 1 198.18.0.10 443
backend 1 198.18.2.11 8443
set 1 1
route 1 www.example.com 1 1
attach g0
attach br0
EOF2
ip netns exec "$pfx-gw" "$build/dpctl" "$work/dp.conf" >"$work/dp.log" 2>&1 &
pids+=($!)
for _ in $(seq 50); do
	grep -q ready "$work/dp.log" && grep -q listening "$work/b1.log" && break
	sleep 0.1
done
sysctl -qw kernel.bpf_stats_enabled=1

conns() {	# ADDR PORT
	at cli python3 "$top/tests/bench/conns.py" "$secs" 2 www.example.com \
		"$1" "$2" | awk '{print $2}'
}
bulk() {	# ADDR PORT -> MB/s
	local t0 t1
	t0=$(date +%s%N)
	at cli curl -sk --resolve "www.example.com:$2:$1" -o /dev/null \
		"https://www.example.com:$2/bytes/$((mb * 1048576))"
	t1=$(date +%s%N)
	echo $((mb * 1000000000 / (t1 - t0)))
}

echo "== new TLS connections per second ($secs s, 2 client processes)"
c_direct=$(conns 198.18.2.11 8443)
c_snilb=$(conns 198.18.0.10 443)
echo "== bulk download, one flow ($mb MB)"
b_direct=$(bulk 198.18.2.11 8443)
b_snilb=$(bulk 198.18.0.10 443)

echo "== kernel ns per run during the load (kernel.bpf_stats_enabled)"
bpftool prog show -j | python3 -c '
import json, sys
for p in json.load(sys.stdin):
    if p.get("name", "").startswith("snilb") and p.get("run_cnt"):
        print("%-14s runs %9d  %6.0f ns/run" % (p["name"], p["run_cnt"],
              p["run_time_ns"] / p["run_cnt"]))' | tee "$work/stats"

ratio() { python3 -c "print('%.2f' % ($1 / $2 if $2 else 0))"; }
printf '\n%-28s %12s %12s %8s\n' figure snilb direct ratio
printf '%-28s %12s %12s %8s\n' "TLS connections/s" "$c_snilb" "$c_direct" \
	"$(ratio "$c_snilb" "$c_direct")"
printf '%-28s %12s %12s %8s\n' "bulk MB/s (1 flow)" "$b_snilb" "$b_direct" \
	"$(ratio "$b_snilb" "$b_direct")"
mkdir -p "$top/bench/results"
out=$top/bench/results/dataplane-$(date -u +%Y%m%dT%H%M%SZ).json
python3 - "$work/ns" "$work/stats" >"$out" <<EOF2
import json, platform, sys
ns = dict(l.split() for l in open(sys.argv[1]))
print(json.dumps({
    "kernel": platform.release(), "machine": platform.machine(),
    "test_run_ns": {k: float(v) for k, v in ns.items()},
    "bpf_stats": open(sys.argv[2]).read().splitlines(),
    "conns_per_s": {"snilb": $c_snilb, "direct": $c_direct},
    "bulk_MBps": {"snilb": $b_snilb, "direct": $b_direct},
}, indent=1))
EOF2
echo "results: $out"
