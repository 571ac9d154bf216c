#!/usr/bin/env bash
# The several-nodes scenario of `make bench` (docs/multinode.md): new TLS
# connections per second and bulk MB/s through one gateway node, then
# through three behind a multipath route, where two packets in three land
# on a node that does not own their connection and are steered to it.
#
#   cli 198.18.5.2 -- r 198.18.5.1 | br0 198.18.1.1 -- g1 .11, g2 .12, g3 .13
#                       | 198.18.2.1 -- b 198.18.2.11: NGINX HTTPS on 8443,
#                                         tests/bench/sink.c on 9443
#
# Each node is a `snilb agent --peers` of its own (its own bpffs); each
# SNATs to its own address, so the backend's packets go straight to the
# owner. "1 node": the peers file names g1 alone and the route has one next
# hop; "3 nodes": the file names all three, the route three next hops
# (hashing the 5-tuple: fib_multipath_hash_policy 3, fields 0x37). On a
# two-core machine the nodes share the same cores: the figures say what
# steering costs, not what three machines would add.
#
# Usage: tests/bench/nodes.sh BUILD_DIR SECONDS (NODES_WRK=1: wrk's own
# report, latency distribution included, on stderr)
# Prints "nodes N conns=R cpu10k=C bulk1=M bulk16=M steered=S" lines (S:
# packets steered per connection in the connections run), or
# "nodes skipped: REASON".
set -uo pipefail

build=$(cd "${1:-build}" && pwd)
secs=${2:-10}
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
pfx=bn$$
work=$(mktemp -d /tmp/snilb-nodes.XXXXXX)
vip=198.18.0.10
pids=()
declare -A agent

. "$here/../lib/lib.sh"	# at, wait_for, yaml_*
log() { printf '%s\n' "$*" >&2; }

cleanup() {
	local p n
	for p in "${agent[@]}" "${pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	[ -f "$work/b.pid" ] && kill "$(cat "$work/b.pid")" 2>/dev/null
	for n in cli r b g1 g2 g3; do ip netns del "$pfx-$n" 2>/dev/null; done
	rm -rf "/etc/netns/$pfx-cli"
	mountpoint -q "$work/bpffs" && umount "$work/bpffs"
	rm -rf "$work"
}
trap cleanup EXIT

if [ ! -e /proc/sys/net/ipv4/fib_multipath_hash_fields ]; then
	echo "nodes skipped: no fib_multipath_hash_fields (kernel < 5.12)"
	exit 0
fi

link() { ip link add "$2" netns "$pfx-$1" type veth peer name "$4" \
	netns "$pfx-$3"; }
addr() { at "$1" ip addr add "$3" dev "$2"; at "$1" ip link set "$2" up; }

up() {
	local n i
	for n in cli r b g1 g2 g3; do
		ip netns add "$pfx-$n" || return 1
		at "$n" ip link set lo up
	done
	at r ip link add br0 type bridge
	addr r br0 198.18.1.1/24
	at r sysctl -qw net.ipv4.conf.all.forwarding=1 \
		net.ipv4.fib_multipath_hash_policy=3 \
		net.ipv4.fib_multipath_hash_fields=0x37
	link cli c0 r rc
	addr cli c0 198.18.5.2/24
	at cli ip route add default via 198.18.5.1
	addr r rc 198.18.5.1/24
	link b eth0 r rb
	addr b eth0 198.18.2.11/24
	at b ip route add default via 198.18.2.1
	addr r rb 198.18.2.1/24
	for i in 1 2 3; do
		link "g$i" g0 r "p$i"
		at r ip link set "p$i" master br0 up
		addr "g$i" g0 "198.18.1.1$i/24"
		at "g$i" ip route add default via 198.18.1.1
		at "g$i" sysctl -qw net.ipv4.conf.all.forwarding=1 \
			net.ipv4.conf.all.send_redirects=0
	done
	mkdir -p "/etc/netns/$pfx-cli"
	printf '127.0.0.1 localhost\n%s tls.example.com bulk.example.com\n' \
		"$vip" >"/etc/netns/$pfx-cli/hosts"
}

nexthops() {	# NODE...: the router's next hops to the VIP
	local i hops=()
	for i in "$@"; do hops+=(nexthop via "198.18.1.1$i"); done
	at r ip route replace "$vip/32" "${hops[@]}"
}

backends() {
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
		-nodes -days 2 -subj /CN=b -keyout "$work/b.key" \
		-out "$work/b.crt" 2>/dev/null || return 1
	cat >"$work/b.conf" <<-EOF
	worker_processes 1; pid $work/b.pid; error_log $work/b.err;
	events { worker_connections 4096; }
	http { access_log off; server { listen 8443 ssl;
	ssl_certificate $work/b.crt; ssl_certificate_key $work/b.key;
	location / { return 200 'b'; } } }
	EOF
	at b nginx -c "$work/b.conf" -e "$work/b.err" </dev/null \
		>/dev/null 2>&1 || return 1
	ip netns exec "$pfx-b" "$build/sink" 9443 >"$work/sink.log" 2>&1 \
		</dev/null &
	pids+=($!)
}

