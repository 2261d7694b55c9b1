#!/bin/sh
# validate: exit codes, JSON output, --strict, colour rules, missing files.
. "$(dirname "$0")/lib.sh"
ex=$(dirname "$0")/../../examples

run $sm workflow validate "$ex/code-review.yaml"
check "valid example exits 0" exit_is 0
check "valid example says so" out_has "valid (0 warnings)"

cat >"$TMP/warn.yaml" <<'YAML'
workflow: {id: w, name: W, tagz: [x]}
stages:
  - {id: a, name: A, roles: {primary: {artifact: "agent:x"}}}
YAML
run $sm workflow validate "$TMP/warn.yaml"
check "warnings alone are valid" exit_is 0
check "the warning suggests the key" err_has "did you mean 'tags'?"
run $sm workflow validate "$TMP/warn.yaml" --strict
check "--strict fails on warnings" exit_is 1
check "--strict says why" out_has "treated as errors: --strict"

cat >"$TMP/bad.yaml" <<'YAML'
workflow: {id: w, name: W}
stages:
  - {id: a, name: A, depends_on: [b], roles: {primary: {artifact: "agent:x"}}}
  - {id: b, name: B, depends_on: [a], roles: {primary: {artifact: nope}}}
YAML
run $sm workflow validate "$TMP/bad.yaml" --format json
check "invalid exits 1" exit_is 1
check "json output parses" out_is_json
check "json lists both errors" json_eq 'j["valid"] is False and j["error_count"] == 2'
check "json diagnostics are located" json_eq \
	'all(d["line"] and d["column"] and d["file"] for d in j["diagnostics"])'
check "json names the cycle" json_eq \
	'any("dependency cycle: a -> b -> a" in d["message"] for d in j["diagnostics"])'
check "json carries stage and field" json_eq \
	'any(d["stage_id"] == "b" and d["field"] == "roles.primary.artifact" for d in j["diagnostics"])'

run $sm workflow validate "$TMP/bad.yaml"
check "no colour when not a terminal" sh -c "! grep -q \"$(printf '\033')\" '$TMP/err'"
check "text diagnostics show the source line" err_has "| "

run $sm workflow validate "$TMP/missing.yaml"
check "missing file exits 1" exit_is 1
check "missing file is named" err_has "no such workflow file"

printf 'workflow: {id: w, name: W}\n' >"$TMP/w.txt"
run $sm workflow validate "$TMP/w.txt"
check "unknown extension exits 1" exit_is 1
check "unknown extension explained" err_has "unsupported file extension '.txt'"
done_testing
