#!/bin/sh
# Re-runs (workflow rerun): --failed runs exactly the stages from the one
# that failed (side-effect files), reuses the others with their outputs and
# no cost; --from on a middle stage of a diamond; refusals (contract
# changed, stage removed, run not ended); --reuse-unchanged; a re-run of a
# re-run; lineage both ways; the same through POST .../rerun.
. "$(dirname "$0")/lib.sh"
fakes=$(cd "$(dirname "$0")/../fake-agents" && pwd)
cd "$TMP" || exit 1
export NO_COLOR=1
mkdir bin
ln -s "$fakes/fake-claude" bin/claude
export PATH="$TMP/bin:$PATH"
export FAKE_CLAUDE_OUTPUTS='{"summary": "cdn"}'
q() { sqlite3 "$SKILLMEAT_HOME/workflow-runs.db" "$1"; }
last_run() { q "SELECT id FROM runs ORDER BY created_at DESC, rowid DESC LIMIT 1"; }
stage() { q "SELECT $2 FROM stages WHERE run_id='$1' AND stage_id='$3'"; }
ran() { tr '\n' ' ' <ran.log; }

# Five stages in a line: an agent (it costs), then four commands that log
# that they ran; the third fails until the file `fixed` exists.
cat >five.yaml <<'Y'
workflow: {id: five, name: Five}
config:
  parameters:
    topic: {type: string, default: caching}
stages:
  - id: s1
    name: One
    roles: {primary: {artifact: "agent:researcher", instructions: "Research ${{ parameters.topic }}."}}
    outputs: {summary: {type: string}}
    error_policy: {retry: {max_attempts: 1}}
  - id: s2
    name: Two
    type: command
    depends_on: [s1]
    run: echo s2 >> ran.log; echo "v=$S-2" >> "$SKILLMEAT_OUTPUT"
    env: {S: "${{ stages.s1.outputs.summary }}"}
    outputs: {v: {type: string}}
  - id: s3
    name: Three
    type: command
    depends_on: [s2]
    run: echo s3 >> ran.log; test -f fixed && echo "v=$V-3" >> "$SKILLMEAT_OUTPUT"
    env: {V: "${{ stages.s2.outputs.v }}"}
    outputs: {v: {type: string}}
    error_policy: {retry: {max_attempts: 1}}
  - id: s4
    name: Four
    type: command
    depends_on: [s3]
    run: echo s4 >> ran.log; echo "v=$V-4" >> "$SKILLMEAT_OUTPUT"
    env: {V: "${{ stages.s3.outputs.v }}"}
    outputs: {v: {type: string}}
  - id: s5
    name: Five
    type: command
    depends_on: [s4]
    run: echo "s5 $T" >> ran.log; echo "v=$V-5" >> "$SKILLMEAT_OUTPUT"
    env: {V: "${{ stages.s4.outputs.v }}", T: "${{ parameters.topic }}"}
    outputs: {v: {type: string}}
Y
run $sm workflow run five.yaml --allow-missing -p topic=edge
check "the first run fails at s3" exit_is 1
r0=$(last_run)
check "it ran s2 and s3" test "$(ran)" = "s2 s3 "
check "it cost something" test "$(q "SELECT usd > 0 FROM runs WHERE id='$r0'")" = 1

run $sm workflow rerun "$r0" --from s9
check "--from an unknown stage is refused" exit_is 1
check "  naming it" err_has "the workflow has no stage 's9'"
run $sm workflow rerun "$r0" --failed --from s2
check "--failed with --from is a usage error" exit_is 2

run $sm workflow rerun "$r0" --failed --plan --format json
check "--plan: exit 0" exit_is 0
check "--plan: s1, s2 reused; s3-s5 run" json_eq '[s["action"] for s in j["stages"]] == ["reuse", "reuse", "run", "run", "run"]'
check "--plan: why s3 runs" json_eq 'j["stages"][2]["reason"] == "failed in run '"$r0"'"'
check "--plan: why s4 runs" json_eq 'j["stages"][3]["reason"].startswith("cancelled in run") or "after" in j["stages"][3]["reason"]'
check "--plan: nothing was recorded" test "$(q "SELECT count(*) FROM runs")" = 1

