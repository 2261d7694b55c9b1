#!/bin/sh
# Fan-out stages: one attempt series per item of a list (a parameter, an
# upstream output), outputs as lists in item order, $SKILLMEAT_ITEM and
# fan_out.item, both item-failure policies, per-item retries, parallel
# limits, the item cap, bad lists, empty lists, cancel, and a host killed
# in the middle of a fan-out: every item runs exactly once.
. "$(dirname "$0")/lib.sh"
fakes=$(cd "$(dirname "$0")/../fake-agents" && pwd)
cd "$TMP" || exit 1
export NO_COLOR=1
mkdir bin
ln -s "$fakes/fake-claude" bin/claude
export PATH="$TMP/bin:$PATH"
export FAKE_AGENT_LOG="$TMP/agent.log" LEDGER="$TMP/ledger"
q() { sqlite3 "$SKILLMEAT_HOME/workflow-runs.db" "$1"; }
last_run() { q "SELECT id FROM runs ORDER BY created_at DESC LIMIT 1"; }
stage_col() { q "SELECT $2 FROM stages WHERE run_id='$(last_run)' AND stage_id='$1'"; }
items_of() { q "SELECT group_concat(status, ' ') FROM (SELECT status FROM items WHERE run_id='$(last_run)' AND stage_id='$1' ORDER BY item)"; }

# ---- over a parameter; items finish out of order ----
cat >param.yaml <<'Y'
workflow: {id: fp, name: Fan param}
config:
  parameters:
    files: {type: array, default: [{"name": "c.txt", "wait": 0.3}, {"name": "a.txt", "wait": 0}, {"name": "b.txt", "wait": 0.15}]}
stages:
  - id: each
    name: Each
    type: fan_out
    fan_out: {items: "${{ parameters.files }}"}
    run: |
      python3 - <<'P'
      import json, os, time
      item = json.loads(os.environ["SKILLMEAT_ITEM"])
      time.sleep(item["wait"])
      with open(os.environ["SKILLMEAT_OUTPUT"], "a") as f:
          f.write("name=%s\nindex=%s\n" % (item["name"], os.environ["SKILLMEAT_ITEM_INDEX"]))
      P
    outputs: {name: {type: string}, index: {type: string}}
  - id: after
    name: After
    type: command
    depends_on: [each]
    run: echo "names=$NAMES"
    env: {NAMES: "${{ toJSON(stages.each.outputs.name) }}"}
Y
run $sm workflow plan param.yaml
check "plan: items counted" out_has "Items: 3 (\${{ parameters.files }})"
run $sm workflow run param.yaml
check "parameter fan-out completes" exit_is 0
check "outputs are lists in item order" test "$(stage_col each outputs)" = '{"name":["c.txt","a.txt","b.txt"],"index":["0","1","2"]}'
check "the next stage reads the list" err_has 'after | names=["c.txt", "a.txt", "b.txt"]'
check "an attempt per item" test "$(q "SELECT group_concat(item, ',') FROM (SELECT item FROM attempts WHERE run_id='$(last_run)' AND stage_id='each' ORDER BY item)")" = 0,1,2
check "items completed" test "$(items_of each)" = "completed completed completed"
check "the stage's attempts count its items'" test "$(stage_col each attempt)" = 3
run $sm workflow runs last --stage each --format json
check "runs --stage: item states" json_eq '[i["status"] for i in j["item_states"]] == ["completed"] * 3 and j["items"][2]["name"] == "b.txt"'
check "handoff: items" json_eq '[i["index"] for i in j["handoff"]["items"]] == [0, 1, 2] and j["handoff"]["summary"] == "3 of 3 items completed"'

# ---- over an upstream output; an agent per item ----
cat >dyn.yaml <<'Y'
workflow: {id: fd, name: Fan dynamic}
stages:
  - id: find
    name: Find
    type: command
    run: echo 'files=["x.c", "y.c"]' >> "$SKILLMEAT_OUTPUT"
    outputs: {files: {type: string}}
  - id: review
    name: Review
    type: fan_out
    depends_on: [find]
    fan_out: {items: "${{ fromJSON(stages.find.outputs.files) }}"}
    roles: {primary: {artifact: "agent:reviewer", instructions: "Review ${{ fan_out.item }} (index ${{ fan_out.index }})."}}
    outputs: {verdict: {type: string}}
