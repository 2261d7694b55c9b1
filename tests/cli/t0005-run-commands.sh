#!/bin/sh
# workflow run with command stages: outputs handed on, conditions, retries,
# on_failure policies, timeouts that kill grandchildren, gates approved and
# rejected from another process, cancel, and the run records.
. "$(dirname "$0")/lib.sh"
cd "$TMP" || exit 1
export NO_COLOR=1
q() { sqlite3 "$SKILLMEAT_HOME/workflow-runs.db" "$1"; }

cat >pipe.yaml <<'Y'
workflow: {id: pipe, name: Pipe}
config:
  parameters:
    n: {type: integer, default: 2}
  env: {GREETING: "hi ${{ parameters.n }}"}
stages:
  - id: a
    name: A
    type: command
    run: |
      echo "line from a: $GREETING"
      echo "count=$(( N * 10 ))" >> "$SKILLMEAT_OUTPUT"
      printf 'note<<EOF\nfirst\nsecond\nEOF\n' >> "$SKILLMEAT_OUTPUT"
    env: {N: "${{ parameters.n }}"}
    outputs: {count: {type: string}, note: {type: string}}
  - id: b
    name: B
    type: command
    depends_on: [a]
    run: |
      echo "got=$C" >> "$SKILLMEAT_OUTPUT"
      cp "$SKILLMEAT_INPUTS" inputs-seen.json
    env: {C: "${{ stages.a.outputs.count }}"}
    inputs:
      note: {type: string, source: "${{ stages.a.outputs.note }}"}
    outputs: {got: {type: string}}
  - id: never
    name: Never
    type: command
    depends_on: [b]
    condition: "${{ stages.b.outputs.got == 'x' }}"
    run: echo no > never-ran
Y
run $sm workflow run pipe.yaml -p n=3
check "run exits 0 when completed" exit_is 0
check "plain lines carry stage logs" err_has "a | line from a: hi 3"
check "the run completes" err_has "run_completed"
run $sm workflow runs last --format json
check "runs RUN is JSON" out_is_json
check "key=value output" json_eq 'j["stages"][0]["outputs"]["count"] == "30"'
check "multi-line output" json_eq 'j["stages"][0]["outputs"]["note"] == "first\nsecond"'
check "env from an earlier stage's output" json_eq 'j["stages"][1]["outputs"]["got"] == "30"'
check "inputs resolved into \$SKILLMEAT_INPUTS" python3 -c 'import json; assert json.load(open("inputs-seen.json"))["note"] == "first\nsecond"'
check "false condition skips" json_eq 'j["stages"][2]["status"] == "skipped"'
check "the skipped stage never ran" test ! -e never-ran
check "integrity" test "$(q 'PRAGMA integrity_check')" = ok
check "event seq is dense" test "$(q "SELECT count(*) = max(seq) + 1 FROM events")" = 1

# Retries: fail twice, then succeed; backoff 1s.
cat >retry.yaml <<'Y'
workflow: {id: retry, name: Retry}
stages:
  - id: flaky
    name: Flaky
    type: command
    run: |
      n=$(cat tries 2>/dev/null || echo 0); n=$((n + 1)); echo $n > tries
      [ $n -ge 3 ]
    error_policy:
      retry: {max_attempts: 3, initial_interval: 1s, max_interval: 1s}
Y
run $sm workflow run retry.yaml
check "retried to success" exit_is 0
check "three attempts" test "$(cat tries)" = 3
check "attempts recorded" test "$(q "SELECT group_concat(status) FROM attempts WHERE stage_id='flaky'")" = "failed,failed,completed"

# non_retryable_errors and on_failure: continue / skip_dependents / halt.
cat >fail.yaml <<'Y'
workflow: {id: fail, name: Fail}
stages:
  - id: bad
    name: Bad
    type: command
    run: exit 7
    error_policy:
      on_failure: skip_dependents
      retry: {max_attempts: 3, initial_interval: 1s, non_retryable_errors: [exit_7]}
  - id: child
    name: Child
    type: command
    depends_on: [bad]
    run: touch child-ran
  - id: grandchild
    name: Grandchild
    type: command
    depends_on: [child]
    run: touch grandchild-ran
  - id: soft
    name: Soft
    type: command
    run: exit 1
    error_policy: {on_failure: continue, retry: {max_attempts: 1}}
  - id: after-soft
    name: After soft
    type: command
    depends_on: [soft]
    run: touch after-soft-ran
