# shellcheck shell=bash
# The kube suite's helpers: the API server's control API, polls and
# timed waits, objects, the two agents, and the setup. Sourced by tests/kube/run.sh,
# which holds the state and the order the checks run in.

cli() { at cli timeout 30 "$@"; }



# The control API (plain HTTP in the gateway namespace).
ctl() {	# METHOD PATH [BODY]
	at gw curl -sS --fail-with-body --max-time 10 -X "$1" \
		${3+--data-binary "$3"} "http://127.0.0.1:$cport$2"
}
# POST /apply with the YAML or JSON on stdin; quiet unless it fails.
apply() {
	local out
	out=$(at gw curl -sS --fail-with-body --max-time 10 --data-binary @- \
		"http://127.0.0.1:$cport/apply") || {
		echo "     /apply failed: $out"
		return 1
	}
}
del() {	# KIND NS NAME
	ctl POST /delete "{\"kind\":\"$1\",\"namespace\":\"$2\",\"name\":\"$3\"}" \
		>/dev/null
}
# Queries over the API server's state: kq.py, run where the
# control API is.
kq() { at gw python3 "$here/kq.py" "$cport" "$@"; }
# kq commands that print "PASS ..."/"FAIL ..." lines: counted here.
kq_check() { pass_fail_lines "     " < <(kq "$@" 2>&1); }

# Poll HOST until it answers WANT, at most LIMIT ms after T0 (default 30 s:
# a busy machine's worth); $ms: the time from T0 to that answer (or to
# giving up).
poll() {	# WANT HOST T0 [LIMIT_MS] [ADDR]
	local got limit=${4:-30000}
	while :; do
		got=$(TMO=1 get "$2" "${5:-$vip4}")
		ms=$(ms_since "$3")
		[ "$got" = "$1" ] && return 0
		[ "$ms" -gt "$limit" ] && break
		sleep 0.02
	done
	echo "     (last answer from $2: '$got')"
	return 1
}
# poll, reported: NAME WANT HOST AIM_MS [ADDR]; T0 is now. The time is
# measured against the aim, not asserted: what is awaited may take up to
# 30 s (or AIM_MS when longer) on a busy machine.
timed() {
	local t0=$EPOCHREALTIME limit=$(($4 > 30000 ? $4 : 30000))
	if poll "$2" "$3" "$t0" "$limit" "${5:-$vip4}"; then
		ok "$1: $3 -> $2 in $ms ms (aim $4 ms)"
	else
		bad "$1: $3 not -> $2 within $limit ms"
	fi
}

logn() { grep -cF -- "$1" "$2"; }
# wait_log FIXED-STRING FILE COUNT TENTHS: until FILE has more than COUNT
# such lines; TENTHS of a second, or 30 s when longer (a busy machine's
# worth); says what it awaited if not.
wait_log() {
	local secs=$(($4 / 10 > 30 ? $4 / 10 : 30))
	local end=$((SECONDS + secs))
	while [ $SECONDS -lt $end ]; do
		[ "$(logn "$1" "$2")" -gt "$3" ] && return 0
		sleep 0.1
	done
	echo "     gave up after $secs s waiting for a line with '$1' in $2"
	return 1
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

# Every route of examples/ still answers (checkout: blue or green).
still_routing() {	# WHEN
	local c
	check "$1: www.example.com -> b1" b1 "$(get www.example.com)"
	check "$1: api.example.com -> b2" b2 "$(get api.example.com)"
	check "$1: a.dev.example.com (IPv6 VIP) -> b3" b3 \
		"$(get a.dev.example.com "[$vip6]")"
	c=$(get checkout.example.com)
	case $c in
	blue-1|blue-2|green-1) ok "$1: checkout.example.com -> $c" ;;
	*) bad "$1: checkout.example.com: got '$c'" ;;
	esac
}

# A TLSRoute NS/NAME for HOST to Service SVC:443.
route() {	# NS NAME HOST SVC [APIVERSION]
	cat <<EOF
apiVersion: gateway.networking.k8s.io/${5:-v1alpha2}
kind: TLSRoute
metadata: {name: $2, namespace: $1}
spec:
  parentRefs: [{name: edge, namespace: infra}]
  hostnames: ["$3"]
  rules: [{backendRefs: [{name: $4, port: 443}]}]
EOF
}

# A Service NS/NAME on PORT to 8443 and, with ADDR, its EndpointSlice
# to ADDR:8443 (Service without a selector).
service() {	# NS NAME PORT [ADDR]
	cat <<EOF
apiVersion: v1
kind: Service
metadata: {name: $2, namespace: $1}
spec:
  ports: [{name: https, port: $3, targetPort: 8443}]
EOF
	[ -n "${4:-}" ] || return 0
	cat <<EOF
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: $2-1
  namespace: $1
  labels: {kubernetes.io/service-name: $2}
addressType: IPv4
ports: [{name: https, port: 8443}]
endpoints: [{addresses: ["$4"], conditions: {ready: true}}]
EOF
}

