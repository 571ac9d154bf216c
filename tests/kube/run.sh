#!/usr/bin/env bash
# End-to-end suite of `snilb agent --kubeconfig`: the agent watches the test
# API server (tests/kube/apiserver.py, real wire protocol, HTTPS) loaded with
# examples/, programs the data plane attached to the gateway namespace of
# tests/e2e/topo.sh, and real TLS clients reach real TLS backends through
# it. Checks: routing follows the objects (timed), status written back as
# the Gateway API says and only when something changed, 410 relists, an
# invalid edit keeping the last good version, Retry-After, a continue
# token expiring mid-list, watches cut, the API server away and back
# under traffic, Lease election between two agents (kill -9, restart,
# SIGTERM), TLSRoute CRD missing then installed,
# client-certificate and token authentication with token rotation, and
# deploy/ (parses; every request the agents made is allowed by its RBAC),
# and an API server slow to write status (t_latency: watch event ->
# kernel latency, the Lease renewed on time, a prompt stop).
#
#   gw2 (node-b: h0 198.18.3.2) --- k0 (198.18.3.1, the API server) gw
#
# Usage: tests/kube/run.sh BUILD_DIR   (ONLY=t_leader: one check after the
# setup; KEEP=1: keep namespaces, processes and files, prefix printed;
# t_latency: LAT_ROUTES=1000, LAT_SERVICES, LAT_CHANGES=40, LAT_DELAY=0.4)
set -uo pipefail
export LC_ALL=C	# $EPOCHREALTIME with a dot

build=$(cd "${1:-build}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/lib.sh"
top=$(cd "$here/../.." && pwd)
e2e=$top/tests/e2e
if [ "$(id -u)" -ne 0 ]; then
	echo "kube e2e: skipped: network namespaces and BPF need root"
	echo "0 passed, 0 failed, 1 skipped"
	exit 0
fi
if ! python3 -c 'import yaml' 2>/dev/null; then
	echo "kube e2e: skipped: python3 has no yaml module (python3-yaml; scripts/install-deps.sh installs it)"
	echo "0 passed, 0 failed, 1 skipped"
	exit 0
fi

pfx=sk$$
work=$(mktemp -d /tmp/snilb-kube.XXXXXX)
# Bpffs of our own (`ip netns exec` remounts /sys): one per agent, as on
# two nodes.
mkdir -p "$work/bpffs" "$work/bpffs2"
mount -t bpf bpf "$work/bpffs"
mount -t bpf bpf "$work/bpffs2"
pin=$work/bpffs/snilb pin2=$work/bpffs2/snilb
k=$work/k
agent_a= agent_b= api=
passed=0 failed=0
vip4=198.18.0.10 vip6=2001:db8:100::10
apiaddr=198.18.3.1 aport=6443 cport=6444	# in our own namespace
ctrl=snilb.io/gateway-controller

# Our background processes are this shell's jobs (never a PID that was
# already reaped and may be someone else's now).
cleanup() {
	local i
	[ -n "${KEEP:-}" ] && { echo "kept $pfx ($work)"; return; }
	touch "$work/stop"
	kill $(jobs -rp) 2>/dev/null
	for i in $(seq 50); do
		[ -z "$(jobs -rp)" ] && break
		sleep 0.1
	done
	kill -9 $(jobs -rp) 2>/dev/null
	wait 2>/dev/null
	"$e2e/topo.sh" down "$pfx"
	ip netns del "$pfx-gw2" 2>/dev/null
	ip netns del "$pfx-lat" 2>/dev/null
	umount "$work/bpffs3" 2>/dev/null
	umount "$work/bpffs" "$work/bpffs2"
	rm -rf "$work"
}
trap cleanup EXIT

cli() { at cli timeout 30 "$@"; }



# The control API (plain HTTP in the gateway namespace).
ctl() {	# METHOD PATH [BODY]
	at gw curl -sS --fail-with-body --max-time 10 -X "$1" \
		${3+--data-binary "$3"} "http://127.0.0.1:$cport$2"
}
# POST /apply with the YAML or JSON on stdin; quiet unless it fails.
apply() {
	local out
	out=$(at gw curl -sS --fail-with-body --max-time 10 --data-binary @- \
		"http://127.0.0.1:$cport/apply") || {
		echo "     /apply failed: $out"
		return 1
	}
}
del() {	# KIND NS NAME
	ctl POST /delete "{\"kind\":\"$1\",\"namespace\":\"$2\",\"name\":\"$3\"}" \
		>/dev/null
}
# Queries over the API server's state: $work/kq.py (below), run where the
# control API is.
kq() { at gw python3 "$work/kq.py" "$cport" "$@"; }
# kq commands that print "PASS ..."/"FAIL ..." lines: counted here.
kq_check() {
	local line out
	out=$(kq "$@" 2>&1)
	while IFS= read -r line; do
		case $line in
		PASS\ *) ok "${line#PASS }" ;;
		FAIL\ *) bad "${line#FAIL }" ;;
		"") ;;
		*) echo "     $line" ;;
		esac
	done <<<"$out"
}

# Poll HOST until it answers WANT, at most LIMIT ms after T0 (default 30 s:
# a busy machine's worth); $ms: the time from T0 to that answer (or to
# giving up).
poll() {	# WANT HOST T0 [LIMIT_MS] [ADDR]
	local got limit=${4:-30000}
	while :; do
		got=$(TMO=1 get "$2" "${5:-$vip4}")
		ms=$(ms_since "$3")
		[ "$got" = "$1" ] && return 0
		[ "$ms" -gt "$limit" ] && break
		sleep 0.02
	done
	echo "     (last answer from $2: '$got')"
	return 1
}
# poll, reported: NAME WANT HOST AIM_MS [ADDR]; T0 is now. The time is
# measured against the aim, not asserted: what is awaited may take up to
# 30 s (or AIM_MS when longer) on a busy machine.
timed() {
	local t0=$EPOCHREALTIME limit=$(($4 > 30000 ? $4 : 30000))
	if poll "$2" "$3" "$t0" "$limit" "${5:-$vip4}"; then
		ok "$1: $3 -> $2 in $ms ms (aim $4 ms)"
	else
		bad "$1: $3 not -> $2 within $limit ms"
	fi
}

logn() { grep -cF -- "$1" "$2"; }
# wait_log FIXED-STRING FILE COUNT TENTHS: until FILE has more than COUNT
# such lines; TENTHS of a second, or 30 s when longer (a busy machine's
# worth); says what it awaited if not.
wait_log() {
	local secs=$(($4 / 10 > 30 ? $4 / 10 : 30))
	local end=$((SECONDS + secs))
	while [ $SECONDS -lt $end ]; do
		[ "$(logn "$1" "$2")" -gt "$3" ] && return 0
		sleep 0.1
	done
	echo "     gave up after $secs s waiting for a line with '$1' in $2"
	return 1
}
wait_for() {	# PATTERN FILE
	local i
	for i in $(seq 100); do
		grep -q "$1" "$2" && return 0
		sleep 0.1
	done
	cat "$2"
	return 1
}

