#!/usr/bin/env bash
# Security and control-plane chaos suite of `snilb agent`: the agent on a
# copy of examples/ (with edits) programs the data plane attached to the
# gateway namespace of tests/e2e/topo.sh; real TLS clients and servers in
# namespaces. Each check prints its criterion and the figures it saw.
#
# Security:
#   t_xref      a backendRef to another namespace needs a ReferenceGrant
#               there (RefNotPermitted; grant -> flows; revoke -> reset)
#   t_hostnames a route cannot claim a name outside its listener's, a
#               broader wildcard does not take a more specific name, a newer
#               route does not steal an owned name, a namespace the
#               listener does not admit attaches nothing
#   t_pins      pins and the status file: root-only; an unprivileged user
#               can open neither
#   t_metrics   --metrics-listen 127.0.0.1:PORT not reachable from clients
#   t_caps      the running agent keeps only CAP_BPF + CAP_NET_RAW, NNP set
# Control-plane faults:
#   t_killflip  kill -9 of the agent during a blue/green flip, under load
#   t_halfwrite a manifest written in two steps; a file replaced by rename
#   t_flaps     the API server down/up five times under load (--kubeconfig)
#
# Usage: tests/chaos/security.sh BUILD_DIR [--quick]   (ONLY=t_xref: one
# check after the setup; KEEP=1: keep namespaces and files, prefix printed)
set -uo pipefail
export LC_ALL=C	# $EPOCHREALTIME with a dot

build=$(cd "${1:-build}" && pwd)
quick=
[ "${2:-}" = --quick ] && quick=1
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/lib.sh"
top=$(cd "$here/../.." && pwd)
e2e=$top/tests/e2e
if [ "$(id -u)" -ne 0 ]; then
	echo "security chaos: skipped: network namespaces and BPF need root"
	echo "0 passed, 0 failed, 1 skipped"
	exit 0
fi

pfx=sy$$
work=$(mktemp -d /tmp/snilb-security.XXXXXX)
# Traversable (not listable) by other users, so the unprivileged checks
# meet the files' own modes, not this directory's.
chmod 0711 "$work"
# A bpffs of our own: `ip netns exec` remounts /sys, hiding /sys/fs/bpf.
mkdir -p "$work/bpffs"
mount -t bpf bpf "$work/bpffs"
pin=$work/bpffs/snilb
# Where the agent creates it itself, as /run/snilb/status.json.
status=$work/run/snilb/status.json
man=$work/manifests
alog=$work/agent.log
mport=9191	# metrics, in the gateway namespace (ours)
aport=6443 cport=6444	# test API server, 127.0.0.1 of the gateway namespace
pids=()
agent= api=
passed=0 failed=0 skipped=0
vip4=198.18.0.10 vip6=2001:db8:100::10

trap cleanup EXIT

cli() { at cli timeout 30 "$@"; }
sn() {	# the CLI, in the gateway namespace
	local c=$1; shift
	at gw timeout 20 "$build/snilb" "$c" --pin-path "$pin" \
		--status-file "$status" "$@"
}

skip() { skipped=$((skipped + 1)); echo "skip $*"; }
check() {	# NAME EXPECTED GOT
	if [ "$2" = "$3" ]; then ok "$1: $3"; else bad "$1: want '$2', got '$3'"; fi
}


# Poll HOST until it answers WANT, at most LIMIT ms after T0; $ms: the
# time from T0 to that answer (or to giving up), $got the last answer.
# poll WANT HOST T0 [LIMIT_MS]: until HOST's answer is WANT (alternatives
# a|b allowed), LIMIT_MS (default 30 s: a busy machine's worth) after T0 at
# most; $got the last answer, $ms when.
poll() {
	while :; do
		got=$(TMO=1 get "$2")
		ms=$(ms_since "$3")
		[[ $got =~ ^($1)$ ]] && return 0
		[ "$ms" -gt "${4:-30000}" ] && break
		sleep 0.02
	done
	return 1
}
# poll, reported: NAME WANT HOST AIM_MS [T0]. The time is measured, not
# asserted: what is awaited may take up to 30 s on a busy machine (or
# AIM_MS when longer); the report says how long it took against the aim.
timed() {
	local t0=${5:-$EPOCHREALTIME} limit=$(($4 > 30000 ? $4 : 30000))
	if poll "$2" "$3" "$t0" "$limit"; then
		ok "$1: $3 -> $2 in $ms ms (aim $4 ms)"
	else
		bad "$1: $3 not -> $2 within $limit ms (last answer '$got')"
	fi
}

logn() { grep -cF -- "$1" "${2:-$alog}"; }
# wait_log FIXED-STRING COUNT [TENTHS] [FILE]: until more than COUNT such
# lines; TENTHS of a second, or 30 s when longer (a busy machine's worth).
wait_log() {
	local secs=$((${3:-30} / 10 > 30 ? ${3:-30} / 10 : 30))
	local end=$((SECONDS + secs))
	while [ $SECONDS -lt $end ]; do
		[ "$(logn "$1" "${4:-$alog}")" -gt "$2" ] && return 0
		sleep 0.1
	done
	echo "     gave up after $secs s waiting for a line with '$1' past $2"
	return 1
}
synced() { logn "msg=synced"; }
# Write stdin to FILE (by rename, hidden temporary) and wait for a sync.
put() {	# FILE
	local n0
	n0=$(synced)
	cat >"$man/.put.tmp" && mv "$man/.put.tmp" "$1"
	wait_log msg=synced "$n0" 30 || echo "     (no sync after writing $1)"
}
unput() {	# FILE
	local n0
	n0=$(synced)
	rm -f "$1"
	wait_log msg=synced "$n0" 30 || echo "     (no sync after removing $1)"
}

