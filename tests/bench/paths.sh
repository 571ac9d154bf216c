#!/usr/bin/env bash
# The delayed-path scenario of `make bench` (docs/dataplane.md, "The
# backend's RTT"): a bulk download that a BBR and a CUBIC backend send to a
# client 20 ms away, through plain routing with DNAT and through snilb.
#
#   cli 198.18.1.2 -- dly: tests/bench/delay.c, 10 ms each way through a
#     |                200 Mbit/s bottleneck (this kernel has no netem)
#   gw  g0 198.18.1.1; br0 198.18.2.1 (SNAT)
#     |   DNAT (nftables): 198.18.0.20:443 -> bbr, 198.18.0.21:443 -> cub
#     |   snilb: 198.18.0.10:443, bbr.example.com -> bbr, cubic... -> cub
#   br0 -- bbr 198.18.2.11, cub 198.18.2.12: tests/bench/fetch.c on :9000,
#          its TCP_CONGESTION bbr and cubic
#
# Each download (fetch get) sends a real ClientHello and reads BYTES; its
# MB/s is counted from the first byte to the last, its time to first byte
# from connect(). ROUNDS rounds, the contenders taking turns in each; the
# median of each. "snilb-1syn" is snilb with `single_syn 1`: one SYN to
# the backend, whose TCP then takes its RTT from our handshake (as before
# issue 13; bpf/backend.h resyn()).
#
# Usage: tests/bench/paths.sh BUILD_DIR [--quick]
# Prints "path CC VIA mbs=R ttfb_ms=T hs_rtt_us=H min_rtt_us=M runs=N"
# lines (the backend's handshake RTT sample and its min RTT, as its
# TCP_INFO said, medians), or "path CC skipped: REASON".
set -uo pipefail

build=$(cd "${1:-build}" && pwd)
quick=${2:-}
pfx=sp$$
work=$(mktemp -d /tmp/snilb-paths.XXXXXX)
one_way_ms=${PATHS_ONE_WAY_MS:-10} rate_mbit=200 queue=400
bytes=32000000 rounds=3
[ "$quick" = --quick ] && bytes=16000000 rounds=2
nss="cli dly gw bbr cub"
read -r -a vias <<<"${PATHS_VIAS:-dnat snilb snilb-1syn}"
pids=()
dp_pid=

log() { printf '%s\n' "$*" >&2; }
at() { local n=$1; shift; ip netns exec "$pfx-$n" "$@"; }

cleanup() {
	local p n
	stop_dp
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	[ -f "$work/dly.log" ] && sed 's/^/  delay: /' "$work/dly.log" | grep relayed >&2
	for n in $nss; do ip netns del "$pfx-$n" 2>/dev/null; done
	rm -rf "$work"
}
trap cleanup EXIT

wait_for() {	# PATTERN FILE [SECONDS]: poll, never sleep blind
	local end=$((SECONDS + ${3:-20}))
	while [ $SECONDS -lt $end ]; do
		grep -q "$1" "$2" 2>/dev/null && return 0
		sleep 0.1
	done
	log "paths: gave up after ${3:-20} s waiting for '$1' in $2:"
	cat "$2" >&2
	return 1
}

link() { ip link add "$2" netns "$pfx-$1" type veth peer name "$4" \
	netns "$pfx-$3"; }

# The relay copies bytes: the frames reaching it must be whole (no
# GSO packet, no checksum left to the NIC).
whole_frames() { at "$1" ethtool -K "$2" tso off gso off tx off >/dev/null 2>&1; }

backend() {	# NS ADDR CC
	at "$1" ip addr add "$2/24" dev eth0
	at "$1" ip link set eth0 up
	at "$1" ip route add default via 198.18.2.1
	ip netns exec "$pfx-$1" "$build/fetch" serve 9000 "$bytes" "$3" \
		>"$work/$1.log" 2>&1 </dev/null &
	pids+=($!)
	wait_for listening "$work/$1.log"
}

setup() {
	local n
	for n in $nss; do
		ip netns add "$pfx-$n" || return 1
		at "$n" ip link set lo up
	done
	link cli c0 dly dc && link dly dg gw g0 || return 1
	link gw gb1 bbr eth0 && link gw gb2 cub eth0 || return 1
	at dly ip link set dc up
	at dly ip link set dg up
	at cli ip addr add 198.18.1.2/24 dev c0
	at cli ip link set c0 up
	at cli ip route add default via 198.18.1.1
	whole_frames cli c0
	at gw ip addr add 198.18.1.1/24 dev g0
	at gw ip link set g0 up
	whole_frames gw g0
	at gw ip link add br0 type bridge
	at gw ip addr add 198.18.2.1/24 dev br0
	at gw ip link set br0 up
	at gw ip link set gb1 master br0 up
	at gw ip link set gb2 master br0 up
	at gw sysctl -qw net.ipv4.conf.all.forwarding=1
	at gw nft -f - <<EOF || return 1
table ip paths {
	chain pre {
		type nat hook prerouting priority dstnat;
		ip daddr 198.18.0.20 tcp dport 443 dnat to 198.18.2.11:9000
		ip daddr 198.18.0.21 tcp dport 443 dnat to 198.18.2.12:9000
	}
}
EOF
	ip netns exec "$pfx-dly" "$build/delay" dc dg "$one_way_ms" \
		"$rate_mbit" "$queue" >"$work/dly.log" 2>&1 </dev/null &
	pids+=($!)
	wait_for relaying "$work/dly.log" || return 1
	backend bbr 198.18.2.11 bbr || return 1
	backend cub 198.18.2.12 cubic
}

