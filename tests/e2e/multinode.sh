#!/usr/bin/env bash
# Several gateway nodes behind ECMP, end to end (docs/multinode.md, issue
# 17): three gateway namespaces g1..g3, each its own `snilb agent --peers`
# with its own bpffs, behind a router r whose route to the VIP has a next
# hop per node; the router's segment is a bridge that floods (ageing 0), so
# every node sees every frame. Client cli behind r; the backend on r.
#
#   cli 198.18.5.2 -- r 198.18.5.1 | br0 198.18.1.1 -- g1 .11, g2 .12, g3 .13
#                    backend 198.18.2.11 (on r)
#   (IPv6: cli 2001:db8:5::2, r 2001:db8:5::1 | 2001:db8:1::1 -- g1 ::11 ...;
#    VIP 2001:db8:100::10, spliced to the IPv4 backend: NAT64)
#
# MN_TOPO=l3: the gateways on segments of their own, the router between
# them (a leaf-spine fabric): packets go to their owner in an outer IPv4
# header through r (--steer auto finds a gateway on the way: IPIP, 6in4);
# checks 1, 2 and 2b only.
#
#   r 198.18.1I.1 -- gI 198.18.1I.2   (2001:db8:1I::1 -- 2001:db8:1I::2)
#
# Between namespaces the router hashes the 5-tuple
# (fib_multipath_hash_policy=3, fields 0x37): policy 1 would hash the
# client socket's txhash, which moves a flow at each retransmission.
#
#  1. the nodes agree on the table; connections through a node that does
#     not own them are steered to the owner;
#  2. 30 long downloads and a stream of new connections while the next
#     hops go 3 -> 2 -> 3 and the hash is reseeded twice: 0 failed, every
#     download byte-exact;
# 2b. the same over IPv6 (always steered in a 6in4 header);
#  3. g2 drained (\"draining\" in the peers file, SIGTERM with --drain, its
#     next hop removed) with downloads in flight: 0 failed, g2 makes no
#     flow after the drain, and its agent stops once its flows end;
#  4. g2 back; g3 killed (its link down, out of the table and the route):
#     only connections g3 held fail, and new connections work at once.
#
# Pacing between the router's changes is by sleep (the scenario's clock);
# every wait for a state polls it. Usage: tests/e2e/multinode.sh BUILD_DIR
set -uo pipefail

build=$(cd "${1:-build}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
. "$here/../lib/lib.sh"
if [ "$(id -u)" -ne 0 ]; then
	echo "multinode: skipped: network namespaces and BPF need root"
	echo "0 passed, 0 failed, 1 skipped"
	exit 0
fi
if [ ! -e /proc/sys/net/ipv4/fib_multipath_hash_fields ]; then
	echo "multinode: skipped: no fib_multipath_hash_fields (kernel < 5.12)"
	echo "0 passed, 0 failed, 1 skipped"
	exit 0
fi

# ONLY=t_NAME (as for run.sh): that check alone, if it is one of these.
if [ -n "${ONLY:-}" ] && ! grep -q "^$ONLY()" "$0"; then
	echo "multinode: skipped: ONLY=$ONLY is not a check of this suite"
	echo "0 passed, 0 failed, 1 skipped"
	exit 0
fi

topo=${MN_TOPO:-l2}
case $topo in l2|l3) ;; *) echo "multinode: MN_TOPO=$topo: l2 or l3"; exit 2;; esac
pfx=mn$topo$$
work=$(mktemp -d /tmp/snilb-mn.XXXXXX)
mkdir -p "$work/bpffs"
mount -t bpf bpf "$work/bpffs"
pids=()
declare -A agent
vip=198.18.0.10
vip6=2001:db8:100::10
N=${MN_DOWNLOADS:-30}

