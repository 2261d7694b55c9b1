#!/bin/sh
# The demo: build skillmeat, create a throw-away SkillMeat home with the
# demo collection (examples/collection: agents, a skill, a context module),
# store the demo workflows in it, plan one, then RUN examples/demo-ship.yaml
# for real: command stages run real programs, agent stages go to the demo
# agent (examples/runners/demo-agent, clearly a demo: it calls no model),
# a gate auto-approves after 2s, and every state change lands in SQLite.
# A few project memory items show context packs: in the plan, in `context
# preview`, and in the demo agent's prompt.
# Nothing outside build/ is touched.
set -eu
cd "$(dirname "$0")/.."
[ -d build ] || meson setup build >/dev/null
ninja -C build >/dev/null
sm=./build/src/cli/skillmeat
export SKILLMEAT_HOME="$PWD/build/demo-home"
rm -rf "$SKILLMEAT_HOME"
$sm init
cp -R examples/collection/. "$SKILLMEAT_HOME/collections/default/"
cat >>"$SKILLMEAT_HOME/config.toml" <<T

[runners.demo]
command = ["$PWD/examples/runners/demo-agent"]
protocol = "claude"
T
$sm workflow create examples/sdlc-feature-ship.yaml
$sm workflow create examples/demo-ship.yaml
$sm workflow list
$sm memory add "Library code returns errors; only the CLI prints or exits" -t constraint -c 0.9 -s active
$sm memory add "Run the tests under ASan and UBSan before merging" -t gotcha -c 0.8 -s active
$sm memory add "Commit in small steps with clear messages" -t style_rule -c 0.7 -s active
echo
$sm context preview demo-ship plan
echo
$sm workflow plan sdlc-feature-ship --param feature_name=demo-feature
echo
$sm workflow run demo-ship --runner demo "$@"
echo
exec $sm workflow runs last
