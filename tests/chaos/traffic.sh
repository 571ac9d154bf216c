#!/usr/bin/env bash
# Chaos suite: real traffic through `snilb agent` (on a copy of examples/
# plus the routes of tests/chaos, see chaos_manifest) in the end-to-end
# topology (tests/e2e/topo.sh), with faults injected. Each scenario prints
# its pass criterion as a figure:
#   t_synflood   spoofed SYN flood at the VIP while curl loops connect
#   t_slow       silent and byte-a-second clients, reset by the timeout
#   t_hostile    hostile and mutated hellos: RST or the right route, never
#                a hang, never another name's backend (recording sinks)
#   t_backends   a backend killed mid-download, one refusing, all gone
#   t_pressure   more handshakes holding hello buffers than the table has
# Usage: tests/chaos/traffic.sh BUILD_DIR [--quick]   (ONLY=t_slow: one
# scenario; KEEP=1: keep the namespaces, prefix printed; XDP=1: the agent
# with --xdp auto, SYNs answered in XDP on g0). See docs/chaos.md.
set -uo pipefail
export LC_ALL=C	# $EPOCHREALTIME with a dot

build=$(cd "${1:-build}" && pwd)
quick=
[ "${2:-}" = --quick ] && quick=1
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/lib.sh"
e2e=$(cd "$here/../e2e" && pwd)
top=$(cd "$here/../.." && pwd)
if [ "$(id -u)" -ne 0 ]; then
	echo "chaos traffic: skipped: network namespaces and BPF need root"
	echo "0 passed, 0 failed, 1 skipped (not root)"
	exit 0
fi

pfx=ct$$
work=$(mktemp -d /tmp/snilb-chaos.XXXXXX)
mkdir -p "$work/bpffs" "$work/sinks"
mount -t bpf bpf "$work/bpffs"
pin=$work/bpffs/snilb
status=$work/status.json
man=$work/manifests
alog=$work/agent.log
hello_tmo=2000		# ms: short, so the timeout scenarios are quick
pids=()
declare -A sinkpid
agent=
passed=0 failed=0 skipped=0 skipwhy=
vip4=198.18.0.10
CORPUS=${CORPUS:-$(cd "$top/.." && pwd)/shared/corpus}

trap cleanup EXIT

cli() { at cli timeout 60 "$@"; }
sn() {
	local c=$1; shift
	at gw timeout 20 "$build/snilb" "$c" --pin-path "$pin" \
		--status-file "$status" "$@"
}

skip() { skipped=$((skipped + 1)); skipwhy="$skipwhy; $1"; echo "skip $1"; }
# cond NAME PYTHON-BOOLEAN: ok if it holds
cond() {
	if python3 -c "import sys; sys.exit(0 if ($2) else 1)" 2>/dev/null; then
		ok "$1"
	else
		bad "$1"
	fi
}


wait_for() {	# PATTERN FILE
	for _ in $(seq 50); do
		grep -q "$1" "$2" && return 0
		sleep 0.1
	done
	cat "$2"
	return 1
}
logn() { grep -cF -- "$1" "$alog"; }
# wait_log FIXED-STRING COUNT [TENTHS]: until more than COUNT such lines;
# TENTHS of a second, or 30 s when longer (a busy machine's worth).
wait_log() {
	local secs=$((${3:-30} / 10 > 30 ? ${3:-30} / 10 : 30))
	local end=$((SECONDS + secs))
	while [ $SECONDS -lt $end ]; do
		[ "$(logn "$1")" -gt "$2" ] && return 0
		sleep 0.1
	done
	echo "     gave up after $secs s waiting for a line with '$1' past $2"
	return 1
}

