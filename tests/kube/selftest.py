#!/usr/bin/env python3
"""Self-test of tests/kube/apiserver.py with real clients (curl, Python's
http.client, and a raw TLS socket to see the chunks of a watch).

python3 tests/kube/selftest.py [-v]   -- last line: "N passed, N failed"
"""

import http.client
import json
import os
import queue
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
GWP = "/apis/gateway.networking.k8s.io"
VERBOSE = "-v" in sys.argv
passed = failed = 0


def check(cond, what, detail=""):
    global passed, failed
    if cond:
        passed += 1
        if VERBOSE:
            print("ok   " + what)
    else:
        failed += 1
        print("FAIL " + what + (": " + str(detail)[:600] if detail else ""))
    return cond


class Env:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="kubetest.")
        self.certs = os.path.join(self.dir, "certs")
        subprocess.run([os.path.join(HERE, "mkcerts.sh"), self.certs,
                        "127.0.0.1"], check=True, stdout=subprocess.DEVNULL)
        self.ca = os.path.join(self.certs, "ca.crt")
        self.token_file = os.path.join(self.dir, "token")
        self.token = "tok-" + os.urandom(6).hex()
        with open(self.token_file, "w") as f:
            f.write(self.token + "\n")
        ports = os.path.join(self.dir, "ports")
        self.proc = subprocess.Popen(
            [sys.executable, os.path.join(HERE, "apiserver.py"),
             "--listen", "127.0.0.1:0", "--control-port", "0",
             "--port-file", ports,
             "--cert", os.path.join(self.certs, "server.crt"),
             "--key", os.path.join(self.certs, "server.key"),
             "--client-ca", self.ca, "--token-file", self.token_file,
             "--bookmark-interval", "1", "--max-watch-timeout", "20"],
            stdout=subprocess.DEVNULL)
        for _ in range(100):
            if os.path.exists(ports):
                break
            time.sleep(0.05)
        with open(ports) as f:
            self.port, self.cport = map(int, f.read().split())
        self.ctx = ssl.create_default_context(cafile=self.ca)

    def close(self):
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)

    # clients ---------------------------------------------------------------
    def conn(self):
        return http.client.HTTPSConnection("127.0.0.1", self.port,
                                           context=self.ctx, timeout=10)

    def api(self, method, path, body=None, token=True, ctype=None, conn=None):
        c = conn or self.conn()
        h = {"Accept": "application/json", "User-Agent": "selftest/1"}
        if token:
            h["Authorization"] = "Bearer " + (self.token if token is True
                                              else token)
        data = None
        if body is not None:
            data = body if isinstance(body, (bytes, str)) else json.dumps(body)
            h["Content-Type"] = ctype or ("application/merge-patch+json"
                                          if method == "PATCH"
                                          else "application/json")
        c.request(method, path, body=data, headers=h)
        r = c.getresponse()
        raw = r.read()
        if conn is None:
            c.close()
        try:
            return r.status, json.loads(raw), r
        except ValueError:
            return r.status, raw, r

    def ctl(self, method, path, body=None):
        c = http.client.HTTPConnection("127.0.0.1", self.cport, timeout=10)
        c.request(method, path, body=None if body is None else
                  (body if isinstance(body, str) else json.dumps(body)))
        r = c.getresponse()
        out = json.loads(r.read())
        c.close()
        return out

    def curl(self, *args):
        p = subprocess.run(["curl", "-sS", "--http1.1", "--cacert", self.ca,
                            "-w", "\n%{http_code}"] + list(args),
                           capture_output=True, text=True, timeout=20)
        body, _, code = p.stdout.rpartition("\n")
        try:
            return int(code), json.loads(body) if body.strip() else None
        except ValueError:
            return int(code or 0), body

    def url(self, path):
        return "https://127.0.0.1:%d%s" % (self.port, path)

    def bearer(self):
        return "Authorization: Bearer " + self.token


