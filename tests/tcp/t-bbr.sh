#!/usr/bin/env bash
# The backend's RTT, end to end (docs/dataplane.md "The backend's RTT"): a
# real backend TCP (tests/bench/fetch.c, BBR) behind the data plane.
#
#   no handshake sample   the backend's TCP_INFO right after accept(): no
#                         RTT yet (it took none from our handshake, where
#                         it used to take the microseconds to us); 4 MB
#                         downloads byte-exact
#   single_syn 1          one SYN: the backend samples our handshake again
#   SYN cookies           a backend answering every SYN with a cookie
#                         (net.ipv4.tcp_syncookies=2) reads the client's
#                         options from our echo: downloads byte-exact, the
#                         client's window scale read right
#
# The throughput this is for: tests/bench/paths.sh, in `make bench`.
# Usage: tests/tcp/t-bbr.sh BUILD_DIR
set -uo pipefail

build=$(cd "${1:-build}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
pfx=tb$$
. "$here/../lib/lib.sh"
. "$here/wire.sh"
if [ "$(id -u)" -ne 0 ]; then
	echo "t-bbr: skipped: network namespaces and BPF need root"
	echo "0 passed, 0 failed, 1 skipped"
	exit 0
fi
if ! grep -qw bbr /proc/sys/net/ipv4/tcp_available_congestion_control &&
   ! modprobe tcp_bbr 2>/dev/null; then
	echo "t-bbr: skipped: no tcp_bbr in this kernel (modprobe tcp_bbr failed)"
	echo "0 passed, 0 failed, 1 skipped"
	exit 0
fi
work=$(mktemp -d /tmp/snilb-tcp.XXXXXX)
pids=()
trap wire_down EXIT
BYTES=4000000
ROUTE=("backend 1 198.18.2.11 9000" "set 1 1" "route 1 bbr.example.com 1 1")

setup() {
	wire_up || return 1
	ip netns exec "$pfx-b1" "$build/fetch" serve 9000 $BYTES bbr \
		>"$work/srv.log" 2>&1 </dev/null &
	pids+=($!)
	wait_for listening "$work/srv.log" || return 1
	dp ""
}

# (Re)start the data plane with the route and @1 (a config line or "");
# with --pin, a new dpctl adopts the old one's maps and programs.
dp() {
	if [ -n "$dp_pid" ]; then
		kill "$dp_pid"
		wait "$dp_pid" 2>/dev/null
	fi
	rm -f "$work/dp.log"	# not the last one's "ready"
	start_dp "${ROUTE[@]}" ${1:+"$1"}
}

# One download; prints the backend's line about it, or "failed: ...".
fetch_one() {
	local n out end
	n=$(grep -c hs_rtt_us "$work/srv.log")
	out=$(cli "$build/fetch" get bbr.example.com $vip4 443 $BYTES 30 2>&1) ||
		{ echo "failed: $out"; return; }
	end=$((SECONDS + 30))
	while [ "$(grep -c hs_rtt_us "$work/srv.log")" -le "$n" ]; do
		[ $SECONDS -ge $end ] &&
			{ echo "failed: no line from the backend in 30 s"; return; }
		sleep 0.1
	done
	grep hs_rtt_us "$work/srv.log" | tail -1
}

field() { sed -n "s/.* $1=\([0-9]*\).*/\1/p" <<<"$2"; }

# N downloads; counts those whose backend line satisfies TEST (an
# arithmetic expression on $rtt and $ws, the handshake sample and the
# client's window scale as the backend uses them).
downloads() {	# N TEST
	local i line rtt ws good=0
	for i in $(seq "$1"); do
		line=$(fetch_one)
		rtt=$(field hs_rtt_us "$line")
		ws=$(field wscale "$line")
		if [ -n "$rtt" ] && (($2)); then
			good=$((good + 1))
		else
			echo "  download $i: $line" >&2
		fi
	done
	echo "$good"
}

t_no_sample() {
	local r0 r1 got
	r0=$(dp_stat resyn)
	got=$(downloads 5 'rtt == 0')
	r1=$(dp_stat resyn)
	check "no handshake sample: 5 of 5 downloads byte-exact, the backend with no RTT at accept()" \
		5 "$got"
	check "no handshake sample: one resyn per connection" 5 $((r1 - r0))
}

t_single_syn() {
	local got
	dp "single_syn 1" || { bad "single_syn: dpctl"; return; }
	got=$(downloads 3 'rtt > 0')
	check "single_syn 1: 3 of 3 downloads, the backend sampled our handshake" \
		3 "$got"
	dp "" || bad "single_syn: dpctl back"
}

t_cookies() {
	local got
	at b1 sysctl -qw net.ipv4.tcp_syncookies=2
	got=$(downloads 5 'ws > 0')
	at b1 sysctl -qw net.ipv4.tcp_syncookies=1
	check "SYN cookies: 5 of 5 downloads byte-exact, the client's window scale read right" \
		5 "$got"
}

if ! setup; then
	bad "setup"
	echo "$passed passed, $failed failed"
	exit 1
fi
t_no_sample
t_single_syn
t_cookies
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
