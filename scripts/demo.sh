#!/usr/bin/env bash
# `make demo`: `snilb agent` routing real TLS by SNI in the kernel, driven
# by the Gateway API manifests of examples/, on a topology of network
# namespaces it builds and removes again (also on Ctrl-C or an error):
#
#   client --- gateway (agent + BPF data plane; VIPs 198.18.0.10,
#                       2001:db8:100::10)
#                |
#                +-- b1  198.18.2.11  :8443 shop/www      :9443 checkout blue-1
#                +-- b2  198.18.2.12  :8443 shop/api      :9443 checkout blue-2
#                +-- b3  198.18.2.13  :8443 dev/preview   :9443 checkout green-1
#                        (2001:db8:2::1x)  (IPv6)
#
# Usage: scripts/demo.sh BUILD_DIR
set -euo pipefail
export LC_ALL=C

build=$(cd "${1:-build}" && pwd)
top=$(cd "$(dirname "$0")/.." && pwd)
e2e=$top/tests/e2e
pfx=sd$$
vip4=198.18.0.10 vip6=2001:db8:100::10

if [ "$(id -u)" -ne 0 ]; then
	echo "make demo needs root (network namespaces, BPF)" >&2
	exit 1
fi

work=$(mktemp -d /tmp/snilb-demo.XXXXXX)
man=$work/manifests
pin=$work/bpffs/snilb
pids=()
mounted=

