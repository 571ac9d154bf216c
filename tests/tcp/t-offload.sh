#!/usr/bin/env bash
# Checksums in every skb->ip_summed state (docs/dataplane.md, "TCP
# correctness", checksum offload): what snilb writes must be right whether
# the packet came in CHECKSUM_NONE, PARTIAL (the sender's TX offload, or
# GRO at the gateway) or COMPLETE, and whether the link it leaves by
# completes checksums itself or leaves that to skb_checksum_help().
#
#   cli c0 ---- g0 gw g1 ---- e b1 (tests/e2e/backend.py)
#   cli vx ~~~~ vx gw vb ~~~~ vx b1
#
# The ~~~~ links are VXLAN (over c0/g0 and g1/e) with UDP checksums on: the
# gateway checks those in software, which leaves the inner packet
# CHECKSUM_COMPLETE. Each case: IPv4 and IPv6, one-segment and ~4 KB
# (three-segment) hellos, bodies both ways checked byte for byte; no bind
# retry; no checksum error counted by either end's TCP; and every TCP and
# ICMP packet leaving the gateway in the form its ip_summed asks for
# (csum_audit.bpf.c at tc egress). Each to a backend of the client's family
# and of the other (x.example.com: NAT46/64). The COMPLETE case also sends an ICMP
# error about a spliced flow from the backend's side (tests/tcp/icmperr.py).
# All of it twice: snilb_ingress, and snilb_ingress_h (SNILB_BPF_HELPERS=1).
# Usage: tests/tcp/t-offload.sh BUILD_DIR (ONLY=PATTERN: the cases whose
# name matches it; KEEP=1: leave the namespaces for a look by hand)
set -uo pipefail

