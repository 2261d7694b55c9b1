#!/bin/sh
# Install every Debian package the build, the tests and the benchmarks
# need (Chromium for the browser tests), then the web UI's npm packages, and
# build the UI so that the C build embeds it.  Safe to run again.
set -eu
pkgs="build-essential meson ninja-build pkg-config libfyaml-dev libjansson-dev
libcmocka-dev libsodium-dev clang libclang-rt-14-dev llvm python3 python3-jsonschema python3-yaml
hyperfine time valgrind libarchive-dev libsqlite3-dev sqlite3 libmicrohttpd-dev curl wrk chromium
go-md2man man-db zsh fish"
missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		missing="$missing $p"
done
# Node.js (>= 20.19, for Vite) usually comes with the machine; Debian's is older.
command -v npm >/dev/null 2>&1 || missing="$missing nodejs npm"
if [ -n "$missing" ]; then
	SUDO=""
	[ "$(id -u)" -eq 0 ] || SUDO="sudo"
	echo "setup: installing:$missing" >&2
	export DEBIAN_FRONTEND=noninteractive
	$SUDO apt-get update -qq
	# shellcheck disable=SC2086
	$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
sh "$(dirname "$0")/build-ui.sh"
