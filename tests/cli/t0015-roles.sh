#!/bin/sh
# Named roles bound at run time: precedence (--bind, the overrides file's
# workflow block, its top-level roles, the default), every error, the
# plan's display of each binding, the run's record of them, the agent
# that really ran, context preview, and the API's plan and start bodies.
. "$(dirname "$0")/lib.sh"
fakes=$(cd "$(dirname "$0")/../fake-agents" && pwd)
cd "$TMP" || exit 1
export NO_COLOR=1
mkdir bin proj
ln -s "$fakes/fake-claude" bin/claude
export PATH="$TMP/bin:$PATH"
export FAKE_AGENT_LOG="$TMP/agent.log"

cat >proj/roles.yaml <<'Y'
workflow: {id: rw, name: Roles}
roles:
  reviewer: {description: "Reviews the change", default: "agent:reviewer", accepts: [agent]}
  coder: {description: "Writes the code", accepts: [agent]}
stages:
  - id: code
    name: Code
    roles: {primary: {artifact: "${{ roles.coder }}", instructions: "You are ${{ roles.coder }}."}}
  - id: review
    name: Review
    depends_on: [code]
    roles: {primary: {artifact: "${{ roles.reviewer }}"}}
  - id: review-2
    name: Second review
    depends_on: [code]
    roles: {primary: {artifact: "${{ roles.reviewer }}"}}
Y
cd proj || exit 1
role_of() { # stage field of the plan JSON in out
	python3 -c 'import json,sys; j=json.load(open(sys.argv[1]))
for b in j["batches"]:
    for s in b["stages"]:
        if s["stage_id"] == sys.argv[2]: print(s["role"][sys.argv[3]] or "")' "$TMP/out" "$1" "$2"
}

# ---- unbound, validate ----
run $sm workflow validate roles.yaml
check "validate does not need bindings" exit_is 0
run $sm workflow plan roles.yaml
check "unbound role: plan fails" exit_is 1
check "unbound: names the role" err_has "role 'coder' is not bound and has no default"
check "unbound: names the stages that use it" err_has "(used by code)"
check "unbound: says the three ways" err_has "--bind coder=agent:NAME, in .skillmeat-workflow-overrides.toml ([roles] coder = \"agent:NAME\"), or give it a default"
check "unbound: located at the declaration" err_has "roles.yaml:4:3:"

# ---- precedence ----
run $sm workflow plan roles.yaml --bind coder=agent:coder-a --format json
check "--bind: plans" exit_is 0
check "--bind: the stage's artifact" json_eq 'j["batches"][0]["stages"][0]["primary_artifact"] == "agent:coder-a"'
check "--bind: source" test "$(role_of code source)" = --bind
check "default: source" test "$(role_of review source)" = default
check "default: artifact" test "$(role_of review artifact)" = agent:reviewer
check "both users of a role get it" json_eq '[s["primary_artifact"] for s in j["batches"][1]["stages"]] == ["agent:reviewer"] * 2'
cat >.skillmeat-workflow-overrides.toml <<'T'
[roles]
coder = "agent:coder-project"
reviewer = "agent:reviewer-project"
someone-else = "agent:for-another-workflow"

[overrides.rw.roles]
coder = "agent:coder-workflow"
T
run $sm workflow plan roles.yaml --format json
check "overrides file: plans" exit_is 0
check "workflow block beats top-level roles" test "$(role_of code artifact)" = agent:coder-workflow
check "top-level roles beat the default" test "$(role_of review artifact)" = agent:reviewer-project
check "overrides: source and file" test "$(role_of code source) $(role_of code file)" = "overrides $TMP/proj/.skillmeat-workflow-overrides.toml"
run $sm workflow plan roles.yaml --bind coder=agent:coder-a --format json
check "--bind beats the overrides file" test "$(role_of code artifact)" = agent:coder-a
run $sm workflow plan roles.yaml --bind coder=agent:coder-a
check "text plan: roles section" out_has "  coder = agent:coder-a  (--bind)"
check "text plan: file source" out_has "  reviewer = agent:reviewer-project  (overrides file $TMP/proj/.skillmeat-workflow-overrides.toml)"
check "text plan: stage line" out_has "Agent: agent:coder-a  [role coder, from --bind]"
run $sm workflow plan roles.yaml --no-overrides --bind coder=agent:c
check "--no-overrides: the default again" out_has "reviewer = agent:reviewer  (default)"
rm .skillmeat-workflow-overrides.toml
cat >.skillmeat-workflow-overrides.yaml <<'T'
overrides:
  rw:
    roles: {coder: "agent:yaml-coder", nobody: "agent:x"}
T
run $sm workflow plan roles.yaml
check "YAML form: unknown role in the workflow block is an error" err_has "binds role 'nobody', which the workflow does not declare"
check "YAML form: located in the overrides file" err_has ".skillmeat-workflow-overrides.yaml:3:"
printf 'overrides:\n  rw:\n    roles: {coder: "skill:oops"}\n' >.skillmeat-workflow-overrides.yaml
run $sm workflow plan roles.yaml
check "overrides: a type the role does not accept" err_has "role 'coder' accepts agent artifacts; 'skill:oops'"
rm .skillmeat-workflow-overrides.yaml

