#!/bin/sh
# The product document's own example (its section 3.1, byte for byte), the
# seed's short form, `workflow convert`, and upstream's API endpoints and CLI
# flags over a real socket and the real CLI.
. "$(dirname "$0")/lib.sh"
fakes=$(cd "$(dirname "$0")/../fake-agents" && pwd)
seed=$(cd "$(dirname "$0")/../swdl/valid/seed-example" && pwd)/workflow.json
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$TMP" || exit 1
export NO_COLOR=1
mkdir bin
ln -s "$fakes/fake-claude" bin/claude
export PATH="$TMP/bin:$PATH"
export FAKE_AGENT_LOG="$TMP/agent.log"
q() { sqlite3 "$SKILLMEAT_HOME/workflow-runs.db" "$1"; }

# ---- the seed's example, as the document prints it --------------------------------
cp "$seed" seed.json
check "the example is the document's, byte for byte" sh -c \
	"sed -n '/^\`\`\`json\$/,/^\`\`\`\$/p' '$root/../shared/seed/workflow-orchestration-prd.md' | sed '1d;\$d' | cmp -s - seed.json || ! test -f '$root/../shared/seed/workflow-orchestration-prd.md'"
run $sm workflow validate seed.json
check "seed example: valid, no warnings" out_has "seed.json: valid (0 warnings)"
run $sm workflow plan seed.json --format json
check "seed plan: two batches in written order" json_eq '[[s["stage_id"] for s in b["stages"]] for b in j["batches"]] == [["research"], ["implementation"]]'
check "seed plan: said to be the written order" json_eq 'j["stage_order"] == "written"'
check "seed plan: the context module kept" json_eq 'j["batches"][0]["stages"][0]["context_modules"] == ["ctx:repo-rules"]'
check "seed plan: the skill kept as a tool" json_eq 'j["batches"][1]["stages"][0]["tools"] == ["skill:git-ops"]'
check "seed plan: agents" json_eq '[b["stages"][0]["primary_artifact"] for b in j["batches"]] == ["agent:researcher-v1", "agent:coder-v2"]'
run $sm workflow plan seed.json
check "seed plan text: says why the order" out_has "Stages run one after another in the order written"
# the document's section 3.2: a project's TOML overrides swap an agent, in the short spelling
mkdir proj
printf '[overrides.sdlc-feature-ship.stages.implementation.roles]\nprimary = "agent:my-coder"\n' \
	>proj/.skillmeat-workflow-overrides.toml
run $sm workflow plan seed.json --overrides-dir proj --format json
check "overrides in the short spelling swap the agent" json_eq '[b["stages"][0]["primary_artifact"] for b in j["batches"]] == ["agent:researcher-v1", "agent:my-coder"] and j["batches"][1]["stages"][0]["tools"] == ["skill:git-ops"]'

# A collection with the example's artifacts: checked, and the module reaches the prompt.
run $sm init
C=$SKILLMEAT_HOME/collections/default
mkdir -p "$C/agents" "$C/context" "$C/skills/git-ops"
printf -- '---\nname: researcher-v1\n---\nYou research.\n' >"$C/agents/researcher-v1.md"
printf -- '---\nname: coder-v2\n---\nYou code.\n' >"$C/agents/coder-v2.md"
printf -- '---\nname: git-ops\ndescription: Git operations\n---\nUse git.\n' >"$C/skills/git-ops/SKILL.md"
printf -- '---\ndescription: Repo rules\n---\nKeep commits small.\n' >"$C/context/repo-rules.md"
run $sm workflow plan seed.json --format json
check "seed plan: every artifact found" json_eq 'j["collection"]["missing_count"] == 0'
FAKE_CLAUDE_OUTPUTS='{}' run $sm workflow run seed.json
check "seed run with the fake claude: completes" exit_is 0
rid=$(q "SELECT id FROM runs ORDER BY created_at DESC LIMIT 1")
check "seed run: both stages completed" test "$(q "SELECT group_concat(stage_id || '=' || status, ',') FROM (SELECT * FROM stages WHERE run_id='$rid' ORDER BY stage_id)")" = "implementation=completed,research=completed"
check "seed run: implementation started after research ended" test "$(q "SELECT (SELECT started_at FROM stages WHERE run_id='$rid' AND stage_id='implementation') >= (SELECT finished_at FROM stages WHERE run_id='$rid' AND stage_id='research')")" = 1
check "seed run: the module's text is in research's prompt" python3 -c 'import json,sys; p=[json.loads(l)["prompt"] for l in open("agent.log")]; sys.exit(0 if "Keep commits small." in p[0] and "Keep commits small." not in p[1] else 1)'

