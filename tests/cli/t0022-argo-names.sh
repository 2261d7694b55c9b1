#!/bin/sh
# Argo exports of hostile workflows: ids a cluster would refuse as names or labels
# (`main`, `a-b`/`a-b-2`/`a_b`, `in`, `not`, `nil`, `build_`, `_private`, a 70-character
# id, version `1.0.0+build.7`, outputs `file.path` and `my.out`; `my out` is refused by
# validation, names being folder names) export to objects that
# pass tests/argo/check-export.py (Kubernetes' name and label rules, Argo's validate.go)
# and run through tests/argo/argo-driver.py; what Argo cannot run is refused with a
# message; gates carry their decision; $SKILLMEAT_ATTEMPT follows Argo's {{retries}};
# `halt` on Argo lets other branches go on, as docs/argo.md says.
. "$(dirname "$0")/lib.sh"
tests=$(cd "$(dirname "$0")/.." && pwd)
driver=$tests/argo/argo-driver.py
checker=$tests/argo/check-export.py
cd "$TMP" || exit 1
export NO_COLOR=1
mkdir -p "$SKILLMEAT_HOME"

cat >hostile.yaml <<'Y'
workflow: {id: "___", name: Hostile, version: "1.0.0+build.7"}
config:
  parameters:
    files: {type: array, default: [x, y]}
stages:
  - id: main
    name: Main
    type: command
    run: printf 'file.path=a/b\nmy.out=two words\n' >> "$SKILLMEAT_OUTPUT"
    outputs: {"file.path": {type: string}, "my.out": {type: string}}
  - {id: a-b, name: A, type: command, run: "true", depends_on: [main]}
  - {id: a-b-2, name: B, type: command, run: "true", depends_on: [a-b]}
  - {id: a_b, name: C, type: command, run: "true", depends_on: [a-b-2]}
  - {id: build_, name: D, type: command, run: "true", depends_on: [main]}
  - {id: _private, name: E, type: command, run: "true", depends_on: [build_]}
  - {id: in, name: F, type: command, run: "true", depends_on: [main]}
  - {id: not, name: G, type: command, run: "true", depends_on: [in]}
  - {id: nil, name: H, type: gate, depends_on: [not], gate: {timeout: 1h, on_timeout: auto_approve}}
  - id: each_
    name: Each
    type: fan_out
    depends_on: [nil]
    fan_out: {items: "${{ parameters.files }}"}
    run: echo "got=$SKILLMEAT_ITEM" >> "$SKILLMEAT_OUTPUT"
    outputs: {got: {type: string}}
  - id: abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghij
    name: Long
    type: command
    depends_on: [main, a_b, _private, each_]
    run: |
      python3 -c 'import json,os; print("seen=" + json.load(open(os.environ["SKILLMEAT_HANDOFF"]))["main"]["outputs"]["file.path"])' >> "$SKILLMEAT_OUTPUT"
    outputs: {seen: {type: string}}
Y
sed 's/my\.out/my out/g' hostile.yaml >spaced.yaml
run $sm workflow export spaced.yaml --to argo --format json -o spaced
check "an output named 'my out' is refused, not exported" exit_is 1
check "  with a located message" err_has "spaced.yaml:10:14: error: [schema] stage 'main' field 'outputs': output name 'my out' is not a safe name"
run $sm workflow export hostile.yaml --to argo --format json -o hostile
check "hostile ids: exported" exit_is 0
run python3 "$checker" hostile
check "hostile ids: the checker finds nothing a cluster refuses" exit_is 0
check "  names: one each, none 'main' but the DAG, a hash on each changed one" python3 -c '
import json, re
w = json.load(open("hostile/workflow.json"))
t = {x["metadata"]["annotations"]["skillmeat.dev/stage-id"]: x["name"]
     for x in w["spec"]["templates"][1:] if "skillmeat.dev/part" not in x["metadata"]["labels"]}
assert len(t) == 11 and len(set(t.values())) == 11, t
assert t["a-b"] == "a-b" and t["a-b-2"] == "a-b-2" and re.fullmatch(r"a-b--[0-9a-f]{8}", t["a_b"]), t
for sid in ("main", "in", "not", "nil", "build_", "_private"):
    assert re.fullmatch(r"[a-z][-a-z0-9]*--[0-9a-f]{8}", t[sid]), (sid, t[sid])
