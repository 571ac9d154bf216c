#!/usr/bin/env bash
# End-to-end suite of NAT46/64 (docs/dataplane.md "NAT46/64"): a
# dual-stack Gateway in front of single-stack backends. b1 has only an
# IPv4 address, b2 only an IPv6 one; `snilb agent` (manifests, both
# --snat) routes v4only.example.com to b1 and v6only.example.com to b2.
# Checks, with curl over real TLS: an IPv6 client reaches b1 and an IPv4
# client b2; a 3 MB download (SHA-256 as the backend sent it) and a 2 MB
# upload (SHA-256 as the backend read it) byte-exact both ways, with GRO
# and TSO on the wires (the upload's full-sized IPv4 segments are too big
# once translated to IPv6: snilb's "fragmentation needed" makes the
# client's TCP send smaller ones); the access log's record of each shows
# the client in its family and the backend in the other.
# Usage: tests/e2e/nat46.sh BUILD_DIR   (KEEP=1: keep the namespaces)
set -uo pipefail
export LC_ALL=C

build=$(cd "${1:-build}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/lib.sh"
top=$(cd "$here/../.." && pwd)
if [ "$(id -u)" -ne 0 ]; then
	echo "nat46 e2e: skipped: network namespaces and BPF need root"
	echo "0 passed, 0 failed, 1 skipped"
	exit 0
fi

pfx=sx$$
work=$(mktemp -d /tmp/snilb-nat46.XXXXXX)
mkdir -p "$work/bpffs"
mount -t bpf bpf "$work/bpffs"
man=$work/manifests
alog=$work/agent.log
acc=$work/access.log
pids=()
vip4=198.18.0.10 vip6=2001:db8:100::10

trap cleanup EXIT

cli() { at cli timeout 60 "$@"; }

# rec KEY=VALUE...: the first access log record with these values,
# polled for up to 20 s (a closed flow is logged when the reaper frees
# it, 2 s after its last ACK); "" if none came.
rec() {
	python3 - "$acc" "$@" <<'PY'
import json, sys, time
path, want = sys.argv[1], dict(a.split("=", 1) for a in sys.argv[2:])
end = time.time() + 20
while time.time() < end:
    try:
        lines = open(path).read().splitlines()
    except OSError:
        lines = []
    for ln in lines:
        try:
            r = json.loads(ln)
        except ValueError:
            continue
        if all(str(r.get(k)) == v for k, v in want.items()):
            print(json.dumps(r))
            sys.exit(0)
    time.sleep(0.2)
PY
}
# counter NAME: a global counter of the data plane (snilb stats -o json).
counter() {
	at gw timeout 20 "$build/snilb" stats --pin-path "$work/bpffs/snilb" \
		--status-file "$work/status.json" -o json | python3 -c '
import json, sys
print(json.load(sys.stdin)["global"].get(sys.argv[1], 0))' "$1"
}
field() { [ -n "$1" ] || return 0; python3 -c 'import json,sys; print(json.loads(sys.argv[1]).get(sys.argv[2], ""))' "$1" "$2"; }

manifests() {
	mkdir -p "$man"
	cp "$top/examples/00-gateway.yaml" "$man/"
	{
		yaml_namespace mix
		yaml_route mix v4only v4only.example.com 8443 198.18.2.11
		yaml_route mix v6only v6only.example.com 8443 2001:db8:2::12
	} >"$man/10-mix.yaml"
}

setup() {
	local b
	"$here/topo.sh" up "$pfx" || return 1
	# Single-stack backends: b1 IPv4 only, b2 IPv6 only.
	at b1 ip -6 addr flush dev eth0 scope global
	at b2 ip -4 addr flush dev eth0
	at b2 ip -6 route add default via 2001:db8:2::1
	manifests
	for b in b1 b2; do
		openssl req -x509 -newkey ec \
			-pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
			-subj "/CN=$b" -keyout "$work/$b.key" \
			-out "$work/$b.crt" 2>/dev/null || return 1
		ip netns exec "$pfx-$b" python3 "$here/backend.py" --name "$b" \
			--cert "$work/$b.crt" --key "$work/$b.key" \
			>"$work/$b.log" 2>&1 &
		pids+=($!)
	done
	ip netns exec "$pfx-gw" "$build/snilb" agent --manifests "$man" \
		--iface g0,br0 --snat 198.18.2.1 --snat 2001:db8:2::1 \
		--pin-path "$work/bpffs/snilb" \
		--status-file "$work/status.json" \
		--access-log "$acc" >>"$alog" 2>&1 &
	pids+=($!)
	wait_for 'msg="agent running"' "$alog" 60 || return 1
	wait_for listening "$work/b1.log" && wait_for listening "$work/b2.log"
}

# download NAME ADDR LPORT SIZE: curl from port LPORT; "ok" when the body
# is the SIZE bytes whose SHA-256 the backend named, else what went wrong.
download() {
	local name=$1 addr=$2 lport=$3 size=$4
	cli curl -sk --max-time 30 --local-port "$lport" \
		--resolve "$name:443:$addr" -D "$work/h.$lport" \
		-o "$work/b.$lport" "https://$name/bytes/$size" ||
		{ echo "curl failed ($?)"; return; }
	local want got n
	want=$(tr -d '\r' <"$work/h.$lport" | awk -F': ' \
		'tolower($1) == "x-sha256" { print $2 }')
	got=$(sha256sum <"$work/b.$lport" | cut -d' ' -f1)
	n=$(stat -c %s "$work/b.$lport")
	if [ "$n" = "$size" ] && [ -n "$want" ] && [ "$want" = "$got" ]; then
		echo ok
	else
		echo "got $n bytes, sha $got, want $size, $want"
	fi
}

# upload NAME ADDR SIZE: POST SIZE random bytes; "ok" when the backend
# read them all, with their SHA-256.
upload() {
	local name=$1 addr=$2 size=$3 want got
	head -c "$size" /dev/urandom >"$work/up"
	want="received=$size sha256=$(sha256sum <"$work/up" | cut -d' ' -f1)"
	got=$(cli curl -sk --max-time 30 --resolve "$name:443:$addr" \
		--data-binary "@$work/up" "https://$name/anything")
	[ "$got" = "$want" ] && echo ok || echo "got '$got'"
}

# One direction: CLIENT_FAMILY NAME VIP CLIENT BACKEND LPORT
cross() {
	local what=$1 name=$2 vip=$3 client=$4 backend=$5 lport=$6 r
	check "$what: the backend answers" "backend=${7}" \
		"$(cli curl -sk --max-time 10 --resolve "$name:443:$vip" \
			"https://$name/")"
	check "$what: 3 MB download, byte-exact" ok \
		"$(download "$name" "$vip" "$lport" 3000000)"
	check "$what: 2 MB upload, byte-exact" ok \
		"$(upload "$name" "$vip" 2000000)"
	r=$(rec client="$client:$lport" type=end)
	echo "     $r"
	check "$what: access log: the client" "$client:$lport" \
		"$(field "$r" client)"
	check "$what: access log: the backend" "$backend" \
		"$(field "$r" backend)"
	check "$what: access log: bytes to the client" 1 \
		"$([ "$(field "$r" bytes_b2c)" -gt 3000000 ] 2>/dev/null &&
		   echo 1)"
}

