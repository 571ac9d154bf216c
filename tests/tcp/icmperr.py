#!/usr/bin/env python3
"""Send one ICMP error about a TCP packet, as a router on the path would.

icmperr.py SRC SPORT DST DPORT
An error to SRC quoting a segment SRC:SPORT -> DST:DPORT: "fragmentation
needed" (MTU 1300) for IPv4, "packet too big" (MTU 1280) for IPv6. Sent
through a raw socket; the kernel picks the route and the outer source.
"""
import ipaddress
import socket
import struct
import sys


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    s = (s & 0xffff) + (s >> 16)
    s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def tcp_quote(sport, dport):
    # Ports, sequence number and the rest of a bare ACK's header.
    return struct.pack("!HHIIBBHHH", sport, dport, 1, 1, 5 << 4, 0x10,
                       65535, 0, 0)


def main():
    src, sport = ipaddress.ip_address(sys.argv[1]), int(sys.argv[2])
    dst, dport = ipaddress.ip_address(sys.argv[3]), int(sys.argv[4])
    tcp = tcp_quote(sport, dport)
    if src.version == 4:
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 0, 0x4000,
                         64, socket.IPPROTO_TCP, 0, src.packed, dst.packed)
        ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
        body = struct.pack("!BBHHH", 3, 4, 0, 0, 1300) + ip + tcp
        body = body[:2] + struct.pack("!H", csum(body)) + body[4:]
        s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
        s.sendto(body, (str(src), 0))
    else:
        ip = struct.pack("!IHBB16s16s", 6 << 28, len(tcp), socket.IPPROTO_TCP,
                         64, src.packed, dst.packed)
        # The kernel fills in an ICMPv6 checksum (it needs the source).
        body = struct.pack("!BBHI", 2, 0, 0, 1280) + ip + tcp
        s = socket.socket(socket.AF_INET6, socket.SOCK_RAW,
                          socket.IPPROTO_ICMPV6)
        s.sendto(body, (str(src), 0))
    return 0


if __name__ == "__main__":
    sys.exit(main())