# Every route of examples/ still answers (checkout: blue or green).
still_routing() {	# WHEN
	local c
	check "$1: www.example.com -> b1" b1 "$(get www.example.com)"
	check "$1: api.example.com -> b2" b2 "$(get api.example.com)"
	check "$1: a.dev.example.com (IPv6 VIP) -> b3" b3 \
		"$(get a.dev.example.com "[$vip6]")"
	c=$(get checkout.example.com)
	case $c in
	blue-1|blue-2|green-1) ok "$1: checkout.example.com -> $c" ;;
	*) bad "$1: checkout.example.com: got '$c'" ;;
	esac
}

# A TLSRoute NS/NAME for HOST to Service SVC:443.
route() {	# NS NAME HOST SVC [APIVERSION]
	cat <<EOF
apiVersion: gateway.networking.k8s.io/${5:-v1alpha2}
kind: TLSRoute
metadata: {name: $2, namespace: $1}
spec:
  parentRefs: [{name: edge, namespace: infra}]
  hostnames: ["$3"]
  rules: [{backendRefs: [{name: $4, port: 443}]}]
EOF
}

# A Service NS/NAME on PORT to 8443 and, with ADDR, its EndpointSlice
# to ADDR:8443 (Service without a selector).
service() {	# NS NAME PORT [ADDR]
	cat <<EOF
apiVersion: v1
kind: Service
metadata: {name: $2, namespace: $1}
spec:
  ports: [{name: https, port: $3, targetPort: 8443}]
EOF
	[ -n "${4:-}" ] || return 0
	cat <<EOF
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: $2-1
  namespace: $1
  labels: {kubernetes.io/service-name: $2}
addressType: IPv4
ports: [{name: https, port: 8443}]
endpoints: [{addresses: ["$4"], conditions: {ready: true}}]
EOF
}

kubeconfig() {	# FILE USER-YAML (indented 4)
	cat >"$1" <<EOF
apiVersion: v1
kind: Config
current-context: test
clusters:
- name: test
  cluster:
    server: https://$apiaddr:$aport
    certificate-authority: $k/ca.crt
users:
- name: agent
  user:
$2
contexts:
- name: test
  context: {cluster: test, user: agent}
EOF
}

# node-a: the gateway namespace (g0, br0), token from a tokenFile.
start_a() {
	local n
	n=$(logn 'msg="agent running"' "$work/a.log")
	ip netns exec "$pfx-gw" "$build/snilb" agent \
		--kubeconfig "$work/a.kubeconfig" --node-name node-a \
		--iface g0,br0 --snat 198.18.2.1 --snat 2001:db8:2::1 \
		--pin-path "$pin" --status-file "$work/a.status" \
		--metrics-listen 127.0.0.1:9464 >>"$work/a.log" 2>&1 &
	agent_a=$!
	wait_log 'msg="agent running"' "$work/a.log" "$n" 300 && return 0
	tail -5 "$work/a.log"
	return 1
}
# node-b: its own namespace, pins and bpffs; a client certificate.
start_b() {
	local n
	n=$(logn 'msg="agent running"' "$work/b.log")
	ip netns exec "$pfx-gw2" "$build/snilb" agent \
		--kubeconfig "$work/b.kubeconfig" --node-name node-b \
		--iface h0 --snat 198.18.9.1 \
		--pin-path "$pin2" --status-file "$work/b.status" \
		>>"$work/b.log" 2>&1 &
	agent_b=$!
	wait_log 'msg="agent running"' "$work/b.log" "$n" 300 && return 0
	tail -5 "$work/b.log"
	return 1
}