manifests() {
	mkdir -p "$work/man"
	cp "$top/examples/00-gateway.yaml" "$work/man/"
	{
		yaml_namespace shop
		yaml_route shop tls tls.example.com 8443 198.18.2.11
		yaml_route shop bulk bulk.example.com 9443 198.18.2.11
	} >"$work/man/10-bench.yaml"
}

peers() {	# NODE...: the peers file every node reads, replaced whole
	local i
	for i in "$@"; do echo "g$i 198.18.1.1$i"; done >"$work/peers.new"
	mv "$work/peers.new" "$work/peers"
}

start_agent() {	# I
	ip netns exec "$pfx-g$1" "$build/snilb" agent \
		--manifests "$work/man" --iface g0 --snat "198.18.1.1$1" \
		--pin-path "$work/bpffs/g$1" --status-file "$work/g$1.status" \
		--node-name "g$1" --peers "$work/peers" \
		>>"$work/g$1.log" 2>&1 </dev/null &
	agent[$1]=$!
	wait_for msg=synced "$work/g$1.log" 120
}

# Until node I... all log a table of N nodes.
table_of() {	# N I...
	local n=$1 i end=$((SECONDS + 60))
	shift
	for i in "$@"; do
		while ! grep 'msg="node table"' "$work/g$i.log" | tail -1 |
			grep -q "nodes=$n"; do
			[ $SECONDS -lt $end ] && { sleep 0.1; continue; }
			log "nodes: gave up after 60 s waiting for a table of" \
				"$n nodes on g$i:"
			grep 'node table' "$work/g$i.log" | tail -2 >&2
			return 1
		done
	done
}

busy() { awk '/^cpu /{print $2 + $3 + $4 + $6 + $7 + $8}' /proc/stat; }
hz=$(getconf CLK_TCK)

steered() {	# NODE...: steer_out summed
	local i s=0 v
	for i in "$@"; do
		v=$(at "g$i" "$build/snilb" stats -o json \
			--pin-path "$work/bpffs/g$i" \
			--status-file "$work/g$i.status" 2>/dev/null |
			jq -r '.global.steer_out // 0')
		s=$((s + ${v:-0}))
	done
	echo $s
}

measure() {	# N NODE...: one line of figures
	local n=$1 b0 b1 out c s0 s1 m1 m16
	shift
	s0=$(steered "$@")
	b0=$(busy)
	out=$(at cli wrk -t2 -c16 -d"$secs"s --latency -H 'Connection: close' \
		https://tls.example.com/ 2>&1)
	b1=$(busy)
	s1=$(steered "$@")
	c=$(sed -n 's/^Requests\/sec: *//p' <<<"$out")
	c=${c%.*}
	[ -n "${NODES_WRK:-}" ] && log "$out"
	[ -n "$c" ] || { log "nodes: wrk said: $out"; c=0; }
	m1=$(at cli "$build/stream" bulk.example.com "$vip" 443 "$secs" 1)
	m16=$(at cli "$build/stream" bulk.example.com "$vip" 443 "$secs" 16)
	python3 - "$n" "$c" "$((b1 - b0))" "$hz" "$secs" "$m1" "$m16" \
		"$((s1 - s0))" <<-'EOF'
	import sys
	n, c, jif, hz, secs, m1, m16, st = sys.argv[1:]
	c, secs = int(c), int(secs)
	cpu = float(jif) / int(hz) / max(1, c * secs) * 10000
	per = int(st) / max(1, c * secs)
	print("nodes %s conns=%d cpu10k=%.2f bulk1=%s bulk16=%s steered=%.1f"
	      % (n, c, cpu, m1 or 0, m16 or 0, per))
	EOF
}

up || { echo "nodes skipped: the topology could not be made"; exit 0; }
mkdir -p "$work/bpffs"
mount -t bpf bpf "$work/bpffs"
backends || { echo "nodes skipped: the backends did not start"; exit 0; }
manifests
log "  nodes: one node"
peers 1
nexthops 1
start_agent 1 && table_of 1 1 || { echo "nodes skipped: g1 did not start"; exit 0; }
measure 1 1
log "  nodes: three nodes"
peers 1 2 3
start_agent 2 && start_agent 3 && table_of 3 1 2 3 ||
	{ echo "nodes skipped: the three nodes did not agree"; exit 0; }
nexthops 1 2 3
measure 3 1 2 3
