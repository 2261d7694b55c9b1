#!/bin/sh
# Argo's per-pod cost of `skillmeat stage exec` (docs/argo.md), side by side
# in one hyperfine run with the reference, `workflow run` of the same
# one-stage workflow on this machine: a pod makes a scratch run from the
# bundle, records the upstream results, and hosts one attempt.  Also one
# item pod, the list pod and the gather pod of a fan-out of N items (default
# 1,000): each evaluates the list again, the gather ends N items from their
# results.
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
import json, sys
n = int(sys.argv[1])
with open("one.yaml", "w") as f:
    f.write("workflow: {id: bench-one, name: Bench one}\nstages:\n"
            "  - id: build\n    name: Build\n    type: command\n"
            "    run: echo \"v=1\" >> \"$SKILLMEAT_OUTPUT\"\n    outputs: {v: {type: string}}\n")
with open("fan.yaml", "w") as f:
    f.write("workflow: {id: bench-fan, name: Bench fan}\n"
            "config:\n  parameters:\n    n: {type: array, default: %s}\n"
            "stages:\n  - id: each\n    name: Each\n    type: fan_out\n"
            "    fan_out: {items: \"${{ parameters.n }}\", max_items: %d}\n"
            "    run: echo \"v=$SKILLMEAT_ITEM\" >> \"$SKILLMEAT_OUTPUT\"\n"
            "    outputs: {v: {type: string}}\n" % (list(range(n)), n))
with open("results.json", "w") as f:  # what Argo would hand the gather
    json.dump([{"result": json.dumps({"item": k, "status": "completed",
                                      "outputs": {"v": str(k)}})} for k in range(n)], f)
PY
$sm workflow export one.yaml --to bundle -o one.json
$sm workflow export fan.yaml --to bundle -o fan.json
hyperfine --warmup 2 --runs 20 --export-json "$dir/argo.json" \
	--prepare "rm -rf $dir/h $dir/o" \
	-n "workflow run (one stage)" "SKILLMEAT_HOME=$dir/h $sm workflow run one.yaml >/dev/null 2>&1" \
	-n "stage exec (one stage)" \
	"SKILLMEAT_HOME=$dir/h $sm stage exec --bundle one.json --stage build --outputs o >/dev/null" \
	-n "stage exec --list-items ($n)" \
	"SKILLMEAT_HOME=$dir/h $sm stage exec --bundle fan.json --stage each --list-items --outputs o >/dev/null" \
	-n "stage exec --item ($n)" \
	"SKILLMEAT_HOME=$dir/h $sm stage exec --bundle fan.json --stage each --item $((n / 2)) --outputs o >/dev/null" \
	-n "stage exec --item-results ($n)" \
	"SKILLMEAT_HOME=$dir/h $sm stage exec --bundle fan.json --stage each --item-results results.json --outputs o >/dev/null"