class RawWatch:
    """A watch on a raw TLS socket: sees the chunked framing itself."""

    def __init__(self, env, path, token=None):
        self.q = queue.Queue()
        self.status = None
        self.headers = {}
        s = socket.create_connection(("127.0.0.1", env.port), timeout=30)
        self.sock = env.ctx.wrap_socket(s, server_hostname="127.0.0.1")
        req = ("GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: "
               "application/json\r\nAuthorization: Bearer %s\r\n\r\n" %
               (path, token or env.token))
        self.sock.sendall(req.encode())
        self.f = self.sock.makefile("rb")
        line = self.f.readline()
        self.status = int(line.split()[1])
        while True:
            h = self.f.readline()
            if h in (b"\r\n", b""):
                break
            k, _, v = h.decode().partition(":")
            self.headers[k.strip().lower()] = v.strip()
        threading.Thread(target=self.read, daemon=True).start()

    def read(self):
        try:
            if self.headers.get("transfer-encoding") != "chunked":
                n = int(self.headers.get("content-length", 0))
                self.q.put(("body", self.f.read(n)))
                return
            while True:
                size = self.f.readline()
                if not size:
                    self.q.put(("eof", None))
                    return
                n = int(size.strip(), 16)
                data = self.f.read(n)
                crlf = self.f.readline()
                if n == 0:
                    self.q.put(("end", None))
                    return
                if crlf != b"\r\n" or len(data) != n:
                    self.q.put(("eof", None))
                    return
                self.q.put(("chunk", data))
        except (OSError, ValueError):
            self.q.put(("eof", None))

    def next(self, timeout=5):
        try:
            return self.q.get(timeout=timeout)
        except queue.Empty:
            return ("timeout", None)

    def event(self, timeout=5, skip_bookmarks=True):
        """(type, object) of the next event; ('end'|'eof'|'timeout', None)."""
        deadline = time.time() + timeout
        while True:
            kind, data = self.next(max(0.01, deadline - time.time()))
            if kind != "chunk":
                return kind, data
            if not data.endswith(b"\n") or data.count(b"\n") != 1:
                return "badchunk", data
            ev = json.loads(data)
            if skip_bookmarks and ev["type"] == "BOOKMARK":
                continue
            return ev["type"], ev["object"]

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def route(name, ns="t1", host=None, **extra):
    o = {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "TLSRoute",
         "metadata": {"name": name, "namespace": ns},
         "spec": {"hostnames": [host or name + ".example"],
                  "parentRefs": [{"name": "gw"}]}}
    o.update(extra)
    return o


def test_discovery(env):
    code, body = env.curl("-H", env.bearer(), env.url("/api"))
    check(code == 200 and body.get("kind") == "APIVersions"
          and body["versions"] == ["v1"], "curl GET /api", body)
    code, body = env.curl("-H", env.bearer(), env.url("/api/v1"))
    names = {r["name"] for r in body.get("resources", [])}
    check(code == 200 and {"namespaces", "services", "pods"} <= names,
          "GET /api/v1 APIResourceList", names)
    code, body = env.curl("-H", env.bearer(), env.url("/apis"))
    groups = {g["name"]: [v["version"] for v in g["versions"]]
              for g in body.get("groups", [])}
    check(code == 200 and groups.get("gateway.networking.k8s.io") ==
          ["v1", "v1beta1", "v1alpha3", "v1alpha2"]
          and groups.get("discovery.k8s.io") == ["v1"]
          and groups.get("coordination.k8s.io") == ["v1"],
          "GET /apis APIGroupList", groups)
    code, body = env.curl("-H", env.bearer(), env.url(GWP))
    check(code == 200 and body.get("kind") == "APIGroup"
          and body["preferredVersion"]["version"] == "v1", "GET /apis/GROUP",
          body)
    code, body = env.curl("-H", env.bearer(), env.url(GWP + "/v1"))
    res = {r["name"]: r for r in body.get("resources", [])}
    check(code == 200 and body.get("groupVersion") ==
          "gateway.networking.k8s.io/v1"
          and {"tlsroutes", "tlsroutes/status", "gateways/status",
               "gatewayclasses/status", "referencegrants"} <= set(res)
          and res["tlsroutes"]["namespaced"] and res["tlsroutes"]["kind"] ==
          "TLSRoute" and res["tlsroutes"]["singularName"] == "tlsroute"
          and not res["gatewayclasses"]["namespaced"]
          and "watch" in res["tlsroutes"]["verbs"],
          "GET /apis/GROUP/VERSION resources", res.keys())
    code, body = env.curl("-H", env.bearer(), env.url("/apis/foo.example/v1"))
    check(code == 404 and body.get("kind") == "Status"
          and body.get("reason") == "NotFound", "unknown group: 404 Status",
          (code, body))


