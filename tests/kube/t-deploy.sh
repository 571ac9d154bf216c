# shellcheck shell=bash
# deploy/ against the RBAC the agents used; the PROXY v2 annotation. Sourced by tests/kube/run.sh,
# which holds the state and the order the checks run in.

# deploy/: every document parses; the GatewayClass evaluates; every API
# request the agents made is one the RBAC allows.
t_deploy() {
	local out
	out=$(python3 - "$top"/deploy/[0-9]*.yaml <<'EOF' 2>&1
import sys, yaml
n = 0
for f in sys.argv[1:]:
    for d in yaml.safe_load_all(open(f)):
        if d is None:
            continue
        assert d.get("apiVersion") and d.get("kind") and \
            d.get("metadata", {}).get("name"), "%s: %r" % (f, d)[:200]
        n += 1
print(n)
EOF
	)
	case $out in
	[0-9]*) ok "deploy/[0-9]*.yaml: $out documents parse, each with apiVersion, kind, name" ;;
	*) bad "deploy/[0-9]*.yaml: $out" ;;
	esac
	out=$("$build/snilb" agent --check --manifests "$top/deploy" 2>&1)
	check "snilb agent --check --manifests deploy: exit" 0 "$?"
	touch "$work/requests.jsonl"
	kq_check rbac "$top/deploy/10-rbac.yaml" "$work/requests.jsonl"
}

# The PROXY v2 annotation (docs/agent.md) read from the API server: b1's
# TLS server (backend.py) reads no header, so with the annotation its
# handshakes fail, without it they complete; the status file says which.
t_proxy() {
	local pp
	{ route shop pp pp.example.com pp; echo ---; service shop pp 443 198.18.2.11; } |
		apply
	timed "/apply of Service shop/pp without the annotation" b1 \
		pp.example.com 2000
	{ service shop pp 443 | sed 's/^metadata: {name: pp, namespace: shop}$/metadata: {name: pp, namespace: shop, annotations: {snilb.io\/proxy-protocol: v2}}/'; } |
		apply
	timed "annotation snilb.io/proxy-protocol: v2: b1 gets a header, fails TLS" \
		reset pp.example.com 2000
	pp=$(python3 -c 'import json,sys
d=json.load(open(sys.argv[1]))
print(",".join(b["proxy_protocol"] for r in d["routes"] if r["name"] == "pp" for b in r["backends"]))' "$work/a.status" 2>/dev/null)
	check "status file: shop/pp's backendRef proxy_protocol" v2 "$pp"
	service shop pp 443 | apply
	timed "annotation removed: b1 completes TLS again" b1 pp.example.com 2000
	del TLSRoute shop pp
	del Service shop pp
}
