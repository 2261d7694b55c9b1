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

# A collection with the example's artifacts: checked, and the module reaches the prompt.
run $sm init
C=$SKILLMEAT_HOME/collections/default
mkdir -p "$C/agents" "$C/context" "$C/skills/git-ops"
printf -- '---\nname: researcher-v1\n---\nYou research.\n' >"$C/agents/researcher-v1.md"
printf -- '---\nname: coder-v2\n---\nYou code.\n' >"$C/agents/coder-v2.md"
printf -- '---\nname: git-ops\ndescription: Git operations\n---\nUse git.\n' >"$C/skills/git-ops/SKILL.md"
printf -- '---\ndescription: Repo rules\n---\nKeep commits small.\n' >"$C/context/repo-rules.md"
run $sm workflow plan seed.json --format json
check "seed plan: every artifact found" json_eq 'j["collection"]["artifacts_missing"] == 0'
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

done_testing
