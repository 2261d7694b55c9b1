#!/bin/sh
# A host that is really gone is seen gone at once by every command, even a
# zombie nobody reaps (its pid still answers kill(pid, 0)): liveness is the
# run's lease lock, which the kernel drops at death.  Commands other than
# resume and cancel are refused, not stored; `runs` says `running (host
# lost)`; `logs --follow` says so and exits 1, or with --resume resumes it;
# cancel takes the run over to stop it.
# An attempt that ended while no host watched keeps its program's own
# duration, not the host's wall time across the crash.
. "$(dirname "$0")/lib.sh"
cd "$TMP" || exit 1
export NO_COLOR=1
db=$SKILLMEAT_HOME/workflow-runs.db
q() { sqlite3 "$db" "$1"; }
$sm init >/dev/null

# slow: its program measures its own run time into slow.time.
cat >hold.yaml <<Y
workflow: {id: hold, name: Hold}
stages:
  - id: slow
    name: Slow
    type: command
    run: 'a=\$(date +%s.%N); sleep 2; b=\$(date +%s.%N); echo "\$a \$b" >$TMP/slow.time'
  - {id: g, name: G, type: gate}
  - {id: after, name: After, type: command, run: 'true', depends_on: [g, slow]}
Y

# The host's parent never calls wait(): once killed, the host stays a zombie.
cat >zombie.py <<'P'
import os, signal, sqlite3, sys, time
sm, db, wf, ready = sys.argv[1:5]
out = os.open("host.out", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
pid = os.posix_spawn(sm, [sm, "workflow", "run", wf], dict(os.environ),
                     file_actions=[(os.POSIX_SPAWN_DUP2, out, 1), (os.POSIX_SPAWN_DUP2, out, 2)])
for _ in range(100):
    try:
        c = sqlite3.connect(db)
        n = c.execute("SELECT count(*) FROM stages WHERE (stage_id='g' AND status="
                      "'waiting_for_approval') OR (stage_id='slow' AND status='running')").fetchone()[0]
        c.close()
        if n == 2:
            break
    except sqlite3.Error:
        pass
    time.sleep(0.1)
os.kill(pid, signal.SIGKILL)
time.sleep(0.2)
open(ready, "w").write(str(pid))
time.sleep(60)   # never reaps
P
python3 zombie.py "$sm" "$db" hold.yaml ready &
parent=$!
for _ in $(seq 100); do [ -s ready ] && break; sleep 0.1; done
host=$(cat ready)
rid=$(q "SELECT id FROM runs")
check "the killed host is a zombie" grep -q '^State:.*Z' "/proc/$host/status"
check "...whose pid still answers kill -0" kill -0 "$host"

run $sm workflow runs
check "runs: running (host lost)" out_has "running (host lost)"
run $sm workflow runs "$rid" --format json
check "runs RUN --format json: host_lost" json_eq 'j["host_lost"] is True'
run $sm workflow runs "$rid"
check "runs RUN says the host is lost" out_has "(running (host lost))"
check "...and what to do" out_has "its host is gone: run \`skillmeat workflow resume $rid\`"

run $sm workflow pause "$rid"
check "pause to a dead host is refused" exit_is 1
check "...saying to resume" err_has "its host is gone: run \`skillmeat workflow resume $rid\`"
run $sm workflow approve "$rid" g --yes
check "approve to a dead host is refused" err_has "its host is gone"
check "...and nothing was stored" test "$(q "SELECT count(*) FROM commands")" = 0

t0=$(date +%s%N)
run timeout 10 $sm workflow logs "$rid" --follow
t1=$(date +%s%N)
check "logs --follow of a dead host exits 1" exit_is 1
check "...saying the host is gone" err_has "its host is gone: run \`skillmeat workflow resume $rid\`"
check "...at once (under 2 s)" test $(((t1 - t0) / 1000000)) -lt 2000

web_start
web_api POST "/workflow-executions/$rid/pause" '{}'
check "web: pause to a dead host is 409 host_gone" json_eq 'j["error"]["code"] == "host_gone"'
web_api GET "/workflow-executions/$rid" ''
check "web: the run shows host_lost" json_eq 'j["host_lost"] is True and j["status"] == "running"'
web_api GET "/workflow-executions" ''
check "web: so does the list" json_eq '[r["host_lost"] for r in j["items"]] == [True]'
kill "$web"; wait "$web" 2>/dev/null

# The program ends (2 s) while no host watches; resume takes over at once.
sleep 2.5
run $sm workflow resume "$rid" --detach
check "resume takes the run from a zombie host at once" exit_is 0
check "...not 'nothing to do'" sh -c "! grep -q 'nothing to do' '$TMP/out'"
wait_for "SELECT status = 'completed' FROM stages WHERE stage_id = 'slow'"
check "the adopted stage completes" test $? -eq 0
measured=$(awk '{ printf "%.3f", $2 - $1 }' slow.time)
run $sm workflow runs "$rid" --format json
# (times are RFC 3339 strings: docs/cli.md, "JSON style")
secs() { echo "(__import__('datetime').datetime.fromisoformat($1.replace('Z', '+00:00')).timestamp())"; }
check "the attempt's duration is its program's ($measured s), not the host's" json_eq \
	"abs($(secs "j['attempts'][0]['finished_at']") - $(secs "j['attempts'][0]['started_at']") - $measured) < 0.5"
check "the stage's duration too" json_eq \
	"abs($(secs "[s for s in j['stages'] if s['stage_id'] == 'slow'][0]['finished_at']") - $(secs "[s for s in j['stages'] if s['stage_id'] == 'slow'][0]['started_at']") - $measured) < 0.5"
check "the event's duration too" test "$(q "SELECT abs(json_extract(data, '\$.duration_seconds') - $measured) < 0.5 FROM events WHERE type = 'stage_completed' AND stage_id = 'slow'")" = 1
run $sm workflow runs
check "runs: a live host is not lost" sh -c "! grep -q 'host lost' '$TMP/out'"

# logs --follow --resume: the host dies again; following resumes it to the end.
host2=$(q "SELECT host_pid FROM runs WHERE id = '$rid'")
kill -9 "$host2"
for _ in $(seq 50); do grep -q '^State:.*[ZX]' "/proc/$host2/status" 2>/dev/null || ! kill -0 "$host2" 2>/dev/null && break; sleep 0.1; done
run $sm workflow approve "$rid" g --yes
check "approve after the second death is refused too" exit_is 1
timeout 20 $sm workflow logs "$rid" --follow --resume >follow.out 2>follow.err &
follow=$!
wait_for "SELECT host_pid NOT IN ($host, $host2) FROM runs WHERE id = '$rid' AND host_token IS NOT NULL"
check "logs --follow --resume starts a new host" test $? -eq 0
run $sm workflow approve "$rid" g --yes
check "...which takes commands" out_has "approve g sent to its host"
wait "$follow"
rc=$?
check "...and follows the run to its end" exit_is 0
check "...saying it resumed it" grep -q "resumed it in the background" follow.err
check "...logging the whole run, no run id" sh -c "grep -q run_completed follow.out && ! grep -qx '$rid' follow.out"
check "...the run completes" test "$(q "SELECT status FROM runs WHERE id = '$rid'")" = completed
kill "$parent" 2>/dev/null

# cancel of a run whose host is a zombie takes it over and stops it (not "sent to its host").
rm -f ready
python3 zombie.py "$sm" "$db" hold.yaml ready &
parent=$!
for _ in $(seq 100); do [ -s ready ] && break; sleep 0.1; done
rid2=$(q "SELECT id FROM runs WHERE id != '$rid'")
check "a second zombie host" grep -q '^State:.*Z' "/proc/$(cat ready)/status"
run $sm workflow cancel "$rid2" --yes
check "cancel takes the run over from the zombie" out_has "has no live host: stopping it here"
check "...and the run is cancelled" test "$(q "SELECT status FROM runs WHERE id = '$rid2'")" = cancelled
kill "$parent" 2>/dev/null
done_testing
