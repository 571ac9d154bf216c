#!/usr/bin/env python3
"""TCP connect time (SYN to SYN-ACK) to ADDR:PORT, N times one after the
other; prints "p50_us p99_us".
Usage: rtt.py ADDR PORT N
"""
import socket
import sys
import time

addr, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
v = []
for _ in range(n):
    t = time.perf_counter()
    socket.create_connection((addr, port), timeout=5).close()
    v.append(time.perf_counter() - t)
v.sort()
print("%.0f %.0f" % (v[n // 2] * 1e6, v[min(n - 1, n * 99 // 100)] * 1e6))
