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

elif cmd == "obj":	# KIND NS NAME: the object's JSON, or null
    print(json.dumps(objs(args[0]).get("%s/%s" % (args[1], args[2]))))

elif cmd == "lbsvc":	# NS NAME GATEWAY PORT,...: snilb's Service, as designed
    ns, name, gwn, ports = args[0], args[1], args[2], args[3].split(",")
    want = [{"name": "tls-%s" % p, "protocol": "TCP", "port": int(p),
             "targetPort": int(p)} for p in ports]
    end, o, bad = time.time() + 30, None, ["not created"]
    while time.time() < end:	# until it has the ports (30 s at most)
        o = objs("Service").get("%s/%s" % (ns, name))
        gw = objs("Gateway").get("%s/%s" % (ns, gwn))
        if o and gw:
            sp, md = o.get("spec") or {}, o["metadata"]
            bad = []
            if sp.get("type") != "LoadBalancer":
                bad.append("type %s" % sp.get("type"))
            if sp.get("externalTrafficPolicy") != "Local":
                bad.append("externalTrafficPolicy %s" %
                           sp.get("externalTrafficPolicy"))
            if sp.get("selector") != {"app.kubernetes.io/name": "snilb"}:
                bad.append("selector %s" % sp.get("selector"))
            if [{k: p.get(k) for k in ("name", "protocol", "port",
                                       "targetPort")}
                    for p in sp.get("ports") or []] != want:
                bad.append("ports %s" % json.dumps(sp.get("ports")))
            if (md.get("labels") or {}).get("snilb.io/gateway") != gwn:
                bad.append("labels %s" % md.get("labels"))
            if md.get("ownerReferences") != [{
                    "apiVersion": GW + "/v1", "kind": "Gateway",
                    "name": gwn, "uid": gw["metadata"]["uid"],
                    "controller": True}]:
                bad.append("ownerReferences %s" %
                           json.dumps(md.get("ownerReferences")))
            if not bad:
                break
        time.sleep(0.1)
    print(("PASS " if not bad else "FAIL ") + "Service %s/%s of Gateway %s: "
          "type LoadBalancer, ports %s, selector app.kubernetes.io/name="
          "snilb, externalTrafficPolicy Local, label snilb.io/gateway, "
          "controller ownerReference to the Gateway%s" % (
              ns, name, gwn, args[3], "" if not bad else ": " +
              "; ".join(bad)))

elif cmd == "gone":	# KIND NS NAME WHY: absent within 30 s
    end = time.time() + 30
    while time.time() < end and "%s/%s" % (args[1], args[2]) in objs(args[0]):
        time.sleep(0.1)
    there = "%s/%s" % (args[1], args[2]) in objs(args[0])
    print("%s %s %s/%s deleted: %s" % ("FAIL" if there else "PASS", args[0],
                                      args[1], args[2], args[3]))

elif cmd == "programmed":	# NS NAME STATUS/REASON TEXT [ADDR]: 30 s at most
    ns, name, want, text = args[:4]
    addr = args[4] if len(args) > 4 else None
    end, got = time.time() + 30, "no Gateway"
    while time.time() < end:
        gw = objs("Gateway").get("%s/%s" % (ns, name))
        st = (gw or {}).get("status") or {}
        c = cond(st.get("conditions"), "Programmed") or {}
        addrs = [a.get("value") for a in st.get("addresses") or []
                 if a.get("type", "IPAddress") == "IPAddress"]
        got = "%s/%s %r addresses %s" % (c.get("status"), c.get("reason"),
                                         c.get("message"), addrs)
        if ("%s/%s" % (c.get("status"), c.get("reason")) == want and
                text in (c.get("message") or "") and
                (addr is None or addrs == [addr])):
            break
        time.sleep(0.1)
    else:
        print("FAIL Gateway %s/%s Programmed %s (message with %r%s): got %s"
              % (ns, name, want, text, ", addresses [%s]" % addr
                 if addr else "", got))
        sys.exit(0)
    print("PASS Gateway %s/%s Programmed %s%s%s" % (
        ns, name, want, " (%r)" % text if text else "",
        ", status.addresses [%s]" % addr if addr else ""))

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
