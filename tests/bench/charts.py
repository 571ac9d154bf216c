#!/usr/bin/env python3
"""PNG charts (gnuplot) of a `make bench` result.
Usage: charts.py RESULT.json OUTDIR
  -> OUTDIR/{conns,bulk,latency,phases,scaling,memory}-DATE.png
"""
import json
import os
import subprocess
import sys
import tempfile

CONTENDERS = ["direct", "snilb", "haproxy", "nginx"]


def bars(out, title, ylabel, rows, series, log=False):
    """rows: [(label, [values per series])]; log: a log scale"""
    with tempfile.NamedTemporaryFile("w", suffix=".dat", delete=False) as f:
        for label, vals in rows:
            f.write('"%s" %s\n' % (label, " ".join(str(v) for v in vals)))
        dat = f.name
    plots = ", ".join(
        "'%s' using %d:xtic(1) title '%s'" % (dat, i + 2, s)
        for i, s in enumerate(series))
    script = """
set terminal pngcairo size 800,450 font ',10'
set output '%s'
set title "%s"
set ylabel '%s'
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
%s
set grid ytics
set key %s
plot %s
""" % (out, title, ylabel,
       "set logscale y\nset yrange [1:*]" if log else "set yrange [0:*]",
       "below" if log else "top right", plots)
    try:
        subprocess.run(["gnuplot"], input=script, text=True, check=True)
    finally:
        os.unlink(dat)


def main():
    res = json.load(open(sys.argv[1]))
    r, outdir, date = res["results"], sys.argv[2], res["date"]
    sub = "%s, %s, %s" % (date, res["kernel"], res["machine"])
    g = lambda k: r.get(k, 0) or 0
    bars(os.path.join(outdir, "conns-%s.png" % date),
         "New TLS connections/s (higher is better)\\n" + sub, "conn/s",
         [(c, [g(c + ".conns")]) for c in CONTENDERS], ["conns/s"])
    bars(os.path.join(outdir, "bulk-%s.png" % date),
         "Bulk throughput (higher is better)\\n" + sub, "MB/s",
         [(c, [g(c + ".bulk1"), g(c + ".bulk16")]) for c in CONTENDERS],
         ["1 flow", "16 flows"])
    bars(os.path.join(outdir, "latency-%s.png" % date),
         "Connect + TLS + first byte (lower is better)\\n" + sub, "us",
         [(c, [g(c + ".p50"), g(c + ".p99")]) for c in CONTENDERS],
         ["p50", "p99"])
    bars(os.path.join(outdir, "phases-%s.png" % date),
         "Latency by phase, p50, client side (lower is better)\\n" + sub,
         "us", [(c, [g(c + ".conn50"), g(c + ".tls50"), g(c + ".first50")])
                for c in CONTENDERS],
         ["TCP connect", "TLS handshake", "first byte"])
    rows = []
    for n, short in (("10", "10"), ("1000", "1k"), ("10000", "10k")):
        for kind, nb in (("tls", "1"), ("tls16", "16")):
            rows.append(("%s routes, %s be" % (short, nb),
                         [g("%s.scale.%s.%s" % (c, n, kind))
                          for c in ("snilb", "haproxy", "nginx")]))
    bars(os.path.join(outdir, "scaling-%s.png" % date),
         "TLS connections/s by route table size\\n" + sub, "conn/s", rows,
         ["snilb", "haproxy", "nginx"])
    mib = lambda k: round(g(k) / 1024.0, 1)
    bars(os.path.join(outdir, "memory-%s.png" % date),
         "snilb's maps against concurrent spliced connections "
         "(--max-flows 1048576; log scale)\\n" + sub, "MiB",
         [("%s conns" % n, [mib("mem.%s.maps" % n),
                            mib("mem.prealloc.%s.maps" % n)])
          for n in ("0", "10000", "100000", "1000000")],
         ["allocated on insert", "preallocated (before)"], log=True)


if __name__ == "__main__":
    main()
