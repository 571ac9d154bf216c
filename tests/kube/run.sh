#!/usr/bin/env bash
# End-to-end suite of `snilb agent --kubeconfig`: the agent watches the test
# API server (tests/kube/apiserver.py, real wire protocol, HTTPS) loaded with
# examples/, programs the data plane attached to the gateway namespace of
# tests/e2e/topo.sh, and real TLS clients reach real TLS backends through
# it. Checks: routing follows the objects (timed), status written back as
# the Gateway API says and only when something changed, 410 relists, an
# invalid edit keeping the last good version, Retry-After, a continue
# token expiring mid-list, watches cut, the API server away and back
# under traffic, Lease election between two agents (kill -9, restart,
# SIGTERM), TLSRoute CRD missing then installed,
# client-certificate and token authentication with token rotation, a
# Gateway without addresses served on its LoadBalancer Service's address
# (t_lbservice), the node table of --peers pods (t_peers_pods: the
# DaemonSet's pods, watch events, failures keeping the table), and
# deploy/ (parses; every request the agents made is allowed by its RBAC),
# and an API server slow to write status (t_latency: watch event ->
# kernel latency, the Lease renewed on time, a prompt stop).
#
#   gw2 (node-b: h0 198.18.3.2) --- k0 (198.18.3.1, the API server) gw
#
# Usage: tests/kube/run.sh BUILD_DIR   (ONLY=t_leader: one check after the
# setup; KEEP=1: keep namespaces, processes and files, prefix printed;
# t_latency: LAT_ROUTES=1000, LAT_SERVICES, LAT_CHANGES=40, LAT_DELAY=0.4)
set -uo pipefail
export LC_ALL=C	# $EPOCHREALTIME with a dot

build=$(cd "${1:-build}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/lib.sh"
top=$(cd "$here/../.." && pwd)
e2e=$top/tests/e2e
if [ "$(id -u)" -ne 0 ]; then
	echo "kube e2e: skipped: network namespaces and BPF need root"
	echo "0 passed, 0 failed, 1 skipped"
	exit 0
fi
if ! python3 -c 'import yaml' 2>/dev/null; then
	echo "kube e2e: skipped: python3 has no yaml module (python3-yaml; scripts/install-deps.sh installs it)"
	echo "0 passed, 0 failed, 1 skipped"
	exit 0
fi

pfx=sk$$
work=$(mktemp -d /tmp/snilb-kube.XXXXXX)
# Bpffs of our own (`ip netns exec` remounts /sys): one per agent, as on
# two nodes.
mkdir -p "$work/bpffs" "$work/bpffs2"
mount -t bpf bpf "$work/bpffs"
mount -t bpf bpf "$work/bpffs2"
pin=$work/bpffs/snilb pin2=$work/bpffs2/snilb
k=$work/k
agent_a= agent_b= agent_p= api=
passed=0 failed=0
vip4=198.18.0.10 vip6=2001:db8:100::10
apiaddr=198.18.3.1 aport=6443 cport=6444	# in our own namespace
ctrl=snilb.io/gateway-controller

# Our background processes are this shell's jobs (never a PID that was
# already reaped and may be someone else's now).
cleanup() {
	local i
	[ -n "${KEEP:-}" ] && { echo "kept $pfx ($work)"; return; }
	touch "$work/stop"
	kill $(jobs -rp) 2>/dev/null
	for i in $(seq 50); do
		[ -z "$(jobs -rp)" ] && break
		sleep 0.1
	done
	kill -9 $(jobs -rp) 2>/dev/null
	wait 2>/dev/null
	"$e2e/topo.sh" down "$pfx"
	ip netns del "$pfx-gw2" 2>/dev/null
	ip netns del "$pfx-lat" 2>/dev/null
	umount "$work/bpffs3" 2>/dev/null
	umount "$work/bpffs" "$work/bpffs2"
	rm -rf "$work"
}
trap cleanup EXIT

# The helpers and setup, then one file per group of checks.
. "$here/helpers.sh"
. "$here/t-objects.sh"
. "$here/t-watch.sh"
. "$here/t-server.sh"
. "$here/t-leader.sh"
. "$here/t-lbservice.sh"
. "$here/t-peers-pods.sh"
. "$here/t-deploy.sh"
. "$here/t-latency.sh"

t0_all=$EPOCHREALTIME
if ! setup; then
	bad "setup"
	echo "$passed passed, $failed failed"
	exit 1
fi
echo "     setup: $(ms_since "$t0_all") ms"
if [ -n "${ONLY:-}" ]; then
	for t in $ONLY; do $t; done
else
	for t in t_routing t_proxy t_status t_relist t_lastgood t_retry_after \
		t_relist_continue t_watch_cut t_down t_rotate t_leader t_crd \
		t_lbservice t_peers_pods t_deploy t_latency; do
		t1=$EPOCHREALTIME
		$t
		echo "     $t: $(ms_since "$t1") ms"
	done
fi
if [ "$failed" -gt 0 ]; then
	for f in a b p; do
		[ -s "$work/$f.log" ] || continue
		echo "     last lines of node-$f's log:"
		tail -15 "$work/$f.log" | sed 's/^/       /'
	done
fi
echo "kube e2e: $(ms_since "$t0_all") ms"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
