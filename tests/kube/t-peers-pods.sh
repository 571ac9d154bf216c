# shellcheck shell=bash
# --peers pods end to end (docs/multinode.md): an agent (node-b's
# namespace, its pins) whose node table is the DaemonSet's pods served by
# the API server: the ready ones sorted, a terminating one draining, pods
# of another namespace or app left out, every watch event acted on
# without a restart, the same input the same generation, and failed,
# partial or 410 lists and an invalid pod keeping the table. Read through
# `snilb status -o json` (the pinned maps), /metrics and the log.
# Sourced by tests/kube/run.sh, which holds the state and the order the
# checks run in.

pp_ns=gwpods
pp_log=$work/p.log
# A node name as clouds make them, longer than 63 characters (a node's
# name is a DNS subdomain: up to 253).
pp_d=node-d.gateway-pool-7f9c4d8b6-x2k4q.eu-west-1.compute.internal.example.com

# A pod of the DaemonSet: NAME NODE IP READY(True|False) [TERMINATING
# (yes)] [NAMESPACE] [APP]
pp_pod() {
	local del=""
	[ "${5:-}" = yes ] && del=', "deletionTimestamp": "2026-12-02T20:00:00Z"'
	printf -- '---\n{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "%s", "namespace": "%s", "labels": {"app.kubernetes.io/name": "%s", "controller-revision-hash": "1"}%s}, "spec": {"nodeName": "%s", "containers": [{"name": "agent"}]}, "status": {"podIP": "%s", "podIPs": [{"ip": "%s"}], "conditions": [{"type": "Ready", "status": "%s"}]}}\n' \
		"$1" "${6:-$pp_ns}" "${7:-snilb}" "$del" "$2" "$3" "$3" "$4"
}

pp_start() {
	local n
	n=$(logn 'msg="agent running"' "$pp_log")
	POD_NAMESPACE=$pp_ns ip netns exec "$pfx-gw2" "$build/snilb" agent \
		--kubeconfig "$work/b.kubeconfig" --node-name node-b \
		--peers pods --iface h0 --snat 198.18.9.1 \
		--pin-path "$pin2" --status-file "$work/p.status" \
		--metrics-listen 127.0.0.1:9465 >>"$pp_log" 2>&1 &
	agent_p=$!
	wait_log 'msg="agent running"' "$pp_log" "$n" 300 && return 0
	tail -5 "$pp_log"
	return 1
}

# status -o json's node table, as python prints EXPR over t.
pp_json() {	# PYTHON-EXPR
	ip netns exec "$pfx-gw2" timeout 20 "$build/snilb" status \
		--pin-path "$pin2" --status-file "$work/p.status" -o json \
		2>/dev/null |
		python3 -c 'import json,sys
t = json.load(sys.stdin)["node_table"] or {"generation": 0, "prev_generation": 0, "nodes": []}
print('"$1"')' 2>&1
}
pp_gen() { pp_json '"%08x/%08x" % (t["generation"], t["prev_generation"])'; }
# The nodes of this generation: NAME/ADDRESS/STATE[*: this node].
pp_rows() {
	pp_json '" ".join("%s/%s/%s%s" % (n["name"], n["address"], n["state"], "*" if n["self"] else "") for n in t["nodes"] if n["state"] != "gone")'
}

# Until the table's rows are WANT (30 s): reported with the time taken.
pp_await() {	# WHAT WANT
	local t0=$EPOCHREALTIME got
	while :; do
		got=$(pp_rows)
		[ "$got" = "$2" ] && break
		if [ "$(ms_since "$t0")" -gt 30000 ]; then
			bad "$1: node table not '$2' within 30 s (last: '$got')"
			return 1
		fi
		sleep 0.1
	done
	ok "$1: $2 ($(ms_since "$t0") ms)"
}

# Until the agent synced past COUNT syncs (a change it had to look at).
pp_synced() {	# COUNT WHAT
	wait_log 'msg=synced' "$pp_log" "$1" 300 ||
		bad "$2: the agent did not sync within 30 s"
}

