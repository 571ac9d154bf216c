# shellcheck shell=bash
# The node table in `snilb status` (docs/multinode.md): the agent
# restarted with --peers FILE, the file changed twice, then without
# --peers. Sourced by tests/e2e/agent.sh, which holds the state.

stop_agent() {
	kill -TERM "$agent"
	for _ in $(seq 100); do kill -0 "$agent" 2>/dev/null || break; sleep 0.1; done
	kill -0 "$agent" 2>/dev/null && { bad "agent alive 10 s after SIGTERM"; kill -9 "$agent"; }
	wait "$agent" 2>/dev/null
}

# status -o json's node_table as python prints EXPR over t.
nodes_json() {	# PYTHON-EXPR
	sn status -o json | python3 -c 'import json,sys
t = json.load(sys.stdin)["node_table"]
print('"$1"')' 2>&1
}

# The table's rows "NAME ADDRESS STATE SLOTS PREV" from the JSON, sorted.
nodes_rows() {
	nodes_json '" ".join("%s/%s/%s%s/%d/%d" % (n["name"], n["address"], n["state"], "*" if n["self"] else "", n["slots"], n["prev_slots"]) for n in t["nodes"])'
}

# Until the agent logged its Nth "node table" line (the file is read
# again within a second).
await_table() {	# COUNT-BEFORE
	wait_log 'msg="node table"' "$1" 30 ||
		bad "no new 'node table' line in the agent's log within 30 s"
}

