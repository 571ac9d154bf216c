# shellcheck shell=bash
# make bench's text report (scripts/bench.sh sources it): the figures in
# R[], as tables, ratios against plain routing and the proxies. Reads the
# globals bench.sh sets (R, contenders, rate, secs, rounds, lat_secs).

kib_mib() { python3 -c "print('%.1f' % (float('${1:-0}' or 0) / 1024))"; }

report_memory() {
	local n m
	printf '\nmemory against concurrent spliced connections (tests/bench/dp_mem.c:\n'
	printf 'made through the real program with BPF_PROG_TEST_RUN, SYN to spliced;\n'
	printf 'the maps as the kernel charges them, fdinfo memlock; --max-flows\n'
	printf '1048576; spliced packets net ns, median over flows picked at random;\n'
	printf 'reap s: one pass of the reaper over them, which the agent makes each second)\n'
	printf '%-14s%10s%10s%10s%10s%10s%10s%16s\n' connections "maps MiB" flows rev \
		"c2b ns" "b2c ns" "reap s" "preallocated"
	for n in $mem_counts; do
		printf '%-14s%10s%10s%10s%10s%10s%10s%16s\n' "$n" \
			"$(kib_mib "${R[mem.$n.maps]:-}")" \
			"$(kib_mib "${R[mem.$n.flows]:-}")" \
			"$(kib_mib "${R[mem.$n.rev]:-}")" \
			"${R[mem.$n.c2b]:-}" "${R[mem.$n.b2c]:-}" "${R[mem.$n.reap]:-}" \
			"$(kib_mib "${R[mem.prealloc.$n.maps]:-}")"
	done
	echo "per connection: ${R[mem.per_conn]:-?} bytes charged (memlock)," \
		"${R[mem.per_conn_slab]:-?} in the kernel's slabs (kmalloc-cg-*, each" \
		"entry rounded up to its cache's size: machine-wide, approximate);"
	echo "slabs grew by $(kib_mib "${R[mem.1000000.slab]:-}") MiB to 1,000,000;" \
		"1,000,000 made in ${R[mem.1000000.setup_s]:-?} s (run: ${R[mem.elapsed]:-?} s)"
	echo "connections/s through the program, 100,000, two turns each:" \
		"allocated on insert ${R[mem.alloc.cps]}, preallocated ${R[mem.prealloc.cps]}"
	echo "agent idle (default settings, examples/): RSS $(kib_mib "${R[agent.rss]:-}") MiB" \
		"(Pss $(kib_mib "${R[agent.pss]:-}")), maps $(kib_mib "${R[agent.maps]:-}") MiB"
}

report_paths() {
	local cc f
	printf '\ndelayed path: a download the backend sends to a client 20 ms away\n'
	printf '(200 Mbit/s bottleneck; tests/bench/paths.sh; snilb-1syn: one SYN\n'
	printf 'to the backend, which then takes its RTT from our handshake)\n'
	printf '%-34s%12s%12s%12s%14s\n' "" dnat snilb snilb-1syn snilb/dnat
	for cc in bbr cubic; do
		if [ -n "${R[path.$cc.skipped]:-}" ]; then
			echo "$cc: skipped: ${R[path.$cc.skipped]}"
			continue
		fi
		for f in "mbs:MB/s" "ttfb_ms:time to first byte ms" \
			 "hs_rtt_us:handshake RTT sample us"; do
			printf '%-34s%12s%12s%12s%14s\n' "$cc ${f#*:}" \
				"${R[path.$cc.dnat.${f%%:*}]:-}" \
				"${R[path.$cc.snilb.${f%%:*}]:-}" \
				"${R[path.$cc.snilb-1syn.${f%%:*}]:-}" \
				"$(ratio "${R[path.$cc.snilb.${f%%:*}]:-}" \
					 "${R[path.$cc.dnat.${f%%:*}]:-}")"
		done
	done
}