# Counters and fill levels. stat NAME: a global counter (stats -o json);
# fill MAP: entries in flows/hellos (status -o json); hellos counts the
# hello buffers of both sizes (hellos_small too).
stats_json() { sn stats -o json; }
stat() {
	stats_json | python3 -c '
import json, sys
d = json.load(sys.stdin)
print(d["global"].get(sys.argv[1], 0))' "$1"
}
fill() {
	sn status -o json | python3 -c '
import json, sys
d = json.load(sys.stdin)["maps"]
n = d[sys.argv[1]]["entries"]
if sys.argv[1] == "hellos":
	n += d["hellos_small"]["entries"]
print(n)' "$1"
}
# The global counters that moved between two stats -o json files.
moved() {	# BEFORE AFTER
	python3 -c '
import json, sys
a = json.load(open(sys.argv[1]))["global"]
b = json.load(open(sys.argv[2]))["global"]
print(" ".join("%s+%d" % (k, b[k] - a.get(k, 0)) for k in b
               if b[k] != a.get(k, 0) and not k.startswith("fwd")))' "$1" "$2"
}
# A route's counter: rstat NS/NAME FIELD
rstat() {
	stats_json | python3 -c '
import json, sys
d = json.load(sys.stdin)
for r in d["routes"]:
    if r["route"] == sys.argv[1]:
        print(r.get(sys.argv[2], 0)); break
else:
    print(0)' "$1" "$2"
}

# The routes of this suite, beside examples/: recording sinks (sink.py)
# on their own ports of b1..b3. NAME HOSTNAME PORT ADDR...
chaos_route() { yaml_route chaos "$@"; }

chaos_manifest() {	# [RETRY-ADDRS]: the endpoints of retry.example.com
	cat <<'EOF2'
apiVersion: v1
kind: Namespace
metadata:
  name: chaos
  labels: {snilb.io/gateway-access: "true"}
EOF2
	chaos_route s1 s1.example.com 7001 198.18.2.11
	chaos_route w '*.w.example.com' 7002 198.18.2.12
	chaos_route s3 s3.example.com 7003 198.18.2.13
	chaos_route z z.w.example.com 7004 198.18.2.13
	chaos_route stream stream.example.com 7005 198.18.2.13
	# shellcheck disable=SC2086
	chaos_route retry retry.example.com 7010 ${1-198.18.2.11 198.18.2.12}
}

# A sink: NAME NS PORT [--stream]
start_sink() {
	local name=$1 ns=$2 port=$3
	shift 3
	ip netns exec "$pfx-$ns" python3 "$here/sink.py" --name "$name" \
		--port "$port" --dir "$work/sinks" "$@" \
		>"$work/sink-$name.out" 2>&1 &
	sinkpid[$name]=$!
	pids+=($!)
	wait_for listening "$work/sink-$name.out"
}

start_agent() {
	local n
	n=$(logn 'msg="agent running"')
	ip netns exec "$pfx-gw" "$build/snilb" agent --manifests "$man" \
		--iface g0,br0 --snat 198.18.2.1 --snat 2001:db8:2::1 \
		--pin-path "$pin" --status-file "$status" \
		--hello-timeout "$hello_tmo" ${XDP:+--xdp auto} \
		>>"$alog" 2>&1 &
	agent=$!
	pids+=("$agent")
	wait_log 'msg="agent running"' "$n" 300 && return 0
	tail -5 "$alog"
	return 1
}

