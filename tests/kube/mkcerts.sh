#!/usr/bin/env bash
# mkcerts.sh DIR ADDR...: a test CA and certificates for tests/kube/apiserver.py.
# Writes into DIR: ca.crt/ca.key (the CA), server.crt/server.key (SANs: each
# ADDR, as an IP address when it parses as one, else as a DNS name; plus
# localhost and 127.0.0.1), client.crt/client.key (CN=snilb-agent,
# O=system:nodes; signed by the CA, for client-certificate authentication).
# EC P-256 keys, 10 days. Needs openssl.
set -euo pipefail
[ $# -ge 1 ] || { echo "usage: $0 DIR [ADDR...]" >&2; exit 2; }
dir=$1; shift
mkdir -p "$dir"
cd "$dir"

sans="DNS:localhost,IP:127.0.0.1"
for a in "$@"; do
	if [[ $a =~ ^[0-9.]+$ || $a == *:* ]]; then
		sans+=",IP:$a"
	else
		sans+=",DNS:$a"
	fi
done
cn=${CLIENT_CN:-snilb-agent}

key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }

key ca.key
openssl req -x509 -new -key ca.key -sha256 -days 10 -subj "/CN=snilb-test-ca" \
	-addext "basicConstraints=critical,CA:TRUE" \
	-addext "keyUsage=critical,keyCertSign,cRLSign" -out ca.crt

key server.key
openssl req -new -key server.key -subj "/CN=kube-apiserver" -out server.csr
printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=%s\n' \
	"$sans" >server.ext
openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial \
	-days 10 -sha256 -extfile server.ext -out server.crt 2>/dev/null

key client.key
openssl req -new -key client.key -subj "/O=system:nodes/CN=$cn" -out client.csr
printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n' >client.ext
openssl x509 -req -in client.csr -CA ca.crt -CAkey ca.key -CAcreateserial \
	-days 10 -sha256 -extfile client.ext -out client.crt 2>/dev/null

rm -f server.csr server.ext client.csr client.ext ca.srl
chmod 600 ./*.key
