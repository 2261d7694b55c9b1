#!/bin/sh
# Benchmark parse + validate + plan: skillmeat beside two references in one
# run (see bench/README.md):
#   floor   libfyaml's event parser alone on the same file (bench/fyaml-floor.c)
#   pyyaml  python3 + yaml.safe_load of the same file: the first step of
#           upstream's pipeline, so upstream's real time is higher still
# Usage: bench/run.sh [--quick]     (needs hyperfine, python3-yaml, GNU time)
set -eu
cd "$(dirname "$0")/.."
runs=15
[ "${1:-}" = "--quick" ] && runs=3
[ -d build-release ] || meson setup build-release -Dbuildtype=release -Db_ndebug=true >/dev/null
ninja -C build-release >/dev/null
sm=$(pwd)/build-release/src/cli/skillmeat
floor=$(pwd)/build-release/bench/fyaml-floor
inproc=$(pwd)/build-release/bench/bench-plan
out=bench/out
python3 bench/gen-workflows.py "$out"

mean_ms() { python3 -c 'import json,sys; print("%.2f" % (json.load(open(sys.argv[1]))["results"][0]["mean"] * 1000))' "$1"; }

printf '%-18s %6s %6s | %10s %10s %9s %8s | %9s %10s %7s\n' workload stages KiB process in-proc "per stage" "peak RSS" floor pyyaml "vs py"
for w in linear-50 diamond-20 lean-chain-100 lean-random-100 lean-chain-1000 lean-random-1000 \
	lean-chain-10000 lean-random-10000 random-1000 random-10000; do
	f=$out/$w.yaml
	n=$(grep -c '^  - id:' "$f")
	kib=$(( $(wc -c <"$f") / 1024 ))
	plan="$sm workflow plan $f --no-overrides --format json -p feature_name=bench"
	$plan >/dev/null || { echo "plan failed for $w" >&2; exit 1; }
	pyruns=$runs
	[ "$n" -ge 5000 ] && pyruns=2
	hyperfine -N --warmup 2 --runs "$runs" --export-json "$out/sm.json" "$plan" >/dev/null 2>&1
	hyperfine -N --warmup 2 --runs "$runs" --export-json "$out/floor.json" "$floor $f" >/dev/null 2>&1
	hyperfine --warmup 1 --runs "$pyruns" --export-json "$out/py.json" \
		"python3 -c 'import yaml,sys; yaml.safe_load(open(sys.argv[1]))' $f" >/dev/null 2>&1
	rss=$(/usr/bin/time -f %M $plan 2>&1 >/dev/null | tail -1)
	iters=$(( 200000 / n + 3 ))
	ip=$($inproc "$f" "$iters" | cut -d' ' -f1)
	t=$(mean_ms "$out/sm.json")
	fl=$(mean_ms "$out/floor.json")
	py=$(mean_ms "$out/py.json")
	python3 -c 'import sys
w, n, kib, t, rss, fl, py, ip = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5]), float(sys.argv[6]), float(sys.argv[7]), float(sys.argv[8])
print("%-18s %6d %6d | %7.2f ms %7.2f ms %6.1f us %5.1f MB | %6.2f ms %7.1f ms %6.0fx" % (w, n, kib, t, ip, ip * 1000 / n, rss / 1024, fl, py, py / t))' \
		"$w" "$n" "$kib" "$t" "$rss" "$fl" "$py" "$ip"
done
echo
echo "process:  wall time (mean) of 'skillmeat workflow plan --format json': load, schema,"
echo "          defaults, validation with expression checks, DAG, batches, JSON plan written out"
echo "in-proc:  the same work repeated inside one process (bench/bench-plan.c), mean"
echo "floor:    libfyaml's event parser alone on the file, as a process (bench/fyaml-floor.c)"
echo "pyyaml:   python3 + yaml.safe_load of the file, as a process (upstream's first step)"
echo "process start-up alone (/bin/true) on this machine: $(hyperfine -N --runs 30 /bin/true --export-json "$out/true.json" >/dev/null 2>&1; mean_ms "$out/true.json") ms"
