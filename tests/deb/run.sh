#!/usr/bin/env bash
# The Debian package of `make deb` (docs/install.md): lintian finds no
# error or warning; systemd-analyze verifies the unit; the unit keeps the
# DaemonSet's capabilities and hardening; the man pages render without a
# warning and are those of the commands `snilb --help` lists; installed
# with dpkg into a fresh Debian 12 root made by mmdebstrap (its
# dependencies from the package's Depends, nothing else), `snilb version`
# and `snilb agent --check --manifests /etc/snilb` run there (chroot), and
# `dpkg --purge` leaves nothing behind.
#
# Usage: tests/deb/run.sh BUILD_DIR   (the .deb: BUILD_DIR/deb/snilb_*.deb)
set -uo pipefail
build=$(cd "${1:-build}" && pwd)
passed=0 failed=0
. "$(dirname "$0")/../lib/lib.sh"

debs=("$build"/deb/snilb_*.deb)
deb=${debs[0]}
if [ ! -f "$deb" ] || [ ${#debs[@]} -ne 1 ]; then
	echo "deb: no single package in $build/deb (make deb)"
	echo "0 passed, 1 failed"
	exit 1
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "deb: skipped: installing into a chroot needs root"
	echo "0 passed, 0 failed, 1 skipped"
	exit 0
fi
echo "package: $deb ($(stat -c %s "$deb") bytes)"
work=$(mktemp -d /tmp/snilb-deb.XXXXXX)
trap 'rm -rf "$work"' EXIT

# lintian, every tag shown (info ones too); no error or warning.
lintian -I --pedantic "$deb" >"$work/lintian" 2>&1
sed 's/^/     lintian: /' "$work/lintian"
check "lintian: no error or warning" "" \
	"$(grep -E '^[EW]: ' "$work/lintian" | paste -sd'|')"

dpkg-deb -x "$deb" "$work/x"
unit=$work/x/lib/systemd/system/snilb.service
key() { sed -n "s/^$1=//p" "$unit"; }
check "unit: ExecStart" \
	"/usr/sbin/snilb agent --manifests /etc/snilb --iface \${SNILB_IFACE} --snat \${SNILB_SNAT} --pin-path /sys/fs/bpf/snilb --status-file /run/snilb/status.json \$SNILB_OPTS" \
	"$(key ExecStart)"
# The DaemonSet's capabilities, no more (deploy/30-daemonset.yaml).
caps=$(python3 -c '
import sys, yaml
for d in yaml.safe_load_all(open(sys.argv[1])):
    if d and d["kind"] == "DaemonSet":
        c = d["spec"]["template"]["spec"]["containers"][0]["securityContext"]
        assert c["capabilities"]["drop"] == ["ALL"]
        print(" ".join("CAP_" + x for x in c["capabilities"]["add"]))
' "$(dirname "$0")/../../deploy/30-daemonset.yaml")
check "unit: CapabilityBoundingSet = the DaemonSet's" "$caps" "$(key CapabilityBoundingSet)"
check "unit: AmbientCapabilities = the DaemonSet's" "$caps" "$(key AmbientCapabilities)"
check "binary: built hardened (scripts/hardened.sh)" \
	"pie relro now canary fortify" "$(elf_hardening "$work/x/usr/sbin/snilb")"
check "unit: hardening" "yes strict /sys/fs/bpf snilb yes" \
	"$(key NoNewPrivileges) $(key ProtectSystem) $(key ReadWritePaths) $(key RuntimeDirectory) $(key RuntimeDirectoryPreserve)"

# Man pages: one per command `snilb --help` lists, each rendering cleanly.
want=$(printf 'snilb.8.gz\n'; "$work/x/usr/sbin/snilb" --help |
	sed -n '/^Commands:/,/^$/s/^  \([a-z]\+\).*/snilb-\1.8.gz/p' |
	grep -v -e snilb-help -e snilb-version | sort)
check "man pages: snilb.8 and one per command" "$(echo "$want" | sort | paste -sd' ')" \
	"$(ls "$work/x/usr/share/man/man8" | sort | paste -sd' ')"
warn=
for m in "$work"/x/usr/share/man/man8/*.8.gz; do
	w=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -E UTF-8 -l -Tutf8 -Z "$m" 2>&1 >/dev/null)
	[ -n "$w" ] && warn="$warn ${m##*/}: $w"
done
check "man pages render without a warning" "" "$warn"

# A fresh Debian 12 root with only the package's dependencies, and systemd
# (a node has it; systemd-analyze verify resolves the unit's targets and
# paths in this root), then dpkg -i.
deps=$(dpkg-deb -f "$deb" Depends | sed 's/ ([^)]*)//g; s/ //g')
t0=$EPOCHREALTIME
if mmdebstrap --variant=minbase --include="$deps,systemd" --quiet bookworm \
	"$work/root" >"$work/mmdebstrap.log" 2>&1; then
	ok "mmdebstrap: a fresh bookworm root with $deps ($(( ($(date +%s%N) / 1000000) - ${t0/./} / 1000 )) ms)"
else
	bad "mmdebstrap: $(tail -3 "$work/mmdebstrap.log")"
	echo "$passed passed, $failed failed"
	exit 1
fi
cp "$deb" "$work/root/tmp/snilb.deb"
out=$(chroot "$work/root" dpkg -i /tmp/snilb.deb 2>&1)
check "dpkg -i in the chroot: exit" 0 "$?"
[ $? ] && echo "$out" | tail -2 | sed 's/^/     /'
check "snilb version in the chroot" "snilb $(dpkg-deb -f "$deb" Version | sed 's/.*\.\([0-9a-f]*\)\(\.dirty\)\?$/\1\2/;s/\.dirty/-dirty/')" \
	"$(chroot "$work/root" snilb version 2>&1)"
chroot "$work/root" snilb agent --check --manifests /etc/snilb >"$work/check.json" 2>&1
check "snilb agent --check --manifests /etc/snilb in the chroot: exit" 0 "$?"
check "snilb agent --check: the GatewayClass snilb Accepted" "snilb Accepted True" \
	"$(python3 -c 'import json,sys; g=json.load(open(sys.argv[1]))["gatewayclasses"][0]; c=[c for c in g["conditions"] if c["type"]=="Accepted"][0]; print(g["name"], c["type"], c["status"])' "$work/check.json" 2>&1)"
out=$(chroot "$work/root" ldd /usr/sbin/snilb 2>&1 | grep 'not found')
check "every library the binary needs is installed" "" "$out"
# The libraries it loads when needed (libcurl, libmicrohttpd), with theirs.
out=$(for so in $(chroot "$work/root" snilb version --dlopen); do
	p=$(chroot "$work/root" ldconfig -p |
		awk -v so="$so" '$1 == so && !p { print $NF; p = 1 }')
	[ -n "$p" ] || { echo "$so: not installed"; continue; }
	chroot "$work/root" ldd "$p" | grep 'not found'
done)
check "every library it loads when needed is installed (snilb version --dlopen)" "" "$out"

# systemd-analyze verify on the installed unit (its paths resolved in the
# root; the man pages of Documentation= were checked above): no error, no
# warning.
out=$(SYSTEMD_LOG_LEVEL=warning systemd-analyze verify --man=no --root="$work/root" \
	/lib/systemd/system/snilb.service 2>&1)
rc=$?
check "systemd-analyze verify snilb.service: exit" 0 "$rc"
check "systemd-analyze verify snilb.service: no message" "" "$out"
# The exposure systemd computes from the hardening, for the record.
sec=$(systemd-analyze security --offline=yes --root="$work/root" \
	/lib/systemd/system/snilb.service 2>/dev/null | tail -1)
echo "     systemd-analyze security: ${sec:-n/a}"

out=$(chroot "$work/root" dpkg --purge snilb 2>&1)
check "dpkg --purge: exit" 0 "$?"
left=$(cd "$work/root" && ls -d etc/snilb etc/default/snilb usr/sbin/snilb \
	lib/systemd/system/snilb.service usr/share/man/man8/snilb* 2>/dev/null)
check "dpkg --purge leaves nothing" "" "$left"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
