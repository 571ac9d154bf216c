#!/usr/bin/env bash
# `make bench`: snilb against HAProxy (req.ssl_sni), NGINX (ssl_preread) and
# plain routed forwarding (no load balancer: the limit on this machine), in
# one run, on one namespace topology (tests/e2e/topo.sh), to the same
# backends. On a shared 2-core machine absolute numbers are noise; the
# ratios measured in one run are the figures. Then a delayed path of its
# own (tests/bench/paths.sh): BBR and CUBIC backends sending to a client
# 20 ms away, through plain DNAT and through snilb.
#
# Usage: scripts/bench.sh BUILD_DIR [--quick]
set -uo pipefail

build=$(cd "${1:-build}" && pwd)
quick=${2:-}
top=$(cd "$(dirname "$0")/.." && pwd)
e2e=$top/tests/e2e
bench=$top/tests/bench
. "$bench/report.sh"	# report(): the text report
secs=5 rate=100 scale_secs=3 rounds=3 lat_secs=15
[ "$quick" = --quick ] && secs=2 rate=50 scale_secs=1 rounds=1 lat_secs=2
contenders=(direct snilb haproxy nginx)
pfx=sb$$
work=$(mktemp -d /tmp/snilb-bench.XXXXXX)
results=$top/bench/results
stamp=$(date -u +%Y%m%dT%H%M%SZ)
pids=()

cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	stop_lbs
	[ -f "$work/b1.pid" ] && kill "$(cat "$work/b1.pid")" 2>/dev/null
	wait 2>/dev/null
	"$e2e/topo.sh" down "$pfx"
	rm -rf "/etc/netns/$pfx-cli" "$work"
	sysctl -qw kernel.bpf_stats_enabled=0
}
trap cleanup EXIT
at() { local n=$1; shift; ip netns exec "$pfx-$n" "$@"; }
log() { printf '%s\n' "$*" >&2; }

declare -A vip=([direct]=198.18.2.11 [snilb]=198.18.0.10
		[haproxy]=198.18.0.11 [nginx]=198.18.0.12)
declare -A R	# results: R[contender.figure]

# --- topology and backends ----------------------------------------------

setup() {
	"$e2e/topo.sh" up "$pfx" || return 1
	at cli ip route add 198.18.2.0/24 via 198.18.1.1	# plain routing
	at b1 ip route add 198.18.1.0/24 via 198.18.2.1
	at gw ip addr add 198.18.0.11/32 dev lo		# the proxies' VIPs
	at gw ip addr add 198.18.0.12/32 dev lo
	mkdir -p "/etc/netns/$pfx-cli"
	{
		echo "127.0.0.1 localhost"
		for c in "${contenders[@]}"; do
			for n in tls tls16; do
				echo "${vip[$c]} $c-$n.example.com"
			done
		done
	} >"/etc/netns/$pfx-cli/hosts"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
		-nodes -days 2 -subj /CN=b1 -keyout "$work/b1.key" \
		-out "$work/b1.crt" 2>/dev/null || return 1
	# Backends in b1: NGINX serving HTTPS on 8443-8458 (16 backends),
	# and a byte sink on 9443-9458 for the bulk runs.
	{
		echo "worker_processes 1; pid $work/b1.pid;"
		echo "error_log $work/b1.err; events { worker_connections 4096; }"
		echo "http { access_log off; server {"
		for i in $(seq 0 15); do echo "listen $((8443 + i)) ssl;"; done
		echo "ssl_certificate $work/b1.crt; ssl_certificate_key $work/b1.key;"
		echo "location / { return 200 'b1'; } } }"
	} >"$work/b1.conf"
	at b1 nginx -c "$work/b1.conf" -e "$work/b1.err" \
		</dev/null >/dev/null 2>&1 || return 1
	# Not through at(): $! must be the sink itself.
	ip netns exec "$pfx-b1" "$build/sink" $(seq 9443 9458) \
		>"$work/sink.log" 2>&1 </dev/null &
	pids+=($!)
	sleep 0.3
}

