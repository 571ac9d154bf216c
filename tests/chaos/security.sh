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

# The helpers and setup, then one file per group of checks.
. "$here/security/helpers.sh"
. "$here/security/t-tenants.sh"
. "$here/security/t-node.sh"
. "$here/security/t-restart.sh"
. "$here/security/t-flaps.sh"

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
