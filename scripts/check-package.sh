#!/usr/bin/env bash
# Builds the .deb (make package), installs it with apt (its dependencies resolved from Debian),
# and checks what a desktop user gets: both programs run from /usr/bin, the desktop entry is
# valid, .onnx files are application/x-onnx and open in Adjoint by default. Run as root on a
# Debian 12 machine (it installs the package; `apt-get remove adjoint` takes it away again).
#   scripts/check-package.sh [BUILD_DIR]
set -euo pipefail
build=${1:-build}
make package BUILD="$build"
deb=$(ls -t "$build"/adjoint_*.deb | head -1)
export DEBIAN_FRONTEND=noninteractive
apt-get install -y "./$deb"
fail() { echo "check-package: FAIL: $*" >&2; exit 1; }
command -v adjoint >/dev/null || fail "adjoint is not on PATH"
adjoint-cli info /usr/share/adjoint/examples/mlp.json >/dev/null || fail "adjoint-cli cannot read the installed example"
desktop-file-validate /usr/share/applications/adjoint.desktop || fail "the desktop entry is not valid"
[[ $(xdg-mime query default application/x-onnx) == adjoint.desktop ]] || fail "xdg-mime does not name adjoint.desktop for application/x-onnx"
onnx=$(mktemp --suffix=.onnx)
[[ $(xdg-mime query filetype "$onnx") == application/x-onnx ]] || fail "an .onnx file is not application/x-onnx"
rm -f "$onnx"
shot=$(mktemp --suffix=.png)
ADJOINT_SEPARATE=1 xvfb-run -a adjoint --screenshot "$shot" || fail "the installed adjoint does not start"
[[ -s $shot ]] || fail "the installed adjoint drew nothing"
rm -f "$shot"
echo "check-package: ok: $deb installs; adjoint and adjoint-cli run; .onnx opens in adjoint.desktop"
