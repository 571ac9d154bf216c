# shellcheck shell=bash
# The security suite's helpers: counting, polls and timed waits,
# manifests put and taken away, the agent started and stopped, the setup
# and the client loops.
# Sourced by tests/chaos/security.sh, which holds the state and the order
# the checks run in.

cli() { at cli timeout 30 "$@"; }
sn() {	# the CLI, in the gateway namespace
	local c=$1; shift
	at gw timeout 20 "$build/snilb" "$c" --pin-path "$pin" \
		--status-file "$status" "$@"
}

skip() { skipped=$((skipped + 1)); echo "skip $*"; }
check() {	# NAME EXPECTED GOT
	if [ "$2" = "$3" ]; then ok "$1: $3"; else bad "$1: want '$2', got '$3'"; fi
}


# Poll HOST until it answers WANT, at most LIMIT ms after T0; $ms: the
# time from T0 to that answer (or to giving up), $got the last answer.
# poll WANT HOST T0 [LIMIT_MS]: until HOST's answer is WANT (alternatives
# a|b allowed), LIMIT_MS (default 30 s: a busy machine's worth) after T0 at
# most; $got the last answer, $ms when.
poll() {
	while :; do
		got=$(TMO=1 get "$2")
		ms=$(ms_since "$3")
		[[ $got =~ ^($1)$ ]] && return 0
		[ "$ms" -gt "${4:-30000}" ] && break
		sleep 0.02
	done
	return 1
}
# poll, reported: NAME WANT HOST AIM_MS [T0]. The time is measured, not
# asserted: what is awaited may take up to 30 s on a busy machine (or
# AIM_MS when longer); the report says how long it took against the aim.
timed() {
	local t0=${5:-$EPOCHREALTIME} limit=$(($4 > 30000 ? $4 : 30000))
	if poll "$2" "$3" "$t0" "$limit"; then
		ok "$1: $3 -> $2 in $ms ms (aim $4 ms)"
	else
		bad "$1: $3 not -> $2 within $limit ms (last answer '$got')"
	fi
}

