#!/bin/sh
# Detached runs are visible and durable: `workflow run --detach` returns once
# its background host has taken the run, which another process then sees
# running, follows live, and cancels (the stage's processes end); every
# event is on disk afterwards, and no host writes into a deleted WAL.  The
# same for a run hosted by `skillmeat web`.
. "$(dirname "$0")/lib.sh"
cd "$TMP" || exit 1
export NO_COLOR=1
db=$SKILLMEAT_HOME/workflow-runs.db
q() { sqlite3 "$db" "$1"; }
$sm init >/dev/null

cat >slow.yaml <<'Y'
workflow: {id: slow, name: Slow}
stages:
  - id: tick
    name: Tick
    type: command
    run: 'for i in $(seq 300); do echo "tick $i"; sleep 0.1; done'
Y
# No descriptor of a process may point at a deleted file of the home (a lost WAL).
no_deleted_files() { # PID
	! ls -l "/proc/$1/fd" 2>/dev/null | grep -F "$SKILLMEAT_HOME" | grep -q '(deleted)'
}
stage_procs() { # RUN: processes carrying the run's id (the stage's programs)
	grep -lsazx "SKILLMEAT_RUN_ID=$1" /proc/[0-9]*/environ | wc -l
}

run $sm workflow run slow.yaml --detach
check "detach prints the run id and exits 0" exit_is 0
rid=$(cat "$TMP/out")
check "the run is running at once" test "$(q "SELECT status FROM runs WHERE id='$rid'")" = running
run $sm workflow runs "$rid" --format json
check "runs shows it running with a live host" \
	json_eq 'j["status"] == "running" and j["stages"][0]["status"] in ("running", "pending")'
host=$(q "SELECT host_pid FROM runs WHERE id='$rid'")
check "the host is another process, alive" kill -0 "$host"
sleep 1
check "the stage runs, attempt 1" \
	test "$(q "SELECT status || attempt FROM stages WHERE run_id='$rid'")" = running1
run $sm workflow runs "$rid" --format json
check "the running attempt shows its program's pid" \
	json_eq 'j["attempts"][0]["status"] == "running" and j["attempts"][0]["pid"] > 1'
check "the detached host writes into files that exist" no_deleted_files "$host"
check "its WAL is on disk" test -e "$db-wal"
timeout 1.5 $sm workflow logs "$rid" --follow >follow.txt 2>&1
check "logs --follow shows it live" test "$(grep -c 'tick' follow.txt)" -ge 5
run $sm workflow logs "$rid"
check "logs shows the lines so far" out_has "tick 3"
check "the stage's program is there" test "$(stage_procs "$rid")" -ge 1
run $sm workflow cancel "$rid" --yes
check "cancel reaches the live host" out_has "cancel sent to its host (pid $host)"
wait_for "SELECT status = 'cancelled' FROM runs WHERE id='$rid'"
check "the run ends cancelled" test $? -eq 0
for _ in $(seq 50); do kill -0 "$host" 2>/dev/null || break; sleep 0.1; done
check "the host is gone" sh -c "! kill -0 $host 2>/dev/null"
check "the stage's processes are gone" test "$(stage_procs "$rid")" = 0
check "every event is on disk, to the end" \
	test "$(q "SELECT type FROM events WHERE run_id='$rid' ORDER BY seq DESC LIMIT 1")" = run_cancelled
check "the log lines are on disk" \
	test "$(q "SELECT count(*) FROM events WHERE run_id='$rid' AND type='log'")" -ge 10
check "host.log is kept" test -e "$SKILLMEAT_HOME/runs/$rid/host.log"

# A detached host that cannot take its run says so, and the parent exits 1.
echo 'workflow: {id: bad' >bad.yaml
run $sm workflow run bad.yaml --detach
check "a workflow that does not load fails before detaching" exit_is 1

# ---- hosted by skillmeat web ---------------------------------------------------------------
web_start
web_api POST /workflows "$(python3 -c 'import json; print(json.dumps({"definition": open("slow.yaml").read()}))')"
web_api POST /workflow-executions '{"workflow_id": "slow"}'
rid=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "$TMP/out")
wait_for "SELECT count(*) > 0 FROM events WHERE run_id='$rid' AND type='log'"
check "web: the hosted run logs" test $? -eq 0
check "web: the server writes into files that exist" no_deleted_files "$web"
run $sm workflow cancel "$rid" --yes
check "web: the CLI's cancel reaches the server" out_has "cancel sent to its host (pid $web)"
wait_for "SELECT status = 'cancelled' FROM runs WHERE id='$rid'"
check "web: cancelled" test $? -eq 0
for _ in $(seq 30); do [ "$(stage_procs "$rid")" = 0 ] && break; sleep 0.1; done
check "web: the stage's processes are gone" test "$(stage_procs "$rid")" = 0
kill $web
wait $web
check "web: every event is on disk" \
	test "$(q "SELECT type FROM events WHERE run_id='$rid' ORDER BY seq DESC LIMIT 1")" = run_cancelled
done_testing