assert len(t["abcdefghij" * 7]) <= 50, t
assert w["metadata"]["generateName"].startswith("s--"), w["metadata"]
assert w["metadata"]["annotations"]["skillmeat.dev/version"] == "1.0.0+build.7", w["metadata"]'
python3 "$driver" "$sm" hostile "$TMP/work" >hostile.json
check "hostile ids: run by the driver, every stage completes" python3 -c '
import json
d = json.load(open("hostile.json"))
assert d["phase"] == "Succeeded", d
res = {t["result"]["stage_id"]: t["result"] for t in d["tasks"].values()
       if t.get("result") and "stage_id" in t["result"] and "item" not in t["result"]}
assert all(r["status"] == "completed" for r in res.values()), res
assert res["abcdefghij" * 7]["outputs"] == {"seen": "a/b"}, res
assert [json.loads(v) for v in res["each_"]["outputs"]["got"]] == ["x", "y"], res["each_"]
outs = [t["parameters"] for t in d["tasks"].values() if "skillmeat" not in json.dumps(t["parameters"])]
assert any(sorted(p.values()) == ["a/b", "two words"] for p in outs), outs'

# Ids that validation may refuse (another rule set decides): exported and checked, or refused.
cat >odd.yaml <<'Y'
workflow: {id: odd-ids, name: Odd}
stages:
  - {id: "with space", name: A, type: command, run: "true"}
  - {id: "café", name: B, type: command, run: "true", depends_on: ["with space"]}
Y
run $sm workflow export odd.yaml --to argo --format json -o odd
check "ids with a space or an accent: exported and accepted, or refused with a message" \
	sh -c '{ [ "$0" = 0 ] && python3 "$1" odd; } || { [ "$0" = 1 ] && grep -q "with space\|café" "$2"; }' \
	"$rc" "$checker" "$TMP/err"

cat >tiny.yaml <<'Y'
workflow: {id: "___", name: Tiny}
stages:
  - {id: only, name: Only, type: command, run: "true"}
Y
run $sm workflow export tiny.yaml --to argo --template --format json -o tpl
check "--template with workflow id ___: a valid name" python3 -c '
import json, re
m = json.load(open("tpl/workflow.json"))["metadata"]
assert re.fullmatch(r"s--[0-9a-f]{8}", m["name"]), m'
run python3 "$checker" tpl
check "  and the checker accepts it" exit_is 0

# ---- the checker fails what a cluster refuses ----
python3 - hostile tampered <<'P'
import json, os, shutil, sys
shutil.copytree(sys.argv[1], sys.argv[2])
p = os.path.join(sys.argv[2], "workflow.json")
w = json.load(open(p))
w["spec"]["templates"][1]["name"] = "main"
w["spec"]["templates"][1]["metadata"]["labels"]["skillmeat.dev/stage"] = "_private"
w["spec"]["templates"][1]["outputs"]["parameters"][1]["name"] = "out-file.path"
w["spec"]["templates"][0]["dag"]["tasks"][1]["name"] = "in"
json.dump(w, open(p, "w"))
P
run python3 "$checker" tampered
check "checker: a tampered export fails" exit_is 1
check "  two templates named main" out_has "template name 'main' is not unique"
check "  a label value" out_has "is not a valid label value"
check "  a parameter name" out_has "name 'out-file.path' is invalid"
check "  a keyword as a task name" out_has "task 'in' is no identifier"

# ---- refused, with what Argo can take ----
cat >factor.yaml <<'Y'
workflow: {id: factor, name: Factor}
stages:
  - id: flaky
    name: Flaky
    type: command
    run: "true"
    error_policy: {retry: {max_attempts: 3, initial_interval: 10s, backoff_multiplier: 1.5}}
Y
run $sm workflow export factor.yaml --to argo -o f1
check "backoff 1.5 over 3 attempts: refused" exit_is 1
check "  saying Argo's factor is a whole number" err_has "backoff.factor is a whole number"
sed 's/max_attempts: 3/max_attempts: 2/' factor.yaml >factor2.yaml
run $sm workflow export factor2.yaml --to argo --format json -o f2
check "backoff 1.5 with one retry never multiplies: factor 1" python3 -c '
import json
b = json.load(open("f2/workflow.json"))["spec"]["templates"][1]["retryStrategy"]["backoff"]
assert b == {"duration": "10s", "factor": "1", "cap": "300s"} or b["factor"] == "1", b'

