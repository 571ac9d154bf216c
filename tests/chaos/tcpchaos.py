#!/usr/bin/env python3
"""Raw TCP clients for tests/chaos/traffic.sh, run in the client namespace.

  tcpchaos.py slow VIP HOST N WAIT
      N connections that send nothing and N that send a ClientHello for
      HOST one byte a second; each waits up to WAIT s for its end.
      Prints one line per kind: "silent reset=N other=N max_ms=M ..."
  tcpchaos.py hostile VIP OUTDIR SEED NMUT WAIT HELLO...
      fixed hostile hellos and NMUT seeded mutations of the real HELLO
      files (their SNI rewritten to one of ours), one connection each,
      100 at a time; every payload saved as OUTDIR/c-N.bin and every
      outcome written to OUTDIR/results.tsv ("N KIND OUTCOME MS").
  tcpchaos.py pressure VIP HOST N WAIT
      N connections at once, each sending the first 10 bytes of a hello
      (so each holds a hello buffer in the data plane) and then nothing;
      prints how each ended and when.
  tcpchaos.py stream VIP HOST SECONDS
      a download from a --stream sink: verifies the bytes, prints
      "bytes=N ok=1 end=fin|reset|timeout t_end=EPOCH".
  tcpchaos.py hello HOST OUT
      writes a ClientHello for HOST.

Outcomes: reset (RST, before or after our bytes), routed:NAME (a sink
answered "sink=NAME"), routed:tls (something else answered: a TLS
backend's alert), fin (closed without data), hang (nothing within WAIT).
"""
import errno
import os
import random
import selectors
import socket
import struct
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

PORT = 443
SINK_NAMES = ["s1.example.com", "a.w.example.com", "s3.example.com",
              "z.w.example.com", "deep.x.w.example.com"]


# --- ClientHello building and rewriting -----------------------------------

def ext(t, body):
    return struct.pack("!HH", t, len(body)) + body


def sni_ext(name, extra_names=()):
    names = b"".join(b"\x00" + struct.pack("!H", len(n)) + n
                     for n in (name,) + tuple(extra_names))
    return ext(0, struct.pack("!H", len(names)) + names)


def hello_body(exts, rnd=b"\x11" * 32):
    body = b"\x03\x03" + rnd + b"\x20" + b"\x22" * 32
    body += struct.pack("!H", 4) + b"\x13\x01\x13\x02" + b"\x01\x00"
    e = b"".join(exts)
    return body + struct.pack("!H", len(e)) + e


def handshake(body, hlen=None):
    n = len(body) if hlen is None else hlen
    return b"\x01" + struct.pack("!I", n)[1:] + body


def record(hs, rlen=None, ver=b"\x03\x01"):
    n = len(hs) if rlen is None else rlen
    return b"\x16" + ver + struct.pack("!H", n) + hs


def std_exts():
    return [ext(0x000a, b"\x00\x04\x00\x1d\x00\x17"),
            ext(0x000d, b"\x00\x04\x04\x03\x08\x04"),
            ext(0x002b, b"\x02\x03\x04"),
            ext(0x0010, b"\x00\x09\x08http/1.1")]


def build_hello(name, exts_before=(), exts_after=()):
    if isinstance(name, str):
        name = name.encode()
    exts = list(exts_before) + [sni_ext(name)] + std_exts() + \
        list(exts_after)
    return record(handshake(hello_body(exts)))


def resni(data, name):
    """A real hello with its SNI replaced by NAME (one record), or None."""
    try:
        msg, off, ver = b"", 0, data[1:3]
        while off + 5 <= len(data) and data[off] == 0x16:
            n = struct.unpack("!H", data[off + 3:off + 5])[0]
            msg += data[off + 5:off + 5 + n]
            off += 5 + n
        if msg[0] != 1:
            return None
        hl = struct.unpack("!I", b"\x00" + msg[1:4])[0]
        b = msg[4:4 + hl]
        p = 34
        p += 1 + b[p]
        p += 2 + struct.unpack("!H", b[p:p + 2])[0]
        p += 1 + b[p]
        el = struct.unpack("!H", b[p:p + 2])[0]
        head, e = b[:p], b[p + 2:p + 2 + el]
        out, q, seen = [], 0, False
        while q + 4 <= len(e):
            t, ln = struct.unpack("!HH", e[q:q + 4])
            if t == 0:
                out.append(sni_ext(name.encode()))
                seen = True
            else:
                out.append(e[q:q + 4 + ln])
            q += 4 + ln
        if not seen:
            out.insert(0, sni_ext(name.encode()))
        ee = b"".join(out)
        body = head + struct.pack("!H", len(ee)) + ee
        return record(handshake(body), ver=ver)
    except (IndexError, struct.error):
        return None