write_kq() {
	cat >"$work/kq.py" <<'EOF'
# Queries over the test API server's state, for tests/kube/run.sh.
import json, sys, time, urllib.request

CTRL = "snilb.io/gateway-controller"
GW = "gateway.networking.k8s.io"
port = sys.argv[1]
cmd, args = sys.argv[2], sys.argv[3:]


def get(path):
    with urllib.request.urlopen("http://127.0.0.1:%s%s" % (port, path),
                                timeout=10) as r:
        return json.load(r)


def objs(kind):
    return {"%s/%s" % (o["metadata"].get("namespace", ""),
                       o["metadata"]["name"]): o
            for o in get("/objects?kind=" + kind)}


def cond(conds, t):
    for c in conds or []:
        if c.get("type") == t:
            return c
    return None


def ref_echo(spec, st, ns):
    """The status parentRef says what the spec's does: every field given
    is there, equal; others only as their defaults."""
    dflt = {"group": GW, "kind": "Gateway", "namespace": ns}
    if any(st.get(k) != v for k, v in spec.items()):
        return False
    return all(k in spec or dflt.get(k) == v for k, v in st.items())


def route_problems(o, acc, rr):
    """Problems of a route's status against Accepted=acc, ResolvedRefs=rr
    ("True/Reason")."""
    ns, gen = o["metadata"]["namespace"], o["metadata"].get("generation")
    ours = [p for p in (o.get("status") or {}).get("parents") or []
            if p.get("controllerName") == CTRL]
    if len(ours) != 1:
        return ["%d status.parents entries of %s" % (len(ours), CTRL)]
    p, out = ours[0], []
    spec_ref = (o["spec"].get("parentRefs") or [{}])[0]
    if not ref_echo(spec_ref, p.get("parentRef") or {}, ns):
        out.append("parentRef %s for spec %s" % (
            json.dumps(p.get("parentRef"), sort_keys=True),
            json.dumps(spec_ref, sort_keys=True)))
    for t, want in (("Accepted", acc), ("ResolvedRefs", rr)):
        c = cond(p.get("conditions"), t)
        if not c:
            out.append("no %s condition" % t)
            continue
        got = "%s/%s" % (c.get("status"), c.get("reason"))
        if got != want:
            out.append("%s %s, want %s" % (t, got, want))
        if c.get("observedGeneration") != gen:
            out.append("%s observedGeneration %s, generation %s" % (
                t, c.get("observedGeneration"), gen))
        if not c.get("lastTransitionTime"):
            out.append("%s without lastTransitionTime" % t)
    return out


def wait_until(timeout, fn):
    """fn() -> list of (ok, text); retried until all ok or timeout."""
    end = time.time() + timeout
    while True:
        res = fn()
        if all(r[0] for r in res) or time.time() > end:
            return res
        time.sleep(0.2)


def show(res):
    for good, text in res:
        print(("PASS " if good else "FAIL ") + text)


if cmd == "routes":	# TIMEOUT NS/NAME=ACC,RR ...
    want = dict(a.split("=", 1) for a in args[1:])

    def fn():
        rs, res = objs("TLSRoute"), []
        for key, w in want.items():
            acc, rr = w.split(",")
            o = rs.get(key)
            pr = ["no such route"] if o is None else route_problems(o, acc, rr)
            res.append((not pr, "status of TLSRoute %s: one %s entry, "
                        "parentRef echoed, Accepted=%s ResolvedRefs=%s, "
                        "observedGeneration=generation%s" % (
                            key, CTRL, acc, rr,
                            ": " + "; ".join(pr) if pr else "")))
        return res
    show(wait_until(float(args[0]), fn))

elif cmd == "observed":	# TIMEOUT NS/NAME: generation and what our entry says
    def fn():
        o = objs("TLSRoute")[args[1]]
        gen = o["metadata"].get("generation")
        obs = [c.get("observedGeneration")
               for p in (o.get("status") or {}).get("parents") or []
               if p.get("controllerName") == CTRL
               for c in p.get("conditions") or []]
        return [(gen > 1 and obs and all(x == gen for x in obs),
                 "TLSRoute %s spec changed: generation %s, observedGeneration %s"
                 % (args[1], gen, obs))]
    show(wait_until(float(args[0]), fn))

elif cmd == "foreign-object":	# NS NAME HOST: a route with another controller's entry
    ns, name, host = args
    print(json.dumps({
        "apiVersion": GW + "/v1alpha2", "kind": "TLSRoute",
        "metadata": {"name": name, "namespace": ns},
        "spec": {"parentRefs": [{"group": GW, "kind": "Gateway",
                                 "name": "edge", "namespace": "infra",
                                 "sectionName": "tls"}],
                 "hostnames": [host],
                 "rules": [{"backendRefs": [{"name": "www", "port": 443}]}]},
        "status": {"parents": [{
            "controllerName": "example.com/other-controller",
            "parentRef": {"name": "other", "namespace": "infra"},
            "conditions": [{"type": "Accepted", "status": "True",
                            "reason": "Accepted", "message": "theirs",
                            "observedGeneration": 1,
                            "lastTransitionTime": "2024-01-01T00:00:00Z"}]}]}}))

elif cmd == "foreign":	# TIMEOUT NS/NAME: the other controller's entry kept
    want = json.loads(sys.stdin.read())["status"]["parents"][0]

    def fn():
        o = objs("TLSRoute")[args[1]]
        ps = (o.get("status") or {}).get("parents") or []
        theirs = [p for p in ps if p.get("controllerName") != CTRL]
        ours = [p for p in ps if p.get("controllerName") == CTRL]
        return [(theirs == [want] and len(ours) == 1,
                 "TLSRoute %s: the entry of example.com/other-controller "
                 "kept as it was, next to ours (%d of theirs, %d of ours%s)"
                 % (args[1], len(theirs), len(ours),
                    "" if theirs == [want] or not theirs else
                    ", theirs now " + json.dumps(theirs)))]
    show(wait_until(float(args[0]), fn))

elif cmd == "gateway":	# TIMEOUT N_ACCEPTED
    n_want = int(args[1])

    def fn():
        gw = objs("Gateway")["infra/edge"]
        gc = objs("GatewayClass")["/snilb"]
        gen, st = gw["metadata"]["generation"], gw.get("status") or {}
        accepted = 0
        for o in objs("TLSRoute").values():
            for p in (o.get("status") or {}).get("parents") or []:
                c = cond(p.get("conditions"), "Accepted")
                if (p.get("controllerName") == CTRL and c and
                        c.get("status") == "True" and
                        (p.get("parentRef") or {}).get("name") == "edge"):
                    accepted += 1
        res = []
        addrs = sorted((a.get("type"), a.get("value"))
                       for a in st.get("addresses") or [])
        res.append((addrs == [("IPAddress", "198.18.0.10"),
                              ("IPAddress", "2001:db8:100::10")],
                    "Gateway infra/edge status.addresses: both VIPs (%s)" %
                    ",".join(v for _, v in addrs)))
        for t in ("Accepted", "Programmed"):
            c = cond(st.get("conditions"), t) or {}
            res.append((c.get("status") == "True" and
                        c.get("observedGeneration") == gen,
                        "Gateway infra/edge %s=%s observedGeneration %s "
                        "(generation %s)" % (t, c.get("status"),
                                             c.get("observedGeneration"), gen)))
        ls = st.get("listeners") or [{}]
        l0 = ls[0]
        res.append((len(ls) == 1 and l0.get("name") == "tls",
                    "Gateway listeners status: one, named tls (%s)" %
                    [x.get("name") for x in ls]))
        res.append((l0.get("attachedRoutes") == accepted == n_want,
                    "listeners[0].attachedRoutes %s == accepted routes %d "
                    "(want %d)" % (l0.get("attachedRoutes"), accepted, n_want)))
        kinds = [x.get("kind") for x in l0.get("supportedKinds") or []
                 if x.get("group", GW) == GW]
        res.append((kinds == ["TLSRoute"],
                    "listeners[0].supportedKinds: TLSRoute (%s)" % kinds))
        c = cond(l0.get("conditions"), "Accepted") or {}
        res.append((c.get("status") == "True",
                    "listeners[0] Accepted=%s" % c.get("status")))
        c = cond((gc.get("status") or {}).get("conditions"), "Accepted") or {}
        res.append((c.get("status") == "True" and c.get("observedGeneration")
                    == gc["metadata"]["generation"],
                    "GatewayClass snilb Accepted=%s observedGeneration %s" %
                    (c.get("status"), c.get("observedGeneration"))))
        return res
    show(wait_until(float(args[0]), fn))

elif cmd == "fallback":	# TIMEOUT NS/NAME FIELD|-: a route kept at its last good version
    key, field = args[1], args[2]

    def fn():
        o = objs("TLSRoute").get(key)
        if o is None:
            return [(False, "no TLSRoute " + key)]
        gen = o["metadata"].get("generation")
        ours = [p for p in (o.get("status") or {}).get("parents") or []
                if p.get("controllerName") == CTRL]
        conds = ours[0].get("conditions") if len(ours) == 1 else []
        acc = cond(conds, "Accepted") or {}
        rr = cond(conds, "ResolvedRefs") or {}
        pi = cond(conds, "PartiallyInvalid")
        if field == "-":
            return [(pi is None and acc.get("status") == "True" and
                     acc.get("observedGeneration") == gen,
                     "TLSRoute %s valid again: no PartiallyInvalid (%s), "
                     "Accepted=%s observedGeneration %s, generation %s" % (
                         key, pi and pi.get("message"), acc.get("status"),
                         acc.get("observedGeneration"), gen))]
        pi = pi or {}
        msg = pi.get("message") or ""
        return [(pi.get("status") == "True" and
                 pi.get("reason") == "UnsupportedValue" and
                 msg.startswith("Fall Back") and field in msg,
                 "TLSRoute %s: PartiallyInvalid=%s reason %s, message "
                 "starting 'Fall Back' and naming %s: %r" % (
                     key, pi.get("status"), pi.get("reason"), field, msg)),
                (acc.get("status") == "True" and rr.get("status") == "True"
                 and acc.get("observedGeneration") == gen - 1,
                 "TLSRoute %s: Accepted=%s ResolvedRefs=%s, with the "
                 "generation in force (%s; the bad one: %s)" % (
                     key, acc.get("status"), rr.get("status"),
                     acc.get("observedGeneration"), gen))]
    show(wait_until(float(args[0]), fn))

elif cmd == "retries":	# TIMEOUT SUFFIX N RA: N watches failed with Retry-After: RA s
    pat, n, ra = args[1], int(args[2]), float(args[3])

    def fn():
        rs = sorted((r for r in get("/requests")["log"]
                     if r["verb"] == "watch" and r["pattern"].endswith(pat)),
                    key=lambda r: r["time"])
        fails = [i for i, r in enumerate(rs) if r["code"] in (429, 503)]
        gaps = [rs[i + 1]["time"] - rs[i]["time"] for i in fails
                if i + 1 < len(rs)]
        codes = sorted({rs[i]["code"] for i in fails})
        return [(len(gaps) == n and all(ra - 0.05 <= g <= ra + 6
                                        for g in gaps),
                 "%s: %d watches answered %s with Retry-After: %g, each "
                 "tried again after %s s (want %g..%g s)" % (
                     pat, len(fails), codes, ra,
                     " ".join("%.2f" % g for g in gaps) or "-", ra, ra + 6))]
    show(wait_until(float(args[0]), fn))

elif cmd == "first410":	# SUFFIX: time of the first list page answered 410
    for r in sorted(get("/requests")["log"], key=lambda r: r["time"]):
        if (r["verb"] == "list" and r["pattern"].endswith(args[0]) and
                r["code"] == 410 and r["query"].get("continue")):
            print("%.6f" % r["time"])
            break

elif cmd == "listseq":	# SUFFIX: the list requests, "CODE continue|- limit|-"
    for r in sorted(get("/requests")["log"], key=lambda r: r["time"]):
        if r["verb"] == "list" and r["pattern"].endswith(args[0]):
            print(r["code"], "continue" if r["query"].get("continue") else "-",
                  r["query"].get("limit") or "-")

elif cmd == "lastseq":
    w = get("/status-writes")
    print(w[-1]["seq"] if w else 0)

elif cmd == "writes":	# SINCE: one line per status write after SINCE
    for w in get("/status-writes?since=" + args[0]):
        print("%d %.3f %s %s %s/%s %s%s" % (
            w["seq"], w["time"], w["identity"], w["kind"], w["namespace"],
            w["name"], w["apiVersion"], " noop" if w["noop"] else ""))

elif cmd == "lease":	# the status Lease's holder ("-": none)
    ls = objs("Lease").get("snilb-system/snilb-status-writer")
    print(((ls or {}).get("spec") or {}).get("holderIdentity") or "-")

elif cmd == "lists":	# list requests in the log: "pattern code identity"
    for r in get("/requests")["log"]:
        if r["verb"] in ("list", "watch") and (
                r["verb"] == "list" or r["code"] == 410):
            print(r["verb"], r["pattern"], r["code"], r["identity"])

elif cmd == "watchers":	# IDENTITY: kinds watched successfully with it
    seen = set()
    for r in get("/requests")["log"]:
        if (r["verb"] == "watch" and r["code"] == 200 and
                r["identity"] == args[0]):
            seen.add(r["pattern"].split("/")[-1])
    print(len(seen))

elif cmd == "codes":	# IDENTITY: how its requests were answered, "code:n ..."
    n = {}
    for r in get("/requests")["log"]:
        if r["identity"] == args[0] or (args[0] == "-" and
                                        r["identity"] is None):
            n[r["code"]] = n.get(r["code"], 0) + 1
    print(" ".join("%s:%d" % kv for kv in sorted(n.items())) or "none")

elif cmd == "dump":	# the request log, one JSON object a line
    for r in get("/requests")["log"]:
        print(json.dumps(r))

elif cmd == "rbac":	# RBAC-YAML [EARLIER-LOG]: every request made is allowed
    import yaml
    earlier = []
    if len(args) > 1:
        with open(args[1]) as f:
            earlier = [json.loads(l) for l in f if l.strip()]
    rules = []
    for d in yaml.safe_load_all(open(args[0])):
        if d and d.get("kind") in ("ClusterRole", "Role"):
            ns = d["metadata"].get("namespace")
            rules += [(ns, r) for r in d.get("rules") or []]
    seen, denied = set(), set()
    for r in earlier + get("/requests")["log"]:
        if r["verb"] in ("discovery", "health", "unauthenticated") or \
                r["code"] == 401:
            continue
        parts = r["path"].strip("/").split("/")
        group = "" if parts[0] == "api" else parts[1]
        rest = parts[2:] if parts[0] == "api" else parts[3:]
        ns = None
        if rest[:1] == ["namespaces"] and len(rest) > 2:
            ns, rest = rest[1], rest[2:]
        res = rest[0] + ("/" + rest[2] if len(rest) > 2 else "")
        name = rest[1] if len(rest) > 1 else None
        verb = r["verb"]
        if verb == "unknown":	# a path not served (404): what it asked
            verb = {"PUT": "update", "PATCH": "patch", "POST": "create",
                    "DELETE": "delete"}.get(r["method"]) or (
                "watch" if r["query"].get("watch") in ("1", "true") else
                "get" if name else "list")
        key = (group, res, verb, ns, name)
        if key in seen:
            continue
        seen.add(key)
        ok = any((rns is None or rns == ns) and
                 group in rule.get("apiGroups", []) and
                 res in rule.get("resources", []) and
                 verb in rule.get("verbs", []) and
                 (not rule.get("resourceNames") or
                  name in rule["resourceNames"])
                 for rns, rule in rules)
        if not ok:
            denied.add("%s %s/%s %s/%s" % (verb, group or "core", res,
                                           ns or "-", name or "-"))
    kinds = sorted({"%s %s" % (k[2], k[1]) for k in seen})
    print(("PASS " if not denied else "FAIL ") +
          "every API request of the agents is allowed by deploy/10-rbac.yaml"
          " (%d kinds of request: %s)%s" % (
              len(kinds), ", ".join(kinds),
              "; denied: " + "; ".join(sorted(denied)) if denied else ""))
else:
    sys.exit("kq: unknown command " + cmd)
EOF
}