# Where the latency goes: the client's three parts per contender, what
# each adds over plain routing, the backend's round trip (the one added
# cost snilb cannot avoid), snilb's phases by its own timestamps, and the
# access log's cost in connections/s.
report_phases() {
	local c
	printf '\nlatency by phase, client side, p50 / p99 us (%s s at %s/s each,\n' \
		"$lat_secs" "$rate"
	printf 'the four taking turns; snilb_log: %s s alone)\n' "$secs"
	printf '%-10s%18s%18s%18s%18s\n' \
		"" connect "TLS handshake" "first byte" "added p50 / p99"
	for c in "${contenders[@]}" snilb_log; do
		printf '%-10s%18s%18s%18s%18s\n' "$c" \
			"${R[$c.conn50]:-} / ${R[$c.conn99]:-}" \
			"${R[$c.tls50]:-} / ${R[$c.tls99]:-}" \
			"${R[$c.first50]:-} / ${R[$c.first99]:-}" \
			"$(( ${R[$c.p50]:-0} - ${R[direct.p50]:-0} )) / $(( ${R[$c.p99]:-0} - ${R[direct.p99]:-0} ))"
	done
	echo "  (snilb_log: snilb with its access log on, the run the phases below come from)"
	echo "backend round trip from the gateway (TCP connect), p50 / p99 us:" \
		"${R[backend.rtt50]:-?} / ${R[backend.rtt99]:-?};" \
		"snilb's added p50 less one backend round trip:" \
		"$(( ${R[snilb.p50]:-0} - ${R[direct.p50]:-0} - ${R[backend.rtt50]:-0} )) us (goal: at most 50)"
	echo "snilb's setup by the data plane's timestamps (${R[snilb_dp.records]:-0} connections), p50 / p99 us:"
	printf '  %-52s%8s / %s\n' \
		"hello: the handshake's last ACK to the hello routed" "${R[snilb_dp.hello50]:-}" "${R[snilb_dp.hello99]:-}" \
		"connect: routed to the backend's SYN-ACK" "${R[snilb_dp.connect50]:-}" "${R[snilb_dp.connect99]:-}" \
		"replay: SYN-ACK to the backend's first byte" "${R[snilb_dp.replay50]:-}" "${R[snilb_dp.replay99]:-}" \
		"setup: all of it" "${R[snilb_dp.setup50]:-}" "${R[snilb_dp.setup99]:-}"
	echo "access log: connections/s on ${R[snilb_log.conns]:-?}, off ${R[snilb.conns]:-?} before and" \
		"${R[snilb_off2.conns]:-?} after: on / off $(ratio "${R[snilb_log.conns]:-0}" \
		"$(( (${R[snilb.conns]:-0} + ${R[snilb_off2.conns]:-0}) / 2 ))")"
}

report_nodes() {
	local f
	printf '\nseveral gateway nodes: 1 node, then 3 behind a multipath route\n'
	printf '(tests/bench/nodes.sh; all on this machine'"'"'s cores: the cost of\n'
	printf 'steering, not the capacity of three machines)\n'
	if [ -n "${R[nodes.skipped]:-}" ]; then
		echo "skipped: ${R[nodes.skipped]}"
		return
	fi
	printf '%-34s%12s%12s%12s\n' "" "1 node" "3 nodes" "3/1"
	for f in "conns:TLS connections/s" "bulk1:bulk MB/s, 1 flow" \
		 "bulk16:bulk MB/s, 16 flows" "cpu10k:CPU s per 10k conns" \
		 "steered:packets steered per conn"; do
		printf '%-34s%12s%12s%12s\n' "${f#*:}" \
			"${R[nodes.1.${f%%:*}]:-}" "${R[nodes.3.${f%%:*}]:-}" \
			"$(ratio "${R[nodes.3.${f%%:*}]:-}" "${R[nodes.1.${f%%:*}]:-}")"
	done
}

# Each round's connections/s and bulk, of which the table has medians.
report_rounds() {
	local c f
	printf '(connections/s, bulk and CPU: medians of %s rounds, the' "$rounds"
	printf ' contenders in turn within each;\n per round:)\n'
	for f in "conns:connections/s" "bulk1:bulk 1 flow" \
		 "bulk16:bulk 16 flows"; do
		printf '  %-20s' "${f#*:}"
		for c in "${contenders[@]}"; do
			printf '  %s %s' "$c" "${R[$c.${f%%:*}.rounds]:-?}"
		done
		echo
	done
}