# ---- convert ---------------------------------------------------------------------------
run $sm workflow convert seed.json
check "convert: exit 0" exit_is 0
cp "$TMP/out" canon.yaml
check "convert: the canonical form" sh -c 'grep -q "^workflow:" canon.yaml && grep -q "artifact: \"agent:researcher-v1\"" canon.yaml && grep -q "^  depends_on:" canon.yaml && ! grep -q workflow_id canon.yaml'
run $sm workflow validate canon.yaml
check "convert: the result is valid" exit_is 0
$sm workflow plan seed.json --format json >p1.json
$sm workflow plan canon.yaml --format json >p2.json
check "convert: plans the same batches, agents, tools and modules" python3 -c '
import json,sys
a, b = (json.load(open(f)) for f in ("p1.json", "p2.json"))
key = lambda p: [[(s["stage_id"], s["name"], s["primary_artifact"], s["tools"], s["context_modules"], s["depends_on"]) for s in x["stages"]] for x in p["batches"]]
sys.exit(0 if key(a) == key(b) and a["workflow_id"] == b["workflow_id"] else 1)'
run $sm workflow convert canon.yaml
check "convert: converting the canonical form changes nothing" cmp -s "$TMP/out" canon.yaml
run $sm workflow convert seed.json --to json
check "convert --to json: one JSON document" out_is_json
cp "$TMP/out" canon.json
run $sm workflow convert canon.json --to json
check "convert --to json: round-trips" cmp -s "$TMP/out" canon.json
cat >short.yaml <<'Y'
# Ship a feature (the short form)
workflow_id: ship
config:
  parameters:
    quick: {type: boolean, default: off}   # YAML 1.1: false
stages:
  - id: research   # first
    roles: {primary: "agent:researcher-v1"}
    context_policy: {modules: ["ctx:repo-rules"], max_tokens: 800}
  - id: build
    roles: {primary: "agent:coder-v2", tools: ["skill:git-ops"]}
    condition: "${{ !parameters.quick }}"
Y
run $sm workflow convert short.yaml
check "convert: comments kept" sh -c 'grep -q "^# Ship a feature" "$1" && grep -q "id: research  # first" "$1" && grep -q "# YAML 1.1: false" "$1"' sh "$TMP/out"
check "convert: YAML 1.1 value in its 1.2 spelling" out_has "default: false"
check "convert: warns about the 1.1 value" err_has "off means false in YAML 1.1"
check "convert: memory field under context.memory" python3 -c 'import yaml,sys; d=yaml.safe_load(open(sys.argv[1])); sys.exit(0 if d["stages"][0]["context"] == {"modules": ["ctx:repo-rules"], "memory": {"max_tokens": 800}} else 1)' "$TMP/out"
run $sm workflow convert short.yaml --to toml
check "convert: an unknown --to is a usage error" exit_is 2
printf 'workflow_id: x\nworkflow: {id: x, name: X}\n' >both.yaml
run $sm workflow convert both.yaml
check "convert: refuses an invalid workflow" exit_is 1
check "convert: and says why" err_has "both 'workflow' and 'workflow_id'"
# every example converts and reads back as the same workflow
for f in "$root"/examples/*.yaml "$root"/tests/swdl/valid/*/workflow.*; do
	$sm workflow convert "$f" >conv.yaml 2>/dev/null
	$sm workflow show "$f" --format json >pa.json 2>/dev/null
	$sm workflow show conv.yaml --format json >pb.json 2>/dev/null
	check "convert: $(basename "$(dirname "$f")")/$(basename "$f") reads back the same" \
		python3 -c 'import json,sys; a, b = (json.load(open(f)) for f in ("pa.json", "pb.json")); sys.exit(0 if a == b else 1)'
done

