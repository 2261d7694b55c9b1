#!/bin/sh
# The errors a new user meets: failures that cannot change on retry are not
# retried, event times read as dates, a failed run ends with a summary,
# typos of keys are errors, runners are checked before a run, YAML syntax
# errors show their line, one mistake gives one error, the command line
# suggests the nearest command and option, durations are in milliseconds
# and a timed-out stage ran at least its timeout.
. "$(dirname "$0")/lib.sh"
cd "$TMP" || exit 1
export NO_COLOR=1
q() { sqlite3 "$SKILLMEAT_HOME/workflow-runs.db" "$1"; }
last_run() { q "SELECT id FROM runs ORDER BY created_at DESC LIMIT 1"; }
ev() { q "SELECT data FROM events WHERE run_id='$(last_run)' AND type='$1' LIMIT 1"; }

# ---- a malformed $SKILLMEAT_OUTPUT is not retried --------------------------------------------
cat >badout.yaml <<'Y'
workflow: {id: badout, name: Bad output}
stages:
  - id: a
    name: A
    type: command
    run: 'echo "not a key value line" >> "$SKILLMEAT_OUTPUT"'
    error_policy: {retry: {max_attempts: 3, initial_interval: 30s}}
Y
start=$(date +%s)
run $sm workflow run badout.yaml
check "bad output: the run fails" exit_is 1
check "bad output: one attempt, no 30 s backoff" test "$(q "SELECT attempt FROM stages WHERE run_id='$(last_run)'")" = 1
check "bad output: quickly" test $(($(date +%s) - start)) -lt 10
check "bad output: class output_invalid" test "$(q "SELECT error_class FROM stages WHERE run_id='$(last_run)'")" = output_invalid
check "will_retry false: no retry_at" sh -c "! echo '$(ev stage_failed)' | grep -q retry_at"
check "a failed run ends with a summary" err_has "Run $(last_run) failed at stage 'a' (output_invalid)"
check "the summary says what to do" err_has "check what it wrote to \$SKILLMEAT_OUTPUT"
check "the summary names the log command" err_has "skillmeat workflow logs $(last_run) a"

# ---- dates, not epoch numbers; a summary after retries ------------------------------------------
cat >flaky.yaml <<'Y'
workflow: {id: flaky, name: Flaky}
stages:
  - id: g
    name: G
    type: gate
    gate: {timeout: 1s, on_timeout: auto_approve}
  - id: a
    name: A
    type: command
    depends_on: [g]
    run: 'echo boom >&2; exit 3'
    error_policy: {retry: {max_attempts: 2, initial_interval: 1s}}
Y
run $sm workflow run flaky.yaml
check "flaky: fails" exit_is 1
check "retry_at is a date" sh -c "echo '$(ev stage_failed)' | grep -Eq '\"retry_at\":\"20[0-9]{2}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z\"'"
check "a gate's timeout_at is a date" sh -c "echo '$(ev stage_waiting_for_approval)' | grep -Eq '\"timeout_at\":\"20[0-9-]{8}T[0-9:]{8}Z\"'"
check "summary after retries" err_has "failed at stage 'a' (exit_3, after retries): the command exited with status 3"
check "durations are in milliseconds" \
	python3 -c "import json,sys; d=json.loads(sys.argv[1])['duration_seconds']; sys.exit(0 if round(d, 3) == d else 1)" "$(ev stage_failed)"

# ---- a timed-out stage ran at least its timeout -----------------------------------------------
cat >slow.yaml <<'Y'
workflow: {id: slow, name: Slow}
stages:
  - id: s
    name: S
    type: command
    run: 'sleep 30'
    error_policy: {timeout: 2s, retry: {max_attempts: 1}}
Y
for i in 1 2 3; do
	run $sm workflow run slow.yaml
	check "timeout $i: class timeout" test "$(q "SELECT error_class FROM stages WHERE run_id='$(last_run)'")" = timeout
	check "timeout $i: duration at least the timeout, at most a turn more ($(ev stage_failed))" \
		python3 -c "import json,sys; d=json.loads(sys.argv[1])['duration_seconds']; sys.exit(0 if 2.0 <= d < 3.2 else 1)" "$(ev stage_failed)"
done

# ---- a typo of a key is an error; another unknown key a warning ------------------------------------
cat >typo.yaml <<'Y'
workflow: {id: typo, name: Typo}
stages:
  - {id: a, name: A, type: command, run: "true"}
  - id: b
    name: B
    type: command
    run: "true"
    dependson: [a]
