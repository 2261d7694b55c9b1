#!/bin/sh
# Project memory (add, list, show, promote, deprecate, delete, export,
# import, capture), context modules, `context preview`, packs and cost
# estimates in `workflow plan`, and packs injected into real runs (a fake
# claude and a command stage) and recorded as consumed.
. "$(dirname "$0")/lib.sh"
fakes=$(cd "$(dirname "$0")/../fake-agents" && pwd)
cd "$TMP" || exit 1
export NO_COLOR=1
mkdir bin proj
ln -s "$fakes/fake-claude" bin/claude
export PATH="$TMP/bin:$PATH"
export FAKE_AGENT_LOG="$TMP/agent.log"
q() { sqlite3 "$SKILLMEAT_HOME/workflow-runs.db" "$1"; }
mq() { sqlite3 "$SKILLMEAT_HOME/memory.db" "$1"; }
P=$(cd proj && pwd)

# ---- memory ------------------------------------------------------------------------
run $sm memory add "Never push to main" -t constraint -c 0.9 -s active -p proj --format json
check "add: json" json_eq 'len(j["id"]) == 32 and j["duplicate"] is False'
c1=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "$TMP/out")
run $sm memory add "Never push to main" -t constraint -p proj
check "add: same content is one item" out_has "Already known as $c1"
run $sm memory add "SQLite is the run store" -t decision -c 0.8 -p proj
d1=$(mq "SELECT id FROM memory_items WHERE content LIKE 'SQLite%'")
check "add: a candidate by default" test "$(mq "SELECT status FROM memory_items WHERE id='$d1'")" = candidate
run $sm memory add "Tabs in C files" -t style_rule -c 0.5 -s stable -p proj -a src/main.c:code
run $sm memory add "valgrind 3.19 lacks pidfd_open" -t gotcha -c 0.7 -s active -p proj
run $sm memory add "x" -t nonsense -p proj
check "add: unknown type is a usage error" exit_is 2
check "add: unknown type named" err_has "unknown type 'nonsense'"
run $sm memory add "x" -c 1.5 -p proj
check "add: confidence range" err_has "--confidence must be a number from 0 to 1"
run $sm memory list -p proj
check "list: table" out_has "constraint  active      0.90  Never push to main"
run $sm memory list -p proj --type decision --format json
check "list: filtered json" json_eq 'len(j) == 1 and j[0]["type"] == "decision" and j[0]["project"] == "'"$P"'"'
run $sm memory list --all-projects --status candidate --format json
check "list: by status" json_eq 'len(j) == 1'
run $sm memory promote "$(echo "$d1" | cut -c1-8)" --reason "agreed in review"
check "promote: by prefix" out_has "candidate -> active"
run $sm memory promote "$d1"
check "promote: active -> stable" out_has "active -> stable"
run $sm memory promote "$d1"
check "promote: stable is the top" exit_is 1
run $sm memory show "$d1" --format json
check "show: history recorded" json_eq '[t["to"] for t in j["provenance"]["transitions"]] == ["active", "stable"] and j["provenance"]["transitions"][0]["reason"] == "agreed in review"'
run $sm memory show ffff
check "show: unknown id" err_has "no memory item 'ffff'"
run $sm memory add "to be retired" -t learning -s active -p proj
r1=$(mq "SELECT id FROM memory_items WHERE content='to be retired'")
run $sm memory deprecate "$r1"
check "deprecate" out_has "active -> deprecated"
run $sm memory list -p proj --format json
check "list hides deprecated by default" json_eq 'all(i["status"] != "deprecated" for i in j)'
run $sm memory delete "$r1" </dev/null
check "delete wants --yes off a terminal" exit_is 1
run $sm memory delete "$r1" --yes
check "delete" test "$(mq "SELECT count(*) FROM memory_items WHERE id='$r1'")" = 0

# export and import, all or nothing
run $sm memory export -p proj -o export.json
check "export" exit_is 0
check "export file" python3 -c 'import json; d=json.load(open("export.json")); assert d["format"] == "skillmeat-memory/1" and len(d["items"]) == 4'
mkdir other
run $sm memory import export.json --project other
check "import into another project" out_has "Imported 4 items (0 already known)"
run $sm memory import export.json --project other
check "import again: duplicates" out_has "Imported 0 items (4 already known)"
python3 -c 'import json; d=json.load(open("export.json")); d["items"].append({"content": "", "type": "fix"}); d["items"].append({"content": "ok", "type": "bogus", "project": "/x"}); json.dump(d, open("bad.json", "w"))'
before=$(mq "SELECT count(*) FROM memory_items")
run $sm memory import bad.json --project proj
check "bad import fails" exit_is 1
check "bad import names the item" err_has "bad.json: items[4]: content"
check "bad import names the type" err_has "items[5]: type: unknown type 'bogus'"
check "bad import adds nothing" test "$(mq "SELECT count(*) FROM memory_items")" = "$before"
printf '{"format": "skillmeat-memory/1", "items": [\n  {"content": 1,}\n]}' >syntax.json
run $sm memory import syntax.json
check "import: JSON syntax error located" err_has "syntax.json:2:"

