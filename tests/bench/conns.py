#!/usr/bin/env python3
"""New TLS connections per second: P processes, each opening connections
one after another for S seconds (full handshake, GET /, read to EOF).
Usage: conns.py SECONDS PROCS HOST ADDR PORT -> prints "conns_per_s N fails F"
"""
import multiprocessing
import socket
import ssl
import sys
import time


def worker(args):
    secs, host, addr, port = args
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ok = fail = 0
    end = time.monotonic() + secs
    while time.monotonic() < end:
        try:
            with socket.create_connection((addr, port), timeout=5) as raw:
                with ctx.wrap_socket(raw, server_hostname=host) as s:
                    s.sendall(b"GET / HTTP/1.0\r\n\r\n")
                    while s.recv(4096):
                        pass
            ok += 1
        except (OSError, ssl.SSLError):
            fail += 1
    return ok, fail


def main():
    secs, procs = float(sys.argv[1]), int(sys.argv[2])
    host, addr, port = sys.argv[3], sys.argv[4], int(sys.argv[5])
    with multiprocessing.Pool(procs) as pool:
        res = pool.map(worker, [(secs, host, addr, port)] * procs)
    ok = sum(r[0] for r in res)
    print("conns_per_s %.0f fails %d" % (ok / secs, sum(r[1] for r in res)))


if __name__ == "__main__":
    main()