t0_all=$EPOCHREALTIME
if ! setup; then
	bad "setup"
	echo "$passed passed, $failed failed"
	exit 1
fi
cross "IPv6 client -> IPv4-only backend" v4only.example.com "[$vip6]" \
	"[2001:db8:1::2]" 198.18.2.11:8443 40611 b1
tb0=$(counter too_big)
cross "IPv4 client -> IPv6-only backend" v6only.example.com "$vip4" \
	198.18.1.2 "[2001:db8:2::12]:8443" 40612 b2
# The upload's full-sized IPv4 segments, 20 bytes too big as IPv6 for
# br0's 1,500 bytes: answered with "fragmentation needed" (MTU 1,480).
check "IPv4 client -> IPv6-only backend: segments too big once translated answered" \
	yes "$([ "$(counter too_big)" -gt "$tb0" ] && echo yes || echo no)"
# The same download within a family: its record ends as the translated
# ones did (how a connection ends is the ends' business, not NAT46's).
check "same family: 3 MB download, byte-exact" ok \
	"$(download v4only.example.com "$vip4" 40615 3000000)"
same=$(field "$(rec client=198.18.1.2:40615 type=end)" end)
check "same family: ended as the IPv6 client's did" "$same" \
	"$(field "$(rec client="[2001:db8:1::2]:40611" type=end)" end)"
check "same family: ended as the IPv4 client's did" "$same" \
	"$(field "$(rec client=198.18.1.2:40612 type=end)" end)"
# Offload off on the client's wire: plain segments, checksums in full.
at cli ethtool -K c0 tso off gso off gro off >/dev/null 2>&1
at gw ethtool -K g0 tso off gso off gro off >/dev/null 2>&1
check "offload off: IPv6 -> IPv4, 3 MB byte-exact" ok \
	"$(download v4only.example.com "[$vip6]" 40613 3000000)"
check "offload off: IPv4 -> IPv6, 3 MB byte-exact" ok \
	"$(download v6only.example.com "$vip4" 40614 3000000)"
# An agent with no IPv6 --snat address says that b2 (IPv6 only) cannot be
# reached (--check: evaluate, change nothing).
at gw timeout 60 "$build/snilb" agent --manifests "$man" --iface g0 \
	--snat 198.18.2.1 --check >/dev/null 2>"$work/check.log"
check "no IPv6 --snat: the agent warns of the IPv6 backend" 1 \
	"$(grep -c 'msg="no --snat address of the backend.s family.*backend=2001:db8:2::12' \
		"$work/check.log")"
echo "nat46 e2e: $(ms_since "$t0_all") ms"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