def mutate(rng, h):
    h = bytearray(h)
    for _ in range(rng.randint(1, 4)):
        op = rng.randrange(7)
        if not h:
            break
        i = rng.randrange(len(h))
        if op == 0:			# bit flip
            h[i] ^= 1 << rng.randrange(8)
        elif op == 1:			# byte insert
            h[i:i] = bytes([rng.randrange(256)]) * rng.randint(1, 8)
        elif op == 2:			# byte delete
            del h[i:i + rng.randint(1, 8)]
        elif op == 3:			# a length field edited
            j = rng.choice([3, 6, 7, 8] + [rng.randrange(len(h))])
            if j + 1 < len(h):
                v = struct.unpack("!H", h[j:j + 2])[0]
                v = rng.choice([0, 1, v - 1, v + 1, v * 2, 0xffff,
                                rng.randrange(65536)]) & 0xffff
                h[j:j + 2] = struct.pack("!H", v)
        elif op == 4:			# truncation
            del h[rng.randrange(len(h)):]
        elif op == 5:			# a random byte
            h[i] = rng.randrange(256)
        else:				# a block duplicated
            n = rng.randint(1, 64)
            h[i:i] = h[i:i + n]
    return bytes(h)


def fixed_cases(real):
    """(kind, payload) of the hand-made hostile hellos."""
    s1 = build_hello("s1.example.com")
    c = []
    for n in (1, 3, 5, 6, 9, 43, 100, len(s1) - 1):
        c.append(("truncated", s1[:n]))
    c.append(("truncated", real[:len(real) // 2]))
    big = ext(0x0015, b"\x00" * 17000)	# padding: 17 KB, over the cap
    c.append(("oversized", build_hello("s1.example.com", (big,))))
    c.append(("oversized", build_hello("s1.example.com", (), (big,))))
    hs = handshake(hello_body([sni_ext(b"s1.example.com"), big]))
    c.append(("oversized", record(hs[:9000]) + record(hs[9000:])))
    c.append(("oversized", record(b"\x01\xff\xff\xff")))
    c.append(("oversized", b"\x16\x03\x01\xff\xff" + b"\x01" * 70000))
    body = hello_body([sni_ext(b"s1.example.com")] + std_exts())
    for d in (1, 50, 1000):
        c.append(("record-len-long", record(handshake(body),
                                            len(body) + 4 + d)))
        c.append(("hs-len-long", record(handshake(body, len(body) + d))))
    for d in (1, 20, len(body) - 10):
        c.append(("record-len-short", record(handshake(body),
                                             len(body) + 4 - d)))
        c.append(("hs-len-short", record(handshake(body, len(body) - d))))
    c.append(("record-len-zero", record(handshake(body), 0)))
    c.append(("ext-len-lie", s1[:-40] + b"\xff\xff" + s1[-38:]))
    c.append(("sslv2", bytes.fromhex(
        "802e0103010015000000100700c006004000800300800100800000"
        "04000005") + b"\x00" * 16))
    c.append(("sslv2", b"\x80\x80\x01\x00\x02" + b"\x00" * 120))
    many = [ext(0x1000 + i, b"") for i in range(3000)]
    c.append(("many-exts-before-sni", build_hello("s1.example.com", many)))
    c.append(("many-exts-after-sni", build_hello("s1.example.com", (), many)))
    c.append(("many-exts", build_hello("s1.example.com",
                                       [ext(0x1000 + i, b"\x00")
                                        for i in range(1500)])))
    for n in (b"s1.example.com\x00", b"s1 .example.com", b"s1.example.com.",
              b"x/y.w.example.com", b"x\x00.w.example.com",
              b"\xff.w.example.com", b"s1.example.com\x00.evil.org",
              b"x.w.example.com\r\n", b"", b".", b"..w.example.com",
              b"a" * 300 + b".w.example.com", b"*.w.example.com",
              b"s1..example.com", b"-s1.example.com",
              b"S1.EXAMPLE.COM", b"Z.W.Example.Com", b"q.dev.example.com",
              b"www.example.com", b"unknown.example.org"):
        c.append(("sni-odd", build_hello(n)))
    # Two names in one server_name extension, two extensions.
    c.append(("sni-two-names", record(handshake(hello_body(
        [sni_ext(b"s1.example.com", (b"s3.example.com",))] + std_exts())))))
    c.append(("sni-two-exts", record(handshake(hello_body(
        [sni_ext(b"s1.example.com"), sni_ext(b"s3.example.com")] +
        std_exts())))))
    c.append(("not-handshake", b"\x17\x03\x03\x00\x10" + b"\x00" * 16))
    c.append(("http", b"GET / HTTP/1.1\r\nHost: s1.example.com\r\n\r\n"))
    c.append(("hs-not-hello", record(b"\x02\x00\x00\x04\x03\x03\x00\x00")))
    # A hello for s1 with bytes after it: the route, then the bytes.
    c.append(("hello+data", s1 + b"\x17\x03\x03\x00\x05hello"))
    return c


# --- one connection --------------------------------------------------------

def family(vip):
    return socket.AF_INET6 if ":" in vip else socket.AF_INET


def run_one(vip, payload, wait, per_byte=0.0):
    """Connect, send PAYLOAD (a byte every PER_BYTE s if set), wait for
    the end. Returns (outcome, ms since connected)."""
    s = socket.socket(family(vip), socket.SOCK_STREAM)
    s.settimeout(5)
    try:
        s.connect((vip, PORT))
    except OSError as e:
        s.close()
        return "connect-" + errno.errorcode.get(e.errno, str(e.errno)), 0
    t0 = time.monotonic()
    end = t0 + wait
    got = b""
    try:
        if per_byte:
            # A segment per byte, not Nagle's coalescing behind the
            # unacknowledged first one.
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            s.settimeout(per_byte)
            for i in range(len(payload)):
                s.send(payload[i:i + 1])
                try:
                    b = s.recv(4096)
                    got += b
                    if not b:
                        return "fin", ms(t0)
                except socket.timeout:
                    pass
                if time.monotonic() > end:
                    return "hang", ms(t0)
        elif payload:
            s.sendall(payload)
        while True:
            left = end - time.monotonic()
            if left <= 0:
                return "hang", ms(t0)
            s.settimeout(left)
            b = s.recv(65536)
            if not b:
                break
            got += b
            if len(got) > 65536:
                break
    except socket.timeout:
        return "hang", ms(t0)
    except (ConnectionResetError, BrokenPipeError):
        return "reset", ms(t0)
    except OSError as e:
        return "error-" + errno.errorcode.get(e.errno, str(e.errno)), ms(t0)
    finally:
        s.close()
    if got.startswith(b"sink="):
        return "routed:" + got[5:].split(b"\n")[0].decode(), ms(t0)
    if got:
        return "routed:tls", ms(t0)
    return "fin", ms(t0)


def ms(t0):
    return int((time.monotonic() - t0) * 1000)


# --- commands -------------------------------------------------------------

def cmd_slow(vip, host, n, wait):
    h = build_hello(host)
    res = {"silent": [], "byte-a-second": []}
    lock = threading.Lock()

    def one(kind):
        r = run_one(vip, b"" if kind == "silent" else h, wait,
                    per_byte=1.0 if kind != "silent" else 0.0)
        with lock:
            res[kind].append(r)

    with ThreadPoolExecutor(2 * n) as ex:
        for _ in range(n):
            ex.submit(one, "silent")
            ex.submit(one, "byte-a-second")
    for kind, rs in res.items():
        reset = [m for o, m in rs if o == "reset"]
        other = {}
        for o, _ in rs:
            if o != "reset":
                other[o] = other.get(o, 0) + 1
        print("%s reset=%d other=%d min_ms=%d max_ms=%d%s" % (
            kind, len(reset), len(rs) - len(reset),
            min(reset) if reset else -1, max(reset) if reset else -1,
            "".join(" %s=%d" % kv for kv in sorted(other.items()))))


def cmd_hostile(vip, outdir, seed, nmut, wait, files):
    real = []
    for f in files:
        with open(f, "rb") as fh:
            d = fh.read()
        r = resni(d, "s1.example.com")
        if r:
            real.append(r)
    if not real:
        real.append(build_hello("s1.example.com"))
    cases = fixed_cases(real[0])
    rng = random.Random(seed)
    for i in range(nmut):
        base = resni(real[i % len(real)], rng.choice(SINK_NAMES)) or \
            real[i % len(real)]
        cases.append(("mutation", mutate(rng, base)))
    for i, (_, p) in enumerate(cases):
        with open(os.path.join(outdir, "c-%d.bin" % i), "wb") as f:
            f.write(p)

    def one(i):
        return (i,) + run_one(vip, cases[i][1], wait)

    with ThreadPoolExecutor(100) as ex:
        out = list(ex.map(one, range(len(cases))))
    with open(os.path.join(outdir, "results.tsv"), "w") as f:
        for i, o, m in out:
            f.write("%d\t%s\t%s\t%d\n" % (i, cases[i][0], o, m))
    print("%d connections" % len(out))


def cmd_pressure(vip, host, n, wait):
    head = build_hello(host)[:10]
    sel = selectors.DefaultSelector()
    state = {}
    t_start = time.monotonic()
    outcome = {}
    for i in range(n):
        s = socket.socket(family(vip), socket.SOCK_STREAM)
        s.setblocking(False)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                     struct.pack("ii", 1, 0))
        s.connect_ex((vip, PORT))
        state[s] = [i, None]
        sel.register(s, selectors.EVENT_WRITE)
    t_open = time.monotonic() - t_start
    deadline = time.monotonic() + wait
    sent = 0
    while len(outcome) < n and time.monotonic() < deadline:
        for key, ev in sel.select(0.2):
            s = key.fileobj
            i, t_sent = state[s]
            if ev & selectors.EVENT_WRITE and t_sent is None:
                # No getsockopt first: a reset socket fails the send.
                try:
                    s.send(head)
                except ConnectionResetError:
                    # Reset before we could send: the handshake timeout
                    # of a flow that never held a hello buffer (this
                    # client was slower than the timeout).
                    outcome[i] = ("reset_before_send", 0)
                    sel.unregister(s)
                    continue
                except OSError as e:
                    outcome[i] = ("send-" + errno.errorcode.get(e.errno, "?"),
                                  0)
                    sel.unregister(s)
                    continue
                state[s][1] = time.monotonic()
                sent += 1
                sel.modify(s, selectors.EVENT_READ)
                continue
            try:
                b = s.recv(4096)
                o = "fin" if not b else "data"
            except ConnectionResetError:
                o = "reset"
            except BlockingIOError:
                continue
            except OSError as e:
                o = "error-" + errno.errorcode.get(e.errno, "?")
            outcome[i] = (o, time.monotonic() - t_sent)
            sel.unregister(s)
    for s, (i, _) in state.items():
        if i not in outcome:
            outcome[i] = ("hang", wait)
        s.close()
    fast = sum(1 for o, t in outcome.values() if o == "reset" and t < 0.5)
    slow = [t for o, t in outcome.values() if o == "reset" and t >= 0.5]
    early = sum(1 for o, _ in outcome.values() if o == "reset_before_send")
    other = {}
    for o, _ in outcome.values():
        if o not in ("reset", "reset_before_send"):
            other[o] = other.get(o, 0) + 1
    print("opened=%d in %.2f s sent=%d reset_fast=%d reset_timeout=%d "
          "timeout_ms=%d..%d reset_before_send=%d other=%d%s" % (
              n, t_open, sent, fast, len(slow),
              int(min(slow) * 1000) if slow else -1,
              int(max(slow) * 1000) if slow else -1, early,
              n - fast - len(slow) - early,
              "".join(" %s=%d" % kv for kv in sorted(other.items()))))


def cmd_stream(vip, host, secs):
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from sink import PATTERN
    s = socket.socket(family(vip), socket.SOCK_STREAM)
    s.settimeout(5)
    s.connect((vip, PORT))
    s.sendall(build_hello(host))
    pat = PATTERN * 2
    got, okb, end, hdr = 0, True, "timeout", b""
    t_end = time.monotonic() + secs
    print("connected", flush=True)
    try:
        while time.monotonic() < t_end:
            s.settimeout(max(0.01, t_end - time.monotonic()))
            b = s.recv(1 << 20)
            if not b:
                end = "fin"
                break
            if not hdr.endswith(b"\n"):
                k = b.find(b"\n")
                if k < 0:
                    hdr += b
                    continue
                hdr += b[:k + 1]
                b = b[k + 1:]
            o = got % len(PATTERN)
            while b:
                n = min(len(b), len(PATTERN) - o)
                if b[:n] != pat[o:o + n]:
                    okb = False
                got += n
                b = b[n:]
                o = 0
    except socket.timeout:
        end = "timeout"
    except ConnectionResetError:
        end = "reset"
    print("bytes=%d ok=%d end=%s t_end=%.6f hdr=%s" % (
        got, int(okb), end, time.time(), hdr.strip().decode(errors="replace")),
        flush=True)


def main():
    a = sys.argv[1:]
    if a[0] == "slow":
        cmd_slow(a[1], a[2], int(a[3]), float(a[4]))
    elif a[0] == "hostile":
        cmd_hostile(a[1], a[2], int(a[3]), int(a[4]), float(a[5]), a[6:])
    elif a[0] == "pressure":
        cmd_pressure(a[1], a[2], int(a[3]), float(a[4]))
    elif a[0] == "stream":
        cmd_stream(a[1], a[2], float(a[3]))
    elif a[0] == "hello":
        with open(a[2], "wb") as f:
            f.write(build_hello(a[1]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
