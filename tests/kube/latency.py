#!/usr/bin/env python3
"""Watch event -> kernel latency of `snilb agent --kubeconfig`, for
tests/kube/run.sh (t_latency), run where the test API server's control port
and the agent's pinned maps are.

  latency.py CONTROL_PORT SNILB PIN_PATH STATUS_FILE load ROUTES SERVICES
  latency.py CONTROL_PORT SNILB PIN_PATH STATUS_FILE routed ROUTES
  latency.py CONTROL_PORT SNILB PIN_PATH STATUS_FILE changes N LIMIT_S
  latency.py CONTROL_PORT SNILB PIN_PATH STATUS_FILE leases MIN_N TIMEOUT MAX_GAP

load: ROUTES TLSRoutes (namespace lat, hostnames rI.lat.example.com) over
SERVICES Services, each with an EndpointSlice of one ready endpoint, and
the Gateway lat/edge (VIP 198.18.200.10:443) of GatewayClass snilb.
routed: waits (at most 300 s) until the kernel routes every hostname.
leases: waits (at most TIMEOUT s) for MIN_N Lease renewals in the request
log, then checks no two came more than MAX_GAP s apart.

changes: N times, one Service's EndpointSlice gets a new address (Services
in turn); the time from the /apply that makes the watch event to the first
moment the status file names the new address is one sample: the agent
writes that file after the kernel's maps, so this is an upper bound of the
watch event -> kernel latency, and polling a file is cheap where a look at
the kernel's maps through the CLI takes 0.5 s at 1,000 routes. The kernel
is then checked: `snilb routes -o json` says the route's kernel entry
points at the set the status names, with the new address. A sample past
LIMIT_S fails (three in a row end the run). Prints each, then p50, p99,
max, and PASS/FAIL lines.
"""
import json
import os
import subprocess
import sys
import time
import urllib.request

port, snilb, pin, status = sys.argv[1:5]
cmd, args = sys.argv[5], sys.argv[6:]
NS = "lat"
# Above this many routes `snilb routes -o json` is too slow to check
# the kernel with (over a minute at 10,000 routes): the status file only.
CLI_MAX = 2000
GW = "gateway.networking.k8s.io"


def ctl(path, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request("http://127.0.0.1:%s%s" % (port, path),
                                 data=data, method="POST" if data else "GET")
    with urllib.request.urlopen(req, timeout=60) as r:
        return json.load(r)


def addr(svc, gen):
    """The address of Service svc's endpoint, generation gen (198.19/16)."""
    n = gen * 1000 + svc
    return "198.19.%d.%d" % (n // 250 % 256, n % 250 + 1)


def service(i, gen):
    return [{"apiVersion": "v1", "kind": "Service",
             "metadata": {"name": "s%d" % i, "namespace": NS},
             "spec": {"ports": [{"name": "https", "port": 443,
                                 "targetPort": 8443}]}},
            slice_(i, gen)]


def slice_(i, gen):
    return {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
            "metadata": {"name": "s%d-1" % i, "namespace": NS,
                         "labels": {"kubernetes.io/service-name": "s%d" % i}},
            "addressType": "IPv4",
            "ports": [{"name": "https", "port": 8443}],
            "endpoints": [{"addresses": [addr(i, gen)],
                           "conditions": {"ready": True}}]}


def route(i, nsvc):
    return {"apiVersion": GW + "/v1", "kind": "TLSRoute",
            "metadata": {"name": "r%d" % i, "namespace": NS},
            "spec": {"parentRefs": [{"name": "edge"}],
                     "hostnames": ["r%d.lat.example.com" % i],
                     "rules": [{"backendRefs": [{"name": "s%d" % (i % nsvc),
                                                 "port": 443}]}]}}


def cli(what):
    out = subprocess.run([snilb, what, "-o", "json", "--pin-path", pin,
                          "--status-file", status], capture_output=True,
                         timeout=60)
    try:
        return json.loads(out.stdout)
    except ValueError:
        return {}


_seen = {}


def status_has(address):
    """The status file names @address (as an endpoint's address); read
    again only when replaced (it is renamed into place)."""
    try:
        st = os.stat(status)
        key = (st.st_ino, st.st_mtime_ns)
        if _seen.get("key") != key:
            with open(status, "rb") as f:
                _seen["data"] = f.read()
            _seen["key"] = key
        return ('"%s"' % address).encode() in _seen["data"]
    except OSError:
        return False


def kernel_agrees(svc, address):
    """Route r@svc (of Service s@svc): in the kernel, on the set the
    status names, whose backends include @address."""
    for r in cli("routes").get("routes") or []:
        if r.get("hostname") == "r%d.lat.example.com" % svc:
            return not r.get("note") and \
                (address + ":") in (r.get("backends") or "")
    return False


def load(nroutes, nsvc):
    objs = [{"apiVersion": "v1", "kind": "Namespace",
             "metadata": {"name": NS}},
            {"apiVersion": GW + "/v1", "kind": "GatewayClass",
             "metadata": {"name": "snilb"},
             "spec": {"controllerName": "snilb.io/gateway-controller"}},
            {"apiVersion": GW + "/v1", "kind": "Gateway",
             "metadata": {"name": "edge", "namespace": NS},
             "spec": {"gatewayClassName": "snilb",
                      "addresses": [{"type": "IPAddress",
                                     "value": "198.18.200.10"}],
                      "listeners": [{"name": "tls", "port": 443,
                                     "protocol": "TLS",
                                     "tls": {"mode": "Passthrough"}}]}}]
    for i in range(nsvc):
        objs += service(i, 0)
    ctl("/apply", objs)
    for i in range(0, nroutes, 1000):
        ctl("/apply", [route(j, nsvc) for j in range(i, min(nroutes,
                                                            i + 1000))])


def status_routes():
    try:
        with open(status) as f:
            rs = json.load(f).get("routes") or []
    except (OSError, ValueError):
        return []
    return [e for r in rs for e in r.get("entries") or []]


def routed(nroutes):
    """Every route in the status file, then (up to CLI_MAX routes) in
    the kernel as the status says."""
    t0, n = time.time(), 0
    while time.time() - t0 < 600:
        rs = status_routes()
        if nroutes <= CLI_MAX and len(rs) >= nroutes:
            rs = cli("routes").get("routes") or []
        n = sum(1 for r in rs if r.get("hostname", "").endswith(
            ".lat.example.com") and not r.get("note"))
        if n >= nroutes:
            print("PASS %d TLSRoutes in the kernel (waited %.1f s)" %
                  (n, time.time() - t0))
            return
        time.sleep(1)
    have = {r.get("hostname") for r in rs}
    miss = ["r%d.lat.example.com" % i for i in range(nroutes)
            if "r%d.lat.example.com" % i not in have]
    print("FAIL %d of %d TLSRoutes in the kernel after 600 s (missing: %s)"
          % (n, nroutes, " ".join(miss[:10])))


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100.0 * (len(xs) - 1))))]


