#!/bin/sh
# Engine overhead: 1,000 trivial command stages at -j 4, side by side with
# ninja -j 4 on the same graph, in one run.  Every state change of the
# engine is durable (SQLite WAL, synchronous=FULL); the NORMAL row shows the
# cost of fsync.  Also the host's peak RSS.
set -eu
cd "$(dirname "$0")/.."
n=${1:-1000}
[ -d build-release ] || meson setup build-release --buildtype=release >/dev/null
ninja -C build-release src/cli/skillmeat >/dev/null
sm=$PWD/build-release/src/cli/skillmeat
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
python3 bench/gen-engine.py "$n" "$dir"
cd "$dir"
export SKILLMEAT_HOME="$dir/home"
hyperfine --warmup 1 --runs 5 \
	--prepare 'rm -f *.stamp .ninja_log .ninja_deps' \
	-n "ninja -j4 ($n edges)" 'ninja -j 4 >/dev/null' \
	-n "skillmeat run -j4 ($n stages, synchronous=FULL)" \
	"$sm workflow run dag.yaml -j 4 >/dev/null 2>&1" \
	-n "skillmeat run -j4 ($n stages, synchronous=NORMAL)" \
	"SKILLMEAT_DB_SYNC=normal $sm workflow run dag.yaml -j 4 >/dev/null 2>&1"
/usr/bin/time -f "host peak RSS: %M KiB" $sm workflow run dag.yaml -j 4 >/dev/null 2>"$dir/time.txt" || true
tail -1 "$dir/time.txt"
