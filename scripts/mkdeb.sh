#!/usr/bin/env bash
# Build the Debian package of snilb from a built binary (make deb):
# /usr/sbin/snilb, the systemd unit and /etc/default/snilb of deploy/deb/,
# /etc/snilb/ with the snilb GatewayClass (deploy/20-gatewayclass.yaml),
# man pages generated from the binary's --help (deploy/deb/mkman.py), the
# copyright and a changelog. Dependencies: dpkg-shlibdeps on the binary,
# and the packages of the libraries it loads when needed (--dlopen).
#
# Usage: scripts/mkdeb.sh SNILB_BINARY OUTDIR   prints the .deb's path
set -euo pipefail
bin=$1 out=$2
top=$(cd "$(dirname "$0")/.." && pwd)
deb=$top/deploy/deb
# Debian's version: the commit date and hash (0.0~gitYYYYMMDD.HASH[.dirty]).
hash=$(git -C "$top" rev-parse --short HEAD 2>/dev/null || echo 0)
day=$(git -C "$top" log -1 --format=%cd --date=format:%Y%m%d 2>/dev/null || date -u +%Y%m%d)
dirty=$(git -C "$top" diff --quiet HEAD 2>/dev/null || echo .dirty)
version=0.0~git$day.$hash$dirty
date=$(git -C "$top" log -1 --format=%cd --date=rfc2822 2>/dev/null || date -uR)
arch=$(dpkg --print-architecture)

mkdir -p "$out"
out=$(cd "$out" && pwd)
work=$(mktemp -d "$out/.deb.XXXXXX")
trap 'rm -rf "$work"' EXIT
root=$work/root
install -d "$root/DEBIAN" "$root/usr/sbin" "$root/lib/systemd/system" \
	"$root/etc/default" "$root/etc/snilb" "$root/usr/share/man/man8" \
	"$root/usr/share/doc/snilb"
install -m 0755 "$bin" "$root/usr/sbin/snilb"
strip --strip-unneeded --remove-section=.comment --remove-section=.note \
	"$root/usr/sbin/snilb"
install -m 0644 "$deb/snilb.service" "$root/lib/systemd/system/snilb.service"
install -m 0644 "$deb/default" "$root/etc/default/snilb"
install -m 0644 "$top/deploy/20-gatewayclass.yaml" \
	"$root/etc/snilb/gatewayclass.yaml"
install -m 0644 "$deb/copyright" "$root/usr/share/doc/snilb/copyright"
python3 "$deb/mkman.py" "$bin" "$root/usr/share/man/man8" "$version" \
	"$(date -ud "$date" +%Y-%m-%d)" >/dev/null
gzip -9n "$root"/usr/share/man/man8/*.8
cat >"$work/changelog" <<EOT
snilb ($version) unstable; urgency=medium

  * Built from commit $hash.

 -- snilb maintainers <maintainers@snilb.invalid>  $date
EOT
# A native package (no Debian revision): changelog.gz.
gzip -9nc "$work/changelog" >"$root/usr/share/doc/snilb/changelog.gz"
chmod 0644 "$root/usr/share/doc/snilb/changelog.gz"

# dpkg-shlibdeps wants a debian/control of a source tree around it.
mkdir -p "$work/src/debian"
printf 'Source: snilb\n\nPackage: snilb\nArchitecture: any\n' \
	>"$work/src/debian/control"
depends=$(cd "$work/src" && dpkg-shlibdeps -O "$root/usr/sbin/snilb" |
	sed -n 's/^shlibs:Depends=//p')
# The libraries it loads when needed (`snilb version --dlopen`), which
# dpkg-shlibdeps cannot see: the packages that hold them, at least the
# version built against. (The filters read all their input: one that
# stops early kills its writer with SIGPIPE, which pipefail reports.)
for so in $("$bin" version --dlopen); do
	path=$(ldconfig -p |
		awk -v so="$so" '$1 == so && /x86-64/ && !p { print $NF; p = 1 }')
	pkg=$(dpkg -S "$(readlink -f "$path")" 2>/dev/null |
		awk -F: 'NR == 1 { print $1 }')
	[ -n "$pkg" ] || { echo "mkdeb: no package holds $so" >&2; exit 1; }
	ver=$(dpkg-query -W -f '${Version}' "$pkg")
	depends="$depends, $pkg (>= ${ver%%-*})"
done

size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
cat >"$root/DEBIAN/control" <<EOT
Package: snilb
Version: $version
Architecture: $arch
Maintainer: snilb maintainers <maintainers@snilb.invalid>
Installed-Size: $size
Depends: $depends
Section: net
Priority: optional
Homepage: https://snilb.invalid/
Description: TLS routing by SNI in the Linux kernel (eBPF)
 snilb routes TLS connections by the server name of their ClientHello
 inside the kernel: a tc BPF program reads the hello and splices the
 connection to a backend, with no proxy in the data path. Routes are
 Gateway API objects (TLSRoute passthrough) read from /etc/snilb or the
 Kubernetes API.
 .
 This package holds the agent and CLI (snilb) and a systemd unit running
 the agent on the manifests of /etc/snilb.
EOT
printf '/etc/default/snilb\n/etc/snilb/gatewayclass.yaml\n' \
	>"$root/DEBIAN/conffiles"
# The unit: known to systemd, not enabled (it needs /etc/default/snilb
# filled in first); stopped and forgotten on removal.
cat >"$root/DEBIAN/postinst" <<'EOT'
#!/bin/sh
set -e
if [ -d /run/systemd/system ]; then
	systemctl --system daemon-reload >/dev/null || true
fi
EOT
cat >"$root/DEBIAN/prerm" <<'EOT'
#!/bin/sh
set -e
if [ -d /run/systemd/system ] && [ "$1" = remove ]; then
	deb-systemd-invoke stop snilb.service >/dev/null || true
fi
EOT
cat >"$root/DEBIAN/postrm" <<'EOT'
#!/bin/sh
set -e
if [ -d /run/systemd/system ]; then
	systemctl --system daemon-reload >/dev/null || true
fi
if [ "$1" = purge ] && command -v deb-systemd-helper >/dev/null; then
	deb-systemd-helper purge snilb.service >/dev/null || true
fi
EOT
chmod 0755 "$root/DEBIAN/postinst" "$root/DEBIAN/prerm" "$root/DEBIAN/postrm"

(cd "$root" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' |
	LC_ALL=C sort -z | xargs -0 md5sum) >"$root/DEBIAN/md5sums"

file=$out/snilb_${version}_$arch.deb
dpkg-deb --root-owner-group -Zxz --build "$root" "$file" >/dev/null
echo "$file"
