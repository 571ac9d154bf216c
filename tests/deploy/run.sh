#!/usr/bin/env bash
# deploy/ for kubectl users, without a cluster: `kubectl kustomize deploy/`
# renders, the image is its one knob, every object it renders is valid
# against the Kubernetes and Gateway API schemas of its kind
# (tests/deploy/schema.py, which must also catch a typo), the DaemonSet
# keeps the security context docs/security.md describes, and the agent's
# own decoder (`snilb agent --check`) accepts the rendered objects.
#
# Usage: tests/deploy/run.sh BUILD_DIR
set -uo pipefail
build=$(cd "${1:-build}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
passed=0 failed=0
ok() { passed=$((passed + 1)); echo "ok   $*"; }
bad() { failed=$((failed + 1)); echo "FAIL $*"; }
check() { if [ "$2" = "$3" ]; then ok "$1"; else bad "$1: want '$2', got '$3'"; fi; }

if ! command -v kubectl >/dev/null; then
	echo "deploy: skipped: no kubectl (kubernetes-client; scripts/install-deps.sh installs it)"
	echo "0 passed, 0 failed, 1 skipped"
	exit 0
fi
work=$(mktemp -d /tmp/snilb-deploy.XXXXXX)
trap 'rm -rf "$work"' EXIT

# Python over the rendered objects: FIELD queries print one value a line.
q() {	# FILE PYTHON-EXPR-OVER-docs
	python3 - "$1" "$2" <<'PY'
import sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
ds = [d for d in docs if d["kind"] == "DaemonSet"]
r = eval(sys.argv[2])
print("\n".join(map(str, r)) if isinstance(r, list) else r)
PY
}

if kubectl kustomize "$top/deploy" >"$work/out.yaml" 2>"$work/err"; then
	ok "kubectl kustomize deploy/ renders ($(grep -c '^kind:' "$work/out.yaml") objects)"
else
	bad "kubectl kustomize deploy/: $(cat "$work/err")"
fi
# Every object of deploy/*.yaml is rendered, and nothing else.
want=$(q <(for f in "$top"/deploy/[0-9]*.yaml; do echo ---; cat "$f"; done) \
	'sorted("%s/%s" % (d["kind"], d["metadata"]["name"]) for d in docs)')
got=$(q "$work/out.yaml" \
	'sorted("%s/%s" % (d["kind"], d["metadata"]["name"]) for d in docs)')
check "rendered objects = those of deploy/[0-9]*.yaml" "$want" "$got"

out=$(python3 "$here/schema.py" "$work/out.yaml" 2>&1)
case $out in
*" objects valid") ok "schemas: $out" ;;
*) bad "schemas: $out" ;;
esac
out=$(python3 "$here/schema.py" "$top"/deploy/[0-9]*.yaml 2>&1)
case $out in
*" objects valid") ok "schemas, deploy/[0-9]*.yaml as kubectl apply -f reads them: $out" ;;
*) bad "schemas, deploy/[0-9]*.yaml: $out" ;;
esac
# The schema check is live: a typo and a wrong type are caught.
out=$(sed 's/readOnlyRootFilesystem/readOnlyRootFilesytem/; s/containerPort: 9464/containerPort: "9464"/' \
	"$work/out.yaml" | python3 "$here/schema.py" 2>&1)
case $out in
*"readOnlyRootFilesytem: no such field"*"want int"* | *"want int"*"readOnlyRootFilesytem: no such field"*)
	ok "schemas: a misspelt field and a string port are rejected" ;;
*) bad "schemas: the typos passed: $out" ;;
esac

# The image: localhost/snilb:latest (what `make image` builds) by default,
# and the one knob: only that line changes when it is set.
check "image by default" "localhost/snilb:latest" \
	"$(q "$work/out.yaml" '[c["image"] for d in ds for c in d["spec"]["template"]["spec"]["containers"]]')"
cp -r "$top/deploy" "$work/deploy"
sed -i 's|newName: localhost/snilb|newName: registry.example.com/snilb|; s|newTag: latest|newTag: "1.2"|' \
	"$work/deploy/kustomization.yaml"
kubectl kustomize "$work/deploy" >"$work/out2.yaml" 2>&1
check "image knob: the only difference" \
	"<         image: localhost/snilb:latest|>         image: registry.example.com/snilb:1.2" \
	"$(diff "$work/out.yaml" "$work/out2.yaml" | grep '^[<>]' | paste -sd'|')"

# The DaemonSet's security context, exactly (tests/image/run.sh runs the
# image with it).
check "DaemonSet security context" \
	"{'allowPrivilegeEscalation': False, 'capabilities': {'add': ['BPF', 'PERFMON', 'NET_ADMIN', 'NET_RAW'], 'drop': ['ALL']}, 'privileged': False, 'readOnlyRootFilesystem': True, 'seccompProfile': {'type': 'RuntimeDefault'}}" \
	"$(q "$work/out.yaml" 'dict(sorted(ds[0]["spec"]["template"]["spec"]["containers"][0]["securityContext"].items()))')"
check "DaemonSet: hostNetwork, the host's /sys/fs/bpf" "True /sys/fs/bpf" \
	"$(q "$work/out.yaml" '"%s %s" % (ds[0]["spec"]["template"]["spec"]["hostNetwork"], [v["hostPath"]["path"] for v in ds[0]["spec"]["template"]["spec"]["volumes"] if v["name"] == "bpffs"][0])')"

# The agent's own decoder on what kubectl would apply: the GatewayClass is
# decoded and accepted, the other kinds are not the agent's and pass.
mkdir "$work/m"
cp "$work/out.yaml" "$work/m/deploy.yaml"
"$build/snilb" agent --check --manifests "$work/m" >"$work/check.json" 2>&1
check "snilb agent --check on the rendered objects: exit" 0 "$?"
check "snilb agent --check: GatewayClass snilb Accepted" "snilb Accepted True" \
	"$(python3 -c 'import json,sys; g=json.load(open(sys.argv[1]))["gatewayclasses"][0]; c=[c for c in g["conditions"] if c["type"]=="Accepted"][0]; print(g["name"], c["type"], c["status"])' "$work/check.json" 2>&1)"
"$build/snilb" agent --check --manifests "$top/deploy" >/dev/null 2>&1
check "snilb agent --check --manifests deploy/ (kustomization.yaml beside): exit" 0 "$?"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
