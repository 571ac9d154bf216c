#!/usr/bin/env python3
"""Validate Kubernetes objects (multi-document YAML on stdin or in FILEs)
against the schemas of the kinds deploy/ holds: the fields of the
Kubernetes API reference (v1.28) and of Gateway API v1 that these objects
may use, with their types and the required ones. A field not in the schema
(a typo), a wrong type or a missing required field is an error naming the
document and the path. No cluster is needed (none is here).

Usage: schema.py [FILE...]   prints "N objects valid" or the errors, exit 1
"""
import re
import sys
import yaml

S, I, B = str, int, bool
ANY = object()
MAP = {"*": S}			# map[string]string


def opt(t):
    return ("opt", t)


def req(t):
    return ("req", t)


META = {"name": req(S), "namespace": opt(S), "labels": opt(MAP),
        "annotations": opt(MAP)}
TOP = {"apiVersion": req(S), "kind": req(S), "metadata": req(META)}
RULE = {"apiGroups": opt([S]), "resources": opt([S]), "verbs": req([S]),
        "resourceNames": opt([S]), "nonResourceURLs": opt([S])}
SUBJECT = {"kind": req(S), "name": req(S), "namespace": opt(S),
           "apiGroup": opt(S)}
ROLEREF = {"apiGroup": req(S), "kind": req(S), "name": req(S)}
SELECTOR = {"matchLabels": opt(MAP), "matchExpressions": opt([ANY])}
INTSTR = (I, S)
PROBE_HTTP = {"path": opt(S), "port": req(INTSTR), "host": opt(S),
              "scheme": opt(S), "httpHeaders": opt([ANY])}
PROBE = {"httpGet": opt(PROBE_HTTP), "tcpSocket": opt(ANY),
         "exec": opt(ANY), "grpc": opt(ANY),
         "initialDelaySeconds": opt(I), "periodSeconds": opt(I),
         "timeoutSeconds": opt(I), "successThreshold": opt(I),
         "failureThreshold": opt(I),
         "terminationGracePeriodSeconds": opt(I)}
ENVSRC = {"fieldRef": opt({"fieldPath": req(S), "apiVersion": opt(S)}),
          "resourceFieldRef": opt(ANY), "configMapKeyRef": opt(ANY),
          "secretKeyRef": opt(ANY)}
ENV = {"name": req(S), "value": opt(S), "valueFrom": opt(ENVSRC)}
PORT = {"name": opt(S), "containerPort": req(I), "hostPort": opt(I),
        "protocol": opt(S), "hostIP": opt(S)}
QTY = {"*": (S, I)}
RESOURCES = {"requests": opt(QTY), "limits": opt(QTY)}
CAPS = {"add": opt([S]), "drop": opt([S])}
SECCOMP = {"type": req(S), "localhostProfile": opt(S)}
SECCTX = {"privileged": opt(B), "allowPrivilegeEscalation": opt(B),
          "readOnlyRootFilesystem": opt(B), "capabilities": opt(CAPS),
          "seccompProfile": opt(SECCOMP), "runAsUser": opt(I),
          "runAsGroup": opt(I), "runAsNonRoot": opt(B),
          "procMount": opt(S), "seLinuxOptions": opt(ANY),
          "appArmorProfile": opt(ANY)}
MOUNT = {"name": req(S), "mountPath": req(S), "readOnly": opt(B),
         "subPath": opt(S), "mountPropagation": opt(S)}
CONTAINER = {"name": req(S), "image": opt(S), "command": opt([S]),
             "args": opt([S]), "env": opt([ENV]), "ports": opt([PORT]),
             "livenessProbe": opt(PROBE), "readinessProbe": opt(PROBE),
             "startupProbe": opt(PROBE), "resources": opt(RESOURCES),
             "securityContext": opt(SECCTX), "volumeMounts": opt([MOUNT]),
             "imagePullPolicy": opt(S), "workingDir": opt(S)}
VOLUME = {"name": req(S),
          "hostPath": opt({"path": req(S), "type": opt(S)}),
          "emptyDir": opt(ANY), "configMap": opt(ANY), "secret": opt(ANY),
          "projected": opt(ANY)}
PODSPEC = {"containers": req([CONTAINER]), "initContainers": opt([CONTAINER]),
           "serviceAccountName": opt(S), "hostNetwork": opt(B),
           "dnsPolicy": opt(S), "nodeSelector": opt(MAP),
           "terminationGracePeriodSeconds": opt(I), "volumes": opt([VOLUME]),
           "tolerations": opt([ANY]), "affinity": opt(ANY),
           "priorityClassName": opt(S), "securityContext": opt(ANY)}
TEMPLATE = {"metadata": opt({"labels": opt(MAP), "annotations": opt(MAP)}),
            "spec": req(PODSPEC)}