# upstream SkillMeat's cache.db, read only
mkdir up
sqlite3 up/cache.db "CREATE TABLE projects (id TEXT PRIMARY KEY, name TEXT, path TEXT UNIQUE);
CREATE TABLE memory_items (id TEXT PRIMARY KEY, project_id TEXT, type TEXT, content TEXT,
  confidence REAL, status TEXT, share_scope TEXT, provenance_json TEXT, anchors_json TEXT,
  content_hash TEXT, access_count INTEGER, created_at TEXT, updated_at TEXT, deprecated_at TEXT);
INSERT INTO projects VALUES ('p1', 'up', '$TMP/up');
INSERT INTO memory_items VALUES ('a1', 'p1', 'gotcha', 'Upstream gotcha', 0.8, 'active', 'project',
  '{\"session_id\": \"s1\"}', '[\"src/a.py:code:1-3\", {\"path\": \"docs/b.md\", \"type\": \"doc\"}]',
  'h1', 0, '2026-01-05T15:07:49.157370+00:00', '2026-01-05T15:07:49.157370+00:00', NULL);
INSERT INTO memory_items VALUES ('a2', 'p1', 'decision', 'Upstream decision', 0.9, 'stable', 'project',
  NULL, '[]', 'h2', 0, '2026-01-06T10:00:00+00:00', '2026-01-06T10:00:00+00:00', NULL);"
sum_before=$(sqlite3 up/cache.db "SELECT count(*) FROM memory_items")
run $sm memory import up/cache.db
check "import upstream cache.db" out_has "Imported 2 items (0 already known)"
check "upstream items keep project, status, anchors" test "$(mq "SELECT project || ' ' || status || ' ' || replace(anchor_paths, char(10), '|') FROM memory_items WHERE content='Upstream gotcha'")" = "$TMP/up active src/a.py|docs/b.md"
check "upstream provenance kept and marked" test "$(mq "SELECT json_extract(provenance, '$.session_id') || ' ' || json_extract(provenance, '$.source') FROM memory_items WHERE content='Upstream gotcha'")" = "s1 upstream cache.db"
check "upstream creation time kept" test "$(mq "SELECT datetime(created_at, 'unixepoch') FROM memory_items WHERE content='Upstream decision'")" = "2026-01-06 10:00:00"
check "upstream cache.db is not modified" test "$(sqlite3 up/cache.db "SELECT count(*) FROM memory_items")" = "$sum_before"
sqlite3 up/other.db "CREATE TABLE t (x)"
run $sm memory import up/other.db
check "a SQLite file that is not upstream's" err_has "not an upstream SkillMeat cache.db"
mq "DELETE FROM memory_items WHERE content LIKE 'Upstream%'"

# ---- modules, preview, plan ----------------------------------------------------------
run $sm init
C=$SKILLMEAT_HOME/collections/default
mkdir -p "$C/agents" "$C/context"
printf -- '---\nname: researcher\n---\nYou research carefully.\n' >"$C/agents/researcher.md"
cat >"$C/context/rules.md" <<'M'
---
description: House rules
selectors:
  memory_types: [constraint, style_rule]
  min_confidence: 0.5
---
Run the tests before every commit.
M
cat >wf.yaml <<'Y'
workflow: {id: ctxwf, name: Context WF}
context:
  global_modules: ["ctx:rules"]
  memory: {categories: [decision], min_confidence: 0.6, max_tokens: 500}
stages:
  - id: research
    name: Research
    roles: {primary: {artifact: "agent:researcher", model: sonnet}}
    outputs:
      learnings: {type: array, required: false}
  - id: build
    name: Build
    type: command
    depends_on: [research]
    run: cp "$SKILLMEAT_CONTEXT" build-context.md
    context: {memory: {max_tokens: 40}}
Y
cd proj || exit 1
run $sm context preview ../wf.yaml research
check "preview: exit 0" exit_is 0
cat >"$TMP/expected" <<'E'
# Context Pack

## Context: ctx:rules

Run the tests before every commit.

## Decisions
- [medium confidence] SQLite is the run store

## Constraints
- Never push to main