# snilb on gw; SINGLE: 1 sends each backend one SYN, not two.
start_dp() {	# SINGLE
	{
		echo "snat 198.18.2.1"
		echo "listener 1 198.18.0.10 443"
		echo "backend 1 198.18.2.11 9000"
		echo "backend 2 198.18.2.12 9000"
		echo "set 1 1"
		echo "set 2 2"
		echo "route 1 bbr.example.com 1 1"
		echo "route 1 cubic.example.com 2 2"
		echo "single_syn $1"
		echo "attach g0"
		echo "attach br0"
	} >"$work/dp.conf"
	rm -f "$work/dp.log"	# not the last one's "ready"
	ip netns exec "$pfx-gw" "$build/dpctl" "$work/dp.conf" \
		>"$work/dp.log" 2>&1 </dev/null &
	dp_pid=$!
	wait_for ready "$work/dp.log"
}

stop_dp() {
	[ -n "$dp_pid" ] || return 0
	kill "$dp_pid" 2>/dev/null
	wait "$dp_pid" 2>/dev/null
	dp_pid=
}

target() {	# CC VIA -> "NAME ADDR"
	local name=cubic.example.com dnat=198.18.0.21
	[ "$1" = bbr ] && name=bbr.example.com dnat=198.18.0.20
	case $2 in
	dnat) echo "$name $dnat" ;;
	*) echo "$name 198.18.0.10" ;;
	esac
}

# One download; its result line, and the backend's line about it.
fetch() {	# CC VIA
	local ns=cub out srv n
	[ "$1" = bbr ] && ns=bbr
	n=$(grep -c hs_rtt_us "$work/$ns.log")
	out=$(at cli timeout 90 "$build/fetch" get $(target "$1" "$2") 443 \
		"$bytes" 60) || { log "  $1 $2: failed: $out"; return 1; }
	# The backend prints its line once the last byte is written.
	for _ in $(seq 100); do
		[ "$(grep -c hs_rtt_us "$work/$ns.log")" -gt "$n" ] && break
		sleep 0.1
	done
	srv=$(grep hs_rtt_us "$work/$ns.log" | tail -1)
	log "  $1 $2: $out $srv"
	echo "$1 $2 $out $srv" >>"$work/runs"
}

median() {	# CC VIA FIELD
	awk -v c="$1" -v v="$2" -v f="$3" '
		$1 == c && $2 == v { for (i = 3; i <= NF; i++) {
			split($i, kv, "="); if (kv[1] == f) print kv[2] } }' \
		"$work/runs" | sort -n | awk '{ a[NR] = $1 } END { if (!NR) exit
		m = NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2
		print m }'
}

has_bbr() {
	grep -qw bbr /proc/sys/net/ipv4/tcp_available_congestion_control ||
		modprobe tcp_bbr 2>/dev/null
	grep -qw bbr /proc/sys/net/ipv4/tcp_available_congestion_control
}

# --- main -----------------------------------------------------------------

ccs=(bbr cubic)
if ! has_bbr; then
	echo "path bbr skipped: no tcp_bbr in this kernel (modprobe tcp_bbr failed)"
	ccs=(cubic)
fi
setup || { log "paths: setup failed"; exit 1; }
: >"$work/runs"
for r in $(seq "$rounds"); do
	log "  round $r of $rounds (${bytes} bytes, ${one_way_ms} ms each way, ${rate_mbit} Mbit/s)"
	for via in "${vias[@]}"; do
		case $via in
		dnat) ;;
		snilb) start_dp 0 || exit 1 ;;
		snilb-1syn) start_dp 1 || exit 1 ;;
		esac
		for cc in "${ccs[@]}"; do fetch "$cc" "$via"; done
		stop_dp
	done
done
for cc in "${ccs[@]}"; do
	for via in "${vias[@]}"; do
		echo "path $cc $via mbs=$(median "$cc" "$via" mbs)" \
		     "ttfb_ms=$(median "$cc" "$via" ttfb_ms)" \
		     "hs_rtt_us=$(median "$cc" "$via" hs_rtt_us)" \
		     "min_rtt_us=$(median "$cc" "$via" min_rtt_us)" \
		     "runs=$(grep -c "^$cc $via " "$work/runs")"
	done
done
