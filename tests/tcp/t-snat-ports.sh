#!/usr/bin/env bash
# Issue 13 item 7: SNAT ports against the node's own connections
# (docs/dataplane.md "TCP correctness"). The data plane claims a backend's
# packets to the SNAT address by port; a connection of the gateway's own
# to the same backend from such a port was taken over, or reset by snilb
# (tw_reset), when the port range overlapped the node's ephemeral ports.
#
#  A. default range, the gateway's default ip_local_port_range: N
#     connections of the gateway's own to a backend held open while M
#     client connections go through the VIP to the same backend: none of
#     the N reset; `snilb flows` shows each flow's SNAT port, in range.
#  B. a configured range inside the ephemeral ports, reserved in the
#     gateway namespace (ip_local_reserved_ports): the same.
#  C. `snilb agent`: --snat-ports errors, the refusal of a range the node
#     may use, the reservation merged into ip_local_reserved_ports, and a
#     start without it where the list cannot be written.
#
# Usage: tests/tcp/t-snat-ports.sh BUILD_DIR  (SNAT_N, SNAT_M: the counts
# of part A, 300 and 1000: about 7 collisions expected under the old range)
set -uo pipefail
export LC_ALL=C

build=$(cd "${1:-build}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
e2e=$(cd "$here/../e2e" && pwd)
. "$here/../lib/lib.sh"
if [ "$(id -u)" -ne 0 ]; then
	echo "t-snat-ports: skipped: network namespaces and BPF need root"
	echo "0 passed, 0 failed, 1 skipped"
	exit 0
fi

pfx=tS$$
work=$(mktemp -d /tmp/snilb-snat.XXXXXX)
mkdir -p "$work/bpffs"
mount -t bpf bpf "$work/bpffs"
pin=$work/bpffs/snilb
pids=()
passed=0 failed=0
vip4=198.18.0.10
nconn=${SNAT_N:-300} mconn=${SNAT_M:-1000}
sysctl_dir=/proc/sys/net/ipv4

trap 'ip netns del "$pfx-ag" 2>/dev/null; cleanup' EXIT

cli() { at cli timeout 30 "$@"; }

setup() {
	"$e2e/topo.sh" up "$pfx" || return 1
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
		-nodes -days 2 -subj "/CN=b1" -keyout "$work/b1.key" \
		-out "$work/b1.crt" 2>/dev/null || return 1
	ip netns exec "$pfx-b1" python3 "$e2e/backend.py" --name b1 \
		--cert "$work/b1.crt" --key "$work/b1.key" \
		>"$work/b1.log" 2>&1 &
	pids+=($!)
	wait_for listening "$work/b1.log"
}

# The data plane with dp.conf plus LINES (dpctl, its maps pinned so that
# `snilb flows` can read them; a restart adopts them).
start_dp() {	# [LINE...]
	[ -n "${dp_pid:-}" ] && { kill "$dp_pid"; wait "$dp_pid"; } 2>/dev/null
	{
		printf '%s\n' "snat 198.18.2.1" "timeouts 2000 3600" \
			"listener 1 $vip4 443" "backend 1 198.18.2.11 8443" \
			"set 1 1" "route 1 www.example.com 10 1" "$@" \
			"attach g0" "attach br0"
	} >"$work/dp.conf"
	: >"$work/dp.log"
	ip netns exec "$pfx-gw" "$build/dpctl" --pin "$pin" "$work/dp.conf" \
		>"$work/dp.log" 2>&1 &
	dp_pid=$!
	pids+=("$dp_pid")
	wait_for ready "$work/dp.log"
}

# The gateway's own connections: N to the backend, opened, then (once
# $work/go exists) each used for a TLS request. Prints "open N LO-HI
# IN_OLD" (their ports; how many in 20000-59999, the old SNAT range), then
# "ok=K reset=R other=O".
nodelocal() {	# N
	rm -f "$work/go"
	at gw timeout 400 python3 - "$1" "$work/go" >"$work/nl.out" \
		2>"$work/nl.err" <<'EOF' &
import os, socket, ssl, sys, time
n, go = int(sys.argv[1]), sys.argv[2]
socks = [socket.create_connection(("198.18.2.11", 8443), timeout=5)
         for _ in range(n)]
ports = [s.getsockname()[1] for s in socks]
print("open %d %d-%d %d" % (n, min(ports), max(ports),
      sum(20000 <= p <= 59999 for p in ports)), flush=True)
end = time.monotonic() + 300
while not os.path.exists(go) and time.monotonic() < end:
    time.sleep(0.1)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
ok = reset = other = 0
for s, port in zip(socks, ports):
    try:
        with ctx.wrap_socket(s, server_hostname="node.example") as t:
            t.sendall(b"GET / HTTP/1.0\r\n\r\n")
            data = b""
            while True:
                chunk = t.recv(4096)
                if not chunk:
                    break
                data += chunk
        if b"backend=b1" in data:
            ok += 1
            continue
        other += 1
    except ConnectionResetError:
        reset += 1
        sys.stderr.write("nodelocal: port %d reset\n" % port)
    except (OSError, ssl.SSLError) as e:
        other += 1
        sys.stderr.write("nodelocal: port %d: %r\n" % (port, e))
print("ok=%d reset=%d other=%d" % (ok, reset, other), flush=True)
EOF
	nl_pid=$!
	pids+=("$nl_pid")
}

# Slow downloads through the VIP, so that flows are there to look at
# (8 s each; $dls: their pids).
slow_downloads() {
	local i
	dls=()
	for i in 1 2 3; do
		cli curl -sk --max-time 25 --limit-rate 1M -o /dev/null \
			--resolve "www.example.com:443:$vip4" \
			"https://www.example.com/bytes/8388608" &
		dls+=($!)
		pids+=($!)
	done
}

# Every bound flow's SNAT port, from `snilb flows -o json`, in LO..HI;
# polled until the slow downloads' three spliced flows are there.
check_flows() {	# NAME LO HI
	local out=
	for _ in $(seq 300); do
		at gw "$build/snilb" flows -o json --limit 0 --pin-path "$pin" \
			--status-file "$work/none.json" >"$work/flows.json" \
			2>"$work/flows.err"
		out=$(python3 - "$2" "$3" "$work/flows.json" <<'EOF'
import json, sys
lo, hi = int(sys.argv[1]), int(sys.argv[2])
flows = json.load(open(sys.argv[3]))["flows"]
sp = [f for f in flows if f["state"] == "spliced"]
bad = [f.get("snat_port") for f in sp
       if not isinstance(f.get("snat_port"), int)
       or not lo <= f["snat_port"] <= hi]
print("%d %s" % (len(sp), ",".join(map(str, bad)) or "-"))
EOF
)
		[ "${out%% *}" -ge 3 ] 2>/dev/null && break
		sleep 0.1
	done
	if [ "${out%% *}" -ge 3 ] 2>/dev/null && [ "${out#* }" = - ]; then
		ok "$1: ${out%% *} spliced flows, each SNAT port in $2-$3 (snilb flows -o json)"
	else
		bad "$1: spliced flows and SNAT ports outside $2-$3: '$out' $(head -c 300 "$work/flows.err")"
	fi
	at gw "$build/snilb" flows --limit 0 --pin-path "$pin" \
		--status-file "$work/none.json" >"$work/flows.txt" 2>/dev/null
	local port
	port=$(awk 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "SNAT_PORT") c = i }
		    NR > 1 && c && $c ~ /^[0-9]+$/ { print $c; exit }' \
		"$work/flows.txt")
	if [ -n "$port" ] && [ "$port" -ge "$2" ] && [ "$port" -le "$3" ]; then
		ok "$1: snilb flows shows a SNAT_PORT column ($port)"
	else
		bad "$1: no SNAT_PORT in range in snilb flows: $(head -3 "$work/flows.txt")"
	fi
}

