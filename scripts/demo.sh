#!/bin/sh
# Build skillmeat and plan the shipped demo workflow (the user's document's
# example): which agents run, in which batches, with which context.
set -eu
cd "$(dirname "$0")/.."
[ -d build ] || meson setup build >/dev/null
ninja -C build >/dev/null
./build/src/cli/skillmeat workflow validate examples/sdlc-feature-ship.yaml
exec ./build/src/cli/skillmeat workflow plan examples/sdlc-feature-ship.yaml \
	--param feature_name=demo-feature "$@"
