# shellcheck shell=bash
# What one tenant can do to another: ReferenceGrants, hostnames.
# Sourced by tests/chaos/security.sh, which holds the state and the order
# the checks run in.

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
	check "hostnames: mallory/wild vs dev/preview (*.dev.example.com, IPv6 only): a.dev.example.com over IPv4 not taken (longer wildcard wins; its IPv6 backend through NAT46/64)" \
		b3 "$(get a.dev.example.com)"
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
