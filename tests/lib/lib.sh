# shellcheck shell=bash
# What every shell suite under tests/ shares: sourced, after $pfx (the
# namespace prefix) is known. Results: ok/bad/check count into $passed
# and $failed; each suite prints "N passed, N failed" itself.

passed=${passed:-0} failed=${failed:-0}
tests_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# at NS CMD...: CMD in the namespace $pfx-NS. Not for a process started in
# the background to be killed later: `at ... &` makes $! a subshell, and a
# kill of it leaves CMD running; use `ip netns exec "$pfx-NS" CMD &`.
at() { local n=$1; shift; ip netns exec "$pfx-$n" "$@"; }

ok() { passed=$((passed + 1)); echo "ok   $*"; }
bad() { failed=$((failed + 1)); echo "FAIL $*"; }
check() {	# NAME EXPECTED GOT
	if [ "$2" = "$3" ]; then ok "$1"; else bad "$1: want '$2', got '$3'"; fi
}

us() { local t=${1/./}; echo $((10#$t)); }	# $EPOCHREALTIME -> us
ms_since() { echo $((($(us "$EPOCHREALTIME") - $(us "$1")) / 1000)); }

# One TLS connection through the VIP: the backend's name, "reset" (curl
# 35/56: an RST), or "curlN". Needs cli() (the client namespace) and $vip4.
get() {	# HOST [ADDR]
	local out rc
	out=$(cli curl -sk --max-time "${TMO:-3}" \
		--resolve "$1:443:${2:-$vip4}" "https://$1/" 2>/dev/null)
	rc=$?
	case $rc in
	0) out=${out#backend=}; echo "${out%%[[:space:]]*}" ;;
	35|56) echo reset ;;
	*) echo "curl$rc" ;;
	esac
}

# The usual teardown (trap cleanup EXIT): the processes in $pids, the
# topology of tests/e2e/topo.sh under $pfx, the bpffs mounted at
# $work/bpffs, $work itself. KEEP=1 keeps them for a look by hand.
cleanup() {
	[ -n "${KEEP:-}" ] && { echo "kept $pfx ($work)"; return; }
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	"$tests_dir/e2e/topo.sh" down "$pfx"
	umount "$work/bpffs"
	rm -rf "$work"
}

# wait_for PATTERN FILE [SECONDS]: poll FILE for PATTERN (default 30 s, a
# busy machine's worth); when it does not come, say what was awaited and
# show the file's last lines.
wait_for() {
	local end=$((SECONDS + ${3:-30}))
	while [ $SECONDS -lt $end ]; do
		grep -q -- "$1" "$2" 2>/dev/null && return 0
		sleep 0.1
	done
	echo "     gave up after ${3:-30} s waiting for '$1' in $2; last lines:"
	tail -5 "$2" 2>/dev/null | sed 's/^/     /'
	return 1
}

# dp_stat NAME: a counter of the data plane running as $dp_pid (dpctl, its
# log $work/dp.log), from a fresh dump: SIGUSR1, then poll for it.
dp_stat() {
	local n end=$((SECONDS + 30))
	n=$(grep -c '^stat flows ' "$work/dp.log")
	kill -USR1 "$dp_pid"
	while [ $SECONDS -lt $end ]; do
		[ "$(grep -c '^stat flows ' "$work/dp.log")" -gt "$n" ] && break
		sleep 0.1
	done
	grep "^stat $1 " "$work/dp.log" | tail -1 | cut -d' ' -f3
}

# dp_counters: the counters of a fresh dump (dp_stat's) that are not 0, as
# NAME=VALUE words: what a failure or a suite's end prints.
dp_counters() {
	dp_stat flows >/dev/null
	awk '/^stat flows / { s = "" }
		/^stat / && $3 != 0 { s = s $2 "=" $3 " " }
		END { print s }' "$work/dp.log"
}

# until_eq WANT SECONDS CMD...: run CMD every 0.1 s until it prints WANT, at
# most SECONDS (a busy machine's worth); print its last output, for check()
# to compare. When the deadline passes, say on stderr what was awaited.
until_eq() {
	local want=$1 secs=$2 end=$((SECONDS + $2)) got
	shift 2
	while :; do
		got=$("$@")
		[ "$got" = "$want" ] && break
		if [ $SECONDS -ge $end ]; then
			echo "     gave up after $secs s waiting for '$*' to print '$want'" >&2
			break
		fi
		sleep 0.1
	done
	echo "$got"
}

# The hardening a shipped binary has (scripts/hardened.sh), as readelf
# sees it: "pie relro now canary fortify", each word only when present.
elf_hardening() {	# FILE
	local h d s out=
	h=$(readelf -hW "$1" 2>/dev/null)
	d=$(readelf -dlW "$1" 2>/dev/null)
	s=$(readelf -sW --dyn-syms "$1" 2>/dev/null)
	grep -q 'Type:.*DYN' <<<"$h" && grep -q 'FLAGS_1.*PIE' <<<"$d" && out="pie"
	grep -q 'GNU_RELRO' <<<"$d" && out="$out relro"
	grep -qE 'BIND_NOW|FLAGS.*NOW' <<<"$d" && out="$out now"
	grep -q '__stack_chk_fail' <<<"$s" && out="$out canary"
	grep -qE '__[a-z]+_chk@' <<<"$s" && out="$out fortify"
	echo "${out# }"
}

# The backends of examples/: b1..b3 on 8443 (shop/www, shop/api,
# dev/preview and the suites' own routes) and the checkout Pods blue-1,
# blue-2, green-1 on 9443 of the same namespaces (tests/e2e/topo.sh), each
# tests/e2e/backend.py with a self-signed certificate; logs in
# $work/NAME.log, pids added to $pids. Needs $pfx, $work, $top.
start_example_backends() {
	set -- b1 blue-1 b2 blue-2 b3 green-1
	while [ $# -gt 0 ]; do
		openssl req -x509 -newkey ec \
			-pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
			-subj "/CN=$1" -keyout "$work/$1.key" \
			-out "$work/$1.crt" 2>/dev/null || return 1
		# Not through at(): $! must be the backend, for the cleanup
		# (a subshell's pid left backends running after a suite).
		ip netns exec "$pfx-$1" python3 "$top/tests/e2e/backend.py" \
			--name "$1" --cert "$work/$1.crt" --key "$work/$1.key" \
			>"$work/$1.log" 2>&1 &
		pids+=($!)
		ip netns exec "$pfx-$1" python3 "$top/tests/e2e/backend.py" \
			--name "$2" --port 9443 --cert "$work/$1.crt" \
			--key "$work/$1.key" >"$work/$2.log" 2>&1 &
		pids+=($!)
		shift 2
	done
}

# PASS/FAIL lines on stdin counted as ok/bad, others shown (Python
# helpers' verdicts).
pass_fail_lines() {	# [INDENT]
	local line
	while IFS= read -r line; do
		case $line in
		PASS\ *) ok "${line#PASS }" ;;
		FAIL\ *) bad "${line#FAIL }" ;;
		"") ;;
		*) echo "${1:-}$line" ;;
		esac
	done
}