# N connections of the gateway's own held open while M clients go through
# the VIP to the same backend; then every one of the N must still work.
collide() {	# NAME N M LO HI
	local name=$1 n=$2 m=$3 open res tw0 tw1
	nodelocal "$n"
	if ! wait_for "^open " "$work/nl.out" 30; then
		bad "$name: the gateway's $n connections did not open"
		return
	fi
	open=$(grep '^open ' "$work/nl.out")
	tw0=$(dp_stat tw_reset)
	slow_downloads
	check_flows "$name" "$4" "$5"
	res=$(at cli timeout 150 python3 "$e2e/clients.py" seq "$m" \
		www.example.com $vip4 2>"$work/clients.err")
	check "$name: $m client connections through the VIP" \
		"ok=$m failed=0 backends=b1:$m" "$res"
	touch "$work/go"
	wait_for "^ok=" "$work/nl.out" 60 >/dev/null
	wait "${dls[@]}"	# their flows gone before the next check
	tw1=$(dp_stat tw_reset)
	echo "     gateway's ports: ${open#open }; tw_reset +$((tw1 - tw0))"
	check "$name: $n connections of the gateway's own to the backend, none reset" \
		"ok=$n reset=0 other=0" "$(grep '^ok=' "$work/nl.out")"
	grep nodelocal "$work/nl.err" | head -3 | sed 's/^/     /'
}

t_default_range() {
	at gw sysctl -qw net.ipv4.ip_local_port_range="32768 60999" \
		net.ipv4.ip_local_reserved_ports=
	start_dp || { bad "A: dpctl"; return; }
	collide "A (default range)" "$nconn" "$mconn" 10000 29999
}

# A range inside the ephemeral ports, reserved: the node skips it.
t_reserved_range() {
	at gw sysctl -qw net.ipv4.ip_local_reserved_ports=40000-40199
	start_dp "snat-ports 40000 40199" ||
		{ bad "B: dpctl with a snat-ports line"; return; }
	collide "B (40000-40199, reserved)" 300 300 40000 40199
}

# --- C: the agent ----------------------------------------------------------