say() { printf '\n\033[1m== %s\033[0m\n' "$1"; shift; [ $# -eq 0 ] || printf '   %s\n' "$@"; }
at() { local n=$1; shift; ip netns exec "$pfx-$n" "$@"; }
snilb() {	# the CLI, in the gateway namespace, on the agent's state
	local c=$1; shift
	at gw "$build/snilb" "$c" --pin-path "$pin" \
		--status-file "$work/status.json" "$@"
}
indent() { sed 's/^/    /'; }

cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	say "Cleaning up: processes, namespaces, bpffs mount"
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	"$e2e/topo.sh" down "$pfx" || true
	[ -z "$mounted" ] || umount "$work/bpffs" || true
	rm -rf "$work"
	[ $rc -eq 0 ] && echo "   done" || echo "   done (demo exit $rc)"
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Until FILE has the line, at most 60 s: a busy machine's worth.
wait_for() {	# FIXED-STRING FILE
	for _ in $(seq 600); do
		grep -qF -- "$1" "$2" && return 0
		sleep 0.1
	done
	echo "timed out after 60 s waiting for '$1' in $2:" >&2
	cat "$2" >&2
	return 1
}

say "Topology: client | gateway | backends b1 b2 b3, in namespaces $pfx-*" \
    "Each backend is a TLS server with its own certificate (CN=its name)" \
    "on 8443, and a second one on 9443 for the blue/green checkout Pods."
"$e2e/topo.sh" up "$pfx"
set -- b1 blue-1 b2 blue-2 b3 green-1
while [ $# -gt 0 ]; do
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
		-nodes -days 1 -subj "/CN=$1" -keyout "$work/$1.key" \
		-out "$work/$1.crt" 2>/dev/null
	ip netns exec "$pfx-$1" python3 "$e2e/backend.py" --name "$1" \
		--cert "$work/$1.crt" --key "$work/$1.key" >"$work/$1.log" 2>&1 &
	pids+=($!)
	ip netns exec "$pfx-$1" python3 "$e2e/backend.py" --name "$2" \
		--port 9443 --cert "$work/$1.crt" --key "$work/$1.key" \
		>"$work/$2.log" 2>&1 &
	pids+=($!)
	shift 2
done

say "The manifests: a copy of $top/examples/" \
    "(the demo edits the copy, never examples/ itself)"
mkdir -p "$man"
cp "$top"/examples/*.yaml "$man/"
for f in "$man"/*.yaml; do
	printf '    %-26s %s\n' "$(basename "$f")" \
		"$(grep -h '^kind:' "$f" | sed 's/kind: //' | sort | uniq -c |
		   awk '{printf "%s%s x%s", sep, $2, $1; sep = ", "}')"
done
echo "    hostnames: $(grep -h 'hostnames:' "$man"/*.yaml |
	sed 's/.*\[\(.*\)\]/\1/' | tr -d '"' | paste -sd' ')"

say "Starting the agent in the gateway namespace" \
    "It loads the data plane, pins it under a bpffs of our own, attaches it" \
    "to tc ingress of g0 and br0 and keeps the BPF maps equal to the manifests."
mkdir -p "$work/bpffs"
mount -t bpf bpf "$work/bpffs"
mounted=1
echo "    snilb agent --manifests $man --iface g0,br0 \\"
echo "        --snat 198.18.2.1 --snat 2001:db8:2::1 --pin-path $pin"
ip netns exec "$pfx-gw" "$build/snilb" agent --manifests "$man" \
	--iface g0,br0 --snat 198.18.2.1 --snat 2001:db8:2::1 \
	--pin-path "$pin" --status-file "$work/status.json" \
	>"$work/agent.log" 2>&1 &
agent=$!
pids+=("$agent")
wait_for 'msg="agent running"' "$work/agent.log"
for b in b1 b2 b3 blue-1 blue-2 green-1; do wait_for listening "$work/$b.log"; done
echo "    agent log:"
sed 's/^ts=[^ ]* //' "$work/agent.log" | indent

get() {	# HOST [ADDR] -> "backend=NAME in Ns", or the reset
	local out rc=0
	out=$(at cli curl -sk --max-time 5 --resolve "$1:443:${2:-$vip4}" \
		"https://$1/" -w ' in %{time_total}s' 2>/dev/null) || rc=$?
	if [ $rc -eq 0 ]; then echo "$out" | tr -d '\n'
	else echo "reset by the gateway (curl exit $rc)"; fi
}
say "curl through the VIP: the SNI picks the backend" \
    "(a.dev.example.com's only endpoint is IPv6: through the IPv4 VIP the" \
    " data plane translates, NAT46/64)"
while read -r h addr; do
	printf '    %-42s -> %s\n' "$h via $addr" "$(get "$h" "$addr")"
done <<EOF2
www.example.com $vip4
api.example.com $vip4
checkout.example.com $vip4
a.dev.example.com [$vip6]
a.dev.example.com $vip4
unknown.example.com $vip4
EOF2
echo "    the certificate the client sees for api.example.com:" \
	"$(at cli openssl s_client -connect $vip4:443 -servername \
	   api.example.com </dev/null 2>/dev/null | grep -m1 '^subject')"

say "snilb routes: what the agent programmed, with the kernel's counters"
snilb routes | indent

say "Blue/green: a long download from checkout.example.com (on blue) ..."
at cli curl -sk --max-time 60 --limit-rate 5M \
	--resolve checkout.example.com:443:$vip4 -D "$work/dl.h" \
	-o "$work/dl.body" "https://checkout.example.com/bytes/$((40 * 1048576))" &
dl=$!
pids+=("$dl")
# Until it is under way (its first bytes in), at most 30 s.
for _ in $(seq 300); do
	[ -s "$work/dl.body" ] && break
	sleep 0.1
done
echo "    40 MB at 5 MB/s, running; snilb flows:"
snilb flows --route store/checkout | indent
printf '    5 new connections:'
for _ in 1 2 3 4 5; do printf ' %s' "$(get checkout.example.com | sed 's/backend=//; s/ in.*//')"; done
echo

say "... and the cutover: spec.selector.color of Service store/checkout" \
    "edited from blue to green in 30-store-bluegreen.yaml"
n=$(grep -c 'msg=synced' "$work/agent.log" || true)
t0=$(date +%s%N)
sed -i 's/^    color: blue$/    color: green/' "$man/30-store-bluegreen.yaml"
grep -n -B2 '^    color: green$' "$man/30-store-bluegreen.yaml" | indent
# Until the agent has synced the edit, at most 30 s.
for _ in $(seq 1500); do
	[ "$(grep -c 'msg=synced' "$work/agent.log")" -gt "$n" ] && break
	sleep 0.02
done
echo "    agent, $((($(date +%s%N) - t0) / 1000000)) ms after the edit:"
grep 'msg=synced' "$work/agent.log" | tail -1 | sed 's/^ts=[^ ]* //' | indent
printf '    5 new connections:'
for _ in 1 2 3 4 5; do printf ' %s' "$(get checkout.example.com | sed 's/backend=//; s/ in.*//')"; done
echo
echo "    snilb routes: checkout.example.com now has the green set"
snilb routes | grep -E 'LISTENER|checkout' | indent
echo "    snilb flows: the download is still on its blue backend (:9443 of .11 or .12)"
snilb flows --route store/checkout | indent

say "The download started on blue finishes there, byte for byte"
wait "$dl"
echo "    answered by: $(sed -n 's/^X-Backend: *\([^[:space:]]*\).*/\1/p' "$work/dl.h")," \
	"$(stat -c %s "$work/dl.body") bytes"
echo "    sha256 sent: $(sed -n 's/^X-SHA256: *\([0-9a-f]*\).*/\1/p' "$work/dl.h")"
echo "    sha256 got:  $(sha256sum "$work/dl.body" | cut -d' ' -f1)"

say "snilb stats: per-route counters from the kernel"
snilb stats | sed -n '/^ROUTE/,$p' | indent
