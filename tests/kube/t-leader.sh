# shellcheck shell=bash
# Leader election between two agents; the TLSRoute CRD missing,
# then installed. Sourced by tests/kube/run.sh,
# which holds the state and the order the checks run in.

# 5. Leader election: node-b (client certificate, own namespace and
# pins) against node-a.
t_leader() {
	local s0 w ids t_kill t_term h n
	start_b || { bad "node-b did not start"; return; }
	ok "node-b (client certificate, its own namespace and bpffs) running"
	check "node-b: every request authenticated (codes of cert:snilb-agent)" \
		"" "$(kq codes cert:snilb-agent | tr ' ' '\n' | grep -v '^200:\|^201:' | tr '\n' ' ')"
	check "Lease holder while node-a runs" node-a "$(kq lease)"

	# A change that needs a status write: only node-a writes.
	s0=$(kq lastseq)
	route shop lb1 lb1.example.com gone1 | apply
	if w=$(first_write "$s0" "TLSRoute shop/lb1" 50); then
		sleep 2
		ids=$(kq writes "$s0" | awk '{print $3}' | sort -u | tr '\n' ' ')
		check "node-a leads: identities of the status writes" \
			"token:$tok_a " "$ids"
	else
		bad "no status write for shop/lb1 within 30 s"
	fi

	# kill -9 node-a: node-b takes over once the Lease has expired.
	s0=$(kq lastseq)
	kill -9 "$agent_a"
	wait "$agent_a" 2>/dev/null
	t_kill=$EPOCHREALTIME
	route shop lb2 lb2.example.com gone2 | apply
	if w=$(first_write "$s0" "TLSRoute shop/lb2" 400); then
		read -r _ h ids _ <<<"$w"
		n=$(write_ms "$t_kill" "$h")
		# Lease 15 s from node-b's last sight of a renewal (up to 2 s
		# after it), node-b's 2 s tick, the write: ~20 s; not before the
		# Lease expired, and 40 s at most on a busy machine.
		if [ "$ids" = cert:snilb-agent ] && [ "$n" -ge 13000 ] &&
		   [ "$n" -le 40000 ]; then
			ok "kill -9 node-a: node-b took over and wrote the pending status $n ms after the kill (aim ~20 s)"
		else
			bad "kill -9 node-a: first status write of shop/lb2 by $ids $n ms after the kill"
		fi
	else
		bad "kill -9 node-a: no status write of shop/lb2 within 40 s"
	fi
	check "Lease holder after node-a's kill -9" node-b "$(kq lease)"
	check "kill -9 node-a: www.example.com still -> b1" b1 \
		"$(get www.example.com)"

	# node-a again: it does not write while node-b holds the Lease.
	if start_a; then
		ok "node-a restarted"
	else
		bad "node-a did not restart"
		return
	fi
	s0=$(kq lastseq)
	route shop lb3 lb3.example.com gone3 | apply
	if first_write "$s0" "TLSRoute shop/lb3" 50 >/dev/null; then
		sleep 3
		ids=$(kq writes "$s0" | awk '{print $3}' | sort -u | tr '\n' ' ')
		check "node-a back, node-b leads: identities of the status writes" \
			"cert:snilb-agent " "$ids"
	else
		bad "no status write for shop/lb3 within 30 s"
	fi
	check "restarted node-a: lb3.example.com reset (no backend)" reset \
		"$(get lb3.example.com)"
	check "restarted node-a: www.example.com -> b1" b1 "$(get www.example.com)"

	# SIGTERM node-b: it releases the Lease, node-a takes over at once.
	s0=$(kq lastseq)
	kill -TERM "$agent_b"
	for n in $(seq 50); do kill -0 "$agent_b" 2>/dev/null || break; sleep 0.1; done
	kill -0 "$agent_b" 2>/dev/null && { bad "node-b alive 5 s after SIGTERM"; kill -9 "$agent_b"; }
	wait "$agent_b" 2>/dev/null
	n=$?
	t_term=$EPOCHREALTIME
	check "SIGTERM node-b: exit status" 0 "$n"
	if grep -q 'msg="stopping' "$work/b.log"; then
		ok "SIGTERM node-b: logged 'stopping'"
	else
		bad "SIGTERM node-b: no 'stopping' in its log (killed by the signal?)"
	fi
	route shop lb4 lb4.example.com gone4 | apply
	if w=$(first_write "$s0" "TLSRoute shop/lb4" 100); then
		read -r _ h ids _ <<<"$w"
		n=$(write_ms "$t_term" "$h")
		# A released Lease is taken at node-a's next 2 s tick; one left
		# to expire would take 15 s: under 12 s tells them apart on a
		# busy machine.
		if [ "$ids" = "token:$tok_a" ] && [ "$n" -le 12000 ]; then
			ok "SIGTERM node-b: node-a took over and wrote status $n ms after node-b exited (aim 3 s; the Lease released, not expired)"
		else
			bad "SIGTERM node-b: first status write of shop/lb4 by $ids $n ms after node-b exited (want node-a before the Lease's 15 s)"
		fi
	else
		bad "SIGTERM node-b: no status write of shop/lb4 within 30 s"
	fi
	check "Lease holder after node-b's SIGTERM" node-a "$(kq lease)"
}

