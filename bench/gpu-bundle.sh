#!/usr/bin/env bash
# Packs what bench/gpu.sh needs on a machine that has a GPU but none of Debian's build packages
# (the lent device machine): the bench_vulkan binary built here, the shared libraries it needs
# beyond glibc and libstdc++ (oneTBB, the Vulkan loader), and the Debian packages of the GL and
# Vulkan loaders, which the NVIDIA driver's ICD loads through glvnd.
# Usage: bench/gpu-bundle.sh [build dir] [bundle dir]   (defaults: build, .gpu)
# Then, on the GPU machine: bench/gpu.sh .gpu
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
OUT=${2:-.gpu}
cmake --build "$BUILD" --target bench_vulkan >/dev/null
mkdir -p "$OUT/bench" "$OUT/lib" "$OUT/gl"
cp "$BUILD/bench/bench_vulkan" "$OUT/bench/"
for lib in libtbb.so.12 libvulkan.so.1; do
  cp -L "$(ldd "$BUILD/bench/bench_vulkan" | awk -v l="$lib" '$1 == l {print $3}')" "$OUT/lib/"
done
lists=$(mktemp -d)
mkdir -p "$lists/partial"
o=(-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 "-oDir::State::Lists=$lists")
apt-get "${o[@]}" update -qq
(cd "$OUT/gl" && apt-get "${o[@]}" download libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2 2>/dev/null)
rm -rf "$lists"
echo "gpu-bundle: $(du -sh "$OUT" | cut -f1) in $OUT"
