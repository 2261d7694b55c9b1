#!/bin/sh
# The agent CLIs as they really speak (tests/fake-agents, built from
# docs/agent-protocols.md), through `workflow run`: usage counted once per
# message (no false budget_exceeded), an agent lingering after its result,
# a rate limit waited out without spending an attempt, a result line over
# 1 MiB, a SIGTERM abort, auth failures not retried; and every bound
# artifact reaching the agent natively: a skill's files byte for byte in a
# plugin folder, an MCP server in --mcp-config, the agent's frontmatter and
# the stage's permissions as flags, codex's -c overrides, and a warning at
# validate for what a CLI cannot take.
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
# argv_has WORDS: the last agent call's argv (from agent.log) contains WORDS.
argv_has() { case " $argv " in *" $1 "*) return 0 ;; esac; return 1; }
last_run() { q "SELECT id FROM runs ORDER BY created_at DESC LIMIT 1"; }
last_stage() { q "SELECT $1 FROM stages WHERE run_id='$(last_run)' AND stage_id='$2'"; }
mkdir -p "$SKILLMEAT_HOME"

# ---- usage once per message: 3 lines of one message must not trip a 60k budget ----
cat >budget.yaml <<'Y'
workflow: {id: budget, name: Budget}
stages:
  - id: a
    name: A
    roles: {primary: {artifact: "agent:x", model: sonnet}}
    budget: {max_tokens: 60000}
    error_policy: {retry: {max_attempts: 1}, timeout: 30s}
    outputs: {summary: {type: string}}
Y
FAKE_CLAUDE_SLEEP=1 FAKE_CLAUDE_OUTPUTS='{"summary": "s"}' run $sm workflow run budget.yaml --allow-missing
check "multi-block messages: no false budget_exceeded" exit_is 0
check "tokens are the result's" test "$(q "SELECT input_tokens || '+' || output_tokens FROM attempts ORDER BY started_at DESC LIMIT 1")" = 1000+200
check "the cost is claude's own" test "$(q "SELECT usd FROM attempts ORDER BY started_at DESC LIMIT 1")" = 0.0125
check "a usage event per attempt" test "$(q "SELECT json_extract(data, '$.reported') FROM events WHERE type='usage' ORDER BY seq DESC LIMIT 1")" = 1

# ---- lingering after the result: stopped, judged by the result ----
printf '[engine]\nresult_grace = "1s"\n' >"$SKILLMEAT_HOME/config.toml"
start=$(date +%s)
FAKE_CLAUDE_MODE=linger FAKE_CLAUDE_OUTPUTS='{"summary": "s"}' run $sm workflow run budget.yaml --allow-missing
took=$(( $(date +%s) - start ))
check "a lingering agent's answer is kept" exit_is 0
check "stopped soon after its result (${took}s, timeout 30s)" test "$took" -lt 15
check "the log says why it was stopped" err_has "still running"
check "one attempt, not retried" test "$(q "SELECT count(*) FROM attempts WHERE run_id='$(last_run)'")" = 1

# ---- rate limited: waits for the reset, costs no attempt ----
FAKE_CLAUDE_RATE_LIMIT_ONCE="$TMP/limited" FAKE_CLAUDE_OUTPUTS='{"summary": "s"}' run $sm workflow run budget.yaml --allow-missing
check "rate limit waited out (max_attempts 1)" exit_is 0
check "two attempts" test "$(q "SELECT count(*) FROM attempts WHERE run_id='$(last_run)'")" = 2
check "the first was rate_limited" test "$(q "SELECT error_class FROM attempts WHERE run_id='$(last_run)' ORDER BY attempt LIMIT 1")" = rate_limited
printf '[engine]\nrate_limit_retries = 0\n' >"$SKILLMEAT_HOME/config.toml"
rm -f "$TMP/limited"
FAKE_CLAUDE_RATE_LIMIT_ONCE="$TMP/limited" run $sm workflow run budget.yaml --allow-missing
check "rate_limit_retries = 0: an ordinary failure" test "$(last_stage error_class a)" = rate_limited
check "its message is the CLI's, without subtype noise" test "$(last_stage error a)" = "claude: You've hit your limit · resets 3pm"
rm "$SKILLMEAT_HOME/config.toml"