setup() {
	"$e2e/topo.sh" up "$pfx" || return 1
	# XDP=1: SYNs answered by the XDP program on g0 (a veth sends what
	# XDP_TX returns only to a peer that runs XDP too: a pass on c0).
	if [ -n "${XDP:-}" ]; then
		at cli ip link set dev c0 xdpdrv obj "$build/xdp_pass.bpf.o" \
			sec xdp || return 1
	fi
	mkdir -p "$man"
	cp "$top"/examples/*.yaml "$man/"
	chaos_manifest >"$man/50-chaos.yaml"
	: >"$alog"
	local b
	for b in b1 b2 b3; do
		openssl req -x509 -newkey ec \
			-pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
			-subj "/CN=$b" -keyout "$work/$b.key" \
			-out "$work/$b.crt" 2>/dev/null || return 1
		ip netns exec "$pfx-$b" python3 "$e2e/backend.py" --name "$b" \
			--cert "$work/$b.crt" --key "$work/$b.key" \
			>"$work/$b.log" 2>&1 &
		pids+=($!)
	done
	start_sink s1 b1 7001 && start_sink w b2 7002 &&
	start_sink s3 b3 7003 && start_sink z b3 7004 &&
	start_sink ra b1 7010 && start_sink rb b2 7010 || return 1
	start_agent || return 1
	for b in b1 b2 b3; do
		wait_for listening "$work/$b.log" || return 1
	done
}

# Wait until flows and hellos are back to BASE-FLOWS BASE-HELLOS, at most
# SECONDS; prints "FLOWS HELLOS MS" (ms from T0).
# peak FLOWS HELLOS PID: the fills at their highest while PID runs (a
# client whose connections take a busy machine seconds to open), polled
# until both reach the targets given; prints "FLOWS HELLOS".
peak() {
	local f h mf=0 mh=0
	while kill -0 "$3" 2>/dev/null; do
		f=$(fill flows) h=$(fill hellos)
		[ "${f:-0}" -gt "$mf" ] && mf=$f
		[ "${h:-0}" -gt "$mh" ] && mh=$h
		[ "$mf" -ge "$1" ] && [ "$mh" -ge "$2" ] && break
		sleep 0.1
	done
	echo "$mf $mh"
}

# settle BASE-FLOWS BASE-HELLOS SECONDS T0: poll the fills until they are
# back to the bases, SECONDS or 30 s at most (a busy machine's timeouts
# run late); prints "FLOWS HELLOS MS_SINCE_T0".
settle() {
	local f h end=$((SECONDS + ($3 > 30 ? $3 : 30)))
	while :; do
		f=$(fill flows) h=$(fill hellos)
		[ "$f" -le "$1" ] && [ "$h" -le "$2" ] && break
		if [ $SECONDS -ge $end ]; then
			echo "     gave up waiting for flows <= $1, hellos <= $2 ($f, $h)" >&2
			break
		fi
		sleep 0.1
	done
	echo "$f $h $(ms_since "$4")"
}

# Client loops (tests/e2e/loop.sh) in the client namespace: start_loops
# NAME DUR MAX HOST...; $loops are their pids, $work/NAME.N their records.
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

# 1. A spoofed SYN flood at the VIP while real clients connect.
t_synflood() {
	local n=200000 secs=10 rate=20000 f0 h0 f1 h1 f2 h2 syn0 syn1 out
	local tot okn ms sent sx0 sx1
	[ -n "$quick" ] && n=40000 secs=4 rate=10000
	[ -x "$build/synflood" ] || { bad "synflood: $build/synflood missing"; return; }
	f0=$(fill flows) h0=$(fill hellos) syn0=$(stat syn) sx0=$(stat syn_xdp)
	start_loops flood $((secs + 1)) 2000 www.example.com api.example.com \
		www.example.com api.example.com
	sleep 0.5
	at cli "$build/synflood" -d $vip4 -p 443 -s 198.18.64.0/18 \
		-r "$rate" -n "$n" -t "$secs" -S $$ >"$work/synflood.out" 2>&1 &
	local fpid=$!
	pids+=("$fpid")
	sleep $((secs / 2))
	f1=$(fill flows) h1=$(fill hellos)
	wait "$fpid"
	out=$(cat "$work/synflood.out")
	wait "${loops[@]}"
	syn1=$(stat syn) sx1=$(stat syn_xdp)
	read -r f2 h2 ms <<<"$(settle "$f0" "$h0" 5 "$EPOCHREALTIME")"
	read -r tot okn <<<"$(cat "$work"/flood.* | awk '
		{ n++; if ($2 == 0 && ($3 == "b1" || $3 == "b2")) k++ }
		END { print n + 0, k + 0 }')"
	echo "     flood: $out; SYNs answered by the data plane: $((syn1 - syn0))"
	echo "     flows before/during/after: $f0/$f1/$f2, hellos: $h0/$h1/$h2"
	echo "     real clients: $okn of $tot requests answered by the right backend$(cat "$work"/flood.* | awk '$2 != 0 || ($3 != "b1" && $3 != "b2") { printf " [curl %s %s]", $2, $3 }')"
	cond "SYN flood: real clients' success ratio $okn/$tot >= 99%" \
		"$tot >= 20 and $okn * 100 >= $tot * 99"
	sent=$(sed -n 's/^sent \([0-9]*\) .*/\1/p' <<<"$out")
	cond "SYN flood: ${sent:-no} spoofed SYNs sent ($out), $((syn1 - syn0)) answered with a cookie" \
		"${sent:-0} > 0 and $((syn1 - syn0)) >= ${sent:-1} * 0.95"
	# Only the real clients' connections (4 loops: a few at a time).
	cond "SYN flood: flows did not grow with the flood ($f0 -> $f1 -> $f2, +16 allowed for the loops)" \
		"$f1 <= $f0 + 16 and $f2 <= $f0"
	cond "SYN flood: hellos did not grow with the flood ($h0 -> $h1 -> $h2)" \
		"$h1 <= $h0 + 16 and $h2 <= $h0"
	if [ -n "${XDP:-}" ]; then
		sn status | grep -q "xdp native" ||
			bad "SYN flood: XDP=1 but g0 has no native XDP: $(sn status | grep interfaces)"
		cond "SYN flood (XDP): $((sx1 - sx0)) SYNs answered in XDP, of ${sent:-no} sent" \
			"$((sx1 - sx0)) >= ${sent:-1} * 0.95"
		xdp_restart
	fi
}