printf '[runners.mine]\ncommand = ["my-agent"]\nprotocol = "claude"\n' >"$SKILLMEAT_HOME/config.toml"
cat >runner.yaml <<'Y'
workflow: {id: runner, name: Runner}
stages:
  - {id: ask, name: Ask, roles: {primary: {artifact: "agent:asker", runner: mine}}}
Y
run $sm workflow export runner.yaml --to argo --allow-missing -o r1
check "a runner from config.toml: refused" exit_is 1
check "  naming it, and how to provide it" err_has "uses runner 'mine'"
run $sm workflow export runner.yaml --to argo --allow-missing --image-runners -o r2
check "  --image-runners: exported" exit_is 0
rm "$SKILLMEAT_HOME/config.toml"

# ---- one ConfigMap per bundle ----
cat >params.yaml <<'Y'
workflow: {id: params, name: Params}
config:
  parameters:
    who: {type: string, default: a}
stages:
  - {id: hi, name: Hi, type: command, run: 'echo "$W"', env: {W: "${{ parameters.who }}"}}
Y
cm() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["metadata"]["name"])' "$1/bundle-configmap.json"; }
$sm workflow export params.yaml --to argo --format json -p who=a -o pa >/dev/null
$sm workflow export params.yaml --to argo --format json -p who=b -o pb >/dev/null
$sm workflow export params.yaml --to argo --format json -p who=a -o pa2 >/dev/null
check "other parameters: another ConfigMap; the same: the same one" \
	sh -c '[ "$(cm_a=$0; echo "$cm_a")" != "$1" ] && [ "$0" = "$2" ]' "$(cm pa)" "$(cm pb)" "$(cm pa2)"
check "  the workflow mounts its own" python3 -c '
import json
w = json.load(open("pb/workflow.json"))
assert w["spec"]["volumes"][0]["configMap"]["name"] == json.load(open("pb/bundle-configmap.json"))["metadata"]["name"]'

python3 - <<'P'
with open("big.yaml", "w") as f:
    f.write("workflow: {id: big, name: Big}\nstages:\n  - id: one\n    name: One\n"
            "    type: command\n    run: |\n      true\n")
    for k in range(3000):
        f.write("      # %s\n" % ("padding line %d " % k) * 6)
P
run $sm workflow export big.yaml --to argo -o big
check "a bundle over 256 KiB: exported" exit_is 0
check "  with how to apply it" err_has "kubectl apply --server-side"

# ---- gates carry their decision ----
cat >gate.yaml <<'Y'
workflow: {id: gate, name: Gate}
stages:
  - {id: build, name: Build, type: command, run: "true"}
  - {id: approve, name: Approve, type: gate, depends_on: [build]}
  - {id: deploy, name: Deploy, type: command, depends_on: [approve], run: "echo deployed"}
  - id: soft
    name: Soft gate
    type: gate
    depends_on: [build]
    gate: {timeout: 1h, on_timeout: reject}
    error_policy: {on_failure: continue}
  - id: report
    name: Report
    type: command
    depends_on: [soft]
    run: 'echo "gate=$G" >> "$SKILLMEAT_OUTPUT"'
    env: {G: "${{ stages.soft.status }}"}
    outputs: {gate: {type: string}}
Y
$sm workflow export gate.yaml --to argo --format json -o gate >/dev/null
python3 "$driver" "$sm" gate "$TMP/gw1" '{"approve": "approve", "soft": "approve"}' >gate-ok.json
python3 "$driver" "$sm" gate "$TMP/gw2" '{"approve": "reject", "soft": "timeout"}' >gate-no.json
check "gate approved: the stages after it run and see it completed" python3 -c '
import json
t = json.load(open("gate-ok.json"))["tasks"]
assert t["deploy"]["result"]["status"] == "completed", t["deploy"]
assert t["report"]["result"]["outputs"] == {"gate": "completed"}, t["report"]'
check "gate rejected: the stage after it cannot run, the workflow fails" python3 -c '
import json
d = json.load(open("gate-no.json"))
t = d["tasks"]
assert d["phase"] == "Failed" and t["deploy"]["result"]["status"] == "cancelled", t["deploy"]
assert t["deploy"]["exit_codes"] == [3], t["deploy"]'
check "  after a gate that continues past a failure (its timeout ran out), a stage sees it failed" python3 -c '
import json
t = json.load(open("gate-no.json"))["tasks"]
assert t["report"]["result"]["outputs"] == {"gate": "failed"}, t["report"]'
$sm workflow export gate.yaml --to bundle -o gate-bundle.json
run $sm stage exec --bundle gate-bundle.json --stage deploy --gate approve=maybe \
	--upstream 'build={"status": "completed", "outputs": {}}'
