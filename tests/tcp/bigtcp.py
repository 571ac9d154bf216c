#!/usr/bin/env python3
"""bigtcp.py IFNAME SIZE: set a device's IPv4 BIG TCP sizes (gso_ipv4_max_size
and gro_ipv4_max_size, Linux 6.3+) over rtnetlink, which Debian 12's iproute2
cannot: IFLA_GSO_IPV4_MAX_SIZE (63) and IFLA_GRO_IPV4_MAX_SIZE (64). Exits 3
when the kernel refuses them (older than 6.3)."""
import os
import socket
import struct
import sys

RTM_NEWLINK = 16
NLM_F_REQUEST, NLM_F_ACK = 1, 4
IFLA_GSO_IPV4_MAX_SIZE, IFLA_GRO_IPV4_MAX_SIZE = 63, 64


def attr_u32(kind, value):
    return struct.pack("HHI", 8, kind, value)


def set_sizes(name, size):
    ifinfo = struct.pack("BxHiII", socket.AF_UNSPEC, 0,
                         socket.if_nametoindex(name), 0, 0)
    body = (ifinfo + attr_u32(IFLA_GSO_IPV4_MAX_SIZE, size) +
            attr_u32(IFLA_GRO_IPV4_MAX_SIZE, size))
    msg = struct.pack("IHHII", 16 + len(body), RTM_NEWLINK,
                      NLM_F_REQUEST | NLM_F_ACK, 1, 0) + body
    with socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 0) as s:
        s.send(msg)
        answer = s.recv(4096)
    return -struct.unpack("i", answer[16:20])[0]


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    err = set_sizes(sys.argv[1], int(sys.argv[2]))
    if err:
        print("bigtcp: %s: %s" % (sys.argv[1], os.strerror(err)),
              file=sys.stderr)
        sys.exit(3)


if __name__ == "__main__":
    main()
