#!/usr/bin/env python3
"""A test Kubernetes API server speaking the real wire protocol.

HTTPS, HTTP/1.1 with keep-alive, JSON, Status objects for errors, list
with limit/continue, watch as a chunked stream of JSON lines with
bookmarks and 410 Expired, status subresources (PUT and merge PATCH),
resourceVersion preconditions. Plus a plain-HTTP control API on
127.0.0.1 for tests. See tests/kube/README.md. Python 3 stdlib only.
"""

import argparse
import base64
import bisect
import copy
import datetime
import http.server
import json
import os
import re
import socket
import ssl
import sys
import threading
import time
import urllib.parse
import uuid

try:  # optional: YAML bodies for the control API's /apply
    import yaml  # noqa
except ImportError:  # pragma: no cover
    yaml = None

GW = "gateway.networking.k8s.io"
GW_VERSIONS = ["v1", "v1beta1", "v1alpha3", "v1alpha2"]  # preferred first
VERBS = ["create", "delete", "get", "list", "patch", "update", "watch"]
STATUS_VERBS = ["get", "patch", "update"]


class Res:
    def __init__(self, group, plural, singular, kind, namespaced, status,
                 short=()):
        self.group, self.plural, self.singular = group, plural, singular
        self.kind, self.namespaced, self.status = kind, namespaced, status
        self.short = list(short)
        self.builtin = group != GW  # CRDs: the Gateway API kinds

    @property
    def key(self):
        return (self.group, self.plural)

    def gr(self):  # "tlsroutes.gateway.networking.k8s.io" as in messages
        return self.plural + ("." + self.group if self.group else "")


RESOURCES = [
    Res("", "namespaces", "namespace", "Namespace", False, True, ["ns"]),
    Res("", "services", "service", "Service", True, True, ["svc"]),
    Res("", "pods", "pod", "Pod", True, True, ["po"]),
    Res("discovery.k8s.io", "endpointslices", "endpointslice",
        "EndpointSlice", True, False),
    Res(GW, "gatewayclasses", "gatewayclass", "GatewayClass", False, True,
        ["gc"]),
    Res(GW, "gateways", "gateway", "Gateway", True, True, ["gtw"]),
    Res(GW, "tlsroutes", "tlsroute", "TLSRoute", True, True),
    Res(GW, "referencegrants", "referencegrant", "ReferenceGrant", True,
        False, ["refgrant"]),
    Res("coordination.k8s.io", "leases", "lease", "Lease", True, False),
]
BY_KIND = {r.kind.lower(): r for r in RESOURCES}
GROUPS = ["", "discovery.k8s.io", GW, "coordination.k8s.io"]


CONTINUE_EXPIRED = ("The provided continue parameter is too old to display a "
                    "consistent list result. You can start a new list "
                    "without the continue parameter.")


