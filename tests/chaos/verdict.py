#!/usr/bin/env python3
"""Judge tests/chaos/tcpchaos.py hostile's run with snilb's own parser.

Usage: verdict.py SNILB OUTDIR SINKFILE...
OUTDIR holds c-N.bin (what connection N sent) and results.tsv; SINKFILEs
are what the sinks received (NAME-N.bin). Every payload goes through
`snilb sni -o json` (the parser the data plane runs), its SNI through
ROUTES, the routing of the suite's manifests (examples/ + 50-chaos.yaml,
IPv4 listener), and:
  - a connection that got "sink=X" must have sent a hello whose SNI routes
    to X, one answered by a TLS backend one whose SNI routes to one;
  - every payload a sink received must have an SNI routed to that sink,
    and be byte for byte what some connection sent;
  - a connection whose hello parses and routes to a live sink must not be
    reset (the kernel and userspace parsers agree).
Prints "key=value" figures; the shell checks them.
"""
import collections
import hashlib
import json
import os
import subprocess
import sys

EXACT = {
    "www.example.com": "tls", "api.example.com": "tls",
    "checkout.example.com": "tls",
    "s1.example.com": "s1", "s3.example.com": "s3", "z.w.example.com": "z",
    "stream.example.com": "stream", "retry.example.com": "ra|rb",
}
# dev: an IPv6-only Service, reached over the IPv4 VIP through NAT46/64.
WILD = {".w.example.com": "w", ".dev.example.com": "tls"}
SINKS = {"s1", "w", "s3", "z"}


def route(sni):
    if sni is None:
        return "none"
    n = sni.lower()
    if n in EXACT:
        return EXACT[n]
    best = None
    for suf, r in WILD.items():
        if n.endswith(suf) and len(n) > len(suf) and \
                (best is None or len(suf) > len(best[0])):
            best = (suf, r)
    return best[1] if best else "none"


def parse(snilb, files):
    out = {}
    for i in range(0, len(files), 500):
        p = subprocess.run([snilb, "sni", "-o", "json"] + files[i:i + 500],
                           capture_output=True, text=True)
        for line in p.stdout.splitlines():
            d = json.loads(line)
            out[d["file"]] = d
    return out


def main():
    snilb, outdir, sinkfiles = sys.argv[1], sys.argv[2], sys.argv[3:]
    res = []
    with open(os.path.join(outdir, "results.tsv")) as f:
        for line in f:
            i, kind, outcome, ms = line.rstrip("\n").split("\t")
            res.append((int(i), kind, outcome, int(ms)))
    cfiles = [os.path.join(outdir, "c-%d.bin" % i) for i, _, _, _ in res]
    parsed = parse(snilb, cfiles + sinkfiles)
    sent = {}
    for f in cfiles:
        with open(f, "rb") as fh:
            sent[hashlib.sha256(fh.read()).hexdigest()] = f
    counts = collections.Counter()
    wrong, reset_routable, other, kinds = [], [], [], collections.Counter()
    max_ms = 0
    for (i, kind, outcome, ms), f in zip(res, cfiles):
        d = parsed.get(f, {})
        want = route(d.get("sni")) if d.get("status") == "found" else "none"
        cls = outcome.split(":")[0]
        counts[cls] += 1
        kinds[(kind, outcome if cls != "routed" else outcome)] += 1
        max_ms = max(max_ms, ms)
        if cls == "routed":
            got = outcome.split(":", 1)[1]
            if got not in want.split("|"):
                wrong.append("c-%d (%s) sni=%r want=%s got=%s" % (
                    i, kind, d.get("sni"), want, got))
        elif cls == "reset":
            if want in SINKS:
                reset_routable.append("c-%d (%s) sni=%r" % (
                    i, kind, d.get("sni")))
        else:
            other.append("c-%d (%s) %s after %d ms" % (i, kind, outcome, ms))
    at_sink_wrong, altered = [], []
    for f in sinkfiles:
        name = os.path.basename(f).rsplit("-", 1)[0]
        d = parsed.get(f, {})
        want = route(d.get("sni")) if d.get("status") == "found" else "none"
        if name not in want.split("|"):
            at_sink_wrong.append("%s: sni=%r (%s) routes to %s" % (
                os.path.basename(f), d.get("sni"), d.get("status"), want))
        with open(f, "rb") as fh:
            if hashlib.sha256(fh.read()).hexdigest() not in sent:
                altered.append(os.path.basename(f))
    print("connections=%d reset=%d routed=%d other=%d wrong_route=%d "
          "sink_payloads=%d sink_wrong=%d sink_altered=%d "
          "reset_but_routable=%d max_ms=%d" % (
              len(res), counts["reset"], counts["routed"], len(other),
              len(wrong), len(sinkfiles), len(at_sink_wrong), len(altered),
              len(reset_routable), max_ms))
    by = collections.defaultdict(collections.Counter)
    for (kind, outcome), n in kinds.items():
        by[kind][outcome] += n
    for kind in sorted(by):
        print("  %-22s %s" % (kind, " ".join(
            "%s=%d" % kv for kv in sorted(by[kind].items()))))
    for title, lst in (("wrong route", wrong), ("at a sink", at_sink_wrong),
                       ("altered", altered), ("other", other),
                       ("reset but routable", reset_routable)):
        for x in lst[:10]:
            print("  %s: %s" % (title, x))


if __name__ == "__main__":
    main()