touch fixed
rm ran.log
run $sm workflow rerun "$r0" --failed
check "rerun --failed completes" exit_is 0
r1=$(last_run)
check "a new run" test "$r1" != "$r0"
check "exactly s3, s4 and s5 ran (with the original's parameter)" test "$(ran)" = "s3 s4 s5 edge "
check "s1 and s2 are reused" test "$(stage "$r1" status s1)$(stage "$r1" status s2)" = reusedreused
check "  from the original" test "$(stage "$r1" reused_from s2)" = "$r0"
check "  with their outputs" test "$(stage "$r1" outputs s2)" = '{"v":"cdn-2"}'
check "later stages saw them as if they had just run" test "$(stage "$r1" outputs s5)" = '{"v":"cdn-2-3-4-5"}'
check "reused stages have no attempt" test "$(q "SELECT count(*) FROM attempts WHERE run_id='$r1' AND stage_id IN ('s1','s2')")" = 0
check "the re-run cost nothing (s1 reused)" test "$(q "SELECT usd FROM runs WHERE id='$r1'")" = 0.0
check "rerun_of recorded" test "$(q "SELECT rerun_of FROM runs WHERE id='$r1'")" = "$r0"
check "a stage_reused event each" test "$(q "SELECT count(*) FROM events WHERE run_id='$r1' AND type='stage_reused'")" = 2
check "the handoff record came along" test "$(stage "$r1" "handoff IS NOT NULL" s2)" = 1
run $sm workflow runs "$r1"
check "runs shows the lineage" out_has "re-run of $r0"
check "runs shows a reused stage" out_has "reused from run $r0"
run $sm workflow runs "$r0" --format json
check "the original lists its re-run" json_eq 'j["reruns"] == ["'"$r1"'"]'

# A re-run of a re-run: --from s5 with a new parameter.
rm ran.log
run $sm workflow rerun "$r1" --from s5 -p topic=fog
check "rerun of a rerun completes" exit_is 0
r2=$(last_run)
check "only s5 ran, with the new parameter" test "$(ran)" = "s5 fog "
check "s1 is still reused (from the re-run)" test "$(stage "$r2" status s1)/$(stage "$r2" reused_from s1)" = "reused/$r1"
check "s4 reused: it completed in the re-run" test "$(stage "$r2" status s4)" = reused
check "lineage" test "$(q "SELECT rerun_of FROM runs WHERE id='$r2'")" = "$r1"

# No flag: every stage runs again.
rm ran.log
run $sm workflow rerun "$r2"
check "no flag re-runs all" test "$(ran)" = "s2 s3 s4 s5 fog "

# --reuse-unchanged: change s4 only; s1-s3 are reused, s4 and s5 run.
r3=$(last_run)
sed -i 's/echo s4 >> ran.log/echo s4-changed >> ran.log/' five.yaml
rm ran.log
run $sm workflow rerun "$r3" --reuse-unchanged --plan
check "plan says s3 is unchanged" out_has "unchanged since run $r3"
check "plan says s4 changed" out_has "changed since run $r3: its definition"
run $sm workflow rerun "$r3" --reuse-unchanged
check "--reuse-unchanged completes" exit_is 0
check "exactly the changed stage and the one after it ran" test "$(ran)" = "s4-changed s5 fog "
r4=$(last_run)
check "s3 reused" test "$(stage "$r4" status s3)" = reused
run $sm workflow rerun "$r4" --reuse-unchanged
check "nothing changed: refused, nothing to re-run" exit_is 1
check "  saying so" err_has "nothing to re-run"
rm ran.log
run $sm workflow rerun "$r4" --reuse-unchanged -p topic=rain
check "a parameter changed: every stage runs" test "$(ran)" = "s2 s3 s4-changed s5 rain "