ag() { ip netns exec "$pfx-ag" "$@"; }
agent_args=()
wrap=(env)
agent_setup() {
	ip netns add "$pfx-ag" || return 1
	ag ip link set lo up
	ag ip link add d0 type veth peer name d1	# no dummy module here
	ag ip addr add 198.18.9.1/24 dev d0
	ag ip link set d0 up
	ag ip link set d1 up
	mkdir -p "$work/man"
	agent_args=(agent --manifests "$work/man" --iface d0 --snat 198.18.9.1
		    --pin-path "$work/bpffs/ag" --max-flows 1024
		    --status-file "$work/ag-status.json")
}

reserved() { ag cat "$sysctl_dir/ip_local_reserved_ports"; }

# The agent that must refuse: exit 1 at once, LOG matching, nothing
# attached to d0.
refused() {	# NAME PATTERN AGENT-ARGS...
	local name=$1 pat=$2 rc
	shift 2
	ag timeout 30 "$build/snilb" "${agent_args[@]}" "$@" \
		>"$work/ag.log" 2>&1
	rc=$?
	if [ $rc -eq 1 ] && grep -q -- "$pat" "$work/ag.log" &&
	   [ -z "$(ag tc filter show dev d0 ingress 2>/dev/null)" ]; then
		ok "$name: refused, nothing attached"
		grep -o 'msg=.*' "$work/ag.log" | head -1 | cut -c1-200 |
			sed 's/^/     /'
	else
		bad "$name: exit $rc; $(tail -2 "$work/ag.log")"
	fi
}

# The agent that must start: until "agent running", then stopped. $wrap:
# a command to run it under (the read-only mount below).
started() {	# NAME PATTERN [AGENT-ARGS...]
	local name=$1 pat=$2 apid
	shift 2
	: >"$work/ag.log"
	ag timeout 60 "${wrap[@]}" "$build/snilb" "${agent_args[@]}" "$@" \
		>"$work/ag.log" 2>&1 &
	apid=$!
	pids+=("$apid")
	if wait_for 'msg="agent running"' "$work/ag.log" 30 &&
	   grep -q -- "$pat" "$work/ag.log"; then
		ok "$name"
	else
		bad "$name: $(grep -v 'level=info' "$work/ag.log" | tail -2)"
	fi
	kill "$apid" 2>/dev/null
	wait "$apid" 2>/dev/null
}

usage_error() {	# VALUE WANT-IN-MESSAGE
	local out rc
	out=$(ag "$build/snilb" "${agent_args[@]}" --snat-ports "$1" 2>&1)
	rc=$?
	if [ $rc -eq 2 ] && [[ $out == *"--snat-ports $1: "*"$2"* ]]; then
		ok "--snat-ports $1: usage error ($(head -1 <<<"$out"))"
	else
		bad "--snat-ports $1: exit $rc, '$(head -1 <<<"$out")'"
	fi
}

t_agent() {
	agent_setup || { bad "C: agent namespace"; return; }
	usage_error 5-10 "1024-65535"
	usage_error 30000-20000 "above"
	usage_error 30000 "LO-HI"
	usage_error 1024-65536 "1024-65535"
	# The node's default ephemeral range, nothing reserved.
	ag sysctl -qw net.ipv4.ip_local_reserved_ports=
	refused "--snat-ports 40000-40999 inside ip_local_port_range" \
		"not_reserved=40000-40999" --snat-ports 40000-40999
	check "... and ip_local_reserved_ports left alone" "" "$(reserved)"
	ag sysctl -qw net.ipv4.ip_local_port_range="1024 65535"
	refused "the default range, ip_local_port_range 1024-65535" \
		"ephemeral ports"
	ag sysctl -qw net.ipv4.ip_local_port_range="32768 60999"
	ag sysctl -qw net.ipv4.ip_local_reserved_ports=8080,50000-50010
	started "default range: the agent starts, reserving it" \
		'msg="SNAT ports reserved"'
	check "ip_local_reserved_ports merged, not replaced" \
		"8080,10000-29999,50000-50010" "$(reserved)"
	ag sysctl -qw net.ipv4.ip_local_reserved_ports=40000-40999
	started "40000-40999, reserved beforehand: the agent starts" \
		'msg="SNAT ports reserved already"' --snat-ports 40000-40999
	check "... ip_local_reserved_ports unchanged" "40000-40999" \
		"$(reserved)"
	# A read-only list (as in a container): not fatal for a range the
	# node never picks, with a warning.
	ag sysctl -qw net.ipv4.ip_local_reserved_ports=
	f=$sysctl_dir/ip_local_reserved_ports
	wrap=(unshare -m sh -c "mount --bind $f $f &&
		mount -o remount,bind,ro $f && exec \"\$0\" \"\$@\"")
	started "read-only ip_local_reserved_ports: the agent starts" \
		'msg="cannot reserve the SNAT ports"'
	wrap=(env)
	check "... nothing reserved" "" "$(reserved)"
}

if ! setup; then
	bad "setup"
	echo "$passed passed, $failed failed"
	exit 1
fi
t_agent
t_default_range
t_reserved_range
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
