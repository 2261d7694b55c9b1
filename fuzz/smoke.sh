#!/bin/sh
# smoke.sh BUILD_DIR: run each fuzz target over its corpus and its regression
# inputs (fuzz/regressions/TARGET: what a campaign once crashed on, see
# campaign.sh) plus a short bounded mutation run.  Prints "fuzz: N passed,
# N failed" (one per target).
set -u
build=$1
here=$(cd "$(dirname "$0")" && pwd)
pass=0
fail=0
for t in workflow expr toml pack http agent-claude agent-codex agent-gemini; do
	work=$(mktemp -d)
	cp "$here"/corpus/$t/* "$work"/ 2>/dev/null
	cp "$here"/regressions/$t/* "$work"/ 2>/dev/null
	# Packs are binary: their seeds are made fresh (a valid pack and its manifest).
	[ $t = pack ] && python3 "$here/make-pack-seeds.py" "$work"
	# TOML also seeds from the toml-test suite beside the project, when present.
	if [ $t = toml ] && [ -d "$here/../../shared/conformance/toml-test/tests/valid" ]; then
		find "$here/../../shared/conformance/toml-test/tests/valid" -name '*.toml' |
			head -150 | while read -r f; do cp "$f" "$work/$(echo "$f" | md5sum | cut -c1-12).toml"; done
	fi
	if "$build/fuzz/fuzz-$t" -runs=3000 -max_total_time=60 -max_len=8192 -timeout=10 \
		-rss_limit_mb=2048 "$work" >"$work.log" 2>&1; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1))
		echo "fuzz-$t FAILED:" >&2
		tail -40 "$work.log" >&2
	fi
	rm -rf "$work" "$work.log"
done
echo "fuzz: $pass passed, $fail failed"
[ $fail -eq 0 ]