ports() {	# FIRST COUNT -> "addr:port" lines for b1
	local i
	for i in $(seq 0 $(($2 - 1))); do echo "198.18.2.11:$(($1 + i))"; done
}

# --- the three load balancers, each with NROUTES dummy routes -----------

start_snilb() {	# NROUTES [alog: the access log on, to $work/alog.txt]
	local i p n=1
	{
		[ "${2:-}" = alog ] && echo "access-log $work/alog.txt"
		echo "snat 198.18.2.1"
		echo "listener 1 ${vip[snilb]} 443"
		for p in $(seq 8443 8458) $(seq 9443 9458); do
			echo "backend $n 198.18.2.11 $p"
			n=$((n + 1))
		done
		echo "set 1 1"
		echo "set 2 17"
		echo "set 3 $(seq -s ' ' 1 16)"
		echo "set 4 $(seq -s ' ' 17 32)"
		echo "route 1 snilb-tls.example.com 1 1"
		echo "route 1 snilb-bulk.example.com 2 2"
		echo "route 1 snilb-tls16.example.com 3 3"
		echo "route 1 snilb-bulk16.example.com 4 4"
		for i in $(seq 5 "$1"); do
			echo "route 1 r$i.dummy.example.com $i 1"
		done
		echo "attach g0"
		echo "attach br0"
	} >"$work/snilb.conf"
	ip netns exec "$pfx-gw" "$build/dpctl" "$work/snilb.conf" \
		>"$work/snilb.log" 2>&1 </dev/null &
	snilb_pid=$!
	for _ in $(seq 100); do
		grep -q ready "$work/snilb.log" && return 0
		sleep 0.1
	done
	cat "$work/snilb.log" >&2
	return 1
}

start_haproxy() {	# NROUTES
	local i n b
	{
		for n in tls bulk tls16 bulk16; do
			echo "haproxy-$n.example.com be_$n"
		done
		for i in $(seq 5 "$1"); do echo "r$i.dummy.example.com be_tls"; done
	} >"$work/sni.map"
	{
		echo "global"
		echo "  nbthread 2"
		echo "  maxconn 4000"
		echo "  pidfile $work/haproxy.pid"
		echo "defaults"
		echo "  mode tcp"
		echo "  timeout connect 5s"
		echo "  timeout client 30s"
		echo "  timeout server 30s"
		echo "frontend tls"
		echo "  bind ${vip[haproxy]}:443"
		echo "  tcp-request inspect-delay 5s"
		echo "  tcp-request content accept if { req.ssl_hello_type 1 }"
		echo "  use_backend %[req.ssl_sni,lower,map($work/sni.map)]"
		for b in "tls 8443 1" "bulk 9443 1" "tls16 8443 16" \
			 "bulk16 9443 16"; do
			set -- $b
			echo "backend be_$1"
			ports "$2" "$3" | awk '{print "  server s" NR " " $0}'
		done
	} >"$work/haproxy.cfg"
	at gw haproxy -D -f "$work/haproxy.cfg" </dev/null >/dev/null 2>&1 ||
		return 1
}

start_nginx() {	# NROUTES
	local i n b
	{
		echo "load_module /usr/lib/nginx/modules/ngx_stream_module.so;"
		echo "worker_processes 2; pid $work/nginx.pid;"
		echo "error_log $work/nginx.err; events { worker_connections 8192; }"
		echo "stream {"
		echo "  map \$ssl_preread_server_name \$up {"
		for n in tls bulk tls16 bulk16; do
			echo "    nginx-$n.example.com $n;"
		done
		for i in $(seq 5 "$1"); do echo "    r$i.dummy.example.com tls;"; done
		echo "  }"
		for b in "tls 8443 1" "bulk 9443 1" "tls16 8443 16" \
			 "bulk16 9443 16"; do
			set -- $b
			echo "  upstream $1 {"
			ports "$2" "$3" | sed 's/^/    server /; s/$/;/'
			echo "  }"
		done
		echo "  server { listen ${vip[nginx]}:443; ssl_preread on;"
		echo "    proxy_pass \$up; }"
		echo "}"
	} >"$work/nginx.conf"
	at gw nginx -c "$work/nginx.conf" -e "$work/nginx.err" \
		</dev/null >/dev/null 2>&1 || return 1
}