# ---- bad bindings ----
run $sm workflow plan roles.yaml --bind codr=agent:x --bind coder=agent:c
check "unknown role: fails" exit_is 1
check "unknown role: suggestion" err_has "--bind binds role 'codr', which the workflow does not declare; did you mean 'coder'?"
run $sm workflow plan roles.yaml --bind coder=skill:x
check "not accepted: message" err_has "role 'coder' accepts agent artifacts; 'skill:x' (from --bind) is a skill"
run $sm workflow plan roles.yaml --bind coder=x
check "not TYPE:NAME" err_has "expected TYPE:NAME"
run $sm workflow plan roles.yaml --bind coder
check "no = : usage error" exit_is 2
check "no = : says the form" err_has "expected NAME=TYPE:ARTIFACT"
run $sm workflow plan roles.yaml --bind coder=agent:a --bind coder=agent:b
check "bound twice: usage error" exit_is 2

# ---- with a collection: the artifact must exist ----
run $sm init
C="$SKILLMEAT_HOME/collections/default"
mkdir -p "$C/agents"
printf -- '---\nname: writer\n---\nYou write code carefully.\n' >"$C/agents/writer.md"
printf -- '---\nname: reviewer\n---\nYou review with care.\n' >"$C/agents/reviewer.md"
run $sm workflow plan roles.yaml --bind coder=agent:ghost
check "missing artifact: fails" exit_is 1
check "missing artifact: named" err_has "agent:ghost"
run $sm workflow plan roles.yaml --bind coder=agent:ghost --allow-missing
check "--allow-missing: plans" exit_is 0

# ---- a real run: the bound agent is the one that runs ----
run $sm workflow run roles.yaml --bind coder=agent:writer
check "run with --bind completes" exit_is 0
run_id=$(sqlite3 "$SKILLMEAT_HOME/workflow-runs.db" "SELECT id FROM runs ORDER BY created_at DESC LIMIT 1")
check "the bound agent's body is the system prompt" grep -q "You write code carefully." "$SKILLMEAT_HOME/runs/$run_id/code/1/system-prompt.md"
check "the default's body for the other role" grep -q "You review with care." "$SKILLMEAT_HOME/runs/$run_id/review-2/1/system-prompt.md"
check "instructions see the binding" grep -q 'You are agent:writer.' "$TMP/agent.log"
run $sm workflow runs "$run_id"
check "runs RUN shows the bindings" out_has "roles: coder = agent:writer (--bind), reviewer = agent:reviewer (default)"
check "manifest records them" test "$(sqlite3 "$SKILLMEAT_HOME/workflow-runs.db" "SELECT json_extract(manifest, '\$.bindings.coder.source') FROM runs WHERE id='$run_id'")" = --bind
check "snapshot records them" test "$(sqlite3 "$SKILLMEAT_HOME/workflow-runs.db" "SELECT json_extract(snapshot, '\$.bindings.coder.artifact') FROM runs WHERE id='$run_id'")" = agent:writer
run $sm workflow run roles.yaml
check "run without a binding: refused" exit_is 1
check "run: the same message" err_has "role 'coder' is not bound"
run $sm context preview roles.yaml --bind coder=agent:writer
check "context preview takes --bind" exit_is 0
run $sm context preview roles.yaml
check "context preview: unbound is an error" err_has "role 'coder' is not bound"

# ---- the API: bindings in plan and start ----
run $sm workflow create roles.yaml
web_start
web_api POST /workflows/rw/plan '{"bindings": {"coder": "agent:writer"}}'
check "API plan with bindings" json_eq '[r for r in j["roles"] if r["name"] == "coder"][0]["source"] == "request"'
code=$(web_api POST /workflows/rw/plan '{}'; curl -s -o /dev/null -w '%{http_code}' -X POST -H "Authorization: Bearer $T" -H 'Content-Type: application/json' --data-binary '{}' "http://127.0.0.1:$P/api/v1/workflows/rw/plan")
check "API plan unbound: 422" test "$code" = 422
check "API plan unbound: names the role" out_has "role 'coder' is not bound"
web_api POST /workflow-executions '{"workflow_id": "rw", "bindings": {"coder": 3}}'
check "API start: a binding must be a string" out_has "bindings.coder must be"
web_api POST /workflow-executions '{"workflow_id": "rw", "bindings": {"coder": "skill:x"}}'
check "API start: a refused binding says why" out_has "accepts agent artifacts"
web_api POST /workflow-executions '{"workflow_id": "rw", "bindings": {"coder": "agent:writer"}}'
api_run=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "$TMP/out")
check "API start with bindings: started" test -n "$api_run"
wait_for "SELECT status = 'completed' FROM runs WHERE id = '$api_run'"
check "API run completed" test "$(sqlite3 "$SKILLMEAT_HOME/workflow-runs.db" "SELECT status FROM runs WHERE id='$api_run'")" = completed
web_api GET "/workflow-executions/$api_run" ''
check "API run details: the bindings" json_eq 'j["manifest"]["bindings"]["coder"] == {"artifact": "agent:writer", "source": "request"}'
kill "$web" 2>/dev/null
wait "$web" 2>/dev/null
done_testing