# 6. TLSRoute not served, then served (v1alpha2 only).
t_crd() {
	local t0 n0 s0 w
	n0=$(logn 'TLSRoute not served' "$work/a.log")
	ctl POST /crd '{"tlsroute_versions": []}' >/dev/null
	t0=$EPOCHREALTIME
	if wait_log 'TLSRoute not served' "$work/a.log" "$n0" 100; then
		ok "TLSRoute withdrawn: the agent logs it ($(ms_since "$t0") ms): $(grep -F 'TLSRoute not served' "$work/a.log" | tail -1 | sed 's/.*msg=//')"
	else
		bad "TLSRoute withdrawn: no 'TLSRoute not served' in the log within 30 s"
	fi
	route shop crdnew crdnew.example.com api | apply
	timed "TLSRoute not served: routes nothing" reset www.example.com 3000
	check "TLSRoute not served: a new route's hostname resets" reset \
		"$(get crdnew.example.com)"
	if kill -0 "$agent_a" 2>/dev/null; then
		ok "TLSRoute not served: the agent keeps running"
	else
		bad "TLSRoute not served: the agent exited"
	fi
	s0=$(kq lastseq)
	ctl POST /crd '{"tlsroute_versions": ["v1alpha2"]}' >/dev/null
	t0=$EPOCHREALTIME
	if poll b2 crdnew.example.com "$t0" 40000; then
		if [ "$ms" -le 35000 ]; then
			ok "TLSRoute served again (v1alpha2): routes back without a restart in $ms ms"
		else
			bad "TLSRoute served again: routes back only after $ms ms"
		fi
	else
		bad "TLSRoute served again: crdnew.example.com not routed within 40 s"
	fi
	still_routing "TLSRoute served again"
	if w=$(first_write "$s0" "TLSRoute shop/crdnew" 50); then
		case $w in
		*" gateway.networking.k8s.io/v1alpha2"*)
			ok "status of shop/crdnew written under v1alpha2" ;;
		*) bad "status of shop/crdnew: $w" ;;
		esac
	else
		bad "no status write for shop/crdnew"
	fi
	w=$(kq writes "$s0" | awk '$4 == "TLSRoute" && $6 != "gateway.networking.k8s.io/v1alpha2"')
	check "every TLSRoute status write since: v1alpha2" "" "$w"
	if grep -q 'kube: kind now served.*version=v1alpha2' "$work/a.log"; then
		ok "agent log: kind now served, version=v1alpha2"
	else
		bad "agent log: no 'kind now served ... version=v1alpha2'"
	fi
	ctl POST /crd '{"tlsroute_versions": null}' >/dev/null
}