node4() {	# I: node I's address, towards its peers and the router
	if [ "$topo" = l2 ]; then echo "198.18.1.1$1"; else echo "198.18.1$1.2"; fi
}
node6() {
	if [ "$topo" = l2 ]; then echo "2001:db8:1::1$1"; else echo "2001:db8:1$1::2"; fi
}

mn_cleanup() {
	[ -n "${KEEP:-}" ] && { echo "kept $pfx ($work)"; return; }
	for p in "${pids[@]}" "${agent[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	for n in cli r g1 g2 g3; do ip netns del "$pfx-$n" 2>/dev/null; done
	umount "$work/bpffs"
	rm -rf "$work"
}
trap mn_cleanup EXIT

up() {
	local n i
	for n in cli r g1 g2 g3; do
		ip netns add "$pfx-$n"
		at "$n" ip link set lo up
	done
	at r ip addr add 198.18.2.11/32 dev lo
	at r sysctl -qw net.ipv4.conf.all.forwarding=1 \
		net.ipv4.fib_multipath_hash_policy=3 \
		net.ipv4.fib_multipath_hash_fields=0x37 \
		net.ipv6.conf.all.forwarding=1 \
		net.ipv6.fib_multipath_hash_policy=3 \
		net.ipv6.fib_multipath_hash_fields=0x37
	ip link add c0 netns "$pfx-cli" type veth peer name rc netns "$pfx-r"
	at cli ip addr add 198.18.5.2/24 dev c0
	at cli ip addr add 2001:db8:5::2/64 dev c0 nodad
	at cli ip link set c0 up
	at cli ip route add default via 198.18.5.1
	at cli ip -6 route add default via 2001:db8:5::1
	at r ip addr add 198.18.5.1/24 dev rc
	at r ip addr add 2001:db8:5::1/64 dev rc nodad
	at r ip link set rc up
	if [ "$topo" = l2 ]; then
		at r ip link add br0 type bridge ageing_time 0
		at r ip addr add 198.18.1.1/24 dev br0
		at r ip addr add 2001:db8:1::1/64 dev br0 nodad
		at r ip link set br0 up
	fi
	for i in 1 2 3; do
		ip link add g0 netns "$pfx-g$i" type veth peer name "p$i" \
			netns "$pfx-r"
		if [ "$topo" = l2 ]; then
			at r ip link set "p$i" master br0 up
			at "g$i" ip addr add "$(node4 $i)/24" dev g0
			at "g$i" ip addr add "$(node6 $i)/64" dev g0 nodad
			at "g$i" ip link set g0 up
			at "g$i" ip route add default via 198.18.1.1
			at "g$i" ip -6 route add default via 2001:db8:1::1
		else
			at r ip addr add "198.18.1$i.1/24" dev "p$i"
			at r ip addr add "2001:db8:1$i::1/64" dev "p$i" nodad
			at r ip link set "p$i" up
			at "g$i" ip addr add "$(node4 $i)/24" dev g0
			at "g$i" ip addr add "$(node6 $i)/64" dev g0 nodad
			at "g$i" ip link set g0 up
			at "g$i" ip route add default via "198.18.1$i.1"
			at "g$i" ip -6 route add default via "2001:db8:1$i::1"
		fi
		at "g$i" sysctl -qw net.ipv4.conf.all.forwarding=1 \
			net.ipv4.conf.all.send_redirects=0 \
			net.ipv4.conf.g0.send_redirects=0 \
			net.ipv6.conf.all.forwarding=1
	done
	nexthops 1 2 3
}

nexthops() {	# NODE...: the router's next hops to the VIP
	local i hops=() hops6=()
	for i in "$@"; do
		hops+=(nexthop via "$(node4 $i)")
		hops6+=(nexthop via "$(node6 $i)")
	done
	at r ip route replace "$vip/32" "${hops[@]}"
	at r ip -6 route replace "$vip6/128" "${hops6[@]}"
}

reseed() { at r sysctl -qw net.ipv4.fib_multipath_hash_seed=$((RANDOM + 1)); }

