#!/bin/sh
# The crash matrix: a 12-stage DAG of command stages and fake Claude agent
# stages (-j 3, stages that fail once and back off, a gate that times out
# into auto-approval) whose host is killed with SIGKILL at 50 seeded random
# points, then resumed at once (live stages are adopted) or after its
# stages ended (their results are collected).  Each stage appends
# "start ID" and "end ID TOKEN" to a ledger and answers output v=TOKEN.
# After each resume: every stage ended exactly once, its recorded output
# is the token it wrote, no max_attempts: 1 stage failed, the gate kept its
# deadline, and no process of the run is left.  Then the same through
# `skillmeat web`: killed mid-run, finished by a restarted server and by
# `workflow resume`.  Also: a stale monitor pid now owned by another
# process is never adopted, and an adopted stage's timeout still kills
# its whole process group on time.
. "$(dirname "$0")/lib.sh"
fakes=$(cd "$(dirname "$0")/../fake-agents" && pwd)
cd "$TMP" || exit 1
export NO_COLOR=1
mkdir bin marks
ln -s "$fakes/fake-claude" bin/claude
export PATH="$TMP/bin:$PATH"
export LEDGER="$TMP/ledger" MARKS="$TMP/marks" FAKE_AGENT_LEDGER="$TMP/ledger"
export FAKE_CLAUDE_SLEEP=0.25
db=$SKILLMEAT_HOME/workflow-runs.db
q() { sqlite3 "$db" "$1"; }
$sm init >/dev/null
printf -- '---\nname: worker\n---\nYou do the work.\n' \
	>"$SKILLMEAT_HOME/collections/default/agents/worker.md"

# c = command stage, a = agent stage, f = command that fails its first attempt, g = gate.
python3 - <<'PY' >matrix.yaml
stages = [("c1", "c", [], 1), ("a2", "a", ["c1"], 1), ("f3", "f", [], 3), ("c4", "c", ["c1"], 1),
          ("a5", "a", ["a2"], 2), ("g6", "g", ["f3"], 0), ("c7", "c", ["g6"], 1),
          ("a8", "a", ["c4"], 1), ("c9", "c", ["a5", "c7"], 2), ("f10", "f", ["a8"], 3),
          ("a11", "a", ["c9"], 1), ("c12", "c", ["f10", "a11"], 1)]
script = ('echo "start $SKILLMEAT_STAGE_ID" >> "$LEDGER"\n%s'
          'sleep 0.2\nt=$(od -An -N6 -tx1 /dev/urandom | tr -d " \\n")\n'
          'echo "v=$t" >> "$SKILLMEAT_OUTPUT"\necho "end $SKILLMEAT_STAGE_ID $t" >> "$LEDGER"\n')
fail_once = 'if [ ! -e "$MARKS/$SKILLMEAT_STAGE_ID" ]; then touch "$MARKS/$SKILLMEAT_STAGE_ID"; exit 1; fi\n'
print("workflow: {id: matrix, name: Crash matrix}\nstages:")
for sid, kind, deps, tries in stages:
    print("  - id: %s\n    name: %s" % (sid, sid.upper()))
    if deps:
        print("    depends_on: [%s]" % ", ".join(deps))
    if kind == "g":
        print("    type: gate\n    gate: {timeout: 1s, on_timeout: auto_approve}")
        continue
    if kind == "a":
        print("    roles: {primary: {artifact: \"agent:worker\", instructions: \"Work on %s.\"}}" % sid)
    else:
        body = script % (fail_once if kind == "f" else "")
        print("    type: command\n    run: |")
        print("".join("      " + line + "\n" for line in body.splitlines()), end="")
    print("    outputs: {v: {type: string}}")
    print("    error_policy: {retry: {max_attempts: %d, initial_interval: 1s}}" % tries)
PY

# verify RUN MARK: the run's outcome against the ledger; prints what is wrong.
cat >verify.py <<'PY'
import json, os, sqlite3, sys
run, mark, ledger = sys.argv[1], sys.argv[2], sys.argv[3]
db = sqlite3.connect(os.environ["SKILLMEAT_HOME"] + "/workflow-runs.db")
bad = []
ends = {}
for line in open(ledger):
    w = line.split()
    if w[0] == "end":
        ends.setdefault(w[1], []).append(w[2])
stages = dict(db.execute("SELECT stage_id, status FROM stages WHERE run_id=?", (run,)))
outs = dict(db.execute("SELECT stage_id, outputs FROM stages WHERE run_id=?", (run,)))
for sid, status in stages.items():
    if status != "completed":
        bad.append("%s is %s" % (sid, status))
    if sid.startswith("g"):
        continue
    if len(ends.get(sid, [])) != 1:
        bad.append("%s ended %d times" % (sid, len(ends.get(sid, []))))
    elif json.loads(outs[sid] or "{}").get("v") != ends[sid][0]:
        bad.append("%s recorded %s, wrote %s" % (sid, outs[sid], ends[sid][0]))