Y
run $sm workflow run fail.yaml
check "a failed stage fails the run" exit_is 1
check "non-retryable class: one attempt" test "$(q "SELECT count(*) FROM attempts WHERE stage_id='bad'")" = 1
check "error class recorded" test "$(q "SELECT error_class FROM stages WHERE stage_id='bad'")" = exit_7
check "skip_dependents skips transitively" test ! -e child-ran -a ! -e grandchild-ran
check "continue lets dependents run" test -e after-soft-ran

# A timeout kills the whole process group, grandchildren included.
cat >slow.yaml <<'Y'
workflow: {id: slow, name: Slow}
stages:
  - id: slow
    name: Slow
    type: command
    run: |
      sh -c 'echo $$ > grandchild.pid; sleep 300' &
      sleep 300
    error_policy: {timeout: 1s, retry: {max_attempts: 1}}
Y
run $sm workflow run slow.yaml
check "timeout fails the run" exit_is 1
check "timeout class" test "$(q "SELECT error_class FROM stages WHERE stage_id='slow'")" = timeout
gc=$(cat grandchild.pid)
sleep 0.2
# Gone, or a zombie waiting for init to reap it.
check "the grandchild is gone" sh -c "test -n '$gc' && { test ! -e /proc/$gc || grep -q ') Z' /proc/$gc/stat; }"

# Gates: approve from another process; reject fails the gate.
cat >gate.yaml <<'Y'
workflow: {id: gate, name: Gate}
stages:
  - id: ask
    name: Ask
    type: gate
    gate: {message: "Ship ${{ workflow.name }}?", timeout: 1m}
  - id: ship
    name: Ship
    type: command
    depends_on: [ask]
    run: touch shipped
Y
$sm workflow run gate.yaml >gate.out 2>&1 &
host=$!
wait_for "SELECT count(*) FROM stages WHERE status='waiting_for_approval'"
check "waiting gate's message is interpolated" sh -c "grep -q 'Ship Gate?' gate.out"
run $sm workflow approve last --yes
check "approve posts to the live host" out_has "sent to its host"
wait $host
check "approved run completes" test $? -eq 0 -a -e shipped
rm -f shipped
$sm workflow run gate.yaml >gate.out 2>&1 &
host=$!
wait_for "SELECT count(*) FROM stages WHERE status='waiting_for_approval'"
run $sm workflow reject last ask --reason "not today" --yes
wait $host
check "rejected run fails" test $? -eq 1 -a ! -e shipped
check "rejection reason kept" test "$(q "SELECT error FROM stages WHERE stage_id='ask' AND status='failed'")" = "not today"
run $sm workflow approve last
check "approve on an ended run fails" exit_is 1

# Cancel from another process stops the running stage.
cat >long.yaml <<'Y'
workflow: {id: long, name: Long}
stages:
  - id: wait
    name: Wait
    type: command
    run: sleep 300
Y
$sm workflow run long.yaml >long.out 2>&1 &
host=$!
wait_for "SELECT count(*) FROM stages WHERE run_id=(SELECT id FROM runs ORDER BY created_at DESC LIMIT 1) AND status='running'"
run $sm workflow cancel last --yes
wait $host
check "cancelled run exits 3" test $? -eq 3
run $sm workflow runs last
check "runs RUN of a cancelled run exits 1" exit_is 1
check "shows cancelled" out_has "(cancelled)"

# Logs and listing.
run $sm workflow logs "$(q "SELECT id FROM runs WHERE workflow_id='pipe'")" a
check "logs of one stage" out_has "a#1 | line from a: hi 3"
run $sm workflow runs --workflow pipe --format json
check "runs filtered by workflow" json_eq 'len(j) == 1 and j[0]["status"] == "completed"'
run $sm workflow runs nosuchrun
check "unknown run" exit_is 1
check "unknown run message" err_has "no run 'nosuchrun'"
run $sm workflow run pipe.yaml --dry-run
check "dry run exits 0" exit_is 0
check "dry run names runners" out_has "Runners:"
run $sm workflow run pipe.yaml -j 0
check "bad -j is a usage error" exit_is 2
done_testing