# XDP=1: an agent restarted adopts the data plane and puts its XDP
# program in place of the earlier one's (another id, still native); a
# client connects through it; --xdp off then removes it.
xdp_restart() {
	local id0 id1 r sx0
	id0=$(sn status | sed -n 's/.*xdp native (prog id \([0-9]*\)).*/\1/p' | head -1)
	kill "$agent"
	wait "$agent" 2>/dev/null
	start_agent || { bad "XDP: the agent did not start again"; return; }
	id1=$(sn status | sed -n 's/.*xdp native (prog id \([0-9]*\)).*/\1/p' | head -1)
	cond "XDP: restarted agent's program native in place of the first's (id ${id0:-none} -> ${id1:-none})" \
		"'${id0}' != '' and '${id1}' != '' and '${id0}' != '${id1}'"
	sx0=$(stat syn_xdp)
	r=$(get www.example.com)
	cond "XDP: a client through the restarted agent's XDP ($r)" \
		"'$r' in ('b1', 'b2')"
	cond "XDP: its SYN answered in XDP" "$(stat syn_xdp) > $sx0"
	# --xdp off (the default): the restarted agent removes ours.
	kill "$agent"
	wait "$agent" 2>/dev/null
	XDP= start_agent || { bad "XDP: the agent (--xdp off) did not start"; return; }
	sx0=$(stat syn_xdp)
	cond "XDP: --xdp off removed it ($(sn status | grep -o 'xdp [a-z]*' | head -1))" \
		"$(at gw ip -d link show g0 | grep -c 'prog/xdp') == 0"
	r=$(get www.example.com)
	cond "XDP: off, a client served by TC ($r)" \
		"'$r' in ('b1', 'b2') and $(stat syn_xdp) == $sx0"
}

