#!/bin/sh
# `workflow plan WORKFLOW --rerun-of RUN [--failed | --from STAGE] [--reuse-unchanged]`:
# the plan of the re-run as `workflow rerun RUN` would start it (RUN's
# parameters under -p), with each stage's decision (reuse or run) and why,
# the same decisions as `workflow rerun --plan`; refusals and usage errors;
# nothing is recorded.
. "$(dirname "$0")/lib.sh"
cd "$TMP" || exit 1
export NO_COLOR=1
q() { sqlite3 "$SKILLMEAT_HOME/workflow-runs.db" "$1"; }
last_run() { q "SELECT id FROM runs ORDER BY created_at DESC, rowid DESC LIMIT 1"; }
runs() { q "SELECT count(*) FROM runs"; }
$sm init >/dev/null 2>&1

# Three command stages; the second fails until the file `fixed` exists.
cat >flaky.yaml <<'Y'
workflow: {id: flaky, name: Flaky}
config:
  parameters:
    tag: {type: string, default: plain}
stages:
  - {id: prepare, name: Prepare, type: command, run: 'echo "v=ready" >> "$SKILLMEAT_OUTPUT"', outputs: {v: {type: string}}}
  - id: build
    name: Build
    type: command
    depends_on: [prepare]
    run: 'test -f fixed || { echo "fixed is missing" >&2; exit 4; }'
    error_policy: {retry: {max_attempts: 1}}
  - {id: ship, name: Ship, type: command, depends_on: [build], run: 'echo "ship $V $T"', env: {V: "${{ stages.prepare.outputs.v }}", T: "${{ parameters.tag }}"}}
Y
cp flaky.yaml other.yaml
sed -i 's/id: flaky, name: Flaky/id: other, name: Other/' other.yaml
run $sm workflow run flaky.yaml -p tag=first
check "the first run fails at build" exit_is 1
r0=$(last_run)

run $sm workflow plan flaky.yaml --rerun-of "$r0" --failed
check "plan --rerun-of --failed: exit 0" exit_is 0
check "  the plan itself" out_has "Execution Plan (3 stages in 3 batches)"
check "  with RUN's parameters" out_has 'Parameters: tag="first"'
check "  the re-run's decisions" out_has "Re-run of $r0:"
check "  prepare reused, and why" grep -Eq "^  prepare +reuse +completed in run $r0\$" "$TMP/out"
check "  build runs, and why" grep -Eq "^  build +run +failed in run $r0\$" "$TMP/out"
check "  ship runs, and why" grep -Eq "^  ship +run +cancelled in run $r0\$" "$TMP/out"
check "  nothing recorded" test "$(runs)" = 1

run $sm workflow plan flaky.yaml --rerun-of "$r0" --failed --format json
check "--format json: the plan's fields" json_eq 'len(j["batches"]) == 3 and "estimate" in j and j["validation"]["valid"]'
check "  its parameters are RUN's" json_eq 'j["parameters"] == {"tag": "first"}'
check "  rerun: RUN and a decision a stage" json_eq 'j["rerun"]["rerun_of"] == "'"$r0"'" and [s["action"] for s in j["rerun"]["stages"]] == ["reuse", "run", "run"]'
cp "$TMP/out" plan.json
run $sm workflow rerun "$r0" --failed --plan --format json
check "  the same decisions as workflow rerun --plan" python3 -c '
import json, sys
sys.exit(0 if json.load(open("plan.json"))["rerun"] == json.load(open(sys.argv[1])) else 1)' "$TMP/out"

run $sm workflow plan flaky.yaml --rerun-of "$r0" -p tag=second --format json
check "without a mode every stage runs" json_eq '[s["action"] for s in j["rerun"]["stages"]] == ["run"] * 3 and j["rerun"]["stages"][0]["reason"] == "every stage runs again"'
check "  -p wins over RUN's parameters" json_eq 'j["parameters"] == {"tag": "second"}'

# A completed re-run, then: --from, --reuse-unchanged, a refusal.
touch fixed
run $sm workflow rerun "$r0" --failed
check "the re-run completes" exit_is 0
r1=$(last_run)
run $sm workflow plan flaky.yaml --rerun-of "$r1" --from build
check "--from build: exit 0" exit_is 0
check "  prepare reused (a reused stage of a re-run)" grep -Eq "^  prepare +reuse +" "$TMP/out"
check "  build runs: named by --from" grep -Eq "^  build +run +named by --from\$" "$TMP/out"
check "  ship runs: after build" grep -Eq "^  ship +run +after 'build'" "$TMP/out"

run $sm workflow plan flaky.yaml --rerun-of "$r1" --reuse-unchanged
check "--reuse-unchanged with nothing changed is refused" exit_is 1
check "  with the engine's reason" err_has "the re-run of run $r1 would be refused"
sed -i 's/echo "ship \$V \$T"/echo "shipped $V $T"/' flaky.yaml
run $sm workflow plan flaky.yaml --rerun-of "$r1" --reuse-unchanged --format json
check "--reuse-unchanged after ship's script changed: exit 0" exit_is 0
check "  prepare and build reused as unchanged" json_eq '[s["action"] for s in j["rerun"]["stages"]] == ["reuse", "reuse", "run"] and j["rerun"]["stages"][1]["reason"].startswith("unchanged since run")'
check "  ship runs: its definition changed" json_eq 'j["rerun"]["stages"][2]["reason"].startswith("changed since run") and "definition" in j["rerun"]["stages"][2]["reason"]'
check "nothing recorded by any plan" test "$(runs)" = 2

# Refusals and usage errors.
run $sm workflow plan other.yaml --rerun-of "$r1"
check "another workflow's file is refused" exit_is 1
check "  naming the file the run ran" err_has "/flaky.yaml, not other.yaml"
# A stored workflow, by name (its build fails again).
rm fixed
run $sm workflow create other.yaml
check "other stored" exit_is 0
run $sm workflow run other -p tag=stored
check "a run of the stored workflow fails at build" exit_is 1
run $sm workflow plan other --rerun-of last --failed --format json
check "plan NAME --rerun-of a run of the stored workflow" json_eq 'j["workflow_id"] == "other" and j["parameters"] == {"tag": "stored"} and [s["action"] for s in j["rerun"]["stages"]] == ["reuse", "run", "run"]'

run $sm workflow plan flaky.yaml --rerun-of nosuchrun
check "an unknown run is an error" exit_is 1
run $sm workflow plan flaky.yaml --failed
check "--failed without --rerun-of is a usage error" exit_is 2
check "  saying so" err_has "need --rerun-of RUN"
run $sm workflow plan flaky.yaml --rerun-of "$r1" --failed --from build
check "--failed with --from is a usage error" exit_is 2
run $sm workflow plan flaky.yaml --rerun-of "$r1" --no-overrides
check "--rerun-of with --no-overrides is a usage error" exit_is 2
run $sm workflow validate flaky.yaml --rerun-of "$r1"
check "validate has no --rerun-of" exit_is 2
run $sm workflow plan --help
check "--help documents --rerun-of" out_has "--rerun-of RUN"

done_testing