logn() { grep -cF -- "$1" "${2:-$alog}"; }
# wait_log FIXED-STRING COUNT [TENTHS] [FILE]: until more than COUNT such
# lines; TENTHS of a second, or 30 s when longer (a busy machine's worth).
wait_log() {
	local secs=$((${3:-30} / 10 > 30 ? ${3:-30} / 10 : 30))
	local end=$((SECONDS + secs))
	while [ $SECONDS -lt $end ]; do
		[ "$(logn "$1" "${4:-$alog}")" -gt "$2" ] && return 0
		sleep 0.1
	done
	echo "     gave up after $secs s waiting for a line with '$1' past $2"
	return 1
}
synced() { logn "msg=synced"; }
# Write stdin to FILE (by rename, hidden temporary) and wait for a sync.
put() {	# FILE
	local n0
	n0=$(synced)
	cat >"$man/.put.tmp" && mv "$man/.put.tmp" "$1"
	wait_log msg=synced "$n0" 30 || echo "     (no sync after writing $1)"
}
unput() {	# FILE
	local n0
	n0=$(synced)
	rm -f "$1"
	wait_log msg=synced "$n0" 30 || echo "     (no sync after removing $1)"
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

# The condition TYPE of route NS/NAME in the status file, "Status/Reason"
# (of its first parent that has it), or "none".
rcond() {	# NS/NAME TYPE
	python3 - "$status" "$1" "$2" <<'EOF' 2>/dev/null || echo unreadable
import json, sys
d = json.load(open(sys.argv[1]))
ns, name = sys.argv[2].split("/")
for r in d.get("routes", []):
    if r.get("namespace") == ns and r.get("name") == name:
        for p in r.get("parents", []):
            for c in p.get("conditions", []):
                if c.get("type") == sys.argv[3]:
                    print("%s/%s" % (c.get("status"), c.get("reason")))
                    sys.exit()
print("none")
EOF
}
# `snilb routes -o json`: ROUTE|NOTE|CONDITIONS of the entry for HOST on
# listener 0 that is not shadowed (or the shadowed ones with SHADOWED=1),
# one line each.
rentry() {	# HOST
	sn routes -o json | python3 -c '
import json, os, sys
for r in json.load(sys.stdin)["routes"]:
    if r["hostname"] == sys.argv[1] and r["listener"] == 0:
        print("%s|%s|%s" % (r["route"], r.get("note") or "", r["conditions"]))
' "$1" 2>/dev/null | sort
}

start_agent() {	# [EXTRA AGENT ARGS...] (default: the manifests)
	local n
	n=$(logn 'msg="agent running"')
	[ $# -gt 0 ] || set -- --manifests "$man"
	# Not through at(): $! must be the agent itself, for the signals.
	ip netns exec "$pfx-gw" "$build/snilb" agent "$@" \
		--iface g0,br0 --snat 198.18.2.1 --snat 2001:db8:2::1 \
		--pin-path "$pin" --status-file "$status" \
		--metrics-listen "127.0.0.1:$mport" >>"$alog" 2>&1 &
	agent=$!
	pids+=("$agent")
	local i
	for i in $(seq 300); do
		[ "$(logn 'msg="agent running"')" -gt "$n" ] && return 0
		kill -0 "$agent" 2>/dev/null || break
		sleep 0.1
	done
	if ! kill -0 "$agent" 2>/dev/null; then
		wait "$agent"
		agent_exit=$?
		echo "     the agent exited with status $agent_exit$([ "$agent_exit" -gt 128 ] && echo " (signal $((agent_exit - 128)))") before 'agent running'; its last lines:"
	fi
	tail -5 "$alog" | sed 's/^/       /'
	return 1
}
stop_agent() {	# SIGNAL
	kill "-$1" "$agent" 2>/dev/null
	local i
	for i in $(seq 50); do kill -0 "$agent" 2>/dev/null || break; sleep 0.1; done
	kill -9 "$agent" 2>/dev/null
	wait "$agent" 2>/dev/null
}

setup() {
	"$e2e/topo.sh" up "$pfx" || return 1
	mkdir -p "$man"
	cp "$top"/examples/*.yaml "$man/"
	# shop/www gets a creationTimestamp, so a newer route claiming its
	# name is ordered by time (t_hostnames).
	sed -i '/^  name: www$/{n;/^  namespace: shop$/a\
  creationTimestamp: "2024-01-01T00:00:00Z"
}' "$man/10-shop.yaml"
	: >"$alog"
	start_example_backends || return 1
	start_agent || return 1
	for b in b1 b2 b3 blue-1 blue-2 green-1; do
		wait_for listening "$work/$b.log" || return 1
	done
	local i
	for i in $(seq 50); do
		[ "$(get www.example.com)" = b1 ] && return 0
		sleep 0.1
	done
	echo "     www.example.com not routed 5 s after the start"
}

# Client loops in the client namespace (tests/e2e/loop.sh): start_loops
# NAME DUR MAX HOST...; $loops: their pids, $work/NAME.N: their records.
start_loops() {
	local name=$1 dur=$2 max=$3 i=0 h
	shift 3
	loops=()
	for h in "$@"; do
		i=$((i + 1))
		at cli timeout $((dur + 20)) bash "$e2e/loop.sh" "$h" "$dur" \
			"$max" "$work/$name.$i" &
		loops+=($!)
		pids+=($!)
	done
}
# "TOTAL FAILED OTHER counts" over loop records; OTHER: answers not
# matching the regex ALLOWED.
loop_report() {	# ALLOWED FILES...
	local re=$1
	shift
	awk -v re="^($re)\$" '
	{ n++; if ($2 != 0 || $3 == "") { fail++; next }
	  c[$3]++; if ($3 !~ re) other++ }
	END { s = ""; for (k in c) s = s k ":" c[k] " "
	  printf "%d %d %d %s\n", n, fail + 0, other + 0, s }' "$@"
}