t_peers_pods() {
	local g0 g1 g2 g3 n s out
	: >"$pp_log"
	{
		pp_pod snilb-b node-b 198.18.3.2 True
		pp_pod snilb-c node-c 198.18.3.3 True
		pp_pod snilb-d $pp_d 198.18.3.4 False
		pp_pod snilb-x node-x 198.18.3.9 True "" snilb-system
		pp_pod other-y node-y 198.18.3.8 True "" "$pp_ns" other
	} | apply || { bad "/apply of the pods"; return; }
	pp_start || { bad "agent --peers pods did not start"; return; }
	pp_await "ready pods of $pp_ns labelled snilb, by spec.nodeName" \
		"node-b/198.18.3.2/member* node-c/198.18.3.3/member"
	g1=$(pp_gen)
	if grep -q "msg=\"node table\" generation=${g1%/*} nodes=2 self=node-b" "$pp_log"; then
		ok "agent log: node table generation=${g1%/*} nodes=2 self=node-b"
	else
		bad "agent log: no 'node table generation=${g1%/*} nodes=2 self=node-b'"
	fi

	# Watch events, no restart: a pod becomes ready (MODIFIED).
	pp_pod snilb-d $pp_d 198.18.3.4 True | apply
	pp_await "snilb-d ready (MODIFIED)" \
		"node-b/198.18.3.2/member* node-c/198.18.3.3/member $pp_d/198.18.3.4/member"
	g2=$(pp_gen)
	check "snilb-d ready: generation changed, the previous one the first" \
		"${g1%/*}" "${g2#*/}"
	# A pod terminating (deletionTimestamp): draining.
	pp_pod snilb-c node-c 198.18.3.3 True yes | apply
	pp_await "snilb-c terminating" \
		"node-b/198.18.3.2/member* node-c/198.18.3.3/draining $pp_d/198.18.3.4/member"
	g3=$(pp_gen)
	check "snilb-c terminating: previous generation" "${g2%/*}" "${g3#*/}"
	# Deleted (DELETED): gone.
	del Pod "$pp_ns" snilb-c
	pp_await "snilb-c deleted" \
		"node-b/198.18.3.2/member* $pp_d/198.18.3.4/member"
	g0=$(pp_gen)
	# Added (ADDED) as it was before its drain: the generation it had.
	pp_pod snilb-c node-c 198.18.3.3 True | apply
	pp_await "snilb-c added again" \
		"node-b/198.18.3.2/member* node-c/198.18.3.3/member $pp_d/198.18.3.4/member"
	g0=$(pp_gen)
	check "the same pods again: the same generation as before" \
		"${g2%/*}" "${g0%/*}"

	# A change the table does not depend on: synced, the table as it was.
	n=$(logn 'msg="node table"' "$pp_log")
	s=$(logn 'msg=synced' "$pp_log")
	pp_pod snilb-b node-b 198.18.3.2 True | sed 's/"1"}/"2"}/' | apply
	pp_pod other-z node-z 198.18.3.7 True | sed 's/"snilb"/"other"/' | apply
	pp_synced "$s" "a label changed"
	check "a label changed, another app's pod: generation/previous kept" \
		"$g0" "$(pp_gen)"
	check "... and no 'node table' line" "$n" "$(logn 'msg="node table"' "$pp_log")"

	t_peers_pods_bad "$g0"
	kill -TERM "$agent_p"
	for n in $(seq 100); do kill -0 "$agent_p" 2>/dev/null || break; sleep 0.1; done
	wait "$agent_p" 2>/dev/null
	for n in snilb-b snilb-c snilb-d other-y other-z; do del Pod "$pp_ns" "$n"; done
	del Pod snilb-system snilb-x
}

# What fails keeps the table in force: an invalid pod (its last good
# version kept), a relist (410) whose pages fail half-way, then the API
# server's errors; the watch then still acts on a change.
t_peers_pods_bad() {	# GENERATION/PREVIOUS in force
	local g=$1 n s f r rows
	rows=$(pp_rows)
	n=$(logn 'msg="node table"' "$pp_log")
	s=$(logn 'msg=synced' "$pp_log")
	pp_pod snilb-d $pp_d 198.18.3.400 True | apply
	pp_synced "$s" "an invalid pod"
	if grep -q 'msg="invalid manifest".*field=status.podIP.*object=snilb-d' "$pp_log"; then
		ok "invalid podIP of snilb-d logged: $(grep 'msg="invalid manifest".*object=snilb-d' "$pp_log" | tail -1 | sed 's/^[^ ]* //' | cut -c1-160)"
	else
		bad "no 'invalid manifest' of snilb-d's status.podIP in the agent's log"
	fi
	check "an invalid pod: its last good version kept, the table as it was" \
		"$g $rows" "$(pp_gen) $(pp_rows)"
	pp_pod snilb-d $pp_d 198.18.3.4 True | apply

	# The next pods watch answered 410, the relist in pages of 1 whose
	# pages after the first fail: the list fails half-way.
	f=$(logn 'msg="kube: list failed" kind=Pod' "$pp_log")
	ctl POST /config '{"page_size_cap": 1, "inject": [
		{"verb": "watch", "path_regex": "/api/v1/pods", "code": 410,
		 "count": 4},
		{"verb": "list", "path_regex": "pods\\?.*continue=",
		 "code": 500, "count": 1000}]}' >/dev/null
	wait_log 'msg="kube: list failed" kind=Pod' "$pp_log" "$f" 300 ||
		bad "no 'kube: list failed kind=Pod' while its pages fail"
	check "a relist failing half-way: the table as it was" \
		"$g $rows" "$(pp_gen) $(pp_rows)"
	# Then every pods list fails (503: a new status is logged).
	ctl POST /config '{"inject": [
		{"verb": "list", "path_regex": "/api/v1/pods", "code": 503,
		 "count": 1000}]}' >/dev/null
	r=$(logn 'msg="kube: list failed" kind=Pod status=503' "$pp_log")
	wait_log 'msg="kube: list failed" kind=Pod status=503' "$pp_log" "$r" 300 ||
		bad "no 'kube: list failed kind=Pod status=503' within 30 s"
	check "pods lists failing (503): the table as it was" \
		"$g $rows" "$(pp_gen) $(pp_rows)"
	out=$(grep 'msg="kube: list failed" kind=Pod' "$pp_log" | tail -1)
	if grep -q 'kept=' <<<"$out"; then
		ok "the failed list logged with what was kept: ${out#* }"
	else
		bad "the failed list logged without what was kept: ${out#* }"
	fi
	r=$(logn 'msg="kube: recovered" kind=Pod' "$pp_log")
	ctl POST /config '{"page_size_cap": 0, "inject": []}' >/dev/null
	wait_log 'msg="kube: recovered" kind=Pod' "$pp_log" "$r" 600 ||
		bad "pods not listed again within 60 s of the errors' end"
	check "relisted: generation/previous as before the errors" "$g" \
		"$(pp_gen)"
	check "... and no 'node table' line since" "$n" \
		"$(logn 'msg="node table"' "$pp_log")"
	# The new watch acts on a change.
	del Pod "$pp_ns" snilb-d
	pp_await "after the relist, snilb-d deleted" \
		"node-b/198.18.3.2/member* node-c/198.18.3.3/member"
}