Y
run $sm workflow plan dyn.yaml
check "plan: dynamic" out_has "Items: dynamic (\${{ fromJSON(stages.find.outputs.files) }}, known when the stage starts)"
: >"$TMP/agent.log"
FAKE_CLAUDE_OUTPUTS='{"verdict": "fine"}' run $sm workflow run dyn.yaml --allow-missing
check "dynamic agent fan-out completes" exit_is 0
check "one agent per item" test "$(wc -l <"$TMP/agent.log")" -eq 2
check "instructions see the item" grep -q 'Review y.c (index 1).' "$TMP/agent.log"
check "the prompt names the item" grep -q '## Item' "$TMP/agent.log"
check "agent outputs as lists" test "$(stage_col review outputs)" = '{"verdict":["fine","fine"]}'
check "the item list is stored" test "$(stage_col review items)" = '["x.c","y.c"]'

# ---- item failures: fail_fast and continue; retries per item ----
policy_wf() { # policy
	cat <<Y
workflow: {id: ff, name: Fan fail}
config:
  parameters:
    n: {type: array, default: [0, 1, 2, 3, 4, 5]}
stages:
  - id: each
    name: Each
    type: fan_out
    fan_out: {items: "\${{ parameters.n }}", max_parallel: 2, on_item_failure: $1}
    error_policy: {retry: {max_attempts: 1}}
    run: |
      echo "start \$SKILLMEAT_ITEM_INDEX" >> "\$LEDGER"
      if [ "\$SKILLMEAT_ITEM_INDEX" = 1 ]; then exit 3; fi
      if [ "\$SKILLMEAT_ITEM_INDEX" = 0 ]; then sleep 30; fi
      echo "v=\$SKILLMEAT_ITEM" >> "\$SKILLMEAT_OUTPUT"
    outputs: {v: {type: string}}
Y
}
policy_wf fail_fast >ff.yaml
: >"$LEDGER"
start=$(date +%s)
run $sm workflow run ff.yaml
check "fail_fast: the run fails" exit_is 1
check "fail_fast: quickly (the running item is stopped)" test $(($(date +%s) - start)) -lt 15
check "fail_fast: class of the failed item" test "$(stage_col each error_class)" = exit_3
check "fail_fast: the rest never started" test "$(wc -l <"$LEDGER")" -eq 2
check "fail_fast: item states" test "$(items_of each)" = "cancelled failed cancelled cancelled cancelled cancelled"
check "fail_fast: the error counts items" test "$(stage_col each error)" = "1 of 6 items failed (first: exit_3)"
policy_wf continue | sed 's/sleep 30/sleep 0.2/' >fc.yaml
: >"$LEDGER"
run $sm workflow run fc.yaml
check "continue: the run completes" exit_is 0
check "continue: every item ran" test "$(wc -l <"$LEDGER")" -eq 6
check "continue: null for the failed item" test "$(stage_col each outputs)" = '{"v":["0",null,"2","3","4","5"]}'
check "continue: item states" test "$(items_of each)" = "completed failed completed completed completed completed"
sed 's/if \[ "$SKILLMEAT_ITEM_INDEX" = 1 \]; then exit 3; fi/exit 3/' fc.yaml >fa.yaml
run $sm workflow run fa.yaml
check "continue, every item failed: the stage fails" exit_is 1
cat >retry.yaml <<'Y'
workflow: {id: fr, name: Fan retry}
config:
  parameters:
    n: {type: array, default: [a, b]}
stages:
  - id: each
    name: Each
    type: fan_out
    fan_out: {items: "${{ parameters.n }}"}
    error_policy: {retry: {max_attempts: 3, initial_interval: 1s}}
    run: |
      m="$MARKS/$SKILLMEAT_ITEM_INDEX"
      if [ "$SKILLMEAT_ITEM_INDEX" = 1 ] && [ ! -e "$m" ]; then touch "$m"; exit 4; fi
      echo "v=ok" >> "$SKILLMEAT_OUTPUT"
    outputs: {v: {type: string}}
