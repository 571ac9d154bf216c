#!/usr/bin/env python3
"""A TLS client that counts its TCP bytes, for the access log's checks.

alogclient.py MODE ADDR HOST [SIZE]
TLS over a plain socket through a MemoryBIO, so every byte it writes and
reads on the TCP connection is counted. Prints one JSON object: the local
port, bytes sent and received, and what happened.
  get:    GET /bytes/SIZE (ALPN h2, http/1.1 offered), read to the end,
          close: the byte counts the access log must show.
  reset:  GET /bytes/SIZE, read the first bytes, close with an RST.
  silent: connect and send nothing; wait (at most 20 s) for the reset.
Bounded: 20 s in all.
"""
import json
import socket
import ssl
import struct
import sys
import time


def tls_get(s, host, size, reset):
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.set_alpn_protocols(["h2", "http/1.1"])
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    t = ctx.wrap_bio(inc, out, server_hostname=host)
    sent = recv = 0
    req = b"GET /bytes/%d HTTP/1.0\r\nHost: %s\r\n\r\n" % (size,
                                                         host.encode())
    got = b""
    state = "hs"
    while True:
        try:
            if state == "hs":
                t.do_handshake()
                state = "req"
            if state == "req":
                t.write(req)
                state = "read"
            if state == "read":
                d = t.read(65536)
                if not d:
                    break
                got += d
                if reset and len(got) > 1000:
                    break
        except ssl.SSLWantReadError:
            pass
        except (ssl.SSLZeroReturnError, ssl.SSLEOFError):
            break
        pend = out.read()
        if pend:
            s.sendall(pend)
            sent += len(pend)
            continue
        d = s.recv(65536)
        if not d:
            inc.write_eof()
            if state == "read":
                break
            continue
        recv += len(d)
        inc.write(d)
    pend = out.read()
    if pend and not reset:
        s.sendall(pend)
        sent += len(pend)
    return sent, recv, got


def main():
    mode, addr, host = sys.argv[1:4]
    size = int(sys.argv[4]) if len(sys.argv) > 4 else 0
    fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.settimeout(20)
    s.connect((addr, 443))
    res = {"port": s.getsockname()[1]}
    try:
        if mode == "silent":
            t0 = time.time()
            try:
                res["read"] = len(s.recv(100))
            except ConnectionResetError:
                res["reset"] = True
            res["after_ms"] = int((time.time() - t0) * 1000)
        else:
            sent, recv, got = tls_get(s, host, size, mode == "reset")
            res.update(sent=sent, recv=recv, body=len(got))
            if mode == "reset":
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                             struct.pack("ii", 1, 0))
    except Exception as e:
        res["error"] = repr(e)
    s.close()
    print(json.dumps(res))


if __name__ == "__main__":
    main()