def test_auth(env):
    code, body = env.curl(env.url("/api/v1/namespaces"))
    check(code == 401 and body == {"kind": "Status", "apiVersion": "v1",
                                   "metadata": {}, "status": "Failure",
                                   "message": "Unauthorized",
                                   "reason": "Unauthorized", "code": 401},
          "no token: 401 Status Unauthorized", (code, body))
    code, _ = env.curl("-H", "Authorization: Bearer wrong",
                       env.url("/api/v1/namespaces"))
    check(code == 401, "wrong token: 401", code)
    code, body = env.curl("--cert", os.path.join(env.certs, "client.crt"),
                          "--key", os.path.join(env.certs, "client.key"),
                          env.url("/api/v1/namespaces"))
    check(code == 200 and body.get("kind") == "NamespaceList",
          "client certificate accepted", (code, body))


def test_list(env):
    objs = [{"apiVersion": "v1", "kind": "Service",
             "metadata": {"name": "svc%d" % i, "namespace": "t%d" % (i % 2)},
             "spec": {"ports": [{"port": 443}]}} for i in range(7)]
    out = env.ctl("POST", "/apply", objs)
    check(len(out) == 7 and all(o["action"] == "created" for o in out),
          "control /apply creates", out)
    c = env.conn()
    code, page, _ = env.api("GET", "/api/v1/services?limit=3", conn=c)
    rv0 = page["metadata"]["resourceVersion"]
    check(code == 200 and page["kind"] == "ServiceList"
          and len(page["items"]) == 3 and page["metadata"].get("continue")
          and page["metadata"].get("remainingItemCount") == 4,
          "list limit=3: first page with continue", page.get("metadata"))
    check("kind" not in page["items"][0] and
          page["items"][0]["metadata"].get("uid"),
          "built-in list items carry no kind/apiVersion", page["items"][0])
    names = [o["metadata"]["name"] for o in page["items"]]
    # a change between pages is not seen: the list is a snapshot
    env.ctl("POST", "/delete", {"kind": "Service", "namespace": "t1",
                                "name": "svc5"})
    token = page["metadata"]["continue"]
    while page["metadata"].get("continue"):
        code, page, _ = env.api("GET", "/api/v1/services?limit=3&continue=" +
                                urllib.parse.quote(page["metadata"]
                                                   ["continue"]), conn=c)
        if code != 200:
            break
        names += [o["metadata"]["name"] for o in page["items"]]
        check(page["metadata"]["resourceVersion"] == rv0,
              "continue pages keep the list's resourceVersion", page["metadata"])
    check(sorted(names) == ["svc%d" % i for i in range(7)] and
          len(names) == 7, "paginated list is a consistent snapshot", names)
    code, page, _ = env.api("GET", "/api/v1/namespaces/t0/services", conn=c)
    check(code == 200 and len(page["items"]) == 4 and
          "continue" not in page["metadata"], "namespaced list",
          page.get("metadata"))
    code, page, _ = env.api("GET", "/api/v1/services?fieldSelector=" +
                            urllib.parse.quote("metadata.name=svc2"), conn=c)
    check(code == 200 and [o["metadata"]["name"] for o in page["items"]] ==
          ["svc2"], "fieldSelector metadata.name", page)
    c.close()
    env.ctl("POST", "/compact")
    code, body, _ = env.api("GET", "/api/v1/services?limit=3&continue=" +
                            urllib.parse.quote(token))
    check(code == 410 and body.get("reason") == "Expired",
          "stale continue after /compact: 410 Expired", (code, body))