check "stage exec --gate: another word is a usage error" exit_is 2
check "  naming the words it takes" err_has "a gate's decision is approve or reject"

# ---- the attempt number is Argo's ----
cat >attempt.yaml <<'Y'
workflow: {id: attempt, name: Attempt}
stages:
  - id: again
    name: Again
    type: command
    run: |
      echo "n=$SKILLMEAT_ATTEMPT" >> "$SKILLMEAT_OUTPUT"
      [ "$SKILLMEAT_ATTEMPT" -ge 2 ]
    outputs: {n: {type: string}}
    error_policy: {retry: {max_attempts: 3, initial_interval: 1s}}
Y
$sm workflow run attempt.yaml >/dev/null 2>&1
local_row=$(sqlite3 "$SKILLMEAT_HOME/workflow-runs.db" \
	"SELECT status || ' ' || attempt || ' ' || outputs FROM stages WHERE stage_id = 'again'")
$sm workflow export attempt.yaml --to argo --format json -o attempt >/dev/null
python3 "$driver" "$sm" attempt "$TMP/aw" >attempt.json
check "\$SKILLMEAT_ATTEMPT from {{retries}}: the second pod is attempt 2, as locally ($local_row)" \
	python3 -c '
import json, sys
t = json.load(open("attempt.json"))["tasks"]["again"]
r = t["result"]
assert t["exit_codes"] == [1, 0] and r["attempt"] == 2 and r["outputs"] == {"n": "2"}, t
assert sys.argv[1] == "completed 2 {\"n\":\"2\"}", sys.argv[1]' "$local_row"

# ---- why a list is never empty: Argo skips an empty withParam, and the gather waits ----
python3 - hostile emptied <<'P'
import json, os, shutil, sys
shutil.copytree(sys.argv[1], sys.argv[2])
p = os.path.join(sys.argv[2], "workflow.json")
w = json.load(open(p))
for t in w["spec"]["templates"][0]["dag"]["tasks"]:
    if "withParam" in t:
        t["withParam"] = "[]"
json.dump(w, open(p, "w"))
P
python3 "$driver" "$sm" emptied "$TMP/ew" >emptied.json
check "driver: an empty withParam is Skipped, the gather that reads its aggregate never starts" \
	python3 -c '
import json
d = json.load(open("emptied.json"))
t = {k: v for k, v in d["tasks"].items() if k.startswith("each")}
items = [v for k, v in t.items() if k.endswith("--item")][0]
gather = [v for k, v in t.items() if not k.endswith(("--item", "--list"))][0]
assert d["phase"] == "Running" and items["phase"] == "Skipped", d
assert gather["phase"] == "Running" and "requeued" in gather["message"], gather'

# ---- halt on Argo: other branches go on (dag.go reads failFast at the end) ----
cat >halt.yaml <<'Y'
workflow: {id: halt, name: Halt}
stages:
  - {id: bad, name: Bad, type: command, run: "exit 1"}
  - {id: first, name: First, type: command, run: "true"}
  - {id: second, name: Second, type: command, run: "true", depends_on: [first]}
  - {id: after-bad, name: After, type: command, run: "true", depends_on: [bad]}
Y
$sm workflow export halt.yaml --to argo --format json -o halt >/dev/null
python3 "$driver" "$sm" halt "$TMP/hw" >halt.json
check "halt: the failed stage's dependents are omitted, the other branch runs on" python3 -c '
import json
d = json.load(open("halt.json"))
t = d["tasks"]
assert d["phase"] == "Failed", d["phase"]
assert t["after-bad"]["phase"] == "Omitted" and t["second"]["phase"] == "Succeeded", t'
done_testing
