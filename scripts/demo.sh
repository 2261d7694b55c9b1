#!/bin/sh
# The demo: build skillmeat, create a throw-away SkillMeat home with the
# demo collection (examples/collection: agents, a skill, a context module),
# store the demo workflow in it, list it, and plan it by name.  Nothing
# outside build/ is touched.
set -eu
cd "$(dirname "$0")/.."
[ -d build ] || meson setup build >/dev/null
ninja -C build >/dev/null
sm=./build/src/cli/skillmeat
export SKILLMEAT_HOME="$PWD/build/demo-home"
rm -rf "$SKILLMEAT_HOME"
$sm init
cp -R examples/collection/. "$SKILLMEAT_HOME/collections/default/"
$sm workflow create examples/sdlc-feature-ship.yaml
$sm workflow list
echo
exec $sm workflow plan sdlc-feature-ship --param feature_name=demo-feature "$@"
