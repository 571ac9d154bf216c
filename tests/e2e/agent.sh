#!/usr/bin/env bash
# End-to-end suite of `snilb agent`: the Gateway API manifests of examples/
# (copied; the copies are edited) drive the data plane attached to the
# gateway namespace of topo.sh, and real TLS clients (curl, python) reach
# real TLS servers (backend.py) through it. Checks: routing from the
# manifests, edits reaching the kernel (timed), bad input keeping the last
# good state, a blue/green flip under load, a burst of writes, kill -9 and
# adoption under load, the CLI and metrics, the node table in snilb status
# (--peers, agent_nodes.sh), detach.
# Usage: tests/e2e/agent.sh BUILD_DIR   (ONLY=t_flip: one check; KEEP=1:
# keep the namespaces, prefix printed)
set -uo pipefail
export LC_ALL=C	# $EPOCHREALTIME with a dot

build=$(cd "${1:-build}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/lib.sh"
top=$(cd "$here/../.." && pwd)
if [ "$(id -u)" -ne 0 ]; then
	echo "agent e2e: skipped: network namespaces and BPF need root"
	echo "0 passed, 0 failed, 1 skipped"
	exit 0
fi

pfx=sa$$
work=$(mktemp -d /tmp/snilb-agent.XXXXXX)
# A bpffs of our own: `ip netns exec` remounts /sys, hiding /sys/fs/bpf.
mkdir -p "$work/bpffs"
mount -t bpf bpf "$work/bpffs"
pin=$work/bpffs/snilb
status=$work/status.json
man=$work/manifests
alog=$work/agent.log
pids=()
agent=
passed=0 failed=0
vip4=198.18.0.10 vip6=2001:db8:100::10

trap cleanup EXIT

cli() { at cli timeout 30 "$@"; }
# The CLI, in the gateway namespace (it looks at its interfaces).
sn() {
	local c=$1; shift
	at gw timeout 20 "$build/snilb" "$c" --pin-path "$pin" \
		--status-file "$status" "$@"
}




# A reset, and how fast: NAME HOST [ADDR]
reset_check() {
	local t0 got ms
	t0=$EPOCHREALTIME
	got=$(get "$2" "${3:-$vip4}")
	ms=$(ms_since "$t0")
	if [ "$got" = reset ]; then
		ok "$1: reset in $ms ms"
	else
		bad "$1: want a reset, got '$got' after $ms ms"
	fi
}

# Poll HOST until get answers WANT, at most 20 s after T0 (an
# $EPOCHREALTIME; a busy machine or a VM without KVM is slow, and how
# fast a change lands is measured by make bench and printed here, not
# asserted); sets $ms to the time from T0 to that answer.
poll() {	# WANT HOST T0
	local got
	for _ in $(seq 2000); do
		got=$(TMO=1 get "$2")
		ms=$(ms_since "$3")
		[ "$got" = "$1" ] && return 0
		[ "$ms" -gt 20000 ] && break
		sleep 0.01
	done
	echo "     (last answer '$got' after $ms ms)"
	return 1
}

logn() { grep -cF -- "$1" "$alog"; }
# wait_log FIXED-STRING COUNT [SECONDS]: until the log has more than COUNT
# such lines (30 s: a busy machine's worth); says what it awaited if not.
wait_log() {
	local end=$((SECONDS + ${3:-30}))
	while [ $SECONDS -lt $end ]; do
		[ "$(logn "$1")" -gt "$2" ] && return 0
		sleep 0.1
	done
	echo "     gave up after ${3:-30} s waiting for a line with '$1' past $2"
	return 1
}
synced() { logn "msg=synced"; }

start_agent() {	# [AGENT-OPTION...]
	local n
	n=$(logn 'msg="agent running"')
	# Not through at(): $! must be the agent itself, for the signals.
	ip netns exec "$pfx-gw" "$build/snilb" agent --manifests "$man" \
		--iface g0,br0 --snat 198.18.2.1 --snat 2001:db8:2::1 \
		--pin-path "$pin" --status-file "$status" \
		--metrics-listen 127.0.0.1:9100 "$@" >>"$alog" 2>&1 &
	agent=$!
	pids+=("$agent")
	# Loading takes a few seconds under emulation (make vmtest).
	wait_log 'msg="agent running"' "$n" 180 && return 0
	tail -5 "$alog"
	return 1
}

setup() {
	"$here/topo.sh" up "$pfx" || return 1
	mkdir -p "$man"
	cp "$top"/examples/*.yaml "$man/"
	: >"$alog"
	start_example_backends || return 1
	start_agent || return 1
	for b in b1 b2 b3 blue-1 blue-2 green-1; do
		wait_for listening "$work/$b.log" || return 1
	done
}

# Download N MB from HOST into $work/NAME.{h,body} in the background,
# at RATE; $dl is curl's pid.
download() {	# NAME HOST MB RATE
	# Its own bound (cli's 30 s would cut a download a busy machine
	# slows, with nothing written).
	at cli timeout 90 curl -sk --max-time 80 --limit-rate "$4" \
		--resolve "$2:443:$vip4" -D "$work/$1.h" -o "$work/$1.body" \
		"https://$2/bytes/$(($3 * 1048576))" &
	dl=$!
	pids+=("$dl")
}
# "BACKEND" when NAME's download is complete and byte-exact, else why not.
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

# Client loops in the client namespace (loop.sh): start_loops NAME DUR
# MAX HOST...; $loops are their pids, $work/NAME.N their records.
start_loops() {
	local name=$1 dur=$2 max=$3 i=0
	shift 3
	loops=()
	rm -f "$work/stop-$name"
	for h in "$@"; do
		i=$((i + 1))
		at cli timeout $((dur + 30)) bash "$here/loop.sh" "$h" "$dur" \
			"$max" "$work/$name.$i" "$work/stop-$name" &
		loops+=($!)
		pids+=($!)
	done
}

# 1. The routes of examples/.
t_routing() {
	check "www.example.com -> b1 (shop/www)" b1 "$(get www.example.com)"
	check "api.example.com -> b2 (shop/api)" b2 "$(get api.example.com)"
	local c
	c=$(get checkout.example.com)
	case $c in
	blue-1|blue-2) ok "checkout.example.com -> $c (store/checkout, blue)" ;;
	*) bad "checkout.example.com: want blue-1 or blue-2, got '$c'" ;;
	esac
	check "a.dev.example.com over the IPv6 VIP -> b3 (dev/preview)" b3 \
		"$(get a.dev.example.com "[$vip6]")"
	check "a.dev.example.com over the IPv4 VIP -> b3 (IPv6-only backend: NAT46/64)" \
		b3 "$(get a.dev.example.com)"
	reset_check "unknown.example.com (no route)" unknown.example.com
}

# 2. Edits: a new file, a changed hostname, a deleted file.
t_edits() {
	local f=$man/40-new.yaml t0
	check "new.example.com before its route exists" reset \
		"$(get new.example.com)"
	cat >"$f.tmp" <<'EOF2'
apiVersion: gateway.networking.k8s.io/v1
kind: TLSRoute
metadata:
  name: new
  namespace: shop
spec:
  parentRefs:
  - name: edge
    namespace: infra
  hostnames: ["new.example.com"]
  rules:
  - backendRefs:
    - name: api
      port: 443
EOF2
	t0=$EPOCHREALTIME
	cp "$f.tmp" "$f"
	if poll b2 new.example.com "$t0"; then
		ok "new file with a TLSRoute: new.example.com -> b2 $ms ms after the write"
	else
		bad "new file: new.example.com not answered by b2 within 20 s"
	fi
	t0=$EPOCHREALTIME
	sed -i 's/"new.example.com"/"new2.example.com"/' "$f"
	if poll b2 new2.example.com "$t0"; then
		ok "hostname changed: new2.example.com -> b2 $ms ms after the edit"
	else
		bad "hostname changed: new2.example.com not answered within 20 s"
	fi
	reset_check "hostname changed: the old name new.example.com" \
		new.example.com
	t0=$EPOCHREALTIME
	rm -f "$f" "$f.tmp"
	if poll reset new2.example.com "$t0"; then
		ok "file deleted: new2.example.com reset $ms ms after the delete"
	else
		bad "file deleted: new2.example.com not reset within 20 s"
	fi
}

# status -o json | python: prints what the snippet prints, or "unparsable".
status_json() {	# PYTHON-EXPR over d (the status)
	local out
	out=$(sn status -o json)	# exit 1 when there are errors
	python3 -c "import json,sys
d=json.load(sys.stdin)
print($1)" <<<"$out" 2>/dev/null || echo unparsable
}

# 3. Bad input keeps the last good state, and is reported.
t_invalid() {
	local f=$man/10-shop.yaml n line before st
	cp "$f" "$work/shop.good"
	# (a) a YAML syntax error: the whole file is rejected, its last good
	# objects stay.
	before=$(logn 'msg="invalid manifest"')
	echo '  bad: [' >>"$f"
	n=$(wc -l <"$f")
	if wait_log 'msg="invalid manifest"' "$before"; then
		line=$(grep -F 'msg="invalid manifest"' "$alog" | tail -1)
		case $line in
		*"file=$f line=$n "*)
			ok "syntax error logged: file=10-shop.yaml line=$n" ;;
		*)	bad "syntax error on line $n: log says: $line" ;;
		esac
	else
		bad "syntax error in 10-shop.yaml: no 'invalid manifest' log line"
	fi
	check "syntax error: www.example.com still -> b1" b1 \
		"$(get www.example.com)"
	check "syntax error: api.example.com still -> b2" b2 \
		"$(get api.example.com)"
	st=$(sn status)
	if grep -qF "$f:$n:" <<<"$st"; then
		ok "snilb status lists the syntax error at 10-shop.yaml:$n"
	else
		bad "snilb status: no error at $f:$n in: $(grep -A3 errors <<<"$st")"
	fi
	check "snilb status -o json parses, lists 1 error" 1 \
		"$(status_json 'len(d["errors"])')"
	check "snilb status -o json: the error of 10-shop.yaml at line $n" \
		"$n" "$(status_json '",".join(str(e.get("line")) for e in d["errors"] if e.get("file","").endswith("/10-shop.yaml"))')"

	# (b) an invalid hostname: that object's last good version stays.
	before=$(logn 'msg="invalid manifest"')
	sed 's/hostnames: \["www.example.com"\]/hostnames: ["Bad_Host.example.com"]/' \
		"$work/shop.good" >"$f"
	n=$(grep -n Bad_Host "$f" | cut -d: -f1)
	if wait_log 'msg="invalid manifest"' "$before"; then
		line=$(grep -F 'msg="invalid manifest"' "$alog" | tail -1)
		case $line in
		*"file=$f line=$n field=spec.hostnames[0] "*)
			ok "invalid hostname logged: 10-shop.yaml line=$n field=spec.hostnames[0]" ;;
		*)	bad "invalid hostname on line $n: log says: $line" ;;
		esac
	else
		bad "invalid hostname: no 'invalid manifest' log line"
	fi
	check "invalid hostname: www.example.com still -> b1 (last good version)" \
		b1 "$(get www.example.com)"
	check "invalid hostname: api.example.com still -> b2" b2 \
		"$(get api.example.com)"
	reset_check "invalid hostname: Bad_Host.example.com not routed" \
		Bad_Host.example.com
	st=$(sn status)
	if grep -qF "$f:$n: spec.hostnames[0]" <<<"$st"; then
		ok "snilb status lists 10-shop.yaml:$n: spec.hostnames[0]"
	else
		bad "snilb status: no '$f:$n: spec.hostnames[0]' in: $(grep -A3 errors <<<"$st")"
	fi

	# (c) fixed: no error left.
	before=$(synced)
	cp "$work/shop.good" "$f"
	wait_log "msg=synced" "$before"
	check "file fixed: no error in snilb status -o json" 0 \
		"$(status_json 'len(d["errors"])')"
	if sn status | grep -q '^errors'; then
		bad "file fixed: snilb status still lists errors"
	else
		ok "file fixed: snilb status lists no error"
	fi
	check "file fixed: www.example.com -> b1" b1 "$(get www.example.com)"
}

# shop/www's backends on listener 0, as snilb routes shows them.
www_backends() {
	sn routes -o json | python3 -c '
import json, sys
for r in json.load(sys.stdin)["routes"]:
    if r["hostname"] == "www.example.com" and r["listener"] == 0:
        print(",".join(sorted(b.split("*")[0] for b in r["backends"].split(","))))
' 2>&1
}

# 5. Three writes to one file within ~50 ms (an EndpointSlice scaled up
# and down): at most two syncs, the final state.
t_burst() {
	local f=$man/10-shop.yaml t0 wms n0 n be out max
	cp "$f" "$work/shop.good"
	# www's slice (the first 198.18.2.11 in the file): +.12, +.13, -.13
	ep() {
		local extra="" a
		for a in "$@"; do
			extra="$extra\\n  conditions: {ready: true}\\n- addresses: [\"$a\"]"
		done
		sed "0,/addresses: \[\"198.18.2.11\"\]/s//addresses: [\"198.18.2.11\"]$extra/" \
			"$work/shop.good"
	}
	ep 198.18.2.12 >"$work/burst.1"
	ep 198.18.2.12 198.18.2.13 >"$work/burst.2"
	ep 198.18.2.12 >"$work/burst.3"
	n0=$(synced)
	# From one process: cp and sleep would take longer than the
	# debounce under emulation (make vmtest).
	wms=$(python3 -c '
import sys, time
t0 = time.monotonic()
for i, src in enumerate(sys.argv[2:]):
    if i:
        time.sleep(0.02)
    with open(src) as s, open(sys.argv[1], "w") as d:
        d.write(s.read())
print(round((time.monotonic() - t0) * 1000))' "$f" "$work"/burst.[123])
	# The final state, polled (a busy machine syncs late); then the count.
	be=$(until_eq "198.18.2.11:8443,198.18.2.12:8443" 30 www_backends)
	check "final state: shop/www backends in snilb routes" \
		"198.18.2.11:8443,198.18.2.12:8443" "$be"
	n=$(($(synced) - n0))
	# Within the debounce (100 ms of quiet) the writes coalesce; a busy
	# machine can space them wider, and then each may sync.
	max=2
	[ "$wms" -ge 100 ] && max=3
	if [ "$n" -ge 1 ] && [ "$n" -le "$max" ]; then
		ok "3 writes in $wms ms: $n msg=synced line(s) (at most $max)"
	else
		bad "3 writes in $wms ms: $n msg=synced lines, want 1 to $max"
	fi
	out=$(at cli timeout 150 python3 "$here/clients.py" seq 30 www.example.com $vip4)
	check "final state: 30 connections to www.example.com, b1 and b2" \
		"ok=30 failed=0 backends=b1:X,b2:Y" \
		"$(sed 's/b1:[0-9]*/b1:X/; s/b2:[0-9]*/b2:Y/' <<<"$out")"
	n0=$(synced)
	cp "$work/shop.good" "$f"
	wait_log "msg=synced" "$n0"
	check "restored: www.example.com -> b1" b1 "$(get www.example.com)"
}

# Summary of loop records: awk over START RC BACKEND lines.
# answered N NAME: "yes" once the records of start_loops NAME hold N
# answers.
answered() {
	[ "$(cat "$work/$2".* 2>/dev/null | awk '$2 == 0' | wc -l)" -ge "$1" ] &&
		echo yes || echo no
}
# store/checkout's backends on listener 0, as snilb routes shows them.
checkout_backends() {
	sn routes -o json | python3 -c '
import json, sys
for r in json.load(sys.stdin)["routes"]:
    if r["hostname"] == "checkout.example.com" and r["listener"] == 0:
        print(",".join(sorted(b.split("*")[0] for b in r["backends"].split(","))))
' 2>&1
}

# flip_report FLIP_US SWITCH_MS FILES...: "total fails badbackend
# late_blue counts first_green_ms last_blue_ms"; late: started SWITCH_MS
# after the flip or later, not on green-1.
flip_report() {
	local flip=$1 sw=$2
	shift 2
	awk -v flip="$flip" -v sw="$sw" '
	{ t = $1; gsub(/\./, "", t); t = t + 0; n++
	  if ($2 != 0 || $3 == "") { fail++; next }
	  c[$3]++
	  if ($3 != "blue-1" && $3 != "blue-2" && $3 != "green-1") other++
	  d = (t - flip) / 1000
	  if ($3 == "green-1" && (fg == "" || d < fg)) fg = d
	  if ($3 != "green-1" && (lb == "" || d > lb)) lb = d
	  if (d >= sw && $3 != "green-1") late++ }
	END { s = ""; for (k in c) s = s k ":" c[k] " "
	  printf "%d %d %d %d %s first_green=%+.0fms last_blue=%+.0fms\n", n, fail + 0, other + 0, late + 0, s, fg, lb }' "$@"
}

# 4. Blue/green: the Service selector flipped under load and during a
# long download.
t_flip() {
	local f=$man/30-store-bluegreen.yaml flip r tot fails other late
	local counts rest dlbe dl_alive sw flip_t n
	download flipdl checkout.example.com 24 4M
	local fdl=$dl
	# Until stopped, once green has answered after the switch.
	start_loops flip 180 4000 checkout.example.com checkout.example.com \
		checkout.example.com checkout.example.com
	# Blue answers first: 8 of them (each loop's first two, or so).
	[ "$(until_eq yes 60 answered 8 flip)" = yes ] ||
		bad "flip: fewer than 8 answers before the flip"
	sed -i 's/^    color: blue$/    color: green/' "$f"
	flip_t=$EPOCHREALTIME flip=$(us "$flip_t")
	grep -q '^    color: green$' "$f" || bad "flip: the sed did not match"
	kill -0 "$fdl" 2>/dev/null && dl_alive=yes || dl_alive=no
	# The switch, as the kernel's routes show it (a busy machine syncs
	# late): what starts after it must reach green-1.
	until_eq 198.18.2.13:9443 30 checkout_backends >/dev/null
	sw=$(ms_since "$flip_t")
	echo "     snilb routes, the kernel switched $sw ms after the flip:"
	sn routes | grep -E 'LISTENER|checkout' | sed 's/^/       /'
	n=$(cat "$work"/flip.* | awk '$2 == 0' | wc -l)
	until_eq yes 60 answered $((n + 8)) flip >/dev/null
	touch "$work/stop-flip"
	wait "${loops[@]}"
	wait "$fdl"
	read -r tot fails other late rest <<<"$(flip_report "$flip" "$sw" "$work"/flip.*)"
	echo "     $tot requests: $rest"
	[ "$fails" = 0 ] || awk '$2 != 0 || $3 == "" { print "     failed:", $0 }' \
		"$work"/flip.*
	check "flip: failed requests among $tot" 0 "$fails"
	check "flip: answers from outside blue-1/blue-2/green-1" 0 "$other"
	check "flip: requests started after the kernel switched, not on green-1" 0 "$late"
	case $rest in
	*green-1:*)
		r=${rest#*first_green=}
		ok "flip: first green-1 answer started ${r%% *} after the edit, last blue one ${rest#*last_blue=}" ;;
	*) bad "flip: green-1 never answered" ;;
	esac
	case $rest in
	*blue-*) ok "flip: blue answered before the flip" ;;
	*) bad "flip: no blue answer before the flip" ;;
	esac
	dlbe=$(download_result flipdl)
	case $dlbe in
	blue-1|blue-2)
		if [ "$dl_alive" = yes ]; then
			ok "flip: 24 MB download running across the flip finished byte-exact on $dlbe"
		else
			bad "flip: the download was over before the flip (test too fast)"
		fi ;;
	*) bad "flip: download across the flip: $dlbe" ;;
	esac
	sn flows >/dev/null
}

