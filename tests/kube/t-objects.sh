# shellcheck shell=bash
# Routing and status follow the objects: routing, status, relists,
# an invalid update keeping the last good version. Sourced by tests/kube/run.sh,
# which holds the state and the order the checks run in.

# 1. Routing follows the objects.
t_routing() {
	local c
	check "www.example.com -> b1 (shop/www)" b1 "$(get www.example.com)"
	check "api.example.com -> b2 (shop/api)" b2 "$(get api.example.com)"
	c=$(get checkout.example.com)
	case $c in
	blue-1|blue-2) ok "checkout.example.com -> $c (store/checkout, blue)" ;;
	*) bad "checkout.example.com: want blue-1 or blue-2, got '$c'" ;;
	esac
	check "a.dev.example.com over the IPv6 VIP -> b3 (dev/preview)" b3 \
		"$(get a.dev.example.com "[$vip6]")"
	check "a.dev.example.com over the IPv4 VIP -> b3 (IPv6-only backend: NAT46/64)" \
		b3 "$(get a.dev.example.com)"
	check "unknown.example.com (no route)" reset \
		"$(get unknown.example.com)"
	check "node-a /readyz (synced from complete lists)" 200 \
		"$(at gw curl -s -o /dev/null -w '%{http_code}' --max-time 3 \
			http://127.0.0.1:9464/readyz)"

	check "new.example.com before its route exists" reset \
		"$(get new.example.com)"
	route shop new new.example.com api | apply
	timed "/apply of a new TLSRoute shop/new" b2 new.example.com 2000
	apply <<'EOF'
apiVersion: v1
kind: Service
metadata: {name: checkout, namespace: store}
spec:
  selector: {app: checkout, color: green}
  ports: [{name: https, port: 443, targetPort: https}]
EOF
	timed "/apply of store/checkout's selector color=green" green-1 \
		checkout.example.com 2000
	local n=0 i
	for i in 1 2 3 4 5 6; do
		[ "$(get checkout.example.com)" = green-1 ] && n=$((n + 1))
	done
	check "after the flip: 6 new connections to checkout on green-1" 6 "$n"
	del TLSRoute shop new
	timed "/delete of TLSRoute shop/new" reset new.example.com 2000
}

# 2. Status matches the spec, and is written only when something changed.
t_status() {
	local s0 n w
	apply <<EOF
apiVersion: v1
kind: Namespace
metadata: {name: other}
---
$(route other stray stray.example.com www)
---
$(route shop missing missing.example.com nosuchservice)
EOF
	kq foreign-object shop foreign foreign.example.com >"$work/foreign.json"
	apply <"$work/foreign.json"
	kq_check routes 5 \
		shop/www=True/Accepted,True/ResolvedRefs \
		shop/api=True/Accepted,True/ResolvedRefs \
		dev/preview=True/Accepted,True/ResolvedRefs \
		store/checkout=True/Accepted,True/ResolvedRefs \
		shop/foreign=True/Accepted,True/ResolvedRefs \
		shop/missing=True/Accepted,False/BackendNotFound \
		other/stray=False/NotAllowedByListeners,False/BackendNotFound
	kq_check foreign 5 shop/foreign <"$work/foreign.json"
	check "foreign.example.com (route with a foreign status entry) -> b1" \
		b1 "$(get foreign.example.com)"
	check "missing.example.com (no backend) resets" reset \
		"$(get missing.example.com)"
	check "stray.example.com (namespace not admitted) resets" reset \
		"$(get stray.example.com)"
	# 6 accepted: the 4 of examples/, foreign, missing.
	kq_check gateway 5 6

	# A spec change: generation bumped, observedGeneration follows.
	apply <<'EOF'
apiVersion: gateway.networking.k8s.io/v1alpha2
kind: TLSRoute
metadata: {name: api, namespace: shop}
spec:
  parentRefs: [{name: edge, namespace: infra}]
  hostnames: ["api.example.com", "api2.example.com"]
  rules: [{backendRefs: [{name: api, port: 443}]}]
EOF
	kq_check observed 5 shop/api
	timed "shop/api's new hostname" b2 api2.example.com 2000

	# No churn: a quiet window without a status write.
	sleep 1
	s0=$(kq lastseq)
	sleep 6
	w=$(kq writes "$s0")
	n=$(grep -c . <<<"$w")
	if [ "$n" -eq 0 ]; then
		ok "no churn: 0 status writes in a quiet 6 s window (watches redone every 4 s)"
	else
		bad "no churn: $n status writes in a quiet 6 s window:"
		sed 's/^/       /' <<<"$w" | head -10
	fi
}