# Refusals: the contract of a stage to reuse changed; a completed stage removed.
sed 's/    outputs: {summary: {type: string}}/    outputs: {summary: {type: string}, score: {type: integer}}/' five.yaml >five2.yaml
cp five.yaml five.orig && cp five2.yaml five.yaml
n=$(q "SELECT count(*) FROM runs")
run $sm workflow rerun "$r0" --failed
check "contract changed: refused" exit_is 1
check "  naming the stage and the output" err_has "stage 's1': its outputs in run $r0 no longer fit its outputs contract: "
check "  and what to do" err_has "re-run it too (--from s1)"
check "  nothing recorded" test "$(q "SELECT count(*) FROM runs")" = "$n"
FAKE_CLAUDE_OUTPUTS='{"summary": "cdn", "score": 3}' run $sm workflow rerun "$r0" --failed --reuse-unchanged
check "with --reuse-unchanged it runs s1 again instead" exit_is 0
check "  s1 ran" test "$(stage "$(last_run)" status s1)" = completed
python3 - <<'P'
import re
t = open("five.orig").read()
t = t.replace("depends_on: [s1]", "depends_on: []")
t = re.sub(r"  - id: s1\n(    .*\n)+?(?=  - id: s2)", "", t)
t = t.replace('${{ stages.s1.outputs.summary }}', 'x')
open("five.yaml", "w").write(t)
P
run $sm workflow rerun "$r0" --failed
check "a completed stage removed: refused" exit_is 1
check "  naming it" err_has "stage 's1' completed in run $r0 but no longer exists"
cp five.orig five.yaml

# --from on the middle of a diamond: a -> b, c -> d.
cat >diamond.yaml <<'Y'
workflow: {id: diamond, name: Diamond}
stages:
  - {id: a, name: A, type: command, run: 'echo a >> ran.log; echo "v=a" >> "$SKILLMEAT_OUTPUT"', outputs: {v: {type: string}}}
  - {id: b, name: B, type: command, depends_on: [a], run: 'echo b >> ran.log; echo "v=$A-b" >> "$SKILLMEAT_OUTPUT"', env: {A: "${{ stages.a.outputs.v }}"}, outputs: {v: {type: string}}}
  - {id: c, name: C, type: command, depends_on: [a], run: 'echo c >> ran.log; echo "v=$A-c" >> "$SKILLMEAT_OUTPUT"', env: {A: "${{ stages.a.outputs.v }}"}, outputs: {v: {type: string}}}
  - {id: d, name: D, type: command, depends_on: [b, c], run: 'echo "d $B $C" >> ran.log', env: {B: "${{ stages.b.outputs.v }}", C: "${{ stages.c.outputs.v }}"}}
Y
rm -f ran.log
run $sm workflow run diamond.yaml
check "the diamond runs" exit_is 0
d0=$(last_run)
rm ran.log
run $sm workflow rerun "$d0" --from b
check "--from b completes" exit_is 0
check "exactly b and d ran; d saw c's reused output" test "$(ran)" = "b d a-b a-c "
d1=$(last_run)
check "a and c reused" test "$(stage "$d1" status a)$(stage "$d1" status c)" = reusedreused

# A fan-out reused: its item list, its items' rows and its outputs come along.
cat >fan.yaml <<'Y'
workflow: {id: fan, name: Fan}
stages:
  - id: each
    name: Each
    type: fan_out
    fan_out: {items: "${{ fromJSON('[\"x\", \"y\"]') }}"}
    run: 'echo "each $SKILLMEAT_ITEM" >> ran.log; echo "v=$SKILLMEAT_ITEM" >> "$SKILLMEAT_OUTPUT"'
    outputs: {v: {type: string}}
  - id: use
    name: Use
    type: command
    depends_on: [each]
    run: 'echo "use $O" >> ran.log; test -f fixed2'
    env: {O: "${{ toJSON(stages.each.outputs) }}"}
    error_policy: {retry: {max_attempts: 1}}
Y
rm -f ran.log fixed2
run $sm workflow run fan.yaml
f0=$(last_run)
first_use=$(grep '^use' ran.log)
touch fixed2
rm ran.log
run $sm workflow rerun "$f0" --failed
check "fan-out: the re-run completes" exit_is 0
f1=$(last_run)
check "fan-out: no item ran again; the next stage saw the same outputs" test "$(cat ran.log)" = "$first_use"
check "fan-out: reused with its item list" test "$(stage "$f1" status each)/$(stage "$f1" items each)" = "reused/$(stage "$f0" items each)"
check "fan-out: its items' rows came along" test "$(q "SELECT count(*) FROM items WHERE run_id='$f1' AND stage_id='each' AND status='completed'")" = 2

