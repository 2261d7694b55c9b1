#!/bin/sh
# Kill the host with SIGKILL at many points of a run; `workflow resume`
# must finish it: every stage completed before the kill never runs again,
# every stage ends completed, and the database passes integrity_check.
# Also: a second host cannot take a run whose host is alive.
. "$(dirname "$0")/lib.sh"
cd "$TMP" || exit 1
export NO_COLOR=1
db=$SKILLMEAT_HOME/workflow-runs.db
q() { sqlite3 "$db" "$1"; }

{
	echo "workflow: {id: crash, name: Crash}"
	echo "stages:"
	for i in 1 2 3 4 5 6 7 8 9 10 11 12; do
		echo "  - id: s$i"
		echo "    name: S$i"
		echo "    type: command"
		[ $i -gt 3 ] && echo "    depends_on: [s$((i - 3))]"
		echo "    run: |"
		echo "      echo \"start \$SKILLMEAT_STAGE_ID\" >> \"\$LEDGER\""
		echo "      sleep 0.1"
		echo "      echo \"n=$i\" >> \"\$SKILLMEAT_OUTPUT\""
		echo "    error_policy: {retry: {max_attempts: 3, initial_interval: 1s}}"
	done
} >crash.yaml
export LEDGER=$TMP/ledger

for delay in 0.02 0.05 0.1 0.15 0.2 0.3 0.35 0.45 0.5 0.6 0.7 0.8; do
	: >"$LEDGER"
	python3 -c 'import time; print(time.time())' >stamp
	$sm workflow run crash.yaml >/dev/null 2>&1 &
	host=$!
	sleep $delay
	kill -9 $host
	wait $host 2>/dev/null
	run_id=$(q "SELECT id FROM runs ORDER BY created_at DESC LIMIT 1" 2>/dev/null)
	if [ -z "$run_id" ] || [ "$(q "SELECT count(*) FROM runs WHERE id='$run_id' AND created_at > $(cat stamp 2>/dev/null || echo 0)")" = 0 ]; then
		# Killed before the run was recorded: nothing to resume, nothing ran.
		check "kill at ${delay}s, before the run existed: no stage ran" test ! -s "$LEDGER"
		continue
	fi
	done_before=$(q "SELECT group_concat(stage_id, ' ') FROM stages WHERE run_id='$run_id' AND status='completed'")
	starts_before=$(cat "$LEDGER")
	ended_before=$(q "SELECT status FROM runs WHERE id='$run_id'")
	run $sm workflow resume "$run_id"
	if [ "$ended_before" = completed ]; then
		check "kill at ${delay}s, after the end: resume says so" err_has "has already ended"
	else
		check "kill at ${delay}s: resume completes the run" exit_is 0
	fi
	check "kill at ${delay}s: every stage completed" \
		test "$(q "SELECT count(*) FROM stages WHERE run_id='$run_id' AND status='completed'")" = 12
	again=""
	for s in $done_before; do
		n=$(grep -cx "start $s" "$LEDGER")
		[ "$n" -eq 1 ] || again="$again $s($n)"
	done
	check "kill at ${delay}s: completed stages ran once (re-run:$again)" test -z "$again"
	check "kill at ${delay}s: integrity" test "$(q 'PRAGMA integrity_check')" = ok
done
check "some kills happened mid-run" test "$(q "SELECT count(*) FROM events WHERE type='run_resumed'")" -ge 6
check "running attempts were adopted, not run again" \
	test "$(q "SELECT count(*) FROM events WHERE type='stage_adopted'")" -ge 1
# A kill between recording an attempt and starting its monitor loses it (it runs
# again, uncounted); an attempt whose monitor had started must never be lost.
lost_started=""
for a in $(q "SELECT run_id || '/' || stage_id || '/' || attempt FROM attempts WHERE error_class='host_lost'"); do
	[ -e "$SKILLMEAT_HOME/runs/$a/monitor" ] && lost_started="$lost_started $a"
done
check "no attempt whose monitor started was lost (lost:$lost_started)" test -z "$lost_started"

# A live host keeps its run.
cat >hold.yaml <<'Y'
workflow: {id: hold, name: Hold}
stages:
  - {id: g, name: G, type: gate}
Y
$sm workflow run hold.yaml >/dev/null 2>&1 &
host=$!
wait_for "SELECT count(*) FROM stages WHERE stage_id='g' AND status='waiting_for_approval'"
rid=$(q "SELECT id FROM runs WHERE workflow_id='hold'")
run $sm workflow resume "$rid"
check "resume of a live run that is not paused does nothing" out_has "is not paused: nothing to do"
run $sm workflow pause "$rid"
check "pause posts" exit_is 0
sleep 0.5
check "paused" test "$(q "SELECT status FROM runs WHERE id='$rid'")" = paused
run $sm workflow resume "$rid"
check "resume of a live paused run asks the host" out_has "asked its host"
sleep 0.5
check "unpaused" test "$(q "SELECT status FROM runs WHERE id='$rid'")" = running
check "one run_unpaused, from that resume" \
	test "$(q "SELECT count(*) FROM events WHERE run_id='$rid' AND type='run_unpaused'")" = 1
run $sm workflow cancel "$rid" --yes
wait $host
check "cancel ends the held run" test "$(q "SELECT status FROM runs WHERE id='$rid'")" = cancelled
run $sm workflow resume "$rid"
check "resume of an ended run says so" err_has "has already ended (cancelled)"
check "resume of an ended run fails" exit_is 1
check "resume of an ended run does nothing harmful" test "$(q "SELECT status FROM runs WHERE id='$rid'")" = cancelled
done_testing
