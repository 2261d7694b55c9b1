#!/bin/sh
# Engine overhead: 1,000 trivial command stages at -j 4, side by side with
# ninja -j 4 on the same graph, in one run, with the SkillMeat home on the
# real disk (mktemp -d under /tmp; check it is not a tmpfs).  Each stage
# runs under its monitor (a fork of the host) and every state change is
# committed before the host acts on it: with the default durability
# (synchronous=NORMAL) and with [engine] durability = "full" (every commit
# fsynced).  Also the host's peak RSS.
set -eu
cd "$(dirname "$0")/.."
n=${1:-1000}
[ -d build-release ] || meson setup build-release --buildtype=release >/dev/null
ninja -C build-release src/cli/skillmeat src/cli/skillmeat-monitor >/dev/null
sm=$PWD/build-release/src/cli/skillmeat
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
python3 bench/gen-engine.py "$n" "$dir"
cd "$dir"
mkdir -p home-full
printf '[engine]\ndurability = "full"\n' >home-full/config.toml
echo "home on: $(df -T "$dir" | awk 'NR == 2 { print $2 }') ($(df "$dir" | awk 'NR == 2 { print $1 }'))"
hyperfine --warmup 1 --runs 5 --export-json "$dir/engine.json" \
	--prepare 'rm -f *.stamp .ninja_log .ninja_deps' \
	-n "ninja -j4 ($n edges)" 'ninja -j 4 >/dev/null' \
	-n "skillmeat run -j4 ($n stages, durability normal)" \
	"SKILLMEAT_HOME=$dir/home $sm workflow run dag.yaml -j 4 >/dev/null 2>&1" \
	-n "skillmeat run -j4 ($n stages, durability full)" \
	"SKILLMEAT_HOME=$dir/home-full $sm workflow run dag.yaml -j 4 >/dev/null 2>&1"
python3 - "$dir/engine.json" "$n" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"]
n = int(sys.argv[2])
base = r[0]["mean"]
for x in r[1:]:
    print("%s: %.2fx ninja, %+.0f us a stage" % (x["command"], x["mean"] / base, (x["mean"] - base) / n * 1e6))
PY
SKILLMEAT_HOME=$dir/home /usr/bin/time -f "host peak RSS: %M KiB" $sm workflow run dag.yaml -j 4 \
	>/dev/null 2>"$dir/time.txt" || true
tail -1 "$dir/time.txt"
