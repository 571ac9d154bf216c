#!/usr/bin/env python3
"""Connect + TLS handshake + first byte latency at a fixed rate.

Starts RATE connections per second for SECONDS (each in a thread of its
own, on schedule, so a slow one does not delay the next), each a full
handshake with SNI NAME to ADDR:PORT and a GET /; records the time to the
first byte of the answer. Prints "p50_us p99_us fails".
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
    lat, fails, lock = [], [0], threading.Lock()

    def one():
        t0 = time.perf_counter()
        try:
            with socket.create_connection((addr, port), timeout=5) as raw:
                with ctx.wrap_socket(raw, server_hostname=name) as s:
                    s.sendall(b"GET / HTTP/1.0\r\n\r\n")
                    if not s.recv(1):
                        raise OSError("no answer")
                    dt = time.perf_counter() - t0
            with lock:
                lat.append(dt)
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
    lat.sort()
    if not lat:
        print("0 0 %d" % fails[0])
        return 1
    p = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))] * 1e6
    print("%.0f %.0f %d" % (p(0.50), p(0.99), fails[0]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
