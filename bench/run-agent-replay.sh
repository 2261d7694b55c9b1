#!/bin/sh
# Reading an agent's output: a long Claude Code session (bench/gen-transcript.py:
# TURNS turns of three blocks each, a final answer of RESULT_KB on one line)
# judged by `skillmeat debug runner-replay claude` (parse, usage once per
# message id, outputs from the result), beside jq reading the same lines
# (`jq -c .type`, the reference for one JSON value a line), hyperfine, one run.
# Usage: bench/run-agent-replay.sh [TURNS] [RESULT_KB]   (default 20000 4096)
set -eu
cd "$(dirname "$0")/.."
[ -d build-release ] || meson setup build-release -Dbuildtype=release -Db_ndebug=true >/dev/null
ninja -C build-release >/dev/null
mkdir -p bench/out
f=bench/out/transcript.ndjson
python3 bench/gen-transcript.py "$f" "${1:-20000}" "${2:-4096}"
echo "file: $f ($(wc -c <"$f") bytes, $(wc -l <"$f") lines)"
export SKILLMEAT_HOME="$PWD/bench/out/home"
hyperfine -N --warmup 1 --runs 10 --export-markdown bench/out/agent-replay.md \
	"./build-release/src/cli/skillmeat debug runner-replay claude $f" \
	"jq -c .type $f"
for cmd in "./build-release/src/cli/skillmeat debug runner-replay claude $f" "jq -c .type $f"; do
	/usr/bin/time -f "peak RSS %M KB: $cmd" $cmd >/dev/null
done
