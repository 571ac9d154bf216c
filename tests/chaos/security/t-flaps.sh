# shellcheck shell=bash
# The API server flapping, the agent in --kubeconfig mode.
# Sourced by tests/chaos/security.sh, which holds the state and the order
# the checks run in.

# 8. The API server flapping, the agent in --kubeconfig mode.
t_flaps() {
	local k=$work/k i n0 tot fails other counts t_last t_apply
	if ! python3 -c 'import yaml' 2>/dev/null; then
		skip "flaps: python3 has no yaml module (python3-yaml)"
		return
	fi
	"$top/tests/kube/mkcerts.sh" "$k" 127.0.0.1 >/dev/null 2>&1 || {
		bad "flaps: mkcerts.sh"; return; }
	echo "tok-$RANDOM$RANDOM" >"$k/token"
	cat >"$work/kubeconfig" <<EOF
apiVersion: v1
kind: Config
current-context: test
clusters:
- name: test
  cluster: {server: "https://127.0.0.1:$aport", certificate-authority: $k/ca.crt}
users:
- name: agent
  user: {tokenFile: $k/token}
contexts:
- name: test
  context: {cluster: test, user: agent}
EOF
	ip netns exec "$pfx-gw" python3 "$top/tests/kube/apiserver.py" \
		--listen "127.0.0.1:$aport" --cert "$k/server.crt" \
		--key "$k/server.key" --token-file "$k/token" \
		--control-port "$cport" --max-watch-timeout 4 \
		$(for f in "$top"/examples/*.yaml; do echo --load "$f"; done) \
		>"$work/api.log" 2>&1 &
	api=$!
	pids+=("$api")
	wait_for '^apiserver:' "$work/api.log" || { bad "flaps: API server"; return; }
	ctl() { at gw curl -sS --fail-with-body --max-time 10 -X "$1" \
		${3+--data-binary "$3"} "http://127.0.0.1:$cport$2"; }
	# The file agent goes; the kube agent adopts its pins, under load.
	local s0 t_start
	start_loops take 4 2000 www.example.com api.example.com
	sleep 1
	stop_agent TERM
	agent_exit=
	s0=$(synced)
	t_start=$EPOCHREALTIME
	start_agent --kubeconfig "$work/kubeconfig" --node-name node-a || {
		bad "flaps: the --kubeconfig agent did not come up${agent_exit:+ (exit status $agent_exit)}"
		wait "${loops[@]}"
		return; }
	wait_log msg=synced "$s0" 100
	echo "     --kubeconfig agent: running $(ms_since "$t_start") ms after its start; attached $(grep -F 'msg=attached' "$alog" | tail -1 | cut -c4-26), first sync $(grep -F msg=synced "$alog" | tail -1 | cut -c4-26)"
	wait "${loops[@]}"
	read -r tot fails other counts <<<"$(loop_report 'b1|b2' "$work"/take.*)"
	check "flaps: the file agent replaced by a --kubeconfig agent adopting its pins, under load: failed requests among $tot ($counts)" 0 "$fails"
	[ "$fails" -gt 0 ] && echo "     failed requests (curl exit) between $(awk '$2 != 0 { print $1 }' "$work"/take.* | sort -n | sed -n '1p;$p' | tr '\n' ' ')(epoch s)"
	timed "flaps: the --kubeconfig agent routes the API server's objects" \
		b1 www.example.com 5000
	n0=$(logn 'kube: recovered')
	start_loops flap 14 2000 www.example.com api.example.com
	sleep 1
	for i in 1 2 3 4 5; do
		ctl POST /down >/dev/null || bad "flaps: POST /down $i"
		if [ "$i" = 3 ]; then
			ctl POST /apply "$(printf '%s\n' \
				'{"apiVersion":"gateway.networking.k8s.io/v1alpha2","kind":"TLSRoute",' \
				'"metadata":{"name":"flap","namespace":"shop"},' \
				'"spec":{"parentRefs":[{"name":"edge","namespace":"infra"}],' \
				'"hostnames":["flap.example.com"],' \
				'"rules":[{"backendRefs":[{"name":"api","port":443}]}]}}')" \
				>/dev/null || bad "flaps: /apply while down"
			t_apply=$EPOCHREALTIME
		fi
		sleep 1
		ctl POST /up >/dev/null || bad "flaps: POST /up $i"
		t_last=$EPOCHREALTIME
		sleep 1
	done
	echo "     5 x (/down 1 s, /up 1 s); TLSRoute shop/flap applied during the 3rd /down"
	if poll b2 flap.example.com "$t_last" 30000; then
		ok "flaps: the change applied while flapping reached the kernel, $(ms_since "$t_apply") ms after /apply, $ms ms after the last /up (limit 30 s)"
	else
		bad "flaps: flap.example.com not routed 30 s after the last /up ('$got')"
	fi
	wait "${loops[@]}"
	read -r tot fails other counts <<<"$(loop_report 'b1|b2' "$work"/flap.*)"
	check "flaps: failed requests among $tot under load ($counts)" 0 "$fails"
	other=$(($(awk '$2 == 0 && $3 != "b1"' "$work/flap.1" | wc -l) +
		$(awk '$2 == 0 && $3 != "b2"' "$work/flap.2" | wc -l)))
	check "flaps: answers from the wrong backend" 0 "$other"
	if kill -0 "$agent" 2>/dev/null; then ok "flaps: the agent kept running"
	else bad "flaps: the agent exited"; fi
	echo "     agent log: $(logn 'kube: recovered' | awk -v n="$n0" '{print $1 - n}') 'kube: recovered' line(s) during the flaps"
	# kill -9 of the --kubeconfig agent and a restart, under load.
	start_loops krs 4 2000 www.example.com api.example.com
	sleep 1
	kill -9 "$agent"
	wait "$agent" 2>/dev/null
	s0=$(synced)
	t_start=$EPOCHREALTIME
	start_agent --kubeconfig "$work/kubeconfig" --node-name node-a ||
		bad "flaps: the --kubeconfig agent did not come up again"
	wait_log msg=synced "$s0" 100
	echo "     restarted --kubeconfig agent: first sync $(ms_since "$t_start") ms after its start"
	wait "${loops[@]}"
	read -r tot fails other counts <<<"$(loop_report 'b1|b2' "$work"/krs.*)"
	check "flaps: kill -9 and restart of the --kubeconfig agent under load: failed requests among $tot ($counts)" 0 "$fails"
	[ "$fails" -gt 0 ] && echo "     failed requests (curl exit) between $(awk '$2 != 0 { print $1 }' "$work"/krs.* | sort -n | sed -n '1p;$p' | tr '\n' ' ')(epoch s)"
	check "flaps: after the restart, flap.example.com" b2 "$(get flap.example.com)"
}