wait_for() {	# PATTERN FILE
	local i
	for i in $(seq 100); do
		grep -q "$1" "$2" && return 0
		sleep 0.1
	done
	cat "$2"
	return 1
}

# The condition TYPE of route NS/NAME in the status file, "Status/Reason"
# (of its first parent that has it), or "none".
rcond() {	# NS/NAME TYPE
	python3 - "$status" "$1" "$2" <<'EOF' 2>/dev/null || echo unreadable
import json, sys
d = json.load(open(sys.argv[1]))
ns, name = sys.argv[2].split("/")
for r in d.get("routes", []):
    if r.get("namespace") == ns and r.get("name") == name:
        for p in r.get("parents", []):
            for c in p.get("conditions", []):
                if c.get("type") == sys.argv[3]:
                    print("%s/%s" % (c.get("status"), c.get("reason")))
                    sys.exit()
print("none")
EOF
}
# `snilb routes -o json`: ROUTE|NOTE|CONDITIONS of the entry for HOST on
# listener 0 that is not shadowed (or the shadowed ones with SHADOWED=1),
# one line each.
rentry() {	# HOST
	sn routes -o json | python3 -c '
import json, os, sys
for r in json.load(sys.stdin)["routes"]:
    if r["hostname"] == sys.argv[1] and r["listener"] == 0:
        print("%s|%s|%s" % (r["route"], r.get("note") or "", r["conditions"]))
' "$1" 2>/dev/null | sort
}

