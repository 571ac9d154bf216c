#!/usr/bin/env python3
"""Connect + TLS handshake + first byte latency at a fixed rate.

Starts RATE connections per second to each target for SECONDS (each in a
thread of its own, on schedule, so a slow one does not delay the next),
each a full handshake with SNI NAME to ADDR:PORT and a GET /; records the
time to the first byte of the answer, and its three parts: the TCP
connect (SYN to SYN-ACK), the TLS handshake, the first byte (request to
answer). With several targets the connections take turns, one to each in
order, so that what else the machine does at any moment weighs on all of
them alike. Prints, for each target in order, "p50_us p99_us fails
connect_p50 connect_p99 tls_p50 tls_p99 first_p50 first_p99" (µs).
Usage: latency.py RATE SECONDS NAME ADDR PORT [NAME ADDR PORT ...]
"""
import socket
import ssl
import sys
import threading
import time


def pct(v, q):
    v = sorted(v)
    return v[min(len(v) - 1, int(q * len(v)))] * 1e6


class Target:
    def __init__(self, name, addr, port):
        self.name, self.addr, self.port = name, addr, int(port)
        self.lat, self.parts, self.fails = [], ([], [], []), 0

    def summary(self):
        if not self.lat:
            return "0 0 %d 0 0 0 0 0 0" % self.fails
        out = [pct(self.lat, 0.50), pct(self.lat, 0.99), self.fails]
        for part in self.parts:
            out += [pct(part, 0.50), pct(part, 0.99)]
        return "%.0f %.0f %d %.0f %.0f %.0f %.0f %.0f %.0f" % tuple(out)


def main():
    rate, secs = float(sys.argv[1]), float(sys.argv[2])
    args = sys.argv[3:]
    if not args or len(args) % 3:
        sys.exit("usage: latency.py RATE SECONDS NAME ADDR PORT ...")
    targets = [Target(*args[i:i + 3]) for i in range(0, len(args), 3)]
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    lock = threading.Lock()

    def one(tg):
        t0 = time.perf_counter()
        try:
            with socket.create_connection((tg.addr, tg.port),
                                          timeout=5) as raw:
                t1 = time.perf_counter()
                with ctx.wrap_socket(raw, server_hostname=tg.name) as s:
                    t2 = time.perf_counter()
                    s.sendall(b"GET / HTTP/1.0\r\n\r\n")
                    if not s.recv(1):
                        raise OSError("no answer")
                    t3 = time.perf_counter()
            with lock:
                tg.lat.append(t3 - t0)
                for part, dt in zip(tg.parts, (t1 - t0, t2 - t1, t3 - t2)):
                    part.append(dt)
        except (OSError, ssl.SSLError):
            with lock:
                tg.fails += 1

    every = rate * len(targets)
    n = int(every * secs)
    start = time.perf_counter()
    threads = []
    for i in range(n):
        delay = start + i / every - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        t = threading.Thread(target=one, args=(targets[i % len(targets)],))
        t.start()
        threads.append(t)
    for t in threads:
        t.join(10)
    for tg in targets:
        print(tg.summary())
    return 0 if all(tg.lat for tg in targets) else 1


if __name__ == "__main__":
    sys.exit(main())
