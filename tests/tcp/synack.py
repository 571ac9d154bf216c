#!/usr/bin/env python3
"""One handshake by hand, for tests/tcp/t-cookie-key.sh: a SYN to VIP:PORT
routed by firewall mark SYN_MARK (one gateway node), its SYN-ACK awaited,
then the first ACK routed by ACK_MARK (the same node or another, as ECMP
may). Raw IPv4 TCP; the kernel adds the IP header.

Prints "synack COOKIE TSVAL" and then "rst" (the ACK was refused: an RST
came back within WAIT s) or "quiet" (none did).
Usage: synack.py SRC VIP PORT SPORT SYN_MARK ACK_MARK [WAIT]"""
import select
import socket
import struct
import sys
import time

SO_MARK = 36


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def tcp(src, dst, sport, dport, seq, ack, flags, opts):
    off = (20 + len(opts)) // 4
    hdr = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, off << 4, flags,
                      64240, 0, 0) + opts
    pseudo = socket.inet_aton(src) + socket.inet_aton(dst) + \
        struct.pack("!BBH", 0, 6, len(hdr))
    c = csum(pseudo + hdr)
    return hdr[:16] + struct.pack("!H", c) + hdr[18:]


def send(s, mark, dst, seg):
    s.setsockopt(socket.SOL_SOCKET, SO_MARK, mark)
    s.sendto(seg, (dst, 0))


def wait_for(s, vip, port, sport, want, deadline):
    """The next segment from VIP:PORT to SPORT with a flag of @want."""
    while time.monotonic() < deadline:
        r, _, _ = select.select([s], [], [], deadline - time.monotonic())
        if not r:
            break
        pkt = s.recv(65535)
        ihl = (pkt[0] & 15) * 4
        if socket.inet_ntoa(pkt[12:16]) != vip:
            continue
        th = pkt[ihl:]
        sp, dp, seq, ack, off, flags = struct.unpack("!HHIIBB", th[:14])
        if sp != port or dp != sport or not flags & want:
            continue
        return seq, flags, th[20:(off >> 4) * 4]
    return None


def tsval(opts):
    i = 0
    while i < len(opts):
        k = opts[i]
        if k == 0:
            break
        if k == 1:
            i += 1
            continue
        if k == 8:
            return struct.unpack("!I", opts[i + 2:i + 6])[0]
        i += opts[i + 1]
    return 0


def main():
    src, vip, port, sport, synm, ackm = sys.argv[1:7]
    port, sport, synm, ackm = int(port), int(sport), int(synm), int(ackm)
    wait = float(sys.argv[7]) if len(sys.argv) > 7 else 2.0
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_TCP)
    s.bind((src, 0))
    isn = 1000
    syn_opts = struct.pack("!BBHBBBBII", 2, 4, 1460, 4, 2, 8, 10, 777, 0) + \
        struct.pack("!BBBB", 1, 3, 3, 7)
    send(s, synm, vip, tcp(src, vip, sport, port, isn, 0, 0x02, syn_opts))
    got = wait_for(s, vip, port, sport, 0x12, time.monotonic() + 10)
    if not got:
        print("no synack")
        return 1
    cookie, flags, opts = got
    tv = tsval(opts)
    print("synack %u %u" % (cookie, tv))
    ack_opts = struct.pack("!BBBBII", 1, 1, 8, 10, 778, tv)
    send(s, ackm, vip, tcp(src, vip, sport, port, isn + 1,
                           (cookie + 1) & 0xffffffff, 0x10, ack_opts))
    rst = wait_for(s, vip, port, sport, 0x04, time.monotonic() + wait)
    print("rst" if rst else "quiet")
    return 0


if __name__ == "__main__":
    sys.exit(main())