def now_rfc3339():
    return datetime.datetime.now(datetime.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%SZ")


def status_obj(code, reason, message, details=None):
    s = {"kind": "Status", "apiVersion": "v1", "metadata": {},
         "status": "Failure", "message": message, "reason": reason,
         "code": code}
    if details:
        s["details"] = details
    return s


class ApiError(Exception):
    def __init__(self, code, reason, message, details=None, headers=None):
        super().__init__(message)
        self.status = status_obj(code, reason, message, details)
        self.code = code
        self.headers = headers or {}


def merge_patch(target, patch):
    """RFC 7386."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for k, v in patch.items():
        if v is None:
            result.pop(k, None)
        else:
            result[k] = merge_patch(result.get(k), v)
    return result


def spec_part(obj):
    return {k: v for k, v in obj.items()
            if k not in ("metadata", "status", "apiVersion", "kind")}


# --------------------------------------------------------------------------
# selectors (the subset kube-apiserver implements for every kind)

_SET_RE = re.compile(r"^\s*(!?)([A-Za-z0-9._/-]+)\s*(?:(in|notin)\s*\(([^)]*)\)"
                     r"|(==|=|!=)\s*([A-Za-z0-9._-]*))?\s*$")


def split_selector(s):
    parts, depth, cur = [], 0, ""
    for ch in s:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    if cur.strip():
        parts.append(cur)
    return parts


def parse_label_selector(s):
    reqs = []
    for term in split_selector(s or ""):
        m = _SET_RE.match(term)
        if not m:
            raise ApiError(400, "BadRequest",
                           "unable to parse requirement: %r" % term)
        neg, key, setop, setvals, op, val = m.groups()
        if neg and (setop or op):
            raise ApiError(400, "BadRequest",
                           "unable to parse requirement: %r" % term)
        if setop:
            vals = {v.strip() for v in setvals.split(",") if v.strip()}
            reqs.append((key, setop, vals))
        elif op:
            reqs.append((key, "!=" if op == "!=" else "=", val))
        else:
            reqs.append((key, "!" if neg else "exists", None))
    return reqs


def labels_match(reqs, obj):
    labels = (obj.get("metadata") or {}).get("labels") or {}
    for key, op, val in reqs:
        have = key in labels
        v = labels.get(key)
        if op == "exists" and not have:
            return False
        if op == "!" and have:
            return False
        if op == "=" and v != val:
            return False
        if op == "!=" and have and v == val:
            return False
        if op == "in" and (not have or v not in val):
            return False
        if op == "notin" and have and v in val:
            return False
    return True


def parse_field_selector(s):
    reqs = []
    for term in split_selector(s or ""):
        m = re.match(r"^\s*([A-Za-z0-9.]+)\s*(==|=|!=)\s*(.*?)\s*$", term)
        if not m:
            raise ApiError(400, "BadRequest",
                           "invalid selector: %r" % term)
        field, op, val = m.groups()
        if field not in ("metadata.name", "metadata.namespace"):
            raise ApiError(400, "BadRequest",
                           'field label not supported: %s' % field)
        reqs.append((field.split(".")[1], op != "!=", val))
    return reqs


def fields_match(reqs, obj):
    md = obj.get("metadata") or {}
    for f, eq, val in reqs:
        if (md.get(f, "") == val) != eq:
            return False
    return True


# --------------------------------------------------------------------------
# state


class Event:
    __slots__ = ("rv", "rkey", "type", "obj", "prev")

    def __init__(self, rv, rkey, type_, obj, prev):
        self.rv, self.rkey, self.type, self.obj, self.prev = \
            rv, rkey, type_, obj, prev


class State:
    def __init__(self, args):
        self.cond = threading.Condition()
        self.rv = 1
        self.compact_rv = 0  # watch/continue from an RV below: 410
        self.store = {r.key: {} for r in RESOURCES}
        self.history = []  # Events, rv increasing (kept; compaction is a horizon)
        self.history_rvs = []
        self.gw_versions = list(GW_VERSIONS)
        self.tlsroute_versions = None  # None: every installed version
        self.config = {
            "page_size_cap": args.page_size_cap,
            "bookmark_interval": args.bookmark_interval,
            "max_watch_timeout": args.max_watch_timeout,
            "watch_410_mode": args.watch_410_mode,
            "noop_writes": "skip",
            "forbid": [],   # [{"verb": "patch", "resource": "tlsroutes/status"}]
            "inject": [],   # [{"method", "path_regex", "code", "count", "retry_after"}]
            "watch_end": "chunk",  # at its timeout a watch ends: "chunk"
                                   # (the terminating one) or "close" (cut)
            "status_delay": args.status_delay,  # s before each status write
            "lease_delay": args.lease_delay,    # s before each Lease write
        }
        self.alt410 = 0
        self.status_writes = []
        self.counters = {}
        self.request_log = []
        self.epoch = 0  # bumped by /down: open watches end
        self.down = False

    # served versions ----------------------------------------------------
    def versions(self, res):
        if res.group != GW:
            return ["v1"]
        vs = list(self.gw_versions)
        if res.plural == "tlsroutes" and self.tlsroute_versions is not None:
            vs = [v for v in vs if v in self.tlsroute_versions]
        return vs

    def group_versions(self, group):
        """Versions of @group with at least one resource served."""
        out = []
        order = GW_VERSIONS if group == GW else ["v1"]
        for v in order:
            if any(r.group == group and v in self.versions(r)
                   for r in RESOURCES):
                out.append(v)
        return out

    def served(self, res, version):
        return version in self.versions(res)

    # writes (hold self.cond) ----------------------------------------------
    def _record(self, res, type_, obj, prev):
        ev = Event(self.rv, res.key, type_, copy.deepcopy(obj),
                   copy.deepcopy(prev) if prev is not None else None)
        self.history.append(ev)
        self.history_rvs.append(self.rv)
        self.cond.notify_all()

    def _next_rv(self):
        self.rv += 1
        return str(self.rv)

    def create(self, res, obj):
        md = obj.setdefault("metadata", {})
        key = (md.get("namespace", "") if res.namespaced else "", md["name"])
        if key in self.store[res.key]:
            raise ApiError(409, "AlreadyExists",
                           '%s "%s" already exists' % (res.gr(), md["name"]),
                           {"name": md["name"], "group": res.group,
                            "kind": res.plural})
        md["uid"] = str(uuid.uuid4())
        md["resourceVersion"] = self._next_rv()
        md.setdefault("creationTimestamp", now_rfc3339())
        md["generation"] = 1
        for f in ("deletionTimestamp", "selfLink"):
            md.pop(f, None)
        obj["kind"] = res.kind
        self.store[res.key][key] = obj
        self._record(res, "ADDED", obj, None)
        return obj

    def replace(self, res, key, new, old, keep_ct=False):
        """Store @new (already merged) in place of @old; None if no-op."""
        nmd, omd = new["metadata"], old["metadata"]
        for f in ("uid", "creationTimestamp", "name", "namespace"):
            if f == "creationTimestamp" and keep_ct and f in nmd:
                continue
            if f in omd:
                nmd[f] = omd[f]
            else:
                nmd.pop(f, None)
        nmd["generation"] = omd.get("generation", 1)
        if spec_part(new) != spec_part(old):
            nmd["generation"] += 1
        nmd["resourceVersion"] = omd["resourceVersion"]
        new["kind"] = res.kind
        new["apiVersion"] = old.get("apiVersion", new.get("apiVersion"))
        if new == old and self.config["noop_writes"] == "skip":
            return None
        nmd["resourceVersion"] = self._next_rv()
        self.store[res.key][key] = new
        self._record(res, "MODIFIED", new, old)
        return new

    def delete(self, res, key):
        old = self.store[res.key].pop(key)
        gone = copy.deepcopy(old)
        gone["metadata"]["resourceVersion"] = self._next_rv()
        self._record(res, "DELETED", gone, old)
        return gone

    def snapshot(self, res, at_rv):
        """The objects of @res as they were at @at_rv (history kept since)."""
        objs = dict(self.store[res.key])
        i = len(self.history)
        while i > 0 and self.history_rvs[i - 1] > at_rv:
            i -= 1
            ev = self.history[i]
            if ev.rkey != res.key:
                continue
            md = ev.obj["metadata"]
            k = (md.get("namespace", "") if res.namespaced else "",
                 md["name"])
            if ev.type == "ADDED":
                objs.pop(k, None)
            else:
                objs[k] = ev.prev
        return objs

    # /apply -------------------------------------------------------------
    def apply(self, obj):
        kind = str(obj.get("kind", ""))
        if kind.endswith("List") and isinstance(obj.get("items"), list):
            return [r for o in obj["items"] for r in self.apply(o)]
        res = BY_KIND.get(kind.lower())
        if not res:
            raise ApiError(400, "BadRequest", "unknown kind %r" % kind)
        obj = copy.deepcopy(obj)
        md = obj.setdefault("metadata", {})
        if not md.get("name"):
            raise ApiError(400, "BadRequest", "metadata.name missing")
        if res.namespaced:
            md.setdefault("namespace", "default")
        else:
            md.pop("namespace", None)
        key = (md.get("namespace", ""), md["name"])
        with self.cond:
            old = self.store[res.key].get(key)
            if old is None:
                self.create(res, obj)
                action = "created"
            else:
                if "status" not in obj and "status" in old:
                    obj["status"] = copy.deepcopy(old["status"])
                r = self.replace(res, key, obj, old, keep_ct=True)
                action = "configured" if r is not None else "unchanged"
            cur = self.store[res.key][key]
            return [{"kind": res.kind, "namespace": md.get("namespace", ""),
                     "name": md["name"], "action": action,
                     "resourceVersion": cur["metadata"]["resourceVersion"],
                     "generation": cur["metadata"]["generation"]}]


# --------------------------------------------------------------------------
# the API server's request handler


class ApiHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "snilb-test-apiserver"

    def version_string(self):
        return self.server_version
    timeout = 300  # idle keep-alive connections

    def setup(self):
        super().setup()
        with self.server.conns_lock:
            self.server.conns.add(self.connection)

    def finish(self):
        try:
            super().finish()
        finally:
            with self.server.conns_lock:
                self.server.conns.discard(self.connection)

    def log_message(self, fmt, *a):
        if self.server.verbose:
            sys.stderr.write("apiserver: %s %s\n" % (self.address_string(),
                                                    fmt % a))

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = lambda self: \
        self.dispatch()

    # helpers --------------------------------------------------------------
    def send_json(self, code, obj, headers=None):
        body = (json.dumps(obj) + "\n").encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-cache, private")
        self.send_header("Audit-Id", str(uuid.uuid4()))
        for k, v in (headers or {}).items():
            self.send_header(k, str(v))
        self.end_headers()
        self.wfile.write(body)
        self.code = code

    def send_text(self, code, text):
        body = text.encode()
        self.send_response(code)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        self.code = code

    def read_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            data = b""
            while True:
                line = self.rfile.readline(100)
                n = int(line.split(b";")[0].strip(), 16)
                if n == 0:
                    while self.rfile.readline(1000) not in (b"\r\n", b"\n",
                                                            b""):
                        pass
                    return data
                data += self.rfile.read(n)
                self.rfile.readline(10)
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def json_body(self, patch=False):
        raw = self.body
        ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip()
        ctype = ctype.lower()
        if patch:
            if ctype != "application/merge-patch+json":
                raise ApiError(415, "UnsupportedMediaType",
                               "the body of the request was in an unknown "
                               "format - accepted media types include: "
                               "application/merge-patch+json")
        elif ctype not in ("application/json", ""):
            raise ApiError(415, "UnsupportedMediaType",
                           "the body of the request was in an unknown format"
                           " - accepted media types include: application/json")
        try:
            return json.loads(raw.decode() if raw else "")
        except (ValueError, UnicodeDecodeError) as e:
            raise ApiError(400, "BadRequest", "invalid JSON body: %s" % e)

    def identity(self):
        if self.auth_token is not None:
            return "token:" + self.auth_token
        if self.cert_cn is not None:
            return "cert:" + self.cert_cn
        return None

    def authenticate(self):
        self.auth_token = self.cert_cn = None
        auth = self.headers.get("Authorization") or ""
        if auth.startswith("Bearer ") and self.server.token_file:
            tok = auth[7:].strip()
            try:
                with open(self.server.token_file) as f:
                    valid = [l.strip() for l in f if l.strip()]
            except OSError:
                valid = []
            if tok and tok in valid:
                self.auth_token = tok
                return True
        try:
            cert = self.connection.getpeercert()
        except (ValueError, AttributeError):
            cert = None
        if cert:
            for rdn in cert.get("subject", ()):
                for k, v in rdn:
                    if k == "commonName":
                        self.cert_cn = v
            if self.cert_cn is None:
                self.cert_cn = ""
            return True
        return False

    # dispatch -------------------------------------------------------------
    def dispatch(self):
        st = self.server.state
        self.code = 0
        self.verb, self.pattern = "unknown", None
        url = urllib.parse.urlsplit(self.path)
        self.q = {k: v[-1] for k, v in
                  urllib.parse.parse_qs(url.query,
                                        keep_blank_values=True).items()}
        t0 = time.time()
        try:
            self.body = self.read_body()
            if url.path in ("/healthz", "/livez", "/readyz"):
                self.verb, self.pattern = "health", url.path
                self.send_text(200, "ok")
                return
            if not self.authenticate():
                self.verb = "unauthenticated"
                raise ApiError(401, "Unauthorized", "Unauthorized")
            accept = self.headers.get("Accept") or "*/*"
            if not any(a in accept for a in ("json", "*/*", "application/*")):
                raise ApiError(406, "NotAcceptable",
                               "only the following media types are accepted:"
                               " application/json")
            self.route(url.path)
        except ApiError as e:
            try:
                self.send_json(e.code, e.status, e.headers)
            except OSError:
                pass
        except (OSError, ssl.SSLError):
            self.close_connection = True
        except Exception as e:  # a bug here: 500 as the real server would
            import traceback
            traceback.print_exc()
            try:
                self.send_json(500, status_obj(500, "InternalError", str(e)))
            except OSError:
                pass
        finally:
            self.count(url, t0)

    def count(self, url, t0):
        st = self.server.state
        pat = self.pattern or url.path
        key = (self.command, self.verb, pat, self.code)
        with st.cond:
            st.counters[key] = st.counters.get(key, 0) + 1
            st.request_log.append({
                "time": t0, "duration": round(time.time() - t0, 3),
                "method": self.command, "verb": self.verb, "path": url.path,
                "pattern": pat, "query": self.q, "code": self.code,
                "user_agent": self.headers.get("User-Agent", ""),
                "identity": self.identity()
                if hasattr(self, "auth_token") else None})
            if len(st.request_log) > 20000:
                del st.request_log[:10000]

    def check_inject(self, path):
        st = self.server.state
        with st.cond:
            for rule in st.config["inject"]:
                if rule.get("count", 1) <= 0:
                    continue
                if rule.get("method") and rule["method"] != self.command:
                    continue
                if rule.get("verb") and rule["verb"] != self.verb:
                    continue
                if not re.search(rule.get("path_regex", ""), path):
                    continue
                rule["count"] = rule.get("count", 1) - 1
                code = int(rule.get("code", 500))
                reasons = {429: "TooManyRequests", 500: "InternalError",
                           503: "ServiceUnavailable", 504: "Timeout",
                           403: "Forbidden", 410: "Expired"}
                hdr = {}
                if rule.get("retry_after") is not None:
                    hdr["Retry-After"] = rule["retry_after"]
                msg = "injected failure"
                if code == 410 and self.q.get("continue"):
                    msg = CONTINUE_EXPIRED
                raise ApiError(code, reasons.get(code, "InternalError"),
                               msg, headers=hdr)

    def check_forbid(self, res, sub, ns):
        st = self.server.state
        rname = res.plural + ("/" + sub if sub else "")
        for rule in st.config["forbid"]:
            if rule.get("verb") not in (None, "*", self.verb):
                continue
            if rule.get("resource") not in (None, "*", rname):
                continue
            raise ApiError(403, "Forbidden",
                           '%s is forbidden: User "%s" cannot %s resource "%s"'
                           ' in API group "%s"%s' % (
                               res.gr(), self.identity(), self.verb, rname,
                               res.group,
                               ' in the namespace "%s"' % ns if ns else
                               " at the cluster scope"),
                           {"group": res.group, "kind": res.plural})

    def route(self, path):
        st = self.server.state
        parts = [urllib.parse.unquote(p) for p in path.strip("/").split("/")
                 if p != ""]
        if not parts:
            self.verb, self.pattern = "discovery", "/"
            self.check_inject(path)
            return self.send_json(200, {"paths": ["/api", "/api/v1", "/apis",
                                                  "/healthz", "/version"]})
        if parts == ["version"]:
            self.verb, self.pattern = "discovery", "/version"
            return self.send_json(200, {
                "major": "1", "minor": "30", "gitVersion": "v1.30.0-snilbtest",
                "platform": "linux/amd64"})
        if parts[0] == "api":
            if len(parts) == 1:
                self.verb, self.pattern = "discovery", "/api"
                self.check_inject(path)
                return self.send_json(200, {
                    "kind": "APIVersions", "versions": ["v1"],
                    "serverAddressByClientCIDRs": [{
                        "clientCIDR": "0.0.0.0/0",
                        "serverAddress": "%s:%d" % self.server.server_address[:2]}]})
            group, version, rest = "", parts[1], parts[2:]
            prefix = "/api/" + version
        elif parts[0] == "apis":
            if len(parts) == 1:
                self.verb, self.pattern = "discovery", "/apis"
                self.check_inject(path)
                return self.send_json(200, {
                    "kind": "APIGroupList", "apiVersion": "v1",
                    "groups": [self.api_group(g) for g in GROUPS[1:]
                               if st.group_versions(g)]})
            group = parts[1]
            if group not in GROUPS[1:] or not st.group_versions(group):
                self.pattern = "/apis/" + group
                raise ApiError(404, "NotFound",
                               "the server could not find the requested "
                               "resource")
            if len(parts) == 2:
                self.verb, self.pattern = "discovery", "/apis/" + group
                self.check_inject(path)
                g = self.api_group(group)
                g.update({"kind": "APIGroup", "apiVersion": "v1"})
                return self.send_json(200, g)
            version, rest = parts[2], parts[3:]
            prefix = "/apis/%s/%s" % (group, version)
        else:
            raise ApiError(404, "NotFound", "the server could not find the "
                           "requested resource")
        if version not in st.group_versions(group):
            self.pattern = prefix
            raise ApiError(404, "NotFound", "the server could not find the "
                           "requested resource")
        if not rest:
            self.verb, self.pattern = "discovery", prefix
            self.check_inject(path)
            return self.send_json(200, self.resource_list(group, version))
        return self.resource(group, version, prefix, rest)

    def api_group(self, group):
        vs = self.server.state.group_versions(group)
        gv = [{"groupVersion": "%s/%s" % (group, v), "version": v}
              for v in vs]
        return {"name": group, "versions": gv, "preferredVersion": gv[0]}

    def resource_list(self, group, version):
        st = self.server.state
        out = []
        for r in RESOURCES:
            if r.group != group or not st.served(r, version):
                continue
            e = {"name": r.plural, "singularName": r.singular,
                 "namespaced": r.namespaced, "kind": r.kind,
                 "verbs": VERBS}
            if r.short:
                e["shortNames"] = r.short
            out.append(e)
            if r.status:
                out.append({"name": r.plural + "/status", "singularName": "",
                            "namespaced": r.namespaced, "kind": r.kind,
                            "verbs": STATUS_VERBS})
        return {"kind": "APIResourceList", "apiVersion": "v1",
                "groupVersion": "%s/%s" % (group, version) if group
                else version, "resources": out}

    # resources ------------------------------------------------------------
    def resource(self, group, version, prefix, rest):
        st = self.server.state
        ns = None
        if (rest[0] == "namespaces" and len(rest) >= 3
                and rest[2] not in ("status", "finalize")):
            ns, rest = rest[1], rest[2:]
        plural, name, sub = rest[0], None, None
        if len(rest) >= 2:
            name = rest[1]
        if len(rest) >= 3:
            sub = rest[2]
        res = next((r for r in RESOURCES if r.group == group
                    and r.plural == plural and st.served(r, version)), None)
        pat = prefix + ("/namespaces/{ns}" if ns is not None else "") + \
            "/" + plural + ("/{name}" if name else "") + \
            ("/" + sub if sub else "")
        self.pattern = pat
        notfound = ApiError(404, "NotFound", "the server could not find the "
                            "requested resource")
        if (res is None or len(rest) > 3 or (sub and sub != "status")
                or (sub and not res.status)
                or (ns is not None and not res.namespaced)):
            raise notfound
        apiver = "%s/%s" % (group, version) if group else version
        m = self.command
        watch = self.q.get("watch", "") in ("1", "true")
        if name is None:
            self.verb = {"GET": "watch" if watch else "list",
                         "POST": "create"}.get(m, m.lower())
        else:
            self.verb = {"GET": "get", "PUT": "update", "PATCH": "patch",
                         "DELETE": "delete"}.get(m, m.lower())
        self.check_inject(self.path)
        self.check_forbid(res, sub, ns)
        if name is None:
            if m == "GET" and watch:
                return self.watch(res, apiver, ns)
            if m == "GET":
                return self.list(res, apiver, ns)
            if m == "POST":
                if res.namespaced and ns is None:
                    raise ApiError(405, "MethodNotAllowed",
                                   "the server does not allow this method on"
                                   " the requested resource")
                return self.create(res, apiver, ns)
            raise ApiError(405, "MethodNotAllowed", "the server does not "
                           "allow this method on the requested resource")
        if res.namespaced and ns is None:
            raise notfound
        key = (ns or "", name)
        if m == "GET":
            with st.cond:
                obj = st.store[res.key].get(key)
                obj = copy.deepcopy(obj) if obj else None
            if obj is None:
                raise self.not_found(res, name)
            return self.send_json(200, self.out(obj, apiver))
        if m in ("PUT", "PATCH"):
            return self.update(res, apiver, key, sub, m == "PATCH")
        if m == "DELETE":
            with st.cond:
                if key not in st.store[res.key]:
                    raise self.not_found(res, name)
                gone = st.delete(res, key)
            return self.send_json(200, self.out(gone, apiver))
        raise ApiError(405, "MethodNotAllowed", "the server does not allow "
                       "this method on the requested resource")

    def not_found(self, res, name):
        return ApiError(404, "NotFound", '%s "%s" not found' % (res.gr(), name),
                        {"name": name, "group": res.group, "kind": res.plural})

    def out(self, obj, apiver, list_item=False, res=None):
        obj = copy.deepcopy(obj)
        if list_item and res is not None and res.builtin:
            # typed lists of built-in kinds carry no kind/apiVersion per item
            obj.pop("kind", None)
            obj.pop("apiVersion", None)
            return obj
        kind = obj.pop("kind", None)
        obj.pop("apiVersion", None)
        return dict([("kind", kind), ("apiVersion", apiver)] +
                    list(obj.items()))

    def create(self, res, apiver, ns):
        st = self.server.state
        self.slow_write(res, None)
        obj = self.json_body()
        if not isinstance(obj, dict):
            raise ApiError(400, "BadRequest", "body is not an object")
        if obj.get("kind") not in (None, res.kind):
            raise ApiError(400, "BadRequest", "kind %r does not match %s" %
                           (obj.get("kind"), res.kind))
        md = obj.setdefault("metadata", {})
        if not isinstance(md, dict):
            raise ApiError(400, "BadRequest", "metadata is not an object")
        if not md.get("name"):
            if md.get("generateName"):
                md["name"] = md["generateName"] + uuid.uuid4().hex[:5]
            else:
                raise ApiError(422, "Invalid", "%s %s is invalid: metadata."
                               "name: Required value: name or generateName is"
                               " required" % (res.kind, '""'))
        if res.namespaced:
            if md.get("namespace") not in (None, "", ns):
                raise ApiError(400, "BadRequest", "the namespace of the "
                               "provided object does not match the namespace "
                               "sent on the request")
            md["namespace"] = ns
        else:
            md.pop("namespace", None)
        md.pop("resourceVersion", None)
        if res.status and not res.builtin:
            obj.pop("status", None)  # CRD status subresource: ignored
        with st.cond:
            created = copy.deepcopy(st.create(res, obj))
        self.send_json(201, self.out(created, apiver))

    def slow_write(self, res, sub):
        """A slow API server (etcd under load, a webhook): status and
        Lease writes take this long before they are looked at."""
        st = self.server.state
        with st.cond:
            d = float(st.config["status_delay"] if sub == "status" else
                      st.config["lease_delay"] if res.kind == "Lease" else 0)
        if d > 0:
            time.sleep(d)

    def update(self, res, apiver, key, sub, patch):
        st = self.server.state
        self.slow_write(res, sub)
        body = self.json_body(patch=patch)
        if not isinstance(body, dict):
            raise ApiError(400, "BadRequest", "body is not an object")
        bmd = body.get("metadata") or {}
        if not isinstance(bmd, dict):
            raise ApiError(400, "BadRequest", "metadata is not an object")
        if not patch and bmd.get("name") not in (None, key[1]):
            raise ApiError(400, "BadRequest", "the name of the object (%s) "
                           "does not match the name on the URL (%s)" %
                           (bmd.get("name"), key[1]))
        want_rv = bmd.get("resourceVersion")
        if (not patch and not want_rv and not res.builtin):
            raise ApiError(422, "Invalid", '%s.%s "%s" is invalid: '
                           'metadata.resourceVersion: Invalid value: 0x0: '
                           'must be specified for an update' %
                           (res.plural, res.group, key[1]),
                           {"name": key[1], "group": res.group,
                            "kind": res.kind})
        with st.cond:
            old = st.store[res.key].get(key)
            if old is None:
                raise self.not_found(res, key[1])
            if want_rv and want_rv != old["metadata"]["resourceVersion"]:
                raise ApiError(409, "Conflict", 'Operation cannot be '
                               'fulfilled on %s "%s": the object has been '
                               'modified; please apply your changes to the '
                               'latest version and try again' %
                               (res.gr(), key[1]),
                               {"name": key[1], "group": res.group,
                                "kind": res.plural})
            if patch:
                merged = merge_patch(copy.deepcopy(old), body)
            else:
                merged = copy.deepcopy(body)
            if sub == "status":
                new = copy.deepcopy(old)
                if "status" in merged:
                    new["status"] = merged["status"]
                else:
                    new.pop("status", None)
            else:
                new = merged
                new.setdefault("metadata", {})
                if res.status:  # the main resource does not write status
                    if "status" in old:
                        new["status"] = copy.deepcopy(old["status"])
                    else:
                        new.pop("status", None)
            r = st.replace(res, key, new, old)
            cur = copy.deepcopy(st.store[res.key][key])
            if sub == "status":
                st.status_writes.append({
                    "seq": len(st.status_writes) + 1, "time": time.time(),
                    "method": self.command, "kind": res.kind,
                    "apiVersion": apiver, "namespace": key[0],
                    "name": key[1], "status": body.get("status"),
                    "noop": r is None,
                    "resourceVersion": cur["metadata"]["resourceVersion"],
                    "identity": self.identity(),
                    "user_agent": self.headers.get("User-Agent", "")})
        self.send_json(200, self.out(cur, apiver))

    # list -----------------------------------------------------------------
    def selectors(self):
        return (parse_label_selector(self.q.get("labelSelector")),
                parse_field_selector(self.q.get("fieldSelector")))

    def list(self, res, apiver, ns):
        st = self.server.state
        lsel, fsel = self.selectors()
        try:
            limit = int(self.q.get("limit") or 0)
        except ValueError:
            raise ApiError(400, "BadRequest", "invalid limit")
        cont = self.q.get("continue") or ""
        start = None
        with st.cond:
            cap = st.config["page_size_cap"] or 0
            if cap and limit:
                limit = min(limit, cap)
            if cont:
                try:
                    tok = json.loads(base64.urlsafe_b64decode(cont + "==="))
                    list_rv, start = int(tok["rv"]), tuple(tok["start"])
                except (ValueError, KeyError, TypeError):
                    raise ApiError(400, "BadRequest", "continue key is not "
                                   "valid")
                if list_rv < st.compact_rv:
                    raise ApiError(410, "Expired", CONTINUE_EXPIRED)
                objs = st.snapshot(res, list_rv)
            else:
                list_rv = st.rv
                objs = dict(st.store[res.key])
            items = [copy.deepcopy(o) for k, o in sorted(objs.items())
                     if (ns is None or k[0] == ns)
                     and (start is None or k > start)
                     and labels_match(lsel, o) and fields_match(fsel, o)]
        meta = {"resourceVersion": str(list_rv)}
        if limit and len(items) > limit:
            last = items[limit - 1]["metadata"]
            meta["continue"] = base64.urlsafe_b64encode(json.dumps({
                "rv": list_rv,
                "start": [last.get("namespace", "") if res.namespaced
                          else "", last["name"]]}).encode()).decode()
            meta["remainingItemCount"] = len(items) - limit
            items = items[:limit]
        self.send_json(200, {
            "kind": res.kind + "List", "apiVersion": apiver, "metadata": meta,
            "items": [self.out(o, apiver, True, res) for o in items]})

    # watch ----------------------------------------------------------------
    def chunk(self, data):
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def watch(self, res, apiver, ns):
        st = self.server.state
        lsel, fsel = self.selectors()
        rvs = self.q.get("resourceVersion") or "0"
        try:
            rv = int(rvs)
        except ValueError:
            raise ApiError(400, "BadRequest",
                           "invalid resourceVersion %r" % rvs)
        bookmarks = self.q.get("allowWatchBookmarks") in ("1", "true")
        try:
            tmo = float(self.q.get("timeoutSeconds") or 0)
        except ValueError:
            raise ApiError(400, "BadRequest", "invalid timeoutSeconds")
        with st.cond:
            maxt = float(st.config["max_watch_timeout"])
            tmo = min(tmo, maxt) if tmo > 0 else maxt
            epoch = st.epoch
            expired = rv != 0 and rv < st.compact_rv
            mode = st.config["watch_410_mode"]
            if expired and mode == "alternate":
                st.alt410 += 1
                mode = "http" if st.alt410 % 2 else "event"
            msg = "too old resource version: %d (%d)" % (rv, st.compact_rv)
            if expired and mode == "http":
                raise ApiError(410, "Expired", msg)
            initial = []
            if rv == 0:
                last = st.rv
                for k, o in sorted(st.store[res.key].items()):
                    initial.append(("ADDED", copy.deepcopy(o)))
            else:
                last = rv
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Cache-Control", "no-cache, private")
        self.send_header("Audit-Id", str(uuid.uuid4()))
        self.end_headers()
        self.code = 200

        def send(type_, obj):
            self.chunk(json.dumps({"type": type_, "object": obj}).encode()
                       + b"\n")

        if expired:
            send("ERROR", status_obj(410, "Expired", msg))
            self.chunk(b"")
            return

        def visible(o):
            if o is None:
                return False
            md = o["metadata"]
            return ((ns is None or md.get("namespace", "") == ns)
                    and labels_match(lsel, o) and fields_match(fsel, o))

        for type_, o in initial:
            if visible(o):
                send(type_, self.out(o, apiver))
        deadline = time.monotonic() + tmo
        next_bm = None
        while True:
            with st.cond:
                interval = float(st.config["bookmark_interval"])
                if next_bm is None:
                    next_bm = time.monotonic() + interval
                while True:
                    if st.epoch != epoch:
                        self.close_connection = True
                        return  # /down: the connection is gone
                    if not st.served(res, apiver.split("/")[-1]):
                        break  # the CRD version went away: end the stream
                    i = bisect.bisect_right(st.history_rvs, last)
                    evs = [e for e in st.history[i:] if e.rkey == res.key]
                    t = time.monotonic()
                    if evs or t >= deadline or (bookmarks and t >= next_bm):
                        break
                    wake = deadline if not bookmarks else min(deadline,
                                                              next_bm)
                    st.cond.wait(max(0.01, wake - t))
                cur = st.rv
                served = st.served(res, apiver.split("/")[-1])
            if not served:
                self.chunk(b"")
                return
            for e in evs:
                new_vis, old_vis = visible(e.obj), visible(e.prev)
                type_ = e.type
                if e.type == "MODIFIED" and new_vis and not old_vis:
                    type_ = "ADDED"
                elif e.type == "MODIFIED" and old_vis and not new_vis:
                    type_ = "DELETED"
                elif e.type == "DELETED" and not old_vis:
                    continue
                elif e.type != "DELETED" and not new_vis:
                    continue
                send(type_, self.out(e.obj, apiver))
            last = cur
            t = time.monotonic()
            if bookmarks and t >= next_bm:
                send("BOOKMARK", {"kind": res.kind, "apiVersion": apiver,
                                  "metadata": {"resourceVersion": str(cur)}})
                next_bm = t + interval
            if t >= deadline:
                with st.cond:
                    cut = st.config["watch_end"] == "close"
                if cut:  # as a proxy's idle limit or a restart would
                    self.close_connection = True
                    return
                self.chunk(b"")
                return


class ApiServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64

    def __init__(self, addr, ctx, state, token_file, verbose):
        self.address_family = socket.AF_INET6 if ":" in addr[0] \
            else socket.AF_INET
        self.ctx, self.state = ctx, state
        self.token_file, self.verbose = token_file, verbose
        self.conns, self.conns_lock = set(), threading.Lock()
        super().__init__(addr, ApiHandler)

    def finish_request(self, request, client_address):
        request.settimeout(10)
        try:
            conn = self.ctx.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError) as e:
            if self.verbose:
                sys.stderr.write("apiserver: TLS handshake: %s\n" % e)
            request.close()
            return
        conn.settimeout(None)
        try:
            self.RequestHandlerClass(conn, client_address, self)
        finally:
            try:
                conn.close()
            except OSError:
                pass

    def drop_all(self):
        with self.conns_lock:
            conns = list(self.conns)
        for c in conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


# --------------------------------------------------------------------------
# control API


class Control:
    def __init__(self, args, state, ctx):
        self.args, self.state, self.ctx = args, state, ctx
        self.lock = threading.Lock()
        self.addr = (args.host, args.port)
        self.api = None

    def up(self):
        with self.lock:
            if self.api is not None:
                return False
            self.api = ApiServer(self.addr, self.ctx, self.state,
                                 self.args.token_file, self.args.verbose)
            self.addr = self.api.server_address[:2]  # port 0: keep the one got
            with self.state.cond:
                self.state.down = False
            threading.Thread(target=self.api.serve_forever,
                             kwargs={"poll_interval": 0.1},
                             daemon=True).start()
            return True

    def down(self):
        with self.lock:
            api, self.api = self.api, None
            if api is None:
                return False
            api.shutdown()
            api.server_close()
            with self.state.cond:
                self.state.epoch += 1
                self.state.down = True
                self.state.cond.notify_all()
            api.drop_all()
            return True


class ControlHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *a):
        if self.server.ctl.args.verbose:
            sys.stderr.write("control: %s\n" % (fmt % a))

    def reply(self, code, obj):
        body = (json.dumps(obj, indent=1) + "\n").encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        self.handle_ctl()

    def do_POST(self):
        self.handle_ctl()

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def json_docs(self, raw):
        text = raw.decode()
        try:
            doc = json.loads(text) if text.strip() else None
        except ValueError:
            if yaml is None:
                raise ApiError(400, "BadRequest", "not JSON (and no PyYAML "
                               "for YAML)")
            try:
                docs = [d for d in yaml.safe_load_all(text) if d]
            except yaml.YAMLError as e:
                raise ApiError(400, "BadRequest", "bad YAML: %s" % e)
            return docs
        if doc is None:
            return []
        return doc if isinstance(doc, list) else [doc]

    def handle_ctl(self):
        ctl = self.server.ctl
        st = ctl.state
        url = urllib.parse.urlsplit(self.path)
        q = {k: v[-1] for k, v in urllib.parse.parse_qs(url.query).items()}
        p, m = url.path.rstrip("/") or "/", self.command
        try:
            raw = self.body()
            if p == "/healthz":
                return self.reply(200, {"ok": True, "up": ctl.api is not None,
                                        "port": ctl.addr[1]})
            if m == "POST" and p == "/apply":
                out = []
                for d in self.json_docs(raw):
                    if not isinstance(d, dict):
                        raise ApiError(400, "BadRequest", "not an object")
                    out += st.apply(d)
                return self.reply(200, out)
            if m == "POST" and p == "/delete":
                out = []
                for d in self.json_docs(raw):
                    res = BY_KIND.get(str(d.get("kind", "")).lower())
                    if not res:
                        raise ApiError(400, "BadRequest", "unknown kind")
                    ns = d.get("namespace") or (d.get("metadata") or {}).get(
                        "namespace") or ("default" if res.namespaced else "")
                    name = d.get("name") or (d.get("metadata") or {}).get(
                        "name")
                    key = (ns if res.namespaced else "", name)
                    with st.cond:
                        if key in st.store[res.key]:
                            st.delete(res, key)
                            out.append({"kind": res.kind, "namespace": key[0],
                                        "name": name, "action": "deleted"})
                        else:
                            out.append({"kind": res.kind, "namespace": key[0],
                                        "name": name, "action": "absent"})
                return self.reply(200, out)
            if m == "POST" and p == "/compact":
                with st.cond:
                    st.compact_rv = st.rv
                    return self.reply(200, {"compacted": st.compact_rv})
            if m == "POST" and p == "/crd":
                d = json.loads(raw or b"{}")
                with st.cond:
                    if "versions" in d:
                        bad = [v for v in d["versions"] if v not in GW_VERSIONS]
                        if bad or d.get("group", GW) != GW:
                            raise ApiError(400, "BadRequest", "unknown %r" % bad)
                        st.gw_versions = [v for v in GW_VERSIONS
                                          if v in d["versions"]]
                    if "tlsroute_versions" in d:
                        tv = d["tlsroute_versions"]
                        st.tlsroute_versions = None if tv is None else list(tv)
                    st.cond.notify_all()
                    return self.reply(200, {
                        "versions": st.gw_versions,
                        "tlsroute_versions": st.tlsroute_versions})
            if m == "POST" and p == "/down":
                return self.reply(200, {"down": ctl.down()})
            if m == "POST" and p == "/up":
                return self.reply(200, {"up": ctl.up(), "port": ctl.addr[1]})
            if m == "POST" and p == "/token":
                if not ctl.args.token_file:
                    raise ApiError(400, "BadRequest", "no --token-file")
                text = raw.decode().strip()
                if text.startswith("{"):
                    text = json.loads(text)["token"]
                tmp = ctl.args.token_file + ".tmp"
                with open(tmp, "w") as f:
                    f.write(text + "\n")
                os.replace(tmp, ctl.args.token_file)
                return self.reply(200, {"ok": True})
            if m == "GET" and p == "/status-writes":
                since = int(q.get("since", 0))
                with st.cond:
                    return self.reply(200, [w for w in st.status_writes
                                            if w["seq"] > since])
            if m == "GET" and p == "/objects":
                with st.cond:
                    out = []
                    for r in RESOURCES:
                        if q.get("kind") and q["kind"].lower() != r.kind.lower():
                            continue
                        for k, o in sorted(st.store[r.key].items()):
                            if q.get("namespace") and k[0] != q["namespace"]:
                                continue
                            out.append(copy.deepcopy(o))
                    return self.reply(200, out)
            if m == "GET" and p == "/requests":
                with st.cond:
                    counters = [{"method": k[0], "verb": k[1], "pattern": k[2],
                                 "code": k[3], "count": v}
                                for k, v in sorted(st.counters.items(),
                                                   key=lambda kv: str(kv[0]))]
                    log = list(st.request_log)
                return self.reply(200, {"counters": counters, "log": log})
            if m == "POST" and p == "/requests/reset":
                with st.cond:
                    st.counters.clear()
                    st.request_log.clear()
                return self.reply(200, {"ok": True})
            if p == "/config":
                if m == "POST":
                    d = json.loads(raw or b"{}")
                    with st.cond:
                        for k, v in d.items():
                            if k not in st.config:
                                raise ApiError(400, "BadRequest",
                                               "unknown setting %r" % k)
                            if k == "watch_410_mode" and v not in (
                                    "http", "event", "alternate"):
                                raise ApiError(400, "BadRequest", "bad mode")
                            if k == "watch_end" and v not in ("chunk",
                                                              "close"):
                                raise ApiError(400, "BadRequest",
                                               "watch_end: chunk or close")
                            st.config[k] = v
                        st.cond.notify_all()
                with st.cond:
                    return self.reply(200, dict(st.config, rv=st.rv,
                                                compact_rv=st.compact_rv))
            raise ApiError(404, "NotFound", "no such control endpoint")
        except ApiError as e:
            self.reply(e.code, e.status)
        except (ValueError, KeyError, TypeError, OSError) as e:
            self.reply(400, status_obj(400, "BadRequest", str(e)))


class ControlServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def parse_listen(s):
    m = re.match(r"^\[(.*)\]:(\d+)$", s) or re.match(r"^(.*):(\d+)$", s)
    if not m:
        raise argparse.ArgumentTypeError("ADDR:PORT expected")
    return m.group(1), int(m.group(2))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--listen", type=parse_listen, required=True,
                    metavar="ADDR:PORT", help="HTTPS address (IPv6: [::1]:P;"
                    " port 0: any, see --port-file)")
    ap.add_argument("--cert", required=True, help="server certificate (PEM)")
    ap.add_argument("--key", required=True, help="server key (PEM)")
    ap.add_argument("--client-ca", help="accept client certificates signed "
                    "by this CA (requested, optional)")
    ap.add_argument("--token-file", help="valid bearer tokens, one a line; "
                    "read on every request")
    ap.add_argument("--control-port", type=int, required=True,
                    help="plain-HTTP control API on 127.0.0.1 (0: any)")
    ap.add_argument("--port-file", help="write 'API_PORT CONTROL_PORT' here "
                    "once listening")
    ap.add_argument("--bookmark-interval", type=float, default=5)
    ap.add_argument("--max-watch-timeout", type=float, default=60)
    ap.add_argument("--page-size-cap", type=int, default=0,
                    help="cap on a list's limit (0: none)")
    ap.add_argument("--watch-410-mode", default="alternate",
                    choices=["http", "event", "alternate"])
    ap.add_argument("--load", action="append", default=[], metavar="FILE",
                    help="apply these JSON (or YAML) files at start")
    ap.add_argument("--status-delay", type=float, default=0, metavar="S",
                    help="every PUT/PATCH of a status subresource waits S "
                    "seconds before it is handled")
    ap.add_argument("--lease-delay", type=float, default=0, metavar="S",
                    help="every write of a Lease waits S seconds")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()
    args.host, args.port = args.listen

    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(args.cert, args.key)
    ctx.set_alpn_protocols(["http/1.1"])
    if args.client_ca:
        ctx.load_verify_locations(args.client_ca)
        ctx.verify_mode = ssl.CERT_OPTIONAL

    state = State(args)
    for path in args.load:
        with open(path, "rb") as f:
            raw = f.read()
        docs = ControlHandler.json_docs(None, raw)
        for d in docs:
            state.apply(d)

    ctl = Control(args, state, ctx)
    ctl.up()
    cs = ControlServer(("127.0.0.1", args.control_port), ControlHandler)
    cs.ctl = ctl
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d %d\n" % (ctl.addr[1], cs.server_address[1]))
        os.replace(tmp, args.port_file)
    print("apiserver: https://%s:%d control http://127.0.0.1:%d" % (
        ctl.addr[0], ctl.addr[1], cs.server_address[1]), flush=True)
    try:
        cs.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
