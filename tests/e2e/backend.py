#!/usr/bin/env python3
"""A TLS backend for the end-to-end suite: HTTPS with its own certificate.

GET /           -> "backend=NAME\n"
GET /bytes/N    -> N pseudo-random bytes (seeded by N), with their SHA-256
                   in the X-SHA256 header so the client can check them.
POST /anything  -> "received=N sha256=HEX\n" of the body it read.
Every response closes the connection. Handshakes run in the handler
threads, not in the accept loop, so many clients can connect at once.
"""
import argparse
import hashlib
import http.server
import random
import socket
import socketserver
import ssl
import sys


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def log_message(self, fmt, *args):
        pass

    def do_GET(self):
        name = self.server.backend_name
        if self.path.startswith("/bytes/"):
            n = int(self.path[len("/bytes/"):])
            body = random.Random(n).randbytes(n)
            digest = hashlib.sha256(body).hexdigest()
            self.send_response(200)
            self.send_header("Content-Length", str(n))
            self.send_header("X-SHA256", digest)
            self.send_header("X-Backend", name)
            self.end_headers()
            view = memoryview(body)
            for i in range(0, n, 1 << 16):
                self.wfile.write(view[i:i + (1 << 16)])
            return
        body = ("backend=%s\n" % name).encode()
        self.reply(body)

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        digest, left = hashlib.sha256(), n
        while left:
            chunk = self.rfile.read(min(left, 1 << 16))
            if not chunk:
                break
            digest.update(chunk)
            left -= len(chunk)
        self.reply(("received=%d sha256=%s\n" %
                    (n - left, digest.hexdigest())).encode())

    def reply(self, body):
        name = self.server.backend_name
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Backend", name)
        self.end_headers()
        self.wfile.write(body)


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    request_queue_size = 512

    def __init__(self, addr, family, ctx, name):
        self.address_family = family
        self.ctx = ctx
        self.backend_name = name
        super().__init__(addr, Handler)

    def finish_request(self, request, client_address):
        # The TLS handshake happens here, in the connection's thread.
        try:
            tls = self.ctx.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            return
        super().finish_request(tls, client_address)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--name", required=True)
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--port", type=int, default=8443)
    args = ap.parse_args()
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(args.cert, args.key)
    srv = Server(("::", args.port), socket.AF_INET6, ctx, args.name)
    print("listening", flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
