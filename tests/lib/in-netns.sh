#!/usr/bin/env bash
# Run a test binary in a network namespace of its own, with the routes and
# neighbours the data plane's BPF_PROG_TEST_RUN tests forward to: a veth
# (dummy is not built on every kernel) on the backend network (198.18.2.0/24, 2001:db8:2::/64) with
# permanent neighbour entries, so bpf_fib_lookup() finds complete paths.
# Usage: tests/lib/in-netns.sh COMMAND [ARGS...]
set -euo pipefail

if [ "$(id -u)" -ne 0 ]; then
	echo "in-netns: skipped: network namespaces need root"
	echo "0 passed, 0 failed, 1 skipped"
	exit 0
fi
ns=snilb-t$$
cleanup() { ip netns del "$ns" 2>/dev/null || true; }
trap cleanup EXIT
ip netns add "$ns"
run() { ip netns exec "$ns" "$@"; }
run ip link set lo up
run ip link add dummy0 type veth peer name dummy1
run ip link set dummy1 up
run ip link set dummy0 up
run ip addr add 198.18.2.1/24 dev dummy0
run ip -6 addr add 2001:db8:2::1/64 dev dummy0 nodad
run ip neigh add 198.18.2.11 lladdr 02:00:00:00:0b:01 dev dummy0 nud permanent
run ip neigh add 198.18.2.12 lladdr 02:00:00:00:0b:02 dev dummy0 nud permanent
run ip -6 neigh add 2001:db8:2::11 lladdr 02:00:00:00:0b:03 dev dummy0 nud permanent
run sysctl -qw net.ipv4.conf.all.forwarding=1 net.ipv6.conf.all.forwarding=1
# The harness's VIPs are routed back out, as on a node whose route to an
# address it does not own leads to its router: what no listener takes is
# the data plane's to answer (bpf/vip.h). 198.18.3.1 is the node's own.
run ip route add 198.18.0.0/24 via 198.18.2.11
run ip -6 route add 2001:db8::/64 via 2001:db8:2::11
run ip addr add 198.18.3.1/32 dev lo
# A gateway node on another segment, behind a router (test_multinode:
# steered to it in an outer header).
run ip route add 198.18.4.0/24 via 198.18.2.12
run "$@"
