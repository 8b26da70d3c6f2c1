#!/usr/bin/env bash
# are-the-types-wrong on every entry of the package, as npm would publish it (`npm run attw`,
# part of `npm test`; needs `npm run build` first).
set -euo pipefail
cd "$(dirname "$0")/.."

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
tarball="$tmp/$(npm pack --silent --pack-destination "$tmp")"

# `.`, `./redis`: every resolution mode (node10, node16 from CommonJS and from ESM, bundler).
attw "$tarball" --exclude-entrypoints ./testing

# `./testing` is ESM-only, so it is checked with the esm-only profile (which skips the CommonJS
# resolution modes, node10 and node16 from CommonJS). It cannot be CommonJS: it defines vitest
# suites when it loads (describe, it, expect), and vitest 4.1 cannot be loaded with require() (its
# `require` entry throws "Vitest cannot be imported in a CommonJS module using require()"; Node's
# require(esm) does not get past that). A CommonJS build of it could never run.
attw "$tarball" --entrypoints ./testing --profile esm-only