# ---- upstream's CLI flags ---------------------------------------------------------------
run $sm workflow create seed.json
check "create takes the short form" out_has "Stored workflow 'sdlc-feature-ship'"
printf 'workflow_id: broken\nstages: [{id: a, roles: {primary: "agent:researcher-v1"}}]\n' >broken.yaml
run $sm workflow create broken.yaml
mkdir -p "$C/workflows/broken"
printf 'workflow_id: broken\nstages: [{id: a}]\n' >"$C/workflows/broken/WORKFLOW.yaml"
run $sm workflow list --status invalid --format json
check "list --status invalid" json_eq '[w["name"] for w in j] == ["broken"]'
run $sm workflow list --status valid --format json
check "list --status valid" json_eq '"sdlc-feature-ship" in [w["name"] for w in j] and "broken" not in [w["name"] for w in j]'
run $sm workflow list --status archived
check "list --status: an unknown status is a usage error" exit_is 2
check "list --status: names the statuses" err_has "valid, invalid or missing"
run $sm workflow runs "$rid" --logs
check "runs --logs: each stage's log lines" sh -c 'grep -q "^  research " "$1" && grep -q "      #1 | Working on it." "$1"' sh "$TMP/out"
run $sm workflow runs "$rid" --logs --format json
check "runs --logs --format json: a logs list per stage" json_eq 'all(any(l["text"].startswith("Working on it.") for l in s["logs"]) for s in j["stages"])'
run $sm workflow runs --logs
check "runs --logs without RUN: usage error" exit_is 2

# ---- one surface -------------------------------------------------------------------------
printf 'workflow_id: odd\nstages: [{id: a, roles: {primary: {artifact: "agent:researcher-v1", runner: nosuch}}}]\n' >odd.yaml
run $sm workflow validate odd.yaml
check "validate refuses an unknown runner" exit_is 1
run $sm workflow create odd.yaml
check "create refuses what validate refuses" exit_is 1
check "create: says why and how to force" err_has "(--force stores it anyway)"
run $sm workflow create odd.yaml --force
check "create --force stores it" exit_is 0
check "create --force: with a warning" err_has "warning: odd.yaml: storing a workflow with 1 error (--force)"
run $sm workflow export seed.json --to argo --format yaml
check "export --format yaml works" sh -c 'grep -q "^kind: ConfigMap" "$1" && grep -q "^kind: Workflow" "$1"' sh "$TMP/out"
run $sm workflow export seed.json --to argo --format json
check "export --format json: one JSON document (a List)" json_eq 'j["kind"] == "List" and [i["kind"] for i in j["items"]] == ["ConfigMap", "Workflow"]'
run $sm workflow export seed.json --to bundle --format yaml
check "export: the bundle in yaml is a usage error" exit_is 2
printf 'workflow: {id: arr, name: Arr}\nconfig:\n  parameters:\n    files: {type: array, default: [a, b]}\nstages: []\n' >arr.yaml
run $sm workflow show arr.yaml
check "show: an array default is shown" out_has 'optional, default ["a","b"]'
cat >fail.yaml <<'Y'
workflow_id: fail
stages:
  - {id: boom, type: command, run: "exit 3", error_policy: {retry: {max_attempts: 1}}}
Y
run $sm workflow run fail.yaml
fid=$(q "SELECT id FROM runs WHERE workflow_id = 'fail'")
run $sm workflow runs "$fid" --format json
check "run error: the stage, its class and message" json_eq 'j["error"] == "stage '"'"'boom'"'"' failed (exit_3): the command exited with status 3" and j["failed_stage_id"] == "boom"'
cat >fanfail.yaml <<'Y'
workflow_id: fanfail
stages:
  - {id: each, type: fan_out, fan_out: {items: "${{ 3 }}"}, run: "true"}
Y
run $sm workflow run fanfail.yaml
check "command fan-out failure: not an agent's" sh -c '! grep -q "the agent reported" "$1" && grep -q "fan_out.items did not give a list" "$1"' sh "$TMP/err"
cat >fanfail2.yaml <<'Y'
workflow_id: fanfail2
stages:
  - {id: each, type: fan_out, fan_out: {items: "${{ fromJSON('[1, 2, 3]') }}", on_item_failure: continue}, run: "exit 4", error_policy: {retry: {max_attempts: 1}}}
