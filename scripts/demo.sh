#!/usr/bin/env bash
# `make demo`: what snilb can do today. The in-kernel data plane (issue 3)
# is not built yet, so this shows the piece it will route with: the
# ClientHello parser, run on real clients' hellos in userspace and, through
# the BPF verifier, in the kernel.
# Usage: scripts/demo.sh BUILD_DIR
set -euo pipefail

build=${1:-build}
snilb=$build/snilb
corpus=${CORPUS:-$(cd "$(dirname "$0")/.." && pwd)/../shared/corpus}

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

say "Hellos captured just now from openssl, gnutls, curl and python on this machine"
"$snilb" sni "$build"/hellos/*.bin || true

say "The same bytes parsed inside the kernel (BPF_PROG_TEST_RUN)"
if [ "$(id -u)" -eq 0 ]; then
	"$snilb" sni --kernel "$build"/hellos/*.bin || true
else
	echo "(skipped: loading BPF needs root)"
fi

if [ -d "$corpus/hello" ]; then
	say "Public captures (../shared/corpus): ECH, post-quantum, SSLv2, no SNI"
	for f in zeek__tls13-ech__1 zeek__chrome-1250-tls-x25519-kyber__1 \
		 zeek__ssl-v2__1 nDPI__tls_with_huge_ch__1 \
		 zeek__tls-fragmented-handshake__1; do
		[ -f "$corpus/hello/$f.bin" ] && "$snilb" sni "$corpus/hello/$f.bin" || true
	done
fi

say "JSON output, one object per input"
"$snilb" sni -o json "$(ls "$build"/hellos/*.bin | head -1)"

say "A hello cut short: the data plane waits for 'need' bytes"
head -c 100 "$(ls "$build"/hellos/*.bin | head -1)" | "$snilb" sni - || true
