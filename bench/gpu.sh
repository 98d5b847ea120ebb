#!/usr/bin/env bash
# The Vulkan backend on a machine with an NVIDIA GPU (issue 7): Vulkan sgemm at n = 1024, 2048,
# 4096 and one MLP training step against the CPU backend, and sgemm through cuBLAS (PyTorch) where
# PyTorch with CUDA is present. Builds what it needs in build-gpu/ and finishes well within 8 minutes.
# Usage: bench/gpu.sh [build dir]     (ADJOINT_VULKAN_DEVICE picks the device; discrete GPU first)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build-gpu}
deadline=$((SECONDS + 470))
if [ ! -x "$BUILD/bench/bench_vulkan" ]; then
  cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DADJOINT_BUILD_GUI=OFF -DADJOINT_BUILD_BENCH=ON >/dev/null
  timeout $((deadline - SECONDS)) ninja -C "$BUILD" bench_vulkan
fi
echo "# Vulkan on $(hostname), $(date -u +%Y-%m-%dT%H:%MZ)"
# 3 repeats: the CPU sgemm at 4096 takes seconds per run on a few cores
timeout $((deadline - SECONDS - 60)) "$BUILD/bench/bench_vulkan" 3 1024 2048 4096
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
if timeout 60 "$PY" -c 'import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null; then
  echo
  echo "## sgemm through cuBLAS (PyTorch $("$PY" -c 'import torch; print(torch.__version__)'), median of 10)"
  echo
  timeout $((deadline - SECONDS)) "$PY" - <<'PYEOF'
import time, torch
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
