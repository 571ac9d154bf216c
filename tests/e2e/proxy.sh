#!/usr/bin/env bash
# PROXY protocol v2 end to end (docs/dataplane.md "PROXY protocol v2"):
# real backends that read the header the data plane writes, nginx
# (`listen ... ssl proxy_protocol`, $proxy_protocol_addr in its answer and
# its access log) on b1 and HAProxy (`bind ... ssl accept-proxy`, the
# AUTHORITY and UNIQUE_ID TLVs as it reads them) on b2, reached from IPv4
# and IPv6 clients: each reports the client's real address and port, TLS
# completes, downloads are byte-exact. b3 did not ask: its TLS server
# (tests/e2e/backend.py) would fail the handshake on a header, alone and
# in a set with b1. First through dpctl (tests/e2e/dpctl.c, `backend ...
# proxy-v2`), then through `snilb agent` on examples/00-gateway.yaml and
# examples/proxy-protocol/ (the Service annotation, taken away and put
# back). Usage: tests/e2e/proxy.sh BUILD_DIR
set -uo pipefail

build=$(cd "${1:-build}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
. "$here/../lib/lib.sh"
if [ "$(id -u)" -ne 0 ]; then
	echo "proxy: skipped: network namespaces and BPF need root"
	echo "0 passed, 0 failed, 1 skipped"
	exit 0
fi
for tool in nginx haproxy; do
	if ! command -v $tool >/dev/null; then
		echo "proxy: skipped: no $tool"
		echo "0 passed, 0 failed, 1 skipped"
		exit 0
	fi
done

# ONLY=t_NAME (as for run.sh): that check alone, if it is one of these.
if [ -n "${ONLY:-}" ] && ! grep -q "^$ONLY()" "$0"; then
	echo "proxy: skipped: ONLY=$ONLY is not a check of this suite"
	echo "0 passed, 0 failed, 1 skipped"
	exit 0
fi

pfx=sp$$
work=$(mktemp -d /tmp/snilb-pp.XXXXXX)
mkdir -p "$work/bpffs"
mount -t bpf bpf "$work/bpffs"
pids=()
passed=0 failed=0
trap cleanup EXIT

cli() { at cli timeout 60 "$@"; }
vip4=198.18.0.10 vip6=2001:db8:100::10
cli4=198.18.1.2 cli6=2001:db8:1::2

cert() {	# NAME: a self-signed certificate, key and both in NAME.pem
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
		-nodes -days 2 -subj "/CN=$1" -keyout "$work/$1.key" \
		-out "$work/$1.crt" 2>/dev/null &&
		cat "$work/$1.crt" "$work/$1.key" >"$work/$1.pem"
}

# nginx on b1, HTTP over TLS behind PROXY v2: / answers with what the
# header said; /blob is a file for downloads.
start_nginx() {
	mkdir -p "$work/ng/logs" "$work/www"
	cat >"$work/ng/nginx.conf" <<EOF
worker_processes 1;
daemon off;
pid $work/ng/nginx.pid;
error_log $work/ng/error.log;
events { worker_connections 256; }
http {
	log_format pp 'pp client=\$proxy_protocol_addr:\$proxy_protocol_port vip=\$proxy_protocol_server_addr:\$proxy_protocol_server_port sni=\$ssl_server_name';
	client_body_temp_path $work/ng/body;
	proxy_temp_path $work/ng/proxy;
	fastcgi_temp_path $work/ng/fastcgi;
	uwsgi_temp_path $work/ng/uwsgi;
	scgi_temp_path $work/ng/scgi;
	server {
		listen 198.18.2.11:8443 ssl proxy_protocol;
		listen [2001:db8:2::11]:8443 ssl proxy_protocol;
		ssl_certificate $work/b1.crt;
		ssl_certificate_key $work/b1.key;
		access_log $work/ng/access.log pp;
		root $work/www;
		location = / {
			return 200 "nginx client=\$proxy_protocol_addr port=\$proxy_protocol_port vip=\$proxy_protocol_server_addr:\$proxy_protocol_server_port\n";
		}
	}
}
EOF
	ip netns exec "$pfx-b1" nginx -p "$work/ng" -c "$work/ng/nginx.conf" -e "$work/ng/error.log" \
		>"$work/ng/out" 2>&1 &
	pids+=($!)
}

# HAProxy on b2: TLS and PROXY v2 on the bind line; / answers with what
# it read, the rest from a file server on its loopback.
start_haproxy() {
	cat >"$work/hap.cfg" <<EOF
global
	log stdout format raw local0
defaults
	mode http
	log global
	timeout connect 5s
	timeout client 30s
	timeout server 30s
frontend fe
	bind 198.18.2.12:8443 ssl crt $work/b2.pem accept-proxy
	bind [2001:db8:2::12]:8443 ssl crt $work/b2.pem accept-proxy
	log-format "pp client=%ci:%cp authority=%[fc_pp_authority] id=%[fc_pp_unique_id]"
	http-request return status 200 content-type text/plain lf-string "haproxy client=%[src] port=%[src_port] authority=%[fc_pp_authority] id=%[fc_pp_unique_id]\n" if { path / }
	default_backend files
backend files
	server files 127.0.0.1:8080
EOF
	ip netns exec "$pfx-b2" haproxy -db -f "$work/hap.cfg" >"$work/hap.log" 2>&1 &
	pids+=($!)
	ip netns exec "$pfx-b2" python3 -m http.server -b 127.0.0.1 -d "$work/www" 8080 \
		>"$work/files.log" 2>&1 &
	pids+=($!)
}

setup() {
	"$here/topo.sh" up "$pfx" || return 1
	cert b1 && cert b2 && cert b3 || return 1
	head -c $((20 * 1048576)) /dev/urandom >"$work/blob" || return 1
	mkdir -p "$work/www" && mv "$work/blob" "$work/www/blob"
	# nginx's worker runs as nobody: it must reach the file.
	chmod 755 "$work" "$work/www" && chmod 644 "$work/www/blob"
	blob_sum=$(sha256sum "$work/www/blob" | cut -d' ' -f1)
	start_nginx
	start_haproxy
	ip netns exec "$pfx-b3" python3 "$here/backend.py" --name b3 --cert "$work/b3.crt" \
		--key "$work/b3.key" >"$work/b3.log" 2>&1 &
	pids+=($!)
	cat >"$work/dp.conf" <<EOF
snat 198.18.2.1
snat 2001:db8:2::1
listener 1 $vip4 443
listener 2 $vip6 443
backend 1 198.18.2.11 8443 proxy-v2
backend 2 198.18.2.12 8443 proxy-v2
backend 3 198.18.2.13 8443
backend 4 2001:db8:2::11 8443 proxy-v2
backend 5 2001:db8:2::12 8443 proxy-v2
backend 6 2001:db8:2::13 8443
set 1 1
set 2 2
set 3 3
set 4 4
set 5 5
set 6 6
set 7 1 3
route 1 nginx.example.com 10 1
route 1 haproxy.example.com 11 2
route 1 plain.example.com 12 3
route 1 mixed.example.com 13 7
route 2 nginx.example.com 20 4
route 2 haproxy.example.com 21 5
route 2 plain.example.com 22 6
attach g0
attach br0
EOF
	# Not through at(): $! must be dpctl itself, for the signals. No
	# pins: it detaches when it exits, for the agent after it.
	ip netns exec "$pfx-gw" "$build/dpctl" "$work/dp.conf" \
		>"$work/dp.log" 2>&1 &
	dp_pid=$!
	pids+=("$dp_pid")
	wait_for ready "$work/dp.log" 180 &&
		wait_for listening "$work/b3.log" &&
		wait_for "Serving HTTP" "$work/files.log" &&
		wait_until_listening b1 8443 && wait_until_listening b2 8443
}

wait_until_listening() {	# NS PORT: poll its sockets
	local end=$((SECONDS + 30))
	while [ $SECONDS -lt $end ]; do
		at "$1" ss -Hltn "sport = :$2" | grep -q . && return 0
		sleep 0.1
	done
	echo "     gave up after 30 s waiting for a listener on $1:$2"
	return 1
}

# fetch HOST ADDR LPORT [PATH]: curl from local port LPORT, the body.
fetch() {
	cli curl -sk --max-time 30 --local-port "$3" \
		--resolve "$1:443:$2" "https://$1${4:-/}"
}

# The backend, asked over IPv4 and IPv6, names the client's address and
# the port it connected from, and the VIP: what the header carried.
t_client_address() {
	local lp=41001 want got
	got=$(fetch nginx.example.com $vip4 $lp)
	check "nginx IPv4: client address and port from the header" \
		"nginx client=$cli4 port=$lp vip=$vip4:443" "$got"
	got=$(fetch nginx.example.com "[$vip6]" $((lp + 1)))
	check "nginx IPv6: client address and port from the header" \
		"nginx client=$cli6 port=$((lp + 1)) vip=$vip6:443" "$got"
	want="pp client=$cli4:$lp vip=$vip4:443 sni=nginx.example.com"
	if wait_for "$want" "$work/ng/access.log" 10; then
		ok "nginx access log: \$proxy_protocol_addr:port $cli4:$lp"
	else
		bad "nginx access log: no '$want'"
	fi
	got=$(fetch haproxy.example.com $vip4 $((lp + 2)))
	check "HAProxy IPv4: client, SNI as authority" \
		"haproxy client=$cli4 port=$((lp + 2)) authority=haproxy.example.com" \
		"${got% id=*}"
	if [[ "$got" =~ id=[0-9a-f]{16}$ ]]; then
		ok "HAProxy: unique id of 16 hex digits (${got##* id=})"
	else
		bad "HAProxy: unique id: '$got'"
	fi
	got=$(fetch haproxy.example.com "[$vip6]" $((lp + 3)))
	check "HAProxy IPv6: client, SNI as authority" \
		"haproxy client=$cli6 port=$((lp + 3)) authority=haproxy.example.com" \
		"${got% id=*}"
	if wait_for "pp client=$cli6:$((lp + 3)) authority=haproxy" \
		"$work/hap.log" 10; then
		ok "HAProxy log: %ci:%cp [$cli6]:$((lp + 3))"
	else
		bad "HAProxy log: no line for $cli6:$((lp + 3))"
	fi
}

# 20 MB through each, compared with the file's SHA-256.
t_download() {
	local host addr got
	for host in nginx haproxy; do
		for addr in $vip4 "[$vip6]"; do
			got=$(cli curl -sk --max-time 60 \
				--resolve "$host.example.com:443:$addr" \
				"https://$host.example.com/blob" | sha256sum |
				cut -d' ' -f1)
			check "$host via $addr: 20 MB download byte-exact" \
				"$blob_sum" "$got"
		done
	done
}

# b3 asked for nothing: its TLS handshake completes (a header would fail
# it), alone and in a set with nginx, where both kinds answer.
t_no_header() {
	local i got n_b3=0 n_ng=0 other=0
	check "plain backend IPv4: TLS completes, no header" "b3" \
		"$(get plain.example.com)"
	check "plain backend IPv6: TLS completes, no header" "b3" \
		"$(get plain.example.com "[$vip6]")"
	for i in $(seq 1 30); do
		got=$(fetch mixed.example.com $vip4 $((42000 + i)))
		case $got in
		backend=b3*) n_b3=$((n_b3 + 1)) ;;
		"nginx client=$cli4 port=$((42000 + i)) "*) n_ng=$((n_ng + 1)) ;;
		*) other=$((other + 1)) ;;
		esac
	done
	if [ $other -eq 0 ] && [ $n_b3 -gt 0 ] && [ $n_ng -gt 0 ]; then
		ok "mixed set: 30 of 30 (b3 $n_b3 without the header, nginx $n_ng with)"
	else
		bad "mixed set: b3 $n_b3, nginx $n_ng, failed $other"
	fi
	if grep -qi "error\|alert" "$work/b3.log"; then
		bad "b3 logged errors: $(grep -i 'error\|alert' "$work/b3.log" | head -2)"
	else
		ok "b3 logged no handshake error"
	fi
}

