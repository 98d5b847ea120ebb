#!/usr/bin/env bash
# Installs ONNX Runtime for Node.js (npm package onnxruntime-node, CPU; version pinned by
# tests/onnxruntime/package.json and package-lock.json) for the ONNX Runtime checks of exported
# files (ctest -L onnxruntime; without the package those tests fail, or report "skipped" in a build
# configured with -DADJOINT_ALLOW_MISSING_PEERS=ON).
#
# Usage: scripts/install-onnxruntime.sh [DIR]
#   DIR: where node_modules goes (default tests/onnxruntime, ignored by git). For another DIR,
#   configure with -DADJOINT_ONNXRUNTIME_NODE_MODULES=DIR/node_modules.
#
# Idempotent: does nothing when the pinned version is already installed and loads. Runs npm with
# --ignore-scripts: the package's postinstall only fetches optional GPU providers, and its CPU
# library ships inside the package. Exit status: 0 installed (or already there); 1 node or npm
# missing or too old, or the installed package does not load; 2 the npm registry is unreachable
# and npm's cache cannot supply the package (offline machine).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
src="$root/tests/onnxruntime"
dir="${1:-$src}"

fail() { echo "install-onnxruntime: error: $1" >&2; exit "${2:-1}"; }

command -v node >/dev/null 2>&1 || fail "node is not installed (scripts/install-deps.sh installs it)"
command -v npm >/dev/null 2>&1 || fail "npm is not installed (scripts/install-deps.sh installs it)"
node_major="$(node -p 'process.versions.node.split(".")[0]')"
(( node_major >= 18 )) || fail "Node.js $(node --version) is too old; onnxruntime-node needs 18 or newer"

mkdir -p "$dir"
if [[ "$(cd "$dir" && pwd)" != "$src" ]]; then
  cp "$src/package.json" "$src/package-lock.json" "$dir/"
fi
want="$(node -p "require('$src/package.json').dependencies['onnxruntime-node']")"

# Loads the package from $dir and runs a one-node model: the real test of an install.
check() {
  (cd "$dir" && node -e "
    const ort = require('onnxruntime-node');
    const v = require('onnxruntime-node/package.json').version;
    if (v !== '$want') { console.error('installed ' + v + ', pinned $want'); process.exit(1); }
    ort.InferenceSession.create('$root/tests/fixtures/onnx/mlp/model.onnx', { logSeverityLevel: 3 })
      .then(() => process.exit(0), (e) => { console.error(String(e)); process.exit(1); });
  ") >/dev/null 2>&1
}

if check; then
  echo "install-onnxruntime: onnxruntime-node $want is already installed in $dir/node_modules"
  exit 0
fi

registry="$(npm config get registry)"
npm_args=(ci --ignore-scripts --no-audit --no-fund)
if ! timeout 30 npm ping --fetch-retries=0 --fetch-timeout=15000 >/dev/null 2>&1; then
  echo "install-onnxruntime: the npm registry $registry is unreachable; trying npm's cache" >&2
  if ! (cd "$dir" && timeout 300 npm "${npm_args[@]}" --offline >/dev/null 2>&1); then
    fail "the npm registry $registry is unreachable and npm's cache does not hold onnxruntime-node $want; the ONNX Runtime checks cannot run" 2
  fi
else
  (cd "$dir" && timeout 900 npm "${npm_args[@]}") || fail "npm ci failed in $dir"
fi

check || fail "onnxruntime-node $want was installed in $dir/node_modules but does not load (see: cd $dir && node -e \"require('onnxruntime-node')\")"
echo "install-onnxruntime: onnxruntime-node $want installed in $dir/node_modules"