setup() {
	local t i
	write_kq
	"$e2e/topo.sh" up "$pfx" || return 1
	# node-b's namespace: a veth to the gateway namespace, where the API
	# server listens.
	ip netns add "$pfx-gw2" || return 1
	at gw2 ip link set lo up
	ip link add h0 netns "$pfx-gw2" type veth peer name k0 \
		netns "$pfx-gw" || return 1
	at gw ip addr add "$apiaddr/24" dev k0
	at gw ip link set k0 up
	at gw2 ip addr add 198.18.3.2/24 dev h0
	at gw2 ip link set h0 up
	# b1..b3 on 8443 (shop/www, shop/api, dev/preview and tests'
	# routes); the checkout Pods blue-1, blue-2, green-1 on 9443.
	set -- b1 blue-1 b2 blue-2 b3 green-1
	while [ $# -gt 0 ]; do
		openssl req -x509 -newkey ec \
			-pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
			-subj "/CN=$1" -keyout "$work/$1.key" \
			-out "$work/$1.crt" 2>/dev/null || return 1
		# Not through at(): $! must be the backend, for the cleanup.
		ip netns exec "$pfx-$1" python3 "$e2e/backend.py" --name "$1" \
			--cert "$work/$1.crt" --key "$work/$1.key" \
			>"$work/$1.log" 2>&1 &
		ip netns exec "$pfx-$1" python3 "$e2e/backend.py" --name "$2" --port 9443 \
			--cert "$work/$1.crt" --key "$work/$1.key" \
			>"$work/$2.log" 2>&1 &
		shift 2
	done
	# The API server: server and client certificates, tokens (node-a's,
	# and one nobody uses), a short watch timeout so watches are redone
	# often (each redo is a chance for 410 and for the new token).
	"$here/mkcerts.sh" "$k" "$apiaddr" >/dev/null 2>&1 || return 1
	tok_a=a-$RANDOM$RANDOM
	printf '%s\nspare-%s\n' "$tok_a" "$RANDOM" >"$k/tokens"
	echo "$tok_a" >"$k/a.token"
	kubeconfig "$work/a.kubeconfig" "    tokenFile: $k/a.token"
	kubeconfig "$work/b.kubeconfig" "    client-certificate: $k/client.crt
    client-key: $k/client.key"
	ip netns exec "$pfx-gw" python3 "$here/apiserver.py" \
		--listen "$apiaddr:$aport" --cert "$k/server.crt" \
		--key "$k/server.key" --client-ca "$k/ca.crt" \
		--token-file "$k/tokens" --control-port "$cport" \
		--max-watch-timeout 4 --watch-410-mode alternate \
		$(for f in "$top"/examples/*.yaml; do echo --load "$f"; done) \
		>"$work/api.log" 2>&1 &
	api=$!
	wait_for '^apiserver:' "$work/api.log" || return 1
	for b in b1 b2 b3 blue-1 blue-2 green-1; do
		wait_for listening "$work/$b.log" || return 1
	done
	: >"$work/a.log"
	: >"$work/b.log"
	t=$EPOCHREALTIME
	start_a || return 1
	echo "     node-a running $(ms_since "$t") ms after its start"
	# Until the first sync has programmed the routes.
	for i in $(seq 50); do
		[ "$(get www.example.com)" = b1 ] && return 0
		sleep 0.1
	done
	echo "     www.example.com not routed 5 s after the start"
	return 0
}

# 1. Routing follows the objects.
t_routing() {
	local c
	check "www.example.com -> b1 (shop/www)" b1 "$(get www.example.com)"
	check "api.example.com -> b2 (shop/api)" b2 "$(get api.example.com)"
	c=$(get checkout.example.com)
	case $c in
	blue-1|blue-2) ok "checkout.example.com -> $c (store/checkout, blue)" ;;
	*) bad "checkout.example.com: want blue-1 or blue-2, got '$c'" ;;
	esac
	check "a.dev.example.com over the IPv6 VIP -> b3 (dev/preview)" b3 \
		"$(get a.dev.example.com "[$vip6]")"
	check "a.dev.example.com over the IPv4 VIP (IPv6-only backend)" reset \
		"$(get a.dev.example.com)"
	check "unknown.example.com (no route)" reset \
		"$(get unknown.example.com)"
	check "node-a /readyz (synced from complete lists)" 200 \
		"$(at gw curl -s -o /dev/null -w '%{http_code}' --max-time 3 \
			http://127.0.0.1:9464/readyz)"

	check "new.example.com before its route exists" reset \
		"$(get new.example.com)"
	route shop new new.example.com api | apply
	timed "/apply of a new TLSRoute shop/new" b2 new.example.com 2000
	apply <<'EOF'
apiVersion: v1
kind: Service
metadata: {name: checkout, namespace: store}
spec:
  selector: {app: checkout, color: green}
  ports: [{name: https, port: 443, targetPort: https}]
EOF
	timed "/apply of store/checkout's selector color=green" green-1 \
		checkout.example.com 2000
	local n=0 i
	for i in 1 2 3 4 5 6; do
		[ "$(get checkout.example.com)" = green-1 ] && n=$((n + 1))
	done
	check "after the flip: 6 new connections to checkout on green-1" 6 "$n"
	del TLSRoute shop new
	timed "/delete of TLSRoute shop/new" reset new.example.com 2000
}

# 2. Status matches the spec, and is written only when something changed.
t_status() {
	local s0 n w
	apply <<EOF
apiVersion: v1
kind: Namespace
metadata: {name: other}
---
$(route other stray stray.example.com www)
---
$(route shop missing missing.example.com nosuchservice)
EOF
	kq foreign-object shop foreign foreign.example.com >"$work/foreign.json"
	apply <"$work/foreign.json"
	kq_check routes 5 \
		shop/www=True/Accepted,True/ResolvedRefs \
		shop/api=True/Accepted,True/ResolvedRefs \
		dev/preview=True/Accepted,True/ResolvedRefs \
		store/checkout=True/Accepted,True/ResolvedRefs \
		shop/foreign=True/Accepted,True/ResolvedRefs \
		shop/missing=True/Accepted,False/BackendNotFound \
		other/stray=False/NotAllowedByListeners,False/BackendNotFound
	kq_check foreign 5 shop/foreign <"$work/foreign.json"
	check "foreign.example.com (route with a foreign status entry) -> b1" \
		b1 "$(get foreign.example.com)"
	check "missing.example.com (no backend) resets" reset \
		"$(get missing.example.com)"
	check "stray.example.com (namespace not admitted) resets" reset \
		"$(get stray.example.com)"
	# 6 accepted: the 4 of examples/, foreign, missing.
	kq_check gateway 5 6

	# A spec change: generation bumped, observedGeneration follows.
	apply <<'EOF'
apiVersion: gateway.networking.k8s.io/v1alpha2
kind: TLSRoute
metadata: {name: api, namespace: shop}
spec:
  parentRefs: [{name: edge, namespace: infra}]
  hostnames: ["api.example.com", "api2.example.com"]
  rules: [{backendRefs: [{name: api, port: 443}]}]
EOF
	kq_check observed 5 shop/api
	timed "shop/api's new hostname" b2 api2.example.com 2000

	# No churn: a quiet window without a status write.
	sleep 1
	s0=$(kq lastseq)
	sleep 6
	w=$(kq writes "$s0")
	n=$(grep -c . <<<"$w")
	if [ "$n" -eq 0 ]; then
		ok "no churn: 0 status writes in a quiet 6 s window (watches redone every 4 s)"
	else
		bad "no churn: $n status writes in a quiet 6 s window:"
		sed 's/^/       /' <<<"$w" | head -10
	fi
}

# 3. A compaction: watches from before it get 410, the agent relists and
# loses nothing.
t_relist() {
	local n n0 s0 i lists w t0
	n0=$(logn 'watch expired (410), relisting' "$work/a.log")
	reset_requests
	ctl POST /compact >/dev/null
	s0=$(kq lastseq)
	t0=$EPOCHREALTIME
	{ service shop third 443 198.18.2.13; echo ---
	  route shop after410 after410.example.com third; } | apply
	# Watches last at most 4 s: every kind re-watches within ~5 s.
	for i in $(seq 100); do
		lists=$(kq lists)
		grep -q '^list ' <<<"$lists" &&
			[ "$(logn 'watch expired (410), relisting' "$work/a.log")" -gt "$n0" ] &&
			[ "$(ms_since "$t0")" -gt 5000 ] && break
		sleep 0.1
	done
	n=$(grep -c '^watch .* 410 ' <<<"$lists")
	if [ "$n" -gt 0 ]; then
		ok "after /compact: $n watches answered HTTP 410 (others: an ERROR event, 410 mode alternate)"
	else
		bad "after /compact: no watch answered HTTP 410"
	fi
	n=$(grep '^list ' <<<"$lists" | awk '{print $2}' | sed 's|.*/||' | sort -u | tr '\n' ' ')
	if [ -n "$n" ] && [ "$(logn 'watch expired (410), relisting' "$work/a.log")" -gt "$n0" ]; then
		ok "the agent relisted after the 410s: $n(log: $(($(logn 'watch expired (410), relisting' "$work/a.log") - n0)) 'watch expired (410), relisting')"
	else
		bad "no relist after the 410s (lists: '$n'; log lines: $(($(logn 'watch expired (410), relisting' "$work/a.log") - n0)))"
	fi
	check "the change made after the compaction: after410.example.com -> b3" \
		b3 "$(get after410.example.com)"
	still_routing "after the relists"
	check "after the relists: foreign.example.com -> b1" b1 \
		"$(get foreign.example.com)"
	check "after the relists: api2.example.com -> b2" b2 \
		"$(get api2.example.com)"
	# The relists wrote nothing but the new route's status and the
	# Gateway's attachedRoutes.
	w=$(kq writes "$s0" | awk '!/noop$/ {print $4, $5}' | sort -u | tr '\n' ' ')
	check "status writes since the compaction (not noop)" \
		"Gateway infra/edge TLSRoute shop/after410 " "$w"
}

# Until node-a has applied the sync that first saw STR in its log (the
# N+1-th line with it): a "synced" line after that one.
synced_after() {	# STR N TENTHS (or 30 s when longer)
	local end=$((SECONDS + ($3 / 10 > 30 ? $3 / 10 : 30)))
	while [ $SECONDS -lt $end ]; do
		awk -v s="$1" -v n="$2" 'index($0, s) && ++c > n { seen = 1 }
			seen && /msg=synced/ { ok = 1; exit }
			END { exit !ok }' "$work/a.log" && return 0
		sleep 0.1
	done
	return 1
}

# The same answer from HOST N times in a row.
steady() {	# NAME WANT HOST N
	local i got
	for i in $(seq "$4"); do
		got=$(get "$3")
		[ "$got" = "$2" ] || { bad "$1: $3 -> '$got' (try $i of $4)"; return; }
	done
	ok "$1: $3 -> $2, $4 connections in a row"
}

# 8. An invalid update keeps the object's last good version: traffic
# keeps flowing, and status says why. (This API server, like a
# kube-apiserver without the CRDs' validation, lets it through.)
t_lastgood() {
	local n st
	{ service shop lastgood 443 198.18.2.11; echo ---
	  route shop lastgood lastgood.example.com lastgood; } | apply
	timed "new route shop/lastgood" b1 lastgood.example.com 2000
	kq_check routes 5 shop/lastgood=True/Accepted,True/ResolvedRefs

	# The Service on port 0: it keeps port 443.
	n=$(logn 'file=kube:Service/shop/lastgood' "$work/a.log")
	service shop lastgood 0 | apply
	if synced_after 'file=kube:Service/shop/lastgood' "$n" 100; then
		ok "Service shop/lastgood on port 0: the agent says so: $(grep -F 'file=kube:Service/shop/lastgood' "$work/a.log" | tail -1 | sed 's/.*field=/field=/')"
	else
		bad "Service shop/lastgood on port 0: no 'invalid manifest' then 'synced' in the log within 30 s"
	fi
	steady "after the Service's bad edit" b1 lastgood.example.com 5
	kq_check routes 3 shop/lastgood=True/Accepted,True/ResolvedRefs
	st=$(python3 -c '
import json, sys
st = json.load(open(sys.argv[1]))
print(" ".join(e.get("field", "") for e in st.get("errors", [])
               if e.get("object") == "Service shop/lastgood"))' "$work/a.status")
	check "status document: the error of Service shop/lastgood" \
		"spec.ports[0].port" "$st"
	service shop lastgood 443 | apply

	# The route to hostname Bad_Host: it keeps lastgood.example.com.
	n=$(logn 'file=kube:TLSRoute/shop/lastgood' "$work/a.log")
	route shop lastgood Bad_Host lastgood | apply
	if synced_after 'file=kube:TLSRoute/shop/lastgood' "$n" 100; then
		ok "TLSRoute shop/lastgood to Bad_Host: the agent says so"
	else
		bad "TLSRoute shop/lastgood to Bad_Host: no 'invalid manifest' then 'synced' in the log within 30 s"
	fi
	steady "after the route's bad edit" b1 lastgood.example.com 5
	kq_check fallback 5 shop/lastgood 'spec.hostnames[0]'

	# Valid again: the new version replaces it, the condition goes.
	route shop lastgood lastgood2.example.com lastgood | apply
	timed "shop/lastgood valid again: its new hostname" b1 \
		lastgood2.example.com 2000
	check "shop/lastgood valid again: the old hostname resets" reset \
		"$(get lastgood.example.com)"
	kq_check fallback 5 shop/lastgood -
	del TLSRoute shop lastgood
	del EndpointSlice shop lastgood-1
	del Service shop lastgood
	timed "shop/lastgood deleted" reset lastgood2.example.com 2000
}

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

# Client loops in the client namespace until $work/stop exists (at most
# 60 s, 3000 requests each): one "START RC BACKEND" line per request.
start_loops() {	# NAME HOST...
	local name=$1 i=0
	shift
	rm -f "$work/stop"
	loops=()
	for h in "$@"; do
		i=$((i + 1))
		ip netns exec "$pfx-cli" timeout 70 bash -c '
			host=$1 out=$2 stop=$3 end=$((SECONDS + 60)) n=0
			: >"$out"
			while [ ! -e "$stop" ] && [ $n -lt 3000 ] &&
			      [ $SECONDS -lt $end ]; do
				t0=$EPOCHREALTIME
				b=$(curl -sk --max-time 5 --resolve "$host:443:198.18.0.10" \
					"https://$host/" 2>/dev/null)
				rc=$?
				b=${b#backend=}
				echo "$t0 $rc ${b%%[[:space:]]*}" >>"$out"
				n=$((n + 1))
			done' loop "$h" "$work/$name.$i" "$work/stop" &
		loops+=($!)
	done
}
stop_loops() { touch "$work/stop"; wait "${loops[@]}"; }

# 4. The API server away and back, under traffic.
t_down() {
	local t_down t_up n0 tot fails wrong f
	n0=$(logn 'kube: recovered' "$work/a.log")
	start_loops down www.example.com api.example.com
	sleep 1
	ctl POST /down >/dev/null
	t_down=$EPOCHREALTIME
	route shop whiledown whiledown.example.com api | apply
	sleep 4
	check "API server down: whiledown.example.com not routed yet" reset \
		"$(get whiledown.example.com)"
	if kill -0 "$agent_a" 2>/dev/null; then
		ok "API server down: the agent keeps running"
	else
		bad "API server down: the agent exited"
	fi
	ctl POST /up >/dev/null
	t_up=$EPOCHREALTIME
	echo "     API server down for $(ms_since "$t_down") ms"
	if poll b2 whiledown.example.com "$t_up" 35000; then
		ok "after /up: the change made while down reached the kernel in $ms ms (aim 10 s)"
	else
		bad "after /up: whiledown.example.com not routed within 35 s"
	fi
	sleep 0.5
	stop_loops
	tot=0 fails=0 wrong=0
	for f in "$work"/down.*; do
		tot=$((tot + $(wc -l <"$f")))
		fails=$((fails + $(awk '$2 != 0 || $3 == ""' "$f" | wc -l)))
	done
	wrong=$(($(awk '$2 == 0 && $3 != "b1"' "$work/down.1" | wc -l) +
		$(awk '$2 == 0 && $3 != "b2"' "$work/down.2" | wc -l)))
	# What failed, when: START_EPOCH CURL_EXIT BACKEND (for a diagnosis).
	[ "$fails" = 0 ] || awk '$2 != 0 || $3 == "" { print "     failed:", $0 }' \
		"$work"/down.*
	check "API server away and back: failed requests among $tot" 0 "$fails"
	check "API server away and back: answers from the wrong backend" 0 "$wrong"
	if wait_log 'kube: recovered' "$work/a.log" "$n0" 50; then
		ok "agent log: kube: recovered"
	else
		bad "agent log: no 'kube: recovered' after /up"
	fi
}

# 7. Token rotation: the server forgets the old token, node-a's tokenFile
# has the new one.
t_rotate() {
	local tok_b i n s0 w
	tok_b=b-$RANDOM$RANDOM
	echo "$tok_b" >"$k/a.token.new"
	mv "$k/a.token.new" "$k/a.token"
	printf '%s\nspare-%s\n' "$tok_b" "$RANDOM" >"$k/tokens.new"
	mv "$k/tokens.new" "$k/tokens"
	reset_requests
	tok_a=$tok_b
	# Watches are redone within 4 s: each is a request with a token.
	for i in $(seq 120); do
		n=$(kq watchers "token:$tok_b")
		[ "$n" -ge 8 ] && break
		sleep 0.1
	done
	check "after the rotation: kinds watched with the new token" 8 "$n"
	echo "     requests refused (401) around the rotation: $(kq codes -) (unauthenticated requests, by code)"
	reset_requests
	s0=$(kq lastseq)
	route shop rotated rotated.example.com www | apply
	timed "after the rotation: a new route" b1 rotated.example.com 2000
	for i in $(seq 50); do
		w=$(kq writes "$s0" | grep 'TLSRoute shop/rotated')
		[ -n "$w" ] && break
		sleep 0.1
	done
	case $w in
	*" token:$tok_b TLSRoute"*) ok "after the rotation: status written with the new token" ;;
	*) bad "after the rotation: status write of shop/rotated: '$w'" ;;
	esac
	check "after the rotation: requests refused since every kind was watched again" \
		"none" "$(kq codes - | tr ' ' '\n' | grep '^401:' || echo none)"
}

# The request log starts again (for checks of what came after a moment);
# what it held is kept for the RBAC check (t_deploy).
reset_requests() {
	kq dump >>"$work/requests.jsonl"
	ctl POST /requests/reset >/dev/null
}

# First status write after SEQ for KIND NS/NAME: "SEQ TIME IDENTITY ...".
# TENTHS of a second, or 30 s when longer (a busy machine's worth).
first_write() {	# SEQ "KIND NS/NAME" TENTHS
	local w end=$((SECONDS + ($3 / 10 > 30 ? $3 / 10 : 30)))
	while [ $SECONDS -lt $end ]; do
		w=$(kq writes "$1" | grep -F " $2 " | head -1)
		[ -n "$w" ] && { echo "$w"; return 0; }
		sleep 0.1
	done
	return 1
}
# ms from $EPOCHREALTIME T0 to a write's time (seconds, 3 decimals)
write_ms() { local t=${2/./}; echo $(((10#$t - $(us "$1") / 1000))); }

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

# deploy/: every document parses; the GatewayClass evaluates; every API
# request the agents made is one the RBAC allows.
t_deploy() {
	local out
	out=$(python3 - "$top"/deploy/[0-9]*.yaml <<'EOF' 2>&1
import sys, yaml
n = 0
for f in sys.argv[1:]:
    for d in yaml.safe_load_all(open(f)):
        if d is None:
            continue
        assert d.get("apiVersion") and d.get("kind") and \
            d.get("metadata", {}).get("name"), "%s: %r" % (f, d)[:200]
        n += 1
print(n)
EOF
	)
	case $out in
	[0-9]*) ok "deploy/[0-9]*.yaml: $out documents parse, each with apiVersion, kind, name" ;;
	*) bad "deploy/[0-9]*.yaml: $out" ;;
	esac
	out=$("$build/snilb" agent --check --manifests "$top/deploy" 2>&1)
	check "snilb agent --check --manifests deploy: exit" 0 "$?"
	touch "$work/requests.jsonl"
	kq_check rbac "$top/deploy/10-rbac.yaml" "$work/requests.jsonl"
}

# The PROXY v2 annotation (docs/agent.md) read from the API server: b1's
# TLS server (backend.py) reads no header, so with the annotation its
# handshakes fail, without it they complete; the status file says which.
t_proxy() {
	local pp
	{ route shop pp pp.example.com pp; echo ---; service shop pp 443 198.18.2.11; } |
		apply
	timed "/apply of Service shop/pp without the annotation" b1 \
		pp.example.com 2000
	{ service shop pp 443 | sed 's/^metadata: {name: pp, namespace: shop}$/metadata: {name: pp, namespace: shop, annotations: {snilb.io\/proxy-protocol: v2}}/'; } |
		apply
	timed "annotation snilb.io/proxy-protocol: v2: b1 gets a header, fails TLS" \
		reset pp.example.com 2000
	pp=$(python3 -c 'import json,sys
d=json.load(open(sys.argv[1]))
print(",".join(b["proxy_protocol"] for r in d["routes"] if r["name"] == "pp" for b in r["backends"]))' "$work/a.status" 2>/dev/null)
	check "status file: shop/pp's backendRef proxy_protocol" v2 "$pp"
	service shop pp 443 | apply
	timed "annotation removed: b1 completes TLS again" b1 pp.example.com 2000
	del TLSRoute shop pp
	del Service shop pp
}

# 12. Status writes never hold the kernel back. Its own namespace, API
# server and agent: $LAT_ROUTES TLSRoutes (1000) over $LAT_SERVICES
# Services (a quarter, at most 500: the data plane holds 4096 sets), an
# API server that takes $LAT_DELAY s (0.4) for every status write, so the
# first status pass lasts minutes; meanwhile EndpointSlices change one at
# a time and each change must reach the kernel within 5 s (p50/p99
# printed: the goal is 1 s p99, a bound a busy 2-core machine may miss
# without a fault). Then status writes stuck (5 s each): the Lease is
# still renewed every 2 s; then one hanging (30 s): SIGTERM stops the
# agent at once, and it still releases the Lease.
lat_ctl() {	# METHOD PATH [BODY]
	at lat curl -sS --fail-with-body --max-time 10 -X "$1" \
		${3+--data-binary "$3"} "http://127.0.0.1:6444$2"
}
lat_py() { at lat python3 "$here/latency.py" 6444 "$build/snilb" \
	"$work/bpffs3/snilb" "$work/lat.status" "$@"; }
lines_check() {	# PASS/FAIL lines on stdin counted, others shown
	local line
	while IFS= read -r line; do
		case $line in
		PASS\ *) ok "${line#PASS }" ;;
		FAIL\ *) bad "${line#FAIL }" ;;
		"") ;;
		*) echo "$line" ;;
		esac
	done
}
lat_up() {
	ip netns add "$pfx-lat" || return 1
	at lat ip link set lo up
	at lat ip link add l0 type veth peer name l1 || return 1
	at lat ip link set l1 up
	at lat ip addr add 198.18.200.1/24 dev l0
	at lat ip link set l0 up
	mkdir -p "$work/bpffs3"
	mount -t bpf bpf "$work/bpffs3" || return 1
	echo "lat-$RANDOM$RANDOM" >"$k/lat.token"
	kubeconfig "$work/lat.kubeconfig" "    tokenFile: $k/lat.token"
	sed -i "s|server: .*|server: https://127.0.0.1:6443|" "$work/lat.kubeconfig"
	ip netns exec "$pfx-lat" python3 "$here/apiserver.py" \
		--listen 127.0.0.1:6443 --cert "$k/server.crt" \
		--key "$k/server.key" --token-file "$k/lat.token" \
		--control-port 6444 --status-delay "$LAT_DELAY" \
		>"$work/lat-api.log" 2>&1 &
	lat_api=$!
	wait_for '^apiserver:' "$work/lat-api.log"
}
lat_agent() {
	ip netns exec "$pfx-lat" "$build/snilb" agent \
		--kubeconfig "$work/lat.kubeconfig" --node-name node-lat \
		--iface l0 --snat 198.18.200.1 --pin-path "$work/bpffs3/snilb" \
		--status-file "$work/lat.status" >>"$work/lat.log" 2>&1 &
	agent_lat=$!
	wait_log 'msg="agent running"' "$work/lat.log" 0 300
}
lat_down() {
	kill "$agent_lat" "$lat_api" 2>/dev/null
	wait "$agent_lat" "$lat_api" 2>/dev/null
	ip netns del "$pfx-lat"
	umount "$work/bpffs3"
}
t_latency() {
	local n=${LAT_ROUTES:-1000} s t0 i w0 rc
	LAT_DELAY=${LAT_DELAY:-0.4}
	s=${LAT_SERVICES:-$(( n / 4 > 500 ? 500 : n / 4 ))}
	lat_up || { bad "latency: setup"; return; }
	lines_check < <(lat_py load "$n" "$s")
	: >"$work/lat.log"
	lat_agent || { bad "latency: the agent did not start"; lat_down; return; }
	lines_check < <(lat_py routed "$n")
	# Until the first status write is through: the writer is busy.
	for i in $(seq 300); do
		[ "$(lat_ctl GET /status-writes | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" -gt 0 ] && break
		sleep 0.1
	done
	echo "     status writes so far: $i tenths of a second after routing; each takes $LAT_DELAY s"
	lines_check < <(lat_py changes "${LAT_CHANGES:-40}" 5)
	echo "     agent: $(grep -c 'msg=synced' "$work/lat.log") syncs, last: $(grep 'msg=synced' "$work/lat.log" | tail -1 | sed 's/.*msg=synced //')"

	# Status writes stuck: every one takes 5 s; the Lease renewed on time.
	lat_ctl POST /config '{"status_delay": 5}' >/dev/null
	lat_ctl POST /requests/reset >/dev/null
	lines_check < <(lat_py leases 6 30 3.5)

	# A status write hanging (30 s): SIGTERM ends the agent at once.
	w0=$(lat_ctl GET /status-writes | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
	lat_ctl POST /config '{"status_delay": 30}' >/dev/null
	# The write in flight (5 s) ends; the next one hangs.
	for i in $(seq 100); do
		[ "$(lat_ctl GET /status-writes | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" -gt "$w0" ] && break
		sleep 0.1
	done
	sleep 0.5
	t0=$EPOCHREALTIME
	kill -TERM "$agent_lat"
	for i in $(seq 100); do kill -0 "$agent_lat" 2>/dev/null || break; sleep 0.05; done
	i=$(ms_since "$t0")
	if kill -0 "$agent_lat" 2>/dev/null; then
		bad "SIGTERM while a status write hangs: agent alive after $i ms"
		kill -9 "$agent_lat"
	elif [ "$i" -le 3000 ]; then
		ok "SIGTERM while a status write hangs: the agent exited after $i ms"
	else
		bad "SIGTERM while a status write hangs: the agent exited only after $i ms"
	fi
	wait "$agent_lat"
	rc=$?
	check "SIGTERM while a status write hangs: exit status" 0 "$rc"
	check "SIGTERM while a status write hangs: the Lease released" "" \
		"$(lat_ctl GET '/objects?kind=Lease' | python3 -c 'import json,sys; print("".join(o["spec"].get("holderIdentity") or "" for o in json.load(sys.stdin)))')"
	lat_down
}

t0_all=$EPOCHREALTIME
if ! setup; then
	bad "setup"
	echo "$passed passed, $failed failed"
	exit 1
fi
echo "     setup: $(ms_since "$t0_all") ms"
if [ -n "${ONLY:-}" ]; then
	for t in $ONLY; do $t; done
else
	for t in t_routing t_proxy t_status t_relist t_lastgood t_retry_after \
		t_relist_continue t_watch_cut t_down t_rotate t_leader t_crd \
		t_deploy t_latency; do
		t1=$EPOCHREALTIME
		$t
		echo "     $t: $(ms_since "$t1") ms"
	done
fi
if [ "$failed" -gt 0 ]; then
	for f in a b; do
		[ -s "$work/$f.log" ] || continue
		echo "     last lines of node-$f's log:"
		tail -15 "$work/$f.log" | sed 's/^/       /'
	done
fi
echo "kube e2e: $(ms_since "$t0_all") ms"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
