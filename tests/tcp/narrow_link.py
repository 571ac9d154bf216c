#!/usr/bin/env python3
"""A narrow, slow link in userspace, between two interfaces (this kernel
has no sch_netem): every Ethernet frame read on one is written to the
other DELAY ms later. A frame whose IP packet is over MTU does not cross:
it is dropped without a word, as a narrow link does, or, with --icmp
ROUTER, answered as a router would, with ICMP "fragmentation needed" (MTU)
from ROUTER to the frame's sender, out the way it came.

The interfaces' senders must not leave checksums to offload (ethtool -K
IF tx off): a frame re-sent from a packet socket is taken as complete.

Usage: narrow_link.py IF_A IF_B [--delay-ms N] [--mtu N] [--icmp ROUTER]
Prints "ready" once listening; on SIGTERM "forwarded N too_big N icmp N".
"""
import argparse
import collections
import select
import signal
import socket
import struct
import sys
import time

ETH_P_ALL = 3
PACKET_OUTGOING = 4


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def frag_needed(frame, router, mtu):
    """ICMP "fragmentation needed" about an IPv4 frame, or None."""
    if frame[12:14] != b"\x08\x00" or frame[14 + 9] == 1:
        return None
    ip = frame[14:]
    quote = ip[:(ip[0] & 0xf) * 4 + 8]
    icmp = struct.pack("!BBHHH", 3, 4, 0, 0, mtu) + quote
    icmp = icmp[:2] + struct.pack("!H", csum(icmp)) + icmp[4:]
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0xc0, 20 + len(icmp), 0, 0,
                      64, 1, 0, socket.inet_aton(router), ip[12:16])
    hdr = hdr[:10] + struct.pack("!H", csum(hdr)) + hdr[12:]
    return frame[6:12] + frame[0:6] + b"\x08\x00" + hdr + icmp


def open_if(name):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW,
                      socket.htons(ETH_P_ALL))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 << 20)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 16 << 20)
    s.bind((name, 0))
    s.setblocking(False)
    return s


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("a")
    ap.add_argument("b")
    ap.add_argument("--delay-ms", type=float, default=0)
    ap.add_argument("--mtu", type=int, default=65535)
    ap.add_argument("--icmp", metavar="ROUTER")
    o = ap.parse_args()
    a, b = open_if(o.a), open_if(o.b)
    peer = {a: b, b: a}
    delay = o.delay_ms / 1000
    queue = collections.deque()     # (due, socket, frame): FIFO
    n = {"forwarded": 0, "too_big": 0, "icmp": 0}
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    print("ready", flush=True)
    while not stop:
        wait = max(0.0, queue[0][0] - time.monotonic()) if queue else 0.2
        try:
            ready, _, _ = select.select([a, b], [], [], wait)
        except InterruptedError:
            continue
        for s in ready:
            for _ in range(256):
                try:
                    frame, addr = s.recvfrom(65536)
                except (BlockingIOError, InterruptedError):
                    break
                if addr[2] == PACKET_OUTGOING:
                    continue
                if len(frame) - 14 > o.mtu:
                    n["too_big"] += 1
                    reply = o.icmp and frag_needed(frame, o.icmp, o.mtu)
                    if reply:
                        s.send(reply)
                        n["icmp"] += 1
                    continue
                queue.append((time.monotonic() + delay, peer[s], frame))
        now = time.monotonic()
        while queue and queue[0][0] <= now:
            _, out, frame = queue.popleft()
            try:
                out.send(frame)
                n["forwarded"] += 1
            except OSError:
                pass                # full, or over the interface's MTU
    print(" ".join("%s %d" % kv for kv in n.items()), flush=True)


if __name__ == "__main__":
    sys.exit(main())