# 6. kill -9 of the agent under load, 2 s without an agent, a new agent
# adopting the pinned data plane.
t_restart() {
	local kill_t start_t tot fails r f h want bad_be=0 n_gap dlbe n
	download restartdl www.example.com 24 4M
	local rdl=$dl
	# checkout's backends depend on the flip having run: any Pod.
	# Until stopped: a VM without KVM restarts the agent slowly.
	start_loops restart 180 4000 www.example.com api.example.com \
		checkout.example.com www.example.com
	[ "$(until_eq yes 30 answered 4 restart)" = yes ] ||
		bad "kill -9: fewer than 4 answers before the kill"
	kill_t=$EPOCHREALTIME
	kill -9 "$agent"
	wait "$agent" 2>/dev/null
	# No agent for a while: 2 s, and 4 more answers at least.
	n=$(cat "$work"/restart.* | awk '$2 == 0' | wc -l)
	until_eq yes 30 answered $((n + 4)) restart >/dev/null
	while [ "$(ms_since "$kill_t")" -lt 2000 ]; do sleep 0.1; done
	start_t=$EPOCHREALTIME
	if start_agent; then
		r=$(grep -F 'msg="data plane loaded"' "$alog" | tail -1)
		case $r in
		*adopted=yes*) ok "new agent adopted the pinned data plane ($(ms_since "$start_t") ms to running)" ;;
		*) bad "new agent: no adoption in: $r" ;;
		esac
	else
		bad "restart: the new agent did not come up"
	fi
	# 4 answers more once the new agent runs, then the loops end.
	n=$(cat "$work"/restart.* | awk '$2 == 0' | wc -l)
	until_eq yes 60 answered $((n + 4)) restart >/dev/null
	touch "$work/stop-restart"
	wait "${loops[@]}"
	wait "$rdl"
	tot=0 fails=0
	for f in "$work"/restart.*; do
		case $f in
		*.1|*.4) want="^b1$" ;;
		*.2) want="^b2$" ;;
		*) want="^(blue-1|blue-2|green-1)$" ;;
		esac
		tot=$((tot + $(wc -l <"$f")))
		fails=$((fails + $(awk '$2 != 0 || $3 == ""' "$f" | wc -l)))
		bad_be=$((bad_be + $(awk '$2 == 0 && $3 != ""' "$f" |
			grep -vcE " 0 ${want#^}")))
	done
	n_gap=$(cat "$work"/restart.* | awk -v a="$(us "$kill_t")" \
		-v b="$(us "$start_t")" '{ t = $1; gsub(/\./, "", t); t += 0 }
		t > a && t < b { n++ } END { print n + 0 }')
	[ "$fails" = 0 ] || awk '$2 != 0 || $3 == "" { print "     failed:", $0 }' \
		"$work"/restart.*
	check "kill -9: failed requests among $tot ($n_gap while no agent ran)" \
		0 "$fails"
	check "kill -9: answers from the wrong backend" 0 "$bad_be"
	[ "$n_gap" -gt 0 ] || bad "kill -9: no request made while no agent ran"
	r=$(sn routes)
	if [ $? -eq 0 ] && ! grep -q "NOT IN KERNEL" <<<"$r" &&
	   grep -q "shop/www" <<<"$r" && grep -q "store/checkout" <<<"$r"; then
		ok "snilb routes after the restart: every route, none NOT IN KERNEL"
	else
		bad "snilb routes after the restart: $r"
	fi
	dlbe=$(download_result restartdl)
	check "kill -9: 24 MB download started before the kill, byte-exact" \
		b1 "$dlbe"
}