ratio() { python3 -c "print('%.2f' % (float('$1' or 0) / float('$2') if float('$2' or 0) else 0))"; }

report() {
	local c f n kind
	printf '\n%-30s' figure
	for c in "${contenders[@]}"; do printf '%12s' "$c"; done
	printf '%14s%14s%14s\n' snilb/direct snilb/haproxy snilb/nginx
	for f in "conns:TLS connections/s" "p50:connect+TLS+1st byte p50 us" \
		 "p99:connect+TLS+1st byte p99 us" "bulk1:bulk MB/s, 1 flow" \
		 "bulk16:bulk MB/s, 16 flows" "cpu10k:CPU s per 10k conns" \
		 "cpugb:CPU s per GB" "mem:memory KiB"; do
		printf '%-30s' "${f#*:}"
		for c in "${contenders[@]}"; do printf '%12s' "${R[$c.${f%%:*}]:-}"; done
		printf '%14s%14s%14s\n' "$(ratio "${R[snilb.${f%%:*}]}" "${R[direct.${f%%:*}]}")" \
			"$(ratio "${R[snilb.${f%%:*}]}" "${R[haproxy.${f%%:*}]}")" \
			"$(ratio "${R[snilb.${f%%:*}]}" "${R[nginx.${f%%:*}]}")"
	done
	report_rounds
	report_phases
	for f in ":TLS connections/s" ".p50:latency p50 us" \
		 ".p99:latency p99 us" ".bulk1:bulk MB/s, 1 flow"; do
		printf '\nscaling, %s\n%-24s%12s%12s%12s\n' "${f#*:}" "" \
			snilb haproxy nginx
		for n in 10 1000 10000; do
			for kind in tls tls16; do
				printf '%-24s' "$n routes, $(label "$kind")"
				for c in snilb haproxy nginx; do
					printf '%12s' "${R[$c.scale.$n.$kind${f%%:*}]:-}"
				done
				echo
			done
		done
	done
	printf '\nscaling, memory KiB\n%-24s%12s%12s%12s\n' "" snilb haproxy nginx
	for n in 10 1000 10000; do
		printf '%-24s' "$n routes"
		for c in snilb haproxy nginx; do printf '%12s' "${R[$c.scale.$n.mem]:-}"; done
		echo
	done
	echo
	echo "kernel ns per packet (BPF_PROG_TEST_RUN, one packet per run; medians,"
	echo "of the runs and of three dp_ns runs;"
	echo "net: less the floor, what an empty program measures the same way);"
	echo "spliced packets on one flow (warm, as repeat would run them) and"
	echo "round robin over 1,000 (evicted by the other kinds' runs in between):"
	join <(sort "$work/ns1") <(sort "$work/ns") |
	awk 'BEGIN { printf "  %-12s %18s %18s\n", "", "one flow", "1,000 flows" }
	     $1 == "floor" { f = sprintf("  %-12s %8s %18s", "floor", $2, $3); next }
	     { printf "  %-12s %8s raw %4s net %8s raw %4s net\n", $1, $2, $3, $4, $5 }
	     END { print f }'
	echo "  (first_ack: the handshake's last ACK, the flow made; hello: a whole"
	echo "  ClientHello parsed, routed, bound; synack: the backend's SYN-ACK, the"
	echo "  flow spliced and the hello replayed; those three over 1,000 flows in both)"
	echo "snilb_ingress during the snilb runs (bpf_stats): ${R[snilb.bpfns]:-?} ns/run;"
	echo "  connections run: ${R[snilb.bpfns.conns]:-?} ns/run over ${R[snilb.bpfcnt.conns]:-?} runs" \
		"(handshakes, hellos, binds and a few spliced packets each)"
	echo "  bulk runs: ${R[snilb.bpfns.bulk]:-?} ns/run over ${R[snilb.bpfcnt.bulk]:-?} runs" \
		"(almost all spliced; GRO packets)"
	report_memory
	report_paths
	report_nodes
}