Y
run $sm workflow run fanfail2.yaml
check "fan-out of commands failing once each: no 'after retries'" sh -c 'grep -q "failed at stage .each. (exit_4): 3 of 3 items failed" "$1" && ! grep -q "after retries" "$1"' sh "$TMP/err"
cat >gate.yaml <<'Y'
workflow_id: gated
stages:
  - {id: ok, type: gate}
  - {id: after, type: command, run: "true"}
Y
$sm workflow run gate.yaml --detach >/dev/null 2>&1
wait_for "SELECT count(*) = 1 FROM stages WHERE stage_id = 'ok' AND status = 'waiting_for_approval'"
gid=$(q "SELECT id FROM runs WHERE workflow_id = 'gated'")
# The host stopped (SIGSTOP: alive, holding its lease, applying nothing): a decision is
# posted and waits; a second one is refused.  (A host that is gone takes no decision at
# all: t0026.)
ghost=$(q "SELECT host_pid FROM runs WHERE id = '$gid'")
kill -STOP "$ghost"
run $sm workflow reject "$gid" ok --yes
check "reject: recorded" exit_is 0
run $sm workflow reject "$gid" ok --yes
check "a second reject of a decided gate is refused" exit_is 1
check "a second reject: says it is decided" err_has "gate 'ok' of run $gid is already decided (rejected"
kill -CONT "$ghost"
wait_for "SELECT count(*) = 1 FROM runs WHERE id = '$gid' AND status IN ('failed', 'cancelled')"
run $sm workflow runs "$gid" --stage ok
check "a gate's stage view: no 'has not ended'" sh -c '! grep -q "has not ended" "$1" && grep -q "a gate leaves none" "$1"' sh "$TMP/out"

# ---- one JSON style: every command's --format json ---------------------------------------
style=$(cd "$(dirname "$0")" 2>/dev/null && pwd)/json-style.py
[ -f "$style" ] || style="$root/tests/cli/json-style.py"
js() { # LABEL CMD...: the command's stdout is one JSON document in the style
	label=$1
	shift
	"$@" >js.out 2>js.err
	check "json style: $label" python3 "$style" js.out "$label"
}
js "workflow validate" $sm workflow validate seed.json --format json
js "workflow validate (invalid)" $sm workflow validate both.yaml --format json
js "workflow plan" $sm workflow plan seed.json --format json
js "workflow plan (errors)" $sm workflow plan odd.yaml --format json
js "workflow show" $sm workflow show seed.json --format json
js "workflow convert --to json" $sm workflow convert seed.json --to json
js "workflow list" $sm workflow list --format json
js "workflow runs" $sm workflow runs --format json
js "workflow runs RUN" $sm workflow runs "$rid" --format json
js "workflow runs RUN --logs" $sm workflow runs "$rid" --logs --format json
js "workflow runs RUN --stage" $sm workflow runs "$rid" --stage research --format json
js "workflow runs RUN (failed)" $sm workflow runs "$fid" --format json
js "workflow logs" $sm workflow logs "$rid" --format json
js "workflow run" $sm workflow run seed.json --format json
js "workflow export --to argo" $sm workflow export seed.json --to argo --format json
js "workflow export --to bundle" $sm workflow export seed.json --to bundle
js "memory add" $sm memory add "Keep stages small" -t pattern --format json
js "memory list" $sm memory list --format json
mid=$(python3 -c 'import json; print(json.load(open("js.out"))[0]["id"])')
js "memory show" $sm memory show "$mid" --format json
js "memory capture" $sm memory capture --run "$rid" --format json
js "context preview" $sm context preview seed.json --format json
js "pack build" $sm pack build seed.json -o seed.skillmeat-pack --format json
js "pack inspect" $sm pack inspect seed.skillmeat-pack --format json
js "pack verify" $sm pack verify seed.skillmeat-pack --format json
js "pack install" env SKILLMEAT_HOME="$TMP/home2" sh -c '"$1" init >/dev/null && "$1" pack install seed.skillmeat-pack --allow-unsigned --format json' sh "$sm"
run env SKILLMEAT_HOME="$TMP/home2" $sm workflow plan sdlc-feature-ship --format json
check "a pack carries the short form: installed, it plans in written order" json_eq 'j["stage_order"] == "written" and j["collection"]["missing_count"] == 0'
$sm workflow logs "$rid" --format jsonl >jl.out
check "workflow logs --format jsonl: one event a line" python3 -c 'import json,sys; l=open("jl.out").read().splitlines(); [json.loads(x) for x in l]; sys.exit(0 if len(l) > 3 else 1)'

