#!/usr/bin/env bash
# `make demo`: snilb routing real TLS by SNI, in the kernel, on a topology
# of network namespaces it builds and removes again:
#
#   client --- gateway (the BPF data plane; VIP 198.18.0.10) --- b1 b2 b3
#
# The agent that reads Gateway API manifests is the next piece (issue 4);
# until then the routes come from a short script (tests/e2e/dpctl.c).
# Usage: scripts/demo.sh BUILD_DIR
set -euo pipefail

build=$(cd "${1:-build}" && pwd)
top=$(cd "$(dirname "$0")/.." && pwd)
e2e=$top/tests/e2e
corpus=${CORPUS:-$top/../shared/corpus}
pfx=sd$$
work=$(mktemp -d /tmp/snilb-demo.XXXXXX)
pids=()

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
at() { local n=$1; shift; ip netns exec "$pfx-$n" "$@"; }
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	"$e2e/topo.sh" down "$pfx"
	rm -rf "$work"
}

if [ "$(id -u)" -ne 0 ]; then
	echo "make demo needs root (network namespaces, BPF)" >&2
	exit 1
fi
trap cleanup EXIT

say "The ClientHello parser on hellos captured just now from real clients"
"$build/snilb" sni "$build"/hellos/*.bin | head -6 || true
echo "..."
if [ -d "$corpus/hello" ]; then
	"$build/snilb" sni --kernel "$corpus/hello/zeek__tls13-ech__1.bin" \
		"$corpus/hello/zeek__ssl-v2__1.bin" || true
fi

say "Topology: client | gateway with the data plane | backends b1 b2 b3"
"$e2e/topo.sh" up "$pfx"
for b in b1 b2 b3; do
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
		-nodes -days 1 -subj "/CN=$b" -keyout "$work/$b.key" \
		-out "$work/$b.crt" 2>/dev/null
	ip netns exec "$pfx-$b" python3 "$e2e/backend.py" --name "$b" \
		--cert "$work/$b.crt" --key "$work/$b.key" >"$work/$b.log" 2>&1 &
	pids+=($!)
done
cat >"$work/routes" <<EOF2
snat 198.18.2.1
snat 2001:db8:2::1
listener 1 198.18.0.10 443
listener 2 2001:db8:100::10 443
backend 1 198.18.2.11 8443
backend 2 198.18.2.12 8443
backend 3 198.18.2.13 8443
backend 4 2001:db8:2::11 8443
set 1 1
set 2 2
set 3 3
set 4 4
set 5 2:1 3:1
route 1 www.example.com 1 1
route 1 *.example.com 2 2
route 1 *.shop.example.com 3 3
route 1 lb.example.com 4 5
route 2 www.example.com 5 4
attach g0
attach br0
EOF2
sed 's/^/    /' "$work/routes"
ip netns exec "$pfx-gw" "$build/dpctl" "$work/routes" >"$work/dp.log" 2>&1 &
dp=$!
pids+=("$dp")
for _ in $(seq 50); do
	grep -q ready "$work/dp.log" && grep -q listening "$work/b3.log" && break
	sleep 0.1
done

get() {	# HOST [ADDR]
	local out rc=0
	out=$(at cli curl -sk --max-time 5 \
		--resolve "$1:443:${2:-198.18.0.10}" "https://$1/" \
		-w ' in %{time_total}s' 2>/dev/null) || rc=$?
	if [ $rc -eq 0 ]; then echo "$out"; else echo "reset (curl exit $rc)"; fi
}
say "curl through the VIP: the backend that answers is named by the SNI"
for h in www.example.com api.example.com cart.shop.example.com \
	 WWW.EXAMPLE.COM unknown.example.org; do
	printf '  %-24s -> %s\n' "$h" "$(get "$h" | tr -d '\n')"
done
printf '  %-24s -> %s\n' "www.example.com (IPv6)" \
	"$(get www.example.com '[2001:db8:100::10]' | tr -d '\n')"
echo "  lb.example.com, 10 times (set of b2 and b3, Maglev by client tuple):"
for _ in $(seq 10); do printf ' %s' "$(get lb.example.com | sed 's/backend=//; s/ in.*//')"; done
echo

say "The certificate the client sees is the backend's own"
at cli openssl s_client -connect 198.18.0.10:443 -servername \
	cart.shop.example.com </dev/null 2>/dev/null | grep -m1 '^subject'

say "A 50 MB download through a spliced connection, checked"
at cli curl -sk --resolve www.example.com:443:198.18.0.10 -D "$work/h" \
	-o "$work/body" https://www.example.com/bytes/52428800 \
	-w '  %{size_download} bytes in %{time_total}s\n'
echo "  sha256 sent: $(sed -n 's/^X-SHA256: *\([0-9a-f]*\).*/\1/p' "$work/h" | tr -d '\r')"
echo "  sha256 got:  $(sha256sum "$work/body" | cut -d' ' -f1)"

say "The data plane's counters"
kill -USR1 "$dp"
sleep 0.3
grep '^stat' "$work/dp.log" | awk '$3 != 0 {printf "  %-14s %s\n", $2, $3}'