build=$(cd "${1:-build}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
pfx=to$$
. "$here/../lib/lib.sh"
if [ "$(id -u)" -ne 0 ]; then
	echo "t-offload: skipped: network namespaces and BPF need root"
	echo "0 passed, 0 failed, 1 skipped"
	exit 0
fi

# No dot in the path: libbpf would make one a '_' in the pinned maps' paths.
work=$(mktemp -d /tmp/snilb-offload-XXXXXX)
mkdir -p "$work/bpffs"
mount -t bpf bpf "$work/bpffs"
pids=() skipped=0 audit=1
vip4=198.18.0.10 vip6=2001:db8:100::10
bdev=${pfx}e		# the backend's interface
N=${OFFLOAD_N:-10} SIZE=${OFFLOAD_SIZE:-300000}

down() {
	local n
	for n in cli gw b1; do ip netns del "$pfx-$n" 2>/dev/null; done
}
finish() {
	[ -n "${KEEP:-}" ] && { echo "kept $pfx ($work)"; return; }
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	down
	umount "$work/bpffs"
	rm -rf "$work"
}
trap finish EXIT

mac() { at "$1" cat "/sys/class/net/$2/address"; }

addrs() {	# NS IF ADDR4 ADDR6
	at "$1" ip addr add "$3" dev "$2" &&
		at "$1" ip -6 addr add "$4" dev "$2" nodad &&
		at "$1" ip link set "$2" up
}

# Permanent neighbours, both families: no wait for ARP or NDP, and snilb
# always finds the next hop's MAC in the FIB and sends with bpf_redirect(),
# whose checksum bookkeeping the auditor follows.
neigh() {	# NS IF PEER_NS PEER_IF ADDR4 ADDR6
	local m
	m=$(mac "$3" "$4")
	at "$1" ip neigh replace "$5" dev "$2" nud permanent lladdr "$m" &&
		at "$1" ip -6 neigh replace "$6" dev "$2" nud permanent \
			lladdr "$m"
}

up() {
	local n
	down
	for n in cli gw b1; do
		ip netns add "$pfx-$n" || return 1
		at "$n" ip link set lo up
		at "$n" sysctl -qw net.ipv6.conf.all.accept_dad=0 \
			net.ipv6.conf.default.accept_dad=0
	done
	ip link add c0 netns "$pfx-cli" type veth peer name g0 \
		netns "$pfx-gw" || return 1
	ip link add "$bdev" netns "$pfx-b1" type veth peer name g1 \
		netns "$pfx-gw" || return 1
	addrs cli c0 198.18.1.2/24 2001:db8:1::2/64 &&
		addrs gw g0 198.18.1.1/24 2001:db8:1::1/64 &&
		addrs gw g1 198.18.2.1/24 2001:db8:2::1/64 &&
		addrs b1 "$bdev" 198.18.2.11/24 2001:db8:2::11/64 || return 1
	at cli ip link add vx type vxlan id 42 local 198.18.1.2 \
		remote 198.18.1.1 dstport 4789 udpcsum dev c0 &&
		at gw ip link add vx type vxlan id 42 local 198.18.1.1 \
			remote 198.18.1.2 dstport 4789 udpcsum dev g0 &&
		addrs cli vx 198.18.3.2/24 2001:db8:3::2/64 &&
		addrs gw vx 198.18.3.1/24 2001:db8:3::1/64 || return 1
	# The backend's tunnel has no addresses inside: b1 sends what is
	# for the SNAT address through it (back_via), from its own. Its ends
	# outside are addresses of their own, which no route sends into it.
	at gw ip addr add 198.18.5.1/24 dev g1 &&
		at b1 ip addr add 198.18.5.11/24 dev "$bdev" &&
		at gw ip link add vb type vxlan id 43 local 198.18.5.1 \
			remote 198.18.5.11 dstport 4789 udpcsum dev g1 &&
		at b1 ip link add vx type vxlan id 43 local 198.18.5.11 \
			remote 198.18.5.1 dstport 4789 udpcsum dev "$bdev" &&
		at gw ip link set vb up && at b1 ip link set vx up || return 1
	neigh cli c0 gw g0 198.18.1.1 2001:db8:1::1 &&
		neigh gw g0 cli c0 198.18.1.2 2001:db8:1::2 &&
		neigh gw g1 b1 "$bdev" 198.18.2.11 2001:db8:2::11 &&
		neigh b1 "$bdev" gw g1 198.18.2.1 2001:db8:2::1 &&
		neigh cli vx gw vx 198.18.3.1 2001:db8:3::1 &&
		neigh gw vx cli vx 198.18.3.2 2001:db8:3::2 &&
		neigh b1 vx gw vb 198.18.2.1 2001:db8:2::1 &&
		at gw ip neigh replace 198.18.5.11 dev g1 nud permanent \
			lladdr "$(mac b1 "$bdev")" &&
		at b1 ip neigh replace 198.18.5.1 dev "$bdev" nud permanent \
			lladdr "$(mac gw g1)" || return 1
	at gw sysctl -qw net.ipv4.conf.all.forwarding=1 \
		net.ipv6.conf.all.forwarding=1
	# No GRO on the tunnels: it would make PARTIAL skbs of COMPLETE ones.
	at gw ethtool -K vx gro off >/dev/null
	at gw ethtool -K vb gro off >/dev/null
	via c0
}

# The client's way to the VIPs: the plain link or the tunnel.
via() {	# c0|vx
	local gw4=198.18.1.1 gw6=2001:db8:1::1
	[ "$1" = vx ] && gw4=198.18.3.1 gw6=2001:db8:3::1
	at cli ip route replace 198.18.0.0/24 via $gw4
	at cli ip -6 route replace 2001:db8:100::/64 via $gw6
}

# The backend's way to the SNAT address: the plain link or the tunnel.
back_via() {	# e|vx
	if [ "$1" = vx ]; then
		at b1 ip route replace 198.18.2.1/32 dev vx
		at b1 ip -6 route replace 2001:db8:2::1/128 dev vx
	else
		at b1 ip route del 198.18.2.1/32 dev vx
		at b1 ip -6 route del 2001:db8:2::1/128 dev vx
	fi
}

start_backend() {
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
		-nodes -days 2 -subj /CN=b1 -keyout "$work/b1.key" \
		-out "$work/b1.crt" 2>/dev/null || return 1
	: >"$work/b1.log"
	ip netns exec "$pfx-b1" python3 "$here/../e2e/backend.py" --name b1 \
		--cert "$work/b1.crt" --key "$work/b1.key" \
		>"$work/b1.log" 2>&1 &
	pids+=($!)
	wait_for listening "$work/b1.log"
}

dp_conf() {
	cat <<EOF
snat 198.18.2.1
snat 2001:db8:2::1
listener 1 $vip4 443
listener 2 $vip6 443
backend 1 198.18.2.11 8443
backend 2 2001:db8:2::11 8443
set 1 1
set 2 2
route 1 www.example.com 10 1
route 2 www.example.com 20 2
route 1 x.example.com 11 2
route 2 x.example.com 21 1
attach g0
attach g1
attach vx
attach vb
EOF
}

# The data plane with one of its two ingress programs (user/dataplane/loader.c);
# it detaches them when it exits.
start_dp() {	# 0|1: SNILB_BPF_HELPERS
	dp_conf >"$work/dp.conf"
	: >"$work/dp.log"	# for wait_for(), before dpctl opens it
	SNILB_BPF_HELPERS=$1 ip netns exec "$pfx-gw" "$build/dpctl" \
		"$work/dp.conf" >"$work/dp.log" 2>&1 &
	dp_pid=$!
	pids+=("$dp_pid")
	wait_for ready "$work/dp.log"
}

stop_dp() {
	kill "$dp_pid"
	wait "$dp_pid" 2>/dev/null
}

# The auditor at egress of the gateway's interfaces (6.3+).
audit_on() {
	local dev
	bpftool prog load "$build/csum_audit.bpf.o" "$work/bpffs/audit" \
		type classifier pinmaps "$work/bpffs/audit_maps" \
		2>"$work/audit.err" || return 1
	for dev in g0 g1 vx vb; do
		at gw tc qdisc replace dev "$dev" clsact &&
			at gw tc filter add dev "$dev" egress pref 1 handle 1 \
				bpf da object-pinned "$work/bpffs/audit" || return 1
	done
}

# Its counters: "good bad" per ip_summed state (NONE, UNNECESSARY,
# COMPLETE, PARTIAL) for TCP, bad GSO, then the same for ICMP.
audit_get() {
	bpftool -j map dump pinned "$work/bpffs/audit_maps/audit" |
		python3 -c 'import json, sys
def n(v):	# a number, or its bytes when bpftool has no BTF for it
    return v if isinstance(v, int) else int.from_bytes(
        bytes(int(b, 16) for b in v), "little")
print(" ".join(str(n(e["value"])) for e in json.load(sys.stdin)))'
}

audit_bad() {	# COUNTS: every bad count
	local c=($1)
	echo "${c[1]} ${c[3]} ${c[5]} ${c[7]} ${c[8]}" \
		"${c[10]} ${c[12]} ${c[14]} ${c[16]}"
}

# Segments with a bad checksum a namespace's TCP has dropped so far.
csum_errors() {
	at "$1" nstat -az TcpInCsumErrors |
		awk '$1 == "TcpInCsumErrors" { print $2 }'
}

# One case, the offloads set by the caller. @STATE: an ip_summed state
# (2 COMPLETE, 3 PARTIAL) the gateway must have met and written in.
case_() {	# NAME STATE
	local name="$variant: $1" fam addr hello out retry0 ec0 eb0 a0 a1
	[[ $name =~ ${ONLY:-.} ]] || return 0
	retry0=$(dp_stat bind_retry) ec0=$(csum_errors cli) eb0=$(csum_errors b1)
	[ $audit = 1 ] && a0=$(audit_get)
	# www: a backend of the client's family; x: of the other (NAT46/64).
	for fam in 4 6; do
		addr=$vip4
		[ $fam = 6 ] && addr=$vip6
		for host in www x; do
		for hello in small big; do
			out=$(at cli timeout 90 python3 "$here/tlsbytes.py" "$N" \
				$host.example.com "$addr" "$SIZE" "$hello" \
				2>"$work/err")
			check "$name: IPv$fam, $host, $hello hello: $N connections, byte-exact" \
				"ok=$N failed=0" "$out"
			[ "$out" = "ok=$N failed=0" ] ||
				sed 's/^/    /' "$work/err" | head -5
		done
		done
	done
	check "$name: no bind retry" "$retry0" "$(dp_stat bind_retry)"
	check "$name: no checksum error at the client" "$ec0" \
		"$(csum_errors cli)"
	check "$name: no checksum error at the backend" "$eb0" \
		"$(csum_errors b1)"
	[ $audit = 1 ] || return 0
	a1=$(audit_get)
	check "$name: audit: nothing bad (TCP: NONE UNNEC COMPLETE PARTIAL GSO, ICMP: ...)" \
		"$(audit_bad "$a0")" "$(audit_bad "$a1")"
	[ "$(audit_bad "$a0")" = "$(audit_bad "$a1")" ] || bpftool -j map \
		dump pinned "$work/bpffs/audit_maps/last_bad" | sed 's/^/    /'
	local b=($a0) e=($a1)
	check "$name: audit: good packets in ip_summed state $2 seen" yes \
		"$([ "${e[2 * $2]}" -gt "${b[2 * $2]}" ] && echo yes || echo no)"
}

# A download in the background over each family, slow enough to stay
# spliced for a while: ICMP errors about them (icmperr.py, from b1's side)
# must reach the client rewritten, checksums right (icmp.h). The body is
# larger than what both ends' socket buffers hold (up to 4 MB sent, 6 MB
# received): with a smaller one, b1 could write it all and close before
# the first look, and its sockets would no longer be established.
icmp_case() {	# NAME
	local name="$variant: $1" fwd0 a0 a1 i peers p a b addr c=()
	[[ $name =~ ${ONLY:-.} ]] || return 0
	fwd0=$(dp_stat icmp_fwd)
	[ $audit = 1 ] && a0=$(audit_get)
	for addr in "$vip4" "[$vip6]"; do
		# Not at(): $! is then curl itself (ip netns exec execs it),
		# which the kill below and finish() end.
		ip netns exec "$pfx-cli" curl -sk --max-time 90 \
			--limit-rate 20k -o /dev/null \
			--resolve "www.example.com:443:$addr" \
			https://www.example.com/bytes/20000000 &
		c+=($!) pids+=($!)
	done
	# A busy machine can take seconds for a handshake: 30 s, polled.
	for i in $(seq 300); do
		peers=$(at b1 ss -Htn state connected '( sport = :8443 )' |
			awk '{ print $NF }')
		[ "$(echo "$peers" | grep -c .)" -ge 2 ] && break
		sleep 0.1
	done
	if [ "$(echo "$peers" | grep -c .)" -lt 2 ]; then
		echo "    b1 had not 2 downloads connected after 30 s: '$peers'"
		for p in "${c[@]}"; do
			kill -0 "$p" 2>/dev/null && echo "    curl $p still running" ||
				{ wait "$p"; echo "    curl $p ended: exit $?"; }
		done
		echo "    counters: $(dp_counters)"
		echo "    the client's sockets to the VIPs:"
		at cli ss -Htni '( dport = :443 )' | sed 's/^/      /'
		echo "    the client's TCP counters:"
		at cli nstat -az | awk '$2 != 0 && /Tcp|Syn|Retrans|Rst/' |
			tr -s ' ' | cut -d' ' -f1,2 | paste -sd' ' | sed 's/^/      /'
		echo "    the backend's sockets on 8443:"
		at b1 ss -Htan '( sport = :8443 )' | tail -8 | sed 's/^/      /'
	fi
	# ss prints [2001:db8:2::1]:PORT, [::ffff:198.18.2.1]:PORT.
	for p in $peers; do
		a=${p%]:*} a=${a#[} a=${a#::ffff:}
		b=198.18.2.11
		[[ $a == *:* ]] && b=2001:db8:2::11
		at b1 python3 "$here/icmperr.py" "$a" "${p##*:}" $b 8443
	done
	for i in $(seq 300); do
		[ "$(dp_stat icmp_fwd)" -ge $((fwd0 + 2)) ] && break
		sleep 0.1
	done
	kill "${c[@]}" 2>/dev/null
	wait "${c[@]}" 2>/dev/null
	check "$name: ICMP errors about 2 spliced flows forwarded" \
		$((fwd0 + 2)) "$(dp_stat icmp_fwd)"
	[ $audit = 1 ] || return 0
	a1=$(audit_get)
	check "$name: audit: nothing bad" "$(audit_bad "$a0")" \
		"$(audit_bad "$a1")"
	[ "$(audit_bad "$a0")" = "$(audit_bad "$a1")" ] || bpftool -j map \
		dump pinned "$work/bpffs/audit_maps/last_bad" | sed 's/^/    /'
	local b=($a0) e=($a1)
	check "$name: audit: 2 good ICMP errors in state COMPLETE" 2 \
		$((e[13] - b[13]))
}

tx() { at "$1" ethtool -K "$2" tx "$3" >/dev/null; }
gro() { at "$1" ethtool -K "$2" gro "$3" >/dev/null; }

cases() {
	# PARTIAL in (the client's TX offload is on), checksums completed in
	# software on the way to the backend: the client's segments become
	# the backend's SYN and hello.
	tx gw g1 off
	case_ "client TX offload on, backend link TX offload off" 3
	tx gw g1 on

	# ... and on the way back: the SYN-ACK, built over the client's SYN.
	tx gw g0 off
	case_ "client TX offload on, client link TX offload off" 3
	tx gw g0 on

	# NONE from the client, made PARTIAL by GRO at the gateway: a
	# three-segment hello arrives as one skb (GSO), which becomes the
	# backend's SYN.
	tx cli c0 off
	gro gw g0 on
	tx gw g1 off
	case_ "GRO at the gateway, backend link TX offload off" 3
	tx gw g1 on
	case_ "GRO at the gateway, backend link TX offload on" 3
	gro gw g0 off

	# COMPLETE: through the tunnels, whose UDP checksums the gateway
	# checks in software (c0 and e, TX offload off, complete them), which
	# leaves the inner packets CHECKSUM_COMPLETE, both ways.
	tx b1 "$bdev" off
	via vx
	back_via vx
	case_ "CHECKSUM_COMPLETE (VXLAN)" 2
	icmp_case "CHECKSUM_COMPLETE (VXLAN), ICMP errors"
	back_via e
	via c0
	tx b1 "$bdev" on
	tx cli c0 on
}

if ! up || ! start_backend; then
	bad "setup"
	echo "$passed passed, $failed failed"
	exit 1
fi
for variant in snilb_ingress snilb_ingress_h; do
	h=0
	[ $variant = snilb_ingress_h ] && h=1
	if ! start_dp $h; then
		bad "$variant: the data plane starts"
		continue
	fi
	if [ $audit = 1 ] && [ ! -e "$work/bpffs/audit" ] && ! audit_on; then
		echo "skip the checksum audit: it needs bpf_cast_to_kern_ctx()" \
			"(6.3+); the load said:"
		grep -v '^Warning\|^If it used' "$work/audit.err" | tail -3
		audit=0 skipped=$((skipped + 1))
	fi
	cases
	stop_dp
done

if [ $skipped -gt 0 ]; then
	echo "$passed passed, $failed failed, $skipped skipped"
else
	echo "$passed passed, $failed failed"
fi
[ "$failed" -eq 0 ]
