#!/bin/sh
# Fan-out overhead: N items (default 1,000) of trivial work at -j 4, side by
# side in one hyperfine run with the reference, `xargs -P 4` running the same
# command once per item, and with the same work written as N independent
# command stages.  Each item is an attempt series with its own monitor,
# durable state (the items table) and log; the stage's outputs are a list.
set -eu
cd "$(dirname "$0")/.."
n=${1:-1000}
[ -d build-release ] || meson setup build-release --buildtype=release >/dev/null
ninja -C build-release src/cli/skillmeat src/cli/skillmeat-monitor >/dev/null
sm=$PWD/build-release/src/cli/skillmeat
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cd "$dir"
python3 - "$n" <<'PY'
import sys
n = int(sys.argv[1])
with open("fan.yaml", "w") as f:
    f.write("workflow: {id: bench-fan, name: Bench fan-out}\n"
            "config:\n  parameters:\n    n: {type: array, default: %s}\n"
            "stages:\n  - id: each\n    name: Each\n    type: fan_out\n"
            "    fan_out: {items: \"${{ parameters.n }}\", max_items: %d}\n"
            "    run: touch \"i$SKILLMEAT_ITEM_INDEX.stamp\"\n" % (list(range(n)), n))
with open("stages.yaml", "w") as f:
    f.write("workflow: {id: bench-flat, name: Bench flat}\nstages:\n")
    for i in range(n):
        f.write("  - id: s%d\n    name: S%d\n    type: command\n    run: touch s%d.stamp\n" % (i, i, i))
PY
echo "home on: $(df -T "$dir" | awk 'NR == 2 { print $2 }')"
hyperfine --warmup 1 --runs 5 --export-json "$dir/fan.json" --prepare 'rm -f *.stamp' \
	-n "xargs -P 4 ($n items)" \
	"seq 0 $((n - 1)) | xargs -P 4 -I{} /bin/sh -e -c 'touch i{}.stamp'" \
	-n "skillmeat fan_out -j4 ($n items)" \
	"SKILLMEAT_HOME=$dir/home $sm workflow run fan.yaml -j 4 >/dev/null 2>&1" \
	-n "skillmeat -j4 ($n independent stages)" \
	"SKILLMEAT_HOME=$dir/home $sm workflow run stages.yaml -j 4 >/dev/null 2>&1"
python3 - "$dir/fan.json" "$n" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"]
n = int(sys.argv[2])
base = r[0]["mean"]
for x in r[1:]:
    print("%s: %.2fx xargs, %+.0f us an item" % (x["command"], x["mean"] / base, (x["mean"] - base) / n * 1e6))
PY
SKILLMEAT_HOME=$dir/home /usr/bin/time -f "host peak RSS (fan-out): %M KiB" $sm workflow run fan.yaml -j 4 \
	>/dev/null 2>"$dir/time.txt" || true
tail -1 "$dir/time.txt"
