#!/bin/sh
# A stage that writes 1 GB to stdout (lines of 64 bytes), three ways, one run:
#  1. under the default output limit (256 MiB): stopped there;
#  2. with budget.max_output_bytes 2 GiB: all of it read;
#  3. a cancel sent while the host is behind on reading it.
# For each: host wall time and peak RSS (/usr/bin/time), the runs database's
# growth, the log on disk; for 3, how long the cancel took to be answered.
set -eu
cd "$(dirname "$0")/.."
[ -d build-release ] || meson setup build-release -Dbuildtype=release -Db_ndebug=true >/dev/null
ninja -C build-release >/dev/null
sm=$PWD/build-release/src/cli/skillmeat
work=$(mktemp -d "$PWD/bench/out/flood.XXXX")
export SKILLMEAT_HOME="$work/home" NO_COLOR=1
cd "$work"
gen="yes 'output of a stage that writes a great deal, sixty-four bytes' | head -c 1073741824"
printf 'workflow: {id: flood, name: Flood}\nstages:\n  - id: f\n    name: F\n    type: command\n    run: %s\n' "$gen" >default.yaml
sed 's/^    run:/    budget: {max_output_bytes: 2147483648}\n    run:/' default.yaml >all.yaml
db() { stat -c %s "$SKILLMEAT_HOME/workflow-runs.db" 2>/dev/null || echo 0; }
one() { # name file
	before=$(db)
	/usr/bin/time -f "%e %M" -o time.txt "$sm" workflow run "$2" >/dev/null 2>&1 || true
	run=$(sqlite3 "$SKILLMEAT_HOME/workflow-runs.db" "SELECT id FROM runs ORDER BY created_at DESC LIMIT 1")
	set -- "$1" $(tail -n 1 time.txt)
	printf '%-28s %8s s %8s KB %10s bytes %12s bytes  %s\n' "$1" "$2" "$3" \
		$(( $(db) - before )) "$(stat -c %s "$SKILLMEAT_HOME/runs/$run/f/1/stdout.log")" \
		"$(sqlite3 "$SKILLMEAT_HOME/workflow-runs.db" "SELECT status || ' ' || coalesce(error_class, '') FROM stages WHERE run_id='$run'")"
}
printf '%-28s %10s %11s %16s %18s  %s\n' "" wall "peak RSS" "db growth" "log on disk" "stage"
one "1 GB, default limit" default.yaml
one "1 GB, limit 2 GiB" all.yaml
"$sm" workflow run all.yaml >/dev/null 2>&1 &
host=$!
while [ "$(sqlite3 "$SKILLMEAT_HOME/workflow-runs.db" "SELECT count(*) FROM stages WHERE status='running'" 2>/dev/null || echo 0)" = 0 ]; do sleep 0.05; done
sleep 1
start=$(date +%s%N)
"$sm" workflow cancel last --yes >/dev/null 2>&1
wait $host || true
echo "cancel under the flood: answered in $(( ($(date +%s%N) - start) / 1000000 )) ms"
rm -rf "$work"