json_ok() { python3 -c 'import json,sys; json.load(sys.stdin)' 2>/dev/null; }

# 7. The CLI and the metrics.
t_cli() {
	local c out rc want m v
	# Slow enough to outlast the CLI calls below (seconds each under
	# emulation); killed after them.
	download clidl www.example.com 8 256K
	local cdl=$dl
	# Until the download is spliced (seconds under emulation).
	for _ in $(seq 50); do
		sn flows | grep -q shop/www && break
		sleep 0.1
	done
	for c in flows routes backends stats status; do
		case $c in
		routes) want="shop/www www.example.com store/checkout checkout.example.com dev/preview" ;;
		backends) want="198.18.2.11:8443 198.18.2.12:8443 shop/api" ;;
		flows) want="shop/www" ;;
		stats) want="spliced shop/www store/checkout" ;;
		status) want="running g0 br0 198.18.0.10:443" ;;
		esac
		out=$(sn "$c")
		rc=$?
		m=""
		for w in $want; do grep -qF -- "$w" <<<"$out" || m="$m $w"; done
		if [ $rc -eq 0 ] && [ -z "$m" ]; then
			ok "snilb $c: exit 0, mentions $want"
		else
			bad "snilb $c: exit $rc, missing:${m:- nothing}"
			sed 's/^/       /' <<<"$out" | head -20
		fi
		out=$(sn "$c" -o json)
		if json_ok <<<"$out"; then
			ok "snilb $c -o json parses"
		else
			bad "snilb $c -o json does not parse"
		fi
	done
	kill "$cdl"
	wait "$cdl"
	out=$(at gw curl -s --max-time 3 http://127.0.0.1:9100/metrics)
	v=$(awk '$1 == "snilb_route_connections_total{namespace=\"shop\",name=\"www\"}" { print $2 }' <<<"$out")
	if [ -n "$v" ] && awk -v v="$v" 'BEGIN { exit !(v > 0) }'; then
		ok "metrics: snilb_route_connections_total shop/www = $v"
	else
		bad "metrics: snilb_route_connections_total shop/www: '$v'"
	fi
	v=$(awk '$1 == "snilb_agent_syncs_total" { print $2 }' <<<"$out")
	if [ -n "$v" ]; then ok "metrics: snilb_agent_syncs_total = $v"
	else bad "metrics: no snilb_agent_syncs_total"; fi
	# Loaded when needed (user/lib/dl.h): the metrics' libmicrohttpd, and
	# no libcurl for an agent that reads manifests.
	check "an agent on manifests, serving metrics, maps libmicrohttpd and no libcurl" \
		"libmicrohttpd" "$(grep -o -E 'lib(curl|microhttpd)' "/proc/$agent/maps" | sort -u | tr '\n' ' ' | sed 's/ $//')"
	# The flow table is walked each second at this size (reappace.h).
	read -r v p w <<<"$(awk '$1 == "snilb_agent_reaper_passes_total" { n = $2 }
		$1 == "snilb_agent_reaper_pass_seconds" { p = $2 }
		$1 == "snilb_agent_reaper_interval_seconds" { w = $2 }
		END { print n, p, w }' <<<"$out")"
	if [ "${v:-0}" -gt 0 ] && [ "$w" = 1.000 ] &&
	   awk -v p="$p" 'BEGIN { exit !(p > 0 && p < 0.2) }'; then
		ok "metrics: the reaper walked $v times, the last in $p s, one a second"
	else
		bad "metrics: reaper passes '$v', last '$p' s, interval '$w' s"
	fi
}