Y
run $sm workflow validate typo.yaml
check "typo: invalid" exit_is 1
check "typo: did you mean" err_has "unknown key 'dependson' in a stage; did you mean 'depends_on'?"
sed 's/dependson/colour/' typo.yaml >far.yaml
run $sm workflow validate far.yaml
check "a far unknown key: still valid" exit_is 0
check "a far unknown key: a warning" err_has "warning: [schema] stage 'b' field 'colour': unknown key 'colour'"

# ---- one mistake, one error ----------------------------------------------------------------------
one_error() { # FILE TEXT
	run $sm workflow validate "$1"
	exit_is 1 && out_has "invalid: 1 error" && err_has "$2"
}
printf 'workflow: {id: t, name: T}\nstages:\n  - id: a\n    name: A\n    type: comand\n    run: echo hi\n' >t1.yaml
check "type: comand gives only the suggestion" one_error t1.yaml "did you mean 'command'?"
printf 'workflow: {id: t, name: T}\nstages:\n  - id: a\n    name: A\n    type: command\n    run: true\n' >t2.yaml
check "run: true gives only 'quote it'" one_error t2.yaml 'quote it: "true"'
printf 'workflow: {id: t, name: T}\nstages:\n  - id: a\n    name: A\n    type: command\n    rnu: echo x\n' >t3.yaml
check "rnu: gives only the typo" one_error t3.yaml "did you mean 'run'?"
printf 'workflow: {id: t, name: T}\nstages:\n  - id: a\n    name: A\n    run: echo\n    roles: {primary: {artifact: "agent:x"}}\n' >t4.yaml
run $sm workflow validate t4.yaml
check "an agent, not a agent" err_has "it is ignored on an agent stage"

# ---- YAML syntax errors show their line -------------------------------------------------------------
printf 'workflow: {id: y, name: Y}\nstages:\n  - id: a\n    name: A\n   type: command\n' >y1.yaml
run $sm workflow validate y1.yaml
check "syntax error: located" err_has "y1.yaml:5:4: error: [parse] YAML syntax error"
check "syntax error: the source line" err_has "5 |    type: command"
check "syntax error: a caret" grep -qx '        |    ^' "$TMP/err"
check "syntax error: an indentation hint" err_has "hint: check the indentation"
printf 'workflow: {id: y, name: Y}\nstages:\n\t- id: a\n' >y2.yaml
run $sm workflow validate y2.yaml
check "a tab: said so" err_has "tab character may not be used as indentation"
printf 'workflow: {id: y, name: Y}\nstages:\n  - id: a\n    name: "A\n' >y3.yaml
run $sm workflow validate y3.yaml
check "an open quote: its line, no indentation hint" sh -c "grep -q '4 |     name: \"A' '$TMP/err' && ! grep -q hint '$TMP/err'"

# ---- runners are checked before a run ------------------------------------------------------------------
printf 'workflow: {id: r, name: R}\nstages:\n  - id: a\n    name: A\n    roles: {primary: {artifact: "agent:x", runner: cluade}}\n' >r.yaml
run $sm workflow validate r.yaml
check "unknown runner: invalid" exit_is 1
check "unknown runner: located, with a suggestion" err_has "r.yaml:5:52: error: [runner] stage 'a' field 'roles.primary.runner': no runner named 'cluade'"
check "unknown runner: did you mean" err_has "did you mean 'claude'?"
run $sm workflow plan r.yaml
check "plan checks runners too" exit_is 1
mkdir -p "$SKILLMEAT_HOME"
printf '[runners.cluade]\ncommand = ["my-agent"]\nprotocol = "claude"\n' >"$SKILLMEAT_HOME/config.toml"
run $sm workflow validate r.yaml
check "a runner of config.toml is known" exit_is 0
rm "$SKILLMEAT_HOME/config.toml"

# ---- without a collection, plan says so plainly ------------------------------------------------------------
printf 'workflow: {id: p, name: P}\nstages:\n  - id: a\n    name: A\n    roles: {primary: {artifact: "agent:x"}}\n' >p.yaml
run $sm workflow plan p.yaml
check "no collection: the unchecked artifacts named" out_has "Collection: none, so the 1 artifact it names was not checked (agent:x); \`skillmeat init\` creates a collection"

# ---- the command line suggests -------------------------------------------------------------------------------
run $sm workflow rnu x.yaml
check "workflow rnu: usage error" exit_is 2
check "workflow rnu: did you mean run" err_has "unknown command 'rnu'; did you mean 'run'?"
run $sm workflow run --parm a=b badout.yaml
check "--parm: did you mean --param" err_has "unknown or misplaced option '--parm'; did you mean '--param'?"
run $sm wrkflow
check "wrkflow: did you mean workflow" err_has "did you mean 'workflow'?"
run $sm workflow plan --allow-mising p.yaml
check "--allow-mising: did you mean" err_has "did you mean '--allow-missing'?"
done_testing
