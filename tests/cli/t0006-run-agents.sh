#!/bin/sh
# Agent stages against fake agent programs that speak the real protocols
# (tests/fake-agents): claude stream-json, codex exec --json, gemini JSON,
# and a user runner from config.toml; success, contract violations,
# malformed and truncated streams, non-zero exits, huge output, hangs,
# budgets.
. "$(dirname "$0")/lib.sh"
fakes=$(cd "$(dirname "$0")/../fake-agents" && pwd)
cd "$TMP" || exit 1
export NO_COLOR=1
mkdir bin
ln -s "$fakes/fake-claude" bin/claude
ln -s "$fakes/fake-codex" bin/codex
ln -s "$fakes/fake-gemini" bin/gemini
export PATH="$TMP/bin:$PATH"
export FAKE_AGENT_LOG="$TMP/agent.log"
q() { sqlite3 "$SKILLMEAT_HOME/workflow-runs.db" "$1"; }
last_stage() { q "SELECT $1 FROM stages WHERE run_id=(SELECT id FROM runs ORDER BY created_at DESC LIMIT 1) AND stage_id='$2'"; }

cat >agent.yaml <<'Y'
workflow: {id: agent, name: Agent}
config:
  parameters:
    topic: {type: string, default: caching}
  budget: {max_usd: 1.0}
stages:
  - id: research
    name: Research
    roles:
      primary:
        artifact: "agent:researcher"
        model: sonnet
        instructions: "Research ${{ parameters.topic }}."
    budget: {max_turns: 5, max_usd: 0.5}
    error_policy: {retry: {max_attempts: 1}, timeout: 3s}
    outputs:
      summary: {type: string}
      score: {type: integer, required: false, default: 7}
  - id: use
    name: Use
    type: command
    depends_on: [research]
    run: echo "summary=$S" >> "$SKILLMEAT_OUTPUT"
    env: {S: "${{ stages.research.outputs.summary }}"}
    outputs: {summary: {type: string}}
Y
export FAKE_CLAUDE_OUTPUTS='{"summary": "use a CDN"}'
run $sm workflow run agent.yaml --allow-missing
check "claude run completes" exit_is 0
check "assistant text becomes log lines" err_has "research | Working on it."
check "tool use is logged" err_has "research | tool: Read"
check "outputs handed to the next stage" test "$(last_stage outputs use)" = '{"summary":"use a CDN"}'
check "output default filled" test "$(last_stage outputs research)" = '{"summary":"use a CDN","score":7}'
check "prompt on stdin has the instructions" grep -q 'Research caching.' agent.log
check "prompt states the output contract" grep -q 'summary. (string, required)' agent.log
check "model passed" grep -q '"--model", "sonnet"' agent.log
check "max turns passed" grep -q '"--max-turns", "5"' agent.log
check "budget passed" grep -q '"--max-budget-usd", "0.5000"' agent.log
check "session id is ours" test "$(q "SELECT session_id FROM attempts WHERE stage_id='research' ORDER BY started_at DESC LIMIT 1" | wc -c)" -eq 37
check "cost recorded" test "$(q "SELECT usd FROM attempts WHERE stage_id='research' ORDER BY started_at DESC LIMIT 1")" = 0.0125
check "tokens recorded" test "$(q "SELECT input_tokens || '+' || output_tokens FROM attempts WHERE stage_id='research' ORDER BY started_at DESC LIMIT 1")" = 1000+200
check "raw protocol lines kept" test "$(q "SELECT count(*) FROM events WHERE type='output' AND stage_id='research'")" -ge 3

for mode in error api-error max-turns truncated garbage exit3 no-json; do
	FAKE_CLAUDE_MODE=$mode run $sm workflow run agent.yaml --allow-missing
	check "claude $mode: the run fails" exit_is 1
	cls=$(last_stage error_class research)
	case $mode in
	error) want=agent_error ;; api-error) want=api_error ;; max-turns) want=max_turns ;;
	truncated | garbage) want=protocol_error ;; exit3) want=exit_3 ;; no-json) want=output_contract ;;
	esac
	check "claude $mode: class $want (got $cls)" test "$cls" = "$want"
done
FAKE_CLAUDE_OUTPUTS='{"summary": 42}' run $sm workflow run agent.yaml --allow-missing
check "wrong output type fails" test "$(last_stage error research)" = "output 'summary' must be string, got integer"

FAKE_CLAUDE_MODE=hang run $sm workflow run agent.yaml --allow-missing
check "a hanging agent is killed at its timeout" test "$(last_stage error_class research)" = timeout
FAKE_CLAUDE_MODE=huge run $sm workflow run agent.yaml --allow-missing
check "huge output: still completes" exit_is 0

# Budget: the run's $1 is spent by 100 stages' worth? Use a tiny run budget.
sed 's/max_usd: 1.0/max_usd: 0.02/' agent.yaml >budget.yaml
cat >>budget.yaml <<'Y'
  - id: again
    name: Again
    depends_on: [use]
    roles: {primary: {artifact: "agent:researcher"}}
    outputs: {summary: {type: string}}
    budget: {max_usd: 0.01}
Y
run $sm workflow run budget.yaml --allow-missing
check "budget: the run fails" exit_is 1
check "budget: a distinct class, refused before launch" test "$(last_stage error_class research)" = budget_exceeded
check "budget: an event" test "$(q "SELECT count(*) FROM events WHERE type='budget_exceeded'")" -ge 1

