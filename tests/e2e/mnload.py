#!/usr/bin/env python3
"""Load for the multi-node suite (tests/e2e/multinode.sh), from the client.

mnload.py HOST ADDR DOWNLOADS SIZE RATE NEW_SECONDS NEW_GAP

DOWNLOADS connections at once each GET /bytes/SIZE from tests/e2e/backend.py
and read it at RATE bytes/s (so that they last while the next hops change),
checking the SHA-256 the backend sent; meanwhile a new connection every
NEW_GAP s for NEW_SECONDS s (GET /). Prints "ready" once every download has
its headers, then at the end
  downloads ok=K failed=F new ok=K failed=F
and exits 0 only when nothing failed. What failed goes to stderr, with its
client port (which node owned it). Bounded: 20 s per new connection,
180 s in all.
"""
import hashlib
import socket
import ssl
import sys
import threading
import time

CTX = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
CTX.check_hostname = False
CTX.verify_mode = ssl.CERT_NONE
DEADLINE = time.monotonic() + 180


def connect(host, addr, timeout):
    raw = socket.create_connection((addr, 443), timeout=timeout)
    return raw, CTX.wrap_socket(raw, server_hostname=host)


def headers(s):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(4096)
        if not chunk:
            raise OSError("EOF in the headers")
        data += chunk
    head, body = data.split(b"\r\n\r\n", 1)
    fields = {}
    for line in head.split(b"\r\n")[1:]:
        k, _, v = line.partition(b":")
        fields[k.strip().lower().decode()] = v.strip().decode()
    return fields, body


def download(host, addr, size, rate, ready, res, i):
    port = "?"
    try:
        raw, s = connect(host, addr, 10)
        port = s.getsockname()[1]
        with s:
            s.sendall(b"GET /bytes/%d HTTP/1.0\r\nHost: %s\r\n\r\n" %
                      (size, host.encode()))
            fields, body = headers(s)
            ready.release()
            digest, got, t0 = hashlib.sha256(body), len(body), time.monotonic()
            while got < size and time.monotonic() < DEADLINE:
                chunk = s.recv(16384)
                if not chunk:
                    break
                digest.update(chunk)
                got += len(chunk)
                ahead = got / rate - (time.monotonic() - t0)
                if ahead > 0:
                    time.sleep(ahead)
        if got != size or digest.hexdigest() != fields.get("x-sha256"):
            raise OSError("got %d of %d bytes, sha256 %s" %
                          (got, size, "ok" if got == size else "-"))
        res[i] = True
    except (OSError, ssl.SSLError) as e:
        ready.release()
        sys.stderr.write("mnload: download %d (port %s): %r\n" % (i, port, e))
        res[i] = False


def one(host, addr, res, i):
    port = "?"
    try:
        raw, s = connect(host, addr, 20)
        port = s.getsockname()[1]
        with s:
            s.sendall(b"GET / HTTP/1.0\r\nHost: %s\r\n\r\n" % host.encode())
            fields, body = headers(s)
            while True:
                chunk = s.recv(4096)
                if not chunk:
                    break
                body += chunk
        res[i] = body.startswith(b"backend=")
        if not res[i]:
            raise OSError("answer %r" % body[:40])
    except (OSError, ssl.SSLError) as e:
        sys.stderr.write("mnload: new %d (port %s): %r\n" % (i, port, e))
        res[i] = False


def main():
    host, addr = sys.argv[1], sys.argv[2]
    n, size, rate = int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
    new_s, gap = float(sys.argv[6]), float(sys.argv[7])
    ready = threading.Semaphore(0)
    dl = [None] * n
    threads = [threading.Thread(target=download,
                                args=(host, addr, size, rate, ready, dl, i))
               for i in range(n)]
    for t in threads:
        t.start()
    for _ in range(n):
        ready.acquire(timeout=60)
    print("ready", flush=True)
    new, t0 = [], time.monotonic()
    while time.monotonic() - t0 < new_s:
        new.append(None)
        t = threading.Thread(target=one, args=(host, addr, new, len(new) - 1))
        t.start()
        threads.append(t)
        time.sleep(gap)
    for t in threads:
        t.join(max(1, DEADLINE - time.monotonic()))
    dok = sum(1 for r in dl if r)
    nok = sum(1 for r in new if r)
    print("downloads ok=%d failed=%d new ok=%d failed=%d" %
          (dok, n - dok, nok, len(new) - nok), flush=True)
    return 0 if dok == n and nok == len(new) else 1


if __name__ == "__main__":
    sys.exit(main())
