#!/usr/bin/env bash
# The end-to-end topology, in network namespaces of our own:
#
#   cli (198.18.1.2, 2001:db8:1::2)
#    | c0 -- g0
#   gw  (198.18.1.1 | br0 198.18.2.1, 2001:db8:2::1; VIPs 198.18.0.10,
#    |                2001:db8:100::10 are routed here, never assigned)
#   br0 -- b1 (198.18.2.11), b2 (.12), b3 (.13)   (2001:db8:2::11 ...)
#    | g4 198.18.5.1 -- rt 198.18.5.2 | 198.18.6.1 -- b4 (198.18.6.11)
#                      a router whose link to b4 has an MTU of 1280
#
# Usage: topo.sh up|down PREFIX
set -euo pipefail

cmd=$1 pfx=$2
ns() { echo "$pfx-$1"; }
at() { local n=$1; shift; ip netns exec "$(ns "$n")" "$@"; }

down() {
	for n in cli gw b1 b2 b3 rt b4; do
		ip netns del "$(ns "$n")" 2>/dev/null || true
	done
}

up() {
	down
	for n in cli gw b1 b2 b3 rt b4; do
		ip netns add "$(ns "$n")"
		at "$n" ip link set lo up
		# No duplicate address detection: its second of waiting
		# would show up as a slow first IPv6 connection.
		at "$n" sysctl -qw net.ipv6.conf.all.accept_dad=0 \
			net.ipv6.conf.default.accept_dad=0
	done
	ip link add c0 netns "$(ns cli)" type veth peer name g0 netns "$(ns gw)"
	at cli ip addr add 198.18.1.2/24 dev c0
	at cli ip -6 addr add 2001:db8:1::2/64 dev c0 nodad
	at cli ip link set c0 up
	at gw ip addr add 198.18.1.1/24 dev g0
	at gw ip -6 addr add 2001:db8:1::1/64 dev g0 nodad
	at gw ip link set g0 up
	# Permanent IPv6 neighbours on the client link: neighbour discovery
	# here takes about a second, which would show as a slow first call.
	at cli ip -6 neigh add 2001:db8:1::1 dev c0 nud permanent \
		lladdr "$(at gw cat /sys/class/net/g0/address)"
	at gw ip -6 neigh add 2001:db8:1::2 dev g0 nud permanent \
		lladdr "$(at cli cat /sys/class/net/c0/address)"
	at cli ip route add 198.18.0.0/24 via 198.18.1.1
	at cli ip -6 route add 2001:db8:100::/64 via 2001:db8:1::1
	at gw ip link add br0 type bridge
	at gw ip addr add 198.18.2.1/24 dev br0
	at gw ip -6 addr add 2001:db8:2::1/64 dev br0 nodad
	at gw ip link set br0 up
	at gw sysctl -qw net.ipv4.conf.all.forwarding=1 \
		net.ipv6.conf.all.forwarding=1
	local i=1
	for b in b1 b2 b3; do
		ip link add eth0 netns "$(ns "$b")" type veth peer \
			name "gb$i" netns "$(ns gw)"
		at gw ip link set "gb$i" master br0 up
		at "$b" ip addr add "198.18.2.1$i/24" dev eth0
		at "$b" ip -6 addr add "2001:db8:2::1$i/64" dev eth0 nodad
		at "$b" ip link set eth0 up
		i=$((i + 1))
	done
	behind_router
}

# b4 behind a router, its link at MTU 1280: a client's full-sized
# segments to it draw "fragmentation needed" from the router.
behind_router() {
	ip link add g4 netns "$(ns gw)" type veth peer name r0 netns "$(ns rt)"
	at gw ip addr add 198.18.5.1/24 dev g4
	at gw ip link set g4 up
	at gw ip route add 198.18.6.0/24 via 198.18.5.2
	at rt ip addr add 198.18.5.2/24 dev r0
	at rt ip link set r0 up
	at rt ip route add 198.18.2.0/24 via 198.18.5.1
	at rt sysctl -qw net.ipv4.conf.all.forwarding=1
	ip link add r1 netns "$(ns rt)" type veth peer name eth0 \
		netns "$(ns b4)"
	at rt ip addr add 198.18.6.1/24 dev r1
	at rt ip link set r1 mtu 1280 up
	at b4 ip addr add 198.18.6.11/24 dev eth0
	at b4 ip link set eth0 mtu 1280 up
	at b4 ip route add default via 198.18.6.1
}

"$cmd"