# ---- other real shapes ----
FAKE_CLAUDE_MODE=big-result FAKE_CLAUDE_OUTPUTS='{"summary": "big"}' run $sm workflow run budget.yaml --allow-missing
check "a result line over 1 MiB completes" exit_is 0
check "its outputs are read" test "$(last_stage outputs a)" = '{"summary":"big"}'
FAKE_CLAUDE_MODE=sigterm run $sm workflow run budget.yaml --allow-missing
check "SIGTERM abort: exit_143" test "$(last_stage error_class a)" = exit_143
sed 's/max_attempts: 1/max_attempts: 3/; s/30s/30s, backoff: {initial_interval: 1s}/' budget.yaml >retry.yaml
FAKE_CLAUDE_MODE=auth run $sm workflow run retry.yaml --allow-missing
check "auth failure: auth_error" test "$(last_stage error_class a)" = auth_error
check "auth failure: not retried" test "$(q "SELECT count(*) FROM attempts WHERE run_id='$(last_run)'")" = 1

# ---- bound artifacts reach the agent natively ----
run $sm init
C="$SKILLMEAT_HOME/collections/default"
mkdir -p "$C/agents" "$C/skills/git-ops/scripts"
printf -- '---\nname: dev\nmodel: opus\ntools: Read, Grep, Bash(git diff:*)\npermissionMode: plan\n---\nYou are a careful developer.\n' >"$C/agents/dev.md"
printf -- '---\nname: git-ops\ndescription: Git operations\n---\nUse git carefully.\n' >"$C/skills/git-ops/SKILL.md"
printf '#!/bin/sh\necho ops\n' >"$C/skills/git-ops/scripts/run.sh"
chmod +x "$C/skills/git-ops/scripts/run.sh"
printf '\000\001\002\377binary' >"$C/skills/git-ops/data.bin"
cat >>"$C/collection.toml" <<'T'

[[mcp_servers]]
name = "github"
repo = "github/github-mcp-server"
command = "npx"
args = ["-y", "@modelcontextprotocol/server-github"]
env_vars = { GITHUB_TOKEN = "${GITHUB_TOKEN}" }
T
cat >bound.yaml <<'Y'
workflow: {id: bound, name: Bound}
stages:
  - id: code
    name: Code
    roles:
      primary: {artifact: "agent:dev"}
      tools: ["skill:git-ops", "mcp:github"]
    error_policy: {retry: {max_attempts: 1}, timeout: 30s}
    outputs: {summary: {type: string}}
Y
: >agent.log
FAKE_CLAUDE_CHECK_SKILL="git-ops:$C/skills/git-ops" FAKE_CLAUDE_CHECK_MCP=github \
	FAKE_CLAUDE_OUTPUTS='{"summary": "s"}' run $sm workflow run bound.yaml
check "skill and MCP server handed over natively (the fake checked while running)" exit_is 0
argv=$(python3 -c 'import json; print(" ".join(json.loads(open("agent.log").readline())["argv"]))')
check "frontmatter model as --model" argv_has '--model opus'
check "frontmatter tools as --tools (built-in names)" argv_has '--tools Read,Grep,Bash'
check "frontmatter tools do not pre-approve" test "${argv#*--allowedTools}" = "$argv"
check "frontmatter permissionMode" argv_has '--permission-mode plan'
check "--strict-mcp-config" argv_has '--strict-mcp-config'
dir="$SKILLMEAT_HOME/runs/$(last_run)/code/1"
check "the system prompt is the body, no frontmatter" test "$(cat "$dir/system-prompt.md")" = "You are a careful developer."
check "delivered.json records the skill" test "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["skills"])' "$dir/delivered.json")" = "['git-ops']"
check "delivered.json records the MCP server" test "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["mcp_servers"]["github"]["command"])' "$dir/delivered.json")" = npx
check "the script stays executable" test -x "$dir/plugin/skills/git-ops/scripts/run.sh"
check "the MCP env is passed" grep -q 'GITHUB_TOKEN' "$dir/mcp.json"
check "nothing written to the user's claude folder" test ! -e "$HOME/.claude/skills/git-ops"
FAKE_CLAUDE_CHECK_SKILL="git-ops:$C/agents" run $sm workflow run bound.yaml
check "the fake's check can fail (a different folder)" exit_is 1
check "...and says what differs" test -n "$(last_stage error code | grep 'skill files differ')"

# ---- stage permissions win over the frontmatter ----
cat >perm.yaml <<'Y'
workflow: {id: perm, name: Perm}
stages:
  - id: code
    name: Code
    roles: {primary: {artifact: "agent:dev"}}
    permissions: {mode: dontAsk, allowed_tools: ["Read"], disallowed_tools: ["WebFetch"]}
    outputs: {summary: {type: string}}
