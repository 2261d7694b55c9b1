#!/bin/sh
# Build and run the whole test suite twice: a normal (-O2) build and an
# ASan+UBSan build (clang, no recovery); the process tests under valgrind,
# the web UI's unit and browser tests, the server test under
# ThreadSanitizer, then the fuzz targets on their corpora.  Ends with one line "N passed, N failed" over every case run.
set -u
cd "$(dirname "$0")/.."
root=$(pwd)
status=0
summary="$root/build-test-summary.txt"
: >"$summary"

run_suite() { # name builddir
	meson test -C "$2" --print-errorlogs --num-processes 2 >"$2/test-output.txt" 2>&1 || status=1
	tail -n 12 "$2/test-output.txt"
	python3 scripts/count-results.py "$2/meson-logs/testlog.json" "$1" >>"$summary" || status=1
}

# 1. Normal build.
[ -d build ] || meson setup build >/dev/null || exit 1
ninja -C build || exit 1
run_suite normal build

# 1b. The process code under valgrind: memory errors and leaked descriptors.
meson test -C build --setup valgrind --suite process --print-errorlogs --num-processes 2 \
	>build/test-output-valgrind.txt 2>&1 || status=1
tail -n 8 build/test-output-valgrind.txt
python3 scripts/count-results.py build/meson-logs/testlog-valgrind.json valgrind >>"$summary" ||
	status=1

# 1c. The web UI: its unit tests (Vitest), then the browser tests (playwright-core driving
# Debian's Chromium against this build's `skillmeat web`; screenshots in build/e2e-artifacts).
if [ -d web/node_modules ]; then
	rm -f build/vitest.json
	(cd web && npx --no-install vitest run --reporter=json --outputFile="$root/build/vitest.json" \
		>"$root/build/test-output-web.txt" 2>&1) || status=1
	python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); f=j["numFailedTests"] or min(1, j["numFailedTestSuites"]); print("web-unit: %d passed, %d failed" % (j["numPassedTests"], f))' \
		build/vitest.json >>"$summary" || { echo "web-unit: 0 passed, 1 failed" >>"$summary"; status=1; }
	SKILLMEAT="$root/build/src/cli/skillmeat" E2E_ARTIFACTS="$root/build/e2e-artifacts" \
		timeout 600 node web/e2e/run.mjs >build/test-output-e2e.txt 2>&1 || status=1
	tail -n 20 build/test-output-e2e.txt
	grep -E '^e2e: [0-9]+ passed, [0-9]+ failed$' build/test-output-e2e.txt >>"$summary" ||
		{ echo "e2e: 0 passed, 1 failed" >>"$summary"; status=1; }
else
	echo "web: web/node_modules is missing (run scripts/setup.sh): UI tests not run" >&2
	echo "web: 0 passed, 1 failed" >>"$summary"
	status=1
fi

# 2. ASan + UBSan, no recovery; libfyaml's own leak is suppressed (.ci/lsan.supp).
if [ ! -d build-asan ]; then
	CC=clang meson setup build-asan -Db_sanitize=address,undefined -Db_lundef=false \
		-Dbuildtype=debug -Dc_args=-fno-sanitize-recover=all >/dev/null || exit 1
fi
ninja -C build-asan || exit 1
# (t0019's flood lighter here too: the full one is the normal build's)
WEB_FLOOD="1200 100 20" ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
LSAN_OPTIONS="suppressions=$root/.ci/lsan.supp:print_suppressions=0" \
UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	run_suite asan build-asan

# 2b. The server (threads) under ThreadSanitizer: a race makes the server exit non-zero,
# which the web test checks.
if [ ! -d build-tsan ]; then
	CC=clang meson setup build-tsan -Db_sanitize=thread -Db_lundef=false >/dev/null || exit 1
fi
ninja -C build-tsan src/cli/skillmeat src/cli/skillmeat-monitor || exit 1
# (a lighter flood in t0019: under TSan the server accepts some hundred connections a second)
TSAN_OPTIONS=halt_on_error=1 WEB_FLOOD="1200 100 20" \
	meson test -C build-tsan --suite server --print-errorlogs \
	>build-tsan/test-output.txt 2>&1 || status=1
tail -n 8 build-tsan/test-output.txt
python3 scripts/count-results.py build-tsan/meson-logs/testlog.json tsan >>"$summary" ||
	status=1

# 3. Fuzz targets, smoke-run on their corpora (libFuzzer, ASan+UBSan).
if [ ! -d build-fuzz ]; then
	CC=clang meson setup build-fuzz -Dfuzzers=true -Db_lundef=false -Dbuildtype=debug \
		>/dev/null || exit 1
fi
ninja -C build-fuzz fuzz/fuzz-workflow fuzz/fuzz-expr fuzz/fuzz-toml fuzz/fuzz-pack fuzz/fuzz-http \
	fuzz/fuzz-agent-claude fuzz/fuzz-agent-codex fuzz/fuzz-agent-gemini || exit 1
LSAN_OPTIONS="suppressions=$root/.ci/lsan.supp:print_suppressions=0" \
	sh fuzz/smoke.sh build-fuzz >>"$summary" || status=1

cat "$summary"
python3 scripts/count-results.py --total "$summary"
[ $status -eq 0 ]
