#!/usr/bin/env bash
# Two gateway nodes behind one VIP (ECMP, issue 17) and the SYN cookie's
# key (bpf/cookie.h): a client's SYN goes to one node, its first ACK to
# the other. With the same key (dpctl's cookie-key, the agent's
# --cookie-key) the second node takes the first one's cookie (flow made,
# no RST); with different keys it refuses it (an RST, cookie_bad); after
# it rotates to the first node's key, with its own as the previous, it
# takes cookies of both. The client is a raw socket (synack.py); the
# route of each segment is chosen by its firewall mark. Twice: SYNs
# answered by the TC program, then by the XDP one (native on veth).
#   cli --c1/g1-- gw1     cli --c2/g2-- gw2     (VIP 198.18.0.10:443)
# Usage: tests/tcp/t-cookie-key.sh BUILD_DIR
set -uo pipefail

build=$(cd "${1:-build}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/lib.sh"
if [ "$(id -u)" -ne 0 ]; then
	echo "t-cookie-key: skipped: network namespaces and BPF need root"
	echo "0 passed, 0 failed, 1 skipped"
	exit 0
fi

pfx=tk$$
work=$(mktemp -d /tmp/snilb-tkey.XXXXXX)
pids=()
passed=0 failed=0
vip=198.18.0.10
cleanup() {
	[ -n "${KEEP:-}" ] && { echo "kept $pfx ($work)"; return; }
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	for n in cli gw1 gw2; do ip netns del "$pfx-$n" 2>/dev/null; done
	rm -rf "$work"
}
trap cleanup EXIT

setup() {
	local i
	for n in cli gw1 gw2; do ip netns add "$pfx-$n" || return 1; done
	for i in 1 2; do
		ip link add c$i netns "$pfx-cli" type veth peer name g$i \
			netns "$pfx-gw$i" || return 1
		at cli ip link set c$i up
		at gw$i ip link set g$i up
		at gw$i ip link set lo up
		at cli ip addr add 198.18.$((i * 2 - 1)).2/24 dev c$i
		at gw$i ip addr add 198.18.$((i * 2 - 1)).1/24 dev g$i
		# Neighbours fixed both ways: no ARP to lose while a node's
		# programs come and go.
		at cli ip neigh add 198.18.$((i * 2 - 1)).1 dev c$i nud permanent \
			lladdr "$(at gw$i cat /sys/class/net/g$i/address)"
		at gw$i ip neigh add 198.18.$((i * 2 - 1)).2 dev g$i nud permanent \
			lladdr "$(at cli cat /sys/class/net/c$i/address)"
		# XDP on the client's end: a veth delivers the frames its
		# peer sends back with XDP_TX only to an end with XDP (the
		# xdp suite below; GRO alone did not, on 6.18).
		at cli ip link set dev c$i xdpdrv obj "$build/xdp_pass.bpf.o" \
			sec xdp || return 1
	done
	at cli ip link set lo up
	at cli ip route add $vip/32 via 198.18.1.1
	at cli ip route add $vip/32 via 198.18.3.1 table 100
	at cli ip rule add fwmark 2 table 100
	at cli sysctl -qw net.ipv4.conf.all.rp_filter=0 \
		net.ipv4.conf.default.rp_filter=0
	# The client's stack answers a SYN-ACK it has no socket for with an
	# RST; that one is not what the test looks at.
	head -c 32 /dev/urandom >"$work/keyA"
	head -c 40 /dev/urandom | od -An -tx1 -v >"$work/keyB"	# as hex
}

# start_gw N KEYFILE: dpctl on gwN with that key; its pid in gwpid[N].
declare -A gwpid
start_gw() {
	local n=$1 key=$2
	cat >"$work/gw$n.conf" <<-EOC
	snat 198.18.9.1
	listener 1 $vip 443
	cookie-key $key
	attach g$n
	${XDPLINE:+$XDPLINE g$n}
	EOC
	ip netns exec "$pfx-gw$n" "$build/dpctl" "$work/gw$n.conf" \
		>"$work/gw$n.out" 2>&1 &
	gwpid[$n]=$!
	pids+=("$!")
	# Verifying the programs takes a while in a TCG VM (make vmtest).
	wait_for ready "$work/gw$n.out" 300
}

stop_gw() {
	kill "${gwpid[$1]}" 2>/dev/null
	wait "${gwpid[$1]}" 2>/dev/null
}

# stat_of N NAME: gwN's counter, from its SIGUSR1 dump (polled).
stat_of() {
	local n=$1 before
	before=$(grep -c "^stat $2 " "$work/gw$n.out")
	kill -USR1 "${gwpid[$n]}"
	for _ in $(seq 600); do
		[ "$(grep -c "^stat $2 " "$work/gw$n.out")" -gt "$before" ] && break
		sleep 0.05
	done
	grep "^stat $2 " "$work/gw$n.out" | tail -1 | awk '{print $3}'
}

# handshake SPORT: SYN via gw1, ACK via gw2; "rst" or "quiet".
handshake() {
	at cli timeout 60 python3 "$here/synack.py" 198.18.1.2 $vip 443 "$1" \
		0 2 3 >"$work/hs.$1" 2>&1
	grep -q "^synack " "$work/hs.$1" || { echo "no-synack"; return; }
	tail -1 "$work/hs.$1"
}

# suite MODE: the checks, SYNs answered by TC ("tc") or XDP ("xdp").
suite() {
	local r
	XDPLINE=
	[ "$1" = xdp ] && XDPLINE=xdp
	start_gw 1 "$work/keyA" || bad "$1: gw1 did not start"
	start_gw 2 "$work/keyA" || bad "$1: gw2 did not start"
	r=$(handshake 40001)
	check "$1: same key: the ACK's node takes the SYN's node's cookie (no RST)" quiet "$r"
	check "$1: same key: gw2 counted it good" 1 "$(stat_of 2 cookie_ok)"
	check "$1: same key: gw2 made the flow" 1 "$(stat_of 2 flows)"
	check "$1: gw1 answered the SYN" 1 "$(stat_of 1 syn)"
	if [ "$1" = xdp ]; then
		grep -q "^xdp g1 native" "$work/gw1.out" ||
			bad "xdp: g1 not native: $(grep ^xdp "$work/gw1.out")"
		check "xdp: gw1 answered it in XDP" 1 "$(stat_of 1 syn_xdp)"
	else
		check "tc: gw1 answered it in TC" 0 "$(stat_of 1 syn_xdp)"
	fi
	stop_gw 2
	start_gw 2 "$work/keyB" || bad "$1: gw2 (key B) did not start"
	r=$(handshake 40002)
	check "$1: other key: the cookie is refused (RST)" rst "$r"
	check "$1: other key: gw2 counted it bad" 1 "$(stat_of 2 cookie_bad)"
	check "$1: other key: no flow on gw2" 0 "$(stat_of 2 flows)"
	stop_gw 2
	# Key B, then A: A is current, B the previous.
	cat >"$work/gw2.conf" <<-EOC
	snat 198.18.9.1
	listener 1 $vip 443
	cookie-key $work/keyB
	cookie-key $work/keyA
	attach g2
	${XDPLINE:+$XDPLINE g2}
	EOC
	ip netns exec "$pfx-gw2" "$build/dpctl" "$work/gw2.conf" \
		>"$work/gw2.out" 2>&1 &
	gwpid[2]=$!
	pids+=("$!")
	wait_for ready "$work/gw2.out" 300 || bad "$1: gw2 (B, A) did not start"
	r=$(handshake 40003)
	check "$1: rotated to the shared key: the cookie is taken" quiet "$r"
	check "$1: rotated: gw2 counted it good" 1 "$(stat_of 2 cookie_ok)"
	stop_gw 1
	stop_gw 2
}

if ! setup; then
	bad "setup"
else
	suite tc
	suite xdp
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