# 2. Slow clients: N silent after the handshake, N sending a hello a byte
# a second; all reset by the handshake timeout, the tables back to where
# they were.
t_slow() {
	local n=50 f0 h0 f1 h1 f2 h2 ms out t0 line
	[ -n "$quick" ] && n=20
	f0=$(fill flows) h0=$(fill hellos)
	stats_json >"$work/sstats0.json"
	t0=$EPOCHREALTIME
	cli python3 "$here/tcpchaos.py" slow $vip4 s1.example.com "$n" \
		$((hello_tmo / 1000 + 5)) >"$work/slow.out" 2>&1 &
	local sp=$!
	read -r f1 h1 <<<"$(peak $((f0 + 2 * n)) $((h0 + n)) "$sp")"
	wait "$sp"
	read -r f2 h2 ms <<<"$(settle "$f0" "$h0" 6 "$t0")"
	stats_json >"$work/sstats1.json"
	echo "     flows before/during/after: $f0/$f1/$f2, hellos: $h0/$h1/$h2 (hello timeout $hello_tmo ms)"
	echo "     counters that moved: $(moved "$work/sstats0.json" "$work/sstats1.json")"
	sed 's/^/     /' "$work/slow.out"
	for k in silent byte-a-second; do
		line=$(grep "^$k " "$work/slow.out")
		out=$(sed 's/.* reset=\([0-9]*\) other=\([0-9]*\) .*max_ms=\(-*[0-9]*\).*/\1 \2 \3/' <<<"$line")
		set -- $out
		# The reaper's 1 s tick after the timeout, and 3 s for a busy
		# machine.
		cond "slow clients: $k: ${1:-?} of $n reset (max ${3:-?} ms after the handshake, limit $((hello_tmo + 4000)) ms), ${2:-?} other" \
			"'${1:-x}' == '$n' and ${3:--1} <= $((hello_tmo + 4000)) and ${3:--1} >= $((hello_tmo - 100))"
	done
	cond "slow clients: tables filled during ($f1 flows >= $((f0 + 2 * n)), $h1 hellos >= $((h0 + n)))" \
		"$f1 >= $f0 + 2 * $n and $h1 >= $h0 + $n"
	# The RSTs of expired handshakes, by reason (docs/dataplane.md,
	# Counters: "RSTs by reason (..., timeout, ...)").
	local rt lt
	rt=$(python3 -c '
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:3])
g = b["global"]["reject_timeout"] - a["global"]["reject_timeout"]
l = sum(x["rejected"]["timeout"] for x in b["listeners"]) - \
    sum(x["rejected"]["timeout"] for x in a["listeners"])
print(g, l)' "$work/sstats0.json" "$work/sstats1.json")
	read -r rt lt <<<"$rt"
	check "slow clients: RSTs by the timeout counted (reject_timeout, listener rejected.timeout)" \
		"$((2 * n)) $((2 * n))" "$rt $lt"
	cond "slow clients: tables back to baseline ($f2 flows, $h2 hellos) $ms ms after the start" \
		"$f2 <= $f0 and $h2 <= $h0"
}