# max_attempts: 1 stages (c1 a2 c4 a8 a11 c12 c7) never fail from a crash.
for sid, cls in db.execute("SELECT stage_id, error_class FROM attempts WHERE run_id=? AND"
                           " status='failed' AND error_class != 'host_lost'", (run,)):
    if not sid.startswith("f"):
        bad.append("%s failed with %s" % (sid, cls))
# The gate waited once and was decided at its original deadline.
waits = [json.loads(d)["timeout_at"] for (d,) in db.execute(
    "SELECT data FROM events WHERE run_id=? AND type='stage_waiting_for_approval'", (run,))]
decided = [t for (t,) in db.execute(
    "SELECT ts FROM events WHERE run_id=? AND type='gate_timed_out'", (run,))]
if len(waits) != 1 or len(decided) != 1 or not waits[0] <= decided[0] < waits[0] + 2.5:
    bad.append("gate: waits %s, decided %s" % (waits, decided))
# Nothing of the run is left: monitors and programs carry the host's environment.
for pid in filter(str.isdigit, os.listdir("/proc")):
    try:
        env = open("/proc/%s/environ" % pid, "rb").read().split(b"\0")
    except OSError:
        continue
    if ("CRASH_MARK=" + mark).encode() in env:
        bad.append("process %s of the run is left" % pid)
print("; ".join(bad))
PY

# Wait until no process carries CRASH_MARK=$1 (the killed host's stages ended).
wait_quiet() {
	for _ in $(seq 100); do
		grep -qsazx "CRASH_MARK=$1" /proc/[0-9]*/environ || return 0
		sleep 0.1
	done
	return 1
}

