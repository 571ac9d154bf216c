#!/usr/bin/env bash
# Hellos too long for the client's first flight, end to end (bpf/hello.h
# own_more(), bpf/owned.h; docs/dataplane.md "TCP correctness", row 1'):
# real TLS clients with ClientHellos of 6 and 15.8 KB through the data
# plane, each completing its handshake (which the backend does only with
# every hello byte exact) and a 100 KB download.
#
#   15.8 KB hello         eleven segments, one more than Linux's first
#                         flight (its tail loss probe sends the eleventh)
#   15.8 KB, initcwnd 4   a client that sends four segments, then waits
#   6 KB, initcwnd 2      ... two
#   2 KB hello            two segments: begun in the small buffer, moved
#                         to the large one once whole; then its first
#                         segment lost (the second held past the gap)
#   replay segment lost   the backend wire loses a full segment of what
#                         snilb sends it, once per connection: sent again
#   replay tail lost      ... the last, short one: the client's own resend
#   client segment lost   the client wire loses its first full segment
#
# Usage: tests/tcp/t-hello.sh BUILD_DIR
set -uo pipefail

build=$(cd "${1:-build}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
pfx=th$$
. "$here/../lib/lib.sh"
. "$here/wire.sh"
if [ "$(id -u)" -ne 0 ]; then
	echo "t-hello: skipped: network namespaces and BPF need root"
	echo "0 passed, 0 failed, 1 skipped"
	exit 0
fi
work=$(mktemp -d /tmp/snilb-tcp.XXXXXX)
pids=()
trap wire_down EXIT
peers="python3 $here/peers.py"
N=5
last_dropped=0

setup() {
	wire_up || return 1
	tls_backend || return 1
	start_dp "backend 1 198.18.2.11 8443" "set 1 1" \
		"route 1 www.example.com 10 1"
}

# drop_once WIRE DADDR DPORT MATCH: drop, once per connection (its
# source address and port), the first packet to DADDR:DPORT that MATCH
# (an nft expression) takes.
drop_once() {
	at "$1" nft -f - <<EOF2
table bridge once {
	set seen { type ipv4_addr . inet_service; timeout 60s; }
	chain drops {
		type filter hook forward priority 0; policy accept;
		ip daddr $2 tcp dport $3 $4 ip saddr . tcp sport != @seen add @seen { ip saddr . tcp sport } counter drop
	}
}
EOF2
}

# The packets the rule on WIRE dropped; the rule goes.
drops_done() {
	local n
	n=$(at "$1" nft list chain bridge once drops |
		sed -n 's/.*counter packets \([0-9]*\).*/\1/p')
	at "$1" nft delete table bridge once
	echo "${n:-0}"
}

# long_hellos NAME SIZE [WIRE]: N connections with a SIZE-byte hello; each
# must finish its handshake within 3 s and get its 100,000 bytes.
long_hellos() {
	local name=$1 size=$2 wire=${3:-} i out ms ok=0 worst=0 dropped=
	for i in $(seq $N); do
		out=$(cli $peers long-hello $vip4 www.example.com "$size")
		case $out in
		ms=*" body=100000")
			ms=${out#ms=}
			ms=${ms%% *}
			[ "$ms" -gt "$worst" ] && worst=$ms
			[ "$ms" -le 3000 ] && ok=$((ok + 1))
			;;
		*) echo "  connection $i: $out" ;;
		esac
	done
	if [ -n "$wire" ]; then
		last_dropped=$(drops_done "$wire")
		dropped=", $last_dropped dropped"
	fi
	check "$name: $N of $N handshakes within 3 s, 100 KB each (worst ${worst} ms$dropped)" \
		"$N" "$ok"
}

if ! setup; then
	bad "setup"
	echo "$passed passed, $failed failed"
	exit 1
fi

acks0=$(dp_stat hello_ack)
long_hellos "15.8 KB hello" 15800
check "15.8 KB hello: its bytes acknowledged by snilb (hello_ack)" 1 \
	"$([ "$(dp_stat hello_ack)" -gt "$acks0" ] && echo 1 || echo 0)"

at cli ip route change 198.18.0.0/24 via 198.18.1.1 initcwnd 4
long_hellos "15.8 KB hello, client initcwnd 4" 15800
at cli ip route change 198.18.0.0/24 via 198.18.1.1 initcwnd 2
long_hellos "6 KB hello, client initcwnd 2" 6000
at cli ip route change 198.18.0.0/24 via 198.18.1.1

# A hello of two segments, as a post-quantum key share makes them: begun
# in the small buffer (bpf/hello_small.h), moved to the large one once
# whole; with its first segment lost, the second is held there past the
# gap until the client resends the first.
small0=$(dp_stat hello_small) moved0=$(dp_stat hello_moved)
long_hellos "2 KB hello (two segments)" 2000
drop_once w1 $vip4 443 "ip length 1500"
long_hellos "2 KB hello, its first segment lost" 2000 w1
small=$(($(dp_stat hello_small) - small0))
moved=$(($(dp_stat hello_moved) - moved0))
check "2 KB hellos: each begun small and moved ($small begun, $moved moved)" \
	"$((2 * N)) $((2 * N))" "$small $moved"
check "2 KB hellos: no hello buffer left behind" 0 "$(dp_stat hellos)"

rtx0=$(dp_stat hello_rtx)
drop_once w2 198.18.2.11 8443 "ip length 1500"
long_hellos "15.8 KB hello, a replay segment lost" 15800 w2
rtx=$(($(dp_stat hello_rtx) - rtx0))
check "replay segment lost: each sent again by snilb ($rtx hello_rtx for $last_dropped lost)" \
	1 "$([ "$last_dropped" -gt 0 ] && [ "$rtx" -ge "$last_dropped" ] && echo 1 || echo 0)"

drop_once w2 198.18.2.11 8443 "ip length 101-1499"
long_hellos "15.8 KB hello, the replay's tail lost" 15800 w2

drop_once w1 $vip4 443 "ip length 1500"
long_hellos "15.8 KB hello, a client segment lost" 15800 w1

for c in spliced hello_ack hello_rtx hello_ooo hello_dup hello_small hello_moved; do
	printf '%s=%s ' "$c" "$(dp_stat $c)"
done
echo
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