## Style Rules
- [low confidence] Tabs in C files
E
check "preview: the exact text" cmp -s "$TMP/out" "$TMP/expected"
run $sm context preview ../wf.yaml --format json
check "preview json: budget fitted" json_eq 'j["build"]["manifest"]["tokens"] <= 40 and j["build"]["manifest"]["counts"]["over_budget"] >= 1'
check "preview json: gotcha not selected" json_eq 'j["research"]["manifest"]["counts"]["not_selected"] == 1'
run $sm context preview ../wf.yaml nosuch
check "preview: unknown stage" err_has "has no stage 'nosuch'"
run $sm workflow plan ../wf.yaml
check "plan: context line" out_has "Context pack: ctx:rules; 3 memory items;"
check "plan: estimate line" out_has "at sonnet prices"
check "plan: total estimate" out_has "Estimated cost: ~\$"
run $sm workflow plan ../wf.yaml --format json
check "plan json: pack and estimate" json_eq 'j["batches"][0]["stages"][0]["context"]["pack"]["budget"] == 500 and j["estimate"]["total"]["usd"] > 0'
check "plan json: per batch totals" json_eq 'len(j["estimate"]["batches"]) == 2'
cd "$TMP" || exit 1
long=$(python3 -c 'print("word " * 200)')
run $sm memory add "$long" -t decision -c 0.99 -s active -p proj
run $sm workflow plan wf.yaml --project proj
check "plan warns of an item larger than the budget" out_has "Warning: 1 memory item is larger than the whole budget ("
run $sm workflow plan wf.yaml --project proj --format json
check "plan --project" json_eq 'len(j["batches"][0]["stages"][0]["context"]["pack"]["items"]) == 4'
run $sm memory delete "$(mq "SELECT id FROM memory_items WHERE content LIKE 'word word%'")" --yes

# selectors on anchor paths and on the stage an item came from
printf -- '---\nselectors: {file_patterns: ["src/*.c"]}\n---\nC files.\n' >"$C/context/cfiles.md"
sed 's/global_modules: \["ctx:rules"\]/global_modules: ["ctx:cfiles"]/' wf.yaml >wf-c.yaml
run $sm memory add "Plan stages stay small" -t pattern -c 0.9 -s active -p proj --format json
printf '{"format": "skillmeat-memory/1", "items": [{"content": "From the code stage", "type": "fix", "status": "active", "confidence": 0.9, "provenance": {"stage": "research"}}]}' >stage.json
run $sm memory import stage.json --project proj
printf -- '---\nselectors: {workflow_stages: [research]}\n---\nStage memory.\n' >"$C/context/stagemem.md"
sed 's/global_modules: \["ctx:rules"\]/global_modules: ["ctx:stagemem"]/' wf.yaml >wf-s.yaml
run $sm context preview wf-c.yaml research --project proj --format json
check "file pattern selects by anchor" json_eq '[i["via"] for i in j["research"]["manifest"]["items"] if i["type"] == "style_rule"] == ["ctx:cfiles"]'
run $sm context preview wf-s.yaml research --project proj --format json
check "workflow_stages selects by provenance" json_eq '[i["type"] for i in j["research"]["manifest"]["items"] if i["via"] == "ctx:stagemem"] == ["fix"]'

# bad module files are located errors
printf -- '---\nmax_tokens: -5\n---\nx\n' >"$C/context/rules.md"
run $sm workflow plan wf.yaml
check "bad module: exit 1" exit_is 1
check "bad module: located" err_has "context/rules.md:2:13: error: [context] field 'max_tokens'"
printf -- '---\ndescription: unterminated\n' >"$C/context/rules.md"
run $sm context preview wf.yaml
check "unclosed front matter" err_has "never closed"
rm "$C/context/rules.md"
run $sm workflow plan wf.yaml
check "missing module is an error" err_has "ctx:rules"
check "missing module: exit 1" exit_is 1

# ---- runs: the pack is injected and recorded -------------------------------------------
printf -- '---\nselectors: {memory_types: [constraint]}\n---\nRun the tests.\n' >"$C/context/rules.md"
FAKE_CLAUDE_OUTPUTS='{"learnings": ["Cache the DAG", {"content": "Flaky test: t0007", "type": "gotcha", "confidence": 0.6}, {"type": "fix"}, "Never push to main"]}' \
	run $sm workflow run wf.yaml --workdir proj
check "run completes" exit_is 0
check "agent prompt holds the pack" python3 -c 'import json,sys; p=json.loads(open("agent.log").read().splitlines()[-1])["prompt"]; sys.exit(0 if "## Context: ctx:rules" in p and "- Never push to main" in p else 1)'
check "command stage reads \$SKILLMEAT_CONTEXT" grep -q "Run the tests." proj/build-context.md
check "consumption recorded" test "$(q "SELECT json_array_length(json_extract(data, '$.items')) FROM events WHERE type='context_consumed' AND stage_id='research'")" = 2
run $sm workflow runs last
check "runs RUN shows the context" out_has "context: ctx:rules; 2 memory items"

# capture: learnings become candidates of the run's project, with provenance
run $sm memory capture --run last --format json
check "capture: added" json_eq 'len(j["added"]) == 2 and len(j["duplicates"]) == 1 and len(j["skipped"]) == 1'
check "capture: provenance" test "$(mq "SELECT json_extract(provenance, '$.stage') || ' ' || status || ' ' || type FROM memory_items WHERE content='Flaky test: t0007'")" = "research candidate gotcha"
check "capture: project is the run's workdir" test "$(mq "SELECT project FROM memory_items WHERE content='Cache the DAG'")" = "$P"
run $sm memory capture --run last
check "capture twice: nothing new" out_has "0 candidates added, 3 already known, 1 skipped"
run $sm memory capture
check "capture needs --run" exit_is 2
done_testing
