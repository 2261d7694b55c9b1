#!/bin/sh
# Handoffs: the record each finished stage hands on (schema/handoff.schema.json),
# how command stages ($SKILLMEAT_HANDOFF) and agents (their prompt) receive
# it in each format, files changed from git (and from the stage's own list
# outside a work tree), summary_prompt, include_run_log, trimming in a small
# budget, `runs RUN --stage`, and output contracts (class output_contract).
. "$(dirname "$0")/lib.sh"
fakes=$(cd "$(dirname "$0")/../fake-agents" && pwd)
schema=$(cd "$(dirname "$0")/../../schema" && pwd)/handoff.schema.json
cd "$TMP" || exit 1
export NO_COLOR=1
mkdir bin
ln -s "$fakes/fake-claude" bin/claude
export PATH="$TMP/bin:$PATH"
export FAKE_AGENT_LOG="$TMP/agent.log"
q() { sqlite3 "$SKILLMEAT_HOME/workflow-runs.db" "$1"; }
last_run() { q "SELECT id FROM runs ORDER BY created_at DESC LIMIT 1"; }
handoff() { q "SELECT handoff FROM stages WHERE run_id='$(last_run)' AND stage_id='$1'"; }
hq() { # stage, python expression over the stage's handoff `h`
	handoff "$1" >"$TMP/h.json"
	python3 -c 'import json,sys; h=json.load(open(sys.argv[1])); sys.exit(0 if eval(sys.argv[2]) else 1)' "$TMP/h.json" "$2"
}
valid_record() { # the stage's record against the schema (jsonschema when installed)
	handoff "$1" >"$TMP/h.json"
	python3 - "$schema" "$TMP/h.json" <<'P'
import json, sys
schema, rec = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
try:
    import jsonschema
except ImportError:  # the required keys at least
    sys.exit(0 if all(k in rec for k in schema["required"]) else 1)
jsonschema.validate(rec, schema)
P
}

# ---- command stages in a git work tree ----
mkdir repo
cd repo || exit 1
git init -q . && git config user.email t@example.com && git config user.name t
echo one >kept.txt && echo base >edited-twice.txt && git add . && git commit -qm init
echo dirty-before >>edited-twice.txt   # modified before the run: still seen when edited again
cat >wf.yaml <<'Y'
workflow: {id: ho, name: Handoff}
stages:
  - id: make
    name: Make
    type: command
    run: |
      sleep 0.05
      echo new >created.txt
      echo again >>edited-twice.txt
      rm kept.txt
      echo "size=3" >> "$SKILLMEAT_OUTPUT"
      echo "made three changes"
    outputs: {size: {type: string}}
    handoff: {format: markdown, include_run_log: true, files_changed: true}
  - id: use
    name: Use
    type: command
    depends_on: [make]
    run: |
      python3 - "$SKILLMEAT_HANDOFF" <<'P'
      import json, sys
      h = json.load(open(sys.argv[1]))
      m = h["make"]
      print("got", sorted(h), m["status"], m["outputs"]["size"], m["attempt"])
      print("files", sorted((f["path"], f["status"]) for f in m["files_changed"]))
      P
Y
git add wf.yaml && git commit -qm wf
run $sm workflow run wf.yaml
check "git run completes" exit_is 0
check "command gets the upstream record" err_has "use | got ['make'] completed 3 1"
check "files changed, from git" err_has "use | files [('created.txt', 'untracked'), ('edited-twice.txt', 'modified'), ('kept.txt', 'deleted')]"
check "files_source git" hq make 'h["files_source"] == "git"'
check "record: ids and status" hq make 'h["run_id"] and h["stage_id"] == "make" and h["status"] == "completed" and h["version"] == 1'
check "record: outputs" hq make 'h["outputs"] == {"size": "3"}'
check "record: final text is the stdout" hq make '"made three changes" in h["final_text"]'
check "record: run log excerpt" hq make 'h["run_log"].endswith("made three changes")'
check "record: usage" hq make 'h["usage"]["input_tokens"] == 0 and h["usage"]["usd"] == 0'
check "record: memory" hq make 'h["memory"] == {"consumed": [], "candidates": []}'
check "record fits the schema" valid_record make
check "a stage with nothing upstream gets {}" sh -c "test \"\$(cat '$SKILLMEAT_HOME/runs/$(last_run)/make/1/handoff.json')\" = '{}'"
run $sm workflow runs last --stage make
check "runs --stage: markdown record" out_has "### Handoff from stage make (Make): completed, attempt 1"
check "runs --stage: files" out_has "- created.txt (untracked)"
run $sm workflow runs last --stage make --format json
check "runs --stage --format json" json_eq 'j["handoff"]["stage_id"] == "make" and j["stage_id"] == "make"'
run $sm workflow runs last --stage nope
check "runs --stage unknown" err_has "has no stage 'nope'"
cd "$TMP" || exit 1

