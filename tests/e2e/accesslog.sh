#!/usr/bin/env bash
# End-to-end suite of the access log (docs/observability.md): `snilb
# agent --access-log` in front of the examples/ manifests, real TLS
# clients through the attached data plane. Checks: the record of a good
# connection (name, ALPN, TLS versions, route, backend, bytes both ways
# equal to what the client counted on its socket, timings), of a name
# with no route, of a client's reset, of a hello timeout; rejections over
# the per-reason rate counted in a "suppressed" line; records lost while
# the agent is stopped and its ring full, counted and reported; logfmt;
# the histograms on /metrics.
# Usage: tests/e2e/accesslog.sh BUILD_DIR   (ONLY=t_lost: one check;
# KEEP=1: keep the namespaces)
set -uo pipefail
export LC_ALL=C

build=$(cd "${1:-build}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/lib.sh"
top=$(cd "$here/../.." && pwd)
if [ "$(id -u)" -ne 0 ]; then
	echo "access log e2e: skipped: network namespaces and BPF need root"
	echo "0 passed, 0 failed, 1 skipped"
	exit 0
fi

pfx=sl$$
work=$(mktemp -d /tmp/snilb-alog.XXXXXX)
mkdir -p "$work/bpffs"
mount -t bpf bpf "$work/bpffs"
pin=$work/bpffs/snilb
man=$work/manifests
alog=$work/agent.log		# the agent's own log
acc=$work/access.log		# the access log
mport=$((19100 + $$ % 800))
pids=()
agent=
vip4=198.18.0.10

trap cleanup EXIT

cli() { at cli timeout 30 "$@"; }
client() { cli python3 "$here/alogclient.py" "$@"; }
metrics() { at gw curl -s --max-time 10 "http://127.0.0.1:$mport/metrics"; }

# rec KEY=VALUE...: the first access log record with these values (JSON,
# on one line), polled for up to 20 s (the reaper frees a closed flow 2 s
# after its last ACK, and runs once a second); "" if none came.
rec() {
	python3 - "$acc" "$@" <<'PY'
import json, sys, time
path, want = sys.argv[1], dict(a.split("=", 1) for a in sys.argv[2:])
end = time.time() + 20
while time.time() < end:
    try:
        lines = open(path).read().splitlines()
    except OSError:
        lines = []
    for ln in lines:
        try:
            r = json.loads(ln)
        except ValueError:
            continue
        if all(str(r.get(k)) == v for k, v in want.items()):
            print(json.dumps(r))
            sys.exit(0)
    time.sleep(0.2)
PY
}
field() { python3 -c 'import json,sys; print(json.loads(sys.argv[1]).get(sys.argv[2], ""))' "$1" "$2"; }
js() { python3 -c 'import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$1" "$2"; }

start_agent() {	# EXTRA-OPTIONS...
	local n
	n=$(grep -c 'msg="agent running"' "$alog")
	ip netns exec "$pfx-gw" "$build/snilb" agent --manifests "$man" \
		--iface g0,br0 --snat 198.18.2.1 --snat 2001:db8:2::1 \
		--pin-path "$pin" --status-file "$work/status.json" \
		--metrics-listen "127.0.0.1:$mport" --hello-timeout 1000 \
		--access-log "$acc" "$@" >>"$alog" 2>&1 &
	agent=$!
	pids+=("$agent")
	for _ in $(seq 600); do
		[ "$(grep -c 'msg="agent running"' "$alog")" -gt "$n" ] &&
			return 0
		sleep 0.1
	done
	tail -5 "$alog"
	return 1
}

# The agent as start_agent starts it, without the access log.
start_agent_plain() {
	local n
	n=$(grep -c 'msg="agent running"' "$alog")
	ip netns exec "$pfx-gw" "$build/snilb" agent --manifests "$man" \
		--iface g0,br0 --snat 198.18.2.1 --snat 2001:db8:2::1 \
		--pin-path "$pin" --status-file "$work/status.json" \
		--hello-timeout 1000 >>"$alog" 2>&1 &
	agent=$!
	pids+=("$agent")
	for _ in $(seq 600); do
		[ "$(grep -c 'msg="agent running"' "$alog")" -gt "$n" ] &&
			return 0
		sleep 0.1
	done
	return 1
}

stop_agent() {
	kill "$agent" 2>/dev/null
	wait "$agent" 2>/dev/null
}

setup() {
	"$here/topo.sh" up "$pfx" || return 1
	mkdir -p "$man"
	cp "$top"/examples/*.yaml "$man/"
	: >"$alog"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
		-nodes -days 2 -subj "/CN=b1" -keyout "$work/b1.key" \
		-out "$work/b1.crt" 2>/dev/null || return 1
	ip netns exec "$pfx-b1" python3 "$here/backend.py" --name b1 \
		--cert "$work/b1.crt" --key "$work/b1.key" \
		>"$work/b1.log" 2>&1 &
	pids+=($!)
	start_agent --access-log-rejects 5 || return 1
	wait_for listening "$work/b1.log"
}

# 1. A good connection: every field, the bytes as the client counted them.
t_good() {
	local out port r
	out=$(client get "$vip4" www.example.com 200000)
	port=$(js "$out" port)
	r=$(rec client="198.18.1.2:$port" type=end)
	if [ -z "$r" ]; then
		bad "good connection: no record for client port $port ($out)"
		return
	fi
	echo "     $r"
	check "good: sni" www.example.com "$(field "$r" sni)"
	check "good: alpn offered" "h2,http/1.1" "$(field "$r" alpn)"
	check "good: tls versions offered" "1.3,1.2" "$(field "$r" tls)"
	check "good: route" shop/www "$(field "$r" route)"
	check "good: vip" "$vip4:443" "$(field "$r" vip)"
	check "good: backend" 198.18.2.11:8443 "$(field "$r" backend)"
	check "good: bytes client -> backend = the client's count" \
		"$(js "$out" sent)" "$(field "$r" bytes_c2b)"
	check "good: bytes backend -> client = the client's count" \
		"$(js "$out" recv)" "$(field "$r" bytes_b2c)"
	case $(field "$r" end) in
	fin_client|fin_backend) ok "good: ended by $(field "$r" end)" ;;
	*) bad "good: end $(field "$r" end)" ;;
	esac
	local k
	for k in conn_id snat_port duration_ms setup_ms hello_ms connect_ms \
		 replay_ms pkts_c2b pkts_b2c; do
		[ -n "$(field "$r" "$k")" ] || bad "good: no $k"
	done
	ok "good: conn_id, snat_port, packets and every timing present"
}

# 2. A name no route has.
t_unknown() {
	local out port r
	out=$(client get "$vip4" unknown.example.com 10)
	port=$(js "$out" port)
	r=$(rec client="198.18.1.2:$port" type=reject)
	check "unknown name: rejected, reason" no_route "$(field "$r" reason)"
	check "unknown name: its sni logged" unknown.example.com \
		"$(field "$r" sni)"
}

# 3. The client resets a download.
t_reset() {
	local out port r
	out=$(client reset "$vip4" www.example.com 5000000)
	port=$(js "$out" port)
	r=$(rec client="198.18.1.2:$port")
	check "reset by the client: end" rst_client "$(field "$r" end)"
	check "reset by the client: route" shop/www "$(field "$r" route)"
}

# 4. A client that sends no hello: the reaper's record.
t_timeout() {
	local out port r
	out=$(client silent "$vip4" www.example.com)
	port=$(js "$out" port)
	r=$(rec client="198.18.1.2:$port")
	check "silent client: end" hello_timeout "$(field "$r" end)"
	check "silent client: reason" timeout "$(field "$r" reason)"
}

# 5. 40 names with no route at once: 5 a second logged, the rest in
# "suppressed" lines; together all 40.
t_sampling() {
	local logged=0 supp=0 i gets=()
	for i in $(seq 40); do
		TMO=2 get "flood$i.example.net" >/dev/null &
		gets+=($!)
	done
	wait "${gets[@]}"
	# Polled: a second's "suppressed" line comes when the second ends.
	for _ in $(seq 100); do
		read -r logged supp < <(python3 - "$acc" <<'PY'
import json, sys
n = s = 0
for ln in open(sys.argv[1]):
    try:
        r = json.loads(ln)
    except ValueError:
        continue
    if r.get("type") == "reject" and r.get("sni", "").startswith("flood"):
        n += 1
    if r.get("type") == "suppressed" and r.get("reason") == "no_route":
        s += r["count"]
print(n, s)
PY
)
		[ $((logged + supp)) -ge 40 ] && break
		sleep 0.2
	done
	if [ "$logged" -lt 40 ] && [ $((logged + supp)) -eq 40 ]; then
		ok "flood of 40 rejections: $logged logged, $supp counted as suppressed"
	else
		bad "flood of 40 rejections: $logged logged, $supp suppressed"
	fi
}

# 6. snilb top -o json: the routes, the rejections, the SNIs most
# rejected (the flood's, and unknown.example.com's of t_unknown), while a
# download is under way.
t_top() {
	local out dl r
	# 10 MB at 500 kB/s: flowing for 20 s once the backend has made it.
	cli curl -sk --max-time 40 --limit-rate 500k -o /dev/null \
		--resolve "www.example.com:443:$vip4" \
		"https://www.example.com/bytes/10000000" &
	dl=$!
	pids+=("$dl")
	TMO=2 get top1.example.net >/dev/null
	# A frame a second until one shows the download flowing (20 s).
	for _ in $(seq 20); do
		out=$(timeout 20 "$build/snilb" top --pin-path "$pin" \
			--status-file "$work/status.json" -o json --count 1 \
			--interval 1)
		python3 - "$out" <<'PY'
import json, sys
f = json.loads(sys.argv[1])
www = [r for r in f["routes"] if r["route"] == "shop/www"]
assert www and www[0]["active"] >= 1 and www[0]["bytes_b2c_per_s"] > 0
PY
		r=$?
		[ $r -eq 0 ] && break
	done
	kill "$dl" 2>/dev/null
	python3 - "$out" <<'PY'
import json, sys
f = json.loads(sys.argv[1])
www = [r for r in f["routes"] if r["route"] == "shop/www"]
assert www, f["routes"]
print("     shop/www:", www[0])
snis = [s["sni"] for s in f["rejected_snis"]]
print("     rejected:", f["rejected_snis"][:3])
assert www[0]["active"] >= 1 and www[0]["bytes_b2c_per_s"] > 0, www
assert any(s.startswith("flood") or s.startswith("top1") or
           s == "unknown.example.com" for s in snis), snis
assert all(s["reason"] == "no_route" for s in f["rejected_snis"])
PY
	if [ $? -eq 0 ]; then
		ok "snilb top -o json: shop/www active and sending, the SNIs most rejected"
	else
		bad "snilb top -o json: $out"
	fi
}

# 7. The agent stopped (SIGSTOP), its 16 KiB ring (32 records) full: the
# rejections go on, the records past it are lost, counted, and reported
# once it reads again.
t_lost() {
	local i lost=0 m gets=()
	stop_agent
	start_agent --access-log-ring 16384 --access-log-rejects 0 ||
		{ bad "restart with a small ring"; return; }
	kill -STOP "$agent"
	for i in $(seq 50); do
		TMO=2 get "lost$i.example.net" >/dev/null &
		gets+=($!)
		[ $((i % 10)) -eq 0 ] && { wait "${gets[@]}"; gets=(); }
	done
	kill -CONT "$agent"
	for _ in $(seq 100); do
		lost=$(python3 -c '
import json, sys
print(sum(json.loads(l).get("count", 0) for l in open(sys.argv[1])
          if "\"type\":\"lost\"" in l))' "$acc")
		[ "$lost" -gt 0 ] && break
		sleep 0.2
	done
	if [ "$lost" -ge 18 ]; then
		ok "ring full: $lost records lost, reported in the log"
	else
		bad "ring full: $lost records reported lost (want >= 18)"
	fi
	m=$(metrics | grep '^snilb_log_lost_total')
	case $m in
	*" 0") bad "metrics: $m" ;;
	"") bad "metrics: no snilb_log_lost_total" ;;
	*) ok "metrics: $m" ;;
	esac
}

# 8. logfmt, and the histograms.
t_logfmt() {
	local out port line h
	stop_agent	# the histograms start anew: one connection below
	start_agent --access-log-format logfmt || { bad "logfmt start"; return; }
	out=$(client get "$vip4" www.example.com 1000)
	port=$(js "$out" port)
	for _ in $(seq 100); do
		line=$(grep "client=\"198.18.1.2:$port\"" "$acc" | grep 'type="end"')
		[ -n "$line" ] && break
		sleep 0.2
	done
	case $line in
	*'sni="www.example.com"'*'route="shop/www"'*) ok "logfmt: $line" ;;
	*) bad "logfmt: '$line'" ;;
	esac
	h=$(metrics | grep 'snilb_connection_\(duration\|setup\)_seconds_count{namespace="shop",name="www"}')
	if [ "$(grep -c ' 1$' <<<"$h")" -eq 2 ]; then
		ok "metrics: duration and setup histograms of shop/www"
	else
		bad "metrics: histograms: '$h'"
	fi
}

# Not a check, a measurement (ONLY=t_bench; ROUNDS, SECS): new TLS
# connections per second (tests/bench/conns.py, 2 processes) through the
# agent without and with --access-log, alternating, SECS s each.
t_bench() {
	local r secs=${SECS:-8} on off
	for r in $(seq "${ROUNDS:-3}"); do
		stop_agent
		start_agent_plain || { bad "bench: start"; return; }
		off=$(cli python3 "$top/tests/bench/conns.py" "$secs" 2 \
			www.example.com "$vip4" 443)
		stop_agent
		start_agent || { bad "bench: start"; return; }
		on=$(cli python3 "$top/tests/bench/conns.py" "$secs" 2 \
			www.example.com "$vip4" 443)
		echo "     round $r: no log: $off | access log: $on"
	done
	ok "bench: $(grep -c '"type": *"end"\|"type":"end"' "$acc") end records in all"
}

t0_all=$EPOCHREALTIME
if ! setup; then
	bad "setup"
	echo "$passed passed, $failed failed"
	exit 1
fi
if [ -n "${ONLY:-}" ]; then
	$ONLY
else
	t_good
	t_unknown
	t_reset
	t_timeout
	t_sampling
	t_top
	t_lost
	t_logfmt
fi
echo "access log e2e: $(ms_since "$t0_all") ms"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
