#!/bin/sh
# TOML decoding throughput: skillmeat's decoder beside Python's tomllib
# (the standard library's TOML 1.0 parser), in-process, same file, one run.
# Usage: bench/run-toml.sh [MB]      (default 5)
set -eu
cd "$(dirname "$0")/.."
[ -d build-release ] || meson setup build-release -Dbuildtype=release -Db_ndebug=true >/dev/null
ninja -C build-release >/dev/null
mkdir -p bench/out
f=bench/out/bench.toml
python3 bench/gen-toml.py "$f" "${1:-5}"
size=$(wc -c <"$f")
sm=$(./build-release/bench/bench-toml "$f" 10)
py=$(python3 - "$f" <<'PY'
import sys, time, tomllib
data = open(sys.argv[1], "rb").read().decode()
times = []
for _ in range(3):
    t = time.perf_counter()
    tomllib.loads(data)
    times.append(time.perf_counter() - t)
mb = len(data.encode()) / 1e6
print("%.1f %.1f" % (mb / min(times), mb / (sum(times) / len(times))))
PY
)
echo "file: $f ($size bytes)"
printf '%-22s %12s %12s\n' decoder "best MB/s" "mean MB/s"
printf '%-22s %12s %12s\n' "skillmeat (C)" $sm
printf '%-22s %12s %12s\n' "tomllib (Python $(python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])'))" $py
python3 -c 'import sys; s = float(sys.argv[1]); p = float(sys.argv[2]); print("skillmeat / tomllib: %.1fx" % (s / p))' \
	"$(echo $sm | cut -d' ' -f1)" "$(echo $py | cut -d' ' -f1)"