status_of() {	# PYTHON-EXPR over d, the agent's status file
	python3 -c "import json,sys
d=json.load(open(sys.argv[1]))
print($1)" "$work/status.json" 2>/dev/null || echo unparsable
}

# The proxy_protocol of route pp/nginx's backendRef and endpoints.
pp_status() {
	status_of '",".join([b["proxy_protocol"] for r in d["routes"] if r["name"] == "nginx" for b in r["backends"]] + [e.get("proxy_protocol", "none") for r in d["routes"] if r["name"] == "nginx" for b in r["backends"] for e in b["endpoints"]])'
}

wait_pp_status() {	# WANT: poll the status file
	local end=$((SECONDS + 60))
	while [ $SECONDS -lt $end ]; do
		[ "$(pp_status)" = "$1" ] && return 0
		sleep 0.2
	done
	echo "     gave up after 60 s waiting for proxy_protocol '$1': '$(pp_status)'"
	return 1
}

# The same through the agent: the annotation on pp/nginx, none on
# pp/plain. Without it nginx, which expects a header, refuses.
t_agent() {
	local man=$work/man alog=$work/agent.log got
	kill "$dp_pid"
	wait "$dp_pid" 2>/dev/null
	mkdir -p "$man"
	cp "$top/examples/00-gateway.yaml" \
		"$top/examples/proxy-protocol/40-proxy.yaml" "$man/"
	ip netns exec "$pfx-gw" "$build/snilb" agent --manifests "$man" \
		--iface g0,br0 --snat 198.18.2.1 --snat 2001:db8:2::1 \
		--pin-path "$work/bpffs/agent" \
		--status-file "$work/status.json" >"$alog" 2>&1 &
	pids+=($!)
	if ! wait_for "msg=synced" "$alog" 300; then
		bad "agent: never synced"
		return
	fi
	check "agent: status, annotated Service" "v2,v2,v2" "$(pp_status)"
	got=$(at gw timeout 20 "$build/snilb" routes \
		--pin-path "$work/bpffs/agent" --status-file "$work/status.json" |
		grep -c "nginx.example.com .*198.18.2.11:8443\*1+pp2")
	check "agent: snilb routes marks the endpoint +pp2" "1" "$got"
	check "agent: annotated Service, IPv4: client from the header" \
		"nginx client=$cli4 port=43001 vip=$vip4:443" \
		"$(fetch nginx.example.com $vip4 43001)"
	check "agent: annotated Service, IPv6: client from the header" \
		"nginx client=$cli6 port=43002 vip=$vip6:443" \
		"$(fetch nginx.example.com "[$vip6]" 43002)"
	check "agent: Service without it: TLS completes, no header" "b3" \
		"$(get plain.example.com)"
	sed -i '/^  annotations:$/d; /snilb.io\/proxy-protocol: v2/d' \
		"$man/40-proxy.yaml"
	if wait_pp_status "none,none,none"; then
		got=$(TMO=5 get nginx.example.com)
		if [ "${got#nginx}" = "$got" ]; then
			ok "agent: annotation removed: nginx gets no header ($got)"
		else
			bad "agent: annotation removed, nginx still answers: $got"
		fi
	else
		bad "agent: annotation removed: status"
	fi
	cp "$top/examples/proxy-protocol/40-proxy.yaml" "$man/"
	if wait_pp_status "v2,v2,v2"; then
		check "agent: annotation back: client from the header" \
			"nginx client=$cli4 port=43003 vip=$vip4:443" \
			"$(fetch nginx.example.com $vip4 43003)"
	else
		bad "agent: annotation back: status"
	fi
}

if [ -n "${ONLY:-}" ]; then
	setup && $ONLY
	echo "$passed passed, $failed failed"
	[ "$failed" -eq 0 ]
	exit
fi
if ! setup; then
	bad "setup"
	echo "$passed passed, $failed failed"
	exit 1
fi
t_client_address
t_download
t_no_header
echo "proxy counters: spliced=$(dp_stat spliced) hello_rtx=$(dp_stat hello_rtx)"
t_agent
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
