#!/bin/sh
# Web under a flood (docs/web.md, "Limits"): authenticated API calls timed on
# a quiet server, then on the same server while 2,000 idle connections are
# held and re-opened without pause and 1,000 event streams are asked for
# (tests/cli/web-flood.py); the latencies side by side.
# Usage: bench/run-web-flood.sh [IDLE] [STREAMS] [CALLS]
set -eu
cd "$(dirname "$0")/.."
idle=${1:-2000} streams=${2:-1000} calls=${3:-500}
[ -d build-release ] || meson setup build-release --buildtype=release >/dev/null
ninja -C build-release src/cli/skillmeat >/dev/null
sm=$PWD/build-release/src/cli/skillmeat
flood=$PWD/tests/cli/web-flood.py
dir=$(mktemp -d)
trap 'kill $web 2>/dev/null; rm -rf "$dir"' EXIT
export SKILLMEAT_HOME="$dir/home"
$sm init >/dev/null
$sm web --port 0 >"$dir/web.out" 2>&1 &
web=$!
for _ in $(seq 50); do [ -s "$SKILLMEAT_HOME/web.json" ] && break; sleep 0.1; done
T=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["token"])' "$SKILLMEAT_HOME/web.json")
P=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["port"])' "$SKILLMEAT_HOME/web.json")
python3 "$flood" "$P" "$T" 0 0 "$calls" >"$dir/quiet.json"
sleep 16 # the quiet run held no stream; let the server settle
python3 "$flood" "$P" "$T" "$idle" "$streams" "$calls" >"$dir/flood.json"
python3 - "$dir/quiet.json" "$dir/flood.json" <<'PY'
import json, sys
q, f = (json.load(open(p)) for p in sys.argv[1:3])
print("| API calls (GET /workflows, a new connection each) | ok | p50 ms | p99 ms | max ms |")
print("|---|---|---|---|---|")
for name, r in (("quiet server", q), ("%d idle + %d stream requests, flood going on" %
                 (f["idle"], f["streams"]["ok"] + f["streams"]["refused_503"]), f)):
    print("| %s | %d/%d | %s | %s | %s |" % (name, r["calls_ok"], r["calls"], r["p50_ms"],
                                            r["p99_ms"], r["max_ms"]))
print("streams: %(ok)d open, %(refused_503)d refused with 503 + Retry-After" % f["streams"])
print("connections opened by the flood during the calls: %d; idle ones dropped: %d" %
      (f["flood_opened_during_calls"], f["idle_dropped_by_server"]))
PY
