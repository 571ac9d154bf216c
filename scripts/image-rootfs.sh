#!/bin/sh
# The root of the snilb image (deploy/Containerfile): BINARY as
# /usr/bin/snilb, every shared library `ldd` lists for it and for the
# libraries it loads when needed (`snilb version --dlopen`: libcurl for
# the Kubernetes API, libmicrohttpd for the metrics), each at the path the
# dynamic loader looks for it, and the few files of /etc a process reads
# (root's passwd and group entries, nsswitch.conf, the loader's cache).
# Usage: image-rootfs.sh BINARY ROOTFS
set -eu
bin=$1 root=$2
mkdir -p "$root/usr/bin" "$root/etc" "$root/tmp" "$root/run/snilb" \
	"$root/sys/fs/bpf" "$root/proc" "$root/dev"
chmod 1777 "$root/tmp"
install -m 0755 "$bin" "$root/usr/bin/snilb"
strip --strip-unneeded --remove-section=.comment "$root/usr/bin/snilb"
# The libraries and the loader, resolved to their files, each copied under
# the name ldd printed (/lib/x86_64-linux-gnu/libX.so.N, /lib64/ld-...).
dlopen=
for so in $("$bin" version --dlopen); do
	path=$(ldconfig -p | awk -v so="$so" '$1 == so && /x86-64/ { print $NF; exit }')
	[ -e "$path" ] || { echo "image-rootfs: $so is not installed" >&2; exit 1; }
	dlopen="$dlopen $path"
done
{ ldd "$bin"; for so in $dlopen; do printf '\t%s (0)\n' "$so"; ldd "$so"; done; } |
	awk '/=> \//{print $3} /^\t\//{print $1}' | sort -u | while read -r lib; do
	mkdir -p "$root$(dirname "$lib")"
	cp -L "$lib" "$root$lib"
done
# In Debian 12 /lib is /usr/lib: both spellings reach the same files.
if [ -d "$root/lib" ] && [ ! -e "$root/usr/lib" ]; then
	mv "$root/lib" "$root/usr/lib"
	ln -s usr/lib "$root/lib"
fi
if [ -d "$root/lib64" ] && [ ! -L "$root/lib64" ]; then
	mkdir -p "$root/usr/lib64"
	mv "$root/lib64"/* "$root/usr/lib64/"
	rmdir "$root/lib64"
	ln -s usr/lib64 "$root/lib64"
fi
echo 'root:x:0:0:root:/:/usr/bin/snilb' >"$root/etc/passwd"
echo 'root:x:0:' >"$root/etc/group"
printf 'passwd: files\ngroup: files\nhosts: files dns\n' >"$root/etc/nsswitch.conf"
ldconfig -r "$root"
# It runs there: the loader finds every library.
chroot "$root" /usr/bin/snilb version