def test_watch(env):
    code, page, _ = env.api("GET", GWP + "/v1/tlsroutes")
    rv = page["metadata"]["resourceVersion"]
    w = RawWatch(env, GWP + "/v1/tlsroutes?watch=1&allowWatchBookmarks=true"
                 "&timeoutSeconds=4&resourceVersion=" + rv)
    check(w.status == 200 and w.headers.get("transfer-encoding") == "chunked"
          and w.headers.get("content-type") == "application/json",
          "watch: 200, chunked, application/json", w.headers)
    env.ctl("POST", "/apply", route("w1"))
    t, o = w.event()
    check(t == "ADDED" and o["metadata"]["name"] == "w1" and
          o["apiVersion"] == "gateway.networking.k8s.io/v1" and
          o["kind"] == "TLSRoute", "watch: ADDED in its own chunk", (t, o))
    r2 = route("w1", host="w1b.example")
    env.ctl("POST", "/apply", r2)
    t, o = w.event()
    check(t == "MODIFIED" and o["metadata"]["generation"] == 2,
          "watch: MODIFIED (apply changed spec: generation 2)", (t, o))
    env.ctl("POST", "/delete", {"kind": "TLSRoute", "namespace": "t1",
                                "name": "w1"})
    t, o = w.event()
    check(t == "DELETED" and o["metadata"]["name"] == "w1",
          "watch: DELETED", (t, o))
    t, o = w.event(timeout=3, skip_bookmarks=False)
    check(t == "BOOKMARK" and list(o["metadata"]) == ["resourceVersion"]
          and int(o["metadata"]["resourceVersion"]) >=
          int(rv) + 3, "watch: BOOKMARK with only metadata.resourceVersion",
          (t, o))
    while t == "BOOKMARK":
        t, o = w.event(timeout=5, skip_bookmarks=False)
    check(t == "end", "watch: terminating chunk after timeoutSeconds", t)
    w.close()

    # resourceVersion 0: synthetic ADDED for the current objects
    env.ctl("POST", "/apply", [route("r1"), route("r2", ns="t2")])
    w = RawWatch(env, GWP + "/v1alpha2/namespaces/t2/tlsroutes?watch=true"
                 "&resourceVersion=0&timeoutSeconds=1")
    t, o = w.event()
    check(t == "ADDED" and o["metadata"]["name"] == "r2" and
          o["apiVersion"] == "gateway.networking.k8s.io/v1alpha2",
          "watch rv=0 (namespaced, v1alpha2): synthetic ADDED", (t, o))
    t, _ = w.event()
    check(t == "end", "watch rv=0: only that namespace, then the end", t)
    w.close()

    # curl -N sees the same framing
    p = subprocess.Popen(
        ["curl", "-sS", "-N", "--raw", "--http1.1", "--cacert", env.ca,
         "-H", env.bearer(), env.url(
             GWP + "/v1/namespaces/t1/tlsroutes?watch=1&timeoutSeconds=1")],
        stdout=subprocess.PIPE)
    out, _ = p.communicate(timeout=10)
    lines = out.split(b"\r\n")
    check(p.returncode == 0 and lines[0] == b"%x" % len(lines[1]) and
          json.loads(lines[1])["type"] == "ADDED" and lines[-3:] ==
          [b"0", b"", b""], "curl -N --raw: one event per chunk, then 0",
          out[-200:])


def test_410(env):
    code, page, _ = env.api("GET", GWP + "/v1/tlsroutes")
    old = page["metadata"]["resourceVersion"]
    env.ctl("POST", "/apply", route("x410"))
    env.ctl("POST", "/compact")
    path = GWP + "/v1/tlsroutes?watch=1&resourceVersion=" + old
    env.ctl("POST", "/config", {"watch_410_mode": "http"})
    code, body = env.curl("-H", env.bearer(), env.url(path))
    check(code == 410 and body.get("reason") == "Expired" and
          body.get("code") == 410, "old RV after /compact: HTTP 410 Expired",
          (code, body))
    env.ctl("POST", "/config", {"watch_410_mode": "event"})
    w = RawWatch(env, path)
    t, o = w.event()
    t2, _ = w.event()
    check(w.status == 200 and t == "ERROR" and o.get("code") == 410 and
          o.get("reason") == "Expired" and o.get("kind") == "Status" and
          t2 == "end", "old RV after /compact: 200 + ERROR 410 event, end",
          (w.status, t, o, t2))
    w.close()
    env.ctl("POST", "/config", {"watch_410_mode": "alternate"})
    codes = [env.api("GET", path)[0] for _ in range(2)]
    check(sorted(codes) == [200, 410], "alternate mode: both", codes)
    code, page, _ = env.api("GET", GWP + "/v1/tlsroutes")
    w = RawWatch(env, GWP + "/v1/tlsroutes?watch=1&timeoutSeconds=1&"
                 "resourceVersion=" + page["metadata"]["resourceVersion"])
    t, _ = w.event()
    check(t == "end", "watch from a fresh list's RV after compaction: fine",
          t)
    w.close()