stop_snilb() {
	[ -n "${snilb_pid:-}" ] && kill "$snilb_pid" 2>/dev/null && wait "$snilb_pid" 2>/dev/null
	snilb_pid=
}

stop_lbs() {
	stop_snilb
	for f in haproxy nginx; do
		[ -f "$work/$f.pid" ] && kill "$(cat "$work/$f.pid")" 2>/dev/null
		rm -f "$work/$f.pid"
	done
	sleep 0.3
}

start_lbs() {	# NROUTES
	start_snilb "$1" && start_haproxy "$1" && start_nginx "$1"
}

# --- measuring ------------------------------------------------------------

busy() {	# jiffies the whole machine spent busy (softirq included)
	awk '/^cpu /{print $2 + $3 + $4 + $6 + $7 + $8}' /proc/stat
}
hz=$(getconf CLK_TCK)

target() {	# CONTENDER KIND -> "name port"
	if [ "$1" = direct ]; then
		case $2 in tls*) echo "direct-$2.example.com 8443" ;;
			   *) echo "direct-$2.example.com 9443" ;; esac
	else
		echo "$1-$2.example.com 443"
	fi
}

conns() {	# CONTENDER KIND SECONDS -> connections/s, and cpu s per 10k
	local name port b0 b1 out n
	read -r name port <<<"$(target "$1" "$2")"
	b0=$(busy)
	out=$(at cli wrk -t2 -c16 -d"$3"s -H 'Connection: close' \
		"https://$name:$port/" 2>&1)
	b1=$(busy)
	n=$(sed -n 's/^Requests\/sec: *//p' <<<"$out")
	echo "${n%.*} $(python3 -c "print('%.2f' % (($b1 - $b0) / $hz / max(1, ${n%.*} * $3) * 10000))")"
}

bulk() {	# CONTENDER KIND FLOWS [SECONDS] -> MB/s and cpu s per GB
	local name port b0 b1 mbs s=${4:-$secs}
	read -r name port <<<"$(target "$1" "$2")"
	b0=$(busy)
	mbs=$(at cli "$build/stream" "$name" "${vip[$1]}" "$port" "$s" "$3")
	b1=$(busy)
	echo "$mbs $(python3 -c "print('%.2f' % (($b1 - $b0) / $hz / max(1, $mbs * $s / 1000)))")"
}

rss_kb() {	# PIDS... -> summed VmRSS
	local t=0 p
	for p in "$@"; do
		t=$((t + $(awk '/VmRSS/{print $2}' "/proc/$p/status" 2>/dev/null || echo 0)))
	done
	echo $t
}

