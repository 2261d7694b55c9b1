#!/bin/sh
# The engine in a real repository (issue 26): N trivial command stages
# (default 1,000; `run: 'true'`, a random DAG, each stage depending on up to
# two earlier ones, fixed seed) at -j 4, side by side with `ninja -j 4` on the
# same graph (`rule r` / `command = true`, one edge a stage, the same
# dependencies), started from a plain folder, inside a git clone of this
# project with the home outside, and with the home inside the clone; the same
# N stages asking for their files changed (handoff.files_changed: true, one
# git look a turn); and the same work as one fan-out of N items beside N
# independent ninja edges.  Cases are interleaved, one of each per round
# (ROUNDS, default 3), so a noisy machine slows them alike; each row gives
# the median and the best, the ratio of medians to ninja, and the host's peak
# RSS.  One row starts a monitor program per attempt
# (SKILLMEAT_MONITOR_ZYGOTE=0), as the engine did before its zygote.  The
# home-inside rows keep every round's run in the same home: flat times across
# rounds show the cost does not grow with the runs before.
set -eu
cd "$(dirname "$0")/.."
root=$PWD
n=${1:-1000}
rounds=${ROUNDS:-3}
[ -d build-release ] || meson setup build-release --buildtype=release >/dev/null
ninja -C build-release src/cli/skillmeat src/cli/skillmeat-monitor >/dev/null
sm=$PWD/build-release/src/cli/skillmeat
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
mkdir "$dir/plain"
git clone -q "$root" "$dir/clone"
python3 - "$n" "$dir" <<'PY'
import os, random, sys
n, d = int(sys.argv[1]), sys.argv[2]
rnd = random.Random(42)
deps = [sorted(set(rnd.sample(range(i), min(i, 2)))) if i else [] for i in range(n)]
def dag(path, extra=""):
    with open(path, "w") as f:
        f.write("workflow: {id: bench-dag, name: Bench DAG}\nstages:\n")
        for i in range(n):
            f.write("  - id: s%d\n    name: S%d\n    type: command\n    run: 'true'\n%s" % (i, i, extra))
            if deps[i]:
                f.write("    depends_on: [%s]\n" % ", ".join("s%d" % k for k in deps[i]))
def fan(path):
    with open(path, "w") as f:
        f.write("workflow: {id: bench-fan, name: Bench fan-out}\n"
                "config:\n  parameters:\n    n: {type: array, default: %s}\n"
                "stages:\n  - id: each\n    name: Each\n    type: fan_out\n"
                "    fan_out: {items: \"${{ parameters.n }}\", max_items: %d}\n"
                "    run: 'true'\n" % (list(range(n)), n))
for where in ("plain", "clone"):
    dag(os.path.join(d, where, "dag.yaml"))
    dag(os.path.join(d, where, "ask.yaml"), "    handoff: {files_changed: true}\n")
    fan(os.path.join(d, where, "fan.yaml"))
with open(os.path.join(d, "plain", "dag.ninja"), "w") as f:
    f.write("rule r\n  command = true\n")
    for i in range(n):
        f.write("build s%d: r%s\n" % (i, (" | " + " ".join("s%d" % k for k in deps[i])) if deps[i] else ""))
with open(os.path.join(d, "plain", "fan.ninja"), "w") as f:
    f.write("rule r\n  command = true\n")
    for i in range(n):
        f.write("build i%d: r\n" % i)
PY
echo "home on: $(df -T "$dir" | awk 'NR == 2 { print $2 }'); clone: $(git -C "$dir/clone" ls-files | wc -l) tracked files"
# ext4 without a journal will not reuse an inode deleted in the last 60-300 s
# and scans each such one at every allocation (bench/README.md): say so.
dev=$(df "$dir" | awk 'NR == 2 { print $1 }')
if [ "$(df -T "$dir" | awk 'NR == 2 { print $2 }')" = ext4 ] && ! ls -d /proc/fs/jbd2/"${dev##*/}"* >/dev/null 2>&1; then
	echo "note: ext4 without a journal here: figures are only fair 5 minutes or more after any mass deletion"
fi
python3 - "$sm" "$dir" "$n" "$rounds" <<'PY'
import os, statistics, subprocess, sys, time
sm, d, n, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
P, C = os.path.join(d, "plain"), os.path.join(d, "clone")
out, inside = os.path.join(d, "home-out"), os.path.join(C, ".smhome")
cases = [  # name, folder, argv, home (None: ninja)
    ("ninja -j 4 (dag)", P, ["ninja", "-f", "dag.ninja", "-j", "4"], None),
    ("skillmeat, plain folder", P, [sm, "workflow", "run", "dag.yaml", "-j", "4"], out),
    ("skillmeat, git clone, home outside", C, [sm, "workflow", "run", "dag.yaml", "-j", "4"], out),
    ("  same, a monitor program started per attempt", C, [sm, "workflow", "run", "dag.yaml", "-j", "4"], out),
    ("skillmeat, git clone, home inside", C, [sm, "workflow", "run", "dag.yaml", "-j", "4"], inside),
    ("skillmeat, clone, home inside, files_changed", C, [sm, "workflow", "run", "ask.yaml", "-j", "4"], inside),
    ("ninja -j 4 (%d independent edges)" % n, P, ["ninja", "-f", "fan.ninja", "-j", "4"], None),
    ("fan-out, plain folder", P, [sm, "workflow", "run", "fan.yaml", "-j", "4"], out),
    ("fan-out, git clone, home outside", C, [sm, "workflow", "run", "fan.yaml", "-j", "4"], out),
    ("fan-out, git clone, home inside", C, [sm, "workflow", "run", "fan.yaml", "-j", "4"], inside),
]
times = {c[0]: [] for c in cases}
rss = {c[0]: 0 for c in cases}
for r in range(rounds):
    for name, cwd, argv, home in cases:
        env = dict(os.environ)
        if name.startswith("  same, a monitor program"):
            env["SKILLMEAT_MONITOR_ZYGOTE"] = "0"  # the engine before its zygote
        if home:
            env["SKILLMEAT_HOME"] = home
        for f in (".ninja_log", ".ninja_deps"):
            if os.path.exists(os.path.join(cwd, f)):
                os.unlink(os.path.join(cwd, f))
        t0 = time.monotonic()
        p = subprocess.run(["/usr/bin/time", "-f", "%M"] + argv, cwd=cwd, env=env,
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        t = time.monotonic() - t0
        if p.returncode:
            sys.exit("%s failed (exit %d): %s" % (name, p.returncode, p.stderr[-500:]))
        times[name].append(t)
        rss[name] = max(rss[name], int(p.stderr.strip().splitlines()[-1]))
print("%-46s %8s %8s %7s %9s  %s" % ("case (%d stages, -j 4)" % n, "median", "best", "ratio",
                                       "peak RSS", "each round"))
base = None
for name, cwd, argv, home in cases:
    med = statistics.median(times[name])
    if not home:
        base = med
    print("%-46s %7.2fs %7.2fs %6.2fx %6.1f MB  %s" % (name, med, min(times[name]), med / base,
          rss[name] / 1024, " ".join("%.2f" % t for t in times[name])))
PY
