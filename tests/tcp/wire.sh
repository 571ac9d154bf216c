# shellcheck shell=bash
# The topology of the TCP-correctness suites, sourced after tests/lib/lib.sh
# with $pfx, $work and $build set:
#
#   cli 198.18.1.2 -- [w1 bridge, 198.18.1.3] -- g0 198.18.1.1  gw
#   gw  g1 198.18.2.1 (SNAT) -- [w2 bridge, 198.18.2.3] -- b1 198.18.2.11
#
# The VIP 198.18.0.10 is routed to gw, never assigned. w1 and w2 are the
# wires: loss and drops are nftables rules there (bridge family), between
# the ends, where a drop is a loss to both TCPs; a spoofer runs there too.
# The data plane (build/dpctl) is attached to g0 and g1.

wire_nss="cli w1 gw w2 b1"
vip4=198.18.0.10
dp_pid=

cli() { at cli timeout 60 "$@"; }

wire_down() {
	local n
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	for n in $wire_nss; do ip netns del "$pfx-$n" 2>/dev/null; done
	umount "$work/bpffs" 2>/dev/null
	rm -rf "$work"
}

# link NS1 IF1 NS2 IF2
link() { ip link add "$2" netns "$pfx-$1" type veth peer name "$4" \
	netns "$pfx-$3"; }

bridge_in() {	# NS ADDR PORT...
	local ns=$1 addr=$2 p
	shift 2
	at "$ns" ip link add wbr type bridge
	at "$ns" ip addr add "$addr" dev wbr
	at "$ns" ip link set wbr up
	for p in "$@"; do at "$ns" ip link set "$p" master wbr up; done
}

wire_up() {
	local n
	for n in $wire_nss; do
		ip netns add "$pfx-$n" || return 1
		at "$n" ip link set lo up
	done
	link cli c0 w1 wc && link w1 wg gw g0 && link gw g1 w2 wg &&
		link w2 wb b1 eth0 || return 1
	bridge_in w1 198.18.1.3/24 wc wg
	bridge_in w2 198.18.2.3/24 wg wb
	at cli ip addr add 198.18.1.2/24 dev c0
	at cli ip link set c0 up
	# Segments on the wire as the client's TCP cut them (no TSO/GSO
	# packet spanning two), so a drop there is one segment lost.
	at cli ethtool -K c0 tso off gso off >/dev/null 2>&1
	at cli ip route add 198.18.0.0/24 via 198.18.1.1
	at w1 ip route add 198.18.0.0/24 via 198.18.1.1
	at gw ip addr add 198.18.1.1/24 dev g0
	at gw ip addr add 198.18.2.1/24 dev g1
	at gw ip link set g0 up
	at gw ip link set g1 up
	at gw sysctl -qw net.ipv4.conf.all.forwarding=1
	at b1 ip addr add 198.18.2.11/24 dev eth0
	at b1 ip link set eth0 up
	mkdir -p "$work/bpffs" && mount -t bpf bpf "$work/bpffs"
}

# start_dp CONFIG-LINES...: the data plane on gw, attached to g0 and g1.
start_dp() {
	{
		echo "snat 198.18.2.1"
		echo "timeouts 4000 3600"
		echo "listener 1 $vip4 443"
		printf '%s\n' "$@"
		echo "attach g0"
		echo "attach g1"
	} >"$work/dp.conf"
	ip netns exec "$pfx-gw" "$build/dpctl" --pin "$work/bpffs/snilb" \
		"$work/dp.conf" >"$work/dp.log" 2>&1 &
	dp_pid=$!
	pids+=("$dp_pid")
	wait_for ready "$work/dp.log"
}

# A TLS backend (tests/e2e/backend.py) on b1:8443, certificate for b1.
tls_backend() {
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
		-nodes -days 2 -subj "/CN=b1" -keyout "$work/b1.key" \
		-out "$work/b1.crt" 2>/dev/null || return 1
	ip netns exec "$pfx-b1" python3 "$tests_dir/e2e/backend.py" --name b1 \
		--cert "$work/b1.crt" --key "$work/b1.key" \
		>"$work/b1.log" 2>&1 &
	pids+=($!)
	wait_for listening "$work/b1.log"
}
