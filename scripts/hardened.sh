#!/bin/sh
# Run COMMAND with Debian's hardening flags (dpkg-buildflags: PIE, stack
# protector, _FORTIFY_SOURCE, RELRO) and BIND_NOW in CFLAGS and LDFLAGS:
# how the shipped binary is built, by make deb and in the image's build
# stage, in one place. tests/lib/lib.sh's elf_hardening checks the result.
# Usage: scripts/hardened.sh COMMAND [ARGS...]
set -e
CFLAGS="$(dpkg-buildflags --get CFLAGS) $(dpkg-buildflags --get CPPFLAGS)"
LDFLAGS="$(dpkg-buildflags --get LDFLAGS) -Wl,-z,now"
export CFLAGS LDFLAGS
exec "$@"