# A run that has not ended cannot be re-run.
q "UPDATE runs SET status='running' WHERE id='$d0'"
run $sm workflow rerun "$d0"
check "a running run is refused" exit_is 1
check "  saying why" err_has "has not ended (running)"
q "UPDATE runs SET status='completed' WHERE id='$d0'"

# The API: POST /workflow-executions/{id}/rerun.
web_start
rm ran.log
web_api POST "/workflow-executions/$d0/rerun" '{"mode": "from", "from": ["c"], "dry_run": true}'
check "API dry run: the plan" json_eq '[s["action"] for s in j["stages"]] == ["reuse", "reuse", "run", "run"]'
web_api POST "/workflow-executions/$d0/rerun" '{"mode": "from", "from": ["c"]}'
check "API rerun accepted" json_eq 'j["rerun_of"] == "'"$d0"'" and j["status"] == "pending"'
a1=$(python3 -c 'import json; print(json.load(open("out"))["id"])')
wait_for "SELECT status='completed' FROM runs WHERE id='$a1'"
check "API rerun: c and d ran" test "$(ran)" = "c d a-b a-c "
web_api GET "/workflow-executions/$d0" ''
check "API: the original lists its re-runs" json_eq '"'"$a1"'" in j["reruns"]'
web_api GET "/workflow-executions/$a1" ''
check "API: the re-run names its original; b is reused" json_eq 'j["rerun_of"] == "'"$d0"'" and j["stages"][1]["status"] == "reused"'
code=$(curl -s -o out -w '%{http_code}' -X POST -H "Authorization: Bearer $T" -H 'Content-Type: application/json' \
	--data-binary '{"mode": "from", "from": ["zz"]}' "http://127.0.0.1:$P/api/v1/workflow-executions/$d0/rerun")
check "API: a refusal is 409 with the reason" test "$code" = 409
check "  the reason" json_eq '"no stage" in j["error"]["message"]'
code=$(curl -s -o out -w '%{http_code}' -X POST -H "Authorization: Bearer $T" -H 'Content-Type: application/json' \
	--data-binary '{"mode": "sideways"}' "http://127.0.0.1:$P/api/v1/workflow-executions/$d0/rerun")
check "API: a bad mode is 400" test "$code" = 400
code=$(curl -s -o out -w '%{http_code}' -X POST -H "Authorization: Bearer $T" -H 'Content-Type: application/json' \
	--data-binary '{}' "http://127.0.0.1:$P/api/v1/workflow-executions/nope/rerun")
check "API: an unknown run is 404" test "$code" = 404

# A server stopped while it hosts a run waits for it, and must then leave
# alone the web.json of a server started meanwhile.
cat >slow.yaml <<'Y'
workflow: {id: slow, name: Slow}
config: {parameters: {secs: {type: string, default: "0"}}}
stages:
  - {id: nap, name: Nap, type: command, run: 'sleep "$S"', env: {S: "${{ parameters.secs }}"}}
Y
run $sm workflow run slow.yaml
s0=$(last_run)
web_api POST "/workflow-executions/$s0/rerun" '{"parameters": {"secs": "3"}}'
check "a slow re-run hosted by the server" json_eq 'j["status"] == "pending"'
wait_for "SELECT count(*) = 1 FROM stages WHERE run_id='$(python3 -c 'import json; print(json.load(open("out"))["id"])')' AND status='running'"
old=$web
kill "$old"
sleep 0.3
web_start
check "the new server wrote its web.json" test "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["pid"])' "$SKILLMEAT_HOME/web.json")" = "$web"
curl -s -D headers -o /dev/null -H "Cookie: skillmeat_token=0123456789abcdef" "http://127.0.0.1:$P/?token=$T"
check "a token URL replaces an old cookie" grep -qi "^Set-Cookie: skillmeat_token=$T" headers
curl -s -D headers -o /dev/null -H "Cookie: skillmeat_token=0123456789abcdef" "http://127.0.0.1:$P/?token=wrong"
check "  a wrong one sets nothing" sh -c '! grep -qi "^Set-Cookie" headers'
wait "$old" 2>/dev/null
check "the old server, once its run ended, left it there" test "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["pid"])' "$SKILLMEAT_HOME/web.json")" = "$web"
kill "$web"
wait "$web" 2>/dev/null
check "a server removes its own web.json" test ! -e "$SKILLMEAT_HOME/web.json"

done_testing