def test_status(env):
    env.ctl("POST", "/apply", route("st"))
    p = GWP + "/v1/namespaces/t1/tlsroutes/st"
    code, obj, _ = env.api("GET", p)
    rv = obj["metadata"]["resourceVersion"]
    w = RawWatch(env, GWP + "/v1/namespaces/t1/tlsroutes?watch=1&"
                 "timeoutSeconds=5&resourceVersion=" + rv)
    obj["status"] = {"parents": [{"controllerName": "snilb.io/x",
                                  "parentRef": {"name": "gw"},
                                  "conditions": []}]}
    obj["spec"]["hostnames"] = ["changed.example"]  # ignored on /status
    code, new, _ = env.api("PUT", p + "/status", obj)
    check(code == 200 and new["status"] == obj["status"] and
          new["spec"]["hostnames"] == ["st.example"] and
          new["metadata"]["generation"] == 1 and
          new["metadata"]["resourceVersion"] != rv,
          "PUT status: status taken, spec kept, generation kept, new RV",
          (code, new))
    t, o = w.event()
    check(t == "MODIFIED" and o["status"] == obj["status"],
          "PUT status: MODIFIED event", (t, o))
    code, body, _ = env.api("PUT", p + "/status", obj)  # obj has the old RV
    check(code == 409 and body.get("reason") == "Conflict",
          "PUT status with a stale RV: 409 Conflict", (code, body))
    code, body, _ = env.api("PATCH", p + "/status", {
        "status": {"parents": [{"controllerName": "snilb.io/x",
                                "parentRef": {"name": "gw"},
                                "conditions": [{"type": "Accepted",
                                                "status": "True"}]}]},
        "spec": {"hostnames": ["no.example"]}})
    check(code == 200 and body["status"]["parents"][0]["conditions"][0]
          ["type"] == "Accepted" and body["spec"]["hostnames"] ==
          ["st.example"] and body["metadata"]["generation"] == 1 and
          int(body["metadata"]["resourceVersion"]) >
          int(new["metadata"]["resourceVersion"]),
          "merge PATCH status: status merged, spec untouched, new RV",
          (code, body))
    t, o = w.event()
    check(t == "MODIFIED" and o["status"]["parents"][0]["conditions"],
          "merge PATCH status: MODIFIED event", (t, o))
    code, same, _ = env.api("PATCH", p + "/status", {
        "status": body["status"]})
    check(code == 200 and same["metadata"]["resourceVersion"] ==
          body["metadata"]["resourceVersion"],
          "no-op status PATCH: no new RV (as etcd/kube-apiserver)", same)
    code, _, _ = env.api("PATCH", p + "/status", {"status": {}},
                         ctype="application/json")
    check(code == 415, "PATCH as application/json: 415", code)
    code, _, _ = env.api("PATCH", p + "/status", {
        "metadata": {"resourceVersion": "1"}, "status": {}})
    check(code == 409, "merge PATCH with a stale metadata.resourceVersion: "
          "409", code)
    writes = env.ctl("GET", "/status-writes")
    mine = [x for x in writes if x["name"] == "st"]
    check(len(mine) == 3 and mine[0]["method"] == "PUT" and
          mine[0]["identity"] == "token:" + env.token and
          mine[0]["user_agent"] == "selftest/1" and mine[2]["noop"],
          "/status-writes log: identity, user agent, noop flag", mine)
    # main resource: PUT needs the RV (CRD), changes spec -> generation 2,
    # status not written through it
    body.pop("status")
    body["spec"]["hostnames"] = ["st2.example"]
    code, new, _ = env.api("PUT", p, body)
    check(code == 200 and new["metadata"]["generation"] == 2 and
          new["status"]["parents"], "PUT main: generation+1, status kept",
          (code, new))
    del body["metadata"]["resourceVersion"]
    code, err, _ = env.api("PUT", p, body)
    check(code == 422 and err.get("reason") == "Invalid",
          "PUT of a CRD without resourceVersion: 422", (code, err))
    w.close()
    code, err, _ = env.api("PUT", p + "/status", new, ctype="text/plain")
    check(code == 415, "PUT as text/plain: 415", code)