Y
mkdir marks
MARKS=$TMP/marks run $sm workflow run retry.yaml
check "a failed item is retried on its own" exit_is 0
check "retry: tries per item" test "$(q "SELECT group_concat(tries, ' ') FROM (SELECT tries FROM items WHERE run_id='$(last_run)' ORDER BY item)")" = "1 2"
check "retry: an event says when" err_has '"will_retry":true'

# ---- parallel limits ----
cat >par.yaml <<'Y'
workflow: {id: fpar, name: Fan parallel}
config:
  parameters:
    n: {type: array, default: [0, 1, 2, 3, 4, 5]}
stages:
  - id: each
    name: Each
    type: fan_out
    fan_out: {items: "${{ parameters.n }}", max_parallel: 2}
    run: |
      python3 -c 'import os, time; os.write(1, b"in %.3f\n" % time.monotonic())' >> "$LEDGER"
      sleep 0.8
      python3 -c 'import os, time; os.write(1, b"out %.3f\n" % time.monotonic())' >> "$LEDGER"
Y
most_at_once() {
	# Times are CLOCK_MONOTONIC (one clock for every process since boot): the wall
	# clock of a VM may be stepped back between one item's end and the next's start.
	# Each line is one write (O_APPEND keeps it whole; print() wrote the text and the
	# newline apart, and two items in step merged their lines).  At the same
	# millisecond an item that ended goes before one that started.
	sort -k2,2n -k1,1r "$LEDGER" | awk '$1 == "in" { n++; if (n > m) m = n } $1 == "out" { n-- } END { print m }'
}
: >"$LEDGER"
run $sm workflow run par.yaml -j 8
check "fan_out.max_parallel 2: completes" exit_is 0
check "fan_out.max_parallel 2: never more than 2 at once" test "$(most_at_once)" -le 2
check "fan_out.max_parallel 2: but 2 at once" test "$(most_at_once)" -eq 2
: >"$LEDGER"
run $sm workflow run par.yaml -j 1
check "--max-parallel 1 holds for items" test "$(most_at_once)" -eq 1

# ---- caps and bad lists ----
run $sm workflow plan par.yaml -p 'n=[1,2,3]' --format json
check "plan json: item_count" json_eq '[b["stages"][0]["fan_out"]["item_count"] for b in j["batches"]] == [3]'
sed 's/max_parallel: 2}/max_parallel: 2, max_items: 4}/' par.yaml >cap.yaml
run $sm workflow plan cap.yaml
check "plan: more items than max_items is an error" err_has "fan_out.items yields 6 items, more than max_items (4)"
run $sm workflow run cap.yaml
check "run: refused before it starts" exit_is 1
cat >capdyn.yaml <<'Y'
workflow: {id: fcap, name: Fan cap}
stages:
  - id: gen
    name: Gen
    type: command
    run: python3 -c 'import json; print("n=" + json.dumps(list(range(5000))))' >> "$SKILLMEAT_OUTPUT"
    outputs: {n: {type: string}}
  - id: each
    name: Each
    type: fan_out
    depends_on: [gen]
    fan_out: {items: "${{ fromJSON(stages.gen.outputs.n) }}"}
    run: 'echo "$SKILLMEAT_ITEM" >> "$LEDGER"'
Y
: >"$LEDGER"
run $sm workflow run capdyn.yaml
check "a 5,000-item list: the stage fails" exit_is 1
check "cap: class fan_out_items" test "$(stage_col each error_class)" = fan_out_items
check "cap: the message" test "$(stage_col each error)" = "fan_out.items yielded 5000 items, more than max_items (1000); raise fan_out.max_items if that many is meant"
check "cap: nothing ran" test ! -s "$LEDGER"
sed 's/fromJSON(stages.gen.outputs.n)/stages.gen.outputs.n/' capdyn.yaml >notlist.yaml
run $sm workflow run notlist.yaml
check "not a list: fan_out_items" test "$(stage_col each error)" = "fan_out.items must yield a list, got string"
run $sm workflow run par.yaml -p 'n=[]'
check "an empty list: completes" exit_is 0
check "an empty list: no attempt" test "$(q "SELECT count(*) FROM attempts WHERE run_id='$(last_run)'")" = 0

