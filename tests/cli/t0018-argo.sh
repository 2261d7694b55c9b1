#!/bin/sh
# Argo Workflows export (no cluster here, so proven without one): every
# example and valid test workflow exports to a Workflow that fits the schema
# of the fields Argo defines (tests/argo/workflow-subset.schema.json) and passes
# the checker of what a cluster refuses (tests/argo/check-export.py); the
# examples' exports equal their golden files; a driver that runs an export
# as Argo's controller would (tests/argo/argo-driver.py: DAG order,
# retryStrategy, continueOn, failFast, output parameters) gives the same
# stage outcomes, outputs and attempts as `workflow run`; secrets never
# appear in an export; `stage exec` refuses what it cannot run.
. "$(dirname "$0")/lib.sh"
tests=$(cd "$(dirname "$0")/.." && pwd)
root=$(cd "$tests/.." && pwd)
fakes=$tests/fake-agents
driver=$tests/argo/argo-driver.py
schema=$tests/argo/workflow-subset.schema.json
checker=$tests/argo/check-export.py
cd "$TMP" || exit 1
export NO_COLOR=1
mkdir bin
ln -s "$fakes/fake-claude" bin/claude
export PATH="$TMP/bin:$PATH"
q() { sqlite3 "$SKILLMEAT_HOME/workflow-runs.db" "$1"; }

fits() { # DIR: workflow.json against the schema, and a ConfigMap beside it
	python3 - "$schema" "$1" <<'P'
import json, sys, jsonschema
s = json.load(open(sys.argv[1]))
w = json.load(open(sys.argv[2] + "/workflow.json"))
c = json.load(open(sys.argv[2] + "/bundle-configmap.json"))
jsonschema.validate(w, s)
assert c["kind"] == "ConfigMap" and "bundle.json" in c["data"]
assert w["spec"]["volumes"][0]["configMap"]["name"] == c["metadata"]["name"]
names = {t["name"] for t in w["spec"]["templates"]}
for t in w["spec"]["templates"][0]["dag"]["tasks"]:
    assert t["template"] in names and all(d in names for d in t.get("dependencies", []))
P
	python3 "$checker" "$1"
}

# ---- every example and valid workflow exports, and fits ----
args_for() { # the parameters an example requires
	case $1 in
	code-review) echo "-p pr_number=42" ;; sdlc-feature-ship) echo "-p feature_name=login" ;;
	esac
}
bad=""
n=0
for f in "$root"/examples/*.yaml "$tests"/swdl/valid/*/workflow.*; do
	name=$(basename "$f" .yaml)
	[ "$name" = workflow ] && name=$(basename "$(dirname "$f")")
	extra=$(args_for "$name")
	[ -f "$(dirname "$f")/args" ] && [ "$name" != "$(basename "$f" .yaml)" ] && extra="$extra $(cat "$(dirname "$f")/args")"
	# shellcheck disable=SC2086
	if [ "$name" = empty-stages ]; then # refused: Argo takes no DAG without tasks
		$sm workflow export "$f" --to argo -o "ex/$name" 2>"ex-$name.err" ||
			grep -q "Argo refuses a DAG without tasks" "ex-$name.err" || bad="$bad $name"
	elif ! $sm workflow export "$f" --to argo --format json --allow-missing $extra -o "ex/$name" \
		>/dev/null 2>"ex-$name.err" || ! fits "ex/$name" >>"ex-$name.err" 2>&1; then
		bad="$bad $name"
	fi
	n=$((n + 1))
done
check "all $n workflows export and fit the schema (bad:$bad)" test -z "$bad"