kubeconfig() {	# FILE USER-YAML (indented 4)
	cat >"$1" <<EOF
apiVersion: v1
kind: Config
current-context: test
clusters:
- name: test
  cluster:
    server: https://$apiaddr:$aport
    certificate-authority: $k/ca.crt
users:
- name: agent
  user:
$2
contexts:
- name: test
  context: {cluster: test, user: agent}
EOF
}

# node-a: the gateway namespace (g0, br0), token from a tokenFile.
start_a() {
	local n
	n=$(logn 'msg="agent running"' "$work/a.log")
	ip netns exec "$pfx-gw" "$build/snilb" agent \
		--kubeconfig "$work/a.kubeconfig" --node-name node-a \
		--iface g0,br0 --snat 198.18.2.1 --snat 2001:db8:2::1 \
		--pin-path "$pin" --status-file "$work/a.status" \
		--metrics-listen 127.0.0.1:9464 >>"$work/a.log" 2>&1 &
	agent_a=$!
	wait_log 'msg="agent running"' "$work/a.log" "$n" 300 && return 0
	tail -5 "$work/a.log"
	return 1
}
# node-b: its own namespace, pins and bpffs; a client certificate.
start_b() {
	local n
	n=$(logn 'msg="agent running"' "$work/b.log")
	ip netns exec "$pfx-gw2" "$build/snilb" agent \
		--kubeconfig "$work/b.kubeconfig" --node-name node-b \
		--iface h0 --snat 198.18.9.1 \
		--pin-path "$pin2" --status-file "$work/b.status" \
		>>"$work/b.log" 2>&1 &
	agent_b=$!
	wait_log 'msg="agent running"' "$work/b.log" "$n" 300 && return 0
	tail -5 "$work/b.log"
	return 1
}


# The request log starts again (for checks of what came after a moment);
# what it held is kept for the RBAC check (t_deploy).
reset_requests() {
	kq dump >>"$work/requests.jsonl"
	ctl POST /requests/reset >/dev/null
}

# First status write after SEQ for KIND NS/NAME: "SEQ TIME IDENTITY ...".
# TENTHS of a second, or 30 s when longer (a busy machine's worth).
first_write() {	# SEQ "KIND NS/NAME" TENTHS
	local w end=$((SECONDS + ($3 / 10 > 30 ? $3 / 10 : 30)))
	while [ $SECONDS -lt $end ]; do
		w=$(kq writes "$1" | grep -F " $2 " | head -1)
		[ -n "$w" ] && { echo "$w"; return 0; }
		sleep 0.1
	done
	return 1
}
# ms from $EPOCHREALTIME T0 to a write's time (seconds, 3 decimals)
write_ms() { local t=${2/./}; echo $(((10#$t - $(us "$1") / 1000))); }

setup() {
	local t i
	"$e2e/topo.sh" up "$pfx" || return 1
	# node-b's namespace: a veth to the gateway namespace, where the API
	# server listens.
	ip netns add "$pfx-gw2" || return 1
	at gw2 ip link set lo up
	ip link add h0 netns "$pfx-gw2" type veth peer name k0 \
		netns "$pfx-gw" || return 1
	at gw ip addr add "$apiaddr/24" dev k0
	at gw ip link set k0 up
	at gw2 ip addr add 198.18.3.2/24 dev h0
	at gw2 ip link set h0 up
	start_example_backends || return 1
	# The API server: server and client certificates, tokens (node-a's,
	# and one nobody uses), a short watch timeout so watches are redone
	# often (each redo is a chance for 410 and for the new token).
	"$here/mkcerts.sh" "$k" "$apiaddr" >/dev/null 2>&1 || return 1
	tok_a=a-$RANDOM$RANDOM
	printf '%s\nspare-%s\n' "$tok_a" "$RANDOM" >"$k/tokens"
	echo "$tok_a" >"$k/a.token"
	kubeconfig "$work/a.kubeconfig" "    tokenFile: $k/a.token"
	kubeconfig "$work/b.kubeconfig" "    client-certificate: $k/client.crt
    client-key: $k/client.key"
	ip netns exec "$pfx-gw" python3 "$here/apiserver.py" \
		--listen "$apiaddr:$aport" --cert "$k/server.crt" \
		--key "$k/server.key" --client-ca "$k/ca.crt" \
		--token-file "$k/tokens" --control-port "$cport" \
		--max-watch-timeout 4 --watch-410-mode alternate \
		$(for f in "$top"/examples/*.yaml; do echo --load "$f"; done) \
		>"$work/api.log" 2>&1 &
	api=$!
	wait_for '^apiserver:' "$work/api.log" || return 1
	for b in b1 b2 b3 blue-1 blue-2 green-1; do
		wait_for listening "$work/$b.log" || return 1
	done
	: >"$work/a.log"
	: >"$work/b.log"
	t=$EPOCHREALTIME
	start_a || return 1
	echo "     node-a running $(ms_since "$t") ms after its start"
	# Until the first sync has programmed the routes.
	for i in $(seq 50); do
		[ "$(get www.example.com)" = b1 ] && return 0
		sleep 0.1
	done
	echo "     www.example.com not routed 5 s after the start"
	return 0
}
