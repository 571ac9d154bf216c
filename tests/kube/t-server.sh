# shellcheck shell=bash
# The API server away and back under traffic; token rotation. Sourced by tests/kube/run.sh,
# which holds the state and the order the checks run in.

# Client loops in the client namespace until $work/stop exists (at most
# 60 s, 3000 requests each): one "START RC BACKEND" line per request.
start_loops() {	# NAME HOST...
	local name=$1 i=0
	shift
	rm -f "$work/stop"
	loops=()
	for h in "$@"; do
		i=$((i + 1))
		ip netns exec "$pfx-cli" timeout 70 bash -c '
			host=$1 out=$2 stop=$3 end=$((SECONDS + 60)) n=0
			: >"$out"
			while [ ! -e "$stop" ] && [ $n -lt 3000 ] &&
			      [ $SECONDS -lt $end ]; do
				t0=$EPOCHREALTIME
				b=$(curl -sk --max-time 5 --resolve "$host:443:198.18.0.10" \
					"https://$host/" 2>/dev/null)
				rc=$?
				b=${b#backend=}
				echo "$t0 $rc ${b%%[[:space:]]*}" >>"$out"
				n=$((n + 1))
			done' loop "$h" "$work/$name.$i" "$work/stop" &
		loops+=($!)
	done
}
stop_loops() { touch "$work/stop"; wait "${loops[@]}"; }

# 4. The API server away and back, under traffic.
t_down() {
	local t_down t_up n0 tot fails wrong f
	n0=$(logn 'kube: recovered' "$work/a.log")
	start_loops down www.example.com api.example.com
	sleep 1
	ctl POST /down >/dev/null
	t_down=$EPOCHREALTIME
	route shop whiledown whiledown.example.com api | apply
	sleep 4
	check "API server down: whiledown.example.com not routed yet" reset \
		"$(get whiledown.example.com)"
	if kill -0 "$agent_a" 2>/dev/null; then
		ok "API server down: the agent keeps running"
	else
		bad "API server down: the agent exited"
	fi
	ctl POST /up >/dev/null
	t_up=$EPOCHREALTIME
	echo "     API server down for $(ms_since "$t_down") ms"
	if poll b2 whiledown.example.com "$t_up" 35000; then
		ok "after /up: the change made while down reached the kernel in $ms ms (aim 10 s)"
	else
		bad "after /up: whiledown.example.com not routed within 35 s"
	fi
	sleep 0.5
	stop_loops
	tot=0 fails=0 wrong=0
	for f in "$work"/down.*; do
		tot=$((tot + $(wc -l <"$f")))
		fails=$((fails + $(awk '$2 != 0 || $3 == ""' "$f" | wc -l)))
	done
	wrong=$(($(awk '$2 == 0 && $3 != "b1"' "$work/down.1" | wc -l) +
		$(awk '$2 == 0 && $3 != "b2"' "$work/down.2" | wc -l)))
	# What failed, when: START_EPOCH CURL_EXIT BACKEND (for a diagnosis).
	[ "$fails" = 0 ] || awk '$2 != 0 || $3 == "" { print "     failed:", $0 }' \
		"$work"/down.*
	check "API server away and back: failed requests among $tot" 0 "$fails"
	check "API server away and back: answers from the wrong backend" 0 "$wrong"
	if wait_log 'kube: recovered' "$work/a.log" "$n0" 50; then
		ok "agent log: kube: recovered"
	else
		bad "agent log: no 'kube: recovered' after /up"
	fi
}

# 7. Token rotation: the server forgets the old token, node-a's tokenFile
# has the new one.
t_rotate() {
	local tok_b i n s0 w
	tok_b=b-$RANDOM$RANDOM
	echo "$tok_b" >"$k/a.token.new"
	mv "$k/a.token.new" "$k/a.token"
	printf '%s\nspare-%s\n' "$tok_b" "$RANDOM" >"$k/tokens.new"
	mv "$k/tokens.new" "$k/tokens"
	reset_requests
	tok_a=$tok_b
	# Watches are redone within 4 s: each is a request with a token.
	for i in $(seq 120); do
		n=$(kq watchers "token:$tok_b")
		[ "$n" -ge 8 ] && break
		sleep 0.1
	done
	check "after the rotation: kinds watched with the new token" 8 "$n"
	echo "     requests refused (401) around the rotation: $(kq codes -) (unauthenticated requests, by code)"
	reset_requests
	s0=$(kq lastseq)
	route shop rotated rotated.example.com www | apply
	timed "after the rotation: a new route" b1 rotated.example.com 2000
	for i in $(seq 50); do
		w=$(kq writes "$s0" | grep 'TLSRoute shop/rotated')
		[ -n "$w" ] && break
		sleep 0.1
	done
	case $w in
	*" token:$tok_b TLSRoute"*) ok "after the rotation: status written with the new token" ;;
	*) bad "after the rotation: status write of shop/rotated: '$w'" ;;
	esac
	check "after the rotation: requests refused since every kind was watched again" \
		"none" "$(kq codes - | tr ' ' '\n' | grep '^401:' || echo none)"
}
