"""The test API server's HTTPS side: authentication, discovery, get,
list with pages, watch, create, update and patch. Part of
tests/kube/apiserver.py.
"""

import base64
import bisect
import copy
import http.server
import json
import re
import ssl
import sys
import time
import urllib.parse
import uuid

try:  # optional: YAML bodies for the control API's /apply
    import yaml  # noqa
except ImportError:  # pragma: no cover
    yaml = None

from kapi_store import *  # noqa: F401,F403


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
