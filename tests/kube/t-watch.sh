# shellcheck shell=bash
# How the agent takes the API server's answers: Retry-After, a
# continue token expiring, watches cut. Sourced by tests/kube/run.sh,
# which holds the state and the order the checks run in.

# 9. Retry-After on a 429 or a 503 is the server's word, as client-go
# takes it: the next try comes that long after, not sooner.
t_retry_after() {
	reset_requests
	ctl POST /config '{"inject": [
		{"verb": "watch", "path_regex": "/tlsroutes", "code": 429,
		 "count": 2, "retry_after": 2},
		{"verb": "watch", "path_regex": "/api/v1/services", "code": 503,
		 "count": 2, "retry_after": 3}]}' >/dev/null
	# Watches are redone every 4 s: each kind fails twice, then watches.
	kq_check retries 30 /tlsroutes \
		2 2
	kq_check retries 30 /api/v1/services 2 3
	ctl POST /config '{"inject": []}' >/dev/null
	if grep -q 'msg="kube: watch failed" kind=TLSRoute status=429 .*retry_ms=2000' "$work/a.log"; then
		ok "agent log: kube: watch failed status=429 ... retry_ms=2000"
	else
		bad "agent log: no 'watch failed' status=429 with retry_ms=2000"
	fi
	still_routing "after the 429s and 503s"
}

# 10. A continue token that expires while the agent relists (compacted
# between two pages): the list starts again at once, not after a
# failure's backoff; the second time as one list without pages.
t_relist_continue() {
	local n0 f0 t410 tdone= i seq
	n0=$(logn 'msg="kube: listed" kind=TLSRoute' "$work/a.log")
	f0=$(logn 'msg="kube: list failed"' "$work/a.log")
	reset_requests
	# The next TLSRoute watch (within 4 s) expired: a relist, in pages
	# of 2, every page after a first one answered 410 (8 times at most).
	ctl POST /config '{"page_size_cap": 2, "inject": [
		{"verb": "watch", "path_regex": "/tlsroutes", "code": 410,
		 "count": 1},
		{"verb": "list", "path_regex": "tlsroutes\\?.*continue=",
		 "code": 410, "count": 8}]}' >/dev/null
	for i in $(seq 300); do
		if [ "$(logn 'msg="kube: listed" kind=TLSRoute' "$work/a.log")" -gt "$n0" ]; then
			tdone=$EPOCHREALTIME
			break
		fi
		sleep 0.1
	done
	t410=$(kq first410 /tlsroutes)
	seq=$(kq listseq /tlsroutes | tr '\n' ',')
	ctl POST /config '{"page_size_cap": 0, "inject": []}' >/dev/null
	if [ -z "$t410" ]; then
		bad "relist: no TLSRoute page answered 410 (lists: $seq)"
	elif [ -z "$tdone" ]; then
		bad "relist after a continue token's 410: TLSRoute not listed within 30 s (lists: $seq)"
	else
		i=$(( ($(us "$tdone") - $(us "$t410")) / 1000 ))
		if [ "$i" -le 5000 ]; then
			ok "relist after a continue token's 410: listed $i ms after it"
		else
			bad "relist after a continue token's 410: listed only $i ms after it"
		fi
	fi
	check "TLSRoute lists: a page, its 410, again, its 410, then one without pages" \
		"200 - 500,410 continue 500,200 - 500,410 continue 500,200 - -," "$seq"
	check "no 'kube: list failed' for the expired tokens" "$f0" \
		"$(logn 'msg="kube: list failed"' "$work/a.log")"
	still_routing "after the relist"
}

# 11. Watches that end without their last chunk (a proxy's idle limit, a
# server going away gracefully) are resumed at once and logged at info:
# not errors, and nothing is missed.
t_watch_cut() {
	local n0 e0 w0 i
	n0=$(logn 'watch ended without its last chunk' "$work/a.log")
	e0=$(grep -c 'level=error' "$work/a.log")
	w0=$(logn 'msg="kube: watch failed"' "$work/a.log")
	ctl POST /config '{"watch_end": "close"}' >/dev/null
	# Watches last 4 s: within ~5 s every kind's has been cut once.
	for i in $(seq 150); do
		[ "$(logn 'watch ended without its last chunk' "$work/a.log")" -ge $((n0 + 8)) ] && break
		sleep 0.1
	done
	route shop cut cut.example.com api | apply
	timed "a route added while watches are cut" b2 cut.example.com 3000
	ctl POST /config '{"watch_end": "chunk"}' >/dev/null
	i=$(($(logn 'watch ended without its last chunk' "$work/a.log") - n0))
	if [ "$i" -ge 8 ]; then
		ok "cut watches: $i logged at info: $(grep -F 'watch ended without its last chunk' "$work/a.log" | tail -1 | sed 's/^[^ ]* //')"
	else
		bad "cut watches: only $i 'watch ended without its last chunk' within 15 s"
	fi
	check "cut watches: no 'kube: watch failed' logged" 0 \
		$(($(logn 'msg="kube: watch failed"' "$work/a.log") - w0))
	check "cut watches: no level=error logged" 0 \
		$(($(grep -c 'level=error' "$work/a.log") - e0))
	del TLSRoute shop cut
	still_routing "after the cut watches"
}