peers() {	# LINE...: the peers file every node reads
	printf '%s\n' "$@" >"$work/peers.new"
	mv "$work/peers.new" "$work/peers"
}

start_agent() {	# I
	ip netns exec "$pfx-g$1" "$build/snilb" agent \
		--manifests "$work/man" --iface g0 --snat "$(node4 $1)" \
		--pin-path "$work/bpffs/g$1" --status-file "$work/g$1.status" \
		--node-name "g$1" --peers "$work/peers" --drain \
		--drain-timeout 60 >>"$work/g$1.log" 2>&1 &
	agent[$1]=$!
}

# The generation node I logged last.
generation() {
	grep 'msg="node table"' "$work/g$1.log" | tail -1 |
		sed -n 's/.*generation=\([0-9a-f]*\).*/\1/p'
}
same_generation() {	# NODE...: the one generation they all have, or -
	local i g first=
	for i in "$@"; do
		g=$(generation "$i")
		[ -z "$first" ] && first=$g
		[ "$g" = "$first" ] || { echo -; return; }
	done
	echo "$first"
}
# Wait until NODE... all have a generation other than OLD: print it.
new_generation() {	# OLD NODE...
	local old=$1 end=$((SECONDS + 20)) g
	shift
	while [ $SECONDS -lt $end ]; do
		g=$(same_generation "$@")
		[ "$g" != - ] && [ "$g" != "$old" ] && { echo "$g"; return; }
		sleep 0.1
	done
	echo "     gave up after 20 s waiting for a new generation on $*" >&2
	echo -
}

stat_of() {	# I NAME: a data plane counter of node I
	at "g$1" "$build/snilb" stats -o json --pin-path "$work/bpffs/g$1" \
		--status-file "$work/g$1.status" 2>/dev/null |
		jq -r ".global.$2 // 0"
}
stat_sum() {	# NAME NODE...
	local name=$1 s=0 i
	shift
	for i in "$@"; do s=$((s + $(stat_of "$i" "$name"))); done
	echo $s
}

# Run the load (mnload.py) in the background: $load_pid, $work/load.*.
load_start() {	# TAG DOWNLOADS SIZE RATE NEW_SECONDS NEW_GAP
	local tag=$1
	shift
	ip netns exec "$pfx-cli" timeout 200 python3 "$here/mnload.py" \
		www.example.com "${lvip:-$vip}" "$@" >"$work/load.$tag.out" \
		2>"$work/load.$tag.err" &
	load_pid=$!
	wait_for '^ready' "$work/load.$tag.out" 60
}
load_result() {	# TAG: its summary line, in $got (not in a $(...):
	wait "$load_pid"	# a subshell cannot wait for it)
	got=$(tail -1 "$work/load.$1.out")
}
show_err() {	# TAG: what failed, for a diagnosis
	head -5 "$work/load.$1.err" | sed 's/^/     /'
}

setup() {
	up
	mkdir -p "$work/man"
	cp "$top/examples/00-gateway.yaml" "$top/examples/10-shop.yaml" \
		"$work/man/"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
		-nodes -days 2 -subj "/CN=b1" -keyout "$work/b1.key" \
		-out "$work/b1.crt" 2>/dev/null
	ip netns exec "$pfx-r" python3 "$here/backend.py" --name b1 \
		--cert "$work/b1.crt" --key "$work/b1.key" >"$work/b1.log" 2>&1 &
	pids+=($!)
	peers "g1 $(node4 1)" "g2 $(node4 2)" "g3 $(node4 3)"
	for i in 1 2 3; do start_agent $i; done
	wait_for listening "$work/b1.log" 30 || return 1
	for i in 1 2 3; do
		wait_for "msg=synced" "$work/g$i.log" 120 || return 1
		wait_for 'msg="node table"' "$work/g$i.log" 30 || return 1
	done
}