def test_lease(env):
    base = "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases"
    lease = {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
             "metadata": {"name": "snilb"},
             "spec": {"holderIdentity": "a", "leaseDurationSeconds": 15}}
    code, _, _ = env.api("GET", base + "/snilb")
    check(code == 404, "GET missing lease: 404", code)
    code, got, _ = env.api("POST", base, lease)
    check(code == 201 and got["metadata"]["namespace"] == "kube-system",
          "POST lease: 201", (code, got))
    code, err, _ = env.api("POST", base, lease)
    check(code == 409 and err.get("reason") == "AlreadyExists",
          "POST again: 409 AlreadyExists", (code, err))
    got["spec"]["renewTime"] = "2024-01-01T00:00:00.000000Z"
    code, renewed, _ = env.api("PUT", base + "/snilb", got)
    check(code == 200 and renewed["metadata"]["resourceVersion"] !=
          got["metadata"]["resourceVersion"], "PUT lease with RV: renewed",
          (code, renewed))
    got["spec"]["holderIdentity"] = "b"
    code, err, _ = env.api("PUT", base + "/snilb", got)
    check(code == 409 and err.get("reason") == "Conflict",
          "PUT lease with a stale RV (takeover race): 409", (code, err))
    code, gone, _ = env.api("DELETE", base + "/snilb")
    code2, _, _ = env.api("GET", base + "/snilb")
    check(code == 200 and code2 == 404, "DELETE lease", (code, code2))


def test_faults(env):
    env.ctl("POST", "/config", {"inject": [{"verb": "list", "code": 429,
                                            "path_regex": "tlsroutes$",
                                            "count": 1, "retry_after": 1}],
                                "forbid": [{"verb": "patch",
                                            "resource": "tlsroutes/status"}]})
    code, body, r = env.api("GET", GWP + "/v1/tlsroutes")
    code2, _, _ = env.api("GET", GWP + "/v1/tlsroutes")
    check(code == 429 and r.getheader("Retry-After") == "1" and
          body.get("reason") == "TooManyRequests" and code2 == 200,
          "/config inject: one 429 with Retry-After", (code, code2, body))
    code, body, _ = env.api("PATCH", GWP + "/v1/namespaces/t1/tlsroutes/st/"
                            "status", {"status": {}})
    check(code == 403 and body.get("reason") == "Forbidden",
          "/config forbid: 403 Forbidden Status", (code, body))
    env.ctl("POST", "/config", {"inject": [], "forbid": []})
    test_inject_more(env)


