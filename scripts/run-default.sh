#!/usr/bin/env bash
# `make run`: starts the GUI on the default example; with no display, runs the same example
# headless through adjoint-cli and writes its outputs to ./out.
set -euo pipefail
build=${1:-build}
example=resources/examples/mlp.json
inputs=(--input x=resources/examples/inputs/mlp/x.npy --input labels=resources/examples/inputs/mlp/labels.npy)

if [[ -n "${DISPLAY:-}" || -n "${WAYLAND_DISPLAY:-}" ]] && [[ -x "$build/app/gui/adjoint" ]]; then
  exec "$build/app/gui/adjoint" "$example"
fi

echo "make run: no display found (DISPLAY and WAYLAND_DISPLAY are unset), so the default example"
echo "runs headless through adjoint-cli; outputs go to ./out"
echo
"$build/app/cli/adjoint-cli" info "$example"
echo
"$build/app/cli/adjoint-cli" run "$example" "${inputs[@]}" --out out
