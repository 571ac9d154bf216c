#!/usr/bin/env python3
"""A recording TCP backend for tests/chaos/traffic.sh.

Every connection: read what the client sends until 0.3 s of quiet (or
64 KiB, or EOF), save it as DIR/NAME-N.bin, log "NAME N LEN SHA256" to
DIR/NAME.log, then answer "sink=NAME\\n" and close. With --stream, answer
"sink=NAME\\n" and then a paced byte stream (PATTERN, below, repeated) at
RATE bytes/s until the client goes or --max-seconds pass: the backend of
a download that can be killed.
"""
import argparse
import hashlib
import os
import random
import socket
import sys
import threading
import time


# 1,000,003 seeded random bytes (a prime length: a lost or repeated chunk
# never lines up again), repeated.
PATTERN = random.Random(7).randbytes(1000003)


class Sink:
    def __init__(self, args):
        self.a = args
        self.n = 0
        self.lock = threading.Lock()
        self.logf = open(os.path.join(args.dir, args.name + ".log"), "a",
                         buffering=1)

    def handle(self, c):
        a = self.a
        with self.lock:
            self.n += 1
            n = self.n
        data = b""
        c.settimeout(0.3)
        try:
            while len(data) < 65536:
                b = c.recv(65536)
                if not b:
                    break
                data += b
        except socket.timeout:
            pass
        except OSError:
            pass
        path = os.path.join(a.dir, "%s-%d.bin" % (a.name, n))
        with open(path, "wb") as f:
            f.write(data)
        with self.lock:
            self.logf.write("%s %d %d %s\n" % (
                a.name, n, len(data), hashlib.sha256(data).hexdigest()))
        try:
            c.settimeout(5)
            c.sendall(("sink=%s\n" % a.name).encode())
            if a.stream:
                self.stream(c)
        except OSError:
            pass
        c.close()

    def stream(self, c):
        a = self.a
        chunk = 16384
        pat = PATTERN + PATTERN[:chunk]
        off = 0
        t0 = time.monotonic()
        while time.monotonic() - t0 < a.max_seconds:
            o = off % len(PATTERN)
            c.sendall(pat[o:o + chunk])
            off += chunk
            time.sleep(max(0.0, t0 + off / a.rate - time.monotonic()))

    def run(self):
        s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("::", self.a.port))
        s.listen(1024)
        print("listening", flush=True)
        while True:
            c, _ = s.accept()
            threading.Thread(target=self.handle, args=(c,),
                             daemon=True).start()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--name", required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--dir", required=True)
    ap.add_argument("--stream", action="store_true")
    ap.add_argument("--rate", type=int, default=2 << 20)
    ap.add_argument("--max-seconds", type=float, default=120)
    Sink(ap.parse_args()).run()


if __name__ == "__main__":
    sys.exit(main())