mkdir golden
for f in "$root"/examples/*.yaml; do
	name=$(basename "$f" .yaml)
	# shellcheck disable=SC2086
	$sm workflow export "$f" --to argo --allow-missing $(args_for "$name") >"golden/$name.yaml" 2>/dev/null
	if [ -n "${UPDATE_EXPECTED:-}" ]; then
		cp "golden/$name.yaml" "$tests/argo/golden/$name.yaml"
	fi
	check "golden export: $name" cmp -s "golden/$name.yaml" "$tests/argo/golden/$name.yaml"
done

# ---- semantics: the same outcomes as workflow run ----
compare() { # WORKFLOW [export args]: run it both ways, compare stage by stage
	rc=0
	wf=$1
	shift
	rm -rf sem && mkdir sem
	$sm workflow run "$wf" --allow-missing "$@" >sem/local.out 2>&1
	run_id=$(q "SELECT id FROM runs ORDER BY created_at DESC LIMIT 1")
	q "SELECT stage_id, status, attempt, coalesce(outputs, '{}') FROM stages WHERE run_id='$run_id' ORDER BY idx" >sem/local.txt
	q "SELECT stage_id, item, tries FROM items WHERE run_id='$run_id' ORDER BY stage_id, item" >sem/items.txt
	$sm workflow export "$wf" --to argo --format json --allow-missing "$@" -o sem/export >/dev/null &&
		python3 "$checker" sem/export &&
		python3 "$driver" "$sm" sem/export "$TMP/sem/work" >sem/driver.json &&
		python3 - sem/local.txt sem/driver.json sem/export/workflow.json sem/items.txt <<'P'
import json, sys
local, tries = {}, {}
for line in open(sys.argv[4]):
    sid, item, n = line.rstrip("\n").split("|")
    tries.setdefault(sid, []).append(int(n))
for line in open(sys.argv[1]):
    sid, status, attempt, outs = line.rstrip("\n").split("|", 3)
    local[sid] = (status, int(attempt), json.loads(outs))
drv = json.load(open(sys.argv[2]))
tasks = {t["metadata"]["annotations"]["skillmeat.dev/stage-id"]: t["name"]
         for t in json.load(open(sys.argv[3]))["spec"]["templates"][1:]
         if "metadata" in t and "skillmeat.dev/part" not in t["metadata"]["labels"]}
cm = json.load(open(sys.argv[3].replace("workflow.json", "bundle-configmap.json")))
fan_outs = {s["id"] for s in json.loads(cm["data"]["bundle.json"])["workflow"]["stages"]
            if s.get("type") == "fan_out"}
diff = []
for sid, (status, attempts, outs) in local.items():
    t = drv["tasks"].get(tasks.get(sid, sid), {})
    r = t.get("result") or {}
    if status in ("pending", "cancelled"):
        ok = t.get("phase") == "Omitted"
    elif status == "skipped":  # a pod ran, and found its condition false
        ok = r.get("status") == "skipped" and t.get("attempts") == 1
    elif sid in fan_outs:  # one pod per item, exit 0; its tries are in its result
        items = drv["tasks"].get(tasks[sid] + "--item", {})
        pods = [len(c) for c in items.get("exit_codes", [])]
        got = [i.get("attempts") for i in (r.get("handoff") or {}).get("items") or []]
        attempts = [n for n in tries.get(sid, []) if n]  # items never started: none
        ok = (r.get("status"), [n for n in got if n], r.get("outputs") or {}) == \
            (status, attempts, outs) and all(p == 1 for p in pods)
    else:
        ok = (r.get("status"), t.get("attempts"), r.get("outputs") or {}) == (status, attempts,
                                                                                outs)
    if not ok:
        diff.append("%s: local %s/%s/%s, argo %s/%s/%s" % (sid, status, attempts, outs,
                    t.get("phase"), t.get("attempts"), r))
print("\n".join(diff))
sys.exit(1 if diff else 0)
P
}

cat >sem1.yaml <<'Y'
workflow: {id: sem-one, name: Semantics one}
config:
  parameters:
    deploy: {type: boolean, default: false}
stages:
  - id: build
    name: Build
    type: command
    run: echo "version=1.2.3" >> "$SKILLMEAT_OUTPUT"
    outputs: {version: {type: string}}
  - id: unit_test
    name: Test
    type: command
    depends_on: [build]
    run: |
      echo "seen=$V" >> "$SKILLMEAT_OUTPUT"
      python3 -c 'import json,os; print("from_handoff=" + json.load(open(os.environ["SKILLMEAT_HANDOFF"]))["build"]["outputs"]["version"])' >> "$SKILLMEAT_OUTPUT"
    env: {V: "${{ stages.build.outputs.version }}"}
    outputs: {seen: {type: string}, from_handoff: {type: string}}
  - id: deploy
    name: Deploy
    type: command
    depends_on: [unit_test]
    condition: "${{ parameters.deploy }}"
    run: echo deployed
  - id: lint
    name: Lint
    type: command
    depends_on: [build]
    run: exit 5
    error_policy: {on_failure: continue, retry: {max_attempts: 2, initial_interval: 1s}}
  - id: report
    name: Report
    type: command
    depends_on: [lint, unit_test, deploy]
    run: printf 'lint=%s\ndeploy=%s\n' "$L" "$D" >> "$SKILLMEAT_OUTPUT"
    env: {L: "${{ stages.lint.status }}", D: "${{ stages.deploy.status }}"}
    outputs: {lint: {type: string}, deploy: {type: string}}
Y
check "semantics: outputs, handoffs, a skipped stage, a failure that continues" compare sem1.yaml
check "  local report saw lint failed, deploy skipped" grep -q 'report|completed|1|{"lint":"failed","deploy":"skipped"}' sem/local.txt
check "  lint retried by Argo: two pods" python3 -c 'import json; t=json.load(open("sem/driver.json"))["tasks"]["lint"]; assert t["attempts"] == 2 and t["exit_codes"] == [1, 1], t'
check "semantics: with the condition true" compare sem1.yaml -p deploy=true

cat >sem2.yaml <<'Y'
workflow: {id: sem-two, name: Semantics two}
stages:
  - id: ask
    name: Ask
    roles: {primary: {artifact: "agent:asker"}}
    error_policy: {retry: {max_attempts: 3, initial_interval: 1s}}
  - id: after
    name: After
    type: command
    depends_on: [ask]
    run: echo never
Y
FAKE_CLAUDE_MODE=error
export FAKE_CLAUDE_MODE
check "semantics: a failing agent is retried, then fails; dependents do not run" compare sem2.yaml
check "  three pods, each exit 1" python3 -c 'import json; t=json.load(open("sem/driver.json"))["tasks"]["ask"]; assert t["exit_codes"] == [1, 1, 1], t'
unset FAKE_CLAUDE_MODE

cat >sem3.yaml <<'Y'
workflow: {id: sem-three, name: Semantics three}
stages:
  - id: make
    name: Make
    type: command
    run: echo "not the declared output"
    outputs: {answer: {type: string}}
    error_policy: {retry: {max_attempts: 3, initial_interval: 1s}}
Y
check "semantics: a failure retries cannot fix is not retried" compare sem3.yaml
check "  one pod, exit 3" python3 -c 'import json; t=json.load(open("sem/driver.json"))["tasks"]["make"]; assert t["exit_codes"] == [3], t'

cat >sem4.yaml <<'Y'
workflow: {id: sem-four, name: Semantics four}
config:
  parameters:
    files: {type: array, default: [a.c, b.c, c.c]}
stages:
  - id: each
    name: Each
    type: fan_out
    fan_out: {items: "${{ parameters.files }}", on_item_failure: continue}
    error_policy: {retry: {max_attempts: 1}}
    run: |
      [ "$SKILLMEAT_ITEM_INDEX" = 1 ] && exit 4
      echo "name=$SKILLMEAT_ITEM" >> "$SKILLMEAT_OUTPUT"
    outputs: {name: {type: string}}
  - id: after
    name: After
    type: command
    depends_on: [each]
    run: echo "names=$N" >> "$SKILLMEAT_OUTPUT"
    env: {N: "${{ toJSON(stages.each.outputs.name) }}"}
    outputs: {names: {type: string}}
Y
check "semantics: a fan-out with a failed item, outputs as lists" compare sem4.yaml
check "  a pod per item (withParam), one to list them, one to gather them" python3 -c '
import json
t = json.load(open("sem/driver.json"))["tasks"]
assert t["each--list"]["attempts"] == 1, t
assert json.loads(t["each--list"]["parameters"]["items"]) == [0, 1, 2], t
assert t["each--item"]["children"] == 3 and t["each--item"]["exit_codes"] == [[0], [0], [0]], t
assert [i["error_class"] for i in t["each"]["result"]["handoff"]["items"]] == [None, "exit_4", None], t
assert t["each"]["attempts"] == 1 and t["each"]["result"]["outputs"]["name"][1] is None, t'

cat >sem5.yaml <<'Y'
workflow: {id: sem-five, name: Semantics five}
config:
  parameters:
    none: {type: array, default: []}
    flag: {type: boolean, default: false}
stages:
  - id: find
    name: Find
    type: command
    run: |
      echo '{"files": ["x", "y", "z"]}' > "$SKILLMEAT_OUTPUT"
    outputs: {files: {type: array}}
  - id: each
    name: Each
    type: fan_out
    depends_on: [find]
    fan_out: {items: "${{ stages.find.outputs.files }}", max_parallel: 2}
    error_policy: {retry: {max_attempts: 2, initial_interval: 1s}}
    run: |
      if [ "$SKILLMEAT_ITEM_INDEX" = 1 ] && [ ! -e tried-y ]; then touch tried-y; exit 7; fi
      echo "up=$SKILLMEAT_ITEM" >> "$SKILLMEAT_OUTPUT"
    outputs: {up: {type: string}}
  - id: empty
    name: Empty
    type: fan_out
    depends_on: [find]
    fan_out: {items: "${{ parameters.none }}"}
    run: exit 1
    outputs: {never: {type: string}}
  - id: off
    name: Off
    type: fan_out
    depends_on: [find]
    condition: "${{ parameters.flag }}"
    fan_out: {items: "${{ stages.find.outputs.files }}"}
    run: exit 1
  - id: after
    name: After
    type: command
    depends_on: [each, empty, off]
    run: printf 'ups=%s\nnever=%s\n' "$U" "$N" >> "$SKILLMEAT_OUTPUT"
    env: {U: "${{ toJSON(stages.each.outputs.up) }}", N: "${{ toJSON(stages.empty.outputs.never) }}"}
    outputs: {ups: {type: string}, never: {type: string}}
Y
rm -f tried-y
check "semantics: items from a stage's output, an item retried, an empty list, a skipped fan-out" compare sem5.yaml
check "  the item that failed once was retried in its pod, as locally" python3 -c '
import json
t = json.load(open("sem/driver.json"))["tasks"]
assert t["each--item"]["exit_codes"] == [[0], [0], [0]], t["each--item"]
assert [i["attempts"] for i in t["each"]["result"]["handoff"]["items"]] == [1, 2, 1], t["each"]
assert json.loads(t["empty--list"]["parameters"]["items"]) == ["none"], t["empty--list"]
assert t["after"]["result"]["outputs"]["never"] == "[]", t["after"]'

cat >sem6.yaml <<'Y'
workflow: {id: sem-six, name: Semantics six}
config:
  parameters:
    n: {type: array, default: [1, 2, 3]}
stages:
  - id: each
    name: Each
    type: fan_out
    fan_out: {items: "${{ parameters.n }}", on_item_failure: fail_fast}
    error_policy: {retry: {max_attempts: 1}}
    run: '[ "$SKILLMEAT_ITEM" = 2 ] && exit 9; echo ok'
  - id: after
    name: After
    type: command
    depends_on: [each]
    run: echo never
Y
check "semantics: fail_fast: the fan-out fails, its dependents do not run" compare sem6.yaml

# ---- secrets never appear ----
mkdir -p "$SKILLMEAT_HOME"
printf '[runners.mine]\ncommand = ["my-agent"]\nprotocol = "claude"\nenv = {API_TOKEN = "sk-planted-in-config-0001"}\n' >"$SKILLMEAT_HOME/config.toml"
ANTHROPIC_API_KEY=sk-planted-in-env-0002 run $sm workflow export sem2.yaml --to argo --secret agent-keys -o secret-out
check "export with secrets: written" exit_is 0
check "no planted token in the export" sh -c '! grep -rq "sk-planted" secret-out'
check "the Secret only by name" grep -q "name: agent-keys" secret-out/workflow.yaml
rm "$SKILLMEAT_HOME/config.toml"

# ---- stage exec refuses what it cannot run ----
$sm workflow export sem1.yaml --to bundle -o bundle.json
run $sm stage exec --bundle bundle.json --stage unit_test --outputs o1
check "stage exec: a missing upstream result" err_has "no result for stage 'build', which 'unit_test' depends on"
check "stage exec: exit 3" exit_is 3
run $sm stage exec --bundle bundle.json --stage nope
check "stage exec: an unknown stage" err_has "the workflow has no stage 'nope'"
echo '{"format": "other"}' >not-bundle.json
run $sm stage exec --bundle not-bundle.json --stage build
check "stage exec: not a bundle" err_has "not a run bundle"
run $sm stage exec --bundle bundle.json --stage unit_test --upstream 'build=[1]'
check "stage exec: a result that is not an object" exit_is 2
run $sm stage exec --bundle bundle.json --stage unit_test --outputs o3 \
	--upstream 'build={"status": "failed", "outputs": {}}'
check "stage exec: after a dependency that failed and halts, it cannot run: exit 3" exit_is 3
check "  and says so in result.json" python3 -c 'import json; assert json.load(open("o3/result.json"))["status"] == "cancelled"'
run $sm stage exec --bundle bundle.json --stage build --outputs o2
check "stage exec: events are JSON lines" sh -c 'head -1 "$0" | python3 -c "import json,sys; assert json.loads(sys.stdin.read())[\"type\"]"' "$TMP/out"
check "stage exec: outputs as files" test "$(cat o2/version)" = 1.2.3
check "stage exec: result.json" python3 -c 'import json; r=json.load(open("o2/result.json")); assert r["status"] == "completed" and r["outputs"] == {"version": "1.2.3"}'

# ---- a fan-out's parts refuse what they cannot run ----
$sm workflow export sem4.yaml --to bundle -o fan-bundle.json
run $sm stage exec --bundle bundle.json --stage build --list-items --outputs o4
check "stage exec --list-items: not a fan-out" err_has "stage 'build' is not a fan-out"
run $sm stage exec --bundle fan-bundle.json --stage each --item 7 --outputs o5
check "stage exec --item: an index past the list" err_has "has 3 items here, none numbered 7"
check "  exit 3" exit_is 3
run $sm stage exec --bundle fan-bundle.json --stage each --item 1 --item-results x.json
check "stage exec: --item and --item-results together" exit_is 2
echo '[{"result": "{\"item\": 0}"}]' >bad-results.json
run $sm stage exec --bundle fan-bundle.json --stage each --item-results bad-results.json
check "stage exec --item-results: a result without a status" err_has "item result 0 is not one"
echo '[{"result": "{\"item\": 0, \"status\": \"completed\", \"outputs\": {\"name\": \"A\"}}"}, {"result": ""}]' >part-results.json
run $sm stage exec --bundle fan-bundle.json --stage each --item-results part-results.json --outputs o6
check "stage exec --item-results: an item with no result (or an empty one: a lost pod) fails as lost" python3 -c '
import json
r = json.load(open("o6/result.json"))
items = r["handoff"]["items"]
assert r["status"] == "completed" and r["outputs"]["name"] == ["A", None, None], r
assert [i["error_class"] for i in items] == [None, "item_lost", "item_lost"], items'
run $sm stage exec --bundle fan-bundle.json --stage each --item none --outputs o7
check "stage exec --item none: a placeholder runs nothing" python3 -c '
import json; assert json.load(open("o7/result.json")) == {"item": None, "stage_id": "each", "status": "none"}'
done_testing
