#!/usr/bin/env bash
# BIG TCP through the data plane (docs/dataplane.md "BIG TCP"): a backend
# whose device sends IPv4 GSO packets over 64 KiB, which say 0 in tot_len
# (Linux 6.3+, gso_ipv4_max_size), serves 30 MB downloads through the VIP.
# The wire between it and the gateway counts the packets that said 0; the
# downloads must be byte-exact, and none of those packets may reach the
# gateway's own stack (which would reset the flow).
#
# Usage: tests/tcp/t-bigtcp.sh BUILD_DIR
set -uo pipefail

build=$(cd "${1:-build}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
pfx=tb$$
. "$here/../lib/lib.sh"
. "$here/wire.sh"
if [ "$(id -u)" -ne 0 ]; then
	echo "t-bigtcp: skipped: network namespaces and BPF need root"
	echo "0 passed, 0 failed, 1 skipped"
	exit 0
fi
work=$(mktemp -d /tmp/snilb-tcp.XXXXXX)
pids=()
trap wire_down EXIT
SIZE=185000
BYTES=30000000

setup() {
	wire_up || return 1
	tls_backend || return 1
	start_dp "backend 1 198.18.2.11 8443" "set 1 1" \
		"route 1 www.example.com 10 1"
}

if ! setup; then
	bad "setup"
	echo "$passed passed, $failed failed"
	exit 1
fi
if ! at b1 python3 "$here/bigtcp.py" eth0 $SIZE; then
	echo "t-bigtcp: skipped: this kernel has no IPv4 BIG TCP (6.3+)"
	echo "0 passed, 0 failed, 1 skipped"
	exit 0
fi
at b1 ip link set eth0 gso_max_size $SIZE
# Every device on the way takes them whole: one with the default 64 KiB
# would cut them in software before the gateway sees them.
for dev in wg wb wbr; do
	at w2 python3 "$here/bigtcp.py" $dev $SIZE
	at w2 ip link set $dev gso_max_size $SIZE gro_max_size $SIZE
done
at gw python3 "$here/bigtcp.py" g1 $SIZE
at w2 nft -f - <<EOF2
table bridge big {
	chain count {
		type filter hook forward priority 0; policy accept;
		ip saddr 198.18.2.11 ip length 0 counter
	}
}
EOF2
rst0=$(at gw nstat -az TcpOutRsts | awk '/TcpOutRsts/ { print $2 }')
want=$(python3 -c "
import hashlib, random
print(hashlib.sha256(random.Random($BYTES).randbytes($BYTES)).hexdigest())")
ok=0
for i in 1 2 3; do
	got=$(cli curl -sk --max-time 60 --resolve www.example.com:443:$vip4 \
		https://www.example.com/bytes/$BYTES | sha256sum | cut -d' ' -f1)
	if [ "$got" = "$want" ]; then
		ok=$((ok + 1))
	else
		echo "  download $i: sha256 $got"
	fi
done
big=$(at w2 nft list chain bridge big count |
	sed -n 's/.*counter packets \([0-9]*\).*/\1/p')
rst1=$(at gw nstat -az TcpOutRsts | awk '/TcpOutRsts/ { print $2 }')
check "BIG TCP: the backend sent packets over 64 KiB (tot_len 0: $big)" 1 \
	"$([ "${big:-0}" -gt 0 ] && echo 1 || echo 0)"
check "BIG TCP: 3 of 3 30 MB downloads byte-exact" 3 "$ok"
check "BIG TCP: the gateway's stack reset nothing" 0 "$((rst1 - rst0))"
for c in fwd_b2c bad_tcp pass; do
	printf '%s=%s ' "$c" "$(dp_stat $c)"
done
echo
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