UPDATE = {"type": opt(S),
          "rollingUpdate": opt({"maxUnavailable": opt(INTSTR),
                                "maxSurge": opt(INTSTR)})}
DSSPEC = {"selector": req(SELECTOR), "template": req(TEMPLATE),
          "updateStrategy": opt(UPDATE), "minReadySeconds": opt(I),
          "revisionHistoryLimit": opt(I)}
GWCSPEC = {"controllerName": req(S), "description": opt(S),
           "parametersRef": opt(ANY)}

KINDS = {
    ("v1", "Namespace"): {"spec": opt(ANY)},
    ("v1", "ServiceAccount"): {"automountServiceAccountToken": opt(B)},
    ("rbac.authorization.k8s.io/v1", "ClusterRole"): {"rules": opt([RULE])},
    ("rbac.authorization.k8s.io/v1", "Role"): {"rules": opt([RULE])},
    ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding"):
        {"roleRef": req(ROLEREF), "subjects": opt([SUBJECT])},
    ("rbac.authorization.k8s.io/v1", "RoleBinding"):
        {"roleRef": req(ROLEREF), "subjects": opt([SUBJECT])},
    ("apps/v1", "DaemonSet"): {"spec": req(DSSPEC)},
    ("gateway.networking.k8s.io/v1", "GatewayClass"): {"spec": req(GWCSPEC)},
}
NAMESPACED = {"ServiceAccount", "Role", "RoleBinding", "DaemonSet"}
# metadata.name: a DNS-1123 subdomain (RFC 1123, at most 253).
DNS1123 = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")


def check(v, t, path, errs):
    if t is ANY:
        return
    if isinstance(t, tuple) and t and t[0] not in ("opt", "req"):
        if not isinstance(v, t) or isinstance(v, bool):
            errs.append("%s: want %s, got %r" % (path, "/".join(x.__name__ for x in t), v))
        return
    if isinstance(t, list):
        if not isinstance(v, list):
            errs.append("%s: want a list, got %r" % (path, v))
            return
        for i, x in enumerate(v):
            check(x, t[0], "%s[%d]" % (path, i), errs)
        return
    if isinstance(t, dict):
        if not isinstance(v, dict):
            errs.append("%s: want an object, got %r" % (path, v))
            return
        if "*" in t:
            for k, x in v.items():
                check(x, t["*"], "%s.%s" % (path, k), errs)
            return
        for k, x in v.items():
            if k not in t:
                errs.append("%s.%s: no such field" % (path, k))
            else:
                check(x, t[k][1], "%s.%s" % (path, k), errs)
        for k, (how, _) in t.items():
            if how == "req" and k not in v:
                errs.append("%s.%s: required" % (path, k))
        return
    if t is B:
        ok = isinstance(v, bool)
    elif t is I:
        ok = isinstance(v, int) and not isinstance(v, bool)
    else:
        ok = isinstance(v, t)
    if not ok:
        errs.append("%s: want %s, got %r" % (path, t.__name__, v))


def semantic(d, where, errs):
    """What the schema's types alone do not say."""
    name = d["metadata"]["name"]
    if not DNS1123.match(name) or len(name) > 253:
        errs.append("%s: metadata.name %r is not a DNS-1123 subdomain" % (where, name))
    ns = d["metadata"].get("namespace")
    if (d["kind"] in NAMESPACED) != (ns is not None):
        errs.append("%s: metadata.namespace %r for a %s" % (where, ns, d["kind"]))
    if d["kind"] == "DaemonSet":
        spec = d["spec"]
        sel = spec["selector"].get("matchLabels", {})
        lab = spec["template"].get("metadata", {}).get("labels", {})
        if any(lab.get(k) != v for k, v in sel.items()):
            errs.append("%s: spec.selector does not match the template's labels" % where)
        for c in spec["template"]["spec"]["containers"]:
            if not c.get("image"):
                errs.append("%s: container %s has no image" % (where, c["name"]))


def main():
    files = sys.argv[1:] or ["-"]
    errs, n = [], 0
    for f in files:
        text = sys.stdin.read() if f == "-" else open(f).read()
        for i, d in enumerate(yaml.safe_load_all(text)):
            if d is None:
                continue
            where = "%s document %d" % (f, i + 1)
            e = []
            check(d, {**TOP, **{k: v for k, v in
                  KINDS.get((d.get("apiVersion"), d.get("kind")), {}).items()}},
                  where, e)
            if (d.get("apiVersion"), d.get("kind")) not in KINDS:
                e.append("%s: %s %s: a kind this check has no schema for"
                         % (where, d.get("apiVersion"), d.get("kind")))
            if not e:
                semantic(d, where, e)
            errs += e
            n += 1
    for e in errs:
        print(e)
    if errs:
        return 1
    print("%d objects valid" % n)
    return 0


if __name__ == "__main__":
    sys.exit(main())