# ---- upstream's API endpoints, over a real socket ------------------------------------------
cat >slow.yaml <<'Y'
workflow_id: slow
stages:
  - {id: wait, type: command, run: "sleep 30"}
Y
run $sm workflow create slow.yaml
printf 'workflow_id: ghost\nstages: [{id: a, roles: {primary: "agent:ghost"}}]\n' >ghost.yaml
run $sm workflow create ghost.yaml --force
web_start
api() {
	code=$(curl -s -o "$TMP/out" -w '%{http_code}' -X "$1" -H "Authorization: Bearer $T" \
		-H 'Content-Type: application/json' ${3+--data-binary "$3"} "http://127.0.0.1:$P/api/v1$2")
	rc=0
}
code_is() { [ "$code" = "$1" ]; }
odd=$(python3 -c 'import json; print(json.dumps({"definition": open("odd.yaml").read()}))')
api POST /workflows/validate "$odd"
check "API validate: the runner check too" json_eq 'not j["valid"] and any("nosuch" in e["message"] for e in j["errors"])'
api POST /workflows "$odd"
check "API create refuses what validate refuses" code_is 422
api POST /workflows/sdlc-feature-ship/duplicate
check "duplicate: 201" code_is 201
check "duplicate: named as upstream names it" json_eq 'j["id"] == "sdlc-feature-ship-copy" and j["name"] == "sdlc-feature-ship (copy)" and j["source_id"] == "sdlc-feature-ship"'
api GET /workflows/sdlc-feature-ship
check "the builder's text of a short-form workflow: the canonical form" json_eq '"workflow:\n  id: sdlc-feature-ship" in j["canonical"] and "artifact: \"agent:researcher-v1\"" in j["canonical"]'
api GET /workflows/sdlc-feature-ship-copy
check "duplicate: the definition byte for byte" python3 -c 'import json,sys; sys.exit(0 if json.load(open(sys.argv[1]))["definition"] == open("seed.json").read() else 1)' "$TMP/out"
api POST /workflows/sdlc-feature-ship/duplicate '{}'
check "duplicate again: the next free name" json_eq 'j["id"] == "sdlc-feature-ship-copy-2"'
api GET /workflows
check "the list shows the copy's title" json_eq '{w["id"]: w.get("name") for w in j["items"]}["sdlc-feature-ship-copy"] == "sdlc-feature-ship (copy)"'
api POST /workflows/sdlc-feature-ship/duplicate '{"id": "mine", "new_name": "Mine"}'
check "duplicate: id and new_name" json_eq 'j["id"] == "mine" and j["name"] == "Mine"'
api POST /workflows/sdlc-feature-ship/duplicate '{"id": "mine"}'
check "duplicate onto a stored name: 409" code_is 409
api POST /workflows/nope/duplicate '{}'
check "duplicate of an unknown workflow: 404" code_is 404
api POST /workflows/batch/delete '{"ids": ["sdlc-feature-ship-copy-2", "nope", "mine"]}'
check "batch delete: 200 with a partial failure" code_is 200
check "batch delete: per-id results and counts" json_eq '[(r["id"], r["success"], r.get("error")) for r in j["results"]] == [("sdlc-feature-ship-copy-2", True, None), ("nope", False, "Not found"), ("mine", True, None)] and j["succeeded_count"] == 2 and j["failed_count"] == 1'
api GET /workflows/mine
check "batch delete: gone" code_is 404
api POST /workflows/batch/delete '{"ids": []}'
check "batch delete: an empty list is a 400" code_is 400
api POST /workflows/ghost/plan '{}'
check "plan: a missing artifact is an error (422)" code_is 422
api POST /workflows/ghost/plan '{"allow_missing": true}'
check "plan allow_missing: 200" code_is 200
check "plan allow_missing: the missing artifact a warning" json_eq 'any("agent:ghost" in w["message"] for w in j["validation"]["warnings"])'
api POST /workflows/ghost/plan '{"allow_missing": "yes"}'
check "plan allow_missing: not a boolean is a 400" code_is 400
api POST /workflow-executions '{"workflow_id": "slow"}'
r1=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "$TMP/out")
api POST /workflow-executions '{"workflow_id": "slow"}'
r2=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "$TMP/out")
api GET /workflow-executions/by-workflow/slow
check "by-workflow: the workflow's runs, newest first" json_eq '[r["id"] for r in j["items"]] == ["'"$r2"'", "'"$r1"'"]'
api GET "/workflow-executions/by-workflow/slow?limit=1&skip=1"
check "by-workflow: skip and limit" json_eq '[r["id"] for r in j["items"]] == ["'"$r1"'"]'
api GET /workflow-executions/by-workflow/sdlc-feature-ship
check "by-workflow: other workflows' runs" json_eq '"'"$rid"'" in [r["id"] for r in j["items"]] and {r["workflow_id"] for r in j["items"]} == {"sdlc-feature-ship"}'
api GET "/workflow-executions/by-workflow/slow?limit=500"
check "by-workflow: limit over 200 is a 400" code_is 400
wait_for "SELECT count(*) = 2 FROM stages WHERE stage_id = 'wait' AND status = 'running'"
api POST /workflow-executions/batch/pause '{"execution_ids": ["'"$r1"'", "nope"]}'
check "batch pause: 200" code_is 200
check "batch pause: per-run results" json_eq '[(r["execution_id"], r["success"]) for r in j["results"]] == [("'"$r1"'", True), ("nope", False)] and j["results"][1]["error"] == "Execution not found" and j["succeeded_count"] == 1 and j["failed_count"] == 1'
wait_for "SELECT status = 'paused' FROM runs WHERE id = '$r1'" || true
api POST /workflow-executions/batch/resume '{"execution_ids": ["'"$r1"'"]}'
check "batch resume" json_eq 'j["results"][0]["success"] and j["succeeded_count"] == 1'
api POST /workflow-executions/batch/cancel '{"execution_ids": ["'"$r1"'", "'"$r2"'"]}'
check "batch cancel: both" json_eq '[r["success"] for r in j["results"]] == [True, True]'
wait_for "SELECT count(*) = 2 FROM runs WHERE id IN ('$r1', '$r2') AND status = 'cancelled'"
check "batch cancel: the runs are cancelled" test "$(q "SELECT count(*) FROM runs WHERE id IN ('$r1', '$r2') AND status = 'cancelled'")" = 2
api POST /workflow-executions/batch/cancel '{"execution_ids": ["'"$r1"'"]}'
check "batch cancel of an ended run: its error" json_eq 'not j["results"][0]["success"] and "already ended" in j["results"][0]["error"]'
api POST /workflow-executions/batch/cancel '{"execution_ids": "x"}'
check "batch: not a list is a 400" code_is 400
api GET /workflow-executions/by-workflow/fail
check "API run list: the error with the stage's class and message" json_eq 'j["items"][0]["error"] == "stage '"'"'boom'"'"' failed (exit_3): the command exited with status 3"'
for ep in /workflows /workflows/sdlc-feature-ship /workflow-executions "/workflow-executions/$rid" \
	/workflow-executions/by-workflow/fail; do
	api GET "$ep"
	check "json style: GET $ep" python3 "$style" "$TMP/out" "GET $ep"
done
api POST /workflows/sdlc-feature-ship/plan '{}'
check "json style: POST plan" python3 "$style" "$TMP/out" "POST plan"
api POST /workflows/sdlc-feature-ship/validate '{}'
check "json style: POST validate" python3 "$style" "$TMP/out" "POST validate"
kill "$web" 2>/dev/null
wait "$web" 2>/dev/null
run $sm workflow list --format json
check "workflow list: a duplicate's title" json_eq '{w["name"]: w["title"] for w in j}["sdlc-feature-ship-copy"] == "sdlc-feature-ship (copy)"'

done_testing