t_table() {
	local g out
	g=$(same_generation 1 2 3)
	if [ "$g" != - ] && [ -n "$g" ]; then
		ok "table: the three nodes agree (generation $g)"
	else
		bad "table: generations differ: $(generation 1) $(generation 2) $(generation 3)"
	fi
	out=$(at cli timeout 120 python3 "$here/clients.py" seq 30 \
		www.example.com "$vip" 2>"$work/seq.err")
	check "table: 30 connections one after another" \
		"ok=30 failed=0 backends=b1:30" "$out"
	local s i
	s=$(stat_sum steer_out 1 2 3)
	i=$(stat_sum steer_in 1 2 3)
	if [ "$s" -gt 0 ] && [ "$i" -gt 0 ]; then
		ok "table: packets steered to their owner (out $s, in $i)"
	else
		bad "table: nothing steered (out $s, in $i): all on their owner?"
	fi
	[ "$topo" = l3 ] || return 0
	s=$(stat_sum steer_encap 1 2 3)
	i=$(stat_sum steer_decap 1 2 3)
	if [ "$s" -gt 0 ] && [ "$i" -gt 0 ]; then
		ok "table: across the router, in an IPIP header (encap $s, decap $i)"
	else
		bad "table: IPIP: encap $s, decap $i"
	fi
}

ecmp_changes() {	# TAG WHAT
	local tag=$1 what=$2 got t0=$SECONDS
	load_start $tag "$N" 3000000 250000 10 0.1 || { bad "$tag: load never ready"; return; }
	sleep 2; nexthops 1 3
	sleep 2; nexthops 1 2 3
	sleep 2; reseed
	sleep 2; reseed
	load_result $tag
	check "$tag: next hops 3 -> 2 -> 3, two reseeds: $N $what downloads byte-exact" \
		"downloads ok=$N failed=0" "${got% new*}"
	check "$tag: new connections meanwhile: 0 failed (${got#* new }, $((SECONDS - t0)) s)" \
		"failed=0" "${got##* }"
	case $got in
	*"failed=0 new"*"failed=0") ;;
	*) show_err $tag ;;
	esac
	echo "     steered: out $(stat_sum steer_out 1 2 3), in $(stat_sum steer_in 1 2 3), second chance $(stat_sum steer_second 1 2 3), orphans $(stat_sum steer_orphan 1 2 3), encap $(stat_sum steer_encap 1 2 3), decap $(stat_sum steer_decap 1 2 3), too big $(stat_sum steer_too_big 1 2 3)"
}

t_ecmp_changes() {
	ecmp_changes ecmp IPv4
}

# IPv6: steered in a 6in4 header on either topology.
t_ecmp_v6() {
	local e0 d0 e d
	e0=$(stat_sum steer_encap 1 2 3) d0=$(stat_sum steer_decap 1 2 3)
	lvip=$vip6 ecmp_changes ecmp6 IPv6
	e=$(($(stat_sum steer_encap 1 2 3) - e0))
	d=$(($(stat_sum steer_decap 1 2 3) - d0))
	if [ "$e" -gt 0 ] && [ "$d" -gt 0 ]; then
		ok "ecmp6: IPv6 packets steered in a 6in4 header (encap $e, decap $d)"
	else
		bad "ecmp6: encap $e, decap $d: IPv6 not steered"
	fi
}

