#!/bin/sh
# plan: typed parameters, JSON, overrides found upward and applied.
. "$(dirname "$0")/lib.sh"
ex=$(cd "$(dirname "$0")/../../examples" && pwd)
cd "$TMP" || exit 1

run $sm workflow plan "$ex/sdlc-feature-ship.yaml"
check "a required parameter is enforced" exit_is 1
check "the missing parameter is named" err_has "required parameter 'feature_name' was not provided"

run $sm workflow plan "$ex/sdlc-feature-ship.yaml" -p feature_name=x -p skip_review=yes --format json
check "plan json exits 0" exit_is 0
check "plan json parses" out_is_json
check "boolean parameter is coerced" json_eq 'j["parameters"]["skip_review"] is True'
check "four sequential batches" json_eq 'len(j["batches"]) == 4'
check "estimate is upstream's rule" json_eq 'j["estimated_timeout_seconds"] == 9000'

run $sm workflow plan "$ex/sdlc-feature-ship.yaml" -p feature_name=x -p skip_review=perhaps
check "an ill-typed parameter fails" exit_is 1
check "the type is named" err_has "'perhaps' is not a boolean"
run $sm workflow plan "$ex/sdlc-feature-ship.yaml" -p feature_name=x -p colour=red
check "an unknown parameter fails" exit_is 1
run $sm workflow plan "$ex/sdlc-feature-ship.yaml" -p feature_name=x -p colour=red --allow-extra-params --format json
check "--allow-extra-params passes it" json_eq 'j["parameters"]["colour"] == "red"'
run $sm workflow plan "$ex/sdlc-feature-ship.yaml" -p novalue
check "--param without = is a usage error" exit_is 2

run $sm workflow plan "$ex/parallel-fanout.yaml"
check "parallel batch shown" out_has "Batch 2 (parallel after Batch 1):"

# Overrides, found from a subdirectory of the project.
mkdir -p proj/sub/deeper
cat >proj/.skillmeat-workflow-overrides.yaml <<'YAML'
overrides:
  sdlc-feature-ship:
    stages:
      implementation:
        roles: {primary: {artifact: "agent:my-coder", model: sonnet}}
    config: {timeout: 8h}
YAML
cd proj/sub/deeper || exit 1
run $sm workflow plan "$ex/sdlc-feature-ship.yaml" -p feature_name=x
check "plan with overrides exits 0" exit_is 0
check "the overrides file is shown" out_has "Overrides: "
check "the swapped role is shown" out_has "Override: roles.primary.artifact: agent:coder-v2 -> agent:my-coder"
check "the new agent is planned" out_has "Agent: agent:my-coder (sonnet)"
run $sm workflow plan "$ex/sdlc-feature-ship.yaml" -p feature_name=x --format json
check "json carries the override" json_eq \
	'[o for b in j["batches"] for s in b["stages"] for o in s["overrides"]][0]["after"] == "agent:my-coder"'
run $sm workflow plan "$ex/sdlc-feature-ship.yaml" -p feature_name=x --no-overrides
check "--no-overrides ignores it" sh -c "! grep -q my-coder '$TMP/out'"

cd "$TMP" || exit 1
mkdir -p proj2
cat >proj2/.skillmeat-workflow-overrides.yaml <<'YAML'
overrides:
  sdlc-feature-ship:
    stages:
      implementation: {depends_on: []}
      nosuch: {name: X}
YAML
run $sm workflow plan "$ex/sdlc-feature-ship.yaml" -p feature_name=x --overrides-dir proj2
check "a forbidden override fails" exit_is 1
check "the error points into the overrides file" err_has ".skillmeat-workflow-overrides.yaml:4:"
check "structural fields are refused" err_has "overriding 'depends_on' is not allowed"

cat >proj2/.skillmeat-workflow-overrides.yaml <<'YAML'
overrides:
  sdlc-feature-ship:
    stages:
      research:
        error_policy: {timeout: soon}
YAML
run $sm workflow plan "$ex/sdlc-feature-ship.yaml" -p feature_name=x --overrides-dir proj2
check "a bad override value fails validation" exit_is 1
check "its diagnostic points into the overrides file" \
	err_has ".skillmeat-workflow-overrides.yaml:5:33: error: [schema] stage 'research' field 'error_policy.timeout': malformed duration 'soon'"

# The TOML form of the overrides file, and both forms at once.
mkdir -p proj3
cat >proj3/.skillmeat-workflow-overrides.toml <<'TOML'
[overrides.sdlc-feature-ship.stages.review.roles.primary]
artifact = "agent:strict-reviewer"
model = "opus"

[overrides.sdlc-feature-ship.config]
timeout = "6h"
TOML
run $sm workflow plan "$ex/sdlc-feature-ship.yaml" -p feature_name=x --overrides-dir proj3
check "TOML overrides apply" out_has "Override: roles.primary.artifact: agent:reviewer-v1 -> agent:strict-reviewer"
check "TOML overrides show workflow-level fields" out_has "config.timeout: 4h -> 6h"
cat >proj3/.skillmeat-workflow-overrides.toml <<'TOML'
[overrides.sdlc-feature-ship.stages.review]
type = "gate"
TOML
run $sm workflow plan "$ex/sdlc-feature-ship.yaml" -p feature_name=x --overrides-dir proj3
check "TOML overrides are checked like YAML ones" err_has ".skillmeat-workflow-overrides.toml:2:1: error: [override]"
cp proj/.skillmeat-workflow-overrides.yaml proj3/
run $sm workflow plan "$ex/sdlc-feature-ship.yaml" -p feature_name=x --overrides-dir proj3
check "both forms in one place is refused" exit_is 1
check "…naming both" err_has "both .skillmeat-workflow-overrides.yaml and .skillmeat-workflow-overrides.toml exist"

run $sm workflow show "$ex/gated-deploy.yaml" --format json
check "show json exits 0" exit_is 0
check "show fills the gate defaults" json_eq 'j["stages"][1]["gate"]["on_timeout"] == "reject" and j["stages"][0]["error_policy"]["retry"]["max_attempts"] == 2'
run $sm workflow show "$ex/gated-deploy.yaml"
check "show text lists stages" out_has "approval"
done_testing
