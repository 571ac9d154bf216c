#!/usr/bin/env bash
# The container image of `make image`, run as the DaemonSet runs it
# (deploy/30-daemonset.yaml): capabilities BPF, PERFMON, NET_ADMIN and
# NET_RAW only (all others dropped), read-only root, no privilege
# escalation, podman's default seccomp profile (RuntimeDefault), a bpffs of
# the host mounted at /sys/fs/bpf, /run/snilb from the host, and a test
# network namespace (the gateway of tests/e2e/topo.sh) as its host
# network; the agent watches the test API server (tests/kube/apiserver.py,
# HTTPS, a token) loaded with examples/. Checks: the process's real
# capabilities, no_new_privs, seccomp and read-only root; real TLS routed
# through it; /readyz; a restart of the container (kill -9, start) with a
# download in flight: the new agent adopts the pinned data plane and the
# download finishes byte-exact.
#
# Usage: tests/image/run.sh BUILD_DIR [IMAGE]   (IMAGE: localhost/snilb:latest;
# KEEP=1 keeps the namespaces, container and files)
set -uo pipefail
export LC_ALL=C
build=$(cd "${1:-build}" && pwd)
image=${2:-localhost/snilb:latest}
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
e2e=$top/tests/e2e
pfx=si$$
. "$top/tests/lib/lib.sh"
if [ "$(id -u)" -ne 0 ]; then
	echo "image: skipped: network namespaces, BPF and podman need root"
	echo "0 passed, 0 failed, 1 skipped"
	exit 0
fi
if ! command -v podman >/dev/null || ! podman image exists "$image"; then
	echo "image: no podman or no image $image (make image)"
	echo "0 passed, 1 failed"
	exit 1
fi
. "$top/scripts/podman-env.sh"
podman_env "$image"

work=$(mktemp -d /tmp/snilb-image.XXXXXX)
mkdir -p "$work/bpffs" "$work/run" "$work/k"
mount -t bpf bpf "$work/bpffs"
k=$work/k
name=snilb-test-$pfx
vip4=198.18.0.10 vip6=2001:db8:100::10
aport=6443
pids=()

cleanup() {
	[ -n "${KEEP:-}" ] && { echo "kept $pfx ($work, container $name)"; return; }
	podman rm -f -t 0 "$name" >/dev/null 2>&1
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	"$e2e/topo.sh" down "$pfx"
	umount "$work/bpffs"
	rm -rf "$work"
}
trap cleanup EXIT

cli() { at cli timeout 30 "$@"; }
# The container's log lines matching a fixed string, counted.
logn() { podman logs "$name" 2>&1 | grep -cF -- "$1"; }
wait_log() {	# FIXED-STRING COUNT SECONDS: until more than COUNT lines match
	local i
	for i in $(seq $(($3 * 10))); do
		[ "$(logn "$1")" -gt "$2" ] && return 0
		# Not for a container that has exited.
		[ "$(podman inspect --format '{{.State.Running}}' "$name")" = true ] ||
			return 1
		sleep 0.1
	done
	return 1
}
wait_file() {	# PATTERN FILE SECONDS
	local i
	for i in $(seq $(($3 * 10))); do
		grep -q "$1" "$2" 2>/dev/null && return 0
		sleep 0.1
	done
	cat "$2"
	return 1
}