# 3. A compaction: watches from before it get 410, the agent relists and
# loses nothing.
t_relist() {
	local n n0 s0 i lists w t0
	n0=$(logn 'watch expired (410), relisting' "$work/a.log")
	reset_requests
	ctl POST /compact >/dev/null
	s0=$(kq lastseq)
	t0=$EPOCHREALTIME
	{ service shop third 443 198.18.2.13; echo ---
	  route shop after410 after410.example.com third; } | apply
	# Watches last at most 4 s: every kind re-watches within ~5 s.
	for i in $(seq 100); do
		lists=$(kq lists)
		grep -q '^list ' <<<"$lists" &&
			[ "$(logn 'watch expired (410), relisting' "$work/a.log")" -gt "$n0" ] &&
			[ "$(ms_since "$t0")" -gt 5000 ] && break
		sleep 0.1
	done
	n=$(grep -c '^watch .* 410 ' <<<"$lists")
	if [ "$n" -gt 0 ]; then
		ok "after /compact: $n watches answered HTTP 410 (others: an ERROR event, 410 mode alternate)"
	else
		bad "after /compact: no watch answered HTTP 410"
	fi
	n=$(grep '^list ' <<<"$lists" | awk '{print $2}' | sed 's|.*/||' | sort -u | tr '\n' ' ')
	if [ -n "$n" ] && [ "$(logn 'watch expired (410), relisting' "$work/a.log")" -gt "$n0" ]; then
		ok "the agent relisted after the 410s: $n(log: $(($(logn 'watch expired (410), relisting' "$work/a.log") - n0)) 'watch expired (410), relisting')"
	else
		bad "no relist after the 410s (lists: '$n'; log lines: $(($(logn 'watch expired (410), relisting' "$work/a.log") - n0)))"
	fi
	check "the change made after the compaction: after410.example.com -> b3" \
		b3 "$(get after410.example.com)"
	still_routing "after the relists"
	check "after the relists: foreign.example.com -> b1" b1 \
		"$(get foreign.example.com)"
	check "after the relists: api2.example.com -> b2" b2 \
		"$(get api2.example.com)"
	# The relists wrote nothing but the new route's status and the
	# Gateway's attachedRoutes.
	w=$(kq writes "$s0" | awk '!/noop$/ {print $4, $5}' | sort -u | tr '\n' ' ')
	check "status writes since the compaction (not noop)" \
		"Gateway infra/edge TLSRoute shop/after410 " "$w"
}

# Until node-a has applied the sync that first saw STR in its log (the
# N+1-th line with it): a "synced" line after that one.
synced_after() {	# STR N TENTHS (or 30 s when longer)
	local end=$((SECONDS + ($3 / 10 > 30 ? $3 / 10 : 30)))
	while [ $SECONDS -lt $end ]; do
		awk -v s="$1" -v n="$2" 'index($0, s) && ++c > n { seen = 1 }
			seen && /msg=synced/ { ok = 1; exit }
			END { exit !ok }' "$work/a.log" && return 0
		sleep 0.1
	done
	return 1
}

# The same answer from HOST N times in a row.
steady() {	# NAME WANT HOST N
	local i got
	for i in $(seq "$4"); do
		got=$(get "$3")
		[ "$got" = "$2" ] || { bad "$1: $3 -> '$got' (try $i of $4)"; return; }
	done
	ok "$1: $3 -> $2, $4 connections in a row"
}

# 8. An invalid update keeps the object's last good version: traffic
# keeps flowing, and status says why. (This API server, like a
# kube-apiserver without the CRDs' validation, lets it through.)
t_lastgood() {
	local n st
	{ service shop lastgood 443 198.18.2.11; echo ---
	  route shop lastgood lastgood.example.com lastgood; } | apply
	timed "new route shop/lastgood" b1 lastgood.example.com 2000
	kq_check routes 5 shop/lastgood=True/Accepted,True/ResolvedRefs

	# The Service on port 0: it keeps port 443.
	n=$(logn 'file=kube:Service/shop/lastgood' "$work/a.log")
	service shop lastgood 0 | apply
	if synced_after 'file=kube:Service/shop/lastgood' "$n" 100; then
		ok "Service shop/lastgood on port 0: the agent says so: $(grep -F 'file=kube:Service/shop/lastgood' "$work/a.log" | tail -1 | sed 's/.*field=/field=/')"
	else
		bad "Service shop/lastgood on port 0: no 'invalid manifest' then 'synced' in the log within 30 s"
	fi
	steady "after the Service's bad edit" b1 lastgood.example.com 5
	kq_check routes 3 shop/lastgood=True/Accepted,True/ResolvedRefs
	st=$(python3 -c '
import json, sys
st = json.load(open(sys.argv[1]))
print(" ".join(e.get("field", "") for e in st.get("errors", [])
               if e.get("object") == "Service shop/lastgood"))' "$work/a.status")
	check "status document: the error of Service shop/lastgood" \
		"spec.ports[0].port" "$st"
	service shop lastgood 443 | apply

	# The route to hostname Bad_Host: it keeps lastgood.example.com.
	n=$(logn 'file=kube:TLSRoute/shop/lastgood' "$work/a.log")
	route shop lastgood Bad_Host lastgood | apply
	if synced_after 'file=kube:TLSRoute/shop/lastgood' "$n" 100; then
		ok "TLSRoute shop/lastgood to Bad_Host: the agent says so"
	else
		bad "TLSRoute shop/lastgood to Bad_Host: no 'invalid manifest' then 'synced' in the log within 30 s"
	fi
	steady "after the route's bad edit" b1 lastgood.example.com 5
	kq_check fallback 5 shop/lastgood 'spec.hostnames[0]'

	# Valid again: the new version replaces it, the condition goes.
	route shop lastgood lastgood2.example.com lastgood | apply
	timed "shop/lastgood valid again: its new hostname" b1 \
		lastgood2.example.com 2000
	check "shop/lastgood valid again: the old hostname resets" reset \
		"$(get lastgood.example.com)"
	kq_check fallback 5 shop/lastgood -
	del TLSRoute shop lastgood
	del EndpointSlice shop lastgood-1
	del Service shop lastgood
	timed "shop/lastgood deleted" reset lastgood2.example.com 2000
}
