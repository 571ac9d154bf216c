#!/usr/bin/env bash
# `snilb agent` start-up failures leave the node as it was. In a network
# namespace and on a bpffs of our own: each fatal option or input (a bad
# manifest directory, interface, SNAT address, kubeconfig, status file,
# pin path, metrics address, ...) is refused with its name in the message,
# and a failure once the kernel is changed (an interface whose tc slot
# another filter holds) is undone: no filter or clsact qdisc left, no pin,
# ip_local_reserved_ports and the status file as before. An agent that
# fails over an earlier agent's pins keeps them, and puts that agent's
# program back. Pins another build made are refused before anything loads.
# Usage: tests/e2e/startup.sh BUILD_DIR   (KEEP=1: keep the namespace)
set -uo pipefail

build=$(cd "${1:-build}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/lib.sh"
top=$(cd "$here/../.." && pwd)
if [ "$(id -u)" -ne 0 ]; then
	echo "agent start-up: skipped: network namespaces and BPF need root"
	echo "0 passed, 0 failed, 1 skipped"
	exit 0
fi

pfx=su$$
ns=$pfx-n
work=$(mktemp -d /tmp/snilb-startup.XXXXXX)
pin=$work/bpffs/snilb
status=$work/run/status.json
man=$work/manifests
pids=()
passed=0 failed=0

finish() {
	[ -n "${KEEP:-}" ] && { echo "kept $ns ($work)"; return; }
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	ip netns del "$ns" 2>/dev/null
	umount "$work/bpffs" 2>/dev/null
	rm -rf "$work"
}
trap finish EXIT

in_ns() { ip netns exec "$ns" "$@"; }

setup() {
	# Not $work/run: the agent makes the status file's directory.
	mkdir -p "$work/bpffs" "$man" "$work/sa" || return 1
	# A bpffs of our own: `ip netns exec` remounts /sys, hiding
	# /sys/fs/bpf, and the host's pins are none of our business.
	mount -t bpf bpf "$work/bpffs" || return 1
	cp "$top"/examples/*.yaml "$man/" || return 1
	ip netns add "$ns" || return 1
	in_ns ip link set lo up
	for i in 0 1; do	# veth: this kernel may have no dummy
		in_ns ip link add "d$i" type veth peer name "e$i" || return 1
		in_ns ip link set "d$i" up
		in_ns ip link set "e$i" up
	done
	# Something of the operator's in the list: it must survive.
	in_ns sysctl -qw net.ipv4.ip_local_reserved_ports=8080
}

# What the agent may change, one line each: the tc filters and the clsact
# qdisc of every interface, the pins (with their inodes: a pin made again
# is another), the reserved ports, the status file.
state() {
	local i
	for i in lo d0 d1; do
		echo "$i filters: $(in_ns tc filter show dev "$i" ingress |
			tr -s ' \n' ' ')"
		echo "$i clsact: $(in_ns tc qdisc show dev "$i" | grep -c clsact)"
	done
	if [ -d "$pin" ]; then
		echo "pins: $(cd "$pin" && ls -i | sort -k2 | tr -s ' \n' ' ')"
	else
		echo "pins: no pin path"
	fi
	# The settings: an agent that fails over adopted maps puts back
	# the config it wrote (bpftool reads it, where installed).
	if [ -e "$pin/config" ] && command -v bpftool >/dev/null; then
		echo "config: $(bpftool map dump pinned "$pin/config" |
			tr -s ' \n' ' ')"
	fi
	echo "reserved: $(in_ns cat /proc/sys/net/ipv4/ip_local_reserved_ports)"
	if [ -e "$status" ]; then
		echo "status file: $(md5sum <"$status")"
	elif [ -d "${status%/*}" ]; then
		echo "status file: none, its directory there"
	else
		echo "status file: none, nor its directory"
	fi
}

# The agent with the usual options and ARGS (later ones win); its output
# in $out, its exit status in $rc.
agent() {
	in_ns timeout 60 "$build/snilb" agent --pin-path "$pin" \
		--status-file "$status" "$@" >"$work/out" 2>&1
	rc=$?
	out=$(cat "$work/out")
}

# NAME RC PATTERN ARGS...: the agent exits RC, says PATTERN (fixed
# string), and the node is as it was.
refused() {
	local name=$1 want=$2 pat=$3 before after
	shift 3
	before=$(state)
	agent "$@"
	after=$(state)
	check "$name: exit status" "$want" "$rc"
	if grep -qF -- "$pat" <<<"$out"; then
		ok "$name: says '$pat'"
	else
		bad "$name: no '$pat' in:"
		sed 's/^/       /' <<<"$out" | tail -8
	fi
	if [ "$before" = "$after" ]; then
		ok "$name: node unchanged"
	else
		bad "$name: node changed:"
		diff <(echo "$before") <(echo "$after") | sed 's/^/       /'
	fi
}

# Each option once: --iface and --snat add to a list.
dir_args=(--manifests "$man" --snat 198.18.2.1)
one=("${dir_args[@]}" --iface d0)

# 1. Refused before the kernel is touched.
t_preflight() {
	refused "no manifest directory" 1 "$work/none" \
		"${one[@]}" --manifests "$work/none"
	refused "manifest directory is a file" 1 "$man/00-gateway.yaml" \
		"${one[@]}" --manifests "$man/00-gateway.yaml"
	refused "no such interface" 2 "--iface nosuch0" \
		"${dir_args[@]}" --iface d0,nosuch0
	refused "an interface twice" 2 "--iface d0" \
		"${dir_args[@]}" --iface d0,d1,d0
	refused "SNAT address that does not parse" 2 "--snat 198.18.2" \
		"${one[@]}" --snat 198.18.2
	refused "SNAT address 0.0.0.0" 2 "--snat 0.0.0.0" \
		"${one[@]}" --snat 0.0.0.0
	refused "SNAT address multicast" 2 "--snat ff02::1" \
		"${one[@]}" --snat ff02::1
	refused "two IPv4 SNAT addresses" 2 "--snat 198.18.2.2" \
		"${one[@]}" --snat 198.18.2.2
	refused "SNAT ports among the ephemeral ones" 1 "snat_ports=40000" \
		"${one[@]}" --snat-ports 40000-40999
	refused "no kubeconfig" 1 "kubeconfig $work/nokube" \
		--kubeconfig "$work/nokube" --iface d0 --snat 198.18.2.1
	printf 'apiVersion: v1\nclusters: [\n' >"$work/badkube"
	refused "kubeconfig that does not parse" 1 "kubeconfig $work/badkube" \
		--kubeconfig "$work/badkube" --iface d0 --snat 198.18.2.1
	: >"$work/sa/ca.crt"
	KUBERNETES_SERVICE_HOST=127.0.0.1 KUBERNETES_SERVICE_PORT=6443 \
	SNILB_SA_DIR=$work/sa refused "in-cluster without a token" 1 \
		"$work/sa/token" --in-cluster --iface d0 --snat 198.18.2.1
	refused "status file below a file" 1 "$man/00-gateway.yaml/status" \
		"${one[@]}" --status-file "$man/00-gateway.yaml/status"
	refused "pin path not on a bpffs" 1 "$work/notbpf/snilb" \
		"${one[@]}" --pin-path "$work/notbpf/snilb"
	if [ -e "$work/notbpf" ]; then
		bad "pin path not on a bpffs: $work/notbpf was created"
	else
		ok "pin path not on a bpffs: nothing created"
	fi
	refused "metrics address that does not parse" 2 \
		"--metrics-listen 127.0.0.1" "${one[@]}" \
		--metrics-listen 127.0.0.1
}

# Hold TCP 127.0.0.1:9109 in the namespace until killed.
hold_port() {
	ip netns exec "$ns" python3 -c 'import socket, time
s = socket.socket(); s.bind(("127.0.0.1", 9109)); s.listen()
print("listening", flush=True); time.sleep(600)' >"$work/hold.log" 2>&1 &
	pids+=($!)
	wait_for listening "$work/hold.log"
}

# Another kind of filter (u32: this kernel may have no matchall) at our
# tc priority (clsact ingress, priority 1) of d1: attaching there fails once d0 is attached, the maps loaded and
# pinned and the SNAT ports reserved.
occupy_d1() {
	{ in_ns tc qdisc show dev d1 | grep -q clsact ||
	  in_ns tc qdisc add dev d1 clsact; } &&
	in_ns tc filter add dev d1 ingress pref 1 protocol all u32 \
		match u32 0 0
}

# 2. A fresh start that fails once the kernel is changed.
t_undo() {
	hold_port || { bad "cannot hold 127.0.0.1:9109"; return; }
	refused "metrics address in use" 1 "127.0.0.1:9109" \
		"${one[@]}" --metrics-listen 127.0.0.1:9109
	occupy_d1 || { bad "cannot put a filter on d1"; return; }
	refused "attach fails on the second interface" 1 \
		'msg="cannot attach" iface=d1' \
		"${dir_args[@]}" --iface d0,d1
	grep -q 'msg="start-up undone"' <<<"$out" &&
		ok "attach fails: says it undid the start" ||
		bad "attach fails: no 'start-up undone' line"
}

# 3. Over an earlier agent's state: it keeps its pins, its program and
# its settings.
t_adopted() {
	local a before prog
	# Not through in_ns(): $! must be the agent itself, for the signal.
	ip netns exec "$ns" "$build/snilb" agent "${one[@]}" --pin-path "$pin" \
		--status-file "$status" >"$work/a.log" 2>&1 &
	a=$!
	pids+=("$a")
	wait_for 'msg="agent running"' "$work/a.log" 120 ||
		{ bad "the first agent did not start"; return; }
	kill -TERM "$a"
	wait "$a"
	if grep -q 'msg="stopping' "$work/a.log"; then
		ok "the first agent stopped on SIGTERM"
	else
		bad "the first agent: no 'stopping' line after SIGTERM"
	fi
	before=$(state)
	prog=$(in_ns tc filter show dev d0 ingress | grep -o 'id [0-9]*' | head -1)
	if [ -n "$prog" ] && grep -q 'pins: .*flows' <<<"$before"; then
		ok "the first agent left its program ($prog) and pins"
	else
		bad "the first agent left: $before"
	fi
	# Another range: this agent reserves it, then must release it.
	refused "over adopted pins, attach fails" 1 \
		'msg="cannot attach" iface=d1' \
		"${dir_args[@]}" --iface d0,d1 --snat-ports 30000-30099 \
		--idle-timeout 77 --hello-timeout 777
	grep -q 'msg="SNAT ports reserved"' <<<"$out" &&
		ok "over adopted pins: the new range had been reserved" ||
		bad "over adopted pins: the new range was never reserved"
	refused "over adopted pins, metrics address in use" 1 \
		"127.0.0.1:9109" "${one[@]}" \
		--metrics-listen 127.0.0.1:9109
	refused "over adopted pins, no manifest directory" 1 "$work/none" \
		"${one[@]}" --manifests "$work/none"
}

# 4. Pins another build made (a map of another layout): refused, naming
# the map and how it differs, before anything is loaded.
t_foreign_pins() {
	local v
	command -v bpftool >/dev/null ||
		{ echo "skip foreign pins: no bpftool"; return; }
	v=$(bpftool -j map show pinned "$pin/sets" |
		python3 -c 'import json, sys; print(json.load(sys.stdin)["bytes_value"])')
	rm -f "$pin/sets"
	bpftool map create "$pin/sets" type array key 4 value $((v + 8)) \
		entries 16 name sets || { bad "cannot pin a foreign sets map"; return; }
	refused "pins of another build" 1 \
		"the map sets pinned at $pin/sets is not this build's (value size $((v + 8)), this build's $v)" \
		"${one[@]}"
}

t0_all=$EPOCHREALTIME
if ! setup; then
	bad "setup"
	echo "$passed passed, $failed failed"
	exit 1
fi
t_preflight
t_undo
t_adopted
t_foreign_pins
echo "agent start-up: $(ms_since "$t0_all") ms"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
