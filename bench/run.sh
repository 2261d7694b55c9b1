#!/bin/sh
# Benchmark: parse + validate + plan, skillmeat beside the reference in one
# run.  The reference is PyYAML's yaml.safe_load of the same file — the
# first step of upstream's pipeline (upstream's models need pydantic 2,
# which Debian does not ship), so upstream's real time is higher still.
#
# Usage: bench/run.sh [--quick]      (needs hyperfine, python3-yaml, GNU time)
set -eu
cd "$(dirname "$0")/.."
runs=20
[ "${1:-}" = "--quick" ] && runs=3
[ -d build-release ] || meson setup build-release -Dbuildtype=release -Db_ndebug=true >/dev/null
ninja -C build-release >/dev/null
sm=$(pwd)/build-release/src/cli/skillmeat
out=bench/out
python3 bench/gen-workflows.py "$out"

printf '%-14s %7s %12s %12s %10s %12s %12s\n' workload stages "skillmeat" "per stage" "RSS" "pyyaml load" "ratio"
for w in linear-50 diamond-20 chain-100 random-100 chain-1000 random-1000 chain-5000 random-5000 chain-10000 random-10000; do
	f=$out/$w.yaml
	n=$(grep -c '^  - id:' "$f")
	plan="$sm workflow plan $f --no-overrides --format json -p feature_name=bench"
	$plan >/dev/null || { echo "plan failed for $w"; exit 1; }
	py="python3 -c 'import yaml,sys; yaml.safe_load(open(sys.argv[1]))' $f"
	pyruns=$runs
	[ "$n" -ge 5000 ] && pyruns=2
	hyperfine -N --warmup 2 --runs "$runs" --export-json "$out/sm.json" "$plan" >/dev/null 2>&1 ||
		hyperfine --warmup 2 --runs "$runs" --export-json "$out/sm.json" "$plan" >/dev/null
	hyperfine --warmup 1 --runs "$pyruns" --export-json "$out/py.json" "$py" >/dev/null
	rss=$(/usr/bin/time -f %M $plan 2>&1 >/dev/null | tail -1)
	python3 - "$w" "$n" "$rss" "$out/sm.json" "$out/py.json" <<'PY'
import json, sys
w, n, rss = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
sm = json.load(open(sys.argv[4]))["results"][0]
py = json.load(open(sys.argv[5]))["results"][0]
t, p = sm["mean"] * 1000, py["mean"] * 1000
print(f"{w:<14} {n:>7} {t:>9.2f} ms {t * 1000 / n:>9.1f} us {rss / 1024:>7.1f} MB {p:>9.1f} ms {p / t:>10.0f}x")
PY
done
echo "skillmeat: process wall time of 'workflow plan --format json' (load, parse, defaults,"
echo "validation with expression checks, DAG, batches, JSON plan), mean of hyperfine runs."
echo "pyyaml load: process wall time of python3 + yaml.safe_load of the same file."
