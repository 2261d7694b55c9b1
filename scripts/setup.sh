#!/bin/sh
# Install every Debian package the build, the tests and the benchmarks
# need.  Safe to run again; does nothing when everything is present.
set -eu
pkgs="build-essential meson ninja-build pkg-config libfyaml-dev libjansson-dev
libcmocka-dev libsodium-dev clang libclang-rt-14-dev llvm python3 python3-jsonschema python3-yaml
hyperfine time valgrind libsqlite3-dev sqlite3 libmicrohttpd-dev curl wrk"
missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "setup: installing:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
