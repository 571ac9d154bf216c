#!/usr/bin/env python3
"""Connect + TLS handshake + first byte latency at a fixed rate.

Starts RATE connections per second for SECONDS (each in a thread of its
own, on schedule, so a slow one does not delay the next), each a full
handshake with SNI NAME to ADDR:PORT and a GET /; records the time to the
first byte of the answer, and its three parts: the TCP connect (SYN to
SYN-ACK), the TLS handshake, the first byte (request to answer). Prints
"p50_us p99_us fails connect_p50 connect_p99 tls_p50 tls_p99 first_p50
first_p99" (µs).
Usage: latency.py RATE SECONDS NAME ADDR PORT
"""
import socket
import ssl
import sys
import threading
import time


def main():
    rate, secs = float(sys.argv[1]), float(sys.argv[2])
    name, addr, port = sys.argv[3], sys.argv[4], int(sys.argv[5])
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    lat, parts, fails, lock = [], ([], [], []), [0], threading.Lock()

    def one():
        t0 = time.perf_counter()
        try:
            with socket.create_connection((addr, port), timeout=5) as raw:
                t1 = time.perf_counter()
                with ctx.wrap_socket(raw, server_hostname=name) as s:
                    t2 = time.perf_counter()
                    s.sendall(b"GET / HTTP/1.0\r\n\r\n")
                    if not s.recv(1):
                        raise OSError("no answer")
                    t3 = time.perf_counter()
            with lock:
                lat.append(t3 - t0)
                for part, dt in zip(parts, (t1 - t0, t2 - t1, t3 - t2)):
                    part.append(dt)
        except (OSError, ssl.SSLError):
            with lock:
                fails[0] += 1

    n = int(rate * secs)
    start = time.perf_counter()
    threads = []
    for i in range(n):
        delay = start + i / rate - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        t = threading.Thread(target=one)
        t.start()
        threads.append(t)
    for t in threads:
        t.join(10)
    if not lat:
        print("0 0 %d 0 0 0 0 0 0" % fails[0])
        return 1

    def p(v, q):
        v = sorted(v)
        return v[min(len(v) - 1, int(q * len(v)))] * 1e6

    out = [p(lat, 0.50), p(lat, 0.99), fails[0]]
    for part in parts:
        out += [p(part, 0.50), p(part, 0.99)]
    print("%.0f %.0f %d %.0f %.0f %.0f %.0f %.0f %.0f" % tuple(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