# ---- the home inside the work tree: git never walks it; only stages that ask look ----
mkdir inrepo
cd inrepo || exit 1
git init -q . && git config user.email t@example.com && git config user.name t
echo a >tracked.txt && echo b >dirty.txt && echo c >still.txt && git add . && git commit -qm init
echo dirty-before >>dirty.txt
cat >wf.yaml <<'Y'
workflow: {id: inrepo, name: In repo}
stages:
  - id: edit
    name: Edit
    type: command
    run: |
      echo changed >>tracked.txt
      echo new >untracked.txt
      sleep 0.01
      touch dirty.txt
    handoff: {files_changed: true}
  - id: quiet
    name: Quiet
    type: command
    depends_on: [edit]
    run: echo hi >quiet.txt
Y
git add wf.yaml && git commit -qm wf
outer_home=$SKILLMEAT_HOME
export SKILLMEAT_HOME="$TMP/inrepo/.smhome"
run $sm workflow run wf.yaml
check "home inside the tree: the run completes" exit_is 0
check "...its files are exactly the stage's (tracked, untracked, an already dirty one touched)" \
	hq edit 'sorted((f["path"], f["status"]) for f in h["files_changed"]) == [("dirty.txt", "modified"), ("tracked.txt", "modified"), ("untracked.txt", "untracked")] and h["files_source"] == "git"'
check "...a command stage that does not ask is not looked at" \
	hq quiet 'h["files_source"] == "none" and h["files_changed"] == [] and "repository" not in h'
check "...only the asking stage noted the tree" sh -c "test -e '$SKILLMEAT_HOME/runs/$(last_run)/edit/git-before' && ! test -e '$SKILLMEAT_HOME/runs/$(last_run)/quiet/git-before'"
export SKILLMEAT_HOME="$outer_home"
cd "$TMP" || exit 1

# ---- outside a work tree: what the stage listed ----
cat >listed.yaml <<'Y'
workflow: {id: listed, name: Listed}
stages:
  - id: a
    name: A
    type: command
    run: echo 'files_changed=["src/x.c"]' >> "$SKILLMEAT_OUTPUT"
    outputs: {files_changed: {type: string}}
Y
run $sm workflow run listed.yaml
check "no git: files from the stage" hq a 'h["files_source"] == "none"'
cat >listed.yaml <<'Y'
workflow: {id: listed, name: Listed}
stages:
  - id: a
    name: A
    roles: {primary: {artifact: "agent:lister"}}
    outputs: {files_changed: {type: "array<string>"}}
Y
FAKE_CLAUDE_OUTPUTS='{"files_changed": ["src/x.c", "README.md"]}' run $sm workflow run listed.yaml --allow-missing
check "no git: an agent's list" hq a 'h["files_source"] == "stage" and [f["path"] for f in h["files_changed"]] == ["src/x.c", "README.md"]'

# ---- agents: prompts, formats, summary_prompt, trimming ----
cat >agents.yaml <<'Y'
workflow: {id: ag, name: Agents}
stages:
  - id: plan
    name: Plan
    roles: {primary: {artifact: "agent:planner"}}
    outputs: {steps: {type: "array<string>"}}
    handoff: {format: structured, summary_prompt: "Summarise the plan in one line."}
  - id: notes
    name: Notes
    type: command
    run: echo "the raw final words"
    handoff: {format: raw}
  - id: build
    name: Build
    depends_on: [plan, notes]
    roles: {primary: {artifact: "agent:builder"}}
