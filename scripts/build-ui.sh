#!/bin/sh
# Build the web UI (web/ -> web/dist), which the C build then embeds in the
# binary.  Installs the npm packages from web/package-lock.json first when
# they are missing or older than the lock.  Needs Node.js >= 20.19 and npm.
set -eu
cd "$(dirname "$0")/../web"
if ! command -v npm >/dev/null 2>&1; then
	echo "build-ui: npm is not installed; the binary will be built without its web UI" >&2
	exit 1
fi
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules ]; then
	npm ci --no-audit --no-fund --loglevel=error
	touch node_modules
fi
npm run --silent build
