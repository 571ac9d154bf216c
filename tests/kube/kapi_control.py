"""The test API server's plain-HTTP control API on 127.0.0.1, for the
tests: apply, delete, injections, the server up and down. Part of
tests/kube/apiserver.py.
"""

import copy
import http.server
import json
import os
import socket
import ssl
import sys
import threading
import urllib.parse

try:  # optional: YAML bodies for the control API's /apply
    import yaml  # noqa
except ImportError:  # pragma: no cover
    yaml = None

from kapi_store import *  # noqa: F401,F403
from kapi_handler import *  # noqa: F401,F403


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
            if m == "POST" and p == "/lb-ingress":
                # MetalLB's part: the addresses of a LoadBalancer Service
                # (status.loadBalancer.ingress), [] to take them back.
                d = json.loads(raw or b"{}")
                res = BY_KIND["service"]
                key = (d.get("namespace", "default"), d.get("name"))
                with st.cond:
                    old = st.store[res.key].get(key)
                    if old is None:
                        raise ApiError(404, "NotFound", "no Service %s/%s"
                                       % key)
                    new = copy.deepcopy(old)
                    new["status"] = {"loadBalancer": {"ingress": [
                        {"ip": ip, "ipMode": "VIP"}
                        for ip in d.get("ips", [])]}}
                    st.replace(res, key, new, old)
                    rv = st.store[res.key][key]["metadata"]["resourceVersion"]
                return self.reply(200, {"resourceVersion": rv})
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
