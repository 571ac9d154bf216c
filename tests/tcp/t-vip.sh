#!/usr/bin/env bash
# Traffic to a VIP that no listener takes (issue 13 item 6, bpf/vip.h).
# A VIP is routed to the gateway but never assigned to it; here, as on a
# real network, the gateway's own way to the VIP leads back to the client
# side, whose router (the client namespace, forwarding) routes the VIP to
# the gateway. Passed to the gateway's stack, such a packet goes back and
# forth on the client link until its TTL runs out. The data plane must
# answer it (echo reply, RST, port unreachable) or drop it, once.
# Usage: tests/tcp/t-vip.sh BUILD_DIR
set -uo pipefail

build=$(cd "${1:-build}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/lib.sh"
if [ "$(id -u)" -ne 0 ]; then
	echo "t-vip: skipped: network namespaces and BPF need root"
	echo "0 passed, 0 failed, 1 skipped"
	exit 0
fi
if ! command -v ping >/dev/null; then
	echo "t-vip: skipped: no ping (scripts/install-deps.sh installs it)"
	echo "0 passed, 0 failed, 1 skipped"
	exit 0
fi

pfx=tv$$
work=$(mktemp -d /tmp/snilb-tvip.XXXXXX)
mkdir -p "$work/bpffs"
mount -t bpf bpf "$work/bpffs"
pids=()
passed=0 failed=0
trap cleanup EXIT

vip4=198.18.0.10 vip6=2001:db8:100::10
cli() { at cli timeout 30 "$@"; }

# Frames both ways on the client link, once it has gone quiet (a looping
# packet crosses it 60 times in a few ms; 10 s bound).
link_frames() {
	local d=/sys/class/net/c0/statistics a b
	b=$(($(at cli cat $d/rx_packets) + $(at cli cat $d/tx_packets)))
	for _ in $(seq 50); do
		sleep 0.2
		a=$b
		b=$(($(at cli cat $d/rx_packets) + $(at cli cat $d/tx_packets)))
		[ "$a" = "$b" ] && break
	done
	echo "$b"
}

setup() {
	"$here/../e2e/topo.sh" up "$pfx" || return 1
	at gw ip route add 198.18.0.0/24 via 198.18.1.2
	at gw ip -6 route add 2001:db8:100::/64 via 2001:db8:1::2
	at cli sysctl -qw net.ipv4.conf.all.forwarding=1 \
		net.ipv6.conf.all.forwarding=1
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
		-nodes -days 2 -subj "/CN=b1" -keyout "$work/b1.key" \
		-out "$work/b1.crt" 2>/dev/null || return 1
	ip netns exec "$pfx-b1" python3 "$here/../e2e/backend.py" --name b1 \
		--cert "$work/b1.crt" --key "$work/b1.key" \
		>"$work/b1.log" 2>&1 &
	pids+=($!)
	cat >"$work/dp.conf" <<EOF
snat 198.18.2.1
snat 2001:db8:2::1
listener 1 $vip4 443
listener 2 $vip6 443
listener 3 198.18.1.1 443
backend 1 198.18.2.11 8443
backend 2 2001:db8:2::11 8443
set 1 1
set 2 2
route 1 www.example.com 10 1
route 2 www.example.com 20 2
attach g0
attach br0
EOF
	ip netns exec "$pfx-gw" "$build/dpctl" --pin "$work/bpffs/snilb" \
		"$work/dp.conf" >"$work/dp.log" 2>&1 &
	dp_pid=$!
	pids+=("$dp_pid")
	wait_for ready "$work/dp.log" && wait_for listening "$work/b1.log"
}

# probe udp|tcp ADDR PORT [BYTES]: what a connected socket learns of its
# first datagram or connection attempt, within 3 s: "refused", "timeout"
# or the error; and how long it took (ms).
probe() {
	cli python3 - "$@" <<'EOF'
import socket, sys, time
kind, addr, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
size = int(sys.argv[4]) if len(sys.argv) > 4 else 1200
fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
typ = socket.SOCK_DGRAM if kind == "udp" else socket.SOCK_STREAM
s = socket.socket(fam, typ)
s.settimeout(3)
t0 = time.monotonic()
try:
    s.connect((addr, port))
    if kind == "udp":
        # A QUIC Initial's shape: long header, version 1, padded.
        s.send(b"\xc3\x00\x00\x00\x01" + bytes(size - 5))
        s.recv(2048)
    out = "answered"
except ConnectionRefusedError:
    out = "refused"
except socket.timeout:
    out = "timeout"
except OSError as e:
    out = e.strerror.replace(" ", "_")
print(out, int((time.monotonic() - t0) * 1000))
EOF
}

t_ping() {
	local out
	for a in $vip4 $vip6; do
		out=$(cli ping -c 3 -i 0.2 -W 2 "$a" 2>&1)
		if grep -q "3 received" <<<"$out" &&
		   grep -q "from $a: icmp_seq=.* ttl=64" <<<"$out"; then
			ok "ping $a: 3 of 3 answered, from the VIP"
		else
			bad "ping $a: $(tail -2 <<<"$out" | tr '\n' ' ')"
		fi
	done
}

# UDP to 443 as an HTTP/3 client sends it: refused at once, so the client
# falls back to TCP; with checksum offload on both ends (the ICMP error is
# CHECKSUM_PARTIAL: its quoted UDP checksum is filled in on the way), off
# on the gateway (the kernel completes it there, the client checks the ICMP
# checksum) and off on the client (the datagram comes with its checksum).
t_quic() {
	local mode out a ms
	for mode in "offload on" "gateway tx off" "client tx off"; do
		case $mode in
		"gateway tx off") at gw ethtool -K g0 tx off >/dev/null ;;
		"client tx off") at gw ethtool -K g0 tx on >/dev/null
			at cli ethtool -K c0 tx off >/dev/null ;;
		esac
		for a in $vip4 $vip6; do
			out=$(probe udp "$a" 443)
			ms=${out#refused }
			if [[ $out =~ ^refused\ [0-9]+$ ]] && [ "$ms" -lt 1000 ]; then
				ok "QUIC-style UDP to $a:443 ($mode):" \
					"port unreachable in $ms ms"
			else
				bad "QUIC-style UDP to $a:443 ($mode): $out"
			fi
		done
	done
	at cli ethtool -K c0 tx on >/dev/null
	check "the client found no bad ICMP checksum" "0 0" \
		"$(at cli nstat -az IcmpInCsumErrors Icmp6InCsumErrors |
			awk '/CsumErrors/ {printf "%s%s", s, $2; s=" "}')"
}

