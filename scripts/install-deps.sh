#!/usr/bin/env bash
# Installs every Debian 12 package that Adjoint's build, tests and app need.
# Installs only what is missing; safe to run any number of times.
# Usage: scripts/install-deps.sh [--bench]   (--bench adds OpenBLAS, a peer of bench/)
set -euo pipefail

packages=(
  # toolchain
  build-essential cmake pkg-config ninja-build
  # compiler cache (CMakeLists.txt uses it when present)
  ccache
  # Qt 6 (Widgets, Charts, Svg, Test) and platform plugins (xcb, offscreen)
  qt6-base-dev qt6-base-dev-tools qt6-charts-dev qt6-svg-dev qt6-qpa-plugins libqt6opengl6-dev libgl-dev
  # CPU parallelism
  libtbb-dev
  # Vulkan: loader, headers, shader compiler, lavapipe, run-time GLSL compiler
  libvulkan-dev glslc mesa-vulkan-drivers libshaderc-dev spirv-tools
  # Graphviz's library (layout and export)
  libgraphviz-dev
  # ONNX's protobuf schema and the protobuf runtime
  libonnx-dev libprotobuf-dev protobuf-compiler
  # JSON parsing in the engine (Qt-free)
  nlohmann-json3-dev
  # reading the gzip-compressed datasets in resources/datasets
  zlib1g-dev
  # headless GUI runs and tests
  xvfb xauth
  # sanitizers and libFuzzer
  clang libclang-rt-14-dev
  # reference checks of exported ONNX files, and the ONNX Runtime peer (npm onnxruntime-node)
  python3-onnx python3-numpy
  # ONNX's own backend node tests (tests/onnx_node_suite)
  libonnx-testdata
  # the real model families of tests/models (PyTorch exports them and computes the references)
  python3-torch python3-torchvision
)
# Node.js with npm may come from elsewhere (NodeSource ships npm inside nodejs): ask for Debian's
# packages only when the commands are missing.
command -v node >/dev/null 2>&1 || packages+=(nodejs)
command -v npm >/dev/null 2>&1 || packages+=(npm)
if [[ "${1:-}" == "--bench" ]]; then
  packages+=(libopenblas-dev)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]} == 0)); then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
