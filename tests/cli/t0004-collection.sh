#!/bin/sh
# Collections: init, workflow create/list/show/plan/delete by name,
# artifact resolution, manifest and lock contents.
. "$(dirname "$0")/lib.sh"
ex=$(cd "$(dirname "$0")/../../examples" && pwd)
coll=$SKILLMEAT_HOME/collections/default
cd "$TMP" || exit 1

run $sm workflow list
check "no collection: list fails" exit_is 1
check "no collection: says how to make one" err_has "create it with 'skillmeat init'"
run $sm workflow create "$ex/code-review.yaml"
check "no collection: create fails" exit_is 1

run $sm init
check "init exits 0" exit_is 0
check "init writes the manifest" test -f "$coll/collection.toml"
check "init writes the lock" test -f "$coll/collection.lock"
check "init makes it the default" grep -q 'default-collection = "default"' "$SKILLMEAT_HOME/config.toml"
run $sm init
check "init again is harmless" exit_is 0

# Entries we do not understand must survive our rewrites: a manifest as
# upstream writes one, with an agent, an MCP server and tag definitions.
cat >"$coll/collection.toml" <<'TOML'
[collection]
name = "default"
version = "1.0.0"
created = "2026-01-01T00:00:00.000000"
updated = "2026-01-01T00:00:00.000000"

[[artifacts]]
name = "researcher-v1"
type = "agent"
path = "agents/researcher-v1.md"
origin = "github"
upstream = "https://github.com/example/agents"
added = "2026-01-01T00:00:00"

[[mcp_servers]]
name = "github-api"
repo = "example/github-mcp"
version = "latest"

[[tag_definitions]]
name = "sdlc"
color = "#ff0000"
TOML
run $sm workflow create "$ex/code-review.yaml"
check "create exits 0" exit_is 0
check "create names the stored file" out_has "workflows/code-review/WORKFLOW.yaml"
check "stored byte for byte" cmp "$ex/code-review.yaml" "$coll/workflows/code-review/WORKFLOW.yaml"
check "manifest keeps foreign artifacts" grep -q 'upstream = "https://github.com/example/agents"' "$coll/collection.toml"
check "manifest keeps mcp servers" grep -q 'repo = "example/github-mcp"' "$coll/collection.toml"
check "manifest keeps tag definitions" grep -q 'color = "#ff0000"' "$coll/collection.toml"
check "manifest has the workflow entry" grep -q 'path = "workflows/code-review"' "$coll/collection.toml"
check "lock hash is upstream's content hash" python3 - "$coll" <<'PY'
import hashlib, pathlib, re, sys
root = pathlib.Path(sys.argv[1])
d = root / "workflows" / "code-review"
h = hashlib.sha256()
for f in sorted(p for p in d.rglob("*") if p.is_file()):
    h.update(str(f.relative_to(d)).encode())
    h.update(f.read_bytes())
lock = (root / "collection.lock").read_text()
m = re.search(r'\[lock\.entries\."code-review::workflow"\]\s*content_hash = "([0-9a-f]{64})"', lock)
sys.exit(0 if m and m.group(1) == h.hexdigest() else 1)
PY

run $sm workflow create "$ex/code-review.yaml"
check "a second create without --force fails" exit_is 1
check "it says to use --force" err_has "use --force to replace it"
run $sm workflow create "$ex/code-review.yaml" --force
check "--force replaces it" exit_is 0
run $sm workflow create "$ex/code-review.yaml" --name review-b
check "--name stores a second copy" exit_is 0
run $sm workflow create "$ex/code-review.yaml" --name ../escape
check "a name with .. is refused" exit_is 1
check "nothing escaped the collection" test ! -e "$SKILLMEAT_HOME/collections/escape"
printf 'workflow: {id: bad}\n' >bad.yaml
run $sm workflow create bad.yaml
check "an invalid workflow is not stored" exit_is 1
check "…and nothing was written" test ! -e "$coll/workflows/bad"

run $sm workflow create "$ex/sdlc-feature-ship.yaml"
run $sm workflow list --format json
check "list json" json_eq 'sorted(w["name"] for w in j) == ["code-review", "review-b", "sdlc-feature-ship"]'
check "list json has stage counts" json_eq '[w["stage_count"] for w in j if w["name"] == "sdlc-feature-ship"] == [4]'
run $sm workflow list --tag sdlc
check "list --tag filters" out_has "sdlc-feature-ship"
check "list --tag filters out" sh -c "! grep -q code-review '$TMP/out'"

run $sm workflow show "SDLC Feature Ship" --format json
check "show by display name" json_eq 'j["workflow"]["id"] == "sdlc-feature-ship"'
run $sm workflow validate sdlc-feature-ship
check "validate by stored name" exit_is 0
run $sm workflow validate "Code Review"
check "two workflows with one name are ambiguous" exit_is 1
check "ambiguity is explained" err_has "2 stored workflows have the name 'Code Review'"
run $sm workflow plan nosuch
check "an unknown name fails" exit_is 1
check "…and says where it looked" err_has "collection 'default'"

# Artifact resolution.
run $sm workflow plan sdlc-feature-ship -p feature_name=x
check "missing artifacts fail the plan" exit_is 1
check "a missing agent is located" err_has "WORKFLOW.yaml:42:27: error: [artifact] stage 'plan' field 'roles.primary.artifact': 'agent:planner-v1' is not in collection 'default'"
run $sm workflow plan sdlc-feature-ship -p feature_name=x --allow-missing
check "--allow-missing plans anyway" exit_is 0
check "--allow-missing marks them" out_has "Agent: agent:planner-v1 (sonnet) [missing]"
cp -R "$ex/collection/." "$coll/"
run $sm workflow plan sdlc-feature-ship -p feature_name=x --format json
check "with the demo collection every artifact resolves" json_eq 'j["collection"]["missing_count"] == 0 and j["collection"]["found_count"] == 6'
check "the manifest entry wins (agent:researcher-v1)" json_eq \
	'j["batches"][0]["stages"][0]["artifacts"][0]["path"].endswith("agents/researcher-v1.md")'

# A hostile manifest path never leads outside the collection.
mkdir -p "$TMP/outside" && echo x >"$TMP/outside/victim"
cat >>"$coll/collection.toml" <<'TOML'

[[artifacts]]
name = "evil"
type = "workflow"
path = "../../../outside"
origin = "local"
added = "2026-01-01T00:00:00"
TOML
run $sm workflow delete evil --yes
check "a path with .. is never removed" test -f "$TMP/outside/victim"

run $sm workflow delete review-b </dev/null
check "delete off a terminal needs --yes" exit_is 1
run $sm workflow delete review-b --yes
check "delete --yes exits 0" exit_is 0
check "delete removes the folder" test ! -e "$coll/workflows/review-b"
check "delete removes the manifest entry" sh -c "! grep -q 'workflows/review-b' '$coll/collection.toml'"
check "delete removes the lock entry" sh -c "! grep -q 'review-b::workflow' '$coll/collection.lock'"

# The active collection comes from config.toml.
run $sm init --name team
printf '[settings]\ndefault-collection = "team"\n' >"$SKILLMEAT_HOME/config.toml"
run $sm workflow list
check "config selects the active collection" out_has "Collection 'team': 0 workflows"
printf '[settings]\ndefault-collection = 5\n' >"$SKILLMEAT_HOME/config.toml"
run $sm workflow list
check "a malformed config is a located error" err_has "config.toml:2:22: error: [config]"
printf '[settings\n' >"$SKILLMEAT_HOME/config.toml"
run $sm workflow list
check "a broken config is a located error" err_has "config.toml:1:"
done_testing
