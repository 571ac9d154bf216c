#!/usr/bin/env python3
"""Peers for the TCP-correctness suites (tests/tcp/t-*.sh).

  eof-server PORT N       a plain TCP backend: reads until the client's FIN,
                          then sends N pattern bytes and closes (the
                          backend of a half-closing client)
  half-close ADDR SNI     connects, sends a real ClientHello for SNI, shuts
                          down its sending side, reads to EOF; prints
                          "bytes=N sha256=H" of what came back
  pattern N               prints "bytes=N sha256=H" of the first N pattern
                          bytes (what half-close must have received)
  big-hello ADDR SNI      a TLS handshake with a ClientHello of ~2.3 KB
                          (long ALPN names: two segments at MSS 1460);
                          prints "ms=T" to the first byte of the server's
                          answer, or "failed"
  long-hello ADDR SNI SIZE
                          a real TLS client whose ClientHello is about SIZE
                          bytes (long ALPN names), then GET /bytes/100000;
                          prints "ms=T hello=LEN body=N" (T: to the end of
                          the handshake, which the backend completes only
                          with every hello byte exact: the transcript hash),
                          or "failed WHY"
  spoof-rst SRC SPORT DST DPORT COUNT
                          COUNT RSTs from SRC:SPORT to DST:DPORT with random
                          sequence numbers (raw socket, IPv4); prints "sent=N"
"""
import hashlib
import os
import random
import socket
import ssl
import struct
import sys
import time

# A prime length: a lost or repeated chunk never lines up again.
PATTERN = random.Random(13).randbytes(1000003)


def pattern_bytes(n):
    out, left = [], n
    while left:
        k = min(left, len(PATTERN))
        out.append(PATTERN[:k])
        left -= k
    return b"".join(out)


def client_hello(sni, alpn=None):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    if alpn:
        ctx.set_alpn_protocols(alpn)
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(inc, out, server_hostname=sni)
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return out.read()


def eof_server(port, n):
    data = pattern_bytes(n)
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("0.0.0.0", port))
    ls.listen(64)
    print("listening", flush=True)
    while True:
        c, _ = ls.accept()
        if os.fork() == 0:
            ls.close()
            while c.recv(65536):
                pass
            c.sendall(data)
            c.close()
            os._exit(0)
        c.close()
        try:
            while os.waitpid(-1, os.WNOHANG)[0]:
                pass
        except ChildProcessError:
            pass


def half_close(addr, sni):
    s = socket.create_connection((addr, 443), timeout=60)
    s.sendall(client_hello(sni))
    s.shutdown(socket.SHUT_WR)
    h, n = hashlib.sha256(), 0
    while True:
        try:
            b = s.recv(1 << 16)
        except (ConnectionResetError, socket.timeout) as e:
            print("error=%s bytes=%d" % (type(e).__name__, n))
            return
        if not b:
            break
        h.update(b)
        n += len(b)
    print("bytes=%d sha256=%s" % (n, h.hexdigest()))


def big_hello(addr, sni):
    alpn = ["x%02d" % i + "a" * 196 for i in range(10)] + ["http/1.1"]
    s = socket.create_connection((addr, 443), timeout=10)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    hello = client_hello(sni, alpn)
    t0 = time.monotonic()
    s.sendall(hello)
    try:
        b = s.recv(1)
    except OSError:
        b = b""
    print("ms=%d len=%d" % ((time.monotonic() - t0) * 1000, len(hello))
          if b else "failed")


def long_hello(addr, sni, size):
    n = max(1, (size - 300) // 201)
    alpn = ["y%03d" % i + "b" * 196 for i in range(n)] + ["http/1.1"]
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.set_alpn_protocols(alpn)
    hello = len(client_hello(sni, alpn))
    t0 = time.monotonic()
    try:
        s = socket.create_connection((addr, 443), timeout=20)
        tls = ctx.wrap_socket(s, server_hostname=sni)
        ms = (time.monotonic() - t0) * 1000
        tls.sendall(b"GET /bytes/100000 HTTP/1.0\r\nHost: %s\r\n\r\n"
                    % sni.encode())
        data = b""
        while True:
            b = tls.recv(65536)
            if not b:
                break
            data += b
    except (OSError, ssl.SSLError) as e:
        print("failed after %d ms: %s" % ((time.monotonic() - t0) * 1000, e))
        return
    body = data.split(b"\r\n\r\n", 1)[-1]
    print("ms=%d hello=%d body=%d" % (ms, hello, len(body)))


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def spoof_rst(src, sport, dst, dport, count):
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    sa, da = socket.inet_aton(src), socket.inet_aton(dst)
    rnd = random.Random(os.getpid())
    for _ in range(count):
        seq = rnd.getrandbits(32)
        tcp = struct.pack("!HHIIBBHHH", sport, dport, seq, 0, 5 << 4, 0x04,
                          0, 0, 0)
        c = csum(sa + da + struct.pack("!BBH", 0, 6, len(tcp)) + tcp)
        tcp = tcp[:16] + struct.pack("!H", c) + tcp[18:]
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 40, 0, 0x4000, 64, 6, 0,
                         sa, da)
        ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
        s.sendto(ip + tcp, (dst, 0))
    print("sent=%d" % count)


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "eof-server":
        eof_server(int(args[0]), int(args[1]))
    elif cmd == "half-close":
        half_close(args[0], args[1])
    elif cmd == "pattern":
        b = pattern_bytes(int(args[0]))
        print("bytes=%d sha256=%s" % (len(b), hashlib.sha256(b).hexdigest()))
    elif cmd == "big-hello":
        big_hello(args[0], args[1])
    elif cmd == "long-hello":
        long_hello(args[0], args[1], int(args[2]))
    elif cmd == "spoof-rst":
        spoof_rst(args[0], int(args[1]), args[2], int(args[3]),
                  int(args[4]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
