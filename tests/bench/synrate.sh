#!/usr/bin/env bash
# SYNs answered per second, the TC program against the XDP one (issue 18
# item 3), side by side with one SYN generator: xdpgen (BPF_PROG_TEST_RUN
# live frames, on CPU 0) sends SYNs to a VIP's listener from spoofed
# sources as XDP frames to the gateway's veth end, which sees them as a
# NIC's driver would: frames, no skb. Its NAPI runs in a thread pinned to
# CPU 1 (SCHED_FIFO: the machine is shared) where every SYN is answered:
# by TC (a pass program in the XDP hook, as a driver without snilb's: the
# skb built, GRO, TC, the redirect) or by XDP (snilb_xdp, XDP_TX). Per
# run: SYNs answered per second of wall time and per second of that
# thread's CPU time; the ratios XDP / TC of the medians, runs taking turns.
# The SYN-ACKs go back to the generator's end, which runs no XDP: XDP's
# are dropped at the transmit (a veth hands frames only to an end with
# XDP), TC's reach its backlog and are dropped as another host's (their
# MAC), on the same core: a cost a NIC's TC path would not have, so the
# ratio leans a little towards XDP.
# Usage: tests/bench/synrate.sh BUILD_DIR [SECONDS [ROUNDS]]
# Prints "synrate MODE answered_per_s per_cpu_s ..." per run, then
# "synrate ratio wall R cpu R".
set -uo pipefail

build=$(cd "${1:-build}" && pwd)
secs=${2:-4}
rounds=${3:-3}
here=$(cd "$(dirname "$0")" && pwd)
pfx=sr$$
work=$(mktemp -d /tmp/snilb-synrate.XXXXXX)
gif=y$$ cif=x$$
vip=198.18.0.10
dpid=
cleanup() {
	[ -n "$dpid" ] && kill "$dpid" 2>/dev/null && wait "$dpid" 2>/dev/null
	ip netns del "$pfx-gen" 2>/dev/null
	ip netns del "$pfx-gw" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT
at() { local n=$1; shift; ip netns exec "$pfx-$n" "$@"; }

ip netns add "$pfx-gen" && ip netns add "$pfx-gw" || exit 1
ip link add "$cif" netns "$pfx-gen" type veth peer name "$gif" \
	netns "$pfx-gw" || exit 1
at gen ip link set lo up
at gw ip link set lo up
at gen ip addr add 198.18.1.2/24 dev "$cif"
at gw ip addr add 198.18.1.1/24 dev "$gif"
at gen ip link set "$cif" up
at gw ip link set "$gif" up
at gen ip route add $vip/32 via 198.18.1.1
at gen ip neigh add 198.18.1.1 dev "$cif" nud permanent \
	lladdr "$(at gw cat /sys/class/net/$gif/address)"
gmac=$(at gw cat /sys/class/net/$gif/address)
at gw ethtool -K "$gif" gro on >/dev/null || exit 1

# The NAPI thread of $gif, pinned to CPU 1 (found again after each attach:
# an XDP program may restart it).
napi_pin() {
	local pid
	at gw sh -c "echo 1 > /sys/class/net/$gif/threaded" || return 1
	for _ in $(seq 50); do
		pid=$(ps -eo pid=,comm= | awk -v n="napi/$gif-" \
			'index($2, n) == 1 { print $1; exit }')
		[ -n "$pid" ] && break
		sleep 0.1
	done
	[ -n "$pid" ] || return 1
	# CPU 1 alone, and first on it (the machine is shared: its CPU time
	# is what is measured, not what it is left).
	taskset -pc 1 "$pid" >/dev/null && chrt -f -p 50 "$pid" || return 1
	echo "$pid"
}

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

stat_syn() {
	local before
	before=$(grep -c "^stat syn " "$work/dp.out")
	kill -USR1 "$dpid"
	for _ in $(seq 200); do
		[ "$(grep -c "^stat syn " "$work/dp.out")" -gt "$before" ] && break
		sleep 0.05
	done
	grep "^stat syn " "$work/dp.out" | tail -1 | awk '{ print $3 }'
}

# one MODE: a run; prints "synrate MODE per_s per_cpu_s".
one() {
	local mode=$1 npid s0 s1 c0 c1 t0 t1 hz
	hz=$(getconf CLK_TCK)
	{
		echo "snat 198.18.2.1"
		echo "listener 1 $vip 443"
		echo "attach $gif"
		[ "$mode" = xdp ] && echo "xdp $gif native"
	} >"$work/dp.conf"
	if [ "$mode" = tc ]; then
		at gw ip link set dev "$gif" xdpdrv obj \
			"$build/xdp_pass.bpf.o" sec xdp || return 1
	fi
	ip netns exec "$pfx-gw" "$build/dpctl" "$work/dp.conf" \
		>"$work/dp.out" 2>&1 &
	dpid=$!
	for _ in $(seq 300); do
		grep -q ready "$work/dp.out" && break
		sleep 0.1
	done
	grep -q ready "$work/dp.out" || { echo "dpctl: $(cat "$work/dp.out")" >&2; return 1; }
	npid=$(napi_pin) || { echo "no NAPI thread for $gif" >&2; return 1; }
	s0=$(stat_syn)
	c0=$(cpu_ticks "$npid")
	t0=$EPOCHREALTIME
	at gen taskset -c 0 "$build/xdpgen" "$build/xdpgen.bpf.o" "$cif" \
		"$gmac" $vip "$secs" >"$work/flood.out" 2>&1
	s1=$(stat_syn)
	c1=$(cpu_ticks "$npid")
	t1=$EPOCHREALTIME
	kill "$dpid"
	wait "$dpid" 2>/dev/null
	dpid=
	[ "$mode" = tc ] && at gw ip link set dev "$gif" xdpdrv off
	python3 - "$mode" "$s0" "$s1" "$c0" "$c1" "$t0" "$t1" "$hz" \
		"$(cat "$work/flood.out")" <<-'EOP'
	import sys
	m, s0, s1, c0, c1, t0, t1, hz, fl = sys.argv[1:]
	n = int(s1) - int(s0)
	cpu = (int(c1) - int(c0)) / float(hz)
	wall = float(t1) - float(t0)
	print("synrate %s %.0f %.0f  (%d answered, %.2f s wall, %.2f s CPU; %s)"
	      % (m, n / wall, n / cpu if cpu else 0, n, wall, cpu, fl))
	EOP
}

for r in $(seq "$rounds"); do
	one tc || exit 1
	one xdp || exit 1
done | tee "$work/runs"
python3 - "$work/runs" <<'EOP'
import statistics, sys
runs = {"tc": [], "xdp": []}
for line in open(sys.argv[1]):
    f = line.split()
    if f and f[0] == "synrate" and f[1] in runs:
        runs[f[1]].append((float(f[2]), float(f[3])))
tc, xdp = runs["tc"], runs["xdp"]
if not tc or not xdp:
    sys.exit("synrate: no runs")
wall = statistics.median(x[0] for x in xdp) / statistics.median(t[0] for t in tc)
cpu = statistics.median(x[1] for x in xdp) / statistics.median(t[1] for t in tc)
print("synrate ratio wall %.2f cpu %.2f (XDP / TC, medians of %d runs each)"
      % (wall, cpu, len(tc)))
EOP
