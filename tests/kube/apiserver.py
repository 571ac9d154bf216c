#!/usr/bin/env python3
"""A test Kubernetes API server speaking the real wire protocol.

HTTPS, HTTP/1.1 with keep-alive, JSON, Status objects for errors, list
with limit/continue, watch as a chunked stream of JSON lines with
bookmarks and 410 Expired, status subresources (PUT and merge PATCH),
resourceVersion preconditions. Plus a plain-HTTP control API on
127.0.0.1 for tests. See tests/kube/README.md. Python 3 stdlib only.
"""

import argparse
import os
import re
import ssl

try:  # optional: YAML bodies for the control API's /apply
    import yaml  # noqa
except ImportError:  # pragma: no cover
    yaml = None

from kapi_store import State
from kapi_control import Control, ControlHandler, ControlServer


def parse_listen(s):
    m = re.match(r"^\[(.*)\]:(\d+)$", s) or re.match(r"^(.*):(\d+)$", s)
    if not m:
        raise argparse.ArgumentTypeError("ADDR:PORT expected")
    return m.group(1), int(m.group(2))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--listen", type=parse_listen, required=True,
                    metavar="ADDR:PORT", help="HTTPS address (IPv6: [::1]:P;"
                    " port 0: any, see --port-file)")
    ap.add_argument("--cert", required=True, help="server certificate (PEM)")
    ap.add_argument("--key", required=True, help="server key (PEM)")
    ap.add_argument("--client-ca", help="accept client certificates signed "
                    "by this CA (requested, optional)")
    ap.add_argument("--token-file", help="valid bearer tokens, one a line; "
                    "read on every request")
    ap.add_argument("--control-port", type=int, required=True,
                    help="plain-HTTP control API on 127.0.0.1 (0: any)")
    ap.add_argument("--port-file", help="write 'API_PORT CONTROL_PORT' here "
                    "once listening")
    ap.add_argument("--bookmark-interval", type=float, default=5)
    ap.add_argument("--max-watch-timeout", type=float, default=60)
    ap.add_argument("--page-size-cap", type=int, default=0,
                    help="cap on a list's limit (0: none)")
    ap.add_argument("--watch-410-mode", default="alternate",
                    choices=["http", "event", "alternate"])
    ap.add_argument("--load", action="append", default=[], metavar="FILE",
                    help="apply these JSON (or YAML) files at start")
    ap.add_argument("--status-delay", type=float, default=0, metavar="S",
                    help="every PUT/PATCH of a status subresource waits S "
                    "seconds before it is handled")
    ap.add_argument("--lease-delay", type=float, default=0, metavar="S",
                    help="every write of a Lease waits S seconds")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()
    args.host, args.port = args.listen

    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(args.cert, args.key)
    ctx.set_alpn_protocols(["http/1.1"])
    if args.client_ca:
        ctx.load_verify_locations(args.client_ca)
        ctx.verify_mode = ssl.CERT_OPTIONAL

    state = State(args)
    for path in args.load:
        with open(path, "rb") as f:
            raw = f.read()
        docs = ControlHandler.json_docs(None, raw)
        for d in docs:
            state.apply(d)

    ctl = Control(args, state, ctx)
    ctl.up()
    cs = ControlServer(("127.0.0.1", args.control_port), ControlHandler)
    cs.ctl = ctl
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d %d\n" % (ctl.addr[1], cs.server_address[1]))
        os.replace(tmp, args.port_file)
    print("apiserver: https://%s:%d control http://127.0.0.1:%d" % (
        ctl.addr[0], ctl.addr[1], cs.server_address[1]), flush=True)
    try:
        cs.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