start_agent() {	# [EXTRA AGENT ARGS...] (default: the manifests)
	local n
	n=$(logn 'msg="agent running"')
	[ $# -gt 0 ] || set -- --manifests "$man"
	# Not through at(): $! must be the agent itself, for the signals.
	ip netns exec "$pfx-gw" "$build/snilb" agent "$@" \
		--iface g0,br0 --snat 198.18.2.1 --snat 2001:db8:2::1 \
		--pin-path "$pin" --status-file "$status" \
		--metrics-listen "127.0.0.1:$mport" >>"$alog" 2>&1 &
	agent=$!
	pids+=("$agent")
	local i
	for i in $(seq 300); do
		[ "$(logn 'msg="agent running"')" -gt "$n" ] && return 0
		kill -0 "$agent" 2>/dev/null || break
		sleep 0.1
	done
	if ! kill -0 "$agent" 2>/dev/null; then
		wait "$agent"
		agent_exit=$?
		echo "     the agent exited with status $agent_exit$([ "$agent_exit" -gt 128 ] && echo " (signal $((agent_exit - 128)))") before 'agent running'; its last lines:"
	fi
	tail -5 "$alog" | sed 's/^/       /'
	return 1
}
stop_agent() {	# SIGNAL
	kill "-$1" "$agent" 2>/dev/null
	local i
	for i in $(seq 50); do kill -0 "$agent" 2>/dev/null || break; sleep 0.1; done
	kill -9 "$agent" 2>/dev/null
	wait "$agent" 2>/dev/null
}

setup() {
	"$e2e/topo.sh" up "$pfx" || return 1
	mkdir -p "$man"
	cp "$top"/examples/*.yaml "$man/"
	# shop/www gets a creationTimestamp, so a newer route claiming its
	# name is ordered by time (t_hostnames).
	sed -i '/^  name: www$/{n;/^  namespace: shop$/a\
  creationTimestamp: "2024-01-01T00:00:00Z"
}' "$man/10-shop.yaml"
	: >"$alog"
	set -- b1 blue-1 b2 blue-2 b3 green-1
	while [ $# -gt 0 ]; do
		openssl req -x509 -newkey ec \
			-pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
			-subj "/CN=$1" -keyout "$work/$1.key" \
			-out "$work/$1.crt" 2>/dev/null || return 1
		# Not through at(): $! must be the backend, for the cleanup
		# (a subshell's pid left six backends running after the suite).
		ip netns exec "$pfx-$1" python3 "$e2e/backend.py" --name "$1" \
			--cert "$work/$1.crt" --key "$work/$1.key" \
			>"$work/$1.log" 2>&1 &
		pids+=($!)
		ip netns exec "$pfx-$1" python3 "$e2e/backend.py" --name "$2" --port 9443 \
			--cert "$work/$1.crt" --key "$work/$1.key" \
			>"$work/$2.log" 2>&1 &
		pids+=($!)
		shift 2
	done
	start_agent || return 1
	for b in b1 b2 b3 blue-1 blue-2 green-1; do
		wait_for listening "$work/$b.log" || return 1
	done
	local i
	for i in $(seq 50); do
		[ "$(get www.example.com)" = b1 ] && return 0
		sleep 0.1
	done
	echo "     www.example.com not routed 5 s after the start"
}

# Client loops in the client namespace (tests/e2e/loop.sh): start_loops
# NAME DUR MAX HOST...; $loops: their pids, $work/NAME.N: their records.
start_loops() {
	local name=$1 dur=$2 max=$3 i=0 h
	shift 3
	loops=()
	for h in "$@"; do
		i=$((i + 1))
		at cli timeout $((dur + 20)) bash "$e2e/loop.sh" "$h" "$dur" \
			"$max" "$work/$name.$i" &
		loops+=($!)
		pids+=($!)
	done
}
# "TOTAL FAILED OTHER counts" over loop records; OTHER: answers not
# matching the regex ALLOWED.
loop_report() {	# ALLOWED FILES...
	local re=$1
	shift
	awk -v re="^($re)\$" '
	{ n++; if ($2 != 0 || $3 == "") { fail++; next }
	  c[$3]++; if ($3 !~ re) other++ }
	END { s = ""; for (k in c) s = s k ":" c[k] " "
	  printf "%d %d %d %s\n", n, fail + 0, other + 0, s }' "$@"
}

# 1. ReferenceGrant: a route in shop to a Service in vault.
t_xref() {
	local f=$man/50-xref.yaml g=$man/51-grant.yaml t0 c
	put "$f" <<'EOF'
apiVersion: v1
kind: Namespace
metadata: {name: vault}
---
apiVersion: v1
kind: Service
metadata: {name: secret, namespace: vault}
spec:
  ports: [{name: https, port: 443, targetPort: 8443}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: secret-abcde
  namespace: vault
  labels: {kubernetes.io/service-name: secret}
addressType: IPv4
ports: [{name: https, port: 8443}]
endpoints:
- addresses: ["198.18.2.13"]
  conditions: {ready: true}
---
apiVersion: gateway.networking.k8s.io/v1
kind: TLSRoute
metadata: {name: xref, namespace: shop}
spec:
  parentRefs: [{name: edge, namespace: infra}]
  hostnames: ["xref.example.com"]
  rules:
  - backendRefs: [{name: secret, namespace: vault, port: 443}]
EOF
	check "xref: shop/xref -> vault/secret without a ReferenceGrant: xref.example.com gets no backend" \
		reset "$(get xref.example.com)"
	check "xref: without a grant, status ResolvedRefs of shop/xref" \
		False/RefNotPermitted "$(rcond shop/xref ResolvedRefs)"
	c=$(rentry xref.example.com)
	case $c in
	*"ResolvedRefs=False(RefNotPermitted)"*)
		ok "xref: snilb routes -o json: ${c//|/ | }" ;;
	"") echo "     snilb routes: no entry for xref.example.com" ;;
	*) bad "xref: snilb routes -o json: '$c', want ResolvedRefs=False(RefNotPermitted)" ;;
	esac
	# A grant in the wrong direction (from vault, in shop) grants nothing.
	put "$g" <<'EOF'
apiVersion: gateway.networking.k8s.io/v1beta1
kind: ReferenceGrant
metadata: {name: wrong-side, namespace: shop}
spec:
  from: [{group: gateway.networking.k8s.io, kind: TLSRoute, namespace: shop}]
  to: [{group: "", kind: Service}]
EOF
	check "xref: a grant in the route's own namespace (not the Service's) grants nothing" \
		reset "$(get xref.example.com)"
	t0=$EPOCHREALTIME
	cat >"$g.tmp" <<'EOF'
apiVersion: gateway.networking.k8s.io/v1beta1
kind: ReferenceGrant
metadata: {name: allow-shop, namespace: vault}
spec:
  from: [{group: gateway.networking.k8s.io, kind: TLSRoute, namespace: shop}]
  to: [{group: "", kind: Service, name: secret}]
EOF
	mv "$g.tmp" "$g"
	timed "xref: ReferenceGrant in vault from shop's TLSRoutes added" b3 \
		xref.example.com 2000 "$t0"
	check "xref: with the grant, status ResolvedRefs of shop/xref" \
		True/ResolvedRefs "$(rcond shop/xref ResolvedRefs)"
	t0=$EPOCHREALTIME
	rm -f "$g"
	if poll reset xref.example.com "$t0"; then
		ok "xref: grant removed: new connections to xref.example.com reset $ms ms after the delete (aim 1000 ms)"
	else
		bad "xref: grant removed: xref.example.com still '$got' after $ms ms"
	fi
	check "xref: grant removed, status ResolvedRefs of shop/xref" \
		False/RefNotPermitted \
		"$(until_eq False/RefNotPermitted 30 rcond shop/xref ResolvedRefs)"
	unput "$f"
}

# 2. Hostnames: what a tenant (mallory, admitted by the listener) can
# claim, and a namespace the listener does not admit.
t_hostnames() {
	local f=$man/60-mallory.yaml c
	put "$f" <<'EOF'
apiVersion: v1
kind: Namespace
metadata:
  name: mallory
  labels: {snilb.io/gateway-access: "true"}
---
apiVersion: v1
kind: Namespace
metadata: {name: outsider}
---
apiVersion: v1
kind: Service
metadata: {name: evil, namespace: mallory}
spec:
  ports: [{name: https, port: 443, targetPort: 8443}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: evil-abcde
  namespace: mallory
  labels: {kubernetes.io/service-name: evil}
addressType: IPv4
ports: [{name: https, port: 8443}]
endpoints:
- addresses: ["198.18.2.13"]
  conditions: {ready: true}
---
apiVersion: v1
kind: Service
metadata: {name: evil, namespace: outsider}
spec:
  ports: [{name: https, port: 443, targetPort: 9443}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: evil-fghij
  namespace: outsider
  labels: {kubernetes.io/service-name: evil}
addressType: IPv4
ports: [{name: https, port: 9443}]
endpoints:
- addresses: ["198.18.2.11"]
  conditions: {ready: true}
---
apiVersion: gateway.networking.k8s.io/v1
kind: TLSRoute
metadata: {name: org, namespace: mallory}
spec:
  parentRefs: [{name: edge, namespace: infra}]
  hostnames: ["evil.example.org", "*.org"]
  rules: [{backendRefs: [{name: evil, port: 443}]}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: TLSRoute
metadata: {name: wild, namespace: mallory}
spec:
  parentRefs: [{name: edge, namespace: infra}]
  hostnames: ["*.example.com"]
  rules: [{backendRefs: [{name: evil, port: 443}]}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: TLSRoute
metadata:
  name: steal
  namespace: mallory
  creationTimestamp: "2030-01-01T00:00:00Z"
spec:
  parentRefs: [{name: edge, namespace: infra}]
  hostnames: ["www.example.com"]
  rules: [{backendRefs: [{name: evil, port: 443}]}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: TLSRoute
metadata: {name: sneak, namespace: outsider}
spec:
  parentRefs: [{name: edge, namespace: infra}]
  hostnames: ["sneak.example.com"]
  rules: [{backendRefs: [{name: evil, port: 443}]}]
EOF
	check "hostnames: mallory/org (evil.example.org, *.org) on listener *.example.com: evil.example.org" \
		reset "$(get evil.example.org)"
	check "hostnames: mallory/org: x.org" reset "$(get x.org)"
	check "hostnames: mallory/org status Accepted" \
		False/NoMatchingListenerHostname "$(rcond mallory/org Accepted)"
	c=$(sn routes -o json | grep -c '"mallory/org"')
	check "hostnames: snilb routes entries of mallory/org" 0 "$c"
	check "hostnames: mallory/wild (*.example.com) next to shop/www: www.example.com stays" \
		b1 "$(get www.example.com)"
	check "hostnames: mallory/wild next to shop/api: api.example.com stays" \
		b2 "$(get api.example.com)"
	check "hostnames: mallory/wild vs dev/preview (*.dev.example.com, IPv6 only): a.dev.example.com over IPv4 not taken (longer wildcard wins, no IPv4 backend)" \
		reset "$(get a.dev.example.com)"
	check "hostnames: a.dev.example.com over IPv6 stays on dev/preview" \
		b3 "$(get a.dev.example.com "[$vip6]")"
	check "hostnames: mallory/wild gets what nobody else names: other.example.com" \
		b3 "$(get other.example.com)"
	check "hostnames: mallory/steal (www.example.com, created 2030) vs shop/www (2024): www.example.com" \
		b1 "$(get www.example.com)"
	c=$(rentry www.example.com | tr '\n' ';')
	if [[ $c == *"shop/www||"* && $c == *"mallory/steal|shadowed by shop/www|"* ]]; then
		ok "hostnames: snilb routes: www.example.com: ${c//|/ | }"
	else
		bad "hostnames: snilb routes: www.example.com: '$c', want shop/www and mallory/steal shadowed by shop/www"
	fi
	check "hostnames: outsider/sneak (namespace not admitted by allowedRoutes; its backend is blue-1): sneak.example.com answered by mallory/wild's" \
		b3 "$(get sneak.example.com)"
	check "hostnames: outsider/sneak status Accepted" \
		False/NotAllowedByListeners "$(rcond outsider/sneak Accepted)"
	# (sneak.example.com is still a name under *.example.com: mallory/wild
	# answers it, hence b3 above; without mallory it must be a reset.)
	sed -i '/^metadata: {name: wild, namespace: mallory}$/,/^---$/d' "$f"
	local n0
	n0=$(synced)
	touch "$f"
	wait_log msg=synced "$n0" 30
	check "hostnames: mallory/wild removed: sneak.example.com (outsider/sneak not attached)" \
		reset "$(get sneak.example.com)"
	check "hostnames: mallory/wild removed: other.example.com" \
		reset "$(get other.example.com)"
	unput "$f"
}

# 3. Pins and the status file: root-only.
t_pins() {
	local out bad_pins n rc nobody_bin u
	u=(setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all)
	out=$(find "$pin" -mindepth 1 -printf '%m %u %p\n')
	n=$(wc -l <<<"$out")
	bad_pins=$(awk '$1 !~ /^[0-7]00$/ || $2 != "root"' <<<"$out")
	if [ "$n" -gt 3 ] && [ -z "$bad_pins" ]; then
		ok "pins: $n pins under the pin path, every one mode $(awk '{print $1}' <<<"$out" | sort -u | tr '\n' ' ')and uid 0 (no group/other bits)"
	else
		bad "pins: modes/owners: $bad_pins (of $n)"
	fi
	check "pins: the pin directory (mode, owner)" "700 root" \
		"$(stat -c '%a %U' "$pin")"
	echo "     kernel.unprivileged_bpf_disabled = $(sysctl -n kernel.unprivileged_bpf_disabled)"
	nobody_bin=$work/snilb-copy
	install -m 0755 "$build/snilb" "$nobody_bin"
	out=$(at gw timeout 10 "${u[@]}" "$nobody_bin" routes --pin-path "$pin" \
		--status-file "$status" 2>&1)
	rc=$?
	if [ $rc -ne 0 ] && grep -qiE 'permission denied|not permitted' <<<"$out"; then
		ok "pins: as uid 65534, snilb routes --pin-path fails (exit $rc): $(grep -iE 'permission denied|not permitted' <<<"$out" | head -1)"
	else
		bad "pins: as uid 65534, snilb routes: exit $rc: $(head -3 <<<"$out")"
	fi
	out=$("${u[@]}" sh -c 'for p; do (exec 3<"$p") && echo "opened $p"; done' \
		sh $(find "$pin" -mindepth 1 -type f) 2>&1)
	if ! grep -q '^opened' <<<"$out" && grep -q 'Permission denied' <<<"$out"; then
		ok "pins: as uid 65534, open(2) of pinned files: $(grep -c 'Permission denied' <<<"$out") x Permission denied"
	else
		bad "pins: as uid 65534, open(2) of pinned files: $out"
	fi
	check "status file: mode, owner (not writable by others)" "644 root" \
		"$(stat -c '%a %U' "$status")"
	check "status file: its directory, made by the agent (mode, owner)" \
		"755 root" "$(stat -c '%a %U' "$(dirname "$status")")"
	out=$("${u[@]}" sh -c '(: >>"$1") && echo wrote; mv "$1" "$1.x" && echo renamed; (: >"$1.new") && echo created' \
		sh "$status" 2>&1)
	if ! grep -qE '^(wrote|renamed|created)' <<<"$out"; then
		ok "status file: as uid 65534, cannot write, rename or create beside it ($(grep -c 'denied' <<<"$out") x Permission denied)"
	else
		bad "status file: as uid 65534: $out"
	fi
}

# 4. Metrics on 127.0.0.1 of the gateway namespace.
t_metrics() {
	local out rc a res=""
	out=$(at gw curl -s --max-time 3 "http://127.0.0.1:$mport/metrics")
	if grep -q '^snilb_agent_syncs_total' <<<"$out"; then
		ok "metrics: served on 127.0.0.1:$mport in the gateway namespace (positive control, no auth asked)"
	else
		bad "metrics: not served on 127.0.0.1:$mport in the gateway namespace"
	fi
	for a in 198.18.1.1 198.18.2.1 '[2001:db8:1::1]' '[2001:db8:2::1]' $vip4; do
		cli curl -s -o /dev/null --max-time 2 "http://$a:$mport/metrics"
		rc=$?
		res="$res $a:curl$rc"
		case $rc in
		7|28) ;;
		*) bad "metrics: from the client namespace, http://$a:$mport/metrics: curl exit $rc (want 7 refused or 28 timeout)" ;;
		esac
	done
	case $res in
	*curl0*) ;;
	*) ok "metrics: not reachable from the client namespace on the gateway's addresses:$res (7: refused, 28: timeout)" ;;
	esac
}

# 5. Capabilities of the running agent.
t_caps() {
	local st want=0000008000002000 e p b i nnp dec	# CAP_NET_RAW 13, CAP_BPF 39
	st=$(cat "/proc/$agent/status" 2>/dev/null)
	e=$(awk '$1 == "CapEff:" { print $2 }' <<<"$st")
	p=$(awk '$1 == "CapPrm:" { print $2 }' <<<"$st")
	b=$(awk '$1 == "CapBnd:" { print $2 }' <<<"$st")
	i=$(awk '$1 == "CapInh:" { print $2 }' <<<"$st")
	nnp=$(awk '$1 == "NoNewPrivs:" { print $2 }' <<<"$st")
	if command -v capsh >/dev/null; then
		dec=$(capsh --decode="$e" 2>/dev/null | sed 's/^0x[0-9a-f]*=//')
	else
		dec=$(python3 -c 'import sys; v = int(sys.argv[1], 16); print(",".join("cap_%d" % i for i in range(64) if v >> i & 1))' "$e")
	fi
	check "caps: agent pid $agent CapEff ($dec)" $want "$e"
	check "caps: CapPrm" $want "$p"
	check "caps: CapBnd" $want "$b"
	check "caps: CapInh" 0000000000000000 "$i"
	check "caps: NoNewPrivs" 1 "$nnp"
	# Still working with only those: an edit reaches the kernel.
	local t0=$EPOCHREALTIME
	put "$man/70-caps.yaml" <<'EOF'
apiVersion: gateway.networking.k8s.io/v1
kind: TLSRoute
metadata: {name: caps, namespace: shop}
spec:
  parentRefs: [{name: edge, namespace: infra}]
  hostnames: ["caps.example.com"]
  rules: [{backendRefs: [{name: api, port: 443}]}]
EOF
	timed "caps: with only those, a new route still reaches the kernel" \
		b2 caps.example.com 2000 "$t0"
	unput "$man/70-caps.yaml"
}

# 6. kill -9 of the agent right after a blue/green edit, under load.
t_killflip() {
	local f=$man/30-store-bluegreen.yaml d t_edit t_kill kms tot fails other
	local counts before start_t delays i=0 kern
	if [ -n "$quick" ]; then delays="20 110"; else delays="0 20 50 90 105 120 150"; fi
	for d in $delays; do
		i=$((i + 1))
		start_loops kf$i 5 300 checkout.example.com \
			checkout.example.com checkout.example.com
		sleep 1.2
		before=$(synced)
		sed -i 's/^    color: blue$/    color: green/' "$f"
		t_edit=$EPOCHREALTIME
		[ "$d" -gt 0 ] && sleep "0.$(printf %03d "$d")"
		kill -9 "$agent"
		t_kill=$EPOCHREALTIME
		wait "$agent" 2>/dev/null
		kms=$((($(us "$t_kill") - $(us "$t_edit")) / 1000))
		# Did the killed agent sync the edit? (the kernel's set)
		kern=$(sn routes -o json 2>/dev/null | python3 -c '
import json, sys
for r in json.load(sys.stdin)["routes"]:
    if r["hostname"] == "checkout.example.com" and r["listener"] == 0:
        print("green" if "198.18.2.13" in r["backends"] else "blue")' 2>/dev/null)
		echo "     kill -9 $kms ms after the edit (aimed at $d ms; edit at $t_edit, kill at $t_kill); synced lines since the edit: $(($(synced) - before)); status file says ${kern:-?}"
		sleep 0.5
		start_t=$EPOCHREALTIME
		if ! start_agent; then
			bad "killflip $d ms: the agent did not come up again"
			return
		fi
		timed "killflip $d ms: after the restart ($(ms_since "$start_t") ms to running), the edit is not lost" \
			green-1 checkout.example.com 3000 "$start_t"
		wait "${loops[@]}"
		read -r tot fails other counts <<<"$(loop_report 'blue-1|blue-2|green-1' "$work"/kf$i.*)"
		# What failed, when (START_EPOCH CURL_EXIT BACKEND), against
		# the edit and the kill, for a diagnosis.
		[ "$fails" = 0 ] || awk '$2 != 0 || $3 == "" { print "     failed:", $0 }' \
			"$work"/kf$i.*
		check "killflip $d ms: failed requests among $tot under load ($counts)" 0 "$fails"
		check "killflip $d ms: answers from outside blue/green" 0 "$other"
		# Back to blue for the next round.
		sed -i 's/^    color: green$/    color: blue/' "$f"
		poll 'blue-1|blue-2' checkout.example.com "$EPOCHREALTIME" ||
			bad "killflip $d ms: flip back to blue not seen ('$got')"
	done
}

# 7. A manifest written in two steps; files replaced by rename.
# twostep MODE NEW FILE: write NEW into FILE in two steps, cut inside the
# second document's hostnames (an unterminated flow sequence), with 1.8 s
# between them. MODE close: write, fsync, close; 1.8 s; append the rest
# (two writes of a tool). MODE open: the same with the file held open
# across the pause (one slow writer). In the pause, as soon as the agent
# logged an error (close) or after 0.5 s (open), three connections at
# once from the client namespace. Prints "err_ms=.. done_ms=..
# second_ms=.. halfa=.. halfb=.. www=..".
twostep() {
	at cli timeout 20 python3 - "$1" "$2" "$3" "$alog" \
		"$(logn 'msg="invalid manifest"')" "$vip4" <<'EOF'
import os, socket, ssl, sys, threading, time
mode, src, dst, log, nerr, vip = sys.argv[1:7]
nerr = int(nerr)
# The pause between the two writes: time for a busy machine's agent to
# see the first, yet under the 2 s a periodic rescan leaves a file alone.
PAUSE = 1.8
data = open(src).read()
cut = data.index('["halfb.exa') + len('["halfb.exa')
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE

def one(host, res):
    try:
        with socket.create_connection((vip, 443), timeout=1.5) as raw:
            with ctx.wrap_socket(raw, server_hostname=host) as s:
                s.sendall(b"GET / HTTP/1.0\r\n\r\n")
                d = b""
                while True:
                    c = s.recv(4096)
                    if not c:
                        break
                    d += c
        b = d.split(b"\r\n\r\n", 1)[1]
        res[host] = b[8:].strip().decode() if b.startswith(b"backend=") else "?"
    except (ConnectionResetError, ssl.SSLError, BrokenPipeError):
        res[host] = "reset"
    except Exception as e:
        res[host] = type(e).__name__

def errors():
    with open(log) as f:
        return f.read().count('msg="invalid manifest"')

f = open(dst, "w")
t0 = time.monotonic()
f.write(data[:cut]); f.flush(); os.fsync(f.fileno())
if mode == "close":
    f.close()
err_ms = None
while time.monotonic() - t0 < (PAUSE - 0.6 if mode == "close" else 0.5):
    if errors() > nerr:
        err_ms = (time.monotonic() - t0) * 1000
        break
    time.sleep(0.005)
res = {}
if err_ms is not None or mode == "open":
    ts = [threading.Thread(target=one, args=(h, res)) for h in
          ("halfa.example.com", "halfb.example.com", "www.example.com")]
    for t in ts: t.start()
    for t in ts: t.join()
done_ms = (time.monotonic() - t0) * 1000
if err_ms is None and errors() > nerr:
    err_ms = -1
time.sleep(max(0, PAUSE - (time.monotonic() - t0)))
if mode == "close":
    f = open(dst, "a")
f.write(data[cut:]); f.flush(); os.fsync(f.fileno())
f.close()
second_ms = (time.monotonic() - t0) * 1000
print("err_ms=%s done_ms=%.0f second_ms=%.0f halfa=%s halfb=%s www=%s" % (
    "none" if err_ms is None else "%.0f" % err_ms, done_ms, second_ms,
    res.get("halfa.example.com"), res.get("halfb.example.com"),
    res.get("www.example.com")))
EOF
}

t_halfwrite() {
	local f=$man/80-half.yaml n0 out e d s line t0
	put "$f" <<'EOF'
apiVersion: gateway.networking.k8s.io/v1
kind: TLSRoute
metadata: {name: halfa, namespace: shop}
spec:
  parentRefs: [{name: edge, namespace: infra}]
  hostnames: ["halfa.example.com"]
  rules: [{backendRefs: [{name: www, port: 443}]}]
EOF
	check "half file: the last good version: halfa.example.com" b1 \
		"$(get halfa.example.com)"
	# The new version: halfa -> api, a new route halfb -> api.
	cat >"$work/half.new" <<'EOF'
apiVersion: gateway.networking.k8s.io/v1
kind: TLSRoute
metadata: {name: halfa, namespace: shop}
spec:
  parentRefs: [{name: edge, namespace: infra}]
  hostnames: ["halfa.example.com"]
  rules: [{backendRefs: [{name: api, port: 443}]}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: TLSRoute
metadata: {name: halfb, namespace: shop}
spec:
  parentRefs: [{name: edge, namespace: infra}]
  hostnames: ["halfb.example.com"]
  rules: [{backendRefs: [{name: api, port: 443}]}]
EOF
	n0=$(synced)
	out=$(twostep close "$work/half.new" "$f")
	echo "     two writes (write+fsync+close, 1.8 s, append): $out"
	read -r e d s <<<"$(sed -n 's/err_ms=\([^ ]*\) done_ms=\([^ ]*\) second_ms=\([^ ]*\).*/\1 \2 \3/p' <<<"$out")"
	if [ -n "$e" ] && [ "$e" != none ]; then
		line=$(grep -F 'msg="invalid manifest"' "$alog" | tail -1)
		case $line in
		*"file=$f "*) ok "half file: the agent reported the error $e ms after the first write, naming the file: ${line#*msg=}" ;;
		*) bad "half file: the error line does not name $f: $line" ;;
		esac
	else
		bad "half file: no 'invalid manifest' within 1.2 s of the first write ($out)"
	fi
	case $out in
	*"halfa=b1 halfb=reset www=b1"*)
		if [ "$d" -le "$s" ]; then
			ok "half file: in the pause, halfa -> b1 (last good), halfb -> reset (nothing of the half file applied), www -> b1 (done at $d ms, second write at $s ms)"
		else
			bad "half file: checks done after the second write ($d > $s ms)"
		fi ;;
	*) bad "half file: in the pause: $out, want halfa=b1 halfb=reset www=b1" ;;
	esac
	wait_log msg=synced "$n0" 30
	timed "half file: after the second write, halfa (new version)" b2 \
		halfa.example.com 2000
	timed "half file: after the second write, halfb" b2 halfb.example.com 2000
	check "half file: errors left in the status file" 0 \
		"$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["errors"]))' "$status" 2>&1)"

	# One slow writer: the file held open across the pause. Next version:
	# both back to www (b1).
	sed 's/name: api, port/name: www, port/' "$work/half.new" >"$work/half.v3"
	n0=$(synced)
	out=$(twostep open "$work/half.v3" "$f")
	echo "     one open file (write+fsync, 1.8 s, write, close): $out"
	read -r e d s <<<"$(sed -n 's/err_ms=\([^ ]*\) done_ms=\([^ ]*\) second_ms=\([^ ]*\).*/\1 \2 \3/p' <<<"$out")"
	case $out in
	*"halfa=b2 halfb=b2 www=b1"*)
		if [ "$d" -le "$s" ]; then
			ok "half file held open: in the pause, halfa and halfb -> b2 (last good), www -> b1 (error reported: ${e/none/no, nothing read before close}; done at $d ms, second write at $s ms)"
		else
			bad "half file held open: checks done after the second write ($d > $s ms)"
		fi ;;
	*) bad "half file held open: in the pause: $out, want halfa=b2 halfb=b2 www=b1" ;;
	esac
	wait_log msg=synced "$n0" 30
	timed "half file held open: after close, halfa" b1 halfa.example.com 2000
	timed "half file held open: after close, halfb" b1 halfb.example.com 2000

	# Replaced by rename: a hidden temporary file (skipped), then mv.
	sed 's/halfb.example.com/halfc.example.com/' "$work/half.new" \
		>"$man/.80-half.yaml.swp"
	t0=$EPOCHREALTIME
	mv "$man/.80-half.yaml.swp" "$f"
	timed "rename over an existing file: halfa" b2 halfa.example.com 2000 "$t0"
	timed "rename over an existing file: halfc (new)" b2 halfc.example.com 2000 "$t0"
	check "rename over an existing file: halfb (gone)" reset \
		"$(get halfb.example.com)"
	# kubectl-style: a new file appearing by rename from elsewhere.
	sed 's/halfa/halfd/g; /^---$/,$d' "$work/half.new" >"$work/halfd.yaml"
	t0=$EPOCHREALTIME
	mv "$work/halfd.yaml" "$man/81-halfd.yaml"
	timed "a new file appearing by rename (from another directory)" b2 \
		halfd.example.com 2000 "$t0"
	rm -f "$f"
	unput "$man/81-halfd.yaml"
}