t_tcp() {
	local a out
	for a in $vip4 $vip6; do
		out=$(probe tcp "$a" 80)
		if [[ $out =~ ^refused\ ([0-9]+)$ ]]; then
			ok "TCP to $a:80 (no listener): reset," \
				"refused in ${BASH_REMATCH[1]} ms"
		else
			bad "TCP to $a:80 (no listener): $out"
		fi
	done
	check "curl over TCP to the listener still works" b1 \
		"$(get www.example.com)"
	check "... and over IPv6" b1 "$(get www.example.com "[$vip6]")"
}

# 20 probes, 10 ICMP and 10 UDP, both families: at most an answer each on
# the client link, nothing looping.
t_no_loop() {
	local before after a n
	before=$(link_frames)
	for a in $vip4 $vip6; do
		cli ping -c 5 -i 0.2 -W 2 "$a" >/dev/null 2>&1
		for p in 9 53 443 4433 9999; do
			probe udp "$a" "$p" 100 >/dev/null
		done
	done
	after=$(link_frames)
	n=$((after - before))
	if [ "$n" -le 44 ]; then
		ok "20 ICMP/UDP probes: $n frames on the client link (<= 40 + 4)"
	else
		bad "20 ICMP/UDP probes: $n frames on the client link (a loop)"
	fi
}

# Fragments and other protocols: dropped and counted, never looping.
t_dropped() {
	local frag drop before after n
	frag=$(dp_stat vip_frag)
	drop=$(dp_stat vip_drop)
	before=$(link_frames)
	cli ping -c 2 -i 0.2 -W 1 -s 3000 $vip4 >/dev/null 2>&1
	cli ping -c 2 -i 0.2 -W 1 -s 3000 $vip6 >/dev/null 2>&1
	cli python3 -c "
import socket
for fam, a in ((socket.AF_INET, '$vip4'), (socket.AF_INET6, '$vip6')):
    s = socket.socket(fam, socket.SOCK_RAW, 132)	# SCTP
    s.sendto(bytes(40), (a, 0))
"
	after=$(link_frames)
	n=$(($(dp_stat vip_frag) - frag))
	if [ "$n" -ge 8 ]; then
		ok "fragmented pings (IPv4 and IPv6) dropped, counted ($n)"
	else
		bad "fragments: vip_frag went up by $n, want >= 8"
	fi
	check "another protocol (SCTP) dropped, counted" 2 \
		$(($(dp_stat vip_drop) - drop))
	n=$((after - before))
	if [ "$n" -le 16 ]; then
		ok "... and none of them looped ($n frames for 14 sent)"
	else
		bad "fragments or SCTP looped: $n frames for 14 sent"
	fi
}

# 300 datagrams at once: port unreachables stay within the budget (50 a
# CPU, then 1 a ms), the rest counted.
t_rate() {
	local sent lim ms n deadline
	sent=$(dp_stat vip_unreach)
	lim=$(dp_stat vip_limited)
	ms=$(cli python3 -c "
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
t0 = time.monotonic()
for i in range(300):
    s.sendto(bytes(20), ('$vip4', 9999))
print(int((time.monotonic() - t0) * 1000))
")
	# Counted as they arrive: wait until all 300 are (10 s bound).
	deadline=$((SECONDS + 10))
	while [ "$SECONDS" -lt "$deadline" ]; do
		n=$(($(dp_stat vip_unreach) - sent + $(dp_stat vip_limited) - lim))
		[ "$n" -ge 300 ] && break
		sleep 0.1
	done
	sent=$(($(dp_stat vip_unreach) - sent))
	lim=$(($(dp_stat vip_limited) - lim))
	if [ $((sent + lim)) -eq 300 ] && [ "$lim" -gt 0 ] &&
	   [ "$sent" -le $(($(nproc) * (50 + ms + 10))) ]; then
		ok "300 datagrams in $ms ms: $sent answered, $lim over the rate"
	else
		bad "rate limit: $sent answered, $lim limited of 300 in $ms ms"
	fi
}

# A Gateway given the node's own address: the node answers its other
# ports, snilb stays out of it.
t_node_vip() {
	local echo rst out
	echo=$(dp_stat vip_echo)
	rst=$(dp_stat vip_rst)
	out=$(cli ping -c 2 -i 0.2 -W 2 198.18.1.1 2>&1)
	check "ping the node's own address, a VIP too: answered" 1 \
		"$(grep -c '2 received' <<<"$out")"
	check "TCP to its port 22: refused by the node" refused \
		"$(probe tcp 198.18.1.1 22 | cut -d' ' -f1)"
	check "... neither answered by snilb" "$echo $rst" \
		"$(dp_stat vip_echo) $(dp_stat vip_rst)"
}

if ! setup; then
	bad "setup"
	echo "$passed passed, $failed failed"
	exit 1
fi
t_ping
t_quic
t_tcp
t_no_loop
t_dropped
t_rate
t_node_vip
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