def changes(n, limit):
    nsvc = sum(1 for o in ctl("/objects?kind=Service")
               if o["metadata"].get("namespace") == NS)
    big = len(status_routes()) > CLI_MAX
    if big:
        print("     over %d routes: the kernel is not checked after each "
              "change (snilb routes is too slow)" % CLI_MAX)
    lat, late, row, wrong = [], 0, 0, 0
    for j in range(n):
        svc, gen = j % nsvc, 1 + j // nsvc
        a = addr(svc, gen)
        while status_has(a):	# from an earlier run: a new one
            gen += 1
            a = addr(svc, gen)
        t0 = time.time()
        ctl("/apply", slice_(svc, gen))
        seen = None
        while time.time() - t0 < limit:
            if status_has(a):
                seen = time.time() - t0
                break
            time.sleep(0.01)
        if seen is None:
            late += 1
            row += 1
            print("     change %d: s%d -> %s not in the kernel within %g s"
                  % (j, svc, a, limit))
            if row >= 3:
                break
            continue
        row = 0
        lat.append(seen)
        agrees = big or kernel_agrees(svc, a)
        wrong += not agrees
        print("     change %d: s%d -> %s after %.0f ms%s" % (
            j, svc, a, seen * 1000, "" if agrees else
            ", BUT the kernel's route r%d does not have it" % svc))
    if lat:
        print("     latency watch event -> kernel over %d changes: p50 %.0f "
              "ms, p99 %.0f ms, max %.0f ms" % (
                  len(lat), pct(lat, 50) * 1000, pct(lat, 99) * 1000,
                  max(lat) * 1000))
    print("%s every EndpointSlice change reached the kernel within %g s "
          "while status writes were backlogged (%d of %d late%s)" % (
              "PASS" if not late and len(lat) == n else "FAIL", limit,
              late, n, "" if not lat else "; p50 %.0f ms, p99 %.0f ms" % (
                  pct(lat, 50) * 1000, pct(lat, 99) * 1000)))
    print("%s the kernel agreed with the status file after each change "
          "(%d of %d did not)" % ("PASS" if lat and not wrong else "FAIL",
                                  wrong, len(lat)))


def leases(min_n, timeout, max_gap):
    t0 = time.time()
    while True:
        ts = sorted(r["time"] for r in ctl("/requests")["log"]
                    if r["pattern"].endswith("/leases/{name}") and
                    r["method"] == "PUT" and r["code"] == 200)
        if len(ts) >= min_n or time.time() - t0 > timeout:
            break
        time.sleep(0.5)
    gaps = [b - a for a, b in zip(ts, ts[1:])]
    print("%s %d Lease renewals in %.0f s while every status write took "
          "long, at most %.1f s apart (want >= %d, <= %g s apart)" % (
              "PASS" if len(ts) >= min_n and max(gaps or [0]) <= max_gap
              else "FAIL", len(ts), time.time() - t0, max(gaps or [0]),
              min_n, max_gap))


if cmd == "load":
    load(int(args[0]), int(args[1]))
elif cmd == "routed":
    routed(int(args[0]))
elif cmd == "leases":
    leases(int(args[0]), float(args[1]), float(args[2]))
elif cmd == "changes":
    changes(int(args[0]), float(args[1]))
else:
    sys.exit("latency.py: unknown command " + cmd)