setup() {
	local b
	"$e2e/topo.sh" up "$pfx" || return 1
	at gw ip link set lo up
	start_example_backends || return 1
	# The API server in the gateway namespace, on its loopback: the
	# container shares that namespace. The agent's kubeconfig names
	# the paths it has inside the container (/k, read-only).
	"$top/tests/kube/mkcerts.sh" "$k" 127.0.0.1 >/dev/null 2>&1 || return 1
	echo "tok-$RANDOM$RANDOM" >"$k/token"
	cat >"$k/kubeconfig" <<EOK
apiVersion: v1
kind: Config
current-context: test
clusters:
- name: test
  cluster: {server: "https://127.0.0.1:$aport", certificate-authority: /k/ca.crt}
users:
- name: agent
  user: {tokenFile: /k/token}
contexts:
- name: test
  context: {cluster: test, user: agent}
EOK
	ip netns exec "$pfx-gw" python3 "$top/tests/kube/apiserver.py" \
		--listen "127.0.0.1:$aport" --cert "$k/server.crt" \
		--key "$k/server.key" --client-ca "$k/ca.crt" \
		--token-file "$k/token" --control-port 6444 \
		$(for f in "$top"/examples/*.yaml; do echo --load "$f"; done) \
		>"$work/api.log" 2>&1 &
	pids+=($!)
	wait_file '^apiserver:' "$work/api.log" 30 || return 1
	for b in b1 b2 b3 blue-1 blue-2 green-1; do
		wait_file listening "$work/$b.log" 30 || return 1
	done
}

# The DaemonSet's security context, from deploy/30-daemonset.yaml itself,
# as podman flags.
secctx_flags() {
	python3 - "$top/deploy/30-daemonset.yaml" "$work/seccomp.json" <<'PY'
import sys, yaml
for d in yaml.safe_load_all(open(sys.argv[1])):
    if not d or d["kind"] != "DaemonSet":
        continue
    c = d["spec"]["template"]["spec"]["containers"][0]["securityContext"]
    assert c["privileged"] is False
    f = ["--cap-drop=" + ",".join(c["capabilities"]["drop"]),
         "--cap-add=" + ",".join(c["capabilities"]["add"])]
    if c["readOnlyRootFilesystem"]:
        f.append("--read-only")
    if not c["allowPrivilegeEscalation"]:
        f.append("--security-opt=no-new-privileges")
    assert c["seccompProfile"]["type"] == "RuntimeDefault"
    f.append("--security-opt=seccomp=" + sys.argv[2])
    print(" ".join(f))
PY
}

# RuntimeDefault as containerd has it (contrib/seccomp: bpf allowed with
# CAP_BPF, perf_event_open with CAP_PERFMON, besides CAP_SYS_ADMIN): podman's
# default profile plus those two rules. Debian 12's podman profile
# (containers-common) allows them only with CAP_SYS_ADMIN, and the agent
# cannot load its programs under it (docs/kubernetes.md, "seccomp").
runtime_default() {	# OUT
	python3 - "$1" <<'PY'
import json, sys
src = "/usr/share/containers/seccomp.json"
p = json.load(open(src))
for r in p["syscalls"]:
    if r["action"] == "SCMP_ACT_ERRNO" and \
            "CAP_SYS_ADMIN" in r.get("excludes", {}).get("caps", []):
        r["names"] = [n for n in r["names"] if n not in ("bpf", "perf_event_open")]
for name, cap in (("bpf", "CAP_BPF"), ("perf_event_open", "CAP_PERFMON")):
    p["syscalls"].append({"names": [name], "action": "SCMP_ACT_ALLOW",
                          "includes": {"caps": [cap]}})
json.dump(p, open(sys.argv[1], "w"), indent=1)
PY
}

run_container() {
	runtime_default "$work/seccomp.json" || return 1
	# shellcheck disable=SC2046
	podman run -d --name "$name" \
		$(secctx_flags) \
		--network "ns:/run/netns/$pfx-gw" \
		-v "$work/bpffs:/sys/fs/bpf" -v "$work/run:/run/snilb" \
		-v "$k:/k:ro" \
		"$image" agent --kubeconfig /k/kubeconfig --node-name node-a \
		--iface g0,br0 --snat 198.18.2.1 --snat 2001:db8:2::1 \
		--pin-path /sys/fs/bpf/snilb \
		--status-file /run/snilb/status.json \
		--metrics-listen 127.0.0.1:9464 >"$work/run.out" 2>&1
}

# The container's process, as the kernel sees it.
proc_status() {	# FIELD
	local pid
	pid=$(podman inspect --format '{{.State.Pid}}' "$name")
	sed -n "s/^$1:[[:space:]]*//p" "/proc/$pid/status"
}
capnames() { capsh --decode="$1" | sed 's/.*=//'; }

t_start() {
	local t0=$EPOCHREALTIME
	if ! run_container; then
		bad "podman run: $(cat "$work/run.out")"
		return 1
	fi
	if wait_log 'msg="agent running"' 0 60; then
		ok "agent running in the container $(ms_since "$t0") ms after podman run"
	else
		bad "the agent did not come up: $(podman logs "$name" 2>&1 | tail -5)"
		return 1
	fi
	check "container: read-only root" true \
		"$(podman inspect --format '{{.HostConfig.ReadonlyRootfs}}' "$name")"
	check "process: bounding set = BPF, PERFMON, NET_ADMIN, NET_RAW" \
		"cap_net_admin,cap_net_raw,cap_perfmon,cap_bpf" "$(capnames "$(proc_status CapBnd)")"
	check "process: no_new_privs" 1 "$(proc_status NoNewPrivs)"
	check "process: seccomp filter on (RuntimeDefault)" 2 \
		"$(proc_status Seccomp)"
	check "binary: built hardened (scripts/hardened.sh)" \
		"pie relro now canary fortify" \
		"$(elf_hardening "/proc/$(podman inspect --format '{{.State.Pid}}' "$name")/exe")"
	check "process: its root mounted read-only" ro \
		"$(awk '$5 == "/" { split($6, o, ","); print o[1] }' \
			"/proc/$(podman inspect --format '{{.State.Pid}}' "$name")/mountinfo")"
}

t_routing() {
	local i
	# Until the first sync has programmed the routes.
	for i in $(seq 100); do
		[ "$(TMO=1 get www.example.com)" = b1 ] && break
		sleep 0.1
	done
	check "www.example.com -> b1 through the container's data plane" b1 \
		"$(get www.example.com)"
	check "api.example.com -> b2" b2 "$(get api.example.com)"
	check "a.dev.example.com over the IPv6 VIP -> b3" b3 \
		"$(get a.dev.example.com "[$vip6]")"
	check "unknown.example.com (no route): reset" reset \
		"$(get unknown.example.com)"
	check "/readyz (synced from complete lists)" 200 \
		"$(at gw curl -s -o /dev/null -w '%{http_code}' --max-time 3 \
			http://127.0.0.1:9464/readyz)"
	check "process: after the attach, only CAP_BPF and CAP_NET_RAW effective" \
		"cap_net_raw,cap_bpf" "$(capnames "$(proc_status CapEff)")"
}

# Download N MB from HOST into $work/NAME.{h,body} in the background.
download() {	# NAME HOST MB RATE
	# Its own bound (cli's 30 s would cut a download a busy machine
	# slows, with nothing written).
	at cli timeout 90 curl -sk --max-time 80 --limit-rate "$4" \
		--resolve "$2:443:$vip4" -D "$work/$1.h" -o "$work/$1.body" \
		"https://$2/bytes/$(($3 * 1048576))" &
	dl=$!
	pids+=("$dl")
}
download_result() {	# NAME
	local want got be
	want=$(sed -n 's/^X-SHA256: *\([0-9a-f]*\).*/\1/p' "$work/$1.h")
	be=$(sed -n 's/^X-Backend: *\([^[:space:]]*\).*/\1/p' "$work/$1.h")
	got=$(sha256sum "$work/$1.body" | cut -d' ' -f1)
	if [ -n "$want" ] && [ "$want" = "$got" ]; then
		echo "$be"
	else
		echo "broken: $(stat -c %s "$work/$1.body" 2>/dev/null) bytes, sha $got, want '$want'"
	fi
}

t_restart() {
	local n i t0 size r
	# 24 s at 1 MB/s: in flight across a restart on a busy machine too (at
	# 4 MB/s a restart of 3.3 s under load found it over).
	download restartdl www.example.com 24 1M
	local rdl=$dl
	# Until the download is under way (its body growing).
	for i in $(seq 100); do
		size=$(stat -c %s "$work/restartdl.body" 2>/dev/null || echo 0)
		[ "$size" -gt 1048576 ] && break
		sleep 0.1
	done
	ok "download in flight: $size bytes when the container is killed"
	n=$(logn 'msg="agent running"')
	t0=$EPOCHREALTIME
	podman kill --signal KILL "$name" >/dev/null
	podman wait "$name" >/dev/null 2>&1
	if ! podman start "$name" >"$work/start.out" 2>&1; then
		bad "podman start: $(cat "$work/start.out")"
		return 1
	fi
	if wait_log 'msg="agent running"' "$n" 60; then
		ok "restarted container running $(ms_since "$t0") ms after the kill"
	else
		bad "the restarted agent did not come up: $(podman logs "$name" 2>&1 | tail -5)"
	fi
	r=$(podman logs "$name" 2>&1 | grep -F 'msg="data plane loaded"' | tail -1)
	case $r in
	*adopted=yes*) ok "the restarted agent adopted the pinned data plane" ;;
	*) bad "the restarted agent did not adopt: '$r'" ;;
	esac
	if kill -0 "$rdl" 2>/dev/null; then
		ok "the download was still in flight after the restart"
	else
		bad "the download was over before the restart (test too fast)"
	fi
	wait "$rdl"
	check "24 MB download across the container's restart, byte-exact" b1 \
		"$(download_result restartdl)"
	check "after the restart: www.example.com -> b1" b1 "$(get www.example.com)"
	check "after the restart: /readyz" 200 \
		"$(at gw curl -s -o /dev/null -w '%{http_code}' --max-time 3 \
			http://127.0.0.1:9464/readyz)"
}

t0_all=$EPOCHREALTIME
echo "     image: $image, $(podman image inspect --format '{{.Size}}' "$image") bytes"
if ! setup; then
	bad "setup"
	echo "$passed passed, $failed failed"
	exit 1
fi
if t_start; then
	t_routing
	t_restart
fi
if [ "$failed" -gt 0 ]; then
	echo "     last lines of the container's log:"
	podman logs "$name" 2>&1 | tail -15 | sed 's/^/       /'
fi
echo "image: $(ms_since "$t0_all") ms"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
