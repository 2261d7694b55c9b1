#!/bin/sh
# campaign.sh BUILD_DIR [SECONDS] [TARGET...]: a fuzzing campaign, not a smoke
# run.  Each target (default: all of them) runs for SECONDS (default 600) in
# BUILD_DIR's fuzz build (meson setup BUILD_DIR -Dfuzzers=true with CC=clang:
# ASan and UBSan, no recovery), with leak checking.  What it finds stays:
#   fuzz/corpus/TARGET       new inputs that reach new coverage (merged in)
#   fuzz/regressions/TARGET  every input that crashed, leaked, hung or ran out
#                            of memory; smoke.sh replays these in CI, so keep
#                            them (with the fix) once the bug is fixed
# A crash does not end the target's run: it is saved and the run goes on for
# the time left.  Prints, per target, the inputs run, the coverage (edges,
# features), the corpus size and the findings; exits 1 if there were any.
set -u
build=${1:?usage: campaign.sh BUILD_DIR [SECONDS] [TARGET...]}
secs=${2:-600}
[ $# -ge 2 ] && shift 2 || shift $#
here=$(cd "$(dirname "$0")" && pwd)
targets=${*:-workflow expr toml pack http agent-claude agent-codex agent-gemini}
total_findings=0
for t in $targets; do
	bin=$build/fuzz/fuzz-$t
	[ -x "$bin" ] || { echo "fuzz-$t: not built in $build" >&2; exit 2; }
	mkdir -p "$here/corpus/$t" "$here/regressions/$t"
	work=$(mktemp -d)
	found=$(mktemp -d)
	cp "$here"/corpus/$t/* "$here"/regressions/$t/* "$work"/ 2>/dev/null
	[ $t = pack ] && python3 "$here/make-pack-seeds.py" "$work"
	end=$(($(date +%s) + secs))
	runs=0 cov=0 ft=0 rounds=0
	while [ "$(date +%s)" -lt "$end" ] && [ $rounds -lt 20 ]; do
		rounds=$((rounds + 1))
		left=$((end - $(date +%s)))
		[ $left -lt 1 ] && break
		ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 "$bin" \
			-max_total_time=$left -max_len=8192 -timeout=10 -rss_limit_mb=2048 \
			-print_final_stats=1 -artifact_prefix="$found/" "$work" >"$work.log" 2>&1
		r=$(grep -a '^stat::number_of_executed_units:' "$work.log" | tail -1 | tr -cd '0-9')
		runs=$((runs + ${r:-0}))
		line=$(grep -a -E '^#[0-9]+.*cov: ' "$work.log" | tail -1)
		c=$(echo "$line" | sed -n 's/.*cov: \([0-9]*\).*/\1/p' | tr -cd '0-9')
		f=$(echo "$line" | sed -n 's/.*ft: \([0-9]*\).*/\1/p' | tr -cd '0-9')
		[ "${c:-0}" -gt $cov ] && cov=$c
		[ "${f:-0}" -gt $ft ] && ft=$f
		grep -a -E '^SUMMARY: |runtime error|ERROR: libFuzzer' "$work.log" | head -2 |
			sed "s/^/fuzz-$t: /" >&2
	done
	before=$(ls "$here/corpus/$t" | wc -l)
	"$bin" -merge=1 "$here/corpus/$t" "$work" >"$work.merge" 2>&1
	added=$(($(ls "$here/corpus/$t" | wc -l) - before))
	n=0
	for f in "$found"/*; do
		[ -e "$f" ] || continue
		cp "$f" "$here/regressions/$t/$(basename "$f")"
		n=$((n + 1))
	done
	total_findings=$((total_findings + n))
	echo "fuzz-$t: $runs inputs in ${secs}s, cov $cov edges, ft $ft features," \
		"corpus $(ls "$here/corpus/$t" | wc -l) (+$added), findings $n" \
		"$( [ $n -gt 0 ] && echo "(in fuzz/regressions/$t)")"
	rm -rf "$work" "$work.log" "$work.merge" "$found"
done
[ $total_findings -eq 0 ]