t_drain() {
	local tag=drain got old g flows0 out0 end
	old=$(same_generation 1 2 3)
	load_start $tag "$N" 2500000 250000 8 0.1 || { bad "drain: load never ready"; return; }
	peers "g1 $(node4 1)" "g2 $(node4 2) draining" "g3 $(node4 3)"
	kill -TERM "${agent[2]}"
	g=$(new_generation "$old" 1 2 3)
	flows0=$(stat_of 2 flow_new) out0=$(stat_of 2 steer_out)
	sleep 2		# new connections the router still sends g2
	if kill -0 "$load_pid" 2>/dev/null; then
		ok "drain: the router's next hop to g2 goes with downloads in flight"
	else
		bad "drain: the downloads ended before g2's next hop went"
	fi
	nexthops 1 3
	check "drain: g2 made no flow after its drain" "$flows0" \
		"$(stat_of 2 flow_new)"
	if [ "$(stat_of 2 steer_out)" -gt "$out0" ]; then
		ok "drain: g2 sent the SYNs it still got to the others"
	else
		bad "drain: g2 steered nothing after its drain"
	fi
	load_result $tag
	check "drain: g2 drained with $N downloads in flight: 0 failed" \
		"downloads ok=$N failed=0" "${got% new*}"
	check "drain: new connections meanwhile: 0 failed" "failed=0" \
		"${got##* }"
	case $got in
	*"failed=0 new"*"failed=0") ;;
	*) show_err $tag ;;
	esac
	echo "     steered: second chance $(stat_sum steer_second 1 2 3), orphans $(stat_sum steer_orphan 1 2 3)"
	end=$((SECONDS + 60))
	while kill -0 "${agent[2]}" 2>/dev/null && [ $SECONDS -lt $end ]; do
		sleep 0.2
	done
	if grep -q 'drained: every flow ended' "$work/g2.log" &&
	   ! kill -0 "${agent[2]}" 2>/dev/null; then
		ok "drain: g2's agent stopped once its flows ended (generation $g)"
	else
		bad "drain: g2's agent: $(grep -c drain "$work/g2.log") drain lines, running: $(kill -0 "${agent[2]}" 2>/dev/null && echo yes || echo no)"
	fi
}

# The client ports of the flows node I holds.
flow_ports() {
	at "g$1" "$build/snilb" flows -o json --limit 0 \
		--pin-path "$work/bpffs/g$1" --status-file "$work/g$1.status" |
		jq -r '.flows[].client' | sed 's/.*://' | sort -u
}

t_kill() {
	local tag=kill got old g3ports lost=0 p foreign=0 out
	peers "g1 $(node4 1)" "g2 $(node4 2)" "g3 $(node4 3)"
	start_agent 2
	wait_for "msg=synced" "$work/g2.log" 60
	old=$(new_generation "$(same_generation 1 3)" 1 2 3)
	nexthops 1 2 3
	load_start $tag "$N" 2000000 250000 0 0.1 || { bad "kill: load never ready"; return; }
	g3ports=$(flow_ports 3)
	at r ip link set p3 down
	nexthops 1 2
	peers "g1 $(node4 1)" "g2 $(node4 2)"
	new_generation "$old" 1 2 >/dev/null
	out=$(at cli timeout 120 python3 "$here/clients.py" seq 30 \
		www.example.com "$vip" 2>>"$work/seq.err")
	check "kill: g3 dead: new connections work at once" \
		"ok=30 failed=0 backends=b1:30" "$out"
	load_result $tag
	for p in $(sed -n 's/.*download [0-9]* (port \([0-9]*\)).*/\1/p' \
		"$work/load.$tag.err"); do
		lost=$((lost + 1))
		grep -qx "$p" <<<"$g3ports" || foreign=$((foreign + 1))
	done
	check "kill: downloads lost were all g3's ($lost lost, g3 held $(wc -w <<<"$g3ports") flows)" \
		0 "$foreign"
	[ "$foreign" = 0 ] || show_err $tag
}

t0=$SECONDS
if setup; then
	checks="t_table t_ecmp_changes t_ecmp_v6 t_drain t_kill"
	[ "$topo" = l3 ] && checks="t_table t_ecmp_changes t_ecmp_v6"
	for t in $checks; do
		[ -z "${ONLY:-}" ] || [ "$ONLY" = "$t" ] && $t
	done
else
	bad "setup: the nodes never came up"
	tail -5 "$work"/g*.log
fi
echo "     multinode ($topo): $((SECONDS - t0)) s"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
