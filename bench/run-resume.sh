#!/bin/sh
# Resume latency: a 100-stage run (-j 4; each stage prints a line every
# 0.1 s for 1 s) whose host is killed with SIGKILL halfway, then resumed.
# Reports, from `workflow resume` starting: the first log line of an
# adopted stage (its monitor kept it running meanwhile), and the run's end;
# beside the same run uninterrupted.  5 rounds; medians.
set -eu
cd "$(dirname "$0")/.."
[ -d build-release ] || meson setup build-release --buildtype=release >/dev/null
ninja -C build-release src/cli/skillmeat src/cli/skillmeat-monitor >/dev/null
sm=$PWD/build-release/src/cli/skillmeat
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cd "$dir"
python3 - <<'PY' >resume.yaml
print("workflow: {id: resume-bench, name: Resume bench}\nstages:")
for i in range(100):
    print("  - id: s%d\n    name: S%d\n    type: command" % (i, i))
    if i >= 4:
        print("    depends_on: [s%d]" % (i - 4))
    print("    run: 'for k in 1 2 3 4 5 6 7 8 9 10; do echo line $k; sleep 0.1; done'")
PY
export SKILLMEAT_HOME="$dir/home"
for round in 1 2 3 4 5; do
	t0=$(date +%s.%N)
	$sm workflow run resume.yaml -j 4 >/dev/null 2>&1
	t1=$(date +%s.%N)
	echo "full $t0 $t1" >>times
	$sm workflow run resume.yaml -j 4 >/dev/null 2>&1 &
	host=$!
	sleep 13 # about halfway (25 rounds of 4 stages, ~1.1 s each)
	kill -9 $host
	wait $host 2>/dev/null || true
	rid=$(sqlite3 home/workflow-runs.db "SELECT id FROM runs ORDER BY created_at DESC LIMIT 1")
	t0=$(date +%s.%N)
	$sm workflow resume "$rid" >/dev/null 2>&1
	t1=$(date +%s.%N)
	echo "resume $t0 $t1 $rid" >>times
done
python3 - <<'PY'
import json, sqlite3, statistics
db = sqlite3.connect("home/workflow-runs.db")
full, first, end, adopted = [], [], [], []
for line in open("times"):
    w = line.split()
    t0, t1 = float(w[1]), float(w[2])
    if w[0] == "full":
        full.append(t1 - t0)
        continue
    rid = w[3]
    ad = [s for (s,) in db.execute("SELECT stage_id FROM events WHERE run_id=? AND type='stage_adopted'"
                                   " AND data LIKE '%running%'", (rid,))]
    resumed = db.execute("SELECT ts FROM events WHERE run_id=? AND type='run_resumed'", (rid,)).fetchone()[0]
    logs = [ts for (ts, sid) in db.execute("SELECT ts, stage_id FROM events WHERE run_id=? AND type='log'"
                                           " AND ts > ?", (rid, resumed)) if sid in ad]
    adopted.append(len(ad))
    if logs:
        first.append(min(logs) - t0)
    end.append(t1 - t0)
print("uninterrupted run: median %.2f s" % statistics.median(full))
print("adopted live stages per resume: %s" % adopted)
print("resume -> first log line of an adopted stage: median %.0f ms (%s)" %
      (statistics.median(first) * 1e3, ", ".join("%.0f" % (x * 1e3) for x in first)))
print("resume -> run end: median %.2f s (%s)" % (statistics.median(end), ", ".join("%.2f" % x for x in end)))
PY
