#!/bin/sh
# Context packing: one stage bound to 200 context modules and a memory
# query, over 10,000 memory items of the project (bench/gen-pack.py).
#   in-process (bench-pack): cold = open memory.db, read modules and items,
#     pack; pack = the packing alone.  Target: under 20 ms.
#   end to end, side by side in one run: `skillmeat context preview` and
#     the reference, upstream's packing algorithm in Python over the same
#     memory.db (bench/upstream-pack.py).
# Usage: bench/run-pack.sh [ITEMS] [MODULES]   (needs hyperfine)
set -eu
cd "$(dirname "$0")/.."
items=${1:-10000}
mods=${2:-200}
[ -d build-release ] || meson setup build-release --buildtype=release >/dev/null
ninja -C build-release src/cli/skillmeat bench/bench-pack >/dev/null
root=$PWD
sm=$root/build-release/src/cli/skillmeat
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
python3 bench/gen-pack.py "$dir" "$items" "$mods"
export SKILLMEAT_HOME="$dir/home"
cd "$dir/proj"
$sm memory import ../memory-export.json >/dev/null
echo "in-process, $items items, $mods modules (ms, 30 iterations):"
"$root/build-release/bench/bench-pack" ../pack.yaml "$dir/proj" 30
hyperfine -N --warmup 2 --runs 10 \
	-n "skillmeat context preview" "$sm context preview ../pack.yaml" \
	-n "upstream algorithm (python)" \
	"python3 $root/bench/upstream-pack.py $dir/home $dir/home/collections/default/context $dir/proj"
printf 'text size: skillmeat %s bytes, upstream algorithm %s bytes\n' \
	"$($sm context preview ../pack.yaml | wc -c)" \
	"$(python3 "$root/bench/upstream-pack.py" "$dir/home" "$dir/home/collections/default/context" "$dir/proj" | wc -c)"
/usr/bin/time -f "skillmeat context preview peak RSS: %M KiB" $sm context preview ../pack.yaml 2>&1 >/dev/null | tail -1
