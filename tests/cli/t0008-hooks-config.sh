#!/bin/sh
# Hooks (run: with shell-quoted values, notify: through the notifier of
# config.toml), failing hooks that do not fail the run, and config.toml
# errors named by file, line and column.
. "$(dirname "$0")/lib.sh"
cd "$TMP" || exit 1
export NO_COLOR=1
q() { sqlite3 "$SKILLMEAT_HOME/workflow-runs.db" "$1"; }
mkdir -p "$SKILLMEAT_HOME"

cat >hooks.yaml <<'Y'
workflow: {id: hooks, name: Hooks}
config:
  parameters:
    who: {type: string, default: "x'; touch pwned; echo '"}
    fail: {type: boolean, default: false}
hooks:
  on_start: {run: "echo start ${{ parameters.who }} >> hooks.log"}
  on_complete:
    run: "echo done ${{ stages.a.outputs.v }} >> hooks.log; exit 3"
    notify: "finished ${{ workflow.name }} with ${{ stages.a.outputs.v }}"
  on_failure: {run: "echo failed ${{ stages.a.status }} >> hooks.log", notify: "failed"}
stages:
  - id: a
    name: A
    type: command
    run: |
      [ "$FAIL" = false ] || exit 1
      echo v=42 >> "$SKILLMEAT_OUTPUT"
    env: {FAIL: "${{ parameters.fail }}"}
    outputs: {v: {type: string, required: false}}
    error_policy: {retry: {max_attempts: 1}}
Y

cat >"$SKILLMEAT_HOME/config.toml" <<'T'
notify = ["sh", "-c", "printf '%s\n' \"$1\" >> notified.log", "notifier"]
T
run $sm workflow run hooks.yaml
check "run completes although a hook fails" exit_is 0
check "on_start ran, value quoted" grep -qxF "start x'; touch pwned; echo '" hooks.log
check "no shell injection" test ! -e pwned
check "on_complete saw outputs" grep -qxF "done 42" hooks.log
check "notifier got the message" grep -qxF "finished Hooks with 42" notified.log
check "failing hook is an event" test "$(q "SELECT count(*) FROM events WHERE type='hook_failed' AND json_extract(data, '$.exit_code') = 3")" = 1
check "hooks recorded" test "$(q "SELECT count(*) FROM events WHERE type='hook_ran'")" = 2

# The notifier as a shell command: the message is $1.
printf '%s\n' 'notify = "echo \"[$1]\" >> notified2.log"' >"$SKILLMEAT_HOME/config.toml"
run $sm workflow run hooks.yaml -p fail=true
check "failed run exits 1" exit_is 1
check "on_failure ran" grep -qxF "failed failed" hooks.log
check "string notifier" grep -qxF "[failed]" notified2.log

# Without a notifier, notify: is skipped and the run is unaffected.
rm "$SKILLMEAT_HOME/config.toml"
run $sm workflow run hooks.yaml
check "no notifier: still completes" exit_is 0

# Bad config: named by file, line and column; nothing runs.
printf 'notify = 3\n' >"$SKILLMEAT_HOME/config.toml"
run $sm workflow run hooks.yaml
check "bad notify refused" exit_is 1
check "bad notify located" err_has "config.toml:1:10: notify must be a command string or a non-empty list of strings"
printf 'notify = []\n' >"$SKILLMEAT_HOME/config.toml"
run $sm workflow run hooks.yaml
check "empty notify refused" err_has "notify must be"
printf '[runners]\nx = 1\n' >"$SKILLMEAT_HOME/config.toml"
run $sm workflow run hooks.yaml
check "bad runner table located" err_has "config.toml:2:5: runners.x must be a table"
printf 'notify = "unterminated\n' >"$SKILLMEAT_HOME/config.toml"
run $sm workflow run hooks.yaml
check "TOML syntax error located" err_has "config.toml:1:"
runs_before=$(q "SELECT count(*) FROM runs")
run $sm workflow resume last
check "resume with bad config refused" exit_is 1
check "no run was created by the refused starts" test "$(q "SELECT count(*) FROM runs")" = "$runs_before"
done_testing
