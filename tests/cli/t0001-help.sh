#!/bin/sh
# --help everywhere, usage errors, version.
. "$(dirname "$0")/lib.sh"

for c in "" "init" "workflow" "workflow validate" "workflow plan" "workflow show" \
	"workflow create" "workflow list" "workflow delete" "debug" "debug load" "debug eval" \
	"debug toml-decode" "debug toml-encode" "workflow run" "workflow resume" "workflow runs" \
	"workflow logs" "workflow approve" "workflow reject" "workflow cancel" "workflow pause" \
	"memory" "memory add" "memory list" "memory show" "memory promote" "memory deprecate" \
	"memory delete" "memory export" "memory import" "memory capture" "context" \
	"context preview" "web" "debug routes" "pack" "pack build" "pack inspect" "pack verify" \
	"pack sign" "pack install" "pack keygen" "pack keys" "pack export-key" "pack trust" \
	"pack untrust" "workflow export" "stage" "stage exec"; do
	# shellcheck disable=SC2086
	run $sm $c --help
	check "'$c --help' exits 0" exit_is 0
	check "'$c --help' prints usage" out_has "usage: skillmeat"
done
run $sm
check "no command is a usage error" exit_is 2
run $sm frobnicate
check "unknown command exits 2" exit_is 2
check "unknown command is named" err_has "unknown command 'frobnicate'"
run $sm workflow validate
check "missing WORKFLOW exits 2" exit_is 2
check "missing WORKFLOW is said" err_has "missing WORKFLOW"
run $sm workflow validate a.yaml --bogus
check "unknown option exits 2" exit_is 2
run $sm workflow validate a.yaml --param x=1
check "--param is not a validate option" exit_is 2
run $sm workflow plan a.yaml --format xml
check "bad --format exits 2" exit_is 2
check "bad --format is explained" err_has "--format must be 'text' or 'json'"
run $sm --version
check "--version" out_has "skillmeat "
done_testing