def test_inject_more(env):
    """503 with Retry-After on a watch; 410 on a list's continue pages
    only, as an expired token; a watch cut at its timeout."""
    env.ctl("POST", "/apply", [route("pg1"), route("pg2")])
    env.ctl("POST", "/config", {"inject": [
        {"verb": "watch", "path_regex": "tlsroutes", "code": 503,
         "count": 1, "retry_after": 2},
        {"verb": "list", "path_regex": r"tlsroutes\?.*continue=",
         "code": 410, "count": 1}]})
    code, body, r = env.api("GET", GWP + "/v1/tlsroutes?watch=1")
    check(code == 503 and r.getheader("Retry-After") == "2" and
          body.get("reason") == "ServiceUnavailable",
          "/config inject: a watch answered 503 with Retry-After: 2",
          (code, body))
    code, page, _ = env.api("GET", GWP + "/v1/tlsroutes?limit=1")
    cont = page["metadata"].get("continue") if code == 200 else None
    code2, body, _ = env.api("GET", GWP + "/v1/tlsroutes?limit=1&continue=" +
                             urllib.parse.quote(cont or ""))
    code3, _, _ = env.api("GET", GWP + "/v1/tlsroutes?limit=1&continue=" +
                          urllib.parse.quote(cont or ""))
    check(code == 200 and cont and code2 == 410 and
          body.get("reason") == "Expired" and
          "continue parameter is too old" in body.get("message", "") and
          code3 == 200, "/config inject: the first page, then 410 Expired "
          "for its continue token (once)", (code, code2, body, code3))
    env.ctl("POST", "/config", {"inject": [], "watch_end": "close"})
    w = RawWatch(env, GWP + "/v1/tlsroutes?watch=1&timeoutSeconds=1&"
                 "resourceVersion=" + page["metadata"]["resourceVersion"])
    t, _ = w.event(timeout=10)
    w.close()
    env.ctl("POST", "/config", {"watch_end": "chunk"})
    check(w.status == 200 and t == "eof",
          "watch_end close: the watch's connection closed at its timeout, "
          "without the terminating chunk", (w.status, t))
    bad = env.ctl("POST", "/config", {"watch_end": "x"})
    check(bad.get("code") == 400, "watch_end x: 400", bad)
    # a big status body by client certificate: curl sends Expect: 100-continue
    big = {"status": {"parents": [{"controllerName": "snilb.io/x",
                                   "parentRef": {"name": "gw"},
                                   "conditions": [{"type": "Accepted",
                                                   "status": "True",
                                                   "message": "x" * 4000}]}]}}
    code, body = env.curl("--cert", os.path.join(env.certs, "client.crt"),
                          "--key", os.path.join(env.certs, "client.key"),
                          "-X", "PATCH", "-H", "Content-Type: "
                          "application/merge-patch+json", "--data-binary",
                          json.dumps(big), env.url(
                              GWP + "/v1/namespaces/t1/tlsroutes/st/status"))
    last = env.ctl("GET", "/status-writes")[-1]
    check(code == 200 and last["identity"] == "cert:snilb-agent" and
          last["user_agent"].startswith("curl/"),
          "status PATCH by client cert (4 KB, Expect: 100-continue)",
          (code, last))


def test_keepalive(env):
    c = env.conn()
    env.api("GET", "/api", conn=c)
    s1 = c.sock
    env.api("GET", "/apis", conn=c)
    check(c.sock is s1 and s1 is not None, "HTTP/1.1 keep-alive", c.sock)
    c.close()


def test_token_rotation(env):
    old = env.token
    env.ctl("POST", "/token", "tok-new")
    code, _, _ = env.api("GET", "/api", token=old)
    code2, _, _ = env.api("GET", "/api", token="tok-new")
    check(code == 401 and code2 == 200, "token rotation: old 401, new 200",
          (code, code2))
    env.token = "tok-new"


def test_down_up(env):
    w = RawWatch(env, GWP + "/v1/tlsroutes?watch=1&timeoutSeconds=10")
    t, _ = w.event(timeout=2)
    while t == "ADDED":
        t, _ = w.event(timeout=0.5)
    c = env.conn()
    env.api("GET", "/api", conn=c)
    env.ctl("POST", "/down")
    t, _ = w.event(timeout=3)
    check(t == "eof", "/down: open watch dropped without a final chunk", t)
    try:
        env.api("GET", "/api", conn=c)
        ok = False
    except (OSError, http.client.HTTPException):
        ok = True
    check(ok, "/down: keep-alive connection dropped")
    try:
        socket.create_connection(("127.0.0.1", env.port), timeout=2).close()
        refused = False
    except OSError:
        refused = True
    check(refused, "/down: connections refused")
    env.ctl("POST", "/up")
    code, body, _ = env.api("GET", GWP + "/v1/namespaces/t1/tlsroutes/st")
    check(code == 200, "/up: same port, state kept", (code, body))
    w.close()


