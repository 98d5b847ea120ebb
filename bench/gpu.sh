#!/usr/bin/env bash
# The Vulkan backend on a machine with an NVIDIA GPU: Vulkan sgemm at n = 1024, 2048, 4096, one
# MLP and one CNN training step against the CPU backend, and sgemm through cuBLAS (PyTorch) where
# PyTorch with CUDA is present. Finishes well within 8 minutes.
# Usage: bench/gpu.sh [DIR]
#   DIR is a build directory (bench_vulkan is built there when missing; needs the build packages)
#   or a bundle made by bench/gpu-bundle.sh (bench/bench_vulkan, lib/, gl/*.deb), for a GPU machine
#   without Debian's build packages. ADJOINT_VULKAN_DEVICE picks the device; discrete GPU first.
set -euo pipefail
cd "$(dirname "$0")/.."
DIR=${1:-build-gpu}
deadline=$((SECONDS + 470))
if compgen -G "$DIR/gl/*.deb" >/dev/null && ! ldconfig -p | grep -q libGLdispatch; then
  # the GL/Vulkan loaders (glvnd) that the NVIDIA ICD needs, unpacked as the device notes advise
  for f in "$DIR"/gl/*.deb; do dpkg -x "$f" /; done
  ldconfig
fi
[ -d "$DIR/lib" ] && export LD_LIBRARY_PATH="$PWD/$DIR/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
nv_icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
if [ -z "${VK_DRIVER_FILES:-}" ] && [ -f "$nv_icd" ]; then export VK_DRIVER_FILES=$nv_icd; fi
if [ ! -x "$DIR/bench/bench_vulkan" ]; then
  cmake -S . -B "$DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release -DADJOINT_BUILD_GUI=OFF -DADJOINT_BUILD_BENCH=ON >/dev/null
  timeout $((deadline - SECONDS)) ninja -C "$DIR" bench_vulkan
fi
echo "# Vulkan on $(hostname), $(date -u +%Y-%m-%dT%H:%MZ)"
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
echo "CPU: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
echo
# 3 repeats: the CPU sgemm at 4096 takes seconds per run on a few cores
timeout $((deadline - SECONDS - 60)) "$DIR/bench/bench_vulkan" 3 1024 2048 4096
PY=python3
command -v "$PY" >/dev/null || PY=/usr/bin/python3
if timeout 60 "$PY" -c 'import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null; then
  echo
  echo "## sgemm through cuBLAS (PyTorch $("$PY" -c 'import torch; print(torch.__version__)'), float32, median of 10)"
  echo
  timeout $((deadline - SECONDS)) "$PY" - <<'PYEOF'
import time, torch
torch.backends.cuda.matmul.allow_tf32 = False  # plain float32, as the Vulkan shader computes
print("| n | cuBLAS ms | GFLOP/s |\n|---|---|---|")
for n in (1024, 2048, 4096):
    a = torch.randn(n, n, device="cuda"); b = torch.randn(n, n, device="cuda")
    torch.matmul(a, b); torch.cuda.synchronize()
    ts = []
    for _ in range(10):
        t0 = time.perf_counter(); torch.matmul(a, b); torch.cuda.synchronize(); ts.append((time.perf_counter() - t0) * 1e3)
    ms = sorted(ts)[len(ts) // 2]
    print(f"| {n} | {ms:.3f} | {2 * n ** 3 / ms / 1e6:.1f} |")
PYEOF
else
  echo "(PyTorch with CUDA not found: no cuBLAS comparison)"
fi