# 3. Hostile hellos and mutations of real ones.
t_hostile() {
	local nmut=1000 hellos out fig sinks mark
	[ -n "$quick" ] && nmut=200
	hellos=$(ls "$CORPUS"/hello/*.bin 2>/dev/null)
	if [ -z "$hellos" ]; then
		[ -f "$build/hellos/.done" ] || "$top/tests/capture-hellos.sh" \
			"$build/hellos" >/dev/null 2>&1
		hellos=$(ls "$build"/hellos/*.bin 2>/dev/null)
		echo "     (no corpus at ${CORPUS:-}: mutating build/hellos)"
	fi
	mkdir -p "$work/hostile"
	mark=$work/hostile/.mark
	touch "$mark"
	stats_json >"$work/hstats0.json"
	sleep 0.01
	local t0=$EPOCHREALTIME
	# shellcheck disable=SC2086
	out=$(at cli timeout 300 python3 "$here/tcpchaos.py" hostile $vip4 \
		"$work/hostile" "$$" "$nmut" $((hello_tmo / 1000 + 4)) $hellos 2>&1)
	echo "     $out in $(ms_since "$t0") ms"
	# The sinks write after 0.3 s of quiet: their files, once their
	# number has held for 1 s (30 s at most, a busy machine's worth).
	sinks=$(stable 30 find "$work/sinks" -name '*.bin' -newer "$mark")
	stats_json >"$work/hstats1.json"
	echo "     counters that moved: $(moved "$work/hstats0.json" "$work/hstats1.json")"
	# shellcheck disable=SC2086
	fig=$(python3 "$here/verdict.py" "$build/snilb" "$work/hostile" $sinks)
	sed 's/^/     /' <<<"$fig"
	local l=${fig%%$'\n'*}
	val() { sed -n "s/.*\b$1=\([0-9]*\).*/\1/p" <<<"$l"; }
	check "hostile hellos: connections neither reset nor routed (hangs, other ends) among $(val connections)" 0 "$(val other)"
	check "hostile hellos: routed to a backend of another name (client side, $(val routed) routed)" 0 "$(val wrong_route)"
	check "hostile hellos: payloads at a sink whose SNI is not routed there ($(val sink_payloads) received)" 0 "$(val sink_wrong)"
	check "hostile hellos: sink payloads not byte-exact what a client sent" 0 "$(val sink_altered)"
	check "hostile hellos: reset although the parser routes them to a live sink" 0 "$(val reset_but_routable)"
	cond "hostile hellos: every connection ended within $(( hello_tmo + 3000 )) ms (max $(val max_ms) ms)" \
		"$(val max_ms) <= $((hello_tmo + 3000))"
	local f h
	read -r f h _ <<<"$(settle 0 0 4 "$EPOCHREALTIME")"
	check "hostile hellos: no flow or hello buffer left behind" "0 0" "$f $h"
}

# stable SECONDS CMD...: CMD's sorted output once it has not changed for
# 1 s, polled for at most SECONDS; says so when it never settled.
stable() {
	local end=$((SECONDS + $1)) last="" cur since=$EPOCHREALTIME
	shift
	while :; do
		cur=$("$@" | sort)
		if [ "$cur" != "$last" ]; then
			last=$cur since=$EPOCHREALTIME
		elif [ "$(ms_since "$since")" -ge 1000 ]; then
			break
		fi
		if [ $SECONDS -ge $end ]; then
			echo "     gave up waiting for '$*' to settle" >&2
			break
		fi
		sleep 0.1
	done
	echo "$last"
}

# One raw connection with a real hello for HOST: "OUTCOME MS".
one() {	# HOST
	cli python3 -c '
import sys; sys.path.insert(0, sys.argv[1])
import tcpchaos as t
o, ms = t.run_one(sys.argv[2], t.build_hello(sys.argv[3]), 6)
print(o, ms)' "$here" $vip4 "$1"
}
# N connections: "routed:X=K ..." sorted
many() {	# HOST N
	cli python3 -c '
import sys, collections; sys.path.insert(0, sys.argv[1])
import tcpchaos as t
c = collections.Counter(t.run_one(sys.argv[2], t.build_hello(sys.argv[3]), 6)[0]
                        for _ in range(int(sys.argv[4])))
print(" ".join("%s=%d" % kv for kv in sorted(c.items())))' "$here" $vip4 "$1" "$2"
}

# 4. Backend faults.
t_backends() {
	local n=30 line t_kill t_end d r0 r1 nb0 nb1 rn0 rn1 got ms before
	[ -n "$quick" ] && n=15
	# (a) The backend of a download killed mid-flow.
	start_sink stream b3 7005 --stream --rate 4000000 --max-seconds 40 ||
		{ bad "stream sink did not start"; return; }
	cli python3 "$here/tcpchaos.py" stream $vip4 stream.example.com 30 \
		>"$work/stream.out" 2>&1 &
	local sp=$!
	pids+=("$sp")
	wait_for connected "$work/stream.out" >/dev/null
	sleep 1.5
	t_kill=$EPOCHREALTIME
	kill -9 "${sinkpid[stream]}"
	wait "${sinkpid[stream]}" 2>/dev/null
	wait "$sp"
	line=$(tail -1 "$work/stream.out")
	echo "     stream client: $line"
	t_end=$(sed -n 's/.* t_end=\([0-9.]*\) .*/\1/p' <<<"$line")
	d=$(python3 -c "print(int(($t_end - $t_kill) * 1000))" 2>/dev/null || echo 99999)
	case $line in
	*"ok=1 end=fin"*|*"ok=1 end=reset"*)
		# At once, not by the idle timeout: 10 s allows a busy machine.
		cond "backend killed mid-download: the client saw the end ($(sed 's/.* end=\([a-z]*\).*/\1/' <<<"$line")) $d ms after the kill (< 10000), $(sed 's/^bytes=\([0-9]*\).*/\1/' <<<"$line") bytes byte-exact before it" \
			"$d < 10000" ;;
	*) bad "backend killed mid-download: $line" ;;
	esac

	# (b) One of two backends of retry.example.com refusing.
	got=$(many retry.example.com 20)
	case $got in
	*routed:ra=*routed:rb=*) ok "retry.example.com, both up: $got" ;;
	*) bad "retry.example.com, both up: want ra and rb, got $got" ;;
	esac
	kill "${sinkpid[ra]}"
	wait "${sinkpid[ra]}" 2>/dev/null
	r0=$(stat bind_retry) rn0=$(rstat chaos/retry retries)
	got=$(many retry.example.com "$n")
	r1=$(stat bind_retry) rn1=$(rstat chaos/retry retries)
	check "one backend refusing (b1:7010 closed): $n new connections, all to rb" \
		"routed:rb=$n" "$got"
	cond "one backend refusing: bind_retry +$((r1 - r0)), chaos/retry retries +$((rn1 - rn0))" \
		"$((r1 - r0)) > 0 and $((rn1 - rn0)) > 0"

	# (c) Every backend of the route gone: both ports closed ...
	kill "${sinkpid[rb]}"
	wait "${sinkpid[rb]}" 2>/dev/null
	nb0=$(stat reject_no_backend) rn0=$(rstat chaos/retry no_backend)
	read -r got ms <<<"$(one retry.example.com)"
	nb1=$(stat reject_no_backend) rn1=$(rstat chaos/retry no_backend)
	cond "all backends refusing: client got '$got' in $ms ms (want reset < $hello_tmo: before the hello timeout), no_backend +$((nb1 - nb0)) (route +$((rn1 - rn0)))" \
		"'$got' == 'reset' and $ms < $hello_tmo and $((nb1 - nb0)) > 0 and $((rn1 - rn0)) > 0"
	# ... and no endpoint at all (the EndpointSlice emptied).
	before=$(logn msg=synced)
	chaos_manifest "" >"$work/50-chaos.yaml"
	mv "$work/50-chaos.yaml" "$man/50-chaos.yaml"
	wait_log msg=synced "$before" 30 || echo "     (no sync seen)"
	nb0=$(stat reject_no_backend) rn0=$(rstat chaos/retry no_backend)
	read -r got ms <<<"$(one retry.example.com)"
	nb1=$(stat reject_no_backend) rn1=$(rstat chaos/retry no_backend)
	cond "no endpoints left: client got '$got' in $ms ms (want reset < $hello_tmo: before the hello timeout), no_backend +$((nb1 - nb0)) (route +$((rn1 - rn0)))" \
		"'$got' == 'reset' and $ms < $hello_tmo and $((nb1 - nb0)) > 0 and $((rn1 - rn0)) > 0"
	# Back as it was.
	start_sink ra b1 7010 && start_sink rb b2 7010
	before=$(logn msg=synced)
	chaos_manifest >"$work/50-chaos.yaml"
	mv "$work/50-chaos.yaml" "$man/50-chaos.yaml"
	wait_log msg=synced "$before" 30
	check "endpoints back: retry.example.com answered" 1 \
		"$(one retry.example.com | grep -c '^routed:r[ab] ')"
}