# A 300 KiB item: in the file only (one variable may not pass 128 KiB).
python3 -c 'print("n=" + __import__("json").dumps(["x" * 300000, "small"]))' >big.out
cat >big.yaml <<'Y'
workflow: {id: fbig, name: Fan big}
stages:
  - id: gen
    name: Gen
    type: command
    run: cat "$BIG" >> "$SKILLMEAT_OUTPUT"
    outputs: {n: {type: string}}
  - id: each
    name: Each
    type: fan_out
    depends_on: [gen]
    fan_out: {items: "${{ fromJSON(stages.gen.outputs.n) }}"}
    run: 'printf "len=%s\nenv=%s\n" "$(wc -c <"$SKILLMEAT_ITEM_FILE")" "${#SKILLMEAT_ITEM}" >> "$SKILLMEAT_OUTPUT"'
    outputs: {len: {type: string}, env: {type: string}}
Y
BIG=$TMP/big.out run $sm workflow run big.yaml
check "a 300 KiB item runs" exit_is 0
check "big item: in the file, not the variable" test "$(stage_col each outputs)" = '{"len":["300002","7"],"env":["0","7"]}'

# ---- cancel stops every item ----
sed 's/sleep 0.8/sleep 60.017/; s/CANCEL_MARK=x//' par.yaml >long.yaml
$sm workflow run long.yaml --detach >/dev/null 2>&1
wait_for "SELECT count(*) = 2 FROM items WHERE run_id = (SELECT id FROM runs ORDER BY created_at DESC LIMIT 1) AND status = 'running'"
run $sm workflow cancel last --yes
wait_for "SELECT status = 'cancelled' FROM runs ORDER BY created_at DESC LIMIT 1"
check "cancel: the run is cancelled" test "$(q "SELECT status FROM runs ORDER BY created_at DESC LIMIT 1")" = cancelled
check "cancel: no item left running" test "$(q "SELECT count(*) FROM items WHERE run_id='$(last_run)' AND status IN ('running', 'pending')")" = 0
check "cancel: no process left" sh -c '! pgrep -fx "sleep 60.017" >/dev/null'

# ---- kill -9 the host in the middle of a fan-out; resume ----
cat >crash.yaml <<'Y'
workflow: {id: fcrash, name: Fan crash}
config:
  parameters:
    n: {type: array, default: [0, 1, 2, 3, 4, 5, 6, 7]}
stages:
  - id: each
    name: Each
    type: fan_out
    fan_out: {items: "${{ parameters.n }}", max_parallel: 3}
    run: |
      echo "start $SKILLMEAT_ITEM_INDEX" >> "$LEDGER"
      sleep 0.4
      echo "v=$SKILLMEAT_ITEM" >> "$SKILLMEAT_OUTPUT"
      echo "end $SKILLMEAT_ITEM_INDEX" >> "$LEDGER"
    outputs: {v: {type: string}}
Y
for delay in 0.3 0.7 1.1; do
	: >"$LEDGER"
	$sm workflow run crash.yaml >/dev/null 2>&1 &
	host=$!
	sleep $delay
	kill -9 $host
	wait $host 2>/dev/null
	run_id=$(last_run)
	run $sm workflow resume "$run_id"
	check "killed at ${delay}s: resume completes" exit_is 0
	check "killed at ${delay}s: every item started once" test "$(grep -c '^start' "$LEDGER") $(sort -u "$LEDGER" | grep -c '^start')" = "8 8"
	check "killed at ${delay}s: every item ended once" test "$(grep -c '^end' "$LEDGER")" = 8
	check "killed at ${delay}s: outputs complete, in order" test "$(q "SELECT outputs FROM stages WHERE run_id='$run_id'")" = '{"v":["0","1","2","3","4","5","6","7"]}'
done
check "a resume adopted running items" test "$(q "SELECT count(*) FROM events WHERE type='stage_adopted'")" -gt 0
done_testing
