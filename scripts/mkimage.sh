#!/usr/bin/env bash
# Build the snilb container image (make image) without an image registry:
#  1. a Debian 12 root with the build dependencies, made by mmdebstrap from
#     Debian's package registry (kept in BUILD/image/, remade when the
#     package list changes), imported into podman as
#     localhost/snilb-build-root:bookworm;
#  2. deploy/Containerfile built with podman on it: the build stage
#     compiles snilb, the image holds only the binary and its libraries.
# Prints the image's size. Where podman's defaults cannot run a container
# (this machine: hybrid cgroups, no CAP_SYS_RESOURCE), it uses runc,
# cgroupfs and lower rlimits (BUILD/image/containers.conf, see podman_env).
#
# Usage: scripts/mkimage.sh BUILD_DIR [TAG]   (TAG: localhost/snilb:latest)
set -euo pipefail
build=$(cd "$1" && pwd)
tag=${2:-localhost/snilb:latest}
top=$(cd "$(dirname "$0")/.." && pwd)
dir=$build/image
mkdir -p "$dir"
. "$top/scripts/podman-env.sh"

# The build dependencies of scripts/install-deps.sh (no test tools).
pkgs=make,clang,llvm,binutils,libbpf-dev,libelf-dev,zlib1g-dev,bpftool
pkgs=$pkgs,libjansson-dev,libmicrohttpd-dev,libyaml-dev,libcurl4-openssl-dev
pkgs=$pkgs,pkg-config,libc6-dev,dpkg-dev
sum=$(echo "$pkgs" | md5sum | cut -c1-8)
tar=$dir/build-root-$sum.tar
base=localhost/snilb-build-root:bookworm
if [ ! -s "$tar" ]; then
	rm -f "$dir"/build-root-*.tar
	echo "mkimage: mmdebstrap: a Debian 12 root with $pkgs" >&2
	# --format: mmdebstrap would take the name's ".tmp" for a directory.
	rm -rf "$tar.tmp"
	mmdebstrap --variant=apt --format=tar --include="$pkgs" bookworm \
		"$tar.tmp" >&2 || exit 1
	mv "$tar.tmp" "$tar"
fi
# Imported once per root: the image is labelled with the tarball's name.
if [ "$(podman image inspect --format '{{index .Labels "snilb.root"}}' "$base" 2>/dev/null)" != "${tar##*/}" ]; then
	echo "mkimage: podman import $tar as $base" >&2
	podman import --change "LABEL snilb.root=${tar##*/}" "$tar" "$base" >&2
fi
podman_env "$base"

version=$(git -C "$top" describe --always --dirty 2>/dev/null || echo dev)
podman build $PODMAN_BUILD_OPTS -f "$top/deploy/Containerfile" \
	--build-arg SNILB_BUILD_ROOT="$base" --build-arg VERSION="$version" \
	-t "$tag" "$top" >&2
size=$(podman image inspect --format '{{.Size}}' "$tag")
echo "mkimage: $tag: $size bytes ($((size / 1024 / 1024)) MiB), snilb $version" >&2