# 5. More handshakes holding a hello buffer than the hellos table has
# entries, during a download; a connection while they hold it; new
# connections once they are gone.
t_pressure() {
	local n=4500 tf0 tf1 h0 h1 f2 h2 ms out probe t0 fast early want got
	local mb=12
	h0=$(fill hellos)
	tf0=$(stat reject_table_full)
	stats_json >"$work/pstats0.json"
	cli curl -sk --max-time 60 --limit-rate 2M \
		--resolve www.example.com:443:$vip4 -D "$work/pdl.h" \
		-o "$work/pdl.body" "https://www.example.com/bytes/$((mb << 20))" &
	local dl=$!
	pids+=("$dl")
	sleep 1
	t0=$EPOCHREALTIME
	(ulimit -n 16384; at cli timeout 60 python3 "$here/tcpchaos.py" \
		pressure $vip4 s1.example.com "$n" $((hello_tmo / 1000 + 5))) \
		>"$work/pressure.out" 2>&1 &
	local pp=$!
	pids+=("$pp")
	read -r _ h1 <<<"$(peak 0 4000 "$pp")"
	probe=$(TMO=10 get www.example.com)
	wait "$pp"
	out=$(cat "$work/pressure.out")
	tf1=$(stat reject_table_full)
	read -r f2 h2 ms <<<"$(settle 1 "$h0" 6 "$t0")"
	stats_json >"$work/pstats1.json"
	echo "     counters that moved: $(moved "$work/pstats0.json" "$work/pstats1.json")"
	echo "     $out"
	echo "     hellos before/during/after: $h0/$h1/$h2 (max 4096), table_full +$((tf1 - tf0)); a curl during the load: $probe"
	fast=$(sed -n 's/.* reset_fast=\([0-9]*\) .*/\1/p' <<<"$out")
	early=$(sed -n 's/.* reset_before_send=\([0-9]*\) .*/\1/p' <<<"$out")
	# reset_before_send: handshakes this client (one Python thread on a
	# shared machine) did not get to within the hello timeout; they hold
	# no hello buffer and end by the timeout, as they should.
	cond "pressure: $n connections all ended in an RST: $(grep -o 'reset_fast=[0-9]* reset_timeout=[0-9]*' <<<"$out") reset_before_send=${early:-?}, other 0" \
		"'$(sed -n 's/.* other=\([0-9]*\).*/\1/p' <<<"$out")' == '0'"
	cond "pressure: hellos table full during the load ($h1 >= 4000)" "$h1 >= 4000"
	cond "pressure: the extra ones reset at once (${fast:-?} + ${early:-?} early >= $((n - 4096)), ${fast:-?} > 0), table_full +$((tf1 - tf0)) >= ${fast:-?}" \
		"${fast:-0} > 0 and ${fast:-0} + ${early:-0} >= $((n - 4096)) and $((tf1 - tf0)) >= ${fast:-1}"
	cond "pressure: hellos table back to $h0 ($h2) $ms ms after the load started" "$h2 <= $h0"
	# The held hellos fill hellos_small; a hello whole in its segment
	# goes to hellos, which they cannot take.
	check "pressure: a connection made during the load is served" b1 "$probe"
	wait "$dl"
	want=$(sed -n 's/^X-SHA256: *\([0-9a-f]*\).*/\1/p' "$work/pdl.h")
	got=$(sha256sum "$work/pdl.body" | cut -d' ' -f1)
	if [ -n "$want" ] && [ "$want" = "$got" ]; then
		ok "pressure: the $mb MB download across the load is byte-exact"
	else
		bad "pressure: download across the load: $(stat -c %s "$work/pdl.body" 2>/dev/null) bytes, sha $got, want '$want'"
	fi
	check "pressure: 20 new connections after the load" \
		"ok=20 failed=0 backends=b1:20" \
		"$(at cli timeout 150 python3 "$e2e/clients.py" seq 20 www.example.com $vip4)"
}

t0_all=$EPOCHREALTIME
if ! setup; then
	bad "setup"
	echo "$passed passed, $failed failed"
	exit 1
fi
if [ -n "${ONLY:-}" ]; then
	for t in $ONLY; do "$t"; done
else
	for t in t_synflood t_slow t_hostile t_backends t_pressure; do
		echo "== $t"
		"$t"
	done
fi
echo "chaos traffic${quick:+ (quick)}: $(ms_since "$t0_all") ms"
if [ "$skipped" -gt 0 ]; then
	echo "$passed passed, $failed failed, $skipped skipped (${skipwhy#; })"
else
	echo "$passed passed, $failed failed"
fi
[ "$failed" -eq 0 ]