Y
: >agent.log
FAKE_CLAUDE_OUTPUTS='{"summary": "s"}' run $sm workflow run perm.yaml
argv=$(python3 -c 'import json; print(" ".join(json.loads(open("agent.log").readline())["argv"]))')
check "stage permission mode wins" argv_has '--permission-mode dontAsk'
check "stage allowed tools win" argv_has '--allowedTools Read'
check "disallowed tools" argv_has '--disallowedTools WebFetch'
sed 's/dontAsk/sometimes/' perm.yaml >badperm.yaml
run $sm workflow validate badperm.yaml
check "an unknown permission mode is an error" exit_is 1
check "...located" err_has "badperm.yaml:6"

# ---- codex: MCP as -c overrides, sandbox from the mode; a skill is a warning ----
sed 's/artifact: "agent:dev"}/artifact: "agent:dev", runner: codex, model: gpt-5}/' bound.yaml >codex.yaml
run $sm workflow validate codex.yaml
check "validate warns: codex cannot take the skill" err_has "runner 'codex' is not given this: skill 'git-ops': codex loads skills only from its own folders"
: >agent.log
FAKE_CODEX_OUTPUTS='{"summary": "s"}' run $sm workflow run codex.yaml
check "codex run completes" exit_is 0
argv=$(python3 -c 'import json; print(" ".join(json.loads(open("agent.log").readline())["argv"]))')
check "codex MCP command override" argv_has '-c mcp_servers.github.command="npx"'
check "codex MCP args override" argv_has 'mcp_servers.github.args=["-y","@modelcontextprotocol/server-github"]'
check "codex sandbox from permissionMode plan" argv_has '--sandbox read-only'
check "the attempt's log warns about the skill" err_has "warning: not delivered: skill 'git-ops'"
FAKE_CODEX_MODE=rate-limit run $sm workflow run codex.yaml
check "codex usage limit: rate_limited, waited out, then the same again" test "$(last_stage error_class code)" = rate_limited

# ---- gemini: MCP servers in its highest settings layer, the admin's settings kept ----
sed 's/artifact: "agent:dev"}/artifact: "agent:dev", runner: gemini, model: gemini-2.5-pro}/' bound.yaml >gemini.yaml
printf '{"general": {"previewFeatures": false}, "mcpServers": {"corp": {"command": "corp-mcp"}}}\n' >admin.json
GEMINI_CLI_SYSTEM_SETTINGS_PATH="$TMP/admin.json" FAKE_GEMINI_CHECK_MCP=github:general \
	FAKE_GEMINI_OUTPUTS='{"summary": "s"}' run $sm workflow run gemini.yaml
check "gemini is given the MCP server natively" exit_is 0
settings="$SKILLMEAT_HOME/runs/$(last_run)/code/1/gemini-settings.json"
check "the admin's own servers are kept" test "$(python3 -c 'import json,sys; print(sorted(json.load(open(sys.argv[1]))["mcpServers"]))' "$settings")" = "['corp', 'github']"
check "the admin's file is untouched" test "$(cat admin.json)" = '{"general": {"previewFeatures": false}, "mcpServers": {"corp": {"command": "corp-mcp"}}}'
FAKE_GEMINI_CHECK_MCP=nothere run $sm workflow run gemini.yaml
check "gemini's check can fail" test "$(last_stage error_class code)" = config_error

# ---- runners check ----
run $sm runners check --format json
check "runners check: all found" exit_is 0
check "runners check: claude ok at its version" json_eq 'j["runners"][0] == {"name": "claude", "protocol": "claude", "program": "claude", "path": "'"$TMP"'/bin/claude", "version": "2.1.286 (Claude Code)", "status": "ok", "note": None}'
check "runners check: gemini's bare version read" json_eq '[r["status"] for r in j["runners"]] == ["ok", "ok", "ok"]'
printf '#!/bin/sh\necho 0.5.2\n' >bin/old-gemini
chmod +x bin/old-gemini
printf '[runners.oldg]\ncommand = ["old-gemini"]\nprotocol = "gemini"\n[runners.gone]\ncommand = ["no-such-agent"]\nprotocol = "claude"\n' >"$SKILLMEAT_HOME/config.toml"
run $sm runners check oldg
check "an incompatible version fails the check" exit_is 1
check "...and says why" out_has "--output-format json needs Gemini CLI 0.6.0 or later"
run $sm runners check
check "a runner not installed is listed, not an error" out_has "not_found"
run $sm runners check gone
check "...unless it is named" exit_is 1
run $sm runners check nope
check "an unknown runner is a usage error" exit_is 2
rm "$SKILLMEAT_HOME/config.toml"
check "integrity" test "$(q 'PRAGMA integrity_check')" = ok
done_testing
