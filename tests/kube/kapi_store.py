"""The test API server's objects: the resources it serves, errors as
Status objects, selectors, and the store with its history of events
(for watches and 410). Part of tests/kube/apiserver.py.
"""

import copy
import datetime
import re
import threading
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