delays=$(python3 -c 'import random; r = random.Random(14); print(" ".join("%.2f" % r.uniform(0.05, 3.6) for _ in range(50)))')
i=0
at_run=0 at_backoff=0 at_gate=0 adopted=0 collected=0
for d in $delays; do
	i=$((i + 1))
	mark=m$i
	: >"$LEDGER"
	rm -f marks/*
	before=$(q "SELECT count(*) FROM runs" 2>/dev/null || echo 0)
	CRASH_MARK=$mark $sm workflow run matrix.yaml -j 3 >/dev/null 2>&1 &
	host=$!
	sleep "$d"
	kill -9 $host 2>/dev/null
	wait $host 2>/dev/null
	if [ "$(q "SELECT count(*) FROM runs")" = "$before" ]; then
		check "kill $i at ${d}s, before the run existed: no stage ran" test ! -s "$LEDGER"
		continue
	fi
	rid=$(q "SELECT id FROM runs ORDER BY created_at DESC LIMIT 1")
	states=$(q "SELECT group_concat(status) FROM stages WHERE run_id='$rid'")
	case $states in *running*) at_run=$((at_run + 1)) ;; esac
	case $states in *retry_wait*) at_backoff=$((at_backoff + 1)) ;; esac
	case $states in *waiting_for_approval*) at_gate=$((at_gate + 1)) ;; esac
	# Odd kills: resume at once.  Even ones: after the orphaned stages ended.
	[ $((i % 2)) -eq 0 ] && wait_quiet "$mark"
	ended=$(q "SELECT status FROM runs WHERE id='$rid'")
	CRASH_MARK=$mark run $sm workflow resume "$rid"
	if [ "$ended" = completed ]; then
		check "kill $i at ${d}s, after the end: resume says so" err_has "has already ended"
	else
		check "kill $i at ${d}s: resume completes the run" exit_is 0
	fi
	why=$(python3 verify.py "$rid" "$mark" "$LEDGER")
	check "kill $i at ${d}s ($states): $why" test -z "$why"
	adopted=$((adopted + $(q "SELECT count(*) FROM events WHERE run_id='$rid' AND type='stage_adopted' AND data LIKE '%running%'")))
	collected=$((collected + $(q "SELECT count(*) FROM events WHERE run_id='$rid' AND type='stage_adopted' AND data LIKE '%exited%'")))
done
echo "matrix: killed with stages running $at_run, in backoff $at_backoff, at the gate $at_gate;" \
	"adopted live $adopted, collected $collected"
check "kills while stages ran ($at_run)" test "$at_run" -ge 20
check "kills during a retry backoff ($at_backoff)" test "$at_backoff" -ge 3
check "kills while the gate waited ($at_gate)" test "$at_gate" -ge 3
check "live attempts were adopted ($adopted)" test "$adopted" -ge 5
check "ended attempts were collected ($collected)" test "$collected" -ge 5
check "the database is sound" test "$(q 'PRAGMA integrity_check')" = ok

# ---- the same through skillmeat web ---------------------------------------------------------
start_web() { # MARK
	CRASH_MARK=$1 web_start
}
wait_final() { # RUN
	for _ in $(seq 300); do
		case $(q "SELECT status FROM runs WHERE id='$1'") in completed|failed|cancelled) return 0 ;; esac
		sleep 0.1
	done
	return 1
}
start_web w0
web_api POST /workflows "$(python3 -c 'import json; print(json.dumps({"definition": open("matrix.yaml").read()}))')"
kill $web; wait $web 2>/dev/null
for how in restart resume; do
	mark=w-$how
	: >"$LEDGER"
	rm -f marks/*
	# The agent's work lasts long enough that the kill lands while a2 still runs.
	FAKE_CLAUDE_SLEEP=1.5 start_web "$mark"
	web_api POST /workflow-executions '{"workflow_id": "matrix", "max_parallel": 3}'
	rid=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "$TMP/out")
	wait_for "SELECT count(*) > 0 FROM stages WHERE run_id='$rid' AND stage_id='a2' AND status='running'"
	# Running in the database is written before the attempt starts (a kill in between
	# leaves nothing to adopt, rightly): wait for its monitor to have started the agent.
	for _ in $(seq 100); do [ -e "$SKILLMEAT_HOME/runs/$rid/a2/1/monitor" ] && break; sleep 0.05; done
	kill -9 $web
	wait $web 2>/dev/null
	check "web ($how): killed mid-run" test "$(q "SELECT status FROM runs WHERE id='$rid'")" = running
	if [ $how = restart ]; then
		start_web "$mark"
		wait_final "$rid"
		check "web: the restarted server finished the run" test $? -eq 0
		kill $web; wait $web 2>/dev/null
	else
		CRASH_MARK=$mark run $sm workflow resume "$rid"
		check "web: workflow resume finished the server's run" exit_is 0
	fi
	why=$(python3 verify.py "$rid" "$mark" "$LEDGER")
	check "web ($how): $why" test -z "$why"
	check "web ($how): the live agent was adopted" \
		test "$(q "SELECT count(*) FROM events WHERE run_id='$rid' AND type='stage_adopted'")" -ge 1
done

# ---- a stale monitor pid is never adopted --------------------------------------------------------
cat >one.yaml <<'Y'
workflow: {id: one, name: One}
stages:
  - id: s
    name: S
    type: command
    run: 'echo "start s" >> "$LEDGER"; sleep 0.3; echo "end s x" >> "$LEDGER"'
    error_policy: {retry: {max_attempts: 1}}
Y
: >"$LEDGER"
$sm workflow run one.yaml >/dev/null 2>&1 &
host=$!
wait_for "SELECT count(*) FROM stages WHERE stage_id='s' AND status='running'"
kill -9 $host
wait $host 2>/dev/null
rid=$(q "SELECT id FROM runs ORDER BY created_at DESC LIMIT 1")
dir=$SKILLMEAT_HOME/runs/$rid/s/1
for _ in $(seq 50); do [ -e "$dir/exit" ] && break; sleep 0.1; done
# The attempt ended unseen; now its recorded pids belong to someone else, and no exit is left.
sleep 300 &
other=$!
rm "$dir/exit"
printf '{"monitor_pid": %d, "monitor_start": 1, "child_pid": %d, "child_start": 1}\n' \
	$other $other >"$dir/monitor"
run $sm workflow resume "$rid"
check "stale pid: the run completes" exit_is 0
check "stale pid: the attempt was counted lost, not adopted" \
	test "$(q "SELECT error_class FROM attempts WHERE run_id='$rid' AND attempt=1")" = host_lost
check "stale pid: a lost attempt does not use up max_attempts: 1" \
	test "$(q "SELECT status FROM stages WHERE run_id='$rid'")" = completed
check "stale pid: the other process was not touched" kill -0 $other
kill $other

# ---- an adopted stage's timeout kills its whole group on time --------------------------------------
cat >slow.yaml <<'Y'
workflow: {id: slow, name: Slow}
stages:
  - id: s
    name: S
    type: command
    run: 'sleep 300 & echo $! > "$LEDGER.grandchild"; sleep 300'
    error_policy: {timeout: 3s, retry: {max_attempts: 1}}
Y
$sm workflow run slow.yaml >/dev/null 2>&1 &
host=$!
wait_for "SELECT count(*) FROM stages WHERE stage_id='s' AND status='running'"
t0=$(date +%s.%N)
sleep 0.5
kill -9 $host
wait $host 2>/dev/null
run $sm workflow resume last
t1=$(date +%s.%N)
check "adopted timeout: the stage failed with class timeout" \
	test "$(q "SELECT error_class FROM stages WHERE stage_id='s' AND run_id=(SELECT id FROM runs ORDER BY created_at DESC LIMIT 1)")" = timeout
check "adopted timeout: on time, not restarted ($t0 -> $t1)" \
	python3 -c "import sys; sys.exit(0 if 1.8 < $t1 - $t0 < 6 else 1)"
gone() { # PID: no such process, or a zombie
	python3 -c 'import sys
try: st = open("/proc/%s/stat" % sys.argv[1]).read().rsplit(")", 1)[1].split()[0]
except OSError: sys.exit(0)
sys.exit(0 if st in "ZX" else 1)' "$1"
}
check "adopted timeout: the grandchild is gone too" gone "$(cat "$LEDGER.grandchild")"
done_testing