# 8. detach: refused while the agent runs; after it stops, traffic still
# flows until detach removes everything.
t_detach() {
	local rc out
	sn detach >"$work/detach.out" 2>&1
	rc=$?
	if [ $rc -ne 0 ] && kill -0 "$agent" 2>/dev/null; then
		ok "snilb detach refused while the agent runs (exit $rc)"
	else
		bad "snilb detach while the agent runs: exit $rc: $(cat "$work/detach.out")"
	fi
	kill -TERM "$agent"
	for _ in $(seq 50); do kill -0 "$agent" 2>/dev/null || break; sleep 0.1; done
	if kill -0 "$agent" 2>/dev/null; then
		bad "agent still running 5 s after SIGTERM"
		kill -9 "$agent"
	fi
	wait "$agent" 2>/dev/null
	check "agent stopped (SIGTERM): www.example.com still -> b1" b1 \
		"$(get www.example.com)"
	sn detach >"$work/detach.out" 2>&1
	check "snilb detach after the agent stopped: exit" 0 "$?"
	if [ -z "$(ls -A "$pin" 2>/dev/null)" ]; then
		ok "detach: no pin left under the pin path"
	else
		bad "detach: pins left: $(ls -A "$pin" | tr '\n' ' ')"
	fi
	out=$(at gw tc filter show dev g0 ingress; at gw tc filter show dev br0 ingress)
	if grep -q bpf <<<"$out"; then
		bad "detach: a BPF program still on g0/br0 ingress: $out"
	else
		ok "detach: no BPF filter on g0 or br0 ingress"
	fi
	out=$(TMO=2 get www.example.com)
	case $out in
	b[0-9]*|blue-*|green-*) bad "detach: www.example.com still answered by $out" ;;
	*) ok "detach: the VIP is no longer answered by a backend ($out)" ;;
	esac
}

. "$here/agent_nodes.sh"

t0_all=$EPOCHREALTIME
if ! setup; then
	bad "setup"
	echo "$passed passed, $failed failed"
	exit 1
fi
if [ -n "${ONLY:-}" ]; then
	$ONLY
else
	t_routing
	t_edits
	t_invalid
	t_burst
	t_cli
	t_nodes
	t_flip
	t_restart
	t_detach
fi
echo "agent e2e: $(ms_since "$t0_all") ms"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
