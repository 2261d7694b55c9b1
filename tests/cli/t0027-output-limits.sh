#!/bin/sh
# A stage that writes without end: its log is cut at the stage's output
# limit and the stage fails with output_limit; the database gains a bounded
# number of rows, not one a line; a cancel is answered at once whatever the
# backlog of unread output; the engine's default limit is in config.toml.
. "$(dirname "$0")/lib.sh"
cd "$TMP" || exit 1
export NO_COLOR=1
q() { sqlite3 "$SKILLMEAT_HOME/workflow-runs.db" "$1"; }
last_run() { q "SELECT id FROM runs ORDER BY created_at DESC LIMIT 1"; }

cat >flood.yaml <<'Y'
workflow: {id: flood, name: Flood}
stages:
  - id: f
    name: Flood
    type: command
    run: yes 'a line of output that never ends'
    budget: {max_output_bytes: 8388608}
    error_policy: {retry: {max_attempts: 3}, timeout: 60s}
Y
run $sm workflow run flood.yaml
check "the flood fails" exit_is 1
check "class output_limit" test "$(q "SELECT error_class FROM stages WHERE run_id='$(last_run)'")" = output_limit
check "not retried (it would write as much again)" test "$(q "SELECT count(*) FROM attempts WHERE run_id='$(last_run)'")" = 1
log="$SKILLMEAT_HOME/runs/$(last_run)/f/1/stdout.log"
size=$(stat -c %s "$log")
check "the log is cut at the limit, with its note ($size bytes)" test "$size" -gt 8388608 -a "$size" -lt 8388700
check "...which says so" test "$(tail -n 1 "$log")" = "[skillmeat: cut at 8388608 bytes, the stage's output limit]"
rows=$(q "SELECT count(*) FROM events WHERE run_id='$(last_run)' AND type='log'")
check "events: bounded, not a row a line ($rows rows for 250,000 lines)" test "$rows" -lt 2200
check "lines past the budget point at their byte range" test "$(q "SELECT count(*) FROM events WHERE run_id='$(last_run)' AND json_extract(data, '$.range') IS NOT NULL")" -ge 1
check "the error says what happened" test -n "$(q "SELECT error FROM stages WHERE run_id='$(last_run)'" | grep 'output limit')"

# The engine's default, from config.toml.
mkdir -p "$SKILLMEAT_HOME"
sed '/budget:/d' flood.yaml >flood2.yaml
printf '[engine]\nmax_output_bytes = 2097152\n' >"$SKILLMEAT_HOME/config.toml"
run $sm workflow run flood2.yaml
check "config.toml's limit applies" test "$(stat -c %s "$SKILLMEAT_HOME/runs/$(last_run)/f/1/stdout.log")" -lt 2097300
printf '[engine]\nmax_output_bytes = 10\n' >"$SKILLMEAT_HOME/config.toml"
run $sm workflow run flood2.yaml
check "a tiny limit is refused, located" err_has "config.toml:2:20: engine.max_output_bytes must be an integer of at least 1024"
rm "$SKILLMEAT_HOME/config.toml"

# Cancel while a flood is being read: answered within a couple of seconds.
# (bursts of 16 MB with a pause: a backlog builds, and the 1 GiB limit is seconds away)
sed "s/8388608/1073741824/; s/run: yes .*/run: while :; do yes 'a line of output that never ends' | head -n 500000; sleep 0.1; done/" flood.yaml >big.yaml
$sm workflow run big.yaml >big.out 2>&1 &
host=$!
wait_for "SELECT count(*) FROM stages WHERE run_id=(SELECT id FROM runs ORDER BY created_at DESC LIMIT 1) AND status='running'"
sleep 1
start=$(date +%s%N)
run $sm workflow cancel last --yes
wait $host
took=$(( ($(date +%s%N) - start) / 1000000 ))
check "cancelled under a flood in ${took} ms" test "$took" -lt 3000
check "...and cancelled" test "$(q "SELECT status FROM runs WHERE id='$(last_run)'")" = cancelled
check "no writer left" test -z "$(pgrep -f "yes a line of output that never ends")"
check "integrity" test "$(q 'PRAGMA integrity_check')" = ok
done_testing