# codex and gemini.
sed 's/model: sonnet/model: gpt-5/; s/        artifact: "agent:researcher"/        artifact: "agent:researcher"\n        runner: codex/' agent.yaml >codex.yaml
FAKE_CODEX_OUTPUTS='{"summary": "from codex"}' run $sm workflow run codex.yaml --allow-missing
check "codex run completes" exit_is 0
check "codex outputs" test "$(last_stage outputs use)" = '{"summary":"from codex"}'
check "codex command logged" err_has 'research | $ bash -lc ls'
lastrun() { q "SELECT $1 FROM runs ORDER BY created_at DESC LIMIT 1"; }
lastattempt() { q "SELECT $1 FROM attempts WHERE stage_id='research' ORDER BY started_at DESC LIMIT 1"; }
check "manifest: runner version" test "$(lastrun "json_extract(manifest, '$.runners.codex.version')")" = "codex-cli 0.171.0"
check "manifest: runner protocol" test "$(lastrun "json_extract(manifest, '$.runners.codex.protocol')")" = codex
check "manifest: models" test "$(lastrun "json_extract(manifest, '$.models.research')")" = gpt-5
# codex reports no cost: 300 in + 40 out tokens of gpt-5 at the built-in $1.25/$10 per Mtok.
check "codex cost priced" test "$(lastattempt usd)" = 0.000775
check "pricing logged" err_has 'cost of gpt-5 estimated from tokens (gpt-5): 300 in, 0 cache read, 0 cache write, 40 out'
mkdir -p "$SKILLMEAT_HOME"
printf '[prices."gpt-5"]\ninput_per_mtok = 2\noutput_per_mtok = 5.0\n' >"$SKILLMEAT_HOME/config.toml"
FAKE_CODEX_OUTPUTS='{"summary": "from codex"}' run $sm workflow run codex.yaml --allow-missing
check "config price wins" test "$(lastattempt usd)" = 0.0008
check "run spend adds up" test "$(lastrun usd)" = 0.0008
printf '[prices."gpt-5"]\ninput_per_mtok = -1\noutput_per_mtok = 5.0\n' >"$SKILLMEAT_HOME/config.toml"
run $sm workflow run codex.yaml --allow-missing
check "negative price refused" exit_is 1
check "negative price located" err_has 'config.toml:2:18: prices."gpt-5".input_per_mtok must be between 0 and 1000000'
printf '[prices."gpt-4o"]\ninput_per_mtok = 1\n' >"$SKILLMEAT_HOME/config.toml"
run $sm workflow run codex.yaml --allow-missing
check "missing price field named" err_has 'prices."gpt-4o".output_per_mtok must be a number'
rm "$SKILLMEAT_HOME/config.toml"
FAKE_CODEX_MODE=fail run $sm workflow run codex.yaml --allow-missing
check "codex turn.failed" test "$(last_stage error research)" = "codex: model refused"
FAKE_CODEX_MODE=truncated run $sm workflow run codex.yaml --allow-missing
check "codex truncated" test "$(last_stage error_class research)" = protocol_error
FAKE_GEMINI_OUTPUTS='{"summary": "from gemini"}' run $sm workflow run agent.yaml --allow-missing --runner gemini
check "gemini run completes" exit_is 0
check "gemini tokens" test "$(q "SELECT input_tokens || '+' || output_tokens FROM attempts WHERE stage_id='research' ORDER BY started_at DESC LIMIT 1")" = 90+35
check "gemini: the model that did the work, not the router's" test "$(lastattempt model)" = gemini-2.5-pro
FAKE_GEMINI_MODE=input-error run $sm workflow run agent.yaml --allow-missing --runner gemini
check "gemini exit 42" test "$(last_stage error_class research)" = input_error
FAKE_GEMINI_MODE=garbage run $sm workflow run agent.yaml --allow-missing --runner gemini
check "gemini garbage" test "$(last_stage error_class research)" = protocol_error

# A user runner from config.toml speaking the claude protocol.
mkdir -p "$SKILLMEAT_HOME"
cat >"$SKILLMEAT_HOME/config.toml" <<T
[runners.mine]
command = ["$fakes/fake-claude", "-p", "--output-format", "stream-json", "--model", "{model}"]
protocol = "claude"
T
FAKE_CLAUDE_OUTPUTS='{"summary": "mine"}' run $sm workflow run agent.yaml --allow-missing --runner mine
check "user runner completes" exit_is 0
check "user runner outputs" test "$(last_stage outputs use)" = '{"summary":"mine"}'
check "manifest: user runner version" test "$(lastrun "json_extract(manifest, '$.runners.mine.version')")" = "2.1.286 (Claude Code)"
run $sm workflow run agent.yaml --allow-missing --runner nope
check "unknown runner fails" test "$(last_stage error_class research)" = runner_missing
printf '[runners.bad]\nprotocol = 3\n' >"$SKILLMEAT_HOME/config.toml"
run $sm workflow run agent.yaml --allow-missing
check "bad runner config is refused" exit_is 1
check "bad runner config message" err_has "config.toml"
rm "$SKILLMEAT_HOME/config.toml"
check "integrity" test "$(q 'PRAGMA integrity_check')" = ok
done_testing