# The maps of the agent PID holds (its fds' map_id in /proc/PID/fdinfo), in
# KiB: only this run's, not those of any other data plane on the machine.
snilb_map_kb() {	# PID
	local ids
	ids=$(grep -h '^map_id:' /proc/"$1"/fdinfo/* 2>/dev/null |
		awk '{ print $2 }' | sort -u | tr '\n' ' ')
	bpftool map show -j | python3 -c '
import json, sys
ids = {int(i) for i in sys.argv[1].split()}
print(sum(m.get("bytes_memlock", 0) for m in json.load(sys.stdin)
	  if m.get("id") in ids) // 1024)' "$ids"
}

bpf_ns() {	# mean ns/run of snilb_ingress since bpf_stats were enabled
	bpftool prog show -j | python3 -c '
import json, sys
for p in json.load(sys.stdin):
    if p.get("name", "").startswith("snilb_ingress") and p.get("run_cnt"):
        print("%d %d" % (p["run_time_ns"], p["run_cnt"]))'
}

# bpf_stats over one phase of the snilb runs (bpf_mark, then bpf_add),
# summed over the rounds into R[snilb.bpfsum.PHASE] and bpfcnt.PHASE.
bpf_mark() { read -r mark_ns mark_cnt <<<"$(bpf_ns)"; }
bpf_add() {	# PHASE
	local ns cnt
	read -r ns cnt <<<"$(bpf_ns)"
	R[snilb.bpfsum.$1]=$(( ${R[snilb.bpfsum.$1]:-0} + ${ns:-0} - ${mark_ns:-0} ))
	R[snilb.bpfcnt.$1]=$(( ${R[snilb.bpfcnt.$1]:-0} + ${cnt:-0} - ${mark_cnt:-0} ))
}

# The median of its arguments (numbers).
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 }
	END { print NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# One round: each contender's connections/s, then its bulk, in turn.
round() {	# N
	local c
	for c in "${contenders[@]}"; do
		log "  round $1, $c: connections/s, bulk with 1 and 16 flows"
		bpf_mark
		read -r R[$c.conns.$1] R[$c.cpu10k.$1] <<<"$(conns "$c" tls "$secs")"
		[ "$c" = snilb ] && bpf_add conns
		bpf_mark
		read -r R[$c.bulk1.$1] R[$c.cpugb.$1] <<<"$(bulk "$c" bulk 1)"
		read -r R[$c.bulk16.$1] _ <<<"$(bulk "$c" bulk16 16)"
		[ "$c" = snilb ] && bpf_add bulk
	done
}

# Connections/s and bulk in $rounds rounds, the contenders taking turns
# within each, and the median of each figure: a busy moment of the
# shared machine then costs one round of one contender, not the figure.
run_main() {
	local c f i k v
	for ((i = 1; i <= rounds; i++)); do round "$i"; done
	for c in "${contenders[@]}"; do
		for f in conns cpu10k bulk1 cpugb bulk16; do
			v=()
			for ((i = 1; i <= rounds; i++)); do v+=("${R[$c.$f.$i]:-0}"); done
			R[$c.$f]=$(median "${v[@]}")
			R[$c.$f.rounds]="${v[*]}"
		done
	done
	for k in conns bulk; do
		R[snilb.bpfns.$k]=$(( ${R[snilb.bpfsum.$k]:-0} /
			(${R[snilb.bpfcnt.$k]:-0} > 0 ? ${R[snilb.bpfcnt.$k]} : 1) ))
	done
	log "  all four: latency at $rate/s each, interleaved"
	latency_all
	R[snilb.mem]=$(( $(rss_kb "$snilb_pid") + $(snilb_map_kb "$snilb_pid") ))
	R[haproxy.mem]=$(rss_kb "$(cat "$work/haproxy.pid")")
	R[nginx.mem]=$(rss_kb "$(cat "$work/nginx.pid")" \
		$(pgrep -P "$(cat "$work/nginx.pid")"))
	R[direct.mem]=0
}

# Connect + TLS + first byte at $rate/s, and its three parts (latency.py),
# into R[KEY.p50] ... R[KEY.first99].
lat_read() {	# KEY, a line of latency.py
	read -r R[$1.p50] R[$1.p99] R[$1.latfail] R[$1.conn50] R[$1.conn99] \
		R[$1.tls50] R[$1.tls99] R[$1.first50] R[$1.first99]
}
lat_args() { target "$1" tls | sed "s/ / ${vip[$1]} /"; }	# CONTENDER
latency() {	# CONTENDER KEY
	lat_read "$2" <<<"$(at cli python3 "$bench/latency.py" "$rate" "$secs" \
		$(lat_args "$1"))"
}

# The same for every contender in one run, their connections taking
# turns: a busy moment of the shared machine weighs on all four alike,
# not on whichever ran then. For $lat_secs: 1,500 connections each, so
# that a p99 is not the fifth worst of 500.
latency_all() {
	local c args=() out
	for c in "${contenders[@]}"; do args+=($(lat_args "$c")); done
	out=$(at cli python3 "$bench/latency.py" "$rate" "$lat_secs" "${args[@]}")
	for c in "${contenders[@]}"; do
		lat_read "$c" <<<"$(head -1 <<<"$out")"
		out=$(tail -n +2 <<<"$out")
	done
}

# The access log's cost, and where a connection's setup time goes by the
# data plane's own timestamps: snilb again with its access log on (dpctl
# writes the records), then off again; connections/s and latency each.
run_alog() {
	local ph
	stop_snilb
	start_snilb 10 alog || return 1
	log "  snilb, access log on: connections/s, latency at $rate/s"
	read -r R[snilb_log.conns] _ <<<"$(conns snilb tls "$secs")"
	: >"$work/alog.txt"
	latency snilb snilb_log
	stop_snilb	# dpctl reads the ring to the end
	for ph in $(python3 "$bench/phases.py" "$work/alog.txt"); do
		R[snilb_dp.${ph%%=*}]=${ph#*=}
	done
	start_snilb 10 || return 1
	log "  snilb, access log off again: connections/s"
	read -r R[snilb_off2.conns] _ <<<"$(conns snilb tls "$secs")"
}

# The backend's round trip as the gateway sees it: TCP connects from the
# gateway namespace to b1, p50 and p99 in µs (what snilb cannot avoid
# adding).
backend_rtt() {
	at gw python3 "$bench/rtt.py" 198.18.2.11 8443 200
}

label() { [ "$1" = tls ] && echo "1 backend" || echo "16 backends"; }

run_scaling() {
	local n c kind mem
	for n in 10 1000 10000; do
		stop_lbs
		start_lbs "$n" || return 1
		for c in snilb haproxy nginx; do
			for kind in tls tls16; do
				log "  $n routes, $c, $(label "$kind")"
				read -r R[$c.scale.$n.$kind] _ <<<"$(conns "$c" "$kind" "$scale_secs")"
				read -r R[$c.scale.$n.$kind.p50] R[$c.scale.$n.$kind.p99] _ \
					<<<"$(at cli python3 "$bench/latency.py" \
					"$rate" "$scale_secs" \
					$(target "$c" "$kind" | sed "s/ / ${vip[$c]} /"))"
				read -r R[$c.scale.$n.$kind.bulk1] _ \
					<<<"$(bulk "$c" "${kind/tls/bulk}" 1 "$scale_secs")"
			done
		done
		R[snilb.scale.$n.mem]=$(( $(rss_kb "$snilb_pid") + $(snilb_map_kb "$snilb_pid") ))
		R[haproxy.scale.$n.mem]=$(rss_kb "$(cat "$work/haproxy.pid")")
		R[nginx.scale.$n.mem]=$(rss_kb "$(cat "$work/nginx.pid")" \
			$(pgrep -P "$(cat "$work/nginx.pid")"))
	done
}

# The delayed-path scenario (tests/bench/paths.sh, its own namespaces):
# a BBR and a CUBIC backend sending to a client 20 ms away.
run_paths() {
	local line kv
	while read -r line; do
		set -- $line
		[ "${1:-}" = path ] || continue
		if [ "$3" = skipped: ]; then
			R[path.$2.skipped]=${line#path $2 skipped: }
			continue
		fi
		for kv in "${@:4}"; do R[path.$2.$3.${kv%%=*}]=${kv#*=}; done
	done < <("$bench/paths.sh" "$build" $quick)
}

# tests/bench/nodes.sh: through one gateway node, then three behind ECMP.
run_nodes() {	# -> R[nodes.N.*]
	local line kv
	while read -r line; do
		set -- $line
		[ "${1:-}" = nodes ] || continue
		if [ "$2" = skipped: ]; then
			R[nodes.skipped]=${line#nodes skipped: }
			continue
		fi
		for kv in "${@:3}"; do R[nodes.$2.${kv%%=*}]=${kv#*=}; done
	done < <("$bench/nodes.sh" "$build" "$secs")
}

# --- memory ---------------------------------------------------------------

# tests/bench/dp_mem.c (its own namespace): memory and the spliced
# per-packet cost against concurrent spliced connections, made through the
# real program; then the same tables preallocated, as they were, to 100,000,
# both twice, taking turns: what allocating on insert costs a connection.
mem_counts="0 10000 100000 1000000"
run_memory() {	# -> R[mem.*]
	local line i m
	while read -r line; do
		set -- $line
		case $1 in
		mem) R[mem.$2.maps]=$3 R[mem.$2.flows]=$4 R[mem.$2.rev]=$5
		     R[mem.$2.c2b]=$7 R[mem.$2.b2c]=$8 R[mem.$2.setup_s]=$9
		     R[mem.$2.slab]=${10} R[mem.$2.reap]=${11} ;;
		per_conn) R[mem.per_conn]=$2 R[mem.per_conn_slab]=$3 ;;
		elapsed) R[mem.$1]=$2 ;;
		esac
	done < <("$top/tests/lib/in-netns.sh" "$build/dp_mem" \
		--max-flows 1048576 $mem_counts)
	for i in 1 2; do
		for m in alloc prealloc; do
			while read -r line; do
				set -- $line
				[ "$1" = mem ] || continue
				R[mem.$m.$2.maps]=$3
				[ "$2" = 100000 ] && R[mem.$m.$i.setup_s]=$9
			done < <("$top/tests/lib/in-netns.sh" "$build/dp_mem" \
				$([ $m = prealloc ] && echo --prealloc) \
				--max-flows 1048576 0 10000 100000)
		done
	done
	# Preallocated, the tables cost the same at any count.
	R[mem.prealloc.1000000.maps]=${R[mem.prealloc.100000.maps]:-}
	for m in alloc prealloc; do
		R[mem.$m.cps]=$(python3 -c "
s = [float(x) for x in '${R[mem.$m.1.setup_s]:-0} ${R[mem.$m.2.setup_s]:-0}'.split()]
print('%.0f' % (100000 * len(s) / sum(s)) if all(s) else '?')")
	done
}

# The agent idle, default settings, the examples/ manifests, no access log,
# in a namespace of its own: VmRSS, Pss (shared libraries' pages divided
# among their users) and its maps.
agent_idle() {	# -> R[agent.rss], R[agent.pss], R[agent.maps]
	local ns=$pfx-idle d=$work/idle p i
	ip netns add "$ns" || return 1
	ip -n "$ns" link add v0 type veth peer name v1
	ip -n "$ns" link set v0 up
	ip -n "$ns" link set v1 up
	ip -n "$ns" addr add 198.18.2.1/24 dev v0
	mkdir -p "$d/man" "$d/bpffs"
	mount -t bpf bpf "$d/bpffs"
	cp "$top"/examples/*.yaml "$d/man/"
	ip netns exec "$ns" "$build/snilb" agent --manifests "$d/man" \
		--iface v0 --snat 198.18.2.1 --pin-path "$d/bpffs/snilb" \
		--status-file "$d/status" >"$d/log" 2>&1 </dev/null &
	p=$!
	for i in $(seq 300); do
		grep -q 'msg=synced' "$d/log" && break
		sleep 0.1
	done
	if grep -q 'msg=synced' "$d/log"; then
		R[agent.rss]=$(rss_kb "$p")
		R[agent.pss]=$(awk '/^Pss:/{print $2}' "/proc/$p/smaps_rollup")
		R[agent.maps]=$(snilb_map_kb "$p")
	else
		log "bench: the idle agent did not sync"; tail -3 "$d/log" >&2
	fi
	kill "$p"; wait "$p" 2>/dev/null
	ip netns del "$ns"
	umount "$d/bpffs"
}

to_json() {
	python3 - "$work/ns" "$work/ns1" <<EOF
import json, platform, sys
r = {}
for line in """$(for k in "${!R[@]}"; do echo "$k ${R[$k]}"; done)""".splitlines():
    if line.strip():
        k, v = line.split(None, 1)
        try:
            v = float(v)
        except ValueError:
            pass
        r[k] = v
print(json.dumps({
    "date": "$stamp", "kernel": platform.release(),
    "machine": "$(nproc) CPUs, $(awk '/MemTotal/{printf "%d MiB", $2/1024}' /proc/meminfo), $(sed -n 's/^model name\t: //p' /proc/cpuinfo | head -1)",
    "quick": "$quick" == "--quick", "seconds": $secs, "rounds": $rounds, "latency_seconds": $lat_secs,
    "test_run_ns": {flows: {l.split()[0]: dict(zip(("raw", "net"), map(float, l.split()[1:])))
                            for l in open(path)}
                    for flows, path in (("1_flow", sys.argv[2]), ("1000_flows", sys.argv[1]))},
    "results": r}, indent=1, sort_keys=True))
EOF
}

# build/dp_ns three times over FLOWS flows; per kind the median of the
# three, so one run caught by a noisy neighbour does not make the figure.
dp_ns() {	# FLOWS
	local i
	for i in 1 2 3; do
		"$top/tests/lib/in-netns.sh" "$build/dp_ns" 5000 "$1" \
			>"$work/ns.$1.$i" || return 1
	done
	python3 - "$work/ns.$1".[123] <<'EOF'
import statistics, sys
runs = [dict((l.split()[0], l.split()[1:]) for l in open(f)) for f in sys.argv[1:]]
for kind in runs[0]:
    cols = zip(*(r[kind] for r in runs))
    print(kind, *("%.0f" % statistics.median(map(float, c)) for c in cols))
EOF
}

charts() {	# JSON -> PNGs in DIR
	python3 "$bench/charts.py" "$1" "$2"
}

# --- main -----------------------------------------------------------------

log "== kernel ns per packet (BPF_PROG_TEST_RUN)"
dp_ns 1 >"$work/ns1" || exit 1
dp_ns 1000 >"$work/ns" || exit 1
log "== memory against concurrent connections (up to 1,000,000), agent idle"
run_memory
agent_idle
log "== topology, backends and load balancers"
setup || { log "bench: setup failed"; exit 1; }
start_lbs 10 || { log "bench: a load balancer did not start"; exit 1; }
sysctl -qw kernel.bpf_stats_enabled=1
log "== main figures (${secs} s each)"
read -r ns0 cnt0 <<<"$(bpf_ns)"
run_main
read -r ns1 cnt1 <<<"$(bpf_ns)"
R[snilb.bpfns]=$(( (ns1 - ${ns0:-0}) / (cnt1 - ${cnt0:-0} > 0 ? cnt1 - ${cnt0:-0} : 1) ))
log "== the access log's cost; setup time by phase"
read -r R[backend.rtt50] R[backend.rtt99] <<<"$(backend_rtt)"
run_alog || { log "bench: snilb with its access log did not start"; exit 1; }
log "== scaling (${scale_secs} s each)"
run_scaling
stop_lbs
log "== delayed path, BBR and CUBIC backends"
run_paths
log "== several gateway nodes: 1 against 3 (tests/bench/nodes.sh)"
run_nodes
log "== SYNs answered per second, TC against XDP (tests/bench/synrate.sh)"
"$bench/synrate.sh" "$build" 4 3 >"$work/synrate" 2>&1 ||
	log "synrate: $(tail -1 "$work/synrate")"
mkdir -p "$results"
{ report; grep '^synrate' "$work/synrate"; } | tee "$results/bench-$stamp.txt"
to_json >"$results/bench-$stamp.json"
charts "$results/bench-$stamp.json" "$results" &&
	echo "charts: $results/*-$stamp.png"
echo "results: $results/bench-$stamp.json"
