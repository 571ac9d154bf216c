#!/usr/bin/env bash
# A client loop for tests/e2e/agent.sh, run inside the client namespace:
# one curl after another to HOST through the VIP, until DUR seconds have
# passed or MAX requests were made. One line per request in OUT:
#   START_EPOCH CURL_EXIT BACKEND
# (BACKEND empty when nothing answered). Usage: loop.sh HOST DUR MAX OUT
# [STOP]: it also ends once the file STOP exists. Each request may take
# LOOP_TMO seconds (15: a handshake in a VM without KVM on a busy machine).
host=$1 dur=$2 max=$3 out=$4 stop=${5:-}
vip=${VIP:-198.18.0.10}
end=$((SECONDS + dur)) i=0
: >"$out"
while [ "$i" -lt "$max" ] && [ "$SECONDS" -lt "$end" ]; do
	[ -n "$stop" ] && [ -e "$stop" ] && break
	t0=$EPOCHREALTIME
	body=$(curl -sk --max-time "${LOOP_TMO:-15}" --resolve "$host:443:$vip" \
		"https://$host/" 2>/dev/null)
	rc=$?
	body=${body#backend=}
	echo "$t0 $rc ${body%%[[:space:]]*}" >>"$out"
	i=$((i + 1))
done