# Manifests a suite writes beside examples/ (examples/00-gateway.yaml's
# Gateway infra/edge): a namespace its routes may attach from, and a
# TLSRoute NS/NAME for HOSTNAME to a Service NS/NAME (port 443) whose
# endpoints are ADDR...:PORT, all of one family (none: no endpoint).
yaml_namespace() {	# NS
	printf -- '---\napiVersion: v1\nkind: Namespace\nmetadata:\n'
	printf '  name: %s\n  labels: {snilb.io/gateway-access: "true"}\n' "$1"
}
yaml_route() {	# NS NAME HOSTNAME PORT [ADDR...]
	local ns=$1 name=$2 host=$3 port=$4 fam=IPv4 a
	shift 4
	case ${1:-} in *:*) fam=IPv6 ;; esac
	cat <<EOF
---
apiVersion: v1
kind: Service
metadata: {name: $name, namespace: $ns}
spec:
  ports: [{name: p, port: 443, targetPort: $port}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: $name-1
  namespace: $ns
  labels: {kubernetes.io/service-name: $name}
addressType: $fam
ports: [{name: p, port: $port}]
EOF
	if [ $# -eq 0 ]; then echo "endpoints: []"; else echo "endpoints:"; fi
	for a in "$@"; do
		printf -- '- addresses: ["%s"]\n  conditions: {ready: true}\n' "$a"
	done
	cat <<EOF
---
apiVersion: gateway.networking.k8s.io/v1
kind: TLSRoute
metadata: {name: $name, namespace: $ns}
spec:
  parentRefs: [{name: edge, namespace: infra}]
  hostnames: ["$host"]
  rules: [{backendRefs: [{name: $name, port: 443}]}]
EOF
}
