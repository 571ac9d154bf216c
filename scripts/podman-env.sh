# shellcheck shell=bash
# Sourced by scripts/mkimage.sh and tests/image/run.sh: podman_env IMAGE
# runs IMAGE once with podman's defaults; where that fails (hybrid
# cgroups, or no CAP_SYS_RESOURCE to set the default rlimits, as on this
# project's machine), it points CONTAINERS_CONF at a file using runc,
# cgroupfs and rlimits below the current ones, and checks that works.
# Sets PODMAN_BUILD_OPTS for podman build (the same rlimits).
podman_env() {
	local conf=${build:?}/image/containers.conf n p
	PODMAN_BUILD_OPTS=
	if podman run --rm --entrypoint /bin/true "$1" >/dev/null 2>&1 ||
		podman run --rm "$1" version >/dev/null 2>&1; then
		return 0
	fi
	n=$(ulimit -Hn) p=$(ulimit -Hu)
	[ "$n" = unlimited ] || [ "$n" -gt 16384 ] && n=16384
	[ "$p" = unlimited ] || [ "$p" -gt 32768 ] && p=32768
	n=$((n / 2)) p=$((p / 2))
	cat >"$conf" <<EOC
# Written by scripts/podman-env.sh: podman's defaults failed here.
[containers]
default_ulimits = ["nofile=$n:$n", "nproc=$p:$p"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
EOC
	export CONTAINERS_CONF=$conf
	PODMAN_BUILD_OPTS="--ulimit nofile=$n:$n --ulimit nproc=$p:$p"
	echo "podman: defaults failed here; using $conf (runc, cgroupfs, rlimits $n files, $p processes)" >&2
}
