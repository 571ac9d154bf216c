#!/bin/bash
# Capture real ClientHellos from the TLS clients installed here.
#
# usage: tests/capture-hellos.sh OUTDIR
#
# A python3 listener on 127.0.0.1 (ephemeral port) reads each client's bytes
# until the whole ClientHello is in (walking the TLS record headers, so a
# hello split over several records is followed to its end) or 3 s pass,
# then closes the connection: no handshake ever completes, no key is needed.
# Writes OUTDIR/NAME.bin per client and OUTDIR/expect.tsv:
#   file sni alpn records bytes client reads note
# records/bytes are what the listener measured; reads is how many recv()
# calls the bytes took (a lower bound on TCP segments).
# A client that fails is skipped with a message; fewer than 6 captures fail.
set -euo pipefail

if [ $# -ne 1 ]; then
	echo "usage: $0 OUTDIR" >&2
	exit 2
fi
outdir=$1
mkdir -p "$outdir"
# Stale captures from a previous run would be listed by nobody.
rm -f "$outdir"/*.bin "$outdir/expect.tsv"

work=$(mktemp -d)
lst_pid=
cleanup() {
	if [ -n "$lst_pid" ]; then
		kill "$lst_pid" 2>/dev/null || true
		wait "$lst_pid" 2>/dev/null || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT

cat >"$work/listener.py" <<'EOF'
# Line protocol on stdin/stdout, so every capture gets its own name:
#   "expect NAME" -> the next connection is NAME
#   "done"        -> prints "ok NAME RECORDS BYTES READS" or "fail NAME WHY"
import os, select, socket, sys, time

outdir = sys.argv[1]
ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
ls.bind(("127.0.0.1", 0))
ls.listen(8)
print(ls.getsockname()[1], flush=True)


def scan(buf):
	"""Walk TLS records; ('done', records, end) once the hello is whole."""
	pos, records, payload = 0, 0, b""
	while True:
		if len(payload) >= 4:
			if payload[0] != 1:
				return "not a ClientHello", records, pos
			need = 4 + int.from_bytes(payload[1:4], "big")
			if len(payload) >= need:
				# Stream offset just past the hello's last byte.
				return "done", records, pos - (len(payload) - need)
		if len(buf) < pos + 5:
			return "more", records, pos
		if buf[pos] != 22 or buf[pos + 1] != 3:
			return "not a TLS handshake record", records, pos
		rlen = int.from_bytes(buf[pos + 3:pos + 5], "big")
		if len(buf) < pos + 5 + rlen:
			return "more", records, pos
		payload += buf[pos + 5:pos + 5 + rlen]
		records += 1
		pos += 5 + rlen


def handle(conn, name):
	deadline = time.monotonic() + 3
	buf, reads = b"", 0
	while True:
		state, records, end = scan(buf)
		if state != "more":
			break
		left = deadline - time.monotonic()
		if left <= 0:
			state = "no complete hello after 3 s"
			break
		conn.settimeout(left)
		try:
			chunk = conn.recv(65536)
		except socket.timeout:
			state = "no complete hello after 3 s"
			break
		except OSError as e:
			state = "recv: %s" % e
			break
		if not chunk:
			state = "client closed before the hello was complete"
			break
		buf += chunk
		reads += 1
	if state != "done":
		return "fail %s %s (%d bytes in)" % (name, state, len(buf))
	tmp = os.path.join(outdir, ".%s.tmp" % name)
	with open(tmp, "wb") as f:
		f.write(buf[:end])
	os.rename(tmp, os.path.join(outdir, name + ".bin"))
	return "ok %s %d %d %d" % (name, records, end, reads)


name, result, pending = None, None, b""
while True:
	ready, _, _ = select.select([ls, 0], [], [])
	# Connections first: a client's hello belongs to the name before "done".
	if ls in ready:
		conn, _ = ls.accept()
		with conn:
			if name is None or result is not None:
				print("listener: dropped an unexpected connection",
				      file=sys.stderr)
			else:
				result = handle(conn, name)
	if 0 in ready:
		data = os.read(0, 4096)
		if not data:
			break
		pending += data
		while b"\n" in pending:
			line, pending = pending.split(b"\n", 1)
			cmd, _, arg = line.decode().strip().partition(" ")
			if cmd == "expect":
				name, result = arg, None
			elif cmd == "done":
				print(result or "fail %s no connection" % name, flush=True)
				name, result = None, None
EOF

coproc LST { exec python3 "$work/listener.py" "$outdir"; }
# shellcheck disable=SC2153 # LST_PID comes from coproc
lst_pid=$LST_PID
# Keep our own copies: bash drops the LST array once the coprocess exits.
exec {lst_in}<&"${LST[0]}" {lst_out}>&"${LST[1]}"
if ! read -r -t 5 -u "$lst_in" port || [ -z "$port" ]; then
	echo "$0: the python3 listener did not start" >&2
	exit 1
fi

printf 'file\tsni\talpn\trecords\tbytes\tclient\treads\tnote\n' \
	>"$work/expect.tsv"
captured=0
declare -A recs=()

# capture NAME SNI ALPN NOTE CMD...: run one client against the listener.
# SNI is written lower-cased (names are case-insensitive; snilb folds them).
capture() {
	local name=$1 sni=$2 alpn=$3 note=$4 rc=0 line why f
	shift 4
	echo "expect $name" >&"$lst_out"
	# The listener hangs up after the hello, so clients exit on their own;
	# timeout is only for one that does not.
	timeout 5 "$@" </dev/null >"$work/$name.log" 2>&1 || rc=$?
	echo "done" >&"$lst_out"
	if ! read -r -t 10 -u "$lst_in" line; then
		echo "$0: listener gave no answer for $name" >&2
		exit 1
	fi
	read -r -a f <<<"$line"
	if [ "${f[0]}" != ok ]; then
		why=${line#fail "$name" }
		echo "skipped $name ($1): $why; client exit $rc:" \
			"$(tail -n 1 "$work/$name.log")" >&2
		return 0
	fi
	recs[$name]=${f[2]}
	printf '%s.bin\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "${sni,,}" \
		"$alpn" "${f[2]}" "${f[3]}" "$1" "${f[4]}" "$note" \
		>>"$work/expect.tsv"
	captured=$((captured + 1))
}

# drop NAME: forget a capture (it added nothing).
drop() {
	rm -f "$outdir/$1.bin"
	grep -v "^$1\.bin"$'\t' "$work/expect.tsv" >"$work/expect.tmp" || true
	mv "$work/expect.tmp" "$work/expect.tsv"
	unset "recs[$1]"
	captured=$((captured - 1))
}

# Same hello apart from random, session id, SNI and key shares?
same_shape() {
	python3 - "$1" "$2" <<'EOF'
import sys

def shape(path):
	b = open(path, "rb").read()[5:]	# one record: the callers' case
	pos = 4 + 2 + 32
	pos += 1 + b[pos]	# session id
	n = int.from_bytes(b[pos:pos + 2], "big")
	suites = b[pos:pos + 2 + n]
	pos += 2 + n
	pos += 1 + b[pos]	# compression methods
	end = pos + 2 + int.from_bytes(b[pos:pos + 2], "big")
	pos += 2
	exts = []
	while pos + 4 <= end:
		t = int.from_bytes(b[pos:pos + 2], "big")
		n = int.from_bytes(b[pos + 2:pos + 4], "big")
		# server_name, padding, key_share vary per run or per name.
		exts.append((t, b"" if t in (0, 21, 51) else b[pos + 4:pos + 4 + n]))
		pos += 4 + n
	return b[4:6], suites, exts

sys.exit(0 if shape(sys.argv[1]) == shape(sys.argv[2]) else 1)
EOF
}

# timeout runs programs, not shell functions: prefixes are arrays.
s_client=(openssl s_client -connect "127.0.0.1:$port")

# --- OpenSSL -------------------------------------------------------------
capture openssl-tls13 openssl13.example.com h2,http/1.1 "TLS 1.3 default" \
	"${s_client[@]}" -servername openssl13.example.com -alpn h2,http/1.1
capture openssl-tls12 openssl12.example.com http/1.1 "-tls1_2" \
	"${s_client[@]}" -tls1_2 -servername openssl12.example.com \
	-alpn http/1.1
capture openssl-no-tls13 openssl-no13.example.com http/1.1 "-no_tls1_3" \
	"${s_client[@]}" -no_tls1_3 -servername openssl-no13.example.com \
	-alpn http/1.1
if [ -n "${recs[openssl-tls12]:-}" ] && [ -n "${recs[openssl-no-tls13]:-}" ] &&
	same_shape "$outdir/openssl-tls12.bin" "$outdir/openssl-no-tls13.bin"; then
	echo "skipped openssl-no-tls13: same hello as -tls1_2" >&2
	drop openssl-no-tls13
fi
capture openssl-mixed-case mixed.example.com h2 \
	"SNI sent as Mixed.Example.COM" \
	"${s_client[@]}" -servername Mixed.Example.COM -alpn h2
capture openssl-no-alpn noalpn.example.com "" "no ALPN extension" \
	"${s_client[@]}" -servername noalpn.example.com

# Several TLS records: 512-byte fragments and a hello over 512 bytes. A
# TLS 1.3 key share for an 8192-bit FFDHE group makes it ~1.4 KB, the way
# post-quantum key shares make browsers' hellos large, ALPN left alone.
capture openssl-multirecord multirecord.example.com h2,http/1.1 \
	"-max_send_frag 512, ffdhe8192 key share: hello over several records" \
	"${s_client[@]}" -max_send_frag 512 -groups ffdhe8192:X25519:P-256 \
	-servername multirecord.example.com -alpn h2,http/1.1
# A long ALPN list (over the 64 bytes snilb keeps) and extra groups, also
# in 512-byte records.
long_alpn=h2,http/1.1,http/1.0,spdy/3.1,spdy/3,spdy/2,h2c,h3,h3-29,h3-32
long_alpn+=,acme-tls/1,stun.turn,stun.nat-discovery,webrtc,c-webrtc,ftp
long_alpn+=,imap,pop3,managesieve,xmpp-client,xmpp-server,irc,coap,mqtt
long_alpn+=,postgresql,sunrpc,dot,doq,nntp,nnsp,sip/2,tds/8.0,smb
capture openssl-multirecord-alpn multirecord-alpn.example.com "$long_alpn" \
	"-max_send_frag 512, long ALPN list and extra groups" \
	"${s_client[@]}" -max_send_frag 512 \
	-groups P-521:X25519:P-256:X448:P-384:ffdhe2048:ffdhe3072:ffdhe4096 \
	-servername multirecord-alpn.example.com -alpn "$long_alpn"
# Only worth keeping if the records really were several.
for n in openssl-multirecord openssl-multirecord-alpn; do
	r=${recs[$n]:-}
	if [ -n "$r" ] && [ "$r" -lt 2 ]; then
		echo "skipped $n: the hello fit in $r record, not several" >&2
		drop "$n"
	fi
done

# --- GnuTLS --------------------------------------------------------------
capture gnutls gnutls.example.com h2,http/1.1 "gnutls-cli default" \
	gnutls-cli --insecure --sni-hostname=gnutls.example.com \
	--alpn=h2 --alpn=http/1.1 -p "$port" 127.0.0.1
capture gnutls-tls12 gnutls12.example.com http/1.1 "TLS 1.2 only" \
	gnutls-cli --insecure --sni-hostname=gnutls12.example.com \
	--priority=NORMAL:-VERS-ALL:+VERS-TLS1.2 --alpn=http/1.1 \
	-p "$port" 127.0.0.1

# --- curl ----------------------------------------------------------------
curl=(curl -sS -k -o /dev/null)
capture curl-http2 curl-h2.example.com h2,http/1.1 "--http2" \
	"${curl[@]}" --http2 --resolve "curl-h2.example.com:$port:127.0.0.1" \
	"https://curl-h2.example.com:$port/"
capture curl-http1.1 curl-h1.example.com http/1.1 "--http1.1" \
	"${curl[@]}" --http1.1 --resolve "curl-h1.example.com:$port:127.0.0.1" \
	"https://curl-h1.example.com:$port/"
capture curl-tls12 curl-tls12.example.com h2,http/1.1 \
	"--tlsv1.2 --tls-max 1.2" \
	"${curl[@]}" --tlsv1.2 --tls-max 1.2 \
	--resolve "curl-tls12.example.com:$port:127.0.0.1" \
	"https://curl-tls12.example.com:$port/"

# --- python3 ssl ---------------------------------------------------------
cat >"$work/pyclient.py" <<'EOF'
# pyclient.py PORT SNI [ALPN] [segmented]
import socket, ssl, sys, time

port, sni = int(sys.argv[1]), sys.argv[2]
alpn = sys.argv[3].split(",") if len(sys.argv) > 3 and sys.argv[3] else []
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
if alpn:
	ctx.set_alpn_protocols(alpn)
sock = socket.create_connection(("127.0.0.1", port), timeout=4)
if len(sys.argv) > 4:
	# The real hello, written in small pieces with pauses so it crosses
	# the loopback in several TCP segments.
	sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
	inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
	tls = ctx.wrap_bio(inc, out, server_hostname=sni)
	try:
		tls.do_handshake()
	except ssl.SSLWantReadError:
		pass
	hello = out.read()
	for i in range(0, len(hello), 100):
		sock.sendall(hello[i:i + 100])
		time.sleep(0.02)
	sock.recv(1)	# until the listener hangs up
else:
	ctx.wrap_socket(sock, server_hostname=sni)
EOF
capture python-ssl python.example.com h2,http/1.1 "ssl.wrap_socket" \
	python3 "$work/pyclient.py" "$port" python.example.com h2,http/1.1
capture python-ssl-segmented python-seg.example.com http/1.1 \
	"python ssl hello sent in 100-byte TCP segments" \
	python3 "$work/pyclient.py" "$port" python-seg.example.com http/1.1 \
	segmented

mv "$work/expect.tsv" "$outdir/expect.tsv"
echo "captured $captured hellos in $outdir" >&2
if [ "$captured" -lt 6 ]; then
	echo "$0: only $captured hellos captured, need at least 6" >&2
	exit 1
fi
