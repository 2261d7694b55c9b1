#!/bin/sh
# run-cases.sh SKILLMEAT CASES_DIR
#
# invalid/<case>/: one workflow.* input (or a `gen` script that writes it
# into the directory it is given), `expected` lines that must each appear
# in the diagnostics, optional `args` for validate.  The case must exit 1.
#
# valid/<case>/: workflow.* plus `plan.json`, the exact output of
# `workflow plan --format json` with the optional `args`; and it must
# validate with exit 0.
set -u
bin=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
dir=$(cd "$2" && pwd)
pass=0
fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export NO_COLOR=1
export SKILLMEAT_HOME="$tmp/home" # no collection: artifacts are not checked

ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL $1: $2"; }

input_of() {
	for f in "$1"/workflow.*; do
		[ -f "$f" ] && { echo "$f"; return; }
	done
}

run_invalid() {
	c=$1 name=$(basename "$1")
	in=$(input_of "$c")
	if [ -x "$c/gen" ]; then
		mkdir -p "$tmp/$name"
		"$c/gen" "$tmp/$name"
		in=$(input_of "$tmp/$name")
	fi
	args=$(cat "$c/args" 2>/dev/null || true)
	# shellcheck disable=SC2086
	(cd "$(dirname "$in")" && "$bin" workflow validate "$(basename "$in")" $args) \
		>"$tmp/out" 2>&1
	rc=$?
	[ $rc -eq 1 ] || { bad "$name" "exit $rc, expected 1"; cat "$tmp/out"; return; }
	while IFS= read -r line; do
		[ -n "$line" ] || continue
		grep -qF -- "$line" "$tmp/out" || {
			bad "$name" "missing: $line"
			sed 's/^/    /' "$tmp/out" | head -20
			return
		}
	done <"$c/expected"
	ok
}

run_valid() {
	c=$1 name=$(basename "$1")
	in=$(basename "$(input_of "$c")")
	args=$(cat "$c/args" 2>/dev/null || true)
	(cd "$c" && "$bin" workflow validate "$in") >"$tmp/out" 2>&1 ||
		{ bad "$name" "does not validate"; cat "$tmp/out"; return; }
	# shellcheck disable=SC2086
	(cd "$c" && "$bin" workflow plan "$in" --no-overrides --format json $args) \
		>"$tmp/plan" 2>"$tmp/err" || { bad "$name" "plan failed"; cat "$tmp/err"; return; }
	if [ -n "${UPDATE_EXPECTED:-}" ]; then
		cp "$tmp/plan" "$c/plan.json"
	fi
	diff -u "$c/plan.json" "$tmp/plan" >"$tmp/diff" ||
		{ bad "$name" "plan differs"; head -40 "$tmp/diff"; return; }
	ok
}

for c in "$dir"/invalid/*/; do run_invalid "${c%/}"; done
for c in "$dir"/valid/*/; do [ -d "$c" ] && run_valid "${c%/}"; done
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
