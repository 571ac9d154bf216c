#!/usr/bin/env bash
# Install, from Debian 12's package registry, whatever snilb needs and this
# machine lacks. Idempotent: a second run installs nothing and touches no
# network. Every make target that needs a dependency calls this first.
set -euo pipefail

# Build: compiler for the BPF target and userspace, libbpf, skeleton
# generator, jansson (JSON output). Tests: cmocka, clang's sanitizer and
# libFuzzer runtime, and real TLS clients (openssl, gnutls-bin, curl,
# python3) whose ClientHellos the tests capture; qemu, busybox and kmod
# for vmtest/ (the suites on Debian 12's 6.1 kernel).
PKGS=(
	make
	clang
	llvm
	libbpf-dev
	libelf-dev
	zlib1g-dev
	bpftool
	libcmocka-dev
	libjansson-dev
	# the agent's Prometheus endpoint (user/agent/metrics.c)
	libmicrohttpd-dev
	# libyaml: the agent reads Gateway API manifests (user/model/decode.c)
	libyaml-dev
	# libcurl: the agent lists and watches the Kubernetes API (user/source/kube.c)
	libcurl4-openssl-dev
	libclang-rt-14-dev
	pkg-config
	iproute2
	openssl
	gnutls-bin
	curl
	python3
	# tests/kube: YAML bodies for the test API server (/apply, --load)
	python3-yaml
	qemu-system-x86
	busybox-static
	kmod
	ethtool
	# tests/tcp: loss and drops on the wires between the ends
	nftables
	# tests/tcp/t-vip.sh pings the VIPs
	iputils-ping
	# tests/tcp/t-mss.sh: the options of the SYN a backend sees
	tcpdump
	# tests/e2e/proxy.sh: real backends that read PROXY protocol v2
	haproxy
	nginx-light
)

# tests/deploy: `kubectl kustomize deploy/`. Debian's kubernetes-client,
# unless a kubectl is installed already (another package may own
# /usr/bin/kubectl: installing over it would fail).
if ! command -v kubectl >/dev/null; then
	PKGS+=(kubernetes-client)
fi

# `install-deps.sh bench`: also the contenders and tools of `make bench`.
if [ "${1:-}" = bench ]; then
	PKGS+=(libnginx-mod-stream wrk gnuplot-nox)
fi

# `install-deps.sh package`: also what make deb and its checks (test-deb)
# use: dpkg-dev (dpkg-buildflags, dpkg-shlibdeps), lintian, man-db,
# systemd (systemd-analyze), mmdebstrap for a fresh Debian root.
if [ "${1:-}" = package ]; then
	PKGS+=(dpkg-dev lintian man-db systemd mmdebstrap)
fi

# `install-deps.sh image`: what make image and test-image use: mmdebstrap
# for the build root, podman (and runc, which podman-env.sh falls back to
# where crun cannot run: hybrid cgroups), capsh (libcap2-bin) to read
# the container's capabilities.
if [ "${1:-}" = image ]; then
	PKGS+=(mmdebstrap podman runc libcap2-bin)
fi

missing=()
for p in "${PKGS[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing+=("$p")
	fi
done

if [ ${#missing[@]} -eq 0 ]; then
	exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: missing packages: ${missing[*]}; run as root to install them" >&2
	exit 1
fi

echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
# Refresh the package lists once per run only when they are missing or stale,
# so a second make target does not hit the network again.
if [ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*_Packages' -mmin -720 2>/dev/null | head -1)" ]; then
	apt-get update -q >&2
fi
apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
