#!/usr/bin/env python3
"""Byte-exact TLS load for the TCP-correctness suites (tests/tcp/).

tlsbytes.py N HOST ADDR SIZE [big]
N connections at once to ADDR:443 with SNI HOST against tests/e2e/backend.py:
even ones GET /bytes/SIZE (the body checked against its X-SHA256 header),
odd ones POST SIZE random bytes (the backend's sha256 of what it read
checked). "big": a ClientHello of about 4 KB (a long ALPN list, which the
backend ignores), so it spans several TCP segments.
Prints "ok=K failed=F" and exits 0 only when every connection was good.
Bounded: 10 s per connection, 60 s in all.
"""
import hashlib
import os
import socket
import ssl
import sys
import threading
import time


def request(s, host, i, size):
    if i % 2 == 0:
        s.sendall(b"GET /bytes/%d HTTP/1.0\r\nHost: %s\r\n\r\n" %
                  (size, host.encode()))
        return None
    body = os.urandom(size)
    s.sendall(b"POST /anything HTTP/1.0\r\nHost: %s\r\n"
              b"Content-Length: %d\r\n\r\n" % (host.encode(), size) + body)
    return b"received=%d sha256=%s\n" % (size,
                                         hashlib.sha256(body).hexdigest()
                                         .encode())


def good(data, want, size):
    head, _, body = data.partition(b"\r\n\r\n")
    if want is not None:
        return body == want
    sha = [ln.split(b":", 1)[1].strip() for ln in head.split(b"\r\n")
           if ln.lower().startswith(b"x-sha256:")]
    return (len(body) == size and len(sha) == 1 and
            hashlib.sha256(body).hexdigest().encode() == sha[0])


def one(host, addr, size, ctx, i):
    t0 = time.monotonic()
    try:
        with socket.create_connection((addr, 443), timeout=10) as raw:
            with ctx.wrap_socket(raw, server_hostname=host) as s:
                want = request(s, host, i, size)
                data = b""
                while time.monotonic() - t0 < 10:
                    chunk = s.recv(1 << 16)
                    if not chunk:
                        break
                    data += chunk
        if good(data, want, size):
            return True
        sys.stderr.write("tlsbytes: %d: wrong bytes (%d read)\n" %
                         (i, len(data)))
    except (OSError, ssl.SSLError) as e:
        sys.stderr.write("tlsbytes: %d: %r after %.3f s\n" %
                         (i, e, time.monotonic() - t0))
    return False


def main():
    n, host, addr, size = (int(sys.argv[1]), sys.argv[2], sys.argv[3],
                           int(sys.argv[4]))
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    if len(sys.argv) > 5 and sys.argv[5] == "big":
        ctx.set_alpn_protocols(["x-%02d-" % k + "a" * 200
                                for k in range(20)] + ["http/1.1"])
    results = []
    lock = threading.Lock()

    def run(i):
        r = one(host, addr, size, ctx, i)
        with lock:
            results.append(r)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    ok = sum(results)
    print("ok=%d failed=%d" % (ok, n - ok))
    return 0 if ok == n else 1


if __name__ == "__main__":
    sys.exit(main())
