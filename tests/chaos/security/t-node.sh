# shellcheck shell=bash
# The node's side: pins and the status file, metrics, capabilities.
# Sourced by tests/chaos/security.sh, which holds the state and the order
# the checks run in.

# 3. Pins and the status file: root-only.
t_pins() {
	local out bad_pins n rc nobody_bin u
	u=(setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all)
	out=$(find "$pin" -mindepth 1 -printf '%m %u %p\n')
	n=$(wc -l <<<"$out")
	bad_pins=$(awk '$1 !~ /^[0-7]00$/ || $2 != "root"' <<<"$out")
	if [ "$n" -gt 3 ] && [ -z "$bad_pins" ]; then
		ok "pins: $n pins under the pin path, every one mode $(awk '{print $1}' <<<"$out" | sort -u | tr '\n' ' ')and uid 0 (no group/other bits)"
	else
		bad "pins: modes/owners: $bad_pins (of $n)"
	fi
	check "pins: the pin directory (mode, owner)" "700 root" \
		"$(stat -c '%a %U' "$pin")"
	echo "     kernel.unprivileged_bpf_disabled = $(sysctl -n kernel.unprivileged_bpf_disabled)"
	nobody_bin=$work/snilb-copy
	install -m 0755 "$build/snilb" "$nobody_bin"
	out=$(at gw timeout 10 "${u[@]}" "$nobody_bin" routes --pin-path "$pin" \
		--status-file "$status" 2>&1)
	rc=$?
	if [ $rc -ne 0 ] && grep -qiE 'permission denied|not permitted' <<<"$out"; then
		ok "pins: as uid 65534, snilb routes --pin-path fails (exit $rc): $(grep -iE 'permission denied|not permitted' <<<"$out" | head -1)"
	else
		bad "pins: as uid 65534, snilb routes: exit $rc: $(head -3 <<<"$out")"
	fi
	out=$("${u[@]}" sh -c 'for p; do (exec 3<"$p") && echo "opened $p"; done' \
		sh $(find "$pin" -mindepth 1 -type f) 2>&1)
	if ! grep -q '^opened' <<<"$out" && grep -q 'Permission denied' <<<"$out"; then
		ok "pins: as uid 65534, open(2) of pinned files: $(grep -c 'Permission denied' <<<"$out") x Permission denied"
	else
		bad "pins: as uid 65534, open(2) of pinned files: $out"
	fi
	check "status file: mode, owner (not writable by others)" "644 root" \
		"$(stat -c '%a %U' "$status")"
	check "status file: its directory, made by the agent (mode, owner)" \
		"755 root" "$(stat -c '%a %U' "$(dirname "$status")")"
	out=$("${u[@]}" sh -c '(: >>"$1") && echo wrote; mv "$1" "$1.x" && echo renamed; (: >"$1.new") && echo created' \
		sh "$status" 2>&1)
	if ! grep -qE '^(wrote|renamed|created)' <<<"$out"; then
		ok "status file: as uid 65534, cannot write, rename or create beside it ($(grep -c 'denied' <<<"$out") x Permission denied)"
	else
		bad "status file: as uid 65534: $out"
	fi
}

# 4. Metrics on 127.0.0.1 of the gateway namespace.
t_metrics() {
	local out rc a res=""
	out=$(at gw curl -s --max-time 3 "http://127.0.0.1:$mport/metrics")
	if grep -q '^snilb_agent_syncs_total' <<<"$out"; then
		ok "metrics: served on 127.0.0.1:$mport in the gateway namespace (positive control, no auth asked)"
	else
		bad "metrics: not served on 127.0.0.1:$mport in the gateway namespace"
	fi
	for a in 198.18.1.1 198.18.2.1 '[2001:db8:1::1]' '[2001:db8:2::1]' $vip4; do
		cli curl -s -o /dev/null --max-time 2 "http://$a:$mport/metrics"
		rc=$?
		res="$res $a:curl$rc"
		case $rc in
		7|28) ;;
		*) bad "metrics: from the client namespace, http://$a:$mport/metrics: curl exit $rc (want 7 refused or 28 timeout)" ;;
		esac
	done
	case $res in
	*curl0*) ;;
	*) ok "metrics: not reachable from the client namespace on the gateway's addresses:$res (7: refused, 28: timeout)" ;;
	esac
}

# 5. Capabilities of the running agent.
t_caps() {
	local st want=0000008000002000 e p b i nnp dec	# CAP_NET_RAW 13, CAP_BPF 39
	st=$(cat "/proc/$agent/status" 2>/dev/null)
	e=$(awk '$1 == "CapEff:" { print $2 }' <<<"$st")
	p=$(awk '$1 == "CapPrm:" { print $2 }' <<<"$st")
	b=$(awk '$1 == "CapBnd:" { print $2 }' <<<"$st")
	i=$(awk '$1 == "CapInh:" { print $2 }' <<<"$st")
	nnp=$(awk '$1 == "NoNewPrivs:" { print $2 }' <<<"$st")
	if command -v capsh >/dev/null; then
		dec=$(capsh --decode="$e" 2>/dev/null | sed 's/^0x[0-9a-f]*=//')
	else
		dec=$(python3 -c 'import sys; v = int(sys.argv[1], 16); print(",".join("cap_%d" % i for i in range(64) if v >> i & 1))' "$e")
	fi
	check "caps: agent pid $agent CapEff ($dec)" $want "$e"
	check "caps: CapPrm" $want "$p"
	check "caps: CapBnd" $want "$b"
	check "caps: CapInh" 0000000000000000 "$i"
	check "caps: NoNewPrivs" 1 "$nnp"
	# Still working with only those: an edit reaches the kernel.
	local t0=$EPOCHREALTIME
	put "$man/70-caps.yaml" <<'EOF'
apiVersion: gateway.networking.k8s.io/v1
kind: TLSRoute
metadata: {name: caps, namespace: shop}
spec:
  parentRefs: [{name: edge, namespace: infra}]
  hostnames: ["caps.example.com"]
  rules: [{backendRefs: [{name: api, port: 443}]}]
EOF
	timed "caps: with only those, a new route still reaches the kernel" \
		b2 caps.example.com 2000 "$t0"
	unput "$man/70-caps.yaml"
}
