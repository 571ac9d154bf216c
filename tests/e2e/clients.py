#!/usr/bin/env python3
"""Load for the end-to-end suite, from the client namespace.

clients.py seq N HOST ADDR     N connections one after another
clients.py conc N HOST ADDR    N connections at once
Each connection: TLS handshake with SNI HOST to ADDR:443, GET /, read to
EOF; it counts as good when a backend answered. Prints "ok=K failed=F
backends=b1:n,..." and exits 0 only when every connection was good.
Bounded: 10 s per connection, 120 s in all.
"""
import collections
import socket
import ssl
import sys
import threading
import time


def one(host, addr, ctx):
    t0 = time.monotonic()
    try:
        with socket.create_connection((addr, 443), timeout=10) as raw:
            with ctx.wrap_socket(raw, server_hostname=host) as s:
                s.sendall(b"GET / HTTP/1.0\r\nHost: " + host.encode() +
                          b"\r\n\r\n")
                data = b""
                while True:
                    chunk = s.recv(4096)
                    if not chunk:
                        break
                    data += chunk
        body = data.split(b"\r\n\r\n", 1)[1]
        if body.startswith(b"backend="):
            return body[8:].strip().decode()
    except (OSError, ssl.SSLError, IndexError) as e:
        # What failed and after how long: for a diagnosis (stderr).
        sys.stderr.write("clients: %s after %.3f s: %r\n" %
                         (host, time.monotonic() - t0, e))
    return None


def main():
    mode, n, host, addr = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    seen = collections.Counter()
    lock = threading.Lock()
    deadline = time.monotonic() + 120

    def run():
        b = one(host, addr, ctx) if time.monotonic() < deadline else None
        with lock:
            seen[b] += 1

    if mode == "seq":
        for _ in range(n):
            run()
    else:
        threads = [threading.Thread(target=run) for _ in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(130)
    failed = seen.pop(None, 0)
    print("ok=%d failed=%d backends=%s" % (
        sum(seen.values()), failed,
        ",".join("%s:%d" % kv for kv in sorted(seen.items()))))
    return 0 if failed == 0 and sum(seen.values()) == n else 1


if __name__ == "__main__":
    sys.exit(main())
