#!/usr/bin/env python3
"""Setup time by phase from dpctl's access log lines (tests/e2e/dpctl.c):
"TYPE END REASON SETUP_US HELLO_US CONNECT_US REPLAY_US DURATION_US".
Prints "setup50=.. setup99=.. hello50=.. ... replay99=.. records=N" (µs,
over the connections that ended; a phase that did not happen is left out).
Usage: phases.py FILE
"""
import sys

rows = [l.split() for l in open(sys.argv[1]) if l.startswith("end ")]
out = []
for i, name in ((3, "setup"), (4, "hello"), (5, "connect"), (6, "replay")):
    v = sorted(int(r[i]) for r in rows if int(r[i]) >= 0)
    p = lambda q: v[min(len(v) - 1, int(q * len(v)))] if v else 0
    out += ["%s50=%d" % (name, p(0.50)), "%s99=%d" % (name, p(0.99))]
print(" ".join(out + ["records=%d" % len(rows)]))