def test_crd(env):
    w = RawWatch(env, GWP + "/v1/tlsroutes?watch=1&timeoutSeconds=10")
    while w.event(timeout=0.5)[0] == "ADDED":
        pass
    env.ctl("POST", "/crd", {"group": "gateway.networking.k8s.io",
                             "versions": ["v1alpha2"]})
    t, _ = w.event(timeout=2)
    check(t == "end", "CRD version removed: its watch ends", t)
    w.close()
    code, _, _ = env.api("GET", GWP + "/v1/tlsroutes")
    code2, _, _ = env.api("GET", GWP + "/v1alpha2/tlsroutes")
    code3, _, _ = env.api("GET", GWP + "/v1")
    _, apis, _ = env.api("GET", "/apis")
    gw = [g for g in apis["groups"] if g["name"] == "gateway.networking.k8s.io"]
    check(code == 404 and code2 == 200 and code3 == 404 and
          [v["version"] for v in gw[0]["versions"]] == ["v1alpha2"],
          "/crd versions [v1alpha2]: v1 404, discovery shows v1alpha2 only",
          (code, code2, code3, gw))
    env.ctl("POST", "/crd", {"versions": ["v1", "v1beta1", "v1alpha3",
                                          "v1alpha2"],
                             "tlsroute_versions": ["v1alpha3"]})
    _, rl, _ = env.api("GET", GWP + "/v1")
    names = {r["name"] for r in rl["resources"]}
    codes = [env.api("GET", GWP + "/%s/tlsroutes" % v)[0]
             for v in ("v1", "v1alpha3", "v1alpha2")]
    check("tlsroutes" not in names and "gateways" in names and
          codes == [404, 200, 404], "tlsroute_versions [v1alpha3]",
          (names, codes))
    env.ctl("POST", "/crd", {"tlsroute_versions": []})
    codes = [env.api("GET", GWP + "/%s/tlsroutes" % v)[0]
             for v in ("v1", "v1beta1", "v1alpha3", "v1alpha2")]
    code, _, _ = env.api("GET", GWP + "/v1/gateways")
    check(codes == [404] * 4 and code == 200,
          "tlsroute_versions []: no TLSRoute anywhere, Gateways still",
          codes)
    env.ctl("POST", "/crd", {"versions": []})
    code, _, _ = env.api("GET", GWP)
    _, apis, _ = env.api("GET", "/apis")
    check(code == 404 and "gateway.networking.k8s.io" not in
          [g["name"] for g in apis["groups"]], "/crd versions []: group gone",
          (code, apis))
    env.ctl("POST", "/crd", {"versions": ["v1", "v1beta1", "v1alpha3",
                                          "v1alpha2"],
                             "tlsroute_versions": None})
    code, page, _ = env.api("GET", GWP + "/v1/tlsroutes")
    check(code == 200 and page["items"], "/crd restore: objects kept", code)


def test_requests(env):
    r = env.ctl("GET", "/requests")
    cnt = {(c["verb"], c["pattern"], c["code"]): c["count"]
           for c in r["counters"]}
    check(cnt.get(("list", "/api/v1/services", 410)) == 1 and
          cnt.get(("watch", GWP + "/v1/tlsroutes", 410)) and
          any(x["query"].get("limit") == "3" for x in r["log"]),
          "/requests counters and log", list(cnt)[:20])
    objs = env.ctl("GET", "/objects?kind=TLSRoute")
    check(any(o["metadata"]["name"] == "st" and o.get("status") for o in objs),
          "/objects?kind=TLSRoute", objs)


def main():
    t0 = time.time()
    env = Env()
    try:
        for t in (test_discovery, test_auth, test_list, test_watch, test_410,
                  test_status, test_lease, test_faults, test_keepalive, test_crd,
                  test_requests, test_token_rotation, test_down_up):
            try:
                t(env)
            except Exception as e:  # a crash is a failure, go on
                import traceback
                traceback.print_exc()
                check(False, t.__name__ + " raised", repr(e))
    finally:
        env.close()
    if VERBOSE:
        print("%.1f s" % (time.time() - t0))
    print("%d passed, %d failed" % (passed, failed))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