Y
: >"$TMP/agent.log"
FAKE_CLAUDE_OUTPUTS_plan='{"steps": ["a", "b"], "handoff_summary": "Two steps: a then b."}' \
	run $sm workflow run agents.yaml --allow-missing
check "agents run completes" exit_is 0
check "summary_prompt is in the planner's prompt" grep -q 'Summarise the plan in one line.' "$TMP/agent.log"
check "it asks for handoff_summary" grep -q 'handoff_summary' "$TMP/agent.log"
check "the answer is the summary" hq plan 'h["summary"] == "Two steps: a then b."'
check "handoff_summary is not an output" test "$(q "SELECT outputs FROM stages WHERE run_id='$(last_run)' AND stage_id='plan'")" = '{"steps":["a","b"]}'
tail -1 "$TMP/agent.log" >"$TMP/build-prompt.json"
prompt_has() { python3 -c 'import json,sys; p=json.load(open(sys.argv[1]))["prompt"]; sys.exit(0 if sys.argv[2] in p else 1)' "$TMP/build-prompt.json" "$1"; }
check "the builder's prompt has the handoffs" prompt_has "# Handoffs from the stages this one depends on"
check "structured: the JSON record" prompt_has '"summary": "Two steps: a then b."'
check "raw: the final text" prompt_has "### Handoff from stage notes (raw)"
check "raw: its words" prompt_has "the raw final words"

# A long upstream answer in a small budget: trimmed, with a note.
cat >small.yaml <<'Y'
workflow: {id: small, name: Small}
stages:
  - id: talk
    name: Talk
    type: command
    run: python3 -c 'print("word " * 20000)'
  - id: listen
    name: Listen
    depends_on: [talk]
    roles: {primary: {artifact: "agent:listener"}}
    context: {memory: {max_tokens: 100}}
Y
run $sm workflow run small.yaml --allow-missing
tail -1 "$TMP/agent.log" >"$TMP/build-prompt.json"
check "trimmed with a note" prompt_has "[handoff trimmed to fit the prompt: \`skillmeat workflow runs"
check "the prompt stays small" python3 -c 'import json,sys; sys.exit(0 if len(json.load(open(sys.argv[1]))["prompt"]) < 12000 else 1)' "$TMP/build-prompt.json"
check "the record keeps the tail of the text" hq talk 'len(h["final_text"]) == 16384'

# ---- output contracts ----
cat >contract.yaml <<'Y'
workflow: {id: contract, name: Contract}
stages:
  - id: a
    name: A
    roles: {primary: {artifact: "agent:x"}}
    outputs: {verdict: {type: string}, score: {type: integer, required: false}}
    error_policy: {retry: {max_attempts: 3, initial_interval: 1s, non_retryable_errors: [output_contract]}}
Y
FAKE_CLAUDE_OUTPUTS='{"score": 3}' run $sm workflow run contract.yaml --allow-missing
check "missing required output: fails" exit_is 1
check "class output_contract" test "$(q "SELECT error_class FROM stages WHERE run_id='$(last_run)'")" = output_contract
check "the message names the output" test "$(q "SELECT error FROM stages WHERE run_id='$(last_run)'")" = "required output 'verdict' (string) is missing"
check "non_retryable_errors can name it: one attempt" test "$(q "SELECT attempt FROM stages WHERE run_id='$(last_run)'")" = 1
check "a failed stage hands off too" hq a 'h["status"] == "failed" and h["error"]["class"] == "output_contract"'
FAKE_CLAUDE_OUTPUTS='{"verdict": "ok", "score": "high"}' run $sm workflow run contract.yaml --allow-missing
check "wrong type: output_contract" test "$(q "SELECT error FROM stages WHERE run_id='$(last_run)'")" = "output 'score' must be integer, got string"
done_testing