# 8. The API server flapping, the agent in --kubeconfig mode.
t_flaps() {
	local k=$work/k i n0 tot fails other counts t_last t_apply
	if ! python3 -c 'import yaml' 2>/dev/null; then
		skip "flaps: python3 has no yaml module (python3-yaml)"
		return
	fi
	"$top/tests/kube/mkcerts.sh" "$k" 127.0.0.1 >/dev/null 2>&1 || {
		bad "flaps: mkcerts.sh"; return; }
	echo "tok-$RANDOM$RANDOM" >"$k/token"
	cat >"$work/kubeconfig" <<EOF
apiVersion: v1
kind: Config
current-context: test
clusters:
- name: test
  cluster: {server: "https://127.0.0.1:$aport", certificate-authority: $k/ca.crt}
users:
- name: agent
  user: {tokenFile: $k/token}
contexts:
- name: test
  context: {cluster: test, user: agent}
EOF
	ip netns exec "$pfx-gw" python3 "$top/tests/kube/apiserver.py" \
		--listen "127.0.0.1:$aport" --cert "$k/server.crt" \
		--key "$k/server.key" --token-file "$k/token" \
		--control-port "$cport" --max-watch-timeout 4 \
		$(for f in "$top"/examples/*.yaml; do echo --load "$f"; done) \
		>"$work/api.log" 2>&1 &
	api=$!
	pids+=("$api")
	wait_for '^apiserver:' "$work/api.log" || { bad "flaps: API server"; return; }
	ctl() { at gw curl -sS --fail-with-body --max-time 10 -X "$1" \
		${3+--data-binary "$3"} "http://127.0.0.1:$cport$2"; }
	# The file agent goes; the kube agent adopts its pins, under load.
	local s0 t_start
	start_loops take 4 2000 www.example.com api.example.com
	sleep 1
	stop_agent TERM
	agent_exit=
	s0=$(synced)
	t_start=$EPOCHREALTIME
	start_agent --kubeconfig "$work/kubeconfig" --node-name node-a || {
		bad "flaps: the --kubeconfig agent did not come up${agent_exit:+ (exit status $agent_exit)}"
		wait "${loops[@]}"
		return; }
	wait_log msg=synced "$s0" 100
	echo "     --kubeconfig agent: running $(ms_since "$t_start") ms after its start; attached $(grep -F 'msg=attached' "$alog" | tail -1 | cut -c4-26), first sync $(grep -F msg=synced "$alog" | tail -1 | cut -c4-26)"
	wait "${loops[@]}"
	read -r tot fails other counts <<<"$(loop_report 'b1|b2' "$work"/take.*)"
	check "flaps: the file agent replaced by a --kubeconfig agent adopting its pins, under load: failed requests among $tot ($counts)" 0 "$fails"
	[ "$fails" -gt 0 ] && echo "     failed requests (curl exit) between $(awk '$2 != 0 { print $1 }' "$work"/take.* | sort -n | sed -n '1p;$p' | tr '\n' ' ')(epoch s)"
	timed "flaps: the --kubeconfig agent routes the API server's objects" \
		b1 www.example.com 5000
	n0=$(logn 'kube: recovered')
	start_loops flap 14 2000 www.example.com api.example.com
	sleep 1
	for i in 1 2 3 4 5; do
		ctl POST /down >/dev/null || bad "flaps: POST /down $i"
		if [ "$i" = 3 ]; then
			ctl POST /apply "$(printf '%s\n' \
				'{"apiVersion":"gateway.networking.k8s.io/v1alpha2","kind":"TLSRoute",' \
				'"metadata":{"name":"flap","namespace":"shop"},' \
				'"spec":{"parentRefs":[{"name":"edge","namespace":"infra"}],' \
				'"hostnames":["flap.example.com"],' \
				'"rules":[{"backendRefs":[{"name":"api","port":443}]}]}}')" \
				>/dev/null || bad "flaps: /apply while down"
			t_apply=$EPOCHREALTIME
		fi
		sleep 1
		ctl POST /up >/dev/null || bad "flaps: POST /up $i"
		t_last=$EPOCHREALTIME
		sleep 1
	done
	echo "     5 x (/down 1 s, /up 1 s); TLSRoute shop/flap applied during the 3rd /down"
	if poll b2 flap.example.com "$t_last" 30000; then
		ok "flaps: the change applied while flapping reached the kernel, $(ms_since "$t_apply") ms after /apply, $ms ms after the last /up (limit 30 s)"
	else
		bad "flaps: flap.example.com not routed 30 s after the last /up ('$got')"
	fi
	wait "${loops[@]}"
	read -r tot fails other counts <<<"$(loop_report 'b1|b2' "$work"/flap.*)"
	check "flaps: failed requests among $tot under load ($counts)" 0 "$fails"
	other=$(($(awk '$2 == 0 && $3 != "b1"' "$work/flap.1" | wc -l) +
		$(awk '$2 == 0 && $3 != "b2"' "$work/flap.2" | wc -l)))
	check "flaps: answers from the wrong backend" 0 "$other"
	if kill -0 "$agent" 2>/dev/null; then ok "flaps: the agent kept running"
	else bad "flaps: the agent exited"; fi
	echo "     agent log: $(logn 'kube: recovered' | awk -v n="$n0" '{print $1 - n}') 'kube: recovered' line(s) during the flaps"
	# kill -9 of the --kubeconfig agent and a restart, under load.
	start_loops krs 4 2000 www.example.com api.example.com
	sleep 1
	kill -9 "$agent"
	wait "$agent" 2>/dev/null
	s0=$(synced)
	t_start=$EPOCHREALTIME
	start_agent --kubeconfig "$work/kubeconfig" --node-name node-a ||
		bad "flaps: the --kubeconfig agent did not come up again"
	wait_log msg=synced "$s0" 100
	echo "     restarted --kubeconfig agent: first sync $(ms_since "$t_start") ms after its start"
	wait "${loops[@]}"
	read -r tot fails other counts <<<"$(loop_report 'b1|b2' "$work"/krs.*)"
	check "flaps: kill -9 and restart of the --kubeconfig agent under load: failed requests among $tot ($counts)" 0 "$fails"
	[ "$fails" -gt 0 ] && echo "     failed requests (curl exit) between $(awk '$2 != 0 { print $1 }' "$work"/krs.* | sort -n | sed -n '1p;$p' | tr '\n' ' ')(epoch s)"
	check "flaps: after the restart, flap.example.com" b2 "$(get flap.example.com)"
}

t0_all=$EPOCHREALTIME
echo "security chaos${quick:+ (quick)}: prefix $pfx"
if ! setup; then
	bad "setup"
	echo "$passed passed, $failed failed"
	exit 1
fi
if [ -n "${ONLY:-}" ]; then
	for t in $ONLY; do $t; done
else
	t_xref
	t_hostnames
	t_pins
	t_metrics
	t_caps
	t_halfwrite
	t_killflip
	t_flaps
fi
echo "security chaos: $(ms_since "$t0_all") ms"
if [ "$skipped" -gt 0 ]; then
	echo "$passed passed, $failed failed, $skipped skipped"
else
	echo "$passed passed, $failed failed"
fi
[ "$failed" -eq 0 ]
