# shellcheck shell=bash
# The agent killed after an edit under load; manifests written in two
# steps or replaced by rename.
# Sourced by tests/chaos/security.sh, which holds the state and the order
# the checks run in.

# 6. kill -9 of the agent right after a blue/green edit, under load.
t_killflip() {
	local f=$man/30-store-bluegreen.yaml d t_edit t_kill kms tot fails other
	local counts before start_t delays i=0 kern
	if [ -n "$quick" ]; then delays="20 110"; else delays="0 20 50 90 105 120 150"; fi
	for d in $delays; do
		i=$((i + 1))
		start_loops kf$i 5 300 checkout.example.com \
			checkout.example.com checkout.example.com
		sleep 1.2
		before=$(synced)
		sed -i 's/^    color: blue$/    color: green/' "$f"
		t_edit=$EPOCHREALTIME
		[ "$d" -gt 0 ] && sleep "0.$(printf %03d "$d")"
		kill -9 "$agent"
		t_kill=$EPOCHREALTIME
		wait "$agent" 2>/dev/null
		kms=$((($(us "$t_kill") - $(us "$t_edit")) / 1000))
		# Did the killed agent sync the edit? (the kernel's set)
		kern=$(sn routes -o json 2>/dev/null | python3 -c '
import json, sys
for r in json.load(sys.stdin)["routes"]:
    if r["hostname"] == "checkout.example.com" and r["listener"] == 0:
        print("green" if "198.18.2.13" in r["backends"] else "blue")' 2>/dev/null)
		echo "     kill -9 $kms ms after the edit (aimed at $d ms; edit at $t_edit, kill at $t_kill); synced lines since the edit: $(($(synced) - before)); status file says ${kern:-?}"
		sleep 0.5
		start_t=$EPOCHREALTIME
		if ! start_agent; then
			bad "killflip $d ms: the agent did not come up again"
			return
		fi
		timed "killflip $d ms: after the restart ($(ms_since "$start_t") ms to running), the edit is not lost" \
			green-1 checkout.example.com 3000 "$start_t"
		wait "${loops[@]}"
		read -r tot fails other counts <<<"$(loop_report 'blue-1|blue-2|green-1' "$work"/kf$i.*)"
		# What failed, when (START_EPOCH CURL_EXIT BACKEND), against
		# the edit and the kill, for a diagnosis.
		[ "$fails" = 0 ] || awk '$2 != 0 || $3 == "" { print "     failed:", $0 }' \
			"$work"/kf$i.*
		check "killflip $d ms: failed requests among $tot under load ($counts)" 0 "$fails"
		check "killflip $d ms: answers from outside blue/green" 0 "$other"
		# Back to blue for the next round.
		sed -i 's/^    color: green$/    color: blue/' "$f"
		poll 'blue-1|blue-2' checkout.example.com "$EPOCHREALTIME" ||
			bad "killflip $d ms: flip back to blue not seen ('$got')"
	done
}

# 7. A manifest written in two steps; files replaced by rename.
# twostep MODE NEW FILE: write NEW into FILE in two steps, cut inside the
# second document's hostnames (an unterminated flow sequence), with 1.8 s
# between them. MODE close: write, fsync, close; 1.8 s; append the rest
# (two writes of a tool). MODE open: the same with the file held open
# across the pause (one slow writer). In the pause, as soon as the agent
# logged an error (close) or after 0.5 s (open), three connections at
# once from the client namespace. Prints "err_ms=.. done_ms=..
# second_ms=.. halfa=.. halfb=.. www=..".
twostep() {
	at cli timeout 20 python3 - "$1" "$2" "$3" "$alog" \
		"$(logn 'msg="invalid manifest"')" "$vip4" <<'EOF'
import os, socket, ssl, sys, threading, time
mode, src, dst, log, nerr, vip = sys.argv[1:7]
nerr = int(nerr)
# The pause between the two writes: time for a busy machine's agent to
# see the first, yet under the 2 s a periodic rescan leaves a file alone.
PAUSE = 1.8
data = open(src).read()
cut = data.index('["halfb.exa') + len('["halfb.exa')
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE

def one(host, res):
    try:
        with socket.create_connection((vip, 443), timeout=1.5) as raw:
            with ctx.wrap_socket(raw, server_hostname=host) as s:
                s.sendall(b"GET / HTTP/1.0\r\n\r\n")
                d = b""
                while True:
                    c = s.recv(4096)
                    if not c:
                        break
                    d += c
        b = d.split(b"\r\n\r\n", 1)[1]
        res[host] = b[8:].strip().decode() if b.startswith(b"backend=") else "?"
    except (ConnectionResetError, ssl.SSLError, BrokenPipeError):
        res[host] = "reset"
    except Exception as e:
        res[host] = type(e).__name__

def errors():
    with open(log) as f:
        return f.read().count('msg="invalid manifest"')

f = open(dst, "w")
t0 = time.monotonic()
f.write(data[:cut]); f.flush(); os.fsync(f.fileno())
if mode == "close":
    f.close()
err_ms = None
while time.monotonic() - t0 < (PAUSE - 0.6 if mode == "close" else 0.5):
    if errors() > nerr:
        err_ms = (time.monotonic() - t0) * 1000
        break
    time.sleep(0.005)
res = {}
if err_ms is not None or mode == "open":
    ts = [threading.Thread(target=one, args=(h, res)) for h in
          ("halfa.example.com", "halfb.example.com", "www.example.com")]
    for t in ts: t.start()
    for t in ts: t.join()
done_ms = (time.monotonic() - t0) * 1000
if err_ms is None and errors() > nerr:
    err_ms = -1
time.sleep(max(0, PAUSE - (time.monotonic() - t0)))
if mode == "close":
    f = open(dst, "a")
f.write(data[cut:]); f.flush(); os.fsync(f.fileno())
f.close()
second_ms = (time.monotonic() - t0) * 1000
print("err_ms=%s done_ms=%.0f second_ms=%.0f halfa=%s halfb=%s www=%s" % (
    "none" if err_ms is None else "%.0f" % err_ms, done_ms, second_ms,
    res.get("halfa.example.com"), res.get("halfb.example.com"),
    res.get("www.example.com")))
EOF
}

t_halfwrite() {
	local f=$man/80-half.yaml n0 out e d s line t0
	put "$f" <<'EOF'
apiVersion: gateway.networking.k8s.io/v1
kind: TLSRoute
metadata: {name: halfa, namespace: shop}
spec:
  parentRefs: [{name: edge, namespace: infra}]
  hostnames: ["halfa.example.com"]
  rules: [{backendRefs: [{name: www, port: 443}]}]
EOF
	check "half file: the last good version: halfa.example.com" b1 \
		"$(get halfa.example.com)"
	# The new version: halfa -> api, a new route halfb -> api.
	cat >"$work/half.new" <<'EOF'
apiVersion: gateway.networking.k8s.io/v1
kind: TLSRoute
metadata: {name: halfa, namespace: shop}
spec:
  parentRefs: [{name: edge, namespace: infra}]
  hostnames: ["halfa.example.com"]
  rules: [{backendRefs: [{name: api, port: 443}]}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: TLSRoute
metadata: {name: halfb, namespace: shop}
spec:
  parentRefs: [{name: edge, namespace: infra}]
  hostnames: ["halfb.example.com"]
  rules: [{backendRefs: [{name: api, port: 443}]}]
EOF
	n0=$(synced)
	out=$(twostep close "$work/half.new" "$f")
	echo "     two writes (write+fsync+close, 1.8 s, append): $out"
	read -r e d s <<<"$(sed -n 's/err_ms=\([^ ]*\) done_ms=\([^ ]*\) second_ms=\([^ ]*\).*/\1 \2 \3/p' <<<"$out")"
	if [ -n "$e" ] && [ "$e" != none ]; then
		line=$(grep -F 'msg="invalid manifest"' "$alog" | tail -1)
		case $line in
		*"file=$f "*) ok "half file: the agent reported the error $e ms after the first write, naming the file: ${line#*msg=}" ;;
		*) bad "half file: the error line does not name $f: $line" ;;
		esac
	else
		bad "half file: no 'invalid manifest' within 1.2 s of the first write ($out)"
	fi
	case $out in
	*"halfa=b1 halfb=reset www=b1"*)
		if [ "$d" -le "$s" ]; then
			ok "half file: in the pause, halfa -> b1 (last good), halfb -> reset (nothing of the half file applied), www -> b1 (done at $d ms, second write at $s ms)"
		else
			bad "half file: checks done after the second write ($d > $s ms)"
		fi ;;
	*) bad "half file: in the pause: $out, want halfa=b1 halfb=reset www=b1" ;;
	esac
	wait_log msg=synced "$n0" 30
	timed "half file: after the second write, halfa (new version)" b2 \
		halfa.example.com 2000
	timed "half file: after the second write, halfb" b2 halfb.example.com 2000
	check "half file: errors left in the status file" 0 \
		"$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["errors"]))' "$status" 2>&1)"

	# One slow writer: the file held open across the pause. Next version:
	# both back to www (b1).
	sed 's/name: api, port/name: www, port/' "$work/half.new" >"$work/half.v3"
	n0=$(synced)
	out=$(twostep open "$work/half.v3" "$f")
	echo "     one open file (write+fsync, 1.8 s, write, close): $out"
	read -r e d s <<<"$(sed -n 's/err_ms=\([^ ]*\) done_ms=\([^ ]*\) second_ms=\([^ ]*\).*/\1 \2 \3/p' <<<"$out")"
	case $out in
	*"halfa=b2 halfb=b2 www=b1"*)
		if [ "$d" -le "$s" ]; then
			ok "half file held open: in the pause, halfa and halfb -> b2 (last good), www -> b1 (error reported: ${e/none/no, nothing read before close}; done at $d ms, second write at $s ms)"
		else
			bad "half file held open: checks done after the second write ($d > $s ms)"
		fi ;;
	*) bad "half file held open: in the pause: $out, want halfa=b2 halfb=b2 www=b1" ;;
	esac
	wait_log msg=synced "$n0" 30
	timed "half file held open: after close, halfa" b1 halfa.example.com 2000
	timed "half file held open: after close, halfb" b1 halfb.example.com 2000

	# Replaced by rename: a hidden temporary file (skipped), then mv.
	sed 's/halfb.example.com/halfc.example.com/' "$work/half.new" \
		>"$man/.80-half.yaml.swp"
	t0=$EPOCHREALTIME
	mv "$man/.80-half.yaml.swp" "$f"
	timed "rename over an existing file: halfa" b2 halfa.example.com 2000 "$t0"
	timed "rename over an existing file: halfc (new)" b2 halfc.example.com 2000 "$t0"
	check "rename over an existing file: halfb (gone)" reset \
		"$(get halfb.example.com)"
	# kubectl-style: a new file appearing by rename from elsewhere.
	sed 's/halfa/halfd/g; /^---$/,$d' "$work/half.new" >"$work/halfd.yaml"
	t0=$EPOCHREALTIME
	mv "$work/halfd.yaml" "$man/81-halfd.yaml"
	timed "a new file appearing by rename (from another directory)" b2 \
		halfd.example.com 2000 "$t0"
	rm -f "$f"
	unput "$man/81-halfd.yaml"
}
