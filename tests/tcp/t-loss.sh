#!/usr/bin/env bash
# Loss, half-close and blind resets, end to end (docs/dataplane.md "TCP
# correctness"): real client and backend TCPs through the data plane, with
# drops made by nftables on the wires between them (tests/tcp/wire.sh).
#
#   lost hello segment   the first (or second) segment of a two-segment
#                        ClientHello dropped once per connection: the
#                        server's first byte still comes within 2 s
#   half-close           a client sends its hello, shuts its side, and
#                        reads a 20 MB answer over a backend wire losing
#                        1% of packets both ways: every byte, exact
#   blind RSTs           2,000 RSTs with random sequence numbers from
#                        each side during a 30 MB download: it completes
#
# Usage: tests/tcp/t-loss.sh BUILD_DIR
set -uo pipefail

build=$(cd "${1:-build}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
pfx=tl$$
. "$here/../lib/lib.sh"
. "$here/wire.sh"
if [ "$(id -u)" -ne 0 ]; then
	echo "t-loss: skipped: network namespaces and BPF need root"
	echo "0 passed, 0 failed, 1 skipped"
	exit 0
fi
work=$(mktemp -d /tmp/snilb-tcp.XXXXXX)
pids=()
trap wire_down EXIT
peers="python3 $here/peers.py"
EOF_BYTES=20000000

setup() {
	wire_up || return 1
	tls_backend || return 1
	ip netns exec "$pfx-b1" $peers eof-server 9000 $EOF_BYTES \
		>"$work/eof.log" 2>&1 &
	pids+=($!)
	wait_for listening "$work/eof.log" || return 1
	start_dp "backend 1 198.18.2.11 8443" "backend 2 198.18.2.11 9000" \
		"set 1 1" "set 2 2" "route 1 www.example.com 10 1" \
		"route 1 eof.example.com 11 2"
}

# Drop, once per connection, the first client segment to the VIP whose IP
# length matches @1 (an nft expression on "ip length").
drop_once() {
	at w1 nft -f - <<EOF
table bridge once {
	set seen { type ipv4_addr . inet_service; timeout 60s; }
	chain drops {
		type filter hook forward priority 0; policy accept;
		ip daddr $vip4 tcp dport 443 ip length $1 ip saddr . tcp sport != @seen add @seen { ip saddr . tcp sport } counter drop
	}
}
EOF
}

t_lost_segment() {	# WHICH LENGTH-MATCH
	local i ms out slow=0 failed_n=0 worst=0
	drop_once "$2" || { bad "lost $1 hello segment: nft rule"; return; }
	for i in 1 2 3 4 5; do
		out=$(cli $peers big-hello $vip4 www.example.com)
		case $out in
		ms=*)
			ms=${out#ms=}
			ms=${ms%% *}
			[ "$ms" -gt "$worst" ] && worst=$ms
			[ "$ms" -gt 2000 ] && slow=$((slow + 1))
			;;
		*) failed_n=$((failed_n + 1)) ;;
		esac
	done
	local dropped
	dropped=$(at w1 nft list chain bridge once drops |
		sed -n 's/.*counter packets \([0-9]*\).*/\1/p')
	at w1 nft delete table bridge once
	check "lost $1 hello segment: 5 of 5 answered within 2 s (worst ${worst} ms, $dropped dropped)" \
		"0 0 5" "$failed_n $slow $dropped"
}

t_half_close() {
	local i out want got=0 n=10
	at w2 nft -f - <<EOF
table bridge loss {
	chain drops {
		type filter hook forward priority 0; policy accept;
		meta l4proto tcp numgen random mod 100 < 1 counter drop
	}
}
EOF
	want=$($peers pattern $EOF_BYTES)
	for i in $(seq $n); do
		out=$(cli $peers half-close $vip4 eof.example.com)
		if [ "$out" = "$want" ]; then
			got=$((got + 1))
		else
			echo "  connection $i: $out"
		fi
	done
	local dropped
	dropped=$(at w2 nft list chain bridge loss drops |
		sed -n 's/.*counter packets \([0-9]*\).*/\1/p')
	at w2 nft delete table bridge loss
	check "half-close: $n of $n 20 MB answers byte-exact over 1% loss ($dropped dropped)" \
		"$n" "$got"
}

# The SNAT port of the connection b1 has from the gateway on PORT.
snat_port() {
	at b1 ss -tnH state established "( sport = :$1 )" |
		awk '{ n = split($4, a, ":"); print a[n] }' | head -1
}

t_blind_rsts() {
	local nport out ign0 ign1 end
	ign0=$(dp_stat rst_ignored)
	cli curl -sk --max-time 60 --limit-rate 6M --local-port 45000 \
		--resolve www.example.com:443:$vip4 -o /dev/null \
		-w '%{http_code} %{size_download}' \
		https://www.example.com/bytes/30000000 >"$work/dl.out" 2>&1 &
	local dl=$!
	end=$((SECONDS + 30))
	while [ $SECONDS -lt $end ]; do
		nport=$(snat_port 8443)
		[ -n "$nport" ] && break
		sleep 0.1
	done
	if [ -z "$nport" ]; then
		bad "blind RSTs: the download never reached b1 in 30 s"
		wait $dl
		return
	fi
	at w1 $peers spoof-rst 198.18.1.2 45000 $vip4 443 2000 >/dev/null
	at w2 $peers spoof-rst 198.18.2.11 8443 198.18.2.1 "$nport" 2000 \
		>/dev/null
	wait $dl
	out=$(cat "$work/dl.out")
	ign1=$(dp_stat rst_ignored)
	check "blind RSTs: 30 MB download completes under 4,000 spoofed RSTs" \
		"200 30000000" "$out"
	check "blind RSTs: counted as ignored (most of 4,000)" 1 \
		"$([ $((ign1 - ign0)) -gt 3000 ] && echo 1 || echo "$((ign1 - ign0))")"
}

if ! setup; then
	bad "setup"
	echo "$passed passed, $failed failed"
	exit 1
fi
t_lost_segment first "gt 1000"
t_lost_segment second "lt 1000 ip length gt 200"
t_half_close
t_blind_rsts
echo "t-loss counters: $(grep '^stat ' "$work/dp.log" | tail -30 |
	awk '$3 != 0 { printf "%s=%s ", $2, $3 }')"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
