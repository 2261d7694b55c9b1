#!/bin/sh
# Web load: N (200) clients on the event stream of one run that logs a line
# every 50 ms for about D (30) seconds, while wrk reads the run's detail
# through the API (4 threads, 16 connections) for the same 30 s.  Checks
# that every client saw every event in order, reports wrk's latency
# percentiles, and compares the server's open descriptors before and after.
# Usage: bench/run-web-load.sh [CLIENTS] [SECONDS]      (needs wrk, curl)
set -eu
cd "$(dirname "$0")/.."
clients=${1:-200}
secs=${2:-30}
[ -d build-release ] || meson setup build-release --buildtype=release >/dev/null
ninja -C build-release src/cli/skillmeat >/dev/null
sm=$PWD/build-release/src/cli/skillmeat
root=$PWD
dir=$(mktemp -d)
trap 'kill $web 2>/dev/null; rm -rf "$dir"' EXIT
export SKILLMEAT_HOME="$dir/home"
cd "$dir"
$sm init >/dev/null
lines=$((secs * 20))
cat >load.yaml <<Y
workflow: {id: load, name: Load}
stages:
  - id: talk
    name: Talk
    type: command
    run: |
      i=0
      while [ \$i -lt $lines ]; do echo "line \$i"; i=\$((i + 1)); sleep 0.05; done
    error_policy: {timeout: 10m}
Y
$sm workflow create load.yaml >/dev/null
$sm web --port 0 >web.out 2>&1 &
web=$!
for _ in $(seq 50); do [ -s home/web.json ] && break; sleep 0.1; done
T=$(python3 -c 'import json; print(json.load(open("home/web.json"))["token"])')
P=$(python3 -c 'import json; print(json.load(open("home/web.json"))["port"])')
B="http://127.0.0.1:$P/api/v1"
fds_before=$(ls /proc/$web/fd | wc -l)
R=$(curl -s -H "Authorization: Bearer $T" -H 'Content-Type: application/json' -d '{"workflow_id": "load"}' "$B/workflow-executions" |
	python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
python3 "$root/bench/sse-clients.py" "$B/workflow-executions/$R/stream" "$T" "$clients" sse.json &
sse=$!
sleep 1
wrk -t 4 -c 16 -d "${secs}s" --latency -H "Authorization: Bearer $T" \
	"$B/workflow-executions/$R" >wrk.txt
status=0
wait $sse || status=1
sleep 1
fds_after=$(ls /proc/$web/fd | wc -l)
echo "SSE: $(cat sse.json | tr -d '\n ')"
grep -E "Requests/sec|Latency +[0-9]|^ +50%|^ +90%|^ +99%|Non-2xx|Socket errors" wrk.txt
echo "server descriptors: $fds_before before, $fds_after after"
[ "$fds_after" -le "$fds_before" ] || { echo "descriptor leak" >&2; status=1; }
kill -TERM $web
wait $web || status=1
exit $status