t_nodes() {
	local out g1 g2 g3 n m rows still
	out=$(sn status)
	if grep -qx 'node table: none (one node alone: snilb agent --peers makes one)' <<<"$out"; then
		ok "snilb status without --peers: 'node table: none ...' in one line"
	else
		bad "snilb status without --peers: $(grep 'node table' <<<"$out")"
	fi
	check "snilb status -o json without --peers: node_table" None \
		"$(nodes_json 't')"

	# gw-a (this node) and a draining peer, listed out of order.
	printf '# test\ngw-b 198.18.1.250 draining\ngw-a 198.18.1.1\n' \
		>"$work/peers"
	stop_agent
	n=$(logn 'msg="node table"')
	start_agent --node-name gw-a --peers "$work/peers" ||
		{ bad "agent with --peers did not start"; return; }
	await_table "$n"
	out=$(sn status)
	g1=$(nodes_json '"%08x" % t["generation"]')
	if grep -q "^node table: generation $g1, previous 00000000; this node gw-a; steering on" <<<"$out" &&
	   grep -Eq '^gw-a +198\.18\.1\.1 +member \(this node\) +4093 +4093$' <<<"$out" &&
	   grep -Eq '^gw-b +198\.18\.1\.250 +draining +0 +0$' <<<"$out" &&
	   grep -Eq '^steered packets: out [0-9]+, in [0-9]+, second [0-9]+, orphan [0-9]+$' <<<"$out"; then
		ok "snilb status: generation $g1, gw-a this node with every slot, gw-b draining, the steer counters"
	else
		bad "snilb status with --peers (generation $g1):"
		sed -n '/^node table/,/^steered/p' <<<"$out" | sed 's/^/       /'
	fi
	check "status -o json: the nodes (name/address/state/slots/prev)" \
		"gw-a/198.18.1.1/member*/4093/4093 gw-b/198.18.1.250/draining/0/0" \
		"$(nodes_rows)"
	check "status -o json: self, active, steer keys" \
		"gw-a True in,orphan,out,second" \
		"$(nodes_json 't["self"], t["active"], ",".join(sorted(t["steer"]))')"
	# /metrics: the agent publishes the table at its next tick.
	g2=$(nodes_json 't["generation"]')
	for _ in $(seq 100); do
		m=$(at gw curl -s --max-time 3 http://127.0.0.1:9100/metrics |
			awk '$1 == "snilb_node_generation" { print $2 }')
		[ "$m" = "$g2" ] && break
		sleep 0.1
	done
	check "metrics: snilb_node_generation as status -o json's (within 10 s)" \
		"$g2" "$m"

	# A member joins: the slots split, the previous generation is the
	# first table (gw-a held every slot).
	n=$(logn 'msg="node table"')
	printf 'gw-a 198.18.1.1\ngw-b 198.18.1.250 draining\ngw-c 198.18.1.251\n' \
		>"$work/peers"
	await_table "$n"
	g2=$(nodes_json '"%08x" % t["generation"]')
	check "gw-c joins: previous generation = the first" "$g1" \
		"$(nodes_json '"%08x" % t["prev_generation"]')"
	[ "$g2" != "$g1" ] && ok "gw-c joins: generation $g1 -> $g2" ||
		bad "gw-c joins: generation still $g2"
	rows=$(nodes_rows)
	m=$(nodes_json 'sum(n["slots"] for n in t["nodes"] if n["name"] in ("gw-a","gw-c")), min(n["slots"] for n in t["nodes"] if n["name"] in ("gw-a","gw-c"))')
	if [[ $rows =~ ^gw-a/198.18.1.1/member\*/[0-9]+/4093\ gw-b/198.18.1.250/draining/0/0\ gw-c/198.18.1.251/member/[0-9]+/0$ ]] &&
	   [ "${m%% *}" = 4093 ] && [ "${m##* }" -gt 1500 ]; then
		ok "gw-c joins: slots now split gw-a/gw-c (4093, the least $((${m##* }))), all gw-a's before: $rows"
	else
		bad "gw-c joins: $rows (sum, least: $m)"
	fi
	out=$(sn status)
	if grep -Eq '^gw-c +198\.18\.1\.251 +member +[0-9]+ +0$' <<<"$out"; then
		ok "snilb status: gw-c member with its slots, none before"
	else
		bad "snilb status after gw-c joined:"
		sed -n '/^node table/,/^steered/p' <<<"$out" | sed 's/^/       /'
	fi

	# gw-b and gw-c leave: gone (the previous generation's only).
	n=$(logn 'msg="node table"')
	printf 'gw-a 198.18.1.1\n' >"$work/peers"
	await_table "$n"
	g3=$(nodes_json '"%08x" % t["generation"]')
	check "gw-b and gw-c leave: previous generation" "$g2" \
		"$(nodes_json '"%08x" % t["prev_generation"]')"
	rows=$(nodes_rows)
	if [[ $rows =~ ^gw-a/198.18.1.1/member\*/4093/[0-9]+\ gw-b/198.18.1.250/gone/0/0\ gw-c/198.18.1.251/gone/0/[0-9]+$ ]]; then
		ok "gw-b and gw-c leave ($g3): gone, gw-c's previous slots kept: $rows"
	else
		bad "gw-b and gw-c leave: $rows"
	fi
	out=$(sn status)
	# Still steering: gw-c's previous slots are asked (second chance).
	if grep -q "; steering on$" <<<"$out" &&
	   grep -Eq '^gw-c +198\.18\.1\.251 +gone +0 +[1-9][0-9]* *$' <<<"$out"; then
		ok "snilb status: still steering (the previous owners asked), gw-c gone with its previous slots"
	else
		bad "snilb status after gw-b and gw-c left:"
		sed -n '/^node table/,/^steered/p' <<<"$out" | sed 's/^/       /'
	fi

	# Without --peers again: the table is cleared.
	stop_agent
	start_agent || { bad "agent without --peers did not start"; return; }
	out=$(sn status)
	if grep -qx 'node table: none (one node alone: snilb agent --peers makes one)' <<<"$out"; then
		ok "agent restarted without --peers: 'node table: none' again"
	else
		bad "agent restarted without --peers: $(grep 'node table' <<<"$out")"
	fi
	still=$(get www.example.com)
	check "after the node table checks: www.example.com -> b1" b1 "$still"
}
